//! Requirements: the list; a requirement's details (policies with arguments,
//! periodicity and SLA, manual proofs, its fully qualified names); activate,
//! deactivate, duplicate; the Coverage tab; the edit form of a custom requirement with
//! a live coverage preview of the draft.

use super::frameworks::{RequirementSummary, badges, frameworks, metadata, requirements, resource};
use crate::api::Method;
use crate::routes::{OrgCatalog, coverage, resources};
use crate::state::AppState;
use crate::web::call::{input, org, output};
use crate::web::error::describe;
use crate::web::layout::{
    Html, Nav, PAGE_ROWS, Paging, csrf_field, field_error, notice, page, page_number, pager, query,
    seg, thousands,
};
use crate::web::{Pages, Web, WebError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use comply_core::Role;
use comply_core::resource::{Kind, RequirementSpec, Resource};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn register(p: Pages) -> Pages {
    let admin = Some(Role::Admin);
    p.page(
        Method::GET,
        "/requirements",
        Some(Role::Viewer),
        "Requirements: built-in and custom, with scope and lifecycle.",
        list_page,
    )
    .page(
        Method::GET,
        "/requirements/{name}",
        Some(Role::Viewer),
        "A requirement: details, fully qualified names; with tab=coverage, its Coverage tab (status, assigned, product, page).",
        requirement_page,
    )
    .page(
        Method::POST,
        "/requirements/{name}/lifecycle",
        admin,
        "Activate or deactivate a requirement.",
        lifecycle,
    )
    .page(
        Method::POST,
        "/requirements/{name}/duplicate",
        admin,
        "Copy a requirement into a new custom one.",
        duplicate,
    )
    .page(
        Method::GET,
        "/requirements/{name}/edit",
        admin,
        "The edit form of a custom requirement, with a live coverage preview.",
        edit_page,
    )
    .page(
        Method::POST,
        "/requirements/{name}/edit",
        admin,
        "Save an edited requirement (applied as `comply apply` applies it).",
        save,
    )
    .page(
        Method::POST,
        "/requirements/{name}/preview",
        admin,
        "Coverage of the edited draft, nothing saved.",
        preview,
    )
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
}

async fn list_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let mut all = requirements(&state, &web).await?;
    all.sort_by(|a, b| (a.builtin, &a.name).cmp(&(b.builtin, &b.name)));
    let needle = q.q.trim().to_lowercase();
    let rows: Vec<&RequirementSummary> = all
        .iter()
        .filter(|r| {
            needle.is_empty()
                || r.name.contains(&needle)
                || r.display_name
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(&needle))
        })
        .filter(|r| match q.kind.as_str() {
            "custom" => !r.builtin,
            "builtin" => r.builtin,
            _ => true,
        })
        .collect();
    let body = html! {
        div.head { h1 { "Requirements" } p.sub { (rows.len()) " of " (all.len()) " requirements · custom ones first" } }
        form.filters method="get" action="/requirements" role="search" {
            div.field { label for="q" { "Name" } input #q type="search" name="q" value=(q.q); }
            div.field {
                label for="kind" { "Kind" }
                select #kind name="kind" data-autosubmit {
                    option value="" { "Any" }
                    option value="custom" selected[q.kind == "custom"] { "Custom" }
                    option value="builtin" selected[q.kind == "builtin"] { "Built-in" }
                }
            }
            button type="submit" { "Apply" }
        }
        @if rows.is_empty() { p.empty { "No requirement matches these filters." } } @else {
            table.grid {
                thead { tr { th scope="col" { "Requirement" } th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Scope" }
                    th scope="col" { "Lifecycle" } th scope="col" { "Policies" } th scope="col" { "Proofs" } } }
                tbody { @for r in &rows { tr {
                    th scope="row" { a href={ "/requirements/" (seg(&r.name)) } { (r.display_name.as_deref().unwrap_or(&r.name)) } }
                    td { code { (r.name) } }
                    td { (badges(r.builtin, false)) }
                    td { (r.scope) }
                    td { @if r.active { "active" } @else { span.chip.s-inactive { "INACTIVE" } } }
                    td.num { (r.policies) } td.num { (r.manual_proofs) }
                } } }
            }
        }
    };
    Ok(page(&web, Nav::Requirements, "Requirements", body).into_response())
}

#[derive(Deserialize, Default, Clone)]
pub struct PageQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    status: String,
    /// `assigned`, `unassigned` or empty.
    #[serde(default)]
    assigned: String,
    #[serde(default)]
    product: String,
    /// The Coverage tab's page, from 1 (decision 0038).
    page: Option<String>,
    done: Option<String>,
}

