//! The gateway's MQTT uplink against real brokers: rumqttd in this process and mosquitto as a
//! process (skipped with a message when it is not installed, unless `BYGD_REQUIRE_MOSQUITTO=1`,
//! as CI sets). A stand-in dashboard verifies batches, stores each event once and acks.
//!
//! Each scenario is written once, over the [`Broker`] trait, and run on both brokers. rumqttd
//! cannot be stopped in-process, so its "stop" cuts every link to it while it keeps its state;
//! mosquitto's is a real stop that loses everything it held.

mod common;
mod uplink_support;

use bygd_protocol::{
    Ack, Action, CommandId, CommandOutcome, EventBody, GatewayId, PassClaims, Rejection,
    RevocationList, SiteId, TopicKind, UnixTime,
};
use common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uplink_support::*;

/// How long the outbox may take to drain after the link is back: the gateway's reconnect
/// backoff and its resend timeout (15 s) when a batch was lost, with slack for a loaded
/// machine. Tests wait for the condition, not for this long.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one command, ack or list takes to be acted on and reported back.
const ROUND_TRIP: Duration = Duration::from_secs(15);
/// Entries in the broker-outage burst (the issue's number).
const BURST: usize = 1000;
/// Entries waiting when the gateway is killed: several times the uplink's window of 1,024
/// events in flight, so the drain is under way, not one round trip.
const BACKLOG: usize = 4000;
/// Presenting threads: the core folds concurrent presentations into shared commits.
const PRESENTERS: usize = 4;

/// A gateway (not started) whose `[mqtt]` section points at `broker`.
fn gateway_on(broker: &dyn Broker) -> Gateway {
    // The scenarios build their backlogs from one expired pass presented again and again:
    // each presentation must be its own event, not a count of repeated denials.
    let gateway = Gateway::with(Setup {
        policy: "denial_window_seconds = 0\n".into(),
        ..Setup::default()
    });
    connect_gateway(&gateway, broker);
    gateway
}

/// The gateway's status over the control socket.
#[track_caller]
fn status(gw: &Gateway) -> Value {
    gw.request(&json!({ "op": "status" }))
        .unwrap_or_else(|e| panic!("status: {e}; daemon stderr:\n{}", gw.daemon_stderr()))
}

/// A number from the core's part of the status.
#[track_caller]
fn core_number(gw: &Gateway, field: &str) -> u64 {
    let status = status(gw);
    status["core"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("no core.{field} in {status}"))
}

/// One presentation over the socket; the reply.
#[track_caller]
fn present_fast(gw: &Gateway, door: &str, text: &str) -> Value {
    gw.request(&json!({ "op": "present", "door": door, "text": text }))
        .expect("present over the socket")
}

/// The text of a pass signed by the test issuer that expired a minute ago: presenting it is
/// a real decision (signature and all) that is logged and opens nothing.
fn expired_pass() -> String {
    issue(&PassClaims {
        expires: UnixTime(now() - 60),
        ..claims("expired")
    })
}

