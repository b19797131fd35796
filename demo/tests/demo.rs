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
        "sign in as `admin` with the password",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` missing from:\n{stdout}"
        );
    }
    assert!(
        stdout.starts_with("bygd demo: open the dashboard's web UI at http://127.0.0.1:"),
        "the web UI's address comes first:\n{stdout}"
    );
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

/// One HTTP/1.1 request over a plain socket; the reply's head and body.
fn http(address: &str, request: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn the_admin_signs_in_to_the_demos_web_ui_and_sees_the_walkthroughs_entry() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_bygd-demo"))
        .args(["demo", "--data"])
        .arg(dir.path().join("demo"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in the first line: {first}"));
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let second = lines.next().unwrap().unwrap();
    let password = second
        .split("the password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in the second line: {second}"))
        .to_owned();
    // Once the walkthrough is done, its entry is at the dashboard.
    for line in lines.by_ref() {
        if line.unwrap().contains("Live door log below") {
            break;
        }
    }
    let body = format!("name=admin&password={password}&next=%2F");
    let login = http(
        &address,
        &format!(
            "POST /login HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: bygd_session="))
        .unwrap_or_else(|| panic!("no session cookie: {login}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let overview = http(
        &address,
        &format!(
            "GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nCookie: bygd_session={cookie}\r\n\r\n"
        ),
    );
    let _ = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status();
    let stopped = demo.wait().unwrap();
    assert!(overview.starts_with("HTTP/1.1 200"), "{overview}");
    assert!(
        overview.contains("demo-member") && overview.contains("badge ok"),
        "the walkthrough's entry is not on the overview: {overview}"
    );
    assert!(stopped.success(), "the demo did not stop cleanly on Ctrl-C");
}
