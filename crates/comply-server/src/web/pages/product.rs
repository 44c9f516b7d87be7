//! The product version page: attached frameworks, projects and pins, the matrix of
//! requirements × projects, score history, "as of"; a cell's explanation and the manual
//! inputs recorded from it (exceptions, overrides, proofs, applicability).

use crate::api::Method;
use crate::catalog::OrgCatalog;
use crate::routes::{compliance, decisions, resources};
use crate::state::{AppState, fmt_time, now_ms, parse_time};
use crate::web::call::{input, org, output};
use crate::web::error::describe;
use crate::web::layout::{Html, Nav, csrf_field, page, status_chip};
use crate::web::{Pages, Web, WebError};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use base64::Engine as _;
use comply_core::Role;
use comply_core::resource::{FrameworkSpec, Kind, ProductSpec, Section};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Worst first, as people scan for problems.
pub const STATUS_ORDER: &[&str] = &[
    "FAILED",
    "EXPIRED",
    "NO_DATA",
    "PARTIAL",
    "GRACE",
    "PASSED",
    "EXCEPTED",
    "NOT_APPLICABLE",
    "INACTIVE",
];

pub fn register(p: Pages) -> Pages {
    let admin = Some(Role::Admin);
    p.page(
        Method::GET,
        "/products/{name}",
        Some(Role::Viewer),
        "A product version: frameworks, projects, the matrix, score history; with r/p, a cell's explanation.",
        product_page,
    )
    .page(
        Method::GET,
        "/products/{name}/trend",
        Some(Role::Viewer),
        "Score over time of a product version (a chart, or a sparkline for the overview).",
        trend,
    )
    .page(
        Method::POST,
        "/products/{name}/frameworks",
        admin,
        "Attach or detach a framework (edits the product version).",
        frameworks,
    )
    .page(
        Method::POST,
        "/products/{name}/exceptions",
        admin,
        "Record an exception for a cell.",
        exception,
    )
    .page(
        Method::POST,
        "/products/{name}/overrides",
        admin,
        "Override a cell's status (passed or failed).",
        override_cell,
    )
    .page(
        Method::POST,
        "/products/{name}/decisions/end",
        admin,
        "End a cell's active exception or override.",
        end_decision,
    )
    .page(
        Method::POST,
        "/products/{name}/proofs",
        Some(Role::Member),
        "Upload a manual proof (file, URL or text).",
        proof,
    )
    .page(
        Method::POST,
        "/products/{name}/applicability",
        admin,
        "Mark a requirement not applicable (for a project or the whole product), or applicable again.",
        applicability,
    )
}

pub fn score_text(score: Option<f64>) -> String {
    score.map_or("–".into(), |s| format!("{:.0}%", s * 100.0))
}

