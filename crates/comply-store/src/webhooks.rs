//! Org-level webhooks and the durable outbox they are delivered from (decision 0037).
//!
//! Three tables: `webhooks` (where to send, what, signed with which secret),
//! `outbox_events` (each event once per org, by a unique dedupe key) and
//! `webhook_deliveries` (event × webhook: state, attempts, next attempt, lease). A
//! server claims due deliveries with a lease in one conditional `UPDATE … RETURNING`
//! whose conditions are checked again on the row it updates, so two servers never hold
//! the same delivery at once; the lease expiring is what re-delivers after a crash.
//! `webhook_watch` holds what the watch last saw of an org, moved forward by
//! compare-and-swap in the transaction that enqueues the events it found.

use crate::audit::AuditWriter;
use crate::{Backend, Store, StoreError, Tx};
use comply_core::audit::NewEvent;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A webhook as created through the API.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: String,
    pub url: String,
    /// Event kinds it receives (`cell.failed`, …).
    pub events: Vec<String>,
    /// How far ahead `grace.ending` and `exception.expiring` look.
    pub horizon_ms: i64,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: String,
    pub org_id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub horizon_ms: i64,
    /// Only for signing; never listed by the API.
    pub secret: String,
    pub created_at: i64,
    pub created_by: String,
    /// Failed attempts since the last delivered one.
    pub failures: i64,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

impl WebhookRow {
    pub fn receives(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == kind)
    }
}

/// An event to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: String,
    pub kind: String,
    /// Unique per org: a second insert of the same key is ignored, whoever makes it.
    pub dedupe_key: String,
    /// The exact body every attempt sends.
    pub payload: String,
    /// Deliver to this webhook only (a ping, or an event within that webhook's horizon);
    /// `None`: every enabled webhook of the org that receives `kind`.
    pub only_webhook: Option<String>,
}

/// A delivery a server holds the lease of, with what it needs to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub kind: String,
    pub webhook_id: String,
    pub org_id: i64,
    pub url: String,
    pub secret: String,
    pub payload: String,
    /// Attempts including this one.
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub kind: String,
    pub webhook_id: String,
    /// `pending`, `delivered` or `failed` (gave up after the last attempt).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

const WEBHOOK_SELECT: &str = "SELECT id, org_id, url, events, horizon_ms, secret, created_at, created_by, \
     failures, disabled_at, disabled_reason FROM webhooks";

fn webhook_from_row(row: &AnyRow) -> Result<WebhookRow, StoreError> {
    let events: String = row.try_get(3)?;
    Ok(WebhookRow {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        url: row.try_get(2)?,
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        horizon_ms: row.try_get(4)?,
        secret: row.try_get(5)?,
        created_at: row.try_get(6)?,
        created_by: row.try_get(7)?,
        failures: row.try_get(8)?,
        disabled_at: row.try_get(9)?,
        disabled_reason: row.try_get(10)?,
    })
}

const DELIVERY_SELECT: &str = "SELECT d.id, d.event_id, e.kind, d.webhook_id, d.state, d.attempts, \
     d.next_attempt_at, d.last_status, d.last_error, d.last_attempt_at, d.delivered_at, d.created_at \
     FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id";

fn delivery_from_row(row: &AnyRow) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        kind: row.try_get(2)?,
        webhook_id: row.try_get(3)?,
        state: row.try_get(4)?,
        attempts: row.try_get(5)?,
        next_attempt_at: row.try_get(6)?,
        last_status: row.try_get(7)?,
        last_error: row.try_get(8)?,
        last_attempt_at: row.try_get(9)?,
        delivered_at: row.try_get(10)?,
        created_at: row.try_get(11)?,
    })
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("webhook '{id}' does not exist"))
}

