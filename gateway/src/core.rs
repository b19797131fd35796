//! The core: the one place that decides and writes. It runs on its own thread (redb commits
//! block on fsync) and takes requests from the readers, the socket and the door tasks.
//!
//! Invariant: a door is told to open only after the transaction holding the entry (and its
//! outbox copy, proof counter and clock floor) has committed. Requests that arrive together
//! share one commit, so a burst costs one fsync, not one per presentation.
//!
//! Every grant is logged as its own event, always. A denial that repeats the one just logged
//! at the same door (same reason, same pass or none) within the denial window is counted in
//! memory instead, and the count is logged as one `DenialsRepeated` event when the window
//! ends, another decision at that door comes, or the gateway stops: so garbage at a reader
//! costs about one event per window, not one per presentation. A power cut loses at most
//! the count of one window (no door opened for any of them).

use crate::clock::Clock;
use crate::config::Config;
use crate::door::DoorCommand;
use crate::store::{Store, StoreError, Txn, ALL_DOORS};
use bygd_protocol::{
    decode_qr, open_command, open_pass, open_revocation_list, verify_presentation, AccessContext,
    Action, ClockQuality, CommandHistory, CommandId, CommandLimits, CommandOutcome, DoorId, Event,
    EventBody, MemberId, PassId, PassKind, Rejection, UnixTime, WeekTime, Weekday, MAX_QR_TEXT_LEN,
};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Requests that share one commit at most: bounds the latency a burst adds to its first
/// member while still folding a reader's burst into one fsync.
const MAX_REQUESTS_PER_COMMIT: usize = 64;

/// Seconds per hour, for the policy's hour-based settings.
const SECONDS_PER_HOUR: u64 = 3600;

/// How much longer the denial window is while the disk is below its watermark: a minute
/// becomes an hour, so a reader fed garbage costs 24 events a day. Grants are unaffected.
const LOW_DISK_WINDOW_FACTOR: u64 = 60;

/// Bytes per megabyte in the watermark setting (decimal, as disk sizes are sold).
const BYTES_PER_MB: u64 = 1_000_000;

/// Identical denials at one door being counted rather than logged one by one.
#[derive(Debug)]
struct DenialRun {
    reason: Rejection,
    pass_id: Option<PassId>,
    member: Option<MemberId>,
    /// The logged denial that started the run (what a folded presentation's reply names).
    seq: u64,
    /// Denials counted since the last event of this run (0: none waiting).
    count: u64,
    /// When the first and last counted denial happened.
    first: UnixTime,
    last: UnixTime,
}

/// What the core was asked.
#[derive(Debug)]
pub(crate) enum CoreRequest {
    /// A presentation at a door's reader.
    Present {
        /// The door.
        door: DoorId,
        /// The QR text as read.
        text: String,
        /// Where the decision goes.
        reply: oneshot::Sender<DecisionReply>,
    },
    /// Something a door did, to log.
    DoorEvent {
        /// The door.
        door: DoorId,
        /// What happened.
        body: EventBody,
    },
    /// Lockdown on or off, for one door or all.
    Lockdown {
        /// The door, or all.
        door: Option<DoorId>,
        /// On or off.
        on: bool,
        /// The logged event's sequence number, or an error.
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// A signed revocation list (full or delta) from a local file or, later, the uplink.
    Revocations {
        /// The list's COSE_Sign1 bytes.
        bytes: Vec<u8>,
        /// The applied version, or why it was refused.
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// A command from the dashboard, as received on the `cmd` topic.
    Command {
        /// The command's COSE_Sign1 bytes.
        bytes: Vec<u8>,
        /// Whether the broker delivered it as a retained message (never acted on).
        retained: bool,
    },
    /// The dashboard's verified ack: events up to `up_to` may leave the outbox.
    Ack {
        /// The last acknowledged sequence number.
        up_to: u64,
        /// Done, or the store error.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// An operator at the gateway sets the clock floor (`None`: to the system clock now).
    ResetClockFloor {
        /// The new floor, or the system clock's reading.
        to: Option<UnixTime>,
        /// What changed, or the store error.
        reply: oneshot::Sender<Result<FloorReset, String>>,
    },
    /// Finish the requests in hand, log counted denials, then stop.
    Stop,
    /// Periodic housekeeping: log counted denials whose window ended, check free disk space.
    Tick,
    /// A status snapshot of the core's own state.
    Status {
        /// Where it goes.
        reply: oneshot::Sender<CoreStatus>,
    },
}

/// A decision as `present` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionReply {
    /// "granted" or "denied".
    pub decision: &'static str,
    /// The denial reason code, if denied.
    pub reason: Option<&'static str>,
    /// The logged event's sequence number (none if the decision could not be logged, or if
    /// it is a repeated denial counted under `repeat_of`).
    pub seq: Option<u64>,
    /// A store error that prevented logging (the door stayed shut).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a denial that repeats the one logged as this event at the same door: it has no
    /// event of its own (`seq` is none) and is counted in a later "denials repeated" event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<u64>,
}

/// What a clock floor reset did, as the socket reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FloorReset {
    /// The floor before (unix seconds).
    pub old_floor: u64,
    /// The floor after, once the clock was read again (unix seconds).
    pub floor: u64,
    /// How far the clock is trusted now.
    pub clock: &'static str,
    /// The logged `clock` event's sequence number.
    pub seq: u64,
}

/// The core's state for status output.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CoreStatus {
    /// The last event's sequence number.
    pub head_seq: u64,
    /// Events waiting for the dashboard's ack.
    pub outbox: u64,
    /// The clock floor (unix seconds).
    pub clock_floor: u64,
    /// Doors (or "*") in lockdown.
    pub lockdowns: Vec<String>,
    /// The revocation list version held per issuer key id.
    pub revocation_versions: Vec<(String, u64)>,
    /// Whether the revocation list is older than the alarm threshold.
    pub revocation_stale: bool,
    /// Seconds since the newest revocation list was issued, if any was applied.
    pub revocation_age_seconds: Option<u64>,
    /// How far the clock was trusted at the last decision.
    pub clock: &'static str,
    /// Whether free disk space is below the configured watermark.
    pub disk_low: bool,
    /// Free bytes on the data directory's disk at the last check, if it could be read.
    pub free_disk_bytes: Option<u64>,
}

