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
