//! The UI's static files, embedded in the binary: the style sheet, htmx and its SSE extension,
//! the member pass app's script, icons and QR encoder (vendored under `assets/vendor/` with
//! their licences and checksums). Nothing is fetched from elsewhere at run time, and no Node
//! build step is needed.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Each asset: its name under `/assets/`, content type, and bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "bygd.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/bygd.css"),
    ),
    (
        "bygd.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/bygd.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx/htmx.min.js"),
    ),
    (
        "pass.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/pass.js"),
    ),
    (
        "qrcode.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/qrcode-generator/qrcode.js"),
    ),
    (
        "pass-icon-192.png",
        "image/png",
        include_bytes!("../../assets/pass-icon-192.png"),
    ),
    (
        "pass-icon-512.png",
        "image/png",
        include_bytes!("../../assets/pass-icon-512.png"),
    ),
    (
        "sse.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx-ext-sse/sse.min.js"),
    ),
];

/// `GET /assets/{name}`: the asset, cached for an hour (the binary's version is in the page's
/// links, so an upgrade loads fresh copies).
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
