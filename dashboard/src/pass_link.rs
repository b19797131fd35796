//! What a member does through their pass link: open the pass page (the pass app), enrol the
//! phone's device key once, and report a phone that cannot keep one.
//!
//! The link's secret is the credential; only its hash is stored (`page_token`). Enrolment
//! makes the link device-bound for good: a device-bound pass with the phone's P-256 key takes
//! over the link and the bare pass is revoked ([`Passes::replace`]), so a second browser
//! opening the same link finds a pass that needs a key it does not hold, and a screenshot of
//! the old code stops opening doors once the new revocation list reaches the gateway.
//! Renewal moves the link the same way, so the app finds the renewed pass under the link it
//! already has and keeps its key.

use crate::access::Principal;
use crate::error::{ServiceError, ServiceResult};
use crate::pass::{Passes, Replacement, Stored, PASS_COLUMNS};
use crate::service::{secret_hash, split_list};
use bygd_protocol::{DeviceKey, PASS_PREFIX};

/// What a phone may report as the reason it cannot keep a device key; anything else is
/// refused, so the operator's page shows a known, translated reason and no free text.
pub const DEVICE_PROBLEMS: [&str; 4] = [
    // No `crypto.subtle` (not a secure context, or a very old browser).
    "no-webcrypto",
    // IndexedDB cannot be opened (private windows in some browsers, Lockdown Mode).
    "no-indexeddb",
    // The key was made but IndexedDB would not store it (some Safari builds).
    "key-not-stored",
    // The key was stored but did not sign when read back.
    "key-not-usable",
];

/// Where a pass stands, as its page and app show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PassStatus {
    /// It opens its doors (within its dates and schedule).
    Valid,
    /// An operator revoked it (or its member).
    Revoked,
    /// Its end has passed.
    Expired,
}

/// What the member's pass page and app need.
#[derive(Debug, Clone)]
pub struct PassPage {
    /// The pass the link leads to now (after enrolment or renewal, the newest).
    pub pass_id: String,
    /// The pass as text: `BYGD1:` and the signed pass in base45. For a bare pass this is the
    /// door code; a device-bound pass opens only with a fresh proof around it.
    pub qr_text: String,
    /// The member.
    pub member: String,
    /// The site.
    pub site: String,
    /// The site's name, for people.
    pub site_name: String,
    /// The member's language (else their site's): the page's language when the phone's is
    /// none of bygd's.
    pub language: String,
    /// Valid until (Unix seconds).
    pub expires: i64,
    /// Whether revoked.
    pub revoked: bool,
    /// The member's name.
    pub member_name: String,
    /// The doors (empty: every door of the site).
    pub doors: Vec<String>,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// The weekly schedule, as operators type it, if any.
    pub schedule: Option<String>,
    /// The site's time zone.
    pub zone: jiff::tz::TimeZone,
    /// Whether the pass names a device key (the app draws its changing code).
    pub device_bound: bool,
    /// Whether the site opens only for device-bound passes (no bare code is shown).
    pub require_device_key: bool,
}

impl PassPage {
    /// Where the pass stands at `now`.
    #[must_use]
    pub fn status(&self, now: i64) -> PassStatus {
        if self.revoked {
            PassStatus::Revoked
        } else if self.expires <= now {
            PassStatus::Expired
        } else {
            PassStatus::Valid
        }
    }

    /// The signed pass (COSE_Sign1) in hex, for the app to wrap in its proofs: device-bound
    /// passes only (without the key it opens nothing).
    #[must_use]
    pub fn device_bound_pass(&self) -> Option<String> {
        if !self.device_bound {
            return None;
        }
        let text = self.qr_text.strip_prefix(PASS_PREFIX)?;
        bygd_protocol::base45_decode(text).ok().map(hex::encode)
    }

    /// The code to show as it is: a bare pass at a site that accepts bare passes.
    #[must_use]
    pub fn bare_code(&self) -> Option<&str> {
        (!self.device_bound && !self.require_device_key).then_some(self.qr_text.as_str())
    }

    /// Whether this link may still enrol a phone: a valid bare pass.
    #[must_use]
    pub fn can_enrol(&self, now: i64) -> bool {
        !self.device_bound && self.status(now) == PassStatus::Valid
    }
}

/// The refusal of a second phone: the link already enrolled one.
fn already_enrolled() -> ServiceError {
    ServiceError::Conflict(
        "this pass is already set up on a phone, and a pass link sets up one phone only; ask \
         whoever gave you the pass for a new one to use another phone"
            .to_owned(),
    )
}

