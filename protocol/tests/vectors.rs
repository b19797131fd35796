//! The protocol's checked-in test vectors: the JSON files in `tests/vectors/`, which a phone
//! app or another implementation of bygd runs against its own verifier, and which this test
//! runs against ours.
//!
//! Every case names its inputs (trusted keys in hex, the QR text or the signed bytes in hex,
//! `now`, the verifier's state) and its outcome: `valid`, with what must decode, or a
//! `Rejection::code()`. The `*_vector_gives_its_expected_outcome` tests read each case from
//! the JSON alone and run it through the public API, so they test the files, not the
//! generator. The generator lives here too: with `BYGD_REGENERATE_VECTORS=1` the tests first
//! rewrite the files; without it, a test fails if regenerating would change a byte, so the
//! files cannot drift from the code. `tests/vectors/README.md` describes the layout.

use bygd_protocol::{
    base45_decode, base45_encode, decode_qr, encode_qr, sign_batch, verify_ack, verify_batch,
    verify_command, verify_presentation, verify_revocation_list, AccessContext, Ack, Action,
    ChainHead, ClockQuality, Command, CommandHistory, CommandId, CommandLimits, CommandOutcome,
    CoreStatus, DeviceSecretKey, DoorId, DoorStatus, Event, EventBody, GatewayId, GatewayStatus,
    KeyError, KeyId, MemberId, PassClaims, PassId, PassKind, Presentation, ProofCounters,
    PublicKey, Rejection, RevocationList, RevocationState, Schedule, SecretKey, SiteId, SiteScope,
    TimeWindow, TrustedKeys, UnixTime, UplinkStatus, WeekTime, Weekday, MAX_QR_TEXT_LEN,
    PASS_PREFIX, PRESENTATION_PREFIX, TIME_STEP_SECONDS,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The environment variable that makes the tests rewrite the JSON files before checking them.
const REGENERATE_VAR: &str = "BYGD_REGENERATE_VECTORS";

/// The outcome of a case that must be accepted.
const VALID: &str = "valid";

/// The vector files, in the order the README lists them.
const FILES: [&str; 6] = [
    "passes",
    "revocations",
    "commands",
    "events",
    "acks",
    "statuses",
];

/// What the issue asks the vectors to cover ("Cover every rejection: bad signature, wrong
/// key, expired, ..."), as codes per file, plus what each structure's checks add: a file that
/// loses one of these cases fails the build.
const REQUIRED: [(&str, &[&str]); 6] = [
    (
        "passes",
        &[
            VALID,
            "bad_signature",
            "unknown_key", // the issue's "wrong key"
            "expired",
            "not_yet_valid",
            "wrong_site",
            "wrong_door",
            "outside_schedule",
            "revoked",
            "member_revoked",
            "proof_required",
            "bad_proof",
            "replayed_proof",
            "stale_proof",
            "trailing_bytes",
            "truncated",
            "non_canonical_signature",
            "weak_key",
            "bad_prefix",
            "too_large", // the issue's "oversized input"
            "bad_encoding",
            "malformed",
        ],
    ),
    (
        "revocations",
        &[
            VALID,
            "misaddressed", // a list copied from another site (issue #11)
            "rollback",
            "delta_mismatch",
            "bad_signature",
            "unknown_key",
            "non_canonical_signature",
            "weak_key",
            "trailing_bytes",
            "truncated",
            "malformed",
        ],
    ),
    (
        "commands",
        &[
            VALID,
            "expired",
            "misaddressed",
            "replayed_command",
            "bad_lifetime",
            "bad_signature",
            "unknown_key",
            "non_canonical_signature",
            "weak_key",
            "trailing_bytes",
            "truncated",
            "malformed",
        ],
    ),
    (
        "events",
        &[
            VALID,
            "sequence_gap",
            "chain_broken",
            "unknown_key",
            "bad_signature",
            "misaddressed",
            "non_canonical_signature",
            "weak_key",
            "trailing_bytes",
            "truncated",
            "malformed",
        ],
    ),
    (
        "acks",
        &[
            VALID,
            "misaddressed",
            "bad_signature",
            "unknown_key",
            "non_canonical_signature",
            "trailing_bytes",
            "truncated",
            "malformed",
        ],
    ),
    (
        "statuses",
        &[VALID, "trailing_bytes", "truncated", "malformed"],
    ),
];

// ---------------------------------------------------------------------------------------------
// The JSON shapes. Field order here is the order in the files.
// ---------------------------------------------------------------------------------------------

/// One vector file: what it holds, and its cases.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile<C> {
    description: String,
    cases: Vec<C>,
}

/// The fields every case has, whatever its structure, for the checks that span all files.
#[derive(Debug, Deserialize)]
struct AnyCase {
    name: String,
    expected: String,
}

/// A QR text presented at a door (`passes.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassCase {
    name: String,
    description: String,
    /// The issuer keys the gateway pins, 64 hex digits each.
    issuer_public_keys: Vec<String>,
    /// A signed revocation list (hex) the gateway applied before this presentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revocation_list: Option<String>,
    /// The highest device-proof counter the gateway already accepted for this pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_counter: Option<u64>,
    qr_text: String,
    /// The bytes the base45 after the prefix decodes to, when it does (for debugging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qr_bytes: Option<String>,
    now: u64,
    local_time: LocalTimeJson,
    site: String,
    door: String,
    max_skew_seconds: u64,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claims: Option<ClaimsJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof_use: Option<ProofUseJson>,
}

/// `now` in the site's local week, as the gateway derives it from its time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalTimeJson {
    day: String,
    minute: u16,
}

/// The claims a valid pass decodes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimsJson {
    issuer_key_id: String,
    member: String,
    pass_id: String,
    not_before: u64,
    expires: u64,
    kind: String,
    scope: Vec<ScopeJson>,
    schedule: Option<Vec<WindowJson>>,
    device_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeJson {
    site: String,
    /// Empty: every door of the site.
    doors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowJson {
    days: Vec<String>,
    start: u16,
    end: u16,
}

/// What the gateway stores after accepting a device proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofUseJson {
    pass_id: String,
    time_step: u64,
    counter: u64,
}

/// A signed revocation list reaching a gateway (`revocations.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationCase {
    name: String,
    description: String,
    issuer_public_keys: Vec<String>,
    /// The gateway's site: a list signed for another site is `misaddressed`.
    site: String,
    /// Signed lists (hex) the gateway accepted before, in order: they build its state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    applied_first: Vec<String>,
    list: String,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decoded: Option<ListJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state_after: Option<StateJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListJson {
    issuer_key_id: String,
    site: String,
    version: u64,
    base: Option<u64>,
    issued_at: u64,
    expires: u64,
    revoked_passes: Vec<String>,
    revoked_members: Vec<String>,
    restored_passes: Vec<String>,
    restored_members: Vec<String>,
}

/// The revocation state after applying a list: sorted, so any implementation can compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateJson {
    version: u64,
    revoked_passes: Vec<String>,
    revoked_members: Vec<String>,
}

/// A signed command reaching a gateway (`commands.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandCase {
    name: String,
    description: String,
    issuer_public_keys: Vec<String>,
    command: String,
    site: String,
    gateway: String,
    now: u64,
    max_clock_skew_seconds: u64,
    /// The highest sequence number the gateway accepted; `null` before its first command.
    last_seq: Option<u64>,
    /// Command ids the gateway accepted before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen_command_ids: Vec<String>,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decoded: Option<CommandJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandJson {
    site: String,
    gateway: String,
    id: String,
    issued_at: u64,
    expires: u64,
    seq: u64,
    action: ActionJson,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ActionJson {
    Unlock { door: String, seconds: u32 },
    Lockdown { door: Option<String>, on: bool },
    TimeBeacon { time: u64 },
    Revocation { list: String },
    SetClockFloor { floor: u64 },
}

/// A signed batch of gateway events reaching the dashboard (`events.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventCase {
    name: String,
    description: String,
    /// The key the dashboard registered for this gateway.
    gateway_public_key: String,
    site: String,
    gateway: String,
    /// The last event the dashboard stored for this gateway (seq 0 and 32 zero bytes: none).
    stored_head: HeadJson,
    batch: String,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<Vec<EventJson>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    head_after: Option<HeadJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadJson {
    seq: u64,
    hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventJson {
    seq: u64,
    time: u64,
    clock: String,
    prev_hash: String,
    body: BodyJson,
    bytes: String,
    hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BodyJson {
    EntryGranted {
        door: String,
        pass_id: String,
        member: String,
        kind: String,
        device_bound: bool,
    },
    EntryDenied {
        door: String,
        reason: String,
        pass_id: Option<String>,
        member: Option<String>,
    },
    DoorOpened {
        door: String,
    },
    DoorClosed {
        door: String,
    },
    HeldOpen {
        door: String,
        raised: bool,
    },
    ForcedOpen {
        door: String,
        raised: bool,
    },
    ExitButton {
        door: String,
    },
    Lockdown {
        door: Option<String>,
        on: bool,
    },
    CommandResult {
        command: String,
        seq: u64,
        /// `done`, or the rejection code it was refused with.
        outcome: String,
    },
    GatewayStarted {
        version: String,
    },
    ClockChanged {
        quality: String,
        floor: u64,
    },
    RevocationApplied {
        version: u64,
    },
    RevocationRefused {
        version: Option<u64>,
        reason: String,
    },
    DenialsRepeated {
        door: String,
        reason: String,
        pass_id: Option<String>,
        member: Option<String>,
        count: u64,
        first: u64,
        last: u64,
    },
    DiskLow {
        raised: bool,
        free_bytes: u64,
    },
}

/// A signed ack reaching a gateway (`acks.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckCase {
    name: String,
    description: String,
    issuer_public_keys: Vec<String>,
    ack: String,
    site: String,
    gateway: String,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decoded: Option<AckJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckJson {
    site: String,
    gateway: String,
    up_to: u64,
    hash: String,
    issued_at: u64,
}

/// A gateway's status reaching the dashboard (`statuses.json`). The status is JSON text, so
/// the case holds it as a string, not hex; `decoded` is the status as a reader must see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusCase {
    name: String,
    description: String,
    status: String,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decoded: Option<GatewayStatus>,
}

// ---------------------------------------------------------------------------------------------
// Conversions between the protocol's types and the JSON shapes, used by both sides.
// ---------------------------------------------------------------------------------------------

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

fn day_from_name(name: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| day_name(*d) == name)
}

fn local_time_json(at: WeekTime) -> LocalTimeJson {
    LocalTimeJson {
        day: day_name(at.day).to_owned(),
        minute: at.minute,
    }
}

fn claims_json(issuer: KeyId, claims: &PassClaims) -> ClaimsJson {
    ClaimsJson {
        issuer_key_id: issuer.to_string(),
        member: claims.member.to_string(),
        pass_id: claims.pass_id.to_string(),
        not_before: claims.not_before.0,
        expires: claims.expires.0,
        kind: claims.kind.name().to_owned(),
        scope: claims
            .scope
            .iter()
            .map(|s| ScopeJson {
                site: s.site.to_string(),
                doors: s.doors.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        schedule: claims.schedule.as_ref().map(|s| {
            s.windows()
                .iter()
                .map(|w| WindowJson {
                    days: Weekday::ALL
                        .into_iter()
                        .filter(|d| w.days() & (1 << d.index()) != 0)
                        .map(|d| day_name(d).to_owned())
                        .collect(),
                    start: w.start(),
                    end: w.end(),
                })
                .collect()
        }),
        device_key: claims.device_key.as_ref().map(|k| hex::encode(k.to_sec1())),
    }
}

fn list_json(issuer: KeyId, list: &RevocationList) -> ListJson {
    let passes = |ids: &[PassId]| ids.iter().map(ToString::to_string).collect();
    let members = |ids: &[MemberId]| ids.iter().map(ToString::to_string).collect();
    ListJson {
        issuer_key_id: issuer.to_string(),
        site: list.site.to_string(),
        version: list.version,
        base: list.base,
        issued_at: list.issued_at.0,
        expires: list.expires.0,
        revoked_passes: passes(&list.revoked_passes),
        revoked_members: members(&list.revoked_members),
        restored_passes: passes(&list.restored_passes),
        restored_members: members(&list.restored_members),
    }
}

fn command_json(command: &Command) -> CommandJson {
    CommandJson {
        site: command.site.to_string(),
        gateway: command.gateway.to_string(),
        id: command.id.to_string(),
        issued_at: command.issued_at.0,
        expires: command.expires.0,
        seq: command.seq,
        action: match &command.action {
            Action::Unlock { door, seconds } => ActionJson::Unlock {
                door: door.to_string(),
                seconds: *seconds,
            },
            Action::Lockdown { door, on } => ActionJson::Lockdown {
                door: door.as_ref().map(ToString::to_string),
                on: *on,
            },
            Action::TimeBeacon { time } => ActionJson::TimeBeacon { time: time.0 },
            Action::Revocation { list } => ActionJson::Revocation {
                list: hex::encode(list),
            },
            Action::SetClockFloor { floor } => ActionJson::SetClockFloor { floor: floor.0 },
        },
    }
}

fn body_json(body: &EventBody) -> BodyJson {
    let d = |door: &DoorId| door.to_string();
    match body {
        EventBody::EntryGranted {
            door,
            pass_id,
            member,
            kind,
            device_bound,
        } => BodyJson::EntryGranted {
            door: d(door),
            pass_id: pass_id.to_string(),
            member: member.to_string(),
            kind: kind.name().to_owned(),
            device_bound: *device_bound,
        },
        EventBody::EntryDenied {
            door,
            reason,
            pass_id,
            member,
        } => BodyJson::EntryDenied {
            door: d(door),
            reason: reason.code().to_owned(),
            pass_id: pass_id.as_ref().map(ToString::to_string),
            member: member.as_ref().map(ToString::to_string),
        },
        EventBody::DoorOpened { door } => BodyJson::DoorOpened { door: d(door) },
        EventBody::DoorClosed { door } => BodyJson::DoorClosed { door: d(door) },
        EventBody::HeldOpen { door, raised } => BodyJson::HeldOpen {
            door: d(door),
            raised: *raised,
        },
        EventBody::ForcedOpen { door, raised } => BodyJson::ForcedOpen {
            door: d(door),
            raised: *raised,
        },
        EventBody::ExitButton { door } => BodyJson::ExitButton { door: d(door) },
        EventBody::Lockdown { door, on } => BodyJson::Lockdown {
            door: door.as_ref().map(d),
            on: *on,
        },
        EventBody::CommandResult {
            command,
            seq,
            outcome,
        } => BodyJson::CommandResult {
            command: command.to_string(),
            seq: *seq,
            outcome: match outcome {
                CommandOutcome::Done => "done".to_owned(),
                CommandOutcome::Refused(r) => r.code().to_owned(),
            },
        },
        EventBody::GatewayStarted { version } => BodyJson::GatewayStarted {
            version: version.clone(),
        },
        EventBody::ClockChanged { quality, floor } => BodyJson::ClockChanged {
            quality: quality.name().to_owned(),
            floor: floor.0,
        },
        EventBody::RevocationApplied { version } => {
            BodyJson::RevocationApplied { version: *version }
        }
        EventBody::RevocationRefused { version, reason } => BodyJson::RevocationRefused {
            version: *version,
            reason: reason.code().to_owned(),
        },
        EventBody::DenialsRepeated {
            door,
            reason,
            pass_id,
            member,
            count,
            first,
            last,
        } => BodyJson::DenialsRepeated {
            door: d(door),
            reason: reason.code().to_owned(),
            pass_id: pass_id.as_ref().map(ToString::to_string),
            member: member.as_ref().map(ToString::to_string),
            count: *count,
            first: first.0,
            last: last.0,
        },
        EventBody::DiskLow { raised, free_bytes } => BodyJson::DiskLow {
            raised: *raised,
            free_bytes: *free_bytes,
        },
        other => panic!("event kind {other:?} has no JSON form in the vectors yet"),
    }
}

fn event_json(event: &Event, bytes: &[u8], hash: &[u8; 32]) -> EventJson {
    EventJson {
        seq: event.seq,
        time: event.time.0,
        clock: event.clock.name().to_owned(),
        prev_hash: hex::encode(event.prev_hash),
        body: body_json(&event.body),
        bytes: hex::encode(bytes),
        hash: hex::encode(hash),
    }
}

fn head_json(head: &ChainHead) -> HeadJson {
    HeadJson {
        seq: head.seq,
        hash: hex::encode(head.hash),
    }
}

// ---------------------------------------------------------------------------------------------
// The checks: each case from its JSON alone, through the public API.
// ---------------------------------------------------------------------------------------------

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn file_path(file: &str) -> PathBuf {
    vectors_dir().join(format!("{file}.json"))
}

/// Rewrites the files once per test run, if asked to, before any test reads them.
fn regenerate_if_asked() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if std::env::var(REGENERATE_VAR).as_deref() != Ok("1") {
            return;
        }
        std::fs::create_dir_all(vectors_dir()).expect("creating tests/vectors");
        for (file, text) in generate_all() {
            std::fs::write(file_path(file), text)
                .unwrap_or_else(|e| panic!("writing {file}.json: {e}"));
        }
    });
}

