//! Errors as RFC 9457 problem documents.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use comply_core::Diagnostic;
use comply_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    BadRequest(String),
    TooLarge(String),
    Invalid(Vec<Diagnostic>),
    Internal(String),
    Unavailable(String),
    MethodNotAllowed(String),
    UnsupportedMediaType(String),
}

/// The stable `type` of every problem this API answers (decision 0027): clients branch
/// on it, not on `title` or `detail`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:comply:problem:";

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [Diagnostic]>,
}

impl ApiError {
    /// The last part of the problem's `type`.
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::TooLarge(_) => "payload-too-large",
            ApiError::Invalid(_) => "invalid-documents",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::MethodNotAllowed(m) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                m.clone(),
            ),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
                m.clone(),
            ),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m.clone()),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not found", m.clone()),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad request", m.clone()),
            ApiError::TooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload too large",
                m.clone(),
            ),
            ApiError::Invalid(d) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid documents",
                format!(
                    "{} problem{} found; nothing was applied",
                    d.len(),
                    if d.len() == 1 { "" } else { "s" }
                ),
            ),
            ApiError::Internal(m) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                m.clone(),
            ),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m.clone()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, detail) = self.parts();
        if status.is_server_error() {
            tracing::error!(%detail, "request failed");
        }
        // Never the raw database (or other internal) error: it is in the log.
        let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "the server failed to handle this request; the error is in its log".to_owned()
        } else {
            detail
        };
        let errors = match &self {
            ApiError::Invalid(d) => Some(d.as_slice()),
            _ => None,
        };
        let body = serde_json::to_vec(&Problem {
            kind: format!("{PROBLEM_TYPE_PREFIX}{}", self.slug()),
            title,
            status: status.as_u16(),
            detail: &detail,
            errors,
        })
        .expect("problems serialize");
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Busy, not broken: the client may retry, and is told when.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(crate::middleware::RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Forbidden(m) => ApiError::Forbidden(m),
            // PostgreSQL refuses NUL in text (22021 in `text`, 22P05 in `jsonb`);
            // validation catches it first, and this keeps any value that slips through
            // a 400, never a 500.
            StoreError::Database(db)
                if db.as_database_error().is_some_and(|d| {
                    matches!(d.code().as_deref(), Some("22021" | "22P05"))
                        || d.message().contains("invalid byte sequence")
                }) =>
            {
                ApiError::BadRequest(
                "a value contains a character the database cannot store (NUL); remove control characters".into(),
                )
            }
            busy if busy.is_busy() => {
                tracing::warn!(error = %busy, "database busy; answered 503");
                ApiError::Unavailable(format!(
                    "the database is busy with other writes; retry in {} seconds",
                    crate::middleware::RETRY_AFTER_SECONDS
                ))
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Whether JSON text holds an escaped NUL (`\u0000`) in a string. Backslashes occur
/// only in strings, as escapes, so a scan that skips each escape's next character is
/// exact.
pub fn json_has_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u')
                && bytes
                    .get(i + 2..i + 6)
                    .is_some_and(|h| h.iter().all(|b| *b == b'0'))
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

pub const NUL_IN_BODY: &str =
    "the request body contains a NUL character (\\u0000), which comply does not accept";

/// A JSON request body whose rejections are problem documents like every other error.
pub struct Body<T>(pub T);

/// At most a short prefix of a message that may quote the caller's input.
pub fn short(message: &str) -> String {
    const MAX: usize = 300;
    if message.chars().count() <= MAX {
        return message.chars().filter(|c| !c.is_control()).collect();
    }
    let mut out: String = message
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX)
        .collect();
    out.push('…');
    out
}

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON (Content-Type: application/json)".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(crate::middleware::too_large())
                } else {
                    ApiError::BadRequest("the request body could not be read".into())
                }
            })?;
        if json_has_nul(&bytes) {
            return Err(ApiError::BadRequest(NUL_IN_BODY.into()));
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            ApiError::BadRequest(format!("invalid request body: {}", short(&e.to_string())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_escaped_nul_only() {
        assert!(json_has_nul(br#"{"a":"x\u0000"}"#));
        assert!(
            !json_has_nul(br#"{"a":"x\\u0000"}"#),
            "an escaped backslash"
        );
        assert!(json_has_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"a":"\u0001"}"#));
        assert!(!json_has_nul(br#"{"a":"\n"}"#));
    }
}
