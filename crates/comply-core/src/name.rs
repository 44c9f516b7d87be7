//! The name rules of every boundary (decision 0026).
//!
//! Resource, project and workflow names follow Chainloop: DNS-1123 labels. Versions are
//! what build tools write (`v0.162.0`, `1.2.3-rc.1+build.5`), so they get a wider but
//! still closed alphabet. Free text (reasons, token names) may hold any printable
//! character, never NUL or other control characters: PostgreSQL refuses NUL in text, and
//! control characters reach terminals.

/// The longest name: a DNS-1123 label.
pub const MAX_NAME_LEN: usize = 63;
/// The longest version.
pub const MAX_VERSION_LEN: usize = 128;
/// How much of a bad value an error message quotes.
const QUOTE_CHARS: usize = 40;

/// A bad value as an error message shows it: at most a short prefix, with control
/// characters escaped, so an error never echoes a megabyte or a terminal escape.
pub fn quote(value: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in value.chars().enumerate() {
        if i == QUOTE_CHARS {
            out.push_str(&format!("…' ({} bytes)", value.len()));
            return out;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Why a name is not a valid DNS-1123 label, or `None` when it is.
pub fn dns1123_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("name must not be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Some(format!(
            "name {} is {} characters long; at most {MAX_NAME_LEN} are allowed",
            quote(name),
            name.chars().count()
        ));
    }
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let edges_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if valid_chars && edges_ok {
        None
    } else {
        Some(format!(
            "name {} is not a valid DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit",
            quote(name)
        ))
    }
}

pub fn is_dns1123(name: &str) -> bool {
    dns1123_problem(name).is_none()
}

/// Why a version is not acceptable, or `None` when it is: 1 to 128 characters of
/// letters, digits, `.`, `_`, `+` and `-`, starting with a letter or digit. That admits
/// SemVer with pre-release and build metadata, CalVer, `latest` and commit hashes, and
/// refuses separators (`/`), spaces and control characters.
pub fn version_problem(version: &str) -> Option<String> {
    if version.is_empty() {
        return Some("version must not be empty".into());
    }
    if version.len() > MAX_VERSION_LEN {
        return Some(format!(
            "version {} is {} characters long; at most {MAX_VERSION_LEN} are allowed",
            quote(version),
            version.chars().count()
        ));
    }
    let valid = version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
        && version
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if valid {
        None
    } else {
        Some(format!(
            "version {} is not valid: use letters, digits, '.', '_', '+' and '-', starting with a letter or digit",
            quote(version)
        ))
    }
}

/// Why free text is not acceptable, or `None` when it is: at most `max_chars`
/// characters and no control characters (line breaks and tabs only when `multiline`).
pub fn text_problem(what: &str, text: &str, max_chars: usize, multiline: bool) -> Option<String> {
    let count = text.chars().count();
    if count > max_chars {
        return Some(format!(
            "{what} {} is {count} characters long; at most {max_chars} are allowed",
            quote(text)
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Some(format!(
            "{what} {} contains the control character U+{:04X}, which is not accepted",
            quote(text),
            c as u32
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        for ok in ["a", "no-vulnerabilities-high", "ssdf-po-1-1", "x1"] {
            assert!(is_dns1123(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "Upper",
            "a_b",
            "a.b",
            &"a".repeat(64),
            "a\0",
            "../../etc",
            "\u{1b}[31mred",
        ] {
            assert!(!is_dns1123(bad), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for ok in [
            "v0.162.0",
            "1.2.3-rc.1+build.5",
            "latest",
            "2024.06",
            "abc123_x",
        ] {
            assert_eq!(version_problem(ok), None, "{ok}");
        }
        for bad in ["", "../x", "1 2", "1/2", ".1", "1\0", &"1".repeat(129)] {
            assert!(version_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn quotes_a_short_escaped_prefix() {
        let long = "x".repeat(1_000_000);
        let problem = dns1123_problem(&long).unwrap();
        assert!(problem.len() < 200, "{problem}");
        assert!(problem.contains("1000000 bytes"), "{problem}");
        let escaped = dns1123_problem("\u{1b}[31m\0").unwrap();
        assert!(
            !escaped.contains('\u{1b}') && !escaped.contains('\0'),
            "{escaped}"
        );
        assert!(escaped.contains("\\u{1b}"), "{escaped}");
    }

    #[test]
    fn free_text() {
        assert_eq!(text_problem("reason", "legacy base", 20, false), None);
        assert!(text_problem("reason", "a\0b", 10, false).is_some());
        assert!(text_problem("reason", "a\nb", 10, false).is_some());
        assert_eq!(text_problem("reason", "a\nb", 10, true), None);
        assert!(text_problem("reason", "a\u{1b}b", 10, true).is_some());
        assert!(text_problem("reason", &"a".repeat(11), 10, true).is_some());
    }
}
