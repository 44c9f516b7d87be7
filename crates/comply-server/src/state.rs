use crate::routes::OrgCatalog;
use comply_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a per-org cache holds: a value and the configuration version it was built from.
pub type PerOrg<T> = Mutex<HashMap<i64, ((i64, i64), Arc<T>)>>;

/// The org's value from `cache` when the database's configuration version
/// (`Store::config_version`) is still the one it was built from, else built anew by
/// `load` and kept.
pub async fn per_org<T, F>(
    state: &AppState,
    cache: &PerOrg<T>,
    org_id: i64,
    load: F,
) -> Result<Arc<T>, crate::ApiError>
where
    F: std::future::Future<Output = Result<T, crate::ApiError>>,
{
    let version = state.store.config_version(org_id).await?;
    if let Some((v, value)) = cache.lock().expect("per-org cache").get(&org_id)
        && *v == version
    {
        return Ok(value.clone());
    }
    let value = Arc::new(load.await?);
    cache
        .lock()
        .expect("per-org cache")
        .insert(org_id, (version, value.clone()));
    Ok(value)
}
/// (org, changes before the instant, the last of them)
pub type PastKey = (i64, i64, Option<i64>);
/// (org, product, product version)
pub type RowKey = (i64, String, String);

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Parsed org resources for status queries, keyed by the org's configuration
    /// version (see `Store::config_version`): every server recomputes what the database
    /// says changed, so several servers never disagree.
    pub catalogs: Arc<PerOrg<OrgCatalog>>,
    /// The same for coverage: contracts indexed by policy.
    pub coverage_views: Arc<PerOrg<crate::routes::CoverageView>>,
    /// Catalogs as of past instants, keyed by (org, configuration epoch): see
    /// `OrgCatalog::at`.
    pub past_catalogs: Arc<Mutex<HashMap<PastKey, Arc<OrgCatalog>>>>,
    /// Overview rows of product versions, reused while nothing they depend on changed
    /// and no deadline passed (see `routes::compliance::overview`).
    pub overview_rows: Arc<Mutex<HashMap<RowKey, crate::routes::CachedRow>>>,
    /// Wakes this server's webhook worker to watch now (evidence or a decision arrived)
    /// instead of at its next tick. Other servers see the change at theirs.
    pub webhook_nudge: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            catalogs: Default::default(),
            coverage_views: Default::default(),
            past_catalogs: Default::default(),
            overview_rows: Default::default(),
            webhook_nudge: Default::default(),
        }
    }
}

/// Frees `value` on a blocking thread: the cells and evidence of a large status are
/// hundreds of thousands of small allocations, and freeing them is work the answer need
/// not wait for.
pub fn drop_later<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || drop(value));
}

/// The server's clock, read in one place; the domain receives time as a parameter.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// RFC 3339 in UTC with milliseconds, as every API answer writes times. Written by hand:
/// a status answer formats thousands of times, and a general formatter costs more than
/// the computation behind them.
pub fn fmt_time(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return ms.to_string();
    }
    let (h, m, s, milli) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
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

#[cfg(test)]
mod tests {
    #[test]
    fn times_format_like_jiff() {
        for ms in [
            0i64,
            1_764_115_200_123,
            951_782_400_000,
            -86_400_001,
            4_102_444_799_999,
            1_709_164_800_000,
        ] {
            let expected = jiff::Timestamp::from_millisecond(ms)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(super::fmt_time(ms), expected, "{ms}");
        }
    }
}
