//! Hostile and careless input (issue #15): NUL and control characters, names from
//! attestations, alias bombs, oversized attestations, one error contract, security
//! headers — on SQLite and, when configured, PostgreSQL.

use crate::support::{REQ, Server};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use comply_attest::{KeyAlgorithm, SigningKey, sign};
use comply_core::Role;
use comply_store::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

pub async fn raw(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(c) = content_type {
        req = req.header("content-type", c);
    }
    let resp = server
        .router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, value)
}

/// A problem document with a stable type, a short detail and no internals.
#[track_caller]
fn assert_problem(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
    expected: StatusCode,
    slug: &str,
) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{status}: {body}"
    );
    assert_eq!(body["type"], format!("urn:comply:problem:{slug}"), "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    let detail = body["detail"].as_str().expect("a detail");
    assert!(detail.len() < 500, "a short detail: {} bytes", detail.len());
    for internal in ["database error", "sqlx", "invalid byte sequence", "{ "] {
        assert!(!detail.contains(internal), "no internals: {detail}");
    }
    assert!(
        !detail.contains('\0') && !detail.contains('\u{1b}'),
        "{detail:?}"
    );
}

fn statement(metadata: Value, subjects: usize) -> Vec<u8> {
    let finished = jiff::Timestamp::now().as_millisecond() - 60_000;
    let mut meta = json!({"workflowName": "build", "project": "api", "projectVersion": "1.0",
        "finishedAt": jiff::Timestamp::from_millisecond(finished).unwrap().to_string()});
    for (k, v) in metadata.as_object().unwrap() {
        meta[k] = v.clone();
    }
    let subjects: Vec<Value> = (0..subjects.max(1))
        .map(
            |i| json!({"name": format!("artifact-{i}"), "digest": {"sha256": format!("{i:064x}")}}),
        )
        .collect();
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": meta,
            "policyEvaluations": {"CHAINLOOP.ATTESTATION": [{"name": "p", "with": {}, "violations": []}]}},
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

async fn push(
    server: &Server,
    key: &SigningKey,
    statement: &[u8],
) -> (StatusCode, HeaderMap, Value) {
    let envelope = sign("application/vnd.in-toto+json", statement, key);
    raw(
        server,
        Method::POST,
        "/api/v1/orgs/default/attestations",
        Some(&server.admin),
        Some("application/json"),
        envelope,
    )
    .await
}

async fn stored(server: &Server) -> usize {
    let org = server.store.org_by_name("default").await.unwrap().unwrap();
    server
        .store
        .list_attestations(org.id, None, None, 100_000, None)
        .await
        .unwrap()
        .expect("the org exists")
        .len()
}

/// Defect 1: PostgreSQL answered 500 with the raw database error on any NUL.
#[tokio::test]
async fn nul_is_a_clear_400_on_every_backend() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let s = Server::start(db).await;
        let key = trusted(&s).await;
        let admin = s.admin.clone();
        let json_body = |v: &str| v.as_bytes().to_vec();
        let cases: Vec<(Method, &str, Option<&str>)> = vec![
            (Method::GET, "/api/v1/orgs/default/requirements/%00", None),
            (Method::GET, "/api/v1/orgs/default/projects/a%00b", None),
            (
                Method::GET,
                "/api/v1/orgs/default/attestations?project=%00",
                None,
            ),
            (
                Method::POST,
                "/api/v1/orgs/default/tokens",
                Some(r#"{"name":"ci\u0000","role":"member"}"#),
            ),
            (
                Method::POST,
                "/api/v1/orgs/default/exceptions",
                Some(
                    r#"{"product":"p","version":"1","project":"api","requirement":"r","reason":"why\u0000"}"#,
                ),
            ),
            (
                Method::POST,
                "/api/v1/orgs/default/proofs",
                Some(
                    r#"{"product":"p","version":"1","requirement":"r","proof":"x","text":"a\u0000b"}"#,
                ),
            ),
        ];
        for (method, path, body) in cases {
            let (status, headers, answer) = raw(
                &s,
                method.clone(),
                path,
                Some(&admin),
                body.map(|_| "application/json"),
                body.map(json_body).unwrap_or_default(),
            )
            .await;
            assert_problem(
                status,
                &headers,
                &answer,
                StatusCode::BAD_REQUEST,
                "bad-request",
            );
            assert!(
                answer["detail"].as_str().unwrap().contains("NUL"),
                "{backend:?} {method} {path}: {answer}"
            );
        }
        let (status, headers, answer) =
            push(&s, &key, &statement(json!({"project": "a\u{0}b"}), 1)).await;
        assert_problem(
            status,
            &headers,
            &answer,
            StatusCode::BAD_REQUEST,
            "bad-request",
        );
        let (status, headers, answer) = push(
            &s,
            &key,
            &statement(json!({"project": "api", "annotations": {"x": "a\u{0}"}}), 1),
        )
        .await;
        assert_problem(
            status,
            &headers,
            &answer,
            StatusCode::BAD_REQUEST,
            "bad-request",
        );
        assert_eq!(stored(&s).await, 0, "{backend:?}: nothing stored on error");
        let (_, _, tokens) = raw(
            &s,
            Method::GET,
            "/api/v1/orgs/default/tokens",
            Some(&admin),
            None,
            vec![],
        )
        .await;
        assert_eq!(tokens.as_array().unwrap().len(), 1, "{backend:?}: {tokens}");
    }
}

