//! Operator accounts (argon2id passwords, roles, sites) and their sessions; admins list,
//! disable, enable and change accounts. Every request's credential, a session or an API
//! token (made in [`crate::token`]), is checked here.
//!
//! Secrets are never stored: passwords as argon2id PHC strings, tokens and session ids as
//! SHA-256 (they are 160+ random bits, so a fast hash is enough). A credential is checked
//! in full on every request, so revoking a token or disabling an account takes effect at
//! the next request.
//!
//! Invariants: a session never outlives a change of its account's password, role or sites,
//! nor its account being disabled (the change deletes the account's sessions, and a login
//! racing it stores its session only if the account is still as it checked it); an API token
//! made by an account stops working while that account is disabled. Password hashing runs in
//! the hashing queue of [`crate::throttle`], never on the async workers, and logins are
//! throttled there first.

use crate::access::{Principal, Role, Scope, Sites};
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_bytes, secret_hash, split_list, Dashboard, Tx};
use crate::token::TOKEN_PREFIX;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::Argon2;
use std::net::IpAddr;

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

/// An operator account as listed (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountInfo {
    /// The account name it logs in with.
    pub name: String,
    /// admin, operator or auditor.
    pub role: String,
    /// Its sites (`*` for all).
    pub sites: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was disabled, if it is: it cannot log in and its sessions and tokens are refused.
    pub disabled_at: Option<String>,
    /// Sessions open now (logins not yet ended or expired).
    pub sessions: i64,
}

/// The argon2id hash checked when the account name is unknown, so that unknown names take as
/// long as known ones and cannot be probed by timing. It matches no password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

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

