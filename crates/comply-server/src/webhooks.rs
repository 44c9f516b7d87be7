//! Webhook delivery from the outbox (decision 0037): what an event says, how it is
//! signed, and the worker every server runs.
//!
//! The worker does two things on a timer: the *watch* (`routes::webhooks::watch_org`)
//! compares each org's posture with what it last notified and enqueues events, and the
//! *sender* claims due deliveries with a lease, POSTs them, and records the outcome.
//! Everything that must survive a restart or be shared between servers is in the
//! database; the worker keeps no state of its own but its lease-owner name.

use crate::state::{AppState, fmt_time, now_ms};
use comply_store::{ClaimedDelivery, StoreError};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::future::Future;
use std::time::Duration;

/// The event kinds a webhook may subscribe to.
pub const EVENT_KINDS: [&str; 5] = [
    "cell.failed",
    "grace.ending",
    "exception.expiring",
    "coverage.dropped",
    "product_version.noncompliant",
];

/// Sent by `comply webhook test`; every webhook receives it whatever it subscribed to.
pub const PING: &str = "ping";

/// The body of every delivery. `id` is stable across retries and servers: receivers
/// deduplicate on it (also sent as `X-Comply-Event-Id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub org: String,
    /// RFC 3339: when the event was detected.
    pub created: String,
    pub data: EventData,
}

/// What the event is about, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventData {
    CellFailed(CellFailed),
    GraceEnding(GraceEnding),
    ExceptionExpiring(ExceptionExpiring),
    CoverageDropped(CoverageDropped),
    Noncompliant(Noncompliant),
    Ping(Ping),
}

/// `cell.failed`: a cell became FAILED or EXPIRED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellFailed {
    pub product: String,
    pub version: String,
    pub requirement: String,
    /// `None` for a product-scoped requirement's cell.
    pub project: Option<String>,
    pub status: String,
    /// The status the watch saw before (`None`: the cell is new).
    pub previous: Option<String>,
}

/// `grace.ending`: a GRACE cell's grace period ends within the webhook's horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraceEnding {
    pub product: String,
    pub version: String,
    pub requirement: String,
    pub project: Option<String>,
    /// The policy or proof whose grace ends.
    pub subject: String,
    pub grace_ends: String,
}

/// `exception.expiring`: an exception in effect ends within the webhook's horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionExpiring {
    pub product: String,
    pub version: String,
    pub requirement: String,
    pub project: Option<String>,
    pub exception: String,
    pub expires: String,
    pub reason: Option<String>,
}

/// `coverage.dropped`: fewer projects' contracts fully cover a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageDropped {
    pub requirement: String,
    pub full: usize,
    pub previous: usize,
}

/// `product_version.noncompliant`: a compliant product version stopped being one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Noncompliant {
    pub product: String,
    pub version: String,
    /// `passing / counted`, `None` when nothing is counted.
    pub score: Option<f64>,
    pub passing: usize,
    pub counted: usize,
}

/// `ping`: `comply webhook test`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    pub webhook: String,
    pub message: String,
}

impl WebhookEvent {
    pub fn new(org: &str, kind: &str, data: EventData, now: i64) -> WebhookEvent {
        WebhookEvent {
            id: format!("evt_{}", random_hex(12)),
            kind: kind.to_owned(),
            org: org.to_owned(),
            created: fmt_time(now),
            data,
        }
    }
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("system randomness");
    hex::encode(buf)
}

/// `sha256=<hex>` of HMAC-SHA256 over `"{timestamp}.{body}"` with the webhook's secret.
/// The timestamp (Unix seconds, sent as `X-Comply-Timestamp`) is inside the MAC, so a
/// receiver that rejects old timestamps cannot be fed a recorded delivery again.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature as a receiver should: in constant time.
pub fn verify_signature(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(hex_mac) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_mac) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// How the worker runs (`comply serve --webhook-…`); tests shorten every interval.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// How often due deliveries are looked for.
    pub poll: Duration,
    /// How often each org's posture is compared with what was notified (also run when
    /// evidence or a decision arrives on this server).
    pub watch_every: Duration,
    /// How long a claimed delivery is this server's; after it, another server (or this
    /// one restarted) sends it again. Longer than `timeout`.
    pub lease: Duration,
    /// The whole request, connect to last byte.
    pub timeout: Duration,
    /// The first retry's delay; doubled per attempt up to `backoff_max`, ±20% jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Attempts per delivery before it is given up (`failed`).
    pub max_attempts: i64,
    /// Consecutive failed attempts after which a webhook is disabled.
    pub disable_after: i64,
    /// Deliveries claimed, and sent concurrently, per pass.
    pub batch: i64,
    /// This server's name on the leases it takes.
    pub owner: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            watch_every: Duration::from_secs(30),
            lease: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            max_attempts: 12,
            disable_after: 20,
            batch: 16,
            owner: format!("server-{}", random_hex(6)),
        }
    }
}

