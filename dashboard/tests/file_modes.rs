//! The data directory of the real `bygd` binary is owner-only whatever the umask it runs
//! under: the directory 0700, the config, issuer key and SQLite database 0600. The binary
//! runs through `sh -c 'umask 022; exec …'`, the permissive umask of most shells, so the
//! test fails if a file takes its mode from the umask.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

const BYGD: &str = env!("CARGO_BIN_EXE_bygd");

/// A umask that lets group and others read what is created with default modes.
const PERMISSIVE_UMASK: &str = "022";

/// Runs `bygd args…` with the permissive umask and asserts that it succeeded.
fn bygd(data: &Path, args: &[&str]) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {PERMISSIVE_UMASK}; exec \"$0\" \"$@\""))
        .arg(BYGD)
        .args(args)
        .env("BYGD_DATA", data)
        .env_remove("BYGD_DATABASE_URL")
        .env("BYGD_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "bygd {args:?}: {stderr}");
    stderr
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The files `bygd init` makes, with the mode each must have.
const PRIVATE: [(&str, u32); 4] = [
    ("", 0o700),
    ("dashboard.toml", 0o600),
    ("issuer.key", 0o600),
    ("bygd.db", 0o600),
];

fn check_private(data: &Path) {
    for (name, want) in PRIVATE {
        let path = data.join(name);
        assert_eq!(
            mode(&path),
            want,
            "{} has mode {:o}",
            path.display(),
            mode(&path)
        );
    }
    for side in ["bygd.db-wal", "bygd.db-shm"] {
        let path = data.join(side);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn bygd_init_under_a_permissive_umask_makes_an_owner_only_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    bygd(
        &data,
        &["init", "--mqtt", "mqtts://broker.example.org:8883"],
    );
    check_private(&data);
}

#[test]
fn a_data_directory_left_world_readable_by_an_older_version_is_tightened_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dashboard");
    bygd(&data, &["init"]);
    for (name, _) in PRIVATE {
        let loose = if name.is_empty() { 0o755 } else { 0o644 };
        std::fs::set_permissions(data.join(name), std::fs::Permissions::from_mode(loose)).unwrap();
    }
    bygd(&data, &["pass", "list"]);
    check_private(&data);
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
fn the_systemd_unit_keeps_what_the_dashboard_creates_owner_only() {
    let unit = include_str!("../../deploy/bygd-dashboard.service");
    let settings = service_settings(unit);
    for want in [("UMask", "0077"), ("StateDirectoryMode", "0700")] {
        assert!(settings.contains(&want), "{want:?} missing: {settings:?}");
    }
    if settings.iter().any(|(k, _)| *k == "ConfigurationDirectory") {
        assert!(settings.contains(&("ConfigurationDirectoryMode", "0700")));
    }
}
