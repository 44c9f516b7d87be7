//! Built-in policies: the SBOM family (sbom-present, sbom-ntia, sbom-banned-licenses,
//! sbom-banned-components, sbom-with-licenses, sbom-freshness, sbom-version,
//! containers-with-sbom), the sbom-quality group, and the CycloneDX and SPDX
//! normalizers they read through `input.comply`.

use crate::support::*;
use base64::Engine as _;
use comply_policy::material::{self, Component, Normalized, VexStatement};
use comply_policy::{GroupResult, Limits, Verdict, builtin, evaluate_group};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const CDX: Option<&str> = Some("SBOM_CYCLONEDX_JSON");
const SPDX: Option<&str> = Some("SBOM_SPDX_JSON");
const ATT: Option<&str> = Some("ATTESTATION");

/// Every built-in policy of this family that reads SBOMs.
const SBOM_POLICIES: [&str; 7] = [
    "sbom-ntia",
    "sbom-banned-licenses",
    "sbom-banned-components",
    "sbom-with-licenses",
    "sbom-freshness",
    "sbom-version",
    "containers-with-sbom",
];

// ---------------------------------------------------------------------------------
// Helpers

fn normalized(bytes: &[u8], kind: Option<&str>) -> Normalized {
    material::load("sbom.json", bytes, kind)
        .unwrap_or_else(|e| panic!("{e}"))
        .normalized
}

fn component<'a>(n: &'a Normalized, name: &str) -> &'a Component {
    n.components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

/// A CycloneDX 1.6 BOM with these components; everything NTIA asks for is present.
fn cdx(components: Value) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": "2025-12-20T10:00:00Z",
            "authors": [{"name": "Build team"}],
            "component": {"bom-ref": "app", "type": "application", "name": "app", "version": "1.0"}
        },
        "components": components,
        "dependencies": [{"ref": "app", "dependsOn": ["lib-a"]}]
    })
}

/// A library component with a purl, a supplier and these licenses (CycloneDX form).
fn lib(name: &str, version: &str, licenses: Value) -> Value {
    json!({
        "bom-ref": format!("lib-{name}"),
        "type": "library",
        "name": name,
        "version": version,
        "purl": format!("pkg:npm/{name}@{version}"),
        "supplier": {"name": "Acme"},
        "licenses": licenses
    })
}

fn id(license: &str) -> Value {
    json!([{"license": {"id": license}}])
}

/// An SPDX 2.3 document with these packages; NTIA-complete.
fn spdx(packages: Value) -> Value {
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "app",
        "documentNamespace": "https://example.com/app",
        "creationInfo": {
            "created": "2025-12-20T10:00:00Z",
            "creators": ["Organization: Acme", "Tool: syft-1.0"]
        },
        "packages": packages,
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": "SPDXRef-a", "relationshipType": "DESCRIBES"},
            {"spdxElementId": "SPDXRef-a", "relatedSpdxElement": "SPDXRef-b", "relationshipType": "DEPENDS_ON"}
        ]
    })
}

fn package(spdx_id: &str, name: &str, version: &str, license: &str) -> Value {
    json!({
        "SPDXID": spdx_id,
        "name": name,
        "versionInfo": version,
        "supplier": "Organization: Acme",
        "downloadLocation": "NOASSERTION",
        "licenseConcluded": license,
        "licenseDeclared": "NOASSERTION",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                          "referenceLocator": format!("pkg:npm/{name}@{version}")}]
    })
}

fn check(policy: &str, kind: Option<&str>, doc: &Value, with: &[(&str, &str)]) -> Verdict {
    eval(policy, kind, &doc.to_string(), with)
}

#[track_caller]
fn assert_pass(v: &Verdict) {
    assert!(v.passed(), "expected a pass: {v:?}");
}

#[track_caller]
fn assert_messages(v: &Verdict, expected: &[&str]) {
    assert!(!v.skipped, "expected an evaluation, got skipped: {v:?}");
    let mut got = messages(v);
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[track_caller]
fn assert_skipped(v: &Verdict, reason: &str) {
    assert!(v.skipped, "expected skipped: {v:?}");
    assert!(
        v.violations.is_empty(),
        "a skipped verdict has no violations: {v:?}"
    );
    assert_eq!(v.skip_reasons, [reason]);
}

fn fixture_material(path: &str, kind: Option<&str>) -> Option<comply_policy::Material> {
    fixture(path).map(|bytes| material(path, &bytes, kind))
}

fn on(policy: &str, m: &comply_policy::Material, with: &[(&str, &str)]) -> Verdict {
    eval_material(policy, m, with, &Value::Null)
}

// ---------------------------------------------------------------------------------
// Normalizers

#[test]
fn cyclonedx_normalizer_reads_components() {
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"timestamp": "2025-01-02T03:04:05Z",
                     "component": {"type": "application", "name": "the-app"}},
        "components": [
            {"type": "Library", "name": "outer", "version": "1.0", "purl": "pkg:npm/outer@1.0",
             "licenses": [{"license": {"id": "MIT"}}, {"license": {"name": "Custom Terms"}}],
             "supplier": {"name": "Outer Inc"},
             "components": [
                 {"type": "library", "name": "inner", "version": "2.0",
                  "cpe": "cpe:2.3:a:x:inner:2.0:*:*:*:*:*:*:*",
                  "licenses": [{"expression": "Apache-2.0 OR MIT"}], "publisher": "Inner Pub"}
             ]},
            {"type": "file", "name": "notes.txt", "author": "Jane",
             "swid": {"tagId": "x", "name": "notes"}},
            {"type": "library", "name": "bare"}
        ]
    });
    let n = normalized(doc.to_string().as_bytes(), None);
    assert_eq!(n.format, "cyclonedx");
    assert_eq!(n.format_version.as_deref(), Some("1.5"));
    assert_eq!(n.created.as_deref(), Some("2025-01-02T03:04:05Z"));
    let names: Vec<&str> = n.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["outer", "inner", "notes.txt", "bare"],
        "nested components included, metadata.component not"
    );
    assert_eq!(
        *component(&n, "outer"),
        Component {
            name: "outer".into(),
            version: Some("1.0".into()),
            purl: Some("pkg:npm/outer@1.0".into()),
            r#type: Some("library".into()),
            licenses: vec!["MIT".into(), "Custom Terms".into()],
            supplier: Some("Outer Inc".into()),
            has_identifier: true,
        }
    );
    let inner = component(&n, "inner");
    assert_eq!(inner.licenses, ["Apache-2.0 OR MIT"]);
    assert_eq!(inner.supplier.as_deref(), Some("Inner Pub"));
    assert!(inner.has_identifier, "a CPE is an identifier");
    let notes = component(&n, "notes.txt");
    assert_eq!(
        (notes.supplier.as_deref(), notes.has_identifier),
        (Some("Jane"), true)
    );
    let bare = component(&n, "bare");
    assert_eq!(
        (
            bare.version.as_deref(),
            bare.supplier.as_deref(),
            bare.has_identifier
        ),
        (None, None, false)
    );
    assert!(bare.licenses.is_empty());
}

/// id, severity, package, version, purl, suppressed.
type Row<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    bool,
);

