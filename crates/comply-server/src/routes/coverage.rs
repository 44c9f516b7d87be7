//! Requirement coverage (semantics §5): which projects' contracts implement a
//! requirement's policies, for a saved requirement or a draft sent in the request. The
//! classification is `comply_core::coverage`; this module gathers contracts, groups,
//! projects and their workflows, and product assignments.

use crate::auth::OrgCtx;
use crate::error::{ApiError, Body};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use comply_core::Kind;
use comply_core::coverage::{
    ContractIndex, Coverage, CoverageContext, CoverageFilter, CoverageReport, ProjectInput,
    coverage, filter,
};
use comply_core::resource::{
    Contract, PolicyGroup, PolicyInput, Product, Requirement, Resource, parse_file,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Deserialize)]
pub struct CoverageQuery {
    status: Option<String>,
    assigned: Option<bool>,
    product: Option<String>,
}

/// What coverage reads of an org's resources, parsed and indexed once per configuration
/// version (see `OrgCatalog` for the same idea in status).
pub struct OrgView {
    index: ContractIndex,
    groups: HashMap<String, PolicyGroup>,
    policies: HashMap<String, Vec<PolicyInput>>,
    digests: BTreeMap<String, String>,
    /// Framework → its requirements.
    frameworks: HashMap<String, BTreeSet<String>>,
    products: Vec<Product>,
    /// Every explicit requirement reference of every contract: (contract, reference).
    references: Vec<(String, String)>,
}

/// A coverage answer, with the contracts' explicit references that were meant for
/// this requirement (their requirement part names it) but match nothing.
#[derive(serde::Serialize)]
pub struct CoverageAnswer {
    #[serde(flatten)]
    report: CoverageReport,
    dangling_references: Vec<DanglingReference>,
}

#[derive(serde::Serialize)]
pub struct DanglingReference {
    contract: String,
    reference: String,
    problem: String,
}

fn answer(view: &OrgView, org: &str, requirement: &str, report: CoverageReport) -> CoverageAnswer {
    let frameworks: HashMap<String, Vec<String>> = view
        .frameworks
        .iter()
        .map(|(f, refs)| (f.clone(), refs.iter().cloned().collect()))
        .collect();
    let dangling_references = view
        .references
        .iter()
        .filter(|(_, r)| {
            comply_core::reference::RequirementRef::parse(r)
                .is_some_and(|r| r.requirement == requirement)
        })
        .filter_map(|(contract, reference)| {
            super::references::dangling(reference, org, &frameworks).map(|problem| {
                DanglingReference {
                    contract: contract.clone(),
                    reference: reference.clone(),
                    problem,
                }
            })
        })
        .collect();
    CoverageAnswer {
        report,
        dangling_references,
    }
}

impl OrgView {
    pub async fn get(state: &AppState, org_id: i64) -> Result<Arc<OrgView>, ApiError> {
        crate::state::per_org(
            state,
            &state.coverage_views,
            org_id,
            org_view(state, org_id),
        )
        .await
    }
}

async fn org_view(state: &AppState, org_id: i64) -> Result<OrgView, ApiError> {
    let mut contracts: Vec<Contract> = Vec::new();
    let mut view = OrgView {
        index: ContractIndex::default(),
        groups: HashMap::new(),
        policies: HashMap::new(),
        digests: BTreeMap::new(),
        frameworks: HashMap::new(),
        products: Vec::new(),
        references: Vec::new(),
    };
    for kind in [
        Kind::Contract,
        Kind::PolicyGroup,
        Kind::Policy,
        Kind::Framework,
        Kind::Product,
    ] {
        // The org's own first: the first of a name wins, as references resolve.
        for stored in state.store.list_resources(org_id, kind).await? {
            match stored.resource()? {
                Resource::Contract(c) => contracts.push(c),
                Resource::PolicyGroup(g) => {
                    view.groups.entry(stored.name.clone()).or_insert(g);
                }
                Resource::Policy(p) if !view.policies.contains_key(&stored.name) => {
                    view.digests
                        .insert(stored.name.clone(), stored.digest.clone());
                    view.policies.insert(stored.name.clone(), p.spec.inputs);
                }
                Resource::Framework(f) => {
                    let refs = f.spec.all_refs().map(|r| r.reference.clone()).collect();
                    view.frameworks.entry(stored.name.clone()).or_insert(refs);
                }
                Resource::Product(p) => view.products.push(p),
                _ => {}
            }
        }
    }
    for c in &contracts {
        let lists = c
            .attachments()
            .map(|a| &a.requirements)
            .chain(c.spec.policy_groups.iter().map(|g| &g.requirements));
        for r in lists.flatten() {
            view.references.push((c.metadata.name.clone(), r.clone()));
        }
    }
    view.index = ContractIndex::build(contracts.iter(), &view.policies, &view.groups);
    Ok(view)
}

