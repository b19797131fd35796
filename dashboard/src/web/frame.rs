//! What every page has: who is signed in ([`Me`]), in which language ([`Tr`]), and how a
//! failure becomes a page in that language ([`WebError`]).
//!
//! [`Me`] is an extractor: a request without a valid session is sent to the sign-in page
//! with the address it wanted, so that it comes back there after signing in. The session is
//! checked in full on every request by the same code as the API's ([`crate::Accounts`]).

use super::i18n::{Lang, Tr, LANG_COOKIE};
use crate::access::{Principal, Role, Scope};
use crate::api::auth::{cookie, credential};
use crate::error::ServiceError;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// The signed-in operator of a page request.
#[derive(Debug, Clone)]
pub struct Me {
    /// Who, as every service call wants it.
    pub who: Principal,
    /// The account name (a session always belongs to an account).
    pub name: String,
    /// The page's language.
    pub lang: Lang,
    /// The path asked for, for the language picker to come back to.
    pub path: String,
}

impl Me {
    /// The translator for this request.
    #[must_use]
    pub fn t(&self) -> Tr {
        Tr { lang: self.lang }
    }

    /// Whether `scope` is granted (pages hide what the operator may not do).
    #[must_use]
    pub fn may(&self, scope: &str) -> bool {
        Scope::parse(scope).is_ok_and(|s| self.who.scopes.contains(&s))
    }

    /// Admins see the admin pages.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.who.scopes.contains(&Scope::Admin)
    }
}

/// The language of a request from what it carries (cookie, then `Accept-Language`).
pub(crate) fn request_lang(parts: &Parts) -> Lang {
    asked_lang(parts).unwrap_or(Lang::En)
}

/// The language a request asks for (the picker's cookie, else `Accept-Language`), if it
/// names one of bygd's.
pub(crate) fn asked_lang(parts: &Parts) -> Option<Lang> {
    cookie(parts, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .or_else(|| {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
}

/// Where to send someone back to after signing in: only a path on this server.
pub(crate) fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control());
    if ok {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

impl FromRequestParts<Dashboard> for Me {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        dashboard: &Dashboard,
    ) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        let is_get = parts.method == axum::http::Method::GET;
        let htmx = parts.headers.contains_key("hx-request");
        let current = parts
            .headers
            .get("hx-current-url")
            .and_then(|v| v.to_str().ok())
            .and_then(|u| u.find("://").map(|at| &u[at + 3..]))
            .and_then(|u| u.find('/').map(|at| u[at..].to_owned()));
        let to_login = || {
            let next = match (&current, is_get) {
                (Some(page), _) if htmx => safe_next(page),
                (_, true) => path.clone(),
                _ => "/".to_owned(),
            };
            let login = format!("/login?next={}", urlencode(&next));
            if htmx {
                // A live part asking after the session ended: htmx loads the sign-in page
                // instead of swapping it into the part.
                (
                    axum::http::StatusCode::UNAUTHORIZED,
                    [("hx-redirect", login)],
                )
                    .into_response()
            } else {
                Redirect::to(&login).into_response()
            }
        };
        let Some(credential) = credential(parts) else {
            return Err(to_login());
        };
        let who = match dashboard.accounts().authenticate(&credential).await {
            Ok(who) => who,
            Err(ServiceError::Unauthenticated(_)) => return Err(to_login()),
            Err(e) => return Err(WebError::new(e, request_lang(parts)).into_response()),
        };
        let Some(name) = who.actor.strip_prefix("account:").map(str::to_owned) else {
            // An API token in a browser: the pages are for people who sign in.
            return Err(to_login());
        };
        let saved = dashboard
            .accounts()
            .language(&name)
            .await
            .ok()
            .flatten()
            .and_then(|l| Lang::parse(&l));
        let lang = saved.unwrap_or_else(|| request_lang(parts));
        Ok(Me {
            who,
            name,
            lang,
            // The language picker comes back here: a page a POST rendered goes home instead.
            path: if is_get && !htmx {
                path
            } else {
                "/".to_owned()
            },
        })
    }
}

/// `text` percent-encoded for a query value.
pub(crate) fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page that failed, shown in the request's language.
#[derive(Debug)]
pub(crate) struct WebError {
    status: StatusCode,
    title_key: &'static str,
    detail: String,
    lang: Lang,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: Tr,
    title: String,
    detail: &'a str,
}

impl WebError {
    /// The page for a service error.
    pub(crate) fn new(error: ServiceError, lang: Lang) -> Self {
        let (status, title_key) = match &error {
            ServiceError::Invalid { .. } => (StatusCode::BAD_REQUEST, "error-invalid"),
            ServiceError::NotFound { .. } => (StatusCode::NOT_FOUND, "error-not-found"),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "error-conflict"),
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "error-forbidden"),
            ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "error-signed-out"),
            ServiceError::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "error-throttled"),
            ServiceError::Db(_) | ServiceError::Internal(_) => {
                tracing::error!(error = %error, "page failed");
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title_key: "error-internal",
                    detail: String::new(),
                    lang,
                };
            }
        };
        Self {
            status,
            title_key,
            detail: error.to_string(),
            lang,
        }
    }

    /// A 409 for a form sent a second time (the page that showed its result was reloaded).
    pub(crate) fn sent_twice(lang: Lang) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            title_key: "error-sent-twice",
            detail: String::new(),
            lang,
        }
    }

    /// A 404 for an address the UI does not have.
    /// The page of a pass link that leads nowhere (mistyped, or replaced by a newer link).
    pub(crate) fn no_pass_link(lang: Lang) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title_key: "member-pass-no-link",
            detail: Tr { lang }.get("member-pass-no-link-detail"),
            lang,
        }
    }

    pub(crate) fn no_page(lang: Lang) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title_key: "error-no-page",
            detail: String::new(),
            lang,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let t = Tr { lang: self.lang };
        let page = ErrorPage {
            t,
            title: t.get(self.title_key),
            detail: &self.detail,
        };
        (self.status, render(&page)).into_response()
    }
}