#[test]
fn cyclonedx_normalizer_reads_vulnerabilities_and_analysis() {
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"bom-ref": "root", "type": "application", "name": "app", "version": "3.1"}},
        "components": [
            {"bom-ref": "c1", "type": "library", "name": "lib", "version": "1.0", "purl": "pkg:npm/lib@1.0"},
            {"bom-ref": "c2", "type": "library", "name": "other", "version": "2.0"}
        ],
        "vulnerabilities": [
            {"id": "CVE-2024-1", "ratings": [{"severity": "medium"}, {"score": 9.1}, {"severity": "unknown"}],
             "affects": [{"ref": "c1"}, {"ref": "c2"}]},
            {"id": "GHSA-aaaa-bbbb-cccc", "references": [{"id": "CVE-2024-2"}, {"id": "OSV-7"}],
             "affects": [{"ref": "pkg:maven/org.x/y@1.2%2B3"}],
             "analysis": {"state": "not_affected", "justification": "code_not_present"}},
            {"id": "CVE-2024-3", "ratings": [{"severity": "low", "score": 8.0}],
             "affects": [{"ref": "root"}], "analysis": {"state": "false_positive"}},
            {"id": "CVE-2024-4", "affects": [{"ref": "c1"}], "analysis": {"state": "resolved"}},
            {"id": "CVE-2024-5", "ratings": [{"severity": "high"}], "analysis": {"state": "exploitable"}},
            {"id": "CVE-2024-6", "ratings": [{"severity": "none", "score": 0}],
             "affects": [{"ref": "c1"}], "analysis": {"state": "in_triage"}}
        ]
    });
    let n = normalized(doc.to_string().as_bytes(), CDX);
    let rows: Vec<Row> = n
        .vulnerabilities
        .iter()
        .map(|v| {
            (
                v.id.as_str(),
                v.severity.as_str(),
                v.package.as_deref(),
                v.version.as_deref(),
                v.purl.as_deref(),
                v.suppressed,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "CVE-2024-1",
                "CRITICAL",
                Some("lib"),
                Some("1.0"),
                Some("pkg:npm/lib@1.0"),
                false
            ),
            (
                "CVE-2024-1",
                "CRITICAL",
                Some("other"),
                Some("2.0"),
                None,
                false
            ),
            (
                "CVE-2024-2",
                "UNKNOWN",
                Some("y"),
                Some("1.2+3"),
                Some("pkg:maven/org.x/y@1.2%2B3"),
                true
            ),
            ("CVE-2024-3", "LOW", Some("app"), Some("3.1"), None, true),
            (
                "CVE-2024-4",
                "UNKNOWN",
                Some("lib"),
                Some("1.0"),
                Some("pkg:npm/lib@1.0"),
                true
            ),
            ("CVE-2024-5", "HIGH", None, None, None, false),
            (
                "CVE-2024-6",
                "NONE",
                Some("lib"),
                Some("1.0"),
                Some("pkg:npm/lib@1.0"),
                false
            ),
        ],
        "one entry per affected ref; the rating word wins over its score; the highest rating counts"
    );
    assert_eq!(
        n.vulnerabilities[2].aliases,
        ["GHSA-aaaa-bbbb-cccc", "OSV-7"],
        "the CVE from references becomes the id; the scanner's id an alias"
    );
    let vex: Vec<(&str, &str, Vec<&str>, Option<&str>)> = n
        .vex
        .iter()
        .map(|s: &VexStatement| {
            (
                s.vulnerability.as_str(),
                s.status.as_str(),
                s.products.iter().map(String::as_str).collect(),
                s.justification.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        vex,
        [
            (
                "CVE-2024-2",
                "not_affected",
                vec!["pkg:maven/org.x/y@1.2%2B3"],
                Some("code_not_present")
            ),
            ("CVE-2024-3", "not_affected", vec!["root"], None),
            ("CVE-2024-4", "fixed", vec!["pkg:npm/lib@1.0"], None),
            ("CVE-2024-5", "affected", vec![], None),
            (
                "CVE-2024-6",
                "under_investigation",
                vec!["pkg:npm/lib@1.0"],
                None
            ),
        ]
    );
}

#[test]
fn spdx_normalizer_reads_packages() {
    let doc = json!({
        "spdxVersion": "SPDX-2.2",
        "creationInfo": {"created": "2024-05-06T07:08:09Z", "creators": ["Tool: x"]},
        "packages": [
            {"SPDXID": "SPDXRef-os", "name": "debian", "versionInfo": "12",
             "primaryPackagePurpose": "OPERATING-SYSTEM", "supplier": "Organization: Debian",
             "licenseConcluded": "NOASSERTION", "licenseDeclared": "GPL-2.0-only",
             "externalRefs": [{"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
                               "referenceLocator": "cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"}]},
            {"SPDXID": "SPDXRef-lib", "name": "zlib", "versionInfo": "1.3",
             "licenseConcluded": "Zlib", "licenseDeclared": "Zlib", "supplier": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:deb/debian/zlib@1.3"}]},
            {"SPDXID": "SPDXRef-none", "name": "mystery", "versionInfo": "NOASSERTION",
             "licenseConcluded": "NONE", "supplier": "Person: Jo Doe (jo@example.com)"}
        ]
    });
    let n = normalized(doc.to_string().as_bytes(), None);
    assert_eq!(n.format, "spdx");
    assert_eq!(n.format_version.as_deref(), Some("2.2"));
    assert_eq!(n.created.as_deref(), Some("2024-05-06T07:08:09Z"));
    assert_eq!(
        n.components,
        [
            Component {
                name: "debian".into(),
                version: Some("12".into()),
                purl: None,
                r#type: Some("operating-system".into()),
                licenses: vec!["GPL-2.0-only".into()],
                supplier: Some("Debian".into()),
                has_identifier: true,
            },
            Component {
                name: "zlib".into(),
                version: Some("1.3".into()),
                purl: Some("pkg:deb/debian/zlib@1.3".into()),
                r#type: None,
                licenses: vec!["Zlib".into()],
                supplier: None,
                has_identifier: true,
            },
            Component {
                name: "mystery".into(),
                version: None,
                purl: None,
                r#type: None,
                licenses: vec![],
                supplier: Some("Jo Doe (jo@example.com)".into()),
                has_identifier: false,
            },
        ]
    );
}

#[test]
fn normalizers_on_real_cyclonedx_boms() {
    if let Some(bytes) = fixture("sbom-cyclonedx/juice-shop-bom.1.4.json") {
        let n = normalized(&bytes, None);
        assert_eq!(
            (
                n.format.as_str(),
                n.format_version.as_deref(),
                n.created.as_deref()
            ),
            ("cyclonedx", Some("1.4"), None),
            "juice-shop's BOM has no metadata.timestamp"
        );
        assert_eq!(
            n.components.len(),
            1115,
            "837 top-level + nested components"
        );
        assert!(n.components.iter().all(|c| c.has_identifier));
        assert_eq!(
            n.components
                .iter()
                .filter(|c| c.licenses.is_empty())
                .count(),
            9
        );
        assert_eq!(
            n.components.iter().filter(|c| c.supplier.is_none()).count(),
            140
        );
        let babel = component(&n, "helper-string-parser");
        assert_eq!(
            (babel.supplier.as_deref(), babel.licenses.as_slice()),
            (Some("The Babel Team"), &["MIT".to_owned()][..]),
            "supplier from the npm author"
        );
        assert!(
            n.components
                .iter()
                .any(|c| c.licenses == ["(MIT OR Apache-2.0)"])
        );
        assert!(n.vulnerabilities.is_empty() && n.vex.is_empty());
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/chainloop-sbom.cyclonedx-1.5-vulnerabilities.json")
    {
        let n = normalized(&bytes, None);
        assert_eq!(n.components.len(), 250);
        assert_eq!(n.created.as_deref(), Some("2024-01-27T22:30:07+01:00"));
        assert_eq!(n.vulnerabilities.len(), 1);
        let v = &n.vulnerabilities[0];
        assert_eq!(
            (
                v.id.as_str(),
                v.severity.as_str(),
                v.package.as_deref(),
                v.suppressed
            ),
            ("CVE-2025-4949", "CRITICAL", Some("org.eclipse.jgit"), false),
            "affects a purl that is no component's bom-ref: package from the purl; in_triage does not suppress"
        );
        assert_eq!(n.vex.len(), 1);
        assert_eq!(n.vex[0].status, "under_investigation");
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/trivy-pom-cyclonedx.json") {
        let n = normalized(&bytes, None);
        assert_eq!(n.format_version.as_deref(), Some("1.7"));
        assert_eq!(n.components.len(), 3);
        let vulns: Vec<(&str, &str, Option<&str>)> = n
            .vulnerabilities
            .iter()
            .map(|v| (v.id.as_str(), v.severity.as_str(), v.version.as_deref()))
            .collect();
        assert_eq!(
            vulns,
            [
                ("CVE-2020-9548", "CRITICAL", Some("2.9.1")),
                ("CVE-2021-20190", "HIGH", Some("2.9.1"))
            ]
        );
        assert!(
            n.vulnerabilities
                .iter()
                .all(|v| v.package.as_deref() == Some("jackson-databind"))
        );
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/dt-vex-issue2549.json") {
        let n = normalized(&bytes, None);
        assert!(n.components.is_empty());
        assert_eq!(n.vulnerabilities.len(), 3);
        assert!(n.vulnerabilities.iter().all(|v| v.suppressed
            && v.severity == "HIGH"
            && v.package.as_deref() == Some("Acme example")));
        assert!(n.vex.iter().all(|s| s.status == "not_affected"));
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/cdx-spec-valid-vulnerability-1.6.json") {
        let n = normalized(&bytes, None);
        let v = &n.vulnerabilities[0];
        assert_eq!(
            (v.id.as_str(), v.aliases.as_slice(), v.severity.as_str()),
            (
                "CVE-2018-7489",
                &["SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111".to_owned()][..],
                "CRITICAL"
            )
        );
        assert_eq!(
            n.vex[0].justification.as_deref(),
            Some("code_not_reachable")
        );
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/cdx-examples-vex-cisa-case2.json") {
        let n = normalized(&bytes, None);
        assert_eq!((n.vulnerabilities.len(), n.vex.len()), (19, 19));
        assert!(
            n.vulnerabilities
                .iter()
                .all(|v| v.suppressed && v.severity == "NONE")
        );
    }
    if let Some(bytes) = fixture("sbom-cyclonedx/trustify-example_container_variant_amd64.json") {
        let n = normalized(&bytes, None);
        assert_eq!(n.components.len(), 348);
        let image = component(&n, "openshift/ose-openstack-cinder-csi-driver-operator");
        assert_eq!(image.r#type.as_deref(), Some("container"));
        assert_eq!(component(&n, "acl").licenses, ["GPLv2+"]);
    }
}

#[test]
fn normalizers_on_real_spdx_documents() {
    if let Some(bytes) = fixture("sbom-spdx/trustify-ubi9-9.2-755.1697625012.json") {
        let n = normalized(&bytes, None);
        assert_eq!(
            (
                n.format.as_str(),
                n.format_version.as_deref(),
                n.created.as_deref()
            ),
            ("spdx", Some("2.2"), Some("2023-11-01T13:30:00Z"))
        );
        assert_eq!(n.components.len(), 610);
        assert!(
            n.components
                .iter()
                .all(|c| c.purl.is_some() && c.supplier.as_deref() == Some("Red Hat"))
        );
        assert_eq!(
            n.components
                .iter()
                .filter(|c| c.licenses.is_empty())
                .count(),
            37
        );
    }
    if let Some(bytes) = fixture("sbom-spdx/chainloop-sbom-spdx-container.json") {
        let n = normalized(&bytes, None);
        let image = &n.components[0];
        assert_eq!(
            (
                image.r#type.as_deref(),
                image.supplier.as_deref(),
                image.licenses.len()
            ),
            (Some("container"), Some("Chainloop"), 0),
            "NOASSERTION is no license"
        );
        assert_eq!(component(&n, "libc").licenses, ["GPL-2.0-only"]);
    }
    if let Some(bytes) = fixture("sbom-spdx/guac-alpine-spdx.json") {
        let n = normalized(&bytes, None);
        assert_eq!(n.format_version.as_deref(), Some("2.2"));
        assert_eq!(n.components.len(), 14);
        assert_eq!(component(&n, "busybox").licenses, ["GPL-2.0-only"]);
    }
    if let Some(bytes) = fixture("sbom-spdx/spdx-examples-example11-sbom.spdx.json") {
        let n = normalized(&bytes, None);
        assert_eq!(n.components.len(), 4);
        assert_eq!(
            component(&n, "tokio").purl.as_deref(),
            Some("pkg:cargo/tokio@1.19.2")
        );
    }
    if let Some(bytes) = fixture("sbom-spdx/spdx-examples-example11-sbom.spdx3.json") {
        let n = normalized(&bytes, SPDX);
        assert_eq!(
            (
                n.format.as_str(),
                n.format_version.as_deref(),
                n.created.as_deref(),
                n.components.len()
            ),
            ("spdx", Some("3"), Some("2022-11-03T07:10:10Z"), 0),
            "SPDX 3 is not SPDX 2: version and creation time only"
        );
    }
}

// ---------------------------------------------------------------------------------
// Every SBOM policy skips a document that is not of its kind

#[test]
fn sbom_policies_skip_documents_of_another_format() {
    let spdx_doc = spdx(json!([package("SPDXRef-a", "a", "1.0", "MIT")]));
    let cdx_doc = cdx(json!([lib("a", "1.0", id("MIT"))]));
    let with: &[(&str, &str)] = &[("licenses", "GPL"), ("components", "a")];
    for policy in SBOM_POLICIES {
        let v = check(policy, CDX, &spdx_doc, with);
        assert_skipped(&v, "the file content is not recognized");
        let v = check(policy, SPDX, &cdx_doc, with);
        assert_skipped(&v, "the file content is not recognized");
        let v = check(policy, CDX, &json!({"hello": "world"}), with);
        assert_skipped(&v, "the file content is not recognized");
    }
}

// ---------------------------------------------------------------------------------
// sbom-present

fn statement(materials: Value) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "git.head", "digest": {"sha1": "abc"}}],
        "predicateType": "chainloop.dev/attestation/v0.2",
        "predicate": {"materials": materials}
    })
}

