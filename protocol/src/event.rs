//! Gateway events and the hash chain that links them.
//!
//! Invariant: event `n` carries the SHA-256 of event `n - 1`'s exact bytes (the first event
//! carries 32 zero bytes), and sequence numbers start at 1 and never skip. So whoever holds the
//! chain's last hash can tell whether any event before it was changed, dropped or invented.

use crate::cbor::{self, b, opt, t, u};
use crate::{CommandId, DecodeError, DoorId, MemberId, PassId, PassKind, Rejection, UnixTime};
use alloc::string::String;
use alloc::vec::Vec;
use coset::cbor::value::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 hash of an event's bytes.
pub type Hash = [u8; 32];

/// The previous-hash of the very first event of a gateway.
pub const GENESIS_HASH: Hash = [0; 32];

/// The longest version string a gateway-started event carries.
const MAX_VERSION_LEN: usize = 64;

/// How far the gateway trusted its clock when it recorded an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockQuality {
    /// The system clock was synchronised (NTP, RTC or a recent time beacon).
    Synchronised,
    /// The system clock was used but nothing confirmed it (a Pi without RTC after boot).
    Unsynchronised,
    /// The system clock was below the persisted floor, so the floor was used instead.
    Floor,
}

impl ClockQuality {
    fn wire(self) -> u64 {
        match self {
            ClockQuality::Synchronised => 0,
            ClockQuality::Unsynchronised => 1,
            ClockQuality::Floor => 2,
        }
    }

    fn from_wire(n: u64) -> Option<Self> {
        match n {
            0 => Some(ClockQuality::Synchronised),
            1 => Some(ClockQuality::Unsynchronised),
            2 => Some(ClockQuality::Floor),
            _ => None,
        }
    }

    /// The quality's name for JSON and databases (its wording for people is
    /// [`ClockQuality::describe`]).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ClockQuality::Synchronised => "synchronised",
            ClockQuality::Unsynchronised => "unsynchronised",
            ClockQuality::Floor => "floor",
        }
    }

    /// The quality for its name, the inverse of [`ClockQuality::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            ClockQuality::Synchronised,
            ClockQuality::Unsynchronised,
            ClockQuality::Floor,
        ]
        .into_iter()
        .find(|q| q.name() == name)
    }
}