const DONE: &[(&str, &str)] = &[
    ("activated", "Requirement activated."),
    (
        "deactivated",
        "Requirement deactivated: it leaves every score.",
    ),
    (
        "duplicated",
        "Requirement duplicated: this is the new custom copy.",
    ),
    ("saved", "Requirement saved."),
];

#[derive(Default)]
struct FormErrors {
    duplicate: Option<String>,
    lifecycle: Option<String>,
    new_name: String,
}

async fn requirement_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let (code, html) = render(&state, &web, &name, &q, FormErrors::default()).await?;
    Ok((code, html).into_response())
}

fn periodicity(p: Option<comply_core::periodicity::Periodicity>) -> String {
    p.and_then(|p| serde_json::to_value(p).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "–".into())
}

/// The frameworks (visible to the org) that list a requirement.
async fn listing_frameworks(
    state: &AppState,
    web: &Web,
    name: &str,
) -> Result<Vec<String>, WebError> {
    let catalog = OrgCatalog::get(state, web.ctx.org.id).await?;
    let mut out: Vec<String> = frameworks(state, web)
        .await?
        .into_iter()
        .filter(|f| {
            catalog.frameworks.get(&f.name).is_some_and(|refs| {
                refs.iter()
                    .any(|r| r.split('@').next().and_then(|r| r.rsplit('/').next()) == Some(name))
            })
        })
        .map(|f| f.name)
        .collect();
    out.sort();
    Ok(out)
}

