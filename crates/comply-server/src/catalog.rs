//! The org's resources as status computations read them, cached per server and keyed by
//! what the audit chain says changed; and Chainloop `autoMatch` modules as the engine's
//! hook.

use crate::error::ApiError;
use crate::state::AppState;
use comply_core::Kind;
use comply_core::resource::{PolicyInput, Product, Requirement, Resource};
use comply_core::status;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What every status computation of one request shares: the org's resources, resolved
/// as references resolve them (the org's own over the built-in).
pub struct OrgCatalog {
    pub(crate) products: BTreeMap<String, Product>,
    pub(crate) frameworks: HashMap<String, Vec<String>>,
    /// Framework → requirement → the section path it is listed under (`A / B`; empty at
    /// the framework's top level), for answers grouped by section.
    pub(crate) sections: HashMap<String, HashMap<String, String>>,
    pub(crate) requirements: HashMap<String, (Requirement, bool)>,
    pub(crate) policies: HashMap<String, Vec<PolicyInput>>,
    /// Compiled Chainloop `autoMatch` modules of the policies that carry one.
    pub(crate) auto_match: HashMap<String, comply_policy::AutoMatch>,
    /// Digest of every resource and lifecycle state read: equal when the catalog says
    /// the same, even if it was reloaded because something else in the org changed.
    pub(crate) content: String,
    /// The past instant this catalog was read as of; `None` for the current one.
    pub(crate) as_of: Option<i64>,
}

/// Chainloop `autoMatch` modules as the status engine's hook (semantics §4.2): a module
/// that defines `matches_parameters` decides argument compatibility for its policy,
/// one that defines `matches_evaluation` may veto a passing evaluation. A module that
/// fails to evaluate (time limit, error) does not match: evidence is not counted on a
/// broken rule.
pub struct AutoMatchModules<'a>(pub &'a HashMap<String, comply_policy::AutoMatch>);

impl status::AutoMatchHook for AutoMatchModules<'_> {
    fn matches_parameters(
        &self,
        policy: &str,
        arguments: &BTreeMap<String, String>,
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        let module = self.0.get(policy)?;
        if !module.has_rule("matches_parameters") {
            return None;
        }
        Some(
            module
                .matches_parameters(arguments, expected, &comply_policy::Limits::default())
                .unwrap_or(false),
        )
    }

    fn matches_evaluation(
        &self,
        policy: &str,
        violations: &[&str],
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        let module = self.0.get(policy)?;
        if !module.has_rule("matches_evaluation") {
            return None;
        }
        let violations: Vec<String> = violations.iter().map(|v| (*v).to_owned()).collect();
        Some(
            module
                .matches_evaluation(&violations, expected, &comply_policy::Limits::default())
                .unwrap_or(false),
        )
    }
}

impl OrgCatalog {
    /// The org's catalog, parsed again only when its configuration changed.
    pub async fn get(state: &AppState, org_id: i64) -> Result<Arc<OrgCatalog>, ApiError> {
        crate::state::per_org(
            state,
            &state.catalogs,
            org_id,
            OrgCatalog::load(state, org_id, None),
        )
        .await
    }

    /// The catalog as the org had it at `at_ms`: the current one when nothing changed
    /// since, else read from revisions and lifecycle events (semantics: status at a past
    /// `t` uses the definitions of `t`). Past catalogs are kept per configuration epoch,
    /// so a year of history reads each distinct configuration once.
    /// The catalog a query answers from: the current one when no time was asked for
    /// (most requests: no epoch query on the hot path), else [`OrgCatalog::at`].
    pub async fn at_or_now(
        state: &AppState,
        org_id: i64,
        at_ms: Option<i64>,
    ) -> Result<Arc<OrgCatalog>, ApiError> {
        match at_ms {
            None => Self::get(state, org_id).await,
            Some(t) => Self::at(state, org_id, t).await,
        }
    }

    pub async fn at(
        state: &AppState,
        org_id: i64,
        at_ms: i64,
    ) -> Result<Arc<OrgCatalog>, ApiError> {
        let epoch = state.store.config_epoch(org_id, at_ms).await?;
        if epoch.after == 0 {
            return Self::get(state, org_id).await;
        }
        let key = (org_id, epoch.before, epoch.last_change_ms);
        if let Some(hit) = state.past_catalogs.lock().expect("past catalogs").get(&key) {
            return Ok(hit.clone());
        }
        let catalog = Arc::new(OrgCatalog::load(state, org_id, Some(at_ms)).await?);
        let mut cache = state.past_catalogs.lock().expect("past catalogs");
        // Bounded: a past catalog is cheap to read again, memory is not free.
        if cache.len() >= PAST_CATALOGS {
            cache.clear();
        }
        cache.insert(key, catalog.clone());
        Ok(catalog)
    }

