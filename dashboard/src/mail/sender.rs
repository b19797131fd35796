//! The sender: drains the mail outbox through the configured SMTP relay, retrying with
//! exponential backoff and giving up, visibly on the pass, after [`MAX_ATTEMPTS`] tries or a
//! permanent refusal.
//!
//! Time is the dashboard's clock ([`Dashboard::now`]): a row is due when its `next_try_at`
//! has passed. A sender takes a due row by moving its `next_try_at` on by [`LEASE_SECONDS`]
//! (compare-and-set), so dashboards sharing one PostgreSQL never send a row together, and a
//! sender that dies mid-send leaves the row to be tried again once the lease runs out. A row
//! marked sent is never sent again; the gap is a crash after the relay took the mail and
//! before the mark, which sends it twice (SMTP has no exactly-once).

use super::Dashboard;
use crate::config::{DashboardSmtp, SmtpSecurity};
use crate::error::ServiceResult;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// Tries before a mail is given up: with the backoff below, about two hours of a relay being
/// down, long enough for a restart or a fixed password, short enough that an operator learns
/// the same day that a member got nothing.
pub(crate) const MAX_ATTEMPTS: i64 = 8;
/// The wait after the first failed try; it doubles with each further failure.
const FIRST_RETRY_SECONDS: i64 = 60;
/// The longest wait between tries.
const MAX_RETRY_SECONDS: i64 = 3600;
/// How long a taken row is this sender's: well above one SMTP exchange at [`SMTP_TIMEOUT`].
const LEASE_SECONDS: i64 = 300;
/// How long one command to the relay may take before the try counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one whole delivery may take: a minute inside the lease.
const SEND_DEADLINE: Duration = Duration::from_secs(LEASE_SECONDS.unsigned_abs() - 60);

/// Why one try failed, and whether trying again could help.
struct SendError {
    permanent: bool,
    text: String,
}
/// Rows taken per round: a burst of issued passes goes out in a few rounds without one
/// round holding many leases.
const BATCH: i64 = 20;
/// How often the outbox is looked at without a wake-up (retries fall due on their own).
const POLL: Duration = Duration::from_secs(15);

/// Why the relay settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    /// The password file could not be read.
    #[error("[smtp] password_file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The CA file could not be read or holds no certificate.
    #[error("[smtp] ca_file {path}: {problem}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        problem: String,
    },
    /// Another key is unusable (the sender's mailbox, TLS settings).
    #[error("[smtp] {key}: {problem}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What was wrong.
        problem: String,
    },
}

/// Sends queued pass mail through one relay. `bygd serve` runs one with [`run`] when
/// `[smtp]` is configured; tests call [`Mailer::deliver_due`] themselves.
#[derive(Clone)]
pub struct Mailer {
    dashboard: Dashboard,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials the transport holds.
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Mails the relay accepted.
    pub sent: usize,
    /// Mails that failed and will be tried again.
    pub failed: usize,
    /// Mails given up.
    pub gave_up: usize,
}

/// The wait before try `attempts + 1`, after `attempts` failed ones.
fn backoff(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    FIRST_RETRY_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_SECONDS)
}

type OutboxRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    i64,
);

