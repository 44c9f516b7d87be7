//! Printers: tables for people, JSON and YAML for scripts.

use crate::cli::Output;
use crate::error::{CliError, Result};
use serde_json::Value;

/// Prints `value` as JSON or YAML, or as the table `render` makes of it.
pub fn emit(output: Output, value: &Value, render: impl FnOnce(&Value) -> String) -> Result<()> {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).expect("JSON values serialize")
        ),
        Output::Yaml => print!("{}", yaml(value)),
        Output::Table => print!("{}", render(value)),
        Output::Schema => {
            return Err(CliError::usage(
                "-o schema is only for `describe`; use table, json or yaml",
            ));
        }
        Output::Csv => {
            return Err(CliError::usage(
                "-o csv is only for `status PRODUCT`; use table, json or yaml",
            ));
        }
    }
    Ok(())
}

pub fn yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).expect("JSON values serialize to YAML")
}

/// Text from the server as a terminal may show it: control characters (ANSI escapes,
/// NUL, carriage returns) replaced by `\u{..}` escapes, so a name stored by someone
/// else can never drive the reader's terminal.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A borderless, kubectl-like table: columns padded to their widest cell, never wrapped
/// (scripts and `grep` see one row per line).
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let header: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| row.iter().map(|cell| printable(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => printable(s),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_control_characters() {
        let hostile = "\u{1b}[31mred\u{0}\r";
        let t = table(&["name"], vec![vec![hostile.to_owned()]]);
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("\\u{1b}[31mred"), "{t}");
        assert_eq!(
            text(&Value::String(hostile.into())),
            "\\u{1b}[31mred\\u{0}\\r"
        );
        assert_eq!(printable("plain"), "plain");
    }
}