fn att_material(kind: &str, name: &str) -> Value {
    json!({"name": name, "digest": {"sha256": "00"},
           "annotations": {"chainloop.material.name": name, "chainloop.material.type": kind}})
}

fn dsse(statement: &Value) -> Value {
    json!({
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
        "signatures": [{"sig": "AA=="}]
    })
}

#[test]
fn sbom_present_passes_fails_and_skips() {
    let with_sbom = statement(json!([
        att_material("CONTAINER_IMAGE", "ghcr.io/acme/app"),
        att_material("SBOM_SPDX_JSON", "sbom.spdx.json"),
    ]));
    assert_pass(&check("sbom-present", ATT, &with_sbom, &[]));
    assert_pass(&check("sbom-present", ATT, &dsse(&with_sbom), &[]));
    let without = statement(json!([att_material("CONTAINER_IMAGE", "ghcr.io/acme/app")]));
    assert_messages(
        &check("sbom-present", ATT, &without, &[]),
        &["missing SBOM material"],
    );
    assert_messages(
        &check("sbom-present", ATT, &dsse(&without), &[]),
        &["missing SBOM material"],
    );
    let no_materials = statement(Value::Null);
    assert_messages(
        &check("sbom-present", ATT, &no_materials, &[]),
        &["missing SBOM material"],
    );
    assert_skipped(
        &check(
            "sbom-present",
            ATT,
            &json!({"payload": "%%%", "payloadType": "x"}),
            &[],
        ),
        "the file content is not recognized",
    );
}

