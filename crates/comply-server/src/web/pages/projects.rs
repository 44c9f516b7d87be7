//! Projects: the list; a project's versions, workflows, the frameworks that reach a
//! version through its products, and its latest attestations with their policy
//! evaluations (violations, skip reasons).

use crate::api::Method;
use crate::routes::{compliance, evidence};
use crate::state::AppState;
use crate::web::call::{input, org, output};
use crate::web::layout::{
    Nav, PAGE_ROWS, Paging, page, page_number, pager, query, seg, thousands, when,
};
use crate::web::pages::product::{product_href, score_text};
use crate::web::{Pages, Web, WebError};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use comply_core::Role;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// How many attestations the project page opens, newest first.
const LATEST: usize = 5;

pub fn register(p: Pages) -> Pages {
    p.page(
        Method::GET,
        "/projects",
        Some(Role::Viewer),
        "Projects with their versions and workflows, a page at a time (query: q, page).",
        list_page,
    )
    .page(
        Method::GET,
        "/projects/{name}",
        Some(Role::Viewer),
        "A project: versions, workflows, frameworks through its products, latest attestations and their evaluations (query: version).",
        project_page,
    )
}

#[derive(Deserialize)]
struct ProjectView {
    name: String,
    latest: Option<String>,
    version_details: Vec<VersionView>,
    workflows: Vec<WorkflowView>,
}

#[derive(Deserialize)]
struct VersionView {
    version: String,
    prerelease: bool,
    released_at: Option<String>,
    created_at: String,
    last_attested_at: String,
    latest: bool,
}

#[derive(Deserialize)]
struct WorkflowView {
    name: String,
    contract: Option<String>,
    #[serde(default)]
    contract_explicit: bool,
}

#[derive(Deserialize)]
struct AttestationView {
    digest: String,
    version: String,
    workflow: Option<String>,
    finished_at: String,
    #[serde(default)]
    signer: Option<String>,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    evaluations: Vec<EvaluationView>,
}

#[derive(Deserialize)]
struct EvaluationView {
    policy: String,
    material: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, String>,
    #[serde(default)]
    violations: Value,
    skipped: bool,
    #[serde(default)]
    skip_reasons: Vec<String>,
    #[serde(default)]
    requirements: Vec<String>,
}

#[derive(Deserialize)]
struct ProjectStatus {
    version: String,
    products: Vec<ProductReach>,
}

#[derive(Deserialize)]
struct ProductReach {
    product: String,
    product_version: String,
    frameworks: Vec<String>,
    score: Option<f64>,
    compliant: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// Part of the name.
    #[serde(default)]
    q: String,
    /// The page, from 1 (decision 0038).
    page: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let asked = page_number(q.page.as_deref())?;
    let needle = q.q.trim();
    // One read of this page's rows and the count; a page past the last is read again as
    // the last (the count says which that is).
    let (st, ctx) = (&state, &web.ctx);
    let read = move |offset: u64| evidence::projects_page(st, ctx, needle, PAGE_ROWS, offset);
    let (mut rows, total) = read((asked - 1).saturating_mul(PAGE_ROWS)).await?;
    let paging = Paging::new(asked, total);
    if paging.past.is_some() && total > 0 {
        rows = read(paging.offset()).await?.0;
    }
    let shown: Vec<ProjectView> = rows
        .into_iter()
        .map(|v| output(axum::Json(v)))
        .collect::<Result<_, _>>()?;
    let kept = [("q", needle)];
    let body = html! {
        div.head { h1 { "Projects" } p.sub { (thousands(total)) @if total == 1 { " project" } @else { " projects" }
            @if !needle.is_empty() { " whose name contains " code { (needle) } } " · created by the first attestation that names them" } }
        form.filters method="get" action="/projects" role="search" aria-label="Project filters" {
            div.field { label for="pq" { "Name contains" } input #pq type="search" name="q" value=(needle) autocomplete="off"; }
            button type="submit" { "Apply" }
            @if !needle.is_empty() { a href="/projects" { "Clear" } }
        }
        @if total == 0 && needle.is_empty() {
            p.empty { "No project yet. Push an attestation (" code { "comply attestation push" } " or " code { "comply attest push" } ") and its project appears here." }
        } @else if total == 0 {
            p.empty { "No project's name contains " code { (needle) } "." }
        } @else {
            (pager("/projects", &kept, &paging, "project"))
            table.grid {
                thead { tr { th scope="col" { "Project" } th scope="col" { "Latest version" } th scope="col" { "Versions" }
                    th scope="col" { "Workflows" } th scope="col" { "Last attested" } } }
                tbody { @for p in &shown { tr {
                    th scope="row" { a href={ "/projects/" (seg(&p.name)) } { (p.name) } }
                    td { (p.latest.as_deref().unwrap_or("–")) }
                    td.num { (p.version_details.len()) }
                    td { @for w in &p.workflows { span.tag { (w.name) } " " } }
                    td { @match p.version_details.iter().map(|v| v.last_attested_at.as_str()).max() { Some(t) => (when(t)), None => "–" } }
                } } }
            }
            @if paging.pages > 1 { (pager("/projects", &kept, &paging, "project")) }
        }
    };
    Ok(page(&web, Nav::Projects, "Projects", body).into_response())
}

#[derive(Deserialize, Default)]
pub struct ProjectQuery {
    version: Option<String>,
}

fn violations(v: &Value) -> Vec<(String, bool)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            let message = x["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| x.to_string());
            (message, x["suppressed"].as_bool().unwrap_or(false))
        })
        .collect()
}

