//! Policy evaluations: inline in the predicate, or in a separate bundle.
//!
//! Chainloop writes them three ways, all read here into one [`PolicyEvaluation`]:
//! - inline, as a map keyed by material name (`CHAINLOOP.ATTESTATION` for
//!   attestation-level ones) with camelCase keys, each value a list;
//! - inline in older runs, under `policy_evaluations` with `material_name` and
//!   `policy_reference` keys;
//! - in a `PolicyEvaluationBundle` (protojson `attestation.v1.PolicyEvaluation`) that the
//!   predicate points at with `policyEvaluationsRef`: there the policy reference's digest
//!   is a `sha256:` string and its org is `orgName`, where the predicate writes a
//!   ResourceDescriptor (`digest: {sha256}`, `annotations.organization`).
//!
//! Structured findings (`vulnerability`, `sast`, `licenseViolation`) are kept as JSON:
//! their schema belongs to the policy engine, and ingestion stores them as received.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::AttestError;
use crate::json::{Obj, kind};
use crate::predicate::{ATTESTATION_EVALUATIONS_KEY, predicate_error};

/// How `policyEvaluations` was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvaluationsForm {
    /// An object keyed by material name, each value a list (what Chainloop writes).
    Map,
    /// A flat list, each evaluation naming its material.
    List,
}

/// `predicate.policyEvaluationsRef`: where the full evaluations are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEvaluationsRef {
    pub name: String,
    /// `sha256:<hex>` of the bundle's bytes.
    pub digest: String,
    pub media_type: Option<String>,
}

/// The result of one policy on one material (or on the attestation).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyEvaluation {
    /// The policy's name.
    pub name: String,
    /// The material evaluated; `None` for attestation-level evaluations.
    pub material_name: Option<String>,
    pub description: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub policy_reference: Option<PolicyReference>,
    pub group_reference: Option<PolicyReference>,
    /// The effective arguments (`with`).
    pub with: BTreeMap<String, String>,
    /// The material type the policy ran for (the `type` key).
    pub kind: Option<String>,
    pub violations: Vec<Violation>,
    pub skipped: bool,
    pub skip_reasons: Vec<String>,
    /// Requirement references copied from the policy attachment.
    pub requirements: Vec<String>,
    /// Whether a violation blocks (resolved by Chainloop: attachment, group or org).
    pub gate: bool,
}

/// Where a policy (or policy group) came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyReference {
    pub name: String,
    /// `sha256:<hex>` of the policy.
    pub digest: Option<String>,
    pub uri: Option<String>,
    pub org: Option<String>,
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Violation {
    /// The policy name, as Chainloop sets it.
    pub subject: String,
    pub message: String,
    pub finding: Option<Finding>,
    /// Suppressed violations are kept but do not count.
    pub suppressed: bool,
}

/// A structured finding attached to a violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    /// The finding's fields, as received (e.g. `severity`, `externalId`, `packagePurl`).
    pub data: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    Vulnerability,
    Sast,
    LicenseViolation,
}

impl FindingKind {
    /// The protojson key this finding is written under.
    pub fn key(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Sast => "sast",
            FindingKind::LicenseViolation => "licenseViolation",
        }
    }

    const ALL: [FindingKind; 3] = [
        FindingKind::Vulnerability,
        FindingKind::Sast,
        FindingKind::LicenseViolation,
    ];
}

