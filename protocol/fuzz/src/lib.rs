//! What the fuzz targets share: fixed keys, one valid encoding of every structure, the place
//! they are checked at, and the input modes that let a fuzzer get past a signature.
//!
//! A fuzzer cannot forge an Ed25519 signature, so raw bytes alone only ever exercise the
//! decoding and the signature check. Every signed target therefore reads its first input byte
//! as a mode ([`Mode`]): the raw bytes; a valid encoding with edits; or a payload (raw, or a
//! valid one with edits) signed here with the right key, which reaches the payload decoders
//! behind the signature. The targets carry their valid encodings, so an empty corpus works.
//!
//! Invariants the targets assert, besides not panicking: a signed structure that verifies
//! without being re-signed here is byte-identical to a valid encoding (no wrong accept); a
//! re-signed one that verifies round-trips through its encoder; every refusal maps to a
//! stable `Rejection` code.

use bygd_protocol::{
    encode_qr, hash_event, sign_batch, AccessContext, Ack, Action, ChainHead, ClockQuality,
    Command, CommandHistory, CommandId, DeviceSecretKey, DoorId, EventBody, GatewayId, KeyId,
    MemberId, PassClaims, PassId, PassKind, Presentation, Refusal, Rejection, RevocationList,
    Schedule, SecretKey, SiteId, SiteScope, TimeWindow, TrustedKeys, UnixTime, WeekTime, Weekday,
    TIME_STEP_SECONDS,
};
use coset::{iana, CborSerializable as _, CoseSign1, CoseSign1Builder, HeaderBuilder};
use ed25519_dalek::Signer as _;
use std::sync::OnceLock;

/// Seed of the issuer key (passes, revocation lists, commands, acks).
pub const ISSUER_SEED: [u8; 32] = [0x11; 32];
/// Seed of the gateway key (event batches).
pub const GATEWAY_SEED: [u8; 32] = [0x22; 32];
const DEVICE_SCALAR: [u8; 32] = [0x31; 32];

/// The signature contexts of the protocol crate's `cose.rs`.
pub const PASS_CONTEXT: &[u8] = b"bygd/v1/pass";
/// See [`PASS_CONTEXT`].
pub const REVOCATION_CONTEXT: &[u8] = b"bygd/v1/revocation";
/// See [`PASS_CONTEXT`].
pub const COMMAND_CONTEXT: &[u8] = b"bygd/v1/command";
/// See [`PASS_CONTEXT`].
pub const BATCH_CONTEXT: &[u8] = b"bygd/v1/batch";
/// See [`PASS_CONTEXT`].
pub const ACK_CONTEXT: &[u8] = b"bygd/v1/ack";

/// How far a phone's clock may be from the gateway's.
pub const MAX_SKEW_SECONDS: u64 = 90;

/// The reasons a `DecodeError` may map to.
pub const DECODE_REASONS: [Rejection; 6] = [
    Rejection::TooLarge,
    Rejection::BadPrefix,
    Rejection::BadEncoding,
    Rejection::Truncated,
    Rejection::TrailingBytes,
    Rejection::Malformed,
];

/// Checks that a refusal maps to a stable reason code, and a decoding error to a decoding
/// reason.
pub fn check_refusal(error: &Refusal) {
    let reason = error.rejection();
    assert_eq!(Rejection::from_code(reason.code()), Some(reason));
    assert_eq!(Rejection::from_wire(reason.wire().into()), Some(reason));
    if let Refusal::Decode(e) = error {
        assert!(DECODE_REASONS.contains(&Rejection::from(e)));
    }
    assert!(!error.to_string().is_empty());
}

/// A command history that has accepted nothing.
pub struct NoHistory;

impl CommandHistory for NoHistory {
    fn last_seq(&self) -> Option<u64> {
        None
    }
    fn seen(&self, _: &CommandId) -> bool {
        false
    }
}

