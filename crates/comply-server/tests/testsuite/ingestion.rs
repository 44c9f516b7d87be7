//! Ingestion over HTTP on both backends: concurrent pushes lose nothing, and rejected
//! pushes (too large, tampered, untrusted) leave no row behind — checked in the store.

use crate::support::{Server, call};
use axum::http::{Method, StatusCode};
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use comply_store::testing::TestDb;
use serde_json::{Value, json};

fn statement(project: &str, i: usize) -> Vec<u8> {
    let finished = jiff::Timestamp::now().as_millisecond() - 60_000 - i as i64;
    let evaluations: Vec<Value> = (0..10)
        .map(|k| json!({"name": format!("policy-{k}"), "with": {"severity": "HIGH"}, "violations": []}))
        .collect();
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact", "digest": {"sha256": format!("{i:064x}")}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": {"workflowName": "build", "project": project, "projectVersion": "1.0",
                                    "finishedAt": jiff::Timestamp::from_millisecond(finished).unwrap().to_string()},
                      "policyEvaluations": {"CHAINLOOP.ATTESTATION": evaluations}},
    })
    .to_string()
    .into_bytes()
}

async fn trusted(server: &Server) -> SigningKey {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/orgs/default/keys",
            Some(&server.admin),
            Some(json!({"name": "ci", "pem": key.public().to_pem()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    key
}

async fn stored(server: &Server) -> usize {
    let org = server.store.org_by_name("default").await.unwrap().unwrap();
    server
        .store
        .list_attestations(org.id, None, None, 100_000, None)
        .await
        .unwrap()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_thousand_concurrent_pushes_lose_nothing() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let server = Server::start(db).await;
        let key = trusted(&server).await;
        let mut clients = Vec::new();
        for client in 0..8 {
            let router = server.router.clone();
            let token = server.admin.clone();
            let envelopes: Vec<Value> = (0..125)
                .map(|i| {
                    let n = client * 125 + i;
                    serde_json::from_slice(&sign(
                        "application/vnd.in-toto+json",
                        &statement(&format!("svc-{}", n % 7), n),
                        &key,
                    ))
                    .unwrap()
                })
                .collect();
            clients.push(tokio::spawn(async move {
                for e in envelopes {
                    let (status, body) = call(
                        &router,
                        Method::POST,
                        "/api/v1/orgs/default/attestations",
                        Some(&token),
                        Some(e),
                    )
                    .await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                    assert_eq!(body["created"], true);
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        assert_eq!(stored(&server).await, 1000, "{backend:?}");
    }
}

#[tokio::test]
async fn rejected_pushes_leave_no_row() {
    for db in TestDb::all().await {
        let server = Server::start(db).await;
        let key = trusted(&server).await;
        let push = |body: Value| {
            call(
                &server.router,
                Method::POST,
                "/api/v1/orgs/default/attestations",
                Some(&server.admin),
                Some(body),
            )
        };

        // 50 MB: refused before it is read whole.
        let huge = json!({"payloadType": "application/vnd.in-toto+json", "payload": "A".repeat(50 * 1024 * 1024), "signatures": []});
        assert_eq!(push(huge).await.0, StatusCode::PAYLOAD_TOO_LARGE);

        // One payload byte changed after signing.
        let mut envelope: Value = serde_json::from_slice(&sign(
            "application/vnd.in-toto+json",
            &statement("api", 1),
            &key,
        ))
        .unwrap();
        let payload = envelope["payload"].as_str().unwrap().to_owned();
        let flipped = if payload.starts_with('e') { "f" } else { "e" };
        envelope["payload"] = json!(format!("{flipped}{}", &payload[1..]));
        let (status, body) = push(envelope).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        // Signed by a key the org does not trust.
        let stranger = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let envelope: Value = serde_json::from_slice(&sign(
            "application/vnd.in-toto+json",
            &statement("api", 2),
            &stranger,
        ))
        .unwrap();
        let (status, body) = push(envelope).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("attestation rejected"),
            "{body}"
        );

        // Truncated envelope text.
        let text = String::from_utf8(sign(
            "application/vnd.in-toto+json",
            &statement("api", 3),
            &key,
        ))
        .unwrap();
        let truncated = json!({"envelope": &text[..text.len() / 2]});
        assert_eq!(push(truncated).await.0, StatusCode::BAD_REQUEST);

        // Finished in the future.
        let future = json!({
            "_type": "https://in-toto.io/Statement/v1", "subject": [],
            "predicateType": "chainloop.dev/attestation/v0.2",
            "predicate": {"metadata": {"workflowName": "b", "project": "api",
                           "finishedAt": jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(2)).unwrap().to_string()}},
        });
        let envelope: Value = serde_json::from_slice(&sign(
            "application/vnd.in-toto+json",
            future.to_string().as_bytes(),
            &key,
        ))
        .unwrap();
        let (status, body) = push(envelope).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("later than the server's time"),
            "{body}"
        );

        assert_eq!(
            stored(&server).await,
            0,
            "nothing stored by any rejected push"
        );
        let org = server.store.org_by_name("default").await.unwrap().unwrap();
        assert!(
            server.store.list_projects(org.id).await.unwrap().is_empty(),
            "no project created either"
        );
    }
}

const PORTFOLIO: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: p0}\nspec:\n  policies: [{ref: policy-0, periodicity: daily, sla: 6, with: {severity: HIGH}}]\n---\napiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata: {name: p1}\nspec:\n  policies: [{ref: policy-1}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata: {name: fw}\nspec:\n  requirements: [{ref: p0}, {ref: p1}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata: {name: portal}\nspec:\n  projects: [svc-0, svc-1, svc-2]\n  versions: [{name: \"1\", frameworks: [fw]}]\n";

pub fn policy(n: usize) -> String {
    format!(
        "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata: {{name: policy-{n}}}\nspec:\n  inputs: [{{name: severity, type: severity, default: LOW}}]\n  policies:\n    - kind: ATTESTATION\n      embedded: |\n        package main\n        import rego.v1\n        violations contains \"x\" if false\n"
    )
}

/// The same evidence gives the same status, cell for cell, on both backends.
#[tokio::test]
async fn status_is_the_same_on_both_backends() {
    let mut answers = Vec::new();
    for db in TestDb::all().await {
        let backend = db.backend;
        let server = Server::start(db).await;
        let key = trusted(&server).await;
        let docs = format!("{}---\n{}---\n{PORTFOLIO}", policy(0), policy(1));
        let (status, body) = server
            .apply("default", &server.admin, "p.yaml", &docs)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for i in 0..9 {
            let envelope: Value = serde_json::from_slice(&sign(
                "application/vnd.in-toto+json",
                &statement(&format!("svc-{}", i % 3), i),
                &key,
            ))
            .unwrap();
            let (status, body) = server
                .call(
                    Method::POST,
                    "/api/v1/orgs/default/attestations",
                    Some(&server.admin),
                    Some(envelope),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let at = jiff::Timestamp::now().to_string();
        let (status, answer) = server
            .call(
                Method::GET,
                &format!(
                    "/api/v1/orgs/default/products/portal/status?at={}",
                    at.replace(':', "%3A")
                ),
                Some(&server.admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            answer["cells"].as_array().unwrap().len(),
            6,
            "{backend:?}: {answer}"
        );
        let cells: Vec<(Value, Value, Value)> = answer["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["requirement"].clone(),
                    c["project"].clone(),
                    c["status"].clone(),
                )
            })
            .collect();
        assert!(
            cells.iter().all(|c| c.2 == "PASSED"),
            "{backend:?}: {cells:?}"
        );
        answers.push((cells, answer["score"].clone()));
    }
    for pair in answers.windows(2) {
        assert_eq!(pair[0], pair[1]);
    }
}

/// A policy's Chainloop `autoMatch` module decides argument compatibility for it.
#[tokio::test]
async fn auto_match_modules_decide_for_their_policy() {
    let server = Server::sqlite().await;
    let key = trusted(&server).await;
    let custom = "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata: {name: policy-0}\nspec:\n  inputs: [{name: severity, type: severity}]\n  policies:\n    - kind: ATTESTATION\n      embedded: |\n        package main\n        import rego.v1\n        violations contains \"x\" if false\n  autoMatch:\n    embedded: |\n      package automatch\n      import rego.v1\n      matches_parameters if input.args.severity == \"EXACTLY-THIS\"\n";
    let docs = format!("{custom}---\n{}---\n{PORTFOLIO}", policy(1));
    let (status, body) = server
        .apply("default", &server.admin, "p.yaml", &docs)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Evaluations carry severity HIGH, which the typed comparison would accept for a
    // HIGH requirement; the module accepts only "EXACTLY-THIS".
    let envelope: Value = serde_json::from_slice(&sign(
        "application/vnd.in-toto+json",
        &statement("svc-0", 1),
        &key,
    ))
    .unwrap();
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/orgs/default/attestations",
            Some(&server.admin),
            Some(envelope),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, answer) = server
        .call(
            Method::GET,
            "/api/v1/orgs/default/products/portal/status?project=svc-0",
            Some(&server.admin),
            None,
        )
        .await;
    let cell = |r: &str| {
        answer["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["requirement"] == r)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(cell("p0"), "NO_DATA", "{answer}");
    assert_eq!(cell("p1"), "PASSED", "{answer}");
}
