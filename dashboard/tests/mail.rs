//! Pass links by e-mail, against a real SMTP server started by the test: Python's `aiosmtpd`
//! (Debian's `python3-aiosmtpd`) with STARTTLS on a certificate from a test CA, writing what
//! it receives to a maildir. Messages are read back with Python's `email` package, the way a
//! mail client would decode them, and the link in them is followed over real HTTP.
//!
//! Without `aiosmtpd` the tests that need the server say they are skipped, unless
//! `BYGD_REQUIRE_SMTP=1` (as in CI): then they fail. Retry timing runs on the dashboard's
//! manual clock, never on sleeps.

mod common;

use bygd_dashboard::config::{DashboardSmtp, SmtpSecurity};
use bygd_dashboard::{
    Dashboard, DeliveryState, IssuePass, Mailer, NewMember, Principal, Round, ServiceError,
    SiteChange,
};
use bygd_testkit::tls::{Leaf, TestCa};
use common::{backends, dashboard, dashboard_on_manual_clock, SITE};
use serde_json::Value;
use sqlx::Connection as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Set to `1` to make a missing `aiosmtpd` a failure instead of a skip.
const REQUIRE_SMTP: &str = "BYGD_REQUIRE_SMTP";
/// How long the SMTP server may take to listen, and a mail to arrive.
const DEADLINE: Duration = Duration::from_secs(20);
/// The sender every test configures.
const FROM: &str = "bygd <door@example.org>";
/// Decodes a message file as a mail client would and prints what the tests check, as JSON.
const READ_MESSAGE: &str = r#"
import email, json, sys
from email import policy
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=policy.default)
plain = m.get_body(preferencelist=('plain',))
html = m.get_body(preferencelist=('html',))
print(json.dumps({
    'from': str(m['From']), 'to': str(m['To']), 'subject': str(m['Subject']),
    'type': m.get_content_type(),
    'plain': plain.get_content() if plain is not None else None,
    'html': html.get_content() if html is not None else None,
}))
"#;

/// A Python with `aiosmtpd`, or `None` (then the caller skips, or fails under
/// [`REQUIRE_SMTP`]).
fn python(test: &str) -> Option<&'static str> {
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var(REQUIRE_SMTP).as_deref() != Ok("1"),
            "{test}: Python's aiosmtpd is not installed but {REQUIRE_SMTP}=1 requires it; \
             apt-get install python3-aiosmtpd"
        );
        eprintln!(
            "SKIPPED {test}: Python's aiosmtpd is not installed (apt-get install \
             python3-aiosmtpd; set {REQUIRE_SMTP}=1 to make this a failure)"
        );
    }
    found
}

/// A test CA and the SMTP server's certificate (for 127.0.0.1) in `dir`.
fn certificates(dir: &Path) -> (PathBuf, Leaf) {
    let ca = TestCa::new(dir, "mail-ca");
    let leaf = ca.issue("smtp", "127.0.0.1");
    (ca.cert(), leaf)
}

/// An `aiosmtpd` on 127.0.0.1:`port` that requires STARTTLS and keeps what it receives in a
/// maildir; stopped when dropped.
struct Smtpd {
    child: Child,
    maildir: PathBuf,
}

impl Smtpd {
    fn start(python: &str, port: u16, leaf: &Leaf, maildir: &Path) -> Self {
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .arg("--tlscert")
            .arg(&leaf.cert)
            .arg("--tlskey")
            .arg(&leaf.key)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut smtpd = Self {
            child,
            maildir: maildir.to_owned(),
        };
        let deadline = Instant::now() + DEADLINE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = smtpd.child.try_wait() {
                panic!("aiosmtpd exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        smtpd
    }

    /// The messages received so far, oldest first.
    fn messages(&self) -> Vec<PathBuf> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> =
            std::fs::read_dir(self.maildir.join("new"))
                .map(|dir| {
                    dir.filter_map(Result::ok)
                        .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
                        .collect()
                })
                .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(_, path)| path).collect()
    }

