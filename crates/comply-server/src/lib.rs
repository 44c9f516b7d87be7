//! comply's HTTP API.
//!
//! Every route is registered through [`api::Api`], which records its method, path,
//! required access and summary. The same record builds the OpenAPI document and drives
//! the security tests, so a route cannot exist undocumented or unguarded.

pub mod api;
pub mod auth;
mod boundary;
mod builtins;
pub(crate) mod catalog;
pub(crate) mod computation;
mod error;
mod middleware;
mod openapi;
pub mod pack;
pub(crate) mod routes;
mod state;
pub mod web;
pub mod webhooks;

pub use auth::{IssuedToken, issue_token};
pub use builtins::load_builtins;
pub use error::ApiError;
pub use middleware::Expensive;
pub use routes::{PackAnswer, PackFile, ReportKey};
pub use state::AppState;

use axum::Router;
use comply_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The whole application: API routes, documentation, middleware.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// The routes as documented: method, path, access, summary.
pub fn route_docs() -> Vec<api::RouteDoc> {
    routes::api().docs().to_vec()
}

/// How long connections may take and how many there may be (`docs/limits.md`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A client must send a request's whole header within this time, and an idle
    /// keep-alive connection is closed after it (hyper waits for the next header).
    pub header_read_timeout: Duration,
    /// Connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain: Duration::from_secs(10),
        }
    }
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, shutdown, ConnectionLimits::default()).await
}

/// [`serve`] with explicit connection limits. hyper's own connection loop rather than
/// `axum::serve`, which sets no header-read timeout (a client that never finishes its
/// headers would hold its connection, and its memory, forever).
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = app(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("never closed"),
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off
                    // instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the drain time; stopping anyway");
    }
    Ok(())
}

/// Break-glass: a new instance-administrator token, every old one revoked, audited as
/// `actor`. For `comply serve --reset-admin-token`, run by someone with database access.
pub async fn reset_admin_token(
    store: &Store,
    actor: &str,
) -> Result<(String, IssuedToken), comply_store::StoreError> {
    let issued = issue_token("instance-admin", comply_core::Role::Owner, true, None);
    let org = store
        .reset_instance_admin(&issued.record, actor, state::now_ms())
        .await?;
    Ok((org, issued))
}

/// First start on an empty database: creates org `default` and an owner token that
/// may administer every org. Returns the token when this call created it.
pub async fn bootstrap(store: &Store) -> Result<Option<IssuedToken>, comply_store::StoreError> {
    let issued = issue_token("bootstrap-owner", comply_core::Role::Owner, true, None);
    let created = store.bootstrap(&issued.record, state::now_ms()).await?;
    Ok(created.map(|_| issued))
}
