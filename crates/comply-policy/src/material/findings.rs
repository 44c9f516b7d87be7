//! SARIF, gitleaks and TruffleHog: findings (SAST, secrets) and scanner vulnerabilities.
//!
//! Secret values (gitleaks `Secret`/`Match`, TruffleHog `Raw`/`Redacted`, SARIF
//! `region.snippet`) are never copied into the view.

use super::{Finding, Normalized, Vulnerability, normalize_severity, severity_from_score};
use serde_json::Value;

/// SARIF result kinds that are not findings (SARIF 2.1.0 §3.27.9): the check passed,
/// did not apply, or only informs. `fail` (the default), `review` and `open` count.
const NOT_FINDINGS: [&str; 3] = ["pass", "notApplicable", "informational"];

/// Tools whose every result is a secret.
const SECRET_TOOLS: [&str; 4] = ["gitleaks", "trufflehog", "detect-secrets", "secret"];

/// Tools whose every result is a vulnerability whatever its rule id.
const VULNERABILITY_TOOLS: [&str; 1] = ["dependency-track"];

/// SARIF (`format: sarif`). Every result except kind pass/notApplicable/informational,
/// and except results suppressed with status `accepted` (or no status) or whose
/// baselineState is `absent`, becomes a finding:
///
/// - `rule_id`: `ruleId`, else `rule.id`, else the rule's `id`;
/// - `level`: `result.level`, else the rule's `defaultConfiguration.level`, else
///   `warning` (SARIF §3.27.10; `none` for kinds other than `fail`);
/// - `severity`, first that applies:
///   1. `properties["security-severity"]` (CVSS score, GitHub's convention) of the
///      result, then of the rule, through [`severity_from_score`];
///   2. a severity word in `properties.severity` or `properties["problem.severity"]`
///      (result, then rule) through [`normalize_severity`], when it is one
///      (`problem.severity: warning` is a level, not a severity, and falls through);
///   3. the level: `error` → HIGH, `warning` → MEDIUM, `note` → LOW, `none` → INFO;
/// - `message`: `message.text` (or markdown), else the rule's `messageStrings[id]`
///   with `{n}` replaced by the arguments, else the rule's short description;
/// - `location`: the first `physicalLocation.artifactLocation.uri` (through
///   `run.artifacts` when only an index is given), else the first logical location;
///   `line`: that location's `region.startLine`;
/// - `category`: `secret` when the tool is a secret scanner (gitleaks, TruffleHog,
///   detect-secrets) or a rule/result tag mentions "secret"; `vulnerability` when the
///   rule id starts with a vulnerability id (CVE-, GHSA-, GO-, PYSEC-, RUSTSEC-, OSV-,
///   GSD-, MAL-), a tag is "vulnerability", or the tool only reports vulnerabilities
///   (Dependency-Track); else `sast`.
///
/// Vulnerability results also go into `vulnerabilities`: id = the vulnerability id
/// the rule id starts with (else the rule id), the same severity, and package,
/// version, fixed version and purl when the tool gives them (Trivy's and Grype's
/// `Package:`/`Version:` lines, properties, a `pkg:` logical location). Suppressed
/// ones are kept there with `suppressed: true`.
pub(super) fn sarif(doc: &Value, out: &mut Normalized) {
    out.format = "sarif".into();
    out.format_version = doc.get("version").and_then(Value::as_str).map(Into::into);
    for run in array(doc.get("runs")) {
        let tool = run
            .pointer("/tool/driver/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let secret_tool = SECRET_TOOLS.iter().any(|t| tool.contains(t));
        let vulnerability_tool = VULNERABILITY_TOOLS.iter().any(|t| tool.contains(t));
        for result in array(run.get("results")) {
            let kind = str_at(result, "kind").unwrap_or("fail");
            if NOT_FINDINGS.contains(&kind) || str_at(result, "baselineState") == Some("absent") {
                continue;
            }
            let rule = find_rule(run, result);
            let rule_id = str_at(result, "ruleId")
                .or_else(|| result.pointer("/rule/id").and_then(Value::as_str))
                .or_else(|| rule.and_then(|r| str_at(r, "id")))
                .unwrap_or("")
                .to_owned();
            let level = str_at(result, "level")
                .or_else(|| rule.and_then(|r| r.pointer("/defaultConfiguration/level")?.as_str()))
                .unwrap_or(if kind == "fail" { "warning" } else { "none" })
                .to_owned();
            let severity = sarif_severity(result, rule, &level);
            let (location, line) = sarif_location(run, result);
            let tags: Vec<String> = [Some(result), rule]
                .into_iter()
                .flatten()
                .flat_map(|v| array(v.pointer("/properties/tags")))
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect();
            let vulnerability_id = vulnerability_id_prefix(&rule_id);
            let category = if secret_tool || tags.iter().any(|t| t.contains("secret")) {
                "secret"
            } else if vulnerability_id.is_some()
                || vulnerability_tool
                || tags.iter().any(|t| t == "vulnerability")
            {
                "vulnerability"
            } else {
                "sast"
            };
            let message = sarif_message(result, rule, &rule_id);
            let suppressed = is_suppressed(result);
            if category == "vulnerability" {
                out.vulnerabilities.push(sarif_vulnerability(
                    result,
                    rule,
                    vulnerability_id.unwrap_or_else(|| rule_id.clone()),
                    &severity,
                    &message,
                    suppressed,
                ));
            }
            if suppressed {
                continue;
            }
            out.findings.push(Finding {
                rule_id,
                severity,
                level: Some(level),
                message,
                location,
                line,
                category: category.into(),
            });
        }
    }
}

/// Severity when a tool gives only a SARIF level.
fn level_severity(level: &str) -> &'static str {
    match level {
        "error" => "HIGH",
        "warning" => "MEDIUM",
        "note" => "LOW",
        "none" => "INFO",
        _ => "UNKNOWN",
    }
}