fn enc(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub fn product_href(product: &str, version: &str, at: Option<&str>) -> String {
    let mut pairs = vec![("version", version)];
    if let Some(a) = at {
        pairs.push(("at", a));
    }
    format!(
        "/products/{}?{}",
        enc(&[("", product)])[1..].to_owned(),
        enc(&pairs)
    )
}

#[derive(Deserialize, Default, Clone)]
pub struct PageQuery {
    version: Option<String>,
    at: Option<String>,
    /// The open cell: requirement and (project-scoped) project.
    r: Option<String>,
    p: Option<String>,
    /// What the last write did, by code (never free text from the URL).
    done: Option<String>,
}

impl PageQuery {
    fn at(&self) -> Option<&str> {
        self.at.as_deref().filter(|a| !a.trim().is_empty())
    }
    fn project(&self) -> Option<&str> {
        self.p.as_deref().filter(|p| !p.is_empty())
    }
}

#[derive(Deserialize)]
struct StatusView {
    version: String,
    at: String,
    score: Option<f64>,
    compliant: bool,
    passing: usize,
    counted: usize,
    frameworks: Vec<FrameworkScore>,
    cells: Vec<CellView>,
}

#[derive(Deserialize)]
struct FrameworkScore {
    framework: String,
    score: Option<f64>,
}

#[derive(Deserialize)]
struct CellView {
    framework: String,
    requirement: String,
    project: Option<String>,
    project_version: Option<String>,
    status: String,
    #[serde(default)]
    overridden: bool,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    computed: Option<String>,
    #[serde(default)]
    decision: Option<Value>,
    #[serde(default)]
    components: Vec<Value>,
    #[serde(default)]
    explanation: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct FrameworkSummary {
    name: String,
    builtin: bool,
    #[serde(default)]
    preview: bool,
}

/// "built-in", "custom", and "lab" for in-preview frameworks, as the brief names them.
fn framework_badges(builtin: bool, preview: bool) -> Markup {
    html! {
        span.badge { @if builtin { "built-in" } @else { "custom" } }
        @if preview { " " span.badge.lab title="in preview" { "lab" } }
    }
}

#[derive(Deserialize)]
struct ResourceView {
    document: Value,
}

#[derive(Deserialize)]
struct HistoryView {
    points: Vec<Point>,
}

#[derive(Deserialize)]
struct Point {
    at: String,
    score: Option<f64>,
}

async fn status(
    state: &AppState,
    web: &Web,
    name: &str,
    q: &PageQuery,
    cell: Option<(&str, Option<&str>)>,
) -> Result<StatusView, WebError> {
    let mut query = json!({"version": q.version, "at": q.at()});
    if let Some((r, p)) = cell {
        query["requirement"] = json!(r);
        query["project"] = json!(p);
        query["explain"] = json!(true);
    }
    Ok(output(
        compliance::product_status(
            State(state.clone()),
            Extension(web.ctx.clone()),
            Path((org(&web.ctx), name.to_owned())),
            Query(input(query)?),
        )
        .await?,
    )?)
}

async fn document(state: &AppState, web: &Web, kind: Kind, name: &str) -> Result<Value, WebError> {
    let view: ResourceView = output(
        resources::get(
            kind,
            State(state.clone()),
            Extension(web.ctx.clone()),
            Path((org(&web.ctx), name.to_owned())),
        )
        .await?,
    )?;
    Ok(view.document)
}

fn spec<T: serde::de::DeserializeOwned>(doc: &Value) -> Result<T, WebError> {
    serde_json::from_value(doc["spec"].clone())
        .map_err(|e| WebError(crate::ApiError::Internal(format!("stored document: {e}"))))
}

/// The score at the end of each of the last 30 days up to `at`.
async fn history(
    state: &AppState,
    web: &Web,
    name: &str,
    version: &str,
    at_ms: i64,
    days: i64,
) -> Result<Vec<Point>, WebError> {
    let from = at_ms - (days - 1) * 24 * 3600 * 1000;
    let answer: HistoryView = output(
        compliance::history(
            State(state.clone()),
            Extension(web.ctx.clone()),
            Path((org(&web.ctx), name.to_owned())),
            Query(input(
                json!({"version": version, "from": fmt_time(from), "to": fmt_time(at_ms)}),
            )?),
        )
        .await?,
    )?;
    Ok(answer.points)
}

/// Where the score history goes: computing it costs one status per day, so it loads
/// after the page (htmx), and without JavaScript it is one link away.
pub fn trend_slot(name: &str, version: &str, at: Option<&str>, style: &str) -> Markup {
    let mut pairs = vec![("version", version), ("style", style)];
    if let Some(a) = at {
        pairs.push(("at", a));
    }
    let href = format!(
        "/products/{}/trend?{}",
        enc(&[("", name)])[1..].to_owned(),
        enc(&pairs)
    );
    html! {
        div.trend-slot hx-get=(href) hx-trigger=(if style == "spark" { "revealed" } else { "load" }) hx-swap="outerHTML" hx-target="this" {
            a href=(href) { @if style == "spark" { "trend" } @else { "Score over time" } }
        }
    }
}

#[derive(Deserialize)]
pub struct TrendQuery {
    version: Option<String>,
    at: Option<String>,
    #[serde(default)]
    style: String,
}

async fn trend(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(q): Query<TrendQuery>,
) -> Result<Response, WebError> {
    let at = q.at.as_deref().filter(|a| !a.trim().is_empty());
    let at_ms = match at {
        Some(a) => parse_time(a, "at")?,
        None => now_ms(),
    };
    let spark = q.style == "spark";
    let version = match &q.version {
        Some(v) => v.clone(),
        None => {
            status(&state, &web, &name, &PageQuery::default(), None)
                .await?
                .version
        }
    };
    let points = history(
        &state,
        &web,
        &name,
        &version,
        at_ms,
        if spark { 14 } else { 30 },
    )
    .await?;
    let chart = if spark {
        sparkline(&points)
    } else {
        score_chart(&points)
    };
    if headers.contains_key("hx-request") {
        return Ok(Html(chart).into_response());
    }
    Ok(page(
        &web,
        Nav::Overview,
        &format!("{name} {version}: score over time"),
        html! {
            p.crumbs { a href="/" { "Overview" } " › " a href=(product_href(&name, &version, at)) { (name) " " (version) } }
            h1 { "Score over time" }
            (score_chart(&points))
            table.grid {
                thead { tr { th scope="col" { "Day" } th scope="col" { "Score" } } }
                tbody { @for p in &points { tr { td { (p.at[..10]) } td.num { (score_text(p.score)) } } } }
            }
        },
    )
    .into_response())
}

/// The overview's sparkline: 14 days, last value as text.
fn sparkline(points: &[Point]) -> Markup {
    let (w, h) = (90.0, 20.0);
    let n = points.len().max(2) as f64 - 1.0;
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.score
                .map(|s| format!("{:.1},{:.1}", i as f64 * w / n, h - 2.0 - s * (h - 4.0)))
        })
        .collect();
    let last = points.last().and_then(|p| p.score);
    html! {
        span.spark {
            svg width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) } role="img"
                aria-label={ "score over the last " (points.len()) " days, now " (score_text(last)) } {
                @if !coords.is_empty() { polyline.trend points=(coords.join(" ")) {} }
            }
        }
    }
}

