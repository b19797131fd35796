//! Webhooks against a real HTTP receiver: a Python `http.server` started by the test that
//! checks each delivery's HMAC-SHA256 signature with Python's own `hmac`, answers the first
//! tries with 500, and records what it got. On SQLite and PostgreSQL: every kind of event
//! arrives, in order, each once; a failing receiver gets the same delivery again after the
//! backoff (on the dashboard's clock, moved by the test), and nothing after it jumps the
//! queue; a restarted sender sends nothing twice; a deleted subscription gets nothing more.

mod common;

use bygd_dashboard::{IssuePass, NewMember, NewWebhook, Principal, WebhookRound, WebhookSender};
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The receiver: verifies `Bygd-Signature` (t=…,v1=hex HMAC-SHA256(secret, "t.body")),
/// answers 500 to the first FAIL requests and 204 after, and appends one JSON line per
/// request to the log.
const RECEIVER: &str = r#"
import hmac, hashlib, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port, secret, fail, log = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4]
seen = {"n": 0}
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        parts = dict(p.split("=", 1) for p in self.headers["Bygd-Signature"].split(","))
        want = hmac.new(secret, parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        seen["n"] += 1
        answer = 500 if seen["n"] <= fail else 204
        with open(log, "a") as f:
            f.write(json.dumps({
                "valid": hmac.compare_digest(want, parts["v1"]),
                "delivery": self.headers["Bygd-Delivery"], "event": self.headers["Bygd-Event"],
                "body": json.loads(body), "answer": answer}) + "\n")
        self.send_response(answer)
        self.end_headers()
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), Hook).serve_forever()
"#;

struct Receiver {
    child: Child,
    log: std::path::PathBuf,
}

impl Receiver {
    fn start(dir: &Path, port: u16, secret: &str, fail: u32) -> Self {
        let log = dir.join("received.jsonl");
        let child = Command::new("python3")
            .args(["-c", RECEIVER, &port.to_string(), secret, &fail.to_string()])
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the receiver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the receiver did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, log }
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn every_event_reaches_a_real_receiver_signed_in_order_once_through_retries_and_restarts() {
    for db in backends(
        "every_event_reaches_a_real_receiver_signed_in_order_once_through_retries_and_restarts",
    )
    .await
    {
        let (d, dir, _) = dashboard_on_manual_clock(&db).await;
        let admin = Principal::local_admin();
        let port = bygd_testkit::free_port();
        let created = d
            .webhooks()
            .create(
                &admin,
                &NewWebhook {
                    url: format!("http://127.0.0.1:{port}/bygd"),
                    events: bygd_dashboard::EVENT_KINDS
                        .iter()
                        .map(|k| (*k).to_owned())
                        .collect(),
                    sites: vec![SITE.into()],
                },
            )
            .await
            .unwrap();
        assert_eq!(created.secret.len(), 64);
        let receiver = Receiver::start(dir.path(), port, &created.secret, 2);

        // One of each: a member, a pass, an entry and a denial, a revocation, an alarm
        // raised (a forged batch) and closed.
        d.members()
            .add(
                &admin,
                &NewMember {
                    id: "anna".into(),
                    name: "Anna".into(),
                    email: None,
                    sites: vec![SITE.into()],
                    language: None,
                },
            )
            .await
            .unwrap();
        let pass = d
            .passes()
            .issue(
                &admin,
                &IssuePass {
                    member: "anna".into(),
                    site: SITE.into(),
                    booking: Some("b-1".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut log = Log::new();
        log.grant(now() - 10, "front", "anna");
        log.deny(now() - 5, "front", "anna");
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 2, &gateway_key()))
            .await
            .unwrap();
        d.passes().revoke(&admin, &pass.pass.id).await.unwrap();
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &bygd_dashboard_forger()))
            .await
            .unwrap();
        let alarm = d.alarms().list(&admin, true, 10).await.unwrap().remove(0);
        d.alarms()
            .acknowledge(&admin, &alarm.id, "checked: a test forgery")
            .await
            .unwrap();
        let expected = [
            "member.changed",
            "pass.issued",
            "entry.granted",
            "entry.denied",
            "pass.revoked",
            "alarm.raised",
            "alarm.closed",
        ];

        // The receiver fails the first two tries: the first delivery waits, and so does
        // everything behind it.
        let sender = WebhookSender::new(d.clone()).unwrap();
        let round = sender.deliver_due().await.unwrap();
        assert_eq!(
            round,
            WebhookRound {
                delivered: 0,
                failed: 1,
                given_up: 0
            }
        );
        let shown = d.webhooks().get(&admin, &created.webhook.id).await.unwrap();
        assert_eq!(shown.pending, 7);
        assert_eq!(
            shown.last_error.as_deref(),
            Some("the receiver answered 500")
        );
        // Not yet due: nothing is tried.
        assert_eq!(sender.deliver_due().await.unwrap(), WebhookRound::default());
        d.clock().advance(10);
        assert_eq!(sender.deliver_due().await.unwrap().failed, 1);
        d.clock().advance(20);
        let round = sender.deliver_due().await.unwrap();
        assert_eq!(round.delivered, 7, "{round:?}");

        let got = receiver.received();
        assert_eq!(
            got.len(),
            9,
            "two failed tries and seven deliveries: {got:#?}"
        );
        assert!(
            got.iter().all(|g| g["valid"] == true),
            "a bad signature: {got:#?}"
        );
        assert_eq!(
            got[0]["delivery"], got[1]["delivery"],
            "a retry sends the same delivery"
        );
        assert_eq!(got[1]["delivery"], got[2]["delivery"]);
        let delivered: Vec<&Value> = got.iter().filter(|g| g["answer"] == 204).collect();
        let kinds: Vec<&str> = delivered
            .iter()
            .map(|g| g["event"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, expected, "in the order they happened");
        for g in &delivered {
            assert_eq!(g["body"]["kind"], g["event"]);
            assert_eq!(g["body"]["id"], g["delivery"]);
            assert_eq!(g["body"]["site"], SITE);
        }
        assert_eq!(delivered[1]["body"]["data"]["booking"], "b-1");
        assert_eq!(delivered[2]["body"]["data"]["member"], "anna");
        assert!(delivered[3]["body"]["data"]["reason"].is_string());

        // A restarted dashboard's sender sends nothing again.
        let restarted = WebhookSender::new(d.clone()).unwrap();
        assert_eq!(
            restarted.deliver_due().await.unwrap(),
            WebhookRound::default()
        );
        assert_eq!(receiver.received().len(), 9);
        let shown = d.webhooks().get(&admin, &created.webhook.id).await.unwrap();
        assert_eq!((shown.pending, shown.failed), (0, 0));

        // A deleted subscription hears of nothing more.
        d.webhooks()
            .delete(&admin, &created.webhook.id)
            .await
            .unwrap();
        d.passes().revoke(&admin, &pass.pass.id).await.unwrap_err();
        d.members().revoke(&admin, "anna").await.unwrap();
        assert_eq!(
            restarted.deliver_due().await.unwrap(),
            WebhookRound::default()
        );
        assert_eq!(receiver.received().len(), 9);
    }
}

/// The forger's key, from the common module.
fn bygd_dashboard_forger() -> bygd_protocol::SecretKey {
    forger_key()
}
