//! QR text: `decode_qr`, then `verify_presentation` at the fixture's door.
//!
//! Invariants: decoding round-trips through `encode_qr` (exactly, for a bare pass, since
//! base45 has one encoding per byte string); only a shown presentation verifies.
#![no_main]

use bygd_protocol::{decode_qr, encode_qr, Rejection, MAX_QR_TEXT_LEN};
use bygd_protocol_fuzz::fixture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    // The first byte picks raw text or a valid code with edits; readers hand over bytes, so
    // text that is not UTF-8 is read lossily as a reader would.
    let bytes = match data.split_first() {
        Some((&mode, rest)) if mode % 2 == 1 => {
            let (&which, edits) = rest.split_first().unwrap_or((&0, &[]));
            let original = &fixture.qr_texts[usize::from(which) % fixture.qr_texts.len()];
            bygd_protocol_fuzz::apply_edits(original.as_bytes(), edits)
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    let text = String::from_utf8_lossy(&bytes);
    match decode_qr(&text) {
        Err(e) => {
            assert!(bygd_protocol_fuzz::DECODE_REASONS.contains(&Rejection::from(&e)));
            if text.len() > MAX_QR_TEXT_LEN {
                assert!(matches!(e, bygd_protocol::DecodeError::TooLarge { .. }));
            }
        }
        Ok(presentation) => {
            let again = encode_qr(&presentation);
            if presentation.proof.is_none() {
                assert_eq!(again, text);
            }
            assert_eq!(decode_qr(&again), Ok(presentation.clone()));
            fixture.check_presentation(&presentation);
        }
    }
});
