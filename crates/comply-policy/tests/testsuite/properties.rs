//! Property tests (issue #15): material parsers (detection and every normalizer) answer
//! every input with a material or an error, never a panic. Seeded with the real SBOM,
//! SARIF, VEX, JUnit, provenance and scanner fixtures, mutated.
//!
//! Small budget by default; run longer by hand with
//! `COMPLY_PROPTEST_CASES=5000 cargo test -p comply-policy --test testsuite properties`.

use comply_policy::material;
use proptest::prelude::*;
use std::path::PathBuf;

fn cases() -> u32 {
    std::env::var("COMPLY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

/// Small fixture files of every family (large SBOMs make each case slow, not better).
fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let mut out = Vec::new();
    for family in [
        "sbom-cyclonedx",
        "sbom-spdx",
        "sarif",
        "vex",
        "junit",
        "slsa-provenance",
        "vuln-reports",
        "scorecard",
        "secrets",
        "pr-info",
        "runner-context",
    ] {
        let Ok(dir) = std::fs::read_dir(root.join(family)) else {
            continue;
        };
        let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if bytes.len() <= 64 * 1024 {
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    bytes,
                ));
            }
        }
    }
    if out.is_empty() {
        eprintln!("skipped: fixtures under {} are absent", root.display());
    }
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let interesting = prop::sample::select(vec![
        b'"', b'{', b'}', b'[', b']', b',', b':', b'<', b'>', b'/', b'0', b'-', 0,
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), interesting).prop_map(|(a, b)| Edit::Insert(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match *e {
            Edit::Flip(at, b) if !bytes.is_empty() => bytes[at % len] ^= b | 1,
            Edit::Delete(at, n) if !bytes.is_empty() => {
                let i = at % len;
                let j = (i + n).min(bytes.len());
                bytes.drain(i..j);
            }
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            _ => {}
        }
    }
    bytes
}

const KINDS: &[Option<&str>] = &[
    None,
    Some("SBOM_CYCLONEDX_JSON"),
    Some("SBOM_SPDX_JSON"),
    Some("SARIF"),
    Some("OPENVEX"),
    Some("CSAF_VEX"),
    Some("JUNIT_XML"),
    Some("SLSA_PROVENANCE"),
    Some("ATTESTATION"),
    Some("STRING"),
];

/// Without the fixtures there is nothing to mutate: the test says it skipped instead
/// of letting proptest reject every case.
#[test]
fn mutated_materials_load_or_fail_cleanly() {
    let seeds = seeds();
    if seeds.is_empty() {
        crate::support::skip("no fixtures to seed the mutations (../shared/fixtures is absent)");
        return;
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases()));
    let strategy = (
        any::<prop::sample::Index>(),
        prop::sample::select(KINDS),
        prop::collection::vec(edit(), 1..5),
    );
    runner
        .run(&strategy, |(seed, kind, edits)| {
            let (name, bytes) = seed.get(&seeds);
            let bytes = apply(bytes.clone(), &edits);
            if let Err(e) = material::load(name, &bytes, kind) {
                prop_assert!(!e.to_string().is_empty());
            }
            Ok(())
        })
        .unwrap();
}
