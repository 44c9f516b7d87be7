//! Certificate-based verification against a CA chain minted for the test: root →
//! intermediate → 10-minute leaf, like Chainloop's keyless signing.

use std::str::FromStr;
use std::time::Duration;

use comply_attest::{
    AttestError, Certificate, KeyAlgorithm, SigningKey, TrustStore, VerifiedBy, parse_envelope,
    sign, verify, verify_chain,
};
use p256::ecdsa::DerSignature;
use serde_json::{Value, json};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::UtcTime;
use x509_cert::der::{Decode, Encode};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use crate::support::{b64, statement_json};

/// When the leaf is issued (2026-08-01T10:00:00Z).
const T0: u64 = 1_785_578_400_000;
const MINUTE: u64 = 60_000;
const DAY: u64 = 24 * 60 * MINUTE;

fn validity(from_ms: u64, to_ms: u64) -> Validity {
    let time =
        |ms: u64| Time::UtcTime(UtcTime::from_unix_duration(Duration::from_millis(ms)).unwrap());
    Validity {
        not_before: time(from_ms),
        not_after: time(to_ms),
    }
}

fn spki_of(key: &p256::ecdsa::SigningKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap()
}

/// Leaves are for code signing, as Fulcio's and Chainloop's are.
fn build(
    profile: Profile,
    serial: u32,
    validity: Validity,
    subject: &str,
    spki: SubjectPublicKeyInfoOwned,
    issuer_key: &p256::ecdsa::SigningKey,
) -> Certificate {
    let usage = matches!(profile, Profile::Leaf { .. }).then(|| vec![CODE_SIGNING]);
    build_with_eku(profile, serial, validity, subject, spki, issuer_key, usage)
}

const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

fn build_with_eku(
    profile: Profile,
    serial: u32,
    validity: Validity,
    subject: &str,
    spki: SubjectPublicKeyInfoOwned,
    issuer_key: &p256::ecdsa::SigningKey,
    usage: Option<Vec<&str>>,
) -> Certificate {
    let mut builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity,
        Name::from_str(subject).unwrap(),
        spki,
        issuer_key,
    )
    .unwrap();
    if let Some(oids) = usage {
        builder
            .add_extension(&x509_cert::ext::pkix::ExtendedKeyUsage(
                oids.into_iter()
                    .map(x509_cert::der::asn1::ObjectIdentifier::new_unwrap)
                    .collect(),
            ))
            .unwrap();
    }
    let certificate = builder.build::<DerSignature>().unwrap();
    Certificate::from_der(&certificate.to_der().unwrap()).unwrap()
}

fn p256_key() -> p256::ecdsa::SigningKey {
    let pem = SigningKey::generate(KeyAlgorithm::EcdsaP256)
        .unwrap()
        .to_pem();
    use p256::pkcs8::DecodePrivateKey;
    p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap()
}

struct Pki {
    root: Certificate,
    intermediate: Certificate,
    leaf: Certificate,
    signer: SigningKey,
}

const ROOT: &str = "CN=Test Root,O=comply";
const INTERMEDIATE: &str = "CN=Test Intermediate,O=comply";
const LEAF: &str = "O=18c3f782-4936-4630-ab8d-20b511366699";

fn pki_with_root_validity(root_from: u64, root_to: u64) -> Pki {
    let root_key = p256_key();
    let root = build(
        Profile::Root,
        1,
        validity(root_from, root_to),
        ROOT,
        spki_of(&root_key),
        &root_key,
    );
    let intermediate_key = p256_key();
    let intermediate = build(
        Profile::SubCA {
            issuer: Name::from_str(ROOT).unwrap(),
            path_len_constraint: Some(0),
        },
        2,
        validity(T0 - 30 * DAY, T0 + 30 * DAY),
        INTERMEDIATE,
        spki_of(&intermediate_key),
        &root_key,
    );
    let signer = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf_spki = SubjectPublicKeyInfoOwned::from_der(signer.public().spki_der()).unwrap();
    let leaf = build(
        Profile::Leaf {
            issuer: Name::from_str(INTERMEDIATE).unwrap(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        3,
        validity(T0, T0 + 10 * MINUTE),
        LEAF,
        leaf_spki,
        &intermediate_key,
    );
    Pki {
        root,
        intermediate,
        leaf,
        signer,
    }
}

fn pki() -> Pki {
    pki_with_root_validity(T0 - 365 * DAY, T0 + 365 * DAY)
}

/// A v0.2 bundle with the leaf and the given intermediates.
fn bundle(signer: &SigningKey, chain: &[&Certificate]) -> comply_attest::Signed {
    let envelope: Value = serde_json::from_slice(&sign(
        "application/vnd.in-toto+json",
        &statement_json(),
        signer,
    ))
    .unwrap();
    let certificates: Vec<Value> = chain
        .iter()
        .map(|c| json!({"rawBytes": b64(c.der())}))
        .collect();
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "verificationMaterial": {"x509CertificateChain": {"certificates": certificates}},
        "dsseEnvelope": envelope,
    });
    parse_envelope(&serde_json::to_vec(&bundle).unwrap()).unwrap()
}

