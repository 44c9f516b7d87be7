//! OpenVEX and CSAF VEX statements (`input.comply.vex`).
//!
//! OpenVEX (v0.0.1, v0.2.0 and the unversioned context): one statement per document
//! statement. `vulnerability` is a string or an object `{name, @id, aliases}`;
//! `products` are strings or objects, read as their `@id`, their `identifiers.purl`
//! and those of their `subcomponents` (also the v0.0.1 statement-level
//! `subcomponents`), flattened and deduplicated.
//!
//! CSAF (VEX profile and security advisories): one statement per vulnerability and
//! status, with the CSAF product ids. `known_not_affected` → `not_affected` (split by
//! the `flags[].label` that justifies each product), `fixed`/`first_fixed` → `fixed`,
//! `known_affected`/`first_affected`/`last_affected` → `affected`,
//! `under_investigation` → `under_investigation`. The id is the `cve`, else the first
//! vulnerability-like entry of `ids`; other vulnerability-like `ids` are aliases.

use super::{Normalized, VexStatement};
use serde_json::Value;
use std::collections::BTreeMap;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !item.is_empty() && !list.contains(&item) {
        list.push(item);
    }
}

/// A statement status in OpenVEX spelling (lowercase, `_` separated).
fn status_word(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

pub(super) fn openvex(doc: &Value, out: &mut Normalized) {
    out.format = "openvex".into();
    out.format_version = text(doc, "@context").and_then(|c| {
        c.rsplit_once("/ns/v")
            .map(|(_, v)| v.trim_end_matches('/').to_owned())
    });
    out.created = text(doc, "timestamp");
    for s in array(doc, "statements") {
        let (vulnerability, mut aliases): (String, Vec<String>) = match s.get("vulnerability") {
            Some(Value::String(name)) => (name.trim().to_owned(), Vec::new()),
            Some(v @ Value::Object(_)) => (
                text(v, "name")
                    .or_else(|| text(v, "@id"))
                    .unwrap_or_default(),
                array(v, "aliases")
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => (String::new(), Vec::new()),
        };
        // v0.0.1 documents could carry aliases on the statement.
        aliases.extend(
            array(s, "aliases")
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
        let aliases = aliases.into_iter().fold(Vec::new(), |mut unique, a| {
            if a != vulnerability {
                push_unique(&mut unique, a);
            }
            unique
        });
        if vulnerability.is_empty() {
            continue;
        }
        let mut products = Vec::new();
        for p in array(s, "products") {
            product_ids(p, &mut products);
        }
        for sub in array(s, "subcomponents") {
            product_ids(sub, &mut products);
        }
        let Some(status) = text(s, "status") else {
            continue;
        };
        out.vex.push(VexStatement {
            vulnerability,
            aliases,
            products,
            status: status_word(&status),
            justification: text(s, "justification"),
        });
    }
}

fn product_ids(p: &Value, out: &mut Vec<String>) {
    match p {
        Value::String(id) => push_unique(out, id.trim().to_owned()),
        Value::Object(_) => {
            if let Some(id) = text(p, "@id") {
                push_unique(out, id);
            }
            if let Some(purl) = p.get("identifiers").and_then(|i| text(i, "purl")) {
                push_unique(out, purl);
            }
            for sub in array(p, "subcomponents") {
                product_ids(sub, out);
            }
        }
        _ => {}
    }
}

/// Whether a CSAF `ids[].text` names a vulnerability (`GHSA-…`, `RUSTSEC-…`), not a
/// bug tracker entry (`2158081`).
fn vulnerability_like(id: &str) -> bool {
    let mut parts = id.splitn(2, '-');
    let prefix = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && !rest.contains(char::is_whitespace)
}

pub(super) fn csaf(doc: &Value, out: &mut Normalized) {
    out.format = "csaf".into();
    let document = doc.get("document").unwrap_or(&Value::Null);
    out.format_version = text(document, "csaf_version");
    out.created = document
        .get("tracking")
        .and_then(|t| text(t, "current_release_date").or_else(|| text(t, "initial_release_date")));
    let groups = product_groups(doc);
    for v in array(doc, "vulnerabilities") {
        let ids: Vec<String> = array(v, "ids")
            .filter_map(|i| text(i, "text"))
            .filter(|t| vulnerability_like(t))
            .collect();
        let Some(id) = text(v, "cve").or_else(|| ids.first().cloned()) else {
            continue;
        };
        let aliases: Vec<String> = ids.into_iter().filter(|a| *a != id).collect();
        let status = v.get("product_status").unwrap_or(&Value::Null);
        let list = |keys: &[&str]| {
            let mut products = Vec::new();
            for key in keys {
                for p in array(status, key).filter_map(Value::as_str) {
                    push_unique(&mut products, p.to_owned());
                }
            }
            products
        };
        let statement =
            |status: &str, products: Vec<String>, justification: Option<String>| VexStatement {
                vulnerability: id.clone(),
                aliases: aliases.clone(),
                products,
                status: status.to_owned(),
                justification,
            };
        // not_affected, split by the flag label covering each product.
        let labels = flag_labels(v, &groups);
        let mut by_label: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for p in list(&["known_not_affected"]) {
            by_label.entry(labels.get(&p).cloned()).or_default().push(p);
        }
        for (label, products) in by_label {
            out.vex.push(statement("not_affected", products, label));
        }
        for (status, keys) in [
            (
                "affected",
                &["known_affected", "first_affected", "last_affected"][..],
            ),
            ("fixed", &["fixed", "first_fixed"][..]),
            ("under_investigation", &["under_investigation"][..]),
        ] {
            let products = list(keys);
            if !products.is_empty() {
                out.vex.push(statement(status, products, None));
            }
        }
    }
}

/// `product_tree.product_groups`: group id → product ids.
fn product_groups(doc: &Value) -> BTreeMap<String, Vec<String>> {
    let tree = doc.get("product_tree").unwrap_or(&Value::Null);
    array(tree, "product_groups")
        .filter_map(|g| {
            let id = text(g, "group_id")?;
            let members = array(g, "product_ids")
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Some((id, members))
        })
        .collect()
}

/// Product id → the label of the first flag naming it (directly or by group).
fn flag_labels(v: &Value, groups: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for flag in array(v, "flags") {
        let Some(label) = text(flag, "label") else {
            continue;
        };
        let direct = array(flag, "product_ids").filter_map(Value::as_str);
        let grouped = array(flag, "group_ids")
            .filter_map(Value::as_str)
            .filter_map(|g| groups.get(g))
            .flatten()
            .map(String::as_str);
        for p in direct.chain(grouped) {
            labels.entry(p.to_owned()).or_insert_with(|| label.clone());
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openvex_products_and_vulnerability_forms() {
        let doc = json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [
                {"vulnerability": {"name": "GO-1", "aliases": ["CVE-1"]},
                 "products": [{"@id": "pkg:oci/x", "subcomponents": [
                     {"@id": "pkg:golang/a", "identifiers": {"purl": "pkg:golang/a"}}]}],
                 "status": "not_affected", "justification": "vulnerable_code_not_present"},
                {"vulnerability": "CVE-2", "products": ["pkg:apk/a@1", "pkg:apk/a@1"],
                 "status": "fixed"},
                {"products": ["x"], "status": "fixed"}
            ]
        });
        let mut out = Normalized::default();
        openvex(&doc, &mut out);
        assert_eq!(out.format_version.as_deref(), Some("0.2.0"));
        assert_eq!(
            out.vex.len(),
            2,
            "a statement without a vulnerability is dropped"
        );
        assert_eq!(out.vex[0].aliases, ["CVE-1"]);
        assert_eq!(out.vex[0].products, ["pkg:oci/x", "pkg:golang/a"]);
        assert_eq!(out.vex[1].products, ["pkg:apk/a@1"]);
        assert_eq!(out.vex[1].justification, None);
    }

    #[test]
    fn csaf_statuses_groups_and_flags() {
        let doc = json!({
            "document": {"category": "csaf_vex", "csaf_version": "2.0"},
            "product_tree": {"product_groups": [{"group_id": "G", "product_ids": ["p2", "p3"]}]},
            "vulnerabilities": [{
                "ids": [{"system_name": "bz", "text": "123"}, {"system_name": "gh", "text": "GHSA-a-b"}],
                "flags": [{"label": "component_not_present", "group_ids": ["G"]}],
                "product_status": {"known_not_affected": ["p1", "p2", "p3"], "first_fixed": ["p4"],
                                   "last_affected": ["p5"], "recommended": ["p4"]}
            }]
        });
        let mut out = Normalized::default();
        csaf(&doc, &mut out);
        let got: Vec<(&str, &str, Vec<&str>, Option<&str>)> = out
            .vex
            .iter()
            .map(|s| {
                (
                    s.vulnerability.as_str(),
                    s.status.as_str(),
                    s.products.iter().map(String::as_str).collect(),
                    s.justification.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("GHSA-a-b", "not_affected", vec!["p1"], None),
                (
                    "GHSA-a-b",
                    "not_affected",
                    vec!["p2", "p3"],
                    Some("component_not_present")
                ),
                ("GHSA-a-b", "affected", vec!["p5"], None),
                ("GHSA-a-b", "fixed", vec!["p4"], None),
            ]
        );
        assert!(vulnerability_like("RUSTSEC-2021-0079") && !vulnerability_like("2158081"));
    }
}
