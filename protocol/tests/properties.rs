//! Property tests of the protocol crate's wire formats.
//!
//! Two promises are checked here. Round trips: whatever the issuer, the dashboard or a gateway
//! encodes and signs, the other side verifies and decodes back to an equal value (passes, QR
//! text, presentations, revocation lists, commands, events, batches, acks, base45, topics and
//! ids). Tamper evidence: flipping any single bit of a signed structure makes it fail to
//! verify. The passes, the device proof and one structure of every other kind are checked
//! exhaustively, bit by bit; proptest then flips a random bit of random structures.
//!
//! Keys come from fixed seeds: the properties are about encodings, and generating a P-256 key
//! per case would dominate the run time.

use bygd_protocol::{
    base45_decode, base45_encode, decode_qr, encode_qr, hash_event, open_pass, sign_batch,
    verify_ack, verify_batch, verify_command, verify_pass, verify_presentation,
    verify_revocation_list, AccessContext, Ack, Action, ChainHead, ClockQuality, Command,
    CommandHistory, CommandId, CommandLimits, CommandOutcome, DeviceSecretKey, DoorId, Event,
    EventBody, GatewayId, MemberId, PassClaims, PassId, PassKind, Presentation, Refusal, Rejection,
    RevocationList, RevocationState, Schedule, SecretKey, SiteId, SiteScope, TimeWindow, Topic,
    TopicKind, TrustedKeys, UnixTime, VerifiedPass, WeekTime, Weekday, MAX_UNLOCK_COMMAND_LIFETIME,
    TIME_STEP_SECONDS,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use std::sync::OnceLock;

/// Seed of the issuer key that signs passes, revocation lists, commands and acks.
const ISSUER_SEED: [u8; 32] = [0x11; 32];
/// Seed of the gateway key that signs event batches.
const GATEWAY_SEED: [u8; 32] = [0x22; 32];
/// Scalars of the phone keys a pass may name: a fixed set, since key generation is slow.
const DEVICE_SCALARS: [[u8; 32]; 3] = [[0x31; 32], [0x32; 32], [0x33; 32]];

/// How far a phone's clock may be from the gateway's in these tests.
const MAX_SKEW_SECONDS: u64 = 90;

/// The command lifetimes `verify_command` allows per action. Only the unlock one is public;
/// the others mirror `command.rs` (a lockdown or time beacon: 5 minutes; a revocation: a day).
const MAX_SHORT_COMMAND_LIFETIME: u64 = 300;
const MAX_REVOCATION_COMMAND_LIFETIME: u64 = 86_400;

fn issuer() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| SecretKey::from_seed(&ISSUER_SEED))
}

fn issuers() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| std::iter::once(issuer().public_key().clone()).collect())
}

fn gateway_key() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| SecretKey::from_seed(&GATEWAY_SEED))
}

fn device_keys() -> &'static [DeviceSecretKey] {
    static KEYS: OnceLock<Vec<DeviceSecretKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        DEVICE_SCALARS
            .iter()
            .map(|s| DeviceSecretKey::from_bytes(s).expect("a valid P-256 scalar"))
            .collect()
    })
}

/// A command history that has accepted nothing yet.
struct NoHistory;

impl CommandHistory for NoHistory {
    fn last_seq(&self) -> Option<u64> {
        None
    }
    fn seen(&self, _: &CommandId) -> bool {
        false
    }
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut flipped = bytes.to_vec();
    flipped[bit / 8] ^= 1 << (bit % 8);
    flipped
}

fn site(text: &str) -> SiteId {
    SiteId::new(text).unwrap()
}

fn door(text: &str) -> DoorId {
    DoorId::new(text).unwrap()
}

fn gateway(text: &str) -> GatewayId {
    GatewayId::new(text).unwrap()
}

// --- Strategies.

/// Id text: a letter or digit, then up to `max - 1` of `a-z0-9-_`.
fn id_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z0-9][a-z0-9_-]{{0,{}}}", max - 1))
        .expect("a valid regex")
}

fn site_id() -> impl Strategy<Value = SiteId> {
    id_text(SiteId::MAX_LEN).prop_map(|t| SiteId::new(&t).unwrap())
}

fn gateway_id() -> impl Strategy<Value = GatewayId> {
    id_text(GatewayId::MAX_LEN).prop_map(|t| GatewayId::new(&t).unwrap())
}

fn door_id() -> impl Strategy<Value = DoorId> {
    id_text(DoorId::MAX_LEN).prop_map(|t| DoorId::new(&t).unwrap())
}

fn member_id() -> impl Strategy<Value = MemberId> {
    id_text(MemberId::MAX_LEN).prop_map(|t| MemberId::new(&t).unwrap())
}

fn pass_id() -> impl Strategy<Value = PassId> {
    any::<[u8; 16]>().prop_map(PassId)
}

