//! One Rego module, compiled once and evaluated many times.

use crate::boilerplate;
use crate::error::PolicyError;
use crate::input::Needs;
use crate::network::Network;
use crate::verdict::Verdict;
use regorus::Engine;
use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::Value;
use std::num::NonZeroU32;
use std::time::Duration;

/// Which Rego dialect a module was written in. Chainloop parses with OPA's
/// v0-compatible parser, so both occur in the wild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    V1,
    V0,
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock budget of one evaluation.
    pub time: Duration,
    /// The hosts `http.send` may reach; none by default (decision 0025).
    pub network: Network,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(10),
            network: Network::default(),
        }
    }
}

/// A compiled policy script. Cloning the engine per evaluation is cheap and keeps
/// evaluations independent.
#[derive(Clone)]
pub struct Script {
    policy: String,
    engine: Engine,
    rule: String,
    syntax: Syntax,
    /// The module as evaluated, boilerplate included.
    source: String,
    /// The parts of `input` the module can read.
    needs: Needs,
}

/// Converts JSON for the engine: the same value as printing it and parsing the text
/// with `regorus::Value::from_json_str`, built directly (see `crate::input`).
pub fn to_rego(value: &Value) -> regorus::Value {
    crate::input::json_to_rego(value)
}

/// Reference data (`data.*`) converted for the engine; `None` when there is none.
pub(crate) fn reference_data(data: &Value) -> Option<regorus::Value> {
    (!data.is_null()).then(|| to_rego(data))
}

/// Builtins a policy may not call: they would make results depend on the network, on
/// chance or on the machine.
const FORBIDDEN: &[(&str, u8, &str)] = &[
    (
        "rand.intn",
        2,
        "random numbers would make results unrepeatable",
    ),
    (
        "uuid.rfc4122",
        1,
        "random identifiers would make results unrepeatable",
    ),
    (
        "net.lookup_ip_addr",
        1,
        "network access is not allowed in policies",
    ),
];

fn parse(path: &str, source: &str, syntax: Syntax) -> Result<(Engine, String), String> {
    let mut engine = Engine::new();
    engine.set_rego_v0(syntax == Syntax::V0);
    engine.set_strict_builtin_errors(true);
    let package = engine
        .add_policy(path.to_owned(), source.to_owned())
        .map_err(|e| e.to_string())?;
    Ok((engine, package))
}

const NO_NETWORK: &str = "http.send: network access is not allowed in policies (comply policy eval --allowed-hostnames, or the org setting policy_allowed_hostnames, lets a policy reach listed hosts)";

/// Makes the impure builtins fail (see `FORBIDDEN`). `http.send` is added per
/// evaluation instead (an engine keeps the first extension of a name), so that one
/// compiled script serves sealed and networked evaluations alike.
fn seal(engine: &mut Engine, policy: &str) -> Result<(), PolicyError> {
    for (name, nargs, reason) in FORBIDDEN {
        let message = format!("{name}: {reason}");
        engine
            .add_extension(
                (*name).to_owned(),
                *nargs,
                Box::new(move |_| -> anyhow::Result<regorus::Value> {
                    Err(anyhow::anyhow!(message.clone()))
                }),
            )
            .map_err(|e| crate::error::compile_error(policy, &e.to_string()))?;
    }
    Ok(())
}

/// Parses with v1 syntax, else v0; returns the engine, its package and the syntax.
fn parse_any(
    policy: &str,
    path: &str,
    source: &str,
) -> Result<(Engine, String, Syntax), PolicyError> {
    match parse(path, source, Syntax::V1) {
        Ok((engine, package)) => Ok((engine, package, Syntax::V1)),
        Err(v1_error) => match parse(path, source, Syntax::V0) {
            Ok((engine, package)) => Ok((engine, package, Syntax::V0)),
            Err(_) => Err(crate::error::compile_error(policy, &v1_error)),
        },
    }
}

