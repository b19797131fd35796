//! The gateway's data directory and store are owner-only after its first start, whatever the
//! umask: the real binary runs through `sh -c 'umask 022; exec …'`, the permissive umask of
//! most shells, so a directory or file that takes its mode from the umask fails the test.
#![cfg(unix)]

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A umask that lets group and others read what is created with default modes.
const PERMISSIVE_UMASK: &str = "022";
/// How long the daemon may take to answer `status`: slack for a loaded debug build.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon started here; killed when dropped, even when an assertion failed.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_first_start_under_a_permissive_umask_makes_an_owner_only_data_directory_and_store() {
    let gateway = Gateway::new();
    let home = gateway.data_dir().parent().unwrap().to_owned();
    assert!(!gateway.data_dir().exists(), "the first start makes it");
    let stderr = home.join("umask-run.stderr");
    let mut daemon = Daemon(
        Command::new("sh")
            .arg("-c")
            .arg(format!("umask {PERMISSIVE_UMASK}; exec \"$0\" \"$@\""))
            .arg(BINARY)
            .arg("run")
            .arg("--config")
            .arg(home.join("gateway.toml"))
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("BYGD_GATEWAY_CONFIG")
            .env("BYGD_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + START_TIMEOUT;
    while !gateway
        .request(&serde_json::json!({ "op": "status" }))
        .is_ok_and(|reply| reply.get("core").is_some())
    {
        let log = || std::fs::read_to_string(&stderr).unwrap_or_default();
        if let Some(status) = daemon.0.try_wait().unwrap() {
            panic!("the daemon exited with {status}: {}", log());
        }
        assert!(
            Instant::now() < deadline,
            "no answer within {START_TIMEOUT:?}: {}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(mode(&gateway.data_dir()), 0o700, "the data directory");
    assert_eq!(mode(&gateway.store_file()), 0o600, "the store");
    assert_eq!(mode(&home.join("gateway.key")), 0o600, "the key");
}

/// The `[Service]` settings of a systemd unit, as (key, value) pairs.
fn service_settings(unit: &str) -> Vec<(&str, &str)> {
    unit.lines()
        .map(str::trim)
        .skip_while(|l| *l != "[Service]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect()
}

#[test]
fn the_systemd_unit_keeps_what_the_gateway_creates_owner_only() {
    let unit = include_str!("../../deploy/bygd-gateway.service");
    let settings = service_settings(unit);
    for want in [("UMask", "0077"), ("StateDirectoryMode", "0700")] {
        assert!(settings.contains(&want), "{want:?} missing: {settings:?}");
    }
    if settings.iter().any(|(k, _)| *k == "ConfigurationDirectory") {
        assert!(settings.contains(&("ConfigurationDirectoryMode", "0700")));
    }
}
