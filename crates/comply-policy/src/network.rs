//! Restricted networking (decision 0025): `http.send` to listed hosts only.
//!
//! Off by default, so that evaluation stays deterministic (decision 0008). A caller that
//! lists hosts (`comply policy eval --allowed-hostnames`, the org setting
//! `policy_allowed_hostnames` in the attest flow) accepts that the verdict depends on
//! what those hosts answer; the callers record it in the evaluation.
//!
//! The builtin follows OPA's `http.send` as far as Chainloop's policies use it: `method`
//! and `url` required, `headers`, `body` (sent as JSON) or `raw_body`, `timeout`
//! (`"5s"`, `"500ms"` or nanoseconds), `raise_error` (default true); the answer has
//! `status`, `status_code`, `headers`, `raw_body` and `body` (JSON, when it parses).
//! Redirects are not followed (OPA's default), so a listed host cannot send the
//! request on to one that is not listed.

use regorus::Value;
use serde_json::{Map, Value as Json};
use std::io::Read;
use std::time::Duration;

/// Answers larger than this are refused: a policy reads a small JSON document.
const MAX_BODY: u64 = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The hosts `http.send` may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    hosts: Vec<String>,
}

impl Network {
    /// Hostnames (no scheme, path or port), compared case-insensitively; empty entries
    /// are dropped. An empty list means no networking.
    pub fn allow<I, S>(hosts: I) -> Network
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut hosts: Vec<String> = hosts
            .into_iter()
            .map(|h| h.as_ref().trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        hosts.sort();
        hosts.dedup();
        Network { hosts }
    }

    pub fn is_enabled(&self) -> bool {
        !self.hosts.is_empty()
    }

    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// A listed host may be named with or without the port it is reached on.
    fn allows(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let with_port = port.map(|p| format!("{host}:{p}"));
        self.hosts
            .iter()
            .any(|h| *h == host || with_port.as_deref() == Some(h.as_str()))
    }

    /// One `http.send` call, waiting at most `budget` (the evaluation's time limit: the
    /// engine cannot interrupt a call in progress).
    pub(crate) fn send(&self, request: &Value, budget: Duration) -> anyhow::Result<Value> {
        let request: Json = serde_json::to_value(request)?;
        let Some(request) = request.as_object() else {
            anyhow::bail!("http.send: the request must be an object");
        };
        let text = |key: &str| request.get(key).and_then(Json::as_str);
        let method = text("method")
            .ok_or_else(|| anyhow::anyhow!("http.send: the request needs a `method`"))?
            .to_ascii_uppercase();
        let url =
            text("url").ok_or_else(|| anyhow::anyhow!("http.send: the request needs a `url`"))?;
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|e| anyhow::anyhow!("http.send: '{url}' is not a URL: {e}"))?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "http" && scheme != "https" {
            anyhow::bail!("http.send: '{url}' is not an http or https URL");
        }
        let host = uri
            .host()
            .ok_or_else(|| anyhow::anyhow!("http.send: '{url}' names no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !self.allows(host, uri.port_u16()) {
            anyhow::bail!(
                "http.send: host '{host}' is not in the allowed hostnames ({}); allow it with --allowed-hostnames or the org setting policy_allowed_hostnames",
                self.hosts.join(", ")
            );
        }
        let raise_error = request
            .get("raise_error")
            .and_then(Json::as_bool)
            .unwrap_or(true);
        let timeout = match request.get("timeout") {
            Some(t) => timeout(t)?,
            None => DEFAULT_TIMEOUT,
        }
        .min(budget);
        let body: Option<Vec<u8>> = match (request.get("raw_body"), request.get("body")) {
            (Some(Json::String(raw)), _) => Some(raw.clone().into_bytes()),
            (_, Some(body)) if !body.is_null() => Some(serde_json::to_vec(body)?),
            _ => None,
        };
        let mut builder = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(uri.clone());
        let mut has_content_type = false;
        if let Some(Json::Object(headers)) = request.get("headers") {
            for (name, value) in headers {
                has_content_type |= name.eq_ignore_ascii_case("content-type");
                let value = match value {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                builder = builder.header(name.as_str(), value);
            }
        }
        if body.is_some() && !has_content_type && request.get("raw_body").is_none() {
            builder = builder.header("Content-Type", "application/json");
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        let answer = match body {
            Some(body) => builder.body(body).map(|r| agent.run(r)),
            None => builder.body(()).map(|r| agent.run(r)),
        }
        .map_err(|e| anyhow::anyhow!("http.send: invalid request: {e}"))?;
        let mut response = match answer {
            Ok(response) => response,
            Err(e) if raise_error => anyhow::bail!("http.send: {method} {url}: {e}"),
            Err(e) => {
                let error = serde_json::json!({
                    "status_code": 0,
                    "error": {"code": "eval_http_send_network_error", "message": e.to_string()},
                });
                return Ok(crate::script::to_rego(&error));
            }
        };
        let status = response.status();
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                Some(Json::Array(values)) => values.push(value.into()),
                _ => {
                    headers.insert(name.as_str().to_owned(), Json::Array(vec![value.into()]));
                }
            }
        }
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| anyhow::anyhow!("http.send: {method} {url}: reading the answer: {e}"))?;
        if bytes.len() as u64 > MAX_BODY {
            anyhow::bail!("http.send: {method} {url}: the answer is larger than {MAX_BODY} bytes");
        }
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let parsed: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        let answer = serde_json::json!({
            "status": format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")).trim_end().to_owned(),
            "status_code": status.as_u16(),
            "headers": headers,
            "raw_body": raw,
            "body": parsed,
        });
        Ok(crate::script::to_rego(&answer))
    }
}

/// OPA's `timeout`: a duration string (`"5s"`, `"250ms"`, `"1m"`) or nanoseconds.
fn timeout(value: &Json) -> anyhow::Result<Duration> {
    if let Some(ns) = value.as_u64() {
        return Ok(Duration::from_nanos(ns));
    }
    let text = value.as_str().unwrap_or("").trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("http.send: timeout '{text}' is not a duration"))?;
    let seconds = match unit {
        "ns" => number / 1e9,
        "us" | "µs" => number / 1e6,
        "ms" => number / 1e3,
        "s" | "" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => anyhow::bail!("http.send: timeout '{text}' has an unknown unit"),
    };
    Ok(Duration::from_secs_f64(seconds.clamp(0.0, 600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalized_and_matched_with_or_without_port() {
        let n = Network::allow(["Example.COM", " ", "127.0.0.1:8080", "example.com"]);
        assert_eq!(n.hosts(), ["127.0.0.1:8080", "example.com"]);
        assert!(n.allows("example.com", None));
        assert!(n.allows("EXAMPLE.com.", Some(443)));
        assert!(n.allows("127.0.0.1", Some(8080)));
        assert!(!n.allows("127.0.0.1", Some(9090)));
        assert!(!n.allows("sub.example.com", None));
        assert!(!Network::allow(Vec::<String>::new()).is_enabled());
    }

    #[test]
    fn timeouts_parse_as_opa_writes_them() {
        assert_eq!(timeout(&"5s".into()).unwrap(), Duration::from_secs(5));
        assert_eq!(
            timeout(&"250ms".into()).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            timeout(&1_000_000u64.into()).unwrap(),
            Duration::from_millis(1)
        );
        assert!(timeout(&"soon".into()).is_err());
    }
}
