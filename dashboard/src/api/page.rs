//! The member's pass page: the QR code to show at the door, behind an unguessable link.
//!
//! The link's secret is the credential (like the QR text it shows), so these pages send
//! `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, and a revoked or expired
//! pass shows a message instead of its code.

use super::error::AppError;
use super::ApiPath as Path;
use crate::qr::QrImage;
use crate::service::Dashboard;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// Pixels per module of the PNG: about 400 px for a typical pass, sharp on any phone.
const PNG_SCALE: u32 = 8;

const PRIVATE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn code(d: &Dashboard, secret: &str) -> Result<(crate::pass::PassPage, QrImage), AppError> {
    let page = d.passes().page(secret).await?;
    let qr = QrImage::new(&page.qr_text)
        .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))?;
    Ok((page, qr))
}

/// The code of a pass that still opens doors; a revoked or expired one is gone.
async fn valid_code(d: &Dashboard, secret: &str) -> Result<QrImage, AppError> {
    let (page, qr) = code(d, secret).await?;
    if page.revoked || page.expires <= d.now() {
        return Err(AppError::gone("this pass was revoked or has expired"));
    }
    Ok(qr)
}

pub(crate) async fn pass_page(
    State(d): State<Dashboard>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let (page, qr) = code(&d, &secret).await?;
    let now = d.now();
    let body = if page.revoked || page.expires <= now {
        format!(
            "<p class=\"gone\">This pass for <b>{}</b> at <b>{}</b> no longer opens doors ({}). \
             Ask the space for a new one.</p>",
            escape(&page.member),
            escape(&page.site),
            if page.revoked { "revoked" } else { "expired" }
        )
    } else {
        format!(
            "{}<p>Member <b>{}</b> at <b>{}</b>, valid until {}.</p>\
             <p>Hold this code to the reader at the door.</p>",
            qr.svg(),
            escape(&page.member),
            escape(&page.site),
            crate::timetext::rfc3339(page.expires)
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>bygd pass</title><style>body{{font-family:sans-serif;text-align:center;margin:1em}}\
         svg{{width:min(90vw,420px);height:auto}}.gone{{color:#a00}}</style></head><body>{body}</body></html>"
    );
    Ok((PRIVATE, Html(html)).into_response())
}

pub(crate) async fn pass_png(
    State(d): State<Dashboard>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let qr = valid_code(&d, &secret).await?;
    let png = qr
        .png(PNG_SCALE)
        .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))?;
    Ok((PRIVATE, [(header::CONTENT_TYPE, "image/png")], png).into_response())
}

pub(crate) async fn pass_svg(
    State(d): State<Dashboard>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let qr = valid_code(&d, &secret).await?;
    Ok((PRIVATE, [(header::CONTENT_TYPE, "image/svg+xml")], qr.svg()).into_response())
}