/// Score over time as an inline SVG line, with the first and last values as text.
fn score_chart(points: &[Point]) -> Markup {
    let (w, h) = (300.0, 60.0);
    let n = points.len().max(2) as f64 - 1.0;
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.score
                .map(|s| format!("{:.1},{:.1}", i as f64 * w / n, h - 4.0 - s * (h - 8.0)))
        })
        .collect();
    let first = points.first();
    let last = points.last();
    html! {
        figure.chart {
            svg width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) } role="img"
                aria-label={ "score over the last " (points.len()) " days" } {
                line.axis x1="0" y1=(h - 4.0) x2=(w) y2=(h - 4.0) {}
                line.axis x1="0" y1="4" x2=(w) y2="4" {}
                @if !coords.is_empty() { polyline.trend points=(coords.join(" ")) {} }
                @for (i, p) in points.iter().enumerate() {
                    @if let Some(s) = p.score {
                        circle.dot cx=(format!("{:.1}", i as f64 * w / n)) cy=(format!("{:.1}", h - 4.0 - s * (h - 8.0))) r="2" {
                            title { (p.at[..10]) ": " (score_text(Some(s))) }
                        }
                    }
                }
            }
            figcaption {
                "Score, last " (points.len()) " days: "
                @if let (Some(f), Some(l)) = (first, last) {
                    (f.at[..10]) " " (score_text(f.score)) " → " (l.at[..10]) " " (score_text(l.score))
                }
            }
        }
    }
}

/// Requirements of a framework in its order, with the section path each sits under.
fn framework_rows(spec: &FrameworkSpec) -> Vec<(String, String)> {
    fn walk(sections: &[Section], path: &str, out: &mut Vec<(String, String)>) {
        for s in sections {
            let here = if path.is_empty() {
                s.name.clone()
            } else {
                format!("{path} › {}", s.name)
            };
            for r in &s.requirements {
                out.push((here.clone(), r.reference.clone()));
            }
            walk(&s.sections, &here, out);
        }
    }
    let mut out: Vec<(String, String)> = spec
        .requirements
        .iter()
        .map(|r| (String::new(), r.reference.clone()))
        .collect();
    walk(&spec.sections, "", &mut out);
    out
}

fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "exception" => "Exception recorded.",
        "override" => "Override set.",
        "ended" => "Ended.",
        "proof" => "Proof uploaded.",
        "na" => "Applicability saved.",
        "attached" => "Framework attached.",
        "detached" => "Framework detached.",
        _ => return None,
    })
}

fn cell_href(name: &str, version: &str, at: Option<&str>, r: &str, p: Option<&str>) -> String {
    let mut pairs = vec![("version", version), ("r", r)];
    if let Some(p) = p {
        pairs.push(("p", p));
    }
    if let Some(a) = at {
        pairs.push(("at", a));
    }
    format!(
        "/products/{}?{}",
        enc(&[("", name)])[1..].to_owned(),
        enc(&pairs)
    )
}

fn not_defined_then(web: &Web, name: &str, q: &PageQuery, why: &str) -> Html {
    let at = q.at();
    let version = q.version.as_deref().unwrap_or_default();
    page(
        web,
        Nav::Overview,
        &format!("{name} as of {}", at.unwrap_or_default()),
        html! {
            div.head {
                p.crumbs { a href="/" { "Overview" } " › " (name) }
                h1 { (name) " " span.ver { (version) } }
                form.asof method="get" action={ "/products/" (name) } {
                    @if !version.is_empty() { input type="hidden" name="version" value=(version); }
                    label for="at" { "As of" }
                    input #at type="datetime-local" name="at" step="1" value=[at.map(local_value)];
                    button type="submit" { "Show" }
                    a href=(product_href(name, version, None)) { "Back to now" }
                    span.muted { "Showing " time { (at.unwrap_or_default()) } " (UTC)" }
                }
            }
            p.notice role="status" { "Nothing to show at that time: " (why) "." }
        },
    )
}

async fn product_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    render(&state, &web, &name, &q, &headers, None).await
}

