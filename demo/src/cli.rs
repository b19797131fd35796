//! The demo binary's command line: `demo` beside every command of `bygd`, whose parser it
//! extends rather than copies, so the two never drift apart.

use crate::DemoOptions;
use bygd_dashboard::cli::Cli;
use clap::{Args, CommandFactory as _, FromArgMatches as _};
use std::ffi::OsString;
use std::path::PathBuf;

/// The demo subcommand's name.
const DEMO: &str = "demo";

/// `demo`'s flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct DemoArgs {
    /// Keep the demo's files here (a new or empty directory) instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Stop after the walkthrough instead of waiting for Ctrl-C.
    #[arg(long)]
    pub once: bool,
    /// Use this MQTT broker instead of starting one in the process.
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
}

impl From<DemoArgs> for DemoOptions {
    fn from(args: DemoArgs) -> Self {
        Self {
            data: args.data,
            once: args.once,
            mqtt: args.mqtt,
        }
    }
}

/// What the command line asks for. Parsed once at start-up, so the size of `bygd`'s command
/// line beside the demo's flags does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Invocation {
    /// The demo.
    Demo(DemoArgs),
    /// One of `bygd`'s commands.
    Bygd(Cli),
}

/// Parses a command line (its first item is the program's name).
pub fn parse_from<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // The texts come after the flags: `augment_args` sets the struct's doc as the about.
    let demo = DemoArgs::augment_args(clap::Command::new(DEMO).display_order(0))
            .about("Run the demo: a broker, the dashboard and a gateway with simulated doors, in one process")
            .long_about(
                "Run the demo: a broker, the dashboard and a gateway with simulated doors, in one process.\n\n\
                 Nothing to install. It issues a pass, opens a door with it, and prints the commands\n\
                 to present the pass yourself, revoke it and see it refused.\n\
                 Example: cargo run --release -- demo",
            );
    let matches = Cli::command()
        .name("bygd-demo")
        .subcommand(demo)
        .try_get_matches_from(args)?;
    match matches.subcommand() {
        Some((DEMO, demo)) => Ok(Invocation::Demo(DemoArgs::from_arg_matches(demo)?)),
        _ => Ok(Invocation::Bygd(Cli::from_arg_matches(&matches)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_parses_its_own_flags() {
        let Invocation::Demo(args) =
            parse_from(["bygd-demo", "demo", "--once", "--data", "/tmp/d"]).unwrap()
        else {
            panic!("not the demo");
        };
        assert_eq!(
            args,
            DemoArgs {
                data: Some("/tmp/d".into()),
                once: true,
                mqtt: None
            }
        );
    }

    #[test]
    fn every_other_command_is_bygd_s() {
        assert!(matches!(
            parse_from(["bygd-demo", "audit", "--data", "/tmp/d"]).unwrap(),
            Invocation::Bygd(_)
        ));
        let e = parse_from(["bygd-demo", "no-such-command"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidSubcommand);
    }
}
