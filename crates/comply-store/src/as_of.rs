//! Configuration as it was at a past instant: the newest revision of each resource
//! written at or before it (unless deleted by then) and requirement activity as the
//! audit log recorded it. Status, history and evidence packs at a past `t` read these,
//! so a trend shows what the org had defined then, not what it has defined now.

use crate::resources::{mark_shadows, resource_from_row};
use crate::{BUILTIN_ORG, Store, StoreError, StoredResource};
use comply_core::resource::Kind;
use sqlx::Row;
use std::collections::HashMap;

/// Where `at` falls among the org's configuration changes (its own and the built-in
/// content's): equal epochs read the same configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfigEpoch {
    /// Changes made at or before `at`.
    pub before: i64,
    /// The time of the last of them.
    pub last_change_ms: Option<i64>,
    /// Changes made after `at`: none means the current configuration is the one at `at`.
    pub after: i64,
}

/// The kinds a status reads.
const CONFIG_KINDS: &str = "('Product', 'Framework', 'Requirement', 'Policy')";

impl Store {
    /// How many configuration changes lie before and after `at_ms`.
    pub async fn config_epoch(&self, org_id: i64, at_ms: i64) -> Result<ConfigEpoch, StoreError> {
        let sql = format!(
            "SELECT COUNT(CASE WHEN t <= $3 THEN 1 END), MAX(CASE WHEN t <= $3 THEN t END), \
                    COUNT(CASE WHEN t > $3 THEN 1 END) FROM ( \
               SELECT created_at AS t FROM resource_revisions \
                 WHERE org_id IN ($1, $2) AND kind IN {CONFIG_KINDS} \
               UNION ALL SELECT deleted_at FROM resource_deletions \
                 WHERE org_id IN ($1, $2) AND kind IN {CONFIG_KINDS} \
               UNION ALL SELECT time_ms FROM audit_events WHERE org_id = $1 \
                 AND action IN ('requirement.activate', 'requirement.deactivate') \
             ) changes"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(BUILTIN_ORG)
            .bind(at_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(ConfigEpoch {
            before: row.try_get(0)?,
            last_change_ms: row.try_get(1)?,
            after: row.try_get(2)?,
        })
    }

    /// [`Store::list_resources`] as it answered at `at_ms`.
    pub async fn list_resources_as_of(
        &self,
        org_id: i64,
        kind: Kind,
        at_ms: i64,
    ) -> Result<Vec<StoredResource>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.org_id, r.kind, r.name, r.revision, r.digest, r.document, \
                    r.created_at, r.created_at, CAST(NULL AS BIGINT) FROM resource_revisions r \
             WHERE r.org_id IN ($1, $2) AND r.kind = $3 AND r.created_at <= $4 \
               AND r.revision = (SELECT MAX(x.revision) FROM resource_revisions x \
                   WHERE x.org_id = r.org_id AND x.kind = r.kind AND x.name = r.name \
                     AND x.created_at <= $4) \
               AND NOT EXISTS (SELECT 1 FROM resource_deletions d \
                   WHERE d.org_id = r.org_id AND d.kind = r.kind AND d.name = r.name \
                     AND d.revision = r.revision AND d.deleted_at <= $4) \
             ORDER BY r.name, r.org_id DESC",
        )
        .bind(org_id)
        .bind(BUILTIN_ORG)
        .bind(kind.as_str())
        .bind(at_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<StoredResource> = rows
            .iter()
            .map(resource_from_row)
            .collect::<Result<_, _>>()?;
        if kind == Kind::Requirement {
            let active = self.requirement_activity_as_of(org_id, at_ms).await?;
            for r in &mut out {
                r.active = active.get(&r.name).copied().unwrap_or(true);
            }
        }
        mark_shadows(&mut out);
        Ok(out)
    }

    /// Requirement name → active, from the lifecycle events up to `at_ms`. A deletion
    /// ends a deactivation: a requirement created again under the name starts active.
    async fn requirement_activity_as_of(
        &self,
        org_id: i64,
        at_ms: i64,
    ) -> Result<HashMap<String, bool>, StoreError> {
        let rows = sqlx::query(
            "SELECT target, action FROM audit_events WHERE org_id = $1 AND time_ms <= $2 \
               AND action IN ('requirement.activate', 'requirement.deactivate', 'delete') \
               AND target LIKE 'Requirement/%' ORDER BY seq",
        )
        .bind(org_id)
        .bind(at_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut active = HashMap::new();
        for row in rows {
            let target: String = row.try_get(0)?;
            let action: String = row.try_get(1)?;
            let name = target.trim_start_matches("Requirement/").to_owned();
            active.insert(name, action != "requirement.deactivate");
        }
        Ok(active)
    }
}
