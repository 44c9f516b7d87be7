//! Scenarios `soak` and `memory`, against a server in a child process, so that the
//! resident memory read from `/proc/<pid>/status` is the server's alone.
//!
//! `soak`: mixed load for a bounded time — signed pushes from several clients, the
//! status of one product version, the org overview, a requirement's coverage, and now
//! and then a burst of the largest attestations the server accepts — then an idle
//! period; the server's RSS and every request's latency are sampled throughout.
//!
//! `memory`: one burst of large attestations, then idle, sampling RSS: whether memory
//! the burst took goes back to the operating system (decision 0034).

use crate::Target;
use crate::evidence::{Rng, envelope, percentile, resources, rfc3339, trust};
use anyhow::{Context, Result, bail};
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The server under load: a child process running this binary with `--serve-child`,
/// or an external server (`--server`, with `--server-pid` for its memory).
pub struct Server {
    pub target: Target,
    pub pid: u32,
    child: Option<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // Closing its stdin ends the child; kill is the fallback.
            drop(child.stdin.take());
            for _ in 0..50 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    pub fn start(external: Option<(String, String, u32)>) -> Result<Server> {
        if let Some((base, token, pid)) = external {
            return Ok(Server {
                target: Target::remote(base, token),
                pid,
                child: None,
            });
        }
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--serve-child")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the server process")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("child stdout")?).read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let (Some(base), Some(token)) = (parts.next(), parts.next()) else {
            let _ = child.kill();
            bail!("the server process did not report its address: {line:?}");
        };
        Ok(Server {
            target: Target::remote(base.to_owned(), token.to_owned()),
            pid: child.id(),
            child: Some(child),
        })
    }

    /// Resident and peak resident memory in MiB.
    pub fn memory(&self) -> Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .with_context(|| format!("reading /proc/{}/status", self.pid))?;
        let field = |name: &str| -> Result<f64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("{name} in /proc/{}/status", self.pid))?;
            let kib: f64 = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()?;
            Ok(kib / 1024.0)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

/// The child side of [`Server::start`]: serve until stdin closes.
pub fn serve_child() -> Result<()> {
    let target = crate::start_server_with(false)?.0;
    println!("{} {}", target.base, target.token);
    std::io::stdout().flush()?;
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink)? > 0 {}
    Ok(())
}

/// An attestation at the server's bounds: 1,000 subjects and 10,000 policy
/// evaluations, a fifth of them with a finding (about 4 MB signed).
fn large_envelope(key: &SigningKey, project: &str, version: &str, rng: &mut Rng) -> Vec<u8> {
    let evaluations: Vec<Value> = (0..10_000)
        .map(|i| {
            let violations = if i % 5 == 0 {
                vec![json!({"subject": format!("component-{i}"), "message": "synthetic finding in a large attestation",
                            "vulnerability": {"severity": "HIGH", "externalId": format!("CVE-2026-{i:05}")}})]
            } else {
                Vec::new()
            };
            let name = format!("policy-{:02}", i % 50);
            json!({"name": name, "materialName": format!("m-{}", i % 1000),
                   "policyReference": {"name": name, "uri": format!("chainloop://{name}")},
                   "with": {"index": i.to_string()}, "type": "SBOM_CYCLONEDX_JSON", "violations": violations})
        })
        .collect();
    let subjects: Vec<Value> = (0..1000)
        .map(|i| json!({"name": format!("ghcr.io/acme/{project}/part-{i}"), "digest": {"sha256": format!("{:064x}", rng.next())}}))
        .collect();
    let finished = jiff::Timestamp::now().as_millisecond() - 1000;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
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

/// One timed request to the last byte of its answer; `Err` only when the server could
/// not be reached or the answer not read.
fn timed(
    agent: &ureq::Agent,
    target: &Target,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(Duration, u16, String)> {
    let url = format!("{}{path}", target.base);
    let auth = format!("Bearer {}", target.token);
    let started = Instant::now();
    let mut resp = match body {
        Some(body) => agent
            .post(url)
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .send(body)?,
        None => agent.get(url).header("Authorization", auth).call()?,
    };
    let answer = resp.body_mut().with_config().limit(1 << 30).read_to_vec()?;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    // An error's kind is its problem document's title, where it has one.
    let kind = if (200..300).contains(&status) {
        String::new()
    } else {
        let text = String::from_utf8_lossy(&answer);
        let title = serde_json::from_slice::<Value>(&answer)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned));
        let what = title.unwrap_or_else(|| text.chars().take(80).collect());
        format!("{status} {}", what.chars().take(160).collect::<String>())
    };
    Ok((elapsed, status, kind))
}

