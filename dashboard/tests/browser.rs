//! The web UI in a real browser: headless Chromium, driven over WebDriver, against the real
//! `bygd serve` and a real `bygd-gateway run` process (simulated doors) on mosquitto.
//!
//! An admin signs in, adds a member and issues a pass with the forms, the pass's QR code is
//! read from outside (fetched from the pass link and decoded), shown at the door, and the
//! entry appears on the overview that is already open; the pass is revoked and the door
//! refuses it; the entries are exported as CSV; a door forced open raises an alarm; the
//! language is switched with the picker. A form another origin posts is refused. Every page,
//! in each language, passes axe-core's serious checks, does not scroll sideways on a phone,
//! and is photographed at phone and desktop width under `target/screenshots/`. An operator
//! limited to one site never sees another site's member, door or entry, not even as it
//! arrives live.
//!
//! `bygd-gateway` is not a binary of this package: it is built next to `bygd` on first use.
//!
//! The tests are skipped (saying SKIPPED) without Chromium or mosquitto, unless
//! `BYGD_REQUIRE_CHROMIUM=1` and `BYGD_REQUIRE_MOSQUITTO=1` (as in CI). Every wait has a
//! deadline and says what it waited for and what the processes logged.

use bygd_dashboard::web::{Lang, Tr};
use bygd_testkit::browser::fantoccini::elements::Element;
use bygd_testkit::browser::fantoccini::{Client, Locator};
use bygd_testkit::browser::{assert_accessible, screenshot, Browser, DESKTOP, PHONE};
use bygd_testkit::{free_port, Broker as _, Mosquitto};
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The dashboard's binary, as cargo built it for these tests.
const BYGD: &str = env!("CARGO_BIN_EXE_bygd");
/// How long anything may take: a process to come up, an entry to cross the broker, a page
/// to change. Far more than any of it needs on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(45);
/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(100);
/// The gateway's MQTT heartbeat and keep-alive (seconds): quick, so that the dashboard sees
/// it online soon after it starts.
const GATEWAY_MQTT_TIMING: &str = "heartbeat_seconds = 1\nkeep_alive_seconds = 5\n";
/// How stale a phone's device proof may be at the gateways (seconds): a few seconds, so that
/// the test of a copied code waits half a minute for it to go stale, not a minute and a half.
const GATEWAY_PROOF_SKEW: &str = "proof_skew_seconds = 5\n";
/// The sites' time zone: its offset (+01:00 or +02:00) is in the CSV's local times.
const ZONE: &str = "Europe/Stockholm";

// ----------------------------------------------------------------------------------------
// The processes.

/// The `bygd-gateway` binary, next to `bygd` in the same target directory. It is not a
/// binary of this package, so cargo does not build it for these tests: it is built here
/// (once per test run, a no-op when fresh) with the same profile.
fn gateway_binary() -> PathBuf {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.as_ref() {
        return path.clone();
    }
    let bin_dir = Path::new(BYGD)
        .parent()
        .expect("the target profile directory");
    let path = bin_dir.join("bygd-gateway");
    if let Ok(cargo) = std::env::var("CARGO") {
        let profile = bin_dir
            .file_name()
            .and_then(|p| p.to_str())
            .expect("a profile directory name");
        let profile = if profile == "debug" { "dev" } else { profile };
        let target_dir = bin_dir.parent().expect("the target directory");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        let mut build = Command::new(cargo);
        // What cargo set for this test (its package's name, manifest directory, OUT_DIR…)
        // is not this build's: build scripts that watch those variables (ring's does) would
        // run again, and everything above them be rebuilt, here and in the next plain build.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_BIN_")
                || name.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&&*name)
            {
                build.env_remove(&*name);
            }
        }
        let out = build
            .current_dir(workspace)
            .args(["build", "-p", "bygd-gateway", "--bin", "bygd-gateway"])
            .args(["--profile", profile, "--target-dir"])
            .arg(target_dir)
            .output()
            .expect("run cargo build for bygd-gateway");
        assert!(
            out.status.success(),
            "cargo build -p bygd-gateway failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p bygd-gateway --bin bygd-gateway`",
        path.display()
    );
    *built = Some(path.clone());
    path
}

/// A child process, killed when dropped, whose stderr goes to a log file.
struct Running {
    what: String,
    child: std::process::Child,
    log: PathBuf,
}

