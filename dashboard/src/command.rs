//! Commands to one gateway: unlock a door, lockdown on or off, time beacons, clock floor
//! resets. Each is signed,
//! addressed, short-lived and numbered, stored in the `commands` table (the dashboard's
//! outbox) and published by the MQTT link; its result comes back as an event in the
//! gateway's log.
//!
//! Invariant: a gateway's command numbers are taken from its row in the same transaction
//! that stores the command, so numbers are never reused and commit in order, and the link
//! publishes them in that order (a gateway refuses a number below one it accepted).

use crate::access::{Principal, Scope};
use crate::db::{from_sql, to_sql};
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_bytes, Dashboard};
use bygd_protocol::{Action, Command, CommandId, DoorId, GatewayId, SiteId, UnixTime};
use serde::Serialize;
use std::time::Duration;

/// How long an unlock command lives: the person is at the door now (the protocol allows 60).
const UNLOCK_LIFETIME: u64 = 30;
/// Lockdown and time beacons: the protocol's maximum of five minutes.
const LOCKDOWN_LIFETIME: u64 = 300;
const BEACON_LIFETIME: u64 = 300;
/// A clock floor reset: the protocol's maximum for it, five minutes (the operator acts now).
const CLOCK_RESET_LIFETIME: u64 = 300;
/// How long an unlock lasts unless told: the same as a pass's default.
pub(crate) const DEFAULT_UNLOCK_SECONDS: u32 = 5;
/// The longest remote unlock (the protocol's limit; the door's own maximum still applies).
const MAX_UNLOCK_SECONDS: u32 = 3600;
/// How often [`Dashboard::wait_for_result`] looks.
const RESULT_POLL: Duration = Duration::from_millis(200);
/// Time beacons are kept this long, then forgotten (they are many and say nothing later).
const BEACON_RETENTION_SECONDS: i64 = 86_400;

/// What to ask a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandRequest {
    /// Release a door for some seconds.
    Unlock {
        /// The door.
        door: String,
        /// Seconds.
        seconds: u32,
    },
    /// Lockdown on or off, one door or all.
    Lockdown {
        /// The door, or every door.
        door: Option<String>,
        /// On or off.
        on: bool,
    },
    /// The dashboard's time.
    TimeBeacon,
    /// Set the gateway's clock floor (Unix seconds; the dashboard's clock if `None`): brings
    /// back a floor a wrong time source pushed into the future.
    ResetClockFloor {
        /// The new floor.
        floor: Option<i64>,
    },
}

/// A command and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct CommandInfo {
    /// Its id (32 hex digits).
    pub id: String,
    /// The gateway's site.
    pub site: String,
    /// The gateway.
    pub gateway: String,
    /// Its number for that gateway.
    pub seq: u64,
    /// unlock, lockdown, time or clock_reset.
    pub action: String,
    /// The door, if it names one.
    pub door: Option<String>,
    /// Unlock seconds.
    pub seconds: Option<u32>,
    /// Lockdown on or off.
    pub on: Option<bool>,
    /// Who asked.
    pub requested_by: String,
    /// When it was signed (RFC 3339).
    pub issued_at: String,
    /// When it stops being valid.
    pub expires: String,
    /// `queued` (not on the broker yet), `sent`, `done`, `refused`, `not_sent` (expired
    /// before it could be published) or `no_result` (sent, expired, nothing heard).
    pub status: String,
    /// For `refused` and `not_sent`: the reason code.
    pub reason: Option<String>,
}

/// A command waiting to be published.
#[derive(Debug, Clone)]
pub(crate) struct Unpublished {
    pub(crate) id: String,
    pub(crate) site: String,
    pub(crate) gateway: String,
    pub(crate) seq: u64,
    pub(crate) expires: i64,
    pub(crate) bytes: Vec<u8>,
}

/// An outbox row as the link needs it.
fn unpublished(row: (String, String, String, i64, i64, String)) -> ServiceResult<Unpublished> {
    let (id, site, gateway, seq, expires, bytes) = row;
    Ok(Unpublished {
        bytes: hex::decode(&bytes)
            .map_err(|_| ServiceError::Internal(format!("stored command {id} is not hex")))?,
        id,
        site,
        gateway,
        seq: from_sql(seq),
        expires,
    })
}

type CommandRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

const COMMAND_COLUMNS: &str =
    "id, site, gateway, seq, action, door, seconds, turn_on, requested_by, \
                               issued_at, expires, published_at, outcome";

