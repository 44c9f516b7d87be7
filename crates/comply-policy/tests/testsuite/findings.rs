//! Built-in policies: findings (see the module list in main.rs): `sast-findings`,
//! `secrets-absent`, `tests-pass`, `scorecard-check`, and the normalizers and the JUnit
//! projection they read.

use crate::support::*;
use comply_policy::material::{self, Material, Normalized};
use comply_policy::{Verdict, builtin};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------
// Helpers

/// A one-run SARIF document.
fn sarif(tool: &str, rules: Value, results: Value) -> String {
    json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": tool, "rules": rules}}, "results": results}]
    })
    .to_string()
}

fn view(name: &str, bytes: &[u8], kind: &str) -> Normalized {
    material(name, bytes, Some(kind)).normalized
}

fn fixture_view(path: &str, kind: &str) -> Option<Normalized> {
    Some(view(path, &fixture(path)?, kind))
}

fn fixture_eval(policy: &str, path: &str, kind: &str, with: &[(&str, &str)]) -> Option<Verdict> {
    let bytes = fixture(path)?;
    Some(eval_material(
        policy,
        &material(path, &bytes, Some(kind)),
        with,
        &Value::Null,
    ))
}

fn count_by<'a>(items: impl Iterator<Item = &'a str>, wanted: &str) -> usize {
    items.filter(|s| *s == wanted).count()
}

fn assert_fails(v: &Verdict, n: usize) -> Vec<String> {
    assert!(!v.skipped, "not skipped: {v:?}");
    let m = messages(v);
    assert_eq!(m.len(), n, "{m:#?}");
    m
}

fn assert_passes(v: &Verdict) {
    assert!(!v.skipped, "not skipped: {v:?}");
    assert!(v.passed(), "passes: {:#?}", messages(v));
}

fn assert_skipped(v: &Verdict) {
    assert!(v.skipped, "skipped: {v:?}");
    assert!(v.violations.is_empty());
}

// ---------------------------------------------------------------------------------
// SARIF normalizer

#[test]
fn sarif_levels_fall_back_and_map_to_severities() {
    let doc = sarif(
        "Analyzer",
        json!([
            {"id": "scored", "properties": {"security-severity": "9.1"}},
            {"id": "configured", "defaultConfiguration": {"level": "error"}},
            {"id": "bare"},
            {"id": "worded", "properties": {"severity": "moderate"}},
            {"id": "levelword", "properties": {"problem.severity": "warning"}},
            {"id": "templated", "messageStrings": {"Error": {"text": "'{0}' breaks {1}."}}}
        ]),
        json!([
            {"ruleId": "scored", "level": "note", "message": {"text": "s"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": 3}}}]},
            {"ruleId": "configured", "message": {"text": "c"}},
            {"ruleId": "bare", "message": {"text": "b"}},
            {"ruleId": "bare", "level": "note", "message": {"text": "n"}},
            {"ruleId": "bare", "level": "none", "message": {"text": "i"}},
            {"ruleId": "worded", "level": "error", "message": {"text": "w"}},
            {"ruleId": "levelword", "level": "error", "message": {"text": "l"}},
            {"ruleId": "templated", "ruleIndex": 5, "level": "error",
             "message": {"id": "Error", "arguments": ["bin", "PIE"]}},
            {"ruleId": "bare", "kind": "pass", "level": "none", "message": {"text": "passed"}},
            {"ruleId": "bare", "kind": "notApplicable", "message": {"text": "n/a"}},
            {"ruleId": "bare", "kind": "informational", "message": {"text": "fyi"}},
            {"ruleId": "bare", "level": "error", "message": {"text": "waived"},
             "suppressions": [{"kind": "external", "status": "accepted"}]},
            {"ruleId": "bare", "level": "error", "message": {"text": "rejected waiver"},
             "suppressions": [{"kind": "external", "status": "rejected"}]}
        ]),
    );
    let v = view("r.sarif", doc.as_bytes(), "SARIF");
    assert_eq!(v.format, "sarif");
    assert_eq!(v.format_version.as_deref(), Some("2.1.0"));
    let got: Vec<(&str, &str, &str, &str)> = v
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.level.as_deref().unwrap(),
                f.severity.as_str(),
                f.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("scored", "note", "CRITICAL", "s"),
            ("configured", "error", "HIGH", "c"),
            ("bare", "warning", "MEDIUM", "b"),
            ("bare", "note", "LOW", "n"),
            ("bare", "none", "INFO", "i"),
            ("worded", "error", "MEDIUM", "w"),
            ("levelword", "error", "HIGH", "l"),
            ("templated", "error", "HIGH", "'bin' breaks PIE."),
            ("bare", "error", "HIGH", "rejected waiver"),
        ]
    );
    let first = &v.findings[0];
    assert_eq!(first.location.as_deref(), Some("a.c"));
    assert_eq!(first.line, Some(3));
    assert_eq!(first.category, "sast");
    assert!(v.vulnerabilities.is_empty());
}

