//! Evidence: trusted keys, attestation ingestion (semantics §6), projects, workflows.

use crate::auth::{OrgCtx, Principal, org_context};
use crate::boundary;
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use comply_attest::{
    AttestError, Certificate, ChainloopPredicate, PolicyEvaluation, PolicyEvaluationBundle,
    PublicKey, Signed, TrustStore, VerifiedBy, parse_envelope, parse_statement, verify,
};
use comply_core::Role;
use comply_core::reference::PolicyRef;
use comply_store::{AttachOutcome, EvaluationsRef, KeyRow, NewAttestation, NewEvaluation};
use serde::Deserialize;
use serde_json::{Value, json};

/// Attestations finishing later than this after the server's clock are refused.
const FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

fn attest_error(e: AttestError) -> ApiError {
    ApiError::BadRequest(crate::error::short(&format!("attestation rejected: {e}")))
}

// ---------------------------------------------------------------------------------
// Keys

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    /// PEM: a public key (`PUBLIC KEY`) or a CA certificate (`CERTIFICATE`).
    pem: String,
}

fn key_view(k: &KeyRow) -> Value {
    json!({"name": k.name, "kind": k.kind, "algorithm": k.algorithm,
           "fingerprint": k.fingerprint, "created": fmt_time(k.created_at)})
}

pub async fn list_keys(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let keys = state.store.list_keys(ctx.org.id).await?;
    Ok(Json(keys.iter().map(key_view).collect()))
}

pub async fn add_key(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if let Some(problem) = comply_core::name::dns1123_problem(&body.name) {
        return Err(ApiError::BadRequest(format!("invalid key name: {problem}")));
    }
    let (kind, algorithm, fingerprint, pem) = if body.pem.contains("BEGIN CERTIFICATE") {
        let cert = Certificate::from_pem(&body.pem)
            .map_err(|e| ApiError::BadRequest(format!("not a usable CA certificate: {e}")))?;
        if !cert.is_ca() {
            return Err(ApiError::BadRequest(format!(
                "the certificate '{}' is not a CA certificate (basicConstraints CA is not set); trust its issuer instead",
                cert.subject()
            )));
        }
        let algorithm = cert
            .public_key()
            .map(|k| k.algorithm().to_string())
            .unwrap_or_else(|_| "certificate".into());
        (
            "ca_certificate",
            algorithm,
            cert.fingerprint(),
            cert.to_pem(),
        )
    } else {
        let key = PublicKey::from_pem(&body.pem)
            .map_err(|e| ApiError::BadRequest(format!("not a usable public key: {e}")))?;
        (
            "public_key",
            key.algorithm().to_string(),
            key.fingerprint(),
            key.to_pem(),
        )
    };
    let row = KeyRow {
        name: body.name.clone(),
        kind: kind.into(),
        algorithm,
        pem,
        fingerprint,
        created_at: now_ms(),
    };
    let added = state
        .store
        .add_key(ctx.org.id, &row, &ctx.principal.actor(), row.created_at)
        .await?;
    if !added {
        return Err(ApiError::Conflict(format!(
            "a key named '{}' already exists",
            body.name
        )));
    }
    Ok((StatusCode::CREATED, Json(key_view(&row))))
}

pub async fn remove_key(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    if state
        .store
        .remove_key(ctx.org.id, &name, &ctx.principal.actor(), now_ms())
        .await?
    {
        Ok(Json(json!({"name": name, "removed": true})))
    } else {
        Err(ApiError::NotFound(format!("key '{name}' does not exist")))
    }
}

async fn trust_store(state: &AppState, org_id: i64) -> Result<TrustStore, ApiError> {
    let mut trust = TrustStore::new();
    for k in state.store.list_keys(org_id).await? {
        // Keys were parsed when added; a row that no longer parses is skipped rather
        // than blocking every ingestion of the org.
        match k.kind.as_str() {
            "ca_certificate" => match Certificate::from_pem(&k.pem) {
                Ok(c) => trust = trust.with_ca(k.name, c),
                Err(e) => tracing::warn!(key = %k.name, error = %e, "unusable trusted CA"),
            },
            _ => match PublicKey::from_pem(&k.pem) {
                Ok(p) => trust = trust.with_key(k.name, p),
                Err(e) => tracing::warn!(key = %k.name, error = %e, "unusable trusted key"),
            },
        }
    }
    Ok(trust)
}

// ---------------------------------------------------------------------------------
// Ingestion

