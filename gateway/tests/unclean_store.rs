//! Right after a crash or a power cut, which is when an installer reaches for them: `log` and
//! `verify-log` read a store that was not closed cleanly (from a repaired copy, leaving the
//! store itself alone), `repair` repairs it in place and refuses while the daemon runs, and
//! the daemon starts on the repaired store and continues its chain.

mod common;

use common::*;

/// A store left as kill -9 leaves it: a few entries, one denial, and no clean shutdown.
fn crashed_gateway() -> (Gateway, Vec<serde_json::Value>) {
    let mut gw = Gateway::started();
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    gw.present(WORKSHOP, &issue(&claims("britt")))
        .assert_granted();
    gw.present(FRONT, "HC1:NOT-A-BYGD-CODE")
        .assert_denied("bad_prefix");
    let before = gw.log();
    gw.kill9();
    (gw, before)
}

#[test]
fn after_kill_9_log_and_verify_log_read_a_repaired_copy_and_leave_the_store_alone() {
    let (gw, before) = crashed_gateway();
    let untouched = std::fs::read(gw.store_file()).expect("read the store file");

    let text = gw.cli("log", &[]).ok();
    assert!(
        text.stderr.contains("not closed cleanly") && text.stderr.contains("copy"),
        "log says it read a repaired copy: {text:#?}"
    );
    assert!(
        text.stderr.contains("bygd-gateway repair"),
        "and how to repair the store itself: {}",
        text.stderr
    );
    assert_eq!(text.stdout.lines().count(), before.len(), "{text:#?}");
    assert!(text.stdout.contains("GRANTED anna"), "{}", text.stdout);
    assert!(text.stdout.contains("GRANTED britt"), "{}", text.stdout);
    assert!(text.stdout.contains("DENIED"), "{}", text.stdout);
    assert_eq!(
        gw.log(),
        before,
        "--json shows every event, as before the kill"
    );

    assert_eq!(gw.verify_log(), before.len() as u64);
    let verified = gw.cli("verify-log", &[]).ok();
    assert!(
        verified.stderr.contains("not closed cleanly"),
        "{verified:#?}"
    );

    assert!(
        std::fs::read(gw.store_file()).expect("read the store file") == untouched,
        "the read-only tools never write to the store itself"
    );
    let leftovers: Vec<_> = std::fs::read_dir(gw.data_dir())
        .expect("list the data directory")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["gateway.redb"],
        "no copy is left in the data directory"
    );
}

#[test]
fn repair_fixes_an_unclean_store_in_place_and_the_daemon_continues_its_chain() {
    let (mut gw, before) = crashed_gateway();

    let repaired = gw.cli("repair", &[]).ok();
    assert!(
        repaired.stdout.contains("repaired") && repaired.stdout.contains("not closed cleanly"),
        "{repaired:#?}"
    );
    assert!(
        repaired
            .stdout
            .contains(&format!("last event #{}", before.len())),
        "{repaired:#?}"
    );

    // Now clean: the tools read the store itself, without a note.
    let text = gw.cli("log", &[]).ok();
    assert!(text.stderr.is_empty(), "{text:#?}");
    assert_eq!(gw.verify_log(), before.len() as u64);
    let again = gw.cli("repair", &[]).ok();
    assert!(again.stdout.contains("closed cleanly"), "{again:#?}");
    assert!(!again.stdout.contains("repaired"), "{again:#?}");

    gw.start();
    gw.present(FRONT, &issue(&claims("cecilia")))
        .assert_granted();
    let log = gw.log();
    assert_eq!(
        log[..before.len()],
        before[..],
        "the chain continues the same store"
    );
    assert_eq!(of_type(&log, "gateway_started").len(), 2, "{log:#?}");
    assert_eq!(gw.verify_log(), log.len() as u64);
    gw.stop_cleanly();
}

#[test]
fn repair_is_refused_while_the_daemon_runs_and_the_daemon_keeps_serving() {
    let mut gw = Gateway::started();
    let refused = gw.cli("repair", &[]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(
        refused.stderr.contains("running") && refused.stderr.contains("systemctl stop"),
        "it says why and what to do: {}",
        refused.stderr
    );
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    gw.stop_cleanly();
}

#[test]
fn repair_without_a_store_says_there_is_none_and_creates_nothing() {
    let gw = Gateway::new();
    let refused = gw.cli("repair", &[]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("no store"), "{}", refused.stderr);
    assert!(!gw.store_file().exists(), "repair made no store");
}

#[test]
fn repair_help_shows_an_example() {
    let mut command = std::process::Command::new(BINARY);
    command.args(["repair", "--help"]);
    let help = run_with_timeout(command, std::time::Duration::from_secs(20)).ok();
    assert!(
        help.stdout.contains("bygd-gateway repair --config"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("systemctl stop"), "{}", help.stdout);
}
