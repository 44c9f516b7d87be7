//! Webhooks against a real receiver on loopback: signed deliveries, retries with
//! backoff, disabling after repeated failure, two servers on one database sending each
//! event once, a restart delivering what was pending, org isolation and roles.

use crate::report::{ok, setup_portal};
use crate::support::Server;
use axum::http::{HeaderMap, Method, StatusCode};
use comply_core::Role;
use comply_server::AppState;
use comply_server::webhooks::{WebhookConfig, deliver_due, run_worker, verify_signature, watch};
use comply_store::Store;
use comply_store::testing::TestDb;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver was sent.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    /// Whether the receiver answered 2xx.
    accepted: bool,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first `fail_first` requests (or
/// to all while `failing` is above zero), then 204.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Default::default();
        let fail = Arc::new(AtomicUsize::new(fail_first));
        let (g, f) = (got.clone(), fail.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (g, f) = (g.clone(), f.clone());
                async move {
                    let failing = f
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    g.lock().unwrap().push(Received {
                        headers,
                        body: body.to_vec(),
                        accepted: !failing,
                    });
                    if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            fail_first: fail,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Intervals of milliseconds, so tests take a moment.
fn fast(owner: &str) -> WebhookConfig {
    WebhookConfig {
        poll: Duration::from_millis(20),
        watch_every: Duration::from_millis(100),
        lease: Duration::from_secs(3),
        timeout: Duration::from_secs(2),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(80),
        max_attempts: 10,
        disable_after: 20,
        batch: 16,
        owner: owner.into(),
    }
}

async fn add_webhook(server: &Server, url: &str, events: &[&str]) -> (String, String) {
    let created = ok(
        server,
        Method::POST,
        "/api/v1/orgs/default/webhooks",
        Some(json!({"url": url, "events": events, "horizon": "24h"})),
    )
    .await;
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// Runs sender passes until `done` holds of the receiver's requests (at most 10 s).
async fn deliver_until(
    state: &AppState,
    config: &WebhookConfig,
    r: &Receiver,
    done: impl Fn(&[Received]) -> bool,
) {
    for _ in 0..500 {
        deliver_due(state, config).await.unwrap();
        if done(&r.received()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not delivered in time: {:?}", r.received().len());
}

fn kinds(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.header("x-comply-event").to_owned())
        .collect()
}

#[tokio::test]
async fn events_are_signed_retried_with_backoff_and_logged() {
    let server = Server::sqlite().await;
    setup_portal(&server).await;
    let receiver = Receiver::start(2).await;
    let (id, secret) = add_webhook(
        &server,
        &receiver.url,
        &[
            "cell.failed",
            "grace.ending",
            "product_version.noncompliant",
        ],
    )
    .await;
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 64);
    let state = AppState::new(server.store.clone());
    let config = fast("a");

    // First look: a baseline, and web's grace (6 h after its failing scan) ends within 24 h.
    assert_eq!(watch(&state).await.unwrap(), 1);
    // Watching again finds nothing new: the deadline's event is enqueued once.
    assert_eq!(watch(&state).await.unwrap(), 0);
    // The receiver fails twice, then accepts: three attempts of one event.
    deliver_until(&state, &config, &receiver, |got| got.len() >= 3).await;
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    let event_ids: BTreeSet<&str> = got.iter().map(|r| r.header("x-comply-event-id")).collect();
    assert_eq!(event_ids.len(), 1, "the id is stable across retries");
    for (i, r) in got.iter().enumerate() {
        let ts: i64 = r.header("x-comply-timestamp").parse().unwrap();
        assert!(
            verify_signature(&secret, ts, &r.body, r.header("x-comply-signature")),
            "attempt {i} is signed"
        );
        assert!(!verify_signature(
            "whsec_other",
            ts,
            &r.body,
            r.header("x-comply-signature")
        ));
        assert_eq!(r.header("x-comply-delivery-attempt"), (i + 1).to_string());
        assert_eq!(r.body, got[0].body, "every attempt sends the same body");
    }
    let event = got[0].json();
    assert_eq!(event["type"], "grace.ending");
    assert_eq!(event["org"], "default");
    assert_eq!(event["id"], *event_ids.first().unwrap());
    assert_eq!(event["data"]["product"], "portal");
    assert_eq!(event["data"]["requirement"], "scanned");
    assert_eq!(event["data"]["project"], "web");
    let log = ok(
        &server,
        Method::GET,
        &format!("/api/v1/orgs/default/webhooks/{id}/deliveries"),
        None,
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_status"], 204);
    // Let the retries' timestamps differ from the next event's.
    let status = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/products/portal/status?version=1.0",
        None,
    )
    .await;
    assert_eq!(status["compliant"], true, "{status}");

    // A cell turns FAILED: cell.failed, and the product version is no longer compliant.
    ok(
        &server,
        Method::POST,
        "/api/v1/orgs/default/overrides",
        Some(
            json!({"product": "portal", "version": "1.0", "project": "api",
                    "requirement": "tested", "status": "failed", "reason": "found by hand"}),
        ),
    )
    .await;
    assert_eq!(watch(&state).await.unwrap(), 2);
    assert_eq!(watch(&state).await.unwrap(), 0);
    deliver_until(&state, &config, &receiver, |got| got.len() >= 5).await;
    let got = receiver.received();
    let mut later = kinds(&got[3..]);
    later.sort();
    assert_eq!(later, ["cell.failed", "product_version.noncompliant"]);
    let failed = got[3..]
        .iter()
        .map(Received::json)
        .find(|e| e["type"] == "cell.failed")
        .unwrap();
    assert_eq!(failed["data"]["status"], "FAILED");
    assert_eq!(failed["data"]["previous"], "PASSED");
    assert_eq!(
        (
            failed["data"]["requirement"].as_str(),
            failed["data"]["project"].as_str()
        ),
        (Some("tested"), Some("api"))
    );
    // The secret is never listed.
    let list = ok(&server, Method::GET, "/api/v1/orgs/default/webhooks", None).await;
    assert!(!list.to_string().contains(&secret));
    assert!(list[0].get("secret").is_none());
    assert_eq!(list[0]["enabled"], true);
}

#[tokio::test]
async fn repeated_failure_disables_and_enable_resumes() {
    let server = Server::sqlite().await;
    let receiver = Receiver::start(usize::MAX).await;
    let (id, _) = add_webhook(&server, &receiver.url, &["cell.failed"]).await;
    let state = AppState::new(server.store.clone());
    let config = WebhookConfig {
        disable_after: 3,
        ..fast("a")
    };
    let answer = ok(
        &server,
        Method::POST,
        &format!("/api/v1/orgs/default/webhooks/{id}/test"),
        None,
    )
    .await;
    let event = answer["event"].as_str().unwrap().to_owned();
    deliver_until(&state, &config, &receiver, |got| got.len() >= 3).await;
    // Disabled: no further attempt however long we wait.
    for _ in 0..10 {
        deliver_due(&state, &config).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.received().len(), 3);
    let list = ok(&server, Method::GET, "/api/v1/orgs/default/webhooks", None).await;
    assert_eq!(list[0]["enabled"], false, "{list}");
    assert!(
        list[0]["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("3 consecutive failed deliveries; last: the receiver answered 500"),
        "{list}"
    );
    let log = ok(
        &server,
        Method::GET,
        &format!("/api/v1/orgs/default/webhooks/{id}/deliveries"),
        None,
    )
    .await;
    assert_eq!(
        (log[0]["state"].as_str(), log[0]["attempts"].as_i64()),
        (Some("pending"), Some(3))
    );
    assert_eq!(log[0]["last_status"], 500);

    // The receiver is fixed; an admin enables the webhook: the ping goes through.
    receiver.fail_first.store(0, Ordering::SeqCst);
    let enabled = ok(
        &server,
        Method::POST,
        &format!("/api/v1/orgs/default/webhooks/{id}/enable"),
        None,
    )
    .await;
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["failures"], 0);
    deliver_until(&state, &config, &receiver, |got| got.len() >= 4).await;
    let got = receiver.received();
    assert!(got.iter().all(|r| r.header("x-comply-event-id") == event));
    assert_eq!(got[3].json()["type"], "ping");
    let audit = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/audit?action=webhook.",
        None,
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["webhook.create", "webhook.disable", "webhook.enable"]
    );
}

/// Two servers (two stores, two workers) on one database, SQLite and PostgreSQL: each
/// event is enqueued once though both watch, and the receiver gets each once.
#[tokio::test]
async fn two_servers_send_each_event_once() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let server = Server::start(db).await;
        setup_portal(&server).await;
        // The receiver fails its first 6 requests: retries race between the servers too.
        let receiver = Receiver::start(6).await;
        let (id, secret) = add_webhook(
            &server,
            &receiver.url,
            &[
                "cell.failed",
                "grace.ending",
                "product_version.noncompliant",
            ],
        )
        .await;
        let other = Store::connect(server.db_url()).await.unwrap();
        let (a, b) = (
            AppState::new(server.store.clone()),
            AppState::new(other.clone()),
        );
        // Both watch at once, twice: the baseline and the deadline event once.
        let (wa, wb) = tokio::join!(watch(&a), watch(&b));
        let (wa2, wb2) = tokio::join!(watch(&a), watch(&b));
        assert_eq!(
            wa.unwrap() + wb.unwrap() + wa2.unwrap() + wb2.unwrap(),
            1,
            "{backend:?}"
        );
        ok(
            &server,
            Method::POST,
            "/api/v1/orgs/default/overrides",
            Some(
                json!({"product": "portal", "version": "1.0", "project": "api",
                        "requirement": "tested", "status": "failed", "reason": "found by hand"}),
            ),
        )
        .await;
        let (wa, wb) = tokio::join!(watch(&a), watch(&b));
        let (wa2, wb2) = tokio::join!(watch(&a), watch(&b));
        assert_eq!(
            wa.unwrap() + wb.unwrap() + wa2.unwrap() + wb2.unwrap(),
            2,
            "{backend:?}: cell.failed and noncompliant once"
        );
        // And 40 pings, for the senders to race over.
        for _ in 0..40 {
            ok(
                &server,
                Method::POST,
                &format!("/api/v1/orgs/default/webhooks/{id}/test"),
                None,
            )
            .await;
        }
        let (stop_a, stopped_a) = tokio::sync::oneshot::channel::<()>();
        let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
        let small = |owner: &str| WebhookConfig {
            batch: 4,
            ..fast(owner)
        };
        let worker_a = tokio::spawn(run_worker(a.clone(), small("a"), async move {
            let _ = stopped_a.await;
        }));
        let worker_b = tokio::spawn(run_worker(b.clone(), small("b"), async move {
            let _ = stopped_b.await;
        }));
        for _ in 0..500 {
            if receiver.received().iter().filter(|r| r.accepted).count() >= 43 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Give a duplicate, if there were one, time to arrive.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop_a.send(());
        let _ = stop_b.send(());
        worker_a.await.unwrap();
        worker_b.await.unwrap();
        let got = receiver.received();
        assert_eq!(
            got.len(),
            43 + 6,
            "{backend:?}: 6 failed attempts retried, no more"
        );
        // Per event: (requests, accepted ones).
        let mut per_event: BTreeMap<String, (i64, usize)> = BTreeMap::new();
        for r in &got {
            let ts: i64 = r.header("x-comply-timestamp").parse().unwrap();
            assert!(verify_signature(
                &secret,
                ts,
                &r.body,
                r.header("x-comply-signature")
            ));
            let e = per_event
                .entry(r.header("x-comply-event-id").to_owned())
                .or_default();
            e.0 += 1;
            e.1 += usize::from(r.accepted);
        }
        assert_eq!(per_event.len(), 43, "{backend:?}: every event arrived");
        assert!(
            per_event.values().all(|(_, accepted)| *accepted == 1),
            "{backend:?}: an event was accepted twice: {per_event:?}"
        );
        let log = ok(
            &server,
            Method::GET,
            &format!("/api/v1/orgs/default/webhooks/{id}/deliveries"),
            None,
        )
        .await;
        let log = log.as_array().unwrap();
        assert_eq!(log.len(), 43);
        // Each delivery's attempts are exactly the requests the receiver saw for its
        // event: no server sent it while another held it.
        for d in log {
            assert_eq!(d["state"], "delivered", "{d}");
            let (requests, _) = per_event[d["event"].as_str().unwrap()];
            assert_eq!(d["attempts"].as_i64(), Some(requests), "{backend:?}: {d}");
        }
        other.close().await;
    }
}

/// A server that claimed deliveries and died: a new one on the same database sends
/// them once their lease is over, and what was never claimed at once.
#[tokio::test]
async fn a_restarted_server_delivers_what_was_pending() {
    for db in TestDb::all().await {
        let server = Server::start(db).await;
        let receiver = Receiver::start(0).await;
        let (id, _) = add_webhook(&server, &receiver.url, &["cell.failed"]).await;
        for _ in 0..5 {
            ok(
                &server,
                Method::POST,
                &format!("/api/v1/orgs/default/webhooks/{id}/test"),
                None,
            )
            .await;
        }
        // The "crashed" server took two and never reported.
        let now = jiff::Timestamp::now().as_millisecond();
        let taken = server
            .store
            .claim_deliveries("crashed", now, 500, 2)
            .await
            .unwrap();
        assert_eq!(taken.len(), 2);
        server.store.close().await;

        let restarted = Store::connect(server.db_url()).await.unwrap();
        let state = AppState::new(restarted.clone());
        let config = fast("restarted");
        deliver_until(&state, &config, &receiver, |got| got.len() >= 3).await;
        // The leased two wait for their lease to end, then go too.
        deliver_until(&state, &config, &receiver, |got| got.len() >= 5).await;
        let ids: BTreeSet<String> = receiver
            .received()
            .iter()
            .map(|r| r.header("x-comply-event-id").to_owned())
            .collect();
        assert_eq!(ids.len(), 5);
        let org = restarted.org_by_name("default").await.unwrap().unwrap();
        let log = restarted.list_deliveries(org.id, &id, 10).await.unwrap();
        assert!(log.iter().all(|d| d.state == "delivered"));
        let retaken: Vec<_> = log.iter().filter(|d| d.attempts == 2).collect();
        assert_eq!(retaken.len(), 2, "the crashed server's attempt counted");
        restarted.close().await;
    }
}

#[tokio::test]
async fn webhooks_are_per_org_and_managed_by_admins() {
    let server = Server::sqlite().await;
    server.create_org("other").await;
    let (id, _) = add_webhook(&server, "http://127.0.0.1:9/hook", &["cell.failed"]).await;
    let outsider = server.token("other", Role::Owner).await;
    let viewer = server.token("default", Role::Viewer).await;
    let member = server.token("default", Role::Member).await;
    let admin = server.token("default", Role::Admin).await;
    // Another org's owner: the id does not exist, even through its own org's path.
    for (method, path) in [
        (
            Method::GET,
            format!("/api/v1/orgs/other/webhooks/{id}/deliveries"),
        ),
        (Method::DELETE, format!("/api/v1/orgs/other/webhooks/{id}")),
        (
            Method::POST,
            format!("/api/v1/orgs/other/webhooks/{id}/enable"),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/other/webhooks/{id}/test"),
        ),
    ] {
        let (status, body) = server.call(method, &path, Some(&outsider), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = server
        .call(
            Method::GET,
            "/api/v1/orgs/default/webhooks",
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = server
        .call(
            Method::GET,
            "/api/v1/orgs/other/webhooks",
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(list, json!([]));
    // A viewer lists (no secret) and reads the log; members and viewers manage nothing.
    let (status, list) = server
        .call(
            Method::GET,
            "/api/v1/orgs/default/webhooks",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], id.as_str());
    let body = json!({"url": "http://127.0.0.1:9/x", "events": ["cell.failed"]});
    for token in [&viewer, &member] {
        let (status, _) = server
            .call(
                Method::POST,
                "/api/v1/orgs/default/webhooks",
                Some(token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = server
            .call(
                Method::DELETE,
                &format!("/api/v1/orgs/default/webhooks/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Bad input answers 400 with the reason.
    for (bad, words) in [
        (
            json!({"url": "file:///etc/passwd", "events": ["cell.failed"]}),
            "http:// or https://",
        ),
        (
            json!({"url": "https://u:p@example.com/", "events": ["cell.failed"]}),
            "credentials",
        ),
        (
            json!({"url": "https://example.com/", "events": ["cell.fail"]}),
            "unknown event",
        ),
        (
            json!({"url": "https://example.com/", "events": []}),
            "at least one event",
        ),
        (
            json!({"url": "https://example.com/", "events": ["cell.failed"], "horizon": "90d"}),
            "horizon",
        ),
    ] {
        let (status, answer) = server
            .call(
                Method::POST,
                "/api/v1/orgs/default/webhooks",
                Some(&admin),
                Some(bad),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(
            answer["detail"].as_str().unwrap().contains(words),
            "{answer}"
        );
    }
    // An admin removes it; it is gone.
    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/default/webhooks/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/orgs/default/webhooks/{id}/deliveries"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// `exception.expiring` within each webhook's own horizon, and `coverage.dropped` when
/// fewer projects' contracts cover a requirement.
#[tokio::test]
async fn expiring_exceptions_and_dropping_coverage_are_notified() {
    let server = Server::sqlite().await;
    setup_portal(&server).await;
    let contract = |policy: &str| {
        format!(
            "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: c0\nspec:\n  materials:\n    - {{name: scan, type: SARIF}}\n  policies:\n    materials:\n      - {{ref: {policy}, selector: {{name: scan}}, with: {{severity: HIGH}}}}\n"
        )
    };
    let (status, body) = server
        .apply("default", &server.admin, "c.yaml", &contract("policy-0"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ok(
        &server,
        Method::POST,
        "/api/v1/orgs/default/workflows",
        Some(json!({"project": "api", "name": "build", "contract": "c0"})),
    )
    .await;
    let coverage = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/requirements/scanned/coverage",
        None,
    )
    .await;
    let api = coverage["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["project"] == "api")
        .unwrap_or_else(|| panic!("{coverage}"))
        .clone();
    assert_eq!(api["coverage"], "FULL", "{coverage}");

    let receiver = Receiver::start(0).await;
    let events = ["exception.expiring", "coverage.dropped"];
    let (wide, _) = add_webhook(&server, &receiver.url, &events).await;
    let narrow = ok(
        &server,
        Method::POST,
        "/api/v1/orgs/default/webhooks",
        Some(json!({"url": receiver.url, "events": events, "horizon": "1h"})),
    )
    .await;
    let narrow = narrow["id"].as_str().unwrap().to_owned();
    let state = AppState::new(server.store.clone());
    assert_eq!(watch(&state).await.unwrap(), 0, "the baseline");

    // An exception ending in 2 h: within 24 h, not within 1 h.
    let expires =
        jiff::Timestamp::from_millisecond(jiff::Timestamp::now().as_millisecond() + 2 * 3_600_000)
            .unwrap()
            .to_string();
    let exception = ok(
        &server,
        Method::POST,
        "/api/v1/orgs/default/exceptions",
        Some(
            json!({"product": "portal", "version": "1.0", "project": "api",
                    "requirement": "scanned", "reason": "rescan pending", "expires": expires}),
        ),
    )
    .await;
    // The contract stops attaching policy-0: api no longer covers `scanned`.
    let (status, body) = server
        .apply("default", &server.admin, "c.yaml", &contract("policy-1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Two events: the exception (for the 24 h webhook) and the coverage drop (for both).
    assert_eq!(watch(&state).await.unwrap(), 2);
    assert_eq!(watch(&state).await.unwrap(), 0);
    let config = fast("a");
    deliver_until(&state, &config, &receiver, |got| got.len() >= 3).await;
    let got: Vec<Value> = receiver.received().iter().map(Received::json).collect();
    let expiring: Vec<&Value> = got
        .iter()
        .filter(|e| e["type"] == "exception.expiring")
        .collect();
    assert_eq!(expiring.len(), 1, "only the 24 h webhook: {got:?}");
    assert_eq!(
        expiring[0]["data"]["exception"],
        exception["id"].to_string().trim_matches('"')
    );
    assert_eq!(expiring[0]["data"]["reason"], "rescan pending");
    let dropped: Vec<&Value> = got
        .iter()
        .filter(|e| e["type"] == "coverage.dropped")
        .collect();
    assert_eq!(dropped.len(), 2, "one event, delivered to both webhooks");
    assert_eq!(dropped[0]["id"], dropped[1]["id"]);
    assert_eq!(
        dropped[0]["data"],
        json!({"requirement": "scanned", "full": 0, "previous": 1})
    );
    let log = |id: String| {
        let server = &server;
        async move {
            ok(
                server,
                Method::GET,
                &format!("/api/v1/orgs/default/webhooks/{id}/deliveries"),
                None,
            )
            .await
        }
    };
    assert_eq!(log(wide).await.as_array().unwrap().len(), 2);
    assert_eq!(log(narrow).await.as_array().unwrap().len(), 1);
}
