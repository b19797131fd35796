//! Freeze detection: a gateway that stays online but does not take its site's newest
//! revocation list is being held on an old one (a broker or a client with broker access
//! withholding or replacing the retained list), and a revoked pass may still open its doors.
//!
//! What a gateway holds is read from its own signed log (`revocation applied` events, kept in
//! `gateways.list_version` by ingest), never from its unsigned status. The lag counts only
//! while the gateway is online: an offline gateway cannot get a list and has its own alarm.
//! It counts from when the gateway first fell behind (`gateways.lagging_since`), not from the
//! newest list: a site that revokes every few minutes re-signs its list as often, and a lag
//! measured from each new list would never grow.

use crate::alarm::kind;
use crate::db::from_sql;
use crate::error::ServiceResult;
use crate::revocation::RevocationLists;

/// How often the link looks for lagging gateways: a small fraction of the 30-minute default.
pub(crate) const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What one check found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LagReport {
    /// Online gateways holding an older list than their site's for longer than allowed.
    pub lagging: usize,
    /// Online gateways that caught up since the last check (their alarm cleared).
    pub caught_up: usize,
}

impl RevocationLists<'_> {
    /// Raises a `revocation_lag` alarm for every gateway that has been online with an older
    /// list than its site's current one for at least `max_lag_seconds` (measured from when it
    /// first fell behind: the later of the signing of the first list it missed, as far as this
    /// check saw, and its coming online), and clears the alarm of every gateway that holds the
    /// current list. The time is the dashboard's [`crate::Clock`].
    pub async fn check_lag(&self, max_lag_seconds: i64) -> ServiceResult<LagReport> {
        let now = self.dashboard.now();
        let rows: Vec<(String, String, Option<i64>, Option<i64>, Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT g.site, g.id, g.list_version, g.online_since, g.lagging_since, r.version, r.issued_at \
             FROM gateways g JOIN revocation_lists r ON r.site = g.site \
             WHERE g.online = 1 ORDER BY g.site, g.id",
        )
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        let mut report = LagReport::default();
        let mut tx = self.dashboard.begin_write().await?;
        for (site, gateway, held, online_since, lagging_since, current, issued_at) in rows {
            let held: Option<u64> = held.map(from_sql);
            let current: u64 = from_sql(current);
            if held.is_some_and(|h| h >= current) {
                if lagging_since.is_some() {
                    sqlx::query(
                        "UPDATE gateways SET lagging_since = NULL WHERE site = $1 AND id = $2",
                    )
                    .bind(site.clone())
                    .bind(gateway.clone())
                    .execute(&mut *tx)
                    .await?;
                }
                let cleared = sqlx::query(
                    "UPDATE alarms SET cleared_at = $1 WHERE site = $2 AND gateway = $3 \
                     AND kind = $4 AND door = '' AND cleared_at IS NULL",
                )
                .bind(now)
                .bind(site.clone())
                .bind(gateway.clone())
                .bind(kind::REVOCATION_LAG)
                .execute(&mut *tx)
                .await?;
                if cleared.rows_affected() > 0 {
                    report.caught_up += 1;
                    tracing::info!(
                        site,
                        gateway,
                        version = current,
                        "gateway caught up with its site's revocation list"
                    );
                }
                continue;
            }
            let since = match lagging_since {
                Some(since) => since,
                None => {
                    let since = online_since.unwrap_or(now).max(issued_at);
                    sqlx::query(
                        "UPDATE gateways SET lagging_since = $1 WHERE site = $2 AND id = $3",
                    )
                    .bind(since)
                    .bind(site.clone())
                    .bind(gateway.clone())
                    .execute(&mut *tx)
                    .await?;
                    since
                }
            };
            let lag = now - since.max(online_since.unwrap_or(since));
            if lag < max_lag_seconds {
                continue;
            }
            let holds = held.map_or_else(|| "no list".to_owned(), |h| format!("list v{h}"));
            let detail = format!(
                "the gateway has been online for {} min behind its site's revocation list, holding \
                 {holds} while the site's current list is v{current}: passes revoked since may \
                 still open its doors. Something between \
                 the dashboard and the gateway withholds or replaces the list (check the broker's \
                 retained message on bygd/v1/{site}/revocations and the gateway's ACL); revoke at the \
                 door with a lockdown if it matters now",
                lag / 60
            );
            crate::alarm::Alarms::raise(
                &mut tx,
                &site,
                &gateway,
                kind::REVOCATION_LAG,
                None,
                &detail,
                now,
            )
            .await?;
            report.lagging += 1;
        }
        tx.commit().await?;
        Ok(report)
    }
}
