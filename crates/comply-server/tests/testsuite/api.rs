//! The API's behaviour: apply, validation errors, resources, settings, audit, limits.

use crate::support::{FW, REQ, Server};
use axum::http::{Method, StatusCode};
use comply_core::Role;
use serde_json::json;

#[tokio::test]
async fn apply_reports_every_problem_with_its_location_and_writes_nothing() {
    let s = Server::sqlite().await;
    let body = json!({"documents": [
        {"file": "ok.yaml", "content": REQ},
        {"file": "bad.yaml", "content": "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\n  colour: red\nspec:\n  requirements: [{ref: req-a}, {ref: req-b}]\n"},
    ]});
    let (status, problem) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/apply",
            Some(&s.admin),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}: {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["column"],
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            "bad.yaml:5:3: unknown field 'metadata.colour'; expected one of: name, displayName, description, organization, annotations"
        ]
    );
    let (_, list) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/requirements",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(
        crate::support::custom(&list),
        json!([]),
        "nothing from a failed invocation is applied"
    );

    // Once the field is fixed, the missing requirement is the remaining problem.
    let (status, problem) = s
        .apply("default", &s.admin, "f.yaml", &FW.replace("req-a", "req-b"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["line"], 6);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'req-b' does not exist")
    );
}

#[tokio::test]
async fn dry_run_plans_without_writing() {
    let s = Server::sqlite().await;
    let body = json!({"documents": [{"file": "r.yaml", "content": REQ}], "dry_run": true});
    let (status, answer) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/apply",
            Some(&s.admin),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["results"][0]["action"], "created");
    let (status, _) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/requirements/req-a",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resource_lifecycle_over_http() {
    let s = Server::sqlite().await;
    let admin = s.token("default", Role::Admin).await;
    let viewer = s.token("default", Role::Viewer).await;
    assert_eq!(
        s.apply("default", &admin, "a.yaml", &format!("{FW}---\n{REQ}"))
            .await
            .0,
        StatusCode::OK
    );

    let (status, r) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/requirements/req-a",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            r["revision"].as_i64(),
            r["active"].as_bool(),
            r["scope"].as_str()
        ),
        (Some(1), Some(true), Some("PROJECT"))
    );
    assert_eq!(
        r["document"]["spec"]["policies"][0]["ref"],
        "vulnerabilities"
    );

    let (status, problem) = s
        .call(
            Method::DELETE,
            "/api/v1/orgs/default/requirements/req-a",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        problem["detail"].as_str().unwrap().contains("Framework/fw"),
        "{problem}"
    );

    let (status, copy) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/frameworks/fw/duplicate",
            Some(&admin),
            Some(json!({"as": "fw-copy"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(copy["name"], "fw-copy");
    let (status, _) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/frameworks/fw/duplicate",
            Some(&admin),
            Some(json!({"as": "fw-copy"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (_, deactivated) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/requirements/req-a/deactivate",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deactivated["changed"], true);
    let (_, list) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/requirements",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(crate::support::custom(&list)[0]["active"], false);

    let (_, events) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/audit?target=Requirement/req-a",
            Some(&viewer),
            None,
        )
        .await;
    let actions: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["apply.created", "requirement.deactivate"]);
    let (_, verified) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/audit/verify",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(verified["intact"], true);
}

#[tokio::test]
async fn settings_round_trip_and_are_audited() {
    let s = Server::sqlite().await;
    let (_, settings) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/settings",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(
        settings,
        json!({"in_preview_frameworks": false, "requirements_auto_matching": true, "allow_unsigned_attestations": false, "reference_data_max_age_days": 7})
    );
    let (status, settings) = s
        .call(
            Method::PATCH,
            "/api/v1/orgs/default/settings",
            Some(&s.admin),
            Some(json!({"requirements_auto_matching": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["requirements_auto_matching"], false);
    let (status, _) = s
        .call(
            Method::PATCH,
            "/api/v1/orgs/default/settings",
            Some(&s.admin),
            Some(json!({"auto_match": false})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown settings are refused"
    );
    let (status, body) = s
        .call(
            Method::PATCH,
            "/api/v1/orgs/default/settings",
            Some(&s.admin),
            Some(json!({"reference_data_max_age_days": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("between 1 and 3650"),
        "{body}"
    );
    let (_, events) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/audit",
            Some(&s.admin),
            None,
        )
        .await;
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "settings.update");
    assert_eq!(last["detail"]["after"]["requirements_auto_matching"], false);
}

#[tokio::test]
async fn health_openapi_and_limits() {
    let s = Server::sqlite().await;
    assert_eq!(
        s.call(Method::GET, "/healthz", None, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        s.call(Method::GET, "/readyz", None, None).await.0,
        StatusCode::OK
    );
    let (status, doc) = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for route in comply_server::route_docs() {
        let op = &doc["paths"][&route.path][route.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is documented",
            route.method.as_str(),
            route.path
        );
    }
    let (status, _) = s
        .call(Method::GET, "/api/v1/nope", Some(&s.admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let huge = "x".repeat(17 * 1024 * 1024);
    let body = json!({"documents": [{"file": "big.yaml", "content": huge}]});
    let (status, _) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/apply",
            Some(&s.admin),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

const POLICY: &str = "apiVersion: workflowcontract.chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: no-critical\nspec:\n  inputs:\n    - {name: severity, default: CRITICAL, type: severity}\n  policies:\n    - kind: SARIF\n      embedded: |\n        package main\n        import rego.v1\n        violations contains \"x\" if false\n";
const GROUP: &str = "apiVersion: chainloop.dev/v1\nkind: PolicyGroup\nmetadata:\n  name: scans\nspec:\n  policies:\n    materials:\n      - type: SARIF\n        policies:\n          - ref: no-critical\n";

#[tokio::test]
async fn policies_are_compiled_at_apply_and_protected_by_groups() {
    let s = Server::sqlite().await;
    let broken = POLICY.replace(
        "violations contains \"x\" if false",
        "violations contains \"x\" if {",
    );
    let (status, problem) = s.apply("default", &s.admin, "p.yaml", &broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = &problem["errors"][0];
    // The script starts at line 11; Rego reports its line 4: line 14 of the file.
    assert_eq!(
        (e["file"].as_str(), e["line"].as_u64()),
        (Some("p.yaml"), Some(14)),
        "{problem}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Rego does not compile"),
        "{problem}"
    );

    let (status, answer) = s
        .apply(
            "default",
            &s.admin,
            "p.yaml",
            &format!("{GROUP}---\n{POLICY}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, policy) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/policies/no-critical",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(policy["document"]["apiVersion"], "chainloop.dev/v1");
    assert_eq!(policy["inputs"], json!(["severity"]));
    let (status, problem) = s
        .call(
            Method::DELETE,
            "/api/v1/orgs/default/policies/no-critical",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("PolicyGroup/scans"),
        "{problem}"
    );
    let (status, _) = s
        .call(
            Method::DELETE,
            "/api/v1/orgs/default/policy-groups/scans",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .call(
            Method::DELETE,
            "/api/v1/orgs/default/policies/no-critical",
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