/// What a push carries: the envelope alone, or the envelope with the policy-evaluation
/// bundle its predicate references (`policyEvaluationsRef`).
struct Push {
    envelope: Vec<u8>,
    bundle: Option<Vec<u8>>,
}

fn split_push(body: &[u8]) -> Result<Push, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("attestation rejected: not JSON: {e}")))?;
    let Some(envelope) = value.get("envelope") else {
        return Ok(Push {
            envelope: body.to_vec(),
            bundle: None,
        });
    };
    let as_bytes = |v: &Value| match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    };
    Ok(Push {
        envelope: as_bytes(envelope),
        bundle: value.get("policy_evaluations").map(as_bytes),
    })
}

fn violations_json(e: &PolicyEvaluation) -> Value {
    Value::Array(
        e.violations
            .iter()
            .map(|v| {
                json!({
                    "subject": v.subject,
                    "message": v.message,
                    "finding": v.finding.as_ref().map(|f| json!({f.kind.key(): f.data})),
                    "suppressed": v.suppressed,
                })
            })
            .collect(),
    )
}

fn new_evaluation(e: &PolicyEvaluation) -> NewEvaluation {
    let reference = e.policy_reference.as_ref();
    let raw_ref = reference
        .and_then(|r| r.uri.clone())
        .or_else(|| reference.map(|r| r.name.clone()))
        .unwrap_or_else(|| e.name.clone());
    let base = reference.map_or(e.name.as_str(), |r| r.name.as_str());
    // Names compare after normalising the reference (semantics §4.2); a name that does
    // not parse is kept as written so nothing is lost.
    let policy = PolicyRef::parse(base).map_or_else(|_| base.to_owned(), |r| r.name);
    NewEvaluation {
        policy,
        policy_ref: raw_ref,
        policy_digest: reference.and_then(|r| r.digest.clone()),
        material: e.material_name.clone(),
        material_type: e.kind.clone(),
        args: e.with.clone(),
        violations: violations_json(e),
        skipped: e.skipped,
        skip_reasons: e.skip_reasons.clone(),
        requirements: e.requirements.clone(),
        gate: e.gate,
        networked: e
            .annotations
            .get(NETWORKED_ANNOTATION)
            .filter(|hosts| !hosts.is_empty())
            .cloned(),
    }
}

/// What `comply attest` writes on an evaluation run with networking on (decision 0025).
const NETWORKED_ANNOTATION: &str = "comply.dev/networked";

