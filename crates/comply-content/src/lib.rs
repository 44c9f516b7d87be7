//! Built-in content, embedded at build time from the workspace's `content/` directory:
//! frameworks and requirements as YAML (and, later, policies as YAML and Rego).
//!
//! Directories are only a convention for people; every YAML file may hold documents of
//! any kind, and the server validates all of it at startup exactly as it validates
//! `comply apply`.

include!(concat!(env!("OUT_DIR"), "/content.rs"));

/// The YAML files, as `(path relative to content/, text)`.
pub fn yaml_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES
        .iter()
        .copied()
        .filter(|(path, _)| path.ends_with(".yaml") || path.ends_with(".yml"))
}

/// The CISA Known Exploited Vulnerabilities catalog as CISA publishes it (JSON,
/// CC0-1.0), a snapshot taken at build time so that a fresh server has one; its source
/// and date are in docs/reference-data.md. Servers import newer ones with
/// `comply reference-data import kev FILE`.
pub const KEV_SNAPSHOT: &str =
    include_str!("../reference-data/known_exploited_vulnerabilities.json");