impl Script {
    /// Compiles a module: v1 syntax first, then v0; missing result rules injected.
    /// `policy` names the policy in errors.
    pub fn compile(policy: &str, source: &str) -> Result<Script, PolicyError> {
        let path = format!("{policy}.rego");
        let (scratch, _, syntax) = parse_any(policy, &path, source)?;
        let declared = |name: &str| {
            scratch
                .has_declared_rule_rooted_at(&path, name)
                .unwrap_or(false)
        };
        let full = boilerplate::inject(
            source,
            declared,
            syntax == Syntax::V1 || source.contains("rego.v1"),
        );
        let (mut engine, package) = parse(&path, &full, syntax).map_err(|message| {
            crate::error::compile_error(
                policy,
                &format!("after adding the standard result rules: {message}"),
            )
        })?;
        seal(&mut engine, policy)?;
        let rule = format!("{package}.result");
        // Evaluating once prepares the engine (rule analysis, scheduling, loop hoisting);
        // every clone then starts prepared instead of repeating that work. The result on
        // an empty input is irrelevant, and a tight time limit keeps a costly policy from
        // running here: preparation happens before evaluation starts.
        engine.set_input(regorus::Value::new_object());
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: Duration::from_millis(20),
            check_interval: NonZeroU32::new(16).expect("non-zero"),
        });
        let _ = engine.eval_rule(rule.clone());
        engine.clear_execution_timer_config();
        Ok(Script {
            policy: policy.to_owned(),
            engine,
            rule,
            syntax,
            needs: crate::input::scan(&full),
            source: full,
        })
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// The module as evaluated, with the injected boilerplate (for comparing engines).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parts of `input` the module can read: an evaluation from a prepared input
    /// gives it those only.
    pub(crate) fn needs(&self) -> &Needs {
        &self.needs
    }

    /// The rule queried, e.g. `data.main.result`.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// Evaluates against `input` (the material, with `args` and `chainloop_metadata`
    /// already set). `now_ms` is what `time.now_ns` returns.
    pub fn evaluate(
        &self,
        input: Value,
        data: &Value,
        now_ms: i64,
        limits: &Limits,
    ) -> Result<Verdict, PolicyError> {
        self.evaluate_value(to_rego(&input), data, now_ms, limits)
    }

    /// Like [`Script::evaluate`], with the input already converted (see
    /// [`to_rego`]): converting a large material once and sharing it between the
    /// policies that read it is most of the cost saved.
    pub fn evaluate_value(
        &self,
        input: regorus::Value,
        data: &Value,
        now_ms: i64,
        limits: &Limits,
    ) -> Result<Verdict, PolicyError> {
        let data = reference_data(data);
        self.evaluate_converted(input, data.as_ref(), now_ms, limits)
    }

    /// Like [`Script::evaluate_value`], with the reference data converted too (see
    /// [`reference_data`]): the same data is converted once for many evaluations.
    pub(crate) fn evaluate_converted(
        &self,
        input: regorus::Value,
        data: Option<&regorus::Value>,
        now_ms: i64,
        limits: &Limits,
    ) -> Result<Verdict, PolicyError> {
        let mut engine = self.engine.clone();
        if let Some(data) = data {
            engine
                .add_data(data.clone())
                .map_err(|e| self.eval_error(format!("reference data: {e}")))?;
        }
        let now_ns = i128::from(now_ms) * 1_000_000;
        engine
            .add_extension(
                "time.now_ns".to_owned(),
                0,
                Box::new(move |_| -> anyhow::Result<regorus::Value> {
                    Ok(regorus::Value::from(now_ns as i64))
                }),
            )
            .map_err(|e| self.eval_error(e.to_string()))?;
        let network = limits.network.clone();
        let budget = limits.time;
        engine
            .add_extension(
                "http.send".to_owned(),
                1,
                Box::new(
                    move |args: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
                        if !network.is_enabled() {
                            anyhow::bail!(NO_NETWORK);
                        }
                        network.send(&args[0], budget)
                    },
                ),
            )
            .map_err(|e| self.eval_error(e.to_string()))?;
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.time,
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        });
        engine.set_input(input);
        let result = engine.eval_rule(self.rule.clone()).map_err(|e| {
            let message = e.to_string();
            if message.contains("time limit") || message.contains("TimeLimit") {
                PolicyError::Timeout {
                    policy: self.policy.clone(),
                    limit_ms: limits.time.as_millis() as u64,
                }
            } else {
                self.eval_error(message)
            }
        })?;
        if result == regorus::Value::Undefined {
            return Err(self.eval_error("the policy produced no `result`".into()));
        }
        let json = serde_json::to_value(&result).map_err(|e| self.eval_error(e.to_string()))?;
        Verdict::from_result(&json).map_err(|m| self.eval_error(m))
    }

    fn eval_error(&self, message: String) -> PolicyError {
        PolicyError::Eval {
            policy: self.policy.clone(),
            message,
        }
    }
}