impl Running {
    fn spawn(what: &str, command: &mut Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).expect("a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Self {
            what: what.to_owned(),
            child,
            log,
        }
    }

    /// What it logged, and how it ended if it did: for failure messages.
    fn report(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => format!("exited with {status}"),
            _ => "running".to_owned(),
        };
        format!(
            "--- {} ({status}) logged:\n{}",
            self.what,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A finished command's output, or a failure that shows it.
#[track_caller]
fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A gateway process with simulated doors.
struct Gateway {
    site: String,
    config: PathBuf,
    daemon: Running,
}

/// mosquitto, `bygd serve` on a fresh data directory, and gateways, each its own process.
struct System {
    url: String,
    port: u16,
    data: PathBuf,
    /// The admin's password, as `bygd init` printed it.
    password: String,
    gateways: Vec<Gateway>,
    serve: Running,
    broker: Mosquitto,
    _dir: tempfile::TempDir,
}

impl System {
    /// Starts everything; `gateways` are (site, gateway id, doors). `None` if mosquitto is
    /// missing and not required.
    fn start(test: &str, gateways: &[(&str, &str, &str)]) -> Option<Self> {
        let broker = Mosquitto::start(test)?;
        let gateway_binary = gateway_binary();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("dashboard");
        let init = Command::new(BYGD)
            .args(["init", "--mqtt", &broker.url(), "--data"])
            .arg(&data)
            .env_remove("BYGD_DATABASE_URL")
            .output()
            .expect("run bygd init");
        let printed = succeeded("bygd init", &init);
        let password = printed
            .lines()
            .find_map(|l| l.split_once("password (shown once): "))
            .map(|(_, p)| p.trim().to_owned())
            .unwrap_or_else(|| panic!("bygd init printed no admin password:\n{printed}"));

        // Each gateway: its key, registered with `bygd gateway add`, and the config that wrote
        // made local (files in the temporary directory, simulated doors, quick heartbeats).
        let mut configs = Vec::new();
        for (site, id, doors) in gateways {
            let gw_dir = dir.path().join(format!("{site}-{id}"));
            std::fs::create_dir_all(&gw_dir).expect("a gateway directory");
            let key = gw_dir.join("gateway.key");
            let keygen = Command::new(&gateway_binary)
                .args(["keygen", "--out"])
                .arg(&key)
                .output()
                .expect("run bygd-gateway keygen");
            let public_key = succeeded("bygd-gateway keygen", &keygen).trim().to_owned();
            let config = gw_dir.join("gateway.toml");
            let added = Command::new(BYGD)
                .args(["gateway", "add", "--site", site, "--id", id])
                .args(["--public-key", &public_key, "--doors", doors])
                .args(["--time-zone", ZONE, "--out"])
                .arg(&config)
                .arg("--data")
                .arg(&data)
                .env_remove("BYGD_DATABASE_URL")
                .output()
                .expect("run bygd gateway add");
            succeeded("bygd gateway add", &added);
            let d = gw_dir.display();
            let text = std::fs::read_to_string(&config)
                .expect("the config bygd gateway add wrote")
                .replace("/var/lib/bygd", &format!("{d}/data"))
                .replace("/etc/bygd/gateway.key", &key.display().to_string())
                .replace("/run/bygd/gateway.sock", &format!("{d}/gw.sock"))
                .replace("hardware = \"rppal\"", "hardware = \"simulated\"")
                .replace("[policy]\n", &format!("[policy]\n{GATEWAY_PROOF_SKEW}"));
            // The [mqtt] table is the file's last.
            assert!(text.contains("[mqtt]"), "no [mqtt] table in:\n{text}");
            std::fs::write(&config, format!("{text}\n{GATEWAY_MQTT_TIMING}"))
                .expect("write the gateway config");
            configs.push(((*site).to_owned(), config, gw_dir));
        }

        let port = free_port();
        let serve = serve_dashboard(&data, port, dir.path().join("serve.log"));
        let mut system = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            data,
            password,
            gateways: Vec::new(),
            serve,
            broker,
            _dir: dir,
        };
        system.wait("the dashboard's API, with its MQTT link up", |s| {
            http_get(s.port, "/api/v1/health").is_some_and(|(status, body)| {
                status == 200
                    && serde_json::from_slice::<Value>(&body)
                        .is_ok_and(|v| v["mqtt_connected"] == true)
            })
        });
        for (site, config, gw_dir) in configs {
            let daemon = Running::spawn(
                &format!("bygd-gateway run ({site})"),
                Command::new(&gateway_binary)
                    .args(["run", "--config"])
                    .arg(&config)
                    .env("BYGD_LOG", "info")
                    .env_remove("BYGD_GATEWAY_CONFIG"),
                gw_dir.join("daemon.log"),
            );
            system.gateways.push(Gateway {
                site,
                config,
                daemon,
            });
        }
        system.wait("every gateway online at the dashboard", |s| {
            let list = s.bygd(&["gateway", "list"]);
            list.lines().filter(|l| l.contains(" online ")).count() == s.gateways.len()
        });
        Some(system)
    }

    /// Stops `bygd serve`, as a server that is down or a phone that is offline sees it.
    fn stop_dashboard(&mut self) {
        let _ = self.serve.child.kill();
        let _ = self.serve.child.wait();
    }

    /// Starts `bygd serve` again on the same data and port (logging to `log_name`), and
    /// waits until it answers with its MQTT link up.
    fn restart_dashboard(&mut self, log_name: &str) {
        self.stop_dashboard();
        let log = self._dir.path().join(log_name);
        self.serve = serve_dashboard(&self.data, self.port, log);
        self.wait("the restarted dashboard, with its MQTT link up", |s| {
            http_get(s.port, "/api/v1/health").is_some_and(|(status, body)| {
                status == 200
                    && serde_json::from_slice::<Value>(&body)
                        .is_ok_and(|v| v["mqtt_connected"] == true)
            })
        });
    }

    /// Everything the processes logged, for a failure message.
    fn report(&mut self) -> String {
        let mut report = self.serve.report();
        for gateway in &mut self.gateways {
            report.push('\n');
            report.push_str(&gateway.daemon.report());
        }
        report.push_str("\n--- mosquitto logged:\n");
        report.push_str(&self.broker.log());
        report
    }

    /// Waits until `ready` holds, or fails saying what it waited for and what was logged.
    fn wait(&mut self, what: &str, mut ready: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !ready(self) {
            if Instant::now() > deadline {
                panic!(
                    "timed out after {PATIENCE:?} waiting for {what}\n{}",
                    self.report()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// `bygd ARGS --data DIR`, which must succeed; its output.
    fn bygd(&self, args: &[&str]) -> String {
        let out = Command::new(BYGD)
            .args(args)
            .arg("--data")
            .arg(&self.data)
            .env_remove("BYGD_DATABASE_URL")
            .env("BYGD_LOG", "warn")
            .output()
            .expect("run bygd");
        succeeded(&format!("bygd {args:?}"), &out)
    }

    fn gateway(&self, site: &str) -> &Gateway {
        self.gateways
            .iter()
            .find(|g| g.site == site)
            .unwrap_or_else(|| panic!("no gateway at {site}"))
    }

    /// `bygd-gateway present` at `site`'s gateway: whether the door opened, and the
    /// decision as printed.
    fn present(&self, site: &str, door: &str, text: &str) -> (bool, Value) {
        let out = Command::new(gateway_binary())
            .args(["present", "--door", door, "--config"])
            .arg(&self.gateway(site).config)
            .arg(text)
            .env_remove("BYGD_GATEWAY_CONFIG")
            .output()
            .expect("run bygd-gateway present");
        let printed = String::from_utf8_lossy(&out.stdout);
        let decision: Value = serde_json::from_str(printed.trim()).unwrap_or_else(|e| {
            panic!(
                "bygd-gateway present printed no decision ({e}): {printed}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        match out.status.code() {
            Some(0) => (true, decision),
            Some(1) => (false, decision),
            other => panic!("bygd-gateway present failed ({other:?}): {decision}"),
        }
    }

    /// Adds a member at `byn` and issues a pass with the CLI; the path of its link (the CLI
    /// names the configured public address, not this dashboard's port).
    fn member_with_link(&self, id: &str, name: &str) -> String {
        self.bygd(&["member", "add", "--id", id, "--name", name, "--site", "byn"]);
        let issued = Command::new(BYGD)
            .args([
                "pass", "issue", "--member", id, "--site", "byn", "--no-qr", "--data",
            ])
            .arg(&self.data)
            .env_remove("BYGD_DATABASE_URL")
            .output()
            .expect("run bygd pass issue");
        succeeded("bygd pass issue", &issued);
        let printed = String::from_utf8_lossy(&issued.stderr).into_owned();
        printed
            .lines()
            .find_map(|l| l.split_once("Pass page for the member's phone: "))
            .and_then(|(_, url)| url.find("/p/").map(|at| url[at..].trim().to_owned()))
            .unwrap_or_else(|| panic!("bygd pass issue printed no link:\n{printed}"))
    }

    /// Adds a member at `site` and issues a pass with the CLI; the pass's QR text.
    fn member_with_pass(&self, id: &str, site: &str) -> String {
        self.bygd(&["member", "add", "--id", id, "--name", id, "--site", site]);
        self.bygd(&["pass", "issue", "--member", id, "--site", site, "--no-qr"])
            .trim()
            .to_owned()
    }
}

/// `bygd serve` on `data`, listening on the loopback `port`.
fn serve_dashboard(data: &Path, port: u16, log: PathBuf) -> Running {
    Running::spawn(
        "bygd serve",
        Command::new(BYGD)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .env("BYGD_LOG", "info")
            .env_remove("BYGD_DATABASE_URL"),
        log,
    )
}

// ----------------------------------------------------------------------------------------
// HTTP from outside the browser.

/// One `GET` over HTTP/1.1 to the loopback port; (status, body), or `None` if nothing
/// answered.
fn http_get(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    http(port, "GET", path, None)
}

/// One JSON `POST` over HTTP/1.1 to the loopback port; (status, body), or `None` if nothing
/// answered.
fn http_post_json(port: u16, path: &str, body: &Value) -> Option<(u16, Vec<u8>)> {
    http(port, "POST", path, Some(body))
}

/// One request over HTTP/1.1 to the loopback port, with a JSON body if given.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Vec<u8>)> {
    let body = body.map(Value::to_string);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    )
    .ok()?;
    match &body {
        Some(body) => write!(
            stream,
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        None => write!(stream, "\r\n"),
    }
    .ok()?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).ok()?;
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&reply[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut answer = reply[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        answer = dechunk(&answer)?;
    }
    Some((status, answer))
}

/// The body of a chunked HTTP/1.1 message.
fn dechunk(mut chunked: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = chunked.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&chunked[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        chunked = &chunked[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(chunked.get(..size)?);
        chunked = chunked.get(size + 2..)?;
    }
}

/// The text of the one QR code in a PNG, read the way a phone's camera app reads it.
fn decode_qr(png_bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(png_bytes);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("the PNG's pixels");
    let (width, height) = (frame.width as usize, frame.height as usize);
    let per_pixel = frame.buffer_size() / (width * height);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        pixels[(y * width + x) * per_pixel]
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, text) = grids[0].decode().expect("a readable QR code");
    text
}

/// A page on another origin (another port of the same host) whose form posts a new member
/// to the dashboard, as a malicious page a signed-in operator visits would. The thread
/// serves it until the test process ends.
fn serve_hostile_page(dashboard: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = listener.local_addr().expect("its address").port();
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Win a prize</title>\
         </head><body><form method=\"post\" action=\"{dashboard}/members\">\
         <input type=\"hidden\" name=\"id\" value=\"mallory\">\
         <input type=\"hidden\" name=\"name\" value=\"Mallory\">\
         <input type=\"hidden\" name=\"site\" value=\"byn\">\
         <button type=\"submit\">Claim the prize</button></form></body></html>"
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/")
}

// ----------------------------------------------------------------------------------------
// A person at the browser: elements found by their label, role and text.

/// `text` as an XPath string literal.
fn literal(text: &str) -> String {
    if text.contains('"') {
        format!("'{text}'")
    } else {
        format!("\"{text}\"")
    }
}

/// The text of `key` in `lang`, as the page shows it.
fn say(lang: Lang, key: &str) -> String {
    Tr { lang }.get(key)
}

/// The first element `xpath` finds, or a failure naming `what` and the page.
async fn find(c: &Client, what: &str, xpath: &str) -> Element {
    match c.find(Locator::XPath(xpath)).await {
        Ok(element) => element,
        Err(e) => {
            let url = c.current_url().await.map(String::from).unwrap_or_default();
            panic!("no {what} on {url}: {e}")
        }
    }
}

/// The form field labelled `label`.
async fn field(c: &Client, label: &str) -> Element {
    let xpath = format!(
        "//*[@id=//label[normalize-space()={}]/@for]",
        literal(label)
    );
    find(c, &format!("field labelled `{label}`"), &xpath).await
}

/// Types `value` into the field labelled `label`.
async fn fill(c: &Client, label: &str, value: &str) {
    let input = field(c, label).await;
    input.clear().await.expect("clear the field");
    input.send_keys(value).await.expect("type into the field");
}

/// Ticks the checkbox or radio button labelled `label`.
async fn tick(c: &Client, label: &str) {
    let xpath = format!("//label[normalize-space()={}]/input", literal(label));
    let input = find(c, &format!("box labelled `{label}`"), &xpath).await;
    if !input.is_selected().await.expect("whether it is ticked") {
        input.click().await.expect("tick it");
    }
}

/// Presses the button that says `text` (the first, if several do).
async fn press(c: &Client, text: &str) {
    let xpath = format!("(//button[normalize-space()={}])[1]", literal(text));
    find(c, &format!("button `{text}`"), &xpath)
        .await
        .click()
        .await
        .expect("press the button");
}

/// Follows the link that says `text`.
async fn follow(c: &Client, text: &str) {
    let xpath = format!("(//a[normalize-space()={}])[1]", literal(text));
    find(c, &format!("link `{text}`"), &xpath)
        .await
        .click()
        .await
        .expect("follow the link");
}

/// Runs `script` (a JavaScript expression) in the page until it is true.
async fn wait_until(c: &Client, what: &str, script: &str) {
    wait_until_or(c, what, script, String::new).await;
}

/// [`wait_until`], with `context()` in the failure message.
async fn wait_until_or(c: &Client, what: &str, script: &str, context: impl FnOnce() -> String) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = c
            .execute(&format!("return Boolean({script});"), vec![])
            .await;
        if value.as_ref().is_ok_and(|v| v == &Value::Bool(true)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for {what} (`{script}`: {value:?}); the page:\n{}\n{}",
            c.source().await.unwrap_or_default(),
            context()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the page at `path` (path and query) has loaded.
async fn wait_at(c: &Client, path: &str) {
    let script = format!(
        "location.pathname + location.search === {} && document.readyState === 'complete'",
        serde_json::to_string(path).unwrap()
    );
    wait_until(c, &format!("the page {path}"), &script).await;
}

/// The main heading's text.
async fn heading(c: &Client) -> String {
    find(c, "main heading", "//h1")
        .await
        .text()
        .await
        .expect("the heading's text")
}

/// The HTTP status of the page shown (the browser's own record of its navigation).
async fn page_status(c: &Client) -> u64 {
    c.execute(
        "return performance.getEntriesByType('navigation')[0].responseStatus;",
        vec![],
    )
    .await
    .expect("the navigation's status")
    .as_u64()
    .expect("a status number")
}

/// Fetches `href` from the page, with the browser's cookies, as the page's own link would.
async fn fetch_text(c: &Client, href: &str) -> (u64, String) {
    let reply = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { credentials: 'same-origin' })
               .then(r => r.text().then(t => done([r.status, t])))
               .catch(e => done([0, String(e)]));",
            vec![Value::String(href.to_owned())],
        )
        .await
        .expect("fetch in the page");
    (
        reply[0].as_u64().unwrap_or(0),
        reply[1].as_str().unwrap_or("").to_owned(),
    )
}

/// Signs in on the sign-in page shown, in `lang`.
async fn sign_in(c: &Client, lang: Lang, name: &str, password: &str) {
    fill(c, &say(lang, "login-name"), name).await;
    fill(c, &say(lang, "login-password"), password).await;
    press(c, &say(lang, "login-submit")).await;
    wait_until(
        c,
        "the first page after signing in",
        "location.pathname !== '/login' && document.readyState === 'complete'",
    )
    .await;
}

/// Changes the language with the picker in the page's header (or on the sign-in page).
async fn pick_language(c: &Client, from: Lang, to: Lang) {
    let picker = field(c, &say(from, "language")).await;
    picker
        .select_by_value(to.code())
        .await
        .expect("choose the language");
    press(c, &say(from, "language-choose")).await;
    wait_until(
        c,
        &format!("the page in {}", to.code()),
        &format!(
            "document.documentElement.lang === '{}' && document.readyState === 'complete'",
            to.code()
        ),
    )
    .await;
}

/// Whether the overview's live part is listening to the server's events (htmx's SSE
/// extension keeps its EventSource on the element).
const LIVE_CONNECTED: &str = "(() => { const live = document.getElementById('live'); \
     const data = live && live['htmx-internal-data']; \
     return !!(data && data.sseEventSource && data.sseEventSource.readyState === 1); })()";

// ----------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_issues_a_pass_the_door_opens_for_it_live_and_refuses_it_once_revoked() {
    let test = "an_admin_issues_a_pass_the_door_opens_for_it_live_and_refuses_it_once_revoked";
    let Some(browser) = Browser::start(test) else {
        return;
    };
    let Some(mut system) = System::start(test, &[("byn", "gw1", "front,workshop")]) else {
        return;
    };
    let base = system.url.clone();
    let en = Lang::En;
    let c = browser.window(DESKTOP, "en").await;

    // Sign in: the dashboard sends a visitor to the sign-in page, then back.
    c.goto(&format!("{base}/members")).await.unwrap();
    wait_until(&c, "the sign-in page", "location.pathname === '/login'").await;
    assert_eq!(heading(&c).await, say(en, "login-title"));
    sign_in(&c, en, "admin", &system.password).await;
    wait_at(&c, "/members").await;

    // A member, with the form.
    follow(&c, &say(en, "member-add")).await;
    wait_at(&c, "/members/new").await;
    fill(&c, &say(en, "member-name"), "Anna Åberg").await;
    fill(&c, &say(en, "member-id"), "anna").await;
    fill(&c, &say(en, "member-email"), "anna@example.org").await;
    tick(&c, "byn").await;
    press(&c, &say(en, "member-add")).await;
    wait_at(&c, "/members/anna").await;
    assert_eq!(heading(&c).await, "Anna Åberg");

    // A pass for the front door, at any time, with the form.
    follow(&c, &say(en, "pass-issue")).await;
    wait_at(&c, "/passes/new?member=anna").await;
    tick(&c, "byn / front").await;
    tick(&c, &say(en, "schedule-always")).await;
    press(&c, &say(en, "pass-issue")).await;
    wait_until(&c, "the issued pass", "location.pathname === '/passes'").await;
    assert_eq!(heading(&c).await, say(en, "pass-issued"));
    let qr = find(
        &c,
        "QR code image",
        &format!("//img[@alt={}]", literal(&say(en, "pass-qr-alt"))),
    )
    .await;
    let src = qr.attr("src").await.unwrap().unwrap_or_default();
    assert!(src.starts_with("data:image/svg+xml,"), "{src}");
    wait_until(
        &c,
        "the QR code drawn (the CSP lets data: images through)",
        "[...document.images].some(i => i.complete && i.naturalWidth > 0)",
    )
    .await;
    let link = field(&c, &say(en, "pass-link"))
        .await
        .prop("value")
        .await
        .unwrap()
        .expect("the pass link");
    let link_path = link
        .strip_prefix(&base)
        .unwrap_or_else(|| panic!("the pass link {link} is not on {base}"))
        .to_owned();
    assert!(link_path.starts_with("/p/"), "{link}");
    let details = find(
        &c,
        "link to the pass's details",
        &format!(
            "//a[normalize-space()={}]",
            literal(&say(en, "pass-details"))
        ),
    )
    .await
    .attr("href")
    .await
    .unwrap()
    .expect("an href");
    assert!(details.starts_with("/passes/"), "{details}");
    assert_accessible(&c, "the issued pass").await;

    // The member opens the link: their page shows the code; its PNG, read from outside,
    // holds the pass the door checks.
    c.goto(&link).await.unwrap();
    wait_until(
        &c,
        "the member's pass page",
        "document.querySelector('svg') !== null",
    )
    .await;
    assert_accessible(&c, "the member's pass page").await;
    let (status, png) = http_get(system.port, &format!("{link_path}/qr.png")).expect("an answer");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    let pass_text = decode_qr(&png);
    assert!(pass_text.starts_with("BYGD1"), "{pass_text}");

    // The overview is open and listening when the member comes to the door.
    c.goto(&format!("{base}/")).await.unwrap();
    wait_at(&c, "/").await;
    wait_until(&c, "the overview listening for changes", LIVE_CONNECTED).await;
    c.execute("window.bygdSameVisit = true;", vec![])
        .await
        .unwrap();
    let (granted, decision) = system.present("byn", "front", &pass_text);
    assert!(granted, "the door refused a fresh pass: {decision}");
    wait_until_or(
        &c,
        "the entry on the overview",
        "[...document.querySelectorAll('#live table.entries tbody tr')].some(r => \
         r.textContent.includes('anna') && r.textContent.includes('front') && \
         r.querySelector('.badge.ok'))",
        || {
            format!(
                "the dashboard's audit:\n{}\n{}",
                system.bygd(&["audit", "--csv"]),
                system.report()
            )
        },
    )
    .await;
    assert_eq!(
        c.execute("return window.bygdSameVisit === true;", vec![])
            .await
            .unwrap(),
        Value::Bool(true),
        "the overview was reloaded instead of updated in place"
    );

    // Revoked on its page, after a question; the door then refuses it.
    c.goto(&format!("{base}{details}")).await.unwrap();
    wait_at(&c, &details).await;
    follow(&c, &say(en, "pass-revoke")).await;
    wait_at(&c, &format!("{details}/revoke")).await;
    press(&c, &say(en, "pass-revoke")).await;
    wait_at(&c, &details).await;
    let revoked = find(&c, "revoked badge", "//h1//span")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(revoked, say(en, "revoked"));
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (granted, decision) = system.present("byn", "front", &pass_text);
        if !granted {
            assert_eq!(decision["decision"], "denied", "{decision}");
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "the door still opens for the revoked pass after {PATIENCE:?}: {decision}\n{}",
                system.report()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The entries, exported as CSV with the page's own link: times in the site's zone.
    c.goto(&format!("{base}/entries")).await.unwrap();
    wait_at(&c, "/entries").await;
    let export = find(
        &c,
        "CSV export link",
        &format!(
            "//a[normalize-space()={}]",
            literal(&say(en, "entries-export"))
        ),
    )
    .await
    .attr("href")
    .await
    .unwrap()
    .expect("an href");
    assert!(export.starts_with("/api/v1/entries.csv"), "{export}");
    let (status, csv) = fetch_text(&c, &export).await;
    assert_eq!(status, 200, "{csv}");
    let header: Vec<&str> = csv.lines().next().unwrap_or("").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    let (member, outcome, local) = (column("member"), column("outcome"), column("local_time"));
    let granted_line = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f.get(member) == Some(&"anna") && f.get(outcome) == Some(&"granted"))
        .unwrap_or_else(|| panic!("no granted entry of anna in the export:\n{csv}"));
    let local_time = granted_line[local];
    assert!(
        local_time.ends_with("+01:00") || local_time.ends_with("+02:00"),
        "local_time {local_time} is not in Stockholm's offset"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(",anna,") && l.contains(",denied,")),
        "the refusal is exported too:\n{csv}"
    );

    // A door forced open raises an alarm, with a page of its own. (The workshop: the front
    // door may still be released by the last entry.)
    let gw1 = system.gateway("byn").config.clone();
    for action in ["open", "close"] {
        let out = Command::new(gateway_binary())
            .args(["sim", "--door", "workshop", action, "--config"])
            .arg(&gw1)
            .output()
            .expect("run bygd-gateway sim");
        succeeded(&format!("bygd-gateway sim {action}"), &out);
    }
    let mut alarm = String::new();
    let deadline = Instant::now() + PATIENCE;
    while alarm.is_empty() {
        c.goto(&format!("{base}/alarms?all=1")).await.unwrap();
        wait_at(&c, "/alarms?all=1").await;
        if let Ok(a) = c
            .find(Locator::XPath("//a[starts-with(@href, '/alarms/')]"))
            .await
        {
            alarm = a.attr("href").await.unwrap().unwrap_or_default();
        } else if Instant::now() > deadline {
            panic!(
                "no alarm for the forced door after {PATIENCE:?}\n{}",
                system.report()
            );
        } else {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // A form on another origin that posts to the dashboard is refused, and adds nobody.
    let hostile = serve_hostile_page(&base);
    c.goto(&hostile).await.unwrap();
    press(&c, "Claim the prize").await;
    wait_until(
        &c,
        "the dashboard's answer to the hostile form",
        &format!("location.href === '{base}/members' && document.readyState === 'complete'"),
    )
    .await;
    assert_eq!(page_status(&c).await, 403, "{}", c.source().await.unwrap());
    assert!(c.source().await.unwrap().contains("cross_site"));
    c.goto(&format!("{base}/members/mallory")).await.unwrap();
    assert_eq!(page_status(&c).await, 404, "the hostile form added mallory");
    c.goto(&format!("{base}/members")).await.unwrap();
    wait_at(&c, "/members").await;
    assert!(!c.source().await.unwrap().contains("mallory"));

    // The language, with the picker: Swedish, Danish, and back.
    c.goto(&format!("{base}/")).await.unwrap();
    wait_at(&c, "/").await;
    pick_language(&c, en, Lang::Sv).await;
    wait_at(&c, "/").await;
    assert_eq!(heading(&c).await, "Översikt");
    pick_language(&c, Lang::Sv, Lang::Da).await;
    assert_eq!(heading(&c).await, say(Lang::Da, "overview-title"));
    pick_language(&c, Lang::Da, en).await;
    assert_eq!(heading(&c).await, "Overview");

    // Every page, in every language, at both widths: axe-core's checks and a screenshot.
    let pages = [
        ("overview", "/".to_owned()),
        ("members", "/members".to_owned()),
        ("member", "/members/anna".to_owned()),
        ("member-new", "/members/new".to_owned()),
        ("passes", "/passes?all=1".to_owned()),
        ("pass-new", "/passes/new?member=anna".to_owned()),
        ("pass", details.clone()),
        ("door", "/doors/byn/gw1/front".to_owned()),
        ("entries", "/entries".to_owned()),
        ("alarms", "/alarms?all=1".to_owned()),
        ("alarm", alarm.clone()),
        ("admin", "/admin".to_owned()),
        ("admin-tokens", "/admin/tokens".to_owned()),
        ("admin-gateways", "/admin/gateways".to_owned()),
        ("admin-trail", "/admin/trail".to_owned()),
        ("admin-site", "/admin/sites/byn".to_owned()),
    ];
    let mut shots = tour(&c, &base, "desktop", &system.password, &pages).await;
    c.close().await.unwrap();
    let phone = browser.window(PHONE, "en").await;
    shots += tour(&phone, &base, "phone", &system.password, &pages).await;
    phone.close().await.unwrap();
    assert_eq!(
        shots,
        2 * 3 * (pages.len() + 4),
        "a screenshot of every page"
    );
}

/// axe-core's serious checks, a page no wider than the window (nothing to scroll sideways
/// on a phone: WCAG's reflow), and a screenshot named `name`.
async fn check_page(c: &Client, name: &str) {
    assert_accessible(c, name).await;
    let overflow = c
        .execute(
            "return [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                            && !e.closest('.table-wrap, .sr-only, .skip'))
               .slice(0, 5).map(e => e.outerHTML.slice(0, 160));",
            vec![],
        )
        .await
        .expect("measure the page");
    assert_eq!(
        overflow,
        Value::Array(Vec::new()),
        "{name}: these stick out of the window, so the page scrolls sideways"
    );
    screenshot(c, name).await;
}

/// Signs out (if signed in), then visits the sign-in page and every page of `pages` in each
/// language, switched with the pickers, and issues a pass in each, then opens the last pass's
/// link: [`check_page`] on every page. Returns how many screenshots it took.
async fn tour(
    c: &Client,
    base: &str,
    width: &str,
    password: &str,
    pages: &[(&str, String)],
) -> usize {
    let mut shots = 0;
    let mut lang = Lang::En;
    c.goto(&format!("{base}/")).await.unwrap();
    wait_until(c, "a page", "document.readyState === 'complete'").await;
    if let Ok(out) = c
        .find(Locator::XPath(&format!(
            "//button[normalize-space()={}]",
            literal(&say(lang, "sign-out"))
        )))
        .await
    {
        out.click().await.unwrap();
        wait_until(c, "signed out", "location.pathname === '/login'").await;
    }
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_at(c, "/login").await;
    let mut link = String::new();
    for next in Lang::ALL {
        if next != lang {
            pick_language(c, lang, next).await;
            lang = next;
        }
        let name = format!("login-{}-{width}", lang.code());
        check_page(c, &name).await;
        shots += 1;
    }
    sign_in(c, lang, "admin", password).await;
    for next in Lang::ALL {
        if next != lang {
            pick_language(c, lang, next).await;
            lang = next;
        }
        for (page, path) in pages {
            c.goto(&format!("{base}{path}")).await.unwrap();
            wait_at(c, path).await;
            let name = format!("{page}-{}-{width}", lang.code());
            assert_eq!(page_status(c).await, 200, "{name}");
            check_page(c, &name).await;
            shots += 1;
        }
        // The issued pass exists only as the answer to the form.
        c.goto(&format!("{base}/passes/new?member=anna"))
            .await
            .unwrap();
        wait_at(c, "/passes/new?member=anna").await;
        tick(c, &say(lang, "schedule-always")).await;
        press(c, &say(lang, "pass-issue")).await;
        wait_until(c, "the issued pass", "location.pathname === '/passes'").await;
        assert_eq!(heading(c).await, say(lang, "pass-issued"));
        let name = format!("pass-issued-{}-{width}", lang.code());
        check_page(c, &name).await;
        shots += 1;
        link = field(c, &say(lang, "pass-link"))
            .await
            .prop("value")
            .await
            .unwrap()
            .expect("the pass link");
        // The pass's own page while it is valid: with its renewal form.
        follow(c, &say(lang, "pass-details")).await;
        wait_until(
            c,
            "the issued pass's page",
            "location.pathname.startsWith('/passes/')",
        )
        .await;
        check_page(c, &format!("pass-valid-{}-{width}", lang.code())).await;
        shots += 1;
    }
    // The member's own page behind the link, in each language, as their phone shows it.
    for each in Lang::ALL {
        c.goto(&format!("{link}?lang={}", each.code()))
            .await
            .unwrap();
        wait_until(
            c,
            "the member's pass page",
            &format!(
                "location.pathname.startsWith('/p/') && document.documentElement.lang === '{}' \
                 && !document.getElementById('app-enrol').hidden",
                each.code()
            ),
        )
        .await;
        check_page(c, &format!("member-pass-{}-{width}", each.code())).await;
        shots += 1;
    }
    shots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_limited_to_one_site_never_sees_another_sites_member_door_or_entry() {
    let test = "an_operator_limited_to_one_site_never_sees_another_sites_member_door_or_entry";
    let Some(browser) = Browser::start(test) else {
        return;
    };
    let Some(mut system) = System::start(
        test,
        &[
            ("byn", "gw1", "front,workshop"),
            ("hus", "gw9", "secretdoor"),
        ],
    ) else {
        return;
    };
    let base = system.url.clone();
    let anna = system.member_with_pass("anna", "byn");
    let hidden = system.member_with_pass("hidden-member", "hus");
    let account = system.bygd(&[
        "account", "add", "--name", "olle", "--role", "operator", "--sites", "byn",
    ]);
    let password = account
        .split_once("password (shown once): ")
        .map(|(_, p)| p.trim().to_owned())
        .unwrap_or_else(|| panic!("no password in: {account}"));

    let c = browser.window(DESKTOP, "en").await;
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_at(&c, "/login").await;
    sign_in(&c, Lang::En, "olle", &password).await;
    wait_at(&c, "/").await;
    wait_until(&c, "the overview listening for changes", LIVE_CONNECTED).await;

    // Entries at both sites arrive while the operator watches the overview.
    assert!(
        system.present("hus", "secretdoor", &hidden).0,
        "hus refused its member"
    );
    assert!(
        system.present("byn", "front", &anna).0,
        "byn refused its member"
    );
    system.wait("both entries stored at the dashboard", |s| {
        let csv = s.bygd(&["audit", "--csv"]);
        csv.contains("hidden-member") && csv.contains(",anna,")
    });
    // A later entry refreshes the live part after both were stored.
    assert!(
        system.present("byn", "front", &anna).0,
        "byn refused its member"
    );
    wait_until(
        &c,
        "both of anna's entries on the overview",
        "[...document.querySelectorAll('#live table.entries tbody tr')]\
         .filter(r => r.textContent.includes('anna')).length >= 2",
    )
    .await;

    let secrets = [
        "hidden-member",
        "secretdoor",
        "gw9",
        ">hus<",
        "hus /",
        "hus/",
    ];
    let live = c
        .execute("return document.getElementById('live').innerHTML;", vec![])
        .await
        .unwrap();
    let live = live.as_str().unwrap_or("");
    for secret in secrets {
        assert!(
            !live.contains(secret),
            "the live overview shows `{secret}`: {live}"
        );
    }

    let pages = [
        "/",
        "/members",
        "/members?q=hidden",
        "/members/anna",
        "/members/new",
        "/passes",
        "/passes?all=1",
        "/passes/new",
        "/passes/new?member=anna",
        "/doors/byn/gw1/front",
        "/entries",
        "/entries?site=hus",
        "/alarms",
        "/alarms?all=1",
        "/live/overview",
    ];
    for path in pages {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_at(&c, path).await;
        let source = c.source().await.unwrap();
        for secret in secrets {
            assert!(
                !source.contains(secret),
                "{path} shows `{secret}`:\n{source}"
            );
        }
    }
    // A filter the operator types is shown back to them; the entries are still not there.
    c.goto(&format!("{base}/entries?member=hidden-member"))
        .await
        .unwrap();
    wait_at(&c, "/entries?member=hidden-member").await;
    let found = c
        .find_all(Locator::XPath("//table//a[contains(@href, '/members/')]"))
        .await
        .unwrap();
    assert!(found.is_empty(), "another site's entries are listed");
    assert!(!c.source().await.unwrap().contains("secretdoor"));
    // Its own are there: the filter is not simply empty.
    c.goto(&format!("{base}/entries")).await.unwrap();
    wait_at(&c, "/entries").await;
    assert!(c.source().await.unwrap().contains("href=\"/members/anna\""));

    for path in ["/members/hidden-member", "/doors/hus/gw9/secretdoor"] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_at(&c, path).await;
        assert_eq!(page_status(&c).await, 404, "{path}");
    }
    let (status, csv) = fetch_text(&c, "/api/v1/entries.csv").await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.contains(",anna,"), "{csv}");
    for secret in ["hidden-member", "secretdoor", "gw9", ",hus,"] {
        assert!(!csv.contains(secret), "the export holds `{secret}`:\n{csv}");
    }
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_check_finds_problems_where_there_are_some() {
    let Some(browser) =
        Browser::start("the_accessibility_check_finds_problems_where_there_are_some")
    else {
        return;
    };
    let c = browser.window(PHONE, "en").await;
    // An image without a text alternative, grey on white, and a field with no label.
    c.goto(
        "data:text/html,<!doctype html><html lang=en><title>bad</title><main>\
         <img src=x.png width=10 height=10><p style='color:%23bbb'>faint</p>\
         <input name=q></main></html>",
    )
    .await
    .unwrap();
    let found: Vec<String> = bygd_testkit::browser::axe(&c)
        .await
        .into_iter()
        .map(|v| format!("{} {}", v.impact, v.id))
        .collect();
    for expected in [
        "critical image-alt",
        "serious color-contrast",
        "critical label",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "axe-core missed `{expected}`: {found:?}"
        );
    }
    c.close().await.unwrap();
}

/// The code the pass app shows now, as the page holds it (`data-code` of `#pass-code`).
const SHOWN_CODE: &str = "((document.getElementById('pass-code') || {}).dataset?.code || '')";

/// Reads the pass app's code off the screen: a screenshot of the code, decoded as a door's
/// scanner would, must be the text the page says it drew.
async fn code_on_screen(c: &Client) -> String {
    let shown = c
        .execute(&format!("return {SHOWN_CODE};"), vec![])
        .await
        .unwrap();
    let shown = shown.as_str().unwrap_or_default().to_owned();
    let image = find(c, "the pass app's code", "//*[@id='pass-code']")
        .await
        .screenshot()
        .await
        .expect("a screenshot of the code");
    let read = decode_qr(&image);
    assert_eq!(
        read, shown,
        "the code on screen is not the one the page drew"
    );
    read
}

/// The time step (30 s) and counter of a device-bound presentation.
fn step_and_counter(text: &str) -> (u64, u64) {
    let presentation = bygd_protocol::decode_qr(text).expect("a bygd code");
    let proof = presentation.proof.expect("a device proof");
    (proof.time_step, proof.counter)
}

/// The pass the app shows now (`data-pass-id`).
async fn shown_pass_id(c: &Client) -> String {
    c.execute(
        "return document.getElementById('pass-app').dataset.passId;",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap()
    .to_owned()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_keeps_the_pass_on_the_phone_and_its_changing_code_opens_the_door_but_no_copy_does(
) {
    let test = "a_member_keeps_the_pass_on_the_phone_and_its_changing_code_opens_the_door_but_no_copy_does";
    let Some(browser) = Browser::start(test) else {
        return;
    };
    let Some(mut system) = System::start(test, &[("byn", "gw1", "front")]) else {
        return;
    };
    let sv = Lang::Sv;
    system.bygd(&[
        "member", "add", "--id", "maja", "--name", "Maja Ek", "--site", "byn",
    ]);
    let issued = Command::new(BYGD)
        .args([
            "pass", "issue", "--member", "maja", "--site", "byn", "--no-qr", "--data",
        ])
        .arg(&system.data)
        .env_remove("BYGD_DATABASE_URL")
        .output()
        .expect("run bygd pass issue");
    let bare_text = succeeded("bygd pass issue", &issued).trim().to_owned();
    let printed = String::from_utf8_lossy(&issued.stderr).into_owned();
    let link = printed
        .lines()
        .find_map(|l| l.split_once("Pass page for the member's phone: "))
        .map(|(_, url)| url.trim().to_owned())
        .unwrap_or_else(|| panic!("bygd pass issue printed no link:\n{printed}"));
    // The CLI builds links on the configured public address; this dashboard listens on
    // another port.
    let link_path = link[link.find("/p/").expect("a /p/ link")..].to_owned();
    let link = format!("{}{link_path}", system.url);

    // The member's phone is in Swedish: the link opens the pass app in Swedish, with the
    // plain code and the offer to keep the pass on this phone, and it is installable.
    let phone = browser.window(PHONE, "sv").await;
    phone.goto(&link).await.unwrap();
    wait_until(
        &phone,
        "the pass app offering to keep the pass on the phone",
        "document.getElementById('app-enrol') && !document.getElementById('app-enrol').hidden",
    )
    .await;
    assert_eq!(
        phone
            .execute("return document.documentElement.lang;", vec![])
            .await
            .unwrap(),
        "sv"
    );
    assert_eq!(heading(&phone).await, "Maja Ek");
    let manifest_href = phone
        .execute(
            "return document.querySelector('link[rel=manifest]').href;",
            vec![],
        )
        .await
        .unwrap();
    let (status, fetched) = fetch_text(&phone, manifest_href.as_str().unwrap()).await;
    assert_eq!(status, 200, "{fetched}");
    let manifest: Value = serde_json::from_str(&fetched).expect("the manifest is JSON");
    assert_eq!(manifest["display"], "standalone", "{manifest}");
    assert_eq!(manifest["start_url"], link_path, "{manifest}");
    wait_until(
        &phone,
        "the service worker in charge of the page",
        "navigator.serviceWorker.controller !== null",
    )
    .await;
    assert_accessible(&phone, "the member's pass app, before enrolment").await;
    screenshot(&phone, "pass-app-bare-sv").await;

    // One press: the phone makes its key and enrols it; the page then draws its changing
    // code, read off the screen.
    press(&phone, &say(sv, "pass-app-enrol-button")).await;
    wait_until(
        &phone,
        "the first device-bound code",
        &format!("{SHOWN_CODE}.startsWith('BYGD1D:')"),
    )
    .await;
    let first = code_on_screen(&phone).await;
    assert_accessible(&phone, "the member's pass app, enrolled").await;
    screenshot(&phone, "pass-app-enrolled-sv").await;

    // The browser's signature, checked with the protocol crate directly: the pass names the
    // browser's key, the proof verifies under it, for now's time step.
    let presentation = bygd_protocol::decode_qr(&first).expect("a bygd code");
    let pass_bytes = presentation.pass.clone();
    let config = std::fs::read_to_string(&system.gateway("byn").config).unwrap();
    let issuer_hex = config
        .lines()
        .find_map(|l| l.strip_prefix("public_key = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the issuer key in the gateway config");
    let mut issuers = bygd_protocol::TrustedKeys::new();
    issuers.insert(bygd_protocol::PublicKey::from_hex(issuer_hex).unwrap());
    let now = unix_now();
    let site = bygd_protocol::SiteId::new("byn").unwrap();
    let door = bygd_protocol::DoorId::new("front").unwrap();
    let at = bygd_protocol::AccessContext {
        now: bygd_protocol::UnixTime(now),
        site: &site,
        door: &door,
        local: bygd_protocol::WeekTime::from_unix_with_offset(bygd_protocol::UnixTime(now), 0),
    };
    let verified = bygd_protocol::verify_presentation(&presentation, &issuers, &(), &(), &at, 60)
        .unwrap_or_else(|e| panic!("the browser's presentation does not verify: {e:?}"));
    assert!(verified.pass.claims.device_key.is_some());
    let (step, counter) = step_and_counter(&first);
    assert!(step.abs_diff(now / 30) <= 1, "time step {step} at {now}");
    assert!(counter >= 1);

    // The gateway, a separate process, grants it; the same code again is a replay.
    phone
        .execute("window.bygdSameVisit = true;", vec![])
        .await
        .unwrap();
    let (granted, decision) = system.present("byn", "front", &first);
    assert!(
        granted,
        "the door refused the app's fresh code: {decision}\n{}",
        system.report()
    );
    let (granted, decision) = system.present("byn", "front", &first);
    assert!(!granted, "a replayed code opened the door: {decision}");
    assert_eq!(decision["reason"], "replayed_proof", "{decision}");

    // A second browser (another profile, no key) opening the same link cannot enrol, and
    // the server refuses another key for the link.
    let other = browser.window(PHONE, "en").await;
    other.goto(&link).await.unwrap();
    wait_until(
        &other,
        "the second browser told the pass is kept on another phone",
        "!document.getElementById('app-msg-other-device').hidden",
    )
    .await;
    let none_drawn = other
        .execute(&format!("return {SHOWN_CODE};"), vec![])
        .await
        .unwrap();
    assert_eq!(none_drawn, "", "the second browser drew a code");
    let stranger = bygd_protocol::DeviceSecretKey::from_bytes(&[9; 32]).unwrap();
    let key = serde_json::json!({ "public_key": hex::encode(stranger.public_key().to_sec1()) });
    let (status, body) = http_post_json(system.port, &format!("{link_path}/enrol"), &key).unwrap();
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    other.close().await.unwrap();

    // The old plain code (a screenshot of the page before enrolment) stops opening the door
    // once the gateway has the list that revokes it.
    system.wait(
        "the gateway refusing the plain code the enrolment revoked",
        |s| {
            let (granted, decision) = s.present("byn", "front", &bare_text);
            !granted && decision["reason"] == "revoked"
        },
    );

    // A code captured from the screen and never used: after its time step and the skew,
    // it is stale. The page draws the next one at the next step.
    wait_until_or(
        &phone,
        "the next code, at the next time step",
        &format!(
            "{SHOWN_CODE} !== '' && {SHOWN_CODE} !== {}",
            serde_json::json!(first)
        ),
        || system.report(),
    )
    .await;
    let captured = code_on_screen(&phone).await;
    let (captured_step, captured_counter) = step_and_counter(&captured);
    let same_visit = phone
        .execute("return window.bygdSameVisit === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_visit, true,
        "the page reloaded instead of drawing the next code"
    );
    assert!(
        captured_counter > counter,
        "the counter went {counter} -> {captured_counter}"
    );
    assert_eq!(
        bygd_protocol::decode_qr(&captured).unwrap().pass,
        pass_bytes
    );

    // Offline: the dashboard stops; a reload still shows the pass and draws its codes.
    system.stop_dashboard();
    phone.refresh().await.unwrap();
    wait_until(
        &phone,
        "the pass app opening offline with a fresh code",
        &format!(
            "!document.getElementById('app-msg-offline').hidden && {SHOWN_CODE}.startsWith('BYGD1D:') && {SHOWN_CODE} !== {}",
            serde_json::json!(captured)
        ),
    )
    .await;
    assert_eq!(heading(&phone).await, "Maja Ek");
    let offline_code = code_on_screen(&phone).await;
    assert!(step_and_counter(&offline_code).1 > captured_counter);
    screenshot(&phone, "pass-app-offline-sv").await;

    // Half a minute later the captured code is stale at the door.
    let stale_from = (captured_step + 1) * 30 + 5 + 1;
    while unix_now() < stale_from {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (granted, decision) = system.present("byn", "front", &captured);
    assert!(
        !granted,
        "a captured code opened the door after the skew window: {decision}"
    );
    assert_eq!(decision["reason"], "stale_proof", "{decision}");

    // Back online, an operator renews the pass: the app picks the new pass up by itself,
    // under the same link and with the same key, and its code opens the door.
    system.restart_dashboard("serve-2.log");
    let enrolled_id = shown_pass_id(&phone).await;
    system.bygd(&["pass", "renew", &enrolled_id, "--until", "+60d"]);
    wait_until_or(
        &phone,
        "the app showing the renewed pass",
        &format!(
            "document.getElementById('pass-app').dataset.passId !== '{enrolled_id}' && {SHOWN_CODE}.startsWith('BYGD1D:')"
        ),
        || system.report(),
    )
    .await;
    let renewed_code = code_on_screen(&phone).await;
    let renewed = bygd_protocol::decode_qr(&renewed_code).unwrap();
    assert_ne!(renewed.pass, pass_bytes, "the renewed pass is a new pass");
    let renewed_claims = bygd_protocol::open_pass(&renewed.pass, &issuers)
        .unwrap()
        .claims;
    assert_eq!(
        renewed_claims.device_key, verified.pass.claims.device_key,
        "the renewed pass names the same phone key"
    );
    assert!(renewed_claims.expires.0 > now + 59 * 86_400);
    let (granted, decision) = system.present("byn", "front", &renewed_code);
    assert!(granted, "the renewed pass's code was refused: {decision}");

    // Then it is revoked: the app learns it by itself and says so; a reload with the server
    // gone again still says so.
    let renewed_id = shown_pass_id(&phone).await;
    system.bygd(&["pass", "revoke", &renewed_id]);
    wait_until_or(
        &phone,
        "the pass app showing the pass revoked",
        "document.getElementById('pass-gone') !== null",
        || system.report(),
    )
    .await;
    let gone = find(&phone, "the revoked message", "//*[@id='pass-gone']")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(gone, say(sv, "member-pass-revoked"));
    system.stop_dashboard();
    phone.refresh().await.unwrap();
    wait_until(
        &phone,
        "the revoked pass, reloaded offline",
        "document.readyState === 'complete' && document.getElementById('pass-gone') !== null",
    )
    .await;
    let none_drawn = phone
        .execute(&format!("return {SHOWN_CODE};"), vec![])
        .await
        .unwrap();
    assert_eq!(none_drawn, "", "a revoked pass drew a code offline");
    phone.close().await.unwrap();

    // A site that requires passes kept on a phone: the link shows no plain code, and a
    // browser that cannot make a key (here WebCrypto refuses) says so plainly; the operator
    // sees why.
    system.restart_dashboard("serve-3.log");

    // On an iPhone, in a Safari tab (not the app added to the home screen): the app asks to
    // be added to the home screen first, and offers no set-up in the tab, whose storage
    // Safari wipes after a week without a visit.
    let iphone = browser
        .window_as(
            PHONE,
            "sv",
            Some(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            ),
        )
        .await;
    let ida_path = system.member_with_link("ida", "Ida Ek");
    iphone
        .goto(&format!("{}{ida_path}", system.url))
        .await
        .unwrap();
    wait_until(
        &iphone,
        "the iPhone told to add the pass to the home screen first",
        "!document.getElementById('app-msg-ios-install').hidden",
    )
    .await;
    let offered = iphone
        .execute(
            "return !document.getElementById('app-enrol').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, false, "a Safari tab was offered the set-up");
    let hint = find(
        &iphone,
        "the home-screen hint",
        "//*[@id='app-msg-ios-install']",
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(hint, say(Lang::Sv, "pass-app-ios-install"));
    screenshot(&iphone, "pass-app-iphone-tab-sv").await;
    iphone.close().await.unwrap();

    system.bygd(&["site", "edit", "byn", "--require-device-key", "true"]);
    let ola_path = system.member_with_link("ola", "Ola Berg");
    let third = browser.window(PHONE, "en").await;
    third
        .goto(&format!("{}{ola_path}", system.url))
        .await
        .unwrap();
    wait_until(
        &third,
        "the offer to keep the pass on the phone",
        "!document.getElementById('app-enrol').hidden",
    )
    .await;
    let plain = third
        .execute(
            "return document.getElementById('pass-code').hidden && !document.querySelector('#pass-code svg');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        plain, true,
        "a site requiring phone keys showed a plain code"
    );
    third
        .execute(
            "crypto.subtle.generateKey = () => Promise.reject(new DOMException('no keys here', 'NotSupportedError'));",
            vec![],
        )
        .await
        .unwrap();
    press(&third, &say(Lang::En, "pass-app-enrol-button")).await;
    wait_until(
        &third,
        "the message that this browser cannot keep the key",
        "!document.getElementById('app-msg-required-no-key').hidden",
    )
    .await;
    assert_accessible(&third, "the pass app on a browser that cannot keep a key").await;
    screenshot(&third, "pass-app-required-no-key-en").await;
    system.wait("the operator seeing why the phone has no key", |s| {
        s.bygd(&["pass", "list", "--member", "ola"])
            .contains("phone cannot keep a key: no-webcrypto")
    });
    third.close().await.unwrap();
}
