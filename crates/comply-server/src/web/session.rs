//! Dashboard sessions: signing in with an API token, the session cookie, CSRF, and the
//! guard every page goes through.
//!
//! The cookie holds a random session id; the database holds its hash and the token it
//! acts for. Every request re-reads the token, so revoking or expiring a token ends its
//! sessions at once, and the session has exactly the token's org and role.

use super::error::WebError;
use crate::api::Method;
use crate::auth::{OrgCtx, authenticate_token, hash_secret, org_context, principal, usable};
use crate::error::ApiError;
use crate::state::{AppState, now_ms};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use comply_core::Role;

pub const COOKIE: &str = "comply_session";
/// How long a session lives after sign-in; signing in again is cheap.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Forms are small; proofs are the only uploads and have the API's own limit.
const FORM_LIMIT: usize = crate::routes::MAX_BODY_BYTES;

/// What a guarded page handler receives: who is signed in and the session's CSRF token.
#[derive(Clone)]
pub struct Web {
    pub ctx: OrgCtx,
    pub csrf: String,
}

impl Web {
    pub fn can(&self, role: Role) -> bool {
        self.ctx.role.allows(role)
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("system randomness");
    hex::encode(buf)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
}

/// Behind a TLS-terminating proxy the browser speaks HTTPS even though we do not.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn cookie_header(value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((COOKIE, value.to_owned()))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_s))
        .build();
    HeaderValue::from_str(&c.to_string()).expect("cookie is ASCII")
}

/// Checks an API token with the API's own check (`auth::authenticate_token`) and opens
/// a session. Returns the `Set-Cookie` value.
pub async fn sign_in(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
) -> Result<HeaderValue, ApiError> {
    let (principal, token_expires) = authenticate_token(state, token).await?;
    let now = now_ms();
    let session = random_hex(32);
    let expires = token_expires.map_or(now + SESSION_MS, |e| e.min(now + SESSION_MS));
    state
        .store
        .create_session(
            &hash_secret(&session),
            &principal.token_id,
            &random_hex(32),
            now,
            expires,
        )
        .await?;
    Ok(cookie_header(
        &session,
        (expires - now) / 1000,
        over_https(headers),
    ))
}

/// Ends the request's session; returns the `Set-Cookie` value that clears the cookie.
pub async fn sign_out(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    if let Some(id) = session_id(headers) {
        state.store.delete_session(&hash_secret(&id)).await?;
    }
    Ok(cookie_header("", 0, over_https(headers)))
}

/// The signed-in caller, or `None` when there is no live session.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Web>, ApiError> {
    let Some(id) = session_id(headers) else {
        return Ok(None);
    };
    let now = now_ms();
    let Some(session) = state.store.session(&hash_secret(&id), now).await? else {
        return Ok(None);
    };
    let Some(row) = state.store.token_by_id(&session.token_id).await? else {
        return Ok(None);
    };
    if usable(&row, now).is_err() {
        return Ok(None);
    }
    let org_name = row.org_name.clone();
    let ctx = org_context(state, principal(row), &org_name).await?;
    Ok(Some(Web {
        ctx,
        csrf: session.csrf,
    }))
}

/// The CSRF token a write sent: the htmx header, a form field, or (multipart uploads,
/// whose body the guard does not parse) the query string.
fn sent_csrf(headers: &HeaderMap, query: Option<&str>, form: Option<&[u8]>) -> Option<String> {
    if let Some(v) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(v.to_owned());
    }
    let field = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v)
    };
    if let Some(body) = form
        && let Some(v) = serde_urlencoded::from_bytes(body).ok().and_then(field)
    {
        return Some(v);
    }
    query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .and_then(field)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Session, role and (on writes) CSRF, before any extractor runs: a refused request
/// never reaches a handler, so nothing is written.
pub async fn guard(
    State((state, method, role)): State<(AppState, Method, Option<Role>)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(required) = role else {
        return next.run(request).await;
    };
    let web = match current(&state, request.headers()).await {
        Ok(Some(web)) => web,
        Ok(None) => {
            if method == Method::GET {
                let next_path = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let target = format!(
                    "/signin?{}",
                    serde_urlencoded::to_string([("next", next_path)]).unwrap_or_default()
                );
                return Redirect::to(&target).into_response();
            }
            return WebError(ApiError::Unauthorized(
                "your session has ended; sign in again".into(),
            ))
            .into_response();
        }
        Err(e) => return WebError(e).into_response(),
    };
    if !web.can(required) {
        return WebError(ApiError::Forbidden(format!(
            "this needs the {required} role; you are signed in as {}",
            web.ctx.role
        )))
        .into_response();
    }
    let mut request = request;
    if method != Method::GET {
        let (parts, body) = request.into_parts();
        let (bytes, body) = if is_form(&parts.headers) {
            match axum::body::to_bytes(body, FORM_LIMIT).await {
                Ok(b) => (Some(b.clone()), Body::from(b)),
                Err(_) => {
                    return WebError(ApiError::TooLarge("the form is too large".into()))
                        .into_response();
                }
            }
        } else {
            (None, body)
        };
        let sent = sent_csrf(&parts.headers, parts.uri.query(), bytes.as_deref());
        if !sent.is_some_and(|s| constant_time_eq(s.as_bytes(), web.csrf.as_bytes())) {
            return WebError(ApiError::Forbidden(
                "the form's security token is missing or stale; reload the page and try again"
                    .into(),
            ))
            .into_response();
        }
        request = Request::from_parts(parts, body);
    }
    request.extensions_mut().insert(web);
    next.run(request).await
}