/// Delivered events trimmed per ack at most, so one ack never makes a long commit.
const MAX_TRIM_PER_COMMIT: usize = 10_000;

/// A command's replay state, read from the store before the checks.
struct KnownCommands {
    last_seq: Option<u64>,
    seen: bool,
}

impl CommandHistory for KnownCommands {
    fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }
    fn seen(&self, _: &CommandId) -> bool {
        self.seen
    }
}

/// What to do once a transaction has committed (or failed).
enum After {
    Decision {
        door: DoorId,
        reply: oneshot::Sender<DecisionReply>,
        reason: Option<Rejection>,
        grant: Option<Duration>,
        seq: u64,
        /// Counted in a run, not logged on its own: `seq` is the run's logged denial.
        folded: bool,
    },
    Lockdown {
        door: Option<DoorId>,
        on: bool,
        reply: oneshot::Sender<Result<u64, String>>,
        seq: u64,
    },
    Revocation {
        reply: oneshot::Sender<Result<u64, String>>,
        result: Result<u64, String>,
    },
    Ack {
        reply: oneshot::Sender<Result<(), String>>,
    },
    FloorReset {
        reply: oneshot::Sender<Result<FloorReset, String>>,
        reset: FloorReset,
    },
    Door {
        door: DoorId,
        command: DoorCommand,
    },
}

/// The core.
pub(crate) struct Core {
    config: Arc<Config>,
    store: Arc<Store>,
    clock: Clock,
    doors: HashMap<DoorId, mpsc::Sender<DoorCommand>>,
    lockdowns: BTreeSet<String>,
    /// Receives every event once it is durable (live views such as the demo's).
    observer: Option<tokio::sync::broadcast::Sender<Event>>,
    /// Per door, the run of identical denials being counted.
    runs: HashMap<DoorId, DenialRun>,
    /// Whether the disk-low alarm is raised.
    disk_low: bool,
    /// Free bytes at the last disk check.
    free_disk_bytes: Option<u64>,
}

/// The outcome of one presentation inside a transaction.
struct Decided {
    body: EventBody,
    grant: Option<Duration>,
}

