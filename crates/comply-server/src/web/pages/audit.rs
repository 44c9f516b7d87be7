//! The audit log: filters (time range, actor, action, target) over the API's list, and
//! the chain's verification as the API reports it.

use crate::api::Method;
use crate::routes::audit;
use crate::state::AppState;
use crate::web::call::{input, output};
use crate::web::error::describe;
use crate::web::layout::{Nav, field_error, page, when_as};
use crate::web::pages::product::{local_value, normalize_time};
use crate::web::{Pages, Web, WebError};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comply_core::Role;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

/// Newest first, at most this many on the page.
const SHOWN: usize = 200;

pub fn register(p: Pages) -> Pages {
    p.page(
        Method::GET,
        "/audit",
        Some(Role::Viewer),
        "The audit log (query: from, to, actor, action, target) and the chain's verification.",
        audit_page,
    )
}

#[derive(Deserialize, Default)]
pub struct AuditFilter {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
}

#[derive(Deserialize)]
struct Event {
    seq: i64,
    time: String,
    actor: String,
    action: String,
    target: String,
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    detail: Option<Value>,
}

#[derive(Deserialize)]
struct Verification {
    intact: bool,
    #[serde(default)]
    events: Option<usize>,
    #[serde(default)]
    broken_at: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
}

fn opt(v: &str) -> Value {
    let t = v.trim();
    if t.is_empty() { Value::Null } else { json!(t) }
}

fn opt_time(v: &str) -> Value {
    opt(&normalize_time(v))
}

async fn audit_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(f): Query<AuditFilter>,
) -> Result<Response, WebError> {
    let verification: Verification =
        output(audit::verify(State(state.clone()), Extension(web.ctx.clone())).await?)?;
    // Every event, for the filter's choices; then the filtered list from the same route.
    let everything: Vec<Event> = output(
        audit::list(
            State(state.clone()),
            Extension(web.ctx.clone()),
            Query(input(json!({}))?),
        )
        .await?,
    )?;
    let filtered = audit::list(
        State(state.clone()),
        Extension(web.ctx.clone()),
        Query(input(json!({
            "since": opt_time(&f.from), "until": opt_time(&f.to),
            "actor": opt(&f.actor), "action": opt(&f.action), "target": opt(&f.target),
        }))?),
    )
    .await;
    let (code, events, error) = match filtered {
        Ok(answer) => (StatusCode::OK, output::<_, Vec<Event>>(answer)?, None),
        Err(e) => {
            let (code, message) = describe(&e);
            if code != StatusCode::BAD_REQUEST {
                return Err(WebError(e));
            }
            (code, Vec::new(), Some(message))
        }
    };
    let mut actors: Vec<&str> = everything.iter().map(|e| e.actor.as_str()).collect();
    actors.sort_unstable();
    actors.dedup();
    let mut actions: Vec<&str> = everything.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    actions.dedup();
    let newest: Vec<&Event> = events.iter().rev().take(SHOWN).collect();
    let from_bad = error.as_deref().filter(|m| m.contains("since"));
    let to_bad = error.as_deref().filter(|m| m.contains("until"));
    let body = html! {
        div.head {
            h1 { "Audit log" }
            @if verification.intact {
                p.notice role="status" { "Chain verified: all " (verification.events.unwrap_or(0)) " events hash to the organization's head; nothing was altered or removed." }
            } @else {
                p.error role="alert" { "Chain broken at event " (verification.broken_at.unwrap_or(0)) ": " (verification.reason.as_deref().unwrap_or("the hashes do not match")) }
            }
        }
        form.filters method="get" action="/audit" role="search" aria-label="Audit filters" {
            div.field {
                label for="from" { "From (UTC)" }
                input #from type="datetime-local" name="from" step="1" value=(local_value(&normalize_time(&f.from)))
                    aria-invalid=[from_bad.map(|_| "true")] aria-describedby=[from_bad.map(|_| "from-error")];
                (field_error("from", from_bad))
            }
            div.field {
                label for="to" { "To (UTC)" }
                input #to type="datetime-local" name="to" step="1" value=(local_value(&normalize_time(&f.to)))
                    aria-invalid=[to_bad.map(|_| "true")] aria-describedby=[to_bad.map(|_| "to-error")];
                (field_error("to", to_bad))
            }
            div.field {
                label for="actor" { "Actor" }
                select #actor name="actor" {
                    option value="" { "Any" }
                    @for a in &actors { option value=(a) selected[f.actor == *a] { (a) } }
                }
            }
            div.field {
                label for="action" { "Action" }
                select #action name="action" {
                    option value="" { "Any" }
                    @for a in &actions { option value=(a) selected[f.action == *a] { (a) } }
                }
            }
            div.field {
                label for="target" { "Target" }
                input #target type="search" name="target" value=(f.target) placeholder="e.g. Product/portal";
            }
            button type="submit" { "Apply" }
            a href="/audit" { "Clear" }
        }
        @if let Some(e) = error.as_deref().filter(|_| from_bad.is_none() && to_bad.is_none()) { p.error role="alert" { (e) } }
        p.muted.small { (events.len()) " of " (everything.len()) " events match" @if events.len() > SHOWN { "; the newest " (SHOWN) " are shown" } ", newest first." }
        @if newest.is_empty() { p.empty { "No event matches these filters." } } @else {
            table.grid {
                thead { tr { th scope="col" { "#" } th scope="col" { "Time (UTC)" } th scope="col" { "Actor" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Revision" } } }
                tbody { @for e in &newest { tr {
                    td.num { (e.seq) }
                    td.num { (when_as(&e.time, "%Y-%m-%d %H:%M:%S")) }
                    td { code { (e.actor) } }
                    td { (e.action) }
                    td { (e.target)
                        @if let Some(d) = e.detail.as_ref().and_then(|d| d.get("command")).and_then(Value::as_str) { br; span.muted.small { (d) } } }
                    td.num { @match e.revision { Some(r) => (r), None => "–" } }
                } } }
            }
        }
    };
    Ok((code, page(&web, Nav::Audit, "Audit log", body)).into_response())
}
