//! The dashboard's frameworks, requirements, projects, audit and settings pages: what
//! they show comes from the API's answers, and what they write goes through the API's
//! rules (refusals worded as the API words them, nothing written).

use crate::dashboard::{RESOURCES, audit_len, seed_project, send, sign_in};
use crate::support::Server;
use axum::http::{Method, StatusCode, header};
use comply_core::Role;
use serde_json::{Value, json};

const NESTED: &str = "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: nested\n  displayName: Nested Framework\nspec:\n  sections:\n    - name: Build\n      sections:\n        - name: Scanning\n          requirements: [{ref: req-a}]\n";

async fn acme() -> (Server, String) {
    let s = Server::sqlite().await;
    s.create_org("acme").await;
    let owner = s.token("acme", Role::Owner).await;
    let (status, body) = s.apply("acme", &owner, "r.yaml", RESOURCES).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (s, owner)
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

async fn api(s: &Server, owner: &str, path: &str) -> Value {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/api/v1/orgs/acme{path}"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[tokio::test]
async fn frameworks_list_tree_duplicate_and_delete() {
    let (s, owner) = acme().await;
    let (status, body) = s.apply("acme", &owner, "n.yaml", NESTED).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (cookie, csrf) = sign_in(&s, &s.token("acme", Role::Admin).await).await;

    // The list: custom and built-in badges; preview frameworks hidden until enabled.
    let a = send(&s, Method::GET, "/frameworks", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("href=\"/frameworks/nested\""), "{}", a.body);
    assert!(a.body.contains(">custom<") && a.body.contains(">built-in<"));
    assert!(!a.body.contains(">lab<"), "previews are off");
    let (status, _) = s
        .call(
            Method::PATCH,
            "/api/v1/orgs/acme/settings",
            Some(&owner),
            Some(json!({"in_preview_frameworks": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let a = send(&s, Method::GET, "/frameworks", Some(&cookie), None).await;
    assert!(a.body.contains(">lab<"), "{}", a.body);
    assert!(a.body.contains("href=\"/frameworks/cra\""), "{}", a.body);

    // The tree: nested sections, the requirement under the inner one, linked.
    let a = send(&s, Method::GET, "/frameworks/nested", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK);
    let build = a.body.find("Build").expect("outer section");
    let scanning = a.body.find("Scanning").expect("inner section");
    let req = a
        .body
        .find("href=\"/requirements/req-a\"")
        .expect("requirement link");
    assert!(build < scanning && scanning < req, "{}", a.body);
    assert!(
        a.body.contains("<h4>Scanning"),
        "inner sections nest: {}",
        a.body
    );

    // Duplicate a built-in: the copy is custom, as the API lists it.
    let a = send(
        &s,
        Method::POST,
        "/frameworks/slsa/duplicate",
        Some(&cookie),
        Some(&form(&[("as", "my-slsa"), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        a.headers[header::LOCATION],
        "/frameworks/my-slsa?done=duplicated"
    );
    let copy = api(&s, &owner, "/frameworks/my-slsa").await;
    assert_eq!(copy["builtin"], false);
    let a = send(
        &s,
        Method::GET,
        "/frameworks/my-slsa?done=duplicated",
        Some(&cookie),
        None,
    )
    .await;
    assert!(a.body.contains("Framework duplicated"), "{}", a.body);
    assert!(a.body.contains("Delete framework"), "custom: deletable");

    // A bad name: the API's refusal beside the field, nothing created.
    let before = audit_len(&s, &owner).await;
    let a = send(
        &s,
        Method::POST,
        "/frameworks/slsa/duplicate",
        Some(&cookie),
        Some(&form(&[("as", "Not A Name"), ("csrf", &csrf)])),
    )
    .await;
    assert!(a.status.is_client_error(), "{}", a.status);
    assert!(a.body.contains("id=\"dup-as-error\""), "{}", a.body);
    assert!(
        a.body.contains("value=\"Not A Name\""),
        "the field keeps its value"
    );
    assert_eq!(audit_len(&s, &owner).await, before);

    // Deleting a framework a product attaches: refused in the API's words.
    let (status, refusal) = s
        .call(
            Method::DELETE,
            "/api/v1/orgs/acme/frameworks/fw",
            Some(&owner),
            None,
        )
        .await;
    assert!(status.is_client_error(), "{refusal}");
    let words = refusal["detail"].as_str().unwrap().to_owned();
    let a = send(
        &s,
        Method::POST,
        "/frameworks/fw/delete",
        Some(&cookie),
        Some(&form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, status);
    assert!(
        a.body.contains(&maud::html! { (words) }.into_string()),
        "{words} in {}",
        a.body
    );
    api(&s, &owner, "/frameworks/fw").await;

    // Built-ins offer no delete; a custom one is deleted.
    let a = send(&s, Method::GET, "/frameworks/slsa", Some(&cookie), None).await;
    assert!(!a.body.contains("Delete framework"));
    let a = send(
        &s,
        Method::POST,
        "/frameworks/my-slsa/delete",
        Some(&cookie),
        Some(&form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let (status, _) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/frameworks/my-slsa",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A viewer sees the pages without their forms.
    let (viewer, _) = sign_in(&s, &s.token("acme", Role::Viewer).await).await;
    let a = send(&s, Method::GET, "/frameworks/nested", Some(&viewer), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        !a.body.contains("method=\"post\" action=\"/frameworks"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn requirement_details_lifecycle_and_coverage() {
    let (s, owner) = acme().await;
    seed_project(&s, &owner).await;
    let (status, body) = s.apply("acme", &owner, "n.yaml", NESTED).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (cookie, csrf) = sign_in(&s, &s.token("acme", Role::Admin).await).await;

    let a = send(&s, Method::GET, "/requirements/req-a", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body.contains("<code>vulnerabilities</code>"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("<dt>severity</dt><dd><code>HIGH</code>"),
        "{}",
        a.body
    );
    // One fully qualified name per framework listing it, each with a copy button.
    assert!(a.body.contains("data-copy=\"fw/req-a\""), "{}", a.body);
    assert!(a.body.contains("data-copy=\"nested/req-a\""), "{}", a.body);
    let a = send(&s, Method::GET, "/requirements", Some(&cookie), None).await;
    assert!(a.body.contains("href=\"/requirements/req-a\""));

    // Deactivate: the API says inactive, the page says so.
    let a = send(
        &s,
        Method::POST,
        "/requirements/req-a/lifecycle",
        Some(&cookie),
        Some(&form(&[("active", "false"), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        api(&s, &owner, "/requirements/req-a").await["active"],
        false
    );
    let a = send(
        &s,
        Method::GET,
        "/requirements/req-a?done=deactivated",
        Some(&cookie),
        None,
    )
    .await;
    assert!(
        a.body.contains("INACTIVE") && a.body.contains(">Activate<"),
        "{}",
        a.body
    );

    // The Coverage tab: api's contract attaches vulnerabilities at MEDIUM, which meets
    // HIGH automatically. The filters are the API's.
    let a = send(
        &s,
        Method::GET,
        "/requirements/req-a?tab=coverage",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let (_, expected) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/requirements/req-a/coverage",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(expected["projects"][0]["coverage"], "FULL", "{expected}");
    assert!(a.body.contains("href=\"/projects/api\""), "{}", a.body);
    assert!(
        a.body.contains(">FULL<") && a.body.contains(">MATCHED<"),
        "{}",
        a.body
    );
    assert!(a.body.contains(">auto<"), "the match's source: {}", a.body);
    assert!(a.body.contains(">assigned<"), "{}", a.body);
    let a = send(
        &s,
        Method::GET,
        "/requirements/req-a?tab=coverage&status=NONE",
        Some(&cookie),
        None,
    )
    .await;
    assert!(a.body.contains("No project matches."), "{}", a.body);
    let a = send(
        &s,
        Method::GET,
        "/requirements/req-a?tab=coverage&assigned=unassigned",
        Some(&cookie),
        None,
    )
    .await;
    assert!(!a.body.contains("href=\"/projects/api\""), "{}", a.body);
    let a = send(
        &s,
        Method::GET,
        "/requirements/req-a?tab=coverage&product=portal",
        Some(&cookie),
        None,
    )
    .await;
    assert!(a.body.contains("href=\"/projects/api\""), "{}", a.body);

    // A viewer reads the same page without a write control.
    let (viewer, _) = sign_in(&s, &s.token("acme", Role::Viewer).await).await;
    let a = send(&s, Method::GET, "/requirements/req-a", Some(&viewer), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("data-copy=\"fw/req-a\""));
    assert!(
        !a.body.contains("method=\"post\" action=\"/requirements"),
        "{}",
        a.body
    );
    assert!(!a.body.contains("/edit\""), "{}", a.body);
}

#[tokio::test]
async fn editing_a_requirement_previews_coverage_before_saving() {
    let (s, owner) = acme().await;
    seed_project(&s, &owner).await;
    let (cookie, csrf) = sign_in(&s, &s.token("acme", Role::Admin).await).await;
    let a = send(
        &s,
        Method::GET,
        "/requirements/req-a/edit",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("name: req-a"), "the document: {}", a.body);
    assert!(a.body.contains("hx-post=\"/requirements/req-a/preview\""));
    assert!(a.body.contains(">FULL<"), "{}", a.body);

    // LOW is stricter than the contract's MEDIUM: the preview says so, nothing saved.
    let draft = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  policies: [{ref: vulnerabilities, with: {severity: LOW}}]\n";
    let before = audit_len(&s, &owner).await;
    let a = send(
        &s,
        Method::POST,
        "/requirements/req-a/preview",
        Some(&cookie),
        Some(&form(&[("content", draft), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains(">PARAMETER_MISMATCH<") && a.body.contains(">NONE<"),
        "{}",
        a.body
    );
    assert_eq!(
        audit_len(&s, &owner).await,
        before,
        "a preview writes nothing"
    );
    let stored = api(&s, &owner, "/requirements/req-a").await;
    assert_eq!(
        stored["document"]["spec"]["policies"][0]["with"]["severity"],
        "HIGH"
    );

    // An invalid draft: apply's message with its position, beside the field.
    let broken = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  policies: [{ref: vulnerabilities, periodicity: fortnightly}]\n";
    let a = send(
        &s,
        Method::POST,
        "/requirements/req-a/edit",
        Some(&cookie),
        Some(&form(&[("content", broken), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(a.body.contains("id=\"doc-error\""), "{}", a.body);
    assert!(a.body.contains(":6:"), "line 6 named: {}", a.body);
    assert!(a.body.contains("fortnightly"), "the draft is kept");
    assert_eq!(audit_len(&s, &owner).await, before);

    // A draft that renames the requirement is refused: the form edits this one.
    let renamed = draft.replace("name: req-a", "name: req-b");
    let a = send(
        &s,
        Method::POST,
        "/requirements/req-a/edit",
        Some(&cookie),
        Some(&form(&[("content", &renamed), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(audit_len(&s, &owner).await, before);

    // Saved: a new revision, as apply makes it.
    let a = send(
        &s,
        Method::POST,
        "/requirements/req-a/edit",
        Some(&cookie),
        Some(&form(&[("content", draft), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let stored = api(&s, &owner, "/requirements/req-a").await;
    assert_eq!(stored["revision"], 2);
    assert_eq!(
        stored["document"]["spec"]["policies"][0]["with"]["severity"],
        "LOW"
    );

    // Built-in requirements are duplicated, not edited.
    let builtin = api(&s, &owner, "/requirements").await;
    let name = builtin
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["builtin"] == true)
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = send(
        &s,
        Method::GET,
        &format!("/requirements/{name}/edit"),
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
}

#[tokio::test]
async fn project_page_shows_versions_workflows_and_evaluations() {
    let (s, owner) = acme().await;
    seed_project(&s, &owner).await;
    let (cookie, _) = sign_in(&s, &s.token("acme", Role::Viewer).await).await;
    let a = send(&s, Method::GET, "/projects", Some(&cookie), None).await;
    assert!(a.body.contains("href=\"/projects/api\""), "{}", a.body);
    let a = send(&s, Method::GET, "/projects/api", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let listed = api(&s, &owner, "/attestations?project=api").await;
    let digest = listed[0]["digest"].as_str().unwrap();
    assert!(a.body.contains(digest), "the attestation: {}", a.body);
    assert!(
        a.body.contains("CVE-2026-0001 is HIGH"),
        "a violation: {}",
        a.body
    );
    assert!(
        a.body.contains("no SBOM material in this run"),
        "a skip reason"
    );
    assert!(a.body.contains(">SKIPPED<") && a.body.contains(">1 VIOLATION<"));
    assert!(a.body.contains("<strong>build</strong>") && a.body.contains("<code>build</code>"));
    // The frameworks that reach api 1.0 through portal 1.0.
    assert!(a.body.contains("href=\"/frameworks/fw\""), "{}", a.body);
    assert!(a.body.contains("portal 1.0"), "{}", a.body);
    assert!(
        a.body
            .contains("product-level requirements are on each product version"),
        "{}",
        a.body
    );
    let a = send(&s, Method::GET, "/projects/nope", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // A project portal lists but nothing has named yet: the product waiting for it.
    let (status, body) = s
        .apply(
            "acme",
            &owner,
            "p.yaml",
            &RESOURCES.replace("projects: [api]", "projects: [api, web]"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = send(&s, Method::GET, "/projects/web", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("No attestation has named") && a.body.contains("href=\"/products/portal\""),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn audit_log_filters_and_verifies() {
    let (s, owner) = acme().await;
    seed_project(&s, &owner).await;
    let (cookie, _) = sign_in(&s, &s.token("acme", Role::Viewer).await).await;
    let a = send(&s, Method::GET, "/audit", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK);
    let events = api(&s, &owner, "/audit").await;
    let n = events.as_array().unwrap().len();
    assert!(
        a.body.contains(&format!("Chain verified: all {n} events")),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("Requirement/req-a") && a.body.contains("Key/ci") || a.body.contains("ci")
    );

    // By action: only those rows.
    let action = events[0]["action"].as_str().unwrap().to_owned();
    let same = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action.as_str())
        .count();
    let a = send(
        &s,
        Method::GET,
        &format!("/audit?{}", form(&[("action", &action)])),
        Some(&cookie),
        None,
    )
    .await;
    assert!(
        a.body.contains(&format!("{same} of {n} events match")),
        "{}",
        a.body
    );
    // By target, and a time range that ends before everything.
    let a = send(
        &s,
        Method::GET,
        "/audit?target=Framework%2Ffw",
        Some(&cookie),
        None,
    )
    .await;
    assert!(a.body.contains("1 of "), "{}", a.body);
    // (The test's tokens were made at time 0 through the store; the rest is recent.)
    let (_, early) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/audit?until=2000-01-01T00:00:00Z",
            Some(&owner),
            None,
        )
        .await;
    let early = early.as_array().unwrap().len();
    assert!(early < n);
    let a = send(
        &s,
        Method::GET,
        "/audit?to=2000-01-01T00%3A00",
        Some(&cookie),
        None,
    )
    .await;
    assert!(
        a.body.contains(&format!("{early} of {n} events match")),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("value=\"2000-01-01T00:00:00\""),
        "the field keeps its value"
    );
    // By actor, as the API filters.
    let actor = events[0]["actor"].as_str().unwrap().to_owned();
    let (_, by_actor) = s
        .call(
            Method::GET,
            &format!("/api/v1/orgs/acme/audit?{}", form(&[("actor", &actor)])),
            Some(&owner),
            None,
        )
        .await;
    let a = send(
        &s,
        Method::GET,
        &format!("/audit?{}", form(&[("actor", &actor)])),
        Some(&cookie),
        None,
    )
    .await;
    let k = by_actor.as_array().unwrap().len();
    assert!(
        k > 0 && a.body.contains(&format!("{k} of {n} events match")),
        "{}",
        a.body
    );
    // A time that does not parse: the field says so.
    let a = send(
        &s,
        Method::GET,
        "/audit?from=yesterday",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("id=\"from-error\""), "{}", a.body);

    // A broken chain is shown as broken.
    use sqlx::{Connection, Executor};
    let org = s.store.org_by_name("acme").await.unwrap().unwrap();
    let mut conn = sqlx::AnyConnection::connect(s.db_url()).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_events SET actor = 'mallory' WHERE org_id = {} AND seq = 2",
        org.id
    )))
    .await
    .unwrap();
    let a = send(&s, Method::GET, "/audit", Some(&cookie), None).await;
    assert!(a.body.contains("Chain broken at event 2"), "{}", a.body);
}

#[tokio::test]
async fn tokens_and_keys_in_settings() {
    let (s, _owner) = acme().await;
    let (cookie, csrf) = sign_in(&s, &s.token("acme", Role::Owner).await).await;

    // Create: the secret once, and it works against the API with its role.
    let a = send(
        &s,
        Method::POST,
        "/settings/tokens",
        Some(&cookie),
        Some(&form(&[
            ("name", "ci"),
            ("role", "member"),
            ("expires", ""),
            ("csrf", &csrf),
        ])),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("shown only once"), "{}", a.body);
    let start = a.body.find("data-copy=\"comply_").unwrap() + "data-copy=\"".len();
    let secret = a.body[start..start + a.body[start..].find('"').unwrap()].to_owned();
    let (status, me) = s
        .call(Method::GET, "/api/v1/whoami", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["token"]["role"], "member", "{me}");
    // The list never shows it again.
    let a = send(&s, Method::GET, "/settings/tokens", Some(&cookie), None).await;
    assert!(
        a.body.contains(">ci<") || a.body.contains("ci<br>"),
        "{}",
        a.body
    );
    assert!(!a.body.contains(&secret));

    // Bad input: beside the field, nothing created.
    let a = send(
        &s,
        Method::POST,
        "/settings/tokens",
        Some(&cookie),
        Some(&form(&[("name", "x"), ("role", "boss"), ("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body.contains("id=\"tk-role-error\"") && a.body.contains("unknown role"),
        "{}",
        a.body
    );

    // Revoke: the API refuses the token from then on.
    let id = secret.split('_').nth(1).unwrap();
    let a = send(
        &s,
        Method::POST,
        &format!("/settings/tokens/{id}/revoke"),
        Some(&cookie),
        Some(&form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let (status, _) = s
        .call(Method::GET, "/api/v1/whoami", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let a = send(
        &s,
        Method::GET,
        "/settings/tokens?done=revoked",
        Some(&cookie),
        None,
    )
    .await;
    assert!(a.body.contains(">REVOKED<"), "{}", a.body);

    // Keys: add a PEM, refuse garbage beside the field, remove.
    let key = comply_attest::SigningKey::generate(comply_attest::KeyAlgorithm::EcdsaP256).unwrap();
    let pem = key.public().to_pem();
    let a = send(
        &s,
        Method::POST,
        "/settings/keys",
        Some(&cookie),
        Some(&form(&[
            ("name", "release"),
            ("pem", &pem),
            ("csrf", &csrf),
        ])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = send(
        &s,
        Method::GET,
        "/settings/keys?done=added",
        Some(&cookie),
        None,
    )
    .await;
    assert!(
        a.body.contains("Key added") && a.body.contains(">release<"),
        "{}",
        a.body
    );
    let a = send(
        &s,
        Method::POST,
        "/settings/keys",
        Some(&cookie),
        Some(&form(&[
            ("name", "junk"),
            ("pem", "not a key"),
            ("csrf", &csrf),
        ])),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body.contains("id=\"key-pem-error\"") && a.body.contains("not a usable public key"),
        "{}",
        a.body
    );
    let a = send(
        &s,
        Method::POST,
        "/settings/keys/release/remove",
        Some(&cookie),
        Some(&form(&[("csrf", &csrf)])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let (_, keys) = s
        .call(Method::GET, "/api/v1/orgs/acme/keys", Some(&_owner), None)
        .await;
    assert_eq!(keys, json!([]));
}

#[tokio::test]
async fn the_staleness_limit_is_set_in_general_settings() {
    let (s, owner) = acme().await;
    let (cookie, csrf) = sign_in(&s, &s.token("acme", Role::Owner).await).await;
    let a = send(&s, Method::GET, "/settings", Some(&cookie), None).await;
    assert!(
        a.body.contains("name=\"reference_data_max_age_days\""),
        "{}",
        a.body
    );
    let save = |days: &'static str| {
        let (s, cookie, csrf) = (&s, cookie.clone(), csrf.clone());
        async move {
            send(
                s,
                Method::POST,
                "/settings",
                Some(&cookie),
                Some(&form(&[
                    ("present", "1"),
                    ("requirements_auto_matching", "true"),
                    ("reference_data_max_age_days", days),
                    ("csrf", &csrf),
                ])),
            )
            .await
        }
    };
    let a = save("30").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let settings = api(&s, &owner, "/settings").await;
    assert_eq!(settings["reference_data_max_age_days"], 30, "{settings}");
    // Out of range: the API's words on the page, nothing changed.
    let a = save("0").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("between 1 and 3650"), "{}", a.body);
    let a = save("soon").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("not a whole number of days"), "{}", a.body);
    let settings = api(&s, &owner, "/settings").await;
    assert_eq!(settings["reference_data_max_age_days"], 30, "{settings}");

    // Four eyes and the hosts policies may reach, from the same form.
    let a = send(
        &s,
        Method::POST,
        "/settings",
        Some(&cookie),
        Some(&form(&[
            ("present", "1"),
            ("requirements_auto_matching", "true"),
            ("decision_approval", "true"),
            ("reference_data_max_age_days", "30"),
            (
                "policy_allowed_hostnames",
                "App.Chainloop.dev, 127.0.0.1:8080",
            ),
            ("csrf", &csrf),
        ])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let settings = api(&s, &owner, "/settings").await;
    assert_eq!(settings["decision_approval"], true, "{settings}");
    assert_eq!(
        settings["policy_allowed_hostnames"],
        json!(["127.0.0.1:8080", "app.chainloop.dev"]),
        "{settings}"
    );
    let a = send(&s, Method::GET, "/settings", Some(&cookie), None).await;
    assert!(
        a.body.contains("127.0.0.1:8080, app.chainloop.dev"),
        "{}",
        a.body
    );
    let a = send(
        &s,
        Method::POST,
        "/settings",
        Some(&cookie),
        Some(&form(&[
            ("present", "1"),
            ("reference_data_max_age_days", "30"),
            ("policy_allowed_hostnames", "*.evil.dev"),
            ("csrf", &csrf),
        ])),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("is not a hostname"), "{}", a.body);
}

#[tokio::test]
async fn webhooks_are_listed_in_settings_without_their_secrets() {
    let (s, owner) = acme().await;
    let (cookie, _) = sign_in(&s, &owner).await;
    let a = send(&s, Method::GET, "/settings/webhooks", Some(&cookie), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("No webhook."), "{}", a.body);
    let (status, created) = s
        .call(
            Method::POST,
            "/api/v1/orgs/acme/webhooks",
            Some(&owner),
            Some(json!({"url": "https://hooks.example.com/comply", "events": ["cell.failed", "grace.ending"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let a = send(&s, Method::GET, "/settings/webhooks", Some(&cookie), None).await;
    assert!(
        a.body.contains("https://hooks.example.com/comply"),
        "{}",
        a.body
    );
    assert!(a.body.contains("cell.failed, grace.ending"), "{}", a.body);
    assert!(a.body.contains(created["id"].as_str().unwrap()));
    assert!(a.body.contains("enabled"));
    assert!(
        !a.body.contains(created["secret"].as_str().unwrap()),
        "never the secret"
    );
}

/// The projects list and the Coverage tab show 100 rows a page (decision 0038): the
/// next page shows the next rows, filters ride along in every page link, a page past
/// the last shows the last and says so, and a page that is not a number is refused.
#[tokio::test]
async fn long_lists_page_by_a_hundred() {
    let (s, owner) = acme().await;
    let (status, body) = s
        .apply("acme", &owner, "c.yaml", crate::dashboard::CONTRACT)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let org = s.store.org_by_name("acme").await.unwrap().unwrap();
    // 230 projects: the even ones use the contract that covers req-a, the odd ones a
    // contract comply does not hold.
    for i in 0..230 {
        let contract = if i % 2 == 0 { "build" } else { "elsewhere" };
        s.store
            .upsert_workflow(org.id, &format!("p-{i:03}"), "build", contract, 1_000)
            .await
            .unwrap();
    }
    let (cookie, _) = sign_in(&s, &s.token("acme", Role::Viewer).await).await;
    let (server, cookie) = (&s, cookie.as_str());
    let get = move |path: &'static str| send(server, Method::GET, path, Some(cookie), None);

    let a = get("/projects").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("Showing 1–100 of 230 projects"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("href=\"/projects/p-000\"") && a.body.contains("href=\"/projects/p-099\"")
    );
    assert!(!a.body.contains("href=\"/projects/p-100\""), "{}", a.body);
    assert!(
        a.body.contains("href=\"/projects?page=2\" rel=\"next\""),
        "{}",
        a.body
    );
    let a = get("/projects?page=2").await;
    assert!(
        a.body.contains("Showing 101–200 of 230 projects"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("href=\"/projects/p-100\"") && !a.body.contains("href=\"/projects/p-099\"")
    );
    assert!(
        a.body.contains("href=\"/projects\" rel=\"prev\""),
        "{}",
        a.body
    );
    // Past the end: the last page, said so.
    let a = get("/projects?page=7").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("There is no page 7"), "{}", a.body);
    assert!(
        a.body.contains("Showing 201–230 of 230 projects"),
        "{}",
        a.body
    );
    assert!(a.body.contains("href=\"/projects/p-229\""));
    for bad in [
        "/projects?page=abc",
        "/projects?page=0",
        "/projects?page=-1",
    ] {
        let a = get(bad).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
        assert!(a.body.contains("pages are numbered from 1"), "{}", a.body);
    }
    // The name filter is kept across pages.
    let a = get("/projects?q=p-1").await;
    assert!(
        a.body.contains("Showing 1–100 of 100 projects"),
        "{}",
        a.body
    );
    let a = get("/projects?q=p-22").await;
    assert!(a.body.contains("of 10 projects"), "{}", a.body);
    assert!(!a.body.contains("href=\"/projects/p-000\""));
    let a = get("/projects?q=p-&page=2").await;
    assert!(
        a.body.contains("Showing 101–200 of 230 projects"),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains("href=\"/projects?q=p-&amp;page=3\" rel=\"next\""),
        "{}",
        a.body
    );
    let a = get("/projects?q=nothing-like-it").await;
    assert!(a.body.contains("No project"), "{}", a.body);

    // Coverage: api (in portal, no workflow) and the 230, in name order.
    let a = get("/requirements/req-a?tab=coverage").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("Showing 1–100 of 231 projects"),
        "{}",
        a.body
    );
    assert!(a.body.contains("href=\"/projects/api\""));
    assert!(
        a.body.contains("href=\"/projects/p-098\"") && !a.body.contains("href=\"/projects/p-099\"")
    );
    // The counts are over every project, not the page.
    let counts = |body: &str| {
        ["FULL", "PARTIAL", "NONE"].map(|status| {
            let marker = format!(">{status}</span> <span class=\"num\">");
            let at = body
                .find(&marker)
                .unwrap_or_else(|| panic!("{status} count: {body}"));
            let rest = &body[at + marker.len()..];
            rest[..rest.find('<').unwrap()].to_owned()
        })
    };
    assert_eq!(counts(&a.body), ["115", "0", "116"]);
    let a = get("/requirements/req-a?tab=coverage&page=2").await;
    assert!(
        a.body.contains("Showing 101–200 of 231 projects"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("href=\"/projects/p-099\"") && !a.body.contains("href=\"/projects/api\"")
    );
    assert_eq!(counts(&a.body), ["115", "0", "116"]);
    // With the status filter: its projects only, the filter in the page links, the
    // counts unchanged.
    let a = get("/requirements/req-a?tab=coverage&status=FULL&page=2").await;
    assert!(
        a.body.contains("Showing 101–115 of 115 projects"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("href=\"/projects/p-200\"") && !a.body.contains("href=\"/projects/p-198\"")
    );
    assert!(
        a.body
            .contains("href=\"/requirements/req-a?tab=coverage&amp;status=FULL\" rel=\"prev\""),
        "{}",
        a.body
    );
    assert_eq!(counts(&a.body), ["115", "0", "116"]);
    let a = get("/requirements/req-a?tab=coverage&status=FULL&page=3").await;
    assert!(a.body.contains("There is no page 3"), "{}", a.body);
    assert!(
        a.body.contains("Showing 101–115 of 115 projects"),
        "{}",
        a.body
    );
    let a = get("/requirements/req-a?tab=coverage&page=x").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("pages are numbered from 1"), "{}", a.body);
    // The API's own answer still lists every project.
    let all = api(&s, &owner, "/requirements/req-a/coverage").await;
    assert_eq!(all["projects"].as_array().unwrap().len(), 231);
}