fn evaluation_row(e: &EvaluationView) -> Markup {
    let found = violations(&e.violations);
    let open = found.iter().filter(|(_, s)| !s).count();
    html! {
        tr {
            th scope="row" { code { (e.policy) } }
            td { (e.material.as_deref().unwrap_or("–")) }
            td { @if e.with.is_empty() { span.muted { "none" } } @else { dl.kv { @for (k, v) in &e.with { dt { (k) } dd { code { (v) } } } } } }
            td {
                @if e.skipped { span.chip.s-no_data { "SKIPPED" } }
                @else if open == 0 { span.chip.s-passed { "NO VIOLATION" } }
                @else { span.chip.s-failed { (open) " VIOLATION" @if open > 1 { "S" } } }
            }
            td.small {
                @if e.skipped {
                    @if e.skip_reasons.is_empty() { span.muted { "no reason given" } }
                    ul.plain { @for r in &e.skip_reasons { li { (r) } } }
                }
                @if !found.is_empty() {
                    ul.plain { @for (m, suppressed) in found.iter().take(20) {
                        li { (m) @if *suppressed { " " span.badge { "suppressed" } } }
                    } }
                    @if found.len() > 20 { p.muted { "… and " (found.len() - 20) " more" } }
                }
                @if !e.requirements.is_empty() { p.muted { "for " @for r in &e.requirements { code { (r) } " " } } }
            }
        }
    }
}

