//! OpenVEX and CSAF VEX statements.

use super::Normalized;
use serde_json::Value;

pub(super) fn openvex(_doc: &Value, out: &mut Normalized) {
    out.format = "openvex".into();
}

pub(super) fn csaf(_doc: &Value, out: &mut Normalized) {
    out.format = "csaf".into();
}
