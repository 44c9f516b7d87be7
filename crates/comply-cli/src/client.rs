//! A small blocking HTTP client for comply's API.

use crate::cli::Global;
use crate::config;
use crate::error::{CliError, Result};
use serde_json::Value;
use std::time::Duration;
use ureq::Agent;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

pub struct Client {
    agent: Agent,
    base: String,
    token: Option<String>,
    org: Option<String>,
}

impl Client {
    /// Flags and environment first, then the config file, then defaults.
    pub fn from_global(global: &Global) -> Result<Client> {
        let file = config::load()?;
        let base = global
            .server
            .clone()
            .or(file.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(Client {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            token: global.token.clone().or(file.token),
            org: global.org.clone().or(file.org),
        })
    }

    /// The org to act in: `--org`, the config file's, else the token's own.
    pub fn org(&mut self) -> Result<String> {
        if let Some(org) = &self.org {
            return Ok(org.clone());
        }
        let me = self.get("/api/v1/whoami")?;
        let org = me["org"].as_str().unwrap_or_default().to_owned();
        self.org = Some(org.clone());
        Ok(org)
    }

    /// `/api/v1/orgs/{org}{rest}`
    pub fn org_path(&mut self, rest: &str) -> Result<String> {
        Ok(format!("/api/v1/orgs/{}{rest}", self.org()?))
    }

    pub fn get(&self, path: &str) -> Result<Value> {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.send("POST", path, Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        self.send("PATCH", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Result<Value> {
        self.send("DELETE", path, None)
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        let json = |r: ureq::RequestBuilder<ureq::typestate::WithBody>| {
            with_auth(r, &auth).header("Content-Type", "application/json")
        };
        let result = match (method, &bytes) {
            ("GET", _) => with_auth(self.agent.get(&url), &auth).call(),
            ("DELETE", _) => with_auth(self.agent.delete(&url), &auth).call(),
            ("POST", Some(b)) => json(self.agent.post(&url)).send(&b[..]),
            ("PATCH", Some(b)) => json(self.agent.patch(&url)).send(&b[..]),
            ("POST", None) => with_auth(self.agent.post(&url), &auth).send_empty(),
            _ => unreachable!("unsupported method {method}"),
        };
        let mut response = match result {
            Ok(response) => response,
            Err(e) => {
                // A server refusing a large body answers 413 and closes the connection
                // while the upload is still being written: the client sees a broken
                // pipe, not the answer. The server's published limit tells which it was.
                if let Some(sent) = &bytes
                    && let Some(limit) = self.max_request_bytes()
                    && sent.len() > limit
                {
                    return Err(CliError::usage(too_large_sentence(limit)));
                }
                return Err(CliError::failed(format!(
                    "cannot reach the comply server at {}: {e}",
                    self.base
                )));
            }
        };
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| CliError::failed(format!("reading the server's answer: {e}")))?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok(value);
        }
        Err(problem_to_error(
            status.as_u16(),
            &value,
            self.token.is_none(),
        ))
    }
}

impl Client {
    /// The request size the server accepts, from its API document (public).
    fn max_request_bytes(&self) -> Option<usize> {
        let url = format!("{}/api/v1/openapi.json", self.base);
        let mut response = self.agent.get(&url).call().ok()?;
        let doc: Value = response.body_mut().read_json().ok()?;
        doc["info"]["x-comply-limits"]["max_request_bytes"]
            .as_u64()
            .map(|n| n as usize)
    }
}

fn too_large_sentence(limit: usize) -> String {
    format!(
        "the file is larger than the server accepts ({} MiB)",
        limit / (1024 * 1024)
    )
}

fn with_auth<B>(
    request: ureq::RequestBuilder<B>,
    auth: &Option<String>,
) -> ureq::RequestBuilder<B> {
    match auth {
        Some(a) => request.header("Authorization", a),
        None => request,
    }
}

/// Turns a problem document into an error: validation problems (400, 422) are the
/// caller's input, exit 2; everything else is a failed operation, exit 1.
fn problem_to_error(status: u16, problem: &Value, no_token: bool) -> CliError {
    // The server's words reach a terminal: never its control characters.
    let detail = crate::output::printable(
        &problem["detail"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| problem.to_string()),
    );
    let kind = problem["type"]
        .as_str()
        .and_then(|t| t.strip_prefix("urn:comply:problem:"))
        .unwrap_or("");
    let details: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let (file, line, col, msg) = (
                        e["file"].as_str().unwrap_or(""),
                        e["line"].as_u64().unwrap_or(0),
                        e["column"].as_u64().unwrap_or(0),
                        e["message"].as_str().unwrap_or(""),
                    );
                    let (file, msg) = (
                        crate::output::printable(file),
                        crate::output::printable(msg),
                    );
                    if line == 0 {
                        format!("{file}: {msg}")
                    } else {
                        format!("{file}:{line}:{col}: {msg}")
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut message = match (status, kind) {
        (413, _) | (_, "payload-too-large") => detail
            .split('(')
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .map_or_else(
                || "the file is larger than the server accepts".to_owned(),
                |mib| too_large_sentence(mib * 1024 * 1024),
            ),
        (429 | 503, _) => format!("the server is busy: {detail}"),
        (405, _) | (_, "method-not-allowed") => format!(
            "the server does not offer this operation ({detail}); is it an older comply version?"
        ),
        (404, "not-found") if detail == "no such route" => {
            "the server does not offer this operation (no such route); is it an older comply version?".to_owned()
        }
        (415, _) => format!("the server refused the request's format: {detail}"),
        (500, _) => format!("the server failed: {detail}"),
        _ => detail,
    };
    if status == 401 && no_token {
        message.push_str(" (pass --token, set COMPLY_TOKEN, or run `comply serve` once to write the config file)");
    }
    let err = match status {
        400 | 413 | 422 => CliError::usage(message),
        _ => CliError::failed(message),
    };
    err.with_details(details)
}

/// `?k=v&…` of the pairs that have a value, form-encoded as the server's query
/// extractor reads them (`+` in time offsets arrives as `+`, not a space).
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            form.append_pair(k, v);
        }
    }
    let encoded = form.finish();
    if encoded.is_empty() {
        encoded
    } else {
        format!("?{encoded}")
    }
}