/// The checked-in text of a vector file.
fn checked_in(file: &str) -> String {
    regenerate_if_asked();
    std::fs::read_to_string(file_path(file)).unwrap_or_else(|e| {
        panic!("reading tests/vectors/{file}.json ({e}); run with {REGENERATE_VAR}=1 to create it")
    })
}

/// A vector file's cases, after checking that names are unique and outcomes are known codes.
fn load<C: serde::de::DeserializeOwned>(file: &str) -> Vec<C> {
    let text = checked_in(file);
    let common: VectorFile<AnyCase> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{file}.json is not a vector file: {e}"));
    let mut names = BTreeSet::new();
    for case in &common.cases {
        assert!(
            names.insert(case.name.as_str()),
            "{file}.json: case name {} is used twice",
            case.name
        );
        assert!(
            case.expected == VALID || Rejection::from_code(&case.expected).is_some(),
            "{file}.json: case {} expects {:?}, which is neither `valid` nor a rejection code",
            case.name,
            case.expected
        );
    }
    let typed: VectorFile<C> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{file}.json does not have its cases' shape: {e}"));
    typed.cases
}

fn unhex(text: &str, what: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("{what} is not hex: {e}"))
}

fn id16(text: &str, what: &str) -> [u8; 16] {
    unhex(text, what)
        .try_into()
        .unwrap_or_else(|_| panic!("{what} is not 16 bytes"))
}

/// Loads trust anchors as a gateway's config does: a weak key refuses the whole set.
fn trusted_keys(keys: &[String]) -> Result<TrustedKeys, String> {
    keys.iter()
        .map(|k| match PublicKey::from_hex(k) {
            Ok(key) => Ok(key),
            Err(KeyError::Weak) => Err(Rejection::WeakKey.code().to_owned()),
            Err(e) => panic!("trusted key {k} {e}"),
        })
        .collect()
}

fn code(rejection: Rejection) -> String {
    rejection.code().to_owned()
}

/// Compares an outcome with a case's expected one; for a valid case `check` compares what
/// decoded. Returns what was wrong.
fn verdict<T>(
    case: &str,
    expected: &str,
    outcome: Result<T, String>,
    check: impl FnOnce(T) -> Result<(), String>,
) -> Result<(), String> {
    match (expected, outcome) {
        (VALID, Ok(value)) => check(value).map_err(|e| format!("{case}: {e}")),
        (VALID, Err(got)) => Err(format!("{case}: expected valid, got {got}")),
        (want, Ok(_)) => Err(format!("{case}: expected {want}, got valid")),
        (want, Err(got)) if want == got => Ok(()),
        (want, Err(got)) => Err(format!("{case}: expected {want}, got {got}")),
    }
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: Option<T>) -> Result<(), String> {
    match want {
        None => Err(format!("a valid case must say what {what} it decodes to")),
        Some(want) if want == got => Ok(()),
        Some(want) => Err(format!("{what} decoded to {got:#?}, expected {want:#?}")),
    }
}

/// Fails with every case that went wrong, not only the first.
fn assert_all_pass(file: &str, results: impl IntoIterator<Item = Result<(), String>>) {
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{} case(s) of {file}.json failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The highest accepted proof counter, the same for any pass: each case presents one pass.
struct LastCounter(Option<u64>);

impl ProofCounters for LastCounter {
    fn last_counter(&self, _: &PassId) -> Option<u64> {
        self.0
    }
}

fn run_pass_case(case: &PassCase) -> Result<(), String> {
    if let Some(expected) = &case.qr_bytes {
        let body = case
            .qr_text
            .strip_prefix(PRESENTATION_PREFIX)
            .or_else(|| case.qr_text.strip_prefix(PASS_PREFIX))
            .ok_or_else(|| format!("{}: qr_bytes given for text without a prefix", case.name))?;
        let decoded = base45_decode(body).map_err(|e| format!("{}: qr_bytes: {e}", case.name))?;
        if hex::encode(decoded) != *expected {
            return Err(format!(
                "{}: the QR text does not decode to qr_bytes",
                case.name
            ));
        }
    }
    let outcome = (|| {
        let keys = trusted_keys(&case.issuer_public_keys)?;
        let site = SiteId::new(&case.site).expect("site is a valid id");
        let mut revocations = RevocationState::default();
        if let Some(list) = &case.revocation_list {
            let (_, list) = verify_revocation_list(&unhex(list, "revocation_list"), &keys, &site)
                .unwrap_or_else(|e| panic!("{}: its revocation list: {e}", case.name));
            revocations
                .apply(&list)
                .unwrap_or_else(|e| panic!("{}: applying its revocation list: {e}", case.name));
        }
        let presentation = decode_qr(&case.qr_text).map_err(|e| code(Rejection::from(&e)))?;
        let door = DoorId::new(&case.door).expect("door is a valid id");
        let local = WeekTime {
            day: day_from_name(&case.local_time.day)
                .unwrap_or_else(|| panic!("{}: unknown day", case.name)),
            minute: case.local_time.minute,
        };
        let at = AccessContext {
            site: &site,
            door: &door,
            now: UnixTime(case.now),
            local,
        };
        verify_presentation(
            &presentation,
            &keys,
            &revocations,
            &LastCounter(case.last_counter),
            &at,
            case.max_skew_seconds,
        )
        .map_err(|r| code(r.rejection()))
    })();
    verdict(&case.name, &case.expected, outcome, |verified| {
        let pass = &verified.pass;
        same(
            "claims",
            claims_json(pass.issuer, &pass.claims),
            case.claims.clone(),
        )?;
        let proof_use = verified.proof.map(|p| ProofUseJson {
            pass_id: p.pass_id.to_string(),
            time_step: p.time_step,
            counter: p.counter,
        });
        if proof_use != case.proof_use {
            return Err(format!(
                "proof use {proof_use:?}, expected {:?}",
                case.proof_use
            ));
        }
        Ok(())
    })
}

fn run_revocation_case(case: &RevocationCase) -> Result<(), String> {
    let outcome = (|| {
        let keys = trusted_keys(&case.issuer_public_keys)?;
        let site = SiteId::new(&case.site).expect("site is a valid id");
        let mut state = RevocationState::default();
        for (i, earlier) in case.applied_first.iter().enumerate() {
            let (_, list) = verify_revocation_list(&unhex(earlier, "applied_first"), &keys, &site)
                .unwrap_or_else(|e| panic!("{}: applied_first[{i}]: {e}", case.name));
            state
                .apply(&list)
                .unwrap_or_else(|e| panic!("{}: applying applied_first[{i}]: {e}", case.name));
        }
        let (issuer, list) = verify_revocation_list(&unhex(&case.list, "list"), &keys, &site)
            .map_err(|r| code(r.rejection()))?;
        state.apply(&list).map_err(code)?;
        Ok((issuer, list, state))
    })();
    verdict(
        &case.name,
        &case.expected,
        outcome,
        |(issuer, list, state)| {
            same("list", list_json(issuer, &list), case.decoded.clone())?;
            let state = StateJson {
                version: state.version.expect("a list was applied"),
                revoked_passes: state.passes.iter().map(ToString::to_string).collect(),
                revoked_members: state.members.iter().map(ToString::to_string).collect(),
            };
            same("state", state, case.state_after.clone())
        },
    )
}

/// What a gateway remembers of accepted commands, from a case's JSON.
struct History {
    last_seq: Option<u64>,
    seen: Vec<CommandId>,
}

impl CommandHistory for History {
    fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }
    fn seen(&self, id: &CommandId) -> bool {
        self.seen.contains(id)
    }
}

fn run_command_case(case: &CommandCase) -> Result<(), String> {
    let outcome = (|| {
        let keys = trusted_keys(&case.issuer_public_keys)?;
        let history = History {
            last_seq: case.last_seq,
            seen: case
                .seen_command_ids
                .iter()
                .map(|id| CommandId(id16(id, "seen_command_ids")))
                .collect(),
        };
        verify_command(
            &unhex(&case.command, "command"),
            &keys,
            &SiteId::new(&case.site).expect("site is a valid id"),
            &GatewayId::new(&case.gateway).expect("gateway is a valid id"),
            UnixTime(case.now),
            &history,
            CommandLimits {
                max_clock_skew_seconds: case.max_clock_skew_seconds,
            },
        )
        .map_err(|r| code(r.rejection()))
    })();
    verdict(&case.name, &case.expected, outcome, |command| {
        same("command", command_json(&command), case.decoded.clone())
    })
}

fn run_event_case(case: &EventCase) -> Result<(), String> {
    let outcome = (|| {
        let key = match PublicKey::from_hex(&case.gateway_public_key) {
            Ok(key) => key,
            Err(KeyError::Weak) => return Err(code(Rejection::WeakKey)),
            Err(e) => panic!("{}: gateway key {e}", case.name),
        };
        let site = SiteId::new(&case.site).expect("site is a valid id");
        let gateway = GatewayId::new(&case.gateway).expect("gateway is a valid id");
        let batch = verify_batch(&unhex(&case.batch, "batch"), &key, &site, &gateway)
            .map_err(|r| code(r.rejection()))?;
        // The dashboard's own check: the batch continues what it stored.
        let mut head = ChainHead {
            seq: case.stored_head.seq,
            hash: unhex(&case.stored_head.hash, "stored_head.hash")
                .try_into()
                .expect("stored_head.hash is 32 bytes"),
        };
        for verified in &batch.events {
            head = head
                .follow(&verified.event, &verified.bytes)
                .map_err(code)?;
        }
        Ok((batch, head))
    })();
    verdict(&case.name, &case.expected, outcome, |(batch, head)| {
        let events: Vec<EventJson> = batch
            .events
            .iter()
            .map(|v| event_json(&v.event, &v.bytes, &v.hash))
            .collect();
        same("events", events, case.events.clone())?;
        same("head", head_json(&head), case.head_after.clone())
    })
}

fn run_ack_case(case: &AckCase) -> Result<(), String> {
    let outcome = (|| {
        let keys = trusted_keys(&case.issuer_public_keys)?;
        verify_ack(
            &unhex(&case.ack, "ack"),
            &keys,
            &SiteId::new(&case.site).expect("site is a valid id"),
            &GatewayId::new(&case.gateway).expect("gateway is a valid id"),
        )
        .map_err(|r| code(r.rejection()))
    })();
    verdict(&case.name, &case.expected, outcome, |ack| {
        let decoded = AckJson {
            site: ack.site.to_string(),
            gateway: ack.gateway.to_string(),
            up_to: ack.up_to,
            hash: hex::encode(ack.hash),
            issued_at: ack.issued_at.0,
        };
        same("ack", decoded, case.decoded.clone())
    })
}

