//! The `bygd` commands: each parses its flags, opens the data directory and calls one
//! service, with the operator at the shell as an admin of every site (the data directory's
//! file permissions are the access control here).
//!
//! Exit status: 0 done, 1 done but refused or without a result (a door that did not
//! confirm), 2 an error (bad flags, a missing data directory, a database failure).

use crate::access::{Principal, Role, Scope, Sites};
use crate::command::{CommandRequest, DEFAULT_UNLOCK_SECONDS};
use crate::config::DashboardMqtt;
use crate::entry::{csv_line, EntryFilter, CSV_HEADER};
use crate::gateway::{NewGateway, DEFAULT_TIME_ZONE};
use crate::member::NewMember;
use crate::pass::IssuePass;
use crate::service::{split_list, Dashboard};
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// bygd: open-source access control for unstaffed rural spaces.
///
/// Members open doors with a signed pass on their phone; a Raspberry Pi at each door
/// decides alone, logs every entry and keeps working offline. This command runs the
/// central dashboard: it stores what the gateways report, issues and revokes passes,
/// sends commands to doors and answers audits.
///
/// Try it with nothing installed:
///   cargo run --release -- demo
///
/// Set up a dashboard:
///   bygd init --data /var/lib/bygd-dashboard
///   bygd gateway add --data /var/lib/bygd-dashboard --site byn --id gw1 --public-key KEY --out gw1.toml
///   bygd serve --data /var/lib/bygd-dashboard --mqtt mqtt://127.0.0.1:1883
#[derive(Debug, Parser)]
#[command(name = "bygd", version, verbatim_doc_comment)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// The log filter unless `BYGD_LOG` says otherwise: the service logs what it does.
    #[must_use]
    pub fn default_log_filter(&self) -> &'static str {
        "warn,bygd_dashboard=info"
    }
}

/// Where the dashboard's files are.
#[derive(Debug, Clone, Args)]
struct DataArgs {
    /// The data directory made by `bygd init` (config, issuer key, SQLite database).
    #[arg(long, env = "BYGD_DATA", value_name = "DIR")]
    data: PathBuf,
    /// Use this database instead of the config's: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "BYGD_DATABASE_URL", value_name = "URL")]
    database: Option<String>,
}

