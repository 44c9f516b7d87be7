//! Scenario `portfolio --dashboard`: server time of the dashboard's pages at the
//! benchmark portfolio, signed in as a browser would be (session cookie), timed to the
//! last byte; and the size of the product version page's HTML.

use crate::Target;
use crate::evidence::percentile;
use anyhow::{Context, Result, bail};
use std::time::{Duration, Instant};

fn page(
    agent: &ureq::Agent,
    target: &Target,
    cookie: &str,
    path: &str,
    panel: bool,
) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let mut req = agent
        .get(format!("{}{path}", target.base))
        .header("Cookie", cookie);
    if panel {
        req = req
            .header("HX-Request", "true")
            .header("HX-Target", "detail");
    }
    let mut resp = req.call()?;
    let status = resp.status();
    let bytes = resp.body_mut().with_config().limit(1 << 30).read_to_vec()?;
    let elapsed = started.elapsed();
    if status != 200 {
        bail!(
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
        );
    }
    Ok((elapsed, bytes.len()))
}

pub fn measure(target: &Target, samples: usize) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let resp = agent
        .post(format!("{}/signin", target.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("token={}&next=%2F", target.token))?;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("sign-in set no cookie")?
        .to_owned();
    let pages: [(&str, &str, bool); 14] = [
        ("overview", "/", false),
        (
            "product version (20 projects × 150 requirements)",
            "/products/big?version=1",
            false,
        ),
        (
            "cell panel (htmx)",
            "/products/big?version=1&r=bench-000&p=p-00000",
            true,
        ),
        (
            "score history chart, 30 days (htmx)",
            "/products/big/trend?version=1&style=chart",
            true,
        ),
        ("frameworks", "/frameworks", false),
        ("framework (150 requirements)", "/frameworks/bench", false),
        ("requirement", "/requirements/bench-000", false),
        (
            "requirement coverage tab",
            "/requirements/bench-000?tab=coverage",
            false,
        ),
        ("projects", "/projects", false),
        (
            "project with its latest attestations",
            "/projects/p-00000",
            false,
        ),
        ("audit log", "/audit", false),
        ("settings", "/settings", false),
        ("settings: API tokens", "/settings/tokens", false),
        ("sign-in form", "/signin", false),
    ];
    println!("dashboard pages, signed in (server time to the last byte, {samples} requests each):");
    for (name, path, panel) in pages {
        // The sign-in form is what a signed-out browser sees: a session is sent there
        // to the overview instead.
        let cookie = if path == "/signin" {
            ""
        } else {
            cookie.as_str()
        };
        // Untimed first request: caches and connection warm, as for the API figures.
        page(&agent, target, cookie, path, panel)?;
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..samples {
            let (t, bytes) = page(&agent, target, cookie, path, panel)?;
            times.push(t);
            size = bytes;
        }
        times.sort();
        println!(
            "  {name:<52} p50 {:>8.1?}  p95 {:>8.1?}  {:>7.1} KB",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            size as f64 / 1000.0
        );
    }
    Ok(())
}