/// The page, or only the cell panel when htmx asks for it. `error` is a failed form's
/// message, shown next to the cell's actions.
async fn render(
    state: &AppState,
    web: &Web,
    name: &str,
    q: &PageQuery,
    headers: &HeaderMap,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let open = q.r.as_deref().map(|r| (r, q.project()));
    let detail = match open {
        Some(cell) => Some(
            cell_panel(
                state,
                web,
                name,
                q,
                cell,
                error.as_ref().map(|e| e.1.as_str()),
            )
            .await?,
        ),
        None => None,
    };
    let code = error.as_ref().map_or(StatusCode::OK, |e| e.0);
    let wants_panel = headers
        .get("hx-target")
        .is_some_and(|t| t.as_bytes() == b"detail");
    if wants_panel && let Some(d) = detail {
        return Ok((code, Html(d)).into_response());
    }
    let view = match status(state, web, name, q, None).await {
        Ok(view) => view,
        // As of a time before the product (or version) was defined: say so, on a page
        // that still offers another time and the way back to now.
        Err(WebError(crate::ApiError::NotFound(why))) if q.at().is_some() => {
            return Ok(not_defined_then(web, name, q, &why).into_response());
        }
        Err(e) => return Err(e),
    };
    let product: ProductSpec = spec(&document(state, web, Kind::Product, name).await?)?;
    let version = product
        .versions
        .iter()
        .find(|v| v.name == view.version)
        .cloned()
        .ok_or_else(|| {
            WebError(crate::ApiError::NotFound(format!(
                "version '{}'",
                view.version
            )))
        })?;
    // The frameworks attached at the time shown (as of a past time, the status's).
    let attached: Vec<String> = view
        .frameworks
        .iter()
        .map(|f| f.framework.clone())
        .collect();
    let mut trees = Vec::new();
    for fw in &attached {
        let fspec: FrameworkSpec = match document(state, web, Kind::Framework, fw).await {
            Ok(doc) => spec(&doc)?,
            Err(_) => FrameworkSpec::default(),
        };
        trees.push((fw.clone(), framework_rows(&fspec)));
    }
    // Cells by (framework, requirement) → project (None: the product column).
    let mut by: HashMap<(&str, &str), HashMap<Option<&str>, &CellView>> = HashMap::new();
    for c in &view.cells {
        by.entry((c.framework.as_str(), c.requirement.as_str()))
            .or_default()
            .insert(c.project.as_deref(), c);
    }
    let versions_of: HashMap<&str, &str> = view
        .cells
        .iter()
        .filter_map(|c| Some((c.project.as_deref()?, c.project_version.as_deref()?)))
        .collect();
    let known: Vec<FrameworkSummary> = output(
        resources::list(
            Kind::Framework,
            State(state.clone()),
            Extension(web.ctx.clone()),
        )
        .await?,
    )?;
    let attachable: Vec<&FrameworkSummary> = known
        .iter()
        .filter(|f| !version.frameworks.contains(&f.name))
        .collect();
    let preview: Vec<&str> = known
        .iter()
        .filter(|f| f.preview)
        .map(|f| f.name.as_str())
        .collect();
    let at = q.at();
    let vname = view.version.as_str();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &view.cells {
        *counts.entry(c.status.clone()).or_default() += 1;
    }
    let admin = web.can(Role::Admin);
    let body = html! {
        div.head {
            p.crumbs { a href="/" { "Overview" } " › " (name) }
            h1 { (name) " " span.ver { (vname) } }
            div.kpis {
                div.kpi { span.big { (score_text(view.score)) } span { "score (" (view.passing) " of " (view.counted) " counted cells pass)" } }
                div.kpi { @if view.compliant { span.chip.lg.s-passed { "Compliant" } } @else { span.chip.lg.s-failed { "Not compliant" } } }
                div.kpi { (super::overview::count_bar(&counts)) }
                (trend_slot(name, vname, at, "chart"))
            }
            form.asof method="get" action={ "/products/" (name) } {
                input type="hidden" name="version" value=(vname);
                label for="at" { "As of" }
                input #at type="datetime-local" name="at" step="1" value=[at.map(local_value)];
                button type="submit" { "Show" }
                @if at.is_some() { a href=(product_href(name, vname, None)) { "Back to now" } }
                span.muted { "Showing " time { (view.at) } " (UTC)" }
            }
            @if let Some(d) = q.done.as_deref().and_then(done_text) { p.notice role="status" { (d) } }
        }
        @if product.versions.len() > 1 {
            nav.versions aria-label="Versions" {
                "Versions: "
                @for v in &product.versions {
                    a href=(product_href(name, &v.name, at)) aria-current=[(v.name == vname).then_some("page")] { (v.name) } " "
                }
            }
        }
        div.columns {
            section.card aria-labelledby="fw-h" {
                h2 #fw-h { "Frameworks" }
                @if version.frameworks.is_empty() { p.muted { "No framework attached yet." } }
                ul.plain {
                    @for f in &view.frameworks {
                        li {
                            a.tag href={ "/frameworks/" (crate::web::layout::seg(&f.framework)) } { (f.framework) } " "
                            @if let Some(k) = known.iter().find(|k| k.name == f.framework) { (framework_badges(k.builtin, preview.contains(&k.name.as_str()))) " " }
                            span.num { (score_text(f.score)) }
                            @if admin {
                                form.inline method="post" action={ "/products/" (name) "/frameworks" } {
                                    (csrf_field(web))
                                    input type="hidden" name="version" value=(vname);
                                    input type="hidden" name="framework" value=(f.framework);
                                    input type="hidden" name="action" value="detach";
                                    button.link type="submit" aria-label={ "Detach " (f.framework) } { "Detach" }
                                }
                            }
                        }
                    }
                }
                @if admin && !attachable.is_empty() {
                    form.row method="post" action={ "/products/" (name) "/frameworks" } {
                        (csrf_field(web))
                        input type="hidden" name="version" value=(vname);
                        input type="hidden" name="action" value="attach";
                        label for="attach-fw" { "Attach framework" }
                        select #attach-fw name="framework" {
                            @for f in &attachable {
                                option value=(f.name) { (f.name) " (" @if f.builtin { "built-in" } @else { "custom" } @if f.preview { ", lab" } ")" }
                            }
                        }
                        button type="submit" { "Attach" }
                    }
                }
            }
            section.card aria-labelledby="pr-h" {
                h2 #pr-h { "Projects" }
                @if product.projects.is_empty() { p.muted { "No projects." } }
                ul.plain {
                    @for p in &product.projects {
                        li {
                            a href={ "/projects/" (crate::web::layout::seg(p)) } { strong { (p) } } " "
                            @if let Some(pin) = version.project_versions.get(p) { span.tag { "pinned " (pin) } }
                            @else if let Some(v) = versions_of.get(p.as_str()) { span.muted { "latest: " (v) } }
                            @else { span.muted { "no version yet" } }
                        }
                    }
                }
            }
        }
        div.matrix-wrap {
            section.matrix aria-labelledby="mx-h" {
                h2 #mx-h { "Requirements × projects" }
                p.muted.small { "Each cell shows its status in words; select one for its explanation and actions." }
                @if view.cells.is_empty() { p.empty { "Attach a framework to see its requirements here." } }
                @for (fw, rows) in &trees {
                    table.mx hx-target="#detail" hx-swap="outerHTML" hx-push-url="true" {
                        caption { (fw) }
                        thead { tr {
                            th scope="col" { "Requirement" }
                            th scope="col" { "Product" }
                            @for p in &product.projects { th scope="col" { (p) } }
                        } }
                        tbody {
                            @for (k, (section, req)) in rows.iter().enumerate() {
                                @if !section.is_empty() && (k == 0 || rows[k - 1].0 != *section) {
                                    tr.sec { th colspan=(product.projects.len() + 2) scope="rowgroup" { (section) } }
                                }
                                @let cells = by.get(&(fw.as_str(), req.as_str()));
                                tr {
                                    th scope="row" { a.req href={ "/requirements/" (crate::web::layout::seg(req)) } title="Requirement details" { (req) } }
                                    (cell_td(name, vname, at, req, None, cells.and_then(|c| c.get(&None).copied()), q))
                                    @for p in &product.projects {
                                        (cell_td(name, vname, at, req, Some(p), cells.and_then(|c| c.get(&Some(p.as_str())).copied()), q))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @match detail {
                Some(d) => (d),
                None => aside #detail.card aria-live="polite" { p.muted { "Select a cell to see why it has its status." } },
            }
        }
    };
    Ok((
        code,
        page(web, Nav::Overview, &format!("{name} {vname}"), body),
    )
        .into_response())
}

fn cell_td(
    name: &str,
    version: &str,
    at: Option<&str>,
    req: &str,
    project: Option<&str>,
    cell: Option<&CellView>,
    q: &PageQuery,
) -> Markup {
    match cell {
        None => html! { td.none { span.sr { "not applicable to this column" } } },
        Some(c) => {
            let open = q.r.as_deref() == Some(req) && q.project() == project;
            html! {
                td class={ "s-" (c.status.to_ascii_lowercase()) @if open { " open" } } {
                    a href=(cell_href(name, version, at, req, project)) { (c.status) @if c.overridden { "*" } }
                }
            }
        }
    }
}

/// `datetime-local` wants `YYYY-MM-DDTHH:MM:SS` without zone; comply's times are UTC.
pub fn local_value(at: &str) -> String {
    match at.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        Err(_) => at.to_owned(),
    }
}

/// A `datetime-local` value (UTC) or an RFC 3339 time, as RFC 3339.
pub fn normalize_time(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() || t.parse::<jiff::Timestamp>().is_ok() {
        return t.to_owned();
    }
    let with_seconds = if t.len() == 16 {
        format!("{t}:00")
    } else {
        t.to_owned()
    };
    format!("{with_seconds}Z")
}

fn render_value(v: &Value) -> Markup {
    match v {
        Value::Null => html! { span.muted { "–" } },
        Value::String(s) => html! { (s) },
        Value::Bool(b) => html! { (b) },
        Value::Number(n) => html! { (n) },
        Value::Array(a) => {
            html! { @if a.is_empty() { span.muted { "none" } } @else { ul.plain { @for x in a { li { (render_value(x)) } } } } }
        }
        Value::Object(o) => html! {
            dl.kv { @for (k, x) in o { @if !x.is_null() { dt { (k.replace('_', " ")) } dd { (render_value(x)) } } } }
        },
    }
}

async fn cell_panel(
    state: &AppState,
    web: &Web,
    name: &str,
    q: &PageQuery,
    (r, p): (&str, Option<&str>),
    error: Option<&str>,
) -> Result<Markup, WebError> {
    let view = status(state, web, name, q, Some((r, p))).await?;
    let cell = view
        .cells
        .iter()
        .find(|c| c.project.as_deref() == p)
        .ok_or_else(|| {
            WebError(crate::ApiError::NotFound(format!(
                "no cell for requirement '{r}'{} in {name} {}",
                p.map(|p| format!(" and project '{p}'")).unwrap_or_default(),
                view.version
            )))
        })?;
    let catalog = OrgCatalog::get(state, web.ctx.org.id).await?;
    let proofs: Vec<String> = catalog
        .requirements
        .get(r)
        .map(|(req, _)| {
            req.spec
                .manual_proofs
                .iter()
                .map(|m| m.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let version = view.version.as_str();
    let back = cell_href(name, version, q.at(), r, p);
    let admin = web.can(Role::Admin);
    let member = web.can(Role::Member);
    let active_decision = cell.decision.as_ref().filter(|d| d["ended_at"].is_null());
    let hidden = html! {
        (csrf_field(web))
        input type="hidden" name="version" value=(version);
        input type="hidden" name="requirement" value=(r);
        @if let Some(p) = p { input type="hidden" name="project" value=(p); }
    };
    let upload_action = format!(
        "/products/{name}/proofs?{}",
        enc(&[(crate::web::session::CSRF_FIELD, &web.csrf)])
    );
    Ok(html! {
        aside #detail.card aria-live="polite" aria-labelledby="cell-h" {
            div.panel-head {
                h2 #cell-h { a href={ "/requirements/" (crate::web::layout::seg(r)) } title="Requirement details" { (r) } }
                a.close href=(product_href(name, version, q.at())) hx-target="body" hx-swap="innerHTML" { "Close" }
            }
            p {
                (status_chip(&cell.status)) " "
                @match p { Some(p) => { "project " strong { (p) } @if let Some(v) = &cell.project_version { " @ " (v) } }, None => "product level" }
                " · " (cell.framework)
            }
            @if let Some(c) = &cell.computed { @if c != &cell.status { p.muted { "Computed status before the decision: " (c) } } }
            @if let Some(d) = &cell.deadline { p { "Next deadline: " time { (d) } } }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            h3 { "Why" }
            @if let Some(lines) = &cell.explanation {
                ul.explain { @for l in lines {
                    @let depth = l.len() - l.trim_start().len();
                    li class={ "d" (depth.min(8) / 2) } { (l.trim_start()) }
                } }
            }
            details {
                summary { "Evidence in detail" }
                @for c in &cell.components { div.component { (render_value(c)) } }
                @if let Some(d) = &cell.decision { h4 { "Decision" } (render_value(d)) }
            }
            @if member {
                h3 { "Actions" }
                @if admin {
                    @if let Some(d) = active_decision {
                        form.card.sub method="post" action={ "/products/" (name) "/decisions/end" } hx-target="body" {
                            (hidden)
                            input type="hidden" name="id" value=(d["id"]);
                            input type="hidden" name="kind" value=(d["kind"].as_str().unwrap_or(""));
                            p { "Active " (d["kind"].as_str().unwrap_or("decision")) ": " (d["reason"].as_str().unwrap_or("")) }
                            button type="submit" { "End " (d["kind"].as_str().unwrap_or("decision")) }
                        }
                    }
                    details.action {
                        summary { "Record an exception" }
                        form method="post" action={ "/products/" (name) "/exceptions" } hx-target="body" {
                            (hidden)
                            label for="ex-reason" { "Reason" }
                            textarea #ex-reason name="reason" required rows="2" {}
                            label for="ex-expires" { "Expires (optional, UTC)" }
                            input #ex-expires type="datetime-local" name="expires";
                            button.primary type="submit" { "Record exception" }
                        }
                    }
                    details.action {
                        summary { "Override the status" }
                        form method="post" action={ "/products/" (name) "/overrides" } hx-target="body" {
                            (hidden)
                            fieldset {
                                legend { "Force status" }
                                label.inline { input type="radio" name="status" value="passed" checked; " PASSED" }
                                label.inline { input type="radio" name="status" value="failed"; " FAILED" }
                            }
                            label for="ov-reason" { "Reason" }
                            textarea #ov-reason name="reason" required rows="2" {}
                            label for="ov-expires" { "Expires (optional, UTC)" }
                            input #ov-expires type="datetime-local" name="expires";
                            button.primary type="submit" { "Set override" }
                        }
                    }
                    details.action {
                        summary { "Mark not applicable" }
                        form method="post" action={ "/products/" (name) "/applicability" } hx-target="body" {
                            (csrf_field(web))
                            input type="hidden" name="version" value=(version);
                            input type="hidden" name="requirement" value=(r);
                            @if let Some(p) = p { input type="hidden" name="cell_project" value=(p); }
                            @if let Some(p) = p {
                                fieldset {
                                    legend { "For" }
                                    label.inline { input type="radio" name="project" value=(p) checked; " project " (p) }
                                    label.inline { input type="radio" name="project" value=""; " the whole product" }
                                }
                            }
                            label for="na-rationale" { "Rationale" }
                            textarea #na-rationale name="rationale" required rows="2" {}
                            input type="hidden" name="applicable" value="false";
                            button.primary type="submit" { "Mark not applicable" }
                        }
                    }
                    @if cell.status == "NOT_APPLICABLE" {
                        form method="post" action={ "/products/" (name) "/applicability" } hx-target="body" {
                            (csrf_field(web))
                            input type="hidden" name="version" value=(version);
                            input type="hidden" name="requirement" value=(r);
                            @if let Some(p) = p { input type="hidden" name="project" value=(p); input type="hidden" name="cell_project" value=(p); }
                            input type="hidden" name="applicable" value="true";
                            input type="hidden" name="rationale" value="";
                            button type="submit" { "Make applicable again" }
                        }
                    }
                }
                @if !proofs.is_empty() {
                    details.action {
                        summary { "Upload a proof" }
                        form method="post" action=(upload_action) enctype="multipart/form-data" hx-target="body" {
                            input type="hidden" name="version" value=(version);
                            input type="hidden" name="requirement" value=(r);
                            @if let Some(p) = p { input type="hidden" name="project" value=(p); }
                            label for="pf-name" { "Proof" }
                            select #pf-name name="proof" { @for n in &proofs { option value=(n) { (n) } } }
                            label for="pf-file" { "File" }
                            input #pf-file type="file" name="file";
                            label for="pf-url" { "or URL" }
                            input #pf-url type="url" name="url" placeholder="https://";
                            label for="pf-text" { "or text" }
                            textarea #pf-text name="text" rows="2" {}
                            label for="pf-at" { "Collected at (optional, UTC)" }
                            input #pf-at type="datetime-local" name="collected_at";
                            button.primary type="submit" { "Upload proof" }
                        }
                    }
                }
                p.muted.small { a href=(back) { "Link to this cell" } }
            }
        }
    })
}

// ---------------------------------------------------------------------------------
// Writes. Each calls the API's handler; success goes back to the cell (303), failure
// re-renders it with the API's message.

#[derive(Deserialize)]
pub struct CellForm {
    version: String,
    requirement: String,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    kind: Option<String>,
}

impl CellForm {
    fn project(&self) -> Option<String> {
        self.project.clone().filter(|p| !p.is_empty())
    }
    fn query(&self, done: Option<&str>) -> PageQuery {
        PageQuery {
            version: Some(self.version.clone()),
            r: Some(self.requirement.clone()),
            p: self.project(),
            done: done.map(str::to_owned),
            ..Default::default()
        }
    }
}

fn back_to(name: &str, q: &PageQuery) -> Response {
    let mut href = cell_href(
        name,
        q.version.as_deref().unwrap_or_default(),
        None,
        q.r.as_deref().unwrap_or_default(),
        q.project(),
    );
    if q.r.is_none() {
        href = product_href(name, q.version.as_deref().unwrap_or_default(), None);
    }
    if let Some(d) = &q.done {
        href.push_str("&done=");
        href.push_str(d);
    }
    Redirect::to(&href).into_response()
}

async fn finish<T>(
    state: &AppState,
    web: &Web,
    name: &str,
    q: PageQuery,
    done: &str,
    outcome: Result<T, crate::ApiError>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(_) => Ok(back_to(
            name,
            &PageQuery {
                done: Some(done.into()),
                ..q
            },
        )),
        Err(e) => {
            let (code, message) = describe(&e);
            if matches!(
                code,
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
            ) {
                return Err(WebError(e));
            }
            render(
                state,
                web,
                name,
                &q,
                &HeaderMap::new(),
                Some((code, message)),
            )
            .await
        }
    }
}

fn opt_time_field(v: &str) -> Value {
    let t = normalize_time(v);
    if t.is_empty() { Value::Null } else { json!(t) }
}

async fn decide(
    state: &AppState,
    web: &Web,
    name: &str,
    f: &CellForm,
    kind: &str,
) -> Result<(), crate::ApiError> {
    let mut body = json!({
        "product": name, "version": f.version, "project": f.project(),
        "requirement": f.requirement, "reason": f.reason, "expires": opt_time_field(&f.expires),
    });
    if kind == "override" {
        body["status"] = json!(f.status);
    }
    let body = crate::error::Body(input(body)?);
    let s = State(state.clone());
    let e = Extension(web.ctx.clone());
    if kind == "override" {
        let _ = decisions::set_override(s, e, body).await?;
    } else {
        let _ = decisions::create_exception(s, e, body).await?;
    }
    Ok(())
}

async fn exception(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<CellForm>,
) -> Result<Response, WebError> {
    let outcome = decide(&state, &web, &name, &f, "exception").await;
    finish(&state, &web, &name, f.query(None), "exception", outcome).await
}

async fn override_cell(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<CellForm>,
) -> Result<Response, WebError> {
    let outcome = decide(&state, &web, &name, &f, "override").await;
    finish(&state, &web, &name, f.query(None), "override", outcome).await
}

async fn end_decision(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<CellForm>,
) -> Result<Response, WebError> {
    let id = f.id.unwrap_or_default();
    let path = Path((org(&web.ctx), id.to_string()));
    let s = State(state.clone());
    let e = Extension(web.ctx.clone());
    let outcome = match f.kind.as_deref() {
        Some("override") => decisions::clear_override(s, e, path).await,
        _ => decisions::revoke_exception(s, e, path).await,
    };
    finish(&state, &web, &name, f.query(None), "ended", outcome).await
}

async fn proof(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| WebError(crate::ApiError::BadRequest(e.to_string())))?
    {
        let key = field.name().unwrap_or_default().to_owned();
        if key == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| WebError(crate::ApiError::BadRequest(e.to_string())))?;
            if !file_name.is_empty() || !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| WebError(crate::ApiError::BadRequest(e.to_string())))?;
            fields.insert(key, text);
        }
    }
    let get = |k: &str| fields.get(k).cloned().filter(|v| !v.trim().is_empty());
    let f = CellForm {
        version: get("version").unwrap_or_default(),
        requirement: get("requirement").unwrap_or_default(),
        project: get("project"),
        reason: String::new(),
        expires: String::new(),
        status: None,
        id: None,
        kind: None,
    };
    let mut body = json!({
        "product": name, "version": f.version, "project": f.project(),
        "requirement": f.requirement, "proof": get("proof").unwrap_or_default(),
        "url": get("url"), "text": get("text"),
        "collected_at": opt_time_field(&get("collected_at").unwrap_or_default()),
    });
    if let Some((file_name, bytes)) = file {
        body["file_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        body["file_name"] = json!(file_name);
    }
    let outcome = match input(body) {
        Ok(b) => decisions::submit_proof(
            State(state.clone()),
            Extension(web.ctx.clone()),
            crate::error::Body(b),
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    finish(&state, &web, &name, f.query(None), "proof", outcome).await
}

/// Edits the product document as the CLI does and applies it through the API's
/// `apply`: the same validation, the same audit.
async fn apply_product(
    state: &AppState,
    web: &Web,
    name: &str,
    edit: impl FnOnce(&mut Value) -> Result<(), crate::ApiError>,
) -> Result<(), crate::ApiError> {
    let mut doc = document(state, web, Kind::Product, name)
        .await
        .map_err(|e| e.0)?;
    edit(&mut doc)?;
    let content =
        serde_json::to_string(&doc).map_err(|e| crate::ApiError::Internal(e.to_string()))?;
    let request = input(
        json!({"documents": [{"file": format!("product {name} (dashboard)"), "content": content}]}),
    )?;
    resources::apply(
        State(state.clone()),
        Extension(web.ctx.clone()),
        crate::error::Body(request),
    )
    .await
    .map(|_: Json<Value>| ())
}

fn list<'v>(object: &'v mut Value, key: &str) -> &'v mut Vec<Value> {
    if !object[key].is_array() {
        object[key] = json!([]);
    }
    object[key].as_array_mut().expect("just made a list")
}

#[derive(Deserialize)]
pub struct FrameworkForm {
    version: String,
    framework: String,
    action: String,
}

async fn frameworks(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<FrameworkForm>,
) -> Result<Response, WebError> {
    let attach = f.action == "attach";
    let outcome = apply_product(&state, &web, &name, |doc| {
        let versions = list(&mut doc["spec"], "versions");
        let v = versions
            .iter_mut()
            .find(|v| v["name"] == json!(f.version))
            .ok_or_else(|| {
                crate::ApiError::NotFound(format!(
                    "product '{name}' has no version '{}'",
                    f.version
                ))
            })?;
        let fws = list(v, "frameworks");
        let present = fws.iter().any(|x| x == &json!(f.framework));
        if attach && !present {
            fws.push(json!(f.framework));
        } else if !attach {
            fws.retain(|x| x != &json!(f.framework));
        }
        Ok(())
    })
    .await;
    let q = PageQuery {
        version: Some(f.version.clone()),
        ..Default::default()
    };
    finish(
        &state,
        &web,
        &name,
        q,
        if attach { "attached" } else { "detached" },
        outcome,
    )
    .await
}

#[derive(Deserialize)]
pub struct ApplicabilityForm {
    version: String,
    requirement: String,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    cell_project: Option<String>,
    #[serde(default)]
    rationale: String,
    applicable: String,
}

async fn applicability(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
    Form(f): Form<ApplicabilityForm>,
) -> Result<Response, WebError> {
    let project = f.project.clone().filter(|p| !p.is_empty());
    let applicable = f.applicable == "true";
    let outcome = if !applicable && f.rationale.trim().is_empty() {
        Err(crate::ApiError::BadRequest(
            "say why the requirement does not apply (a rationale)".into(),
        ))
    } else {
        apply_product(&state, &web, &name, |doc| {
            let entries = list(&mut doc["spec"], "applicability");
            entries.retain(|e| {
                !(e["requirement"] == json!(f.requirement)
                    && e.get("project").and_then(Value::as_str) == project.as_deref())
            });
            if !applicable {
                let mut entry = json!({"requirement": f.requirement, "applicable": false, "rationale": f.rationale.trim()});
                if let Some(p) = &project {
                    entry["project"] = json!(p);
                }
                entries.push(entry);
            }
            Ok(())
        })
        .await
    };
    let q = PageQuery {
        version: Some(f.version.clone()),
        r: Some(f.requirement.clone()),
        p: f.cell_project.clone().filter(|p| !p.is_empty()),
        ..Default::default()
    };
    finish(&state, &web, &name, q, "na", outcome).await
}
