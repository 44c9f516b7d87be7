//! Declarative resources: apply, list, get, delete, duplicate, lifecycle.

use crate::auth::OrgCtx;
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use comply_core::apply;
use comply_core::resource::{Kind, Resource};
use comply_store::StoredResource;
use serde::Deserialize;
use serde_json::{Value, json};

/// Annotation that marks a built-in framework as in preview.
pub const PREVIEW_ANNOTATION: &str = "comply.dev/preview";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    documents: Vec<DocumentIn>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentIn {
    file: String,
    content: String,
    /// What the CLI read for this file from files or URLs (decision 0023); the server
    /// never reads or fetches them itself.
    #[serde(default)]
    sources: comply_core::resource::FileContext,
}

pub async fn apply(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(request): Body<ApplyRequest>,
) -> Result<Json<Value>, ApiError> {
    if request.documents.is_empty() {
        return Err(ApiError::BadRequest("no documents to apply".into()));
    }
    let (parsed, diagnostics) = comply_policy::validate::parse_and_compile_with(
        request
            .documents
            .iter()
            .map(|d| (d.file.as_str(), d.content.as_str(), &d.sources)),
        &ctx.org.name,
    );
    let mut diagnostics = diagnostics;
    if !ctx.org.settings.in_preview_frameworks {
        diagnostics.extend(preview_attachments(&state, &ctx, &parsed).await?);
    }
    if !diagnostics.is_empty() {
        return Err(ApiError::Invalid(diagnostics));
    }
    if parsed.is_empty() {
        return Err(ApiError::BadRequest(
            "the files hold no YAML documents".into(),
        ));
    }
    let outcome = state
        .store
        .apply(
            ctx.org.id,
            &ctx.principal.actor(),
            now_ms(),
            request.dry_run,
            |known| apply::plan(parsed, known),
        )
        .await?;
    let changes = outcome.map_err(ApiError::Invalid)?;
    let results: Vec<Value> = changes
        .iter()
        .map(|c| {
            json!({
                "kind": c.resource.kind(),
                "name": c.resource.name(),
                "action": c.action,
                "revision": c.revision,
                "digest": c.digest,
                "shadows_builtin": c.shadows_builtin,
            })
        })
        .collect();
    Ok(Json(
        json!({"dry_run": request.dry_run, "results": results}),
    ))
}