/// Times of every CBOR integer width: tiny, realistic (2023 to 2033) and anything.
fn time() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..=1_000, 1_700_000_000u64..=2_000_000_000, any::<u64>(),]
}

/// `(start, end)` with `start < end`, both times.
fn time_span() -> impl Strategy<Value = (u64, u64)> {
    (time(), any::<u64>()).prop_map(|(start, r)| {
        let start = start.min(u64::MAX - 1);
        let end = start + 1 + r % (u64::MAX - start);
        (start, end)
    })
}

fn pass_kind() -> impl Strategy<Value = PassKind> {
    prop_oneof![
        Just(PassKind::Member),
        Just(PassKind::Guest),
        Just(PassKind::Staff),
        Just(PassKind::BreakGlass),
    ]
}

fn time_window() -> impl Strategy<Value = TimeWindow> {
    (1u8..=0x7f, 0u16..1440)
        .prop_flat_map(|(days, start)| (Just(days), Just(start), start + 1..=1440))
        .prop_map(|(days, start, end)| TimeWindow::from_mask(days, start, end).unwrap())
}

fn schedule() -> impl Strategy<Value = Schedule> {
    vec(time_window(), 1..=14).prop_map(|w| Schedule::new(w).unwrap())
}

fn site_scope() -> impl Strategy<Value = SiteScope> {
    (site_id(), vec(door_id(), 0..=3)).prop_map(|(site, doors)| SiteScope { site, doors })
}

fn pass_claims() -> impl Strategy<Value = PassClaims> {
    (
        member_id(),
        pass_id(),
        time_span(),
        pass_kind(),
        vec(site_scope(), 1..=3),
        option::of(schedule()),
        option::of(0..DEVICE_SCALARS.len()),
    )
        .prop_map(
            |(member, pass_id, (nbf, exp), kind, scope, schedule, device)| PassClaims {
                member,
                pass_id,
                not_before: UnixTime(nbf),
                expires: UnixTime(exp),
                kind,
                scope,
                schedule,
                device_key: device.map(|i| device_keys()[i].public_key()),
            },
        )
}

fn revocation_list() -> impl Strategy<Value = RevocationList> {
    let passes = || vec(pass_id(), 0..=4);
    let members = || vec(member_id(), 0..=3);
    let full = (site_id(), time(), time_span(), passes(), members()).prop_map(
        |(site, version, (issued, expires), revoked_passes, revoked_members)| RevocationList {
            site,
            version,
            base: None,
            issued_at: UnixTime(issued),
            expires: UnixTime(expires),
            revoked_passes,
            revoked_members,
            restored_passes: Vec::new(),
            restored_members: Vec::new(),
        },
    );
    let delta = (
        (site_id(), time()),
        any::<u64>(),
        time_span(),
        (passes(), members(), passes(), members()),
    )
        .prop_map(
            |((site, version), r, (issued, expires), (rp, rm, sp, sm))| {
                let version = version.max(1);
                RevocationList {
                    site,
                    version,
                    base: Some(version - 1 - r % version),
                    issued_at: UnixTime(issued),
                    expires: UnixTime(expires),
                    revoked_passes: rp,
                    revoked_members: rm,
                    restored_passes: sp,
                    restored_members: sm,
                }
            },
        );
    prop_oneof![full, delta]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (door_id(), 1u32..=3600).prop_map(|(door, seconds)| Action::Unlock { door, seconds }),
        (option::of(door_id()), any::<bool>()).prop_map(|(door, on)| Action::Lockdown { door, on }),
        time().prop_map(|t| Action::TimeBeacon { time: UnixTime(t) }),
        vec(any::<u8>(), 0..200).prop_map(|list| Action::Revocation { list }),
        time().prop_map(|t| Action::SetClockFloor { floor: UnixTime(t) }),
    ]
}

fn max_lifetime(action: &Action) -> u64 {
    match action {
        Action::Unlock { .. } => MAX_UNLOCK_COMMAND_LIFETIME,
        Action::Revocation { .. } => MAX_REVOCATION_COMMAND_LIFETIME,
        _ => MAX_SHORT_COMMAND_LIFETIME,
    }
}

