//! Showing the local entry log: one line per event for people, or one JSON object per line.
//! What a line says about an event is the protocol crate's wording (`EventBody`'s `Display`),
//! shared with the dashboard; this file adds the sequence number and the site's local time.

use bygd_protocol::{CommandOutcome, Event, EventBody, MemberId};
use serde_json::json;

/// An event as a JSON object (the `--json` form of `bygd-gateway log`).
#[must_use]
pub fn event_json(event: &Event) -> serde_json::Value {
    let mut value = json!({
        "seq": event.seq,
        "time": event.time.0,
        "clock": event.clock.name(),
        "type": event.body.kind(),
    });
    let body = match &event.body {
        EventBody::EntryGranted {
            door,
            pass_id,
            member,
            kind,
            device_bound,
        } => json!({
            "door": door.as_str(), "pass_id": pass_id.to_string(),
            "member": member.as_str(), "kind": kind.name(), "device_bound": device_bound,
        }),
        EventBody::EntryDenied {
            door,
            reason,
            pass_id,
            member,
        } => json!({
            "door": door.as_str(), "reason": reason.code(),
            "pass_id": pass_id.map(|p| p.to_string()), "member": member.as_ref().map(|m| m.as_str()),
        }),
        EventBody::DoorOpened { door } => json!({ "door": door.as_str() }),
        EventBody::DoorClosed { door } => json!({ "door": door.as_str() }),
        EventBody::HeldOpen { door, raised } => {
            json!({ "door": door.as_str(), "raised": raised })
        }
        EventBody::ForcedOpen { door, raised } => {
            json!({ "door": door.as_str(), "raised": raised })
        }
        EventBody::ExitButton { door } => json!({ "door": door.as_str() }),
        EventBody::Lockdown { door, on } => {
            json!({ "door": door.as_ref().map(|d| d.as_str()), "on": on })
        }
        EventBody::CommandResult {
            command,
            seq,
            outcome,
        } => json!({
            "command": command.to_string(), "command_seq": seq,
            "outcome": match outcome { CommandOutcome::Done => "done", CommandOutcome::Refused(r) => r.code() },
        }),
        EventBody::GatewayStarted { version } => {
            json!({ "version": version })
        }
        EventBody::ClockChanged { quality, floor } => {
            json!({ "quality": quality.name(), "floor": floor.0 })
        }
        EventBody::RevocationApplied { version } => {
            json!({ "version": version })
        }
        EventBody::RevocationRefused { version, reason } => {
            json!({ "version": version, "reason": reason.code() })
        }
        EventBody::DenialsRepeated {
            door,
            reason,
            pass_id,
            member,
            count,
            first,
            last,
        } => json!({
            "door": door.as_str(),
            "reason": reason.code(),
            "pass_id": pass_id.map(|p| p.to_string()),
            "member": member.as_ref().map(MemberId::as_str),
            "count": count,
            "first": first.0,
            "last": last.0,
        }),
        EventBody::DiskLow { raised, free_bytes } => {
            json!({ "raised": raised, "free_bytes": free_bytes })
        }
        other => json!({ "debug": format!("{other:?}") }),
    };
    if let (Some(v), serde_json::Value::Object(b)) = (value.as_object_mut(), body) {
        v.extend(b);
    }
    value
}

/// An event as one line for people, with the time in `zone`.
#[must_use]
pub fn event_line(event: &Event, zone: &jiff::tz::TimeZone) -> String {
    let time = jiff::Timestamp::from_second(i64::try_from(event.time.0).unwrap_or(0))
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_else(|_| event.time.0.to_string());
    let clock = match event.clock {
        bygd_protocol::ClockQuality::Synchronised => String::new(),
        quality => format!(" ({})", quality.describe()),
    };
    format!("#{:<6} {time}{clock}  {}", event.seq, event.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bygd_protocol::{ClockQuality, CommandId, Rejection, UnixTime};

    fn line(clock: ClockQuality, body: EventBody) -> String {
        let event = Event {
            seq: 7,
            time: UnixTime(1_764_000_000),
            clock,
            prev_hash: [0; 32],
            body,
        };
        event_line(&event, &jiff::tz::TimeZone::UTC)
    }

    #[test]
    fn a_refused_command_and_a_refused_list_read_as_sentences() {
        let command = line(
            ClockQuality::Synchronised,
            EventBody::CommandResult {
                command: CommandId([1; 16]),
                seq: 3,
                outcome: CommandOutcome::Refused(Rejection::ReplayedCommand),
            },
        );
        assert!(
            command.ends_with("refused: this command (or a later one) was already accepted"),
            "{command}"
        );
        assert!(
            command.starts_with("#7      2025-11-24 16:00:00 UTC  command "),
            "{command}"
        );
        let list = line(
            ClockQuality::Floor,
            EventBody::RevocationRefused {
                version: None,
                reason: Rejection::BadSignature,
            },
        );
        assert!(
            list.ends_with(
                "(clock behind: floor time)  a revocation list was refused: the signature does not verify"
            ),
            "{list}"
        );
        for text in [command, list] {
            for debug in ["Refused(", "None", "Some(", "ReplayedCommand"] {
                assert!(!text.contains(debug), "{text}");
            }
        }
    }
}
