//! Argument compatibility between an evaluation and a requirement's policy (semantics
//! §4.2): is a policy run with these arguments at least as strict as the requirement
//! asks?

use crate::resource::{InputType, IntKind, PolicyInput};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Chainloop's list convention: split on newlines, then on unescaped commas (`\,` is
/// a literal comma); trim; drop empty items.
pub fn split_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    for line in value.trim_end_matches(['\n', '\r']).split('\n') {
        let mut current = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&',') => {
                    current.push(',');
                    chars.next();
                }
                ',' => items.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        items.push(current);
    }
    items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

pub const SEVERITIES: [&str; 6] = ["NONE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// The rank of a severity (NONE lowest), case-insensitive.
pub fn severity_rank(text: &str) -> Option<usize> {
    SEVERITIES
        .iter()
        .position(|s| s.eq_ignore_ascii_case(text.trim()))
}

/// Compares dotted numbers (`3`, `1.5`, `2.10.1`) component by component.
fn compare_numbers(a: &str, b: &str) -> Option<Ordering> {
    let parse = |s: &str| {
        s.trim()
            .trim_start_matches(['v', 'V'])
            .split('.')
            .map(|p| p.parse::<i64>().ok())
            .collect::<Option<Vec<_>>>()
    };
    let (a, b) = (parse(a)?, parse(b)?);
    let len = a.len().max(b.len());
    let pad = |v: &[i64]| {
        v.iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(len)
            .collect::<Vec<_>>()
    };
    Some(pad(&a).cmp(&pad(&b)))
}

fn truthy(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "1" | "on"
    )
}

fn set(text: &str) -> BTreeSet<String> {
    split_list(text).into_iter().collect()
}

/// Whether an evaluation's argument value satisfies the requirement's, for an input of
/// this declared type. Values that do not parse as their type compare as strings.
pub fn compatible(
    input_type: Option<InputType>,
    int_kind: Option<IntKind>,
    evaluated: &str,
    required: &str,
) -> bool {
    match input_type {
        Some(InputType::Severity) => match (severity_rank(evaluated), severity_rank(required)) {
            (Some(e), Some(r)) => e <= r,
            _ => equal(evaluated, required),
        },
        Some(InputType::Int) => match compare_numbers(evaluated, required) {
            Some(order) => match int_kind {
                Some(IntKind::Min) => order != Ordering::Less,
                _ => order != Ordering::Greater,
            },
            None => equal(evaluated, required),
        },
        Some(InputType::DenyList) => set(evaluated).is_superset(&set(required)),
        Some(InputType::AllowList) => set(evaluated).is_subset(&set(required)),
        Some(InputType::Bool) => !truthy(required) || truthy(evaluated),
        Some(InputType::String) | None => equal(evaluated, required),
    }
}

/// Equal after trimming; lists as sorted sets.
fn equal(a: &str, b: &str) -> bool {
    a.trim() == b.trim() || set(a) == set(b)
}

/// One argument's comparison, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentCheck {
    pub name: String,
    pub required: String,
    /// The evaluation's value, or the input's default when it gave none.
    pub evaluated: Option<String>,
    pub compatible: bool,
}

/// Compares every argument the requirement constrains (arguments it does not mention
/// are not compared). `inputs` are the policy's declared inputs (types, defaults).
pub fn check_arguments(
    inputs: &[PolicyInput],
    evaluated: &BTreeMap<String, String>,
    required: &BTreeMap<String, String>,
) -> Vec<ArgumentCheck> {
    required
        .iter()
        .map(|(name, wanted)| {
            let input = inputs.iter().find(|i| &i.name == name);
            let value = evaluated
                .get(name)
                .filter(|v| !v.trim().is_empty())
                .cloned()
                .or_else(|| input.and_then(|i| i.default.clone()));
            let ok = value.as_deref().is_some_and(|v| {
                compatible(
                    input.and_then(|i| i.input_type),
                    input.and_then(|i| i.kind),
                    v,
                    wanted,
                )
            });
            ArgumentCheck {
                name: name.clone(),
                required: wanted.clone(),
                evaluated: value,
                compatible: ok,
            }
        })
        .collect()
}

