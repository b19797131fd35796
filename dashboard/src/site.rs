//! Sites: the spaces bygd guards. Each has an id (in every pass, list and topic), a name and
//! address for people, the time zone its pages, CSV exports, e-mails and gateway configs read
//! times in, and the language its new members get unless they choose another.
//!
//! A space is set up in the order people think of it: the site, then its members, then the
//! gateway when the hardware arrives. `bygd gateway add` still creates a site it does not
//! know (named after its id), so older scripts keep working.
//!
//! Invariants: a site's id never changes; every write is recorded in the audit trail in the
//! same transaction; a new site gets its first signed revocation list in that transaction
//! too, so its first gateway finds one waiting. A principal limited to some sites sees only
//! those: any other is "not found", never a hint that it exists.

use crate::access::{Principal, Scope};
use crate::error::{ServiceError, ServiceResult};
use crate::service::{Dashboard, Tx};
use bygd_protocol::SiteId;
use serde::Serialize;
use std::collections::HashMap;

/// The languages a site's members may get by default: those of the web UI and its e-mails.
pub(crate) const LANGUAGES: [&str; 3] = ["sv", "da", "en"];

/// The language of a site made without one (and of sites made before sites had one).
pub(crate) const DEFAULT_LANGUAGE: &str = "en";

/// Longest site name: a line on a page or a CSV cell, like a member's name.
const MAX_NAME_CHARS: usize = 200;

/// Longest address: a few lines of a postal address, with room to spare.
const MAX_ADDRESS_CHARS: usize = 500;

/// A site as the API, CLI and web UI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteInfo {
    /// The id passes, lists and MQTT topics carry.
    pub id: String,
    /// Its name, for people ("Byns kontor").
    pub name: String,
    /// Its address, if given (the lines of a postal address).
    pub address: Option<String>,
    /// The IANA time zone its times are shown in and its gateways keep.
    pub time_zone: String,
    /// The language its new members get by default: sv, da or en.
    pub language: String,
    /// Whether its doors open only for device-bound passes: a member's pass link then shows
    /// no bare code, and a phone that cannot keep a device key is told so.
    pub require_device_key: bool,
    /// When it was added (RFC 3339).
    pub created_at: String,
}

/// What a member's pass page reads of its site: [`SiteDirectory::pass_rules`].
pub(crate) struct PassRules {
    pub(crate) name: String,
    pub(crate) zone: jiff::tz::TimeZone,
    pub(crate) require_device_key: bool,
    pub(crate) language: String,
}

/// A new site.
#[derive(Debug, Clone, Default)]
pub struct NewSite {
    /// The id: lowercase letters, digits, '-' and '_' (it travels in every pass).
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// Its address.
    pub address: Option<String>,
    /// An IANA time zone, like Europe/Stockholm.
    pub time_zone: String,
    /// sv, da or en; English unless given.
    pub language: Option<String>,
}

/// What to change of a site; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SiteChange {
    /// A new name.
    pub name: Option<String>,
    /// A new address; `Some(None)` clears it.
    pub address: Option<Option<String>>,
    /// A new time zone.
    pub time_zone: Option<String>,
    /// A new default language for members.
    pub language: Option<String>,
    /// Whether passes must be device-bound from now on.
    pub require_device_key: Option<bool>,
}

impl SiteChange {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.address.is_none()
            && self.time_zone.is_none()
            && self.language.is_none()
            && self.require_device_key.is_none()
    }
}

/// A name as stored: trimmed, 1 to 200 characters, on one line.
fn check_name(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::invalid(
            "name",
            format!("1 to {MAX_NAME_CHARS} characters, like `Byns kontor`"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "name",
            "one line without control characters",
        ));
    }
    Ok(name.to_owned())
}

/// An address as stored: trimmed, `None` when empty, line breaks allowed.
fn check_address(address: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(address) = address.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(ServiceError::invalid(
            "address",
            format!("at most {MAX_ADDRESS_CHARS} characters"),
        ));
    }
    if address
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(ServiceError::invalid(
            "address",
            "text and line breaks only, no other control characters",
        ));
    }
    Ok(Some(address.replace("\r\n", "\n")))
}

/// A time zone as stored: its IANA name as the time zone database spells it.
pub(crate) fn check_zone(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    let zone = crate::timetext::zone(name).map_err(|e| ServiceError::invalid("time_zone", e))?;
    Ok(zone.iana_name().unwrap_or(name).to_owned())
}

/// A language as stored: `sv`, `da` or `en`.
pub(crate) fn check_language(language: &str) -> ServiceResult<String> {
    let language = language.trim().to_ascii_lowercase();
    if LANGUAGES.contains(&language.as_str()) {
        Ok(language)
    } else {
        Err(ServiceError::invalid(
            "language",
            format!(
                "`{language}` is not a language of bygd; use one of {}",
                LANGUAGES.join(", ")
            ),
        ))
    }
}

type SiteRow = (String, String, Option<String>, String, String, i64, i64);

