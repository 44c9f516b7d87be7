//! Chainloop's runner context (repository settings) and PR info.

use super::Normalized;
use serde_json::Value;

pub(super) fn normalize(kind: &str, _doc: &Value, out: &mut Normalized) {
    out.format = if kind == "CHAINLOOP_PR_INFO" {
        "pr-info"
    } else {
        "runner-context"
    }
    .into();
}
