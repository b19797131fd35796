//! Signing in and out, and the language picker.
//!
//! Sign-in goes through the same throttled check as `POST /api/v1/session`; a wrong name or
//! password, a disabled account and throttling each say so on the form, in the page's
//! language, with nothing else given away.

use super::frame::{render, request_lang, safe_next, Me};
use super::i18n::{Lang, Tr, LANG_COOKIE};
use crate::api::auth::{credential, session_cookie};
use crate::error::ServiceError;
use crate::service::Dashboard;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    next: String,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// `GET /login`.
pub(crate) async fn form(parts: Parts, Query(q): Query<Next>) -> Response {
    let t = Tr {
        lang: request_lang(&parts),
    };
    render(&LoginPage {
        t,
        next: safe_next(q.next.as_deref().unwrap_or("/")),
        name: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`: a session cookie and back to where the operator was going.
pub(crate) async fn submit(
    State(d): State<Dashboard>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = Tr {
        lang: request_lang(&parts),
    };
    let next = safe_next(form.next.as_deref().unwrap_or("/"));
    let client = crate::api::admin::client_address(&d, &parts);
    let name = form.name.trim().to_owned();
    match d.accounts().login_from(&name, &form.password, client).await {
        Ok((session, _)) => {
            let mut cookies = vec![(header::SET_COOKIE, session_cookie(&d, Some(&session)))];
            // The account's own language wins from now on; remember it for the sign-in page too.
            if let Ok(Some(lang)) = d.accounts().language(&name).await {
                cookies.push((header::SET_COOKIE, lang_cookie(&lang)));
            }
            let mut response = Redirect::to(&next).into_response();
            for (name, value) in cookies {
                if let Ok(value) = value.parse() {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        Err(e) => {
            let (status, key) = match &e {
                ServiceError::Throttled { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, "login-throttled")
                }
                ServiceError::Unauthenticated(m) if m.contains("disabled") => {
                    (StatusCode::UNAUTHORIZED, "login-disabled")
                }
                ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "login-wrong"),
                _ => {
                    tracing::error!(error = %e, "sign-in failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
                }
            };
            let page = LoginPage {
                t,
                next,
                name,
                error: Some(t.get(key)),
            };
            (status, render(&page)).into_response()
        }
    }
}

/// `POST /logout`: ends the session and forgets the cookie.
pub(crate) async fn logout(State(d): State<Dashboard>, parts: Parts) -> Response {
    if let Some(session) = credential(&parts) {
        if let Err(e) = d.accounts().logout(&session).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = session_cookie(&d, None).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn lang_cookie(code: &str) -> String {
    format!("{LANG_COOKIE}={code}; Path=/; SameSite=Lax; Max-Age=31536000")
}

#[derive(Deserialize)]
pub(crate) struct LanguageForm {
    lang: String,
    back: Option<String>,
}

/// `POST /language`: the picker. Saved on the account when signed in, and in a cookie.
pub(crate) async fn language(
    State(d): State<Dashboard>,
    mut parts: Parts,
    Form(form): Form<LanguageForm>,
) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return (StatusCode::BAD_REQUEST, "lang must be sv, da or en").into_response();
    };
    if let Ok(me) =
        <Me as axum::extract::FromRequestParts<Dashboard>>::from_request_parts(&mut parts, &d).await
    {
        if let Err(e) = d.accounts().set_language(&me.who, lang.code()).await {
            tracing::error!(error = %e, "saving the language failed");
        }
    }
    let back = safe_next(form.back.as_deref().unwrap_or("/"));
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = lang_cookie(lang.code()).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
