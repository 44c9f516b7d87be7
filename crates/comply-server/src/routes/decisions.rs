//! The manual inputs status reads (semantics §3): proofs, exceptions and overrides,
//! with four-eyes approval (decision 0036). Every write first checks the cell it
//! addresses (`check_cell`).

use super::compliance::{no_such, opt_time, version_of};
use crate::auth::OrgCtx;
use crate::catalog::OrgCatalog;
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms, parse_time};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::Engine as _;
use comply_core::resource::{Requirement, Scope};
use comply_store::{DecisionRow, NewDecision, NewProof};
use serde::Deserialize;
use serde_json::{Value, json};

/// The cell a manual input addresses, checked against the product and requirement.
struct CellRef {
    product: String,
    version: String,
    project: Option<String>,
    requirement: String,
}

async fn check_cell(
    state: &AppState,
    ctx: &OrgCtx,
    product: &str,
    version: &str,
    project: Option<&str>,
    requirement: &str,
) -> Result<(CellRef, Requirement), ApiError> {
    let catalog = OrgCatalog::get(state, ctx.org.id).await?;
    let p = catalog.product(product)?;
    let v = version_of(p, Some(version))?;
    let attached = v.frameworks.iter().any(|fw| {
        catalog
            .frameworks
            .get(fw)
            .is_some_and(|refs| refs.iter().any(|r| r == requirement))
    });
    if !attached {
        return Err(ApiError::BadRequest(format!(
            "requirement '{requirement}' is in none of the frameworks attached to {product} {version} ({})",
            v.frameworks.join(", ")
        )));
    }
    let (req, _) = catalog
        .requirements
        .get(requirement)
        .ok_or_else(|| ApiError::NotFound(format!("requirement '{requirement}' does not exist")))?;
    match (req.scope(), project) {
        (Scope::Product, Some(_)) => {
            return Err(ApiError::BadRequest(format!(
                "requirement '{requirement}' is PRODUCT-scoped: it is decided at product level, without --project"
            )));
        }
        (Scope::Project, None) => {
            return Err(ApiError::BadRequest(format!(
                "requirement '{requirement}' is PROJECT-scoped: name the project (--project)"
            )));
        }
        (_, Some(p)) if !p_has(&catalog, product, p) => {
            return Err(ApiError::BadRequest(format!(
                "project '{p}' is not a project of product '{product}'"
            )));
        }
        _ => {}
    }
    Ok((
        CellRef {
            product: product.to_owned(),
            version: version.to_owned(),
            project: project.map(str::to_owned),
            requirement: requirement.to_owned(),
        },
        req.clone(),
    ))
}

fn p_has(catalog: &OrgCatalog, product: &str, project: &str) -> bool {
    catalog
        .products
        .get(product)
        .is_some_and(|p| p.spec.projects.iter().any(|x| x == project))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofIn {
    product: String,
    version: String,
    #[serde(default)]
    project: Option<String>,
    requirement: String,
    proof: String,
    /// Exactly one of the three.
    #[serde(default)]
    file_base64: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    collected_at: Option<String>,
}

pub async fn submit_proof(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<ProofIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Free text is stored and shown to others: no control characters but line breaks
    // and tabs (decision 0026), refused before anything else is checked.
    for (what, text, multiline) in [
        ("proof text", body.text.as_deref(), true),
        ("proof URL", body.url.as_deref(), false),
        ("file name", body.file_name.as_deref(), false),
    ] {
        if let Some(problem) =
            text.and_then(|t| comply_core::name::text_problem(what, t, 64 * 1024, multiline))
        {
            return Err(ApiError::BadRequest(problem));
        }
    }
    let (cell, requirement) = check_cell(
        &state,
        &ctx,
        &body.product,
        &body.version,
        body.project.as_deref(),
        &body.requirement,
    )
    .await?;
    if !requirement
        .spec
        .manual_proofs
        .iter()
        .any(|p| p.name == body.proof)
    {
        let names: Vec<&str> = requirement
            .spec
            .manual_proofs
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        return Err(ApiError::BadRequest(format!(
            "requirement '{}' has no manual proof '{}' (it has: {})",
            body.requirement,
            body.proof,
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        )));
    }
    let now = now_ms();
    let collected_at = match &body.collected_at {
        Some(t) => parse_time(t, "collected_at")?,
        None => now,
    };
    if collected_at > now + 5 * 60 * 1000 {
        return Err(ApiError::BadRequest("collected_at is in the future".into()));
    }
    let (kind, value, file) = match (&body.file_base64, &body.url, &body.text) {
        (Some(b64), None, None) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    ApiError::BadRequest(format!("file_base64 is not valid base64: {e}"))
                })?;
            ("file", comply_core::digest::sha256(&bytes), Some(bytes))
        }
        (None, Some(url), None) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ApiError::BadRequest(format!(
                    "'{url}' is not an http(s) URL"
                )));
            }
            ("url", url.clone(), None)
        }
        (None, None, Some(text)) if !text.trim().is_empty() => ("text", text.clone(), None),
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of a file, a URL or a non-empty text".into(),
            ));
        }
    };
    let id = state
        .store
        .add_proof(
            ctx.org.id,
            &NewProof {
                product: cell.product,
                product_version: cell.version,
                project: cell.project,
                requirement: cell.requirement,
                proof: body.proof.clone(),
                kind: kind.into(),
                value: value.clone(),
                collected_at,
            },
            file.as_deref(),
            &ctx.principal.actor(),
            now,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": id, "kind": kind, "value": value, "file_name": body.file_name,
                    "collected_at": fmt_time(collected_at)}),
        ),
    ))
}

