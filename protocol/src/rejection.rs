//! Why something was refused.
//!
//! [`DecodeError`] says what was wrong with bytes or text and where, for logs and for the
//! person who fed it. [`Rejection`] is the flat, stable reason code a gateway records in its
//! event log and a dashboard shows: every way a pass, a command, a revocation list or a batch
//! can be refused, with a `snake_case` code that never changes meaning once released. Its
//! sentence for people, [`Rejection::describe`], is in `wording.rs` with the rest of what
//! people are told.

use core::fmt;

/// What was wrong with encoded input, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is longer than this structure may ever be; refused before any work.
    TooLarge {
        /// The input's length in bytes.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// The QR text does not start with a known prefix (`BYGD1:` or `BYGD1D:`).
    BadPrefix,
    /// A character outside the base45 alphabet.
    BadCharacter {
        /// Its byte offset in the text after the prefix.
        position: usize,
    },
    /// Base45 text whose length leaves one character over (length mod 3 is 1).
    BadLength,
    /// A base45 group encodes a value too large for its bytes.
    BadGroup {
        /// Byte offset of the group in the text after the prefix.
        position: usize,
    },
    /// The bytes end in the middle of a structure.
    Truncated,
    /// Bytes left over after a complete structure.
    TrailingBytes {
        /// How many bytes are left over.
        count: usize,
    },
    /// The bytes are CBOR but not the structure expected; the text says which part.
    Malformed(&'static str),
    /// The signed structure uses an algorithm other than the one this profile allows.
    WrongAlgorithm,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { len, max } => {
                write!(f, "input is {len} bytes, more than the {max} allowed")
            }
            DecodeError::BadPrefix => {
                f.write_str("not a bygd code: it must start with BYGD1: or BYGD1D:")
            }
            DecodeError::BadCharacter { position } => {
                write!(
                    f,
                    "character at position {position} is not in the base45 alphabet"
                )
            }
            DecodeError::BadLength => f.write_str("base45 text has an impossible length"),
            DecodeError::BadGroup { position } => {
                write!(f, "base45 group at position {position} is out of range")
            }
            DecodeError::Truncated => f.write_str("input ends too early (truncated)"),
            DecodeError::TrailingBytes { count } => {
                write!(f, "{count} unexpected bytes after the end of the structure")
            }
            DecodeError::Malformed(what) => write!(f, "malformed: {what}"),
            DecodeError::WrongAlgorithm => f.write_str("signature algorithm is not EdDSA"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// The reason something was refused: a stable code recorded in events and shown to people.
///
/// One flat enum for passes, presentations, commands, revocation lists, batches and acks,
/// because an event names one reason and a dashboard filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    // --- Decoding (checked before any cryptography).
    /// Input longer than the cap for its kind.
    TooLarge,
    /// QR text without a bygd prefix.
    BadPrefix,
    /// Base45 alphabet, length or group error.
    BadEncoding,
    /// Ends in the middle of a structure.
    Truncated,
    /// Bytes after the end of the structure.
    TrailingBytes,
    /// Not the structure expected (wrong CBOR shape, unknown field, bad id).
    Malformed,
    // --- Signature.
    /// Signed by a key id this verifier does not trust.
    UnknownKey,
    /// The trusted key is a weak (small-order) key.
    WeakKey,
    /// Ed25519 signature whose scalar is not reduced (a malleated signature).
    NonCanonicalSignature,
    /// The signature does not verify.
    BadSignature,
    // --- Pass validity and scope.
    /// Now is before the pass's not-before time.
    NotYetValid,
    /// Now is at or after the pass's expiry.
    Expired,
    /// The pass does not name this site.
    WrongSite,
    /// The pass names this site but not this door.
    WrongDoor,
    /// Now is outside the pass's weekly schedule (in the site's time zone).
    OutsideSchedule,
    /// The pass id is on the revocation list.
    Revoked,
    /// The member is on the revocation list.
    MemberRevoked,
    // --- Device proof.
    /// The pass names a device key but no device proof was presented.
    ProofRequired,
    /// The device proof's signature does not verify, or the pass names no device key.
    BadProof,
    /// The device proof's time step is outside the allowed skew of now.
    StaleProof,
    /// A device proof with this counter (or a later one) was already accepted.
    ReplayedProof,
    // --- Gateway policy (decided by the gateway, recorded with the same codes).
    /// The door is in lockdown.
    Lockdown,
    /// The revocation list is older than the gateway's policy allows; only break-glass
    /// passes open.
    RevocationListStale,
    /// No door with this id at this gateway.
    UnknownDoor,
    // --- Commands, revocation lists, acks, batches.
    /// Addressed to another gateway or site.
    Misaddressed,
    /// Issued in the future beyond the allowed skew, or lives longer than allowed.
    BadLifetime,
    /// Sequence number not above the last accepted one, or command id seen before.
    ReplayedCommand,
    /// Delivered as a retained MQTT message, which commands never are.
    RetainedCommand,
    /// A revocation list older than (or as old as) the one held.
    Rollback,
    /// A revocation delta whose base version is not the version held.
    DeltaMismatch,
    /// Events whose sequence numbers are not consecutive.
    SequenceGap,
    /// An event whose previous-hash does not match the event before it.
    ChainBroken,
    /// An ack for events that were never sent, or whose hash does not match.
    UnknownAck,
}

impl Rejection {
    /// Every reason, in code order.
    pub const ALL: [Rejection; 33] = [
        Rejection::TooLarge,
        Rejection::BadPrefix,
        Rejection::BadEncoding,
        Rejection::Truncated,
        Rejection::TrailingBytes,
        Rejection::Malformed,
        Rejection::UnknownKey,
        Rejection::WeakKey,
        Rejection::NonCanonicalSignature,
        Rejection::BadSignature,
        Rejection::NotYetValid,
        Rejection::Expired,
        Rejection::WrongSite,
        Rejection::WrongDoor,
        Rejection::OutsideSchedule,
        Rejection::Revoked,
        Rejection::MemberRevoked,
        Rejection::ProofRequired,
        Rejection::BadProof,
        Rejection::StaleProof,
        Rejection::ReplayedProof,
        Rejection::Lockdown,
        Rejection::RevocationListStale,
        Rejection::UnknownDoor,
        Rejection::Misaddressed,
        Rejection::BadLifetime,
        Rejection::ReplayedCommand,
        Rejection::RetainedCommand,
        Rejection::Rollback,
        Rejection::DeltaMismatch,
        Rejection::SequenceGap,
        Rejection::ChainBroken,
        Rejection::UnknownAck,
    ];

    /// The stable `snake_case` code, as JSON output and test vectors spell it.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Rejection::TooLarge => "too_large",
            Rejection::BadPrefix => "bad_prefix",
            Rejection::BadEncoding => "bad_encoding",
            Rejection::Truncated => "truncated",
            Rejection::TrailingBytes => "trailing_bytes",
            Rejection::Malformed => "malformed",
            Rejection::UnknownKey => "unknown_key",
            Rejection::WeakKey => "weak_key",
            Rejection::NonCanonicalSignature => "non_canonical_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Expired => "expired",
            Rejection::WrongSite => "wrong_site",
            Rejection::WrongDoor => "wrong_door",
            Rejection::OutsideSchedule => "outside_schedule",
            Rejection::Revoked => "revoked",
            Rejection::MemberRevoked => "member_revoked",
            Rejection::ProofRequired => "proof_required",
            Rejection::BadProof => "bad_proof",
            Rejection::StaleProof => "stale_proof",
            Rejection::ReplayedProof => "replayed_proof",
            Rejection::Lockdown => "lockdown",
            Rejection::RevocationListStale => "revocation_list_stale",
            Rejection::UnknownDoor => "unknown_door",
            Rejection::Misaddressed => "misaddressed",
            Rejection::BadLifetime => "bad_lifetime",
            Rejection::ReplayedCommand => "replayed_command",
            Rejection::RetainedCommand => "retained_command",
            Rejection::Rollback => "rollback",
            Rejection::DeltaMismatch => "delta_mismatch",
            Rejection::SequenceGap => "sequence_gap",
            Rejection::ChainBroken => "chain_broken",
            Rejection::UnknownAck => "unknown_ack",
        }
    }

    /// The reason for a code, the inverse of [`Rejection::code`].
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The number that stands for this reason on the wire (its index in [`Rejection::ALL`]).
    #[must_use]
    pub fn wire(self) -> u8 {
        // ALL has 33 entries, so the index always fits.
        Self::ALL
            .iter()
            .position(|r| *r == self)
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(u8::MAX)
    }

    /// The reason for a wire number.
    #[must_use]
    pub fn from_wire(n: u64) -> Option<Self> {
        usize::try_from(n)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

/// Why a signed structure was not accepted: either its bytes did not decode (with where and
/// what), or it decoded and a rule refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes or text did not decode.
    Decode(DecodeError),
    /// It decoded, and a check refused it.
    Rejected(Rejection),
}

impl Refusal {
    /// The stable reason code for the event log.
    #[must_use]
    pub fn rejection(&self) -> Rejection {
        match self {
            Refusal::Decode(e) => Rejection::from(e),
            Refusal::Rejected(r) => *r,
        }
    }
}

impl core::error::Error for Refusal {}

impl From<DecodeError> for Refusal {
    fn from(e: DecodeError) -> Self {
        Refusal::Decode(e)
    }
}

impl From<Rejection> for Refusal {
    fn from(r: Rejection) -> Self {
        Refusal::Rejected(r)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Decode(e) => write!(f, "{e} ({})", self.rejection().code()),
            Refusal::Rejected(r) => write!(f, "{r}"),
        }
    }
}

impl From<&DecodeError> for Rejection {
    fn from(error: &DecodeError) -> Self {
        match error {
            DecodeError::TooLarge { .. } => Rejection::TooLarge,
            DecodeError::BadPrefix => Rejection::BadPrefix,
            DecodeError::BadCharacter { .. }
            | DecodeError::BadLength
            | DecodeError::BadGroup { .. } => Rejection::BadEncoding,
            DecodeError::Truncated => Rejection::Truncated,
            DecodeError::TrailingBytes { .. } => Rejection::TrailingBytes,
            DecodeError::Malformed(_) | DecodeError::WrongAlgorithm => Rejection::Malformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_wire_number_maps_back_to_its_reason() {
        for (i, reason) in Rejection::ALL.into_iter().enumerate() {
            assert_eq!(Rejection::from_code(reason.code()), Some(reason));
            assert_eq!(usize::from(reason.wire()), i);
            assert_eq!(Rejection::from_wire(i as u64), Some(reason));
        }
        assert_eq!(Rejection::from_wire(Rejection::ALL.len() as u64), None);
    }
}
