//! Every route, every role, every org boundary: driven by the route registry, so a new
//! route is covered the moment it is registered.

use crate::support::{FW, REQ, Server};
use axum::http::{Method, StatusCode};
use comply_core::Role;
use comply_server::api::{Access, RouteDoc};
use comply_server::route_docs;
use serde_json::Value;

fn concrete(route: &RouteDoc, org: &str, token_id: &str) -> String {
    route
        .path
        .replace("{org}", org)
        .replace(
            "{name}",
            if route.path.contains("/frameworks/") {
                "fw"
            } else {
                "req-a"
            },
        )
        .replace("{id}", token_id)
}

fn body(route: &RouteDoc) -> Option<Value> {
    route.body.map(|b| serde_json::from_str(b).unwrap())
}

fn below(role: Role) -> Option<Role> {
    Role::ALL.into_iter().filter(|r| *r < role).max()
}

#[tokio::test]
async fn every_route_checks_token_org_and_role() {
    for db in comply_store::testing::TestDb::all().await {
        route_matrix(Server::start(db).await).await;
    }
}

/// A token of `org` that was revoked, and one that expired.
async fn dead_tokens(s: &Server, org: &str) -> [String; 2] {
    let org = s.store.org_by_name(org).await.unwrap().unwrap();
    let revoked = comply_server::issue_token("revoked", Role::Owner, false, None);
    s.store
        .create_token(org.id, &revoked.record, "test", 0)
        .await
        .unwrap();
    s.store
        .revoke_token(org.id, &revoked.record.id, "test", 1)
        .await
        .unwrap();
    let expired = comply_server::issue_token("expired", Role::Owner, false, Some(1));
    s.store
        .create_token(org.id, &expired.record, "test", 0)
        .await
        .unwrap();
    [revoked.secret, expired.secret]
}

async fn route_matrix(s: Server) {
    s.create_org("acme").await;
    s.create_org("globex").await;
    let owner = s.token("acme", Role::Owner).await;
    let (status, _) = s
        .apply("acme", &owner, "r.yaml", &format!("{REQ}---\n{FW}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let tokens = s
        .store
        .list_tokens(s.store.org_by_name("acme").await.unwrap().unwrap().id)
        .await
        .unwrap();
    let token_id = tokens[0].id.clone();
    let mut by_role = Vec::new();
    for role in Role::ALL {
        by_role.push((role, s.token("acme", role).await));
    }
    let globex_owner = s.token("globex", Role::Owner).await;
    let dead = dead_tokens(&s, "acme").await;

    let routes = route_docs();
    assert!(routes.len() >= 20, "the registry lists every route");
    for route in &routes {
        let m = route.method.clone();
        let path = concrete(route, "acme", &token_id);
        let what = format!("{} {}", route.method.as_str(), route.path);
        if route.access == Access::Public {
            let (status, _) = s.call(m, &path, None, None).await;
            assert_eq!(status, StatusCode::OK, "{what} is public");
            continue;
        }
        let (status, _) = s.call(m.clone(), &path, None, body(route)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} without a token");
        let (status, _) = s
            .call(m.clone(), &path, Some("comply_0000_bad"), body(route))
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{what} with a forged token"
        );
        let long = "x".repeat(10_000);
        for garbage in [
            "",
            "comply_",
            "comply_x_",
            "Basic Zm9vOmJhcg==",
            long.as_str(),
        ] {
            let (status, _) = s.call(m.clone(), &path, Some(garbage), body(route)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{what} with {garbage:.20?}"
            );
        }
        for token in &dead {
            let (status, _) = s.call(m.clone(), &path, Some(token), body(route)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{what} with a revoked or expired owner token"
            );
        }
        match route.access {
            Access::Public | Access::Authenticated => {}
            Access::InstanceAdmin => {
                let (status, _) = s.call(m, &path, Some(&owner), body(route)).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} as an org owner");
            }
            Access::Org(required) => {
                let (status, body_seen) = s
                    .call(m.clone(), &path, Some(&globex_owner), body(route))
                    .await;
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{what} from another org: {body_seen}"
                );
                assert!(
                    body_seen["detail"]
                        .as_str()
                        .unwrap()
                        .contains("organization 'acme' not found"),
                    "{what} reveals nothing: {body_seen}"
                );
                if let Some(lower) = below(required) {
                    let token = &by_role.iter().find(|(r, _)| *r == lower).unwrap().1;
                    let (status, _) = s.call(m.clone(), &path, Some(token), body(route)).await;
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what} as {lower}");
                }
            }
        }
    }
    // Allowed callers get past the guard; mutating routes run last so the checks above
    // saw the resources in place.
    for route in &routes {
        let token = match route.access {
            Access::Public => continue,
            Access::Authenticated | Access::InstanceAdmin => s.admin.clone(),
            Access::Org(required) => by_role
                .iter()
                .find(|(r, _)| *r == required)
                .unwrap()
                .1
                .clone(),
        };
        let path = concrete(route, "acme", &token_id);
        let (status, body_seen) = s
            .call(route.method.clone(), &path, Some(&token), body(route))
            .await;
        assert!(
            !status.is_server_error(),
            "{} {} answered {status}: {body_seen}",
            route.method.as_str(),
            route.path
        );
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status),
            "{} {} with the required role: {status} {body_seen}",
            route.method.as_str(),
            route.path
        );
    }
}

