//! DSSE envelopes and the Sigstore bundles that carry them.
//!
//! Both arrive at ingestion: Chainloop pushes Sigstore bundles (v0.3), older Chainloop
//! runs and cosign produce bare DSSE envelopes, and protobuf JSON writers spell keys
//! either `payloadType` or `payload_type`. Everything is decoded here once, so that
//! verification and statement parsing work on bytes, never on base64 text.
//!
//! Two envelope details matter for identity and verification:
//! - `Signed::digest` hashes a canonical DSSE envelope, so a bundle and its bare envelope,
//!   or the same envelope with different JSON whitespace or key order, are one thing.
//! - Some Chainloop signers base64-encode the base64 text of the DER signature. The
//!   double encoding is undone here (see `decode_signature`), and `Signature::raw` keeps
//!   what the `sig` field decoded to, which is what the digest covers.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::cert::Certificate;
use crate::encoding;
use crate::error::AttestError;

/// The only payload type an attestation may have.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The Sigstore bundle media types accepted (v0.1 to v0.3).
pub const BUNDLE_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// How the envelope was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A bare DSSE envelope.
    Dsse,
    /// A Sigstore bundle whose content is a DSSE envelope.
    Bundle,
}

/// One DSSE signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The `keyid`, if not empty.
    pub keyid: Option<String>,
    /// The signature itself (DER or raw), double encoding undone.
    pub sig: Vec<u8>,
    /// What the `sig` field decoded to: equal to `sig` unless it was double-encoded.
    pub raw: Vec<u8>,
}

impl Signature {
    pub fn double_encoded(&self) -> bool {
        self.sig != self.raw
    }
}

/// A decoded envelope: what was signed, the signatures, and any key material the
/// envelope carries to verify them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub format: Format,
    /// The bundle's `mediaType`, for bundles.
    pub media_type: Option<String>,
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
    /// The certificate chain, leaf first: the bundle's `certificate` or
    /// `x509CertificateChain`, else a `cert` PEM on the first DSSE signature that has one.
    pub certificates: Vec<Certificate>,
    /// The bundle's `verificationMaterial.publicKey.hint`.
    pub public_key_hint: Option<String>,
}

impl Signed {
    /// The signed message: DSSE's pre-authentication encoding of type and payload.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// The canonical DSSE envelope: `{"payload","payloadType","signatures":[{"keyid",
    /// "sig"}]}` without whitespace, keys sorted, base64 re-encoded with the standard
    /// alphabet and padding, `keyid` left out when empty, signatures in received order
    /// and as received (a double-encoded signature stays double-encoded).
    pub fn envelope_json(&self) -> Vec<u8> {
        let signatures: Vec<Value> = self
            .signatures
            .iter()
            .map(|signature| {
                let mut object = Map::new();
                if let Some(keyid) = &signature.keyid {
                    object.insert("keyid".into(), Value::String(keyid.clone()));
                }
                object.insert(
                    "sig".into(),
                    Value::String(encoding::encode(&signature.raw)),
                );
                Value::Object(object)
            })
            .collect();
        let mut envelope = Map::new();
        envelope.insert(
            "payload".into(),
            Value::String(encoding::encode(&self.payload)),
        );
        envelope.insert(
            "payloadType".into(),
            Value::String(self.payload_type.clone()),
        );
        envelope.insert("signatures".into(), Value::Array(signatures));
        serde_json::to_vec(&Value::Object(envelope)).expect("JSON values always serialize")
    }

    /// `sha256:<hex>` of [`Signed::envelope_json`]: the identity of an attestation.
    pub fn digest(&self) -> String {
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(self.envelope_json()))
        )
    }

    /// The leaf certificate, when the envelope carries one.
    pub fn leaf(&self) -> Option<&Certificate> {
        self.certificates.first()
    }
}

/// DSSE's pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP
/// body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    message.extend_from_slice(format!("DSSEv1 {} ", payload_type.len()).as_bytes());
    message.extend_from_slice(payload_type.as_bytes());
    message.extend_from_slice(format!(" {} ", payload.len()).as_bytes());
    message.extend_from_slice(payload);
    message
}

