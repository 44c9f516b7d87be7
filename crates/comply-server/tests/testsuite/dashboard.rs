//! The dashboard's pages through the real router: session, role, CSRF and org checks,
//! driven by the page registry so a new page is covered when it is registered.

use crate::support::Server;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use comply_core::Role;
use comply_server::web::{PageDoc, page_docs};
use serde_json::Value;
use tower::ServiceExt;

pub const RESOURCES: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  policies: [{ref: vulnerabilities, with: {severity: HIGH}}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  requirements: [{ref: req-a}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: portal\nspec:\n  projects: [api]\n  versions:\n    - name: \"1.0\"\n      frameworks: [fw]\n";

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

pub async fn send(
    s: &Server,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let req = match form {
        // Uploads are multipart; their CSRF token rides in the query string.
        Some(f) if path.ends_with("/proofs") => {
            let mut body = String::new();
            let mut csrf = String::new();
            for (k, v) in url_pairs(f) {
                if k == "csrf" {
                    csrf = v;
                    continue;
                }
                body.push_str(&format!(
                    "--XX\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
            body.push_str("--XX--\r\n");
            let uri = format!("{path}?csrf={csrf}");
            let mut req = Request::builder()
                .method(Method::POST)
                .uri(if csrf.is_empty() {
                    path.to_owned()
                } else {
                    uri
                });
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            req.header(header::CONTENT_TYPE, "multipart/form-data; boundary=XX")
                .body(Body::from(body))
        }
        Some(f) => req
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(f.to_owned())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = s.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn url_pairs(form: &str) -> Vec<(String, String)> {
    form.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace('+', " ")))
        .collect()
}

/// Signs in with `token`; returns the cookie and the session's CSRF token.
pub async fn sign_in(s: &Server, token: &str) -> (String, String) {
    let a = send(
        s,
        Method::POST,
        "/signin",
        None,
        Some(&format!("token={token}&next=%2F")),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let set = a.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = send(s, Method::GET, "/", Some(&cookie), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "name=\"csrf\" value=\"";
    let start = page.body.find(marker).expect("a CSRF field") + marker.len();
    let csrf = page.body[start..start + 64].to_owned();
    (cookie, csrf)
}

/// A form that would write something if the guard let it through.
fn form(page: &PageDoc) -> &'static str {
    match page.path.as_str() {
        "/settings" => "in_preview_frameworks=true",
        "/products/{name}/frameworks" => "version=1.0&framework=slsa&action=attach",
        "/products/{name}/exceptions" => "version=1.0&requirement=req-a&project=api&reason=x",
        "/products/{name}/overrides" => {
            "version=1.0&requirement=req-a&project=api&reason=x&status=passed"
        }
        "/products/{name}/applicability" => {
            "version=1.0&requirement=req-a&project=api&rationale=x&applicable=false"
        }
        "/frameworks/{name}/duplicate" => "as=fw-copy",
        "/requirements/{name}/duplicate" => "as=req-copy",
        "/requirements/{name}/lifecycle" => "active=false",
        "/requirements/{name}/edit" | "/requirements/{name}/preview" => {
            "content=apiVersion%3A+chainloop.dev%2Fv1%0Akind%3A+Requirement%0Ametadata%3A%0A++name%3A+req-a%0Aspec%3A%0A++policies%3A+%5B%7Bref%3A+vulnerabilities%7D%5D%0A"
        }
        "/settings/tokens" => "name=forged&role=owner",
        "/settings/keys" => "name=forged&pem=x",
        "/frameworks/{name}/delete"
        | "/settings/tokens/{id}/revoke"
        | "/settings/keys/{name}/remove" => "confirm=1",
        _ => "version=1.0&requirement=req-a&project=api&proof=x&text=done",
    }
}

pub async fn audit_len(s: &Server, owner: &str) -> usize {
    let (status, events) = s
        .call(Method::GET, "/api/v1/orgs/acme/audit", Some(owner), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    events.as_array().map_or(0, Vec::len)
}

/// A page's path with its placeholders naming objects of acme the seed made.
fn concrete(path: &str, token_id: &str) -> String {
    let name = if path.starts_with("/frameworks") {
        "fw"
    } else if path.starts_with("/requirements") {
        "req-a"
    } else if path.starts_with("/projects") {
        "api"
    } else if path.starts_with("/settings/keys") {
        "ci"
    } else {
        "portal"
    };
    path.replace("{name}", name).replace("{id}", token_id)
}

/// A trusted key `ci`, a contract `build` used by project api's workflow, and one
/// signed attestation of api 1.0 with a failing and a skipped evaluation.
pub async fn seed_project(s: &Server, owner: &str) -> comply_attest::SigningKey {
    use comply_attest::{KeyAlgorithm, SigningKey, sign};
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/orgs/acme/keys",
            Some(owner),
            Some(serde_json::json!({"name": "ci", "pem": key.public().to_pem()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = s.apply("acme", owner, "c.yaml", CONTRACT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/orgs/acme/workflows",
            Some(owner),
            Some(serde_json::json!({"project": "api", "name": "build", "contract": "build"})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let finished = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"metadata": {"workflowName": "build", "project": "api", "projectVersion": "1.0",
                                   "finishedAt": finished.to_string()},
                      "policyEvaluations": {"scan": [
                          {"name": "vulnerabilities", "with": {"severity": "HIGH"},
                           "violations": [{"subject": "vulnerabilities", "message": "CVE-2026-0001 is HIGH"}]},
                          {"name": "sbom-present", "violations": [], "skipped": true,
                           "skipReasons": ["no SBOM material in this run"]}]}},
    });
    let envelope = sign(
        "application/vnd.in-toto+json",
        statement.to_string().as_bytes(),
        &key,
    );
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/orgs/acme/attestations",
            Some(owner),
            Some(serde_json::from_slice(&envelope).unwrap()),
        )
        .await;
    assert!(status.is_success(), "{body}");
    key
}

pub const CONTRACT: &str = "apiVersion: chainloop.dev/v1\nkind: Contract\nmetadata:\n  name: build\nspec:\n  materials:\n    - {name: scan, type: SARIF}\n  policies:\n    materials:\n      - {ref: vulnerabilities, selector: {name: scan}, with: {severity: MEDIUM}}\n";

fn below(role: Role) -> Option<Role> {
    Role::ALL.into_iter().filter(|r| *r < role).max()
}

#[tokio::test]
async fn every_page_checks_session_role_and_csrf() {
    let s = Server::sqlite().await;
    s.create_org("acme").await;
    s.create_org("globex").await;
    let owner = s.token("acme", Role::Owner).await;
    let (status, body) = s.apply("acme", &owner, "r.yaml", RESOURCES).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut sessions = Vec::new();
    for role in Role::ALL {
        let token = s.token("acme", role).await;
        sessions.push((role, sign_in(&s, &token).await));
    }
    let session = |role: Role| sessions.iter().find(|(r, _)| *r == role).unwrap().1.clone();
    let globex = sign_in(&s, &s.token("globex", Role::Owner).await).await;

    let token_id = s
        .token("acme", Role::Viewer)
        .await
        .split('_')
        .nth(1)
        .unwrap()
        .to_owned();
    seed_project(&s, &owner).await;
    let pages = page_docs();
    assert!(pages.len() >= 10, "the registry lists every page");
    for page in &pages {
        let what = format!("{} {}", page.method.as_str(), page.path);
        let Some(required) = page.role else { continue };
        let path = concrete(&page.path, &token_id);
        let m = page.method.clone();
        let body = (page.method != Method::GET).then(|| form(page));
        let before = audit_len(&s, &owner).await;

        // No session: GET pages send the browser to sign in; writes are refused.
        let a = send(&s, m.clone(), &path, None, body).await;
        if page.method == Method::GET {
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{what} without a session");
            assert!(
                a.headers[header::LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/signin")
            );
        } else {
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{what} without a session"
            );
        }
        let a = send(&s, m.clone(), &path, Some("comply_session=forged"), body).await;
        assert_ne!(a.status, StatusCode::OK, "{what} with a forged session");

        if let Some(lower) = below(required) {
            let (cookie, csrf) = session(lower);
            let body = body.map(|b| format!("{b}&csrf={csrf}"));
            let a = send(&s, m.clone(), &path, Some(&cookie), body.as_deref()).await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{what} as {lower}: {}",
                a.body
            );
        }
        if page.method != Method::GET {
            // The right role without the CSRF token, and with a wrong one.
            let (cookie, csrf) = session(required);
            let a = send(&s, m.clone(), &path, Some(&cookie), body).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{what} without CSRF");
            let wrong = body.map(|b| format!("{b}&csrf={}", csrf.replace(|_| true, "0")));
            let a = send(&s, m.clone(), &path, Some(&cookie), wrong.as_deref()).await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{what} with a wrong CSRF token"
            );
        }
        if page.method != Method::GET && page.path.contains('{') {
            // Another org's session may carry its own valid token: still nothing here.
            let body = body.map(|b| format!("{b}&csrf={}", globex.1));
            let a = send(&s, m.clone(), &path, Some(&globex.0), body.as_deref()).await;
            assert_eq!(
                a.status,
                StatusCode::NOT_FOUND,
                "{what} from another org: {}",
                a.body
            );
        } else if page.path.contains('{') {
            let a = send(&s, m.clone(), &path, Some(&globex.0), None).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{what} from another org");
        }
        assert_eq!(
            audit_len(&s, &owner).await,
            before,
            "{what}: nothing written"
        );

        // The required role gets the page, with the security headers.
        if page.method == Method::GET {
            let (cookie, _) = session(required);
            let a = send(&s, m, &format!("{path}?version=1.0"), Some(&cookie), None).await;
            assert_eq!(a.status, StatusCode::OK, "{what} as {required}: {}", a.body);
            let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
            assert!(!csp.contains("unsafe-inline"));
            assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert!(a.headers.contains_key(header::REFERRER_POLICY));
            assert!(!a.body.contains("<script>"), "{what}: no inline script");
        }
    }
}

#[tokio::test]
async fn writes_go_through_the_api_rules() {
    let s = Server::sqlite().await;
    s.create_org("acme").await;
    let owner = s.token("acme", Role::Owner).await;
    let (status, body) = s.apply("acme", &owner, "r.yaml", RESOURCES).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (cookie, csrf) = sign_in(&s, &s.token("acme", Role::Admin).await).await;

    // An exception without a reason: the API's message, next to the form, nothing kept.
    let a = send(
        &s,
        Method::POST,
        "/products/portal/exceptions",
        Some(&cookie),
        Some(&format!(
            "version=1.0&requirement=req-a&project=api&reason=&csrf={csrf}"
        )),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("an exception needs a reason"), "{}", a.body);
    let (_, list) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/exceptions",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(list, Value::Array(vec![]));

    // A real one: the cell turns EXCEPTED, as the API's status says too.
    let a = send(
        &s,
        Method::POST,
        "/products/portal/exceptions",
        Some(&cookie),
        Some(&format!(
            "version=1.0&requirement=req-a&project=api&reason=legacy+image&expires=&csrf={csrf}"
        )),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let next = a.headers[header::LOCATION].to_str().unwrap().to_owned();
    let page = send(&s, Method::GET, &next, Some(&cookie), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Exception recorded."), "{}", page.body);
    assert!(page.body.contains("s-excepted"), "{}", page.body);
    let (_, status) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/products/portal/status?version=1.0",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status["cells"][0]["status"], "EXCEPTED");

    // Attach a built-in framework by editing the product version, as the CLI does.
    let a = send(
        &s,
        Method::POST,
        "/products/portal/frameworks",
        Some(&cookie),
        Some(&format!(
            "version=1.0&framework=slsa&action=attach&csrf={csrf}"
        )),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let (_, product) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/products/portal",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        product["document"]["spec"]["versions"][0]["frameworks"],
        serde_json::json!(["fw", "slsa"])
    );

    // Not applicable without a rationale is refused; with one, the cell says so.
    let na = |rationale: &str| {
        format!(
            "version=1.0&requirement=req-a&project=api&cell_project=api&rationale={rationale}&applicable=false&csrf={csrf}"
        )
    };
    let a = send(
        &s,
        Method::POST,
        "/products/portal/applicability",
        Some(&cookie),
        Some(&na("")),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send(
        &s,
        Method::POST,
        "/products/portal/applicability",
        Some(&cookie),
        Some(&na("no+containers")),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let (_, status) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/products/portal/status?version=1.0&framework=fw",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status["cells"][0]["status"], "NOT_APPLICABLE", "{status}");

    // Signing out ends the session server-side: the old cookie no longer works.
    let a = send(
        &s,
        Method::POST,
        "/signout",
        Some(&cookie),
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = send(&s, Method::GET, "/", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_refuses_bad_and_revoked_tokens() {
    let s = Server::sqlite().await;
    let a = send(
        &s,
        Method::POST,
        "/signin",
        None,
        Some("token=comply_00_11&next=%2F"),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("invalid token"), "{}", a.body);
    assert!(!a.headers.contains_key(header::SET_COOKIE));
    // Revoking the token ends the sessions it opened.
    let owner = s.token("default", Role::Owner).await;
    let (cookie, _) = sign_in(&s, &owner).await;
    let id = owner.split('_').nth(1).unwrap();
    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/default/tokens/{id}"),
            Some(&s.admin),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}");
    let a = send(&s, Method::GET, "/", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // `next` never leaves the site.
    let a = send(
        &s,
        Method::POST,
        "/signin",
        None,
        Some(&format!("token={}&next=%2F%2Fevil.example", s.admin)),
    )
    .await;
    assert_eq!(a.headers[header::LOCATION], "/");
    // Assets: fingerprinted, cached for a year.
    let page = send(&s, Method::GET, "/signin", None, None).await;
    let start = page.body.find("/assets/app.").unwrap();
    let end = start + page.body[start..].find('"').unwrap();
    let a = send(&s, Method::GET, &page.body[start..end], None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
}
