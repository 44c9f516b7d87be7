//! Compliance queries (semantics §2–§4): status of a product version at a time, the org
//! overview, score history. The computation itself is `comply_core::status`, a pure
//! function (`crate::computation` gathers its facts); the manual inputs it reads are
//! `decisions`.

use crate::auth::OrgCtx;
use crate::catalog::OrgCatalog;
use crate::computation::{
    Detail, PARALLEL_CELLS, attach_findings, compute, compute_many, compute_project, in_chunks,
    stored_project_versions,
};
use crate::error::ApiError;
use crate::state::{AppState, fmt_time, now_ms, parse_time};
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use comply_core::resource::{Product, ProductVersion, Scope};
use comply_core::status::{self, CellStatus, Score, Status};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

pub(crate) fn version_of<'p>(
    product: &'p Product,
    version: Option<&str>,
) -> Result<&'p ProductVersion, ApiError> {
    let name = &product.metadata.name;
    match version {
        Some(v) => product.version(v).ok_or_else(|| {
            no_such(
                "version",
                v,
                &format!("product {name}"),
                product.spec.versions.iter().map(|v| v.name.as_str()),
            )
        }),
        None => product.latest_version().ok_or_else(|| {
            ApiError::BadRequest(format!(
                "product '{name}' has no versions; add one (comply product version create {name} VERSION)"
            ))
        }),
    }
}

/// A filter that names nothing is an error, never an empty answer: a CI gate with a
/// misspelt `--project` must not pass on "0 of 0 counted". Exit 2 in the CLI.
pub(crate) fn no_such<'k>(
    what: &str,
    value: &str,
    place: &str,
    known: impl IntoIterator<Item = &'k str>,
) -> ApiError {
    let mut known: Vec<&str> = known.into_iter().collect();
    known.sort_unstable();
    known.dedup();
    let hint = comply_core::suggest::nearest(value, known.iter().copied())
        .map(|n| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default();
    ApiError::BadRequest(format!(
        "no {what} '{value}' in {place}; it has: {}{hint}",
        if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        }
    ))
}

/// The requirements of the frameworks a product version attaches.
fn requirements_of<'c>(catalog: &'c OrgCatalog, version: &'c ProductVersion) -> Vec<&'c str> {
    version
        .frameworks
        .iter()
        .filter_map(|f| catalog.frameworks.get(f))
        .flatten()
        .map(String::as_str)
        .collect()
}

/// Checks a status query's filters against what the product version has.
pub(crate) fn check_filters(
    catalog: &OrgCatalog,
    product: &Product,
    version: &ProductVersion,
    framework: Option<&str>,
    project: Option<&str>,
    requirement: Option<&str>,
) -> Result<(), ApiError> {
    let place = format!("{} {}", product.metadata.name, version.name);
    if let Some(fw) = framework
        && !version.frameworks.iter().any(|f| f == fw)
    {
        return Err(no_such(
            "framework",
            fw,
            &format!("the frameworks attached to {place}"),
            version.frameworks.iter().map(String::as_str),
        ));
    }
    if let Some(p) = project
        && !product.spec.projects.iter().any(|x| x == p)
    {
        return Err(no_such(
            "project",
            p,
            &place,
            product.spec.projects.iter().map(String::as_str),
        ));
    }
    if let Some(r) = requirement {
        let known = match framework {
            Some(fw) => catalog
                .frameworks
                .get(fw)
                .map(|refs| refs.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            None => requirements_of(catalog, version),
        };
        if !known.contains(&r) {
            let place = match framework {
                Some(fw) => format!("framework {fw} of {place}"),
                None => place,
            };
            return Err(no_such("requirement", r, &place, known));
        }
    }
    Ok(())
}

/// An instant a status is asked for: an RFC 3339 time, or a plain date (`2026-11-28`),
/// which means the end of that day in UTC (the last millisecond), as "the status on
/// the 28th" is read (decision 0022).
pub(crate) fn parse_instant(text: &str, what: &str) -> Result<i64, ApiError> {
    if let Ok(date) = text.trim().parse::<jiff::civil::Date>()
        && !text.contains('T')
    {
        let next = date
            .tomorrow()
            .map_err(|e| ApiError::BadRequest(format!("{what} '{text}': {e}")))?;
        let start = parse_time(&format!("{next}T00:00:00Z"), what)?;
        return Ok(start - 1);
    }
    parse_time(text, what).map_err(|_| {
        ApiError::BadRequest(format!(
            "{what} '{text}' is neither a date (2026-11-28) nor an RFC 3339 time (2026-11-28T12:00:00Z)"
        ))
    })
}

#[derive(Deserialize)]
pub struct StatusQuery {
    version: Option<String>,
    framework: Option<String>,
    project: Option<String>,
    requirement: Option<String>,
    at: Option<String>,
    /// Include each cell's explanation and every component's details.
    #[serde(default)]
    explain: bool,
}

pub(crate) fn opt_time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |t| json!(fmt_time(t)))
}

