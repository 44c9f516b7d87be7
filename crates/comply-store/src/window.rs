//! What a status reads of the evidence (docs/decisions/0016): per series (project
//! version, policy, and what makes its evaluations different candidates) the
//! evaluations inside the longest SLA asked of the policy, and the newest one before.

use crate::packed;
use crate::{Store, StoreError};
use comply_core::status::{EvaluationFact, Violation};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// Project versions per statement: bounded so that statements stay well under either
/// backend's limit on bound parameters.
const CHUNK: usize = 400;

impl Store {
    /// The evaluations a status at `at_ms` needs of these project versions: of every
    /// series, the evaluations of the last `windows[policy]` milliseconds up to `at_ms`
    /// (none for policies not named) and the newest one before them. The newest of
    /// these is the series' latest at `at_ms`, so the latest candidate of every argument
    /// set is read and freshness is exact; and with the window covering the policy's
    /// longest SLA, a failing run is either seen to begin inside it or seen to reach
    /// back past it, which is all GRACE or FAILED depends on.
    /// Each series is found in `evaluation_series` and read by seeking the
    /// `(series, time)` index: the cost is the series and the recent evidence, whatever
    /// the history. Unordered; each fact with its project version id.
    pub async fn status_evidence(
        &self,
        org_id: i64,
        project_version_ids: &[i64],
        at_ms: i64,
        windows: &BTreeMap<String, i64>,
    ) -> Result<Vec<(i64, EvaluationFact)>, StoreError> {
        // The window of a series as a CASE over bound policy names.
        let first = 3;
        let mut case = String::from(if windows.is_empty() {
            "0"
        } else {
            "CASE s.policy"
        });
        for i in 0..windows.len() {
            case.push_str(&format!(
                " WHEN ${} THEN ${}",
                first + 2 * i,
                first + 2 * i + 1
            ));
        }
        if !windows.is_empty() {
            case.push_str(" ELSE 0 END");
        }
        let ids_from = first + 2 * windows.len();
        // The statement spells out the per-series seeks, in each backend's terms, so
        // that no plan (nor its statistics, which PostgreSQL may lack after a bulk load
        // when autovacuum is off) can turn them into scans: SQLite's CROSS JOIN keeps the
        // series as the outer loop; on PostgreSQL each seek is a LATERAL subquery per
        // series and each row fetch one per id, with OFFSET 0 so that the planner cannot
        // pull them up into an ordinary join.
        const ROW: &str = "e.project_version_id AS pv, e.id AS id, e.attestation_id AS att, \
             a.digest AS digest, e.policy AS policy, e.policy_digest AS policy_digest, \
             e.args AS args, e.violations AS violations, e.skipped AS skipped, \
             e.skip_reasons AS skip_reasons, e.requirements AS requirements, \
             e.time_ms AS time_ms, COALESCE(e.received_at, a.received_at) AS received_at, \
             e.networked AS networked";
        let mut out = Vec::new();
        for chunk in project_version_ids.chunks(CHUNK) {
            let ids: Vec<String> = (0..chunk.len())
                .map(|i| format!("${}", i + ids_from))
                .collect();
            let ids = ids.join(", ");
            let in_window =
                format!("w.series_id = s.id AND w.time_ms <= $2 AND w.time_ms > $2 - ({case})");
            let window = match self.backend {
                crate::Backend::Sqlite => {
                    format!("evaluation_series s CROSS JOIN evaluations w ON {in_window}")
                }
                crate::Backend::Postgres => format!(
                    "evaluation_series s CROSS JOIN LATERAL \
                     (SELECT w.id FROM evaluations w WHERE {in_window} OFFSET 0) w"
                ),
            };
            // Per series: the window's evaluations, and the newest before the window.
            let picked = format!(
                "SELECT w.id AS id FROM {window} \
                 WHERE s.project_version_id IN ({ids}) AND ({case}) > 0 \
                 UNION ALL \
                 SELECT (SELECT x.id FROM evaluations x WHERE x.series_id = s.id AND x.time_ms <= $2 - ({case}) \
                         ORDER BY x.time_ms DESC, x.id DESC LIMIT 1) AS id \
                 FROM evaluation_series s WHERE s.project_version_id IN ({ids})"
            );
            let rows = match self.backend {
                crate::Backend::Sqlite => format!(
                    "FROM (SELECT {ROW} FROM ({picked}) p JOIN evaluations e ON e.id = p.id \
                     JOIN attestations a ON a.id = e.attestation_id WHERE e.org_id = $1) r"
                ),
                crate::Backend::Postgres => format!(
                    "FROM ({picked}) p CROSS JOIN LATERAL (SELECT {ROW} FROM evaluations e \
                     JOIN attestations a ON a.id = e.attestation_id \
                     WHERE e.id = p.id AND e.org_id = $1 OFFSET 0) r"
                ),
            };
            let sql = packed::select(
                self.backend,
                &[
                    "r.pv",
                    "r.id",
                    "r.att",
                    "r.digest",
                    "r.policy",
                    "r.policy_digest",
                    "r.args",
                    "r.violations",
                    "r.skipped",
                    "r.skip_reasons",
                    "r.requirements",
                    "r.time_ms",
                    "r.received_at",
                    "r.networked",
                ],
                &rows,
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(at_ms);
            for (policy, window) in windows {
                q = q.bind(policy.as_str()).bind(*window);
            }
            for pv in chunk {
                q = q.bind(*pv);
            }
            let row = q.fetch_one(&self.pool).await?;
            let rows: Vec<Packed> = packed::rows(&row, "evaluations")?;
            out.extend(rows.into_iter().map(Packed::into_fact));
        }
        Ok(out)
    }
}

/// One evaluation as the packed read returns it.
#[derive(Deserialize)]
struct Packed(
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Embedded<BTreeMap<String, String>>,
    Embedded<Vec<StoredViolation>>,
    i64,
    Embedded<Vec<String>>,
    Embedded<Vec<String>>,
    i64,
    i64,
    Option<String>,
);

/// A text column that holds JSON, arriving as a string of it: parsed here rather than
/// by the database (whose JSON functions would parse and print it again), and not at
/// all when it is empty.
struct Embedded<T>(T);

impl<'de, T: DeserializeOwned + Default> Deserialize<'de> for Embedded<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text<T>(PhantomData<T>);
        impl<T: DeserializeOwned + Default> Visitor<'_> for Text<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON text")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
                if v == "[]" || v == "{}" {
                    return Ok(T::default());
                }
                serde_json::from_str(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Text(PhantomData)).map(Embedded)
    }
}