/// What a command led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Carried out.
    Done,
    /// Refused, with the reason.
    Refused(Rejection),
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventBody {
    /// A presentation opened a door.
    EntryGranted {
        /// The door.
        door: DoorId,
        /// The pass.
        pass_id: PassId,
        /// Its member.
        member: MemberId,
        /// The pass kind (break-glass uses stand out in audits).
        kind: PassKind,
        /// Whether a device proof was checked.
        device_bound: bool,
    },
    /// A presentation was refused.
    EntryDenied {
        /// The door.
        door: DoorId,
        /// Why.
        reason: Rejection,
        /// The pass id, if the pass's signature verified.
        pass_id: Option<PassId>,
        /// The member, if the pass's signature verified.
        member: Option<MemberId>,
    },
    /// The door sensor reports open.
    DoorOpened {
        /// The door.
        door: DoorId,
    },
    /// The door sensor reports closed.
    DoorClosed {
        /// The door.
        door: DoorId,
    },
    /// The held-open alarm was raised or cleared.
    HeldOpen {
        /// The door.
        door: DoorId,
        /// Raised (true) or cleared (false).
        raised: bool,
    },
    /// The forced-open alarm was raised or cleared.
    ForcedOpen {
        /// The door.
        door: DoorId,
        /// Raised (true) or cleared (false).
        raised: bool,
    },
    /// The exit button was pressed.
    ExitButton {
        /// The door.
        door: DoorId,
    },
    /// Lockdown started or ended.
    Lockdown {
        /// The door, or `None` for every door.
        door: Option<DoorId>,
        /// On or off.
        on: bool,
    },
    /// A command was carried out or refused.
    CommandResult {
        /// The command's id.
        command: CommandId,
        /// Its sequence number (0 if it did not verify far enough to read one).
        seq: u64,
        /// What came of it.
        outcome: CommandOutcome,
    },
    /// The gateway daemon started.
    GatewayStarted {
        /// Its version.
        version: String,
    },
    /// The clock's quality changed.
    ClockChanged {
        /// The new quality.
        quality: ClockQuality,
        /// The persisted floor at that moment.
        floor: UnixTime,
    },
    /// A revocation list was applied.
    RevocationApplied {
        /// Its version.
        version: u64,
    },
    /// A revocation list was refused.
    RevocationRefused {
        /// Its version, if it decoded.
        version: Option<u64>,
        /// Why.
        reason: Rejection,
    },
    /// More presentations at one door were refused the same way as the entry denied just
    /// before them: counted, not logged one by one, so garbage at a reader cannot fill the
    /// gateway's disk one event at a time. The first of a run is always its own
    /// [`EventBody::EntryDenied`]; this event follows it with the repeats.
    DenialsRepeated {
        /// The door.
        door: DoorId,
        /// Why each was refused.
        reason: Rejection,
        /// The pass id, if the pass's signature verified.
        pass_id: Option<PassId>,
        /// The member, if the pass's signature verified.
        member: Option<MemberId>,
        /// How many presentations this event stands for (at least 1).
        count: u64,
        /// When the first of them was refused.
        first: UnixTime,
        /// When the last of them was refused.
        last: UnixTime,
    },
    /// Free space on the gateway's data disk fell below its configured watermark (raised) or
    /// rose above it again (cleared). Grants are always logged; repeated denials are folded
    /// over a longer window while it is raised.
    DiskLow {
        /// Raised (true) or cleared (false).
        raised: bool,
        /// Free bytes at that moment.
        free_bytes: u64,
    },
}

impl EventBody {
    /// The event kind's name: the `type` of the gateway's JSON log and the dashboard's `kind`
    /// column. One table, so that the gateway and the dashboard never spell a kind two ways.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::EntryGranted { .. } => "entry_granted",
            EventBody::EntryDenied { .. } => "entry_denied",
            EventBody::DoorOpened { .. } => "door_opened",
            EventBody::DoorClosed { .. } => "door_closed",
            EventBody::HeldOpen { .. } => "held_open",
            EventBody::ForcedOpen { .. } => "forced_open",
            EventBody::ExitButton { .. } => "exit_button",
            EventBody::Lockdown { .. } => "lockdown",
            EventBody::CommandResult { .. } => "command_result",
            EventBody::GatewayStarted { .. } => "gateway_started",
            EventBody::ClockChanged { .. } => "clock",
            EventBody::RevocationApplied { .. } => "revocation_applied",
            EventBody::RevocationRefused { .. } => "revocation_refused",
            EventBody::DenialsRepeated { .. } => "denials_repeated",
            EventBody::DiskLow { .. } => "disk_low",
        }
    }
}

/// One event in a gateway's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The gateway's sequence number, from 1, without gaps.
    pub seq: u64,
    /// When, by the gateway's clock (see `clock`).
    pub time: UnixTime,
    /// How far that clock was trusted.
    pub clock: ClockQuality,
    /// SHA-256 of the previous event's bytes ([`GENESIS_HASH`] for the first).
    pub prev_hash: Hash,
    /// What happened.
    pub body: EventBody,
}

