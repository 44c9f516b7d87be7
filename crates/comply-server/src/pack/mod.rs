//! Evidence packs (decision 0030): everything an auditor needs to check a product
//! version's posture at a time `t` without access to comply, as a set of files with a
//! signed manifest of their SHA-256 digests. The server builds the files
//! (`routes::report`); `comply report` writes them to a directory or a zip;
//! [`verify`] checks a pack from its files alone.

pub mod facts;
mod html;
pub mod oscal;
mod verify;

pub use facts::PackFacts;
pub use verify::{VerifyReport, verify};

use comply_attest::SigningKey;
use comply_core::audit::AuditEvent;
use comply_core::status::{CellStatus, Score};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// The manifest's `format`: a verifier refuses packs of a format it does not know.
pub const FORMAT: &str = "comply.dev/evidence-pack/v1";
/// DSSE payload type of `manifest.sig`, so a manifest signature can never be mistaken
/// for (or replayed as) an attestation.
pub const MANIFEST_PAYLOAD_TYPE: &str = "application/vnd.comply.evidence-pack-manifest+json";

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
/// The manifest signer's public key (PEM). Compare its fingerprint with the one the
/// server publishes (`GET /api/v1/report-key`) or pass it to `verify --signer`.
pub const SIGNER: &str = "signer.pem";
pub const POSTURE: &str = "posture.json";
pub const FACTS: &str = "facts.json";
pub const DECISIONS: &str = "decisions.json";
pub const AUDIT: &str = "audit.json";
pub const KEYS: &str = "keys.json";
pub const ENVELOPES: &str = "envelopes/index.json";
pub const REPORT: &str = "report.html";
/// The posture as OSCAL Assessment Results (JSON).
pub const OSCAL: &str = "assessment-results.json";

/// The files of a pack by path (`/`-separated, relative), as bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub org: String,
    pub product: String,
    pub version: String,
    /// The framework the posture was limited to, if any.
    pub framework: Option<String>,
    /// The instant the posture is computed for (RFC 3339) and as unix ms.
    pub at: String,
    pub at_ms: i64,
    /// When the pack was made.
    pub created_at: String,
    /// The org's audit chain head when the pack was made: the extract must end here.
    pub audit_head: Option<AuditHead>,
    /// Every other file of the pack with its digest.
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    /// `sha256:<hex>` of the file's bytes.
    pub sha256: String,
    pub size: u64,
}

