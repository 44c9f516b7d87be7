//! comply's HTTP API.
//!
//! Every route is registered through [`api::Api`], which records its method, path,
//! required access and summary. The same record builds the OpenAPI document and drives
//! the security tests, so a route cannot exist undocumented or unguarded.

pub mod api;
pub mod auth;
mod builtins;
mod error;
mod openapi;
pub(crate) mod routes;
mod state;
pub mod web;

pub use auth::{IssuedToken, issue_token};
pub use builtins::load_builtins;
pub use error::ApiError;
pub use state::AppState;

use axum::Router;
use comply_store::Store;
use std::future::Future;
use tokio::net::TcpListener;

/// The whole application: API routes, documentation, middleware.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// The routes as documented: method, path, access, summary.
pub fn route_docs() -> Vec<api::RouteDoc> {
    routes::api().docs().to_vec()
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// First start on an empty database: creates org `default` and an owner token that
/// may administer every org. Returns the token when this call created it.
pub async fn bootstrap(store: &Store) -> Result<Option<IssuedToken>, comply_store::StoreError> {
    let issued = issue_token("bootstrap-owner", comply_core::Role::Owner, true, None);
    let created = store.bootstrap(&issued.record, state::now_ms()).await?;
    Ok(created.map(|_| issued))
}
