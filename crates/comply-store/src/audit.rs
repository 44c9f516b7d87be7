//! The audit chain's storage: events are appended inside the transaction of the change
//! they describe, after the org's row is locked so two servers never fork the chain.

use crate::{Backend, Store, StoreError, Tx};
use comply_core::audit::{self, AuditEvent, ChainBreak, NewEvent};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Holds the org's audit head for the length of a write transaction.
pub(crate) struct AuditWriter {
    org_id: i64,
    seq: i64,
    head: String,
    now_ms: i64,
    pending: Vec<AuditEvent>,
}

impl AuditWriter {
    /// Locks the org's row (PostgreSQL; SQLite's write transaction is already exclusive)
    /// and reads its chain head.
    pub(crate) async fn lock(
        store: &Store,
        tx: &mut Tx,
        org_id: i64,
        now_ms: i64,
    ) -> Result<Self, StoreError> {
        let sql = match store.backend {
            Backend::Sqlite => "SELECT audit_seq, audit_head FROM orgs WHERE id = $1",
            Backend::Postgres => "SELECT audit_seq, audit_head FROM orgs WHERE id = $1 FOR UPDATE",
        };
        let row = sqlx::query(sql)
            .bind(org_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("organization {org_id} does not exist")))?;
        Ok(Self {
            org_id,
            seq: row.try_get(0)?,
            head: row.try_get(1)?,
            now_ms,
            pending: Vec::new(),
        })
    }

    pub(crate) fn push(&mut self, event: NewEvent) {
        self.seq += 1;
        let chained = event.chain(self.seq, self.now_ms, &self.head);
        self.head = chained.hash.clone();
        self.pending.push(chained);
    }

    pub(crate) async fn flush(self, tx: &mut Tx) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        for e in &self.pending {
            sqlx::query(
                "INSERT INTO audit_events (org_id, seq, time_ms, actor, action, target, revision, digest, detail, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(self.org_id)
            .bind(e.seq)
            .bind(e.time_ms)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(e.revision)
            .bind(&e.digest)
            .bind(&e.detail)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query("UPDATE orgs SET audit_seq = $1, audit_head = $2 WHERE id = $3")
            .bind(self.seq)
            .bind(&self.head)
            .bind(self.org_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Filters for listing events.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since_ms: Option<i64>,
    /// `Kind/name`, exact.
    pub target: Option<String>,
    pub limit: Option<i64>,
}

const EVENT_COLUMNS: &str =
    "seq, time_ms, actor, action, target, revision, digest, detail, prev_hash, hash";

fn event_from_row(row: &AnyRow) -> Result<AuditEvent, sqlx::Error> {
    Ok(AuditEvent {
        seq: row.try_get(0)?,
        time_ms: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        target: row.try_get(4)?,
        revision: row.try_get(5)?,
        digest: row.try_get(6)?,
        detail: row.try_get(7)?,
        prev_hash: row.try_get(8)?,
        hash: row.try_get(9)?,
    })
}

impl Store {
    /// A number that changes whenever anything audited changes in the org or in the
    /// built-in content (resources, settings, lifecycle): a cache key for what is
    /// derived from them.
    pub async fn config_version(&self, org_id: i64) -> Result<(i64, i64), StoreError> {
        let rows = sqlx::query("SELECT id, audit_seq FROM orgs WHERE id IN ($1, $2)")
            .bind(org_id)
            .bind(crate::BUILTIN_ORG)
            .fetch_all(&self.pool)
            .await?;
        let (mut org, mut builtin) = (0, 0);
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let seq: i64 = r.try_get(1)?;
            if id == crate::BUILTIN_ORG {
                builtin = seq;
            } else {
                org = seq;
            }
        }
        Ok((org, builtin))
    }

    pub async fn audit_list(
        &self,
        org_id: i64,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE org_id = $1 \
             AND ($2 IS NULL OR time_ms >= $2) AND ($3 IS NULL OR target = $3) \
             ORDER BY seq LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(query.since_ms)
            .bind(query.target.as_deref())
            .bind(query.limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(event_from_row).collect::<Result<_, _>>()?)
    }

    /// Re-hashes the whole chain and compares it with the org's head.
    pub async fn audit_verify(&self, org_id: i64) -> Result<Result<usize, ChainBreak>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let head = sqlx::query("SELECT audit_seq, audit_head FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_one(&mut *tx)
            .await?;
        let head_seq: i64 = head.try_get(0)?;
        let head_hash: String = head.try_get(1)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE org_id = $1 ORDER BY seq"
        )))
        .bind(org_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let events: Vec<AuditEvent> = rows.iter().map(event_from_row).collect::<Result<_, _>>()?;
        let head = (head_seq > 0).then_some((head_seq, head_hash.as_str()));
        Ok(audit::verify(&events, head))
    }
}