/// Products may attach a preview framework only when the org has enabled previews.
/// A framework defined in the same invocation is the org's own, never a preview.
async fn preview_attachments(
    state: &AppState,
    ctx: &OrgCtx,
    parsed: &[comply_core::resource::ParsedDocument],
) -> Result<Vec<comply_core::Diagnostic>, ApiError> {
    let mut out = Vec::new();
    for doc in parsed {
        if doc.resource.kind() != Kind::Product {
            continue;
        }
        for r in doc.refs.iter().filter(|r| r.kind == Kind::Framework) {
            let defined_here = parsed
                .iter()
                .any(|d| d.resource.kind() == Kind::Framework && d.resource.name() == r.name);
            if defined_here {
                continue;
            }
            if let Some(stored) = state
                .store
                .get_resource(ctx.org.id, Kind::Framework, &r.name)
                .await?
                && is_preview(&stored)
            {
                out.push(comply_core::Diagnostic::new(
                    &doc.file,
                    r.pos.line,
                    r.pos.column,
                    format!(
                        "framework '{}' is in preview; an owner must enable in-preview frameworks (comply org settings --in-preview-frameworks on) before a product can attach it",
                        r.name
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn is_preview(r: &StoredResource) -> bool {
    r.builtin && r.document["metadata"]["annotations"][PREVIEW_ANNOTATION].as_str() == Some("true")
}

fn summary(r: &StoredResource) -> Result<Value, ApiError> {
    let resource = r.resource()?;
    let metadata = resource.metadata();
    let mut view = json!({
        "name": r.name,
        "builtin": r.builtin,
        "shadows_builtin": r.shadows_builtin,
        "displayName": metadata.display_name,
        "revision": r.revision,
        "updated_at": fmt_time(r.updated_at),
    });
    match &resource {
        Resource::Requirement(req) => {
            view["active"] = json!(r.active);
            view["scope"] = json!(req.scope());
            view["policies"] = json!(req.spec.policies.len());
            view["manual_proofs"] = json!(req.spec.manual_proofs.len());
        }
        Resource::Framework(fw) => {
            view["preview"] = json!(is_preview(r));
            view["requirements"] = json!(fw.spec.all_refs().count());
        }
        Resource::Policy(p) => {
            let kinds: Vec<&str> = p
                .spec
                .policies
                .iter()
                .map(|s| s.kind.as_deref().unwrap_or("ANY"))
                .collect();
            view["kinds"] = json!(kinds);
            view["inputs"] = json!(p.spec.inputs.iter().map(|i| &i.name).collect::<Vec<_>>());
            view["description"] = json!(metadata.description);
        }
        Resource::PolicyGroup(g) => {
            view["policies"] = json!(g.attachments().count());
            view["inputs"] = json!(g.spec.inputs.iter().map(|i| &i.name).collect::<Vec<_>>());
            view["description"] = json!(metadata.description);
        }
        Resource::Contract(c) => {
            view["materials"] = json!(c.spec.materials.len());
            view["policies"] = json!(c.attachments().count());
            view["policy_groups"] = json!(c.spec.policy_groups.len());
            view["description"] = json!(metadata.description);
        }
        Resource::Product(p) => {
            view["projects"] = json!(p.spec.projects);
            view["versions"] = json!(p.spec.versions.iter().map(|v| &v.name).collect::<Vec<_>>());
            view["description"] = json!(metadata.description);
        }
    }
    Ok(view)
}

fn visible(ctx: &OrgCtx, r: &StoredResource) -> bool {
    ctx.org.settings.in_preview_frameworks || !is_preview(r)
}

pub async fn list(
    kind: Kind,
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = state.store.list_resources(ctx.org.id, kind).await?;
    Ok(Json(
        rows.iter()
            .filter(|r| visible(&ctx, r))
            .map(summary)
            .collect::<Result<_, _>>()?,
    ))
}

fn not_found(kind: Kind, name: &str) -> ApiError {
    ApiError::NotFound(format!("{kind}/{name} does not exist"))
}

pub async fn get(
    kind: Kind,
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let r = state
        .store
        .get_resource(ctx.org.id, kind, &name)
        .await?
        .filter(|r| visible(&ctx, r))
        .ok_or_else(|| not_found(kind, &name))?;
    let mut view = summary(&r)?;
    view["kind"] = json!(kind);
    view["digest"] = json!(r.digest);
    view["created_at"] = json!(fmt_time(r.created_at));
    view["document"] = r.document.clone();
    Ok(Json(view))
}

pub async fn delete(
    kind: Kind,
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_resource(ctx.org.id, kind, &name, &ctx.principal.actor(), now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRequest {
    #[serde(rename = "as")]
    new_name: String,
}

pub async fn duplicate(
    kind: Kind,
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Body(body): Body<DuplicateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if let Some(source) = state.store.get_resource(ctx.org.id, kind, &name).await?
        && !visible(&ctx, &source)
    {
        return Err(not_found(kind, &name));
    }
    let change = state
        .store
        .duplicate_resource(
            ctx.org.id,
            kind,
            &name,
            &body.new_name,
            &ctx.principal.actor(),
            now_ms(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "kind": kind,
            "name": change.resource.name(),
            "action": change.action,
            "revision": change.revision,
            "shadows_builtin": change.shadows_builtin,
        })),
    ))
}

pub async fn set_active(
    active: bool,
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let changed = state
        .store
        .set_requirement_active(ctx.org.id, &name, active, &ctx.principal.actor(), now_ms())
        .await?;
    Ok(Json(
        json!({"name": name, "active": active, "changed": changed}),
    ))
}
