//! Vulnerability reports in their tools' own JSON, which Chainloop attests as EVIDENCE
//! (or under the tool's own kind): Grype, Trivy, GitLab container/dependency scanning,
//! GitHub Dependabot alerts (GHAS_DEPENDENCY_SCAN). Returns whether the document was
//! recognized.
//!
//! Rules shared by every reader:
//! - `id` is the CVE when the report knows one (Grype `relatedVulnerabilities`, GitLab
//!   and GitHub identifiers), else the scanner's id; the other ids are `aliases`.
//! - Entries for the same vulnerability in the same package (same id, package,
//!   version and purl) are merged: Grype reports one match per advisory (GHSA and CVE
//!   for one issue); aliases are united, the highest severity and the first fixed
//!   version kept, and the result is suppressed only if every entry was.
//! - OSV records are advisories, not scan results: they are not read here.

use super::{Normalized, Vulnerability, normalize_severity, severity_from_score};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn normalize(doc: &Value, out: &mut Normalized) -> bool {
    let recognized = grype(doc, out) || trivy(doc, out) || gitlab(doc, out) || ghas(doc, out);
    if recognized {
        out.vulnerabilities = merge(std::mem::take(&mut out.vulnerabilities));
    }
    recognized
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn owned(v: &Value, pointer: &str) -> Option<String> {
    text(v, pointer).map(str::to_owned)
}

fn items<'a>(v: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn is_cve(id: &str) -> bool {
    id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-"))
}

/// Makes the CVE among `id` and `aliases` the id; the others become aliases.
fn prefer_cve(id: String, aliases: Vec<String>) -> (String, Vec<String>) {
    if is_cve(&id) {
        return (id, aliases);
    }
    match aliases.iter().position(|a| is_cve(a)) {
        Some(i) => {
            let mut aliases = aliases;
            let cve = aliases.remove(i);
            aliases.insert(0, id);
            (cve, aliases)
        }
        None => (id, aliases),
    }
}

fn rank(severity: &str) -> usize {
    [
        "UNKNOWN", "NONE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL",
    ]
    .iter()
    .position(|s| *s == severity)
    .unwrap_or(0)
}

/// What identifies entries to merge: id, package, version, purl.
type MergeKey = (String, Option<String>, Option<String>, Option<String>);

/// Merges entries for the same vulnerability in the same package; sorts and dedups
/// aliases (never repeating the id). Order of first appearance is kept.
fn merge(vulns: Vec<Vulnerability>) -> Vec<Vulnerability> {
    let mut out: Vec<Vulnerability> = Vec::with_capacity(vulns.len());
    // Position in `out` by (id, package, version, purl): linear, not quadratic.
    let mut index: HashMap<MergeKey, usize> = HashMap::with_capacity(vulns.len());
    for v in vulns {
        let key = (
            v.id.clone(),
            v.package.clone(),
            v.version.clone(),
            v.purl.clone(),
        );
        match index.get(&key).map(|&i| &mut out[i]) {
            Some(existing) => {
                existing.aliases.extend(v.aliases);
                if rank(&v.severity) > rank(&existing.severity) {
                    existing.severity = v.severity;
                }
                if existing.fixed_version.is_none() {
                    existing.fixed_version = v.fixed_version;
                }
                existing.suppressed &= v.suppressed;
            }
            None => {
                index.insert(key, out.len());
                out.push(v);
            }
        }
    }
    for v in &mut out {
        let id = v.id.clone();
        v.aliases.retain(|a| !a.is_empty() && *a != id);
        v.aliases.sort();
        v.aliases.dedup();
    }
    out
}

// ---------------------------------------------------------------------------------
// Grype JSON: {matches[], source, distro, descriptor{name: "grype", version, timestamp}}

fn grype(doc: &Value, out: &mut Normalized) -> bool {
    let Some(matches) = doc.get("matches").and_then(Value::as_array) else {
        return false;
    };
    let by_descriptor = text(doc, "/descriptor/name") == Some("grype");
    let by_shape = matches
        .first()
        .is_some_and(|m| m.get("vulnerability").is_some() && m.get("artifact").is_some());
    if !(by_descriptor || by_shape) {
        return false;
    }
    out.format = "grype".into();
    out.created = owned(doc, "/descriptor/timestamp");
    for m in matches {
        let Some(id) = owned(m, "/vulnerability/id") else {
            continue;
        };
        let related: Vec<String> = items(m, "/relatedVulnerabilities")
            .filter_map(|r| owned(r, "/id"))
            .collect();
        let (id, aliases) = prefer_cve(id, related);
        let mut severity = normalize_severity(text(m, "/vulnerability/severity").unwrap_or(""));
        if severity == "UNKNOWN" {
            // Unrated by the matched source: the highest CVSS base score given.
            let scores = items(m, "/vulnerability/cvss")
                .chain(items(m, "/relatedVulnerabilities").flat_map(|r| items(r, "/cvss")));
            if let Some(score) = scores
                .filter_map(|c| c.pointer("/metrics/baseScore").and_then(Value::as_f64))
                .reduce(f64::max)
            {
                severity = severity_from_score(score).to_owned();
            }
        }
        let fixes: Vec<&str> = items(m, "/vulnerability/fix/versions")
            .filter_map(Value::as_str)
            .collect();
        out.vulnerabilities.push(Vulnerability {
            id,
            aliases,
            severity,
            package: owned(m, "/artifact/name"),
            version: owned(m, "/artifact/version"),
            purl: owned(m, "/artifact/purl"),
            fixed_version: (!fixes.is_empty()).then(|| fixes.join(", ")),
            suppressed: false,
        });
    }
    true
}

