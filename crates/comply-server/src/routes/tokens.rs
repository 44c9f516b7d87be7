//! API tokens of an organization.

use crate::auth::{OrgCtx, issue_token};
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms, parse_time};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use comply_core::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize)]
pub struct TokenView {
    id: String,
    name: String,
    role: Role,
    created: String,
    expires: Option<String>,
    revoked: bool,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.store.list_tokens(ctx.org.id).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                name: t.name,
                role: t.role,
                created: fmt_time(t.created_at),
                expires: t.expires_at.map(fmt_time),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    name: String,
    role: String,
    #[serde(default)]
    expires: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<CreateToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest(
            "a token name must have 1 to 100 characters".into(),
        ));
    }
    if let Some(problem) = comply_core::name::text_problem("token name", name, 100, false) {
        return Err(ApiError::BadRequest(problem));
    }
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown role {}; expected owner, admin, member or viewer",
            comply_core::name::quote(&body.role)
        ))
    })?;
    let now = now_ms();
    let expires = body
        .expires
        .as_deref()
        .map(|e| parse_time(e, "expires"))
        .transpose()?;
    if expires.is_some_and(|e| e <= now) {
        return Err(ApiError::BadRequest("expires must be in the future".into()));
    }
    let issued = issue_token(name, role, false, expires);
    state
        .store
        .create_token(ctx.org.id, &issued.record, &ctx.principal.actor(), now)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": issued.record.id,
            "name": issued.record.name,
            "role": role,
            "expires": expires.map(fmt_time),
            "token": issued.secret,
        })),
    ))
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_token_keeping_access(ctx.org.id, &id, &ctx.principal.actor(), now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
