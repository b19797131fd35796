//! Home Assistant's view of bygd over a real mosquitto: the publisher's discovery configs are
//! checked against the rules Home Assistant documents for MQTT discovery of a binary sensor,
//! and its states follow a door that opens, an alarm, and a gateway's last will.

mod common;

use bygd_dashboard::{publish_to_home_assistant, HomeAssistantConfig};
use bygd_protocol::{ClockQuality, DoorId, EventBody};
use bygd_testkit::{Broker, Mosquitto};
use common::*;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long anything may take to cross the broker: far more than it needs.
const ARRIVAL: Duration = Duration::from_secs(20);

/// Home Assistant's device classes for `binary_sensor` (its MQTT binary sensor and binary
/// sensor documentation).
const BINARY_SENSOR_CLASSES: &[&str] = &[
    "battery",
    "battery_charging",
    "carbon_monoxide",
    "cold",
    "connectivity",
    "door",
    "garage_door",
    "gas",
    "heat",
    "light",
    "lock",
    "moisture",
    "motion",
    "moving",
    "occupancy",
    "opening",
    "plug",
    "power",
    "presence",
    "problem",
    "running",
    "safety",
    "smoke",
    "sound",
    "tamper",
    "update",
    "vibration",
    "window",
];

/// The options of an MQTT binary sensor the publisher may use (a subset of the documented
/// ones; anything else, such as a command topic, is a failure here).
const BINARY_SENSOR_KEYS: &[&str] = &[
    "availability",
    "availability_mode",
    "availability_topic",
    "device",
    "device_class",
    "entity_category",
    "name",
    "origin",
    "payload_available",
    "payload_not_available",
    "payload_off",
    "payload_on",
    "state_topic",
    "unique_id",
];

/// The documented keys of a discovery `device` block the publisher may use.
const DEVICE_KEYS: &[&str] = &[
    "identifiers",
    "manufacturer",
    "model",
    "name",
    "sw_version",
    "via_device",
];

/// What a subscriber saw: each topic's last payload and whether it came as retained.
#[derive(Default)]
struct Seen {
    last: BTreeMap<String, (String, bool)>,
}

/// A plain MQTT client subscribed to everything, as Home Assistant's MQTT integration is to
/// its prefix (and to the topics the configs name).
async fn subscriber(port: u16, id: &str) -> (AsyncClient, Arc<Mutex<Seen>>) {
    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 64);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let payload = String::from_utf8(p.payload.to_vec()).unwrap();
                    record
                        .lock()
                        .unwrap()
                        .last
                        .insert(p.topic.clone(), (payload, p.retain));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    client.subscribe("#", QoS::AtLeastOnce).await.unwrap();
    (client, seen)
}

