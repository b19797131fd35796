//! Who is calling: a bearer credential (an API token or a session id) in `Authorization`,
//! or the session cookie the web UI will use. Both end in the same [`Principal`].

use super::error::AppError;
use crate::access::Principal;
use crate::error::ServiceError;
use crate::service::Dashboard;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bygd_session";

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
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
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
