//! Doors: a door's page with its state, unlocking it for some seconds and lockdown on or off,
//! each confirmed on a second page (so it works without JavaScript), then the command's page
//! showing its fate (queued, sent, done, refused) as it happens: htmx asks again every second
//! until the gateway has answered or the command has expired.

use super::frame::{render, Me, OrPage, SiteTimes, WebError};
use super::i18n::Tr;
use super::members::{field, form_pairs};
use crate::command::{CommandInfo, CommandRequest};
use crate::error::ServiceError;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

/// Unlock durations the door page offers, in seconds.
const UNLOCK_CHOICES: [u32; 5] = [5, 10, 30, 60, 300];

#[derive(Template)]
#[template(path = "door.html")]
struct DoorPage {
    t: Tr,
    me: Me,
    site: String,
    gateway: String,
    door: String,
    state_key: &'static str,
    online: bool,
    choices: [u32; 5],
    recent: Vec<(CommandInfo, String)>,
}

/// `GET /doors/{site}/{gateway}/{door}`.
pub(crate) async fn show(
    State(d): State<Dashboard>,
    me: Me,
    Path((site, gateway, door)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let g = d
        .gateways()
        .list(&me.who)
        .await
        .or_page(&me)?
        .into_iter()
        .find(|g| g.site == site && g.id == gateway)
        .ok_or_else(|| {
            WebError::new(
                ServiceError::not_found("gateway", format!("{site}/{gateway}")),
                me.lang,
            )
        })?;
    let info = g.doors.iter().find(|x| x.id == door).ok_or_else(|| {
        WebError::new(
            ServiceError::not_found("door", format!("{site}/{gateway}/{door}")),
            me.lang,
        )
    })?;
    let (state_key, _) = super::overview::door_state(info);
    let mut times = SiteTimes::new(&d, &me.who);
    let mut recent = Vec::new();
    if me.may("commands:write") {
        for c in d.commands().list(&me.who, 500).await.or_page(&me)? {
            if c.site == site && c.gateway == gateway && c.door.as_deref().is_none_or(|x| x == door)
            {
                let at = times.local(&c.site, &c.issued_at).await;
                recent.push((c, at));
            }
            if recent.len() >= 10 {
                break;
            }
        }
    }
    Ok(render(&DoorPage {
        t: me.t(),
        me,
        site,
        gateway,
        door,
        state_key,
        online: g.online,
        choices: UNLOCK_CHOICES,
        recent,
    }))
}

#[derive(Template)]
#[template(path = "door_confirm.html")]
struct ConfirmCommand {
    t: Tr,
    me: Me,
    action: String,
    question: String,
    button: String,
    fields: Vec<(String, String)>,
    back: String,
    danger: bool,
}

/// `POST /doors/{site}/{gateway}/{door}`: `what=unlock&seconds=N`, `what=lockdown-on`,
/// `what=lockdown-off`, or `what=lockdown-all-on` / `-off` for every door of the gateway.
/// Without `confirmed=yes` it asks first; with it, it sends the command and shows its page.
pub(crate) async fn command(
    State(d): State<Dashboard>,
    me: Me,
    Path((site, gateway, door)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    let what = field(&fields, "what");
    let t = me.t();
    let (request, question, button, danger) = match what.as_str() {
        "unlock" => {
            let seconds: u32 = field(&fields, "seconds").parse().unwrap_or(5);
            (
                CommandRequest::Unlock {
                    door: door.clone(),
                    seconds,
                },
                t.with2(
                    "door-unlock-question",
                    ("door", &door),
                    ("seconds", &seconds),
                ),
                t.get("door-unlock-yes"),
                false,
            )
        }
        what @ ("lockdown-on" | "lockdown-off" | "lockdown-all-on" | "lockdown-all-off") => {
            let on = what.ends_with("-on");
            let all = what.contains("-all-");
            let key = match (on, all) {
                (true, false) => "door-lockdown-on-question",
                (false, false) => "door-lockdown-off-question",
                (true, true) => "gateway-lockdown-on-question",
                (false, true) => "gateway-lockdown-off-question",
            };
            (
                CommandRequest::Lockdown {
                    door: (!all).then(|| door.clone()),
                    on,
                },
                t.with2(key, ("door", &door), ("gateway", &gateway)),
                t.get(if on {
                    "door-lockdown-on"
                } else {
                    "door-lockdown-off"
                }),
                on,
            )
        }
        _ => {
            return Err(WebError::new(
                ServiceError::invalid("what", "unlock, lockdown-on or lockdown-off"),
                me.lang,
            ))
        }
    };
    let back = format!("/doors/{site}/{gateway}/{door}");
    if field(&fields, "confirmed") != "yes" {
        let mut hidden: Vec<(String, String)> = fields
            .iter()
            .filter(|(k, _)| k == "what" || k == "seconds")
            .cloned()
            .collect();
        hidden.push(("confirmed".to_owned(), "yes".to_owned()));
        return Ok(render(&ConfirmCommand {
            t,
            me,
            action: back.clone(),
            question,
            button,
            fields: hidden,
            back,
            danger,
        }));
    }
    let sent = d
        .commands()
        .send(&me.who, &site, &gateway, &request)
        .await
        .or_page(&me)?;
    Ok(Redirect::to(&format!("/commands/{}", sent.id)).into_response())
}

#[derive(Template)]
#[template(path = "command.html")]
struct CommandPage {
    t: Tr,
    me: Me,
    c: CommandInfo,
    issued: String,
    pending: bool,
}

#[derive(Template)]
#[template(path = "command_status.html")]
struct CommandStatus {
    t: Tr,
    c: CommandInfo,
    pending: bool,
}

/// The translation key of a command's status.
pub(crate) fn status_key(status: &str) -> &'static str {
    match status {
        "queued" => "command-queued",
        "sent" => "command-sent",
        "done" => "command-done",
        "refused" => "command-refused",
        "not_sent" => "command-not-sent",
        "no_result" => "command-no-result",
        _ => "command-unknown",
    }
}

/// `GET /commands/{id}`: the command and its fate; with `HX-Request` only the status part.
pub(crate) async fn show_command(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let c = d.commands().get(&me.who, &id).await.or_page(&me)?;
    let pending = matches!(c.status.as_str(), "queued" | "sent");
    if headers.contains_key("hx-request") {
        return Ok(render(&CommandStatus {
            t: me.t(),
            c,
            pending,
        }));
    }
    let issued = SiteTimes::new(&d, &me.who)
        .local(&c.site, &c.issued_at)
        .await;
    Ok(render(&CommandPage {
        t: me.t(),
        me,
        c,
        issued,
        pending,
    }))
}
