//! Reading a Prometheus metrics page the way Prometheus reads it: with the Prometheus
//! project's own Python parser (`prometheus_client.parser`, Debian's
//! `python3-prometheus-client`), not with bygd's code on both ends.
//!
//! Without the module a test says SKIPPED and does not run, unless
//! `BYGD_REQUIRE_PROMETHEUS=1` (as in CI): then it fails.

use serde_json::Value;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// Set to `1` to make a missing Prometheus parser a failure instead of a skip.
pub const REQUIRE_PROMETHEUS: &str = "BYGD_REQUIRE_PROMETHEUS";

/// A Python with `prometheus_client`, or `None` (after saying SKIPPED) when it is missing
/// and not required.
#[track_caller]
pub fn parser(test: &str) -> Option<&'static str> {
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import prometheus_client.parser"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        assert!(
            std::env::var(REQUIRE_PROMETHEUS).as_deref() != Ok("1"),
            "{test}: Python's prometheus_client is not installed but {REQUIRE_PROMETHEUS}=1 \
             requires it; apt-get install python3-prometheus-client"
        );
        eprintln!(
            "SKIPPED {test}: Python's prometheus_client is not installed (apt-get install \
             python3-prometheus-client; set {REQUIRE_PROMETHEUS}=1 to make this a failure)"
        );
    }
    found
}

/// The samples of a metrics page as the Prometheus parser reads it:
/// `[name, labels, value, family type]`. A page it refuses fails the test, showing why.
#[track_caller]
pub fn parse(python: &str, text: &str) -> Vec<Value> {
    const SCRIPT: &str = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = []\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       out.append([s.name, s.labels, s.value, family.type])\n\
        print(json.dumps(out))\n";
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .expect("python's stdin")
        .write_all(text.as_bytes())
        .expect("feed the page to python");
    let out = child.wait_with_output().expect("python finishes");
    assert!(
        out.status.success(),
        "the Prometheus parser refused the page: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the parser's samples as JSON")
}

/// The value of the sample `name` whose labels are exactly `labels`.
#[must_use]
pub fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s[0] == name
                && s[1].as_object().map(serde_json::Map::len) == Some(labels.len())
                && labels.iter().all(|(k, v)| s[1][*k].as_str() == Some(*v))
        })
        .and_then(|s| s[2].as_f64())
}
