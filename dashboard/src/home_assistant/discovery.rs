//! What Home Assistant reads: its MQTT discovery configs and the state messages they point
//! at, built from the gateways as the dashboard knows them. Pure: no broker, no clock.
//!
//! Invariants:
//! - Every message is a retained topic → payload pair; the publisher sends only those that
//!   changed and clears (empty retained payload) those that went away.
//! - No config names a `command_topic`: Home Assistant gets nothing to send back.
//! - Each `unique_id` and discovery topic names one entity only: the ids in it are joined so
//!   that two different (site, gateway, door) triples never give the same string.
//! - A state that is not known (a gateway that has sent no status yet, or only its last will)
//!   is not published: Home Assistant keeps the last one it had (shown unavailable while the
//!   gateway is offline) or shows unknown, never a guess.

use crate::gateway::{DoorInfo, GatewayInfo};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Home Assistant's default payloads for a binary sensor.
pub(crate) const ON: &str = "ON";
/// See [`ON`].
pub(crate) const OFF: &str = "OFF";
/// The payloads of every availability topic.
pub(crate) const AVAILABLE: &str = "online";
/// See [`AVAILABLE`].
pub(crate) const NOT_AVAILABLE: &str = "offline";
/// The first level of every state topic: apart from bygd's own `bygd/v1` root, so the
/// publisher may share a broker with the gateways without touching their topics.
pub(crate) const STATE_ROOT: &str = "bygd-ha";

/// Where the messages go: the discovery prefix and the node id, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    /// Home Assistant's discovery prefix (`homeassistant`).
    pub(crate) prefix: String,
    /// This dashboard's node id: the discovery topic's node level and the state topics' root.
    pub(crate) node_id: String,
}

/// One binary sensor of a door.
struct DoorSensor {
    /// The last part of its object id and state topic.
    key: &'static str,
    /// Its name in Home Assistant (after its device's name).
    name: &'static str,
    /// Home Assistant's device class.
    class: &'static str,
    /// Its state, from the door's last reported state: on or off, or unknown.
    state: fn(&DoorInfo) -> Option<bool>,
}

/// The sensors of each door. The lock's class `lock` means "on: unlocked" in Home Assistant,
/// so on is a released lock.
const DOOR_SENSORS: [DoorSensor; 4] = [
    DoorSensor {
        key: "door",
        name: "Door",
        class: "door",
        state: |d| d.open,
    },
    DoorSensor {
        key: "lock",
        name: "Lock",
        class: "lock",
        state: |d| d.released,
    },
    DoorSensor {
        key: "held-open",
        name: "Held open",
        class: "problem",
        state: |d| d.held_open,
    },
    DoorSensor {
        key: "forced-open",
        name: "Forced open",
        class: "problem",
        state: |d| d.forced_open,
    },
];

impl Names {
    /// The publisher's own availability topic: its last will sets it offline, so every
    /// entity goes unavailable when the dashboard is gone.
    pub(crate) fn bridge_topic(&self) -> String {
        format!("{STATE_ROOT}/{}/status", self.node_id)
    }

    fn gateway_topic(&self, g: &GatewayInfo, leaf: &str) -> String {
        format!("{STATE_ROOT}/{}/{}/{}/{leaf}", self.node_id, g.site, g.id)
    }

    fn door_topic(&self, g: &GatewayInfo, door: &str, leaf: &str) -> String {
        format!(
            "{STATE_ROOT}/{}/{}/{}/{door}/{leaf}",
            self.node_id, g.site, g.id
        )
    }

    fn config_topic(&self, object_id: &str) -> String {
        format!(
            "{}/binary_sensor/{}/{object_id}/config",
            self.prefix, self.node_id
        )
    }

    fn availability(&self, topic: &str) -> Value {
        json!({
            "topic": topic,
            "payload_available": AVAILABLE,
            "payload_not_available": NOT_AVAILABLE,
        })
    }
}

/// Joins ids into one object id, injectively: each `_` inside an id is doubled and the
/// parts are joined by a single `_`. (An id never starts with `_`, so a separator followed by
/// an escaped `_` cannot be read another way.) `byn`, `gw1`, `front` → `byn_gw1_front`.
pub(crate) fn object_id(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.replace('_', "__"))
        .collect::<Vec<_>>()
        .join("_")
}

/// A gateway's device block: Home Assistant refuses a `null` value, so a version the
/// gateway has not reported is left out.
fn gateway_device(g: &GatewayInfo, id: &str) -> Value {
    let mut device = json!({
        "identifiers": [id],
        "name": format!("bygd gateway {}/{}", g.site, g.id),
        "manufacturer": "bygd",
        "model": "bygd gateway",
    });
    if let Some(version) = g.status.as_ref().and_then(|s| s["version"].as_str()) {
        device["sw_version"] = json!(version);
    }
    device
}

fn on_off(state: bool) -> &'static str {
    if state {
        ON
    } else {
        OFF
    }
}

