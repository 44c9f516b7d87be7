//! Products (`docs/spec/cli.md`, "Product document"): projects, versions with the
//! frameworks they are judged against, optional project-version pins, and
//! applicability decisions.

use super::Metadata;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub metadata: Metadata,
    pub spec: ProductSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<ProductVersion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applicability: Vec<Applicability>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductVersion {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<String>,
    /// Pinned project versions; unpinned projects resolve to their latest version.
    #[serde(
        rename = "projectVersions",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub project_versions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicability {
    pub requirement: String,
    /// None: the whole product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub applicable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

impl Product {
    pub fn version(&self, name: &str) -> Option<&ProductVersion> {
        self.spec.versions.iter().find(|v| v.name == name)
    }

    /// The version listed last: the one a query means when it names none.
    pub fn latest_version(&self) -> Option<&ProductVersion> {
        self.spec.versions.last()
    }
}
