//! The end-to-end harness: the real `bygd` (dashboard) and `bygd-gateway` binaries as
//! processes, each in a temporary directory, against a real broker: mosquitto when it is
//! installed (required with `BYGD_REQUIRE_MOSQUITTO=1`, as in CI), rumqttd otherwise.
//!
//! Outcomes are read the way people read them: through the CLIs, the HTTP API and the
//! database. Every wait has a deadline, and a failure says what the processes wrote.
#![allow(clippy::missing_panics_doc)] // test support: panicking with a clear message is its job

use bygd_testkit::{free_port, Broker, Mosquitto, Rumqttd};
use serde_json::Value;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The site of every test.
pub const SITE: &str = "byn";
/// How long a process may take to come up.
pub const START: Duration = Duration::from_secs(30);
/// How long anything may take to cross the system: far more than it needs.
pub const ARRIVAL: Duration = Duration::from_secs(60);
/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(50);

/// The newest modification time of the files the binaries are built from.
fn newest_source(workspace: &Path) -> std::time::SystemTime {
    fn walk(dir: &Path, newest: &mut std::time::SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut newest = std::time::UNIX_EPOCH;
    for part in [
        "protocol/src",
        "firmware/src",
        "gateway/src",
        "dashboard/src",
        "dashboard/migrations",
        "dashboard/openapi.json",
        "Cargo.lock",
    ] {
        let path = workspace.join(part);
        if path.is_dir() {
            walk(&path, &mut newest);
        } else if let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) {
            newest = newest.max(modified);
        }
    }
    newest
}

/// Where the workspace's binaries are. `cargo test --workspace` builds them before any test
/// runs; if one is missing or older than its sources (`cargo test -p bygd-tests` alone),
/// they are built once here.
#[must_use]
pub fn binary(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        // target/<profile>/deps/<test> → target/<profile>
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_owned();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        let newest = newest_source(workspace);
        let fresh = ["bygd", "bygd-gateway", "bygd-demo"].iter().all(|b| {
            std::fs::metadata(dir.join(b))
                .and_then(|m| m.modified())
                .is_ok_and(|built| built >= newest)
        });
        if !fresh {
            eprintln!(
                "building the binaries the end-to-end tests start (cargo build --workspace --bins)"
            );
            let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            build
                .current_dir(workspace)
                .args(["build", "--workspace", "--bins"]);
            if dir.ends_with("release") {
                build.arg("--release");
            }
            let out = build.output().expect("run cargo build");
            assert!(
                out.status.success(),
                "cargo build --workspace --bins failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        dir
    });
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing after the build",
        path.display()
    );
    path
}

/// A broker for one test: mosquitto if installed (or required), else rumqttd.
#[must_use]
pub fn broker(test: &str) -> Box<dyn Broker + Send> {
    match Mosquitto::start(test) {
        Some(m) => Box::new(m),
        None => {
            eprintln!("{test}: using rumqttd in the test process instead");
            Box::new(Rumqttd::start())
        }
    }
}

/// Waits until `condition` holds, or fails with `what` and `context()`.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut condition: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let started = Instant::now();
    let deadline = started + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(POLL);
    }
    eprintln!("waited {:.1?} for {what}", started.elapsed());
}

/// A finished command.
#[derive(Debug)]
pub struct Outcome {
    /// Its exit code.
    pub code: Option<i32>,
    /// What it printed.
    pub stdout: String,
    /// Its errors.
    pub stderr: String,
}

