//! Presentations: what a reader hands the gateway, a bare pass or a pass with a device proof.
//!
//! A static QR code can be screenshotted and shared. A pass that names a device key (P-256,
//! the one curve phone secure hardware and WebCrypto all offer) opens only with a fresh proof:
//! an ES256 signature by that key over the pass id, the current 30-second time step and a
//! counter the phone increments for every proof. The gateway accepts each counter once
//! (strictly increasing per pass), so a copied proof opens nothing the original did not.
//!
//! [`verify_presentation`] runs every check of SPEC.md in order, including revocation and
//! replay, which it reads through the [`Revocations`] and [`ProofCounters`] traits so the
//! caller can back them with an in-memory state or a database.

use crate::cbor::{self, b, u};
use crate::pass::{open_pass, AccessContext, VerifiedPass};
use crate::{DecodeError, MemberId, PassId, Refusal, Rejection, TrustedKeys, UnixTime};
use alloc::vec::Vec;
use coset::cbor::value::Value;
use p256::ecdsa::signature::{Signer as _, Verifier as _};

/// Seconds per proof time step, as TOTP (RFC 6238) uses: long enough for a person to hold a
/// phone to a reader, short enough that a photographed code is stale at once.
pub const TIME_STEP_SECONDS: u64 = 30;

/// Signed first in every proof message, so a device key's signature made for anything else
/// (a WebAuthn assertion, another app) can never pass as a door proof.
pub const PROOF_CONTEXT: &[u8] = b"bygd/v1/device-proof";

/// Length of a compressed SEC1 P-256 public key, the only form a pass carries.
pub(crate) const COMPRESSED_KEY_LEN: usize = 33;

/// A phone's P-256 public key, named in a pass.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceKey(p256::ecdsa::VerifyingKey);

impl DeviceKey {
    /// Parses a SEC1 public key, compressed (33 bytes) or uncompressed (65 bytes, as
    /// WebCrypto's `exportKey("raw")` gives it).
    #[must_use]
    pub fn from_sec1(bytes: &[u8]) -> Option<Self> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .ok()
            .map(Self)
    }

    /// The compressed 33-byte SEC1 form a pass carries.
    #[must_use]
    pub fn to_sec1(&self) -> Vec<u8> {
        self.0.to_encoded_point(true).as_bytes().to_vec()
    }
}

impl core::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeviceKey(")?;
        for byte in self.to_sec1().iter().take(8) {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("..)")
    }
}

/// A phone's P-256 secret key: what a phone app (or a test standing in for one) signs
/// proofs with. Its `Debug` prints nothing secret.
#[derive(Clone)]
pub struct DeviceSecretKey(p256::ecdsa::SigningKey);

impl DeviceSecretKey {
    /// The key from a 32-byte big-endian scalar; `None` if it is zero or not below the order.
    #[must_use]
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        p256::ecdsa::SigningKey::from_slice(bytes).ok().map(Self)
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> DeviceKey {
        DeviceKey(*self.0.verifying_key())
    }

    /// Signs a proof for `pass_id` at `time_step` with `counter` (deterministic, RFC 6979).
    #[must_use]
    pub fn prove(&self, pass_id: &PassId, time_step: u64, counter: u64) -> DeviceProof {
        let signature: p256::ecdsa::Signature =
            self.0.sign(&proof_message(pass_id, time_step, counter));
        let mut raw = [0u8; 64];
        raw.copy_from_slice(&signature.to_bytes());
        DeviceProof {
            time_step,
            counter,
            signature: raw,
        }
    }
}

impl core::fmt::Debug for DeviceSecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DeviceSecretKey({:?})", self.public_key())
    }
}

/// The bytes a device proof signs: `PROOF_CONTEXT || pass id (16) || time step (u64 BE) ||
/// counter (u64 BE)`. ES256 hashes them with SHA-256.
#[must_use]
pub fn proof_message(pass_id: &PassId, time_step: u64, counter: u64) -> Vec<u8> {
    let mut message = Vec::with_capacity(PROOF_CONTEXT.len() + 16 + 8 + 8);
    message.extend_from_slice(PROOF_CONTEXT);
    message.extend_from_slice(pass_id.as_bytes());
    message.extend_from_slice(&time_step.to_be_bytes());
    message.extend_from_slice(&counter.to_be_bytes());
    message
}

/// A fresh proof of holding the device key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProof {
    /// `floor(unix time / 30)` on the phone when it signed.
    pub time_step: u64,
    /// The phone's counter, incremented for every proof it makes for this pass.
    pub counter: u64,
    /// ES256 signature, `r || s`, 32 bytes each (as WebCrypto produces it).
    pub signature: [u8; 64],
}

/// A pass as presented at a reader: its bytes, and a device proof if it is device-bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// The pass (COSE_Sign1 bytes).
    pub pass: Vec<u8>,
    /// The device proof, for a device-bound pass.
    pub proof: Option<DeviceProof>,
}

impl Presentation {
    /// A device-bound presentation's bytes: `[pass, time step, counter, signature]`.
    #[must_use]
    pub fn proof_bytes(pass: &[u8], proof: &DeviceProof) -> Vec<u8> {
        cbor::encode(&Value::Array(alloc::vec![
            b(pass),
            u(proof.time_step),
            u(proof.counter),
            b(&proof.signature),
        ]))
    }

