//! In-toto statements with SLSA provenance (v0.2, v1), bare or in a DSSE envelope or
//! Sigstore bundle.

use super::Normalized;
use serde_json::Value;

pub(super) fn normalize(_doc: &Value, out: &mut Normalized) {
    out.format = "slsa-provenance".into();
}