impl WebhookConfig {
    /// The delay before attempt `attempts + 1`, or `None` to give up.
    fn retry_delay(&self, attempts: i64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(30);
        let base = self
            .backoff_base
            .saturating_mul(1u32 << exp)
            .min(self.backoff_max);
        // ±20%, so receivers that failed together are not retried together.
        let mut r = [0u8; 2];
        getrandom::fill(&mut r).expect("system randomness");
        let unit = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX);
        Some(base.mul_f64(0.8 + 0.4 * unit))
    }
}

/// Errors of the worker's passes (logged; the next pass tries again).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A computation the watch ran answered an error (ApiError is not `Display`).
    #[error("{0}")]
    Api(String),
}

impl From<crate::ApiError> for WebhookError {
    fn from(e: crate::ApiError) -> Self {
        WebhookError::Api(format!("{e:?}"))
    }
}

/// A URL a webhook may have: http or https with a host, no credentials in it. Which
/// hosts is the admin's choice (docs/security.md).
pub fn check_url(url: &str) -> Result<(), String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err("a webhook URL must start with http:// or https://".into());
    }
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("{} is not a URL: {e}", comply_core::name::quote(url)))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("a webhook URL must start with http:// or https://".into()),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| "a webhook URL must name a host".to_owned())?;
    if authority.as_str().contains('@') {
        return Err(
            "a webhook URL must not carry credentials; the signature authenticates comply".into(),
        );
    }
    if authority.host().is_empty() {
        return Err("a webhook URL must name a host".into());
    }
    if url.len() > 2048 {
        return Err("a webhook URL has at most 2048 characters".into());
    }
    Ok(())
}

/// What one attempt came to.
enum Attempt {
    Delivered(u16),
    Failed(Option<u16>, String),
}

fn send(delivery: &ClaimedDelivery, timeout: Duration) -> Attempt {
    let timestamp = now_ms() / 1000;
    let body = delivery.payload.as_bytes();
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(delivery.url.as_str())
        .header("Content-Type", "application/json")
        .header("User-Agent", "comply-webhooks")
        .header("X-Comply-Event-Id", delivery.event_id.as_str())
        .header("X-Comply-Event", delivery.kind.as_str())
        .header("X-Comply-Delivery-Attempt", delivery.attempts.to_string())
        .header("X-Comply-Timestamp", timestamp.to_string())
        .header(
            "X-Comply-Signature",
            signature(&delivery.secret, timestamp, body),
        )
        .body(body.to_vec());
    let request = match request {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(None, format!("invalid request: {e}")),
    };
    // No redirects (a 3xx is a failure: the admin configured this URL, not another) and
    // no proxy from the environment: the request goes where the webhook says.
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .new_agent();
    match agent.run(request) {
        Ok(response) => {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                Attempt::Delivered(status)
            } else {
                Attempt::Failed(Some(status), format!("the receiver answered {status}"))
            }
        }
        Err(e) => Attempt::Failed(None, e.to_string().chars().take(300).collect()),
    }
}

