//! Sessions, accounts, API tokens, the audit trail, health and the API's own description.

use super::auth::{credential, Caller};
use super::error::AppError;
use super::ApiPath as Path;
use super::{ApiJson, ApiQuery, OPENAPI};
use crate::access::{Role, Scope, Sites};
use crate::service::Dashboard;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// How many audit-trail rows one request returns at most.
const MAX_TRAIL: i64 = 1000;

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub(crate) async fn health(State(d): State<Dashboard>) -> Response {
    let database = sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&d.db.pool)
        .await
        .is_ok();
    let mqtt = d.link_up.load(std::sync::atomic::Ordering::Relaxed);
    // A dashboard serving with a broker configured is not healthy without its link: no
    // entry comes in and no revocation goes out. (One serving the API alone has no link.)
    let link_expected = d.broker_url.is_some();
    let status = if database && (mqtt || !link_expected) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "database": database, "mqtt_connected": mqtt })),
    )
        .into_response()
}

/// `GET /metrics`: Prometheus's text format (scope `gateways:read`; a scraper sends an API
/// token as its bearer credential).
pub(crate) async fn metrics(
    State(d): State<Dashboard>,
    super::auth::Caller(who): super::auth::Caller,
) -> Result<Response, AppError> {
    let text = d.metrics(&who).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    name: String,
    password: String,
}

/// The client's address: the TCP peer `serve` records, or what a trusted proxy says in
/// `X-Forwarded-For` (see `throttle`). `None` only when the app runs without `serve`, as in
/// tests that call it directly.
pub(crate) fn client_address(d: &Dashboard, parts: &Parts) -> Option<std::net::IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    d.logins.client(peer, forwarded)
}

pub(crate) async fn login(
    State(d): State<Dashboard>,
    parts: Parts,
    ApiJson(req): ApiJson<Login>,
) -> Result<Response, AppError> {
    let client = client_address(&d, &parts);
    let (session, who) = d
        .accounts()
        .login_from(&req.name, &req.password, client)
        .await?;
    let cookie = super::auth::session_cookie(&d, Some(&session));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({
            "token": session,
            "actor": who.actor,
            "scopes": who.scopes.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "sites": who.sites.to_string(),
        })),
    )
        .into_response())
}

pub(crate) async fn logout(State(d): State<Dashboard>, parts: Parts) -> Result<Response, AppError> {
    if let Some(session) = credential(&parts) {
        d.accounts().logout(&session).await?;
    }
    let cookie = super::auth::session_cookie(&d, None);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Language {
    language: String,
}

/// `PUT /api/v1/session/language`: the web UI's language for the signed-in account.
pub(crate) async fn set_language(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<Language>,
) -> Result<Json<Value>, AppError> {
    d.accounts().set_language(&who, &body.language).await?;
    Ok(Json(json!({ "language": body.language })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAccount {
    name: String,
    role: String,
    #[serde(default = "all_sites")]
    sites: String,
    password: String,
}

fn all_sites() -> String {
    "*".to_owned()
}

pub(crate) async fn add_account(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<NewAccount>,
) -> Result<Response, AppError> {
    let role = Role::parse(&req.role).map_err(|e| AppError::invalid("role", e))?;
    let sites = Sites::parse(&req.sites).map_err(|e| AppError::invalid("sites", e))?;
    d.accounts()
        .add(&who, &req.name, role, &sites, &req.password)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": req.name, "role": role.name(), "sites": sites.to_string() })),
    )
        .into_response())
}

pub(crate) async fn list_accounts(
    State(d): State<Dashboard>,
    Caller(who): Caller,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "accounts": d.accounts().list(&who).await? })))
}

