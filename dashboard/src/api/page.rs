//! The member's pass page: the QR code to show at the door, behind an unguessable link, in
//! the member's language (Swedish, Danish or English, switched on the page), with the pass's
//! doors, dates and schedule in the site's time zone.
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
use axum::response::{IntoResponse, Response};

/// Pixels per module of the PNG: about 400 px for a typical pass, sharp on any phone.
const PNG_SCALE: u32 = 8;

const PRIVATE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
];

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

#[derive(askama::Template)]
#[template(path = "member_pass.html")]
struct MemberPassPage {
    t: crate::web::Tr,
    page: crate::pass::PassPage,
    /// The QR code as SVG markup (made here, not from input).
    svg: String,
    gone: Option<&'static str>,
    from: String,
    until: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct PageQuery {
    lang: Option<String>,
}

/// `GET /p/{secret}`: the member's pass, in their language (`?lang=` from the page's own
/// switch, else the browser's), with the code large enough for a door's scanner.
pub(crate) async fn pass_page(
    State(d): State<Dashboard>,
    parts: axum::http::request::Parts,
    Path(secret): Path<String>,
    super::ApiQuery(q): super::ApiQuery<PageQuery>,
) -> Result<Response, AppError> {
    let (page, qr) = code(&d, &secret).await?;
    let now = d.now();
    let lang = q
        .lang
        .as_deref()
        .and_then(crate::web::Lang::parse)
        .unwrap_or_else(|| crate::web::frame::request_lang(&parts));
    let gone = if page.revoked {
        Some("member-pass-revoked")
    } else if page.expires <= now {
        Some("member-pass-expired")
    } else {
        None
    };
    let local = |t: i64| crate::timetext::format_time(t, &page.zone);
    let view = MemberPassPage {
        t: crate::web::Tr { lang },
        svg: qr.svg(),
        gone,
        from: local(page.not_before),
        until: local(page.expires),
        page,
    };
    Ok((PRIVATE, crate::web::frame::render(&view)).into_response())
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