fn run_status_case(case: &StatusCase) -> Result<(), String> {
    let outcome = GatewayStatus::decode(case.status.as_bytes()).map_err(|e| code((&e).into()));
    verdict(&case.name, &case.expected, outcome, |status| {
        same("status", status, case.decoded.clone())
    })
}

#[test]
fn every_pass_vector_gives_its_expected_outcome() {
    let cases: Vec<PassCase> = load("passes");
    assert_all_pass("passes", cases.iter().map(run_pass_case));
}

#[test]
fn every_revocation_vector_gives_its_expected_outcome() {
    let cases: Vec<RevocationCase> = load("revocations");
    assert_all_pass("revocations", cases.iter().map(run_revocation_case));
}

#[test]
fn every_command_vector_gives_its_expected_outcome() {
    let cases: Vec<CommandCase> = load("commands");
    assert_all_pass("commands", cases.iter().map(run_command_case));
}

#[test]
fn every_event_vector_gives_its_expected_outcome() {
    let cases: Vec<EventCase> = load("events");
    assert_all_pass("events", cases.iter().map(run_event_case));
}

#[test]
fn every_ack_vector_gives_its_expected_outcome() {
    let cases: Vec<AckCase> = load("acks");
    assert_all_pass("acks", cases.iter().map(run_ack_case));
}

#[test]
fn every_status_vector_gives_its_expected_outcome() {
    let cases: Vec<StatusCase> = load("statuses");
    assert_all_pass("statuses", cases.iter().map(run_status_case));
}

#[test]
fn the_vectors_cover_every_required_rejection() {
    let mut missing = Vec::new();
    for (file, required) in REQUIRED {
        let covered: BTreeSet<String> = load::<AnyCase>(file)
            .into_iter()
            .map(|c| c.expected)
            .collect();
        missing.extend(
            required
                .iter()
                .filter(|code| !covered.contains(**code))
                .map(|code| format!("{file}.json has no `{code}` case")),
        );
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn regenerating_the_vectors_reproduces_the_checked_in_files_byte_for_byte() {
    let generated = generate_all();
    let mut drifted = Vec::new();
    for (file, text) in &generated {
        let on_disk = checked_in(file);
        if on_disk != *text {
            let line = on_disk
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| on_disk.lines().count().min(text.lines().count()));
            drifted.push(format!("{file}.json differs from line {}", line + 1));
        }
    }
    assert!(
        drifted.is_empty(),
        "the checked-in vectors are not what the code generates; if the change is intended, \
         run `{REGENERATE_VAR}=1 cargo test -p bygd-protocol --test vectors` and review the \
         diff:\n{}",
        drifted.join("\n")
    );
    let expected: BTreeSet<String> = generated.iter().map(|(f, _)| format!("{f}.json")).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(vectors_dir())
        .expect("listing tests/vectors")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(
        on_disk, expected,
        "tests/vectors holds JSON files the generator does not write"
    );
}

// ---------------------------------------------------------------------------------------------
// The generator: realistic data from fixed seeds, so every run writes the same bytes.
// ---------------------------------------------------------------------------------------------

/// Every file's name and text.
fn generate_all() -> Vec<(&'static str, String)> {
    let texts = [
        to_json(&pass_vectors()),
        to_json(&revocation_vectors()),
        to_json(&command_vectors()),
        to_json(&event_vectors()),
        to_json(&ack_vectors()),
        to_json(&status_vectors()),
    ];
    FILES.into_iter().zip(texts).collect()
}

fn to_json<T: Serialize>(file: &T) -> String {
    let mut text = serde_json::to_string_pretty(file).expect("vectors serialise to JSON");
    text.push('\n');
    text
}

/// Sweden in November: Central European Time, UTC+1. Every site in the vectors is Swedish.
const SITE_UTC_OFFSET_SECONDS: i32 = 3600;
const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;
/// Monday 2026-11-02 00:00 CET: the first day of the member passes' 30 days.
const NOV_2: u64 = 1_793_574_000;
/// Wednesday 2026-12-02 00:00 CET: when the 30-day passes expire.
const DEC_2: u64 = NOV_2 + 30 * DAY;
/// Monday 2026-11-16 08:00 CET: when most cases are decided.
const MONDAY_MORNING: u64 = NOV_2 + 14 * DAY + 8 * HOUR;
/// How far a phone's clock may be from the gateway's for a device proof.
const MAX_SKEW: u64 = 60;
/// 2099-01-01 00:00 UTC: where a spoofed time server pushed a gateway's clock floor.
const FAR_FUTURE: u64 = 4_070_908_800;

/// The issuer key every gateway in the vectors pins.
fn issuer() -> SecretKey {
    SecretKey::from_seed(&[0x11; 32])
}

/// The issuer key a rotation moves to.
fn next_issuer() -> SecretKey {
    SecretKey::from_seed(&[0x22; 32])
}

/// Another network's issuer: not trusted anywhere here.
fn foreign_issuer() -> SecretKey {
    SecretKey::from_seed(&[0x33; 32])
}

/// The gateway `gw1` at `byn`.
fn gateway_key() -> SecretKey {
    SecretKey::from_seed(&[0x55; 32])
}

/// Some other gateway.
fn other_gateway_key() -> SecretKey {
    SecretKey::from_seed(&[0x66; 32])
}

/// Britt's phone.
fn phone() -> DeviceSecretKey {
    DeviceSecretKey::from_bytes(&[0x44; 32]).expect("0x44.. is a P-256 scalar")
}

/// A phone that is not Britt's.
fn other_phone() -> DeviceSecretKey {
    DeviceSecretKey::from_bytes(&[0x45; 32]).expect("0x45.. is a P-256 scalar")
}

/// The identity point: a small-order Ed25519 key under which anything verifies.
const IDENTITY_POINT: &str = "0100000000000000000000000000000000000000000000000000000000000000";
/// The point (0, -1), of order two: another small-order key.
const ORDER_TWO_POINT: &str = "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

/// Ed25519's group order L, little-endian (RFC 8032).
const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn site(id: &str) -> SiteId {
    SiteId::new(id).expect("a valid site id")
}

fn door(id: &str) -> DoorId {
    DoorId::new(id).expect("a valid door id")
}

fn member(id: &str) -> MemberId {
    MemberId::new(id).expect("a valid member id")
}

fn gateway(id: &str) -> GatewayId {
    GatewayId::new(id).expect("a valid gateway id")
}

fn pass_id(text: &str) -> PassId {
    PassId::from_hex(text).expect("32 hex digits")
}

fn command_id(text: &str) -> CommandId {
    CommandId(id16(text, "command id"))
}

fn keys_hex(keys: &[&SecretKey]) -> Vec<String> {
    keys.iter().map(|k| k.public_key().to_hex()).collect()
}

fn local_time(now: u64) -> WeekTime {
    WeekTime::from_unix_with_offset(UnixTime(now), SITE_UTC_OFFSET_SECONDS)
}

/// Flips the lowest bit of a COSE_Sign1's signature's first byte (the signature is the last
/// 64 bytes), so the signature no longer verifies.
fn flip_signature_bit(mut signed: Vec<u8>) -> Vec<u8> {
    let at = signed.len() - 64;
    signed[at] ^= 0x01;
    signed
}

/// Adds L to the signature's S half (the last 32 bytes, little-endian): the same signature
/// in a malleated, non-canonical form. S < L < 2^253, so the sum still fits 32 bytes.
fn add_group_order(mut signed: Vec<u8>) -> Vec<u8> {
    let start = signed.len() - 32;
    let mut carry = 0u16;
    for (byte, l) in signed[start..].iter_mut().zip(ED25519_ORDER) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits 32 bytes");
    signed
}

fn with_trailing_byte(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(0x00);
    bytes
}

fn without_last_byte(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.pop();
    bytes
}

/// A COSE_Sign1 in the bygd profile but with any algorithm and key id in its protected
/// header, signed by `signer`: what the crate's own signing never produces.
fn forged_cose_sign1(
    alg: coset::iana::Algorithm,
    key_id: KeyId,
    context: &[u8],
    payload: Vec<u8>,
    signer: &[u8; 32],
) -> Vec<u8> {
    use coset::CborSerializable as _;
    use ed25519_dalek::Signer as _;
    let signer = ed25519_dalek::SigningKey::from_bytes(signer);
    let protected = coset::HeaderBuilder::new()
        .algorithm(alg)
        .key_id(key_id.0.to_vec())
        .build();
    coset::CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(context, |tbs| signer.sign(tbs).to_bytes().to_vec())
        .build()
        .to_vec()
        .expect("a COSE_Sign1 encodes")
}

/// A signed revocation list re-signed by the vectors' issuer with the payload's first
/// element (the site) removed: the shape lists had before they named their site.
fn signed_without_site(list: &[u8]) -> Vec<u8> {
    use coset::cbor::value::Value;
    let payload: Value =
        coset::cbor::de::from_reader(cose_payload(list).as_slice()).expect("a CBOR payload");
    let Value::Array(mut items) = payload else {
        panic!("a revocation payload is an array")
    };
    items.remove(0);
    let mut old = Vec::new();
    coset::cbor::ser::into_writer(&Value::Array(items), &mut old).expect("CBOR encodes");
    forged_cose_sign1(
        coset::iana::Algorithm::EdDSA,
        issuer().id(),
        b"bygd/v1/revocation",
        old,
        &[0x11; 32],
    )
}

/// The payload of a COSE_Sign1.
fn cose_payload(signed: &[u8]) -> Vec<u8> {
    use coset::CborSerializable as _;
    coset::CoseSign1::from_slice(signed)
        .expect("a COSE_Sign1")
        .payload
        .expect("an attached payload")
}

fn pass_text(pass: &[u8]) -> String {
    encode_qr(&Presentation {
        pass: pass.to_vec(),
        proof: None,
    })
}

/// A device-bound presentation: `phone` proves `claims`' pass id at this step and counter.
fn proved_text(
    pass: &[u8],
    claims: &PassClaims,
    phone: &DeviceSecretKey,
    step: u64,
    n: u64,
) -> String {
    encode_qr(&Presentation {
        pass: pass.to_vec(),
        proof: Some(phone.prove(&claims.pass_id, step, n)),
    })
}

fn step(now: u64) -> u64 {
    now / TIME_STEP_SECONDS
}

// --- Passes -----------------------------------------------------------------------------------

/// Monday to Friday, 07:00 to 22:00 local time.
fn weekday_daytime() -> Schedule {
    use Weekday::*;
    let window = TimeWindow::new(
        &[Monday, Tuesday, Wednesday, Thursday, Friday],
        7 * 60,
        22 * 60,
    )
    .expect("a valid window");
    Schedule::new(vec![window]).expect("a valid schedule")
}

/// Anna's 30-day member pass: two doors at `byn`, weekdays 07:00 to 22:00.
fn anna() -> PassClaims {
    PassClaims {
        member: member("anna-lindqvist"),
        pass_id: pass_id("5b0e8f3c9a2d47e1b6c4a7f09e3d2c18"),
        not_before: UnixTime(NOV_2),
        expires: UnixTime(DEC_2),
        kind: PassKind::Member,
        scope: vec![SiteScope {
            site: site("byn"),
            doors: vec![door("front"), door("workshop")],
        }],
        schedule: Some(weekday_daytime()),
        device_key: None,
    }
}

/// Olof's pass, like Anna's; Olof is on the revocation list as a member.
fn olof() -> PassClaims {
    PassClaims {
        member: member("olof-svensson"),
        pass_id: pass_id("c2d7a91e04b85f63e9a1d0c47b2f8e35"),
        ..anna()
    }
}

/// Britt's device-bound pass: opens only with a fresh proof from her phone.
fn britt() -> PassClaims {
    PassClaims {
        member: member("britt-nilsson"),
        pass_id: pass_id("7e4a1c9f2b3d8e06a5f1c7b9d2e40863"),
        schedule: None,
        device_key: Some(phone().public_key()),
        ..anna()
    }
}

/// Erik cleans and maintains the space: every door at `byn`, any time, for 90 days from
/// Monday 2026-11-09 00:00 CET.
fn erik() -> PassClaims {
    PassClaims {
        member: member("erik-holm"),
        pass_id: pass_id("19f3e7b2c8a04d6591e2b7c3f0a8d4e6"),
        not_before: UnixTime(NOV_2 + 7 * DAY),
        expires: UnixTime(NOV_2 + 97 * DAY),
        kind: PassKind::Staff,
        scope: vec![SiteScope::all_doors(site("byn"))],
        schedule: None,
        device_key: None,
    }
}

/// Sara's network pass: the front door at `byn` and every door at `kulturhuset`.
fn sara() -> PassClaims {
    PassClaims {
        member: member("sara-berg"),
        pass_id: pass_id("e8b1d4a7c3f2069e5d7b1a4c8f3e2d90"),
        scope: vec![
            SiteScope {
                site: site("byn"),
                doors: vec![door("front")],
            },
            SiteScope::all_doors(site("kulturhuset")),
        ],
        schedule: None,
        ..anna()
    }
}

/// A guest pass a booking system asked for: the front door, Friday 2026-11-20 17:00 to
/// 21:00 CET.
fn guest() -> PassClaims {
    PassClaims {
        member: member("bokning-20261120-7f3a"),
        pass_id: pass_id("4d9c2b7e1f8a3065c9e4b1d7a2f8c3e1"),
        not_before: UnixTime(NOV_2 + 18 * DAY + 17 * HOUR),
        expires: UnixTime(NOV_2 + 18 * DAY + 21 * HOUR),
        kind: PassKind::Guest,
        scope: vec![SiteScope {
            site: site("byn"),
            doors: vec![door("front")],
        }],
        schedule: None,
        device_key: None,
    }
}

/// The fire brigade's break-glass pass: every door at both sites, for a year.
fn fire_brigade() -> PassClaims {
    PassClaims {
        member: member("raddningstjansten-jamtland"),
        pass_id: pass_id("a0f7c3e9d1b5284e6c3a9f0b7d2e5c14"),
        not_before: UnixTime(NOV_2),
        expires: UnixTime(NOV_2 + 365 * DAY),
        kind: PassKind::BreakGlass,
        scope: vec![
            SiteScope::all_doors(site("byn")),
            SiteScope::all_doors(site("kulturhuset")),
        ],
        schedule: None,
        device_key: None,
    }
}

/// Johan's pass, issued after the rotation to the next issuer key.
fn johan() -> PassClaims {
    PassClaims {
        member: member("johan-ek"),
        pass_id: pass_id("63b8e1d5a9c2f70e4b8d1c6a3f9e2b57"),
        ..anna()
    }
}

/// A pass from another network, whose issuer no gateway here trusts.
fn foreigner() -> PassClaims {
    PassClaims {
        member: member("mats-persson"),
        pass_id: pass_id("f2a9d6c1e7b3048a5e9c2d8b1f6a3e70"),
        ..anna()
    }
}

/// A pass reported lost earlier: on every revocation list.
const LOST_PASS: &str = "0d6e9b3a5c8f12e7d4a0b9c6e3f81a2d";

/// Revocation list 12 (Sunday 06:00), the one the gateway holds in the revocation cases of
/// `passes.json`: Anna's pass (her phone was stolen), a lost pass, and Olof as a member.
fn list_v12() -> RevocationList {
    RevocationList {
        version: 12,
        base: None,
        issued_at: UnixTime(NOV_2 + 13 * DAY + 6 * HOUR),
        expires: UnixTime(NOV_2 + 20 * DAY + 6 * HOUR),
        revoked_passes: vec![anna().pass_id, pass_id(LOST_PASS)],
        revoked_members: vec![member("olof-svensson")],
        ..RevocationList::empty(site("byn"))
    }
}

impl PassCase {
    /// A case at `byn`'s front door with the issuer key trusted; outcome set by the caller.
    fn new(name: &str, description: &str, qr_text: String, now: u64) -> Self {
        let body = qr_text
            .strip_prefix(PRESENTATION_PREFIX)
            .or_else(|| qr_text.strip_prefix(PASS_PREFIX));
        let qr_bytes = body
            .filter(|_| qr_text.len() <= MAX_QR_TEXT_LEN)
            .and_then(|b| base45_decode(b).ok())
            .map(hex::encode);
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            issuer_public_keys: keys_hex(&[&issuer()]),
            revocation_list: None,
            last_counter: None,
            qr_text,
            qr_bytes,
            now,
            local_time: local_time_json(local_time(now)),
            site: "byn".to_owned(),
            door: "front".to_owned(),
            max_skew_seconds: MAX_SKEW,
            expected: String::new(),
            claims: None,
            proof_use: None,
        }
    }

    fn at(mut self, site: &str, door: &str) -> Self {
        self.site = site.to_owned();
        self.door = door.to_owned();
        self
    }

    fn trusting(mut self, keys: Vec<String>) -> Self {
        self.issuer_public_keys = keys;
        self
    }

    fn holding(mut self, list: &RevocationList) -> Self {
        self.revocation_list = Some(hex::encode(list.sign(&issuer())));
        self
    }

    fn after_counter(mut self, counter: u64) -> Self {
        self.last_counter = Some(counter);
        self
    }

    fn valid(mut self, issuer: &SecretKey, claims: &PassClaims) -> Self {
        self.expected = VALID.to_owned();
        self.claims = Some(claims_json(issuer.id(), claims));
        self
    }

    fn proved(mut self, claims: &PassClaims, time_step: u64, counter: u64) -> Self {
        self.proof_use = Some(ProofUseJson {
            pass_id: claims.pass_id.to_string(),
            time_step,
            counter,
        });
        self
    }

    fn refused(mut self, rejection: Rejection) -> Self {
        self.expected = code(rejection);
        self
    }
}

