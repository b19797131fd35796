//! Pass links by e-mail: the durable outbox (queueing a message with its pass, each pass's
//! latest delivery) and the message itself, in the member's language.
//!
//! A pass page link is a credential and only its hash is stored, so the one moment its text
//! exists is when the pass (or a new link for it) is made. The message is therefore rendered
//! and queued in that same transaction: no link is handed out without its mail, and a
//! restart loses no queued mail. The link-bearing bodies are wiped once the mail is sent or
//! given up, so a stolen database backup holds links only for mail not yet sent.
//!
//! Invariant: a pass has at most one mail that may still be sent, its latest (highest `n`);
//! queueing another one gives up the older ones, whose links no longer open the pass page.
//! The sender that drains the outbox through the configured relay is in `mail/sender.rs`.

mod sender;

pub(crate) use sender::run;
pub use sender::{MailSetupError, Mailer, Round};

use crate::access::Principal;
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_hex_id, Dashboard, Tx};
use crate::web::{Lang, Tr};
use askama::Template;
use serde::Serialize;
use std::collections::HashMap;

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first try.
    Queued,
    /// Accepted by the relay.
    Sent,
    /// Tried and refused or unreachable; it is tried again at `next_try_at`.
    Failed,
    /// Not sent and not tried again: too many tries, a permanent refusal, or the pass was
    /// revoked or expired (or got a newer link) first.
    GaveUp,
}

/// A pass's latest mail, as the API and the pass page show it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Where it stands.
    pub state: DeliveryState,
    /// The address it goes to.
    pub to: String,
    /// When it was queued (RFC 3339).
    pub queued_at: String,
    /// How many times the relay was tried.
    pub attempts: i64,
    /// When the relay accepted it (RFC 3339).
    pub sent_at: Option<String>,
    /// Why the last try failed (the relay's answer or the connection error).
    pub last_error: Option<String>,
    /// When it is tried next (RFC 3339), while it is queued or failed.
    pub next_try_at: Option<String>,
    /// When sending was given up (RFC 3339).
    pub gave_up_at: Option<String>,
}

type DeliveryRow = (
    String,
    i64,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

const DELIVERY_COLUMNS: &str =
    "pass, n, recipient, queued_at, attempts, next_try_at, last_error, sent_at, gave_up_at";

fn delivery((_, _, to, queued, attempts, next, error, sent, gave_up): DeliveryRow) -> Delivery {
    let rfc = crate::timetext::rfc3339;
    let state = match (sent, gave_up, attempts) {
        (Some(_), ..) => DeliveryState::Sent,
        (None, Some(_), _) => DeliveryState::GaveUp,
        (None, None, 0) => DeliveryState::Queued,
        (None, None, _) => DeliveryState::Failed,
    };
    let pending = matches!(state, DeliveryState::Queued | DeliveryState::Failed);
    Delivery {
        state,
        to,
        queued_at: rfc(queued),
        attempts,
        sent_at: sent.map(rfc),
        last_error: error,
        next_try_at: pending.then(|| rfc(next)),
        gave_up_at: gave_up.map(rfc),
    }
}

/// The latest mail of `pass`, if it ever had one.
pub(crate) async fn latest(d: &Dashboard, pass: &str) -> ServiceResult<Option<Delivery>> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM mail_outbox WHERE pass = $1 ORDER BY n DESC LIMIT 1"
    ))
    .bind(pass.to_owned())
    .fetch_optional(&d.db.pool)
    .await?;
    Ok(row.map(delivery))
}

/// The latest mail of every pass that had one (no bodies are read).
pub(crate) async fn latest_all(d: &Dashboard) -> ServiceResult<HashMap<String, Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM mail_outbox ORDER BY pass, n"
    ))
    .fetch_all(&d.db.pool)
    .await?;
    // Ordered by n: the last row of each pass wins.
    Ok(rows
        .into_iter()
        .map(|row| (row.0.clone(), delivery(row)))
        .collect())
}

/// Who a pass's mail goes to and what it says about the sender, read before the write.
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    /// The member's name.
    name: String,
    /// Their address (checked to parse).
    email: String,
    /// The member's language, else the site's.
    lang: Lang,
    /// The site's name, for people.
    site_name: String,
    /// The site's time zone, for the validity.
    zone: jiff::tz::TimeZone,
}

impl Recipient {
    /// The member's mail details at `site`; refuses a member without a usable address.
    pub(crate) async fn of(
        d: &Dashboard,
        who: &Principal,
        member: &str,
        site: &str,
    ) -> ServiceResult<Self> {
        let row: Option<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT name, email, language FROM members WHERE id = $1")
                .bind(member.to_owned())
                .fetch_optional(&d.db.pool)
                .await?;
        let (name, email, language) =
            row.ok_or_else(|| ServiceError::not_found("member", member))?;
        let email = email
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                ServiceError::invalid(
                    "email",
                    format!("member `{member}` has no e-mail address; add one to the member first"),
                )
            })?;
        email.parse::<lettre::Address>().map_err(|e| {
            ServiceError::invalid(
                "email",
                format!("member `{member}`'s e-mail address `{email}` is unusable: {e}"),
            )
        })?;
        let site_info = d.sites().get(who, site).await?;
        let zone = crate::timetext::zone(&site_info.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let lang = language
            .as_deref()
            .and_then(Lang::parse)
            .or_else(|| Lang::parse(&site_info.language))
            .unwrap_or(Lang::En);
        Ok(Self {
            name,
            email,
            lang,
            site_name: site_info.name,
            zone,
        })
    }
}