/// Decodes a DSSE envelope or a Sigstore bundle (v0.1–v0.3) holding a DSSE envelope.
pub fn parse_envelope(bytes: &[u8]) -> Result<Signed, AttestError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| AttestError::NotJson(e.to_string()))?;
    let Value::Object(object) = &value else {
        return Err(AttestError::NotAnEnvelope("expected a JSON object".into()));
    };
    if let Some(media_type) = field(object, &["mediaType", "media_type"]) {
        parse_bundle(object, media_type)
    } else if field(object, &["payloadType", "payload_type"]).is_some()
        || object.contains_key("payload")
    {
        parse_dsse(object, "", Format::Dsse)
    } else if field(object, &["_type", "predicateType", "predicate_type"]).is_some() {
        Err(AttestError::NotAnEnvelope(
            "this is an unsigned in-toto statement: sign it into a DSSE envelope first".into(),
        ))
    } else {
        Err(AttestError::NotAnEnvelope(
            "found neither payloadType and payload (DSSE envelope) nor mediaType (Sigstore \
             bundle)"
                .into(),
        ))
    }
}

fn parse_bundle(object: &Map<String, Value>, media_type: &Value) -> Result<Signed, AttestError> {
    let media_type = media_type.as_str().unwrap_or_default();
    if !BUNDLE_MEDIA_TYPES.contains(&media_type) {
        return Err(AttestError::UnknownBundleMediaType {
            found: media_type.to_string(),
        });
    }
    let Some(Value::Object(dsse)) = field(object, &["dsseEnvelope", "dsse_envelope"]) else {
        if field(object, &["messageSignature", "message_signature"]).is_some() {
            return Err(AttestError::NotADsseBundle {
                found: "messageSignature".into(),
            });
        }
        return Err(AttestError::NotAnEnvelope(
            "the Sigstore bundle has no dsseEnvelope".into(),
        ));
    };
    let mut signed = parse_dsse(dsse, "dsseEnvelope.", Format::Bundle)?;
    signed.media_type = Some(media_type.to_string());

    let Some(Value::Object(material)) =
        field(object, &["verificationMaterial", "verification_material"])
    else {
        return Ok(signed);
    };
    let mut chain = Vec::new();
    if let Some(Value::Object(leaf)) = field(material, &["certificate"]) {
        let path = "verificationMaterial.certificate.rawBytes";
        chain.push(certificate(raw_bytes(leaf, path)?, path)?);
    } else if let Some(Value::Object(x509)) = field(
        material,
        &["x509CertificateChain", "x509_certificate_chain"],
    ) {
        let list = field(x509, &["certificates"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (index, entry) in list.iter().enumerate() {
            let path = format!("verificationMaterial.x509CertificateChain.certificates[{index}]");
            let Value::Object(entry) = entry else {
                return Err(AttestError::BadCertificate {
                    field: path,
                    reason: "expected an object with rawBytes".into(),
                });
            };
            let path = format!("{path}.rawBytes");
            chain.push(certificate(raw_bytes(entry, &path)?, &path)?);
        }
    }
    if !chain.is_empty() {
        signed.certificates = chain;
    }
    if let Some(Value::Object(key)) = field(material, &["publicKey", "public_key"]) {
        signed.public_key_hint = field(key, &["hint"])
            .and_then(Value::as_str)
            .filter(|hint| !hint.is_empty())
            .map(str::to_string);
    }
    Ok(signed)
}

fn parse_dsse(
    object: &Map<String, Value>,
    prefix: &str,
    format: Format,
) -> Result<Signed, AttestError> {
    let payload_type = match field(object, &["payloadType", "payload_type"]) {
        Some(Value::String(payload_type)) => payload_type.clone(),
        Some(_) => {
            return Err(AttestError::NotAnEnvelope(format!(
                "{prefix}payloadType is not a string"
            )));
        }
        None => {
            return Err(AttestError::NotAnEnvelope(format!(
                "{prefix}payloadType is missing"
            )));
        }
    };
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(AttestError::WrongPayloadType {
            found: payload_type,
        });
    }
    let payload = match field(object, &["payload"]) {
        Some(Value::String(text)) => {
            encoding::decode(text).map_err(|detail| AttestError::BadBase64 {
                field: format!("{prefix}payload"),
                detail,
            })?
        }
        Some(_) => {
            return Err(AttestError::NotAnEnvelope(format!(
                "{prefix}payload is not a string"
            )));
        }
        None => {
            return Err(AttestError::NotAnEnvelope(format!(
                "{prefix}payload is missing"
            )));
        }
    };
    // An unsigned envelope parses; `verify` refuses it unless the caller accepts
    // unsigned attestations (an org setting), so the decision stays with the caller.
    let no_signatures = Vec::new();
    let entries = match field(object, &["signatures"]) {
        Some(Value::Array(entries)) => entries,
        Some(Value::Null) | None => &no_signatures,
        Some(_) => {
            return Err(AttestError::NotAnEnvelope(format!(
                "{prefix}signatures is not an array"
            )));
        }
    };
    let mut signatures = Vec::with_capacity(entries.len());
    let mut certificates = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let bad = |reason: &str| AttestError::BadSignature {
            index,
            reason: reason.to_string(),
        };
        let Value::Object(entry) = entry else {
            return Err(bad("expected an object with sig and keyid"));
        };
        let encoded = match field(entry, &["sig"]) {
            Some(Value::String(encoded)) => encoded,
            Some(_) => return Err(bad("sig is not a string")),
            None => return Err(bad("sig is missing")),
        };
        let (sig, raw) = decode_signature(encoded).map_err(|reason| bad(&reason))?;
        let keyid = field(entry, &["keyid"])
            .and_then(Value::as_str)
            .filter(|keyid| !keyid.is_empty())
            .map(str::to_string);
        // slsa-github-generator puts the signing certificate next to the signature.
        if certificates.is_empty()
            && let Some(Value::String(pem)) = field(entry, &["cert"])
            && !pem.is_empty()
        {
            certificates = Certificate::from_pem_chain(pem).map_err(|e| match e {
                AttestError::BadCertificate { reason, .. } => AttestError::BadCertificate {
                    field: format!("{prefix}signatures[{index}].cert"),
                    reason,
                },
                other => other,
            })?;
        }
        signatures.push(Signature { keyid, sig, raw });
    }
    Ok(Signed {
        format,
        media_type: None,
        payload_type,
        payload,
        signatures,
        certificates,
        public_key_hint: None,
    })
}

