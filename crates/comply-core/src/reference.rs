//! Reference grammars from Chainloop (chainloop-formats §8).

/// A policy or group reference: `[chainloop://][<provider>:][<org>/]<name>[@sha256:<hex>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    pub provider: Option<String>,
    pub org: Option<String>,
    pub name: String,
    pub digest: Option<String>,
}

impl PolicyRef {
    /// Parses a provider-style reference; `file://` and `http(s)://` are not (they are
    /// locations, not names) and yield an error saying so.
    pub fn parse(text: &str) -> Result<PolicyRef, String> {
        let text = text.trim();
        if text.starts_with("file://")
            || text.starts_with("http://")
            || text.starts_with("https://")
        {
            return Err(format!(
                "'{text}' is a file or URL; comply resolves policies by name: apply the policy and reference it by its name"
            ));
        }
        let rest = text.strip_prefix("chainloop://").unwrap_or(text);
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) => {
                let hex = d.strip_prefix("sha256:").ok_or_else(|| {
                    format!("'{text}': only a content digest (@sha256:<hex>) may follow '@'")
                })?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!(
                        "'{text}': the digest must be sha256: and 64 hex digits"
                    ));
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (rest, None),
        };
        let (provider, rest) = match rest.split_once(':') {
            Some((p, r)) => (Some(p.to_owned()), r),
            None => (None, rest),
        };
        let (org, name) = match rest.split_once('/') {
            Some((o, n)) => (Some(o.to_owned()), n.to_owned()),
            None => (None, rest.to_owned()),
        };
        for part in provider
            .iter()
            .chain(org.iter())
            .chain(std::iter::once(&name))
        {
            if let Some(problem) = crate::name::dns1123_problem(part) {
                return Err(format!("'{text}': {problem}"));
            }
        }
        Ok(PolicyRef {
            provider,
            org,
            name,
            digest,
        })
    }
}

/// A requirement reference on a contract attachment:
/// `[<org>/]<framework>/<requirement>[@<version>]` (chainloop-formats §8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementRef {
    pub org: Option<String>,
    pub framework: String,
    pub requirement: String,
    pub version: Option<String>,
}

impl RequirementRef {
    /// Follows the regex `^([a-z0-9-]+/)?([^\s/]+/)([^\s@/]+)(@[^\s@]+)?$`.
    pub fn parse(text: &str) -> Option<RequirementRef> {
        if text.is_empty() || text.chars().any(char::is_whitespace) {
            return None;
        }
        let segments: Vec<&str> = text.split('/').collect();
        let (org, framework, last) = match segments.as_slice() {
            [f, r] => (None, *f, *r),
            [o, f, r]
                if !o.is_empty()
                    && o.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
            {
                (Some((*o).to_owned()), *f, *r)
            }
            _ => return None,
        };
        let (requirement, version) = match last.split_once('@') {
            Some((r, v)) if !v.is_empty() && !v.contains('@') => (r, Some(v.to_owned())),
            Some(_) => return None,
            None => (last, None),
        };
        if framework.is_empty() || requirement.is_empty() {
            return None;
        }
        Some(RequirementRef {
            org,
            framework: framework.to_owned(),
            requirement: requirement.to_owned(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of chainloop-formats §8.3.
    #[test]
    fn requirement_refs() {
        let ok = |t: &str| RequirementRef::parse(t).unwrap_or_else(|| panic!("{t}"));
        let r = ok("fw/bar");
        assert_eq!(
            (
                r.org,
                r.framework.as_str(),
                r.requirement.as_str(),
                r.version
            ),
            (None, "fw", "bar", None)
        );
        assert_eq!(ok("fw/foo@1.2.3").version.as_deref(), Some("1.2.3"));
        let r = ok("org-name/SOC2-rev4/1A-F4@__foo");
        assert_eq!(
            (
                r.org.as_deref(),
                r.framework.as_str(),
                r.requirement.as_str()
            ),
            (Some("org-name"), "SOC2-rev4", "1A-F4")
        );
        assert_eq!(
            ok("chainloop/owasp/owasp-top-10@2021").org.as_deref(),
            Some("chainloop")
        );
        assert_eq!(ok("fw@x/req").framework, "fw@x");
        assert_eq!(RequirementRef::parse("Acme/ssdf/PO.1.1"), None);
        assert_eq!(RequirementRef::parse("a/b/c/d"), None);
        assert_eq!(RequirementRef::parse("just-a-name"), None);
    }

    #[test]
    fn policy_refs() {
        let r = PolicyRef::parse("chainloop://builtin:acme/sbom-present").unwrap();
        assert_eq!(
            (r.provider.as_deref(), r.org.as_deref(), r.name.as_str()),
            (Some("builtin"), Some("acme"), "sbom-present")
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            PolicyRef::parse(&format!("vulnerabilities@{digest}"))
                .unwrap()
                .digest,
            Some(digest)
        );
        assert!(PolicyRef::parse("vulnerabilities@1.2.0").is_err());
        assert!(
            PolicyRef::parse("file://p.yaml")
                .unwrap_err()
                .contains("by name")
        );
        assert!(PolicyRef::parse("Bad_Name").is_err());
    }
}