fn command_info(row: CommandRow, now: i64) -> CommandInfo {
    let (
        id,
        site,
        gateway,
        seq,
        action,
        door,
        seconds,
        on,
        by,
        issued,
        expires,
        published,
        outcome,
    ) = row;
    let (status, reason) = match (outcome.as_deref(), published) {
        (Some("done"), _) => ("done", None),
        (Some("not_sent"), _) => ("not_sent", Some("expired".to_owned())),
        (Some(code), _) => ("refused", Some(code.to_owned())),
        (None, None) => ("queued", None),
        (None, Some(_)) if now >= expires => ("no_result", None),
        (None, Some(_)) => ("sent", None),
    };
    CommandInfo {
        id,
        site,
        gateway,
        seq: from_sql(seq),
        action,
        door,
        seconds: seconds.and_then(|s| u32::try_from(s).ok()),
        on: on.map(|v| v != 0),
        requested_by: by,
        issued_at: crate::timetext::rfc3339(issued),
        expires: crate::timetext::rfc3339(expires),
        status: status.to_owned(),
        reason,
    }
}

/// Commands to one gateway (unlock, lockdown, time beacons): sending them, their results,
/// and the queue the MQTT publisher drains.
///
/// Reached by [`Dashboard::commands`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Commands<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Commands<'_> {
    /// Signs and queues a command for `site/gateway`; the link publishes it at once.
    pub async fn send(
        &self,
        who: &Principal,
        site: &str,
        gateway: &str,
        request: &CommandRequest,
    ) -> ServiceResult<CommandInfo> {
        if request != &CommandRequest::TimeBeacon {
            who.require(Scope::CommandsWrite)?;
        }
        if !who.sees(site) {
            return Err(ServiceError::not_found(
                "gateway",
                format!("{site}/{gateway}"),
            ));
        }
        let doors = self.dashboard.gateways().doors(site, gateway).await?;
        let door_id = |door: &str| -> ServiceResult<DoorId> {
            if !doors.iter().any(|d| d == door) {
                return Err(ServiceError::invalid(
                    "door",
                    format!(
                        "gateway `{site}/{gateway}` has no door `{door}`; its doors: {}",
                        doors.join(", ")
                    ),
                ));
            }
            DoorId::new(door).map_err(|e| ServiceError::invalid("door", e.to_string()))
        };
        let now = self.dashboard.now();
        let (action, lifetime, name, door, seconds, on) = match request {
            CommandRequest::Unlock { door, seconds } => {
                if !(1..=MAX_UNLOCK_SECONDS).contains(seconds) {
                    return Err(ServiceError::invalid(
                        "seconds",
                        format!("1 to {MAX_UNLOCK_SECONDS} (the door's own maximum still applies)"),
                    ));
                }
                (
                    Action::Unlock {
                        door: door_id(door)?,
                        seconds: *seconds,
                    },
                    UNLOCK_LIFETIME,
                    "unlock",
                    Some(door.clone()),
                    Some(i64::from(*seconds)),
                    None,
                )
            }
            CommandRequest::Lockdown { door, on } => (
                Action::Lockdown {
                    door: door.as_deref().map(door_id).transpose()?,
                    on: *on,
                },
                LOCKDOWN_LIFETIME,
                "lockdown",
                door.clone(),
                None,
                Some(i64::from(*on)),
            ),
            CommandRequest::TimeBeacon => (
                Action::TimeBeacon {
                    time: UnixTime(from_sql(now)),
                },
                BEACON_LIFETIME,
                "time",
                None,
                None,
                None,
            ),
            CommandRequest::ResetClockFloor { floor } => {
                let floor = floor.unwrap_or(now);
                let floor = u64::try_from(floor).map_err(|_| {
                    ServiceError::invalid("floor", format!("{floor} is before 1970"))
                })?;
                (
                    Action::SetClockFloor {
                        floor: UnixTime(floor),
                    },
                    CLOCK_RESET_LIFETIME,
                    "clock_reset",
                    None,
                    None,
                    None,
                )
            }
        };
        let floor = match &action {
            Action::SetClockFloor { floor } => Some(floor.0),
            _ => None,
        };
        let id = CommandId(random_bytes()?);
        let mut tx = self.dashboard.begin_write().await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE gateways SET command_seq = command_seq + 1 WHERE site = $1 AND id = $2 RETURNING command_seq",
        )
        .bind(site.to_owned())
        .bind(gateway.to_owned())
        .fetch_one(&mut *tx)
        .await?;
        let command = Command {
            site: SiteId::new(site).map_err(|e| ServiceError::Internal(e.to_string()))?,
            gateway: GatewayId::new(gateway).map_err(|e| ServiceError::Internal(e.to_string()))?,
            id,
            issued_at: UnixTime(from_sql(now)),
            expires: UnixTime(from_sql(now)).plus(lifetime),
            seq: from_sql(seq),
            action,
        };
        let bytes = command.sign(&self.dashboard.issuer);
        sqlx::query(
            "INSERT INTO commands (id, site, gateway, seq, action, door, seconds, turn_on, issued_at, \
             expires, bytes, requested_by, sends) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)",
        )
        .bind(id.to_string())
        .bind(site.to_owned())
        .bind(gateway.to_owned())
        .bind(seq)
        .bind(name)
        .bind(door.clone())
        .bind(seconds)
        .bind(on)
        .bind(now)
        .bind(to_sql(command.expires.0))
        .bind(hex::encode(&bytes))
        .bind(who.actor.clone())
        .execute(&mut *tx)
        .await?;
        if request != &CommandRequest::TimeBeacon {
            self.dashboard.record(
                &mut tx,
                who,
                &format!("command.{name}"),
                &format!("{site}/{gateway}"),
                serde_json::json!({ "command": id.to_string(), "seq": seq, "door": door, "seconds": seconds, "on": on, "floor": floor }),
            )
            .await?;
        }
        tx.commit().await?;
        self.dashboard.outbox.notify_one();
        self.get(who, &id.to_string()).await
    }

    /// One command and its state.
    pub async fn get(&self, who: &Principal, id: &str) -> ServiceResult<CommandInfo> {
        who.require(Scope::CommandsWrite)?;
        let row: Option<CommandRow> = sqlx::query_as(&format!(
            "SELECT {COMMAND_COLUMNS} FROM commands WHERE id = $1"
        ))
        .bind(id.to_ascii_lowercase())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        match row {
            Some(row) if who.sees(&row.1) => Ok(command_info(row, self.dashboard.now())),
            _ => Err(ServiceError::not_found("command", id)),
        }
    }

    /// Recent commands of the sites `who` sees, newest first (time beacons left out).
    pub async fn list(&self, who: &Principal, limit: i64) -> ServiceResult<Vec<CommandInfo>> {
        who.require(Scope::CommandsWrite)?;
        let (sites, site_ids) = crate::service::site_condition(who, "site", 2);
        let sql = format!(
            "SELECT {COMMAND_COLUMNS} FROM commands WHERE action <> 'time'{sites} \
             ORDER BY issued_at DESC, seq DESC LIMIT $1"
        );
        let mut query = sqlx::query_as::<_, CommandRow>(&sql).bind(limit);
        for site in site_ids {
            query = query.bind(site);
        }
        let rows = query.fetch_all(&self.dashboard.db.pool).await?;
        let now = self.dashboard.now();
        Ok(rows
            .into_iter()
            .filter(|r| who.sees(&r.1))
            .map(|r| command_info(r, now))
            .collect())
    }

    /// Waits until the command has a final state (done, refused, not sent or no result) or
    /// `timeout` passes; returns its state either way.
    pub async fn wait_for_result(
        &self,
        who: &Principal,
        id: &str,
        timeout: Duration,
    ) -> ServiceResult<CommandInfo> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let info = self.get(who, id).await?;
            if !matches!(info.status.as_str(), "queued" | "sent")
                || tokio::time::Instant::now() >= deadline
            {
                return Ok(info);
            }
            tokio::time::sleep(RESULT_POLL).await;
        }
    }

    /// Commands not yet published, in the order they must go out; those that expired while
    /// waiting (no broker) are marked `not_sent` instead.
    pub(crate) async fn take_unpublished(&self) -> ServiceResult<Vec<Unpublished>> {
        let now = self.dashboard.now();
        sqlx::query(
            "UPDATE commands SET outcome = 'not_sent', outcome_at = $1 \
             WHERE published_at IS NULL AND outcome IS NULL AND expires <= $1",
        )
        .bind(now)
        .execute(&self.dashboard.db.pool)
        .await?;
        let rows: Vec<(String, String, String, i64, i64, String)> = sqlx::query_as(
            "SELECT id, site, gateway, seq, expires, bytes FROM commands \
             WHERE published_at IS NULL AND outcome IS NULL ORDER BY site, gateway, seq",
        )
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        rows.into_iter().map(unpublished).collect()
    }

    /// Commands published on the broker but not answered and still valid: sent again after
    /// a reconnect, since the MQTT client may have lost them with the connection (a gateway
    /// that did get them refuses the repeat as a replay and the first result stands).
    pub(crate) async fn unanswered(&self) -> ServiceResult<Vec<Unpublished>> {
        let rows: Vec<(String, String, String, i64, i64, String)> = sqlx::query_as(
            "SELECT id, site, gateway, seq, expires, bytes FROM commands \
             WHERE published_at IS NOT NULL AND outcome IS NULL AND expires > $1 ORDER BY site, gateway, seq",
        )
        .bind(self.dashboard.now())
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        rows.into_iter().map(unpublished).collect()
    }

    /// Records that a command was handed to the broker (again).
    pub(crate) async fn mark_published(&self, id: &str) -> ServiceResult<()> {
        sqlx::query("UPDATE commands SET published_at = COALESCE(published_at, $1), sends = sends + 1 WHERE id = $2")
            .bind(self.dashboard.now())
            .bind(id.to_owned())
            .execute(&self.dashboard.db.pool)
            .await?;
        Ok(())
    }

    /// How many time beacons gateways confirmed in the last day (the clock sync is working).
    pub async fn beacons_confirmed(&self) -> ServiceResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM commands WHERE action = 'time' AND outcome = 'done'",
        )
        .fetch_one(&self.dashboard.db.pool)
        .await?;
        Ok(from_sql(n))
    }

    /// Forgets time beacons older than a day.
    pub(crate) async fn forget_old_beacons(&self) -> ServiceResult<u64> {
        let done = sqlx::query("DELETE FROM commands WHERE action = 'time' AND issued_at < $1")
            .bind(self.dashboard.now() - BEACON_RETENTION_SECONDS)
            .execute(&self.dashboard.db.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::gateway::NewGateway;

    /// A dashboard on a manual clock with gateway `byn/gw1` (door `front`).
    async fn dashboard_with_gateway() -> (Dashboard, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (d, _) = Dashboard::init(&dir.path().join("d"), None, "admin")
            .await
            .unwrap();
        let d = d.with_clock(Clock::manual(Clock::system().now()));
        d.gateways()
            .register(
                &Principal::local_admin(),
                &NewGateway {
                    site: "byn".into(),
                    id: "gw1".into(),
                    public_key: bygd_protocol::SecretKey::from_seed(&[7; 32])
                        .public_key()
                        .to_hex(),
                    doors: vec!["front".into()],
                    time_zone: Some("Europe/Stockholm".into()),
                },
            )
            .await
            .unwrap();
        (d, dir)
    }

    async fn unlock(d: &Dashboard) -> CommandInfo {
        let request = CommandRequest::Unlock {
            door: "front".into(),
            seconds: DEFAULT_UNLOCK_SECONDS,
        };
        d.commands()
            .send(&Principal::local_admin(), "byn", "gw1", &request)
            .await
            .unwrap()
    }

    fn lifetime(seconds: u64) -> i64 {
        i64::try_from(seconds).unwrap()
    }

    #[tokio::test]
    async fn a_command_still_queued_when_the_clock_passes_its_lifetime_is_not_sent() {
        let (d, _dir) = dashboard_with_gateway().await;
        let sent = unlock(&d).await;
        d.clock().advance(lifetime(UNLOCK_LIFETIME) - 1);
        let queued = d.commands().take_unpublished().await.unwrap();
        assert_eq!(
            queued.len(),
            1,
            "the last second of its life it still goes out"
        );
        d.clock().advance(1);
        assert!(d.commands().take_unpublished().await.unwrap().is_empty());
        let info = d
            .commands()
            .get(&Principal::local_admin(), &sent.id)
            .await
            .unwrap();
        assert_eq!(
            (info.status.as_str(), info.reason.as_deref()),
            ("not_sent", Some("expired"))
        );
    }

    #[tokio::test]
    async fn a_sent_command_nobody_answers_has_no_result_once_the_clock_passes_its_lifetime() {
        let (d, _dir) = dashboard_with_gateway().await;
        let admin = Principal::local_admin();
        let sent = unlock(&d).await;
        d.commands().mark_published(&sent.id).await.unwrap();
        d.clock().advance(lifetime(UNLOCK_LIFETIME) - 1);
        assert_eq!(
            d.commands().get(&admin, &sent.id).await.unwrap().status,
            "sent"
        );
        assert_eq!(d.commands().unanswered().await.unwrap().len(), 1);
        d.clock().advance(1);
        assert_eq!(
            d.commands().get(&admin, &sent.id).await.unwrap().status,
            "no_result"
        );
        assert!(
            d.commands().unanswered().await.unwrap().is_empty(),
            "an expired command is not sent again after a reconnect"
        );
    }

    #[tokio::test]
    async fn time_beacons_are_forgotten_a_day_after_they_were_issued() {
        let (d, _dir) = dashboard_with_gateway().await;
        d.commands()
            .send(
                &Principal::local_admin(),
                "byn",
                "gw1",
                &CommandRequest::TimeBeacon,
            )
            .await
            .unwrap();
        d.clock().advance(BEACON_RETENTION_SECONDS);
        assert_eq!(d.commands().forget_old_beacons().await.unwrap(), 0);
        d.clock().advance(1);
        assert_eq!(d.commands().forget_old_beacons().await.unwrap(), 1);
    }
}
