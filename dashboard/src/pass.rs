//! Passes: issuing (signed claims → QR text and links), listing and revoking, and sending
//! a pass's link by e-mail (a new link each time: see [`Passes::send_link`]).
//!
//! A pass is self-contained: once issued it opens its doors at its site, within its window
//! and schedule, until it expires or a revocation list naming it reaches the gateway. So a
//! revocation here always re-signs the site's list at once; the publisher sends it retained.
//!
//! The QR text is a credential and is never stored: the database keeps the claims, and the
//! pass page re-signs them with the issuer key when asked. Ed25519 signatures and the CBOR
//! encoding are deterministic, so the text is the same byte for byte as at issue time, and a
//! stolen database backup opens no door. (Issue and page both build the text with
//! [`Dashboard::qr_text`] from the stored values, so they cannot drift apart.)

use crate::access::{Principal, Scope};
use crate::db::from_sql;
use crate::error::{ServiceError, ServiceResult};
use crate::service::{random_bytes, secret_hash, split_list, Dashboard, Tx};
use bygd_protocol::{
    encode_qr, DeviceKey, DoorId, MemberId, PassClaims, PassId, PassKind, Presentation, SiteId,
    SiteScope, UnixTime,
};
use serde::{Deserialize, Serialize};

/// How long a pass lasts when no end is given: a membership month.
pub(crate) const DEFAULT_PASS_DAYS: i64 = 30;
/// The longest pass issued: longer ones are a typo, and a lost phone should not open a
/// door for years. Members get a new pass when this runs out.
const MAX_PASS_SECONDS: i64 = 5 * 366 * 86_400;
/// How far before "now" a pass without `from` starts: a gateway whose clock is a little
/// behind must still accept a pass issued a moment ago.
const DEFAULT_START_SKEW: i64 = 5 * 60;

/// What to issue.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IssuePass {
    /// The member.
    pub member: String,
    /// The site.
    pub site: String,
    /// Doors at the site; empty for every door.
    #[serde(default)]
    pub doors: Vec<String>,
    /// Start (Unix seconds); default a few minutes ago.
    #[serde(default)]
    pub from: Option<i64>,
    /// End (Unix seconds); default [`DEFAULT_PASS_DAYS`] from now.
    #[serde(default)]
    pub until: Option<i64>,
    /// Weekly schedule in site time, e.g. `mon-fri 07:00-22:00`.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The phone's P-256 public key (33-byte compressed SEC1, hex): makes the pass
    /// device-bound, so a screenshot of its QR code opens nothing.
    #[serde(default)]
    pub device_key: Option<String>,
    /// member, guest, staff or break-glass (default member).
    #[serde(default)]
    pub kind: Option<String>,
    /// The booking system's reference, stored with the pass.
    #[serde(default)]
    pub booking: Option<String>,
    /// Whether to send the pass page link to the member by e-mail (queued with the pass).
    #[serde(default)]
    pub email: bool,
}

/// A pass as the API and CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct PassInfo {
    /// The pass id (32 hex digits): in every entry it opens.
    pub id: String,
    /// The member.
    pub member: String,
    /// The site.
    pub site: String,
    /// The doors (empty: every door).
    pub doors: Vec<String>,
    /// The kind.
    pub kind: String,
    /// Valid from (RFC 3339).
    pub valid_from: String,
    /// Valid until (RFC 3339, exclusive).
    pub valid_until: String,
    /// Weekly schedule, if any.
    pub schedule: Option<String>,
    /// Whether a phone proof is needed.
    pub device_bound: bool,
    /// The booking reference.
    pub booking: Option<String>,
    /// Who issued it and when.
    pub issued_by: String,
    /// When.
    pub issued_at: String,
    /// When revoked, if it was.
    pub revoked_at: Option<String>,
    /// The pass that took over this one's link: the device-bound pass the member's phone
    /// enrolled for, or the renewed pass. This one was revoked when it was replaced.
    pub replaced_by: Option<String>,
    /// Why the member's phone could not keep a device key, as its pass app reported it
    /// (with when, RFC 3339): the reason such a member has no device-bound pass.
    pub device_problem: Option<String>,
    /// The latest e-mail of its link, if it was ever sent by e-mail.
    pub delivery: Option<crate::mail::Delivery>,
}

