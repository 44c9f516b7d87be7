//! Scenarios `ingest` and `portfolio`.
//!
//! `ingest`: signed attestations with ten evaluations each, pushed over HTTP by
//! concurrent clients; then the cost of one attestation split into parse, verify and
//! store, measured in process.
//!
//! `portfolio`: a synthetic portfolio (projects × daily attestations, a 150-requirement
//! framework, products) seeded through the store, then the status of one product
//! version with 20 projects, and the org overview, timed over HTTP.

use crate::{Target, median, start_server_on, start_server_with};
use anyhow::{Context, Result, bail};
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use comply_store::{NewAttestation, NewEvaluation, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DAY: i64 = 24 * 3600 * 1000;

/// The ten policies every synthetic attestation evaluates, with their arguments.
fn policies() -> Vec<(&'static str, BTreeMap<String, String>)> {
    let args = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    vec![
        ("vulnerabilities", args(&[("severity", "MEDIUM")])),
        ("sbom-present", args(&[])),
        ("sbom-ntia", args(&[])),
        ("sbom-freshness", args(&[("limit", "7")])),
        ("sast-findings", args(&[("severity", "HIGH")])),
        ("secrets-absent", args(&[])),
        ("tests-pass", args(&[("min_tests", "10")])),
        ("container-signed", args(&[])),
        ("slsa-provenance", args(&[])),
        ("cves-in-kev", args(&[])),
    ]
}

/// Deterministic pseudo-randomness: the same portfolio every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn evaluations(rng: &mut Rng) -> Vec<(String, BTreeMap<String, String>, Vec<Value>)> {
    policies()
        .into_iter()
        .map(|(name, args)| {
            let violations = if rng.chance(10) {
                vec![json!({"subject": name, "message": "synthetic finding",
                            "vulnerability": {"severity": "HIGH", "externalId": "CVE-2026-0001"}})]
            } else {
                Vec::new()
            };
            (name.to_owned(), args, violations)
        })
        .collect()
}

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .expect("valid time")
        .to_string()
}

/// A signed Chainloop statement, as a CI system would push it.
pub(crate) fn envelope(
    key: &SigningKey,
    project: &str,
    version: &str,
    finished: i64,
    rng: &mut Rng,
) -> Vec<u8> {
    let evaluations: Vec<Value> = evaluations(rng)
        .into_iter()
        .map(|(name, args, violations)| {
            json!({"name": name, "materialName": "sbom",
                   "policyReference": {"name": name, "uri": format!("chainloop://{name}")},
                   "with": args, "type": "SBOM_CYCLONEDX_JSON", "violations": violations})
        })
        .collect();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("ghcr.io/acme/{project}"), "digest": {"sha256": format!("{:064x}", rng.next())}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {
            "buildType": "chainloop.dev/workflowrun/v0.1",
            "metadata": {"name": "build", "workflowName": "build", "project": project,
                          "projectVersion": version, "contractName": "build",
                          "initializedAt": rfc3339(finished - 60_000), "finishedAt": rfc3339(finished)},
            "materials": [],
            "policyEvaluations": {"sbom": evaluations},
        },
    });
    sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        key,
    )
}

fn post(agent: &ureq::Agent, target: &Target, path: &str, body: &[u8]) -> Result<Value> {
    let mut resp = agent
        .post(format!("{}{path}", target.base))
        .header("Authorization", format!("Bearer {}", target.token))
        .header("Content-Type", "application/json")
        .send(body)?;
    let status = resp.status();
    let answer: Value = resp.body_mut().read_json()?;
    if !status.is_success() {
        bail!("POST {path} failed with {status}: {answer}");
    }
    Ok(answer)
}

fn get(agent: &ureq::Agent, target: &Target, path: &str) -> Result<(Duration, Value)> {
    let started = Instant::now();
    let mut resp = agent
        .get(format!("{}{path}", target.base))
        .header("Authorization", format!("Bearer {}", target.token))
        .call()?;
    let status = resp.status();
    // Timed to the last byte received; parsing the answer is the client's cost.
    let bytes = resp.body_mut().with_config().limit(1 << 30).read_to_vec()?;
    let elapsed = started.elapsed();
    let answer: Value = serde_json::from_slice(&bytes)?;
    if !status.is_success() {
        bail!("GET {path} failed with {status}: {answer}");
    }
    Ok((elapsed, answer))
}

