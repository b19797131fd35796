//! The core: the driver of the gate. It runs on its own thread (redb commits block on fsync),
//! takes requests from the readers, the socket, the uplink and the door tasks, and for each
//! batch of them: reads the clock and the OS's sync flag (and, for housekeeping, the free disk
//! space), asks the gate, applies the writes it returns, commits once, and only then moves
//! relays and answers. What is decided, and why, is the gate's (`gate`); this file does the
//! I/O around it.
//!
//! Invariant: a door is told to open only after the transaction holding the entry (and its
//! outbox copy, proof counter and clock floor) has committed. Requests that arrive together
//! share one commit, so a burst costs one fsync, not one per presentation.

use crate::clock::{os_sync_is_fresh, Clock};
use crate::config::Config;
use crate::door::DoorCommand;
use crate::gate::{Answer, Decision, Gate, Outcome, Reading, Request, StatusFacts, Write};
use crate::metrics::Decisions;
use crate::store::{Store, StoreError, Txn};
use bygd_protocol::{DoorId, Event, EventBody, Rejection, UnixTime};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub(crate) use crate::gate::{CoreStatus, FloorReset};

/// Requests that share one commit at most: bounds the latency a burst adds to its first
/// member while still folding a reader's burst into one fsync.
const MAX_REQUESTS_PER_COMMIT: usize = 64;

/// Why the core could not do what it was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CoreError {
    /// The store failed: nothing of the batch became durable and no door moved.
    #[error("{0}")]
    Store(Arc<StoreError>),
    /// A revocation list was refused (and the refusal logged).
    #[error("{0}")]
    Refused(Rejection),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        CoreError::Store(Arc::new(e))
    }
}

