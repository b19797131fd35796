//! The gate: what the gateway decides, as a pure function of its inputs, in the manner of
//! quinn-proto. A [`Request`] goes in with the time of its batch ([`Batch`]) and read-only
//! [`Lookups`] of the store; an [`Outcome`] comes out: the [`Write`]s to commit, the doors to
//! move once they are durable, and the [`Answer`] for whoever asked.
//!
//! The gate does no I/O: it reads no clock, no file and no disk, and writes nothing. The
//! driver (`core`) reads the system clock, the OS's sync flag and the free disk space, opens
//! the transaction the lookups read through, applies each outcome's writes before asking the
//! next question (so a proof counter or lockdown written earlier in a batch counts for the
//! rest of it), commits once per batch, and only then moves relays and answers.
//!
//! State the gate keeps between requests: the clock floor ([`Clock`], pure itself), the doors
//! in lockdown, the runs of repeated denials being counted, and the disk-low alarm.
//!
//! One file per request kind: `present`, `lockdown`, `revocation_list`, `command`, `ack`,
//! `status`; beside them `clock_floor` (an operator's floor reset, by socket or command),
//! `denials` (repeated denials counted rather than logged) and `disk` (the disk-low alarm).

mod ack;
mod clock_floor;
mod command;
mod denials;
mod disk;
mod lockdown;
mod present;
mod revocation_list;
mod status;

pub(crate) use clock_floor::FloorReset;
pub(crate) use lockdown::Lockdowns;
pub(crate) use present::Decision;
pub(crate) use status::{CoreStatus, StatusFacts};

use crate::clock::Clock;
use crate::config::Config;
use crate::door::DoorCommand;
use bygd_protocol::{
    ClockQuality, CommandId, DoorId, EventBody, KeyId, ProofCounters, ProofUse, Rejection,
    RevocationList, Revocations, UnixTime, WeekTime, Weekday,
};
use std::sync::Arc;
use std::time::Instant;

/// The store as the gate reads it, as of this point in the batch. Lookups cannot fail: a
/// store that cannot answer answers the way that refuses, and fails the batch's commit.
pub(crate) trait Lookups: Revocations + ProofCounters {
    /// The last event's sequence number, events of this batch included.
    fn head_seq(&self) -> u64;
    /// The highest command sequence number accepted.
    fn command_seq(&self) -> Option<u64>;
    /// Whether a command id was accepted before.
    fn command_seen(&self, id: &CommandId) -> bool;
    /// The revocation list version held for an issuer key.
    fn revocation_version(&self, issuer: KeyId) -> Option<u64>;
    /// The lowest revocation list version the operator allows (0: none).
    fn revocation_floor(&self) -> u64;
    /// When the newest revocation list applied was issued (none applied: `None`).
    fn newest_revocation_list(&self) -> Option<UnixTime>;
}

/// What the driver read from the system before a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    /// The system clock, in whole Unix seconds.
    pub system: UnixTime,
    /// Whether the OS's synchronisation flag vouches for it.
    pub os_synced: bool,
    /// The monotonic clock.
    pub monotonic: Instant,
}

/// The time a batch is decided at: every event of a batch carries it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    /// Now, by the clock floor's rules.
    pub now: UnixTime,
    /// How far that time was trusted.
    pub quality: ClockQuality,
    /// Now at the site, for pass schedules.
    pub local: WeekTime,
    /// The reading it came from (a floor reset reads the clock again from it).
    pub reading: Reading,
}

/// What the gate was asked.
#[derive(Debug)]
pub(crate) enum Request {
    /// A presentation at a door's reader.
    Present {
        /// The door.
        door: DoorId,
        /// The QR text as read.
        text: String,
    },
    /// Something a door did, to log.
    DoorEvent(EventBody),
    /// Lockdown on or off, for one door or all (`None`).
    Lockdown {
        /// The door, or all.
        door: Option<DoorId>,
        /// On or off.
        on: bool,
    },
    /// A signed revocation list (full or delta): its COSE_Sign1 bytes.
    RevocationList(Vec<u8>),
    /// A command from the dashboard, as received on the `cmd` topic.
    Command {
        /// The command's COSE_Sign1 bytes.
        bytes: Vec<u8>,
        /// Whether the broker delivered it as a retained message (never acted on).
        retained: bool,
    },
    /// The dashboard's verified ack: events up to here may leave the outbox.
    Ack {
        /// The last acknowledged sequence number.
        up_to: u64,
    },
    /// An operator at the gateway sets the clock floor (`None`: to the system clock).
    ResetClockFloor {
        /// The new floor.
        to: Option<UnixTime>,
    },
    /// Housekeeping: log counted denials whose window ended, check the disk.
    Tick {
        /// Free bytes on the data directory's disk, if the watermark is set and it was read.
        free_disk_bytes: Option<u64>,
    },
    /// The gateway stops: log every counted denial.
    Stop,
    /// A status snapshot.
    Status(StatusFacts),
}

