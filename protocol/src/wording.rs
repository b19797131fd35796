//! What bygd says to a person about an event or a refusal, in one place: every event body
//! ([`EventBody`]'s `Display`), every reason something was refused ([`Rejection::describe`]),
//! a command's outcome and the clock's quality. The gateway's `log`, the demo's door log and
//! the dashboard's text output print these sentences; none of them prints an enum's `{:?}`.
//!
//! Invariant: the machine-readable names stay elsewhere and never change with this wording:
//! [`Rejection::code`], [`EventBody::kind`] and [`ClockQuality::name`] are what JSON, CSV and
//! databases hold.

use crate::{ClockQuality, CommandOutcome, EventBody, Rejection};
use core::fmt;

impl Rejection {
    /// A sentence for people: what the reason means.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Rejection::TooLarge => "the input is larger than any valid one",
            Rejection::BadPrefix => "not a bygd code (wrong prefix)",
            Rejection::BadEncoding => "the code's text is damaged (base45 error)",
            Rejection::Truncated => "the code is cut short",
            Rejection::TrailingBytes => "the code has extra bytes at the end",
            Rejection::Malformed => "the code is not a valid bygd structure",
            Rejection::UnknownKey => "signed by a key this gateway does not trust",
            Rejection::WeakKey => "the trusted key is weak and refused",
            Rejection::NonCanonicalSignature => "the signature is not in canonical form",
            Rejection::BadSignature => "the signature does not verify",
            Rejection::NotYetValid => "the pass is not valid yet",
            Rejection::Expired => "expired",
            Rejection::WrongSite => "the pass is not valid at this site",
            Rejection::WrongDoor => "the pass is not valid for this door",
            Rejection::OutsideSchedule => "outside the pass's opening hours",
            Rejection::Revoked => "the pass has been revoked",
            Rejection::MemberRevoked => "the member's access has been revoked",
            Rejection::ProofRequired => {
                "this pass must be shown from its phone app (device proof missing)"
            }
            Rejection::BadProof => "the device proof does not verify",
            Rejection::StaleProof => "the device proof is too old or from the future",
            Rejection::ReplayedProof => "the device proof was already used",
            Rejection::Lockdown => "the door is in lockdown",
            Rejection::RevocationListStale => {
                "the revocation list is too old; only break-glass passes open"
            }
            Rejection::UnknownDoor => "no such door at this gateway",
            Rejection::Misaddressed => "addressed to another gateway or site",
            Rejection::BadLifetime => "issued in the future or valid for too long",
            Rejection::ReplayedCommand => "this command (or a later one) was already accepted",
            Rejection::RetainedCommand => "commands are never taken from retained messages",
            Rejection::Rollback => "older than the revocation list already held",
            Rejection::DeltaMismatch => "the revocation delta applies to another version",
            Rejection::SequenceGap => "event sequence numbers are not consecutive",
            Rejection::ChainBroken => "the event hash chain is broken",
            Rejection::UnknownAck => "acknowledges events that were never sent",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.describe(), self.code())
    }
}

impl ClockQuality {
    /// How far the time of an event can be trusted, for people: printed beside the time of
    /// every event whose clock was not synchronised.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            ClockQuality::Synchronised => "clock synchronised",
            ClockQuality::Unsynchronised => "clock not synchronised",
            ClockQuality::Floor => "clock behind: floor time",
        }
    }
}

/// `done`, or `refused: ` and the reason's sentence.
impl fmt::Display for CommandOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandOutcome::Done => f.write_str("done"),
            CommandOutcome::Refused(reason) => write!(f, "refused: {}", reason.describe()),
        }
    }
}