/// SHA-256 of an event's bytes: what the next event links to.
#[must_use]
pub fn hash_event(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

impl Event {
    /// The event's canonical bytes: `[seq, time, clock, prev hash, type, fields...]`.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let door = |d: &DoorId| t(d.as_str());
        let mut items = alloc::vec![
            u(self.seq),
            u(self.time.0),
            u(self.clock.wire()),
            b(&self.prev_hash),
        ];
        let (kind, fields): (u64, Vec<Value>) = match &self.body {
            EventBody::EntryGranted {
                door: d,
                pass_id,
                member,
                kind,
                device_bound,
            } => (
                0,
                alloc::vec![
                    door(d),
                    b(pass_id.as_bytes()),
                    t(member.as_str()),
                    u(kind.wire()),
                    Value::Bool(*device_bound)
                ],
            ),
            EventBody::EntryDenied {
                door: d,
                reason,
                pass_id,
                member,
            } => (
                1,
                alloc::vec![
                    door(d),
                    u(reason.wire().into()),
                    opt(pass_id.as_ref(), |p| b(p.as_bytes())),
                    opt(member.as_ref(), |m| t(m.as_str()))
                ],
            ),
            EventBody::DoorOpened { door: d } => (2, alloc::vec![door(d)]),
            EventBody::DoorClosed { door: d } => (3, alloc::vec![door(d)]),
            EventBody::HeldOpen { door: d, raised } => {
                (4, alloc::vec![door(d), Value::Bool(*raised)])
            }
            EventBody::ForcedOpen { door: d, raised } => {
                (5, alloc::vec![door(d), Value::Bool(*raised)])
            }
            EventBody::ExitButton { door: d } => (6, alloc::vec![door(d)]),
            EventBody::Lockdown { door: d, on } => {
                (7, alloc::vec![opt(d.as_ref(), door), Value::Bool(*on)])
            }
            EventBody::CommandResult {
                command,
                seq,
                outcome,
            } => (
                8,
                alloc::vec![
                    b(command.as_bytes()),
                    u(*seq),
                    match outcome {
                        CommandOutcome::Done => Value::Null,
                        CommandOutcome::Refused(r) => u(r.wire().into()),
                    }
                ],
            ),
            EventBody::GatewayStarted { version } => (9, alloc::vec![t(version)]),
            EventBody::ClockChanged { quality, floor } => {
                (10, alloc::vec![u(quality.wire()), u(floor.0)])
            }
            EventBody::RevocationApplied { version } => (11, alloc::vec![u(*version)]),
            EventBody::RevocationRefused { version, reason } => {
                (12, alloc::vec![opt(*version, u), u(reason.wire().into())])
            }
            EventBody::DenialsRepeated {
                door: d,
                reason,
                pass_id,
                member,
                count,
                first,
                last,
            } => (
                13,
                alloc::vec![
                    door(d),
                    u(reason.wire().into()),
                    opt(pass_id.as_ref(), |p| b(p.as_bytes())),
                    opt(member.as_ref(), |m| t(m.as_str())),
                    u(*count),
                    u(first.0),
                    u(last.0)
                ],
            ),
            EventBody::DiskLow { raised, free_bytes } => {
                (14, alloc::vec![Value::Bool(*raised), u(*free_bytes)])
            }
        };
        items.push(u(kind));
        items.extend(fields);
        cbor::encode(&Value::Array(items))
    }

    /// Decodes an event from its bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "event must be [seq, time, clock, prev hash, type, fields...]";
        let value = cbor::decode(bytes)?;
        let items = cbor::array(&value, WHAT)?;
        let [seq, time, clock, prev, kind, fields @ ..] = items else {
            return Err(DecodeError::Malformed(WHAT));
        };
        let door = |v: &Value| cbor::id(v, "event door must be a valid id", DoorId::new);
        let flag = |v: &Value| cbor::boolean(v, "event flag must be a boolean");
        let reason = |v: &Value| {
            Rejection::from_wire(cbor::uint(v, "event reason must be a known code")?)
                .ok_or(DecodeError::Malformed("event reason must be a known code"))
        };
        let optional_pass = |v: &Value| {
            cbor::optional(v, |p| {
                cbor::bytes_n::<16>(p, "event pass id must be 16 bytes").map(PassId)
            })
        };
        let optional_member = |v: &Value| {
            cbor::optional(v, |m| {
                cbor::id(m, "event member must be a valid id", MemberId::new)
            })
        };
        let bad_fields = DecodeError::Malformed("event fields do not match its type");
        let body = match (cbor::uint(kind, WHAT)?, fields) {
            (0, [d, pass, member, kind, bound]) => EventBody::EntryGranted {
                door: door(d)?,
                pass_id: PassId(cbor::bytes_n::<16>(pass, "event pass id must be 16 bytes")?),
                member: cbor::id(member, "event member must be a valid id", MemberId::new)?,
                kind: PassKind::from_wire(cbor::uint(kind, "event pass kind must be 0..3")?)
                    .ok_or(DecodeError::Malformed("event pass kind must be 0..3"))?,
                device_bound: flag(bound)?,
            },
            (1, [d, why, pass, member]) => EventBody::EntryDenied {
                door: door(d)?,
                reason: reason(why)?,
                pass_id: optional_pass(pass)?,
                member: optional_member(member)?,
            },
            (2, [d]) => EventBody::DoorOpened { door: door(d)? },
            (3, [d]) => EventBody::DoorClosed { door: door(d)? },
            (4, [d, raised]) => EventBody::HeldOpen {
                door: door(d)?,
                raised: flag(raised)?,
            },
            (5, [d, raised]) => EventBody::ForcedOpen {
                door: door(d)?,
                raised: flag(raised)?,
            },
            (6, [d]) => EventBody::ExitButton { door: door(d)? },
            (7, [d, on]) => EventBody::Lockdown {
                door: cbor::optional(d, door)?,
                on: flag(on)?,
            },
            (8, [id, seq, outcome]) => EventBody::CommandResult {
                command: CommandId(cbor::bytes_n::<16>(
                    id,
                    "event command id must be 16 bytes",
                )?),
                seq: cbor::uint(seq, "event command seq must be an unsigned integer")?,
                outcome: match cbor::optional(outcome, reason)? {
                    None => CommandOutcome::Done,
                    Some(r) => CommandOutcome::Refused(r),
                },
            },
            (9, [version]) => {
                let version = cbor::text(version, "event version must be text")?;
                if version.len() > MAX_VERSION_LEN {
                    return Err(DecodeError::Malformed("event version is too long"));
                }
                EventBody::GatewayStarted {
                    version: version.into(),
                }
            }
            (10, [quality, floor]) => EventBody::ClockChanged {
                quality: ClockQuality::from_wire(cbor::uint(
                    quality,
                    "clock quality must be 0..2",
                )?)
                .ok_or(DecodeError::Malformed("clock quality must be 0..2"))?,
                floor: UnixTime(cbor::uint(
                    floor,
                    "clock floor must be an unsigned integer",
                )?),
            },
            (11, [version]) => EventBody::RevocationApplied {
                version: cbor::uint(version, "revocation version must be an unsigned integer")?,
            },
            (12, [version, why]) => EventBody::RevocationRefused {
                version: cbor::optional(version, |v| {
                    cbor::uint(v, "revocation version must be an unsigned integer")
                })?,
                reason: reason(why)?,
            },
            (13, [d, why, pass, member, count, first, last]) => {
                let time = |v: &Value| {
                    cbor::uint(v, "denial times must be unsigned integers").map(UnixTime)
                };
                let (first, last) = (time(first)?, time(last)?);
                let count = cbor::uint(count, "denial count must be an unsigned integer")?;
                if count == 0 || last < first {
                    return Err(DecodeError::Malformed(
                        "repeated denials need a count of 1 or more and first <= last",
                    ));
                }
                EventBody::DenialsRepeated {
                    door: door(d)?,
                    reason: reason(why)?,
                    pass_id: optional_pass(pass)?,
                    member: optional_member(member)?,
                    count,
                    first,
                    last,
                }
            }
            (14, [raised, free]) => EventBody::DiskLow {
                raised: flag(raised)?,
                free_bytes: cbor::uint(free, "free bytes must be an unsigned integer")?,
            },
            _ => return Err(bad_fields),
        };
        Ok(Self {
            seq: cbor::uint(seq, "event seq must be an unsigned integer")?,
            time: UnixTime(cbor::uint(time, "event time must be an unsigned integer")?),
            clock: ClockQuality::from_wire(cbor::uint(clock, "clock quality must be 0..2")?)
                .ok_or(DecodeError::Malformed("clock quality must be 0..2"))?,
            prev_hash: cbor::bytes_n::<32>(prev, "event prev hash must be 32 bytes")?,
            body,
        })
    }
}