#[tokio::test]
async fn org_data_never_crosses() {
    let s = Server::sqlite().await;
    s.create_org("acme").await;
    s.create_org("globex").await;
    let acme = s.token("acme", Role::Admin).await;
    let globex = s.token("globex", Role::Admin).await;
    assert_eq!(
        s.apply("acme", &acme, "r.yaml", REQ).await.0,
        StatusCode::OK
    );
    let (status, list) = s
        .call(
            Method::GET,
            "/api/v1/orgs/globex/requirements",
            Some(&globex),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(crate::support::custom(&list), serde_json::json!([]));
    let (status, _) = s
        .call(
            Method::GET,
            "/api/v1/orgs/globex/requirements/req-a",
            Some(&globex),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = s.apply("globex", &globex, "f.yaml", FW).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "acme's requirement is invisible to globex: {body}"
    );
    let (_, orgs) = s.call(Method::GET, "/api/v1/orgs", Some(&acme), None).await;
    assert_eq!(
        orgs.as_array().unwrap().len(),
        1,
        "an org token sees only its org: {orgs}"
    );
    let (_, all) = s
        .call(Method::GET, "/api/v1/orgs", Some(&s.admin), None)
        .await;
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "the instance admin sees every org"
    );
}

#[tokio::test]
async fn tokens_are_hashed_revocable_and_expire() {
    let s = Server::sqlite().await;
    let (status, created) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/tokens",
            Some(&s.admin),
            Some(serde_json::json!({"name": "ci", "role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap();
    let row = s.store.token_by_id(id).await.unwrap().unwrap();
    let raw = secret.rsplit('_').next().unwrap();
    assert_ne!(row.secret_hash, raw);
    assert_eq!(row.secret_hash, comply_core::digest::sha256(raw.as_bytes()));
    let (_, list) = s
        .call(
            Method::GET,
            "/api/v1/orgs/default/tokens",
            Some(&s.admin),
            None,
        )
        .await;
    assert!(
        !list.to_string().contains(raw),
        "listing never shows a secret"
    );

    assert_eq!(
        s.call(Method::GET, "/api/v1/whoami", Some(&secret), None)
            .await
            .0,
        StatusCode::OK
    );
    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/default/tokens/{id}"),
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s
        .call(Method::GET, "/api/v1/whoami", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("revoked"));

    // A token that expired a moment ago.
    let org = s.store.org_by_name("default").await.unwrap().unwrap();
    let issued = comply_server::issue_token("old", Role::Viewer, false, Some(1));
    s.store
        .create_token(org.id, &issued.record, "test", 0)
        .await
        .unwrap();
    let (status, body) = s
        .call(Method::GET, "/api/v1/whoami", Some(&issued.secret), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("expired"));

    // Past expiries are refused at creation.
    let (status, _) = s
        .call(
            Method::POST,
            "/api/v1/orgs/default/tokens",
            Some(&s.admin),
            Some(serde_json::json!({"name": "x", "role": "viewer", "expires": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn instance_admin_acts_as_owner_in_other_orgs() {
    let s = Server::sqlite().await;
    s.create_org("acme").await;
    let (status, created) = s
        .call(
            Method::POST,
            "/api/v1/orgs/acme/tokens",
            Some(&s.admin),
            Some(serde_json::json!({"name": "acme-owner", "role": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let acme_owner = created["token"].as_str().unwrap();
    let (_, me) = s
        .call(Method::GET, "/api/v1/whoami", Some(acme_owner), None)
        .await;
    assert_eq!(me["org"], "acme");
    assert_eq!(me["instance_admin"], false);
    let (status, _) = s
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(acme_owner),
            Some(serde_json::json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the instance admin creates orgs"
    );
}

/// Objects addressed by id (tokens, exceptions, overrides) belong to an org: another
/// org's id answers 404, as if it did not exist, and changes nothing.
#[tokio::test]
async fn another_orgs_objects_by_id_are_not_found() {
    for db in comply_store::testing::TestDb::all().await {
        let s = Server::start(db).await;
        s.create_org("acme").await;
        s.create_org("globex").await;
        let acme = s.token("acme", Role::Owner).await;
        let globex = s.token("globex", Role::Owner).await;
        // An acme token, seen from globex.
        let acme_org = s.store.org_by_name("acme").await.unwrap().unwrap();
        let victim = s.store.list_tokens(acme_org.id).await.unwrap()[0]
            .id
            .clone();
        for (method, path) in [
            (
                Method::DELETE,
                format!("/api/v1/orgs/globex/tokens/{victim}"),
            ),
            (Method::DELETE, format!("/api/v1/orgs/acme/tokens/{victim}")),
            (
                Method::DELETE,
                "/api/v1/orgs/globex/exceptions/1".to_owned(),
            ),
            (Method::DELETE, "/api/v1/orgs/globex/overrides/1".to_owned()),
            (
                Method::GET,
                "/api/v1/orgs/acme/attestations/sha256:00".to_owned(),
            ),
        ] {
            let (status, body) = s.call(method.clone(), &path, Some(&globex), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        }
        let row = s.store.token_by_id(&victim).await.unwrap().unwrap();
        assert!(row.revoked_at.is_none(), "nothing changed");
        let (status, _) = s
            .call(Method::GET, "/api/v1/whoami", Some(&acme), None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}