#[test]
fn sbom_present_on_real_attestations() {
    // Chainloop's own evaluation recorded in this bundle says "missing SBOM material".
    if let Some(m) = fixture_material(
        "chainloop-attestations/verifier-bundle_valid.sigstore.json",
        None,
    ) {
        assert_eq!(m.kind, "ATTESTATION");
        assert_messages(&on("sbom-present", &m, &[]), &["missing SBOM material"]);
    }
    // Two CycloneDX SBOMs among 17 materials.
    if let Some(m) = fixture_material("chainloop-attestations/policies-statement.json", ATT) {
        assert_pass(&on("sbom-present", &m, &[]));
    }
    // A DSSE envelope with two CycloneDX SBOMs.
    if let Some(m) = fixture_material("chainloop-attestations/biz-full.dsse.json", None) {
        assert_pass(&on("sbom-present", &m, &[]));
    }
    if let Some(m) = fixture_material(
        "chainloop-attestations/attestation-dsse-invalid-payload.json",
        ATT,
    ) {
        assert_skipped(
            &on("sbom-present", &m, &[]),
            "the file content is not recognized",
        );
    }
}

// ---------------------------------------------------------------------------------
// containers-with-sbom

#[test]
fn containers_with_sbom_on_attestations() {
    let one_each = statement(json!([
        att_material("CONTAINER_IMAGE", "ghcr.io/acme/app"),
        att_material("SBOM_CYCLONEDX_JSON", "sbom.cdx.json"),
    ]));
    assert_pass(&check("containers-with-sbom", ATT, &one_each, &[]));
    let no_image = statement(json!([att_material("ARTIFACT", "app.tar.gz")]));
    assert_pass(&check("containers-with-sbom", ATT, &no_image, &[]));
    let no_sbom = statement(json!([
        att_material("CONTAINER_IMAGE", "ghcr.io/acme/b"),
        att_material("CONTAINER_IMAGE", "ghcr.io/acme/a"),
    ]));
    assert_messages(
        &check("containers-with-sbom", ATT, &no_sbom, &[]),
        &["no SBOM material for the container image(s) ghcr.io/acme/a, ghcr.io/acme/b"],
    );
    let short = statement(json!([
        att_material("CONTAINER_IMAGE", "ghcr.io/acme/a"),
        att_material("CONTAINER_IMAGE", "ghcr.io/acme/b"),
        att_material("SBOM_SPDX_JSON", "a.spdx.json"),
    ]));
    assert_messages(
        &check("containers-with-sbom", ATT, &dsse(&short), &[]),
        &[
            "2 container images but 1 SBOM material(s): each image needs its SBOM (images: ghcr.io/acme/a, ghcr.io/acme/b)",
        ],
    );
    assert_skipped(
        &check(
            "containers-with-sbom",
            ATT,
            &json!({"not": "a statement"}),
            &[],
        ),
        "the file content is not recognized",
    );
}

#[test]
fn containers_with_sbom_on_sboms() {
    let mut image = cdx(json!([lib("a", "1.0", id("MIT"))]));
    image["metadata"]["component"] = json!({"type": "container", "name": "ghcr.io/acme/app"});
    assert_pass(&check("containers-with-sbom", CDX, &image, &[]));
    let oci = cdx(json!([{"type": "library", "name": "app", "purl": "pkg:oci/app@sha256%3Aab"}]));
    assert_pass(&check("containers-with-sbom", CDX, &oci, &[]));
    let app = cdx(json!([lib("a", "1.0", id("MIT"))]));
    assert_messages(
        &check("containers-with-sbom", CDX, &app, &[]),
        &[
            "the SBOM does not describe a container image (its subject: application 'app'; no component is a container)",
        ],
    );
    let mut spdx_image = spdx(json!([package("SPDXRef-a", "app", "1.0", "MIT")]));
    spdx_image["packages"][0]["primaryPackagePurpose"] = json!("CONTAINER");
    assert_pass(&check("containers-with-sbom", SPDX, &spdx_image, &[]));
    let spdx_app = spdx(json!([package("SPDXRef-a", "lib", "1.0", "MIT")]));
    assert_messages(
        &check("containers-with-sbom", SPDX, &spdx_app, &[]),
        &[
            "the SBOM does not describe a container image (its subject: 'app'; no component is a container)",
        ],
    );
}

#[test]
fn containers_with_sbom_on_fixtures() {
    // Chainloop's release: 3 images (control-plane, artifact-cas, cli), 2 SBOMs.
    if let Some(m) = fixture_material("chainloop-attestations/policies-statement.json", ATT) {
        assert_messages(
            &on("containers-with-sbom", &m, &[]),
            &[
                "3 container images but 2 SBOM material(s): each image needs its SBOM (images: ghcr.io/chainloop-dev/chainloop/artifact-cas, ghcr.io/chainloop-dev/chainloop/cli, ghcr.io/chainloop-dev/chainloop/control-plane)",
            ],
        );
    }
    for path in [
        "sbom-cyclonedx/trustify-example_container_variant_amd64.json",
        "sbom-cyclonedx/guac-big-mongo-cyclonedx.json",
        "sbom-spdx/chainloop-sbom-spdx-container.json",
        // No primary package purpose, but the described package has a pkg:oci purl.
        "sbom-spdx/trustify-ubi9-9.2-755.1697625012.json",
    ] {
        if let Some(m) = fixture_material(path, None) {
            assert_pass(&on("containers-with-sbom", &m, &[]));
        }
    }
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        assert_messages(
            &on("containers-with-sbom", &m, &[]),
            &[
                "the SBOM does not describe a container image (its subject: application 'juice-shop'; no component is a container)",
            ],
        );
    }
    if let Some(m) = fixture_material("sbom-spdx/spdx-examples-example11-sbom.spdx3.json", SPDX) {
        assert_skipped(
            &on("containers-with-sbom", &m, &[]),
            "SPDX 3 documents are not supported by this policy (their packages are not read)",
        );
    }
}

// ---------------------------------------------------------------------------------
// sbom-ntia

#[test]
fn sbom_ntia_passes_complete_sboms() {
    assert_pass(&check(
        "sbom-ntia",
        CDX,
        &cdx(json!([lib("a", "1.0", id("MIT"))])),
        &[],
    ));
    assert_pass(&check(
        "sbom-ntia",
        SPDX,
        &spdx(json!([
            package("SPDXRef-a", "a", "1.0", "MIT"),
            package("SPDXRef-b", "b", "2.0", "MIT")
        ])),
        &[],
    ));
}

#[test]
fn sbom_ntia_reports_missing_elements_with_counts() {
    let mut components: Vec<Value> = (0..7)
        .map(|i| json!({"type": "library", "name": format!("pkg{i}"), "version": "1"}))
        .collect();
    components.push(lib("good", "1.0", id("MIT")));
    components.push(
        json!({"type": "library", "name": "", "purl": "pkg:npm/x@1", "supplier": {"name": "S"}}),
    );
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"tools": [{"name": "syft"}]},
        "components": components
    });
    assert_messages(
        &check("sbom-ntia", CDX, &doc, &[]),
        &[
            "the SBOM does not name its author (CycloneDX metadata.authors, manufacturer or supplier)",
            "the SBOM has no timestamp",
            "the SBOM records no dependency relationships between its components",
            "7 of 9 components have no supplier: pkg0@1, pkg1@1, pkg2@1, pkg3@1, pkg4@1, ...",
            "1 of 9 components have no name",
            "1 of 9 components have no version: (unnamed)",
            "7 of 9 components have no unique identifier (purl, CPE or SWID): pkg0@1, pkg1@1, pkg2@1, pkg3@1, pkg4@1, ...",
        ],
    );
    let mut doc = spdx(json!([
        package("SPDXRef-a", "a", "1.0", "MIT"),
        {"SPDXID": "SPDXRef-b", "name": "b", "versionInfo": "NOASSERTION", "supplier": "NOASSERTION"}
    ]));
    doc["creationInfo"] = json!({"creators": ["Tool: syft-1.0"]});
    doc["relationships"] = json!([{"spdxElementId": "SPDXRef-DOCUMENT",
        "relatedSpdxElement": "SPDXRef-a", "relationshipType": "DESCRIBES"}]);
    assert_messages(
        &check("sbom-ntia", SPDX, &doc, &[]),
        &[
            "the SBOM does not name its author (an Organization or Person in SPDX creationInfo.creators)",
            "the SBOM has no timestamp",
            "the SBOM records no dependency relationships between its components",
            "1 of 2 components have no supplier: b",
            "1 of 2 components have no version: b",
            "1 of 2 components have no unique identifier (purl, CPE or SWID): b",
        ],
    );
}