#[test]
fn sarif_categories_and_vulnerabilities() {
    let doc = sarif(
        "Scanner",
        json!([
            {"id": "CVE-2019-1549", "properties": {"security-severity": "5.3"},
             "help": {"text": "Package: libssl1.1\nFixed Version: 1.1.1d-r0"}},
            {"id": "token", "properties": {"tags": ["Secrets"]}},
            {"id": "misconfig", "properties": {"tags": ["security"]}}
        ]),
        json!([
            {"ruleId": "CVE-2019-1549", "level": "warning",
             "message": {"text": "Package: libcrypto1.1\nInstalled Version: 1.1.1c-r0\nFixed Version: 1.1.1d-r0"}},
            {"ruleId": "GHSA-rh58-r7jh-xhx3", "level": "error", "message": {"text": "dep"},
             "locations": [{"logicalLocations": [{"fullyQualifiedName": "pkg:npm/left-pad@1.0.0"}]}]},
            {"ruleId": "CVE-2020-0001", "level": "error", "message": {"text": "waived"},
             "suppressions": [{"kind": "inSource"}]},
            {"ruleId": "token", "level": "error", "message": {"text": "t"}},
            {"ruleId": "misconfig", "level": "error", "message": {"text": "m"}}
        ]),
    );
    let v = view("r.sarif", doc.as_bytes(), "SARIF");
    let categories: Vec<(&str, &str)> = v
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.category.as_str()))
        .collect();
    assert_eq!(
        categories,
        [
            ("CVE-2019-1549", "vulnerability"),
            ("GHSA-rh58-r7jh-xhx3", "vulnerability"),
            ("token", "secret"),
            ("misconfig", "sast"),
        ],
        "the suppressed result is not a finding"
    );
    assert_eq!(v.vulnerabilities.len(), 3);
    let trivy_like = &v.vulnerabilities[0];
    assert_eq!(trivy_like.id, "CVE-2019-1549");
    assert_eq!(trivy_like.severity, "MEDIUM");
    assert_eq!(
        trivy_like.package.as_deref(),
        Some("libcrypto1.1"),
        "the result's message wins over the rule's help"
    );
    assert_eq!(trivy_like.version.as_deref(), Some("1.1.1c-r0"));
    assert_eq!(trivy_like.fixed_version.as_deref(), Some("1.1.1d-r0"));
    assert!(!trivy_like.suppressed);
    let ghsa = &v.vulnerabilities[1];
    assert_eq!(ghsa.severity, "HIGH");
    assert_eq!(ghsa.purl.as_deref(), Some("pkg:npm/left-pad@1.0.0"));
    assert_eq!(ghsa.package.as_deref(), Some("left-pad"));
    assert_eq!(ghsa.version.as_deref(), Some("1.0.0"));
    assert!(
        v.vulnerabilities[2].suppressed,
        "an in-source suppression without status is accepted"
    );

    let leaks = sarif(
        "gitleaks",
        json!([]),
        json!([{"ruleId": "aws", "message": {"text": "aws has detected secret"}}]),
    );
    let v = view("l.sarif", leaks.as_bytes(), "SARIF");
    assert_eq!(v.findings[0].category, "secret");
    assert_eq!(
        v.findings[0].level.as_deref(),
        Some("warning"),
        "no level, no rule: SARIF's default"
    );
}

#[test]
fn sarif_fixtures_normalize() {
    // BinSkim: 5 errors; the 2 kind=pass results are not findings.
    if let Some(v) = fixture_view("sarif/binskim-gcc.execstack.sarif", "SARIF") {
        assert_eq!(v.findings.len(), 5);
        assert!(
            v.findings
                .iter()
                .all(|f| f.level.as_deref() == Some("error")
                    && f.severity == "HIGH"
                    && f.category == "sast")
        );
        assert!(
            v.findings
                .iter()
                .all(|f| f.message.contains("gcc.execstack")),
            "message templates are filled in: {:?}",
            v.findings[0].message
        );
    }
    // CodeQL: no result level, an empty defaultConfiguration: SARIF's "warning".
    if let Some(v) = fixture_view("sarif/codeql-javascript-builtin.sarif", "SARIF") {
        assert_eq!(v.findings.len(), 10);
        assert!(
            v.findings
                .iter()
                .all(|f| f.level.as_deref() == Some("warning")
                    && f.severity == "MEDIUM"
                    && f.category == "sast"
                    && f.line.is_some()
                    && f.location.is_some())
        );
    }
    // Checkmarx: security-severity wins over the level.
    if let Some(v) = fixture_view("sarif/checkmarx.sarif", "SARIF") {
        let got: Vec<(&str, &str, &str)> = v
            .findings
            .iter()
            .map(|f| (f.rule_id.as_str(), f.severity.as_str(), f.category.as_str()))
            .collect();
        assert_eq!(got.len(), 3);
        assert!(got.contains(&("Reflected_XSS (sast)", "HIGH", "sast")));
        assert!(got.contains(&("CVE-2021-1234 (sca)", "CRITICAL", "vulnerability")));
        assert_eq!(v.vulnerabilities.len(), 1);
        assert_eq!(v.vulnerabilities[0].id, "CVE-2021-1234");
    }
    if let Some(v) = fixture_view("sarif/tfsec-report.sarif", "SARIF") {
        assert_eq!(v.findings.len(), 9);
        assert_eq!(
            count_by(v.findings.iter().map(|f| f.severity.as_str()), "HIGH"),
            7
        );
        assert_eq!(
            count_by(v.findings.iter().map(|f| f.severity.as_str()), "MEDIUM"),
            2
        );
    }
    // Trivy: 4 container vulnerabilities with their packages.
    if let Some(v) = fixture_view("sarif/trivy-alpine-310.sarif", "SARIF") {
        assert_eq!(v.findings.len(), 4);
        assert!(v.findings.iter().all(|f| f.category == "vulnerability"));
        assert_eq!(v.vulnerabilities.len(), 4);
        assert!(v.vulnerabilities.iter().all(|x| x.severity == "MEDIUM"));
        let packages: Vec<(&str, &str, &str)> = v
            .vulnerabilities
            .iter()
            .map(|x| {
                (
                    x.id.as_str(),
                    x.package.as_deref().unwrap(),
                    x.version.as_deref().unwrap(),
                )
            })
            .collect();
        assert!(packages.contains(&("CVE-2019-1549", "libcrypto1.1", "1.1.1c-r0")));
        assert!(packages.contains(&("CVE-2019-1551", "libssl1.1", "1.1.1c-r0")));
    }
    // Grype: ids without the package suffix; packages from the rule help.
    if let Some(v) = fixture_view("sarif/grype-image.sarif", "SARIF") {
        let got: Vec<(&str, &str, &str)> = v
            .vulnerabilities
            .iter()
            .map(|x| {
                (
                    x.id.as_str(),
                    x.severity.as_str(),
                    x.package.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("CVE-1999-0001", "HIGH", "package-1"),
                ("CVE-1999-0002", "HIGH", "package-2")
            ]
        );
        assert_eq!(v.vulnerabilities[0].version.as_deref(), Some("1.1.1"));
    }
    if let Some(v) = fixture_view("sarif/grype-empty-results.sarif.json", "SARIF") {
        assert!(v.findings.is_empty() && v.vulnerabilities.is_empty());
    }
    // Dependency-Track: every result is a vulnerability, the purl is a logical location.
    if let Some(v) = fixture_view("sarif/dependency-track-expected-all.sarif.json", "SARIF") {
        assert_eq!(v.findings.len(), 5);
        assert_eq!(v.vulnerabilities.len(), 5);
        assert!(
            v.vulnerabilities
                .iter()
                .all(|x| x.purl.as_deref().is_some_and(|p| p.starts_with("pkg:")))
        );
    }
    if let Some(v) = fixture_view("sarif/gitleaks-sarif_simple.sarif", "SARIF") {
        assert_eq!(v.findings.len(), 1);
        assert_eq!(v.findings[0].category, "secret");
        assert_eq!(v.findings[0].location.as_deref(), Some("auth.py"));
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("a secret"), "the snippet is not copied");
    }
}

