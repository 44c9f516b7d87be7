//! The dashboard: server-rendered pages on the API's port (decision 0018).
//!
//! Pages are registered through [`Pages`], the dashboard's twin of [`crate::api::Api`]:
//! every page records its method, path and the role it needs, the guard enforces them
//! (session, role, CSRF on writes), and the security tests walk the same list. Pages are
//! not part of the OpenAPI document: they answer HTML, not the API's JSON contract.
//!
//! Handlers read and write through the JSON API's own handler functions, so a rule has
//! one implementation; this module only turns their answers into HTML.

mod assets;
mod call;
mod error;
mod layout;
mod pages;
pub(crate) mod session;

use crate::api::Method;
use crate::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::on;
use comply_core::Role;
use serde::Serialize;

pub use error::WebError;
pub use session::Web;

/// One dashboard page or form target.
#[derive(Debug, Clone, Serialize)]
pub struct PageDoc {
    #[serde(serialize_with = "crate::api::method_name")]
    pub method: Method,
    pub path: String,
    /// `None`: reachable without a session (sign-in, assets).
    pub role: Option<Role>,
    pub summary: &'static str,
}

pub struct Pages {
    router: Router<AppState>,
    docs: Vec<PageDoc>,
    state: Option<AppState>,
}

impl Pages {
    fn new(state: Option<AppState>) -> Self {
        Self {
            router: Router::new(),
            docs: Vec::new(),
            state,
        }
    }

    fn page<H, T>(
        mut self,
        method: Method,
        path: &str,
        role: Option<Role>,
        summary: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.docs.push(PageDoc {
            method: method.clone(),
            path: path.to_owned(),
            role,
            summary,
        });
        if let Some(state) = &self.state {
            let guarded = on(crate::api::method_filter(&method), handler).route_layer(
                from_fn_with_state((state.clone(), method, role), session::guard),
            );
            self.router = self.router.route(path, guarded);
        }
        self
    }
}

fn pages_with(state: Option<AppState>) -> Pages {
    let p = Pages::new(state);
    let p = pages::signin::register(p);
    let p = pages::overview::register(p);
    let p = pages::product::register(p);
    let p = pages::frameworks::register(p);
    let p = pages::requirements::register(p);
    let p = pages::projects::register(p);
    let p = pages::audit::register(p);
    let p = pages::settings::register(p);
    p.page(
        Method::GET,
        "/assets/{file}",
        None,
        "Embedded stylesheet and scripts (fingerprinted names).",
        assets::serve,
    )
}

/// Every dashboard page, as registered.
pub fn page_docs() -> Vec<PageDoc> {
    pages_with(None).docs
}

/// Headers every dashboard answer carries. No inline script or style anywhere: the
/// policy says so and the browser enforces it.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show live compliance data and carry the CSRF token.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The dashboard's routes with their own headers layer; merged into the app by
/// `routes::router`.
pub fn router(state: AppState) -> Router<AppState> {
    pages_with(Some(state))
        .router
        .layer(from_fn(security_headers))
}
