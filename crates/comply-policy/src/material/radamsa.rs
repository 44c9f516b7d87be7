//! radamsa `-M` metadata logs (`RADAMSA_REPORT`): one line per record of
//! comma-separated `key: value` pairs (`seed: 7056…` first, then one record per
//! generated output with `nth`, `generator`, `checksum`, `path`, `length`, …). Chainloop
//! gives policies the records as a JSON array, so `input.elements`; values are
//! integers when they parse as such, quoted strings unquoted, anything else as
//! written. A pair separator is `, ` outside double quotes.
//!
//! Normalized: `format` `radamsa`, and `fuzzing {records, iterations, seed?}` where
//! `iterations` counts the distinct `nth` values (the outputs generated).

use super::{Fuzzing, Normalized};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

pub(super) fn project(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not a radamsa -M log: not UTF-8 text ({e})"))?;
    let mut records = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        records.push(Value::Object(record(line).map_err(|e| {
            format!("not a radamsa -M log: line {}: {e}", number + 1)
        })?));
    }
    if records.is_empty() {
        return Err("not a radamsa -M log: it holds no records".into());
    }
    Ok(Value::Array(records))
}

fn record(line: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for pair in split_pairs(line) {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.split_once(": ") {
            Some((k, v)) => (k, v.trim()),
            None => match pair.strip_suffix(':') {
                Some(k) => (k, ""),
                None => return Err(format!("'{pair}' is not a key: value pair")),
            },
        };
        out.insert(key.trim().to_owned(), value_of(value));
    }
    if out.is_empty() {
        return Err("no key: value pair".into());
    }
    Ok(out)
}

/// Splits at `, ` outside double quotes (a backslash escapes the next character).
fn split_pairs(line: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted && chars.peek() == Some(&' ') => {
                chars.next();
                parts.push(std::mem::take(&mut current));
            }
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn value_of(text: &str) -> Value {
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        let inner = &text[1..text.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        return Value::String(out);
    }
    match text.parse::<i64>() {
        Ok(n) => n.into(),
        Err(_) => Value::String(text.to_owned()),
    }
}

pub(super) fn normalize(doc: &Value, out: &mut Normalized) {
    out.format = "radamsa".into();
    let records = doc
        .get("elements")
        .or(Some(doc))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let nths: BTreeSet<String> = records
        .iter()
        .filter_map(|r| r.get("nth"))
        .map(Value::to_string)
        .collect();
    out.fuzzing = Some(Fuzzing {
        records: records.len() as u64,
        iterations: nths.len() as u64,
        seed: records
            .iter()
            .find_map(|r| r.get("seed"))
            .map(|s| s.to_string().trim_matches('"').to_owned()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_pairs_and_iterations() {
        let log = "seed: 705693910129640559698481\n\
            muta-num: 1, generator: file, checksum: \"CF5D\", nth: 1, path: \"/tmp/a, b.eds\", output: file-writer, length: 16892, pattern: many-dec\n\
            byte-dec: 1, generator: jump, checksum: \"F2F7\", nth: 2, output: file-writer, length: 17199, pattern: many-dec\n";
        let doc = project(log.as_bytes()).unwrap();
        assert_eq!(doc[1]["path"], "/tmp/a, b.eds");
        assert_eq!(doc[1]["length"], 16892);
        // Too large for i64: kept as written.
        assert_eq!(doc[0]["seed"], "705693910129640559698481");
        let mut out = Normalized::default();
        normalize(&serde_json::json!({"elements": doc}), &mut out);
        let f = out.fuzzing.unwrap();
        assert_eq!((f.records, f.iterations), (3, 2));
        assert_eq!(f.seed.as_deref(), Some("705693910129640559698481"));
        assert!(project(b"\n\n").is_err());
        assert!(project(b"just words").unwrap_err().contains("line 1"));
    }
}