// ---------------------------------------------------------------------------------
// gitleaks, TruffleHog

#[test]
fn gitleaks_findings_never_carry_the_secret() {
    let Some(bytes) = fixture("secrets/gitleaks-report-violations.json") else {
        return;
    };
    let m = material("gitleaks.json", &bytes, None);
    assert_eq!(m.kind, "GITLEAKS_JSON");
    let v = &m.normalized;
    assert_eq!(v.format, "gitleaks");
    let got: Vec<(&str, &str, u64, &str)> = v
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.location.as_deref().unwrap(),
                f.line.unwrap(),
                f.category.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("generic-api-key", "config/secrets.env", 7, "secret"),
            ("aws-access-key", "config/secrets.env", 12, "secret"),
        ]
    );
    assert!(v.findings.iter().all(|f| f.severity == "HIGH"));
    let json = serde_json::to_string(v).unwrap();
    for secret in ["7a6bc1e3207144b38e9066861e1de0ff", "AKIAIOSFODNN7EXAMPLE"] {
        assert!(!json.contains(secret), "{secret} leaked into the view");
    }
    let clean = view("clean.json", b"[]", "GITLEAKS_JSON");
    assert_eq!(
        (clean.format.as_str(), clean.findings.len()),
        ("gitleaks", 0)
    );
    let simple = view(
        "simple.json",
        br#"[{"RuleID": "r", "Description": "", "File": "a.py", "StartLine": 1, "Secret": "s3cr3t"}]"#,
        "GITLEAKS_JSON",
    );
    assert_eq!(simple.findings[0].message, "secret matched rule r");
}

#[test]
fn trufflehog_json_lines() {
    let Some(bytes) = fixture("secrets/trufflehog-report.jsonl") else {
        return;
    };
    let m = material("th.jsonl", &bytes, None);
    assert_eq!(m.kind, "TRUFFLEHOG_JSON");
    assert_eq!(m.content.as_array().map(Vec::len), Some(2));
    let got: Vec<(&str, &str, &str, u64)> = m
        .normalized
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.severity.as_str(),
                f.location.as_deref().unwrap(),
                f.line.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Github", "CRITICAL", "config/secrets.yaml", 12),
            ("AWS", "HIGH", "app/.env", 4),
        ]
    );
    assert_eq!(
        m.normalized.findings[0].message,
        "Github credential, verified live"
    );
    let json = serde_json::to_string(&m.normalized).unwrap();
    for secret in ["ghp_exampleTokenValue", "AKIAEXAMPLE", "ghp_***"] {
        assert!(!json.contains(secret), "{secret} leaked into the view");
    }
}

#[test]
fn json_lines_errors_name_the_file_line() {
    let text = "{\"DetectorName\": \"A\"}\n\n{not json}\n";
    let err = material::load("th.jsonl", text.as_bytes(), Some("TRUFFLEHOG_JSON")).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    let empty = material("th.jsonl", b"", Some("TRUFFLEHOG_JSON"));
    assert_eq!(empty.content, json!([]));
}

// ---------------------------------------------------------------------------------
// JUnit projection

fn junit(text: &str) -> Material {
    material("junit.xml", text.as_bytes(), Some("JUNIT_XML"))
}

fn totals(m: &Material) -> (u64, u64, u64, u64) {
    let t = m.normalized.tests.as_ref().expect("tests summary");
    (t.total, t.failures, t.errors, t.skipped)
}

#[test]
fn junit_projection_of_nested_suites() {
    let Some(bytes) = fixture("junit/chainloop-junit.xml") else {
        return;
    };
    let m = material("junit.xml", &bytes, None);
    assert_eq!(m.kind, "JUNIT_XML");
    assert_eq!(m.normalized.format, "junit");
    assert_eq!(totals(&m), (9, 1, 0, 0));
    let suites = m.content["testsuites"].as_array().unwrap();
    let shape: Vec<(&str, Value, u64, u64, usize)> = suites
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["parent"].clone(),
                s["tests"].as_u64().unwrap(),
                s["failures"].as_u64().unwrap(),
                s["testcases"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("Tests.Registration", Value::Null, 3, 0, 3),
            ("Tests.Authentication", Value::Null, 6, 1, 3),
            (
                "Tests.Authentication.Login",
                json!("Tests.Authentication"),
                3,
                0,
                3
            ),
        ]
    );
    let case = &suites[1]["testcases"][2];
    assert_eq!(
        *case,
        json!({
            "name": "testCase9",
            "classname": "Tests.Authentication",
            "time": 0.982,
            "failure": {"message": "Assertion error message", "type": "AssertionError", "text": ""},
            "error": null,
            "skipped": false,
        })
    );
    assert_eq!(m.content["time"], json!(15.682687));
    assert_eq!(m.content["tests"], json!(9));
}