async fn report(
    state: &AppState,
    ctx: &OrgCtx,
    requirement: &Requirement,
    q: &CoverageQuery,
) -> Result<CoverageReport, ApiError> {
    let (full, keep) = unfiltered(state, ctx, requirement, q).await?;
    Ok(filter(full, &keep))
}

/// The report over every project, and the filter the query asks for (checked: an
/// unknown status or product is refused).
async fn unfiltered(
    state: &AppState,
    ctx: &OrgCtx,
    requirement: &Requirement,
    q: &CoverageQuery,
) -> Result<(CoverageReport, CoverageFilter), ApiError> {
    let status = match &q.status {
        Some(s) => Some(Coverage::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!("status '{s}' is not one of full, partial, none"))
        })?),
        None => None,
    };
    let view = OrgView::get(state, ctx.org.id).await?;
    if let Some(product) = &q.product
        && !view.products.iter().any(|p| &p.metadata.name == product)
    {
        return Err(super::compliance::no_such(
            "product",
            product,
            &format!("org {}", ctx.org.name),
            view.products.iter().map(|p| p.metadata.name.as_str()),
        ));
    }
    let name = &requirement.metadata.name;
    let frameworks: Vec<String> = view
        .frameworks
        .iter()
        .filter(|(_, refs)| refs.contains(name))
        .map(|(f, _)| f.clone())
        .collect();
    // Every project known from attestations or named by a product, with the contracts
    // its workflows use, the products containing it, and whether R reaches it.
    let mut projects: BTreeMap<String, ProjectInput> = BTreeMap::new();
    for (project, contract) in state.store.workflow_contracts(ctx.org.id).await? {
        let entry = projects
            .entry(project.clone())
            .or_insert_with(|| ProjectInput {
                name: project,
                ..ProjectInput::default()
            });
        entry.contracts.extend(contract);
    }
    for product in &view.products {
        let assigned = product.spec.versions.iter().any(|v| {
            v.frameworks.iter().any(|f| {
                view.frameworks
                    .get(f)
                    .is_some_and(|refs| refs.contains(name))
            })
        });
        for project in &product.spec.projects {
            let entry = projects
                .entry(project.clone())
                .or_insert_with(|| ProjectInput {
                    name: project.clone(),
                    ..ProjectInput::default()
                });
            entry.products.push(product.metadata.name.clone());
            entry.assigned |= assigned;
        }
    }
    let mut context = CoverageContext::new(&ctx.org.name, &view.policies);
    context.auto_matching = ctx.org.settings.requirements_auto_matching;
    context.policy_digests = Some(&view.digests);
    let projects: Vec<ProjectInput> = projects.into_values().collect();
    let full = coverage(&context, &view.index, requirement, &frameworks, &projects);
    Ok((
        full,
        CoverageFilter {
            status,
            assigned: q.assigned,
            product: q.product.clone(),
        },
    ))
}

