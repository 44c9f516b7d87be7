//! SARIF, gitleaks and TruffleHog: findings (SAST, secrets) and scanner vulnerabilities.

use super::Normalized;
use serde_json::Value;

pub(super) fn sarif(_doc: &Value, out: &mut Normalized) {
    out.format = "sarif".into();
}

pub(super) fn gitleaks(_doc: &Value, out: &mut Normalized) {
    out.format = "gitleaks".into();
}

pub(super) fn trufflehog(_doc: &Value, out: &mut Normalized) {
    out.format = "trufflehog".into();
}

/// JSON lines (one object per line) as `{"elements": [...]}`-ready array.
pub(super) fn parse_json_lines(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect::<Result<Vec<Value>, String>>()
        .map(Value::Array)
}