/// The end of a hash chain: the last sequence number and the hash of that event.
///
/// A gateway keeps one to append events; a dashboard keeps one per gateway to check them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last event's sequence number (0 before any event).
    pub seq: u64,
    /// The last event's hash ([`GENESIS_HASH`] before any event).
    pub hash: Hash,
}

impl Default for ChainHead {
    fn default() -> Self {
        Self {
            seq: 0,
            hash: GENESIS_HASH,
        }
    }
}

impl ChainHead {
    /// The next event after this head, its bytes and the head after it.
    #[must_use]
    pub fn append(
        &self,
        time: UnixTime,
        clock: ClockQuality,
        body: EventBody,
    ) -> (Event, Vec<u8>, ChainHead) {
        let event = Event {
            seq: self.seq.saturating_add(1),
            time,
            clock,
            prev_hash: self.hash,
            body,
        };
        let bytes = event.encode();
        let head = ChainHead {
            seq: event.seq,
            hash: hash_event(&bytes),
        };
        (event, bytes, head)
    }

    /// Checks that `event` (with these bytes) follows this head, and returns the new head.
    pub fn follow(&self, event: &Event, bytes: &[u8]) -> Result<ChainHead, Rejection> {
        // Checked, not saturating: after u64::MAX nothing follows (a repeated u64::MAX would
        // otherwise pass as the next event).
        if self.seq.checked_add(1) != Some(event.seq) {
            return Err(Rejection::SequenceGap);
        }
        if event.prev_hash != self.hash {
            return Err(Rejection::ChainBroken);
        }
        Ok(ChainHead {
            seq: event.seq,
            hash: hash_event(bytes),
        })
    }
}

