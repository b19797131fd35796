//! The API's one error shape: `{"error": {"code": "...", "message": "...", "field": ...}}`
//! with a stable code per kind of failure.
//!
//! Client errors (4xx) say what was wrong and are not logged as errors; server errors get a
//! generic message while the cause goes to the log, so that no internals leak. A throttled
//! request (429, `throttled`) also carries `Retry-After` in seconds.

use crate::error::ServiceError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error on its way to a client.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    /// Seconds for `Retry-After` (throttled requests).
    retry_after: Option<u64>,
}

impl AppError {
    /// A 400 for a request that is not what the endpoint takes (bad JSON, bad query).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// A 400 naming a field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid",
            message: message.into(),
            field: Some(field.to_owned()),
            retry_after: None,
        }
    }

    /// The HTTP status it answers with.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// A 410 for something that existed and no longer does (a revoked pass's QR code).
    pub(crate) fn gone(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::GONE,
            code: "gone",
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// A 404 for a path the API does not have.
    pub(crate) fn no_route() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "no_such_endpoint",
            message: "no such endpoint; the API is described at /api/v1/openapi.json".to_owned(),
            field: None,
            retry_after: None,
        }
    }

    /// A 405 for a path the API has, asked with a method it does not take.
    pub(crate) fn wrong_method() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "this endpoint does not take that method; see /api/v1/openapi.json".to_owned(),
            field: None,
            retry_after: None,
        }
    }

    /// A 403 for a state-changing request another site's page made a browser send.
    pub(crate) fn cross_site() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "cross_site",
            message: "refused: this request came from another web site's page; \
                      use the dashboard's own pages, or an API token without a browser"
                .to_owned(),
            field: None,
            retry_after: None,
        }
    }

    /// What went wrong, as the client is told.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The code, for tests.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        let (status, code, field) = match &e {
            ServiceError::Invalid { field, .. } => {
                (StatusCode::BAD_REQUEST, "invalid", Some(field.clone()))
            }
            ServiceError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", None),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict", None),
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", None),
            ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated", None),
            ServiceError::Throttled {
                message,
                retry_after,
            } => {
                return Self {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    code: "throttled",
                    message: message.clone(),
                    field: None,
                    retry_after: Some(*retry_after),
                };
            }
            ServiceError::Db(_) | ServiceError::Internal(_) => {
                tracing::error!(error = %e, "request failed");
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "the dashboard could not complete the request; its log says why"
                        .to_owned(),
                    field: None,
                    retry_after: None,
                };
            }
        };
        let message = match &e {
            ServiceError::Invalid { problem, .. } => problem.clone(),
            other => other.to_string(),
        };
        Self {
            status,
            code,
            message,
            field,
            retry_after: None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({
            "error": { "code": self.code, "message": self.message, "field": self.field }
        }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}
