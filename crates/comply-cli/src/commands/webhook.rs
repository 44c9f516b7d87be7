//! `comply webhook …`: org webhooks and their delivery log (decision 0037).

use crate::cli::{Output, WebhookCommand};
use crate::client::{Client, query};
use crate::error::Result;
use crate::output::{emit, table, text};
use serde_json::json;

pub fn run(client: &mut Client, output: Output, cmd: WebhookCommand) -> Result<()> {
    match cmd {
        WebhookCommand::Add(a) => {
            let path = client.org_path("/webhooks")?;
            let answer = client.post(
                &path,
                &json!({"url": a.url, "events": a.events, "horizon": a.horizon}),
            )?;
            emit(output, &answer, |w| {
                format!(
                    "Webhook {} added for {}. Its signing secret is shown only now:\n{}\n",
                    text(&w["id"]),
                    text(&w["url"]),
                    text(&w["secret"])
                )
            })
        }
        WebhookCommand::List => {
            let path = client.org_path("/webhooks")?;
            let hooks = client.get(&path)?;
            emit(output, &hooks, |hooks| {
                let rows = hooks
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|w| {
                        let events: Vec<String> = w["events"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(text)
                            .collect();
                        let state = if w["enabled"] == true {
                            "enabled".to_owned()
                        } else {
                            format!("disabled: {}", text(&w["disabled_reason"]))
                        };
                        vec![
                            text(&w["id"]),
                            text(&w["url"]),
                            events.join(","),
                            text(&w["horizon"]),
                            state,
                        ]
                    })
                    .collect();
                table(&["id", "url", "events", "horizon", "state"], rows)
            })
        }
        WebhookCommand::Remove { id } => {
            let path = client.org_path(&format!("/webhooks/{id}"))?;
            client.delete(&path)?;
            emit(output, &json!({"id": id, "removed": true}), |_| {
                format!("Webhook {id} removed\n")
            })
        }
        WebhookCommand::Deliveries { id, limit } => {
            let limit = limit.to_string();
            let q = query(&[("limit", Some(limit.as_str()))]);
            let path = client.org_path(&format!("/webhooks/{id}/deliveries{q}"))?;
            let log = client.get(&path)?;
            emit(output, &log, |log| {
                let rows = log
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        let outcome = match (d["last_status"].as_i64(), d["last_error"].as_str()) {
                            (Some(s), None) => s.to_string(),
                            (_, Some(e)) => e.to_owned(),
                            (None, None) => String::new(),
                        };
                        vec![
                            text(&d["created"]),
                            text(&d["type"]),
                            text(&d["event"]),
                            text(&d["state"]),
                            text(&d["attempts"]),
                            outcome,
                        ]
                    })
                    .collect();
                table(
                    &[
                        "created",
                        "type",
                        "event",
                        "state",
                        "attempts",
                        "last outcome",
                    ],
                    rows,
                )
            })
        }
        WebhookCommand::Enable { id } => {
            let path = client.org_path(&format!("/webhooks/{id}/enable"))?;
            let answer = client.post(&path, &json!({}))?;
            emit(output, &answer, |_| format!("Webhook {id} enabled\n"))
        }
        WebhookCommand::Test { id } => {
            let path = client.org_path(&format!("/webhooks/{id}/test"))?;
            let answer = client.post(&path, &json!({}))?;
            emit(output, &answer, |a| {
                format!(
                    "Ping {} queued for webhook {id}; see `comply webhook deliveries {id}`\n",
                    text(&a["event"])
                )
            })
        }
    }
}
