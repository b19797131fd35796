//! The README's first command as a newcomer runs it: `cargo run --release -- demo` (the
//! `bygd-demo` binary) stays up, and the commands
//! it prints work as it says: present the pass (granted), revoke it at the dashboard,
//! present it again (denied, revoked), see the entries in the audit. Ctrl-C stops it cleanly.

use bygd_tests::{binary, signal, wait_until, ARRIVAL};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// A printed command with `cargo run --release …` replaced by the built binaries.
fn runnable(line: &str) -> String {
    let line = line.trim();
    let gateway = binary("bygd-gateway").display().to_string();
    // At the workspace's root, `cargo run` runs the demo crate's binary, which also runs
    // every `bygd` command.
    let demo = binary("bygd-demo").display().to_string();
    line.replace("cargo run --release -p bygd-gateway --", &gateway)
        .replace("cargo run --release --", &demo)
}

fn sh(command: &str) -> (Option<i32>, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .output()
        .expect("sh");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_demo_prints_commands_that_work_as_it_says_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Command::new(binary("bygd-demo"))
        .args(["demo", "--data"])
        .arg(dir.path().join("demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the demo");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let lines = lines.clone();
        let stdout = demo.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        })
    };
    let printed = || lines.lock().unwrap().join("\n");
    wait_until(
        "the demo's walkthrough",
        ARRIVAL,
        || printed().contains("Live door log"),
        printed,
    );
    let out = printed();
    let commands: Vec<String> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("cargo run --release"))
        .map(runnable)
        .collect();
    let present = commands
        .iter()
        .find(|c| c.contains(" present "))
        .expect("a present command");
    let revoke = commands
        .iter()
        .find(|c| c.contains(" pass revoke "))
        .expect("a revoke command");
    let audit = commands
        .iter()
        .find(|c| c.contains(" audit "))
        .expect("an audit command");

    let (code, reply) = sh(present);
    assert_eq!(code, Some(0), "{present}: {reply}");
    assert!(reply.contains(r#""decision":"granted""#), "{reply}");
    let (code, reply) = sh(revoke);
    assert_eq!(code, Some(0), "{revoke}: {reply}");
    wait_until(
        "the revocation at the demo's door",
        ARRIVAL,
        || sh(present).1.contains(r#""reason":"revoked""#),
        || sh(present).1,
    );
    let (code, reply) = sh(present);
    assert_eq!(code, Some(1), "a denial exits 1: {reply}");
    wait_until(
        "the denial in the demo's audit",
        ARRIVAL,
        || {
            let (code, entries) = sh(audit);
            code == Some(0)
                && entries.contains("GRANTED")
                && entries.contains("DENIED")
                && entries.contains("revoked")
        },
        || sh(audit).1,
    );

    signal(demo.id(), "-INT");
    let status = demo.wait().unwrap();
    reader.join().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut demo.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "the demo did not stop cleanly: {status}\n{stderr}"
    );
    assert!(printed().contains("Stopped."), "{}", printed());
}
