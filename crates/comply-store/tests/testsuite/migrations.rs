//! Released migrations are append-only: a changed or unknown migration stops the start.

use comply_store::Store;
use comply_store::testing::TestDb;
use sqlx::{AnyConnection, Connection, Executor};

async fn raw(db: &TestDb, sql: &'static str) {
    let mut conn = AnyConnection::connect(&db.url).await.expect("connect");
    conn.execute(sql).await.expect(sql);
    conn.close().await.expect("close");
}

async fn start_error(db: &TestDb) -> String {
    match Store::connect(&db.url).await {
        Ok(store) => {
            store.close().await;
            panic!("started on a database it does not describe")
        }
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn changed_or_unknown_migrations_refuse_to_start() {
    for db in TestDb::all().await {
        Store::connect(&db.url)
            .await
            .expect("first start")
            .close()
            .await;
        Store::connect(&db.url)
            .await
            .expect("second start")
            .close()
            .await;

        // A database migrated before checksums were recorded takes this release's.
        raw(&db, "DELETE FROM comply_migration_checksums").await;
        Store::connect(&db.url)
            .await
            .expect("records checksums")
            .close()
            .await;

        raw(
            &db,
            "UPDATE comply_migration_checksums SET checksum = 'sha256:00' WHERE version = 3",
        )
        .await;
        let message = start_error(&db).await;
        assert!(
            message.contains("migration 3 failed")
                && message.contains("differs from the one this database applied")
                && message.contains("sha256:00"),
            "{message}"
        );
        raw(
            &db,
            "DELETE FROM comply_migration_checksums WHERE version = 3",
        )
        .await;
        Store::connect(&db.url)
            .await
            .expect("repaired")
            .close()
            .await;

        raw(
            &db,
            "INSERT INTO comply_migrations (version, description) VALUES (9999, 'from the future')",
        )
        .await;
        let message = start_error(&db).await;
        assert!(
            message.contains("migration 9999") && message.contains("newer release"),
            "{message}"
        );
    }
}
