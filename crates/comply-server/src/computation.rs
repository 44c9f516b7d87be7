//! A status computation: its facts gathered from the store for one or many product
//! versions at once, then `comply_core::status` run over them on every core.

use crate::auth::OrgCtx;
use crate::catalog::{AutoMatchModules, OrgCatalog};
use crate::error::ApiError;
use crate::state::AppState;
use comply_core::resource::{Product, ProductVersion};
use comply_core::status::{
    self, ApplicabilityFact, Approval, CellStatus, Context, DecisionFact, DecisionKind,
    EvaluationFact, Evidence, Forced, ProductVersionFacts, ProjectFacts, ProofFact,
    ReferencedEvaluationsFact, RequirementFacts,
};
use comply_store::DecisionRow;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

fn decision_fact(d: &DecisionRow) -> Option<DecisionFact> {
    let kind = match (d.kind.as_str(), d.forced_status.as_deref()) {
        ("exception", _) => DecisionKind::Exception,
        ("override", Some("passed")) => DecisionKind::Override(Forced::Passed),
        ("override", Some("failed")) => DecisionKind::Override(Forced::Failed),
        _ => return None,
    };
    Some(DecisionFact {
        id: d.id.to_string(),
        requirement: d.requirement.clone(),
        project: d.project.clone(),
        kind,
        reason: d.reason.clone(),
        author: d.author.clone(),
        created_at: d.created_at,
        expires_at: d.expires_at,
        ended_at: d.ended_at,
        approval: if d.needs_approval {
            Approval::Required {
                approved_at: d.approved_at,
                approved_by: d.approved_by.clone(),
            }
        } else {
            Approval::NotRequired
        },
    })
}

const HOUR_MS: i64 = 3600 * 1000;

/// Per policy with an SLA, the longest SLA the requirements give it, plus an hour of
/// margin: how far back a status reads every evaluation, to find when a failing run
/// began (decision 0016). Everything else a status needs is each series' newest
/// evaluation, which is always read.
pub(crate) fn evidence_windows(requirements: &[&RequirementFacts]) -> BTreeMap<String, i64> {
    let mut windows: BTreeMap<String, i64> = BTreeMap::new();
    for p in requirements.iter().flat_map(|r| r.policies.iter()) {
        let Some(sla) = p.sla else { continue };
        let name = comply_core::reference::PolicyRef::parse(&p.reference)
            .map_or_else(|_| p.reference.clone(), |r| r.name);
        let w = windows.entry(name).or_default();
        *w = (*w).max(i64::from(sla) * HOUR_MS + HOUR_MS);
    }
    windows
}

/// How much of each cell an answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Components with their deciding evidence, arguments and skipped runs.
    Full,
    /// Statuses, deadlines and scores only (overview, history): cheaper to compute.
    Statuses,
}

/// Every cell of one product version at `at`.
pub async fn compute(
    state: &AppState,
    ctx: &OrgCtx,
    catalog: &Arc<OrgCatalog>,
    product: &Product,
    version: &ProductVersion,
    at: i64,
    detail: Detail,
) -> Result<Vec<CellStatus>, ApiError> {
    let targets = [(product, version)];
    let stored = stored_project_versions(state, ctx, &targets).await?;
    let mut all = compute_many(state, ctx, catalog, &targets, &stored, at, detail).await?;
    Ok(all.pop().unwrap_or_default())
}

/// Projects as the store knows them: latest version and version ids, by name.
pub type StoredVersions = HashMap<String, (Option<String>, HashMap<String, i64>)>;

