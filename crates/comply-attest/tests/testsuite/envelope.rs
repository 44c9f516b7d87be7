//! Parsing envelopes and bundles: accepted shapes, identity, and each parse error.

use comply_attest::{AttestError, Format, KeyAlgorithm, SigningKey, parse_envelope, sign};
use serde_json::{Value, json};

use crate::support::{b64, statement_json, unb64};

fn signed_envelope() -> Value {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let bytes = sign("application/vnd.in-toto+json", &statement_json(), &key);
    serde_json::from_slice(&bytes).unwrap()
}

fn bundle_of(envelope: &Value, media_type: &str) -> Value {
    json!({
        "mediaType": media_type,
        "verificationMaterial": {"publicKey": {"hint": "my-key"}},
        "dsseEnvelope": envelope,
    })
}

fn parse(value: &Value) -> Result<comply_attest::Signed, AttestError> {
    parse_envelope(&serde_json::to_vec(value).unwrap())
}

#[test]
fn dsse_envelope_is_decoded() {
    let envelope = signed_envelope();
    let signed = parse(&envelope).unwrap();
    assert_eq!(signed.format, Format::Dsse);
    assert_eq!(signed.payload_type, "application/vnd.in-toto+json");
    assert_eq!(signed.payload, statement_json());
    assert_eq!(signed.signatures.len(), 1);
    assert!(
        signed.signatures[0]
            .keyid
            .as_deref()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(!signed.signatures[0].double_encoded());
    assert!(signed.certificates.is_empty());
    assert_eq!(signed.media_type, None);
}

#[test]
fn every_bundle_media_type_is_accepted_and_shares_the_envelope_digest() {
    let envelope = signed_envelope();
    let bare = parse(&envelope).unwrap();
    for media_type in comply_attest::BUNDLE_MEDIA_TYPES {
        let signed = parse(&bundle_of(&envelope, media_type)).unwrap();
        assert_eq!(signed.format, Format::Bundle);
        assert_eq!(signed.media_type.as_deref(), Some(*media_type));
        assert_eq!(signed.public_key_hint.as_deref(), Some("my-key"));
        assert_eq!(signed.digest(), bare.digest(), "{media_type}");
    }
}

#[test]
fn digest_ignores_whitespace_key_order_and_empty_keyid() {
    let envelope = signed_envelope();
    let digest = parse(&envelope).unwrap().digest();
    assert!(digest.starts_with("sha256:") && digest.len() == 71);

    let pretty = serde_json::to_vec_pretty(&envelope).unwrap();
    assert_eq!(parse_envelope(&pretty).unwrap().digest(), digest);

    let reordered = json!({
        "signatures": envelope["signatures"],
        "payload": envelope["payload"],
        "payloadType": envelope["payloadType"],
    });
    assert_eq!(parse(&reordered).unwrap().digest(), digest);

    // Unpadded and URL-safe payload encodings decode to the same bytes.
    let payload = envelope["payload"].as_str().unwrap();
    let unpadded = payload
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    let mut variant = envelope.clone();
    variant["payload"] = unpadded.into();
    assert_eq!(parse(&variant).unwrap().digest(), digest);

    let mut without_keyid = envelope.clone();
    without_keyid["signatures"][0]["keyid"] = "".into();
    let mut keyid_absent = envelope.clone();
    keyid_absent["signatures"][0]
        .as_object_mut()
        .unwrap()
        .remove("keyid");
    assert_eq!(
        parse(&without_keyid).unwrap().digest(),
        parse(&keyid_absent).unwrap().digest()
    );
    assert_ne!(parse(&without_keyid).unwrap().digest(), digest);
}

#[test]
fn digest_changes_with_payload_and_signature() {
    let envelope = signed_envelope();
    let digest = parse(&envelope).unwrap().digest();
    let mut other_payload = envelope.clone();
    other_payload["payload"] = b64(b"{}").into();
    assert_ne!(parse(&other_payload).unwrap().digest(), digest);
}

#[test]
fn protojson_snake_case_keys_are_accepted() {
    let envelope = signed_envelope();
    let snake = json!({
        "media_type": "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "dsse_envelope": {
            "payload_type": envelope["payloadType"],
            "payload": envelope["payload"],
            "signatures": envelope["signatures"],
        }
    });
    let signed = parse(&snake).unwrap();
    assert_eq!(signed.digest(), parse(&envelope).unwrap().digest());
}

