//! API tokens: the bearer credentials booking systems use, made by admins with no scope or
//! site their creator lacks, listed without their secret and revoked at once.
//!
//! Invariant: only a token's SHA-256 is stored (it holds 160+ random bits, so a fast hash is
//! enough); the full text is shown once, when it is made. Checking a token on a request is
//! [`crate::account::Accounts::authenticate`]'s job.

use crate::access::{Principal, Scope, Sites};
use crate::account::opt_time;
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_bytes, secret_hash, split_list, Dashboard};
use std::collections::BTreeSet;

/// API tokens start with this, so a leaked one is recognisable (and secret scanners can
/// find it).
pub(crate) const TOKEN_PREFIX: &str = "bygd_";

/// A token as listed (never its secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    /// The public part of the token, also its id in the API.
    pub id: String,
    /// What it is for ("booking system").
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Its sites (`*` for all).
    pub sites: String,
    /// Who made it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// When it was last used.
    pub last_used_at: Option<String>,
}

/// API tokens: making, listing and revoking them.
///
/// Reached by [`Dashboard::tokens`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Tokens<'_> {
    /// Creates an API token; returns its full text (shown once) and its id. The token gets no
    /// scope or site its creator lacks.
    pub async fn create(
        &self,
        who: &Principal,
        name: &str,
        scopes: &BTreeSet<Scope>,
        sites: &Sites,
        expires_at: Option<i64>,
    ) -> ServiceResult<(String, String)> {
        who.require(Scope::Admin)?;
        if name.trim().is_empty() || name.len() > 100 {
            return Err(ServiceError::invalid(
                "name",
                "1 to 100 characters saying what the token is for",
            ));
        }
        if expires_at.is_some_and(|t| t <= self.dashboard.now()) {
            return Err(ServiceError::invalid(
                "expires",
                "is in the past; give a future time like +90d",
            ));
        }
        if scopes.is_empty() {
            return Err(ServiceError::invalid(
                "scopes",
                format!(
                    "give at least one of: {}",
                    Scope::ALL.map(Scope::name).join(", ")
                ),
            ));
        }
        if let Some(missing) = scopes.iter().find(|s| !who.scopes.contains(s)) {
            return Err(ServiceError::invalid(
                "scopes",
                format!(
                    "{} cannot grant `{}`, which it lacks",
                    who.actor,
                    missing.name()
                ),
            ));
        }
        if !who.sites.covers(sites) {
            return Err(ServiceError::invalid(
                "sites",
                format!("{} may only grant sites it has ({})", who.actor, who.sites),
            ));
        }
        let id = hex::encode(random_bytes::<8>()?);
        let token = format!("{TOKEN_PREFIX}{id}.{}", hex::encode(random_bytes::<24>()?));
        let scope_text = scopes
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, secret_hash, name, scopes, sites, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.clone())
        .bind(secret_hash(&token))
        .bind(name.to_owned())
        .bind(scope_text.clone())
        .bind(sites.to_string())
        .bind(who.actor.clone())
        .bind(self.dashboard.now())
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        self.dashboard.record(
            &mut tx,
            who,
            "token.create",
            &id,
            serde_json::json!({ "name": name, "scopes": scope_text, "sites": sites.to_string() }),
        )
        .await?;
        tx.commit().await?;
        Ok((token, id))
    }

    /// Revokes a token at once.
    pub async fn revoke(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        who.require(Scope::Admin)?;
        let sites: Option<String> =
            sqlx::query_scalar("SELECT sites FROM api_tokens WHERE id = $1")
                .bind(id.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        // A site-limited admin manages only tokens within its sites.
        if !sites
            .and_then(|s| Sites::parse(&s).ok())
            .is_some_and(|s| who.sites.covers(&s))
        {
            return Err(ServiceError::not_found("token", id));
        }
        let mut tx = self.dashboard.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(self.dashboard.now())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::not_found("token (not revoked yet)", id));
        }
        self.dashboard
            .record(&mut tx, who, "token.revoke", id, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every token, newest first.
    pub async fn list(&self, who: &Principal) -> ServiceResult<Vec<TokenInfo>> {
        who.require(Scope::Admin)?;
        let rows: Vec<(String, String, String, String, String, i64, Option<i64>, Option<i64>, Option<i64>)> =
            sqlx::query_as(
                "SELECT id, name, scopes, sites, created_by, created_at, expires_at, revoked_at, last_used_at \
                 FROM api_tokens ORDER BY created_at DESC, id",
            )
            .fetch_all(&self.dashboard.db.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|row| Sites::parse(&row.3).is_ok_and(|s| who.sites.covers(&s)))
            .map(
                |(id, name, scopes, sites, created_by, created_at, expires, revoked, used)| {
                    TokenInfo {
                        id,
                        name,
                        scopes: split_list(&scopes),
                        sites,
                        created_by,
                        created_at: crate::timetext::rfc3339(created_at),
                        expires_at: opt_time(expires),
                        revoked_at: opt_time(revoked),
                        last_used_at: opt_time(used),
                    }
                },
            )
            .collect())
    }
}