pub(crate) fn trust(agent: &ureq::Agent, target: &Target, key: &SigningKey) -> Result<()> {
    let body = json!({"name": "loadgen", "pem": key.public().to_pem()}).to_string();
    post(agent, target, "/api/v1/orgs/default/keys", body.as_bytes()).map(|_| ())
}

pub fn ingest(agent: &ureq::Agent, postgres: bool, count: usize, clients: usize) -> Result<()> {
    let (target, url) = start_server_with(postgres)?;
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).context("key")?;
    trust(agent, &target, &key)?;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut rng = Rng(0x5eed);
    let envelopes: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            envelope(
                &key,
                &format!("svc-{:03}", i % 200),
                "1.0.0",
                now - 60_000 - i as i64,
                &mut rng,
            )
        })
        .collect();
    let started = Instant::now();
    let per = count.div_ceil(clients);
    let mut latencies = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let handles: Vec<_> = envelopes
            .chunks(per)
            .map(|chunk| {
                let agent = agent.clone();
                let target = &target;
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let mut times = Vec::with_capacity(chunk.len());
                    for e in chunk {
                        let t = Instant::now();
                        let a = post(&agent, target, "/api/v1/orgs/default/attestations", e)?;
                        times.push(t.elapsed());
                        if a["created"] != true {
                            bail!("not created: {a}");
                        }
                    }
                    Ok(times)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(count);
        for h in handles {
            all.extend(h.join().expect("client thread")?);
        }
        Ok(all)
    })?;
    latencies.sort();
    let elapsed = started.elapsed();
    let backend = if postgres { "postgres" } else { "sqlite" };
    println!(
        "ingest: {count} signed attestations (10 evaluations each) from {clients} clients over HTTP, backend {backend}"
    );
    println!(
        "  wall {elapsed:.2?}  throughput {:.0} attestations/s  latency p50 {:.1?}  p99 {:.1?}",
        count as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99)
    );

    // Cost of one attestation, in process: parse, verify, store.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&url))?;
    let org = rt.block_on(store.org_by_name("default"))?.context("org")?;
    let trust_store = comply_attest::TrustStore::new().with_key("loadgen", key.public());
    let sample: Vec<Vec<u8>> = (0..1000)
        .map(|i| envelope(&key, "breakdown", "1.0.0", now - 120_000 - i, &mut rng))
        .collect();
    let (mut parse, mut verify, mut store_t) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for bytes in &sample {
        let t = Instant::now();
        let signed = comply_attest::parse_envelope(bytes)?;
        let statement = comply_attest::parse_statement(&signed.payload)?;
        let predicate = comply_attest::ChainloopPredicate::from_statement(&statement)?;
        parse += t.elapsed();
        let t = Instant::now();
        comply_attest::verify(
            &signed,
            &trust_store,
            predicate.metadata.finished_at_ms.unwrap_or(0),
        )?;
        verify += t.elapsed();
        let new = NewAttestation {
            digest: signed.digest(),
            project: "breakdown".into(),
            version: "1.0.0".into(),
            prerelease: None,
            workflow: Some("build".into()),
            contract: Some("build".into()),
            finished_at: predicate.metadata.finished_at_ms.unwrap_or(0),
            signer: "key:loadgen".into(),
            verified: true,
            envelope: String::from_utf8_lossy(&signed.envelope_json()).into_owned(),
            evaluations: predicate
                .policy_evaluations
                .iter()
                .map(|e| NewEvaluation {
                    policy: e.name.clone(),
                    policy_ref: e.name.clone(),
                    policy_digest: None,
                    material: e.material_name.clone(),
                    material_type: e.kind.clone(),
                    args: e.with.clone(),
                    violations: json!([]),
                    skipped: e.skipped,
                    skip_reasons: e.skip_reasons.clone(),
                    requirements: e.requirements.clone(),
                    gate: e.gate,
                    networked: None,
                })
                .collect(),
            evaluations_ref: None,
            evaluations_supplied: false,
        };
        let t = Instant::now();
        rt.block_on(store.ingest(org.id, &new, now))?;
        store_t += t.elapsed();
    }
    let n = sample.len() as u32;
    println!(
        "  per attestation (in process, 1,000 samples): parse {:.1?}, verify (Ed25519) {:.1?}, store {:.1?}",
        parse / n,
        verify / n,
        store_t / n
    );
    Ok(())
}

