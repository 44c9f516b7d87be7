//! The one error type of this crate.
//!
//! Every message names what was wrong and where (a JSON field, a signature index, a
//! certificate subject), because the person reading it is usually looking at a CI log
//! and needs to know which file or key to fix.

use thiserror::Error;

/// Why an attestation could not be parsed, verified or decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AttestError {
    #[error("not JSON: {0}")]
    NotJson(String),

    #[error("not a DSSE envelope or a Sigstore bundle: {0}")]
    NotAnEnvelope(String),

    #[error(
        "unknown Sigstore bundle media type {found:?}: expected \
         application/vnd.dev.sigstore.bundle+json;version=0.1, 0.2 or 0.3 \
         (or application/vnd.dev.sigstore.bundle.v0.3+json)"
    )]
    UnknownBundleMediaType { found: String },

    #[error(
        "the Sigstore bundle carries a {found} instead of a dsseEnvelope: only DSSE \
         attestations are accepted"
    )]
    NotADsseBundle { found: String },

    #[error("{field} is not valid base64: {detail}")]
    BadBase64 { field: String, detail: String },

    #[error(
        "payloadType is {found:?}: an attestation must have payloadType \
         \"application/vnd.in-toto+json\""
    )]
    WrongPayloadType { found: String },

    #[error("signature {index} cannot be decoded: {reason}")]
    BadSignature { index: usize, reason: String },

    #[error("{field} is not a usable X.509 certificate: {reason}")]
    BadCertificate { field: String, reason: String },

    #[error("not a usable key: {0}")]
    BadKey(String),

    #[error("the system random number generator failed: {0}")]
    NoRandomness(String),

    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),

    #[error(
        "the signature does not match the payload for signer {signer}: the envelope was \
         altered after signing, or signed with another key"
    )]
    SignatureMismatch { signer: String },

    #[error("{}", no_trusted_key(keyids, hint.as_deref(), *tried))]
    NoTrustedKey {
        /// Key ids the signatures name (often empty: cosign leaves them blank).
        keyids: Vec<String>,
        /// The bundle's `verificationMaterial.publicKey.hint`, if any.
        hint: Option<String>,
        /// How many trusted keys were tried.
        tried: usize,
    },

    #[error(
        "certificate {subject} (issued by {issuer}) does not chain to a trusted CA: add the \
         issuing CA certificate to the trust store"
    )]
    UntrustedCertificate { subject: String, issuer: String },

    #[error(
        "certificate {subject} was not valid at signing time {at}: it is valid from \
         {not_before} to {not_after}"
    )]
    CertificateNotValidAt {
        subject: String,
        not_before: String,
        not_after: String,
        at: String,
    },

    #[error("the envelope carries no signature to verify")]
    Unsigned,

    #[error("the payload is not an in-toto statement: {0}")]
    NotAStatement(String),

    #[error(
        "unknown in-toto statement type {found:?}: expected https://in-toto.io/Statement/v1 \
         or https://in-toto.io/Statement/v0.1"
    )]
    UnknownStatementType { found: String },

    #[error(
        "unknown predicate type {found:?}: only chainloop.dev/attestation/v0.2 attestations \
         are accepted"
    )]
    UnknownPredicateType { found: String },

    #[error("invalid {path}: {reason}")]
    InvalidPredicate { path: String, reason: String },

    #[error("digest mismatch: expected {expected}, but the content has {actual}")]
    DigestMismatch { expected: String, actual: String },
}

fn no_trusted_key(keyids: &[String], hint: Option<&str>, tried: usize) -> String {
    let mut message = if tried == 0 {
        "the envelope carries no certificate and no trusted keys are configured, so it \
         cannot be verified"
            .to_string()
    } else {
        format!(
            "the envelope carries no certificate and none of the {tried} trusted key(s) \
             verifies its signature"
        )
    };
    if !keyids.is_empty() {
        message.push_str(&format!(" (signed by key id {})", keyids.join(", ")));
    }
    if let Some(hint) = hint {
        message.push_str(&format!(" (public key hint {hint:?})"));
    }
    if tried > 0 {
        message.push_str(": add the signer's public key to the trust store");
    }
    message
}
