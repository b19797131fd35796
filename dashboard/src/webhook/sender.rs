//! Posts queued webhook deliveries, in order per subscription: the oldest undelivered one
//! first, and none after it until it is delivered or given up. Each is signed
//! (`Bygd-Signature`), carries its id (`Bygd-Delivery`) and kind (`Bygd-Event`); a 2xx answer
//! delivers it, anything else (another status, no answer within [`TIMEOUT`]) is retried
//! after 10, 20, 40… seconds, at most an hour apart, and given up after [`MAX_ATTEMPTS`]
//! tries (about 4 hours), which the subscription shows. Several dashboards may run the sender
//! on one database: a sender takes a delivery by moving its next try on by a lease first.

use crate::error::{ServiceError, ServiceResult};
use crate::service::Dashboard;
use hmac::{Hmac, Mac as _};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

/// Tries before a delivery is given up.
pub(crate) const MAX_ATTEMPTS: i64 = 12;
/// The wait after the first failed try; it doubles with each further failure.
const FIRST_RETRY_SECONDS: i64 = 10;
/// The longest wait between tries.
const MAX_RETRY_SECONDS: i64 = 3600;
/// How long one try may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(20);
/// How long a taken delivery is this sender's: well above [`TIMEOUT`].
const LEASE_SECONDS: i64 = 120;
/// How often the queue is looked at without a wake-up.
const POLL: Duration = Duration::from_secs(5);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Deliveries the receiver took (2xx).
    pub delivered: usize,
    /// Tries that failed and will be retried.
    pub failed: usize,
    /// Deliveries given up after their last try.
    pub given_up: usize,
}

/// The sender: the dashboard and a TLS client trusting Mozilla's roots.
#[derive(Clone)]
pub struct WebhookSender {
    dashboard: Dashboard,
    tls: tokio_rustls::TlsConnector,
}

