//! What every answer goes through (decision 0027): hostile paths refused before
//! routing, one error contract for errors axum itself produces (routing, method,
//! extractor rejections, body limits), security headers, and a bound on how many
//! expensive computations run at once.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Refuses a path or query that decodes to control characters (NUL above all: the
/// PostgreSQL backend cannot store it and SQLite would) or to invalid UTF-8, before any
/// handler or database sees it.
pub async fn refuse_hostile_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    for (what, raw) in [("path", Some(uri.path())), ("query", uri.query())] {
        let Some(raw) = raw else { continue };
        if let Some(problem) = decoded_problem(raw) {
            return ApiError::BadRequest(format!("the request {what} {problem}")).into_response();
        }
    }
    next.run(request).await
}

fn decoded_problem(raw: &str) -> Option<&'static str> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    match std::str::from_utf8(&decoded) {
        Err(_) => Some("is not valid UTF-8 once percent-decoded"),
        Ok(text) if text.chars().any(char::is_control) => {
            Some("contains a control character (such as NUL), which is not accepted")
        }
        Ok(_) => None,
    }
}

/// The most of a non-problem error body kept as the problem's detail.
const DETAIL_BYTES: usize = 300;

/// Turns error answers that are not problem documents yet (axum's own rejections:
/// 404 and 405 of routing, query and path rejections, 413 of the body limit) into
/// problem documents, and adds the headers every answer carries.
pub async fn one_error_contract(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    // The dashboard answers its errors with a page of its own (the form and the message
    // beside it); only machine-facing answers become problem documents.
    let is_page = !api
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let mut response =
        if (status.is_client_error() || status.is_server_error()) && !is_problem && !is_page {
            into_problem(response).await
        } else {
            response
        };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // API answers may carry a secret (a new token) or org data: never cached.
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="comply""#),
        );
    }
    response
}

async fn into_problem(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let mut detail: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(DETAIL_BYTES)
        .collect();
    let error = match parts.status {
        StatusCode::NOT_FOUND => ApiError::NotFound("no such route".into()),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::MethodNotAllowed("this route does not accept that method".into())
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(too_large()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType(if detail.is_empty() {
                "send the body as application/json".into()
            } else {
                detail
            })
        }
        status if status.is_client_error() => {
            if detail.is_empty() {
                detail = status.canonical_reason().unwrap_or("bad request").into();
            }
            ApiError::BadRequest(detail)
        }
        _ => ApiError::Internal(if detail.is_empty() {
            "internal error".into()
        } else {
            detail
        }),
    };
    let mut problem = error.into_response();
    // Headers of the original answer (Allow on 405, for one) survive.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if parts.status.is_client_error() {
        *problem.status_mut() = parts.status;
    }
    problem
}

pub fn too_large() -> String {
    format!(
        "the request body is larger than the server accepts ({} MiB)",
        crate::routes::MAX_BODY_BYTES / (1024 * 1024)
    )
}

/// Computations that read a whole org's evidence (status, overview, history, coverage):
/// at most a few at once per server, so a flood waits briefly and then answers 503 with
/// `Retry-After` instead of growing memory without bound.
#[derive(Clone)]
pub struct Expensive {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl Expensive {
    pub fn new(concurrent: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            wait,
        }
    }

    /// Twice the cores: the computations are CPU-bound, a little overlap hides I/O.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores * 2, Duration::from_secs(5))
    }
}

/// Whether a route computes over the org's evidence.
pub fn is_expensive(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/orgs/") else {
        return false;
    };
    (method == Method::GET
        && (rest.ends_with("/status") || rest.ends_with("/history") || rest.ends_with("/coverage")))
        || (method == Method::POST && rest.ends_with("/requirement-coverage"))
}

pub const RETRY_AFTER_SECONDS: u64 = 2;

pub async fn limit_expensive(
    State(limit): State<Expensive>,
    request: Request,
    next: Next,
) -> Response {
    if !is_expensive(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let permit = tokio::time::timeout(limit.wait, limit.permits.clone().acquire_owned()).await;
    match permit {
        Ok(Ok(_permit)) => next.run(request).await,
        _ => {
            let mut response = ApiError::Unavailable(format!(
                "the server is busy computing other answers; retry in {RETRY_AFTER_SECONDS} seconds"
            ))
            .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&RETRY_AFTER_SECONDS.to_string()).expect("digits"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_before_judging() {
        assert_eq!(decoded_problem("/api/v1/orgs/acme/requirements/a-b"), None);
        assert!(decoded_problem("/api/v1/orgs/acme/requirements/%00").is_some());
        assert!(decoded_problem("/x/%1b%5b31m").is_some());
        assert!(decoded_problem("/x/%ff").is_some());
        assert_eq!(
            decoded_problem("version=1.2%2B3&at=2026-01-01T00:00:00%2B01:00"),
            None
        );
    }

    #[test]
    fn expensive_routes() {
        assert!(is_expensive(&Method::GET, "/api/v1/orgs/a/status"));
        assert!(is_expensive(
            &Method::GET,
            "/api/v1/orgs/a/products/p/history"
        ));
        assert!(is_expensive(
            &Method::POST,
            "/api/v1/orgs/a/requirement-coverage"
        ));
        assert!(!is_expensive(&Method::GET, "/api/v1/orgs/a/requirements"));
        assert!(!is_expensive(&Method::GET, "/healthz"));
    }

    /// A flood of expensive requests degrades into 503 with Retry-After, not a queue.
    #[tokio::test]
    async fn a_flood_of_expensive_requests_is_turned_away() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/api/v1/orgs/a/status",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Expensive::new(1, Duration::from_millis(50)),
                limit_expensive,
            ));
        let call = || {
            let app = app.clone();
            async move {
                let request = axum::http::Request::get("/api/v1/orgs/a/status")
                    .body(axum::body::Body::empty())
                    .unwrap();
                app.oneshot(request).await.unwrap()
            }
        };
        let (a, b) = tokio::join!(call(), call());
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE]);
        let busy = if a.status() == StatusCode::OK { b } else { a };
        assert_eq!(busy.headers()[header::RETRY_AFTER], "2");
        assert_eq!(
            busy.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        // Once the first is done, the next is served.
        assert_eq!(call().await.status(), StatusCode::OK);
    }
}
