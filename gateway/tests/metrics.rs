//! `GET /metrics` of a real `bygd-gateway run` over real TCP, read with the Prometheus
//! project's own Python parser (`prometheus_client.parser`): decisions by outcome and reason,
//! the outbox, the revocation list, the clock state, the store and the doors; garbage requests
//! get an error answer and the daemon keeps serving; without `[metrics]` no port is opened.
//!
//! The parsing test is skipped (saying SKIPPED) without `python3-prometheus-client`, unless
//! `BYGD_REQUIRE_PROMETHEUS=1` (as in CI).

mod common;

use bygd_testkit::prometheus::{parse, parser, value};
use common::*;
use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// How long one HTTP exchange may take before the test fails instead of hanging: the daemon
/// answers at once; this is slack for a loaded machine, not an expectation.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// How old the test's revocation list is when applied, in seconds.
const LIST_AGE: u64 = 60;

/// A gateway whose config serves metrics on a free loopback port, and that port.
fn gateway_with_metrics() -> (Gateway, u16) {
    let port = bygd_testkit::free_port();
    let gw = Gateway::with(Setup {
        top_level_extra: format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        ..Setup::default()
    });
    (gw, port)
}

/// An HTTP answer: the status line, the header lines and the body.
#[derive(Debug)]
struct Answer {
    status: String,
    headers: Vec<String>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` as is to the metrics port and reads the whole answer (the server closes).
fn exchange(port: u16, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics port");
    stream
        .set_read_timeout(Some(HTTP_TIMEOUT))
        .expect("timeout");
    stream
        .set_write_timeout(Some(HTTP_TIMEOUT))
        .expect("timeout");
    // A server that answers before reading everything may close early; its answer counts.
    let _ = stream.write_all(request);
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("read the answer until the server closes");
    let text = String::from_utf8(raw).expect("the answer is UTF-8");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {text:?}"));
    let mut lines = head.split("\r\n");
    Answer {
        status: lines.next().unwrap_or_default().to_owned(),
        headers: lines.map(str::to_owned).collect(),
        body: body.to_owned(),
    }
}

/// `GET /metrics`, asserting a 200 with the text format's content type and an exact length.
#[track_caller]
fn scrape(port: u16) -> String {
    let answer = exchange(
        port,
        b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n",
    );
    assert_eq!(answer.status, "HTTP/1.1 200 OK", "{answer:?}");
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        answer.header("content-length"),
        Some(answer.body.len().to_string().as_str())
    );
    answer.body
}

/// The TCP ports process `pid` listens on, from `/proc` (its socket inodes matched against
/// the kernel's tables of listening sockets).
fn listening_ports(pid: u32) -> BTreeSet<u16> {
    let inodes: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read the daemon's fds")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let mut ports = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is field 1 (ADDR:PORT in hex), st field 3 (0A = LISTEN),
            // inode field 9.
            let (Some(local), Some(&"0A"), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            if inodes.contains(*inode) {
                let port = local.rsplit(':').next().unwrap_or_default();
                ports.insert(u16::from_str_radix(port, 16).expect("a hex port"));
            }
        }
    }
    ports
}

#[test]
fn metrics_parse_with_prometheus_and_count_a_grant_and_a_denial_with_its_reason() {
    let test = "metrics_parse_with_prometheus_and_count_a_grant_and_a_denial_with_its_reason";
    let Some(python) = parser(test) else { return };
    let (mut gw, port) = gateway_with_metrics();
    gw.start();

    let applied = gw.revocations(&revocation_list(5, &[], &[], now() - LIST_AGE));
    assert_eq!(applied.code, Some(0), "{applied:#?}");
    let anna = claims("anna");
    gw.present(FRONT, &issue(&anna)).assert_granted();
    gw.present(FRONT, &pass_text(&anna.issue(&stranger())))
        .assert_denied("unknown_key");

    let before = gw.status();
    let page = scrape(port);
    let after = gw.status();
    let samples = parse(python, &page);

    assert_eq!(
        value(
            &samples,
            "bygd_gateway_decisions_total",
            &[("outcome", "granted")]
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        value(
            &samples,
            "bygd_gateway_decisions_total",
            &[("outcome", "denied"), ("reason", "unknown_key")]
        ),
        Some(1.0),
        "{page}"
    );
    let denials = samples
        .iter()
        .filter(|s| s[0] == "bygd_gateway_decisions_total" && s[1]["outcome"] == "denied")
        .count();
    assert_eq!(denials, 1, "one denial reason seen: {page}");
    assert!(
        samples
            .iter()
            .any(|s| s[0] == "bygd_gateway_decisions_total" && s[3] == "counter"),
        "decisions are a counter: {samples:?}"
    );
    assert_eq!(value(&samples, "bygd_gateway_core_up", &[]), Some(1.0));

    // Without an uplink every logged event waits in the outbox; none can leave it.
    let outbox = value(&samples, "bygd_gateway_outbox_events", &[]).expect("outbox depth");
    let (low, high) = (
        before["core"]["outbox"].as_f64().expect("outbox in status"),
        after["core"]["outbox"].as_f64().expect("outbox in status"),
    );
    assert!(
        low <= outbox && outbox <= high && outbox >= 4.0,
        "outbox {outbox}, status said {low} then {high}"
    );

    let issuer_id = issuer().public_key().id().to_string();
    assert_eq!(
        value(
            &samples,
            "bygd_gateway_revocation_list_version",
            &[("issuer", &issuer_id)]
        ),
        Some(5.0),
        "{page}"
    );
    let age =
        value(&samples, "bygd_gateway_revocation_list_age_seconds", &[]).expect("the list's age");
    assert!(
        (LIST_AGE as f64..86_400.0).contains(&age),
        "a list issued {LIST_AGE} s before it was applied: age {age}"
    );
    assert_eq!(
        value(&samples, "bygd_gateway_revocation_list_stale", &[]),
        Some(0.0)
    );

    let states: Vec<(String, f64)> = ["synchronised", "floor", "unsynchronised"]
        .into_iter()
        .map(|state| {
            let v = value(&samples, "bygd_gateway_clock_state", &[("state", state)])
                .unwrap_or_else(|| panic!("no clock state {state} in {page}"));
            (state.to_owned(), v)
        })
        .collect();
    let current: Vec<&str> = states
        .iter()
        .filter(|(_, v)| *v == 1.0)
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(current.len(), 1, "exactly one clock state: {states:?}");
    assert_eq!(
        Some(current[0]),
        after["core"]["clock"].as_str(),
        "the state status reports"
    );

    let store = value(&samples, "bygd_gateway_store_bytes", &[]).expect("store size");
    assert!(store > 0.0, "store size {store}");

    for door in [FRONT, WORKSHOP] {
        assert_eq!(
            value(&samples, "bygd_gateway_door_lockdown", &[("door", door)]),
            Some(0.0),
            "{page}"
        );
        assert_eq!(
            value(
                &samples,
                "bygd_gateway_door_alarm",
                &[("door", door), ("kind", "forced_open")]
            ),
            Some(0.0),
            "{page}"
        );
    }
    assert_eq!(
        value(
            &samples,
            "bygd_gateway_info",
            &[
                ("site", SITE),
                ("gateway", "gw1"),
                ("version", env!("CARGO_PKG_VERSION"))
            ]
        ),
        Some(1.0)
    );
    gw.stop_cleanly();
}

#[test]
fn garbage_requests_get_an_error_answer_and_the_daemon_keeps_serving() {
    let (mut gw, port) = gateway_with_metrics();
    gw.start();

    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Filler: ".to_vec();
    huge.resize(100 * 1024, b'a');
    huge.extend_from_slice(b"\r\n\r\n");
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("a 100 KB header line", huge, "431"),
        (
            "a method HTTP does not have",
            b"BREW /metrics HTTP/1.1\r\n\r\n".to_vec(),
            "405",
        ),
        ("POST", b"POST /metrics HTTP/1.1\r\n\r\n".to_vec(), "405"),
        (
            "another path",
            b"GET /admin HTTP/1.1\r\n\r\n".to_vec(),
            "404",
        ),
        (
            "binary noise",
            vec![0xff, 0x00, 0xfe, b'\r', b'\n', b'\r', b'\n'],
            "400",
        ),
        (
            "HTTP/2's preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
            "400",
        ),
    ];
    for (what, request, status) in cases {
        let answer = exchange(port, &request);
        assert!(
            answer.status.starts_with(&format!("HTTP/1.1 {status} ")),
            "{what}: expected {status}, got {answer:?}"
        );
        assert!(
            !answer.body.contains("bygd_gateway_"),
            "{what}: an error answer carries no metrics"
        );
    }
    // A client that connects and hangs up without a word costs nothing.
    drop(TcpStream::connect(("127.0.0.1", port)).expect("connect"));

    let page = scrape(port);
    assert!(
        page.contains("bygd_gateway_core_up 1"),
        "still serving after the garbage: {page}"
    );
    let anna = claims("anna");
    gw.present(FRONT, &issue(&anna)).assert_granted();
    assert!(
        scrape(port).contains("bygd_gateway_decisions_total{outcome=\"granted\"} 1"),
        "and still counting"
    );
    gw.stop_cleanly();
}

#[test]
fn without_a_metrics_section_the_gateway_listens_on_no_tcp_port() {
    let mut plain = Gateway::started();
    assert_eq!(
        listening_ports(plain.pid()),
        BTreeSet::new(),
        "metrics are off by default"
    );
    plain.stop_cleanly();

    // The same check sees the port when metrics are configured, so it could have failed.
    let (mut gw, port) = gateway_with_metrics();
    gw.start();
    assert_eq!(listening_ports(gw.pid()), BTreeSet::from([port]));
    gw.stop_cleanly();
}

#[test]
fn a_metrics_port_in_use_is_logged_and_the_doors_keep_working() {
    let (mut gw, port) = gateway_with_metrics();
    let _taken = std::net::TcpListener::bind(("127.0.0.1", port)).expect("take the port");
    gw.start();
    gw.wait_for(
        "the daemon to say why there are no metrics",
        HTTP_TIMEOUT,
        || gw.daemon_stderr().contains("cannot open the metrics port"),
    );
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    gw.stop_cleanly();
}
