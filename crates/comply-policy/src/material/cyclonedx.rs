//! CycloneDX JSON (1.2–1.7): components, embedded vulnerabilities and their analysis.
//!
//! - Components are the BOM's `components`, nested ones included; `metadata.component`
//!   (the subject of the BOM) is not a component, but its `bom-ref` resolves
//!   vulnerability references.
//! - A vulnerability yields one entry per affected reference. A reference that names
//!   no component but is a purl gives the package and version from the purl.
//! - The severity is the highest of the ratings: a rating's word when it has one, else
//!   its score. `UNKNOWN` when there is no rating.
//! - An `analysis` yields a VEX statement, and suppresses the vulnerability when its
//!   state says it does not apply (`not_affected`, `false_positive`, `resolved`).

use super::{
    Component, Normalized, VexStatement, Vulnerability, normalize_severity, severity_from_score,
};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn normalize(doc: &Value, out: &mut Normalized) {
    out.format = "cyclonedx".into();
    out.format_version = doc.get("specVersion").and_then(scalar);
    out.created = doc
        .pointer("/metadata/timestamp")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut refs = HashMap::new();
    if let Some(main) = doc.pointer("/metadata/component") {
        let component = component(main);
        if let Some(r) = bom_ref(main) {
            refs.insert(r.to_owned(), component);
        }
    }
    collect(doc.get("components"), out, &mut refs);
    if let Some(vulns) = doc.get("vulnerabilities").and_then(Value::as_array) {
        for v in vulns {
            vulnerability(v, &refs, out);
        }
    }
}

/// A string, or a number written as one (`"specVersion": 1.4` occurs).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn bom_ref(v: &Value) -> Option<&str> {
    v.get("bom-ref")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn collect(list: Option<&Value>, out: &mut Normalized, refs: &mut HashMap<String, Component>) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for item in items {
        if !item.is_object() {
            continue;
        }
        let c = component(item);
        if let Some(r) = bom_ref(item) {
            refs.insert(r.to_owned(), c.clone());
        }
        out.components.push(c);
        collect(item.get("components"), out, refs);
    }
}

fn component(v: &Value) -> Component {
    let licenses = v
        .get("licenses")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|l| match l.get("license") {
                    Some(license) => text(license, "id").or_else(|| text(license, "name")),
                    None => text(l, "expression"),
                })
                .collect()
        })
        .unwrap_or_default();
    let supplier = v
        .get("supplier")
        .and_then(|s| text(s, "name"))
        .or_else(|| v.get("manufacturer").and_then(|m| text(m, "name")))
        .or_else(|| text(v, "publisher"))
        .or_else(|| text(v, "author"))
        .or_else(|| {
            v.get("authors")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find_map(|x| text(x, "name")))
        });
    let purl = text(v, "purl");
    let has_identifier = purl.is_some()
        || text(v, "cpe").is_some()
        || v.get("swid").is_some_and(Value::is_object)
        || v.get("omniborId").is_some_and(|o| !is_empty(o))
        || v.get("swhid").is_some_and(|o| !is_empty(o));
    Component {
        name: text(v, "name").unwrap_or_default(),
        version: v.get("version").and_then(scalar),
        purl,
        r#type: text(v, "type").map(|t| t.to_ascii_lowercase()),
        licenses,
        supplier,
        has_identifier,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn rank(severity: &str) -> u8 {
    match severity {
        "CRITICAL" => 6,
        "HIGH" => 5,
        "MEDIUM" => 4,
        "LOW" => 3,
        "INFO" => 2,
        "NONE" => 1,
        _ => 0,
    }
}

/// The highest severity among the ratings; `UNKNOWN` without a usable rating.
fn severity(v: &Value) -> String {
    let mut best = "UNKNOWN".to_owned();
    for rating in v
        .get("ratings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let from_word = rating
            .get("severity")
            .and_then(Value::as_str)
            .map(normalize_severity)
            .filter(|s| s != "UNKNOWN");
        let from_score = rating
            .get("score")
            .and_then(Value::as_f64)
            .map(|s| severity_from_score(s).to_owned());
        if let Some(s) = from_word.or(from_score)
            && rank(&s) > rank(&best)
        {
            best = s;
        }
    }
    best
}

fn vex_status(state: &str) -> Option<&'static str> {
    match state {
        "not_affected" | "false_positive" => Some("not_affected"),
        "resolved" | "resolved_with_pedigree" => Some("fixed"),
        "exploitable" => Some("affected"),
        "in_triage" => Some("under_investigation"),
        _ => None,
    }
}

fn vulnerability(v: &Value, refs: &HashMap<String, Component>, out: &mut Normalized) {
    let Some(own_id) = text(v, "id") else {
        return;
    };
    let mut aliases: Vec<String> = Vec::new();
    for r in v
        .get("references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = text(r, "id")
            && id != own_id
            && !aliases.contains(&id)
        {
            aliases.push(id);
        }
    }
    // The id is the CVE when the document knows it; the scanner's id becomes an alias.
    let id = if own_id.starts_with("CVE-") {
        own_id
    } else if let Some(pos) = aliases.iter().position(|a| a.starts_with("CVE-")) {
        let cve = aliases.remove(pos);
        aliases.insert(0, own_id);
        cve
    } else {
        own_id
    };
    let severity = severity(v);
    let state = v
        .pointer("/analysis/state")
        .and_then(Value::as_str)
        .unwrap_or("");
    let suppressed = matches!(
        state,
        "not_affected" | "false_positive" | "resolved" | "resolved_with_pedigree"
    );
    let affected: Vec<&str> = v
        .get("affects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("ref").and_then(Value::as_str))
        .filter(|r| !r.is_empty())
        .collect();
    let mut products = Vec::new();
    let base = Vulnerability {
        id: id.clone(),
        aliases: aliases.clone(),
        severity,
        suppressed,
        ..Vulnerability::default()
    };
    if affected.is_empty() {
        out.vulnerabilities.push(base.clone());
    }
    for reference in affected {
        let mut entry = base.clone();
        match refs.get(reference) {
            Some(c) => {
                entry.package = Some(c.name.clone()).filter(|n| !n.is_empty());
                entry.version = c.version.clone();
                entry.purl = c.purl.clone();
            }
            None => {
                if let Some((name, version)) = super::purl::name_and_version(reference) {
                    entry.package = Some(name);
                    entry.version = version;
                    entry.purl = Some(reference.to_owned());
                } else {
                    entry.package = Some(reference.to_owned());
                }
            }
        }
        products.push(entry.purl.clone().unwrap_or_else(|| reference.to_owned()));
        out.vulnerabilities.push(entry);
    }
    if let Some(status) = vex_status(state) {
        out.vex.push(VexStatement {
            vulnerability: id,
            aliases,
            products,
            status: status.to_owned(),
            justification: v
                .pointer("/analysis/justification")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
}
