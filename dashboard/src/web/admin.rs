//! Admin pages: operator accounts (add, role and sites, disable and enable, a new password),
//! sites (add one before its members and gateway; change its name, address, time zone and
//! members' language), API tokens (create, shown once; revoke), gateways (add one with its
//! public key, then download the config file it is installed with) and the trail of
//! operator actions.
//!
//! Generated passwords and tokens are shown once, on the page that made them, never cached.

use super::frame::{render, Me, OrPage, SiteTimes, WebError};
use super::i18n::Tr;
use super::members::{field, fields_named, form_pairs};
use crate::access::{Role, Scope, Sites};
use crate::account::AccountInfo;
use crate::error::ServiceError;
use crate::gateway::{GatewayInfo, NewGateway};
use crate::service::Dashboard;
use crate::site::{NewSite, SiteChange, SiteInfo};
use crate::token::TokenInfo;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeSet;

/// Trail entries shown.
const TRAIL_SHOWN: i64 = 200;

/// Refuses a page of the admin section to anyone but an admin, as the services refuse its
/// forms.
fn admin_only(me: &Me) -> Result<(), WebError> {
    me.who
        .require(Scope::Admin)
        .map_err(ServiceError::from)
        .or_page(me)
}

/// A page's status: 400 when it shows its form again with what was wrong, else 200.
fn form_status(error: Option<&str>) -> StatusCode {
    if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// A page that shows a secret once: never stored by the browser or a proxy.
fn once(page: Response) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], page).into_response()
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    t: Tr,
    me: Me,
    accounts: Vec<AccountInfo>,
    error: Option<String>,
    made: Option<(String, String)>,
    form_id: String,
}

async fn accounts_page(
    d: &Dashboard,
    me: Me,
    error: Option<String>,
    made: Option<(String, String)>,
) -> Result<Response, WebError> {
    let accounts = d.accounts().list(&me.who).await.or_page(&me)?;
    let status = form_status(error.as_deref());
    let page = render(&AccountsPage {
        t: me.t(),
        me,
        accounts,
        error,
        made,
        form_id: super::once::new_form_id(),
    });
    Ok(once((status, page).into_response()))
}

/// `GET /admin`: the accounts, and links to the other admin pages.
pub(crate) async fn accounts(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    accounts_page(&d, me, None, None).await
}

