//! Property tests (issue #15): the YAML decoder and the document decoders answer every
//! input with a result or positioned diagnostics, never a panic, and a diagnostic never
//! carries Rust debug text. Seeded with the built-in content, mutated.
//!
//! The case budget is small by default so CI stays fast; run longer by hand with
//! `COMPLY_PROPTEST_CASES=20000 cargo test -p comply-core --test testsuite properties`.

use comply_core::resource::parse_file;
use comply_core::yaml::parse_documents;
use proptest::prelude::*;
use std::path::Path;

fn cases() -> u32 {
    std::env::var("COMPLY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Every YAML file of the built-in content: real documents of every kind.
fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let mut out = Vec::new();
    for kind in ["requirements", "frameworks", "policies", "policy-groups"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(kind))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for path in files.into_iter().take(8) {
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
    }
    assert!(!out.is_empty(), "the built-in content is there");
    out
}

/// Characters that matter to YAML, and a few that should never matter.
const TOKENS: &[&str] = &[
    ":", "- ", "&a ", "*a", "[", "]", "{", "}", "\"", "'", "\n", "  ", "\t", "!", "!!str ", "%",
    "---\n", "...\n", "<<: *a\n", "#", "|", ">", "?", ",", "\0", "\u{1b}", "é", "\u{feff}", "0x1F",
    "~", "null", "1e400",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..200).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut text: String, edits: &[Edit]) -> String {
    for e in edits {
        match *e {
            Edit::Insert(at, t) => {
                let i = boundary(&text, at);
                text.insert_str(i, TOKENS[t]);
            }
            Edit::Delete(at, n) => {
                let i = boundary(&text, at);
                let j = boundary(&text, i + n);
                text.replace_range(i..j.max(i), "");
            }
            Edit::Duplicate(at, n) => {
                let i = boundary(&text, at);
                let j = boundary(&text, i + n);
                let piece = text[i..j.max(i)].to_owned();
                text.insert_str(j.max(i), &piece);
            }
        }
    }
    text
}

fn check_messages<'a>(messages: impl Iterator<Item = &'a String>) {
    for m in messages {
        assert!(!m.is_empty());
        for debug in ["RecordedAnchorEvents", "Depth {", "BudgetBreach", "Error {"] {
            assert!(!m.contains(debug), "debug text in a diagnostic: {m}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn mutated_documents_decode_or_explain(seed in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..8)) {
        let seeds = seeds();
        let text = apply(seed.get(&seeds).clone(), &edits);
        let (documents, diagnostics) = parse_file("mutated.yaml", &text, "acme");
        check_messages(diagnostics.iter().map(|d| &d.message));
        for d in &diagnostics {
            prop_assert_eq!(&d.file, "mutated.yaml");
        }
        if diagnostics.is_empty() {
            // Something valid came out: decoding it again gives the same documents.
            let (again, more) = parse_file("mutated.yaml", &text, "acme");
            prop_assert!(more.is_empty());
            prop_assert_eq!(again.len(), documents.len());
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_yaml_parser(chars in prop::collection::vec(any::<char>(), 0..300)) {
        let text: String = chars.into_iter().collect();
        if let Err(d) = parse_documents("any.yaml", &text) {
            check_messages(std::iter::once(&d.message));
        }
    }
}