fn component_view(c: &status::Component) -> Value {
    let mut v = serde_json::to_value(c).expect("components serialize");
    v["status"] = json!(c.status.as_str());
    for key in ["expires_at", "failing_since", "grace_ends_at"] {
        v[key] = opt_time(v[key].as_i64());
    }
    if let Some(e) = v.get_mut("evaluation").filter(|e| e.is_object()) {
        e["time"] = opt_time(e["time"].as_i64());
    }
    v
}

fn lean_component(c: &status::Component) -> Value {
    json!({"kind": c.kind, "name": c.name, "status": c.status.as_str(),
           "decisive": c.decisive, "evidence": c.evidence,
           "expires_at": opt_time(c.expires_at), "grace_ends_at": opt_time(c.grace_ends_at)})
}

#[derive(serde::Serialize)]
struct LeanComponent<'a> {
    kind: status::ComponentKind,
    name: &'a str,
    status: &'static str,
    decisive: bool,
    evidence: Option<&'a str>,
    expires_at: Option<String>,
    grace_ends_at: Option<String>,
}

#[derive(serde::Serialize)]
struct LeanCell<'a> {
    framework: &'a str,
    section: Option<&'a str>,
    requirement: &'a str,
    scope: Scope,
    project: Option<&'a str>,
    project_version: Option<&'a str>,
    status: &'static str,
    overridden: bool,
    counted: bool,
    passing: bool,
    deadline: Option<String>,
    components: &'a [LeanComponent<'a>],
}

/// One row per framework the cell shows under (only `only` when given).
/// What rows show besides the cell: the section each framework lists it under, and the
/// reference data catalog policies read.
#[derive(Default, Clone, Copy)]
struct Notes<'a> {
    kev: Option<&'a str>,
    sections: Option<&'a HashMap<String, HashMap<String, String>>>,
}

impl Notes<'_> {
    fn section(&self, framework: &str, requirement: &str) -> Option<&str> {
        self.sections?
            .get(framework)?
            .get(requirement)
            .map(String::as_str)
    }
}

fn cell_rows(
    cell: &CellStatus,
    explain: bool,
    only: Option<&str>,
    notes: Notes<'_>,
) -> Vec<Box<serde_json::value::RawValue>> {
    let mut frameworks: Vec<&str> = cell.frameworks.iter().map(String::as_str).collect();
    frameworks.sort_unstable();
    frameworks.dedup();
    frameworks.retain(|f| only.is_none_or(|o| o == *f));
    if explain {
        return cell_views_noted(cell, true, notes)
            .into_iter()
            .filter(|v| only.is_none_or(|o| v["framework"] == o))
            .map(|v| serde_json::value::to_raw_value(&v).expect("rows serialize"))
            .collect();
    }
    let components: Vec<LeanComponent<'_>> = cell
        .components
        .iter()
        .map(|c| LeanComponent {
            kind: c.kind,
            name: &c.name,
            status: c.status.as_str(),
            decisive: c.decisive,
            evidence: c.evidence.as_deref(),
            expires_at: c.expires_at.map(fmt_time),
            grace_ends_at: c.grace_ends_at.map(fmt_time),
        })
        .collect();
    let deadline = cell.deadline.map(fmt_time);
    frameworks
        .into_iter()
        .map(|framework| {
            serde_json::value::to_raw_value(&LeanCell {
                framework,
                section: notes.section(framework, &cell.requirement),
                requirement: &cell.requirement,
                scope: cell.scope,
                project: cell.project.as_deref(),
                project_version: cell.project_version.as_deref(),
                status: cell.status.as_str(),
                overridden: cell.overridden,
                counted: cell.counted,
                passing: cell.passing,
                deadline: deadline.clone(),
                components: &components,
            })
            .expect("rows serialize")
        })
        .collect()
}

