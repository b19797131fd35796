//! Resource limits of the decoders: what hostile bytes can make them allocate.
//!
//! A counting global allocator (`peak_alloc`) records the peak of live heap bytes while one decoder runs.
//! The crafted inputs are "CBOR bombs": many one-byte items, which a generic decoder turns
//! into 32-byte values each (and twice that while its vectors grow). The tests require that
//! each is refused, and that decoding anything, refused or accepted, allocates at most a
//! small multiple of its input ([`MAX_EXPANSION`]) plus a constant.

mod common;

use bygd_protocol::{
    open_command, verify_ack, verify_revocation_list, DecodeError, GatewayId, PassId, Refusal,
    Rejection, RevocationList, SecretKey, SiteId, TrustedKeys, UnixTime, MAX_ACK_BYTES,
    MAX_COMMAND_BYTES, MAX_REVOCATION_LIST_BYTES,
};
use common::cose_sign;
use peak_alloc::PeakAlloc;
use std::sync::{Mutex, MutexGuard};

/// Peak heap bytes while decoding, per input byte, that a decoder may reach. A legitimate
/// revocation list costs its bytes several times over (the received bytes, the envelope's
/// payload, the signed structure, the decoded ids); 16 leaves room for that and is far
/// below the 30 to 100 times a tree of one-byte items costs.
const MAX_EXPANSION: usize = 16;

/// Heap bytes any decode may use regardless of input size (keys, small vectors).
const BASE_ALLOWANCE: usize = 256 * 1024;

/// The issuer seed of the test key.
const ISSUER_SEED: [u8; 32] = [0x42; 32];

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

/// One measurement at a time: the counters are process-wide.
static MEASURING: Mutex<()> = Mutex::new(());