fn at(ms: u64) -> i64 {
    ms as i64
}

#[test]
fn leaf_chains_through_the_bundle_intermediate_to_the_trusted_root() {
    let pki = pki();
    let signed = bundle(&pki.signer, &[&pki.leaf, &pki.intermediate]);
    assert_eq!(signed.certificates.len(), 2);
    let trust = TrustStore::new().with_ca("comply-root", pki.root.clone());
    let verified = verify(&signed, &trust, at(T0 + 5 * MINUTE)).unwrap();
    assert_eq!(
        verified.by,
        VerifiedBy::Certificate {
            ca: "comply-root".into(),
            leaf_subject: LEAF.into(),
            leaf_issuer: "CN=Test Intermediate,O=comply".into(),
        }
    );
    assert_eq!(verified.signer, LEAF);
}

#[test]
fn trusting_the_intermediate_is_enough() {
    let pki = pki();
    let signed = bundle(&pki.signer, &[&pki.leaf]);
    let trust = TrustStore::new().with_ca("issuing", pki.intermediate.clone());
    let verified = verify(&signed, &trust, at(T0 + MINUTE)).unwrap();
    assert!(matches!(verified.by, VerifiedBy::Certificate { ref ca, .. } if ca == "issuing"));
}

#[test]
fn missing_intermediate_means_untrusted() {
    let pki = pki();
    let signed = bundle(&pki.signer, &[&pki.leaf]);
    let trust = TrustStore::new().with_ca("comply-root", pki.root.clone());
    let error = verify(&signed, &trust, at(T0 + MINUTE)).unwrap_err();
    assert_eq!(
        error,
        AttestError::UntrustedCertificate {
            subject: LEAF.into(),
            issuer: "CN=Test Intermediate,O=comply".into(),
        }
    );
}

#[test]
fn another_ca_is_not_trusted() {
    let pki = pki();
    let other = pki_with_root_validity(T0 - DAY, T0 + DAY);
    let signed = bundle(&pki.signer, &[&pki.leaf, &pki.intermediate]);
    // Same names, different keys: names alone must not be enough.
    let trust = TrustStore::new().with_ca("impostor", other.root.clone());
    let error = verify(&signed, &trust, at(T0 + MINUTE)).unwrap_err();
    assert!(
        matches!(error, AttestError::UntrustedCertificate { .. }),
        "{error}"
    );
    assert!(error.to_string().contains(LEAF), "{error}");
}

#[test]
fn certificates_are_checked_at_signing_time() {
    let pki = pki();
    let signed = bundle(&pki.signer, &[&pki.leaf, &pki.intermediate]);
    let trust = TrustStore::new().with_ca("root", pki.root.clone());

    assert!(verify(&signed, &trust, at(T0 + 10 * MINUTE)).is_ok());
    // The statement's finishedAt may precede issuance by a little (clock skew).
    assert!(verify(&signed, &trust, at(T0 - MINUTE)).is_ok());

    let error = verify(&signed, &trust, at(T0 + 10 * MINUTE + 1000)).unwrap_err();
    match &error {
        AttestError::CertificateNotValidAt {
            subject,
            not_before,
            not_after,
            at,
        } => {
            assert_eq!(subject, LEAF);
            assert_eq!(not_before, "2026-08-01T10:00:00Z");
            assert_eq!(not_after, "2026-08-01T10:10:00Z");
            assert_eq!(at, "2026-08-01T10:10:01Z");
        }
        other => panic!("expected CertificateNotValidAt, got {other:?}"),
    }
    assert!(matches!(
        verify(&signed, &trust, at(T0 - 6 * MINUTE)),
        Err(AttestError::CertificateNotValidAt { .. })
    ));
}

