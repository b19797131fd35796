//! The one COSE_Sign1 profile every signed bygd structure uses.
//!
//! Profile: untagged COSE_Sign1; protected header exactly `{1: -8 (EdDSA), 4: key id (8
//! bytes)}`; unprotected header empty (nothing unsigned may change meaning); payload
//! attached; 64-byte Ed25519 signature. The external AAD of the signature is a context
//! string per structure kind ("bygd/v1/pass", "bygd/v1/command", ...), so a signature made
//! for one kind never verifies as another, at no cost in bytes.
//!
//! Checks run in this order: decode (the shortest, definite-length encoding only), profile,
//! key id known, signature scalar canonical, `verify_strict`.

use crate::key::KEY_ID_LEN;
use crate::{DecodeError, KeyId, PublicKey, Refusal, Rejection, SecretKey, TrustedKeys};
use alloc::vec::Vec;
use coset::{iana, CborSerializable as _, CoseSign1, CoseSign1Builder, HeaderBuilder};

/// Signature contexts (external AAD), one per structure kind.
pub(crate) mod context {
    /// A member pass.
    pub(crate) const PASS: &[u8] = b"bygd/v1/pass";
    /// A revocation list (full or delta).
    pub(crate) const REVOCATION: &[u8] = b"bygd/v1/revocation";
    /// A command to one gateway.
    pub(crate) const COMMAND: &[u8] = b"bygd/v1/command";
    /// A batch of gateway events.
    pub(crate) const BATCH: &[u8] = b"bygd/v1/batch";
    /// The dashboard's ack of stored events.
    pub(crate) const ACK: &[u8] = b"bygd/v1/ack";
}

/// CBOR items a COSE_Sign1 envelope may hold: the array, the protected header bstr, the
/// unprotected map, the payload and the signature are 5; a few more still decode far enough
/// to be refused with a precise reason. The envelope is unsigned, so its payload and header
/// are byte strings and nothing of an attacker's many tiny items is ever built.
const MAX_ENVELOPE_ITEMS: usize = 16;

/// The longest protected header accepted. `{1: -8, 4: kid}` takes 13 bytes as bygd encodes
/// it and at most 53 in CBOR's longest argument forms; the header is unsigned input to the
/// decoder, so its size is checked before the COSE library decodes it.
const MAX_PROTECTED_HEADER_LEN: usize = 64;

/// Ed25519's group order L, little-endian: a signature's scalar S must be below it.
const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Signs `payload` for the structure kind `context`.
pub(crate) fn sign(context: &[u8], key: &SecretKey, payload: Vec<u8>) -> Vec<u8> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key.id().0.to_vec())
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(context, |tbs| key.sign(tbs).to_vec())
        .build()
        .to_vec()
        // Encoding a well-formed CoseSign1 into a Vec cannot fail; an empty result would be
        // refused by every verifier.
        .unwrap_or_default()
}

/// A COSE_Sign1 that decoded and fits the profile; its signature is not checked yet.
pub(crate) struct Opened {
    sign1: CoseSign1,
    key_id: KeyId,
}

/// Decodes `bytes` and checks the profile.
pub(crate) fn open(bytes: &[u8]) -> Result<Opened, DecodeError> {
    let value = crate::cbor::decode_bounded(bytes, MAX_ENVELOPE_ITEMS).map_err(|e| {
        if e == crate::cbor::TOO_MANY_ITEMS {
            DecodeError::Malformed("COSE_Sign1 must be [protected, {}, payload, signature]")
        } else {
            e
        }
    })?;
    if matches!(value, coset::cbor::value::Value::Tag(..)) {
        return Err(DecodeError::Malformed("COSE_Sign1 must be untagged"));
    }
    // The envelope's own lengths (of the array and byte strings, and the empty unprotected map)
    // are not signed. Were CBOR's longer or indefinite-length forms accepted, anyone could make
    // many byte strings that verify as one signed structure; only the shortest form is.
    if crate::cbor::encode(&value) != bytes {
        return Err(DecodeError::Malformed(
            "COSE_Sign1 must use the shortest definite-length encoding",
        ));
    }
    if let coset::cbor::value::Value::Array(items) = &value {
        if let Some(coset::cbor::value::Value::Bytes(header)) = items.first() {
            if header.len() > MAX_PROTECTED_HEADER_LEN {
                return Err(DecodeError::Malformed(
                    "protected header has fields besides alg and kid",
                ));
            }
        }
    }
    let sign1 = {
        use coset::AsCborValue as _;
        CoseSign1::from_cbor_value(value).map_err(|_| DecodeError::Malformed("not a COSE_Sign1"))?
    };
    let header = &sign1.protected.header;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(DecodeError::WrongAlgorithm);
    }
    let key_id: [u8; KEY_ID_LEN] = header
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| DecodeError::Malformed("key id must be 8 bytes"))?;
    if !header.crit.is_empty()
        || header.content_type.is_some()
        || !header.iv.is_empty()
        || !header.partial_iv.is_empty()
        || !header.counter_signatures.is_empty()
        || !header.rest.is_empty()
    {
        return Err(DecodeError::Malformed(
            "protected header has fields besides alg and kid",
        ));
    }
    if !sign1.unprotected.is_empty() {
        return Err(DecodeError::Malformed("unprotected header must be empty"));
    }
    if sign1.payload.is_none() {
        return Err(DecodeError::Malformed("payload must be attached"));
    }
    if sign1.signature.len() != 64 {
        return Err(DecodeError::Malformed("signature must be 64 bytes"));
    }
    Ok(Opened {
        sign1,
        key_id: KeyId(key_id),
    })
}

