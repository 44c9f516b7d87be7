//! Recognizing a material's kind from its content (Chainloop tries kinds in a fixed
//! order, §3.4; comply looks at the distinguishing keys of each format).

use serde_json::Value;

/// The Chainloop `MaterialType` of a document, or `None` when nothing fits.
pub fn detect(bytes: &[u8]) -> Option<&'static str> {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        return match super::xml::root_name(trimmed)?.as_str() {
            "testsuites" | "testsuite" => Some("JUNIT_XML"),
            "report" => Some("JACOCO_XML"),
            "coverage" => Some("COBERTURA_XML"),
            "mutations" => Some("PITEST_XML"),
            _ => None,
        };
    }
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        Err(_) => {
            // JSON lines: TruffleHog writes one finding per line.
            let first = trimmed.split(|b| *b == b'\n').next()?;
            let line: Value = serde_json::from_slice(first).ok()?;
            return (line.get("DetectorName").is_some() || line.get("SourceMetadata").is_some())
                .then_some("TRUFFLEHOG_JSON");
        }
    };
    Some(kind_of(&doc))
}

fn has(doc: &Value, key: &str) -> bool {
    doc.get(key).is_some()
}

fn kind_of(doc: &Value) -> &'static str {
    if let Value::Array(items) = doc {
        let first = items.first();
        if items.is_empty() || first.is_some_and(|f| has(f, "RuleID") && has(f, "Secret")) {
            return "GITLEAKS_JSON";
        }
        return "EVIDENCE";
    }
    let str_at = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or("");
    let context = match doc.get("@context") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    if context.contains("openvex") {
        return "OPENVEX";
    }
    if context.contains("spdx.org/rdf/3") {
        return "SBOM_SPDX_JSON";
    }
    if str_at("bomFormat") == "CycloneDX" {
        return "SBOM_CYCLONEDX_JSON";
    }
    if str_at("spdxVersion").starts_with("SPDX-") {
        return "SBOM_SPDX_JSON";
    }
    if let Some(category) = doc.pointer("/document/category").and_then(Value::as_str) {
        return match category {
            "csaf_vex" => "CSAF_VEX",
            "csaf_informational_advisory" => "CSAF_INFORMATIONAL_ADVISORY",
            "csaf_security_incident_response" => "CSAF_SECURITY_INCIDENT_RESPONSE",
            _ => "CSAF_SECURITY_ADVISORY",
        };
    }
    if str_at("version") == "2.1.0" && doc.get("runs").is_some_and(Value::is_array) {
        return "SARIF";
    }
    let evidence_id = str_at("chainloop.material.evidence.id");
    let schema = str_at("schema");
    if evidence_id == "CHAINLOOP_AI_AGENT_CONFIG" || schema.contains("/aiagentconfig/") {
        return "CHAINLOOP_AI_AGENT_CONFIG";
    }
    if evidence_id == "CHAINLOOP_AI_CODING_SESSION" || schema.contains("/aicodingsession/") {
        return "CHAINLOOP_AI_CODING_SESSION";
    }
    let meta_id = doc
        .pointer("/meta/id")
        .and_then(Value::as_str)
        .unwrap_or("");
    if meta_id.starts_with("chainloop.dev/runner-context") {
        return "CHAINLOOP_RUNNER_CONTEXT";
    }
    if doc.pointer("/metadata/name").and_then(Value::as_str) == Some("pr-info")
        || str_at("$schema").contains("pr-info")
        || (has(doc, "data")
            && doc.pointer("/data/platform").is_some()
            && doc.pointer("/data/number").is_some())
    {
        return "CHAINLOOP_PR_INFO";
    }
    if has(doc, "repo") && has(doc, "checks") && has(doc, "scorecard") {
        return "OSSF_SCORECARD_JSON";
    }
    let predicate_type = doc
        .get("predicateType")
        .or_else(|| doc.get("predicate_type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_bundle = str_at("mediaType").starts_with("application/vnd.dev.sigstore.bundle");
    if predicate_type.starts_with("https://slsa.dev/provenance")
        || (is_bundle && bundle_predicate(doc).starts_with("https://slsa.dev/provenance"))
    {
        return "SLSA_PROVENANCE";
    }
    if predicate_type.starts_with("chainloop.dev/attestation")
        || has(doc, "payloadType")
        || is_bundle
    {
        return "ATTESTATION";
    }
    "EVIDENCE"
}

/// The predicate type inside a Sigstore bundle's DSSE payload, if it decodes.
fn bundle_predicate(doc: &Value) -> String {
    use base64::Engine as _;
    doc.pointer("/dsseEnvelope/payload")
        .and_then(Value::as_str)
        .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|s| {
            s.get("predicateType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_formats_by_their_keys() {
        let cases = [
            (
                r#"{"bomFormat": "CycloneDX", "specVersion": "1.6"}"#,
                "SBOM_CYCLONEDX_JSON",
            ),
            (r#"{"spdxVersion": "SPDX-2.3"}"#, "SBOM_SPDX_JSON"),
            (
                r#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#,
                "SBOM_SPDX_JSON",
            ),
            (r#"{"version": "2.1.0", "runs": []}"#, "SARIF"),
            (
                r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}"#,
                "OPENVEX",
            ),
            (r#"{"document": {"category": "csaf_vex"}}"#, "CSAF_VEX"),
            (r#"[]"#, "GITLEAKS_JSON"),
            (r#"[{"RuleID": "aws", "Secret": "x"}]"#, "GITLEAKS_JSON"),
            (
                r#"{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1"}"#,
                "SLSA_PROVENANCE",
            ),
            (
                r#"{"payloadType": "application/vnd.in-toto+json", "payload": ""}"#,
                "ATTESTATION",
            ),
            (
                r#"{"matches": [], "descriptor": {"name": "grype"}}"#,
                "EVIDENCE",
            ),
            (
                "<?xml version=\"1.0\"?><testsuites><testsuite name=\"a\"/></testsuites>",
                "JUNIT_XML",
            ),
            (
                "<?xml version=\"1.0\"?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"x\"><counter type=\"INSTRUCTION\" missed=\"1\" covered=\"2\"/></report>",
                "JACOCO_XML",
            ),
            (
                "<?xml version=\"1.0\" ?>\n<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n<coverage line-rate=\"1\"/>",
                "COBERTURA_XML",
            ),
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mutations partial=\"false\"></mutations>",
                "PITEST_XML",
            ),
            (
                r#"{"chainloop.material.evidence.id": "CHAINLOOP_AI_AGENT_CONFIG", "schema": "https://schemas.chainloop.dev/aiagentconfig/0.1/ai-agent-config.schema.json", "data": {}}"#,
                "CHAINLOOP_AI_AGENT_CONFIG",
            ),
            (
                r#"{"schema": "https://schemas.chainloop.dev/aicodingsession/0.1/ai-coding-session.schema.json", "data": {}}"#,
                "CHAINLOOP_AI_CODING_SESSION",
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(detect(text.as_bytes()), Some(kind), "{text}");
        }
        assert_eq!(detect(b"not json at all"), None);
        assert_eq!(detect(b"<html><body/></html>"), None);
    }
}