impl DataArgs {
    async fn open(&self) -> anyhow::Result<Dashboard> {
        Ok(Dashboard::open(&self.data, self.database.as_deref())
            .await?
            .0)
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: config, issuer key, database and the first admin account.
    ///
    /// Prints the issuer's public key (every gateway trusts it) and the admin's password,
    /// once. Example: bygd init --data /var/lib/bygd-dashboard
    Init {
        /// The new data directory.
        #[arg(long, env = "BYGD_DATA", value_name = "DIR")]
        data: PathBuf,
        /// The database, if not SQLite in the data directory: postgres://USER@HOST/DB.
        #[arg(long, env = "BYGD_DATABASE_URL", value_name = "URL")]
        database: Option<String>,
        /// The first admin's account name.
        #[arg(long, default_value = "admin")]
        admin: String,
        /// The broker `bygd serve` connects to (written to the config).
        #[arg(long, value_name = "URL")]
        mqtt: Option<String>,
    },
    /// Serve the HTTP API and ingest the gateways' events from the broker.
    ///
    /// Example: bygd serve --data /var/lib/bygd-dashboard --mqtt mqtt://127.0.0.1:1883
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// The API's address (default from the config: 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// The broker: mqtt://HOST:PORT or mqtts://HOST:PORT (default from the config).
        #[arg(long, value_name = "URL")]
        mqtt: Option<String>,
    },
    /// Gateways: register one, list them.
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// Members: add, list, revoke.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Passes: issue (prints the QR text), list, revoke.
    #[command(subcommand)]
    Pass(PassCommand),
    /// Release a door's lock for some seconds, from afar.
    ///
    /// Needs `bygd serve` running with a broker: it publishes the signed command.
    /// Example: bygd unlock --data DIR --gateway byn/gw1 --door front --seconds 5
    Unlock {
        #[command(flatten)]
        data: DataArgs,
        /// SITE/GATEWAY, or GATEWAY when only one site has that id.
        #[arg(long)]
        gateway: String,
        /// The door.
        #[arg(long)]
        door: String,
        /// For how long.
        #[arg(long, default_value_t = DEFAULT_UNLOCK_SECONDS)]
        seconds: u32,
        /// Seconds to wait for the gateway to confirm.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
    /// Lock one door or every door of a gateway down (no pass opens it), or end that.
    ///
    /// Example: bygd lockdown --data DIR --gateway byn/gw1 --door front on
    Lockdown {
        #[command(flatten)]
        data: DataArgs,
        /// SITE/GATEWAY, or GATEWAY when only one site has that id.
        #[arg(long)]
        gateway: String,
        /// The door; every door of the gateway if omitted.
        #[arg(long)]
        door: Option<String>,
        /// on or off.
        state: OnOff,
        /// Seconds to wait for the gateway to confirm.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
    /// A gateway's clock floor: bring back one a wrong time source pushed into the future.
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Who entered where and when: the entry log, newest first.
    ///
    /// Times: 2026-12-01 or 2026-12-01T08:00 (site time), RFC 3339, now, +2h.
    /// Example: bygd audit --data DIR --site byn --since 2026-12-01 --outcome denied --csv
    Audit {
        #[command(flatten)]
        data: DataArgs,
        /// At or after this time.
        #[arg(long)]
        since: Option<String>,
        /// Before this time.
        #[arg(long)]
        until: Option<String>,
        /// One site.
        #[arg(long)]
        site: Option<String>,
        /// One gateway (SITE/GATEWAY or GATEWAY).
        #[arg(long)]
        gateway: Option<String>,
        /// One door.
        #[arg(long)]
        door: Option<String>,
        /// One member.
        #[arg(long)]
        member: Option<String>,
        /// granted or denied.
        #[arg(long)]
        outcome: Option<Outcome>,
        /// Every event (doors opened, alarms, commands), not only entries.
        #[arg(long)]
        all: bool,
        /// At most this many (newest first); all when exporting CSV.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// CSV for a spreadsheet (every match).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Alarms: forged or broken logs, doors forced or held open, gateways offline.
    ///
    /// Example: bygd alarms --data DIR
    Alarms {
        #[command(flatten)]
        data: DataArgs,
        /// Also those that cleared.
        #[arg(long)]
        all: bool,
    },
    /// Operator accounts for the API (and the coming web UI).
    #[command(subcommand)]
    Account(AccountCommand),
    /// API tokens for booking systems and scripts.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum ClockCommand {
    /// Send a gateway a signed command that sets its clock floor (default: this machine's now).
    ///
    /// A gateway never decides at a time below its floor. If a time server it trusted (or a
    /// spoofed one) pushed its clock into the future, the floor went along, and every pass
    /// and every command (lockdown included) is refused as `expired` until the floor comes
    /// back. Fix the gateway's time source first, then reset. The gateway logs a `clock`
    /// event with the floor it ends up with: still in the future means its system clock
    /// still says so. Needs `bygd serve` running with a broker; at the gateway itself,
    /// `bygd-gateway clock reset-floor --to now` does the same.
    ///
    /// Example: bygd clock reset --data DIR --gateway byn/gw1
    ///          bygd clock reset --data DIR --gateway byn/gw1 --to 2026-12-03T10:00
    #[command(verbatim_doc_comment)]
    Reset {
        #[command(flatten)]
        data: DataArgs,
        /// SITE/GATEWAY, or GATEWAY when only one site has that id.
        #[arg(long)]
        gateway: String,
        /// The new floor: now, 2026-12-03, 2026-12-03T10:00 (site time) or RFC 3339.
        #[arg(long, default_value = "now")]
        to: String,
        /// Seconds to wait for the gateway to confirm.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
}

#[derive(Debug, Subcommand)]
enum GatewayCommand {
    /// Register a gateway's key and write its config.
    ///
    /// On the Pi: `bygd-gateway keygen --out /etc/bygd/gateway.key` prints KEY.
    /// Example: bygd gateway add --data DIR --site byn --id gw1 --public-key KEY --doors front,back --out gw1.toml
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The site (created if new).
        #[arg(long)]
        site: String,
        /// The gateway's id at the site.
        #[arg(long)]
        id: String,
        /// The gateway's public key (64 hex digits).
        #[arg(long)]
        public_key: String,
        /// Its doors, comma-separated.
        #[arg(long, default_value = "front")]
        doors: String,
        /// The site's time zone, for a new site.
        #[arg(long)]
        time_zone: Option<String>,
        /// The broker the gateway connects to (default: the dashboard's).
        #[arg(long, value_name = "URL")]
        broker: Option<String>,
        /// Write the gateway config here instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List gateways with their state.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Check a gateway's stored log end to end: every event's hash and link, no gaps.
    ///
    /// Exit status 0 if intact, 1 if not. Example: bygd gateway verify --data DIR byn/gw1
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// SITE/GATEWAY, or GATEWAY when only one site has that id.
        gateway: String,
    },
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Add a member to one or more sites.
    ///
    /// Example: bygd member add --data DIR --id anna --name "Anna Lindqvist" --site byn
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The member id (lowercase letters, digits, '-', '_'): in every pass and entry.
        #[arg(long)]
        id: String,
        /// The member's name.
        #[arg(long)]
        name: String,
        /// E-mail.
        #[arg(long)]
        email: Option<String>,
        /// Sites, comma-separated.
        #[arg(long = "site", value_name = "SITES")]
        sites: String,
    },
    /// List members.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// One site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Revoke a member: every pass of theirs stops opening doors once gateways get the list.
    ///
    /// Example: bygd member revoke --data DIR anna
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The member id.
        id: String,
    },
}

// Parsed once per process: the size of the biggest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum PassCommand {
    /// Issue a pass and print its QR text (and the QR code, or write it as PNG/SVG).
    ///
    /// Example: bygd pass issue --data DIR --member anna --site byn --doors front --until +30d --png anna.png
    Issue {
        #[command(flatten)]
        data: DataArgs,
        /// The member.
        #[arg(long)]
        member: String,
        /// The site.
        #[arg(long)]
        site: String,
        /// Doors, comma-separated (default: every door of the site).
        #[arg(long)]
        doors: Option<String>,
        /// Valid from (default: now).
        #[arg(long)]
        from: Option<String>,
        /// Valid until (default: 30 days).
        #[arg(long)]
        until: Option<String>,
        /// Weekly hours in site time: "mon-fri 07:00-22:00; sat 10:00-16:00".
        #[arg(long)]
        schedule: Option<String>,
        /// The phone's P-256 public key (66 hex digits): a screenshot then opens nothing.
        #[arg(long)]
        device_key: Option<String>,
        /// member, guest, staff or break-glass.
        #[arg(long, default_value = "member")]
        kind: String,
        /// A booking reference to keep with the pass.
        #[arg(long)]
        booking: Option<String>,
        /// Write the QR code as PNG.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Write the QR code as SVG.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Do not draw the QR code in the terminal.
        #[arg(long)]
        no_qr: bool,
    },
    /// List passes.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// One member's.
        #[arg(long)]
        member: Option<String>,
        /// Only passes that still open doors.
        #[arg(long)]
        valid: bool,
    },
    /// Revoke a pass: its site's gateways refuse it once they get the new list.
    ///
    /// Example: bygd pass revoke --data DIR 3f1c9a0b7e2d4c5a8b6f0e1d2c3b4a59
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The pass id (32 hex digits).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Add an operator account; prints its generated password once.
    ///
    /// Example: bygd account add --data DIR --name olle --role operator --sites byn
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        #[arg(long)]
        name: String,
        /// admin, operator or auditor.
        #[arg(long)]
        role: String,
        /// `*` or comma-separated sites.
        #[arg(long, default_value = "*")]
        sites: String,
    },
    /// List accounts: role, sites, whether disabled, open sessions (one JSON object a line).
    ///
    /// Example: bygd account list --data DIR
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Disable an account: it cannot log in, its sessions end now, and the API tokens it made
    /// are refused until it is enabled again.
    ///
    /// Example: bygd account disable --data DIR olle
    Disable {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
    /// Enable a disabled account again.
    ///
    /// Example: bygd account enable --data DIR olle
    Enable {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
    /// Give an account a new generated password (printed once); its sessions end.
    ///
    /// Example: bygd account password --data DIR olle
    Password {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
    /// Change an account's role or sites; its sessions end.
    ///
    /// Example: bygd account set --data DIR olle --role auditor --sites byn,klit
    Set {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
        /// admin, operator or auditor.
        #[arg(long)]
        role: Option<String>,
        /// `*` or comma-separated sites.
        #[arg(long)]
        sites: Option<String>,
    },
    /// End every session of an account now (a lost phone, a shared computer).
    ///
    /// Example: bygd account logout --data DIR olle
    Logout {
        #[command(flatten)]
        data: DataArgs,
        /// The account name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token; prints it once.
    ///
    /// Example: bygd token create --data DIR --name booking --scopes members:write,passes:write --sites byn
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// What it is for.
        #[arg(long)]
        name: String,
        /// Comma-separated: members:read, members:write, passes:read, passes:write,
        /// entries:read, gateways:read, alarms:read, commands:write, admin.
        #[arg(long)]
        scopes: String,
        /// `*` or comma-separated sites.
        #[arg(long, default_value = "*")]
        sites: String,
        /// When it stops working (+90d, 2027-06-30, RFC 3339).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token at once.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The token's id (the part after `bygd_` and before the dot).
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Outcome {
    Granted,
    Denied,
}

fn json_line(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// Prints each of `items` as one line of JSON.
fn json_lines(items: &[impl serde::Serialize]) -> anyhow::Result<()> {
    for item in items {
        json_line(item)?;
    }
    Ok(())
}

/// Parses the `--sites` option's value.
fn sites_option(text: &str) -> anyhow::Result<Sites> {
    Sites::parse(text).map_err(|e| anyhow::anyhow!("--sites: {e}"))
}

fn pretty(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let me = Principal::local_admin();
    match cli.command {
        Command::Init {
            data,
            database,
            admin,
            mqtt,
        } => {
            let (dashboard, done) = Dashboard::init(&data, database.as_deref(), &admin).await?;
            if let Some(url) = mqtt {
                let mut config = crate::config::DashboardConfig::load(&done.dir)?;
                config.mqtt = Some(DashboardMqtt::new(&url));
                config.check(&done.dir.join(crate::config::CONFIG_FILE))?;
                let path = done.dir.join(crate::config::CONFIG_FILE);
                crate::files::write_private(&path, config.to_toml().as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            dashboard.db.close().await;
            println!("Created the dashboard in {}", done.dir.display());
            println!("  issuer public key: {}", done.issuer_public_key);
            println!("  issuer key id:     {}", done.issuer_key_id);
            println!(
                "  admin account `{}`, password (shown once): {}",
                done.admin, done.password
            );
            println!("\nNext:");
            println!("  bygd gateway add --data {} --site SITE --id GATEWAY --public-key KEY --out gateway.toml", done.dir.display());
            println!(
                "  bygd serve --data {} --mqtt mqtt://127.0.0.1:1883",
                done.dir.display()
            );
        }
        Command::Serve { data, listen, mqtt } => {
            let (dashboard, mut config) =
                Dashboard::open(&data.data, data.database.as_deref()).await?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(url) = mqtt {
                config.mqtt = Some(DashboardMqtt {
                    url,
                    ..config.mqtt.unwrap_or_else(|| DashboardMqtt::new(""))
                });
            }
            config.check(&data.data.join(crate::config::CONFIG_FILE))?;
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .with_context(|| {
                    format!(
                        "cannot listen on {} (is another bygd serve running?)",
                        config.listen
                    )
                })?;
            let link = config.mqtt.clone().map(|mqtt| crate::link::LinkSettings {
                mqtt,
                beacon_seconds: config.beacon_seconds,
                revocation_refresh_hours: config.revocation_refresh_hours,
                revocation_lag_alarm_minutes: config.revocation_lag_alarm_minutes,
            });
            eprintln!(
                "bygd serve: API on http://{} (OpenAPI at /api/v1/openapi.json), {}",
                listener.local_addr()?,
                match &link {
                    Some(l) => format!("broker {}", l.mqtt.url),
                    None => "no broker configured (--mqtt URL): nothing is ingested".to_owned(),
                }
            );
            let dashboard = dashboard.with_login_limits(&crate::throttle::LoginLimits {
                trusted_proxies: config.trusted_proxy_addresses(),
                ..crate::throttle::LoginLimits::default()
            });
            crate::serve(dashboard, listener, link, shutdown_signal()).await?;
            eprintln!("bygd serve: stopped");
        }
        Command::Gateway(GatewayCommand::Add {
            data,
            site,
            id,
            public_key,
            doors,
            time_zone,
            broker,
            out,
        }) => {
            let (dashboard, config) = Dashboard::open(&data.data, data.database.as_deref()).await?;
            let new = NewGateway {
                site: site.clone(),
                id: id.clone(),
                public_key,
                doors: split_list(&doors),
                time_zone,
            };
            dashboard.register_gateway(&me, &new).await?;
            let broker = broker.or_else(|| config.mqtt.map(|m| m.url));
            let text = dashboard
                .gateway_config(&me, &site, &id, broker.as_deref())
                .await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!(
                        "Registered gateway {site}/{id}; its config is in {}",
                        path.display()
                    );
                    println!("Copy it to /etc/bygd/gateway.toml on the gateway, check the door pins, then run");
                    println!("  bygd-gateway check-config --config /etc/bygd/gateway.toml");
                }
                None => print!("{text}"),
            }
            if new.time_zone.is_none() {
                eprintln!("(a new site gets the time zone {DEFAULT_TIME_ZONE} unless --time-zone says otherwise)");
            }
        }
        Command::Gateway(GatewayCommand::List { data }) => {
            let dashboard = data.open().await?;
            for g in dashboard.list_gateways(&me).await? {
                let doors: Vec<String> = g
                    .doors
                    .iter()
                    .map(|d| {
                        let flags = [
                            (d.lockdown == Some(true), "lockdown"),
                            (d.forced_open == Some(true), "FORCED"),
                            (d.held_open == Some(true), "HELD"),
                            (d.open == Some(true), "open"),
                        ];
                        let flags: Vec<&str> = flags.iter().filter(|f| f.0).map(|f| f.1).collect();
                        if flags.is_empty() {
                            d.id.clone()
                        } else {
                            format!("{} ({})", d.id, flags.join(", "))
                        }
                    })
                    .collect();
                println!(
                    "{}/{}  {}  last seen {}  events {}  doors: {}",
                    g.site,
                    g.id,
                    if g.online { "online " } else { "OFFLINE" },
                    g.last_seen.as_deref().unwrap_or("never"),
                    g.head_seq,
                    doors.join(", ")
                );
            }
        }
        Command::Gateway(GatewayCommand::Verify { data, gateway }) => {
            let dashboard = data.open().await?;
            let (site, gateway) = dashboard.resolve_gateway(&me, &gateway).await?;
            let report = dashboard.verify_stored_chain(&me, &site, &gateway).await?;
            match report.problem {
                None => println!("{site}/{gateway}: {} events, chain intact", report.events),
                Some(problem) => {
                    println!(
                        "{site}/{gateway}: BROKEN after {} events: {problem}",
                        report.events
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Member(MemberCommand::Add {
            data,
            id,
            name,
            email,
            sites,
        }) => {
            let dashboard = data.open().await?;
            let member = dashboard
                .add_member(
                    &me,
                    &NewMember {
                        id,
                        name,
                        email,
                        sites: split_list(&sites),
                    },
                )
                .await?;
            println!(
                "Added member {} ({}) at {}",
                member.id,
                member.name,
                member.sites.join(", ")
            );
        }
        Command::Member(MemberCommand::List { data, site }) => {
            let dashboard = data.open().await?;
            for m in dashboard.list_members(&me, site.as_deref()).await? {
                println!(
                    "{}  {}  sites {}{}",
                    m.id,
                    m.name,
                    m.sites.join(","),
                    m.revoked_at
                        .map(|t| format!("  REVOKED {t}"))
                        .unwrap_or_default()
                );
            }
        }
        Command::Member(MemberCommand::Revoke { data, id }) => {
            let dashboard = data.open().await?;
            let member = dashboard.revoke_member(&me, &id).await?;
            println!(
                "Revoked member {} at {}: the new revocation lists go out with `bygd serve`.",
                member.id,
                member.sites.join(", ")
            );
        }
        Command::Pass(PassCommand::Issue {
            data,
            member,
            site,
            doors,
            from,
            until,
            schedule,
            device_key,
            kind,
            booking,
            png,
            svg,
            no_qr,
        }) => {
            let dashboard = data.open().await?;
            let zone = dashboard.site_zone(&me, &site).await?;
            let now = crate::db::unix_now();
            let time = |flag: &str, text: &Option<String>| {
                crate::timetext::parse_field(flag, text.as_deref(), &zone, now)
                    .map_err(|(flag, e)| anyhow::anyhow!("--{flag}: {e}"))
            };
            let issued = dashboard
                .issue_pass(
                    &me,
                    &IssuePass {
                        from: time("from", &from)?,
                        until: time("until", &until)?,
                        member,
                        site,
                        doors: doors.as_deref().map(split_list).unwrap_or_default(),
                        schedule,
                        device_key,
                        kind: Some(kind),
                        booking,
                    },
                )
                .await?;
            let qr = crate::qr::QrImage::new(&issued.qr_text)?;
            if let Some(path) = &png {
                std::fs::write(path, qr.png(8))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if let Some(path) = &svg {
                std::fs::write(path, qr.svg())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if !no_qr && png.is_none() && svg.is_none() {
                eprintln!("{}", qr.terminal());
            }
            let p = &issued.pass;
            eprintln!(
                "Pass {} for {} at {} (doors: {}), valid {} to {}{}; QR version {}.",
                p.id,
                p.member,
                p.site,
                if p.doors.is_empty() {
                    "all".to_owned()
                } else {
                    p.doors.join(", ")
                },
                crate::timetext::format_time(
                    crate::timetext::parse_time(&p.valid_from, &zone, now).unwrap_or(now),
                    &zone
                ),
                crate::timetext::format_time(
                    crate::timetext::parse_time(&p.valid_until, &zone, now).unwrap_or(now),
                    &zone
                ),
                p.schedule
                    .as_deref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default(),
                issued.qr_version
            );
            eprintln!("Pass page for the member's phone: {}", issued.page_url);
            // The QR text alone on stdout, so that scripts can capture it.
            println!("{}", issued.qr_text);
        }
        Command::Pass(PassCommand::List {
            data,
            member,
            valid,
        }) => {
            let dashboard = data.open().await?;
            for p in dashboard.list_passes(&me, member.as_deref(), valid).await? {
                println!(
                    "{}  {}  {}  {} to {}{}",
                    p.id,
                    p.member,
                    p.site,
                    p.valid_from,
                    p.valid_until,
                    p.revoked_at
                        .map(|t| format!("  REVOKED {t}"))
                        .unwrap_or_default()
                );
            }
        }
        Command::Pass(PassCommand::Revoke { data, id }) => {
            let dashboard = data.open().await?;
            let pass = dashboard.revoke_pass(&me, &id).await?;
            println!(
                "Revoked pass {} of {} at {}: the new revocation list goes out with `bygd serve`.",
                pass.id, pass.member, pass.site
            );
        }
        Command::Unlock {
            data,
            gateway,
            door,
            seconds,
            wait,
        } => {
            let dashboard = data.open().await?;
            let (site, gateway) = dashboard.resolve_gateway(&me, &gateway).await?;
            let sent = dashboard
                .send_command(
                    &me,
                    &site,
                    &gateway,
                    &CommandRequest::Unlock { door, seconds },
                )
                .await?;
            return report_command(&dashboard, &me, &sent.id, wait).await;
        }
        Command::Lockdown {
            data,
            gateway,
            door,
            state,
            wait,
        } => {
            let dashboard = data.open().await?;
            let (site, gateway) = dashboard.resolve_gateway(&me, &gateway).await?;
            let on = matches!(state, OnOff::On);
            let sent = dashboard
                .send_command(&me, &site, &gateway, &CommandRequest::Lockdown { door, on })
                .await?;
            return report_command(&dashboard, &me, &sent.id, wait).await;
        }
        Command::Clock(ClockCommand::Reset {
            data,
            gateway,
            to,
            wait,
        }) => {
            let dashboard = data.open().await?;
            let (site, gateway) = dashboard.resolve_gateway(&me, &gateway).await?;
            let zone = dashboard.site_zone(&me, &site).await?;
            let floor = crate::timetext::parse_time(&to, &zone, crate::db::unix_now())
                .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            let sent = dashboard
                .send_command(
                    &me,
                    &site,
                    &gateway,
                    &CommandRequest::ResetClockFloor { floor: Some(floor) },
                )
                .await?;
            return report_command(&dashboard, &me, &sent.id, wait).await;
        }
        Command::Audit {
            data,
            since,
            until,
            site,
            gateway,
            door,
            member,
            outcome,
            all,
            limit,
            csv,
            json,
        } => {
            let dashboard = data.open().await?;
            let zone = match &site {
                Some(site) => dashboard.site_zone(&me, site).await?,
                None => jiff::tz::TimeZone::system(),
            };
            let now = crate::db::unix_now();
            let time = |flag: &str, text: &Option<String>| {
                crate::timetext::parse_field(flag, text.as_deref(), &zone, now)
                    .map_err(|(flag, e)| anyhow::anyhow!("--{flag}: {e}"))
            };
            let (site, gateway) = match gateway {
                Some(name) => {
                    let (s, g) = dashboard.resolve_gateway(&me, &name).await?;
                    (Some(s), Some(g))
                }
                None => (site, None),
            };
            let filter = EntryFilter {
                since: time("since", &since)?,
                until: time("until", &until)?,
                site,
                gateway,
                door,
                member,
                outcome: outcome.map(|o| match o {
                    Outcome::Granted => "granted".to_owned(),
                    Outcome::Denied => "denied".to_owned(),
                }),
                all_events: all,
                limit: Some(limit.clamp(1, crate::entry::MAX_PAGE)),
                cursor: None,
            };
            let mut out = std::io::stdout().lock();
            if csv {
                // Every match, a page at a time: an export of millions never sits in memory.
                out.write_all(CSV_HEADER.as_bytes())?;
                let mut filter = EntryFilter {
                    limit: Some(crate::entry::MAX_PAGE),
                    ..filter
                };
                loop {
                    let page = dashboard.audit(&me, &filter).await?;
                    for e in &page.entries {
                        out.write_all(csv_line(e).as_bytes())?;
                    }
                    match page.next {
                        Some(next) => filter.cursor = Some(next),
                        None => break,
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let entries = dashboard.audit(&me, &filter).await?.entries;
            if json {
                for e in &entries {
                    writeln!(out, "{}", serde_json::to_string(e)?)?;
                }
            } else {
                for e in &entries {
                    let clock = match e.clock.as_str() {
                        "synchronised" => "",
                        "unsynchronised" => " (clock not synchronised)",
                        _ => " (clock behind: floor time)",
                    };
                    writeln!(
                        out,
                        "{}{clock}  {}/{} #{}  {}  {}  {}{}",
                        crate::timetext::format_time(e.unix_time, &zone),
                        e.site,
                        e.gateway,
                        e.seq,
                        e.door.as_deref().unwrap_or("-"),
                        e.outcome
                            .as_deref()
                            .map_or_else(|| e.kind.clone(), str::to_uppercase),
                        e.member.as_deref().unwrap_or("(unknown holder)"),
                        e.reason
                            .as_deref()
                            .map(|r| format!("  {r}"))
                            .unwrap_or_default()
                    )?;
                }
                if entries.is_empty() {
                    eprintln!("No entries match.");
                }
            }
        }
        Command::Alarms { data, all } => {
            let dashboard = data.open().await?;
            let alarms = dashboard.list_alarms(&me, !all, 1000).await?;
            for a in &alarms {
                println!(
                    "{}  {}/{}{}  {}  x{}  {}{}",
                    a.last_at,
                    a.site,
                    a.gateway,
                    a.door
                        .as_deref()
                        .map(|d| format!(" door {d}"))
                        .unwrap_or_default(),
                    a.kind,
                    a.count,
                    a.detail,
                    a.cleared_at
                        .as_deref()
                        .map(|t| format!("  (cleared {t})"))
                        .unwrap_or_default()
                );
            }
            if alarms.is_empty() {
                eprintln!("No {}alarms.", if all { "" } else { "open " });
            }
        }
        Command::Account(AccountCommand::Add {
            data,
            name,
            role,
            sites,
        }) => {
            let dashboard = data.open().await?;
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let sites = sites_option(&sites)?;
            let password = crate::account::generate_password()?;
            dashboard
                .add_account(&me, &name, role, &sites, &password)
                .await?;
            println!(
                "Account `{name}` ({}, sites {sites}), password (shown once): {password}",
                role.name()
            );
        }
        Command::Account(AccountCommand::List { data }) => {
            let dashboard = data.open().await?;
            json_lines(&dashboard.list_accounts(&me).await?)?;
        }
        Command::Account(AccountCommand::Disable { data, name }) => {
            let dashboard = data.open().await?;
            let info = dashboard.disable_account(&me, &name).await?;
            println!(
                "Account `{name}` disabled; its sessions ended and its API tokens are refused."
            );
            json_line(&info)?;
        }
        Command::Account(AccountCommand::Enable { data, name }) => {
            let dashboard = data.open().await?;
            let info = dashboard.enable_account(&me, &name).await?;
            println!("Account `{name}` enabled.");
            json_line(&info)?;
        }
        Command::Account(AccountCommand::Password { data, name }) => {
            let dashboard = data.open().await?;
            let password = crate::account::generate_password()?;
            dashboard.set_password(&me, &name, &password).await?;
            println!("Account `{name}`: new password (shown once): {password}");
            eprintln!("Its sessions ended; it logs in again with the new password.");
        }
        Command::Account(AccountCommand::Set {
            data,
            name,
            role,
            sites,
        }) => {
            let dashboard = data.open().await?;
            let role = role
                .as_deref()
                .map(Role::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let sites = sites.as_deref().map(sites_option).transpose()?;
            if role.is_none() && sites.is_none() {
                anyhow::bail!("give --role, --sites or both");
            }
            let info = dashboard
                .update_account(&me, &name, role, sites.as_ref())
                .await?;
            println!(
                "Account `{name}` is now {} of sites {}; its sessions ended.",
                info.role, info.sites
            );
        }
        Command::Account(AccountCommand::Logout { data, name }) => {
            let dashboard = data.open().await?;
            let ended = dashboard.end_sessions(&me, &name).await?;
            println!("Account `{name}`: {ended} session(s) ended.");
        }
        Command::Token(TokenCommand::Create {
            data,
            name,
            scopes,
            sites,
            expires,
        }) => {
            let dashboard = data.open().await?;
            let scopes = split_list(&scopes)
                .iter()
                .map(|s| Scope::parse(s))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let sites = sites_option(&sites)?;
            let expires = expires
                .as_deref()
                .map(|t| {
                    crate::timetext::parse_time(
                        t,
                        &jiff::tz::TimeZone::system(),
                        crate::db::unix_now(),
                    )
                })
                .transpose()
                .map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
            let (token, id) = dashboard
                .create_token(&me, &name, &scopes, &sites, expires)
                .await?;
            eprintln!(
                "Token {id} created; it is shown once. Send it as `Authorization: Bearer TOKEN`."
            );
            println!("{token}");
        }
        Command::Token(TokenCommand::List { data }) => {
            let dashboard = data.open().await?;
            json_lines(&dashboard.list_tokens(&me).await?)?;
        }
        Command::Token(TokenCommand::Revoke { data, id }) => {
            let dashboard = data.open().await?;
            dashboard.revoke_token(&me, &id).await?;
            println!("Token {id} revoked.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn report_command(
    dashboard: &Dashboard,
    me: &Principal,
    id: &str,
    wait: u64,
) -> anyhow::Result<ExitCode> {
    let info = dashboard
        .wait_for_result(me, id, Duration::from_secs(wait))
        .await?;
    pretty(&info)?;
    Ok(match info.status.as_str() {
        "done" => ExitCode::SUCCESS,
        "queued" => {
            eprintln!(
                "The command is queued but not on the broker: is `bygd serve` running with a broker (--mqtt)? \
                 It publishes queued commands; this one expires at {}.",
                info.expires
            );
            ExitCode::from(1)
        }
        "sent" | "no_result" => {
            eprintln!(
                "Sent, but the gateway has not confirmed yet (is it online? `bygd gateway list`)."
            );
            ExitCode::from(1)
        }
        _ => ExitCode::from(1),
    })
}

/// Ctrl-C or SIGTERM (what systemd sends).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