impl Mailer {
    /// A sender for `dashboard` through the relay `smtp` names (its password and CA files
    /// are read now).
    pub fn new(dashboard: Dashboard, smtp: &DashboardSmtp) -> Result<Self, MailSetupError> {
        let from: Mailbox = smtp.from.parse().map_err(|e| MailSetupError::Invalid {
            key: "from",
            problem: format!("`{}`: {e}", smtp.from),
        })?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port())
            .timeout(Some(SMTP_TIMEOUT));
        let tls = || -> Result<TlsParameters, MailSetupError> {
            let mut params = TlsParameters::builder(smtp.host.clone());
            if let Some(path) = &smtp.ca_file {
                let pem = std::fs::read(path).map_err(|e| MailSetupError::CaFile {
                    path: path.clone(),
                    problem: e.to_string(),
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| MailSetupError::CaFile {
                    path: path.clone(),
                    problem: format!("not a PEM certificate: {e}"),
                })?;
                params = params.add_root_certificate(cert);
            }
            params.build_rustls().map_err(|e| MailSetupError::Invalid {
                key: "security",
                problem: e.to_string(),
            })
        };
        builder = builder.tls(match smtp.security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        });
        if let (Some(user), Some(path)) = (&smtp.username, &smtp.password_file) {
            let password =
                std::fs::read_to_string(path).map_err(|source| MailSetupError::PasswordFile {
                    path: path.clone(),
                    source,
                })?;
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.trim_end_matches(['\r', '\n']).to_owned(),
            ));
        }
        Ok(Self {
            dashboard,
            transport: builder.build(),
            from,
        })
    }

    /// Sends every mail that is due now, once each; returns what happened.
    pub async fn deliver_due(&self) -> ServiceResult<Round> {
        let d = &self.dashboard;
        let due: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, next_try_at FROM mail_outbox WHERE sent_at IS NULL \
             AND gave_up_at IS NULL AND next_try_at <= $1 ORDER BY next_try_at, id LIMIT $2",
        )
        .bind(d.now())
        .bind(BATCH)
        .fetch_all(&d.db.pool)
        .await?;
        let mut round = Round::default();
        for (id, next_try_at) in due {
            // Take the row: only the sender whose update lands sends it.
            let taken = sqlx::query(
                "UPDATE mail_outbox SET next_try_at = $1 WHERE id = $2 AND next_try_at = $3 \
                 AND sent_at IS NULL AND gave_up_at IS NULL",
            )
            .bind(d.now() + LEASE_SECONDS)
            .bind(id.clone())
            .bind(next_try_at)
            .execute(&d.db.pool)
            .await?
            .rows_affected();
            if taken == 1 {
                self.deliver(&id, &mut round).await?;
            }
        }
        Ok(round)
    }

    /// Sends one taken row and records the outcome.
    async fn deliver(&self, id: &str, round: &mut Round) -> ServiceResult<()> {
        let d = &self.dashboard;
        let row: Option<OutboxRow> = sqlx::query_as(
            "SELECT m.pass, m.recipient, m.to_name, m.subject, m.body_text, m.body_html, \
             m.attempts, p.revoked_at, p.expires \
             FROM mail_outbox m JOIN passes p ON p.id = m.pass WHERE m.id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&d.db.pool)
        .await?;
        let Some((pass, to, name, subject, text, html, attempts, revoked, expires)) = row else {
            return self.give_up(id, "its pass is gone", round).await;
        };
        if revoked.is_some() {
            return self
                .give_up(id, "the pass was revoked before the mail was sent", round)
                .await;
        }
        if expires <= d.now() {
            return self
                .give_up(id, "the pass expired before the mail was sent", round)
                .await;
        }
        let (Some(text), Some(html)) = (text, html) else {
            return self.give_up(id, "its text was wiped", round).await;
        };
        let message = to
            .parse()
            .map_err(|e: lettre::address::AddressError| e.to_string())
            .and_then(|address| {
                Message::builder()
                    .from(self.from.clone())
                    .to(Mailbox::new(Some(name), address))
                    .subject(subject)
                    .multipart(MultiPart::alternative_plain_html(text, html))
                    .map_err(|e| e.to_string())
            });
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                return self
                    .give_up(id, &format!("unusable message: {e}"), round)
                    .await
            }
        };
        let attempts = attempts + 1;
        // Within the lease, whatever the relay does: a slow relay never lets another sender
        // take the row while this one may still deliver it.
        let sent = match tokio::time::timeout(SEND_DEADLINE, self.transport.send(message)).await {
            Ok(sent) => sent.map_err(|e| SendError {
                // A refused login (530, 535) is the operator's to fix, not the mail's fault:
                // retried, so that a fixed password still delivers it.
                permanent: e.is_permanent()
                    && !matches!(
                        e.status().map(|c| c.to_string()).as_deref(),
                        Some("530" | "535")
                    ),
                text: e.to_string(),
            }),
            Err(_) => Err(SendError {
                permanent: false,
                text: format!("the relay did not finish within {SEND_DEADLINE:?}"),
            }),
        };
        match sent {
            Ok(_) => {
                sqlx::query(
                    "UPDATE mail_outbox SET sent_at = $1, attempts = $2, last_error = NULL, \
                     body_text = NULL, body_html = NULL WHERE id = $3",
                )
                .bind(d.now())
                .bind(attempts)
                .bind(id.to_owned())
                .execute(&d.db.pool)
                .await?;
                tracing::info!(pass = %pass, mail = id, attempts, "pass link mail sent");
                round.sent += 1;
            }
            Err(e) if e.permanent || attempts >= MAX_ATTEMPTS => {
                self.record_failure(id, attempts, &e.text).await?;
                self.give_up(id, &e.text, round).await?;
            }
            Err(e) => {
                let next = d.now() + backoff(attempts);
                self.record_failure(id, attempts, &e.text).await?;
                sqlx::query("UPDATE mail_outbox SET next_try_at = $1 WHERE id = $2")
                    .bind(next)
                    .bind(id.to_owned())
                    .execute(&d.db.pool)
                    .await?;
                tracing::warn!(pass = %pass, mail = id, attempts, error = %e.text,
                    next_try_at = %crate::timetext::rfc3339(next), "pass link mail not sent; will retry");
                round.failed += 1;
            }
        }
        Ok(())
    }

    async fn record_failure(&self, id: &str, attempts: i64, error: &str) -> ServiceResult<()> {
        sqlx::query("UPDATE mail_outbox SET attempts = $1, last_error = $2 WHERE id = $3")
            .bind(attempts)
            .bind(error.to_owned())
            .bind(id.to_owned())
            .execute(&self.dashboard.db.pool)
            .await?;
        Ok(())
    }

    /// Stops trying `id` and wipes its link-bearing bodies.
    async fn give_up(&self, id: &str, why: &str, round: &mut Round) -> ServiceResult<()> {
        sqlx::query(
            "UPDATE mail_outbox SET gave_up_at = $1, last_error = $2, \
             body_text = NULL, body_html = NULL WHERE id = $3",
        )
        .bind(self.dashboard.now())
        .bind(why.to_owned())
        .bind(id.to_owned())
        .execute(&self.dashboard.db.pool)
        .await?;
        tracing::warn!(mail = id, reason = why, "pass link mail given up");
        round.gave_up += 1;
        Ok(())
    }
}

/// Runs `mailer` until `stop`: a round at start, at each wake-up (a mail queued) and every
/// [`POLL`]. A failed round (the database away) is logged and tried again later.
pub(crate) async fn run(mailer: Mailer, mut stop: tokio::sync::watch::Receiver<bool>) {
    let wake = mailer.dashboard.mail_wake.clone();
    loop {
        if let Err(e) = mailer.deliver_due().await {
            tracing::warn!(error = %e, "mail outbox round failed");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(3), 240);
        assert_eq!(backoff(7), 3600);
        assert_eq!(backoff(100), 3600);
    }
}
