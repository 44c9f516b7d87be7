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

/// Checks that `chain[0]` (the leaf) chains to one of `cas` through the rest of `chain`,
/// every certificate on the path being valid at `at_ms`. Returns the trusted CA's name.
///
/// A trusted CA needs no CA flag (it is trusted because the organization said so); an
/// intermediate from the envelope must be marked as a CA. A trust store entry equal to
/// the leaf trusts that leaf directly.
pub fn verify_chain(
    chain: &[Certificate],
    cas: &[(String, Certificate)],
    at_ms: i64,
) -> Result<String, AttestError> {
    let Some(leaf) = chain.first() else {
        return Err(AttestError::BadCertificate {
            field: "certificate chain".into(),
            reason: "empty".into(),
        });
    };
    check_validity(leaf, at_ms)?;
    if let Some((name, _)) = cas.iter().find(|(_, ca)| ca == leaf) {
        return Ok(name.clone());
    }
    let mut used = vec![false; chain.len()];
    used[0] = true;
    let mut current = leaf;
    let mut unsupported = None;
    for _ in 0..MAX_CHAIN_LENGTH {
        for (name, ca) in cas {
            if ca.subject_name() != current.issuer_name() {
                continue;
            }
            match signed_by(current, ca) {
                Ok(true) => {
                    check_validity(ca, at_ms)?;
                    return Ok(name.clone());
                }
                Ok(false) => {}
                Err(error) => unsupported = Some(error),
            }
        }
        let next = chain.iter().enumerate().find(|(index, candidate)| {
            !used[*index]
                && candidate.subject_name() == current.issuer_name()
                && candidate.is_ca()
                && signed_by(current, candidate).unwrap_or(false)
        });
        let Some((index, intermediate)) = next else {
            break;
        };
        check_validity(intermediate, at_ms)?;
        used[index] = true;
        current = intermediate;
    }
    if let Some(error) = unsupported {
        return Err(error);
    }
    Err(AttestError::UntrustedCertificate {
        subject: leaf.describe(),
        issuer: current.issuer(),
    })
}

fn signed_by(certificate: &Certificate, issuer: &Certificate) -> Result<bool, AttestError> {
    certificate.is_signed_by(&issuer.public_key()?)
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