async fn stored_requirement(
    state: &AppState,
    ctx: &OrgCtx,
    name: &str,
) -> Result<Requirement, ApiError> {
    let stored = state
        .store
        .get_resource(ctx.org.id, Kind::Requirement, name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Requirement/{name} does not exist")))?;
    let Resource::Requirement(requirement) = stored.resource()? else {
        return Err(ApiError::Internal("stored requirement is not one".into()));
    };
    Ok(requirement)
}

/// A page of a saved requirement's coverage (the dashboard's Coverage tab): the
/// answer [`saved`] gives, its projects cut to `limit` from `offset` after the filters
/// (an offset past the end gives the last page); with the counts per coverage over the
/// projects the other filters keep (the status filter picks one of them), and how many
/// projects the filters keep. One computation over every project; only the page's
/// projects are handed on (decision 0038).
pub(crate) async fn saved_page(
    state: &AppState,
    ctx: &OrgCtx,
    name: &str,
    q: &CoverageQuery,
    offset: usize,
    limit: usize,
) -> Result<CoveragePage, ApiError> {
    let requirement = stored_requirement(state, ctx, name).await?;
    let (full, keep) = unfiltered(state, ctx, &requirement, q).await?;
    let by_status = CoverageFilter {
        status: None,
        ..keep.clone()
    };
    let mut report = filter(full, &by_status);
    let (full, partial, none) = report.counts();
    report.projects.retain(|p| keep.keeps(p));
    let matching = report.projects.len();
    // Past the end: the last page.
    let limit = limit.max(1);
    let start = if offset >= matching && matching > 0 {
        (matching - 1) / limit * limit
    } else {
        offset
    };
    report
        .projects
        .truncate(start.saturating_add(limit).min(matching));
    report.projects.drain(..start);
    let view = OrgView::get(state, ctx.org.id).await?;
    Ok(CoveragePage {
        answer: answer(&view, &ctx.org.name, name, report),
        counts: CoverageCounts {
            full,
            partial,
            none,
        },
        matching,
    })
}

/// Projects per coverage.
#[derive(Debug, Clone, Copy)]
pub struct CoverageCounts {
    pub full: usize,
    pub partial: usize,
    pub none: usize,
}

pub(crate) struct CoveragePage {
    pub answer: CoverageAnswer,
    pub counts: CoverageCounts,
    /// Projects the filters keep (the page shows some of them).
    pub matching: usize,
}

/// How many projects' contracts fully cover each of `requirements` (what the
/// webhook watch compares to notice coverage dropping).
pub(crate) async fn full_counts(
    state: &AppState,
    ctx: &OrgCtx,
    requirements: &[&Requirement],
) -> Result<BTreeMap<String, usize>, ApiError> {
    let q = CoverageQuery {
        status: None,
        assigned: None,
        product: None,
    };
    let mut counts = BTreeMap::new();
    for requirement in requirements {
        let r = report(state, ctx, requirement, &q).await?;
        counts.insert(requirement.metadata.name.clone(), r.counts().0);
    }
    Ok(counts)
}

pub async fn saved(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Query(q): Query<CoverageQuery>,
) -> Result<Json<CoverageAnswer>, ApiError> {
    let requirement = stored_requirement(&state, &ctx, &name).await?;
    let report = report(&state, &ctx, &requirement, &q).await?;
    let view = OrgView::get(&state, ctx.org.id).await?;
    Ok(Json(answer(&view, &ctx.org.name, &name, report)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftIn {
    file: String,
    content: String,
}

/// Live preview: the same answer for a requirement that is not stored.
pub async fn draft(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<CoverageQuery>,
    Body(body): Body<DraftIn>,
) -> Result<Json<CoverageAnswer>, ApiError> {
    let (docs, problems) = parse_file(&body.file, &body.content, &ctx.org.name);
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let mut requirements = docs.into_iter().filter_map(|d| match d.resource {
        Resource::Requirement(r) => Some(r),
        _ => None,
    });
    let requirement = requirements.next().ok_or_else(|| {
        ApiError::BadRequest(format!("{} holds no Requirement document", body.file))
    })?;
    if requirements.next().is_some() {
        return Err(ApiError::BadRequest(format!(
            "{} holds several Requirement documents; preview one at a time",
            body.file
        )));
    }
    let report = report(&state, &ctx, &requirement, &q).await?;
    let view = OrgView::get(&state, ctx.org.id).await?;
    Ok(Json(answer(
        &view,
        &ctx.org.name,
        &requirement.metadata.name,
        report,
    )))
}
