//! Built-in policies: vulnerabilities, cves-in-kev and the vulnerability-management
//! group; the vulnerability-report (Grype, Trivy, GitLab, Dependabot) and VEX (OpenVEX,
//! CSAF) normalizers they read through `input.comply`.

use crate::support::*;
use comply_policy::material::{Normalized, VexStatement, Vulnerability};
use comply_policy::{Limits, Verdict, builtin, evaluate_group};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------
// Helpers

/// A Trivy JSON report with the given `(id, severity, package, version, fixed)`.
fn trivy(vulns: &[(&str, &str, &str, &str, &str)]) -> String {
    let vulns: Vec<Value> = vulns
        .iter()
        .map(|(id, severity, pkg, version, fixed)| {
            let mut v = json!({
                "VulnerabilityID": id,
                "Severity": severity,
                "PkgName": pkg,
                "InstalledVersion": version,
                "PkgIdentifier": {"PURL": format!("pkg:npm/{pkg}@{version}")},
            });
            if !fixed.is_empty() {
                v["FixedVersion"] = json!(fixed);
            }
            v
        })
        .collect();
    json!({
        "SchemaVersion": 2,
        "CreatedAt": "2025-12-01T00:00:00Z",
        "ArtifactName": "app",
        "ArtifactType": "container_image",
        "Results": [{"Target": "app", "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": vulns}]
    })
    .to_string()
}

fn normalized(name: &str, bytes: &[u8], kind: Option<&str>) -> Normalized {
    material(name, bytes, kind).normalized
}

fn counted(v: &Verdict) -> Vec<&Value> {
    v.violations
        .iter()
        .filter(|v| !v.suppress)
        .map(|v| v.finding.as_ref().expect("a structured finding"))
        .collect()
}

fn suppressed(v: &Verdict) -> Vec<&Value> {
    v.violations
        .iter()
        .filter(|v| v.suppress)
        .map(|v| v.finding.as_ref().expect("a structured finding"))
        .collect()
}

fn external_ids(findings: &[&Value]) -> BTreeSet<String> {
    findings
        .iter()
        .map(|f| f["external_id"].as_str().unwrap().to_owned())
        .collect()
}

fn severity_counts(vulns: &[Vulnerability]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for v in vulns {
        *counts.entry(v.severity.clone()).or_default() += 1;
    }
    counts
}

fn vex_data(statements: &[VexStatement]) -> Value {
    json!({"vex": statements})
}

fn small_kev(ids: &[&str]) -> Value {
    let entries: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"cveID": id, "vendorProject": "Acme", "product": "Thing",
                   "vulnerabilityName": format!("{id} exploited"), "dateAdded": "2024-01-02",
                   "dueDate": "2024-01-23", "knownRansomwareCampaignUse": "Unknown"})
        })
        .collect();
    json!({"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "test",
           "count": entries.len(), "vulnerabilities": entries})
}

fn real_kev() -> Option<Value> {
    fixture("kev/known_exploited_vulnerabilities.json")
        .map(|b| serde_json::from_slice(&b).expect("the KEV catalog is JSON"))
}

// ---------------------------------------------------------------------------------
// Normalizers: vulnerability reports

#[test]
fn trivy_report_is_read() {
    let doc = trivy(&[
        ("CVE-1", "HIGH", "a", "1.0", "1.1"),
        ("GHSA-xxxx", "Unknown", "b", "2.0", ""),
    ]);
    let m = material("report.json", doc.as_bytes(), None);
    assert_eq!(m.kind, "EVIDENCE", "Trivy JSON is EVIDENCE to Chainloop");
    let n = m.normalized;
    assert_eq!(n.format, "trivy");
    assert_eq!(n.format_version.as_deref(), Some("2"));
    assert_eq!(n.created.as_deref(), Some("2025-12-01T00:00:00Z"));
    assert_eq!(
        n.vulnerabilities[0],
        Vulnerability {
            id: "CVE-1".into(),
            aliases: vec![],
            severity: "HIGH".into(),
            package: Some("a".into()),
            version: Some("1.0".into()),
            purl: Some("pkg:npm/a@1.0".into()),
            fixed_version: Some("1.1".into()),
            suppressed: false,
        }
    );
    assert_eq!(n.vulnerabilities[1].severity, "UNKNOWN");
    assert_eq!(n.vulnerabilities[1].fixed_version, None);
}

#[test]
fn trivy_vex_modified_findings_are_suppressed() {
    let doc = json!({
        "SchemaVersion": 2, "ArtifactName": "app",
        "Results": [{"Target": "app", "Vulnerabilities": [],
            "ModifiedFindings": [
                {"Type": "vulnerability", "Status": "not_affected", "Source": "vex.json",
                 "Finding": {"VulnerabilityID": "CVE-9", "Severity": "CRITICAL", "PkgName": "z",
                             "InstalledVersion": "1"}},
                {"Type": "misconfiguration", "Status": "not_affected", "Finding": {"ID": "X"}}
            ]}]
    });
    let n = normalized("r.json", doc.to_string().as_bytes(), Some("EVIDENCE"));
    assert_eq!(n.vulnerabilities.len(), 1);
    assert!(n.vulnerabilities[0].suppressed);
}

