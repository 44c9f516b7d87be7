//! Organizations, their settings, and the first start.

use crate::audit::AuditWriter;
use crate::tokens::{NewToken, insert_token};
use crate::{BUILTIN_ORG, Store, StoreError};
use comply_core::audit::{GENESIS, NewEvent};
use comply_core::settings::{OrgSettings, OrgSettingsPatch};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub settings: OrgSettings,
    pub created_at: i64,
}

fn org_from_row(row: &AnyRow) -> Result<OrgRow, StoreError> {
    let settings: String = row.try_get(2)?;
    Ok(OrgRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("settings: {e}")))?,
        created_at: row.try_get(3)?,
    })
}

impl Store {
    /// On an empty database, creates org `default` and its first owner token, which may
    /// administer every org. Returns the org when this call created it; `None` when the
    /// database was already set up (possibly by another server a moment earlier).
    pub async fn bootstrap(
        &self,
        token: &NewToken,
        now_ms: i64,
    ) -> Result<Option<OrgRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing: i64 = sqlx::query("SELECT COUNT(*) FROM orgs WHERE id <> $1")
            .bind(BUILTIN_ORG)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if existing > 0 {
            return Ok(None);
        }
        let settings = serde_json::to_string(&OrgSettings::default()).expect("settings serialize");
        let row = sqlx::query(
            "INSERT INTO orgs (name, settings, audit_seq, audit_head, created_at) VALUES ($1, $2, 0, $3, $4) \
             ON CONFLICT (name) DO NOTHING RETURNING id, name, settings, created_at",
        )
        .bind("default")
        .bind(&settings)
        .bind(GENESIS)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let org = org_from_row(&row)?;
        let mut audit = AuditWriter::lock(self, &mut tx, org.id, now_ms).await?;
        audit.push(NewEvent::new(
            "system",
            "org.create",
            format!("Organization/{}", org.name),
        ));
        insert_token(&mut tx, org.id, token, now_ms).await?;
        audit.push(
            NewEvent::new("system", "token.create", format!("Token/{}", token.id))
                .detail(serde_json::json!({"name": token.name, "role": token.role, "instance_admin": token.instance_admin})),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(org))
    }

    pub async fn create_org(
        &self,
        name: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<OrgRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let settings = serde_json::to_string(&OrgSettings::default()).expect("settings serialize");
        let row = sqlx::query(
            "INSERT INTO orgs (name, settings, audit_seq, audit_head, created_at) VALUES ($1, $2, 0, $3, $4) \
             ON CONFLICT (name) DO NOTHING RETURNING id, name, settings, created_at",
        )
        .bind(name)
        .bind(&settings)
        .bind(GENESIS)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("organization '{name}' already exists")))?;
        let org = org_from_row(&row)?;
        let mut audit = AuditWriter::lock(self, &mut tx, org.id, now_ms).await?;
        audit.push(NewEvent::new(
            actor,
            "org.create",
            format!("Organization/{name}"),
        ));
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<OrgRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, settings, created_at FROM orgs WHERE name = $1 AND id <> $2",
        )
        .bind(name)
        .bind(BUILTIN_ORG)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    pub async fn org_by_id(&self, id: i64) -> Result<Option<OrgRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, settings, created_at FROM orgs WHERE id = $1 AND id <> $2",
        )
        .bind(id)
        .bind(BUILTIN_ORG)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    pub async fn list_orgs(&self) -> Result<Vec<OrgRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, settings, created_at FROM orgs WHERE id <> $1 ORDER BY name",
        )
        .bind(BUILTIN_ORG)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(org_from_row).collect()
    }

    /// Applies a settings patch; records an audit event only when something changed.
    pub async fn update_settings(
        &self,
        org_id: i64,
        patch: &OrgSettingsPatch,
        actor: &str,
        now_ms: i64,
    ) -> Result<OrgSettings, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let row = sqlx::query("SELECT id, name, settings, created_at FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_one(&mut *tx)
            .await?;
        let org = org_from_row(&row)?;
        let updated = org.settings.clone().apply(patch);
        if updated != org.settings {
            sqlx::query("UPDATE orgs SET settings = $1 WHERE id = $2")
                .bind(serde_json::to_string(&updated).expect("settings serialize"))
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
            audit.push(
                NewEvent::new(
                    actor,
                    "settings.update",
                    format!("Organization/{}", org.name),
                )
                .detail(serde_json::json!({"before": org.settings, "after": updated})),
            );
            audit.flush(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }
}
