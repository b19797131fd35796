//! Size budgets of what a phone shows: a typical pass and a device-bound presentation, in
//! bytes, QR text characters and QR version at error correction level M.
//!
//! The figures SPEC.md reports ("Sizes") come from here; run with `--nocapture` to see them.
//! The pass must fit QR version 10 at level M (57 x 57 modules, readable by cheap USB
//! scanners from a phone screen), a budget stated in DESIGN.md. The last test keeps SPEC.md's
//! table of rejection codes equal to `Rejection::ALL`.

use bygd_protocol::{
    encode_qr, DeviceSecretKey, DoorId, MemberId, PassClaims, PassId, PassKind, Presentation,
    Rejection, Schedule, SecretKey, SiteId, SiteScope, TimeWindow, UnixTime, Weekday,
    TIME_STEP_SECONDS,
};
use qrcode::bits::Bits;
use qrcode::optimize::Parser;
use qrcode::types::Mode;
use qrcode::{EcLevel, QrCode, Version};

/// 2026-03-01T00:00:00Z: a 2026 time, a 5-byte CBOR integer like every time until 2106.
const NOT_BEFORE: u64 = 1_772_323_200;

/// Thirty days, the typical membership period.
const THIRTY_DAYS: u64 = 30 * 86_400;

/// The largest QR version a pass may need at level M.
const PASS_QR_VERSION_BUDGET: i16 = 10;

/// A counter a phone reaches after some hundreds of entries (a 3-byte CBOR integer).
const TYPICAL_COUNTER: u64 = 1_000;

fn typical_claims() -> PassClaims {
    use Weekday::*;
    let schedule = Schedule::new(vec![
        // Weekdays 07:00-22:00 and Saturdays 09:00-17:00, local time.
        TimeWindow::new(
            &[Monday, Tuesday, Wednesday, Thursday, Friday],
            7 * 60,
            22 * 60,
        )
        .expect("a valid window"),
        TimeWindow::new(&[Saturday], 9 * 60, 17 * 60).expect("a valid window"),
    ])
    .expect("a valid schedule");
    PassClaims {
        member: MemberId::new("anna-lindqvist").expect("a valid id"),
        pass_id: PassId::from_hex("3f1c9a0b7e2d4c5a8b6f0e1d2c3b4a59").expect("32 hex digits"),
        not_before: UnixTime(NOT_BEFORE),
        expires: UnixTime(NOT_BEFORE + THIRTY_DAYS),
        kind: PassKind::Member,
        scope: vec![SiteScope {
            site: SiteId::new("gomorron-ostersund").expect("a valid id"),
            doors: vec![
                DoorId::new("entre").expect("a valid id"),
                DoorId::new("verkstad").expect("a valid id"),
            ],
        }],
        schedule: Some(schedule),
        device_key: None,
    }
}

fn issuer() -> SecretKey {
    SecretKey::from_seed(&[0x42; 32])
}

fn device() -> DeviceSecretKey {
    DeviceSecretKey::from_bytes(&[0x17; 32]).expect("a valid P-256 scalar")
}

/// The typical pass, as a bare presentation.
fn typical_pass() -> Presentation {
    Presentation {
        pass: typical_claims().issue(&issuer()),
        proof: None,
    }
}

/// The same pass bound to a phone key, with a fresh proof.
fn device_bound_presentation() -> Presentation {
    let claims = PassClaims {
        device_key: Some(device().public_key()),
        ..typical_claims()
    };
    let time_step = (NOT_BEFORE + 3 * 86_400) / TIME_STEP_SECONDS;
    Presentation {
        pass: claims.issue(&issuer()),
        proof: Some(device().prove(&claims.pass_id, time_step, TYPICAL_COUNTER)),
    }
}

/// The smallest QR version holding `text` at level M if the whole text is one
/// alphanumeric-mode segment, as most QR libraries encode an all-alphanumeric text.
fn alphanumeric_version(text: &str) -> i16 {
    (1..=40)
        .find(|&v| {
            let mut bits = Bits::new(Version::Normal(v));
            bits.push_alphanumeric_data(text.as_bytes()).is_ok()
                && bits.push_terminator(EcLevel::M).is_ok()
        })
        .expect("text fits QR version 40")
}

/// The version the `qrcode` crate picks (it may split digit runs into numeric segments).
fn qrcode_version(text: &str) -> i16 {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .expect("text fits a QR code");
    match code.version() {
        Version::Normal(v) => v,
        Version::Micro(_) => unreachable!("with_error_correction_level never picks micro QR"),
    }
}

struct Figures {
    bytes: usize,
    chars: usize,
    alphanumeric_version: i16,
    qrcode_version: i16,
}

