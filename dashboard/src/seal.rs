//! Sealing data at rest that a stolen database backup must not reveal (an idempotent answer
//! holding a pass's link, a webhook's signing secret): ChaCha20-Poly1305 under a key derived
//! from the issuer key for one purpose, with associated data binding each sealed value to
//! its row. The issuer key lives in its own file beside the database, not in it.

use crate::error::{ServiceError, ServiceResult};
use crate::service::random_bytes;
use bygd_protocol::SecretKey;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use sha2::{Digest as _, Sha256};

/// A sealing key for one purpose.
pub(crate) struct Sealer(LessSafeKey);

impl Sealer {
    /// The key for `purpose` (a fixed name like `bygd/v1/idempotency-answers`).
    pub(crate) fn new(issuer: &SecretKey, purpose: &str) -> ServiceResult<Self> {
        let mut derive = Sha256::new();
        derive.update(purpose.as_bytes());
        derive.update([0]);
        derive.update(issuer.to_seed());
        let key = UnboundKey::new(&CHACHA20_POLY1305, &derive.finalize())
            .map_err(|_| ServiceError::Internal("cannot make a sealing key".to_owned()))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// `nonce || ciphertext || tag`, in hex, bound to `aad`.
    pub(crate) fn seal(&self, aad: &[u8], plain: &[u8]) -> ServiceResult<String> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut sealed = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut sealed,
            )
            .map_err(|_| ServiceError::Internal("cannot seal a value".to_owned()))?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok(hex::encode(stored))
    }

    /// The plain bytes, or `None` if `stored` was not sealed by this key for `aad`.
    pub(crate) fn open(&self, aad: &[u8], stored: &str) -> Option<Vec<u8>> {
        let bytes = hex::decode(stored).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        self.0
            .open_in_place(nonce, Aad::from(aad), &mut sealed)
            .ok()
            .map(|plain| plain.to_vec())
    }
}

/// Associated data from parts, each length-prefixed so that no two lists run together.
pub(crate) fn bound_to(parts: &[&[u8]]) -> Vec<u8> {
    let mut aad = Vec::new();
    for part in parts {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_purpose_and_row() {
        let issuer = SecretKey::from_seed(&[7; 32]);
        let sealer = Sealer::new(&issuer, "purpose-a").unwrap();
        let aad = bound_to(&[b"actor", b"key"]);
        let stored = sealer.seal(&aad, b"secret link").unwrap();
        assert!(!stored.contains(&hex::encode(b"secret link")));
        assert_eq!(
            sealer.open(&aad, &stored).as_deref(),
            Some(&b"secret link"[..])
        );
        assert_eq!(sealer.open(&bound_to(&[b"actor", b"other"]), &stored), None);
        let other_purpose = Sealer::new(&issuer, "purpose-b").unwrap();
        assert_eq!(other_purpose.open(&aad, &stored), None);
        let other_issuer = Sealer::new(&SecretKey::from_seed(&[8; 32]), "purpose-a").unwrap();
        assert_eq!(other_issuer.open(&aad, &stored), None);
        let mut flipped = stored.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            sealer.open(&aad, &String::from_utf8(flipped).unwrap()),
            None
        );
    }
}