/// Parses, verifies and stores one push. Nothing is stored unless all of it is valid.
async fn ingest(state: &AppState, ctx: &OrgCtx, body: &[u8]) -> Result<Json<Value>, ApiError> {
    boundary::refuse_nul("body", body)?;
    let push = split_push(body)?;
    let signed: Signed = parse_envelope(&push.envelope).map_err(attest_error)?;
    boundary::refuse_nul("payload", &signed.payload)?;
    let statement = parse_statement(&signed.payload).map_err(attest_error)?;
    let predicate = ChainloopPredicate::from_statement(&statement).map_err(attest_error)?;
    boundary::check_statement(&statement, &predicate)?;
    let meta = &predicate.metadata;
    let finished_at = meta.finished_at_ms.ok_or_else(|| {
        ApiError::BadRequest(
            "attestation rejected: predicate.metadata.finishedAt is missing".into(),
        )
    })?;
    let now = now_ms();
    if finished_at > now + FUTURE_SKEW_MS {
        return Err(ApiError::BadRequest(format!(
            "attestation rejected: it finished at {}, later than the server's time {} (more than 5 minutes ahead)",
            fmt_time(finished_at),
            fmt_time(now)
        )));
    }
    let project = meta.project.clone().filter(|p| !p.is_empty()).ok_or_else(|| {
        ApiError::BadRequest(
            "attestation rejected: predicate.metadata.project is missing; comply files evidence by project".into(),
        )
    })?;
    let trust = trust_store(state, ctx.org.id).await?;
    let (signer, verified) = match verify(&signed, &trust, finished_at) {
        Ok(v) => {
            let by = match v.by {
                VerifiedBy::Key { name, .. } => format!("key:{name}"),
                VerifiedBy::Certificate {
                    ca, leaf_subject, ..
                } => {
                    format!("ca:{ca} ({leaf_subject})")
                }
            };
            (by, true)
        }
        // A signature a trusted key rejects is tampering, whatever the settings say.
        Err(e @ AttestError::SignatureMismatch { .. }) => return Err(attest_error(e)),
        Err(e) if ctx.org.settings.allow_unsigned_attestations => {
            tracing::info!(error = %e, "accepting an unverified attestation: the org allows them");
            ("unsigned".to_owned(), false)
        }
        Err(e) => return Err(attest_error(e)),
    };
    let mut evaluations = predicate.policy_evaluations.clone();
    // Chainloop keeps the evaluations in its artifact store and the predicate only
    // references them: stored with what it carries, and marked, until they are supplied
    // (now, alongside, or later by attach-evaluations).
    let mut evaluations_ref = None;
    let mut evaluations_supplied = false;
    if let Some(reference) = &predicate.policy_evaluations_ref
        && evaluations.is_empty()
    {
        evaluations_ref = Some(EvaluationsRef {
            name: reference.name.clone(),
            digest: reference.digest.clone(),
            media_type: reference.media_type.clone(),
        });
        if let Some(bundle) = &push.bundle {
            evaluations = PolicyEvaluationBundle::parse(bundle, &reference.digest)
                .map_err(attest_error)?
                .evaluations;
            evaluations_supplied = true;
        }
    } else if push.bundle.is_some() && predicate.policy_evaluations_ref.is_none() {
        return Err(ApiError::BadRequest(
            "attestation rejected: a policy-evaluation bundle was sent, but the attestation references none (it has no policyEvaluationsRef, or carries its evaluations)".into(),
        ));
    }
    boundary::check_evaluations(&evaluations)?;
    let new = NewAttestation {
        digest: signed.digest(),
        project,
        version: meta.project_version.clone().unwrap_or_default(),
        prerelease: meta.project_version_prerelease,
        workflow: Some(meta.workflow.clone()).filter(|w| !w.is_empty()),
        contract: meta.contract_name.clone().filter(|c| !c.is_empty()),
        finished_at,
        signer,
        verified,
        envelope: String::from_utf8_lossy(&signed.envelope_json()).into_owned(),
        evaluations: evaluations.iter().map(new_evaluation).collect(),
        evaluations_ref,
        evaluations_supplied,
    };
    let outcome = state.store.ingest(ctx.org.id, &new, now).await?;
    // Posture may have changed: this server's webhook watch looks now.
    state.webhook_nudge.notify_one();
    // Pushed again with the bundle it referenced: supplied now, as attach-evaluations
    // would (a bundle supplied before is left as it is).
    let mut attached = None;
    if !outcome.created && new.evaluations_ref.is_some() && evaluations_supplied {
        let stored = state
            .store
            .attach_evaluations(
                ctx.org.id,
                &outcome.digest,
                &new.evaluations,
                &ctx.principal.actor(),
                now,
            )
            .await?;
        if let AttachOutcome::Attached { evaluations } = stored {
            attached = Some(evaluations);
        }
    }
    let mut answer = json!({
        "digest": outcome.digest,
        "project": outcome.project,
        "version": outcome.version,
        "created": outcome.created,
        "verified": new.verified,
        "signer": new.signer,
        "evaluations": new.evaluations.len(),
    });
    if let Some(reference) = new
        .evaluations_ref
        .as_ref()
        .filter(|_| !evaluations_supplied)
    {
        answer["evaluations_not_supplied"] = json!(reference);
    }
    if let Some(n) = attached {
        answer["evaluations_attached"] = json!(n);
    }
    Ok(Json(answer))
}

/// `POST …/attestations/{digest}/policy-evaluations`: the bundle an attestation
/// referenced (`policyEvaluationsRef`) without carrying it, checked against the
/// reference's digest and stored with an audit event; once only.
pub async fn attach_evaluations(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, digest)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    boundary::refuse_nul("body", &body)?;
    let (row, _, _) = state
        .store
        .get_attestation(ctx.org.id, &digest)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attestation {digest} does not exist")))?;
    let Some(reference) = &row.evaluations_ref else {
        return Err(ApiError::Conflict(format!(
            "attestation {digest} references no policy-evaluation bundle (no policyEvaluationsRef): it carries its evaluations"
        )));
    };
    if let Some(at) = row.evaluations_supplied_at {
        return Err(supplied_already(&digest, at));
    }
    // The bundle as a file's bytes, or wrapped as a push wraps it.
    let bytes = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) if o.len() == 1 => match o.get("policy_evaluations") {
            Some(Value::String(bundle)) => bundle.as_bytes().to_vec(),
            _ => body.to_vec(),
        },
        _ => body.to_vec(),
    };
    let evaluations = PolicyEvaluationBundle::parse(&bytes, &reference.digest)
        .map_err(|e| ApiError::BadRequest(crate::error::short(&format!("bundle rejected: {e}"))))?
        .evaluations;
    boundary::check_evaluations(&evaluations)?;
    let new: Vec<NewEvaluation> = evaluations.iter().map(new_evaluation).collect();
    let now = now_ms();
    match state
        .store
        .attach_evaluations(ctx.org.id, &digest, &new, &ctx.principal.actor(), now)
        .await?
    {
        AttachOutcome::Attached { evaluations } => Ok((
            StatusCode::CREATED,
            Json(json!({
                "digest": digest, "evaluations": evaluations,
                "reference": reference, "supplied_at": fmt_time(now),
            })),
        )),
        AttachOutcome::AlreadySupplied { at } => Err(supplied_already(&digest, at)),
        AttachOutcome::NoSuchAttestation => Err(ApiError::NotFound(format!(
            "attestation {digest} does not exist"
        ))),
        AttachOutcome::NoReference => Err(ApiError::Conflict(format!(
            "attestation {digest} references no policy-evaluation bundle"
        ))),
    }
}

