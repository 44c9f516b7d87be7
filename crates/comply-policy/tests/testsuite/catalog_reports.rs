//! Built-in policies of Chainloop's catalogue over reports: `code-coverage` (JaCoCo,
//! Cobertura), `mutation-score` (PITest), `binary-scan` (BinSkim SARIF),
//! `owasp-top10-2025` and `cwe-findings` (SARIF CWEs), the `ai-config-*` policies
//! (Chainloop AI agent config and coding session), and the `sast`, `cwes` and
//! `ai-config-policies` groups; plus detection of the new formats.

use crate::support::*;
use base64::Engine as _;
use comply_policy::material;
use comply_policy::{Limits, builtin, evaluate_group};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn resolve(name: &str) -> Option<&'static comply_policy::CompiledPolicy> {
    builtin::policy(name)
}

// ------------------------------------------------------------------ coverage

const JACOCO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="calculator">
  <sessioninfo id="build-1" start="1700000000000" dump="1700000005000"/>
  <package name="com/example/app">
    <class name="com/example/app/Calculator" sourcefilename="Calculator.java">
      <method name="add" desc="(II)I" line="5">
        <counter type="INSTRUCTION" missed="0" covered="4"/>
        <counter type="LINE" missed="0" covered="1"/>
      </method>
      <counter type="INSTRUCTION" missed="12" covered="30"/>
    </class>
    <sourcefile name="Calculator.java"><line nr="5" mi="0" ci="4" mb="0" cb="0"/></sourcefile>
    <counter type="INSTRUCTION" missed="12" covered="30"/>
  </package>
  <counter type="INSTRUCTION" missed="12" covered="30"/>
  <counter type="BRANCH" missed="3" covered="5"/>
  <counter type="LINE" missed="4" covered="16"/>
  <counter type="COMPLEXITY" missed="3" covered="7"/>
  <counter type="METHOD" missed="1" covered="5"/>
  <counter type="CLASS" missed="0" covered="1"/>
</report>"#;

const COBERTURA: &str = r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.6667" branch-rate="0.5" lines-covered="4" lines-valid="6" branches-covered="1" branches-valid="2" complexity="3" version="1.9.4.1" timestamp="1700000000000">
  <sources><source>src/main/java</source></sources>
  <packages>
    <package name="com.example.app" line-rate="0.6667" branch-rate="0.5" complexity="3">
      <classes>
        <class name="com.example.app.Calculator" filename="com/example/app/Calculator.java" line-rate="0.6667" branch-rate="0.5" complexity="3">
          <methods/>
          <lines>
            <line number="5" hits="3" branch="false"/>
            <line number="9" hits="1" branch="true" condition-coverage="50% (1/2)"/>
            <line number="10" hits="0" branch="false"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>"#;