/// Keys, valid encodings and the place and time they verify at.
pub struct Fixture {
    /// The issuer's secret key, to re-sign decoded values.
    pub issuer: SecretKey,
    /// The issuer's public key, trusted.
    pub issuers: TrustedKeys,
    /// The gateway's key (event batches).
    pub gateway_key: SecretKey,
    /// The gateway's site.
    pub site: SiteId,
    /// The gateway.
    pub gateway: GatewayId,
    /// The door presentations are checked at.
    pub door: DoorId,
    /// The time everything is checked at.
    pub now: UnixTime,
    /// `now` in the site's week.
    pub local: WeekTime,
    /// Valid passes: one device-bound, one bare.
    pub passes: Vec<Vec<u8>>,
    /// Presentations that verify at the place.
    pub presentations: Vec<Presentation>,
    /// QR texts of those presentations.
    pub qr_texts: Vec<String>,
    /// Device-bound presentation bytes.
    pub proof_bytes: Vec<Vec<u8>>,
    /// A full revocation list and a delta.
    pub revocation_lists: Vec<Vec<u8>>,
    /// One command per action.
    pub commands: Vec<Vec<u8>>,
    /// A chain of events of every kind.
    pub events: Vec<Vec<u8>>,
    /// Batches of those events.
    pub batches: Vec<Vec<u8>>,
    /// Acks.
    pub acks: Vec<Vec<u8>>,
}

/// The fixture, built once per process.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(Fixture::new)
}

fn site(text: &str) -> SiteId {
    SiteId::new(text).expect("a valid id")
}

fn door(text: &str) -> DoorId {
    DoorId::new(text).expect("a valid id")
}

fn member(text: &str) -> MemberId {
    MemberId::new(text).expect("a valid id")
}

