//! Throwaway databases for tests: a SQLite file in a temporary directory always, and a
//! private PostgreSQL schema when `COMPLY_TEST_DATABASE_URL` is set, so concurrent test
//! runs against one server never see each other's rows.

use crate::Backend;
use sqlx::{AnyConnection, Connection, Executor};
use std::path::{Path, PathBuf};

pub const PG_ENV: &str = "COMPLY_TEST_DATABASE_URL";

pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { admin_url: String, schema: String },
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("system randomness");
    hex::encode(bytes)
}

/// A fresh temporary directory, removed when the returned guard drops.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("comply-test-{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("create temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = TempDir::new();
        let path = dir.path().join("comply.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let kept = dir.0.clone();
        std::mem::forget(dir);
        TestDb {
            url,
            backend: Backend::Sqlite,
            cleanup: Cleanup::Dir(kept),
        }
    }

    /// A private schema on the PostgreSQL server named by `COMPLY_TEST_DATABASE_URL`,
    /// or `None` (with a note on stderr) when the variable is not set.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            eprintln!("skipped PostgreSQL: {PG_ENV} is not set (this test ran on SQLite only)");
            return None;
        };
        let schema = format!("comply_test_{}", random_suffix());
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .expect("create test schema");
        conn.close().await.ok();
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        // The schema's name is also its connections' application_name, so the cleanup
        // below can end them: a pool whose runtime is blocked (Drop runs on the test's
        // thread) may still hold a transaction's locks, and DROP SCHEMA would wait forever.
        let url = format!(
            "{admin_url}{separator}options=-c%20search_path%3D{schema}&application_name={schema}"
        );
        Some(TestDb {
            url,
            backend: Backend::Postgres,
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }

    /// SQLite, and PostgreSQL when configured: the backends a conformance test runs on.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                let (admin_url, schema) = (admin_url.clone(), schema.clone());
                // Drop may run inside a runtime; a thread of its own may block freely.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(mut conn) = AnyConnection::connect(&admin_url).await {
                                let _ = conn
                                    .execute(sqlx::AssertSqlSafe(format!(
                                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                                         WHERE application_name = '{schema}' AND pid <> pg_backend_pid()"
                                    )))
                                    .await;
                                let _ = conn
                                    .execute("SET lock_timeout = '30s'")
                                    .await;
                                let _ = conn
                                    .execute(sqlx::AssertSqlSafe(format!(
                                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                                    )))
                                    .await;
                                let _ = conn.close().await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}
