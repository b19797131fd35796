//! The HTTP API: JSON under `/api/v1`, described by the OpenAPI document it serves at
//! `/api/v1/openapi.json`, plus the member's pass page under `/p/`.
//!
//! Handlers are thin: they turn a request into a service call with the caller's
//! [`Principal`](crate::access::Principal) and the result into JSON. Every failure has the
//! one shape of [`error::AppError`].

pub(crate) mod admin;
pub(crate) mod auth;
mod error;
pub(crate) mod gateways;
mod idempotent;
mod members;
mod page;
mod sites;

pub use auth::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
pub use error::AppError;

use crate::service::Dashboard;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;

/// The OpenAPI document (checked against the router by a test).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// The largest request body read: axum's default limit for JSON bodies, which [`ApiJson`]
/// buffers itself to look for NUL characters first.
pub(crate) const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What every extractor says of a NUL character: no field takes one, and PostgreSQL cannot
/// store one in text (it would be a server error there, and is silently kept by SQLite).
const NUL_REFUSED: &str = "holds a NUL character, which no field accepts";

/// Where in `value` a string (or an object key) holds a NUL character, as `a.b[2]`.
fn nul_at(value: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then(|| at.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            let here = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            if key.contains('\0') {
                Some(here)
            } else {
                nul_at(v, &here)
            }
        }),
        _ => None,
    }
}

/// A JSON body whose errors come in the API's error shape. A string with a NUL character
/// anywhere in the body is refused, naming the field.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|e| AppError::bad_request(format!("the request body: {e}")))?;
        // JSON can carry a NUL only as the escape \u0000: parse twice only when it is there.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
            if let Some(field) = serde_json::from_slice(&bytes)
                .ok()
                .and_then(|v: serde_json::Value| nul_at(&v, ""))
            {
                return Err(AppError::invalid(&field, NUL_REFUSED));
            }
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Self(v))
            .map_err(|e| AppError::bad_request(format!("the request body: {}", e.body_text())))
    }
}

/// Query parameters whose errors come in the API's error shape; a NUL (`%00`) is refused.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    axum::extract::Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(AppError::bad_request(format!(
                "the query string: a value {NUL_REFUSED}"
            )));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Self(v))
            .map_err(|e| AppError::bad_request(format!("the query string: {}", e.body_text())))
    }
}

/// Path parameters whose errors (a segment that is not UTF-8 once percent-decoded, or holds a
/// NUL) come in the API's error shape; axum's own rejection is plain text.
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.path().contains("%00") {
            return Err(AppError::bad_request(format!("the path {NUL_REFUSED}")));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Self(v))
            .map_err(|e| AppError::bad_request(format!("the path: {}", e.body_text())))
    }
}

/// The whole app: the web UI, the API, pass pages; 404s as JSON under `/api/` and as a page
/// elsewhere. Every response carries the security headers; every state-changing request from
/// another site's page is refused (see [`crate::web::security`]).
pub fn app(dashboard: Dashboard) -> Router {
    api_routes()
        .merge(crate::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn(
            crate::web::security::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(
            crate::web::security::security_headers,
        ))
        .with_state(dashboard)
}

/// A 404: JSON for the API's paths (and the pass links it documents), a page in the
/// browser's language elsewhere.
async fn not_found(parts: Parts) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let path = parts.uri.path();
    if path.starts_with("/api/") || path.starts_with("/p/") {
        AppError::no_route().into_response()
    } else {
        crate::web::frame::WebError::no_page(crate::web::frame::request_lang(&parts))
            .into_response()
    }
}

/// A 405: JSON for the API's paths, a page elsewhere.
async fn wrong_method(parts: Parts) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let path = parts.uri.path();
    if path.starts_with("/api/") || path.starts_with("/p/") {
        AppError::wrong_method().into_response()
    } else {
        let mut page =
            crate::web::frame::WebError::no_page(crate::web::frame::request_lang(&parts))
                .into_response();
        *page.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
        page
    }
}

fn api_routes() -> Router<Dashboard> {
    Router::new()
        .route("/api/v1/openapi.json", get(admin::openapi))
        .route("/api/v1/health", get(admin::health))
        .route("/metrics", get(admin::metrics))
        .route(
            "/api/v1/webhooks",
            get(admin::list_webhooks).post(admin::create_webhook),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(admin::webhook).delete(admin::delete_webhook),
        )
        .route("/api/v1/session", post(admin::login).delete(admin::logout))
        .route(
            "/api/v1/session/language",
            axum::routing::put(admin::set_language),
        )
        .route(
            "/api/v1/accounts",
            get(admin::list_accounts).post(admin::add_account),
        )
        .route(
            "/api/v1/accounts/{name}",
            get(admin::account).patch(admin::update_account),
        )
        .route(
            "/api/v1/accounts/{name}/disable",
            post(admin::disable_account),
        )
        .route(
            "/api/v1/accounts/{name}/enable",
            post(admin::enable_account),
        )
        .route(
            "/api/v1/accounts/{name}/password",
            post(admin::set_password),
        )
        .route(
            "/api/v1/accounts/{name}/sessions",
            axum::routing::delete(admin::end_sessions),
        )
        .route(
            "/api/v1/tokens",
            get(admin::list_tokens).post(admin::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(admin::revoke_token),
        )
        .route("/api/v1/trail", get(admin::trail))
        .route(
            "/api/v1/sites",
            get(sites::list_sites).post(sites::add_site),
        )
        .route(
            "/api/v1/sites/{id}",
            get(sites::site).patch(sites::update_site),
        )
        .route(
            "/api/v1/members",
            get(members::list_members).post(members::add_member),
        )
        .route(
            "/api/v1/members/{id}",
            get(members::member).patch(members::update_member),
        )
        .route(
            "/api/v1/members/{id}/restore",
            post(members::restore_member),
        )
        .route("/api/v1/members/{id}/revoke", post(members::revoke_member))
        .route(
            "/api/v1/passes",
            get(members::list_passes).post(members::issue_pass),
        )
        .route("/api/v1/passes/{id}", get(members::pass))
        .route("/api/v1/passes/{id}/revoke", post(members::revoke_pass))
        .route("/api/v1/passes/{id}/renew", post(members::renew_pass))
        .route("/api/v1/passes/{id}/send", post(members::send_pass))
        .route("/api/v1/entries", get(gateways::entries))
        .route("/api/v1/entries.csv", get(gateways::entries_csv))
        .route(
            "/api/v1/gateways",
            get(gateways::list_gateways).post(gateways::add_gateway),
        )
        .route(
            "/api/v1/gateways/{site}/{id}/config",
            get(gateways::gateway_config),
        )
        .route("/api/v1/alarms", get(gateways::alarms))
        .route("/api/v1/alarms/{id}", get(gateways::alarm))
        .route(
            "/api/v1/alarms/{id}/acknowledge",
            post(gateways::acknowledge_alarm),
        )
        .route(
            "/api/v1/commands",
            get(gateways::list_commands).post(gateways::send_command),
        )
        .route("/api/v1/commands/{id}", get(gateways::command))
        .route("/p/sw.js", get(page::service_worker))
        .route("/p/{secret}", get(page::pass_page))
        .route("/p/{secret}/pass.json", get(page::pass_state))
        .route("/p/{secret}/manifest.webmanifest", get(page::manifest))
        .route("/p/{secret}/enrol", post(page::enrol))
        .route("/p/{secret}/device-problem", post(page::device_problem))
        .route("/p/{secret}/qr.png", get(page::pass_png))
        .route("/p/{secret}/qr.svg", get(page::pass_svg))
}
