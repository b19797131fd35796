//! Gateways: registering a gateway's key, writing the gateway's config (with its site's time
//! zone), and what the dashboard knows of each gateway (online, last seen, doors and their
//! state). Sites themselves are `site.rs`'s; registering a gateway at a site that does not
//! exist yet still adds it, named after its id.
//!
//! Invariant: a batch is only ever verified against the key registered here, and a gateway's
//! chain head only moves in the ingest transaction that stores its events.

use crate::access::{Principal, Scope};
use crate::error::{ServiceError, ServiceResult};
use crate::service::{split_list, Dashboard};
use crate::site::NewSite;
use bygd_protocol::{DoorId, GatewayId, PublicKey, SiteId, Topic, TopicKind, GENESIS_HASH};
use serde::Serialize;
use std::path::PathBuf;

/// The BCM pins the generated config gives each door in turn (lock, sensor, exit): pins
/// without a second function on a Raspberry Pi header, so that no default collides with
/// I2C, SPI or UART. The installer checks them against the wiring.
const DEFAULT_PINS: [(u8, u8, u8); 4] = [(17, 27, 22), (5, 6, 13), (19, 26, 16), (20, 21, 12)];

/// How many of a gateway's latest events are read for its doors' state.
const RECENT_DOOR_EVENTS: u64 = 1000;

/// A gateway as the API and CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayInfo {
    /// Its site.
    pub site: String,
    /// Its id.
    pub id: String,
    /// Its public key (hex).
    pub public_key: String,
    /// Whether its last status said online (its last will says offline).
    pub online: bool,
    /// When anything last came from it (RFC 3339).
    pub last_seen: Option<String>,
    /// The last event stored.
    pub head_seq: u64,
    /// Its doors: as registered, with the state its last status reported.
    pub doors: Vec<DoorInfo>,
    /// The gateway's last status, as it sent it (unsigned: informational only).
    pub status: Option<serde_json::Value>,
    /// The revocation list version the gateway logged applying last (signed, from its log).
    pub list_version: Option<u64>,
    /// Its site's current revocation list version.
    pub site_list_version: Option<u64>,
    /// Since when, online, it has held an older list than its site's (RFC 3339).
    pub lagging_since: Option<String>,
}

/// A door and its last reported state.
#[derive(Debug, Clone, Serialize)]
pub struct DoorInfo {
    /// The door id.
    pub id: String,
    /// Lock released (per the last status).
    pub released: Option<bool>,
    /// Door standing open.
    pub open: Option<bool>,
    /// In lockdown.
    pub lockdown: Option<bool>,
    /// Forced-open alarm.
    pub forced_open: Option<bool>,
    /// Held-open alarm.
    pub held_open: Option<bool>,
}

/// Where a gateway keeps its files and how it runs: what differs between a gateway on a
/// Raspberry Pi as the Debian package installs it and one beside the dashboard (the demo).
/// Everything else in its config comes from what the dashboard knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySetup {
    /// What wrote the config, for its first comment line (a command, in backquotes).
    pub written_by: String,
    /// Its data directory (the store).
    pub data_dir: PathBuf,
    /// Its own key, whose public half was registered.
    pub key_file: PathBuf,
    /// Its control socket.
    pub socket: PathBuf,
    /// `rppal` (the Pi's GPIO) or `simulated` (pins in memory).
    pub hardware: String,
    /// `heartbeat_seconds` and `keep_alive_seconds` of its `[mqtt]` section, if not the
    /// gateway's defaults.
    pub mqtt_timing: Option<(u32, u32)>,
    /// Each door's `unlock_seconds`: how long a valid pass releases the lock (tests shorten
    /// it to see doors lock again sooner).
    pub unlock_seconds: u32,
}

impl GatewaySetup {
    /// A gateway as the Debian package installs it: its paths under /etc, /var/lib and /run,
    /// the Pi's GPIO, the default MQTT timing.
    #[must_use]
    pub fn installed() -> Self {
        Self {
            written_by: "`bygd gateway add`".into(),
            data_dir: "/var/lib/bygd".into(),
            key_file: "/etc/bygd/gateway.key".into(),
            socket: "/run/bygd/gateway.sock".into(),
            hardware: "rppal".into(),
            mqtt_timing: None,
            unlock_seconds: crate::command::DEFAULT_UNLOCK_SECONDS,
        }
    }
}

