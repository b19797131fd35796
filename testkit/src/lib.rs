//! Real MQTT brokers for bygd's tests and benchmarks, behind one [`Broker`] trait.
//!
//! - [`Rumqttd`] runs in this process. rumqttd 0.20 has no way to stop a running broker, so its
//!   outage is a cut link: a relay in front of it drops every connection and refuses new ones
//!   until started again, while the broker keeps its sessions and retained messages.
//! - [`Mosquitto`] is a child process on a free port, with persistence off: stopping it kills
//!   the process, and everything it held (sessions, queued and retained messages) is gone.
//!
//! A test that needs mosquitto says it is skipped when mosquitto is missing, unless
//! `BYGD_REQUIRE_MOSQUITTO=1` (as in CI): then it fails. Every wait has a deadline.
//!
//! # Layout
//! - this file: the [`Broker`] trait, [`Rumqttd`], [`Mosquitto`], and [`free_port`], the one
//!   free-port helper of every test in the workspace.
//! - `tls`: a test CA and the broker and client certificates it signs.
//! - `browser`: headless Chromium over WebDriver, axe-core accessibility checks, screenshots.
#![allow(clippy::missing_panics_doc)] // test support: panicking with a clear message is the job

pub mod browser;
pub mod prometheus;
pub mod tls;

use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a broker may take to accept connections after it was started.
const BROKER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(10);
/// The environment variable CI sets so that a missing mosquitto fails instead of skipping.
pub const REQUIRE_MOSQUITTO: &str = "BYGD_REQUIRE_MOSQUITTO";
/// Payload limit given to rumqttd: far above a batch (128 KiB) or a test revocation list.
const RUMQTTD_MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// A free TCP port on the loopback interface (bound, then released for the broker).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn wait_listening(port: u16, what: &str, mut alive: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + BROKER_START_TIMEOUT;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Err(why) = alive() {
            panic!("{what} on port {port} did not start: {why}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not accept connections on port {port} within {BROKER_START_TIMEOUT:?}"
        );
        std::thread::sleep(POLL);
    }
}

/// A broker the gateway and the stand-in connect to.
pub trait Broker {
    /// Its name, for messages.
    fn name(&self) -> &'static str;
    /// The port clients connect to.
    fn port(&self) -> u16;
    /// Makes it unreachable: every connection drops and new ones are refused.
    fn stop(&mut self);
    /// Makes it reachable again on the same port.
    fn start(&mut self);
    /// Whether [`Broker::stop`] loses sessions and retained messages (a real stop does).
    fn stop_loses_state(&self) -> bool;
    /// Whether a client that subscribes again to a filter it holds (as the gateway does at
    /// every connect, with its persistent session) gets the retained messages again, as
    /// MQTT 3.1.1 section 3.8.4 requires. rumqttd 0.20 sends them for new subscriptions only
    /// (`prepare_filter` in its `router/routing.rs`).
    fn resends_retained_on_resubscribe(&self) -> bool;
    /// What the broker logged, for failure messages.
    fn log(&self) -> String {
        String::new()
    }
    /// The URL for the gateway's `[mqtt] url`.
    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port())
    }
}

/// rumqttd in this process, behind a relay that can cut every link to it.
pub struct Rumqttd {
    port: u16,
    backend: u16,
    relay: Option<Relay>,
}

impl Rumqttd {
    /// Starts a broker on a free port and a relay on another free port in front of it.
    pub fn start() -> Self {
        let backend = free_port();
        let connections = rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: RUMQTTD_MAX_PAYLOAD,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        };
        let server = rumqttd::ServerSettings {
            name: "v4".into(),
            listen: ([127, 0, 0, 1], backend).into(),
            tls: None,
            next_connection_delay_ms: 1,
            connections,
        };
        let config = rumqttd::Config {
            router: rumqttd::RouterConfig {
                max_connections: 100,
                max_outgoing_packet_count: 200,
                max_segment_size: 100 * 1024 * 1024,
                max_segment_count: 10,
                ..Default::default()
            },
            v4: Some([("1".to_owned(), server)].into_iter().collect()),
            ..Default::default()
        };
        std::thread::Builder::new()
            .name(format!("rumqttd-{backend}"))
            .spawn(move || {
                // Blocks for the life of the test process: rumqttd cannot be stopped.
                if let Err(e) = rumqttd::Broker::new(config).start() {
                    eprintln!("rumqttd on port {backend} failed: {e}");
                }
            })
            .expect("start the rumqttd thread");
        wait_listening(backend, "rumqttd", || Ok(()));
        let port = free_port();
        let mut broker = Self {
            port,
            backend,
            relay: None,
        };
        broker.start_relay();
        broker
    }

    fn start_relay(&mut self) {
        self.relay = Some(Relay::start(self.port, self.backend));
        wait_listening(self.port, "the relay in front of rumqttd", || Ok(()));
    }
}

impl Broker for Rumqttd {
    fn name(&self) -> &'static str {
        "rumqttd"
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn stop(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.stop();
        }
    }
    fn start(&mut self) {
        assert!(self.relay.is_none(), "rumqttd's link is already up");
        self.start_relay();
    }
    fn stop_loses_state(&self) -> bool {
        false
    }
    fn resends_retained_on_resubscribe(&self) -> bool {
        false
    }
}

