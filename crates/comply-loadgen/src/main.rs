//! `comply-loadgen`: drives a real comply server over HTTP with synthetic workloads and
//! reports wall-clock timings. It starts its own server on a loopback port (SQLite in a
//! temporary directory, or PostgreSQL with `--database-url`), or targets `--server`.
//!
//! Scenario `apply` (default): N requirements and M frameworks in one `apply`, then
//! the same documents again (all unchanged), then again with every requirement edited.
//! Scenarios `ingest` and `portfolio`: see `evidence.rs`; `soak` and `memory`: see
//! `soak.rs`.

mod dashboard;
mod evidence;
#[path = "../../comply-cli/src/memory.rs"]
mod memory;
mod soak;

use anyhow::{Context, Result, bail};
use clap::Parser;
use comply_server::{AppState, bootstrap, load_builtins, serve};
use comply_store::Store;
use comply_store::testing::{TempDir, TestDb};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Apply,
    Ingest,
    Portfolio,
    Coverage,
    Soak,
    Memory,
}

#[derive(Parser)]
#[command(about = "Synthetic load against a comply server")]
struct Args {
    #[arg(long, value_enum, default_value_t = Scenario::Apply)]
    scenario: Scenario,
    /// ingest: attestations to push
    #[arg(long, default_value_t = 5000)]
    attestations: usize,
    /// ingest, memory: concurrent clients
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// portfolio: projects (each gets one daily attestation of 10 evaluations)
    #[arg(long, default_value_t = 5000)]
    projects: usize,
    /// portfolio: days of attestations per project
    #[arg(long, default_value_t = 20)]
    days: usize,
    /// portfolio: small products for the overview (3 projects, 20 requirements each)
    #[arg(long, default_value_t = 1000)]
    products: usize,
    /// portfolio: also time the dashboard's pages (signed in with a session)
    #[arg(long)]
    dashboard: bool,
    /// coverage: contracts in the org
    #[arg(long, default_value_t = 10000)]
    contracts: usize,
    /// portfolio: status requests timed
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Requirements per apply
    #[arg(long, default_value_t = 5000)]
    requirements: usize,
    /// Frameworks per apply (requirements are spread over them)
    #[arg(long, default_value_t = 200)]
    frameworks: usize,
    /// Repetitions of each measured step
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// PostgreSQL URL for the in-process server (a private schema is used)
    #[arg(long)]
    postgres: bool,
    /// portfolio: keep the SQLite database in this file; a file seeded by an earlier
    /// run is measured again without seeding (its evidence ages with the clock)
    #[arg(long)]
    database: Option<std::path::PathBuf>,
    /// Target an existing server instead (with --token)
    #[arg(long)]
    server: Option<String>,
    #[arg(long, env = "COMPLY_TOKEN")]
    token: Option<String>,
    /// soak, memory: the process id of `--server`, whose memory is read from /proc
    #[arg(long)]
    server_pid: Option<u32>,
    /// soak: seconds of load (then the server idles for --idle-seconds)
    #[arg(long, default_value_t = 180)]
    seconds: u64,
    /// soak: clients pushing signed attestations (20 ms between pushes)
    #[arg(long, default_value_t = 4)]
    pushers: usize,
    /// soak: seconds between samples of the server's memory
    #[arg(long, default_value_t = 5)]
    sample_seconds: u64,
    /// soak: seconds between bursts of four large attestations
    #[arg(long, default_value_t = 30)]
    burst_every: u64,
    /// soak, memory: seconds the server idles after the load, its memory sampled
    #[arg(long, default_value_t = 15)]
    idle_seconds: u64,
    /// memory: large attestations (1,000 subjects, 10,000 evaluations) in the burst
    #[arg(long, default_value_t = 16)]
    large: usize,
    /// Internal: run only the server, for `soak` and `memory` (address and token on
    /// stdout; ends when stdin closes)
    #[arg(long, hide = true)]
    serve_child: bool,
}

fn requirement(i: usize, severity: &str) -> String {
    format!(
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-{i:05}\n  displayName: Requirement {i}\n  description: Synthetic requirement {i} for load tests.\n  annotations:\n    categories: security, load\nspec:\n  policies:\n    - ref: vulnerabilities\n      with:\n        severity: {severity}\n      periodicity: daily\n      sla: 24\n    - ref: sbom-present\n  manual_proofs:\n    - name: review\n      periodicity: yearly\n"
    )
}

