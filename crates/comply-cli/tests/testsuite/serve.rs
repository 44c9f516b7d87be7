//! `comply serve` as a newcomer meets it: zero configuration, first-start token.

use crate::support::BIN;
use comply_store::testing::TempDir;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `comply serve` on a free port; returns the process, its address and stdout.
pub(crate) fn start(dir: &TempDir) -> (Server, String, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", "data"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("COMPLY_LOG", "info")
        .env_remove("COMPLY_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut addr = None;
    let mut logged = 0;
    for line in stderr.by_ref() {
        let line = line.unwrap();
        logged += 1;
        // Start-up says what it did in a few lines (one per migration on a first start),
        // not one per built-in resource.
        assert!(
            logged < 20,
            "too many start-up log lines; the latest: {line}"
        );
        if let Some(rest) = line.split("comply is listening addr=").nth(1) {
            addr = Some(rest.trim().to_owned());
            break;
        }
    }
    let addr = addr.expect("the server announces its address");
    // Keep reading: a server whose stderr is closed panics on its next log line
    // (tracing-subscriber reports the failed write with eprintln!), and the webhook
    // worker logs after start-up.
    std::thread::spawn(move || for _ in stderr {});
    // The first-start announcement is printed before the server listens; a reader thread
    // collects whatever stdout holds without blocking on a server that printed nothing.
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut stdout = String::new();
    while let Ok(chunk) = rx.recv_timeout(std::time::Duration::from_millis(300)) {
        stdout.push_str(&chunk);
    }
    (Server(child), addr, stdout)
}

#[test]
fn zero_config_first_start() {
    let dir = TempDir::new();
    let (server, addr, stdout) = start(&dir);
    assert!(
        stdout.contains("created organization 'default'"),
        "{stdout}"
    );
    // Framed, with the dashboard's address.
    assert!(stdout.contains("┌") && stdout.contains("┘"), "{stdout}");
    assert!(
        stdout.contains(&format!("Dashboard: http://{addr}/")),
        "{stdout}"
    );
    let token = stdout
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c.is_whitespace()))
        .find(|l| l.starts_with("comply_"))
        .expect("token printed")
        .to_owned();
    let config = dir.path().join("config/comply/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(&token) && text.contains(&addr), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(dir.path().join("data/comply.db").exists());

    // The CLI finds server and token in the config file alone.
    let out = Command::new(BIN)
        .args(["requirement", "list", "-o", "json"])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env_remove("COMPLY_TOKEN")
        .env_remove("COMPLY_SERVER")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);

    // A second start keeps the data and prints no new token.
    let (_server, _addr, stdout) = start(&dir);
    assert!(!stdout.contains("comply_"), "no second token: {stdout}");
}

/// Break-glass (issue #15, defect 4): with access to the database, a new instance
/// administrator token replaces the old one; the server need not run.
#[test]
fn reset_admin_token_replaces_the_instance_administrator() {
    let dir = TempDir::new();
    let (server, addr, stdout) = start(&dir);
    let old = stdout
        .split_whitespace()
        .find(|w| w.starts_with("comply_"))
        .expect("token printed")
        .to_owned();
    drop(server);
    let out = Command::new(BIN)
        .args(["serve", "--data-dir", "data", "--reset-admin-token"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env_remove("COMPLY_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(new.starts_with("comply_") && new != old, "{new}");
    let (_server, addr2, _) = start(&dir);
    let create_org = |token: &str, name: &str| {
        Command::new(BIN)
            .args(["org", "create", name])
            .env("XDG_CONFIG_HOME", dir.path().join("none"))
            .env("COMPLY_SERVER", format!("http://{addr2}"))
            .env("COMPLY_TOKEN", token)
            .output()
            .unwrap()
    };
    let _ = addr;
    let fresh = create_org(&new, "acme");
    assert!(
        fresh.status.success(),
        "only the instance administrator creates orgs: {}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    let stale = create_org(&old, "globex");
    assert!(!stale.status.success());
    assert!(
        String::from_utf8_lossy(&stale.stderr).contains("revoked"),
        "{}",
        String::from_utf8_lossy(&stale.stderr)
    );
}
