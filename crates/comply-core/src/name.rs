//! Resource names follow Chainloop: DNS-1123 labels.

/// Why a name is not a valid DNS-1123 label, or `None` when it is.
pub fn dns1123_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("name must not be empty".into());
    }
    if name.len() > 63 {
        return Some(format!(
            "name '{name}' is {} characters long; at most 63 are allowed",
            name.len()
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
            "name '{name}' is not a valid DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

pub fn is_dns1123(name: &str) -> bool {
    dns1123_problem(name).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        for ok in ["a", "no-vulnerabilities-high", "ssdf-po-1-1", "x1"] {
            assert!(is_dns1123(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "Upper", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_dns1123(bad), "{bad}");
        }
    }
}