#[test]
fn grype_report_is_read() {
    let doc = json!({
        "descriptor": {"name": "grype", "version": "0.80.0", "timestamp": "2025-11-30T10:00:00Z"},
        "matches": [{
            "vulnerability": {"id": "GHSA-aaaa", "severity": "Negligible",
                              "fix": {"versions": ["1.2", "2.1"], "state": "fixed"}},
            "relatedVulnerabilities": [{"id": "CVE-2020-1"}],
            "artifact": {"name": "lib", "version": "1.0", "purl": "pkg:gem/lib@1.0"}
        }]
    });
    let m = material("grype.json", doc.to_string().as_bytes(), None);
    assert_eq!(m.kind, "EVIDENCE");
    let n = m.normalized;
    assert_eq!(n.format, "grype");
    assert_eq!(n.created.as_deref(), Some("2025-11-30T10:00:00Z"));
    let v = &n.vulnerabilities[0];
    assert_eq!(v.id, "CVE-2020-1", "the related CVE is the id");
    assert_eq!(v.aliases, ["GHSA-aaaa"]);
    assert_eq!(v.severity, "INFO");
    assert_eq!(v.fixed_version.as_deref(), Some("1.2, 2.1"));
    assert_eq!(v.purl.as_deref(), Some("pkg:gem/lib@1.0"));
}

