//! In-toto statements with SLSA provenance (v0.1, v0.2, v1), bare or in a DSSE envelope
//! or Sigstore bundle.
//!
//! The statement is found in any of the three wrappings (a bare Statement, protojson
//! included: `predicate_type`, `type`; a DSSE envelope, `payloadType` + base64
//! `payload`; a Sigstore bundle, `dsseEnvelope`), so policies reading
//! `input.comply.provenance` do not depend on how the provenance was shipped.
//! Signatures are not checked here: comply verifies envelopes where it collects them.
//!
//! - `format`: `slsa-provenance` for `https://slsa.dev/provenance/*` predicates,
//!   `in-toto` for every other statement (Chainloop's own `chainloop.dev/attestation/*`
//!   included) and for documents whose statement cannot be decoded;
//! - `format_version`: the SLSA version (`0.2`, `1`) for SLSA provenance, else the
//!   in-toto Statement version (`0.1`, `1`);
//! - `created`: when the build finished (else started), as the predicate says;
//! - `provenance`: predicate type, builder id, build type and subjects; absent when no
//!   statement could be decoded.

use super::{Normalized, Provenance, Subject};
use base64::Engine as _;
use serde_json::Value;

const SLSA_PREFIX: &str = "https://slsa.dev/provenance/";

pub(super) fn normalize(doc: &Value, out: &mut Normalized) {
    out.format = "in-toto".into();
    let Some(statement) = statement(doc) else {
        return;
    };
    let predicate_type = text(&statement, &["predicateType", "predicate_type"]).unwrap_or_default();
    let predicate = statement.get("predicate").unwrap_or(&Value::Null);
    if let Some(version) = predicate_type.strip_prefix(SLSA_PREFIX) {
        out.format = "slsa-provenance".into();
        out.format_version = Some(version.trim_start_matches('v').to_owned());
    } else {
        out.format_version = text(&statement, &["_type", "type"])
            .and_then(|t| {
                t.rsplit('/')
                    .next()
                    .map(|v| v.trim_start_matches('v').to_owned())
            })
            .filter(|v| !v.is_empty());
    }
    out.created = created(predicate);
    out.provenance = Some(Provenance {
        predicate_type,
        builder_id: builder_id(predicate),
        build_type: build_type(predicate),
        subjects: subjects(&statement),
    });
}

/// The in-toto statement of a bare statement, a DSSE envelope or a Sigstore bundle.
pub(super) fn statement(doc: &Value) -> Option<Value> {
    if doc.get("predicateType").is_some() || doc.get("predicate_type").is_some() {
        return Some(doc.clone());
    }
    if let Some(envelope) = doc.get("dsseEnvelope").or_else(|| doc.get("dsse_envelope")) {
        return statement(envelope);
    }
    let payload = doc.get("payload")?.as_str()?;
    doc.get("payloadType").or_else(|| doc.get("payload_type"))?;
    let bytes = decode_base64(payload)?;
    let inner: Value = serde_json::from_slice(&bytes).ok()?;
    (inner.get("predicateType").is_some() || inner.get("predicate_type").is_some()).then_some(inner)
}

/// DSSE payloads are standard base64; some producers use the URL-safe alphabet or drop
/// the padding.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = text.trim();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// The first of `keys` that holds a non-empty string.
fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The first of `paths` (JSON pointers) that holds a non-empty string.
fn at(v: &Value, paths: &[&str]) -> Option<String> {
    paths
        .iter()
        .find_map(|p| v.pointer(p).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// SLSA v1 `runDetails.builder.id`; v0.1/v0.2 (and Chainloop's predicate) `builder.id`.
fn builder_id(predicate: &Value) -> Option<String> {
    at(
        predicate,
        &[
            "/runDetails/builder/id",
            "/run_details/builder/id",
            "/builder/id",
        ],
    )
}

/// SLSA v1 `buildDefinition.buildType`; v0.2 `buildType`; v0.1 `recipe.type`.
fn build_type(predicate: &Value) -> Option<String> {
    at(
        predicate,
        &[
            "/buildDefinition/buildType",
            "/build_definition/build_type",
            "/buildType",
            "/build_type",
            "/recipe/type",
        ],
    )
}

/// When the build finished, else when it started: SLSA v1 `runDetails.metadata`,
/// v0.2 `metadata.buildFinishedOn`/`buildStartedOn`, Chainloop `metadata.finishedAt`.
fn created(predicate: &Value) -> Option<String> {
    at(
        predicate,
        &[
            "/runDetails/metadata/finishedOn",
            "/runDetails/metadata/startedOn",
            "/metadata/buildFinishedOn",
            "/metadata/buildStartedOn",
            "/metadata/finishedAt",
            "/metadata/initializedAt",
        ],
    )
}

/// Every subject, with its SHA-256 digest when it has one (Chainloop's `git.head`
/// subject carries a `sha1` only).
fn subjects(statement: &Value) -> Vec<Subject> {
    statement
        .get("subject")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|s| Subject {
                    name: s
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    sha256: s
                        .pointer("/digest/sha256")
                        .and_then(Value::as_str)
                        .filter(|d| !d.is_empty())
                        .map(str::to_ascii_lowercase),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view(doc: Value) -> Normalized {
        let mut out = Normalized::default();
        normalize(&doc, &mut out);
        out
    }

    #[test]
    fn reads_slsa_v1_in_a_dsse_envelope() {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app", "digest": {"sha256": "AB12"}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {"buildType": "https://example.com/bt"},
                "runDetails": {"builder": {"id": "https://example.com/b"},
                               "metadata": {"finishedOn": "2025-01-01T00:00:00Z"}}
            }
        });
        let payload = base64::engine::general_purpose::STANDARD.encode(statement.to_string());
        let out = view(json!({"payloadType": "application/vnd.in-toto+json", "payload": payload}));
        assert_eq!(out.format, "slsa-provenance");
        assert_eq!(out.format_version.as_deref(), Some("1"));
        assert_eq!(out.created.as_deref(), Some("2025-01-01T00:00:00Z"));
        let p = out.provenance.unwrap();
        assert_eq!(p.builder_id.as_deref(), Some("https://example.com/b"));
        assert_eq!(p.build_type.as_deref(), Some("https://example.com/bt"));
        assert_eq!(p.subjects[0].sha256.as_deref(), Some("ab12"));
    }

    #[test]
    fn an_undecodable_envelope_has_no_provenance() {
        let out = view(json!({"payloadType": "application/vnd.in-toto+json", "payload": "%%%"}));
        assert_eq!(out.format, "in-toto");
        assert!(out.provenance.is_none());
        assert!(view(json!({"hello": "world"})).provenance.is_none());
    }
}
