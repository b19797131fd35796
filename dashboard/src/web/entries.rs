//! Entries: who came in where and who was refused, filtered by site, door, member, outcome
//! and dates (read in the site's time zone), a page at a time, and the same filter as a CSV
//! export whose times carry the site's zone.

use super::frame::{render, urlencode, Me, SiteTimes, WebError};
use super::i18n::Tr;
use crate::api::gateways::{filter, EntryQuery};
use crate::error::ServiceError;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

/// Entries on one page.
const PAGE_SIZE: i64 = 50;

/// The filter form, as the page's query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EntriesForm {
    #[serde(default)]
    site: String,
    #[serde(default)]
    door: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

impl EntriesForm {
    /// The filter's query string (without the cursor), for the next page and the export.
    fn query(&self) -> String {
        [
            ("site", &self.site),
            ("door", &self.door),
            ("member", &self.member),
            ("outcome", &self.outcome),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The API's query for this form: a date-only `until` covers that whole day.
    fn api_query(&self, single_site: Option<&str>) -> EntryQuery {
        let text = |s: &String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        // A date alone as the end: through that whole day (the query's end is exclusive).
        let until = text(&self.until).map(|u| match u.parse::<jiff::civil::Date>() {
            Ok(date) => date.tomorrow().map_or(u, |next| next.to_string()),
            Err(_) => u,
        });
        EntryQuery {
            since: text(&self.since),
            until,
            // Dates are read in the chosen site's zone; one site seen is as good as chosen.
            site: text(&self.site).or_else(|| single_site.map(str::to_owned)),
            door: text(&self.door),
            member: text(&self.member),
            outcome: text(&self.outcome),
            limit: Some(PAGE_SIZE),
            cursor: text(&self.cursor),
            ..EntryQuery::default()
        }
    }
}

/// A line of the table.
pub(crate) struct Line {
    time: String,
    site: String,
    gateway: String,
    door: String,
    member: String,
    outcome: String,
    granted: bool,
    reason: String,
}

#[derive(Template)]
#[template(path = "entries.html")]
struct EntriesPage {
    t: Tr,
    me: Me,
    sites: Vec<String>,
    form: EntriesForm,
    lines: Vec<Line>,
    next: Option<String>,
    export: String,
    error: Option<String>,
}

/// `GET /entries`.
pub(crate) async fn page(
    State(d): State<Dashboard>,
    me: Me,
    Query(form): Query<EntriesForm>,
) -> Result<Response, WebError> {
    let sites = super::members::my_sites(&d, &me).await?;
    let single = (sites.len() == 1).then(|| sites[0].as_str());
    let query = form.query();
    let export = format!("/api/v1/entries.csv?{}", {
        let mut q = query.clone();
        if form.site.is_empty() {
            if let Some(site) = single {
                q = format!("site={site}&{q}");
            }
        }
        q
    });
    let result = match filter(&d, &me.who, form.api_query(single)).await {
        Ok(f) => d.entries().audit(&me.who, &f).await,
        Err(e) => Err(ServiceError::invalid("filter", e.message().to_owned())),
    };
    let (page, error) = match result {
        Ok(page) => (page, None),
        Err(e @ ServiceError::Invalid { .. }) => (
            crate::entry::EntryPage::default(),
            Some(super::frame::form_error(me.t(), &e)),
        ),
        Err(e) => return Err(WebError::new(e, me.lang)),
    };
    let mut times = SiteTimes::new(&d, &me.who);
    let mut lines = Vec::with_capacity(page.entries.len());
    for e in page.entries {
        let outcome = e.outcome.clone().unwrap_or_else(|| e.kind.clone());
        lines.push(Line {
            time: times.local_unix(&e.site, e.unix_time).await,
            granted: outcome == "granted",
            outcome,
            site: e.site,
            gateway: e.gateway,
            door: e.door.unwrap_or_default(),
            member: e.member.unwrap_or_default(),
            reason: e.reason.unwrap_or_default(),
        });
    }
    let next = page.next.map(|cursor| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/entries?{query}{sep}cursor={}", urlencode(&cursor))
    });
    Ok(render(&EntriesPage {
        t: me.t(),
        me,
        sites,
        form,
        lines,
        next,
        export,
        error,
    }))
}
