//! `bygd serve` as systemd runs it (`Type=notify` with a watchdog): a real process that says
//! READY once it serves, feeds the watchdog while its database answers, and says STOPPING on
//! SIGTERM; and its health check answers 503 while the broker it was given is unreachable.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BYGD: &str = env!("CARGO_BIN_EXE_bygd");
/// Far more than any of it needs on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// The next datagram systemd would get, or a failure saying what was awaited.
fn next(socket: &UnixDatagram, what: &str) -> String {
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 256];
    let n = socket
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no {what} within {PATIENCE:?}: {e}"));
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// One `GET` to the loopback port: (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let status = reply.split_whitespace().nth(1)?.parse().ok()?;
    let body = reply.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

#[test]
fn serve_says_ready_feeds_the_watchdog_reports_a_missing_broker_and_says_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A broker address nothing listens on: the link stays down.
    let closed = bygd_testkit::free_port();
    let init = Command::new(BYGD)
        .args([
            "init",
            "--mqtt",
            &format!("mqtt://127.0.0.1:{closed}"),
            "--data",
        ])
        .arg(&data)
        .env_remove("BYGD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let notify_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&notify_path).unwrap();
    let port = bygd_testkit::free_port();
    let mut serve = Command::new(BYGD)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .env_remove("BYGD_DATABASE_URL")
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "1000000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    assert_eq!(next(&socket, "READY"), "READY=1");
    let (status, body) = get(port, "/api/v1/health").expect("the API answers once READY");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"mqtt_connected\":false"), "{body}");
    assert!(body.contains("\"database\":true"), "{body}");
    // Pinged every half interval while the database answers.
    let started = Instant::now();
    assert_eq!(next(&socket, "a watchdog ping"), "WATCHDOG=1");
    assert_eq!(next(&socket, "a second watchdog ping"), "WATCHDOG=1");
    assert!(started.elapsed() < PATIENCE);

    let term = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut said = next(&socket, "STOPPING");
    while said == "WATCHDOG=1" {
        said = next(&socket, "STOPPING");
    }
    assert_eq!(said, "STOPPING=1");
    let exit = serve.wait().unwrap();
    assert!(exit.success(), "bygd serve exited with {exit}");
}
