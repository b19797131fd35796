//! Denial floods and the disk: garbage presented at a reader all night must not fill the SD
//! card one durable event at a time, and a full disk must never cost a grant its log entry.
//! Real daemon processes, presentations over the control socket, the log read back through
//! `bygd-gateway log --json`.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Garbage presentations at one reader (the issue's number).
const GARBAGE: usize = 10_000;

/// A code a reader could send from a damaged or foreign QR code: right prefix, bad base45.
const GARBAGE_TEXT: &str = "BYGD1:not base45 at all!";

/// Events the flood may cost at most: the first denial of each run and one count per run
/// (a grant splits the flood into two runs).
const MAX_FLOOD_EVENTS: usize = 4;

/// How long the disk check may take to report after start (it runs every 5 s).
const DISK_CHECK_TIMEOUT: Duration = Duration::from_secs(20);

fn of_kind<'a>(log: &'a [Value], kind: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn ten_thousand_garbage_presentations_make_a_few_events_with_the_right_total_count() {
    let mut gw = Gateway::with(Setup {
        policy: "denial_window_seconds = 3600\n".into(),
        ..Setup::default()
    });
    gw.start();
    let first = gw.present(FRONT, GARBAGE_TEXT);
    first.assert_denied("bad_encoding");
    for i in 1..GARBAGE {
        if i == GARBAGE / 2 {
            // A grant in between is logged on its own and ends the run.
            gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
        }
        // Over the socket directly: the CLI would start a process per presentation.
        let again = gw
            .request(&json!({ "op": "present", "door": FRONT, "text": GARBAGE_TEXT }))
            .expect("present over the socket");
        assert_eq!(
            (&again["decision"], &again["reason"]),
            (&json!("denied"), &json!("bad_encoding"))
        );
        if i < GARBAGE / 2 {
            assert_eq!(
                (&again["seq"], &again["repeat_of"]),
                (&Value::Null, &json!(first.seq())),
                "a repeat names its run's event"
            );
        }
    }
    gw.stop_cleanly();

    let log = gw.log();
    let flood: Vec<&Value> = log
        .iter()
        .filter(|e| {
            matches!(
                e["type"].as_str(),
                Some("entry_denied" | "denials_repeated" | "entry_granted")
            )
        })
        .collect();
    let kinds: Vec<&str> = flood.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "entry_denied",
            "denials_repeated",
            "entry_granted",
            "entry_denied",
            "denials_repeated"
        ],
        "each run is its first denial and one count, the grant between them: {flood:#?}"
    );
    assert!(flood.len() - 1 <= MAX_FLOOD_EVENTS);
    let denied = of_kind(&log, "entry_denied").len() as u64;
    let repeated: u64 = of_kind(&log, "denials_repeated")
        .iter()
        .map(|e| {
            assert_eq!(e["reason"], "bad_encoding");
            assert_eq!(e["door"], FRONT);
            assert!(e["pass_id"].is_null());
            assert!(e["first"].as_u64() <= e["last"].as_u64());
            e["count"].as_u64().expect("a count")
        })
        .sum();
    assert_eq!(
        denied + repeated,
        GARBAGE as u64,
        "every presentation is counted"
    );
    assert_eq!(
        of_kind(&log, "denials_repeated")[0]["count"],
        (GARBAGE / 2 - 1) as u64,
        "the first run counts the repeats before the grant"
    );
    gw.verify_log();
}

#[test]
fn denials_that_differ_are_each_logged() {
    let mut gw = Gateway::started();
    gw.present(FRONT, GARBAGE_TEXT)
        .assert_denied("bad_encoding");
    gw.present(FRONT, "no prefix").assert_denied("bad_prefix");
    gw.present(WORKSHOP, "no prefix")
        .assert_denied("bad_prefix");
    gw.present(FRONT, GARBAGE_TEXT)
        .assert_denied("bad_encoding");
    gw.stop_cleanly();
    let log = gw.log();
    assert_eq!(of_kind(&log, "entry_denied").len(), 4, "{log:#?}");
    assert!(of_kind(&log, "denials_repeated").is_empty(), "{log:#?}");
}

#[test]
fn the_disk_watermark_alarm_fires_and_grants_are_still_logged() {
    // A watermark of a petabyte: above the free space of any disk the test runs on.
    let mut gw = Gateway::with(Setup {
        policy: "min_free_disk_mb = 1000000000\n".into(),
        ..Setup::default()
    });
    gw.start();
    let deadline = Instant::now() + DISK_CHECK_TIMEOUT;
    while gw.status()["core"]["disk_low"] != true {
        assert!(
            Instant::now() < deadline,
            "the disk-low alarm did not fire: {}\n{}",
            gw.status(),
            gw.daemon_stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(gw.status()["core"]["free_disk_bytes"].as_u64().unwrap() > 0);
    for member in ["anna", "britt", "cecilia"] {
        gw.present(FRONT, &issue(&claims(member))).assert_granted();
    }
    gw.stop_cleanly();
    let log = gw.log();
    let alarms = of_kind(&log, "disk_low");
    assert_eq!(alarms.len(), 1, "{log:#?}");
    assert_eq!(alarms[0]["raised"], true);
    assert_eq!(
        of_kind(&log, "entry_granted").len(),
        3,
        "every grant is logged past the watermark"
    );
    assert!(gw
        .daemon_stderr()
        .contains("disk space below the watermark"));
}