/// One write to commit, in order with the others of its batch.
#[derive(Debug)]
pub(crate) enum Write {
    /// Append an event to the log and the outbox.
    Append {
        /// Its time.
        time: UnixTime,
        /// How far that time was trusted.
        clock: ClockQuality,
        /// What happened.
        body: EventBody,
    },
    /// Record an accepted device proof.
    RecordProof(ProofUse),
    /// Set or clear lockdown for a door, or all doors.
    SetLockdown {
        /// The door, or all.
        door: Option<DoorId>,
        /// On or off.
        on: bool,
    },
    /// Apply a revocation list the gate accepted.
    ApplyRevocations {
        /// The key that signed it.
        issuer: KeyId,
        /// The list.
        list: RevocationList,
    },
    /// Record an accepted command.
    RecordCommand {
        /// Its sequence number.
        seq: u64,
        /// Its id.
        id: CommandId,
        /// Its expiry, after which its id may be forgotten.
        expires: UnixTime,
    },
    /// Raise the persisted clock floor (a time beacon).
    RaiseClockFloor(UnixTime),
    /// Set the persisted clock floor, lower or higher (an operator's reset).
    ResetClockFloor(UnixTime),
    /// Remove acknowledged events from the outbox.
    Ack(u64),
    /// Delete delivered events older than `cutoff` from the log, at most `max`.
    TrimDelivered {
        /// The age limit.
        cutoff: UnixTime,
        /// The most to delete in one commit.
        max: usize,
    },
    /// Forget ids of commands that expired before this time.
    PruneCommandIds(UnixTime),
}

/// What the requester is told once the batch committed.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A presentation's decision.
    Decision(Decision),
    /// A lockdown was logged as this event.
    Lockdown {
        /// The door, or all.
        door: Option<DoorId>,
        /// On or off.
        on: bool,
        /// The logged event.
        seq: u64,
    },
    /// A revocation list's applied version, or why it was refused.
    RevocationList(Result<u64, Rejection>),
    /// What a clock floor reset changed.
    FloorReset(FloorReset),
    /// The status snapshot (sent at once: it waits for no commit).
    Status(CoreStatus),
    /// Done; nothing to say (acks, commands, door events, housekeeping).
    Done,
}

/// What one request comes to.
#[derive(Debug)]
#[must_use]
pub(crate) struct Outcome {
    /// The writes, in order.
    pub writes: Vec<Write>,
    /// Door moves, once the writes are durable.
    pub doors: Vec<(DoorId, DoorCommand)>,
    /// For the requester.
    pub answer: Answer,
    /// The request may need no commit at all (a folded denial, housekeeping): a batch of such
    /// requests that wrote nothing costs no fsync.
    pub quiet: bool,
    /// The sequence number of the last event appended, as the gate counts them.
    head: u64,
}

impl Outcome {
    fn new(lookups: &impl Lookups) -> Self {
        Self {
            writes: Vec::new(),
            doors: Vec::new(),
            answer: Answer::Done,
            quiet: false,
            head: lookups.head_seq(),
        }
    }

    /// Appends an event at the batch's time; returns the sequence number it will have.
    fn log(&mut self, batch: &Batch, body: EventBody) -> u64 {
        self.log_as(batch.now, batch.quality, body)
    }

    /// Appends an event at `time`, trusted as `clock`; returns its sequence number.
    fn log_as(&mut self, time: UnixTime, clock: ClockQuality, body: EventBody) -> u64 {
        self.writes.push(Write::Append { time, clock, body });
        self.head += 1;
        self.head
    }
}

/// The gate's state between requests.
pub(crate) struct Gate {
    config: Arc<Config>,
    clock: Clock,
    /// The doors in lockdown, as of this point in the batch.
    lockdowns: Lockdowns,
    /// The doors in lockdown as last committed: restored when a batch fails.
    committed_lockdowns: Lockdowns,
    /// Per door, the run of identical denials being counted.
    runs: denials::Runs,
    /// The disk-low alarm.
    disk: disk::Disk,
}