fn sarif_severity(result: &Value, rule: Option<&Value>, level: &str) -> String {
    let properties: Vec<&Value> = [Some(result), rule]
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("properties"))
        .collect();
    for props in &properties {
        let score = match props.get("security-severity") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        if let Some(score) = score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s)) {
            return severity_from_score(score).to_owned();
        }
    }
    for props in &properties {
        for key in ["severity", "problem.severity"] {
            if let Some(word) = props.get(key).and_then(Value::as_str) {
                let severity = normalize_severity(word);
                if severity != "UNKNOWN" {
                    return severity;
                }
            }
        }
    }
    level_severity(level).to_owned()
}

/// The rule a result refers to: by index (`ruleIndex`, `rule.index`) in the tool
/// component it names (`rule.toolComponent.index`, else the driver), else by id in
/// the driver and then the extensions (a hierarchical id `A/B` also finds rule `A`).
fn find_rule<'a>(run: &'a Value, result: &Value) -> Option<&'a Value> {
    let driver = run.pointer("/tool/driver");
    let extensions = array(run.pointer("/tool/extensions"));
    let component = match result
        .pointer("/rule/toolComponent/index")
        .and_then(Value::as_u64)
    {
        Some(i) => extensions.get(i as usize),
        None => driver,
    };
    let index = result
        .get("ruleIndex")
        .or_else(|| result.pointer("/rule/index"))
        .and_then(Value::as_u64);
    if let Some(rule) =
        index.and_then(|i| array(component.and_then(|c| c.get("rules"))).get(i as usize))
    {
        return Some(rule);
    }
    let id = str_at(result, "ruleId").or_else(|| result.pointer("/rule/id")?.as_str())?;
    let all_rules = || {
        driver
            .into_iter()
            .chain(extensions.iter())
            .flat_map(|c| array(c.get("rules")))
    };
    all_rules()
        .find(|r| str_at(r, "id") == Some(id))
        .or_else(|| {
            let base = id.split('/').next()?;
            all_rules().find(|r| str_at(r, "id") == Some(base))
        })
}

fn sarif_message(result: &Value, rule: Option<&Value>, rule_id: &str) -> String {
    let message = result.get("message");
    let arguments: Vec<String> = array(message.and_then(|m| m.get("arguments")))
        .iter()
        .map(|a| match a {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let template = text_of(message).or_else(|| {
        let id = message.and_then(|m| str_at(m, "id"))?;
        text_of(rule?.pointer(&format!(
            "/messageStrings/{}",
            id.replace('~', "~0").replace('/', "~1")
        )))
    });
    match template {
        Some(t) => substitute(t, &arguments).trim().to_owned(),
        None => rule
            .and_then(|r| {
                text_of(r.get("shortDescription")).or_else(|| text_of(r.get("fullDescription")))
            })
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| rule_id.to_owned()),
    }
}

/// A SARIF message object's text (or markdown), when not blank.
fn text_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(|v| str_at(v, "text").or_else(|| str_at(v, "markdown")))
        .filter(|t| !t.trim().is_empty())
}