/// Waits until `ok` holds for what was seen, or fails saying `what`.
async fn wait_for(seen: &Mutex<Seen>, what: &str, ok: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + ARRIVAL;
    while !ok(&seen.lock().unwrap()) {
        assert!(
            Instant::now() < deadline,
            "waited {ARRIVAL:?} for {what}; seen: {:#?}",
            seen.lock().unwrap().last
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn payload(seen: &Seen, topic: &str) -> Option<String> {
    seen.last.get(topic).map(|(p, _)| p.clone())
}

/// A gateway's status as it sends it: online, with each door's state.
fn status(front: (bool, bool, bool), workshop_open: bool) -> Vec<u8> {
    let (open, released, forced) = front;
    serde_json::json!({
        "doors": [
            {"forced_open": forced, "held_open": false, "id": "front", "lockdown": false,
             "open": open, "released": released},
            {"forced_open": false, "held_open": false, "id": "workshop", "lockdown": false,
             "open": workshop_open, "released": false},
        ],
        "gateway": GATEWAY,
        "online": true,
        "site": SITE,
        "version": "0.1.0",
    })
    .to_string()
    .into_bytes()
}

/// Whether `text` is allowed as a discovery topic's node or object id.
fn topic_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks every discovery config against Home Assistant's rules; returns them by topic.
fn check_configs(seen: &Seen) -> BTreeMap<String, Value> {
    let configs: BTreeMap<String, Value> = seen
        .last
        .iter()
        .filter(|(t, (p, _))| t.starts_with("homeassistant/") && !p.is_empty())
        .map(|(t, (p, _))| (t.clone(), serde_json::from_str(p).expect(t)))
        .collect();
    let mut unique_ids = BTreeSet::new();
    let mut devices = BTreeSet::new();
    for config in configs.values() {
        for id in config["device"]["identifiers"].as_array().unwrap() {
            devices.insert(id.as_str().unwrap().to_owned());
        }
    }
    for (topic, config) in &configs {
        let levels: Vec<&str> = topic.split('/').collect();
        assert!(
            matches!(levels.as_slice(), ["homeassistant", "binary_sensor", node, object, "config"]
                if topic_id(node) && topic_id(object)),
            "{topic}: not <prefix>/<component>/<node_id>/<object_id>/config"
        );
        let object = config.as_object().expect("a JSON object");
        for key in object.keys() {
            assert!(
                BINARY_SENSOR_KEYS.contains(&key.as_str()),
                "{topic}: `{key}` is not a binary sensor option this test allows"
            );
        }
        for key in ["name", "unique_id", "state_topic", "device_class", "device"] {
            assert!(object.contains_key(key), "{topic}: no `{key}`");
        }
        assert!(
            unique_ids.insert(config["unique_id"].as_str().unwrap().to_owned()),
            "{topic}: unique_id {} used twice",
            config["unique_id"]
        );
        let class = config["device_class"].as_str().unwrap();
        assert!(
            BINARY_SENSOR_CLASSES.contains(&class),
            "{topic}: device_class {class}"
        );
        // The state topic exists and carries one of the payloads the config names.
        let state = payload(seen, config["state_topic"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{topic}: nothing on its state topic"));
        assert!(
            state == config["payload_on"] || state == config["payload_off"],
            "{topic}: state `{state}` is neither payload_on nor payload_off; seen {:#?}",
            seen.last
        );
        // Availability: a topic, or a list of them, never both; each carries its payloads.
        assert!(
            !(object.contains_key("availability") && object.contains_key("availability_topic")),
            "{topic}: availability and availability_topic together"
        );
        let entries: Vec<Value> = match (&config["availability"], &config["availability_topic"]) {
            (Value::Array(list), _) => list.clone(),
            (_, Value::String(t)) => vec![serde_json::json!({
                "topic": t,
                "payload_available": config["payload_available"],
                "payload_not_available": config["payload_not_available"],
            })],
            _ => panic!("{topic}: no availability"),
        };
        if let Some(mode) = config.get("availability_mode") {
            assert!(["all", "any", "latest"].contains(&mode.as_str().unwrap()));
        }
        for entry in entries {
            let t = entry["topic"].as_str().expect("an availability topic");
            let now = payload(seen, t).unwrap_or_else(|| panic!("{topic}: nothing on {t}"));
            assert!(
                now == entry["payload_available"] || now == entry["payload_not_available"],
                "{topic}: `{now}` on {t}"
            );
        }
        if let Some(category) = config.get("entity_category") {
            assert!(["config", "diagnostic"].contains(&category.as_str().unwrap()));
        }
        assert!(config["origin"]["name"].is_string(), "{topic}: origin name");
        let device = config["device"].as_object().unwrap();
        for key in device.keys() {
            assert!(DEVICE_KEYS.contains(&key.as_str()), "{topic}: device.{key}");
        }
        assert!(!config["device"]["identifiers"]
            .as_array()
            .unwrap()
            .is_empty());
        if let Some(via) = device.get("via_device") {
            assert!(
                devices.contains(via.as_str().unwrap()),
                "{topic}: via_device {via} is no device"
            );
        }
    }
    configs
}

#[tokio::test]
async fn home_assistant_sees_each_door_and_gateway_read_only_and_their_states_follow() {
    let Some(broker) = Mosquitto::start("home_assistant") else {
        return;
    };
    let db = sqlite();
    let (d, _dir, _) = dashboard(&db).await;
    d.take_status(SITE, GATEWAY, &status((false, false, false), true))
        .await
        .unwrap();
    let (_ha, seen) = subscriber(broker.port(), "home-assistant").await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let publisher = tokio::spawn(publish_to_home_assistant(
        d.clone(),
        HomeAssistantConfig::new(&broker.url()),
        async move {
            let _ = stopped.await;
        },
    ));

    // One gateway (connectivity) and two doors of four sensors each.
    wait_for(&seen, "nine discovery configs and their states", |s| {
        s.last.keys().filter(|t| t.ends_with("/config")).count() == 9
            && payload(s, "bygd-ha/bygd/byn/gw1/workshop/forced-open").is_some()
    })
    .await;
    let configs = check_configs(&seen.lock().unwrap());
    let classes: BTreeMap<&str, usize> = configs.values().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c["device_class"].as_str().unwrap()).or_default() += 1;
        m
    });
    assert_eq!(
        classes,
        BTreeMap::from([
            ("connectivity", 1),
            ("door", 2),
            ("lock", 2),
            ("problem", 4)
        ])
    );
    {
        let s = seen.lock().unwrap();
        assert_eq!(
            payload(&s, "bygd-ha/bygd/status").as_deref(),
            Some("online")
        );
        assert_eq!(
            payload(&s, "bygd-ha/bygd/byn/gw1/connectivity").as_deref(),
            Some("ON")
        );
        assert_eq!(
            payload(&s, "bygd-ha/bygd/byn/gw1/availability").as_deref(),
            Some("online")
        );
        assert_eq!(
            payload(&s, "bygd-ha/bygd/byn/gw1/front/door").as_deref(),
            Some("OFF")
        );
        assert_eq!(
            payload(&s, "bygd-ha/bygd/byn/gw1/workshop/door").as_deref(),
            Some("ON")
        );
        // The lock's class reads on as unlocked: a locked door is OFF.
        assert_eq!(
            payload(&s, "bygd-ha/bygd/byn/gw1/front/lock").as_deref(),
            Some("OFF")
        );
    }

    // A door opens: the signed event arrives before the next status, and Home Assistant
    // follows it.
    let mut log = Log::new();
    log.push(
        now(),
        ClockQuality::Synchronised,
        EventBody::DoorOpened {
            door: DoorId::new("front").unwrap(),
        },
    );
    d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &gateway_key()))
        .await
        .unwrap();
    wait_for(&seen, "the front door open", |s| {
        payload(s, "bygd-ha/bygd/byn/gw1/front/door").as_deref() == Some("ON")
    })
    .await;

    // Forced open and its lock released: both problems and the lock follow the status.
    d.take_status(SITE, GATEWAY, &status((true, true, true), true))
        .await
        .unwrap();
    wait_for(&seen, "the forced-open alarm and the released lock", |s| {
        payload(s, "bygd-ha/bygd/byn/gw1/front/forced-open").as_deref() == Some("ON")
            && payload(s, "bygd-ha/bygd/byn/gw1/front/lock").as_deref() == Some("ON")
    })
    .await;

    // The gateway's last will, as the link hands it to the dashboard: its doors go
    // unavailable and its connectivity off.
    d.take_status(
        SITE,
        GATEWAY,
        format!(r#"{{"gateway":"{GATEWAY}","online":false,"site":"{SITE}"}}"#).as_bytes(),
    )
    .await
    .unwrap();
    wait_for(&seen, "the gateway offline", |s| {
        payload(s, "bygd-ha/bygd/byn/gw1/availability").as_deref() == Some("offline")
            && payload(s, "bygd-ha/bygd/byn/gw1/connectivity").as_deref() == Some("OFF")
    })
    .await;
    // Everything still fits the rules, now with a gateway offline.
    check_configs(&seen.lock().unwrap());

    // Everything is retained: a Home Assistant that starts now gets the same picture.
    let (_late, late) = subscriber(broker.port(), "home-assistant-late").await;
    wait_for(&late, "the retained configs", |s| {
        s.last.keys().filter(|t| t.ends_with("/config")).count() == 9
    })
    .await;
    {
        let (early, late) = (seen.lock().unwrap(), late.lock().unwrap());
        for (topic, (p, retained)) in &late.last {
            assert!(retained, "{topic} is not retained");
            assert_eq!(Some(p), early.last.get(topic).map(|(p, _)| p), "{topic}");
        }
    }

    // The dashboard stops: its own availability goes offline, so every entity is unavailable.
    stop.send(()).unwrap();
    tokio::time::timeout(ARRIVAL, publisher)
        .await
        .expect("the publisher stops")
        .unwrap()
        .unwrap();
    wait_for(&seen, "the publisher's offline message", |s| {
        payload(s, "bygd-ha/bygd/status").as_deref() == Some("offline")
    })
    .await;
}
