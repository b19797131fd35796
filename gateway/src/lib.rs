//! The bygd gateway daemon: decides locally whether a pass opens a door, logs every decision
//! durably, and drives the doors of a Raspberry Pi (or simulated ones), with no network.
//!
//! # Layout
//! Where each behaviour lives:
//! - `config`: the TOML config, checked as a whole ([`Config`]).
//! - `clock`: the clock floor that never moves backwards (except by an operator's reset) and
//!   never runs ahead of a clock nothing vouches for (pure: the caller reads the clocks).
//! - `gate`: every decision, as a pure function: a request, the time and read-only lookups in;
//!   the writes to commit, the doors to move and the answer out. One file per request kind:
//!   `gate/present.rs` (who may enter), `gate/lockdown.rs`, `gate/revocation_list.rs`,
//!   `gate/command.rs` (the dashboard's signed commands), `gate/ack.rs`, `gate/status.rs`;
//!   beside them `gate/clock_floor.rs` (an operator's floor reset), `gate/denials.rs`
//!   (repeated denials counted, not logged one by one) and `gate/disk.rs` (the disk-low alarm).
//! - `core`: the gate's driver, on its own thread: reads the clock, the sync flag and the free
//!   disk space, applies the gate's writes, commits once per burst, then moves relays and
//!   answers (typed [`DecisionReply`] and errors).
//! - `store`: redb, one file per thing stored: `store/log.rs` (the hash-chained entry log),
//!   `store/outbox.rs`, `store/revocations.rs`, `store/proofs.rs` (device-proof counters),
//!   `store/commands.rs` (command replay state), `store/lockdowns.rs`,
//!   `store/quarantine.rs` (a damaged store moved aside); opening (with the repaired copy the
//!   read-only tools read after a crash, and `repair`), transactions and the clock floor in
//!   `store/mod.rs`.
//! - `door`: a door at run time: the firmware controller on pins, in a task.
//! - `hardware`: rppal and simulated pins behind one type.
//! - `reader`: line-based readers (USB QR scanners in serial mode, pipes).
//! - `socket`: the local JSON-lines control socket (`present`, status, simulation), with its
//!   typed errors.
//! - `metrics`: Prometheus's `GET /metrics` on a local port, off unless configured:
//!   `metrics/decisions.rs` (counters), `metrics/page.rs` (the text format, pure),
//!   `metrics/http.rs` (a bounded HTTP/1.1 responder).
//! - `daemon`: `run`, which starts and stops all of the above.
//! - `logview`: the entry log for people and as JSON.
//! - `uplink`: MQTT: signed event batches out until acked, commands, acks and revocations in.
//!
//! The `[mqtt]` settings, the MQTT client options, the event-loop poller and the key file
//! (the gateway's own Ed25519 key) come from `bygd-link`, which the dashboard shares.

mod clock;
mod config;
mod core;
mod daemon;
mod door;
mod gate;
mod hardware;
mod logview;
mod metrics;
mod reader;
mod socket;
mod store;
mod uplink;

pub use clock::Clock;
pub use config::{Config, ConfigError, DoorConfig, HardwareBackend, MetricsConfig};
pub use core::DecisionReply;
pub use daemon::{run, RunOptions};
#[doc(hidden)]
pub use gate::bench as decision_bench;
pub use hardware::SimDoor;
pub use logview::{event_json, event_line};
pub use socket::{request, Request, SimAction};
pub use store::{RepairReport, Store, StoreError};
