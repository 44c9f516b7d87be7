//! The audit log's hash chain.
//!
//! Each event stores the hash of the one before it; the org stores the hash of its last
//! event. An edited event no longer matches its hash, a removed one breaks the link of
//! its successor, and a removed tail no longer matches the org's head.

use crate::digest;
use serde::{Deserialize, Serialize};

/// The `prev_hash` of an org's first event.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub actor: String,
    pub action: String,
    /// `Kind/name`, e.g. `Requirement/no-vulnerabilities-high` or `Token/3f2a…`.
    pub target: String,
    pub revision: Option<i64>,
    /// Digest of the target's new state, when it has one.
    pub digest: Option<String>,
    /// Free-form JSON detail (changed settings, a token's role, …).
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// What an event is before it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub revision: Option<i64>,
    pub digest: Option<String>,
    pub detail: Option<String>,
}

impl NewEvent {
    pub fn new(actor: &str, action: &str, target: String) -> Self {
        Self {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target,
            revision: None,
            digest: None,
            detail: None,
        }
    }

    pub fn revision(mut self, revision: i64, digest: &str) -> Self {
        self.revision = Some(revision);
        self.digest = Some(digest.to_owned());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// Chains the event after `prev_hash` as number `seq`.
    pub fn chain(self, seq: i64, time_ms: i64, prev_hash: &str) -> AuditEvent {
        let mut event = AuditEvent {
            seq,
            time_ms,
            actor: self.actor,
            action: self.action,
            target: self.target,
            revision: self.revision,
            digest: self.digest,
            detail: self.detail,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        event.hash = hash(&event);
        event
    }
}

/// The hash of everything in an event but its own hash.
pub fn hash(e: &AuditEvent) -> String {
    let canonical = serde_json::json!([
        e.seq,
        e.time_ms,
        e.actor,
        e.action,
        e.target,
        e.revision,
        e.digest,
        e.detail,
        e.prev_hash
    ]);
    digest::of_json(&canonical)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks events (in ascending `seq`) against each other and against the org's head.
pub fn verify(events: &[AuditEvent], head: Option<(i64, &str)>) -> Result<usize, ChainBreak> {
    let mut prev_hash = GENESIS.to_owned();
    for (expected_seq, e) in (1..).zip(events) {
        if e.seq != expected_seq {
            return Err(ChainBreak {
                seq: expected_seq,
                reason: format!(
                    "event {expected_seq} is missing (next stored event is {})",
                    e.seq
                ),
            });
        }
        if e.prev_hash != prev_hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!("event {} does not link to the event before it", e.seq),
            });
        }
        if hash(e) != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!("event {} was modified after it was written", e.seq),
            });
        }
        prev_hash = e.hash.clone();
    }
    let last = events.last().map(|e| (e.seq, e.hash.as_str()));
    match (head, last) {
        (None, None) => Ok(0),
        (Some((seq, h)), Some((last_seq, last_hash))) if seq == last_seq && h == last_hash => {
            Ok(events.len())
        }
        (Some((seq, _)), _) => Err(ChainBreak {
            seq,
            reason: format!(
                "the log ends at event {} but the organization's head is event {seq}",
                last.map_or(0, |(s, _)| s)
            ),
        }),
        (None, Some((seq, _))) => Err(ChainBreak {
            seq,
            reason: "events exist but the organization records no head".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = NewEvent::new("alice", "apply.created", format!("Requirement/r{seq}"))
                    .chain(seq, 1_000 * seq, &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn head(events: &[AuditEvent]) -> Option<(i64, &str)> {
        events.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn intact_chain_verifies() {
        let events = chain(5);
        assert_eq!(verify(&events, head(&events)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn edited_event_is_detected() {
        let mut events = chain(5);
        let h = head(&events).map(|(s, h)| (s, h.to_owned()));
        events[2].actor = "mallory".into();
        let err = verify(&events, h.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("modified"));
    }

    #[test]
    fn removed_event_is_detected() {
        let mut events = chain(5);
        let h = head(&events).map(|(s, h)| (s, h.to_owned()));
        events.remove(1);
        let err = verify(&events, h.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap_err();
        assert_eq!(err.seq, 2);
    }

    #[test]
    fn removed_tail_is_detected() {
        let events = chain(5);
        let h = head(&events).map(|(s, h)| (s, h.to_owned())).unwrap();
        let err = verify(&events[..4], Some((h.0, &h.1))).unwrap_err();
        assert_eq!(err.seq, 5);
    }

    #[test]
    fn renumbered_and_rehashed_event_still_breaks_the_link() {
        let mut events = chain(3);
        let h = head(&events).map(|(s, h)| (s, h.to_owned())).unwrap();
        events[1].action = "delete".into();
        events[1].hash = hash(&events[1]);
        let err = verify(&events, Some((h.0, &h.1))).unwrap_err();
        assert_eq!(err.seq, 3, "{err:?}");
    }
}
