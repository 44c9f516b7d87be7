//! Helpers for testing built-in policies.

#![allow(dead_code)]

use comply_policy::material::{self, Material};
use comply_policy::{Evaluation, Limits, Verdict, builtin};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// 2026-01-01T00:00:00Z: the fixed "now" of policy tests.
pub const NOW_MS: i64 = 1_767_225_600_000;

/// Bytes of a file under `../shared/fixtures`, or `None` (printing that the test
/// skipped) when the folder is absent, as in a fresh clone.
pub fn fixture(relative: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            skip(&format!("fixture {} is absent", path.display()));
            None
        }
    }
}

/// Loads a material; `kind` None means detect.
pub fn material(name: &str, bytes: &[u8], kind: Option<&str>) -> Material {
    material::load(name, bytes, kind).unwrap_or_else(|e| panic!("{e}"))
}

fn args(with: &[(&str, &str)]) -> BTreeMap<String, String> {
    with.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Evaluates built-in policy `policy` on `material` with arguments and `data`.
pub fn eval_material(
    policy: &str,
    material: &Material,
    with: &[(&str, &str)],
    data: &Value,
) -> Verdict {
    let compiled = builtin::policy(policy)
        .unwrap_or_else(|| panic!("no built-in policy '{policy}': {:?}", builtin::check()));
    let outcome = compiled
        .evaluate(
            Evaluation {
                material,
                with: &args(with),
                bindings: &BTreeMap::new(),
                now_ms: NOW_MS,
                data,
            },
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("policy '{policy}' has no script for {}", material.kind));
    outcome.verdict
}

/// Evaluates on a document given as text (JSON or XML), detected unless `kind` is set.
pub fn eval(policy: &str, kind: Option<&str>, document: &str, with: &[(&str, &str)]) -> Verdict {
    eval_material(
        policy,
        &material("material.json", document.as_bytes(), kind),
        with,
        &Value::Null,
    )
}

/// The same with reference data (`data.kev`, `data.vex`).
pub fn eval_with_data(
    policy: &str,
    kind: Option<&str>,
    document: &str,
    with: &[(&str, &str)],
    data: Value,
) -> Verdict {
    eval_material(
        policy,
        &material("material.json", document.as_bytes(), kind),
        with,
        &data,
    )
}

pub fn messages(v: &Verdict) -> Vec<String> {
    v.violations
        .iter()
        .filter(|v| !v.suppress)
        .map(|v| v.message.clone())
        .collect()
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

/// Asserts a pass (not skipped, no violation).
pub fn expect_pass(v: &Verdict, what: &str) {
    assert!(
        v.passed(),
        "{what}: expected a pass, got skipped={} {:?} {:?}",
        v.skipped,
        v.skip_reasons,
        messages(v)
    );
}

/// Asserts a failure with a violation containing `needle`; returns the messages.
pub fn expect_fail(v: &Verdict, what: &str, needle: &str) -> Vec<String> {
    let m = messages(v);
    assert!(
        !v.skipped,
        "{what}: expected a failure, got skipped {:?}",
        v.skip_reasons
    );
    assert!(
        m.iter().any(|x| x.contains(needle)),
        "{what}: expected a violation containing {needle:?}, got {m:?}"
    );
    m
}

/// Asserts a skip whose reasons contain `needle`.
pub fn expect_skip(v: &Verdict, what: &str, needle: &str) {
    assert!(v.skipped, "{what}: expected skipped, got {:?}", messages(v));
    assert!(v.violations.is_empty(), "{what}: {:?}", messages(v));
    assert!(
        v.skip_reasons.iter().any(|r| r.contains(needle)),
        "{what}: expected a skip reason containing {needle:?}, got {:?}",
        v.skip_reasons
    );
}

/// An in-toto statement as Chainloop renders attestations, with the given predicate
/// fields and materials `(type, name)`.
pub fn chainloop_statement(predicate: Value, materials: &[(&str, &str)]) -> String {
    let mut predicate = predicate;
    predicate["buildType"] = "chainloop.dev/workflowrun/v0.1".into();
    predicate["materials"] = materials
        .iter()
        .map(|(kind, name)| {
            serde_json::json!({
                "name": name,
                "digest": {"sha256": "ab".repeat(32)},
                "annotations": {"chainloop.material.type": kind, "chainloop.material.name": name}
            })
        })
        .collect();
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "git.head", "digest": {"sha1": "5869b91e80fea5ac3d4502c728b118e85d65d825"}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": predicate,
    })
    .to_string()
}