impl Core {
    /// A core over an open store.
    pub(crate) fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        clock: Clock,
        doors: HashMap<DoorId, mpsc::Sender<DoorCommand>>,
    ) -> Result<Self, crate::store::StoreError> {
        let lockdowns = store.lockdowns()?.into_iter().collect();
        Ok(Self {
            config,
            store,
            clock,
            doors,
            lockdowns,
            observer: None,
            runs: HashMap::new(),
            disk_low: false,
            free_disk_bytes: None,
        })
    }

    /// Sends every event, once durable, to `observer` too.
    pub(crate) fn observe(&mut self, observer: Option<tokio::sync::broadcast::Sender<Event>>) {
        self.observer = observer;
    }

    fn publish(&self, events: Vec<Event>) {
        if let Some(observer) = &self.observer {
            for event in events {
                // No receiver is fine: nobody is watching right now.
                let _ = observer.send(event);
            }
        }
    }

    /// The denial window in seconds (0: every denial is logged), longer while the disk is low.
    fn denial_window(&self) -> u64 {
        let window = u64::from(self.config.policy.denial_window_seconds);
        if self.disk_low {
            window.saturating_mul(LOW_DISK_WINDOW_FACTOR)
        } else {
            window
        }
    }

    /// Logs the counted denials of `door`'s run, if any.
    fn log_run(
        run: &mut DenialRun,
        door: &DoorId,
        txn: &mut Txn<'_>,
        now: UnixTime,
        quality: ClockQuality,
    ) -> Result<(), StoreError> {
        if run.count > 0 {
            txn.append(
                now,
                quality,
                EventBody::DenialsRepeated {
                    door: door.clone(),
                    reason: run.reason,
                    pass_id: run.pass_id,
                    member: run.member.clone(),
                    count: run.count,
                    first: run.first,
                    last: run.last,
                },
            )?;
            tracing::info!(door = %door, reason = run.reason.code(), count = run.count, "repeated denials logged as one event");
            run.count = 0;
        }
        Ok(())
    }

    /// Counts a denial that repeats `door`'s run and returns the run's logged seq; or, for any
    /// other decision, logs the run's counted denials (so they come before it) and returns
    /// `None`: the caller logs the decision itself.
    fn fold(
        &mut self,
        txn: &mut Txn<'_>,
        body: &EventBody,
        now: UnixTime,
        quality: ClockQuality,
    ) -> Result<Option<u64>, StoreError> {
        let window = self.denial_window();
        let (door, same) = match body {
            EventBody::EntryDenied {
                door,
                reason,
                pass_id,
                ..
            } => (
                door,
                self.runs
                    .get(door)
                    .is_some_and(|r| r.reason == *reason && r.pass_id == *pass_id),
            ),
            EventBody::EntryGranted { door, .. } => (door, false),
            _ => return Ok(None),
        };
        let Some(mut run) = self.runs.remove(door) else {
            return Ok(None);
        };
        if same && window > 0 {
            if run.count > 0 && now.since(run.first) >= window {
                Self::log_run(&mut run, door, txn, now, quality)?;
            }
            // A run that went quiet for a whole window ends: the next denial is logged.
            if run.count > 0 || now.since(run.last) < window {
                if run.count == 0 {
                    run.first = now;
                }
                run.count += 1;
                run.last = now;
                let seq = run.seq;
                self.runs.insert(door.clone(), run);
                return Ok(Some(seq));
            }
        }
        Self::log_run(&mut run, door, txn, now, quality)?;
        Ok(None)
    }

    /// Logs every run's counted denials whose window ended (all of them if `all`) and
    /// forgets runs that went quiet.
    fn flush_runs(
        &mut self,
        txn: &mut Txn<'_>,
        now: UnixTime,
        quality: ClockQuality,
        all: bool,
    ) -> Result<(), StoreError> {
        let window = self.denial_window();
        let mut doors: Vec<DoorId> = self.runs.keys().cloned().collect();
        doors.sort();
        for door in doors {
            let Some(mut run) = self.runs.remove(&door) else {
                continue;
            };
            if all || (run.count > 0 && now.since(run.first) >= window) {
                Self::log_run(&mut run, &door, txn, now, quality)?;
            }
            if !all && now.since(run.last) < window {
                self.runs.insert(door, run);
            }
        }
        Ok(())
    }

    /// Reads free space on the data directory's disk and raises or clears the disk-low alarm
    /// (an event) when it crosses the watermark.
    fn check_disk(
        &mut self,
        txn: &mut Txn<'_>,
        now: UnixTime,
        quality: ClockQuality,
    ) -> Result<(), StoreError> {
        let watermark = self
            .config
            .policy
            .min_free_disk_mb
            .saturating_mul(BYTES_PER_MB);
        if watermark == 0 {
            return Ok(());
        }
        let free = match rustix::fs::statvfs(&self.config.data_dir) {
            Ok(s) => s.f_bavail.saturating_mul(s.f_frsize),
            Err(e) => {
                tracing::warn!(dir = %self.config.data_dir.display(), error = %e, "cannot read free disk space");
                return Ok(());
            }
        };
        self.free_disk_bytes = Some(free);
        let low = free < watermark;
        if low != self.disk_low {
            txn.append(
                now,
                quality,
                EventBody::DiskLow {
                    raised: low,
                    free_bytes: free,
                },
            )?;
            if low {
                tracing::warn!(free_bytes = free, watermark_bytes = watermark, "disk space below the watermark: grants are still logged, repeated denials are folded over a longer window");
            } else {
                tracing::info!(free_bytes = free, "disk space above the watermark again");
            }
            self.disk_low = low;
        }
        Ok(())
    }

    /// Whether lockdown is on for a door.
    #[must_use]
    pub(crate) fn in_lockdown(&self, door: &DoorId) -> bool {
        self.lockdowns.contains(ALL_DOORS) || self.lockdowns.contains(door.as_str())
    }

    /// Appends one event in its own transaction (start-up, shutdown).
    pub(crate) fn log(&mut self, body: EventBody) -> Result<u64, crate::store::StoreError> {
        let (now, quality) = self.now();
        let mut txn = self.store.begin()?;
        let seq = txn.append(now, quality, body)?;
        txn.set_clock_floor(self.clock.floor())?;
        let (_, events) = txn.commit_events()?;
        self.publish(events);
        Ok(seq)
    }

    fn now(&mut self) -> (UnixTime, ClockQuality) {
        // The flag's age, not its existence: timesyncd touches it at every synchronisation
        // and never removes it while the system runs.
        let touched = std::fs::metadata(&self.config.clock_sync_file)
            .and_then(|m| m.modified())
            .ok();
        let synced = crate::clock::os_sync_is_fresh(touched, std::time::SystemTime::now());
        self.clock
            .now(system_time(), synced, std::time::Instant::now())
    }

    /// Sets the clock floor to `to` (an operator's correction), logs a `clock` event with the
    /// floor and quality after reading the clock again, and returns what changed.
    fn reset_floor(
        &mut self,
        txn: &mut Txn<'_>,
        to: UnixTime,
        now: UnixTime,
    ) -> Result<FloorReset, StoreError> {
        let old = self.clock.reset(to, std::time::Instant::now());
        txn.reset_clock_floor(to)?;
        // A clock that is still synchronised to a wrong time takes the floor straight back:
        // the event says so, and the operator fixes the time source first.
        let (_, quality) = self.now();
        let floor = self.clock.floor();
        let seq = txn.append(now, quality, EventBody::ClockChanged { quality, floor })?;
        tracing::warn!(
            old_floor = old.0,
            requested = to.0,
            floor = floor.0,
            clock = quality.name(),
            seq,
            "clock floor reset"
        );
        Ok(FloorReset {
            old_floor: old.0,
            floor: floor.0,
            clock: quality.name(),
            seq,
        })
    }

    /// Serves requests until every sender is gone.
    pub(crate) fn run(mut self, mut requests: mpsc::Receiver<CoreRequest>) {
        while let Some(first) = requests.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_REQUESTS_PER_COMMIT {
                match requests.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let stop = batch.iter().any(|r| matches!(r, CoreRequest::Stop));
            self.process(batch);
            if stop {
                break;
            }
        }
        tracing::info!("core stopped");
    }

    fn local_time(&self, now: UnixTime) -> WeekTime {
        let zoned = jiff::Timestamp::from_second(i64::try_from(now.0).unwrap_or(i64::MAX))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(self.config.time_zone.clone());
        let day = Weekday::from_index(zoned.weekday().to_monday_zero_offset().unsigned_abs())
            .unwrap_or(Weekday::Monday);
        let minute =
            u16::try_from(i32::from(zoned.hour()) * 60 + i32::from(zoned.minute())).unwrap_or(0);
        WeekTime { day, minute }
    }

    fn revocation_age(&self, now: UnixTime) -> Option<u64> {
        let versions = self.store.revocation_versions().ok()?;
        versions
            .iter()
            .map(|(_, _, issued, _)| now.since(*issued))
            .min()
    }

    fn revocations_too_old(&self, now: UnixTime) -> bool {
        let hours = u64::from(self.config.policy.revocation_refuse_after_hours);
        hours != 0
            && self
                .revocation_age(now)
                .is_none_or(|age| age > hours * SECONDS_PER_HOUR)
    }

    /// `lockdowns` are the lockdowns as of this point in the transaction: a lockdown logged
    /// earlier in the same commit already refuses entry.
    fn decide(
        &self,
        txn: &mut Txn<'_>,
        door: &DoorId,
        text: &str,
        now: UnixTime,
        local: WeekTime,
        lockdowns: &BTreeSet<String>,
    ) -> Decided {
        let deny = |reason: Rejection| Decided {
            body: EventBody::EntryDenied {
                door: door.clone(),
                reason,
                pass_id: None,
                member: None,
            },
            grant: None,
        };
        let Some(door_config) = self.config.door(door) else {
            return deny(Rejection::UnknownDoor);
        };
        if text.len() > MAX_QR_TEXT_LEN {
            return deny(Rejection::TooLarge);
        }
        let presentation = match decode_qr(text) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(door = %door, error = %e, "presentation does not decode");
                return deny(Rejection::from(&e));
            }
        };
        let at = AccessContext {
            site: &self.config.site,
            door,
            now,
            local,
        };
        let skew = u64::from(self.config.policy.proof_skew_seconds);
        let verified = {
            let lookups = txn.revocations(&self.config.issuers);
            verify_presentation(
                &presentation,
                &self.config.issuers,
                &lookups,
                &lookups,
                &at,
                skew,
            )
        };
        let verified = match verified {
            Ok(v) => v,
            Err(refusal) => {
                let reason = refusal.rejection();
                // For refusals after the signature check, name the pass in the log (a second
                // signature check, on the rare denial path only).
                let pass = open_pass(&presentation.pass, &self.config.issuers).ok();
                return Decided {
                    body: EventBody::EntryDenied {
                        door: door.clone(),
                        reason,
                        pass_id: pass.as_ref().map(|p| p.claims.pass_id),
                        member: pass.map(|p| p.claims.member),
                    },
                    grant: None,
                };
            }
        };
        let claims = &verified.pass.claims;
        let denied = |reason| Decided {
            body: EventBody::EntryDenied {
                door: door.clone(),
                reason,
                pass_id: Some(claims.pass_id),
                member: Some(claims.member.clone()),
            },
            grant: None,
        };
        if claims.kind != PassKind::BreakGlass && self.revocations_too_old(now) {
            return denied(Rejection::RevocationListStale);
        }
        if lockdowns.contains(ALL_DOORS) || lockdowns.contains(door.as_str()) {
            return denied(Rejection::Lockdown);
        }
        if let Some(used) = &verified.proof {
            if let Err(e) = txn.record_proof(used) {
                tracing::error!(error = %e, "cannot record device proof; refusing entry");
                return denied(Rejection::ReplayedProof);
            }
        }
        Decided {
            body: EventBody::EntryGranted {
                door: door.clone(),
                pass_id: claims.pass_id,
                member: claims.member.clone(),
                kind: claims.kind,
                device_bound: verified.proof.is_some(),
            },
            grant: Some(Duration::from_secs(door_config.unlock_seconds.into())),
        }
    }

    /// Verifies and applies a signed revocation list inside `txn`, logging the outcome.
    /// The same full list again (a retained message re-delivered) changes and logs nothing.
    ///
    /// Order (SPEC.md section 8): signature and shape; the site the list was signed for,
    /// before anything about versions, so another site's list can neither replace this
    /// site's nor make its next one look like a rollback; the operator's version floor
    /// (`revocation_min_version`, which survives a fresh store); then the store's own
    /// rollback and delta checks. Every refusal is a signed event the dashboard receives.
    fn apply_revocation(
        &self,
        txn: &mut Txn<'_>,
        bytes: &[u8],
        now: UnixTime,
        quality: ClockQuality,
    ) -> Result<Result<u64, (Option<u64>, Rejection)>, StoreError> {
        let (version, outcome) = match open_revocation_list(bytes, &self.config.issuers) {
            Err(refusal) => {
                tracing::warn!(reason = %refusal, "revocation list refused");
                (None, Err(refusal.rejection()))
            }
            Ok((issuer, list)) => {
                let floor = self
                    .config
                    .policy
                    .revocation_min_version
                    .max(txn.revocation_floor()?);
                if let Err(reason) = list.check_site(&self.config.site) {
                    tracing::warn!(
                        site = %self.config.site,
                        list_site = %list.site,
                        version = list.version,
                        reason = reason.code(),
                        "revocation list refused: it was signed for another site"
                    );
                    (Some(list.version), Err(reason))
                } else if list.base.is_none()
                    && txn.revocation_version(issuer)? == Some(list.version)
                {
                    return Ok(Ok(list.version));
                } else if list.version < floor {
                    tracing::warn!(
                        version = list.version,
                        min_version = floor,
                        reason = Rejection::Rollback.code(),
                        "revocation list refused: below the configured minimum version"
                    );
                    (Some(list.version), Err(Rejection::Rollback))
                } else {
                    let outcome = txn.apply_revocations(issuer, &list)?;
                    if let Err(reason) = outcome {
                        tracing::warn!(
                            version = list.version,
                            base = ?list.base,
                            reason = reason.code(),
                            "revocation list refused"
                        );
                    }
                    (Some(list.version), outcome)
                }
            }
        };
        Ok(match outcome {
            Ok(()) => {
                let version = version.unwrap_or_default();
                txn.append(now, quality, EventBody::RevocationApplied { version })?;
                Ok(version)
            }
            Err(reason) => {
                txn.append(
                    now,
                    quality,
                    EventBody::RevocationRefused { version, reason },
                )?;
                Err((version, reason))
            }
        })
    }

    /// Verifies and carries out a command inside `txn`; returns what the result event says.
    /// Door moves wait in `after` for the commit.
    #[allow(clippy::too_many_arguments)]
    fn command(
        &mut self,
        txn: &mut Txn<'_>,
        bytes: &[u8],
        retained: bool,
        now: UnixTime,
        quality: ClockQuality,
        lockdowns: &mut BTreeSet<String>,
        after: &mut Vec<After>,
    ) -> Result<(CommandId, u64, CommandOutcome), StoreError> {
        let refused = |r| CommandOutcome::Refused(r);
        let command = match open_command(bytes, &self.config.issuers) {
            Ok(command) => command,
            Err(refusal) => {
                tracing::warn!(reason = %refusal, "command refused");
                return Ok((CommandId::default(), 0, refused(refusal.rejection())));
            }
        };
        let (id, seq) = (command.id, command.seq);
        if retained {
            tracing::warn!(command = %id, "retained command refused: commands are never taken from retained messages");
            return Ok((id, seq, refused(Rejection::RetainedCommand)));
        }
        let history = KnownCommands {
            last_seq: txn.command_seq()?,
            seen: txn.command_seen(&id)?,
        };
        if let Err(reason) = command.check(
            &self.config.site,
            &self.config.gateway,
            now,
            &history,
            CommandLimits::default(),
        ) {
            tracing::warn!(command = %id, seq, reason = reason.code(), "command refused");
            return Ok((id, seq, refused(reason)));
        }
        txn.record_command(seq, &id, command.expires)?;
        let in_lockdown =
            |l: &BTreeSet<String>, d: &DoorId| l.contains(ALL_DOORS) || l.contains(d.as_str());
        let outcome = match command.action {
            Action::Unlock { door, seconds } => {
                if self.config.door(&door).is_none() {
                    refused(Rejection::UnknownDoor)
                } else if in_lockdown(lockdowns, &door) {
                    refused(Rejection::Lockdown)
                } else {
                    after.push(After::Door {
                        door,
                        command: DoorCommand::Grant(Duration::from_secs(seconds.into())),
                    });
                    CommandOutcome::Done
                }
            }
            Action::Lockdown { door, on } => match &door {
                Some(d) if self.config.door(d).is_none() => refused(Rejection::UnknownDoor),
                _ => {
                    let key = door
                        .as_ref()
                        .map_or(ALL_DOORS.to_owned(), ToString::to_string);
                    txn.set_lockdown(&key, on)?;
                    if on {
                        lockdowns.insert(key);
                    } else {
                        lockdowns.remove(&key);
                    }
                    txn.append(
                        now,
                        quality,
                        EventBody::Lockdown {
                            door: door.clone(),
                            on,
                        },
                    )?;
                    for (d, _) in &self.config.doors {
                        if door.as_ref().is_none_or(|x| x == d) {
                            after.push(After::Door {
                                door: d.clone(),
                                command: DoorCommand::Lockdown(in_lockdown(lockdowns, d)),
                            });
                        }
                    }
                    CommandOutcome::Done
                }
            },
            Action::TimeBeacon { time } => {
                self.clock.beacon(time, std::time::Instant::now());
                txn.set_clock_floor(time)?;
                CommandOutcome::Done
            }
            Action::SetClockFloor { floor } => {
                self.reset_floor(txn, floor, now)?;
                CommandOutcome::Done
            }
            Action::Revocation { list } => match self.apply_revocation(txn, &list, now, quality)? {
                Ok(_) => CommandOutcome::Done,
                Err((_, reason)) => refused(reason),
            },
        };
        tracing::info!(command = %id, seq, outcome = ?outcome, "command");
        Ok((id, seq, outcome))
    }

    fn process(&mut self, batch: Vec<CoreRequest>) {
        let (now, quality) = self.now();
        let local = self.local_time(now);
        // The transaction borrows this handle, not `self`, so the request handlers may change
        // the core's own state (the clock on a time beacon) while it is open.
        let store = self.store.clone();
        let mut txn = match store.begin() {
            Ok(txn) => txn,
            Err(e) => return self.fail(batch, &e.to_string()),
        };
        let mut after = Vec::new();
        let mut failure: Option<String> = None;
        let mut pending_lockdowns = self.lockdowns.clone();
        let mut requests = Vec::new();
        let head_before = txn.head().seq;
        // Whether the batch wrote anything besides events (an ack), and whether it held
        // anything that may need no commit at all (folded denials, housekeeping).
        let mut wrote = false;
        let mut quiet = false;
        for request in batch {
            if failure.is_some() {
                requests.push(request);
                continue;
            }
            let result: Result<(), crate::store::StoreError> = (|| {
                match request {
                    CoreRequest::Present { door, text, reply } => {
                        let decided =
                            self.decide(&mut txn, &door, &text, now, local, &pending_lockdowns);
                        let reason = match &decided.body {
                            EventBody::EntryDenied { reason, .. } => Some(*reason),
                            _ => None,
                        };
                        if let Some(seq) = self.fold(&mut txn, &decided.body, now, quality)? {
                            quiet = true;
                            after.push(After::Decision {
                                door,
                                reply,
                                reason,
                                grant: None,
                                seq,
                                folded: true,
                            });
                            return Ok(());
                        }
                        let run = match &decided.body {
                            EventBody::EntryDenied {
                                reason,
                                pass_id,
                                member,
                                ..
                            } => Some(DenialRun {
                                reason: *reason,
                                pass_id: *pass_id,
                                member: member.clone(),
                                seq: 0,
                                count: 0,
                                first: now,
                                last: now,
                            }),
                            _ => None,
                        };
                        let seq = txn.append(now, quality, decided.body)?;
                        // Runs are kept for configured doors only, so the map stays as small
                        // as the site.
                        if let Some(run) = run.filter(|_| self.config.door(&door).is_some()) {
                            self.runs.insert(door.clone(), DenialRun { seq, ..run });
                        }
                        after.push(After::Decision {
                            door,
                            reply,
                            reason,
                            grant: decided.grant,
                            seq,
                            folded: false,
                        });
                    }
                    CoreRequest::DoorEvent { door: _, body } => {
                        txn.append(now, quality, body)?;
                    }
                    CoreRequest::Lockdown { door, on, reply } => {
                        let key = door
                            .as_ref()
                            .map_or(ALL_DOORS.to_owned(), |d| d.to_string());
                        txn.set_lockdown(&key, on)?;
                        if on {
                            pending_lockdowns.insert(key);
                        } else {
                            pending_lockdowns.remove(&key);
                        }
                        let seq = txn.append(
                            now,
                            quality,
                            EventBody::Lockdown {
                                door: door.clone(),
                                on,
                            },
                        )?;
                        after.push(After::Lockdown {
                            door,
                            on,
                            reply,
                            seq,
                        });
                    }
                    CoreRequest::Stop => self.flush_runs(&mut txn, now, quality, true)?,
                    CoreRequest::ResetClockFloor { to, reply } => {
                        let to = to.unwrap_or_else(system_time);
                        let reset = self.reset_floor(&mut txn, to, now)?;
                        after.push(After::FloorReset { reply, reset });
                    }
                    CoreRequest::Tick => {
                        quiet = true;
                        self.flush_runs(&mut txn, now, quality, false)?;
                        self.check_disk(&mut txn, now, quality)?;
                    }
                    CoreRequest::Ack { up_to, reply } => {
                        wrote = true;
                        txn.ack(up_to)?;
                        let retention = u64::from(self.config.policy.retention_days) * 86_400;
                        txn.trim_delivered(now.minus(retention), MAX_TRIM_PER_COMMIT)?;
                        txn.prune_command_ids(now)?;
                        after.push(After::Ack { reply });
                    }
                    CoreRequest::Command { bytes, retained } => {
                        let (id, seq, outcome) = self.command(
                            &mut txn,
                            &bytes,
                            retained,
                            now,
                            quality,
                            &mut pending_lockdowns,
                            &mut after,
                        )?;
                        txn.append(
                            now,
                            quality,
                            EventBody::CommandResult {
                                command: id,
                                seq,
                                outcome,
                            },
                        )?;
                    }
                    CoreRequest::Revocations { bytes, reply } => {
                        let result = self
                            .apply_revocation(&mut txn, &bytes, now, quality)?
                            .map_err(|(_, reason)| reason.to_string());
                        after.push(After::Revocation { reply, result });
                    }
                    CoreRequest::Status { reply } => {
                        let head = txn.head();
                        let stale_hours =
                            u64::from(self.config.policy.revocation_alarm_after_hours);
                        let _ = reply.send(CoreStatus {
                            head_seq: head.seq,
                            outbox: self.store.outbox_len().unwrap_or(0),
                            clock_floor: self.clock.floor().0,
                            lockdowns: pending_lockdowns.iter().cloned().collect(),
                            revocation_versions: self
                                .store
                                .revocation_versions()
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(k, v, _, _)| (k.to_string(), v))
                                .collect(),
                            revocation_age_seconds: self.revocation_age(now),
                            clock: quality.name(),
                            revocation_stale: self
                                .revocation_age(now)
                                .is_none_or(|a| a > stale_hours * SECONDS_PER_HOUR),
                            disk_low: self.disk_low,
                            free_disk_bytes: self.free_disk_bytes,
                        });
                    }
                }
                Ok(())
            })();
            if let Err(e) = result {
                failure = Some(e.to_string());
            }
        }
        let committed = match failure {
            Some(e) => Err(e),
            // Only folded denials and housekeeping that logged nothing: no write, no fsync,
            // which is the point of folding them.
            None if quiet && !wrote && txn.head().seq == head_before => {
                let head = txn.head();
                drop(txn);
                Ok((head, Vec::new()))
            }
            // The clock's floor, not `now`: a reset in this batch may have lowered it.
            None => txn
                .set_clock_floor(self.clock.floor())
                .and_then(|()| txn.commit_events())
                .map_err(|e| e.to_string()),
        };
        match committed {
            Ok((_, events)) => {
                self.publish(events);
                self.lockdowns = pending_lockdowns;
                for item in after {
                    match item {
                        After::Decision {
                            door,
                            reply,
                            reason,
                            grant,
                            seq,
                            folded,
                        } => {
                            let command = grant.map_or(DoorCommand::Deny, DoorCommand::Grant);
                            self.tell_door(&door, command);
                            tracing::info!(door = %door, seq, granted = grant.is_some(), reason = reason.map(|r| r.code()), repeat = folded, "decision");
                            let _ = reply.send(DecisionReply {
                                decision: if grant.is_some() { "granted" } else { "denied" },
                                reason: reason.map(Rejection::code),
                                seq: (!folded).then_some(seq),
                                error: None,
                                repeat_of: folded.then_some(seq),
                            });
                        }
                        After::Lockdown {
                            door,
                            on,
                            reply,
                            seq,
                        } => {
                            match &door {
                                Some(d) => {
                                    self.tell_door(d, DoorCommand::Lockdown(self.in_lockdown(d)))
                                }
                                None => {
                                    for (d, tx) in &self.doors {
                                        let _ = tx.try_send(DoorCommand::Lockdown(
                                            self.lockdowns.contains(ALL_DOORS)
                                                || self.lockdowns.contains(d.as_str()),
                                        ));
                                    }
                                }
                            }
                            tracing::warn!(
                                door = door.as_ref().map(DoorId::as_str).unwrap_or(ALL_DOORS),
                                on,
                                seq,
                                "lockdown changed"
                            );
                            let _ = reply.send(Ok(seq));
                        }
                        After::Revocation { reply, result } => {
                            match &result {
                                Ok(version) => tracing::info!(version, "revocation list applied"),
                                Err(why) => tracing::warn!(%why, "revocation list refused"),
                            }
                            let _ = reply.send(result);
                        }
                        After::Ack { reply } => {
                            let _ = reply.send(Ok(()));
                        }
                        After::FloorReset { reply, reset } => {
                            let _ = reply.send(Ok(reset));
                        }
                        After::Door { door, command } => self.tell_door(&door, command),
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store write failed; doors stay shut");
                for item in after {
                    match item {
                        After::Decision { door, reply, .. } => {
                            self.tell_door(&door, DoorCommand::Deny);
                            let _ = reply.send(failed(&e));
                        }
                        After::Lockdown { reply, .. } | After::Revocation { reply, .. } => {
                            let _ = reply.send(Err(e.clone()));
                        }
                        After::Ack { reply } => {
                            let _ = reply.send(Err(e.clone()));
                        }
                        After::FloorReset { reply, .. } => {
                            let _ = reply.send(Err(e.clone()));
                        }
                        After::Door { .. } => {}
                    }
                }
                self.fail(requests, &e);
            }
        }
    }

    fn tell_door(&self, door: &DoorId, command: DoorCommand) {
        if let Some(tx) = self.doors.get(door) {
            if tx.try_send(command).is_err() {
                tracing::error!(door = %door, ?command, "door task is not taking commands");
            }
        }
    }

    fn fail(&self, batch: Vec<CoreRequest>, error: &str) {
        for request in batch {
            match request {
                CoreRequest::Present { reply, .. } => {
                    let _ = reply.send(failed(error));
                }
                CoreRequest::Lockdown { reply, .. } | CoreRequest::Revocations { reply, .. } => {
                    let _ = reply.send(Err(error.to_owned()));
                }
                CoreRequest::Ack { reply, .. } => {
                    let _ = reply.send(Err(error.to_owned()));
                }
                CoreRequest::ResetClockFloor { reply, .. } => {
                    let _ = reply.send(Err(error.to_owned()));
                }
                CoreRequest::Command { .. } => {
                    tracing::error!(%error, "command could not be processed (the dashboard will see no result and may resend)");
                }
                CoreRequest::DoorEvent { door, body } => {
                    tracing::error!(door = %door, event = ?body, %error, "door event could not be logged");
                }
                CoreRequest::Status { .. } | CoreRequest::Stop | CoreRequest::Tick => {}
            }
        }
    }
}

/// The system clock in whole Unix seconds (0 if it is before 1970).
fn system_time() -> UnixTime {
    UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

fn failed(error: &str) -> DecisionReply {
    DecisionReply {
        decision: "denied",
        reason: None,
        seq: None,
        error: Some(format!("the decision could not be logged: {error}")),
        repeat_of: None,
    }
}