/// Policies whose evaluations read the KEV catalog: their cells' explanations name the
/// catalog the org uses now (and say when it is stale).
const KEV_POLICIES: &[&str] = &["cves-in-kev"];

fn cell_views(cell: &CellStatus, explain: bool) -> Vec<Value> {
    cell_views_noted(cell, explain, Notes::default())
}

fn cell_views_noted(cell: &CellStatus, explain: bool, notes: Notes<'_>) -> Vec<Value> {
    let kev = notes.kev;
    let explanation = explain.then(|| {
        let mut lines = status::explain(cell, &fmt_time);
        if let Some(kev) = kev
            && cell
                .components
                .iter()
                .any(|c| KEV_POLICIES.contains(&c.name.as_str()))
        {
            lines.push(format!("  reference data: {kev}"));
        }
        lines
    });
    let mut frameworks = cell.frameworks.clone();
    frameworks.sort();
    frameworks.dedup();
    frameworks
        .iter()
        .map(|fw| {
            json!({
                "framework": fw,
                "section": notes.section(fw, &cell.requirement),
                "requirement": cell.requirement,
                "scope": cell.scope,
                "project": cell.project,
                "project_version": cell.project_version,
                "status": cell.status.as_str(),
                "overridden": cell.overridden,
                "counted": cell.counted,
                "passing": cell.passing,
                "deadline": opt_time(cell.deadline),
                "computed": cell.computed.map(Status::as_str),
                "decision": cell.decision.as_ref().map(|d| {
                    let mut v = serde_json::to_value(d).expect("decisions serialize");
                    v["created_at"] = opt_time(Some(d.created_at).filter(|t| *t != i64::MIN));
                    v["expires_at"] = opt_time(d.expires_at);
                    v
                }),
                "components": cell.components.iter().map(|c| if explain { component_view(c) } else { lean_component(c) }).collect::<Vec<_>>(),
                "explanation": explanation,
            })
        })
        .collect()
}

pub async fn product_status(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let at = match &q.at {
        Some(t) => parse_instant(t, "at")?,
        None => now_ms(),
    };
    let catalog = OrgCatalog::at_or_now(&state, ctx.org.id, q.at.is_some().then_some(at)).await?;
    let product = catalog.product(&name)?;
    let version = version_of(product, q.version.as_deref())?;
    check_filters(
        &catalog,
        product,
        version,
        q.framework.as_deref(),
        q.project.as_deref(),
        q.requirement.as_deref(),
    )?;
    let mut cells = compute(&state, &ctx, &catalog, product, version, at, Detail::Full).await?;
    if q.explain {
        cells.retain(|c| {
            q.requirement.as_ref().is_none_or(|r| &c.requirement == r)
                && q.project
                    .as_ref()
                    .is_none_or(|p| c.project.as_ref() == Some(p))
        });
        attach_findings(&state, &ctx, &mut cells).await?;
    }
    let selected: Vec<&CellStatus> = cells
        .iter()
        .filter(|c| q.requirement.as_ref().is_none_or(|r| &c.requirement == r))
        .filter(|c| {
            q.project
                .as_ref()
                .is_none_or(|p| c.project.as_ref() == Some(p))
        })
        .filter(|c| {
            q.framework
                .as_ref()
                .is_none_or(|f| c.frameworks.contains(f))
        })
        .collect();
    let score = Score::of(selected.iter().copied());
    // Typed rows serialize straight to the response: thousands of cells are common, and
    // many are serialized on every core.
    let framework = q.framework.as_deref();
    let kev = state.store.reference_data(ctx.org.id, "kev").await?;
    let kev_line = kev.as_ref().map(|r| {
        super::reference_data::describe(r, now_ms(), ctx.org.settings.reference_data_max_age_days)
    });
    let notes = Notes {
        kev: q.explain.then_some(kev_line.as_deref()).flatten(),
        sections: Some(&catalog.sections),
    };
    let serialize = |cells: &[&CellStatus]| -> Vec<Box<serde_json::value::RawValue>> {
        cells
            .iter()
            .flat_map(|c| cell_rows(c, q.explain, framework, notes))
            .collect()
    };
    let rows = if selected.len() < PARALLEL_CELLS {
        serialize(&selected)
    } else {
        in_chunks(&selected, serialize)
    };
    let frameworks = version
        .frameworks
        .iter()
        .map(|f| {
            let s = Score::of_framework(selected.iter().copied(), f);
            // Per section (its path, `A / B`; "" for requirements at the top level), in
            // path order: the same score restricted to the cells the section lists.
            let mut by_section: BTreeMap<&str, Vec<&CellStatus>> = BTreeMap::new();
            for c in selected
                .iter()
                .filter(|c| c.frameworks.iter().any(|x| x == f))
            {
                by_section
                    .entry(notes.section(f, &c.requirement).unwrap_or(""))
                    .or_default()
                    .push(c);
            }
            let sections: Vec<Value> = by_section
                .into_iter()
                .map(|(section, cells)| {
                    let s = Score::of(cells);
                    json!({"section": section, "score": s.score, "passing": s.passing,
                           "counted": s.counted, "compliant": s.compliant})
                })
                .collect();
            json!({"framework": f, "score": s.score, "passing": s.passing,
                   "counted": s.counted, "compliant": s.compliant, "sections": sections})
        })
        .collect();
    Ok(Json(StatusAnswer {
        product: name,
        version: version.name.clone(),
        at: fmt_time(at),
        score: score.score,
        compliant: score.compliant,
        passing: score.passing,
        counted: score.counted,
        frameworks,
        reference_data: kev_line.into_iter().collect(),
        cells: rows,
    }))
}

