//! The `[mqtt]` settings: where the broker is, how to log in, and the TLS files.
//!
//! The gateway reads them from its config file's `[mqtt]` section; the dashboard has its own
//! section (with a client id) and turns it into this one, so that both parse a broker URL and
//! set up TLS the same way.

use serde::Deserialize;
use std::path::PathBuf;

/// A connection to the broker. In a gateway's config, without it the gateway works alone
/// (offline).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host:port` (plain TCP, default port 1883) or `mqtts://host:port` (TLS, 8883).
    pub url: String,
    /// Broker user name, if the broker wants one.
    pub username: Option<String>,
    /// A file holding the broker password (kept out of this file, which is often shared).
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA that signed the broker's certificate (mqtts only; default: the
    /// system's roots).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate of this client (mqtts only; with `client_key_file`).
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub client_key_file: Option<PathBuf>,
    /// Seconds between a gateway's status heartbeats (a client that sends no status, such as
    /// the dashboard, has no use for it).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_seconds: u32,
    /// MQTT keep-alive in seconds: how soon a dead link is noticed.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_seconds: u32,
}

fn default_heartbeat() -> u32 {
    60
}
fn default_keep_alive() -> u32 {
    30
}

/// A broker address parsed from [`MqttConfig::url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Whether to use TLS.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl MqttConfig {
    /// Parses the URL: `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub fn address(&self) -> Result<BrokerAddress, String> {
        let (tls, rest) = if let Some(rest) = self.url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = self.url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(format!(
                "`{}` must start with mqtt:// or mqtts://",
                self.url
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("`{port}` in `{}` is not a port number", self.url))?,
            ),
            None => (rest, if tls { 8883 } else { 1883 }),
        };
        if host.is_empty() {
            return Err(format!("`{}` names no host", self.url));
        }
        Ok(BrokerAddress {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> MqttConfig {
        MqttConfig {
            url: url.to_owned(),
            username: None,
            password_file: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            heartbeat_seconds: default_heartbeat(),
            keep_alive_seconds: default_keep_alive(),
        }
    }

    #[test]
    fn a_url_without_a_port_gets_its_scheme_s_default_port() {
        let plain = config("mqtt://broker.example/").address().unwrap();
        assert_eq!(
            (plain.tls, plain.host.as_str(), plain.port),
            (false, "broker.example", 1883)
        );
        let tls = config("mqtts://broker.example").address().unwrap();
        assert_eq!((tls.tls, tls.port), (true, 8883));
        assert_eq!(
            config("mqtts://10.0.0.2:9883").address().unwrap().port,
            9883
        );
    }

    #[test]
    fn a_url_that_names_no_broker_says_what_is_wrong() {
        for (url, says) in [
            ("http://broker", "must start with mqtt://"),
            ("mqtt://broker:port", "is not a port number"),
            ("mqtt://:1883", "names no host"),
        ] {
            let e = config(url).address().unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
        }
    }
}
