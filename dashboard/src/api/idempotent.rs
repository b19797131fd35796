//! `Idempotency-Key` on the API's creating calls: a request with the header is claimed,
//! answered once, and answered the same way again when it is repeated (with
//! `Idempotent-Replayed: true`); see [`crate::idempotency`]. Without the header a request runs
//! as it always did.

use super::error::AppError;
use crate::access::Principal;
use crate::idempotency::{fingerprint, Claim};
use crate::service::Dashboard;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The request header.
const KEY_HEADER: &str = "idempotency-key";
/// The header on an answer given again.
const REPLAYED_HEADER: &str = "idempotent-replayed";
/// The largest answer kept (a member or a pass is a few KB).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Runs `handle` on `request` once per `Idempotency-Key` of `who`.
pub(crate) async fn once(
    d: &Dashboard,
    who: &Principal,
    request: Request,
    handle: impl AsyncFnOnce(Request) -> Response,
) -> Response {
    let (parts, body) = request.into_parts();
    let Some(key) = parts.headers.get(KEY_HEADER) else {
        return handle(Request::from_parts(parts, body)).await;
    };
    let Ok(key) = key.to_str().map(str::to_owned) else {
        return AppError::invalid("Idempotency-Key", "visible ASCII characters only")
            .into_response();
    };
    let bytes = match axum::body::to_bytes(body, super::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => return AppError::bad_request(format!("the request body: {e}")).into_response(),
    };
    let print = fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    let keys = d.idempotency();
    match keys.claim(&who.actor, &key, &print).await {
        Err(e) => AppError::from(e).into_response(),
        Ok(Claim::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::Run) => {
            let response = handle(Request::from_parts(parts, Body::from(bytes))).await;
            let (answer, body) = response.into_parts();
            let body = match axum::body::to_bytes(body, MAX_ANSWER_BYTES).await {
                Ok(body) => body,
                Err(e) => {
                    let _ = keys.release(&who.actor, &key).await;
                    return AppError::from(crate::error::ServiceError::Internal(format!(
                        "the answer could not be kept: {e}"
                    )))
                    .into_response();
                }
            };
            let kept = if answer.status.is_server_error() {
                keys.release(&who.actor, &key).await
            } else {
                keys.finish(&who.actor, &key, answer.status.as_u16(), &body)
                    .await
            };
            if let Err(e) = kept {
                // Done but not remembered: say so rather than let a retry do it twice.
                tracing::error!(error = %e, "an idempotent answer could not be stored");
            }
            Response::from_parts(answer, Body::from(body))
        }
    }
}
