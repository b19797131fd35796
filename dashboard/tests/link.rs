//! The dashboard's MQTT link against real brokers (rumqttd in this process, mosquitto as a
//! process) with a real gateway (the gateway crate's daemon, simulated doors) beside it:
//! entries arrive and are acked, revocations and commands reach the door, forgeries raise
//! alarms.

mod common;

use bygd_dashboard::config::DashboardMqtt;
use bygd_dashboard::{CommandRequest, Dashboard, GatewaySetup, LinkSettings, Principal};
use bygd_gateway::{Config, Request, RunOptions, SimAction};
use bygd_protocol::{Topic, TopicKind};
use bygd_testkit::{Broker, Mosquitto, Rumqttd};
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long anything may take to cross the broker: far more than it needs.
const ARRIVAL: Duration = Duration::from_secs(20);
/// The gateway's heartbeat and keep-alive: quick, so the dashboard sees it online soon.
const HEARTBEAT_SECONDS: u32 = 1;
const KEEP_ALIVE_SECONDS: u32 = 5;
/// How long a granted entry releases a door: short, so the test sees it lock again soon.
const UNLOCK_SECONDS: u32 = 3;

/// A dashboard serving with its link, and a gateway, both on one broker.
struct Site {
    dashboard: Dashboard,
    socket: PathBuf,
    gateway_key: bygd_protocol::SecretKey,
    stop: Vec<tokio::sync::oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// The gateway's config, written by the dashboard as `bygd gateway add` writes it, with this
/// test's paths, simulated doors, quick MQTT timing and short unlocks.
async fn gateway_config(dashboard: &Dashboard, dir: &Path, broker: &str) -> PathBuf {
    let setup = GatewaySetup {
        written_by: "the dashboard's link test".into(),
        data_dir: dir.join("data"),
        key_file: dir.join("gateway.key"),
        socket: dir.join("gw.sock"),
        hardware: "simulated".into(),
        mqtt_timing: Some((HEARTBEAT_SECONDS, KEEP_ALIVE_SECONDS)),
        unlock_seconds: UNLOCK_SECONDS,
    };
    let text = dashboard
        .gateways()
        .config_for(
            &Principal::local_admin(),
            SITE,
            GATEWAY,
            Some(broker),
            &setup,
        )
        .await
        .unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, text).unwrap();
    path
}

impl Site {
    async fn start(broker: &dyn Broker) -> Self {
        let dash_dir = tempfile::tempdir().unwrap();
        let gw_dir = tempfile::tempdir().unwrap();
        let (dashboard, _) = Dashboard::init(&dash_dir.path().join("data"), None, "admin")
            .await
            .unwrap();
        let gateway_key = bygd_link::generate_key(&gw_dir.path().join("gateway.key")).unwrap();
        dashboard
            .gateways()
            .register(
                &Principal::local_admin(),
                &bygd_dashboard::NewGateway {
                    site: SITE.into(),
                    id: GATEWAY.into(),
                    public_key: gateway_key.public_key().to_hex(),
                    doors: vec!["front".into(), "workshop".into()],
                    time_zone: Some("Europe/Stockholm".into()),
                },
            )
            .await
            .unwrap();
        let mut mqtt = DashboardMqtt::new(&broker.url());
        mqtt.client_id = format!("dashboard-{}", std::process::id());
        mqtt.keep_alive_seconds = 5;
        let link = LinkSettings {
            mqtt,
            beacon_seconds: 2,
            revocation_refresh_hours: 12,
            revocation_lag_alarm_minutes: 30,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop_dash, dash_rx) = tokio::sync::oneshot::channel::<()>();
        let dash_task = tokio::spawn(bygd_dashboard::serve(
            dashboard.clone(),
            listener,
            Some(link),
            async move {
                let _ = dash_rx.await;
            },
        ));
        let config =
            Config::load(&gateway_config(&dashboard, gw_dir.path(), &broker.url()).await).unwrap();
        let socket = config.socket.clone();
        let (stop_gw, gw_rx) = tokio::sync::oneshot::channel::<()>();
        let gw_task = tokio::spawn(bygd_gateway::run(
            config,
            RunOptions {
                accept_fresh_store: false,
                revocation_min_version: None,
                observer: None,
            },
            async move {
                let _ = gw_rx.await;
            },
        ));
        let site = Self {
            dashboard,
            socket,
            gateway_key,
            stop: vec![stop_gw, stop_dash],
            tasks: vec![gw_task, dash_task],
            _dirs: (dash_dir, gw_dir),
        };
        site.wait("the gateway online at the dashboard", |s| async move {
            s.dashboard
                .gateways()
                .list(&Principal::local_admin())
                .await
                .unwrap()[0]
                .online
        })
        .await;
        site
    }

