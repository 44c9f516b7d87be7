//! The attestation under construction, kept in one JSON file between the steps.

use crate::error::{CliError, Result};
use comply_core::resource::FileContext;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) contract_name: String,
    /// The contract's YAML, as it was when the attestation started.
    pub(super) contract: String,
    pub(super) project: String,
    pub(super) version: String,
    pub(super) workflow: String,
    pub(super) release: bool,
    pub(super) initialized_at_ms: i64,
    pub(super) materials: Vec<CollectedMaterial>,
    /// What decoding the contract's text needs: the names its file and URL references
    /// resolved to, the name of a legacy v1 contract (decision 0023).
    #[serde(default)]
    pub(super) sources: FileContext,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CollectedMaterial {
    pub(super) name: String,
    pub(super) kind: String,
    /// A file path, an image reference, or a string value.
    pub(super) value: String,
    pub(super) sha256: String,
    pub(super) output: bool,
    /// Chainloop's material annotations, e.g. a verified signature.
    #[serde(default)]
    pub(super) annotations: BTreeMap<String, String>,
}

pub(super) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub(super) fn load_state(path: &Path) -> Result<State> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "no attestation in progress ({}: {e}); run `comply attest init` first",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{} is not an attestation state: {e}",
            path.display()
        ))
    })
}

pub(super) fn save_state(path: &Path, state: &State) -> Result<()> {
    let text = serde_json::to_string_pretty(state).expect("state serializes");
    std::fs::write(path, text)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}
