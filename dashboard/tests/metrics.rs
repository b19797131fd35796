//! `GET /metrics`, read with the Prometheus project's own Python client parser
//! (`prometheus_client.parser`): events stored once each (a redelivery counts nothing), a
//! refused batch, the gateway's state, open alarms and the mail outbox; a scraper needs a
//! token with `gateways:read`.
//!
//! Skipped (saying SKIPPED) without `python3-prometheus-client`, unless
//! `BYGD_REQUIRE_PROMETHEUS=1` (as in CI).

mod common;

use bygd_dashboard::{Principal, Scope, Sites};
use bygd_testkit::prometheus::{parse, parser, value};
use common::*;

#[tokio::test]
async fn metrics_parse_with_prometheus_and_count_each_stored_event_once() {
    let test = "metrics_parse_with_prometheus_and_count_each_stored_event_once";
    let Some(python) = parser(test) else { return };
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
