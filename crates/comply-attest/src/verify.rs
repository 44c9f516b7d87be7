//! Deciding whether an envelope was signed by someone the organization trusts.
//!
//! Two kinds of trust, tried in this order:
//! - a trusted public key that verifies any signature (cosign `--key`, `comply key`);
//! - a certificate in the envelope whose key verifies a signature and which chains,
//!   through intermediates in the envelope, to a trusted CA certificate (Chainloop's
//!   keyless signing, Sigstore).
//!
//! Certificates are checked at the signing time the caller passes, not at "now": leaf
//! certificates live ten minutes (docs/decisions/0013).

use jiff::Timestamp;

use crate::cert::Certificate;
use crate::envelope::Signed;
use crate::error::AttestError;
use crate::keys::PublicKey;

/// How far before a certificate's notBefore a signing time may lie. The caller's signing
/// time (a statement's finishedAt) is taken just before the leaf is issued, and notBefore
/// is truncated to the second, so the two routinely cross by a fraction of a second;
/// five minutes is the skew the server also grants finishedAt. Only notBefore gets it:
/// a signing time after notAfter is never honest.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// Chains longer than this are refused (Fulcio and Chainloop use two or three).
const MAX_CHAIN_LENGTH: usize = 8;

/// The keys and CA certificates an organization trusts, each with a name for messages
/// and for [`Verified`].
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub keys: Vec<(String, PublicKey)>,
    pub cas: Vec<(String, Certificate)>,
}

impl TrustStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_key(mut self, name: impl Into<String>, key: PublicKey) -> Self {
        self.keys.push((name.into(), key));
        self
    }

    pub fn with_ca(mut self, name: impl Into<String>, ca: Certificate) -> Self {
        self.cas.push((name.into(), ca));
        self
    }
}

/// What vouched for an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedBy {
    /// A trusted key, by its name in the trust store.
    Key { name: String, fingerprint: String },
    /// A trusted CA, by its name in the trust store, and the leaf it issued (directly or
    /// through intermediates).
    Certificate {
        ca: String,
        leaf_subject: String,
        leaf_issuer: String,
    },
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub by: VerifiedBy,
    /// Who signed: the key's fingerprint, or the leaf certificate's identity (first
    /// subject alternative name, else its subject).
    pub signer: String,
    /// Which of the envelope's signatures verified.
    pub signature_index: usize,
}

/// Verifies `signed` against `trust`, checking certificates at `signing_time_ms` (Unix
/// milliseconds; the statement's finishedAt).
pub fn verify(
    signed: &Signed,
    trust: &TrustStore,
    signing_time_ms: i64,
) -> Result<Verified, AttestError> {
    if signed.signatures.is_empty() {
        return Err(AttestError::Unsigned);
    }
    let message = signed.pae();

    for (name, key) in &trust.keys {
        if let Some(index) = verifying_signature(signed, key, &message) {
            return Ok(Verified {
                by: VerifiedBy::Key {
                    name: name.clone(),
                    fingerprint: key.fingerprint(),
                },
                signer: key.fingerprint(),
                signature_index: index,
            });
        }
    }

    if let Some(leaf) = signed.leaf() {
        let leaf_key = leaf.public_key()?;
        let Some(index) = verifying_signature(signed, &leaf_key, &message) else {
            return Err(AttestError::SignatureMismatch {
                signer: format!(
                    "certificate {} (issued by {})",
                    leaf.describe(),
                    leaf.issuer()
                ),
            });
        };
        let ca = verify_chain(&signed.certificates, &trust.cas, signing_time_ms)?;
        return Ok(Verified {
            by: VerifiedBy::Certificate {
                ca,
                leaf_subject: leaf.subject(),
                leaf_issuer: leaf.issuer(),
            },
            signer: leaf.identity(),
            signature_index: index,
        });
    }

    // A keyid naming a trusted key means that key was meant to verify it: say the
    // content changed rather than that the signer is unknown.
    for (name, key) in &trust.keys {
        let fingerprint = key.fingerprint();
        if signed
            .signatures
            .iter()
            .any(|s| s.keyid.as_deref() == Some(fingerprint.as_str()))
        {
            return Err(AttestError::SignatureMismatch {
                signer: format!("key {name} ({fingerprint})"),
            });
        }
    }
    Err(AttestError::NoTrustedKey {
        keyids: signed
            .signatures
            .iter()
            .filter_map(|s| s.keyid.clone())
            .collect(),
        hint: signed.public_key_hint.clone(),
        tried: trust.keys.len(),
    })
}