fn pass_vectors() -> VectorFile<PassCase> {
    // The calendar the constants' comments describe.
    assert_eq!(
        local_time(NOV_2),
        WeekTime {
            day: Weekday::Monday,
            minute: 0
        }
    );
    assert_eq!(local_time(MONDAY_MORNING).minute, 8 * 60);

    let key = issuer();
    let anna = anna();
    let anna_pass = anna.issue(&key);
    let anna_text = pass_text(&anna_pass);
    let erik = erik();
    let erik_pass = erik.issue(&key);
    let britt = britt();
    let britt_pass = britt.issue(&key);
    let now = MONDAY_MORNING;
    let saturday_morning = NOV_2 + 19 * DAY + 10 * HOUR;
    let proof_now = now + 10;
    let fresh = step(proof_now);

    let cases =
        vec![
        // --- Accepted.
        PassCase::new(
            "member_pass_on_a_weekday_morning",
            "Anna's 30-day member pass (doors front and workshop, Monday to Friday 07:00-22:00) \
             at the front door on Monday 08:00.",
            anna_text.clone(),
            now,
        )
        .valid(&key, &anna),
        PassCase::new(
            "member_pass_at_its_second_door",
            "The same pass at the workshop door.",
            anna_text.clone(),
            now + 3 * HOUR,
        )
        .at("byn", "workshop")
        .valid(&key, &anna),
        PassCase::new(
            "member_pass_at_the_first_minute_of_its_schedule",
            "Window starts are inclusive: Tuesday 07:00:00.",
            anna_text.clone(),
            NOV_2 + 15 * DAY + 7 * HOUR,
        )
        .valid(&key, &anna),
        PassCase::new(
            "member_pass_in_the_last_minute_of_its_schedule",
            "Window ends are exclusive, so 21:59:59 is inside.",
            anna_text.clone(),
            NOV_2 + 15 * DAY + 22 * HOUR - 1,
        )
        .valid(&key, &anna),
        PassCase::new(
            "staff_pass_without_a_schedule_on_a_sunday_night",
            "Erik's staff pass (every door at byn, no schedule) on Sunday at 23:30.",
            pass_text(&erik_pass),
            NOV_2 + 20 * DAY + 23 * HOUR + 30 * MINUTE,
        )
        .at("byn", "workshop")
        .valid(&key, &erik),
        PassCase::new(
            "staff_pass_at_exactly_its_not_before_time",
            "Not-before is inclusive.",
            pass_text(&erik_pass),
            erik.not_before.0,
        )
        .valid(&key, &erik),
        PassCase::new(
            "staff_pass_one_second_before_it_expires",
            "The last second of the validity window.",
            pass_text(&erik_pass),
            erik.expires.0 - 1,
        )
        .valid(&key, &erik),
        PassCase::new(
            "network_pass_at_its_second_site",
            "Sara's pass names the front door at byn and every door at kulturhuset; here at \
             kulturhuset's main hall.",
            pass_text(&sara().issue(&key)),
            now,
        )
        .at("kulturhuset", "stora-salen")
        .valid(&key, &sara()),
        PassCase::new(
            "guest_pass_during_its_booking",
            "A guest pass a booking system asked for, Friday 17:00-21:00, at 18:30.",
            pass_text(&guest().issue(&key)),
            guest().not_before.0 + 90 * MINUTE,
        )
        .valid(&key, &guest()),
        PassCase::new(
            "break_glass_pass_at_night",
            "The fire brigade's break-glass pass at kulturhuset on Saturday 03:12.",
            pass_text(&fire_brigade().issue(&key)),
            NOV_2 + 19 * DAY + 3 * HOUR + 12 * MINUTE,
        )
        .at("kulturhuset", "scen")
        .valid(&key, &fire_brigade()),
        PassCase::new(
            "pass_signed_by_the_next_issuer_key_during_a_rotation",
            "The gateway trusts the current and the next issuer key; the pass names the \
             next key's id.",
            pass_text(&johan().issue(&next_issuer())),
            now,
        )
        .trusting(keys_hex(&[&key, &next_issuer()]))
        .valid(&next_issuer(), &johan()),
        PassCase::new(
            "pass_not_on_the_revocation_list",
            "The gateway holds revocation list 12; Erik's pass is not on it.",
            pass_text(&erik_pass),
            now,
        )
        .holding(&list_v12())
        .valid(&key, &erik),
        PassCase::new(
            "device_bound_pass_with_a_fresh_proof",
            "Britt's pass names her phone's P-256 key; the phone signs the current 30-second \
             step with counter 7, and the gateway last accepted counter 6.",
            proved_text(&britt_pass, &britt, &phone(), fresh, 7),
            proof_now,
        )
        .after_counter(6)
        .valid(&key, &britt)
        .proved(&britt, fresh, 7),
        PassCase::new(
            "device_bound_pass_with_its_first_proof",
            "No proof for this pass was accepted before.",
            proved_text(&britt_pass, &britt, &phone(), fresh, 1),
            proof_now,
        )
        .valid(&key, &britt)
        .proved(&britt, fresh, 1),
        PassCase::new(
            "proof_from_a_phone_clock_45_seconds_behind",
            "The proof's step is floor((now - 45) / 30), inside the 60-second skew.",
            proved_text(&britt_pass, &britt, &phone(), step(proof_now - 45), 8),
            proof_now,
        )
        .after_counter(7)
        .valid(&key, &britt)
        .proved(&britt, step(proof_now - 45), 8),
        // --- Signature and keys.
        PassCase::new(
            "signature_with_a_flipped_bit",
            "Anna's pass with the lowest bit of the signature's first byte flipped.",
            pass_text(&flip_signature_bit(anna_pass.clone())),
            now,
        )
        .refused(Rejection::BadSignature),
        PassCase::new(
            "pass_signed_by_an_untrusted_issuer",
            "Another network's issuer signed this pass; its key id is not among the trusted \
             keys (the issue's \"wrong key\").",
            pass_text(&foreigner().issue(&foreign_issuer())),
            now,
        )
        .refused(Rejection::UnknownKey),
        PassCase::new(
            "pass_signed_by_another_key_under_a_trusted_key_id",
            "Signed by another network's key, with the trusted issuer's key id forged in the \
             protected header.",
            pass_text(&forged_cose_sign1(
                coset::iana::Algorithm::EdDSA,
                key.id(),
                b"bygd/v1/pass",
                cose_payload(&foreigner().issue(&foreign_issuer())),
                &[0x33; 32],
            )),
            now,
        )
        .refused(Rejection::BadSignature),
        PassCase::new(
            "pass_signed_by_the_next_key_before_the_gateway_trusts_it",
            "Johan's pass is signed by the next issuer key, which this gateway does not pin yet.",
            pass_text(&johan().issue(&next_issuer())),
            now,
        )
        .refused(Rejection::UnknownKey),
        PassCase::new(
            "revocation_list_presented_as_a_pass",
            "A signature made for a revocation list (context bygd/v1/revocation) never \
             verifies as a pass (context bygd/v1/pass).",
            pass_text(&list_v12().sign(&key)),
            now,
        )
        .refused(Rejection::BadSignature),
        PassCase::new(
            "signature_scalar_plus_the_group_order",
            "Anna's pass with L added to the signature's S: the same signature malleated, \
             refused before verification.",
            pass_text(&add_group_order(anna_pass.clone())),
            now,
        )
        .refused(Rejection::NonCanonicalSignature),
        PassCase::new(
            "trust_anchor_is_the_identity_point",
            "The configured issuer key is the identity point (small order): the gateway \
             refuses to load it.",
            anna_text.clone(),
            now,
        )
        .trusting(vec![IDENTITY_POINT.to_owned()])
        .refused(Rejection::WeakKey),
        PassCase::new(
            "trust_anchors_include_a_point_of_order_two",
            "One good key and the point (0, -1): one weak key refuses the whole set.",
            anna_text.clone(),
            now,
        )
        .trusting(vec![key.public_key().to_hex(), ORDER_TWO_POINT.to_owned()])
        .refused(Rejection::WeakKey),
        // --- Time, place and schedule.
        PassCase::new(
            "member_pass_after_its_30_days",
            "Wednesday 2026-12-02 08:00, inside the schedule, after expiry.",
            anna_text.clone(),
            DEC_2 + 8 * HOUR,
        )
        .refused(Rejection::Expired),
        PassCase::new(
            "staff_pass_at_exactly_its_expiry",
            "Expiry is exclusive.",
            pass_text(&erik_pass),
            erik.expires.0,
        )
        .refused(Rejection::Expired),
        PassCase::new(
            "member_pass_before_its_30_days",
            "Friday 2026-10-30 08:00, inside the schedule, before not-before.",
            anna_text.clone(),
            NOV_2 - 3 * DAY + 8 * HOUR,
        )
        .refused(Rejection::NotYetValid),
        PassCase::new(
            "staff_pass_one_second_before_its_not_before_time",
            "The second before the validity window.",
            pass_text(&erik_pass),
            erik.not_before.0 - 1,
        )
        .refused(Rejection::NotYetValid),
        PassCase::new(
            "member_pass_at_another_site",
            "Anna's pass names only byn.",
            anna_text.clone(),
            now,
        )
        .at("kulturhuset", "front")
        .refused(Rejection::WrongSite),
        PassCase::new(
            "member_pass_at_a_door_it_does_not_name",
            "Anna's pass names front and workshop, not office.",
            anna_text.clone(),
            now,
        )
        .at("byn", "office")
        .refused(Rejection::WrongDoor),
        PassCase::new(
            "member_pass_on_a_saturday",
            "Saturday 10:00: not a weekday.",
            anna_text.clone(),
            saturday_morning,
        )
        .refused(Rejection::OutsideSchedule),
        PassCase::new(
            "member_pass_at_the_closing_minute",
            "Monday 22:00: the window's end is exclusive.",
            anna_text.clone(),
            NOV_2 + 14 * DAY + 22 * HOUR,
        )
        .refused(Rejection::OutsideSchedule),
        PassCase::new(
            "member_pass_a_minute_before_opening",
            "Monday 06:59.",
            anna_text.clone(),
            NOV_2 + 14 * DAY + 6 * HOUR + 59 * MINUTE,
        )
        .refused(Rejection::OutsideSchedule),
        // --- Revocation.
        PassCase::new(
            "revoked_pass",
            "Revocation list 12 names Anna's pass id.",
            anna_text.clone(),
            now,
        )
        .holding(&list_v12())
        .refused(Rejection::Revoked),
        PassCase::new(
            "pass_of_a_revoked_member",
            "Revocation list 12 names the member olof-svensson.",
            pass_text(&olof().issue(&key)),
            now,
        )
        .holding(&list_v12())
        .refused(Rejection::MemberRevoked),
        PassCase::new(
            "revoked_pass_after_expiry",
            "Checks run in order: validity comes before revocation.",
            anna_text.clone(),
            DEC_2 + 8 * HOUR,
        )
        .holding(&list_v12())
        .refused(Rejection::Expired),
        // --- Device proofs.
        PassCase::new(
            "device_bound_pass_without_a_proof",
            "Britt's pass as bare BYGD1: text, as a screenshot of the pass alone would carry.",
            pass_text(&britt_pass),
            proof_now,
        )
        .refused(Rejection::ProofRequired),
        PassCase::new(
            "proof_from_another_phone",
            "A proof signed by a P-256 key other than the one the pass names.",
            proved_text(&britt_pass, &britt, &other_phone(), fresh, 7),
            proof_now,
        )
        .after_counter(6)
        .refused(Rejection::BadProof),
        PassCase::new(
            "proof_made_for_another_pass",
            "Britt's phone signed a proof for Anna's pass id, attached to Britt's pass.",
            proved_text(&britt_pass, &anna, &phone(), fresh, 7),
            proof_now,
        )
        .after_counter(6)
        .refused(Rejection::BadProof),
        PassCase::new(
            "proof_on_a_pass_that_names_no_device",
            "A BYGD1D: presentation of Anna's pass, which names no device key.",
            proved_text(&anna_pass, &anna, &phone(), fresh, 1),
            proof_now,
        )
        .refused(Rejection::BadProof),
        PassCase::new(
            "proof_from_five_minutes_ago",
            "A photographed BYGD1D: code shown 5 minutes later: its step is outside the \
             60-second skew.",
            proved_text(&britt_pass, &britt, &phone(), step(proof_now - 5 * MINUTE), 7),
            proof_now,
        )
        .after_counter(6)
        .refused(Rejection::StaleProof),
        PassCase::new(
            "proof_from_a_phone_clock_five_minutes_ahead",
            "The proof's step is 5 minutes in the gateway's future.",
            proved_text(&britt_pass, &britt, &phone(), step(proof_now + 5 * MINUTE), 7),
            proof_now,
        )
        .after_counter(6)
        .refused(Rejection::StaleProof),
        PassCase::new(
            "proof_replayed_with_the_accepted_counter",
            "The gateway already accepted counter 7 for this pass: a copied proof.",
            proved_text(&britt_pass, &britt, &phone(), fresh, 7),
            proof_now,
        )
        .after_counter(7)
        .refused(Rejection::ReplayedProof),
        PassCase::new(
            "proof_with_a_counter_below_the_accepted_one",
            "Counter 5 after counter 9 was accepted.",
            proved_text(&britt_pass, &britt, &phone(), fresh, 5),
            proof_now,
        )
        .after_counter(9)
        .refused(Rejection::ReplayedProof),
        // --- Bytes and text.
        PassCase::new(
            "pass_with_a_trailing_byte",
            "Anna's pass with a 0x00 byte appended before base45.",
            pass_text(&with_trailing_byte(anna_pass.clone())),
            now,
        )
        .refused(Rejection::TrailingBytes),
        PassCase::new(
            "presentation_with_a_trailing_byte",
            "Britt's presentation array with a 0x00 byte appended before base45.",
            format!(
                "{PRESENTATION_PREFIX}{}",
                base45_encode(&with_trailing_byte(Presentation::proof_bytes(
                    &britt_pass,
                    &phone().prove(&britt.pass_id, fresh, 7)
                )))
            ),
            proof_now,
        )
        .refused(Rejection::TrailingBytes),
        PassCase::new(
            "pass_missing_its_last_byte",
            "Anna's pass with its last byte dropped before base45.",
            pass_text(&without_last_byte(anna_pass.clone())),
            now,
        )
        .refused(Rejection::Truncated),
        PassCase::new(
            "pass_cut_in_half",
            "The first half of Anna's pass's bytes.",
            pass_text(&anna_pass[..anna_pass.len() / 2]),
            now,
        )
        .refused(Rejection::Truncated),
        PassCase::new(
            "presentation_missing_its_last_byte",
            "Britt's presentation array with its last byte dropped before base45.",
            format!(
                "{PRESENTATION_PREFIX}{}",
                base45_encode(&without_last_byte(Presentation::proof_bytes(
                    &britt_pass,
                    &phone().prove(&britt.pass_id, fresh, 7)
                )))
            ),
            proof_now,
        )
        .refused(Rejection::Truncated),
        PassCase::new(
            "text_one_character_over_the_limit",
            "1537 characters, one more than MAX_QR_TEXT_LEN (1536): refused before decoding.",
            format!("{PASS_PREFIX}{}", "0".repeat(MAX_QR_TEXT_LEN + 1 - PASS_PREFIX.len())),
            now,
        )
        .refused(Rejection::TooLarge),
        PassCase::new(
            "eu_digital_covid_certificate_prefix",
            "HC1: in front of Anna's pass's base45.",
            format!("HC1:{}", &anna_text[PASS_PREFIX.len()..]),
            now,
        )
        .refused(Rejection::BadPrefix),
        PassCase::new(
            "lowercase_prefix",
            "Prefixes are case-sensitive.",
            format!("bygd1:{}", &anna_text[PASS_PREFIX.len()..]),
            now,
        )
        .refused(Rejection::BadPrefix),
        PassCase::new(
            "prefix_of_a_future_format",
            "BYGD2: is for a later format this gateway does not know.",
            format!("BYGD2:{}", &anna_text[PASS_PREFIX.len()..]),
            now,
        )
        .refused(Rejection::BadPrefix),
        PassCase::new(
            "lowercase_letter_in_the_base45",
            "The first character after the prefix lowercased: outside the base45 alphabet.",
            {
                let (prefix, body) = anna_text.split_at(PASS_PREFIX.len());
                let mut chars: Vec<char> = body.chars().collect();
                chars[0] = 'a';
                format!("{prefix}{}", chars.into_iter().collect::<String>())
            },
            now,
        )
        .refused(Rejection::BadEncoding),
        PassCase::new(
            "base45_with_one_character_left_over",
            "One extra character: base45 length mod 3 is never 1.",
            format!("{anna_text}0"),
            now,
        )
        .refused(Rejection::BadEncoding),
        PassCase::new(
            "base45_group_above_65535",
            "A last group GGW encodes 65536, which is not two bytes.",
            format!("{anna_text}GGW"),
            now,
        )
        .refused(Rejection::BadEncoding),
        PassCase::new(
            "tagged_cose_sign1",
            "Anna's pass behind CBOR tag 18 (COSE_Sign1): the profile is untagged.",
            pass_text(&[&[0xd2], anna_pass.as_slice()].concat()),
            now,
        )
        .refused(Rejection::Malformed),
        PassCase::new(
            "pass_with_another_algorithm_in_its_header",
            "Protected header alg -7 (ES256) instead of -8 (EdDSA), otherwise well signed.",
            pass_text(&forged_cose_sign1(
                coset::iana::Algorithm::ES256,
                key.id(),
                b"bygd/v1/pass",
                cose_payload(&anna_pass),
                &[0x11; 32],
            )),
            now,
        )
        .refused(Rejection::Malformed),
        PassCase::new(
            "signed_claims_with_not_before_at_expiry",
            "The issuer signed claims whose not-before equals their expiry; the claims are \
             refused even though the signature verifies.",
            pass_text(
                &PassClaims {
                    expires: UnixTime(NOV_2),
                    ..anna.clone()
                }
                .issue(&key),
            ),
            now,
        )
        .refused(Rejection::Malformed),
        PassCase::new(
            "signed_claims_naming_no_site",
            "The issuer signed claims with an empty scope.",
            pass_text(
                &PassClaims {
                    scope: Vec::new(),
                    ..anna.clone()
                }
                .issue(&key),
            ),
            now,
        )
        .refused(Rejection::Malformed),
    ];
    VectorFile {
        description: "QR texts presented at a door. Trust the issuer_public_keys (a weak key \
                      refuses the set: weak_key); apply revocation_list if given; remember \
                      last_counter as the highest device-proof counter accepted for the pass; \
                      then decode qr_text and verify it at site/door, now, local_time (the \
                      site's local week, Europe/Stockholm) with max_skew_seconds for device \
                      proofs. expected is `valid` (then claims and proof_use must match) or a \
                      rejection code."
            .to_owned(),
        cases,
    }
}

