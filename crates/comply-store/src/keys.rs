//! Trusted keys: the public keys and CA certificates an org's attestations must be
//! signed with. The store keeps their PEM text; parsing and verification belong to
//! comply-attest, so this crate never interprets key material.

use crate::audit::AuditWriter;
use crate::{Store, StoreError};
use comply_core::audit::NewEvent;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub name: String,
    /// `public_key` or `ca_certificate`.
    pub kind: String,
    pub algorithm: String,
    pub pem: String,
    pub fingerprint: String,
    pub created_at: i64,
}

impl Store {
    /// Adds a key; `Ok(false)` when the name is taken.
    pub async fn add_key(
        &self,
        org_id: i64,
        key: &KeyRow,
        actor: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let exists = sqlx::query("SELECT 1 FROM trusted_keys WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(&key.name)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO trusted_keys (org_id, name, kind, algorithm, pem, fingerprint, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org_id)
        .bind(&key.name)
        .bind(&key.kind)
        .bind(&key.algorithm)
        .bind(&key.pem)
        .bind(&key.fingerprint)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        audit.push(
            NewEvent::new(actor, "key.add", format!("Key/{}", key.name)).detail(
                serde_json::json!({"kind": key.kind, "algorithm": key.algorithm,
                                   "fingerprint": key.fingerprint}),
            ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn list_keys(&self, org_id: i64) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, kind, algorithm, pem, fingerprint, created_at FROM trusted_keys \
             WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KeyRow {
                    name: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    algorithm: r.try_get(2)?,
                    pem: r.try_get(3)?,
                    fingerprint: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Removes a key; `Ok(false)` when there is none of that name. Attestations it
    /// verified stay: they were trusted when they arrived.
    pub async fn remove_key(
        &self,
        org_id: i64,
        name: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let done = sqlx::query("DELETE FROM trusted_keys WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if done {
            audit.push(NewEvent::new(actor, "key.remove", format!("Key/{name}")));
            audit.flush(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(done)
    }
}