    async fn ask(&self, request: &Request) -> Value {
        let deadline = Instant::now() + ARRIVAL;
        loop {
            match bygd_gateway::request(&self.socket, request).await {
                Ok(v) => return v,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("the gateway's socket: {e}"),
            }
        }
    }

    async fn present(&self, door: &str, text: &str) -> Value {
        self.ask(&Request::Present {
            door: door.into(),
            text: text.into(),
        })
        .await
    }

    async fn wait<'a, F, Fut>(&'a self, what: &str, mut condition: F)
    where
        F: FnMut(&'a Self) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + ARRIVAL;
        while !condition(self).await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the dashboard's audit (its first page) holds an entry matching `find`.
    async fn audit_has(&self, find: impl Fn(&bygd_dashboard::Entry) -> bool) -> bool {
        self.dashboard
            .entries()
            .audit(&Principal::local_admin(), &Default::default())
            .await
            .unwrap()
            .entries
            .iter()
            .any(find)
    }

    async fn stop(mut self) {
        for stop in self.stop.drain(..) {
            let _ = stop.send(());
        }
        for task in self.tasks.drain(..) {
            task.await.unwrap().unwrap();
        }
    }
}

async fn issue(d: &Dashboard, member: &str) -> bygd_dashboard::IssuedPass {
    let admin = Principal::local_admin();
    if d.members().get(&admin, member).await.is_err() {
        d.members()
            .add(
                &admin,
                &bygd_dashboard::NewMember {
                    id: member.into(),
                    name: member.into(),
                    email: None,
                    sites: vec![SITE.into()],
                    language: None,
                },
            )
            .await
            .unwrap();
    }
    d.passes()
        .issue(
            &admin,
            &bygd_dashboard::IssuePass {
                member: member.into(),
                site: SITE.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

async fn scenario(broker: &mut dyn Broker) {
    let site = Site::start(broker).await;
    let d = site.dashboard.clone();
    let admin = Principal::local_admin();

    // A member enters: the entry reaches the dashboard, and the ack empties the outbox.
    let pass = issue(&d, "anna").await;
    let decision = site
        .present("front", pass.qr_text.as_deref().unwrap())
        .await;
    assert_eq!(decision["decision"], "granted", "{decision}");
    site.wait("the entry at the dashboard", |s| async move {
        s.audit_has(|e| {
            e.member.as_deref() == Some("anna") && e.outcome.as_deref() == Some("granted")
        })
        .await
    })
    .await;
    site.wait("the gateway's outbox emptied by the ack", |s| async move {
        s.ask(&Request::Status).await["core"]["outbox"] == 0
    })
    .await;

    // An operator revokes the pass: the signed list reaches the gateway and the next
    // presentation is denied.
    d.passes().revoke(&admin, &pass.pass.id).await.unwrap();
    site.wait("the revocation applied at the gateway", |s| {
        let text = pass.qr_text.clone().unwrap();
        async move { s.present("front", &text).await["reason"] == "revoked" }
    })
    .await;

    // An unlock from afar: the door releases and the result comes back.
    let sent = d
        .commands()
        .send(
            &admin,
            SITE,
            GATEWAY,
            &CommandRequest::Unlock {
                door: "workshop".into(),
                seconds: 3,
            },
        )
        .await
        .unwrap();
    let done = d
        .commands()
        .wait_for_result(&admin, &sent.id, ARRIVAL)
        .await
        .unwrap();
    assert_eq!(done.status, "done", "{done:?}");
    let status = site.ask(&Request::Status).await;
    assert_eq!(
        status["simulated_lock_released"]["workshop"], true,
        "{status}"
    );

    // A clock floor reset from afar (default: the dashboard's clock) is carried out, and the
    // gateway's floor is where the dashboard said.
    let reset = d
        .commands()
        .send(
            &admin,
            SITE,
            GATEWAY,
            &CommandRequest::ResetClockFloor { floor: None },
        )
        .await
        .unwrap();
    assert_eq!(reset.action, "clock_reset", "{reset:?}");
    let done = d
        .commands()
        .wait_for_result(&admin, &reset.id, ARRIVAL)
        .await
        .unwrap();
    assert_eq!(done.status, "done", "{done:?}");
    let status = site.ask(&Request::Status).await;
    let floor = status["core"]["clock_floor"].as_u64().unwrap();
    assert!(
        floor + 600 > now() && floor <= now() + 600,
        "the floor {floor} is near now: {status}"
    );

    // Time beacons go out to online gateways and are carried out.
    site.wait("a time beacon carried out", |s| async move {
        s.dashboard.commands().beacons_confirmed().await.unwrap() > 0
    })
    .await;

    // A forced door raises a door alarm at the dashboard.
    site.wait("the front door locked again", |s| async move {
        s.ask(&Request::Status).await["simulated_lock_released"]["front"] == false
    })
    .await;
    site.ask(&Request::Sim {
        door: "front".into(),
        action: SimAction::Open,
    })
    .await;
    site.wait("the forced-open alarm", |s| async move {
        s.dashboard
            .alarms()
            .list(&Principal::local_admin(), true, 50)
            .await
            .unwrap()
            .iter()
            .any(|a| a.kind == "forced_open" && a.door.as_deref() == Some("front"))
    })
    .await;

    // Another client publishes a batch on the gateway's topic, signed with its own key:
    // an integrity alarm, nothing stored.
    let before = d
        .entries()
        .audit(
            &admin,
            &bygd_dashboard::EntryFilter {
                all_events: true,
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .entries
        .len();
    let mut log = Log::new();
    log.grant(now(), "front", "mallory");
    publish(
        broker,
        &Topic::gateway(
            &bygd_protocol::SiteId::new(SITE).unwrap(),
            &bygd_protocol::GatewayId::new(GATEWAY).unwrap(),
            TopicKind::Event,
        )
        .to_string(),
        log.batch(1, 1, &forger_key()),
        false,
    )
    .await;
    site.wait("the integrity alarm", |s| async move {
        s.dashboard
            .alarms()
            .list(&Principal::local_admin(), true, 50)
            .await
            .unwrap()
            .iter()
            .any(|a| a.kind == "integrity")
    })
    .await;
    let entries = d
        .entries()
        .audit(
            &admin,
            &bygd_dashboard::EntryFilter {
                all_events: true,
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .entries;
    assert!(
        !entries
            .iter()
            .any(|e| e.member.as_deref() == Some("mallory")),
        "a forged entry was stored"
    );
    assert!(entries.len() >= before);

    // A client holding the gateway's broker credentials publishes 2 MiB of noise on the
    // gateway's status topic (retained: handed out again at every subscription) and on its
    // event topic (QoS 1: handed out again at every reconnect until PUBACKed). Both are
    // dropped with alarms, and the link stays up: later entries still arrive.
    let name = |kind| {
        Topic::gateway(
            &bygd_protocol::SiteId::new(SITE).unwrap(),
            &bygd_protocol::GatewayId::new(GATEWAY).unwrap(),
            kind,
        )
        .to_string()
    };
    let noise = vec![0x5a; 2 * 1024 * 1024];
    publish(broker, &name(TopicKind::Status), noise.clone(), true).await;
    publish(broker, &name(TopicKind::Event), noise, false).await;
    site.wait("the alarms for both noise messages", |s| async move {
        let alarms = s
            .dashboard
            .alarms()
            .list(&Principal::local_admin(), true, 50)
            .await
            .unwrap();
        alarms.iter().any(|a| a.kind == "bad_message")
            && alarms
                .iter()
                .any(|a| a.kind == "integrity" && a.detail.contains("too_large"))
    })
    .await;
    let late = issue(&d, "bertil").await;
    let decision = site
        .present("front", late.qr_text.as_deref().unwrap())
        .await;
    assert_eq!(decision["decision"], "granted", "{decision}");
    site.wait(
        "an entry after the noise at the dashboard",
        |s| async move { s.audit_has(|e| e.member.as_deref() == Some("bertil")).await },
    )
    .await;
    let _ = &site.gateway_key;
    site.stop().await;
}

/// Publishes one message as a client of its own.
async fn publish(broker: &dyn Broker, topic: &str, payload: Vec<u8>, retain: bool) {
    let mut options = rumqttc::MqttOptions::new(
        format!("intruder-{}", std::process::id()),
        "127.0.0.1",
        broker.port(),
    );
    options.set_max_packet_size(1 << 20, 4 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 10);
    client
        .publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload)
        .await
        .unwrap();
    let deadline = Instant::now() + ARRIVAL;
    loop {
        match tokio::time::timeout(Duration::from_secs(1), eventloop.poll()).await {
            Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)))) => break,
            _ if Instant::now() > deadline => panic!("the intruder's publish was not acked"),
            _ => {}
        }
    }
    let _ = client.disconnect().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_revocations_commands_and_forgeries_cross_rumqttd() {
    let mut broker = Rumqttd::start();
    scenario(&mut broker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_revocations_commands_and_forgeries_cross_mosquitto() {
    let Some(mut broker) =
        Mosquitto::start("entries_revocations_commands_and_forgeries_cross_mosquitto")
    else {
        return;
    };
    scenario(&mut broker).await;
}
