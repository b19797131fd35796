//! Home Assistant, read-only: `[home_assistant]` in `dashboard.toml` names a broker, and
//! `bygd serve` publishes MQTT discovery there for each gateway (connectivity) and door (open,
//! lock, held open, forced open), then each state as it changes.
//!
//! Invariants:
//! - Nothing is subscribed to and no config names a command topic: whoever controls the
//!   home-automation broker can read door states but never open a door. Commands reach a
//!   door only signed by the issuer key, through the dashboard's own authorisation and
//!   audit trail.
//! - Every message is retained; only messages whose payload changed are sent, and an entity
//!   that went away (a gateway removed) has its retained messages cleared.
//! - The publisher's last will marks all of its entities unavailable; a door's entities are
//!   also unavailable while its gateway is offline (its last will at the dashboard).

mod discovery;

use crate::access::Principal;
use crate::service::Dashboard;
use bygd_link::{client_options, spawn_poller, Backoff, LinkEvent, MqttConfig};
use rumqttc::{AsyncClient, LastWill, QoS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// Requests queued for rumqttc: a full set of configs is six messages per door.
const CLIENT_QUEUE: usize = 1024;
/// Reports from the poller: nothing is subscribed to, so only connection changes.
const NET_QUEUE: usize = 16;
/// Waits between connection attempts: as the dashboard's own link.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(250),
    max: Duration::from_secs(30),
};
/// How often everything is compared with what was sent even without a change notice: picks
/// up gateways registered by another process (`bygd gateway add` beside `bygd serve`), which
/// wakes nothing in this one.
const RESYNC: Duration = Duration::from_secs(30);
/// How long the offline message and the disconnect get at shutdown.
const GOODBYE: Duration = Duration::from_millis(200);

/// `[home_assistant]` in `dashboard.toml`: the broker Home Assistant reads, which may be
/// another than bygd's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantConfig {
    /// `mqtt://host:port` or `mqtts://host:port`: Home Assistant's broker.
    pub url: String,
    /// The MQTT client id at that broker.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Broker user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A file holding the broker password (never the password in this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// PEM CA of the broker's certificate (mqtts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (mqtts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_file: Option<PathBuf>,
    /// Its private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_file: Option<PathBuf>,
    /// Keep-alive seconds: how soon the broker notices the dashboard is gone and sends its
    /// last will.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_seconds: u32,
    /// Home Assistant's discovery prefix (its MQTT integration's setting).
    #[serde(default = "default_discovery_prefix")]
    pub discovery_prefix: String,
    /// This dashboard's name in topics and ids: two dashboards on one Home Assistant need
    /// different ones.
    #[serde(default = "default_node_id")]
    pub node_id: String,
}

fn default_client_id() -> String {
    "bygd-home-assistant".to_owned()
}
fn default_keep_alive() -> u32 {
    30
}
fn default_discovery_prefix() -> String {
    "homeassistant".to_owned()
}
fn default_node_id() -> String {
    "bygd".to_owned()
}

impl HomeAssistantConfig {
    /// Publishing to `url` with every other setting at its default.
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
            discovery_prefix: default_discovery_prefix(),
            node_id: default_node_id(),
        }
    }

    /// The broker settings in the shared form, for the shared address parser and TLS setup.
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

    /// Checks the keys; the error is the key (under `home_assistant.`) and what was expected.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        self.as_link_config()
            .address()
            .map_err(|problem| ("home_assistant.url", problem))?;
        if self.client_id.is_empty() {
            return Err((
                "home_assistant.client_id",
                "expected a client id".to_owned(),
            ));
        }
        // Home Assistant's rule for the node level of a discovery topic.
        let topic_safe = |text: &str| {
            !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !topic_safe(&self.node_id) {
            return Err((
                "home_assistant.node_id",
                format!(
                    "`{}` must be letters, digits, '_' and '-' only (Home Assistant's rule for \
                     discovery topics)",
                    self.node_id
                ),
            ));
        }
        if self.discovery_prefix.is_empty()
            || self.discovery_prefix.contains(['+', '#'])
            || self.discovery_prefix.starts_with('/')
            || self.discovery_prefix.ends_with('/')
        {
            return Err((
                "home_assistant.discovery_prefix",
                format!(
                    "`{}` must be an MQTT topic without wildcards or a leading or trailing '/', \
                     like `homeassistant`",
                    self.discovery_prefix
                ),
            ));
        }
        if self.username.is_some() != self.password_file.is_some() {
            return Err((
                "home_assistant.password_file",
                "give `username` and `password_file` together, or neither".to_owned(),
            ));
        }
        Ok(())
    }

    fn names(&self) -> discovery::Names {
        discovery::Names {
            prefix: self.discovery_prefix.clone(),
            node_id: self.node_id.clone(),
        }
    }
}

