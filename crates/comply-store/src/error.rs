use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("migration {version} failed: {message}")]
    Migration { version: i64, message: String },
}

impl StoreError {
    /// The database could not take the work in time (SQLite's single writer past its
    /// busy timeout, the pool exhausted, PostgreSQL's lock or serialization conflicts):
    /// retrying may succeed, so callers answer "busy", not "broken".
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            StoreError::Database(sqlx::Error::Database(d)) => {
                matches!(
                    d.code().as_deref(),
                    Some("5" | "6" | "517" | "40001" | "40P01" | "55P03")
                ) || d.message().contains("database is locked")
            }
            _ => false,
        }
    }

    /// A unique-constraint violation, on either backend.
    pub fn is_unique_violation(err: &sqlx::Error) -> bool {
        match err {
            sqlx::Error::Database(db) => {
                db.is_unique_violation()
                    || db.code().as_deref() == Some("23505")
                    || db.message().contains("UNIQUE constraint failed")
            }
            _ => false,
        }
    }
}
