//! Freshness periods for policies and proofs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Periodicity {
    Hourly,
    Daily,
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl Periodicity {
    pub const ALL: [Periodicity; 7] = [
        Self::Hourly,
        Self::Daily,
        Self::Weekly,
        Self::Biweekly,
        Self::Monthly,
        Self::Quarterly,
        Self::Yearly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Biweekly => "biweekly",
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Yearly => "yearly",
        }
    }

    /// Case-insensitive, since YAML authors write `Daily` as often as `daily`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The period in seconds (semantics §3: a month is 30 days, a year 365).
    pub fn seconds(self) -> i64 {
        const HOUR: i64 = 3600;
        const DAY: i64 = 24 * HOUR;
        match self {
            Self::Hourly => HOUR,
            Self::Daily => DAY,
            Self::Weekly => 7 * DAY,
            Self::Biweekly => 14 * DAY,
            Self::Monthly => 30 * DAY,
            Self::Quarterly => 90 * DAY,
            Self::Yearly => 365 * DAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_match_the_spec() {
        let table = [
            ("hourly", 3600),
            ("DAILY", 86_400),
            ("weekly", 604_800),
            ("biweekly", 1_209_600),
            ("monthly", 2_592_000),
            ("quarterly", 7_776_000),
            ("yearly", 31_536_000),
        ];
        for (text, secs) in table {
            assert_eq!(Periodicity::parse(text).unwrap().seconds(), secs, "{text}");
        }
        assert_eq!(Periodicity::parse("fortnightly"), None);
    }
}