/// Holds every other test of this file off while one builds its input and measures: the
/// counters see every thread's allocations.
fn exclusive() -> MutexGuard<'static, ()> {
    MEASURING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` and returns its result with the peak heap bytes it added. Call under
/// [`exclusive`].
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = PEAK.current_usage();
    PEAK.reset_peak_usage();
    let out = f();
    (out, PEAK.peak_usage().saturating_sub(before))
}

fn issuers() -> TrustedKeys {
    std::iter::once(SecretKey::from_seed(&ISSUER_SEED).public_key().clone()).collect()
}

/// A CBOR array of `n` zeros (one byte each), with a 5-byte header.
fn zeros(n: u32) -> Vec<u8> {
    let mut bytes = vec![0x9a];
    bytes.extend(n.to_be_bytes());
    bytes.resize(5 + n as usize, 0x00);
    bytes
}

/// A COSE_Sign1 shape whose payload position holds `n` one-byte items instead of a bstr.
fn unsigned_bomb(n: u32) -> Vec<u8> {
    let mut bytes = vec![0x84, 0x40, 0xa0];
    bytes.extend(zeros(n));
    bytes.extend([0x58, 0x40]);
    bytes.extend([0u8; 64]);
    bytes
}

fn assert_within_budget(what: &str, len: usize, peak: usize) {
    let budget = MAX_EXPANSION * len + BASE_ALLOWANCE;
    assert!(
        peak <= budget,
        "{what}: decoding {len} bytes allocated {peak} bytes at peak, over the budget of {budget}"
    );
    println!(
        "{what}: {len} bytes in, {peak} bytes at peak ({:.1}x)",
        peak as f64 / len as f64
    );
}

#[test]
fn an_unsigned_envelope_of_one_byte_items_is_refused_without_building_them() {
    let _alone = exclusive();
    let bomb = unsigned_bomb(8_000_000);
    let (result, peak) = peak_during(|| verify_revocation_list(&bomb, &issuers(), &byn()));
    assert_eq!(
        result.err().map(|r| r.rejection()),
        Some(Rejection::Malformed)
    );
    assert_within_budget("unsigned revocation bomb", bomb.len(), peak);
    // Nothing of the bomb was built: the scan refuses it before the decoder runs.
    assert!(peak < BASE_ALLOWANCE, "{peak} bytes allocated");
}

#[test]
fn a_signed_payload_of_one_byte_items_is_refused_before_it_is_decoded() {
    let _alone = exclusive();
    // Even a payload the issuer signed is scanned before it is built.
    let bomb = cose_sign(b"bygd/v1/revocation", &ISSUER_SEED, zeros(8_000_000));
    let (result, peak) = peak_during(|| verify_revocation_list(&bomb, &issuers(), &byn()));
    assert_eq!(
        result.err(),
        Some(Refusal::Decode(DecodeError::Malformed(
            "more CBOR items than a structure of this size holds"
        )))
    );
    assert_within_budget("signed revocation payload bomb", bomb.len(), peak);
}

#[test]
fn commands_and_acks_over_their_caps_are_too_large_before_decoding() {
    let _alone = exclusive();
    let command = unsigned_bomb(MAX_COMMAND_BYTES as u32);
    let (result, peak) = peak_during(|| open_command(&command, &issuers()));
    assert_eq!(
        result.err().map(|r| r.rejection()),
        Some(Rejection::TooLarge)
    );
    assert!(peak < BASE_ALLOWANCE, "{peak} bytes allocated");

    let ack = unsigned_bomb(MAX_ACK_BYTES as u32);
    let site = SiteId::new("byn").unwrap();
    let gateway = GatewayId::new("gw1").unwrap();
    let (result, _) = peak_during(|| verify_ack(&ack, &issuers(), &site, &gateway));
    assert_eq!(
        result.err().map(|r| r.rejection()),
        Some(Rejection::TooLarge)
    );
}

/// The site the lists in these tests are for.
fn byn() -> SiteId {
    SiteId::new("byn").unwrap()
}

#[test]
fn a_revocation_list_over_its_cap_is_too_large_before_decoding() {
    let _alone = exclusive();
    let list = unsigned_bomb(MAX_REVOCATION_LIST_BYTES as u32);
    let (result, peak) = peak_during(|| verify_revocation_list(&list, &issuers(), &byn()));
    assert_eq!(
        result.err().map(|r| r.rejection()),
        Some(Rejection::TooLarge)
    );
    assert!(peak < BASE_ALLOWANCE, "{peak} bytes allocated");
}

#[test]
fn a_large_real_revocation_list_decodes_within_the_budget() {
    let _alone = exclusive();
    let list = RevocationList {
        version: 7,
        base: None,
        issued_at: UnixTime(1_800_000_000),
        expires: UnixTime(1_800_086_400),
        revoked_passes: (0u32..200_000)
            .map(|i| {
                let mut id = [0u8; 16];
                id[..4].copy_from_slice(&i.to_be_bytes());
                PassId(id)
            })
            .collect(),
        ..RevocationList::empty(byn())
    };
    let signed = list.sign(&SecretKey::from_seed(&ISSUER_SEED));
    let (result, peak) = peak_during(|| verify_revocation_list(&signed, &issuers(), &byn()));
    assert_eq!(result.map(|(_, l)| l.revoked_passes.len()), Ok(200_000));
    assert_within_budget("real revocation list of 200,000 ids", signed.len(), peak);
}

#[test]
fn deep_nesting_in_an_envelope_is_malformed() {
    let _alone = exclusive();
    // 10,000 nested one-element arrays where the payload belongs.
    let mut bytes = vec![0x84, 0x40, 0xa0];
    bytes.extend(vec![0x81; 10_000]);
    bytes.push(0x40);
    bytes.extend([0x58, 0x40]);
    bytes.extend([0u8; 64]);
    let (result, peak) = peak_during(|| verify_revocation_list(&bytes, &issuers(), &byn()));
    assert_eq!(
        result.err(),
        Some(Refusal::Decode(DecodeError::Malformed(
            "CBOR nested too deeply"
        )))
    );
    assert!(peak < BASE_ALLOWANCE, "{peak} bytes allocated");
}
