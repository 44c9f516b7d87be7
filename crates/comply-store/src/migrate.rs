//! Schema migrations, one directory per backend, embedded in the binary.
//!
//! Several servers may start at once against one PostgreSQL database: an advisory lock
//! makes one of them migrate while the others wait, then find nothing to do.
//!
//! Released migrations are append-only (decision 0039): each applied one's SHA-256 is
//! recorded, and a binary whose migration of that number differs, or that does not
//! know a migration the database has, refuses to start rather than run on a schema it
//! does not describe.

use crate::{Backend, Store, StoreError};
use sqlx::{Any, AssertSqlSafe, Connection, Executor, Row, Transaction};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    /// Work SQL cannot do, run in the migration's transaction after its SQL.
    data: Option<DataStep>,
}

impl Migration {
    /// What this backend runs: its SQL and the data step, as a `sha256:<hex>` digest.
    fn checksum(&self, backend: Backend) -> String {
        let sql = match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        };
        let data = match self.data {
            Some(DataStep::RedigestResources) => "redigest-resources",
            None => "",
        };
        comply_core::digest::sha256(format!("{sql}\0{data}").as_bytes())
    }
}

#[derive(Clone, Copy)]
enum DataStep {
    /// Resource digests moved to RFC 8785 canonical JSON (decision 0033): every stored
    /// resource and revision is digested again from its stored document. No revision is
    /// created; audit events keep the digests they recorded at the time.
    RedigestResources,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
        data: None,
    },
    Migration {
        version: 2,
        description: "evidence and manual decisions",
        sqlite: include_str!("../migrations/sqlite/0002_evidence.sql"),
        postgres: include_str!("../migrations/postgres/0002_evidence.sql"),
        data: None,
    },
    Migration {
        version: 3,
        description: "evaluation series and project version marks",
        sqlite: include_str!("../migrations/sqlite/0003_series.sql"),
        postgres: include_str!("../migrations/postgres/0003_series.sql"),
        data: None,
    },
    Migration {
        version: 4,
        description: "dashboard sessions",
        sqlite: include_str!("../migrations/sqlite/0004_web_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0004_web_sessions.sql"),
        data: None,
    },
    Migration {
        version: 5,
        description: "reference data (KEV catalog) per org and instance",
        sqlite: include_str!("../migrations/sqlite/0005_reference_data.sql"),
        postgres: include_str!("../migrations/postgres/0005_reference_data.sql"),
        data: None,
    },
    Migration {
        version: 6,
        description: "referenced policy evaluations, late and networked evaluations",
        sqlite: include_str!("../migrations/sqlite/0006_referenced_evaluations.sql"),
        postgres: include_str!("../migrations/postgres/0006_referenced_evaluations.sql"),
        data: None,
    },
    Migration {
        version: 8,
        description: "instance signing keys",
        sqlite: include_str!("../migrations/sqlite/0008_instance_keys.sql"),
        postgres: include_str!("../migrations/postgres/0008_instance_keys.sql"),
        data: None,
    },
    Migration {
        version: 10,
        description: "resource deletions kept as events, for reads as of a past time",
        sqlite: include_str!("../migrations/sqlite/0010_resource_deletions.sql"),
        postgres: include_str!("../migrations/postgres/0010_resource_deletions.sql"),
        data: None,
    },
    Migration {
        version: 11,
        description: "four-eyes approval of exceptions and overrides",
        sqlite: include_str!("../migrations/sqlite/0011_decision_approval.sql"),
        postgres: include_str!("../migrations/postgres/0011_decision_approval.sql"),
        data: None,
    },
    Migration {
        version: 12,
        description: "webhooks, the outbox and deliveries",
        sqlite: include_str!("../migrations/sqlite/0012_webhooks.sql"),
        postgres: include_str!("../migrations/postgres/0012_webhooks.sql"),
        data: None,
    },
    // Kept last in the list: it digests the documents the migrations before it leave.
    Migration {
        version: 9,
        description: "resource digests over RFC 8785 canonical JSON",
        sqlite: "",
        postgres: "",
        data: Some(DataStep::RedigestResources),
    },
];

/// Arbitrary, fixed: identifies comply's migration lock among other advisory locks.
const PG_LOCK_KEY: i64 = 0x636f_6d70_6c79;

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.pool.acquire().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = async {
        conn.execute(
            "CREATE TABLE IF NOT EXISTS comply_migrations (\
                 version BIGINT PRIMARY KEY, description TEXT NOT NULL)",
        )
        .await?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS comply_migration_checksums (\
                 version BIGINT PRIMARY KEY, checksum TEXT NOT NULL)",
        )
        .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM comply_migrations")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let recorded: Vec<(i64, String)> =
            sqlx::query("SELECT version, checksum FROM comply_migration_checksums")
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)))
                .collect::<Result<_, sqlx::Error>>()?;
        for version in &applied {
            let Some(m) = MIGRATIONS.iter().find(|m| m.version == *version) else {
                return Err(StoreError::Migration {
                    version: *version,
                    message: "the database has a migration this comply does not know: it was \
                              migrated by a newer release; run that release (or newer)"
                        .into(),
                });
            };
            let checksum = m.checksum(store.backend);
            match recorded.iter().find(|(v, _)| v == version) {
                Some((_, stored)) if *stored != checksum => {
                    return Err(StoreError::Migration {
                        version: *version,
                        message: format!(
                            "migration {version} ({}) differs from the one this database \
                             applied ({stored}, this release has {checksum}): released \
                             migrations must not change; add a new one instead",
                            m.description
                        ),
                    });
                }
                Some(_) => {}
                // Applied before checksums were recorded: this release's is taken as the one.
                None => {
                    sqlx::query(
                        "INSERT INTO comply_migration_checksums (version, checksum) VALUES ($1, $2)",
                    )
                    .bind(*version)
                    .bind(&checksum)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            let sql = match store.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let mut tx = conn.begin().await?;
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration {
                    version: m.version,
                    message: e.to_string(),
                })?;
            match m.data {
                Some(DataStep::RedigestResources) => redigest_resources(&mut tx).await?,
                None => {}
            }
            sqlx::query("INSERT INTO comply_migrations (version, description) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.description)
                .execute(&mut *tx)
                .await?;
            // A checksum left without its migration row (a row removed by hand) is stale.
            sqlx::query(
                "INSERT INTO comply_migration_checksums (version, checksum) VALUES ($1, $2) \
                 ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum",
            )
            .bind(m.version)
            .bind(m.checksum(store.backend))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(
                version = m.version,
                description = m.description,
                "applied migration"
            );
        }
        Ok::<_, StoreError>(())
    }
    .await;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    result
}

/// Recomputes the digest of every stored resource and revision from its document.
async fn redigest_resources(tx: &mut Transaction<'_, Any>) -> Result<(), StoreError> {
    for table in ["resources", "resource_revisions"] {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT org_id, kind, name, revision, document FROM {table}"
        )))
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            let document: String = row.try_get(4)?;
            let value: serde_json::Value = serde_json::from_str(&document)
                .map_err(|e| StoreError::Corrupt(format!("{table} document: {e}")))?;
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET digest = $1 \
                 WHERE org_id = $2 AND kind = $3 AND name = $4 AND revision = $5"
            )))
            .bind(comply_core::digest::of_canonical_json(&value))
            .bind(row.try_get::<i64, _>(0)?)
            .bind(row.try_get::<String, _>(1)?)
            .bind(row.try_get::<String, _>(2)?)
            .bind(row.try_get::<i64, _>(3)?)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
