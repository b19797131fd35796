//! Operator accounts (argon2id passwords, roles, sites), their sessions, and the bearer API
//! tokens booking systems use.
//!
//! Secrets are never stored: passwords as argon2id PHC strings, tokens and session ids as
//! SHA-256 (they are 160+ random bits, so a fast hash is enough). A credential is checked
//! in full on every request, so revoking a token or disabling an account takes effect at
//! the next request.

use crate::access::{Principal, Role, Scope, Sites};
use crate::db::unix_now;
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_bytes, secret_hash, split_list, Dashboard};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::Argon2;
use std::collections::BTreeSet;

/// API tokens start with this, so a leaked one is recognisable (and secret scanners can
/// find it).
pub(crate) const TOKEN_PREFIX: &str = "bygd_";
/// Session ids start with this.
pub(crate) const SESSION_PREFIX: &str = "bygds_";
/// How long a login lasts: a working day; the web UI asks again after.
const SESSION_SECONDS: i64 = 12 * 3600;
/// Characters of a generated password: no 0/o, 1/l/i to misread when it is read aloud.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Generated passwords: 4 groups of 5 from 31 characters, about 99 bits.
const PASSWORD_GROUPS: usize = 4;
const PASSWORD_GROUP_LEN: usize = 5;
/// Shortest password accepted from a person.
const MIN_PASSWORD_LEN: usize = 12;

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

/// A generated password for a new account.
pub(crate) fn generate_password() -> ServiceResult<String> {
    let bytes = random_bytes::<{ PASSWORD_GROUPS * PASSWORD_GROUP_LEN }>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(PASSWORD_ALPHABET[usize::from(*b) % PASSWORD_ALPHABET.len()]))
        .collect();
    Ok(chars
        .chunks(PASSWORD_GROUP_LEN)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

fn hash_password(password: &str) -> ServiceResult<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| ServiceError::Internal(format!("password salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("password hash: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Equal strings in time independent of where they differ (for secret hashes).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn check_account_name(name: &str) -> ServiceResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "name",
            "1 to 64 lowercase letters, digits, '-', '_', '.' or '@'",
        ))
    }
}

fn opt_time(t: Option<i64>) -> Option<String> {
    t.map(crate::timetext::rfc3339)
}