impl Packed {
    fn into_fact(self) -> (i64, EvaluationFact) {
        let Packed(
            pv,
            id,
            attestation_id,
            digest,
            policy,
            policy_digest,
            Embedded(arguments),
            Embedded(violations),
            skipped,
            Embedded(skip_reasons),
            Embedded(requirements),
            time,
            received_at,
            networked,
        ) = self;
        let fact = EvaluationFact {
            id: id.to_string(),
            attestation: digest,
            policy,
            policy_digest,
            arguments,
            violations: violations
                .into_iter()
                .map(|v| Violation {
                    message: v.message,
                    severity: v.finding.0,
                    suppressed: v.suppressed,
                })
                .collect(),
            skipped: skipped != 0,
            skip_reasons,
            requirements,
            time,
            received_at,
            receipt: attestation_id as u64,
            networked,
        };
        (pv, fact)
    }
}

/// A violation as ingestion stores it: `{subject, message, finding: {kind: {…}} | null,
/// suppressed}`. Only what status reads is kept.
#[derive(Deserialize)]
struct StoredViolation {
    #[serde(default)]
    message: String,
    #[serde(default)]
    finding: FindingSeverity,
    #[serde(default)]
    suppressed: bool,
}

/// The `severity` of a structured finding (`{kind: {severity, …}}`), when it has a
/// textual one; any other shape reads as none, never as an error.
#[derive(Default)]
struct FindingSeverity(Option<String>);