/// What the core was asked, and where the answer goes.
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
        /// The logged event's sequence number.
        reply: oneshot::Sender<Result<u64, CoreError>>,
    },
    /// A signed revocation list (full or delta) from a local file or the uplink.
    Revocations {
        /// The list's COSE_Sign1 bytes.
        bytes: Vec<u8>,
        /// The applied version, or why it was refused.
        reply: oneshot::Sender<Result<u64, CoreError>>,
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
        /// Done.
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// An operator at the gateway sets the clock floor (`None`: to the system clock now).
    ResetClockFloor {
        /// The new floor, or the system clock's reading.
        to: Option<UnixTime>,
        /// What changed.
        reply: oneshot::Sender<Result<FloorReset, CoreError>>,
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

impl From<&Decision> for DecisionReply {
    fn from(d: &Decision) -> Self {
        DecisionReply {
            decision: if d.grant.is_some() {
                "granted"
            } else {
                "denied"
            },
            reason: d.reason.map(Rejection::code),
            seq: (!d.folded).then_some(d.seq),
            error: None,
            repeat_of: d.folded.then_some(d.seq),
        }
    }
}

impl DecisionReply {
    /// A decision that could not be logged: denied, the door stayed shut.
    fn failed(error: &CoreError) -> Self {
        DecisionReply {
            decision: "denied",
            reason: None,
            seq: None,
            error: Some(format!("the decision could not be logged: {error}")),
            repeat_of: None,
        }
    }
}

/// Where a request's answer goes.
enum Reply {
    Decision(oneshot::Sender<DecisionReply>),
    Seq(oneshot::Sender<Result<u64, CoreError>>),
    Done(oneshot::Sender<Result<(), CoreError>>),
    FloorReset(oneshot::Sender<Result<FloorReset, CoreError>>),
    Status(oneshot::Sender<CoreStatus>),
    /// A command: nobody waits, but a failure is logged.
    Command,
    /// A door event: nobody waits, but a failure is logged with the event.
    DoorEvent(DoorId, EventBody),
    /// Housekeeping.
    None,
}

impl Reply {
    /// Sends `answer` once the batch committed (or at once, for status); a decision is
    /// counted in `decisions` as it is answered.
    fn answer(self, answer: Answer, decisions: &Decisions) {
        // No receiver is fine: the requester gave up (a closed socket, a stopping uplink).
        match (self, answer) {
            (Reply::Decision(tx), Answer::Decision(d)) => {
                let reply = DecisionReply::from(&d);
                decisions.count(&reply);
                let _ = tx.send(reply);
            }
            (Reply::Seq(tx), Answer::Lockdown { seq, .. }) => {
                let _ = tx.send(Ok(seq));
            }
            (Reply::Seq(tx), Answer::RevocationList(result)) => {
                let _ = tx.send(result.map_err(CoreError::Refused));
            }
            (Reply::Done(tx), Answer::Done) => {
                let _ = tx.send(Ok(()));
            }
            (Reply::FloorReset(tx), Answer::FloorReset(reset)) => {
                let _ = tx.send(Ok(reset));
            }
            (Reply::Status(tx), Answer::Status(status)) => {
                let _ = tx.send(status);
            }
            (Reply::Command | Reply::DoorEvent(..) | Reply::None, _) => {}
            (_, answer) => tracing::error!(?answer, "an answer of another kind; dropped"),
        }
    }

    /// Tells the requester the batch failed (a decision: denied, and counted so).
    fn fail(self, error: &CoreError, decisions: &Decisions) {
        match self {
            Reply::Decision(tx) => {
                let reply = DecisionReply::failed(error);
                decisions.count(&reply);
                let _ = tx.send(reply);
            }
            Reply::Seq(tx) => {
                let _ = tx.send(Err(error.clone()));
            }
            Reply::Done(tx) => {
                let _ = tx.send(Err(error.clone()));
            }
            Reply::FloorReset(tx) => {
                let _ = tx.send(Err(error.clone()));
            }
            Reply::Command => {
                tracing::error!(%error, "command could not be processed (the dashboard will see no result and may resend)");
            }
            Reply::DoorEvent(door, body) => {
                tracing::error!(door = %door, event = ?body, %error, "door event could not be logged");
            }
            Reply::Status(_) | Reply::None => {}
        }
    }
}

/// A decided request waiting for the commit.
struct Pending {
    reply: Reply,
    answer: Answer,
    doors: Vec<(DoorId, DoorCommand)>,
}

/// The core.
pub(crate) struct Core {
    config: Arc<Config>,
    store: Arc<Store>,
    gate: Gate,
    doors: HashMap<DoorId, mpsc::Sender<DoorCommand>>,
    /// Receives every event once it is durable (live views such as the demo's).
    observer: Option<tokio::sync::broadcast::Sender<Event>>,
    /// Decisions answered, by outcome and reason, for the metrics page.
    decisions: Arc<Decisions>,
}

impl Core {
    /// A core over an open store.
    pub(crate) fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        clock: Clock,
        doors: HashMap<DoorId, mpsc::Sender<DoorCommand>>,
    ) -> Result<Self, StoreError> {
        let gate = Gate::new(config.clone(), clock, store.lockdowns()?);
        Ok(Self {
            config,
            store,
            gate,
            doors,
            observer: None,
            decisions: Arc::default(),
        })
    }

    /// The counters this core bumps as it answers decisions.
    pub(crate) fn decisions(&self) -> Arc<Decisions> {
        self.decisions.clone()
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

    /// The system clock, the OS's sync flag and the monotonic clock, now.
    fn read_clock(&self) -> Reading {
        // The flag's age, not its existence: timesyncd touches it at every synchronisation
        // and never removes it while the system runs.
        let touched = std::fs::metadata(&self.config.clock_sync_file)
            .and_then(|m| m.modified())
            .ok();
        Reading {
            system: system_time(),
            os_synced: os_sync_is_fresh(touched, std::time::SystemTime::now()),
            monotonic: std::time::Instant::now(),
        }
    }

    /// Free bytes on the data directory's disk, if the gate watches it and it can be read.
    fn read_free_disk(&self) -> Option<u64> {
        if !self.gate.watches_disk() {
            return None;
        }
        match rustix::fs::statvfs(&self.config.data_dir) {
            Ok(s) => Some(s.f_bavail.saturating_mul(s.f_frsize)),
            Err(e) => {
                tracing::warn!(dir = %self.config.data_dir.display(), error = %e, "cannot read free disk space");
                None
            }
        }
    }

    /// Appends one event in its own transaction (start-up, shutdown).
    pub(crate) fn log(&mut self, body: EventBody) -> Result<u64, StoreError> {
        let batch = self.gate.begin(self.read_clock());
        let mut txn = self.store.begin()?;
        let seq = txn.append(batch.now, batch.quality, body)?;
        txn.set_clock_floor(self.gate.clock_floor())?;
        let (_, events) = txn.commit_events()?;
        self.publish(events);
        Ok(seq)
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

    /// What the gate is asked, and where its answer goes; reads what the gate may not.
    fn split(&self, request: CoreRequest) -> (Request, Reply) {
        match request {
            CoreRequest::Present { door, text, reply } => {
                (Request::Present { door, text }, Reply::Decision(reply))
            }
            CoreRequest::DoorEvent { door, body } => (
                Request::DoorEvent(body.clone()),
                Reply::DoorEvent(door, body),
            ),
            CoreRequest::Lockdown { door, on, reply } => {
                (Request::Lockdown { door, on }, Reply::Seq(reply))
            }
            CoreRequest::Revocations { bytes, reply } => {
                (Request::RevocationList(bytes), Reply::Seq(reply))
            }
            CoreRequest::Command { bytes, retained } => {
                (Request::Command { bytes, retained }, Reply::Command)
            }
            CoreRequest::Ack { up_to, reply } => (Request::Ack { up_to }, Reply::Done(reply)),
            CoreRequest::ResetClockFloor { to, reply } => {
                (Request::ResetClockFloor { to }, Reply::FloorReset(reply))
            }
            CoreRequest::Stop => (Request::Stop, Reply::None),
            CoreRequest::Tick => (
                Request::Tick {
                    free_disk_bytes: self.read_free_disk(),
                },
                Reply::None,
            ),
            CoreRequest::Status { reply } => (
                Request::Status(StatusFacts {
                    outbox: self.store.outbox_len().unwrap_or(0),
                    revocation_versions: self.store.revocation_versions().unwrap_or_default(),
                }),
                Reply::Status(reply),
            ),
        }
    }

    /// A request unprocessed because the batch failed before it.
    fn reply_of(request: CoreRequest) -> Reply {
        match request {
            CoreRequest::Present { reply, .. } => Reply::Decision(reply),
            CoreRequest::Lockdown { reply, .. } | CoreRequest::Revocations { reply, .. } => {
                Reply::Seq(reply)
            }
            CoreRequest::Ack { reply, .. } => Reply::Done(reply),
            CoreRequest::ResetClockFloor { reply, .. } => Reply::FloorReset(reply),
            CoreRequest::Command { .. } => Reply::Command,
            CoreRequest::DoorEvent { door, body } => Reply::DoorEvent(door, body),
            CoreRequest::Status { reply } => Reply::Status(reply),
            CoreRequest::Stop | CoreRequest::Tick => Reply::None,
        }
    }

    fn process(&mut self, requests: Vec<CoreRequest>) {
        let batch = self.gate.begin(self.read_clock());
        // The transaction borrows this handle, not `self`, so the gate may change while it is
        // open.
        let store = self.store.clone();
        let mut txn = match store.begin() {
            Ok(txn) => txn,
            Err(e) => {
                let error = CoreError::from(e);
                for request in requests {
                    Self::reply_of(request).fail(&error, &self.decisions);
                }
                return;
            }
        };
        let mut pending = Vec::new();
        let mut unprocessed = Vec::new();
        let mut failure: Option<CoreError> = None;
        // Whether anything was written, and whether the batch held anything that may need
        // no commit at all (folded denials, housekeeping).
        let mut wrote = false;
        let mut quiet = false;
        for request in requests {
            if failure.is_some() {
                unprocessed.push(request);
                continue;
            }
            let (request, reply) = self.split(request);
            let outcome: Outcome = {
                let view = txn.view(&self.config.issuers);
                self.gate.handle(&view, &batch, request)
            };
            quiet |= outcome.quiet;
            wrote |= !outcome.writes.is_empty();
            let result = outcome
                .writes
                .into_iter()
                .try_for_each(|write| txn.apply(write));
            if let Err(e) = result {
                failure = Some(e.into());
            }
            match outcome.answer {
                // Status waits for no commit.
                status @ Answer::Status(_) => reply.answer(status, &self.decisions),
                answer => pending.push(Pending {
                    reply,
                    answer,
                    doors: outcome.doors,
                }),
            }
        }
        let committed = match failure {
            Some(e) => Err(e),
            // Only folded denials and housekeeping that wrote nothing: no fsync, which is the
            // point of folding them.
            None if quiet && !wrote => Ok(Vec::new()),
            // The gate's floor, not the batch's time: a reset in this batch may have lowered it.
            None => txn
                .set_clock_floor(self.gate.clock_floor())
                .and_then(|()| txn.commit_events())
                .map(|(_, events)| events)
                .map_err(CoreError::from),
        };
        match committed {
            Ok(events) => {
                self.publish(events);
                self.gate.committed();
                for item in pending {
                    for (door, command) in &item.doors {
                        self.tell_door(door, *command);
                    }
                    item.answer.committed();
                    item.reply.answer(item.answer, &self.decisions);
                }
            }
            Err(error) => {
                tracing::error!(%error, "store write failed; doors stay shut");
                self.gate.failed();
                for item in pending {
                    if let Answer::Decision(d) = &item.answer {
                        self.tell_door(&d.door, DoorCommand::Deny);
                    }
                    item.reply.fail(&error, &self.decisions);
                }
                for request in unprocessed {
                    Self::reply_of(request).fail(&error, &self.decisions);
                }
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
}

impl Txn<'_> {
    /// Applies one of the gate's writes.
    pub(crate) fn apply(&mut self, write: Write) -> Result<(), StoreError> {
        match write {
            Write::Append { time, clock, body } => self.append(time, clock, body).map(drop),
            Write::RecordProof(used) => self.record_proof(&used),
            Write::SetLockdown { door, on } => self.set_lockdown(door.as_ref(), on),
            Write::ApplyRevocations { issuer, list } => self.apply_revocations(issuer, &list),
            Write::RecordCommand { seq, id, expires } => self.record_command(seq, &id, expires),
            Write::RaiseClockFloor(floor) => self.set_clock_floor(floor),
            Write::ResetClockFloor(floor) => self.reset_clock_floor(floor),
            Write::Ack(up_to) => self.ack(up_to),
            Write::TrimDelivered { cutoff, max } => self.trim_delivered(cutoff, max).map(drop),
            Write::PruneCommandIds(cutoff) => self.prune_command_ids(cutoff),
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
