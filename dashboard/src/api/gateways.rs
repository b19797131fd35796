//! The entry log, gateways and their doors, alarms, and commands to doors.

use super::auth::Caller;
use super::error::AppError;
use super::ApiPath as Path;
use super::{ApiJson, ApiQuery};
use crate::command::{CommandRequest, DEFAULT_UNLOCK_SECONDS};
use crate::entry::{csv_line, EntryFilter, CSV_HEADER, MAX_PAGE};
use crate::service::Dashboard;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// The longest a command request waits for the gateway's result.
const MAX_WAIT_SECONDS: u64 = 30;
/// Alarms listed at most.
const MAX_ALARMS: i64 = 1000;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryQuery {
    #[serde(default)]
    pub(crate) since: Option<String>,
    #[serde(default)]
    pub(crate) until: Option<String>,
    #[serde(default)]
    pub(crate) site: Option<String>,
    /// `site/gateway` or `gateway`.
    #[serde(default)]
    pub(crate) gateway: Option<String>,
    #[serde(default)]
    pub(crate) door: Option<String>,
    #[serde(default)]
    pub(crate) member: Option<String>,
    #[serde(default)]
    pub(crate) outcome: Option<String>,
    /// Every event, not only entries.
    #[serde(default)]
    pub(crate) all: Option<bool>,
    #[serde(default)]
    pub(crate) limit: Option<i64>,
    #[serde(default)]
    pub(crate) cursor: Option<String>,
}

pub(crate) async fn filter(
    d: &Dashboard,
    who: &crate::access::Principal,
    q: EntryQuery,
) -> Result<EntryFilter, AppError> {
    who.require(crate::access::Scope::EntriesRead)
        .map_err(crate::error::ServiceError::from)?;
    // Local dates are read in the site's zone when one site is asked for, else in UTC.
    let zone = match &q.site {
        Some(site) => d.sites().zone(who, site).await?,
        None => jiff::tz::TimeZone::UTC,
    };
    let now = d.now();
    let time = |field: &str, text: &Option<String>| {
        crate::timetext::parse_field(field, text.as_deref(), &zone, now)
            .map_err(|(field, e)| AppError::invalid(&field, e))
    };
    let (site, gateway) = match q.gateway {
        Some(name) => {
            let (site, gateway) = d.gateways().resolve(who, &name).await?;
            (Some(site), Some(gateway))
        }
        None => (q.site, None),
    };
    Ok(EntryFilter {
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
        site,
        gateway,
        door: q.door,
        member: q.member,
        outcome: q.outcome,
        all_events: q.all.unwrap_or(false),
        limit: q.limit,
        cursor: q.cursor,
    })
}

pub(crate) async fn entries(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> Result<Json<Value>, AppError> {
    let filter = filter(&d, &who, q).await?;
    Ok(Json(json!(d.entries().audit(&who, &filter).await?)))
}

/// Every matching entry as CSV, streamed a page at a time (an export of millions of rows
/// never sits in memory whole).
pub(crate) async fn entries_csv(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> Result<Response, AppError> {
    let mut filter = filter(&d, &who, q).await?;
    filter.limit = Some(MAX_PAGE);
    filter.cursor = None;
    // The first page runs now, so a bad filter is a clean error rather than a broken stream.
    let first = d.entries().audit(&who, &filter).await?;
    let zones = std::sync::Arc::new(d.sites().zones().await?);
    let state = (d, who, filter, Some(first), true);
    let stream = futures_util::stream::unfold(state, move |(d, who, mut filter, page, header)| {
        let zones = zones.clone();
        async move {
            let page = match page {
                Some(page) => page,
                None => match d.entries().audit(&who, &filter).await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::error!(error = %e, "CSV export stopped");
                        return Some((
                            Err(std::io::Error::other("export failed")),
                            (d, who, filter, None, false),
                        ));
                    }
                },
            };
            let mut text = String::new();
            if header {
                text.push_str(CSV_HEADER);
            }
            for e in &page.entries {
                text.push_str(&csv_line(e, &zones));
            }
            if text.is_empty() {
                return None;
            }
            let next = match page.next {
                Some(cursor) => {
                    filter.cursor = Some(cursor);
                    None
                }
                // An empty next page ends the stream.
                None => Some(crate::entry::EntryPage {
                    entries: Vec::new(),
                    next: None,
                }),
            };
            Some((Ok::<_, std::io::Error>(text), (d, who, filter, next, false)))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"bygd-entries.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewGatewayBody {
    site: String,
    id: String,
    public_key: String,
    doors: Vec<String>,
    #[serde(default)]
    time_zone: Option<String>,
}

/// `POST /api/v1/gateways`: registers a gateway (admins), as `bygd gateway add` and the web
/// UI's Admin → Gateways do.
pub(crate) async fn add_gateway(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewGatewayBody>,
) -> Result<Response, AppError> {
    let new = crate::gateway::NewGateway {
        site: body.site,
        id: body.id,
        public_key: body.public_key.trim().to_ascii_lowercase(),
        doors: body.doors,
        time_zone: body.time_zone,
    };
    d.gateways().register(&who, &new).await?;
    let info = d
        .gateways()
        .list(&who)
        .await?
        .into_iter()
        .find(|g| g.site == new.site && g.id == new.id)
        .ok_or_else(|| crate::error::ServiceError::not_found("gateway", new.id.clone()))?;
    Ok((StatusCode::CREATED, Json(json!(info))).into_response())
}

/// `GET /api/v1/gateways/{site}/{id}/config`: the gateway's config file (TOML), naming the
/// broker the dashboard's link uses.
pub(crate) async fn gateway_config(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path((site, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let text = d
        .gateways()
        .config(&who, &site, &id, d.broker_url.as_deref())
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"bygd-gateway-{site}-{id}.toml\""),
            ),
        ],
        text,
    )
        .into_response())
}

