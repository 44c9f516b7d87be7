//! Bulk reads that arrive as one JSON document per statement.
//!
//! sqlx's `Any` driver copies every value of every row into its own representation
//! before a column can be read: about 12 µs per row of a dozen columns, against well
//! under one for the database to add the same row to a JSON array it aggregates. Reads
//! of thousands of rows (a status, the overview) ask the database for that array and
//! decode it with serde in one pass; everything else reads rows as usual.

use crate::{Backend, StoreError};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

/// `SELECT <one JSON array of [columns…] per row> <rest>`, where `rest` is the statement
/// from its `FROM` on (no `ORDER BY`: aggregation does not keep an order). Values come
/// as they are (numbers, text, null); a text column that holds JSON arrives as a string
/// of it, for the reader to parse, which is cheaper than the database's JSON functions
/// (they would parse and print it again).
pub(crate) fn select(backend: Backend, columns: &[&str], rest: &str) -> String {
    let items = columns.join(", ");
    match backend {
        Backend::Sqlite => format!("SELECT json_group_array(json_array({items})) {rest}"),
        Backend::Postgres => {
            format!("SELECT COALESCE(json_agg(json_build_array({items})), '[]'::json)::text {rest}")
        }
    }
}

/// The rows of a packed read, each decoded as `T` (a tuple or tuple struct with one
/// field per column).
pub(crate) fn rows<T: DeserializeOwned>(row: &AnyRow, what: &str) -> Result<Vec<T>, StoreError> {
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
