//! Passes: the list, issuing one (doors, validity, a weekly schedule from presets such as
//! office hours), the issued pass with its QR code and link (shown once: only hashes of
//! them are kept), a pass's page with how its e-mail went, sending it a new link by e-mail,
//! and revoking it.

use super::frame::{render, urlencode, Me, OrPage, SiteTimes, WebError};
use super::i18n::Tr;
use super::members::{form_pairs, ConfirmPage};
use crate::error::ServiceError;
use crate::mail::DeliveryState;
use crate::pass::{IssuePass, PassInfo};
use crate::qr::QrImage;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Weekly schedule presets: the form's value, its translation key, and the schedule.
pub(crate) const SCHEDULE_PRESETS: [(&str, &str, &str); 4] = [
    ("always", "schedule-always", ""),
    ("office", "schedule-office", "mon-fri 07:00-18:00"),
    (
        "evenings-weekends",
        "schedule-evenings-weekends",
        "mon-fri 17:00-23:00; sat-sun 08:00-23:00",
    ),
    ("custom", "schedule-custom", ""),
];

/// The most passes the list shows.
const LIST_LIMIT: usize = 500;

#[derive(Template)]
#[template(path = "passes.html")]
struct PassesPage {
    t: Tr,
    me: Me,
    passes: Vec<(PassInfo, String)>,
    valid_only: bool,
    more: bool,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    all: Option<String>,
}

/// `GET /passes`: valid passes, newest first (`?all=1` for revoked and expired ones too).
pub(crate) async fn list(
    State(d): State<Dashboard>,
    me: Me,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let valid_only = q.all.is_none();
    let mut all = d
        .passes()
        .list(&me.who, None, valid_only)
        .await
        .or_page(&me)?;
    let more = all.len() > LIST_LIMIT;
    all.truncate(LIST_LIMIT);
    let mut times = SiteTimes::new(&d, &me.who);
    let mut passes = Vec::with_capacity(all.len());
    for p in all {
        let until = times.local(&p.site, &p.valid_until).await;
        passes.push((p, until));
    }
    Ok(render(&PassesPage {
        t: me.t(),
        me,
        passes,
        valid_only,
        more,
    }))
}