/// Every project of the targets' products as the store knows it.
pub(crate) async fn stored_project_versions(
    state: &AppState,
    ctx: &OrgCtx,
    targets: &[(&Product, &ProductVersion)],
) -> Result<StoredVersions, ApiError> {
    let mut names: Vec<String> = targets
        .iter()
        .flat_map(|(p, _)| p.spec.projects.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    Ok(state.store.project_versions(ctx.org.id, &names).await?)
}

/// A product's project: name, the version the product version resolves it to, and that
/// version's id when it exists.
pub(crate) type ResolvedProject = (String, Option<String>, Option<i64>);

/// Cells below which one thread computes a status: spawning costs more than it saves.
pub(crate) const PARALLEL_CELLS: usize = 1000;

/// Every cell of several product versions at `at`, reading the store once for all of
/// them (the overview's thousand product versions cost a handful of queries).
pub async fn compute_many(
    state: &AppState,
    ctx: &OrgCtx,
    catalog: &Arc<OrgCatalog>,
    targets: &[(&Product, &ProductVersion)],
    stored: &StoredVersions,
    at: i64,
    detail: Detail,
) -> Result<Vec<Vec<CellStatus>>, ApiError> {
    let requirements = requirement_facts(catalog, targets);
    let resolved = resolve_projects(targets, stored);
    let facts = gather_facts(state, ctx, targets, requirements, resolved, at, detail).await?;
    let auto_matching = ctx.org.settings.requirements_auto_matching;
    let org = ctx.org.name.clone();
    let catalog = catalog.clone();
    on_pool(move || {
        let status_of = |facts: &ProductVersionFacts, part: usize, parts: usize| {
            let hook = AutoMatchModules(&catalog.auto_match);
            let mut context = Context::new(&org, at, &catalog.policies);
            context.auto_matching = auto_matching;
            context.hook = &hook;
            context.details = detail == Detail::Full;
            status::product_status_part(&context, facts, part, parts)
        };
        let out = on_every_core(&facts, status_of);
        drop(facts);
        out
    })
    .await
}

/// The decisions and proofs of the targets: read per product version when they are
/// few (an index seek each), else the org's at once.
async fn manual_rows(
    state: &AppState,
    ctx: &OrgCtx,
    targets: &[(&Product, &ProductVersion)],
) -> Result<(Vec<DecisionRow>, Vec<comply_store::ProofRow>), ApiError> {
    /// Above this many product versions one read of the org's rows costs less.
    const PER_VERSION: usize = 8;
    let store = &state.store;
    if targets.len() > PER_VERSION {
        return Ok((
            store.list_decisions(ctx.org.id, None, None).await?,
            store.list_proofs(ctx.org.id, "", "").await?,
        ));
    }
    let (mut decisions, mut proofs) = (Vec::new(), Vec::new());
    for (p, v) in targets {
        decisions.extend(
            store
                .list_decisions(ctx.org.id, Some(&p.metadata.name), Some(&v.name))
                .await?,
        );
        proofs.extend(
            store
                .list_proofs(ctx.org.id, &p.metadata.name, &v.name)
                .await?,
        );
    }
    Ok((decisions, proofs))
}

/// The facts of each target: its requirements, its projects as resolved (with the
/// evidence of each that the store holds at `at`) and its manual decisions and proofs.
async fn gather_facts(
    state: &AppState,
    ctx: &OrgCtx,
    targets: &[(&Product, &ProductVersion)],
    requirements: Vec<Vec<RequirementFacts>>,
    resolved: Vec<Vec<ResolvedProject>>,
    at: i64,
    detail: Detail,
) -> Result<Vec<ProductVersionFacts>, ApiError> {
    let windows = evidence_windows(&requirements.iter().flatten().collect::<Vec<_>>());
    let referenced = detail == Detail::Full;
    let mut evidence =
        EvidenceByVersion::read(state, ctx, &resolved, at, &windows, referenced).await?;
    let (decisions, proofs) = manual_rows(state, ctx, targets).await?;
    Ok(targets
        .iter()
        .zip(requirements)
        .zip(resolved)
        .map(|((&(product, version), requirements), resolved)| {
            let projects = resolved
                .into_iter()
                .map(|(name, wanted, id)| ProjectFacts {
                    name,
                    version: wanted,
                    evidence: id.map(|id| evidence.take(id)).unwrap_or_default(),
                })
                .collect();
            ProductVersionFacts {
                requirements,
                projects,
                ..manual_facts(product, version, &proofs, &decisions)
            }
        })
        .collect())
}

/// The cells of project `project` in each of the targets (product versions whose
/// product contains it) at `at`: its project-scoped cells only, the same cells
/// [`compute_many`] gives it (`status::project_status`). Only that project's evidence
/// is read, and only its cells are computed: a project page costs one project's
/// share of each product version, not the whole of each.
#[allow(clippy::too_many_arguments)]
pub async fn compute_project(
    state: &AppState,
    ctx: &OrgCtx,
    catalog: &Arc<OrgCatalog>,
    targets: &[(&Product, &ProductVersion)],
    project: &str,
    // The project as the store knows it (its other entries are not read).
    stored: &StoredVersions,
    at: i64,
    detail: Detail,
) -> Result<Vec<Vec<CellStatus>>, ApiError> {
    let requirements = requirement_facts(catalog, targets);
    let resolved: Vec<Vec<ResolvedProject>> = resolve_projects(targets, stored)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|(name, _, _)| name == project)
                .collect()
        })
        .collect();
    let facts = gather_facts(state, ctx, targets, requirements, resolved, at, detail).await?;
    let auto_matching = ctx.org.settings.requirements_auto_matching;
    let org = ctx.org.name.clone();
    let catalog = catalog.clone();
    let project = project.to_owned();
    on_pool(move || {
        let status_of = |facts: &ProductVersionFacts| {
            let hook = AutoMatchModules(&catalog.auto_match);
            let mut context = Context::new(&org, at, &catalog.policies);
            context.auto_matching = auto_matching;
            context.hook = &hook;
            context.details = detail == Detail::Full;
            status::project_status(&context, facts, &project)
        };
        let cells: usize = facts.iter().map(|f| f.requirements.len()).sum();
        if rayon::current_num_threads() == 1 || cells < PARALLEL_CELLS {
            facts.iter().map(status_of).collect()
        } else {
            facts.par_iter().map(status_of).collect()
        }
    })
    .await
}

