//! Attestations and what they imply: the rows ingestion writes (`ingest`), the projects,
//! versions and workflows they create (`projects`), and the reads of attestations and
//! their evaluations (here).
//!
//! One attestation is stored whole or not at all. The same envelope (by digest) is
//! stored once.

use crate::{Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// An attestation the server has parsed and verified, ready to store.
#[derive(Debug, Clone)]
pub struct NewAttestation {
    pub digest: String,
    pub project: String,
    pub version: String,
    /// From the predicate when it says; new versions are prereleases otherwise.
    pub prerelease: Option<bool>,
    pub workflow: Option<String>,
    pub contract: Option<String>,
    pub finished_at: i64,
    /// Key or CA name that verified it, or `unsigned`.
    pub signer: String,
    pub verified: bool,
    /// The DSSE envelope in canonical form; the statement is its payload.
    pub envelope: String,
    pub evaluations: Vec<NewEvaluation>,
    /// The predicate's `policyEvaluationsRef`, when its evaluations are kept apart.
    pub evaluations_ref: Option<EvaluationsRef>,
    /// Whether the referenced bundle came with it (its evaluations are `evaluations`).
    pub evaluations_supplied: bool,
}

/// Where an attestation's policy evaluations are kept when it does not carry them
/// (Chainloop's `policyEvaluationsRef`, a ResourceDescriptor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EvaluationsRef {
    pub name: String,
    /// `sha256:<hex>` of the bundle's bytes.
    pub digest: String,
    pub media_type: Option<String>,
}

/// What [`Store::attach_evaluations`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachOutcome {
    Attached {
        evaluations: usize,
    },
    NoSuchAttestation,
    /// The attestation carries its evaluations or references none.
    NoReference,
    /// Supplied before, at this instant: evidence is immutable.
    AlreadySupplied {
        at: i64,
    },
}