/// `POST /admin/accounts`: a new account; its password is generated unless given.
pub(crate) async fn add_account(
    State(d): State<Dashboard>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    if !super::once::spend(Some(&field(&fields, "form_id"))) {
        return Err(WebError::sent_twice(me.lang));
    }
    let name = field(&fields, "name");
    let result = async {
        let role =
            Role::parse(&field(&fields, "role")).map_err(|e| ServiceError::invalid("role", e))?;
        let sites_text = field(&fields, "sites");
        let sites = Sites::parse(if sites_text.is_empty() {
            "*"
        } else {
            &sites_text
        })
        .map_err(|e| ServiceError::invalid("sites", e))?;
        let password = crate::account::generate_password()?;
        d.accounts()
            .add(&me.who, &name, role, &sites, &password)
            .await?;
        Ok::<_, ServiceError>(password)
    }
    .await;
    match result {
        Ok(password) => accounts_page(&d, me, None, Some((name, password))).await,
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            accounts_page(&d, me, Some(error), None).await
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

#[derive(Template)]
#[template(path = "admin_account.html")]
struct AccountPage {
    t: Tr,
    me: Me,
    account: AccountInfo,
    roles: [&'static str; 3],
    error: Option<String>,
    password: Option<String>,
    form_id: String,
}

async fn account_page(
    d: &Dashboard,
    me: Me,
    name: &str,
    error: Option<String>,
    password: Option<String>,
) -> Result<Response, WebError> {
    let account = d.accounts().get(&me.who, name).await.or_page(&me)?;
    let status = form_status(error.as_deref());
    let page = render(&AccountPage {
        t: me.t(),
        me,
        account,
        roles: ["admin", "operator", "auditor"],
        error,
        password,
        form_id: super::once::new_form_id(),
    });
    Ok(once((status, page).into_response()))
}

/// `GET /admin/accounts/{name}`.
pub(crate) async fn account(
    State(d): State<Dashboard>,
    me: Me,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    account_page(&d, me, &name, None, None).await
}

/// `POST /admin/accounts/{name}`: `what` is `update` (role, sites), `disable`, `enable` or
/// `password` (a new generated password, shown once; the account's sessions end).
pub(crate) async fn change_account(
    State(d): State<Dashboard>,
    me: Me,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    if !super::once::spend(Some(&field(&fields, "form_id"))) {
        return Err(WebError::sent_twice(me.lang));
    }
    let result = async {
        match field(&fields, "what").as_str() {
            "update" => {
                let role = Role::parse(&field(&fields, "role"))
                    .map_err(|e| ServiceError::invalid("role", e))?;
                let sites = Sites::parse(&field(&fields, "sites"))
                    .map_err(|e| ServiceError::invalid("sites", e))?;
                d.accounts()
                    .update(&me.who, &name, Some(role), Some(&sites))
                    .await?;
                Ok(None)
            }
            "disable" => d.accounts().disable(&me.who, &name).await.map(|_| None),
            "enable" => d.accounts().enable(&me.who, &name).await.map(|_| None),
            "password" => {
                let password = crate::account::generate_password()?;
                d.accounts().set_password(&me.who, &name, &password).await?;
                Ok(Some(password))
            }
            _ => Err(ServiceError::invalid(
                "what",
                "update, disable, enable or password",
            )),
        }
    }
    .await;
    match result {
        Ok(Some(password)) => account_page(&d, me, &name, None, Some(password)).await,
        Ok(None) => Ok(Redirect::to(&format!("/admin/accounts/{name}")).into_response()),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            account_page(&d, me, &name, Some(error), None).await
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

#[derive(Template)]
#[template(path = "admin_sites.html")]
struct SitesPage {
    t: Tr,
    me: Me,
    sites: Vec<SiteInfo>,
    error: Option<String>,
    added: Option<String>,
    form: Vec<(String, String)>,
}

impl SitesPage {
    fn value(&self, name: &str) -> String {
        field(&self.form, name)
    }

    /// The language the add form shows chosen: the one sent back, else the page's own.
    fn chosen_language(&self) -> String {
        Some(self.value("language"))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| self.t.lang.code().to_owned())
    }

    /// A site's language by its own name (`Svenska`), as the language picker shows it.
    fn language_name(&self, code: &str) -> &'static str {
        super::Lang::parse(code).map_or("?", super::Lang::own_name)
    }
}

async fn sites_page(
    d: &Dashboard,
    me: Me,
    error: Option<String>,
    added: Option<String>,
    form: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let sites = d.sites().list(&me.who).await.or_page(&me)?;
    let status = form_status(error.as_deref());
    let page = render(&SitesPage {
        t: me.t(),
        me,
        sites,
        error,
        added,
        form,
    });
    Ok((status, page).into_response())
}

/// `GET /admin/sites`: the sites, and a form to add one (admins; others read sites on the
/// overview).
pub(crate) async fn sites(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    admin_only(&me)?;
    sites_page(&d, me, None, None, Vec::new()).await
}

/// `POST /admin/sites`: adds a site (before its members and its gateway).
pub(crate) async fn add_site(
    State(d): State<Dashboard>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    let new = NewSite {
        id: field(&fields, "id"),
        name: field(&fields, "name"),
        address: Some(field(&fields, "address")),
        time_zone: field(&fields, "time_zone"),
        language: Some(field(&fields, "language")).filter(|l| !l.is_empty()),
    };
    match d.sites().add(&me.who, &new).await {
        Ok(site) => sites_page(&d, me, None, Some(site.id), Vec::new()).await,
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            sites_page(&d, me, Some(error), None, fields).await
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

#[derive(Template)]
#[template(path = "admin_site.html")]
struct SitePage {
    t: Tr,
    me: Me,
    site: SiteInfo,
    created: String,
    error: Option<String>,
}

async fn site_page(
    d: &Dashboard,
    me: Me,
    site: SiteInfo,
    error: Option<String>,
) -> Result<Response, WebError> {
    let created = SiteTimes::new(d, &me.who)
        .local(&site.id, &site.created_at)
        .await;
    let status = form_status(error.as_deref());
    let page = render(&SitePage {
        t: me.t(),
        me,
        site,
        created,
        error,
    });
    Ok((status, page).into_response())
}

/// `GET /admin/sites/{id}`: a form to change the site.
pub(crate) async fn site(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    admin_only(&me)?;
    let site = d.sites().get(&me.who, &id).await.or_page(&me)?;
    site_page(&d, me, site, None).await
}

/// `POST /admin/sites/{id}`: saves the form's name, address, time zone and language. A
/// refused change shows the form again with what was typed.
pub(crate) async fn change_site(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    let change = SiteChange {
        name: Some(field(&fields, "name")),
        address: Some(Some(field(&fields, "address"))),
        time_zone: Some(field(&fields, "time_zone")),
        language: Some(field(&fields, "language")),
        require_device_key: Some(
            fields
                .iter()
                .any(|(k, v)| k == "require_device_key" && v == "1"),
        ),
    };
    match d.sites().update(&me.who, &id, &change).await {
        Ok(_) => Ok(Redirect::to("/admin/sites").into_response()),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let mut site = d.sites().get(&me.who, &id).await.or_page(&me)?;
            site.name = field(&fields, "name");
            site.address = Some(field(&fields, "address")).filter(|a| !a.is_empty());
            site.time_zone = field(&fields, "time_zone");
            let error = super::frame::form_error(me.t(), &e);
            site_page(&d, me, site, Some(error)).await
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    t: Tr,
    me: Me,
    tokens: Vec<TokenInfo>,
    scopes: Vec<&'static str>,
    error: Option<String>,
    made: Option<String>,
    form_id: String,
}

async fn tokens_page(
    d: &Dashboard,
    me: Me,
    error: Option<String>,
    made: Option<String>,
) -> Result<Response, WebError> {
    let mut tokens = d.tokens().list(&me.who).await.or_page(&me)?;
    // Times where the token works: its one site's zone, else UTC (said so in the text).
    let mut times = SiteTimes::new(d, &me.who);
    for token in &mut tokens {
        let site = if token.sites.contains(',') || token.sites == "*" {
            String::new()
        } else {
            token.sites.clone()
        };
        for time in [&mut token.last_used_at, &mut token.expires_at] {
            if let Some(t) = time.as_mut() {
                *t = times.local(&site, t).await;
            }
        }
    }
    let status = form_status(error.as_deref());
    let page = render(&TokensPage {
        t: me.t(),
        me,
        tokens,
        scopes: Scope::ALL.iter().map(|s| s.name()).collect(),
        error,
        made,
        form_id: super::once::new_form_id(),
    });
    Ok(once((status, page).into_response()))
}

/// `GET /admin/tokens`.
pub(crate) async fn tokens(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    tokens_page(&d, me, None, None).await
}

/// `POST /admin/tokens`: a new token, shown once.
pub(crate) async fn create_token(
    State(d): State<Dashboard>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    if !super::once::spend(Some(&field(&fields, "form_id"))) {
        return Err(WebError::sent_twice(me.lang));
    }
    let result = async {
        let mut scopes = BTreeSet::new();
        for name in fields_named(&fields, "scope") {
            scopes.insert(Scope::parse(&name).map_err(|e| ServiceError::invalid("scope", e))?);
        }
        if scopes.is_empty() {
            return Err(ServiceError::invalid("scope", "tick at least one scope"));
        }
        let sites_text = field(&fields, "sites");
        let sites = Sites::parse(if sites_text.is_empty() {
            "*"
        } else {
            &sites_text
        })
        .map_err(|e| ServiceError::invalid("sites", e))?;
        let days = field(&fields, "days");
        let expires = if days.is_empty() {
            None
        } else {
            let days: i64 = days
                .parse()
                .ok()
                .filter(|d| (1..=3660).contains(d))
                .ok_or_else(|| ServiceError::invalid("days", "a number of days, 1 to 3660"))?;
            Some(d.now() + days * 86_400)
        };
        let (_, token) = d
            .tokens()
            .create(&me.who, &field(&fields, "name"), &scopes, &sites, expires)
            .await?;
        Ok(token)
    }
    .await;
    match result {
        Ok(token) => tokens_page(&d, me, None, Some(token)).await,
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            tokens_page(&d, me, Some(error), None).await
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub(crate) async fn revoke_token(
    State(d): State<Dashboard>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    d.tokens().revoke(&me.who, &id).await.or_page(&me)?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Template)]
#[template(path = "admin_gateways.html")]
struct GatewaysPage {
    t: Tr,
    me: Me,
    gateways: Vec<GatewayInfo>,
    error: Option<String>,
    added: Option<(String, String)>,
    form: Vec<(String, String)>,
}

impl GatewaysPage {
    fn value(&self, name: &str) -> String {
        field(&self.form, name)
    }

    fn added_text(&self, site: &str, gateway: &str) -> String {
        self.t.with2(
            "admin-gateway-added",
            ("site", &site),
            ("gateway", &gateway),
        )
    }
}

async fn gateways_page(
    d: &Dashboard,
    me: Me,
    error: Option<String>,
    added: Option<(String, String)>,
    form: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let gateways = d.gateways().list(&me.who).await.or_page(&me)?;
    let status = form_status(error.as_deref());
    let page = render(&GatewaysPage {
        t: me.t(),
        me,
        gateways,
        error,
        added,
        form,
    });
    Ok((status, page).into_response())
}

/// `GET /admin/gateways`.
pub(crate) async fn gateways(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    gateways_page(&d, me, None, None, Vec::new()).await
}

/// `POST /admin/gateways`: registers a gateway (and its site, if new).
pub(crate) async fn add_gateway(
    State(d): State<Dashboard>,
    me: Me,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let fields = form_pairs(&body);
    let zone = field(&fields, "time_zone");
    let new = NewGateway {
        site: field(&fields, "site"),
        id: field(&fields, "id"),
        public_key: field(&fields, "public_key").to_ascii_lowercase(),
        doors: crate::service::split_list(&field(&fields, "doors")),
        time_zone: Some(zone).filter(|z| !z.is_empty()),
    };
    match d.gateways().register(&me.who, &new).await {
        Ok(()) => gateways_page(&d, me, None, Some((new.site, new.id)), Vec::new()).await,
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let error = super::frame::form_error(me.t(), &e);
            gateways_page(&d, me, Some(error), None, fields).await
        }
        Err(e) => Err(WebError::new(e, me.lang)),
    }
}

/// `GET /admin/gateways/{site}/{id}/config`: the gateway's config file, to install with it.
pub(crate) async fn gateway_config(
    State(d): State<Dashboard>,
    me: Me,
    Path((site, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let text = d
        .gateways()
        .config(&me.who, &site, &id, d.broker_url.as_deref())
        .await
        .or_page(&me)?;
    let disposition = format!("attachment; filename=\"bygd-gateway-{site}-{id}.toml\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

/// A line of the trail.
pub(crate) struct TrailLine {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_trail.html")]
struct TrailPage {
    t: Tr,
    me: Me,
    lines: Vec<TrailLine>,
}

/// `GET /admin/trail`: the latest operator actions, newest first.
pub(crate) async fn trail(State(d): State<Dashboard>, me: Me) -> Result<Response, WebError> {
    let rows = d.trail(&me.who, TRAIL_SHOWN).await.or_page(&me)?;
    let mut times = SiteTimes::new(&d, &me.who);
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |k: &str| row[k].as_str().unwrap_or_default().to_owned();
        let site = row["detail"]["site"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let at = text("at");
        lines.push(TrailLine {
            at: times.local(&site, &at).await,
            actor: text("actor"),
            action: text("action"),
            target: text("target"),
            detail: row["detail"].to_string(),
        });
    }
    Ok(render(&TrailPage {
        t: me.t(),
        me,
        lines,
    }))
}