impl Outcome {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics unless it exited 0; returns stdout.
    #[track_caller]
    #[must_use]
    pub fn ok(self) -> String {
        assert_eq!(
            self.code,
            Some(0),
            "command failed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        self.stdout
    }
}

/// Sends `signal` (like `-KILL`) to a process.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

fn kill(child: &mut Option<Child>, signal: &str) {
    if let Some(mut c) = child.take() {
        let _ = Command::new("kill")
            .args([signal, &c.id().to_string()])
            .status();
        let deadline = Instant::now() + START;
        while c.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = c.kill();
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The dashboard: `bygd init` once, then `bygd serve` as a process that can be killed and
/// started again on the same data directory.
pub struct Dashboard {
    _dir: tempfile::TempDir,
    /// The data directory.
    pub data: PathBuf,
    /// The API's port.
    pub port: u16,
    /// The admin's password.
    pub password: String,
    broker_url: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Dashboard {
    /// `bygd init` against `broker`.
    #[must_use]
    pub fn init(broker: &dyn Broker) -> Self {
        Self::init_url(&broker.url())
    }

    /// `bygd init` against the broker at `url`.
    #[must_use]
    pub fn init_url(url: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("dashboard");
        let init = Command::new(binary("bygd"))
            .args(["init", "--mqtt", url, "--data"])
            .arg(&data)
            .env_remove("BYGD_DATABASE_URL")
            .output()
            .expect("run bygd init");
        let stdout = Outcome::from(init).ok();
        let password = stdout
            .lines()
            .find_map(|l| {
                l.split_once("password (shown once): ")
                    .map(|(_, p)| p.trim().to_owned())
            })
            .expect("bygd init prints the admin password");
        let log = dir.path().join("serve.log");
        Self {
            _dir: dir,
            data,
            port: free_port(),
            password,
            broker_url: url.to_owned(),
            child: None,
            log,
        }
    }

    /// Starts `bygd serve` and waits until its API answers and its link is up.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the dashboard is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the serve log");
        let child = Command::new(binary("bygd"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--mqtt",
                &self.broker_url,
                "--data",
            ])
            .arg(&self.data)
            .env("BYGD_LOG", "info")
            .env_remove("BYGD_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start bygd serve");
        self.child = Some(child);
        wait_until(
            "the dashboard's API with its MQTT link up",
            START,
            || {
                self.http("GET", "/api/v1/health", None)
                    .is_some_and(|(_, v)| v["mqtt_connected"] == true)
            },
            || self.log(),
        );
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        kill(&mut self.child, "-KILL");
    }

    /// The process id of `bygd serve`, if running (to kill it from another thread).
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, as systemd stops it.
    pub fn stop(&mut self) {
        kill(&mut self.child, "-TERM");
    }

    /// What `bygd serve` logged.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs `bygd ARGS --data DIR`.
    #[must_use]
    pub fn cli(&self, args: &[&str]) -> Outcome {
        let out = Command::new(binary("bygd"))
            .args(args)
            .arg("--data")
            .arg(&self.data)
            .env_remove("BYGD_DATABASE_URL")
            .output()
            .expect("run bygd");
        Outcome::from(out)
    }

    /// Adds a member at the test site and issues a pass; returns (pass id, QR text).
    #[must_use]
    pub fn member_with_pass(&self, member: &str) -> (String, String) {
        let _ = self.cli(&[
            "member", "add", "--id", member, "--name", member, "--site", SITE,
        ]);
        let text = self
            .cli(&[
                "pass", "issue", "--member", member, "--site", SITE, "--no-qr",
            ])
            .ok()
            .trim()
            .to_owned();
        let list = self.cli(&["pass", "list", "--member", member]).ok();
        let id = list
            .split_whitespace()
            .next()
            .expect("a pass id")
            .to_owned();
        (id, text)
    }

    /// Every stored event of `gateway` as (seq, kind, member, clock), by seq, read from the
    /// database file.
    #[must_use]
    pub fn stored(&self, gateway: &str) -> Vec<(i64, String, Option<String>, String)> {
        let url = format!("sqlite:{}?mode=ro", self.data.join("bygd.db").display());
        let gateway = gateway.to_owned();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            use sqlx::Connection as _;
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&url)
                .await
                .expect("open the dashboard's database");
            sqlx::query_as(
                "SELECT seq, kind, member, clock FROM events WHERE gateway = $1 ORDER BY seq",
            )
            .bind(gateway)
            .fetch_all(&mut conn)
            .await
            .expect("read the events")
        })
    }

    /// `bygd alarms --all`.
    #[must_use]
    pub fn alarms(&self) -> String {
        self.cli(&["alarms", "--all"]).ok()
    }

    /// One HTTP request to the API; `None` if it does not answer.
    #[must_use]
    pub fn http(&self, method: &str, path: &str, token: Option<&str>) -> Option<(u16, Value)> {
        self.http_json(method, path, token, None)
    }

    /// One HTTP request with an optional JSON body; `None` if the API does not answer.
    #[must_use]
    pub fn http_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).ok()?;
        let status = reply.split_whitespace().nth(1)?.parse().ok()?;
        let body = reply.split_once("\r\n\r\n")?.1;
        // Chunked bodies are not used by the JSON endpoints read here.
        Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A gateway process with simulated doors `front` and `workshop`, configured from what
/// `bygd gateway add` wrote for it.
pub struct Gateway {
    dir: tempfile::TempDir,
    /// Its config file.
    pub config: PathBuf,
    /// Its id.
    pub id: String,
    child: Option<Child>,
    env: Vec<(String, String)>,
}

impl Gateway {
    /// `bygd-gateway keygen`, `bygd gateway add --out`, and the config made local: simulated
    /// hardware, files in a temporary directory, quick heartbeats.
    #[must_use]
    pub fn register(dashboard: &Dashboard, broker: &dyn Broker, id: &str) -> Self {
        Self::register_at(dashboard, &broker.url(), SITE, id)
    }

