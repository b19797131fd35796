//! A gateway's status: retained on its `status` topic, sent at connect, at every heartbeat
//! and as its last will. Unsigned and informational: nothing may act on it beyond showing it
//! and raising the offline alarm (section 8 of `SPEC.md`).
//!
//! Unlike every other message it is JSON, not CBOR: it is read by people and by tools
//! subscribed to the broker as much as by the dashboard. The encoding is fixed all the same:
//! compact JSON, object keys in byte order (the field order below), absent fields left out.
//! A decoder needs only `online` and ignores keys it does not know, so a newer gateway's
//! status still reads.

use crate::DecodeError;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The largest status accepted, in bytes, checked before any decoding. A gateway's status
/// with 32 doors is about 4 KiB; a larger one is noise (from a client holding the gateway's
/// broker credentials).
pub const MAX_STATUS_BYTES: usize = 64 * 1024;

/// A gateway's status. An online status carries every field; the last will and the goodbye
/// carry only `online` (false), `site` and `gateway`.
//
// The fields are in byte order of their names: serialised in declaration order, that is the
// order the gateway has always sent (a JSON object with sorted keys).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GatewayStatus {
    /// The decision core's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<CoreStatus>,
    /// Each door's state, in the order of the gateway's config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doors: Option<Vec<DoorStatus>>,
    /// The gateway's id, as it names itself (the topic is what counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Whether the gateway is up and connected: false in its last will and its goodbye.
    pub online: bool,
    /// The gateway's site, as it names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// The gateway's clock when it sent this (Unix seconds; not trusted, a Pi may have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    /// The MQTT uplink's own troubles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<UplinkStatus>,
    /// The gateway software's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One door's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorStatus {
    /// Forced-open alarm active.
    pub forced_open: bool,
    /// Held-open alarm active.
    pub held_open: bool,
    /// The door's id.
    pub id: String,
    /// Lockdown active.
    pub lockdown: bool,
    /// Whether the door stands open (absent before its sensor was first read).
    pub open: Option<bool>,
    /// Whether the lock is released.
    pub released: bool,
}

/// The decision core's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreStatus {
    /// How far the clock was trusted at the last decision (`synced`, `floor`, …).
    pub clock: String,
    /// The clock floor (Unix seconds).
    pub clock_floor: u64,
    /// Whether free disk space is below the configured watermark.
    pub disk_low: bool,
    /// Free bytes on the data directory's disk at the last check, if it could be read.
    pub free_disk_bytes: Option<u64>,
    /// The last event's sequence number.
    pub head_seq: u64,
    /// Doors (or `*`) in lockdown.
    pub lockdowns: Vec<String>,
    /// Events waiting for the dashboard's ack.
    pub outbox: u64,
    /// Seconds since the newest revocation list was issued, if any was applied.
    pub revocation_age_seconds: Option<u64>,
    /// Whether the revocation list is older than the alarm threshold.
    pub revocation_stale: bool,
    /// The revocation list version held per issuer key id.
    pub revocation_versions: Vec<(String, u64)>,
}

/// The MQTT uplink's troubles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UplinkStatus {
    /// Packets over the client's limit since the gateway started.
    pub oversize_messages: u64,
    /// Whether the revocation topic is left alone for a while after one.
    pub revocations_paused: bool,
}

impl GatewayStatus {
    /// The last will and the goodbye: offline, with the gateway's names.
    #[must_use]
    pub fn offline(site: &str, gateway: &str) -> Self {
        Self {
            online: false,
            site: Some(site.into()),
            gateway: Some(gateway.into()),
            ..Self::default()
        }
    }

    /// The status's bytes on the wire.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        // Plain data with string keys: serialising it to a vector cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a status: one JSON object with at least `online`, at most [`MAX_STATUS_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_STATUS_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_STATUS_BYTES,
            });
        }
        let mut items = serde_json::Deserializer::from_slice(bytes).into_iter::<Self>();
        let status = match items.next() {
            Some(Ok(status)) => status,
            Some(Err(e)) if e.is_eof() => return Err(DecodeError::Truncated),
            Some(Err(e)) if e.is_data() => {
                return Err(DecodeError::Malformed(
                    "status must be a JSON object with `online` (true or false)",
                ))
            }
            Some(Err(_)) => return Err(DecodeError::Malformed("status is not JSON")),
            None => return Err(DecodeError::Truncated),
        };
        let rest = &bytes[items.byte_offset()..];
        let count = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(0, |start| rest.len() - start);
        if count > 0 {
            return Err(DecodeError::TrailingBytes { count });
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn online() -> GatewayStatus {
        GatewayStatus {
            core: Some(CoreStatus {
                clock: "synced".into(),
                clock_floor: 1_794_812_400,
                disk_low: false,
                free_disk_bytes: Some(1 << 30),
                head_seq: 8,
                lockdowns: vec![],
                outbox: 0,
                revocation_age_seconds: None,
                revocation_stale: false,
                revocation_versions: vec![("31ef944a0eaa215e".into(), 3)],
            }),
            doors: Some(vec![DoorStatus {
                forced_open: false,
                held_open: false,
                id: "front".into(),
                lockdown: false,
                open: None,
                released: false,
            }]),
            gateway: Some("gw1".into()),
            online: true,
            site: Some("byn".into()),
            time: Some(1_794_812_401),
            uplink: Some(UplinkStatus {
                oversize_messages: 0,
                revocations_paused: false,
            }),
            version: Some("0.1.0".into()),
        }
    }

    #[test]
    fn a_status_reads_back_the_same() {
        for status in [online(), GatewayStatus::offline("byn", "gw1")] {
            assert_eq!(GatewayStatus::decode(&status.encode()), Ok(status));
        }
    }

    #[test]
    fn keys_are_written_in_byte_order() {
        let text = String::from_utf8(online().encode()).unwrap();
        let keys: Vec<usize> = [
            "\"core\"",
            "\"doors\"",
            "\"gateway\"",
            "\"online\"",
            "\"site\"",
        ]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(
            GatewayStatus::offline("byn", "gw1").encode(),
            br#"{"gateway":"gw1","online":false,"site":"byn"}"#
        );
    }

    #[test]
    fn only_online_is_required_and_unknown_keys_are_ignored() {
        let status = GatewayStatus::decode(br#" {"online": true, "x": [1]} "#).unwrap();
        assert_eq!(
            status,
            GatewayStatus {
                online: true,
                ..GatewayStatus::default()
            }
        );
    }

    #[test]
    fn what_is_not_a_status_is_refused_with_its_reason() {
        for (bytes, want) in [
            (&br#"{"online": "yes"}"#[..], "malformed"),
            (br#"{"site": "byn"}"#, "malformed"),
            (br#"[true]"#, "malformed"),
            (b"\x5a\x5a", "malformed"),
            (br#"{"online": tr"#, "truncated"),
            (b"", "truncated"),
            (br#"{"online": true} {}"#, "trailing_bytes"),
        ] {
            let got = GatewayStatus::decode(bytes).unwrap_err();
            assert_eq!(crate::Rejection::from(&got).code(), want, "{bytes:?}");
        }
        let large = vec![b' '; MAX_STATUS_BYTES + 1];
        assert_eq!(
            GatewayStatus::decode(&large),
            Err(DecodeError::TooLarge {
                len: MAX_STATUS_BYTES + 1,
                max: MAX_STATUS_BYTES
            })
        );
    }
}