impl Fixture {
    fn new() -> Self {
        let issuer = SecretKey::from_seed(&ISSUER_SEED);
        let issuers: TrustedKeys = std::iter::once(issuer.public_key().clone()).collect();
        let gateway_key = SecretKey::from_seed(&GATEWAY_SEED);
        let device = DeviceSecretKey::from_bytes(&DEVICE_SCALAR).expect("a valid scalar");
        let gateway = GatewayId::new("gw1").expect("a valid id");
        let now = UnixTime(1_795_000_000 + 3600);
        let local = WeekTime {
            day: Weekday::Monday,
            minute: 8 * 60,
        };
        let bound = PassClaims {
            member: member("anna-lindqvist"),
            pass_id: PassId([0x9c; 16]),
            not_before: UnixTime(1_795_000_000),
            expires: UnixTime(1_795_000_000 + 90 * 86_400),
            kind: PassKind::Member,
            scope: vec![
                SiteScope {
                    site: site("byn"),
                    doors: vec![door("front"), door("verkstad")],
                },
                SiteScope::all_doors(site("kulturhuset")),
            ],
            schedule: Schedule::new(vec![TimeWindow::new(
                &[Weekday::Monday, Weekday::Friday],
                7 * 60,
                22 * 60,
            )
            .expect("a valid window")]),
            device_key: Some(device.public_key()),
        };
        let bare = PassClaims {
            member: member("b"),
            pass_id: PassId([0; 16]),
            kind: PassKind::BreakGlass,
            scope: vec![SiteScope::all_doors(site("byn"))],
            schedule: None,
            device_key: None,
            ..bound.clone()
        };
        let passes = vec![bound.issue(&issuer), bare.issue(&issuer)];
        let proof = device.prove(&bound.pass_id, now.0 / TIME_STEP_SECONDS, 1);
        let presentations = vec![
            Presentation {
                pass: passes[0].clone(),
                proof: Some(proof.clone()),
            },
            Presentation {
                pass: passes[1].clone(),
                proof: None,
            },
        ];
        let qr_texts = presentations.iter().map(encode_qr).collect();
        let proof_bytes = vec![Presentation::proof_bytes(&passes[0], &proof)];

        let full = RevocationList {
            version: 41,
            base: None,
            issued_at: UnixTime(1_795_000_000),
            expires: UnixTime(1_795_000_000 + 7 * 86_400),
            revoked_passes: vec![PassId([1; 16])],
            revoked_members: vec![member("erik")],
            ..RevocationList::empty(site("byn"))
        };
        let delta = RevocationList {
            version: 42,
            base: Some(41),
            restored_passes: vec![PassId([1; 16])],
            restored_members: vec![member("erik")],
            ..full.clone()
        };
        let revocation_lists = vec![full.sign(&issuer), delta.sign(&issuer)];
        let actions = [
            Action::Unlock {
                door: door("front"),
                seconds: 5,
            },
            Action::Lockdown {
                door: None,
                on: true,
            },
            Action::TimeBeacon { time: now },
            Action::Revocation {
                list: revocation_lists[1].clone(),
            },
            Action::SetClockFloor { floor: now },
        ];
        let commands = (1u8..)
            .zip(actions)
            .map(|(seq, action)| {
                Command {
                    site: site("byn"),
                    gateway: gateway.clone(),
                    id: CommandId([seq; 16]),
                    issued_at: now.minus(5),
                    expires: now.plus(55),
                    seq: seq.into(),
                    action,
                }
                .sign(&issuer)
            })
            .collect();

        let bodies = vec![
            EventBody::EntryGranted {
                door: door("front"),
                pass_id: PassId([1; 16]),
                member: member("anna"),
                kind: PassKind::Member,
                device_bound: true,
            },
            EventBody::EntryDenied {
                door: door("front"),
                reason: Rejection::Expired,
                pass_id: None,
                member: Some(member("anna")),
            },
            EventBody::DoorOpened {
                door: door("front"),
            },
            EventBody::Lockdown {
                door: None,
                on: true,
            },
            EventBody::CommandResult {
                command: CommandId([2; 16]),
                seq: 9,
                outcome: bygd_protocol::CommandOutcome::Refused(Rejection::ReplayedCommand),
            },
            EventBody::GatewayStarted {
                version: "0.1.0".into(),
            },
            EventBody::ClockChanged {
                quality: ClockQuality::Floor,
                floor: UnixTime(5),
            },
            EventBody::RevocationRefused {
                version: Some(2),
                reason: Rejection::Rollback,
            },
        ];
        let mut head = ChainHead::default();
        let events: Vec<Vec<u8>> = bodies
            .into_iter()
            .map(|body| {
                let (_, bytes, next) = head.append(now, ClockQuality::Synchronised, body);
                head = next;
                bytes
            })
            .collect();
        let refs: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
        let batches = vec![
            sign_batch(&site("byn"), &gateway, &refs[..1], &gateway_key),
            sign_batch(&site("byn"), &gateway, &refs, &gateway_key),
        ];
        let acks = vec![Ack {
            site: site("byn"),
            gateway: gateway.clone(),
            up_to: 1,
            hash: hash_event(&events[0]),
            issued_at: now,
        }
        .sign(&issuer)];
        Self {
            issuer,
            issuers,
            gateway_key,
            site: site("byn"),
            gateway,
            door: door("front"),
            now,
            local,
            passes,
            presentations,
            qr_texts,
            proof_bytes,
            revocation_lists,
            commands,
            events,
            batches,
            acks,
        }
    }

    /// Where presentations are checked.
    pub fn context(&self) -> AccessContext<'_> {
        AccessContext {
            site: &self.site,
            door: &self.door,
            now: self.now,
            local: self.local,
        }
    }

    /// Verifies a presentation at the fixture's place, and checks that only a shown
    /// presentation is accepted.
    pub fn check_presentation(&self, presentation: &Presentation) {
        match bygd_protocol::verify_presentation(
            presentation,
            &self.issuers,
            &(),
            &(),
            &self.context(),
            MAX_SKEW_SECONDS,
        ) {
            Ok(_) => assert!(
                self.presentations.contains(presentation),
                "wrong accept: a changed presentation verified"
            ),
            Err(e) => check_refusal(&e),
        }
    }
}

