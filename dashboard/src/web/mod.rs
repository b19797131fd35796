//! The web UI for operators and admins: server-rendered pages (askama templates, checked at
//! compile time) in Swedish, Danish and English, over the same services as `/api/v1`, so
//! that who may do what is decided in one place.
//!
//! Every form is a plain HTML form that works without JavaScript; htmx (vendored) only makes
//! the overview live through server-sent events and lets a command's fate show as it happens.
//!
//! # Layout
//! - `i18n`: languages, the Fluent files, choosing a request's language.
//! - `frame`: what every page has: the signed-in operator ([`Me`]), errors as pages, times
//!   in each site's zone.
//! - `security`: security headers and refusing cross-site requests (for the API too).
//! - `assets`: the embedded style sheet and scripts.
//! - `once`: forms that make a secret are sent once (a reload makes no second pass).
//! - one module per page group: `login` (sign in and out, language), `overview` (sites,
//!   gateways, doors, alarms, live), `members`, `passes`, `doors` (unlock, lockdown,
//!   a command's fate), `entries`, `alarms`, `admin`
//!   (accounts, sites, API tokens, gateways, the trail).

mod admin;
mod alarms;
mod assets;
mod doors;
mod entries;
pub(crate) mod frame;
pub mod i18n;
mod login;
mod members;
mod once;
mod overview;
mod passes;
pub(crate) mod security;

pub use frame::Me;
pub use i18n::{Lang, Tr};
pub use security::CONTENT_SECURITY_POLICY;

use crate::service::Dashboard;
use axum::routing::{get, post};
use axum::Router;

/// The UI's routes (merged into [`crate::app`]).
pub(crate) fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/", get(overview::page))
        .route("/live/overview", get(overview::fragment))
        .route("/live/events", get(overview::events))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/language", post(login::language))
        .route("/assets/{name}", get(assets::asset))
        .route("/members", get(members::list).post(members::add))
        .route("/members/new", get(members::new))
        .route("/members/{id}", get(members::show).post(members::change))
        .route(
            "/members/{id}/revoke",
            get(members::confirm_revoke).post(members::revoke),
        )
        .route(
            "/doors/{site}/{gateway}/{door}",
            get(doors::show).post(doors::command),
        )
        .route("/commands/{id}", get(doors::show_command))
        .route("/entries", get(entries::page))
        .route("/admin", get(admin::accounts))
        .route("/admin/accounts", post(admin::add_account))
        .route(
            "/admin/accounts/{name}",
            get(admin::account).post(admin::change_account),
        )
        .route("/admin/sites", get(admin::sites).post(admin::add_site))
        .route(
            "/admin/sites/{id}",
            get(admin::site).post(admin::change_site),
        )
        .route(
            "/admin/tokens",
            get(admin::tokens).post(admin::create_token),
        )
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route(
            "/admin/gateways",
            get(admin::gateways).post(admin::add_gateway),
        )
        .route(
            "/admin/gateways/{site}/{id}/config",
            get(admin::gateway_config),
        )
        .route("/admin/trail", get(admin::trail))
        .route("/alarms", get(alarms::list))
        .route("/alarms/{id}", get(alarms::show))
        .route("/alarms/{id}/acknowledge", post(alarms::acknowledge))
        .route("/passes", get(passes::list).post(passes::issue))
        .route("/passes/new", get(passes::new))
        .route("/passes/{id}", get(passes::show))
        .route(
            "/passes/{id}/revoke",
            get(passes::confirm_revoke).post(passes::revoke),
        )
        .route("/passes/{id}/renew", axum::routing::post(passes::renew))
        .route(
            "/passes/{id}/send",
            get(passes::confirm_send).post(passes::send),
        )
}