/// Waits until the stand-in holds every event the gateway logged and the outbox is empty.
#[track_caller]
fn wait_drained(gw: &Gateway, stand_in: &StandIn, broker: &dyn Broker) {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        let status = status(gw);
        let head = status["core"]["head_seq"].as_u64().expect("head_seq");
        let outbox = status["core"]["outbox"].as_u64().expect("outbox");
        if outbox == 0 && stand_in.head() == head {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain within {DRAIN_TIMEOUT:?} on {}: gateway head {head}, \
             outbox {outbox}; stand-in: {}\nbroker log:\n{}\ndaemon stderr:\n{}",
            broker.name(),
            stand_in.summary(),
            broker.log(),
            gw.daemon_stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The stand-in holds events 1..=head of the gateway, each stored once, in order, linked, and
/// byte for byte what the gateway's own log holds.
#[track_caller]
fn assert_dashboard_holds_the_whole_log(gw: &Gateway, stand_in: &StandIn) -> u64 {
    let head = core_number(gw, "head_seq");
    let store = bygd_gateway::Store::open_read_only(&gw.data_dir()).expect("open the store");
    let local = store.events(1, head).expect("read the gateway's log");
    assert_eq!(local.len() as u64, head, "the gateway's own log is whole");
    stand_in.with_log(|log| {
        let expected: Vec<u64> = (1..=head).collect();
        assert_eq!(
            log.events.keys().copied().collect::<Vec<_>>(),
            expected,
            "the stand-in holds every sequence number from 1 to the head"
        );
        assert_eq!(
            log.stored_order, expected,
            "each sequence number was stored once, in order"
        );
        assert_eq!(log.forks, 0, "no event arrived with two different contents");
        assert_eq!(log.head.seq, head);
        for (seq, bytes) in &local {
            assert_eq!(
                &log.events[seq].bytes, bytes,
                "event {seq} arrived exactly as the gateway logged it"
            );
        }
    });
    head
}

// ---------------------------------------------------------------------------------------------

/// Entries reach the dashboard in order, each once, and its acks empty the outbox.
fn events_reach_the_dashboard_in_order_and_acks_empty_the_outbox(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    let anna = issue(&claims("anna"));
    for i in 0..20 {
        let text = if i % 2 == 0 {
            anna.as_str()
        } else {
            "BYGD1:NOT-A-PASS"
        };
        let reply = present_fast(&gw, if i % 4 < 2 { FRONT } else { WORKSHOP }, text);
        assert!(reply["seq"].is_u64(), "{reply}");
    }
    wait_drained(&gw, &stand_in, broker);
    let head = assert_dashboard_holds_the_whole_log(&gw, &stand_in);
    assert!(
        head >= 22,
        "2 start-up events and 20 decisions, got head {head}"
    );
    let granted = stand_in.events_where(|b| matches!(b, EventBody::EntryGranted { .. }));
    assert_eq!(granted.len(), 10, "every grant reached the dashboard");
    assert!(
        stand_in.with_log(|l| l.refused.is_empty()),
        "no batch was refused: {}",
        stand_in.summary()
    );
    gw.stop_cleanly();
}

on_both_brokers!(events_reach_the_dashboard_in_order_and_acks_empty_the_outbox:
    events_reach_the_dashboard_in_order_and_acks_empty_the_outbox_through_rumqttd,
    events_reach_the_dashboard_in_order_and_acks_empty_the_outbox_through_mosquitto);

/// The broker goes away in the middle of a burst of 1,000 entries and comes back: every
/// entry arrives, in order, each stored once, and the outbox drains.
fn a_broker_outage_in_the_middle_of_a_burst_loses_nothing(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    let head_before = core_number(&gw, "head_seq");
    let text = expired_pass();
    let socket = gw.socket();
    let done = AtomicUsize::new(0);
    let stopped_after = std::thread::scope(|scope| {
        let burst = scope.spawn(|| present_burst(&socket, FRONT, &text, BURST, PRESENTERS, &done));
        while done.load(Ordering::SeqCst) < BURST / 4 && !burst.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        broker.stop();
        let stopped_after = done.load(Ordering::SeqCst);
        // Down for at least a second and until most of the burst was decided offline.
        let down = Instant::now();
        while (done.load(Ordering::SeqCst) < BURST * 3 / 4 && !burst.is_finished())
            || down.elapsed() < Duration::from_secs(1)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        broker.start();
        burst.join().expect("the burst");
        stopped_after
    });
    assert!(
        stopped_after < BURST,
        "the broker stopped in the middle of the burst (after {stopped_after} entries)"
    );
    wait_drained(&gw, &stand_in, broker);
    let head = assert_dashboard_holds_the_whole_log(&gw, &stand_in);
    assert!(head >= head_before + BURST as u64);
    eprintln!(
        "{} ({}): stopped after {stopped_after} of {BURST} entries; {}",
        broker.name(),
        if broker.stop_loses_state() {
            "stopped, state lost"
        } else {
            "link cut, state kept"
        },
        stand_in.summary()
    );
    let denied = stand_in.events_where(
        |b| matches!(b, EventBody::EntryDenied { reason, .. } if *reason == Rejection::Expired),
    );
    assert_eq!(denied.len(), BURST, "every entry of the burst arrived");
    gw.stop_cleanly();
}

on_both_brokers!(a_broker_outage_in_the_middle_of_a_burst_loses_nothing:
    a_link_cut_to_rumqttd_in_the_middle_of_a_burst_of_1000_entries_loses_nothing,
    mosquitto_stopped_in_the_middle_of_a_burst_of_1000_entries_and_restarted_loses_nothing);

/// A gateway killed with kill -9 while its backlog drains: after the restart every event
/// reaches the dashboard, none missing, repeats ignored.
fn a_gateway_killed_while_its_backlog_drains_loses_nothing(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    stand_in.set_acking(false);
    gw.start();
    let done = AtomicUsize::new(0);
    present_burst(
        &gw.socket(),
        FRONT,
        &expired_pass(),
        BACKLOG,
        PRESENTERS,
        &done,
    );
    let head = core_number(&gw, "head_seq");
    assert_eq!(core_number(&gw, "outbox"), head, "nothing acked yet");
    // Ack again, but never past two thirds, so the kill lands while the drain is under way.
    let (kill_at, limit) = (head / 3, head * 2 / 3);
    stand_in.set_ack_limit(Some(limit));
    stand_in.set_acking(true);
    stand_in.wait_until("acks to flow", ROUND_TRIP, |d| {
        d.gateways.values().all(|g| g.acked >= kill_at)
    });
    gw.kill9();
    let acked_at_kill = stand_in.with_log(|l| l.acked);
    assert!(
        acked_at_kill < head,
        "killed while the backlog drained (acked {acked_at_kill} of {head})"
    );

    gw.start();
    stand_in.set_ack_limit(None);
    wait_drained(&gw, &stand_in, broker);
    assert_dashboard_holds_the_whole_log(&gw, &stand_in);
    assert_eq!(gw.verify_log(), core_number(&gw, "head_seq"));
    eprintln!(
        "{}: killed with {acked_at_kill} of {head} events acked; after the restart: {}",
        broker.name(),
        stand_in.summary()
    );
    gw.stop_cleanly();
}

on_both_brokers!(a_gateway_killed_while_its_backlog_drains_loses_nothing:
    a_gateway_killed_while_its_backlog_drains_through_rumqttd_loses_nothing,
    a_gateway_killed_while_its_backlog_drains_through_mosquitto_loses_nothing);

/// Events the uplink keeps in flight (sent, not acked) at most: `WINDOW_EVENTS` in
/// gateway/src/uplink.rs.
const UPLINK_WINDOW: u64 = 1024;

/// A killed run may have sent up to a window (and a batch) past what was acked; the
/// dashboard holds those events and acks them after the restart. Those acks must count,
/// or the drain stops for good.
fn acks_for_what_a_killed_run_sent_count_after_the_restart(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    stand_in.set_acking(false);
    gw.start();
    let done = AtomicUsize::new(0);
    present_burst(
        &gw.socket(),
        FRONT,
        &expired_pass(),
        2000,
        PRESENTERS,
        &done,
    );
    let head = core_number(&gw, "head_seq");
    stand_in.wait_until("a full window at the stand-in", ROUND_TRIP, |d| {
        d.gateways.values().all(|g| g.head.seq >= UPLINK_WINDOW)
    });
    // An ack inside the window, off any batch boundary, lets one more batch out.
    let odd = 100;
    stand_in.set_ack_limit(Some(odd));
    stand_in.set_acking(true);
    stand_in.wait_until("the batch after the ack", ROUND_TRIP, |d| {
        d.gateways
            .values()
            .all(|g| g.head.seq > odd + UPLINK_WINDOW)
    });
    gw.wait_for("the ack to count", ROUND_TRIP, || {
        core_number(&gw, "outbox") == head - odd
    });
    gw.kill9();

    gw.start();
    stand_in.set_ack_limit(None);
    wait_drained(&gw, &stand_in, broker);
    assert_dashboard_holds_the_whole_log(&gw, &stand_in);
    gw.stop_cleanly();
}

on_both_brokers!(acks_for_what_a_killed_run_sent_count_after_the_restart:
    acks_through_rumqttd_for_what_a_killed_run_sent_count_after_the_restart,
    acks_through_mosquitto_for_what_a_killed_run_sent_count_after_the_restart);

/// The uplink's resend timeout: without an ack for this long, unacked events are sent
/// again (`ACK_TIMEOUT` in gateway/src/uplink.rs).
const UPLINK_ACK_TIMEOUT: Duration = Duration::from_secs(15);

/// After a quiet spell longer than the resend timeout, a new entry is sent once and then
/// waits the whole timeout for its ack, not resent at the next tick as if it had waited
/// through the quiet spell. (Timer logic, not broker behaviour: run on rumqttd only.)
#[test]
fn a_new_entry_after_a_quiet_spell_is_not_resent_before_the_timeout() {
    let broker = Rumqttd::start();
    let mut gw = gateway_on(&broker);
    let stand_in = StandIn::connect(&broker, &gw);
    gw.start();
    wait_drained(&gw, &stand_in, &broker);
    std::thread::sleep(UPLINK_ACK_TIMEOUT + Duration::from_secs(1));

    stand_in.set_acking(false);
    let head = present_fast(&gw, FRONT, "BYGD1:NOT-A-PASS")["seq"]
        .as_u64()
        .expect("seq");
    stand_in.wait_until("the new entry at the stand-in", ROUND_TRIP, |d| {
        d.gateways.values().all(|g| g.head.seq == head)
    });
    // Two ticks of the uplink's one-second timer.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        stand_in.with_log(|l| l.duplicates),
        0,
        "the entry was sent once; daemon stderr:\n{}",
        gw.daemon_stderr()
    );
    stand_in.set_acking(true);
    wait_drained(&gw, &stand_in, &broker);
    gw.stop_cleanly();
}

/// Commands: a valid unlock opens the door; forged, expired, replayed, misaddressed and
/// retained ones are refused and reported; lockdown works; a time beacon raises the floor.
fn commands_are_checked_acted_on_and_reported(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    let unlock = |s: &StandIn| {
        s.command(Action::Unlock {
            door: door(FRONT),
            seconds: 3,
        })
    };

    // Retained before the gateway subscribes: delivered with the retain flag, never acted on.
    let retained = unlock(&stand_in);
    stand_in.send_command(&retained, &issuer(), true);
    gw.start();
    assert_eq!(
        stand_in.reported_outcome("the retained command's result", retained.id, ROUND_TRIP),
        "retained_command"
    );
    assert!(!gw.lock_released(FRONT), "a retained command moved nothing");

    let valid = unlock(&stand_in);
    let valid_bytes = stand_in.send_command(&valid, &issuer(), false);
    assert_eq!(
        stand_in.reported_outcome("the unlock's result", valid.id, ROUND_TRIP),
        "done"
    );
    gw.wait_for("the front lock to be released", ROUND_TRIP, || {
        gw.lock_released(FRONT)
    });
    assert!(!gw.lock_released(WORKSHOP), "only the door named moved");

    // The same bytes again: the broker replaying a command.
    stand_in.publish(&stand_in.topic(TopicKind::Command), valid_bytes, false);
    stand_in.wait_for_event("the replay's result", ROUND_TRIP, |b| {
        matches!(b, EventBody::CommandResult { command, outcome: CommandOutcome::Refused(r), .. }
            if *command == valid.id && *r == Rejection::ReplayedCommand)
    });

    // Signed by a key the gateway does not trust: refused before its id can be read.
    let forged = unlock(&stand_in);
    stand_in.send_command(&forged, &stranger(), false);
    let forged_result = stand_in.wait_for_event("the forged command's result", ROUND_TRIP, |b| {
        matches!(
            b,
            EventBody::CommandResult {
                outcome: CommandOutcome::Refused(Rejection::UnknownKey | Rejection::BadSignature),
                ..
            }
        )
    });
    assert!(matches!(
        forged_result.event.body,
        EventBody::CommandResult { seq: 0, .. }
    ));

    let mut expired = unlock(&stand_in);
    expired.issued_at = UnixTime(now() - 120);
    expired.expires = UnixTime(now() - 61);
    stand_in.send_command(&expired, &issuer(), false);
    assert_eq!(
        stand_in.reported_outcome("the expired command's result", expired.id, ROUND_TRIP),
        "expired"
    );

    let mut misaddressed = unlock(&stand_in);
    misaddressed.gateway = GatewayId::new("gw2").expect("valid id");
    stand_in.send_command(&misaddressed, &issuer(), false);
    assert_eq!(
        stand_in.reported_outcome(
            "the misaddressed command's result",
            misaddressed.id,
            ROUND_TRIP
        ),
        "misaddressed"
    );

    // Let the valid unlock's relock happen, then check nothing refused moved the door.
    gw.wait_for("the front lock to relock", ROUND_TRIP, || {
        !gw.lock_released(FRONT)
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !gw.lock_released(FRONT),
        "no refused command moved the door"
    );

    let lockdown = stand_in.command(Action::Lockdown {
        door: Some(door(FRONT)),
        on: true,
    });
    stand_in.send_command(&lockdown, &issuer(), false);
    assert_eq!(
        stand_in.reported_outcome("the lockdown's result", lockdown.id, ROUND_TRIP),
        "done"
    );
    assert_eq!(status(&gw)["core"]["lockdowns"], json!([FRONT]));
    let anna = issue(&claims("anna"));
    assert_eq!(present_fast(&gw, FRONT, &anna)["reason"], "lockdown");
    assert_eq!(
        stand_in.run_command(
            Action::Lockdown {
                door: Some(door(FRONT)),
                on: false,
            },
            "the lift's result",
            ROUND_TRIP
        ),
        "done"
    );
    assert_eq!(present_fast(&gw, FRONT, &anna)["decision"], "granted");

    // Last: a floor two hours ahead makes every later short-lived command look expired.
    let ahead = now() + 7200;
    let beacon = stand_in.command(Action::TimeBeacon {
        time: UnixTime(ahead),
    });
    stand_in.send_command(&beacon, &issuer(), false);
    assert_eq!(
        stand_in.reported_outcome("the beacon's result", beacon.id, ROUND_TRIP),
        "done"
    );
    assert!(
        core_number(&gw, "clock_floor") >= ahead,
        "the beacon raised the clock floor: {}",
        status(&gw)
    );

    // Every result is in the gateway's own log too, as `log --json` shows it.
    let log = gw.log();
    let result = |id: CommandId| -> Vec<&str> {
        of_type(&log, "command_result")
            .into_iter()
            .filter(|e| e["command"] == id.to_string())
            .map(|e| e["outcome"].as_str().expect("outcome"))
            .collect()
    };
    assert_eq!(result(retained.id), ["retained_command"]);
    assert_eq!(result(valid.id), ["done", "replayed_command"]);
    assert_eq!(result(expired.id), ["expired"]);
    assert_eq!(result(misaddressed.id), ["misaddressed"]);
    assert_eq!(result(lockdown.id), ["done"]);
    assert_eq!(result(beacon.id), ["done"]);
    assert!(
        of_type(&log, "command_result")
            .iter()
            .any(|e| e["command_seq"] == 0 && e["outcome"] == "unknown_key"),
        "the forged command is in the log"
    );
    gw.stop_cleanly();
}

on_both_brokers!(commands_are_checked_acted_on_and_reported:
    commands_through_rumqttd_are_checked_acted_on_and_reported,
    commands_through_mosquitto_are_checked_acted_on_and_reported);

/// A full revocation list (version `version`, revoking `passes`) signed by the test issuer.
fn full_list(version: u64, passes: &[bygd_protocol::PassId]) -> Vec<u8> {
    revocation_list(version, passes, &[], now())
}

/// Revocation lists: a retained full list revokes; its re-delivery is silent; an older list
/// is refused as rollback and reported; a delta in a command applies.
fn revocation_lists_apply_forward_only(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    let anna = claims("anna");
    let britt = claims("britt");
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&anna))["decision"],
        "granted"
    );

    stand_in.publish_revocations(full_list(2, &[anna.pass_id]));
    stand_in.wait_for_event("list 2 applied", ROUND_TRIP, |b| {
        matches!(b, EventBody::RevocationApplied { version: 2 })
    });
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&anna))["reason"],
        "revoked",
        "the next presentation of the revoked pass fails"
    );
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&britt))["decision"],
        "granted"
    );

    // A reconnect: the broker delivers the retained list 2 again, which is not news.
    if !broker.resends_retained_on_resubscribe() {
        eprintln!(
            "{}: the silent re-delivery is not exercised: this broker does not re-send retained \
             messages to a persistent session that subscribes again",
            broker.name()
        );
    }
    gw.stop_cleanly();
    let seen = stand_in.statuses_seen();
    gw.start();
    // Published while the gateway was away, the old list would also arrive queued in its
    // session and be refused twice: once queued, once retained.
    stand_in.wait_online_after(seen);
    stand_in.publish_revocations(full_list(1, &[]));
    stand_in.wait_for_event("list 1 refused", ROUND_TRIP, |b| {
        matches!(b, EventBody::RevocationRefused { .. })
    });
    let refused = stand_in.events_where(|b| matches!(b, EventBody::RevocationRefused { .. }));
    assert_eq!(
        refused,
        [EventBody::RevocationRefused {
            version: Some(1),
            reason: Rejection::Rollback
        }],
        "only the older list is refused; the re-delivered one is silently the same"
    );
    assert_eq!(
        stand_in
            .events_where(|b| matches!(b, EventBody::RevocationApplied { .. }))
            .len(),
        1
    );
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&anna))["reason"],
        "revoked",
        "the rollback un-revoked nothing"
    );

    let delta = RevocationList {
        version: 3,
        base: Some(2),
        issued_at: UnixTime(now()),
        expires: UnixTime(now() + 86_400),
        revoked_passes: vec![britt.pass_id],
        ..RevocationList::empty(site())
    };
    assert_eq!(
        stand_in.run_command(
            Action::Revocation {
                list: delta.sign(&issuer()),
            },
            "the delta command's result",
            ROUND_TRIP
        ),
        "done"
    );
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&britt))["reason"],
        "revoked"
    );
    assert_eq!(present_fast(&gw, FRONT, &issue(&anna))["reason"], "revoked");
    assert_eq!(status(&gw)["core"]["revocation_versions"][0][1], 3);

    let log = gw.log();
    let refused = of_type(&log, "revocation_refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (&refused[0]["version"], &refused[0]["reason"]),
        (&json!(1), &json!("rollback"))
    );
    let applied: Vec<&Value> = of_type(&log, "revocation_applied")
        .into_iter()
        .map(|e| &e["version"])
        .collect();
    assert_eq!(applied, [&json!(2), &json!(3)]);
    gw.stop_cleanly();
}

