//! Sign in with an API token; sign out.

use crate::api::Method;
use crate::state::AppState;
use crate::web::error::describe;
use crate::web::layout::bare;
use crate::web::session::{self, Web};
use crate::web::{Pages, WebError};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use comply_core::Role;
use maud::html;
use serde::Deserialize;

pub fn register(p: Pages) -> Pages {
    p.page(Method::GET, "/signin", None, "The sign-in form.", form)
        .page(
            Method::POST,
            "/signin",
            None,
            "Open a session with an API token.",
            submit,
        )
        .page(
            Method::POST,
            "/signout",
            Some(Role::Viewer),
            "End the session.",
            signout,
        )
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only paths of this site: `next` must not send a signed-in browser elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn render(next: &str, error: Option<&str>) -> crate::web::layout::Html {
    bare(
        "Sign in",
        html! {
            main.narrow {
                h1 { "Sign in" }
                p { "Paste an API token: the one " code { "comply serve" } " printed at first start, or one made with "
                    code { "comply token create" } ". The session acts with that token's organization and role." }
                form.card method="post" action="/signin" {
                    input type="hidden" name="next" value=(next);
                    label for="token" { "API token" }
                    input #token type="password" name="token" required autocomplete="off"
                        spellcheck="false" placeholder="comply_…"
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "token-error")];
                    @if let Some(e) = error { p.field-error #token-error role="alert" { (e) } }
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    // Already signed in: straight to where the browser was going.
    if let Ok(Some(_)) = session::current(&state, &headers).await {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    render(&safe_next(q.next.as_deref()), None).into_response()
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
    next: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match session::sign_in(&state, &headers, &f.token).await {
        Ok(cookie) => (
            StatusCode::SEE_OTHER,
            [
                (header::SET_COOKIE, cookie),
                (header::LOCATION, next.parse().expect("a path")),
            ],
        )
            .into_response(),
        Err(e) => {
            let (status, message) = describe(&e);
            (status, render(&next, Some(&message))).into_response()
        }
    }
}

async fn signout(
    State(state): State<AppState>,
    Extension(_): Extension<Web>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let cookie = session::sign_out(&state, &headers).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/signin".parse().expect("a path")),
        ],
    )
        .into_response())
}
