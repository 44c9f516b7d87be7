use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use comply_core::Role;
use comply_server::{AppState, app, bootstrap, issue_token, load_builtins};
use comply_store::Store;
use comply_store::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Server {
    pub router: Router,
    pub store: Store,
    /// The instance administrator (owner of `default`).
    pub admin: String,
    _db: TestDb,
}

pub async fn call(
    router: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

impl Server {
    pub async fn start(db: TestDb) -> Server {
        let store = Store::connect(&db.url).await.unwrap();
        load_builtins(&store).await.unwrap();
        let admin = bootstrap(&store)
            .await
            .unwrap()
            .expect("fresh database")
            .secret;
        Server {
            router: app(AppState::new(store.clone())),
            store,
            admin,
            _db: db,
        }
    }

    /// The database's URL, for tests that change rows behind the store's back.
    pub fn db_url(&self) -> &str {
        &self._db.url
    }

    pub async fn sqlite() -> Server {
        Server::start(TestDb::sqlite()).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(&self.router, method, path, token, body).await
    }

    pub async fn create_org(&self, name: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/orgs",
                Some(&self.admin),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// A token of `org` with `role`, created through the store (not the API under test).
    pub async fn token(&self, org: &str, role: Role) -> String {
        let org = self.store.org_by_name(org).await.unwrap().unwrap();
        let issued = issue_token(&format!("{role}-token"), role, false, None);
        self.store
            .create_token(org.id, &issued.record, "test", 0)
            .await
            .unwrap();
        issued.secret
    }

    pub async fn apply(
        &self,
        org: &str,
        token: &str,
        file: &str,
        content: &str,
    ) -> (StatusCode, Value) {
        let body = json!({"documents": [{"file": file, "content": content}]});
        self.call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/apply"),
            Some(token),
            Some(body),
        )
        .await
    }
}

pub const REQ: &str = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  policies: [{ref: vulnerabilities, with: {severity: HIGH}}]\n";
pub const FW: &str = "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  requirements: [{ref: req-a}]\n";

/// The org's own resources of a list answer (built-in ones are always there too).
pub fn custom(list: &serde_json::Value) -> serde_json::Value {
    serde_json::Value::Array(
        list.as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["builtin"] != serde_json::Value::Bool(true))
            .cloned()
            .collect(),
    )
}