/// A TOML string holding `text`, quoted and escaped as TOML wants.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// What `bygd gateway add` registers.
#[derive(Debug, Clone)]
pub struct NewGateway {
    /// The site.
    pub site: String,
    /// The gateway id.
    pub id: String,
    /// Its public key as `bygd-gateway keygen` printed it.
    pub public_key: String,
    /// Its doors.
    pub doors: Vec<String>,
    /// The site's time zone, if the site is new (a site that exists keeps its own; giving
    /// another is refused).
    pub time_zone: Option<String>,
}

/// The time zone a new site gets unless told: bygd's first spaces are in Sweden.
pub(crate) const DEFAULT_TIME_ZONE: &str = "Europe/Stockholm";

/// Gateways: registering them (and their site, if new), their doors, the config file a
/// gateway is installed with, and listing them with their state.
///
/// Reached by [`Dashboard::gateways`]; it borrows the shared state and holds nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Gateways<'a> {
    pub(crate) dashboard: &'a Dashboard,
}

impl Gateways<'_> {
    /// Registers a gateway (and its site, if new). Admins only.
    pub async fn register(&self, who: &Principal, new: &NewGateway) -> ServiceResult<()> {
        who.require(Scope::Admin)?;
        // An admin of some sites registers gateways there only (and learns nothing of others).
        if !who.sees(&new.site) {
            return Err(ServiceError::not_found("site", new.site.clone()));
        }
        SiteId::new(&new.site).map_err(|e| ServiceError::invalid("site", e.to_string()))?;
        GatewayId::new(&new.id).map_err(|e| ServiceError::invalid("id", e.to_string()))?;
        let key = PublicKey::from_hex(new.public_key.trim()).map_err(|e| {
            ServiceError::invalid(
                "public_key",
                format!("{e}; give the 64 hex digits `bygd-gateway keygen` printed"),
            )
        })?;
        if new.doors.is_empty() {
            return Err(ServiceError::invalid(
                "doors",
                "name at least one door, like `front`",
            ));
        }
        for door in &new.doors {
            DoorId::new(door)
                .map_err(|e| ServiceError::invalid("doors", format!("`{door}`: {e}")))?;
        }
        let mut tx = self.dashboard.begin_write().await?;
        let zone: Option<String> = sqlx::query_scalar("SELECT time_zone FROM sites WHERE id = $1")
            .bind(new.site.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if zone.is_some() && !who.sees(&new.site) {
            return Err(ServiceError::not_found("site", new.site.clone()));
        }
        match (zone, &new.time_zone) {
            (None, zone) => {
                // A site not added first is named after its id; `bygd site edit` names it.
                let site = NewSite {
                    id: new.site.clone(),
                    name: new.site.clone(),
                    address: None,
                    time_zone: zone.clone().unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()),
                    language: None,
                };
                self.dashboard
                    .sites()
                    .insert(&mut tx, who, &site)
                    .await
                    .map_err(|e| match e {
                        // The gateway's form and flags call the site `site`.
                        ServiceError::Invalid { field, problem } if field == "id" => {
                            ServiceError::invalid("site", problem)
                        }
                        other => other,
                    })?;
            }
            // A gateway keeps the zone of its site: a different one is a mistake, not a way
            // to change the site's (which its other gateways and pages would not follow).
            (Some(have), Some(want)) => {
                if crate::site::check_zone(want)? != have {
                    return Err(ServiceError::invalid(
                        "time_zone",
                        format!(
                            "site `{site}` already has the time zone {have}, which its gateways \
                             use; leave the time zone out, or change the site's first with \
                             `bygd site edit {site} --time-zone {want}`",
                            site = new.site
                        ),
                    ));
                }
            }
            (Some(_), None) => {}
        }
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM gateways WHERE site = $1 AND id = $2")
                .bind(new.site.clone())
                .bind(new.id.clone())
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(ServiceError::Conflict(format!(
                "gateway `{}/{}` is already registered",
                new.site, new.id
            )));
        }
        sqlx::query(
            "INSERT INTO gateways (site, id, public_key, doors, registered_at, head_seq, head_hash, \
             command_seq, online) VALUES ($1, $2, $3, $4, $5, 0, $6, 0, 0)",
        )
        .bind(new.site.clone())
        .bind(new.id.clone())
        .bind(key.to_hex())
        .bind(new.doors.join(","))
        .bind(self.dashboard.now())
        .bind(hex::encode(GENESIS_HASH))
        .execute(&mut *tx)
        .await?;
        self.dashboard
            .record(
                &mut tx,
                who,
                "gateway.add",
                &format!("{}/{}", new.site, new.id),
                serde_json::json!({ "public_key": key.to_hex(), "doors": new.doors }),
            )
            .await?;
        tx.commit().await?;
        // A new site needs its revocation list on the broker before its first gateway asks.
        self.dashboard.revocation_lists().refresh(&new.site).await?;
        Ok(())
    }

    /// Finds a gateway by `site/id`, or by `id` alone when only one site has it.
    pub async fn resolve(&self, who: &Principal, name: &str) -> ServiceResult<(String, String)> {
        let rows: Vec<(String, String)> = match name.split_once('/') {
            Some((site, id)) => {
                sqlx::query_as("SELECT site, id FROM gateways WHERE site = $1 AND id = $2")
                    .bind(site.to_owned())
                    .bind(id.to_owned())
                    .fetch_all(&self.dashboard.db.pool)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT site, id FROM gateways WHERE id = $1 ORDER BY site")
                    .bind(name.to_owned())
                    .fetch_all(&self.dashboard.db.pool)
                    .await?
            }
        };
        let visible: Vec<(String, String)> =
            rows.into_iter().filter(|(s, _)| who.sees(s)).collect();
        match visible.as_slice() {
            [] => Err(ServiceError::not_found("gateway", name)),
            [one] => Ok(one.clone()),
            many => Err(ServiceError::invalid(
                "gateway",
                format!(
                    "`{name}` exists at several sites; write SITE/GATEWAY, one of: {}",
                    many.iter()
                        .map(|(s, g)| format!("{s}/{g}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// Every gateway `who` may see, with doors and state. A door's open or closed state is
    /// the gateway's last status, or a door event stored since then if there is one (events
    /// come at once; statuses at each heartbeat).
    pub async fn list(&self, who: &Principal) -> ServiceResult<Vec<GatewayInfo>> {
        let mut gateways = self.list_by_status(who).await?;
        for g in &mut gateways {
            let since: Option<i64> =
                sqlx::query_scalar("SELECT status_at FROM gateways WHERE site = $1 AND id = $2")
                    .bind(g.site.clone())
                    .bind(g.id.clone())
                    .fetch_optional(&self.dashboard.db.pool)
                    .await?
                    .flatten();
            // Only the latest events are looked at, so a long history costs nothing here.
            let first_seq =
                i64::try_from(g.head_seq.saturating_sub(RECENT_DOOR_EVENTS)).unwrap_or(0);
            let events: Vec<(Option<String>, String)> = sqlx::query_as(
                "SELECT door, kind FROM events WHERE site = $1 AND gateway = $2 AND seq > $3 \
                 AND received_at >= $4 AND kind IN ('door_opened', 'door_closed') \
                 ORDER BY seq DESC",
            )
            .bind(g.site.clone())
            .bind(g.id.clone())
            .bind(first_seq)
            .bind(since.unwrap_or(0))
            .fetch_all(&self.dashboard.db.pool)
            .await?;
            for door in &mut g.doors {
                if let Some((_, kind)) = events.iter().find(|(d, _)| d.as_deref() == Some(&door.id))
                {
                    door.open = Some(kind == "door_opened");
                }
            }
        }
        Ok(gateways)
    }

    /// Every gateway `who` may see, doors as their last status reported them.
    async fn list_by_status(&self, who: &Principal) -> ServiceResult<Vec<GatewayInfo>> {
        who.require(Scope::GatewaysRead)?;
        let rows: Vec<(
            String,
            String,
            String,
            String,
            i64,
            i64,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        )> = sqlx::query_as(
            "SELECT g.site, g.id, g.public_key, g.doors, g.head_seq, g.online, g.status, \
                 g.last_seen, g.list_version, r.version, g.lagging_since \
                 FROM gateways g LEFT JOIN revocation_lists r ON r.site = g.site \
                 ORDER BY g.site, g.id",
        )
        .fetch_all(&self.dashboard.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|row| who.sees(&row.0))
            .map(
                |(
                    site,
                    id,
                    public_key,
                    doors,
                    head,
                    online,
                    status,
                    last_seen,
                    list_version,
                    site_list_version,
                    lagging_since,
                )| {
                    let status: Option<serde_json::Value> =
                        status.and_then(|s| serde_json::from_str(&s).ok());
                    let reported = |door: &str| {
                        status.as_ref().and_then(|s| {
                            s["doors"]
                                .as_array()?
                                .iter()
                                .find(|d| d["id"] == door)
                                .cloned()
                        })
                    };
                    let doors = split_list(&doors)
                        .into_iter()
                        .map(|door| {
                            let state = reported(&door);
                            let flag = |key: &str| state.as_ref().and_then(|s| s[key].as_bool());
                            DoorInfo {
                                released: flag("released"),
                                open: flag("open"),
                                lockdown: flag("lockdown"),
                                forced_open: flag("forced_open"),
                                held_open: flag("held_open"),
                                id: door,
                            }
                        })
                        .collect();
                    GatewayInfo {
                        site,
                        id,
                        public_key,
                        online: online != 0,
                        last_seen: last_seen.map(crate::timetext::rfc3339),
                        head_seq: crate::db::from_sql(head),
                        doors,
                        status,
                        list_version: list_version.map(crate::db::from_sql),
                        site_list_version: site_list_version.map(crate::db::from_sql),
                        lagging_since: lagging_since.map(crate::timetext::rfc3339),
                    }
                },
            )
            .collect())
    }

    /// The registered doors of a gateway.
    pub(crate) async fn doors(&self, site: &str, gateway: &str) -> ServiceResult<Vec<String>> {
        let doors: Option<String> =
            sqlx::query_scalar("SELECT doors FROM gateways WHERE site = $1 AND id = $2")
                .bind(site.to_owned())
                .bind(gateway.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        doors
            .map(|d| split_list(&d))
            .ok_or_else(|| ServiceError::not_found("gateway", format!("{site}/{gateway}")))
    }

    /// A complete gateway config for a registered gateway installed on a Pi: the issuer key
    /// to trust, its site, id and doors, and the broker. Pins are defaults to check against
    /// the wiring.
    pub async fn config(
        &self,
        who: &Principal,
        site: &str,
        gateway: &str,
        broker_url: Option<&str>,
    ) -> ServiceResult<String> {
        self.config_for(who, site, gateway, broker_url, &GatewaySetup::installed())
            .await
    }

    /// [`Gateways::config`] for a gateway set up as `setup` says. The one writer of
    /// gateway configs: `bygd gateway add` and the demo both use it.
    pub async fn config_for(
        &self,
        who: &Principal,
        site: &str,
        gateway: &str,
        broker_url: Option<&str>,
        setup: &GatewaySetup,
    ) -> ServiceResult<String> {
        who.require(Scope::Admin)?;
        // The site's zone as it is now: schedules are read in it at the door.
        let zone = self.dashboard.sites().find(who, site).await?.time_zone;
        let doors = self.doors(site, gateway).await?;
        // The site's list version now: the gateway refuses older lists even after its store
        // was replaced by an empty one (`--accept-fresh-store`).
        let min_version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM revocation_lists WHERE site = $1")
                .bind(site.to_owned())
                .fetch_optional(&self.dashboard.db.pool)
                .await?;
        let min_version = min_version.unwrap_or(0);
        let mut text = format!(
            "# bygd gateway config for {site}/{gateway}, written by {written_by}.\n\
             # Every key is documented in deploy/gateway.example.toml. Check it with\n\
             #   bygd-gateway check-config --config /etc/bygd/gateway.toml\n\
             # Topics: {event} (out), {cmd} and {ack} (in), {revocations} (in).\n\n\
             site = \"{site}\"\n\
             gateway = \"{gateway}\"\n\
             data_dir = {data_dir}\n\
             # The key whose public half was registered (bygd-gateway keygen --out ...).\n\
             key_file = {key_file}\n\
             time_zone = \"{zone}\"\n\
             hardware = {hardware}\n\
             socket = {socket}\n\n\
             # The dashboard's issuer key: passes, revocation lists, commands and acks it signs.\n\
             [[issuer]]\n\
             public_key = \"{key}\"\n\
             key_id = \"{key_id}\"\n\n\
             [policy]\n\
             # Revocation lists older than the site's list when this file was written are\n\
             # refused, even by an empty store; raise it before `run --accept-fresh-store`.\n\
             revocation_min_version = {min_version}\n\n\
             # Prometheus metrics on a local port: off unless uncommented. No authentication,\n\
             # so keep it on loopback (a scraper on this Pi, or an SSH tunnel).\n\
             # [metrics]\n\
             # listen = \"127.0.0.1:9464\"\n",
            event = topic(site, gateway, TopicKind::Event),
            cmd = topic(site, gateway, TopicKind::Command),
            ack = topic(site, gateway, TopicKind::Ack),
            revocations = SiteId::new(site)
                .map(|site| Topic::Revocations { site }.to_string())
                .unwrap_or_default(),
            key = self.dashboard.issuer.public_key().to_hex(),
            key_id = self.dashboard.issuer.id(),
            written_by = setup.written_by,
            data_dir = toml_string(&setup.data_dir.to_string_lossy()),
            key_file = toml_string(&setup.key_file.to_string_lossy()),
            hardware = toml_string(&setup.hardware),
            socket = toml_string(&setup.socket.to_string_lossy()),
        );
        for (i, door) in doors.iter().enumerate() {
            let (lock, sensor, exit) = DEFAULT_PINS.get(i).copied().unwrap_or((0, 0, 0));
            if lock == 0 {
                text.push_str(&format!(
                    "\n# Door `{door}`: no default pins are left; add its [[door]] section by hand.\n"
                ));
                continue;
            }
            text.push_str(&format!(
                "\n# Check the pins (BCM numbers) against the wiring.\n\
                 [[door]]\nid = \"{door}\"\nlock_pin = {lock}\nsensor_pin = {sensor}\nexit_pin = {exit}\n\
                 unlock_seconds = {unlock}\nlock_type = \"fail-secure\"\n",
                unlock = setup.unlock_seconds,
            ));
        }
        match broker_url {
            Some(url) => text.push_str(&format!(
                "\n# The broker. With mqtts://, add ca_file, client_cert_file and client_key_file\n\
                 # (deploy/mosquitto/ explains the per-gateway certificates and ACLs).\n\
                 [mqtt]\nurl = \"{url}\"\n{timing}",
                timing = setup.mqtt_timing.map_or_else(String::new, |(heartbeat, keep_alive)| {
                    format!("heartbeat_seconds = {heartbeat}\nkeep_alive_seconds = {keep_alive}\n")
                }),
            )),
            None => text.push_str(
                "\n# No broker was named (bygd gateway add --broker mqtts://HOST:8883): the gateway\n\
                 # works alone until an [mqtt] section with `url` is added.\n",
            ),
        }
        Ok(text)
    }
}

fn topic(site: &str, gateway: &str, kind: TopicKind) -> String {
    match (SiteId::new(site), GatewayId::new(gateway)) {
        (Ok(site), Ok(gateway)) => Topic::gateway(&site, &gateway, kind).to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_as_toml_strings_and_plain_ones_stay_as_they_were() {
        // `bygd gateway add` wrote these literally before they became settings.
        assert_eq!(toml_string("/var/lib/bygd"), r#""/var/lib/bygd""#);
        assert_eq!(toml_string("rppal"), r#""rppal""#);
        let odd = r#"/tmp/a "quoted" \dir"#;
        let parsed: toml::Table = toml::from_str(&format!("path = {}", toml_string(odd))).unwrap();
        assert_eq!(parsed["path"].as_str(), Some(odd));
    }
}
