//! bygd's central service: ingests the gateways' signed event batches over MQTT, stores
//! them in SQL (SQLite embedded, or PostgreSQL), holds the issuer key that signs passes,
//! revocation lists, commands and acks, and serves the HTTP API and the operator CLI.
//!
//! # Layout
//! - `config`: `dashboard.toml` in the data directory.
//! - `db`: the SQL pool and migrations (`migrations/`), one schema for both backends.
//! - `files`: owner-only modes for the data directory, database, config and keys.
//! - `service`: [`Dashboard`], the state every service shares, and the audit trail.
//! - `access`: roles, scopes, site limits ([`Principal`]).
//! - `account`: operator accounts, sessions, API tokens; admins managing accounts.
//! - `throttle`: login throttling per address and account, the queue for password hashing.
//! - `gateway`: sites, gateway registration, the gateway config it writes, gateway state.
//! - `member`, `pass`: members and their passes (QR text, links), revocation.
//! - `revocation`: the signed revocation list of each site.
//! - `revocation_lag`: freeze detection, gateways held on an old list.
//! - `command`: unlock, lockdown and time beacons to one gateway, and their results.
//! - `ingest`: a batch in, its events stored once, the head to ack out; statuses.
//! - `alarm`: integrity, door, clock and offline alarms.
//! - `entry`: the audit query, paging and CSV.
//! - `link`: the MQTT connection that moves all of the above.
//! - `api`: the HTTP API ([`app`]) and the pass page.
//! - `qr`: QR codes as SVG, PNG and terminal text.
//! - `timetext`: times and schedules as operators type them.
//! - `serve`: `bygd serve`: the API and the link until shutdown.
//! - `cli`: the `bygd` commands.
//!
//! The demo (a broker, this service and a gateway in one process) is the `bygd-demo` crate,
//! built on this one and the gateway's: `bygd` holds no embedded broker and nothing of the
//! gateway. MQTT settings, client options, the event-loop poller and key files come from
//! `bygd-link`, which the gateway shares.

// Rows come back from SQL as tuples, read once and turned into named structs at once.
#![allow(clippy::type_complexity)]

mod access;
mod account;
mod alarm;
pub mod api;
pub mod cli;
mod command;
pub mod config;
mod db;
mod entry;
mod error;
mod files;
mod gateway;
mod ingest;
mod link;
mod member;
mod pass;
mod qr;
mod revocation;
mod revocation_lag;
mod serve;
mod service;
mod throttle;
mod timetext;

pub use access::{Principal, Role, Scope, Sites};
pub use account::AccountInfo;
pub use alarm::AlarmInfo;
pub use api::app;
pub use command::{CommandInfo, CommandRequest};
pub use db::{Backend, Db, DbError};
pub use entry::{Entry, EntryFilter, EntryPage};
pub use error::{ServiceError, ServiceResult};
pub use gateway::{GatewayInfo, GatewaySetup, NewGateway};
pub use ingest::{ChainReport, Ingested};
pub use link::LinkSettings;
pub use member::NewMember;
pub use pass::{IssuePass, IssuedPass, PassInfo};
pub use qr::{QrError, QrImage};
pub use revocation_lag::LagReport;
pub use serve::serve;
pub use service::{Dashboard, Initialised};
pub use throttle::LoginLimits;
