//! Collecting materials: validation, digests, verified image signatures.

use super::state::CollectedMaterial;
use crate::error::{CliError, Result};
use comply_policy::material::{self, Material};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Validates a material and returns its kind and SHA-256: file content, or the image
/// digest of a `CONTAINER_IMAGE` reference.
pub(super) fn collect(name: &str, value: &str, kind: Option<&str>) -> Result<(String, String)> {
    if kind == Some("CONTAINER_IMAGE") {
        let digest = value
            .rsplit_once("@sha256:")
            .map(|(_, d)| d.to_ascii_lowercase())
            .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                CliError::usage(format!(
                    "material {name}: '{value}' must be an image reference with a digest (repo@sha256:<64 hex>)"
                ))
            })?;
        return Ok(("CONTAINER_IMAGE".into(), digest));
    }
    if kind == Some("STRING") {
        let m = material::load(name, value.as_bytes(), Some("STRING"))
            .map_err(|e| CliError::usage(e.to_string()))?;
        return Ok((m.kind, m.sha256));
    }
    let bytes = std::fs::read(value)
        .map_err(|e| CliError::usage(format!("material {name}: cannot read {value}: {e}")))?;
    let m = material::load(name, &bytes, kind).map_err(|e| CliError::usage(e.to_string()))?;
    Ok((m.kind, m.sha256))
}

/// Verifies an image signature the way Chainloop records one: only a signature that
/// verifies with the given key and whose signed payload names this image's digest
/// yields the `chainloop.material.signature*` annotations `container-signed` reads.
pub(super) fn verified_signature(
    name: &str,
    digest: &str,
    signature: &Path,
    key: &Path,
) -> Result<BTreeMap<String, String>> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))
    };
    let bad = |why: String| CliError::usage(format!("material {name}: the signature {why}"));
    let signed = comply_attest::parse_envelope(&read(signature)?)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    let public = comply_attest::PublicKey::from_pem(&String::from_utf8_lossy(&read(key)?))
        .map_err(|e| CliError::usage(format!("{}: {e}", key.display())))?;
    comply_attest::verify_with_key(&signed, &public)
        .map_err(|e| bad(format!("does not verify: {e}")))?;
    let payload: Value = serde_json::from_slice(&signed.payload)
        .map_err(|e| bad(format!("payload is not JSON: {e}")))?;
    let wanted = format!("sha256:{digest}");
    // An in-toto statement about the image, or cosign's simple-signing payload.
    let names_image = payload["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["digest"]["sha256"].as_str() == Some(digest))
        || payload["critical"]["image"]["docker-manifest-digest"].as_str() == Some(wanted.as_str());
    if !names_image {
        return Err(bad(format!("does not sign {wanted}")));
    }
    let signature_digest = signed.digest();
    Ok(BTreeMap::from([
        (
            "chainloop.material.signature".to_owned(),
            signature_digest.clone(),
        ),
        (
            "chainloop.material.signature.digest".to_owned(),
            signature_digest,
        ),
        (
            "chainloop.material.signature.provider".to_owned(),
            "cosign".to_owned(),
        ),
    ]))
}

pub(super) fn load_material(m: &CollectedMaterial) -> Result<Material> {
    let bytes = match m.kind.as_str() {
        "CONTAINER_IMAGE" | "STRING" => m.value.clone().into_bytes(),
        _ => std::fs::read(&m.value).map_err(|e| {
            CliError::usage(format!("material {}: cannot read {}: {e}", m.name, m.value))
        })?,
    };
    let mut loaded = material::load(&m.name, &bytes, Some(&m.kind))
        .map_err(|e| CliError::usage(e.to_string()))?;
    // What was checked at `add` is what gets attested, even if the file changed since.
    if m.kind != "CONTAINER_IMAGE" && m.kind != "STRING" && loaded.sha256 != m.sha256 {
        return Err(CliError::failed(format!(
            "material {}: {} changed since it was added; add it again",
            m.name, m.value
        )));
    }
    loaded.sha256 = m.sha256.clone();
    loaded.annotations = m.annotations.clone();
    Ok(loaded)
}
