//! PITest mutation testing reports (`mutations.xml`, PIT's XML output format),
//! projected to JSON for policies.
//!
//! Projection: `{"partial": bool | null, "mutations": [{"detected": bool, "status",
//! "numberOfTestsRun": n | null, "sourceFile", "mutatedClass", "mutatedMethod",
//! "methodDescription", "lineNumber": n | null, "mutator", "description",
//! "killingTest"}]}` (text fields `null` when absent).
//!
//! Normalized (`input.comply.mutations`): counts per status (`KILLED`, `SURVIVED`,
//! `NO_COVERAGE`, `TIMED_OUT`, `MEMORY_ERROR`, `RUN_ERROR`, `NON_VIABLE`), `detected`
//! (the mutation's `detected` attribute, or else a status other than `SURVIVED` and
//! `NO_COVERAGE`, as PIT counts it), and PIT's two headline figures in percent:
//! `mutation_score` (detected / all mutations) and `test_strength` (detected /
//! mutations with coverage); each is absent when its denominator is zero.

use super::xml::parse;
use super::{MutationSummary, Normalized};
use serde_json::{Value, json};

const FIELDS: [&str; 8] = [
    "sourceFile",
    "mutatedClass",
    "mutatedMethod",
    "methodDescription",
    "mutator",
    "description",
    "killingTest",
    "status",
];

pub(super) fn project(bytes: &[u8]) -> Result<Value, String> {
    let root = parse(bytes).map_err(|e| format!("not a readable PITest XML report: {e}"))?;
    if root.name != "mutations" {
        return Err(format!(
            "not a PITest XML report: the root element is <{}>, expected <mutations>",
            root.name
        ));
    }
    let mutations: Vec<Value> = root
        .children_named("mutation")
        .map(|m| {
            let mut out = serde_json::Map::new();
            let status = m
                .attribute("status")
                .map(str::trim)
                .unwrap_or("")
                .to_ascii_uppercase();
            let detected = match m.attribute("detected").map(str::trim) {
                Some(d) => d.eq_ignore_ascii_case("true"),
                None => !matches!(status.as_str(), "SURVIVED" | "NO_COVERAGE" | ""),
            };
            out.insert("detected".into(), detected.into());
            out.insert(
                "numberOfTestsRun".into(),
                m.attribute("numberOfTestsRun")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .into(),
            );
            for field in FIELDS {
                out.insert(field.into(), m.child_text(field).into());
            }
            out.insert("status".into(), status.into());
            out.insert(
                "lineNumber".into(),
                m.child_text("lineNumber")
                    .and_then(|n| n.parse::<u64>().ok())
                    .into(),
            );
            Value::Object(out)
        })
        .collect();
    let partial = root
        .attribute("partial")
        .map(|p| p.trim().eq_ignore_ascii_case("true"));
    Ok(json!({"partial": partial, "mutations": mutations}))
}

pub(super) fn normalize(doc: &Value, out: &mut Normalized) {
    out.format = "pitest".into();
    let mut s = MutationSummary::default();
    for m in doc
        .get("mutations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        s.total += 1;
        if m.get("detected") == Some(&Value::Bool(true)) {
            s.detected += 1;
        }
        match m.get("status").and_then(Value::as_str).unwrap_or("") {
            "KILLED" => s.killed += 1,
            "SURVIVED" => s.survived += 1,
            "NO_COVERAGE" => s.no_coverage += 1,
            "TIMED_OUT" => s.timed_out += 1,
            "MEMORY_ERROR" => s.memory_error += 1,
            "RUN_ERROR" => s.run_error += 1,
            "NON_VIABLE" => s.non_viable += 1,
            _ => {}
        }
    }
    let percent = |n: u64, d: u64| (d > 0).then(|| n as f64 * 100.0 / d as f64);
    s.mutation_score = percent(s.detected, s.total);
    s.test_strength = percent(s.detected, s.total - s.no_coverage.min(s.total));
    out.mutations = Some(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statuses_and_scores() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<mutations partial="false">
<mutation detected='true' status='KILLED' numberOfTestsRun='2'><sourceFile>A.java</sourceFile><mutatedClass>a.A</mutatedClass><mutatedMethod>f</mutatedMethod><methodDescription>()I</methodDescription><lineNumber>7</lineNumber><mutator>org.pitest.mutationtest.engine.gregor.mutators.returns.PrimitiveReturnsMutator</mutator><indexes><index>5</index></indexes><blocks><block>0</block></blocks><killingTest>a.ATest.[method:f()]</killingTest><description>replaced int return with 0</description></mutation>
<mutation detected='false' status='SURVIVED' numberOfTestsRun='1'><sourceFile>A.java</sourceFile><lineNumber>9</lineNumber><mutator>M</mutator><description>negated conditional</description></mutation>
<mutation detected='false' status='NO_COVERAGE' numberOfTestsRun='0'><sourceFile>A.java</sourceFile><lineNumber>12</lineNumber></mutation>
<mutation status='TIMED_OUT'><sourceFile>A.java</sourceFile></mutation>
</mutations>"#;
        let doc = project(xml.as_bytes()).unwrap();
        assert_eq!(doc["partial"], false);
        assert_eq!(doc["mutations"][0]["lineNumber"], 7);
        assert_eq!(doc["mutations"][3]["detected"], true);
        let mut out = Normalized::default();
        normalize(&doc, &mut out);
        let s = out.mutations.unwrap();
        assert_eq!(
            (s.total, s.detected, s.killed, s.survived, s.no_coverage),
            (4, 2, 1, 1, 1)
        );
        assert_eq!(s.mutation_score, Some(50.0));
        assert_eq!(s.test_strength.map(|v| (v * 100.0).round()), Some(6667.0));
        assert!(project(b"<report/>").is_err());
    }
}