on_both_brokers!(revocation_lists_apply_forward_only:
    revocation_lists_through_rumqttd_apply_forward_only,
    revocation_lists_through_mosquitto_apply_forward_only);

/// Issue #11's attack: site `dal`'s list, numbered above `byn`'s because `dal` revoked a pass
/// since, copied onto `byn`'s retained revocation topic. `byn`'s gateway refuses it as
/// misaddressed and logs the refusal; Anna's revoked pass stays refused; `byn`'s next real
/// list is still applied (the copy moved no version); and a command to this gateway that
/// carries a `dal` delta is refused the same way.
fn another_sites_list_is_refused_and_poisons_nothing(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    let anna = claims("anna");
    let britt = claims("britt");
    stand_in.publish_revocations(full_list(2, &[anna.pass_id]));
    stand_in.wait_for_event("byn's list 2 applied", ROUND_TRIP, |b| {
        matches!(b, EventBody::RevocationApplied { version: 2 })
    });
    assert_eq!(present_fast(&gw, FRONT, &issue(&anna))["reason"], "revoked");

    let dal = SiteId::new("dal").expect("valid site id");
    let dal_list = revocation_list_for(&dal, 5, &[fresh_pass_id()], &[], now());
    stand_in.publish_revocations(dal_list);
    stand_in.wait_for_event("dal's list refused", ROUND_TRIP, |b| {
        matches!(b, EventBody::RevocationRefused { .. })
    });
    assert_eq!(
        stand_in.events_where(|b| matches!(b, EventBody::RevocationRefused { .. })),
        [EventBody::RevocationRefused {
            version: Some(5),
            reason: Rejection::Misaddressed
        }],
        "the dashboard receives the refusal with its reason"
    );
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&anna))["reason"],
        "revoked",
        "Anna's pass stays revoked"
    );
    assert_eq!(status(&gw)["core"]["revocation_versions"][0][1], 2);

    stand_in.publish_revocations(full_list(3, &[anna.pass_id, britt.pass_id]));
    stand_in.wait_for_event("byn's list 3 applied", ROUND_TRIP, |b| {
        matches!(b, EventBody::RevocationApplied { version: 3 })
    });
    assert_eq!(
        present_fast(&gw, FRONT, &issue(&britt))["reason"],
        "revoked"
    );
    assert_eq!(present_fast(&gw, FRONT, &issue(&anna))["reason"], "revoked");

    // A command correctly addressed to this gateway, carrying dal's delta that would restore
    // Anna's pass on top of version 3.
    let dal_delta = RevocationList {
        version: 4,
        base: Some(3),
        issued_at: UnixTime(now()),
        expires: UnixTime(now() + 86_400),
        restored_passes: vec![anna.pass_id],
        ..RevocationList::empty(dal)
    };
    assert_eq!(
        stand_in.run_command(
            Action::Revocation {
                list: dal_delta.sign(&issuer()),
            },
            "the dal delta command's result",
            ROUND_TRIP
        ),
        "misaddressed"
    );
    assert_eq!(present_fast(&gw, FRONT, &issue(&anna))["reason"], "revoked");
    assert_eq!(status(&gw)["core"]["revocation_versions"][0][1], 3);

    let log = gw.log();
    let refused: Vec<(Value, Value)> = of_type(&log, "revocation_refused")
        .into_iter()
        .map(|e| (e["version"].clone(), e["reason"].clone()))
        .collect();
    assert_eq!(
        refused,
        [
            (json!(5), json!("misaddressed")),
            (json!(4), json!("misaddressed"))
        ]
    );
    let applied: Vec<&Value> = of_type(&log, "revocation_applied")
        .into_iter()
        .map(|e| &e["version"])
        .collect();
    assert_eq!(applied, [&json!(2), &json!(3)]);
    assert!(
        gw.daemon_stderr().contains("signed for another site"),
        "the daemon says why: {}",
        gw.daemon_stderr()
    );
    gw.stop_cleanly();
}

