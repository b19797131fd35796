//! The CLI and the control socket facing people and scripts: bad configs are refused with
//! the key named, a `present` with no daemon is an error (exit 2), and a garbage request on
//! the socket gets an error reply while the daemon keeps serving.

mod common;

use common::*;
use serde_json::json;

#[test]
fn an_unknown_config_key_is_refused_and_named() {
    let gw = Gateway::with(Setup {
        top_level_extra: "colour = \"red\"".into(),
        ..Setup::default()
    });
    let checked = gw.cli("check-config", &[]);
    assert_eq!(checked.code, Some(2), "{checked:#?}");
    assert!(checked.stderr.contains("colour"), "{}", checked.stderr);
    assert!(
        checked.stderr.contains(&gw.config.display().to_string()),
        "the message names the file: {}",
        checked.stderr
    );
    let run = gw.run_expecting_exit(&[]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("colour"), "{}", run.stderr);
}

#[test]
fn a_negative_revocation_min_version_is_refused_and_named() {
    let gw = Gateway::with(Setup {
        policy: "revocation_min_version = -3".into(),
        ..Setup::default()
    });
    let checked = gw.cli("check-config", &[]);
    assert_eq!(checked.code, Some(2), "{checked:#?}");
    assert!(
        checked.stderr.contains("revocation_min_version"),
        "{}",
        checked.stderr
    );
    assert_eq!(gw.run_expecting_exit(&[]).code, Some(2));
}

#[test]
fn a_weak_issuer_key_is_refused_and_named() {
    // The identity point: a small-order key under which signatures can be forged.
    let mut weak = "01".to_owned();
    weak.push_str(&"00".repeat(31));
    let gw = Gateway::with(Setup {
        issuer_hex: weak,
        ..Setup::default()
    });
    let checked = gw.cli("check-config", &[]);
    assert_eq!(checked.code, Some(2), "{checked:#?}");
    assert!(
        checked.stderr.contains("issuer[0].public_key"),
        "{}",
        checked.stderr
    );
    assert!(checked.stderr.contains("weak"), "{}", checked.stderr);
    assert_eq!(gw.run_expecting_exit(&[]).code, Some(2));
}

#[test]
fn a_good_config_checks_out() {
    let gw = Gateway::new();
    let checked = gw.cli("check-config", &[]).ok();
    assert!(checked.stdout.contains("OK"), "{checked:#?}");
    assert!(checked.stdout.contains("2 door(s)"), "{checked:#?}");
}

#[test]
fn present_without_a_running_daemon_is_an_error() {
    let gw = Gateway::new();
    let out = gw.cli("present", &["--door", FRONT, &issue(&claims("anna"))]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(
        out.stderr.contains("cannot reach the gateway"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "no decision is printed: {out:#?}");
}

#[test]
fn bad_socket_requests_get_error_replies_and_the_daemon_keeps_serving() {
    let mut gw = Gateway::started();
    let socket = gw.socket();
    for garbage in [
        "this is not json\n",
        "{\"op\":\"open-sesame\"}\n",
        "{\"op\":\"present\",\"door\":\"front\"}\n",
        "{\"op\":\"present\",\"door\":\"Front Door\",\"text\":\"BYGD1:00\"}\n",
        "{\"op\":\"sim\",\"door\":\"cellar\",\"action\":\"open\"}\n",
        "{\"op\":\"lockdown\",\"door\":\"cellar\",\"on\":true}\n",
        "{\"op\":\"revocations\",\"hex\":\"not hex\"}\n",
        "\n",
    ] {
        let reply = raw_request(&socket, garbage)
            .unwrap_or_else(|e| panic!("no reply to {garbage:?}: {e}"));
        assert!(
            reply["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{garbage:?} gets an error reply: {reply}"
        );
    }
    // A client that connects and says nothing does not stop others.
    let silent = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    let status = gw
        .request(&json!({ "op": "status" }))
        .expect("status after bad requests");
    assert_eq!(status["site"], SITE, "{status}");
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    drop(silent);
    let log = gw.log();
    assert_eq!(
        of_type(&log, "entry_denied").len(),
        0,
        "requests refused at the socket decide nothing: {log:#?}"
    );
    gw.stop_cleanly();
}

#[test]
fn present_reads_the_code_from_stdin_with_a_dash() {
    let mut gw = Gateway::started();
    let text = issue(&claims("anna"));
    let mut command = std::process::Command::new(BINARY);
    command
        .args(["present", "--config"])
        .arg(&gw.config)
        .args(["--door", FRONT, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().expect("start present");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{text}\r\n").as_bytes())
            .expect("write the code");
    }
    let out = child.wait_with_output().expect("present finishes");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let reply: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON line on stdout");
    assert_eq!(reply["decision"], "granted");
    gw.stop_cleanly();
}

#[test]
fn a_second_daemon_on_the_same_store_is_refused_and_the_first_keeps_serving() {
    let mut gw = Gateway::started();
    let second = gw.run_expecting_exit(&[]);
    assert_eq!(second.code, Some(2), "{second:#?}");
    assert!(
        second
            .stderr
            .contains("in use by another bygd-gateway process"),
        "{}",
        second.stderr
    );
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    gw.stop_cleanly();
}
