//! Revocation lists: one full, signed list per site, re-signed whenever a pass or member
//! of the site is revoked and every few hours anyway, and published retained on the site's
//! revocation topic.
//!
//! Invariant: each site's versions only grow, and every list names its site inside the signed
//! bytes (gateways refuse another site's list before comparing versions). Each site has its
//! own counter (a gateway keeps the highest version per issuer key and refuses older lists),
//! moved in the same transaction that stores the new list, so two dashboard processes can
//! never sign two different lists for a site with one version. A site's counter starts from
//! the one counter all sites shared before, so on an existing database no site's next list
//! is numbered below one its gateways already hold.

use crate::db::from_sql;
use crate::error::{ServiceError, ServiceResult};
use crate::service::{Dashboard, Tx};
use bygd_protocol::{MemberId, PassId, RevocationList, SiteId, UnixTime};

/// The list's promised lifetime: gateways use the newest list they have whatever its age,
/// and the dashboard re-signs far more often; this is what "stale" means to a reader.
const LIST_LIFETIME_SECONDS: u64 = 7 * 86_400;
/// How long a revoked pass stays listed after it expired: a gateway whose clock lags (no
/// RTC, no beacon yet) may still think it valid for a while.
const EXPIRED_PASS_GRACE_SECONDS: i64 = 7 * 86_400;
/// The counter that numbered every site's lists before each site had its own: where a site's
/// own counter starts. No longer moved.
const SHARED_VERSION_COUNTER: &str = "revocation_version";
/// Prefix of a site's own counter, `revocation_version:SITE` (site ids hold no `:`).
const SITE_VERSION_COUNTER_PREFIX: &str = "revocation_version:";

/// Each site's signed revocation list: signing a new one, its bytes and versions for the
/// publisher, and the lag of gateways held on an old one (`revocation_lag`).
///
/// Reached by [`Dashboard::revocation_lists`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct RevocationLists<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

/// A list signed and stored inside a transaction not yet committed: what to log and wake
/// the publisher for once it is.
#[must_use = "say that the list was signed once its transaction commits: Signed::announce"]
#[derive(Debug)]
pub(crate) struct Signed {
    site: String,
    version: u64,
    passes: usize,
    members: usize,
}

impl Signed {
    /// After the commit: logs the new list and wakes the publisher to send it.
    pub(crate) fn announce(self, dashboard: &Dashboard) -> u64 {
        tracing::info!(
            site = self.site.as_str(),
            version = self.version,
            passes = self.passes,
            members = self.members,
            "revocation list signed"
        );
        dashboard.outbox.notify_one();
        self.version
    }
}