on_both_brokers!(another_sites_list_is_refused_and_poisons_nothing:
    another_sites_list_through_rumqttd_is_refused_and_poisons_nothing,
    another_sites_list_through_mosquitto_is_refused_and_poisons_nothing);

/// Forged acks, acks for events never sent and acks with the wrong hash are logged and move
/// nothing; a real ack after them moves exactly what it covers.
fn forged_and_unknown_acks_move_nothing(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    stand_in.set_acking(false);
    gw.start();
    for _ in 0..10 {
        present_fast(&gw, FRONT, "BYGD1:NOT-A-PASS");
    }
    let head = core_number(&gw, "head_seq");
    stand_in.wait_until("every event at the stand-in", ROUND_TRIP, |d| {
        d.gateways.values().all(|g| g.head.seq == head)
    });
    assert_eq!(core_number(&gw, "outbox"), head);
    let real_hash = stand_in.hash_of(head);

    stand_in.send_ack(head, real_hash, &stranger());
    let mut tampered = Ack {
        site: site(),
        gateway: GatewayId::new("gw1").expect("valid id"),
        up_to: head,
        hash: real_hash,
        issued_at: UnixTime(now()),
    }
    .sign(&issuer());
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    stand_in.publish(&stand_in.topic(TopicKind::Ack), tampered, false);
    let misaddressed = Ack {
        site: site(),
        gateway: GatewayId::new("gw2").expect("valid id"),
        up_to: head,
        hash: real_hash,
        issued_at: UnixTime(now()),
    }
    .sign(&issuer());
    stand_in.publish(&stand_in.topic(TopicKind::Ack), misaddressed, false);
    stand_in.send_ack(head + 100, [7; 32], &issuer());
    stand_in.send_ack(head, [0xab; 32], &issuer());
    // Acks arrive in the order sent: once this one counts, the ones before it were judged.
    stand_in.send_ack(3, stand_in.hash_of(3), &issuer());
    gw.wait_for("the real ack to count", ROUND_TRIP, || {
        core_number(&gw, "outbox") < head
    });
    assert_eq!(
        core_number(&gw, "outbox"),
        head - 3,
        "only the real ack moved anything"
    );
    let stderr = gw.daemon_stderr();
    for (said, times) in [
        ("ack refused; ignored", 3),
        ("ack for events never sent; ignored", 1),
        ("ack whose hash does not match the stored event; ignored", 1),
    ] {
        assert_eq!(
            stderr.matches(said).count(),
            times,
            "`{said}` logged {times} times; daemon stderr:\n{stderr}"
        );
    }
    gw.stop_cleanly();
}

