//! The gateway's configuration: one TOML file, checked as a whole before anything starts.
//!
//! Invariant: a [`Config`] that exists is valid: ids are legal, pins are not shared, every
//! reader names a configured door, the time zone is known, and every issuer key is a usable
//! (non-weak) Ed25519 key. Errors name the file, the key and what was expected, because the
//! person reading them is an installer at a door, not a developer.

use bygd_link::MqttConfig;
use bygd_protocol::{DoorId, GatewayId, PublicKey, SiteId, TrustedKeys};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The largest config file read: a real one is a few kilobytes.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Why a config file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or a key has the wrong type.
    #[error("config file {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the parser said, with line and column.
        message: String,
    },
    /// A key's value is not acceptable.
    #[error("config file {path}: key `{key}`: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key, as a TOML path (`door[1].lock_pin`).
        key: String,
        /// What was wrong and what is expected.
        problem: String,
    },
}

/// Which GPIO driver moves the relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HardwareBackend {
    /// The Raspberry Pi's GPIO through rppal.
    Rppal,
    /// In-memory pins, for tests, demos and trying bygd on a laptop.
    Simulated,
}

/// What kind of lock a door has; decides which relay state is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockType {
    /// An electric strike: power unlocks, so a power cut leaves the door locked.
    FailSecure,
    /// A maglock: power locks, so a power cut leaves the door open.
    FailSafe,
}

/// Which relay input level energises the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A high pin.
    High,
    /// A low pin.
    Low,
}

/// What the exit button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitButtonMode {
    /// Releases the lock for the unlock time (the button is the egress path).
    Unlock,
    /// Only shunts the forced-open alarm: egress is mechanical (a lever handle).
    ShuntOnly,
}

/// How a reader is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderKind {
    /// A device that writes one code per line: USB QR scanners in serial (CDC/ACM) mode,
    /// NFC readers with a serial bridge, or a named pipe a script writes to.
    Lines,
}

/// One door and its wiring (BCM pin numbers).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// The door's id, unique at this gateway.
    pub id: String,
    /// BCM pin driving the lock relay.
    pub lock_pin: u8,
    /// BCM pin of the door position sensor (reed switch).
    pub sensor_pin: u8,
    /// BCM pin of the exit button, if there is one.
    pub exit_pin: Option<u8>,
    /// BCM pin of the reader's LED, if any.
    pub led_pin: Option<u8>,
    /// BCM pin of the reader's buzzer, if any.
    pub buzzer_pin: Option<u8>,
    /// Seconds a grant releases the lock.
    #[serde(default = "default_unlock_seconds")]
    pub unlock_seconds: u32,
    /// Longest the lock may stay released for one grant or exit (not in hold-open or fire).
    #[serde(default = "default_max_unlock_seconds")]
    pub max_unlock_seconds: u32,
    /// Seconds the door may stand open before the held-open alarm.
    #[serde(default = "default_held_open_seconds")]
    pub held_open_alarm_seconds: u32,
    /// Relock as soon as the door closes after opening.
    #[serde(default = "default_true")]
    pub relock_on_close: bool,
    /// Strike (fail-secure) or maglock (fail-safe).
    #[serde(default = "default_lock_type")]
    pub lock_type: LockType,
    /// Relay input level that energises the lock.
    #[serde(default = "default_level_high")]
    pub relay_active: Level,
    /// Sensor pin level when the door is closed.
    #[serde(default = "default_level_low")]
    pub sensor_closed: Level,
    /// Exit button pin level while pressed.
    #[serde(default = "default_level_low")]
    pub exit_pressed: Level,
    /// What the exit button does.
    #[serde(default = "default_exit_mode")]
    pub exit_button: ExitButtonMode,
}

fn default_unlock_seconds() -> u32 {
    5
}
fn default_max_unlock_seconds() -> u32 {
    30
}
fn default_held_open_seconds() -> u32 {
    30
}
fn default_true() -> bool {
    true
}
fn default_lock_type() -> LockType {
    LockType::FailSecure
}
fn default_level_high() -> Level {
    Level::High
}
fn default_level_low() -> Level {
    Level::Low
}
fn default_exit_mode() -> ExitButtonMode {
    ExitButtonMode::Unlock
}