#[test]
fn junit_projection_of_tool_reports() {
    if let Some(bytes) = fixture("junit/gitleaks-junit_simple.xml") {
        let m = material("junit.xml", &bytes, None);
        assert_eq!(totals(&m), (2, 2, 0, 0));
        let failure = &m.content["testsuites"][0]["testcases"][0]["failure"];
        let body: Value = serde_json::from_str(failure["text"].as_str().unwrap())
            .expect("character references decode to the JSON gitleaks wrote");
        assert_eq!(body["RuleID"], "test-rule");
        assert_eq!(failure["type"], "Test Rule");
        assert_eq!(
            m.content["testsuites"][0]["time"],
            Value::Null,
            "time=\"\" is no time"
        );
    }
    if let Some(bytes) = fixture("junit/trivy-alpine-310.junit.xml") {
        let m = material("junit.xml", &bytes, None);
        assert_eq!(totals(&m), (4, 4, 0, 0));
        assert_eq!(m.content["name"], "trivy");
        let suites = m.content["testsuites"].as_array().unwrap();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[1]["tests"], 0);
        assert_eq!(
            suites[0]["testcases"][0]["failure"]["message"],
            "openssl: information disclosure in fork()"
        );
    }
}

#[test]
fn junit_counts_trust_neither_missing_nor_understated_attributes() {
    let m = junit(
        r#"<testsuite name="root" tests="1">
             <testcase name="a" classname="c"/>
             <testcase name="b"><error message="boom" type="E"><![CDATA[trace <here>]]></error></testcase>
             <testcase name="s"><skipped/></testcase>
           </testsuite>"#,
    );
    assert_eq!(totals(&m), (3, 0, 1, 1));
    let error = &m.content["testsuites"][0]["testcases"][1]["error"];
    assert_eq!(
        *error,
        json!({"message": "boom", "type": "E", "text": "trace <here>"})
    );
    assert_eq!(m.content["testsuites"][0]["testcases"][2]["skipped"], true);
    assert_eq!(
        m.content["testsuites"][0]["testcases"][1]["classname"],
        Value::Null
    );

    // A summary-only suite: the attributes are all there is.
    let m = junit(
        r#"<testsuites><testsuite name="s" tests="5" failures="1" skipped="2"/></testsuites>"#,
    );
    assert_eq!(totals(&m), (5, 1, 0, 2));

    // Root attributes larger than the suites' sum are kept.
    let m = junit(
        r#"<testsuites tests="4" failures="2"><testsuite name="s"><testcase name="a"/></testsuite></testsuites>"#,
    );
    assert_eq!(totals(&m), (4, 2, 0, 0));

    let m = junit("<testsuites/>");
    assert_eq!(totals(&m), (0, 0, 0, 0));
    assert_eq!(m.content["testsuites"], json!([]));
}

#[test]
fn junit_malformed_xml_is_an_error() {
    let cases = [
        ("<testsuites><testsuite name=\"a\">", "is closed"),
        (
            "<testsuites><testsuite></testcase></testsuites>",
            "malformed XML",
        ),
        ("<html><body/></html>", "root element is <html>"),
        ("<testsuite name=\"a\"/><testsuite/>", "more than one root"),
        ("<testsuite>&nbsp;</testsuite>", "unknown entity"),
        ("", "no root element"),
    ];
    for (text, expected) in cases {
        let err = material::load("junit.xml", text.as_bytes(), Some("JUNIT_XML"))
            .err()
            .unwrap_or_else(|| panic!("{text:?} was accepted"))
            .to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(err.starts_with("junit.xml: "), "{err}");
    }
}

// ---------------------------------------------------------------------------------
// sast-findings