impl Gate {
    /// A gate with this clock and the lockdowns the store holds.
    pub(crate) fn new(config: Arc<Config>, clock: Clock, lockdowns: Lockdowns) -> Self {
        Self {
            config,
            clock,
            committed_lockdowns: lockdowns.clone(),
            lockdowns,
            runs: denials::Runs::default(),
            disk: disk::Disk::default(),
        }
    }

    /// The clock floor, to persist with every commit.
    pub(crate) fn clock_floor(&self) -> UnixTime {
        self.clock.floor()
    }

    /// Whether free disk space matters (a watermark is set): the driver reads it only then.
    pub(crate) fn watches_disk(&self) -> bool {
        self.disk.watermark(&self.config) != 0
    }

    /// Starts a batch: the time it is decided at, from the driver's reading (which raises the
    /// floor).
    pub(crate) fn begin(&mut self, reading: Reading) -> Batch {
        let (now, quality) = self
            .clock
            .now(reading.system, reading.os_synced, reading.monotonic);
        Batch {
            now,
            quality,
            local: local_time(&self.config.time_zone, now),
            reading,
        }
    }

    /// The batch committed: its lockdowns are now the doors' state.
    pub(crate) fn committed(&mut self) {
        self.committed_lockdowns = self.lockdowns.clone();
    }

    /// The batch failed: none of its lockdowns happened.
    pub(crate) fn failed(&mut self) {
        self.lockdowns = self.committed_lockdowns.clone();
    }

    /// Decides one request; the driver applies the outcome's writes before the next.
    pub(crate) fn handle(
        &mut self,
        lookups: &impl Lookups,
        batch: &Batch,
        request: Request,
    ) -> Outcome {
        let mut out = Outcome::new(lookups);
        match request {
            Request::Present { door, text } => self.present(lookups, batch, door, &text, &mut out),
            Request::DoorEvent(body) => {
                out.log(batch, body);
            }
            Request::Lockdown { door, on } => self.lockdown(batch, door, on, &mut out),
            Request::RevocationList(bytes) => {
                let result = self.revocation_list(lookups, batch, &bytes, &mut out);
                out.answer = Answer::RevocationList(result);
            }
            Request::Command { bytes, retained } => {
                self.command(lookups, batch, &bytes, retained, &mut out);
            }
            Request::Ack { up_to } => self.ack(batch, up_to, &mut out),
            Request::ResetClockFloor { to } => {
                let to = to.unwrap_or(batch.reading.system);
                let reset = self.reset_floor(batch, to, &mut out);
                out.answer = Answer::FloorReset(reset);
            }
            Request::Tick { free_disk_bytes } => {
                out.quiet = true;
                self.flush_runs(batch, false, &mut out);
                if let Some(free) = free_disk_bytes {
                    self.check_disk(batch, free, &mut out);
                }
            }
            Request::Stop => self.flush_runs(batch, true, &mut out),
            Request::Status(facts) => {
                out.answer = Answer::Status(self.status(lookups, batch, facts))
            }
        }
        out
    }
}

impl Answer {
    /// Logs what became durable, once it is.
    pub(crate) fn committed(&self) {
        match self {
            Answer::Decision(decision) => decision.committed(),
            Answer::Lockdown { door, on, seq } => lockdown::committed(door.as_ref(), *on, *seq),
            Answer::RevocationList(result) => revocation_list::committed(result),
            Answer::FloorReset(_) | Answer::Status(_) | Answer::Done => {}
        }
    }
}

/// The site's local weekday and minute at `now`, for pass schedules.
fn local_time(zone: &jiff::tz::TimeZone, now: UnixTime) -> WeekTime {
    let zoned = jiff::Timestamp::from_second(i64::try_from(now.0).unwrap_or(i64::MAX))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone());
    let day = Weekday::from_index(zoned.weekday().to_monday_zero_offset().unsigned_abs())
        .unwrap_or(Weekday::Monday);
    let minute =
        u16::try_from(i32::from(zoned.hour()) * 60 + i32::from(zoned.minute())).unwrap_or(0);
    WeekTime { day, minute }
}

/// The decision in two halves, for the decision benchmark (`benches/decision.rs`): the gate
/// alone, then the commit of what it decided. Not an API: the daemon drives the gate itself.
#[doc(hidden)]
pub mod bench {
    use super::{Gate, Reading, Request, Write};
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::store::{StoreError, Txn};
    use bygd_protocol::{DoorId, UnixTime};
    use std::sync::Arc;
    use std::time::Instant;

    /// A gate over `config`, its clock synchronised.
    pub struct Decider(Gate);

