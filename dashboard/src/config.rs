//! The dashboard's configuration: `dashboard.toml` in its data directory, written by
//! `bygd init` and overridden by `bygd serve` flags.
//!
//! Invariant: a [`DashboardConfig`] that exists is usable: its database URL has a known
//! scheme, its listen address parses and its MQTT URL (if any) names a broker. Errors name
//! the file, the key and what was expected.

pub use crate::home_assistant::HomeAssistantConfig;
use bygd_link::MqttConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The config file's name inside the data directory.
pub const CONFIG_FILE: &str = "dashboard.toml";
/// The issuer key's file name inside the data directory.
pub const ISSUER_KEY_FILE: &str = "issuer.key";
/// The SQLite file's name inside the data directory (the default database).
pub const SQLITE_FILE: &str = "bygd.db";
/// Where the HTTP API listens unless told otherwise: loopback only, so that a fresh install
/// is not on the network before its operator puts TLS (a reverse proxy) in front of it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Seconds between time beacons to each online gateway: often enough that a Pi without a
/// battery clock is corrected soon after boot, rare enough to cost nothing.
const DEFAULT_BEACON_SECONDS: u32 = 600;
/// Hours between re-signed revocation lists: gateways warn when the newest list is older
/// than 48 hours (their default), so a fresh one every 12 hours leaves room for outages.
const DEFAULT_REVOCATION_REFRESH_HOURS: u32 = 12;
/// Half an hour: far longer than a list takes to reach an online gateway (seconds), short
/// enough that a pass revoked for cause is not honoured at a held-back door for an evening.
const DEFAULT_REVOCATION_LAG_ALARM_MINUTES: u32 = 30;

/// Why the config is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source} (is this a data directory made by `bygd init`?)")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not TOML, or a key with the wrong type.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key's value is unusable.
    #[error("{path}: key `{key}`: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What is expected.
        problem: String,
    },
}

/// `dashboard.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// `sqlite:PATH` (the default, in the data directory) or `postgres://USER@HOST/DB`.
    pub database: String,
    /// The HTTP API's address.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The address people reach the API at (pass page links are built on it); defaults to
    /// `http://` + `listen`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Seconds between time beacons to each gateway (0: none).
    #[serde(default = "default_beacon_seconds")]
    pub beacon_seconds: u32,
    /// Hours between freshly signed revocation lists.
    #[serde(default = "default_revocation_refresh_hours")]
    pub revocation_refresh_hours: u32,
    /// Minutes an online gateway may hold an older revocation list than its site's before an
    /// alarm (0: never). A gateway gets a new list within seconds while online; one that does
    /// not is being fed old lists or none (a broker that withholds them, a broken ACL).
    #[serde(default = "default_revocation_lag_alarm_minutes")]
    pub revocation_lag_alarm_minutes: u32,
    /// Reverse proxies in front of the API (IP addresses) whose `X-Forwarded-For` names the
    /// client, for login throttling per client address. From any other peer the header is
    /// ignored: a client can send anything in it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// The broker; without it `bygd serve` runs the API only and ingests nothing.
    #[serde(default)]
    pub mqtt: Option<DashboardMqtt>,
    /// The mail relay pass links are sent through; without it mail is queued but not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<DashboardSmtp>,
    /// Home Assistant's broker, to publish door and gateway states to (read-only); without
    /// it nothing is published for Home Assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_assistant: Option<HomeAssistantConfig>,
}

/// How the connection to the mail relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP upgraded with STARTTLS, which is required (the submission port, 587).
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// No encryption: only to a relay on this machine (loopback), since the mail carries
    /// pass links, which are credentials.
    None,
}

impl SmtpSecurity {
    /// The usual port for this kind of connection.
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// The dashboard's mail relay (`[smtp]`): pass links go out through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSmtp {
    /// The relay's host name (checked against its certificate).
    pub host: String,
    /// The relay's port; default by `security`: 587, 465 or 25.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (the default), `tls`, or `none` (loopback relays only).
    #[serde(default = "default_smtp_security")]
    pub security: SmtpSecurity,
    /// The relay's user name, if it wants a login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A file holding the relay password: never the password itself in this file, which
    /// people copy into tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The sender, a mailbox like `bygd <door@example.org>`.
    pub from: String,
    /// Extra root CA certificates (PEM) to trust for the relay, besides Mozilla's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

fn default_smtp_security() -> SmtpSecurity {
    SmtpSecurity::Starttls
}

impl DashboardSmtp {
    /// A relay at `host` with STARTTLS on its usual port, sending as `from`.
    #[must_use]
    pub fn new(host: &str, from: &str) -> Self {
        Self {
            host: host.to_owned(),
            port: None,
            security: SmtpSecurity::Starttls,
            username: None,
            password_file: None,
            from: from.to_owned(),
            ca_file: None,
        }
    }