    async fn load(
        state: &AppState,
        org_id: i64,
        as_of: Option<i64>,
    ) -> Result<OrgCatalog, ApiError> {
        let mut catalog = OrgCatalog {
            products: BTreeMap::new(),
            frameworks: HashMap::new(),
            sections: HashMap::new(),
            requirements: HashMap::new(),
            policies: HashMap::new(),
            auto_match: HashMap::new(),
            content: String::new(),
            as_of,
        };
        let mut content = Vec::new();
        for kind in [
            Kind::Product,
            Kind::Framework,
            Kind::Requirement,
            Kind::Policy,
        ] {
            // Sorted by name with the org's own first: the first of a name wins.
            let stored_resources = match as_of {
                None => state.store.list_resources(org_id, kind).await?,
                Some(t) => state.store.list_resources_as_of(org_id, kind, t).await?,
            };
            for stored in stored_resources {
                content.push(format!(
                    "{kind}/{}/{}/{}/{}",
                    stored.name, stored.builtin, stored.digest, stored.active
                ));
                match stored.resource()? {
                    Resource::Product(p) => {
                        catalog.products.entry(stored.name.clone()).or_insert(p);
                    }
                    Resource::Framework(f) => {
                        if !catalog.sections.contains_key(&stored.name) {
                            catalog
                                .sections
                                .insert(stored.name.clone(), section_paths(&f.spec));
                        }
                        let refs = f.spec.all_refs().map(|r| r.reference.clone()).collect();
                        catalog
                            .frameworks
                            .entry(stored.name.clone())
                            .or_insert(refs);
                    }
                    Resource::Requirement(r) => {
                        catalog
                            .requirements
                            .entry(stored.name.clone())
                            .or_insert((r, stored.active));
                    }
                    Resource::Policy(p) if !catalog.policies.contains_key(&stored.name) => {
                        if let Some(module) = &p.spec.auto_match {
                            match comply_policy::AutoMatch::compile(&stored.name, &module.embedded)
                            {
                                Ok(m) => {
                                    catalog.auto_match.insert(stored.name.clone(), m);
                                }
                                // Compiled at apply; a module that no longer compiles
                                // matches nothing rather than failing every status.
                                Err(e) => {
                                    tracing::warn!(policy = %stored.name, error = %e, "autoMatch module does not compile")
                                }
                            }
                        }
                        catalog.policies.insert(stored.name.clone(), p.spec.inputs);
                    }
                    _ => {}
                }
            }
        }
        catalog.content = comply_core::digest::sha256(content.join("\n").as_bytes());
        Ok(catalog)
    }

    pub(crate) fn product(&self, name: &str) -> Result<&Product, ApiError> {
        self.products.get(name).ok_or_else(|| {
            ApiError::NotFound(match self.as_of {
                None => format!("product '{name}' does not exist"),
                Some(t) => format!(
                    "product '{name}' did not exist at {}",
                    crate::state::fmt_time(t)
                ),
            })
        })
    }
}

/// Past catalogs kept at once, across orgs.
const PAST_CATALOGS: usize = 64;

/// Requirement → the path of the section that lists it.
fn section_paths(spec: &comply_core::resource::FrameworkSpec) -> HashMap<String, String> {
    fn walk(
        sections: &[comply_core::resource::Section],
        prefix: &str,
        out: &mut HashMap<String, String>,
    ) {
        for s in sections {
            let path = if prefix.is_empty() {
                s.name.clone()
            } else {
                format!("{prefix} / {}", s.name)
            };
            for r in &s.requirements {
                out.entry(r.reference.clone())
                    .or_insert_with(|| path.clone());
            }
            walk(&s.sections, &path, out);
        }
    }
    let mut out: HashMap<String, String> = spec
        .requirements
        .iter()
        .map(|r| (r.reference.clone(), String::new()))
        .collect();
    walk(&spec.sections, "", &mut out);
    out
}
