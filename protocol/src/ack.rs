//! The dashboard's signed cumulative ack: "gateway G: every event up to N is stored".
//!
//! The gateway deletes events from its outbox only when an ack covers them, and only if the
//! ack's hash matches its own event N: an ack for events never sent, or forged, moves nothing.

use crate::cbor::{self, b, t, u};
use crate::cose::{self, context};
use crate::{
    DecodeError, GatewayId, Hash, Refusal, Rejection, SecretKey, SiteId, TrustedKeys, UnixTime,
};
use alloc::vec::Vec;
use coset::cbor::value::Value;

/// The largest ack accepted, in bytes, checked before any decoding. An ack is fixed in shape:
/// with 32-character site and gateway ids and 8-byte integers it is 203 bytes; 1 KiB leaves
/// room for any encoding and refuses anything else unread.
pub const MAX_ACK_BYTES: usize = 1024;

/// An acknowledgement of stored events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The gateway's site.
    pub site: SiteId,
    /// The gateway.
    pub gateway: GatewayId,
    /// Every event with a sequence number up to this one is stored.
    pub up_to: u64,
    /// The hash of event `up_to`, as the dashboard stored it.
    pub hash: Hash,
    /// When the dashboard signed it.
    pub issued_at: UnixTime,
}

impl Ack {
    /// Signs the ack with the dashboard's issuer key.
    #[must_use]
    pub fn sign(&self, key: &SecretKey) -> Vec<u8> {
        let payload = Value::Array(alloc::vec![
            t(self.site.as_str()),
            t(self.gateway.as_str()),
            u(self.up_to),
            b(&self.hash),
            u(self.issued_at.0),
        ]);
        cose::sign(context::ACK, key, cbor::encode(&payload))
    }
}

/// Verifies an ack's signature and that it is addressed to this gateway.
pub fn verify_ack(
    bytes: &[u8],
    issuers: &TrustedKeys,
    site: &SiteId,
    gateway: &GatewayId,
) -> Result<Ack, Refusal> {
    const WHAT: &str = "ack must be [site, gateway, up to, hash, issued]";
    if bytes.len() > MAX_ACK_BYTES {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_ACK_BYTES,
        }
        .into());
    }
    let (_, payload) = cose::verify(bytes, context::ACK, issuers)?;
    let value = cbor::decode(&payload)?;
    let [s, g, up_to, hash, iat] = cbor::tuple::<5>(&value, WHAT)?;
    let ack = Ack {
        site: cbor::id(s, WHAT, SiteId::new)?,
        gateway: cbor::id(g, WHAT, GatewayId::new)?,
        up_to: cbor::uint(up_to, WHAT)?,
        hash: cbor::bytes_n::<32>(hash, WHAT)?,
        issued_at: UnixTime(cbor::uint(iat, WHAT)?),
    };
    if &ack.site != site || &ack.gateway != gateway {
        return Err(Rejection::Misaddressed.into());
    }
    if ack.up_to == 0 {
        return Err(DecodeError::Malformed("ack must cover at least event 1").into());
    }
    Ok(ack)
}