// --- Revocation lists -------------------------------------------------------------------------

fn list_v11() -> RevocationList {
    RevocationList {
        version: 11,
        base: None,
        issued_at: UnixTime(NOV_2 + 12 * DAY + 18 * HOUR),
        expires: UnixTime(NOV_2 + 19 * DAY + 18 * HOUR),
        revoked_passes: vec![pass_id(LOST_PASS)],
        revoked_members: vec![member("olof-svensson")],
        ..RevocationList::empty(site("byn"))
    }
}

/// Delta 12 → 13 (Sunday 11:55): the guest pass is revoked, the lost pass (expired by now)
/// and Olof's membership are restored. `commands.json` carries it in a command.
fn delta_v13() -> RevocationList {
    RevocationList {
        site: site("byn"),
        version: 13,
        base: Some(12),
        issued_at: UnixTime(NOV_2 + 13 * DAY + 11 * HOUR + 55 * MINUTE),
        expires: UnixTime(NOV_2 + 20 * DAY + 11 * HOUR + 55 * MINUTE),
        revoked_passes: vec![guest().pass_id],
        revoked_members: Vec::new(),
        restored_passes: vec![pass_id(LOST_PASS)],
        restored_members: vec![member("olof-svensson")],
    }
}

impl RevocationCase {
    fn new(name: &str, description: &str, applied_first: &[&[u8]], list: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            issuer_public_keys: keys_hex(&[&issuer()]),
            site: "byn".to_owned(),
            applied_first: applied_first.iter().map(hex::encode).collect(),
            list: hex::encode(list),
            expected: String::new(),
            decoded: None,
            state_after: None,
        }
    }

    fn trusting(mut self, keys: Vec<String>) -> Self {
        self.issuer_public_keys = keys;
        self
    }

    fn valid(mut self, list: &RevocationList, passes: &[PassId], members: &[&str]) -> Self {
        let mut passes: Vec<String> = passes.iter().map(ToString::to_string).collect();
        passes.sort();
        let mut members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        members.sort();
        self.expected = VALID.to_owned();
        self.decoded = Some(list_json(issuer().id(), list));
        self.state_after = Some(StateJson {
            version: list.version,
            revoked_passes: passes,
            revoked_members: members,
        });
        self
    }

    fn refused(mut self, rejection: Rejection) -> Self {
        self.expected = code(rejection);
        self
    }
}