fn sast_doc() -> String {
    sarif(
        "Analyzer",
        json!([{"id": "sql", "defaultConfiguration": {"level": "error"}}]),
        json!([
            {"ruleId": "sql", "message": {"text": "SQL injection"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/db.js"}, "region": {"startLine": 3}}}]},
            {"ruleId": "style", "level": "warning", "message": {"text": "unused variable"}},
            {"ruleId": "CVE-2024-0001", "level": "error", "message": {"text": "vulnerable dependency"}}
        ]),
    )
}

#[test]
fn sast_findings_threshold() {
    let v = eval("sast-findings", None, &sast_doc(), &[]);
    let m = assert_fails(&v, 1);
    assert_eq!(m[0], "HIGH sql at src/db.js:3: SQL injection");
    assert_eq!(
        v.violations[0].finding,
        Some(json!({
            "message": "HIGH sql at src/db.js:3: SQL injection",
            "rule_id": "sql",
            "severity": "HIGH",
            "location": "src/db.js",
            "line_number": 3,
        })),
        "structured SAST finding; the CVE result is left to `vulnerabilities`"
    );
    let v = eval(
        "sast-findings",
        None,
        &sast_doc(),
        &[("severity", "medium")],
    );
    let m = assert_fails(&v, 2);
    assert!(m.contains(&"MEDIUM style at unknown location: unused variable".to_owned()));
    assert_eq!(
        v.violations
            .iter()
            .find(|x| x.message.contains("style"))
            .and_then(|x| x.finding.as_ref())
            .map(|f| f["location"].clone()),
        Some(json!("unknown"))
    );
    // Several thresholds: the strictest applies.
    let v = eval(
        "sast-findings",
        None,
        &sast_doc(),
        &[("severity", "CRITICAL, MEDIUM")],
    );
    assert_fails(&v, 2);
    assert_passes(&eval(
        "sast-findings",
        None,
        &sast_doc(),
        &[("severity", "CRITICAL")],
    ));
    let v = eval("sast-findings", None, &sast_doc(), &[("severity", "HIHG")]);
    let m = assert_fails(&v, 1);
    assert!(
        m[0].starts_with("invalid severity threshold 'HIHG'"),
        "{m:?}"
    );
}

#[test]
fn sast_findings_pass_and_skip() {
    let only_warning = sarif(
        "Analyzer",
        json!([]),
        json!([{"ruleId": "style", "level": "warning", "message": {"text": "x"}},
               {"ruleId": "ok", "kind": "pass", "level": "error", "message": {"text": "y"}}]),
    );
    assert_passes(&eval("sast-findings", None, &only_warning, &[]));
    assert_passes(&eval(
        "sast-findings",
        None,
        &sarif("Analyzer", json!([]), json!([])),
        &[],
    ));
    let v = eval("sast-findings", Some("SARIF"), r#"{"not": "sarif"}"#, &[]);
    assert_skipped(&v);
    assert_eq!(v.skip_reasons, ["the file content is not recognized"]);
}

#[test]
fn sast_findings_on_real_reports() {
    // BinSkim: 5 errors at HIGH, not 7 (two results are kind=pass).
    if let Some(v) = fixture_eval(
        "sast-findings",
        "sarif/binskim-gcc.execstack.sarif",
        "SARIF",
        &[],
    ) {
        let m = assert_fails(&v, 5);
        assert!(m.iter().all(|x| x.starts_with("HIGH BA")), "{m:?}");
        assert!(v.violations.iter().all(|x| x.finding.is_some()));
    }
    // CodeQL: no level given; the fallback (warning, MEDIUM) passes at HIGH and fails
    // at MEDIUM.
    if let Some(v) = fixture_eval(
        "sast-findings",
        "sarif/codeql-javascript-builtin.sarif",
        "SARIF",
        &[],
    ) {
        assert_passes(&v);
    }
    if let Some(v) = fixture_eval(
        "sast-findings",
        "sarif/codeql-javascript-builtin.sarif",
        "SARIF",
        &[("severity", "MEDIUM")],
    ) {
        let m = assert_fails(&v, 10);
        assert!(m.iter().all(|x| x.starts_with("MEDIUM js/")), "{m:?}");
    }
    if let Some(v) = fixture_eval("sast-findings", "sarif/tfsec-report.sarif", "SARIF", &[]) {
        assert_fails(&v, 7);
    }
    if let Some(v) = fixture_eval(
        "sast-findings",
        "sarif/tfsec-report.sarif",
        "SARIF",
        &[("severity", "MEDIUM")],
    ) {
        assert_fails(&v, 9);
    }
    // Checkmarx: the SAST and KICS results (8.0 and 7.0: HIGH); the SCA CVE is not SAST.
    if let Some(v) = fixture_eval("sast-findings", "sarif/checkmarx.sarif", "SARIF", &[]) {
        let m = assert_fails(&v, 2);
        assert!(m.iter().all(|x| !x.contains("CVE-")), "{m:?}");
    }
    if let Some(v) = fixture_eval(
        "sast-findings",
        "sarif/checkmarx.sarif",
        "SARIF",
        &[("severity", "CRITICAL")],
    ) {
        assert_passes(&v);
    }
    // Vulnerability scanners and an empty run have no SAST finding.
    for path in [
        "sarif/trivy-alpine-310.sarif",
        "sarif/grype-image.sarif",
        "sarif/grype-empty-results.sarif.json",
    ] {
        if let Some(v) = fixture_eval("sast-findings", path, "SARIF", &[("severity", "LOW")]) {
            assert_passes(&v);
        }
    }
}

// ---------------------------------------------------------------------------------
// secrets-absent

#[test]
fn secrets_absent_gitleaks() {
    assert_passes(&eval("secrets-absent", None, "[]", &[]));
    let leak = r#"[{"RuleID": "aws-access-key", "Description": "AWS", "File": "a.env",
                    "StartLine": 2, "Secret": "AKIAIOSFODNN7EXAMPLE", "Match": "K=AKIAIOSFODNN7EXAMPLE"}]"#;
    let v = eval("secrets-absent", None, leak, &[]);
    assert_eq!(
        assert_fails(&v, 1),
        ["gitleaks: secret matching rule aws-access-key at a.env:2"]
    );
    assert_skipped(&eval(
        "secrets-absent",
        Some("GITLEAKS_JSON"),
        r#"{"a": 1}"#,
        &[],
    ));
    assert_skipped(&eval(
        "secrets-absent",
        Some("GITLEAKS_JSON"),
        r#"[{"a": 1}]"#,
        &[],
    ));

    if let Some(v) = fixture_eval(
        "secrets-absent",
        "secrets/gitleaks-report-clean.json",
        "GITLEAKS_JSON",
        &[],
    ) {
        assert_passes(&v);
    }
    if let Some(v) = fixture_eval(
        "secrets-absent",
        "secrets/gitleaks-report-violations.json",
        "GITLEAKS_JSON",
        &[],
    ) {
        let m = assert_fails(&v, 2);
        assert!(m.contains(
            &"gitleaks: secret matching rule aws-access-key at config/secrets.env:12".to_owned()
        ));
        for x in &m {
            assert!(
                !x.contains("AKIAIOSFODNN7EXAMPLE") && !x.contains("7a6bc1e3"),
                "{x}"
            );
        }
    }
    if let Some(v) = fixture_eval(
        "secrets-absent",
        "secrets/gitleaks-json_simple.json",
        "GITLEAKS_JSON",
        &[],
    ) {
        let m = assert_fails(&v, 1);
        assert!(!m[0].contains("a secret"), "{m:?}");
    }
}

#[test]
fn secrets_absent_trufflehog() {
    let Some(bytes) = fixture("secrets/trufflehog-report.jsonl") else {
        return;
    };
    let m = material("th.jsonl", &bytes, Some("TRUFFLEHOG_JSON"));
    let v = eval_material("secrets-absent", &m, &[], &Value::Null);
    let msgs = assert_fails(&v, 2);
    assert!(msgs.contains(
        &"TruffleHog: Github credential, verified live at config/secrets.yaml:12".to_owned()
    ));
    assert!(msgs.contains(&"TruffleHog: AWS credential, not verified at app/.env:4".to_owned()));
    for x in &msgs {
        assert!(!x.contains("ghp_") && !x.contains("AKIAEXAMPLE"), "{x}");
    }
    let v = eval_material(
        "secrets-absent",
        &m,
        &[("fail_on_unverified", "false")],
        &Value::Null,
    );
    assert_eq!(
        assert_fails(&v, 1),
        ["TruffleHog: Github credential, verified live at config/secrets.yaml:12"]
    );
    // Anything but an explicit false keeps unverified credentials counted.
    let v = eval_material(
        "secrets-absent",
        &m,
        &[("fail_on_unverified", "maybe")],
        &Value::Null,
    );
    assert_fails(&v, 2);

    let unverified = r#"{"DetectorName": "AWS", "Verified": false, "SourceMetadata": {"Data": {"Git": {"file": "x", "line": 1}}}}"#;
    let v = eval(
        "secrets-absent",
        Some("TRUFFLEHOG_JSON"),
        unverified,
        &[("fail_on_unverified", "false")],
    );
    assert_passes(&v);
    assert_passes(&eval("secrets-absent", Some("TRUFFLEHOG_JSON"), "", &[]));
    assert_skipped(&eval(
        "secrets-absent",
        Some("TRUFFLEHOG_JSON"),
        r#"{"foo": 1}"#,
        &[],
    ));
}

#[test]
fn secrets_absent_sarif_and_github() {
    if let Some(v) = fixture_eval(
        "secrets-absent",
        "sarif/gitleaks-sarif_simple.sarif",
        "SARIF",
        &[],
    ) {
        assert_eq!(
            assert_fails(&v, 1),
            ["secret matching rule test-rule at auth.py:1"]
        );
    }
    assert_passes(&eval(
        "secrets-absent",
        None,
        &sarif("gitleaks", json!([]), json!([])),
        &[],
    ));
    // A SARIF report from a tool that does not look for secrets proves nothing.
    if let Some(v) = fixture_eval(
        "secrets-absent",
        "sarif/codeql-javascript-builtin.sarif",
        "SARIF",
        &[],
    ) {
        assert_skipped(&v);
        assert!(
            v.skip_reasons[0].contains("not come from a secret scanner"),
            "{v:?}"
        );
    }
    if let Some(v) = fixture_eval(
        "secrets-absent",
        "secrets/ghas-secret-scan.json",
        "GHAS_SECRET_SCAN",
        &[],
    ) {
        let m = assert_fails(&v, 2);
        assert!(m.contains(
            &"open GitHub secret scanning alert #8: Azure Storage Account Access Key".to_owned()
        ));
        assert!(m.iter().all(|x| !x.contains("REDACTED")));
    }
    let resolved = r#"[{"number": 1, "state": "resolved", "secret_type": "t", "secret": "x"}]"#;
    assert_passes(&eval(
        "secrets-absent",
        Some("GHAS_SECRET_SCAN"),
        resolved,
        &[],
    ));
    assert_skipped(&eval(
        "secrets-absent",
        Some("GHAS_SECRET_SCAN"),
        r#"[{"number": 1}]"#,
        &[],
    ));
}

// ---------------------------------------------------------------------------------
// tests-pass

const GREEN: &str = r#"<testsuite name="unit"><testcase name="a" classname="A"/><testcase name="b" classname="A"/><testcase name="c"><skipped/></testcase></testsuite>"#;

#[test]
fn tests_pass_hand_made() {
    assert_passes(&eval("tests-pass", None, GREEN, &[]));
    assert_passes(&eval("tests-pass", None, GREEN, &[("min_tests", "2")]));
    let v = eval("tests-pass", None, GREEN, &[("min_tests", "3")]);
    assert_eq!(
        assert_fails(&v, 1),
        ["2 tests ran (1 skipped); at least 3 required"]
    );
    let v = eval("tests-pass", None, GREEN, &[("fail_on_skipped", "true")]);
    assert_eq!(assert_fails(&v, 1), ["1 tests were skipped"]);
    assert_passes(&eval(
        "tests-pass",
        None,
        GREEN,
        &[("fail_on_skipped", "false")],
    ));
    let v = eval("tests-pass", None, GREEN, &[("min_tests", "many")]);
    assert_eq!(
        assert_fails(&v, 1),
        ["invalid min_tests 'many'; expected a whole number"]
    );

    let v = eval("tests-pass", None, "<testsuites/>", &[]);
    assert_eq!(
        assert_fails(&v, 1),
        ["0 tests ran (0 skipped); at least 1 required"]
    );
    assert_passes(&eval(
        "tests-pass",
        None,
        "<testsuites/>",
        &[("min_tests", "0")],
    ));

    let red = r#"<testsuite name="unit">
        <testcase name="a" classname="A"><failure message="expected 1, got 2"/></testcase>
        <testcase name="b"><error type="Panic"/></testcase>
      </testsuite>"#;
    let v = eval("tests-pass", None, red, &[]);
    let mut m = assert_fails(&v, 2);
    m.sort();
    assert_eq!(
        m,
        [
            "test a (A) failed: expected 1, got 2",
            "test b (suite unit) errored: Panic"
        ]
    );
    let summary = r#"<testsuites><testsuite name="s" tests="5" failures="1"/></testsuites>"#;
    let v = eval("tests-pass", None, summary, &[]);
    assert_eq!(
        assert_fails(&v, 1),
        ["the report counts 1 failed tests, 1 of them without detail"]
    );
}

#[test]
fn tests_pass_skips_what_is_not_a_test_report() {
    let m = Material {
        kind: "JUNIT_XML".into(),
        name: "x".into(),
        sha256: String::new(),
        content: json!({"foo": 1}),
        normalized: Normalized::default(),
        annotations: Default::default(),
    };
    assert_skipped(&eval_material("tests-pass", &m, &[], &Value::Null));
}

#[test]
fn tests_pass_on_real_reports() {
    if let Some(v) = fixture_eval("tests-pass", "junit/chainloop-junit.xml", "JUNIT_XML", &[]) {
        assert_eq!(
            assert_fails(&v, 1),
            ["test testCase9 (Tests.Authentication) failed: Assertion error message"]
        );
    }
    if let Some(v) = fixture_eval(
        "tests-pass",
        "junit/chainloop-junit.xml",
        "JUNIT_XML",
        &[("min_tests", "10")],
    ) {
        let m = assert_fails(&v, 2);
        assert!(m.contains(&"9 tests ran (0 skipped); at least 10 required".to_owned()));
    }
    if let Some(v) = fixture_eval(
        "tests-pass",
        "junit/gitleaks-junit_simple.xml",
        "JUNIT_XML",
        &[],
    ) {
        let m = assert_fails(&v, 2);
        assert!(
            m.iter()
                .all(|x| x.starts_with("test test-rule has detected a secret in file auth.py"))
        );
    }
    if let Some(v) = fixture_eval(
        "tests-pass",
        "junit/trivy-alpine-310.junit.xml",
        "JUNIT_XML",
        &[],
    ) {
        let m = assert_fails(&v, 4);
        assert!(m.contains(&"test [MEDIUM] CVE-2019-1549 (libssl1.1-1.1.1c-r0) failed: openssl: information disclosure in fork()".to_owned()));
    }
}

// ---------------------------------------------------------------------------------
// scorecard-check

fn scorecard(score: Option<f64>, checks: &[(&str, i64)]) -> String {
    let mut doc = json!({
        "repo": {"name": "github.com/acme/app"},
        "scorecard": {"version": "v5"},
        "checks": checks.iter().map(|(n, s)| json!({"name": n, "score": s, "reason": format!("{n} reason")})).collect::<Vec<_>>(),
    });
    if let Some(s) = score {
        doc["score"] = json!(s);
    }
    doc.to_string()
}

#[test]
fn scorecard_check_hand_made() {
    let doc = scorecard(
        Some(7.5),
        &[("Code-Review", 10), ("Fuzzing", 0), ("SAST", -1)],
    );
    assert_passes(&eval("scorecard-check", None, &doc, &[]));
    assert_passes(&eval(
        "scorecard-check",
        None,
        &doc,
        &[("checks", "code-review")],
    ));
    let v = eval(
        "scorecard-check",
        None,
        &doc,
        &[("checks", "Code-Review, Fuzzing, SAST, Signed-Releases")],
    );
    let mut m = assert_fails(&v, 3);
    m.sort();
    assert_eq!(
        m,
        [
            "check Fuzzing scored 0, below the minimum 7: Fuzzing reason",
            "check SAST is inconclusive: SAST reason",
            "check Signed-Releases is not in the Scorecard result",
        ]
    );
    let v = eval("scorecard-check", None, &doc, &[("min_score", "8")]);
    assert_eq!(
        assert_fails(&v, 1),
        ["aggregate Scorecard score 7.5 is below the minimum 8"]
    );
    let v = eval("scorecard-check", None, &doc, &[("min_score", "eleven")]);
    assert_eq!(
        assert_fails(&v, 1),
        ["invalid min_score 'eleven'; expected a number from 0 to 10"]
    );
    let v = eval("scorecard-check", None, &scorecard(Some(-1.0), &[]), &[]);
    assert_eq!(
        assert_fails(&v, 1),
        ["the aggregate Scorecard score is inconclusive (-1)"]
    );
    // Listed checks alone decide unless an aggregate minimum is asked for too.
    let no_aggregate = scorecard(None, &[("License", 10)]);
    assert_passes(&eval(
        "scorecard-check",
        None,
        &no_aggregate,
        &[("checks", "License")],
    ));
    let v = eval(
        "scorecard-check",
        None,
        &no_aggregate,
        &[("checks", "License"), ("min_aggregate_score", "5")],
    );
    assert_eq!(
        assert_fails(&v, 1),
        ["the Scorecard result has no aggregate score; cannot show it reaches 5"]
    );
    let v = eval(
        "scorecard-check",
        None,
        &doc,
        &[("checks", "Code-Review"), ("min_aggregate_score", "8")],
    );
    assert_eq!(
        assert_fails(&v, 1),
        ["aggregate Scorecard score 7.5 is below the minimum 8"]
    );
    let v = eval(
        "scorecard-check",
        None,
        &doc,
        &[("min_aggregate_score", "x")],
    );
    assert_eq!(
        assert_fails(&v, 1),
        ["invalid min_aggregate_score 'x'; expected a number from 0 to 10"]
    );
    let v = eval("scorecard-check", None, &scorecard(None, &[]), &[]);
    assert_eq!(
        assert_fails(&v, 1),
        ["the Scorecard result has no aggregate score; cannot show it reaches 7"]
    );
    assert_skipped(&eval(
        "scorecard-check",
        Some("OSSF_SCORECARD_JSON"),
        r#"{"score": 9}"#,
        &[],
    ));
}

#[test]
fn scorecard_check_on_real_results() {
    let kind = "OSSF_SCORECARD_JSON";
    let k8s = "scorecard/guac-kubernetes-scorecard.json";
    if let Some(v) = fixture_eval("scorecard-check", k8s, kind, &[]) {
        assert_passes(&v); // 8.9
    }
    if let Some(v) = fixture_eval(
        "scorecard-check",
        k8s,
        kind,
        &[("checks", "Code-Review,Binary-Artifacts")],
    ) {
        assert_passes(&v); // Code-Review is exactly 7
    }
    if let Some(v) = fixture_eval(
        "scorecard-check",
        k8s,
        kind,
        &[("checks", "Code-Review\nPinned-Dependencies")],
    ) {
        assert_eq!(
            assert_fails(&v, 1),
            [
                "check Pinned-Dependencies scored 2, below the minimum 7: dependency not pinned by hash detected -- score normalized to 2"
            ]
        );
    }
    if let Some(v) = fixture_eval("scorecard-check", k8s, kind, &[("min_score", "9")]) {
        assert_eq!(
            assert_fails(&v, 1),
            ["aggregate Scorecard score 8.9 is below the minimum 9"]
        );
    }
    let chainloop = "scorecard/scorecard-chainloop.json";
    if let Some(v) = fixture_eval("scorecard-check", chainloop, kind, &[]) {
        assert_passes(&v); // 8.2
    }
    if let Some(v) = fixture_eval(
        "scorecard-check",
        chainloop,
        kind,
        &[("checks", "License,Vulnerabilities,Fuzzing")],
    ) {
        let mut m = assert_fails(&v, 2);
        m.sort();
        assert_eq!(
            m,
            [
                "check Fuzzing is not in the Scorecard result",
                "check Vulnerabilities scored 0, below the minimum 7: 22 existing vulnerabilities detected",
            ]
        );
    }
    // check3: aggregate 0; Check-Name3 is inconclusive (-1).
    let check3 = "scorecard/scorecard-check3.json";
    if let Some(v) = fixture_eval("scorecard-check", check3, kind, &[]) {
        assert_eq!(
            assert_fails(&v, 1),
            ["aggregate Scorecard score 0 is below the minimum 7"]
        );
    }
    if let Some(v) = fixture_eval(
        "scorecard-check",
        check3,
        kind,
        &[("min_score", "0"), ("checks", "Check-Name3")],
    ) {
        assert_eq!(
            assert_fails(&v, 1),
            ["check Check-Name3 is inconclusive: inconclusive reason"]
        );
    }
    if let Some(v) = fixture_eval(
        "scorecard-check",
        check3,
        kind,
        &[("min_score", "0"), ("checks", "Check-Name")],
    ) {
        assert_passes(&v);
    }
    // No aggregate score: listed checks alone decide; asked for, it is not shown.
    let no_score = "scorecard/scorecard-no-score.json";
    if let Some(v) = fixture_eval("scorecard-check", no_score, kind, &[("checks", "License")]) {
        assert_passes(&v);
    }
    if let Some(v) = fixture_eval(
        "scorecard-check",
        no_score,
        kind,
        &[("checks", "License"), ("min_aggregate_score", "7")],
    ) {
        assert_eq!(
            assert_fails(&v, 1),
            ["the Scorecard result has no aggregate score; cannot show it reaches 7"]
        );
    }
    if let Some(bytes) = fixture(k8s) {
        assert_eq!(material("s.json", &bytes, None).kind, kind);
    }
}

// ---------------------------------------------------------------------------------
// Declared inputs: the types that drive requirement matching (semantics §4.2).

#[test]
fn declared_inputs_and_their_matching() {
    use comply_core::compatibility::check_arguments;
    use comply_core::resource::{InputType, IntKind};
    use std::collections::BTreeMap;

    let inputs = |name: &str| builtin::policy(name).unwrap().policy.spec.inputs.clone();
    let typed = |name: &str| {
        inputs(name)
            .into_iter()
            .map(|i| (i.name, i.input_type, i.kind, i.default))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        typed("sast-findings"),
        [(
            "severity".into(),
            Some(InputType::Severity),
            None,
            Some("HIGH".into())
        )]
    );
    assert_eq!(
        typed("secrets-absent"),
        [(
            "fail_on_unverified".into(),
            Some(InputType::Bool),
            None,
            Some("true".into())
        )]
    );
    assert_eq!(
        typed("tests-pass"),
        [
            (
                "min_tests".into(),
                Some(InputType::Int),
                Some(IntKind::Min),
                Some("1".into())
            ),
            (
                "fail_on_skipped".into(),
                Some(InputType::Bool),
                None,
                Some("false".into())
            ),
        ]
    );
    assert_eq!(
        typed("scorecard-check"),
        [
            ("checks".into(), Some(InputType::DenyList), None, None),
            (
                "min_score".into(),
                Some(InputType::Int),
                Some(IntKind::Min),
                Some("7".into())
            ),
            (
                "min_aggregate_score".into(),
                Some(InputType::Int),
                Some(IntKind::Min),
                None
            ),
        ]
    );
    for name in [
        "sast-findings",
        "secrets-absent",
        "tests-pass",
        "scorecard-check",
    ] {
        let p = &builtin::policy(name).unwrap().policy;
        assert!(p.metadata.annotations.contains_key("category"), "{name}");
    }
    assert_eq!(
        builtin::policy("sast-findings")
            .unwrap()
            .policy
            .metadata
            .finding_type
            .as_deref(),
        Some("SAST")
    );

    // An evaluation that checks more Scorecard checks, at a higher score, satisfies a
    // requirement asking for fewer at a lower score; not the reverse.
    let args = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    };
    let ok = |eval: &[(&str, &str)], required: &[(&str, &str)]| {
        check_arguments(&inputs("scorecard-check"), &args(eval), &args(required))
            .iter()
            .all(|c| c.compatible)
    };
    assert!(ok(
        &[
            ("checks", "Code-Review,Branch-Protection"),
            ("min_score", "8")
        ],
        &[("checks", "Code-Review"), ("min_score", "7")]
    ));
    assert!(!ok(
        &[("checks", "Code-Review")],
        &[("checks", "Code-Review,Branch-Protection")]
    ));
    assert!(
        !ok(&[], &[("min_score", "8")]),
        "the default 7 is looser than 8"
    );
}
