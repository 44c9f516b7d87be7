//! Code coverage reports: JaCoCo XML and Cobertura XML, projected to JSON as
//! Chainloop projects them for policies (its `jacoco.Report` and `cobertura.Coverage`
//! shapes), plus the normalized counters both share.
//!
//! JaCoCo (`<report>`): `{"name", "counters": [{"type", "missed", "covered"}]}`, the
//! report-level `<counter>` elements (types `INSTRUCTION`, `BRANCH`, `LINE`,
//! `COMPLEXITY`, `METHOD`, `CLASS`).
//!
//! Cobertura (`<coverage>`): `{"line-rate", "branch-rate", "lines-covered",
//! "lines-valid", "branches-covered", "branches-valid", "complexity", "version",
//! "timestamp", "sources": [..], "packages": [{"name", "line-rate", "branch-rate",
//! "complexity", "classes": [{"name", "filename", "line-rate", "branch-rate",
//! "complexity", "methods": [{"name", "signature", "line-rate", "branch-rate",
//! "complexity", "lines": [..]}], "lines": [{"number", "hits", "branch",
//! "condition-coverage"?}]}]}]}`. Rates that are absent or not finite (`NaN` in an
//! empty report) are `null`, as in Chainloop.
//!
//! Normalized (`input.comply.coverage.counters`): per lowercase counter name
//! (`instruction`, `branch`, `line`, `complexity`, `method`, `class`),
//! `{covered, missed, total, percent}`; `percent` is absent when nothing was
//! measurable. Cobertura gives `line` and `branch`: from its totals when present,
//! else counted from the class lines (a line is covered with `hits > 0`; branches from
//! `condition-coverage` such as `50% (1/2)`).

use super::xml::{Element, parse};
use super::{Coverage, CoverageCounter, Normalized};
use serde_json::{Map, Value, json};

pub(super) fn project_jacoco(bytes: &[u8]) -> Result<Value, String> {
    let root = parse(bytes).map_err(|e| format!("not a readable JaCoCo XML report: {e}"))?;
    if root.name != "report" {
        return Err(format!(
            "not a JaCoCo XML report: the root element is <{}>, expected <report>",
            root.name
        ));
    }
    let counters: Vec<Value> = root
        .children_named("counter")
        .map(|c| {
            json!({
                "type": c.attribute("type").unwrap_or(""),
                "missed": int(c.attribute("missed")),
                "covered": int(c.attribute("covered")),
            })
        })
        .collect();
    Ok(json!({"name": root.attribute("name"), "counters": counters}))
}

pub(super) fn project_cobertura(bytes: &[u8]) -> Result<Value, String> {
    let root = parse(bytes).map_err(|e| format!("not a readable Cobertura XML report: {e}"))?;
    if root.name != "coverage" {
        return Err(format!(
            "not a Cobertura XML report: the root element is <{}>, expected <coverage>",
            root.name
        ));
    }
    let mut out = Map::new();
    rates(&root, &mut out);
    for key in [
        "lines-covered",
        "lines-valid",
        "branches-covered",
        "branches-valid",
    ] {
        out.insert(key.into(), int(root.attribute(key)).into());
    }
    out.insert(
        "version".into(),
        root.attribute("version").unwrap_or("").into(),
    );
    out.insert(
        "timestamp".into(),
        root.attribute("timestamp")
            .and_then(|t| t.trim().parse::<i64>().ok())
            .unwrap_or(0)
            .into(),
    );
    let sources: Vec<Value> = root
        .children_named("sources")
        .flat_map(|s| s.children_named("source"))
        .map(|s| s.text.trim().into())
        .collect();
    out.insert("sources".into(), sources.into());
    let packages: Vec<Value> = root
        .children_named("packages")
        .flat_map(|p| p.children_named("package"))
        .map(|p| {
            let mut pkg = Map::new();
            pkg.insert("name".into(), p.attribute("name").unwrap_or("").into());
            rates(p, &mut pkg);
            let classes: Vec<Value> = p
                .children_named("classes")
                .flat_map(|c| c.children_named("class"))
                .map(class)
                .collect();
            pkg.insert("classes".into(), classes.into());
            Value::Object(pkg)
        })
        .collect();
    out.insert("packages".into(), packages.into());
    Ok(Value::Object(out))
}

fn class(c: &Element) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), c.attribute("name").unwrap_or("").into());
    out.insert(
        "filename".into(),
        c.attribute("filename").unwrap_or("").into(),
    );
    rates(c, &mut out);
    let methods: Vec<Value> = c
        .children_named("methods")
        .flat_map(|m| m.children_named("method"))
        .map(|m| {
            let mut method = Map::new();
            method.insert("name".into(), m.attribute("name").unwrap_or("").into());
            method.insert(
                "signature".into(),
                m.attribute("signature").unwrap_or("").into(),
            );
            rates(m, &mut method);
            method.insert("lines".into(), lines(m));
            Value::Object(method)
        })
        .collect();
    out.insert("methods".into(), methods.into());
    out.insert("lines".into(), lines(c));
    Value::Object(out)
}

fn lines(e: &Element) -> Value {
    e.children_named("lines")
        .flat_map(|l| l.children_named("line"))
        .map(|l| {
            let mut line = Map::new();
            line.insert("number".into(), int(l.attribute("number")).into());
            line.insert("hits".into(), int(l.attribute("hits")).into());
            line.insert(
                "branch".into(),
                (l.attribute("branch").map(str::trim) == Some("true")).into(),
            );
            if let Some(cc) = l.attribute("condition-coverage") {
                line.insert("condition-coverage".into(), cc.into());
            }
            Value::Object(line)
        })
        .collect::<Vec<_>>()
        .into()
}