/// One line for people: the door first when there is one, what happened, and why when
/// something was refused. The time and sequence number are the caller's to add.
impl fmt::Display for EventBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raised = |raised: bool| if raised { "RAISED" } else { "cleared" };
        match self {
            EventBody::EntryGranted {
                door,
                pass_id,
                member,
                kind,
                device_bound,
            } => write!(
                f,
                "{door}: GRANTED {member} ({}{}) pass {pass_id}",
                kind.name(),
                if *device_bound { ", phone-bound" } else { "" }
            ),
            EventBody::EntryDenied {
                door,
                reason,
                member,
                ..
            } => write!(
                f,
                "{door}: DENIED {}: {}",
                member.as_ref().map_or("unknown holder", |m| m.as_str()),
                reason.describe()
            ),
            EventBody::DoorOpened { door } => write!(f, "{door}: door opened"),
            EventBody::DoorClosed { door } => write!(f, "{door}: door closed"),
            EventBody::HeldOpen { door, raised: r } => {
                write!(f, "{door}: held-open alarm {}", raised(*r))
            }
            EventBody::ForcedOpen { door, raised: r } => {
                write!(f, "{door}: forced-open alarm {}", raised(*r))
            }
            EventBody::ExitButton { door } => write!(f, "{door}: exit button"),
            EventBody::Lockdown { door, on } => write!(
                f,
                "{}: lockdown {}",
                door.as_ref().map_or("all doors", |d| d.as_str()),
                if *on { "ON" } else { "off" }
            ),
            // Sequence number 0: the command did not verify far enough to read one.
            EventBody::CommandResult {
                command,
                seq: 0,
                outcome,
            } => write!(f, "command {command}: {outcome}"),
            EventBody::CommandResult {
                command,
                seq,
                outcome,
            } => write!(f, "command {command} (number {seq}): {outcome}"),
            EventBody::GatewayStarted { version } => write!(f, "gateway started (bygd {version})"),
            EventBody::ClockChanged { quality, .. } => f.write_str(match quality {
                ClockQuality::Synchronised => "the clock is synchronised again",
                ClockQuality::Unsynchronised => "the clock is not synchronised",
                ClockQuality::Floor => {
                    "the clock is behind the latest time seen; that time (the floor) is used"
                }
            }),
            EventBody::RevocationApplied { version } => {
                write!(f, "revocation list version {version} applied")
            }
            EventBody::RevocationRefused {
                version: Some(version),
                reason,
            } => write!(
                f,
                "revocation list version {version} was refused: {}",
                reason.describe()
            ),
            EventBody::RevocationRefused {
                version: None,
                reason,
            } => write!(f, "a revocation list was refused: {}", reason.describe()),
            EventBody::DenialsRepeated {
                door,
                reason,
                member,
                count,
                ..
            } => write!(
                f,
                "{door}: DENIED {count} more {} {}: {}",
                if *count == 1 { "time" } else { "times" },
                member.as_ref().map_or("unknown holder", |m| m.as_str()),
                reason.describe()
            ),
            EventBody::DiskLow {
                raised: r,
                free_bytes,
            } => write!(
                f,
                "disk space low {} ({} MB free)",
                raised(*r),
                free_bytes / BYTES_PER_MB
            ),
        }
    }
}

