use crate::support::{FW, REQ_A, apply_yaml, each_backend, org};
use comply_core::apply::Action;
use comply_core::resource::{Kind, parse_file};
use comply_store::StoreError;

#[tokio::test]
async fn apply_is_idempotent_with_revisions() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let both = format!("{FW}---\n{REQ_A}");
        let first = apply_yaml(&store, &acme, &both, 10).await.unwrap();
        assert!(
            first
                .iter()
                .all(|c| c.action == Action::Created && c.revision == 1)
        );
        let again = apply_yaml(&store, &acme, &both, 20).await.unwrap();
        assert!(
            again
                .iter()
                .all(|c| c.action == Action::Unchanged && c.revision == 1)
        );
        let edited = REQ_A.replace("HIGH", "CRITICAL");
        let third = apply_yaml(&store, &acme, &edited, 30).await.unwrap();
        assert_eq!((third[0].action, third[0].revision), (Action::Updated, 2));
        let stored = store
            .get_resource(acme.id, Kind::Requirement, "req-a")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.revision, 2);
        assert_eq!((stored.created_at, stored.updated_at), (10, 30));
        assert_eq!(
            stored.document["spec"]["policies"][0]["with"]["severity"],
            "CRITICAL"
        );
        let events = store
            .audit_list(acme.id, &Default::default())
            .await
            .unwrap();
        let applied: Vec<_> = events
            .iter()
            .filter(|e| e.action.starts_with("apply"))
            .map(|e| (e.action.as_str(), e.revision))
            .collect();
        assert_eq!(
            applied,
            [
                ("apply.created", Some(1)),
                ("apply.created", Some(1)),
                ("apply.updated", Some(2))
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn invalid_batch_writes_nothing() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let broken = FW.replace("req-a", "req-missing");
        let err = apply_yaml(&store, &acme, &format!("{REQ_A}---\n{broken}"), 10)
            .await
            .unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            store
                .list_resources(acme.id, Kind::Requirement)
                .await
                .unwrap()
                .is_empty()
        );
        let events = store
            .audit_list(acme.id, &Default::default())
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "only the org's creation");
    })
    .await;
}

#[tokio::test]
async fn orgs_do_not_see_each_other() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let globex = org(&store, "globex").await;
        apply_yaml(&store, &acme, REQ_A, 10).await.unwrap();
        assert!(
            store
                .get_resource(globex.id, Kind::Requirement, "req-a")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .list_resources(globex.id, Kind::Requirement)
                .await
                .unwrap()
                .is_empty()
        );
        let err = apply_yaml(&store, &globex, FW, 11).await.unwrap_err();
        assert!(err[0].message.contains("does not exist"), "{err:?}");
        assert!(matches!(
            store
                .delete_resource(globex.id, Kind::Requirement, "req-a", "x", 12)
                .await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn delete_is_refused_while_referenced() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        apply_yaml(&store, &acme, &format!("{REQ_A}---\n{FW}"), 10).await.unwrap();
        let err = store.delete_resource(acme.id, Kind::Requirement, "req-a", "alice", 20).await.unwrap_err();
        assert_eq!(err.to_string(), "Requirement/req-a cannot be deleted: it is listed by Framework/fw; remove it from there first");
        store.delete_resource(acme.id, Kind::Framework, "fw", "alice", 21).await.unwrap();
        store.delete_resource(acme.id, Kind::Requirement, "req-a", "alice", 22).await.unwrap();
        assert!(store.list_resources(acme.id, Kind::Requirement).await.unwrap().is_empty());
        let recreated = apply_yaml(&store, &acme, REQ_A, 30).await.unwrap();
        // A revision number is never reused: the new life continues the numbering.
        assert_eq!((recreated[0].action, recreated[0].revision), (Action::Created, 2));
    })
    .await;
}

