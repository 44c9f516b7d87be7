//! Decoding and planning manifests, the CPU part of `comply apply`.
//! Run: `cargo bench -p comply-core --bench manifests`.

use comply_core::apply::{Existing, Known, plan};
use comply_core::resource::parse_file;

fn main() {
    divan::main();
}

fn requirements(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-{i:05}\n  displayName: Requirement {i}\n  annotations:\n    categories: security, load\nspec:\n  policies:\n    - ref: vulnerabilities\n      with:\n        severity: HIGH\n      periodicity: daily\n      sla: 24\n    - ref: sbom-present\n  manual_proofs:\n    - name: review\n      periodicity: yearly\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[divan::bench(args = [500, 5000])]
fn parse_requirements(bencher: divan::Bencher, n: usize) {
    let text = requirements(n);
    bencher.bench(|| parse_file("r.yaml", divan::black_box(&text), "acme"));
}

#[divan::bench(args = [500, 5000])]
fn plan_unchanged(bencher: divan::Bencher, n: usize) {
    let text = requirements(n);
    let (docs, _) = parse_file("r.yaml", &text, "acme");
    let mut known = Known::default();
    for policy in ["vulnerabilities", "sbom-present"] {
        known
            .builtin
            .insert((comply_core::Kind::Policy, policy.to_owned()));
    }
    for d in &docs {
        known.custom.insert(
            (d.resource.kind(), d.resource.name().to_owned()),
            Existing {
                revision: 1,
                digest: d.resource.digest(),
            },
        );
    }
    bencher
        .with_inputs(|| docs.clone())
        .bench_values(|docs| plan(docs, &known).unwrap());
}