    /// [`Gateway::register`] at `site`, with the broker at `url`.
    #[must_use]
    pub fn register_at(dashboard: &Dashboard, url: &str, site: &str, id: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let key = dir.path().join("gateway.key");
        let keygen = Command::new(binary("bygd-gateway"))
            .args(["keygen", "--out"])
            .arg(&key)
            .output()
            .expect("keygen");
        let printed = Outcome::from(keygen).ok();
        let public_key = printed
            .split_whitespace()
            .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_else(|| panic!("keygen printed no public key: {printed}"))
            .to_owned();
        let config = dir.path().join("gateway.toml");
        let _ = dashboard
            .cli(&[
                "gateway",
                "add",
                "--site",
                site,
                "--id",
                id,
                "--public-key",
                &public_key,
                "--doors",
                "front,workshop",
                "--broker",
                url,
                "--out",
                config.to_str().expect("utf-8"),
            ])
            .ok();
        let d = dir.path().display();
        let text = std::fs::read_to_string(&config)
            .expect("the written config")
            .replace("/var/lib/bygd", &format!("{d}/data"))
            .replace("/etc/bygd/gateway.key", &key.display().to_string())
            .replace("/run/bygd/gateway.sock", &format!("{d}/gw.sock"))
            .replace("hardware = \"rppal\"", "hardware = \"simulated\"")
            + "heartbeat_seconds = 1\nkeep_alive_seconds = 5\n";
        std::fs::write(&config, text).expect("write the config");
        Self {
            dir,
            config,
            id: id.to_owned(),
            child: None,
            env: Vec::new(),
        }
    }

    /// Environment for the next starts (e.g. libfaketime).
    pub fn set_env(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("gw.sock")
    }

    /// What the daemon wrote.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Starts the daemon and waits for its socket.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the gateway is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .expect("log");
        let mut command = Command::new(binary("bygd-gateway"));
        command
            .args(["run", "--config"])
            .arg(&self.config)
            .env("BYGD_LOG", "info")
            .env_remove("BYGD_GATEWAY_CONFIG");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        self.child = Some(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start bygd-gateway"),
        );
        wait_until(
            "the gateway's socket",
            START,
            || self.request(&serde_json::json!({"op": "status"})).is_ok(),
            || self.log(),
        );
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        kill(&mut self.child, "-KILL");
    }

    /// The daemon's process id, if running (to kill it from another thread).
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM.
    pub fn stop(&mut self) {
        kill(&mut self.child, "-TERM");
    }

    /// One request on the control socket.
    pub fn request(&self, request: &Value) -> std::io::Result<Value> {
        let mut stream = UnixStream::connect(self.socket())?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        stream.write_all(format!("{request}\n").as_bytes())?;
        let mut reply = String::new();
        BufReader::new(stream).read_line(&mut reply)?;
        serde_json::from_str(&reply).map_err(std::io::Error::other)
    }

    /// Presents a QR text at a door; the decision.
    #[must_use]
    pub fn present(&self, door: &str, text: &str) -> Value {
        self.request(&serde_json::json!({"op": "present", "door": door, "text": text}))
            .unwrap_or_else(|e| panic!("present: {e}\n{}", self.log()))
    }

    /// The daemon's status.
    #[must_use]
    pub fn status(&self) -> Value {
        self.request(&serde_json::json!({"op": "status"}))
            .unwrap_or_else(|e| panic!("status: {e}\n{}", self.log()))
    }

    /// `bygd-gateway ARGS --config FILE`.
    #[must_use]
    pub fn cli(&self, args: &[&str]) -> Outcome {
        let out = Command::new(binary("bygd-gateway"))
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env_remove("BYGD_GATEWAY_CONFIG")
            .output()
            .expect("run bygd-gateway");
        Outcome::from(out)
    }

    /// The local log as JSON objects.
    #[must_use]
    pub fn local_log(&self) -> Vec<Value> {
        self.cli(&["log", "--json"])
            .ok()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Publishes one message as a client that is neither the dashboard nor a gateway.
pub fn intrude(broker: &dyn Broker, topic: &str, payload: Vec<u8>, retain: bool) {
    let port = broker.port();
    let topic = topic.to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async move {
        let mut options = rumqttc::MqttOptions::new(
            format!("intruder-{}", std::process::id()),
            "127.0.0.1",
            port,
        );
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 10);
        client
            .publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload)
            .await
            .expect("queue the publish");
        let deadline = Instant::now() + START;
        loop {
            match tokio::time::timeout(Duration::from_secs(1), eventloop.poll()).await {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)))) => break,
                _ if Instant::now() > deadline => panic!("the intruder's publish was not acked"),
                _ => {}
            }
        }
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
    });
}

/// Subscribes to `topic` and returns the payloads of the first `n` messages published on it
/// after `start` runs.
pub fn capture(broker: &dyn Broker, topic: &str, n: usize, start: impl FnOnce()) -> Vec<Vec<u8>> {
    let port = broker.port();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut options = rumqttc::MqttOptions::new(
        format!("observer-{}", std::process::id()),
        "127.0.0.1",
        port,
    );
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 10);
    rt.block_on(async {
        client
            .subscribe(topic, rumqttc::QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        loop {
            if let Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) = eventloop.poll().await
            {
                break;
            }
        }
    });
    start();
    rt.block_on(async {
        let mut got = Vec::new();
        let deadline = Instant::now() + ARRIVAL;
        while got.len() < n {
            match tokio::time::timeout(Duration::from_secs(1), eventloop.poll()).await {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)))) => {
                    got.push(p.payload.to_vec())
                }
                _ if Instant::now() > deadline => {
                    panic!("captured {} of {n} messages on {}", got.len(), "the topic")
                }
                _ => {}
            }
        }
        let _ = client.disconnect().await;
        got
    })
}
