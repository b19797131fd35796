//! Alarms operators must see: a gateway's log that does not verify (forged, forked or
//! gapped), doors forced or held open, gateways offline, commands a gateway refused, clocks
//! running behind.
//!
//! Invariant: at most one open alarm per (site, gateway, kind, door); a repeat updates its
//! count and last time instead of adding rows, so a gateway resending a bad batch every few
//! seconds cannot flood the table.

use crate::access::{Principal, Scope};
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_hex_id, Dashboard};
use serde::Serialize;

/// Kinds of alarm, as stored and filtered on.
pub(crate) mod kind {
    /// A batch or event that does not verify or does not follow the stored chain.
    pub(crate) const INTEGRITY: &str = "integrity";
    /// A batch on the topic of a gateway that is not registered.
    pub(crate) const UNKNOWN_GATEWAY: &str = "unknown_gateway";
    /// A door opened without a grant or exit.
    pub(crate) const FORCED_OPEN: &str = "forced_open";
    /// A door left open too long.
    pub(crate) const HELD_OPEN: &str = "held_open";
    /// The gateway's last will or status says offline.
    pub(crate) const OFFLINE: &str = "offline";
    /// The gateway refused a command (forged, replayed, expired, misaddressed …).
    pub(crate) const COMMAND_REFUSED: &str = "command_refused";
    /// The gateway refused a revocation list.
    pub(crate) const REVOCATION_REFUSED: &str = "revocation_refused";
    /// The gateway's clock was behind its floor: it decided on the floor.
    pub(crate) const CLOCK: &str = "clock";
    /// A message on a gateway's topic that is not what a gateway sends (too large, not a
    /// status): someone else may hold the gateway's broker credentials.
    pub(crate) const BAD_MESSAGE: &str = "bad_message";
    /// A gateway online for a while still holds an older revocation list than its site's.
    pub(crate) const REVOCATION_LAG: &str = "revocation_lag";
    /// The gateway's data disk has less free space than its configured watermark.
    pub(crate) const DISK_LOW: &str = "disk_low";
}

/// An alarm as listed.
#[derive(Debug, Clone, Serialize)]
pub struct AlarmInfo {
    /// Its id.
    pub id: String,
    /// The site.
    pub site: String,
    /// The gateway.
    pub gateway: String,
    /// The kind (see [`kind`]).
    pub kind: String,
    /// The door, if it is about one.
    pub door: Option<String>,
    /// What happened, for people.
    pub detail: String,
    /// First seen (RFC 3339).
    pub first_at: String,
    /// Last seen.
    pub last_at: String,
    /// How often it happened while open.
    pub count: u64,
    /// When it cleared, if it did (by itself, or acknowledged).
    pub cleared_at: Option<String>,
    /// Who acknowledged it (`account:anna`), if someone did.
    pub acked_by: Option<String>,
    /// Their note.
    pub ack_note: Option<String>,
}

/// The longest acknowledgement note, in characters.
const MAX_NOTE_CHARS: usize = 1000;

type AlarmRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const ALARM_COLUMNS: &str =
    "id, site, gateway, kind, door, detail, first_at, last_at, count, cleared_at, acked_by, ack_note";

fn alarm_info(row: AlarmRow) -> AlarmInfo {
    let (id, site, gateway, kind, door, detail, first, last, count, cleared, acked_by, ack_note) =
        row;
    AlarmInfo {
        id,
        site,
        gateway,
        kind,
        door: Some(door).filter(|d| !d.is_empty()),
        detail,
        first_at: crate::timetext::rfc3339(first),
        last_at: crate::timetext::rfc3339(last),
        count: crate::db::from_sql(count),
        cleared_at: cleared.map(crate::timetext::rfc3339),
        acked_by,
        ack_note,
    }
}