fn framework(f: usize, requirements: &[usize]) -> String {
    let mut doc = format!(
        "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw-{f:04}\n  displayName: Framework {f}\nspec:\n  sections:\n"
    );
    for (s, chunk) in requirements.chunks(5).enumerate() {
        doc.push_str(&format!("    - name: Section {s}\n      requirements:\n"));
        for r in chunk {
            doc.push_str(&format!("        - ref: req-{r:05}\n"));
        }
    }
    doc
}

fn documents(args: &Args, severity: &str) -> Value {
    let reqs: Vec<String> = (0..args.requirements)
        .map(|i| requirement(i, severity))
        .collect();
    let per = args.requirements.div_ceil(args.frameworks.max(1));
    let fws: Vec<String> = (0..args.frameworks)
        .map(|f| {
            let ids: Vec<usize> = (f * per..((f + 1) * per).min(args.requirements)).collect();
            framework(f, &ids)
        })
        .collect();
    json!({"documents": [
        {"file": "frameworks.yaml", "content": fws.join("---\n")},
        {"file": "requirements.yaml", "content": reqs.join("---\n")},
    ]})
}

pub(crate) struct Target {
    pub(crate) base: String,
    pub(crate) token: String,
    _db: Option<TestDb>,
    _dir: Option<TempDir>,
}

impl Target {
    /// A server this process did not start.
    pub(crate) fn remote(base: String, token: String) -> Target {
        Target {
            base,
            token,
            _db: None,
            _dir: None,
        }
    }
}

fn start_server(postgres: bool) -> Result<Target> {
    start_server_with(postgres).map(|(t, _)| t)
}

/// A server on a loopback port over a fresh database, and that database's URL.
pub(crate) fn start_server_with(postgres: bool) -> Result<(Target, String)> {
    start_server_on(postgres, None).map(|(t, url, _)| (t, url))
}

/// As [`start_server_with`], or over the SQLite file `kept` (created when missing);
/// the flag says whether the database already held data.
pub(crate) fn start_server_on(
    postgres: bool,
    kept: Option<&std::path::Path>,
) -> Result<(Target, String, bool)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let existed = kept.is_some_and(std::path::Path::exists);
    let (db, url) = match kept {
        Some(path) => (None, format!("sqlite://{}?mode=rwc", path.display())),
        None => {
            let db = rt.block_on(async {
                if postgres {
                    TestDb::postgres()
                        .await
                        .context("--postgres needs COMPLY_TEST_DATABASE_URL")
                } else {
                    Ok(TestDb::sqlite())
                }
            })?;
            let url = db.url.clone();
            (Some(db), url)
        }
    };
    let returned_url = url.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let store = Store::connect(&url).await.expect("connect");
            load_builtins(&store).await.expect("built-ins");
            let token = match bootstrap(&store).await.expect("bootstrap") {
                Some(issued) => issued.secret,
                None => {
                    // A kept database: a fresh owner token for this run.
                    let org = store
                        .org_by_name("default")
                        .await
                        .expect("org")
                        .expect("default org");
                    let issued =
                        comply_server::issue_token("loadgen", comply_core::Role::Owner, true, None);
                    store
                        .create_token(
                            org.id,
                            &issued.record,
                            "loadgen",
                            jiff::Timestamp::now().as_millisecond(),
                        )
                        .await
                        .expect("token");
                    issued.secret
                }
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tx.send((format!("http://{addr}"), token)).expect("report");
            serve(listener, AppState::new(store), std::future::pending())
                .await
                .expect("serve");
        });
    });
    let (base, token) = rx.recv()?;
    Ok((
        Target {
            base,
            token,
            _db: db,
            _dir: None,
        },
        returned_url,
        existed,
    ))
}

fn apply(agent: &ureq::Agent, target: &Target, body: &Value) -> Result<(Duration, Value)> {
    let started = Instant::now();
    let mut resp = agent
        .post(format!("{}/api/v1/orgs/default/apply", target.base))
        .header("Authorization", format!("Bearer {}", target.token))
        .send_json(body)?;
    let status = resp.status();
    let answer: Value = resp.body_mut().with_config().limit(1 << 30).read_json()?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        bail!("apply failed with {status}: {answer}");
    }
    Ok((elapsed, answer))
}

