//! What a status reads (decision 0016) gives the statuses full history gives: random
//! histories, many instants, both backends.

use crate::evidence::attestation;
use crate::support::{each_backend, org};
use comply_core::periodicity::Periodicity;
use comply_core::resource::{InputType, PolicyAttachment, PolicyInput, Scope};
use comply_core::status::{
    CellStatus, Context, EvaluationFact, Evidence, ProductVersionFacts, ProjectFacts,
    RequirementFacts, product_status,
};
use comply_store::{NewEvaluation, Store};
use serde_json::json;
use std::collections::BTreeMap;

const HOUR: i64 = 3_600_000;

/// A small deterministic generator (xorshift): the same histories on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A scan; in a failing phase its findings go up to CRITICAL, else at most MEDIUM.
fn scan(rng: &mut Rng, failing: bool) -> NewEvaluation {
    let severities = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let threshold = severities[rng.below(3) as usize];
    let findings = if failing {
        2 + rng.below(3)
    } else {
        rng.below(3)
    };
    NewEvaluation {
        policy: "vulnerabilities".into(),
        policy_ref: "chainloop://vulnerabilities".into(),
        policy_digest: None,
        material: Some("scan".into()),
        material_type: Some("SARIF".into()),
        args: BTreeMap::from([("severity".to_owned(), threshold.to_owned())]),
        violations: json!(
            (0..findings)
                .map(|i| json!({
                    "subject": "vulnerabilities",
                    "message": format!("CVE-{i}"),
                    "finding": {"vulnerability": {"severity": severities[if failing { 3 - i as usize % 2 } else { i as usize % 2 }]}},
                    "suppressed": false,
                }))
                .collect::<Vec<_>>()
        ),
        skipped: rng.below(8) == 0,
        skip_reasons: vec![],
        requirements: vec![],
        gate: false,
        networked: None,
    }
}

fn sbom(rng: &mut Rng) -> NewEvaluation {
    NewEvaluation {
        policy: "sbom-present".into(),
        policy_ref: "chainloop://sbom-present".into(),
        policy_digest: None,
        material: None,
        material_type: None,
        args: BTreeMap::new(),
        violations: if rng.below(4) == 0 {
            json!([{"message": "no SBOM", "suppressed": false}])
        } else {
            json!([])
        },
        skipped: false,
        skip_reasons: vec![],
        requirements: vec![],
        gate: false,
        networked: None,
    }
}

fn requirement(
    name: &str,
    policy: &str,
    with: &[(&str, &str)],
    periodicity: Option<Periodicity>,
    sla: Option<u32>,
) -> RequirementFacts {
    RequirementFacts {
        name: name.into(),
        active: true,
        scope: Scope::Project,
        policies: vec![PolicyAttachment {
            reference: policy.into(),
            periodicity,
            sla,
            with: with
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }],
        manual_proofs: vec![],
        frameworks: vec!["fw".into()],
    }
}

async fn statuses(
    store: &Store,
    org_id: i64,
    pv: i64,
    at: i64,
    windows: &BTreeMap<String, i64>,
    requirements: &[RequirementFacts],
) -> Vec<CellStatus> {
    let facts: Vec<EvaluationFact> = store
        .status_evidence(org_id, &[pv], at, windows)
        .await
        .expect("read")
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let facts = ProductVersionFacts {
        requirements: requirements.to_vec(),
        projects: vec![ProjectFacts {
            name: "api".into(),
            version: Some("1.0".into()),
            evidence: Evidence::new(facts),
        }],
        ..Default::default()
    };
    let inputs: BTreeMap<String, Vec<PolicyInput>> = BTreeMap::from([(
        "vulnerabilities".to_owned(),
        vec![PolicyInput {
            name: "severity".into(),
            description: None,
            required: false,
            default: None,
            input_type: Some(InputType::Severity),
            kind: None,
        }],
    )]);
    product_status(&Context::new("acme", at, &inputs), &facts)
}

#[tokio::test]
async fn series_reads_give_the_statuses_of_full_history() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let mut rng = Rng(0x5eed_cafe);
        // Irregular history over weeks: bursts and gaps of up to eight hours, several
        // argument sets, failing phases of a day or more (longer than the SLAs, so that
        // runs reach back past the window).
        let mut t = 0;
        let mut failing = false;
        for i in 0..160 {
            t += HOUR / 2 + rng.below(8) as i64 * HOUR;
            if rng.below(12) == 0 {
                failing = !failing;
            }
            let mut a = attestation(&format!("sha256:{i:04}"), "api", "1.0", t);
            a.evaluations = vec![scan(&mut rng, failing), sbom(&mut rng)];
            if rng.below(3) == 0 {
                a.evaluations.push(scan(&mut rng, failing));
            }
            store.ingest(acme.id, &a, t).await.unwrap();
        }
        let pv = store
            .project_versions(acme.id, &["api".to_owned()])
            .await
            .unwrap()["api"]
            .1["1.0"];
        let requirements = vec![
            requirement(
                "no-high",
                "vulnerabilities",
                &[("severity", "HIGH")],
                Some(Periodicity::Daily),
                Some(24),
            ),
            requirement(
                "no-critical",
                "vulnerabilities",
                &[("severity", "CRITICAL")],
                None,
                Some(6),
            ),
            requirement(
                "no-medium",
                "vulnerabilities",
                &[("severity", "MEDIUM")],
                Some(Periodicity::Hourly),
                None,
            ),
            requirement("sbom", "sbom-present", &[], Some(Periodicity::Daily), None),
        ];
        let windows = BTreeMap::from([("vulnerabilities".to_owned(), 25 * HOUR)]);
        let everything = BTreeMap::from([
            ("vulnerabilities".to_owned(), i64::MAX / 4),
            ("sbom-present".to_owned(), i64::MAX / 4),
        ]);
        let mut compared = 0;
        let mut seen = std::collections::BTreeSet::new();
        let mut at = 0;
        while at < t + 3 * 24 * HOUR {
            at += HOUR + rng.below(4) as i64 * HOUR;
            let read = statuses(&store, acme.id, pv, at, &windows, &requirements).await;
            let full = statuses(&store, acme.id, pv, at, &everything, &requirements).await;
            assert_eq!(read.len(), full.len());
            for (r, f) in read.iter().zip(&full) {
                let what = format!("{} at {at}", r.requirement);
                assert_eq!(r.status, f.status, "{what}");
                assert_eq!(r.deadline, f.deadline, "{what}");
                for (rc, fc) in r.components.iter().zip(&f.components) {
                    assert_eq!(rc.status, fc.status, "{what}");
                    assert_eq!(rc.evaluation, fc.evaluation, "{what}");
                    assert_eq!(rc.expires_at, fc.expires_at, "{what}");
                }
                seen.insert(format!("{:?}", r.status));
                compared += 1;
            }
        }
        assert!(compared > 100, "compared {compared} cells");
        // The history exercises every policy outcome, or the comparison proves little.
        for status in ["Passed", "Failed", "Expired"] {
            assert!(
                seen.iter().any(|s| s.contains(status)),
                "{status} never seen: {seen:?}"
            );
        }
    })
    .await;
}