/// A pass just issued: the only time its QR text and links are handed out together.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedPass {
    /// The pass.
    #[serde(flatten)]
    pub pass: PassInfo,
    /// The text its QR code carries (`BYGD1:…`): a credential; give it to the member only.
    /// `None` at a site that requires passes kept on a phone: the member sets the pass up
    /// from its link, and no plain code of it is ever handed out.
    pub qr_text: Option<String>,
    /// The QR version at error correction M (`None` with no code).
    pub qr_version: Option<i16>,
    /// A page showing the QR code, for the member's phone (the link is the credential).
    pub page_url: String,
    /// The QR code as PNG.
    pub png_url: String,
    /// The QR code as SVG.
    pub svg_url: String,
}

pub(crate) type PassRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

pub(crate) const PASS_COLUMNS: &str =
    "id, member, site, doors, kind, not_before, expires, schedule, \
                            device_key, booking, issued_by, issued_at, revoked_at, replaced_by, \
                            device_problem";

fn pass_info(row: PassRow) -> PassInfo {
    let (
        id,
        member,
        site,
        doors,
        kind,
        nbf,
        exp,
        schedule,
        device_key,
        booking,
        by,
        at,
        revoked,
        replaced_by,
        device_problem,
    ) = row;
    PassInfo {
        id,
        member,
        site,
        doors: split_list(&doors),
        kind,
        valid_from: crate::timetext::rfc3339(nbf),
        valid_until: crate::timetext::rfc3339(exp),
        schedule,
        device_bound: device_key.is_some(),
        booking,
        issued_by: by,
        issued_at: crate::timetext::rfc3339(at),
        revoked_at: revoked.map(crate::timetext::rfc3339),
        replaced_by,
        device_problem,
        delivery: None,
    }
}

/// The stored fields a pass's claims are signed from.
pub(crate) struct Stored<'a> {
    pub(crate) id: &'a str,
    pub(crate) member: &'a str,
    pub(crate) site: &'a str,
    /// Comma-separated door ids; empty for every door.
    pub(crate) doors: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) not_before: i64,
    pub(crate) expires: i64,
    /// As [`crate::timetext::schedule_text`] writes it.
    pub(crate) schedule: Option<&'a str>,
    /// Compressed SEC1, hex.
    pub(crate) device_key: Option<&'a str>,
}

