//! Built-in policies of Chainloop's catalogue over attestations, runner context, PR info
//! and image references: `runner-automated`, `runner-authenticated`,
//! `artifact-tag-not-latest`, `branch-linear-history-required`,
//! `repository-rules-change-restricted`, `pr-conversation-resolution-required`,
//! `pr-stale-reviews-dismissed`, `pr-description-required`, `pr-user-story-linked`,
//! `ai-agent-present`, and the `*-scan-present` attestation checks.

use crate::support::*;
use comply_policy::material::{Material, Normalized};
use comply_policy::{Limits, Script, Verdict, builtin, engine_input};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ATT: Option<&str> = Some("ATTESTATION");
const RC: Option<&str> = Some("CHAINLOOP_RUNNER_CONTEXT");
const PR: Option<&str> = Some("CHAINLOOP_PR_INFO");

fn statement(predicate: Value, materials: &[(&str, &str)]) -> String {
    chainloop_statement(predicate, materials)
}

// ------------------------------------------------------------------ runner

#[test]
fn runner_automated_checks_the_runner_type() {
    let gha = statement(json!({"runnerType": "GITHUB_ACTION"}), &[]);
    expect_pass(&eval("runner-automated", ATT, &gha, &[]), "any CI runner");
    expect_pass(
        &eval(
            "runner-automated",
            ATT,
            &gha,
            &[("runner", "gitlab_pipeline, GITHUB_ACTION")],
        ),
        "listed runner",
    );
    expect_fail(
        &eval(
            "runner-automated",
            ATT,
            &gha,
            &[("runner", "GITLAB_PIPELINE")],
        ),
        "other runner",
        "made in runner 'GITHUB_ACTION', expected GITLAB_PIPELINE",
    );
    expect_fail(
        &eval("runner-automated", ATT, &gha, &[("runner", "LAPTOP")]),
        "bad input",
        "invalid runner 'LAPTOP'",
    );
    let local = statement(json!({"runnerType": "RUNNER_TYPE_UNSPECIFIED"}), &[]);
    expect_fail(
        &eval("runner-automated", ATT, &local, &[]),
        "workstation",
        "names no runner type",
    );
    let sandbox = statement(json!({"runnerType": "CHAINLOOP_SANDBOX"}), &[]);
    expect_fail(
        &eval("runner-automated", ATT, &sandbox, &[]),
        "sandbox",
        "'CHAINLOOP_SANDBOX', which is not an automated CI runner",
    );
    let v = eval("runner-automated", ATT, r#"{"hello": "world"}"#, &[]);
    assert!(v.skipped, "not a statement: {v:?}");

    for (file, runner) in [
        ("policies-statement.json", "GITHUB_ACTION"),
        ("policies-statement_gitlab.json", "GITLAB"),
    ] {
        let Some(bytes) = fixture(&format!("chainloop-attestations/{file}")) else {
            continue;
        };
        let m = material(file, &bytes, ATT);
        let v = eval_material("runner-automated", &m, &[], &Value::Null);
        if runner == "GITHUB_ACTION" {
            expect_pass(&v, file);
        } else {
            // The fixture names the legacy "GITLAB" type, not GITLAB_PIPELINE.
            expect_fail(&v, file, "'GITLAB', which is not an automated CI runner");
        }
    }
}

#[test]
fn runner_authenticated_reads_the_predicate_flag() {
    let yes = statement(
        json!({"runnerType": "GITHUB_ACTION", "runnerAuthenticated": true}),
        &[],
    );
    expect_pass(&eval("runner-authenticated", ATT, &yes, &[]), "OIDC");
    let no = statement(json!({"runnerType": "GITHUB_ACTION"}), &[]);
    expect_fail(
        &eval("runner-authenticated", ATT, &no, &[]),
        "no OIDC",
        "runner (GITHUB_ACTION) was not authenticated",
    );
    if let Some(bytes) = fixture("chainloop-attestations/policies-statement.json") {
        let m = material("statement.json", &bytes, ATT);
        expect_fail(
            &eval_material("runner-authenticated", &m, &[], &Value::Null),
            "fixture (no runnerAuthenticated)",
            "was not authenticated",
        );
    }
}

// ------------------------------------------------------------------ artifact tag

fn image(name: &str, tag: Option<&str>) -> Verdict {
    let m = Material {
        kind: "CONTAINER_IMAGE".into(),
        name: name.into(),
        sha256: "4a8eb6f9ae76460b682e7e9eb5504df9f7f2b2250d9c5cb63204442e265e2c5a".into(),
        content: json!({}),
        normalized: Normalized {
            format: "container-image".into(),
            ..Normalized::default()
        },
        annotations: Default::default(),
    };
    let compiled = builtin::policy("artifact-tag-not-latest").unwrap();
    let mut input = engine_input(&m, &BTreeMap::new());
    if let Some(tag) = tag {
        input["chainloop_metadata"]["annotations"]["chainloop.material.image.tag"] = tag.into();
    }
    let script = &compiled.policy.spec.policies[0];
    Script::compile("artifact-tag-not-latest", &script.embedded)
        .unwrap()
        .evaluate(input, &Value::Null, NOW_MS, &Limits::default())
        .unwrap()
}

#[test]
fn artifact_tag_not_latest() {
    expect_fail(
        &image("ghcr.io/acme/api", Some("latest")),
        "tag annotation",
        "ghcr.io/acme/api is referenced by the tag 'latest'",
    );
    expect_pass(&image("ghcr.io/acme/api", Some("v1.2.0")), "version tag");
    expect_fail(
        &image("localhost:5000/acme/api:latest", None),
        "tag in the reference",
        "tag 'latest'",
    );
    expect_pass(
        &image("localhost:5000/acme/api@sha256:4a8e", None),
        "digest only (the registry port is no tag)",
    );
}

// ------------------------------------------------------------------ runner context

fn runner_context(rules: Value) -> String {
    json!({
        "meta": {"id": "chainloop.dev/runner-context/v0.1", "generated_at": "2026-01-01T00:00:00Z"},
        "data": {"tool": "test", "provider": "github", "repos": [{
            "owner": "acme", "repository": "api",
            "branches": [{"name": "main", "active_rules": rules}],
            "users": [
                {"id": "1", "name": "alice", "roles": ["admin"]},
                {"id": "2", "name": "bob", "roles": ["write"]}
            ]
        }]}
    })
    .to_string()
}

fn ruleset(name: &str, enforcement: &str, extra: &[(&str, &str)], bypass: Value) -> Value {
    let mut context = vec![
        json!({"name": "ruleset", "value": "Main", "enabled": "true"}),
        json!({"name": "enforcement", "value": enforcement, "enabled": "true"}),
    ];
    for (k, v) in extra {
        context.push(json!({"name": k, "value": v, "enabled": "true"}));
    }
    json!({"name": name, "enabled": "true", "context": context, "bypass_configuration": bypass})
}

#[test]
fn branch_linear_history_required() {
    let p = "branch-linear-history-required";
    let protection =
        runner_context(json!([{"name": "required_linear_history", "enabled": "true"}]));
    expect_pass(
        &eval(p, RC, &protection, &[("branches", "main")]),
        "protection",
    );
    let off = runner_context(json!([{"name": "required_linear_history", "enabled": "false"}]));
    expect_fail(
        &eval(p, RC, &off, &[]),
        "disabled",
        "acme/api: linear history is not required on branch 'main'",
    );
    let evaluate = runner_context(json!([ruleset(
        "required_linear_history",
        "evaluate",
        &[],
        json!([])
    )]));
    expect_fail(
        &eval(p, RC, &evaluate, &[]),
        "ruleset in evaluate mode",
        "not required",
    );
    let active = runner_context(json!([ruleset(
        "required_linear_history",
        "active",
        &[],
        json!([])
    )]));
    expect_pass(&eval(p, RC, &active, &[]), "active ruleset");
    expect_fail(
        &eval(p, RC, &active, &[("branches", "release/*")]),
        "unlisted branch",
        "no branch matching 'release/*'",
    );
    assert!(eval(p, RC, r#"{"meta": {"id": "other"}}"#, &[]).skipped);

    for file in [
        "runner-context/runner-context-branches-v0.1.json",
        "runner-context/runner_context_rulesets-v0.1.json",
    ] {
        if let Some(bytes) = fixture(file) {
            let m = material("rc.json", &bytes, RC);
            expect_pass(
                &eval_material(p, &m, &[("branches", "master")], &Value::Null),
                file,
            );
        }
    }
}

#[test]
fn pr_conversation_resolution_and_stale_reviews() {
    let c = "pr-conversation-resolution-required";
    let s = "pr-stale-reviews-dismissed";
    let protection = runner_context(json!([
        {"name": "required_conversation_resolution", "enabled": "true"},
        {"name": "required_pull_request_reviews", "enabled": "true", "context": [
            {"name": "dismiss_stale_reviews", "value": "true", "enabled": "true"}]}
    ]));
    expect_pass(&eval(c, RC, &protection, &[]), "conversation protection");
    expect_pass(&eval(s, RC, &protection, &[]), "stale protection");
    let none = runner_context(json!([
        {"name": "required_conversation_resolution", "enabled": "false"},
        {"name": "required_pull_request_reviews", "enabled": "true", "context": [
            {"name": "dismiss_stale_reviews", "value": "false", "enabled": "true"}]}
    ]));
    expect_fail(
        &eval(c, RC, &none, &[]),
        "no conversation resolution",
        "can be merged with unresolved conversations",
    );
    expect_fail(
        &eval(s, RC, &none, &[]),
        "no dismissal",
        "are not dismissed on new pushes",
    );
    let rules = runner_context(json!([ruleset(
        "pull_request",
        "active",
        &[
            ("required_review_thread_resolution", "true"),
            ("dismiss_stale_reviews_on_push", "false")
        ],
        json!([])
    )]));
    expect_pass(&eval(c, RC, &rules, &[]), "ruleset thread resolution");
    expect_fail(
        &eval(s, RC, &rules, &[]),
        "ruleset without dismissal",
        "not dismissed",
    );

    if let Some(bytes) = fixture("runner-context/runner-context-branches-v0.1.json") {
        let m = material("rc.json", &bytes, RC);
        for p in [c, s] {
            expect_pass(
                &eval_material(p, &m, &[("branches", "master")], &Value::Null),
                p,
            );
        }
    }
}

#[test]
fn repository_rules_change_restricted() {
    let p = "repository-rules-change-restricted";
    let bypass = json!([
        {"actor_id": 5, "actor_type": "Team", "actor_name": "platform", "bypass_mode": "always"},
        {"actor_id": 9, "actor_type": "Integration", "actor_name": "renovate", "bypass_mode": "pull_request"}
    ]);
    let doc = runner_context(json!([ruleset("deletion", "active", &[], bypass)]));
    let m = expect_fail(
        &eval(p, RC, &doc, &[]),
        "no approved actors",
        "Team platform may bypass ruleset 'Main' (rule deletion) on branch 'main'",
    );
    assert_eq!(m.len(), 2, "{m:?}");
    let m = expect_fail(
        &eval(p, RC, &doc, &[("allowed_actors", "Platform")]),
        "renovate not approved",
        "Integration renovate may bypass",
    );
    assert!(
        m.iter()
            .any(|x| x.contains("user 'alice' (admin) can change")),
        "{m:?}"
    );
    expect_pass(
        &eval(
            p,
            RC,
            &doc,
            &[("allowed_actors", "platform, renovate, alice")],
        ),
        "all approved",
    );
    let evaluate = runner_context(json!([ruleset(
        "deletion",
        "evaluate",
        &[],
        json!([{"actor_type": "Team", "actor_name": "x"}])
    )]));
    expect_pass(&eval(p, RC, &evaluate, &[]), "rules not enforced");
    if let Some(bytes) = fixture("runner-context/runner_context_rulesets-v0.1.json") {
        let m = material("rc.json", &bytes, RC);
        expect_pass(
            &eval_material(p, &m, &[("branches", "master")], &Value::Null),
            "fixture rulesets without bypass actors",
        );
    }
}

// ------------------------------------------------------------------ PR info

fn pr_info(title: &str, description: Option<&str>) -> String {
    let mut data = json!({
        "platform": "github", "type": "pull_request", "number": "42", "title": title,
        "url": "https://github.com/acme/api/pull/42",
        "source_branch": "feat/x", "target_branch": "main",
        "author": {"login": "octocat", "type": "User"},
        "reviewers": [{"login": "reviewer1", "type": "User", "requested": true, "review_status": "APPROVED"}]
    });
    if let Some(d) = description {
        data["description"] = d.into();
    }
    json!({
        "chainloop.material.evidence.id": "CHAINLOOP_PR_INFO",
        "schema": "https://schemas.chainloop.dev/prinfo/1.3/pr-info.schema.json",
        "data": data
    })
    .to_string()
}

#[test]
fn pr_description_required() {
    let p = "pr-description-required";
    expect_pass(
        &eval(p, PR, &pr_info("Fix", Some("Handles the empty case.")), &[]),
        "described",
    );
    expect_fail(
        &eval(p, PR, &pr_info("Fix", Some("  \n ")), &[]),
        "blank",
        "pull_request #42 has no description",
    );
    expect_fail(
        &eval(
            p,
            PR,
            &pr_info("Fix", Some("Fixes it")),
            &[("min_length", "10")],
        ),
        "short",
        "a description of 8 characters, fewer than the 10 required",
    );
    expect_fail(
        &eval(p, PR, &pr_info("Fix", Some("x")), &[("min_length", "ten")]),
        "bad input",
        "min_length must be a whole number",
    );
    if let Some(bytes) = fixture("pr-info/pr_info_valid.json") {
        let m = material("pr.json", &bytes, PR);
        expect_fail(
            &eval_material(p, &m, &[], &Value::Null),
            "fixture without description",
            "has no description",
        );
    }
    assert!(eval(p, PR, r#"{"data": {}}"#, &[]).skipped);
}

#[test]
fn pr_user_story_linked() {
    let p = "pr-user-story-linked";
    expect_pass(
        &eval(p, PR, &pr_info("PROJ-123: add cache", None), &[]),
        "Jira key",
    );
    expect_pass(
        &eval(p, PR, &pr_info("Add cache", Some("Closes #17")), &[]),
        "issue in body",
    );
    expect_fail(
        &eval(p, PR, &pr_info("Add cache", Some("no ticket")), &[]),
        "nothing linked",
        "pull_request #42 references no user story or issue",
    );
    expect_fail(
        &eval(
            p,
            PR,
            &pr_info("Closes #17", None),
            &[("patterns", "STORY-[0-9]+")],
        ),
        "only the given form counts",
        "match none of STORY-[0-9]+",
    );
    expect_fail(
        &eval(p, PR, &pr_info("x", None), &[("patterns", "([")]),
        "invalid regex",
        "invalid pattern '(['",
    );
    if let Some(bytes) = fixture("pr-info/pr_info_valid.json") {
        let m = material("pr.json", &bytes, PR);
        expect_fail(
            &eval_material(p, &m, &[], &Value::Null),
            "fixture",
            "references no user story",
        );
    }
}

// ------------------------------------------------------------------ presence

#[test]
fn ai_agent_present_in_attestation_or_pr() {
    let p = "ai-agent-present";
    let with_ai = statement(
        json!({"runnerType": "GITHUB_ACTION"}),
        &[("CHAINLOOP_AI_AGENT_CONFIG", "ai-agent-config-claude")],
    );
    expect_pass(&eval(p, ATT, &with_ai, &[]), "agent config material");
    let without = statement(
        json!({"runnerType": "GITHUB_ACTION"}),
        &[("SBOM_CYCLONEDX_JSON", "sbom")],
    );
    expect_fail(
        &eval(p, ATT, &without, &[]),
        "no AI material",
        "has no AI agent material",
    );

    let mut doc: Value = serde_json::from_str(&pr_info("x", None)).unwrap();
    expect_fail(
        &eval(p, PR, &doc.to_string(), &[]),
        "human reviewers",
        "has no AI agent as author or reviewer",
    );
    doc["data"]["reviewers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"login": "coderabbitai[bot]", "type": "Bot", "review_status": "COMMENTED"}));
    expect_pass(&eval(p, PR, &doc.to_string(), &[]), "bot reviewer");
}

#[test]
fn scan_present_policies() {
    let cases = [
        (
            "test-coverage-scan-present",
            "JACOCO_XML",
            "code coverage report",
        ),
        (
            "test-coverage-scan-present",
            "COBERTURA_XML",
            "code coverage report",
        ),
        (
            "mutation-scan-present",
            "PITEST_XML",
            "mutation testing report",
        ),
        (
            "sast-scan-present",
            "SARIF",
            "static analysis (SAST) report",
        ),
        (
            "sast-scan-present",
            "GHAS_CODE_SCAN",
            "static analysis (SAST) report",
        ),
    ];
    let pred = json!({"runnerType": "GITHUB_ACTION"});
    for (policy, kind, what) in cases {
        let present = statement(pred.clone(), &[(kind, "report")]);
        expect_pass(&eval(policy, ATT, &present, &[]), policy);
        let absent = statement(pred.clone(), &[("JUNIT_XML", "tests")]);
        expect_fail(
            &eval(policy, ATT, &absent, &[]),
            policy,
            &format!("has no {what} material"),
        );
    }
    // A SARIF material recorded as a Grype scan is not static analysis.
    let mut doc: Value =
        serde_json::from_str(&statement(pred, &[("SARIF", "grype.sarif")])).unwrap();
    doc["predicate"]["materials"][0]["annotations"]["chainloop.material.tool.name"] =
        "grype".into();
    expect_fail(
        &eval("sast-scan-present", ATT, &doc.to_string(), &[]),
        "grype SARIF",
        "has no static analysis",
    );
    if let Some(bytes) = fixture("chainloop-attestations/policies-statement.json") {
        let m = material("statement.json", &bytes, ATT);
        expect_fail(
            &eval_material("test-coverage-scan-present", &m, &[], &Value::Null),
            "fixture",
            "has no code coverage report material",
        );
    }
}