fn rates(e: &Element, out: &mut Map<String, Value>) {
    for key in ["line-rate", "branch-rate", "complexity"] {
        let rate = e
            .attribute(key)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number);
        out.insert(key.into(), rate);
    }
}

fn int(v: Option<&str>) -> u64 {
    v.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0)
}

fn counter(covered: u64, missed: u64) -> CoverageCounter {
    let total = covered + missed;
    CoverageCounter {
        covered,
        missed,
        total,
        percent: (total > 0).then(|| covered as f64 * 100.0 / total as f64),
    }
}

pub(super) fn normalize_jacoco(doc: &Value, out: &mut Normalized) {
    out.format = "jacoco".into();
    let mut coverage = Coverage::default();
    for c in doc
        .get("counters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(kind) = c.get("type").and_then(Value::as_str) else {
            continue;
        };
        let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0);
        coverage.counters.insert(
            kind.to_ascii_lowercase(),
            counter(n("covered"), n("missed")),
        );
    }
    out.coverage = Some(coverage);
}

pub(super) fn normalize_cobertura(doc: &Value, out: &mut Normalized) {
    out.format = "cobertura".into();
    out.format_version = doc
        .get("version")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let n = |k: &str| doc.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (mut lines, mut branches) = (
        (n("lines-covered"), n("lines-valid")),
        (n("branches-covered"), n("branches-valid")),
    );
    if lines.1 == 0 || branches.1 == 0 {
        let (counted_lines, counted_branches) = count_lines(doc);
        if lines.1 == 0 {
            lines = counted_lines;
        }
        if branches.1 == 0 {
            branches = counted_branches;
        }
    }
    let mut coverage = Coverage::default();
    coverage.counters.insert(
        "line".into(),
        counter(lines.0, lines.1.saturating_sub(lines.0)),
    );
    coverage.counters.insert(
        "branch".into(),
        counter(branches.0, branches.1.saturating_sub(branches.0)),
    );
    out.coverage = Some(coverage);
}

/// (covered, valid) lines and branches from the class lines of a projection.
fn count_lines(doc: &Value) -> ((u64, u64), (u64, u64)) {
    let (mut lines, mut branches) = ((0, 0), (0, 0));
    let each = |v: &Value, key: &str| -> Vec<Value> {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for package in each(doc, "packages") {
        for class in each(&package, "classes") {
            for line in each(&class, "lines") {
                lines.1 += 1;
                if line.get("hits").and_then(Value::as_u64).unwrap_or(0) > 0 {
                    lines.0 += 1;
                }
                if let Some((covered, total)) = line
                    .get("condition-coverage")
                    .and_then(Value::as_str)
                    .and_then(condition_counts)
                {
                    branches.0 += covered;
                    branches.1 += total;
                }
            }
        }
    }
    (lines, branches)
}

/// `50% (1/2)` → (1, 2).
fn condition_counts(text: &str) -> Option<(u64, u64)> {
    let inner = text.split('(').nth(1)?.split(')').next()?;
    let (covered, total) = inner.split_once('/')?;
    Some((covered.trim().parse().ok()?, total.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JACOCO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="demo"><sessioninfo id="s" start="1" dump="2"/>
<package name="com/example"><counter type="LINE" missed="1" covered="1"/></package>
<counter type="INSTRUCTION" missed="25" covered="75"/><counter type="LINE" missed="4" covered="16"/>
<counter type="BRANCH" missed="0" covered="0"/></report>"#;

    #[test]
    fn jacoco_report_counters_only() {
        let doc = project_jacoco(JACOCO.as_bytes()).unwrap();
        assert_eq!(doc["name"], "demo");
        assert_eq!(doc["counters"].as_array().unwrap().len(), 3);
        let mut out = Normalized::default();
        normalize_jacoco(&doc, &mut out);
        let c = &out.coverage.unwrap().counters;
        assert_eq!(c["instruction"].percent, Some(75.0));
        assert_eq!(c["line"].percent, Some(80.0));
        assert_eq!(c["branch"].percent, None);
    }

    #[test]
    fn cobertura_totals_or_counted_lines() {
        let with_totals = r#"<coverage line-rate="0.5" branch-rate="NaN" lines-covered="2" lines-valid="4" branches-covered="0" branches-valid="0" version="7.4" timestamp="1700000000000"><packages/></coverage>"#;
        let doc = project_cobertura(with_totals.as_bytes()).unwrap();
        assert_eq!(doc["branch-rate"], Value::Null);
        let mut out = Normalized::default();
        normalize_cobertura(&doc, &mut out);
        let c = out.coverage.unwrap().counters;
        assert_eq!(c["line"].percent, Some(50.0));
        assert_eq!(c["branch"].total, 0);

        let counted = r#"<coverage line-rate="0.5" branch-rate="0.5"><packages><package name="p"><classes><class name="A" filename="a.py"><lines><line number="1" hits="3"/><line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines></class></classes></package></packages></coverage>"#;
        let doc = project_cobertura(counted.as_bytes()).unwrap();
        let mut out = Normalized::default();
        normalize_cobertura(&doc, &mut out);
        let c = out.coverage.unwrap().counters;
        assert_eq!((c["line"].covered, c["line"].total), (1, 2));
        assert_eq!((c["branch"].covered, c["branch"].total), (1, 2));
        assert_eq!(condition_counts("100% (4/4)"), Some((4, 4)));
    }

    #[test]
    fn wrong_roots_are_errors() {
        assert!(
            project_jacoco(b"<coverage/>")
                .unwrap_err()
                .contains("<report>")
        );
        assert!(
            project_cobertura(b"<report/>")
                .unwrap_err()
                .contains("<coverage>")
        );
        assert!(project_jacoco(b"<report>").is_err());
    }
}
