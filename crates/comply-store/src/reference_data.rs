//! Reference data: catalogs policies read as `data.*` (the CISA KEV catalog), one
//! current catalog per kind per org, and the instance's in org 0. The store keeps the
//! text and what describes it; parsing belongs to the server.

use crate::audit::AuditWriter;
use crate::{BUILTIN_ORG, Store, StoreError};
use comply_core::audit::NewEvent;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceDataRow {
    /// Org 0: the instance's catalog, used by orgs without their own.
    pub org_id: i64,
    pub kind: String,
    pub version: String,
    pub released_at: i64,
    pub entries: i64,
    /// Where it came from: `embedded snapshot`, or the file name an import gave.
    pub source: String,
    pub digest: String,
    pub content: String,
    pub imported_at: i64,
}

const SELECT: &str = "SELECT org_id, kind, version, released_at, entries, source, digest, content, imported_at FROM reference_data";

fn row(r: &sqlx::any::AnyRow) -> Result<ReferenceDataRow, StoreError> {
    Ok(ReferenceDataRow {
        org_id: r.try_get(0)?,
        kind: r.try_get(1)?,
        version: r.try_get(2)?,
        released_at: r.try_get(3)?,
        entries: r.try_get(4)?,
        source: r.try_get(5)?,
        digest: r.try_get(6)?,
        content: r.try_get(7)?,
        imported_at: r.try_get(8)?,
    })
}

impl Store {
    /// Replaces the catalog of `data.kind` for `data.org_id`, audited in that org's log
    /// (org 0's for the instance). `Ok(false)`: the same catalog was there already.
    pub async fn put_reference_data(
        &self,
        data: &ReferenceDataRow,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, data.org_id, data.imported_at).await?;
        let same: Option<String> =
            sqlx::query("SELECT digest FROM reference_data WHERE org_id = $1 AND kind = $2")
                .bind(data.org_id)
                .bind(&data.kind)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        if same.as_deref() == Some(data.digest.as_str()) {
            return Ok(false);
        }
        sqlx::query("DELETE FROM reference_data WHERE org_id = $1 AND kind = $2")
            .bind(data.org_id)
            .bind(&data.kind)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO reference_data (org_id, kind, version, released_at, entries, source, digest, content, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(data.org_id)
        .bind(&data.kind)
        .bind(&data.version)
        .bind(data.released_at)
        .bind(data.entries)
        .bind(&data.source)
        .bind(&data.digest)
        .bind(&data.content)
        .bind(data.imported_at)
        .execute(&mut *tx)
        .await?;
        audit.push(
            NewEvent::new(
                actor,
                "reference_data.import",
                format!("ReferenceData/{}", data.kind),
            )
            .detail(
                serde_json::json!({"version": data.version, "entries": data.entries,
                                           "source": data.source, "digest": data.digest}),
            ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The catalog of `kind` an org uses: its own, else the instance's.
    pub async fn reference_data(
        &self,
        org_id: i64,
        kind: &str,
    ) -> Result<Option<ReferenceDataRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE org_id IN ($1, $2) AND kind = $3 ORDER BY org_id DESC"
        )))
        .bind(org_id)
        .bind(BUILTIN_ORG)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.first().map(row).transpose()
    }

    /// Every catalog an org can see (its own and the instance's), without content.
    pub async fn list_reference_data(
        &self,
        org_id: i64,
    ) -> Result<Vec<ReferenceDataRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT org_id, kind, version, released_at, entries, source, digest, '' AS content, imported_at \
             FROM reference_data WHERE org_id IN ($1, $2) ORDER BY kind, org_id DESC",
        )
        .bind(org_id)
        .bind(BUILTIN_ORG)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }
}
