//! Crash consistency (issue #15): a real `comply serve` process under concurrent signed
//! pushes and decisions is killed with SIGKILL and restarted; every acknowledged write
//! is there, none is partial, and the audit chain verifies. SQLite always, PostgreSQL
//! when `COMPLY_TEST_DATABASE_URL` is set. Bounded: about two seconds of load a backend.

use crate::support::BIN;
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use comply_store::testing::{TempDir, TestDb};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `comply serve`; its address and, on first start, the token it printed.
pub(crate) fn start(dir: &TempDir, database_url: Option<&str>) -> (Server, String, Option<String>) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--data-dir", "data"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("COMPLY_LOG", "info,tower_http=warn")
        .env_remove("COMPLY_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Drained for the process's whole life: a full pipe would block its logging.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("comply is listening addr=").nth(1) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server announces its address");
    // The first-start token is printed before the address; stdout stays open, so take
    // what arrives until it goes quiet.
    let (otx, orx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0
                || otx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut printed = String::new();
    while let Ok(chunk) = orx.recv_timeout(Duration::from_millis(300)) {
        printed.push_str(&chunk);
    }
    (
        Server(child),
        format!("http://{addr}"),
        first_token(&printed),
    )
}

fn first_token(stdout: &str) -> Option<String> {
    // The token stands alone on its line inside the first-start frame.
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("comply_"))
        .map(str::to_owned)
}

pub(crate) fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

pub(crate) fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> Option<(u16, Value)> {
    let auth = format!("Bearer {token}");
    let result = match (method, body) {
        ("GET", _) => agent.get(url).header("Authorization", &auth).call(),
        ("POST", Some(b)) => agent.post(url).header("Authorization", &auth).send_json(b),
        _ => unreachable!(),
    };
    let mut response = result.ok()?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

const RESOURCES: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: no-vulns-high\nspec:\n  policies:\n    - ref: vulnerabilities\n      with: {severity: HIGH}\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  requirements: [{ref: no-vulns-high}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: portal\nspec:\n  projects: [api]\n  versions:\n    - name: \"1.0\"\n      frameworks: [fw]\n";

fn envelope(key: &SigningKey, client: usize, n: usize) -> Value {
    let finished = jiff::Timestamp::now().as_millisecond() - 60_000 - (client * 100_000 + n) as i64;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": format!("{:064x}", client * 1_000_000 + n)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": {"name": "build", "workflowName": "build", "project": "api", "projectVersion": "1.0",
                                   "finishedAt": jiff::Timestamp::from_millisecond(finished).unwrap().to_string()},
            "policyEvaluations": {"scan": [
                {"name": "vulnerabilities", "with": {"severity": "HIGH"}, "violations": []},
                {"name": "sbom-present", "with": {}, "violations": []},
                {"name": "licenses", "with": {}, "violations": [{"subject": "x", "message": "GPL"}]},
            ]}},
    });
    serde_json::from_slice(&sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        key,
    ))
    .unwrap()
}

fn crash_and_recover(database_url: Option<&str>, what: &str) {
    let dir = TempDir::new();
    let (server, base, token) = start(&dir, database_url);
    let token = token.expect("first start prints the token");
    let agent = new_agent();
    let org = format!("{base}/api/v1/orgs/default");
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let (status, body) = call(
        &agent,
        "POST",
        &format!("{org}/keys"),
        &token,
        Some(&json!({"name": "ci", "pem": key.public().to_pem()})),
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        &agent,
        "POST",
        &format!("{org}/apply"),
        &token,
        Some(&json!({"documents": [{"file": "r.yaml", "content": RESOURCES}]})),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");

    let stop = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(Mutex::new(Vec::<String>::new()));
    let decided = Arc::new(Mutex::new(Vec::<i64>::new()));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for client in 0..4 {
        let (stop, pushed, acknowledged, org, token, key) = (
            stop.clone(),
            pushed.clone(),
            acknowledged.clone(),
            org.clone(),
            token.clone(),
            key.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let agent = new_agent();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match call(
                    &agent,
                    "POST",
                    &format!("{org}/attestations"),
                    &token,
                    Some(&envelope(&key, client, n)),
                ) {
                    Some((200, answer)) => {
                        pushed
                            .lock()
                            .unwrap()
                            .push(answer["digest"].as_str().unwrap().to_owned());
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    Some((status, answer)) => panic!("push refused: {status} {answer}"),
                    None => break, // the server is gone
                }
            }
        }));
    }
    {
        let (stop, decided, org, token) =
            (stop.clone(), decided.clone(), org.clone(), token.clone());
        workers.push(std::thread::spawn(move || {
            let agent = new_agent();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = json!({"product": "portal", "version": "1.0", "project": "api", "requirement": "no-vulns-high", "reason": format!("decision {n}")});
                match call(&agent, "POST", &format!("{org}/exceptions"), &token, Some(&body)) {
                    Some((201, answer)) => decided.lock().unwrap().push(answer["id"].as_i64().unwrap()),
                    Some((status, answer)) => panic!("exception refused: {status} {answer}"),
                    None => break,
                }
            }
        }));
    }
    // Load until enough writes are acknowledged (or a time bound), then SIGKILL.
    for _ in 0..100 {
        if acknowledged.load(Ordering::Relaxed) >= 150 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let pushed = pushed.lock().unwrap().clone();
    let decided = decided.lock().unwrap().clone();
    assert!(
        !pushed.is_empty() && !decided.is_empty(),
        "{what}: load ran"
    );

    let (_server, base, _) = start(&dir, database_url);
    let org = format!("{base}/api/v1/orgs/default");
    let (status, stored) = call(
        &agent,
        "GET",
        &format!("{org}/attestations?limit=100000"),
        &token,
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{stored}");
    let stored = stored.as_array().unwrap();
    for digest in &pushed {
        assert!(
            stored.iter().any(|a| a["digest"] == digest.as_str()),
            "{what}: acknowledged {digest} survived"
        );
    }
    for a in stored {
        let digest = a["digest"].as_str().unwrap();
        let (status, full) = call(
            &agent,
            "GET",
            &format!("{org}/attestations/{digest}"),
            &token,
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{full}");
        let evaluations = full["evaluations"]
            .as_array()
            .or(full["policy_evaluations"].as_array());
        assert_eq!(
            evaluations.map(Vec::len),
            Some(3),
            "{what}: {digest} is whole: {full}"
        );
    }
    let (_, exceptions) = call(
        &agent,
        "GET",
        &format!("{org}/exceptions?product=portal&version=1.0"),
        &token,
        None,
    )
    .unwrap();
    let exceptions = exceptions.as_array().unwrap();
    for id in &decided {
        assert!(
            exceptions.iter().any(|e| e["id"] == *id),
            "{what}: acknowledged exception {id} survived"
        );
    }
    let active = exceptions.iter().filter(|e| e["active"] == true).count();
    assert_eq!(active, 1, "{what}: one active decision for the cell");
    let (_, verify) = call(&agent, "GET", &format!("{org}/audit/verify"), &token, None).unwrap();
    assert_eq!(verify["intact"], true, "{what}: {verify}");
    eprintln!(
        "{what}: {} pushes and {} decisions acknowledged before SIGKILL, all present",
        pushed.len(),
        decided.len()
    );
}

#[test]
fn sigkill_loses_no_acknowledged_write_on_sqlite() {
    crash_and_recover(None, "SQLite");
}

#[test]
fn sigkill_loses_no_acknowledged_write_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = rt.block_on(TestDb::postgres()) else {
        return;
    };
    crash_and_recover(Some(&db.url), "PostgreSQL");
    drop(db);
}
