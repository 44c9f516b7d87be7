//! Webhooks and the outbox: events once per dedupe key, deliveries leased to one
//! server at a time, retries, disabling, the watch's compare-and-swap.

use crate::support::{each_backend, org};
use comply_store::{NewWebhook, OutboxEvent, Store};

fn hook(id: &str, events: &[&str]) -> NewWebhook {
    NewWebhook {
        id: id.into(),
        url: format!("http://127.0.0.1:9/{id}"),
        events: events.iter().map(|e| e.to_string()).collect(),
        horizon_ms: 86_400_000,
        secret: format!("whsec_{id}"),
    }
}

fn event(id: &str, kind: &str, key: &str) -> OutboxEvent {
    OutboxEvent {
        id: id.into(),
        kind: kind.into(),
        dedupe_key: key.into(),
        payload: format!("{{\"id\":\"{id}\"}}"),
        only_webhook: None,
    }
}

#[tokio::test]
async fn events_are_enqueued_once_per_key_and_fan_out_to_subscribers() {
    each_backend(|store: Store| async move {
        let acme = org(&store, "acme").await;
        let other = org(&store, "other").await;
        store
            .create_webhook(acme.id, &hook("h1", &["cell.failed"]), "alice", 10)
            .await
            .unwrap();
        store
            .create_webhook(acme.id, &hook("h2", &["coverage.dropped"]), "alice", 10)
            .await
            .unwrap();
        store
            .create_webhook(other.id, &hook("h3", &["cell.failed"]), "bob", 10)
            .await
            .unwrap();
        let e = event("e1", "cell.failed", "cell-failed:x");
        assert_eq!(
            store
                .enqueue_events(acme.id, std::slice::from_ref(&e), 20)
                .await
                .unwrap(),
            1
        );
        // The same key again, with another id: ignored.
        let again = event("e2", "cell.failed", "cell-failed:x");
        assert_eq!(
            store.enqueue_events(acme.id, &[again], 21).await.unwrap(),
            0
        );
        let d1 = store.list_deliveries(acme.id, "h1", 10).await.unwrap();
        assert_eq!(d1.len(), 1);
        assert_eq!(
            (d1[0].event_id.as_str(), d1[0].state.as_str()),
            ("e1", "pending")
        );
        assert!(
            store
                .list_deliveries(acme.id, "h2", 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Org isolation: another org's webhook is not found, nor its deliveries.
        assert!(store.webhook(acme.id, "h3").await.unwrap().is_none());
        assert!(
            store
                .list_deliveries(other.id, "h1", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .remove_webhook(acme.id, "h3", "alice", 30)
                .await
                .is_err()
        );
        let listed = store.list_webhooks(acme.id).await.unwrap();
        assert_eq!(
            listed.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            ["h1", "h2"]
        );
        assert_eq!(
            store.orgs_with_webhooks().await.unwrap(),
            vec![acme.id, other.id]
        );
    })
    .await;
}

#[tokio::test]
async fn a_lease_is_held_by_one_claimer_until_it_expires() {
    each_backend(|store: Store| async move {
        let acme = org(&store, "acme").await;
        store
            .create_webhook(acme.id, &hook("h1", &["cell.failed"]), "alice", 10)
            .await
            .unwrap();
        let events: Vec<_> = (0..5)
            .map(|i| event(&format!("e{i}"), "cell.failed", &format!("k{i}")))
            .collect();
        store.enqueue_events(acme.id, &events, 100).await.unwrap();
        let a = store.claim_deliveries("a", 100, 1_000, 3).await.unwrap();
        let b = store.claim_deliveries("b", 100, 1_000, 10).await.unwrap();
        assert_eq!((a.len(), b.len()), (3, 2));
        assert!(a.iter().all(|d| !b.iter().any(|e| e.id == d.id)));
        assert!(a.iter().all(|d| d.attempts == 1 && d.secret == "whsec_h1"));
        // Held: nobody gets them before the lease ends.
        assert!(
            store
                .claim_deliveries("c", 500, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // a delivers one; the rest of its lease runs out (a crash), so c takes them.
        store.delivery_succeeded(&a[0].id, 204, 600).await.unwrap();
        let c = store.claim_deliveries("c", 1_100, 1_000, 10).await.unwrap();
        assert_eq!(c.len(), 4);
        assert!(c.iter().all(|d| d.attempts == 2));
        // a's late report of a failure is not recorded: c holds the lease now.
        assert!(
            !store
                .delivery_failed(&a[1].id, "a", Some(500), "late", Some(5_000), 10, 1_200)
                .await
                .unwrap()
        );
        let log = store.list_deliveries(acme.id, "h1", 10).await.unwrap();
        let delivered: Vec<_> = log.iter().filter(|d| d.state == "delivered").collect();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].last_status, Some(204));
        assert!(log.iter().all(|d| d.last_error.is_none()));
    })
    .await;
}

#[tokio::test]
async fn failures_retry_then_disable_and_enable_resumes() {
    each_backend(|store: Store| async move {
        let acme = org(&store, "acme").await;
        store
            .create_webhook(acme.id, &hook("h1", &["cell.failed"]), "alice", 10)
            .await
            .unwrap();
        store
            .enqueue_events(acme.id, &[event("e1", "cell.failed", "k1")], 100)
            .await
            .unwrap();
        let mut now = 100;
        for attempt in 1..=3 {
            let claimed = store.claim_deliveries("a", now, 1_000, 10).await.unwrap();
            assert_eq!(claimed.len(), 1, "attempt {attempt}");
            let disabled = store
                .delivery_failed(
                    &claimed[0].id,
                    "a",
                    Some(503),
                    "503 Service Unavailable",
                    Some(now + 50),
                    3,
                    now,
                )
                .await
                .unwrap();
            assert_eq!(disabled, attempt == 3);
            // Not due before its retry time.
            assert!(
                store
                    .claim_deliveries("a", now + 10, 1_000, 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
            now += 100;
        }
        let row = store.webhook(acme.id, "h1").await.unwrap().unwrap();
        assert!(row.disabled_at.is_some());
        assert!(
            row.disabled_reason
                .unwrap()
                .contains("3 consecutive failed deliveries")
        );
        // Disabled: its pending delivery waits, and new events are not queued for it.
        assert!(
            store
                .claim_deliveries("a", now, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        store
            .enqueue_events(acme.id, &[event("e2", "cell.failed", "k2")], now)
            .await
            .unwrap();
        assert_eq!(
            store
                .list_deliveries(acme.id, "h1", 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(store.orgs_with_webhooks().await.unwrap().is_empty());
        store
            .enable_webhook(acme.id, "h1", "alice", now)
            .await
            .unwrap();
        let claimed = store.claim_deliveries("a", now, 1_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].attempts, 4);
        store
            .delivery_succeeded(&claimed[0].id, 200, now)
            .await
            .unwrap();
        let row = store.webhook(acme.id, "h1").await.unwrap().unwrap();
        assert_eq!((row.failures, row.disabled_at), (0, None));
        let actions: Vec<String> = store
            .audit_list(acme.id, &Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(
            actions.contains(&"webhook.disable".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"webhook.enable".to_owned()),
            "{actions:?}"
        );
        // Given up: a delivery whose last attempt fails with no retry is `failed`.
        store
            .enqueue_events(acme.id, &[event("e3", "cell.failed", "k3")], now)
            .await
            .unwrap();
        let claimed = store.claim_deliveries("a", now, 1_000, 10).await.unwrap();
        store
            .delivery_failed(
                &claimed[0].id,
                "a",
                None,
                "connection refused",
                None,
                10,
                now,
            )
            .await
            .unwrap();
        let log = store.list_deliveries(acme.id, "h1", 10).await.unwrap();
        let e3 = log.iter().find(|d| d.event_id == "e3").unwrap();
        assert_eq!((e3.state.as_str(), e3.last_status), ("failed", None));
    })
    .await;
}

#[tokio::test]
async fn the_watch_moves_by_compare_and_swap() {
    each_backend(|store: Store| async move {
        let acme = org(&store, "acme").await;
        store
            .create_webhook(acme.id, &hook("h1", &["cell.failed"]), "alice", 10)
            .await
            .unwrap();
        assert_eq!(store.watch_snapshot(acme.id).await.unwrap(), None);
        // Two watchers both saw no snapshot: one writes the baseline.
        let first = store
            .advance_watch(acme.id, None, "s1", &[], 20)
            .await
            .unwrap();
        let second = store
            .advance_watch(acme.id, None, "s1", &[], 20)
            .await
            .unwrap();
        assert_eq!((first, second), (Some(0), None));
        let (rev, snap) = store.watch_snapshot(acme.id).await.unwrap().unwrap();
        assert_eq!((rev, snap.as_str()), (1, "s1"));
        // Both computed the same change from revision 1: only the first enqueues.
        let found = [event("e1", "cell.failed", "k1")];
        let a = store
            .advance_watch(acme.id, Some(1), "s2", &found, 30)
            .await
            .unwrap();
        let b = store
            .advance_watch(
                acme.id,
                Some(1),
                "s2",
                &[event("e1b", "cell.failed", "k1b")],
                30,
            )
            .await
            .unwrap();
        assert_eq!((a, b), (Some(1), None));
        let log = store.list_deliveries(acme.id, "h1", 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].event_id, "e1");
        assert_eq!(store.watch_snapshot(acme.id).await.unwrap().unwrap().0, 2);
    })
    .await;
}