fn count(answer: &Value, action: &str) -> usize {
    answer["results"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|c| c["action"] == action).count())
}

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// As the `comply` binary, so that the in-process server measures what it serves.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    memory::limit_c_allocator_arenas();
    let args = Args::parse();
    memory::return_freed_memory()?;
    if args.serve_child {
        return soak::serve_child();
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let external = || -> Result<Option<(String, String, u32)>> {
        let Some(base) = &args.server else {
            return Ok(None);
        };
        Ok(Some((
            base.clone(),
            args.token.clone().context("--server needs --token")?,
            args.server_pid
                .context("--server needs --server-pid to read its memory")?,
        )))
    };
    match args.scenario {
        Scenario::Apply => {}
        Scenario::Soak => {
            return soak::soak(
                &agent,
                soak::SoakArgs {
                    external: external()?,
                    seconds: args.seconds,
                    pushers: args.pushers,
                    sample_seconds: args.sample_seconds.max(1),
                    burst_every: args.burst_every.max(1),
                    idle_seconds: args.idle_seconds,
                },
            );
        }
        Scenario::Memory => {
            return soak::memory(
                &agent,
                soak::MemoryArgs {
                    external: external()?,
                    count: args.large,
                    clients: args.clients,
                    idle_seconds: args.idle_seconds,
                },
            );
        }
        Scenario::Ingest => {
            return evidence::ingest(&agent, args.postgres, args.attestations, args.clients);
        }
        Scenario::Coverage => {
            return evidence::coverage(
                &agent,
                args.postgres,
                args.contracts,
                args.projects,
                args.samples,
            );
        }
        Scenario::Portfolio => {
            return evidence::portfolio(
                &agent,
                args.postgres,
                args.projects,
                args.days,
                args.products,
                args.samples,
                args.database.as_deref(),
                args.dashboard,
            );
        }
    }
    let backend = if args.server.is_some() {
        "remote"
    } else if args.postgres {
        "postgres"
    } else {
        "sqlite"
    };
    let mut created = Vec::new();
    let mut unchanged = Vec::new();
    let mut updated = Vec::new();
    let first = documents(&args, "HIGH");
    let second = documents(&args, "CRITICAL");
    let body_mib = first.to_string().len() as f64 / (1024.0 * 1024.0);
    for round in 0..args.repeat {
        // A fresh server per round, so "created" always starts from an empty org.
        let target = match &args.server {
            Some(base) => Target {
                base: base.clone(),
                token: args.token.clone().context("--server needs --token")?,
                _db: None,
                _dir: None,
            },
            None => start_server(args.postgres)?,
        };
        let (t, a) = apply(&agent, &target, &first)?;
        if round == 0 || args.server.is_none() {
            created.push(t);
        }
        let total = args.requirements + args.frameworks;
        if count(&a, "created") != total && args.server.is_none() {
            bail!("expected {total} created, got {}", count(&a, "created"));
        }
        let (t, a) = apply(&agent, &target, &first)?;
        if count(&a, "unchanged") != total {
            bail!("expected {total} unchanged, got {}", count(&a, "unchanged"));
        }
        unchanged.push(t);
        let (t, a) = apply(&agent, &target, &second)?;
        if count(&a, "updated") != args.requirements {
            bail!(
                "expected {} updated, got {}",
                args.requirements,
                count(&a, "updated")
            );
        }
        updated.push(t);
        if args.server.is_some() {
            apply(&agent, &target, &first)?;
        }
    }
    println!(
        "apply: {} requirements + {} frameworks ({body_mib:.1} MiB of YAML), backend {backend}, {} rounds",
        args.requirements, args.frameworks, args.repeat
    );
    println!(
        "  created    median {:>8.1?}  all {:?}",
        median(created.clone()),
        created
    );
    println!(
        "  unchanged  median {:>8.1?}  all {:?}",
        median(unchanged.clone()),
        unchanged
    );
    println!(
        "  updated    median {:>8.1?}  all {:?}",
        median(updated.clone()),
        updated
    );
    Ok(())
}
