//! The overview: each site the operator sees, its gateways (online, last seen, revocation
//! list version and lag), each door's state, open alarms and the latest entries.
//!
//! It is live: the page opens a server-sent event stream (`/live/events`) that says only
//! "something changed" whenever an entry, a gateway status, an alarm or a command result is
//! stored; htmx then fetches the page's live part again (`/live/overview`), rendered for this
//! operator's sites. No data travels in the event (its data is the constant `changed`), so
//! nothing can leak across sites there.
//! Without JavaScript the page is the same, as of its loading.

use super::frame::{render, Me, OrPage, SiteTimes, WebError};
use super::i18n::Tr;
use crate::access::Scope;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use std::convert::Infallible;
use std::time::Duration;

/// How many of the latest entries the overview lists.
const LATEST_ENTRIES: i64 = 10;
/// How many open alarms the overview lists (the alarms page has them all).
const OPEN_ALARMS: i64 = 20;
/// The fewest milliseconds between two refreshes a live page is told of: a backlog of
/// batches after an outage is one refresh, not hundreds.
const LIVE_COALESCE: Duration = Duration::from_millis(300);

/// A door as the overview shows it.
pub(crate) struct DoorRow {
    pub(crate) id: String,
    /// The state's translation key.
    pub(crate) state_key: &'static str,
    /// Whether the state needs attention (forced, held open, lockdown).
    pub(crate) alert: bool,
}

/// A gateway as the overview shows it.
pub(crate) struct GatewayRow {
    pub(crate) site: String,
    pub(crate) id: String,
    pub(crate) online: bool,
    pub(crate) last_seen: String,
    pub(crate) list_version: String,
    pub(crate) lagging_since: Option<String>,
    pub(crate) doors: Vec<DoorRow>,
}

/// An alarm line.
pub(crate) struct AlarmRow {
    pub(crate) id: String,
    pub(crate) site: String,
    pub(crate) gateway: String,
    pub(crate) kind: String,
    pub(crate) door: String,
    pub(crate) last_at: String,
    pub(crate) count: u64,
}

/// An entry line.
pub(crate) struct EntryRow {
    pub(crate) time: String,
    pub(crate) site: String,
    pub(crate) door: String,
    pub(crate) member: String,
    pub(crate) outcome: String,
    pub(crate) granted: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    t: Tr,
    me: Me,
    live: Live,
}

#[derive(Template)]
#[template(path = "overview_live.html")]
struct Live {
    t: Tr,
    gateways: Vec<GatewayRow>,
    alarms: Vec<AlarmRow>,
    entries: Vec<EntryRow>,
    may_command: bool,
}

/// Every key [`door_state`] gives.
#[cfg(test)]
pub(crate) const DOOR_STATE_KEYS: [&str; 8] = [
    "door-forced",
    "door-held-open",
    "door-lockdown",
    "door-open",
    "door-released",
    "door-locked",
    "door-closed",
    "door-unknown",
];

/// A door's state as a translation key, and whether it needs attention.
pub(crate) fn door_state(door: &crate::gateway::DoorInfo) -> (&'static str, bool) {
    if door.forced_open == Some(true) {
        ("door-forced", true)
    } else if door.held_open == Some(true) {
        ("door-held-open", true)
    } else if door.lockdown == Some(true) {
        ("door-lockdown", true)
    } else if door.open == Some(true) {
        ("door-open", false)
    } else if door.released == Some(true) {
        ("door-released", false)
    } else if door.released == Some(false) {
        ("door-locked", false)
    } else if door.open == Some(false) {
        ("door-closed", false)
    } else {
        ("door-unknown", false)
    }
}