/// The plain-text part.
#[derive(Template)]
#[template(path = "mail_pass.txt")]
struct TextPart<'a> {
    t: Tr,
    name: &'a str,
    site: &'a str,
    link: &'a str,
    /// The validity sentence, in the site's time zone.
    valid: &'a str,
}

/// The HTML part: the same words, with the link as a button.
#[derive(Template)]
#[template(path = "mail_pass.html")]
struct HtmlPart<'a> {
    t: Tr,
    name: &'a str,
    site: &'a str,
    link: &'a str,
    /// The validity sentence, in the site's time zone.
    valid: &'a str,
}

/// A rendered message: subject, plain text and HTML.
struct Rendered {
    subject: String,
    text: String,
    html: String,
}

fn render(to: &Recipient, link: &str, from: i64, until: i64) -> ServiceResult<Rendered> {
    let t = Tr { lang: to.lang };
    let from = crate::timetext::format_time(from, &to.zone);
    let until = crate::timetext::format_time(until, &to.zone);
    let valid = t.with2("mail-valid", ("from", &from), ("until", &until));
    let broken = |e: askama::Error| ServiceError::Internal(format!("the pass mail: {e}"));
    let text = TextPart {
        t,
        name: &to.name,
        site: &to.site_name,
        link,
        valid: &valid,
    }
    .render()
    .map_err(broken)?;
    let html = HtmlPart {
        t,
        name: &to.name,
        site: &to.site_name,
        link,
        valid: &valid,
    }
    .render()
    .map_err(broken)?;
    Ok(Rendered {
        subject: t.with("mail-subject", "site", &to.site_name),
        text,
        html,
    })
}

/// What a queued mail says: the pass, its new link and validity.
pub(crate) struct PassLink<'a> {
    /// The pass id.
    pub(crate) pass: &'a str,
    /// The pass page link (the credential).
    pub(crate) link: &'a str,
    /// Valid from (Unix seconds).
    pub(crate) from: i64,
    /// Valid until (Unix seconds).
    pub(crate) until: i64,
}

/// Queues the mail carrying `link` inside the transaction that made the link, and gives up
/// the pass's older mail not yet sent (its link no longer works). Wake the sender with
/// [`Dashboard::wake_mailer`] after the commit.
pub(crate) async fn queue(
    tx: &mut Tx,
    d: &Dashboard,
    who: &Principal,
    to: &Recipient,
    mail: &PassLink<'_>,
) -> ServiceResult<()> {
    let now = d.now();
    let rendered = render(to, mail.link, mail.from, mail.until)?;
    sqlx::query(
        "UPDATE mail_outbox SET gave_up_at = $1, last_error = $2, body_text = NULL, \
         body_html = NULL WHERE pass = $3 AND sent_at IS NULL AND gave_up_at IS NULL",
    )
    .bind(now)
    .bind("replaced by a newer link before it was sent".to_owned())
    .bind(mail.pass.to_owned())
    .execute(&mut **tx)
    .await?;
    let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(n), 0) FROM mail_outbox WHERE pass = $1")
        .bind(mail.pass.to_owned())
        .fetch_one(&mut **tx)
        .await?;
    let id = random_hex_id()?;
    sqlx::query(
        "INSERT INTO mail_outbox (id, pass, n, recipient, to_name, subject, body_text, \
         body_html, language, queued_at, queued_by, attempts, next_try_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12)",
    )
    .bind(id.clone())
    .bind(mail.pass.to_owned())
    .bind(n + 1)
    .bind(to.email.clone())
    .bind(to.name.clone())
    .bind(rendered.subject)
    .bind(rendered.text)
    .bind(rendered.html)
    .bind(to.lang.code())
    .bind(now)
    .bind(who.actor.clone())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    // The address is the member's, not a secret; the link never reaches the log.
    tracing::info!(pass = mail.pass, mail = %id, language = to.lang.code(), "pass link mail queued");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna(lang: Lang) -> Recipient {
        Recipient {
            name: "Anna <K>".into(),
            email: "anna@example.org".into(),
            lang,
            site_name: "Byns kontor".into(),
            zone: jiff::tz::TimeZone::get("Europe/Stockholm").unwrap(),
        }
    }

    #[test]
    fn a_swedish_mail_says_who_sends_it_and_that_the_link_is_personal() {
        let link = "https://bygd.example.org/p/0123";
        // 2026-12-01 00:00 and 2027-01-01 00:00, Stockholm time.
        let mail = render(&anna(Lang::Sv), link, 1_796_079_600, 1_798_758_000).unwrap();
        assert_eq!(mail.subject, "Ditt passerkort för Byns kontor");
        assert!(mail.text.contains("Hej Anna <K>!"), "{}", mail.text);
        assert!(mail.text.contains(link), "{}", mail.text);
        assert!(mail.text.contains("Vidarebefordra inte"), "{}", mail.text);
        assert!(mail.text.contains("hemskärmen"), "{}", mail.text);
        assert!(
            mail.text.contains("från 2026-12-01 00:00:00 CET"),
            "{}",
            mail.text
        );
        // HTML escapes what the member or an operator typed.
        assert!(mail.html.contains("Anna &#60;K&#62;") || mail.html.contains("Anna &lt;K&gt;"));
        assert!(
            mail.html.contains(&format!("href=\"{link}\"")),
            "{}",
            mail.html
        );
    }

    #[test]
    fn each_language_has_its_own_subject() {
        let subjects: Vec<String> = Lang::ALL
            .into_iter()
            .map(|lang| render(&anna(lang), "https://x/p/1", 0, 60).unwrap().subject)
            .collect();
        assert_eq!(
            subjects,
            [
                "Ditt passerkort för Byns kontor",
                "Dit adgangskort til Byns kontor",
                "Your pass for Byns kontor"
            ]
        );
    }
}
