//! Hostile messages through a real broker: CBOR bombs on the command and revocation topics,
//! and messages larger than the gateway's MQTT client reads at all. The gateway must refuse
//! each, say so in its log, keep its link and its doors working, and keep its memory within
//! [`RSS_BUDGET_KIB`] (the real process's peak resident set, `VmHWM`).
//!
//! The bombs run on rumqttd and mosquitto; a message over the client's limit needs a broker
//! that passes it on (rumqttd refuses payloads over 16 MiB itself), so that scenario runs on
//! mosquitto only (skipped with a message without it, unless `BYGD_REQUIRE_MOSQUITTO=1`).

mod common;
mod uplink_support;

use bygd_protocol::{
    CommandOutcome, EventBody, Rejection, TopicKind, MAX_COMMAND_BYTES, MAX_REVOCATION_LIST_BYTES,
};
use common::*;
use std::time::{Duration, Instant};
use uplink_support::*;

/// How long one message takes to be refused and reported back.
const ROUND_TRIP: Duration = Duration::from_secs(30);

/// The bombs' size: tens of megabytes would not pass rumqttd (16 MiB payloads at most), and
/// 15 MB of one-byte items is already 15 million items: some 500 MB to 1 GB as decoded
/// values, where the gateway must stay within [`RSS_BUDGET_KIB`].
const BOMB_BYTES: usize = 15_000_000;

/// A message larger than the gateway's MQTT client reads (its limit is the largest list's
/// cap plus the MQTT header).
const OVERSIZE_BYTES: usize = MAX_REVOCATION_LIST_BYTES + 4 * 1024 * 1024;

/// The gateway process's peak resident set, in KiB. Its own footprint is some 10 to 20 MB;
/// a message under the client's limit is held at most twice (rumqttc's read buffer and the
/// payload handed on), and everything larger is refused as its header arrives: 2 × 25 MiB
/// plus the footprint, with room for the allocator, is 128 MiB. Decoding a bomb's items
/// would take gigabytes.
const RSS_BUDGET_KIB: u64 = 128 * 1024;

/// How long the link is watched for reconnects once it has settled.
const SETTLED_WATCH: Duration = Duration::from_secs(6);

/// A COSE_Sign1 look-alike whose payload position holds `len - 72` one-byte CBOR items: an
/// array of zeros, then an empty signature-sized tail. `len` bytes in all.
fn bomb(len: usize) -> Vec<u8> {
    let items = u32::try_from(len - 3 - 5 - 66).expect("a bomb under 4 GB");
    let mut bytes = vec![0x84, 0x40, 0xa0, 0x9a];
    bytes.extend(items.to_be_bytes());
    bytes.resize(bytes.len() + items as usize, 0x00);
    bytes.extend([0x58, 0x40]);
    bytes.extend([0u8; 64]);
    assert_eq!(bytes.len(), len);
    bytes
}

/// The peak resident set of a process, in KiB, from `/proc/<pid>/status`.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("read /proc/<pid>/status of the gateway");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status:\n{status}"))
}

#[track_caller]
fn assert_rss_within_budget(gw: &Gateway, broker: &dyn Broker) {
    let peak = peak_rss_kib(gw.pid());
    eprintln!("{}: gateway peak RSS {peak} KiB", broker.name());
    assert!(
        peak <= RSS_BUDGET_KIB,
        "the gateway's peak resident set was {peak} KiB on {}, over the budget of \
         {RSS_BUDGET_KIB} KiB",
        broker.name()
    );
}

#[track_caller]
fn assert_granted(gw: &Gateway, member: &str) {
    gw.present(FRONT, &issue(&claims(member))).assert_granted();
}

/// Times the uplink connected so far, from the daemon's log.
fn connections(gw: &Gateway) -> usize {
    gw.daemon_stderr().matches("uplink connected").count()
}

