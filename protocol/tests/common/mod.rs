//! What more than one of the protocol's test crates needs: signing arbitrary payloads the way
//! the protocol signs its structures, to reach the checks behind the signature.

use bygd_protocol::KeyId;
use coset::{iana, CborSerializable as _, CoseSign1Builder, HeaderBuilder};
use ed25519_dalek::Signer as _;

/// Signs `payload` with the key of `seed` as `cose.rs` does, for a structure kind's `context`:
/// protected `{alg: EdDSA, kid}`, nothing unprotected.
pub(crate) fn cose_sign(context: &[u8], seed: &[u8; 32], payload: Vec<u8>) -> Vec<u8> {
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let kid = KeyId::of(key.verifying_key().as_bytes());
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.0.to_vec())
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(context, |tbs| key.sign(tbs).to_bytes().to_vec())
        .build()
        .to_vec()
        .unwrap()
}