/// Runs `work` on the process's compute pool (rayon's global pool: one thread per
/// core) and waits for it without holding a runtime thread. Concurrent large statuses
/// queue there instead of each spawning a thread per core, and the async runtime keeps
/// serving while they compute. A panic in `work` resumes in the caller, as it would
/// have inline.
pub(crate) async fn on_pool<R, F>(work: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let (done, answer) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    });
    match answer.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(ApiError::Internal("the compute pool dropped a job".into())),
    }
}

/// The requirements of each product version, from the frameworks it attaches.
pub(crate) fn requirement_facts(
    catalog: &OrgCatalog,
    targets: &[(&Product, &ProductVersion)],
) -> Vec<Vec<RequirementFacts>> {
    // Product versions with the same frameworks have the same requirements.
    let mut by_frameworks: HashMap<&[String], Vec<RequirementFacts>> = HashMap::new();
    targets
        .iter()
        .map(|(_, version)| {
            by_frameworks
                .entry(&version.frameworks)
                .or_insert_with(|| {
                    let mut in_frameworks: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                    for fw in &version.frameworks {
                        for r in catalog.frameworks.get(fw).into_iter().flatten() {
                            in_frameworks.entry(r).or_default().push(fw.clone());
                        }
                    }
                    in_frameworks
                        .iter()
                        .filter_map(|(name, fws)| {
                            let (r, active) = catalog.requirements.get(*name)?;
                            Some(RequirementFacts::new(r, *active, fws.clone()))
                        })
                        .collect()
                })
                .clone()
        })
        .collect()
}

/// Each product's projects at the version its product version pins, else their latest.
pub(crate) fn resolve_projects(
    targets: &[(&Product, &ProductVersion)],
    stored: &StoredVersions,
) -> Vec<Vec<ResolvedProject>> {
    targets
        .iter()
        .map(|(product, version)| {
            product
                .spec
                .projects
                .iter()
                .map(|name| {
                    let entry = stored.get(name);
                    let wanted = version
                        .project_versions
                        .get(name)
                        .cloned()
                        .or_else(|| entry.and_then(|(latest, _)| latest.clone()));
                    let id = entry
                        .zip(wanted.as_ref())
                        .and_then(|((_, versions), v)| versions.get(v).copied());
                    (name.clone(), wanted, id)
                })
                .collect()
        })
        .collect()
}

/// The evidence of the project versions a computation reads, each indexed once.
pub(crate) struct EvidenceByVersion {
    evidence: HashMap<i64, Evidence>,
    /// How many product versions still read each: the last takes it, others a copy.
    uses: HashMap<i64, usize>,
}

