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
use std::collections::HashSet;

/// Annotation that marks a built-in framework as in preview.
pub const PREVIEW_ANNOTATION: &str = "comply.dev/preview";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    documents: Vec<DocumentIn>,
    #[serde(default)]
    dry_run: bool,
    /// Set by a command that edited a document for the user (`applicability set`,
    /// `product pin`, …): the change is audited as what it is, and problems speak of
    /// the command, not of the lines of a document the user never saw.
    #[serde(default)]
    change: Option<ChangeIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeIn {
    /// The audit action, one of [`COMMAND_ACTIONS`].
    action: String,
    /// The command as the user gave it, e.g. `applicability set --product portal …`.
    command: String,
}

/// The audit actions of commands that edit a Product document.
pub const COMMAND_ACTIONS: &[&str] = &[
    "product.created",
    "product.project.added",
    "product.version.created",
    "product.version.deleted",
    "product.pinned",
    "product.framework.attached",
    "product.framework.detached",
    "applicability.set",
];

/// Problems of a command-made document: the command and the message, no line and
/// column of the generated text.
fn of_command(change: &ChangeIn, diagnostics: Vec<comply_core::Diagnostic>) -> ApiError {
    ApiError::Invalid(
        diagnostics
            .into_iter()
            .map(|d| {
                comply_core::Diagnostic::new(&format!("comply {}", change.command), 0, 0, d.message)
            })
            .collect(),
    )
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
    if let Some(c) = &request.change {
        if !COMMAND_ACTIONS.contains(&c.action.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "change action '{}' is not one of {}",
                c.action,
                COMMAND_ACTIONS.join(", ")
            )));
        }
        if request.documents.len() != 1 {
            return Err(ApiError::BadRequest(
                "a command changes one document".into(),
            ));
        }
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
        return Err(match &request.change {
            Some(c) => of_command(c, diagnostics),
            None => ApiError::Invalid(diagnostics),
        });
    }
    if parsed.is_empty() {
        return Err(ApiError::BadRequest(
            "the files hold no YAML documents".into(),
        ));
    }
    let builtin_twins = builtin_twins(&state, &ctx, &parsed).await?;
    let warnings = reference_warnings(&state, &ctx, &request.documents, &parsed).await?;
    let outcome = state
        .store
        .apply_as(
            ctx.org.id,
            &ctx.principal.actor(),
            now_ms(),
            request.dry_run,
            request.change.as_ref().map(|c| c.action.as_str()),
            |known| {
                let mut changes = apply::plan(parsed, known)?;
                for c in &mut changes {
                    let key = (c.resource.kind(), c.resource.name().to_owned());
                    if c.action == apply::Action::Created
                        && let Some((digest, revision)) = builtin_twins.get(&key)
                        && *digest == c.digest
                    {
                        c.action = apply::Action::Unchanged;
                        c.revision = *revision;
                        c.shadows_builtin = false;
                    }
                }
                Ok(changes)
            },
        )
        .await?;
    let changes = outcome.map_err(|d| match &request.change {
        Some(c) => of_command(c, d),
        None => ApiError::Invalid(d),
    })?;
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
        json!({"dry_run": request.dry_run, "results": results, "warnings": warnings}),
    ))
}

/// Dangling explicit requirement references in the contracts applied, against the
/// org's frameworks as they will be after this invocation.
async fn reference_warnings(
    state: &AppState,
    ctx: &OrgCtx,
    documents: &[DocumentIn],
    parsed: &[comply_core::resource::ParsedDocument],
) -> Result<Vec<comply_core::Diagnostic>, ApiError> {
    if !parsed.iter().any(|d| d.resource.kind() == Kind::Contract) {
        return Ok(Vec::new());
    }
    let catalog = crate::catalog::OrgCatalog::get(state, ctx.org.id).await?;
    let mut frameworks = catalog.frameworks.clone();
    for d in parsed {
        if let Resource::Framework(f) = &d.resource {
            frameworks.insert(
                f.metadata.name.clone(),
                f.spec.all_refs().map(|r| r.reference.clone()).collect(),
            );
        }
    }
    Ok(documents
        .iter()
        .flat_map(|d| {
            super::references::contract_warnings(&d.file, &d.content, &ctx.org.name, &frameworks)
        })
        .collect())
}

/// The built-in resources the documents name, when the org has no resource of its own
/// by that name: (kind, name) to (digest, revision). A document equal to the built-in
/// one (`describe -o schema` of a built-in, applied back) changes nothing; it must not
/// create a custom copy that shadows the built-in and stops following its updates.
async fn builtin_twins(
    state: &AppState,
    ctx: &OrgCtx,
    parsed: &[comply_core::resource::ParsedDocument],
) -> Result<std::collections::HashMap<(Kind, String), (String, i64)>, ApiError> {
    let mut out = std::collections::HashMap::new();
    for doc in parsed {
        let (kind, name) = (doc.resource.kind(), doc.resource.name());
        if let Some(stored) = state.store.get_resource(ctx.org.id, kind, name).await?
            && stored.builtin
        {
            out.insert((kind, name.to_owned()), (stored.digest, stored.revision));
        }
    }
    Ok(out)
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
        // What the product attaches already stays attached when previews are turned
        // off: editing the product must not require detaching it (decision 0020).
        let already: HashSet<String> = match state
            .store
            .get_resource(ctx.org.id, Kind::Product, doc.resource.name())
            .await?
            .map(|p| p.resource())
            .transpose()?
        {
            Some(Resource::Product(p)) => p
                .spec
                .versions
                .iter()
                .flat_map(|v| v.frameworks.iter().cloned())
                .collect(),
            _ => HashSet::new(),
        };
        for r in doc
            .refs
            .iter()
            .filter(|r| r.kind == Kind::Framework && !already.contains(&r.name))
        {
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

/// Preview frameworks are hidden while the org has previews off, except those a
/// product still attaches: they stay scored, so they stay visible (decision 0020).
fn visible(ctx: &OrgCtx, attached: &HashSet<String>, r: &StoredResource) -> bool {
    ctx.org.settings.in_preview_frameworks || !is_preview(r) || attached.contains(&r.name)
}

/// Frameworks some product version of the org attaches; empty when previews are on
/// (nothing is hidden then) or for kinds other than frameworks.
async fn attached_frameworks(
    state: &AppState,
    ctx: &OrgCtx,
    kind: Kind,
) -> Result<HashSet<String>, ApiError> {
    if ctx.org.settings.in_preview_frameworks || kind != Kind::Framework {
        return Ok(HashSet::new());
    }
    let catalog = crate::catalog::OrgCatalog::get(state, ctx.org.id).await?;
    Ok(catalog
        .products
        .values()
        .flat_map(|p| p.spec.versions.iter())
        .flat_map(|v| v.frameworks.iter().cloned())
        .collect())
}

pub async fn list(
    kind: Kind,
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = state.store.list_resources(ctx.org.id, kind).await?;
    let attached = attached_frameworks(&state, &ctx, kind).await?;
    Ok(Json(
        rows.iter()
            .filter(|r| visible(&ctx, &attached, r))
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
    let attached = attached_frameworks(&state, &ctx, kind).await?;
    let r = state
        .store
        .get_resource(ctx.org.id, kind, &name)
        .await?
        .filter(|r| visible(&ctx, &attached, r))
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
    let attached = attached_frameworks(&state, &ctx, kind).await?;
    if let Some(source) = state.store.get_resource(ctx.org.id, kind, &name).await?
        && !visible(&ctx, &attached, &source)
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