/// The payload of a COSE_Sign1, or nothing.
pub fn payload_of(signed: &[u8]) -> Vec<u8> {
    CoseSign1::from_slice(signed)
        .ok()
        .and_then(|s| s.payload)
        .unwrap_or_default()
}

/// Signs `payload` as the protocol crate does: protected `{alg: EdDSA, kid}`, nothing
/// unprotected, `context` as external AAD.
pub fn cose_sign(context: &[u8], seed: &[u8; 32], payload: Vec<u8>) -> Vec<u8> {
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
        .expect("a COSE_Sign1 encodes")
}

/// Applies edits to a valid encoding: the edits are 4-byte groups `[op, position (2 bytes),
/// value]`; op 0 xors the byte at position with value, 1 inserts value there, 2 removes the
/// byte there, 3 truncates there.
pub fn apply_edits(original: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = original.to_vec();
    for edit in edits.chunks_exact(4) {
        let position = usize::from(u16::from_be_bytes([edit[1], edit[2]]));
        let at = position % (out.len() + 1);
        match edit[0] % 4 {
            0 if at < out.len() => out[at] ^= edit[3],
            1 => out.insert(at, edit[3]),
            2 if at < out.len() => {
                out.remove(at);
            }
            3 => out.truncate(at),
            _ => {}
        }
    }
    out
}

/// What a signed target feeds its decoder.
pub struct SignedInput {
    /// The bytes to decode.
    pub bytes: Vec<u8>,
    /// Whether they were signed here (so accepting them is right).
    pub resigned: bool,
}

/// How the first input byte is read by signed targets.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// The rest of the input, as is.
    Raw,
    /// A valid encoding (picked by the second byte) with the rest as edits.
    EditedOriginal,
    /// The rest of the input as a payload, signed here.
    ResignedRaw,
    /// A valid encoding's payload with the rest as edits, signed here.
    ResignedEdited,
}

impl Mode {
    fn of(byte: u8) -> Self {
        match byte % 4 {
            0 => Mode::Raw,
            1 => Mode::EditedOriginal,
            2 => Mode::ResignedRaw,
            _ => Mode::ResignedEdited,
        }
    }
}

/// Turns fuzzer input into bytes for a signed decoder (see [`Mode`]).
pub fn signed_input(
    data: &[u8],
    originals: &[Vec<u8>],
    context: &[u8],
    seed: &[u8; 32],
) -> SignedInput {
    let Some((&mode, rest)) = data.split_first() else {
        return SignedInput {
            bytes: Vec::new(),
            resigned: false,
        };
    };
    let pick = |rest: &[u8]| -> (Vec<u8>, Vec<u8>) {
        let (&which, edits) = rest.split_first().unwrap_or((&0, &[]));
        let original = &originals[usize::from(which) % originals.len()];
        (original.clone(), edits.to_vec())
    };
    match Mode::of(mode) {
        Mode::Raw => SignedInput {
            bytes: rest.to_vec(),
            resigned: false,
        },
        Mode::EditedOriginal => {
            let (original, edits) = pick(rest);
            SignedInput {
                bytes: apply_edits(&original, &edits),
                resigned: false,
            }
        }
        Mode::ResignedRaw => SignedInput {
            bytes: cose_sign(context, seed, rest.to_vec()),
            resigned: true,
        },
        Mode::ResignedEdited => {
            let (original, edits) = pick(rest);
            SignedInput {
                bytes: cose_sign(context, seed, apply_edits(&payload_of(&original), &edits)),
                resigned: true,
            }
        }
    }
}

/// Checks the result of a signed decoder on a [`SignedInput`]: refusals map to codes, and an
/// input not signed here is accepted only if it is one of the valid encodings.
pub fn check_signed<T>(input: &SignedInput, originals: &[Vec<u8>], result: &Result<T, Refusal>) {
    match result {
        Ok(_) => assert!(
            input.resigned || originals.contains(&input.bytes),
            "wrong accept: changed signed bytes verified"
        ),
        Err(e) => check_refusal(e),
    }
}