impl EvidenceByVersion {
    pub(crate) async fn read(
        state: &AppState,
        ctx: &OrgCtx,
        resolved: &[Vec<ResolvedProject>],
        at: i64,
        windows: &BTreeMap<String, i64>,
        // Also the attestations whose referenced evaluations were missing at `at`
        // (what explanations say; statuses do not depend on them).
        referenced: bool,
    ) -> Result<EvidenceByVersion, ApiError> {
        let mut uses: HashMap<i64, usize> = HashMap::new();
        for id in resolved.iter().flatten().filter_map(|(_, _, id)| *id) {
            *uses.entry(id).or_default() += 1;
        }
        let mut ids: Vec<i64> = uses.keys().copied().collect();
        ids.sort_unstable();
        // Many project versions (the overview) are read in parallel slices: the
        // database's seeks and the decoding and indexing of its answers use every core.
        let slices = if ids.len() > 400 { 4 } else { 1 };
        let mut reads = tokio::task::JoinSet::new();
        for slice in ids.chunks(ids.len().div_ceil(slices).max(1)) {
            let (store, org, slice, windows) = (
                state.store.clone(),
                ctx.org.id,
                slice.to_vec(),
                windows.clone(),
            );
            reads.spawn(async move {
                let rows = store.status_evidence(org, &slice, at, &windows).await?;
                let mut by_version: HashMap<i64, Vec<EvaluationFact>> = HashMap::new();
                for (pv, fact) in rows {
                    by_version.entry(pv).or_default().push(fact);
                }
                Ok::<_, comply_store::StoreError>(
                    by_version
                        .into_iter()
                        .map(|(id, evaluations)| (id, Evidence::new(evaluations)))
                        .collect::<Vec<_>>(),
                )
            });
        }
        let mut evidence: HashMap<i64, Evidence> = HashMap::with_capacity(ids.len());
        while let Some(read) = reads.join_next().await {
            let read = read.map_err(|e| ApiError::Internal(format!("evidence read: {e}")))??;
            evidence.extend(read);
        }
        if referenced {
            let mut by_version: HashMap<i64, Vec<ReferencedEvaluationsFact>> = HashMap::new();
            for r in state
                .store
                .referenced_evaluations(ctx.org.id, &ids, at)
                .await?
            {
                by_version.entry(r.project_version_id).or_default().push(
                    ReferencedEvaluationsFact {
                        attestation: r.digest,
                        time: r.finished_at,
                        received_at: r.received_at,
                        supplied_at: r.supplied_at,
                    },
                );
            }
            for (id, facts) in by_version {
                let e = evidence.remove(&id).unwrap_or_default();
                evidence.insert(id, e.with_referenced(facts));
            }
        }
        Ok(EvidenceByVersion { evidence, uses })
    }

    /// The evidence of project version `id` for one more product version.
    pub(crate) fn take(&mut self, id: i64) -> Evidence {
        let Some(left) = self.uses.get_mut(&id) else {
            return Evidence::default();
        };
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.evidence.remove(&id)
        } else {
            self.evidence.get(&id).cloned()
        }
        .unwrap_or_default()
    }
}

/// A product version's proofs, decisions and applicability, from the org's.
pub(crate) fn manual_facts(
    product: &Product,
    version: &ProductVersion,
    proofs: &[comply_store::ProofRow],
    decisions: &[DecisionRow],
) -> ProductVersionFacts {
    let product_name = &product.metadata.name;
    let proofs = proofs
        .iter()
        .filter(|p| &p.product == product_name && p.product_version == version.name)
        .map(|p| ProofFact {
            id: p.id.to_string(),
            requirement: p.requirement.clone(),
            proof: p.proof.clone(),
            project: p.project.clone(),
            collected_at: p.collected_at,
            created_at: p.created_at,
        })
        .collect();
    let decisions = decisions
        .iter()
        .filter(|d| &d.product == product_name && d.product_version == version.name)
        .filter_map(decision_fact)
        .collect();
    // Applicability lives in the Product document: it holds for as long as the
    // document says so (its history is in the revisions and the audit log).
    let applicability = product
        .spec
        .applicability
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.applicable)
        .map(|(i, a)| ApplicabilityFact {
            id: format!("{product_name}/applicability/{i}"),
            requirement: a.requirement.clone(),
            project: a.project.clone(),
            rationale: a.rationale.clone(),
            created_at: i64::MIN,
            ended_at: None,
        })
        .collect();
    ProductVersionFacts {
        proofs,
        applicability,
        decisions,
        ..Default::default()
    }
}

