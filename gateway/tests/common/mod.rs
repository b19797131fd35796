//! The harness the gateway's integration tests share: a real `bygd-gateway` process with
//! simulated doors in its own temporary directory, the CLI commands around it, and passes
//! issued on the spot, valid at the real current time (the daemon reads the system clock).
//!
//! Every wait has a deadline and every failure says what the daemon wrote to stderr, so a
//! broken daemon fails a test with its own words instead of hanging it.
#![allow(dead_code)] // each test binary uses a different part of the harness

use bygd_protocol::{
    encode_qr, DeviceSecretKey, DoorId, MemberId, PassClaims, PassId, PassKind, Presentation,
    RevocationList, Schedule, SecretKey, SiteId, SiteScope, UnixTime, TIME_STEP_SECONDS,
};
use serde_json::Value;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The daemon under test.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_bygd-gateway");

/// The site every test gateway serves.
pub(crate) const SITE: &str = "byn";
/// The door most tests present at.
pub(crate) const FRONT: &str = "front";
/// The second door: passes can be scoped to one door and lockdown to the other.
pub(crate) const WORKSHOP: &str = "workshop";

/// How long a daemon may take to answer `status` after it was started: a debug build on a
/// loaded 2-core machine starts in well under a second; ten is slack, not expectation.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long any one CLI command may run before the test fails instead of hanging.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long SIGTERM may take to stop the daemon (the systemd unit allows 15 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(20);

/// The issuer key the test gateways trust.
pub(crate) fn issuer() -> SecretKey {
    SecretKey::from_seed(&[0x11; 32])
}

/// A well-formed issuer key the test gateways do not trust.
pub(crate) fn stranger() -> SecretKey {
    SecretKey::from_seed(&[0x22; 32])
}

/// The phone key device-bound passes name.
pub(crate) fn phone() -> DeviceSecretKey {
    DeviceSecretKey::from_bytes(&[0x42; 32]).expect("0x42.. is a valid P-256 scalar")
}

/// Another phone, whose proofs do not match the key a pass names.
pub(crate) fn other_phone() -> DeviceSecretKey {
    DeviceSecretKey::from_bytes(&[0x43; 32]).expect("0x43.. is a valid P-256 scalar")
}

/// Now, in whole Unix seconds, from the same clock the daemon reads.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A pass id no other pass in this test process has.
pub(crate) fn fresh_pass_id() -> PassId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&u64::from(std::process::id()).to_be_bytes());
    id[8..].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    PassId(id)
}

/// Claims for `member`: a member pass for every door at the test site, valid from an hour
/// ago until a day from now, any time of the week.
pub(crate) fn claims(member: &str) -> PassClaims {
    let now = now();
    PassClaims {
        member: MemberId::new(member).expect("test member ids are valid"),
        pass_id: fresh_pass_id(),
        not_before: UnixTime(now - 3600),
        expires: UnixTime(now + 86_400),
        kind: PassKind::Member,
        scope: vec![SiteScope::all_doors(site())],
        schedule: None,
        device_key: None,
    }
}

/// The test site's id.
pub(crate) fn site() -> SiteId {
    SiteId::new(SITE).expect("valid site id")
}

/// A door id.
pub(crate) fn door(name: &str) -> DoorId {
    DoorId::new(name).expect("valid door id")
}

/// A schedule of one all-day window on the days in `mask` (bit 0 = Monday).
pub(crate) fn all_day(mask: u8) -> Schedule {
    Schedule::new(vec![bygd_protocol::TimeWindow::from_mask(
        mask,
        0,
        bygd_protocol::MINUTES_PER_DAY,
    )
    .expect("a valid window")])
    .expect("one window")
}

/// The QR text of a bare pass.
pub(crate) fn pass_text(pass: &[u8]) -> String {
    encode_qr(&Presentation {
        pass: pass.to_vec(),
        proof: None,
    })
}

/// The QR text of a pass signed by the test issuer.
pub(crate) fn issue(claims: &PassClaims) -> String {
    pass_text(&claims.issue(&issuer()))
}

/// The QR text of a device-bound presentation: `pass` with a proof by `device` for the
/// current time step and `counter`.
pub(crate) fn proved_text(
    pass: &[u8],
    pass_id: &PassId,
    device: &DeviceSecretKey,
    counter: u64,
) -> String {
    proved_text_at(pass, pass_id, device, now() / TIME_STEP_SECONDS, counter)
}

/// As [`proved_text`], at a chosen time step.
pub(crate) fn proved_text_at(
    pass: &[u8],
    pass_id: &PassId,
    device: &DeviceSecretKey,
    time_step: u64,
    counter: u64,
) -> String {
    encode_qr(&Presentation {
        pass: pass.to_vec(),
        proof: Some(device.prove(pass_id, time_step, counter)),
    })
}