impl<'de> Deserialize<'de> for FindingSeverity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FindingVisitor { depth: 0 })
            .map(FindingSeverity)
    }
}

/// Depth 0 is the finding (`{kind: details}`), depth 1 its details (`{severity, …}`).
struct FindingVisitor {
    depth: u8,
}

impl<'de> Visitor<'de> for FindingVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a finding")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.depth {
                0 if found.is_none() => {
                    found = map.next_value_seed(FindingSeed)?;
                }
                1 if key == "severity" => {
                    found = map.next_value::<Lenient>()?.0;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    // Any other value (null, a string, a list, …) carries no severity.
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// The details of one finding kind.
struct FindingSeed;

impl<'de> serde::de::DeserializeSeed<'de> for FindingSeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(FindingVisitor { depth: 1 })
    }
}

/// A string, or nothing for any other value.
struct Lenient(Option<String>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Lenient(v.as_str().map(str::to_owned)))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;
    use crate::{NewAttestation, NewEvaluation, Store};
    use sqlx::Row;
    use std::collections::BTreeMap;

    fn evaluation(
        digest: Option<&str>,
        severity: &str,
        requirement: bool,
        skipped: bool,
    ) -> NewEvaluation {
        NewEvaluation {
            policy: "vulnerabilities".into(),
            policy_ref: "chainloop://vulnerabilities".into(),
            policy_digest: digest.map(str::to_owned),
            material: None,
            material_type: None,
            args: BTreeMap::from([("severity".to_owned(), severity.to_owned())]),
            violations: serde_json::json!([]),
            skipped,
            skip_reasons: if skipped {
                vec!["no scan".into()]
            } else {
                vec![]
            },
            requirements: if requirement {
                vec!["fw/no-vulns".into()]
            } else {
                vec![]
            },
            gate: false,
            networked: None,
        }
    }

    /// Ingestion names each evaluation's series with the text migration 0003 computes
    /// in SQL for existing evaluations, so that evidence stored before and after the
    /// upgrade falls into the same series (both backends).
    #[tokio::test]
    async fn ingestion_files_evaluations_as_the_migration_does() {
        for db in TestDb::all().await {
            let store = Store::connect(&db.url).await.expect("connect");
            let org = store.create_org("acme", "test", 1).await.expect("org");
            let mut t = 1_000;
            for severity in ["HIGH", "LOW"] {
                for digest in [None, Some("sha256:ab")] {
                    for (requirement, skipped) in [(false, false), (true, false), (false, true)] {
                        t += 1_000;
                        let a = NewAttestation {
                            digest: format!("sha256:{t:08x}"),
                            project: "api".into(),
                            version: "1.0".into(),
                            prerelease: None,
                            workflow: None,
                            contract: None,
                            finished_at: t,
                            signer: "unsigned".into(),
                            verified: false,
                            envelope: "{}".into(),
                            // The same evaluation twice: one series, not two.
                            evaluations: vec![
                                evaluation(digest, severity, requirement, skipped),
                                evaluation(digest, severity, requirement, skipped),
                            ],
                            evaluations_ref: None,
                            evaluations_supplied: false,
                        };
                        store.ingest(org.id, &a, t).await.expect("ingest");
                    }
                }
            }
            let row = sqlx::query(
                "SELECT COUNT(*), \
                 SUM(CASE WHEN s.config = COALESCE(e.policy_digest, '') || ' ' || e.args || ' ' \
                     || e.requirements || ' ' || e.skipped THEN 1 ELSE 0 END), \
                 COUNT(DISTINCT s.id) \
                 FROM evaluations e JOIN evaluation_series s ON s.id = e.series_id",
            )
            .fetch_one(&store.pool)
            .await
            .expect("query");
            let (all, same, series): (i64, i64, i64) = (
                row.try_get(0).unwrap(),
                row.try_get(1).unwrap(),
                row.try_get(2).unwrap(),
            );
            assert_eq!(all, 24, "every evaluation has its series");
            assert_eq!(same, all, "the SQL text and ingestion's agree");
            assert_eq!(series, 12, "one series per distinct combination");
            store.close().await;
        }
    }
}