/// The `status` answer (docs/spec/cli.md); cells are serialized once, as they are
/// built.
#[derive(serde::Serialize)]
pub struct StatusAnswer {
    product: String,
    version: String,
    at: String,
    score: Option<f64>,
    compliant: bool,
    passing: usize,
    counted: usize,
    frameworks: Vec<Value>,
    /// The reference data catalogs policies read, named and dated.
    reference_data: Vec<String>,
    cells: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Deserialize)]
pub struct ProjectStatusQuery {
    version: Option<String>,
    at: Option<String>,
}

/// One project version seen through every product that contains it: per product version
/// that resolves the project to this version, the frameworks attached and the project's
/// cells under them.
pub async fn project_status(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Query(q): Query<ProjectStatusQuery>,
) -> Result<Json<Value>, ApiError> {
    let at = match &q.at {
        Some(t) => parse_instant(t, "at")?,
        None => now_ms(),
    };
    let stored = state
        .store
        .project_versions(ctx.org.id, std::slice::from_ref(&name))
        .await?;
    let (latest, versions) = stored
        .get(&name)
        .ok_or_else(|| ApiError::NotFound(format!("project '{name}' does not exist")))?;
    let version = match &q.version {
        Some(v) if versions.contains_key(v) => v.clone(),
        Some(v) => {
            return Err(ApiError::NotFound(format!(
                "project '{name}' has no version '{v}'"
            )));
        }
        None => latest.clone().unwrap_or_default(),
    };
    let catalog = OrgCatalog::at_or_now(&state, ctx.org.id, q.at.is_some().then_some(at)).await?;
    let targets: Vec<(&Product, &ProductVersion)> = catalog
        .products
        .values()
        .filter(|p| p.spec.projects.contains(&name))
        .flat_map(|p| p.spec.versions.iter().map(move |v| (p, v)))
        .filter(|(_, v)| {
            let resolved = v.project_versions.get(&name).or(latest.as_ref());
            resolved == Some(&version)
        })
        .collect();
    // Only this project's cells, from its evidence alone (`status::project_status`):
    // the same cells a whole product version's status gives it. Product-level cells
    // (product-scoped requirements) belong to the product and are not among them.
    let all = compute_project(
        &state,
        &ctx,
        &catalog,
        &targets,
        &name,
        &stored,
        at,
        Detail::Full,
    )
    .await?;
    let mut products = Vec::new();
    for ((product, pv), cells) in targets.iter().zip(all) {
        let mine: Vec<&CellStatus> = cells.iter().collect();
        let score = Score::of(mine.iter().copied());
        products.push(json!({
            "product": product.metadata.name,
            "product_version": pv.name,
            "frameworks": pv.frameworks,
            "score": score.score,
            "compliant": score.compliant,
            "cells": mine.iter().flat_map(|c| cell_views(c, false)).collect::<Vec<_>>(),
        }));
    }
    Ok(Json(json!({
        "project": name,
        "version": version,
        "at": fmt_time(at),
        "products": products,
    })))
}