/// Why the publisher could not start.
#[derive(Debug, thiserror::Error)]
pub enum HomeAssistantError {
    /// The broker settings are unusable (a file they name could not be read, …).
    #[error("home_assistant: {0}")]
    Options(#[from] bygd_link::OptionsError),
}

/// Publishes discovery and states to Home Assistant's broker until `shutdown`, then marks
/// every entity unavailable and disconnects.
pub async fn publish_to_home_assistant(
    dashboard: Dashboard,
    config: HomeAssistantConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), HomeAssistantError> {
    let names = config.names();
    let bridge = names.bridge_topic();
    let mut options = client_options(&config.client_id, &config.as_link_config())?;
    options.set_clean_session(true);
    options.set_last_will(LastWill::new(
        &bridge,
        discovery::NOT_AVAILABLE,
        QoS::AtLeastOnce,
        true,
    ));
    options.set_request_channel_capacity(CLIENT_QUEUE);
    let (client, eventloop) = AsyncClient::new(options, CLIENT_QUEUE);
    let (mut net, poller) = spawn_poller(eventloop, BACKOFF, NET_QUEUE);
    let mut changes = dashboard.watch_changes();
    let mut resync = tokio::time::interval(RESYNC);
    let mut publisher = Publisher {
        dashboard,
        client,
        names,
        sent: BTreeMap::new(),
        connected: false,
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            report = net.recv() => match report {
                None => break,
                Some(LinkEvent::Connected) => {
                    tracing::info!(broker = %config.url, "connected to Home Assistant's broker");
                    publisher.connected = true;
                    // A clean session: the broker may have lost what was retained.
                    publisher.sent.clear();
                    publisher.publish(&bridge, discovery::AVAILABLE.to_owned()).await;
                    publisher.sync().await;
                }
                Some(LinkEvent::Disconnected(why)) => {
                    if publisher.connected {
                        tracing::warn!(broker = %config.url, error = %why, "Home Assistant's broker lost; reconnecting");
                    }
                    publisher.connected = false;
                }
                Some(LinkEvent::Oversize(_) | LinkEvent::Publish(_)) => {}
            },
            changed = changes.changed() => {
                if changed.is_err() {
                    break;
                }
                publisher.sync().await;
            }
            _ = resync.tick() => publisher.sync().await,
        }
    }
    if publisher.connected {
        publisher
            .publish(&bridge, discovery::NOT_AVAILABLE.to_owned())
            .await;
        let _ = publisher.client.try_disconnect();
        tokio::time::sleep(GOODBYE).await;
    }
    poller.abort();
    Ok(())
}

/// The publisher's state: what it last sent on this connection.
struct Publisher {
    dashboard: Dashboard,
    client: AsyncClient,
    names: discovery::Names,
    /// Topic → payload retained at the broker by this connection.
    sent: BTreeMap<String, String>,
    connected: bool,
}

impl Publisher {
    /// Sends what changed since the last sync and clears what went away.
    async fn sync(&mut self) {
        if !self.connected {
            return;
        }
        let gateways = match self
            .dashboard
            .gateways()
            .list(&Principal::local_admin())
            .await
        {
            Ok(gateways) => gateways,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the gateways for Home Assistant");
                return;
            }
        };
        let want = discovery::messages(&self.names, &gateways, env!("CARGO_PKG_VERSION"));
        let gone: Vec<String> = self
            .sent
            .keys()
            .filter(|t| !want.contains_key(*t) && **t != self.names.bridge_topic())
            .cloned()
            .collect();
        // Configs before states, so Home Assistant knows an entity before its first state.
        let (configs, states): (Vec<_>, Vec<_>) = want
            .into_iter()
            .filter_map(|(topic, payload)| Some((topic, payload?)))
            .filter(|(topic, payload)| self.sent.get(topic) != Some(payload))
            .partition(|(topic, _)| topic.ends_with("/config"));
        for (topic, payload) in configs.into_iter().chain(states) {
            self.publish(&topic, payload).await;
        }
        for topic in gone {
            // An empty retained message deletes an entity and clears its state.
            self.publish(&topic, String::new()).await;
            self.sent.remove(&topic);
        }
    }

    async fn publish(&mut self, topic: &str, payload: String) {
        match self
            .client
            .publish(topic, QoS::AtLeastOnce, true, payload.clone())
            .await
        {
            Ok(()) => {
                tracing::debug!(topic, "published for Home Assistant");
                if !payload.is_empty() {
                    self.sent.insert(topic.to_owned(), payload);
                }
            }
            Err(e) => {
                tracing::warn!(topic, error = %e, "not published for Home Assistant; will retry")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_id_with_a_slash_or_a_password_without_a_user_is_refused_by_key() {
        let mut config = HomeAssistantConfig::new("mqtt://ha.local");
        assert_eq!(config.check(), Ok(()));
        config.node_id = "bygd/main".into();
        assert_eq!(config.check().unwrap_err().0, "home_assistant.node_id");
        config.node_id = "bygd".into();
        config.discovery_prefix = "homeassistant/#".into();
        assert_eq!(
            config.check().unwrap_err().0,
            "home_assistant.discovery_prefix"
        );
        config.discovery_prefix = "homeassistant".into();
        config.password_file = Some("/etc/bygd/ha-password".into());
        assert_eq!(
            config.check().unwrap_err().0,
            "home_assistant.password_file"
        );
        config.url = "http://ha.local".into();
        assert_eq!(config.check().unwrap_err().0, "home_assistant.url");
    }
}
