//! Two servers on one database: the deployment shape of PostgreSQL (and it must hold
//! for one SQLite file opened twice as well).

use crate::support::{REQ, call};
use axum::http::{Method, StatusCode};
use comply_server::{AppState, app, bootstrap};
use comply_store::Store;
use comply_store::testing::TestDb;
use serde_json::json;

#[tokio::test]
async fn side_by_side_on_one_database() {
    for db in TestDb::all().await {
        let (a, b) = (
            Store::connect(&db.url).await.unwrap(),
            Store::connect(&db.url).await.unwrap(),
        );
        // Both load the built-in content at once, as two servers starting together do.
        let (la, lb) = tokio::join!(
            comply_server::load_builtins(&a),
            comply_server::load_builtins(&b)
        );
        la.unwrap();
        lb.unwrap();
        // Both start at once: exactly one creates the first org and token.
        let (ta, tb) = tokio::join!(bootstrap(&a), bootstrap(&b));
        let tokens: Vec<_> = [ta.unwrap(), tb.unwrap()].into_iter().flatten().collect();
        assert_eq!(tokens.len(), 1, "{:?}: one bootstrap token", db.backend);
        let token = tokens[0].secret.clone();
        let (ra, rb) = (app(AppState::new(a.clone())), app(AppState::new(b.clone())));

        // Applies through both servers interleave without losing or forking anything.
        let mut tasks = Vec::new();
        for i in 0..16 {
            let router = if i % 2 == 0 { ra.clone() } else { rb.clone() };
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let content = REQ.replace("req-a", &format!("req-{i}"));
                let body = json!({"documents": [{"file": "r.yaml", "content": content}]});
                call(
                    &router,
                    Method::POST,
                    "/api/v1/orgs/default/apply",
                    Some(&token),
                    Some(body),
                )
                .await
                .0
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::OK);
        }
        let (_, list) = call(
            &rb,
            Method::GET,
            "/api/v1/orgs/default/requirements",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(
            crate::support::custom(&list).as_array().unwrap().len(),
            16,
            "{:?}",
            db.backend
        );
        let (_, verified) = call(
            &ra,
            Method::GET,
            "/api/v1/orgs/default/audit/verify",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(verified["intact"], true, "{:?}: {verified}", db.backend);
        assert_eq!(verified["events"], 18);
        a.close().await;
        b.close().await;
    }
}

const PRODUCT: &str = "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  requirements: [{ref: req-a}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: portal\nspec:\n  projects: [api]\n  versions:\n    - name: \"1.0\"\n      frameworks: [fw]\n";

/// Issue #15 probe kept as a test: two servers on one database under conflicting
/// applies of one resource and concurrent decisions on one cell keep contiguous
/// revisions, one active decision, and answer the same status.
#[tokio::test]
async fn conflicting_applies_and_decisions_through_two_servers() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let (a, b) = (
            Store::connect(&db.url).await.unwrap(),
            Store::connect(&db.url).await.unwrap(),
        );
        comply_server::load_builtins(&a).await.unwrap();
        let token = bootstrap(&a).await.unwrap().unwrap().secret;
        let (ra, rb) = (app(AppState::new(a.clone())), app(AppState::new(b.clone())));
        let body =
            json!({"documents": [{"file": "p.yaml", "content": format!("{REQ}---\n{PRODUCT}")}]});
        let (status, answer) = call(
            &ra,
            Method::POST,
            "/api/v1/orgs/default/apply",
            Some(&token),
            Some(body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");

        // Twelve different versions of one requirement, applied at once through both.
        let mut tasks = Vec::new();
        for i in 0..12 {
            let router = if i % 2 == 0 { ra.clone() } else { rb.clone() };
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let content = REQ.replace(
                    "  name: req-a\n",
                    &format!("  name: req-a\n  description: version {i}\n"),
                );
                let body = json!({"documents": [{"file": "r.yaml", "content": content}]});
                call(
                    &router,
                    Method::POST,
                    "/api/v1/orgs/default/apply",
                    Some(&token),
                    Some(body),
                )
                .await
            }));
        }
        let mut revisions = Vec::new();
        for t in tasks {
            let (status, answer) = t.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{backend:?}: {answer}");
            let result = answer["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == "req-a")
                .cloned()
                .unwrap();
            if result["action"] != "unchanged" {
                revisions.push(result["revision"].as_i64().unwrap());
            }
        }
        revisions.sort();
        let expected: Vec<i64> = (2..2 + revisions.len() as i64).collect();
        assert_eq!(
            revisions, expected,
            "{backend:?}: contiguous revisions, none shared"
        );

        // Twenty exceptions on one cell at once, through both servers.
        let mut tasks = Vec::new();
        for i in 0..20 {
            let router = if i % 2 == 0 { ra.clone() } else { rb.clone() };
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let body = json!({"product": "portal", "version": "1.0", "project": "api", "requirement": "req-a", "reason": format!("r{i}")});
                call(&router, Method::POST, "/api/v1/orgs/default/exceptions", Some(&token), Some(body)).await.0
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::CREATED, "{backend:?}");
        }
        let path = "/api/v1/orgs/default/exceptions?product=portal&version=1.0";
        let (_, list) = call(&rb, Method::GET, path, Some(&token), None).await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 20, "{backend:?}");
        assert_eq!(
            list.iter().filter(|e| e["active"] == true).count(),
            1,
            "{backend:?}: one active decision"
        );

        let at = jiff::Timestamp::now().to_string();
        let status_path =
            format!("/api/v1/orgs/default/products/portal/status?version=1.0&at={at}");
        let (sa, from_a) = call(&ra, Method::GET, &status_path, Some(&token), None).await;
        let (sb, from_b) = call(&rb, Method::GET, &status_path, Some(&token), None).await;
        assert_eq!((sa, sb), (StatusCode::OK, StatusCode::OK), "{from_a}");
        assert_eq!(
            from_a, from_b,
            "{backend:?}: both servers answer the same status"
        );
        let (_, verified) = call(
            &rb,
            Method::GET,
            "/api/v1/orgs/default/audit/verify",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(verified["intact"], true, "{backend:?}: {verified}");
        a.close().await;
        b.close().await;
    }
}