/// A command of one-byte items and a retained revocation list of one-byte items: each is
/// refused and recorded, the daemon says why, a pass is still granted and the events reach
/// the dashboard, and memory stays within budget.
fn cbor_bombs_are_refused_and_the_gateway_keeps_working(broker: &mut dyn Broker) {
    let mut gw = Gateway::new();
    connect_gateway(&gw, broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    stand_in.wait_online_after(0);
    assert_granted(&gw, "anna");

    let command_bomb = bomb(BOMB_BYTES);
    assert!(command_bomb.len() > MAX_COMMAND_BYTES);
    stand_in.publish(&stand_in.topic(TopicKind::Command), command_bomb, false);
    stand_in.wait_for_event("the command bomb refused as too large", ROUND_TRIP, |b| {
        matches!(
            b,
            EventBody::CommandResult {
                seq: 0,
                outcome: CommandOutcome::Refused(Rejection::TooLarge),
                ..
            }
        )
    });

    stand_in.publish_revocations(bomb(BOMB_BYTES));
    stand_in.wait_for_event("the list bomb refused as malformed", ROUND_TRIP, |b| {
        matches!(
            b,
            EventBody::RevocationRefused {
                version: None,
                reason: Rejection::Malformed
            }
        )
    });

    assert_granted(&gw, "britt");
    stand_in.wait_for_event(
        "britt's entry",
        ROUND_TRIP,
        |b| matches!(b, EventBody::EntryGranted { member, .. } if member.as_str() == "britt"),
    );
    let log = gw.daemon_stderr();
    assert!(
        log.contains("refused undecoded")
            && log.contains("revocation list from the broker refused"),
        "the daemon's log says what it refused:\n{log}"
    );
    assert_rss_within_budget(&gw, broker);
    gw.stop_cleanly();
}

on_both_brokers!(cbor_bombs_are_refused_and_the_gateway_keeps_working:
    cbor_bombs_through_rumqttd_are_refused_and_the_gateway_keeps_working,
    cbor_bombs_through_mosquitto_are_refused_and_the_gateway_keeps_working);

/// Waits until the gateway has reported `n` links dropped by oversize messages.
#[track_caller]
fn wait_for_drops(gw: &Gateway, broker: &dyn Broker, n: usize) {
    let deadline = Instant::now() + ROUND_TRIP;
    while gw
        .daemon_stderr()
        .matches("dropped the broker link")
        .count()
        < n
    {
        assert!(
            Instant::now() < deadline,
            "the gateway did not report {n} oversize messages; its log:\n{}\nbroker log:\n{}",
            gw.daemon_stderr(),
            broker.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Messages over the client's limit, queued on the command topic and retained on the
/// revocation topic, drop the link once each; the gateway then reconnects with a clean
/// session and leaves the revocation topic alone, so the link stays up, a pass is granted
/// and its event reaches the dashboard, the status says what happened, and memory stays
/// within budget.
#[test]
fn messages_over_the_client_limit_do_not_keep_the_link_down() {
    let Some(broker) = Mosquitto::start("messages_over_the_client_limit_do_not_keep_the_link_down")
    else {
        return;
    };
    let mut gw = Gateway::new();
    connect_gateway(&gw, &broker);
    let stand_in = StandIn::connect(&broker, &gw);
    gw.start();
    stand_in.wait_online_after(0);

    // Retained: without leaving the topic alone it would come back at every subscription.
    stand_in.publish_revocations(bomb(OVERSIZE_BYTES));
    wait_for_drops(&gw, &broker, 1);
    stand_in.wait_online_after(stand_in.statuses_seen());
    // Queued in the gateway's persistent session: without a clean start it would come back
    // at every reconnect.
    stand_in.publish(
        &stand_in.topic(TopicKind::Command),
        bomb(OVERSIZE_BYTES),
        false,
    );
    wait_for_drops(&gw, &broker, 2);
    // Settled: one connection after each drop, and no more while it is watched.
    let seen = stand_in.statuses_seen();
    stand_in.wait_online_after(seen);
    let settled = connections(&gw);
    assert_granted(&gw, "anna");
    stand_in.wait_for_event(
        "anna's entry",
        ROUND_TRIP,
        |b| matches!(b, EventBody::EntryGranted { member, .. } if member.as_str() == "anna"),
    );
    std::thread::sleep(SETTLED_WATCH);
    assert_eq!(
        connections(&gw),
        settled,
        "the link stayed up once settled; daemon log:\n{}",
        gw.daemon_stderr()
    );
    assert!(
        settled <= 3,
        "{settled} connections for two oversize messages"
    );
    let status = stand_in
        .retained_status(&broker)
        .expect("a retained status");
    assert_eq!(status["uplink"]["oversize_messages"], 2, "{status}");
    assert_eq!(status["uplink"]["revocations_paused"], true, "{status}");
    assert_rss_within_budget(&gw, &broker);
    gw.stop_cleanly();
}
