//! API tokens and access checks.
//!
//! A token reads `comply_<id>_<secret>`. The id finds the row; only the SHA-256 of the
//! secret is stored, and it is compared in constant time. A 256-bit random secret
//! needs no slow hash: nobody can guess it, and per-request cost stays negligible.

use crate::api::Access;
use crate::error::ApiError;
use crate::state::{AppState, now_ms};
use axum::RequestExt;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use comply_core::Role;
use comply_store::{NewToken, OrgRow};
use std::collections::HashMap;

pub const TOKEN_PREFIX: &str = "comply_";

/// A token as created: the secret to show once, and the record to store.
pub struct IssuedToken {
    pub secret: String,
    pub record: NewToken,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("system randomness");
    hex::encode(buf)
}

pub fn hash_secret(secret: &str) -> String {
    comply_core::digest::sha256(secret.as_bytes())
}

pub fn issue_token(
    name: &str,
    role: Role,
    instance_admin: bool,
    expires_at: Option<i64>,
) -> IssuedToken {
    let id = random_hex(8);
    let secret = random_hex(32);
    IssuedToken {
        secret: format!("{TOKEN_PREFIX}{id}_{secret}"),
        record: NewToken {
            id,
            name: name.to_owned(),
            role,
            secret_hash: hash_secret(&secret),
            instance_admin,
            expires_at,
        },
    }
}

/// Who is calling, as their token says.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub token_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub role: Role,
    pub instance_admin: bool,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        format!("token:{}/{}", self.token_name, self.token_id)
    }
}

/// The org a request acts on, and the caller's role in it.
#[derive(Debug, Clone)]
pub struct OrgCtx {
    pub principal: Principal,
    pub org: OrgRow,
    pub role: Role,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate(
    state: &AppState,
    authorization: Option<String>,
) -> Result<Principal, ApiError> {
    let header = authorization.ok_or_else(|| {
        ApiError::Unauthorized("missing bearer token (Authorization: Bearer comply_…)".into())
    })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })?;
    Ok(authenticate_token(state, token).await?.0)
}

/// Checks a token's secret (hash, constant time), revocation and expiry: the one check
/// the API's bearer header and the dashboard's sign-in share. Also returns the token's
/// expiry, which bounds a dashboard session.
pub(crate) async fn authenticate_token(
    state: &AppState,
    token: &str,
) -> Result<(Principal, Option<i64>), ApiError> {
    let invalid = || ApiError::Unauthorized("invalid token".into());
    let (id, secret) = token
        .trim()
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .ok_or_else(invalid)?;
    let row = state.store.token_by_id(id).await?.ok_or_else(invalid)?;
    if !constant_time_eq(row.secret_hash.as_bytes(), hash_secret(secret).as_bytes()) {
        return Err(invalid());
    }
    usable(&row, now_ms())?;
    let expires_at = row.expires_at;
    Ok((principal(row), expires_at))
}

/// A token row still grants access at `now`: not revoked, not expired.
pub(crate) fn usable(row: &comply_store::TokenRow, now: i64) -> Result<(), ApiError> {
    if row.revoked_at.is_some() {
        return Err(ApiError::Unauthorized("token has been revoked".into()));
    }
    if row.expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::Unauthorized("token has expired".into()));
    }
    Ok(())
}

pub(crate) fn principal(row: comply_store::TokenRow) -> Principal {
    Principal {
        token_id: row.id,
        token_name: row.name,
        org_id: row.org_id,
        org_name: row.org_name,
        role: row.role,
        instance_admin: row.instance_admin,
    }
}

/// Resolves the `{org}` of a path for a caller. Another org's resources answer 404, as
/// if they did not exist: a caller learns nothing about orgs it cannot see.
pub async fn org_context(
    state: &AppState,
    principal: Principal,
    org_name: &str,
) -> Result<OrgCtx, ApiError> {
    let not_found = || ApiError::NotFound(format!("organization '{org_name}' not found"));
    if principal.org_name == org_name {
        let org = state
            .store
            .org_by_id(principal.org_id)
            .await?
            .ok_or_else(not_found)?;
        let role = principal.role;
        return Ok(OrgCtx {
            principal,
            org,
            role,
        });
    }
    if principal.instance_admin {
        let org = state
            .store
            .org_by_name(org_name)
            .await?
            .ok_or_else(not_found)?;
        return Ok(OrgCtx {
            principal,
            org,
            role: Role::Owner,
        });
    }
    Err(not_found())
}

/// Runs before a route's extractors, so a caller without access never learns whether
/// its request body would have been valid.
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if access == Access::Public {
        return Ok(next.run(request).await);
    }
    // Copied out of the request: a borrow of it may not live across an await (the body
    // is not Sync).
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let principal = authenticate(&state, authorization).await?;
    match access {
        Access::Public => unreachable!("handled above"),
        Access::Authenticated => {}
        Access::InstanceAdmin => {
            if !principal.instance_admin {
                return Err(ApiError::Forbidden(
                    "only the instance administrator (the token created at first start) may do this".into(),
                ));
            }
        }
        Access::Org(required) => {
            let Path(params) = request
                .extract_parts::<Path<HashMap<String, String>>>()
                .await
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
            let org_name = params.get("org").cloned().unwrap_or_default();
            let ctx = org_context(&state, principal.clone(), &org_name).await?;
            if !ctx.role.allows(required) {
                return Err(ApiError::Forbidden(format!(
                    "this needs the {required} role in organization '{}'; your token has {}",
                    ctx.org.name, ctx.role
                )));
            }
            request.extensions_mut().insert(ctx);
        }
    }
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_store_only_a_hash() {
        let t = issue_token("ci", Role::Member, false, None);
        let (id, secret) = t
            .secret
            .strip_prefix(TOKEN_PREFIX)
            .unwrap()
            .split_once('_')
            .unwrap();
        assert_eq!(id, t.record.id);
        assert_eq!(t.record.secret_hash, hash_secret(secret));
        assert!(!t.record.secret_hash.contains(secret));
        assert_ne!(
            issue_token("ci", Role::Member, false, None).secret,
            t.secret
        );
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
