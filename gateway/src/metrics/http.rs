//! The smallest HTTP/1.1 server Prometheus can scrape: one request per connection, `GET
//! /metrics` answered, everything else refused with a status line that says why.
//!
//! The gateway has no HTTP stack and a door controller should not grow one for a scrape
//! endpoint. What is read is bounded (a request head of at most [`MAX_HEAD_BYTES`], within
//! [`HEAD_TIMEOUT`], at most [`MAX_CONNECTIONS`] at once); the request is only split at
//! spaces, never interpreted further, so no input can make it panic. Deciding what to answer
//! ([`route`]) is pure; the tokio part only reads, writes and closes.

use super::page::CONTENT_TYPE;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// The largest request head read: Prometheus sends a few hundred bytes; 8 KiB is the limit
/// common servers put on one header line, so a real client never meets it.
pub(crate) const MAX_HEAD_BYTES: usize = 8 * 1024;

/// How long a client may take to send its request head: a scraper sends it at once; a stuck
/// or slow client must not hold a connection slot.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once: one scraper needs one; a few more let a person `curl` while
/// Prometheus scrapes. Others wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 4;

/// After an error answer the rest of what the client sends is read and dropped, up to this
/// much, so that closing with unread bytes does not reset the connection before the client
/// has read the answer (Linux sends RST then, and the client may lose the answer).
const DRAIN_BYTES: u64 = 1024 * 1024;

/// How long that draining may take.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// What a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /metrics`: the page.
    Metrics,
    /// Another path: 404.
    NotFound,
    /// Another method: 405.
    MethodNotAllowed,
    /// Not an HTTP/1.x request line: 400.
    BadRequest,
    /// No end of the head within [`MAX_HEAD_BYTES`]: 431.
    TooLarge,
    /// No complete head within [`HEAD_TIMEOUT`]: 408.
    Timeout,
}

/// What to answer a client that sent `head` so far, or `None` if more bytes are needed.
///
/// The head ends at the first empty line (`\r\n\r\n`, or `\n\n` from a sloppy client).
pub(crate) fn route(head: &[u8]) -> Option<Route> {
    // Where the head ends, and where it would end with its terminating empty line.
    let end = find(head, b"\r\n\r\n")
        .map(|end| (end, end + 4))
        .or_else(|| find(head, b"\n\n").map(|end| (end, end + 2)));
    let Some((end, _)) = end.filter(|&(_, whole)| whole <= MAX_HEAD_BYTES) else {
        return (head.len() >= MAX_HEAD_BYTES).then_some(Route::TooLarge);
    };
    let head = &head[..end];
    let line_end = find(head, b"\n").unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else {
        return Some(Route::BadRequest);
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Some(Route::BadRequest);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Some(Route::BadRequest);
    }
    if method != "GET" {
        return Some(Route::MethodNotAllowed);
    }
    // A query string changes nothing: Prometheus may add one from a scrape config's params.
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Some(if path == "/metrics" {
        Route::Metrics
    } else {
        Route::NotFound
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The whole answer to `route`, with `page` as the body of a 200.
pub(crate) fn response(route: Route, page: &str) -> Vec<u8> {
    let (status, body, allow) = match route {
        Route::Metrics => ("200 OK", page, false),
        Route::NotFound => (
            "404 Not Found",
            "not found: the only page is /metrics\n",
            false,
        ),
        Route::MethodNotAllowed => (
            "405 Method Not Allowed",
            "method not allowed: use GET /metrics\n",
            true,
        ),
        Route::BadRequest => (
            "400 Bad Request",
            "bad request: not an HTTP/1.x request\n",
            false,
        ),
        Route::TooLarge => (
            "431 Request Header Fields Too Large",
            "request head larger than 8 KiB\n",
            false,
        ),
        Route::Timeout => (
            "408 Request Timeout",
            "no complete request within 5 seconds\n",
            false,
        ),
    };
    let content_type = if route == Route::Metrics {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if allow {
        out.push_str("Allow: GET\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// Serves `listener` until shutdown; `page` renders the metrics page for each scrape.
pub(crate) async fn serve<P, F>(listener: TcpListener, page: P, mut shutdown: watch::Receiver<bool>)
where
    P: Fn() -> F + Send + Sync + 'static,
    F: Future<Output = String> + Send,
{
    let page = Arc::new(page);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = tokio::select! {
            _ = shutdown.changed() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics accept failed");
                    continue;
                }
            },
        };
        let page = page.clone();
        tokio::spawn(async move {
            connection(stream, page.as_ref()).await;
            tracing::trace!(%peer, "metrics connection closed");
            drop(slot);
        });
    }
}

/// Reads one request head, answers it and closes.
async fn connection<P, F>(mut stream: TcpStream, page: &P)
where
    P: Fn() -> F,
    F: Future<Output = String>,
{
    let mut head = Vec::new();
    let route = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream, &mut head)).await {
        Err(_) => Route::Timeout,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "metrics request could not be read");
            return;
        }
        Ok(Ok(route)) => route,
    };
    if route != Route::Metrics {
        tracing::debug!(?route, "metrics request refused");
    }
    let body = match route {
        Route::Metrics => page().await,
        _ => String::new(),
    };
    if let Err(e) = stream.write_all(&response(route, &body)).await {
        tracing::debug!(error = %e, "metrics answer could not be sent");
        return;
    }
    let _ = stream.shutdown().await;
    let mut rest = stream.take(DRAIN_BYTES);
    let _ = tokio::time::timeout(
        DRAIN_TIMEOUT,
        tokio::io::copy(&mut rest, &mut tokio::io::sink()),
    )
    .await;
}

