//! The bygd gateway daemon: decides locally whether a pass opens a door, logs every decision
//! durably, and drives the doors of a Raspberry Pi (or simulated ones), with no network.
//!
//! # Layout
//! - `config`: the TOML config, checked as a whole ([`Config`]).
//! - `clock`: the clock floor that never moves backwards (except by an operator's reset) and
//!   never runs ahead of a clock nothing vouches for.
//! - `store`: redb: the hash-chained log, the outbox, revocations, proof counters, lockdowns.
//! - `core`: the one thread that decides and writes, one commit per burst.
//! - `door`: a door at run time: the firmware controller on pins, in a task.
//! - `hardware`: rppal and simulated pins behind one type.
//! - `reader`: line-based readers (USB QR scanners in serial mode, pipes).
//! - `socket`: the local JSON-lines control socket (`present`, status, simulation).
//! - `daemon`: `run`, which starts and stops all of the above.
//! - `sdnotify`: systemd's READY/WATCHDOG/STOPPING.
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
mod hardware;
mod logview;
mod reader;
mod sdnotify;
mod socket;
mod store;
mod uplink;

pub use clock::Clock;
pub use config::{Config, ConfigError, DoorConfig, HardwareBackend};
pub use core::DecisionReply;
pub use daemon::{run, RunOptions};
pub use hardware::SimDoor;
pub use logview::{event_json, event_line};
pub use socket::{request, Request, SimAction};
pub use store::{Store, StoreError};