async fn render(
    state: &AppState,
    web: &Web,
    name: &str,
    q: &PageQuery,
    errors: FormErrors,
) -> Result<(StatusCode, Html), WebError> {
    let view = resource(state, web, Kind::Requirement, name).await?;
    let meta = metadata(&view.document)?;
    let spec: RequirementSpec =
        serde_json::from_value(view.document["spec"].clone()).map_err(|e| {
            WebError(crate::ApiError::Internal(format!(
                "stored requirement: {e}"
            )))
        })?;
    let scope = view.document["metadata"]["annotations"]["scope"]
        .as_str()
        .unwrap_or("PROJECT")
        .to_uppercase();
    let categories: Vec<String> = view.document["metadata"]["annotations"]["categories"]
        .as_str()
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let listed_in = listing_frameworks(state, web, name).await?;
    let admin = web.can(Role::Admin);
    let coverage_tab = q.tab == "coverage";
    let code = if errors.duplicate.is_some() || errors.lifecycle.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = meta.display_name.clone().unwrap_or_else(|| name.to_owned());
    let base = format!("/requirements/{}", seg(name));
    let tab_body = if coverage_tab {
        coverage_tab_body(state, web, name, q).await?
    } else {
        html! {
            div.columns.wide {
                div {
                    section.card aria-labelledby="pol-h" {
                        h2 #pol-h { "Policies" }
                        @if spec.policies.is_empty() { p.muted { "No policy: proofs alone decide this requirement." } } @else {
                            table.grid {
                                thead { tr { th scope="col" { "Policy" } th scope="col" { "Arguments" } th scope="col" { "Periodicity" } th scope="col" { "SLA" } } }
                                tbody { @for p in &spec.policies { tr {
                                    th scope="row" { code { (p.reference) } }
                                    td { @if p.with.is_empty() { span.muted { "none" } } @else {
                                        dl.kv { @for (k, v) in &p.with { dt { (k) } dd { code { (v) } } } }
                                    } }
                                    td { (periodicity(p.periodicity)) }
                                    td { @match p.sla { Some(h) => { (h) " h" }, None => "–" } }
                                } } }
                            }
                        }
                    }
                    section.card aria-labelledby="mp-h" {
                        h2 #mp-h { "Manual proofs" }
                        @if spec.manual_proofs.is_empty() { p.muted { "No manual proof." } } @else {
                            table.grid {
                                thead { tr { th scope="col" { "Proof" } th scope="col" { "Description" } th scope="col" { "Periodicity" } th scope="col" { "Required" } } }
                                tbody { @for m in &spec.manual_proofs { tr {
                                    th scope="row" { code { (m.name) } }
                                    td { (m.description.as_deref().unwrap_or("–")) }
                                    td { (periodicity(m.periodicity)) }
                                    td { @if m.optional { "optional" } @else { "required" } }
                                } } }
                            }
                        }
                    }
                }
                div.side {
                    section.card aria-labelledby="fq-h" {
                        h2 #fq-h { "Fully qualified name" }
                        @if listed_in.is_empty() { p.muted { "No framework lists this requirement yet." } }
                        ul.plain.fqn {
                            @for f in &listed_in {
                                @let fq = format!("{f}/{name}");
                                li {
                                    code { (fq) } " "
                                    button.copy type="button" data-copy=(fq) aria-label={ "Copy " (fq) } { "Copy" }
                                }
                            }
                        }
                        p.muted.small { "Contracts name it in a policy's " code { "requirements" } " list." }
                    }
                    @if admin {
                        section.card aria-labelledby="act-h" {
                            h2 #act-h { "Actions" }
                            @if !view.builtin { p { a.button href={ (base) "/edit" } { "Edit requirement" } } }
                            form method="post" action={ (base) "/lifecycle" } {
                                (csrf_field(web))
                                input type="hidden" name="active" value=(if view.active { "false" } else { "true" });
                                (field_error("life", errors.lifecycle.as_deref()))
                                @if view.active { button type="submit" { "Deactivate" } } @else { button.primary type="submit" { "Activate" } }
                            }
                            form method="post" action={ (base) "/duplicate" } {
                                (csrf_field(web))
                                label for="dup-as" { "Duplicate as a new custom requirement" }
                                input #dup-as type="text" name="as" required value=(errors.new_name) placeholder={ "e.g. my-" (name) } autocomplete="off"
                                    aria-invalid=[errors.duplicate.as_ref().map(|_| "true")]
                                    aria-describedby=[errors.duplicate.as_ref().map(|_| "dup-as-error")];
                                (field_error("dup-as", errors.duplicate.as_deref()))
                                button type="submit" { "Duplicate" }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        div.head {
            p.crumbs { a href="/requirements" { "Requirements" } " › " (name) }
            h1 { (title) " " (badges(view.builtin, false))
                @if view.shadows_builtin { " " span.badge title="has the name of a built-in requirement, which it hides" { "shadows built-in" } }
                @if !view.active { " " span.chip.s-inactive { "INACTIVE" } } }
            p.sub { code { (name) } " · scope " strong { (scope) } " · revision " (view.revision)
                @if !categories.is_empty() { " · " @for c in &categories { span.tag { (c) } " " } } }
            @if let Some(d) = &meta.description { p.desc { (d) } }
        }
        (notice(q.done.as_deref(), DONE))
        nav.tabs aria-label="Requirement" {
            a href=(base) aria-current=[(!coverage_tab).then_some("page")] { "Details" }
            a href={ (base) "?tab=coverage" } aria-current=[coverage_tab.then_some("page")] { "Coverage" }
        }
        (tab_body)
    };
    Ok((code, page(web, Nav::Requirements, &title, body)))
}

// ---------------------------------------------------------------------------------
// Coverage: the API's coverage answer, as a table.

#[derive(Deserialize)]
struct CoverageView {
    policies: Vec<String>,
    projects: Vec<ProjectCoverage>,
    #[serde(default = "yes")]
    auto_matching: bool,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    dangling_references: Vec<Dangling>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct ProjectCoverage {
    project: String,
    coverage: String,
    assigned: bool,
    #[serde(default)]
    products: Vec<String>,
    contracts: Vec<ContractCoverage>,
}

#[derive(Deserialize)]
struct ContractCoverage {
    contract: String,
    #[serde(rename = "match")]
    status: String,
    policies: Vec<PolicyMatch>,
    #[serde(default)]
    problems: Vec<String>,
}

#[derive(Deserialize)]
struct PolicyMatch {
    policy: String,
    #[serde(rename = "match")]
    status: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct Dangling {
    contract: String,
    reference: String,
    problem: String,
}

fn coverage_class(status: &str) -> &'static str {
    match status {
        "FULL" | "MATCHED" => "s-passed",
        "PARTIAL" | "PARAMETER_MISMATCH" => "s-partial",
        _ => "s-failed",
    }
}

fn coverage_chip(status: &str) -> Markup {
    html! { span class={ "chip " (coverage_class(status)) } { (status) } }
}

fn coverage_table(c: &CoverageView) -> Markup {
    coverage_table_paged(c, None)
}

/// The coverage table; `pager` (the Coverage tab's) goes above and below the rows.
fn coverage_table_paged(c: &CoverageView, pager: Option<Markup>) -> Markup {
    html! {
        @if !c.auto_matching { p.notice role="status" { "Requirements auto-matching is off for this organization: only explicit contract references count." } }
        @if let Some(n) = &c.note { p.muted { (n) } }
        p.muted.small { "Policies: " @for p in &c.policies { code { (p) } " " } }
        @if c.projects.is_empty() { p.empty { "No project matches." } } @else {
            @if let Some(p) = &pager { (p) }
            table.grid.coverage {
                thead { tr { th scope="col" { "Project" } th scope="col" { "Coverage" } th scope="col" { "Assigned" } th scope="col" { "Contracts and their policies" } } }
                tbody { @for p in &c.projects { tr {
                    th scope="row" { a href={ "/projects/" (seg(&p.project)) } { (p.project) }
                        @if !p.products.is_empty() { br; span.products { "in " @for x in &p.products { (x) " " } } } }
                    td { (coverage_chip(&p.coverage)) }
                    td { @if p.assigned { "assigned" } @else { span.muted { "unassigned" } } }
                    td {
                        @if p.contracts.is_empty() { span.muted { "no workflow with a contract" } }
                        @for k in &p.contracts {
                            div.contract {
                                strong { (k.contract) } " " (coverage_chip(&k.status))
                                ul.plain.small { @for m in &k.policies { li {
                                    code { (m.policy) } " " (coverage_chip(&m.status))
                                    @if let Some(s) = &m.source { " " span.badge title={ "matched " (if s == "auto" { "automatically, by policy and arguments" } else { "by the contract's explicit requirements reference" }) } { (s) } }
                                    @if let Some(g) = &m.group { " " span.muted { "via " (g) } }
                                    @if let Some(r) = &m.reason { " " span.muted { "— " (r) } }
                                } } }
                                @for pr in &k.problems { p.field-error.small { (pr) } }
                            }
                        }
                    }
                } } }
            }
            @if let Some(p) = &pager { (p) }
        }
        @if !c.dangling_references.is_empty() {
            h3 { "Explicit references that name nothing" }
            ul { @for d in &c.dangling_references { li { code { (d.reference) } " in contract " strong { (d.contract) } ": " (d.problem) } } }
        }
    }
}

fn coverage_query(q: &PageQuery) -> Value {
    let status = (!q.status.is_empty()).then(|| q.status.to_lowercase());
    let assigned = match q.assigned.as_str() {
        "assigned" => Some(true),
        "unassigned" => Some(false),
        _ => None,
    };
    let product = (!q.product.is_empty()).then(|| q.product.clone());
    json!({"status": status, "assigned": assigned, "product": product})
}

async fn coverage_tab_body(
    state: &AppState,
    web: &Web,
    name: &str,
    q: &PageQuery,
) -> Result<Markup, WebError> {
    let asked = page_number(q.page.as_deref())?;
    let offset = usize::try_from((asked - 1).saturating_mul(PAGE_ROWS)).unwrap_or(usize::MAX);
    // One coverage computation over every project; the page gets its 100.
    let part = coverage::saved_page(
        state,
        &web.ctx,
        name,
        &input(coverage_query(q))?,
        offset,
        PAGE_ROWS as usize,
    )
    .await?;
    let answer: CoverageView = output(Json(part.answer))?;
    let counts = part.counts;
    let paging = Paging::new(asked, part.matching as u64);
    let base = format!("/requirements/{}", seg(name));
    let kept = [
        ("tab", "coverage"),
        ("status", q.status.as_str()),
        ("assigned", q.assigned.as_str()),
        ("product", q.product.as_str()),
    ];
    let all = counts.full + counts.partial + counts.none;
    let narrowed = !q.assigned.is_empty() || !q.product.is_empty();
    // Each count links to its status with the other filters kept.
    let count_link = |status: &str, n: usize| {
        let href = format!(
            "{base}?{}",
            query(&[
                ("tab", "coverage"),
                ("status", status),
                ("assigned", q.assigned.as_str()),
                ("product", q.product.as_str()),
            ])
        );
        html! { a href=(href) aria-current=[q.status.eq_ignore_ascii_case(status).then_some("true")] { (coverage_chip(status)) " " span.num { (thousands(n as u64)) } } }
    };
    let summary = html! {
        p.summary aria-label="Coverage counts" {
            span { strong { (thousands(all as u64)) } @if narrowed { " projects with these filters:" } @else { @if all == 1 { " project:" } @else { " projects:" } } }
            (count_link("FULL", counts.full))
            (count_link("PARTIAL", counts.partial))
            (count_link("NONE", counts.none))
        }
    };
    let pager = pager(&base, &kept, &paging, "project");
    // The product filter's choices: the org's products, from the cached catalog (the
    // API's product list reads and summarizes every stored document: a thousand of
    // them cost more than the page's coverage).
    let catalog = OrgCatalog::get(state, web.ctx.org.id).await?;
    let product_names: Vec<&String> = catalog.products.keys().collect();
    Ok(html! {
        form.filters method="get" action={ "/requirements/" (seg(name)) } role="search" aria-label="Coverage filters" {
            input type="hidden" name="tab" value="coverage";
            div.field {
                label for="cov-status" { "Coverage" }
                select #cov-status name="status" data-autosubmit {
                    option value="" { "Any" }
                    @for s in ["FULL", "PARTIAL", "NONE"] { option value=(s) selected[q.status.eq_ignore_ascii_case(s)] { (s) } }
                }
            }
            div.field {
                label for="cov-assigned" { "Framework assignment" }
                select #cov-assigned name="assigned" data-autosubmit {
                    option value="" { "Any" }
                    option value="assigned" selected[q.assigned == "assigned"] { "Assigned" }
                    option value="unassigned" selected[q.assigned == "unassigned"] { "Unassigned" }
                }
            }
            div.field {
                label for="cov-product" { "Product" }
                select #cov-product name="product" data-autosubmit {
                    option value="" { "Any" }
                    @for p in &product_names { option value=(p) selected[q.product == **p] { (p) } }
                }
            }
            button type="submit" { "Apply" }
        }
        section.card aria-label="Coverage" { (summary) (coverage_table_paged(&answer, Some(pager))) }
    })
}

// ---------------------------------------------------------------------------------
// Writes.

fn refused(e: &crate::ApiError) -> bool {
    matches!(
        describe(e).0,
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
    )
}

#[derive(Deserialize)]
pub struct LifecycleForm {
    active: String,
}

async fn lifecycle(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<LifecycleForm>,
) -> Result<Response, WebError> {
    let active = f.active == "true";
    let outcome = resources::set_active(
        active,
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((org(&web.ctx), name.clone())),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!(
            "/requirements/{}?done={}",
            seg(&name),
            if active { "activated" } else { "deactivated" }
        ))
        .into_response()),
        Err(e) if refused(&e) => Err(WebError(e)),
        Err(e) => {
            let (code, message) = describe(&e);
            let errors = FormErrors {
                lifecycle: Some(message),
                ..Default::default()
            };
            let (_, html) = render(&state, &web, &name, &PageQuery::default(), errors).await?;
            Ok((code, html).into_response())
        }
    }
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
        Kind::Requirement,
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((org(&web.ctx), name.clone())),
        crate::error::Body(input(json!({ "as": new_name }))?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(
            Redirect::to(&format!("/requirements/{}?done=duplicated", seg(&new_name)))
                .into_response(),
        ),
        Err(e) if refused(&e) => Err(WebError(e)),
        Err(e) => {
            let (code, message) = describe(&e);
            let errors = FormErrors {
                duplicate: Some(message),
                new_name,
                ..Default::default()
            };
            let (_, html) = render(&state, &web, &name, &PageQuery::default(), errors).await?;
            Ok((code, html).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------
// The edit form: the requirement's document as `describe -o schema` prints it, applied
// back through the API's `apply` (the same validation, positions and audit); its
// coverage previewed through the API's draft coverage, nothing stored.

fn draft_file(name: &str) -> String {
    format!("requirement {name} (dashboard)")
}

async fn edit_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let view = editable(&state, &web, &name).await?;
    let yaml = Resource::from_document(&view.document)
        .map_err(|e| {
            WebError(crate::ApiError::Internal(format!(
                "stored requirement: {e}"
            )))
        })?
        .to_yaml();
    let preview = draft_coverage(&state, &web, &name, &yaml).await;
    Ok(edit_form(&web, &name, &yaml, None, preview).into_response())
}

/// The org's own requirement `name`: built-in ones are duplicated, not edited.
async fn editable(
    state: &AppState,
    web: &Web,
    name: &str,
) -> Result<super::frameworks::ResourceView, WebError> {
    let view = resource(state, web, Kind::Requirement, name).await?;
    if view.builtin {
        return Err(WebError(crate::ApiError::Conflict(format!(
            "Requirement/{name} is built-in; duplicate it to edit a custom copy"
        ))));
    }
    Ok(view)
}

/// The preview's content: the coverage table, or the draft's problems.
async fn draft_coverage(state: &AppState, web: &Web, name: &str, yaml: &str) -> Markup {
    let answer = coverage::draft(
        State(state.clone()),
        Extension(web.ctx.clone()),
        Query(input(json!({})).expect("an empty query reads")),
        crate::error::Body(
            input(json!({"file": draft_file(name), "content": yaml})).expect("a draft reads"),
        ),
    )
    .await;
    match answer.and_then(output::<_, CoverageView>) {
        Ok(c) => {
            html! { p.muted.small { "Coverage of the draft as edited (not saved)." } (coverage_table(&c)) }
        }
        Err(e) => {
            let (_, message) = describe(&e);
            html! { p.field-error role="alert" { "The draft cannot be previewed: " (message) } }
        }
    }
}

fn edit_form(
    web: &Web,
    name: &str,
    yaml: &str,
    error: Option<(StatusCode, String)>,
    preview: Markup,
) -> (StatusCode, Html) {
    let base = format!("/requirements/{}", seg(name));
    let code = error.as_ref().map_or(StatusCode::OK, |e| e.0);
    let message = error.map(|e| e.1);
    let body = html! {
        div.head {
            p.crumbs { a href="/requirements" { "Requirements" } " › " a href=(base) { (name) } " › edit" }
            h1 { "Edit " (name) }
            p.sub { "The requirement's document, as " code { "comply requirement describe " (name) " -o schema" } " prints it. Nothing is saved until you press Save; the coverage on the right follows your edits." }
        }
        div.columns.halves {
            form.card method="post" action={ (base) "/edit" } {
                (csrf_field(web))
                label for="doc" { "Requirement document (YAML)" }
                textarea #doc.code name="content" rows="18" spellcheck="false" required
                    hx-post={ (base) "/preview" } hx-trigger="input changed delay:400ms" hx-target="#preview" hx-swap="innerHTML"
                    aria-invalid=[message.as_ref().map(|_| "true")] aria-describedby=[message.as_ref().map(|_| "doc-error")] { (yaml) }
                (field_error("doc", message.as_deref()))
                button.primary type="submit" { "Save" }
                " "
                // Without JavaScript, this posts the draft to the preview and shows this
                // form again with its coverage; nothing is saved.
                button type="submit" formaction={ (base) "/preview" } { "Preview coverage" }
                " " a href=(base) { "Cancel" }
            }
            section.card aria-labelledby="pv-h" {
                h2 #pv-h { "Coverage preview" }
                div #preview aria-live="polite" { (preview) }
            }
        }
    };
    (
        code,
        page(web, Nav::Requirements, &format!("Edit {name}"), body),
    )
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    content: String,
}

async fn save(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<EditForm>,
) -> Result<Response, WebError> {
    // The form edits an existing custom requirement of this org; it never creates one.
    editable(&state, &web, &name).await?;
    let outcome = apply_draft(&state, &web, &name, &f.content).await;
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/requirements/{}?done=saved", seg(&name))).into_response())
        }
        Err(e) if refused(&e) => Err(WebError(e)),
        Err(e) => {
            let error = describe(&e);
            let preview = draft_coverage(&state, &web, &name, &f.content).await;
            Ok(edit_form(&web, &name, &f.content, Some(error), preview).into_response())
        }
    }
}

/// The draft must stay this requirement: the form edits one resource, it does not
/// create or rename others.
async fn apply_draft(
    state: &AppState,
    web: &Web,
    name: &str,
    content: &str,
) -> Result<(), crate::ApiError> {
    let (docs, problems) =
        comply_core::resource::parse_file(&draft_file(name), content, &web.ctx.org.name);
    if problems.is_empty() {
        let same = docs.len() == 1
            && matches!(&docs[0].resource, Resource::Requirement(r) if r.metadata.name == name);
        if !same {
            return Err(crate::ApiError::BadRequest(format!(
                "the document must be the one Requirement named {name}; use comply apply to create or rename resources"
            )));
        }
    }
    let request = input(json!({"documents": [{"file": draft_file(name), "content": content}]}))?;
    resources::apply(
        State(state.clone()),
        Extension(web.ctx.clone()),
        crate::error::Body(request),
    )
    .await
    .map(|_: Json<Value>| ())
}

async fn preview(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(f): Form<EditForm>,
) -> Result<Response, WebError> {
    editable(&state, &web, &name).await?;
    let markup = draft_coverage(&state, &web, &name, &f.content).await;
    if headers.contains_key("hx-request") {
        return Ok(Html(markup).into_response());
    }
    Ok(edit_form(&web, &name, &f.content, None, markup).into_response())
}