/// An attestation of a project version whose referenced evaluations had not been
/// supplied at the instant asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencedRow {
    pub project_version_id: i64,
    pub digest: String,
    pub finished_at: i64,
    pub received_at: i64,
    pub supplied_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewEvaluation {
    /// Normalized policy name (`chainloop://`, provider, org and digest stripped).
    pub policy: String,
    /// The reference as the attestation wrote it.
    pub policy_ref: String,
    pub policy_digest: Option<String>,
    pub material: Option<String>,
    pub material_type: Option<String>,
    pub args: BTreeMap<String, String>,
    /// `[{"message": …, "subject": …, "finding": {…}|null, "suppressed": bool}]`
    pub violations: Value,
    pub skipped: bool,
    pub skip_reasons: Vec<String>,
    pub requirements: Vec<String>,
    pub gate: bool,
    /// The hosts `http.send` could reach, when networking was on (decision 0025).
    pub networked: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestOutcome {
    pub id: i64,
    pub digest: String,
    pub project: String,
    pub version: String,
    pub created: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttestationRow {
    pub id: i64,
    pub digest: String,
    pub project: String,
    pub version: String,
    pub workflow: Option<String>,
    pub contract: Option<String>,
    pub finished_at: i64,
    pub received_at: i64,
    pub signer: String,
    pub verified: bool,
    pub evaluations_ref: Option<EvaluationsRef>,
    /// When the referenced evaluations were stored; `None` while they are not.
    pub evaluations_supplied_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvaluationRow {
    pub id: i64,
    pub attestation_id: i64,
    pub attestation_digest: String,
    pub policy: String,
    pub policy_ref: String,
    pub policy_digest: Option<String>,
    pub material: Option<String>,
    pub material_type: Option<String>,
    pub args: BTreeMap<String, String>,
    pub violations: Value,
    pub skipped: bool,
    pub skip_reasons: Vec<String>,
    pub requirements: Vec<String>,
    pub gate: bool,
    pub time_ms: i64,
    /// When the attestation carrying it arrived, or the evaluation when supplied later
    /// (evidence counts at `t` only if it had arrived by then).
    pub received_at: i64,
    pub networked: Option<String>,
}

impl Store {
    /// The attestations of these project versions that had arrived by `at_ms` and
    /// referenced policy evaluations not supplied by then (explanations read them).
    pub async fn referenced_evaluations(
        &self,
        org_id: i64,
        project_version_ids: &[i64],
        at_ms: i64,
    ) -> Result<Vec<ReferencedRow>, StoreError> {
        let mut out = Vec::new();
        // `+org_id`: still filtered by org, but not by its index. SQLite otherwise
        // walks every attestation of the org through (org_id, …) — 100,000 rows, 60 ms
        // per status at the benchmark portfolio — instead of seeking the project
        // versions'.
        for chunk in project_version_ids.chunks(400) {
            let ids: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT project_version_id, digest, finished_at, received_at, evaluations_supplied_at \
                 FROM attestations WHERE project_version_id IN ({}) AND evaluations_ref IS NOT NULL \
                 AND +org_id = $1 AND received_at <= $2 \
                 AND (evaluations_supplied_at IS NULL OR evaluations_supplied_at > $2) \
                 ORDER BY project_version_id, finished_at, id",
                ids.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(at_ms);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(ReferencedRow {
                    project_version_id: row.try_get(0)?,
                    digest: row.try_get(1)?,
                    finished_at: row.try_get(2)?,
                    received_at: row.try_get(3)?,
                    supplied_at: row.try_get(4)?,
                });
            }
        }
        Ok(out)
    }

    /// Newest first. `after` is the digest of the last attestation of the previous
    /// page: the page continues after it in the same order (`Ok(None)` when the org has
    /// no attestation with that digest).
    pub async fn list_attestations(
        &self,
        org_id: i64,
        project: Option<&str>,
        version: Option<&str>,
        limit: i64,
        after: Option<&str>,
    ) -> Result<Option<Vec<AttestationRow>>, StoreError> {
        let cursor = match after {
            Some(digest) => {
                let row = sqlx::query(
                    "SELECT finished_at, id FROM attestations WHERE org_id = $1 AND digest = $2",
                )
                .bind(org_id)
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(r) => Some((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)),
                    None => return Ok(None),
                }
            }
            None => None,
        };
        let (after_time, after_id) = cursor.unwrap_or((i64::MAX, i64::MAX));
        // A project's list reads its versions' attestations by the
        // `(project_version_id, finished_at)` index, newest first. Filtered by name in
        // the join instead, SQLite walked and sorted every attestation of the org (100,000
        // in the benchmark portfolio: 150 ms for a project page's five).
        let within = match project {
            Some(name) if !name.is_empty() => {
                let ids: Vec<i64> = sqlx::query(
                    "SELECT v.id FROM project_versions v JOIN projects p ON p.id = v.project_id \
                     WHERE p.org_id = $1 AND p.name = $2 AND ($3 = '' OR v.version = $3)",
                )
                .bind(org_id)
                .bind(name)
                .bind(version.unwrap_or(""))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
                if ids.is_empty() {
                    return Ok(Some(Vec::new()));
                }
                // The store's own integers, never a caller's text. `+a.org_id`: still
                // filtered by org, but not through its index.
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(
                    "a.project_version_id IN ({}) AND +a.org_id = $1",
                    ids.join(", ")
                )
            }
            _ => "a.org_id = $1".to_owned(),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.digest, p.name, v.version, w.name, a.contract, a.finished_at, a.received_at, a.signer, a.verified, a.evaluations_ref, a.evaluations_supplied_at \
             FROM attestations a JOIN project_versions v ON v.id = a.project_version_id \
             JOIN projects p ON p.id = v.project_id LEFT JOIN workflows w ON w.id = a.workflow_id \
             WHERE {within} AND ($2 = '' OR v.version = $2) \
             AND (a.finished_at < $4 OR (a.finished_at = $4 AND a.id < $5)) \
             ORDER BY a.finished_at DESC, a.id DESC LIMIT $3"
        )))
        .bind(org_id)
        .bind(version.unwrap_or(""))
        .bind(limit)
        .bind(after_time)
        .bind(after_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(attestation_row)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    pub async fn get_attestation(
        &self,
        org_id: i64,
        digest: &str,
    ) -> Result<Option<(AttestationRow, String, Vec<EvaluationRow>)>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT a.id, a.digest, p.name, v.version, w.name, a.contract, a.finished_at, a.received_at, a.signer, a.verified, a.evaluations_ref, a.evaluations_supplied_at, a.envelope \
             FROM attestations a JOIN project_versions v ON v.id = a.project_version_id \
             JOIN projects p ON p.id = v.project_id LEFT JOIN workflows w ON w.id = a.workflow_id \
             WHERE a.org_id = $1 AND a.digest = $2",
        )
        .bind(org_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let attestation = attestation_row(&row)?;
        let envelope: String = row.try_get(12)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{EVALUATION_SELECT} WHERE e.attestation_id = $1 ORDER BY e.id"
        )))
        .bind(attestation.id)
        .fetch_all(&self.pool)
        .await?;
        let evaluations = rows.iter().map(evaluation_row).collect::<Result<_, _>>()?;
        Ok(Some((attestation, envelope, evaluations)))
    }

    /// Per project version of the org: how many attestations it holds, and the latest
    /// `finishedAt` or receipt time among them (both kept at ingestion). A status computed for a
    /// project version stays true until the first changes (new evidence) or time reaches
    /// the second (evidence dated slightly ahead of the reader's clock: the allowed skew,
    /// or another server's clock).
    pub async fn attestation_marks(
        &self,
        org_id: i64,
    ) -> Result<HashMap<i64, (i64, i64)>, StoreError> {
        let sql = crate::packed::select(
            self.backend,
            &["id", "attestation_count", "evidence_at"],
            "FROM project_versions WHERE org_id = $1",
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .fetch_one(&self.pool)
            .await?;
        let rows: Vec<(i64, i64, i64)> = crate::packed::rows(&row, "project versions")?;
        Ok(rows.into_iter().map(|(id, n, at)| (id, (n, at))).collect())
    }
}