    /// Decodes a device-bound presentation's bytes.
    pub fn from_proof_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "presentation must be [pass, time step, counter, 64-byte signature]";
        let value = cbor::decode(bytes)?;
        let [pass, step, counter, signature] = cbor::tuple::<4>(&value, WHAT)?;
        Ok(Self {
            pass: cbor::bytes(pass, WHAT)?.to_vec(),
            proof: Some(DeviceProof {
                time_step: cbor::uint(step, WHAT)?,
                counter: cbor::uint(counter, WHAT)?,
                signature: cbor::bytes_n::<64>(signature, WHAT)?,
            }),
        })
    }
}

/// What the gateway stores when it accepts a device proof, so it refuses the same or an older
/// counter for this pass: in the same durable write as the entry it opened the door for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofUse {
    /// The pass.
    pub pass_id: PassId,
    /// The counter accepted; the next proof must carry a higher one.
    pub counter: u64,
    /// The proof's time step, for pruning records of passes long expired.
    pub time_step: u64,
}

/// A presentation that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPresentation {
    /// The verified pass.
    pub pass: VerifiedPass,
    /// For a device-bound pass, the proof use to store.
    pub proof: Option<ProofUse>,
}

/// Read access to the revocations a verifier holds.
pub trait Revocations {
    /// Whether this pass id is revoked.
    fn is_pass_revoked(&self, pass_id: &PassId) -> bool;
    /// Whether this member is revoked (all their passes).
    fn is_member_revoked(&self, member: &MemberId) -> bool;
}

/// Read access to the highest proof counter accepted per pass.
pub trait ProofCounters {
    /// The highest counter accepted for this pass, if any proof was.
    fn last_counter(&self, pass_id: &PassId) -> Option<u64>;
}

/// Revocations that revoke nothing, for callers that hold no list.
impl Revocations for () {
    fn is_pass_revoked(&self, _: &PassId) -> bool {
        false
    }
    fn is_member_revoked(&self, _: &MemberId) -> bool {
        false
    }
}

/// Proof counters that remember nothing.
impl ProofCounters for () {
    fn last_counter(&self, _: &PassId) -> Option<u64> {
        None
    }
}

/// Verifies a presentation for entry, running every check in SPEC.md's order:
/// pass signature and claims, validity window, site, door, schedule, revocation (pass, then
/// member), device proof presence, time step, proof signature, replay.
///
/// `max_skew_seconds` is how far the phone's clock may be from `at.now`.
pub fn verify_presentation(
    presentation: &Presentation,
    issuers: &TrustedKeys,
    revocations: &impl Revocations,
    counters: &impl ProofCounters,
    at: &AccessContext<'_>,
    max_skew_seconds: u64,
) -> Result<VerifiedPresentation, Refusal> {
    let pass = open_pass(&presentation.pass, issuers)?;
    Ok(check_presentation(
        pass,
        presentation.proof.as_ref(),
        revocations,
        counters,
        at,
        max_skew_seconds,
    )?)
}

/// [`verify_presentation`]'s checks after the pass's signature: for a caller that opened the
/// pass itself ([`open_pass`]) and so still knows whose pass a refused presentation was.
pub fn check_presentation(
    pass: VerifiedPass,
    proof: Option<&DeviceProof>,
    revocations: &impl Revocations,
    counters: &impl ProofCounters,
    at: &AccessContext<'_>,
    max_skew_seconds: u64,
) -> Result<VerifiedPresentation, Rejection> {
    let claims = &pass.claims;
    claims.check_access(at)?;
    if revocations.is_pass_revoked(&claims.pass_id) {
        return Err(Rejection::Revoked);
    }
    if revocations.is_member_revoked(&claims.member) {
        return Err(Rejection::MemberRevoked);
    }
    let proof = match (&claims.device_key, proof) {
        (None, None) => None,
        (Some(_), None) => return Err(Rejection::ProofRequired),
        (None, Some(_)) => return Err(Rejection::BadProof),
        (Some(key), Some(proof)) => Some(check_proof(
            key,
            &claims.pass_id,
            proof,
            counters,
            at.now,
            max_skew_seconds,
        )?),
    };
    Ok(VerifiedPresentation { pass, proof })
}

fn check_proof(
    key: &DeviceKey,
    pass_id: &PassId,
    proof: &DeviceProof,
    counters: &impl ProofCounters,
    now: UnixTime,
    max_skew_seconds: u64,
) -> Result<ProofUse, Rejection> {
    let earliest = now.minus(max_skew_seconds).0 / TIME_STEP_SECONDS;
    let latest = now.plus(max_skew_seconds).0 / TIME_STEP_SECONDS;
    if proof.time_step < earliest || proof.time_step > latest {
        return Err(Rejection::StaleProof);
    }
    let signature =
        p256::ecdsa::Signature::from_slice(&proof.signature).map_err(|_| Rejection::BadProof)?;
    key.0
        .verify(
            &proof_message(pass_id, proof.time_step, proof.counter),
            &signature,
        )
        .map_err(|_| Rejection::BadProof)?;
    if counters
        .last_counter(pass_id)
        .is_some_and(|last| proof.counter <= last)
    {
        return Err(Rejection::ReplayedProof);
    }
    Ok(ProofUse {
        pass_id: *pass_id,
        counter: proof.counter,
        time_step: proof.time_step,
    })
}