/// Why a stored event does not continue a [`ChainWalk`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainFault {
    /// The stored bytes do not decode as an event.
    Undecodable(DecodeError),
    /// The event is stored under one sequence number and names another.
    Misfiled {
        /// The sequence number it is stored under.
        stored: u64,
        /// The one its bytes name.
        says: u64,
    },
    /// Event 1 does not start from [`GENESIS_HASH`].
    NotFromGenesis,
    /// A gap or a broken link: [`ChainHead::follow`]'s refusal.
    Unlinked(Rejection),
}

impl core::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ChainFault::Undecodable(e) => write!(f, "does not decode: {e}"),
            ChainFault::Misfiled { stored, says } => {
                write!(f, "is stored under {stored} but says {says}")
            }
            ChainFault::NotFromGenesis => {
                f.write_str("the first event does not start from the genesis hash")
            }
            ChainFault::Unlinked(r) => write!(f, "does not follow the event before it: {r}"),
        }
    }
}

/// A walk along stored events, in order, checking each against the one before: the one check
/// behind a gateway's start-up tail check, its `verify-log`, and a dashboard's check of the
/// chain it stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainWalk {
    /// The last event checked (`None`: the walk has not started and takes its first event's
    /// own hash as the start).
    head: Option<ChainHead>,
}

impl ChainWalk {
    /// A walk that must start at event 1, linked to [`GENESIS_HASH`] (a whole log).
    #[must_use]
    pub fn from_genesis() -> Self {
        Self {
            head: Some(ChainHead::default()),
        }
    }

    /// A walk that starts at whichever event comes first: a log trimmed after delivery, or the
    /// tail of one. Event 1 must still link to [`GENESIS_HASH`].
    #[must_use]
    pub fn from_first_stored() -> Self {
        Self { head: None }
    }

