//! Attestations and what they imply: projects, project versions and workflows are
//! created by the first attestation that names them; every policy evaluation is stored
//! with the fields status computation reads, indexed by (project version, policy).
//!
//! One attestation is one transaction: either it and all its evaluations are stored,
//! or nothing is. The same envelope (by digest) is stored once.

use crate::{Store, StoreError, Tx, flag};
use lru::LruCache;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;

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

/// What makes evaluations of one policy of one project version different candidates for
/// a requirement: the policy digest, the arguments, the explicit requirements (both as
/// stored) and whether it was skipped. Migration 0003 computes the same text in SQL.
fn series_config(digest: Option<&str>, args: &str, requirements: &str, skipped: bool) -> String {
    format!(
        "{} {args} {requirements} {}",
        digest.unwrap_or(""),
        flag(skipped)
    )
}

/// Ids ingestion has already resolved (see [`Store::ingest`]), each map bounded: a
/// server that runs for months sees every project version of the org pass, and only the
/// recently attested ones are worth remembering (a miss costs one upsert, not an error).
#[derive(Debug)]
pub(crate) struct IdCache {
    /// (org, project, version) → (project id, version id)
    versions: LruCache<(i64, String, String), (i64, i64)>,
    /// (project id, workflow) → (workflow id, the contract it was last seen with)
    workflows: LruCache<(i64, String), (i64, Option<String>)>,
    /// (project version id, policy, config) → evaluation series id
    series: LruCache<(i64, String, String), i64>,
}

/// Entries kept per map: a few tens of MiB at most (a series key is ~200 bytes), far
/// more than the project versions attested in any hour of the benchmark portfolio.
const ID_CACHE_VERSIONS: NonZeroUsize = NonZeroUsize::new(20_000).unwrap();
const ID_CACHE_SERIES: NonZeroUsize = NonZeroUsize::new(100_000).unwrap();

impl Default for IdCache {
    fn default() -> Self {
        Self::with_capacity(ID_CACHE_VERSIONS, ID_CACHE_SERIES)
    }
}

impl IdCache {
    pub(crate) fn with_capacity(versions: NonZeroUsize, series: NonZeroUsize) -> Self {
        Self {
            versions: LruCache::new(versions),
            workflows: LruCache::new(versions),
            series: LruCache::new(series),
        }
    }

    /// Entries held: (versions, workflows, series).
    pub(crate) fn len(&self) -> (usize, usize, usize) {
        (self.versions.len(), self.workflows.len(), self.series.len())
    }
}

/// One attestation written in a transaction not yet committed.
pub(crate) struct Ingested {
    outcome: IngestOutcome,
    /// Ids to remember once the transaction commits (`None`: stored before).
    remember: Option<Remember>,
}

pub(crate) struct Remember {
    version_key: (i64, String, String),
    project_id: i64,
    version_id: i64,
    series: Vec<((String, String), i64)>,
    /// (workflow, its id, the contract the attestation named)
    workflow: Option<(String, i64, Option<String>)>,
}

