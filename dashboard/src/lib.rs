//! bygd's central service: ingests the gateways' signed event batches over MQTT, stores
//! them in SQL (SQLite embedded, or PostgreSQL), holds the issuer key that signs passes,
//! revocation lists, commands and acks, and serves the HTTP API and the operator CLI.
//!
//! # Layout
//! [`Dashboard`] is the shared state; each noun has a service borrowed from it, in its own
//! module: revoking a pass is [`Passes::revoke`], reached as `dashboard.passes().revoke(…)`.
//! - `service`: [`Dashboard`] (store, issuer key, publisher wake-up, login guard, clock), its
//!   services by noun, and the audit trail every write records itself in.
//! - `site`: [`SiteDirectory`] (`dashboard.sites()`): add, list and edit sites (name,
//!   address, time zone, members' default language); each site's time zone, which every page,
//!   CSV export, e-mail and gateway config uses. (Not [`Sites`], which is the site limit of
//!   a principal in `access`.)
//! - `member`: [`Members`] (`dashboard.members()`): add, get, list, revoke members.
//! - `pass`: [`Passes`] (`passes()`): issue (QR text, pass page link), get, list, revoke
//!   and renew passes; replacing a pass so that a new one takes over its link.
//! - `pass_link`: what a member does through the link: the pass page ([`PassPage`]),
//!   enrolling a phone's device key once, reporting a phone that cannot keep one.
//! - `mail`: pass links by e-mail: the durable outbox a pass's mail is queued in with its
//!   link, each pass's latest [`Delivery`], the message in the member's language, and the
//!   [`Mailer`] that `serve` runs to drain it through the `[smtp]` relay with retries.
//! - `gateway`: [`Gateways`] (`gateways()`): registering a gateway (and its site, if
//!   new), its doors, the config file it is installed with, listing gateways and state.
//! - `command`: [`Commands`] (`commands()`): unlock, lockdown, clock floor and time beacons to
//!   one gateway, their results, the queue the publisher drains.
//! - `entry`: [`Entries`] (`entries()`): the audit query over entries, paging and CSV.
//! - `alarm`: [`Alarms`] (`alarms()`): raise, clear and list integrity, door, clock and
//!   offline alarms.
//! - `account`: [`Accounts`] (`accounts()`): operator accounts, login and logout, sessions,
//!   and checking each request's credential.
//! - `token`: [`Tokens`] (`tokens()`): API tokens: create, list, revoke.
//! - `revocation`: [`RevocationLists`] (`revocation_lists()`): each site's signed list, signed
//!   in the same transaction as the revocation it carries.
//! - `revocation_lag`: [`RevocationLists::check_lag`]: freeze detection, gateways held on an
//!   old list.
//! - `ingest`: [`Dashboard::ingest_batch`]: a batch in, its events stored once, the head to ack
//!   out; statuses; checking a stored chain.
//! - `metrics`: Prometheus metrics (`GET /metrics`): ingest, gateways, alarms, mail.
//! - `webhook`: webhook subscriptions, deliveries queued with the change they report, and
//!   the signed, ordered, retried sender.
//! - `seal`: sealing secrets at rest under a key derived from the issuer key.
//! - `idempotency`: `Idempotency-Key` on the API's creating calls: the first answer again,
//!   sealed at rest.
//! - `access`: roles, scopes, site limits ([`Principal`]): who may call what.
//! - `clock`: [`Clock`], where every service reads the time: the system clock, or a manual
//!   one that tests move on.
//! - `throttle`: login throttling per address and account, the queue for password hashing.
//! - `error`: [`ServiceError`], what every service call returns on failure.
//! - `db`: the SQL pool and migrations (`migrations/`), one schema for both backends.
//! - `config`: `dashboard.toml` in the data directory.
//! - `files`: owner-only modes for the data directory, database, config and keys.
//! - `link`: the MQTT connection that moves all of the above.
//! - `home_assistant`: read-only MQTT discovery and states for Home Assistant, on a broker
//!   `[home_assistant]` names; its `discovery` builds the messages.
//! - `api`: the HTTP API ([`app`]) and the pass page, thin over the services.
//! - `web`: the web UI for operators and admins, in Swedish, Danish and English, over the
//!   same services.
//! - `qr`: QR codes as SVG, PNG and terminal text.
//! - `timetext`: times and schedules as operators type them.
//! - `serve`: `bygd serve`: the API and the link until shutdown.
//! - `cli`: the `bygd` commands, one module per command group (its `mod.rs` lists them).
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
mod clock;
mod command;
pub mod config;
mod db;
mod entry;
mod error;
mod files;
mod gateway;
mod home_assistant;
mod idempotency;
mod ingest;
mod link;
mod mail;
mod member;
mod metrics;
mod pass;
mod pass_link;
mod qr;
mod revocation;
mod revocation_lag;
mod seal;
mod serve;
mod service;
mod site;
mod throttle;
mod timetext;
mod token;
pub mod web;
mod webhook;

pub use access::{Principal, Role, Scope, Sites};
pub use account::{AccountInfo, Accounts};
pub use alarm::{AlarmInfo, Alarms};
pub use api::app;
pub use clock::Clock;
pub use command::{CommandInfo, CommandRequest, Commands};
pub use db::{Backend, Db, DbError};
pub use entry::{Entries, Entry, EntryFilter, EntryPage};
pub use error::{ServiceError, ServiceResult};
pub use gateway::{GatewayInfo, GatewaySetup, Gateways, NewGateway};
pub use home_assistant::{publish_to_home_assistant, HomeAssistantConfig, HomeAssistantError};
pub use ingest::{ChainReport, Ingested};
pub use link::LinkSettings;
pub use mail::{Delivery, DeliveryState, MailSetupError, Mailer, Round};
pub use member::{Members, NewMember};
pub use pass::{IssuePass, IssuedPass, PassInfo, Passes};
pub use pass_link::{PassPage, PassStatus, DEVICE_PROBLEMS};
pub use qr::{QrError, QrImage};
pub use revocation::RevocationLists;
pub use revocation_lag::LagReport;
pub use serve::{serve, serve_with_home_assistant};
pub use service::{Dashboard, Initialised};
pub use site::{NewSite, SiteChange, SiteDirectory, SiteInfo};
pub use throttle::LoginLimits;
pub use token::Tokens;
pub use webhook::sender::{Round as WebhookRound, WebhookSender};
pub use webhook::{CreatedWebhook, NewWebhook, WebhookInfo, Webhooks, EVENT_KINDS};