    /// Waits until `n` messages have arrived.
    async fn wait_for(&self, n: usize) -> Vec<PathBuf> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(Instant::now() < deadline, "{n} message(s) did not arrive");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A received message, decoded.
fn read(python: &str, file: &Path) -> Value {
    let out = Command::new(python)
        .args(["-c", READ_MESSAGE])
        .arg(file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The pass page link in a message's plain text.
fn link_in(message: &Value) -> String {
    let text = message["plain"].as_str().expect("a text/plain part");
    text.split_whitespace()
        .find(|word| word.starts_with("http") && word.contains("/p/"))
        .unwrap_or_else(|| panic!("no pass link in: {text}"))
        .to_owned()
}

/// The relay settings for a server on 127.0.0.1:`port` with STARTTLS, trusting `ca`.
fn relay(port: u16, ca: &Path) -> DashboardSmtp {
    DashboardSmtp {
        port: Some(port),
        security: SmtpSecurity::Starttls,
        ca_file: Some(ca.to_owned()),
        ..DashboardSmtp::new("127.0.0.1", FROM)
    }
}

/// A Swedish site with Anna, who has an e-mail address, and Bo, who has none.
async fn swedish_site_with_members(d: &Dashboard) {
    let admin = Principal::local_admin();
    d.sites()
        .update(
            &admin,
            SITE,
            &SiteChange {
                name: Some("Byns kontor".into()),
                language: Some("sv".into()),
                ..SiteChange::default()
            },
        )
        .await
        .unwrap();
    for (id, name, email) in [
        ("anna-k", "Anna Karlsson", Some("anna@example.org")),
        ("bo", "Bo Ek", None),
    ] {
        d.members()
            .add(
                &admin,
                &NewMember {
                    id: id.into(),
                    name: name.into(),
                    email: email.map(str::to_owned),
                    sites: vec![SITE.into()],
                    language: None,
                },
            )
            .await
            .unwrap();
    }
}

/// Issues Anna a pass whose link goes by e-mail; returns its id.
async fn issue_by_mail(d: &Dashboard) -> String {
    let issued = d
        .passes()
        .issue(
            &Principal::local_admin(),
            &IssuePass {
                member: "anna-k".into(),
                site: SITE.into(),
                email: true,
                ..IssuePass::default()
            },
        )
        .await
        .unwrap();
    let delivery = issued.pass.delivery.expect("a delivery on the issued pass");
    assert_eq!(delivery.state, DeliveryState::Queued);
    assert_eq!(delivery.to, "anna@example.org");
    issued.pass.id
}

/// A plain HTTP/1.1 GET: status and body.
async fn http_get(server: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(server).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The path of a link on `public_url`.
fn path_of(link: &str) -> &str {
    &link[link.find("/p/").expect("a /p/ link")..]
}

/// The mail outbox's bodies still stored, read straight from the database.
async fn stored_bodies(url: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT body_text, body_html FROM mail_outbox")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    rows.into_iter()
        .flat_map(|(text, html)| [text, html])
        .flatten()
        .collect()
}

#[tokio::test]
async fn a_pass_issued_with_email_reaches_the_member_once_in_swedish_and_its_link_opens_the_pass_page(
) {
    let test = "a_pass_issued_with_email_reaches_the_member_once_in_swedish";
    let Some(python) = python(test) else { return };
    for db in backends(test).await {
        let (d, dir, _) = dashboard(&db).await;
        let (ca, leaf) = certificates(dir.path());
        let port = bygd_testkit::free_port();
        let smtpd = Smtpd::start(python, port, &leaf, &dir.path().join("maildir"));
        swedish_site_with_members(&d).await;
        // `bygd serve` with the relay configured: its sender is woken by the issue.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = listener.local_addr().unwrap();
        let d = d
            .with_public_url(format!("http://{server}"))
            .with_smtp(relay(port, &ca));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(bygd_dashboard::serve(d.clone(), listener, None, async {
            let _ = stopped.await;
        }));

        let pass = issue_by_mail(&d).await;
        let files = smtpd.wait_for(1).await;
        let message = read(python, &files[0]);
        assert_eq!(message["from"], FROM, "{}: {message}", db.name);
        assert_eq!(message["to"], "Anna Karlsson <anna@example.org>");
        assert_eq!(message["subject"], "Ditt passerkort för Byns kontor");
        assert_eq!(message["type"], "multipart/alternative");
        let plain = message["plain"].as_str().expect("a text/plain part");
        assert!(plain.contains("Hej Anna Karlsson!"), "{plain}");
        assert!(plain.contains("Vidarebefordra inte"), "{plain}");
        assert!(plain.contains("hemskärmen"), "{plain}");
        assert!(message["html"].as_str().is_some(), "an HTML part too");

        // The link opens the member's pass page, over real HTTP.
        let link = link_in(&message);
        assert!(link.starts_with(&format!("http://{server}/p/")), "{link}");
        let (status, body) = http_get(server, path_of(&link)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Anna Karlsson"), "{body}");

        // The pass says it was sent; the link is no longer in the database.
        let delivery = d
            .passes()
            .get(&Principal::local_admin(), &pass)
            .await
            .unwrap()
            .delivery
            .unwrap();
        assert_eq!(delivery.state, DeliveryState::Sent, "{delivery:?}");
        assert!(delivery.sent_at.is_some() && delivery.next_try_at.is_none());
        assert_eq!(delivery.attempts, 1);
        assert!(stored_bodies(&db.url).await.is_empty());

        // Another round of the sender sends nothing again.
        let again = Mailer::new(d.clone(), &relay(port, &ca))
            .unwrap()
            .deliver_due()
            .await
            .unwrap();
        assert_eq!(again, Round::default());
        assert_eq!(smtpd.messages().len(), 1, "{}: sent once", db.name);

        // Anna chooses Danish: her next mail is in Danish, though her site is Swedish, and so
        // is her pass page when her phone asks for no language of bygd's.
        let admin = Principal::local_admin();
        d.members()
            .update(&admin, "anna-k", None, None, Some(Some("da")))
            .await
            .unwrap();
        d.passes().send_link(&admin, &pass).await.unwrap();
        let files = smtpd.wait_for(2).await;
        let danish = files
            .iter()
            .map(|f| read(python, f))
            .find(|m| m["subject"] != "Ditt passerkort för Byns kontor")
            .expect("a second mail");
        assert_eq!(
            danish["subject"], "Dit adgangskort til Byns kontor",
            "{danish}"
        );
        let (status, body) = http_get(server, path_of(&link_in(&danish))).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<html lang=\"da\">"), "{body}");

        let _ = stop.send(());
        serving.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn with_the_relay_down_the_pass_shows_a_failure_and_a_retry_then_the_mail_arrives_once() {
    let test = "with_the_relay_down_the_pass_shows_a_failure_and_a_retry";
    let Some(python) = python(test) else { return };
    for db in backends(test).await {
        let (d, dir, _) = dashboard_on_manual_clock(&db).await;
        let (ca, leaf) = certificates(dir.path());
        swedish_site_with_members(&d).await;
        // Nothing listens on the relay's port yet.
        let port = bygd_testkit::free_port();
        let mailer = Mailer::new(d.clone(), &relay(port, &ca)).unwrap();
        let pass = issue_by_mail(&d).await;
        let failed = mailer.deliver_due().await.unwrap();
        assert_eq!(failed.failed, 1, "{}: {failed:?}", db.name);

        let admin = Principal::local_admin();
        let delivery = d
            .passes()
            .get(&admin, &pass)
            .await
            .unwrap()
            .delivery
            .unwrap();
        assert_eq!(delivery.state, DeliveryState::Failed, "{delivery:?}");
        assert_eq!(delivery.attempts, 1);
        assert!(delivery.last_error.is_some(), "{delivery:?}");
        let retry = delivery.next_try_at.clone().expect("a next try");
        let retry_at: jiff::Timestamp = retry.parse().unwrap();
        assert_eq!(
            retry_at.as_second(),
            d.now() + 60,
            "the first retry a minute on"
        );

        // The server comes up; the mail waits for its retry time, then goes once.
        let smtpd = Smtpd::start(python, port, &leaf, &dir.path().join("maildir"));
        assert_eq!(mailer.deliver_due().await.unwrap(), Round::default());
        assert!(smtpd.messages().is_empty(), "not before its retry time");
        d.clock().advance(60);
        let sent = mailer.deliver_due().await.unwrap();
        assert_eq!(sent.sent, 1, "{sent:?}");
        assert_eq!(smtpd.wait_for(1).await.len(), 1);
        d.clock().advance(86_400);
        assert_eq!(mailer.deliver_due().await.unwrap(), Round::default());
        assert_eq!(
            smtpd.messages().len(),
            1,
            "{}: delivered exactly once",
            db.name
        );
        let delivery = d
            .passes()
            .get(&admin, &pass)
            .await
            .unwrap()
            .delivery
            .unwrap();
        assert_eq!(delivery.state, DeliveryState::Sent, "{delivery:?}");
        assert_eq!(delivery.attempts, 2);
        assert_eq!(delivery.last_error, None);
    }
}

#[tokio::test]
async fn sending_again_makes_a_new_link_and_the_old_one_stops_working() {
    let test = "sending_again_makes_a_new_link_and_the_old_one_stops_working";
    let Some(python) = python(test) else { return };
    for db in backends(test).await {
        let (d, dir, _) = dashboard_on_manual_clock(&db).await;
        let (ca, leaf) = certificates(dir.path());
        let port = bygd_testkit::free_port();
        let smtpd = Smtpd::start(python, port, &leaf, &dir.path().join("maildir"));
        swedish_site_with_members(&d).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = listener.local_addr().unwrap();
        let d = d.with_public_url(format!("http://{server}"));
        // The API only: this test drives the sender itself.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(bygd_dashboard::serve(d.clone(), listener, None, async {
            let _ = stopped.await;
        }));
        let mailer = Mailer::new(d.clone(), &relay(port, &ca)).unwrap();
        let admin = Principal::local_admin();

        let pass = issue_by_mail(&d).await;
        assert_eq!(mailer.deliver_due().await.unwrap().sent, 1);
        let first = link_in(&read(python, &smtpd.wait_for(1).await[0]));
        assert_eq!(http_get(server, path_of(&first)).await.0, 200);

        let resent = d.passes().send_link(&admin, &pass).await.unwrap();
        assert_eq!(resent.delivery.unwrap().state, DeliveryState::Queued);
        assert_eq!(mailer.deliver_due().await.unwrap().sent, 1);
        let files = smtpd.wait_for(2).await;
        assert_eq!(files.len(), 2, "{}", db.name);
        let second = link_in(&read(python, &files[1]));
        assert_ne!(first, second);
        assert_eq!(
            http_get(server, path_of(&first)).await.0,
            404,
            "the old link"
        );
        let (status, body) = http_get(server, path_of(&second)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Anna Karlsson"), "{body}");

        // Refusals, each saying why: no address, revoked, expired.
        let bo = d
            .passes()
            .issue(
                &admin,
                &IssuePass {
                    member: "bo".into(),
                    site: SITE.into(),
                    ..IssuePass::default()
                },
            )
            .await
            .unwrap();
        let e = d.passes().send_link(&admin, &bo.pass.id).await.unwrap_err();
        assert!(
            matches!(&e, ServiceError::Invalid { field, .. } if field == "email"),
            "{e}"
        );
        assert!(e.to_string().contains("no e-mail address"), "{e}");
        let e = d
            .passes()
            .issue(
                &admin,
                &IssuePass {
                    member: "bo".into(),
                    site: SITE.into(),
                    email: true,
                    ..IssuePass::default()
                },
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no e-mail address"), "{e}");
        d.clock().advance(31 * 86_400);
        let e = d.passes().send_link(&admin, &pass).await.unwrap_err();
        assert!(
            matches!(&e, ServiceError::Conflict(m) if m.contains("expired")),
            "{e}"
        );
        d.clock().advance(-31 * 86_400);
        d.passes().revoke(&admin, &pass).await.unwrap();
        let e = d.passes().send_link(&admin, &pass).await.unwrap_err();
        assert!(
            matches!(&e, ServiceError::Conflict(m) if m.contains("revoked")),
            "{e}"
        );
        assert_eq!(smtpd.messages().len(), 2, "no mail for a refusal");

        let _ = stop.send(());
        serving.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_mail_the_relay_never_takes_is_given_up_after_eight_tries_and_its_link_wiped() {
    let test = "a_mail_the_relay_never_takes_is_given_up_after_eight_tries";
    for db in backends(test).await {
        let (d, dir, _) = dashboard_on_manual_clock(&db).await;
        let (ca, _) = certificates(dir.path());
        swedish_site_with_members(&d).await;
        // Nothing ever listens here.
        let mailer = Mailer::new(d.clone(), &relay(bygd_testkit::free_port(), &ca)).unwrap();
        let pass = issue_by_mail(&d).await;
        assert_eq!(
            stored_bodies(&db.url).await.len(),
            2,
            "text and HTML, queued"
        );
        let mut tries = 0;
        while mailer.deliver_due().await.unwrap() != Round::default() {
            tries += 1;
            assert!(tries <= 8, "more than eight tries");
            // Well past any backoff.
            d.clock().advance(2 * 3600);
        }
        assert_eq!(tries, 8);
        let delivery = d
            .passes()
            .get(&Principal::local_admin(), &pass)
            .await
            .unwrap()
            .delivery
            .unwrap();
        assert_eq!(delivery.state, DeliveryState::GaveUp, "{delivery:?}");
        assert_eq!(delivery.attempts, 8);
        assert!(delivery.last_error.is_some() && delivery.gave_up_at.is_some());
        assert!(delivery.next_try_at.is_none());
        assert!(
            stored_bodies(&db.url).await.is_empty(),
            "{}: wiped",
            db.name
        );
    }
}