fn supplied_already(digest: &str, at: i64) -> ApiError {
    ApiError::Conflict(format!(
        "the policy evaluations of attestation {digest} were supplied at {}; evidence is never replaced",
        fmt_time(at)
    ))
}

pub async fn push(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    ingest(&state, &ctx, &body).await
}

/// `POST /api/v1/attestations`: the token's own org (as Chainloop clients expect).
pub async fn push_token_org(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let org = principal.org_name.clone();
    let ctx = org_context(&state, principal, &org).await?;
    if !ctx.role.allows(Role::Member) {
        return Err(ApiError::Forbidden(format!(
            "pushing attestations needs the member role; your token has {}",
            ctx.role
        )));
    }
    ingest(&state, &ctx, &body).await
}

#[derive(Deserialize)]
pub struct AttestationQuery {
    project: Option<String>,
    version: Option<String>,
    /// At most this many (default 1,000, at most 10,000); ask for one more than you
    /// show to know whether there are more.
    limit: Option<i64>,
    /// The digest of the last attestation of the previous page.
    after: Option<String>,
}

fn attestation_view(a: &comply_store::AttestationRow) -> Value {
    json!({
        "digest": a.digest, "project": a.project, "version": a.version,
        "workflow": a.workflow, "contract": a.contract,
        "finished_at": fmt_time(a.finished_at), "received_at": fmt_time(a.received_at),
        "signer": a.signer, "verified": a.verified,
        "policy_evaluations_ref": a.evaluations_ref,
        "evaluations_supplied": a.evaluations_ref.as_ref().map(|_| a.evaluations_supplied_at.is_some()),
        "evaluations_supplied_at": a.evaluations_supplied_at.map(fmt_time),
    })
}

pub async fn list_attestations(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<AttestationQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = state
        .store
        .list_attestations(
            ctx.org.id,
            q.project.as_deref(),
            q.version.as_deref(),
            q.limit.unwrap_or(1000).clamp(1, 10_001),
            q.after.as_deref(),
        )
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "after: no attestation {} in this organization",
                q.after.as_deref().unwrap_or_default()
            ))
        })?;
    Ok(Json(rows.iter().map(attestation_view).collect()))
}

pub async fn get_attestation(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, digest)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (row, envelope, evaluations) = state
        .store
        .get_attestation(ctx.org.id, &digest)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("attestation {digest} does not exist")))?;
    let mut view = attestation_view(&row);
    // The statement is the envelope's payload; it is stored once, inside the envelope.
    view["statement"] = parse_envelope(envelope.as_bytes())
        .ok()
        .and_then(|s| serde_json::from_slice(&s.payload).ok())
        .unwrap_or(Value::Null);
    view["evaluations"] = json!(
        evaluations
            .iter()
            .map(|e| json!({
                "id": e.id, "policy": e.policy, "policy_ref": e.policy_ref,
                "policy_digest": e.policy_digest, "material": e.material,
                "material_type": e.material_type, "with": e.args,
                "violations": e.violations, "skipped": e.skipped,
                "skip_reasons": e.skip_reasons, "requirements": e.requirements,
                "gate": e.gate, "time": fmt_time(e.time_ms),
                "received_at": fmt_time(e.received_at), "networked": e.networked,
            }))
            .collect::<Vec<_>>()
    );
    Ok(Json(view))
}

// ---------------------------------------------------------------------------------
// Projects and workflows