// ---------------------------------------------------------------------------------
// Trivy JSON (SchemaVersion 2): Results[].Vulnerabilities[]; with --show-suppressed,
// findings a VEX or ignore file removed are under Results[].ModifiedFindings[].

fn trivy(doc: &Value, out: &mut Normalized) -> bool {
    if doc.get("SchemaVersion").is_none()
        || !(doc.get("Results").is_some_and(Value::is_array) || doc.get("ArtifactName").is_some())
    {
        return false;
    }
    out.format = "trivy".into();
    out.format_version = doc.get("SchemaVersion").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    out.created = owned(doc, "/CreatedAt");
    for result in items(doc, "/Results") {
        for v in items(result, "/Vulnerabilities") {
            if let Some(vuln) = trivy_vulnerability(v, false) {
                out.vulnerabilities.push(vuln);
            }
        }
        for modified in items(result, "/ModifiedFindings") {
            let is_vuln = text(modified, "/Type") == Some("vulnerability");
            let status = text(modified, "/Status").unwrap_or("");
            if is_vuln
                && matches!(status, "not_affected" | "fixed")
                && let Some(vuln) = modified
                    .get("Finding")
                    .and_then(|f| trivy_vulnerability(f, true))
            {
                out.vulnerabilities.push(vuln);
            }
        }
    }
    true
}

fn trivy_vulnerability(v: &Value, suppressed: bool) -> Option<Vulnerability> {
    let id = owned(v, "/VulnerabilityID")?;
    let vendor: Vec<String> = items(v, "/VendorIDs")
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let (id, aliases) = prefer_cve(id, vendor);
    Some(Vulnerability {
        id,
        aliases,
        severity: normalize_severity(text(v, "/Severity").unwrap_or("")),
        package: owned(v, "/PkgName"),
        version: owned(v, "/InstalledVersion"),
        purl: owned(v, "/PkgIdentifier/PURL"),
        fixed_version: owned(v, "/FixedVersion"),
        suppressed,
    })
}

// ---------------------------------------------------------------------------------
// GitLab security report (container or dependency scanning): {version, scan{type},
// vulnerabilities[]{identifiers[], severity, location.dependency}}. SAST and secret
// detection reports are not vulnerability reports and are not read here.

fn gitlab(doc: &Value, out: &mut Normalized) -> bool {
    let Some(vulns) = doc.get("vulnerabilities").and_then(Value::as_array) else {
        return false;
    };
    let scan_type = text(doc, "/scan/type").unwrap_or("");
    if text(doc, "/version").is_none()
        || !matches!(
            scan_type,
            "container_scanning" | "dependency_scanning" | "cluster_image_scanning"
        )
    {
        return false;
    }
    out.format = "gitlab".into();
    out.format_version = owned(doc, "/version");
    for v in vulns {
        let ids: Vec<(String, String)> = items(v, "/identifiers")
            .filter_map(|i| {
                let value = owned(i, "/value").or_else(|| owned(i, "/name"))?;
                Some((text(i, "/type").unwrap_or("").to_ascii_lowercase(), value))
            })
            .collect();
        let main = ids
            .iter()
            .position(|(t, _)| t == "cve")
            .or_else(|| ids.iter().position(|(t, _)| t == "ghsa"))
            .or(if ids.is_empty() { None } else { Some(0) });
        let (id, aliases) = match main {
            Some(i) => {
                let id = ids[i].1.clone();
                let aliases = ids
                    .iter()
                    .enumerate()
                    .filter(|(j, (t, _))| *j != i && is_vulnerability_id_type(t))
                    .map(|(_, (_, value))| value.clone())
                    .collect();
                (id, aliases)
            }
            None => match owned(v, "/cve").or_else(|| owned(v, "/id")) {
                Some(id) => (id, Vec::new()),
                None => continue,
            },
        };
        out.vulnerabilities.push(Vulnerability {
            id,
            aliases,
            severity: normalize_severity(text(v, "/severity").unwrap_or("")),
            package: owned(v, "/location/dependency/package/name"),
            version: owned(v, "/location/dependency/version"),
            purl: None,
            fixed_version: None,
            suppressed: false,
        });
    }
    true
}

