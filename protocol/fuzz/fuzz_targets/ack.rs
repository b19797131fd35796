//! Acks: `verify_ack` for the fixture's gateway on raw, edited and re-signed inputs.
//!
//! Invariants: no wrong accept; a re-signed ack that verifies covers at least event 1, is
//! addressed to this gateway and signs again to the same ack.
#![no_main]

use bygd_protocol::verify_ack;
use bygd_protocol_fuzz::{check_signed, fixture, signed_input, ACK_CONTEXT, ISSUER_SEED};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let verify =
        |bytes: &[u8]| verify_ack(bytes, &fixture.issuers, &fixture.site, &fixture.gateway);
    let input = signed_input(data, &fixture.acks, ACK_CONTEXT, &ISSUER_SEED);
    let result = verify(&input.bytes);
    check_signed(&input, &fixture.acks, &result);
    if let Ok(ack) = result {
        assert!(ack.up_to >= 1);
        assert_eq!((&ack.site, &ack.gateway), (&fixture.site, &fixture.gateway));
        assert_eq!(verify(&ack.sign(&fixture.issuer)), Ok(ack));
    }
});
