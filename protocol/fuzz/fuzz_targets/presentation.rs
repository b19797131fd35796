//! Device-bound presentations: `Presentation::from_proof_bytes`, then `verify_presentation`.
//!
//! Invariants: a decoded presentation round-trips through `proof_bytes`; only a shown
//! presentation verifies.
#![no_main]

use bygd_protocol::{Presentation, Rejection};
use bygd_protocol_fuzz::{apply_edits, fixture, DECODE_REASONS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let bytes = match data.split_first() {
        Some((&mode, rest)) if mode % 2 == 1 => apply_edits(&fixture.proof_bytes[0], rest),
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    match Presentation::from_proof_bytes(&bytes) {
        Err(e) => assert!(DECODE_REASONS.contains(&Rejection::from(&e))),
        Ok(presentation) => {
            let proof = presentation.proof.as_ref().expect("a device proof");
            let again = Presentation::proof_bytes(&presentation.pass, proof);
            assert_eq!(
                Presentation::from_proof_bytes(&again),
                Ok(presentation.clone())
            );
            fixture.check_presentation(&presentation);
        }
    }
});
