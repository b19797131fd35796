//! Idempotency keys: a booking system that sends `POST /api/v1/members` or
//! `POST /api/v1/passes` again after a timeout, with the same `Idempotency-Key`, gets the
//! first answer again (the same member, the same pass and link) instead of a second one.
//!
//! A key belongs to its caller (the audit-trail actor) and lives a day. The first request
//! with a key claims it (a row with no answer yet), runs, and stores its answer; a second
//! one with the same key and the same request gets that answer; one with another request is
//! refused, and one while the first is still running is told to retry. A request that
//! failed on the server's side (5xx) gives its key back, so that a retry runs again.
//!
//! A stored answer can hold credentials (an issued pass's QR text and link), so it is sealed
//! (ChaCha20-Poly1305) under a key derived from the issuer key, bound to its caller and key:
//! a stolen database backup without the issuer key file opens no door from it either.

use crate::error::{ServiceError, ServiceResult};
use crate::seal::{bound_to, Sealer};
use crate::service::Dashboard;
use sha2::{Digest as _, Sha256};

/// What the sealing key of stored answers is derived for.
const PURPOSE: &str = "bygd/v1/idempotency-answers";

/// How long a key is remembered: a booking system retries within minutes, not days.
const KEY_SECONDS: i64 = 24 * 3600;
/// How long a claimed key with no answer blocks its retries: longer than any request takes;
/// after it (a dashboard that stopped mid-request) a retry runs again.
const CLAIM_SECONDS: i64 = 60;
/// The longest key accepted (Stripe's limit too).
const MAX_KEY_LEN: usize = 255;

/// What to do with a request that carries a key.
#[derive(Debug)]
pub(crate) enum Claim {
    /// The key is new (or its earlier claim lapsed): run the request, then
    /// [`Idempotency::finish`] or [`Idempotency::release`].
    Run,
    /// The same request ran before: its answer.
    Replay {
        /// The HTTP status it answered with.
        status: u16,
        /// The JSON it answered with.
        body: Vec<u8>,
    },
}

/// Idempotency keys: reached by [`Dashboard::idempotency`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Idempotency<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

/// Checks a key as it came in the header.
fn check_key(key: &str) -> ServiceResult<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::invalid(
            "Idempotency-Key",
            format!(
                "1 to {MAX_KEY_LEN} visible ASCII characters, like a UUID; one per request that \
                 must not happen twice"
            ),
        ));
    }
    Ok(())
}

impl Idempotency<'_> {
    /// Claims `key` for `actor`'s request whose method, path and body hash to `fingerprint`,
    /// or finds the answer of the same request made before.
    pub(crate) async fn claim(
        &self,
        actor: &str,
        key: &str,
        fingerprint: &str,
    ) -> ServiceResult<Claim> {
        check_key(key)?;
        let now = self.dashboard.now();
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now - KEY_SECONDS)
            .execute(&mut *tx)
            .await?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (actor, key, fingerprint, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(actor.to_owned())
        .bind(key.to_owned())
        .bind(fingerprint.to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(Claim::Run);
        }
        let (stored_fingerprint, status, sealed, created_at): (
            String,
            Option<i64>,
            Option<String>,
            i64,
        ) = sqlx::query_as(
            "SELECT fingerprint, status, response, created_at FROM idempotency_keys \
             WHERE actor = $1 AND key = $2",
        )
        .bind(actor.to_owned())
        .bind(key.to_owned())
        .fetch_one(&mut *tx)
        .await?;
        if stored_fingerprint != fingerprint {
            return Err(ServiceError::Conflict(format!(
                "Idempotency-Key `{key}` was used for another request (another path or body) \
                 in the last 24 hours; use a new key for a new request"
            )));
        }
        match (status, sealed) {
            (Some(status), Some(sealed)) => {
                let body = self.open(actor, key, &sealed)?;
                Ok(Claim::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                })
            }
            _ if created_at > now - CLAIM_SECONDS => Err(ServiceError::Conflict(format!(
                "a request with Idempotency-Key `{key}` is still being handled; retry in a \
                 few seconds for its answer"
            ))),
            _ => {
                // Claimed by a request that never finished (a dashboard stopped mid-way):
                // this one runs instead.
                sqlx::query(
                    "UPDATE idempotency_keys SET created_at = $1 WHERE actor = $2 AND key = $3",
                )
                .bind(now)
                .bind(actor.to_owned())
                .bind(key.to_owned())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Claim::Run)
            }
        }
    }

    /// Stores the answer of a request that claimed `key`.
    pub(crate) async fn finish(
        &self,
        actor: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> ServiceResult<()> {
        let sealed = self.seal(actor, key, body)?;
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 WHERE actor = $3 AND key = $4",
        )
        .bind(i64::from(status))
        .bind(sealed)
        .bind(actor.to_owned())
        .bind(key.to_owned())
        .execute(&self.dashboard.db.pool)
        .await?;
        Ok(())
    }

    /// Gives `key` back after a request that failed on the server's side: a retry runs again.
    pub(crate) async fn release(&self, actor: &str, key: &str) -> ServiceResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE actor = $1 AND key = $2 AND status IS NULL",
        )
        .bind(actor.to_owned())
        .bind(key.to_owned())
        .execute(&self.dashboard.db.pool)
        .await?;
        Ok(())
    }

    /// Seals an answer under the issuer-derived key for answers, bound to its caller and key.
    fn seal(&self, actor: &str, key: &str, body: &[u8]) -> ServiceResult<String> {
        Sealer::new(&self.dashboard.issuer, PURPOSE)?
            .seal(&bound_to(&[actor.as_bytes(), key.as_bytes()]), body)
    }

    fn open(&self, actor: &str, key: &str, stored: &str) -> ServiceResult<Vec<u8>> {
        Sealer::new(&self.dashboard.issuer, PURPOSE)?
            .open(&bound_to(&[actor.as_bytes(), key.as_bytes()]), stored)
            .ok_or_else(|| {
                ServiceError::Internal(format!(
                    "the stored answer for Idempotency-Key `{key}` does not open (another issuer \
                     key, or a changed row); use a new key"
                ))
            })
    }
}

/// The fingerprint of a request: SHA-256 over its method, path and body.
#[must_use]
pub(crate) fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(path.as_bytes());
    hash.update([0]);
    hash.update(body);
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert!(check_key("3f1c9a0b-7e2d-4c5a-8b6f-0e1d2c3b4a59").is_ok());
        assert!(check_key(&"k".repeat(255)).is_ok());
        for bad in ["", "with space", "tab\t", "ö", &"k".repeat(256)] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requests_differing_in_method_path_or_body_have_different_fingerprints() {
        let base = fingerprint("POST", "/api/v1/passes", b"{}");
        assert_ne!(base, fingerprint("PUT", "/api/v1/passes", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/members", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/passes", b"{ }"));
        assert_eq!(base, fingerprint("POST", "/api/v1/passes", b"{}"));
    }
}