async fn live(d: &Dashboard, me: &Me) -> Result<Live, WebError> {
    let mut times = SiteTimes::new(d, &me.who);
    let mut gateways = Vec::new();
    if me.who.scopes.contains(&Scope::GatewaysRead) {
        for g in d.gateways().list(&me.who).await.or_page(me)? {
            let last_seen = match &g.last_seen {
                Some(t) => times.local(&g.site, t).await,
                None => me.t().get("never"),
            };
            let lagging_since = match &g.lagging_since {
                Some(t) => Some(times.local(&g.site, t).await),
                None => None,
            };
            let list_version = match (g.list_version, g.site_list_version) {
                (Some(have), Some(site)) => format!("{have} / {site}"),
                (None, Some(site)) => format!("– / {site}"),
                (Some(have), None) => have.to_string(),
                (None, None) => "–".to_owned(),
            };
            let doors = g
                .doors
                .iter()
                .map(|door| {
                    let (state_key, alert) = door_state(door);
                    DoorRow {
                        id: door.id.clone(),
                        state_key,
                        alert,
                    }
                })
                .collect();
            gateways.push(GatewayRow {
                site: g.site,
                id: g.id,
                online: g.online,
                last_seen,
                list_version,
                lagging_since,
                doors,
            });
        }
    }
    let mut alarms = Vec::new();
    if me.who.scopes.contains(&Scope::AlarmsRead) {
        for a in d
            .alarms()
            .list(&me.who, true, OPEN_ALARMS)
            .await
            .or_page(me)?
        {
            alarms.push(AlarmRow {
                last_at: times.local(&a.site, &a.last_at).await,
                id: a.id,
                site: a.site,
                gateway: a.gateway,
                kind: a.kind,
                door: a.door.unwrap_or_default(),
                count: a.count,
            });
        }
    }
    let mut entries = Vec::new();
    if me.who.scopes.contains(&Scope::EntriesRead) {
        let filter = crate::entry::EntryFilter {
            limit: Some(LATEST_ENTRIES),
            ..Default::default()
        };
        for e in d
            .entries()
            .audit(&me.who, &filter)
            .await
            .or_page(me)?
            .entries
        {
            let outcome = e.outcome.clone().unwrap_or_else(|| e.kind.clone());
            entries.push(EntryRow {
                time: times.local_unix(&e.site, e.unix_time).await,
                granted: outcome == "granted",
                site: e.site,
                door: e.door.unwrap_or_default(),
                member: e.member.unwrap_or_default(),
                outcome,
            });
        }
    }
    Ok(Live {
        t: me.t(),
        gateways,
        alarms,
        entries,
        may_command: me.who.scopes.contains(&Scope::CommandsWrite),
    })
}

/// `GET /`: the overview.
pub(crate) async fn page(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    let live = live(&d, &me).await?;
    Ok(render(&OverviewPage {
        t: me.t(),
        me,
        live,
    }))
}

/// `GET /live/overview`: the overview's live part alone, for htmx to swap in.
pub(crate) async fn fragment(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    Ok(render(&live(&d, &me).await?))
}

/// `GET /live/events`: a `change` event whenever something the overview shows may have
/// changed (at most one per [`LIVE_COALESCE`]), and a keep-alive comment every 15 seconds.
/// Signed-in operators only; the stream ends when the session's request does.
pub(crate) async fn events(
    State(d): State<Dashboard>,
    _me: Me,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = d.watch_changes();
    changes.mark_unchanged();
    // One at once: whatever changed between the page's rendering and this connection (or
    // while a dropped connection came back) is fetched now, not at the next change.
    let first =
        futures_util::stream::once(async { Ok(Event::default().event("change").data("changed")) });
    let stream = futures_util::stream::unfold(changes, |mut changes| async move {
        changes.changed().await.ok()?;
        tokio::time::sleep(LIVE_COALESCE).await;
        changes.mark_unchanged();
        // A constant word, never nothing: axum writes no `data:` line for empty data, and a
        // browser drops an event without one (the HTML standard's event-stream parsing), so
        // the page never heard of a change.
        Some((
            Ok(Event::default().event("change").data("changed")),
            changes,
        ))
    });
    use futures_util::StreamExt as _;
    Sse::new(first.chain(stream)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

impl IntoResponse for Live {
    fn into_response(self) -> Response {
        render(&self)
    }
}
