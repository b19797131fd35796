//! The broker as `deploy/mosquitto` configures it, with TLS client certificates: real `bygd
//! serve` and two `bygd-gateway` processes (gateway `gw1` at site `byn` and gateway `gw1` at
//! site `dal`) on a mosquitto started from the deployed `bygd.conf` and `bygd.acl`, only paths
//! and the port changed. Then someone who stole `byn.gw1`'s certificate tries what it allows:
//! 2 MiB of retained noise, connecting as the dashboard's client id, reading other gateways'
//! topics, writing commands and revocation lists. None of it reaches beyond `byn/gw1`: the
//! dashboard keeps its link, `dal/gw1` keeps working, and both `gw1`s stay online side by side.

use bygd_testkit::tls::{Leaf, TestCa};
use bygd_testkit::{Broker, Mosquitto};
use bygd_tests::{wait_until, Dashboard, Gateway, ARRIVAL, START};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a spy listens for messages it must not get.
const SPY_TIME: Duration = Duration::from_secs(8);
/// Noise: above the dashboard's old 1 MiB limit, below the broker's cap.
const NOISE_BYTES: usize = 2 * 1024 * 1024;
/// Above the deployed broker's cap (`max_packet_size 25166848`).
const OVER_CAP_BYTES: usize = 25 * 1024 * 1024;

fn deploy_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/mosquitto")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with `from` replaced by `to`; `from` must be there (the deployed file changed
/// otherwise, and this test must follow it).
fn must_replace(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the deployed file no longer has `{from}`"
    );
    text.replace(from, to)
}

/// The deployed ACL with its example gateway block (`byn.gw1`) copied for each of `gateways`,
/// as an installer does.
fn acl(gateways: &[(&str, &str)]) -> String {
    let text = deploy_file("bygd.acl");
    let start = text
        .find("user byn.gw1\n")
        .expect("the ACL's example gateway block");
    let block = &text[start..start + text[start..].find("\n\n").expect("its end")];
    let mut out = text.replace(block, "");
    for (site, gateway) in gateways {
        out.push('\n');
        out.push_str(
            &block
                .replace("byn.gw1", &format!("{site}.{gateway}"))
                .replace("bygd/v1/byn/gw1/", &format!("bygd/v1/{site}/{gateway}/"))
                .replace(
                    "bygd/v1/byn/revocations",
                    &format!("bygd/v1/{site}/revocations"),
                ),
        );
        out.push('\n');
    }
    out
}

/// The deployed `bygd.conf` pointed at this test's files and port.
fn conf(port: u16, dir: &Path, ca: &TestCa, server: &Leaf, acl: &Path) -> String {
    let mut text = deploy_file("bygd.conf");
    for (from, to) in [
        ("listener 8883", format!("listener {port} 127.0.0.1")),
        (
            "/etc/mosquitto/certs/ca.pem",
            ca.cert().display().to_string(),
        ),
        (
            "/etc/mosquitto/certs/broker.pem",
            server.cert.display().to_string(),
        ),
        (
            "/etc/mosquitto/certs/broker.key.pem",
            server.key.display().to_string(),
        ),
        ("/etc/mosquitto/conf.d/bygd.acl", acl.display().to_string()),
        ("/var/lib/mosquitto/", format!("{}/", dir.display())),
    ] {
        text = must_replace(&text, from, &to);
    }
    // Tests run as root: mosquitto would otherwise switch to its own user and not read the keys.
    text + "user root\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
}

/// Adds TLS files to the `[mqtt]` section of a config file.
fn add_tls(config: &Path, ca: &TestCa, leaf: &Leaf) {
    let text = std::fs::read_to_string(config).expect("the config");
    let tls = format!(
        "[mqtt]\nca_file = \"{}\"\nclient_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
        ca.cert().display(),
        leaf.cert.display(),
        leaf.key.display()
    );
    std::fs::write(config, must_replace(&text, "[mqtt]\n", &tls)).expect("write the config");
}

/// What an MQTT client holding some certificate got.
#[derive(Debug)]
enum Seen {
    /// The connection was refused or dropped, and why.
    Dropped(String),
    /// The broker acknowledged a publish.
    PubAck,
    /// A message arrived on this topic with this payload.
    Message(String, Vec<u8>),
}

