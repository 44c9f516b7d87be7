use comply_server::{AppState, bootstrap, load_builtins, serve};
use comply_store::Store;
pub use comply_store::testing::TempDir;
use comply_store::testing::TestDb;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_comply");

/// A server on a loopback port with its own database, and a sandbox for the CLI
/// (its own config directory, so the developer's config never leaks in).
pub struct Env {
    pub server: String,
    pub token: String,
    pub home: TempDir,
    _db: TestDb,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub fn start() -> Env {
        let db = TestDb::sqlite();
        let url = db.url.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let store = Store::connect(&url).await.unwrap();
                load_builtins(&store).await.unwrap();
                let token = bootstrap(&store).await.unwrap().unwrap().secret;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tx.send((format!("http://{addr}"), token)).unwrap();
                serve(listener, AppState::new(store), std::future::pending())
                    .await
                    .unwrap();
            });
        });
        let (server, token) = rx.recv().unwrap();
        Env {
            server,
            token,
            home: TempDir::new(),
            _db: db,
        }
    }

    /// The server's database, for tests that must plant what the API would refuse.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    pub fn dir(&self) -> &Path {
        self.home.path()
    }

    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir())
            .env("XDG_CONFIG_HOME", self.dir().join("config"))
            .env("COMPLY_SERVER", &self.server)
            .env("COMPLY_TOKEN", &self.token)
            .current_dir(self.dir());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(), args)
    }

    pub fn run_as(&self, token: &str, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.env("COMPLY_TOKEN", token);
        self.run_with(cmd, args)
    }

    /// Runs with `input` on standard input.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut cmd = self.command();
        cmd.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        self.finish(child.wait_with_output().unwrap())
    }

    fn run_with(&self, mut cmd: Command, args: &[&str]) -> Run {
        let out = cmd.args(args).output().unwrap();
        self.finish(out)
    }

    fn finish(&self, out: std::process::Output) -> Run {
        let dir = self.dir().display().to_string();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout)
                .unwrap()
                .replace(&dir, "<dir>"),
            stderr: String::from_utf8(out.stderr)
                .unwrap()
                .replace(&dir, "<dir>"),
        }
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "comply {args:?} failed:\n{}", run.stderr);
        run.stdout
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

pub const REQUIREMENT: &str = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: no-vulnerabilities-high
  displayName: No High-Severity Vulnerabilities
  description: |
    All software artifacts must not contain any unresolved
    high-severity vulnerabilities at the time of deployment.
  annotations:
    categories: security, vulnerabilities
spec:
  policies:
    - ref: cves-in-kev
    - ref: vulnerabilities
      with:
        severity: "HIGH"
      periodicity: daily
      sla: 6
"#;

pub const MORE_REQUIREMENTS: &str = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: architecture-review
  annotations:
    scope: PRODUCT
spec:
  manual_proofs:
    - name: review-minutes
      description: Minutes of the architecture review
      periodicity: quarterly
---
apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: images-signed
spec:
  policies:
    - ref: container-signed
"#;

pub const FRAMEWORK: &str = r#"apiVersion: chainloop.dev/v1
kind: Framework
metadata:
  name: my-best-practices
  displayName: Best Practices
  description: Internal security best practices
spec:
  requirements:
    - ref: architecture-review
  sections:
    - name: Artifacts
      requirements:
        - ref: images-signed
      sections:
        - name: Scanning
          requirements:
            - ref: no-vulnerabilities-high
"#;

/// Records that the running test skipped, and why: printed for `--nocapture` runs and
/// appended to the file named by `COMPLY_TEST_SKIPS`, which `.ci/run` counts so a
/// skipped test is reported as skipped, never as passed.
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("unknown test")
        .to_owned();
    eprintln!("skipped: {test}: {reason}");
    if let Ok(file) = std::env::var("COMPLY_TEST_SKIPS") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = writeln!(f, "{}::{test}\t{reason}", env!("CARGO_PKG_NAME"));
        }
    }
}