/// Reads until [`route`] can decide; a client that closes first sent a bad request.
async fn read_head(stream: &mut TcpStream, head: &mut Vec<u8>) -> std::io::Result<Route> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(route) = route(head) {
            return Ok(route);
        }
        let room = (MAX_HEAD_BYTES - head.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Ok(Route::BadRequest);
        }
        head.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_is_routed_to_the_metrics_page() {
        let scrape = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: text/plain\r\n\r\n";
        assert_eq!(route(scrape), Some(Route::Metrics));
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.0\n\n"),
            Some(Route::Metrics)
        );
    }

    #[test]
    fn a_partial_head_needs_more_bytes() {
        assert_eq!(route(b""), None);
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn other_paths_methods_and_garbage_are_refused() {
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Some(Route::NotFound));
        assert_eq!(
            route(b"BREW /metrics HTTP/1.1\r\n\r\n"),
            Some(Route::MethodNotAllowed)
        );
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Some(Route::MethodNotAllowed)
        );
        for bad in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET /metrics HTTP/2\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"\xff\xfe /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert_eq!(route(bad), Some(Route::BadRequest), "{bad:?}");
        }
    }

    #[test]
    fn a_head_without_an_end_within_the_limit_is_too_large() {
        let mut head = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        head.resize(MAX_HEAD_BYTES - 1, b'a');
        assert_eq!(route(&head), None);
        head.push(b'a');
        assert_eq!(route(&head), Some(Route::TooLarge));
        // An end of head beyond the limit does not count.
        head.extend_from_slice(b"\r\n\r\n");
        assert_eq!(route(&head), Some(Route::TooLarge));
    }

    #[test]
    fn the_page_is_answered_with_its_length_and_the_prometheus_content_type() {
        let answer = String::from_utf8(response(Route::Metrics, "a 1\n")).expect("UTF-8");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(answer.contains("\r\nContent-Length: 4\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\na 1\n"), "{answer}");
    }

    #[test]
    fn a_refused_method_is_told_which_one_to_use() {
        let answer =
            String::from_utf8(response(Route::MethodNotAllowed, "ignored")).expect("UTF-8");
        assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
        assert!(answer.contains("\r\nAllow: GET\r\n"), "{answer}");
        assert!(!answer.contains("ignored"), "only a 200 carries the page");
    }
}
