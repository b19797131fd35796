//! Accounts and login: throttling (over real TCP from several loopback addresses, so the
//! server's own peer addresses are what is throttled), and admins managing accounts through
//! the HTTP API: disable, enable, a new password, a new role or sites, ending sessions. Every
//! rule is checked from the outside: the credential that should stop working is tried again.

mod common;

use bygd_dashboard::{Dashboard, LoginLimits, Principal, Role, Sites};
use common::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Throttle limits for tests: a few tries, then an hour's wait, so that no try in a test ever
/// gets a fresh one back however slow the machine is.
fn strict(burst: u32) -> LoginLimits {
    LoginLimits {
        address_burst: burst,
        address_every: Duration::from_secs(3600),
        account_burst: burst,
        account_every: Duration::from_secs(3600),
        ..LoginLimits::default()
    }
}

/// A password long enough for the rules.
const BO_PASSWORD: &str = "bo's long passphrase";

async fn add(d: &Dashboard, name: &str, role: Role, sites: &str, password: &str) {
    d.accounts()
        .add(
            &Principal::local_admin(),
            name,
            role,
            &Sites::parse(sites).unwrap(),
            password,
        )
        .await
        .unwrap();
}

/// An answer over TCP.
struct Http {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Http {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// POSTs `body` to `path` on `server` from the loopback address `from` (127.x.y.z), with a
/// plain HTTP/1.1 request, and an `X-Forwarded-For` header if `forwarded_for` is given.
async fn post_from(
    server: SocketAddr,
    from: &str,
    forwarded_for: Option<&str>,
    path: &str,
    body: &Value,
) -> Http {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let body = body.to_string();
    let forwarded = forwarded_for
        .map(|f| format!("X-Forwarded-For: {f}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: bygd\r\nContent-Type: application/json\r\n\
         {forwarded}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Http {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

async fn login_from(server: SocketAddr, from: &str, name: &str, password: &str) -> Http {
    login_via(server, from, None, name, password).await
}

async fn login_via(
    server: SocketAddr,
    from: &str,
    forwarded_for: Option<&str>,
    name: &str,
    password: &str,
) -> Http {
    post_from(
        server,
        from,
        forwarded_for,
        "/api/v1/session",
        &json!({ "name": name, "password": password }),
    )
    .await
}

/// The dashboard's HTTP server on a free loopback port, until [`Served::stop`].
struct Served {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Served {
    async fn start(d: &Dashboard) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(bygd_dashboard::serve(
            d.clone(),
            listener,
            None,
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            stop,
            serving,
        }
    }

    /// Shuts the server down and checks that it ended cleanly.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.serving.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_login_burst_gets_429s_while_other_addresses_and_accounts_still_log_in() {
    let db = sqlite();
    let (d, _dir, admin_password) = dashboard(&db).await;
    let d = d.with_login_limits(&strict(3));
    add(&d, "bo", Role::Operator, SITE, BO_PASSWORD).await;
    let served = Served::start(&d).await;
    let server = served.addr;

    // Guessing from one address: three tries, then 429 with Retry-After in the one error
    // shape, even for a right password of another account.
    for guess in ["guess-1", "guess-2", "guess-3"] {
        let r = login_from(server, "127.0.0.1", guess, "password123456").await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let throttled = login_from(server, "127.0.0.1", "bo", BO_PASSWORD).await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert_eq!(throttled.body["error"]["code"], "throttled");
    assert!(
        throttled.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("address"),
        "{}",
        throttled.body
    );
    let retry: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&retry), "Retry-After {retry}");

    // A client cannot talk its way out by claiming another address: no proxy is trusted.
    let spoofed = login_via(server, "127.0.0.1", Some("192.0.2.50"), "bo", BO_PASSWORD).await;
    assert_eq!(spoofed.status, 429, "{}", spoofed.body);

    // From another address the right password works.
    let ok = login_from(server, "127.0.0.2", "bo", BO_PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    // Guessing one account from many addresses: throttled per account.
    for (i, from) in ["127.0.0.3", "127.0.0.4", "127.0.0.5"].iter().enumerate() {
        let r = login_from(server, from, "admin", &format!("wrong password {i}")).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let admin_now = login_from(server, "127.0.0.6", "admin", &admin_password).await;
    assert_eq!(admin_now.status, 429, "{}", admin_now.body);
    assert!(
        admin_now.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("account"),
        "{}",
        admin_now.body
    );
    assert!(admin_now.header("retry-after").is_some());
    // Another account from that same address still gets in.
    let bo = login_from(server, "127.0.0.6", "bo", BO_PASSWORD).await;
    assert_eq!(bo.status, 200, "{}", bo.body);

    served.stop().await;
}

#[tokio::test]
async fn a_burst_of_concurrent_logins_is_answered_with_429s_not_queued_forever() {
    let db = sqlite();
    let (d, _dir, _) = dashboard(&db).await;
    let d = d.with_login_limits(&strict(5));
    let served = Served::start(&d).await;
    let server = served.addr;
    let tries: Vec<_> = (0..30)
        .map(|i| {
            tokio::spawn(async move {
                login_from(
                    server,
                    "127.0.0.9",
                    &format!("someone-{i}"),
                    "a guessed password",
                )
                .await
                .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((refused, throttled), (5, 25), "{statuses:?}");
    served.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_on_its_own() {
    let db = sqlite();
    let (d, _dir, _) = dashboard(&db).await;
    let d = d.with_login_limits(&LoginLimits {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..strict(3)
    });
    add(&d, "bo", Role::Operator, SITE, BO_PASSWORD).await;
    let served = Served::start(&d).await;
    let server = served.addr;
    let attacker = Some("198.51.100.1");
    for guess in ["guess-1", "guess-2", "guess-3"] {
        let r = login_via(server, "127.0.0.1", attacker, guess, "password123456").await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = login_via(server, "127.0.0.1", attacker, "bo", BO_PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    // Another client through the same proxy is not held up by the attacker.
    let r = login_via(server, "127.0.0.1", Some("198.51.100.2"), "bo", BO_PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // From an untrusted peer the header means nothing: 127.0.0.2 is throttled as itself.
    for guess in ["guess-4", "guess-5", "guess-6"] {
        let r = login_via(
            server,
            "127.0.0.2",
            Some("198.51.100.3"),
            guess,
            "x23456789012",
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = login_via(server, "127.0.0.2", Some("198.51.100.4"), "bo", BO_PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    served.stop().await;
}

/// A request with the session cookie, as a browser sends it.
async fn with_cookie(d: &Dashboard, method: &str, path: &str, session: &str) -> u16 {
    use tower::ServiceExt as _;
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("bygd_session={session}"))
        .body(axum::body::Body::empty())
        .unwrap();
    bygd_dashboard::app(d.clone())
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The status of `GET /api/v1/gateways` with `credential` (a session or a token): the
/// check of whether a credential still works.
async fn gateways_status(d: &Dashboard, credential: &str) -> u16 {
    call(d, "GET", "/api/v1/gateways", Some(credential), None)
        .await
        .status
}

/// A POST without a body, as `credential`.
async fn post(d: &Dashboard, path: &str, credential: &str) -> Reply {
    call(d, "POST", path, Some(credential), None).await
}

/// `PATCH /api/v1/accounts/bo` with `body`, as `credential`.
async fn update_bo(d: &Dashboard, credential: &str, body: Value) -> Reply {
    call(
        d,
        "PATCH",
        "/api/v1/accounts/bo",
        Some(credential),
        Some(body),
    )
    .await
}

async fn trail_actions(d: &Dashboard) -> Vec<String> {
    d.trail(&Principal::local_admin(), 100)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["action"].as_str().unwrap(),
                r["target"].as_str().unwrap()
            )
        })
        .collect()
}

/// Checks that the audit trail holds `entry` ("action target").
async fn assert_trail_has(d: &Dashboard, entry: &str) {
    let actions = trail_actions(d).await;
    assert!(
        actions.iter().any(|a| a == entry),
        "{entry} not in {actions:?}"
    );
}

#[tokio::test]
async fn the_old_session_cookie_is_refused_after_a_password_change() {
    for db in backends("the_old_session_cookie_is_refused_after_a_password_change").await {
        let (d, _dir, password) = dashboard(&db).await;
        add(&d, "bo", Role::Operator, SITE, BO_PASSWORD).await;
        let admin = login(&d, "admin", &password).await;
        let stolen = login(&d, "bo", BO_PASSWORD).await;
        assert_eq!(
            with_cookie(&d, "GET", "/api/v1/gateways", &stolen).await,
            200
        );

        let new = "a brand new passphrase";
        let changed = call(
            &d,
            "POST",
            "/api/v1/accounts/bo/password",
            Some(&admin),
            Some(json!({ "password": new })),
        )
        .await;
        assert_eq!(changed.status, 200, "{}: {}", db.name, changed.text());
        assert_eq!(changed.json()["sessions"], 0);
        assert_eq!(
            with_cookie(&d, "GET", "/api/v1/gateways", &stolen).await,
            401,
            "the session from before the password change still works"
        );
        let old = call(
            &d,
            "POST",
            "/api/v1/session",
            None,
            Some(json!({ "name": "bo", "password": BO_PASSWORD })),
        )
        .await;
        assert_eq!(old.status, 401);
        let fresh = login(&d, "bo", new).await;
        assert_eq!(
            with_cookie(&d, "GET", "/api/v1/gateways", &fresh).await,
            200
        );
        let short = call(
            &d,
            "POST",
            "/api/v1/accounts/bo/password",
            Some(&admin),
            Some(json!({ "password": "short" })),
        )
        .await;
        assert_eq!((short.status, short.code()), (400, "invalid".to_owned()));
        assert_eq!(short.json()["error"]["field"], "password");
        assert_trail_has(&d, "account.password bo").await;
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_and_its_sessions_and_tokens_are_refused() {
    for db in
        backends("a_disabled_account_cannot_log_in_and_its_sessions_and_tokens_are_refused").await
    {
        let (d, _dir, password) = dashboard(&db).await;
        add(&d, "eva", Role::Admin, SITE, "eva's long passphrase").await;
        let admin = login(&d, "admin", &password).await;
        let eva = login(&d, "eva", "eva's long passphrase").await;
        let token = call(
            &d,
            "POST",
            "/api/v1/tokens",
            Some(&eva),
            Some(json!({ "name": "eva's script", "scopes": ["gateways:read"], "sites": SITE })),
        )
        .await;
        assert_eq!(token.status, 201, "{}", token.text());
        let token = token.json()["token"].as_str().unwrap().to_owned();
        assert_eq!(gateways_status(&d, &token).await, 200);

        let disabled = post(&d, "/api/v1/accounts/eva/disable", &admin).await;
        assert_eq!(disabled.status, 200, "{}: {}", db.name, disabled.text());
        assert!(
            disabled.json()["disabled_at"].is_string(),
            "{}",
            disabled.text()
        );
        assert_eq!(disabled.json()["sessions"], 0);

        assert_eq!(gateways_status(&d, &eva).await, 401);
        let by_token = call(&d, "GET", "/api/v1/gateways", Some(&token), None).await;
        assert_eq!(
            by_token.status, 401,
            "a disabled account's token still works"
        );
        assert!(by_token.text().contains("disabled"), "{}", by_token.text());
        let again = call(
            &d,
            "POST",
            "/api/v1/session",
            None,
            Some(json!({ "name": "eva", "password": "eva's long passphrase" })),
        )
        .await;
        assert_eq!(again.status, 401);
        assert!(again.text().contains("disabled"), "{}", again.text());
        let twice = post(&d, "/api/v1/accounts/eva/disable", &admin).await;
        assert_eq!(twice.status, 409);

        let enabled = post(&d, "/api/v1/accounts/eva/enable", &admin).await;
        assert_eq!(enabled.status, 200, "{}", enabled.text());
        assert!(enabled.json()["disabled_at"].is_null());
        assert_eq!(gateways_status(&d, &token).await, 200);
        login(&d, "eva", "eva's long passphrase").await;
        assert_trail_has(&d, "account.disable eva").await;
        assert_trail_has(&d, "account.enable eva").await;
    }
}

#[tokio::test]
async fn a_role_or_site_change_ends_the_accounts_sessions() {
    let db = sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    add(&d, "bo", Role::Operator, SITE, BO_PASSWORD).await;
    let admin = login(&d, "admin", &password).await;
    let before = login(&d, "bo", BO_PASSWORD).await;
    let changed = update_bo(&d, &admin, json!({ "role": "auditor" })).await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["role"], "auditor");
    assert_eq!(gateways_status(&d, &before).await, 401);

    let after = login(&d, "bo", BO_PASSWORD).await;
    let sites = update_bo(&d, &admin, json!({ "sites": "byn,klit" })).await;
    assert_eq!(sites.status, 200, "{}", sites.text());
    assert_eq!(sites.json()["sites"], "byn,klit");
    assert_eq!(gateways_status(&d, &after).await, 401);

    // The auditor it now is cannot write.
    let auditor = login(&d, "bo", BO_PASSWORD).await;
    let write = call(
        &d,
        "POST",
        "/api/v1/members",
        Some(&auditor),
        Some(json!({ "id": "x", "name": "X", "sites": [SITE] })),
    )
    .await;
    assert_eq!(write.status, 403);

    let nothing = update_bo(&d, &admin, json!({})).await;
    assert_eq!(nothing.status, 400);
    let bad = update_bo(&d, &admin, json!({ "role": "root" })).await;
    assert_eq!(
        (bad.status, bad.json()["error"]["field"].clone()),
        (400, json!("role"))
    );
    assert_trail_has(&d, "account.update bo").await;
}

#[tokio::test]
async fn an_admin_lists_accounts_and_ends_all_sessions_of_one() {
    let db = sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    add(&d, "bo", Role::Operator, SITE, BO_PASSWORD).await;
    let admin = login(&d, "admin", &password).await;
    let one = login(&d, "bo", BO_PASSWORD).await;
    let two = login(&d, "bo", BO_PASSWORD).await;
    let list = call(&d, "GET", "/api/v1/accounts", Some(&admin), None).await;
    assert_eq!(list.status, 200, "{}", list.text());
    let accounts = list.json()["accounts"].clone();
    assert_eq!(accounts[0]["name"], "admin");
    assert_eq!(accounts[1]["name"], "bo");
    assert_eq!(accounts[1]["sessions"], 2);
    assert_eq!(accounts[1]["role"], "operator");
    assert!(accounts[1]["disabled_at"].is_null());
    assert!(list.text().contains("created_at") && !list.text().contains("argon2"));

    let ended = call(
        &d,
        "DELETE",
        "/api/v1/accounts/bo/sessions",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    assert_eq!(ended.json()["sessions_ended"], 2);
    for s in [&one, &two] {
        assert_eq!(gateways_status(&d, s).await, 401);
    }
    let bo = call(&d, "GET", "/api/v1/accounts/bo", Some(&admin), None).await;
    assert_eq!(bo.json()["sessions"], 0);
    // The account itself still logs in.
    login(&d, "bo", BO_PASSWORD).await;
    assert_trail_has(&d, "account.logout bo").await;
    let missing = call(
        &d,
        "DELETE",
        "/api/v1/accounts/nobody/sessions",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn only_admins_manage_accounts_and_site_limited_admins_only_within_their_sites() {
    let db = sqlite();
    let (d, _dir, password) = dashboard(&db).await;
    add(&d, "bo", Role::Operator, SITE, BO_PASSWORD).await;
    add(&d, "kim", Role::Admin, SITE, "kim's long passphrase").await;
    add(&d, "ulf", Role::Operator, "klit", "ulf's long passphrase").await;
    let admin = login(&d, "admin", &password).await;
    let bo = login(&d, "bo", BO_PASSWORD).await;
    let kim = login(&d, "kim", "kim's long passphrase").await;

    // An operator may not even list.
    let denied = call(&d, "GET", "/api/v1/accounts", Some(&bo), None).await;
    assert_eq!(
        (denied.status, denied.code()),
        (403, "forbidden".to_owned())
    );
    let denied = post(&d, "/api/v1/accounts/bo/disable", &bo).await;
    assert_eq!(denied.status, 403);

    // An admin of `byn` sees and manages the accounts of `byn` only.
    let list = call(&d, "GET", "/api/v1/accounts", Some(&kim), None).await;
    let names: Vec<String> = list.json()["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["bo", "kim"]);
    for path in [
        "/api/v1/accounts/admin/disable",
        "/api/v1/accounts/ulf/disable",
        "/api/v1/accounts/ulf/enable",
    ] {
        let r = post(&d, path, &kim).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    let r = call(
        &d,
        "POST",
        "/api/v1/accounts/admin/password",
        Some(&kim),
        Some(json!({ "password": "taken over by kim" })),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        call(&d, "GET", "/api/v1/accounts/ulf", Some(&kim), None)
            .await
            .status,
        404
    );
    let wider = update_bo(&d, &kim, json!({ "sites": "*" })).await;
    assert_eq!(
        (wider.status, wider.json()["error"]["field"].clone()),
        (400, json!("sites"))
    );
    let r = post(&d, "/api/v1/accounts/bo/disable", &kim).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Nobody disables their own account (and so cannot lock the last admin out by mistake).
    let own = post(&d, "/api/v1/accounts/admin/disable", &admin).await;
    assert_eq!((own.status, own.code()), (409, "conflict".to_owned()));
}
