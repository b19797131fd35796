//! bygd's demo: the whole system in one process with nothing to install, on top of the
//! dashboard and gateway crates (neither of which knows about it).
//!
//! Its binary, `bygd-demo`, is what `cargo run --release --` runs at the workspace's root:
//! `demo` runs the walkthrough, and every other command is `bygd`'s, so that the commands the
//! walkthrough prints (`cargo run --release -- pass revoke …`) work as printed.
//!
//! # Layout
//! - `cli`: the command line: `demo` beside every `bygd` command.
//! - `broker`: rumqttd in this process, on a free loopback port.
//! - `demo`: the walkthrough: the dashboard, a gateway with two simulated doors, a pass, an
//!   entry, and the commands to try next.

mod broker;
mod cli;
mod demo;

pub use cli::{parse_from, DemoArgs, Invocation};
pub use demo::{run, DemoOptions};