#[test]
fn sbom_ntia_on_fixtures() {
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        assert_messages(
            &on("sbom-ntia", &m, &[]),
            &[
                "140 of 1115 components have no supplier: accepts@1.3.8, acorn-walk@8.2.0, acorn@7.4.1, acorn@8.8.2, argparse@1.0.10, ...",
                "the SBOM does not name its author (CycloneDX metadata.authors, manufacturer or supplier)",
                "the SBOM has no timestamp",
            ],
        );
    }
    if let Some(m) = fixture_material("sbom-cyclonedx/chainloop-sbom.cyclonedx-1.6.json", None) {
        let v = on("sbom-ntia", &m, &[]);
        assert!(
            messages(&v).contains(
                &"8 of 8 components have no unique identifier (purl, CPE or SWID): AES-256-GCM, ECDH, RSA-2048, SHA384, SHA512withRSA, ...".to_owned()
            ),
            "{v:?}"
        );
    }
    // Red Hat's UBI 9 SPDX: every element present (supplier Red Hat, purls, versions,
    // CONTAINED_BY relationships, an Organization creator).
    if let Some(m) = fixture_material("sbom-spdx/trustify-ubi9-9.2-755.1697625012.json", None) {
        assert_pass(&on("sbom-ntia", &m, &[]));
    }
    // syft 0.73: no suppliers, and only a DESCRIBES relationship.
    if let Some(m) = fixture_material("sbom-spdx/chainloop-sbom-spdx.json", None) {
        let v = on("sbom-ntia", &m, &[]);
        let got = messages(&v);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().any(|s| s.starts_with(
            "30 of 30 components have no supplier: @algolia/autocomplete-core@1.7.4"
        )));
        assert!(got.contains(
            &"the SBOM records no dependency relationships between its components".to_owned()
        ));
    }
    // Only a Tool among the creators.
    if let Some(m) = fixture_material("sbom-spdx/trustify-openssl-3.0.7-18.el9_2.spdx.json", None) {
        assert_messages(
            &on("sbom-ntia", &m, &[]),
            &[
                "2 of 38 components have no supplier: openssl@3.0.7",
                "the SBOM does not name its author (an Organization or Person in SPDX creationInfo.creators)",
            ],
        );
    }
    if let Some(m) = fixture_material("sbom-spdx/spdx-examples-example11-sbom.spdx3.json", SPDX) {
        assert_skipped(
            &on("sbom-ntia", &m, &[]),
            "SPDX 3 documents are not supported by this policy (their packages are not read)",
        );
    }
}

// ---------------------------------------------------------------------------------
// sbom-banned-licenses

#[test]
fn sbom_banned_licenses_matches_ids_families_and_expressions() {
    let doc = cdx(json!([
        lib("a", "1.0", id("GPL-3.0-only")),
        lib(
            "b",
            "1.0",
            json!([{"expression": "(MIT OR GPL-2.0-or-later)"}])
        ),
        lib("c", "1.0", json!([{"license": {"name": "LGPL-2.1"}}])),
        lib("d", "1.0", json!([{"expression": "MIT AND gpl-2.0+"}])),
        lib(
            "e",
            "1.0",
            json!([{"expression": "(MIT AND GPL-2.0) OR Apache-2.0"}])
        ),
        lib("f", "1.0", json!([{"expression": "GPLv3+ or AGPL-3.0"}])),
        lib("g", "1.0", id("MIT")),
        lib("h", "1.0", json!([{"license": {"name": "GPL2"}}])),
        lib(
            "i",
            "1.0",
            json!([{"expression": "GPL-2.0-only WITH Classpath-exception-2.0"}])
        )
    ]));
    // Several items arrive as an array, one as a string; both are accepted.
    assert_messages(
        &check(
            "sbom-banned-licenses",
            CDX,
            &doc,
            &[("licenses", "gpl, AGPL")],
        ),
        &[
            "component a@1.0 has a banned license: GPL-3.0-only",
            "component d@1.0 has a banned license: gpl-2.0+",
            "component e@1.0 has a banned license: GPL-2.0",
            "component f@1.0 has a banned license: AGPL-3.0, GPLv3+",
            "component h@1.0 has a banned license: GPL2",
            "component i@1.0 has a banned license: GPL-2.0-only",
        ],
    );
    // "GPLv3+ or AGPL-3.0" offers AGPL-3.0, which "GPL" does not ban.
    assert_messages(
        &check("sbom-banned-licenses", CDX, &doc, &[("licenses", "GPL")]),
        &[
            "component a@1.0 has a banned license: GPL-3.0-only",
            "component d@1.0 has a banned license: gpl-2.0+",
            "component e@1.0 has a banned license: GPL-2.0",
            "component h@1.0 has a banned license: GPL2",
            "component i@1.0 has a banned license: GPL-2.0-only",
        ],
    );
    assert_messages(
        &check(
            "sbom-banned-licenses",
            CDX,
            &doc,
            &[("licenses", "GPL-3.0")],
        ),
        &["component a@1.0 has a banned license: GPL-3.0-only"],
    );
    assert_pass(&check(
        "sbom-banned-licenses",
        CDX,
        &doc,
        &[("licenses", "AGPL-1.0\nSSPL-1.0")],
    ));
}

#[test]
fn sbom_banned_licenses_on_spdx_and_without_a_list() {
    let doc = spdx(json!([
        package("SPDXRef-a", "a", "1.0", "AGPL-3.0-or-later"),
        package("SPDXRef-b", "b", "2.0", "NOASSERTION")
    ]));
    assert_messages(
        &check(
            "sbom-banned-licenses",
            SPDX,
            &doc,
            &[("licenses", "AGPL-3.0")],
        ),
        &["component a@1.0 has a banned license: AGPL-3.0-or-later"],
    );
    assert_pass(&check(
        "sbom-banned-licenses",
        SPDX,
        &doc,
        &[("licenses", "GPL")],
    ));
    assert_skipped(
        &check("sbom-banned-licenses", SPDX, &doc, &[]),
        "no banned licenses were given (input licenses): nothing to check",
    );
    assert_skipped(
        &check("sbom-banned-licenses", SPDX, &doc, &[("licenses", " , ")]),
        "no banned licenses were given (input licenses): nothing to check",
    );
}

#[test]
fn sbom_banned_licenses_on_fixtures() {
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        assert_messages(
            &on("sbom-banned-licenses", &m, &[("licenses", "GPL, AGPL")]),
            &["component fuzzball@1.4.0 has a banned license: GPL-2.0"],
        );
        assert_pass(&on("sbom-banned-licenses", &m, &[("licenses", "AGPL")]));
    }
    if let Some(m) = fixture_material("sbom-spdx/guac-alpine-spdx.json", None) {
        let v = on("sbom-banned-licenses", &m, &[("licenses", "GPL")]);
        assert_eq!(messages(&v).len(), 6, "{v:?}");
        assert!(messages(&v).contains(
            &"component busybox@1.35.0-r17 has a banned license: GPL-2.0-only".to_owned()
        ));
    }
    // Red Hat writes RPM-style, upper-cased names (GPLV2+, LGPLV2+): the family
    // matches GPL but not LGPL.
    if let Some(m) = fixture_material("sbom-spdx/trustify-ubi9-9.2-755.1697625012.json", None) {
        let v = on("sbom-banned-licenses", &m, &[("licenses", "GPL")]);
        let got = messages(&v);
        assert_eq!(got.len(), 69);
        assert!(
            got.contains(&"component bash@5.1.8-6.el9_1 has a banned license: GPLV3+".to_owned())
        );
        assert!(got.iter().all(|m| !m.contains(": LGPL")), "{got:?}");
    }
    if let Some(m) = fixture_material("sbom-spdx/spdx-examples-example11-sbom.spdx3.json", SPDX) {
        assert_skipped(
            &on("sbom-banned-licenses", &m, &[("licenses", "GPL")]),
            "SPDX 3 documents are not supported by this policy (their packages are not read)",
        );
    }
}