fn revocation_vectors() -> VectorFile<RevocationCase> {
    let key = issuer();
    let v11 = list_v11().sign(&key);
    let v12 = list_v12().sign(&key);
    let v13 = delta_v13().sign(&key);
    let stale_delta = RevocationList {
        version: 14,
        base: Some(13),
        ..delta_v13()
    }
    .sign(&key);
    let empty = RevocationList {
        version: 1,
        issued_at: UnixTime(NOV_2),
        expires: UnixTime(NOV_2 + 7 * DAY),
        ..RevocationList::empty(site("byn"))
    };
    // Site `dal`'s list: the dashboard counts versions per site, but a list signed before
    // that (one counter for all sites) or by a compromised counter could be numbered above
    // byn's. Whatever its number, byn's gateways refuse it.
    let dal_v20 = RevocationList {
        site: site("dal"),
        version: 20,
        revoked_passes: vec![guest().pass_id],
        revoked_members: Vec::new(),
        ..list_v12()
    };
    let dal_delta = RevocationList {
        site: site("dal"),
        ..delta_v13()
    };
    let cases = vec![
        RevocationCase::new(
            "first_full_list_on_an_empty_state",
            "A gateway with no list yet takes full list 11.",
            &[],
            &v11,
        )
        .valid(&list_v11(), &[pass_id(LOST_PASS)], &["olof-svensson"]),
        RevocationCase::new(
            "newer_full_list_replaces_the_older",
            "Full list 12 after 11: the state is exactly list 12.",
            &[&v11],
            &v12,
        )
        .valid(
            &list_v12(),
            &[anna().pass_id, pass_id(LOST_PASS)],
            &["olof-svensson"],
        ),
        RevocationCase::new(
            "delta_on_its_base_version",
            "Delta 13 (base 12) revokes the guest pass and restores the lost pass and Olof.",
            &[&v12],
            &v13,
        )
        .valid(&delta_v13(), &[anna().pass_id, guest().pass_id], &[]),
        RevocationCase::new(
            "full_list_with_nothing_revoked",
            "Version 1 of a new site's list: empty.",
            &[],
            &empty.sign(&key),
        )
        .valid(&empty, &[], &[]),
        RevocationCase::new(
            "full_list_for_another_site",
            "Site dal's list, version 20, copied onto byn's revocation topic for a gateway at \
             byn holding 12: the site inside the signed payload is checked before the \
             version, so it neither un-revokes Anna's pass nor moves the version held.",
            &[&v12],
            &dal_v20.sign(&key),
        )
        .refused(Rejection::Misaddressed),
        RevocationCase::new(
            "full_list_for_another_site_on_an_empty_state",
            "Site dal's list to a byn gateway with no list yet.",
            &[],
            &dal_v20.sign(&key),
        )
        .refused(Rejection::Misaddressed),
        RevocationCase::new(
            "delta_for_another_site",
            "Delta 13 signed for site dal (as a command would carry it) to a byn gateway \
             holding 12: its base matches, its site does not.",
            &[&v12],
            &dal_delta.sign(&key),
        )
        .refused(Rejection::Misaddressed),
        RevocationCase::new(
            "list_for_another_site_that_is_also_older",
            "Site dal's list numbered 11 to a byn gateway holding 12: misaddressed is \
             checked before rollback.",
            &[&v12],
            &RevocationList {
                version: 11,
                ..dal_v20.clone()
            }
            .sign(&key),
        )
        .refused(Rejection::Misaddressed),
        RevocationCase::new(
            "older_full_list_is_a_rollback",
            "The broker replays list 11 to a gateway holding 12.",
            &[&v12],
            &v11,
        )
        .refused(Rejection::Rollback),
        RevocationCase::new(
            "same_version_again_is_a_rollback",
            "List 12 again to a gateway holding 12 (a retained message on reconnect): not \
             newer, so refused.",
            &[&v12],
            &v12,
        )
        .refused(Rejection::Rollback),
        RevocationCase::new(
            "delta_older_than_the_state_is_a_rollback",
            "Delta 13 again after it was applied: its version is not above the state's.",
            &[&v12, &v13],
            &v13,
        )
        .refused(Rejection::Rollback),
        RevocationCase::new(
            "delta_for_another_base_version",
            "Delta 13 names base 12; the gateway holds 11 (it missed 12).",
            &[&v11],
            &v13,
        )
        .refused(Rejection::DeltaMismatch),
        RevocationCase::new(
            "delta_on_an_empty_state",
            "A delta cannot be the first list a gateway takes.",
            &[],
            &v13,
        )
        .refused(Rejection::DeltaMismatch),
        RevocationCase::new(
            "delta_skipping_a_version",
            "Delta 14 (base 13) to a gateway holding 12.",
            &[&v12],
            &stale_delta,
        )
        .refused(Rejection::DeltaMismatch),
        RevocationCase::new(
            "list_signed_by_an_untrusted_key",
            "List 12 signed by another network's issuer.",
            &[],
            &list_v12().sign(&foreign_issuer()),
        )
        .refused(Rejection::UnknownKey),
        RevocationCase::new(
            "list_with_a_flipped_signature_bit",
            "List 12 with the lowest bit of the signature's first byte flipped.",
            &[],
            &flip_signature_bit(v12.clone()),
        )
        .refused(Rejection::BadSignature),
        RevocationCase::new(
            "pass_presented_as_a_revocation_list",
            "Anna's pass's bytes: signed by the trusted key, but for the pass context.",
            &[],
            &anna().issue(&key),
        )
        .refused(Rejection::BadSignature),
        RevocationCase::new(
            "list_signature_scalar_plus_the_group_order",
            "List 12 with L added to the signature's S.",
            &[],
            &add_group_order(v12.clone()),
        )
        .refused(Rejection::NonCanonicalSignature),
        RevocationCase::new(
            "list_with_a_trailing_byte",
            "List 12 with a 0x00 byte appended.",
            &[],
            &with_trailing_byte(v12.clone()),
        )
        .refused(Rejection::TrailingBytes),
        RevocationCase::new(
            "list_missing_its_last_byte",
            "List 12 with its last byte dropped.",
            &[],
            &without_last_byte(v12.clone()),
        )
        .refused(Rejection::Truncated),
        RevocationCase::new(
            "list_without_a_site",
            "List 12 in the old 8-element shape without a site, properly signed by the \
             trusted issuer: a list that names no site applies nowhere.",
            &[],
            &signed_without_site(&v12),
        )
        .refused(Rejection::Malformed),
        RevocationCase::new(
            "full_list_that_restores_a_pass",
            "A signed full list with a restored pass: only deltas restore.",
            &[],
            &RevocationList {
                restored_passes: vec![pass_id(LOST_PASS)],
                ..list_v12()
            }
            .sign(&key),
        )
        .refused(Rejection::Malformed),
        RevocationCase::new(
            "list_expiring_when_it_is_issued",
            "A signed list whose expiry equals its issue time.",
            &[],
            &RevocationList {
                expires: list_v12().issued_at,
                ..list_v12()
            }
            .sign(&key),
        )
        .refused(Rejection::Malformed),
        RevocationCase::new(
            "delta_whose_version_is_not_above_its_base",
            "A signed delta with version 12 and base 12.",
            &[],
            &RevocationList {
                version: 12,
                ..delta_v13()
            }
            .sign(&key),
        )
        .refused(Rejection::Malformed),
        RevocationCase::new(
            "trust_anchor_is_a_weak_key",
            "The configured issuer key is the identity point.",
            &[],
            &v12,
        )
        .trusting(vec![IDENTITY_POINT.to_owned()])
        .refused(Rejection::WeakKey),
    ];
    VectorFile {
        description: "Signed revocation lists reaching a gateway at site. Trust the \
                      issuer_public_keys; verify and apply each list of applied_first in order \
                      (each must be accepted); then verify and apply list. expected is `valid` (then decoded \
                      and state_after must match; state lists are sorted) or a rejection code."
            .to_owned(),
        cases,
    }
}

// --- Commands ---------------------------------------------------------------------------------

/// The dashboard's command to `gw1` at `byn`.
fn command(seq: u64, id: &str, issued_at: u64, lifetime: u64, action: Action) -> Command {
    Command {
        site: site("byn"),
        gateway: gateway("gw1"),
        id: command_id(id),
        issued_at: UnixTime(issued_at),
        expires: UnixTime(issued_at + lifetime),
        seq,
        action,
    }
}

fn unlock_front() -> Action {
    Action::Unlock {
        door: door("front"),
        seconds: 5,
    }
}

/// The default clock skew of `CommandLimits`.
const COMMAND_SKEW: u64 = 30;

impl CommandCase {
    fn new(name: &str, description: &str, signed: &[u8], now: u64, last_seq: Option<u64>) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            issuer_public_keys: keys_hex(&[&issuer()]),
            command: hex::encode(signed),
            site: "byn".to_owned(),
            gateway: "gw1".to_owned(),
            now,
            max_clock_skew_seconds: COMMAND_SKEW,
            last_seq,
            seen_command_ids: Vec::new(),
            expected: String::new(),
            decoded: None,
        }
    }

    fn received_by(mut self, site: &str, gateway: &str) -> Self {
        self.site = site.to_owned();
        self.gateway = gateway.to_owned();
        self
    }

    fn having_seen(mut self, id: &CommandId) -> Self {
        self.seen_command_ids = vec![id.to_string()];
        self
    }

    fn trusting(mut self, keys: Vec<String>) -> Self {
        self.issuer_public_keys = keys;
        self
    }

    fn valid(mut self, command: &Command) -> Self {
        self.expected = VALID.to_owned();
        self.decoded = Some(command_json(command));
        self
    }

    fn refused(mut self, rejection: Rejection) -> Self {
        self.expected = code(rejection);
        self
    }
}

fn command_vectors() -> VectorFile<CommandCase> {
    let key = issuer();
    let now = MONDAY_MORNING + 17 * MINUTE;
    let unlock = command(
        42,
        "9c1e5a7b3d2f4608b1e7c5a9d3f0b2e4",
        now - 2,
        60,
        unlock_front(),
    );
    let signed_unlock = unlock.sign(&key);
    let lockdown_all = command(
        1,
        "2b7d9f1c4e6a8035d2c9e1b7f4a6d8c0",
        now,
        300,
        Action::Lockdown {
            door: None,
            on: true,
        },
    );
    let lockdown_off = command(
        43,
        "6f3a1d8e5c9b2074a8d6f1e3c7b5a9d2",
        now - 1,
        300,
        Action::Lockdown {
            door: Some(door("workshop")),
            on: false,
        },
    );
    let beacon_issued = MONDAY_MORNING;
    let beacon = command(
        44,
        "d8e2b6f0a4c7193e5b1d9f3a7c2e6b08",
        beacon_issued,
        60,
        Action::TimeBeacon {
            time: UnixTime(beacon_issued),
        },
    );
    let revocation = command(
        45,
        "a7c3e9f5b1d80246e8a2c6f0d4b9e1a3",
        MONDAY_MORNING - 20 * HOUR,
        DAY,
        Action::Revocation {
            list: delta_v13().sign(&key),
        },
    );
    let clock_reset = command(
        48,
        "b4d0f6a2c8e13957d5b1f7a3e9c6d2f0",
        now,
        300,
        Action::SetClockFloor {
            floor: UnixTime(now),
        },
    );
    let within_skew = command(
        46,
        "3e9b5d1f7a2c4068f1d3b7e5a9c2d6f8",
        now + COMMAND_SKEW,
        60,
        unlock_front(),
    );
    let cases =
        vec![
        CommandCase::new(
            "unlock_for_this_gateway",
            "Unlock the front door for 5 seconds, issued 2 seconds ago, living 60 seconds; the \
             gateway last accepted sequence number 41.",
            &signed_unlock,
            now,
            Some(41),
        )
        .valid(&unlock),
        CommandCase::new(
            "lockdown_as_the_first_command_a_gateway_receives",
            "Lockdown of every door, sequence number 1, to a gateway that accepted nothing yet.",
            &lockdown_all.sign(&key),
            now,
            None,
        )
        .valid(&lockdown_all),
        CommandCase::new(
            "lockdown_lifted_for_one_door",
            "Lockdown off for the workshop door, living 5 minutes.",
            &lockdown_off.sign(&key),
            now,
            Some(42),
        )
        .valid(&lockdown_off),
        CommandCase::new(
            "unlock_issued_at_the_edge_of_the_clock_skew",
            "Issued 30 seconds ahead of the gateway's clock: the most the skew allows.",
            &within_skew.sign(&key),
            now,
            Some(45),
        )
        .valid(&within_skew),
        CommandCase::new(
            "time_beacon_to_a_gateway_three_days_behind",
            "A Pi without a battery clock booted 3 days in the past: the time beacon is exempt \
             from the clock checks, or it could never fix the clock.",
            &beacon.sign(&key),
            beacon_issued - 3 * DAY,
            Some(43),
        )
        .valid(&beacon),
        CommandCase::new(
            "time_beacon_to_a_gateway_a_year_ahead",
            "A clock a year ahead: the beacon is accepted all the same (its sequence number \
             guards against replays).",
            &beacon.sign(&key),
            beacon_issued + 365 * DAY,
            Some(43),
        )
        .valid(&beacon),
        CommandCase::new(
            "revocation_delta_delivered_twenty_hours_late",
            "A command carrying revocation delta 13 lives a day, for gateways whose link was \
             down; the list inside is verified on its own.",
            &revocation.sign(&key),
            MONDAY_MORNING,
            Some(44),
        )
        .valid(&revocation),
        CommandCase::new(
            "unlock_at_its_expiry",
            "now equals the command's expiry, which is exclusive.",
            &signed_unlock,
            unlock.expires.0,
            Some(41),
        )
        .refused(Rejection::Expired),
        CommandCase::new(
            "unlock_arriving_ten_minutes_late",
            "The broker held the unlock for ten minutes.",
            &signed_unlock,
            now + 10 * MINUTE,
            Some(41),
        )
        .refused(Rejection::Expired),
        CommandCase::new(
            "unlock_for_another_gateway",
            "The unlock for gw1 received by gw2.",
            &signed_unlock,
            now,
            Some(41),
        )
        .received_by("byn", "gw2")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "unlock_for_another_site",
            "The unlock for byn/gw1 received by kulturhuset/gw1.",
            &signed_unlock,
            now,
            Some(41),
        )
        .received_by("kulturhuset", "gw1")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "lockdown_for_another_gateway",
            "The lockdown for byn/gw1 received by gw2 of the same site.",
            &lockdown_all.sign(&key),
            now,
            None,
        )
        .received_by("byn", "gw2")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "lockdown_for_another_site",
            "The lockdown for byn/gw1 received by dal/gw1: gateway ids are unique only within \
             a site, so the site is checked too.",
            &lockdown_all.sign(&key),
            now,
            None,
        )
        .received_by("dal", "gw1")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "time_beacon_for_another_gateway",
            "The time beacon for byn/gw1 received by byn/gw2: exempt from the clock checks, \
             not from the address check.",
            &beacon.sign(&key),
            beacon_issued - 3 * DAY,
            Some(43),
        )
        .received_by("byn", "gw2")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "time_beacon_for_another_site",
            "The time beacon for byn/gw1 received by dal/gw1.",
            &beacon.sign(&key),
            beacon_issued - 3 * DAY,
            Some(43),
        )
        .received_by("dal", "gw1")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "revocation_command_for_another_gateway",
            "The command carrying delta 13 for byn/gw1 received by byn/gw2 (gw2 gets its own \
             command with its own sequence number).",
            &revocation.sign(&key),
            MONDAY_MORNING,
            Some(44),
        )
        .received_by("byn", "gw2")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "revocation_command_for_another_site",
            "The command carrying delta 13 for byn/gw1 received by dal/gw1. (A command \
             addressed to dal/gw1 that carries byn's delta passes these checks; the list \
             inside is then refused by its own site check: revocations.json, \
             delta_for_another_site.)",
            &revocation.sign(&key),
            MONDAY_MORNING,
            Some(44),
        )
        .received_by("dal", "gw1")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "unlock_replayed_with_the_accepted_sequence_number",
            "The gateway already accepted sequence number 42.",
            &signed_unlock,
            now,
            Some(42),
        )
        .refused(Rejection::ReplayedCommand),
        CommandCase::new(
            "unlock_with_a_command_id_seen_before",
            "Sequence number 42 is above the last (30), but its id was accepted before.",
            &signed_unlock,
            now,
            Some(30),
        )
        .having_seen(&unlock.id)
        .refused(Rejection::ReplayedCommand),
        CommandCase::new(
            "old_time_beacon_replayed",
            "Time beacons skip the clock checks, so a replayed one is caught by its sequence \
             number.",
            &beacon.sign(&key),
            beacon_issued + 30 * DAY,
            Some(90),
        )
        .refused(Rejection::ReplayedCommand),
        CommandCase::new(
            "unlock_living_61_seconds",
            "Unlocks live at most 60 seconds.",
            &command(47, "5a1c7e3b9d0f2486c4e8a2d6f0b3c7e9", now, 61, unlock_front()).sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::BadLifetime),
        CommandCase::new(
            "lockdown_living_longer_than_five_minutes",
            "Lockdowns and time beacons live at most 300 seconds.",
            &command(
                47,
                "8d4f0b6e2a9c1357e7b3d9f1a5c0e2b4",
                now,
                301,
                Action::Lockdown {
                    door: None,
                    on: true,
                },
            )
            .sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::BadLifetime),
        CommandCase::new(
            "time_beacon_living_longer_than_five_minutes",
            "The beacon's exemption from clock checks does not extend its lifetime limit.",
            &command(
                47,
                "c0e6a2d8f4b13579a9d5f1b7e3c8a0d6",
                now,
                301,
                Action::TimeBeacon {
                    time: UnixTime(now),
                },
            )
            .sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::BadLifetime),
        CommandCase::new(
            "unlock_issued_beyond_the_clock_skew",
            "Issued 31 seconds ahead of the gateway's clock.",
            &command(
                47,
                "e2a8c4f0b6d3791bc1f7d3a9e5b0c8f2",
                now + COMMAND_SKEW + 1,
                60,
                unlock_front(),
            )
            .sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::BadLifetime),
        CommandCase::new(
            "command_expiring_when_it_is_issued",
            "Expiry equal to issue time: no lifetime at all.",
            &command(47, "1b5f9d3a7e0c4682d8a4e0c6b2f9d1a7", now, 0, unlock_front()).sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::BadLifetime),
        CommandCase::new(
            "unlock_for_zero_seconds",
            "An unlock must ask for 1 to 3600 seconds.",
            &command(
                47,
                "4c8a2e6f0d3b7915f3b9e5c1a7d0f4b8",
                now,
                60,
                Action::Unlock {
                    door: door("front"),
                    seconds: 0,
                },
            )
            .sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::Malformed),
        CommandCase::new(
            "unlock_for_more_than_an_hour",
            "3601 seconds.",
            &command(
                47,
                "f7b1d5a9c3e08264b6e0a4d8c2f7b1e5",
                now,
                60,
                Action::Unlock {
                    door: door("front"),
                    seconds: 3601,
                },
            )
            .sign(&key),
            now,
            Some(46),
        )
        .refused(Rejection::Malformed),
        CommandCase::new(
            "command_signed_by_an_untrusted_key",
            "The unlock signed by another network's issuer.",
            &unlock.sign(&foreign_issuer()),
            now,
            Some(41),
        )
        .refused(Rejection::UnknownKey),
        CommandCase::new(
            "command_signed_by_the_gateway_key",
            "The gateway's own key is not an issuer key.",
            &unlock.sign(&gateway_key()),
            now,
            Some(41),
        )
        .refused(Rejection::UnknownKey),
        CommandCase::new(
            "command_with_a_flipped_signature_bit",
            "The unlock with the lowest bit of the signature's first byte flipped.",
            &flip_signature_bit(signed_unlock.clone()),
            now,
            Some(41),
        )
        .refused(Rejection::BadSignature),
        CommandCase::new(
            "ack_presented_as_a_command",
            "A signed ack's bytes on the command topic: signed by the issuer, for the ack \
             context.",
            &ack_for_gw1().sign(&key),
            now,
            Some(41),
        )
        .refused(Rejection::BadSignature),
        CommandCase::new(
            "command_signature_scalar_plus_the_group_order",
            "The unlock with L added to the signature's S.",
            &add_group_order(signed_unlock.clone()),
            now,
            Some(41),
        )
        .refused(Rejection::NonCanonicalSignature),
        CommandCase::new(
            "command_with_a_trailing_byte",
            "The unlock with a 0x00 byte appended.",
            &with_trailing_byte(signed_unlock.clone()),
            now,
            Some(41),
        )
        .refused(Rejection::TrailingBytes),
        CommandCase::new(
            "command_missing_its_last_byte",
            "The unlock with its last byte dropped.",
            &without_last_byte(signed_unlock.clone()),
            now,
            Some(41),
        )
        .refused(Rejection::Truncated),
        CommandCase::new(
            "trust_anchor_is_a_weak_key",
            "The configured issuer key is the point of order two.",
            &signed_unlock,
            now,
            Some(41),
        )
        .trusting(vec![ORDER_TWO_POINT.to_owned()])
        .refused(Rejection::WeakKey),
        CommandCase::new(
            "clock_floor_reset_at_a_gateway_whose_clock_is_in_2099",
            "Set the clock floor back to the dashboard's time at a gateway whose floor a spoofed \
             time server pushed to 2099: like time beacons, exempt from the clock checks.",
            &clock_reset.sign(&key),
            FAR_FUTURE,
            Some(47),
        )
        .valid(&clock_reset),
        CommandCase::new(
            "clock_floor_reset_replayed",
            "The same reset again: its sequence number is not above the last accepted one.",
            &clock_reset.sign(&key),
            FAR_FUTURE,
            Some(48),
        )
        .refused(Rejection::ReplayedCommand),
        CommandCase::new(
            "clock_floor_reset_for_another_gateway",
            "The reset addressed to gw1, received by gw2 of the same site.",
            &clock_reset.sign(&key),
            FAR_FUTURE,
            Some(47),
        )
        .received_by("byn", "gw2")
        .refused(Rejection::Misaddressed),
        CommandCase::new(
            "clock_floor_reset_living_longer_than_five_minutes",
            "The reset's exemption from clock checks does not extend its lifetime limit.",
            &command(
                48,
                "7e1a5c9f3b0d4826a2e8c4f6b0d9a3e5",
                now,
                301,
                Action::SetClockFloor {
                    floor: UnixTime(now),
                },
            )
            .sign(&key),
            FAR_FUTURE,
            Some(47),
        )
        .refused(Rejection::BadLifetime),
    ];
    VectorFile {
        description: "Signed commands from the dashboard reaching a gateway. Trust the \
                      issuer_public_keys; the gateway is site/gateway, its clock says now, it \
                      last accepted sequence number last_seq (null: none) and the command ids \
                      in seen_command_ids; verify command with max_clock_skew_seconds. expected \
                      is `valid` (then decoded must match) or a rejection code."
            .to_owned(),
        cases,
    }
}