impl Passes<'_> {
    /// The pass behind a pass link (the link's secret is the credential).
    pub async fn page(&self, link_secret: &str) -> ServiceResult<PassPage> {
        let row: Option<crate::pass::PassRow> = sqlx::query_as(&format!(
            "SELECT {PASS_COLUMNS} FROM passes WHERE page_token = $1"
        ))
        .bind(secret_hash(link_secret))
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        let row = row.ok_or_else(|| ServiceError::not_found("pass page", "(link)"))?;
        let (id, member, site, doors, kind, not_before, expires, schedule, device_key) = (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
        );
        let revoked = row.12.is_some();
        let qr_text = self.qr_text(&Stored {
            id: &id,
            member: &member,
            site: &site,
            doors: &doors,
            kind: &kind,
            not_before,
            expires,
            schedule: schedule.as_deref(),
            device_key: device_key.as_deref(),
        })?;
        // A member revoked as a whole shows as revoked too: none of their passes opens.
        let (member_name, member_revoked, member_language): (String, Option<i64>, Option<String>) =
            sqlx::query_as("SELECT name, revoked_at, language FROM members WHERE id = $1")
                .bind(member.clone())
                .fetch_optional(&self.dashboard.db.pool)
                .await?
                .unwrap_or_else(|| (member.clone(), None, None));
        let rules = self.dashboard.sites().pass_rules(&site).await?;
        Ok(PassPage {
            pass_id: id,
            qr_text,
            member_name,
            member,
            doors: split_list(&doors),
            not_before,
            schedule,
            zone: rules.zone,
            site,
            site_name: rules.name,
            language: member_language.unwrap_or(rules.language),
            expires,
            revoked: revoked || member_revoked.is_some(),
            device_bound: device_key.is_some(),
            require_device_key: rules.require_device_key,
        })
    }

    /// Enrols a phone's P-256 public key through its pass link, once: a device-bound pass
    /// for that key takes over the link and the bare pass is revoked, in one transaction
    /// with the site's new revocation list. `public_key` is SEC1, uncompressed (65 bytes,
    /// WebCrypto's raw export) or compressed (33).
    pub async fn enrol(&self, link_secret: &str, public_key: &[u8]) -> ServiceResult<PassPage> {
        let key = DeviceKey::from_sec1(public_key).ok_or_else(|| {
            ServiceError::invalid(
                "public_key",
                "expected a P-256 public key: SEC1, 65 bytes uncompressed (WebCrypto's raw \
                 export) or 33 compressed, in hex",
            )
        })?;
        let key_hex = hex::encode(key.to_sec1());
        let link_hash = secret_hash(link_secret);
        let mut tx = self.dashboard.begin_write().await?;
        // Read inside the write transaction: of two phones racing with one link, the second
        // finds the first one's device-bound pass.
        let row: Option<(String, String, String, Option<String>, Option<i64>, i64)> =
            sqlx::query_as(
                "SELECT id, member, site, device_key, revoked_at, expires FROM passes \
                 WHERE page_token = $1",
            )
            .bind(link_hash.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let (id, member, site, device_key, revoked_at, expires) =
            row.ok_or_else(|| ServiceError::not_found("pass page", "(link)"))?;
        if let Some(enrolled) = device_key {
            // The same phone asking again (its answer was lost): the same answer.
            if enrolled == key_hex {
                drop(tx);
                return self.page(link_secret).await;
            }
            return Err(already_enrolled());
        }
        let member_revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM members WHERE id = $1")
                .bind(member.clone())
                .fetch_optional(&mut *tx)
                .await?;
        if member_revoked.flatten().is_some() {
            return Err(ServiceError::Conflict("this pass was revoked".to_owned()));
        }
        if revoked_at.is_some() {
            return Err(ServiceError::Conflict("this pass was revoked".to_owned()));
        }
        if expires <= self.dashboard.now() {
            return Err(ServiceError::Conflict("this pass has expired".to_owned()));
        }
        let who = Principal::pass_link(&member, &site);
        let replaced = self
            .replace(
                &mut tx,
                &who,
                &id,
                Replacement {
                    device_key: Some(&key_hex),
                    expires: None,
                    action: "pass.enrol",
                    link_hash: Some(&link_hash),
                },
            )
            .await;
        let (new_id, signed) = match replaced {
            Ok(done) => done,
            // Another write got there first (on PostgreSQL, both read the bare pass): most
            // likely the other phone; say what the link leads to now.
            Err(ServiceError::Conflict(_)) => {
                drop(tx);
                return Err(if self.page(link_secret).await?.device_bound {
                    already_enrolled()
                } else {
                    ServiceError::Conflict(
                        "this pass changed just now (renewed or revoked); reload the page"
                            .to_owned(),
                    )
                });
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        signed.announce(self.dashboard);
        tracing::info!(pass = %new_id, replaces = %id, member = %member, site = %site,
            "a phone enrolled its device key through its pass link");
        self.page(link_secret).await
    }

    /// Records that the phone behind a pass link cannot keep a device key, and why (one of
    /// [`DEVICE_PROBLEMS`]), so that the operator sees why the member has no device-bound
    /// pass. A link that already enrolled a phone records nothing.
    pub async fn report_device_problem(
        &self,
        link_secret: &str,
        problem: &str,
    ) -> ServiceResult<()> {
        if !DEVICE_PROBLEMS.contains(&problem) {
            return Err(ServiceError::invalid(
                "problem",
                format!("expected one of: {}", DEVICE_PROBLEMS.join(", ")),
            ));
        }
        let mut tx = self.dashboard.begin_write().await?;
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT id, member, site FROM passes \
             WHERE page_token = $1 AND device_key IS NULL AND revoked_at IS NULL",
        )
        .bind(secret_hash(link_secret))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, member, site)) = row else {
            // Unknown link, or a phone already enrolled: nothing to record.
            return Err(ServiceError::not_found("pass page", "(link)"));
        };
        sqlx::query("UPDATE passes SET device_problem = $1, device_problem_at = $2 WHERE id = $3")
            .bind(problem.to_owned())
            .bind(self.dashboard.now())
            .bind(id.clone())
            .execute(&mut *tx)
            .await?;
        self.dashboard
            .record(
                &mut tx,
                &Principal::pass_link(&member, &site),
                "pass.device_problem",
                &id,
                serde_json::json!({ "problem": problem }),
            )
            .await?;
        tx.commit().await?;
        tracing::warn!(pass = %id, member = %member, problem,
            "a member's phone cannot keep a device key");
        Ok(())
    }
}