#[derive(Deserialize)]
pub struct ProductQuery {
    product: Option<String>,
    version: Option<String>,
}

pub async fn list_proofs(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<ProductQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let (Some(product), Some(version)) = (&q.product, &q.version) else {
        return Err(ApiError::BadRequest("give product and version".into()));
    };
    check_product_filter(&state, &ctx, &q).await?;
    let proofs = state
        .store
        .list_proofs(ctx.org.id, product, version)
        .await?;
    Ok(Json(
        proofs
            .iter()
            .map(|p| {
                json!({"id": p.id, "project": p.project, "requirement": p.requirement,
                       "proof": p.proof, "kind": p.kind, "value": p.value,
                       "collected_at": fmt_time(p.collected_at),
                       "submitted_at": fmt_time(p.created_at), "submitter": p.submitter})
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    product: String,
    version: String,
    #[serde(default)]
    project: Option<String>,
    requirement: String,
    reason: String,
    #[serde(default)]
    expires: Option<String>,
    /// Overrides only: `passed` or `failed`.
    #[serde(default)]
    status: Option<String>,
}

fn decision_view(d: &DecisionRow, now: i64) -> Value {
    json!({
        "id": d.id, "kind": d.kind, "product": d.product, "version": d.product_version,
        "project": d.project, "requirement": d.requirement, "status": d.forced_status,
        "reason": d.reason, "author": d.author, "created": fmt_time(d.created_at),
        "expires": opt_time(d.expires_at), "ended": opt_time(d.ended_at),
        // In effect now: recorded, not ended or expired, and approved where required.
        "active": d.active_at(now) && !d.pending(),
        "approval": if !d.needs_approval { "not_required" } else if d.approved_at.is_some() { "approved" } else { "pending" },
        "approved_by": d.approved_by, "approved": opt_time(d.approved_at),
    })
}

async fn create_decision(
    state: &AppState,
    ctx: &OrgCtx,
    body: DecisionIn,
    kind: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if body.reason.trim().is_empty() {
        return Err(ApiError::BadRequest(format!("an {kind} needs a reason")));
    }
    if let Some(problem) = comply_core::name::text_problem("reason", &body.reason, 4096, true) {
        return Err(ApiError::BadRequest(problem));
    }
    let forced = match (kind, body.status.as_deref()) {
        ("override", Some(s @ ("passed" | "failed"))) => Some(s.to_owned()),
        ("override", other) => {
            return Err(ApiError::BadRequest(format!(
                "an override forces status passed or failed, not {}",
                other.unwrap_or("nothing")
            )));
        }
        (_, Some(_)) => {
            return Err(ApiError::BadRequest("an exception has no status".into()));
        }
        _ => None,
    };
    let now = now_ms();
    let expires_at = body
        .expires
        .as_deref()
        .map(|t| parse_time(t, "expires"))
        .transpose()?;
    if expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::BadRequest("expires is in the past".into()));
    }
    let (cell, _) = check_cell(
        state,
        ctx,
        &body.product,
        &body.version,
        body.project.as_deref(),
        &body.requirement,
    )
    .await?;
    let row = state
        .store
        .add_decision(
            ctx.org.id,
            &NewDecision {
                kind: kind.into(),
                product: cell.product,
                product_version: cell.version,
                project: cell.project,
                requirement: cell.requirement,
                forced_status: forced,
                reason: body.reason,
                expires_at,
                needs_approval: ctx.org.settings.decision_approval,
            },
            &ctx.principal.actor(),
            now,
        )
        .await?;
    state.webhook_nudge.notify_one();
    Ok((StatusCode::CREATED, Json(decision_view(&row, now))))
}

pub async fn create_exception(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<DecisionIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create_decision(&state, &ctx, body, "exception").await
}

pub async fn set_override(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<DecisionIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create_decision(&state, &ctx, body, "override").await
}

/// A listing's product and version filters must name a product and one of its versions.
async fn check_product_filter(
    state: &AppState,
    ctx: &OrgCtx,
    q: &ProductQuery,
) -> Result<(), ApiError> {
    let Some(product) = &q.product else {
        if q.version.is_some() {
            return Err(ApiError::BadRequest(
                "a version filter needs a product (--product)".into(),
            ));
        }
        return Ok(());
    };
    let catalog = OrgCatalog::get(state, ctx.org.id).await?;
    let Some(p) = catalog.products.get(product) else {
        return Err(no_such(
            "product",
            product,
            &format!("org {}", ctx.org.name),
            catalog.products.keys().map(String::as_str),
        ));
    };
    if let Some(v) = &q.version {
        version_of(p, Some(v))?;
    }
    Ok(())
}

async fn list_decisions(
    state: &AppState,
    ctx: &OrgCtx,
    q: &ProductQuery,
    kind: &str,
) -> Result<Json<Vec<Value>>, ApiError> {
    check_product_filter(state, ctx, q).await?;
    let now = now_ms();
    let rows = state
        .store
        .list_decisions(ctx.org.id, q.product.as_deref(), q.version.as_deref())
        .await?;
    Ok(Json(
        rows.iter()
            .filter(|d| d.kind == kind)
            .map(|d| decision_view(d, now))
            .collect(),
    ))
}

pub async fn list_exceptions(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<ProductQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    list_decisions(&state, &ctx, &q, "exception").await
}

pub async fn list_overrides(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<ProductQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    list_decisions(&state, &ctx, &q, "override").await
}

async fn end(
    state: &AppState,
    ctx: &OrgCtx,
    id: &str,
    kind: &str,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("'{id}' is not an {kind} id")))?;
    let now = now_ms();
    match state
        .store
        .end_decision(ctx.org.id, id, kind, &ctx.principal.actor(), now)
        .await?
    {
        Some(d) => Ok(Json(decision_view(&d, now))),
        None => Err(ApiError::NotFound(format!("no active {kind} {id}"))),
    }
}

/// Four eyes: a second admin or owner approves or rejects a waiting decision.
async fn approval(
    state: &AppState,
    ctx: &OrgCtx,
    id: &str,
    kind: &str,
    approve: bool,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("'{id}' is not an {kind} id")))?;
    let now = now_ms();
    match state
        .store
        .decide_approval(ctx.org.id, id, kind, approve, &ctx.principal.actor(), now)
        .await?
    {
        Some(d) => {
            state.webhook_nudge.notify_one();
            Ok(Json(decision_view(&d, now)))
        }
        None => Err(ApiError::NotFound(format!("no {kind} {id}"))),
    }
}

pub async fn approve_exception(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    approval(&state, &ctx, &id, "exception", true).await
}

pub async fn reject_exception(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    approval(&state, &ctx, &id, "exception", false).await
}

pub async fn approve_override(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    approval(&state, &ctx, &id, "override", true).await
}

pub async fn reject_override(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    approval(&state, &ctx, &id, "override", false).await
}

pub async fn revoke_exception(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    end(&state, &ctx, &id, "exception").await
}

pub async fn clear_override(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    end(&state, &ctx, &id, "override").await
}
