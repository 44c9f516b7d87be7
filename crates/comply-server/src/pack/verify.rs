//! `comply report verify`: a pack checked from its files alone. Each check says what
//! it found; anything that does not match is a problem, with the file and the part.

use super::facts::{PackFacts, ReplayHook, compute};
use super::*;
use base64::Engine as _;
use comply_attest::{
    Certificate, Format, PublicKey, Signature, Signed, TrustStore, parse_envelope, verify_with_key,
};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Fingerprint of the key that signed the manifest, when the signature verified.
    pub signer: Option<String>,
    /// What was checked and held.
    pub checked: Vec<String>,
    /// What does not match. Empty: the pack verifies.
    pub problems: Vec<String>,
    /// What holds but deserves a reader's attention (unsigned evidence the org accepted).
    pub warnings: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, text: impl Into<String>) {
        self.problems.push(text.into());
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    files: &Files,
    path: &str,
    report: &mut VerifyReport,
) -> Option<T> {
    let Some(bytes) = files.get(path) else {
        report.problem(format!("{path} is missing"));
        return None;
    };
    match serde_json::from_slice(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            report.problem(format!("{path} does not parse: {e}"));
            None
        }
    }
}

/// Checks `files` as a pack. `signer`: the public key the manifest must be signed with
/// (else the key in `signer.pem` is reported, for the reader to compare).
pub fn verify(files: &Files, signer: Option<&PublicKey>) -> VerifyReport {
    let mut report = VerifyReport::default();
    let Some(manifest) = check_manifest(files, signer, &mut report) else {
        return report;
    };
    let keys: Option<Vec<PackKey>> = parse(files, KEYS, &mut report);
    let index: Option<Vec<EnvelopeEntry>> = parse(files, ENVELOPES, &mut report);
    let facts: Option<PackFacts> = parse(files, FACTS, &mut report);
    let audit: Option<AuditExtract> = parse(files, AUDIT, &mut report);
    let posture: Option<Posture> = parse(files, POSTURE, &mut report);
    if let (Some(keys), Some(index)) = (&keys, &index) {
        check_envelopes(files, keys, index, facts.as_ref(), &mut report);
    }
    if let Some(facts) = &facts {
        check_proofs(files, facts, &mut report);
    }
    if let Some(audit) = &audit {
        check_audit(&manifest, audit, &mut report);
    }
    if let (Some(facts), Some(posture)) = (&facts, &posture) {
        check_posture(&manifest, facts, posture, &mut report);
    }
    report
}

