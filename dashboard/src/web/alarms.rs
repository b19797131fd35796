//! Alarms: the list (open ones, or all), one alarm with the gateway's events around it (what
//! raised it is among them), and acknowledging it with a note.

use super::frame::{alarm_key, render, Me, OrPage, SiteTimes, WebError};
use super::i18n::Tr;
use super::members::form_pairs;
use crate::alarm::AlarmInfo;
use crate::entry::EntryFilter;
use crate::error::ServiceError;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The most alarms the list shows.
const LIST_LIMIT: i64 = 200;
/// Events shown around an alarm: from this long before it first happened to this long after
/// it last did.
const EVENT_WINDOW_SECONDS: i64 = 120;
/// The most events shown with an alarm.
const EVENTS_SHOWN: i64 = 50;

/// An alarm with its times in its site's zone.
pub(crate) struct AlarmLine {
    a: AlarmInfo,
    first: String,
    last: String,
    cleared: Option<String>,
}

#[derive(Template)]
#[template(path = "alarms.html")]
struct AlarmsPage {
    t: Tr,
    me: Me,
    alarms: Vec<AlarmLine>,
    open_only: bool,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    all: Option<String>,
}

async fn line(times: &mut SiteTimes<'_>, a: AlarmInfo) -> AlarmLine {
    let first = times.local(&a.site, &a.first_at).await;
    let last = times.local(&a.site, &a.last_at).await;
    let cleared = match &a.cleared_at {
        Some(t) => Some(times.local(&a.site, t).await),
        None => None,
    };
    AlarmLine {
        a,
        first,
        last,
        cleared,
    }
}

/// `GET /alarms` (`?all=1` for closed ones too).
pub(crate) async fn list(
    State(d): State<Dashboard>,
    me: Me,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let open_only = q.all.is_none();
    let mut times = SiteTimes::new(&d, &me.who);
    let mut alarms = Vec::new();
    for a in d
        .alarms()
        .list(&me.who, open_only, LIST_LIMIT)
        .await
        .or_page(&me)?
    {
        alarms.push(line(&mut times, a).await);
    }
    Ok(render(&AlarmsPage {
        t: me.t(),
        me,
        alarms,
        open_only,
    }))
}

/// An event of the gateway near the alarm.
pub(crate) struct EventLine {
    time: String,
    seq: u64,
    kind: String,
    door: String,
    member: String,
    outcome: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "alarm.html")]
struct AlarmPage {
    t: Tr,
    me: Me,
    alarm: AlarmLine,
    events: Vec<EventLine>,
    error: Option<String>,
}

async fn alarm_page(
    d: &Dashboard,
    me: Me,
    id: &str,
    error: Option<String>,
) -> Result<AlarmPage, WebError> {
    let a = d.alarms().get(&me.who, id).await.or_page(&me)?;
    let mut times = SiteTimes::new(d, &me.who);
    let mut events = Vec::new();
    if me.may("entries:read") {
        let at = |t: &str| t.parse::<jiff::Timestamp>().map_or(0, |t| t.as_second());
        let filter = EntryFilter {
            since: Some(at(&a.first_at) - EVENT_WINDOW_SECONDS),
            until: Some(at(&a.last_at) + EVENT_WINDOW_SECONDS),
            site: Some(a.site.clone()),
            gateway: Some(a.gateway.clone()),
            all_events: true,
            limit: Some(EVENTS_SHOWN),
            ..EntryFilter::default()
        };
        for e in d
            .entries()
            .audit(&me.who, &filter)
            .await
            .or_page(&me)?
            .entries
        {
            events.push(EventLine {
                time: times.local_unix(&e.site, e.unix_time).await,
                seq: e.seq,
                kind: e.kind,
                door: e.door.unwrap_or_default(),
                member: e.member.unwrap_or_default(),
                outcome: e.outcome.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
            });
        }
    }
    let alarm = line(&mut times, a).await;
    Ok(AlarmPage {
        t: me.t(),
        me,
        alarm,
        events,
        error,
    })
}

/// `GET /alarms/{id}`.
pub(crate) async fn show(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    Ok(render(&alarm_page(&d, me, &id, None).await?))
}

/// `POST /alarms/{id}/acknowledge` with `note`.
pub(crate) async fn acknowledge(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let note = form_pairs(&body)
        .into_iter()
        .find(|(k, _)| k == "note")
        .map(|(_, v)| v)
        .unwrap_or_default();
    match d.alarms().acknowledge(&me.who, &id, &note).await {
        Ok(_) => Ok(Redirect::to(&format!("/alarms/{id}")).into_response()),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            let page = alarm_page(&d, me, &id, Some(error)).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

/// For templates: the kind's translation key.
pub(crate) fn kind_key(kind: &str) -> &'static str {
    alarm_key(kind)
}
