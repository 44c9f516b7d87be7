//! Schema migrations, one directory per backend, embedded in the binary.
//!
//! Several servers may start at once against one PostgreSQL database: an advisory lock
//! makes one of them migrate while the others wait, then find nothing to do.

use crate::{Backend, Store, StoreError};
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        description: "evidence and manual decisions",
        sqlite: include_str!("../migrations/sqlite/0002_evidence.sql"),
        postgres: include_str!("../migrations/postgres/0002_evidence.sql"),
    },
    Migration {
        version: 3,
        description: "evaluation series and project version marks",
        sqlite: include_str!("../migrations/sqlite/0003_series.sql"),
        postgres: include_str!("../migrations/postgres/0003_series.sql"),
    },
    Migration {
        version: 4,
        description: "dashboard sessions",
        sqlite: include_str!("../migrations/sqlite/0004_web_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0004_web_sessions.sql"),
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
        let applied: Vec<i64> = sqlx::query("SELECT version FROM comply_migrations")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
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
            sqlx::query("INSERT INTO comply_migrations (version, description) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.description)
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