/// One reader.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderConfig {
    /// How it is connected.
    pub kind: ReaderKind,
    /// The device or pipe it writes to, e.g. `/dev/ttyACM0`.
    pub device: PathBuf,
    /// The door it opens.
    pub door: String,
}

/// A trusted issuer key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssuerConfig {
    /// The Ed25519 public key, 64 hex digits (as `bygd init` prints it).
    pub public_key: String,
    /// Optional key id (16 hex digits), checked against the key so a typo is caught.
    pub key_id: Option<String>,
}

/// Rules the gateway applies on top of the pass checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Hours after the revocation list's issue time before the gateway raises an alarm.
    #[serde(default = "default_alarm_hours")]
    pub revocation_alarm_after_hours: u32,
    /// Hours after the revocation list's issue time before only break-glass passes open.
    /// 0 disables the rule (a door that must work through week-long outages).
    #[serde(default = "default_refuse_hours")]
    pub revocation_refuse_after_hours: u32,
    /// How far a phone's clock may be from the gateway's for device proofs.
    #[serde(default = "default_proof_skew")]
    pub proof_skew_seconds: u32,
    /// Days delivered events stay in the local log before they are trimmed.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Revocation lists (and deltas) numbered below this are refused as a rollback, whatever
    /// the store holds: the rollback protection a gateway keeps when its store is replaced by
    /// an empty one (`--accept-fresh-store`). 0: no floor beyond the store's own version.
    #[serde(default)]
    pub revocation_min_version: u64,
    /// Seconds over which repeated identical denials at one door (same reason, same pass or
    /// none) are counted in one event instead of logged one by one. 0 logs every denial.
    #[serde(default = "default_denial_window")]
    pub denial_window_seconds: u32,
    /// Free space (MB) on the data directory's disk below which the gateway raises its
    /// disk-low alarm and folds repeated denials over a longer window. 0 disables the check.
    #[serde(default = "default_min_free_disk_mb")]
    pub min_free_disk_mb: u64,
}

/// A minute: a person retrying a refused code is one event, a reader fed garbage all night
/// is about 1,440 events a day instead of one per presentation.
fn default_denial_window() -> u32 {
    60
}
/// 200 MB: at about 150 bytes per event, room for over a million more events (grants keep
/// being logged) while an operator is told.
fn default_min_free_disk_mb() -> u64 {
    200
}

fn default_alarm_hours() -> u32 {
    48
}
fn default_refuse_hours() -> u32 {
    0
}
fn default_proof_skew() -> u32 {
    60
}
fn default_retention_days() -> u32 {
    90
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            revocation_alarm_after_hours: default_alarm_hours(),
            revocation_refuse_after_hours: default_refuse_hours(),
            proof_skew_seconds: default_proof_skew(),
            retention_days: default_retention_days(),
            revocation_min_version: 0,
            denial_window_seconds: default_denial_window(),
            min_free_disk_mb: default_min_free_disk_mb(),
        }
    }
}

/// The `[metrics]` table as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    /// `IP:port` to serve `GET /metrics` on.
    listen: String,
    /// Whether an address other than loopback is meant (the endpoint has no authentication).
    #[serde(default)]
    allow_remote: bool,
}

/// The Prometheus endpoint (`[metrics]`): off unless the section is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served. Loopback unless the config allowed otherwise, because
    /// anyone who reaches it reads the door states and the decision counts.
    pub listen: SocketAddr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    site: String,
    gateway: String,
    data_dir: PathBuf,
    key_file: PathBuf,
    time_zone: String,
    hardware: HardwareBackend,
    socket: PathBuf,
    #[serde(default)]
    clock_has_rtc: bool,
    #[serde(default)]
    clock_sync_file: Option<PathBuf>,
    #[serde(default, rename = "issuer")]
    issuers: Vec<IssuerConfig>,
    #[serde(default)]
    policy: PolicyConfig,
    #[serde(default, rename = "door")]
    doors: Vec<DoorConfig>,
    #[serde(default, rename = "reader")]
    readers: Vec<ReaderConfig>,
    mqtt: Option<MqttConfig>,
    metrics: Option<RawMetrics>,
}

