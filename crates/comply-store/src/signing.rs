//! The instance's signing keys (evidence-pack manifests, decision 0030). The store keeps
//! PEM text only; generating and using keys belongs to comply-attest, in the server.

use crate::{Store, StoreError};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceKeyRow {
    pub name: String,
    pub algorithm: String,
    pub private_pem: String,
    pub public_pem: String,
    pub fingerprint: String,
    pub created_at: i64,
}

impl Store {
    /// The key named `name`, or `candidate` stored under that name when there is none
    /// yet. Two servers racing on first use both get the one that won the insert.
    pub async fn instance_key(
        &self,
        name: &str,
        candidate: impl FnOnce() -> InstanceKeyRow,
    ) -> Result<InstanceKeyRow, StoreError> {
        if let Some(row) = self.read_instance_key(name).await? {
            return Ok(row);
        }
        let key = candidate();
        sqlx::query(
            "INSERT INTO instance_keys (name, algorithm, private_pem, public_pem, fingerprint, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&key.algorithm)
        .bind(&key.private_pem)
        .bind(&key.public_pem)
        .bind(&key.fingerprint)
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        self.read_instance_key(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("instance key '{name}' vanished")))
    }

    async fn read_instance_key(&self, name: &str) -> Result<Option<InstanceKeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT name, algorithm, private_pem, public_pem, fingerprint, created_at \
             FROM instance_keys WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(InstanceKeyRow {
                name: r.try_get(0)?,
                algorithm: r.try_get(1)?,
                private_pem: r.try_get(2)?,
                public_pem: r.try_get(3)?,
                fingerprint: r.try_get(4)?,
                created_at: r.try_get(5)?,
            })
        })
        .transpose()
    }
}
