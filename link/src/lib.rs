//! What the gateway and the dashboard both need to talk MQTT: the `[mqtt]` settings, the
//! rumqttc client options built from them, the one task that polls rumqttc's event loop with
//! backoff, and the Ed25519 key files each side signs with.
//!
//! This crate holds no hardware and no storage (no GPIO, no redb, no firmware): the central
//! dashboard depends on it, and its binary must not carry the gateway's parts.
//!
//! # Layout
//! - `mqtt_config`: the broker's address, credentials and TLS files ([`MqttConfig`]).
//! - `client_options`: rumqttc's [`MqttOptions`](rumqttc::MqttOptions) from a [`MqttConfig`].
//! - `poller`: the task that owns rumqttc's event loop, reconnects with jittered backoff and
//!   forwards what it reads ([`spawn_poller`]).
//! - `keyfile`: an Ed25519 key in a file: 64 hex digits, owner-only.
//! - `sdnotify`: systemd's READY/WATCHDOG/STOPPING, for both services' `Type=notify` units.

mod client_options;
mod keyfile;
mod mqtt_config;
mod poller;
pub mod sdnotify;

pub use client_options::{client_options, OptionsError};
pub use keyfile::{generate as generate_key, read as read_key, KeyFileError};
pub use mqtt_config::{BrokerAddress, MqttConfig};
pub use poller::{spawn_poller, Backoff, LinkEvent};