impl PolicyEvaluation {
    /// Decodes `policyEvaluations` in either form.
    pub(crate) fn decode_all(
        value: &Value,
        path: &str,
    ) -> Result<(Vec<Self>, EvaluationsForm), AttestError> {
        match value {
            Value::Object(by_material) => {
                let mut evaluations = Vec::new();
                for (material, list) in by_material {
                    let default_material =
                        (material != ATTESTATION_EVALUATIONS_KEY).then_some(material.as_str());
                    let Value::Array(list) = list else {
                        return Err(predicate_error(
                            format!("{path}.{material}"),
                            format!("expected an array, found {}", kind(list)),
                        ));
                    };
                    for (index, item) in list.iter().enumerate() {
                        let object =
                            Obj::new(item, format!("{path}.{material}[{index}]"), predicate_error)?;
                        evaluations.push(Self::decode(&object, default_material)?);
                    }
                }
                Ok((evaluations, EvaluationsForm::Map))
            }
            Value::Array(list) => {
                let evaluations = list
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        Self::decode(
                            &Obj::new(item, format!("{path}[{index}]"), predicate_error)?,
                            None,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((evaluations, EvaluationsForm::List))
            }
            other => Err(predicate_error(
                path.to_string(),
                format!("expected an object or an array, found {}", kind(other)),
            )),
        }
    }

    fn decode(e: &Obj<'_>, default_material: Option<&str>) -> Result<Self, AttestError> {
        let name = e.required_str("name")?;
        let violations = e
            .array("violations")?
            .iter()
            .enumerate()
            .map(|(index, value)| {
                decode_violation(value, &e.child(&format!("violations[{index}]")), &name)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicyEvaluation {
            material_name: e
                .str("materialName")?
                .or_else(|| default_material.map(str::to_string)),
            description: e.str("description")?,
            annotations: e.string_map("annotations")?,
            policy_reference: decode_reference(e, "policyReference")?,
            group_reference: decode_reference(e, "groupReference")?,
            with: e.string_map("with")?,
            kind: e.str("type")?,
            violations,
            skipped: e.bool("skipped")?,
            skip_reasons: e.string_list("skipReasons")?,
            requirements: e.string_list("requirements")?,
            gate: e.bool("gate")?,
            name,
        })
    }

    /// The evaluation as Chainloop's predicate writes it (camelCase).
    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("name".into(), self.name.clone().into());
        if let Some(material) = &self.material_name {
            object.insert("materialName".into(), material.clone().into());
        }
        if let Some(description) = &self.description {
            object.insert("description".into(), description.clone().into());
        }
        if !self.annotations.is_empty() {
            object.insert("annotations".into(), string_map_json(&self.annotations));
        }
        if let Some(reference) = &self.policy_reference {
            object.insert("policyReference".into(), reference.to_json());
        }
        if let Some(reference) = &self.group_reference {
            object.insert("groupReference".into(), reference.to_json());
        }
        if !self.with.is_empty() {
            object.insert("with".into(), string_map_json(&self.with));
        }
        if let Some(kind) = &self.kind {
            object.insert("type".into(), kind.clone().into());
        }
        if !self.violations.is_empty() {
            let violations = self.violations.iter().map(Violation::to_json).collect();
            object.insert("violations".into(), Value::Array(violations));
        }
        object.insert("skipped".into(), self.skipped.into());
        if !self.skip_reasons.is_empty() {
            object.insert("skipReasons".into(), self.skip_reasons.clone().into());
        }
        if !self.requirements.is_empty() {
            object.insert("requirements".into(), self.requirements.clone().into());
        }
        if self.gate {
            object.insert("gate".into(), true.into());
        }
        Value::Object(object)
    }

    /// Whether any violation counts (is not suppressed).
    pub fn has_active_violations(&self) -> bool {
        self.violations.iter().any(|v| !v.suppressed)
    }
}

impl PolicyReference {
    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("name".into(), self.name.clone().into());
        if let Some(uri) = &self.uri {
            object.insert("uri".into(), uri.clone().into());
        }
        if let Some(digest) = &self.digest {
            object.insert("digest".into(), digest_json(digest));
        }
        let mut annotations = Map::new();
        annotations.insert("name".into(), self.name.clone().into());
        annotations.insert(
            "organization".into(),
            self.org.clone().unwrap_or_default().into(),
        );
        object.insert("annotations".into(), annotations.into());
        Value::Object(object)
    }
}

impl Violation {
    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("subject".into(), self.subject.clone().into());
        object.insert("message".into(), self.message.clone().into());
        if self.suppressed {
            object.insert("suppress".into(), true.into());
        }
        if let Some(finding) = &self.finding {
            object.insert(finding.kind.key().into(), finding.data.clone());
        }
        Value::Object(object)
    }
}

fn decode_violation(value: &Value, path: &str, policy: &str) -> Result<Violation, AttestError> {
    // Policy engines report bare strings; keep them rather than refuse the evaluation.
    if let Value::String(message) = value {
        return Ok(Violation {
            subject: policy.to_string(),
            message: message.clone(),
            ..Violation::default()
        });
    }
    let v = Obj::new(value, path, predicate_error)?;
    let mut finding = None;
    for kind in FindingKind::ALL {
        if let Some(data) = v.value(kind.key()) {
            finding = Some(Finding {
                kind,
                data: data.clone(),
            });
            break;
        }
    }
    Ok(Violation {
        subject: v.str("subject")?.unwrap_or_else(|| policy.to_string()),
        message: v.required_str("message")?,
        finding,
        suppressed: v.bool("suppress")?,
    })
}

