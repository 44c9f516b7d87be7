//! Ingestion: an attestation and its evaluations stored in one transaction (or one
//! savepoint of a group commit, `group_commit`); projects, versions and workflows created
//! by the first attestation that names them; every evaluation filed in its series.

use crate::evidence::{AttachOutcome, IngestOutcome, NewAttestation, NewEvaluation};
use crate::{Store, StoreError, Tx, flag};
use lru::LruCache;
use serde_json::Value;
use sqlx::Row;
use std::collections::HashMap;
use std::num::NonZeroUsize;

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

pub(crate) async fn project_id(
    tx: &mut Tx,
    org_id: i64,
    name: &str,
    now_ms: i64,
) -> Result<i64, StoreError> {
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
}