/// Defect 2: names taken from attestations were stored whatever they held.
#[tokio::test]
async fn names_from_attestations_follow_the_name_rule() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let s = Server::start(db).await;
        let key = trusted(&s).await;
        let long = "a".repeat(100_000);
        for metadata in [
            json!({"project": "\u{1b}[31mred"}),
            json!({"project": "../../etc"}),
            json!({"project": long}),
            json!({"project": "Upper_Case"}),
            json!({"projectVersion": "1.0/../../x"}),
            json!({"projectVersion": "1.0\u{1b}[2J"}),
            json!({"projectVersion": long}),
            json!({"workflowName": "bad wf"}),
        ] {
            let (status, headers, answer) = push(&s, &key, &statement(metadata.clone(), 1)).await;
            assert_problem(
                status,
                &headers,
                &answer,
                StatusCode::BAD_REQUEST,
                "bad-request",
            );
            assert!(
                answer["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("attestation rejected: predicate.metadata."),
                "{backend:?} {metadata}: {answer}"
            );
        }
        assert_eq!(stored(&s).await, 0, "{backend:?}");
        // Versions as build tools write them are accepted.
        for version in ["v0.162.0", "1.2.3-rc.1+build.5", "latest"] {
            let (status, _, answer) =
                push(&s, &key, &statement(json!({"projectVersion": version}), 1)).await;
            assert_eq!(status, StatusCode::OK, "{version}: {answer}");
        }
    }
}

