//! What changes soon across the org without anyone acting: grace periods ending,
//! evidence and proofs going stale, exceptions and overrides expiring. Read from the
//! same status computation as every answer (the instants are the cells' own).

use crate::auth::OrgCtx;
use crate::catalog::OrgCatalog;
use crate::computation::{Detail, compute_many, stored_project_versions};
use crate::error::ApiError;
use crate::state::{AppState, fmt_time, now_ms, parse_time};
use axum::extract::{Query, State};
use axum::{Extension, Json};
use comply_core::resource::{Product, ProductVersion};
use comply_core::status::{CellStatus, ComponentKind, DecisionRefKind, Status};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct DeadlinesQuery {
    /// A duration: `90m`, `48h`, `7d`, `2w`. Default 7 days.
    within: Option<String>,
    product: Option<String>,
    at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    GraceEnds,
    EvidenceExpires,
    ProofExpires,
    ExceptionExpires,
    OverrideExpires,
}

#[derive(Debug, Serialize)]
pub struct Deadline {
    pub at: String,
    pub kind: DeadlineKind,
    pub product: String,
    pub version: String,
    pub requirement: String,
    pub project: Option<String>,
    /// The policy or proof whose instant it is; the decision id for decisions.
    pub subject: String,
    /// The cell's status now.
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DeadlinesAnswer {
    pub from: String,
    pub to: String,
    pub deadlines: Vec<Deadline>,
}

/// `90m`, `48h`, `7d`, `2w` in milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// Every instant in `(from, to]` at which this cell changes by itself.
fn cell_deadlines(cell: &CellStatus, from: i64, to: i64) -> Vec<(i64, DeadlineKind, String)> {
    let within = |t: Option<i64>| t.filter(|t| *t > from && *t <= to);
    if matches!(cell.status, Status::Inactive | Status::NotApplicable) {
        return Vec::new();
    }
    // Under an override or exception only its expiry changes the cell.
    if let Some(d) = &cell.decision {
        let kind = match d.kind {
            DecisionRefKind::Exception => DeadlineKind::ExceptionExpires,
            DecisionRefKind::Override => DeadlineKind::OverrideExpires,
            DecisionRefKind::Applicability => return Vec::new(),
        };
        return within(d.expires_at)
            .map(|t| (t, kind, d.id.clone()))
            .into_iter()
            .collect();
    }
    let mut out = Vec::new();
    for c in &cell.components {
        if let Some(t) = within(c.grace_ends_at) {
            out.push((t, DeadlineKind::GraceEnds, c.name.clone()));
        }
        if let Some(t) = within(c.expires_at) {
            let kind = match c.kind {
                ComponentKind::Proof => DeadlineKind::ProofExpires,
                _ => DeadlineKind::EvidenceExpires,
            };
            out.push((t, kind, c.name.clone()));
        }
    }
    out
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<OrgCtx>,
    Query(q): Query<DeadlinesQuery>,
) -> Result<Json<DeadlinesAnswer>, ApiError> {
    let at = match &q.at {
        Some(t) => parse_time(t, "at")?,
        None => now_ms(),
    };
    let within = match &q.within {
        Some(w) => parse_duration(w).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "within '{w}' is not a duration such as 90m, 48h, 7d or 2w"
            ))
        })?,
        None => 7 * 86_400_000,
    };
    let to = at.saturating_add(within);
    let catalog = OrgCatalog::at_or_now(&state, ctx.org.id, q.at.is_some().then_some(at)).await?;
    if let Some(p) = &q.product {
        catalog.product(p)?;
    }
    let targets: Vec<(&Product, &ProductVersion)> = catalog
        .products
        .values()
        .filter(|p| q.product.as_ref().is_none_or(|n| &p.metadata.name == n))
        .flat_map(|p| p.spec.versions.iter().map(move |v| (p, v)))
        .collect();
    let stored = stored_project_versions(&state, &ctx, &targets).await?;
    let all = compute_many(
        &state,
        &ctx,
        &catalog,
        &targets,
        &stored,
        at,
        Detail::Statuses,
    )
    .await?;
    let mut found: Vec<(i64, Deadline)> = Vec::new();
    for ((product, version), cells) in targets.iter().zip(all) {
        for cell in &cells {
            for (t, kind, subject) in cell_deadlines(cell, at, to) {
                found.push((
                    t,
                    Deadline {
                        at: fmt_time(t),
                        kind,
                        product: product.metadata.name.clone(),
                        version: version.name.clone(),
                        requirement: cell.requirement.clone(),
                        project: cell.project.clone(),
                        subject,
                        status: cell.status.as_str(),
                    },
                ));
            }
        }
    }
    found.sort_by(|a, b| {
        (
            a.0,
            &a.1.product,
            &a.1.version,
            &a.1.requirement,
            &a.1.project,
            a.1.kind,
        )
            .cmp(&(
                b.0,
                &b.1.product,
                &b.1.version,
                &b.1.requirement,
                &b.1.project,
                b.1.kind,
            ))
    });
    Ok(Json(DeadlinesAnswer {
        from: fmt_time(at),
        to: fmt_time(to),
        deadlines: found.into_iter().map(|(_, d)| d).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(90 * 60_000));
        assert_eq!(parse_duration("48h"), Some(48 * 3_600_000));
        assert_eq!(parse_duration("7d"), Some(7 * 86_400_000));
        assert_eq!(parse_duration("2w"), Some(14 * 86_400_000));
        assert_eq!(parse_duration("7"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("3y"), None);
    }
}
