//! The vendored front-end files are the ones their `SHA256SUMS` pins: an edit by hand, a
//! half-finished update or a corrupted checkout fails here rather than in a browser.

use sha2::{Digest, Sha256};
use std::path::Path;

/// Checks every line of `dir/SHA256SUMS` (`sha256sum`'s format) and returns how many files
/// it named.
fn check_sums(dir: &Path) -> usize {
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).expect("SHA256SUMS is readable");
    let mut checked = 0;
    for line in sums.lines().filter(|line| !line.trim().is_empty()) {
        let (want, name) = line.split_once("  ").expect("a line is `<hex>  <file>`");
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = hex::encode(Sha256::digest(&bytes));
        assert_eq!(
            got,
            want,
            "{} does not match its SHA256SUMS line",
            dir.join(name).display()
        );
        let licence = dir
            .join(name)
            .parent()
            .expect("in a folder")
            .join("LICENSE");
        assert!(licence.is_file(), "{name} has no LICENSE beside it");
        checked += 1;
    }
    checked
}

#[test]
fn the_served_javascript_is_what_its_checksums_pin() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vendor");
    assert_eq!(
        check_sums(&dir),
        3,
        "htmx, its SSE extension, the QR encoder"
    );
}

#[test]
fn the_accessibility_checker_for_the_browser_tests_is_what_its_checksum_pins() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testkit/assets/vendor");
    assert_eq!(check_sums(&dir), 1, "axe-core");
}