// ---------------------------------------------------------------------------------
// sbom-banned-components

#[test]
fn sbom_banned_components_by_name_version_and_purl() {
    let doc = cdx(json!([
        lib("log4j-core", "2.14.1", id("Apache-2.0")),
        lib("log4j-api", "2.17.0", id("Apache-2.0")),
        lib("Lodash", "v4.17.21", id("MIT")),
        {"type": "library", "name": "nover", "purl": "pkg:npm/nover"},
        {"type": "library", "name": "core", "version": "1.2.3", "purl": "pkg:npm/%40angular/core@1.2.3"}
    ]));
    let v = check(
        "sbom-banned-components",
        CDX,
        &doc,
        &[(
            "components",
            "log4j-core@2.14.1, log4j-api@2.16.0, lodash, nover@1.0, pkg:npm/%40angular/core",
        )],
    );
    assert_messages(
        &v,
        &[
            "banned component log4j-core@2.14.1 (log4j-core@2.14.1 and lower are banned)",
            "banned component Lodash@v4.17.21 (every version of lodash is banned)",
            "banned component nover, whose version is not given (nover@1.0 and lower are banned)",
            "banned component core@1.2.3 (every version of pkg:npm/%40angular/core is banned)",
        ],
    );
    // Versions compare as numbers: 2.14.1 is above 2.9.
    assert_pass(&check(
        "sbom-banned-components",
        CDX,
        &doc,
        &[("components", "log4j-core@2.9")],
    ));
    assert_messages(
        &check(
            "sbom-banned-components",
            CDX,
            &doc,
            &[("components", "log4j-core@2.14.10")],
        ),
        &["banned component log4j-core@2.14.1 (log4j-core@2.14.10 and lower are banned)"],
    );
    assert_messages(
        &check(
            "sbom-banned-components",
            CDX,
            &doc,
            &[("components", "pkg:npm/log4j-api@2.17.0")],
        ),
        &["banned component log4j-api@2.17.0 (pkg:npm/log4j-api@2.17.0 and lower are banned)"],
    );
}

/// A purl entry names the purl without version and qualifiers, case-insensitively: a
/// purl that merely starts with it (lib-70 for lib-7) is another package.
#[test]
fn sbom_banned_components_purl_entries_match_whole_bases() {
    let doc = cdx(json!([
        {"type": "library", "name": "lib-7", "version": "1.6", "purl": "pkg:npm/lib-7@1.6?arch=x#sub"},
        {"type": "library", "name": "lib-70", "version": "1.0", "purl": "pkg:npm/lib-70@1.0"},
        {"type": "library", "name": "lib-7", "version": "2.0", "purl": "pkg:npm/lib-7@2.0"},
        {"type": "library", "name": "Lib-7", "version": "1.7.5", "purl": "pkg:npm/Lib-7@1.7.5"},
        {"type": "library", "name": "lib-7-nover", "purl": "pkg:npm/lib-7"},
        {"type": "library", "name": "lib-7", "version": "1.0"}
    ]));
    assert_messages(
        &check(
            "sbom-banned-components",
            CDX,
            &doc,
            &[("components", "pkg:npm/LIB-7@1.7")],
        ),
        &[
            "banned component lib-7@1.6 (pkg:npm/LIB-7@1.7 and lower are banned)",
            "banned component Lib-7@1.7.5 (pkg:npm/LIB-7@1.7 and lower are banned)",
            "banned component lib-7-nover, whose version is not given (pkg:npm/LIB-7@1.7 and lower are banned)",
        ],
    );
}

#[test]
fn sbom_banned_components_on_spdx_and_without_a_list() {
    let doc = spdx(json!([
        package("SPDXRef-a", "openssl", "1.1.1k", "Apache-2.0"),
        package("SPDXRef-b", "zlib", "1.3", "Zlib")
    ]));
    assert_messages(
        &check(
            "sbom-banned-components",
            SPDX,
            &doc,
            &[("components", "openssl@1.1.1")],
        ),
        &["banned component openssl@1.1.1k (openssl@1.1.1 and lower are banned)"],
    );
    assert_pass(&check(
        "sbom-banned-components",
        SPDX,
        &doc,
        &[("components", "openssl@1.1.0")],
    ));
    assert_skipped(
        &check("sbom-banned-components", SPDX, &doc, &[]),
        "no banned components were given (input components): nothing to check",
    );
}

#[test]
fn sbom_banned_components_on_fixtures() {
    if let Some(m) = fixture_material("sbom-cyclonedx/trivy-pom-cyclonedx.json", None) {
        assert_messages(
            &on(
                "sbom-banned-components",
                &m,
                &[("components", "jackson-databind@2.9.10, log4j-core")],
            ),
            &[
                "banned component jackson-databind@2.9.1 (jackson-databind@2.9.10 and lower are banned)",
            ],
        );
        assert_pass(&on(
            "sbom-banned-components",
            &m,
            &[("components", "jackson-databind@2.9.0")],
        ));
    }
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        assert_messages(
            &on("sbom-banned-components", &m, &[("components", "lodash")]),
            &[
                "banned component lodash@2.4.2 (every version of lodash is banned)",
                "banned component lodash@4.17.21 (every version of lodash is banned)",
            ],
        );
        assert_messages(
            &on(
                "sbom-banned-components",
                &m,
                &[("components", "lodash@4.0.0")],
            ),
            &["banned component lodash@2.4.2 (lodash@4.0.0 and lower are banned)"],
        );
    }
    if let Some(m) = fixture_material("sbom-spdx/trustify-ubi9-9.2-755.1697625012.json", None) {
        let v = on(
            "sbom-banned-components",
            &m,
            &[("components", "bash@5.1.8")],
        );
        assert!(
            messages(&v)
                .iter()
                .all(|s| s.starts_with("banned component bash@5.1.8-6.el9_1 ")),
            "{v:?}"
        );
        assert!(!messages(&v).is_empty());
        assert_pass(&on(
            "sbom-banned-components",
            &m,
            &[("components", "bash@5.1.7")],
        ));
    }
}

// ---------------------------------------------------------------------------------
// sbom-with-licenses

#[test]
fn sbom_with_licenses_passes_fails_and_relaxes() {
    let doc = cdx(json!([
        lib("a", "1.0", id("MIT")),
        lib("b", "1.0", json!([])),
        lib("c", "1.0", json!([{"license": {"name": "Apache 2.0"}}])),
        lib("d", "1.0", json!([{"expression": "(MIT OR Apache-2.0) AND LicenseRef-x"}])),
        {"type": "container", "name": "img"},
        {"type": "file", "name": "README"},
        {"type": "library", "name": "golib", "version": "1", "purl": "pkg:golang/x/y@1"}
    ]));
    assert_messages(
        &check("sbom-with-licenses", CDX, &doc, &[]),
        &[
            "2 of 5 components have no license: b@1.0, golib@1",
            "1 of 5 components have a license that is neither an SPDX identifier or expression nor in allowedCustomLicenses: 'Apache 2.0'",
        ],
    );
    assert_pass(&check(
        "sbom-with-licenses",
        CDX,
        &doc,
        &[
            ("allowedCustomLicenses", "apache 2.0"),
            (
                "licenseExceptions",
                "name::b\npurl_type::pkg:golang::sha*NOTICE(Apache-2.0)",
            ),
        ],
    ));
    // Explicit skipped types replace the default (file, container).
    assert_messages(
        &check(
            "sbom-with-licenses",
            CDX,
            &doc,
            &[
                ("skippedTypes", "file"),
                ("allowedCustomLicenses", "Apache 2.0"),
                ("licenseExceptions", "name::b\nname::go*"),
            ],
        ),
        &["1 of 4 components have no license: img"],
    );
    let spdx_doc = spdx(json!([
        package("SPDXRef-a", "a", "1.0", "MIT"),
        package("SPDXRef-b", "b", "2.0", "NOASSERTION")
    ]));
    assert_messages(
        &check("sbom-with-licenses", SPDX, &spdx_doc, &[]),
        &["1 of 2 components have no license: b@2.0"],
    );
}

