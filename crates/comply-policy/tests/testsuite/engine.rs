//! The engine input: a material converted once and given to each script as far as it
//! reads it (`PreparedInput`) yields the same verdicts as the whole engine input
//! converted from JSON text, for every built-in policy on every fixture.

use crate::support::*;
use comply_policy::material::{self, Material};
use comply_policy::{Evaluation, Limits, Verdict, builtin, engine_input, evaluate_group};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Argument sets tried on every policy (arguments a policy does not declare are
/// dropped): none; the ban lists, exceptions and a high threshold; other values.
const ARG_SETS: [&[(&str, &str)]; 3] = [
    &[],
    &[
        ("licenses", "GPL, MIT, Apache-2.0, BSD"),
        (
            "components",
            "openssl@3, busybox, pkg:npm/lodash@4.17.20, log4j-core@2.14.1",
        ),
        ("licenseExceptions", "name::lib*, purl_type::pkg:npm"),
        ("allowedCustomLicenses", "Apache 2.0, see license"),
        ("severity", "HIGH"),
        ("limit", "100000"),
    ],
    &[
        ("skippedTypes", "library"),
        ("severity", "NONE"),
        (
            "ignored_vulnerabilities",
            "CVE-2022-22965, GHSA-36p3-wjmg-h94x",
        ),
        ("checks", "Code-Review, License"),
    ],
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every fixture that loads as a material (its kind detected).
fn fixture_materials() -> Vec<Material> {
    let mut paths = Vec::new();
    files(&fixtures_dir(), &mut paths);
    paths.sort();
    if paths.is_empty() {
        crate::support::skip("the fixtures are absent");
    }
    paths
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let name = p.strip_prefix(fixtures_dir()).unwrap_or(p).display();
            material::load(&name.to_string(), &bytes, None).ok()
        })
        .collect()
}

/// Reference data: VEX statements from the VEX fixtures, and the KEV catalog (when
/// present) cut down to its first entries and those naming a vulnerability of some
/// fixture (the whole catalog, converted for every evaluation, makes the test slow).
fn reference_data(materials: &[Material]) -> Value {
    let vex: Vec<Value> = materials
        .iter()
        .filter(|m| m.name.starts_with("vex/"))
        .flat_map(|m| m.normalized.vex.iter())
        .map(|s| serde_json::to_value(s).unwrap())
        .collect();
    let mut data = json!({"vex": vex});
    if let Some(bytes) = fixture("kev/known_exploited_vulnerabilities.json") {
        let mut kev: Value = serde_json::from_slice(&bytes).unwrap();
        let ids: Vec<String> = materials
            .iter()
            .flat_map(|m| m.normalized.vulnerabilities.iter())
            .flat_map(|v| std::iter::once(&v.id).chain(&v.aliases))
            .map(|id| id.to_uppercase())
            .collect();
        let entries = kev["vulnerabilities"].as_array_mut().unwrap();
        let mut i = 0;
        entries.retain(|e| {
            i += 1;
            i <= 20 || ids.contains(&e["cveID"].as_str().unwrap_or("").to_uppercase())
        });
        data["kev"] = kev;
    }
    data
}

