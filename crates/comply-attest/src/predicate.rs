//! Chainloop's predicate, `chainloop.dev/attestation/v0.2`, as a domain struct.
//!
//! Ingestion needs a handful of facts from it (who ran what, for which project version,
//! with which materials, and how each policy evaluated), not Chainloop's full schema.
//! The struct keeps those facts typed and the open-ended parts (annotations) as JSON, and
//! [`crate::render_statement`] writes the same struct back, so `comply attest` produces
//! exactly what ingestion reads. Both camelCase and the older snake_case keys are read
//! (`docs/spec/semantics.md` §6).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::AttestError;
use crate::evaluations::{EvaluationsForm, PolicyEvaluation, PolicyEvaluationsRef, digest_string};
use crate::json::Obj;
use crate::statement::{ResourceDescriptor, Statement};

/// The predicate type this crate decodes.
pub const CHAINLOOP_PREDICATE_TYPE: &str = "chainloop.dev/attestation/v0.2";
/// Chainloop's `buildType`.
pub const CHAINLOOP_BUILD_TYPE: &str = "chainloop.dev/workflowrun/v0.1";
/// The `policyEvaluations` key of attestation-level evaluations (no material).
pub const ATTESTATION_EVALUATIONS_KEY: &str = "CHAINLOOP.ATTESTATION";

pub(crate) const MATERIAL_NAME: &str = "chainloop.material.name";
pub(crate) const MATERIAL_TYPE: &str = "chainloop.material.type";
pub(crate) const MATERIAL_CAS: &str = "chainloop.material.cas";
pub(crate) const MATERIAL_INLINE: &str = "chainloop.material.cas.inline";

/// The decoded Chainloop predicate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChainloopPredicate {
    pub build_type: Option<String>,
    pub builder_id: Option<String>,
    pub metadata: Metadata,
    /// Runner enum name, e.g. `GITHUB_ACTION`, `RUNNER_TYPE_UNSPECIFIED`.
    pub runner_type: Option<String>,
    pub runner_url: Option<String>,
    pub env: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub materials: Vec<Material>,
    /// Inline evaluations, flattened in document order.
    pub policy_evaluations: Vec<PolicyEvaluation>,
    /// How `policyEvaluations` was written; `None` when it was absent.
    pub policy_evaluations_form: Option<EvaluationsForm>,
    /// Set when the full evaluations live in a separate bundle (Chainloop with a CAS).
    pub policy_evaluations_ref: Option<PolicyEvaluationsRef>,
    /// `ENFORCED` or `ADVISORY`.
    pub policy_check_blocking_strategy: Option<String>,
    pub policy_block_bypass_enabled: bool,
    pub policy_att_blocked: bool,
}

/// `predicate.metadata`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    /// `workflowName`, else `name` (older runs have only `name`).
    pub workflow: String,
    pub workflow_id: Option<String>,
    pub workflow_run_id: Option<String>,
    pub project: Option<String>,
    pub project_version: Option<String>,
    /// Whether the version was a pre-release when the run started, when recorded.
    pub project_version_prerelease: Option<bool>,
    pub contract_name: Option<String>,
    /// `contractVersion`: the contract's revision, a decimal string.
    pub contract_revision: Option<String>,
    pub organization: Option<String>,
    pub team: Option<String>,
    pub initialized_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

/// One entry of `predicate.materials`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Material {
    /// The material's name in the contract (`chainloop.material.name`).
    pub name: String,
    /// Its type (`chainloop.material.type`), e.g. `SBOM_CYCLONEDX_JSON`.
    pub kind: String,
    /// The descriptor's `name`: file name or image reference.
    pub artifact: Option<String>,
    pub uri: Option<String>,
    pub digest: BTreeMap<String, String>,
    /// Inline content: a STRING material's value, or an embedded file.
    pub content: Option<Vec<u8>>,
    /// `chainloop.material.cas`: uploaded to a content-addressable store.
    pub uploaded_to_cas: bool,
    /// `chainloop.material.cas.inline`: embedded in the attestation.
    pub embedded: bool,
    /// The remaining annotations, as written.
    pub annotations: Map<String, Value>,
}

impl Material {
    /// `sha256:<hex>`, when the material has a SHA-256 digest.
    pub fn sha256(&self) -> Option<String> {
        self.digest.get("sha256").map(|hex| format!("sha256:{hex}"))
    }

    /// The inline content as text (a STRING material's value).
    pub fn value(&self) -> Option<&str> {
        self.content
            .as_deref()
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
    }
}

pub(crate) fn predicate_error(path: String, reason: String) -> AttestError {
    AttestError::InvalidPredicate { path, reason }
}

