//! Base45: `base45_decode` on any text, and `base45_encode` on any bytes.
//!
//! Invariants: text that decodes is exactly the encoding of what it decodes to (one encoding
//! per byte string); any bytes round-trip.
#![no_main]

use bygd_protocol::{base45_decode, base45_encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = base45_decode(text) {
            assert_eq!(base45_encode(&bytes), text);
        }
    }
    assert_eq!(base45_decode(&base45_encode(data)).as_deref(), Ok(data));
});
