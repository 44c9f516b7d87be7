//! Evidence packs (decision 0030): the files of a pack for one product version at `t`,
//! signed with the instance's key. The format and its verification live in
//! `crate::pack`; this module gathers what goes in from the store, through the same
//! fact gathering as every status (`computation`).

use crate::auth::OrgCtx;
use crate::catalog::{AutoMatchModules, OrgCatalog};
use crate::computation::{
    EvidenceByVersion, evidence_windows, manual_facts, requirement_facts, resolve_projects,
    stored_project_versions,
};
use crate::error::ApiError;
use crate::pack::{self, facts::RecordingHook};
use crate::state::{AppState, fmt_time, now_ms, parse_time};
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use base64::Engine as _;
use comply_attest::{KeyAlgorithm, SigningKey};
use comply_core::resource::ProductVersion;
use comply_core::status::{self, ProductVersionFacts, ProjectFacts};
use comply_store::{AuditQuery, InstanceKeyRow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The name of the instance key that signs pack manifests.
const PACK_KEY: &str = "evidence-packs";

#[derive(Deserialize)]
pub struct ReportQuery {
    version: Option<String>,
    framework: Option<String>,
    at: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct PackFile {
    pub path: String,
    /// The file's bytes, base64 (standard, padded).
    pub content: String,
}

#[derive(Serialize, Deserialize)]
pub struct PackAnswer {
    pub product: String,
    pub version: String,
    pub at: String,
    pub files: Vec<PackFile>,
}

#[derive(Serialize, Deserialize)]
pub struct ReportKey {
    pub algorithm: String,
    pub fingerprint: String,
    pub pem: String,
}

/// The instance's pack-signing key, made and stored on first use (decision 0030).
async fn signing_key(state: &AppState) -> Result<SigningKey, ApiError> {
    let row = state
        .store
        .instance_key(PACK_KEY, || {
            let key = SigningKey::generate(KeyAlgorithm::Ed25519).expect("system randomness");
            InstanceKeyRow {
                name: PACK_KEY.into(),
                algorithm: key.algorithm().to_string(),
                private_pem: key.to_pem(),
                public_pem: key.public().to_pem(),
                fingerprint: key.public().fingerprint(),
                created_at: now_ms(),
            }
        })
        .await?;
    SigningKey::from_pem(&row.private_pem)
        .map_err(|e| ApiError::Internal(format!("the instance signing key does not parse: {e}")))
}

/// The public half of the key that signs evidence packs, for auditors to pin.
pub async fn report_key(State(state): State<AppState>) -> Result<Json<ReportKey>, ApiError> {
    let key = signing_key(&state).await?.public();
    Ok(Json(ReportKey {
        algorithm: key.algorithm().to_string(),
        fingerprint: key.fingerprint(),
        pem: key.to_pem(),
    }))
}

fn version_of<'p>(
    product: &'p comply_core::resource::Product,
    version: Option<&str>,
) -> Result<&'p ProductVersion, ApiError> {
    let name = &product.metadata.name;
    match version {
        Some(v) => product
            .version(v)
            .ok_or_else(|| ApiError::NotFound(format!("product '{name}' has no version '{v}'"))),
        None => product
            .latest_version()
            .ok_or_else(|| ApiError::BadRequest(format!("product '{name}' has no versions"))),
    }
}

/// The cells at `at`, and every answer the org's `autoMatch` modules gave on the way.
fn compute_recorded(
    catalog: &OrgCatalog,
    org: &str,
    auto_matching: bool,
    at: i64,
    facts: &ProductVersionFacts,
) -> (Vec<status::CellStatus>, Vec<pack::facts::AutoMatchAnswer>) {
    let modules = AutoMatchModules(&catalog.auto_match);
    let recording = RecordingHook {
        inner: &modules,
        answers: Default::default(),
    };
    let cells = {
        let mut context = status::Context::new(org, at, &catalog.policies);
        context.auto_matching = auto_matching;
        context.hook = &recording;
        status::product_status(&context, facts)
    };
    (cells, recording.into_answers())
}

