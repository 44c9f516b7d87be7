//! `comply webhook …` against `comply serve`, whose worker delivers to a receiver on
//! loopback.

use crate::serve::start;
use crate::support::BIN;
use comply_server::webhooks::verify_signature;
use comply_store::testing::TempDir;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A request the receiver got: lower-cased headers and the body.
type Got = (HashMap<String, String>, Vec<u8>);

/// A minimal HTTP/1.1 receiver answering 204 to every request.
fn receiver() -> (String, Arc<Mutex<Vec<Got>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<Got>>> = Default::default();
    let kept = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = HashMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
            let length: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            kept.lock().unwrap().push((headers, body));
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, got)
}

fn cli(dir: &TempDir, addr: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("COMPLY_SERVER", format!("http://{addr}"))
        .env_remove("COMPLY_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(dir: &TempDir, addr: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let (code, out, err) = cli(dir, addr, &all);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn webhooks_from_the_command_line_are_delivered_by_the_server() {
    let dir = TempDir::new();
    let (_server, addr, _) = start(&dir);
    let (url, got) = receiver();
    let added = json(
        &dir,
        &addr,
        &[
            "webhook",
            "add",
            &url,
            "--events",
            "cell.failed,coverage.dropped",
            "--horizon",
            "48h",
        ],
    );
    let id = added["id"].as_str().unwrap().to_owned();
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert_eq!(added["horizon"], "2d");
    let list = json(&dir, &addr, &["webhook", "list"]);
    assert_eq!(
        list[0]["events"],
        serde_json::json!(["cell.failed", "coverage.dropped"])
    );
    assert!(!list.to_string().contains(&secret), "never listed");
    let (code, table, _) = cli(&dir, &addr, &["webhook", "list"]);
    assert_eq!(code, 0);
    assert!(table.contains(&id) && table.contains("enabled"), "{table}");

    let queued = json(&dir, &addr, &["webhook", "test", &id]);
    let event = queued["event"].as_str().unwrap().to_owned();
    // The server's worker polls every 2 s.
    let mut log = serde_json::Value::Null;
    for _ in 0..100 {
        log = json(&dir, &addr, &["webhook", "deliveries", &id]);
        if log[0]["state"] == "delivered" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(log[0]["state"], "delivered", "{log}");
    assert_eq!(log[0]["event"], event.as_str());
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert_eq!(headers["x-comply-event-id"], event);
    assert_eq!(headers["x-comply-event"], "ping");
    let ts: i64 = headers["x-comply-timestamp"].parse().unwrap();
    assert!(verify_signature(
        &secret,
        ts,
        body,
        &headers["x-comply-signature"]
    ));

    // Bad input is a usage error with the server's reason.
    let (code, _, err) = cli(
        &dir,
        &addr,
        &["webhook", "add", "ftp://x/", "--events", "cell.failed"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("http:// or https://"), "{err}");

    let (code, out, _) = cli(&dir, &addr, &["webhook", "remove", &id]);
    assert_eq!((code, out), (0, format!("Webhook {id} removed\n")));
    let (code, _, err) = cli(&dir, &addr, &["webhook", "deliveries", &id]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}
