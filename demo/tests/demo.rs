//! The README's first command: `cargo run --release -- demo` starts a broker, the dashboard and a gateway,
//! opens a door with a fresh pass, sees the entry stored at the dashboard, relocks, and stops
//! cleanly (here with `--once`, as Ctrl-C would).

use std::process::Command;

#[test]
fn the_demo_opens_a_door_and_the_dashboard_stores_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_bygd-demo"))
        .args(["demo", "--once", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for expected in [
        r#""decision":"granted""#,
        "front: GRANTED demo-member",
        "the dashboard verified and stored the entry",
        "the lock is locked",
        "pass revoke --data",
        "log in as `admin` with the password",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` missing from:\n{stdout}"
        );
    }
    assert!(
        stderr.trim().is_empty(),
        "the demo logged problems:\n{stderr}"
    );
    let pass = std::fs::read_to_string(data.join("pass.txt")).unwrap();
    assert!(pass.starts_with("BYGD1:"));
    // Its dashboard is a real data directory the other commands work on.
    let audit = Command::new(env!("CARGO_BIN_EXE_bygd-demo"))
        .args(["audit", "--json", "--data"])
        .arg(data.join("dashboard"))
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&audit.stdout);
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    assert!(
        lines.contains(r#""member":"demo-member""#) && lines.contains(r#""outcome":"granted""#),
        "{lines}"
    );
}

#[test]
fn the_demo_refuses_a_directory_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("something"), "x").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bygd-demo"))
        .args(["demo", "--once", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
}

#[test]
fn the_demo_explains_itself_with_an_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_bygd-demo"))
        .args(["demo", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        help.contains("Example"),
        "`demo --help` has no example:\n{help}"
    );
}