#[derive(Default)]
struct Kind {
    times: Vec<Duration>,
    errors: BTreeMap<String, usize>,
}

#[derive(Default)]
struct Record(Mutex<BTreeMap<&'static str, Kind>>);

impl Record {
    fn add(&self, kind: &'static str, result: Result<(Duration, u16, String)>) {
        let mut all = self.0.lock().expect("record");
        let entry = all.entry(kind).or_default();
        match result {
            Ok((t, status, _)) if (200..300).contains(&status) => entry.times.push(t),
            Ok((_, _, what)) => *entry.errors.entry(what).or_default() += 1,
            Err(e) => *entry.errors.entry(format!("{e:#}")).or_default() += 1,
        }
    }

    fn counts(&self) -> (usize, usize) {
        let all = self.0.lock().expect("record");
        let ok = all.values().map(|k| k.times.len()).sum();
        let errors = all.values().flat_map(|k| k.errors.values()).sum();
        (ok, errors)
    }
}

const PUSH: &str = "/api/v1/orgs/default/attestations";

/// Pushes `count` large attestations from `clients` clients at once.
fn burst(
    agent: &ureq::Agent,
    target: &Target,
    key: &SigningKey,
    count: usize,
    clients: usize,
    round: usize,
    record: &Record,
) {
    let mut rng = Rng(0xb0057 + round as u64);
    let envelopes: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            large_envelope(
                key,
                &format!("large-{i:02}"),
                &format!("{round}.0"),
                &mut rng,
            )
        })
        .collect();
    std::thread::scope(|scope| {
        for chunk in envelopes.chunks(count.div_ceil(clients.max(1))) {
            scope.spawn(move || {
                for e in chunk {
                    record.add("large push", timed(agent, target, PUSH, Some(e)));
                }
            });
        }
    });
}

fn mib(v: f64) -> String {
    format!("{v:.0} MiB")
}

fn summary(record: &Record) {
    println!("| request | answered 2xx | errors | p50 | p95 | p99 | max |");
    println!("|---|---|---|---|---|---|---|");
    let all = record.0.lock().expect("record");
    for (kind, k) in all.iter() {
        let mut times = k.times.clone();
        times.sort();
        let errors: usize = k.errors.values().sum();
        let cell = |p: f64| {
            if times.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.1?}", percentile(&times, p))
            }
        };
        println!(
            "| {kind} | {} | {errors} | {} | {} | {} | {} |",
            times.len(),
            cell(0.5),
            cell(0.95),
            cell(0.99),
            cell(1.0)
        );
    }
    for (kind, k) in all.iter() {
        for (what, n) in &k.errors {
            println!("  {kind}: {n} × {what}");
        }
    }
}

/// Samples RSS every `every` for `idle`, printing each; the last reading.
fn idle(server: &Server, started: Instant, idle: Duration, every: Duration) -> Result<f64> {
    let until = Instant::now() + idle;
    let mut last = server.memory()?.0;
    while Instant::now() < until {
        std::thread::sleep(every.min(until.saturating_duration_since(Instant::now())));
        last = server.memory()?.0;
        println!(
            "  t={:>5.1}s idle  rss {}",
            started.elapsed().as_secs_f64(),
            mib(last)
        );
    }
    Ok(last)
}

pub struct MemoryArgs {
    pub external: Option<(String, String, u32)>,
    pub count: usize,
    pub clients: usize,
    pub idle_seconds: u64,
}

pub fn memory(agent: &ureq::Agent, args: MemoryArgs) -> Result<()> {
    let server = Server::start(args.external)?;
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).context("key")?;
    trust(agent, &server.target, &key)?;
    let (before, _) = server.memory()?;
    let started = Instant::now();
    let record = Record::default();
    let done = AtomicBool::new(false);
    let (_, peak) = std::thread::scope(|scope| -> Result<(f64, f64)> {
        let sampler = scope.spawn(|| -> Result<f64> {
            let mut max: f64 = 0.0;
            while !done.load(Ordering::Relaxed) {
                max = max.max(server.memory()?.0);
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(max)
        });
        burst(
            agent,
            &server.target,
            &key,
            args.count,
            args.clients,
            1,
            &record,
        );
        done.store(true, Ordering::Relaxed);
        let sampled = sampler.join().expect("sampler")?;
        Ok((sampled, server.memory()?.1))
    })?;
    let (at_end, _) = server.memory()?;
    println!(
        "memory: {} attestations of 1,000 subjects and 10,000 evaluations from {} clients in {:.1?}",
        args.count,
        args.clients,
        started.elapsed()
    );
    let end = idle(
        &server,
        started,
        Duration::from_secs(args.idle_seconds),
        Duration::from_secs(1),
    )?;
    summary(&record);
    println!(
        "server RSS: before {}, peak {} (VmHWM), right after {}, after {} s idle {}",
        mib(before),
        mib(peak),
        mib(at_end),
        args.idle_seconds,
        mib(end)
    );
    Ok(())
}