/// A checked gateway configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (for messages).
    pub path: PathBuf,
    /// This gateway's site.
    pub site: SiteId,
    /// This gateway's id.
    pub gateway: GatewayId,
    /// Where the store lives.
    pub data_dir: PathBuf,
    /// The gateway's Ed25519 key (written by `bygd-gateway keygen`).
    pub key_file: PathBuf,
    /// The site's IANA time zone, for pass schedules.
    pub time_zone: jiff::tz::TimeZone,
    /// The zone's name as configured.
    pub time_zone_name: String,
    /// GPIO driver.
    pub hardware: HardwareBackend,
    /// The local control socket (`present`, status, simulation).
    pub socket: PathBuf,
    /// Whether a battery-backed RTC keeps time across power cuts.
    pub clock_has_rtc: bool,
    /// The file whose presence says the OS synchronised the system clock (systemd-timesyncd's
    /// flag unless configured otherwise, e.g. for chrony or for tests).
    pub clock_sync_file: PathBuf,
    /// Trusted issuer keys.
    pub issuers: TrustedKeys,
    /// Gateway policy.
    pub policy: PolicyConfig,
    /// Doors, with their ids checked.
    pub doors: Vec<(DoorId, DoorConfig)>,
    /// Readers, each naming a configured door.
    pub readers: Vec<(DoorId, ReaderConfig)>,
    /// The uplink, if configured (file paths resolved against the config's directory).
    pub mqtt: Option<MqttConfig>,
    /// The Prometheus endpoint, if configured (off by default).
    pub metrics: Option<MetricsConfig>,
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let read = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let mut text = String::new();
        use std::io::Read as _;
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(read)?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(ConfigError::Syntax {
                path: path.to_owned(),
                message: "file is larger than 1 MiB; is this the right file?".into(),
            });
        }
        Self::parse(&text, path)
    }

    /// Parses and checks config text; `path` is only used in messages and to resolve
    /// relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let invalid = |key: &str, problem: String| ConfigError::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let site =
            SiteId::new(&raw.site).map_err(|e| invalid("site", format!("`{}` {e}", raw.site)))?;
        let gateway = GatewayId::new(&raw.gateway)
            .map_err(|e| invalid("gateway", format!("`{}` {e}", raw.gateway)))?;
        if gateway.as_str() == "revocations" {
            // `bygd/v1/SITE/revocations` is the site's revocation topic; a gateway of that name
            // could be granted it by a broker ACL written as `bygd/v1/SITE/GATEWAY/#`.
            return Err(invalid(
                "gateway",
                "`revocations` is reserved; choose another gateway id".into(),
            ));
        }
        let time_zone = jiff::tz::TimeZone::get(&raw.time_zone).map_err(|_| {
            invalid(
                "time_zone",
                format!(
                    "`{}` is not a known IANA time zone (expected e.g. \"Europe/Stockholm\")",
                    raw.time_zone
                ),
            )
        })?;
        if raw.issuers.is_empty() {
            return Err(invalid(
                "issuer",
                "no [[issuer]] section: add the dashboard's issuer public key (`bygd init` prints it)".into(),
            ));
        }
        let mut issuers = TrustedKeys::new();
        for (i, issuer) in raw.issuers.iter().enumerate() {
            let key = PublicKey::from_hex(&issuer.public_key)
                .map_err(|e| invalid(&format!("issuer[{i}].public_key"), format!("the key {e}")))?;
            if let Some(id) = &issuer.key_id {
                if id.trim() != key.id().to_string() {
                    return Err(invalid(
                        &format!("issuer[{i}].key_id"),
                        format!(
                            "is {id} but the key's id is {}; check for a copy-paste error",
                            key.id()
                        ),
                    ));
                }
            }
            issuers.insert(key);
        }
        if raw.doors.is_empty() {
            return Err(invalid(
                "door",
                "no [[door]] section: a gateway needs at least one door".into(),
            ));
        }
        let mut doors = Vec::new();
        let mut door_ids = BTreeSet::new();
        let mut pins: BTreeSet<u8> = BTreeSet::new();
        for (i, door) in raw.doors.iter().enumerate() {
            let key = |field: &str| format!("door[{i}].{field}");
            let id = DoorId::new(&door.id)
                .map_err(|e| invalid(&key("id"), format!("`{}` {e}", door.id)))?;
            if !door_ids.insert(id.clone()) {
                return Err(invalid(
                    &key("id"),
                    format!("door `{id}` is configured twice"),
                ));
            }
            let wired = [
                ("lock_pin", Some(door.lock_pin)),
                ("sensor_pin", Some(door.sensor_pin)),
                ("exit_pin", door.exit_pin),
                ("led_pin", door.led_pin),
                ("buzzer_pin", door.buzzer_pin),
            ];
            for (field, pin) in wired {
                let Some(pin) = pin else { continue };
                // BCM numbering on the 40-pin header runs 0..=27.
                if pin > 27 {
                    return Err(invalid(
                        &key(field),
                        format!("BCM pin {pin} does not exist (expected 0 to 27)"),
                    ));
                }
                if !pins.insert(pin) {
                    return Err(invalid(
                        &key(field),
                        format!("BCM pin {pin} is already used by another input or output"),
                    ));
                }
            }
            crate::door::firmware_config(door)
                .map_err(|problem| invalid(&key("unlock_seconds"), problem))?;
            doors.push((id, door.clone()));
        }
        let mut readers = Vec::new();
        for (i, reader) in raw.readers.iter().enumerate() {
            let door = DoorId::new(&reader.door)
                .ok()
                .filter(|d| door_ids.contains(d))
                .ok_or_else(|| {
                    invalid(
                        &format!("reader[{i}].door"),
                        format!("`{}` is not a configured door", reader.door),
                    )
                })?;
            readers.push((door, reader.clone()));
        }
        let policy = raw.policy;
        if policy.revocation_refuse_after_hours != 0
            && policy.revocation_refuse_after_hours < policy.revocation_alarm_after_hours
        {
            return Err(invalid(
                "policy.revocation_refuse_after_hours",
                "must be 0 (never) or at least revocation_alarm_after_hours, so the alarm comes first".into(),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mqtt = match raw.mqtt {
            None => None,
            Some(mut mqtt) => {
                mqtt.address()
                    .map_err(|problem| invalid("mqtt.url", problem))?;
                if mqtt.heartbeat_seconds == 0 || mqtt.keep_alive_seconds < 5 {
                    return Err(invalid(
                        "mqtt.keep_alive_seconds",
                        "heartbeat_seconds must be above 0 and keep_alive_seconds at least 5"
                            .into(),
                    ));
                }
                if mqtt.client_cert_file.is_some() != mqtt.client_key_file.is_some() {
                    return Err(invalid(
                        "mqtt.client_key_file",
                        "client_cert_file and client_key_file go together: set both or neither"
                            .into(),
                    ));
                }
                for file in [
                    &mut mqtt.password_file,
                    &mut mqtt.ca_file,
                    &mut mqtt.client_cert_file,
                    &mut mqtt.client_key_file,
                ]
                .into_iter()
                .flatten()
                {
                    *file = base.join(&*file);
                }
                Some(mqtt)
            }
        };
        let metrics = raw
            .metrics
            .map(|m| metrics_config(&m).map_err(|(key, problem)| invalid(key, problem)))
            .transpose()?;
        Ok(Self {
            path: path.to_owned(),
            site,
            gateway,
            data_dir: base.join(raw.data_dir),
            key_file: base.join(raw.key_file),
            time_zone,
            time_zone_name: raw.time_zone,
            hardware: raw.hardware,
            socket: base.join(raw.socket),
            clock_has_rtc: raw.clock_has_rtc,
            clock_sync_file: raw.clock_sync_file.map_or_else(
                || PathBuf::from(crate::clock::TIMESYNC_FLAG),
                |file| base.join(file),
            ),
            issuers,
            policy,
            doors,
            readers,
            mqtt,
            metrics,
        })
    }

    /// The configured door with this id.
    #[must_use]
    pub fn door(&self, id: &DoorId) -> Option<&DoorConfig> {
        self.doors.iter().find(|(d, _)| d == id).map(|(_, c)| c)
    }
}

/// Checks `[metrics]`: an `IP:port` (no host name: the daemon binds before any resolver is
/// trusted), on loopback unless `allow_remote` says a LAN address is meant.
fn metrics_config(raw: &RawMetrics) -> Result<MetricsConfig, (&'static str, String)> {
    let listen: SocketAddr = raw.listen.trim().parse().map_err(|_| {
        (
            "metrics.listen",
            format!(
                "`{}` is not an IP address and port (expected e.g. \"127.0.0.1:9464\")",
                raw.listen
            ),
        )
    })?;
    if !listen.ip().is_loopback() && !raw.allow_remote {
        return Err((
            "metrics.listen",
            format!(
                "`{listen}` is not a loopback address; the metrics endpoint has no \
                 authentication, so use 127.0.0.1 (scrape through an SSH tunnel or a local \
                 agent), or set `allow_remote = true` for a trusted LAN"
            ),
        ));
    }
    Ok(MetricsConfig { listen })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid config with `extra` appended after the doors.
    fn with(extra: &str) -> Result<Config, ConfigError> {
        let text = format!(
            r#"site = "byn"
gateway = "gw1"
data_dir = "data"
key_file = "gateway.key"
time_zone = "Europe/Stockholm"
hardware = "simulated"
socket = "gw.sock"

[[issuer]]
public_key = "9601716d8da6033c539073656d0c832cbbcd6acbb41b9981d91bdc4f5038a3a3"

[[door]]
id = "front"
lock_pin = 17
sensor_pin = 27

{extra}
"#
        );
        Config::parse(&text, Path::new("/etc/bygd/gateway.toml"))
    }

    fn invalid_key(result: Result<Config, ConfigError>) -> (String, String) {
        match result {
            Err(ConfigError::Invalid { key, problem, .. }) => (key, problem),
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn metrics_are_off_without_a_metrics_section() {
        assert_eq!(with("").expect("valid").metrics, None);
    }

    #[test]
    fn metrics_listen_on_the_configured_loopback_address() {
        let config = with("[metrics]\nlisten = \"127.0.0.1:9464\"").expect("valid");
        assert_eq!(
            config.metrics,
            Some(MetricsConfig {
                listen: "127.0.0.1:9464".parse().expect("an address")
            })
        );
        let v6 = with("[metrics]\nlisten = \"[::1]:9464\"").expect("valid");
        assert!(v6.metrics.is_some_and(|m| m.listen.ip().is_loopback()));
    }

    #[test]
    fn a_lan_metrics_address_is_refused_unless_remote_is_allowed() {
        let (key, problem) = invalid_key(with("[metrics]\nlisten = \"0.0.0.0:9464\""));
        assert_eq!(key, "metrics.listen");
        assert!(problem.contains("no authentication"), "{problem}");
        let allowed =
            with("[metrics]\nlisten = \"192.168.1.5:9464\"\nallow_remote = true").expect("valid");
        assert_eq!(
            allowed.metrics.map(|m| m.listen.port()),
            Some(9464),
            "an explicit allow_remote accepts a LAN address"
        );
    }

    #[test]
    fn a_metrics_host_name_is_refused_with_the_file_and_key() {
        let error = with("[metrics]\nlisten = \"localhost:9464\"").expect_err("a host name");
        let message = error.to_string();
        assert!(
            message.contains("/etc/bygd/gateway.toml")
                && message.contains("metrics.listen")
                && message.contains("127.0.0.1:9464"),
            "{message}"
        );
    }

    #[test]
    fn the_example_config_parses_and_its_metrics_example_is_loopback() {
        let example = include_str!("../../deploy/gateway.example.toml");
        let path = Path::new("/etc/bygd/gateway.toml");
        let plain = Config::parse(example, path).expect("the example is valid");
        assert_eq!(plain.metrics, None, "metrics are off in the example");
        let uncommented = example
            .replace("# [metrics]", "[metrics]")
            .replace("# listen = ", "listen = ")
            .replace("# allow_remote = ", "allow_remote = ");
        let on = Config::parse(&uncommented, path).expect("the commented example is valid");
        assert!(
            on.metrics.is_some_and(|m| m.listen.ip().is_loopback()),
            "{:?}",
            on.metrics
        );
    }

    #[test]
    fn an_unknown_metrics_key_is_a_syntax_error() {
        let error =
            with("[metrics]\nlisten = \"127.0.0.1:9464\"\nport = 1").expect_err("unknown key");
        assert!(matches!(error, ConfigError::Syntax { .. }), "{error:?}");
    }
}
