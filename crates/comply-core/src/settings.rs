//! Organization settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSettings {
    /// Show and allow attaching built-in frameworks marked in-preview.
    pub in_preview_frameworks: bool,
    /// Match evaluations to requirements by policy name and arguments (semantics §4.2).
    pub requirements_auto_matching: bool,
    /// Accept attestations that no trusted key signed; each is recorded as unsigned.
    pub allow_unsigned_attestations: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            in_preview_frameworks: false,
            requirements_auto_matching: true,
            allow_unsigned_attestations: false,
        }
    }
}

/// A partial update: only the fields present change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsPatch {
    pub in_preview_frameworks: Option<bool>,
    pub requirements_auto_matching: Option<bool>,
    pub allow_unsigned_attestations: Option<bool>,
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
        let patched = s.apply(&OrgSettingsPatch {
            requirements_auto_matching: Some(false),
            ..Default::default()
        });
        assert!(!patched.requirements_auto_matching);
        assert_eq!(patched.in_preview_frameworks, s.in_preview_frameworks);
        let parsed: OrgSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, OrgSettings::default());
    }
}