on_both_brokers!(forged_and_unknown_acks_move_nothing:
    forged_and_unknown_acks_through_rumqttd_move_nothing,
    forged_and_unknown_acks_through_mosquitto_move_nothing);

/// Polls the retained status until `online` is `want`.
#[track_caller]
fn wait_retained_online(
    stand_in: &StandIn,
    broker: &dyn Broker,
    want: bool,
    timeout: Duration,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let retained = stand_in.retained_status(broker);
        if let Some(status) = retained.as_ref().filter(|s| s["online"] == want) {
            return status.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the retained status did not say online = {want} within {timeout:?} on {}: {retained:?}",
            broker.name()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The retained status says online with the doors; a clean stop says offline; a crash's
/// last will says offline.
fn the_retained_status_follows_the_gateway(broker: &mut dyn Broker) {
    let mut gw = gateway_on(broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    let online = wait_retained_online(&stand_in, broker, true, ROUND_TRIP);
    assert_eq!(
        (&online["site"], &online["gateway"]),
        (&json!(SITE), &json!("gw1"))
    );
    let doors: Vec<&Value> = online["doors"]
        .as_array()
        .expect("doors")
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(doors, [&json!(FRONT), &json!(WORKSHOP)]);
    assert!(online["core"]["head_seq"].is_u64(), "{online}");

    gw.stop_cleanly();
    wait_retained_online(&stand_in, broker, false, Duration::from_secs(5));

    gw.start();
    wait_retained_online(&stand_in, broker, true, ROUND_TRIP);
    gw.kill9();
    // The broker notices the closed connection at once; keep-alive (5 s) is the slow path.
    let will = wait_retained_online(&stand_in, broker, false, Duration::from_secs(12));
    assert_eq!(will["gateway"], "gw1");
}

on_both_brokers!(the_retained_status_follows_the_gateway:
    the_retained_status_on_rumqttd_says_online_then_offline_and_the_last_will_fires,
    the_retained_status_on_mosquitto_says_online_then_offline_and_the_last_will_fires);