/// Inserts events not seen before (by dedupe key) and their deliveries, in `tx`.
/// Returns how many events were new.
async fn insert_events(
    tx: &mut Tx,
    org_id: i64,
    events: &[OutboxEvent],
    now_ms: i64,
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let hooks: Vec<WebhookRow> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{WEBHOOK_SELECT} WHERE org_id = $1 ORDER BY id"
    )))
    .bind(org_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(webhook_from_row)
    .collect::<Result<_, _>>()?;
    let mut inserted = 0;
    for event in events {
        let done = sqlx::query(
            "INSERT INTO outbox_events (id, org_id, kind, dedupe_key, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, dedupe_key) DO NOTHING",
        )
        .bind(&event.id)
        .bind(org_id)
        .bind(&event.kind)
        .bind(&event.dedupe_key)
        .bind(&event.payload)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            continue;
        }
        inserted += 1;
        let targets = hooks.iter().filter(|h| match &event.only_webhook {
            Some(id) => &h.id == id,
            None => h.disabled_at.is_none() && h.receives(&event.kind),
        });
        for hook in targets {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, event_id, webhook_id, org_id, state, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
            )
            .bind(format!("{}.{}", event.id, hook.id))
            .bind(&event.id)
            .bind(&hook.id)
            .bind(org_id)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(inserted)
}

