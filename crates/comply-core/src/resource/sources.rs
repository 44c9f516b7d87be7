//! What the CLI read on the user's machine for one file, so the server can decode
//! documents that point at files or URLs without ever reading or fetching them
//! (decision 0023). Keys are the reference text exactly as written in the document.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContext {
    /// Rego given by `path:` or `ref:` in a `Policy` document.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scripts: BTreeMap<String, ResolvedScript>,
    /// Policy and group references by `file://` or `http(s)://` in contracts and
    /// groups: the name of the document the CLI added to the same invocation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refs: BTreeMap<String, String>,
    /// The name a legacy `schemaVersion: v1` contract is applied under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedScript {
    pub content: String,
    /// Where it was read: a path as the CLI resolved it, or a URL.
    pub origin: String,
}

impl FileContext {
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty() && self.refs.is_empty() && self.name.is_none()
    }
}

/// A reference that names a file or URL rather than a policy (Chainloop's file and
/// HTTPS loaders).
pub fn is_location(reference: &str) -> bool {
    let r = reference.trim();
    r.starts_with("file://") || r.starts_with("http://") || r.starts_with("https://")
}