#[test]
fn new_formats_are_detected_and_projected() {
    let cases = [
        (JACOCO, "JACOCO_XML", "jacoco"),
        (COBERTURA, "COBERTURA_XML", "cobertura"),
        (PITEST, "PITEST_XML", "pitest"),
    ];
    for (text, kind, format) in cases {
        let m = material("report.xml", text.as_bytes(), None);
        assert_eq!(m.kind, kind);
        assert_eq!(m.normalized.format, format);
    }
    let m = material("jacoco.xml", JACOCO.as_bytes(), None);
    // As Chainloop's projection: the report-level counters only.
    assert_eq!(m.content["counters"].as_array().unwrap().len(), 6);
    assert_eq!(
        m.content["counters"][2],
        json!({"type": "LINE", "missed": 4, "covered": 16})
    );
    let m = material("cobertura.xml", COBERTURA.as_bytes(), None);
    assert_eq!(m.content["lines-valid"], 6);
    assert_eq!(
        m.content["packages"][0]["classes"][0]["lines"][1]["condition-coverage"],
        "50% (1/2)"
    );
    let err = material::load("bad.xml", b"<report><counter></report>", Some("JACOCO_XML"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a readable JaCoCo XML report"), "{err}");
    assert!(material::load("x.xml", b"<html/>", None).is_err());
}

#[test]
fn code_coverage_on_jacoco_and_cobertura() {
    let p = "code-coverage";
    let jacoco = |with: &[(&str, &str)]| eval(p, None, JACOCO, with);
    expect_pass(&jacoco(&[]), "LINE 80% at the default 80");
    expect_fail(
        &jacoco(&[("counter", "instruction"), ("threshold", "75")]),
        "instructions",
        "INSTRUCTION coverage is 71.43% (30 of 42 covered), below the 75% threshold",
    );
    expect_pass(
        &jacoco(&[("counter", "BRANCH"), ("threshold", "62.5")]),
        "decimal threshold",
    );
    expect_fail(
        &jacoco(&[("counter", "LINES")]),
        "bad counter",
        "invalid counter 'LINES'",
    );
    expect_fail(
        &jacoco(&[("threshold", "high")]),
        "bad threshold",
        "threshold must be a percentage",
    );

    let cobertura = |with: &[(&str, &str)]| eval(p, None, COBERTURA, with);
    expect_fail(
        &cobertura(&[]),
        "66.67% lines",
        "LINE coverage is 66.67% (4 of 6 covered), below the 80% threshold",
    );
    expect_pass(&cobertura(&[("threshold", "60")]), "60% is enough");
    expect_fail(
        &cobertura(&[("counter", "METHOD")]),
        "Cobertura has no method counter",
        "the cobertura report has no METHOD counter (it has BRANCH, LINE)",
    );
    let empty = r#"<coverage line-rate="NaN" branch-rate="NaN" lines-covered="0" lines-valid="0" branches-covered="0" branches-valid="0" version="7.4"><packages/></coverage>"#;
    expect_pass(
        &eval(p, None, empty, &[]),
        "an empty report measures nothing",
    );
    let v = eval(p, Some("JACOCO_XML"), JACOCO, &[]);
    assert!(v.passed());
}

// ------------------------------------------------------------------ mutations

const PITEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<mutations partial="false">
<mutation detected='true' status='KILLED' numberOfTestsRun='3'><sourceFile>Calculator.java</sourceFile><mutatedClass>com.example.app.Calculator</mutatedClass><mutatedMethod>add</mutatedMethod><methodDescription>(II)I</methodDescription><lineNumber>5</lineNumber><mutator>org.pitest.mutationtest.engine.gregor.mutators.MathMutator</mutator><indexes><index>2</index></indexes><blocks><block>0</block></blocks><killingTest>com.example.app.CalculatorTest.[engine:junit-jupiter]/[method:adds()]</killingTest><description>Replaced integer addition with subtraction</description></mutation>
<mutation detected='true' status='KILLED' numberOfTestsRun='3'><sourceFile>Calculator.java</sourceFile><mutatedClass>com.example.app.Calculator</mutatedClass><mutatedMethod>add</mutatedMethod><methodDescription>(II)I</methodDescription><lineNumber>5</lineNumber><mutator>org.pitest.mutationtest.engine.gregor.mutators.returns.PrimitiveReturnsMutator</mutator><indexes><index>3</index></indexes><blocks><block>0</block></blocks><killingTest>com.example.app.CalculatorTest.[method:adds()]</killingTest><description>replaced int return with 0</description></mutation>
<mutation detected='true' status='TIMED_OUT' numberOfTestsRun='1'><sourceFile>Calculator.java</sourceFile><mutatedClass>com.example.app.Calculator</mutatedClass><mutatedMethod>loop</mutatedMethod><methodDescription>()V</methodDescription><lineNumber>14</lineNumber><mutator>org.pitest.mutationtest.engine.gregor.mutators.ConditionalsBoundaryMutator</mutator><indexes><index>7</index></indexes><blocks><block>1</block></blocks><killingTest/><description>changed conditional boundary</description></mutation>
<mutation detected='false' status='SURVIVED' numberOfTestsRun='2'><sourceFile>Calculator.java</sourceFile><mutatedClass>com.example.app.Calculator</mutatedClass><mutatedMethod>divide</mutatedMethod><methodDescription>(II)I</methodDescription><lineNumber>9</lineNumber><mutator>org.pitest.mutationtest.engine.gregor.mutators.NegateConditionalsMutator</mutator><indexes><index>4</index></indexes><blocks><block>0</block></blocks><killingTest/><description>negated conditional</description></mutation>
<mutation detected='false' status='NO_COVERAGE' numberOfTestsRun='0'><sourceFile>Calculator.java</sourceFile><mutatedClass>com.example.app.Calculator</mutatedClass><mutatedMethod>reset</mutatedMethod><methodDescription>()V</methodDescription><lineNumber>20</lineNumber><mutator>org.pitest.mutationtest.engine.gregor.mutators.VoidMethodCallMutator</mutator><indexes><index>1</index></indexes><blocks><block>0</block></blocks><killingTest/><description>removed call to clear</description></mutation>
</mutations>"#;

#[test]
fn mutation_score_on_pitest() {
    let p = "mutation-score";
    let m = material("mutations.xml", PITEST.as_bytes(), None);
    let s = m.normalized.mutations.as_ref().unwrap();
    assert_eq!(
        (s.total, s.detected, s.survived, s.no_coverage),
        (5, 3, 1, 1)
    );
    expect_pass(&eval(p, None, PITEST, &[]), "60% score at the default 60");
    expect_fail(
        &eval(p, None, PITEST, &[("threshold", "70")]),
        "score 60",
        "mutation_score is 60.00% (3 detected of 5 mutations, 1 survived, 1 without coverage), below the 70% threshold",
    );
    expect_pass(
        &eval(
            p,
            None,
            PITEST,
            &[("metric", "test_strength"), ("threshold", "75")],
        ),
        "strength 75",
    );
    expect_fail(
        &eval(
            p,
            None,
            PITEST,
            &[("metric", "strength"), ("threshold", "80")],
        ),
        "strength alias",
        "test_strength is 75.00%",
    );
    expect_fail(
        &eval(p, None, PITEST, &[("metric", "coverage")]),
        "bad metric",
        "invalid metric 'coverage'",
    );
    expect_fail(
        &eval(p, None, "<mutations partial=\"false\"/>", &[]),
        "empty",
        "holds no mutations",
    );
}

// ------------------------------------------------------------------ binary scan

fn binskim(results: Value) -> String {
    json!({
        "version": "2.1.0",
        "$schema": "https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.5.json",
        "runs": [{
            "tool": {"driver": {"name": "BinSkim", "version": "4.3.1", "rules": [
                {"id": "BA2008", "name": "EnableControlFlowGuard", "defaultConfiguration": {"level": "warning"}},
                {"id": "BA3003", "name": "EnableStackProtector"}
            ]}},
            "results": results
        }]
    })
    .to_string()
}

fn result(rule: &str, level: Option<&str>, kind: Option<&str>) -> Value {
    let mut r = json!({
        "ruleId": rule,
        "message": {"id": "Error", "arguments": ["app.exe"]},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///build/app.exe"}}}]
    });
    if let Some(l) = level {
        r["level"] = l.into();
    }
    if let Some(k) = kind {
        r["kind"] = k.into();
    }
    r
}

#[test]
fn binary_scan_on_binskim_sarif() {
    let p = "binary-scan";
    let doc = binskim(json!([
        result("BA3003", Some("error"), None),
        result("BA2008", None, None),
        result("BA2009", Some("none"), Some("pass")),
    ]));
    let m = expect_fail(
        &eval(p, None, &doc, &[]),
        "error result",
        "error BA3003 (EnableStackProtector) in file:///build/app.exe",
    );
    assert_eq!(
        m.len(),
        1,
        "the warning (rule default) is below error: {m:?}"
    );
    let m = expect_fail(
        &eval(p, None, &doc, &[("severity", "warning")]),
        "warning",
        "warning BA2008 (EnableControlFlowGuard)",
    );
    assert_eq!(m.len(), 2, "the pass result never counts: {m:?}");
    expect_pass(
        &eval(p, None, &doc, &[("rules", "BA2008")]),
        "only BA2008, at error",
    );
    expect_fail(
        &eval(p, None, &doc, &[("rules", "BA2008;warning")]),
        "rule with its own level",
        "warning BA2008",
    );
    expect_fail(
        &eval(p, None, &doc, &[("severity", "high")]),
        "bad level",
        "invalid severity 'high'",
    );
    let other = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]});
    expect_skip(
        &eval(p, None, &other.to_string(), &[]),
        "CodeQL",
        "not from BinSkim",
    );

    if let Some(bytes) = fixture("sarif/binskim-gcc.execstack.sarif") {
        let v = eval_material(
            p,
            &material("binskim.sarif", &bytes, None),
            &[],
            &Value::Null,
        );
        let m = expect_fail(&v, "fixture", "error BA3002");
        assert_eq!(m.len(), 5, "five error results, two passes: {m:?}");
    }
}

