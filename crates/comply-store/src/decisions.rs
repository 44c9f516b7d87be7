//! Manual evidence and manual decisions: proofs (files kept by digest), exceptions and
//! overrides. Every change is audited in its own transaction.
//!
//! At most one exception or override is active per cell (semantics §3): recording a
//! new one ends the active one of the same cell, and both ends are audited. Nothing is
//! deleted: an ended decision keeps its `ended_at`, so a status at an earlier time is
//! still computed from what was in effect then.

use crate::audit::AuditWriter;
use crate::{Store, StoreError, flag};
use comply_core::audit::NewEvent;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct NewProof {
    pub product: String,
    pub product_version: String,
    pub project: Option<String>,
    pub requirement: String,
    pub proof: String,
    /// `file`, `url` or `text`.
    pub kind: String,
    /// The file's digest, the URL, or the text.
    pub value: String,
    pub collected_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProofRow {
    pub id: i64,
    pub product: String,
    pub product_version: String,
    pub project: Option<String>,
    pub requirement: String,
    pub proof: String,
    pub kind: String,
    pub value: String,
    pub collected_at: i64,
    pub created_at: i64,
    pub submitter: String,
}

#[derive(Debug, Clone)]
pub struct NewDecision {
    /// `exception` or `override`.
    pub kind: String,
    pub product: String,
    pub product_version: String,
    pub project: Option<String>,
    pub requirement: String,
    /// Overrides: `passed` or `failed`.
    pub forced_status: Option<String>,
    pub reason: String,
    pub expires_at: Option<i64>,
    /// The org requires a second person's approval: the decision waits for it.
    pub needs_approval: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub kind: String,
    pub product: String,
    pub product_version: String,
    pub project: Option<String>,
    pub requirement: String,
    pub forced_status: Option<String>,
    pub reason: String,
    pub author: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub needs_approval: bool,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

impl DecisionRow {
    /// Recorded, not expired, not ended at `t` (approved or not).
    pub fn active_at(&self, t: i64) -> bool {
        self.created_at <= t
            && self.expires_at.is_none_or(|x| t < x)
            && self.ended_at.is_none_or(|x| t < x)
    }

    /// Active and waiting for its approval now.
    pub fn pending(&self) -> bool {
        self.needs_approval && self.approved_at.is_none()
    }
}

fn cell_target(product: &str, version: &str, project: Option<&str>, requirement: &str) -> String {
    match project {
        Some(p) => format!("Product/{product}@{version}/{p}/{requirement}"),
        None => format!("Product/{product}@{version}/{requirement}"),
    }
}

const DECISION_COLUMNS: &str = "id, kind, product, product_version, project, requirement, forced_status, reason, author, created_at, expires_at, ended_at, needs_approval, approved_by, approved_at";

fn decision_row(r: &sqlx::any::AnyRow) -> Result<DecisionRow, StoreError> {
    Ok(DecisionRow {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        product: r.try_get(2)?,
        product_version: r.try_get(3)?,
        project: r.try_get(4)?,
        requirement: r.try_get(5)?,
        forced_status: r.try_get(6)?,
        reason: r.try_get(7)?,
        author: r.try_get(8)?,
        created_at: r.try_get(9)?,
        expires_at: r.try_get(10)?,
        ended_at: r.try_get(11)?,
        needs_approval: r.try_get::<i64, _>(12)? != 0,
        approved_by: r.try_get(13)?,
        approved_at: r.try_get(14)?,
    })
}

/// The org's decision `id` of `kind`, read in the write transaction.
async fn decision_in(
    tx: &mut crate::Tx,
    org_id: i64,
    id: i64,
    kind: &str,
) -> Result<Option<DecisionRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DECISION_COLUMNS} FROM decisions WHERE org_id = $1 AND id = $2 AND kind = $3"
    )))
    .bind(org_id)
    .bind(id)
    .bind(kind)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(decision_row)
    .transpose()
}