impl ChainloopPredicate {
    /// Decodes the predicate of `statement`, refusing any type but Chainloop's v0.2.
    pub fn from_statement(statement: &Statement) -> Result<Self, AttestError> {
        if statement.predicate_type != CHAINLOOP_PREDICATE_TYPE {
            return Err(AttestError::UnknownPredicateType {
                found: statement.predicate_type.clone(),
            });
        }
        Self::from_json(&statement.predicate)
    }

    /// Decodes a predicate object.
    pub fn from_json(predicate: &Value) -> Result<Self, AttestError> {
        let p = Obj::new(predicate, "predicate", predicate_error)?;
        let metadata = match p.obj("metadata")? {
            Some(metadata) => decode_metadata(&metadata)?,
            None => return Err(p.error("metadata", "missing")),
        };
        let materials = p
            .array("materials")?
            .iter()
            .enumerate()
            .map(|(index, value)| {
                decode_material(&Obj::new(
                    value,
                    p.child(&format!("materials[{index}]")),
                    predicate_error,
                )?)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (policy_evaluations, policy_evaluations_form) = match p.value("policyEvaluations") {
            None => (Vec::new(), None),
            Some(value) => {
                let (evaluations, form) =
                    PolicyEvaluation::decode_all(value, &p.child("policyEvaluations"))?;
                (evaluations, Some(form))
            }
        };
        let policy_evaluations_ref = match p.obj("policyEvaluationsRef")? {
            Some(reference) => Some(PolicyEvaluationsRef {
                name: reference.str("name")?.unwrap_or_default(),
                digest: digest_string(&reference, "digest")?
                    .ok_or_else(|| reference.error("digest", "missing"))?,
                media_type: reference.str("mediaType")?,
            }),
            None => None,
        };
        Ok(ChainloopPredicate {
            build_type: p.str("buildType")?,
            builder_id: match p.obj("builder")? {
                Some(builder) => builder.str("id")?,
                None => None,
            },
            metadata,
            runner_type: p.str("runnerType")?,
            runner_url: p.str("runnerURL")?.or(p.str("runnerUrl")?),
            env: p.string_map("env")?,
            annotations: p.string_map("annotations")?,
            materials,
            policy_evaluations,
            policy_evaluations_form,
            policy_evaluations_ref,
            policy_check_blocking_strategy: p.str("policyCheckBlockingStrategy")?,
            policy_block_bypass_enabled: p.bool("policyBlockBypassEnabled")?,
            policy_att_blocked: p.bool("policyAttBlocked")?,
        })
    }
}

fn decode_metadata(m: &Obj<'_>) -> Result<Metadata, AttestError> {
    let workflow = match m.str("workflowName")? {
        Some(name) => name,
        None => m
            .str("name")?
            .ok_or_else(|| m.error("name", "missing: the workflow name is required"))?,
    };
    Ok(Metadata {
        workflow,
        workflow_id: m.str("workflowID")?,
        workflow_run_id: m.str("workflowRunID")?,
        project: m.str("project")?,
        project_version: m.str("projectVersion")?,
        project_version_prerelease: m.opt_bool("projectVersionPrerelease")?,
        contract_name: m.str("contractName")?,
        contract_revision: m.str("contractVersion")?,
        organization: m.str("organization")?,
        team: m.str("team")?,
        initialized_at_ms: timestamp(m, "initializedAt")?,
        finished_at_ms: timestamp(m, "finishedAt")?,
    })
}

fn timestamp(m: &Obj<'_>, key: &str) -> Result<Option<i64>, AttestError> {
    let Some(text) = m.str(key)? else {
        return Ok(None);
    };
    let time: Timestamp = text.parse().map_err(|e| {
        m.error(
            key,
            format!("{text:?} is not an RFC 3339 time with an offset: {e}"),
        )
    })?;
    Ok(Some(time.as_millisecond()))
}

fn decode_material(object: &Obj<'_>) -> Result<Material, AttestError> {
    let descriptor = ResourceDescriptor::decode(object)?;
    let mut annotations = descriptor.annotations;
    let annotation = Obj::with_map(&annotations, object.child("annotations"), predicate_error);
    let name = annotation.required_str(MATERIAL_NAME)?;
    let kind = annotation.required_str(MATERIAL_TYPE)?;
    let uploaded_to_cas = annotation.bool(MATERIAL_CAS)?;
    let embedded = annotation.bool(MATERIAL_INLINE)?;
    for key in [MATERIAL_NAME, MATERIAL_TYPE, MATERIAL_CAS, MATERIAL_INLINE] {
        annotations.shift_remove(key);
    }
    Ok(Material {
        name,
        kind,
        artifact: descriptor.name,
        uri: descriptor.uri,
        digest: descriptor.digest,
        content: descriptor.content,
        uploaded_to_cas,
        embedded,
        annotations,
    })
}