fn check_password(password: &str) -> ServiceResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::invalid(
            "password",
            format!("at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
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

pub(crate) fn opt_time(t: Option<i64>) -> Option<String> {
    t.map(crate::timetext::rfc3339)
}

/// Operator accounts and their sessions: adding and changing accounts, logging in and out,
/// and checking a credential (session or API token) on each request.
///
/// Reached by [`Dashboard::accounts`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Accounts<'_> {
    /// Creates an operator account (admins only; never with more sites than the creator).
    pub async fn add(
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
        check_password(password)?;
        let hash = self.hash(password).await?;
        let mut tx = self.dashboard.begin_write().await?;
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
        .bind(self.dashboard.now())
        .execute(&mut *tx)
        .await?;
        self.dashboard
            .record(
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

    /// `password` hashed for storing, in the hashing queue.
    async fn hash(&self, password: &str) -> ServiceResult<String> {
        let password = password.to_owned();
        self.dashboard
            .logins
            .hashing(move || hash_password(&password))
            .await?
    }

    /// [`Dashboard::login_from`] without a client address: only the per-account throttle
    /// applies.
    pub async fn login(&self, name: &str, password: &str) -> ServiceResult<(String, Principal)> {
        self.login_from(name, password, None).await
    }

    /// Checks a name and password from `client` (throttled per address and per account, the
    /// check in the hashing queue); on success opens a session and returns its id (the bearer
    /// credential or cookie value).
    pub async fn login_from(
        &self,
        name: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> ServiceResult<(String, Principal)> {
        self.dashboard.logins.check(name, client)?;
        let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT role, sites, password_hash, disabled_at FROM accounts WHERE name = $1",
        )
        .bind(name.to_owned())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        // An unknown name spends the same time on a check, so names cannot be probed by timing.
        let stored = row.as_ref().map_or(DUMMY_HASH.to_owned(), |r| r.2.clone());
        let given = password.to_owned();
        let matches = self
            .dashboard
            .logins
            .hashing(move || password_matches(&given, &stored))
            .await?;
        let wrong = || ServiceError::Unauthenticated("wrong account name or password".to_owned());
        let Some((role, sites, hash, disabled)) = row else {
            // The name is not logged: people type passwords into the name field.
            tracing::warn!(client = ?client, "login refused: no such account");
            return Err(wrong());
        };
        if !matches {
            tracing::warn!(account = name, client = ?client, "login refused: wrong password");
            return Err(wrong());
        }
        if disabled.is_some() {
            tracing::warn!(account = name, client = ?client, "login refused: the account is disabled");
            return Err(ServiceError::Unauthenticated(format!(
                "account `{name}` is disabled; an admin can enable it again"
            )));
        }
        let principal = account_principal(name, &role, &sites)?;
        let session = format!("{SESSION_PREFIX}{}", hex::encode(random_bytes::<24>()?));
        let now = self.dashboard.now();
        let mut tx = self.dashboard.begin_write().await?;
        // A password, role or site change (or a disable) between the check and here ended the
        // account's sessions; this one must not slip in after it.
        let current: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT role, sites, password_hash, disabled_at FROM accounts WHERE name = $1",
        )
        .bind(name.to_owned())
        .fetch_optional(&mut *tx)
        .await?;
        if current != Some((role, sites, hash, None)) {
            tracing::warn!(account = name, client = ?client, "login refused: the account changed during the login");
            return Err(ServiceError::Unauthenticated(
                "the account changed while logging in; log in again".to_owned(),
            ));
        }
        sqlx::query(
            "INSERT INTO sessions (id_hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_hash(&session))
        .bind(name.to_owned())
        .bind(now)
        .bind(now + SESSION_SECONDS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(account = name, client = ?client, "logged in");
        Ok((session, principal))
    }

    /// The web UI language account `name` chose, if it chose one.
    pub async fn language(&self, name: &str) -> ServiceResult<Option<String>> {
        let language: Option<Option<String>> =
            sqlx::query_scalar("SELECT language FROM accounts WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        Ok(language.flatten())
    }

    /// Saves the web UI language of the account `who` is signed in as (`sv`, `da` or `en`).
    pub async fn set_language(&self, who: &Principal, language: &str) -> ServiceResult<()> {
        if !matches!(language, "sv" | "da" | "en") {
            return Err(ServiceError::invalid("language", "one of sv, da, en"));
        }
        let Some(name) = who.actor.strip_prefix("account:") else {
            return Err(ServiceError::invalid(
                "language",
                "only an account signed in with a password has a language; an API token has none",
            ));
        };
        sqlx::query("UPDATE accounts SET language = $1 WHERE name = $2")
            .bind(language.to_owned())
            .bind(name.to_owned())
            .execute(&self.dashboard.db.pool)
            .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn logout(&self, session: &str) -> ServiceResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(secret_hash(session))
            .execute(&self.dashboard.db.pool)
            .await?;
        Ok(())
    }

    /// Who holds `credential` (an API token or a session id).
    pub async fn authenticate(&self, credential: &str) -> ServiceResult<Principal> {
        let now = self.dashboard.now();
        if credential.starts_with(SESSION_PREFIX) {
            let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT a.name, a.role, a.sites, s.expires_at, a.disabled_at \
                 FROM sessions s JOIN accounts a ON a.name = s.account WHERE s.id_hash = $1",
            )
            .bind(secret_hash(credential))
            .fetch_optional(&self.dashboard.db.pool)
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
        let row: Option<(
            String,
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            String,
        )> = sqlx::query_as(
            "SELECT secret_hash, name, scopes, sites, expires_at, revoked_at, created_by \
                 FROM api_tokens WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        let Some((hash, name, scopes, sites, expires, revoked, created_by)) = row else {
            return Err(unknown());
        };
        if !same(&hash, &secret_hash(credential))
            || revoked.is_some()
            || expires.is_some_and(|e| e <= now)
        {
            return Err(unknown());
        }
        // A token acts for the account that made it: while that account is disabled, so is
        // the token (tokens made at the server's shell, `cli:…`, have no account).
        if let Some(owner) = created_by.strip_prefix("account:") {
            let disabled: Option<Option<i64>> =
                sqlx::query_scalar("SELECT disabled_at FROM accounts WHERE name = $1")
                    .bind(owner.to_owned())
                    .fetch_optional(&self.dashboard.db.pool)
                    .await?;
            if let Some(Some(_)) = disabled {
                tracing::warn!(
                    token = id,
                    account = owner,
                    "API token refused: its account is disabled"
                );
                return Err(ServiceError::Unauthenticated(format!(
                    "API token {id} was made by account `{owner}`, which is disabled; \
                     it works again if an admin enables the account"
                )));
            }
        }
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.to_owned())
            .execute(&self.dashboard.db.pool)
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

    /// Every account the admin `who` manages (those within its sites), by name.
    pub async fn list(&self, who: &Principal) -> ServiceResult<Vec<AccountInfo>> {
        who.require(Scope::Admin)?;
        let rows: Vec<(String, String, String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT a.name, a.role, a.sites, a.created_at, a.disabled_at, \
             (SELECT COUNT(*) FROM sessions s WHERE s.account = a.name AND s.expires_at > $1) \
             FROM accounts a ORDER BY a.name",
        )
        .bind(self.dashboard.now())
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|row| Sites::parse(&row.2).is_ok_and(|s| who.sites.covers(&s)))
            .map(account_info)
            .collect())
    }

    /// One account, if `who` manages it (else "not found", as for anything outside its sites).
    pub async fn get(&self, who: &Principal, name: &str) -> ServiceResult<AccountInfo> {
        who.require(Scope::Admin)?;
        let row: Option<(String, String, String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT a.name, a.role, a.sites, a.created_at, a.disabled_at, \
             (SELECT COUNT(*) FROM sessions s WHERE s.account = a.name AND s.expires_at > $1) \
             FROM accounts a WHERE a.name = $2",
        )
        .bind(self.dashboard.now())
        .bind(name.to_owned())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        row.filter(|row| Sites::parse(&row.2).is_ok_and(|s| who.sites.covers(&s)))
            .map(account_info)
            .ok_or_else(|| ServiceError::not_found("account", name))
    }

    /// In a write transaction: the account's role, sites and whether it is disabled, if `who`
    /// is an admin who manages it. A site-limited admin manages only accounts within its sites.
    async fn managed(
        tx: &mut Tx,
        who: &Principal,
        name: &str,
    ) -> ServiceResult<(Role, Sites, bool)> {
        who.require(Scope::Admin)?;
        let row: Option<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT role, sites, disabled_at FROM accounts WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&mut **tx)
                .await?;
        let Some((role, sites, disabled)) = row else {
            return Err(ServiceError::not_found("account", name));
        };
        let role = Role::parse(&role).map_err(ServiceError::Internal)?;
        let sites = Sites::parse(&sites).map_err(ServiceError::Internal)?;
        if !who.sites.covers(&sites) {
            return Err(ServiceError::not_found("account", name));
        }
        Ok((role, sites, disabled.is_some()))
    }

    /// Deletes every session of `name`; returns how many there were.
    async fn delete_sessions(tx: &mut Tx, name: &str) -> ServiceResult<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE account = $1")
            .bind(name.to_owned())
            .execute(&mut **tx)
            .await?
            .rows_affected())
    }

    /// Deletes every session of `name` and records `action` by `who` in the audit trail with
    /// how many sessions ended; returns that number.
    async fn end_sessions_recorded(
        &self,
        tx: &mut Tx,
        who: &Principal,
        name: &str,
        action: &str,
    ) -> ServiceResult<u64> {
        let ended = Self::delete_sessions(tx, name).await?;
        self.dashboard
            .record(
                tx,
                who,
                action,
                name,
                serde_json::json!({ "sessions_ended": ended }),
            )
            .await?;
        Ok(ended)
    }

    /// Disables an account: it cannot log in, its sessions end now and the API tokens it made
    /// are refused until it is enabled again. An admin cannot disable itself.
    pub async fn disable(&self, who: &Principal, name: &str) -> ServiceResult<AccountInfo> {
        let mut tx = self.dashboard.begin_write().await?;
        let (_, _, disabled) = Self::managed(&mut tx, who, name).await?;
        if who.actor == format!("account:{name}") {
            return Err(ServiceError::Conflict(format!(
                "{} cannot disable its own account; another admin can",
                who.actor
            )));
        }
        if disabled {
            return Err(ServiceError::Conflict(format!(
                "account `{name}` is already disabled"
            )));
        }
        sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE name = $2")
            .bind(self.dashboard.now())
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        let ended = self
            .end_sessions_recorded(&mut tx, who, name, "account.disable")
            .await?;
        tx.commit().await?;
        tracing::info!(account = name, by = %who.actor, sessions_ended = ended, "account disabled");
        self.get(who, name).await
    }

    /// Enables a disabled account again (its tokens work again; it logs in anew).
    pub async fn enable(&self, who: &Principal, name: &str) -> ServiceResult<AccountInfo> {
        let mut tx = self.dashboard.begin_write().await?;
        let (_, _, disabled) = Self::managed(&mut tx, who, name).await?;
        if !disabled {
            return Err(ServiceError::Conflict(format!(
                "account `{name}` is not disabled"
            )));
        }
        sqlx::query("UPDATE accounts SET disabled_at = NULL WHERE name = $1")
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(&mut tx, who, "account.enable", name, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        tracing::info!(account = name, by = %who.actor, "account enabled");
        self.get(who, name).await
    }

    /// Sets a new password; every session of the account ends (a stolen session does not
    /// survive the change).
    pub async fn set_password(
        &self,
        who: &Principal,
        name: &str,
        password: &str,
    ) -> ServiceResult<AccountInfo> {
        who.require(Scope::Admin)?;
        check_password(password)?;
        let hash = self.hash(password).await?;
        let mut tx = self.dashboard.begin_write().await?;
        Self::managed(&mut tx, who, name).await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE name = $2")
            .bind(hash)
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        let ended = self
            .end_sessions_recorded(&mut tx, who, name, "account.password")
            .await?;
        tx.commit().await?;
        tracing::info!(account = name, by = %who.actor, sessions_ended = ended, "account password changed");
        self.get(who, name).await
    }

    /// Changes an account's role and/or sites (never to sites `who` lacks); if anything
    /// changed, every session of the account ends.
    pub async fn update(
        &self,
        who: &Principal,
        name: &str,
        role: Option<Role>,
        sites: Option<&Sites>,
    ) -> ServiceResult<AccountInfo> {
        if role.is_none() && sites.is_none() {
            return Err(ServiceError::invalid(
                "role",
                "give a new role, new sites, or both",
            ));
        }
        let mut tx = self.dashboard.begin_write().await?;
        let (old_role, old_sites, _) = Self::managed(&mut tx, who, name).await?;
        if let Some(sites) = sites {
            if !who.sites.covers(sites) {
                return Err(ServiceError::invalid(
                    "sites",
                    format!("{} may only grant sites it has ({})", who.actor, who.sites),
                ));
            }
        }
        let new_role = role.unwrap_or(old_role);
        let new_sites = sites.cloned().unwrap_or_else(|| old_sites.clone());
        if new_role == old_role && new_sites == old_sites {
            tx.rollback().await?;
            return self.get(who, name).await;
        }
        sqlx::query("UPDATE accounts SET role = $1, sites = $2 WHERE name = $3")
            .bind(new_role.name())
            .bind(new_sites.to_string())
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        let ended = Self::delete_sessions(&mut tx, name).await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "account.update",
                name,
                serde_json::json!({
                    "role": new_role.name(),
                    "sites": new_sites.to_string(),
                    "old_role": old_role.name(),
                    "old_sites": old_sites.to_string(),
                    "sessions_ended": ended,
                }),
            )
            .await?;
        tx.commit().await?;
        tracing::info!(account = name, by = %who.actor, role = new_role.name(), sites = %new_sites, sessions_ended = ended, "account changed");
        self.get(who, name).await
    }

    /// Ends every session of an account now (a lost phone, a shared computer); returns how
    /// many ended. The account can log in again.
    pub async fn end_sessions(&self, who: &Principal, name: &str) -> ServiceResult<u64> {
        let mut tx = self.dashboard.begin_write().await?;
        Self::managed(&mut tx, who, name).await?;
        let ended = self
            .end_sessions_recorded(&mut tx, who, name, "account.logout")
            .await?;
        tx.commit().await?;
        tracing::info!(account = name, by = %who.actor, sessions_ended = ended, "account sessions ended");
        Ok(ended)
    }
}