pub async fn list_projects(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let projects = state.store.list_projects(ctx.org.id).await?;
    Ok(Json(projects.iter().map(project_view).collect()))
}

fn project_view(p: &comply_store::ProjectRow) -> Value {
    json!({
        "name": p.name,
        "latest": p.latest,
        "versions": p.versions.iter().map(|v| v.version.clone()).collect::<Vec<_>>(),
        "version_details": p.versions.iter().map(|v| json!({
            "version": v.version, "prerelease": v.prerelease,
            "released_at": v.released_at.map(fmt_time),
            "created_at": fmt_time(v.created_at),
            "last_attested_at": fmt_time(v.last_attested_at),
            "latest": p.latest.as_deref() == Some(v.version.as_str()),
        })).collect::<Vec<_>>(),
        "workflows": p.workflows.iter().map(workflow_view).collect::<Vec<_>>(),
    })
}

fn workflow_view(w: &comply_store::WorkflowRow) -> Value {
    json!({"project": w.project, "name": w.name, "contract": w.contract,
           "contract_explicit": w.contract_explicit})
}

pub async fn get_project(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    state
        .store
        .project(ctx.org.id, &name)
        .await?
        .map(|p| Json(project_view(&p)))
        .ok_or_else(|| ApiError::NotFound(format!("project '{name}' does not exist")))
}

/// One page of [`list_projects`]' answer (the same views) for the dashboard: projects
/// whose name contains `containing`, in name order, `limit` from `offset`, and how many
/// match in all. Only the page's rows are read.
pub(crate) async fn projects_page(
    state: &AppState,
    ctx: &OrgCtx,
    containing: &str,
    limit: u64,
    offset: u64,
) -> Result<(Vec<Value>, u64), ApiError> {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let (rows, total) = state
        .store
        .list_projects_page(ctx.org.id, containing, clamp(limit), clamp(offset))
        .await?;
    Ok((
        rows.iter().map(project_view).collect(),
        u64::try_from(total).unwrap_or(0),
    ))
}

#[derive(Deserialize)]
pub struct WorkflowQuery {
    project: Option<String>,
}

pub async fn list_workflows(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<WorkflowQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    // One project's: that project read alone, not the org's list.
    let projects = match &q.project {
        Some(name) => state
            .store
            .project(ctx.org.id, name)
            .await?
            .into_iter()
            .collect(),
        None => state.store.list_projects(ctx.org.id).await?,
    };
    Ok(Json(
        projects
            .iter()
            .flat_map(|p| p.workflows.iter().map(workflow_view))
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkflow {
    project: String,
    name: String,
    contract: String,
}

pub async fn create_workflow(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<NewWorkflow>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    for (what, value) in [("project", &body.project), ("workflow", &body.name)] {
        if let Some(problem) = comply_core::name::dns1123_problem(value) {
            return Err(ApiError::BadRequest(format!(
                "invalid {what} name: {problem}"
            )));
        }
    }
    if state
        .store
        .get_resource(ctx.org.id, comply_core::Kind::Contract, &body.contract)
        .await?
        .is_none()
    {
        return Err(ApiError::BadRequest(format!(
            "contract '{}' does not exist; apply it first",
            body.contract
        )));
    }
    state
        .store
        .upsert_workflow(
            ctx.org.id,
            &body.project,
            &body.name,
            &body.contract,
            now_ms(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"project": body.project, "name": body.name, "contract": body.contract})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinIn {
    /// `null` unpins: `latest` follows the newest attestation again.
    version: Option<String>,
}

pub async fn pin_latest(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name)): Path<(String, String)>,
    Body(body): Body<PinIn>,
) -> Result<Json<Value>, ApiError> {
    let done = state
        .store
        .pin_latest(
            ctx.org.id,
            &name,
            body.version.as_deref(),
            &ctx.principal.actor(),
            now_ms(),
        )
        .await?;
    if !done {
        return Err(ApiError::NotFound(format!(
            "project '{name}'{} does not exist",
            body.version
                .as_deref()
                .map(|v| format!(" version '{v}'"))
                .unwrap_or_default()
        )));
    }
    Ok(Json(
        json!({"project": name, "pinned_latest": body.version}),
    ))
}

pub async fn release(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, name, version)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    if !state
        .store
        .release_version(
            ctx.org.id,
            &name,
            &version,
            &ctx.principal.actor(),
            now_ms(),
        )
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "project '{name}' has no version '{version}'"
        )));
    }
    Ok(Json(
        json!({"project": name, "version": version, "released": true}),
    ))
}
