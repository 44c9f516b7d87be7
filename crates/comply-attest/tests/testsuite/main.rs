//! comply-attest's tests: hand-made envelopes, keys and certificate chains, and the real
//! attestations in `../shared/fixtures` (tests using fixtures skip when it is absent).

mod chain;
mod envelope;
mod fixtures;
mod keys;
mod properties;
mod signing;
mod statement;
mod support;
