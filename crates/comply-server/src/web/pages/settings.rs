//! Settings → General: the org's switches (owner only, as in the API).

use crate::api::Method;
use crate::routes::{evidence, system, tokens, webhooks};
use crate::state::AppState;
use crate::web::call::{input, output};
use crate::web::error::describe;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{Pages, Web, WebError};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use comply_core::Role;
use comply_core::settings::OrgSettings;
use maud::html;
use serde::Deserialize;
use serde_json::json;

pub fn register(p: Pages) -> Pages {
    p.page(
        Method::GET,
        "/settings",
        Some(Role::Owner),
        "Settings: in-preview frameworks, auto-matching, unsigned attestations.",
        settings,
    )
    .page(
        Method::POST,
        "/settings",
        Some(Role::Owner),
        "Change the org's settings.",
        save,
    )
    .page(
        Method::GET,
        "/settings/tokens",
        Some(Role::Owner),
        "Settings: API tokens.",
        tokens_page,
    )
    .page(
        Method::POST,
        "/settings/tokens",
        Some(Role::Owner),
        "Create an API token; its secret is shown once.",
        create_token,
    )
    .page(
        Method::POST,
        "/settings/tokens/{id}/revoke",
        Some(Role::Owner),
        "Revoke an API token.",
        revoke_token,
    )
    .page(
        Method::GET,
        "/settings/keys",
        Some(Role::Owner),
        "Settings: trusted keys and CA certificates.",
        keys_page,
    )
    .page(
        Method::POST,
        "/settings/keys",
        Some(Role::Owner),
        "Trust a public key or CA certificate (PEM).",
        add_key,
    )
    .page(
        Method::POST,
        "/settings/keys/{name}/remove",
        Some(Role::Owner),
        "Stop trusting a key.",
        remove_key,
    )
    .page(
        Method::GET,
        "/settings/webhooks",
        Some(Role::Owner),
        "Settings: webhooks and their state (read-only; managed with `comply webhook`).",
        webhooks_page,
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    General,
    Tokens,
    Keys,
    Webhooks,
}

fn tabs(current: Tab) -> maud::Markup {
    let item = |t: Tab, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(t == current).then_some("page")] { (label) } }
    };
    html! {
        nav.tabs aria-label="Settings" {
            (item(Tab::General, "/settings", "General"))
            (item(Tab::Tokens, "/settings/tokens", "API tokens"))
            (item(Tab::Keys, "/settings/keys", "Trusted keys"))
            (item(Tab::Webhooks, "/settings/webhooks", "Webhooks"))
        }
    }
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
            (tabs(Tab::General))
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
                    (switch("decision_approval", s.decision_approval, "Four eyes for exceptions and overrides",
                        "An exception or override takes effect only once an admin or owner other than its requester approves it."))
                    div.field {
                        label for="policy_allowed_hostnames" { "Hosts policies may reach in comply attest" }
                        input #policy_allowed_hostnames type="text" name="policy_allowed_hostnames"
                            value=(s.policy_allowed_hostnames.join(", ")) placeholder="none: evaluation stays sealed"
                            aria-describedby="policy_allowed_hostnames-help";
                        p.muted.small id="policy_allowed_hostnames-help" {
                            "Comma-separated hostnames a policy's http.send may call; every such evaluation is recorded as networked. Empty: none."
                        }
                    }
                    div.field {
                        label for="reference_data_max_age_days" { "Reference data is stale after (days)" }
                        input #reference_data_max_age_days type="number" name="reference_data_max_age_days"
                            min="1" max="3650" step="1" required value=(s.reference_data_max_age_days)
                            aria-describedby="reference_data_max_age_days-help";
                        p.muted.small id="reference_data_max_age_days-help" {
                            "A KEV catalog released longer ago than this is called stale in every explanation that used it."
                        }
                    }
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
    #[serde(default)]
    decision_approval: Option<String>,
    #[serde(default)]
    reference_data_max_age_days: Option<String>,
    #[serde(default)]
    policy_allowed_hostnames: Option<String>,
}

