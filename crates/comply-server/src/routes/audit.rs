//! The audit log.

use crate::auth::OrgCtx;
use crate::error::ApiError;
use crate::state::{AppState, fmt_time, parse_time};
use axum::extract::{Query, State};
use axum::{Extension, Json};
use comply_store::AuditQuery;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct ListParams {
    since: Option<String>,
    target: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let query = AuditQuery {
        since_ms: params
            .since
            .as_deref()
            .map(|s| parse_time(s, "since"))
            .transpose()?,
        target: params.target,
        limit: params.limit,
    };
    let events = state.store.audit_list(ctx.org.id, &query).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "time": fmt_time(e.time_ms),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "revision": e.revision,
                    "digest": e.digest,
                    "detail": e.detail.and_then(|d| serde_json::from_str::<Value>(&d).ok()),
                    "hash": e.hash,
                })
            })
            .collect(),
    ))
}

pub async fn verify(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(match state.store.audit_verify(ctx.org.id).await? {
        Ok(events) => json!({"intact": true, "events": events}),
        Err(b) => json!({"intact": false, "broken_at": b.seq, "reason": b.reason}),
    }))
}
