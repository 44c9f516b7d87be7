//! The org's posture: every product version with its score, compliance and counts.

use crate::api::Method;
use crate::routes::compliance;
use crate::state::AppState;
use crate::web::call::{input, output};
use crate::web::layout::{Nav, page};
use crate::web::pages::product::{STATUS_ORDER, product_href, score_text, trend_slot};
use crate::web::{Pages, Web, WebError};
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use comply_core::Role;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub fn register(p: Pages) -> Pages {
    p.page(
        Method::GET,
        "/",
        Some(Role::Viewer),
        "Overview: every product version with score, compliance and counts per status.",
        overview,
    )
}

#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    framework: String,
    /// A checkbox: present when ticked.
    noncompliant: Option<String>,
    #[serde(default)]
    sort: String,
    at: Option<String>,
}

#[derive(Deserialize)]
struct OverviewAnswer {
    at: String,
    products: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    product: String,
    version: String,
    frameworks: Vec<String>,
    score: Option<f64>,
    compliant: bool,
    passing: usize,
    counted: usize,
    counts: BTreeMap<String, usize>,
}

/// The status-count bar: one segment per status, each with a text label for readers
/// that do not see colour, and the numbers beside it.
pub fn count_bar(counts: &BTreeMap<String, usize>) -> Markup {
    let total: usize = counts.values().sum();
    let mut x = 0.0;
    let segments: Vec<(&str, usize, f64, f64)> = STATUS_ORDER
        .iter()
        .filter_map(|s| {
            let n = *counts.get(*s)?;
            let w = if total == 0 {
                0.0
            } else {
                160.0 * n as f64 / total as f64
            };
            let seg = (*s, n, x, w);
            x += w;
            Some(seg)
        })
        .collect();
    html! {
        div.countbar {
            svg width="160" height="12" viewBox="0 0 160 12" role="img"
                aria-label={ "cells per status: " @for (s, n, _, _) in &segments { (s) " " (n) "; " } } {
                @for (s, n, x, w) in &segments {
                    rect class={ "f-" (s.to_ascii_lowercase()) } x=(format!("{x:.2}")) y="0" width=(format!("{w:.2}")) height="12" {
                        title { (s) ": " (n) }
                    }
                }
            }
            span.counts {
                @for s in STATUS_ORDER {
                    @if let Some(&n) = counts.get(*s) {
                        span class={ "c s-" (s.to_ascii_lowercase()) } title=(s) { (short(s)) " " (n) }
                    }
                }
            }
        }
    }
}

fn short(status: &str) -> &'static str {
    match status {
        "PASSED" => "pass",
        "GRACE" => "grace",
        "PARTIAL" => "partial",
        "NO_DATA" => "no data",
        "EXPIRED" => "expired",
        "FAILED" => "fail",
        "EXCEPTED" => "excepted",
        "NOT_APPLICABLE" => "n/a",
        "INACTIVE" => "inactive",
        _ => "other",
    }
}

async fn overview(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, WebError> {
    let at = q.at.clone().filter(|a| !a.trim().is_empty());
    let answer: OverviewAnswer = output(
        compliance::overview(
            State(state),
            Extension(web.ctx.clone()),
            Query(input(json!({ "at": at }))?),
        )
        .await?,
    )?;
    let needle = q.q.trim().to_lowercase();
    let mut rows: Vec<&Row> = answer
        .products
        .iter()
        .filter(|r| needle.is_empty() || r.product.to_lowercase().contains(&needle))
        .filter(|r| q.framework.is_empty() || r.frameworks.contains(&q.framework))
        .filter(|r| q.noncompliant.is_none() || !r.compliant)
        .collect();
    match q.sort.as_str() {
        "score" => rows.sort_by(|a, b| {
            a.score
                .unwrap_or(-1.0)
                .total_cmp(&b.score.unwrap_or(-1.0))
                .then_with(|| a.product.cmp(&b.product))
        }),
        _ => rows.sort_by(|a, b| (&a.product, &a.version).cmp(&(&b.product, &b.version))),
    }
    let mut frameworks: Vec<&str> = answer
        .products
        .iter()
        .flat_map(|r| r.frameworks.iter().map(String::as_str))
        .collect();
    frameworks.sort_unstable();
    frameworks.dedup();
    let compliant = answer.products.iter().filter(|r| r.compliant).count();
    let body = html! {
        div.head {
            h1 { "Overview" }
            p.sub { (answer.products.len()) " product versions · " (compliant) " compliant · as of " time { (answer.at) } }
        }
        form.filters method="get" action="/" role="search" {
            div.field {
                label for="q" { "Product name" }
                input #q type="search" name="q" value=(q.q);
            }
            div.field {
                label for="framework" { "Framework" }
                select #framework name="framework" data-autosubmit {
                    option value="" { "Any" }
                    @for f in &frameworks { option value=(f) selected[q.framework == *f] { (f) } }
                }
            }
            div.field {
                label for="sort" { "Sort by" }
                select #sort name="sort" data-autosubmit {
                    option value="name" selected[q.sort != "score"] { "Product name" }
                    option value="score" selected[q.sort == "score"] { "Score, lowest first" }
                }
            }
            div.field.check {
                input #noncompliant type="checkbox" name="noncompliant" value="1" checked[q.noncompliant.is_some()];
                label for="noncompliant" { "Non-compliant only" }
            }
            @if let Some(a) = &at { input type="hidden" name="at" value=(a); }
            button type="submit" { "Apply" }
        }
        @if rows.is_empty() {
            p.empty { @if answer.products.is_empty() {
                "No product versions yet. Apply a Product with " code { "comply apply -f product.yaml" } " or "
                code { "comply product create" } "."
            } @else { "No product version matches these filters." } }
        } @else {
            table.grid {
                thead { tr {
                    th scope="col" { "Product" } th scope="col" { "Version" } th scope="col" { "Frameworks" }
                    th scope="col" { "Score" } th scope="col" { "Trend, 14 days" } th scope="col" { "Compliant" } th scope="col" { "Cells per status" }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            th scope="row" { a href=(product_href(&r.product, &r.version, at.as_deref())) { (r.product) } }
                            td { (r.version) }
                            td { @for f in &r.frameworks { span.tag { (f) } " " } }
                            td.num { (score_text(r.score)) span.muted { " (" (r.passing) "/" (r.counted) ")" } }
                            td { (trend_slot(&r.product, &r.version, at.as_deref(), "spark")) }
                            td { @if r.compliant { span.chip.s-passed { "yes" } } @else { span.chip.s-failed { "no" } } }
                            td { (count_bar(&r.counts)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&web, Nav::Overview, "Overview", body).into_response())
}