#[test]
fn sbom_with_licenses_on_fixtures() {
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        let expected_unlicensed = "9 of 1115 components have no license: buffers@0.1.1, domhandler@2.1.0, domutils@1.1.6, dynamic-dedupe@0.3.0, exif@0.6.0, ...";
        assert_messages(
            &on("sbom-with-licenses", &m, &[]),
            &[
                expected_unlicensed,
                "2 of 1115 components have a license that is neither an SPDX identifier or expression nor in allowedCustomLicenses: 'MIT/X11'",
            ],
        );
        assert_messages(
            &on(
                "sbom-with-licenses",
                &m,
                &[("allowedCustomLicenses", "mit/x11")],
            ),
            &[expected_unlicensed],
        );
    }
    // The image itself (type container) is skipped by default: 347 of 348 checked.
    if let Some(m) = fixture_material(
        "sbom-cyclonedx/trustify-example_container_variant_amd64.json",
        None,
    ) {
        let got = messages(&on("sbom-with-licenses", &m, &[]));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got.iter()
                .any(|s| s.starts_with("105 of 347 components have no license:"))
        );
        assert!(
            got.iter()
                .any(|s| s.starts_with("32 of 347 components have a license that is neither"))
        );
    }
    if let Some(m) = fixture_material("sbom-spdx/guac-alpine-spdx.json", None) {
        assert_pass(&on("sbom-with-licenses", &m, &[]));
    }
}

// ---------------------------------------------------------------------------------
// sbom-freshness (NOW_MS is 2026-01-01T00:00:00Z)

fn created(doc: &mut Value, when: Value) {
    if doc.get("bomFormat").is_some() {
        doc["metadata"]["timestamp"] = when;
    } else {
        doc["creationInfo"]["created"] = when;
    }
}

#[test]
fn sbom_freshness_compares_the_creation_time_with_now() {
    let mut doc = cdx(json!([]));
    assert_pass(&check("sbom-freshness", CDX, &doc, &[]));
    created(&mut doc, json!("2025-11-01T00:00:00Z"));
    assert_messages(
        &check("sbom-freshness", CDX, &doc, &[]),
        &[
            "SBOM created at: 2025-11-01T00:00:00Z which is too old (freshness limit set to 30 days)",
        ],
    );
    assert_pass(&check("sbom-freshness", CDX, &doc, &[("limit", "61")]));
    assert_messages(
        &check("sbom-freshness", CDX, &doc, &[("limit", "60")]),
        &[
            "SBOM created at: 2025-11-01T00:00:00Z which is too old (freshness limit set to 60 days)",
        ],
    );
    assert_messages(
        &check("sbom-freshness", CDX, &doc, &[("limit", "a month")]),
        &["invalid limit a month: a whole number of days is expected"],
    );
    created(&mut doc, json!("01/11/2025"));
    assert_messages(
        &check("sbom-freshness", CDX, &doc, &[]),
        &["the SBOM creation time '01/11/2025' is not an RFC 3339 timestamp"],
    );
    doc["metadata"].as_object_mut().unwrap().remove("timestamp");
    assert_messages(
        &check("sbom-freshness", CDX, &doc, &[]),
        &["the SBOM does not say when it was created"],
    );
    let mut spdx_doc = spdx(json!([]));
    assert_pass(&check("sbom-freshness", SPDX, &spdx_doc, &[]));
    created(&mut spdx_doc, json!("2025-12-01T23:59:59+02:00"));
    assert_messages(
        &check("sbom-freshness", SPDX, &spdx_doc, &[]),
        &[
            "SBOM created at: 2025-12-01T23:59:59+02:00 which is too old (freshness limit set to 30 days)",
        ],
    );
}

#[test]
fn sbom_freshness_on_fixtures() {
    if let Some(m) = fixture_material(
        "sbom-cyclonedx/chainloop-sbom.cyclonedx-1.5-vulnerabilities.json",
        None,
    ) {
        assert_messages(
            &on("sbom-freshness", &m, &[]),
            &[
                "SBOM created at: 2024-01-27T22:30:07+01:00 which is too old (freshness limit set to 30 days)",
            ],
        );
        // 2024-01-27T21:30:07Z to 2026-01-01: 704 days and a bit.
        assert_pass(&on("sbom-freshness", &m, &[("limit", "705")]));
        assert!(!on("sbom-freshness", &m, &[("limit", "704")]).passed());
    }
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        assert_messages(
            &on("sbom-freshness", &m, &[("limit", "100000")]),
            &["the SBOM does not say when it was created"],
        );
    }
    // SPDX 3: the creation time is read, so freshness is judged.
    if let Some(m) = fixture_material("sbom-spdx/spdx-examples-example11-sbom.spdx3.json", SPDX) {
        assert_messages(
            &on("sbom-freshness", &m, &[]),
            &[
                "SBOM created at: 2022-11-03T07:10:10Z which is too old (freshness limit set to 30 days)",
            ],
        );
        assert_pass(&on("sbom-freshness", &m, &[("limit", "10000")]));
    }
    if let Some(m) = fixture_material("sbom-spdx/trustify-openssl-3.0.7-18.el9_2.spdx.json", None) {
        assert_messages(
            &on("sbom-freshness", &m, &[("limit", "365")]),
            &[
                "SBOM created at: 2006-08-14T02:34:56Z which is too old (freshness limit set to 365 days)",
            ],
        );
    }
}

// ---------------------------------------------------------------------------------
// sbom-version

#[test]
fn sbom_version_compares_dotted_versions() {
    let mut doc = cdx(json!([]));
    assert_pass(&check("sbom-version", CDX, &doc, &[]));
    assert_pass(&check("sbom-version", CDX, &doc, &[("min_version", "1.6")]));
    assert_messages(
        &check("sbom-version", CDX, &doc, &[("min_version", "1.7")]),
        &["the SBOM uses CycloneDX 1.6, older than the minimum version 1.7"],
    );
    doc["specVersion"] = json!("1.3");
    assert_messages(
        &check("sbom-version", CDX, &doc, &[]),
        &["the SBOM uses CycloneDX 1.3, older than the minimum version 1.4"],
    );
    doc["specVersion"] = json!("1.10");
    assert_pass(&check("sbom-version", CDX, &doc, &[("min_version", "1.9")]));
    assert_messages(
        &check("sbom-version", CDX, &doc, &[("min_version", "latest")]),
        &["invalid min_version latest: a version such as 1.5 is expected"],
    );
    doc.as_object_mut().unwrap().remove("specVersion");
    assert_messages(
        &check("sbom-version", CDX, &doc, &[]),
        &["the SBOM does not say which CycloneDX version it uses"],
    );
    let mut spdx_doc = spdx(json!([]));
    assert_pass(&check(
        "sbom-version",
        SPDX,
        &spdx_doc,
        &[("min_version", "9")],
    ));
    spdx_doc["spdxVersion"] = json!("SPDX-2.2");
    assert_messages(
        &check(
            "sbom-version",
            SPDX,
            &spdx_doc,
            &[("min_spdx_version", "2.3")],
        ),
        &["the SBOM uses SPDX 2.2, older than the minimum version 2.3"],
    );
}