impl Opened {
    /// The signer's key id, from the protected header.
    pub(crate) fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Checks the signature with `key` and returns the payload.
    pub(crate) fn verify(self, context: &[u8], key: &PublicKey) -> Result<Vec<u8>, Rejection> {
        if key.id() != self.key_id {
            return Err(Rejection::UnknownKey);
        }
        let signature: [u8; 64] = self
            .sign1
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| Rejection::Malformed)?;
        let mut scalar = [0u8; 32];
        scalar.copy_from_slice(&signature[32..]);
        if !is_canonical_scalar(&scalar) {
            return Err(Rejection::NonCanonicalSignature);
        }
        let signature = ed25519_dalek::Signature::from_bytes(&signature);
        self.sign1.verify_signature(context, |_, tbs| {
            key.verifying_key()
                .verify_strict(tbs, &signature)
                .map_err(|_| Rejection::BadSignature)
        })?;
        Ok(self.sign1.payload.unwrap_or_default())
    }

    /// Finds the signer among `keys` and checks the signature.
    pub(crate) fn verify_with(
        self,
        context: &[u8],
        keys: &TrustedKeys,
    ) -> Result<Vec<u8>, Rejection> {
        let key = keys.get(self.key_id).ok_or(Rejection::UnknownKey)?;
        self.verify(context, key)
    }
}

/// Decodes, checks the profile, finds the signer among `keys` and checks the signature.
pub(crate) fn verify(
    bytes: &[u8],
    context: &[u8],
    keys: &TrustedKeys,
) -> Result<(KeyId, Vec<u8>), Refusal> {
    let opened = open(bytes)?;
    let key_id = opened.key_id();
    let payload = opened.verify_with(context, keys)?;
    Ok((key_id, payload))
}

/// Whether a little-endian 256-bit scalar is below the group order.
fn is_canonical_scalar(s: &[u8; 32]) -> bool {
    for (a, l) in s.iter().rev().zip(ED25519_ORDER.iter().rev()) {
        if a != l {
            return a < l;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &SecretKey) -> TrustedKeys {
        core::iter::once(secret.public_key().clone()).collect()
    }

    #[test]
    fn a_signed_payload_verifies_under_its_own_context_only() {
        let secret = SecretKey::from_seed(&[1; 32]);
        let signed = sign(context::PASS, &secret, alloc::vec![1, 2, 3]);
        let (kid, payload) = verify(&signed, context::PASS, &keys(&secret)).unwrap();
        assert_eq!((kid, payload), (secret.id(), alloc::vec![1, 2, 3]));
        assert_eq!(
            verify(&signed, context::COMMAND, &keys(&secret)),
            Err(Refusal::Rejected(Rejection::BadSignature))
        );
    }

    #[test]
    fn an_untrusted_signer_is_an_unknown_key() {
        let secret = SecretKey::from_seed(&[1; 32]);
        let other = SecretKey::from_seed(&[2; 32]);
        let signed = sign(context::ACK, &secret, alloc::vec![]);
        assert_eq!(
            verify(&signed, context::ACK, &keys(&other)),
            Err(Refusal::Rejected(Rejection::UnknownKey))
        );
    }

    #[test]
    fn a_scalar_plus_the_group_order_is_non_canonical() {
        let secret = SecretKey::from_seed(&[1; 32]);
        let mut signed = sign(context::ACK, &secret, alloc::vec![]);
        let n = signed.len();
        // Add L to S (the last 32 bytes); S < L < 2^253 so the sum fits.
        let mut carry = 0u16;
        for (i, l) in ED25519_ORDER.iter().enumerate() {
            let sum = u16::from(signed[n - 32 + i]) + u16::from(*l) + carry;
            signed[n - 32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(
            verify(&signed, context::ACK, &keys(&secret)),
            Err(Refusal::Rejected(Rejection::NonCanonicalSignature))
        );
    }

    #[test]
    fn an_envelope_full_of_tiny_items_is_refused_before_it_is_built() {
        // [h'', {}, [0 × 100,000], h''] : the payload position holds an array of zeros.
        let mut bytes = alloc::vec![0x84, 0x40, 0xa0, 0x9a, 0x00, 0x01, 0x86, 0xa0];
        bytes.resize(bytes.len() + 100_000, 0x00);
        bytes.push(0x40);
        assert_eq!(
            open(&bytes).err(),
            Some(DecodeError::Malformed(
                "COSE_Sign1 must be [protected, {}, payload, signature]"
            ))
        );
    }

    #[test]
    fn a_protected_header_longer_than_alg_and_kid_can_be_is_refused_undecoded() {
        let secret = SecretKey::from_seed(&[1; 32]);
        let signed = sign(context::ACK, &secret, alloc::vec![]);
        // Replace the 13-byte header by a 1000-byte map of zeros (shortest form kept).
        let mut header = alloc::vec![0xb9, 0x01, 0xf4];
        header.resize(3 + 999, 0x00);
        let mut bytes = alloc::vec![0x84, 0x59, 0x03, 0xea];
        bytes.extend(&header);
        bytes.extend(&signed[15..]);
        assert_eq!(
            open(&bytes).err(),
            Some(DecodeError::Malformed(
                "protected header has fields besides alg and kid"
            ))
        );
    }

    #[test]
    fn the_order_itself_is_not_canonical_but_one_less_is() {
        assert!(!is_canonical_scalar(&ED25519_ORDER));
        let mut below = ED25519_ORDER;
        below[0] -= 1;
        assert!(is_canonical_scalar(&below));
    }
}
