//! Signing with comply's keys and verifying against trusted keys.

use comply_attest::{
    AttestError, KeyAlgorithm, SigningKey, TrustStore, VerifiedBy, parse_envelope, sign, verify,
    verify_with_key,
};
use serde_json::Value;

use crate::support::{b64, statement_json, unb64};

const IN_TOTO: &str = "application/vnd.in-toto+json";
const SOME_TIME: i64 = 1_780_000_000_000;

fn envelope(key: &SigningKey) -> Value {
    serde_json::from_slice(&sign(IN_TOTO, &statement_json(), key)).unwrap()
}

fn parse(value: &Value) -> comply_attest::Signed {
    parse_envelope(&serde_json::to_vec(value).unwrap()).unwrap()
}

#[test]
fn sign_then_verify_with_each_algorithm() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let signed = parse(&envelope(&key));
        assert_eq!(
            signed.signatures[0].keyid.as_deref(),
            Some(key.public().fingerprint().as_str())
        );
        let trust = TrustStore::new().with_key("ci", key.public());
        let verified = verify(&signed, &trust, SOME_TIME).unwrap();
        assert_eq!(
            verified.by,
            VerifiedBy::Key {
                name: "ci".into(),
                fingerprint: key.public().fingerprint()
            }
        );
        assert_eq!(verified.signer, key.public().fingerprint());
        assert_eq!(verified.signature_index, 0);
        assert_eq!(verify_with_key(&signed, &key.public()), Ok(0));
    }
}

#[test]
fn signing_is_deterministic() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert_eq!(
        sign(IN_TOTO, &statement_json(), &key),
        sign(IN_TOTO, &statement_json(), &key)
    );
}

#[test]
fn any_trusted_key_verifies_any_signature() {
    let signer = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut value = envelope(&signer);
    // A second signature by an untrusted key comes first; the trusted one still counts.
    let second = envelope(&other)["signatures"][0].clone();
    value["signatures"]
        .as_array_mut()
        .unwrap()
        .insert(0, second);
    let trust = TrustStore::new()
        .with_key(
            "unrelated",
            SigningKey::generate(KeyAlgorithm::Ed25519)
                .unwrap()
                .public(),
        )
        .with_key("release", signer.public());
    let verified = verify(&parse(&value), &trust, SOME_TIME).unwrap();
    assert!(matches!(verified.by, VerifiedBy::Key { ref name, .. } if name == "release"));
    assert_eq!(verified.signature_index, 1);
}

#[test]
fn tampering_one_payload_byte_is_a_mismatch() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut value = envelope(&key);
    let mut payload = unb64(value["payload"].as_str().unwrap());
    let position = payload.iter().position(|b| *b == b'v').unwrap();
    payload[position] = b'w';
    value["payload"] = b64(&payload).into();
    let trust = TrustStore::new().with_key("ci", key.public());
    let error = verify(&parse(&value), &trust, SOME_TIME).unwrap_err();
    assert!(
        matches!(&error, AttestError::SignatureMismatch { signer } if signer.contains("ci")),
        "{error}"
    );
    assert!(matches!(
        verify_with_key(&parse(&value), &key.public()),
        Err(AttestError::SignatureMismatch { .. })
    ));
}

#[test]
fn tampered_payload_type_is_a_mismatch() {
    // The PAE covers the type too: an envelope re-labelled after signing does not verify.
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let signed_as_other = sign("application/json", &statement_json(), &key);
    let mut value: Value = serde_json::from_slice(&signed_as_other).unwrap();
    value["payloadType"] = IN_TOTO.into();
    let trust = TrustStore::new().with_key("ci", key.public());
    assert!(matches!(
        verify(&parse(&value), &trust, SOME_TIME),
        Err(AttestError::SignatureMismatch { .. })
    ));
}

#[test]
fn wrong_key_is_not_trusted() {
    let signer = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let stranger = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let trust = TrustStore::new().with_key("ci", stranger.public());
    let error = verify(&parse(&envelope(&signer)), &trust, SOME_TIME).unwrap_err();
    match &error {
        AttestError::NoTrustedKey { keyids, tried, .. } => {
            assert_eq!(keyids, &[signer.public().fingerprint()]);
            assert_eq!(*tried, 1);
        }
        other => panic!("expected NoTrustedKey, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains(&signer.public().fingerprint()),
        "{message}"
    );
}

#[test]
fn empty_trust_store_cannot_verify_key_signed_envelopes() {
    let signer = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let error = verify(&parse(&envelope(&signer)), &TrustStore::new(), SOME_TIME).unwrap_err();
    assert!(matches!(error, AttestError::NoTrustedKey { tried: 0, .. }));
    assert!(
        error.to_string().contains("no trusted keys are configured"),
        "{error}"
    );
}

#[test]
fn unsigned_envelope_is_reported() {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let mut signed = parse(&envelope(&key));
    signed.signatures.clear();
    let trust = TrustStore::new().with_key("ci", key.public());
    assert_eq!(
        verify(&signed, &trust, SOME_TIME),
        Err(AttestError::Unsigned)
    );
}

#[test]
fn ecdsa_raw_r_s_signatures_verify() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut value = envelope(&key);
    let der = unb64(value["signatures"][0]["sig"].as_str().unwrap());
    let signature = p256::ecdsa::Signature::from_der(&der).unwrap();
    value["signatures"][0]["sig"] = b64(&signature.to_bytes()).into();
    let signed = parse(&value);
    assert_eq!(signed.signatures[0].sig.len(), 64);
    assert_eq!(verify_with_key(&signed, &key.public()), Ok(0));
}

#[test]
fn double_encoded_signature_verifies() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut value = envelope(&key);
    let sig = value["signatures"][0]["sig"].as_str().unwrap().to_string();
    value["signatures"][0]["sig"] = b64(sig.as_bytes()).into();
    let signed = parse(&value);
    assert!(signed.signatures[0].double_encoded());
    assert_eq!(verify_with_key(&signed, &key.public()), Ok(0));
}
