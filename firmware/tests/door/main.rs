//! Integration tests of the door controller: scenarios told as sentences and property tests
//! of its invariants, both driven by a harness that advances simulated time from deadline to
//! deadline (quinn-proto's `tests/util.rs` does the same for connections).
//!
//! One test binary, so the harness is compiled once and every part of it is used.

mod harness;
mod properties;
mod scenarios;
