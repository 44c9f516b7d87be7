use crate::support::{each_backend, org, token};
use comply_core::Role;
use comply_core::settings::OrgSettingsPatch;
use comply_store::StoreError;

#[tokio::test]
async fn bootstrap_happens_once() {
    each_backend(|store| async move {
        let mut owner = token("boot", Role::Owner);
        owner.instance_admin = true;
        let created = store
            .bootstrap(&owner, 10)
            .await
            .unwrap()
            .expect("first start creates");
        assert_eq!(created.name, "default");
        assert!(
            store
                .bootstrap(&token("boot2", Role::Owner), 20)
                .await
                .unwrap()
                .is_none()
        );
        let t = store.token_by_id("boot").await.unwrap().unwrap();
        assert!(t.instance_admin);
        assert_eq!((t.org_name.as_str(), t.role), ("default", Role::Owner));
        assert!(store.token_by_id("boot2").await.unwrap().is_none());
        let names: Vec<_> = store
            .list_orgs()
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["default"], "the built-in org is never listed");
    })
    .await;
}

#[tokio::test]
async fn orgs_are_unique_and_settings_patch() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        assert!(matches!(
            store.create_org("acme", "x", 1).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(acme.settings.requirements_auto_matching);
        let patch = OrgSettingsPatch {
            in_preview_frameworks: Some(true),
            ..Default::default()
        };
        let s = store
            .update_settings(acme.id, &patch, "alice", 2_000)
            .await
            .unwrap();
        assert!(s.in_preview_frameworks && s.requirements_auto_matching);
        let reread = store.org_by_name("acme").await.unwrap().unwrap();
        assert_eq!(reread.settings, s);
        assert!(store.org_by_name("_builtin").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn tokens_are_per_org_and_revocable() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let globex = org(&store, "globex").await;
        store
            .create_token(acme.id, &token("t1", Role::Admin), "alice", 5)
            .await
            .unwrap();
        store
            .create_token(globex.id, &token("t2", Role::Viewer), "bob", 6)
            .await
            .unwrap();
        let acme_tokens = store.list_tokens(acme.id).await.unwrap();
        assert_eq!(acme_tokens.len(), 1);
        assert_eq!(
            acme_tokens[0].secret_hash,
            comply_core::digest::sha256(b"t1")
        );
        let err = store
            .revoke_token(acme.id, "t2", "alice", 7)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(_)),
            "another org's token is not found"
        );
        store.revoke_token(acme.id, "t1", "alice", 8).await.unwrap();
        store.revoke_token(acme.id, "t1", "alice", 9).await.unwrap();
        assert_eq!(
            store.token_by_id("t1").await.unwrap().unwrap().revoked_at,
            Some(8)
        );
        let events = store
            .audit_list(acme.id, &Default::default())
            .await
            .unwrap();
        let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["org.create", "token.create", "token.revoke"]);
    })
    .await;
}

/// SQLite's "database is locked" (its single writer taken) is a busy database, which
/// the server answers 503 with Retry-After, not a failure.
#[tokio::test]
async fn a_locked_sqlite_database_is_busy_not_broken() {
    use sqlx::{Connection, Executor};
    let db = comply_store::testing::TestDb::sqlite();
    let _store = comply_store::Store::connect(&db.url).await.unwrap();
    sqlx::any::install_default_drivers();
    let mut holder = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let mut other = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    other.execute("PRAGMA busy_timeout = 0").await.unwrap();
    let err = other.execute("BEGIN IMMEDIATE").await.unwrap_err();
    let err = comply_store::StoreError::Database(err);
    assert!(err.is_busy(), "{err}");
    holder.execute("ROLLBACK").await.unwrap();
    assert!(!comply_store::StoreError::NotFound("x".into()).is_busy());
}