/// A site and its doors, for the form.
pub(crate) struct SiteDoors {
    pub(crate) site: String,
    pub(crate) doors: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct PassForm {
    member: String,
    site: String,
    doors: Vec<String>,
    from: String,
    until: String,
    preset: String,
    schedule: String,
    kind: String,
    /// Whether to e-mail the link to the member.
    email: bool,
    form_id: String,
}

impl PassForm {
    fn has_door(&self, site: &str, door: &str) -> bool {
        self.doors.iter().any(|d| d == &format!("{site}/{door}"))
    }
}

#[derive(Template)]
#[template(path = "pass_new.html")]
struct NewPassPage {
    t: Tr,
    me: Me,
    sites: Vec<SiteDoors>,
    presets: Vec<(&'static str, &'static str)>,
    form: PassForm,
    error: Option<String>,
    form_id: String,
}

async fn site_doors(d: &Dashboard, me: &Me) -> Result<Vec<SiteDoors>, WebError> {
    let mut sites: Vec<SiteDoors> = Vec::new();
    for g in d.gateways().list(&me.who).await.or_page(me)? {
        let doors = g.doors.into_iter().map(|door| door.id);
        match sites.iter_mut().find(|s| s.site == g.site) {
            Some(s) => s.doors.extend(doors),
            None => sites.push(SiteDoors {
                site: g.site,
                doors: doors.collect(),
            }),
        }
    }
    Ok(sites)
}

fn new_page(me: Me, sites: Vec<SiteDoors>, form: PassForm, error: Option<String>) -> NewPassPage {
    NewPassPage {
        t: me.t(),
        me,
        sites,
        presets: SCHEDULE_PRESETS.iter().map(|(v, k, _)| (*v, *k)).collect(),
        form,
        error,
        form_id: super::once::new_form_id(),
    }
}

#[derive(Deserialize)]
pub(crate) struct NewQuery {
    member: Option<String>,
}

/// `GET /passes/new?member=`.
pub(crate) async fn new(
    State(d): State<Dashboard>,
    me: Me,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    let sites = site_doors(&d, &me).await?;
    let form = PassForm {
        member: q.member.unwrap_or_default(),
        site: sites
            .first()
            .filter(|_| sites.len() == 1)
            .map(|s| s.site.clone())
            .unwrap_or_default(),
        preset: "always".to_owned(),
        kind: "member".to_owned(),
        ..PassForm::default()
    };
    Ok(render(&new_page(me, sites, form, None)))
}

fn parse_pass_form(body: &[u8]) -> PassForm {
    let mut form = PassForm::default();
    for (key, value) in form_pairs(body) {
        let value = value.trim().to_owned();
        match key.as_str() {
            "member" => form.member = value,
            "site" => form.site = value,
            "door" => form.doors.push(value),
            "from" => form.from = value,
            "until" => form.until = value,
            "preset" => form.preset = value,
            "schedule" => form.schedule = value,
            "kind" => form.kind = value,
            "email" => form.email = !value.is_empty(),
            "form_id" => form.form_id = value,
            _ => {}
        }
    }
    form
}

/// The request a form makes, read in the site's zone: a date-only end is the end of that day.
/// A form's date or time in site time (`None` when empty); a date alone as an end means
/// through that whole day, to the next one's start.
fn form_time(
    zone: &jiff::tz::TimeZone,
    now: i64,
    field: &str,
    text: &str,
    end_of_day: bool,
) -> Result<Option<i64>, ServiceError> {
    if text.is_empty() {
        return Ok(None);
    }
    let text = match (end_of_day, text.parse::<jiff::civil::Date>()) {
        (true, Ok(date)) => date
            .tomorrow()
            .map_err(|e| ServiceError::invalid(field, e.to_string()))?
            .to_string(),
        _ => text.to_owned(),
    };
    crate::timetext::parse_time(&text, zone, now)
        .map(Some)
        .map_err(|e| ServiceError::invalid(field, e))
}

async fn request(d: &Dashboard, me: &Me, form: &PassForm) -> Result<IssuePass, ServiceError> {
    let zone = d.sites().zone(&me.who, &form.site).await?;
    let now = d.now();
    let time =
        |field: &str, text: &str, end_of_day: bool| form_time(&zone, now, field, text, end_of_day);
    let schedule = match form.preset.as_str() {
        "custom" => Some(form.schedule.clone()).filter(|s| !s.is_empty()),
        preset => SCHEDULE_PRESETS
            .iter()
            .find(|(v, _, _)| *v == preset)
            .map(|(_, _, s)| (*s).to_owned())
            .filter(|s| !s.is_empty()),
    };
    // Doors come as `site/door`: one of another site would otherwise be dropped, and no
    // door left means every door, more than the operator chose.
    let prefix = format!("{}/", form.site);
    let mut doors = Vec::with_capacity(form.doors.len());
    for door in &form.doors {
        match door.strip_prefix(&prefix) {
            Some(door) => doors.push(door.to_owned()),
            None => {
                return Err(ServiceError::invalid(
                    "door",
                    format!(
                        "`{door}` is not at site `{}`; tick doors of the chosen site only",
                        form.site
                    ),
                ))
            }
        }
    }
    Ok(IssuePass {
        member: form.member.clone(),
        site: form.site.clone(),
        doors,
        from: time("from", &form.from, false)?,
        until: time("until", &form.until, true)?,
        schedule,
        kind: Some(form.kind.clone()).filter(|k| !k.is_empty()),
        email: form.email,
        ..IssuePass::default()
    })
}

#[derive(Template)]
#[template(path = "pass_issued.html")]
struct IssuedPage {
    t: Tr,
    me: Me,
    pass: PassInfo,
    until: String,
    link: String,
    qr_data_uri: Option<String>,
}

/// `POST /passes`: issues the pass and shows its QR code and link, this once.
pub(crate) async fn issue(
    State(d): State<Dashboard>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_pass_form(&body);
    if !super::once::spend(Some(&form.form_id)) {
        return Err(WebError::sent_twice(me.lang));
    }
    let issued = match request(&d, &me, &form).await {
        Ok(req) => d.passes().issue(&me.who, &req).await,
        Err(e) => Err(e),
    };
    let issued = match issued {
        Ok(issued) => issued,
        Err(
            e @ (ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::NotFound { .. }),
        ) => {
            let sites = site_doors(&d, &me).await?;
            let error = super::frame::form_error(me.t(), &e);
            let page = new_page(me, sites, form, Some(error));
            return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
        }
        Err(e) => return Err(WebError::new(e, me.lang)),
    };
    // The pass itself, as the door's scanner reads it (printable); the link is for the phone.
    let qr = issued
        .qr_text
        .as_deref()
        .map(QrImage::new)
        .transpose()
        .map_err(|e| WebError::new(ServiceError::Internal(e.to_string()), me.lang))?;
    let until = SiteTimes::new(&d, &me.who)
        .local(&issued.pass.site, &issued.pass.valid_until)
        .await;
    let page = IssuedPage {
        t: me.t(),
        me,
        pass: issued.pass,
        until,
        link: issued.page_url,
        qr_data_uri: qr.map(|qr| format!("data:image/svg+xml,{}", urlencode(&qr.svg()))),
    };
    // The link is a credential: never cached, never sent on as a referrer.
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        render(&page),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "pass.html")]
struct PassPage {
    t: Tr,
    me: Me,
    pass: PassInfo,
    from: String,
    until: String,
    issued: String,
    revoked: Option<String>,
    /// The latest e-mail: its badge class and what it says.
    mail: Option<(&'static str, String)>,
}

/// `GET /passes/{id}`.
pub(crate) async fn show(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let pass = d.passes().get(&me.who, &id).await.or_page(&me)?;
    let mut times = SiteTimes::new(&d, &me.who);
    let from = times.local(&pass.site, &pass.valid_from).await;
    let until = times.local(&pass.site, &pass.valid_until).await;
    let issued = times.local(&pass.site, &pass.issued_at).await;
    let revoked = match &pass.revoked_at {
        Some(t) => Some(times.local(&pass.site, t).await),
        None => None,
    };
    let t = me.t();
    let mail = match &pass.delivery {
        Some(d) => {
            let at = match d.sent_at.as_ref().or(d.next_try_at.as_ref()) {
                Some(at) => times.local(&pass.site, at).await,
                None => String::new(),
            };
            let to = ("to", &d.to as &dyn std::fmt::Display);
            Some(match d.state {
                DeliveryState::Queued => ("", t.with("pass-delivery-queued", "to", &d.to)),
                DeliveryState::Sent => ("ok", t.with2("pass-delivery-sent", to, ("at", &at))),
                DeliveryState::Failed => ("bad", t.with2("pass-delivery-failed", to, ("at", &at))),
                DeliveryState::GaveUp => (
                    "bad",
                    t.with2("pass-delivery-gave-up", to, ("attempts", &d.attempts)),
                ),
            })
        }
        None => None,
    };
    Ok(render(&PassPage {
        t: me.t(),
        me,
        pass,
        from,
        until,
        issued,
        revoked,
        mail,
    }))
}

/// `GET /passes/{id}/revoke`: are you sure?
pub(crate) async fn confirm_revoke(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    confirm(&d, me, &id, "revoke", true).await
}

/// The page asking "are you sure?" before `POST /passes/{id}/{what}` (`pass-{what}` names
/// the button, `pass-{what}-question` asks about the member).
async fn confirm(
    d: &Dashboard,
    me: Me,
    id: &str,
    what: &str,
    danger: bool,
) -> Result<Response, WebError> {
    let pass = d.passes().get(&me.who, id).await.or_page(&me)?;
    let t = me.t();
    let button = t.get(&format!("pass-{what}"));
    Ok(render(&ConfirmPage {
        t,
        title: button.clone(),
        question: t.with(&format!("pass-{what}-question"), "member", &pass.member),
        action: format!("/passes/{id}/{what}"),
        confirm: button,
        back: format!("/passes/{id}"),
        danger,
        me,
    }))
}

/// `POST /passes/{id}/renew`: a new pass until the form's date (site time) takes over the
/// member's link; shows the new pass.
pub(crate) async fn renew(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = super::members::form_pairs(&body);
    let until = fields
        .iter()
        .find(|(k, _)| k == "until")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let pass = d.passes().get(&me.who, &id).await.or_page(&me)?;
    let zone = d.sites().zone(&me.who, &pass.site).await.or_page(&me)?;
    let until = form_time(&zone, d.now(), "until", until.trim(), true)
        .and_then(|t| t.ok_or_else(|| ServiceError::invalid("until", "give a date")))
        .or_page(&me)?;
    let renewed = d.passes().renew(&me.who, &id, until).await.or_page(&me)?;
    Ok(Redirect::to(&format!("/passes/{}", renewed.id)).into_response())
}

/// `GET /passes/{id}/send`: are you sure? (The old link stops working.)
pub(crate) async fn confirm_send(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    confirm(&d, me, &id, "send", false).await
}

/// `POST /passes/{id}/send`: a new link, queued by e-mail; the pass page shows how it goes.
pub(crate) async fn send(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    d.passes().send_link(&me.who, &id).await.or_page(&me)?;
    Ok(Redirect::to(&format!("/passes/{id}")).into_response())
}

/// `POST /passes/{id}/revoke`.
pub(crate) async fn revoke(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    d.passes().revoke(&me.who, &id).await.or_page(&me)?;
    Ok(Redirect::to(&format!("/passes/{id}")).into_response())
}
