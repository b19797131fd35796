//! Ingest: a gateway's signed batch in, its events stored once, the head to ack out.
//!
//! What SPEC.md section 11 asks of a dashboard: verify the batch under the registered key;
//! events at or below the stored head must carry the hash stored for their sequence number
//! (else the log forked) and are skipped; the first new event must follow the stored head;
//! the new events and the new head are stored in one transaction, keyed by (site, gateway,
//! seq). A batch that fails is stored nowhere and not acked (the gateway sends it again);
//! a bad signature or a fork raises an integrity alarm for the gateway.
//!
//! Invariant: the stored head only moves forward, by a conditional update in the transaction
//! that stores its events, so two ingesters (replicas, or a restart racing a redelivery)
//! never store an event twice or move the head past a gap.

use crate::alarm::{kind, Alarms};
use crate::db::{from_sql, to_sql};
use crate::error::{ServiceError, ServiceResult};
use crate::service::{Dashboard, Tx};
use bygd_protocol::{
    verify_batch, ChainHead, ChainWalk, ClockQuality, CommandOutcome, EventBody, GatewayId,
    GatewayStatus, Hash, PublicKey, Rejection, SiteId, VerifiedEvent, MAX_STATUS_BYTES,
};

/// Columns per stored event, and rows per `INSERT` statement: 64 rows of 15 parameters stay
/// far below both backends' parameter limits and keep the statement cache small.
const EVENT_COLUMNS: usize = 15;
const ROWS_PER_INSERT: usize = 64;
/// How often a store is retried when another ingester moved the head meanwhile.
const HEAD_RACE_RETRIES: usize = 3;

/// Events read per query while checking a stored chain.
const VERIFY_PAGE: u64 = 10_000;

/// The result of checking a stored chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    /// Events that verified, from 1.
    pub events: u64,
    /// The first problem found, if any.
    pub problem: Option<String>,
}

