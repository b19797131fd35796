//! What survives a stop, a crash and a damaged disk: restarts keep revocation, replay and
//! lockdown state; SIGTERM stops cleanly; kill -9 in the middle of a burst loses no decision
//! that moved a relay; a damaged store is refused, kept aside, and replaced only when asked.

mod common;

use bygd_protocol::PassClaims;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_restart_keeps_revocation_and_replay_state() {
    let mut gw = Gateway::started();
    let anna = claims("anna");
    let britt = PassClaims {
        device_key: Some(phone().public_key()),
        ..claims("britt")
    };
    let britt_pass = britt.issue(&issuer());
    let proof = |counter| proved_text(&britt_pass, &britt.pass_id, &phone(), counter);

    gw.present(FRONT, &issue(&anna)).assert_granted();
    gw.revocations(&revocation_list(1, &[anna.pass_id], &["bertil"], now()))
        .ok();
    gw.present(FRONT, &proof(5)).assert_granted();
    gw.present(FRONT, &issue(&anna)).assert_denied("revoked");
    let before = gw.log().len();

    gw.stop_cleanly();
    gw.start();

    gw.present(FRONT, &issue(&anna)).assert_denied("revoked");
    gw.present(FRONT, &issue(&claims("bertil")))
        .assert_denied("member_revoked");
    gw.present(FRONT, &proof(5)).assert_denied("replayed_proof");
    gw.present(FRONT, &proof(4)).assert_denied("replayed_proof");
    gw.present(FRONT, &proof(6)).assert_granted();
    let status = gw.status();
    assert_eq!(status["core"]["revocation_versions"][0][1], 1, "{status}");

    let log = gw.log();
    let started = of_type(&log, "gateway_started");
    assert_eq!(started.len(), 2, "{log:#?}");
    assert_eq!(
        started[1]["seq"].as_u64(),
        Some(before as u64 + 1),
        "the second run continues the same chain"
    );
    gw.verify_log();
    gw.stop_cleanly();
}

#[test]
fn sigterm_stops_cleanly_relocks_and_removes_the_socket() {
    let mut gw = Gateway::with(Setup {
        unlock_seconds: 20,
        ..Setup::default()
    });
    gw.start();
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    gw.wait_for(
        "the front lock to be released",
        Duration::from_secs(3),
        || gw.lock_released(FRONT),
    );
    let head = gw.status()["core"]["head_seq"].as_u64().expect("head_seq");
    assert!(gw.socket().exists());

    gw.stop_cleanly();

    assert!(
        !gw.socket().exists(),
        "the socket file is removed on a clean stop"
    );
    let stderr = gw.daemon_stderr();
    for door in [FRONT, WORKSHOP] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("door relocked for shutdown") && l.contains(door)),
            "{door} is relocked on the way out:\n{stderr}"
        );
    }
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
    assert_eq!(
        gw.cli("present", &["--door", FRONT, "BYGD1:00"]).code,
        Some(2),
        "nothing answers once stopped"
    );
    let log = gw.log();
    let last = log.last().expect("events");
    assert!(
        last["seq"].as_u64() >= Some(head),
        "nothing logged before the stop is lost: {last}"
    );
    assert_eq!(gw.verify_log(), log.len() as u64);
}

/// One reply a client received during the burst.
#[derive(Debug, Clone)]
struct Received {
    door: &'static str,
    decision: String,
    reason: Option<String>,
    seq: u64,
}

