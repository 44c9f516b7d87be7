//! Signing statements into DSSE envelopes, for `comply attest`.
//!
//! The envelope is what ingestion reads back: `keyid` is the signer's fingerprint, so a
//! verifier holding several keys can tell which one was meant, and a changed payload is
//! reported as altered rather than as signed by an unknown key.

use serde_json::json;

use crate::encoding;
use crate::envelope::pae;
use crate::keys::SigningKey;

/// Signs `payload` as a DSSE envelope with one signature; returns the envelope's JSON.
///
/// Signing is deterministic (Ed25519; ECDSA with RFC 6979 nonces): the same payload and
/// key give the same envelope.
pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Vec<u8> {
    let signature = key.sign(&pae(payload_type, payload));
    let envelope = json!({
        "payloadType": payload_type,
        "payload": encoding::encode(payload),
        "signatures": [{
            "keyid": key.public().fingerprint(),
            "sig": encoding::encode(&signature),
        }],
    });
    serde_json::to_vec(&envelope).expect("JSON values always serialize")
}
