//! `bygd-gateway`: the door daemon and its local tools.

use anyhow::Context as _;
use bygd_gateway::{Config, Request, SimAction, Store, StoreError};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// bygd gateway: opens doors for valid member passes, with no network needed.
///
/// Runs on a Raspberry Pi next to the doors (or anywhere with simulated hardware). It checks
/// each pass's signature, validity, doors, schedule and revocation locally, logs every
/// decision durably before moving a relay, and keeps working through days offline.
///
/// First steps:
///   bygd-gateway keygen --out /etc/bygd/gateway.key
///   bygd-gateway check-config --config /etc/bygd/gateway.toml
///   bygd-gateway run --config /etc/bygd/gateway.toml
///
/// deploy/gateway.example.toml documents every config key.
#[derive(Debug, Parser)]
#[command(name = "bygd-gateway", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct ConfigArg {
    /// The gateway's TOML config file.
    #[arg(long, short, env = "BYGD_GATEWAY_CONFIG", value_name = "FILE")]
    config: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (what the systemd unit starts).
    ///
    /// Example: bygd-gateway run --config /etc/bygd/gateway.toml
    Run {
        #[command(flatten)]
        config: ConfigArg,
        /// If the store is damaged, keep it aside and start with an empty one instead of
        /// refusing to start.
        #[arg(long)]
        accept_fresh_store: bool,
        /// Refuse revocation lists older than this version, from now on (kept in the store).
        /// Give the site's current list version with --accept-fresh-store: an empty store
        /// no longer knows which lists it accepted. The config's
        /// policy.revocation_min_version does the same from the config file.
        #[arg(long, env = "BYGD_REVOCATION_MIN_VERSION", value_name = "VERSION")]
        revocation_min_version: Option<u64>,
    },
    /// Check a config file and say what is wrong with it, key by key.
    ///
    /// Example: bygd-gateway check-config --config /etc/bygd/gateway.toml
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Create the gateway's signing key and print its public key (for `bygd gateway add`).
    ///
    /// Example: bygd-gateway keygen --out /etc/bygd/gateway.key
    Keygen {
        /// Where to write the key (never overwritten; mode 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Hand a QR text to the running daemon at a door and print its decision as JSON.
    ///
    /// Exit status: 0 granted, 1 denied, 2 error. Use `-` as TEXT to read it from stdin.
    /// Example: bygd-gateway present --config gw.toml --door front 'BYGD1:...'
    Present {
        #[command(flatten)]
        config: ConfigArg,
        /// The door whose reader saw the code.
        #[arg(long)]
        door: String,
        /// The QR text (BYGD1:... or BYGD1D:...), or `-` for stdin.
        text: String,
    },
    /// Print the local entry log.
    ///
    /// Example: bygd-gateway log --config gw.toml --since 2026-11-22 --json
    Log {
        #[command(flatten)]
        config: ConfigArg,
        /// Only events at or after this time: `2026-11-22`, `2026-11-22T08:00` (site time)
        /// or RFC 3339 (`2026-11-22T07:00:00Z`).
        #[arg(long)]
        since: Option<String>,
        /// Only the last N events.
        #[arg(long, value_name = "N")]
        last: Option<u64>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Check the entry log's hash chain from the first stored event to the last.
    ///
    /// Example: bygd-gateway verify-log --config gw.toml
    VerifyLog {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Repair the store in place after a crash or a power cut, without starting the doors.
    ///
    /// A daemon killed (kill -9, a power cut) leaves its store "not closed cleanly". The daemon
    /// repairs it when it starts, and `log` and `verify-log` read a repaired copy until then;
    /// this runs the daemon's start-up check alone (redb's repair, the integrity check, the
    /// chain's tail), e.g. before copying the store off the machine. Stop the daemon first: a
    /// store it holds is refused (it repaired that store when it started). A damaged store is
    /// moved aside and refused, as at start-up.
    ///
    /// Example:
    ///   systemctl stop bygd-gateway
    ///   bygd-gateway repair --config /etc/bygd/gateway.toml
    ///   systemctl start bygd-gateway
    #[command(verbatim_doc_comment)]
    Repair {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print the running daemon's status as JSON (doors, alarms, lockdown, backlog).
    Status {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Turn lockdown on or off for one door or all (logged like any event).
    ///
    /// Example: bygd-gateway lockdown --config gw.toml --door front on
    Lockdown {
        #[command(flatten)]
        config: ConfigArg,
        /// The door; all doors if omitted.
        #[arg(long)]
        door: Option<String>,
        /// on or off.
        state: OnOff,
    },
    /// Apply a signed revocation list file (as `bygd` exports it) to the running daemon.
    ///
    /// For sites without a network link: carry the file in on a USB stick.
    /// Example: bygd-gateway revocations --config gw.toml revocations.cose
    Revocations {
        #[command(flatten)]
        config: ConfigArg,
        /// The file holding the signed list (raw bytes, or hex).
        file: PathBuf,
    },
    /// The clock floor: the latest time the gateway has seen, below which it never decides.
    Clock {
        #[command(subcommand)]
        command: ClockCommand,
    },
    /// Simulated hardware only: open or close a door, press or release its exit button.
    ///
    /// Example: bygd-gateway sim --config gw.toml --door front open
    Sim {
        #[command(flatten)]
        config: ConfigArg,
        /// The door.
        #[arg(long)]
        door: String,
        /// What to do.
        action: SimArg,
    },
}

#[derive(Debug, Subcommand)]
enum ClockCommand {
    /// Set the clock floor of the running daemon, lower or higher, and log it.
    ///
    /// The gateway never decides at a time below its floor. If a clock that claimed to be
    /// synchronised (a wrong or spoofed time server) pushed the floor into the future, every
    /// pass and every command is `expired` until the floor comes back. Fix the time source
    /// first (check `timedatectl`), then set the floor to the real time. `bygd-gateway status`
    /// shows the floor (`core.clock_floor`); the reply shows the floor after the clock was
    /// read again: if it is still in the future, the system clock still says so.
    ///
    /// Examples:
    ///   bygd-gateway clock reset-floor --config gw.toml --to now
    ///   bygd-gateway clock reset-floor --config gw.toml --to 2026-12-03T10:00
    ///
    /// From the dashboard, without local access: bygd clock reset --gateway SITE/GATEWAY
    #[command(verbatim_doc_comment)]
    ResetFloor {
        #[command(flatten)]
        config: ConfigArg,
        /// The new floor: `now` (this machine's system clock), a date (`2026-12-03`), a site-local
        /// time (`2026-12-03T10:00`) or RFC 3339 (`2026-12-03T09:00:00Z`).
        #[arg(long, value_name = "TIME")]
        to: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SimArg {
    Open,
    Close,
    PressExit,
    ReleaseExit,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BYGD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn load(config: &ConfigArg) -> anyhow::Result<Config> {
    Ok(Config::load(&config.config)?)
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run {
            config,
            accept_fresh_store,
            revocation_min_version,
        } => {
            init_tracing();
            let config = load(&config)?;
            runtime()?.block_on(bygd_gateway::run(
                config,
                bygd_gateway::RunOptions {
                    accept_fresh_store,
                    revocation_min_version,
                    ..Default::default()
                },
                shutdown_signal(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let config = load(&config)?;
            println!(
                "{}: OK: site {}, gateway {}, {} door(s), {} reader(s), {} issuer key(s), time zone {}",
                config.path.display(),
                config.site,
                config.gateway,
                config.doors.len(),
                config.readers.len(),
                config.issuers.len(),
                config.time_zone_name
            );
            if !config.key_file.exists() {
                println!(
                    "note: the key file {} does not exist yet; run `bygd-gateway keygen --out {}`",
                    config.key_file.display(),
                    config.key_file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out } => {
            let key = bygd_link::generate_key(&out)?;
            println!("{}", key.public_key().to_hex());
            eprintln!(
                "wrote {} (key id {}); register the public key above with `bygd gateway add`",
                out.display(),
                key.id()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Present { config, door, text } => {
            let config = load(&config)?;
            let text = if text == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)
                    .context("cannot read the code from stdin")?;
                s.trim().to_owned()
            } else {
                text
            };
            let reply = ask(&config, &Request::Present { door, text })?;
            println!("{reply}");
            Ok(match reply.get("decision").and_then(|d| d.as_str()) {
                Some("granted") => ExitCode::SUCCESS,
                Some("denied") if reply.get("error").is_none() => ExitCode::from(1),
                _ => ExitCode::from(2),
            })
        }
        Command::Status { config } => {
            let config = load(&config)?;
            let reply = ask(&config, &Request::Status)?;
            println!("{}", serde_json::to_string_pretty(&reply)?);
            Ok(exit_code(&reply))
        }
        Command::Lockdown {
            config,
            door,
            state,
        } => {
            let config = load(&config)?;
            let on = matches!(state, OnOff::On);
            let reply = ask(&config, &Request::Lockdown { door, on })?;
            println!("{reply}");
            Ok(exit_code(&reply))
        }
        Command::Revocations { config, file } => {
            let config = load(&config)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let hex = match std::str::from_utf8(&bytes) {
                Ok(text) if hex::decode(text.trim()).is_ok() => text.trim().to_owned(),
                _ => hex::encode(&bytes),
            };
            let reply = ask(&config, &Request::Revocations { hex })?;
            println!("{reply}");
            Ok(exit_code(&reply))
        }
        Command::Clock {
            command: ClockCommand::ResetFloor { config, to },
        } => {
            let config = load(&config)?;
            let to = if to.trim() == "now" {
                None
            } else {
                Some(parse_time(&to, &config.time_zone).with_context(|| format!("--to `{to}`"))?)
            };
            let reply = ask(&config, &Request::ResetClockFloor { to })?;
            println!("{reply}");
            Ok(exit_code(&reply))
        }
        Command::Sim {
            config,
            door,
            action,
        } => {
            let config = load(&config)?;
            let action = match action {
                SimArg::Open => SimAction::Open,
                SimArg::Close => SimAction::Close,
                SimArg::PressExit => SimAction::PressExit,
                SimArg::ReleaseExit => SimAction::ReleaseExit,
            };
            let reply = ask(&config, &Request::Sim { door, action })?;
            println!("{reply}");
            Ok(exit_code(&reply))
        }
        Command::Log {
            config,
            since,
            last,
            json,
        } => {
            let config = load(&config)?;
            let store = open_for_reading(&config)?;
            let since = since
                .map(|s| {
                    parse_time(&s, &config.time_zone).with_context(|| format!("--since `{s}`"))
                })
                .transpose()?;
            let head = store.events(0, u64::MAX).context("cannot read the log")?;
            let start = last.map_or(0, |n| {
                head.len()
                    .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX))
            });
            for (seq, bytes) in head.into_iter().skip(start) {
                let event = bygd_protocol::Event::decode(&bytes).with_context(|| {
                    format!("event {seq} in the log does not decode; run verify-log")
                })?;
                if since.is_some_and(|t| event.time.0 < t) {
                    continue;
                }
                if json {
                    println!("{}", bygd_gateway::event_json(&event));
                } else {
                    println!("{}", bygd_gateway::event_line(&event, &config.time_zone));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyLog { config } => {
            let config = load(&config)?;
            let store = open_for_reading(&config)?;
            let checked =
                store.verify_log(|done, total| eprintln!("checked {done} of {total} events"))?;
            println!("OK: {checked} events, hash chain intact");
            Ok(ExitCode::SUCCESS)
        }
        Command::Repair { config } => {
            let config = load(&config)?;
            let report = match Store::repair(&config.data_dir) {
                Err(StoreError::InUse(path)) => anyhow::bail!(
                    "the store {} is held by a running bygd-gateway daemon, which repaired it \
                     when it started: there is nothing to repair. To check it anyway, stop the \
                     daemon first (`systemctl stop bygd-gateway`) and run this again",
                    path.display()
                ),
                other => other?,
            };
            let last = report.head.seq;
            if report.was_unclean {
                println!(
                    "repaired {}: it was not closed cleanly; now it is, and its integrity and \
                     its chain's tail check out (last event #{last}). Start the daemon: \
                     `systemctl start bygd-gateway`",
                    report.path.display()
                );
            } else {
                println!(
                    "{} was closed cleanly, nothing to repair; its integrity and its chain's tail \
                     check out (last event #{last})",
                    report.path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens the store for `log` and `verify-log`: read-only, beside a running daemon or not; and
/// when it was not closed cleanly and no daemon has repaired it yet (right after a crash, when
/// an installer looks), a repaired copy in the temporary directory, said on stderr.
fn open_for_reading(config: &Config) -> anyhow::Result<Store> {
    match Store::open_read_only(&config.data_dir) {
        Err(StoreError::Unclean(path)) => {
            let store = Store::open_repaired_copy(&config.data_dir, &std::env::temp_dir())?;
            eprintln!(
                "note: the store {} was not closed cleanly (a crash, kill -9 or a power cut); \
                 this reads a repaired copy of it and leaves the store itself unchanged. The \
                 daemon repairs the store when it starts (`systemctl start bygd-gateway`), or \
                 stop the daemon and run `bygd-gateway repair --config {}`",
                path.display(),
                config.path.display()
            );
            Ok(store)
        }
        other => Ok(other?),
    }
}

/// Sends one request to the running daemon's control socket.
fn ask(config: &Config, request: &Request) -> anyhow::Result<serde_json::Value> {
    Ok(runtime()?.block_on(bygd_gateway::request(&config.socket, request))?)
}

/// 2 when the daemon replied with an error, 0 otherwise.
fn exit_code(reply: &serde_json::Value) -> ExitCode {
    if reply.get("error").is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// A time as an operator types it: a date, a site-local time or RFC 3339, in Unix seconds.
fn parse_time(text: &str, zone: &jiff::tz::TimeZone) -> anyhow::Result<u64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(u64::try_from(ts.as_second()).unwrap_or(0));
    }
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            text.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .context("not a date (2026-11-22), a local time (2026-11-22T08:00) or RFC 3339")?;
    let zoned = civil
        .to_zoned(zone.clone())
        .context("this time does not exist in the site's time zone")?;
    Ok(u64::try_from(zoned.timestamp().as_second()).unwrap_or(0))
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
    }
}