/// Checks the envelope's signatures against one key, whatever the trust store says:
/// the index of the first signature it verifies.
pub fn verify_with_key(signed: &Signed, key: &PublicKey) -> Result<usize, AttestError> {
    if signed.signatures.is_empty() {
        return Err(AttestError::Unsigned);
    }
    verifying_signature(signed, key, &signed.pae()).ok_or_else(|| AttestError::SignatureMismatch {
        signer: format!("key {}", key.fingerprint()),
    })
}

fn verifying_signature(signed: &Signed, key: &PublicKey, message: &[u8]) -> Option<usize> {
    signed
        .signatures
        .iter()
        .position(|signature| key.verify(message, &signature.sig))
}

/// Checks that `chain[0]` (the leaf) chains to one of `cas` through the rest of `chain`
/// at `at_ms`, and may sign attestations. Returns the trusted CA's name.
///
/// Path building and its checks are rustls-webpki's, as in sigstore-rs
/// (`EndEntityCert::verify_for_usage`): signatures, validity of every certificate on
/// the path, CA flag and path length of intermediates, name constraints, and the
/// code-signing extended key usage. A trusted CA is a trust anchor: it needs no CA flag
/// (it is trusted because the organization said so), but it must be valid at `at_ms`.
/// A trust store entry equal to the leaf trusts that leaf directly.
pub fn verify_chain(
    chain: &[Certificate],
    cas: &[(String, Certificate)],
    at_ms: i64,
) -> Result<String, AttestError> {
    use rustls_pki_types::{CertificateDer, UnixTime};
    let Some(leaf) = chain.first() else {
        return Err(AttestError::BadCertificate {
            field: "certificate chain".into(),
            reason: "empty".into(),
        });
    };
    check_validity(leaf, at_ms)?;
    if let Some(problem) = leaf.signing_usage_problem() {
        return Err(AttestError::BadCertificate {
            field: format!("signing certificate {}", leaf.describe()),
            reason: problem,
        });
    }
    if chain.len() > MAX_CHAIN_LENGTH {
        return Err(AttestError::BadCertificate {
            field: "certificate chain".into(),
            reason: format!(
                "{} certificates; at most {MAX_CHAIN_LENGTH} are accepted",
                chain.len()
            ),
        });
    }
    if let Some((name, _)) = cas.iter().find(|(_, ca)| ca == leaf) {
        return Ok(name.clone());
    }
    // The signing time may precede notBefore by the skew (see CLOCK_SKEW_MS); webpki
    // knows no skew, so such a time is moved onto notBefore.
    let time_ms = at_ms.max(leaf.not_before_ms()).max(0) as u64;
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_millis(time_ms));
    let ders: Vec<CertificateDer<'_>> = cas
        .iter()
        .map(|(_, ca)| CertificateDer::from(ca.der()))
        .collect();
    let mut anchors = Vec::new();
    let mut anchor_of = Vec::new();
    for (index, der) in ders.iter().enumerate() {
        if let Ok(anchor) = webpki::anchor_from_trusted_cert(der) {
            anchors.push(anchor);
            anchor_of.push(index);
        }
    }
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.der()))
        .collect();
    let leaf_der = CertificateDer::from(leaf.der());
    let end_entity =
        webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| AttestError::BadCertificate {
            field: format!("signing certificate {}", leaf.describe()),
            reason: webpki_reason(&e),
        })?;
    let path = end_entity
        .verify_for_usage(
            crate::keys::WEBPKI_ALGORITHMS,
            &anchors,
            &intermediates,
            time,
            // Intermediates often carry no extended key usage; when one does, it must
            // allow code signing. The leaf's own is required (checked above).
            webpki::KeyUsage::required_if_present(crate::cert::EKU_CODE_SIGNING),
            None,
            None,
        )
        .map_err(|e| chain_error(&e, leaf, chain, at_ms))?;
    let anchor = path.anchor();
    let index = anchors
        .iter()
        .position(|a| {
            a.subject == anchor.subject
                && a.subject_public_key_info == anchor.subject_public_key_info
        })
        .map(|i| anchor_of[i])
        .expect("the path ends at one of the anchors given");
    let (name, ca) = &cas[index];
    check_validity(ca, at_ms)?;
    Ok(name.clone())
}

