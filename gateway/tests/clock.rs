//! The clock floor of a real `bygd-gateway` whose system clock libfaketime sets to 2099:
//! unsynchronised, the jump must not move the floor (passes and commands keep working, and
//! keep working after a restart at the real time); synchronised, it does move the floor, and a
//! signed set-clock-floor command or the local `clock reset-floor` brings it back, logged.
//!
//! Skipped with a message when libfaketime is not installed, unless `BYGD_REQUIRE_FAKETIME=1`
//! (as CI sets). Monotonic time is left alone, as it would be by a spoofed NTP reply.

mod common;
mod uplink_support;

use bygd_protocol::{Action, CommandOutcome, EventBody, UnixTime};
use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use uplink_support::*;

/// Where Debian's `faketime` package puts libfaketime.
const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

/// libfaketime's absolute start time: the clock starts there and ticks on.
const IN_2099: &str = "@2099-01-01 00:00:00";
/// 2099-01-01 00:00:00 UTC, minus a day of slack for the time zone libfaketime reads it in.
const YEAR_2099: u64 = START_OF_2099 - 86_400;
/// 2099-01-01 00:00:00 UTC, where [`IN_2099`] starts the faked clock.
const START_OF_2099: u64 = 4_070_908_800;

/// The file the test gateways' config names as the OS's "synchronised" flag (relative to the
/// config's directory): present means synchronised.
const SYNC_FILE: &str = "clock-synced";

/// How long a command takes to be acted on and reported back.
const ROUND_TRIP: Duration = Duration::from_secs(15);
/// How far the floor may be from the test's clock after a reset to "now": the time a restart
/// and a round trip take on a loaded machine, with slack.
const NEAR: u64 = 120;

/// libfaketime's path, or `None` (after saying so) when the test is to be skipped.
fn libfaketime() -> Option<&'static str> {
    let found = LIBFAKETIME
        .iter()
        .copied()
        .find(|p| std::path::Path::new(p).is_file());
    if found.is_none() {
        assert!(
            std::env::var("BYGD_REQUIRE_FAKETIME").as_deref() != Ok("1"),
            "BYGD_REQUIRE_FAKETIME=1 but libfaketime is missing: apt-get install faketime"
        );
        eprintln!("SKIPPED the clock test: libfaketime is not installed (apt-get install faketime; BYGD_REQUIRE_FAKETIME=1 makes this a failure)");
    }
    found
}

/// A gateway (not started) whose "synchronised" flag is a file in its directory.
fn gateway() -> Gateway {
    Gateway::with(Setup {
        top_level_extra: format!("clock_sync_file = \"{SYNC_FILE}\""),
        ..Setup::default()
    })
}

/// Says the OS synchronised the clock at `at` (or, with `None`, that it no longer does). The
/// flag vouches only while it is fresh, so it is dated as timesyncd running under the clock
/// the gateway sees would date it.
fn set_synchronised(gw: &Gateway, at: Option<std::time::SystemTime>) {
    let file = gw.dir.path().join(SYNC_FILE);
    if let Some(at) = at {
        let flag = std::fs::File::create(&file).expect("create the sync flag");
        flag.set_modified(at).expect("date the sync flag");
    } else {
        let _ = std::fs::remove_file(&file);
    }
}

/// The system clock at 2099 for the next start.
fn in_2099(gw: &mut Gateway, lib: &str) {
    gw.set_env(&[
        ("LD_PRELOAD", lib),
        ("FAKETIME", IN_2099),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ]);
}

/// The real clock for the next start.
fn real_time(gw: &mut Gateway) {
    gw.set_env(&[]);
}

/// The gateway's clock floor from `status`.
#[track_caller]
fn floor(gw: &Gateway) -> u64 {
    let status = gw.status();
    status["core"]["clock_floor"]
        .as_u64()
        .unwrap_or_else(|| panic!("no core.clock_floor in {status}"))
}

