//! Pass verification against the cryptography it cannot avoid, measured in one run.
//!
//! Four criterion benchmarks, in two pairs:
//! 1. `verify_presentation` of a typical bare pass from its QR text (`decode_qr`, then every
//!    check, with an empty revocation state), against
//! 2. a bare Ed25519 `verify_strict` of the same signed bytes (the COSE Sig_structure);
//! 3. the same for a device-bound presentation, against
//! 4. `verify_strict` plus a bare P-256 ECDSA verify of the same proof message.
//!
//! Criterion prints no ratios, so after its groups a plain `Instant` loop times each pair in
//! alternating rounds and prints "pass verification / bare verify_strict = X.XX" (the figure
//! SPEC.md reports). The loop runs only under `cargo bench`, not when tests run the bench
//! binary once.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bygd_protocol::{
    decode_qr, encode_qr, verify_presentation, AccessContext, DeviceSecretKey, DoorId, MemberId,
    PassClaims, PassId, PassKind, Presentation, RevocationState, Schedule, SecretKey, SiteId,
    SiteScope, TimeWindow, TrustedKeys, UnixTime, WeekTime, Weekday, TIME_STEP_SECONDS,
};
use coset::{CborSerializable as _, CoseSign1};
use criterion::Criterion;
use p256::ecdsa::signature::Verifier as _;

/// 2026-03-01T00:00:00Z, a Sunday: the pass's not-before time.
const NOT_BEFORE: u64 = 1_772_323_200;

/// Wednesday 2026-03-04 10:00 UTC, 11:00 in Stockholm: inside the pass's schedule.
const NOW: u64 = NOT_BEFORE + 3 * 86_400 + 10 * 3600;

/// Stockholm's offset from UTC in March (CET).
const STOCKHOLM_WINTER_OFFSET: i32 = 3600;

/// The gateway's default proof skew.
const PROOF_SKEW_SECONDS: u64 = 60;

/// The external AAD of a pass signature (the protocol crate keeps its copy private).
const PASS_CONTEXT: &[u8] = b"bygd/v1/pass";

/// How long one timed round of the ratio loop lasts: well under a scheduler time slice, so
/// that on a shared machine many rounds run without being preempted.
const RATIO_ROUND: Duration = Duration::from_millis(1);

/// Rounds of the ratio loop per side; the fastest round of each side is compared, the usual
/// estimate of a cost when noise only ever adds time.
const RATIO_ROUNDS: u32 = 1000;

/// Everything the benchmarks verify, built once.
struct Fixture {
    issuers: TrustedKeys,
    revocations: RevocationState,
    site: SiteId,
    door: DoorId,
    bare_text: String,
    bound_text: String,
    issuer_key: ed25519_dalek::VerifyingKey,
    bare: (Vec<u8>, ed25519_dalek::Signature),
    bound: (Vec<u8>, ed25519_dalek::Signature),
    device_key: p256::ecdsa::VerifyingKey,
    proof_message: Vec<u8>,
    proof_signature: p256::ecdsa::Signature,
}

/// The typical pass of SPEC.md's size figures: 30 days, two doors, a weekly schedule.
fn typical_claims() -> PassClaims {
    use Weekday::*;
    let windows = vec![
        TimeWindow::new(
            &[Monday, Tuesday, Wednesday, Thursday, Friday],
            7 * 60,
            22 * 60,
        )
        .expect("a valid window"),
        TimeWindow::new(&[Saturday], 9 * 60, 17 * 60).expect("a valid window"),
    ];
    PassClaims {
        member: MemberId::new("anna-lindqvist").expect("a valid id"),
        pass_id: PassId::from_hex("3f1c9a0b7e2d4c5a8b6f0e1d2c3b4a59").expect("32 hex digits"),
        not_before: UnixTime(NOT_BEFORE),
        expires: UnixTime(NOT_BEFORE + 30 * 86_400),
        kind: PassKind::Member,
        scope: vec![SiteScope {
            site: SiteId::new("gomorron-ostersund").expect("a valid id"),
            doors: vec![
                DoorId::new("entre").expect("a valid id"),
                DoorId::new("verkstad").expect("a valid id"),
            ],
        }],
        schedule: Some(Schedule::new(windows).expect("a valid schedule")),
        device_key: None,
    }
}

/// The COSE Sig_structure a pass's signature covers, and the signature.
fn signed_bytes(pass: &[u8]) -> (Vec<u8>, ed25519_dalek::Signature) {
    let sign1 = CoseSign1::from_slice(pass).expect("a COSE_Sign1");
    let signature: [u8; 64] = sign1
        .signature
        .as_slice()
        .try_into()
        .expect("a 64-byte signature");
    (
        sign1.tbs_data(PASS_CONTEXT),
        ed25519_dalek::Signature::from_bytes(&signature),
    )
}

