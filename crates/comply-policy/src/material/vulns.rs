//! Vulnerability reports in their tools' own JSON (Grype, Trivy, …), which Chainloop
//! attests as EVIDENCE. Returns whether the document was recognized.

use super::Normalized;
use serde_json::Value;

pub(super) fn normalize(_doc: &Value, _out: &mut Normalized) -> bool {
    false
}