/// A full revocation list for the test site, signed by the test issuer.
pub(crate) fn revocation_list(
    version: u64,
    passes: &[PassId],
    members: &[&str],
    issued_at: u64,
) -> Vec<u8> {
    revocation_list_for(&site(), version, passes, members, issued_at)
}

/// A full revocation list for `site`, signed by the test issuer.
pub(crate) fn revocation_list_for(
    site: &SiteId,
    version: u64,
    passes: &[PassId],
    members: &[&str],
    issued_at: u64,
) -> Vec<u8> {
    RevocationList {
        version,
        base: None,
        issued_at: UnixTime(issued_at),
        expires: UnixTime(issued_at + 7 * 86_400),
        revoked_passes: passes.to_vec(),
        revoked_members: members
            .iter()
            .map(|m| MemberId::new(m).expect("valid member id"))
            .collect(),
        ..RevocationList::empty(site.clone())
    }
    .sign(&issuer())
}

/// What a test may change in the gateway's config.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// `unlock_seconds` of both doors. 2 is the shortest the firmware accepts with
    /// relock-on-close (its relock delay is 1 s and must be below the unlock time).
    pub(crate) unlock_seconds: u32,
    /// The issuer public key, as hex.
    pub(crate) issuer_hex: String,
    /// Lines for the `[policy]` table.
    pub(crate) policy: String,
    /// Lines appended at the top level, before any table (for bad-config tests).
    pub(crate) top_level_extra: String,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            unlock_seconds: 2,
            issuer_hex: issuer().public_key().to_hex(),
            policy: String::new(),
            top_level_extra: String::new(),
        }
    }
}

impl Setup {
    /// The config file's text. Paths are relative to the config's directory.
    pub(crate) fn config_text(&self) -> String {
        format!(
            r#"site = "{SITE}"
gateway = "gw1"
data_dir = "data"
key_file = "gateway.key"
time_zone = "Europe/Stockholm"
hardware = "simulated"
socket = "gw.sock"
{extra}

[[issuer]]
public_key = "{issuer}"

[policy]
{policy}

[[door]]
id = "{FRONT}"
lock_pin = 17
sensor_pin = 27
exit_pin = 22
unlock_seconds = {unlock}

[[door]]
id = "{WORKSHOP}"
lock_pin = 5
sensor_pin = 6
unlock_seconds = {unlock}
"#,
            extra = self.top_level_extra,
            issuer = self.issuer_hex,
            policy = self.policy,
            unlock = self.unlock_seconds,
        )
    }
}

/// A command's outcome.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Exit code (`None`: killed by a signal).
    pub(crate) code: Option<i32>,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Outcome {
    /// Panics unless the command exited 0.
    #[track_caller]
    pub(crate) fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "command failed: {self:#?}");
        self
    }
}

/// Runs a command to completion, failing the test if it takes longer than `timeout`.
pub(crate) fn run_with_timeout(mut command: Command, timeout: Duration) -> Outcome {
    let what = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    // Drain both pipes on threads so a chatty command cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// A decision as `present` printed it.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    /// The JSON line.
    pub(crate) json: Value,
    /// `present`'s exit code.
    pub(crate) code: Option<i32>,
}

impl Decision {
    /// Whether the decision was a grant.
    pub(crate) fn granted(&self) -> bool {
        self.json["decision"] == "granted"
    }

    /// The denial reason code, if any.
    pub(crate) fn reason(&self) -> Option<&str> {
        self.json["reason"].as_str()
    }

    /// The logged event's sequence number.
    #[track_caller]
    pub(crate) fn seq(&self) -> u64 {
        self.json["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("no seq in {}", self.json))
    }

    /// Panics unless this is a grant that exited 0.
    #[track_caller]
    pub(crate) fn assert_granted(&self) {
        assert_eq!(
            (self.json["decision"].as_str(), self.code),
            (Some("granted"), Some(0)),
            "expected a grant: {self:?}"
        );
    }

    /// Panics unless this is a denial for `reason` that exited 1.
    #[track_caller]
    pub(crate) fn assert_denied(&self, reason: &str) {
        assert_eq!(
            (self.json["decision"].as_str(), self.reason(), self.code),
            (Some("denied"), Some(reason), Some(1)),
            "expected a denial for {reason}: {self:?}"
        );
    }
}

/// One gateway under test: its directory, config, and (while running) its process.
pub(crate) struct Gateway {
    /// The temporary directory holding config, key, store and socket.
    pub(crate) dir: tempfile::TempDir,
    /// The config file.
    pub(crate) config: PathBuf,
    /// The running daemon.
    child: Option<Child>,
    /// Environment for the next starts (e.g. libfaketime).
    env: Vec<(String, String)>,
}

impl Gateway {
    /// A gateway with the default setup, not started yet; its key is made with `keygen`.
    pub(crate) fn new() -> Self {
        Self::with(Setup::default())
    }