/// Whether every argument the requirement constrains is compatible: what
/// [`check_arguments`] says, without building the report (status asks this of every
/// evaluation it walks).
pub fn arguments_compatible(
    inputs: &[PolicyInput],
    evaluated: &BTreeMap<String, String>,
    required: &BTreeMap<String, String>,
) -> bool {
    required.iter().all(|(name, wanted)| {
        let input = inputs.iter().find(|i| &i.name == name);
        let value = evaluated
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| input.and_then(|i| i.default.as_deref()));
        value.is_some_and(|v| {
            compatible(
                input.and_then(|i| i.input_type),
                input.and_then(|i| i.kind),
                v,
                wanted,
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per line of the table in semantics §4.2.
    /// (type, int kind, evaluated, required, compatible)
    type Row = (
        Option<InputType>,
        Option<IntKind>,
        &'static str,
        &'static str,
        bool,
    );

    #[test]
    fn compatibility_table() {
        use InputType::*;
        let rows: &[Row] = &[
            (Some(Severity), None, "MEDIUM", "HIGH", true),
            (Some(Severity), None, "high", "HIGH", true),
            (Some(Severity), None, "CRITICAL", "HIGH", false),
            (Some(Severity), None, "LOW", "critical", true),
            (Some(Int), Some(IntKind::Max), "30", "90", true),
            (Some(Int), Some(IntKind::Max), "120", "90", false),
            (Some(Int), Some(IntKind::Min), "1.6", "1.5", true),
            (Some(Int), Some(IntKind::Min), "1.4", "1.5", false),
            (Some(Int), Some(IntKind::Min), "2", "2", true),
            (
                Some(DenyList),
                None,
                "AGPL-3.0,GPL-3.0,SSPL",
                "GPL-3.0\nAGPL-3.0",
                true,
            ),
            (Some(DenyList), None, "AGPL-3.0", "GPL-3.0, AGPL-3.0", false),
            (Some(AllowList), None, "github", "github,gitlab", true),
            (
                Some(AllowList),
                None,
                "github,jenkins",
                "github,gitlab",
                false,
            ),
            (Some(Bool), None, "true", "true", true),
            (Some(Bool), None, "false", "true", false),
            (Some(Bool), None, "false", "false", true),
            (Some(Bool), None, "yes", "true", true),
            (Some(String), None, " main ", "main", true),
            (Some(String), None, "main", "master", false),
            (None, None, "b,a", "a, b", true),
            (None, None, "x", "y", false),
        ];
        for (ty, kind, evaluated, required, expected) in rows {
            assert_eq!(
                compatible(*ty, *kind, evaluated, required),
                *expected,
                "{ty:?} {kind:?} {evaluated:?} vs {required:?}"
            );
        }
    }

    #[test]
    fn defaults_fill_in_and_unconstrained_arguments_are_ignored() {
        let inputs = [PolicyInput {
            name: "severity".into(),
            description: None,
            required: false,
            default: Some("MEDIUM".into()),
            input_type: Some(InputType::Severity),
            kind: None,
        }];
        let required = BTreeMap::from([("severity".to_owned(), "HIGH".to_owned())]);
        let evaluated = BTreeMap::from([("other".to_owned(), "x".to_owned())]);
        let checks = check_arguments(&inputs, &evaluated, &required);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].evaluated.as_deref(), Some("MEDIUM"));
        assert!(checks[0].compatible);
        let strict = BTreeMap::from([("severity".to_owned(), "CRITICAL".to_owned())]);
        assert!(!check_arguments(&inputs, &strict, &required)[0].compatible);
        assert!(
            !check_arguments(&[], &BTreeMap::new(), &required)[0].compatible,
            "no value, no default"
        );
        // The yes/no shortcut says what the report says.
        assert!(arguments_compatible(&inputs, &evaluated, &required));
        assert!(!arguments_compatible(&inputs, &strict, &required));
        assert!(!arguments_compatible(&[], &BTreeMap::new(), &required));
        assert!(arguments_compatible(&[], &strict, &BTreeMap::new()));
    }
}