pub(crate) async fn account(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<Json<crate::account::AccountInfo>, AppError> {
    Ok(Json(d.accounts().get(&who, &name).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountChange {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    sites: Option<String>,
}

pub(crate) async fn update_account(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<AccountChange>,
) -> Result<Json<crate::account::AccountInfo>, AppError> {
    let role = req
        .role
        .as_deref()
        .map(Role::parse)
        .transpose()
        .map_err(|e| AppError::invalid("role", e))?;
    let sites = req
        .sites
        .as_deref()
        .map(Sites::parse)
        .transpose()
        .map_err(|e| AppError::invalid("sites", e))?;
    Ok(Json(
        d.accounts()
            .update(&who, &name, role, sites.as_ref())
            .await?,
    ))
}

pub(crate) async fn disable_account(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<Json<crate::account::AccountInfo>, AppError> {
    Ok(Json(d.accounts().disable(&who, &name).await?))
}

pub(crate) async fn enable_account(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<Json<crate::account::AccountInfo>, AppError> {
    Ok(Json(d.accounts().enable(&who, &name).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPassword {
    password: String,
}

pub(crate) async fn set_password(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<NewPassword>,
) -> Result<Json<crate::account::AccountInfo>, AppError> {
    Ok(Json(
        d.accounts()
            .set_password(&who, &name, &req.password)
            .await?,
    ))
}

pub(crate) async fn end_sessions(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, AppError> {
    let ended = d.accounts().end_sessions(&who, &name).await?;
    Ok(Json(json!({ "name": name, "sessions_ended": ended })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: String,
    scopes: Vec<String>,
    #[serde(default = "all_sites")]
    sites: String,
    /// RFC 3339, or a relative `+90d`.
    #[serde(default)]
    expires: Option<String>,
}

pub(crate) async fn create_token(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<Response, AppError> {
    let scopes = req
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(|e| AppError::invalid("scopes", e))?;
    let sites = Sites::parse(&req.sites).map_err(|e| AppError::invalid("sites", e))?;
    let expires = req
        .expires
        .as_deref()
        .map(|t| crate::timetext::parse_time(t, &jiff::tz::TimeZone::UTC, d.now()))
        .transpose()
        .map_err(|e| AppError::invalid("expires", e))?;
    let (token, id) = d
        .tokens()
        .create(&who, &req.name, &scopes, &sites, expires)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": token })),
    )
        .into_response())
}

pub(crate) async fn list_tokens(
    State(d): State<Dashboard>,
    Caller(who): Caller,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "tokens": d.tokens().list(&who).await? })))
}

pub(crate) async fn revoke_token(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    d.tokens().revoke(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrailQuery {
    #[serde(default)]
    limit: Option<i64>,
}

pub(crate) async fn trail(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<TrailQuery>,
) -> Result<Json<Value>, AppError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_TRAIL).contains(&limit) {
        return Err(AppError::invalid("limit", format!("1 to {MAX_TRAIL}")));
    }
    Ok(Json(json!({ "trail": d.trail(&who, limit).await? })))
}

/// `POST /api/v1/webhooks`: a subscription; its signing secret is in this answer only.
pub(crate) async fn create_webhook(
    State(d): State<Dashboard>,
    super::auth::Caller(who): super::auth::Caller,
    super::ApiJson(new): super::ApiJson<crate::webhook::NewWebhook>,
) -> Result<Response, AppError> {
    let created = d.webhooks().create(&who, &new).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/webhooks`.
pub(crate) async fn list_webhooks(
    State(d): State<Dashboard>,
    super::auth::Caller(who): super::auth::Caller,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "webhooks": d.webhooks().list(&who).await? })))
}

/// `GET /api/v1/webhooks/{id}`: with its pending and failed deliveries.
pub(crate) async fn webhook(
    State(d): State<Dashboard>,
    super::auth::Caller(who): super::auth::Caller,
    super::ApiPath(id): super::ApiPath<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.webhooks().get(&who, &id).await?)))
}

/// `DELETE /api/v1/webhooks/{id}`: nothing more is delivered to it.
pub(crate) async fn delete_webhook(
    State(d): State<Dashboard>,
    super::auth::Caller(who): super::auth::Caller,
    super::ApiPath(id): super::ApiPath<String>,
) -> Result<StatusCode, AppError> {
    d.webhooks().delete(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
