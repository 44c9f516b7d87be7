//! `GET …/deadlines`: what changes soon, from the cells' own instants.

use crate::report::{ok, setup_portal};
use crate::support::Server;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn kinds(answer: &Value) -> Vec<(String, String, String)> {
    answer["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["requirement"].as_str().unwrap().to_owned(),
                d["project"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn deadlines_list_grace_evidence_and_decision_expiry_in_order() {
    let server = Server::sqlite().await;
    setup_portal(&server).await;
    let expires =
        jiff::Timestamp::from_millisecond(jiff::Timestamp::now().as_millisecond() + 2 * 86_400_000)
            .unwrap()
            .to_string();
    ok(
        &server,
        Method::POST,
        "/api/v1/orgs/default/exceptions",
        Some(json!({
        "product": "portal", "version": "1.0", "project": "api", "requirement": "tested",
        "reason": "until the suite moves", "expires": expires})),
    )
    .await;

    // Within 12 h: web's grace (6 h after its failing scan) ends; nothing else.
    let soon = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/deadlines?within=12h",
        None,
    )
    .await;
    assert_eq!(
        kinds(&soon),
        vec![("grace_ends".into(), "scanned".into(), "web".into())],
        "{soon}"
    );
    assert_eq!(soon["deadlines"][0]["status"], "GRACE");

    // Within 7 days (the default): then the daily scans go stale, then the exception ends.
    let week = ok(&server, Method::GET, "/api/v1/orgs/default/deadlines", None).await;
    let found = kinds(&week);
    assert_eq!(found[0].0, "grace_ends", "{week}");
    assert!(
        found.contains(&("evidence_expires".into(), "scanned".into(), "api".into())),
        "{week}"
    );
    assert!(
        found.contains(&("evidence_expires".into(), "scanned".into(), "web".into())),
        "{week}"
    );
    assert_eq!(
        found.last().unwrap(),
        &("exception_expires".into(), "tested".into(), "api".into()),
        "{week}"
    );
    // The yearly proof is not due this week; the open-ended exception never is.
    assert!(!found.iter().any(|k| k.0 == "proof_expires"), "{week}");
    assert!(
        !found.iter().any(|k| k.1 == "tested" && k.2 == "web"),
        "{week}"
    );
    let times: Vec<&str> = week["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "sorted by time: {times:?}"
    );

    // A year ahead the proof is due.
    let year = ok(
        &server,
        Method::GET,
        "/api/v1/orgs/default/deadlines?within=53w&product=portal",
        None,
    )
    .await;
    assert!(
        kinds(&year)
            .iter()
            .any(|k| k.0 == "proof_expires" && k.1 == "reviewed"),
        "{year}"
    );

    let (status, body) = server
        .call(
            Method::GET,
            "/api/v1/orgs/default/deadlines?within=soon",
            Some(&server.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = server
        .call(
            Method::GET,
            "/api/v1/orgs/default/deadlines?product=nope",
            Some(&server.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