pub struct SoakArgs {
    pub external: Option<(String, String, u32)>,
    pub seconds: u64,
    pub pushers: usize,
    pub sample_seconds: u64,
    pub burst_every: u64,
    pub idle_seconds: u64,
}

pub fn soak(agent: &ureq::Agent, args: SoakArgs) -> Result<()> {
    const PROJECTS: usize = 200;
    const PRODUCTS: usize = 50;
    let server = Server::start(args.external)?;
    let target = &server.target;
    let body = json!({"documents": [{"file": "portfolio.yaml", "content": resources(PRODUCTS, PROJECTS, 20)}]});
    let (_, status, what) = timed(
        agent,
        target,
        "/api/v1/orgs/default/apply",
        Some(body.to_string().as_bytes()),
    )?;
    if status != 200 {
        bail!("apply answered {what}");
    }
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).context("key")?;
    trust(agent, target, &key)?;
    let (start_rss, _) = server.memory()?;
    let record = Record::default();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    println!(
        "soak: {} s of mixed load, {} push clients, a burst of 4 large attestations every {} s; server RSS after setup {}",
        args.seconds,
        args.pushers,
        args.burst_every,
        mib(start_rss)
    );
    let mut samples: Vec<f64> = vec![start_rss];
    std::thread::scope(|scope| -> Result<()> {
        let stop = &stop;
        let record = &record;
        for client in 0..args.pushers {
            let key = &key;
            scope.spawn(move || {
                let mut rng = Rng(0x50a4 + client as u64);
                let mut i = client;
                while !stop.load(Ordering::Relaxed) {
                    let project = format!("p-{:05}", i % PROJECTS);
                    let finished = jiff::Timestamp::now().as_millisecond() - 1000;
                    let e = envelope(key, &project, "1.0", finished, &mut rng);
                    record.add("push", timed(agent, target, PUSH, Some(&e)));
                    i += args.pushers;
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        let readers: [(&'static str, &'static str, u64); 3] = [
            ("status", "/api/v1/orgs/default/products/big/status", 100),
            ("overview", "/api/v1/orgs/default/status", 500),
            (
                "coverage",
                "/api/v1/orgs/default/requirements/bench-000/coverage",
                500,
            ),
        ];
        for (kind, path, pause) in readers {
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    record.add(kind, timed(agent, target, path, None));
                    std::thread::sleep(Duration::from_millis(pause));
                }
            });
        }
        // A few full overviews (?at=, nothing reused) among the cached ones.
        scope.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let path = format!("/api/v1/orgs/default/status?at={}", jiff::Timestamp::now());
                record.add("overview ?at=", timed(agent, target, &path, None));
                std::thread::sleep(Duration::from_secs(3));
            }
        });
        let key = &key;
        scope.spawn(move || {
            let mut round = 0;
            let mut next = started + Duration::from_secs(args.burst_every / 2);
            while !stop.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    round += 1;
                    burst(agent, target, key, 4, 4, round, record);
                    next += Duration::from_secs(args.burst_every);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        // The clients stop whatever happens here, or the scope would never end.
        let sampled = (|| -> Result<()> {
            while Instant::now() < deadline {
                std::thread::sleep(
                    Duration::from_secs(args.sample_seconds)
                        .min(deadline.saturating_duration_since(Instant::now())),
                );
                let (rss, _) = server.memory()?;
                samples.push(rss);
                let (ok, errors) = record.counts();
                println!(
                    "  t={:>5.1}s  rss {}  answered {ok}  errors {errors}",
                    started.elapsed().as_secs_f64(),
                    mib(rss)
                );
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        sampled
    })?;
    let (end_rss, peak) = server.memory()?;
    println!(
        "load stopped at {:.1}s; idle for {} s",
        started.elapsed().as_secs_f64(),
        args.idle_seconds
    );
    let idle_rss = idle(
        &server,
        started,
        Duration::from_secs(args.idle_seconds),
        Duration::from_secs(args.sample_seconds.min(5)),
    )?;
    summary(&record);
    let sampled_max = samples.iter().copied().fold(0.0, f64::max);
    println!(
        "server RSS: start {}, peak {} (VmHWM; {} at most in the {}-second samples), end of load {}, after {} s idle {}",
        mib(start_rss),
        mib(peak),
        mib(sampled_max),
        args.sample_seconds,
        mib(end_rss),
        args.idle_seconds,
        mib(idle_rss)
    );
    Ok(())
}
