//! Organization settings.

use serde::{Deserialize, Serialize};

/// The default of [`OrgSettings::reference_data_max_age_days`] (issue 14).
pub const DEFAULT_REFERENCE_DATA_MAX_AGE_DAYS: u32 = 7;
/// The longest a catalog may be trusted as current: ten years.
pub const MAX_REFERENCE_DATA_MAX_AGE_DAYS: u32 = 3650;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSettings {
    /// Show and allow attaching built-in frameworks marked in-preview.
    pub in_preview_frameworks: bool,
    /// Match evaluations to requirements by policy name and arguments (semantics §4.2).
    pub requirements_auto_matching: bool,
    /// Accept attestations that no trusted key signed; each is recorded as unsigned.
    pub allow_unsigned_attestations: bool,
    /// A reference data catalog (KEV) released longer ago than this many days is called
    /// stale wherever an evaluation that read it is explained.
    pub reference_data_max_age_days: u32,
    /// Four eyes: an exception or override takes effect only once a second admin or
    /// owner approves it.
    pub decision_approval: bool,
    /// Hosts a policy's `http.send` may reach when `comply attest` evaluates the org's
    /// contracts (decision 0025); empty: none, evaluation stays sealed. Sorted, lowercase.
    pub policy_allowed_hostnames: Vec<String>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            in_preview_frameworks: false,
            requirements_auto_matching: true,
            allow_unsigned_attestations: false,
            reference_data_max_age_days: DEFAULT_REFERENCE_DATA_MAX_AGE_DAYS,
            decision_approval: false,
            policy_allowed_hostnames: Vec::new(),
        }
    }
}

/// A partial update: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsPatch {
    pub in_preview_frameworks: Option<bool>,
    pub requirements_auto_matching: Option<bool>,
    pub allow_unsigned_attestations: Option<bool>,
    pub reference_data_max_age_days: Option<u32>,
    pub decision_approval: Option<bool>,
    /// Replaces the list; `[]` clears it.
    pub policy_allowed_hostnames: Option<Vec<String>>,
}

impl OrgSettingsPatch {
    /// What is wrong with the patch, if anything, in the API's words (each hostname
    /// checked).
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .policy_allowed_hostnames
            .iter()
            .flatten()
            .filter_map(|h| hostname_problem(h).map(|p| format!("policy_allowed_hostnames: {p}")))
            .collect();
        if let Some(d) = self.reference_data_max_age_days
            && (d == 0 || d > MAX_REFERENCE_DATA_MAX_AGE_DAYS)
        {
            problems.push(format!(
                "reference_data_max_age_days must be between 1 and {MAX_REFERENCE_DATA_MAX_AGE_DAYS}, not {d}"
            ));
        }
        problems
    }
}
/// A host `http.send` may be allowed to reach: a DNS name or an IP address, optionally
/// with `:port`; no scheme, path or wildcard.
pub fn hostname_problem(host: &str) -> Option<String> {
    let shown = crate::name::quote(host);
    let host = host.trim();
    if host.is_empty() {
        return Some("an empty hostname".into());
    }
    if host.len() > 253 + 6 {
        return Some(format!("{shown} is longer than a hostname can be"));
    }
    if host.contains("://") || host.contains('/') {
        return Some(format!(
            "{shown} is a URL; give the hostname only (e.g. app.chainloop.dev)"
        ));
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (host, None),
    };
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Some(format!("{shown} has an invalid port"));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '[' | ']' | ':');
    if name.is_empty() || !name.chars().all(valid) {
        return Some(format!(
            "{shown} is not a hostname (letters, digits, '-' and '.'; no wildcards)"
        ));
    }
    None
}

impl OrgSettings {
    pub fn apply(mut self, patch: &OrgSettingsPatch) -> Self {
        if let Some(v) = patch.in_preview_frameworks {
            self.in_preview_frameworks = v;
        }
        if let Some(v) = patch.requirements_auto_matching {
            self.requirements_auto_matching = v;
        }
        if let Some(v) = patch.allow_unsigned_attestations {
            self.allow_unsigned_attestations = v;
        }
        if let Some(v) = patch.reference_data_max_age_days {
            self.reference_data_max_age_days = v;
        }
        if let Some(v) = patch.decision_approval {
            self.decision_approval = v;
        }
        if let Some(hosts) = &patch.policy_allowed_hostnames {
            let mut hosts: Vec<String> = hosts
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect();
            hosts.sort();
            hosts.dedup();
            self.policy_allowed_hostnames = hosts;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_patch() {
        let s = OrgSettings::default();
        assert!(!s.in_preview_frameworks && s.requirements_auto_matching);
        let patched = s.clone().apply(&OrgSettingsPatch {
            requirements_auto_matching: Some(false),
            ..Default::default()
        });
        assert!(!patched.requirements_auto_matching);
        assert_eq!(patched.in_preview_frameworks, s.in_preview_frameworks);
        let parsed: OrgSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, OrgSettings::default());
        assert_eq!(parsed.reference_data_max_age_days, 7);
        for (days, ok) in [(0, false), (1, true), (3650, true), (3651, false)] {
            let patch = OrgSettingsPatch {
                reference_data_max_age_days: Some(days),
                ..Default::default()
            };
            assert_eq!(patch.problems().is_empty(), ok, "{days}");
        }
    }

    #[test]
    fn allowed_hostnames_are_normalized_and_checked() {
        let patch = OrgSettingsPatch {
            policy_allowed_hostnames: Some(vec![
                "App.Chainloop.dev".into(),
                "127.0.0.1:8080".into(),
                "app.chainloop.dev.".into(),
            ]),
            ..Default::default()
        };
        assert!(patch.problems().is_empty());
        let s = OrgSettings::default().apply(&patch);
        assert_eq!(
            s.policy_allowed_hostnames,
            ["127.0.0.1:8080", "app.chainloop.dev"]
        );
        let cleared = s.apply(&OrgSettingsPatch {
            policy_allowed_hostnames: Some(vec![]),
            ..Default::default()
        });
        assert!(cleared.policy_allowed_hostnames.is_empty());
        for bad in ["https://x.dev", "*.x.dev", "x.dev:0", "x.dev:http", " "] {
            assert!(hostname_problem(bad).is_some(), "{bad}");
        }
        assert!(hostname_problem("[::1]:8080").is_none());
    }
}
