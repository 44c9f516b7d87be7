//! Writes what the OPA comparison (`bench/opa/compare.py`) needs: for each case, the
//! exact Rego modules comply evaluates (boilerplate included), the engine input and
//! reference data, and regorus's own timing of the same evaluations.
//!
//! `cargo run --release -p comply-policy --example export_engine_comparison -- OUT_DIR`

#[path = "../benches/synthetic.rs"]
mod synthetic;

use comply_policy::material::{self, Material};
use comply_policy::{Limits, builtin, engine_input};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

const NOW_MS: i64 = 1_767_225_600_000;
const RUNS: usize = 30;

struct Case {
    name: &'static str,
    policies: Vec<(&'static str, BTreeMap<String, String>)>,
    material: Material,
}

fn main() {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "bench/opa/out".into()),
    );
    std::fs::create_dir_all(&out).unwrap();
    builtin::check().expect("built-in library");
    let sbom = material::load(
        "sbom.cdx.json",
        &synthetic::cyclonedx(10_000),
        Some("SBOM_CYCLONEDX_JSON"),
    )
    .unwrap();
    let report = material::load("trivy.json", &synthetic::trivy(5_000), None).unwrap();
    let group = builtin::group("sbom-quality").expect("sbom-quality");
    // The policies the group runs on one CycloneDX material, once each.
    let mut seen = std::collections::HashSet::new();
    let sbom_policies = group
        .spec
        .policies
        .materials
        .iter()
        .filter(|m| m.material_type.as_deref() == Some("SBOM_CYCLONEDX_JSON"))
        .flat_map(|m| m.policies.iter())
        .filter_map(|a| {
            let name = comply_core::reference::PolicyRef::parse(&a.reference)
                .ok()?
                .name;
            let name: &'static str = builtin::policy_names().into_iter().find(|n| *n == name)?;
            seen.insert(name).then(|| (name, BTreeMap::new()))
        })
        .collect();
    let cases = [
        Case {
            name: "sbom-quality-10k",
            policies: sbom_policies,
            material: sbom,
        },
        Case {
            name: "vulnerabilities-5k",
            policies: vec![(
                "vulnerabilities",
                BTreeMap::from([("severity".into(), "HIGH".into())]),
            )],
            material: report,
        },
    ];
    let mut summary = Vec::new();
    for case in cases {
        let mut scripts = Vec::new();
        for (policy, with) in &case.policies {
            let compiled = builtin::policy(policy).unwrap();
            let (args, _) = comply_policy::input_args::compute(
                &compiled.policy.spec.inputs,
                with,
                &BTreeMap::new(),
            )
            .unwrap();
            let input = engine_input(&case.material, &args);
            for (i, (kind, script)) in compiled.scripts().enumerate() {
                if kind.is_some_and(|k| k != case.material.kind) {
                    continue;
                }
                let mut timings = Vec::with_capacity(RUNS);
                for _ in 0..RUNS {
                    let started = Instant::now();
                    script
                        .evaluate(input.clone(), &Value::Null, NOW_MS, &Limits::default())
                        .unwrap();
                    timings.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                timings.sort_by(f64::total_cmp);
                let file = format!("{}-{policy}-{i}", case.name);
                std::fs::write(out.join(format!("{file}.rego")), script.source()).unwrap();
                std::fs::write(
                    out.join(format!("{file}.input.json")),
                    serde_json::to_vec(&input).unwrap(),
                )
                .unwrap();
                scripts.push(json!({
                    "policy": policy, "module": format!("{file}.rego"), "input": format!("{file}.input.json"),
                    "rule": script.rule(), "regorus_median_ms": timings[RUNS / 2],
                }));
            }
        }
        summary.push(json!({"case": case.name, "scripts": scripts}));
    }
    std::fs::write(
        out.join("cases.json"),
        serde_json::to_vec_pretty(&summary).unwrap(),
    )
    .unwrap();
    println!("wrote {}", out.join("cases.json").display());
}