/// The posture as the server computed it: what the report shows, and what `verify`
/// recomputes from `facts.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Posture {
    pub product: String,
    pub version: String,
    pub framework: Option<String>,
    pub at: String,
    pub at_ms: i64,
    pub score: Option<f64>,
    pub compliant: bool,
    pub passing: usize,
    pub counted: usize,
    pub frameworks: Vec<FrameworkScore>,
    pub cells: Vec<PostureCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkScore {
    pub framework: String,
    pub score: Option<f64>,
    pub passing: usize,
    pub counted: usize,
    /// The same score per section, in path order (empty when the facts record no
    /// sections: packs made before they did).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionScore {
    /// `A / B`; "" for requirements at the framework's top level.
    pub section: String,
    pub score: Option<f64>,
    pub passing: usize,
    pub counted: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostureCell {
    /// The cell exactly as `comply_core::status` returned it (times in unix ms).
    pub cell: serde_json::Value,
    /// `comply_core::status::explain`, in words.
    pub explanation: Vec<String>,
}

/// One stored attestation in the pack: `envelopes/<hex>.json` holds its envelope as
/// stored, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeEntry {
    pub digest: String,
    pub path: String,
    pub project: String,
    pub version: String,
    pub workflow: Option<String>,
    /// The statement's `finishedAt` (unix ms): certificates are checked at this time.
    pub finished_at: i64,
    pub received_at: i64,
    pub signer: String,
    /// `false`: the org accepted it unsigned (its setting allowed it).
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackKey {
    pub name: String,
    /// `public_key` or `ca_certificate`.
    pub kind: String,
    pub algorithm: String,
    pub pem: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditExtract {
    /// The org's whole chain up to the head: a chain verifies only from its start.
    pub events: Vec<AuditEvent>,
}

/// Decisions and manual inputs as stored, for people (the facts carry the same for
/// the computation).
#[derive(Debug, Clone, Serialize)]
pub struct DecisionsFile {
    pub decisions: Vec<comply_store::DecisionRow>,
    pub proofs: Vec<comply_store::ProofRow>,
    pub applicability: Vec<facts::PackApplicability>,
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The posture of `cells` (already limited to `framework` when given), scored per
/// framework and, where `sections` lists a framework's, per section of it.
pub fn posture(
    manifest_like: (&str, &str, Option<&str>),
    at_ms: i64,
    frameworks: &[String],
    sections: &BTreeMap<String, BTreeMap<String, String>>,
    cells: &[CellStatus],
    time: &dyn Fn(i64) -> String,
) -> Posture {
    let (product, version, framework) = manifest_like;
    let shown: Vec<&CellStatus> = cells
        .iter()
        .filter(|c| framework.is_none_or(|f| c.frameworks.iter().any(|x| x == f)))
        .collect();
    let score = Score::of(shown.iter().copied());
    Posture {
        product: product.to_owned(),
        version: version.to_owned(),
        framework: framework.map(str::to_owned),
        at: time(at_ms),
        at_ms,
        score: score.score,
        compliant: score.compliant,
        passing: score.passing,
        counted: score.counted,
        frameworks: frameworks
            .iter()
            .filter(|f| framework.is_none_or(|x| x == f.as_str()))
            .map(|f| {
                let s = Score::of_framework(shown.iter().copied(), f);
                // As the status answer groups them: each cell under the section its
                // requirement is listed in.
                let mut by_section: BTreeMap<&str, Vec<&CellStatus>> = BTreeMap::new();
                if let Some(paths) = sections.get(f) {
                    for c in shown.iter().filter(|c| c.frameworks.iter().any(|x| x == f)) {
                        by_section
                            .entry(paths.get(&c.requirement).map_or("", String::as_str))
                            .or_default()
                            .push(c);
                    }
                }
                FrameworkScore {
                    framework: f.clone(),
                    score: s.score,
                    passing: s.passing,
                    counted: s.counted,
                    sections: by_section
                        .into_iter()
                        .map(|(section, cells)| {
                            let s = Score::of(cells);
                            SectionScore {
                                section: section.to_owned(),
                                score: s.score,
                                passing: s.passing,
                                counted: s.counted,
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
        cells: shown
            .iter()
            .map(|c| PostureCell {
                cell: serde_json::to_value(c).expect("cells serialize"),
                explanation: comply_core::status::explain(c, time),
            })
            .collect(),
    }
}

/// Everything a pack holds, before it is written down.
pub struct PackContents<'a> {
    pub manifest: Manifest,
    pub posture: &'a Posture,
    pub facts: &'a PackFacts,
    pub decisions: &'a DecisionsFile,
    pub audit: &'a AuditExtract,
    pub keys: &'a [PackKey],
    /// Index entries with the envelope bytes.
    pub envelopes: Vec<(EnvelopeEntry, Vec<u8>)>,
    /// Proof files by `sha256:` digest.
    pub proof_files: BTreeMap<String, Vec<u8>>,
    /// Requirement name → catalogue control id (`comply.dev/source-id`), for OSCAL.
    pub control_ids: BTreeMap<String, String>,
}

fn json(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("pack files serialize");
    bytes.push(b'\n');
    bytes
}

/// The pack's files with the manifest, signed by `key`.
pub fn build(contents: PackContents<'_>, key: &SigningKey) -> Files {
    let mut files = Files::new();
    let index: Vec<&EnvelopeEntry> = contents.envelopes.iter().map(|(e, _)| e).collect();
    files.insert(ENVELOPES.into(), json(&index));
    for (entry, bytes) in &contents.envelopes {
        files.insert(entry.path.clone(), bytes.clone());
    }
    for (digest, bytes) in &contents.proof_files {
        files.insert(proof_path(digest), bytes.clone());
    }
    files.insert(
        OSCAL.into(),
        json(&oscal::assessment_results(
            &contents.manifest,
            contents.posture,
            contents.facts,
            &index,
            &contents.control_ids,
        )),
    );
    files.insert(POSTURE.into(), json(contents.posture));
    files.insert(FACTS.into(), json(contents.facts));
    files.insert(DECISIONS.into(), json(contents.decisions));
    files.insert(AUDIT.into(), json(contents.audit));
    files.insert(KEYS.into(), json(&contents.keys));
    files.insert(
        REPORT.into(),
        html::render(
            &contents.manifest,
            contents.posture,
            contents.decisions,
            &index,
        )
        .into_bytes(),
    );
    let mut manifest = contents.manifest;
    manifest.files = files
        .iter()
        .map(|(path, bytes)| ManifestFile {
            path: path.clone(),
            sha256: sha256(bytes),
            size: bytes.len() as u64,
        })
        .collect();
    files.insert(MANIFEST.into(), json(&manifest));
    sign(&mut files, key);
    files
}

/// (Re)signs the pack's manifest with `key`: `manifest.sig` and `signer.pem`.
pub fn sign(files: &mut Files, key: &SigningKey) {
    let manifest = files.get(MANIFEST).cloned().unwrap_or_default();
    files.insert(
        SIGNATURE.into(),
        comply_attest::sign(MANIFEST_PAYLOAD_TYPE, &manifest, key),
    );
    files.insert(SIGNER.into(), key.public().to_pem().into_bytes());
}

/// Where a proof file with this digest lives in a pack.
pub fn proof_path(digest: &str) -> String {
    format!("proofs/{}", digest.trim_start_matches("sha256:"))
}

/// Where an envelope with this digest lives in a pack.
pub fn envelope_path(digest: &str) -> String {
    format!("envelopes/{}.json", digest.trim_start_matches("sha256:"))
}
