//! comply-core's integration tests: one binary, one module per area.

mod coverage;
mod manifests;
mod plan;
mod policies;
mod properties;
mod status;