impl Dashboard {
    /// Creates an operator account (admins only; never with more sites than the creator).
    pub async fn add_account(
        &self,
        who: &Principal,
        name: &str,
        role: Role,
        sites: &Sites,
        password: &str,
    ) -> ServiceResult<()> {
        who.require(Scope::Admin)?;
        check_account_name(name)?;
        if !who.sites.covers(sites) {
            return Err(ServiceError::invalid(
                "sites",
                format!("{} may only grant sites it has ({})", who.actor, who.sites),
            ));
        }
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(ServiceError::invalid(
                "password",
                format!("at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let hash = hash_password(password)?;
        let mut tx = self.begin_write().await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT name FROM accounts WHERE name = $1")
            .bind(name.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(ServiceError::Conflict(format!(
                "account `{name}` already exists"
            )));
        }
        sqlx::query(
            "INSERT INTO accounts (name, role, sites, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(name.to_owned())
        .bind(role.name())
        .bind(sites.to_string())
        .bind(hash)
        .bind(unix_now())
        .execute(&mut *tx)
        .await?;
        Self::record(
            &mut tx,
            who,
            "account.add",
            name,
            serde_json::json!({ "role": role.name(), "sites": sites.to_string() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a name and password; on success opens a session and returns its id (the
    /// bearer credential or cookie value).
    pub async fn login(&self, name: &str, password: &str) -> ServiceResult<(String, Principal)> {
        let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT role, sites, password_hash, disabled_at FROM accounts WHERE name = $1",
        )
        .bind(name.to_owned())
        .fetch_optional(&self.db.pool)
        .await?;
        let wrong = || ServiceError::Unauthenticated("wrong account name or password".to_owned());
        let Some((role, sites, hash, disabled)) = row else {
            // Spend the same time as a real check, so names cannot be probed by timing.
            let _ = password_matches(password, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
            return Err(wrong());
        };
        if !password_matches(password, &hash) || disabled.is_some() {
            return Err(wrong());
        }
        let principal = account_principal(name, &role, &sites)?;
        let session = format!("{SESSION_PREFIX}{}", hex::encode(random_bytes::<24>()?));
        let now = unix_now();
        sqlx::query(
            "INSERT INTO sessions (id_hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_hash(&session))
        .bind(name.to_owned())
        .bind(now)
        .bind(now + SESSION_SECONDS)
        .execute(&self.db.pool)
        .await?;
        Ok((session, principal))
    }

    /// Ends a session.
    pub async fn logout(&self, session: &str) -> ServiceResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(secret_hash(session))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Who holds `credential` (an API token or a session id).
    pub async fn authenticate(&self, credential: &str) -> ServiceResult<Principal> {
        let now = unix_now();
        if credential.starts_with(SESSION_PREFIX) {
            let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT a.name, a.role, a.sites, s.expires_at, a.disabled_at \
                 FROM sessions s JOIN accounts a ON a.name = s.account WHERE s.id_hash = $1",
            )
            .bind(secret_hash(credential))
            .fetch_optional(&self.db.pool)
            .await?;
            return match row {
                Some((name, role, sites, expires, None)) if expires > now => {
                    account_principal(&name, &role, &sites)
                }
                _ => Err(ServiceError::Unauthenticated(
                    "the session has expired or ended; log in again".to_owned(),
                )),
            };
        }
        let unknown = || {
            ServiceError::Unauthenticated(
                "unknown, revoked or expired API token (tokens look like bygd_…)".to_owned(),
            )
        };
        let rest = credential.strip_prefix(TOKEN_PREFIX).ok_or_else(unknown)?;
        let (id, _) = rest.split_once('.').ok_or_else(unknown)?;
        let row: Option<(String, String, String, String, Option<i64>, Option<i64>)> =
            sqlx::query_as(
                "SELECT secret_hash, name, scopes, sites, expires_at, revoked_at \
                 FROM api_tokens WHERE id = $1",
            )
            .bind(id.to_owned())
            .fetch_optional(&self.db.pool)
            .await?;
        let Some((hash, name, scopes, sites, expires, revoked)) = row else {
            return Err(unknown());
        };
        if !same(&hash, &secret_hash(credential))
            || revoked.is_some()
            || expires.is_some_and(|e| e <= now)
        {
            return Err(unknown());
        }
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.to_owned())
            .execute(&self.db.pool)
            .await?;
        let scopes = split_list(&scopes)
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .collect();
        let sites = Sites::parse(&sites).map_err(ServiceError::Internal)?;
        Ok(Principal {
            actor: format!("token:{id} ({name})"),
            scopes,
            sites,
        })
    }

    /// Creates an API token; returns its full text (shown once) and its id. The token gets no
    /// scope or site its creator lacks.
    pub async fn create_token(
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
        if expires_at.is_some_and(|t| t <= unix_now()) {
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
        let mut tx = self.begin_write().await?;
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
        .bind(unix_now())
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        Self::record(
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
    pub async fn revoke_token(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        who.require(Scope::Admin)?;
        let sites: Option<String> =
            sqlx::query_scalar("SELECT sites FROM api_tokens WHERE id = $1")
                .bind(id.to_owned())
                .fetch_optional(&self.db.pool)
                .await?;
        // A site-limited admin manages only tokens within its sites.
        if !sites
            .and_then(|s| Sites::parse(&s).ok())
            .is_some_and(|s| who.sites.covers(&s))
        {
            return Err(ServiceError::not_found("token", id));
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(unix_now())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::not_found("token (not revoked yet)", id));
        }
        Self::record(&mut tx, who, "token.revoke", id, serde_json::json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every token, newest first.
    pub async fn list_tokens(&self, who: &Principal) -> ServiceResult<Vec<TokenInfo>> {
        who.require(Scope::Admin)?;
        let rows: Vec<(String, String, String, String, String, i64, Option<i64>, Option<i64>, Option<i64>)> =
            sqlx::query_as(
                "SELECT id, name, scopes, sites, created_by, created_at, expires_at, revoked_at, last_used_at \
                 FROM api_tokens ORDER BY created_at DESC, id",
            )
            .fetch_all(&self.db.pool)
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

fn account_principal(name: &str, role: &str, sites: &str) -> ServiceResult<Principal> {
    let role = Role::parse(role).map_err(ServiceError::Internal)?;
    let sites = Sites::parse(sites).map_err(ServiceError::Internal)?;
    Ok(Principal::account(name, role, sites))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), PASSWORD_GROUPS * (PASSWORD_GROUP_LEN + 1) - 1);
        assert!(a.len() >= MIN_PASSWORD_LEN);
    }

    #[test]
    fn a_password_matches_only_its_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterY", &hash));
        assert!(!password_matches("x", "not a hash"));
    }

    #[test]
    fn secret_comparison_needs_every_byte() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
