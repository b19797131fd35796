//! The uplink over TLS with a client certificate per gateway, against a real mosquitto:
//! a gateway with a certificate from the network's CA connects and reports; one whose
//! certificate the broker does not trust stays offline, and its doors keep working.
//!
//! Certificates are made on the spot with the `openssl` command (`bygd_testkit::tls`). Without mosquitto the test
//! says it skipped, unless `BYGD_REQUIRE_MOSQUITTO=1` (as in CI), where it fails.

use bygd_protocol::{
    encode_qr, DoorId, MemberId, PassClaims, PassId, PassKind, Presentation, SecretKey, SiteId,
    SiteScope, UnixTime,
};
use bygd_testkit::free_port;
use bygd_testkit::tls::TestCa;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GATEWAY: &str = env!("CARGO_BIN_EXE_bygd-gateway");
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

fn mosquitto_available() -> bool {
    if Path::new(MOSQUITTO).exists() {
        return true;
    }
    assert!(
        std::env::var("BYGD_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
        "BYGD_REQUIRE_MOSQUITTO=1 but {MOSQUITTO} is missing: apt-get install mosquitto"
    );
    eprintln!(
        "skipped: mosquitto is not installed (set BYGD_REQUIRE_MOSQUITTO=1 to make this fail)"
    );
    false
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_broker(dir: &Path, tls_port: u16, plain_port: u16) -> Killed {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "per_listener_settings true\npersistence false\nuser root\n\
             listener {tls_port} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/broker.pem\nkeyfile {d}/broker.key\n\
             require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n\
             listener {plain_port} 127.0.0.1\nallow_anonymous true\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = Command::new(MOSQUITTO)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("mosquitto.log")).unwrap())
        .spawn()
        .expect("mosquitto starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", plain_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not listen on {plain_port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Killed(child)
}

fn issuer() -> SecretKey {
    SecretKey::from_seed(&[0x31; 32])
}

fn gateway_dir(root: &Path, name: &str, tls_port: u16, cert: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(GATEWAY)
        .arg("keygen")
        .arg("--out")
        .arg(dir.join("gw.key"))
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(
        dir.join("gw.toml"),
        format!(
            "site = \"byn\"\ngateway = \"{name}\"\ndata_dir = \"data\"\nkey_file = \"gw.key\"\n\
             time_zone = \"Europe/Stockholm\"\nhardware = \"simulated\"\nsocket = \"gw.sock\"\n\
             [[issuer]]\npublic_key = \"{key}\"\n\
             [[door]]\nid = \"front\"\nlock_pin = 17\nsensor_pin = 27\n\
             [mqtt]\nurl = \"mqtts://127.0.0.1:{tls_port}\"\nca_file = \"{r}/ca.pem\"\n\
             client_cert_file = \"{r}/{cert}.pem\"\nclient_key_file = \"{r}/{cert}.key\"\n\
             heartbeat_seconds = 1\nkeep_alive_seconds = 5\n",
            key = issuer().public_key().to_hex(),
            r = root.display(),
        ),
    )
    .unwrap();
    dir
}

fn start_gateway(dir: &Path) -> Killed {
    let child = Command::new(GATEWAY)
        .arg("run")
        .arg("--config")
        .arg(dir.join("gw.toml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !dir.join("gw.sock").exists() {
        assert!(
            Instant::now() < deadline,
            "gateway did not start: {}",
            std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Killed(child)
}

/// Retained status messages seen on the plain listener within `wait`, by gateway id.
fn statuses(plain_port: u16, wait: Duration) -> Vec<(String, serde_json::Value)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut options = rumqttc::MqttOptions::new("observer", "127.0.0.1", plain_port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 10);
        client
            .subscribe("bygd/v1/+/+/status", rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(event) = tokio::time::timeout_at(deadline, eventloop.poll()).await {
            if let Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) = event {
                let gateway = p.topic.split('/').nth(3).unwrap_or_default().to_owned();
                if let Ok(value) = serde_json::from_slice(&p.payload) {
                    seen.push((gateway, value));
                }
            }
        }
        seen
    })
}

fn present(dir: &Path) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = PassClaims {
        member: MemberId::new("tls-member").unwrap(),
        pass_id: PassId([7; 16]),
        not_before: UnixTime(now - 60),
        expires: UnixTime(now + 3600),
        kind: PassKind::Member,
        scope: vec![SiteScope {
            site: SiteId::new("byn").unwrap(),
            doors: vec![DoorId::new("front").unwrap()],
        }],
        schedule: None,
        device_key: None,
    };
    let text = encode_qr(&Presentation {
        pass: claims.issue(&issuer()),
        proof: None,
    });
    let out = Command::new(GATEWAY)
        .args(["present", "--door", "front", "--config"])
        .arg(dir.join("gw.toml"))
        .arg(text)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

#[test]
fn a_gateway_with_a_trusted_client_certificate_reports_over_tls_and_an_untrusted_one_stays_offline_with_working_doors(
) {
    if !mosquitto_available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let ca = TestCa::new(root, "ca");
    ca.issue("broker", "broker");
    ca.issue("gw1", "gw1");
    TestCa::new(root, "rogue-ca").issue("gw2", "gw2");
    let (tls_port, plain_port) = (free_port(), free_port());
    let _broker = start_broker(root, tls_port, plain_port);

    let good = gateway_dir(root, "gw1", tls_port, "gw1");
    let rogue = gateway_dir(root, "gw2", tls_port, "gw2");
    let _good = start_gateway(&good);
    let _rogue = start_gateway(&rogue);

    let seen = statuses(plain_port, Duration::from_secs(6));
    assert!(
        seen.iter()
            .any(|(gw, s)| gw == "gw1" && s["online"] == serde_json::json!(true)),
        "gw1 never reported online over TLS; saw {seen:?}; gw1 log:\n{}",
        std::fs::read_to_string(good.join("stderr.log")).unwrap_or_default()
    );
    assert!(
        !seen.iter().any(|(gw, _)| gw == "gw2"),
        "gw2's certificate is not from the network's CA, yet it published: {seen:?}"
    );
    // The door at the gateway the broker refused still decides alone.
    assert_eq!(present(&rogue)["decision"], "granted");
}
