use crate::support::{REQ_A, apply_yaml, each_backend, org};
use comply_store::AuditQuery;

#[tokio::test]
async fn chain_verifies_and_filters() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        apply_yaml(&store, &acme, REQ_A, 2_000).await.unwrap();
        apply_yaml(&store, &acme, &REQ_A.replace("HIGH", "LOW"), 3_000)
            .await
            .unwrap();
        assert_eq!(store.audit_verify(acme.id).await.unwrap(), Ok(3));
        let since = store
            .audit_list(
                acme.id,
                &AuditQuery {
                    since_ms: Some(2_500),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(since.len(), 1);
        let by_target = store
            .audit_list(
                acme.id,
                &AuditQuery {
                    target: Some("Requirement/req-a".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(by_target.len(), 2);
        assert_eq!(by_target[1].revision, Some(2));
    })
    .await;
}

/// Tampering through the database itself, as an attacker with SQL access would.
#[tokio::test]
async fn edited_and_removed_events_are_detected() {
    use comply_store::Store;
    use comply_store::testing::TestDb;
    use sqlx::{AnyConnection, Connection, Executor};

    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.unwrap();
        store
            .sync_builtins(&crate::support::builtin_policies(), 0)
            .await
            .unwrap();
        let acme = org(&store, "acme").await;
        for i in 0..4 {
            apply_yaml(
                &store,
                &acme,
                &REQ_A.replace("req-a", &format!("req-{i}")),
                2_000 + i,
            )
            .await
            .unwrap();
        }
        assert_eq!(store.audit_verify(acme.id).await.unwrap(), Ok(5));
        let mut conn = AnyConnection::connect(&db.url).await.unwrap();

        conn.execute(sqlx::AssertSqlSafe(format!(
            "UPDATE audit_events SET actor = 'mallory' WHERE org_id = {} AND seq = 3",
            acme.id
        )))
        .await
        .unwrap();
        let broken = store.audit_verify(acme.id).await.unwrap().unwrap_err();
        assert_eq!(broken.seq, 3, "{:?}: {broken:?}", db.backend);
        assert!(broken.reason.contains("modified"));

        conn.execute(sqlx::AssertSqlSafe(format!(
            "DELETE FROM audit_events WHERE org_id = {} AND seq = 3",
            acme.id
        )))
        .await
        .unwrap();
        let broken = store.audit_verify(acme.id).await.unwrap().unwrap_err();
        assert_eq!(broken.seq, 3, "{:?}: {broken:?}", db.backend);
        assert!(broken.reason.contains("missing"));
        conn.close().await.unwrap();
        store.close().await;
    }
}

/// CI sets the variable; this keeps a misconfigured CI from passing on SQLite alone.
#[tokio::test]
async fn postgres_runs_when_configured() {
    let expected = if std::env::var(comply_store::testing::PG_ENV).is_ok() {
        2
    } else {
        1
    };
    assert_eq!(comply_store::testing::TestDb::all().await.len(), expected);
}
