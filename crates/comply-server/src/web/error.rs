//! Errors as pages: the API's error, its status, and its words, in HTML.

use super::layout;
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

pub struct WebError(pub ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError(e)
    }
}

impl From<comply_store::StoreError> for WebError {
    fn from(e: comply_store::StoreError) -> Self {
        WebError(e.into())
    }
}

/// The status and the sentence a person reads, as the API words it.
pub fn describe(e: &ApiError) -> (StatusCode, String) {
    match e {
        ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone()),
        ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
        ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
        ApiError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
        ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m.clone()),
        ApiError::Invalid(d) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ApiError::Internal(m) => {
            tracing::error!(detail = %m, "dashboard request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "something went wrong on the server; the log has the details".into(),
            )
        }
        ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone()),
        ApiError::MethodNotAllowed(m) => (StatusCode::METHOD_NOT_ALLOWED, m.clone()),
        ApiError::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, m.clone()),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = describe(&self.0);
        let title = status.canonical_reason().unwrap_or("Error");
        let body = layout::bare(
            title,
            html! {
                main.narrow {
                    h1 { (status.as_u16()) " " (title) }
                    p.error role="alert" { (message) }
                    p { a href="/" { "Back to the overview" } " · " a href="/signin" { "Sign in" } }
                }
            },
        );
        (status, body).into_response()
    }
}
