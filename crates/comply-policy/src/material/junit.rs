//! JUnit XML, projected to JSON as Chainloop does for policies (chainloop-formats §11).
//!
//! The projection (what a policy sees as `input`):
//!
//! ```json
//! {
//!   "name": "<testsuites name>" | null,
//!   "time": 15.68 | null,
//!   "tests": 9, "failures": 1, "errors": 0, "skipped": 0,
//!   "testsuites": [
//!     {
//!       "name": "Tests.Authentication",
//!       "parent": null,
//!       "tests": 6, "failures": 1, "errors": 0, "skipped": 0,
//!       "time": 9.07 | null,
//!       "testcases": [
//!         {
//!           "name": "testCase9", "classname": "Tests.Authentication" | null,
//!           "time": 0.98 | null,
//!           "failure": {"message": "…" | null, "type": "…" | null, "text": "…"} | null,
//!           "error": {"message": …, "type": …, "text": …} | null,
//!           "skipped": false
//!         }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! - The root is `<testsuites>` or a single `<testsuite>`. Nested suites are flattened
//!   into `testsuites` in document order (a suite before the suites inside it); each
//!   lists only its own testcases and names its enclosing suite in `parent` (`null`
//!   at the top level).
//! - A suite's counts cover its nested suites, as JUnit's attributes do: each count is
//!   the larger of the suite's attribute and what its testcases and nested suites add
//!   up to, so a missing or understated attribute never hides a failure. Sum the
//!   top-level suites (`parent: null`), or read the root counts, for totals.
//! - A testcase failed when it has a `<failure>`, errored with an `<error>` (the first
//!   of each is kept; `text` is the element's text, trimmed), and was skipped with a
//!   `<skipped>`. `time` is in seconds, `null` when absent or not a number.
//! - Malformed XML, or a root that is not a test report, is an error.

use super::xml::{Element, MAX_DEPTH, parse};
use super::{Normalized, TestSummary};
use serde_json::{Map, Value, json};

pub(super) fn project(bytes: &[u8]) -> Result<Value, String> {
    let root = parse(bytes).map_err(|e| format!("not a readable JUnit XML report: {e}"))?;
    let mut suites = Vec::new();
    let totals = match root.name.as_str() {
        "testsuites" => {
            let mut sum = Counts::default();
            for suite in root.children_named("testsuite") {
                sum.add(&project_suite(suite, None, &mut suites, 0)?);
            }
            sum.at_least(&Counts::attributes(&root))
        }
        "testsuite" => project_suite(&root, None, &mut suites, 0)?,
        other => {
            return Err(format!(
                "not a JUnit XML report: the root element is <{other}>, expected <testsuites> or <testsuite>"
            ));
        }
    };
    let mut out = Map::new();
    out.insert("name".into(), opt(root.attribute("name")));
    out.insert("time".into(), time(&root));
    totals.write(&mut out);
    out.insert("testsuites".into(), Value::Array(suites));
    Ok(Value::Object(out))
}

/// `tests` from the projection: the root counts, else the sum of the top-level
/// suites, else the testcases counted one by one.
pub(super) fn normalize(doc: &Value, out: &mut Normalized) {
    out.format = "junit".into();
    let count = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64);
    let suites = doc
        .get("testsuites")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let summary = |key: &str| {
        count(doc, key)
            .or_else(|| {
                let top: Vec<u64> = suites
                    .iter()
                    .filter(|s| s.get("parent").is_none_or(Value::is_null))
                    .map(|s| count(s, key))
                    .collect::<Option<_>>()?;
                (!top.is_empty()).then(|| top.iter().sum())
            })
            .unwrap_or_else(|| {
                let cases = suites
                    .iter()
                    .filter_map(|s| s.get("testcases")?.as_array())
                    .flatten();
                match key {
                    "tests" => cases.count() as u64,
                    "skipped" => cases
                        .filter(|c| c.get("skipped") == Some(&Value::Bool(true)))
                        .count() as u64,
                    "failures" => cases.filter(|c| is_set(c, "failure")).count() as u64,
                    _ => cases.filter(|c| is_set(c, "error")).count() as u64,
                }
            })
    };
    out.tests = Some(TestSummary {
        total: summary("tests"),
        failures: summary("failures"),
        errors: summary("errors"),
        skipped: summary("skipped"),
    });
}

fn is_set(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|f| !f.is_null())
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
}

impl Counts {
    fn attributes(e: &Element) -> Counts {
        let n = |name: &str| {
            e.attribute(name)
                .and_then(|v| {
                    let v = v.trim();
                    v.parse::<u64>().ok().or_else(|| {
                        v.parse::<f64>()
                            .ok()
                            .filter(|f| f.is_finite() && *f >= 0.0)
                            .map(|f| f as u64)
                    })
                })
                .unwrap_or(0)
        };
        Counts {
            tests: n("tests"),
            failures: n("failures"),
            errors: n("errors"),
            skipped: n("skipped").max(n("disabled")),
        }
    }

    fn add(&mut self, other: &Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }

    fn at_least(self, other: &Counts) -> Counts {
        Counts {
            tests: self.tests.max(other.tests),
            failures: self.failures.max(other.failures),
            errors: self.errors.max(other.errors),
            skipped: self.skipped.max(other.skipped),
        }
    }

    fn write(&self, out: &mut Map<String, Value>) {
        out.insert("tests".into(), self.tests.into());
        out.insert("failures".into(), self.failures.into());
        out.insert("errors".into(), self.errors.into());
        out.insert("skipped".into(), self.skipped.into());
    }
}

/// Appends the suite and its nested suites to `out`; returns the suite's counts.
fn project_suite(
    suite: &Element,
    parent: Option<&str>,
    out: &mut Vec<Value>,
    depth: usize,
) -> Result<Counts, String> {
    if depth > MAX_DEPTH {
        return Err(format!("test suites are nested more than {MAX_DEPTH} deep"));
    }
    let index = out.len();
    out.push(Value::Null);
    let mut counts = Counts::default();
    let mut testcases = Vec::new();
    for case in suite.children_named("testcase") {
        let failure = case.children_named("failure").next();
        let error = case.children_named("error").next();
        let skipped = case.children_named("skipped").next().is_some();
        counts.tests += 1;
        counts.failures += u64::from(failure.is_some());
        counts.errors += u64::from(error.is_some());
        counts.skipped += u64::from(skipped);
        testcases.push(json!({
            "name": case.attribute("name").unwrap_or(""),
            "classname": opt(case.attribute("classname")),
            "time": time(case),
            "failure": problem(failure),
            "error": problem(error),
            "skipped": skipped,
        }));
    }
    let name = suite.attribute("name");
    for nested in suite.children_named("testsuite") {
        counts.add(&project_suite(nested, name, out, depth + 1)?);
    }
    let counts = counts.at_least(&Counts::attributes(suite));
    let mut object = Map::new();
    object.insert("name".into(), Value::String(name.unwrap_or("").to_owned()));
    object.insert("parent".into(), opt(parent));
    counts.write(&mut object);
    object.insert("time".into(), time(suite));
    object.insert("testcases".into(), Value::Array(testcases));
    out[index] = Value::Object(object);
    Ok(counts)
}

fn problem(e: Option<&Element>) -> Value {
    match e {
        None => Value::Null,
        Some(e) => json!({
            "message": opt(e.attribute("message")),
            "type": opt(e.attribute("type")),
            "text": e.text.trim(),
        }),
    }
}

fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn time(e: &Element) -> Value {
    e.attribute("time")
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|t| t.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}