async fn project_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Query(q): Query<ProjectQuery>,
) -> Result<Response, WebError> {
    let project: ProjectView = match evidence::get_project(
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((org(&web.ctx), name.clone())),
    )
    .await
    {
        Ok(answer) => output(answer)?,
        Err(crate::ApiError::NotFound(m)) => return awaited(&state, &web, &name, m).await,
        Err(e) => return Err(WebError(e)),
    };
    let version = q.version.clone().filter(|v| !v.is_empty());
    let reach: ProjectStatus = output(
        compliance::project_status(
            State(state.clone()),
            Extension(web.ctx.clone()),
            Path((org(&web.ctx), name.clone())),
            Query(input(json!({ "version": version }))?),
        )
        .await?,
    )?;
    let shown = reach.version.clone();
    let listed: Vec<Value> = output(
        evidence::list_attestations(
            State(state.clone()),
            Extension(web.ctx.clone()),
            Query(input(
                json!({"project": name, "version": shown, "limit": LATEST}),
            )?),
        )
        .await?,
    )?;
    let mut attestations: Vec<AttestationView> = Vec::new();
    for a in &listed {
        let Some(digest) = a["digest"].as_str() else {
            continue;
        };
        attestations.push(output(
            evidence::get_attestation(
                State(state.clone()),
                Extension(web.ctx.clone()),
                Path((org(&web.ctx), digest.to_owned())),
            )
            .await?,
        )?);
    }
    let mut versions: Vec<&VersionView> = project.version_details.iter().collect();
    versions.sort_by(|a, b| b.last_attested_at.cmp(&a.last_attested_at));
    let body = html! {
        div.head {
            p.crumbs { a href="/projects" { "Projects" } " › " (project.name) }
            h1 { (project.name) @if !shown.is_empty() { " " span.ver { (shown) } } }
            p.sub { "latest version: " (project.latest.as_deref().unwrap_or("none")) }
        }
        div.columns {
            section.card aria-labelledby="w-h" {
                h2 #w-h { "Workflows" }
                @if project.workflows.is_empty() { p.muted { "No workflow." } }
                ul.plain { @for w in &project.workflows { li {
                    strong { (w.name) } " — contract "
                    @match &w.contract { Some(c) => { code { (c) } @if w.contract_explicit { " " span.badge { "set explicitly" } } @else { " " span.badge { "from its latest attestation" } } }, None => span.muted { "none" } }
                } } }
            }
            section.card aria-labelledby="f-h" {
                h2 #f-h { "Frameworks through products" }
                @if reach.products.is_empty() { p.muted { "No product version uses this version of the project." } }
                ul.plain { @for r in &reach.products { li {
                    a href=(product_href(&r.product, &r.product_version, None)) { (r.product) " " (r.product_version) }
                    " · " @for f in &r.frameworks { a.tag href={ "/frameworks/" (seg(f)) } { (f) } " " }
                    " · project score " span.num { (score_text(r.score)) } " "
                    @if r.compliant { span.chip.s-passed { "compliant" } } @else { span.chip.s-failed { "not compliant" } }
                } } }
                // Product-scoped requirements have product-level cells, not this
                // project's (decision 0038).
                @if !reach.products.is_empty() { p.muted.small { "Scores count this project's cells; product-level requirements are on each product version's page." } }
            }
        }
        section.card.block aria-labelledby="v-h" {
            h2 #v-h { "Versions" }
            table.grid {
                thead { tr { th scope="col" { "Version" } th scope="col" { "State" } th scope="col" { "First seen" } th scope="col" { "Last attested" } } }
                tbody { @for v in &versions { tr {
                    th scope="row" {
                        a href={ "/projects/" (seg(&project.name)) "?" (query(&[("version", &v.version)])) }
                          aria-current=[(v.version == shown).then_some("page")] { (v.version) }
                        @if v.latest { " " span.badge { "latest" } }
                    }
                    td { @if v.prerelease { "prerelease" } @else { "released " @if let Some(r) = &v.released_at { (when(r)) } } }
                    td { (when(&v.created_at)) }
                    td { (when(&v.last_attested_at)) }
                } } }
            }
        }
        section aria-labelledby="a-h" {
            h2 #a-h { "Latest attestations" @if !shown.is_empty() { " of " (shown) } }
            @if attestations.is_empty() { p.empty { "No attestation for this version." } }
            @for a in &attestations {
                div.card.attestation {
                    h3 { code.digest { (a.digest) } }
                    p.muted.small {
                        "version " (a.version) @if let Some(w) = &a.workflow { " · workflow " (w) }
                        " · finished " (when(&a.finished_at)) " · "
                        @if a.verified { "signed by " (a.signer.as_deref().unwrap_or("a trusted key")) } @else { span.chip.s-no_data { "UNSIGNED" } }
                    }
                    @if a.evaluations.is_empty() { p.muted { "No policy evaluation." } } @else {
                        table.grid {
                            thead { tr { th scope="col" { "Policy" } th scope="col" { "Material" } th scope="col" { "Arguments" } th scope="col" { "Result" } th scope="col" { "Violations and skip reasons" } } }
                            tbody { @for e in &a.evaluations { (evaluation_row(e)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&web, Nav::Projects, &project.name, body).into_response())
}

/// A project a product lists but no attestation or workflow has named yet: the
/// products waiting for it, rather than a dead end. Any other name is not found.
async fn awaited(
    state: &AppState,
    web: &Web,
    name: &str,
    not_found: String,
) -> Result<Response, WebError> {
    let catalog = crate::routes::OrgCatalog::get(state, web.ctx.org.id).await?;
    let waiting: Vec<&str> = catalog
        .products
        .values()
        .filter(|p| p.spec.projects.iter().any(|x| x == name))
        .map(|p| p.metadata.name.as_str())
        .collect();
    if waiting.is_empty() {
        return Err(WebError(crate::ApiError::NotFound(not_found)));
    }
    let body = html! {
        div.head {
            p.crumbs { a href="/projects" { "Projects" } " › " (name) }
            h1 { (name) }
        }
        p.empty {
            "No attestation has named " strong { (name) } " yet. Its cells show NO_DATA until one arrives ("
            code { "comply attest push" } " or " code { "comply attestation push" } ")."
        }
        section.card aria-labelledby="wp-h" {
            h2 #wp-h { "Products listing it" }
            ul.plain { @for p in &waiting { li { a href={ "/products/" (seg(p)) } { (p) } } } }
        }
    };
    Ok(page(web, Nav::Projects, name, body).into_response())
}