/// A batch after its signature check.
enum Prepared {
    /// Refused before storing: the reason, and the alarm to raise.
    Refused {
        reason: String,
        alarm: Option<(&'static str, String)>,
    },
    /// Verified; to be stored.
    Verified(bygd_protocol::Batch),
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// New events were stored (after skipping `skipped` already stored); ack `head`.
    Stored {
        /// The first new sequence number.
        from: u64,
        /// The last.
        to: u64,
        /// Events already stored, skipped.
        skipped: usize,
        /// The stored head now.
        head: ChainHead,
    },
    /// Every event was stored before (a redelivery after a lost ack); ack `head` again.
    AlreadyStored {
        /// The stored head.
        head: ChainHead,
    },
    /// The batch starts past the stored head: events in between have not arrived (lost in
    /// transit; the gateway resends from its last ack). Nothing stored.
    Gap {
        /// The stored head's sequence number.
        head: u64,
        /// The batch's first.
        first: u64,
    },
    /// Refused, stored nowhere; an alarm says why.
    Refused {
        /// The reason, for the log.
        reason: String,
    },
}

fn hash_from_hex(text: &str) -> ServiceResult<Hash> {
    let bytes = hex::decode(text)
        .map_err(|_| ServiceError::Internal(format!("stored hash `{text}` is not hex")))?;
    bytes
        .try_into()
        .map_err(|_| ServiceError::Internal(format!("stored hash `{text}` is not 32 bytes")))
}

/// The indexed columns of an event: kind, outcome, door, member, pass, reason, command.
type EventColumns = (
    &'static str,
    Option<&'static str>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The columns of a refused presentation, of `kind`: outcome `denied`, and the door, member,
/// pass and reason.
fn denied_columns(
    kind: &'static str,
    door: &bygd_protocol::DoorId,
    reason: bygd_protocol::Rejection,
    pass_id: Option<bygd_protocol::PassId>,
    member: Option<&bygd_protocol::MemberId>,
) -> EventColumns {
    (
        kind,
        Some("denied"),
        Some(door.as_str().to_owned()),
        member.map(|m| m.as_str().to_owned()),
        pass_id.map(|p| p.to_string()),
        Some(reason.code().to_owned()),
        None,
    )
}

fn columns(body: &EventBody) -> EventColumns {
    // The kind's name comes from the protocol's one table; the rest are this table's columns.
    let kind = body.kind();
    let door = |d: &bygd_protocol::DoorId| Some(d.as_str().to_owned());
    match body {
        EventBody::EntryGranted {
            door: d,
            pass_id,
            member,
            ..
        } => (
            kind,
            Some("granted"),
            door(d),
            Some(member.as_str().to_owned()),
            Some(pass_id.to_string()),
            None,
            None,
        ),
        EventBody::EntryDenied {
            door: d,
            reason,
            pass_id,
            member,
        } => denied_columns(kind, d, *reason, *pass_id, member.as_ref()),
        EventBody::DoorOpened { door: d } => (kind, None, door(d), None, None, None, None),
        EventBody::DoorClosed { door: d } => (kind, None, door(d), None, None, None, None),
        EventBody::HeldOpen { door: d, .. } => (kind, None, door(d), None, None, None, None),
        EventBody::ForcedOpen { door: d, .. } => (kind, None, door(d), None, None, None, None),
        EventBody::ExitButton { door: d } => (kind, None, door(d), None, None, None, None),
        EventBody::Lockdown { door: d, .. } => (
            kind,
            None,
            d.as_ref().and_then(door),
            None,
            None,
            None,
            None,
        ),
        EventBody::CommandResult {
            command, outcome, ..
        } => (
            kind,
            None,
            None,
            None,
            None,
            match outcome {
                CommandOutcome::Done => None,
                CommandOutcome::Refused(r) => Some(r.code().to_owned()),
            },
            Some(command.to_string()),
        ),
        EventBody::RevocationRefused { reason, .. } => (
            kind,
            None,
            None,
            None,
            None,
            Some(reason.code().to_owned()),
            None,
        ),
        // Stored as a denial, so an audit of denials finds it; the count and the first and
        // last times are in the event's bytes.
        EventBody::DenialsRepeated {
            door: d,
            reason,
            pass_id,
            member,
            ..
        } => denied_columns(kind, d, *reason, *pass_id, member.as_ref()),
        // Gateway started, clock, revocation applied, disk low: the kind alone.
        _ => (kind, None, None, None, None, None, None),
    }
}

/// The multi-row `INSERT` for `rows` events. SQLite gets anonymous `?` parameters: it looks
/// each `$N` name up by a linear scan, which makes a statement of a thousand `$N` parameters
/// cost more than all the rest of ingest together (measured by the ingest benchmark).
fn insert_sql(rows: usize, backend: crate::db::Backend) -> String {
    let mut sql = String::from(
        "INSERT INTO events (site, gateway, seq, time, clock, kind, outcome, door, member, pass_id, \
         reason, command_id, bytes, hash, received_at) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..EVENT_COLUMNS {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                crate::db::Backend::Sqlite => sql.push('?'),
                crate::db::Backend::Postgres => {
                    sql.push_str(&format!("${}", row * EVENT_COLUMNS + col + 1))
                }
            }
        }
        sql.push(')');
    }
    sql
}

impl Dashboard {
    /// Takes one batch from the `event` topic of `site/gateway`.
    pub async fn ingest_batch(
        &self,
        site: &str,
        gateway: &str,
        payload: &[u8],
    ) -> ServiceResult<Ingested> {
        let mut outcomes = self.ingest_batches(&[(site, gateway, payload)]).await?;
        outcomes
            .pop()
            .ok_or_else(|| ServiceError::Internal("a batch without an outcome".to_owned()))
    }

