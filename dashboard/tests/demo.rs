//! The README's first command: `bygd demo` runs a gateway, opens a door with a fresh pass,
//! relocks it, and stops cleanly (here with `--once`, as Ctrl-C would).

use std::process::Command;

#[test]
fn the_demo_opens_a_door_with_its_pass_and_relocks_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_bygd"))
        .args(["demo", "--once", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(r#""decision":"granted""#),
        "no grant in:\n{stdout}"
    );
    assert!(
        stdout.contains("front: GRANTED demo-member"),
        "grant not logged live:\n{stdout}"
    );
    assert!(
        stdout.contains("the lock is locked"),
        "door did not relock:\n{stdout}"
    );
    assert!(data.join("pass.txt").is_file() && data.join("revoke-demo-pass.cose").is_file());
    // The QR text printed is a bygd pass.
    let pass = std::fs::read_to_string(data.join("pass.txt")).unwrap();
    assert!(pass.starts_with("BYGD1:"));
}

#[test]
fn the_demo_refuses_a_directory_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("something"), "x").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bygd"))
        .args(["demo", "--once", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
}
