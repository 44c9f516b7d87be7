//! Attestations and what they imply: projects, project versions and workflows are
//! created by the first attestation that names them; every policy evaluation is stored
//! with the fields status computation reads, indexed by (project version, policy).
//!
//! One attestation is one transaction: either it and all its evaluations are stored,
//! or nothing is. The same envelope (by digest) is stored once.

use crate::{Store, StoreError, Tx, flag};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use std::collections::BTreeMap;

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
    pub envelope: String,
    pub statement: Value,
    pub evaluations: Vec<NewEvaluation>,
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
    /// When the attestation carrying it arrived (evidence counts at `t` only if it
    /// had arrived by then).
    pub received_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    pub name: String,
    pub latest: Option<String>,
    pub pinned_latest: Option<String>,
    pub versions: Vec<ProjectVersionRow>,
    pub workflows: Vec<WorkflowRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectVersionRow {
    pub id: i64,
    pub version: String,
    pub prerelease: bool,
    pub released_at: Option<i64>,
    pub created_at: i64,
    pub last_attested_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRow {
    pub project: String,
    pub name: String,
    pub contract: Option<String>,
    pub contract_explicit: bool,
}

async fn project_id(tx: &mut Tx, org_id: i64, name: &str, now_ms: i64) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO projects (org_id, name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, name) DO NOTHING",
    )
    .bind(org_id)
    .bind(name)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT id FROM projects WHERE org_id = $1 AND name = $2")
        .bind(org_id)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get(0)?)
}

