//! Calling the JSON API's handlers from pages: same functions, same checks, same
//! words; the page reads their answer into its own typed view.

use crate::auth::OrgCtx;
use crate::error::ApiError;
use axum::Json;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A handler's query or body type, built from named values the way a request would
/// carry them (those types are the API's, with private fields and strict parsing).
pub fn input<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// A handler's JSON answer read into a page's view type.
pub fn output<A: Serialize, T: DeserializeOwned>(answer: Json<A>) -> Result<T, ApiError> {
    let value = serde_json::to_value(answer.0)
        .map_err(|e| ApiError::Internal(format!("answer does not serialize: {e}")))?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::Internal(format!("answer does not read as the page expects: {e}")))
}

/// The `{org}` path segment handlers expect: the session's own org.
pub fn org(ctx: &OrgCtx) -> String {
    ctx.org.name.clone()
}
