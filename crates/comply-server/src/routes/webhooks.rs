//! Org webhooks (decision 0037): the API that manages them, their delivery log, and
//! the watch that turns posture changes into outbox events.

use crate::auth::{OrgCtx, Principal};
use crate::catalog::OrgCatalog;
use crate::computation::{Detail, compute_many, stored_project_versions};
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms};
use crate::webhooks::{
    CellFailed, CoverageDropped, EVENT_KINDS, EventData, ExceptionExpiring, GraceEnding,
    Noncompliant, PING, Ping, WebhookEvent, check_url, random_hex,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use comply_core::Role;
use comply_core::resource::{Product, ProductVersion, Requirement};
use comply_core::status::{CellStatus, DecisionRefKind, Score, Status};
use comply_store::{DeliveryRow, NewWebhook, OutboxEvent, WebhookRow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Webhooks per org: each one is a request per event, and the list is read by every
/// enqueue (docs/limits.md).
pub const MAX_WEBHOOKS: usize = 20;
/// The longest horizon a webhook may look ahead for deadlines.
const MAX_HORIZON_MS: i64 = 30 * 86_400_000;
const DEFAULT_HORIZON_MS: i64 = 24 * 3_600_000;

#[derive(Serialize)]
pub struct WebhookView {
    id: String,
    url: String,
    events: Vec<String>,
    /// How far ahead `grace.ending` and `exception.expiring` look, e.g. `24h`.
    horizon: String,
    created: String,
    created_by: String,
    enabled: bool,
    /// Failed attempts since the last delivered one.
    failures: i64,
    disabled: Option<String>,
    disabled_reason: Option<String>,
}

fn horizon_text(ms: i64) -> String {
    if ms % 86_400_000 == 0 {
        format!("{}d", ms / 86_400_000)
    } else if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else {
        format!("{}m", ms / 60_000)
    }
}

fn view(w: WebhookRow) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url,
        events: w.events,
        horizon: horizon_text(w.horizon_ms),
        created: fmt_time(w.created_at),
        created_by: w.created_by,
        enabled: w.disabled_at.is_none(),
        failures: w.failures,
        disabled: w.disabled_at.map(fmt_time),
        disabled_reason: w.disabled_reason,
    }
}

/// Never the secret: it was shown once, at creation.
pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let hooks = state.store.list_webhooks(ctx.org.id).await?;
    Ok(Json(hooks.into_iter().map(view).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    url: String,
    events: Vec<String>,
    /// A duration such as `24h`, `90m`, `7d`; default 24h.
    #[serde(default)]
    horizon: Option<String>,
}

#[derive(Serialize)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    webhook: WebhookView,
    /// Shown only now: receivers verify `X-Comply-Signature` with it.
    secret: String,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Body(body): Body<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let url = body.url.trim();
    check_url(url).map_err(ApiError::BadRequest)?;
    let mut events = BTreeSet::new();
    for e in &body.events {
        let e = e.trim();
        if !EVENT_KINDS.contains(&e) {
            return Err(ApiError::BadRequest(format!(
                "unknown event {}; expected one of {}",
                comply_core::name::quote(e),
                EVENT_KINDS.join(", ")
            )));
        }
        events.insert(e.to_owned());
    }
    if events.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "a webhook needs at least one event: {}",
            EVENT_KINDS.join(", ")
        )));
    }
    let horizon_ms = match body.horizon.as_deref() {
        None => DEFAULT_HORIZON_MS,
        Some(h) => super::deadlines::parse_duration(h)
            .filter(|ms| *ms > 0 && *ms <= MAX_HORIZON_MS)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "horizon {} is not a duration from 1m to 30d such as 90m, 24h or 7d",
                    comply_core::name::quote(h)
                ))
            })?,
    };
    if state.store.list_webhooks(ctx.org.id).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::Conflict(format!(
            "an organization has at most {MAX_WEBHOOKS} webhooks; remove one first"
        )));
    }
    let hook = NewWebhook {
        id: random_hex(8),
        url: url.to_owned(),
        events: events.into_iter().collect(),
        horizon_ms,
        secret: format!("whsec_{}", random_hex(32)),
    };
    let now = now_ms();
    let actor = ctx.principal.actor();
    state
        .store
        .create_webhook(ctx.org.id, &hook, &actor, now)
        .await?;
    let secret = hook.secret.clone();
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            webhook: view(WebhookRow {
                id: hook.id,
                org_id: ctx.org.id,
                url: hook.url,
                events: hook.events,
                horizon_ms,
                secret: String::new(),
                created_at: now,
                created_by: actor,
                failures: 0,
                disabled_at: None,
                disabled_reason: None,
            }),
            secret,
        }),
    ))
}