fn with(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The whole engine input without `args` and `chainloop_metadata`, converted from JSON
/// text.
fn whole_input(material: &Material) -> regorus::Value {
    let text = serde_json::to_string(&engine_input(material, &BTreeMap::new())).unwrap();
    regorus::Value::from_json_str(&text).unwrap()
}

/// The policy evaluated on the whole engine input (`whole`: see [`whole_input`]).
fn reference_verdict(
    policy: &str,
    material: &Material,
    whole: &regorus::Value,
    args: &[(&str, &str)],
    data: &Value,
) -> Result<Option<Verdict>, String> {
    let compiled = builtin::policy(policy).unwrap();
    let (effective, _) = comply_policy::input_args::compute(
        &compiled.policy.spec.inputs,
        &with(args),
        &BTreeMap::new(),
    )
    .map_err(|e| e.to_string())?;
    let mut input = whole.clone();
    let full = engine_input(material, &effective);
    for key in ["args", "chainloop_metadata"] {
        let value = regorus::Value::from_json_str(&full[key].to_string()).unwrap();
        input
            .as_object_mut()
            .unwrap()
            .insert(regorus::Value::from(key), value);
    }
    let mut verdicts = Vec::new();
    for (kind, script) in compiled.scripts() {
        if kind.is_none_or(|k| k == material.kind) {
            verdicts.push(
                script
                    .evaluate_value(input.clone(), data, NOW_MS, &Limits::default())
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    Ok(if verdicts.is_empty() {
        None
    } else {
        Verdict::merge(verdicts)
    })
}

#[test]
fn prepared_input_gives_every_policy_the_verdict_of_the_whole_input() {
    let materials = fixture_materials();
    let data = reference_data(&materials);
    let mut compared = 0;
    for material in &materials {
        let prepared = comply_policy::prepare_input(material);
        let whole = whole_input(material);
        for name in builtin::policy_names() {
            let policy = builtin::policy(name).unwrap();
            if !policy.applies_to(&material.kind) {
                continue;
            }
            // Only these read reference data (converting the KEV catalog for every
            // evaluation would make this test slow).
            let data = if ["vulnerabilities", "cves-in-kev"].contains(&name) {
                &data
            } else {
                &Value::Null
            };
            // Argument sets that differ only in arguments the policy does not declare
            // are evaluated once.
            let mut seen = Vec::new();
            for args in ARG_SETS {
                let effective = comply_policy::input_args::compute(
                    &policy.policy.spec.inputs,
                    &with(args),
                    &BTreeMap::new(),
                )
                .ok()
                .map(|(effective, _dropped)| effective);
                if seen.contains(&effective) {
                    continue;
                }
                seen.push(effective);
                let expected = reference_verdict(name, material, &whole, args, data);
                let got = policy
                    .evaluate_prepared(
                        Evaluation {
                            material,
                            with: &with(args),
                            bindings: &BTreeMap::new(),
                            now_ms: NOW_MS,
                            data,
                        },
                        &prepared,
                        &Limits::default(),
                    )
                    .map(|o| o.map(|o| o.verdict))
                    .map_err(|e| e.to_string());
                assert_eq!(got, expected, "{name} on {} with {args:?}", material.name);
                compared += 1;
            }
        }
    }
    eprintln!("{compared} evaluations compared");
}

#[test]
fn the_whole_prepared_input_is_the_engine_input() {
    for material in fixture_materials() {
        let prepared = comply_policy::prepare_input(&material);
        let mut expected = engine_input(&material, &BTreeMap::new());
        let object = expected.as_object_mut().unwrap();
        object.remove("chainloop_metadata");
        object.remove("args");
        let text = serde_json::to_string(&expected).unwrap();
        assert_eq!(
            prepared.whole(&material),
            regorus::Value::from_json_str(&text).unwrap(),
            "{}",
            material.name
        );
    }
}

/// A document whose top level is an array, a scalar or has keys the evaluation sets
/// (`comply`, `args`, `chainloop_metadata`): a script reading only some keys sees them
/// as a script reading everything does.
#[test]
fn projected_keys_follow_the_engine_input_rules() {
    let module = r#"package main
import rego.v1
violations contains sprintf("%v|%v|%v|%v|%v", [input.elements, input.value, input.comply.format, input.args, input.chainloop_metadata.name]) if true
"#;
    let script = comply_policy::Script::compile("probe", module).unwrap();
    for (kind, content) in [
        ("EVIDENCE", json!([1, {"a": 2}])),
        ("EVIDENCE", json!("text")),
        (
            "EVIDENCE",
            json!({"comply": "raw", "args": "raw", "chainloop_metadata": "raw", "value": 1}),
        ),
    ] {
        let bytes = serde_json::to_vec(&content).unwrap();
        let material = material::load("doc.json", &bytes, Some(kind)).unwrap();
        let effective = with(&[("x", "1")]);
        let whole = script
            .evaluate(
                engine_input(&material, &effective),
                &Value::Null,
                NOW_MS,
                &Limits::default(),
            )
            .unwrap();
        // The same module, run through a policy on a prepared input.
        let policy: comply_core::resource::Policy = {
            let yaml = format!(
                "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: probe\nspec:\n  inputs:\n    - name: x\n      description: x\n  policies:\n    - embedded: |\n{}",
                module
                    .lines()
                    .map(|l| format!("        {l}\n"))
                    .collect::<String>()
            );
            let (docs, problems) = comply_core::resource::parse_file("probe.yaml", &yaml, "t");
            assert!(problems.is_empty(), "{problems:?}");
            match docs.into_iter().next().unwrap().resource {
                comply_core::resource::Resource::Policy(p) => p,
                _ => panic!("a policy"),
            }
        };
        let compiled = comply_policy::CompiledPolicy::compile(policy).unwrap();
        let prepared = comply_policy::prepare_input(&material);
        let got = compiled
            .evaluate_prepared(
                Evaluation {
                    material: &material,
                    with: &effective,
                    bindings: &BTreeMap::new(),
                    now_ms: NOW_MS,
                    data: &Value::Null,
                },
                &prepared,
                &Limits::default(),
            )
            .unwrap()
            .unwrap()
            .verdict;
        assert_eq!(got, whole, "{content}");
    }
}

/// The sbom-quality group on a large SBOM gives what each policy gives alone.
#[test]
fn group_results_equal_single_policy_results() {
    let Some(bytes) = fixture("sbom-cyclonedx/guac-big-mongo-cyclonedx.json") else {
        return;
    };
    let sbom = material::load("sbom.cdx.json", &bytes, Some("SBOM_CYCLONEDX_JSON")).unwrap();
    let group = builtin::group("sbom-quality").unwrap();
    let inputs = with(&[("bannedLicenses", "GPL"), ("bannedComponents", "mongo")]);
    let results = evaluate_group(
        group,
        &inputs,
        std::slice::from_ref(&sbom),
        builtin::policy,
        NOW_MS,
        &Value::Null,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(results.len(), 5);
    let whole = whole_input(&sbom);
    for r in results {
        let alone = reference_verdict(
            &r.policy,
            &sbom,
            &whole,
            &r.outcome
                .args
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            &Value::Null,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.outcome.verdict, alone, "{}", r.policy);
    }
}