fn chain_error(
    error: &webpki::Error,
    leaf: &Certificate,
    chain: &[Certificate],
    at_ms: i64,
) -> AttestError {
    use webpki::Error as E;
    match error {
        // A name matching a trusted CA's with another key's signature is as untrusted
        // as an unknown issuer.
        E::UnknownIssuer
        | E::EndEntityUsedAsCa
        | E::CaUsedAsEndEntity
        | E::InvalidSignatureForPublicKey => AttestError::UntrustedCertificate {
            subject: leaf.describe(),
            issuer: chain.last().unwrap_or(leaf).issuer(),
        },
        E::CertExpired { .. } | E::CertNotValidYet { .. } => {
            // Which certificate: the first on the chain not valid at the time.
            let culprit = chain
                .iter()
                .find(|c| check_validity(c, at_ms).is_err())
                .unwrap_or(leaf);
            check_validity(culprit, at_ms)
                .err()
                .unwrap_or(AttestError::CertificateNotValidAt {
                    subject: culprit.describe(),
                    not_before: rfc3339(culprit.not_before_ms()),
                    not_after: rfc3339(culprit.not_after_ms()),
                    at: rfc3339(at_ms),
                })
        }
        other => AttestError::BadCertificate {
            field: format!("certificate chain of {}", leaf.describe()),
            reason: webpki_reason(other),
        },
    }
}

/// webpki's errors in words (its Display is its Debug).
fn webpki_reason(error: &webpki::Error) -> String {
    use webpki::Error as E;
    match error {
        E::RequiredEkuNotFoundContext(_) => {
            "a certificate on the path is not for code signing (extended key usage 1.3.6.1.5.5.7.3.3)".into()
        }
        E::PathLenConstraintViolated => "an intermediate exceeds its CA's path length constraint".into(),
        E::NameConstraintViolation => "a name is outside a CA's name constraints".into(),
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a certificate is signed with an unsupported algorithm (supported: ECDSA P-256/P-384, Ed25519, RSA PKCS#1 v1.5)".into()
        }
        E::UnsupportedCriticalExtension => "a certificate has a critical extension that is not understood".into(),
        E::UnsupportedCertVersion => "a certificate is not X.509 v3".into(),
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded | E::MaximumSignatureChecksExceeded => {
            "the chain is too long or too tangled to check".into()
        }
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::MalformedExtensions | E::ExtensionValueInvalid => {
            "a certificate is malformed".into()
        }
        other => {
            let debug = format!("{other:?}");
            let variant = debug.split(['(', ' ', '{']).next().unwrap_or("error").to_owned();
            format!("the chain is not acceptable ({variant})")
        }
    }
}

fn check_validity(certificate: &Certificate, at_ms: i64) -> Result<(), AttestError> {
    let not_before = certificate.not_before_ms();
    let not_after = certificate.not_after_ms();
    if at_ms >= not_before - CLOCK_SKEW_MS && at_ms <= not_after {
        return Ok(());
    }
    Err(AttestError::CertificateNotValidAt {
        subject: certificate.describe(),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        at: rfc3339(at_ms),
    })
}

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(|_| format!("{ms} ms"), |t| t.to_string())
}
