//! The member's pass app behind an unguessable link: the pass page (installable, opens
//! offline through its service worker), its state for the app to poll, its web app manifest,
//! enrolling the phone's device key once, and a phone's report that it cannot keep one.
//!
//! The page is in the member's language (Swedish, Danish or English, switched on the page),
//! with the pass's doors, dates and schedule in the site's time zone. A bare pass shows its
//! code as the server draws it; a device-bound pass is drawn by the app (`/assets/pass.js`)
//! as a fresh `BYGD1D:` presentation every 30 seconds with the key only the phone holds.
//!
//! The link's secret is the credential (like a bare pass's QR text), so these answers send
//! `Cache-Control: no-store` and `Referrer-Policy: no-referrer`; only the service worker keeps
//! a copy, in the phone's own storage, and replaces it whenever the server answers. A revoked
//! or expired pass shows a message instead of its code.

use super::error::AppError;
use super::{ApiJson, ApiPath as Path};
use crate::qr::QrImage;
use crate::service::Dashboard;
use crate::{PassPage, PassStatus};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Pixels per module of the PNG: about 400 px for a typical pass, sharp on any phone.
const PNG_SCALE: u32 = 8;

const PRIVATE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// The service worker: one for every pass link on this server (scope `/p/`).
const SERVICE_WORKER: &str = include_str!("../../assets/pass-sw.js");

async fn code(d: &Dashboard, secret: &str) -> Result<(PassPage, QrImage), AppError> {
    let page = d.passes().page(secret).await?;
    let qr = QrImage::new(&page.qr_text)
        .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))?;
    Ok((page, qr))
}

/// The code of a bare pass that still opens doors. A revoked or expired pass is gone; a
/// device-bound pass (or any at a site that requires one) has no fixed code to hand out.
async fn valid_code(d: &Dashboard, secret: &str) -> Result<QrImage, AppError> {
    let (page, qr) = code(d, secret).await?;
    if page.status(d.now()) != PassStatus::Valid {
        return Err(AppError::gone("this pass was revoked or has expired"));
    }
    if page.bare_code().is_none() {
        return Err(AppError::gone(
            "this pass opens only with the changing code its pass app draws on the phone",
        ));
    }
    Ok(qr)
}