#[test]
fn double_encoded_signature_is_normalised_but_digest_keeps_it() {
    let envelope = signed_envelope();
    let sig = envelope["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    let mut double = envelope.clone();
    double["signatures"][0]["sig"] = b64(sig.as_bytes()).into();
    let single = parse(&envelope).unwrap();
    let doubled = parse(&double).unwrap();
    assert!(doubled.signatures[0].double_encoded());
    assert_eq!(doubled.signatures[0].sig, single.signatures[0].sig);
    assert_eq!(doubled.signatures[0].raw, sig.as_bytes());
    assert_ne!(doubled.digest(), single.digest());
}

#[test]
fn not_json_is_reported() {
    let error = parse_envelope(b"{\"payloadType\": ").unwrap_err();
    assert!(matches!(error, AttestError::NotJson(_)), "{error}");
    let error = parse_envelope(b"[1, 2]").unwrap_err();
    assert!(matches!(error, AttestError::NotAnEnvelope(_)), "{error}");
    let error = parse(&json!({"hello": "world"})).unwrap_err();
    assert!(error.to_string().contains("neither payloadType"), "{error}");
}

#[test]
fn bad_base64_names_the_field() {
    let mut envelope = signed_envelope();
    envelope["payload"] = "not base64!".into();
    let error = parse(&envelope).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadBase64 { field, .. } if field == "payload"),
        "{error}"
    );

    let bundle = bundle_of(&envelope, "application/vnd.dev.sigstore.bundle.v0.3+json");
    let error = parse(&bundle).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadBase64 { field, .. } if field == "dsseEnvelope.payload"),
        "{error}"
    );

    let mut bundle = bundle_of(
        &signed_envelope(),
        "application/vnd.dev.sigstore.bundle.v0.3+json",
    );
    bundle["verificationMaterial"] = json!({"certificate": {"rawBytes": "%%%"}});
    let error = parse(&bundle).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadBase64 { field, .. }
            if field == "verificationMaterial.certificate.rawBytes"),
        "{error}"
    );

    bundle["verificationMaterial"] = json!({"certificate": {"rawBytes": b64(b"not DER")}});
    let error = parse(&bundle).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadCertificate { field, .. }
            if field == "verificationMaterial.certificate.rawBytes"),
        "{error}"
    );
}

#[test]
fn wrong_payload_type_is_refused() {
    let mut envelope = signed_envelope();
    envelope["payloadType"] = "text/plain".into();
    let error = parse(&envelope).unwrap_err();
    assert_eq!(
        error,
        AttestError::WrongPayloadType {
            found: "text/plain".into()
        }
    );
    assert!(error.to_string().contains("application/vnd.in-toto+json"));
}

#[test]
fn missing_or_empty_signatures_parse_and_do_not_verify() {
    let mut envelope = signed_envelope();
    envelope["signatures"] = json!([]);
    let signed = parse(&envelope).unwrap();
    assert!(signed.signatures.is_empty());
    assert_eq!(
        comply_attest::verify(&signed, &comply_attest::TrustStore::new(), 0).unwrap_err(),
        AttestError::Unsigned
    );
    envelope.as_object_mut().unwrap().remove("signatures");
    assert!(parse(&envelope).unwrap().signatures.is_empty());
}

#[test]
fn truncated_and_undecodable_signatures_are_refused() {
    let envelope = signed_envelope();
    let sig = unb64(envelope["signatures"][0]["sig"].as_str().unwrap());

    let mut truncated = envelope.clone();
    truncated["signatures"][0]["sig"] = b64(&sig[..20]).into();
    let error = parse(&truncated).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadSignature { index: 0, reason } if reason.contains("truncated")),
        "{error}"
    );

    let mut garbage = envelope.clone();
    garbage["signatures"][0]["sig"] = "***".into();
    let error = parse(&garbage).unwrap_err();
    assert!(
        matches!(&error, AttestError::BadSignature { index: 0, reason } if reason.contains("base64")),
        "{error}"
    );

    let mut empty = envelope.clone();
    empty["signatures"][0]["sig"] = "".into();
    assert!(matches!(
        parse(&empty).unwrap_err(),
        AttestError::BadSignature { index: 0, .. }
    ));

    let mut short = envelope.clone();
    short["signatures"][0]["sig"] = b64(b"abcdefghij").into();
    let error = parse(&short).unwrap_err();
    assert!(error.to_string().contains("too short"), "{error}");
}

#[test]
fn unknown_bundle_media_type_is_refused() {
    let bundle = bundle_of(
        &signed_envelope(),
        "application/vnd.dev.sigstore.bundle+json;version=9.9",
    );
    let error = parse(&bundle).unwrap_err();
    assert!(
        matches!(&error, AttestError::UnknownBundleMediaType { found } if found.ends_with("9.9")),
        "{error}"
    );
}

#[test]
fn message_signature_bundle_is_refused() {
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "messageSignature": {"messageDigest": {}, "signature": "AAAA"},
    });
    let error = parse(&bundle).unwrap_err();
    assert!(
        matches!(error, AttestError::NotADsseBundle { .. }),
        "{error}"
    );
}

#[test]
fn pae_follows_the_dsse_spec() {
    assert_eq!(
        comply_attest::pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}