/// Every retained message for `gateways`: discovery configs, availability and states, by
/// topic. `None` is a topic of a live entity whose state is not known (a gateway that has sent
/// no status, or only its last will): what is retained there stays, stale but marked
/// unavailable, rather than a guess.
pub(crate) fn messages(
    names: &Names,
    gateways: &[GatewayInfo],
    version: &str,
) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let origin = json!({
        "name": "bygd",
        "sw_version": version,
        "support_url": env!("CARGO_PKG_REPOSITORY"),
    });
    let bridge = names.availability(&names.bridge_topic());
    for g in gateways {
        let gateway_device_id = object_id(&[&names.node_id, &g.site, &g.id]);
        let availability_topic = names.gateway_topic(g, "availability");
        let connectivity_topic = names.gateway_topic(g, "connectivity");
        let object = object_id(&[&g.site, &g.id, "connectivity"]);
        let config = json!({
            "name": "Connectivity",
            "unique_id": object_id(&[&names.node_id, &g.site, &g.id, "connectivity"]),
            "state_topic": connectivity_topic,
            "device_class": "connectivity",
            "entity_category": "diagnostic",
            "payload_on": ON,
            "payload_off": OFF,
            // The gateway's own state is known while the dashboard runs, online or not.
            "availability": [bridge.clone()],
            "device": gateway_device(g, &gateway_device_id),
            "origin": origin.clone(),
        });
        out.insert(names.config_topic(&object), Some(config.to_string()));
        out.insert(connectivity_topic, Some(on_off(g.online).to_owned()));
        out.insert(
            availability_topic.clone(),
            Some(if g.online { AVAILABLE } else { NOT_AVAILABLE }.to_owned()),
        );
        for door in &g.doors {
            let door_device_id = object_id(&[&names.node_id, &g.site, &g.id, &door.id]);
            for sensor in &DOOR_SENSORS {
                let object = object_id(&[&g.site, &g.id, &door.id, sensor.key]);
                let state_topic = names.door_topic(g, &door.id, sensor.key);
                let config = json!({
                    "name": sensor.name,
                    "unique_id": object_id(&[&names.node_id, &g.site, &g.id, &door.id, sensor.key]),
                            "state_topic": state_topic,
                    "device_class": sensor.class,
                    "payload_on": ON,
                    "payload_off": OFF,
                    // A door's last state means nothing once its gateway or the dashboard
                    // is gone: unavailable unless both are there.
                    "availability": [bridge.clone(), names.availability(&availability_topic)],
                    "availability_mode": "all",
                    "device": {
                        "identifiers": [door_device_id.clone()],
                        "name": format!("bygd door {} ({}/{})", door.id, g.site, g.id),
                        "manufacturer": "bygd",
                        "model": "bygd door",
                        "via_device": gateway_device_id.clone(),
                    },
                    "origin": origin.clone(),
                });
                out.insert(names.config_topic(&object), Some(config.to_string()));
                out.insert(
                    state_topic,
                    (sensor.state)(door).map(|s| on_off(s).to_owned()),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            prefix: "homeassistant".into(),
            node_id: "bygd".into(),
        }
    }

    fn gateway(site: &str, id: &str, online: bool, doors: &[DoorInfo]) -> GatewayInfo {
        GatewayInfo {
            site: site.into(),
            id: id.into(),
            public_key: String::new(),
            online,
            last_seen: None,
            head_seq: 0,
            doors: doors.to_vec(),
            status: None,
            list_version: None,
            site_list_version: None,
            lagging_since: None,
        }
    }

    fn door(id: &str, open: Option<bool>, released: Option<bool>) -> DoorInfo {
        DoorInfo {
            id: id.into(),
            released,
            open,
            lockdown: Some(false),
            forced_open: Some(false),
            held_open: Some(true),
        }
    }

    #[test]
    fn ids_that_differ_only_in_where_an_underscore_falls_get_different_object_ids() {
        assert_eq!(object_id(&["byn", "gw1", "front"]), "byn_gw1_front");
        assert_ne!(object_id(&["a_b", "c"]), object_id(&["a", "b_c"]));
        assert_ne!(object_id(&["a", "b"]), object_id(&["a_b"]));
        assert_ne!(object_id(&["a_", "b"]), object_id(&["a", "b_"]));
    }

    #[test]
    fn a_released_lock_is_on_because_home_assistant_reads_lock_on_as_unlocked() {
        let g = gateway(
            "byn",
            "gw1",
            true,
            &[door("front", Some(false), Some(true))],
        );
        let m = messages(&names(), &[g], "0");
        assert_eq!(m["bygd-ha/bygd/byn/gw1/front/lock"].as_deref(), Some(ON));
        assert_eq!(m["bygd-ha/bygd/byn/gw1/front/door"].as_deref(), Some(OFF));
        assert_eq!(
            m["bygd-ha/bygd/byn/gw1/front/held-open"].as_deref(),
            Some(ON)
        );
        let config: Value = serde_json::from_str(
            m["homeassistant/binary_sensor/bygd/byn_gw1_front_lock/config"]
                .as_deref()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(config["unique_id"], "bygd_byn_gw1_front_lock");
        assert_eq!(config["device_class"], "lock");
    }

    #[test]
    fn an_unknown_door_state_is_left_out_and_no_config_has_a_command_topic() {
        let g = gateway("byn", "gw1", false, &[door("front", None, None)]);
        let m = messages(&names(), &[g], "0");
        assert_eq!(m["bygd-ha/bygd/byn/gw1/front/door"], None);
        assert_eq!(
            m["bygd-ha/bygd/byn/gw1/availability"].as_deref(),
            Some(NOT_AVAILABLE)
        );
        assert_eq!(m["bygd-ha/bygd/byn/gw1/connectivity"].as_deref(), Some(OFF));
        // One gateway and one door: five configs.
        let configs: Vec<&String> = m.keys().filter(|t| t.ends_with("/config")).collect();
        assert_eq!(configs.len(), 5);
        for t in configs {
            let config = m[t].as_deref().unwrap();
            assert!(!config.contains("command_topic"), "{t}: {config}");
        }
    }
}