pub async fn remove(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .remove_webhook(ctx.org.id, &id, &ctx.principal.actor(), now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn existing(state: &AppState, ctx: &OrgCtx, id: &str) -> Result<WebhookRow, ApiError> {
    state
        .store
        .webhook(ctx.org.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook '{id}' does not exist")))
}

pub async fn enable(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<WebhookView>, ApiError> {
    state
        .store
        .enable_webhook(ctx.org.id, &id, &ctx.principal.actor(), now_ms())
        .await?;
    state.webhook_nudge.notify_one();
    Ok(Json(view(existing(&state, &ctx, &id).await?)))
}

#[derive(Serialize)]
pub struct Enqueued {
    event: String,
}

/// Enqueues a `ping` for this webhook only: the worker sends it like any event.
pub async fn test(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Enqueued>), ApiError> {
    let hook = existing(&state, &ctx, &id).await?;
    let now = now_ms();
    let event = WebhookEvent::new(
        &ctx.org.name,
        PING,
        EventData::Ping(Ping {
            webhook: hook.id.clone(),
            message: format!("test delivery requested by {}", ctx.principal.actor()),
        }),
        now,
    );
    let outbox = OutboxEvent {
        id: event.id.clone(),
        kind: PING.into(),
        dedupe_key: format!("ping:{}", event.id),
        payload: serde_json::to_string(&event).expect("events serialize"),
        only_webhook: Some(hook.id),
    };
    state
        .store
        .enqueue_events(ctx.org.id, &[outbox], now)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Enqueued { event: event.id })))
}

#[derive(Deserialize)]
pub struct DeliveriesQuery {
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct DeliveryView {
    id: String,
    event: String,
    #[serde(rename = "type")]
    kind: String,
    /// `pending`, `delivered`, or `failed` (given up after the last attempt).
    state: String,
    attempts: i64,
    next_attempt: Option<String>,
    last_status: Option<i64>,
    last_error: Option<String>,
    last_attempt: Option<String>,
    delivered: Option<String>,
    created: String,
}

fn delivery_view(d: DeliveryRow) -> DeliveryView {
    DeliveryView {
        next_attempt: (d.state == "pending").then(|| fmt_time(d.next_attempt_at)),
        id: d.id,
        event: d.event_id,
        kind: d.kind,
        state: d.state,
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error,
        last_attempt: d.last_attempt_at.map(fmt_time),
        delivered: d.delivered_at.map(fmt_time),
        created: fmt_time(d.created_at),
    }
}

/// The delivery log, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    existing(&state, &ctx, &id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state.store.list_deliveries(ctx.org.id, &id, limit).await?;
    Ok(Json(rows.into_iter().map(delivery_view).collect()))
}

/// What the watch last notified of an org, stored as JSON in `webhook_watch`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Snapshot {
    /// Cell (`product@version/requirement/project`) → status.
    cells: BTreeMap<String, String>,
    /// `product@version` → compliant.
    compliant: BTreeMap<String, bool>,
    /// Requirement → projects whose contracts fully cover it.
    coverage: BTreeMap<String, usize>,
}

fn cell_key(product: &str, version: &str, cell: &CellStatus) -> String {
    format!(
        "{product}@{version}/{}/{}",
        cell.requirement,
        cell.project.as_deref().unwrap_or("-")
    )
}

fn is_failed(status: &str) -> bool {
    status == Status::Failed.as_str() || status == Status::Expired.as_str()
}

