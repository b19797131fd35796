//! Events: `Event::decode` on raw bytes and edited valid events.
//!
//! Invariant: a decoded event encodes to bytes that decode to the same event.
#![no_main]

use bygd_protocol::{Event, Rejection};
use bygd_protocol_fuzz::{apply_edits, fixture, DECODE_REASONS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let bytes = match data.split_first() {
        Some((&mode, rest)) if mode % 2 == 1 => {
            let (&which, edits) = rest.split_first().unwrap_or((&0, &[]));
            apply_edits(
                &fixture.events[usize::from(which) % fixture.events.len()],
                edits,
            )
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    match Event::decode(&bytes) {
        Err(e) => assert!(DECODE_REASONS.contains(&Rejection::from(&e))),
        Ok(event) => assert_eq!(Event::decode(&event.encode()), Ok(event)),
    }
});