impl Store {
    /// Stores a verified attestation with its evaluations, creating project, version
    /// and workflow as needed. Idempotent by digest.
    pub async fn ingest(
        &self,
        org_id: i64,
        a: &NewAttestation,
        now_ms: i64,
    ) -> Result<IngestOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(row) =
            sqlx::query("SELECT id FROM attestations WHERE org_id = $1 AND digest = $2")
                .bind(org_id)
                .bind(&a.digest)
                .fetch_optional(&mut *tx)
                .await?
        {
            return Ok(IngestOutcome {
                id: row.try_get(0)?,
                digest: a.digest.clone(),
                project: a.project.clone(),
                version: a.version.clone(),
                created: false,
            });
        }
        let project_id = project_id(&mut tx, org_id, &a.project, now_ms).await?;
        let prerelease = a.prerelease.unwrap_or(true);
        sqlx::query(
            "INSERT INTO project_versions (org_id, project_id, version, prerelease, released_at, created_at, last_attested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, version) DO NOTHING",
        )
        .bind(org_id)
        .bind(project_id)
        .bind(&a.version)
        .bind(flag(prerelease))
        .bind((!prerelease).then_some(a.finished_at))
        .bind(now_ms)
        .bind(a.finished_at)
        .execute(&mut *tx)
        .await?;
        let version_row = sqlx::query(
            "SELECT id, prerelease FROM project_versions WHERE project_id = $1 AND version = $2",
        )
        .bind(project_id)
        .bind(&a.version)
        .fetch_one(&mut *tx)
        .await?;
        let version_id: i64 = version_row.try_get(0)?;
        let was_prerelease = version_row.try_get::<i64, _>(1)? != 0;
        // A version is released once an attestation says so; it never goes back.
        sqlx::query(
            "UPDATE project_versions SET last_attested_at = CASE WHEN last_attested_at > $1 THEN last_attested_at ELSE $1 END, \
             prerelease = $2, released_at = CASE WHEN $2 = 0 AND released_at IS NULL THEN $1 ELSE released_at END \
             WHERE id = $3",
        )
        .bind(a.finished_at)
        .bind(flag(was_prerelease && prerelease))
        .bind(version_id)
        .execute(&mut *tx)
        .await?;
        let workflow_id = match &a.workflow {
            Some(name) => {
                sqlx::query(
                    "INSERT INTO workflows (org_id, project_id, name, contract, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, name) DO NOTHING",
                )
                .bind(org_id)
                .bind(project_id)
                .bind(name)
                .bind(&a.contract)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                // The contract is the one set explicitly, else the latest attestation's.
                if a.contract.is_some() {
                    sqlx::query(
                        "UPDATE workflows SET contract = $1 WHERE project_id = $2 AND name = $3 AND contract_explicit = 0",
                    )
                    .bind(&a.contract)
                    .bind(project_id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                }
                let row =
                    sqlx::query("SELECT id FROM workflows WHERE project_id = $1 AND name = $2")
                        .bind(project_id)
                        .bind(name)
                        .fetch_one(&mut *tx)
                        .await?;
                Some(row.try_get::<i64, _>(0)?)
            }
            None => None,
        };
        let row = sqlx::query(
            "INSERT INTO attestations (org_id, digest, project_version_id, workflow_id, contract, finished_at, received_at, signer, verified, envelope, statement) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(org_id)
        .bind(&a.digest)
        .bind(version_id)
        .bind(workflow_id)
        .bind(&a.contract)
        .bind(a.finished_at)
        .bind(now_ms)
        .bind(&a.signer)
        .bind(flag(a.verified))
        .bind(&a.envelope)
        .bind(a.statement.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let attestation_id: i64 = row.try_get(0)?;
        // Many rows per statement: one round trip for a typical attestation.
        for chunk in a.evaluations.chunks(32) {
            let mut sql = String::from(
                "INSERT INTO evaluations (org_id, attestation_id, project_version_id, policy, policy_ref, policy_digest, material, material_type, args, violations, violation_count, skipped, skip_reasons, requirements, gate, time_ms) VALUES ",
            );
            const COLS: usize = 16;
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let placeholders: Vec<String> =
                    (1..=COLS).map(|c| format!("${}", i * COLS + c)).collect();
                sql.push('(');
                sql.push_str(&placeholders.join(", "));
                sql.push(')');
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                let count = e.violations.as_array().map_or(0, Vec::len) as i64;
                q = q
                    .bind(org_id)
                    .bind(attestation_id)
                    .bind(version_id)
                    .bind(&e.policy)
                    .bind(&e.policy_ref)
                    .bind(&e.policy_digest)
                    .bind(&e.material)
                    .bind(&e.material_type)
                    .bind(serde_json::to_string(&e.args).expect("maps serialize"))
                    .bind(e.violations.to_string())
                    .bind(count)
                    .bind(flag(e.skipped))
                    .bind(serde_json::to_string(&e.skip_reasons).expect("lists serialize"))
                    .bind(serde_json::to_string(&e.requirements).expect("lists serialize"))
                    .bind(flag(e.gate))
                    .bind(a.finished_at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(IngestOutcome {
            id: attestation_id,
            digest: a.digest.clone(),
            project: a.project.clone(),
            version: a.version.clone(),
            created: true,
        })
    }

    pub async fn list_attestations(
        &self,
        org_id: i64,
        project: Option<&str>,
        version: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AttestationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.digest, p.name, v.version, w.name, a.contract, a.finished_at, a.received_at, a.signer, a.verified \
             FROM attestations a JOIN project_versions v ON v.id = a.project_version_id \
             JOIN projects p ON p.id = v.project_id LEFT JOIN workflows w ON w.id = a.workflow_id \
             WHERE a.org_id = $1 AND ($2 = '' OR p.name = $2) AND ($3 = '' OR v.version = $3) \
             ORDER BY a.finished_at DESC, a.id DESC LIMIT $4",
        )
        .bind(org_id)
        .bind(project.unwrap_or(""))
        .bind(version.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attestation_row).collect()
    }

    pub async fn get_attestation(
        &self,
        org_id: i64,
        digest: &str,
    ) -> Result<Option<(AttestationRow, Value, Vec<EvaluationRow>)>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT a.id, a.digest, p.name, v.version, w.name, a.contract, a.finished_at, a.received_at, a.signer, a.verified, a.statement \
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
        let statement: String = row.try_get(10)?;
        let statement = serde_json::from_str(&statement)
            .map_err(|e| StoreError::Corrupt(format!("attestation statement: {e}")))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{EVALUATION_SELECT} WHERE e.attestation_id = $1 ORDER BY e.id"
        )))
        .bind(attestation.id)
        .fetch_all(&self.pool)
        .await?;
        let evaluations = rows.iter().map(evaluation_row).collect::<Result<_, _>>()?;
        Ok(Some((attestation, statement, evaluations)))
    }

    /// Evaluations of these project versions (of the named policies, or all when
    /// `policies` is empty) with time ≤ `at_ms`, oldest first.
    pub async fn evaluations_for(
        &self,
        org_id: i64,
        project_version_ids: &[i64],
        policies: &[String],
        at_ms: i64,
    ) -> Result<Vec<(i64, EvaluationRow)>, StoreError> {
        let mut out = Vec::new();
        for &pv in project_version_ids {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{EVALUATION_SELECT} WHERE e.org_id = $1 AND e.project_version_id = $2 AND e.time_ms <= $3 ORDER BY e.time_ms, e.id"
            )))
            .bind(org_id)
            .bind(pv)
            .bind(at_ms)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let e = evaluation_row(row)?;
                if policies.is_empty() || policies.contains(&e.policy) {
                    out.push((pv, e));
                }
            }
        }
        Ok(out)
    }

    pub async fn list_projects(&self, org_id: i64) -> Result<Vec<ProjectRow>, StoreError> {
        let projects = sqlx::query(
            "SELECT id, name, pinned_latest FROM projects WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        let versions = sqlx::query(
            "SELECT project_id, id, version, prerelease, released_at, created_at, last_attested_at \
             FROM project_versions WHERE org_id = $1 ORDER BY created_at, id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        let workflows = sqlx::query(
            "SELECT w.project_id, p.name, w.name, w.contract, w.contract_explicit FROM workflows w \
             JOIN projects p ON p.id = w.project_id WHERE w.org_id = $1 ORDER BY w.name",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for p in &projects {
            let id: i64 = p.try_get(0)?;
            let mut vs = Vec::new();
            for v in versions
                .iter()
                .filter(|v| v.try_get::<i64, _>(0).ok() == Some(id))
            {
                vs.push(ProjectVersionRow {
                    id: v.try_get(1)?,
                    version: v.try_get(2)?,
                    prerelease: v.try_get::<i64, _>(3)? != 0,
                    released_at: v.try_get(4)?,
                    created_at: v.try_get(5)?,
                    last_attested_at: v.try_get(6)?,
                });
            }
            let mut ws = Vec::new();
            for w in workflows
                .iter()
                .filter(|w| w.try_get::<i64, _>(0).ok() == Some(id))
            {
                ws.push(WorkflowRow {
                    project: w.try_get(1)?,
                    name: w.try_get(2)?,
                    contract: w.try_get(3)?,
                    contract_explicit: w.try_get::<i64, _>(4)? != 0,
                });
            }
            let pinned: Option<String> = p.try_get(2)?;
            let latest = latest_version(&vs, pinned.as_deref());
            out.push(ProjectRow {
                name: p.try_get(1)?,
                latest,
                pinned_latest: pinned,
                versions: vs,
                workflows: ws,
            });
        }
        Ok(out)
    }

    /// Creates a workflow or sets its contract explicitly (creating the project too).
    pub async fn upsert_workflow(
        &self,
        org_id: i64,
        project: &str,
        name: &str,
        contract: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let project_id = project_id(&mut tx, org_id, project, now_ms).await?;
        sqlx::query(
            "INSERT INTO workflows (org_id, project_id, name, contract, contract_explicit, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) \
             ON CONFLICT (project_id, name) DO UPDATE SET contract = $4, contract_explicit = 1",
        )
        .bind(org_id)
        .bind(project_id)
        .bind(name)
        .bind(contract)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// `latest` follows the version attested most recently, unless pinned.
fn latest_version(versions: &[ProjectVersionRow], pinned: Option<&str>) -> Option<String> {
    if let Some(p) = pinned {
        return Some(p.to_owned());
    }
    versions
        .iter()
        .max_by_key(|v| (v.last_attested_at, v.id))
        .map(|v| v.version.clone())
}

const EVALUATION_SELECT: &str = "SELECT e.id, e.attestation_id, a.digest, e.policy, e.policy_ref, e.policy_digest, e.material, e.material_type, \
     e.args, e.violations, e.skipped, e.skip_reasons, e.requirements, e.gate, e.time_ms, a.received_at \
     FROM evaluations e JOIN attestations a ON a.id = e.attestation_id";

fn json_text<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
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
        violations: json_text(&violations, "violations")?,
        skipped: row.try_get::<i64, _>(10)? != 0,
        skip_reasons: json_text(&reasons, "skip reasons")?,
        requirements: json_text(&requirements, "requirements")?,
        gate: row.try_get::<i64, _>(13)? != 0,
        time_ms: row.try_get(14)?,
        received_at: row.try_get(15)?,
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
    })
}
