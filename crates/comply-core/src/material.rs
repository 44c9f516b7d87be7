//! Chainloop's material types (`MaterialType`, chainloop-formats §3.4).

/// Every material type a contract or policy may name, in Chainloop's spelling.
pub const MATERIAL_TYPES: &[&str] = &[
    "STRING",
    "CONTAINER_IMAGE",
    "ARTIFACT",
    "SBOM_CYCLONEDX_JSON",
    "SBOM_SPDX_JSON",
    "JUNIT_XML",
    "OPENVEX",
    "CSAF_VEX",
    "SARIF",
    "HELM_CHART",
    "EVIDENCE",
    "ATTESTATION",
    "CSAF_INFORMATIONAL_ADVISORY",
    "CSAF_SECURITY_ADVISORY",
    "CSAF_SECURITY_INCIDENT_RESPONSE",
    "GITLAB_SECURITY_REPORT",
    "ZAP_DAST_ZIP",
    "BLACKDUCK_SCA_JSON",
    "TWISTCLI_SCAN_JSON",
    "GHAS_CODE_SCAN",
    "GHAS_SECRET_SCAN",
    "GHAS_DEPENDENCY_SCAN",
    "JACOCO_XML",
    "SLSA_PROVENANCE",
    "CHAINLOOP_RUNNER_CONTEXT",
    "CHAINLOOP_PR_INFO",
    "GITLEAKS_JSON",
    "CHAINLOOP_AI_AGENT_CONFIG",
    "CHAINLOOP_AI_CODING_SESSION",
    "OPENAPI_SPEC",
    "ASYNCAPI_SPEC",
    "GRAPHQL_SPEC",
    "YELP_DETECT_SECRETS_BASELINE",
    "SYSINTERNALS_SIGCHECK",
    "SYSINTERNALS_ACCESSCHK",
    "CERTCC_DRANZER",
    "OSSF_SCORECARD_JSON",
    "RADAMSA_REPORT",
    "RADAMSA_CRASHES",
    "TRUFFLEHOG_JSON",
    "COBERTURA_XML",
    "CHECKMARX_JSON",
    // Not in the public protobuf enum (HEAD 40014e92) but used by Chainloop contracts
    // in the field; accepted so those contracts apply.
    "PITEST_XML",
    "OVERSECURED_JSON",
];

pub fn is_material_type(text: &str) -> bool {
    MATERIAL_TYPES.contains(&text)
}