fn decode_reference(e: &Obj<'_>, key: &str) -> Result<Option<PolicyReference>, AttestError> {
    let Some(r) = e.obj(key)? else {
        return Ok(None);
    };
    let annotations = r.obj("annotations")?;
    let annotation = |name: &str| -> Result<Option<String>, AttestError> {
        match &annotations {
            Some(annotations) => annotations.str(name),
            None => Ok(None),
        }
    };
    let name = match r.str("name")? {
        Some(name) => name,
        None => annotation("name")?.ok_or_else(|| r.error("name", "missing"))?,
    };
    Ok(Some(PolicyReference {
        name,
        digest: digest_string(&r, "digest")?,
        uri: r.str("uri")?,
        org: match annotation("organization")? {
            Some(org) => Some(org),
            None => r.str("orgName")?,
        },
    }))
}

/// A digest as `algorithm:hex`, from `"sha256:…"`, a bare hex string, or a
/// ResourceDescriptor map `{"sha256": "…"}` (SHA-256 preferred when several).
pub(crate) fn digest_string(object: &Obj<'_>, key: &str) -> Result<Option<String>, AttestError> {
    match object.value(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.contains(':') => Ok(Some(s.clone())),
        Some(Value::String(s)) => Ok(Some(format!("sha256:{s}"))),
        Some(Value::Object(_)) => {
            let map = object.string_map(key)?;
            Ok(map
                .get_key_value("sha256")
                .or_else(|| map.iter().next())
                .map(|(algorithm, hex)| format!("{algorithm}:{hex}")))
        }
        Some(other) => Err(object.error(
            key,
            format!("expected a digest string or object, found {}", kind(other)),
        )),
    }
}

/// `sha256:abc` → `{"sha256": "abc"}`, the ResourceDescriptor form.
pub(crate) fn digest_json(digest: &str) -> Value {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    let mut object = Map::new();
    object.insert(algorithm.into(), hex.into());
    Value::Object(object)
}

fn string_map_json(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(key, value)| (key.clone(), value.clone().into()))
            .collect(),
    )
}

/// The full evaluations of a run, stored apart from the predicate.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyEvaluationBundle {
    pub evaluations: Vec<PolicyEvaluation>,
    pub form: EvaluationsForm,
}

impl PolicyEvaluationBundle {
    /// Decodes a protojson `PolicyEvaluationBundle` (`{"evaluations": [...]}`, as
    /// Chainloop uploads it; also `{"policyEvaluations": …}`),
    /// after checking that its SHA-256 is `expected_digest` (`sha256:<hex>` or bare hex,
    /// as in the predicate's `policyEvaluationsRef`).
    pub fn parse(bytes: &[u8], expected_digest: &str) -> Result<Self, AttestError> {
        let expected = expected_digest
            .strip_prefix("sha256:")
            .unwrap_or(expected_digest)
            .to_ascii_lowercase();
        let actual = hex::encode(Sha256::digest(bytes));
        if expected != actual {
            return Err(AttestError::DigestMismatch {
                expected: format!("sha256:{expected}"),
                actual: format!("sha256:{actual}"),
            });
        }
        let bundle_error = |reason: String| AttestError::InvalidPredicate {
            path: "policy evaluation bundle".into(),
            reason,
        };
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            bundle_error(format!(
                "not JSON ({e}); binary protobuf bundles \
                 (application/vnd.chainloop.policy-evaluations.v1+proto) are not supported"
            ))
        })?;
        let object = Obj::new(&value, "policyEvaluationBundle", predicate_error)?;
        // Chainloop's CLI writes the protojson of `PolicyEvaluationBundle`, whose field
        // is `evaluations`; `policyEvaluations` is the predicate's name for the same list.
        let key = ["evaluations", "policyEvaluations", "policy_evaluations"]
            .into_iter()
            .find(|k| object.value(k).is_some())
            .ok_or_else(|| object.error("evaluations", "missing"))?;
        let evaluations = object.value(key).expect("found above");
        let (evaluations, form) = PolicyEvaluation::decode_all(evaluations, &object.child(key))?;
        Ok(PolicyEvaluationBundle { evaluations, form })
    }
}
