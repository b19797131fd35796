//! A real browser for the web UI's tests: Debian's headless Chromium driven over WebDriver
//! by a `chromedriver` child process on a free port, with axe-core (vendored from the npm
//! registry, see `assets/vendor/axe-core`) injected into pages to check accessibility, and
//! screenshots saved under `target/screenshots/` for CI to keep.
//!
//! A test that needs the browser is skipped when `chromedriver` or `chromium` is missing,
//! unless `BYGD_REQUIRE_CHROMIUM=1` (as in CI): then it fails.
//!
//! chromedriver runs in a process group of its own, and dropping the [`Browser`] kills that
//! group: the Chromium processes it started go with it even when a test panics before it
//! closed its windows.

pub use fantoccini;
use fantoccini::{Client, ClientBuilder};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

/// The environment variable CI sets so that a missing browser fails instead of skipping.
pub const REQUIRE_CHROMIUM: &str = "BYGD_REQUIRE_CHROMIUM";
/// axe-core 4.x, as vendored.
const AXE: &str = include_str!("../assets/vendor/axe-core/axe.min.js");
/// How long chromedriver may take to listen.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// The tallest screenshot taken (CSS pixels): a long table is cut there rather than making
/// an image too big to look at.
const MAX_SCREENSHOT_HEIGHT: u64 = 6000;

/// Phone and desktop window sizes (CSS pixels) the UI is checked at.
pub const PHONE: (u32, u32) = (360, 780);
/// A laptop's window.
pub const DESKTOP: (u32, u32) = (1280, 900);

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/lib/chromium"].iter().map(PathBuf::from))
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A running chromedriver; it is killed on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    chromium: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group's id is chromedriver's own (`process_group(0)` below).
        let _ = Process::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// An accessibility problem axe-core found.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// minor, moderate, serious or critical.
    pub impact: String,
    /// What is wrong.
    pub help: String,
    /// The elements at fault (CSS selectors).
    pub targets: Vec<String>,
}

impl Browser {
    /// Starts chromedriver. Without it (or without chromium) this returns `None` after saying
    /// the test is skipped, unless `BYGD_REQUIRE_CHROMIUM=1`: then it panics.
    #[track_caller]
    pub fn start(test: &str) -> Option<Self> {
        let (Some(driver), Some(chromium)) = (
            find(&["chromedriver"]),
            find(&["chromium", "chromium-browser", "google-chrome"]),
        ) else {
            assert!(
                std::env::var(REQUIRE_CHROMIUM).as_deref() != Ok("1"),
                "{test}: chromium and chromedriver are not both installed but \
                 {REQUIRE_CHROMIUM}=1 requires them; install them \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "SKIPPED {test}: chromium or chromedriver is not installed (set \
                 {REQUIRE_CHROMIUM}=1 to make this a failure)"
            );
            return None;
        };
        let port = crate::free_port();
        let driver = Process::new(driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {DRIVER_START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            driver,
            port,
            chromium,
        })
    }

    /// A new headless browser window of `size` (CSS pixels) that asks for pages in `lang`
    /// (an `Accept-Language` value such as `sv`).
    pub async fn window(&self, size: (u32, u32), lang: &str) -> Client {
        self.window_as(size, lang, None).await
    }

    /// As [`Browser::window`], saying it is `user_agent` (to see what a page does on a phone
    /// the machine is not, such as an iPhone's Safari).
    pub async fn window_as(
        &self,
        size: (u32, u32),
        lang: &str,
        user_agent: Option<&str>,
    ) -> Client {
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            format!("--window-size={},{}", size.0, size.1),
            format!("--lang={lang}"),
        ];
        if let Some(agent) = user_agent {
            args.push(format!("--user-agent={agent}"));
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": self.chromium,
                "args": args,
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromium session from chromedriver");
        client
            .set_window_size(size.0, size.1)
            .await
            .expect("set the window size");
        client
    }
}

/// Runs axe-core in the current page (WCAG 2.0, 2.1 and 2.2 A and AA rules) and returns what
/// it finds.
pub async fn axe(client: &Client) -> Vec<Violation> {
    client.execute(AXE, vec![]).await.expect("inject axe-core");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact || '',
                   help: v.help, targets: v.nodes.map(n => String(n.target)) }))))
               .catch(e => done({ error: String(e) }));",
            vec![],
        )
        .await
        .expect("run axe-core");
    if let Some(error) = result.get("error") {
        panic!("axe-core failed: {error}");
    }
    result
        .as_array()
        .expect("axe-core's violations")
        .iter()
        .map(|v| Violation {
            id: v["id"].as_str().unwrap_or("").to_owned(),
            impact: v["impact"].as_str().unwrap_or("").to_owned(),
            help: v["help"].as_str().unwrap_or("").to_owned(),
            targets: v["targets"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .map(|s| s.as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Fails with the list if axe-core finds a serious or critical problem on the current page.
pub async fn assert_accessible(client: &Client, page: &str) {
    let serious: Vec<Violation> = axe(client)
        .await
        .into_iter()
        .filter(|v| v.impact == "serious" || v.impact == "critical")
        .collect();
    assert!(
        serious.is_empty(),
        "{page}: serious accessibility problems: {serious:#?}"
    );
}

/// Where screenshots go: `target/screenshots/` of the workspace (or `$CARGO_TARGET_DIR`).
#[must_use]
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("screenshots")
}

/// Saves a PNG of the whole current page as `target/screenshots/{name}.png`: the window is
/// made as tall as the page for the shot (WebDriver only captures what the window shows),
/// then given its size back.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let (width, height) = client.get_window_size().await.expect("the window's size");
    // The window's height includes what the browser draws around the page, so the page's
    // own height and the viewport's are asked of the page.
    let heights = client
        .execute(
            "return [Math.ceil(document.documentElement.scrollHeight), window.innerHeight];",
            vec![],
        )
        .await
        .expect("the page's height");
    let (page, viewport) = (
        heights[0].as_u64().unwrap_or(0),
        heights[1].as_u64().unwrap_or(0),
    );
    let tall = (height + page.saturating_sub(viewport)).min(MAX_SCREENSHOT_HEIGHT);
    let resize = |h: u64| {
        client.set_window_size(
            u32::try_from(width).expect("a window width"),
            u32::try_from(h).expect("a window height"),
        )
    };
    if tall > height {
        resize(tall)
            .await
            .expect("make the window as tall as the page");
    }
    let png = client.screenshot().await;
    if tall > height {
        resize(height).await.expect("give the window its size back");
    }
    let png = png.expect("a screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("make target/screenshots");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
    path
}
