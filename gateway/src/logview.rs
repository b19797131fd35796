//! Showing the local entry log: one line per event for people, or one JSON object per line.

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
        bygd_protocol::ClockQuality::Synchronised => "",
        bygd_protocol::ClockQuality::Unsynchronised => " (clock not synchronised)",
        bygd_protocol::ClockQuality::Floor => " (clock behind; floor used)",
    };
    let what = match &event.body {
        EventBody::EntryGranted {
            door,
            pass_id,
            member,
            kind,
            device_bound,
        } => format!(
            "{door}: GRANTED {member} ({}{}) pass {pass_id}",
            kind.name(),
            if *device_bound { ", phone-bound" } else { "" }
        ),
        EventBody::EntryDenied {
            door,
            reason,
            member,
            ..
        } => format!(
            "{door}: DENIED {}: {}",
            member.as_ref().map_or("unknown holder", |m| m.as_str()),
            reason.describe()
        ),
        EventBody::DoorOpened { door } => format!("{door}: door opened"),
        EventBody::DoorClosed { door } => format!("{door}: door closed"),
        EventBody::HeldOpen { door, raised } => format!(
            "{door}: held-open alarm {}",
            if *raised { "RAISED" } else { "cleared" }
        ),
        EventBody::ForcedOpen { door, raised } => format!(
            "{door}: forced-open alarm {}",
            if *raised { "RAISED" } else { "cleared" }
        ),
        EventBody::ExitButton { door } => format!("{door}: exit button"),
        EventBody::Lockdown { door, on } => format!(
            "{}: lockdown {}",
            door.as_ref().map_or("all doors", |d| d.as_str()),
            if *on { "ON" } else { "off" }
        ),
        EventBody::CommandResult {
            command, outcome, ..
        } => format!("command {command}: {outcome:?}"),
        EventBody::GatewayStarted { version } => format!("gateway started (bygd {version})"),
        EventBody::ClockChanged { quality, .. } => format!("clock is {}", quality.name()),
        EventBody::RevocationApplied { version } => format!("revocation list v{version} applied"),
        EventBody::RevocationRefused { version, reason } => {
            format!("revocation list {version:?} refused: {}", reason.describe())
        }
        EventBody::DenialsRepeated {
            door,
            reason,
            count,
            ..
        } => format!("{door}: denied {count} more times ({})", reason.code()),
        EventBody::DiskLow { raised, free_bytes } => format!(
            "disk space low {} ({} MB free)",
            if *raised { "raised" } else { "cleared" },
            free_bytes / 1_000_000
        ),
        other => format!("{other:?}"),
    };
    format!("#{:<6} {time}{clock}  {what}", event.seq)
}
