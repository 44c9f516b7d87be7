//! YAML as a tree that remembers where every node came from.
//!
//! Manifests are decoded in two steps: serde-saphyr turns text into [`Node`]s (with
//! line and column on every node and key), then the resource decoders walk the tree
//! and report every problem they find, not only the first. Keeping the YAML library
//! behind this module means a change of library stays local.

use crate::diagnostic::Diagnostic;
use crate::suggest;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A position in a file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// The source text of a numeric scalar, so `1.10` stays `1.10` where text is wanted.
    pub raw: Option<String>,
    span: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

fn pos_of(location: &serde_saphyr::Location) -> Pos {
    Pos {
        line: location.line(),
        column: location.column(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let span = spanned.referenced.span();
        let span = span
            .byte_offset()
            .zip(span.byte_len())
            .map(|(o, l)| (o as usize, l as usize));
        Ok(Node {
            pos: pos_of(&spanned.referenced),
            value: spanned.value,
            raw: None,
            span,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let name = match key.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(f) => f.to_string(),
                other => {
                    return Err(de::Error::custom(format!(
                        "mapping keys must be scalars, found {}",
                        other.type_name()
                    )));
                }
            };
            let value = map.next_value::<Node>()?;
            entries.push((Key { name, pos: key.pos }, value));
        }
        Ok(Value::Map(entries))
    }
}

/// Splits a YAML stream into documents. Empty documents are skipped.
/// YAML 1.2 booleans only (`y`, `on` and `no` stay strings) and leading-zero numbers
/// kept as text, so names and versions are read as written.
///
/// Expansion is bounded relative to the input (decision 0026): without aliases a YAML
/// text of `n` bytes has fewer than `n` nodes, so a budget of a few nodes per byte (with
/// a floor for tiny documents) admits every legitimate document, while an alias bomb
/// (each alias replays its anchor's events) is refused after a bounded amount of work.
/// The total input size is bounded by the caller (the server's request limit).
pub const NODES_PER_BYTE: usize = 2;
const MIN_NODE_BUDGET: usize = 10_000;
/// Events replayed from anchors: a large anchored block reused a few times is normal; a
/// bomb reuses small ones exponentially.
const MAX_ALIASES: usize = 10_000;
const MAX_DEPTH: usize = 32;

pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Node>, Diagnostic> {
    let max_nodes = MIN_NODE_BUDGET.max(text.len().saturating_mul(NODES_PER_BYTE));
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            max_documents: 200_000,
            max_nodes: max_nodes,
            max_events: max_nodes.saturating_mul(2),
            max_aliases: MAX_ALIASES,
            max_recorded_anchor_events: max_nodes,
            max_depth: MAX_DEPTH,
        },
    };
    let mut nodes =
        serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|err| {
            let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
            Diagnostic::new(file, line, column, yaml_message(&err))
        })?;
    for node in &mut nodes {
        attach_raw_numbers(node, text);
    }
    Ok(nodes)
}

fn attach_raw_numbers(node: &mut Node, source: &str) {
    match &mut node.value {
        Value::Int(_) | Value::Float(_) => {
            node.raw = node
                .span
                .and_then(|(offset, len)| source.get(offset..offset + len))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| attach_raw_numbers(n, source)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, n)| attach_raw_numbers(n, source)),
        _ => {}
    }
}

/// The library renders a source snippet; a diagnostic carries its own position, so only
/// the first line of the message is kept.
fn yaml_message(err: &serde_saphyr::Error) -> String {
    if let Some(breach) = budget_breach(err) {
        return format!("invalid YAML: {breach}");
    }
    let rendered = err.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 3 column 5: message" duplicates the location the diagnostic carries.
    let message = match first.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest,
        _ => first,
    };
    // The library repeats the position ("... at line 3, column 18"); it is in the diagnostic.
    let message = match message.rfind(" at line ") {
        Some(i) if message[i..].contains(", column ") => &message[..i],
        _ => message,
    };
    format!("invalid YAML: {message}")
}

/// A budget breach in words; the library's own rendering is Rust debug text.
fn budget_breach(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach as B;
    let mut err = err;
    loop {
        match err {
            serde_saphyr::Error::WithSnippet { error, .. }
            | serde_saphyr::Error::AliasError { error, .. } => err = error,
            serde_saphyr::Error::Budget { breach, .. } => {
                return Some(match breach {
                    B::Depth { .. } => format!("nested more than {MAX_DEPTH} levels deep"),
                    B::Aliases { .. } => format!("more than {MAX_ALIASES} aliases"),
                    B::Nodes { .. } | B::Events { .. } | B::RecordedAnchorEvents { .. } => {
                        "the document expands (through aliases) to far more nodes than its size allows".to_owned()
                    }
                    B::Documents { .. } => "too many documents in one file".to_owned(),
                    _ => "the document exceeds the parser's resource budget".to_owned(),
                });
            }
            _ => return None,
        }
    }
}

/// Walks a [`Node`] tree, collecting every problem with its position.
pub struct Decoder<'f> {
    pub file: &'f str,
    pub diagnostics: Vec<Diagnostic>,
}

/// A mapping whose keys have been checked against the fields a schema allows.
pub struct Object<'n> {
    pub pos: Pos,
    entries: &'n [(Key, Node)],
}

impl<'n> Object<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
            .filter(|v| v.value != Value::Null)
    }

    pub fn entries(&self) -> &'n [(Key, Node)] {
        self.entries
    }
}