fn check_manifest(
    files: &Files,
    signer: Option<&PublicKey>,
    report: &mut VerifyReport,
) -> Option<Manifest> {
    let manifest_bytes = files.get(MANIFEST).map(Vec::as_slice).unwrap_or_default();
    let manifest: Manifest = parse(files, MANIFEST, report)?;
    if manifest.format != FORMAT {
        report.problem(format!(
            "{MANIFEST}: format '{}' is not '{FORMAT}'",
            manifest.format
        ));
        return None;
    }
    // The signature.
    let pem = files
        .get(SIGNER)
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let key = match (signer, pem.as_deref().map(PublicKey::from_pem)) {
        (Some(expected), Some(Ok(found))) if &found != expected => {
            report.problem(format!(
                "{SIGNER}: the manifest is signed by {}, not by the expected key {}",
                found.fingerprint(),
                expected.fingerprint()
            ));
            Some(found)
        }
        (Some(expected), _) => Some(expected.clone()),
        (None, Some(Ok(found))) => Some(found),
        (None, Some(Err(e))) => {
            report.problem(format!("{SIGNER}: not a public key: {e}"));
            None
        }
        (None, None) => {
            report.problem(format!("{SIGNER} is missing"));
            None
        }
    };
    match (files.get(SIGNATURE), key) {
        (None, _) => report.problem(format!("{SIGNATURE} is missing: the manifest is unsigned")),
        (Some(_), None) => {}
        (Some(sig), Some(key)) => match manifest_signature(sig) {
            Err(e) => report.problem(format!("{SIGNATURE} does not parse: {e}")),
            Ok(signed) if signed.payload_type != MANIFEST_PAYLOAD_TYPE => report.problem(format!(
                "{SIGNATURE}: payload type '{}' is not a pack manifest's",
                signed.payload_type
            )),
            Ok(signed) if signed.payload != manifest_bytes => report.problem(format!(
                "{MANIFEST} was changed after it was signed (it differs from the signed copy in {SIGNATURE})"
            )),
            Ok(signed) => match verify_with_key(&signed, &key) {
                Ok(_) => {
                    report.signer = Some(key.fingerprint());
                    report.checked.push(format!(
                        "manifest signature: valid, key {}",
                        key.fingerprint()
                    ));
                }
                Err(e) => report.problem(format!("{SIGNATURE}: the signature does not verify: {e}")),
            },
        },
    }
    // The digests.
    let mut listed = BTreeSet::new();
    let mut intact = 0;
    for f in &manifest.files {
        listed.insert(f.path.as_str());
        match files.get(&f.path) {
            None => report.problem(format!("{}: listed in the manifest but missing", f.path)),
            Some(bytes) => {
                let digest = sha256(bytes);
                if digest != f.sha256 {
                    report.problem(format!(
                        "{}: digest {digest} does not match the manifest's {}",
                        f.path, f.sha256
                    ));
                } else {
                    intact += 1;
                }
            }
        }
    }
    for path in files.keys() {
        if ![MANIFEST, SIGNATURE, SIGNER].contains(&path.as_str())
            && !listed.contains(path.as_str())
        {
            report.problem(format!("{path}: not listed in the manifest"));
        }
    }
    report.checked.push(format!(
        "file digests: {intact} of {} intact",
        manifest.files.len()
    ));
    Some(manifest)
}

