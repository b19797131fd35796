//! Webhooks: booking and member systems hear of entries, denied entries, passes issued and
//! revoked, members changed and alarms raised and closed, instead of polling.
//!
//! A subscription names a URL, the event kinds it wants and the sites it covers. Each event
//! becomes one delivery per matching subscription, written in the same transaction as the
//! change itself (a committed change always has its deliveries, a rolled-back one none),
//! numbered per subscription so that they go out in order. The sender (`webhook/sender.rs`)
//! posts them one at a time per subscription, signed like Stripe's and GitHub's webhooks:
//! `Bygd-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, with the
//! delivery's id in `Bygd-Delivery` for idempotency on the receiving side; it retries with
//! backoff and gives up (visibly) after [`sender::MAX_ATTEMPTS`] tries.
//!
//! The signing secret is shown once, at creation, and stored sealed under the issuer key.

pub(crate) mod sender;

use crate::access::{Principal, Scope};
use crate::error::{ServiceError, ServiceResult};
use crate::seal::{bound_to, Sealer};
use crate::service::{random_bytes, random_hex_id, split_list, Dashboard, Tx};
use serde::Serialize;

/// The event kinds a subscription may ask for.
pub const EVENT_KINDS: [&str; 7] = [
    "entry.granted",
    "entry.denied",
    "pass.issued",
    "pass.revoked",
    "member.changed",
    "alarm.raised",
    "alarm.closed",
];

/// What the sealing key of signing secrets is derived for.
const PURPOSE: &str = "bygd/v1/webhook-secrets";
/// The longest URL accepted.
const MAX_URL_LEN: usize = 2000;

/// A subscription as the API shows it (never its secret, except once at creation).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookInfo {
    /// Its id.
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The event kinds it gets.
    pub events: Vec<String>,
    /// The sites it covers; `["*"]` for every site.
    pub sites: Vec<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Deliveries not yet made (waiting or being retried).
    pub pending: u64,
    /// Deliveries given up after every try.
    pub failed: u64,
    /// The newest failure's error, if any delivery is failing or failed.
    pub last_error: Option<String>,
}

/// A subscription just made: the only time its secret is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedWebhook {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookInfo,
    /// The HMAC-SHA256 signing secret (64 hex digits): give it to the receiving system.
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://…` (or `http://` to this machine or a private network's receiver).
    pub url: String,
    /// Event kinds, from [`EVENT_KINDS`]; at least one.
    pub events: Vec<String>,
    /// Sites; empty for every site the caller sees.
    #[serde(default)]
    pub sites: Vec<String>,
}

/// Webhooks: reached by [`Dashboard::webhooks`].
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

type WebhookRow = (String, String, String, String, i64);