/// A command with a lifetime its action allows, and a `now` inside that lifetime.
fn command_and_now() -> impl Strategy<Value = (Command, UnixTime)> {
    (
        (site_id(), gateway_id(), any::<[u8; 16]>()),
        time(),
        any::<u64>(),
        action(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |((site, gateway, id), issued, seq, action, r_life, r_now)| {
                let lifetime = 1 + r_life % max_lifetime(&action);
                let issued = issued.min(u64::MAX - lifetime);
                let now = issued + r_now % lifetime;
                let command = Command {
                    site,
                    gateway,
                    id: CommandId(id),
                    issued_at: UnixTime(issued),
                    expires: UnixTime(issued + lifetime),
                    seq,
                    action,
                };
                (command, UnixTime(now))
            },
        )
}

fn rejection() -> impl Strategy<Value = Rejection> {
    select(Rejection::ALL.to_vec())
}

fn clock_quality() -> impl Strategy<Value = ClockQuality> {
    prop_oneof![
        Just(ClockQuality::Synchronised),
        Just(ClockQuality::Unsynchronised),
        Just(ClockQuality::Floor),
    ]
}

/// Every `EventBody` variant (the enum is `#[non_exhaustive]`, so a new variant must be added
/// here by hand; the event module's own test lists them all too).
fn event_body() -> impl Strategy<Value = EventBody> {
    prop_oneof![
        (
            door_id(),
            pass_id(),
            member_id(),
            pass_kind(),
            any::<bool>()
        )
            .prop_map(|(door, pass_id, member, kind, device_bound)| {
                EventBody::EntryGranted {
                    door,
                    pass_id,
                    member,
                    kind,
                    device_bound,
                }
            }),
        (
            door_id(),
            rejection(),
            option::of(pass_id()),
            option::of(member_id())
        )
            .prop_map(|(door, reason, pass_id, member)| EventBody::EntryDenied {
                door,
                reason,
                pass_id,
                member,
            }),
        door_id().prop_map(|door| EventBody::DoorOpened { door }),
        door_id().prop_map(|door| EventBody::DoorClosed { door }),
        (door_id(), any::<bool>()).prop_map(|(door, raised)| EventBody::HeldOpen { door, raised }),
        (door_id(), any::<bool>())
            .prop_map(|(door, raised)| EventBody::ForcedOpen { door, raised }),
        door_id().prop_map(|door| EventBody::ExitButton { door }),
        (option::of(door_id()), any::<bool>())
            .prop_map(|(door, on)| EventBody::Lockdown { door, on }),
        (any::<[u8; 16]>(), any::<u64>(), option::of(rejection())).prop_map(
            |(id, seq, refused)| EventBody::CommandResult {
                command: CommandId(id),
                seq,
                outcome: refused.map_or(CommandOutcome::Done, CommandOutcome::Refused),
            }
        ),
        // At most 16 chars of at most 4 bytes: within the 64-byte version cap.
        vec(any::<char>(), 0..=16).prop_map(|chars| EventBody::GatewayStarted {
            version: chars.into_iter().collect(),
        }),
        (clock_quality(), time()).prop_map(|(quality, floor)| EventBody::ClockChanged {
            quality,
            floor: UnixTime(floor),
        }),
        any::<u64>().prop_map(|version| EventBody::RevocationApplied { version }),
        (option::of(any::<u64>()), rejection())
            .prop_map(|(version, reason)| EventBody::RevocationRefused { version, reason }),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        any::<u64>(),
        time(),
        clock_quality(),
        any::<[u8; 32]>(),
        event_body(),
    )
        .prop_map(|(seq, time, clock, prev_hash, body)| Event {
            seq,
            time: UnixTime(time),
            clock,
            prev_hash,
            body,
        })
}

/// The encoded events of a chain of 1 to 6, starting after an arbitrary head.
fn event_chain() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (
        prop_oneof![Just(0u64), 0u64..=u64::MAX - 16],
        any::<[u8; 32]>(),
        vec((time(), clock_quality(), event_body()), 1..=6),
    )
        .prop_map(|(seq, hash, items)| {
            let mut head = ChainHead { seq, hash };
            items
                .into_iter()
                .map(|(time, clock, body)| {
                    let (_, bytes, next) = head.append(UnixTime(time), clock, body);
                    head = next;
                    bytes
                })
                .collect()
        })
}

fn ack() -> impl Strategy<Value = Ack> {
    (
        site_id(),
        gateway_id(),
        1u64..=u64::MAX,
        any::<[u8; 32]>(),
        time(),
    )
        .prop_map(|(site, gateway, up_to, hash, issued)| Ack {
            site,
            gateway,
            up_to,
            hash,
            issued_at: UnixTime(issued),
        })
}

fn topic() -> impl Strategy<Value = Topic> {
    let kind = prop_oneof![
        Just(TopicKind::Event),
        Just(TopicKind::Status),
        Just(TopicKind::Command),
        Just(TopicKind::Ack),
    ];
    prop_oneof![
        (site_id(), gateway_id(), kind).prop_map(|(site, gateway, kind)| Topic::Gateway {
            site,
            gateway,
            kind
        }),
        site_id().prop_map(|site| Topic::Revocations { site }),
    ]
}

// --- Where a pass is valid: the inputs `verify_presentation` needs to accept it.

/// A place and time the claims allow: the first site and door, a moment in the validity
/// window picked by `r`, and a local week time inside the first schedule window.
struct Place {
    site: SiteId,
    door: DoorId,
    now: UnixTime,
    local: WeekTime,
}

