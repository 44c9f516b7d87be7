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

/// The conversion of a material for the engine, done once per material.
#[divan::bench(sample_count = 20)]
fn prepare_trivy_5k_vulnerabilities(bencher: divan::Bencher) {
    let material = report();
    bencher.bench(|| comply_policy::prepare_input(divan::black_box(&material)));
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
