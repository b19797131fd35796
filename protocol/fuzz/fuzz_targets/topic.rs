//! MQTT topics and ids: `Topic::parse` and every id constructor on any text.
//!
//! Invariants: a parsed topic prints as the text it was parsed from, and never holds an MQTT
//! wildcard; an id that constructs is the text it was made from, in `a-z0-9-_`.
#![no_main]

use bygd_protocol::{CommandId, DoorId, GatewayId, MemberId, PassId, SiteId, Topic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(topic) = Topic::parse(text) {
        assert_eq!(topic.to_string(), text);
        assert!(!text.contains(['+', '#']));
    }
    let id_chars = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    for ok in [
        SiteId::new(text).map(|i| i.as_str() == text).ok(),
        GatewayId::new(text).map(|i| i.as_str() == text).ok(),
        DoorId::new(text).map(|i| i.as_str() == text).ok(),
        MemberId::new(text).map(|i| i.as_str() == text).ok(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(ok && id_chars(text) && !text.is_empty());
    }
    if let Some(id) = PassId::from_hex(text) {
        assert_eq!(id.to_string(), text.to_ascii_lowercase());
        assert_eq!(CommandId::from_hex(text).map(|c| c.0), Some(id.0));
    }
});