impl Place {
    fn allowed_by(claims: &PassClaims, r: u64) -> Self {
        let scope = &claims.scope[0];
        let door = scope.doors.first().cloned().unwrap_or_else(|| door("any"));
        let span = claims.expires.0 - claims.not_before.0;
        let now = UnixTime(claims.not_before.0 + r % span);
        let local = match &claims.schedule {
            None => WeekTime::from_unix_with_offset(now, 0),
            Some(schedule) => {
                let window = schedule.windows()[0];
                let day = (0u8..7)
                    .find(|d| window.days() & (1 << d) != 0)
                    .and_then(Weekday::from_index)
                    .unwrap();
                WeekTime {
                    day,
                    minute: window.start(),
                }
            }
        };
        Self {
            site: scope.site.clone(),
            door,
            now,
            local,
        }
    }

    fn context(&self) -> AccessContext<'_> {
        AccessContext {
            site: &self.site,
            door: &self.door,
            now: self.now,
            local: self.local,
        }
    }
}

// --- Round trips.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn an_issued_pass_opens_to_the_same_claims(claims in pass_claims()) {
        let pass = claims.issue(issuer());
        let opened = open_pass(&pass, issuers());
        prop_assert_eq!(opened, Ok(VerifiedPass { issuer: issuer().id(), claims }));
    }

    #[test]
    fn a_presentation_round_trips_through_qr_text(
        claims in pass_claims(),
        proof in option::of((0..DEVICE_SCALARS.len(), any::<u64>(), any::<u64>())),
    ) {
        let pass = claims.issue(issuer());
        let proof = proof.map(|(key, step, counter)| {
            device_keys()[key].prove(&claims.pass_id, step, counter)
        });
        let presentation = Presentation { pass, proof };
        let text = encode_qr(&presentation);
        prop_assert!(text.starts_with("BYGD1"));
        prop_assert_eq!(decode_qr(&text), Ok(presentation.clone()));
        if let Some(proof) = &presentation.proof {
            let bytes = Presentation::proof_bytes(&presentation.pass, proof);
            prop_assert_eq!(Presentation::from_proof_bytes(&bytes), Ok(presentation));
        }
    }

    #[test]
    fn a_presentation_is_accepted_where_and_when_its_pass_allows(
        claims in pass_claims(),
        r_now in any::<u64>(),
        counter in any::<u64>(),
    ) {
        let place = Place::allowed_by(&claims, r_now);
        let pass = claims.issue(issuer());
        let device = claims.device_key.as_ref().map(|key| {
            device_keys().iter().find(|d| d.public_key() == *key).unwrap()
        });
        let step = place.now.0 / TIME_STEP_SECONDS;
        let proof = device.map(|d| d.prove(&claims.pass_id, step, counter));
        let presentation = decode_qr(&encode_qr(&Presentation { pass: pass.clone(), proof })).unwrap();
        let verified = verify_presentation(
            &presentation,
            issuers(),
            &RevocationState::default(),
            &(),
            &place.context(),
            MAX_SKEW_SECONDS,
        )
        .unwrap();
        prop_assert_eq!(&verified.pass.claims, &claims);
        prop_assert_eq!(verified.proof.map(|p| (p.pass_id, p.counter, p.time_step)),
            device.map(|_| (claims.pass_id, counter, step)));
        prop_assert_eq!(verify_pass(&pass, issuers(), &place.context()).map(|p| p.claims), Ok(claims));
    }

    #[test]
    fn a_signed_revocation_list_verifies_to_the_same_list(list in revocation_list()) {
        let signed = list.sign(issuer());
        prop_assert_eq!(
            verify_revocation_list(&signed, issuers(), &list.site),
            Ok((issuer().id(), list))
        );
    }

    #[test]
    fn a_revocation_list_is_misaddressed_at_every_other_site(
        list in revocation_list(),
        other in site_id(),
    ) {
        prop_assume!(other != list.site);
        let signed = list.sign(issuer());
        prop_assert_eq!(
            verify_revocation_list(&signed, issuers(), &other),
            Err(Rejection::Misaddressed.into())
        );
    }

    #[test]
    fn a_command_is_misaddressed_at_every_other_site_or_gateway(
        (command, now) in command_and_now(),
        (site, gw) in (site_id(), gateway_id()),
        keep_site in any::<bool>(),
    ) {
        // Half the cases: the same site, another gateway; else another site with any gateway
        // id, the same one included (gateway ids are unique only within a site).
        let site = if keep_site { command.site.clone() } else { site };
        prop_assume!(site != command.site || gw != command.gateway);
        let verified = verify_command(
            &command.sign(issuer()),
            issuers(),
            &site,
            &gw,
            now,
            &NoHistory,
            CommandLimits::default(),
        );
        prop_assert_eq!(verified, Err(Rejection::Misaddressed.into()));
    }

    #[test]
    fn an_ack_is_misaddressed_at_every_other_site_or_gateway(
        ack in ack(),
        (site, gw) in (site_id(), gateway_id()),
        keep_site in any::<bool>(),
    ) {
        let site = if keep_site { ack.site.clone() } else { site };
        prop_assume!(site != ack.site || gw != ack.gateway);
        prop_assert_eq!(
            verify_ack(&ack.sign(issuer()), issuers(), &site, &gw),
            Err(Rejection::Misaddressed.into())
        );
    }

    #[test]
    fn a_batch_is_misaddressed_from_every_other_site_or_gateway(
        (site, gw) in (site_id(), gateway_id()),
        (other_site, other_gw) in (site_id(), gateway_id()),
        keep_site in any::<bool>(),
        chain in event_chain(),
    ) {
        let other_site = if keep_site { site.clone() } else { other_site };
        prop_assume!(other_site != site || other_gw != gw);
        let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        let signed = sign_batch(&site, &gw, &refs, gateway_key());
        prop_assert_eq!(
            verify_batch(&signed, gateway_key().public_key(), &other_site, &other_gw),
            Err(Rejection::Misaddressed.into())
        );
    }

    #[test]
    fn a_signed_command_verifies_to_the_same_command_inside_its_lifetime(
        (command, now) in command_and_now(),
    ) {
        let signed = command.sign(issuer());
        let verified = verify_command(
            &signed,
            issuers(),
            &command.site,
            &command.gateway,
            now,
            &NoHistory,
            CommandLimits::default(),
        );
        prop_assert_eq!(verified, Ok(command));
    }

    #[test]
    fn an_event_round_trips_through_its_bytes(event in event()) {
        let bytes = event.encode();
        let decoded = Event::decode(&bytes);
        prop_assert_eq!(decoded.as_ref(), Ok(&event));
        prop_assert_eq!(decoded.unwrap().encode(), bytes);
    }

    #[test]
    fn a_signed_batch_verifies_to_the_same_events(
        (site, gw) in (site_id(), gateway_id()),
        chain in event_chain(),
    ) {
        let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        let signed = sign_batch(&site, &gw, &refs, gateway_key());
        let batch = verify_batch(&signed, gateway_key().public_key(), &site, &gw).unwrap();
        prop_assert_eq!(&batch.site, &site);
        prop_assert_eq!(&batch.gateway, &gw);
        prop_assert_eq!(batch.events.len(), chain.len());
        for (verified, bytes) in batch.events.iter().zip(&chain) {
            prop_assert_eq!(&verified.bytes, bytes);
            prop_assert_eq!(verified.hash, hash_event(bytes));
            prop_assert_eq!(Ok(verified.event.clone()), Event::decode(bytes));
        }
    }

    #[test]
    fn a_signed_ack_verifies_to_the_same_ack(ack in ack()) {
        let signed = ack.sign(issuer());
        prop_assert_eq!(verify_ack(&signed, issuers(), &ack.site, &ack.gateway), Ok(ack));
    }

    #[test]
    fn base45_decoding_inverts_encoding(bytes in vec(any::<u8>(), 0..600)) {
        let text = base45_encode(&bytes);
        prop_assert_eq!(text.len(), bytes.len() / 2 * 3 + bytes.len() % 2 * 2);
        prop_assert_eq!(base45_decode(&text), Ok(bytes));
    }

    #[test]
    fn base45_text_that_decodes_is_the_encoding_of_what_it_decodes_to(
        text in "[0-9A-Z $%*+./:-]{0,60}",
    ) {
        if let Ok(bytes) = base45_decode(&text) {
            prop_assert_eq!(base45_encode(&bytes), text);
        }
    }

    #[test]
    fn a_topic_round_trips_through_its_name(topic in topic()) {
        prop_assert_eq!(Topic::parse(&topic.to_string()), Some(topic));
    }

    #[test]
    fn valid_ids_round_trip_through_text(
        site in id_text(SiteId::MAX_LEN),
        member in id_text(MemberId::MAX_LEN),
        bytes in any::<[u8; 16]>(),
    ) {
        prop_assert_eq!(SiteId::new(&site).unwrap().to_string(), site.clone());
        prop_assert_eq!(GatewayId::new(&site).unwrap().to_string(), site.clone());
        prop_assert_eq!(site.parse::<DoorId>().unwrap().to_string(), site.clone());
        prop_assert_eq!(MemberId::new(&member).unwrap().to_string(), member);
        let pass = PassId(bytes);
        prop_assert_eq!(PassId::from_hex(&pass.to_string()), Some(pass));
        prop_assert_eq!(PassId::from_hex(&pass.to_string().to_uppercase()), Some(pass));
        let command = CommandId(bytes);
        prop_assert_eq!(CommandId::from_hex(&command.to_string()), Some(command));
    }

    #[test]
    fn week_time_is_defined_for_every_time_and_offset(
        time in any::<u64>(),
        offset in any::<i32>(),
    ) {
        let local = WeekTime::from_unix_with_offset(UnixTime(time), offset);
        prop_assert!(local.minute < 1440);
    }
}