impl<'f> Decoder<'f> {
    pub fn new(file: &'f str) -> Self {
        Self {
            file,
            diagnostics: Vec::new(),
        }
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(self.file, pos.line, pos.column, message));
    }

    /// A mapping with only the `known` fields; every other key is reported, with the
    /// nearest known field suggested.
    pub fn object<'n>(&mut self, node: &'n Node, path: &str, known: &[&str]) -> Option<Object<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                node.pos,
                format!("{path} must be a mapping, found {}", node.value.type_name()),
            );
            return None;
        };
        for (key, _) in entries {
            if !known.contains(&key.name.as_str()) {
                let hint = match suggest::nearest(&key.name, known.iter().copied()) {
                    Some(s) => format!("; did you mean '{s}'?"),
                    None => format!("; expected one of: {}", known.join(", ")),
                };
                let field = join_path(path, &key.name);
                self.error(key.pos, format!("unknown field '{field}'{hint}"));
            }
        }
        Some(Object {
            pos: node.pos,
            entries,
        })
    }

    /// A field that must be present; reports it missing at the object's position.
    pub fn required<'n>(&mut self, object: &Object<'n>, path: &str, key: &str) -> Option<&'n Node> {
        let found = object.get(key);
        if found.is_none() {
            let field = join_path(path, key);
            self.error(object.pos, format!("missing required field '{field}'"));
        }
        found
    }

    /// A scalar read as text. Numbers and booleans are accepted where a string is
    /// expected because YAML authors rarely quote `sla: 6` or `severity: HIGH` alike.
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(_) | Value::Float(_) if node.raw.is_some() => node.raw.clone(),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.error(
                    node.pos,
                    format!("{path} must be a string, found {}", other.type_name()),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            other => {
                self.error(
                    node.pos,
                    format!("{path} must be true or false, found {}", other.type_name()),
                );
                None
            }
        }
    }

    pub fn positive_int(&mut self, node: &Node, path: &str) -> Option<u32> {
        let parsed = match &node.value {
            Value::Int(i) => u32::try_from(*i).ok(),
            Value::Str(s) => s.trim().parse::<u32>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n > 0 => Some(n),
            _ => {
                self.error(node.pos, format!("{path} must be a positive whole number"));
                None
            }
        }
    }

    pub fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            other => {
                self.error(
                    node.pos,
                    format!("{path} must be a list, found {}", other.type_name()),
                );
                None
            }
        }
    }
}

pub fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_absolute_across_documents() {
        let text = "a: 1\n---\nkind: X\nmetadata:\n  name: y\n";
        let docs = parse_documents("f.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        let Value::Map(entries) = &docs[1].value else {
            panic!("not a map")
        };
        let (meta_key, meta) = &entries[1];
        assert_eq!(meta_key.name, "metadata");
        assert_eq!(meta_key.pos, Pos { line: 4, column: 1 });
        let Value::Map(inner) = &meta.value else {
            panic!("not a map")
        };
        assert_eq!(inner[0].1.pos, Pos { line: 5, column: 9 });
        assert_eq!(inner[0].1.value, Value::Str("y".into()));
    }

    #[test]
    fn scalars_keep_their_text() {
        let docs = parse_documents("f.yaml", "a: on\nb: 1.10\nc: 0755\nd: true\n").unwrap();
        let Value::Map(entries) = &docs[0].value else {
            panic!("not a map")
        };
        let mut d = Decoder::new("f.yaml");
        let texts: Vec<_> = entries
            .iter()
            .map(|(_, n)| d.text(n, "x").unwrap())
            .collect();
        assert_eq!(texts, ["on", "1.10", "0755", "true"]);
        assert_eq!(entries[3].1.value, Value::Bool(true));
    }

    #[test]
    fn syntax_error_has_a_location() {
        let err = parse_documents("bad.yaml", "a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.file, "bad.yaml");
        assert!(err.line >= 1, "{err:?}");
        assert!(err.message.starts_with("invalid YAML"), "{err:?}");
    }

    /// The classic "billion laughs" in 643 bytes: nine levels of nine aliases.
    pub(crate) fn alias_bomb() -> String {
        let mut text = String::from(
            "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for level in 1..=8 {
            let prev = level - 1;
            let refs = vec![format!("*a{prev}"); 9].join(",");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn alias_bombs_are_refused_in_plain_words() {
        let bomb = alias_bomb();
        assert!(bomb.len() < 700, "{}", bomb.len());
        let err = parse_documents("bomb.yaml", &bomb).unwrap_err();
        assert!(err.message.starts_with("invalid YAML: "), "{err:?}");
        for debug in ["{", "RecordedAnchorEvents", "Depth", "breach"] {
            assert!(!err.message.contains(debug), "no debug text: {err:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let err = parse_documents("deep.yaml", &deep).unwrap_err();
        assert!(err.message.contains("nested more than 32"), "{err:?}");
        let fine = format!("{}1{}", "[".repeat(30), "]".repeat(30));
        assert!(parse_documents("fine.yaml", &fine).is_ok());
    }

    #[test]
    fn ordinary_anchors_still_work() {
        let text = "base: &b {image: x, tags: [a, b, c]}\nuse1: *b\nuse2: *b\n";
        assert_eq!(parse_documents("a.yaml", text).unwrap().len(), 1);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse_documents("d.yaml", "a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
        assert!(err.message.contains("duplicate"), "{err:?}");
    }
}
