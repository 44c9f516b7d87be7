//! Memory freed after load goes back to the operating system (issue #15, defect 11;
//! decision 0034): a real `comply serve` process handles attestations at the bounds,
//! then idles, and its resident memory falls within seconds. Before the fix it stayed
//! where the last request left it, however long the server idled.

use crate::crash::{call, new_agent, start};
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use comply_store::testing::TempDir;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: f64 = line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib / 1024.0
}

/// 1,000 subjects and 10,000 evaluations: the largest attestation the server takes.
fn large(key: &SigningKey, version: &str) -> Vec<u8> {
    let finished = jiff::Timestamp::now().as_millisecond() - 60_000;
    let evaluations: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"name": format!("policy-{}", i % 50), "with": {"index": i.to_string()},
                        "violations": [{"subject": format!("c-{i}"), "message": "finding"}]})
        })
        .collect();
    let subjects: Vec<Value> = (0..1000)
        .map(|i| json!({"name": format!("part-{i}"), "digest": {"sha256": format!("{i:064x}")}}))
        .collect();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": {"name": "build", "workflowName": "build", "project": "api",
                                   "projectVersion": version,
                                   "finishedAt": jiff::Timestamp::from_millisecond(finished).unwrap().to_string()},
                      "policyEvaluations": {"scan": evaluations}},
    });
    sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        key,
    )
}

#[test]
#[cfg(target_os = "linux")]
fn memory_freed_after_load_goes_back_to_the_system() {
    let dir = TempDir::new();
    let (server, base, token) = start(&dir, None);
    let token = token.expect("first-start token");
    let pid = server.0.id();
    let agent = new_agent();
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let (status, body) = call(
        &agent,
        "POST",
        &format!("{base}/api/v1/orgs/default/keys"),
        &token,
        Some(&json!({"name": "ci", "pem": key.public().to_pem()})),
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let before = rss_mib(pid);
    let bodies: Vec<Vec<u8>> = (0..3).map(|v| large(&key, &format!("1.{v}"))).collect();
    // One after the other: concurrent 10,000-evaluation writes would wait on SQLite's
    // one writer past its busy timeout in a debug build.
    for body in &bodies {
        let mut answer = agent
            .post(format!("{base}/api/v1/orgs/default/attestations"))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .config()
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .send(body)
            .unwrap();
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string().unwrap();
        assert_eq!(status, 200, "{text}");
    }
    let after = rss_mib(pid);
    assert!(
        after > before + 40.0,
        "the pushes took memory: {before:.0} → {after:.0} MiB"
    );
    // Freed ranges are due a second after they were freed; the release thread runs
    // every second. Alone this takes about a second; beside the rest of the suite on
    // two cores it took over five once, so the bound is fifteen (without the release
    // thread nothing is given back however long it waits).
    let started = Instant::now();
    let mut now = after;
    while started.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(250));
        now = rss_mib(pid);
        if after - now >= 25.0 {
            break;
        }
    }
    eprintln!(
        "RSS before {before:.0} MiB, right after {after:.0} MiB, {:.1?} later {now:.0} MiB",
        started.elapsed()
    );
    assert!(
        after - now >= 25.0,
        "idle for {:.1?}, RSS stayed at {now:.0} MiB (before the pushes {before:.0}, right after {after:.0})",
        started.elapsed()
    );
}