// --- Event batches ----------------------------------------------------------------------------

/// Gateway `gw1`'s first 21 events: a morning at `byn`, with every kind of event.
fn gw1_events() -> Vec<(Event, Vec<u8>, ChainHead)> {
    let anna = anna();
    let britt = britt();
    let boot = MONDAY_MORNING - 2 * HOUR;
    let bodies = vec![
        (
            boot,
            ClockQuality::Unsynchronised,
            EventBody::GatewayStarted {
                version: "0.1.0".to_owned(),
            },
        ),
        (
            boot + 1,
            ClockQuality::Floor,
            EventBody::ClockChanged {
                quality: ClockQuality::Floor,
                floor: UnixTime(boot + 1),
            },
        ),
        (
            boot + 40,
            ClockQuality::Synchronised,
            EventBody::ClockChanged {
                quality: ClockQuality::Synchronised,
                floor: UnixTime(boot + 40),
            },
        ),
        (
            boot + 41,
            ClockQuality::Synchronised,
            EventBody::RevocationApplied { version: 12 },
        ),
        (
            MONDAY_MORNING,
            ClockQuality::Synchronised,
            EventBody::EntryDenied {
                door: door("front"),
                reason: Rejection::Revoked,
                pass_id: Some(anna.pass_id),
                member: Some(anna.member.clone()),
            },
        ),
        (
            MONDAY_MORNING + 10,
            ClockQuality::Synchronised,
            EventBody::EntryGranted {
                door: door("front"),
                pass_id: britt.pass_id,
                member: britt.member.clone(),
                kind: PassKind::Member,
                device_bound: true,
            },
        ),
        (
            MONDAY_MORNING + 13,
            ClockQuality::Synchronised,
            EventBody::DoorOpened {
                door: door("front"),
            },
        ),
        (
            MONDAY_MORNING + 19,
            ClockQuality::Synchronised,
            EventBody::DoorClosed {
                door: door("front"),
            },
        ),
        (
            MONDAY_MORNING + 95,
            ClockQuality::Synchronised,
            EventBody::EntryDenied {
                door: door("workshop"),
                reason: Rejection::BadPrefix,
                pass_id: None,
                member: None,
            },
        ),
        (
            MONDAY_MORNING + 15 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::ExitButton {
                door: door("front"),
            },
        ),
        (
            MONDAY_MORNING + 15 * MINUTE + 1,
            ClockQuality::Synchronised,
            EventBody::DoorOpened {
                door: door("front"),
            },
        ),
        (
            MONDAY_MORNING + 16 * MINUTE + 1,
            ClockQuality::Synchronised,
            EventBody::HeldOpen {
                door: door("front"),
                raised: true,
            },
        ),
        (
            MONDAY_MORNING + 17 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::Lockdown {
                door: None,
                on: true,
            },
        ),
        (
            MONDAY_MORNING + 17 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::CommandResult {
                command: command_id("2b7d9f1c4e6a8035d2c9e1b7f4a6d8c0"),
                seq: 1,
                outcome: CommandOutcome::Done,
            },
        ),
        (
            MONDAY_MORNING + 17 * MINUTE + 30,
            ClockQuality::Synchronised,
            EventBody::DoorClosed {
                door: door("front"),
            },
        ),
        (
            MONDAY_MORNING + 17 * MINUTE + 30,
            ClockQuality::Synchronised,
            EventBody::HeldOpen {
                door: door("front"),
                raised: false,
            },
        ),
        (
            MONDAY_MORNING + 18 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::CommandResult {
                command: command_id("2b7d9f1c4e6a8035d2c9e1b7f4a6d8c0"),
                seq: 1,
                outcome: CommandOutcome::Refused(Rejection::ReplayedCommand),
            },
        ),
        (
            MONDAY_MORNING + 19 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::Lockdown {
                door: Some(door("workshop")),
                on: false,
            },
        ),
        (
            MONDAY_MORNING + 40 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::ForcedOpen {
                door: door("workshop"),
                raised: true,
            },
        ),
        (
            MONDAY_MORNING + 41 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::ForcedOpen {
                door: door("workshop"),
                raised: false,
            },
        ),
        (
            MONDAY_MORNING + HOUR,
            ClockQuality::Synchronised,
            EventBody::RevocationRefused {
                version: Some(11),
                reason: Rejection::Rollback,
            },
        ),
        (
            MONDAY_MORNING + HOUR + 2 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::DenialsRepeated {
                door: door("front"),
                reason: Rejection::BadEncoding,
                pass_id: None,
                member: None,
                count: 431,
                first: UnixTime(MONDAY_MORNING + HOUR),
                last: UnixTime(MONDAY_MORNING + HOUR + MINUTE),
            },
        ),
        (
            MONDAY_MORNING + HOUR + 3 * MINUTE,
            ClockQuality::Synchronised,
            EventBody::DiskLow {
                raised: true,
                free_bytes: 150_000_000,
            },
        ),
    ];
    let mut head = ChainHead::default();
    bodies
        .into_iter()
        .map(|(time, clock, body)| {
            let (event, bytes, next) = head.append(UnixTime(time), clock, body);
            head = next;
            (event, bytes, next)
        })
        .collect()
}

/// How many of `gw1_events` the first batch carries.
const FIRST_BATCH: usize = 8;

fn events_json(events: &[(Event, Vec<u8>, ChainHead)]) -> Vec<EventJson> {
    events
        .iter()
        .map(|(event, bytes, head)| event_json(event, bytes, &head.hash))
        .collect()
}

fn batch_of(events: &[&(Event, Vec<u8>, ChainHead)], key: &SecretKey) -> Vec<u8> {
    let refs: Vec<&[u8]> = events
        .iter()
        .map(|(_, bytes, _)| bytes.as_slice())
        .collect();
    sign_batch(&site("byn"), &gateway("gw1"), &refs, key)
}

impl EventCase {
    fn new(name: &str, description: &str, stored_head: &ChainHead, batch: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            gateway_public_key: gateway_key().public_key().to_hex(),
            site: "byn".to_owned(),
            gateway: "gw1".to_owned(),
            stored_head: head_json(stored_head),
            batch: hex::encode(batch),
            expected: String::new(),
            events: None,
            head_after: None,
        }
    }

    fn registering(mut self, key_hex: &str) -> Self {
        self.gateway_public_key = key_hex.to_owned();
        self
    }

    fn valid(mut self, events: &[(Event, Vec<u8>, ChainHead)]) -> Self {
        self.expected = VALID.to_owned();
        self.events = Some(events_json(events));
        self.head_after = events.last().map(|(_, _, head)| head_json(head));
        self
    }

    fn refused(mut self, rejection: Rejection) -> Self {
        self.expected = code(rejection);
        self
    }
}

