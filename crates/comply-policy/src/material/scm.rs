//! Chainloop's runner context (repository settings) and PR info.
//!
//! The normalized view has no SCM fields: SCM policies read the document itself. Both
//! shapes are recorded here for them (and for `docs/materials.md`):
//!
//! - runner context (`meta.id` `chainloop.dev/runner-context/v0.1`):
//!   `data.repos[] {owner, repository, branches[] {name, active_rules[]}}`, each rule
//!   `{name, enabled: "true"|"false", context[] {name, value, enabled}}`. GitHub branch
//!   protection gives one rule per setting (`allow_deletions`, `allow_force_pushes`,
//!   `required_signatures`, `required_pull_request_reviews` with
//!   `required_approving_review_count` and `require_code_owner_reviews` in its context),
//!   each listed with `enabled` true or false. GitHub rulesets give the rules that are
//!   present (`deletion`, `non_fast_forward`, `required_signatures`, `pull_request`
//!   with `required_approving_review_count` and `require_code_owner_review`), their
//!   context naming the `ruleset` and its `enforcement` (`active`, `evaluate`,
//!   `disabled`). `meta.errors[] {code, message}` lists what the collector could not
//!   read (e.g. `PERMISSION_RULESETS`).
//! - PR info: Chainloop's evidence wrapper `{chainloop.material.evidence.id, schema,
//!   data}` around `{platform, type, number, title, description, source_branch,
//!   target_branch, url, author, reviewers[] {login, type, requested, review_status}}`;
//!   the bare data object is accepted too.
//!
//! Filled here: `format` (`runner-context` or `pr-info`), `format_version` (the
//! runner-context schema version from `meta.id`, or the PR-info schema version from
//! its schema URL), `created` (`meta.generated_at`).

use super::Normalized;
use serde_json::Value;

pub(super) fn normalize(kind: &str, doc: &Value, out: &mut Normalized) {
    if kind == "CHAINLOOP_PR_INFO" {
        out.format = "pr-info".into();
        out.format_version = doc
            .get("schema")
            .or_else(|| doc.get("$schema"))
            .and_then(Value::as_str)
            .and_then(pr_info_version);
    } else {
        out.format = "runner-context".into();
        out.format_version = doc
            .pointer("/meta/id")
            .and_then(Value::as_str)
            .and_then(|id| id.strip_prefix("chainloop.dev/runner-context/"))
            .map(|v| v.trim_start_matches('v').to_owned())
            .filter(|v| !v.is_empty());
        out.created = doc
            .pointer("/meta/generated_at")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
    }
}

/// `https://schemas.chainloop.dev/prinfo/1.2/pr-info.schema.json` → `1.2`.
fn pr_info_version(url: &str) -> Option<String> {
    let mut parts = url.split('/');
    parts.find(|p| *p == "prinfo")?;
    parts
        .next()
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_format_and_schema_versions() {
        let mut out = Normalized::default();
        let doc = json!({"meta": {"id": "chainloop.dev/runner-context/v0.1",
                                  "generated_at": "2025-06-01T00:00:00Z"}, "data": {}});
        normalize("CHAINLOOP_RUNNER_CONTEXT", &doc, &mut out);
        assert_eq!(out.format, "runner-context");
        assert_eq!(out.format_version.as_deref(), Some("0.1"));
        assert_eq!(out.created.as_deref(), Some("2025-06-01T00:00:00Z"));

        let mut out = Normalized::default();
        let doc = json!({"schema": "https://schemas.chainloop.dev/prinfo/1.2/pr-info.schema.json",
                         "data": {"platform": "github"}});
        normalize("CHAINLOOP_PR_INFO", &doc, &mut out);
        assert_eq!(out.format, "pr-info");
        assert_eq!(out.format_version.as_deref(), Some("1.2"));
    }
}