/// A third-party MQTT client (rumqttc) on its own thread, connecting with `leaf` as
/// `client_id`, subscribing to `filters`, then publishing `publish` (topic, payload,
/// retain) once; it reports what it sees until `time` is up, without reconnecting.
fn client(
    port: u16,
    ca: &TestCa,
    leaf: &Leaf,
    client_id: &str,
    filters: &[&str],
    publish: Option<(&str, Vec<u8>, bool)>,
    time: Duration,
) -> mpsc::Receiver<Seen> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut options = rumqttc::MqttOptions::new(client_id, "localhost", port);
    options.set_max_packet_size(64 << 20, 64 << 20);
    options.set_transport(rumqttc::Transport::tls_with_config(
        rumqttc::TlsConfiguration::Simple {
            ca: std::fs::read(ca.cert()).expect("the CA"),
            alpn: None,
            client_auth: Some((
                std::fs::read(&leaf.cert).expect("the certificate"),
                std::fs::read(&leaf.key).expect("the key"),
            )),
        },
    ));
    let filters: Vec<String> = filters.iter().map(|f| (*f).to_owned()).collect();
    let publish = publish.map(|(t, p, r)| (t.to_owned(), p, r));
    let (seen, reports) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 16);
            let deadline = tokio::time::Instant::now() + time;
            let mut publish = publish;
            loop {
                let Ok(event) = tokio::time::timeout_at(deadline, eventloop.poll()).await else {
                    break;
                };
                let report = match event {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        for f in &filters {
                            let _ = client.subscribe(f, rumqttc::QoS::AtLeastOnce).await;
                        }
                        if let Some((topic, payload, retain)) = publish.take() {
                            let _ = client
                                .publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload)
                                .await;
                        }
                        None
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => Some(Seen::PubAck),
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        Some(Seen::Message(p.topic, p.payload.to_vec()))
                    }
                    Ok(_) => None,
                    Err(e) => {
                        let _ = seen.send(Seen::Dropped(e.to_string()));
                        break;
                    }
                };
                if let Some(report) = report {
                    if seen.send(report).is_err() {
                        break;
                    }
                }
            }
        });
    });
    reports
}

/// Everything a client reported until it stopped.
fn all(reports: &mpsc::Receiver<Seen>) -> Vec<Seen> {
    let mut out = Vec::new();
    let deadline = Instant::now() + START + SPY_TIME;
    while let Ok(seen) = reports.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        out.push(seen);
    }
    out
}

fn gateway_line(dashboard: &Dashboard, name: &str) -> String {
    dashboard
        .cli(&["gateway", "list"])
        .ok()
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_default()
        .to_owned()
}

fn offline_alarms(dashboard: &Dashboard, name: &str) -> Vec<String> {
    dashboard
        .alarms()
        .lines()
        .filter(|l| l.contains(name) && l.contains("  offline  "))
        .map(str::to_owned)
        .collect()
}

/// Adds `member` at `site` with a pass; returns its QR text.
fn pass_at(dashboard: &Dashboard, site: &str, member: &str) -> String {
    let _ = dashboard
        .cli(&[
            "member", "add", "--id", member, "--name", member, "--site", site,
        ])
        .ok();
    dashboard
        .cli(&[
            "pass", "issue", "--member", member, "--site", site, "--no-qr",
        ])
        .ok()
        .trim()
        .to_owned()
}

fn wait_entry(dashboard: &Dashboard, member: &str) {
    wait_until(
        &format!("{member}'s entry at the dashboard"),
        ARRIVAL,
        || {
            dashboard
                .cli(&["audit", "--member", member])
                .ok()
                .contains("GRANTED")
        },
        || dashboard.log(),
    );
}