#[tokio::test]
async fn builtins_are_shared_read_only_and_shadowable() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let (docs, _) = parse_file("builtin.yaml", REQ_A, "_builtin");
        let mut builtins: Vec<_> = docs.into_iter().map(|d| d.resource).collect();
        builtins.extend(crate::support::builtin_policies());
        let report = store.sync_builtins(&builtins, 5).await.unwrap();
        assert_eq!(
            report.len(),
            1,
            "the requirement is new; the policy was there"
        );
        assert!(
            store.sync_builtins(&builtins, 6).await.unwrap().is_empty(),
            "second sync changes nothing"
        );

        // Visible to every org, referenced by a custom framework.
        let listed = store
            .list_resources(acme.id, Kind::Requirement)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].builtin);
        apply_yaml(&store, &acme, FW, 10).await.unwrap();
        assert!(matches!(
            store
                .delete_resource(acme.id, Kind::Requirement, "req-a", "alice", 11)
                .await,
            Err(StoreError::Forbidden(_))
        ));

        // Duplicate, then shadow: the custom one wins lookups.
        let copy = store
            .duplicate_resource(
                acme.id,
                Kind::Requirement,
                "req-a",
                "req-a-copy",
                "alice",
                12,
            )
            .await
            .unwrap();
        assert_eq!(copy.revision, 1);
        let shadow = REQ_A.replace("HIGH", "LOW");
        let applied = apply_yaml(&store, &acme, &shadow, 13).await.unwrap();
        assert!(applied[0].shadows_builtin);
        let resolved = store
            .get_resource(acme.id, Kind::Requirement, "req-a")
            .await
            .unwrap()
            .unwrap();
        assert!(!resolved.builtin && resolved.shadows_builtin);
        assert_eq!(
            resolved.document["spec"]["policies"][0]["with"]["severity"],
            "LOW"
        );
        // Deleting the shadow is allowed even though fw lists it: the built-in takes over.
        store
            .delete_resource(acme.id, Kind::Requirement, "req-a", "alice", 14)
            .await
            .unwrap();
        let back = store
            .get_resource(acme.id, Kind::Requirement, "req-a")
            .await
            .unwrap()
            .unwrap();
        assert!(back.builtin);

        // Removing content from the binary removes it from the store.
        let report = store
            .sync_builtins(&crate::support::builtin_policies(), 20)
            .await
            .unwrap();
        assert_eq!(
            report,
            [(Kind::Requirement, "req-a".to_owned(), "builtin.removed")]
        );
    })
    .await;
}

#[tokio::test]
async fn lifecycle_is_per_org() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        apply_yaml(&store, &acme, REQ_A, 10).await.unwrap();
        assert!(
            store
                .set_requirement_active(acme.id, "req-a", false, "alice", 11)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_requirement_active(acme.id, "req-a", false, "alice", 12)
                .await
                .unwrap()
        );
        let r = store
            .get_resource(acme.id, Kind::Requirement, "req-a")
            .await
            .unwrap()
            .unwrap();
        assert!(!r.active);
        assert!(
            store
                .set_requirement_active(acme.id, "req-a", true, "alice", 13)
                .await
                .unwrap()
        );
        assert!(matches!(
            store
                .set_requirement_active(acme.id, "nope", true, "alice", 14)
                .await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn concurrent_applies_serialize() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            let acme = acme.clone();
            tasks.push(tokio::spawn(async move {
                let text = REQ_A.replace("req-a", &format!("req-{i}"));
                apply_yaml(&store, &acme, &text, 100 + i).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            store
                .list_resources(acme.id, Kind::Requirement)
                .await
                .unwrap()
                .len(),
            8
        );
        assert_eq!(store.audit_verify(acme.id).await.unwrap(), Ok(9));
    })
    .await;
}

/// A database whose digests were written before resource digests became RFC 8785
/// canonical JSON is digested again on upgrade: same revisions, and the same documents
/// still apply as `unchanged`.
#[tokio::test]
async fn upgrade_redigests_resources_without_new_revisions() {
    use comply_store::Store;
    use comply_store::testing::TestDb;
    use sqlx::{AnyConnection, Connection, Executor, Row};

    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.unwrap();
        store
            .sync_builtins(&crate::support::builtin_policies(), 0)
            .await
            .unwrap();
        let acme = org(&store, "acme").await;
        let both = format!("{FW}---\n{REQ_A}");
        apply_yaml(&store, &acme, &both, 10).await.unwrap();
        store.close().await;

        // Roll the database back to the old digests, as an older comply wrote them.
        let mut conn = AnyConnection::connect(&db.url).await.unwrap();
        for table in ["resources", "resource_revisions"] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT kind, name, revision, document FROM {table} WHERE org_id = {}",
                acme.id
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for row in rows {
                let document: String = row.get(3);
                let old = comply_core::digest::of_json(&serde_json::from_str(&document).unwrap());
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET digest = $1 WHERE org_id = {} AND kind = $2 AND name = $3 AND revision = $4",
                    acme.id
                )))
                .bind(old)
                .bind(row.get::<String, _>(0))
                .bind(row.get::<String, _>(1))
                .bind(row.get::<i64, _>(2))
                .execute(&mut conn)
                .await
                .unwrap();
            }
        }
        conn.execute("DELETE FROM comply_migrations WHERE version = 9")
            .await
            .unwrap();
        conn.close().await.unwrap();

        let store = Store::connect(&db.url).await.unwrap();
        let stored = store
            .get_resource(acme.id, Kind::Requirement, "req-a")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.digest,
            comply_core::digest::of_canonical_json(&stored.document),
            "{:?}",
            db.backend
        );
        let again = apply_yaml(&store, &acme, &both, 20).await.unwrap();
        assert!(
            again
                .iter()
                .all(|c| c.action == Action::Unchanged && c.revision == 1),
            "{:?}: {again:?}",
            db.backend
        );
        store.close().await;
    }
}
