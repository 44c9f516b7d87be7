//! SPDX JSON: 2.2 and 2.3 (`spdxVersion`, `packages[]`). SPDX 3 is a different model
//! (JSON-LD, `@graph`): only its version and creation time are read, and it lists no
//! components.

use super::{Component, Normalized};
use serde_json::Value;

pub(super) fn normalize(doc: &Value, out: &mut Normalized) {
    out.format = "spdx".into();
    if let Some(version) = doc.get("spdxVersion").and_then(Value::as_str) {
        let version = version.trim();
        out.format_version = Some(version.strip_prefix("SPDX-").unwrap_or(version).to_owned());
        out.created = doc
            .pointer("/creationInfo/created")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(packages) = doc.get("packages").and_then(Value::as_array) {
            out.components = packages
                .iter()
                .filter(|p| p.is_object())
                .map(package)
                .collect();
        }
    } else if is_spdx3(doc) {
        out.format_version = Some("3".into());
        out.created = doc
            .get("@graph")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|n| n.get("type").and_then(Value::as_str) == Some("CreationInfo"))
            .find_map(|n| n.get("created").and_then(Value::as_str))
            .map(str::to_owned);
    }
}

fn is_spdx3(doc: &Value) -> bool {
    let context = match doc.get("@context") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => return false,
    };
    context.contains("spdx.org/rdf/3")
}

/// A value that states something: not empty, not `NOASSERTION`, not `NONE`.
fn asserted(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    (!s.is_empty() && s != "NOASSERTION" && s != "NONE").then(|| s.to_owned())
}

fn package(p: &Value) -> Component {
    let refs: Vec<(&str, &str)> = p
        .get("externalRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                r.get("referenceType")?.as_str()?,
                r.get("referenceLocator")?.as_str()?,
            ))
        })
        .filter(|(_, locator)| !locator.trim().is_empty())
        .collect();
    let purl = refs
        .iter()
        .find(|(t, _)| *t == "purl")
        .map(|(_, l)| l.trim().to_owned());
    let has_identifier = refs.iter().any(|(t, _)| {
        let t = t.to_ascii_lowercase();
        t == "purl" || t.starts_with("cpe") || t == "swid"
    });
    let mut licenses: Vec<String> = Vec::new();
    for key in ["licenseConcluded", "licenseDeclared"] {
        if let Some(l) = asserted(p.get(key))
            && !licenses.contains(&l)
        {
            licenses.push(l);
        }
    }
    let supplier = asserted(p.get("supplier")).map(|s| {
        ["Organization:", "Person:", "Tool:"]
            .iter()
            .find_map(|prefix| s.strip_prefix(prefix))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or(s)
    });
    Component {
        name: p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned(),
        version: asserted(p.get("versionInfo")),
        purl,
        r#type: p
            .get("primaryPackagePurpose")
            .and_then(Value::as_str)
            .map(|t| t.trim().to_ascii_lowercase().replace('_', "-"))
            .filter(|t| !t.is_empty()),
        licenses,
        supplier: supplier.filter(|s| !s.is_empty()),
        has_identifier,
    }
}