    /// The port to connect to.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }

    /// Checks the keys; the error is the key (under `smtp.`) and what was expected.
    fn check(&self) -> Result<(), (&'static str, String)> {
        if self.host.trim().is_empty() {
            return Err(("smtp.host", "expected the relay's host name".to_owned()));
        }
        if self.port == Some(0) {
            return Err(("smtp.port", "expected a port from 1 to 65535".to_owned()));
        }
        if self.security == SmtpSecurity::None && !is_loopback(&self.host) {
            return Err((
                "smtp.security",
                format!(
                    "`none` is allowed only for a relay on this machine (localhost, 127.0.0.1, \
                     ::1), not `{}`: the mail carries pass links, which open doors, so it \
                     must not cross a network in clear text; use `starttls` or `tls`",
                    self.host
                ),
            ));
        }
        if self.username.is_some() != self.password_file.is_some() {
            return Err((
                "smtp.password_file",
                "give `username` and `password_file` together, or neither".to_owned(),
            ));
        }
        self.from.parse::<lettre::message::Mailbox>().map_err(|e| {
            (
                "smtp.from",
                format!(
                    "`{}` is not a mailbox like `bygd <door@example.org>`: {e}",
                    self.from
                ),
            )
        })?;
        Ok(())
    }
}

/// Whether `host` names this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The dashboard's MQTT connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardMqtt {
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub url: String,
    /// The MQTT client id. Each dashboard replica needs its own.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Broker user name.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the broker password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// PEM CA of the broker's certificate (mqtts).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate of the dashboard (mqtts; the broker's ACL lets only it publish
    /// commands and acks).
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// Its private key.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// Keep-alive seconds.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_seconds: u32,
}

fn default_listen() -> String {
    DEFAULT_LISTEN.to_owned()
}
fn default_beacon_seconds() -> u32 {
    DEFAULT_BEACON_SECONDS
}
fn default_revocation_refresh_hours() -> u32 {
    DEFAULT_REVOCATION_REFRESH_HOURS
}
fn default_revocation_lag_alarm_minutes() -> u32 {
    DEFAULT_REVOCATION_LAG_ALARM_MINUTES
}
fn default_client_id() -> String {
    "bygd-dashboard".to_owned()
}
fn default_keep_alive() -> u32 {
    30
}

impl DashboardMqtt {
    /// A connection to `url` with every other setting at its default.
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            client_id: default_client_id(),
            username: None,
            password_file: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            keep_alive_seconds: default_keep_alive(),
        }
    }

    /// The same settings in the shared form, whose address parser and TLS setup both sides
    /// use.
    #[must_use]
    pub fn as_link_config(&self) -> MqttConfig {
        MqttConfig {
            url: self.url.clone(),
            username: self.username.clone(),
            password_file: self.password_file.clone(),
            ca_file: self.ca_file.clone(),
            client_cert_file: self.client_cert_file.clone(),
            client_key_file: self.client_key_file.clone(),
            heartbeat_seconds: 60,
            keep_alive_seconds: self.keep_alive_seconds,
        }
    }
}

impl DashboardConfig {
    /// The defaults for a data directory: SQLite inside it, loopback HTTP, no broker.
    #[must_use]
    pub fn for_data_dir(dir: &Path) -> Self {
        Self {
            database: format!("sqlite:{}", dir.join(SQLITE_FILE).display()),
            listen: default_listen(),
            public_url: None,
            beacon_seconds: default_beacon_seconds(),
            revocation_refresh_hours: default_revocation_refresh_hours(),
            revocation_lag_alarm_minutes: default_revocation_lag_alarm_minutes(),
            trusted_proxies: Vec::new(),
            mqtt: None,
            smtp: None,
            home_assistant: None,
        }
    }