#[derive(Deserialize)]
pub struct AtQuery {
    at: Option<String>,
}

/// Every product version of the org with its score and counts per status.
pub async fn overview(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<AtQuery>,
) -> Result<Json<Value>, ApiError> {
    let at = match &q.at {
        Some(t) => parse_instant(t, "at")?,
        None => now_ms(),
    };
    let catalog = OrgCatalog::at_or_now(&state, ctx.org.id, q.at.is_some().then_some(at)).await?;
    let targets: Vec<(&Product, &ProductVersion)> = catalog
        .products
        .values()
        .flat_map(|p| p.spec.versions.iter().map(move |v| (p, v)))
        .collect();
    // "Now" answers are reused per product version while nothing they depend on changed
    // (org configuration, decisions and proofs: the audit sequence; evidence: the
    // attestation count of each of its project versions) and no deadline of theirs
    // passed. A dashboard polling the overview pays only for what changed.
    let reuse = q.at.is_none();
    // What the rows depend on besides evidence: the resources (by content, so a proof
    // elsewhere in the org does not invalidate every row), the settings, and the
    // product version's own proofs and decisions.
    let config = format!(
        "{}/{}",
        catalog.content, ctx.org.settings.requirements_auto_matching
    );
    let mut manual: HashMap<(String, String), (i64, i64, i64, usize)> = HashMap::new();
    for p in state.store.list_proofs(ctx.org.id, "", "").await? {
        let m = manual.entry((p.product, p.product_version)).or_default();
        m.0 = m.0.max(p.id);
    }
    for d in state.store.list_decisions(ctx.org.id, None, None).await? {
        let m = manual.entry((d.product, d.product_version)).or_default();
        m.1 = m.1.max(d.id);
        // An approval puts a decision in effect without ending anything.
        m.2 =
            m.2.max(d.ended_at.unwrap_or(0))
                .max(d.approved_at.unwrap_or(0));
        m.3 += 1;
    }
    let manual_of = |product: &Product, version: &ProductVersion| {
        manual
            .get(&(product.metadata.name.clone(), version.name.clone()))
            .copied()
            .unwrap_or_default()
    };
    let marks = state.store.attestation_marks(ctx.org.id).await?;
    let stored = stored_project_versions(&state, &ctx, &targets).await?;
    let key_of = |product: &Product, version: &ProductVersion| -> Vec<(i64, i64)> {
        let mut key: Vec<(i64, i64)> = product
            .spec
            .projects
            .iter()
            .filter_map(|name| {
                let (latest, versions) = stored.get(name)?;
                let wanted = version.project_versions.get(name).or(latest.as_ref())?;
                let id = *versions.get(wanted)?;
                Some((id, marks.get(&id).map_or(0, |m| m.0)))
            })
            .collect();
        key.sort_unstable();
        key
    };
    let mut rows: Vec<Option<Value>> = vec![None; targets.len()];
    let mut misses = Vec::new();
    {
        let cache = state.overview_rows.lock().expect("overview cache");
        for (i, (product, version)) in targets.iter().enumerate() {
            let key = (
                ctx.org.id,
                product.metadata.name.clone(),
                version.name.clone(),
            );
            match cache.get(&key) {
                Some(c)
                    if reuse
                        && c.config == config
                        && c.manual == manual_of(product, version)
                        && c.evidence == key_of(product, version)
                        && at < c.valid_until =>
                {
                    rows[i] = Some(c.row.clone());
                }
                _ => misses.push(i),
            }
        }
    }
    let missed: Vec<(&Product, &ProductVersion)> = misses.iter().map(|&i| targets[i]).collect();
    let computed = compute_many(
        &state,
        &ctx,
        &catalog,
        &missed,
        &stored,
        at,
        Detail::Statuses,
    )
    .await?;
    for (&i, cells) in misses.iter().zip(&computed) {
        let (product, version) = targets[i];
        let score = Score::of(cells);
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for c in cells {
            *counts.entry(c.status.as_str()).or_default() += 1;
        }
        let row = json!({
            "product": product.metadata.name,
            "version": version.name,
            "frameworks": version.frameworks,
            "framework_scores": framework_scores(cells, &version.frameworks),
            "score": score.score,
            "compliant": score.compliant,
            "passing": score.passing,
            "counted": score.counted,
            "cells": cells.len(),
            "counts": counts,
        });
        if reuse {
            let evidence = key_of(product, version);
            // Evidence that finished after `at` (within the allowed skew) joins later.
            let future = evidence
                .iter()
                .filter_map(|(id, _)| marks.get(id).map(|m| m.1))
                .filter(|f| *f > at)
                .min();
            let deadline = cells.iter().filter_map(|c| c.deadline).min();
            let valid_until = [future, deadline]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(i64::MAX);
            state.overview_rows.lock().expect("overview cache").insert(
                (
                    ctx.org.id,
                    product.metadata.name.clone(),
                    version.name.clone(),
                ),
                CachedRow {
                    config: config.clone(),
                    manual: manual_of(product, version),
                    evidence,
                    valid_until,
                    row: row.clone(),
                },
            );
        }
        rows[i] = Some(row);
    }
    crate::state::drop_later(computed);
    let out: Vec<Value> = rows.into_iter().flatten().collect();
    Ok(Json(json!({"at": fmt_time(at), "products": out})))
}

