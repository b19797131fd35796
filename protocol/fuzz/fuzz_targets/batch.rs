//! Event batches: `verify_batch` under the gateway key, on raw, edited and re-signed inputs.
//!
//! Invariants: no wrong accept; the events of any batch that verifies are consecutive, each
//! linking by hash to the one before, with hashes over their exact bytes.
#![no_main]

use bygd_protocol::{hash_event, verify_batch, Event, MAX_BATCH_EVENTS};
use bygd_protocol_fuzz::{check_signed, fixture, signed_input, BATCH_CONTEXT, GATEWAY_SEED};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let input = signed_input(data, &fixture.batches, BATCH_CONTEXT, &GATEWAY_SEED);
    let result = verify_batch(
        &input.bytes,
        fixture.gateway_key.public_key(),
        &fixture.site,
        &fixture.gateway,
    );
    check_signed(&input, &fixture.batches, &result);
    if let Ok(batch) = result {
        assert!((1..=MAX_BATCH_EVENTS).contains(&batch.events.len()));
        for pair in batch.events.windows(2) {
            assert_eq!(pair[0].event.seq.checked_add(1), Some(pair[1].event.seq));
            assert_eq!(pair[1].event.prev_hash, pair[0].hash);
        }
        for e in &batch.events {
            assert_eq!(e.hash, hash_event(&e.bytes));
            assert_eq!(Event::decode(&e.bytes).as_ref(), Ok(&e.event));
        }
    }
});
