//! `GET /metrics`, read with the Prometheus project's own Python client parser
//! (`prometheus_client.parser`): events stored once each (a redelivery counts nothing), a
//! refused batch, the gateway's state, open alarms and the mail outbox; a scraper needs a
//! token with `gateways:read`.
//!
//! Skipped (saying SKIPPED) without `python3-prometheus-client`, unless
//! `BYGD_REQUIRE_PROMETHEUS=1` (as in CI).

mod common;

use bygd_dashboard::{Principal, Scope, Sites};
use common::*;
use serde_json::Value;
use std::io::Write as _;
use std::process::{Command, Stdio};

const REQUIRE: &str = "BYGD_REQUIRE_PROMETHEUS";

/// A Python with `prometheus_client`, or `None` (and SKIPPED) when it is missing and not
/// required.
fn python(test: &str) -> Option<&'static str> {
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import prometheus_client.parser"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var(REQUIRE).as_deref() != Ok("1"),
            "{test}: Python's prometheus_client is not installed but {REQUIRE}=1 requires it; \
             apt-get install python3-prometheus-client"
        );
        eprintln!(
            "SKIPPED {test}: Python's prometheus_client is not installed (apt-get install \
             python3-prometheus-client; set {REQUIRE}=1 to make this a failure)"
        );
    }
    found
}

/// The samples of a metrics page as the Prometheus parser reads it: `[name, labels, value]`.
fn parse(python: &str, text: &str) -> Vec<Value> {
    const SCRIPT: &str = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = []\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       out.append([s.name, s.labels, s.value, family.type])\n\
        print(json.dumps(out))\n";
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the page: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s[0] == name && labels.iter().all(|(k, v)| s[1][*k].as_str() == Some(*v)))
        .and_then(|s| s[2].as_f64())
}

#[tokio::test]
async fn metrics_parse_with_prometheus_and_count_each_stored_event_once() {
    let test = "metrics_parse_with_prometheus_and_count_each_stored_event_once";
    let Some(python) = python(test) else { return };
    for db in backends(test).await {
        let (d, _dir, _) = dashboard(&db).await;
        let mut log = Log::new();
        for i in 0..5 {
            log.grant(now() - 100 + i, "front", "anna");
        }
        let key = gateway_key();
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 3, &key))
            .await
            .unwrap();
        // A redelivery overlapping what is stored: two new events, not four.
        d.ingest_batch(SITE, GATEWAY, &log.batch(2, 5, &key))
            .await
            .unwrap();
        // A forged batch: refused, and an integrity alarm.
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &forger_key()))
            .await
            .unwrap();

        let admin = Principal::local_admin();
        let (scraper, _) = d
            .tokens()
            .create(
                &admin,
                "prometheus",
                &[Scope::GatewaysRead, Scope::AlarmsRead].into(),
                &Sites::All,
                None,
            )
            .await
            .unwrap();
        let page = call(&d, "GET", "/metrics", Some(&scraper), None).await;
        assert_eq!(page.status, 200, "{}", page.text());
        assert!(page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        let samples = parse(python, &page.text());
        assert_eq!(
            value(&samples, "bygd_events_stored_total", &[]),
            Some(5.0),
            "{samples:?}"
        );
        assert_eq!(
            value(&samples, "bygd_batches_refused_total", &[]),
            Some(1.0)
        );
        let gw = [("site", SITE), ("gateway", GATEWAY)];
        assert_eq!(value(&samples, "bygd_gateway_events", &gw), Some(5.0));
        assert_eq!(value(&samples, "bygd_gateway_online", &gw), Some(0.0));
        assert_eq!(
            value(
                &samples,
                "bygd_alarms_open",
                &[("site", SITE), ("kind", "integrity")]
            ),
            Some(1.0),
            "{samples:?}"
        );
        assert_eq!(
            value(&samples, "bygd_mail_outbox", &[("state", "queued")]),
            Some(0.0)
        );
        // Without a broker there is no link to report.
        assert_eq!(value(&samples, "bygd_mqtt_connected", &[]), None);

        let nobody = call(&d, "GET", "/metrics", None, None).await;
        assert_eq!(nobody.status, 401);
        let (reader, _) = d
            .tokens()
            .create(
                &admin,
                "reader",
                &[Scope::EntriesRead].into(),
                &Sites::All,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            call(&d, "GET", "/metrics", Some(&reader), None)
                .await
                .status,
            403
        );
    }
}