/// A template rendered as HTML; a template that fails (it should not: they are checked at
/// compile time) is a logged 500.
pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Page results: a failed service call becomes a [`WebError`] in the page's language.
pub(crate) trait OrPage<T> {
    /// The value, or the error page in `me`'s language.
    fn or_page(self, me: &Me) -> Result<T, WebError>;
}

impl<T> OrPage<T> for Result<T, ServiceError> {
    fn or_page(self, me: &Me) -> Result<T, WebError> {
        self.map_err(|e| WebError::new(e, me.lang))
    }
}

/// Times shown in each site's own time zone, looked up once per site per request.
pub(crate) struct SiteTimes<'a> {
    dashboard: &'a Dashboard,
    who: &'a Principal,
    zones: HashMap<String, jiff::tz::TimeZone>,
}

impl<'a> SiteTimes<'a> {
    pub(crate) fn new(dashboard: &'a Dashboard, who: &'a Principal) -> Self {
        Self {
            dashboard,
            who,
            zones: HashMap::new(),
        }
    }

    /// `rfc3339` (as the services give times) as local time at `site`, e.g.
    /// `2026-12-24 08:00:00 CET`; the text unchanged if it is not a time.
    pub(crate) async fn local(&mut self, site: &str, rfc3339: &str) -> String {
        let Ok(time) = rfc3339.parse::<jiff::Timestamp>() else {
            return rfc3339.to_owned();
        };
        self.local_unix(site, time.as_second()).await
    }

    /// Unix seconds as local time at `site`.
    pub(crate) async fn local_unix(&mut self, site: &str, time: i64) -> String {
        if !self.zones.contains_key(site) {
            let zone = self
                .dashboard
                .sites()
                .zone(self.who, site)
                .await
                .unwrap_or(jiff::tz::TimeZone::UTC);
            self.zones.insert(site.to_owned(), zone);
        }
        crate::timetext::format_time(time, &self.zones[site])
    }
}

/// What a form says when a service refused it, in the page's language: for a field with a
/// known rule, which field and what it takes; otherwise the refusal's own words after a
/// translated lead.
pub(crate) fn form_error(t: Tr, error: &ServiceError) -> String {
    match error {
        ServiceError::Invalid { field, problem } => {
            let key = format!("form-error-{}", field.replace('_', "-"));
            if bundles_have(t, &key) {
                t.get(&key)
            } else {
                t.with2(
                    "form-error-field",
                    ("field", &field.as_str()),
                    ("problem", &problem.as_str()),
                )
            }
        }
        ServiceError::NotFound { what, id } => {
            t.with2("form-error-not-found", ("what", what), ("id", &id.as_str()))
        }
        other => format!("{}: {other}", t.get("error-conflict")),
    }
}

fn bundles_have(t: Tr, key: &str) -> bool {
    t.has(key)
}

/// The translation key of an alarm kind (`alarm-kind-other` for a kind this version does
/// not know).
pub(crate) fn alarm_key(kind: &str) -> &'static str {
    match kind {
        "integrity" => "alarm-kind-integrity",
        "unknown_gateway" => "alarm-kind-unknown-gateway",
        "forced_open" => "alarm-kind-forced-open",
        "held_open" => "alarm-kind-held-open",
        "offline" => "alarm-kind-offline",
        "command_refused" => "alarm-kind-command-refused",
        "revocation_refused" => "alarm-kind-revocation-refused",
        "clock" => "alarm-kind-clock",
        "bad_message" => "alarm-kind-bad-message",
        "revocation_lag" => "alarm-kind-revocation-lag",
        "disk_low" => "alarm-kind-disk-low",
        _ => "alarm-kind-other",
    }
}

/// The translation key of a pass kind.
pub(crate) fn pass_kind_key(kind: &str) -> &'static str {
    match kind {
        "guest" => "pass-kind-guest",
        "staff" => "pass-kind-staff",
        "break-glass" => "pass-kind-break-glass",
        _ => "pass-kind-member",
    }
}

/// The translation key of a phone's device problem as the pass app reports it.
pub(crate) fn device_problem_key(problem: &str) -> &'static str {
    match problem {
        "no-webcrypto" => "pass-device-problem-no-webcrypto",
        "no-indexeddb" => "pass-device-problem-no-indexeddb",
        "key-not-stored" => "pass-device-problem-key-not-stored",
        _ => "pass-device-problem-key-not-usable",
    }
}

/// The translation key of a role name as stored (`admin`, `operator`, `auditor`).
pub(crate) fn role_name_key(role: &str) -> &'static str {
    match Role::parse(role) {
        Ok(Role::Admin) => "role-admin",
        Ok(Role::Operator) => "role-operator",
        Ok(Role::Auditor) | Err(_) => "role-auditor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_address_off_this_server_goes_home_instead() {
        assert_eq!(safe_next("/members?q=a"), "/members?q=a");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/a\nb"), "/");
    }
}