    /// A gateway with this setup, not started yet.
    pub(crate) fn with(setup: Setup) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bygd")
            .tempdir()
            .expect("a temporary directory");
        let config = dir.path().join("gateway.toml");
        std::fs::write(&config, setup.config_text()).expect("write the config");
        let gateway = Self {
            dir,
            config,
            child: None,
            env: Vec::new(),
        };
        let key = gateway.dir.path().join("gateway.key");
        let mut keygen = Command::new(BINARY);
        keygen.arg("keygen").arg("--out").arg(&key);
        let made = run_with_timeout(keygen, COMMAND_TIMEOUT).ok();
        assert_eq!(made.stdout.trim().len(), 64, "keygen prints the public key");
        gateway
    }

    /// A gateway with the default setup, started.
    pub(crate) fn started() -> Self {
        let mut gateway = Self::new();
        gateway.start();
        gateway
    }

    /// The data directory.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The store file.
    pub(crate) fn store_file(&self) -> PathBuf {
        self.data_dir().join("gateway.redb")
    }

    /// The control socket.
    pub(crate) fn socket(&self) -> PathBuf {
        self.dir.path().join("gw.sock")
    }

    /// Where every run of the daemon wrote its stderr (appended).
    pub(crate) fn daemon_log(&self) -> PathBuf {
        self.dir.path().join("daemon.stderr")
    }

    /// Everything the daemon wrote to stderr so far.
    pub(crate) fn daemon_stderr(&self) -> String {
        std::fs::read_to_string(self.daemon_log()).unwrap_or_default()
    }

