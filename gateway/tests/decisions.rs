//! Decisions end to end: the real `bygd-gateway` binary with simulated doors decides on QR
//! texts handed to it by `bygd-gateway present`, moves (simulated) relays, and logs.
//!
//! Every denial reason a presentation can meet is reached here through `present`, with its
//! exit status and its log entry; the config-time and revocation-time reasons (`weak_key`,
//! `rollback`, `delta_mismatch`) are reached through `check-config` and `revocations`.

mod common;

use bygd_protocol::{
    base45_encode, PassClaims, PassKind, RevocationList, SiteId, SiteScope, UnixTime, WeekTime,
    MAX_QR_TEXT_LEN, PASS_PREFIX,
};
use common::*;
use std::time::Duration;

/// Slack for a door task to act on a command the core already sent it.
const DOOR_REACTS: Duration = Duration::from_secs(3);

/// Ed25519's group order L, little-endian: adding it to a signature's S makes the same
/// signature in a malleated, non-canonical form.
const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn add_group_order(mut signed: Vec<u8>) -> Vec<u8> {
    let start = signed.len() - 32;
    let mut carry = 0u16;
    for (byte, l) in signed[start..].iter_mut().zip(ED25519_ORDER) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits 32 bytes");
    signed
}

/// The events of `log` whose type is one of `kinds`, as (type, door) pairs in log order.
fn door_story(log: &[serde_json::Value], kinds: &[&str]) -> Vec<(String, String)> {
    log.iter()
        .filter(|e| kinds.iter().any(|k| e["type"] == *k))
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_owned(),
                e["door"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_valid_pass_opens_the_door_and_it_relocks_when_the_door_closes() {
    // A long unlock time, so that a relock seen within seconds can only come from the close.
    let mut gw = Gateway::with(Setup {
        unlock_seconds: 20,
        ..Setup::default()
    });
    gw.start();
    assert!(!gw.lock_released(FRONT), "doors start locked");

    let anna = claims("anna");
    let decision = gw.present(FRONT, &issue(&anna));
    decision.assert_granted();
    assert_eq!(decision.json["reason"], serde_json::Value::Null);
    gw.wait_for("the front lock to be released", DOOR_REACTS, || {
        gw.lock_released(FRONT)
    });
    assert!(
        !gw.lock_released(WORKSHOP),
        "only the door presented at opens"
    );
    let status = gw.status();
    let front = status["doors"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["id"] == FRONT))
        .expect("front in status");
    assert_eq!(front["released"], true, "{status}");

    gw.sim(FRONT, "open");
    gw.wait_for("door_opened in the log", DOOR_REACTS, || {
        !of_type(&gw.log(), "door_opened").is_empty()
    });
    assert!(gw.lock_released(FRONT), "an open door keeps its grant");
    gw.sim(FRONT, "close");
    gw.wait_for(
        "the front lock to relock after the door closed",
        DOOR_REACTS,
        || !gw.lock_released(FRONT),
    );
    gw.wait_for("door_closed in the log", DOOR_REACTS, || {
        !of_type(&gw.log(), "door_closed").is_empty()
    });

    let log = gw.log();
    let granted = event(&log, decision.seq());
    assert_eq!(granted["type"], "entry_granted");
    assert_eq!(granted["door"], FRONT);
    assert_eq!(granted["member"], "anna");
    assert_eq!(granted["pass_id"], anna.pass_id.to_string());
    assert_eq!(granted["device_bound"], false);
    assert_eq!(
        door_story(&log, &["entry_granted", "door_opened", "door_closed"]),
        [
            ("entry_granted".to_owned(), FRONT.to_owned()),
            ("door_opened".to_owned(), FRONT.to_owned()),
            ("door_closed".to_owned(), FRONT.to_owned()),
        ],
        "grant, open and close, in that order: {log:#?}"
    );
    assert!(
        of_type(&log, "forced_open").is_empty(),
        "a granted opening raises no forced-open alarm: {log:#?}"
    );
    gw.stop_cleanly();
}

#[test]
fn a_grant_nobody_uses_relocks_after_the_unlock_time() {
    let mut gw = Gateway::with(Setup {
        unlock_seconds: 3,
        ..Setup::default()
    });
    gw.start();
    gw.present(WORKSHOP, &issue(&claims("anna")))
        .assert_granted();
    gw.wait_for("the workshop lock to be released", DOOR_REACTS, || {
        gw.lock_released(WORKSHOP)
    });
    gw.wait_for(
        "the workshop lock to relock after its 3 s unlock time",
        Duration::from_secs(3) + DOOR_REACTS,
        || !gw.lock_released(WORKSHOP),
    );
    let log = gw.log();
    assert!(of_type(&log, "door_opened").is_empty(), "{log:#?}");
    gw.stop_cleanly();
}

#[test]
fn every_denial_reason_is_reached_end_to_end_through_present() {
    // Every denial its own event: two malformed codes in a row would otherwise be counted
    // as one repeated denial (tests/denials.rs).
    let mut gw = Gateway::with(Setup {
        policy: "denial_window_seconds = 0\n".into(),
        ..Setup::default()
    });
    gw.start();
    let key = issuer();
    let now = now();

    let anna = claims("anna");
    let anna_pass = anna.issue(&key);
    let anna_text = pass_text(&anna_pass);
    let revoked = claims("cecilia");
    let bertil = claims("bertil");
    let phone_bound = PassClaims {
        device_key: Some(phone().public_key()),
        ..claims("britt")
    };
    let phone_pass = phone_bound.issue(&key);
    // Stockholm is UTC+1 or UTC+2, so its weekday is the UTC weekday or the next one: a
    // window three days after the UTC weekday never covers now, one on both days always does.
    let utc_day = WeekTime::from_unix_with_offset(UnixTime(now), 0)
        .day
        .index();
    let day_bit = |offset: u8| 1u8 << ((utc_day + offset) % 7);

    let applied = gw.revocations(&revocation_list(1, &[revoked.pass_id], &["bertil"], now));
    assert_eq!(applied.code, Some(0), "{applied:#?}");
    assert_eq!(applied.stdout.trim(), r#"{"revocation_version":1}"#);

    // Controls: the unaltered passes open, so each denial below is down to its one change.
    gw.present(FRONT, &anna_text).assert_granted();
    let scheduled = PassClaims {
        schedule: Some(all_day(day_bit(0) | day_bit(1))),
        ..claims("dora")
    };
    gw.present(FRONT, &issue(&scheduled)).assert_granted();
    gw.present(
        FRONT,
        &proved_text(&phone_pass, &phone_bound.pass_id, &phone(), 1),
    )
    .assert_granted();

    gw.lockdown(WORKSHOP, true);
    let mut signature_flipped = anna_pass.clone();
    let at = signature_flipped.len() - 64;
    signature_flipped[at] ^= 0x01;
    let (prefix, body) = anna_text.split_at(PASS_PREFIX.len());
    // (reason, door, text, whether the log can name the pass)
    let cases: Vec<(&str, &str, String, bool)> = vec![
        ("bad_signature", FRONT, pass_text(&signature_flipped), false),
        (
            "unknown_key",
            FRONT,
            pass_text(&anna.issue(&stranger())),
            false,
        ),
        (
            "non_canonical_signature",
            FRONT,
            pass_text(&add_group_order(anna_pass.clone())),
            false,
        ),
        (
            "expired",
            FRONT,
            issue(&PassClaims {
                not_before: UnixTime(now - 2 * 86_400),
                expires: UnixTime(now - 86_400),
                ..claims("anna")
            }),
            true,
        ),
        (
            "not_yet_valid",
            FRONT,
            issue(&PassClaims {
                not_before: UnixTime(now + 86_400),
                expires: UnixTime(now + 2 * 86_400),
                ..claims("anna")
            }),
            true,
        ),
        (
            "wrong_site",
            FRONT,
            issue(&PassClaims {
                scope: vec![SiteScope::all_doors(
                    bygd_protocol::SiteId::new("annan").expect("valid site id"),
                )],
                ..claims("anna")
            }),
            true,
        ),
        (
            "wrong_door",
            WORKSHOP,
            issue(&PassClaims {
                scope: vec![SiteScope {
                    site: site(),
                    doors: vec![door(FRONT)],
                }],
                ..claims("anna")
            }),
            true,
        ),
        (
            "outside_schedule",
            FRONT,
            issue(&PassClaims {
                schedule: Some(all_day(day_bit(3))),
                ..claims("anna")
            }),
            true,
        ),
        ("revoked", FRONT, issue(&revoked), true),
        ("member_revoked", FRONT, issue(&bertil), true),
        ("proof_required", FRONT, pass_text(&phone_pass), true),
        (
            "bad_proof",
            FRONT,
            proved_text(&phone_pass, &phone_bound.pass_id, &other_phone(), 2),
            true,
        ),
        (
            "bad_proof",
            FRONT,
            proved_text(&anna_pass, &anna.pass_id, &phone(), 1),
            true,
        ),
        (
            "stale_proof",
            FRONT,
            proved_text_at(
                &phone_pass,
                &phone_bound.pass_id,
                &phone(),
                (now - 300) / bygd_protocol::TIME_STEP_SECONDS,
                2,
            ),
            true,
        ),
        (
            "replayed_proof",
            FRONT,
            proved_text(&phone_pass, &phone_bound.pass_id, &phone(), 1),
            true,
        ),
        (
            "trailing_bytes",
            FRONT,
            pass_text(&[anna_pass.as_slice(), &[0x00]].concat()),
            false,
        ),
        (
            "truncated",
            FRONT,
            pass_text(&anna_pass[..anna_pass.len() - 1]),
            false,
        ),
        ("bad_prefix", FRONT, format!("HC1:{body}"), false),
        (
            "too_large",
            FRONT,
            format!(
                "{PASS_PREFIX}{}",
                "0".repeat(MAX_QR_TEXT_LEN + 1 - PASS_PREFIX.len())
            ),
            false,
        ),
        (
            "bad_encoding",
            FRONT,
            format!("{prefix}a{}", &body[1..]),
            false,
        ),
        (
            "malformed",
            FRONT,
            pass_text(&[&[0xd2], anna_pass.as_slice()].concat()),
            false,
        ),
        (
            "malformed",
            FRONT,
            format!("{PASS_PREFIX}{}", base45_encode(&[0xa0])),
            false,
        ),
        ("lockdown", WORKSHOP, anna_text.clone(), true),
        ("unknown_door", "cellar", anna_text.clone(), false),
    ];

    let mut seqs = Vec::new();
    for (reason, at_door, text, names_pass) in &cases {
        let decision = gw.present(at_door, text);
        decision.assert_denied(reason);
        seqs.push((*reason, *at_door, decision.seq(), *names_pass));
    }

    let log = gw.log();
    for (reason, at_door, seq, names_pass) in seqs {
        let denied = event(&log, seq);
        assert_eq!(denied["type"], "entry_denied", "{reason}: {denied}");
        assert_eq!(denied["reason"], reason, "{denied}");
        assert_eq!(denied["door"], at_door, "{denied}");
        assert_eq!(
            denied["pass_id"].is_string(),
            names_pass,
            "a denial after the signature check names the pass, one before it cannot: {denied}"
        );
    }
    gw.verify_log();
    gw.stop_cleanly();
}

#[test]
fn a_device_bound_pass_opens_once_per_proof() {
    let mut gw = Gateway::started();
    let britt = PassClaims {
        device_key: Some(phone().public_key()),
        ..claims("britt")
    };
    let pass = britt.issue(&issuer());
    let first = proved_text(&pass, &britt.pass_id, &phone(), 1);

    let granted = gw.present(FRONT, &first);
    granted.assert_granted();
    gw.present(FRONT, &first).assert_denied("replayed_proof");
    // The same proof is refused at the other door too: the counter is per pass, not per door.
    gw.present(WORKSHOP, &first).assert_denied("replayed_proof");
    gw.present(FRONT, &proved_text(&pass, &britt.pass_id, &phone(), 2))
        .assert_granted();
    gw.present(FRONT, &proved_text(&pass, &britt.pass_id, &phone(), 1))
        .assert_denied("replayed_proof");
    gw.present(FRONT, &proved_text(&pass, &britt.pass_id, &phone(), 2))
        .assert_denied("replayed_proof");
    gw.present(WORKSHOP, &proved_text(&pass, &britt.pass_id, &phone(), 10))
        .assert_granted();

    let log = gw.log();
    let entry = event(&log, granted.seq());
    assert_eq!(entry["device_bound"], true, "{entry}");
    assert_eq!(entry["member"], "britt", "{entry}");
    gw.stop_cleanly();
}

#[test]
fn lockdown_refuses_one_door_until_lifted_and_survives_a_restart() {
    let mut gw = Gateway::started();
    let text = issue(&claims("anna"));

    gw.lockdown(FRONT, true);
    gw.present(FRONT, &text).assert_denied("lockdown");
    gw.present(WORKSHOP, &text).assert_granted();
    let status = gw.status();
    assert_eq!(
        status["core"]["lockdowns"],
        serde_json::json!([FRONT]),
        "{status}"
    );

    gw.lockdown(FRONT, false);
    gw.present(FRONT, &text).assert_granted();

    gw.lockdown(FRONT, true);
    gw.stop_cleanly();
    gw.start();
    gw.present(FRONT, &text).assert_denied("lockdown");
    gw.present(WORKSHOP, &text).assert_granted();
    let status = gw.status();
    let front = status["doors"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["id"] == FRONT))
        .expect("front in status");
    assert_eq!(
        front["lockdown"], true,
        "the door controller starts in lockdown: {status}"
    );

    let log = gw.log();
    let changes: Vec<_> = of_type(&log, "lockdown")
        .iter()
        .map(|e| (e["door"].clone(), e["on"].clone()))
        .collect();
    assert_eq!(
        changes,
        [
            (FRONT.into(), true.into()),
            (FRONT.into(), false.into()),
            (FRONT.into(), true.into())
        ],
        "every change is logged"
    );
    gw.stop_cleanly();
}

#[test]
fn a_stale_revocation_list_opens_only_break_glass_passes() {
    let mut gw = Gateway::with(Setup {
        policy: "revocation_alarm_after_hours = 1\nrevocation_refuse_after_hours = 2".into(),
        ..Setup::default()
    });
    gw.start();
    let member = issue(&claims("anna"));
    let break_glass = issue(&PassClaims {
        kind: PassKind::BreakGlass,
        ..claims("raddning")
    });

    // No list at all is as stale as it gets.
    gw.present(FRONT, &member)
        .assert_denied("revocation_list_stale");
    gw.present(FRONT, &break_glass).assert_granted();
    assert_eq!(gw.status()["core"]["revocation_stale"], true);

    let three_hours_ago = now() - 3 * 3600;
    gw.revocations(&revocation_list(1, &[], &[], three_hours_ago))
        .ok();
    gw.present(FRONT, &member)
        .assert_denied("revocation_list_stale");

    gw.revocations(&revocation_list(2, &[], &[], now())).ok();
    gw.present(FRONT, &member).assert_granted();
    assert_eq!(gw.status()["core"]["revocation_stale"], false);
    gw.stop_cleanly();
}

#[test]
fn an_older_revocation_list_is_refused_and_the_refusal_logged() {
    let mut gw = Gateway::started();
    let cecilia = claims("cecilia");
    let now = now();
    gw.revocations(&revocation_list(2, &[cecilia.pass_id], &[], now))
        .ok();

    let older = gw.revocations(&revocation_list(1, &[], &[], now));
    assert_eq!(older.code, Some(2), "{older:#?}");
    assert!(
        older
            .stdout
            .contains("older than the revocation list already held"),
        "{older:#?}"
    );
    let mismatched = RevocationList {
        version: 6,
        base: Some(5),
        issued_at: UnixTime(now),
        expires: UnixTime(now + 86_400),
        ..RevocationList::empty(site())
    }
    .sign(&issuer());
    let delta = gw.revocations(&mismatched);
    assert_eq!(delta.code, Some(2), "{delta:#?}");
    // The same list again (a retained message delivered twice) is not an error.
    gw.revocations(&revocation_list(2, &[cecilia.pass_id], &[], now))
        .ok();
    // A list signed by an untrusted key changes nothing either.
    let foreign = RevocationList {
        version: 9,
        issued_at: UnixTime(now),
        expires: UnixTime(now + 86_400),
        ..RevocationList::empty(site())
    }
    .sign(&stranger());
    assert_eq!(gw.revocations(&foreign).code, Some(2));
    // Another site's list, newer than the one held, carried in on a USB stick: refused
    // before its version counts, and said why.
    let dal = SiteId::new("dal").expect("valid site id");
    let other_site = gw.revocations(&revocation_list_for(&dal, 7, &[], &[], now));
    assert_eq!(other_site.code, Some(2), "{other_site:#?}");
    assert!(
        other_site.stdout.contains("misaddressed"),
        "{other_site:#?}"
    );

    gw.present(FRONT, &issue(&cecilia)).assert_denied("revoked");
    let log = gw.log();
    let refused: Vec<_> = of_type(&log, "revocation_refused")
        .iter()
        .map(|e| (e["version"].clone(), e["reason"].clone()))
        .collect();
    assert_eq!(
        refused,
        [
            (1.into(), "rollback".into()),
            (6.into(), "delta_mismatch".into()),
            (serde_json::Value::Null, "unknown_key".into()),
            (7.into(), "misaddressed".into()),
        ],
        "{log:#?}"
    );
    assert_eq!(of_type(&log, "revocation_applied").len(), 1, "{log:#?}");
    assert_eq!(gw.status()["core"]["revocation_versions"][0][1], 2);
    gw.stop_cleanly();
}

#[test]
fn no_entry_is_granted_at_a_door_after_its_lockdown_is_logged() {
    /// Clients presenting at once, so that lockdown requests share commits with decisions.
    const CLIENTS: usize = 4;
    /// Lockdown changes made while they present.
    const TOGGLES: usize = 40;
    let mut gw = Gateway::started();
    let line = format!(
        "{}\n",
        serde_json::json!({ "op": "present", "door": FRONT, "text": issue(&claims("anna")) })
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (socket, line, stop) = (gw.socket(), line.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    raw_request(&socket, &line).expect("a decision");
                }
            })
        })
        .collect();
    for i in 0..TOGGLES {
        let on = i % 2 == 0;
        let reply = gw
            .request(&serde_json::json!({ "op": "lockdown", "door": FRONT, "on": on }))
            .expect("lockdown reply");
        assert_eq!(reply["lockdown"], on, "{reply}");
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for client in clients {
        client.join().expect("client");
    }

    let log = gw.log();
    let mut locked = false;
    let mut decisions_while_locked = 0;
    for e in &log {
        match e["type"].as_str() {
            Some("lockdown") => locked = e["on"] == true,
            Some("entry_granted") => assert!(
                !locked,
                "event {} grants entry at a door whose lockdown was logged before it",
                e["seq"]
            ),
            Some("entry_denied") if locked => {
                assert_eq!(e["reason"], "lockdown", "{e}");
                decisions_while_locked += 1;
            }
            _ => {}
        }
    }
    assert!(decisions_while_locked > 0, "the clients met the lockdown");
    gw.stop_cleanly();
}