#[test]
fn sbom_version_on_fixtures() {
    if let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) {
        assert_pass(&on("sbom-version", &m, &[]));
        assert_messages(
            &on("sbom-version", &m, &[("min_version", "1.5")]),
            &["the SBOM uses CycloneDX 1.4, older than the minimum version 1.5"],
        );
    }
    if let Some(m) = fixture_material("sbom-cyclonedx/trivy-pom-cyclonedx.json", None) {
        assert_pass(&on("sbom-version", &m, &[("min_version", "1.6")]));
    }
    if let Some(m) = fixture_material("sbom-spdx/guac-alpine-spdx.json", None) {
        assert_messages(
            &on("sbom-version", &m, &[("min_spdx_version", "2.3")]),
            &["the SBOM uses SPDX 2.2, older than the minimum version 2.3"],
        );
    }
    if let Some(m) = fixture_material("sbom-spdx/spdx-examples-example11-sbom.spdx3.json", SPDX) {
        assert_pass(&on("sbom-version", &m, &[("min_spdx_version", "2.3")]));
        assert_messages(
            &on("sbom-version", &m, &[("min_spdx_version", "3.1")]),
            &["the SBOM uses SPDX 3, older than the minimum version 3.1"],
        );
    }
}

// ---------------------------------------------------------------------------------
// The sbom-quality group

fn run_group(with: &[(&str, &str)], materials: &[comply_policy::Material]) -> Vec<GroupResult> {
    let group = builtin::group("sbom-quality").expect("the sbom-quality group is built in");
    let with: BTreeMap<String, String> = with
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    evaluate_group(
        group,
        &with,
        materials,
        builtin::policy,
        NOW_MS,
        &Value::Null,
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn result<'a>(results: &'a [GroupResult], policy: &str, material: &str) -> &'a GroupResult {
    results
        .iter()
        .find(|r| r.policy == policy && r.material == material)
        .unwrap_or_else(|| panic!("no result of {policy} on {material}"))
}

#[test]
fn sbom_quality_group_binds_its_inputs_into_the_policies() {
    let mut app = cdx(json!([
        lib("a", "1.0", id("AGPL-3.0-only")),
        lib("log4j-core", "2.14.0", id("Apache-2.0")),
        lib("c", "1.0", json!([{"license": {"name": "Apache 2.0"}}]))
    ]));
    created(&mut app, json!("2025-10-01T00:00:00Z"));
    let cdx_material = material("app.cdx.json", app.to_string().as_bytes(), CDX);
    let spdx_material = material(
        "lib.spdx.json",
        spdx(json!([
            package("SPDXRef-a", "x", "1.0", "GPL-2.0-only"),
            package("SPDXRef-b", "y", "1.0", "MIT")
        ]))
        .to_string()
        .as_bytes(),
        SPDX,
    );
    let materials = [cdx_material, spdx_material];
    let results = run_group(
        &[
            ("bannedLicenses", "AGPL, GPL-2.0"),
            ("bannedComponents", "log4j-core@2.14.1"),
            ("allowedCustomLicenses", "Apache 2.0"),
            ("freshnessLimit", "100"),
        ],
        &materials,
    );
    let policies: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r.policy.as_str(), r.material.as_str()))
        .collect();
    assert_eq!(
        policies,
        [
            ("sbom-banned-licenses", "app.cdx.json"),
            ("sbom-banned-components", "app.cdx.json"),
            ("sbom-ntia", "app.cdx.json"),
            ("sbom-with-licenses", "app.cdx.json"),
            ("sbom-freshness", "app.cdx.json"),
            ("sbom-banned-licenses", "lib.spdx.json"),
            ("sbom-banned-components", "lib.spdx.json"),
            ("sbom-ntia", "lib.spdx.json"),
            ("sbom-with-licenses", "lib.spdx.json"),
            ("sbom-freshness", "lib.spdx.json"),
        ]
    );
    let licenses = result(&results, "sbom-banned-licenses", "app.cdx.json");
    assert_eq!(licenses.outcome.args["licenses"], "AGPL, GPL-2.0");
    assert_messages(
        &licenses.outcome.verdict,
        &["component a@1.0 has a banned license: AGPL-3.0-only"],
    );
    assert_messages(
        &result(&results, "sbom-banned-licenses", "lib.spdx.json")
            .outcome
            .verdict,
        &["component x@1.0 has a banned license: GPL-2.0-only"],
    );
    let components = result(&results, "sbom-banned-components", "app.cdx.json");
    assert_eq!(components.outcome.args["components"], "log4j-core@2.14.1");
    assert_messages(
        &components.outcome.verdict,
        &["banned component log4j-core@2.14.0 (log4j-core@2.14.1 and lower are banned)"],
    );
    let with_licenses = result(&results, "sbom-with-licenses", "app.cdx.json");
    assert_eq!(
        with_licenses
            .outcome
            .args
            .get("skippedTypes")
            .map(String::as_str),
        Some("file, container"),
        "an empty group input leaves the policy's default"
    );
    assert_pass(&with_licenses.outcome.verdict);
    let freshness = result(&results, "sbom-freshness", "app.cdx.json");
    assert_eq!(freshness.outcome.args["limit"], "100");
    assert_pass(&freshness.outcome.verdict);
    assert_pass(
        &result(&results, "sbom-ntia", "app.cdx.json")
            .outcome
            .verdict,
    );
    assert_pass(
        &result(&results, "sbom-ntia", "lib.spdx.json")
            .outcome
            .verdict,
    );
}

#[test]
fn sbom_quality_group_without_arguments() {
    let mut app = cdx(json!([lib("a", "1.0", id("AGPL-3.0-only"))]));
    created(&mut app, json!("2025-10-01T00:00:00Z"));
    let m = material("app.cdx.json", app.to_string().as_bytes(), CDX);
    let results = run_group(&[], std::slice::from_ref(&m));
    assert_eq!(results.len(), 5);
    let licenses = &result(&results, "sbom-banned-licenses", "app.cdx.json").outcome;
    assert!(!licenses.args.contains_key("licenses"));
    assert_skipped(
        &licenses.verdict,
        "no banned licenses were given (input licenses): nothing to check",
    );
    assert_skipped(
        &result(&results, "sbom-banned-components", "app.cdx.json")
            .outcome
            .verdict,
        "no banned components were given (input components): nothing to check",
    );
    let freshness = &result(&results, "sbom-freshness", "app.cdx.json").outcome;
    assert_eq!(freshness.args["limit"], "30", "the group's default");
    assert_messages(
        &freshness.verdict,
        &[
            "SBOM created at: 2025-10-01T00:00:00Z which is too old (freshness limit set to 30 days)",
        ],
    );
    let group = builtin::group("sbom-quality").unwrap();
    let attestation: Vec<&str> = group
        .spec
        .policies
        .attestation
        .iter()
        .map(|a| a.reference.as_str())
        .collect();
    assert_eq!(attestation, ["sbom-present"]);
}

#[test]
fn sbom_quality_group_on_juice_shop() {
    let Some(m) = fixture_material("sbom-cyclonedx/juice-shop-bom.1.4.json", None) else {
        return;
    };
    let results = run_group(
        &[("bannedLicenses", "GPL"), ("bannedComponents", "lodash@3")],
        std::slice::from_ref(&m),
    );
    let name = m.name.as_str();
    assert_messages(
        &result(&results, "sbom-banned-licenses", name)
            .outcome
            .verdict,
        &["component fuzzball@1.4.0 has a banned license: GPL-2.0"],
    );
    assert_messages(
        &result(&results, "sbom-banned-components", name)
            .outcome
            .verdict,
        &["banned component lodash@2.4.2 (lodash@3 and lower are banned)"],
    );
    assert!(results.iter().all(|r| !r.outcome.verdict.skipped));
    assert!(
        results.iter().all(|r| !r.outcome.verdict.passed()),
        "juice-shop fails every check but none is skipped"
    );
}
