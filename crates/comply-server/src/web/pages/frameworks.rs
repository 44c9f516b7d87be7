//! Frameworks: the list with built-in / custom / preview ("lab") badges; a framework's
//! sections as a tree with their requirements; duplicate; delete a custom one.

use crate::api::Method;
use crate::routes::resources;
use crate::state::AppState;
use crate::web::call::{input, org, output};
use crate::web::error::describe;
use crate::web::layout::{Html, Nav, csrf_field, field_error, notice, page, seg};
use crate::web::{Pages, Web, WebError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use comply_core::Role;
use comply_core::resource::{FrameworkSpec, Kind, Metadata, Section};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn register(p: Pages) -> Pages {
    p.page(
        Method::GET,
        "/frameworks",
        Some(Role::Viewer),
        "Frameworks: built-in, custom and in preview.",
        list_page,
    )
    .page(
        Method::GET,
        "/frameworks/{name}",
        Some(Role::Viewer),
        "A framework: its sections as a tree with their requirements.",
        framework_page,
    )
    .page(
        Method::POST,
        "/frameworks/{name}/duplicate",
        Some(Role::Admin),
        "Copy a framework into a new custom one.",
        duplicate,
    )
    .page(
        Method::POST,
        "/frameworks/{name}/delete",
        Some(Role::Admin),
        "Delete a custom framework.",
        delete,
    )
}

#[derive(Deserialize)]
pub struct FrameworkSummary {
    pub name: String,
    pub builtin: bool,
    #[serde(default)]
    pub preview: bool,
    #[serde(default)]
    pub shadows_builtin: bool,
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub requirements: usize,
}

/// What the requirement list answers, as far as pages read it.
#[derive(Deserialize, Clone)]
pub struct RequirementSummary {
    pub name: String,
    pub builtin: bool,
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub policies: usize,
    #[serde(default)]
    pub manual_proofs: usize,
}

fn yes() -> bool {
    true
}

/// "built-in" or "custom", and "lab" for in-preview frameworks, as the brief names them.
pub fn badges(builtin: bool, preview: bool) -> Markup {
    html! {
        span.badge { @if builtin { "built-in" } @else { "custom" } }
        @if preview { " " span.badge.lab title="in preview" { "lab" } }
    }
}

pub async fn frameworks(state: &AppState, web: &Web) -> Result<Vec<FrameworkSummary>, WebError> {
    Ok(output(
        resources::list(
            Kind::Framework,
            State(state.clone()),
            Extension(web.ctx.clone()),
        )
        .await?,
    )?)
}

pub async fn requirements(
    state: &AppState,
    web: &Web,
) -> Result<Vec<RequirementSummary>, WebError> {
    Ok(output(
        resources::list(
            Kind::Requirement,
            State(state.clone()),
            Extension(web.ctx.clone()),
        )
        .await?,
    )?)
}

/// One stored resource as the API's `get` answers it.
#[derive(Deserialize)]
pub struct ResourceView {
    pub builtin: bool,
    #[serde(default)]
    pub preview: bool,
    #[serde(default)]
    pub shadows_builtin: bool,
    #[serde(default = "yes")]
    pub active: bool,
    pub revision: i64,
    pub updated_at: String,
    pub document: Value,
}

pub async fn resource(
    state: &AppState,
    web: &Web,
    kind: Kind,
    name: &str,
) -> Result<ResourceView, WebError> {
    Ok(output(
        resources::get(
            kind,
            State(state.clone()),
            Extension(web.ctx.clone()),
            Path((org(&web.ctx), name.to_owned())),
        )
        .await?,
    )?)
}

pub fn metadata(doc: &Value) -> Result<Metadata, WebError> {
    serde_json::from_value(doc["metadata"].clone())
        .map_err(|e| WebError(crate::ApiError::Internal(format!("stored metadata: {e}"))))
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

const DONE: &[(&str, &str)] = &[
    (
        "duplicated",
        "Framework duplicated: this is the new custom copy.",
    ),
    ("deleted", "Framework deleted."),
];

async fn list_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let mut all = frameworks(&state, &web).await?;
    all.sort_by(|a, b| (a.builtin, &a.name).cmp(&(b.builtin, &b.name)));
    let previews = web.ctx.org.settings.in_preview_frameworks;
    let body = html! {
        div.head {
            h1 { "Frameworks" }
            p.sub { (all.len()) " frameworks · custom ones first"
                @if !previews { " · in-preview frameworks are hidden (an owner can show them under Settings)" } }
        }
        (notice(q.done.as_deref(), DONE))
        table.grid {
            thead { tr { th scope="col" { "Framework" } th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Requirements" } } }
            tbody {
                @for f in &all {
                    tr {
                        th scope="row" { a href={ "/frameworks/" (seg(&f.name)) } { (f.display_name.as_deref().unwrap_or(&f.name)) } }
                        td { code { (f.name) } }
                        td { (badges(f.builtin, f.preview)) @if f.shadows_builtin { " " span.badge title="has the name of a built-in framework" { "shadows built-in" } } }
                        td.num { (f.requirements) }
                    }
                }
            }
        }
    };
    Ok(page(&web, Nav::Frameworks, "Frameworks", body).into_response())
}

/// Errors of the page's forms, shown next to the form that failed.
#[derive(Default)]
struct FormErrors {
    duplicate: Option<String>,
    delete: Option<String>,
    new_name: String,
}

async fn framework_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    render(
        &state,
        &web,
        &name,
        q.done.as_deref(),
        FormErrors::default(),
    )
    .await
    .map(IntoResponse::into_response)
}

/// A requirement reference's name (`name@version` or `org/name` as written).
fn ref_name(reference: &str) -> &str {
    let r = reference.split('@').next().unwrap_or(reference);
    r.rsplit('/').next().unwrap_or(r)
}

fn requirement_item(reference: &str, known: &HashMap<&str, &RequirementSummary>) -> Markup {
    let name = ref_name(reference);
    html! {
        li.req {
            @match known.get(name) {
                Some(r) => {
                    a href={ "/requirements/" (seg(name)) } { (r.display_name.as_deref().unwrap_or(name)) }
                    @if r.display_name.as_deref().is_some_and(|d| d != name) { " " code { (name) } }
                    " " span.badge { (r.scope.to_lowercase()) }
                    @if !r.active { " " span.chip.s-inactive { "INACTIVE" } }
                }
                None => { code { (reference) } " " span.muted { "(no such requirement)" } }
            }
        }
    }
}

fn tree(sections: &[Section], known: &HashMap<&str, &RequirementSummary>, depth: usize) -> Markup {
    html! {
        ul.tree {
            @for s in sections {
                li.section {
                    // h3 for top-level sections, h4 below: the outline stays a tree.
                    @let n = s.count();
                    @let count = html! { span.count { (n) @if n == 1 { " requirement" } @else { " requirements" } } };
                    @if depth == 0 { h3 { (s.name) " " (count) } }
                    @else { h4 { (s.name) " " (count) } }
                    @if let Some(d) = &s.description { p.muted.small { (d) } }
                    @if !s.requirements.is_empty() {
                        ul.reqs { @for r in &s.requirements { (requirement_item(&r.reference, known)) } }
                    }
                    @if !s.sections.is_empty() { (tree(&s.sections, known, depth + 1)) }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    web: &Web,
    name: &str,
    done: Option<&str>,
    errors: FormErrors,
) -> Result<(StatusCode, Html), WebError> {
    let view = resource(state, web, Kind::Framework, name).await?;
    let meta = metadata(&view.document)?;
    let spec: FrameworkSpec = serde_json::from_value(view.document["spec"].clone())
        .map_err(|e| WebError(crate::ApiError::Internal(format!("stored framework: {e}"))))?;
    let reqs = requirements(state, web).await?;
    let known: HashMap<&str, &RequirementSummary> =
        reqs.iter().map(|r| (r.name.as_str(), r)).collect();
    let admin = web.can(Role::Admin);
    let code = if errors.duplicate.is_some() || errors.delete.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = meta.display_name.clone().unwrap_or_else(|| name.to_owned());
    let body = html! {
        div.head {
            p.crumbs { a href="/frameworks" { "Frameworks" } " › " (name) }
            h1 { (title) " " (badges(view.builtin, view.preview))
                @if view.shadows_builtin { " " span.badge title="has the name of a built-in framework, which it hides" { "shadows built-in" } } }
            p.sub { code { (name) } " · revision " (view.revision) " · " (spec.all_refs().count()) " requirements · updated " (crate::web::layout::when(&view.updated_at)) }
            @if let Some(d) = &meta.description { p { (d) } }
        }
        (notice(done, DONE))
        div.columns.wide {
            section.card aria-labelledby="tree-h" {
                h2 #tree-h { "Sections and requirements" }
                @if spec.requirements.is_empty() && spec.sections.is_empty() { p.muted { "This framework lists no requirement." } }
                @if !spec.requirements.is_empty() {
                    ul.reqs { @for r in &spec.requirements { (requirement_item(&r.reference, &known)) } }
                }
                (tree(&spec.sections, &known, 0))
            }
            @if admin {
                section.card.side aria-labelledby="act-h" {
                    h2 #act-h { "Actions" }
                    form method="post" action={ "/frameworks/" (seg(name)) "/duplicate" } {
                        (csrf_field(web))
                        label for="dup-as" { "Duplicate as a new custom framework" }
                        input #dup-as type="text" name="as" required value=(errors.new_name)
                            placeholder={ "e.g. my-" (name) } autocomplete="off"
                            aria-invalid=[errors.duplicate.as_ref().map(|_| "true")]
                            aria-describedby=[errors.duplicate.as_ref().map(|_| "dup-as-error")];
                        (field_error("dup-as", errors.duplicate.as_deref()))
                        button.primary type="submit" { "Duplicate" }
                    }
                    @if !view.builtin {
                        form method="post" action={ "/frameworks/" (seg(name)) "/delete" } hx-confirm={ "Delete framework " (name) "?" } {
                            (csrf_field(web))
                            p.muted.small { "Deleting is refused while a product version attaches this framework." }
                            (field_error("del", errors.delete.as_deref()))
                            button.danger type="submit" { "Delete framework" }
                        }
                    } @else {
                        p.muted.small { "Built-in frameworks cannot be deleted; duplicate one to adapt it." }
                    }
                }
            }
        }
    };
    Ok((code, page(web, Nav::Frameworks, &title, body)))
}

#[derive(Deserialize)]
pub struct DuplicateForm {
    #[serde(rename = "as", default)]
    new_name: String,
}

async fn duplicate(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<DuplicateForm>,
) -> Result<Response, WebError> {
    let new_name = f.new_name.trim().to_owned();
    let outcome = resources::duplicate(
        Kind::Framework,
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((org(&web.ctx), name.clone())),
        crate::error::Body(input(json!({ "as": new_name }))?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(
            Redirect::to(&format!("/frameworks/{}?done=duplicated", seg(&new_name)))
                .into_response(),
        ),
        Err(e) => {
            let (code, message) = describe(&e);
            if matches!(code, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) {
                return Err(WebError(e));
            }
            let errors = FormErrors {
                duplicate: Some(message),
                new_name,
                ..Default::default()
            };
            let (_, html) = render(&state, &web, &name, None, errors).await?;
            Ok((code, html).into_response())
        }
    }
}

async fn delete(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let outcome = resources::delete(
        Kind::Framework,
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((org(&web.ctx), name.clone())),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/frameworks?done=deleted").into_response()),
        Err(e) => {
            let (code, message) = describe(&e);
            if matches!(code, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) {
                return Err(WebError(e));
            }
            let errors = FormErrors {
                delete: Some(message),
                ..Default::default()
            };
            let (_, html) = render(&state, &web, &name, None, errors).await?;
            Ok((code, html).into_response())
        }
    }
}
