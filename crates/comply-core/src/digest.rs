//! Content digests: `sha256:<hex>` over canonical bytes.

use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The digest of a JSON value in its canonical serialization. Resource documents are
/// built from typed structs whose maps are sorted, so serialization is deterministic.
pub fn of_json(value: &serde_json::Value) -> String {
    sha256(&serde_json::to_vec(value).expect("a JSON value always serializes"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vector() {
        assert_eq!(
            super::sha256(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
