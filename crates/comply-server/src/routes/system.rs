//! Health, the API document, the caller, organizations and their settings.

use crate::auth::{OrgCtx, Principal};
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use comply_core::name;
use comply_core::settings::{OrgSettings, OrgSettingsPatch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database unavailable: {e}")))?;
    Ok(Json(json!({"status": "ready"})))
}

pub async fn openapi() -> Json<Value> {
    Json(crate::openapi::document().clone())
}

pub async fn whoami(Extension(p): Extension<Principal>) -> Json<Value> {
    Json(json!({
        "org": p.org_name,
        "token": {"id": p.token_id, "name": p.token_name, "role": p.role},
        "instance_admin": p.instance_admin,
    }))
}

#[derive(Serialize)]
pub struct OrgView {
    name: String,
    created_at: String,
}

pub async fn list_orgs(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<OrgView>>, ApiError> {
    let orgs = if p.instance_admin {
        state.store.list_orgs().await?
    } else {
        state.store.org_by_id(p.org_id).await?.into_iter().collect()
    };
    Ok(Json(
        orgs.into_iter()
            .map(|o| OrgView {
                name: o.name,
                created_at: fmt_time(o.created_at),
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    name: String,
}

pub async fn create_org(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Body(body): Body<CreateOrg>,
) -> Result<(StatusCode, Json<OrgView>), ApiError> {
    if let Some(problem) = name::dns1123_problem(&body.name) {
        return Err(ApiError::BadRequest(format!(
            "invalid organization name: {problem}"
        )));
    }
    let org = state
        .store
        .create_org(&body.name, &p.actor(), now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgView {
            name: org.name,
            created_at: fmt_time(org.created_at),
        }),
    ))
}

pub async fn get_settings(Extension(ctx): Extension<OrgCtx>) -> Json<OrgSettings> {
    Json(ctx.org.settings.clone())
}

pub async fn patch_settings(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(patch): Body<OrgSettingsPatch>,
) -> Result<Json<OrgSettings>, ApiError> {
    let problems = patch.problems();
    if !problems.is_empty() {
        return Err(ApiError::BadRequest(problems.join("; ")));
    }
    let settings = state
        .store
        .update_settings(ctx.org.id, &patch, &ctx.principal.actor(), now_ms())
        .await?;
    Ok(Json(settings))
}