async fn save(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let mut patch = json!({
        "in_preview_frameworks": f.in_preview_frameworks.is_some(),
        "requirements_auto_matching": f.requirements_auto_matching.is_some(),
        "allow_unsigned_attestations": f.allow_unsigned_attestations.is_some(),
        "decision_approval": f.decision_approval.is_some(),
    });
    // Absent (an older form): the list stays as it is; present and empty: none.
    if let Some(hosts) = &f.policy_allowed_hostnames {
        let hosts: Vec<&str> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        patch["policy_allowed_hostnames"] = json!(hosts);
    }
    if let Some(days) = f.reference_data_max_age_days.as_deref().map(str::trim) {
        match days.parse::<u32>() {
            Ok(d) => patch["reference_data_max_age_days"] = json!(d),
            Err(_) => {
                let s = current(&state, &web).await?;
                let message = format!(
                    "reference data age: '{}' is not a whole number of days",
                    days.chars().take(20).collect::<String>()
                );
                return Ok((
                    axum::http::StatusCode::BAD_REQUEST,
                    render(&web, &s, None, Some(&message)),
                )
                    .into_response());
            }
        }
    }
    let patch = input(patch)?;
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

// ---------------------------------------------------------------------------------
// API tokens.

#[derive(Deserialize)]
struct TokenRow {
    id: String,
    name: String,
    role: String,
    created: String,
    expires: Option<String>,
    revoked: bool,
}

#[derive(Deserialize)]
struct Created {
    name: String,
    role: String,
    token: String,
}

#[derive(Default)]
struct TokenForm {
    name: String,
    role: String,
    expires: String,
    error: Option<String>,
}

async fn render_tokens(
    state: &AppState,
    web: &Web,
    notice: Option<&str>,
    created: Option<Created>,
    form: TokenForm,
    list_error: Option<String>,
) -> Result<crate::web::layout::Html, WebError> {
    let mut tokens: Vec<TokenRow> =
        output(tokens::list(State(state.clone()), Extension(web.ctx.clone())).await?)?;
    tokens.sort_by(|a, b| (a.revoked, &a.name).cmp(&(b.revoked, &b.name)));
    let role = if form.role.is_empty() {
        "member"
    } else {
        form.role.as_str()
    };
    let name_bad = form.error.as_deref().filter(|e| e.contains("name"));
    let role_bad = form.error.as_deref().filter(|e| e.contains("role"));
    let expires_bad = form.error.as_deref().filter(|e| e.contains("expires"));
    let other = form
        .error
        .as_deref()
        .filter(|_| name_bad.is_none() && role_bad.is_none() && expires_bad.is_none());
    Ok(page(
        web,
        Nav::Settings,
        "API tokens",
        html! {
            div.head { h1 { "Settings" } p.sub { "Organization " (web.ctx.org.name) } }
            (tabs(Tab::Tokens))
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = list_error { p.error role="alert" { (e) } }
            @if let Some(c) = &created {
                section.card.secret aria-labelledby="new-h" role="status" {
                    h2 #new-h { "Token " (c.name) " (" (c.role) ") created" }
                    p { strong { "Copy it now: it is shown only once." } " comply stores only its hash." }
                    p { code.token { (c.token) } " " button.copy type="button" data-copy=(c.token) { "Copy" } }
                }
            }
            div.columns.wide {
                section.card aria-labelledby="tok-h" {
                    h2 #tok-h { "Tokens" }
                    table.grid {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "State" } th scope="col" { span.sr { "Actions" } } } }
                        tbody { @for t in &tokens { tr {
                            th scope="row" { (t.name) br; code.small { (t.id) } }
                            td { (t.role) }
                            td { (crate::web::layout::when(&t.created)) }
                            td { @match &t.expires { Some(e) => (crate::web::layout::when(e)), None => span.muted { "never" } } }
                            td { @if t.revoked { span.chip.s-inactive { "REVOKED" } } @else { span.chip.s-passed { "ACTIVE" } } }
                            td { @if !t.revoked {
                                form method="post" action={ "/settings/tokens/" (crate::web::layout::seg(&t.id)) "/revoke" } hx-confirm={ "Revoke token " (t.name) "? Its sessions end at once." } {
                                    (csrf_field(web))
                                    button.link type="submit" aria-label={ "Revoke token " (t.name) } { "Revoke" }
                                }
                            } }
                        } } }
                    }
                }
                section.card.side aria-labelledby="ct-h" {
                    h2 #ct-h { "Create a token" }
                    form method="post" action="/settings/tokens" {
                        (csrf_field(web))
                        label for="tk-name" { "Name" }
                        input #tk-name type="text" name="name" required value=(form.name) placeholder="e.g. release-ci" autocomplete="off"
                            aria-invalid=[name_bad.map(|_| "true")] aria-describedby=[name_bad.map(|_| "tk-name-error")];
                        (crate::web::layout::field_error("tk-name", name_bad))
                        label for="tk-role" { "Role" }
                        select #tk-role name="role" aria-invalid=[role_bad.map(|_| "true")] aria-describedby=[role_bad.map(|_| "tk-role-error")] {
                            @for r in ["viewer", "member", "admin", "owner"] { option value=(r) selected[r == role] { (r) } }
                        }
                        (crate::web::layout::field_error("tk-role", role_bad))
                        label for="tk-expires" { "Expires (optional, UTC)" }
                        input #tk-expires type="datetime-local" name="expires" value=(form.expires)
                            aria-invalid=[expires_bad.map(|_| "true")] aria-describedby=[expires_bad.map(|_| "tk-expires-error")];
                        (crate::web::layout::field_error("tk-expires", expires_bad))
                        @if let Some(e) = other { p.field-error role="alert" { (e) } }
                        button.primary type="submit" { "Create token" }
                    }
                }
            }
        },
    ))
}