#[test]
fn a_stolen_gateway_certificate_reaches_nothing_beyond_its_own_gateway() {
    let certs = tempfile::tempdir().expect("a temporary directory");
    let ca = TestCa::new(certs.path(), "bygd-ca");
    let server = ca.issue("broker", "localhost");
    let dashboard_cert = ca.issue("dashboard", "bygd-dashboard");
    let byn_cert = ca.issue("byn.gw1", "byn.gw1");
    let dal_cert = ca.issue("dal.gw1", "dal.gw1");
    let rogue = TestCa::new(certs.path(), "rogue-ca").issue("rogue", "byn.gw1");
    let acl_path: PathBuf = certs.path().join("bygd.acl");
    std::fs::write(&acl_path, acl(&[("byn", "gw1"), ("dal", "gw1")])).expect("write the ACL");
    let Some(broker) = Mosquitto::start_with_config(
        "a_stolen_gateway_certificate_reaches_nothing_beyond_its_own_gateway",
        |port, dir| conf(port, dir, &ca, &server, &acl_path),
    ) else {
        return;
    };
    let port = broker.port();
    let url = format!("mqtts://localhost:{port}");

    let mut dashboard = Dashboard::init_url(&url);
    add_tls(&dashboard.data.join("dashboard.toml"), &ca, &dashboard_cert);
    let mut byn = Gateway::register_at(&dashboard, &url, "byn", "gw1");
    let mut dal = Gateway::register_at(&dashboard, &url, "dal", "gw1");
    add_tls(&byn.config, &ca, &byn_cert);
    add_tls(&dal.config, &ca, &dal_cert);
    dashboard.start();
    byn.start();
    dal.start();
    for name in ["byn/gw1", "dal/gw1"] {
        wait_until(
            &format!("{name} online at the dashboard"),
            ARRIVAL,
            || gateway_line(&dashboard, name).contains("online"),
            || format!("{}\n{}", dashboard.log(), broker.log()),
        );
    }

    // Two gateways called gw1 at two sites work side by side: their entries arrive, and
    // neither takes the other's session over (that would publish its last will: offline).
    let anna = pass_at(&dashboard, "byn", "anna");
    let bo = pass_at(&dashboard, "dal", "bo");
    assert_eq!(byn.present("front", &anna)["decision"], "granted");
    assert_eq!(dal.present("front", &bo)["decision"], "granted");
    wait_entry(&dashboard, "anna");
    wait_entry(&dashboard, "bo");
    for name in ["byn/gw1", "dal/gw1"] {
        assert!(
            offline_alarms(&dashboard, name).is_empty(),
            "{name} was pushed offline: {:?}\n{}",
            offline_alarms(&dashboard, name),
            broker.log()
        );
    }

    // From here on a thief holds byn.gw1's certificate, and the real byn/gw1 is off (else
    // the two would keep taking the one session byn.gw1 may have from each other).
    byn.stop();
    // The thief listens to everything: it may read byn/gw1's own topics and byn's list,
    // nothing else, while dal/gw1 reports an entry and runs a command.
    let spy = client(port, &ca, &byn_cert, "spy", &["#"], None, SPY_TIME);
    std::thread::sleep(Duration::from_secs(1));
    let cleo = pass_at(&dashboard, "dal", "cleo");
    assert_eq!(dal.present("front", &cleo)["decision"], "granted");
    let unlock = dashboard.cli(&[
        "unlock",
        "--gateway",
        "dal/gw1",
        "--door",
        "workshop",
        "--seconds",
        "2",
    ]);
    wait_entry(&dashboard, "cleo");
    let allowed = [
        "bygd/v1/byn/gw1/cmd",
        "bygd/v1/byn/gw1/ack",
        "bygd/v1/byn/revocations",
    ];
    let spied = all(&spy);
    for seen in &spied {
        match seen {
            Seen::Message(topic, _) => assert!(
                allowed.contains(&topic.as_str()),
                "byn.gw1's certificate read {topic}"
            ),
            Seen::Dropped(why) => panic!("the spy was dropped before it was done: {why}"),
            Seen::PubAck => {}
        }
    }
    assert!(
        spied
            .iter()
            .any(|s| matches!(s, Seen::Message(topic, _) if topic == "bygd/v1/byn/revocations")),
        "the spy did not even get byn's list, so it heard nothing: {spied:?}"
    );
    assert!(
        unlock.ok().contains("done"),
        "the unlock at dal/gw1 did not complete"
    );

    // Noise, retained, on a topic the certificate may write: 2 MiB passes the broker's cap
    // and reaches the dashboard, which drops it with an alarm and keeps its link; above the
    // cap the broker drops the thief and keeps nothing.
    let noise = all(&client(
        port,
        &ca,
        &byn_cert,
        "noise",
        &[],
        Some(("bygd/v1/byn/gw1/status", vec![0x5a; NOISE_BYTES], true)),
        Duration::from_secs(5),
    ));
    assert!(
        noise.iter().any(|s| matches!(s, Seen::PubAck)),
        "the broker refused {NOISE_BYTES} bytes: {noise:?}"
    );
    wait_until(
        "the dashboard's alarm for the noise",
        ARRIVAL,
        || {
            dashboard
                .alarms()
                .lines()
                .any(|l| l.contains("byn/gw1") && l.contains("bad_message"))
        },
        || dashboard.log(),
    );
    let flood = all(&client(
        port,
        &ca,
        &byn_cert,
        "flood",
        &[],
        Some(("bygd/v1/byn/gw1/status", vec![0x5a; OVER_CAP_BYTES], true)),
        Duration::from_secs(5),
    ));
    assert!(
        matches!(flood.last(), Some(Seen::Dropped(_)))
            && !flood.iter().any(|s| matches!(s, Seen::PubAck)),
        "the broker took {OVER_CAP_BYTES} bytes: {flood:?}"
    );

    // Connecting with the dashboard's client id: the broker names the session after the
    // certificate instead, so the dashboard is not taken over. Then it tries to write a
    // revocation list for each site and a command for dal/gw1: the ACL drops them.
    let forged = vec![0x84, 0x40, 0xa0, 0x40, 0x40];
    for topic in [
        "bygd/v1/byn/revocations",
        "bygd/v1/dal/revocations",
        "bygd/v1/dal/gw1/cmd",
    ] {
        let impostor = all(&client(
            port,
            &ca,
            &byn_cert,
            "bygd-dashboard",
            &[],
            Some((topic, forged.clone(), topic.ends_with("revocations"))),
            Duration::from_secs(2),
        ));
        assert!(
            !impostor.iter().any(|s| matches!(s, Seen::Dropped(_))),
            "the impostor was cut off: {impostor:?}"
        );
    }
    // What byn.gw1 can read of its site's list is still the dashboard's signed list.
    let reader = client(
        port,
        &ca,
        &byn_cert,
        "reader",
        &["bygd/v1/byn/revocations"],
        None,
        Duration::from_secs(3),
    );
    let lists: Vec<Vec<u8>> = all(&reader)
        .into_iter()
        .filter_map(|s| match s {
            Seen::Message(_, payload) => Some(payload),
            _ => None,
        })
        .collect();
    assert!(
        !lists.is_empty() && lists.iter().all(|l| *l != forged),
        "byn's retained list was replaced or is missing: {lists:?}"
    );

    // A certificate from another CA does not get in at all.
    let outsider = all(&client(
        port,
        &ca,
        &rogue,
        "outsider",
        &["#"],
        None,
        Duration::from_secs(3),
    ));
    match outsider.first() {
        Some(Seen::Dropped(why)) => eprintln!("a certificate from another CA: {why}"),
        _ => panic!("a certificate from another CA connected: {outsider:?}"),
    }

    // Nothing of this reached the dashboard's link or dal/gw1: the link never dropped, dal
    // stayed online, no command was refused there, and a later entry still arrives.
    let dave = pass_at(&dashboard, "dal", "dave");
    assert_eq!(dal.present("front", &dave)["decision"], "granted");
    wait_entry(&dashboard, "dave");
    assert!(
        !dashboard.log().contains("dashboard link lost"),
        "the dashboard lost its link:\n{}",
        dashboard.log()
    );
    assert!(
        offline_alarms(&dashboard, "dal/gw1").is_empty(),
        "dal/gw1 went offline: {:?}",
        offline_alarms(&dashboard, "dal/gw1")
    );
    let alarms = dashboard.alarms();
    assert!(
        !alarms
            .lines()
            .any(|l| l.contains("dal/gw1") && l.contains("command_refused")),
        "a forged command reached dal/gw1:\n{alarms}"
    );
    assert!(
        dal.local_log()
            .iter()
            .all(|e| e.to_string().matches("revocation_refused").count() == 0),
        "a forged list reached dal/gw1"
    );
}

#[test]
fn the_deployed_broker_cap_is_exactly_what_a_gateway_reads() {
    let conf = deploy_file("bygd.conf");
    let cap: usize = conf
        .lines()
        .find_map(|l| l.strip_prefix("max_packet_size "))
        .expect("bygd.conf caps packets")
        .trim()
        .parse()
        .expect("a number");
    // The gateway's MQTT client reads the largest revocation list plus 1 KiB of MQTT header
    // (gateway/src/uplink.rs): a smaller broker cap would cut the dashboard off when it
    // publishes such a list, a larger one would let a packet through that drops the gateway.
    assert_eq!(cap, bygd_protocol::MAX_REVOCATION_LIST_BYTES + 1024);
    assert!(OVER_CAP_BYTES > cap && NOISE_BYTES < cap);
}