impl WebhookSender {
    /// A sender for `dashboard`'s subscriptions.
    pub fn new(dashboard: Dashboard) -> ServiceResult<Self> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServiceError::Internal(format!("TLS for webhooks: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            dashboard,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// Delivers what is due, each subscription in order.
    pub async fn deliver_due(&self) -> ServiceResult<Round> {
        let d = &self.dashboard;
        let mut round = Round::default();
        let webhooks: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, url, secret FROM webhooks WHERE disabled_at IS NULL")
                .fetch_all(&d.db.pool)
                .await?;
        for (webhook, url, sealed) in webhooks {
            let secret = d.webhook_secret(&webhook, &sealed)?;
            loop {
                let head: Option<(String, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT id, kind, body, attempts, next_try_at FROM webhook_deliveries \
                     WHERE webhook = $1 AND delivered_at IS NULL AND gave_up_at IS NULL \
                     ORDER BY seq LIMIT 1",
                )
                .bind(webhook.clone())
                .fetch_optional(&d.db.pool)
                .await?;
                let Some((id, kind, body, attempts, due)) = head else {
                    break;
                };
                let now = d.now();
                if due > now {
                    break; // In order: the rest waits behind it.
                }
                let taken = sqlx::query(
                    "UPDATE webhook_deliveries SET next_try_at = $1 WHERE id = $2 AND next_try_at = $3",
                )
                .bind(now + LEASE_SECONDS)
                .bind(id.clone())
                .bind(due)
                .execute(&d.db.pool)
                .await?;
                if taken.rows_affected() != 1 {
                    break; // Another sender has it.
                }
                let attempts = attempts + 1;
                match self.post(&url, &secret, &id, &kind, &body).await {
                    Ok(()) => {
                        sqlx::query(
                            "UPDATE webhook_deliveries SET delivered_at = $1, attempts = $2, \
                             last_error = NULL WHERE id = $3",
                        )
                        .bind(d.now())
                        .bind(attempts)
                        .bind(id.clone())
                        .execute(&d.db.pool)
                        .await?;
                        tracing::info!(webhook = %webhook, delivery = %id, kind, attempts, "webhook delivered");
                        round.delivered += 1;
                    }
                    Err(error) if attempts >= MAX_ATTEMPTS => {
                        sqlx::query(
                            "UPDATE webhook_deliveries SET gave_up_at = $1, attempts = $2, \
                             last_error = $3 WHERE id = $4",
                        )
                        .bind(d.now())
                        .bind(attempts)
                        .bind(error.clone())
                        .bind(id.clone())
                        .execute(&d.db.pool)
                        .await?;
                        tracing::error!(webhook = %webhook, delivery = %id, kind, attempts, error,
                            "webhook delivery given up");
                        round.given_up += 1;
                    }
                    Err(error) => {
                        let next = d.now() + backoff(attempts);
                        sqlx::query(
                            "UPDATE webhook_deliveries SET next_try_at = $1, attempts = $2, \
                             last_error = $3 WHERE id = $4",
                        )
                        .bind(next)
                        .bind(attempts)
                        .bind(error.clone())
                        .bind(id.clone())
                        .execute(&d.db.pool)
                        .await?;
                        tracing::warn!(webhook = %webhook, delivery = %id, kind, attempts, error,
                            next_try_at = %crate::timetext::rfc3339(next), "webhook not delivered; will retry");
                        round.failed += 1;
                        break;
                    }
                }
            }
        }
        Ok(round)
    }

    /// One try: the signed POST, and whether the receiver answered 2xx.
    async fn post(
        &self,
        url: &str,
        secret: &[u8],
        id: &str,
        kind: &str,
        body: &str,
    ) -> Result<(), String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("the URL: {e}"))?;
        let host = uri.host().ok_or("the URL has no host")?.to_owned();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let timestamp = self.dashboard.now();
        let request = hyper::Request::post(path)
            .header(
                hyper::header::HOST,
                uri.authority().map_or(host.as_str(), |a| a.as_str()),
            )
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "bygd-webhooks/1")
            .header("bygd-delivery", id)
            .header("bygd-event", kind)
            .header("bygd-signature", signature(secret, timestamp, body))
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| format!("the request: {e}"))?;
        let attempt = async {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
            if https {
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| format!("`{host}` is not a TLS server name: {e}"))?;
                let tls = self
                    .tls
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("TLS with {host}: {e}"))?;
                send(tls, request).await
            } else {
                send(tcp, request).await
            }
        };
        let status = tokio::time::timeout(TIMEOUT, attempt)
            .await
            .map_err(|_| format!("no answer within {TIMEOUT:?}"))??;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("the receiver answered {status}"))
        }
    }
}

/// Sends one request over `io` and returns the answer's status.
async fn send<S>(io: S, request: hyper::Request<Full<Bytes>>) -> Result<u16, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(connection);
    let answer = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"));
    driver.abort();
    Ok(answer?.status().as_u16())
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
#[must_use]
pub(crate) fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The wait before try `attempts + 1`.
fn backoff(attempts: i64) -> i64 {
    let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    (FIRST_RETRY_SECONDS << doublings).min(MAX_RETRY_SECONDS)
}

/// Runs the sender until `stop`: a round at once, then whenever a change is committed (the
/// overview's change signal) or every few seconds.
pub(crate) async fn run(sender: WebhookSender, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut changes = sender.dashboard.watch_changes();
    loop {
        if let Err(e) = sender.deliver_due().await {
            tracing::warn!(error = %e, "webhook round failed");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            _ = changes.changed() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(1), 10);
        assert_eq!(backoff(2), 20);
        assert_eq!(backoff(3), 40);
        assert_eq!(backoff(12), 3600);
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_the_timestamp_a_dot_and_the_body() {
        // RFC 4231 test case 2's key and HMAC, with "<t>.<body>" = "what do ya want for nothing?".
        let sig = signature(b"Jefe", 0, "what do ya want for nothing?");
        assert!(sig.starts_with("t=0,v1="));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.what do ya want for nothing?");
        assert_eq!(
            sig,
            format!("t=0,v1={}", hex::encode(mac.finalize().into_bytes()))
        );
    }
}