impl Webhooks<'_> {
    /// Makes a subscription (admins); its secret is in the answer and nowhere else.
    pub async fn create(&self, who: &Principal, new: &NewWebhook) -> ServiceResult<CreatedWebhook> {
        who.require(Scope::Admin)?;
        let url = new.url.trim();
        let parsed: axum::http::Uri = url.parse().map_err(|_| {
            ServiceError::invalid(
                "url",
                "an absolute URL like https://booking.example.org/bygd",
            )
        })?;
        if url.len() > MAX_URL_LEN
            || !matches!(parsed.scheme_str(), Some("https" | "http"))
            || parsed.host().is_none()
        {
            return Err(ServiceError::invalid(
                "url",
                "an absolute http or https URL, at most 2000 characters",
            ));
        }
        if new.events.is_empty() {
            return Err(ServiceError::invalid(
                "events",
                format!("name at least one of: {}", EVENT_KINDS.join(", ")),
            ));
        }
        for kind in &new.events {
            if !EVENT_KINDS.contains(&kind.as_str()) {
                return Err(ServiceError::invalid(
                    "events",
                    format!(
                        "`{kind}` is not an event kind; use {}",
                        EVENT_KINDS.join(", ")
                    ),
                ));
            }
        }
        for site in &new.sites {
            self.dashboard.sites().find(who, site).await?;
        }
        let sites = if new.sites.is_empty() {
            if who.sites != crate::access::Sites::All {
                return Err(ServiceError::invalid(
                    "sites",
                    "name the sites: you manage some sites only",
                ));
            }
            "*".to_owned()
        } else {
            new.sites.join(",")
        };
        let id = random_hex_id()?;
        let secret = hex::encode(random_bytes::<32>()?);
        let sealed = Sealer::new(&self.dashboard.issuer, PURPOSE)?
            .seal(&bound_to(&[id.as_bytes()]), secret.as_bytes())?;
        let now = self.dashboard.now();
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhooks (id, url, events, sites, secret, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.clone())
        .bind(url.to_owned())
        .bind(new.events.join(","))
        .bind(sites.clone())
        .bind(sealed)
        .bind(now)
        .bind(who.actor.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 0)")
            .bind(counter(&id))
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "webhook.create",
                &id,
                serde_json::json!({ "url": url, "events": new.events, "sites": sites }),
            )
            .await?;
        tx.commit().await?;
        Ok(CreatedWebhook {
            webhook: self.get(who, &id).await?,
            secret,
        })
    }

    /// One subscription.
    pub async fn get(&self, who: &Principal, id: &str) -> ServiceResult<WebhookInfo> {
        who.require(Scope::Admin)?;
        let row: Option<WebhookRow> = sqlx::query_as(
            "SELECT id, url, events, sites, created_at FROM webhooks \
             WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        match row {
            Some(row) if sees_all(who, &row.3) => self.info(row).await,
            _ => Err(ServiceError::not_found("webhook", id)),
        }
    }

    /// Every subscription `who` sees.
    pub async fn list(&self, who: &Principal) -> ServiceResult<Vec<WebhookInfo>> {
        who.require(Scope::Admin)?;
        let rows: Vec<WebhookRow> = sqlx::query_as(
            "SELECT id, url, events, sites, created_at FROM webhooks \
             WHERE disabled_at IS NULL ORDER BY created_at, id",
        )
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows.into_iter().filter(|r| sees_all(who, &r.3)) {
            out.push(self.info(row).await?);
        }
        Ok(out)
    }

    /// Ends a subscription: nothing more is delivered to it.
    pub async fn delete(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        self.get(who, id).await?;
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query("UPDATE webhooks SET disabled_at = $1 WHERE id = $2")
            .bind(self.dashboard.now())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(&mut tx, who, "webhook.delete", id, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn info(
        &self,
        (id, url, events, sites, created_at): WebhookRow,
    ) -> ServiceResult<WebhookInfo> {
        let (pending, failed): (i64, i64) = sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM webhook_deliveries WHERE webhook = $1",
        )
        .bind(id.clone())
        .fetch_one(&self.dashboard.db.pool)
        .await?;
        let last_error: Option<String> = sqlx::query_scalar(
            "SELECT last_error FROM webhook_deliveries WHERE webhook = $1 AND last_error IS NOT NULL \
             AND delivered_at IS NULL ORDER BY seq DESC LIMIT 1",
        )
        .bind(id.clone())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        Ok(WebhookInfo {
            id,
            url,
            events: split_list(&events),
            sites: split_list(&sites),
            created_at: crate::timetext::rfc3339(created_at),
            pending: crate::db::from_sql(pending),
            failed: crate::db::from_sql(failed),
            last_error,
        })
    }
}

/// Whether `who` sees every site of a subscription (`*` needs every site).
fn sees_all(who: &Principal, sites: &str) -> bool {
    if sites == "*" {
        who.sites == crate::access::Sites::All
    } else {
        split_list(sites).iter().all(|s| who.sees(s))
    }
}

/// The counter that numbers a subscription's deliveries.
fn counter(webhook: &str) -> String {
    format!("webhook:{webhook}")
}

/// One event for the subscriptions: its kind, site, time and what happened.
pub(crate) struct Event {
    pub(crate) kind: &'static str,
    pub(crate) site: String,
    pub(crate) at: i64,
    pub(crate) data: serde_json::Value,
}

/// Queues `events` for every subscription that wants them, inside `tx` (the transaction of
/// the change they report). Costs one query when there is no subscription.
pub(crate) async fn emit(tx: &mut Tx, events: &[Event]) -> ServiceResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let subscriptions: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, events, sites FROM webhooks WHERE disabled_at IS NULL")
            .fetch_all(&mut **tx)
            .await?;
    for (webhook, kinds, sites) in subscriptions {
        let kinds = split_list(&kinds);
        let sites = split_list(&sites);
        for event in events {
            let wanted = kinds.iter().any(|k| k == event.kind)
                && (sites.iter().any(|s| s == "*" || *s == event.site));
            if !wanted {
                continue;
            }
            let seq: i64 = sqlx::query_scalar(
                "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value",
            )
            .bind(counter(&webhook))
            .fetch_one(&mut **tx)
            .await?;
            let id = random_hex_id()?;
            let body = serde_json::json!({
                "id": id,
                "kind": event.kind,
                "site": event.site,
                "at": crate::timetext::rfc3339(event.at),
                "data": event.data,
            });
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook, seq, kind, body, created_at, next_try_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(id)
            .bind(webhook.clone())
            .bind(seq)
            .bind(event.kind)
            .bind(body.to_string())
            .bind(event.at)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Dashboard {
    /// Webhook subscriptions.
    #[must_use]
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { dashboard: self }
    }

    /// The signing secret of a subscription, opened.
    pub(crate) fn webhook_secret(&self, id: &str, sealed: &str) -> ServiceResult<Vec<u8>> {
        Sealer::new(&self.issuer, PURPOSE)?
            .open(&bound_to(&[id.as_bytes()]), sealed)
            .ok_or_else(|| {
                ServiceError::Internal(format!(
                    "the signing secret of webhook `{id}` does not open (another issuer key?); \
                     make the subscription again"
                ))
            })
    }
}
