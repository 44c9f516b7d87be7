//! Which parts of `input` a module can read, found by scanning its source.

use std::collections::BTreeSet;

/// Which parts of `input` a module can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needs {
    /// The whole input (some reference does not name a key).
    All,
    /// Only these top-level keys (`comply` excluded) and these parts of `input.comply`.
    Keys {
        top: BTreeSet<String>,
        comply: ComplyNeeds,
    },
}

/// Which parts of the normalized view (`input.comply`) a module can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplyNeeds {
    None,
    Fields(BTreeSet<String>),
    All,
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The identifier after a `.` at `at`, with the position after it.
fn field_at(source: &str, at: usize) -> Option<(&str, usize)> {
    let b = source.as_bytes();
    if b.get(at) != Some(&b'.') || !b.get(at + 1).copied().is_some_and(ident_start) {
        return None;
    }
    let start = at + 1;
    let mut end = start;
    while end < b.len() && ident_char(b[end]) {
        end += 1;
    }
    Some((&source[start..end], end))
}

/// Scans a Rego module (comments and strings skipped) for its references to `input`.
pub fn scan(source: &str) -> Needs {
    let b = source.as_bytes();
    let mut top = BTreeSet::new();
    let mut comply = ComplyNeeds::None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            c if ident_char(c) => {
                let start = i;
                while i < b.len() && ident_char(b[i]) {
                    i += 1;
                }
                // `x.input` is a field of `x`, not the input document.
                if &source[start..i] != "input" || (start > 0 && b[start - 1] == b'.') {
                    continue;
                }
                let Some((key, end)) = field_at(source, i) else {
                    return Needs::All;
                };
                i = end;
                if key != "comply" {
                    top.insert(key.to_owned());
                    continue;
                }
                match (field_at(source, i), &mut comply) {
                    (_, ComplyNeeds::All) => {}
                    (Some((field, end)), ComplyNeeds::Fields(fields)) => {
                        fields.insert(field.to_owned());
                        i = end;
                    }
                    (Some((field, end)), ComplyNeeds::None) => {
                        comply = ComplyNeeds::Fields(BTreeSet::from([field.to_owned()]));
                        i = end;
                    }
                    (None, _) => comply = ComplyNeeds::All,
                }
            }
            _ => i += 1,
        }
    }
    Needs::Keys { top, comply }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(top: &[&str], comply: ComplyNeeds) -> Needs {
        Needs::Keys {
            top: top.iter().map(|s| (*s).to_owned()).collect(),
            comply,
        }
    }

    fn fields(names: &[&str]) -> ComplyNeeds {
        ComplyNeeds::Fields(names.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn scan_finds_the_keys_a_module_names() {
        let source = r#"package main
import rego.v1
# input[x] in a comment does not count, nor "input" in a string: "input[0]" `input`
valid_input if input.bomFormat == "CycloneDX"
n := count(input.comply.components) + count(input.comply.vulnerabilities[_].aliases)
m := input.metadata.authors[0]
my_input := 1
x := data.input
"#;
        assert_eq!(
            scan(source),
            keys(
                &["bomFormat", "metadata"],
                fields(&["components", "vulnerabilities"])
            )
        );
        assert_eq!(
            scan("package p\nx := input.comply\ny := input.comply.format\n"),
            keys(&[], ComplyNeeds::All)
        );
        assert_eq!(scan("package p\nx := 1\n"), keys(&[], ComplyNeeds::None));
    }

    #[test]
    fn scan_gives_everything_for_other_uses_of_input() {
        for source in [
            "package p\nx := input\n",
            "package p\nx := input[\"a\"]\n",
            "package p\nx := object.keys(input)\n",
            "package p\nimport input\n",
            "package p\nimport input as doc\n",
            "package p\ny := f with input as {}\n",
            "package p\nx := input .a\n",
            "package p\nx := input.\n",
            "package p\nx := input.9\n",
        ] {
            assert_eq!(scan(source), Needs::All, "{source}");
        }
    }
}