/// 150 requirements over the ten policies (arguments compatible with the synthetic
/// evaluations, several periodicities and SLAs) in framework `bench`, and a 20-
/// requirement framework `small` for the overview's products.
pub(crate) fn resources(products: usize, projects: usize, projects_per_big: usize) -> String {
    let mut docs = Vec::new();
    let variants = [
        (
            "vulnerabilities",
            "      with: {severity: HIGH}\n      periodicity: daily\n      sla: 24\n",
        ),
        ("sbom-present", ""),
        ("sbom-ntia", "      periodicity: weekly\n"),
        ("sbom-freshness", "      with: {limit: \"30\"}\n"),
        (
            "sast-findings",
            "      with: {severity: CRITICAL}\n      sla: 72\n",
        ),
        ("secrets-absent", "      periodicity: daily\n"),
        ("tests-pass", "      with: {min_tests: \"5\"}\n"),
        ("container-signed", ""),
        ("slsa-provenance", ""),
        ("cves-in-kev", "      periodicity: daily\n      sla: 12\n"),
    ];
    for i in 0..150 {
        let (policy, extra) = variants[i % variants.len()];
        let proof = if i % 15 == 0 {
            "  manual_proofs:\n    - name: review\n      periodicity: yearly\n"
        } else {
            ""
        };
        let scope = if i % 50 == 7 {
            "\n    scope: PRODUCT"
        } else {
            ""
        };
        let (policies, proof) = if scope.is_empty() {
            (format!("  policies:\n    - ref: {policy}\n{extra}"), proof)
        } else {
            (
                String::new(),
                "  manual_proofs:\n    - name: review\n      periodicity: yearly\n",
            )
        };
        docs.push(format!(
            "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: bench-{i:03}\n  annotations:\n    categories: bench{scope}\nspec:\n{policies}{proof}"
        ));
    }
    let refs = |range: std::ops::Range<usize>| {
        range
            .map(|i| format!("    - ref: bench-{i:03}\n"))
            .collect::<String>()
    };
    docs.push(format!(
        "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: bench\nspec:\n  requirements:\n{}",
        refs(0..150)
    ));
    docs.push(format!(
        "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: small\nspec:\n  requirements:\n{}",
        refs(0..20)
    ));
    let big: Vec<String> = (0..projects_per_big).map(|p| format!("p-{p:05}")).collect();
    docs.push(format!(
        "apiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: big\nspec:\n  projects: [{}]\n  versions:\n    - name: \"1\"\n      frameworks: [bench]\n",
        big.join(", ")
    ));
    for i in 0..products {
        let ps: Vec<String> = (0..3)
            .map(|k| format!("p-{:05}", (i * 3 + k) % projects))
            .collect();
        docs.push(format!(
            "apiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: prod-{i:04}\nspec:\n  projects: [{}]\n  versions:\n    - name: \"1\"\n      frameworks: [small]\n",
            ps.join(", ")
        ));
    }
    docs.join("---\n")
}

/// `total` requests for the big status from `clients` threads at once, each timed to
/// the answer's last byte (not parsed: the clients share the server's cores).
fn concurrent_status(
    agent: &ureq::Agent,
    target: &Target,
    clients: usize,
    total: usize,
) -> Result<Vec<Duration>> {
    let url = format!("{}/api/v1/orgs/default/products/big/status", target.base);
    let auth = format!("Bearer {}", target.token);
    let per_client = total.div_ceil(clients);
    let mut times = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let (url, auth) = (&url, &auth);
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let mut times = Vec::with_capacity(per_client);
                    for _ in 0..per_client {
                        let started = Instant::now();
                        let mut resp = agent.get(url).header("Authorization", auth).call()?;
                        if !resp.status().is_success() {
                            bail!("concurrent status failed with {}", resp.status());
                        }
                        resp.body_mut().with_config().limit(1 << 30).read_to_vec()?;
                        times.push(started.elapsed());
                    }
                    Ok(times)
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().expect("client thread")?);
        }
        Ok(all)
    })?;
    times.sort();
    Ok(times)
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

