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
    /// Events before this time (exclusive).
    until: Option<String>,
    target: Option<String>,
    /// Events of this actor, exact (`token:ci/ab12…`, `system`).
    actor: Option<String>,
    /// Events of this action, exact (`resource.created`), or every action starting
    /// with a prefix ending in a dot (`product.`).
    action: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let until = params
        .until
        .as_deref()
        .map(|s| parse_time(s, "until"))
        .transpose()?;
    let actor = params.actor.filter(|a| !a.is_empty());
    let action = params.action.filter(|a| !a.is_empty());
    // The store filters by time and target; the rest filters here, so the limit is
    // applied after every filter.
    let filtered_here = until.is_some() || actor.is_some() || action.is_some();
    let query = AuditQuery {
        since_ms: params
            .since
            .as_deref()
            .map(|s| parse_time(s, "since"))
            .transpose()?,
        target: params.target.filter(|t| !t.is_empty()),
        limit: if filtered_here { None } else { params.limit },
    };
    let events = state.store.audit_list(ctx.org.id, &query).await?;
    let wanted = |e: &comply_core::audit::AuditEvent| {
        until.is_none_or(|u| e.time_ms < u)
            && actor.as_ref().is_none_or(|a| &e.actor == a)
            && action.as_ref().is_none_or(|a| {
                &e.action == a || (a.ends_with('.') && e.action.starts_with(a.as_str()))
            })
    };
    let limit = params
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(0));
    Ok(Json(
        events
            .into_iter()
            .filter(wanted)
            .take(limit)
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