/// An overview row and what it was computed from.
pub struct CachedRow {
    config: String,
    /// The product version's proofs and decisions: newest ids, latest end, count.
    manual: (i64, i64, i64, usize),
    evidence: Vec<(i64, i64)>,
    valid_until: i64,
    row: Value,
}

/// Each attached framework's score over `cells` (the overall score stays as defined:
/// every counted cell once, whichever frameworks list it).
fn framework_scores(cells: &[CellStatus], frameworks: &[String]) -> Vec<Value> {
    frameworks
        .iter()
        .map(|f| {
            let s = Score::of_framework(cells, f);
            json!({"framework": f, "score": s.score, "passing": s.passing,
                   "counted": s.counted, "compliant": s.compliant})
        })
        .collect()
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    version: Option<String>,
    from: String,
    to: String,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The score of a product version at the end of each day between two dates.
pub async fn history(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let from = parse_instant(&q.from, "from")?;
    let to = parse_instant(&q.to, "to")?;
    if to < from {
        return Err(ApiError::BadRequest("'to' is before 'from'".into()));
    }
    if (to - from) / DAY_MS > 366 {
        return Err(ApiError::BadRequest(
            "a history spans at most 366 days".into(),
        ));
    }
    // The filters name today's product and version; each day is then scored against
    // the definitions of that day (decision 0022).
    let current = OrgCatalog::get(&state, ctx.org.id).await?;
    let version_name = version_of(current.product(&name)?, q.version.as_deref())?
        .name
        .clone();
    let mut points = Vec::new();
    let mut t = from;
    while t <= to {
        let catalog = OrgCatalog::at(&state, ctx.org.id, t).await?;
        let defined = catalog.products.get(&name).and_then(|p| {
            p.spec
                .versions
                .iter()
                .find(|v| v.name == version_name)
                .map(|v| (p, v))
        });
        let point = match defined {
            Some((product, version)) => {
                let cells = compute(
                    &state,
                    &ctx,
                    &catalog,
                    product,
                    version,
                    t,
                    Detail::Statuses,
                )
                .await?;
                let score = Score::of(&cells);
                json!({"at": fmt_time(t), "defined": true, "score": score.score,
                       "compliant": score.compliant, "passing": score.passing,
                       "counted": score.counted,
                       "framework_scores": framework_scores(&cells, &version.frameworks)})
            }
            // Not yet defined (or already deleted) then: nothing was counted.
            None => json!({"at": fmt_time(t), "defined": false, "score": null,
                           "compliant": false, "passing": 0, "counted": 0}),
        };
        points.push(point);
        t += DAY_MS;
    }
    Ok(Json(
        json!({"product": name, "version": version_name, "points": points}),
    ))
}
