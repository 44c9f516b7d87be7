//! Policy arguments as Chainloop passes them to Rego (`getInputArguments`, `splitArgs`).
//!
//! Values are strings. Each is split on newlines, then on unescaped commas (`\,` is a
//! literal comma, every other backslash is kept so regular expressions pass through);
//! items are trimmed and empty ones dropped. No item: the key is omitted. One item: a
//! string. Several: an array of strings.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Splits one argument value into its items.
pub fn split(value: &str) -> Vec<String> {
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