pub async fn evidence_pack(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<PackAnswer>, ApiError> {
    let at = match &q.at {
        Some(t) => parse_time(t, "at")?,
        None => now_ms(),
    };
    let org = ctx.org.id;
    let catalog = OrgCatalog::at_or_now(&state, org, q.at.is_some().then_some(at)).await?;
    let product = catalog.product(&name)?;
    let version = version_of(product, q.version.as_deref())?;
    if let Some(fw) = &q.framework
        && !version.frameworks.contains(fw)
    {
        return Err(ApiError::NotFound(format!(
            "framework '{fw}' is not attached to {name} {}",
            version.name
        )));
    }
    // The facts, gathered as `computation::compute` gathers them, but kept: they go
    // into the pack so that a verifier can run the same computation.
    let targets = [(product, version)];
    let requirements = requirement_facts(&catalog, &targets)
        .pop()
        .unwrap_or_default();
    let stored = stored_project_versions(&state, &ctx, &targets).await?;
    let resolved = resolve_projects(&targets, &stored);
    let windows = evidence_windows(&requirements.iter().collect::<Vec<_>>());
    // Packs record what statuses depend on; referenced-but-missing evaluations only
    // explain, and are not part of a pack's facts.
    let mut evidence =
        EvidenceByVersion::read(&state, &ctx, &resolved, at, &windows, false).await?;
    let decisions = state
        .store
        .list_decisions(org, Some(&name), Some(&version.name))
        .await?;
    let proofs = state.store.list_proofs(org, &name, &version.name).await?;
    let projects = resolved
        .into_iter()
        .flatten()
        .map(|(name, wanted, id)| ProjectFacts {
            name,
            version: wanted,
            evidence: id.map(|id| evidence.take(id)).unwrap_or_default(),
        })
        .collect();
    let facts = ProductVersionFacts {
        requirements,
        projects,
        ..manual_facts(product, version, &proofs, &decisions)
    };
    let auto_matching = ctx.org.settings.requirements_auto_matching;
    let (cells, answers) = compute_recorded(&catalog, &ctx.org.name, auto_matching, at, &facts);
    let mut pack_facts = pack::PackFacts::of(
        &ctx.org.name,
        auto_matching,
        &facts,
        &catalog.policies,
        &proofs,
        answers,
    );
    // The section each attached framework lists each requirement under, recorded so
    // that `report verify` recomputes the per-section scores too.
    pack_facts.sections = version
        .frameworks
        .iter()
        .filter_map(|f| {
            let paths = catalog.sections.get(f)?;
            Some((
                f.clone(),
                paths.iter().map(|(r, p)| (r.clone(), p.clone())).collect(),
            ))
        })
        .collect();
    let posture = pack::posture(
        (&name, &version.name, q.framework.as_deref()),
        at,
        &version.frameworks,
        &pack_facts.sections,
        &cells,
        &fmt_time,
    );

    // Every attestation an evaluation in the facts came from, as stored.
    let digests: BTreeSet<&str> = pack_facts
        .projects
        .iter()
        .flat_map(|p| &p.evaluations)
        .map(|e| e.attestation.as_str())
        .collect();
    let mut envelopes = Vec::with_capacity(digests.len());
    for digest in digests {
        let (row, envelope, _) = state
            .store
            .get_attestation(org, digest)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("attestation {digest} vanished")))?;
        envelopes.push((
            pack::EnvelopeEntry {
                path: pack::envelope_path(&row.digest),
                digest: row.digest,
                project: row.project,
                version: row.version,
                workflow: row.workflow,
                finished_at: row.finished_at,
                received_at: row.received_at,
                signer: row.signer,
                verified: row.verified,
            },
            envelope.into_bytes(),
        ));
    }
    let mut proof_files = BTreeMap::new();
    for p in proofs.iter().filter(|p| p.kind == "file") {
        if let Some(bytes) = state.store.blob(org, &p.value).await? {
            proof_files.insert(p.value.clone(), bytes);
        }
    }
    let events = state.store.audit_list(org, &AuditQuery::default()).await?;
    let keys: Vec<pack::PackKey> = state
        .store
        .list_keys(org)
        .await?
        .into_iter()
        .map(|k| pack::PackKey {
            name: k.name,
            kind: k.kind,
            algorithm: k.algorithm,
            pem: k.pem,
            fingerprint: k.fingerprint,
        })
        .collect();
    let decisions_file = pack::DecisionsFile {
        decisions,
        proofs,
        applicability: pack_facts.applicability.clone(),
    };
    let manifest = pack::Manifest {
        format: pack::FORMAT.into(),
        org: ctx.org.name.clone(),
        product: name.clone(),
        version: version.name.clone(),
        framework: q.framework.clone(),
        at: fmt_time(at),
        at_ms: at,
        created_at: fmt_time(now_ms()),
        audit_head: events.last().map(|e| pack::AuditHead {
            seq: e.seq,
            hash: e.hash.clone(),
        }),
        files: Vec::new(),
    };
    let audit = pack::AuditExtract { events };
    let control_ids = pack_facts
        .requirements
        .iter()
        .filter_map(|r| {
            let (requirement, _) = catalog.requirements.get(&r.name)?;
            let id = requirement
                .metadata
                .annotations
                .get("comply.dev/source-id")?;
            Some((r.name.clone(), id.clone()))
        })
        .collect();
    let key = signing_key(&state).await?;
    let files = pack::build(
        pack::PackContents {
            manifest,
            posture: &posture,
            facts: &pack_facts,
            decisions: &decisions_file,
            audit: &audit,
            keys: &keys,
            envelopes,
            proof_files,
            control_ids,
        },
        &key,
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(Json(PackAnswer {
        product: name,
        version: version.name.clone(),
        at: fmt_time(at),
        files: files
            .into_iter()
            .map(|(path, bytes)| PackFile {
                path,
                content: b64.encode(bytes),
            })
            .collect(),
    }))
}
