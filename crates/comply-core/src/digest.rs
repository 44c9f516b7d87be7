//! Content digests: `sha256:<hex>` over canonical bytes.

use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The digest of a JSON value as serde_json writes it, keys in insertion order. Only the
/// audit chain uses it: its events are hashed in the fixed order `audit` builds them in,
/// and stored chains must keep verifying.
pub fn of_json(value: &serde_json::Value) -> String {
    sha256(&serde_json::to_vec(value).expect("a JSON value always serializes"))
}

/// The digest of a JSON value in its RFC 8785 (JCS) canonical form: keys sorted by
/// UTF-16 code units, numbers and strings in one spelling. Resource digests use it, so
/// the order of fields in a Rust struct can never change a stored resource's digest.
pub fn of_canonical_json(value: &serde_json::Value) -> String {
    sha256(&serde_json_canonicalizer::to_vec(value).expect("a JSON value always canonicalizes"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn canonical_digest_ignores_key_order() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"spec": {"b": 1, "a": [true, "x"]}, "kind": "K"}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"kind": "K", "spec": {"a": [true, "x"], "b": 1.0}}"#).unwrap();
        assert_ne!(
            super::of_json(&a),
            super::of_json(&b),
            "insertion order differs"
        );
        assert_eq!(super::of_canonical_json(&a), super::of_canonical_json(&b));
        // RFC 8785's canonical bytes of this document, hashed.
        assert_eq!(
            super::of_canonical_json(&a),
            super::sha256(br#"{"kind":"K","spec":{"a":[true,"x"],"b":1}}"#)
        );
    }

    #[test]
    fn known_vector() {
        assert_eq!(
            super::sha256(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
