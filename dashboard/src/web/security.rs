//! What every response and every state-changing request goes through: security headers
//! (a strict Content-Security-Policy with no inline script or style), and refusing requests
//! that another site's page made a browser send (cross-site request forgery).
//!
//! The forgery check is the one browsers make possible without tokens: a browser says where
//! a request comes from in `Sec-Fetch-Site` (every current browser) or, failing that, in
//! `Origin`. A POST, PUT, PATCH or DELETE that says it comes from another site is refused with
//! 403 before any handler runs. Requests with neither header (curl, scripts with an API
//! token) are not from a browser page and pass: they carry their credential themselves.

use crate::api::AppError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The Content-Security-Policy of every response: scripts, styles and images from this
/// server only (QR codes also as `data:` images), no frames, forms post only here; the pass
/// app's manifest and service worker from here too.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response. Pages and API answers are never stored by
/// the browser (a shared computer's Back button after signing out shows nothing); only the
/// embedded assets are cached.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !asset {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    response
}

/// Why a request counts as cross-site, if it does.
pub(crate) fn cross_site(method: &Method, headers: &HeaderMap) -> Option<String> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str().unwrap_or("") {
            // `none`: typed in the address bar or a bookmark, which cannot POST a form.
            "same-origin" | "none" => None,
            other => Some(format!("Sec-Fetch-Site is `{other}`")),
        };
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    if !host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
        None
    } else {
        Some(format!("Origin `{origin}` is not this server (`{host}`)"))
    }
}

/// Refuses a state-changing request another site's page made a browser send.
pub(crate) async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if let Some(why) = cross_site(request.method(), request.headers()) {
        tracing::warn!(
            method = %request.method(),
            path = request.uri().path(),
            why,
            "cross-site request refused"
        );
        return AppError::cross_site().into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_post_from_another_site_is_cross_site_and_one_from_here_is_not() {
        let post = Method::POST;
        assert!(cross_site(&post, &headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site(&post, &headers(&[("sec-fetch-site", "same-site")])).is_some());
        assert!(cross_site(&post, &headers(&[("sec-fetch-site", "same-origin")])).is_none());
        assert!(cross_site(
            &post,
            &headers(&[("origin", "https://evil.example"), ("host", "bygd.example")])
        )
        .is_some());
        assert!(cross_site(
            &post,
            &headers(&[("origin", "https://bygd.example"), ("host", "bygd.example")])
        )
        .is_none());
        assert!(cross_site(&post, &headers(&[("origin", "null"), ("host", "h")])).is_some());
    }

    #[test]
    fn reads_and_requests_without_browser_headers_pass() {
        assert!(cross_site(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")])).is_none());
        assert!(cross_site(&Method::POST, &HeaderMap::new()).is_none());
    }
}