const EVALUATION_SELECT: &str = "SELECT e.id, e.attestation_id, a.digest, e.policy, e.policy_ref, e.policy_digest, e.material, e.material_type, \
     e.args, e.violations, e.skipped, e.skip_reasons, e.requirements, e.gate, e.time_ms, COALESCE(e.received_at, a.received_at), e.networked \
     FROM evaluations e JOIN attestations a ON a.id = e.attestation_id";

fn json_text<T: serde::de::DeserializeOwned + Default>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    // Most evaluations have no violations, reasons or requirements.
    if text == "[]" || text == "{}" {
        return Ok(T::default());
    }
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("evaluation {what}: {e}")))
}

fn evaluation_row(row: &sqlx::any::AnyRow) -> Result<EvaluationRow, StoreError> {
    let args: String = row.try_get(8)?;
    let violations: String = row.try_get(9)?;
    let reasons: String = row.try_get(11)?;
    let requirements: String = row.try_get(12)?;
    Ok(EvaluationRow {
        id: row.try_get(0)?,
        attestation_id: row.try_get(1)?,
        attestation_digest: row.try_get(2)?,
        policy: row.try_get(3)?,
        policy_ref: row.try_get(4)?,
        policy_digest: row.try_get(5)?,
        material: row.try_get(6)?,
        material_type: row.try_get(7)?,
        args: json_text(&args, "args")?,
        violations: if violations == "[]" {
            Value::Array(Vec::new())
        } else {
            json_text(&violations, "violations")?
        },
        skipped: row.try_get::<i64, _>(10)? != 0,
        skip_reasons: json_text(&reasons, "skip reasons")?,
        requirements: json_text(&requirements, "requirements")?,
        gate: row.try_get::<i64, _>(13)? != 0,
        time_ms: row.try_get(14)?,
        received_at: row.try_get(15)?,
        networked: row.try_get(16)?,
    })
}

fn attestation_row(row: &sqlx::any::AnyRow) -> Result<AttestationRow, StoreError> {
    Ok(AttestationRow {
        id: row.try_get(0)?,
        digest: row.try_get(1)?,
        project: row.try_get(2)?,
        version: row.try_get(3)?,
        workflow: row.try_get(4)?,
        contract: row.try_get(5)?,
        finished_at: row.try_get(6)?,
        received_at: row.try_get(7)?,
        signer: row.try_get(8)?,
        verified: row.try_get::<i64, _>(9)? != 0,
        evaluations_ref: row
            .try_get::<Option<String>, _>(10)?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("attestation evaluations_ref: {e}")))
            })
            .transpose()?,
        evaluations_supplied_at: row.try_get(11)?,
    })
}
