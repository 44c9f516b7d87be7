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
        json!({"in_preview_frameworks": false, "requirements_auto_matching": true, "allow_unsigned_attestations": false,
               "reference_data_max_age_days": 7, "decision_approval": false, "policy_allowed_hostnames": []})
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
        body["detail"]
            .as_str()
            .unwrap()
            .contains("between 1 and 3650"),
        "{body}"
    );
    let (status, problem) = s
        .call(
            Method::PATCH,
            "/api/v1/orgs/default/settings",
            Some(&s.admin),
            Some(json!({"policy_allowed_hostnames": ["app.chainloop.dev", "*.evil.dev"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("'*.evil.dev' is not a hostname"),
        "{problem}"
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

/// A project's status (what the project page shows) computes that project's cells
/// alone; they must be the cells each product version's full status gives it, decisions
/// included, with the product-level cells left to the product.
#[tokio::test]
async fn a_projects_status_is_its_cells_of_each_product_version() {
    let s = Server::sqlite().await;
    s.create_org("acme").await;
    let owner = s.token("acme", Role::Owner).await;
    let docs = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  policies: [{ref: vulnerabilities, with: {severity: HIGH}}]\n---\napiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-b\nspec:\n  policies: [{ref: sbom-present}]\n  manual_proofs: [{name: review}]\n---\napiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-p\n  annotations: {scope: PRODUCT}\nspec:\n  manual_proofs: [{name: policy-doc}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  requirements: [{ref: req-a}, {ref: req-b}, {ref: req-p}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw2\nspec:\n  requirements: [{ref: req-a}]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: portal\nspec:\n  projects: [api, web]\n  versions:\n    - name: \"1.0\"\n      frameworks: [fw, fw2]\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: shop\nspec:\n  projects: [web, api]\n  versions:\n    - name: \"2\"\n      frameworks: [fw]\n";
    let (status, body) = s.apply("acme", &owner, "r.yaml", docs).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    crate::dashboard::seed_project(&s, &owner).await;
    // One project's workflows are that project's alone.
    for (query, expected) in [("?project=api", 1), ("?project=web", 0), ("", 1)] {
        let (status, listed) = s
            .call(
                Method::GET,
                &format!("/api/v1/orgs/acme/workflows{query}"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(
            listed.as_array().unwrap().len(),
            expected,
            "{query}: {listed}"
        );
    }
    // Decisions on api's cell and on web's: only api's may show.
    for (kind, project, requirement, extra) in [
        ("exceptions", "api", "req-a", json!({})),
        ("overrides", "web", "req-b", json!({"status": "passed"})),
        ("overrides", "api", "req-b", json!({"status": "failed"})),
    ] {
        let mut body = json!({"product": "portal", "version": "1.0", "project": project,
                              "requirement": requirement, "reason": "tested"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, answer) = s
            .call(
                Method::POST,
                &format!("/api/v1/orgs/acme/{kind}"),
                Some(&owner),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let key = |c: &serde_json::Value| {
        let components: Vec<String> = c["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| format!("{}:{}", x["name"], x["status"]))
            .collect();
        format!(
            "{} {} {} {} {} {} {} {:?}",
            c["framework"],
            c["requirement"],
            c["project"],
            c["project_version"],
            c["status"],
            c["overridden"],
            c["deadline"],
            components
        )
    };
    let (status, mine) = s
        .call(
            Method::GET,
            "/api/v1/orgs/acme/projects/api/status",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let products = mine["products"].as_array().unwrap();
    assert_eq!(products.len(), 2, "{mine}");
    let mut statuses = Vec::new();
    for p in products {
        let (status, whole) = s
            .call(
                Method::GET,
                &format!(
                    "/api/v1/orgs/acme/products/{}/status?version={}",
                    p["product"].as_str().unwrap(),
                    p["product_version"].as_str().unwrap()
                ),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{whole}");
        let cells = whole["cells"].as_array().unwrap();
        assert!(
            cells.iter().any(|c| c["project"].is_null()),
            "the product has a product-level cell: {whole}"
        );
        let mut expected: Vec<String> = cells
            .iter()
            .filter(|c| c["project"] == "api")
            .map(key)
            .collect();
        let mut got: Vec<String> = p["cells"].as_array().unwrap().iter().map(key).collect();
        expected.sort();
        got.sort();
        assert!(!expected.is_empty());
        assert_eq!(got, expected, "{}", p["product"]);
        statuses.extend(
            p["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["status"].clone()),
        );
    }
    for wanted in ["EXCEPTED", "FAILED"] {
        assert!(
            statuses.iter().any(|s| s == wanted),
            "{wanted}: {statuses:?}"
        );
    }
}