/// Passes: issuing them (QR text and pass page link), looking them up, listing and revoking
/// them, and the pass page behind a link.
///
/// Reached by [`Dashboard::passes`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Passes<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Passes<'_> {
    /// The QR text of a stored pass: its claims signed again with the issuer key. A stored
    /// field that does not read back is a server error naming the pass, never a panic.
    pub(crate) fn qr_text(&self, stored: &Stored<'_>) -> ServiceResult<String> {
        let broken = |what: &str, e: &dyn std::fmt::Display| {
            ServiceError::Internal(format!(
                "pass `{}`: its stored {what} does not read back: {e}",
                stored.id
            ))
        };
        let doors = split_list(stored.doors)
            .iter()
            .map(|d| DoorId::new(d).map_err(|e| broken("doors", &e)))
            .collect::<ServiceResult<Vec<_>>>()?;
        let schedule = stored
            .schedule
            .map(crate::timetext::parse_schedule)
            .transpose()
            .map_err(|e| broken("schedule", &e))?;
        let device_key = stored
            .device_key
            .map(|k| {
                hex::decode(k)
                    .ok()
                    .and_then(|bytes| DeviceKey::from_sec1(&bytes))
                    .ok_or_else(|| broken("device key", &k))
            })
            .transpose()?;
        let claims = PassClaims {
            member: MemberId::new(stored.member).map_err(|e| broken("member", &e))?,
            pass_id: PassId::from_hex(stored.id).ok_or_else(|| broken("id", &stored.id))?,
            not_before: UnixTime(from_sql(stored.not_before)),
            expires: UnixTime(from_sql(stored.expires)),
            kind: PassKind::from_name(stored.kind).ok_or_else(|| broken("kind", &stored.kind))?,
            scope: vec![SiteScope {
                site: SiteId::new(stored.site).map_err(|e| broken("site", &e))?,
                doors,
            }],
            schedule,
            device_key,
        };
        Ok(encode_qr(&Presentation {
            pass: claims.issue(&self.dashboard.issuer),
            proof: None,
        }))
    }

    /// Issues a pass and returns its QR text and links.
    pub async fn issue(&self, who: &Principal, req: &IssuePass) -> ServiceResult<IssuedPass> {
        who.require(Scope::PassesWrite)?;
        let member = self
            .dashboard
            .members()
            .get(who, &req.member)
            .await
            .map_err(|e| match e {
                ServiceError::Forbidden(f) => ServiceError::Forbidden(f),
                _ => ServiceError::not_found("member", req.member.clone()),
            })?;
        if member.revoked_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "member `{}` is revoked; their passes would be refused",
                member.id
            )));
        }
        // Checks the site exists and is visible.
        self.dashboard.sites().zone(who, &req.site).await?;
        if !member.sites.contains(&req.site) {
            return Err(ServiceError::invalid(
                "site",
                format!(
                    "member `{}` does not belong to site `{}` (their sites: {})",
                    member.id,
                    req.site,
                    member.sites.join(", ")
                ),
            ));
        }
        let known_doors = self.site_doors(&req.site).await?;
        let mut doors = Vec::new();
        for door in &req.doors {
            let id = DoorId::new(door)
                .map_err(|e| ServiceError::invalid("doors", format!("`{door}`: {e}")))?;
            if !known_doors.is_empty() && !known_doors.contains(door) {
                return Err(ServiceError::invalid(
                    "doors",
                    format!(
                        "site `{}` has no door `{door}`; its doors: {}",
                        req.site,
                        known_doors.join(", ")
                    ),
                ));
            }
            doors.push(id);
        }
        let now = self.dashboard.now();
        let from = req.from.unwrap_or(now - DEFAULT_START_SKEW);
        let until = req.until.unwrap_or(now + DEFAULT_PASS_DAYS * 86_400);
        if until <= from {
            return Err(ServiceError::invalid("until", "must be after `from`"));
        }
        if until <= now {
            return Err(ServiceError::invalid("until", "is in the past"));
        }
        if until - from > MAX_PASS_SECONDS {
            return Err(ServiceError::invalid(
                "until",
                "a pass lasts at most five years",
            ));
        }
        let schedule = req
            .schedule
            .as_deref()
            .map(crate::timetext::parse_schedule)
            .transpose()
            .map_err(|e| ServiceError::invalid("schedule", e))?;
        let device_key = req
            .device_key
            .as_deref()
            .map(|hex_key| {
                hex::decode(hex_key.trim())
                    .ok()
                    .and_then(|bytes| DeviceKey::from_sec1(&bytes))
                    .ok_or_else(|| {
                        ServiceError::invalid(
                            "device_key",
                            "expected a P-256 public key: 66 hex digits (compressed SEC1)",
                        )
                    })
            })
            .transpose()?;
        let kind = match req.kind.as_deref() {
            None => PassKind::Member,
            Some(name) => PassKind::from_name(name).ok_or_else(|| {
                ServiceError::invalid(
                    "kind",
                    format!("`{name}`: use member, guest, staff or break-glass"),
                )
            })?,
        };
        if req.booking.as_ref().is_some_and(|b| b.len() > 200) {
            return Err(ServiceError::invalid("booking", "at most 200 characters"));
        }
        // Checked here so that a bad member id or site is the caller's error, not the
        // server's when the claims are built from the stored fields below.
        MemberId::new(&member.id).map_err(|e| ServiceError::Internal(e.to_string()))?;
        SiteId::new(&req.site).map_err(|e| ServiceError::invalid("site", e.to_string()))?;
        // Read before the write, so that a member without an address is refused up front.
        let recipient = if req.email {
            Some(crate::mail::Recipient::of(self.dashboard, who, &member.id, &req.site).await?)
        } else {
            None
        };
        let pass_id = PassId(random_bytes()?).to_string();
        let doors = doors
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        let schedule = schedule.as_ref().map(crate::timetext::schedule_text);
        let device_key = device_key.as_ref().map(|k| hex::encode(k.to_sec1()));
        let qr_text = self.qr_text(&Stored {
            id: &pass_id,
            member: &member.id,
            site: &req.site,
            doors: &doors,
            kind: kind.name(),
            not_before: from,
            expires: until,
            schedule: schedule.as_deref(),
            device_key: device_key.as_deref(),
        })?;
        let qr = crate::qr::QrImage::new(&qr_text).map_err(|e| {
            ServiceError::invalid("doors", format!("the pass is too large for a QR code: {e}"))
        })?;
        let link_secret = hex::encode(random_bytes::<24>()?);
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query(
            "INSERT INTO passes (id, member, site, doors, kind, not_before, expires, schedule, device_key, \
             booking, page_token, issued_at, issued_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(pass_id.clone())
        .bind(member.id.clone())
        .bind(req.site.clone())
        .bind(doors)
        .bind(kind.name())
        .bind(from)
        .bind(until)
        .bind(schedule)
        .bind(device_key.clone())
        .bind(req.booking.clone())
        .bind(secret_hash(&link_secret))
        .bind(now)
        .bind(who.actor.clone())
        .execute(&mut *tx)
        .await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "pass.issue",
                &pass_id,
                serde_json::json!({
                    "member": member.id, "site": req.site, "doors": req.doors,
                    "from": from, "until": until, "kind": kind.name(), "booking": req.booking,
                    "email": req.email,
                }),
            )
            .await?;
        crate::webhook::emit(
            &mut tx,
            &[crate::webhook::Event {
                kind: "pass.issued",
                site: req.site.clone(),
                at: now,
                data: serde_json::json!({
                    "pass": pass_id, "member": member.id, "doors": req.doors, "from": crate::timetext::rfc3339(from),
                    "until": crate::timetext::rfc3339(until), "kind": kind.name(), "booking": req.booking,
                    "device_bound": device_key.is_some(),
                }),
            }],
        )
        .await?;
        let page_url = format!("{}/p/{link_secret}", self.dashboard.public_url);
        if let Some(recipient) = &recipient {
            let link = crate::mail::PassLink {
                pass: &pass_id,
                link: &page_url,
                from,
                until,
            };
            crate::mail::queue(&mut tx, self.dashboard, who, recipient, &link).await?;
        }
        tx.commit().await?;
        if recipient.is_some() {
            self.dashboard.wake_mailer();
        }
        let pass = self.get(who, &pass_id).await?;
        // A site that requires phone keys gets no plain code: the only copy of the bare pass
        // stays unsigned in the database until a phone enrols through the link.
        let plain = !pass.device_bound
            && self
                .dashboard
                .sites()
                .pass_rules(&pass.site)
                .await?
                .require_device_key;
        Ok(IssuedPass {
            pass,
            qr_text: (!plain).then_some(qr_text),
            qr_version: (!plain).then(|| qr.version()),
            png_url: format!("{page_url}/qr.png"),
            svg_url: format!("{page_url}/qr.svg"),
            page_url,
        })
    }

    /// Every door registered at `site`'s gateways.
    pub(crate) async fn site_doors(&self, site: &str) -> ServiceResult<Vec<String>> {
        let lists: Vec<String> = sqlx::query_scalar("SELECT doors FROM gateways WHERE site = $1")
            .bind(site.to_owned())
            .fetch_all(&self.dashboard.db.pool)
            .await?;
        let mut doors: Vec<String> = lists.iter().flat_map(|l| split_list(l)).collect();
        doors.sort();
        doors.dedup();
        Ok(doors)
    }

    /// One pass.
    pub async fn get(&self, who: &Principal, id: &str) -> ServiceResult<PassInfo> {
        who.require(Scope::PassesRead)?;
        let row: Option<PassRow> =
            sqlx::query_as(&format!("SELECT {PASS_COLUMNS} FROM passes WHERE id = $1"))
                .bind(id.to_ascii_lowercase())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        match row {
            Some(row) if who.sees(&row.2) => {
                let mut pass = pass_info(row);
                pass.delivery = crate::mail::latest(self.dashboard, &pass.id).await?;
                Ok(pass)
            }
            _ => Err(ServiceError::not_found("pass", id)),
        }
    }

    /// Passes, newest first: of one member, or every pass `who` sees; `valid_only` leaves out
    /// revoked and expired ones.
    pub async fn list(
        &self,
        who: &Principal,
        member: Option<&str>,
        valid_only: bool,
    ) -> ServiceResult<Vec<PassInfo>> {
        who.require(Scope::PassesRead)?;
        let rows: Vec<PassRow> = match member {
            Some(m) => {
                sqlx::query_as(&format!(
                "SELECT {PASS_COLUMNS} FROM passes WHERE member = $1 ORDER BY issued_at DESC, id"
            ))
                .bind(m.to_owned())
                .fetch_all(&self.dashboard.db.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {PASS_COLUMNS} FROM passes ORDER BY issued_at DESC, id"
                ))
                .fetch_all(&self.dashboard.db.pool)
                .await?
            }
        };
        let now = self.dashboard.now();
        let mut deliveries = crate::mail::latest_all(self.dashboard).await?;
        Ok(rows
            .into_iter()
            .filter(|r| who.sees(&r.2))
            .filter(|r| !valid_only || (r.12.is_none() && r.6 > now))
            .map(|row| {
                let mut pass = pass_info(row);
                pass.delivery = deliveries.remove(&pass.id);
                pass
            })
            .collect())
    }

    /// Revokes a pass and re-signs its site's revocation list, in one transaction.
    pub async fn revoke(&self, who: &Principal, id: &str) -> ServiceResult<PassInfo> {
        who.require(Scope::PassesWrite)?;
        let pass = self.get(who, id).await?;
        if pass.revoked_at.is_some() {
            return Err(already_revoked(&pass));
        }
        let now = self.dashboard.now();
        let mut tx = self.dashboard.begin_write().await?;
        // Only a pass still unrevoked: one a phone's enrolment or a renewal replaced meanwhile
        // is refused, naming its successor, rather than "revoked" while the successor opens.
        let revoked = sqlx::query(
            "UPDATE passes SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(who.actor.clone())
        .bind(pass.id.clone())
        .execute(&mut *tx)
        .await?;
        if revoked.rows_affected() != 1 {
            drop(tx);
            return Err(already_revoked(&self.get(who, &pass.id).await?));
        }
        self.dashboard
            .record(
                &mut tx,
                who,
                "pass.revoke",
                &pass.id,
                serde_json::json!({ "member": pass.member, "site": pass.site }),
            )
            .await?;
        crate::webhook::emit(
            &mut tx,
            &[crate::webhook::Event {
                kind: "pass.revoked",
                site: pass.site.clone(),
                at: now,
                data: serde_json::json!({
                    "pass": pass.id, "member": pass.member, "booking": pass.booking,
                    "by": who.actor,
                }),
            }],
        )
        .await?;
        // The new list in the same transaction: a revoked pass is never missing from it.
        let signed = self
            .dashboard
            .revocation_lists()
            .sign_in(&mut tx, &pass.site, now)
            .await?;
        tx.commit().await?;
        signed.announce(self.dashboard);
        self.get(who, &pass.id).await
    }

    /// Sends the member a new link to their pass by e-mail. The link's secret is not stored,
    /// so the old link cannot be sent again: a new one replaces it (the old one stops opening
    /// the pass page at once), and the mail carrying it is queued in the same transaction.
    /// Refused for a revoked or expired pass and for a member without an e-mail address.
    pub async fn send_link(&self, who: &Principal, id: &str) -> ServiceResult<PassInfo> {
        who.require(Scope::PassesWrite)?;
        let pass = self.get(who, id).await?;
        if pass.revoked_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "pass `{}` is revoked; issue a new pass instead of sending this one",
                pass.id
            )));
        }
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT not_before, expires FROM passes WHERE id = $1")
                .bind(pass.id.clone())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        let (from, until) = row.ok_or_else(|| ServiceError::not_found("pass", id))?;
        let now = self.dashboard.now();
        if until <= now {
            return Err(ServiceError::Conflict(format!(
                "pass `{}` expired at {}; issue a new pass instead of sending this one",
                pass.id, pass.valid_until
            )));
        }
        // A phone that enrolled holds the link: a new one would cut its pass app off from
        // renewals and revocations.
        if pass.device_bound {
            return Err(ServiceError::Conflict(format!(
                "pass `{}` is kept on the member's phone, whose pass app holds its link; a new \
                 link would cut the app off. Renew the pass (the app picks it up), or revoke it \
                 and issue a new one",
                pass.id
            )));
        }
        let recipient =
            crate::mail::Recipient::of(self.dashboard, who, &pass.member, &pass.site).await?;
        let link_secret = hex::encode(random_bytes::<24>()?);
        let page_url = format!("{}/p/{link_secret}", self.dashboard.public_url);
        let mut tx = self.dashboard.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE passes SET page_token = $1 \
             WHERE id = $2 AND revoked_at IS NULL AND device_key IS NULL",
        )
        .bind(secret_hash(&link_secret))
        .bind(pass.id.clone())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(ServiceError::Conflict(format!(
                "pass `{}` changed just now (a phone enrolled, or it was renewed or revoked); \
                 look at it again",
                pass.id
            )));
        }
        let link = crate::mail::PassLink {
            pass: &pass.id,
            link: &page_url,
            from,
            until,
        };
        crate::mail::queue(&mut tx, self.dashboard, who, &recipient, &link).await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "pass.send_link",
                &pass.id,
                serde_json::json!({ "member": pass.member, "site": pass.site }),
            )
            .await?;
        tx.commit().await?;
        self.dashboard.wake_mailer();
        self.get(who, &pass.id).await
    }

    /// Renews a pass: a new pass with the same member, site, doors, schedule and device key,
    /// valid until `until`, takes over its link (the member's pass app picks it up when next
    /// online and keeps its key), and the old one is revoked, in one transaction.
    pub async fn renew(&self, who: &Principal, id: &str, until: i64) -> ServiceResult<PassInfo> {
        who.require(Scope::PassesWrite)?;
        let pass = self.get(who, id).await?;
        let now = self.dashboard.now();
        if until <= now {
            return Err(ServiceError::invalid("until", "is in the past"));
        }
        let mut tx = self.dashboard.begin_write().await?;
        let (new_id, signed) = self
            .replace(
                &mut tx,
                who,
                &pass.id,
                Replacement {
                    device_key: None,
                    expires: Some(until),
                    action: "pass.renew",
                    link_hash: None,
                },
            )
            .await?;
        tx.commit().await?;
        signed.announce(self.dashboard);
        self.get(who, &new_id).await
    }

    /// Replaces a valid pass inside `tx`: a new pass with its claims (changed as
    /// `replacement` says) takes over its link, the old one is revoked and marked replaced,
    /// the write is recorded as `replacement.action`, and the site's list is re-signed. Two
    /// replacements racing for one pass: the second finds it revoked and is refused.
    pub(crate) async fn replace(
        &self,
        tx: &mut Tx,
        who: &Principal,
        id: &str,
        replacement: Replacement<'_>,
    ) -> ServiceResult<(String, crate::revocation::Signed)> {
        let row: Option<PassRow> =
            sqlx::query_as(&format!("SELECT {PASS_COLUMNS} FROM passes WHERE id = $1"))
                .bind(id.to_owned())
                .fetch_optional(&mut **tx)
                .await?;
        let Some(row) = row else {
            return Err(ServiceError::not_found("pass", id));
        };
        let page_token: String = sqlx::query_scalar("SELECT page_token FROM passes WHERE id = $1")
            .bind(id.to_owned())
            .fetch_one(&mut **tx)
            .await?;
        let (revoked_at, replaced_by) = (row.12, row.13.clone());
        let (old_id, member, site, doors, kind, not_before, expires, schedule, device_key, booking) = (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
        );
        let now = self.dashboard.now();
        if revoked_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "pass `{old_id}` is revoked{}",
                replaced_by
                    .as_deref()
                    .map(|by| format!(" (replaced by pass `{by}`)"))
                    .unwrap_or_default()
            )));
        }
        let expires = replacement.expires.unwrap_or(expires);
        if expires <= now {
            return Err(ServiceError::Conflict(format!(
                "pass `{old_id}` has expired; issue a new pass instead"
            )));
        }
        if expires - not_before > MAX_PASS_SECONDS {
            return Err(ServiceError::invalid(
                "until",
                "a pass lasts at most five years",
            ));
        }
        let device_key = replacement.device_key.map(str::to_owned).or(device_key);
        let new_id = PassId(random_bytes()?).to_string();
        // Signed once here so that a replacement that would not make a pass is refused
        // before anything is written.
        self.qr_text(&Stored {
            id: &new_id,
            member: &member,
            site: &site,
            doors: &doors,
            kind: &kind,
            not_before,
            expires,
            schedule: schedule.as_deref(),
            device_key: device_key.as_deref(),
        })?;
        let moved = sqlx::query(
            "UPDATE passes SET page_token = $1, revoked_at = $2, revoked_by = $3, replaced_by = $4 \
             WHERE id = $5 AND revoked_at IS NULL AND page_token = $6",
        )
        .bind(format!("replaced:{old_id}"))
        .bind(now)
        .bind(who.actor.clone())
        .bind(new_id.clone())
        .bind(old_id.clone())
        .bind(replacement.link_hash.unwrap_or(&page_token).to_owned())
        .execute(&mut **tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(ServiceError::Conflict(format!(
                "pass `{old_id}` changed while it was being replaced; try again"
            )));
        }
        sqlx::query(
            "INSERT INTO passes (id, member, site, doors, kind, not_before, expires, schedule, device_key, \
             booking, page_token, issued_at, issued_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(new_id.clone())
        .bind(member.clone())
        .bind(site.clone())
        .bind(doors)
        .bind(kind)
        .bind(not_before)
        .bind(expires)
        .bind(schedule)
        .bind(device_key.clone())
        .bind(booking)
        .bind(page_token)
        .bind(now)
        .bind(who.actor.clone())
        .execute(&mut **tx)
        .await?;
        crate::webhook::emit(
            tx,
            &[
                crate::webhook::Event {
                    kind: "pass.revoked",
                    site: site.clone(),
                    at: now,
                    data: serde_json::json!({
                        "pass": old_id, "member": member, "replaced_by": new_id, "by": who.actor,
                    }),
                },
                crate::webhook::Event {
                    kind: "pass.issued",
                    site: site.clone(),
                    at: now,
                    data: serde_json::json!({
                        "pass": new_id, "member": member, "replaces": old_id,
                        "until": crate::timetext::rfc3339(expires),
                        "device_bound": device_key.is_some(),
                    }),
                },
            ],
        )
        .await?;
        // Mail of the link not sent yet goes on with the pass that now has the link.
        sqlx::query(
            "UPDATE mail_outbox SET pass = $1 \
             WHERE pass = $2 AND sent_at IS NULL AND gave_up_at IS NULL",
        )
        .bind(new_id.clone())
        .bind(old_id.clone())
        .execute(&mut **tx)
        .await?;
        self.dashboard
            .record(
                tx,
                who,
                replacement.action,
                &new_id,
                serde_json::json!({
                    "replaces": old_id, "member": member, "site": site, "until": expires,
                    "device_bound": device_key.is_some(),
                }),
            )
            .await?;
        let signed = self
            .dashboard
            .revocation_lists()
            .sign_in(tx, &site, now)
            .await?;
        Ok((new_id, signed))
    }
}

/// The refusal to revoke a revoked pass; one that was replaced names the pass that took over
/// its link (a phone enrolled, or it was renewed), which is the one to revoke.
fn already_revoked(pass: &PassInfo) -> ServiceError {
    ServiceError::Conflict(match &pass.replaced_by {
        Some(next) => format!(
            "pass `{}` was replaced by pass `{next}` (a phone enrolled, or it was renewed); \
             revoke that one",
            pass.id
        ),
        None => format!("pass `{}` is already revoked", pass.id),
    })
}

/// What replacing a pass changes: [`Passes::replace`].
pub(crate) struct Replacement<'a> {
    /// A device key (compressed SEC1, hex) for the new pass; `None` keeps the old one's.
    pub(crate) device_key: Option<&'a str>,
    /// A new end; `None` keeps the old one.
    pub(crate) expires: Option<i64>,
    /// The audit trail's name for it.
    pub(crate) action: &'static str,
    /// The hash of the link the caller came through: the replacement happens only while the
    /// pass still has that link (an enrolment racing a new link by e-mail is refused).
    pub(crate) link_hash: Option<&'a str>,
}
