//! Freeze detection and the status intake, on SQLite and PostgreSQL: a gateway that stays
//! online with an older revocation list than its site's raises an alarm after the allowed
//! lag, read from its signed log; and a status message that no gateway sends (too large, not
//! JSON) is dropped with an alarm instead of being stored.

mod common;

use bygd_dashboard::{LagReport, Principal};
use bygd_protocol::{ClockQuality, EventBody};
use common::*;

/// The default lag allowed: 30 minutes.
const MAX_LAG: i64 = 30 * 60;

async fn open_alarms(d: &bygd_dashboard::Dashboard, kind: &str) -> Vec<bygd_dashboard::AlarmInfo> {
    d.alarms()
        .list(&Principal::local_admin(), true, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == kind)
        .collect()
}

#[tokio::test]
async fn a_gateway_online_with_an_old_list_raises_an_alarm_until_it_logs_the_current_one() {
    for db in backends("a_gateway_online_with_an_old_list_raises_an_alarm").await {
        let (d, _dir, _) = dashboard_on_manual_clock(&db).await;
        let clock = d.clock();
        let key = gateway_key();
        let start = u64::try_from(d.now()).unwrap();
        let old = d.revocation_lists().refresh(SITE).await.unwrap();
        let mut log = Log::new();
        log.push(
            start,
            ClockQuality::Synchronised,
            EventBody::RevocationApplied { version: old },
        );
        d.ingest_batch(SITE, GATEWAY, &log.batch(1, 1, &key))
            .await
            .unwrap();
        let current = d.revocation_lists().refresh(SITE).await.unwrap();
        assert!(current > old);

        // Offline, a lag is not the gateway's fault: it has its own alarm.
        clock.advance(2 * MAX_LAG);
        assert_eq!(
            d.revocation_lists().check_lag(MAX_LAG).await.unwrap(),
            LagReport::default()
        );

        d.take_status(SITE, GATEWAY, br#"{"online": true}"#)
            .await
            .unwrap();
        // Within the allowed lag: nothing yet.
        clock.advance(MAX_LAG - 60);
        assert_eq!(
            d.revocation_lists()
                .check_lag(MAX_LAG)
                .await
                .unwrap()
                .lagging,
            0
        );
        // A heartbeat while online does not restart the clock.
        d.take_status(SITE, GATEWAY, br#"{"online": true}"#)
            .await
            .unwrap();
        clock.advance(120);
        let report = d.revocation_lists().check_lag(MAX_LAG).await.unwrap();
        assert_eq!(report.lagging, 1);
        let alarms = open_alarms(&d, "revocation_lag").await;
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert!(
            alarms[0].detail.contains(&format!("list v{old}"))
                && alarms[0].detail.contains(&format!("v{current}")),
            "{}",
            alarms[0].detail
        );

        // The site re-signs its list while the gateway is still behind (a revocation, or the
        // 12-hourly refresh): the lag keeps counting from when the gateway fell behind.
        clock.advance(40);
        let newest = d.revocation_lists().refresh(SITE).await.unwrap();
        clock.advance(10);
        let report = d.revocation_lists().check_lag(MAX_LAG).await.unwrap();
        assert_eq!(report.lagging, 1, "a newly signed list restarted the lag");
        let current = newest;

        // The gateway logs that it applied the current list: the alarm clears.
        log.push(
            start + 1,
            ClockQuality::Synchronised,
            EventBody::RevocationApplied { version: current },
        );
        d.ingest_batch(SITE, GATEWAY, &log.batch(2, 2, &key))
            .await
            .unwrap();
        clock.advance(10);
        let report = d.revocation_lists().check_lag(MAX_LAG).await.unwrap();
        assert_eq!(
            report,
            LagReport {
                lagging: 0,
                caught_up: 1
            }
        );
        assert!(open_alarms(&d, "revocation_lag").await.is_empty());
    }
}

#[tokio::test]
async fn a_gateway_that_never_logged_a_list_counts_as_lagging() {
    for db in backends("a_gateway_that_never_logged_a_list_counts_as_lagging").await {
        let (d, _dir, _) = dashboard_on_manual_clock(&db).await;
        d.take_status(SITE, GATEWAY, br#"{"online": true}"#)
            .await
            .unwrap();
        d.clock().advance(MAX_LAG + 60);
        assert_eq!(
            d.revocation_lists()
                .check_lag(MAX_LAG)
                .await
                .unwrap()
                .lagging,
            1
        );
        let alarms = open_alarms(&d, "revocation_lag").await;
        assert!(alarms[0].detail.contains("no list"), "{}", alarms[0].detail);
    }
}

#[tokio::test]
async fn status_noise_is_dropped_with_an_alarm_and_not_stored() {
    for db in backends("status_noise_is_dropped_with_an_alarm_and_not_stored").await {
        let (d, _dir, _) = dashboard(&db).await;
        let admin = Principal::local_admin();
        let mut noise = br#"{"online": true, "x": ""#.to_vec();
        noise.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
        noise.extend(br#""}"#);
        assert_eq!(d.take_status(SITE, GATEWAY, &noise).await.unwrap(), None);
        let g = &d.gateways().list(&admin).await.unwrap()[0];
        assert!(
            !g.online,
            "a 2 MiB status must not be taken, even with online: true"
        );
        assert_eq!(open_alarms(&d, "bad_message").await.len(), 1);
        assert_eq!(
            d.take_status(SITE, GATEWAY, b"\xff\x00").await.unwrap(),
            None
        );
        let alarms = open_alarms(&d, "bad_message").await;
        assert_eq!(alarms[0].count, 2, "a repeat counts on the open alarm");
        // A name nobody registered gets no alarm row: anyone could invent any number.
        assert_eq!(d.take_status(SITE, "nobody", b"noise").await.unwrap(), None);
        assert!(d
            .alarms()
            .list(&admin, true, 50)
            .await
            .unwrap()
            .iter()
            .all(|a| a.gateway != "nobody"));
    }
}
