//! rumqttc's client options from a [`MqttConfig`]: broker address, keep-alive, credentials
//! and TLS (with a client certificate if one is configured).
//!
//! Both sides start here and then add what is theirs (session kind, packet limits, a last
//! will): the gateway for its uplink, the dashboard for its link.

use crate::MqttConfig;
use rumqttc::MqttOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the options could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// The URL names no broker (see [`MqttConfig::address`]).
    #[error("{0}")]
    Address(String),
    /// A file the settings name could not be read.
    #[error("cannot read the {what} {path}: {source}")]
    Read {
        /// Which file it is, in words: "password file", "CA file", ….
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The password file holds something other than text.
    #[error("the password file {0} is not UTF-8")]
    PasswordNotUtf8(PathBuf),
}

/// MQTT client options for `client_id` from `mqtt`: the broker's address, keep-alive,
/// credentials and TLS.
pub fn client_options(client_id: &str, mqtt: &MqttConfig) -> Result<MqttOptions, OptionsError> {
    let address = mqtt.address().map_err(OptionsError::Address)?;
    let mut options = MqttOptions::new(client_id, address.host.clone(), address.port);
    options.set_keep_alive(Duration::from_secs(mqtt.keep_alive_seconds.into()));
    let read = |path: &Path, what: &'static str| {
        std::fs::read(path).map_err(|source| OptionsError::Read {
            what,
            path: path.to_owned(),
            source,
        })
    };
    if let Some(user) = &mqtt.username {
        let password = match &mqtt.password_file {
            Some(path) => String::from_utf8(read(path, "password file")?)
                .map_err(|_| OptionsError::PasswordNotUtf8(path.clone()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            None => String::new(),
        };
        options.set_credentials(user.clone(), password);
    }
    if address.tls {
        // rumqttc is built without a default crypto provider; install ring's once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transport = match &mqtt.ca_file {
            Some(ca) => rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Simple {
                ca: read(ca, "CA file")?,
                alpn: None,
                client_auth: match (&mqtt.client_cert_file, &mqtt.client_key_file) {
                    (Some(cert), Some(key)) => {
                        Some((read(cert, "client certificate")?, read(key, "client key")?))
                    }
                    _ => None,
                },
            }),
            None => rumqttc::Transport::tls_with_default_config(),
        };
        options.set_transport(transport);
    }
    Ok(options)
}