/// Alarms: raising and clearing them (integrity, door, clock, offline), and listing them.
///
/// Reached by [`Dashboard::alarms`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Alarms<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Alarms<'_> {
    /// Raises (or repeats) an alarm, inside `tx`.
    pub(crate) async fn raise(
        tx: &mut crate::service::Tx,
        site: &str,
        gateway: &str,
        kind: &str,
        door: Option<&str>,
        detail: &str,
        at: i64,
    ) -> ServiceResult<()> {
        let door = door.unwrap_or("");
        let repeated = sqlx::query(
            "UPDATE alarms SET last_at = $1, count = count + 1, detail = $2 \
             WHERE site = $3 AND gateway = $4 AND kind = $5 AND door = $6 AND cleared_at IS NULL",
        )
        .bind(at)
        .bind(detail.to_owned())
        .bind(site.to_owned())
        .bind(gateway.to_owned())
        .bind(kind.to_owned())
        .bind(door.to_owned())
        .execute(&mut **tx)
        .await?;
        if repeated.rows_affected() == 0 {
            let id = random_hex_id()?;
            crate::webhook::emit(
                tx,
                &[crate::webhook::Event {
                    kind: "alarm.raised",
                    site: site.to_owned(),
                    at,
                    data: serde_json::json!({
                        "id": id, "gateway": gateway, "kind": kind,
                        "door": Some(door).filter(|d| !d.is_empty()), "detail": detail,
                    }),
                }],
            )
            .await?;
            sqlx::query(
                "INSERT INTO alarms (id, site, gateway, kind, door, detail, first_at, last_at, count) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
            )
            .bind(id)
            .bind(site.to_owned())
            .bind(gateway.to_owned())
            .bind(kind.to_owned())
            .bind(door.to_owned())
            .bind(detail.to_owned())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        tracing::warn!(site, gateway, kind, door, detail, "alarm");
        Ok(())
    }

    /// Clears the open alarm of this kind, if any, inside `tx`.
    pub(crate) async fn clear(
        tx: &mut crate::service::Tx,
        site: &str,
        gateway: &str,
        kind: &str,
        door: Option<&str>,
        at: i64,
    ) -> ServiceResult<()> {
        let cleared: Vec<String> = sqlx::query_scalar(
            "UPDATE alarms SET cleared_at = $1 \
             WHERE site = $2 AND gateway = $3 AND kind = $4 AND door = $5 AND cleared_at IS NULL \
             RETURNING id",
        )
        .bind(at)
        .bind(site.to_owned())
        .bind(gateway.to_owned())
        .bind(kind.to_owned())
        .bind(door.unwrap_or("").to_owned())
        .fetch_all(&mut **tx)
        .await?;
        let closed: Vec<crate::webhook::Event> = cleared
            .into_iter()
            .map(|id| crate::webhook::Event {
                kind: "alarm.closed",
                site: site.to_owned(),
                at,
                data: serde_json::json!({
                    "id": id, "gateway": gateway, "kind": kind, "door": door, "by": "gateway",
                }),
            })
            .collect();
        crate::webhook::emit(tx, &closed).await?;
        Ok(())
    }

    /// Raises an alarm in a transaction of its own.
    pub(crate) async fn raise_now(
        &self,
        site: &str,
        gateway: &str,
        kind: &str,
        door: Option<&str>,
        detail: &str,
    ) -> ServiceResult<()> {
        let mut tx = self.dashboard.begin_write().await?;
        Self::raise(
            &mut tx,
            site,
            gateway,
            kind,
            door,
            detail,
            self.dashboard.now(),
        )
        .await?;
        tx.commit().await?;
        self.dashboard.changed();
        Ok(())
    }

    /// Alarms of the sites `who` sees, newest first; `open_only` leaves out cleared ones.
    pub async fn list(
        &self,
        who: &Principal,
        open_only: bool,
        limit: i64,
    ) -> ServiceResult<Vec<AlarmInfo>> {
        who.require(Scope::AlarmsRead)?;
        let rows: Vec<AlarmRow> = {
            let (sites, site_ids) = crate::service::site_condition(who, "site", 2);
            let sql = format!(
                "SELECT {ALARM_COLUMNS} FROM alarms WHERE {}{sites} ORDER BY last_at DESC, id LIMIT $1",
                if open_only { "cleared_at IS NULL" } else { "1 = 1" }
            );
            let mut query = sqlx::query_as(&sql).bind(limit);
            for site in site_ids {
                query = query.bind(site);
            }
            query.fetch_all(&self.dashboard.db.pool).await?
        };
        Ok(rows
            .into_iter()
            .filter(|r| who.sees(&r.1))
            .map(alarm_info)
            .collect())
    }

    /// One alarm of a site `who` sees.
    pub async fn get(&self, who: &Principal, id: &str) -> ServiceResult<AlarmInfo> {
        who.require(Scope::AlarmsRead)?;
        let row: Option<AlarmRow> =
            sqlx::query_as(&format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE id = $1"))
                .bind(id.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        match row {
            Some(row) if who.sees(&row.1) => Ok(alarm_info(row)),
            _ => Err(ServiceError::not_found("alarm", id)),
        }
    }

    /// Acknowledges an open alarm with a note: it closes, naming who and why, in the audit
    /// trail too. If what raised it happens again, a new alarm opens.
    pub async fn acknowledge(
        &self,
        who: &Principal,
        id: &str,
        note: &str,
    ) -> ServiceResult<AlarmInfo> {
        who.require(Scope::AlarmsWrite)?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
            return Err(ServiceError::invalid(
                "note",
                format!(
                    "say in 1 to {MAX_NOTE_CHARS} characters what was done about it, for whoever \
                     looks next"
                ),
            ));
        }
        let alarm = self.get(who, id).await?;
        if alarm.cleared_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "alarm `{id}` is already closed"
            )));
        }
        let mut tx = self.dashboard.begin_write().await?;
        let done = sqlx::query(
            "UPDATE alarms SET cleared_at = $1, acked_by = $2, ack_note = $3 \
             WHERE id = $4 AND cleared_at IS NULL",
        )
        .bind(self.dashboard.now())
        .bind(who.actor.clone())
        .bind(note.to_owned())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::Conflict(format!(
                "alarm `{id}` is already closed"
            )));
        }
        crate::webhook::emit(
            &mut tx,
            &[crate::webhook::Event {
                kind: "alarm.closed",
                site: alarm.site.clone(),
                at: self.dashboard.now(),
                data: serde_json::json!({
                    "id": id, "gateway": alarm.gateway, "kind": alarm.kind, "door": alarm.door,
                    "by": who.actor, "note": note,
                }),
            }],
        )
        .await?;
        self.dashboard
            .record(
            &mut tx,
            who,
            "alarm.acknowledge",
            id,
            serde_json::json!({ "site": alarm.site, "gateway": alarm.gateway, "kind": alarm.kind, "note": note }),
        )
        .await?;
        tx.commit().await?;
        self.dashboard.changed();
        tracing::info!(alarm = id, by = %who.actor, "alarm acknowledged");
        self.get(who, id).await
    }
}
