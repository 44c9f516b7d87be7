//! Organization settings.

use serde::{Deserialize, Serialize};

/// The default of [`OrgSettings::reference_data_max_age_days`] (issue 14).
pub const DEFAULT_REFERENCE_DATA_MAX_AGE_DAYS: u32 = 7;
/// The longest a catalog may be trusted as current: ten years.
pub const MAX_REFERENCE_DATA_MAX_AGE_DAYS: u32 = 3650;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            in_preview_frameworks: false,
            requirements_auto_matching: true,
            allow_unsigned_attestations: false,
            reference_data_max_age_days: DEFAULT_REFERENCE_DATA_MAX_AGE_DAYS,
            decision_approval: false,
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
    pub reference_data_max_age_days: Option<u32>,
    pub decision_approval: Option<bool>,
}

impl OrgSettingsPatch {
    /// What is wrong with the patch's values, if anything, in the API's words.
    pub fn problem(&self) -> Option<String> {
        match self.reference_data_max_age_days {
            Some(d) if d == 0 || d > MAX_REFERENCE_DATA_MAX_AGE_DAYS => Some(format!(
                "reference_data_max_age_days must be between 1 and {MAX_REFERENCE_DATA_MAX_AGE_DAYS}, not {d}"
            )),
            _ => None,
        }
    }
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
        assert_eq!(parsed.reference_data_max_age_days, 7);
        for (days, ok) in [(0, false), (1, true), (3650, true), (3651, false)] {
            let patch = OrgSettingsPatch {
                reference_data_max_age_days: Some(days),
                ..Default::default()
            };
            assert_eq!(patch.problem().is_none(), ok, "{days}");
        }
    }
}