#[test]
fn kill_9_in_the_middle_of_a_burst_loses_no_decision_that_moved_a_relay() {
    /// Client threads presenting at once: enough to fill the core's batches.
    const CLIENTS: usize = 6;
    /// Grants received before the kill: well into the burst, well before its end.
    const KILL_AFTER_GRANTS: usize = 150;
    /// A bound on each client's loop, should the kill never come.
    const MAX_PER_CLIENT: usize = 2_000;

    let mut gw = Gateway::started();
    let front_only = PassClaims {
        scope: vec![bygd_protocol::SiteScope {
            site: site(),
            doors: vec![door(FRONT)],
        }],
        ..claims("anna")
    };
    let mix: Arc<Vec<(&'static str, String)>> = Arc::new(vec![
        (FRONT, issue(&claims("britt"))),
        (WORKSHOP, issue(&claims("cecilia"))),
        (FRONT, issue(&front_only)),
        (WORKSHOP, issue(&front_only)), // wrong_door
        (FRONT, "HC1:NOT-A-BYGD-CODE".to_owned()),
        (WORKSHOP, issue(&claims("dora"))),
    ]);
    let socket = gw.socket();
    let grants = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (mix, socket, grants, killed) =
                (mix.clone(), socket.clone(), grants.clone(), killed.clone());
            std::thread::spawn(move || {
                let mut received = Vec::new();
                for i in 0..MAX_PER_CLIENT {
                    let (door, text) = &mix[(client + i) % mix.len()];
                    let request = json!({ "op": "present", "door": door, "text": text });
                    let Ok(reply) = raw_request(&socket, &format!("{request}\n")) else {
                        return (received, killed.load(Ordering::SeqCst));
                    };
                    let Some(seq) = reply["seq"].as_u64() else {
                        // An error reply from a dying daemon is no decision.
                        continue;
                    };
                    let decision = reply["decision"].as_str().unwrap_or_default().to_owned();
                    if decision == "granted" {
                        grants.fetch_add(1, Ordering::SeqCst);
                    }
                    received.push(Received {
                        door,
                        decision,
                        reason: reply["reason"].as_str().map(str::to_owned),
                        seq,
                    });
                }
                (received, killed.load(Ordering::SeqCst))
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while grants.load(Ordering::SeqCst) < KILL_AFTER_GRANTS {
        assert!(
            Instant::now() < deadline,
            "the burst never reached {KILL_AFTER_GRANTS} grants; daemon stderr:\n{}",
            gw.daemon_stderr()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    killed.store(true, Ordering::SeqCst);
    gw.kill9();

    let mut received: Vec<Received> = Vec::new();
    for client in clients {
        let (replies, interrupted) = client.join().expect("client thread");
        assert!(
            interrupted,
            "every client was still presenting when the daemon was killed"
        );
        received.extend(replies);
    }
    let granted = received.iter().filter(|r| r.decision == "granted").count();
    assert!(granted >= KILL_AFTER_GRANTS);
    eprintln!(
        "killed after {} replies ({granted} grants) from {CLIENTS} clients",
        received.len()
    );
    let distinct: BTreeSet<u64> = received.iter().map(|r| r.seq).collect();
    assert_eq!(
        distinct.len(),
        received.len(),
        "every decision has its own seq"
    );

    // It must start again on the same store: the chain's tail checks out after the crash.
    gw.start();
    let log = gw.log();
    let by_seq: BTreeMap<u64, &Value> = log
        .iter()
        .map(|e| (e["seq"].as_u64().expect("seq"), e))
        .collect();
    for reply in &received {
        let logged = by_seq.get(&reply.seq).unwrap_or_else(|| {
            panic!(
                "a client was told {reply:?} but event {} is not in the log",
                reply.seq
            )
        });
        let expected = if reply.decision == "granted" {
            "entry_granted"
        } else {
            "entry_denied"
        };
        assert_eq!(logged["type"], expected, "{reply:?}: {logged}");
        assert_eq!(logged["door"], reply.door, "{reply:?}: {logged}");
        if let Some(reason) = &reply.reason {
            assert_eq!(logged["reason"], reason.as_str(), "{reply:?}: {logged}");
        }
    }
    assert_eq!(
        log[0]["seq"], 1,
        "the restart continued the store it crashed on"
    );
    assert!(kept_files(&gw).is_empty(), "kill -9 damaged nothing");
    let restarted = of_type(&log, "gateway_started");
    let restart_seq = restarted
        .last()
        .and_then(|e| e["seq"].as_u64())
        .expect("seq");
    assert!(
        received.iter().all(|r| r.seq < restart_seq),
        "the restart appends after every acknowledged decision"
    );
    assert_eq!(gw.verify_log(), log.len() as u64);
    // And it decides again.
    gw.present(FRONT, &issue(&claims("eva"))).assert_granted();
    gw.stop_cleanly();
}

/// Overwrites `len` bytes of `file` at `offset` with a pattern no valid page holds.
fn scribble(file: &std::path::Path, offset: u64, len: usize) {
    use std::io::{Seek as _, SeekFrom, Write as _};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .expect("open the store file");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(&vec![0xa5; len]).expect("scribble");
    f.sync_all().expect("sync");
}

/// The files beside the store that hold a damaged store kept for inspection.
fn kept_files(gw: &Gateway) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(gw.data_dir())
        .expect("data dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("gateway.redb.damaged"))
        })
        .collect()
}

#[test]
fn a_damaged_store_is_refused_kept_aside_and_replaced_only_when_asked() {
    let mut gw = Gateway::started();
    for _ in 0..5 {
        gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    }
    gw.stop_cleanly();
    let store = gw.store_file();
    let len = std::fs::metadata(&store).expect("store file").len();
    // redb's header and commit slots live in the first page.
    scribble(&store, 0, 4096.min(len as usize));

    let refused = gw.run_expecting_exit(&[]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("is damaged"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--accept-fresh-store"),
        "{}",
        refused.stderr
    );
    let kept = kept_files(&gw);
    assert_eq!(kept.len(), 1, "the damaged file is kept beside: {kept:?}");
    assert!(
        refused.stderr.contains(&kept[0].display().to_string()),
        "the message says where the file was kept:\n{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::metadata(&kept[0]).expect("kept file").len(),
        len,
        "the damaged file is kept whole"
    );

    // Starting again without the flag (systemd restarts the unit) must not quietly begin an
    // empty store: revocations and replay state would be gone without anyone saying so.
    let again = gw.run_expecting_exit(&[]);
    assert_eq!(again.code, Some(2), "{again:#?}");
    assert!(
        again.stderr.contains("--accept-fresh-store"),
        "{}",
        again.stderr
    );
    assert!(!gw.socket().exists());

    gw.start_with(&["--accept-fresh-store"]);
    gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    let log = gw.log();
    assert_eq!(log[0]["seq"], 1, "a fresh chain: {log:#?}");
    assert_eq!(of_type(&log, "entry_granted").len(), 1);
    assert!(
        !kept_files(&gw).is_empty(),
        "the damaged store is still kept"
    );
    gw.verify_log();
    // And the fresh store is an ordinary store from now on.
    gw.stop_cleanly();
    gw.start();
    gw.stop_cleanly();
}

/// `--accept-fresh-store` forgets the highest list version the store held. The config's
/// `revocation_min_version` (written by `bygd gateway add`) and the version the operator
/// names with `--revocation-min-version` keep the broker from feeding the empty store an
/// older list of the site; the named floor outlives the run that set it.
#[test]
fn a_fresh_store_still_refuses_lists_older_than_the_minimum_version() {
    let mut gw = Gateway::with(Setup {
        policy: "revocation_min_version = 4".into(),
        ..Setup::default()
    });
    gw.start();
    let anna = claims("anna");
    let now = now();
    gw.revocations(&revocation_list(6, &[anna.pass_id], &[], now))
        .ok();
    gw.present(FRONT, &issue(&anna)).assert_denied("revoked");
    gw.stop_cleanly();
    let store = gw.store_file();
    let len = std::fs::metadata(&store).expect("store file").len();
    scribble(&store, 0, 4096.min(len as usize));

    gw.start_with(&["--accept-fresh-store"]);
    // Below the config's minimum: refused though the store holds no version at all.
    let ancient = gw.revocations(&revocation_list(3, &[], &[], now));
    assert_eq!(ancient.code, Some(2), "{ancient:#?}");
    assert!(ancient.stdout.contains("rollback"), "{ancient:#?}");
    // Above the config's minimum but older than the last list: only the operator's floor
    // refuses it.
    let old = revocation_list(5, &[], &[], now);
    gw.revocations(&old).ok();
    gw.stop_cleanly();

    let store_len = std::fs::metadata(&store).expect("store file").len();
    scribble(&store, 0, 4096.min(store_len as usize));
    gw.start_with(&["--accept-fresh-store", "--revocation-min-version", "6"]);
    let refused = gw.revocations(&old);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stdout.contains("rollback"), "{refused:#?}");
    gw.present(FRONT, &issue(&anna)).assert_granted();
    gw.revocations(&revocation_list(6, &[anna.pass_id], &[], now))
        .ok();
    gw.present(FRONT, &issue(&anna)).assert_denied("revoked");

    // A restart without the flag keeps the floor the operator named.
    gw.stop_cleanly();
    gw.start();
    assert_eq!(gw.revocations(&old).code, Some(2));
    let log = gw.log();
    let refused: Vec<(Value, Value)> = of_type(&log, "revocation_refused")
        .iter()
        .map(|e| (e["version"].clone(), e["reason"].clone()))
        .collect();
    assert_eq!(
        refused,
        [(json!(5), json!("rollback")), (json!(5), json!("rollback"))],
        "the fresh chain holds the refusals of this store's life: {log:#?}"
    );
    gw.stop_cleanly();
}

#[test]
fn every_kind_of_damage_found_at_start_up_is_refused_and_kept() {
    let mut gw = Gateway::started();
    for _ in 0..3 {
        gw.present(FRONT, &issue(&claims("anna"))).assert_granted();
    }
    gw.stop_cleanly();
    let store = gw.store_file();
    let clean = std::fs::read(&store).expect("the store file");
    let len = clean.len() as u64;
    let damages: [(&str, &dyn Fn()); 5] = [
        ("the header page scribbled over", &|| {
            scribble(&store, 0, 4096)
        }),
        ("every page after the header scribbled over", &|| {
            scribble(&store, 4096, (len - 4096) as usize)
        }),
        ("cut inside the header", &|| truncate(&store, 100)),
        ("cut in half", &|| truncate(&store, len / 2)),
        ("emptied", &|| truncate(&store, 0)),
    ];
    for (what, damage) in damages {
        for kept in kept_files(&gw) {
            std::fs::remove_file(kept).expect("remove an earlier kept file");
        }
        std::fs::write(&store, &clean).expect("restore the clean store");
        damage();
        let refused = gw.run_expecting_exit(&[]);
        assert_eq!(refused.code, Some(2), "a store {what}: {refused:#?}");
        assert!(
            refused.stderr.contains("is damaged") && refused.stderr.contains("kept for inspection"),
            "a store {what}:\n{}",
            refused.stderr
        );
        assert_eq!(kept_files(&gw).len(), 1, "a store {what} is kept beside");
        assert!(!store.exists(), "a store {what} is not left in place");
    }
}

fn truncate(file: &std::path::Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|f| f.set_len(len))
        .expect("truncate the store file");
}