/// `status_of(facts, part, parts)` over every product version, in parallel on the
/// compute pool when the cells are many: split by product version, or a single product
/// version by requirement. The result is in `facts`' order, as one thread would give it.
fn on_every_core<F>(facts: &[ProductVersionFacts], status_of: F) -> Vec<Vec<CellStatus>>
where
    F: Fn(&ProductVersionFacts, usize, usize) -> Vec<CellStatus> + Sync,
{
    let cells: usize = facts
        .iter()
        .map(|f| f.requirements.len() * f.projects.len().max(1))
        .sum();
    let threads = rayon::current_num_threads();
    if threads == 1 || cells < PARALLEL_CELLS {
        return facts.iter().map(|f| status_of(f, 0, 1)).collect();
    }
    if let [single] = facts {
        let parts: Vec<Vec<CellStatus>> = (0..threads)
            .into_par_iter()
            .map(|part| status_of(single, part, threads))
            .collect();
        return vec![parts.into_iter().flatten().collect()];
    }
    facts.par_iter().map(|f| status_of(f, 0, 1)).collect()
}

/// `work` over `items` split into one chunk per pool thread, the results concatenated
/// in `items`' order.
pub(crate) fn in_chunks<T, R, F>(items: &[T], work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
{
    let threads = rayon::current_num_threads();
    if threads == 1 || items.len() < 2 {
        return work(items);
    }
    let chunks: Vec<Vec<R>> = items
        .par_chunks(items.len().div_ceil(threads))
        .map(&work)
        .collect();
    chunks.into_iter().flatten().collect()
}

/// Findings an explanation names per failing evaluation; the rest are counted.
const FINDINGS_SHOWN: usize = 10;
/// Attestations read for findings per answer: a large failing portfolio explains its
/// first failures in full and the others by count.
const FINDINGS_ATTESTATIONS: usize = 200;

/// Fills in the findings (id, package, severity, fixed version) of every failing
/// deciding evaluation of `cells`, from the stored evaluations: the status read carries
/// only severities, and explanations must name what failed.
pub async fn attach_findings(
    state: &AppState,
    ctx: &OrgCtx,
    cells: &mut [CellStatus],
) -> Result<(), ApiError> {
    let mut digests: Vec<String> = cells
        .iter()
        .flat_map(|c| c.components.iter())
        .filter_map(|c| c.evaluation.as_ref())
        .filter(|e| !e.verdict.passed)
        .map(|e| e.attestation.clone())
        .collect();
    digests.sort();
    digests.dedup();
    digests.truncate(FINDINGS_ATTESTATIONS);
    let mut by_evaluation: HashMap<String, serde_json::Value> = HashMap::new();
    for digest in digests {
        if let Some((_, _, evaluations)) = state.store.get_attestation(ctx.org.id, &digest).await? {
            for e in evaluations {
                by_evaluation.insert(e.id.to_string(), e.violations);
            }
        }
    }
    for e in cells
        .iter_mut()
        .flat_map(|c| c.components.iter_mut())
        .filter_map(|c| c.evaluation.as_mut())
        .filter(|e| !e.verdict.passed)
    {
        let Some(violations) = by_evaluation.get(&e.id).and_then(|v| v.as_array()) else {
            continue;
        };
        let unsuppressed: Vec<&serde_json::Value> = violations
            .iter()
            .filter(|v| v["suppressed"] != serde_json::Value::Bool(true))
            .collect();
        e.findings_total = unsuppressed.len();
        e.findings = unsuppressed
            .into_iter()
            .take(FINDINGS_SHOWN)
            .map(finding_of)
            .collect();
    }
    Ok(())
}

/// A stored violation (`{message, finding: {kind: {fields}}}`, fields in camelCase or
/// snake_case as received) as an explanation names it.
fn finding_of(v: &serde_json::Value) -> status::Finding {
    let details = v["finding"]
        .as_object()
        .and_then(|kinds| kinds.values().next())
        .cloned()
        .unwrap_or_default();
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| details.get(*n).and_then(|x| x.as_str()))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    status::Finding {
        id: field(&["externalId", "external_id", "ruleId", "rule_id", "license"]),
        package: field(&["packagePurl", "package_purl", "location", "path"]),
        severity: field(&["severity"]),
        fixed_version: field(&["fixedVersion", "fixed_version"]),
        message: v["message"].as_str().unwrap_or_default().to_owned(),
    }
}