async fn tokens_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let notice = q.done.as_deref().and_then(|d| match d {
        "revoked" => Some("Token revoked: its sessions have ended."),
        _ => None,
    });
    Ok(
        render_tokens(&state, &web, notice, None, TokenForm::default(), None)
            .await?
            .into_response(),
    )
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    expires: String,
}

async fn create_token(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Form(f): Form<NewTokenForm>,
) -> Result<Response, WebError> {
    let expires = crate::web::pages::product::normalize_time(&f.expires);
    let body = input(json!({
        "name": f.name, "role": f.role,
        "expires": if expires.is_empty() { serde_json::Value::Null } else { json!(expires) },
    }))?;
    match tokens::create(
        State(state.clone()),
        Extension(web.ctx.clone()),
        crate::error::Body(body),
    )
    .await
    {
        Ok((_, answer)) => {
            let created: Created = output(answer)?;
            // The secret is in this answer only: it is never put in a URL or a redirect.
            Ok(render_tokens(
                &state,
                &web,
                None,
                Some(created),
                TokenForm::default(),
                None,
            )
            .await?
            .into_response())
        }
        Err(e) => {
            let (code, message) = describe(&e);
            let form = TokenForm {
                name: f.name,
                role: f.role,
                expires: f.expires,
                error: Some(message),
            };
            Ok((
                code,
                render_tokens(&state, &web, None, None, form, None).await?,
            )
                .into_response())
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    match tokens::revoke(
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((crate::web::call::org(&web.ctx), id)),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/settings/tokens?done=revoked").into_response()),
        Err(e) => {
            let (code, message) = describe(&e);
            if code == axum::http::StatusCode::NOT_FOUND {
                return Err(WebError(e));
            }
            Ok((
                code,
                render_tokens(
                    &state,
                    &web,
                    None,
                    None,
                    TokenForm::default(),
                    Some(message),
                )
                .await?,
            )
                .into_response())
        }
    }
}

// ---------------------------------------------------------------------------------
// Trusted keys.

#[derive(Deserialize)]
struct KeyRow {
    name: String,
    kind: String,
    algorithm: String,
    fingerprint: String,
    created: String,
}

#[derive(Default)]
struct KeyForm {
    name: String,
    pem: String,
    error: Option<String>,
}

async fn render_keys(
    state: &AppState,
    web: &Web,
    notice: Option<&str>,
    form: KeyForm,
    list_error: Option<String>,
) -> Result<crate::web::layout::Html, WebError> {
    let keys: Vec<KeyRow> =
        output(evidence::list_keys(State(state.clone()), Extension(web.ctx.clone())).await?)?;
    let name_bad = form
        .error
        .as_deref()
        .filter(|e| e.contains("key name") || e.contains("named"));
    let pem_bad = form.error.as_deref().filter(|_| name_bad.is_none());
    Ok(page(
        web,
        Nav::Settings,
        "Trusted keys",
        html! {
            div.head { h1 { "Settings" } p.sub { "Organization " (web.ctx.org.name) } }
            (tabs(Tab::Keys))
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = list_error { p.error role="alert" { (e) } }
            div.columns.wide {
                section.card aria-labelledby="keys-h" {
                    h2 #keys-h { "Trusted keys" }
                    p.muted.small { "Attestations must be signed by one of these keys, or by a certificate one of these CAs issued" @if web.ctx.org.settings.allow_unsigned_attestations { " (unsigned attestations are accepted too, under General)" } "." }
                    @if keys.is_empty() { p.empty { "No trusted key: signed attestations are refused until you add one." } } @else {
                        table.grid {
                            thead { tr { th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Algorithm" } th scope="col" { "Fingerprint" } th scope="col" { "Added" } th scope="col" { span.sr { "Actions" } } } }
                            tbody { @for k in &keys { tr {
                                th scope="row" { (k.name) }
                                td.nowrap { @if k.kind == "ca_certificate" { "CA certificate" } @else { "public key" } }
                                td { (k.algorithm) }
                                td { code.fingerprint { (k.fingerprint) } }
                                td { (crate::web::layout::when(&k.created)) }
                                td {
                                    form method="post" action={ "/settings/keys/" (crate::web::layout::seg(&k.name)) "/remove" } hx-confirm={ "Stop trusting key " (k.name) "? Attestations it signs are refused from now on." } {
                                        (csrf_field(web))
                                        button.link type="submit" aria-label={ "Remove key " (k.name) } { "Remove" }
                                    }
                                }
                            } } }
                        }
                    }
                }
                section.card.side aria-labelledby="ak-h" {
                    h2 #ak-h { "Add a key" }
                    form method="post" action="/settings/keys" {
                        (csrf_field(web))
                        label for="key-name" { "Name" }
                        input #key-name type="text" name="name" required value=(form.name) placeholder="e.g. ci-signer" autocomplete="off"
                            aria-invalid=[name_bad.map(|_| "true")] aria-describedby=[name_bad.map(|_| "key-name-error")];
                        (crate::web::layout::field_error("key-name", name_bad))
                        label for="key-pem" { "Public key or CA certificate (PEM)" }
                        textarea #key-pem.code name="pem" rows="8" required spellcheck="false" placeholder="-----BEGIN PUBLIC KEY-----"
                            aria-invalid=[pem_bad.map(|_| "true")] aria-describedby=[pem_bad.map(|_| "key-pem-error")] { (form.pem) }
                        (crate::web::layout::field_error("key-pem", pem_bad))
                        button.primary type="submit" { "Add key" }
                    }
                }
            }
        },
    ))
}

async fn keys_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let notice = q.done.as_deref().and_then(|d| match d {
        "added" => Some("Key added: attestations it signs are accepted."),
        "removed" => Some("Key removed."),
        _ => None,
    });
    Ok(render_keys(&state, &web, notice, KeyForm::default(), None)
        .await?
        .into_response())
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    pem: String,
}

async fn add_key(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Form(f): Form<NewKeyForm>,
) -> Result<Response, WebError> {
    let body = input(json!({"name": f.name.trim(), "pem": f.pem}))?;
    match evidence::add_key(
        State(state.clone()),
        Extension(web.ctx.clone()),
        crate::error::Body(body),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/settings/keys?done=added").into_response()),
        Err(e) => {
            let (code, message) = describe(&e);
            let form = KeyForm {
                name: f.name,
                pem: f.pem,
                error: Some(message),
            };
            Ok((code, render_keys(&state, &web, None, form, None).await?).into_response())
        }
    }
}

async fn remove_key(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    match evidence::remove_key(
        State(state.clone()),
        Extension(web.ctx.clone()),
        Path((crate::web::call::org(&web.ctx), name)),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/settings/keys?done=removed").into_response()),
        Err(e) => Err(WebError(e)),
    }
}

// Webhooks, read-only: the API's list (never a secret); managed from the CLI.

#[derive(Deserialize)]
struct WebhookRow {
    id: String,
    url: String,
    events: Vec<String>,
    horizon: String,
    created: String,
    enabled: bool,
    failures: i64,
    disabled_reason: Option<String>,
}

async fn webhooks_page(
    State(state): State<AppState>,
    Extension(web): Extension<Web>,
) -> Result<Response, WebError> {
    let hooks: Vec<WebhookRow> =
        output(webhooks::list(State(state.clone()), Extension(web.ctx.clone())).await?)?;
    Ok(page(
        &web,
        Nav::Settings,
        "Webhooks",
        html! {
            div.head { h1 { "Settings" } p.sub { "Organization " (web.ctx.org.name) } }
            (tabs(Tab::Webhooks))
            section.card aria-labelledby="wh-h" {
                h2 #wh-h { "Webhooks" }
                p.muted.small { "Signed events POSTed when posture changes. Add, test, enable and remove them with " code { "comply webhook" } "; delivery logs: " code { "comply webhook deliveries ID" } "." }
                @if hooks.is_empty() { p.empty { "No webhook." } } @else {
                    table.grid {
                        thead { tr { th scope="col" { "Id" } th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "Horizon" } th scope="col" { "State" } th scope="col" { "Added" } } }
                        tbody { @for h in &hooks { tr {
                            th scope="row" { code { (h.id) } }
                            td { code { (h.url) } }
                            td { (h.events.join(", ")) }
                            td.nowrap { (h.horizon) }
                            td {
                                @if h.enabled {
                                    "enabled" @if h.failures > 0 { " (" (h.failures) " failed attempts in a row)" }
                                } @else {
                                    strong { "disabled" } @if let Some(r) = &h.disabled_reason { ": " (r) }
                                }
                            }
                            td { (crate::web::layout::when(&h.created)) }
                        } } }
                    }
                }
            }
        },
    )
    .into_response())
}