#[test]
fn an_expired_trusted_ca_does_not_vouch() {
    let pki = pki_with_root_validity(T0 - 365 * DAY, T0 - DAY);
    let signed = bundle(&pki.signer, &[&pki.leaf, &pki.intermediate]);
    let trust = TrustStore::new().with_ca("old-root", pki.root.clone());
    let error = verify(&signed, &trust, at(T0 + MINUTE)).unwrap_err();
    assert!(
        matches!(&error, AttestError::CertificateNotValidAt { subject, .. } if subject == ROOT),
        "{error}"
    );
}

#[test]
fn a_leaf_cannot_act_as_intermediate() {
    let pki = pki();
    // A leaf (no CA flag) issuing another certificate: must not be accepted as a link.
    let fake_intermediate_key = p256_key();
    let fake_intermediate = build(
        Profile::Leaf {
            issuer: Name::from_str(ROOT).unwrap(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        9,
        validity(T0 - DAY, T0 + DAY),
        "CN=Not A CA",
        spki_of(&fake_intermediate_key),
        &p256_key(),
    );
    let signer = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf = build(
        Profile::Leaf {
            issuer: Name::from_str("CN=Not A CA").unwrap(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        10,
        validity(T0, T0 + 10 * MINUTE),
        LEAF,
        SubjectPublicKeyInfoOwned::from_der(signer.public().spki_der()).unwrap(),
        &fake_intermediate_key,
    );
    let trust = TrustStore::new().with_ca("root", pki.root.clone());
    let signed = bundle(&signer, &[&leaf, &fake_intermediate]);
    assert!(matches!(
        verify(&signed, &trust, at(T0 + MINUTE)),
        Err(AttestError::UntrustedCertificate { .. })
    ));
}

#[test]
fn leaf_key_must_match_the_signature() {
    let pki = pki();
    let stranger = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let signed = bundle(&stranger, &[&pki.leaf, &pki.intermediate]);
    let trust = TrustStore::new().with_ca("root", pki.root.clone());
    let error = verify(&signed, &trust, at(T0 + MINUTE)).unwrap_err();
    assert!(
        matches!(&error, AttestError::SignatureMismatch { signer } if signer.contains(LEAF)),
        "{error}"
    );
}

#[test]
fn a_trusted_key_equal_to_the_leaf_key_verifies_without_the_chain() {
    let pki = pki();
    let signed = bundle(&pki.signer, &[&pki.leaf]);
    let trust = TrustStore::new().with_key("pinned", pki.signer.public());
    let verified = verify(&signed, &trust, at(T0 + 365 * DAY)).unwrap();
    assert!(matches!(verified.by, VerifiedBy::Key { .. }));
}

#[test]
fn verify_chain_alone() {
    let pki = pki();
    let cas = vec![("root".to_string(), pki.root.clone())];
    assert_eq!(
        verify_chain(&[pki.leaf.clone(), pki.intermediate.clone()], &cas, at(T0)),
        Ok("root".to_string())
    );
    // A trust store entry equal to the leaf trusts it directly.
    let pinned = vec![("pinned-leaf".to_string(), pki.leaf.clone())];
    assert_eq!(
        verify_chain(std::slice::from_ref(&pki.leaf), &pinned, at(T0)),
        Ok("pinned-leaf".to_string())
    );
}

#[test]
fn certificates_roundtrip_through_pem() {
    let pki = pki();
    let pem = format!("{}{}", pki.leaf.to_pem(), pki.intermediate.to_pem());
    let chain = Certificate::from_pem_chain(&pem).unwrap();
    assert_eq!(chain, vec![pki.leaf.clone(), pki.intermediate.clone()]);
    assert_eq!(Certificate::from_pem(&pem).unwrap(), pki.leaf);
    assert!(pki.intermediate.is_ca());
    assert!(!pki.leaf.is_ca());
    assert_eq!(
        pki.leaf.not_after_ms() - pki.leaf.not_before_ms(),
        10 * MINUTE as i64
    );
}

/// Issue #15, defect 9: chains were checked for CA flag and validity only.
#[test]
fn a_leaf_not_for_code_signing_is_refused_with_a_reason() {
    // `pki()` does not expose the intermediate's key; this chain is minted by hand.
    let root_key = p256_key();
    let root = build(
        Profile::Root,
        1,
        validity(T0 - DAY, T0 + DAY),
        ROOT,
        spki_of(&root_key),
        &root_key,
    );
    let intermediate_key = p256_key();
    let intermediate = build(
        Profile::SubCA {
            issuer: Name::from_str(ROOT).unwrap(),
            path_len_constraint: Some(0),
        },
        2,
        validity(T0 - DAY, T0 + DAY),
        INTERMEDIATE,
        spki_of(&intermediate_key),
        &root_key,
    );
    let trust_own = TrustStore::new().with_ca("own-root", root.clone());
    for (usage, expected) in [
        (None, "no extended key usage"),
        (Some(vec![SERVER_AUTH]), "not for code signing"),
    ] {
        let signer = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = build_with_eku(
            Profile::Leaf {
                issuer: Name::from_str(INTERMEDIATE).unwrap(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            3,
            validity(T0, T0 + 10 * MINUTE),
            LEAF,
            SubjectPublicKeyInfoOwned::from_der(signer.public().spki_der()).unwrap(),
            &intermediate_key,
            usage,
        );
        let signed = bundle(&signer, &[&leaf, &intermediate]);
        let error = verify(&signed, &trust_own, at(T0 + MINUTE)).unwrap_err();
        assert!(
            matches!(&error, AttestError::BadCertificate { reason, .. } if reason.contains(expected)),
            "{error}"
        );
        assert!(error.to_string().contains("1.3.6.1.5.5.7.3.3"), "{error}");
    }
    // The same chain with a code-signing leaf verifies: the refusal is the usage alone.
    let signer = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf = build(
        Profile::Leaf {
            issuer: Name::from_str(INTERMEDIATE).unwrap(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        3,
        validity(T0, T0 + 10 * MINUTE),
        LEAF,
        SubjectPublicKeyInfoOwned::from_der(signer.public().spki_der()).unwrap(),
        &intermediate_key,
    );
    assert!(
        verify(
            &bundle(&signer, &[&leaf, &intermediate]),
            &trust_own,
            at(T0 + MINUTE)
        )
        .is_ok()
    );
}

/// Path length: an intermediate with pathLen 0 cannot issue another CA.
#[test]
fn path_length_constraints_hold() {
    let root_key = p256_key();
    let root = build(
        Profile::Root,
        1,
        validity(T0 - DAY, T0 + DAY),
        ROOT,
        spki_of(&root_key),
        &root_key,
    );
    let first_key = p256_key();
    let first = build(
        Profile::SubCA {
            issuer: Name::from_str(ROOT).unwrap(),
            path_len_constraint: Some(0),
        },
        2,
        validity(T0 - DAY, T0 + DAY),
        INTERMEDIATE,
        spki_of(&first_key),
        &root_key,
    );
    let second_key = p256_key();
    let second = build(
        Profile::SubCA {
            issuer: Name::from_str(INTERMEDIATE).unwrap(),
            path_len_constraint: None,
        },
        3,
        validity(T0 - DAY, T0 + DAY),
        "CN=Second Intermediate,O=comply",
        spki_of(&second_key),
        &first_key,
    );
    let signer = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let leaf = build(
        Profile::Leaf {
            issuer: Name::from_str("CN=Second Intermediate,O=comply").unwrap(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        4,
        validity(T0, T0 + 10 * MINUTE),
        LEAF,
        SubjectPublicKeyInfoOwned::from_der(signer.public().spki_der()).unwrap(),
        &second_key,
    );
    let trust = TrustStore::new().with_ca("root", root);
    let error = verify(
        &bundle(&signer, &[&leaf, &second, &first]),
        &trust,
        at(T0 + MINUTE),
    )
    .unwrap_err();
    assert!(
        matches!(&error, AttestError::BadCertificate { reason, .. } if reason.contains("path length"))
            || matches!(&error, AttestError::UntrustedCertificate { .. }),
        "{error}"
    );
}