/// Restarts `gw` with the system clock in 2099 (synchronised or not), checks what the floor
/// did, and restarts it at the real time.
fn run_a_while_in_2099(gw: &mut Gateway, lib: &str, synchronised: bool) {
    gw.stop_cleanly();
    let start_of_2099 = std::time::UNIX_EPOCH + Duration::from_secs(START_OF_2099);
    set_synchronised(gw, synchronised.then_some(start_of_2099));
    in_2099(gw, lib);
    gw.start();
    // Something to decide, so the clock is read after the start too.
    gw.present(FRONT, &issue(&claims("probe")));
    let pushed = floor(gw);
    assert_eq!(
        pushed >= YEAR_2099,
        synchronised,
        "floor {pushed} while the clock said 2099 (synchronised: {synchronised}); daemon stderr:\n{}",
        gw.daemon_stderr()
    );
    gw.stop_cleanly();
    real_time(gw);
    set_synchronised(gw, synchronised.then(std::time::SystemTime::now));
    gw.start();
}

/// A signed lockdown of the front door goes through and shuts it.
fn assert_lockdown_command_works(gw: &Gateway, stand_in: &StandIn) {
    assert_eq!(
        stand_in.run_command(
            Action::Lockdown {
                door: Some(door(FRONT)),
                on: true,
            },
            "the lockdown's result",
            ROUND_TRIP
        ),
        "done",
        "a signed lockdown works at the real time; daemon stderr:\n{}",
        gw.daemon_stderr()
    );
    gw.present(FRONT, &issue(&claims("anna")))
        .assert_denied("lockdown");
}

/// A started gateway linked to `broker`, and the stand-in dashboard it reports to.
fn linked_gateway(broker: &Rumqttd) -> (Gateway, StandIn) {
    let mut gw = gateway();
    connect_gateway(&gw, broker);
    let stand_in = StandIn::connect(broker, &gw);
    gw.start();
    (gw, stand_in)
}

/// The `clock` events of the gateway's own log.
fn clock_events(gw: &Gateway) -> Vec<Value> {
    of_type(&gw.log(), "clock").into_iter().cloned().collect()
}

#[test]
fn a_gateway_whose_clock_ran_in_2099_unsynchronised_grants_and_takes_commands_at_the_real_time() {
    let Some(lib) = libfaketime() else { return };
    let broker = Rumqttd::start();
    let (mut gw, stand_in) = linked_gateway(&broker);
    let before = floor(&gw);

    gw.stop_cleanly();
    in_2099(&mut gw, lib);
    gw.start();
    // While the clock says 2099, a pass valid today still opens: the gateway decides at its
    // floor plus the elapsed time, not at the unsynchronised clock.
    let during = gw.present(FRONT, &issue(&claims("anna")));
    during.assert_granted();
    // libfaketime really moved the clock: the grant was decided on the floor, not on a
    // system clock the gateway believed (a preload that did not take would pass the rest).
    let log = gw.log();
    let grants = of_type(&log, "entry_granted");
    assert_eq!(
        grants.last().map(|e| e["clock"].clone()),
        Some(Value::from("floor")),
        "the grant in 2099 was not decided on the floor: {grants:?}"
    );
    assert!(
        floor(&gw) < before + NEAR,
        "the unsynchronised jump moved the floor from {before} to {}",
        floor(&gw)
    );
    gw.stop_cleanly();

    real_time(&mut gw);
    gw.start();
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    assert_lockdown_command_works(&gw, &stand_in);
    gw.verify_log();
}

#[test]
fn a_signed_reset_brings_back_a_floor_pushed_ahead_while_synchronised() {
    let Some(lib) = libfaketime() else { return };
    let broker = Rumqttd::start();
    let (mut gw, stand_in) = linked_gateway(&broker);
    run_a_while_in_2099(&mut gw, lib, true);
    // Back at the real time, still "synchronised": the floor stays in 2099.
    gw.present(FRONT, &issue(&claims("anna")))
        .assert_denied("expired");

    let target = now();
    let reset = stand_in.command(Action::SetClockFloor {
        floor: UnixTime(target),
    });
    stand_in.send_command(&reset, &issuer(), false);
    assert_eq!(
        stand_in.reported_outcome("the reset's result", reset.id, ROUND_TRIP),
        "done"
    );
    let after = floor(&gw);
    assert!(
        (target..target + NEAR).contains(&after),
        "the floor {after} is back near {target}"
    );
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    // Logged, with the new floor, and reported to the dashboard.
    let logged = clock_events(&gw);
    assert!(
        logged.iter().any(|e| e["floor"]
            .as_u64()
            .is_some_and(|f| (target..target + NEAR).contains(&f))),
        "a clock event names the new floor: {logged:?}"
    );
    stand_in.wait_for_event("the reset's clock event", ROUND_TRIP, |b| {
        matches!(b, EventBody::ClockChanged { floor, .. } if floor.0 >= target && floor.0 < YEAR_2099)
    });
    // A replay of the same reset is refused by its sequence number.
    stand_in.send_command(&reset, &issuer(), false);
    let deadline = std::time::Instant::now() + ROUND_TRIP;
    while stand_in_refusals(&stand_in, reset.id) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no replay refusal within {ROUND_TRIP:?}; daemon stderr:\n{}",
            gw.daemon_stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_lockdown_command_works(&gw, &stand_in);
    gw.verify_log();
}