// ------------------------------------------------------------------ CWEs

fn codeql(results: Value) -> String {
    json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "CodeQL", "rules": [
                {"id": "js/sql-injection", "properties": {"tags": ["security", "external/cwe/cwe-089"], "security-severity": "8.8"}},
                {"id": "js/log-injection", "properties": {"tags": ["security", "external/cwe/cwe-117"], "security-severity": "7.8"}},
                {"id": "js/unused-local-variable", "properties": {"tags": ["maintainability"]}}
            ]}},
            "results": results
        }]
    })
    .to_string()
}

fn at(rule: &str, line: u64) -> Value {
    json!({"ruleId": rule, "level": "error", "message": {"text": "problem"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/db.js"}, "region": {"startLine": line}}}]})
}

#[test]
fn owasp_top10_2025_maps_cwes_to_categories() {
    let p = "owasp-top10-2025";
    let doc = codeql(json!([
        at("js/sql-injection", 12),
        at("js/log-injection", 30),
        at("js/unused-local-variable", 3)
    ]));
    let m = expect_fail(
        &eval(p, None, &doc, &[]),
        "injection",
        "A05:2025 Injection: CodeQL js/sql-injection at src/db.js:12 (CWE-89)",
    );
    assert!(
        m.iter().any(|x| x.starts_with(
            "A09:2025 Security Logging and Alerting Failures: CodeQL js/log-injection"
        )),
        "{m:?}"
    );
    assert_eq!(m.len(), 2, "a result without CWE is not judged: {m:?}");
    let mut suppressed = at("js/sql-injection", 12);
    suppressed["suppressions"] = json!([{"kind": "external", "status": "accepted"}]);
    let doc = codeql(json!([suppressed, at("js/unused-local-variable", 3)]));
    expect_pass(&eval(p, None, &doc, &[]), "suppressed and untagged results");
    if let Some(bytes) = fixture("sarif/codeql-javascript-builtin.sarif") {
        let v = eval_material(
            p,
            &material("codeql.sarif", &bytes, None),
            &[],
            &Value::Null,
        );
        let m = expect_fail(&v, "CodeQL on WebGoat", "A05:2025 Injection: CodeQL js/");
        assert!(
            m.iter().all(|x| x.starts_with('A') && x.contains(":2025 ")),
            "{m:?}"
        );
    }
}

#[test]
fn cwe_findings_and_the_cwes_and_sast_groups() {
    let p = "cwe-findings";
    let doc = codeql(json!([
        at("js/sql-injection", 12),
        at("js/log-injection", 30)
    ]));
    let m = expect_fail(
        &eval(p, None, &doc, &[]),
        "top 25",
        "js/sql-injection at src/db.js:12 has banned weakness CWE-89",
    );
    assert_eq!(m.len(), 1, "CWE-117 is not in the Top 25: {m:?}");
    expect_fail(
        &eval(p, None, &doc, &[("cwes", "CWE-117")]),
        "given list",
        "CWE-117",
    );
    expect_pass(&eval(p, None, &doc, &[("cwes", "798")]), "unrelated CWE");
    expect_fail(
        &eval(p, None, &doc, &[("cwes", "XSS")]),
        "bad input",
        "invalid CWE 'XSS'",
    );

    let m = material("codeql.sarif", doc.as_bytes(), None);
    let run = |group: &str, with: &[(&str, &str)]| {
        let args: BTreeMap<String, String> = with
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        evaluate_group(
            builtin::group(group).unwrap(),
            &args,
            std::slice::from_ref(&m),
            resolve,
            NOW_MS,
            &Value::Null,
            &Limits::default(),
        )
        .unwrap()
    };
    let results = run("cwes", &[]);
    assert_eq!(results.len(), 1);
    expect_fail(&results[0].outcome.verdict, "cwes group", "CWE-89");
    let results = run("sast", &[]);
    let policies: Vec<&str> = results.iter().map(|r| r.policy.as_str()).collect();
    assert_eq!(policies, ["sast-findings", "owasp-top10-2025"]);
    expect_fail(
        &results[0].outcome.verdict,
        "sast at HIGH",
        "HIGH js/sql-injection",
    );
    assert_eq!(
        results[0].outcome.args.get("severity").map(String::as_str),
        Some("HIGH")
    );
}

// ------------------------------------------------------------------ AI agents

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn agent_config(agent: &str, servers: Value, files: &[(&str, &str)]) -> String {
    json!({
        "chainloop.material.evidence.id": "CHAINLOOP_AI_AGENT_CONFIG",
        "schema": "https://schemas.chainloop.dev/aiagentconfig/0.1/ai-agent-config.schema.json",
        "data": {
            "agent": {"name": agent},
            "config_hash": "5d41402abc4b2a76b9719d911017c592",
            "captured_at": "2026-03-25T15:00:00Z",
            "git_context": {"repository": "git@github.com:acme/api.git", "branch": "main", "commit_sha": "ae79df1"},
            "config_files": files.iter().map(|(path, text)| json!({
                "path": path, "kind": if path.ends_with(".md") { "instruction" } else { "configuration" },
                "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "size": text.len(), "content": b64(text)
            })).collect::<Vec<_>>(),
            "mcp_servers": servers
        }
    })
    .to_string()
}

fn session(commands: &[&str], tools: &[&str]) -> String {
    let mut content: Vec<Value> = commands
        .iter()
        .map(|c| json!({"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": c, "description": "run"}}))
        .collect();
    content.push(json!({"type": "text", "text": "Done."}));
    json!({
        "chainloop.material.evidence.id": "CHAINLOOP_AI_CODING_SESSION",
        "schema": "https://schemas.chainloop.dev/aicodingsession/0.1/ai-coding-session.schema.json",
        "data": {
            "schema_version": "v1",
            "agent": {"name": "claude-code", "version": "2.1.83"},
            "session": {"id": "fa8acbe6-a176-4c2a-b51e-fd4541615eb5", "started_at": "2026-03-25T15:10:49.161Z", "duration_seconds": 6505},
            "tools_used": {"summary": tools.iter().map(|t| json!({"tool_name": t, "invocation_count": 1})).collect::<Vec<_>>(), "total_invocations": tools.len()},
            "raw_session": {"main": [
                {"type": "user", "message": {"role": "user", "content": "add a --bye flag"}, "timestamp": "2026-03-25T15:13:37.330Z"},
                {"type": "assistant", "message": {"role": "assistant", "content": content}}
            ]}
        }
    })
    .to_string()
}

#[test]
fn ai_materials_are_detected() {
    let m = material(
        "ai.json",
        agent_config("claude", json!([]), &[]).as_bytes(),
        None,
    );
    assert_eq!(
        (m.kind.as_str(), m.normalized.format.as_str()),
        ("CHAINLOOP_AI_AGENT_CONFIG", "ai-agent-config")
    );
    let m = material("s.json", session(&[], &[]).as_bytes(), None);
    assert_eq!(
        (m.kind.as_str(), m.normalized.format.as_str()),
        ("CHAINLOOP_AI_CODING_SESSION", "ai-coding-session")
    );
}

#[test]
fn ai_config_agents_allowed() {
    let p = "ai-config-ai-agents-allowed";
    let config = agent_config("claude", json!([]), &[]);
    expect_pass(
        &eval(p, None, &config, &[("allowed_agents", "Claude, cursor")]),
        "allowed",
    );
    expect_fail(
        &eval(p, None, &config, &[("allowed_agents", "cursor")]),
        "not allowed",
        "agent 'claude' of the AI agent configuration is not allowed (allowed: cursor)",
    );
    expect_skip(
        &eval(p, None, &config, &[]),
        "no list",
        "no allowed agents were given",
    );
    let s = session(&[], &[]);
    expect_fail(
        &eval(p, None, &s, &[("allowed_agents", "claude")]),
        "session agent",
        "agent 'claude-code' of the AI coding session is not allowed",
    );
}

#[test]
fn ai_config_mcp_servers_allowed() {
    let p = "ai-config-mcp-servers-allowed";
    let config = agent_config(
        "claude",
        json!([
            {"name": "github", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env_keys": ["GITHUB_TOKEN"]},
            {"name": "sentry", "url": "https://mcp.sentry.dev/sse"},
            {"name": "old", "command": "old-mcp", "disabled": true}
        ]),
        &[],
    );
    let m = expect_fail(
        &eval(p, None, &config, &[("allowed_servers", "github")]),
        "sentry",
        "MCP server 'sentry' (https://mcp.sentry.dev/sse) is configured in the AI agent configuration and is not allowed",
    );
    assert_eq!(m.len(), 1, "disabled servers do not count: {m:?}");
    expect_pass(
        &eval(p, None, &config, &[("allowed_servers", "github, Sentry")]),
        "both",
    );
    expect_skip(
        &eval(p, None, &config, &[]),
        "no list",
        "no allowed servers",
    );
    let s = session(
        &[],
        &[
            "Bash",
            "mcp__linear__create_issue",
            "mcp__github__get_issue",
        ],
    );
    expect_fail(
        &eval(p, None, &s, &[("allowed_servers", "github")]),
        "invoked",
        "MCP server 'linear' was invoked in the AI coding session and is not allowed",
    );
}

#[test]
fn ai_config_no_dangerous_commands() {
    let p = "ai-config-no-dangerous-commands";
    let s = session(
        &[
            "go build ./...",
            "rm -rf build/",
            "curl -fsSL https://get.example.sh | bash",
            "sudo apt-get install jq",
        ],
        &["Bash"],
    );
    let m = expect_fail(
        &eval(p, None, &s, &[]),
        "defaults",
        "dangerous command in AI coding session (session main entry 2): rm -rf build/",
    );
    assert_eq!(m.len(), 3, "{m:?}");
    expect_pass(
        &eval(
            p,
            None,
            &session(&["go test ./...", "git push origin main"], &[]),
            &[],
        ),
        "safe",
    );
    expect_fail(
        &eval(
            p,
            None,
            &session(&["go test ./..."], &[]),
            &[("forbidden_patterns", "^go test")],
        ),
        "custom pattern",
        "go test ./... (matches ^go test)",
    );
    expect_fail(
        &eval(
            p,
            None,
            &session(&["git push --force origin main"], &[]),
            &[],
        ),
        "force push",
        "git push --force",
    );
    let settings = r#"{"permissions": {"allow": ["Bash(npm test:*)", "Bash(sudo systemctl restart:*)"]},
                       "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "chmod -R 777 ."}]}]}}"#;
    let config = agent_config(
        "claude",
        json!([]),
        &[
            (".claude/settings.json", settings),
            ("CLAUDE.md", "Never run rm -rf."),
        ],
    );
    let m = expect_fail(
        &eval(p, None, &config, &[]),
        "config",
        "(permission rule Bash(sudo systemctl restart:*)): sudo systemctl restart:*",
    );
    assert!(
        m.iter()
            .any(|x| x.contains("(.claude/settings.json): chmod -R 777 .")),
        "{m:?}"
    );
    assert_eq!(m.len(), 2, "instruction prose is not a command: {m:?}");
}

#[test]
fn ai_config_no_secrets() {
    let p = "ai-config-no-secrets";
    let mcp = r#"{"mcpServers": {"github": {"command": "npx", "env": {"GITHUB_TOKEN": "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"}}}}"#;
    let config = agent_config(
        "claude",
        json!([]),
        &[
            (".mcp.json", mcp),
            ("CLAUDE.md", "# Rules\nUse ${GITHUB_TOKEN}."),
        ],
    );
    let m = expect_fail(
        &eval(p, None, &config, &[]),
        "token in .mcp.json",
        "GitHub token in AI agent configuration (.mcp.json): ghp_…",
    );
    assert!(
        m.iter().all(|x| !x.contains("aB3dE5")),
        "secrets are redacted: {m:?}"
    );
    expect_pass(
        &eval(
            p,
            None,
            &agent_config(
                "claude",
                json!([]),
                &[("CLAUDE.md", "password: use the vault")],
            ),
            &[],
        ),
        "no secret",
    );
    let s = session(
        &["export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE && aws s3 ls"],
        &[],
    );
    expect_fail(
        &eval(p, None, &s, &[]),
        "key in a command",
        "AWS access key id in AI coding session (session main entry 2 (Bash input)): AKIA…",
    );
    expect_pass(&eval(p, None, &session(&["ls"], &[]), &[]), "clean session");
}

#[test]
fn ai_config_policies_group_runs_every_check() {
    let m = material(
        "ai.json",
        agent_config("claude", json!([{"name": "github", "command": "npx"}]), &[]).as_bytes(),
        None,
    );
    let args: BTreeMap<String, String> =
        [("allowed_agents", "claude"), ("allowed_servers", "github")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    let results = evaluate_group(
        builtin::group("ai-config-policies").unwrap(),
        &args,
        std::slice::from_ref(&m),
        resolve,
        NOW_MS,
        &Value::Null,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(
        results.iter().all(|r| r.outcome.verdict.passed()),
        "{results:?}"
    );
}

// ------------------------------------------------------------------ fuzzing

#[test]
fn radamsa_min_iterations() {
    let p = "radamsa-min-iterations";
    let mut log = String::from("seed: 705693910129640559698481\n");
    for n in 1..=120 {
        log.push_str(&format!(
            "muta-num: 1, generator: file, checksum: \"CF5DA754A292766FAA5465{n:02X}\", nth: {n}, path: \"/tmp/m/sample_{n}.eds\", output: file-writer, length: 16892, pattern: many-dec\n"
        ));
    }
    let kind = Some("RADAMSA_REPORT");
    expect_pass(
        &eval(p, kind, &log, &[("min_iterations", "100")]),
        "120 of 100",
    );
    expect_fail(
        &eval(p, kind, &log, &[]),
        "default 1000",
        "the radamsa run generated 120 test cases, fewer than the 1000 required",
    );
    expect_fail(
        &eval(p, kind, &log, &[("min_iterations", "many")]),
        "bad input",
        "must be a whole number",
    );
    let m = material("radamsa.txt", log.as_bytes(), kind);
    assert_eq!(m.content.as_array().unwrap().len(), 121);
    let err = material::load("r.txt", b"no pairs here", kind)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1"), "{err}");
}