#[test]
fn other_documents_are_not_vulnerability_reports() {
    for (doc, kind) in [
        (r#"{"approved": true}"#, Some("EVIDENCE")),
        (r#"{"matches": [{"a": 1}]}"#, Some("EVIDENCE")),
        (
            r#"{"version": "15.0.0", "scan": {"type": "sast"}, "vulnerabilities": []}"#,
            Some("GITLAB_SECURITY_REPORT"),
        ),
    ] {
        let n = normalized("x.json", doc.as_bytes(), kind);
        assert_eq!(n.format, "evidence", "{doc}");
        assert!(n.vulnerabilities.is_empty());
    }
}

#[test]
fn fixture_trivy_reports() {
    let Some(bytes) = fixture("vuln-reports/trivy-spring4shell-jre11.json") else {
        return;
    };
    let n = normalized("spring4shell.json", &bytes, None);
    assert_eq!(n.format, "trivy");
    assert_eq!(n.vulnerabilities.len(), 1);
    let v = &n.vulnerabilities[0];
    assert_eq!(v.id, "CVE-2022-22965");
    assert_eq!(v.severity, "CRITICAL");
    assert_eq!(
        v.package.as_deref(),
        Some("org.springframework:spring-beans")
    );
    assert_eq!(v.version.as_deref(), Some("5.3.15"));
    assert_eq!(
        v.purl.as_deref(),
        Some("pkg:maven/org.springframework/spring-beans@5.3.15")
    );
    assert_eq!(v.fixed_version.as_deref(), Some("5.3.18"));

    for (file, expected) in [
        ("trivy-alpine-310.json", vec![("MEDIUM", 4)]),
        ("trivy-debian-stretch.json", vec![("LOW", 1), ("MEDIUM", 4)]),
    ] {
        let Some(bytes) = fixture(&format!("vuln-reports/{file}")) else {
            return;
        };
        let n = normalized(file, &bytes, Some("EVIDENCE"));
        let expected: BTreeMap<String, usize> = expected
            .into_iter()
            .map(|(s, c)| (s.to_owned(), c))
            .collect();
        assert_eq!(severity_counts(&n.vulnerabilities), expected, "{file}");
        // The counts are the file's own: one entry per Trivy vulnerability.
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let in_file: usize = raw["Results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Vulnerabilities"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(n.vulnerabilities.len(), in_file, "{file}");
    }
}

#[test]
fn fixture_grype_reports() {
    let Some(bytes) = fixture("vuln-reports/grype-keycloak.json") else {
        return;
    };
    let n = normalized("keycloak.json", &bytes, None);
    assert_eq!(n.format, "grype");
    // Six matches of CVE-2020-12413 (Low), one per package.
    let raw: Value = serde_json::from_slice(&bytes).unwrap();
    let raw_low = raw["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["vulnerability"]["severity"] == "Low")
        .count();
    assert_eq!(raw_low, 6);
    assert_eq!(
        severity_counts(&n.vulnerabilities),
        BTreeMap::from([("LOW".into(), 6)])
    );
    assert!(n.vulnerabilities.iter().all(|v| v.id == "CVE-2020-12413"));
    let packages: BTreeSet<_> = n
        .vulnerabilities
        .iter()
        .map(|v| v.package.clone())
        .collect();
    assert_eq!(packages.len(), 6);

    let Some(bytes) = fixture("vuln-reports/grype-chainguard-ruby.json") else {
        return;
    };
    let n = normalized("ruby.json", &bytes, None);
    // Three High matches: CVE-2023-28755 in ruby-3.0, and in uri twice (as the CVE and
    // as GHSA-hv5j-3h9f-99c2, whose related vulnerability is the CVE): merged.
    assert_eq!(
        severity_counts(&n.vulnerabilities),
        BTreeMap::from([("HIGH".into(), 2)])
    );
    let uri = n
        .vulnerabilities
        .iter()
        .find(|v| v.package.as_deref() == Some("uri"))
        .unwrap();
    assert_eq!(uri.id, "CVE-2023-28755");
    assert_eq!(uri.aliases, ["GHSA-hv5j-3h9f-99c2"]);
    assert_eq!(uri.fixed_version.as_deref(), Some("0.10.2"));
    assert_eq!(uri.purl.as_deref(), Some("pkg:gem/uri@0.10.1"));
}

#[test]
fn fixture_gitlab_and_dependabot_reports() {
    if let Some(bytes) = fixture("vuln-reports/gitlab-container-scanning-report.json") {
        let n = normalized("gl.json", &bytes, Some("GITLAB_SECURITY_REPORT"));
        assert_eq!(n.format, "gitlab");
        assert_eq!(n.format_version.as_deref(), Some("15.1.1"));
        assert_eq!(
            severity_counts(&n.vulnerabilities),
            BTreeMap::from([
                ("CRITICAL".into(), 25),
                ("HIGH".into(), 25),
                ("MEDIUM".into(), 25),
                ("LOW".into(), 1)
            ])
        );
        let first = &n.vulnerabilities[0];
        assert_eq!(
            (
                first.id.as_str(),
                first.package.as_deref(),
                first.version.as_deref()
            ),
            ("CVE-2018-14618", Some("curl"), Some("7.61.0-r0"))
        );
        // Detected without a kind too: GitLab reports are EVIDENCE to comply's detector.
        assert_eq!(normalized("gl.json", &bytes, None).format, "gitlab");
    }
    if let Some(bytes) = fixture("vuln-reports/ghas-dependency-scan.json") {
        let n = normalized("ghas.json", &bytes, Some("GHAS_DEPENDENCY_SCAN"));
        assert_eq!(n.format, "ghas-dependency-scan");
        let got: Vec<_> = n
            .vulnerabilities
            .iter()
            .map(|v| {
                (
                    v.id.as_str(),
                    v.aliases.clone(),
                    v.severity.as_str(),
                    v.purl.as_deref(),
                    v.fixed_version.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "CVE-2024-47764",
                    vec!["GHSA-pxg6-pf52-xh8x".to_owned()],
                    "LOW",
                    Some("pkg:npm/cookie"),
                    Some("0.7.0")
                ),
                (
                    "CVE-2024-43799",
                    vec!["GHSA-m6fv-jmcg-4jfg".to_owned()],
                    "MEDIUM",
                    Some("pkg:npm/send"),
                    Some("0.19.0")
                ),
            ]
        );
    }
}

#[test]
fn fixture_osv_records_are_advisories_not_reports() {
    let Some(bytes) = fixture("vuln-reports/osv-RUSTSEC-2021-0079.json") else {
        return;
    };
    let n = normalized("osv.json", &bytes, Some("EVIDENCE"));
    assert_eq!(n.format, "evidence");
    assert!(n.vulnerabilities.is_empty());
}

// ---------------------------------------------------------------------------------
// Normalizers: VEX

fn statuses(vex: &[VexStatement]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in vex {
        *counts.entry(s.status.clone()).or_default() += 1;
    }
    counts
}

#[test]
fn fixture_openvex_documents() {
    if let Some(bytes) = fixture("vex/go-vex-v0.0.1.json") {
        let m = material("v001.json", &bytes, None);
        assert_eq!(m.kind, "OPENVEX");
        assert_eq!(m.normalized.format, "openvex");
        assert_eq!(m.normalized.format_version.as_deref(), Some("0.0.1"));
        assert_eq!(
            m.normalized.vex,
            [VexStatement {
                vulnerability: "CVE-2023-12345".into(),
                aliases: vec![],
                products: vec![
                    "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7".into(),
                    "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64".into()
                ],
                status: "fixed".into(),
                justification: None,
            }]
        );
    }
    if let Some(bytes) = fixture("vex/go-vex-v0.2.0.json") {
        let n = normalized("v020.json", &bytes, None);
        assert_eq!(n.format_version.as_deref(), Some("0.2.0"));
        assert_eq!(
            statuses(&n.vex),
            BTreeMap::from([("fixed".into(), 3), ("not_affected".into(), 2)])
        );
        let s = n
            .vex
            .iter()
            .find(|s| s.vulnerability == "CVE-2023-3446")
            .unwrap();
        assert_eq!(
            s.justification.as_deref(),
            Some("vulnerable_code_not_present")
        );
        assert_eq!(s.products.len(), 3, "the image and its two subcomponents");
        assert!(
            s.products
                .contains(&"pkg:apk/alpine/libssl3@3.0.8-r3".to_owned())
        );
    }
    if let Some(bytes) = fixture("vex/guac-open-vex-not-affected.json") {
        let n = normalized("guac.json", &bytes, None);
        assert_eq!(n.format, "openvex");
        assert_eq!(n.format_version, None, "unversioned context");
        assert_eq!(n.vex.len(), 1);
        assert_eq!(
            n.vex[0].justification.as_deref(),
            Some("inline_mitigations_already_exist")
        );
    }
    if let Some(bytes) = fixture("vex/trivy.openvex.json") {
        let n = normalized("trivy.openvex.json", &bytes, None);
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let in_file = raw["statements"].as_array().unwrap();
        assert_eq!(n.vex.len(), in_file.len());
        assert_eq!(n.vex.len(), 21);
        assert!(
            n.vex
                .iter()
                .all(|s| s.status == "not_affected" && s.justification.is_some())
        );
        let helm = n
            .vex
            .iter()
            .find(|s| s.vulnerability == "GO-2024-2575")
            .unwrap();
        assert_eq!(helm.aliases, ["CVE-2024-26147", "GHSA-r53h-jv2g-vpx6"]);
        assert_eq!(
            helm.products,
            [
                "pkg:golang/github.com/aquasecurity/trivy",
                "pkg:golang/helm.sh/helm/v3"
            ]
        );
    }
}

#[test]
fn fixture_csaf_documents() {
    if let Some(bytes) = fixture("vex/csaf_vex_v0.2.1.json") {
        let m = material("csaf.json", &bytes, None);
        assert_eq!(m.kind, "CSAF_VEX");
        assert_eq!(m.normalized.format, "csaf");
        assert_eq!(m.normalized.format_version.as_deref(), Some("2.1"));
        // One statement per vulnerability (each has one status), counted from the file.
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let mut expected = BTreeMap::new();
        for v in raw["vulnerabilities"].as_array().unwrap() {
            for key in v["product_status"].as_object().unwrap().keys() {
                let status = match key.as_str() {
                    "known_not_affected" => "not_affected",
                    "known_affected" => "affected",
                    other => other,
                };
                *expected.entry(status.to_owned()).or_insert(0) += 1;
            }
        }
        assert_eq!(statuses(&m.normalized.vex), expected);
        assert_eq!(m.normalized.vex.len(), 19);
        assert_eq!(m.normalized.vex[0].products, ["CSAFPID-0001"]);
    }
    if let Some(bytes) = fixture("vex/trustify-csaf-cve-2023-0044.json") {
        let n = normalized("0044.json", &bytes, None);
        let got: Vec<_> = n
            .vex
            .iter()
            .map(|s| {
                (
                    s.vulnerability.as_str(),
                    s.status.as_str(),
                    s.products.len(),
                    s.justification.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "CVE-2023-0044",
                    "not_affected",
                    9,
                    Some("vulnerable_code_not_present")
                ),
                ("CVE-2023-0044", "affected", 1, None),
                ("CVE-2023-0044", "fixed", 2, None),
            ]
        );
        assert!(n.vex[0].aliases.is_empty(), "a Bugzilla id is not an alias");
    }
    if let Some(bytes) = fixture("vex/trustify-csaf-rhsa-2023_5835.json") {
        let n = normalized("rhsa.json", &bytes, None);
        let got: Vec<_> = n
            .vex
            .iter()
            .map(|s| {
                (
                    s.vulnerability.as_str(),
                    s.status.as_str(),
                    s.products.len(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("CVE-2023-39325", "fixed", 6),
                ("CVE-2023-44487", "fixed", 6)
            ]
        );
    }
}

// ---------------------------------------------------------------------------------
// vulnerabilities

#[test]
fn vulnerabilities_passes_fails_and_skips() {
    let clean = eval("vulnerabilities", None, &trivy(&[]), &[]);
    assert!(clean.passed(), "{clean:?}");

    let report = trivy(&[("CVE-1", "LOW", "a", "1", "")]);
    let failed = eval("vulnerabilities", None, &report, &[]);
    assert!(!failed.passed() && !failed.skipped);
    assert_eq!(
        messages(&failed),
        ["LOW vulnerability CVE-1 in a 1"],
        "the default threshold is LOW"
    );

    let other = eval(
        "vulnerabilities",
        Some("EVIDENCE"),
        r#"{"approved": true}"#,
        &[],
    );
    assert!(other.skipped);
    assert_eq!(
        other.skip_reasons,
        ["not a vulnerability report (format 'evidence')"]
    );

    let sbom = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}"#;
    let plain = eval("vulnerabilities", None, sbom, &[]);
    assert!(plain.skipped, "a plain SBOM is not a scan: {plain:?}");
    assert!(plain.skip_reasons[0].contains("no vulnerability data"));
}

#[test]
fn vulnerabilities_threshold_semantics() {
    let report = trivy(&[
        ("CVE-M", "MEDIUM", "m", "1", ""),
        ("CVE-H", "HIGH", "h", "1", ""),
        ("CVE-C", "CRITICAL", "c", "1", ""),
        ("CVE-L", "LOW", "l", "1", ""),
    ]);
    let ids = |severity: &str| {
        external_ids(&counted(&eval(
            "vulnerabilities",
            None,
            &report,
            &[("severity", severity)],
        )))
    };
    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(
        ids("MEDIUM"),
        set(&["CVE-M", "CVE-H", "CVE-C"]),
        "MEDIUM catches HIGH"
    );
    assert_eq!(ids("HIGH"), set(&["CVE-H", "CVE-C"]), "HIGH ignores MEDIUM");
    assert_eq!(ids("critical"), set(&["CVE-C"]), "case-insensitive");
    assert_eq!(ids("NONE"), set(&["CVE-L", "CVE-M", "CVE-H", "CVE-C"]));
    // Several values (Chainloop splits on commas): the lowest applies.
    assert_eq!(ids("CRITICAL, MEDIUM"), set(&["CVE-M", "CVE-H", "CVE-C"]));

    let medium_only = trivy(&[("CVE-M", "MEDIUM", "m", "1", "")]);
    assert!(
        eval(
            "vulnerabilities",
            None,
            &medium_only,
            &[("severity", "HIGH")]
        )
        .passed()
    );
}

#[test]
fn vulnerabilities_unknown_severity_ranks_with_none() {
    let report = trivy(&[("CVE-U", "UNKNOWN", "u", "1", "")]);
    assert!(eval("vulnerabilities", None, &report, &[("severity", "LOW")]).passed());
    let none = eval("vulnerabilities", None, &report, &[("severity", "NONE")]);
    assert_eq!(
        external_ids(&counted(&none)),
        BTreeSet::from(["CVE-U".to_owned()])
    );
    assert_eq!(counted(&none)[0]["severity"], "UNKNOWN");
}

#[test]
fn vulnerabilities_rejects_an_unknown_threshold() {
    let report = trivy(&[("CVE-1", "CRITICAL", "a", "1", "")]);
    let v = eval("vulnerabilities", None, &report, &[("severity", "SEVERE")]);
    assert!(!v.passed());
    assert_eq!(
        messages(&v),
        [
            "unknown severity threshold 'SEVERE'; expected one of NONE, INFO, LOW, MEDIUM, HIGH, CRITICAL"
        ]
    );
}

#[test]
fn vulnerabilities_structured_findings() {
    let report = trivy(&[("CVE-2024-1", "HIGH", "lib", "1.0", "1.5")]);
    let v = eval("vulnerabilities", None, &report, &[("severity", "HIGH")]);
    assert_eq!(v.violations.len(), 1);
    assert_eq!(
        v.violations[0].finding.as_ref().unwrap(),
        &json!({
            "message": "HIGH vulnerability CVE-2024-1 in lib 1.0 (fixed in 1.5)",
            "external_id": "CVE-2024-1",
            "package_purl": "pkg:npm/lib@1.0",
            "severity": "HIGH",
            "fixed_version": "1.5",
        })
    );
    // Without a purl (GitLab reports carry none): an empty package_purl.
    let gitlab = json!({"version": "15.0.4", "scan": {"type": "container_scanning"},
        "vulnerabilities": [{"id": "x", "severity": "High",
            "identifiers": [{"type": "cve", "name": "CVE-5", "value": "CVE-5"}],
            "location": {"dependency": {"package": {"name": "curl"}, "version": "7"}}}]});
    let v = eval(
        "vulnerabilities",
        Some("GITLAB_SECURITY_REPORT"),
        &gitlab.to_string(),
        &[],
    );
    let f = counted(&v)[0];
    assert_eq!(f["package_purl"], "");
    assert_eq!(f["external_id"], "CVE-5");
    assert_eq!(f["message"], "HIGH vulnerability CVE-5 in curl 7");
}

#[test]
fn vulnerabilities_ignored_ids_match_ids_and_aliases() {
    let grype = json!({"descriptor": {"name": "grype"}, "matches": [
        {"vulnerability": {"id": "GHSA-aaaa", "severity": "High"},
         "relatedVulnerabilities": [{"id": "CVE-1"}], "artifact": {"name": "a", "version": "1"}},
        {"vulnerability": {"id": "CVE-2", "severity": "High"}, "artifact": {"name": "b", "version": "1"}}
    ]})
    .to_string();
    let ids = |ignored: &str| {
        external_ids(&counted(&eval(
            "vulnerabilities",
            None,
            &grype,
            &[("ignored_vulnerabilities", ignored)],
        )))
    };
    assert_eq!(
        ids("cve-2"),
        BTreeSet::from(["CVE-1".to_owned()]),
        "one id, any case"
    );
    assert_eq!(
        ids("GHSA-aaaa"),
        BTreeSet::from(["CVE-2".to_owned()]),
        "by alias"
    );
    assert!(ids("GHSA-aaaa, CVE-2").is_empty(), "a list");
}

#[test]
fn vulnerabilities_vex_from_data_suppresses() {
    let report = trivy(&[
        ("CVE-1", "HIGH", "a", "1", ""),
        ("CVE-2", "HIGH", "b", "1", ""),
        ("CVE-3", "HIGH", "c", "1", ""),
    ]);
    let statement = |id: &str, status: &str, aliases: &[&str]| VexStatement {
        vulnerability: id.into(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        products: vec!["pkg:oci/some-other-image".into()],
        status: status.into(),
        justification: None,
    };
    let data = vex_data(&[
        statement("CVE-1", "not_affected", &[]),
        statement("GO-2", "fixed", &["CVE-2"]),
        statement("CVE-3", "affected", &[]),
        statement("CVE-3", "under_investigation", &[]),
    ]);
    let v = eval_with_data("vulnerabilities", None, &report, &[], data);
    assert_eq!(
        external_ids(&counted(&v)),
        BTreeSet::from(["CVE-3".to_owned()])
    );
    let quiet = suppressed(&v);
    assert_eq!(
        external_ids(&quiet),
        BTreeSet::from(["CVE-1".to_owned(), "CVE-2".to_owned()]),
        "not_affected and fixed suppress, by id or alias, whatever the products"
    );
    assert!(
        quiet.iter().any(
            |f| f["message"] == "HIGH vulnerability CVE-1 in a 1; suppressed: VEX not_affected"
        )
    );

    let all = vex_data(&[statement("CVE-3", "not_affected", &[])]);
    let only_three = trivy(&[("CVE-3", "HIGH", "c", "1", "")]);
    let v = eval_with_data("vulnerabilities", None, &only_three, &[], all);
    assert!(v.passed(), "every violation suppressed: {v:?}");
    assert_eq!(v.violations.len(), 1, "recorded, not counted");
}

#[test]
fn vulnerabilities_vex_from_an_openvex_fixture() {
    let Some(bytes) = fixture("vex/trivy.openvex.json") else {
        return;
    };
    let vex = normalized("trivy.openvex.json", &bytes, None).vex;
    // GO-2024-2575 is not_affected, with alias CVE-2024-26147.
    let report = trivy(&[
        ("CVE-2024-26147", "MEDIUM", "helm.sh/helm/v3", "3.14.0", ""),
        ("CVE-2099-0001", "MEDIUM", "other", "1", ""),
    ]);
    let v = eval_with_data("vulnerabilities", None, &report, &[], vex_data(&vex));
    assert_eq!(
        external_ids(&counted(&v)),
        BTreeSet::from(["CVE-2099-0001".to_owned()])
    );
    assert_eq!(
        external_ids(&suppressed(&v)),
        BTreeSet::from(["CVE-2024-26147".to_owned()])
    );
}

#[test]
fn vulnerabilities_inline_suppression_in_trivy_report() {
    let doc = json!({
        "SchemaVersion": 2, "ArtifactName": "app",
        "Results": [{"Target": "app",
            "Vulnerabilities": [{"VulnerabilityID": "CVE-8", "Severity": "HIGH", "PkgName": "y", "InstalledVersion": "1"}],
            "ModifiedFindings": [{"Type": "vulnerability", "Status": "not_affected",
                "Finding": {"VulnerabilityID": "CVE-9", "Severity": "CRITICAL", "PkgName": "z", "InstalledVersion": "1"}}]}]
    });
    let v = eval("vulnerabilities", None, &doc.to_string(), &[]);
    assert_eq!(
        external_ids(&counted(&v)),
        BTreeSet::from(["CVE-8".to_owned()])
    );
    assert_eq!(
        suppressed(&v)[0]["message"],
        "CRITICAL vulnerability CVE-9 in z 1; suppressed: the document marks it as not applicable"
    );
}

#[test]
fn vulnerabilities_on_real_vulnerability_reports() {
    if let Some(bytes) = fixture("vuln-reports/grype-chainguard-ruby.json") {
        let m = material("ruby.json", &bytes, None);
        let high = eval_material("vulnerabilities", &m, &[("severity", "HIGH")], &Value::Null);
        assert_eq!(counted(&high).len(), 2, "{high:?}");
        assert!(
            counted(&high)
                .iter()
                .all(|f| f["external_id"] == "CVE-2023-28755" && f["severity"] == "HIGH")
        );
        let critical = eval_material(
            "vulnerabilities",
            &m,
            &[("severity", "CRITICAL")],
            &Value::Null,
        );
        assert!(critical.passed());
    }
    if let Some(bytes) = fixture("vuln-reports/grype-keycloak.json") {
        let m = material("keycloak.json", &bytes, None);
        assert_eq!(
            counted(&eval_material(
                "vulnerabilities",
                &m,
                &[("severity", "LOW")],
                &Value::Null
            ))
            .len(),
            6
        );
        assert!(
            eval_material(
                "vulnerabilities",
                &m,
                &[("severity", "MEDIUM")],
                &Value::Null
            )
            .passed()
        );
    }
    if let Some(bytes) = fixture("vuln-reports/trivy-debian-stretch.json") {
        let m = material("debian.json", &bytes, None);
        let v = eval_material(
            "vulnerabilities",
            &m,
            &[("severity", "MEDIUM")],
            &Value::Null,
        );
        assert_eq!(counted(&v).len(), 4);
    }
    if let Some(bytes) = fixture("vuln-reports/gitlab-container-scanning-report.json") {
        let m = material("gl.json", &bytes, Some("GITLAB_SECURITY_REPORT"));
        let v = eval_material("vulnerabilities", &m, &[("severity", "HIGH")], &Value::Null);
        assert_eq!(counted(&v).len(), 50);
    }
    if let Some(bytes) = fixture("vuln-reports/ghas-dependency-scan.json") {
        let m = material("ghas.json", &bytes, Some("GHAS_DEPENDENCY_SCAN"));
        let v = eval_material(
            "vulnerabilities",
            &m,
            &[("severity", "MEDIUM")],
            &Value::Null,
        );
        assert_eq!(
            external_ids(&counted(&v)),
            BTreeSet::from(["CVE-2024-43799".to_owned()])
        );
    }
}

// These read the CycloneDX and SARIF normalizers (cyclonedx.rs, findings.rs).

#[test]
fn vulnerabilities_cyclonedx_inline_analysis() {
    let bom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "components": [{"bom-ref": "c1", "type": "library", "name": "lib", "version": "1.0",
                        "purl": "pkg:npm/lib@1.0"}],
        "vulnerabilities": [
            {"id": "CVE-10", "ratings": [{"severity": "high"}], "affects": [{"ref": "c1"}],
             "analysis": {"state": "not_affected", "justification": "code_not_reachable"}},
            {"id": "CVE-11", "ratings": [{"severity": "high"}], "affects": [{"ref": "c1"}],
             "analysis": {"state": "in_triage"}},
            {"id": "CVE-12", "ratings": [{"severity": "low"}], "affects": [{"ref": "c1"}]}
        ]
    });
    let v = eval(
        "vulnerabilities",
        None,
        &bom.to_string(),
        &[("severity", "HIGH")],
    );
    assert_eq!(
        external_ids(&counted(&v)),
        BTreeSet::from(["CVE-11".to_owned()])
    );
    assert_eq!(
        external_ids(&suppressed(&v)),
        BTreeSet::from(["CVE-10".to_owned()])
    );

    let clean = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": []});
    assert!(eval("vulnerabilities", None, &clean.to_string(), &[]).passed());
}

#[test]
fn vulnerabilities_on_real_cyclonedx_boms() {
    if let Some(bytes) = fixture("sbom-cyclonedx/dt-vex-issue2549.json") {
        let v = eval_material(
            "vulnerabilities",
            &material("dt.json", &bytes, None),
            &[("severity", "HIGH")],
            &Value::Null,
        );
        assert!(
            v.passed(),
            "3 HIGH, all not_affected or false_positive: {v:?}"
        );
        assert_eq!(suppressed(&v).len(), 3);
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/chainloop-sbom.cyclonedx-1.5-vulnerabilities.json")
    {
        let v = eval_material(
            "vulnerabilities",
            &material("cl.json", &bytes, None),
            &[("severity", "CRITICAL")],
            &Value::Null,
        );
        assert_eq!(
            external_ids(&counted(&v)),
            BTreeSet::from(["CVE-2025-4949".to_owned()]),
            "in_triage does not suppress"
        );
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/cdx-spec-valid-vulnerability-1.6.json") {
        let v = eval_material(
            "vulnerabilities",
            &material("spec.json", &bytes, None),
            &[("severity", "LOW")],
            &Value::Null,
        );
        assert!(v.passed(), "critical but not_affected: {v:?}");
        assert_eq!(suppressed(&v).len(), 1);
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/trivy-pom-cyclonedx.json") {
        let m = material("pom.json", &bytes, None);
        let at = |s: &str| {
            counted(&eval_material(
                "vulnerabilities",
                &m,
                &[("severity", s)],
                &Value::Null,
            ))
            .len()
        };
        assert_eq!((at("HIGH"), at("CRITICAL")), (2, 1));
    }
}

#[test]
fn vulnerabilities_on_sarif() {
    let sarif = json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "Trivy", "rules": [
            {"id": "CVE-2024-7", "properties": {"security-severity": "9.8"}}]}},
        "results": [{"ruleId": "CVE-2024-7", "level": "error",
                     "message": {"text": "Package: x\nInstalled Version: 1"}}]}]});
    let v = eval(
        "vulnerabilities",
        None,
        &sarif.to_string(),
        &[("severity", "HIGH")],
    );
    assert_eq!(
        external_ids(&counted(&v)),
        BTreeSet::from(["CVE-2024-7".to_owned()])
    );
    assert_eq!(counted(&v)[0]["severity"], "CRITICAL");

    if let Some(bytes) = fixture("sarif/trivy-alpine-310.sarif") {
        let m = material("alpine.sarif", &bytes, None);
        let medium = eval_material(
            "vulnerabilities",
            &m,
            &[("severity", "MEDIUM")],
            &Value::Null,
        );
        assert_eq!(
            external_ids(&counted(&medium)),
            BTreeSet::from(["CVE-2019-1549".to_owned(), "CVE-2019-1551".to_owned()])
        );
        assert!(
            eval_material("vulnerabilities", &m, &[("severity", "HIGH")], &Value::Null).passed()
        );
    }
    if let Some(bytes) = fixture("sarif/grype-image.sarif") {
        let m = material("grype.sarif", &bytes, None);
        let high = eval_material("vulnerabilities", &m, &[("severity", "HIGH")], &Value::Null);
        assert_eq!(
            counted(&high).len(),
            2,
            "security-severity 8.2 and 8.5: {high:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// cves-in-kev

#[test]
fn kev_skips_without_the_catalog() {
    let report = trivy(&[("CVE-2021-44228", "CRITICAL", "log4j", "2.14", "")]);
    let v = eval("cves-in-kev", None, &report, &[]);
    assert!(v.skipped);
    assert!(
        v.skip_reasons[0].contains("KEV catalog is not available"),
        "{v:?}"
    );
    let v = eval_with_data("cves-in-kev", None, &report, &[], json!({"vex": []}));
    assert!(v.skipped, "data without kev");
}

#[test]
fn kev_hit_and_miss() {
    let report = trivy(&[
        ("CVE-2021-44228", "LOW", "log4j", "2.14", "2.17"),
        ("CVE-2099-1", "CRITICAL", "other", "1", ""),
    ]);
    let kev = json!({"kev": small_kev(&["CVE-2021-44228"])});
    let v = eval_with_data("cves-in-kev", None, &report, &[], kev.clone());
    assert!(!v.skipped && !v.passed());
    assert_eq!(v.violations.len(), 1, "whatever the severity");
    assert_eq!(
        v.violations[0].finding.as_ref().unwrap(),
        &json!({
            "message": "CVE-2021-44228 in log4j 2.14 is a known exploited vulnerability (CISA KEV: CVE-2021-44228 exploited; added 2024-01-02, due 2024-01-23)",
            "external_id": "CVE-2021-44228",
            "package_purl": "pkg:npm/log4j@2.14",
            "severity": "LOW",
        })
    );

    let miss = trivy(&[("CVE-2099-1", "CRITICAL", "other", "1", "")]);
    let v = eval_with_data("cves-in-kev", None, &miss, &[], kev.clone());
    assert!(v.passed(), "{v:?}");

    let v = eval_with_data("cves-in-kev", Some("EVIDENCE"), r#"{"x": 1}"#, &[], kev);
    assert!(v.skipped);
    assert_eq!(
        v.skip_reasons,
        ["not a vulnerability report (format 'evidence')"]
    );
}

#[test]
fn kev_matches_aliases_and_honours_vex() {
    // Grype reports the GHSA with the CVE as related vulnerability: the CVE becomes the
    // id, the GHSA an alias, which a VEX statement can name.
    let grype = json!({"descriptor": {"name": "grype"}, "matches": [
        {"vulnerability": {"id": "GHSA-zzzz", "severity": "Medium"},
         "relatedVulnerabilities": [{"id": "CVE-2021-44228"}],
         "artifact": {"name": "log4j", "version": "2.14"}}]})
    .to_string();
    let kev = small_kev(&["CVE-2021-44228"]);
    let v = eval_with_data("cves-in-kev", None, &grype, &[], json!({"kev": kev}));
    assert_eq!(
        external_ids(&counted(&v)),
        BTreeSet::from(["CVE-2021-44228".to_owned()])
    );

    let vex = [VexStatement {
        vulnerability: "GHSA-zzzz".into(),
        aliases: vec![],
        products: vec![],
        status: "not_affected".into(),
        justification: Some("vulnerable_code_not_in_execute_path".into()),
    }];
    let v = eval_with_data(
        "cves-in-kev",
        None,
        &grype,
        &[],
        json!({"kev": kev, "vex": vex}),
    );
    assert!(v.passed(), "{v:?}");
    assert_eq!(suppressed(&v).len(), 1);
}

#[test]
fn kev_on_real_fixtures() {
    let Some(kev) = real_kev() else {
        return;
    };
    let Some(bytes) = fixture("vuln-reports/trivy-spring4shell-jre11.json") else {
        return;
    };
    let m = material("spring4shell.json", &bytes, None);
    let data = json!({"kev": kev});
    let v = eval_material("cves-in-kev", &m, &[], &data);
    assert_eq!(v.violations.len(), 1, "{v:?}");
    let f = v.violations[0].finding.as_ref().unwrap();
    assert_eq!(f["external_id"], "CVE-2022-22965");
    assert_eq!(f["severity"], "CRITICAL");
    assert_eq!(
        f["package_purl"],
        "pkg:maven/org.springframework/spring-beans@5.3.15"
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Spring Framework JDK 9+ Remote Code Execution Vulnerability"),
        "{f}"
    );

    // Misses, checked against the catalog itself.
    let listed: BTreeSet<&str> = data["kev"]["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cveID"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 1404);
    for file in [
        "trivy-alpine-310.json",
        "grype-keycloak.json",
        "trivy-debian-stretch.json",
    ] {
        let Some(bytes) = fixture(&format!("vuln-reports/{file}")) else {
            return;
        };
        let m = material(file, &bytes, None);
        let expected: BTreeSet<String> = m
            .normalized
            .vulnerabilities
            .iter()
            .filter(|v| listed.contains(v.id.as_str()))
            .map(|v| v.id.clone())
            .collect();
        let v = eval_material("cves-in-kev", &m, &[], &data);
        assert!(!v.skipped);
        assert_eq!(external_ids(&counted(&v)), expected, "{file}");
    }
}

#[test]
fn kev_and_a_csaf_advisory_as_vex() {
    let (Some(kev), Some(csaf)) = (real_kev(), fixture("vex/trustify-csaf-rhsa-2023_5835.json"))
    else {
        return;
    };
    // CVE-2023-44487 (HTTP/2 Rapid Reset) is in the catalog; the Red Hat advisory says
    // it is fixed.
    let report = trivy(&[(
        "CVE-2023-44487",
        "HIGH",
        "golang.org/x/net",
        "0.15.0",
        "0.17.0",
    )]);
    let hit = eval_with_data("cves-in-kev", None, &report, &[], json!({"kev": kev}));
    assert_eq!(
        external_ids(&counted(&hit)),
        BTreeSet::from(["CVE-2023-44487".to_owned()])
    );
    let vex = normalized("rhsa.json", &csaf, None).vex;
    let v = eval_with_data(
        "cves-in-kev",
        None,
        &report,
        &[],
        json!({"kev": kev, "vex": vex}),
    );
    assert!(v.passed(), "{v:?}");
    assert!(
        suppressed(&v)[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("; suppressed: VEX fixed")
    );
}

// ---------------------------------------------------------------------------------
// vulnerability-management

#[test]
fn vulnerability_management_group() {
    let group = builtin::group("vulnerability-management").expect("the group is built in");
    let refs: BTreeSet<&str> = group.attachments().map(|a| a.reference.as_str()).collect();
    assert_eq!(refs, BTreeSet::from(["cves-in-kev", "vulnerabilities"]));
    for a in group.attachments() {
        assert!(
            builtin::policy(&a.reference).is_some(),
            "{} is built in",
            a.reference
        );
    }

    let report = trivy(&[
        ("CVE-2021-44228", "MEDIUM", "log4j", "2.14", ""),
        ("CVE-2", "HIGH", "b", "1", ""),
    ]);
    let materials = [material("report.json", report.as_bytes(), None)];
    let data = json!({"kev": small_kev(&["CVE-2021-44228"])});
    let run = |with: &[(&str, &str)]| {
        let with: BTreeMap<String, String> = with
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let results = evaluate_group(
            group,
            &with,
            &materials,
            builtin::policy,
            NOW_MS,
            &data,
            &Limits::default(),
        )
        .unwrap();
        results
            .into_iter()
            .map(|r| {
                let ids = external_ids(&counted(&r.outcome.verdict));
                (r.policy, r.outcome.args.get("severity").cloned(), ids)
            })
            .collect::<Vec<_>>()
    };
    let ids = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(
        run(&[]),
        [
            (
                "vulnerabilities".to_owned(),
                Some("HIGH".to_owned()),
                ids(&["CVE-2"])
            ),
            ("cves-in-kev".to_owned(), None, ids(&["CVE-2021-44228"])),
        ],
        "HIGH by default; KEV whatever the severity"
    );
    assert_eq!(
        run(&[("severity", "MEDIUM"), ("ignored_vulnerabilities", "CVE-2")])[0],
        (
            "vulnerabilities".to_owned(),
            Some("MEDIUM".to_owned()),
            ids(&["CVE-2021-44228"])
        )
    );
}

/// Both policies run without an evaluation error on every fixture they apply to, and
/// skip exactly the documents that are not vulnerability reports.
#[test]
fn policies_evaluate_every_fixture() {
    let Some(kev) = real_kev() else {
        return;
    };
    let data = json!({"kev": kev, "vex": []});
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let mut evaluated = 0;
    for dir in [
        "vuln-reports",
        "sarif",
        "sbom-cyclonedx",
        "vex",
        "secrets",
        "scorecard",
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(m) = comply_policy::material::load(&name, &bytes, None) else {
                continue;
            };
            for policy in ["vulnerabilities", "cves-in-kev"] {
                if !builtin::policy(policy).unwrap().applies_to(&m.kind) {
                    continue;
                }
                let v = eval_material(policy, &m, &[], &data);
                let report = !m.normalized.vulnerabilities.is_empty()
                    || ["grype", "trivy", "gitlab", "ghas-dependency-scan", "sarif"]
                        .contains(&m.normalized.format.as_str())
                    || m.content
                        .get("vulnerabilities")
                        .is_some_and(Value::is_array);
                assert_eq!(v.skipped, !report, "{policy} on {dir}/{name}: {v:?}");
                evaluated += 1;
            }
        }
    }
    assert!(evaluated > 20, "{evaluated}");
}
