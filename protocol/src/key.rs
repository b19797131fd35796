//! Ed25519 keys: the issuer's (passes, revocation lists, commands, acks) and each gateway's
//! (event batches), and the key ids that let keys rotate.
//!
//! Invariant: a [`PublicKey`] is never a weak (small-order) point, so nothing a key can
//! verify was forgeable without its secret. A [`SecretKey`] never prints its bytes.

use alloc::vec::Vec;
use core::fmt;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Length of a [`KeyId`] in bytes.
///
/// Eight bytes make an accidental clash between the few keys one gateway trusts vanishingly
/// unlikely, at a cost of eight bytes in every pass.
pub const KEY_ID_LEN: usize = 8;

/// Domain separation for key ids, so a key id is never the prefix of some other hash.
const KEY_ID_CONTEXT: &[u8] = b"bygd/v1/key-id";

/// A short name for a public key: the first 8 bytes of SHA-256("bygd/v1/key-id" || key).
///
/// Every signed structure names its signer's key id in its protected header, so a gateway
/// that trusts an old and a new issuer key during a rotation knows which one to try.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl KeyId {
    /// The key id of a 32-byte Ed25519 public key.
    #[must_use]
    pub fn of(public_key: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(KEY_ID_CONTEXT)
            .chain_update(public_key)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Why bytes are not a usable key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 32 bytes.
    WrongLength {
        /// The length given.
        len: usize,
    },
    /// Not the encoding of a point on the curve.
    NotOnCurve,
    /// A small-order point: signatures under it can be forged without a secret.
    Weak,
    /// Not 64 hex digits.
    BadHex,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::WrongLength { len } => write!(f, "is {len} bytes, expected 32"),
            KeyError::NotOnCurve => f.write_str("is not a valid Ed25519 public key"),
            KeyError::Weak => f.write_str("is a weak (small-order) Ed25519 key and is refused"),
            KeyError::BadHex => f.write_str("is not 64 hexadecimal digits"),
        }
    }
}

impl core::error::Error for KeyError {}

/// A trusted Ed25519 public key with its key id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

impl PublicKey {
    /// Checks and wraps a 32-byte Ed25519 public key; weak keys are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: &[u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::WrongLength { len: bytes.len() })?;
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::NotOnCurve)?;
        if key.is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(Self {
            key,
            id: KeyId::of(bytes),
        })
    }

    /// Parses 64 hex digits, the form config files and the CLI use.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = decode_hex_32(text.trim()).ok_or(KeyError::BadHex)?;
        Self::from_bytes(&bytes)
    }

    /// The key's id.
    #[must_use]
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The 32 key bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key as 64 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> alloc::string::String {
        let mut out = alloc::string::String::with_capacity(64);
        for b in self.key.to_bytes() {
            use core::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
        }
        out
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let pair = core::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// An Ed25519 secret key. Its `Debug` shows only the key id; it zeroes itself when dropped.
#[derive(Clone)]
pub struct SecretKey {
    key: SigningKey,
    public: PublicKey,
}

impl SecretKey {
    /// The key from its 32-byte seed. The caller draws the seed from a secure RNG (this crate
    /// has none) or reads it from a key file.
    #[must_use]
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let verifying = key.verifying_key();
        let public = PublicKey {
            id: KeyId::of(verifying.as_bytes()),
            key: verifying,
        };
        Self { key, public }
    }

    /// The 32-byte seed, for writing a key file. Handle with care.
    #[must_use]
    pub fn to_seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key id of the matching public key.
    #[must_use]
    pub fn id(&self) -> KeyId {
        self.public.id
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.public.id)
    }
}

/// The public keys a verifier trusts for one role (for a gateway: the issuer keys it pins).
///
/// Holds a few keys at most (the current key and the next or previous during a rotation), so
/// a linear search by key id is the fastest lookup.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<PublicKey>,
}

impl TrustedKeys {
    /// No keys: nothing verifies.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; a key already present is not added twice.
    pub fn insert(&mut self, key: PublicKey) {
        if self.get(key.id()).is_none() {
            self.keys.push(key);
        }
    }

    /// The key with this id, if trusted.
    #[must_use]
    pub fn get(&self, id: KeyId) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// All trusted keys.
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter()
    }

    /// How many keys are trusted.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<PublicKey> for TrustedKeys {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        let mut keys = Self::new();
        for key in iter {
            keys.insert(key);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_point_is_refused_as_weak() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::Weak));
    }

    #[test]
    fn a_public_key_round_trips_through_hex() {
        let secret = SecretKey::from_seed(&[7; 32]);
        let hex = secret.public_key().to_hex();
        assert_eq!(PublicKey::from_hex(&hex).unwrap(), *secret.public_key());
        assert_eq!(PublicKey::from_hex("zz"), Err(KeyError::BadHex));
    }

    #[test]
    fn secret_key_debug_shows_only_the_key_id() {
        let secret = SecretKey::from_seed(&[7; 32]);
        let shown = alloc::format!("{secret:?}");
        assert!(shown.starts_with("SecretKey("));
        assert_eq!(shown.len(), "SecretKey()".len() + 16);
    }
}