/// Decodes a `sig` field into (signature, what the field decoded to).
///
/// A signature is double-encoded when its first decoding is itself base64 text that
/// decodes to a complete DER SEQUENCE or to a raw 64- or 96-byte signature. A DER ECDSA
/// signature is never mistaken for text, because its INTEGER tags (0x02) are not base64
/// characters, and a raw signature made only of base64 characters has a probability of
/// about 4^-64.
///
/// A signature shorter than 64 bytes cannot be Ed25519, raw ECDSA or a DER ECDSA
/// signature of a supported curve, so it is reported as truncated here rather than as
/// a mismatch at verification.
fn decode_signature(encoded: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    if encoded.is_empty() {
        return Err("sig is empty".into());
    }
    let raw = encoding::decode(encoded).map_err(|e| {
        format!("sig is not valid base64 ({e}); the signature may have been truncated")
    })?;
    if encoding::looks_like_text(&raw)
        && let Ok(text) = std::str::from_utf8(&raw)
        && let Ok(inner) = encoding::decode(text)
        && (der_sequence_complete(&inner) == Some(true) || matches!(inner.len(), 64 | 96))
    {
        return Ok((inner, raw));
    }
    if raw.len() < 64 {
        return Err(match der_sequence_complete(&raw) {
            Some(false) => format!(
                "the DER signature is truncated: {} bytes where its header declares more",
                raw.len()
            ),
            _ => format!("{} bytes is too short to be a signature", raw.len()),
        });
    }
    Ok((raw.clone(), raw))
}

/// For bytes starting with a DER SEQUENCE header: whether the content is all there.
fn der_sequence_complete(bytes: &[u8]) -> Option<bool> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let first = *bytes.get(1)?;
    let (header, length) = if first < 0x80 {
        (2, first as usize)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 {
            return None;
        }
        let length_bytes = bytes.get(2..2 + count)?;
        let length = length_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (2 + count, length)
    };
    Some(bytes.len() == header + length)
}

fn raw_bytes<'a>(object: &'a Map<String, Value>, path: &str) -> Result<&'a str, AttestError> {
    field(object, &["rawBytes", "raw_bytes"])
        .and_then(Value::as_str)
        .ok_or_else(|| AttestError::BadCertificate {
            field: path.to_string(),
            reason: "missing".into(),
        })
}

fn certificate(encoded: &str, path: &str) -> Result<Certificate, AttestError> {
    let der = encoding::decode(encoded).map_err(|detail| AttestError::BadBase64 {
        field: path.to_string(),
        detail,
    })?;
    Certificate::from_der(&der).map_err(|e| match e {
        AttestError::BadCertificate { reason, .. } => AttestError::BadCertificate {
            field: path.to_string(),
            reason,
        },
        other => other,
    })
}

/// The first of `names` present in `object` (protobuf JSON accepts both spellings).
fn field<'a>(object: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|name| object.get(*name))
}
