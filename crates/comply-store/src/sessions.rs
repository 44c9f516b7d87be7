//! Dashboard sessions. The id is a random secret held by the browser; only its hash is
//! stored, so a database dump does not sign anybody in.

use crate::{Store, StoreError};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_id: String,
    /// Sent back with every form and htmx request (double-submit is not needed: the
    /// value lives server-side and is compared with what the page posted).
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    pub async fn create_session(
        &self,
        id_hash: &str,
        token_id: &str,
        csrf: &str,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        // Expired sessions are dropped on the way, so the table does not grow without end.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id_hash, token_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(token_id)
        .bind(csrf)
        .bind(now_ms)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session with this id hash, if it has not expired at `now_ms`.
    pub async fn session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT token_id, csrf, created_at, expires_at FROM web_sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionRow {
                token_id: r.try_get(0)?,
                csrf: r.try_get(1)?,
                created_at: r.try_get(2)?,
                expires_at: r.try_get(3)?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
