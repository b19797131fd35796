//! What the dashboard's integration tests share: a fresh dashboard on each database
//! backend, a stand-in gateway that signs real batches with its own key, and HTTP helpers
//! over `app(state).oneshot(...)`.
//!
//! PostgreSQL: set `BYGD_TEST_DATABASE_URL=postgres://USER:PASSWORD@HOST/DB` (a role that may
//! create databases); each test gets a database of its own. Without it the PostgreSQL run of
//! a test says it is skipped; CI sets it, and with `BYGD_REQUIRE_POSTGRES=1` a missing URL
//! fails instead.
#![allow(dead_code)] // each test binary uses a different part

use bygd_dashboard::{Clock, Dashboard, NewGateway, Principal};
use bygd_protocol::{
    sign_batch, ChainHead, ClockQuality, DoorId, EventBody, GatewayId, MemberId, PassId, PassKind,
    SecretKey, SiteId, UnixTime,
};
use http_body_util::BodyExt as _;
use serde_json::Value;
use sqlx::Connection as _;
use tower::ServiceExt as _;

/// The test site and gateway.
pub(crate) const SITE: &str = "byn";
pub(crate) const GATEWAY: &str = "gw1";

/// A database for one test.
pub(crate) struct TestDb {
    pub(crate) name: &'static str,
    pub(crate) url: String,
    /// For PostgreSQL: the server URL and the database to drop afterwards.
    drop: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.drop.take() else {
            return;
        };
        // Drop runs outside any runtime of the test's: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&base).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// The backends to run a test on: SQLite always, PostgreSQL when configured.
pub(crate) async fn backends(test: &str) -> Vec<TestDb> {
    let mut out = vec![sqlite()];
    match std::env::var("BYGD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => out.push(postgres(&url).await),
        _ => {
            assert!(
                std::env::var("BYGD_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{test}: BYGD_REQUIRE_POSTGRES=1 but BYGD_TEST_DATABASE_URL is not set"
            );
            eprintln!("SKIPPED the PostgreSQL run of {test}: set BYGD_TEST_DATABASE_URL to run it");
        }
    }
    out
}

pub(crate) fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    TestDb {
        name: "sqlite",
        url: format!("sqlite:{}", dir.path().join("test.db").display()),
        drop: None,
        _dir: dir,
    }
}

/// A fresh database on the server `base` points at.
pub(crate) async fn postgres(base: &str) -> TestDb {
    sqlx::any::install_default_drivers();
    let name = format!("bygd_test_{}_{}", std::process::id(), hex::encode(rand16()));
    let mut conn = sqlx::AnyConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to BYGD_TEST_DATABASE_URL: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database (the role needs CREATEDB): {e}"));
    let (prefix, _) = base.rsplit_once('/').expect("a URL with a database name");
    TestDb {
        name: "postgres",
        url: format!("{prefix}/{name}"),
        drop: Some((base.to_owned(), name)),
        _dir: tempfile::tempdir().unwrap(),
    }
}

fn rand16() -> [u8; 8] {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).unwrap();
    b
}

/// A new dashboard (init'ed data directory) on `db`, with one registered gateway whose key is
/// [`gateway_key`] and doors front and workshop.
pub(crate) async fn dashboard(db: &TestDb) -> (Dashboard, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let (dashboard, done) = Dashboard::init(&dir.path().join("data"), Some(&db.url), "admin")
        .await
        .unwrap();
    dashboard
        .gateways()
        .register(
            &Principal::local_admin(),
            &NewGateway {
                site: SITE.into(),
                id: GATEWAY.into(),
                public_key: gateway_key().public_key().to_hex(),
                doors: vec!["front".into(), "workshop".into()],
                time_zone: Some("Europe/Stockholm".into()),
            },
        )
        .await
        .unwrap();
    (dashboard, dir, done.password)
}

