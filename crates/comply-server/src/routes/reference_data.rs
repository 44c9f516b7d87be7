//! Reference data policies read as `data.*`: the CISA KEV catalog, per org or for the
//! instance (org 0: the snapshot shipped with the binary, synced at start). An org's
//! own import wins over the instance's. Evaluations that read a catalog name it, and a
//! catalog older than the org's `reference_data_max_age_days` setting (default 7) is
//! called stale in status explanations.

use crate::auth::OrgCtx;
use crate::error::{ApiError, Body};
use crate::state::{AppState, fmt_time, now_ms};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use comply_store::{ReferenceDataRow, Store};
use serde::{Deserialize, Serialize};

/// The kinds of reference data comply knows.
pub const KINDS: &[&str] = &["kev"];

const DAY_MS: i64 = 24 * 3600 * 1000;

/// What a KEV catalog says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevInfo {
    pub version: String,
    pub released_at: i64,
    pub entries: i64,
}

#[derive(Deserialize)]
struct KevHeader {
    #[serde(rename = "catalogVersion")]
    catalog_version: String,
    #[serde(rename = "dateReleased")]
    date_released: String,
    vulnerabilities: Vec<KevEntry>,
}

#[derive(Deserialize)]
struct KevEntry {
    #[serde(rename = "cveID")]
    #[allow(dead_code)] // required: an entry without it is not a KEV entry
    cve_id: String,
}

/// Checks that `text` is a KEV catalog as CISA publishes it and reads its header.
pub fn parse_kev(text: &str) -> Result<KevInfo, String> {
    let h: KevHeader = serde_json::from_str(text).map_err(|e| {
        format!("not a CISA KEV catalog (known_exploited_vulnerabilities.json): {e}")
    })?;
    let released_at = h
        .date_released
        .parse::<jiff::Timestamp>()
        .map_err(|e| format!("dateReleased '{}' is not a time: {e}", h.date_released))?
        .as_millisecond();
    Ok(KevInfo {
        version: h.catalog_version,
        released_at,
        entries: h.vulnerabilities.len() as i64,
    })
}

/// Stores the embedded snapshot as the instance's catalog when it is not there yet
/// (a newer import into org 0 is not replaced by an older snapshot).
pub(crate) async fn sync_snapshot(store: &Store, now: i64) -> Result<(), String> {
    let text = comply_content::KEV_SNAPSHOT;
    let info = parse_kev(text).map_err(|e| format!("embedded KEV snapshot: {e}"))?;
    let current = store
        .reference_data(comply_store::BUILTIN_ORG, "kev")
        .await
        .map_err(|e| e.to_string())?;
    if current
        .is_some_and(|c| c.org_id == comply_store::BUILTIN_ORG && c.released_at >= info.released_at)
    {
        return Ok(());
    }
    store
        .put_reference_data(
            &ReferenceDataRow {
                org_id: comply_store::BUILTIN_ORG,
                kind: "kev".into(),
                version: info.version,
                released_at: info.released_at,
                entries: info.entries,
                source: "embedded snapshot".into(),
                digest: comply_core::digest::sha256(text.as_bytes()),
                content: text.to_owned(),
                imported_at: now,
            },
            "system",
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// One catalog as the API shows it.
#[derive(Serialize)]
pub struct ReferenceDataView {
    kind: String,
    /// `org` (the org's own import) or `instance`.
    scope: &'static str,
    version: String,
    released_at: String,
    entries: i64,
    source: String,
    digest: String,
    imported_at: String,
    stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

/// Older than the org allows (`reference_data_max_age_days`).
pub fn is_stale(released_at: i64, now: i64, max_age_days: u32) -> bool {
    now - released_at > i64::from(max_age_days) * DAY_MS
}

fn view(r: ReferenceDataRow, with_content: bool, now: i64, max_age_days: u32) -> ReferenceDataView {
    ReferenceDataView {
        scope: if r.org_id == comply_store::BUILTIN_ORG {
            "instance"
        } else {
            "org"
        },
        stale: is_stale(r.released_at, now, max_age_days),
        kind: r.kind,
        version: r.version,
        released_at: fmt_time(r.released_at),
        entries: r.entries,
        source: r.source,
        digest: r.digest,
        imported_at: fmt_time(r.imported_at),
        content: with_content.then_some(r.content),
    }
}

/// A line naming the catalog an evaluation read: which, dated when, stale or not.
pub fn describe(r: &ReferenceDataRow, now: i64, max_age_days: u32) -> String {
    let mut line = format!(
        "CISA KEV catalog {} ({} entries, released {}, {} {})",
        r.version,
        r.entries,
        fmt_time(r.released_at),
        if r.org_id == comply_store::BUILTIN_ORG {
            "instance"
        } else {
            "org"
        },
        r.source
    );
    if is_stale(r.released_at, now, max_age_days) {
        line.push_str(&format!(
            "; STALE: older than {max_age_days} days (the org's reference_data_max_age_days), import a current one (comply reference-data import kev FILE)"
        ));
    }
    line
}

fn check_kind(kind: &str) -> Result<(), ApiError> {
    if KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "no reference data kind '{kind}'; comply knows: {}",
            KINDS.join(", ")
        )))
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
) -> Result<Json<Vec<ReferenceDataView>>, ApiError> {
    let now = now_ms();
    let rows = state.store.list_reference_data(ctx.org.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| view(r, false, now, ctx.org.settings.reference_data_max_age_days))
            .collect(),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, kind)): Path<(String, String)>,
) -> Result<Json<ReferenceDataView>, ApiError> {
    check_kind(&kind)?;
    let row = state
        .store
        .reference_data(ctx.org.id, &kind)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("no {kind} reference data in this org or instance"))
        })?;
    Ok(Json(view(
        row,
        true,
        now_ms(),
        ctx.org.settings.reference_data_max_age_days,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportIn {
    /// The catalog text as published.
    content: String,
    /// Where it came from (a file name).
    source: String,
    /// Import for the whole instance (org 0) instead of this org: bootstrap owner only.
    #[serde(default)]
    instance: bool,
}

pub async fn import(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Path((_, kind)): Path<(String, String)>,
    Body(body): Body<ImportIn>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_kind(&kind)?;
    let info = parse_kev(&body.content).map_err(ApiError::BadRequest)?;
    let now = now_ms();
    if info.released_at > now + 5 * 60 * 1000 {
        return Err(ApiError::BadRequest(format!(
            "the catalog's dateReleased ({}) is in the future",
            fmt_time(info.released_at)
        )));
    }
    let org_id = if body.instance {
        if !ctx.principal.instance_admin {
            return Err(ApiError::Forbidden(
                "only the bootstrap owner imports reference data for the instance".into(),
            ));
        }
        comply_store::BUILTIN_ORG
    } else {
        ctx.org.id
    };
    let row = ReferenceDataRow {
        org_id,
        kind: kind.clone(),
        version: info.version,
        released_at: info.released_at,
        entries: info.entries,
        source: body.source,
        digest: comply_core::digest::sha256(body.content.as_bytes()),
        content: body.content,
        imported_at: now,
    };
    let changed = state
        .store
        .put_reference_data(&row, &ctx.principal.actor())
        .await?;
    let mut v = serde_json::to_value(view(
        row,
        false,
        now,
        ctx.org.settings.reference_data_max_age_days,
    ))
    .expect("views serialize");
    v["changed"] = serde_json::json!(changed);
    Ok(Json(v))
}
