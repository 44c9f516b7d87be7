//! Synthetic materials for benchmarks: sized like large real ones, deterministic.

#![allow(dead_code)]

use serde_json::{Value, json};

const LICENSES: [&str; 5] = ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "GPL-3.0-only"];
const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];

/// A CycloneDX 1.6 SBOM of a container image with `n` library components.
pub fn cyclonedx(n: usize) -> Vec<u8> {
    let components: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "bom-ref": format!("pkg:npm/lib-{i}@1.{}.{}", i % 17, i % 5),
                "type": "library",
                "name": format!("lib-{i}"),
                "version": format!("1.{}.{}", i % 17, i % 5),
                "purl": format!("pkg:npm/lib-{i}@1.{}.{}", i % 17, i % 5),
                "supplier": {"name": format!("supplier-{}", i % 97)},
                "licenses": [{"license": {"id": LICENSES[i % 100 % LICENSES.len()]}}],
            })
        })
        .collect();
    let dependencies: Vec<Value> = (0..n.min(1000))
        .map(|i| json!({"ref": format!("pkg:npm/lib-{i}@1.{}.{}", i % 17, i % 5), "dependsOn": []}))
        .collect();
    serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2025-12-20T10:00:00Z",
            "tools": {"components": [{"type": "application", "name": "syft", "version": "1.0.0"}]},
            "authors": [{"name": "build system"}],
            "component": {"type": "container", "name": "registry.example/app", "version": "sha256:0000"},
        },
        "components": components,
        "dependencies": dependencies,
    }))
    .expect("serializes")
}

/// A Trivy JSON report with `n` vulnerabilities.
pub fn trivy(n: usize) -> Vec<u8> {
    let vulns: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "VulnerabilityID": format!("CVE-2024-{:05}", i),
                "PkgName": format!("lib-{}", i % 800),
                "PkgIdentifier": {"PURL": format!("pkg:deb/debian/lib-{}@1.0.{}", i % 800, i % 7)},
                "InstalledVersion": format!("1.0.{}", i % 7),
                "FixedVersion": format!("1.0.{}", i % 7 + 1),
                "Severity": SEVERITIES[i % SEVERITIES.len()],
                "Title": format!("Synthetic vulnerability {i}"),
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "SchemaVersion": 2,
        "ArtifactName": "registry.example/app:1.0",
        "ArtifactType": "container_image",
        "Results": [{"Target": "registry.example/app:1.0 (debian 12)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns}],
    }))
    .expect("serializes")
}
