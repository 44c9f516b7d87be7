//! Policy arguments as Chainloop passes them to Rego (`getInputArguments`, `splitArgs`).
//!
//! Values are strings. Each is split on newlines, then on unescaped commas (`\,` is a
//! literal comma, every other backslash is kept so regular expressions pass through);
//! items are trimmed and empty ones dropped. No item: the key is omitted. One item: a
//! string. Several: an array of strings.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Splits one argument value into its items (shared with matching, in comply-core).
pub use comply_core::compatibility::split_list as split;

/// The `input.args` object a policy sees for these effective arguments.
pub fn to_input(args: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for (key, value) in args {
        let mut items = split(value);
        match items.len() {
            0 => {}
            1 => {
                out.insert(key.clone(), Value::String(items.remove(0)));
            }
            _ => {
                out.insert(
                    key.clone(),
                    Value::Array(items.into_iter().map(Value::String).collect()),
                );
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The table of `chainloop-formats.md` §9.
    #[test]
    fn splits_like_chainloop() {
        let cases: &[(&str, Value)] = &[
            ("HIGH", json!("HIGH")),
            ("GPL, AGPL", json!(["GPL", "AGPL"])),
            ("AGPL-1.0\nAGPL-3.0\n", json!(["AGPL-1.0", "AGPL-3.0"])),
            ("a\\,b,c", json!(["a,b", "c"])),
            (",a,,b,", json!(["a", "b"])),
            ("\\d+,\\s+", json!(["\\d+", "\\s+"])),
        ];
        for (input, expected) in cases {
            let args = BTreeMap::from([("k".to_owned(), (*input).to_owned())]);
            assert_eq!(to_input(&args)["k"], *expected, "{input:?}");
        }
        let empty = BTreeMap::from([("k".to_owned(), " , \n".to_owned())]);
        assert_eq!(to_input(&empty), json!({}), "no items: the key is omitted");
    }
}

/// `{{ inputs.x }}` templating and `ComputeArguments` are comply-core's, shared with
/// coverage.
pub use comply_core::arguments::{bind, compute};

#[cfg(test)]
mod compute_tests {
    use super::*;
    use comply_core::resource::PolicyInput;

    fn input(name: &str, required: bool, default: Option<&str>) -> PolicyInput {
        PolicyInput {
            name: name.into(),
            description: None,
            required,
            default: default.map(Into::into),
            input_type: None,
            kind: None,
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_required_and_dropped() {
        let inputs = [
            input("severity", false, Some("HIGH")),
            input("name", true, None),
        ];
        let (args, dropped) = compute(
            &inputs,
            &map(&[("name", "x"), ("extra", "1")]),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(args, map(&[("name", "x"), ("severity", "HIGH")]));
        assert_eq!(dropped, ["extra"]);
        let err = compute(&inputs, &map(&[("name", "  ")]), &BTreeMap::new()).unwrap_err();
        assert_eq!(err, "missing required input 'name'");
        let (passthrough, _) = compute(&[], &map(&[("a", "1")]), &BTreeMap::new()).unwrap();
        assert_eq!(passthrough, map(&[("a", "1")]));
    }

    #[test]
    fn group_bindings() {
        let bindings = map(&[("user", "ann"), ("domain", "example.org")]);
        assert_eq!(
            bind("{{inputs.user}}@{{ inputs.domain }}", &bindings),
            "ann@example.org"
        );
        assert_eq!(bind("{{ inputs.missing }}!", &bindings), "!");
        let inputs = [input("licenses", false, Some("{{ inputs.banned }}"))];
        let (args, _) =
            compute(&inputs, &BTreeMap::new(), &map(&[("banned", "AGPL-3.0")])).unwrap();
        assert_eq!(args["licenses"], "AGPL-3.0");
    }
}
