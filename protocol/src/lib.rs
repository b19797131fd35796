//! bygd's wire formats: every byte that crosses a boundary between a phone, a gateway, the
//! broker and the dashboard.
//!
//! This crate never does I/O, never reads a clock and never draws random numbers: time, keys
//! and random identifiers are arguments. It is `no_std` (with `alloc`) so that the same code
//! checks a pass on a Raspberry Pi, on a microcontroller and in a phone app's test suite.
//! `SPEC.md` beside this crate documents every structure byte by byte and every check in the
//! order it runs; the functions here run the checks in that order.
//!
//! # Layout
//! - [`time`]-like types: `UnixTime`, `WeekTime`, `Weekday` (`time.rs`).
//! - Identifiers: `SiteId`, `GatewayId`, `DoorId`, `MemberId`, `PassId`, `CommandId` (`id.rs`).
//! - Keys: `KeyId`, `PublicKey`, `SecretKey`, `TrustedKeys` (`key.rs`).
//! - `base45.rs`: RFC 9285 base45, the QR alphanumeric-mode encoding.
//! - `cbor.rs`, `cose.rs`: strict CBOR reading and the one COSE_Sign1 profile every signed
//!   structure uses (private helpers).
//! - `pass.rs`, `schedule.rs`: the member pass, its claims, its scope and weekly schedule.
//! - `qr.rs`: the text a QR code carries, a bare pass or a device-bound presentation.
//! - `presentation.rs`: the device proof that makes a screenshot of a QR code useless.
//! - `revocation.rs`: signed, versioned revocation lists (full and delta) and their state.
//! - `command.rs`: signed commands from the dashboard to one gateway.
//! - `event.rs`, `batch.rs`: the gateway's hash-chained events and the signed batches that
//!   carry them; `ack.rs`: the dashboard's signed cumulative acknowledgement.
//! - `status.rs`: a gateway's unsigned status (JSON, the one message that is not CBOR).
//! - `topic.rs`: MQTT topic names.
//! - `rejection.rs`: why something was refused (`Rejection`) and why bytes did not decode
//!   (`DecodeError`).
//! - `wording.rs`: what people are told about events and refusals: `EventBody`'s and
//!   `CommandOutcome`'s `Display`, `Rejection::describe`, `ClockQuality::describe`. One place,
//!   shared by the gateway's log and the dashboard's text output.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;

mod ack;
mod base45;
mod batch;
mod cbor;
mod command;
mod cose;
mod event;
mod id;
mod key;
mod pass;
mod presentation;
mod qr;
mod rejection;
mod revocation;
mod schedule;
mod status;
mod time;
mod topic;
mod wording;

pub use ack::{verify_ack, Ack, MAX_ACK_BYTES};
pub use base45::{decode as base45_decode, encode as base45_encode};
pub use batch::{
    sign_batch, verify_batch, Batch, VerifiedEvent, MAX_BATCH_BYTES, MAX_BATCH_EVENTS,
};
pub use command::{
    open_command, verify_command, Action, Command, CommandHistory, CommandLimits,
    MAX_COMMAND_BYTES, MAX_UNLOCK_COMMAND_LIFETIME,
};
pub use event::{
    hash_event, ChainFault, ChainHead, ChainWalk, ClockQuality, CommandOutcome, Event, EventBody,
    Hash, GENESIS_HASH,
};
pub use id::{CommandId, DoorId, GatewayId, IdError, MemberId, PassId, SiteId};
pub use key::{KeyError, KeyId, PublicKey, SecretKey, TrustedKeys, KEY_ID_LEN};
pub use pass::{
    open_pass, verify_pass, AccessContext, PassClaims, PassKind, SiteScope, VerifiedPass,
};
pub use presentation::{
    check_presentation, proof_message, verify_presentation, DeviceKey, DeviceProof,
    DeviceSecretKey, Presentation, ProofCounters, ProofUse, Revocations, VerifiedPresentation,
    PROOF_CONTEXT, TIME_STEP_SECONDS,
};
pub use qr::{decode_qr, encode_qr, MAX_QR_TEXT_LEN, PASS_PREFIX, PRESENTATION_PREFIX};
pub use rejection::{DecodeError, Refusal, Rejection};
pub use revocation::{
    open_revocation_list, verify_revocation_list, RevocationList, RevocationState,
    MAX_REVOCATION_LIST_BYTES,
};
pub use schedule::{Schedule, TimeWindow, MINUTES_PER_DAY};
pub use status::{CoreStatus, DoorStatus, GatewayStatus, UplinkStatus, MAX_STATUS_BYTES};
pub use time::{UnixTime, WeekTime, Weekday};
pub use topic::{broker_identity, Topic, TopicKind, IDENTITY_SEPARATOR, TOPIC_ROOT};