/// How many times the gateway refused command `id` as a replay.
fn stand_in_refusals(stand_in: &StandIn, id: bygd_protocol::CommandId) -> usize {
    stand_in
        .events_where(|b| {
            matches!(
                b,
                EventBody::CommandResult {
                    command,
                    outcome: CommandOutcome::Refused(bygd_protocol::Rejection::ReplayedCommand),
                    ..
                } if *command == id
            )
        })
        .len()
}

/// `bygd-gateway clock reset-floor ARGS...` for `gw`.
fn reset_floor(gw: &Gateway, args: &[&str]) -> Outcome {
    let mut command = Command::new(BINARY);
    command
        .args(["clock", "reset-floor"])
        .args(args)
        .env("BYGD_GATEWAY_CONFIG", &gw.config);
    run_with_timeout(command, Duration::from_secs(20))
}

#[test]
fn the_local_reset_brings_back_a_floor_pushed_ahead_while_synchronised() {
    let Some(lib) = libfaketime() else { return };
    let mut gw = gateway();
    gw.start();
    run_a_while_in_2099(&mut gw, lib, true);
    gw.present(FRONT, &issue(&claims("anna")))
        .assert_denied("expired");

    let target = now();
    let out = reset_floor(&gw, &["--to", "now"]).ok();
    let reply: Value = serde_json::from_str(out.stdout.trim()).expect("reset-floor prints JSON");
    assert!(
        reply["old_floor"].as_u64().is_some_and(|f| f >= YEAR_2099),
        "{reply}"
    );
    let after = reply["floor"].as_u64().expect("floor in the reply");
    assert!(
        (target..target + NEAR).contains(&after),
        "the floor {after} is back near {target}: {reply}"
    );
    assert_eq!(reply["clock"], "synchronised", "{reply}");
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    let seq = reply["seq"].as_u64().expect("seq in the reply");
    let logged = event(&gw.log(), seq).clone();
    assert_eq!(logged["type"], "clock", "{logged}");
    assert_eq!(logged["floor"], after, "{logged}");
    gw.lockdown(FRONT, true);
    gw.present(FRONT, &issue(&claims("anna")))
        .assert_denied("lockdown");
    gw.verify_log();
}

#[test]
fn a_local_reset_to_a_time_that_does_not_parse_says_what_it_expects() {
    let mut gw = gateway();
    gw.start();
    let out = reset_floor(&gw, &["--to", "yesterday-ish"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(
        out.stderr.contains("--to `yesterday-ish`") && out.stderr.contains("RFC 3339"),
        "{out:#?}"
    );
    let help = reset_floor(&gw, &["--help"]).ok();
    assert!(
        help.stdout.contains("--to now") && help.stdout.contains("time source"),
        "the help teaches: {}",
        help.stdout
    );
    // A date is midnight in the site's zone; with the clock unsynchronised, the gateway then
    // decides at that floor plus the elapsed time, not at its clock.
    let out = reset_floor(&gw, &["--to", "2026-11-22"]).ok();
    let reply: Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    assert!(
        reply["floor"]
            .as_u64()
            .is_some_and(|f| (NOV_22_STOCKHOLM..NOV_22_STOCKHOLM + 5).contains(&f)),
        "{reply}"
    );
    assert_eq!(reply["clock"], "floor", "{reply}");
}

/// 2026-11-22 00:00 in Stockholm (CET, UTC+1).
const NOV_22_STOCKHOLM: u64 = 1_795_302_000;
