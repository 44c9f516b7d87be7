//! comply's storage on SQLite (embedded) or PostgreSQL (shared by several servers).
//!
//! One code path serves both backends through sqlx's `Any` driver: portable SQL with
//! `$n` placeholders, timestamps as epoch milliseconds, booleans as 0/1, JSON as text.
//! Where the dialects differ (DDL, row locks) the backend is matched explicitly.
//!
//! Every write that belongs together happens in one transaction, and every write that
//! changes an org's configuration appends to that org's audit chain in the same
//! transaction: there is no change without its audit event, and no event without its
//! change.

mod as_of;
mod audit;
mod decisions;
mod error;
mod evidence;
mod group_commit;
mod ingest;
mod keys;
mod migrate;
mod orgs;
mod packed;
mod projects;
mod reference_data;
mod resources;
mod sessions;
mod signing;
pub mod testing;
mod tokens;
mod webhooks;
mod window;

pub use as_of::ConfigEpoch;
pub use audit::AuditQuery;
pub use decisions::{DecisionRow, NewDecision, NewProof, ProofRow};
pub use error::StoreError;
pub use evidence::{
    AttachOutcome, AttestationRow, EvaluationRow, EvaluationsRef, IngestOutcome, NewAttestation,
    NewEvaluation, ReferencedRow,
};
pub use group_commit::IngestStats;
pub use keys::KeyRow;
pub use orgs::OrgRow;
pub use projects::{ProjectRow, ProjectVersionRow, WorkflowRow};
pub use reference_data::ReferenceDataRow;
pub use resources::{ApplyOutcome, StoredResource};
pub use sessions::SessionRow;
pub use signing::InstanceKeyRow;
pub use tokens::{NewToken, TokenRow};
pub use webhooks::{ClaimedDelivery, DeliveryRow, NewWebhook, OutboxEvent, WebhookRow};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::time::Duration;

/// The org that owns built-in content. Not a tenant: never listed, never logged into.
pub const BUILTIN_ORG: i64 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Ids of projects, versions and workflows ingestion has seen. Rows of these tables
    /// are never deleted or renamed, so an id once read stays true for every server.
    ids: std::sync::Arc<std::sync::Mutex<ingest::IdCache>>,
    /// Attestations waiting for SQLite's writer (group commit).
    queue: std::sync::Arc<group_commit::IngestQueue>,
}

pub(crate) type Tx = Transaction<'static, Any>;

impl Store {
    /// Connects and brings the schema up to date. `sqlite://PATH` (created when
    /// missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL '{url}': use sqlite://PATH or postgres://…"
            )));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    // One writer at a time is SQLite's model; readers run beside it in WAL.
                    // Each connection keeps up to 32 MiB of pages (SQLite's default is 2):
                    // the overview reads recent evidence of every project version.
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                                 PRAGMA cache_size = -32768;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                options
                    .max_connections(16)
                    // Statements here are short seeks; JIT compilation costs hundreds of
                    // milliseconds whenever estimates run high (no statistics yet after a
                    // bulk load), for queries that take a few.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("SET jit = off").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
        };
        let store = Store {
            pool,
            backend,
            ids: Default::default(),
            queue: Default::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Moves SQLite's write-ahead log into the database file, as its automatic
    /// checkpoints eventually do, so that reads after a bulk load do not search a long
    /// log. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction. On SQLite it takes the write lock up front, so two writers
    /// queue on the busy timeout instead of failing to upgrade a read lock.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}
