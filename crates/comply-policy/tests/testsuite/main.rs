//! comply-policy's tests: the built-in library on hand-made inputs and on the real
//! documents in `../shared/fixtures` (tests using fixtures skip when it is absent).

mod catalog_reports;
mod catalog_scm;
mod content;
mod engine;
mod findings;
mod library;
mod properties;
mod provenance;
mod sbom;
mod support;
mod vulns;