impl Store {
    pub async fn create_webhook(
        &self,
        org_id: i64,
        hook: &NewWebhook,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        sqlx::query(
            "INSERT INTO webhooks (id, org_id, url, events, horizon_ms, secret, created_at, created_by, failures) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)",
        )
        .bind(&hook.id)
        .bind(org_id)
        .bind(&hook.url)
        .bind(serde_json::to_string(&hook.events).expect("strings serialize"))
        .bind(hook.horizon_ms)
        .bind(&hook.secret)
        .bind(now_ms)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        // The secret is not in the audit detail: the chain is readable by viewers.
        audit.push(
            NewEvent::new(actor, "webhook.create", format!("Webhook/{}", hook.id)).detail(
                serde_json::json!({
                    "url": hook.url, "events": hook.events, "horizon_ms": hook.horizon_ms
                }),
            ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_webhooks(&self, org_id: i64) -> Result<Vec<WebhookRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WEBHOOK_SELECT} WHERE org_id = $1 ORDER BY created_at, id"
        )))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect()
    }

    /// The org's webhook `id`; another org's answers `None`, as a missing one does.
    pub async fn webhook(&self, org_id: i64, id: &str) -> Result<Option<WebhookRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WEBHOOK_SELECT} WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(webhook_from_row)
        .transpose()
    }

    /// Deletes the webhook and its deliveries (pending ones are not sent). Events stay
    /// in the outbox: other webhooks may have received them.
    pub async fn remove_webhook(
        &self,
        org_id: i64,
        id: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let gone = sqlx::query("DELETE FROM webhooks WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(not_found(id));
        }
        sqlx::query("DELETE FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit.push(NewEvent::new(
            actor,
            "webhook.remove",
            format!("Webhook/{id}"),
        ));
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-enables a webhook disabled after failures: its count starts again and its
    /// pending deliveries are due now. Enabling an enabled webhook changes nothing.
    pub async fn enable_webhook(
        &self,
        org_id: i64,
        id: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let row = sqlx::query("SELECT disabled_at FROM webhooks WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found(id))?;
        if row.try_get::<Option<i64>, _>(0)?.is_some() {
            sqlx::query(
                "UPDATE webhooks SET disabled_at = NULL, disabled_reason = NULL, failures = 0 \
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                 WHERE org_id = $2 AND webhook_id = $3 AND state = 'pending'",
            )
            .bind(now_ms)
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit.push(NewEvent::new(
                actor,
                "webhook.enable",
                format!("Webhook/{id}"),
            ));
            audit.flush(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Orgs with at least one enabled webhook: the ones the watch looks at.
    pub async fn orgs_with_webhooks(&self) -> Result<Vec<i64>, StoreError> {
        sqlx::query(
            "SELECT DISTINCT org_id FROM webhooks WHERE disabled_at IS NULL ORDER BY org_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    /// Puts events in the outbox (those whose dedupe key is new) with their
    /// deliveries. Returns how many were new.
    pub async fn enqueue_events(
        &self,
        org_id: i64,
        events: &[OutboxEvent],
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = insert_events(&mut tx, org_id, events, now_ms).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// What the watch last saw of the org: (revision, snapshot), or `None` before its
    /// first look.
    pub async fn watch_snapshot(&self, org_id: i64) -> Result<Option<(i64, String)>, StoreError> {
        sqlx::query("SELECT revision, snapshot FROM webhook_watch WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
    }

    /// Moves the org's snapshot from `revision` (as read by `watch_snapshot`; `None`
    /// when there was none) to `snapshot` and enqueues `events`, in one transaction.
    /// Returns `None` when another watcher moved it first (nothing is written: that
    /// watcher enqueued what this one found), else the number of new events.
    pub async fn advance_watch(
        &self,
        org_id: i64,
        revision: Option<i64>,
        snapshot: &str,
        events: &[OutboxEvent],
        now_ms: i64,
    ) -> Result<Option<usize>, StoreError> {
        let mut tx = self.begin_write().await?;
        let moved = match revision {
            Some(r) => sqlx::query(
                "UPDATE webhook_watch SET revision = revision + 1, snapshot = $1, updated_at = $2 \
                 WHERE org_id = $3 AND revision = $4",
            )
            .bind(snapshot)
            .bind(now_ms)
            .bind(org_id)
            .bind(r)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "INSERT INTO webhook_watch (org_id, revision, snapshot, updated_at) \
                 VALUES ($1, 1, $2, $3) ON CONFLICT (org_id) DO NOTHING",
            )
            .bind(org_id)
            .bind(snapshot)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if moved == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let n = insert_events(&mut tx, org_id, events, now_ms).await?;
        tx.commit().await?;
        Ok(Some(n))
    }

    /// Takes the lease of up to `limit` due deliveries of enabled webhooks for
    /// `lease_ms`, counting an attempt on each. The conditions are repeated outside the
    /// subquery: PostgreSQL re-checks those on the row it updates, so of two servers
    /// racing for a row the second finds it leased and skips it.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        // The due rows, chosen once: on PostgreSQL a locking CTE is evaluated exactly
        // once (an `IN (… LIMIT)` subquery may be rescanned and overshoot the limit), and
        // SKIP LOCKED lets a second server pass over rows the first is claiming.
        let due = "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $3 \
             AND (d.lease_until IS NULL OR d.lease_until <= $3) AND w.disabled_at IS NULL \
             ORDER BY d.next_attempt_at, d.id LIMIT $4";
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, \
                 attempts = attempts + 1, last_attempt_at = $3 \
                 WHERE state = 'pending' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until <= $3) AND id IN ({due}) RETURNING id"
            ),
            Backend::Postgres => format!(
                "WITH due AS ({due} FOR UPDATE OF d SKIP LOCKED) \
                 UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, \
                 attempts = attempts + 1, last_attempt_at = $3 FROM due \
                 WHERE webhook_deliveries.id = due.id AND state = 'pending' \
                 AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
                 RETURNING webhook_deliveries.id"
            ),
        };
        // Every server polls every few seconds: look before taking the write lock
        // (SQLite's is the whole database), which ingestion would otherwise queue behind.
        let any_due = sqlx::query(
            "SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.lease_until IS NULL OR d.lease_until <= $1) AND w.disabled_at IS NULL LIMIT 1",
        )
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        if any_due.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(
                "SELECT d.id, d.event_id, e.kind, d.webhook_id, d.org_id, w.url, w.secret, e.payload, d.attempts \
                 FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id \
                 JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            claimed.push(ClaimedDelivery {
                id: row.try_get(0)?,
                event_id: row.try_get(1)?,
                kind: row.try_get(2)?,
                webhook_id: row.try_get(3)?,
                org_id: row.try_get(4)?,
                url: row.try_get(5)?,
                secret: row.try_get(6)?,
                payload: row.try_get(7)?,
                attempts: row.try_get(8)?,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// The receiver answered 2xx: the delivery is done (whoever holds its lease now:
    /// the receiver has the event) and the webhook's failure count starts again.
    pub async fn delivery_succeeded(
        &self,
        id: &str,
        status: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $1, last_status = $2, \
             last_error = NULL, lease_owner = NULL, lease_until = NULL \
             WHERE id = $3 AND state = 'pending' RETURNING webhook_id",
        )
        .bind(now_ms)
        .bind(status)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = row {
            sqlx::query("UPDATE webhooks SET failures = 0 WHERE id = $1")
                .bind(row.try_get::<String, _>(0)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// An attempt failed (`status` when the receiver answered, `error` in words). The
    /// delivery is retried at `retry_at`, or given up when `None`. The webhook counts
    /// the failure; at `disable_after` consecutive failures it is disabled, with the
    /// reason, audited. Only the lease's holder records its attempt: a server whose
    /// lease ran out lost the delivery to another. Returns whether it disabled.
    #[allow(clippy::too_many_arguments)]
    pub async fn delivery_failed(
        &self,
        id: &str,
        owner: &str,
        status: Option<i64>,
        error: &str,
        retry_at: Option<i64>,
        disable_after: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT d.webhook_id, d.org_id, w.failures FROM webhook_deliveries d \
             JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.id = $1 AND d.lease_owner = $2 AND d.state = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(false);
        };
        let (webhook_id, org_id): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
        // A failure that may disable the webhook writes an audit event: take the org's
        // lock before the webhook's row, in the order every configuration change takes
        // them (`enable_webhook`, `remove_webhook`), so the two cannot deadlock.
        let mut audit = if row.try_get::<i64, _>(2)? + 1 >= disable_after {
            Some(AuditWriter::lock(self, &mut tx, org_id, now_ms).await?)
        } else {
            None
        };
        let recorded = sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, next_attempt_at = $2, last_status = $3, \
             last_error = $4, lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_owner = $6 AND state = 'pending'",
        )
        .bind(if retry_at.is_some() {
            "pending"
        } else {
            "failed"
        })
        .bind(retry_at.unwrap_or(now_ms))
        .bind(status)
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        // Delivered or re-leased by another server since the read above: not ours.
        if recorded.rows_affected() == 0 {
            tx.commit().await?;
            return Ok(false);
        }
        let failures: i64 = sqlx::query(
            "UPDATE webhooks SET failures = failures + 1 WHERE id = $1 RETURNING failures",
        )
        .bind(&webhook_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let mut disabled = false;
        if failures >= disable_after {
            let reason = format!("{failures} consecutive failed deliveries; last: {error}");
            let done = sqlx::query(
                "UPDATE webhooks SET disabled_at = $1, disabled_reason = $2 \
                 WHERE id = $3 AND disabled_at IS NULL",
            )
            .bind(now_ms)
            .bind(&reason)
            .bind(&webhook_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                // Another failure raced this one past the count read above.
                let audit = match audit.as_mut() {
                    Some(a) => a,
                    None => audit.insert(AuditWriter::lock(self, &mut tx, org_id, now_ms).await?),
                };
                audit.push(
                    NewEvent::new(
                        "comply:webhooks",
                        "webhook.disable",
                        format!("Webhook/{webhook_id}"),
                    )
                    .detail(serde_json::json!({ "reason": reason })),
                );
                disabled = true;
            }
        }
        if let Some(audit) = audit {
            audit.flush(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(disabled)
    }

    /// The webhook's deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        org_id: i64,
        webhook_id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DELIVERY_SELECT} WHERE d.org_id = $1 AND d.webhook_id = $2 \
             ORDER BY d.created_at DESC, d.id DESC LIMIT $3"
        )))
        .bind(org_id)
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(delivery_from_row)
        .collect()
    }
}