    /// A presentation's decision and the writes that make it durable.
    pub struct Decided {
        writes: Vec<Write>,
        /// Whether the door would open.
        pub granted: bool,
    }

    impl Decider {
        /// A gate with no lockdown and a clock floor at `now`.
        #[must_use]
        pub fn new(config: Config, now: UnixTime) -> Self {
            let clock = Clock::new(now, true, Instant::now());
            Self(Gate::new(
                Arc::new(config),
                clock,
                super::Lockdowns::default(),
            ))
        }

        /// The gate alone: decides `text` at `door` at `now`, reading through `txn`.
        pub fn decide(
            &mut self,
            txn: &Txn<'_>,
            now: UnixTime,
            door: &DoorId,
            text: &str,
        ) -> Decided {
            let batch = self.0.begin(Reading {
                system: now,
                os_synced: true,
                monotonic: Instant::now(),
            });
            let config = self.0.config.clone();
            let view = txn.view(&config.issuers);
            let out = self.0.handle(
                &view,
                &batch,
                Request::Present {
                    door: door.clone(),
                    text: text.to_owned(),
                },
            );
            Decided {
                granted: matches!(&out.answer, super::Answer::Decision(d) if d.grant.is_some()),
                writes: out.writes,
            }
        }

        /// The commit: applies the writes, raises the clock floor, commits (one fsync).
        pub fn commit(&self, mut txn: Txn<'_>, decided: Decided) -> Result<(), StoreError> {
            for write in decided.writes {
                txn.apply(write)?;
            }
            txn.set_clock_floor(self.0.clock_floor())?;
            txn.commit().map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bygd_protocol::{
        encode_qr, MemberId, PassClaims, PassId, PassKind, Presentation, SecretKey, SiteId,
        SiteScope,
    };
    use std::cell::Cell;
    use std::path::Path;

    /// 2026-12-01.
    const NOW: u64 = 1_796_083_200;

    /// The store as a test sets it: nothing revoked, nothing seen, `head` events logged.
    #[derive(Default)]
    struct Store {
        head: Cell<u64>,
        revoked: Vec<PassId>,
    }

    impl Revocations for Store {
        fn is_pass_revoked(&self, pass_id: &PassId) -> bool {
            self.revoked.contains(pass_id)
        }
        fn is_member_revoked(&self, _: &bygd_protocol::MemberId) -> bool {
            false
        }
    }
    impl ProofCounters for Store {
        fn last_counter(&self, _: &PassId) -> Option<u64> {
            None
        }
    }
    impl Lookups for Store {
        fn head_seq(&self) -> u64 {
            self.head.get()
        }
        fn command_seq(&self) -> Option<u64> {
            None
        }
        fn command_seen(&self, _: &CommandId) -> bool {
            false
        }
        fn revocation_version(&self, _: KeyId) -> Option<u64> {
            None
        }
        fn revocation_floor(&self) -> u64 {
            0
        }
        fn newest_revocation_list(&self) -> Option<UnixTime> {
            Some(UnixTime(NOW))
        }
    }

    impl Store {
        /// What a driver does with an outcome's writes: here, only the events count.
        fn commit(&self, out: &Outcome) {
            let events = out
                .writes
                .iter()
                .filter(|w| matches!(w, Write::Append { .. }))
                .count() as u64;
            self.head.set(self.head.get() + events);
        }
    }

    fn issuer() -> SecretKey {
        SecretKey::from_seed(&[7; 32])
    }

    fn gate() -> Gate {
        let text = format!(
            "site = \"byn\"\ngateway = \"gw\"\ndata_dir = \"data\"\nkey_file = \"gw.key\"\n\
             time_zone = \"Europe/Stockholm\"\nhardware = \"simulated\"\nsocket = \"gw.sock\"\n\
             [[issuer]]\npublic_key = \"{}\"\n[[door]]\nid = \"front\"\nlock_pin = 17\n\
             sensor_pin = 27\n",
            issuer().public_key().to_hex()
        );
        let config = Config::parse(&text, Path::new("gateway.toml")).expect("a valid config");
        let clock = Clock::new(UnixTime(NOW), true, Instant::now());
        Gate::new(Arc::new(config), clock, Lockdowns::default())
    }

    fn batch(gate: &mut Gate) -> Batch {
        gate.begin(Reading {
            system: UnixTime(NOW),
            os_synced: true,
            monotonic: Instant::now(),
        })
    }

    fn pass(member: &str, id: u8) -> String {
        let claims = PassClaims {
            member: MemberId::new(member).expect("valid id"),
            pass_id: PassId([id; 16]),
            not_before: UnixTime(NOW - 3600),
            expires: UnixTime(NOW + 3600),
            kind: PassKind::Member,
            scope: vec![SiteScope::all_doors(SiteId::new("byn").expect("valid id"))],
            schedule: None,
            device_key: None,
        };
        encode_qr(&Presentation {
            pass: claims.issue(&issuer()),
            proof: None,
        })
    }

    fn present(text: &str) -> Request {
        Request::Present {
            door: DoorId::new("front").expect("valid id"),
            text: text.to_owned(),
        }
    }

    fn decision(out: &Outcome) -> &Decision {
        match &out.answer {
            Answer::Decision(d) => d,
            other => panic!("not a decision: {other:?}"),
        }
    }

    #[test]
    fn a_valid_pass_is_granted_with_its_event_and_the_door_told_to_open() {
        let (mut gate, store) = (gate(), Store::default());
        let batch = batch(&mut gate);
        let out = gate.handle(&store, &batch, present(&pass("anna", 1)));
        let d = decision(&out);
        assert!(d.grant.is_some() && d.reason.is_none() && !d.folded);
        assert_eq!(d.seq, 1);
        assert!(matches!(
            &out.writes[..],
            [Write::Append {
                body: EventBody::EntryGranted { .. },
                ..
            }]
        ));
        assert!(matches!(&out.doors[..], [(_, DoorCommand::Grant(_))]));
    }

    #[test]
    fn a_refused_pass_is_named_in_its_denial_without_opening_it_twice() {
        let (mut gate, mut store) = (gate(), Store::default());
        store.revoked.push(PassId([2; 16]));
        let batch = batch(&mut gate);
        let out = gate.handle(&store, &batch, present(&pass("bertil", 2)));
        assert_eq!(decision(&out).reason, Some(Rejection::Revoked));
        match &out.writes[..] {
            [Write::Append {
                body:
                    EventBody::EntryDenied {
                        pass_id, member, ..
                    },
                ..
            }] => {
                assert_eq!(*pass_id, Some(PassId([2; 16])));
                assert_eq!(member.as_ref().map(MemberId::as_str), Some("bertil"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&out.doors[..], [(_, DoorCommand::Deny)]));
    }

    #[test]
    fn a_lockdown_earlier_in_a_batch_refuses_a_presentation_later_in_it() {
        let (mut gate, store) = (gate(), Store::default());
        let batch = batch(&mut gate);
        let out = gate.handle(
            &store,
            &batch,
            Request::Lockdown {
                door: None,
                on: true,
            },
        );
        store.commit(&out);
        assert!(matches!(out.answer, Answer::Lockdown { seq: 1, .. }));
        let out = gate.handle(&store, &batch, present(&pass("anna", 1)));
        assert_eq!(decision(&out).reason, Some(Rejection::Lockdown));
        assert_eq!(decision(&out).seq, 2);
        gate.failed();
        assert!(
            !gate
                .lockdowns
                .covers(&DoorId::new("front").expect("valid id")),
            "a batch that failed locked nothing down"
        );
    }

    #[test]
    fn a_repeated_denial_is_counted_not_logged_and_names_the_denial_it_repeats() {
        let (mut gate, store) = (gate(), Store::default());
        let batch = batch(&mut gate);
        let first = gate.handle(&store, &batch, present("BYGD1:garbage"));
        store.commit(&first);
        let again = gate.handle(&store, &batch, present("BYGD1:garbage"));
        assert!(again.writes.is_empty() && again.quiet);
        assert_eq!(decision(&again).seq, decision(&first).seq);
        assert!(decision(&again).folded);
        // The gateway stops: the count is logged.
        let stop = gate.handle(&store, &batch, Request::Stop);
        assert!(matches!(
            &stop.writes[..],
            [Write::Append {
                body: EventBody::DenialsRepeated { count: 1, .. },
                ..
            }]
        ));
    }

    #[test]
    fn lockdowns_of_all_doors_and_of_one_are_kept_apart() {
        let front = DoorId::new("front").expect("valid id");
        let back = DoorId::new("back").expect("valid id");
        let mut lockdowns = Lockdowns::default();
        lockdowns.set(Some(&front), true);
        lockdowns.set(None, true);
        assert!(lockdowns.covers(&back));
        assert_eq!(lockdowns.names(), ["*", "front"]);
        lockdowns.set(None, false);
        assert!(lockdowns.covers(&front) && !lockdowns.covers(&back));
    }
}