const SITE_COLUMNS: &str = "id, name, address, time_zone, language, created_at, require_device_key";

fn site_info(
    (id, name, address, time_zone, language, created_at, require_device_key): SiteRow,
) -> SiteInfo {
    SiteInfo {
        id,
        name,
        address,
        time_zone,
        language,
        require_device_key: require_device_key != 0,
        created_at: crate::timetext::rfc3339(created_at),
    }
}

/// Sites: adding, listing and changing them, and the time zone each site's times are read
/// and shown in.
///
/// Reached by [`Dashboard::sites`]; it borrows the shared state and holds nothing else. (The
/// name [`crate::Sites`] is taken by the site limits of a principal.)
#[derive(Debug, Clone, Copy)]
pub struct SiteDirectory<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl SiteDirectory<'_> {
    /// Adds a site (admins; an admin limited to some sites only adds one of those) and signs
    /// its first revocation list, in one transaction.
    pub async fn add(&self, who: &Principal, new: &NewSite) -> ServiceResult<SiteInfo> {
        who.require(Scope::Admin)?;
        let mut tx = self.dashboard.begin_write().await?;
        self.insert(&mut tx, who, new).await?;
        let now = self.dashboard.now();
        let signed = self
            .dashboard
            .revocation_lists()
            .sign_in(&mut tx, &new.id, now)
            .await?;
        tx.commit().await?;
        signed.announce(self.dashboard);
        tracing::info!(
            site = new.id.as_str(),
            actor = who.actor.as_str(),
            "site added"
        );
        self.get(who, &new.id).await
    }

    /// Checks and stores a new site in `tx`, recording it in the trail (also used by
    /// [`crate::Gateways::register`] for a site it does not know).
    pub(crate) async fn insert(
        &self,
        tx: &mut Tx,
        who: &Principal,
        new: &NewSite,
    ) -> ServiceResult<()> {
        SiteId::new(&new.id).map_err(|e| {
            ServiceError::invalid(
                "id",
                format!("{e} (lowercase letters, digits, '-' and '_', like `byn`)"),
            )
        })?;
        if !who.sees(&new.id) {
            return Err(ServiceError::invalid(
                "id",
                format!(
                    "{} is an admin of the sites {} only; a new site is added by an admin of \
                     every site",
                    who.actor, who.sites
                ),
            ));
        }
        let name = check_name(&new.name)?;
        let address = check_address(new.address.as_deref())?;
        let time_zone = check_zone(&new.time_zone)?;
        let language = check_language(new.language.as_deref().unwrap_or(DEFAULT_LANGUAGE))?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM sites WHERE id = $1")
            .bind(new.id.clone())
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_some() {
            return Err(ServiceError::Conflict(format!(
                "site `{}` already exists; change it with `bygd site edit {}`",
                new.id, new.id
            )));
        }
        sqlx::query(
            "INSERT INTO sites (id, name, address, time_zone, language, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.id.clone())
        .bind(name.clone())
        .bind(address.clone())
        .bind(time_zone.clone())
        .bind(language.clone())
        .bind(self.dashboard.now())
        .execute(&mut **tx)
        .await?;
        self.dashboard
            .record(
                tx,
                who,
                "site.add",
                &new.id,
                serde_json::json!({
                    "name": name,
                    "address": address,
                    "time_zone": time_zone,
                    "language": language,
                }),
            )
            .await
    }

    /// One site, if `who` may read gateways and sees the site.
    pub async fn get(&self, who: &Principal, id: &str) -> ServiceResult<SiteInfo> {
        who.require(Scope::GatewaysRead)?;
        self.find(who, id).await
    }

    /// The site `id` if `who` sees it (no scope needed: callers check their own).
    pub(crate) async fn find(&self, who: &Principal, id: &str) -> ServiceResult<SiteInfo> {
        let row: Option<SiteRow> =
            sqlx::query_as(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = $1"))
                .bind(id.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        match row {
            Some(row) if who.sees(id) => Ok(site_info(row)),
            _ => Err(ServiceError::not_found("site", id)),
        }
    }

    /// Every site `who` sees, by id.
    pub async fn list(&self, who: &Principal) -> ServiceResult<Vec<SiteInfo>> {
        who.require(Scope::GatewaysRead)?;
        let (only, sites) = crate::service::site_condition(who, "id", 1);
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE 1 = 1{only} ORDER BY id");
        let mut query = sqlx::query_as::<_, SiteRow>(&sql);
        for site in sites {
            query = query.bind(site);
        }
        let rows = query.fetch_all(&self.dashboard.db.pool).await?;
        Ok(rows.into_iter().map(site_info).collect())
    }

    /// Changes a site's name, address, time zone or language (admins of the site). Its id
    /// never changes. Gateways already installed keep the time zone of their config file
    /// until it is rewritten; the change is logged with how many there are.
    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        change: &SiteChange,
    ) -> ServiceResult<SiteInfo> {
        who.require(Scope::Admin)?;
        let site = self.find(who, id).await?;
        if change.is_empty() {
            return Err(ServiceError::invalid(
                "name",
                "give a new name, address, time zone, language or device-key rule",
            ));
        }
        let name = match &change.name {
            Some(name) => check_name(name)?,
            None => site.name.clone(),
        };
        let address = match &change.address {
            Some(address) => check_address(address.as_deref())?,
            None => site.address.clone(),
        };
        let time_zone = match &change.time_zone {
            Some(zone) => check_zone(zone)?,
            None => site.time_zone.clone(),
        };
        let language = match &change.language {
            Some(language) => check_language(language)?,
            None => site.language.clone(),
        };
        let require_device_key = change.require_device_key.unwrap_or(site.require_device_key);
        let mut tx = self.dashboard.begin_write().await?;
        sqlx::query(
            "UPDATE sites SET name = $1, address = $2, time_zone = $3, language = $4, \
             require_device_key = $5 WHERE id = $6",
        )
        .bind(name.clone())
        .bind(address.clone())
        .bind(time_zone.clone())
        .bind(language.clone())
        .bind(i64::from(require_device_key))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let mut detail = serde_json::json!({
            "name": name,
            "address": address,
            "time_zone": time_zone,
            "language": language,
            "require_device_key": require_device_key,
        });
        if time_zone != site.time_zone {
            detail["previous_time_zone"] = serde_json::json!(site.time_zone);
        }
        self.dashboard
            .record(&mut tx, who, "site.update", id, detail)
            .await?;
        tx.commit().await?;
        if time_zone != site.time_zone {
            let gateways: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gateways WHERE site = $1")
                .bind(id.to_owned())
                .fetch_one(&self.dashboard.db.pool)
                .await?;
            if gateways > 0 {
                tracing::warn!(
                    site = id,
                    from = site.time_zone.as_str(),
                    to = time_zone.as_str(),
                    gateways,
                    "site time zone changed; its installed gateways keep the zone of their \
                     config file until `time_zone` there is changed too"
                );
            }
        }
        self.dashboard.changed();
        self.get(who, id).await
    }

    /// Every site's time zone (for showing times where they happened; a zone name that is
    /// not valid any more reads as UTC).
    pub(crate) async fn zones(&self) -> ServiceResult<HashMap<String, jiff::tz::TimeZone>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, time_zone FROM sites")
            .fetch_all(&self.dashboard.db.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(site, name)| {
                let zone = crate::timetext::zone(&name).unwrap_or(jiff::tz::TimeZone::UTC);
                (site, zone)
            })
            .collect())
    }

    /// What a member's pass page reads of its site: its name, its time zone (UTC for a site
    /// that is gone or a zone name that no longer reads), whether passes must be
    /// device-bound, and its members' default language.
    pub(crate) async fn pass_rules(&self, site: &str) -> ServiceResult<PassRules> {
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT name, time_zone, require_device_key, language FROM sites WHERE id = $1",
        )
        .bind(site.to_owned())
        .fetch_optional(&self.dashboard.db.pool)
        .await?;
        Ok(match row {
            Some((name, zone, required, language)) => PassRules {
                name,
                zone: crate::timetext::zone(&zone).unwrap_or(jiff::tz::TimeZone::UTC),
                require_device_key: required != 0,
                language,
            },
            None => PassRules {
                name: site.to_owned(),
                zone: jiff::tz::TimeZone::UTC,
                require_device_key: false,
                language: DEFAULT_LANGUAGE.to_owned(),
            },
        })
    }

    /// The time zone of `site`, which must exist and be visible to `who`.
    pub async fn zone(&self, who: &Principal, site: &str) -> ServiceResult<jiff::tz::TimeZone> {
        let site = self.find(who, site).await?;
        crate::timetext::zone(&site.time_zone).map_err(ServiceError::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_zone_is_stored_as_the_database_spells_it_and_a_wrong_one_says_what_is_expected() {
        assert_eq!(
            check_zone(" Europe/Stockholm ").unwrap(),
            "Europe/Stockholm"
        );
        let e = check_zone("Europe/Byn").unwrap_err().to_string();
        assert!(
            e.contains("time_zone") && e.contains("Europe/Stockholm"),
            "{e}"
        );
    }

    #[test]
    fn a_language_is_one_of_the_ui_languages() {
        assert_eq!(check_language("SV").unwrap(), "sv");
        let e = check_language("de").unwrap_err().to_string();
        assert!(e.contains("sv, da, en"), "{e}");
    }

    #[test]
    fn names_are_one_line_and_addresses_may_have_several() {
        assert_eq!(check_name("  Byns kontor ").unwrap(), "Byns kontor");
        assert!(check_name("").is_err());
        assert!(check_name("two\nlines").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert_eq!(
            check_address(Some("Byvägen 1\r\n123 45 Byn")).unwrap(),
            Some("Byvägen 1\n123 45 Byn".to_owned())
        );
        assert_eq!(check_address(Some("   ")).unwrap(), None);
        assert!(check_address(Some("a\u{7}b")).is_err());
    }
}
