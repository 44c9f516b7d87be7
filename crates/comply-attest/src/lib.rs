//! Attestations as comply receives and produces them: DSSE envelopes and Sigstore
//! bundles, their signatures, the in-toto Statement inside, and Chainloop's predicate.
//!
//! The server's ingestion and the CLI's `comply attest` / `comply key` share this crate
//! so that what one writes the other reads. It is pure: no I/O, no clock (the signing
//! time to check certificates at is a parameter), no async.
//!
//! A typical ingestion:
//! 1. [`parse_envelope`] the bytes into [`Signed`]; [`Signed::digest`] identifies it;
//! 2. [`parse_statement`] its payload and decode [`Statement::chainloop_predicate`];
//! 3. [`verify`] it against the organization's [`TrustStore`] at the predicate's
//!    `finishedAt` (docs/decisions/0013).

mod cert;
mod encoding;
mod envelope;
mod error;
mod evaluations;
mod json;
mod keys;
mod predicate;
mod render;
mod sign;
mod statement;
mod verify;

pub use cert::Certificate;
pub use envelope::{
    BUNDLE_MEDIA_TYPES, Format, IN_TOTO_PAYLOAD_TYPE, Signature, Signed, pae, parse_envelope,
};
pub use error::AttestError;
pub use evaluations::{
    EvaluationsForm, Finding, FindingKind, PolicyEvaluation, PolicyEvaluationBundle,
    PolicyEvaluationsRef, PolicyReference, Violation,
};
pub use keys::{KeyAlgorithm, PublicKey, SigningKey};
pub use predicate::{
    ATTESTATION_EVALUATIONS_KEY, CHAINLOOP_BUILD_TYPE, CHAINLOOP_PREDICATE_TYPE,
    ChainloopPredicate, Material, Metadata,
};
pub use render::render_statement;
pub use sign::sign;
pub use statement::{
    ResourceDescriptor, STATEMENT_V0_1, STATEMENT_V1, Statement, StatementVersion, parse_statement,
};
pub use verify::{
    CLOCK_SKEW_MS, TrustStore, Verified, VerifiedBy, verify, verify_chain, verify_with_key,
};