fn account_info(
    (name, role, sites, created_at, disabled_at, sessions): (
        String,
        String,
        String,
        i64,
        Option<i64>,
        i64,
    ),
) -> AccountInfo {
    AccountInfo {
        name,
        role,
        sites,
        created_at: crate::timetext::rfc3339(created_at),
        disabled_at: opt_time(disabled_at),
        sessions,
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

    #[tokio::test(flavor = "current_thread")]
    async fn a_login_waits_for_the_hashing_queue_while_other_requests_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let (d, done) = Dashboard::init(&dir.path().join("d"), None, "admin")
            .await
            .unwrap();
        let held = d.logins.hold_all_permits().await;
        let login = {
            let d = d.clone();
            let password = done.password.clone();
            tokio::spawn(async move { d.accounts().login("admin", &password).await })
        };
        // On the one async thread, other work runs while the login waits for its turn.
        let accounts = d.accounts().list(&Principal::local_admin()).await.unwrap();
        assert_eq!(accounts.len(), 1);
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(!login.is_finished(), "the login hashed outside the queue");
        drop(held);
        let (session, who) = login.await.unwrap().unwrap();
        assert!(session.starts_with(SESSION_PREFIX));
        assert_eq!(who.actor, "account:admin");
    }

    #[test]
    fn secret_comparison_needs_every_byte() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
