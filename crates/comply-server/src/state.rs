use crate::routes::OrgCatalog;
use comply_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// An org's catalog and the configuration version it was built from.
pub type CachedCatalog = ((i64, i64), Arc<OrgCatalog>);
pub type CachedView = ((i64, i64), Arc<crate::routes::CoverageView>);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Parsed org resources for status queries, keyed by the org's configuration
    /// version (see `Store::config_version`): every server recomputes what the database
    /// says changed, so several servers never disagree.
    pub catalogs: Arc<Mutex<HashMap<i64, CachedCatalog>>>,
    /// The same for coverage: contracts indexed by policy.
    pub coverage_views: Arc<Mutex<HashMap<i64, CachedView>>>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            catalogs: Default::default(),
            coverage_views: Default::default(),
        }
    }
}

/// The server's clock, read in one place; the domain receives time as a parameter.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// RFC 3339 in UTC, as every API answer writes times.
pub fn fmt_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Parses an RFC 3339 time given by a caller.
pub fn parse_time(text: &str, what: &str) -> Result<i64, crate::ApiError> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| {
            crate::ApiError::BadRequest(format!("{what} '{text}' is not an RFC 3339 time: {e}"))
        })
}