/// Compares the org's posture now with what was last notified and, in one
/// transaction, moves the snapshot and enqueues the events found. Two servers watching
/// at once: the compare-and-swap on the snapshot's revision lets one of them write,
/// and every event's dedupe key is unique, so each change is enqueued once. The first
/// look at an org records a baseline and notifies no change (there is none to compare
/// with); deadline events need no baseline. Returns the events enqueued.
pub(crate) async fn watch_org(state: &AppState, org_id: i64, now: i64) -> Result<usize, ApiError> {
    let Some(org) = state.store.org_by_id(org_id).await? else {
        return Ok(0);
    };
    let hooks: Vec<WebhookRow> = state
        .store
        .list_webhooks(org_id)
        .await?
        .into_iter()
        .filter(|h| h.disabled_at.is_none())
        .collect();
    if hooks.is_empty() {
        return Ok(0);
    }
    // Read before computing: a snapshot written meanwhile makes the swap below fail.
    let before = state.store.watch_snapshot(org_id).await?;
    let (revision, old) = match &before {
        Some((rev, text)) => (
            Some(*rev),
            Some(serde_json::from_str::<Snapshot>(text).unwrap_or_default()),
        ),
        None => (None, None),
    };
    let ctx = OrgCtx {
        principal: Principal {
            token_id: "webhooks".into(),
            token_name: "watch".into(),
            org_id,
            org_name: org.name.clone(),
            role: Role::Viewer,
            instance_admin: false,
        },
        role: Role::Viewer,
        org,
    };
    let catalog = OrgCatalog::get(state, org_id).await?;
    let targets: Vec<(&Product, &ProductVersion)> = catalog
        .products
        .values()
        .flat_map(|p| p.spec.versions.iter().map(move |v| (p, v)))
        .collect();
    let stored = stored_project_versions(state, &ctx, &targets).await?;
    let all = compute_many(
        state,
        &ctx,
        &catalog,
        &targets,
        &stored,
        now,
        Detail::Statuses,
    )
    .await?;
    // Coverage of the requirements the products' frameworks list, when anyone listens.
    let mut coverage = BTreeMap::new();
    if hooks.iter().any(|h| h.receives("coverage.dropped")) {
        let mut names = BTreeSet::new();
        for (_, version) in &targets {
            for f in &version.frameworks {
                names.extend(catalog.frameworks.get(f).into_iter().flatten().cloned());
            }
        }
        let requirements: Vec<&Requirement> = names
            .iter()
            .filter_map(|n| catalog.requirements.get(n))
            .filter(|(_, active)| *active)
            .map(|(r, _)| r)
            .collect();
        coverage = super::coverage::full_counts(state, &ctx, &requirements).await?;
    }

    let org_name = ctx.org.name.as_str();
    let rev = revision.unwrap_or(0);
    let mut events: Vec<OutboxEvent> = Vec::new();
    let mut push = |kind: &str, key: String, data: EventData, only: Option<&str>| {
        let event = WebhookEvent::new(org_name, kind, data, now);
        events.push(OutboxEvent {
            id: event.id.clone(),
            kind: kind.to_owned(),
            dedupe_key: key,
            payload: serde_json::to_string(&event).expect("events serialize"),
            only_webhook: only.map(str::to_owned),
        });
    };
    let mut snapshot = Snapshot {
        coverage,
        ..Snapshot::default()
    };
    for ((product, version), cells) in targets.iter().zip(&all) {
        let (p, v) = (product.metadata.name.as_str(), version.name.as_str());
        let pv = format!("{p}@{v}");
        let score = Score::of(cells);
        if let Some(old) = &old
            && old.compliant.get(&pv) == Some(&true)
            && !score.compliant
        {
            push(
                "product_version.noncompliant",
                format!("product_version.noncompliant:{pv}:r{rev}"),
                EventData::Noncompliant(Noncompliant {
                    product: p.into(),
                    version: v.into(),
                    score: score.score,
                    passing: score.passing,
                    counted: score.counted,
                }),
                None,
            );
        }
        snapshot.compliant.insert(pv, score.compliant);
        for cell in cells {
            let key = cell_key(p, v, cell);
            let status = cell.status.as_str();
            if let Some(old) = &old {
                let previous = old.cells.get(&key);
                if is_failed(status) && previous.is_none_or(|s| !is_failed(s)) {
                    push(
                        "cell.failed",
                        format!("cell.failed:{key}:r{rev}"),
                        EventData::CellFailed(CellFailed {
                            product: p.into(),
                            version: v.into(),
                            requirement: cell.requirement.clone(),
                            project: cell.project.clone(),
                            status: status.into(),
                            previous: previous.cloned(),
                        }),
                        None,
                    );
                }
            }
            // Deadlines, per webhook: each looks as far ahead as its horizon says.
            for hook in &hooks {
                let within = |t: Option<i64>| t.filter(|t| *t > now && *t <= now + hook.horizon_ms);
                if hook.receives("grace.ending") && cell.status == Status::Grace {
                    for c in &cell.components {
                        if let Some(t) = within(c.grace_ends_at) {
                            push(
                                "grace.ending",
                                format!("grace.ending:{}:{key}:{}:{t}", hook.id, c.name),
                                EventData::GraceEnding(GraceEnding {
                                    product: p.into(),
                                    version: v.into(),
                                    requirement: cell.requirement.clone(),
                                    project: cell.project.clone(),
                                    subject: c.name.clone(),
                                    grace_ends: fmt_time(t),
                                }),
                                Some(&hook.id),
                            );
                        }
                    }
                }
                if hook.receives("exception.expiring")
                    && let Some(d) = &cell.decision
                    && d.kind == DecisionRefKind::Exception
                    && let Some(t) = within(d.expires_at)
                {
                    push(
                        "exception.expiring",
                        format!("exception.expiring:{}:{}:{t}", hook.id, d.id),
                        EventData::ExceptionExpiring(ExceptionExpiring {
                            product: p.into(),
                            version: v.into(),
                            requirement: cell.requirement.clone(),
                            project: cell.project.clone(),
                            exception: d.id.clone(),
                            expires: fmt_time(t),
                            reason: d.reason.clone(),
                        }),
                        Some(&hook.id),
                    );
                }
            }
            snapshot.cells.insert(key, status.to_owned());
        }
    }
    if let Some(old) = &old {
        for (requirement, &full) in &snapshot.coverage {
            if let Some(&previous) = old.coverage.get(requirement)
                && full < previous
            {
                push(
                    "coverage.dropped",
                    format!("coverage.dropped:{requirement}:r{rev}"),
                    EventData::CoverageDropped(CoverageDropped {
                        requirement: requirement.clone(),
                        full,
                        previous,
                    }),
                    None,
                );
            }
        }
    }
    let text = serde_json::to_string(&snapshot).expect("snapshots serialize");
    // Nothing changed and nothing is due: no write (a watch runs every few seconds).
    if events.is_empty() && before.as_ref().is_some_and(|(_, t)| *t == text) {
        return Ok(0);
    }
    let written = state
        .store
        .advance_watch(org_id, revision, &text, &events, now)
        .await?;
    Ok(written.unwrap_or(0))
}