impl Store {
    /// Records a proof; a file's bytes are kept once per digest.
    pub async fn add_proof(
        &self,
        org_id: i64,
        proof: &NewProof,
        file: Option<&[u8]>,
        actor: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        if let Some(bytes) = file {
            sqlx::query(
                "INSERT INTO blobs (org_id, digest, size, content, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (org_id, digest) DO NOTHING",
            )
            .bind(org_id)
            .bind(&proof.value)
            .bind(bytes.len() as i64)
            .bind(bytes.to_vec())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query(
            "INSERT INTO proofs (org_id, product, product_version, project, requirement, proof, kind, value, collected_at, created_at, submitter) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(org_id)
        .bind(&proof.product)
        .bind(&proof.product_version)
        .bind(&proof.project)
        .bind(&proof.requirement)
        .bind(&proof.proof)
        .bind(&proof.kind)
        .bind(&proof.value)
        .bind(proof.collected_at)
        .bind(now_ms)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        audit.push(
            NewEvent::new(
                actor,
                "proof.submit",
                cell_target(
                    &proof.product,
                    &proof.product_version,
                    proof.project.as_deref(),
                    &proof.requirement,
                ),
            )
            .detail(
                serde_json::json!({"id": id, "proof": proof.proof, "kind": proof.kind,
                                       "value": proof.value, "collected_at": proof.collected_at}),
            ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Proofs of a product version; an empty product or version means all of them.
    pub async fn list_proofs(
        &self,
        org_id: i64,
        product: &str,
        version: &str,
    ) -> Result<Vec<ProofRow>, StoreError> {
        let (filter, values) = product_filter(
            Some(product).filter(|p| !p.is_empty()),
            Some(version).filter(|v| !v.is_empty()),
        );
        let sql = format!(
            "SELECT id, product, product_version, project, requirement, proof, kind, value, collected_at, created_at, submitter \
             FROM proofs WHERE {filter} ORDER BY id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id);
        for value in values {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ProofRow {
                    id: r.try_get(0)?,
                    product: r.try_get(1)?,
                    product_version: r.try_get(2)?,
                    project: r.try_get(3)?,
                    requirement: r.try_get(4)?,
                    proof: r.try_get(5)?,
                    kind: r.try_get(6)?,
                    value: r.try_get(7)?,
                    collected_at: r.try_get(8)?,
                    created_at: r.try_get(9)?,
                    submitter: r.try_get(10)?,
                })
            })
            .collect()
    }

    /// The bytes of a proof file.
    pub async fn blob(&self, org_id: i64, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT content FROM blobs WHERE org_id = $1 AND digest = $2")
            .bind(org_id)
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get::<Vec<u8>, _>(0).map_err(StoreError::from))
            .transpose()
    }

    /// Records an exception or override, ending the cell's active one.
    pub async fn add_decision(
        &self,
        org_id: i64,
        d: &NewDecision,
        actor: &str,
        now_ms: i64,
    ) -> Result<DecisionRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let target = cell_target(
            &d.product,
            &d.product_version,
            d.project.as_deref(),
            &d.requirement,
        );
        let active = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE org_id = $1 AND product = $2 AND product_version = $3 \
             AND requirement = $4 AND COALESCE(project, '') = $5 AND ended_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $6) \
             AND ($7 = 0 OR (needs_approval = 1 AND approved_at IS NULL))"
        )))
        .bind(org_id)
        .bind(&d.product)
        .bind(&d.product_version)
        .bind(&d.requirement)
        .bind(d.project.as_deref().unwrap_or(""))
        .bind(now_ms)
        // A request that waits for approval replaces only other waiting requests: the
        // decision in effect stays until the new one is approved.
        .bind(flag(d.needs_approval))
        .fetch_all(&mut *tx)
        .await?;
        for row in &active {
            let old = decision_row(row)?;
            sqlx::query("UPDATE decisions SET ended_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(old.id)
                .execute(&mut *tx)
                .await?;
            audit.push(
                NewEvent::new(actor, &format!("{}.end", old.kind), target.clone())
                    .detail(serde_json::json!({"id": old.id, "replaced_by": d.kind})),
            );
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO decisions (org_id, kind, product, product_version, project, requirement, forced_status, reason, author, created_at, expires_at, needs_approval) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {DECISION_COLUMNS}"
        )))
        .bind(org_id)
        .bind(&d.kind)
        .bind(&d.product)
        .bind(&d.product_version)
        .bind(&d.project)
        .bind(&d.requirement)
        .bind(&d.forced_status)
        .bind(&d.reason)
        .bind(actor)
        .bind(now_ms)
        .bind(d.expires_at)
        .bind(flag(d.needs_approval))
        .fetch_one(&mut *tx)
        .await?;
        let created = decision_row(&row)?;
        audit.push(
            NewEvent::new(actor, &format!("{}.create", d.kind), target).detail(serde_json::json!({
                "id": created.id, "status": d.forced_status, "reason": d.reason,
                "expires_at": d.expires_at, "needs_approval": d.needs_approval,
            })),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Ends an active exception or override (`kind`); `Ok(None)` when there is no such
    /// active decision.
    pub async fn end_decision(
        &self,
        org_id: i64,
        id: i64,
        kind: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<Option<DecisionRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let Some(mut d) = decision_in(&mut tx, org_id, id, kind).await? else {
            return Ok(None);
        };
        if !d.active_at(now_ms) {
            return Ok(None);
        }
        sqlx::query("UPDATE decisions SET ended_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        d.ended_at = Some(now_ms);
        audit.push(
            NewEvent::new(
                actor,
                &format!("{kind}.end"),
                cell_target(
                    &d.product,
                    &d.product_version,
                    d.project.as_deref(),
                    &d.requirement,
                ),
            )
            .detail(serde_json::json!({"id": id})),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(d))
    }

    /// Approves (or, with `approve: false`, rejects) a waiting exception or override.
    /// The approver must not be its author. Approval puts it in effect from now and
    /// ends the cell's decision in effect; rejection ends it. `Ok(None)`: no such
    /// decision of that kind.
    pub async fn decide_approval(
        &self,
        org_id: i64,
        id: i64,
        kind: &str,
        approve: bool,
        actor: &str,
        now_ms: i64,
    ) -> Result<Option<DecisionRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let Some(mut d) = decision_in(&mut tx, org_id, id, kind).await? else {
            return Ok(None);
        };
        if !d.pending() || !d.active_at(now_ms) {
            return Err(StoreError::Conflict(format!(
                "{kind} {id} is not waiting for approval{}",
                if d.needs_approval {
                    ""
                } else {
                    " (it was recorded without the four-eyes setting)"
                }
            )));
        }
        if d.author == actor {
            return Err(StoreError::Forbidden(format!(
                "{kind} {id} was requested by you: a second admin or owner approves it"
            )));
        }
        let target = cell_target(
            &d.product,
            &d.product_version,
            d.project.as_deref(),
            &d.requirement,
        );
        if approve {
            let others = sqlx::query(
                "SELECT id, kind FROM decisions WHERE org_id = $1 AND product = $2 AND product_version = $3 \
                 AND requirement = $4 AND COALESCE(project, '') = $5 AND id <> $6 AND ended_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $7)",
            )
            .bind(org_id)
            .bind(&d.product)
            .bind(&d.product_version)
            .bind(&d.requirement)
            .bind(d.project.as_deref().unwrap_or(""))
            .bind(id)
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await?;
            for other in &others {
                let (other_id, other_kind): (i64, String) = (other.try_get(0)?, other.try_get(1)?);
                sqlx::query("UPDATE decisions SET ended_at = $1 WHERE id = $2")
                    .bind(now_ms)
                    .bind(other_id)
                    .execute(&mut *tx)
                    .await?;
                audit.push(
                    NewEvent::new(actor, &format!("{other_kind}.end"), target.clone())
                        .detail(serde_json::json!({"id": other_id, "replaced_by": id})),
                );
            }
            sqlx::query("UPDATE decisions SET approved_by = $1, approved_at = $2 WHERE id = $3")
                .bind(actor)
                .bind(now_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            d.approved_by = Some(actor.to_owned());
            d.approved_at = Some(now_ms);
        } else {
            sqlx::query("UPDATE decisions SET ended_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            d.ended_at = Some(now_ms);
        }
        let action = if approve { "approve" } else { "reject" };
        audit.push(
            NewEvent::new(actor, &format!("{kind}.{action}"), target)
                .detail(serde_json::json!({"id": id, "requested_by": d.author})),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(d))
    }

    /// Decisions of a product (all versions when `version` is `None`), oldest first.
    pub async fn list_decisions(
        &self,
        org_id: i64,
        product: Option<&str>,
        version: Option<&str>,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let (filter, values) = product_filter(
            product.filter(|p| !p.is_empty()),
            version.filter(|v| !v.is_empty()),
        );
        let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE {filter} ORDER BY id");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id);
        for value in values {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(decision_row).collect()
    }
}

/// `org_id = $1`, then `AND product = $2` and `AND product_version = $n` for the filters
/// given, with the values to bind after the org. A filter left out is left out of the
/// statement: written as `($2 = '' OR product = $2)` it kept SQLite from seeking the
/// `(org_id, product, product_version)` index, and every read scanned the org's rows.
fn product_filter<'a>(
    product: Option<&'a str>,
    version: Option<&'a str>,
) -> (String, Vec<&'a str>) {
    let mut filter = String::from("org_id = $1");
    let mut values = Vec::new();
    for (column, value) in [("product", product), ("product_version", version)] {
        if let Some(value) = value {
            values.push(value);
            filter.push_str(&format!(" AND {column} = ${}", values.len() + 1));
        }
    }
    (filter, values)
}

#[cfg(test)]
mod tests {
    use super::product_filter;

    #[test]
    fn filters_left_out_are_not_in_the_statement() {
        assert_eq!(product_filter(None, None), ("org_id = $1".into(), vec![]));
        assert_eq!(
            product_filter(Some("portal"), Some("2.4")),
            (
                "org_id = $1 AND product = $2 AND product_version = $3".into(),
                vec!["portal", "2.4"]
            )
        );
        assert_eq!(
            product_filter(None, Some("2.4")),
            ("org_id = $1 AND product_version = $2".into(), vec!["2.4"])
        );
    }
}