fn figures(name: &str, presentation: &Presentation) -> Figures {
    let text = encode_qr(presentation);
    let bytes = match &presentation.proof {
        None => presentation.pass.len(),
        Some(proof) => Presentation::proof_bytes(&presentation.pass, proof).len(),
    };
    let f = Figures {
        bytes,
        chars: text.len(),
        alphanumeric_version: alphanumeric_version(&text),
        qrcode_version: qrcode_version(&text),
    };
    println!(
        "{name}: pass {} bytes, encoded {} bytes, QR text {} characters, QR version {} at M \
         (one alphanumeric segment), {} as the qrcode crate segments it",
        presentation.pass.len(),
        f.bytes,
        f.chars,
        f.alphanumeric_version,
        f.qrcode_version
    );
    println!(
        "{name} hex: {}",
        hex::encode(match &presentation.proof {
            None => presentation.pass.clone(),
            Some(proof) => Presentation::proof_bytes(&presentation.pass, proof),
        })
    );
    println!("{name} QR text: {text}");
    f
}

#[test]
fn a_typical_pass_fits_qr_version_10_at_level_m() {
    let f = figures("typical pass", &typical_pass());
    assert!(
        f.alphanumeric_version <= PASS_QR_VERSION_BUDGET,
        "a typical pass needs QR version {} at level M; the budget is {PASS_QR_VERSION_BUDGET}",
        f.alphanumeric_version
    );
    assert!(f.qrcode_version <= PASS_QR_VERSION_BUDGET);
    // Base45 turns 2 bytes into 3 characters, after the 6-character prefix.
    assert_eq!(f.chars, "BYGD1:".len() + f.bytes / 2 * 3 + f.bytes % 2 * 2);
}

#[test]
fn a_device_bound_presentation_fits_a_qr_code_at_level_m() {
    let f = figures("device-bound presentation", &device_bound_presentation());
    // No version budget is set for it (the device key and proof add about 110 bytes), but it
    // must stay far below the decoder's cap, which is twice the largest realistic presentation.
    assert!(f.chars <= bygd_protocol::MAX_QR_TEXT_LEN / 2);
}

#[test]
fn qr_text_never_needs_byte_mode() {
    for presentation in [typical_pass(), device_bound_presentation()] {
        let text = encode_qr(&presentation);
        let segments: Vec<_> = Parser::new(text.as_bytes())
            .optimize(Version::Normal(10))
            .collect();
        assert!(
            segments
                .iter()
                .all(|s| matches!(s.mode, Mode::Alphanumeric | Mode::Numeric)),
            "segments: {segments:?}"
        );
    }
}

#[test]
fn each_variation_of_the_typical_pass_reports_its_qr_version() {
    let weekdays_only = Schedule::new(vec![TimeWindow::new(
        &[
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ],
        7 * 60,
        22 * 60,
    )
    .expect("a valid window")])
    .expect("a valid schedule");
    let typical = typical_claims();
    let mut three_doors = typical.clone();
    three_doors.scope[0]
        .doors
        .push(DoorId::new("kok").expect("a valid id"));
    let variations = [
        (
            "weekday window only",
            PassClaims {
                schedule: Some(weekdays_only),
                ..typical.clone()
            },
        ),
        (
            "no schedule",
            PassClaims {
                schedule: None,
                ..typical.clone()
            },
        ),
        (
            "every door of the site",
            PassClaims {
                scope: vec![SiteScope::all_doors(typical.scope[0].site.clone())],
                ..typical.clone()
            },
        ),
        ("three doors", three_doors),
        (
            "member id a UUID",
            PassClaims {
                member: MemberId::new("6f1d2c3b-4a59-4e8b-9c0d-1e2f3a4b5c6d").expect("a valid id"),
                ..typical.clone()
            },
        ),
    ];
    for (name, claims) in variations {
        let text = encode_qr(&Presentation {
            pass: claims.issue(&issuer()),
            proof: None,
        });
        println!(
            "variation {name}: pass {} bytes, QR text {} characters, QR version {} at M",
            claims.issue(&issuer()).len(),
            text.len(),
            alphanumeric_version(&text)
        );
    }
}

#[test]
fn the_spec_lists_every_rejection_code_with_its_wire_number() {
    const START: &str = "<!-- rejection table: checked by tests/sizes.rs -->";
    let spec = include_str!("../SPEC.md");
    let table = spec
        .split_once(START)
        .expect("SPEC.md marks its rejection table")
        .1;
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    assert_eq!(rows.len(), Rejection::ALL.len(), "rows: {rows:#?}");
    for (row, reason) in rows.iter().zip(Rejection::ALL) {
        let expected = format!("| {} | `{}` |", reason.wire(), reason.code());
        assert!(
            row.starts_with(&expected),
            "{row:?} should start with {expected:?}"
        );
    }
}
