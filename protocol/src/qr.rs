//! The text a QR code (or an NFC tag, or a `present` command) carries.
//!
//! `BYGD1:` + base45(pass) for a bare pass, `BYGD1D:` + base45([pass, time step, counter,
//! signature]) for a device-bound presentation. Every character of both prefixes and of
//! base45 is in the QR alphanumeric set, so the whole text encodes in alphanumeric mode.
//! Decoding checks the length cap, the prefix and the alphabet before any CBOR or crypto.

use crate::{base45, DecodeError, Presentation};
use alloc::string::String;

/// Prefix of a bare pass. The `1` is the format version: a later format gets a new prefix,
/// and an old gateway says "not a bygd code" instead of misreading it.
pub const PASS_PREFIX: &str = "BYGD1:";

/// Prefix of a pass with a device proof.
pub const PRESENTATION_PREFIX: &str = "BYGD1D:";

/// The longest QR text accepted, in bytes: base45 of 1,024 bytes. Twice the largest realistic
/// presentation, and refused before any work so that a hostile reader cannot make the gateway
/// decode megabytes.
pub const MAX_QR_TEXT_LEN: usize = 1536;

/// The QR text for a presentation.
#[must_use]
pub fn encode_qr(presentation: &Presentation) -> String {
    match &presentation.proof {
        None => {
            let mut text = String::from(PASS_PREFIX);
            text.push_str(&base45::encode(&presentation.pass));
            text
        }
        Some(proof) => {
            let mut text = String::from(PRESENTATION_PREFIX);
            text.push_str(&base45::encode(&Presentation::proof_bytes(
                &presentation.pass,
                proof,
            )));
            text
        }
    }
}

/// Decodes QR text into a presentation. The pass inside is not verified yet.
pub fn decode_qr(text: &str) -> Result<Presentation, DecodeError> {
    if text.len() > MAX_QR_TEXT_LEN {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: MAX_QR_TEXT_LEN,
        });
    }
    if let Some(body) = text.strip_prefix(PRESENTATION_PREFIX) {
        return Presentation::from_proof_bytes(&base45::decode(body)?);
    }
    if let Some(body) = text.strip_prefix(PASS_PREFIX) {
        return Ok(Presentation {
            pass: base45::decode(body)?,
            proof: None,
        });
    }
    Err(DecodeError::BadPrefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_pass_round_trips_through_qr_text() {
        let p = Presentation {
            pass: alloc::vec![0x84, 1, 2, 3],
            proof: None,
        };
        let text = encode_qr(&p);
        assert!(text.starts_with(PASS_PREFIX));
        assert_eq!(decode_qr(&text).unwrap(), p);
    }

    #[test]
    fn text_over_the_cap_is_refused_before_decoding() {
        let text = alloc::format!("{PASS_PREFIX}{}", "0".repeat(MAX_QR_TEXT_LEN));
        assert!(matches!(
            decode_qr(&text),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn an_unknown_prefix_is_refused() {
        assert_eq!(decode_qr("HC1:6BFOXN"), Err(DecodeError::BadPrefix));
        assert_eq!(decode_qr("bygd1:00"), Err(DecodeError::BadPrefix));
    }

    #[test]
    fn a_bad_character_is_reported_after_the_prefix() {
        assert_eq!(
            decode_qr("BYGD1:00a"),
            Err(DecodeError::BadCharacter { position: 2 })
        );
    }
}