    /// The last event checked, if any.
    #[must_use]
    pub fn head(&self) -> Option<ChainHead> {
        self.head
    }

    /// Checks the event stored under `stored_seq` as `bytes`: it decodes, names the sequence
    /// number it is stored under, and follows the event checked before it. Returns the event;
    /// on a fault the walk stays where it was.
    pub fn step(&mut self, stored_seq: u64, bytes: &[u8]) -> Result<Event, ChainFault> {
        let event = Event::decode(bytes).map_err(ChainFault::Undecodable)?;
        if event.seq != stored_seq {
            return Err(ChainFault::Misfiled {
                stored: stored_seq,
                says: event.seq,
            });
        }
        let next = match self.head {
            None if event.seq == 1 && event.prev_hash != GENESIS_HASH => {
                return Err(ChainFault::NotFromGenesis)
            }
            None => ChainHead {
                seq: event.seq,
                hash: hash_event(bytes),
            },
            Some(head) => head.follow(&event, bytes).map_err(ChainFault::Unlinked)?,
        };
        self.head = Some(next);
        Ok(event)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn door() -> DoorId {
        DoorId::new("front").unwrap()
    }

    /// One of each kind of event (the wording's tests render them too).
    pub(crate) fn every_body() -> Vec<EventBody> {
        alloc::vec![
            EventBody::EntryGranted {
                door: door(),
                pass_id: PassId([1; 16]),
                member: MemberId::new("anna").unwrap(),
                kind: PassKind::BreakGlass,
                device_bound: true,
            },
            EventBody::EntryDenied {
                door: door(),
                reason: Rejection::Expired,
                pass_id: None,
                member: None
            },
            EventBody::DoorOpened { door: door() },
            EventBody::DoorClosed { door: door() },
            EventBody::HeldOpen {
                door: door(),
                raised: true
            },
            EventBody::ForcedOpen {
                door: door(),
                raised: false
            },
            EventBody::ExitButton { door: door() },
            EventBody::Lockdown {
                door: None,
                on: true
            },
            EventBody::CommandResult {
                command: CommandId([2; 16]),
                seq: 9,
                outcome: CommandOutcome::Refused(Rejection::ReplayedCommand),
            },
            EventBody::CommandResult {
                command: CommandId([3; 16]),
                seq: 10,
                outcome: CommandOutcome::Done
            },
            EventBody::GatewayStarted {
                version: "0.1.0".into()
            },
            EventBody::ClockChanged {
                quality: ClockQuality::Floor,
                floor: UnixTime(5)
            },
            EventBody::RevocationApplied { version: 3 },
            EventBody::RevocationRefused {
                version: Some(2),
                reason: Rejection::Rollback
            },
            EventBody::DenialsRepeated {
                door: door(),
                reason: Rejection::BadEncoding,
                pass_id: None,
                member: None,
                count: 9_999,
                first: UnixTime(90),
                last: UnixTime(99),
            },
            EventBody::DenialsRepeated {
                door: door(),
                reason: Rejection::Revoked,
                pass_id: Some(PassId([4; 16])),
                member: Some(MemberId::new("britt").unwrap()),
                count: 1,
                first: UnixTime(100),
                last: UnixTime(100),
            },
            EventBody::DiskLow {
                raised: true,
                free_bytes: 50_000_000
            },
        ]
    }

    #[test]
    fn every_event_kind_round_trips_through_its_bytes() {
        let mut head = ChainHead::default();
        for body in every_body() {
            let (event, bytes, next) = head.append(UnixTime(100), ClockQuality::Synchronised, body);
            assert_eq!(Event::decode(&bytes).unwrap(), event);
            assert_eq!(head.follow(&event, &bytes), Ok(next));
            head = next;
        }
        assert_eq!(head.seq, every_body().len() as u64);
    }

    #[test]
    fn repeated_denials_with_no_count_or_backwards_times_are_malformed() {
        for (count, first, last) in [(0, 1, 2), (5, 3, 2)] {
            let body = EventBody::DenialsRepeated {
                door: door(),
                reason: Rejection::Malformed,
                pass_id: None,
                member: None,
                count,
                first: UnixTime(first),
                last: UnixTime(last),
            };
            let (_, bytes, _) = ChainHead::default().append(UnixTime(5), ClockQuality::Floor, body);
            assert!(matches!(
                Event::decode(&bytes),
                Err(DecodeError::Malformed(_))
            ));
        }
    }

    #[test]
    fn a_changed_previous_hash_breaks_the_chain() {
        let head = ChainHead::default();
        let (mut event, _, _) = head.append(
            UnixTime(1),
            ClockQuality::Floor,
            EventBody::DoorOpened { door: door() },
        );
        event.prev_hash[0] ^= 1;
        assert_eq!(
            head.follow(&event, &event.encode()),
            Err(Rejection::ChainBroken)
        );
    }

    #[test]
    fn a_skipped_sequence_number_is_a_gap() {
        let head = ChainHead::default();
        let (mut event, bytes, _) = head.append(
            UnixTime(1),
            ClockQuality::Floor,
            EventBody::DoorOpened { door: door() },
        );
        event.seq = 2;
        assert_eq!(head.follow(&event, &bytes), Err(Rejection::SequenceGap));
    }

    fn chain(n: u64) -> Vec<Vec<u8>> {
        let mut head = ChainHead::default();
        (0..n)
            .map(|_| {
                let (_, bytes, next) = head.append(
                    UnixTime(1),
                    ClockQuality::Floor,
                    EventBody::DoorOpened { door: door() },
                );
                head = next;
                bytes
            })
            .collect()
    }

    #[test]
    fn a_walk_from_genesis_checks_every_event_and_ends_at_the_head() {
        let events = chain(3);
        let mut walk = ChainWalk::from_genesis();
        for (i, bytes) in events.iter().enumerate() {
            assert_eq!(walk.step(i as u64 + 1, bytes).unwrap().seq, i as u64 + 1);
        }
        assert_eq!(walk.head().unwrap().hash, hash_event(&events[2]));
    }

    #[test]
    fn a_walk_from_the_first_stored_event_starts_after_trimmed_ones() {
        let events = chain(3);
        let mut walk = ChainWalk::from_first_stored();
        assert!(walk.step(2, &events[1]).is_ok());
        assert!(walk.step(3, &events[2]).is_ok());
        let mut gap = ChainWalk::from_genesis();
        assert_eq!(
            gap.step(2, &events[1]),
            Err(ChainFault::Unlinked(Rejection::SequenceGap))
        );
    }

    #[test]
    fn a_walk_refuses_misfiled_undecodable_and_unlinked_events() {
        let events = chain(2);
        let mut walk = ChainWalk::from_first_stored();
        assert_eq!(
            walk.step(7, &events[0]),
            Err(ChainFault::Misfiled { stored: 7, says: 1 })
        );
        assert!(matches!(
            walk.step(1, &[0xff]),
            Err(ChainFault::Undecodable(_))
        ));
        let (mut first, _, _) = ChainHead::default().append(
            UnixTime(1),
            ClockQuality::Floor,
            EventBody::DoorOpened { door: door() },
        );
        first.prev_hash[0] ^= 1;
        assert_eq!(
            walk.step(1, &first.encode()),
            Err(ChainFault::NotFromGenesis)
        );
        assert!(walk.step(1, &events[0]).is_ok());
        assert!(walk.step(3, &events[1]).is_err());
        assert_eq!(
            walk.head().unwrap().seq,
            1,
            "a fault leaves the walk where it was"
        );
    }

    #[test]
    fn every_event_kind_has_its_own_name() {
        let bodies = every_body();
        for a in &bodies {
            for b in &bodies {
                let same_variant = core::mem::discriminant(a) == core::mem::discriminant(b);
                assert_eq!(a.kind() == b.kind(), same_variant, "{a:?} / {b:?}");
            }
        }
    }
}
