//! The posture as an OSCAL Assessment Results document (JSON, OSCAL 1.2.3, the schema
//! the tests validate against): one finding per requirement, targeting its control id
//! (`comply.dev/source-id` when the requirement came from a catalogue such as NIST SSDF,
//! else its name), and one observation per cell pointing at the pack's evidence files.

use super::{EnvelopeEntry, Manifest, Posture, envelope_path, facts::PackFacts, proof_path};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

pub const OSCAL_VERSION: &str = "1.2.3";
/// Namespace of comply's own props.
const NS: &str = "https://comply.dev/ns/oscal";

#[derive(Serialize)]
pub struct Document {
    #[serde(rename = "assessment-results")]
    pub assessment_results: AssessmentResults,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AssessmentResults {
    pub uuid: String,
    pub metadata: Metadata,
    pub import_ap: Href,
    pub results: Vec<AssessmentResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Metadata {
    pub title: String,
    pub last_modified: String,
    pub version: String,
    pub oscal_version: &'static str,
}

#[derive(Serialize)]
pub struct Href {
    pub href: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AssessmentResult {
    pub uuid: String,
    pub title: String,
    pub description: String,
    pub start: String,
    pub reviewed_controls: ReviewedControls,
    pub observations: Vec<Observation>,
    pub findings: Vec<Finding>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReviewedControls {
    pub control_selections: Vec<ControlSelection>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ControlSelection {
    pub include_all: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
pub struct Prop {
    pub name: &'static str,
    pub ns: &'static str,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Observation {
    pub uuid: String,
    pub title: String,
    pub description: String,
    pub props: Vec<Prop>,
    pub methods: Vec<&'static str>,
    pub collected: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relevant_evidence: Vec<Evidence>,
}

#[derive(Serialize)]
pub struct Evidence {
    pub href: String,
    pub description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finding {
    pub uuid: String,
    pub title: String,
    pub description: String,
    pub props: Vec<Prop>,
    pub target: Target,
    pub related_observations: Vec<RelatedObservation>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub target_id: String,
    pub status: TargetStatus,
}

#[derive(Serialize)]
pub struct TargetStatus {
    /// `satisfied` or `not-satisfied`.
    pub state: &'static str,
    pub reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RelatedObservation {
    pub observation_uuid: String,
}

/// A name-based UUID: the same pack gives the same document. SHA-256 of the name, with
/// the RFC 9562 variant bits and version 5's nibble (the layout OSCAL's pattern accepts).
fn uuid(name: &str) -> String {
    let mut b: [u8; 16] = Sha256::digest(name.as_bytes())[..16]
        .try_into()
        .expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// OSCAL tokens start with a letter or `_` and hold letters, digits, `.`, `-`, `_`.
fn token(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

fn prop(name: &'static str, value: impl Into<String>) -> Prop {
    Prop {
        name,
        ns: NS,
        value: value.into(),
    }
}

/// `control_ids`: requirement name → its catalogue control id, when it has one.
pub fn assessment_results(
    manifest: &Manifest,
    posture: &Posture,
    facts: &PackFacts,
    envelopes: &[&EnvelopeEntry],
    control_ids: &BTreeMap<String, String>,
) -> Document {
    let base = format!(
        "{}/{}/{}/{}",
        manifest.org, manifest.product, manifest.version, manifest.at_ms
    );
    let envelope_of: BTreeMap<&str, &EnvelopeEntry> =
        envelopes.iter().map(|e| (e.digest.as_str(), *e)).collect();
    let proof_of: BTreeMap<&str, &super::facts::PackProof> =
        facts.proofs.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut observations = Vec::new();
    let mut by_requirement: BTreeMap<String, Vec<(&serde_json::Value, String)>> = BTreeMap::new();
    for c in &posture.cells {
        let cell = &c.cell;
        let requirement = cell["requirement"].as_str().unwrap_or_default().to_owned();
        let subject = match cell["project"].as_str() {
            Some(p) => format!(
                "project {p}@{}",
                cell["project_version"].as_str().unwrap_or("(no version)")
            ),
            None => "the product".to_owned(),
        };
        let id = uuid(&format!("{base}/observation/{requirement}/{subject}"));
        let mut evidence = Vec::new();
        let mut methods = Vec::new();
        for component in cell["components"].as_array().into_iter().flatten() {
            let label = component["evidence"].as_str().unwrap_or_default();
            match component["kind"].as_str() {
                Some("proof") => {
                    methods.push("EXAMINE");
                    if let Some(p) = proof_of.get(label) {
                        evidence.push(Evidence {
                            href: if p.kind == "file" {
                                proof_path(&p.value)
                            } else if p.kind == "url" {
                                p.value.clone()
                            } else {
                                "facts.json".into()
                            },
                            description: format!(
                                "Manual proof '{}' ({}), collected {}",
                                p.proof,
                                p.kind,
                                crate::state::fmt_time(p.collected_at)
                            ),
                        });
                    }
                }
                _ => {
                    methods.push("TEST");
                    if let Some(e) = envelope_of.get(label) {
                        evidence.push(Evidence {
                            href: envelope_path(&e.digest),
                            description: format!(
                                "Signed attestation {} of {}@{} carrying the evaluation of policy '{}'",
                                e.digest, e.project, e.version, component["name"].as_str().unwrap_or_default()
                            ),
                        });
                    }
                }
            }
        }
        methods.sort_unstable();
        methods.dedup();
        if methods.is_empty() {
            methods.push("EXAMINE");
        }
        let status = cell["status"].as_str().unwrap_or_default().to_owned();
        observations.push(Observation {
            uuid: id.clone(),
            title: format!("{requirement} for {subject}: {status}"),
            description: if c.explanation.is_empty() {
                status.clone()
            } else {
                c.explanation.join("\n")
            },
            props: vec![
                prop("status", status.clone()),
                prop("requirement", token(&requirement)),
            ],
            methods,
            collected: posture.at.clone(),
            relevant_evidence: evidence,
        });
        by_requirement
            .entry(requirement)
            .or_default()
            .push((cell, id));
    }
    let findings = by_requirement
        .into_iter()
        .map(|(requirement, cells)| {
            let counted: Vec<_> = cells.iter().filter(|(c, _)| c["counted"] == true).collect();
            let satisfied = counted.iter().all(|(c, _)| c["passing"] == true);
            let statuses: Vec<String> = cells
                .iter()
                .map(|(c, _)| {
                    format!(
                        "{}: {}",
                        c["project"].as_str().unwrap_or("product"),
                        c["status"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            let control = control_ids
                .get(&requirement)
                .cloned()
                .unwrap_or_else(|| requirement.clone());
            Finding {
                uuid: uuid(&format!("{base}/finding/{requirement}")),
                title: format!("Requirement {requirement}"),
                description: format!(
                    "{} of {} counted cells pass ({})",
                    counted.iter().filter(|(c, _)| c["passing"] == true).count(),
                    counted.len(),
                    statuses.join(", ")
                ),
                props: vec![prop("requirement", token(&requirement))],
                target: Target {
                    kind: "objective-id",
                    target_id: token(&control),
                    status: TargetStatus {
                        state: if satisfied {
                            "satisfied"
                        } else {
                            "not-satisfied"
                        },
                        // OSCAL's reason is a token (pass, fail, other); the words are
                        // in the finding's description.
                        reason: if counted.is_empty() {
                            "other"
                        } else if satisfied {
                            "pass"
                        } else {
                            "fail"
                        },
                    },
                },
                related_observations: cells
                    .iter()
                    .map(|(_, id)| RelatedObservation {
                        observation_uuid: id.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let title = format!(
        "{} {}: compliance at {}",
        manifest.product, manifest.version, manifest.at
    );
    Document {
        assessment_results: AssessmentResults {
            uuid: uuid(&format!("{base}/assessment-results")),
            metadata: Metadata {
                title: title.clone(),
                last_modified: manifest.created_at.clone(),
                version: manifest.version.clone(),
                oscal_version: OSCAL_VERSION,
            },
            // comply has no assessment plan document; the pack's manifest describes
            // what was assessed.
            import_ap: Href {
                href: "manifest.json".into(),
            },
            results: vec![AssessmentResult {
                uuid: uuid(&format!("{base}/result")),
                title,
                description: format!(
                    "Status of every requirement of {} {} computed by comply from signed evidence and recorded decisions; score {}.",
                    manifest.product,
                    manifest.version,
                    posture
                        .score
                        .map_or_else(|| "n/a".into(), |s| format!("{:.0}%", s * 100.0))
                ),
                start: manifest.at.clone(),
                reviewed_controls: ReviewedControls {
                    control_selections: vec![ControlSelection {
                        include_all: Default::default(),
                    }],
                },
                observations,
                findings,
            }],
        },
    }
}
