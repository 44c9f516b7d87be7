//! Built-in policies on large materials.
//! Run: `cargo bench -p comply-policy --bench policies`.

mod synthetic;

use comply_policy::material::{self, Material};
use comply_policy::{Evaluation, Limits, builtin, evaluate_group};
use serde_json::Value;
use std::collections::BTreeMap;

fn main() {
    builtin::check().expect("the built-in library loads");
    divan::main();
}

const NOW_MS: i64 = 1_767_225_600_000;

fn sbom() -> Material {
    material::load(
        "sbom.cdx.json",
        &synthetic::cyclonedx(10_000),
        Some("SBOM_CYCLONEDX_JSON"),
    )
    .unwrap()
}

fn report() -> Material {
    material::load("trivy.json", &synthetic::trivy(5_000), None).unwrap()
}

#[divan::bench(sample_count = 20)]
fn load_cyclonedx_10k_components(bencher: divan::Bencher) {
    let bytes = synthetic::cyclonedx(10_000);
    bencher.bench(|| {
        material::load(
            "sbom.cdx.json",
            divan::black_box(&bytes),
            Some("SBOM_CYCLONEDX_JSON"),
        )
        .unwrap()
    });
}

#[divan::bench(sample_count = 20)]
fn sbom_quality_group_10k_components(bencher: divan::Bencher) {
    let materials = [sbom()];
    let group = builtin::group("sbom-quality").expect("group sbom-quality");
    let with = BTreeMap::from([("sbom_name".to_owned(), "sbom.cdx.json".to_owned())]);
    bencher.bench(|| {
        evaluate_group(
            group,
            &with,
            &materials,
            builtin::policy,
            NOW_MS,
            &Value::Null,
            &Limits::default(),
        )
        .unwrap()
    });
}

/// The group with ban lists given, as a user would configure it: 2,000 components
/// have a banned license, and one a banned version (matched by purl).
#[divan::bench(sample_count = 20)]
fn sbom_quality_group_10k_components_with_bans(bencher: divan::Bencher) {
    let materials = [sbom()];
    let group = builtin::group("sbom-quality").expect("group sbom-quality");
    let with = BTreeMap::from([
        ("bannedLicenses".to_owned(), "GPL, AGPL".to_owned()),
        (
            "bannedComponents".to_owned(),
            "log4j-core@2.14.1, openssl, pkg:npm/lib-7@1.7".to_owned(),
        ),
    ]);
    bencher.bench(|| {
        evaluate_group(
            group,
            &with,
            &materials,
            builtin::policy,
            NOW_MS,
            &Value::Null,
            &Limits::default(),
        )
        .unwrap()
    });
}

#[divan::bench(sample_count = 20)]
fn load_trivy_5k_vulnerabilities(bencher: divan::Bencher) {
    let bytes = synthetic::trivy(5_000);
    bencher.bench(|| material::load("trivy.json", divan::black_box(&bytes), None).unwrap());
}

#[divan::bench(sample_count = 20)]
fn vulnerabilities_5k_findings(bencher: divan::Bencher) {
    let material = report();
    let policy = builtin::policy("vulnerabilities").expect("policy vulnerabilities");
    let with = BTreeMap::from([("severity".to_owned(), "HIGH".to_owned())]);
    bencher.bench(|| {
        policy
            .evaluate(
                Evaluation {
                    material: &material,
                    with: &with,
                    bindings: &BTreeMap::new(),
                    now_ms: NOW_MS,
                    data: &Value::Null,
                },
                &Limits::default(),
            )
            .unwrap()
    });
}

/// The conversion of the whole material for the engine (what a policy reading all of
/// `input` needs; built-in policies read a part of it).
#[divan::bench(sample_count = 20)]
fn prepare_trivy_5k_vulnerabilities(bencher: divan::Bencher) {
    let material = report();
    bencher.bench(|| comply_policy::prepare_input(divan::black_box(&material)).whole(&material));
}

/// `vulnerabilities` alone, the material already converted.
#[divan::bench(sample_count = 20)]
fn vulnerabilities_5k_findings_prepared(bencher: divan::Bencher) {
    let material = report();
    let prepared = comply_policy::prepare_input(&material);
    let policy = builtin::policy("vulnerabilities").expect("policy vulnerabilities");
    let with = BTreeMap::from([("severity".to_owned(), "HIGH".to_owned())]);
    bencher.bench(|| {
        policy
            .evaluate_prepared(
                Evaluation {
                    material: &material,
                    with: &with,
                    bindings: &BTreeMap::new(),
                    now_ms: NOW_MS,
                    data: &Value::Null,
                },
                &prepared,
                &Limits::default(),
            )
            .unwrap()
    });
}

/// The conversion of the whole SBOM for the engine (see
/// `prepare_trivy_5k_vulnerabilities`).
#[divan::bench(sample_count = 20)]
fn prepare_cyclonedx_10k_components(bencher: divan::Bencher) {
    let material = sbom();
    bencher.bench(|| comply_policy::prepare_input(divan::black_box(&material)).whole(&material));
}

/// Each policy of `sbom-quality` alone, the material already converted.
#[divan::bench(sample_count = 20, args = ["sbom-banned-licenses", "sbom-banned-components", "sbom-ntia", "sbom-with-licenses", "sbom-freshness"])]
fn sbom_policy_10k_components_prepared(bencher: divan::Bencher, name: &str) {
    let material = sbom();
    let prepared = comply_policy::prepare_input(&material);
    let policy = builtin::policy(name).expect("policy");
    let with = BTreeMap::new();
    bencher.bench(|| {
        policy
            .evaluate_prepared(
                Evaluation {
                    material: &material,
                    with: &with,
                    bindings: &BTreeMap::new(),
                    now_ms: NOW_MS,
                    data: &Value::Null,
                },
                &prepared,
                &Limits::default(),
            )
            .unwrap()
    });
}

/// A Cobertura report of `classes` classes with 50 lines each, a quarter uncovered.
fn cobertura(classes: usize) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" ?>\n<coverage line-rate=\"0.75\" branch-rate=\"0.5\" version=\"7.4\" timestamp=\"1700000000000\"><sources><source>src</source></sources><packages><package name=\"app\" line-rate=\"0.75\" branch-rate=\"0.5\" complexity=\"0\"><classes>",
    );
    for c in 0..classes {
        xml.push_str(&format!(
            "<class name=\"app.C{c}\" filename=\"app/c{c}.py\" line-rate=\"0.75\" branch-rate=\"0.5\" complexity=\"0\"><methods/><lines>"
        ));
        for n in 1..=50 {
            let hits = if n % 4 == 0 { 0 } else { 3 };
            xml.push_str(&format!("<line number=\"{n}\" hits=\"{hits}\"/>"));
        }
        xml.push_str("</lines></class>");
    }
    xml.push_str("</classes></package></packages></coverage>");
    xml.into_bytes()
}

#[divan::bench(sample_count = 20)]
fn code_coverage_cobertura_50k_lines(bencher: divan::Bencher) {
    let bytes = cobertura(1_000);
    let policy = builtin::policy("code-coverage").expect("policy code-coverage");
    let with = BTreeMap::new();
    bencher.bench(|| {
        let material = material::load("coverage.xml", divan::black_box(&bytes), None).unwrap();
        policy
            .evaluate(
                Evaluation {
                    material: &material,
                    with: &with,
                    bindings: &BTreeMap::new(),
                    now_ms: NOW_MS,
                    data: &Value::Null,
                },
                &Limits::default(),
            )
            .unwrap()
            .expect("a verdict")
    });
}
