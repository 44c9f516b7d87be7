//! Materials: detection, parsing and the normalized view policies read.
//!
//! A policy sees the material as Chainloop gives it (the document itself, a top-level
//! array wrapped as `{elements}`, XML projected to JSON), plus `input.comply`: comply's
//! normalized view, so built-in policies work the same on every format that carries
//! the same facts (vulnerabilities from SARIF, CycloneDX, Grype or Trivy alike).
//! The raw document is never altered. Schema of the view: `docs/materials.md`.

mod ai;
mod coverage;
mod cyclonedx;
mod detect;
mod findings;
mod junit;
mod pitest;
mod provenance;
mod purl;
mod radamsa;
mod scm;
mod spdx;
mod vex;
mod vulns;
mod xml;

pub use detect::detect;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum MaterialError {
    #[error("{name}: {message}")]
    Unreadable { name: String, message: String },
    #[error(
        "{name}: the format was not recognized; give its kind (e.g. --kind SBOM_CYCLONEDX_JSON)"
    )]
    Unrecognized { name: String },
}

/// A material ready for evaluation.
#[derive(Debug, Clone)]
pub struct Material {
    /// Chainloop `MaterialType`.
    pub kind: String,
    pub name: String,
    /// Hex SHA-256 of the bytes as given.
    pub sha256: String,
    /// What Chainloop's engine would see: the JSON document, or its projection.
    pub content: Value,
    /// comply's view (`input.comply`).
    pub normalized: Normalized,
    /// Facts established when the material was collected, given to policies in
    /// `input.chainloop_metadata.annotations`, e.g. `chainloop.material.signature`
    /// once a signature was found and verified.
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The normalized view. Every list is empty when the format does not carry that fact.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Normalized {
    /// e.g. `cyclonedx`, `spdx`, `sarif`, `grype`, `trivy`, `openvex`, `csaf`, `junit`,
    /// `gitleaks`, `trufflehog`, `slsa-provenance`, `runner-context`, `pr-info`,
    /// `jacoco`, `cobertura`, `pitest`, `ai-agent-config`, `ai-coding-session`,
    /// `container-image`, `evidence`.
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    /// When the document says it was made (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub components: Vec<Component>,
    pub vulnerabilities: Vec<Vulnerability>,
    pub findings: Vec<Finding>,
    pub vex: Vec<VexStatement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// JaCoCo and Cobertura coverage counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// PITest mutation testing results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutations: Option<MutationSummary>,
    /// Chainloop AI agent config and coding session facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiView>,
    /// radamsa fuzzing run facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzzing: Option<Fuzzing>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Fuzzing {
    /// Records in the log.
    pub records: u64,
    /// Distinct generated outputs (`nth`).
    pub iterations: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Coverage {
    /// By lowercase counter name: `instruction`, `branch`, `line`, `complexity`,
    /// `method`, `class` (Cobertura: `line` and `branch`).
    pub counters: BTreeMap<String, CoverageCounter>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CoverageCounter {
    pub covered: u64,
    pub missed: u64,
    pub total: u64,
    /// covered / total × 100; absent when nothing was measurable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MutationSummary {
    pub total: u64,
    pub detected: u64,
    pub killed: u64,
    pub survived: u64,
    pub no_coverage: u64,
    pub timed_out: u64,
    pub memory_error: u64,
    pub run_error: u64,
    pub non_viable: u64,
    /// detected / total × 100 (PIT's mutation score).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_score: Option<f64>,
    /// detected / (total − no coverage) × 100 (PIT's test strength).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_strength: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AiView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    pub mcp_servers: Vec<AiServer>,
    pub commands: Vec<AiCommand>,
    pub texts: Vec<AiText>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AiServer {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub disabled: bool,
    /// `mcp_servers` (configured) or `session` (invoked).
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AiCommand {
    pub command: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AiText {
    pub source: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Component {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// CycloneDX component type or SPDX primary package purpose, lowercase
    /// (`library`, `container`, `application`, `operating-system`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// SPDX identifiers or expressions as written; names when no id is given.
    pub licenses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Whether the document gives a unique identifier (purl, CPE, SWID).
    pub has_identifier: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Vulnerability {
    /// CVE when known, else the scanner's id (GHSA-…, …).
    pub id: String,
    pub aliases: Vec<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFO`, `NONE` or `UNKNOWN`.
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// The document itself says it does not apply (VEX `not_affected`, CycloneDX
    /// analysis `not_affected`/`false_positive`/`resolved`).
    pub suppressed: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    /// `CRITICAL`..`NONE` (from security-severity when given), or `UNKNOWN`.
    pub severity: String,
    /// SARIF level: `error`, `warning`, `note`, `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// `sast`, `secret`, `vulnerability`, or the tool's own word.
    pub category: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct VexStatement {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub products: Vec<String>,
    /// `not_affected`, `affected`, `fixed`, `under_investigation`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TestSummary {
    pub total: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Provenance {
    pub predicate_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_type: Option<String>,
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Subject {
    pub name: String,
    pub sha256: Option<String>,
}

/// Reads a material. `kind` given: parsed as that kind; absent: detected.
pub fn load(name: &str, bytes: &[u8], kind: Option<&str>) -> Result<Material, MaterialError> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let kind = match kind {
        Some(k) => k.to_owned(),
        None => detect(bytes)
            .ok_or_else(|| MaterialError::Unrecognized {
                name: name.to_owned(),
            })?
            .to_owned(),
    };
    let unreadable = |message: String| MaterialError::Unreadable {
        name: name.to_owned(),
        message,
    };
    let content = match kind.as_str() {
        // Binary or reference materials: policies see their metadata only.
        "CONTAINER_IMAGE" | "STRING" | "ARTIFACT" | "HELM_CHART" => {
            Value::Object(Default::default())
        }
        // Chainloop hands attestation policies the in-toto statement, not its envelope.
        "ATTESTATION" => {
            let doc: Value = serde_json::from_slice(bytes)
                .map_err(|e| unreadable(format!("not valid JSON for {kind}: {e}")))?;
            provenance::statement(&doc).unwrap_or(doc)
        }
        "JUNIT_XML" => junit::project(bytes).map_err(unreadable)?,
        "JACOCO_XML" => coverage::project_jacoco(bytes).map_err(unreadable)?,
        "COBERTURA_XML" => coverage::project_cobertura(bytes).map_err(unreadable)?,
        "PITEST_XML" => pitest::project(bytes).map_err(unreadable)?,
        "RADAMSA_REPORT" => radamsa::project(bytes).map_err(unreadable)?,
        "TRUFFLEHOG_JSON" => findings::parse_json_lines(bytes).map_err(unreadable)?,
        _ => serde_json::from_slice(bytes).map_err(|e| {
            let hint = if bytes.trim_ascii_start().starts_with(b"<") {
                " (this looks like XML; comply reads the JSON form of this format)"
            } else {
                ""
            };
            unreadable(format!("not valid JSON for {kind}: {e}{hint}"))
        })?,
    };
    let normalized = normalize(&kind, &content);
    Ok(Material {
        kind,
        name: name.to_owned(),
        sha256,
        content,
        normalized,
        annotations: Default::default(),
    })
}

/// The normalized view of a parsed document of `kind`.
pub fn normalize(kind: &str, doc: &Value) -> Normalized {
    let mut out = Normalized::default();
    match kind {
        "SBOM_CYCLONEDX_JSON" => cyclonedx::normalize(doc, &mut out),
        "SBOM_SPDX_JSON" => spdx::normalize(doc, &mut out),
        "SARIF" => findings::sarif(doc, &mut out),
        "OPENVEX" => vex::openvex(doc, &mut out),
        "CSAF_VEX" | "CSAF_SECURITY_ADVISORY" => vex::csaf(doc, &mut out),
        "GITLEAKS_JSON" => findings::gitleaks(doc, &mut out),
        "TRUFFLEHOG_JSON" => findings::trufflehog(doc, &mut out),
        "JUNIT_XML" => junit::normalize(doc, &mut out),
        "JACOCO_XML" => coverage::normalize_jacoco(doc, &mut out),
        "COBERTURA_XML" => coverage::normalize_cobertura(doc, &mut out),
        "PITEST_XML" => pitest::normalize(doc, &mut out),
        "RADAMSA_REPORT" => radamsa::normalize(doc, &mut out),
        "CHAINLOOP_AI_AGENT_CONFIG" | "CHAINLOOP_AI_CODING_SESSION" => {
            ai::normalize(kind, doc, &mut out)
        }
        "SLSA_PROVENANCE" | "ATTESTATION" => provenance::normalize(doc, &mut out),
        "CHAINLOOP_RUNNER_CONTEXT" | "CHAINLOOP_PR_INFO" => scm::normalize(kind, doc, &mut out),
        "CONTAINER_IMAGE" => out.format = "container-image".into(),
        // Vulnerability reports come as EVIDENCE or under their own tool's name.
        _ => {
            if !vulns::normalize(doc, &mut out) {
                out.format = "evidence".into();
            }
        }
    }
    out
}

/// `CRITICAL`..`NONE` from a CVSS base score (CVSS v3 qualitative ratings).
pub fn severity_from_score(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "CRITICAL",
        s if s >= 7.0 => "HIGH",
        s if s >= 4.0 => "MEDIUM",
        s if s > 0.0 => "LOW",
        _ => "NONE",
    }
}

/// Normalizes a severity word from any tool (`Critical`, `high`, `moderate`,
/// `negligible`, `Unknown`, …) to comply's scale.
pub fn normalize_severity(word: &str) -> String {
    match word.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => "CRITICAL",
        "HIGH" | "IMPORTANT" => "HIGH",
        "MEDIUM" | "MODERATE" => "MEDIUM",
        "LOW" => "LOW",
        "INFO" | "INFORMATIONAL" | "NEGLIGIBLE" => "INFO",
        "NONE" => "NONE",
        _ => "UNKNOWN",
    }
    .to_owned()
}