/// One sender pass: claims due deliveries, sends them concurrently, records each
/// outcome. Returns how many were delivered.
pub async fn deliver_due(state: &AppState, config: &WebhookConfig) -> Result<usize, WebhookError> {
    let store = &state.store;
    let lease_ms = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX);
    let claimed = store
        .claim_deliveries(&config.owner, now_ms(), lease_ms, config.batch)
        .await?;
    let mut sending = tokio::task::JoinSet::new();
    for delivery in claimed {
        let timeout = config.timeout;
        sending.spawn_blocking(move || {
            let attempt = send(&delivery, timeout);
            (delivery, attempt)
        });
    }
    let mut delivered = 0;
    while let Some(done) = sending.join_next().await {
        let Ok((delivery, attempt)) = done else {
            continue;
        };
        let now = now_ms();
        match attempt {
            Attempt::Delivered(status) => {
                store
                    .delivery_succeeded(&delivery.id, i64::from(status), now)
                    .await?;
                delivered += 1;
            }
            Attempt::Failed(status, error) => {
                let retry_at = config
                    .retry_delay(delivery.attempts)
                    .map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
                tracing::info!(delivery = %delivery.id, url = %delivery.url, %error, attempts = delivery.attempts, "webhook delivery failed");
                let disabled = store
                    .delivery_failed(
                        &delivery.id,
                        &config.owner,
                        status.map(i64::from),
                        &error,
                        retry_at,
                        config.disable_after,
                        now,
                    )
                    .await?;
                if disabled {
                    tracing::warn!(webhook = %delivery.webhook_id, "webhook disabled after repeated failures");
                }
            }
        }
    }
    Ok(delivered)
}

/// The shortest time between two watch passes that nudges asked for.
const MIN_NUDGED_WATCH_GAP: Duration = Duration::from_secs(1);

/// One watch pass over every org with an enabled webhook. Returns the events enqueued.
pub async fn watch(state: &AppState) -> Result<usize, WebhookError> {
    let mut enqueued = 0;
    for org in state.store.orgs_with_webhooks().await? {
        match crate::routes::webhooks::watch_org(state, org, now_ms()).await {
            Ok(n) => enqueued += n,
            // One org's trouble (a resource that no longer parses) must not stop the others.
            Err(e) => tracing::warn!(org, error = ?e, "webhook watch failed for an org"),
        }
    }
    Ok(enqueued)
}

/// Runs the watch and the sender until `shutdown` completes. A pass in progress
/// finishes first (a send is bounded by `timeout`), so stopping loses nothing: what
/// was not recorded is re-sent after its lease.
pub async fn run_worker(
    state: AppState,
    config: WebhookConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut next_watch = tokio::time::Instant::now();
    // A nudge brings the next watch forward, but never closer than this to the last
    // one: under steady ingestion every push nudges, and back-to-back passes would keep
    // a core recomputing every product version.
    let nudge_gap = config.watch_every.min(MIN_NUDGED_WATCH_GAP);
    let mut last_watch = tokio::time::Instant::now();
    let nudge = state.webhook_nudge.clone();
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_watch {
            if let Err(e) = watch(&state).await {
                tracing::warn!(error = %e, "webhook watch failed");
            }
            last_watch = tokio::time::Instant::now();
            next_watch = last_watch + config.watch_every;
        }
        let full = match deliver_due(&state, &config).await {
            Ok(n) => n as i64 >= config.batch,
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery pass failed");
                false
            }
        };
        // A full batch: more may be due; go again at once (shutdown still comes first).
        let pause = if full { Duration::ZERO } else { config.poll };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
            () = nudge.notified() => {
                next_watch = next_watch.min(last_watch + nudge_gap);
            }
        }
    }
    tracing::info!("webhook worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_bind_the_timestamp() {
        let s = signature("whsec_x", 1_700_000_000, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert!(verify_signature("whsec_x", 1_700_000_000, b"{}", &s));
        assert!(!verify_signature("whsec_x", 1_700_000_001, b"{}", &s));
        assert!(!verify_signature("whsec_y", 1_700_000_000, b"{}", &s));
        assert!(!verify_signature("whsec_x", 1_700_000_000, b"{ }", &s));
    }

    #[test]
    fn backoff_doubles_within_bounds_and_gives_up() {
        let config = WebhookConfig {
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(60),
            max_attempts: 5,
            ..WebhookConfig::default()
        };
        let d1 = config.retry_delay(1).unwrap();
        assert!(d1 >= Duration::from_secs(8) && d1 <= Duration::from_secs(12));
        let d3 = config.retry_delay(3).unwrap();
        assert!(d3 >= Duration::from_secs(32) && d3 <= Duration::from_secs(48));
        let d4 = config.retry_delay(4).unwrap();
        assert!(
            d4 <= Duration::from_secs(72),
            "capped at the maximum (+20%)"
        );
        assert_eq!(config.retry_delay(5), None);
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.example.com/comply").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("ftp://example.com/").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("https://user:pw@example.com/").is_err());
        assert!(check_url("not a url").is_err());
    }
}