    /// The process id of the running daemon.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon is running").id()
    }

    /// A `bygd-gateway run` command for this gateway, stderr appended to the daemon log.
    fn run_command(&self, extra: &[&str]) -> Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.daemon_log())
            .expect("open the daemon log");
        let mut command = Command::new(BINARY);
        command
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .args(extra)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("BYGD_GATEWAY_CONFIG")
            .env("BYGD_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        command
    }

    /// Sets the environment of the daemon's next starts (replacing what was set before).
    pub(crate) fn set_env(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    }

    /// Starts the daemon and waits until it answers `status`.
    pub(crate) fn start(&mut self) {
        self.start_with(&[]);
    }

    /// Starts the daemon with extra `run` flags and waits until it answers `status`.
    pub(crate) fn start_with(&mut self, extra: &[&str]) {
        assert!(self.child.is_none(), "the daemon is already running");
        let child = self
            .run_command(extra)
            .spawn()
            .expect("start bygd-gateway run");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!(
                    "bygd-gateway run exited with {status} before it answered `status`; its stderr:\n{}",
                    self.daemon_stderr()
                );
            }
            if self
                .request(&serde_json::json!({ "op": "status" }))
                .is_ok_and(|reply| reply.get("core").is_some())
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "bygd-gateway run did not answer `status` on {} within {START_TIMEOUT:?}; its stderr:\n{}",
                    self.socket().display(),
                    self.daemon_stderr()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Runs `bygd-gateway run` expecting it to exit by itself (a refused start).
    pub(crate) fn run_expecting_exit(&self, extra: &[&str]) -> Outcome {
        let before = self.daemon_stderr().len();
        let mut child = self
            .run_command(extra)
            .spawn()
            .expect("start bygd-gateway run");
        let deadline = Instant::now() + START_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "bygd-gateway run was expected to exit but still runs; its stderr:\n{}",
                    self.daemon_stderr()
                );
            }
            std::thread::sleep(POLL);
        };
        Outcome {
            code: status.code(),
            stdout: String::new(),
            stderr: self.daemon_stderr()[before..].to_owned(),
        }
    }

    /// Stops the daemon with SIGTERM and returns its exit status.
    pub(crate) fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the daemon is running");
        let mut kill = Command::new("kill");
        kill.arg("-TERM").arg(child.id().to_string());
        run_with_timeout(kill, COMMAND_TIMEOUT).ok();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "bygd-gateway did not stop within {STOP_TIMEOUT:?} of SIGTERM; its stderr:\n{}",
                    self.daemon_stderr()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Stops the daemon with SIGTERM, asserting it exits 0.
    #[track_caller]
    pub(crate) fn stop_cleanly(&mut self) {
        let status = self.stop();
        assert_eq!(
            status.code(),
            Some(0),
            "SIGTERM must stop the daemon with status 0; its stderr:\n{}",
            self.daemon_stderr()
        );
    }

    /// Kills the daemon with SIGKILL (kill -9): no shutdown code runs.
    pub(crate) fn kill9(&mut self) {
        let mut child = self.child.take().expect("the daemon is running");
        child.kill().expect("SIGKILL the daemon");
        let status = child.wait().expect("reap the daemon");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the daemon died of SIGKILL"
        );
    }

    /// Runs a CLI subcommand with `--config` added after it.
    pub(crate) fn cli(&self, subcommand: &str, args: &[&str]) -> Outcome {
        let mut command = Command::new(BINARY);
        command
            .arg(subcommand)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("BYGD_GATEWAY_CONFIG");
        run_with_timeout(command, COMMAND_TIMEOUT)
    }

    /// `bygd-gateway present`: the one JSON line it prints and its exit code.
    #[track_caller]
    pub(crate) fn present(&self, door: &str, text: &str) -> Decision {
        let out = self.cli("present", &["--door", door, text]);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "present prints exactly one JSON line: {out:#?}\ndaemon stderr:\n{}",
            self.daemon_stderr()
        );
        let json: Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("present printed no JSON ({e}): {out:#?}"));
        for key in ["decision", "reason", "seq"] {
            assert!(
                json.get(key).is_some(),
                "present's JSON has `{key}`: {json}"
            );
        }
        Decision {
            json,
            code: out.code,
        }
    }

    /// `bygd-gateway status`, parsed.
    #[track_caller]
    pub(crate) fn status(&self) -> Value {
        let out = self.cli("status", &[]).ok();
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("status is not JSON: {e}"))
    }

    /// Whether the simulated relay of `door` says released right now (read over the socket).
    pub(crate) fn lock_released(&self, door: &str) -> bool {
        let status = self
            .request(&serde_json::json!({ "op": "status" }))
            .expect("status over the socket");
        status["simulated_lock_released"][door]
            .as_bool()
            .unwrap_or_else(|| panic!("no simulated lock for {door} in {status}"))
    }

    /// Waits until `condition` holds, failing with `what` after `timeout`.
    #[track_caller]
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut() -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !condition() {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; daemon stderr:\n{}",
                self.daemon_stderr()
            );
            std::thread::sleep(POLL);
        }
    }

    /// `bygd-gateway sim --door DOOR ACTION`.
    pub(crate) fn sim(&self, door: &str, action: &str) {
        self.cli("sim", &["--door", door, action]).ok();
    }

    /// `bygd-gateway lockdown --door DOOR on|off`.
    pub(crate) fn lockdown(&self, door: &str, on: bool) {
        let out = self
            .cli("lockdown", &["--door", door, if on { "on" } else { "off" }])
            .ok();
        let reply: Value = serde_json::from_str(out.stdout.trim()).expect("lockdown prints JSON");
        assert_eq!(reply["lockdown"], on, "{reply}");
    }

    /// `bygd-gateway revocations FILE` with these signed bytes written to a file first.
    pub(crate) fn revocations(&self, signed: &[u8]) -> Outcome {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let file = self.dir.path().join(format!(
            "revocations-{}.cose",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&file, signed).expect("write the revocation file");
        self.cli("revocations", &[file.to_str().expect("UTF-8 path")])
    }

    /// `bygd-gateway log --json`: every event, parsed.
    #[track_caller]
    pub(crate) fn log(&self) -> Vec<Value> {
        let out = self.cli("log", &["--json"]).ok();
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}")))
            .collect()
    }

    /// `bygd-gateway verify-log`, asserting the chain is intact; returns the events checked.
    #[track_caller]
    pub(crate) fn verify_log(&self) -> u64 {
        let out = self.cli("verify-log", &[]);
        assert_eq!(out.code, Some(0), "verify-log failed: {out:#?}");
        out.stdout
            .trim()
            .strip_prefix("OK: ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("verify-log output: {out:#?}"))
    }

    /// One raw request line on the control socket, and its reply.
    pub(crate) fn request(&self, request: &Value) -> std::io::Result<Value> {
        raw_request(&self.socket(), &format!("{request}\n"))
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends `line` on the control socket at `path` and reads one reply line as JSON.
pub(crate) fn raw_request(path: &Path, line: &str) -> std::io::Result<Value> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(COMMAND_TIMEOUT))?;
    stream.write_all(line.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    if reply.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the gateway closed the connection without a reply",
        ));
    }
    serde_json::from_str(&reply).map_err(std::io::Error::other)
}

/// Events of one type from a parsed log.
pub(crate) fn of_type<'a>(log: &'a [Value], kind: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["type"] == kind).collect()
}

/// The event with sequence number `seq`.
#[track_caller]
pub(crate) fn event(log: &[Value], seq: u64) -> &Value {
    log.iter()
        .find(|e| e["seq"] == seq)
        .unwrap_or_else(|| panic!("no event {seq} in the log"))
}