#[derive(askama::Template)]
#[template(path = "member_pass.html")]
struct MemberPassPage {
    t: crate::web::Tr,
    page: PassPage,
    /// The link's path, `/p/{secret}`, for the manifest and the app.
    path: String,
    /// A bare pass's QR code as SVG markup (made here, not from input).
    svg: Option<String>,
    gone: Option<&'static str>,
    from: String,
    until: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct PageQuery {
    lang: Option<String>,
}

/// `GET /p/{secret}`: the member's pass app, in their language (`?lang=` from the page's own
/// switch, else the browser's), with the code large enough for a door's scanner.
pub(crate) async fn pass_page(
    State(d): State<Dashboard>,
    parts: axum::http::request::Parts,
    Path(secret): Path<String>,
    super::ApiQuery(q): super::ApiQuery<PageQuery>,
) -> Result<Response, AppError> {
    // A link that leads nowhere is a page too: the installed app (and its service worker)
    // shows it in the member's language, not the API's JSON.
    let (page, qr) = match code(&d, &secret).await {
        Ok(found) => found,
        Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => {
            let lang = q
                .lang
                .as_deref()
                .and_then(crate::web::Lang::parse)
                .unwrap_or_else(|| crate::web::frame::request_lang(&parts));
            return Ok((PRIVATE, crate::web::frame::WebError::no_pass_link(lang)).into_response());
        }
        Err(e) => return Err(e),
    };
    // The page's own switch, else the phone's language, else the member's (or their site's).
    let lang = q
        .lang
        .as_deref()
        .and_then(crate::web::Lang::parse)
        .or_else(|| crate::web::frame::asked_lang(&parts))
        .or_else(|| crate::web::Lang::parse(&page.language))
        .unwrap_or(crate::web::Lang::En);
    let gone = match page.status(d.now()) {
        PassStatus::Revoked => Some("member-pass-revoked"),
        PassStatus::Expired => Some("member-pass-expired"),
        PassStatus::Valid => None,
    };
    let local = |t: i64| crate::timetext::format_time(t, &page.zone);
    let view = MemberPassPage {
        t: crate::web::Tr { lang },
        svg: page.bare_code().map(|_| qr.svg()),
        path: format!("/p/{secret}"),
        gone,
        from: local(page.not_before),
        until: local(page.expires),
        page,
    };
    Ok((PRIVATE, crate::web::frame::render(&view)).into_response())
}

/// The pass's state as the app reads it when online.
#[derive(serde::Serialize)]
struct AppState {
    /// valid, revoked or expired.
    status: PassStatus,
    /// The server's clock (Unix seconds): the app learns its offset from it.
    now: i64,
    /// The pass the link leads to now; a new id means a renewed or enrolled pass.
    pass_id: String,
    /// Whether the pass names a device key.
    device_bound: bool,
    /// The signed pass in hex, for a device-bound pass (useless without the key).
    pass: Option<String>,
    /// Whether this link may still enrol a phone.
    can_enrol: bool,
    /// Whether the site opens only for device-bound passes.
    require_device_key: bool,
    /// Valid until (Unix seconds).
    expires: i64,
}

fn app_state(page: &PassPage, now: i64) -> AppState {
    AppState {
        status: page.status(now),
        now,
        pass_id: page.pass_id.clone(),
        device_bound: page.device_bound,
        pass: page.device_bound_pass(),
        can_enrol: page.can_enrol(now),
        require_device_key: page.require_device_key,
        expires: page.expires,
    }
}

/// `GET /p/{secret}/pass.json`: the pass's state for the app: revoked, expired, renewed.
pub(crate) async fn pass_state(
    State(d): State<Dashboard>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let page = d.passes().page(&secret).await?;
    Ok((PRIVATE, Json(app_state(&page, d.now()))).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrolBody {
    /// The phone's P-256 public key, SEC1 (WebCrypto's raw export), in hex.
    public_key: String,
}

/// `POST /p/{secret}/enrol`: the phone's device key, once per link. Answers the new state
/// (a device-bound pass), or 409 when the link already set up a phone.
pub(crate) async fn enrol(
    State(d): State<Dashboard>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<EnrolBody>,
) -> Result<Response, AppError> {
    let key = hex::decode(body.public_key.trim()).map_err(|_| {
        AppError::invalid("public_key", "expected hex digits (SEC1 P-256 public key)")
    })?;
    let page = d.passes().enrol(&secret, &key).await?;
    Ok((PRIVATE, Json(app_state(&page, d.now()))).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProblemBody {
    /// One of [`crate::DEVICE_PROBLEMS`].
    problem: String,
}

/// `POST /p/{secret}/device-problem`: the phone cannot keep a device key, and why.
pub(crate) async fn device_problem(
    State(d): State<Dashboard>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<ProblemBody>,
) -> Result<Response, AppError> {
    d.passes()
        .report_device_problem(&secret, &body.problem)
        .await?;
    Ok((PRIVATE, axum::http::StatusCode::NO_CONTENT).into_response())
}

/// `GET /p/{secret}/manifest.webmanifest`: what makes the pass installable: its name, the
/// link to start at, standalone display, icons.
pub(crate) async fn manifest(
    State(d): State<Dashboard>,
    parts: axum::http::request::Parts,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let page = d.passes().page(&secret).await?;
    let t = crate::web::Tr {
        lang: crate::web::frame::request_lang(&parts),
    };
    let path = format!("/p/{secret}");
    let manifest = serde_json::json!({
        "name": format!("{} · {}", t.get("member-pass-title"), page.site_name),
        "short_name": t.get("member-pass-short-name"),
        "id": path,
        "start_url": path,
        "scope": path,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5135",
        "icons": [
            { "src": "/assets/pass-icon-192.png", "sizes": "192x192", "type": "image/png" },
            { "src": "/assets/pass-icon-512.png", "sizes": "512x512", "type": "image/png" },
        ],
    });
    Ok((
        PRIVATE,
        [(header::CONTENT_TYPE, "application/manifest+json")],
        manifest.to_string(),
    )
        .into_response())
}

/// `GET /p/sw.js`: the pass app's service worker.
pub(crate) async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SERVICE_WORKER,
    )
        .into_response()
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