impl Fixture {
    fn new() -> Self {
        let issuer = SecretKey::from_seed(&[0x42; 32]);
        let device = DeviceSecretKey::from_bytes(&[0x17; 32]).expect("a valid P-256 secret scalar");
        let bare_pass = typical_claims().issue(&issuer);
        let bound_claims = PassClaims {
            device_key: Some(device.public_key()),
            ..typical_claims()
        };
        let bound_pass = bound_claims.issue(&issuer);
        let proof = device.prove(&bound_claims.pass_id, NOW / TIME_STEP_SECONDS, 1_000);
        let proof_message =
            bygd_protocol::proof_message(&bound_claims.pass_id, proof.time_step, proof.counter);
        let proof_signature =
            p256::ecdsa::Signature::from_slice(&proof.signature).expect("an r || s signature");
        let device_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&device.public_key().to_sec1())
            .expect("a valid P-256 point");
        let issuer_key = ed25519_dalek::VerifyingKey::from_bytes(&issuer.public_key().to_bytes())
            .expect("a valid Ed25519 point");
        Self {
            issuers: std::iter::once(issuer.public_key().clone()).collect(),
            revocations: RevocationState::default(),
            site: SiteId::new("gomorron-ostersund").expect("a valid id"),
            door: DoorId::new("verkstad").expect("a valid id"),
            bare_text: encode_qr(&Presentation {
                pass: bare_pass.clone(),
                proof: None,
            }),
            bound_text: encode_qr(&Presentation {
                pass: bound_pass.clone(),
                proof: Some(proof),
            }),
            issuer_key,
            bare: signed_bytes(&bare_pass),
            bound: signed_bytes(&bound_pass),
            device_key,
            proof_message,
            proof_signature,
        }
    }

    /// What the gateway runs for QR text from a reader.
    fn verify_text(&self, text: &str) -> bool {
        let at = AccessContext {
            site: &self.site,
            door: &self.door,
            now: UnixTime(NOW),
            local: WeekTime::from_unix_with_offset(UnixTime(NOW), STOCKHOLM_WINTER_OFFSET),
        };
        decode_qr(text).is_ok_and(|presentation| {
            verify_presentation(
                &presentation,
                &self.issuers,
                &self.revocations,
                &(),
                &at,
                PROOF_SKEW_SECONDS,
            )
            .is_ok()
        })
    }

    fn verify_bare_pass(&self) -> bool {
        self.verify_text(black_box(&self.bare_text))
    }

    fn verify_device_bound(&self) -> bool {
        self.verify_text(black_box(&self.bound_text))
    }

    fn bare_verify_strict(&self) -> bool {
        let (tbs, signature) = &self.bare;
        self.issuer_key
            .verify_strict(black_box(tbs), black_box(signature))
            .is_ok()
    }

    fn bare_verify_strict_and_ecdsa(&self) -> bool {
        let (tbs, signature) = &self.bound;
        self.issuer_key
            .verify_strict(black_box(tbs), black_box(signature))
            .is_ok()
            && self
                .device_key
                .verify(black_box(&self.proof_message), &self.proof_signature)
                .is_ok()
    }
}

fn benches(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("bare pass");
    group.bench_function("verify_presentation from QR text", |b| {
        b.iter(|| f.verify_bare_pass())
    });
    group.bench_function("verify_strict alone", |b| b.iter(|| f.bare_verify_strict()));
    group.finish();

    let mut group = c.benchmark_group("device-bound presentation");
    group.bench_function("verify_presentation from QR text", |b| {
        b.iter(|| f.verify_device_bound())
    });
    group.bench_function("verify_strict + ECDSA verify alone", |b| {
        b.iter(|| f.bare_verify_strict_and_ecdsa())
    });
    group.finish();
}

/// Calls `f` `n` times; the elapsed time.
fn time_calls(f: &dyn Fn() -> bool, n: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed()
}

/// How many calls of `f` fill about one `RATIO_ROUND`.
fn calls_per_round(f: &dyn Fn() -> bool) -> u32 {
    const PROBE_CALLS: u32 = 50;
    let per_call = time_calls(f, PROBE_CALLS) / PROBE_CALLS;
    let calls = RATIO_ROUND.as_nanos() / per_call.as_nanos().max(1);
    u32::try_from(calls).unwrap_or(u32::MAX).max(1)
}

/// The fastest of `RATIO_ROUNDS` rounds for each side, timed alternately so that both see the
/// same machine state; returns nanoseconds per call.
fn fastest_per_call(a: impl Fn() -> bool, b: impl Fn() -> bool) -> (f64, f64) {
    let (calls_a, calls_b) = (calls_per_round(&a), calls_per_round(&b));
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    for _ in 0..RATIO_ROUNDS {
        best_a = best_a.min(time_calls(&a, calls_a));
        best_b = best_b.min(time_calls(&b, calls_b));
    }
    let per_call = |d: Duration, n: u32| d.as_secs_f64() * 1e9 / f64::from(n);
    (per_call(best_a, calls_a), per_call(best_b, calls_b))
}

fn print_ratios(f: &Fixture) {
    let (pass, strict) = fastest_per_call(|| f.verify_bare_pass(), || f.bare_verify_strict());
    println!(
        "pass verification {:.1} us, bare verify_strict {:.1} us: \
         pass verification / bare verify_strict = {:.2}",
        pass / 1e3,
        strict / 1e3,
        pass / strict
    );
    let (bound, crypto) = fastest_per_call(
        || f.verify_device_bound(),
        || f.bare_verify_strict_and_ecdsa(),
    );
    println!(
        "device-bound verification {:.1} us, bare verify_strict + ECDSA {:.1} us: \
         device-bound verification / bare verify_strict + ECDSA = {:.2}",
        bound / 1e3,
        crypto / 1e3,
        bound / crypto
    );
}

fn main() {
    let fixture = Fixture::new();
    assert!(fixture.verify_bare_pass(), "the bare pass must verify");
    assert!(
        fixture.verify_device_bound(),
        "the presentation must verify"
    );
    assert!(fixture.bare_verify_strict() && fixture.bare_verify_strict_and_ecdsa());

    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion, &fixture);
    criterion.final_summary();

    if std::env::args().any(|arg| arg == "--bench") {
        print_ratios(&fixture);
    }
}