impl RevocationLists<'_> {
    /// Signs a new full list for `site` from what is revoked now and stores it; the
    /// publisher then sends it retained.
    pub async fn refresh(&self, site: &str) -> ServiceResult<u64> {
        let mut tx = self.dashboard.begin_write().await?;
        let signed = self.sign_in(&mut tx, site, self.dashboard.now()).await?;
        tx.commit().await?;
        Ok(signed.announce(self.dashboard))
    }

    /// Signs a new full list for `site` from what is revoked as `tx` sees it, and stores it in
    /// `tx`: a revocation and the list that carries it commit together or not at all, so no
    /// pass is ever revoked here but missing from its site's newest list.
    pub(crate) async fn sign_in(&self, tx: &mut Tx, site: &str, now: i64) -> ServiceResult<Signed> {
        let site_id = SiteId::new(site)
            .map_err(|e| ServiceError::Internal(format!("stored site id `{site}` {e}")))?;
        let counter = format!("{SITE_VERSION_COUNTER_PREFIX}{site}");
        let pass_ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM passes WHERE site = $1 AND revoked_at IS NOT NULL AND expires > $2 ORDER BY id",
        )
        .bind(site.to_owned())
        .bind(now - EXPIRED_PASS_GRACE_SECONDS)
        .fetch_all(&mut **tx)
        .await?;
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT m.id FROM members m JOIN member_sites s ON s.member = m.id \
             WHERE s.site = $1 AND m.revoked_at IS NOT NULL ORDER BY m.id",
        )
        .bind(site.to_owned())
        .fetch_all(&mut **tx)
        .await?;
        // A site's first list here: its counter starts at the highest of the shared counter
        // and the site's stored list (they agree on a database the shared counter numbered).
        // SQLite needs the WHERE to read ON CONFLICT as the upsert, not a join constraint.
        sqlx::query(
            "INSERT INTO counters (name, value) \
             SELECT $1, COALESCE(MAX(v.value), 0) FROM ( \
                 SELECT value FROM counters WHERE name = $2 \
                 UNION ALL SELECT version AS value FROM revocation_lists WHERE site = $3 \
             ) v WHERE 1 = 1 \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(counter.clone())
        .bind(SHARED_VERSION_COUNTER)
        .bind(site.to_owned())
        .execute(&mut **tx)
        .await?;
        let version: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value",
        )
        .bind(counter)
        .fetch_one(&mut **tx)
        .await?;
        let list = RevocationList {
            site: site_id,
            version: from_sql(version),
            base: None,
            issued_at: UnixTime(from_sql(now)),
            expires: UnixTime(from_sql(now)).plus(LIST_LIFETIME_SECONDS),
            revoked_passes: pass_ids
                .iter()
                .map(|id| {
                    PassId::from_hex(id).ok_or_else(|| {
                        ServiceError::Internal(format!("stored pass id `{id}` is not hex"))
                    })
                })
                .collect::<ServiceResult<_>>()?,
            revoked_members: members
                .iter()
                .map(|id| {
                    MemberId::new(id).map_err(|e| {
                        ServiceError::Internal(format!("stored member id `{id}`: {e}"))
                    })
                })
                .collect::<ServiceResult<_>>()?,
            restored_passes: Vec::new(),
            restored_members: Vec::new(),
        };
        let bytes = list.sign(&self.dashboard.issuer);
        if bytes.len() > bygd_protocol::MAX_REVOCATION_LIST_BYTES {
            // Gateways refuse it unread and the deployed broker would not carry it: better to
            // say so here than to publish a list nobody can take.
            return Err(ServiceError::Conflict(format!(
                "the revocation list of site `{site}` would be {} bytes, over the {} a gateway \
                 accepts; revoke members instead of their passes one by one, or let revoked \
                 passes expire",
                bytes.len(),
                bygd_protocol::MAX_REVOCATION_LIST_BYTES
            )));
        }
        sqlx::query(
            "INSERT INTO revocation_lists (site, version, issued_at, expires, passes, members, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (site) DO UPDATE SET version = excluded.version, issued_at = excluded.issued_at, \
             expires = excluded.expires, passes = excluded.passes, members = excluded.members, \
             bytes = excluded.bytes",
        )
        .bind(site.to_owned())
        .bind(version)
        .bind(now)
        .bind(crate::db::to_sql(list.expires.0))
        .bind(i64::try_from(pass_ids.len()).unwrap_or(i64::MAX))
        .bind(i64::try_from(members.len()).unwrap_or(i64::MAX))
        .bind(hex::encode(&bytes))
        .execute(&mut **tx)
        .await?;
        Ok(Signed {
            site: site.to_owned(),
            version: from_sql(version),
            passes: pass_ids.len(),
            members: members.len(),
        })
    }

    /// The signed bytes of `site`'s current list (what is retained on the broker).
    pub async fn bytes(&self, site: &str) -> ServiceResult<Option<Vec<u8>>> {
        let bytes: Option<String> =
            sqlx::query_scalar("SELECT bytes FROM revocation_lists WHERE site = $1")
                .bind(site.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        bytes
            .map(|b| {
                hex::decode(b).map_err(|_| {
                    ServiceError::Internal(format!("stored list of `{site}` is not hex"))
                })
            })
            .transpose()
    }

    /// The version of every site's current list (cheap: the publisher asks twice a second).
    pub(crate) async fn versions(&self) -> ServiceResult<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT site, version FROM revocation_lists ORDER BY site")
                .fetch_all(&self.dashboard.db.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(site, v)| (site, from_sql(v)))
            .collect())
    }

    /// Re-signs every site list older than `max_age` seconds (and signs one for sites
    /// without); returns how many were signed.
    pub async fn refresh_old(&self, max_age: i64) -> ServiceResult<usize> {
        let now = self.dashboard.now();
        let sites: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT s.id, r.issued_at FROM sites s LEFT JOIN revocation_lists r ON r.site = s.id ORDER BY s.id",
        )
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        let mut signed = 0;
        for (site, issued) in sites {
            if issued.is_none_or(|t| now - t >= max_age) {
                self.refresh(&site).await?;
                signed += 1;
            }
        }
        Ok(signed)
    }
}
