//! Passes: `open_pass` on raw bytes, edited valid passes, and re-signed (edited) payloads.
//!
//! Invariants: no wrong accept; a re-signed pass that opens has nbf < exp and 1 to 16 sites,
//! and its claims issue again to a pass that opens to the same claims.
#![no_main]

use bygd_protocol::open_pass;
use bygd_protocol_fuzz::{check_signed, fixture, signed_input, ISSUER_SEED, PASS_CONTEXT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let input = signed_input(data, &fixture.passes, PASS_CONTEXT, &ISSUER_SEED);
    let result = open_pass(&input.bytes, &fixture.issuers);
    check_signed(&input, &fixture.passes, &result);
    if let Ok(pass) = result {
        let claims = pass.claims;
        assert!(claims.not_before < claims.expires);
        assert!((1..=16).contains(&claims.scope.len()));
        let again = open_pass(&claims.issue(&fixture.issuer), &fixture.issuers);
        assert_eq!(again.map(|p| p.claims), Ok(claims));
    }
});
