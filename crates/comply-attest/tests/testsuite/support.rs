//! Helpers shared by the test modules.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The shared fixtures folder (`/work/shared/fixtures` next to the repository).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ))
}

/// Reads a fixture, or `None` (after saying so) when the shared folder is absent.
pub fn fixture(path: &str) -> Option<Vec<u8>> {
    let dir = fixtures_dir();
    if !dir.is_dir() {
        skip(&format!("{} is absent", dir.display()));
        return None;
    }
    let full = dir.join(path);
    Some(std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display())))
}

pub fn fixture_text(path: &str) -> Option<String> {
    fixture(path).map(|bytes| String::from_utf8(bytes).expect("fixture is UTF-8"))
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    STANDARD.decode(text).expect("valid base64")
}

/// Unix milliseconds of an RFC 3339 time.
pub fn ms(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("RFC 3339 time")
        .as_millisecond()
}

/// A minimal Chainloop statement, as `comply attest` would sign it.
pub fn statement_json() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "chainloop.workflow.build", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {
            "metadata": {
                "name": "build",
                "project": "api",
                "projectVersion": "v1.2.0",
                "initializedAt": "2026-08-01T10:00:00Z",
                "finishedAt": "2026-08-01T10:05:00.250Z"
            },
            "runnerType": "GITHUB_ACTION"
        }
    }))
    .unwrap()
}

/// Records that the running test skipped, and why: printed for `--nocapture` runs and
/// appended to the file named by `COMPLY_TEST_SKIPS`, which `.ci/run` counts so a
/// skipped test is reported as skipped, never as passed.
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("unknown test")
        .to_owned();
    eprintln!("skipped: {test}: {reason}");
    if let Ok(file) = std::env::var("COMPLY_TEST_SKIPS") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = writeln!(f, "{}::{test}\t{reason}", env!("CARGO_PKG_NAME"));
        }
    }
}