// --- Tamper evidence, exhaustively on typical structures.

/// A pass as a network of spaces would issue it: two sites, named doors at one, opening
/// hours and a phone key.
fn typical_claims() -> PassClaims {
    let hours = Schedule::new(vec![
        TimeWindow::new(
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
        .unwrap(),
        TimeWindow::new(&[Weekday::Saturday], 10 * 60, 16 * 60).unwrap(),
    ])
    .unwrap();
    PassClaims {
        member: MemberId::new("anna-lindqvist").unwrap(),
        pass_id: PassId(*b"\x9c\x01\x7e\x44\x10\xa2\x5b\x33\xc8\x00\xff\x12\x6d\x90\x21\x5a"),
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
        schedule: Some(hours),
        device_key: Some(device_keys()[0].public_key()),
    }
}

/// A pass with nothing optional: one site, every door, any time, no phone key.
fn minimal_claims() -> PassClaims {
    PassClaims {
        member: MemberId::new("b").unwrap(),
        pass_id: PassId([0; 16]),
        not_before: UnixTime(0),
        expires: UnixTime(1),
        kind: PassKind::Guest,
        scope: vec![SiteScope::all_doors(site("a"))],
        schedule: None,
        device_key: None,
    }
}

/// Monday 08:00 in the typical pass's first week: inside its window and opening hours.
fn typical_place() -> Place {
    Place {
        site: site("byn"),
        door: door("front"),
        now: UnixTime(1_795_000_000 + 3600),
        local: WeekTime {
            day: Weekday::Monday,
            minute: 8 * 60,
        },
    }
}

#[test]
fn flipping_any_bit_of_a_pass_makes_it_fail_to_verify() {
    for claims in [typical_claims(), minimal_claims()] {
        let pass = claims.issue(issuer());
        assert!(open_pass(&pass, issuers()).is_ok());
        for bit in 0..pass.len() * 8 {
            let flipped = flip(&pass, bit);
            assert!(
                open_pass(&flipped, issuers()).is_err(),
                "bit {bit} of {} flipped still opens",
                hex::encode(&pass)
            );
        }
    }
}

#[test]
fn flipping_any_bit_of_a_device_proof_makes_the_presentation_fail() {
    let claims = typical_claims();
    let place = typical_place();
    let pass = claims.issue(issuer());
    let proof = device_keys()[0].prove(&claims.pass_id, place.now.0 / TIME_STEP_SECONDS, 7);
    let bytes = Presentation::proof_bytes(&pass, &proof);
    let verify = |bytes: &[u8]| -> Result<(), Refusal> {
        let presentation = Presentation::from_proof_bytes(bytes)?;
        verify_presentation(
            &presentation,
            issuers(),
            &RevocationState::default(),
            &(),
            &place.context(),
            MAX_SKEW_SECONDS,
        )
        .map(drop)
    };
    assert_eq!(verify(&bytes), Ok(()));
    for bit in 0..bytes.len() * 8 {
        assert!(
            verify(&flip(&bytes, bit)).is_err(),
            "bit {bit} of the presentation flipped still opens"
        );
    }
    // The same pass without its proof, or with a proof by another phone, opens nothing.
    let bare = Presentation { pass, proof: None };
    let refuse = |p: &Presentation| {
        verify_presentation(
            p,
            issuers(),
            &RevocationState::default(),
            &(),
            &place.context(),
            MAX_SKEW_SECONDS,
        )
        .map(drop)
    };
    assert_eq!(refuse(&bare), Err(Rejection::ProofRequired.into()));
    let stranger = device_keys()[1].prove(&claims.pass_id, place.now.0 / TIME_STEP_SECONDS, 7);
    assert_eq!(
        refuse(&Presentation {
            proof: Some(stranger),
            ..bare
        }),
        Err(Rejection::BadProof.into())
    );
}

#[test]
fn flipping_any_bit_of_a_revocation_list_makes_it_fail_to_verify() {
    let full = RevocationList {
        version: 41,
        base: None,
        issued_at: UnixTime(1_795_000_000),
        expires: UnixTime(1_795_000_000 + 7 * 86_400),
        revoked_passes: vec![PassId([1; 16]), PassId([2; 16])],
        revoked_members: vec![MemberId::new("erik").unwrap()],
        ..RevocationList::empty(site("byn"))
    };
    let delta = RevocationList {
        version: 42,
        base: Some(41),
        revoked_passes: vec![PassId([3; 16])],
        restored_passes: vec![PassId([1; 16])],
        restored_members: vec![MemberId::new("erik").unwrap()],
        ..full.clone()
    };
    for list in [full, delta] {
        let signed = list.sign(issuer());
        assert!(verify_revocation_list(&signed, issuers(), &site("byn")).is_ok());
        for bit in 0..signed.len() * 8 {
            assert!(
                verify_revocation_list(&flip(&signed, bit), issuers(), &site("byn")).is_err(),
                "bit {bit} of revocation list {} flipped still verifies",
                list.version
            );
        }
    }
}

#[test]
fn flipping_any_bit_of_a_command_makes_it_fail_to_verify() {
    let list = RevocationList {
        version: 2,
        base: Some(1),
        issued_at: UnixTime(1_795_000_000),
        expires: UnixTime(1_795_086_400),
        revoked_passes: vec![PassId([9; 16])],
        ..RevocationList::empty(site("byn"))
    };
    let actions = [
        Action::Unlock {
            door: door("front"),
            seconds: 5,
        },
        Action::Lockdown {
            door: None,
            on: true,
        },
        Action::TimeBeacon {
            time: UnixTime(1_795_000_010),
        },
        Action::Revocation {
            list: list.sign(issuer()),
        },
        Action::SetClockFloor {
            floor: UnixTime(1_795_000_020),
        },
    ];
    for (seq, action) in (1..).zip(actions) {
        let command = Command {
            site: site("byn"),
            gateway: gateway("gw1"),
            id: CommandId([seq as u8; 16]),
            issued_at: UnixTime(1_795_000_000),
            expires: UnixTime(1_795_000_000 + 60),
            seq,
            action,
        };
        let signed = command.sign(issuer());
        let verify = |bytes: &[u8]| {
            verify_command(
                bytes,
                issuers(),
                &site("byn"),
                &gateway("gw1"),
                UnixTime(1_795_000_010),
                &NoHistory,
                CommandLimits::default(),
            )
        };
        assert_eq!(verify(&signed), Ok(command.clone()));
        for bit in 0..signed.len() * 8 {
            assert!(
                verify(&flip(&signed, bit)).is_err(),
                "bit {bit} of command {:?} flipped still verifies",
                command.action
            );
        }
    }
}

/// Three linked events: an entry, the door opening and closing.
fn typical_chain() -> Vec<Vec<u8>> {
    let bodies = [
        EventBody::EntryGranted {
            door: door("front"),
            pass_id: PassId([7; 16]),
            member: MemberId::new("anna").unwrap(),
            kind: PassKind::Member,
            device_bound: true,
        },
        EventBody::DoorOpened {
            door: door("front"),
        },
        EventBody::DoorClosed {
            door: door("front"),
        },
    ];
    let mut head = ChainHead {
        seq: 99,
        hash: [0x42; 32],
    };
    bodies
        .into_iter()
        .map(|body| {
            let (_, bytes, next) =
                head.append(UnixTime(1_795_000_000), ClockQuality::Synchronised, body);
            head = next;
            bytes
        })
        .collect()
}

#[test]
fn flipping_any_bit_of_a_batch_makes_it_fail_to_verify() {
    let chain = typical_chain();
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let signed = sign_batch(&site("byn"), &gateway("gw1"), &refs, gateway_key());
    let verify = |bytes: &[u8]| {
        verify_batch(
            bytes,
            gateway_key().public_key(),
            &site("byn"),
            &gateway("gw1"),
        )
    };
    assert!(verify(&signed).is_ok());
    for bit in 0..signed.len() * 8 {
        assert!(
            verify(&flip(&signed, bit)).is_err(),
            "bit {bit} of the batch flipped still verifies"
        );
    }
}

#[test]
fn flipping_any_bit_of_an_event_breaks_the_chain_after_it() {
    let chain = typical_chain();
    let first = Event::decode(&chain[0]).unwrap();
    let second = Event::decode(&chain[1]).unwrap();
    let head = ChainHead {
        seq: first.seq,
        hash: hash_event(&chain[0]),
    };
    assert!(head.follow(&second, &chain[1]).is_ok());
    for bit in 0..chain[0].len() * 8 {
        let flipped = flip(&chain[0], bit);
        // An event that still decodes hashes differently, so the next one no longer links.
        if let Ok(event) = Event::decode(&flipped) {
            let head = ChainHead {
                seq: event.seq,
                hash: hash_event(&flipped),
            };
            assert!(
                head.follow(&second, &chain[1]).is_err(),
                "bit {bit} of the first event flipped keeps the chain intact"
            );
        }
    }
}

#[test]
fn flipping_any_bit_of_an_ack_makes_it_fail_to_verify() {
    let ack = Ack {
        site: site("byn"),
        gateway: gateway("gw1"),
        up_to: 1_234,
        hash: [0x5c; 32],
        issued_at: UnixTime(1_795_000_000),
    };
    let signed = ack.sign(issuer());
    let verify = |bytes: &[u8]| verify_ack(bytes, issuers(), &site("byn"), &gateway("gw1"));
    assert_eq!(verify(&signed), Ok(ack));
    for bit in 0..signed.len() * 8 {
        assert!(
            verify(&flip(&signed, bit)).is_err(),
            "bit {bit} of the ack flipped still verifies"
        );
    }
}

// --- Regressions: bugs found while writing these tests, kept as plain tests.

#[test]
fn an_event_after_the_last_sequence_number_is_a_gap() {
    // Sequence numbers never wrap or repeat: after u64::MAX nothing can follow.
    let head = ChainHead {
        seq: u64::MAX,
        hash: [3; 32],
    };
    let event = Event {
        seq: u64::MAX,
        time: UnixTime(1),
        clock: ClockQuality::Floor,
        prev_hash: head.hash,
        body: EventBody::DoorOpened { door: door("d") },
    };
    assert_eq!(
        head.follow(&event, &event.encode()),
        Err(Rejection::SequenceGap)
    );
}

#[test]
fn week_time_saturates_instead_of_overflowing_at_the_end_of_time() {
    // Once `i64::MAX + offset`: an overflow panic in debug builds, a wrapped day in release.
    for time in [u64::MAX, i64::MAX as u64, i64::MAX as u64 - 1] {
        for offset in [i32::MAX, 14 * 3600, 1, 0, -1, i32::MIN] {
            let local = WeekTime::from_unix_with_offset(UnixTime(time), offset);
            assert!(local.minute < 1440);
        }
    }
}

// --- Tamper evidence, a random bit of random structures.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flipping_a_random_bit_of_a_random_pass_makes_it_fail_to_verify(
        claims in pass_claims(),
        bit in any::<Index>(),
    ) {
        let pass = claims.issue(issuer());
        let flipped = flip(&pass, bit.index(pass.len() * 8));
        prop_assert!(open_pass(&flipped, issuers()).is_err());
    }

    #[test]
    fn flipping_a_random_bit_of_random_qr_text_makes_it_fail_to_verify(
        claims in pass_claims(),
        r_now in any::<u64>(),
        bit in any::<Index>(),
    ) {
        let place = Place::allowed_by(&claims, r_now);
        let proof = claims.device_key.as_ref().map(|key| {
            let device = device_keys().iter().find(|d| d.public_key() == *key).unwrap();
            device.prove(&claims.pass_id, place.now.0 / TIME_STEP_SECONDS, 1)
        });
        let text = encode_qr(&Presentation { pass: claims.issue(issuer()), proof });
        let flipped = flip(text.as_bytes(), bit.index(text.len() * 8));
        // A flipped bit may leave ASCII; a reader would hand such bytes over lossily.
        let flipped = String::from_utf8_lossy(&flipped);
        if let Ok(presentation) = decode_qr(&flipped) {
            let verified = verify_presentation(
                &presentation,
                issuers(),
                &RevocationState::default(),
                &(),
                &place.context(),
                MAX_SKEW_SECONDS,
            );
            prop_assert!(verified.is_err());
        }
    }

    #[test]
    fn flipping_a_random_bit_of_a_random_revocation_list_makes_it_fail_to_verify(
        list in revocation_list(),
        bit in any::<Index>(),
    ) {
        let signed = list.sign(issuer());
        let flipped = flip(&signed, bit.index(signed.len() * 8));
        prop_assert!(verify_revocation_list(&flipped, issuers(), &list.site).is_err());
    }

    #[test]
    fn flipping_a_random_bit_of_a_random_command_makes_it_fail_to_verify(
        (command, now) in command_and_now(),
        bit in any::<Index>(),
    ) {
        let signed = command.sign(issuer());
        let flipped = flip(&signed, bit.index(signed.len() * 8));
        let verified = verify_command(
            &flipped,
            issuers(),
            &command.site,
            &command.gateway,
            now,
            &NoHistory,
            CommandLimits::default(),
        );
        prop_assert!(verified.is_err());
    }

    #[test]
    fn flipping_a_random_bit_of_a_random_batch_makes_it_fail_to_verify(
        (site, gw) in (site_id(), gateway_id()),
        chain in event_chain(),
        bit in any::<Index>(),
    ) {
        let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        let signed = sign_batch(&site, &gw, &refs, gateway_key());
        let flipped = flip(&signed, bit.index(signed.len() * 8));
        prop_assert!(verify_batch(&flipped, gateway_key().public_key(), &site, &gw).is_err());
    }

    #[test]
    fn flipping_a_random_bit_of_a_random_ack_makes_it_fail_to_verify(
        ack in ack(),
        bit in any::<Index>(),
    ) {
        let signed = ack.sign(issuer());
        let flipped = flip(&signed, bit.index(signed.len() * 8));
        prop_assert!(verify_ack(&flipped, issuers(), &ack.site, &ack.gateway).is_err());
    }
}