    /// Reads and checks `DIR/dashboard.toml`.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path.clone(),
            message: e.to_string(),
        })?;
        config.check(&path)?;
        Ok(config)
    }

    /// Checks every key; `path` names the file in errors.
    pub fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String| ConfigError::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            problem,
        };
        if !(self.database.starts_with("sqlite:")
            || self.database.starts_with("postgres://")
            || self.database.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database",
                "expected sqlite:PATH or postgres://USER@HOST/DB".to_owned(),
            ));
        }
        self.listen.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:8080", self.listen),
            )
        })?;
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    "public_url",
                    format!("`{url}` must start with http:// or https://"),
                ));
            }
        }
        if let Some(bad) = self
            .trusted_proxies
            .iter()
            .find(|p| p.parse::<std::net::IpAddr>().is_err())
        {
            return Err(invalid(
                "trusted_proxies",
                format!("`{bad}` is not an IP address like 127.0.0.1 or ::1"),
            ));
        }
        if let Some(mqtt) = &self.mqtt {
            mqtt.as_link_config()
                .address()
                .map_err(|problem| invalid("mqtt.url", problem))?;
            bygd_protocol::GatewayId::new(&mqtt.client_id).map_err(|e| {
                invalid(
                    "mqtt.client_id",
                    format!("{e} (lowercase letters, digits, '-' and '_')"),
                )
            })?;
        }
        if let Some(smtp) = &self.smtp {
            smtp.check()
                .map_err(|(key, problem)| invalid(key, problem))?;
        }
        if let Some(home_assistant) = &self.home_assistant {
            home_assistant
                .check()
                .map_err(|(key, problem)| invalid(key, problem))?;
        }
        Ok(())
    }

    /// [`DashboardConfig::trusted_proxies`] as addresses (those that parse; `check` refuses
    /// the others).
    #[must_use]
    pub fn trusted_proxy_addresses(&self) -> Vec<std::net::IpAddr> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// The base URL for links.
    #[must_use]
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The file's text, with a comment for each key.
    #[must_use]
    pub fn to_toml(&self) -> String {
        let mut text = String::from(
            "# bygd dashboard configuration (written by `bygd init`; `bygd serve` flags override it).\n\
             # database: sqlite:PATH (embedded, the default) or postgres://USER:PASSWORD@HOST/DB\n\
             # listen: the HTTP API's address; public_url: how people reach it (pass links)\n\
             # beacon_seconds: time beacons to gateways; revocation_refresh_hours: re-signed lists\n\
             # revocation_lag_alarm_minutes: alarm when an online gateway holds an old list (0: off)\n\
             # trusted_proxies: [\"127.0.0.1\"] if a reverse proxy's X-Forwarded-For names clients\n\
             # [mqtt]: url (mqtt:// or mqtts://), client_id, username, password_file, ca_file,\n\
             #         client_cert_file, client_key_file, keep_alive_seconds\n\
             # [smtp]: host, port, security (starttls, tls, or none for a loopback relay),\n\
             #         username, password_file, from (\"bygd <door@example.org>\"), ca_file\n\
             # [home_assistant]: url (Home Assistant's broker), client_id, username, password_file,\n\
             #         ca_file, client_cert_file, client_key_file, keep_alive_seconds,\n\
             #         discovery_prefix (\"homeassistant\"), node_id (\"bygd\"); read-only, see README\n\n",
        );
        text.push_str(&toml::to_string_pretty(self).unwrap_or_default());
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_config_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DashboardConfig::for_data_dir(dir.path());
        config.mqtt = Some(DashboardMqtt::new("mqtt://127.0.0.1:1883"));
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_toml()).unwrap();
        assert_eq!(DashboardConfig::load(dir.path()).unwrap(), config);
    }

    #[test]
    fn a_bad_key_is_named_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "database = \"sqlite:/x.db\"\nlisten = \"everywhere\"\n",
        )
        .unwrap();
        let e = DashboardConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("dashboard.toml") && e.contains("`listen`"),
            "{e}"
        );
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "database = \"sqlite:/x.db\"\n[mqtt]\nurl = \"http://broker\"\n",
        )
        .unwrap();
        let e = DashboardConfig::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("mqtt.url") && e.contains("mqtt://"), "{e}");
    }

    #[test]
    fn a_trusted_proxy_must_be_an_ip_address() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "database = \"sqlite:/x.db\"\ntrusted_proxies = [\"127.0.0.1\", \"proxy.local\"]\n",
        )
        .unwrap();
        let e = DashboardConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("trusted_proxies") && e.contains("proxy.local"),
            "{e}"
        );
        let mut config = DashboardConfig::for_data_dir(dir.path());
        config.trusted_proxies = vec!["127.0.0.1".into(), "::1".into()];
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_toml()).unwrap();
        let back = DashboardConfig::load(dir.path()).unwrap();
        assert_eq!(back.trusted_proxy_addresses().len(), 2);
    }

    #[test]
    fn an_smtp_relay_reads_back_and_its_bad_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DashboardConfig::for_data_dir(dir.path());
        let mut smtp = DashboardSmtp::new("mail.example.org", "bygd <door@example.org>");
        smtp.username = Some("door".into());
        smtp.password_file = Some("/etc/bygd/smtp-password".into());
        config.smtp = Some(smtp);
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_toml()).unwrap();
        let back = DashboardConfig::load(dir.path()).unwrap();
        assert_eq!(back, config);
        assert_eq!(back.smtp.unwrap().port(), 587);
        let write = |smtp: &str| {
            std::fs::write(
                dir.path().join(CONFIG_FILE),
                format!("database = \"sqlite:/x.db\"\n[smtp]\n{smtp}"),
            )
            .unwrap();
            DashboardConfig::load(dir.path()).unwrap_err().to_string()
        };
        let e = write("host = \"mail.example.org\"\nsecurity = \"none\"\nfrom = \"a@b.se\"\n");
        assert!(
            e.contains("smtp.security") && e.contains("this machine"),
            "{e}"
        );
        let e = write("host = \"mail.example.org\"\nfrom = \"not a mailbox\"\n");
        assert!(
            e.contains("smtp.from") && e.contains("dashboard.toml"),
            "{e}"
        );
        let e = write("host = \"m\"\nfrom = \"a@b.se\"\npassword = \"hunter2\"\n");
        assert!(e.contains("unknown field `password`"), "{e}");
        let e = write("host = \"m\"\nfrom = \"a@b.se\"\nusername = \"door\"\n");
        assert!(e.contains("smtp.password_file"), "{e}");
        // A relay on this machine may take plain SMTP.
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "database = \"sqlite:/x.db\"\n[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nfrom = \"a@b.se\"\n",
        )
        .unwrap();
        assert_eq!(
            DashboardConfig::load(dir.path())
                .unwrap()
                .smtp
                .unwrap()
                .port(),
            25
        );
    }

    #[test]
    fn a_home_assistant_table_reads_back_and_its_bad_keys_are_named_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DashboardConfig::for_data_dir(dir.path());
        let mut ha = HomeAssistantConfig::new("mqtt://homeassistant.local:1883");
        ha.node_id = "bygd-main".into();
        config.home_assistant = Some(ha);
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_toml()).unwrap();
        let back = DashboardConfig::load(dir.path()).unwrap();
        assert_eq!(back, config);
        assert_eq!(
            back.home_assistant.unwrap().discovery_prefix,
            "homeassistant"
        );
        let write = |table: &str| {
            std::fs::write(
                dir.path().join(CONFIG_FILE),
                format!("database = \"sqlite:/x.db\"\n[home_assistant]\n{table}"),
            )
            .unwrap();
            DashboardConfig::load(dir.path()).unwrap_err().to_string()
        };
        let e = write("url = \"http://ha.local\"\n");
        assert!(
            e.contains("dashboard.toml") && e.contains("home_assistant.url"),
            "{e}"
        );
        let e = write("url = \"mqtt://ha.local\"\nnode_id = \"a/b\"\n");
        assert!(e.contains("home_assistant.node_id"), "{e}");
        let e = write("url = \"mqtt://ha.local\"\ncommand_topic = \"x\"\n");
        assert!(e.contains("unknown field `command_topic`"), "{e}");
    }

    #[test]
    fn a_missing_directory_says_to_run_init() {
        let e = DashboardConfig::load(Path::new("/nonexistent/bygd"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bygd init"), "{e}");
    }
}
