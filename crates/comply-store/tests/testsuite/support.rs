use comply_core::Role;
use comply_core::apply::{self, Change};
use comply_core::resource::parse_file;
use comply_store::testing::TestDb;
use comply_store::{NewToken, OrgRow, Store};

/// Runs `test` once per configured backend, each on a fresh database.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("connect");
        store
            .sync_builtins(&builtin_policies(), 0)
            .await
            .expect("built-ins");
        test(store.clone()).await;
        store.close().await;
    }
}

pub fn token(id: &str, role: Role) -> NewToken {
    NewToken {
        id: id.into(),
        name: format!("{id}-name"),
        role,
        secret_hash: comply_core::digest::sha256(id.as_bytes()),
        instance_admin: false,
        expires_at: None,
    }
}

pub async fn org(store: &Store, name: &str) -> OrgRow {
    store
        .create_org(name, "test", 1_000)
        .await
        .expect("create org")
}

/// Applies YAML as the server would: parse, plan against the store, write.
pub async fn apply_yaml(
    store: &Store,
    org: &OrgRow,
    text: &str,
    now: i64,
) -> Result<Vec<Change>, Vec<comply_core::Diagnostic>> {
    let (docs, diags) = parse_file("test.yaml", text, &org.name);
    if !diags.is_empty() {
        return Err(diags);
    }
    store
        .apply(org.id, "alice", now, false, |known| {
            apply::plan(docs, known)
        })
        .await
        .expect("apply")
}

pub const REQ_A: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  policies: [{ref: vulnerabilities, with: {severity: HIGH}}]\n";
pub const FW: &str = "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  sections:\n    - name: S\n      requirements: [{ref: req-a}]\n";

/// A stand-in for the built-in policy library, which lives above the store.
pub const VULNERABILITIES_POLICY: &str = "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: vulnerabilities\nspec:\n  inputs:\n    - {name: severity, type: severity, default: HIGH, description: threshold}\n  policies:\n    - {kind: SARIF, embedded: 'package main'}\n";

pub fn builtin_policies() -> Vec<comply_core::Resource> {
    parse_file("builtin.yaml", VULNERABILITIES_POLICY, "_builtin")
        .0
        .into_iter()
        .map(|d| d.resource)
        .collect()
}
