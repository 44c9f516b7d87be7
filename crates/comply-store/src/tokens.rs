//! API tokens. Only a SHA-256 hash of each secret is stored.

use crate::audit::AuditWriter;
use crate::{Store, StoreError, Tx, flag};
use comply_core::Role;
use comply_core::audit::NewEvent;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// `sha256:<hex>` of the secret part of the token.
    pub secret_hash: String,
    /// May create organizations and act as owner in every one of them.
    pub instance_admin: bool,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub role: Role,
    pub secret_hash: String,
    pub instance_admin: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn token_from_row(row: &AnyRow) -> Result<TokenRow, StoreError> {
    let role: String = row.try_get(4)?;
    Ok(TokenRow {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        org_name: row.try_get(2)?,
        name: row.try_get(3)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("token role '{role}'")))?,
        secret_hash: row.try_get(5)?,
        instance_admin: row.try_get::<i64, _>(6)? != 0,
        created_at: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        revoked_at: row.try_get(9)?,
    })
}

const TOKEN_SELECT: &str = "SELECT t.id, t.org_id, o.name, t.name, t.role, t.secret_hash, t.instance_admin, \
     t.created_at, t.expires_at, t.revoked_at FROM tokens t JOIN orgs o ON o.id = t.org_id";

pub(crate) async fn insert_token(
    tx: &mut Tx,
    org_id: i64,
    t: &NewToken,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tokens (id, org_id, name, role, secret_hash, instance_admin, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(org_id)
    .bind(&t.name)
    .bind(t.role.as_str())
    .bind(&t.secret_hash)
    .bind(flag(t.instance_admin))
    .bind(now_ms)
    .bind(t.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn create_token(
        &self,
        org_id: i64,
        token: &NewToken,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        insert_token(&mut tx, org_id, token, now_ms).await?;
        audit.push(
            NewEvent::new(actor, "token.create", format!("Token/{}", token.id)).detail(
                serde_json::json!({
                    "name": token.name, "role": token.role, "expires_at": token.expires_at
                }),
            ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn token_by_id(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TOKEN_SELECT} WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub async fn list_tokens(&self, org_id: i64) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TOKEN_SELECT} WHERE t.org_id = $1 ORDER BY t.created_at, t.id"
        )))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token of the org. Revoking twice is not an error and is audited once.
    pub async fn revoke_token(
        &self,
        org_id: i64,
        id: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let row = sqlx::query("SELECT revoked_at FROM tokens WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token '{id}' does not exist")))?;
        let revoked_at: Option<i64> = row.try_get(0)?;
        if revoked_at.is_none() {
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit.push(NewEvent::new(actor, "token.revoke", format!("Token/{id}")));
            audit.flush(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a token unless that locks the org or the instance out: the instance
    /// administrator's token is never revoked here (`comply serve --reset-admin-token`
    /// replaces it), and an org keeps at least one active owner token. Checked under the
    /// org's lock, so two concurrent revocations cannot remove the last two owners.
    pub async fn revoke_token_keeping_access(
        &self,
        org_id: i64,
        id: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let row = sqlx::query(
            "SELECT revoked_at, role, instance_admin, expires_at FROM tokens WHERE id = $1 AND org_id = $2",
        )
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("token '{id}' does not exist")))?;
        let revoked_at: Option<i64> = row.try_get(0)?;
        if revoked_at.is_some() {
            tx.commit().await?;
            return Ok(());
        }
        if row.try_get::<i64, _>(2)? != 0 {
            return Err(StoreError::Forbidden(
                "the instance administrator's token cannot be revoked through the API; replace it with `comply serve --reset-admin-token`".into(),
            ));
        }
        let role: String = row.try_get(1)?;
        let expires_at: Option<i64> = row.try_get(3)?;
        let active = expires_at.is_none_or(|e| e > now_ms);
        if role == Role::Owner.as_str() && active {
            let others: i64 = sqlx::query(
                "SELECT COUNT(*) FROM tokens WHERE org_id = $1 AND id <> $2 AND role = $3 \
                 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $4)",
            )
            .bind(org_id)
            .bind(id)
            .bind(Role::Owner.as_str())
            .bind(now_ms)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if others == 0 {
                return Err(StoreError::Conflict(
                    "this is the organization's last active owner token; create another owner token first".into(),
                ));
            }
        }
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit.push(NewEvent::new(actor, "token.revoke", format!("Token/{id}")));
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Break-glass (run with database access, not through the API): revokes every
    /// instance-administrator token and stores `token` as the new one, in the org that
    /// held the old one (else `default`), audited.
    pub async fn reset_instance_admin(
        &self,
        token: &NewToken,
        actor: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let org: Option<(i64, String)> = sqlx::query(
            "SELECT o.id, o.name FROM tokens t JOIN orgs o ON o.id = t.org_id \
             WHERE t.instance_admin <> 0 ORDER BY t.created_at LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?;
        let (org_id, org_name) = match org {
            Some(org) => org,
            None => {
                let org = self.org_by_name("default").await?.ok_or_else(|| {
                    StoreError::NotFound(
                        "no instance administrator and no org 'default': start the server once to bootstrap".into(),
                    )
                })?;
                (org.id, org.name)
            }
        };
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let old: Vec<String> = sqlx::query(
            "SELECT id FROM tokens WHERE instance_admin <> 0 AND revoked_at IS NULL ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE instance_admin <> 0 AND revoked_at IS NULL",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        insert_token(&mut tx, org_id, token, now_ms).await?;
        audit.push(
            NewEvent::new(actor, "token.reset-admin", format!("Token/{}", token.id)).detail(
                serde_json::json!({"name": token.name, "role": token.role, "instance_admin": true, "revoked": old}),
            ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(org_name)
    }
}
