//! The HTTP API: JSON under `/api/v1`, described by the OpenAPI document it serves at
//! `/api/v1/openapi.json`, plus the member's pass page under `/p/`.
//!
//! Handlers are thin: they turn a request into a service call with the caller's
//! [`Principal`](crate::access::Principal) and the result into JSON. Every failure has the
//! one shape of [`error::AppError`].

mod admin;
mod auth;
mod error;
mod gateways;
mod members;
mod page;

pub use auth::SESSION_COOKIE;
pub use error::AppError;

use crate::service::Dashboard;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;

/// The OpenAPI document (checked against the router by a test).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// A JSON body whose errors come in the API's error shape.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Self(v))
            .map_err(|e| AppError::bad_request(format!("the request body: {}", e.body_text())))
    }
}

/// Query parameters whose errors come in the API's error shape.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    axum::extract::Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Self(v))
            .map_err(|e| AppError::bad_request(format!("the query string: {}", e.body_text())))
    }
}

/// Path parameters whose errors (a segment that is not UTF-8 once percent-decoded) come in the
/// API's error shape; axum's own rejection is plain text.
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Self(v))
            .map_err(|e| AppError::bad_request(format!("the path: {}", e.body_text())))
    }
}

/// The whole app: API, pass pages, and JSON 404s for anything else.
pub fn app(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(admin::openapi))
        .route("/api/v1/health", get(admin::health))
        .route("/api/v1/session", post(admin::login).delete(admin::logout))
        .route("/api/v1/accounts", post(admin::add_account))
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
            "/api/v1/members",
            get(members::list_members).post(members::add_member),
        )
        .route("/api/v1/members/{id}", get(members::member))
        .route("/api/v1/members/{id}/revoke", post(members::revoke_member))
        .route(
            "/api/v1/passes",
            get(members::list_passes).post(members::issue_pass),
        )
        .route("/api/v1/passes/{id}", get(members::pass))
        .route("/api/v1/passes/{id}/revoke", post(members::revoke_pass))
        .route("/api/v1/entries", get(gateways::entries))
        .route("/api/v1/entries.csv", get(gateways::entries_csv))
        .route("/api/v1/gateways", get(gateways::list_gateways))
        .route("/api/v1/alarms", get(gateways::alarms))
        .route(
            "/api/v1/commands",
            get(gateways::list_commands).post(gateways::send_command),
        )
        .route("/api/v1/commands/{id}", get(gateways::command))
        .route("/p/{secret}", get(page::pass_page))
        .route("/p/{secret}/qr.png", get(page::pass_png))
        .route("/p/{secret}/qr.svg", get(page::pass_svg))
        .fallback(|| async { AppError::no_route() })
        .method_not_allowed_fallback(|| async { AppError::wrong_method() })
        .with_state(dashboard)
}
