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
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [Diagnostic]>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
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
        let errors = match &self {
            ApiError::Invalid(d) => Some(d.as_slice()),
            _ => None,
        };
        let body = serde_json::to_vec(&Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail: &detail,
            errors,
        })
        .expect("problems serialize");
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Forbidden(m) => ApiError::Forbidden(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// A JSON request body whose rejections are problem documents like every other error.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    axum::Json<T>:
        axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(format!(
                    "the request body is larger than the {} MiB limit",
                    crate::routes::MAX_BODY_BYTES / (1024 * 1024)
                )))
            }
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "invalid request body: {}",
                rejection.body_text()
            ))),
        }
    }
}