/// SARIF message placeholders (§3.11.5): `{n}` is argument n; `{{` and `}}` are
/// literal braces.
fn substitute(template: &str, arguments: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{')
            && let Some(end) = tail.find('}')
            && let Ok(n) = tail[1..end].parse::<usize>()
            && let Some(argument) = arguments.get(n)
        {
            out.push_str(argument);
            rest = &tail[end + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

fn sarif_location(run: &Value, result: &Value) -> (Option<String>, Option<u64>) {
    let Some(first) = array(result.get("locations")).first() else {
        return (None, None);
    };
    let physical = first.get("physicalLocation");
    let artifact = physical.and_then(|p| p.get("artifactLocation"));
    let uri = artifact
        .and_then(|a| str_at(a, "uri"))
        .or_else(|| {
            let index = artifact?.get("index")?.as_u64()?;
            array(run.get("artifacts"))
                .get(index as usize)?
                .pointer("/location/uri")?
                .as_str()
        })
        .or_else(|| {
            let logical = array(first.get("logicalLocations")).first()?;
            str_at(logical, "fullyQualifiedName").or_else(|| str_at(logical, "name"))
        });
    let line = physical
        .and_then(|p| p.pointer("/region/startLine"))
        .and_then(Value::as_u64);
    (uri.map(Into::into), line)
}

/// Suppressed (§3.35): a suppression whose status is `accepted` or not given.
fn is_suppressed(result: &Value) -> bool {
    array(result.get("suppressions"))
        .iter()
        .any(|s| matches!(str_at(s, "status"), None | Some("accepted")))
}

fn sarif_vulnerability(
    result: &Value,
    rule: Option<&Value>,
    id: String,
    severity: &str,
    message: &str,
    suppressed: bool,
) -> Vulnerability {
    let help = rule
        .and_then(|r| r.pointer("/help/text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let texts = [message, help];
    let labelled = |labels: &[&str]| {
        texts
            .iter()
            .find_map(|t| labels.iter().find_map(|l| label_value(t, l)))
    };
    let props = |keys: &[&str]| {
        [Some(result), rule]
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("properties"))
            .find_map(|p| {
                keys.iter()
                    .find_map(|k| p.get(*k)?.as_str().filter(|s| !s.trim().is_empty()))
            })
            .map(str::to_owned)
    };
    let purl = props(&["purl", "packagePurl", "package_purl"]).or_else(|| {
        array(result.get("locations"))
            .iter()
            .flat_map(|l| array(l.get("logicalLocations")))
            .filter_map(|l| str_at(l, "fullyQualifiedName"))
            .find(|n| n.starts_with("pkg:"))
            .map(str::to_owned)
    });
    let (purl_name, purl_version) = match purl.as_deref().and_then(super::purl::name_and_version) {
        Some((name, version)) => (Some(name), version),
        None => (None, None),
    };
    Vulnerability {
        id,
        aliases: Vec::new(),
        severity: severity.to_owned(),
        package: labelled(&["Package"])
            .or_else(|| props(&["package", "packageName", "name"]))
            .or(purl_name),
        version: labelled(&["Installed Version", "Version"])
            .or_else(|| props(&["installedVersion", "version"]))
            .or(purl_version),
        purl,
        fixed_version: labelled(&["Fixed Version", "Fix Version"])
            .or_else(|| props(&["fixedVersion", "fixed_version"])),
        suppressed,
    }
}

/// The value of a `Label: value` line (Trivy and Grype write them in messages and
/// rule help).
fn label_value(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix(label)?.strip_prefix(':')?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// The vulnerability id a rule id starts with (`CVE-1999-0001-package-1` →
/// `CVE-1999-0001`, `CVE-2021-1234 (sca)` → `CVE-2021-1234`).
fn vulnerability_id_prefix(rule_id: &str) -> Option<String> {
    let text = rule_id.trim();
    let upper = text.to_ascii_uppercase();
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    if upper.starts_with("GHSA-") {
        // GHSA-xxxx-xxxx-xxxx
        let b = text.as_bytes();
        let ok = b.len() >= 19
            && (5..19).all(|i| {
                if i == 9 || i == 14 {
                    b[i] == b'-'
                } else {
                    b[i].is_ascii_alphanumeric()
                }
            })
            && b.get(19).is_none_or(|c| !c.is_ascii_alphanumeric());
        return ok.then(|| format!("GHSA-{}", &text[5..19]));
    }
    for prefix in ["CVE-", "GO-", "PYSEC-", "RUSTSEC-", "OSV-", "GSD-", "MAL-"] {
        if let Some(rest) = upper.strip_prefix(prefix) {
            let year = digits(rest);
            if year != 4 || rest.as_bytes().get(4) != Some(&b'-') {
                return None;
            }
            let number = digits(&rest[5..]);
            if number == 0 {
                return None;
            }
            return Some(upper[..prefix.len() + 5 + number].to_owned());
        }
    }
    None
}

/// gitleaks JSON (`format: gitleaks`): one finding per element with a `RuleID`,
/// category `secret`.
/// rule_id = `RuleID`, message = `Description` (else "secret matched rule …"),
/// location = `File`, line = `StartLine`. gitleaks does not verify credentials and
/// gives no severity: a committed secret is HIGH (CRITICAL is kept for credentials a
/// scanner verified live).
pub(super) fn gitleaks(doc: &Value, out: &mut Normalized) {
    out.format = "gitleaks".into();
    for item in elements(doc) {
        let Some(rule_id) = str_at(item, "RuleID").map(str::to_owned) else {
            continue;
        };
        let message = str_at(item, "Description")
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("secret matched rule {rule_id}"));
        out.findings.push(Finding {
            rule_id,
            severity: "HIGH".into(),
            level: None,
            message,
            location: str_at(item, "File")
                .filter(|f| !f.is_empty())
                .map(Into::into),
            line: item.get("StartLine").and_then(Value::as_u64),
            category: "secret".into(),
        });
    }
}

/// TruffleHog JSON lines (`format: trufflehog`): one finding per element with a
/// `DetectorName`, category `secret`. rule_id = the detector; severity CRITICAL when
/// TruffleHog verified the credential live (`Verified: true`), else HIGH; message
/// "<detector> credential, verified live" or "…, not verified"; location and line
/// from `SourceMetadata.Data.<source>.file` (or `path`, `link`) and `.line`.
pub(super) fn trufflehog(doc: &Value, out: &mut Normalized) {
    out.format = "trufflehog".into();
    for item in elements(doc) {
        let Some(detector) = str_at(item, "DetectorName") else {
            continue;
        };
        let verified = item
            .get("Verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let source = item
            .pointer("/SourceMetadata/Data")
            .and_then(Value::as_object)
            .and_then(|data| data.values().find(|v| v.is_object()));
        let location = source.and_then(|s| {
            ["file", "path", "filename", "link"]
                .iter()
                .find_map(|k| str_at(s, k).filter(|v| !v.is_empty()))
        });
        out.findings.push(Finding {
            rule_id: detector.to_owned(),
            severity: if verified { "CRITICAL" } else { "HIGH" }.into(),
            level: None,
            message: format!(
                "{detector} credential, {}",
                if verified {
                    "verified live"
                } else {
                    "not verified"
                }
            ),
            location: location.map(Into::into),
            line: source.and_then(|s| s.get("line")).and_then(Value::as_u64),
            category: "secret".into(),
        });
    }
}

/// JSON lines (one object per line) as an array (the engine wraps it as
/// `{"elements": [...]}`). Blank lines are skipped; errors name the line as it is
/// numbered in the file. A document that is one JSON array is accepted as is.
pub(super) fn parse_json_lines(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str(text)
    {
        return Ok(Value::Array(items));
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l.trim())
                .map_err(|e| format!("line {}: not a JSON object: {e}", i + 1))
        })
        .collect::<Result<Vec<Value>, String>>()
        .map(Value::Array)
}

/// The items of a top-level array, whether given bare or wrapped as `{elements}`.
fn elements(doc: &Value) -> &[Value] {
    match doc {
        Value::Array(items) => items,
        other => array(other.get("elements")),
    }
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vulnerability_ids_at_the_start_of_rule_ids() {
        let cases = [
            ("CVE-1999-0001-package-1", Some("CVE-1999-0001")),
            ("CVE-2021-1234 (sca)", Some("CVE-2021-1234")),
            ("GHSA-rh58-r7jh-xhx3", Some("GHSA-rh58-r7jh-xhx3")),
            ("RUSTSEC-2021-0079", Some("RUSTSEC-2021-0079")),
            ("PYSEC-2024-55", Some("PYSEC-2024-55")),
            ("GO-2022-0001", Some("GO-2022-0001")),
            ("go-lint", None),
            ("GHSA-xx", None),
            ("AWS006", None),
            ("js/xss", None),
            ("CVE-", None),
        ];
        for (rule, expected) in cases {
            assert_eq!(vulnerability_id_prefix(rule).as_deref(), expected, "{rule}");
        }
    }

    #[test]
    fn message_placeholders() {
        let args = ["a".to_owned(), "b".to_owned()];
        assert_eq!(substitute("'{0}' and {1}", &args), "'a' and b");
        assert_eq!(substitute("{{0}} {2} {x}", &args), "{0} {2} {x}");
        assert_eq!(substitute("} {0 {", &args), "} {0 {");
    }
}