    /// Takes several batches (site, gateway, payload), in order, in one transaction: a
    /// backlog arriving after an outage costs one commit per group instead of one per batch.
    /// Returns one outcome per batch.
    pub async fn ingest_batches(
        &self,
        batches: &[(&str, &str, &[u8])],
    ) -> ServiceResult<Vec<Ingested>> {
        let mut keys: std::collections::HashMap<(String, String), Option<PublicKey>> =
            std::collections::HashMap::new();
        let mut prepared = Vec::with_capacity(batches.len());
        for &(site, gateway, payload) in batches {
            let (Ok(site_id), Ok(gateway_id)) = (SiteId::new(site), GatewayId::new(gateway)) else {
                prepared.push(Prepared::Refused {
                    reason: format!("`{site}/{gateway}` is not a valid gateway name"),
                    alarm: None,
                });
                continue;
            };
            let name = (site.to_owned(), gateway.to_owned());
            if !keys.contains_key(&name) {
                let key: Option<String> = sqlx::query_scalar(
                    "SELECT public_key FROM gateways WHERE site = $1 AND id = $2",
                )
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_optional(&self.db.pool)
                .await?;
                let key = key
                    .map(|k| {
                        PublicKey::from_hex(&k).map_err(|e| {
                            ServiceError::Internal(format!("stored key of {site}/{gateway}: {e}"))
                        })
                    })
                    .transpose()?;
                keys.insert(name.clone(), key);
            }
            let Some(Some(key)) = keys.get(&name) else {
                prepared.push(Prepared::Refused {
                    reason: "unregistered gateway".to_owned(),
                    alarm: Some((kind::UNKNOWN_GATEWAY, "a batch arrived on the topic of a gateway that is not registered (register it with `bygd gateway add`)".to_owned())),
                });
                continue;
            };
            prepared.push(match verify_batch(payload, key, &site_id, &gateway_id) {
                Ok(batch) => Prepared::Verified(batch),
                Err(refusal) => {
                    let code = refusal.rejection().code();
                    Prepared::Refused {
                        reason: code.to_owned(),
                        alarm: Some((
                            kind::INTEGRITY,
                            format!(
                                "a batch that does not verify under the gateway's registered key was refused \
                                 ({code}: {refusal}); it may be forged by another client"
                            ),
                        )),
                    }
                }
            });
        }
        'attempt: for _ in 0..HEAD_RACE_RETRIES {
            let mut tx = self.begin_write().await?;
            let now = self.now();
            let mut outcomes = Vec::with_capacity(prepared.len());
            for (p, &(site, gateway, _)) in prepared.iter().zip(batches) {
                match p {
                    Prepared::Refused { reason, alarm } => {
                        if let Some((kind, detail)) = alarm {
                            Alarms::raise(&mut tx, site, gateway, kind, None, detail, now).await?;
                        }
                        outcomes.push(Ingested::Refused {
                            reason: reason.clone(),
                        });
                    }
                    Prepared::Verified(batch) => match self
                        .store_in(&mut tx, site, gateway, &batch.events, now)
                        .await?
                    {
                        Some(outcome) => outcomes.push(outcome),
                        None => {
                            tx.rollback().await?;
                            continue 'attempt;
                        }
                    },
                }
            }
            tx.commit().await?;
            self.changed();
            for outcome in &outcomes {
                match outcome {
                    Ingested::Stored { from, to, .. } => {
                        self.counters.stored(to.saturating_sub(*from) + 1);
                    }
                    Ingested::Refused { .. } => self.counters.refused(),
                    _ => {}
                }
            }
            return Ok(outcomes);
        }
        Err(ServiceError::Internal(
            "a gateway's stored head kept moving while storing its batches (another ingester?)"
                .to_owned(),
        ))
    }

    /// Stores one verified batch inside `tx`; `None` if another ingester moved the head
    /// meanwhile (the caller rolls back and tries again).
    async fn store_in(
        &self,
        tx: &mut Tx,
        site: &str,
        gateway: &str,
        events: &[VerifiedEvent],
        now: i64,
    ) -> ServiceResult<Option<Ingested>> {
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT head_seq, head_hash FROM gateways WHERE site = $1 AND id = $2")
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_one(&mut **tx)
                .await?;
        let stored_head = ChainHead {
            seq: from_sql(head_seq),
            hash: hash_from_hex(&head_hash)?,
        };
        // Redelivered events must be the ones stored: anything else is a forked log.
        let old: Vec<&VerifiedEvent> = events
            .iter()
            .filter(|e| e.event.seq <= stored_head.seq)
            .collect();
        if let (Some(first), Some(last)) = (old.first(), old.last()) {
            let stored: Vec<(i64, String)> = sqlx::query_as(
                "SELECT seq, hash FROM events WHERE site = $1 AND gateway = $2 AND seq >= $3 AND seq <= $4",
            )
            .bind(site.to_owned())
            .bind(gateway.to_owned())
            .bind(to_sql(first.event.seq))
            .bind(to_sql(last.event.seq))
            .fetch_all(&mut **tx)
            .await?;
            let stored: std::collections::HashMap<u64, String> = stored
                .into_iter()
                .map(|(seq, hash)| (from_sql(seq), hash))
                .collect();
            if let Some(differs) = old
                .iter()
                .find(|e| stored.get(&e.event.seq) != Some(&hex::encode(e.hash)))
            {
                let detail = format!(
                    "event {} arrived with a different hash than the one stored: the gateway's log forked \
                     (was its store replaced or restored?); nothing from this batch was stored",
                    differs.event.seq
                );
                Alarms::raise(tx, site, gateway, kind::INTEGRITY, None, &detail, now).await?;
                return Ok(Some(Ingested::Refused {
                    reason: Rejection::ChainBroken.code().to_owned(),
                }));
            }
        }
        let fresh: Vec<&VerifiedEvent> = events
            .iter()
            .filter(|e| e.event.seq > stored_head.seq)
            .collect();
        let Some(first) = fresh.first() else {
            sqlx::query("UPDATE gateways SET last_seen = $1 WHERE site = $2 AND id = $3")
                .bind(now)
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .execute(&mut **tx)
                .await?;
            return Ok(Some(Ingested::AlreadyStored { head: stored_head }));
        };
        let mut head = match stored_head.follow(&first.event, &first.bytes) {
            Ok(head) => head,
            Err(Rejection::SequenceGap) => {
                return Ok(Some(Ingested::Gap {
                    head: stored_head.seq,
                    first: first.event.seq,
                }));
            }
            Err(reason) => {
                let detail = format!(
                    "event {} does not follow the stored event {} ({}): the gateway's log forked; nothing \
                     from this batch was stored",
                    first.event.seq,
                    stored_head.seq,
                    reason.code()
                );
                Alarms::raise(tx, site, gateway, kind::INTEGRITY, None, &detail, now).await?;
                return Ok(Some(Ingested::Refused {
                    reason: reason.code().to_owned(),
                }));
            }
        };
        // verify_batch checked the links inside the batch; the head just follows them.
        for e in &fresh[1..] {
            head = head.follow(&e.event, &e.bytes).map_err(|r| {
                ServiceError::Internal(format!("a verified batch broke its chain: {r}"))
            })?;
        }
        for chunk in fresh.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(chunk.len(), self.db.backend);
            let mut query = sqlx::query(&sql);
            for e in chunk {
                let (kind, outcome, door, member, pass, reason, command) = columns(&e.event.body);
                query = query
                    .bind(site.to_owned())
                    .bind(gateway.to_owned())
                    .bind(to_sql(e.event.seq))
                    .bind(to_sql(e.event.time.0))
                    .bind(e.event.clock.name())
                    .bind(kind)
                    .bind(outcome)
                    .bind(door)
                    .bind(member)
                    .bind(pass)
                    .bind(reason)
                    .bind(command)
                    .bind(hex::encode(&e.bytes))
                    .bind(hex::encode(e.hash))
                    .bind(now);
            }
            query.execute(&mut **tx).await?;
        }
        let moved = sqlx::query(
            "UPDATE gateways SET head_seq = $1, head_hash = $2, last_seen = $3 \
             WHERE site = $4 AND id = $5 AND head_seq = $6",
        )
        .bind(to_sql(head.seq))
        .bind(hex::encode(head.hash))
        .bind(now)
        .bind(site.to_owned())
        .bind(gateway.to_owned())
        .bind(head_seq)
        .execute(&mut **tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(None);
        }
        for e in &fresh {
            self.follow_up(tx, site, gateway, e, now).await?;
        }
        // Entries and denials for the webhooks, in the same transaction as the events.
        let entries: Vec<crate::webhook::Event> = fresh
            .iter()
            .filter_map(|e| {
                let (_, outcome, door, member, pass, reason, _) = columns(&e.event.body);
                let kind = match outcome? {
                    "granted" => "entry.granted",
                    _ => "entry.denied",
                };
                Some(crate::webhook::Event {
                    kind,
                    site: site.to_owned(),
                    at: to_sql(e.event.time.0),
                    data: serde_json::json!({
                        "gateway": gateway, "seq": e.event.seq, "door": door,
                        "member": member, "pass": pass, "reason": reason,
                        "clock": e.event.clock.name(),
                    }),
                })
            })
            .collect();
        crate::webhook::emit(tx, &entries).await?;
        // Decisions on the clock floor: the gateway's clock is behind what it has seen.
        if let Some(behind) = fresh
            .iter()
            .rev()
            .find(|e| e.event.clock == ClockQuality::Floor)
        {
            let detail = format!(
                "the gateway's clock is behind its last known time; it decided on its floor ({}) \
                 and flags those events (event {} the latest); check NTP, or fit an RTC module",
                crate::timetext::rfc3339(to_sql(behind.event.time.0)),
                behind.event.seq
            );
            Alarms::raise(tx, site, gateway, kind::CLOCK, None, &detail, now).await?;
        } else if fresh
            .last()
            .is_some_and(|e| e.event.clock == ClockQuality::Synchronised)
        {
            Alarms::clear(tx, site, gateway, kind::CLOCK, None, now).await?;
        }
        Ok(Some(Ingested::Stored {
            from: first.event.seq,
            to: head.seq,
            skipped: old.len(),
            head,
        }))
    }

    /// What a stored event changes besides the log: command results, door and clock alarms.
    async fn follow_up(
        &self,
        tx: &mut Tx,
        site: &str,
        gateway: &str,
        e: &VerifiedEvent,
        now: i64,
    ) -> ServiceResult<()> {
        match &e.event.body {
            EventBody::RevocationApplied { version } => {
                // What the gateway holds, from its signed log: the freeze check compares it
                // with the site's current list.
                sqlx::query(
                    "UPDATE gateways SET list_version = $1 WHERE site = $2 AND id = $3 \
                     AND (list_version IS NULL OR list_version < $1)",
                )
                .bind(to_sql(*version))
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .execute(&mut **tx)
                .await?;
            }
            EventBody::CommandResult {
                command, outcome, ..
            } => {
                let id = command.to_string();
                let (code, refused) = match outcome {
                    CommandOutcome::Done => ("done".to_owned(), None),
                    CommandOutcome::Refused(r) => (r.code().to_owned(), Some(*r)),
                };
                let ours: Option<(String, Option<String>, i64)> = sqlx::query_as(
                    "SELECT action, outcome, sends FROM commands WHERE id = $1 AND site = $2 AND gateway = $3",
                )
                .bind(id.clone())
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_optional(&mut **tx)
                .await?;
                if let Some((_, None, _)) = &ours {
                    sqlx::query("UPDATE commands SET outcome = $1, outcome_at = $2 WHERE id = $3 AND outcome IS NULL")
                        .bind(code.clone())
                        .bind(now)
                        .bind(id.clone())
                        .execute(&mut **tx)
                        .await?;
                }
                let detail = match (ours, refused) {
                    (_, None) | (Some(_), Some(Rejection::Expired)) => None,
                    // One of ours that this dashboard sent more than once (again after a
                    // reconnect): the gateway rightly refused the repeat.
                    (Some((_, Some(_), sends)), Some(Rejection::ReplayedCommand)) if sends > 1 => None,
                    (Some((action, _, _)), Some(Rejection::ReplayedCommand)) => Some(format!(
                        "the gateway refused a replay of {action} command {id}, which this dashboard sent once: \
                         someone re-published it on the command topic"
                    )),
                    (Some((action, _, _)), Some(r)) => {
                        Some(format!("the gateway refused {action} command {id}: {}", r.describe()))
                    }
                    (None, Some(r)) => Some(format!(
                        "the gateway refused a command this dashboard never sent ({}: {}); someone else \
                         published on its command topic",
                        r.code(),
                        r.describe()
                    )),
                };
                if let Some(detail) = detail {
                    Alarms::raise(tx, site, gateway, kind::COMMAND_REFUSED, None, &detail, now)
                        .await?;
                }
            }
            EventBody::ForcedOpen { door, raised } | EventBody::HeldOpen { door, raised } => {
                let what = if matches!(e.event.body, EventBody::ForcedOpen { .. }) {
                    (kind::FORCED_OPEN, "forced open")
                } else {
                    (kind::HELD_OPEN, "held open")
                };
                if *raised {
                    let detail = format!("door `{door}` {} (event {})", what.1, e.event.seq);
                    Alarms::raise(tx, site, gateway, what.0, Some(door.as_str()), &detail, now)
                        .await?;
                } else {
                    Alarms::clear(tx, site, gateway, what.0, Some(door.as_str()), now).await?;
                }
            }
            EventBody::DiskLow { raised, free_bytes } => {
                if *raised {
                    let detail = format!(
                        "the gateway's data disk has {} MB free, below its watermark (event {}); \
                         it logs every grant and folds repeated denials over a longer window",
                        free_bytes / 1_000_000,
                        e.event.seq
                    );
                    Alarms::raise(tx, site, gateway, kind::DISK_LOW, None, &detail, now).await?;
                } else {
                    Alarms::clear(tx, site, gateway, kind::DISK_LOW, None, now).await?;
                }
            }
            EventBody::RevocationRefused { version, reason } => {
                let detail = format!(
                    "the gateway refused revocation list {}: {}",
                    version.map_or_else(|| "(undecodable)".to_owned(), |v| format!("v{v}")),
                    reason.describe()
                );
                Alarms::raise(
                    tx,
                    site,
                    gateway,
                    kind::REVOCATION_REFUSED,
                    None,
                    &detail,
                    now,
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks the stored log of a gateway from its first event to its stored head: sequence
    /// numbers without gaps, each event's hash over its exact stored bytes, each link to the
    /// event before. Proves that nothing stored was changed, dropped or invented since.
    pub async fn verify_stored_chain(
        &self,
        who: &crate::access::Principal,
        site: &str,
        gateway: &str,
    ) -> ServiceResult<ChainReport> {
        who.require(crate::access::Scope::EntriesRead)?;
        if !who.sees(site) {
            return Err(ServiceError::not_found(
                "gateway",
                format!("{site}/{gateway}"),
            ));
        }
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT head_seq, head_hash FROM gateways WHERE site = $1 AND id = $2")
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_optional(&self.db.pool)
                .await?
                .ok_or_else(|| ServiceError::not_found("gateway", format!("{site}/{gateway}")))?;
        let mut walk = ChainWalk::from_genesis();
        let head = |walk: &ChainWalk| walk.head().unwrap_or_default();
        let mut problem = None;
        'pages: loop {
            let rows: Vec<(i64, String, String)> = sqlx::query_as(
                "SELECT seq, bytes, hash FROM events WHERE site = $1 AND gateway = $2 AND seq > $3 \
                 ORDER BY seq LIMIT $4",
            )
            .bind(site.to_owned())
            .bind(gateway.to_owned())
            .bind(to_sql(head(&walk).seq))
            .bind(to_sql(VERIFY_PAGE))
            .fetch_all(&self.db.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for (seq, bytes, hash) in rows {
                let seq = from_sql(seq);
                let Ok(bytes) = hex::decode(&bytes) else {
                    problem = Some(format!("event {seq}: its stored bytes are not hex"));
                    break 'pages;
                };
                let before = walk;
                if let Err(fault) = walk.step(seq, &bytes) {
                    problem = Some(format!("event {seq} {fault}"));
                    break 'pages;
                }
                if hex::encode(head(&walk).hash) != hash {
                    // Only events whose stored hash matches count as verified.
                    walk = before;
                    problem = Some(format!(
                        "event {seq}: its stored hash is not the hash of its bytes"
                    ));
                    break 'pages;
                }
            }
        }
        let head = head(&walk);
        if problem.is_none()
            && (to_sql(head.seq) != head_seq || hex::encode(head.hash) != head_hash)
        {
            problem = Some(format!(
                "the chain ends at event {} but the stored head is {head_seq}",
                head.seq
            ));
        }
        Ok(ChainReport {
            events: head.seq,
            problem,
        })
    }

    /// Logs a status message that is not one, with an alarm if the gateway is registered (a
    /// name nobody registered gets no row: anyone able to publish could invent any number).
    async fn refuse_status(&self, site: &str, gateway: &str, detail: &str) -> ServiceResult<()> {
        tracing::warn!(site, gateway, detail, "status message dropped");
        let registered: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM gateways WHERE site = $1 AND id = $2")
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_optional(&self.db.pool)
                .await?;
        if registered.is_some() {
            self.alarms()
                .raise_now(site, gateway, kind::BAD_MESSAGE, None, detail)
                .await?;
        }
        Ok(())
    }

    /// Records a status message: online or offline (with an alarm while offline), last seen.
    pub async fn take_status(
        &self,
        site: &str,
        gateway: &str,
        payload: &[u8],
    ) -> ServiceResult<Option<bool>> {
        if payload.len() > MAX_STATUS_BYTES {
            let detail = format!(
                "a status message of {} bytes on the gateway's status topic was dropped (a gateway \
                 sends well under {MAX_STATUS_BYTES}); another client may hold the gateway's broker \
                 credentials",
                payload.len()
            );
            self.refuse_status(site, gateway, &detail).await?;
            return Ok(None);
        }
        let Ok(status) = GatewayStatus::decode(payload) else {
            let detail =
                "a status message that is not a gateway's status (JSON with `online`) was \
                          dropped; another client may hold the gateway's broker credentials";
            self.refuse_status(site, gateway, detail).await?;
            return Ok(None);
        };
        let online = status.online;
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let was: Option<i64> =
            sqlx::query_scalar("SELECT online FROM gateways WHERE site = $1 AND id = $2")
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(was) = was else {
            tx.rollback().await?;
            tracing::debug!(site, gateway, "status of an unregistered gateway; ignored");
            return Ok(None);
        };
        // online_since: kept while online, set when it comes online, cleared when it goes.
        sqlx::query(
            "UPDATE gateways SET online = $1, status = $2, status_at = $3, last_seen = $3, \
             online_since = CASE WHEN $1 = 0 THEN NULL WHEN online = 1 AND online_since IS NOT NULL \
             THEN online_since ELSE $3 END, \
             lagging_since = CASE WHEN $1 = 0 THEN NULL ELSE lagging_since END \
             WHERE site = $4 AND id = $5",
        )
        .bind(i64::from(online))
        // As a gateway sent it (the same bytes for any status a gateway writes).
        .bind(String::from_utf8_lossy(&status.encode()).into_owned())
        .bind(now)
        .bind(site.to_owned())
        .bind(gateway.to_owned())
        .execute(&mut *tx)
        .await?;
        if online {
            Alarms::clear(&mut tx, site, gateway, kind::OFFLINE, None, now).await?;
        } else {
            Alarms::raise(&mut tx, site, gateway, kind::OFFLINE, None, "the gateway is offline (its last will, or it said goodbye); its doors keep working and its events wait in its outbox", now).await?;
        }
        tx.commit().await?;
        self.changed();
        Ok(Some(online && was == 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_statements_number_every_parameter_once() {
        let sql = insert_sql(2, crate::db::Backend::Postgres);
        assert!(sql.contains("($1, $2,") && sql.contains("$15), ($16,") && sql.ends_with("$30)"));
        let sql = insert_sql(2, crate::db::Backend::Sqlite);
        assert_eq!(sql.matches('?').count(), 2 * EVENT_COLUMNS);
    }
}