/// As [`dashboard`], on a manual clock that stands at the present until the test moves it with
/// `d.clock().advance(…)`: lifetimes and lags are then tested without waiting for them.
pub(crate) async fn dashboard_on_manual_clock(
    db: &TestDb,
) -> (Dashboard, tempfile::TempDir, String) {
    let (d, dir, password) = dashboard(db).await;
    let clock = Clock::manual(Clock::system().now());
    (d.with_clock(clock), dir, password)
}

/// The stand-in gateway's key.
pub(crate) fn gateway_key() -> SecretKey {
    SecretKey::from_seed(&[0x77; 32])
}

/// A key that is not the gateway's.
pub(crate) fn forger_key() -> SecretKey {
    SecretKey::from_seed(&[0x66; 32])
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A gateway's log as a test writes it: events chained from genesis, batched and signed.
pub(crate) struct Log {
    pub(crate) head: ChainHead,
    pub(crate) events: Vec<Vec<u8>>,
}

impl Log {
    pub(crate) fn new() -> Self {
        Self {
            head: ChainHead::default(),
            events: Vec::new(),
        }
    }

    /// Appends an event at `time` and returns its sequence number.
    pub(crate) fn push(&mut self, time: u64, clock: ClockQuality, body: EventBody) -> u64 {
        let (event, bytes, head) = self.head.append(UnixTime(time), clock, body);
        self.head = head;
        self.events.push(bytes);
        event.seq
    }

    /// Appends a granted entry of `member` at `door`.
    pub(crate) fn grant(&mut self, time: u64, door: &str, member: &str) -> u64 {
        self.push(
            time,
            ClockQuality::Synchronised,
            EventBody::EntryGranted {
                door: DoorId::new(door).unwrap(),
                pass_id: PassId([0xab; 16]),
                member: MemberId::new(member).unwrap(),
                kind: PassKind::Member,
                device_bound: false,
            },
        )
    }

    /// Appends a denied entry.
    pub(crate) fn deny(&mut self, time: u64, door: &str, member: &str) -> u64 {
        self.push(
            time,
            ClockQuality::Synchronised,
            EventBody::EntryDenied {
                door: DoorId::new(door).unwrap(),
                reason: bygd_protocol::Rejection::Revoked,
                pass_id: Some(PassId([0xcd; 16])),
                member: Some(MemberId::new(member).unwrap()),
            },
        )
    }

    /// Events `from..=to` (1-based) signed as a batch with `key`.
    pub(crate) fn batch(&self, from: u64, to: u64, key: &SecretKey) -> Vec<u8> {
        let events: Vec<&[u8]> = self.events[(from - 1) as usize..to as usize]
            .iter()
            .map(Vec::as_slice)
            .collect();
        sign_batch(
            &SiteId::new(SITE).unwrap(),
            &GatewayId::new(GATEWAY).unwrap(),
            &events,
            key,
        )
    }
}

/// An HTTP response, read whole.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error code of an error reply.
    pub(crate) fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text()))
            .to_owned()
    }
}

/// Sends one request to a fresh app over `dashboard`.
pub(crate) async fn call(
    dashboard: &Dashboard,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    call_raw(
        dashboard,
        method,
        path,
        token,
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
}

/// As [`call`], with the body's bytes as given (for malformed JSON).
pub(crate) async fn call_raw(
    dashboard: &Dashboard,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Reply {
    let mut request = axum::http::Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body)),
        None => request.body(axum::body::Body::empty()),
    }
    .unwrap();
    let response = bygd_dashboard::app(dashboard.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// Logs in over the API and returns the session token.
pub(crate) async fn login(dashboard: &Dashboard, name: &str, password: &str) -> String {
    let reply = call(
        dashboard,
        "POST",
        "/api/v1/session",
        None,
        Some(serde_json::json!({ "name": name, "password": password })),
    )
    .await;
    assert_eq!(reply.status, 200, "login: {}", reply.text());
    reply.json()["token"].as_str().unwrap().to_owned()
}