/// Creates the workflow when missing and records the contract its latest attestation
/// names, unless a contract was set explicitly (`comply workflow create`).
async fn workflow_id(
    tx: &mut Tx,
    org_id: i64,
    project_id: i64,
    name: &str,
    contract: Option<&str>,
    now_ms: i64,
) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO workflows (org_id, project_id, name, contract, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, name) DO NOTHING",
    )
    .bind(org_id)
    .bind(project_id)
    .bind(name)
    .bind(contract)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    if contract.is_some() {
        sqlx::query(
            "UPDATE workflows SET contract = $1 WHERE project_id = $2 AND name = $3 AND contract_explicit = 0",
        )
        .bind(contract)
        .bind(project_id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    }
    let row = sqlx::query("SELECT id FROM workflows WHERE project_id = $1 AND name = $2")
        .bind(project_id)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get(0)?)
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
    /// Bounds ingestion's id cache to `versions` project versions (and as many
    /// workflows) and `series` evaluation series; what it held is forgotten.
    pub fn limit_id_cache(&self, versions: NonZeroUsize, series: NonZeroUsize) {
        *self.ids.lock().expect("id cache") = IdCache::with_capacity(versions, series);
    }

    /// Entries ingestion's id cache holds: (project versions, workflows, series).
    pub fn id_cache_entries(&self) -> (usize, usize, usize) {
        self.ids.lock().expect("id cache").len()
    }

    /// Stores a verified attestation with its evaluations, creating project, version
    /// and workflow as needed. Idempotent by digest. Returns once the transaction that
    /// holds it has committed.
    ///
    /// Ingestion is the hot write path: ids already seen come from [`IdCache`], so a
    /// typical attestation costs one insert for itself, one for its evaluations and one
    /// conditional update of its version's last-attested time. On SQLite, attestations
    /// arriving together share one transaction, each in its own savepoint
    /// ([`crate::group_commit`]); PostgreSQL writes them side by side.
    pub async fn ingest(
        &self,
        org_id: i64,
        a: &NewAttestation,
        now_ms: i64,
    ) -> Result<IngestOutcome, StoreError> {
        match self.backend {
            crate::Backend::Sqlite => self.ingest_grouped(org_id, a, now_ms).await,
            crate::Backend::Postgres => {
                let outcome = self.ingest_alone(org_id, a, now_ms).await?;
                self.count_ingested(1, 1);
                Ok(outcome)
            }
        }
    }

    /// One attestation in a transaction of its own.
    pub(crate) async fn ingest_alone(
        &self,
        org_id: i64,
        a: &NewAttestation,
        now_ms: i64,
    ) -> Result<IngestOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let ingested = self.ingest_in(&mut tx, org_id, a, now_ms).await?;
        tx.commit().await?;
        Ok(self.remember(ingested))
    }

    /// Remembers the ids of what committed, and gives the outcome.
    pub(crate) fn remember(&self, ingested: Ingested) -> IngestOutcome {
        let Some(r) = ingested.remember else {
            return ingested.outcome;
        };
        let mut ids = self.ids.lock().expect("id cache");
        ids.versions
            .put(r.version_key, (r.project_id, r.version_id));
        for ((policy, config), id) in r.series {
            ids.series.put((r.version_id, policy, config), id);
        }
        if let Some((name, id, contract)) = r.workflow {
            let contract = contract.or_else(|| {
                ids.workflows
                    .get(&(r.project_id, name.clone()))
                    .and_then(|(_, c)| c.clone())
            });
            ids.workflows.put((r.project_id, name), (id, contract));
        }
        ingested.outcome
    }

    /// Writes one attestation in `tx`; the ids it resolved are remembered by the caller
    /// once `tx` commits ([`Store::remember`]).
    pub(crate) async fn ingest_in(
        &self,
        tx: &mut Tx,
        org_id: i64,
        a: &NewAttestation,
        now_ms: i64,
    ) -> Result<Ingested, StoreError> {
        let outcome = |id, created| IngestOutcome {
            id,
            digest: a.digest.clone(),
            project: a.project.clone(),
            version: a.version.clone(),
            created,
        };
        let version_key = (org_id, a.project.clone(), a.version.clone());
        let cached = self
            .ids
            .lock()
            .expect("id cache")
            .versions
            .get(&version_key)
            .copied();
        let (project_id, version_id) = match cached {
            Some(ids) => ids,
            None => {
                let project_id = project_id(tx, org_id, &a.project, now_ms).await?;
                sqlx::query(
                    "INSERT INTO project_versions (org_id, project_id, version, prerelease, released_at, created_at, last_attested_at) \
                     VALUES ($1, $2, $3, 1, NULL, $4, $5) ON CONFLICT (project_id, version) DO NOTHING",
                )
                .bind(org_id)
                .bind(project_id)
                .bind(&a.version)
                .bind(now_ms)
                .bind(a.finished_at)
                .execute(&mut **tx)
                .await?;
                let row = sqlx::query(
                    "SELECT id FROM project_versions WHERE project_id = $1 AND version = $2",
                )
                .bind(project_id)
                .bind(&a.version)
                .fetch_one(&mut **tx)
                .await?;
                (project_id, row.try_get::<i64, _>(0)?)
            }
        };
        let workflow_id = match &a.workflow {
            Some(name) => {
                let key = (project_id, name.clone());
                let cached = self
                    .ids
                    .lock()
                    .expect("id cache")
                    .workflows
                    .get(&key)
                    .cloned();
                match cached {
                    Some((id, contract)) if contract == a.contract || a.contract.is_none() => {
                        Some(id)
                    }
                    _ => Some(
                        workflow_id(tx, org_id, project_id, name, a.contract.as_deref(), now_ms)
                            .await?,
                    ),
                }
            }
            None => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO attestations (org_id, digest, project_version_id, workflow_id, contract, finished_at, received_at, signer, verified, envelope, evaluations_ref, evaluations_supplied_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (org_id, digest) DO NOTHING RETURNING id",
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
        .bind(
            a.evaluations_ref
                .as_ref()
                .map(|r| serde_json::to_string(r).expect("references serialize")),
        )
        .bind((a.evaluations_ref.is_some() && a.evaluations_supplied).then_some(now_ms))
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = inserted else {
            // Stored before: nothing else changes.
            let row = sqlx::query("SELECT id FROM attestations WHERE org_id = $1 AND digest = $2")
                .bind(org_id)
                .bind(&a.digest)
                .fetch_one(&mut **tx)
                .await?;
            return Ok(Ingested {
                outcome: outcome(row.try_get(0)?, false),
                remember: None,
            });
        };
        let attestation_id: i64 = row.try_get(0)?;
        // A version is released once an attestation says so; it never goes back.
        let released = a.prerelease == Some(false);
        sqlx::query(
            "UPDATE project_versions SET \
             last_attested_at = CASE WHEN last_attested_at > $1 THEN last_attested_at ELSE $1 END, \
             prerelease = CASE WHEN $2 = 1 THEN 0 ELSE prerelease END, \
             released_at = CASE WHEN $2 = 1 AND released_at IS NULL THEN $1 ELSE released_at END, \
             attestation_count = attestation_count + 1, \
             evidence_at = CASE WHEN evidence_at > $4 THEN evidence_at ELSE $4 END \
             WHERE id = $3",
        )
        .bind(a.finished_at)
        .bind(flag(released))
        .bind(version_id)
        .bind(a.finished_at.max(now_ms))
        .execute(&mut **tx)
        .await?;
        let created = self
            .insert_evaluations(
                tx,
                org_id,
                attestation_id,
                version_id,
                a.finished_at,
                &a.evaluations,
                None,
            )
            .await?;
        Ok(Ingested {
            outcome: outcome(attestation_id, true),
            remember: Some(Remember {
                version_key,
                project_id,
                version_id,
                series: created,
                workflow: a
                    .workflow
                    .clone()
                    .zip(workflow_id)
                    .map(|(name, id)| (name, id, a.contract.clone())),
            }),
        })
    }

    /// Files evaluations of one attestation in their series and stores them; returns the
    /// series it created (remembered once the transaction commits). `received_at`: set
    /// when they arrive after their attestation.
    #[allow(clippy::too_many_arguments)]
    async fn insert_evaluations(
        &self,
        tx: &mut Tx,
        org_id: i64,
        attestation_id: i64,
        version_id: i64,
        finished_at: i64,
        evaluations: &[NewEvaluation],
        received_at: Option<i64>,
    ) -> Result<Vec<((String, String), i64)>, StoreError> {
        // The series of each evaluation: ids this server has seen, else one upsert that
        // creates the missing ones or finds them (stored by another server or earlier).
        let texts: Vec<(String, String, String)> = evaluations
            .iter()
            .map(|e| {
                let args = serde_json::to_string(&e.args).expect("maps serialize");
                let requirements = serde_json::to_string(&e.requirements).expect("lists serialize");
                let config =
                    series_config(e.policy_digest.as_deref(), &args, &requirements, e.skipped);
                (args, requirements, config)
            })
            .collect();
        let mut series: HashMap<(String, String), i64> = HashMap::new();
        {
            let mut ids = self.ids.lock().expect("id cache");
            for (e, (_, _, config)) in evaluations.iter().zip(&texts) {
                let key = (version_id, e.policy.clone(), config.clone());
                if let Some(id) = ids.series.get(&key) {
                    series.insert((key.1, key.2), *id);
                }
            }
        }
        let mut missing: Vec<(&str, &str)> = evaluations
            .iter()
            .zip(&texts)
            .map(|(e, (_, _, config))| (e.policy.as_str(), config.as_str()))
            .filter(|(p, c)| !series.contains_key(&((*p).to_owned(), (*c).to_owned())))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut created: Vec<((String, String), i64)> = Vec::new();
        if !missing.is_empty() {
            let values: Vec<String> = (0..missing.len())
                .map(|i| format!("($1, $2, ${}, ${})", 2 * i + 3, 2 * i + 4))
                .collect();
            // DO UPDATE (a no-op) rather than DO NOTHING, so that existing rows are
            // returned too.
            let sql = format!(
                "INSERT INTO evaluation_series (org_id, project_version_id, policy, config) VALUES {} \
                 ON CONFLICT (project_version_id, policy, config) DO UPDATE SET org_id = excluded.org_id \
                 RETURNING id, policy, config",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(version_id);
            for (policy, config) in &missing {
                q = q.bind(*policy).bind(*config);
            }
            for row in q.fetch_all(&mut **tx).await? {
                let key: (String, String) = (row.try_get(1)?, row.try_get(2)?);
                let id: i64 = row.try_get(0)?;
                series.insert(key.clone(), id);
                created.push((key, id));
            }
        }
        // Many rows per statement: one round trip for a typical attestation.
        let evaluations: Vec<_> = evaluations.iter().zip(&texts).collect();
        for chunk in evaluations.chunks(32) {
            let mut sql = String::from(
                "INSERT INTO evaluations (org_id, attestation_id, project_version_id, policy, policy_ref, policy_digest, material, material_type, args, violations, violation_count, skipped, skip_reasons, requirements, gate, time_ms, series_id, received_at, networked) VALUES ",
            );
            const COLS: usize = 19;
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
            for (e, (args, requirements, config)) in chunk {
                let count = e.violations.as_array().map_or(0, Vec::len) as i64;
                let series_id = series
                    .get(&(e.policy.clone(), config.clone()))
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("no series for {}", e.policy)))?;
                q = q
                    .bind(org_id)
                    .bind(attestation_id)
                    .bind(version_id)
                    .bind(&e.policy)
                    .bind(&e.policy_ref)
                    .bind(&e.policy_digest)
                    .bind(&e.material)
                    .bind(&e.material_type)
                    .bind(args)
                    .bind(e.violations.to_string())
                    .bind(count)
                    .bind(flag(e.skipped))
                    .bind(serde_json::to_string(&e.skip_reasons).expect("lists serialize"))
                    .bind(requirements)
                    .bind(flag(e.gate))
                    .bind(finished_at)
                    .bind(series_id)
                    .bind(received_at)
                    .bind(&e.networked);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(created)
    }

    /// Stores the evaluations of an attestation that referenced them without carrying
    /// them (`policyEvaluationsRef`), received now, with an audit event. The caller has
    /// checked the bundle against the reference; this checks, in the transaction, that
    /// they were not supplied already (evidence is never replaced).
    pub async fn attach_evaluations(
        &self,
        org_id: i64,
        digest: &str,
        evaluations: &[NewEvaluation],
        actor: &str,
        now_ms: i64,
    ) -> Result<AttachOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = crate::audit::AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let Some(row) = sqlx::query(
            "SELECT id, project_version_id, finished_at, evaluations_ref, evaluations_supplied_at \
             FROM attestations WHERE org_id = $1 AND digest = $2",
        )
        .bind(org_id)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(AttachOutcome::NoSuchAttestation);
        };
        let attestation_id: i64 = row.try_get(0)?;
        let version_id: i64 = row.try_get(1)?;
        let finished_at: i64 = row.try_get(2)?;
        let reference: Option<String> = row.try_get(3)?;
        if reference.is_none() {
            return Ok(AttachOutcome::NoReference);
        }
        if let Some(at) = row.try_get::<Option<i64>, _>(4)? {
            return Ok(AttachOutcome::AlreadySupplied { at });
        }
        let created = self
            .insert_evaluations(
                &mut tx,
                org_id,
                attestation_id,
                version_id,
                finished_at,
                evaluations,
                Some(now_ms),
            )
            .await?;
        sqlx::query("UPDATE attestations SET evaluations_supplied_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(attestation_id)
            .execute(&mut *tx)
            .await?;
        // New evidence of the project version: what cached statuses are keyed by moves,
        // as an ingestion moves it.
        sqlx::query(
            "UPDATE project_versions SET attestation_count = attestation_count + 1, \
             evidence_at = CASE WHEN evidence_at > $1 THEN evidence_at ELSE $1 END WHERE id = $2",
        )
        .bind(now_ms)
        .bind(version_id)
        .execute(&mut *tx)
        .await?;
        audit.push(
            comply_core::audit::NewEvent::new(
                actor,
                "attestation.attach_evaluations",
                format!("Attestation/{digest}"),
            )
            .detail(serde_json::json!({
                "evaluations": evaluations.len(),
                "reference": serde_json::from_str::<Value>(reference.as_deref().unwrap_or("null"))
                    .unwrap_or(Value::Null),
            })),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        let mut ids = self.ids.lock().expect("id cache");
        for ((policy, config), id) in created {
            ids.series.put((version_id, policy, config), id);
        }
        Ok(AttachOutcome::Attached {
            evaluations: evaluations.len(),
        })
    }

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

    /// For each named project that exists: its latest version (pinned, else the one
    /// attested most recently) and every version's id.
    pub async fn project_versions(
        &self,
        org_id: i64,
        names: &[String],
    ) -> Result<HashMap<String, (Option<String>, HashMap<String, i64>)>, StoreError> {
        let mut out: HashMap<String, (Option<String>, HashMap<String, i64>)> = HashMap::new();
        let mut newest: HashMap<String, (i64, i64, String)> = HashMap::new();
        // Many names (the overview): one read of the whole org beats binding them all.
        let whole_org = names.len() > 400;
        let chunks: Vec<&[String]> = if whole_org {
            vec![&[]]
        } else {
            names.chunks(400).collect()
        };
        let wanted: std::collections::HashSet<&str> = if whole_org {
            names.iter().map(String::as_str).collect()
        } else {
            Default::default()
        };
        for chunk in chunks {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let filter = if whole_org {
                String::new()
            } else {
                format!(" AND p.name IN ({})", placeholders.join(", "))
            };
            let sql = crate::packed::select(
                self.backend,
                &[
                    "p.name",
                    "p.pinned_latest",
                    "v.version",
                    "v.id",
                    "v.last_attested_at",
                ],
                &format!(
                    "FROM projects p JOIN project_versions v ON v.project_id = p.id \
                     WHERE p.org_id = $1{filter}"
                ),
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id);
            for n in chunk {
                q = q.bind(n);
            }
            let row = q.fetch_one(&self.pool).await?;
            let rows: Vec<(String, Option<String>, String, i64, i64)> =
                crate::packed::rows(&row, "project versions")?;
            for (name, pinned, version, id, last) in rows {
                if whole_org && !wanted.contains(name.as_str()) {
                    continue;
                }
                let entry = out
                    .entry(name.clone())
                    .or_insert_with(|| (pinned, HashMap::new()));
                entry.1.insert(version.clone(), id);
                let newer = newest
                    .get(&name)
                    .is_none_or(|(l, i, _)| (last, id) > (*l, *i));
                if newer {
                    newest.insert(name, (last, id, version));
                }
            }
        }
        for (name, entry) in &mut out {
            if entry.0.is_none() {
                entry.0 = newest.get(name).map(|(_, _, v)| v.clone());
            }
        }
        Ok(out)
    }

    pub async fn list_projects(&self, org_id: i64) -> Result<Vec<ProjectRow>, StoreError> {
        self.projects_where(org_id, ProjectSelection::All).await
    }

    /// One project by name, with its versions and workflows (index seeks, not the
    /// org's list).
    pub async fn project(&self, org_id: i64, name: &str) -> Result<Option<ProjectRow>, StoreError> {
        Ok(self
            .projects_where(org_id, ProjectSelection::Named(name))
            .await?
            .pop())
    }

    /// A page of the org's projects in name order: those whose name contains
    /// `containing` (any when empty; names are lowercase, so is the match), at most
    /// `limit` from `offset`, and how many there are in all. Only the page's versions
    /// and workflows are read.
    pub async fn list_projects_page(
        &self,
        org_id: i64,
        containing: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ProjectRow>, i64), StoreError> {
        let pattern = like_pattern(containing);
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM projects WHERE org_id = $1 AND name LIKE $2 ESCAPE '\\'",
        )
        .bind(org_id)
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let page = self
            .projects_where(
                org_id,
                ProjectSelection::Page {
                    pattern: &pattern,
                    limit,
                    offset,
                },
            )
            .await?;
        Ok((page, total))
    }

    async fn projects_where(
        &self,
        org_id: i64,
        which: ProjectSelection<'_>,
    ) -> Result<Vec<ProjectRow>, StoreError> {
        let projects =
            match which {
                ProjectSelection::All => sqlx::query(
                    "SELECT id, name, pinned_latest FROM projects WHERE org_id = $1 ORDER BY name",
                )
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?,
                ProjectSelection::Named(name) => sqlx::query(
                    "SELECT id, name, pinned_latest FROM projects WHERE org_id = $1 AND name = $2",
                )
                .bind(org_id)
                .bind(name)
                .fetch_all(&self.pool)
                .await?,
                ProjectSelection::Page {
                    pattern,
                    limit,
                    offset,
                } => {
                    sqlx::query(
                        "SELECT id, name, pinned_latest FROM projects WHERE org_id = $1 \
                     AND name LIKE $2 ESCAPE '\\' ORDER BY name LIMIT $3 OFFSET $4",
                    )
                    .bind(org_id)
                    .bind(pattern)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
                }
            };
        // The whole org: one read each of versions and workflows. Some projects: only
        // theirs, by the `(project_id, …)` unique indexes.
        let (version_filter, workflow_filter) = match which {
            ProjectSelection::All => (String::new(), String::new()),
            _ => {
                if projects.is_empty() {
                    return Ok(Vec::new());
                }
                let ids = projects
                    .iter()
                    .map(|p| p.try_get::<i64, _>(0).map(|id| id.to_string()))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", ");
                (
                    format!(" AND project_id IN ({ids})"),
                    format!(" AND w.project_id IN ({ids})"),
                )
            }
        };
        // The ids are the store's own integers, never text from a caller.
        let versions = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT project_id, id, version, prerelease, released_at, created_at, last_attested_at \
             FROM project_versions WHERE org_id = $1{version_filter} ORDER BY created_at, id"
        )))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        let workflows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT w.project_id, p.name, w.name, w.contract, w.contract_explicit FROM workflows w \
             JOIN projects p ON p.id = w.project_id WHERE w.org_id = $1{workflow_filter} ORDER BY w.name"
        )))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        // Grouped once: a portfolio has thousands of projects.
        let mut versions_of: HashMap<i64, Vec<ProjectVersionRow>> = HashMap::new();
        for v in &versions {
            versions_of
                .entry(v.try_get(0)?)
                .or_default()
                .push(ProjectVersionRow {
                    id: v.try_get(1)?,
                    version: v.try_get(2)?,
                    prerelease: v.try_get::<i64, _>(3)? != 0,
                    released_at: v.try_get(4)?,
                    created_at: v.try_get(5)?,
                    last_attested_at: v.try_get(6)?,
                });
        }
        let mut workflows_of: HashMap<i64, Vec<WorkflowRow>> = HashMap::new();
        for w in &workflows {
            workflows_of
                .entry(w.try_get(0)?)
                .or_default()
                .push(WorkflowRow {
                    project: w.try_get(1)?,
                    name: w.try_get(2)?,
                    contract: w.try_get(3)?,
                    contract_explicit: w.try_get::<i64, _>(4)? != 0,
                });
        }
        let mut out = Vec::new();
        for p in &projects {
            let id: i64 = p.try_get(0)?;
            let vs = versions_of.remove(&id).unwrap_or_default();
            let ws = workflows_of.remove(&id).unwrap_or_default();
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

    /// Pins (or with `None` unpins) the version `latest` resolves to. `Ok(false)` when
    /// the project or the version does not exist.
    pub async fn pin_latest(
        &self,
        org_id: i64,
        project: &str,
        version: Option<&str>,
        actor: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = crate::audit::AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        if let Some(v) = version {
            let exists = sqlx::query(
                "SELECT 1 FROM project_versions v JOIN projects p ON p.id = v.project_id \
                 WHERE p.org_id = $1 AND p.name = $2 AND v.version = $3",
            )
            .bind(org_id)
            .bind(project)
            .bind(v)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            if !exists {
                return Ok(false);
            }
        }
        let done =
            sqlx::query("UPDATE projects SET pinned_latest = $1 WHERE org_id = $2 AND name = $3")
                .bind(version)
                .bind(org_id)
                .bind(project)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
        if done {
            audit.push(
                comply_core::audit::NewEvent::new(
                    actor,
                    "project.pin",
                    format!("Project/{project}"),
                )
                .detail(serde_json::json!({"latest": version})),
            );
            audit.flush(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Marks a project version released (it stays released). `Ok(false)` when it does
    /// not exist.
    pub async fn release_version(
        &self,
        org_id: i64,
        project: &str,
        version: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = crate::audit::AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let done = sqlx::query(
            "UPDATE project_versions SET prerelease = 0, \
             released_at = CASE WHEN released_at IS NULL THEN $1 ELSE released_at END \
             WHERE project_id = (SELECT id FROM projects WHERE org_id = $2 AND name = $3) AND version = $4",
        )
        .bind(now_ms)
        .bind(org_id)
        .bind(project)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if done {
            audit.push(
                comply_core::audit::NewEvent::new(
                    actor,
                    "project.release",
                    format!("Project/{project}"),
                )
                .detail(serde_json::json!({"version": version})),
            );
            audit.flush(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Every project of the org that has workflows, with the contracts they use: what
    /// coverage reads (one statement, no versions).
    pub async fn workflow_contracts(
        &self,
        org_id: i64,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        // Packed: a coverage answer reads every project of the org (5,000 in the
        // benchmark portfolio), and per-row decoding was most of its time.
        let sql = crate::packed::select(
            self.backend,
            &["p.name", "w.contract"],
            "FROM projects p LEFT JOIN workflows w ON w.project_id = p.id WHERE p.org_id = $1",
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .fetch_one(&self.pool)
            .await?;
        let mut rows: Vec<(String, Option<String>)> =
            crate::packed::rows(&row, "workflow contracts")?;
        rows.sort();
        Ok(rows)
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
/// Which projects [`Store::projects_where`] reads.
#[derive(Clone, Copy)]
enum ProjectSelection<'a> {
    All,
    Named(&'a str),
    Page {
        pattern: &'a str,
        limit: i64,
        offset: i64,
    },
}

/// A `LIKE … ESCAPE '\'` pattern matching names that contain `text` (lowercased, as
/// names are): `%`, `_` and `\` in it match themselves.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

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