/// A Chainloop `autoMatch` module (chainloop-formats §12.7): `matches_parameters`
/// decides whether an evaluation's arguments fit a requirement's, and
/// `matches_evaluation` may veto a passing verdict.
#[derive(Clone)]
pub struct AutoMatch {
    policy: String,
    engine: Engine,
    package: String,
    path: String,
}

impl AutoMatch {
    pub fn compile(policy: &str, source: &str) -> Result<AutoMatch, PolicyError> {
        let path = format!("{policy}.automatch.rego");
        let (mut engine, package, _) = parse_any(policy, &path, source)?;
        seal(&mut engine, policy)?;
        // Hooks run inside status computation: never networked.
        engine
            .add_extension(
                "http.send".to_owned(),
                1,
                Box::new(|_| -> anyhow::Result<regorus::Value> { anyhow::bail!(NO_NETWORK) }),
            )
            .map_err(|e| crate::error::compile_error(policy, &e.to_string()))?;
        Ok(AutoMatch {
            policy: policy.to_owned(),
            engine,
            package,
            path,
        })
    }

    fn eval_bool(
        &self,
        rule: &str,
        input: Value,
        missing: bool,
        limits: &Limits,
    ) -> Result<bool, PolicyError> {
        if !self
            .engine
            .has_declared_rule_rooted_at(&self.path, rule)
            .unwrap_or(false)
        {
            return Ok(missing);
        }
        let mut engine = self.engine.clone();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.time,
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        });
        engine.set_input(regorus::Value::from(input));
        let value = engine
            .eval_rule(format!("{}.{rule}", self.package))
            .map_err(|e| PolicyError::Eval {
                policy: self.policy.clone(),
                message: format!("{rule}: {e}"),
            })?;
        // A missing or non-boolean rule takes the documented default.
        Ok(match value {
            regorus::Value::Bool(b) => b,
            _ => missing,
        })
    }

    /// Whether the module defines `rule` (`matches_parameters`, `matches_evaluation`):
    /// a module without a rule leaves that decision to comply's typed comparison.
    pub fn has_rule(&self, rule: &str) -> bool {
        self.engine
            .has_declared_rule_rooted_at(&self.path, rule)
            .unwrap_or(false)
    }

    /// Raw argument strings (not split), as Chainloop passes them. Missing rule: false.
    pub fn matches_parameters(
        &self,
        args: &std::collections::BTreeMap<String, String>,
        expected: &std::collections::BTreeMap<String, String>,
        limits: &Limits,
    ) -> Result<bool, PolicyError> {
        let input = serde_json::json!({"args": args, "expected_args": expected});
        self.eval_bool("matches_parameters", input, false, limits)
    }

    /// Missing rule: true (no veto).
    pub fn matches_evaluation(
        &self,
        violations: &[String],
        expected: &std::collections::BTreeMap<String, String>,
        limits: &Limits,
    ) -> Result<bool, PolicyError> {
        let input = serde_json::json!({"violations": violations, "expected_args": expected});
        self.eval_bool("matches_evaluation", input, true, limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str, input: Value) -> Verdict {
        Script::compile("test", source)
            .unwrap()
            .evaluate(input, &Value::Null, 1_700_000_000_000, &Limits::default())
            .unwrap()
    }

    const MINIMAL: &str = r#"package main

import rego.v1

violations contains msg if {
	not has_commit
	msg := "missing commit in statement"
}

has_commit if {
	some sub in input.subject
	sub.name == "git.head"
}
"#;

    #[test]
    fn auto_match_hooks_and_their_defaults() {
        let source = r#"package automatch
import rego.v1
order := {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
matches_parameters if order[input.args.severity] <= order[input.expected_args.severity]
"#;
        let m = AutoMatch::compile("vulnerabilities", source).unwrap();
        let map =
            |v: &str| std::collections::BTreeMap::from([("severity".to_owned(), v.to_owned())]);
        let limits = Limits::default();
        assert!(
            m.matches_parameters(&map("MEDIUM"), &map("HIGH"), &limits)
                .unwrap()
        );
        assert!(
            !m.matches_parameters(&map("CRITICAL"), &map("HIGH"), &limits)
                .unwrap(),
            "undefined is false"
        );
        assert!(
            m.matches_evaluation(&[], &map("HIGH"), &limits).unwrap(),
            "missing rule accepts"
        );
        let vetoing = AutoMatch::compile(
            "p",
            "package a\nimport rego.v1\nmatches_evaluation := count(input.violations) == 0\n",
        )
        .unwrap();
        assert!(
            !vetoing
                .matches_evaluation(&["x".into()], &map("HIGH"), &limits)
                .unwrap()
        );
        assert!(
            !vetoing
                .matches_parameters(&map("LOW"), &map("HIGH"), &limits)
                .unwrap(),
            "missing rule rejects"
        );
    }

    #[test]
    fn minimal_policy_gets_the_boilerplate() {
        let failing = eval(MINIMAL, json!({"subject": []}));
        assert!(!failing.skipped);
        assert_eq!(failing.violations[0].message, "missing commit in statement");
        let passing = eval(MINIMAL, json!({"subject": [{"name": "git.head"}]}));
        assert!(passing.passed());
    }

    #[test]
    fn valid_input_sniff_skips_with_the_standard_reason() {
        let source = "package main\nimport rego.v1\nvalid_input if input.bomFormat == \"CycloneDX\"\nviolations contains \"x\" if false\n";
        let v = eval(source, json!({"spdxVersion": "SPDX-2.3"}));
        assert!(v.skipped && !v.passed());
        assert_eq!(v.skip_reasons, ["the file content is not recognized"]);
        assert!(!eval(source, json!({"bomFormat": "CycloneDX"})).skipped);
    }

    #[test]
    fn v0_syntax_compiles() {
        let source = "package main\n\nviolations[msg] {\n  input.x > 1\n  msg := sprintf(\"x is %v\", [input.x])\n}\n";
        let script = Script::compile("legacy", source).unwrap();
        assert_eq!(script.syntax(), Syntax::V0);
        let v = script
            .evaluate(json!({"x": 3}), &Value::Null, 0, &Limits::default())
            .unwrap();
        assert_eq!(v.violations[0].message, "x is 3");
    }

    #[test]
    fn explicit_result_and_findings() {
        let source = r#"package p
import rego.v1
result := {"skipped": false, "violations": [], "findings": [{"message": "CVE-1 in a", "external_id": "CVE-1", "severity": "HIGH", "package_purl": "pkg:npm/a@1"}, {"message": "CVE-2", "external_id": "CVE-2", "severity": "LOW", "package_purl": "pkg:npm/b@1", "suppress": true}]}
"#;
        let v = eval(source, json!({}));
        assert_eq!(v.violations.len(), 2);
        assert_eq!(
            v.violations[0].finding.as_ref().unwrap()["severity"],
            "HIGH"
        );
        assert!(v.violations[1].suppress);
        assert!(!v.passed());
    }

    #[test]
    fn unicode_regex_classes_work() {
        let source = "package main\nimport rego.v1\nviolations contains \"spaces\" if regex.match(`\\s+\\w`, input.text)\n";
        let v = eval(source, json!({"text": "a  b"}));
        assert_eq!(v.violations[0].message, "spaces");
    }

    #[test]
    fn now_is_the_callers() {
        let source = "package main\nimport rego.v1\nviolations contains sprintf(\"%d\", [time.now_ns()]) if true\n";
        let v = eval(source, json!({}));
        assert_eq!(v.violations[0].message, "1700000000000000000");
    }

    #[test]
    fn network_is_refused() {
        let source = "package main\nimport rego.v1\nviolations contains \"x\" if {\n  r := http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:1\"})\n  r.status_code == 200\n}\n";
        let err = Script::compile("net", source)
            .unwrap()
            .evaluate(json!({}), &Value::Null, 0, &Limits::default())
            .unwrap_err();
        assert!(
            err.to_string().contains("network access is not allowed"),
            "{err}"
        );
    }

    /// A loopback server answering each connection with `body` as JSON; returns its
    /// port and the requests it saw (request line and headers, then body).
    fn loopback(body: &'static str) -> (u16, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (seen, requests) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    head.push_str(&line);
                }
                let mut content = vec![0; length];
                reader.read_exact(&mut content).unwrap();
                head.push_str(&String::from_utf8_lossy(&content));
                let _ = seen.send(head);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        (port, requests)
    }

    const NETWORKED: &str = r#"package main
import rego.v1
violations contains sprintf("version %s", [r.body.version]) if {
  r := http.send({"method": "POST", "url": input.url, "body": {"ask": "version"}, "timeout": "5s"})
  r.status_code == 200
  r.body.version != input.expected
}
"#;

    #[test]
    fn listed_hosts_are_reachable() {
        let (port, requests) = loopback(r#"{"version": "v1.2.3"}"#);
        let script = Script::compile("net", NETWORKED).unwrap();
        let limits = Limits {
            network: Network::allow(["127.0.0.1"]),
            ..Limits::default()
        };
        let url = format!("http://127.0.0.1:{port}/api/info");
        let passing = script
            .evaluate(
                json!({"url": url, "expected": "v1.2.3"}),
                &Value::Null,
                0,
                &limits,
            )
            .unwrap();
        assert!(passing.violations.is_empty(), "{passing:?}");
        let request = requests.recv().unwrap();
        assert!(request.starts_with("POST /api/info "), "{request}");
        assert!(request.ends_with(r#"{"ask":"version"}"#), "{request}");
        let failing = script
            .evaluate(
                json!({"url": url, "expected": "v9"}),
                &Value::Null,
                0,
                &limits,
            )
            .unwrap();
        assert_eq!(failing.violations[0].message, "version v1.2.3");
    }

    #[test]
    fn hosts_not_listed_are_refused_before_any_connection() {
        let (port, requests) = loopback("{}");
        let script = Script::compile("net", NETWORKED).unwrap();
        let limits = Limits {
            network: Network::allow(["example.com", "127.0.0.1:1"]),
            ..Limits::default()
        };
        let url = format!("http://127.0.0.1:{port}/");
        let err = script
            .evaluate(
                json!({"url": url, "expected": "x"}),
                &Value::Null,
                0,
                &limits,
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "host '127.0.0.1' is not in the allowed hostnames (127.0.0.1:1, example.com)"
            ),
            "{err}"
        );
        assert!(
            requests.try_recv().is_err(),
            "no request may reach the host"
        );
        // The same script, sealed again for the next caller.
        let sealed = script
            .evaluate(
                json!({"url": url, "expected": "x"}),
                &Value::Null,
                0,
                &Limits::default(),
            )
            .unwrap_err()
            .to_string();
        assert!(sealed.contains("network access is not allowed"), "{sealed}");
    }

    #[test]
    fn syntax_errors_name_the_policy() {
        let err = Script::compile(
            "broken",
            "package main\nimport rego.v1\nviolations contains msg if {\n",
        )
        .err()
        .unwrap();
        let text = err.to_string();
        assert!(text.starts_with("policy 'broken':"), "{text}");
        let PolicyError::Compile { line, .. } = err else {
            panic!("a compile error")
        };
        assert_eq!(line, Some(4), "{text}");
    }

    #[test]
    fn runaway_policies_hit_the_time_limit() {
        let source = "package main\nimport rego.v1\nviolations contains \"big\" if {\n  count([x | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000); x < y]) > 0\n}\n";
        let limits = Limits {
            time: Duration::from_millis(200),
            ..Limits::default()
        };
        let err = Script::compile("loop", source)
            .unwrap()
            .evaluate(json!({}), &Value::Null, 0, &limits)
            .unwrap_err();
        assert!(matches!(err, PolicyError::Timeout { .. }), "{err}");
    }
}
