//! Settings → General: the org's switches (owner only, as in the API).

use crate::api::Method::{Get, Post};
use crate::routes::system;
use crate::state::AppState;
use crate::web::call::{input, output};
use crate::web::error::describe;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{Pages, Web, WebError};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use comply_core::Role;
use comply_core::settings::OrgSettings;
use maud::html;
use serde::Deserialize;
use serde_json::json;

pub fn register(p: Pages) -> Pages {
    p.page(
        Get,
        "/settings",
        Some(Role::Owner),
        "Settings: in-preview frameworks, auto-matching, unsigned attestations.",
        settings,
    )
    .page(
        Post,
        "/settings",
        Some(Role::Owner),
        "Change the org's settings.",
        save,
    )
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

async fn current(_state: &AppState, web: &Web) -> Result<OrgSettings, WebError> {
    Ok(output(
        system::get_settings(Extension(web.ctx.clone())).await,
    )?)
}

fn render(
    web: &Web,
    s: &OrgSettings,
    notice: Option<&str>,
    error: Option<&str>,
) -> crate::web::layout::Html {
    let switch = |name: &str, on: bool, label: &str, help: &str| {
        html! {
            div.switch {
                input id=(name) type="checkbox" name=(name) value="true" checked[on] aria-describedby={ (name) "-help" };
                label for=(name) { (label) }
                p.muted.small id={ (name) "-help" } { (help) }
            }
        }
    };
    page(
        web,
        Nav::Settings,
        "Settings",
        html! {
            div.head { h1 { "Settings" } p.sub { "Organization " (web.ctx.org.name) } }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            section.card aria-labelledby="gen-h" {
                h2 #gen-h { "General" }
                form method="post" action="/settings" {
                    (csrf_field(web))
                    input type="hidden" name="present" value="1";
                    (switch("in_preview_frameworks", s.in_preview_frameworks, "In-preview frameworks",
                        "Show built-in frameworks that are still in preview (marked “lab”) and allow attaching them."))
                    (switch("requirements_auto_matching", s.requirements_auto_matching, "Requirements auto-matching",
                        "Count an evaluation for a requirement when its policy and arguments match, without an explicit contract link."))
                    (switch("allow_unsigned_attestations", s.allow_unsigned_attestations, "Accept unsigned attestations",
                        "Store attestations that no trusted key signed; each is recorded as unsigned."))
                    button.primary type="submit" { "Save settings" }
                }
            }
        },
    )
}

async fn settings(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let s = current(&state, &web).await?;
    let notice = q.done.is_some().then_some("Settings saved.");
    Ok(render(&web, &s, notice, None).into_response())
}

/// Unticked checkboxes are absent from a form: absent means off.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    in_preview_frameworks: Option<String>,
    #[serde(default)]
    requirements_auto_matching: Option<String>,
    #[serde(default)]
    allow_unsigned_attestations: Option<String>,
}

async fn save(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let patch = input(json!({
        "in_preview_frameworks": f.in_preview_frameworks.is_some(),
        "requirements_auto_matching": f.requirements_auto_matching.is_some(),
        "allow_unsigned_attestations": f.allow_unsigned_attestations.is_some(),
    }))?;
    match system::patch_settings(
        State(state.clone()),
        Extension(web.ctx.clone()),
        crate::error::Body(patch),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/settings?done=1").into_response()),
        Err(e) => {
            let (code, message) = describe(&e);
            let s = current(&state, &web).await?;
            Ok((code, render(&web, &s, None, Some(&message))).into_response())
        }
    }
}
