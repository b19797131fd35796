//! Signed batches of consecutive events, from a gateway to the dashboard.
//!
//! Invariant: a batch that verifies holds events with consecutive sequence numbers, each
//! linking to the one before it by hash, signed by the gateway's own key. Linking the batch's
//! first event to what the dashboard already stored is the dashboard's check (with
//! [`crate::ChainHead::follow`]).

use crate::cbor::{self, b, t};
use crate::cose::{self, context};
use crate::event::{hash_event, ChainHead};
use crate::{
    DecodeError, Event, GatewayId, Hash, PublicKey, Refusal, Rejection, SecretKey, SiteId,
};
use alloc::vec::Vec;
use coset::cbor::value::Value;

/// The most events in one batch: 256 events of ~100 bytes stay far below MQTT brokers'
/// default maximum packet sizes (mosquitto: 256 MiB, many cloud brokers: 128 KiB).
pub const MAX_BATCH_EVENTS: usize = 256;

/// The largest batch accepted, in bytes, checked before any decoding.
pub const MAX_BATCH_BYTES: usize = 128 * 1024;

/// An event of a verified batch, with its exact bytes and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    /// The event.
    pub event: Event,
    /// Its bytes as the gateway signed them: what its hash is over.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`.
    pub hash: Hash,
}

/// A batch whose signature and internal chain verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The sending gateway's site.
    pub site: SiteId,
    /// The sending gateway.
    pub gateway: GatewayId,
    /// The events, in order, 1 to 256 of them.
    pub events: Vec<VerifiedEvent>,
}

/// Signs a batch of encoded events (in order) with the gateway key.
#[must_use]
pub fn sign_batch(
    site: &SiteId,
    gateway: &GatewayId,
    events: &[&[u8]],
    key: &SecretKey,
) -> Vec<u8> {
    let payload = Value::Array(alloc::vec![
        t(site.as_str()),
        t(gateway.as_str()),
        Value::Array(events.iter().map(|e| b(e)).collect()),
    ]);
    cose::sign(context::BATCH, key, cbor::encode(&payload))
}

/// Verifies a batch from `gateway` at `site` under the gateway's registered key: size,
/// signature, address, then consecutive sequence numbers and hash links within the batch.
pub fn verify_batch(
    bytes: &[u8],
    key: &PublicKey,
    site: &SiteId,
    gateway: &GatewayId,
) -> Result<Batch, Refusal> {
    if bytes.len() > MAX_BATCH_BYTES {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_BATCH_BYTES,
        }
        .into());
    }
    let payload = cose::open(bytes)?.verify(context::BATCH, key)?;
    const WHAT: &str = "batch must be [site, gateway, [event bytes...]]";
    let value = cbor::decode(&payload)?;
    let [batch_site, batch_gateway, events] = cbor::tuple::<3>(&value, WHAT)?;
    let batch_site = cbor::id(batch_site, WHAT, SiteId::new)?;
    let batch_gateway = cbor::id(batch_gateway, WHAT, GatewayId::new)?;
    if &batch_site != site || &batch_gateway != gateway {
        return Err(Rejection::Misaddressed.into());
    }
    let events = cbor::array(events, WHAT)?;
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        return Err(DecodeError::Malformed("batch must hold 1 to 256 events").into());
    }
    let mut verified: Vec<VerifiedEvent> = Vec::with_capacity(events.len());
    let mut head: Option<ChainHead> = None;
    for value in events {
        let bytes = cbor::bytes(value, WHAT)?.to_vec();
        let event = Event::decode(&bytes)?;
        let hash = match head {
            None => hash_event(&bytes),
            Some(h) => h.follow(&event, &bytes)?.hash,
        };
        head = Some(ChainHead {
            seq: event.seq,
            hash,
        });
        verified.push(VerifiedEvent { event, bytes, hash });
    }
    Ok(Batch {
        site: batch_site,
        gateway: batch_gateway,
        events: verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClockQuality, DoorId, EventBody, UnixTime};

    fn chain(n: usize) -> Vec<Vec<u8>> {
        let mut head = ChainHead::default();
        (0..n)
            .map(|_| {
                let (_, bytes, next) = head.append(
                    UnixTime(7),
                    ClockQuality::Synchronised,
                    EventBody::DoorOpened {
                        door: DoorId::new("d").unwrap(),
                    },
                );
                head = next;
                bytes
            })
            .collect()
    }

    fn ids() -> (SiteId, GatewayId) {
        (SiteId::new("byn").unwrap(), GatewayId::new("gw1").unwrap())
    }

    #[test]
    fn a_batch_of_linked_events_verifies_with_the_gateway_key() {
        let key = SecretKey::from_seed(&[5; 32]);
        let (site, gw) = ids();
        let events = chain(3);
        let refs: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
        let batch = verify_batch(
            &sign_batch(&site, &gw, &refs, &key),
            key.public_key(),
            &site,
            &gw,
        )
        .unwrap();
        assert_eq!(
            batch.events.iter().map(|e| e.event.seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn a_batch_with_a_dropped_event_is_a_gap() {
        let key = SecretKey::from_seed(&[5; 32]);
        let (site, gw) = ids();
        let events = chain(3);
        let refs: Vec<&[u8]> = [&events[0], &events[2]]
            .iter()
            .map(|e| e.as_slice())
            .collect();
        assert_eq!(
            verify_batch(
                &sign_batch(&site, &gw, &refs, &key),
                key.public_key(),
                &site,
                &gw
            ),
            Err(Rejection::SequenceGap.into())
        );
    }

    #[test]
    fn a_batch_signed_by_another_key_is_refused() {
        let key = SecretKey::from_seed(&[5; 32]);
        let other = SecretKey::from_seed(&[6; 32]);
        let (site, gw) = ids();
        let events = chain(1);
        let signed = sign_batch(&site, &gw, &[&events[0]], &other);
        assert_eq!(
            verify_batch(&signed, key.public_key(), &site, &gw),
            Err(Rejection::UnknownKey.into())
        );
    }
}