/// Megabytes as people read disk sizes (powers of ten, as `df -H` shows them).
const BYTES_PER_MB: u64 = 1_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommandId, DoorId, MemberId, PassId, PassKind, UnixTime};
    use alloc::format;
    use alloc::string::{String, ToString as _};
    use alloc::vec::Vec;

    /// Which variant `body` is, by an exhaustive match: a new variant fails to compile here
    /// until it is given a sample below.
    fn variant(body: &EventBody) -> usize {
        match body {
            EventBody::EntryGranted { .. } => 0,
            EventBody::EntryDenied { .. } => 1,
            EventBody::DoorOpened { .. } => 2,
            EventBody::DoorClosed { .. } => 3,
            EventBody::HeldOpen { .. } => 4,
            EventBody::ForcedOpen { .. } => 5,
            EventBody::ExitButton { .. } => 6,
            EventBody::Lockdown { .. } => 7,
            EventBody::CommandResult { .. } => 8,
            EventBody::GatewayStarted { .. } => 9,
            EventBody::ClockChanged { .. } => 10,
            EventBody::RevocationApplied { .. } => 11,
            EventBody::RevocationRefused { .. } => 12,
            EventBody::DenialsRepeated { .. } => 13,
            EventBody::DiskLow { .. } => 14,
        }
    }
    const VARIANTS: usize = 15;

    /// Every variant, with every reason, pass kind, clock quality and optional field each can
    /// carry.
    fn samples() -> Vec<EventBody> {
        let door = DoorId::new("front").unwrap();
        let anna = MemberId::new("anna").unwrap();
        let mut out = crate::event::tests::every_body();
        for kind in [
            PassKind::Member,
            PassKind::Guest,
            PassKind::Staff,
            PassKind::BreakGlass,
        ] {
            for device_bound in [false, true] {
                out.push(EventBody::EntryGranted {
                    door: door.clone(),
                    pass_id: PassId([1; 16]),
                    member: anna.clone(),
                    kind,
                    device_bound,
                });
            }
        }
        for reason in Rejection::ALL {
            for (pass_id, member) in [(None, None), (Some(PassId([2; 16])), Some(anna.clone()))] {
                out.push(EventBody::EntryDenied {
                    door: door.clone(),
                    reason,
                    pass_id,
                    member: member.clone(),
                });
                out.push(EventBody::DenialsRepeated {
                    door: door.clone(),
                    reason,
                    pass_id,
                    member,
                    count: 3,
                    first: UnixTime(10),
                    last: UnixTime(20),
                });
            }
            for seq in [0, 7] {
                out.push(EventBody::CommandResult {
                    command: CommandId([3; 16]),
                    seq,
                    outcome: CommandOutcome::Refused(reason),
                });
            }
            for version in [None, Some(4)] {
                out.push(EventBody::RevocationRefused { version, reason });
            }
        }
        for quality in [
            ClockQuality::Synchronised,
            ClockQuality::Unsynchronised,
            ClockQuality::Floor,
        ] {
            out.push(EventBody::ClockChanged {
                quality,
                floor: UnixTime(5),
            });
        }
        for on in [false, true] {
            out.push(EventBody::Lockdown {
                door: Some(door.clone()),
                on,
            });
            out.push(EventBody::Lockdown { door: None, on });
            out.push(EventBody::HeldOpen {
                door: door.clone(),
                raised: on,
            });
            out.push(EventBody::ForcedOpen {
                door: door.clone(),
                raised: on,
            });
            out.push(EventBody::DiskLow {
                raised: on,
                free_bytes: 1,
            });
        }
        out
    }

    /// The names `{:?}` would print: every event variant, reason, pass kind and clock
    /// quality, and the shapes of `Option` and of structs.
    fn debug_names() -> Vec<String> {
        let mut names: Vec<String> = samples()
            .iter()
            .map(|body| {
                let debug = format!("{body:?}");
                debug[..debug.find([' ', '{', '(']).unwrap_or(debug.len())].to_string()
            })
            .collect();
        names.extend(Rejection::ALL.iter().map(|r| format!("{r:?}")));
        names.extend(
            [
                PassKind::Member,
                PassKind::Guest,
                PassKind::Staff,
                PassKind::BreakGlass,
            ]
            .iter()
            .map(|k| format!("{k:?}")),
        );
        names.extend(
            [
                ClockQuality::Synchronised,
                ClockQuality::Unsynchronised,
                ClockQuality::Floor,
            ]
            .iter()
            .map(|q| format!("{q:?}")),
        );
        names.extend(
            [
                "Some(", "None", "Refused(", "Done", "{", "}", "\"", "[", "]",
            ]
            .map(String::from),
        );
        names
    }

    #[track_caller]
    fn assert_reads_as_prose(text: &str, names: &[String]) {
        assert!(!text.trim().is_empty(), "empty wording");
        for name in names {
            assert!(
                !text.contains(name.as_str()),
                "`{text}` contains `{name}`, which is how {{:?}} prints, not how people read"
            );
        }
    }

    #[test]
    fn every_event_and_every_reason_reads_as_prose_not_debug_output() {
        let names = debug_names();
        let samples = samples();
        let mut seen = [false; VARIANTS];
        for body in &samples {
            seen[variant(body)] = true;
            assert_reads_as_prose(&body.to_string(), &names);
        }
        assert!(seen.iter().all(|s| *s), "a variant has no sample: {seen:?}");
        for reason in Rejection::ALL {
            assert_reads_as_prose(reason.describe(), &names);
            assert_reads_as_prose(&CommandOutcome::Refused(reason).to_string(), &names);
        }
        assert_reads_as_prose(&CommandOutcome::Done.to_string(), &names);
        for quality in [
            ClockQuality::Synchronised,
            ClockQuality::Unsynchronised,
            ClockQuality::Floor,
        ] {
            assert_reads_as_prose(quality.describe(), &names);
        }
    }

    #[test]
    fn refusals_say_why_in_the_reasons_own_words() {
        let replayed = EventBody::CommandResult {
            command: CommandId([0xab; 16]),
            seq: 12,
            outcome: CommandOutcome::Refused(Rejection::ReplayedCommand),
        };
        assert_eq!(
            replayed.to_string(),
            format!(
                "command {} (number 12): refused: {}",
                CommandId([0xab; 16]),
                Rejection::ReplayedCommand.describe()
            )
        );
        let unreadable = EventBody::RevocationRefused {
            version: None,
            reason: Rejection::BadSignature,
        };
        assert_eq!(
            unreadable.to_string(),
            "a revocation list was refused: the signature does not verify"
        );
        let rolled_back = EventBody::RevocationRefused {
            version: Some(3),
            reason: Rejection::Rollback,
        };
        assert_eq!(
            rolled_back.to_string(),
            "revocation list version 3 was refused: older than the revocation list already held"
        );
    }

    #[test]
    fn every_reason_has_its_own_sentence() {
        let mut sentences: Vec<&str> = Rejection::ALL.iter().map(|r| r.describe()).collect();
        sentences.sort_unstable();
        sentences.dedup();
        assert_eq!(sentences.len(), Rejection::ALL.len());
    }
}