/// Defect 6: a 100,000-subject envelope was accepted.
#[tokio::test]
async fn attestation_lists_are_bounded() {
    let s = Server::sqlite().await;
    let key = trusted(&s).await;
    let (status, headers, answer) = push(&s, &key, &statement(json!({}), 1_001)).await;
    assert_problem(
        status,
        &headers,
        &answer,
        StatusCode::BAD_REQUEST,
        "bad-request",
    );
    assert!(
        answer["detail"].as_str().unwrap().contains("1001 subjects"),
        "{answer}"
    );
    let (status, _, answer) = push(&s, &key, &statement(json!({}), 1_000)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Defect 3: a 643-byte alias bomb cost ~270 MB and answered Rust debug text; a viewer
/// could send it.
#[tokio::test]
async fn a_viewer_alias_bomb_is_refused_in_plain_words() {
    let s = Server::sqlite().await;
    let viewer = s.token("default", Role::Viewer).await;
    let mut bomb = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in 1..=8 {
        let refs = vec![format!("*a{}", level - 1); 9].join(",");
        bomb.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    assert!(bomb.len() < 700);
    let body = json!({"file": "bomb.yaml", "content": bomb})
        .to_string()
        .into_bytes();
    let (status, headers, answer) = raw(
        &s,
        Method::POST,
        "/api/v1/orgs/default/requirement-coverage",
        Some(&viewer),
        Some("application/json"),
        body,
    )
    .await;
    assert!(status.is_client_error(), "{status} {answer}");
    assert_eq!(headers["content-type"], "application/problem+json");
    let text = answer.to_string();
    assert!(text.contains("expands"), "{text}");
    for debug in ["RecordedAnchorEvents", "Depth {", "breach"] {
        assert!(!text.contains(debug), "{text}");
    }
}

/// Defect 7: body-size, routing, method and query errors were plain text; a 1 MB bad
/// name was echoed whole.
#[tokio::test]
async fn every_error_is_a_problem_document() {
    let s = Server::sqlite().await;
    let admin = s.admin.clone();
    let (st, h, b) = raw(
        &s,
        Method::GET,
        "/api/v1/no-such-route",
        Some(&admin),
        None,
        vec![],
    )
    .await;
    assert_problem(st, &h, &b, StatusCode::NOT_FOUND, "not-found");
    let (st, h, b) = raw(&s, Method::PUT, "/api/v1/orgs", Some(&admin), None, vec![]).await;
    assert_problem(
        st,
        &h,
        &b,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    );
    let (st, h, b) = raw(
        &s,
        Method::GET,
        "/api/v1/orgs/default/audit?limit=many",
        Some(&admin),
        None,
        vec![],
    )
    .await;
    assert_problem(st, &h, &b, StatusCode::BAD_REQUEST, "bad-request");
    let (st, h, b) = raw(
        &s,
        Method::POST,
        "/api/v1/orgs",
        Some(&admin),
        Some("application/json"),
        b"{not json".to_vec(),
    )
    .await;
    assert_problem(st, &h, &b, StatusCode::BAD_REQUEST, "bad-request");
    let (st, h, b) = raw(
        &s,
        Method::POST,
        "/api/v1/orgs",
        Some(&admin),
        Some("text/plain"),
        b"{}".to_vec(),
    )
    .await;
    assert_problem(
        st,
        &h,
        &b,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    let huge = vec![b'x'; 17 * 1024 * 1024];
    let (st, h, b) = raw(
        &s,
        Method::POST,
        "/api/v1/orgs/default/attestations",
        Some(&admin),
        Some("application/json"),
        huge,
    )
    .await;
    assert_problem(
        st,
        &h,
        &b,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    );
    assert!(b["detail"].as_str().unwrap().contains("16 MiB"), "{b}");
    let name = "A".repeat(1024 * 1024);
    let (st, h, b) = raw(
        &s,
        Method::POST,
        "/api/v1/orgs",
        Some(&admin),
        Some("application/json"),
        json!({"name": name}).to_string().into_bytes(),
    )
    .await;
    assert_problem(st, &h, &b, StatusCode::BAD_REQUEST, "bad-request");
    let (st, h, b) = raw(
        &s,
        Method::GET,
        "/api/v1/whoami",
        Some("comply_x_y"),
        None,
        vec![],
    )
    .await;
    assert_problem(st, &h, &b, StatusCode::UNAUTHORIZED, "unauthorized");
}

/// Defect 8: no security headers.
#[tokio::test]
async fn security_headers_on_every_answer() {
    let s = Server::sqlite().await;
    let (st, h, _) = raw(&s, Method::GET, "/healthz", None, None, vec![]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["x-content-type-options"], "nosniff");
    let (st, h, _) = raw(&s, Method::GET, "/api/v1/whoami", None, None, vec![]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"),
        "{h:?}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    let (st, h, b) = raw(
        &s,
        Method::POST,
        "/api/v1/orgs/default/tokens",
        Some(&s.admin),
        Some("application/json"),
        br#"{"name":"ci","role":"viewer"}"#.to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(
        h["cache-control"], "no-store",
        "an answer carrying a secret"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    let (_, h, _) = raw(
        &s,
        Method::GET,
        "/api/v1/orgs/default/requirements",
        Some(&s.admin),
        None,
        vec![],
    )
    .await;
    assert_eq!(h["cache-control"], "no-store");
    let _ = REQ;
}

/// Defect 4: any owner could revoke the instance administrator's token, and the last
/// owner of an org could revoke itself; there was no recovery.
#[tokio::test]
async fn nobody_locks_the_instance_or_an_org_out() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let s = Server::start(db).await;
        let default_owner = s.token("default", Role::Owner).await;
        let admin_id = s
            .store
            .list_tokens(s.store.org_by_name("default").await.unwrap().unwrap().id)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.instance_admin)
            .unwrap()
            .id;
        let revoke = |token: String, org: &'static str, id: String| {
            let router = s.router.clone();
            async move {
                crate::support::call(
                    &router,
                    Method::DELETE,
                    &format!("/api/v1/orgs/{org}/tokens/{id}"),
                    Some(&token),
                    None,
                )
                .await
            }
        };
        for caller in [default_owner.clone(), s.admin.clone()] {
            let (status, body) = revoke(caller, "default", admin_id.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}: {body}");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("--reset-admin-token"),
                "{body}"
            );
        }
        assert_eq!(
            s.call(Method::GET, "/api/v1/whoami", Some(&s.admin), None)
                .await
                .0,
            StatusCode::OK
        );

        // An org with one owner token keeps it.
        s.create_org("acme").await;
        let (status, created) = s
            .call(
                Method::POST,
                "/api/v1/orgs/acme/tokens",
                Some(&s.admin),
                Some(json!({"name": "acme-owner", "role": "owner"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let owner = created["token"].as_str().unwrap().to_owned();
        let owner_id = created["id"].as_str().unwrap().to_owned();
        let (status, body) = revoke(owner.clone(), "acme", owner_id.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("last active owner"),
            "{body}"
        );
        // With a second owner, either may go, but not both, even at once.
        let (_, second) = s
            .call(
                Method::POST,
                "/api/v1/orgs/acme/tokens",
                Some(&owner),
                Some(json!({"name": "second", "role": "owner"})),
            )
            .await;
        let second_id = second["id"].as_str().unwrap().to_owned();
        let (a, b) = tokio::join!(
            revoke(s.admin.clone(), "acme", owner_id.clone()),
            revoke(s.admin.clone(), "acme", second_id.clone())
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::NO_CONTENT, StatusCode::CONFLICT],
            "{backend:?}"
        );
        let acme = s.store.org_by_name("acme").await.unwrap().unwrap();
        let active = s
            .store
            .list_tokens(acme.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.role == Role::Owner && t.revoked_at.is_none())
            .count();
        assert_eq!(active, 1, "{backend:?}");
        // Members and viewers come and go freely.
        let (_, member) = s
            .call(
                Method::POST,
                "/api/v1/orgs/acme/tokens",
                Some(&s.admin),
                Some(json!({"name": "m", "role": "member"})),
            )
            .await;
        let (status, _) = revoke(
            s.admin.clone(),
            "acme",
            member["id"].as_str().unwrap().to_owned(),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        // Break-glass: a new administrator token, the old one revoked, audited.
        let (org, issued) = comply_server::reset_admin_token(&s.store, "break-glass:test")
            .await
            .unwrap();
        assert_eq!(org, "default");
        let (status, _) = s
            .call(Method::GET, "/api/v1/whoami", Some(&s.admin), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token is revoked");
        let (status, me) = s
            .call(Method::GET, "/api/v1/whoami", Some(&issued.secret), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["instance_admin"], true, "{me}");
        let (_, audit) = s
            .call(
                Method::GET,
                "/api/v1/orgs/default/audit",
                Some(&issued.secret),
                None,
            )
            .await;
        assert!(audit.to_string().contains("token.reset-admin"), "{audit}");
        let (_, verify) = s
            .call(
                Method::GET,
                "/api/v1/orgs/default/audit/verify",
                Some(&issued.secret),
                None,
            )
            .await;
        assert_eq!(verify["intact"], true, "{verify}");
    }
}

/// Defect 7 (documentation): required query parameters were missing from OpenAPI.
#[tokio::test]
async fn openapi_lists_every_query_parameter() {
    let s = Server::sqlite().await;
    let (_, doc) = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["in"] == "query")
            .cloned()
            .unwrap_or_else(|| panic!("{method} {path} documents ?{name}"))
    };
    let history = "/api/v1/orgs/{org}/products/{name}/history";
    assert_eq!(param(history, "get", "from")["required"], true);
    assert_eq!(param(history, "get", "to")["required"], true);
    assert_eq!(param(history, "get", "version")["required"], false);
    for name in ["product", "version"] {
        assert_eq!(
            param("/api/v1/orgs/{org}/proofs", "get", name)["required"],
            true
        );
    }
    let limit = param("/api/v1/orgs/{org}/attestations", "get", "limit");
    assert_eq!(limit["schema"]["type"], "integer");
    assert_eq!(
        param("/api/v1/orgs/{org}/audit", "get", "limit")["schema"]["type"],
        "integer"
    );
    // Every "(query: a, b)" a summary mentions is documented as a parameter.
    for route in comply_server::route_docs() {
        let Some(list) = route.summary.split("(query: ").nth(1) else {
            continue;
        };
        for name in list
            .trim_end_matches(").")
            .trim_end_matches(')')
            .split(", ")
        {
            assert!(
                route.query.iter().any(|p| p.name == name),
                "{} {} documents ?{name}",
                route.method.as_str(),
                route.path
            );
        }
    }
    assert_eq!(
        doc["info"]["x-comply-limits"]["max_request_bytes"],
        16 * 1024 * 1024
    );
}

/// Property (issue #15): a signed push of a mutated statement is stored whole or
/// refused with a 4xx, and a refused one leaves nothing behind. Budget by
/// `COMPLY_PROPTEST_CASES` (default 24: each case is a real ingestion).
#[test]
fn mutated_signed_pushes_store_all_or_nothing() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let cases = std::env::var("COMPLY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(Server::sqlite());
    let key = rt.block_on(trusted(&s));
    let base = statement(json!({}), 2);
    let mut runner = TestRunner::new(Config::with_cases(cases));
    let edits = prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6);
    runner
        .run(&edits, |edits| {
            let mut bytes = base.clone();
            for (at, byte, op) in edits {
                let i = at % bytes.len().max(1);
                match op {
                    0 if !bytes.is_empty() => bytes[i] = byte,
                    1 if !bytes.is_empty() => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, byte),
                }
            }
            rt.block_on(async {
                let before = stored(&s).await;
                let (status, _, answer) = push(&s, &key, &bytes).await;
                let after = stored(&s).await;
                prop_assert!(!status.is_server_error(), "{status}: {answer}");
                if status.is_success() {
                    prop_assert!(after <= before + 1);
                } else {
                    prop_assert!(status.is_client_error(), "{status}");
                    prop_assert_eq!(after, before, "nothing stored on error: {}", answer);
                }
                Ok(())
            })
        })
        .unwrap();
}

/// Free text others will read (decision reasons, proof texts and URLs) refuses control
/// characters other than line breaks and tabs, as names do: an ANSI escape in a reason
/// would otherwise reach every terminal that lists it.
#[tokio::test]
async fn control_characters_in_free_text_are_refused() {
    let s = Server::sqlite().await;
    let admin = s.token("default", comply_core::Role::Admin).await;
    for (path, body) in [
        (
            "/api/v1/orgs/default/exceptions",
            json!({"product": "p", "version": "1", "project": "api", "requirement": "r", "reason": "why\u{1b}[31m"}),
        ),
        (
            "/api/v1/orgs/default/overrides",
            json!({"product": "p", "version": "1", "requirement": "r", "status": "passed", "reason": "ok\u{7}"}),
        ),
        (
            "/api/v1/orgs/default/proofs",
            json!({"product": "p", "version": "1", "requirement": "r", "proof": "x", "text": "a\u{1b}b"}),
        ),
    ] {
        let (status, answer) = s.call(Method::POST, path, Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{path}: {answer}"
        );
    }
    // Line breaks and tabs stay allowed in a reason: it fails later, on the cell.
    let (_, answer) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/exceptions",
            Some(&admin),
            Some(json!({"product": "p", "version": "1", "requirement": "r", "reason": "line one\n\tline two"})),
        )
        .await;
    assert!(
        !answer["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("control character"),
        "{answer}"
    );
}