impl Drop for Rumqttd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP relay: every accepted connection is joined to one to the backend; stopping it
/// closes the listener and shuts every joined socket down.
struct Relay {
    stopped: Arc<AtomicBool>,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: std::thread::JoinHandle<()>,
}

impl Relay {
    fn start(port: u16, backend: u16) -> Self {
        let deadline = Instant::now() + BROKER_START_TIMEOUT;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(POLL);
                }
                Err(e) => panic!("cannot bind the relay to port {port}: {e}"),
            }
        };
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stopped = Arc::new(AtomicBool::new(false));
        let sockets: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let acceptor = {
            let (stopped, sockets) = (stopped.clone(), sockets.clone());
            std::thread::spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    let client = match listener.accept() {
                        Ok((client, _)) => client,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2));
                            continue;
                        }
                        Err(_) => continue,
                    };
                    let Ok(server) = TcpStream::connect(("127.0.0.1", backend)) else {
                        continue;
                    };
                    let _ = client.set_nonblocking(false);
                    for s in [&client, &server] {
                        let _ = s.set_nodelay(true);
                    }
                    let mut held = sockets.lock().expect("relay sockets");
                    for (from, to) in [(&client, &server), (&server, &client)] {
                        let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                            continue;
                        };
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(Shutdown::Both);
                            let _ = from.shutdown(Shutdown::Both);
                        });
                    }
                    held.push(client);
                    held.push(server);
                }
            })
        };
        Self {
            stopped,
            sockets,
            acceptor,
        }
    }

    fn stop(self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = self.acceptor.join();
        for socket in self.sockets.lock().expect("relay sockets").drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

/// mosquitto as a child process, on a free port, persistence off.
pub struct Mosquitto {
    dir: tempfile::TempDir,
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// Where mosquitto is, if installed: `$BYGD_MOSQUITTO` if set (a path that is not a file
/// means "not installed"), else `PATH`, then the sbin directories Debian and Homebrew put it
/// in (often not in a user's `PATH`).
fn find_mosquitto() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BYGD_MOSQUITTO") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.is_file())
}

impl Mosquitto {
    /// Starts mosquitto on a free port. Without mosquitto this returns `None` after saying on
    /// stderr that the test is skipped, unless `BYGD_REQUIRE_MOSQUITTO=1`: then it panics.
    #[track_caller]
    pub fn start(test: &str) -> Option<Self> {
        // persistence false: a stop loses everything, as a crashed broker without a disk would.
        // max_queued_messages 0 (no limit): the drain benchmark queues many messages.
        Self::start_with_config(test, |port, _| {
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 0\nset_tcp_nodelay true\nlog_dest stderr\n\
                 log_type error\nlog_type warning\nlog_type notice\n"
            )
        })
    }

    /// Starts mosquitto with the configuration `config(port, dir)` returns: `port` is a free
    /// port for its listener, `dir` the broker's own temporary directory (for certificates,
    /// ACL files, persistence). Skips or panics as [`Mosquitto::start`] does.
    #[track_caller]
    pub fn start_with_config(
        test: &str,
        config: impl FnOnce(u16, &Path) -> String,
    ) -> Option<Self> {
        let Some(binary) = find_mosquitto() else {
            assert!(
                std::env::var(REQUIRE_MOSQUITTO).as_deref() != Ok("1"),
                "{test}: mosquitto is not installed (looked in $BYGD_MOSQUITTO, PATH, /usr/sbin, \
                 /usr/local/sbin) but {REQUIRE_MOSQUITTO}=1 requires it; install it \
                 (apt-get install mosquitto)"
            );
            eprintln!(
                "SKIPPED {test}: mosquitto is not installed (set {REQUIRE_MOSQUITTO}=1 to make \
                 this a failure)"
            );
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("bygd-mosquitto")
            .tempdir()
            .expect("a temporary directory");
        let port = free_port();
        let text = config(port, dir.path());
        std::fs::write(dir.path().join("mosquitto.conf"), text)
            .expect("write the mosquitto config");
        let mut broker = Self {
            dir,
            binary,
            port,
            child: None,
        };
        broker.spawn();
        Some(broker)
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("mosquitto.log")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .expect("open the mosquitto log");
        let child = Process::new(&self.binary)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.child = Some(child);
        let log = self.log_file();
        let child = self.child.as_mut().expect("just started");
        let mut exited = || match child.try_wait() {
            Ok(Some(status)) => Err(format!(
                "it exited with {status}; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )),
            _ => Ok(()),
        };
        wait_listening(self.port, "mosquitto", &mut exited);
        // Something else may have taken the port since it was found free: mosquitto then
        // exits at once, and the connection above reached the other listener.
        std::thread::sleep(Duration::from_millis(50));
        if let Err(why) = exited() {
            panic!("mosquitto on port {} stopped: {why}", self.port);
        }
    }
}

impl Mosquitto {
    /// The broker's temporary directory (see [`Mosquitto::start_with_config`]).
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Broker for Mosquitto {
    fn name(&self) -> &'static str {
        "mosquitto"
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    fn start(&mut self) {
        assert!(self.child.is_none(), "mosquitto is already running");
        self.spawn();
    }
    fn stop_loses_state(&self) -> bool {
        true
    }
    fn resends_retained_on_resubscribe(&self) -> bool {
        true
    }
    fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}