pub(crate) async fn list_gateways(
    State(d): State<Dashboard>,
    Caller(who): Caller,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({ "gateways": d.gateways().list(&who).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlarmQuery {
    /// Only alarms not cleared yet.
    #[serde(default)]
    open: Option<bool>,
    #[serde(default)]
    limit: Option<i64>,
}

pub(crate) async fn alarms(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<AlarmQuery>,
) -> Result<Json<Value>, AppError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_ALARMS).contains(&limit) {
        return Err(AppError::invalid("limit", format!("1 to {MAX_ALARMS}")));
    }
    Ok(Json(
        json!({ "alarms": d.alarms().list(&who, q.open.unwrap_or(false), limit).await? }),
    ))
}

pub(crate) async fn alarm(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(d.alarms().get(&who, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Acknowledge {
    /// Why it is acknowledged (what was done).
    #[serde(default)]
    note: String,
}

pub(crate) async fn acknowledge_alarm(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Acknowledge>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!(
        d.alarms().acknowledge(&who, &id, &body.note).await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommandBody {
    /// `site/gateway`, or `gateway` if only one site has it.
    gateway: String,
    /// `unlock`, `lockdown` or `clock_reset`.
    action: String,
    #[serde(default)]
    door: Option<String>,
    #[serde(default)]
    seconds: Option<u32>,
    #[serde(default)]
    on: Option<bool>,
    /// For `clock_reset`: the new clock floor (a `Time`, in the site's zone); now if absent.
    #[serde(default)]
    floor: Option<String>,
    /// Seconds to wait for the gateway's result before answering (0 to 30).
    #[serde(default)]
    wait: Option<u64>,
}

pub(crate) async fn send_command(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<CommandBody>,
) -> Result<Response, AppError> {
    who.require(crate::access::Scope::CommandsWrite)
        .map_err(crate::error::ServiceError::from)?;
    let request = match req.action.as_str() {
        "unlock" => CommandRequest::Unlock {
            door: req
                .door
                .ok_or_else(|| AppError::invalid("door", "unlock needs a door"))?,
            seconds: req.seconds.unwrap_or(DEFAULT_UNLOCK_SECONDS),
        },
        "lockdown" => CommandRequest::Lockdown {
            door: req.door,
            on: req
                .on
                .ok_or_else(|| AppError::invalid("on", "lockdown needs `on`: true or false"))?,
        },
        "clock_reset" => CommandRequest::ResetClockFloor { floor: None },
        other => {
            return Err(AppError::invalid(
                "action",
                format!("`{other}`: use unlock, lockdown or clock_reset"),
            ))
        }
    };
    let wait = req.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(AppError::invalid(
            "wait",
            format!("0 to {MAX_WAIT_SECONDS} seconds"),
        ));
    }
    let (site, gateway) = d.gateways().resolve(&who, &req.gateway).await?;
    let request = match (request, req.floor) {
        (CommandRequest::ResetClockFloor { .. }, Some(text)) => {
            let zone = d.sites().zone(&who, &site).await?;
            let floor = crate::timetext::parse_time(&text, &zone, d.now())
                .map_err(|e| AppError::invalid("floor", e))?;
            CommandRequest::ResetClockFloor { floor: Some(floor) }
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "floor",
                "only a clock_reset takes a floor",
            ))
        }
        (request, None) => request,
    };
    let mut info = d.commands().send(&who, &site, &gateway, &request).await?;
    if wait > 0 {
        info = d
            .commands()
            .wait_for_result(&who, &info.id, Duration::from_secs(wait))
            .await?;
    }
    Ok((StatusCode::ACCEPTED, Json(info)).into_response())
}

pub(crate) async fn list_commands(
    State(d): State<Dashboard>,
    Caller(who): Caller,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "commands": d.commands().list(&who, 100).await? }),
    ))
}

pub(crate) async fn command(
    State(d): State<Dashboard>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    who.require(crate::access::Scope::CommandsWrite)
        .map_err(crate::error::ServiceError::from)?;
    Ok(Json(json!(d.commands().get(&who, &id).await?)))
}
