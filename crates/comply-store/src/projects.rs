//! Projects, their versions and workflows: read whole, one by name or a page at a time;
//! latest pinned, versions released, workflows' contracts set.

use crate::ingest::project_id;
use crate::{Store, StoreError};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

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

impl Store {
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