/// GitLab identifier types that name a vulnerability (not a CWE or a scanner rule).
fn is_vulnerability_id_type(t: &str) -> bool {
    matches!(
        t,
        "cve" | "ghsa" | "osvdb" | "gemnasium" | "rhsa" | "usn" | "dsa"
    )
}

// ---------------------------------------------------------------------------------
// GitHub Dependabot alerts (REST API response, a top-level array). `fixed` alerts
// are gone and left out; alerts dismissed as `inaccurate` or `not_used`, and alerts
// auto-dismissed by GitHub's triage rules, are suppressed. Alerts dismissed as
// `tolerable_risk`, `no_bandwidth` or `fix_started` still count.

fn ghas(doc: &Value, out: &mut Normalized) -> bool {
    let Some(alerts) = doc.as_array() else {
        return false;
    };
    let is_alert =
        |a: &Value| a.get("security_advisory").is_some() && a.get("dependency").is_some();
    if alerts.is_empty() || !alerts.iter().all(is_alert) {
        return false;
    }
    out.format = "ghas-dependency-scan".into();
    for a in alerts {
        let state = text(a, "/state").unwrap_or("open");
        if state == "fixed" {
            continue;
        }
        let reason = text(a, "/dismissed_reason").unwrap_or("");
        let suppressed = state == "auto_dismissed"
            || (state == "dismissed" && matches!(reason, "inaccurate" | "not_used"));
        let ghsa = owned(a, "/security_advisory/ghsa_id");
        let cve = owned(a, "/security_advisory/cve_id");
        let Some(first) = cve.clone().or_else(|| ghsa.clone()) else {
            continue;
        };
        let mut aliases: Vec<String> = ghsa.into_iter().chain(cve).collect();
        aliases
            .extend(items(a, "/security_advisory/identifiers").filter_map(|i| owned(i, "/value")));
        let (id, aliases) = prefer_cve(first, aliases);
        let severity = text(a, "/security_vulnerability/severity")
            .or_else(|| text(a, "/security_advisory/severity"))
            .unwrap_or("");
        let name = owned(a, "/dependency/package/name");
        let ecosystem = text(a, "/dependency/package/ecosystem").unwrap_or("");
        out.vulnerabilities.push(Vulnerability {
            id,
            aliases,
            severity: normalize_severity(severity),
            purl: name
                .as_deref()
                .and_then(|n| super::purl::for_advisory_package(ecosystem, n)),
            package: name,
            version: None,
            fixed_version: owned(
                a,
                "/security_vulnerability/first_patched_version/identifier",
            ),
            suppressed,
        });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefers_the_cve_and_keeps_the_rest_as_aliases() {
        let (id, aliases) = prefer_cve("GHSA-x".into(), vec!["CVE-1".into(), "X".into()]);
        assert_eq!(id, "CVE-1");
        assert_eq!(aliases, ["GHSA-x", "X"]);
        let (id, aliases) = prefer_cve("CVE-2".into(), vec!["GHSA-y".into()]);
        assert_eq!((id.as_str(), aliases), ("CVE-2", vec!["GHSA-y".to_owned()]));
    }

    #[test]
    fn merges_matches_of_one_issue_in_one_package() {
        let doc = json!({"descriptor": {"name": "grype"}, "matches": [
            {"vulnerability": {"id": "CVE-1", "severity": "Medium"},
             "artifact": {"name": "a", "version": "1", "purl": "pkg:gem/a@1"}},
            {"vulnerability": {"id": "GHSA-1", "severity": "High", "fix": {"versions": ["2"]}},
             "relatedVulnerabilities": [{"id": "CVE-1"}],
             "artifact": {"name": "a", "version": "1", "purl": "pkg:gem/a@1"}},
            {"vulnerability": {"id": "CVE-1", "severity": "Unknown",
                               "cvss": [{"metrics": {"baseScore": 9.1}}]},
             "artifact": {"name": "b", "version": "1"}}
        ]});
        let mut out = Normalized::default();
        assert!(normalize(&doc, &mut out));
        assert_eq!(out.vulnerabilities.len(), 2);
        let a = &out.vulnerabilities[0];
        assert_eq!(
            (
                a.id.as_str(),
                a.severity.as_str(),
                a.fixed_version.as_deref()
            ),
            ("CVE-1", "HIGH", Some("2"))
        );
        assert_eq!(a.aliases, ["GHSA-1"]);
        assert_eq!(
            out.vulnerabilities[1].severity, "CRITICAL",
            "from the CVSS score"
        );
    }

    #[test]
    fn other_documents_are_not_reports() {
        for doc in [
            json!({"matches": [{"x": 1}]}),
            json!({"version": "15.0.0", "scan": {"type": "sast"}, "vulnerabilities": []}),
            json!([{"RuleID": "x"}]),
            json!([]),
            json!({"id": "RUSTSEC-2021-0079", "affected": []}),
        ] {
            assert!(!normalize(&doc, &mut Normalized::default()), "{doc}");
        }
    }
}