fn event_vectors() -> VectorFile<EventCase> {
    let key = gateway_key();
    let all = gw1_events();
    let (first, second) = all.split_at(FIRST_BATCH);
    let genesis = ChainHead::default();
    let after_first = first.last().expect("a first batch").2;
    let first_batch = batch_of(&first.iter().collect::<Vec<_>>(), &key);
    let second_batch = batch_of(&second.iter().collect::<Vec<_>>(), &key);
    // Event 3 with its time changed after event 4 was chained to it: sequence numbers stay
    // consecutive, but event 4's previous hash no longer matches.
    let (tampered_event, _, _) = &first[2];
    let tampered = Event {
        time: UnixTime(tampered_event.time.0 + 1),
        ..tampered_event.clone()
    };
    let tampered_bytes = tampered.encode();
    let tampered_batch = {
        let refs: Vec<&[u8]> = vec![&first[0].1, &first[1].1, &tampered_bytes, &first[3].1];
        sign_batch(&site("byn"), &gateway("gw1"), &refs, &key)
    };
    let cases = vec![
        EventCase::new(
            "first_batch_of_a_new_gateway",
            "Events 1 to 8 of gw1, from the genesis hash, to a dashboard that stored nothing \
             for it yet.",
            &genesis,
            &first_batch,
        )
        .valid(first),
        EventCase::new(
            "batch_continuing_what_the_dashboard_stored",
            "Events 9 to 21: every other kind of event. The dashboard stored up to event 8.",
            &after_first,
            &second_batch,
        )
        .valid(second),
        EventCase::new(
            "batch_with_a_dropped_event",
            "Events 1 to 8 without event 4.",
            &genesis,
            &batch_of(
                &first
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != 3)
                    .map(|(_, e)| e)
                    .collect::<Vec<_>>(),
                &key,
            ),
        )
        .refused(Rejection::SequenceGap),
        EventCase::new(
            "batch_with_an_event_changed_after_it_was_chained",
            "Events 1 to 4 where event 3's time was changed by one second: event 4's previous \
             hash no longer matches it.",
            &genesis,
            &tampered_batch,
        )
        .refused(Rejection::ChainBroken),
        EventCase::new(
            "batch_skipping_events_the_dashboard_never_stored",
            "Events 9 to 21 to a dashboard that stored only up to event 5.",
            &first[4].2,
            &second_batch,
        )
        .refused(Rejection::SequenceGap),
        EventCase::new(
            "batch_not_linking_to_the_stored_event",
            "Events 9 to 21 to a dashboard whose stored event 8 has another hash: the \
             gateway's log was rewritten.",
            &ChainHead {
                seq: after_first.seq,
                hash: [0xab; 32],
            },
            &second_batch,
        )
        .refused(Rejection::ChainBroken),
        EventCase::new(
            "batch_signed_by_another_gateway_key",
            "The first batch signed by another gateway's key (the issue's \"wrong gateway \
             key\"): its key id is not gw1's.",
            &genesis,
            &batch_of(&first.iter().collect::<Vec<_>>(), &other_gateway_key()),
        )
        .refused(Rejection::UnknownKey),
        EventCase::new(
            "batch_signed_by_another_key_under_the_gateway_key_id",
            "Signed by another gateway's key with gw1's key id forged in the header.",
            &genesis,
            &forged_cose_sign1(
                coset::iana::Algorithm::EdDSA,
                key.id(),
                b"bygd/v1/batch",
                cose_payload(&first_batch),
                &[0x66; 32],
            ),
        )
        .refused(Rejection::BadSignature),
        EventCase::new(
            "batch_with_a_flipped_signature_bit",
            "The first batch with the lowest bit of the signature's first byte flipped.",
            &genesis,
            &flip_signature_bit(first_batch.clone()),
        )
        .refused(Rejection::BadSignature),
        EventCase::new(
            "batch_naming_another_gateway",
            "Signed by gw1's key but naming gw2 inside.",
            &genesis,
            &sign_batch(
                &site("byn"),
                &gateway("gw2"),
                &first
                    .iter()
                    .map(|(_, b, _)| b.as_slice())
                    .collect::<Vec<_>>(),
                &key,
            ),
        )
        .refused(Rejection::Misaddressed),
        EventCase::new(
            "batch_naming_another_site",
            "Signed by gw1's key but naming dal/gw1 inside: the same gateway id at another \
             site is another gateway.",
            &genesis,
            &sign_batch(
                &site("dal"),
                &gateway("gw1"),
                &first
                    .iter()
                    .map(|(_, b, _)| b.as_slice())
                    .collect::<Vec<_>>(),
                &key,
            ),
        )
        .refused(Rejection::Misaddressed),
        EventCase::new(
            "batch_signature_scalar_plus_the_group_order",
            "The first batch with L added to the signature's S.",
            &genesis,
            &add_group_order(first_batch.clone()),
        )
        .refused(Rejection::NonCanonicalSignature),
        EventCase::new(
            "batch_with_a_trailing_byte",
            "The first batch with a 0x00 byte appended.",
            &genesis,
            &with_trailing_byte(first_batch.clone()),
        )
        .refused(Rejection::TrailingBytes),
        EventCase::new(
            "batch_missing_its_last_byte",
            "The first batch with its last byte dropped.",
            &genesis,
            &without_last_byte(first_batch.clone()),
        )
        .refused(Rejection::Truncated),
        EventCase::new(
            "empty_batch",
            "A signed batch with no events: a batch holds 1 to 256.",
            &genesis,
            &sign_batch(&site("byn"), &gateway("gw1"), &[], &key),
        )
        .refused(Rejection::Malformed),
        EventCase::new(
            "batch_holding_bytes_that_are_no_event",
            "A signed batch whose one event is the CBOR text \"open\".",
            &genesis,
            &sign_batch(&site("byn"), &gateway("gw1"), &[b"\x64open"], &key),
        )
        .refused(Rejection::Malformed),
        EventCase::new(
            "gateway_key_is_a_weak_key",
            "The dashboard registered the identity point as gw1's key.",
            &genesis,
            &first_batch,
        )
        .registering(IDENTITY_POINT)
        .refused(Rejection::WeakKey),
    ];
    VectorFile {
        description: "Signed batches of gateway events reaching the dashboard. The dashboard \
                      registered gateway_public_key for site/gateway and stored events up to \
                      stored_head (seq 0 with 32 zero bytes: none). Verify batch, then check \
                      that each event follows the head before it (seq + 1, prev_hash = the \
                      previous event's SHA-256). expected is `valid` (then events and \
                      head_after must match) or a rejection code."
            .to_owned(),
        cases,
    }
}

// --- Acks -------------------------------------------------------------------------------------

/// The dashboard's ack of `gw1`'s first batch.
fn ack_for_gw1() -> Ack {
    let events = gw1_events();
    let (_, _, head) = &events[FIRST_BATCH - 1];
    Ack {
        site: site("byn"),
        gateway: gateway("gw1"),
        up_to: head.seq,
        hash: head.hash,
        issued_at: UnixTime(MONDAY_MORNING + 2),
    }
}

impl AckCase {
    fn new(name: &str, description: &str, signed: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            issuer_public_keys: keys_hex(&[&issuer()]),
            ack: hex::encode(signed),
            site: "byn".to_owned(),
            gateway: "gw1".to_owned(),
            expected: String::new(),
            decoded: None,
        }
    }

    fn received_by(mut self, site: &str, gateway: &str) -> Self {
        self.site = site.to_owned();
        self.gateway = gateway.to_owned();
        self
    }

    fn valid(mut self, ack: &Ack) -> Self {
        self.expected = VALID.to_owned();
        self.decoded = Some(AckJson {
            site: ack.site.to_string(),
            gateway: ack.gateway.to_string(),
            up_to: ack.up_to,
            hash: hex::encode(ack.hash),
            issued_at: ack.issued_at.0,
        });
        self
    }

    fn refused(mut self, rejection: Rejection) -> Self {
        self.expected = code(rejection);
        self
    }
}

fn ack_vectors() -> VectorFile<AckCase> {
    let key = issuer();
    let ack = ack_for_gw1();
    let signed = ack.sign(&key);
    let cases = vec![
        AckCase::new(
            "ack_of_the_first_batch",
            "The dashboard stored gw1's events 1 to 8; hash is event 8's SHA-256 (see \
             events.json).",
            &signed,
        )
        .valid(&ack),
        AckCase::new(
            "ack_for_another_gateway",
            "An ack naming gw2 reaching gw1.",
            &Ack {
                gateway: gateway("gw2"),
                ..ack.clone()
            }
            .sign(&key),
        )
        .refused(Rejection::Misaddressed),
        AckCase::new(
            "ack_received_by_another_gateway",
            "The ack for byn/gw1 reaching byn/gw2.",
            &signed,
        )
        .received_by("byn", "gw2")
        .refused(Rejection::Misaddressed),
        AckCase::new(
            "ack_received_by_another_site",
            "The ack for byn/gw1 reaching dal/gw1: gateway ids are unique only within a site.",
            &signed,
        )
        .received_by("dal", "gw1")
        .refused(Rejection::Misaddressed),
        AckCase::new(
            "ack_of_nothing",
            "up_to 0 acknowledges no event.",
            &Ack {
                up_to: 0,
                ..ack.clone()
            }
            .sign(&key),
        )
        .refused(Rejection::Malformed),
        AckCase::new(
            "ack_signed_by_the_gateway_key",
            "Only the issuer key signs acks.",
            &ack.sign(&gateway_key()),
        )
        .refused(Rejection::UnknownKey),
        AckCase::new(
            "ack_with_a_flipped_signature_bit",
            "The lowest bit of the signature's first byte flipped.",
            &flip_signature_bit(signed.clone()),
        )
        .refused(Rejection::BadSignature),
        AckCase::new(
            "command_presented_as_an_ack",
            "A signed unlock command's bytes on the ack topic.",
            &command(
                42,
                "9c1e5a7b3d2f4608b1e7c5a9d3f0b2e4",
                MONDAY_MORNING,
                60,
                unlock_front(),
            )
            .sign(&key),
        )
        .refused(Rejection::BadSignature),
        AckCase::new(
            "ack_signature_scalar_plus_the_group_order",
            "L added to the signature's S.",
            &add_group_order(signed.clone()),
        )
        .refused(Rejection::NonCanonicalSignature),
        AckCase::new(
            "ack_with_a_trailing_byte",
            "A 0x00 byte appended.",
            &with_trailing_byte(signed.clone()),
        )
        .refused(Rejection::TrailingBytes),
        AckCase::new(
            "ack_missing_its_last_byte",
            "The last byte dropped.",
            &without_last_byte(signed.clone()),
        )
        .refused(Rejection::Truncated),
    ];
    VectorFile {
        description: "Signed acks from the dashboard reaching a gateway. Trust the \
                      issuer_public_keys; the gateway is site/gateway; verify ack. expected is \
                      `valid` (then decoded must match) or a rejection code. Whether hash \
                      matches the gateway's own event up_to is the gateway's check, not part \
                      of these vectors."
            .to_owned(),
        cases,
    }
}

/// A status as a gateway with the vectors' two doors sends it at its heartbeat.
fn online_status() -> GatewayStatus {
    GatewayStatus {
        core: Some(CoreStatus {
            clock: "synced".into(),
            clock_floor: MONDAY_MORNING,
            disk_low: false,
            free_disk_bytes: Some(12_884_901_888),
            head_seq: 8,
            lockdowns: vec![],
            outbox: 0,
            revocation_age_seconds: Some(2 * HOUR),
            revocation_stale: false,
            revocation_versions: vec![(issuer().id().to_string(), 3)],
        }),
        doors: Some(vec![
            DoorStatus {
                forced_open: false,
                held_open: false,
                id: "front".into(),
                lockdown: false,
                open: Some(false),
                released: false,
            },
            DoorStatus {
                forced_open: false,
                held_open: false,
                id: "workshop".into(),
                lockdown: false,
                open: None,
                released: true,
            },
        ]),
        gateway: Some("gw1".into()),
        online: true,
        site: Some("byn".into()),
        time: Some(MONDAY_MORNING + MINUTE),
        uplink: Some(UplinkStatus {
            oversize_messages: 0,
            revocations_paused: false,
        }),
        version: Some("0.1.0".into()),
    }
}

impl StatusCase {
    fn new(name: &str, description: &str, status: &str) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            status: status.to_owned(),
            expected: String::new(),
            decoded: None,
        }
    }

    fn valid(mut self, decoded: GatewayStatus) -> Self {
        self.expected = VALID.to_owned();
        self.decoded = Some(decoded);
        self
    }

    fn refused(mut self, rejection: Rejection) -> Self {
        self.expected = code(rejection);
        self
    }
}

fn status_vectors() -> VectorFile<StatusCase> {
    let text = |status: &GatewayStatus| String::from_utf8(status.encode()).expect("JSON is UTF-8");
    let online = online_status();
    let online_text = text(&online);
    let offline = GatewayStatus::offline("byn", "gw1");
    let cases = vec![
        StatusCase::new(
            "status_of_a_gateway_with_two_doors",
            "byn/gw1 at its heartbeat: the front door closed and locked, the workshop's lock \
             released before its sensor was read (open is null).",
            &online_text,
        )
        .valid(online.clone()),
        StatusCase::new(
            "last_will_says_offline",
            "The offline status: the gateway's last will, and its goodbye when it stops.",
            &text(&offline),
        )
        .valid(offline),
        StatusCase::new(
            "status_with_only_online_and_keys_it_does_not_know",
            "A reader needs only `online` and ignores keys it does not know; whitespace is \
             allowed around the object and inside it.",
            " { \"online\": true, \"battery\": {\"volts\": 5.1} }\n",
        )
        .valid(GatewayStatus {
            online: true,
            ..GatewayStatus::default()
        }),
        StatusCase::new(
            "status_without_online",
            "An object without `online` is not a status.",
            r#"{"gateway":"gw1","site":"byn"}"#,
        )
        .refused(Rejection::Malformed),
        StatusCase::new(
            "status_whose_online_is_not_a_boolean",
            "`online` is the string \"true\".",
            r#"{"online":"true"}"#,
        )
        .refused(Rejection::Malformed),
        StatusCase::new(
            "status_that_is_not_json",
            "Noise on the status topic.",
            "ZZZZ",
        )
        .refused(Rejection::Malformed),
        StatusCase::new(
            "status_missing_its_last_byte",
            "The online status with its closing brace dropped.",
            &online_text[..online_text.len() - 1],
        )
        .refused(Rejection::Truncated),
        StatusCase::new(
            "status_followed_by_another_object",
            "Two objects in one message.",
            r#"{"online":true}{"online":false}"#,
        )
        .refused(Rejection::TrailingBytes),
    ];
    VectorFile {
        description: "Gateway statuses reaching the dashboard on bygd/v1/{site}/{gateway}/status \
                      (unsigned JSON, SPEC.md 13.1). Decode status (the payload as text); \
                      expected is `valid` (then decoded must match) or a rejection code."
            .to_owned(),
        cases,
    }
}
