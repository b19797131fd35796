//! Who is calling: a bearer credential (an API token or a session id) in `Authorization`,
//! or the session cookie the web UI sets. Both end in the same [`Principal`].

use super::error::AppError;
use crate::access::Principal;
use crate::error::ServiceError;
use crate::service::Dashboard;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

/// The session cookie's name over plain HTTP (a test or a dashboard on a closed network).
pub const SESSION_COOKIE: &str = "bygd_session";
/// The session cookie's name when the dashboard is served over https: the `__Host-` prefix
/// makes browsers refuse it unless it is `Secure`, for this host only, with `Path=/`.
pub const SECURE_SESSION_COOKIE: &str = "__Host-bygd_session";

/// The `Set-Cookie` value that holds `session` (or clears the cookie when `None`): HttpOnly,
/// SameSite=Strict, and `__Host-` with `Secure` when the public URL is https.
pub(crate) fn session_cookie(dashboard: &Dashboard, session: Option<&str>) -> String {
    let (name, secure) = if dashboard.public_url.starts_with("https://") {
        (SECURE_SESSION_COOKIE, "; Secure")
    } else {
        (SESSION_COOKIE, "")
    };
    match session {
        Some(value) => format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Strict{secure}; Max-Age=0"),
    }
}

/// The value of the cookie `name` in a request.
pub(crate) fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The caller, authenticated.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Principal);

/// The credential in a request, if any.
pub(crate) fn credential(parts: &Parts) -> Option<String> {
    if let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    cookie(parts, SECURE_SESSION_COOKIE).or_else(|| cookie(parts, SESSION_COOKIE))
}

impl FromRequestParts<Dashboard> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        dashboard: &Dashboard,
    ) -> Result<Self, Self::Rejection> {
        let Some(credential) = credential(parts) else {
            return Err(ServiceError::Unauthenticated(
                "no credential: send `Authorization: Bearer TOKEN` (an API token from `bygd token create`, \
                 or a session from POST /api/v1/session)"
                    .to_owned(),
            )
            .into());
        };
        Ok(Caller(
            dashboard.accounts().authenticate(&credential).await?,
        ))
    }
}