/// `manifest.sig`: a DSSE envelope of the manifest (comply-attest's envelope parser
/// accepts in-toto statements only, as ingestion must).
fn manifest_signature(bytes: &[u8]) -> Result<Signed, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Dsse {
        payload_type: String,
        payload: String,
        signatures: Vec<DsseSignature>,
    }
    #[derive(Deserialize)]
    struct DsseSignature {
        #[serde(default)]
        keyid: Option<String>,
        sig: String,
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let dsse: Dsse = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let payload = b64
        .decode(&dsse.payload)
        .map_err(|e| format!("payload: {e}"))?;
    let signatures = dsse
        .signatures
        .into_iter()
        .map(|s| {
            let sig = b64.decode(&s.sig).map_err(|e| format!("sig: {e}"))?;
            Ok(Signature {
                keyid: s.keyid.filter(|k| !k.is_empty()),
                raw: sig.clone(),
                sig,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Signed {
        format: Format::Dsse,
        media_type: None,
        payload_type: dsse.payload_type,
        payload,
        signatures,
        certificates: Vec::new(),
        public_key_hint: None,
    })
}

fn trust_store(keys: &[PackKey], report: &mut VerifyReport) -> TrustStore {
    let mut trust = TrustStore::new();
    for k in keys {
        match k.kind.as_str() {
            "ca_certificate" => match Certificate::from_pem(&k.pem) {
                Ok(c) => trust = trust.with_ca(k.name.clone(), c),
                Err(e) => report.problem(format!("{KEYS}: CA '{}' does not parse: {e}", k.name)),
            },
            _ => match PublicKey::from_pem(&k.pem) {
                Ok(p) => trust = trust.with_key(k.name.clone(), p),
                Err(e) => report.problem(format!("{KEYS}: key '{}' does not parse: {e}", k.name)),
            },
        }
    }
    trust
}

fn check_envelopes(
    files: &Files,
    keys: &[PackKey],
    index: &[EnvelopeEntry],
    facts: Option<&PackFacts>,
    report: &mut VerifyReport,
) {
    let trust = trust_store(keys, report);
    let mut good = 0;
    for entry in index {
        if entry.path != envelope_path(&entry.digest) {
            report.problem(format!(
                "{ENVELOPES}: {} should be at {}, not {}",
                entry.digest,
                envelope_path(&entry.digest),
                entry.path
            ));
            continue;
        }
        let Some(bytes) = files.get(&entry.path) else {
            report.problem(format!("{}: missing", entry.path));
            continue;
        };
        let signed = match parse_envelope(bytes) {
            Ok(s) => s,
            Err(e) => {
                report.problem(format!("{}: not an envelope: {e}", entry.path));
                continue;
            }
        };
        if signed.digest() != entry.digest {
            report.problem(format!(
                "{}: the envelope's digest is {}, not {}",
                entry.path,
                signed.digest(),
                entry.digest
            ));
            continue;
        }
        if !entry.verified {
            report.warnings.push(format!(
                "{}: accepted unsigned by the org's setting; nothing vouches for it",
                entry.digest
            ));
            good += 1;
            continue;
        }
        match comply_attest::verify(&signed, &trust, entry.finished_at) {
            Ok(_) => good += 1,
            Err(e) => report.problem(format!(
                "{}: the signature does not verify against the pack's trusted keys: {e}",
                entry.path
            )),
        }
    }
    report.checked.push(format!(
        "attestation envelopes: {good} of {} verify",
        index.len()
    ));
    if let Some(facts) = facts {
        let known: BTreeSet<&str> = index.iter().map(|e| e.digest.as_str()).collect();
        let mut absent: BTreeSet<&str> = BTreeSet::new();
        for e in facts.projects.iter().flat_map(|p| &p.evaluations) {
            if !known.contains(e.attestation.as_str()) {
                absent.insert(&e.attestation);
            }
        }
        for digest in absent {
            report.problem(format!(
                "{FACTS}: evaluations of attestation {digest} have no envelope in the pack"
            ));
        }
    }
}

fn check_proofs(files: &Files, facts: &PackFacts, report: &mut VerifyReport) {
    let mut count = 0;
    for p in facts.proofs.iter().filter(|p| p.kind == "file") {
        let path = proof_path(&p.value);
        match files.get(&path) {
            None => report.problem(format!(
                "proof {} ({}): file {path} is missing",
                p.id, p.proof
            )),
            Some(bytes) if sha256(bytes) != p.value => report.problem(format!(
                "proof {} ({}): {path} has digest {}, the proof records {}",
                p.id,
                p.proof,
                sha256(bytes),
                p.value
            )),
            Some(_) => count += 1,
        }
    }
    report
        .checked
        .push(format!("proof files: {count} match their digests"));
}

fn check_audit(manifest: &Manifest, audit: &AuditExtract, report: &mut VerifyReport) {
    let head = manifest
        .audit_head
        .as_ref()
        .map(|h| (h.seq, h.hash.as_str()));
    match comply_core::audit::verify(&audit.events, head) {
        Ok(n) => report.checked.push(format!(
            "audit chain: {n} events link up to the recorded head"
        )),
        Err(b) => report.problem(format!("{AUDIT}: event {}: {}", b.seq, b.reason)),
    }
}

fn cell_key(v: &serde_json::Value) -> (String, String) {
    (
        v["requirement"].as_str().unwrap_or_default().to_owned(),
        v["project"].as_str().unwrap_or_default().to_owned(),
    )
}

fn check_posture(
    manifest: &Manifest,
    facts: &PackFacts,
    posture: &Posture,
    report: &mut VerifyReport,
) {
    let core = match facts.to_core() {
        Ok(c) => c,
        Err(e) => {
            report.problem(format!("{FACTS}: {e}"));
            return;
        }
    };
    let hook = ReplayHook::new(&facts.auto_match);
    let cells = compute(facts, &core, manifest.at_ms, &hook);
    for q in hook.missing.lock().expect("missing").iter() {
        report.problem(format!(
            "{FACTS}: the pack holds no autoMatch answer for {}",
            serde_json::to_string(q).unwrap_or_default()
        ));
    }
    let mut frameworks: Vec<String> = posture
        .frameworks
        .iter()
        .map(|f| f.framework.clone())
        .collect();
    if frameworks.is_empty() {
        frameworks = facts
            .requirements
            .iter()
            .flat_map(|r| r.frameworks.clone())
            .collect();
        frameworks.sort();
        frameworks.dedup();
    }
    let again = super::posture(
        (
            &manifest.product,
            &manifest.version,
            manifest.framework.as_deref(),
        ),
        manifest.at_ms,
        &frameworks,
        &facts.sections,
        &cells,
        &crate::state::fmt_time,
    );
    let before = report.problems.len();
    if (
        posture.product.as_str(),
        posture.version.as_str(),
        posture.at_ms,
    ) != (
        manifest.product.as_str(),
        manifest.version.as_str(),
        manifest.at_ms,
    ) {
        report.problem(format!(
            "{POSTURE}: it is for {} {} at {}, the manifest says {} {} at {}",
            posture.product,
            posture.version,
            posture.at,
            manifest.product,
            manifest.version,
            manifest.at
        ));
    }
    if (
        posture.score,
        posture.passing,
        posture.counted,
        posture.compliant,
    ) != (again.score, again.passing, again.counted, again.compliant)
    {
        report.problem(format!(
            "{POSTURE}: score {:?} ({}/{} passing, compliant {}) but the facts give {:?} ({}/{}, compliant {})",
            posture.score, posture.passing, posture.counted, posture.compliant,
            again.score, again.passing, again.counted, again.compliant
        ));
    }
    if posture.frameworks != again.frameworks {
        report.problem(format!(
            "{POSTURE}: the per-framework or per-section scores differ from the facts'"
        ));
    }
    let recomputed: HashMap<(String, String), &PostureCell> =
        again.cells.iter().map(|c| (cell_key(&c.cell), c)).collect();
    let mut seen = BTreeSet::new();
    for stored in &posture.cells {
        let key = cell_key(&stored.cell);
        let name = if key.1.is_empty() {
            key.0.clone()
        } else {
            format!("{} / {}", key.0, key.1)
        };
        seen.insert(key.clone());
        let Some(fresh) = recomputed.get(&key) else {
            report.problem(format!(
                "{POSTURE}: cell {name} does not follow from the facts"
            ));
            continue;
        };
        if stored.cell != fresh.cell {
            let fields: Vec<String> = match (stored.cell.as_object(), fresh.cell.as_object()) {
                (Some(a), Some(b)) => a
                    .keys()
                    .chain(b.keys())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter(|k| a.get(*k) != b.get(*k))
                    .map(|k| match (a.get(k), b.get(k)) {
                        (Some(x), Some(y))
                            if x.is_string() || x.is_boolean() || x.is_number() || x.is_null() =>
                        {
                            format!("{k}: pack says {x}, facts give {y}")
                        }
                        _ => k.clone(),
                    })
                    .collect(),
                _ => vec!["the whole cell".into()],
            };
            report.problem(format!(
                "{POSTURE}: cell {name} differs ({})",
                fields.join("; ")
            ));
        } else if stored.explanation != fresh.explanation {
            report.problem(format!(
                "{POSTURE}: cell {name}: the explanation differs from the facts'"
            ));
        }
    }
    for key in recomputed.keys().filter(|k| !seen.contains(*k)) {
        report.problem(format!(
            "{POSTURE}: cell {} / {} follows from the facts but is missing",
            key.0, key.1
        ));
    }
    if report.problems.len() == before {
        report.checked.push(format!(
            "posture: {} cells recomputed from {FACTS} with comply_core::status, identical",
            posture.cells.len()
        ));
    }
}