// The command line's portfolio options, one by one.
#[allow(clippy::too_many_arguments)]
pub fn portfolio(
    agent: &ureq::Agent,
    postgres: bool,
    projects: usize,
    attestations_per_project: usize,
    products: usize,
    samples: usize,
    kept: Option<&std::path::Path>,
    dashboard: bool,
) -> Result<()> {
    let (target, url, seeded) = start_server_on(postgres, kept)?;
    let body = json!({"documents": [{"file": "portfolio.yaml", "content": resources(products, projects, 20)}]});
    post(
        agent,
        &target,
        "/api/v1/orgs/default/apply",
        body.to_string().as_bytes(),
    )?;

    // Seeding goes through the store directly: the subject here is reads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&url))?;
    let org = rt.block_on(store.org_by_name("default"))?.context("org")?;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut rng = Rng(0xfeed);
    let started = Instant::now();
    let mut total = 0usize;
    for day in 0..attestations_per_project {
        if seeded {
            println!("portfolio: measuring the database seeded earlier");
            break;
        }
        for p in 0..projects {
            let finished =
                now - (attestations_per_project - day) as i64 * DAY + (p as i64 % 3600) * 1000;
            let evaluations = evaluations(&mut rng)
                .into_iter()
                .map(|(name, args, violations)| NewEvaluation {
                    policy: name.clone(),
                    policy_ref: format!("chainloop://{name}"),
                    policy_digest: None,
                    material: Some("sbom".into()),
                    material_type: Some("SBOM_CYCLONEDX_JSON".into()),
                    args,
                    violations: Value::Array(
                        violations
                            .into_iter()
                            .map(|v| json!({"message": v["message"], "finding": {"vulnerability": v["vulnerability"]}, "suppressed": false}))
                            .collect(),
                    ),
                    skipped: false,
                    skip_reasons: Vec::new(),
                    requirements: Vec::new(),
                    gate: false,
                    networked: None,
                })
                .collect::<Vec<_>>();
            total += evaluations.len();
            let a = NewAttestation {
                digest: format!("sha256:{:016x}{:016x}", rng.next(), rng.next()),
                project: format!("p-{p:05}"),
                version: "1.0".into(),
                prerelease: None,
                workflow: Some("build".into()),
                contract: Some("build".into()),
                finished_at: finished,
                signer: "key:loadgen".into(),
                verified: true,
                envelope: "{}".into(),
                evaluations,
                evaluations_ref: None,
                evaluations_supplied: false,
            };
            rt.block_on(store.ingest(org.id, &a, finished))?;
        }
    }
    let backend = if postgres { "postgres" } else { "sqlite" };
    println!(
        "portfolio: {projects} projects × {attestations_per_project} daily attestations = {total} evaluations (seeded in {:.1?}), backend {backend}",
        started.elapsed()
    );

    // What SQLite does by itself shortly after a burst of writes; measuring with the
    // whole seeding still in the log would measure the log.
    rt.block_on(store.checkpoint())?;
    // Untimed requests first: the server's catalog, each pooled connection's first
    // pages, the allocator's first memory. Steady state is what is timed; the first
    // overview below shows what a fresh process pays.
    for _ in 0..10 {
        get(agent, &target, "/api/v1/orgs/default/products/big/status")?;
    }
    let mut times = Vec::new();
    let mut cells = 0;
    for _ in 0..samples {
        let (t, answer) = get(agent, &target, "/api/v1/orgs/default/products/big/status")?;
        cells = answer["cells"].as_array().map_or(0, Vec::len);
        times.push(t);
    }
    times.sort();
    println!(
        "  status of one product version (20 projects, 150 requirements, {cells} cells): p50 {:.1?}  p95 {:.1?}  ({samples} requests)",
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    // Eight clients asking at once: the computations queue on the server's compute pool
    // (one thread per core) instead of each spawning a thread per core.
    let concurrent = concurrent_status(agent, &target, 8, samples.max(8))?;
    println!(
        "  the same status from 8 concurrent clients: p50 {:.1?}  p95 {:.1?}  ({} requests)",
        percentile(&concurrent, 0.5),
        percentile(&concurrent, 0.95),
        concurrent.len()
    );
    let mut small = Vec::new();
    for _ in 0..samples.min(20) {
        let (t, _) = get(
            agent,
            &target,
            "/api/v1/orgs/default/products/big/status?requirement=bench-000",
        )?;
        small.push(t);
    }
    println!(
        "  the same computation answering one requirement's 20 cells: median {:.1?}",
        median(small)
    );
    // The first overview computes every product version; later ones reuse what did
    // not change. Then one project gets a new attestation and the overview is asked
    // again: only the product versions containing it are computed.
    let (cold, answer) = get(agent, &target, "/api/v1/orgs/default/status")?;
    let versions = answer["products"].as_array().map_or(0, Vec::len);
    // An explicit instant is never answered from reused rows: every request computes
    // every product version, as the first one does.
    let mut full = Vec::new();
    for _ in 0..samples.min(7) {
        let at = jiff::Timestamp::now().to_string();
        full.push(
            get(
                agent,
                &target,
                &format!("/api/v1/orgs/default/status?at={at}"),
            )?
            .0,
        );
    }
    let mut warm = Vec::new();
    for _ in 0..samples.min(10) {
        warm.push(get(agent, &target, "/api/v1/orgs/default/status")?.0);
    }
    let a = NewAttestation {
        digest: format!("sha256:{:016x}{:016x}", rng.next(), rng.next()),
        project: "p-00000".into(),
        version: "1.0".into(),
        prerelease: None,
        workflow: Some("build".into()),
        contract: Some("build".into()),
        finished_at: now - 1000,
        signer: "key:loadgen".into(),
        verified: true,
        envelope: "{}".into(),
        evaluations: Vec::new(),
        evaluations_ref: None,
        evaluations_supplied: false,
    };
    rt.block_on(store.ingest(org.id, &a, now))?;
    let (after_ingest, _) = get(agent, &target, "/api/v1/orgs/default/status")?;
    println!(
        "  org overview ({versions} product versions: {products} × 3 projects × 20 requirements, and the one above): first {cold:.1?}, computed in full (?at=now) median {:.1?}, again median {:.1?}, after one project's new attestation {after_ingest:.1?}",
        median(full),
        median(warm)
    );
    if dashboard {
        crate::dashboard::measure(&target, samples.min(20))?;
    }
    Ok(())
}

/// `coverage`: one requirement's coverage across `contracts` contracts used by the
/// workflows of `projects` projects, over HTTP.
pub fn coverage(
    agent: &ureq::Agent,
    postgres: bool,
    contracts: usize,
    projects: usize,
    samples: usize,
) -> Result<()> {
    let (target, url) = start_server_with(postgres)?;
    let mut docs = vec![
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: container-security\nspec:\n  policies:\n    - ref: container-signed\n    - ref: vulnerabilities\n      with: {severity: HIGH}\n".to_owned(),
    ];
    let severities = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
    for c in 0..contracts {
        let mut policies = String::new();
        if c % 3 != 2 {
            policies.push_str("      - {ref: container-signed, selector: {name: image}}\n");
        }
        if c % 2 == 0 {
            policies.push_str(&format!(
                "      - {{ref: vulnerabilities, selector: {{name: scan}}, with: {{severity: {}}}}}\n",
                severities[(c / 2) % 4]
            ));
        }
        policies.push_str("      - {ref: sbom-ntia, selector: {name: sbom}}\n");
        docs.push(format!(
            "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: c-{c:05}\nspec:\n  materials:\n    - {{name: image, type: CONTAINER_IMAGE}}\n    - {{name: scan, type: SARIF}}\n    - {{name: sbom, type: SBOM_CYCLONEDX_JSON}}\n  policies:\n    materials:\n{policies}"
        ));
    }
    let body = json!({"documents": [{"file": "contracts.yaml", "content": docs.join("---\n")}]});
    let started = Instant::now();
    post(
        agent,
        &target,
        "/api/v1/orgs/default/apply",
        body.to_string().as_bytes(),
    )?;
    println!(
        "coverage: applied {contracts} contracts in {:.1?}",
        started.elapsed()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&url))?;
    let org = rt.block_on(store.org_by_name("default"))?.context("org")?;
    for p in 0..projects {
        // Two workflows per project, on two contracts: coverage is their union.
        for w in 0..2 {
            let contract = format!("c-{:05}", (p * 2 + w) % contracts);
            rt.block_on(store.upsert_workflow(
                org.id,
                &format!("p-{p:05}"),
                &format!("w{w}"),
                &contract,
                0,
            ))?;
        }
    }
    let mut times = Vec::new();
    let mut counts = (0, 0, 0);
    for _ in 0..samples {
        let (t, report) = get(
            agent,
            &target,
            "/api/v1/orgs/default/requirements/container-security/coverage",
        )?;
        times.push(t);
        counts = (0, 0, 0);
        for p in report["projects"].as_array().into_iter().flatten() {
            match p["coverage"].as_str() {
                Some("FULL") => counts.0 += 1,
                Some("PARTIAL") => counts.1 += 1,
                _ => counts.2 += 1,
            }
        }
    }
    times.sort();
    let backend = if postgres { "postgres" } else { "sqlite" };
    println!(
        "  coverage of one requirement, {contracts} contracts, {projects} projects (FULL {}, PARTIAL {}, NONE {}), backend {backend}: p50 {:.1?}  p95 {:.1?}",
        counts.0,
        counts.1,
        counts.2,
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
    Ok(())
}
