//! `bygd demo`: a door gateway with simulated hardware, a fresh issuer key and a member pass,
//! in one process with nothing to install.
//!
//! It shows what bygd does at a door today: the pass is checked locally (signature, validity,
//! door), the decision is logged durably before the simulated relay moves, door events and
//! alarms are logged, and a signed revocation list makes the next presentation fail. The
//! dashboard service and the MQTT uplink are not built yet; the demo says so.

use anyhow::Context as _;
use bygd_gateway::{Config, Request, RunOptions, SimAction};
use bygd_protocol::{
    encode_qr, DoorId, MemberId, PassClaims, PassId, PassKind, Presentation, RevocationList,
    SecretKey, SiteId, SiteScope, UnixTime,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The demo pass's validity: a typical membership month.
const PASS_DAYS: u64 = 30;
/// Seconds per day.
const DAY: u64 = 86_400;
/// How long the demo waits for its gateway to answer before giving up.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the simulated member holds the door open in the walkthrough.
const DOOR_OPEN_FOR: Duration = Duration::from_millis(1500);

/// What `bygd demo` was asked.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where to keep the demo's files; a fresh temporary directory if `None`.
    pub data: Option<PathBuf>,
    /// Stop after the walkthrough instead of waiting for Ctrl-C.
    pub once: bool,
}

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system random number generator failed: {e}"))?;
    Ok(bytes)
}

fn unix_now() -> UnixTime {
    UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

fn prepare_dir(data: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = match data {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("bygd-demo-{}", unix_now().0)),
    };
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty; give `--data` a new or empty directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(std::fs::canonicalize(&dir)?)
}

fn write_config(dir: &Path, issuer: &SecretKey) -> anyhow::Result<PathBuf> {
    let text = format!(
        r#"# Written by `bygd demo`. Every key is documented in deploy/gateway.example.toml.
site = "demo"
gateway = "gw1"
data_dir = "{dir}/data"
key_file = "{dir}/gateway.key"
time_zone = "Europe/Stockholm"
hardware = "simulated"
socket = "{dir}/gateway.sock"

[[issuer]]
public_key = "{key}"

[[door]]
id = "front"
lock_pin = 17
sensor_pin = 27
exit_pin = 22
unlock_seconds = 5

[[door]]
id = "workshop"
lock_pin = 5
sensor_pin = 6
exit_pin = 13
unlock_seconds = 5
"#,
        dir = dir.display(),
        key = issuer.public_key().to_hex()
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn print_qr(text: &str) {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let version = match code.version() {
                qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
            };
            let art = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .dark_color(qrcode::render::unicode::Dense1x2::Light)
                .light_color(qrcode::render::unicode::Dense1x2::Dark)
                .quiet_zone(true)
                .build();
            println!("{art}");
            println!(
                "  (QR version {version}, error correction M, {} characters)",
                text.len()
            );
        }
        Err(e) => println!("  (cannot draw the QR code here: {e})"),
    }
}

async fn ask(socket: &Path, request: &Request) -> anyhow::Result<serde_json::Value> {
    let reply = bygd_gateway::request(socket, request).await?;
    if let Some(error) = reply.get("error") {
        anyhow::bail!("the gateway said: {error}");
    }
    Ok(reply)
}

/// Runs the demo until Ctrl-C (or after the walkthrough with `once`).
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let dir = prepare_dir(options.data)?;
    println!(
        "bygd demo: one door gateway with simulated hardware, in {}",
        dir.display()
    );
    println!("(The dashboard service and the MQTT uplink are not built yet: this demo runs the gateway alone.)\n");

    let issuer = bygd_gateway::generate_key(&dir.join("issuer.key"))?;
    bygd_gateway::generate_key(&dir.join("gateway.key"))?;
    let config_path = write_config(&dir, &issuer)?;
    let config = Config::load(&config_path)?;
    let zone = config.time_zone.clone();
    let socket = config.socket.clone();

    let now = unix_now();
    let pass = PassClaims {
        member: MemberId::new("demo-member")?,
        pass_id: PassId(random_bytes()?),
        not_before: now.minus(60),
        expires: now.plus(PASS_DAYS * DAY),
        kind: PassKind::Member,
        scope: vec![SiteScope {
            site: SiteId::new("demo")?,
            doors: vec![DoorId::new("front")?, DoorId::new("workshop")?],
        }],
        schedule: None,
        device_key: None,
    };
    let text = encode_qr(&Presentation {
        pass: pass.issue(&issuer),
        proof: None,
    });
    std::fs::write(dir.join("pass.txt"), format!("{text}\n"))?;
    let revocation = RevocationList {
        version: 1,
        issued_at: now,
        expires: now.plus(7 * DAY),
        revoked_passes: vec![pass.pass_id],
        ..Default::default()
    };
    let revocation_file = dir.join("revoke-demo-pass.cose");
    std::fs::write(&revocation_file, revocation.sign(&issuer))?;

    println!(
        "Issuer key {} signed a pass for member `demo-member`:",
        issuer.id()
    );
    println!(
        "  pass {} , doors front and workshop, valid {PASS_DAYS} days\n",
        pass.pass_id
    );
    print_qr(&text);
    println!("  QR text saved in {}\n", dir.join("pass.txt").display());

    let (observer, mut events) = tokio::sync::broadcast::channel(256);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let gateway = tokio::spawn(bygd_gateway::run(
        config,
        RunOptions {
            accept_fresh_store: false,
            observer: Some(observer),
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    let printer_zone = zone.clone();
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => println!(
                    "  [door log] {}",
                    bygd_gateway::event_line(&event, &printer_zone)
                ),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    println!("  [door log] ({n} events not shown)")
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });

    let started = tokio::time::Instant::now();
    while ask(&socket, &Request::Status).await.is_err() {
        if gateway.is_finished() || started.elapsed() > START_TIMEOUT {
            let outcome = gateway.await;
            anyhow::bail!("the demo gateway did not start: {outcome:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    println!("Walkthrough: the member holds the phone to the reader at `front`.");
    let decision = ask(
        &socket,
        &Request::Present {
            door: "front".into(),
            text: text.clone(),
        },
    )
    .await?;
    println!("  decision: {decision}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    ask(
        &socket,
        &Request::Sim {
            door: "front".into(),
            action: SimAction::Open,
        },
    )
    .await?;
    tokio::time::sleep(DOOR_OPEN_FOR).await;
    ask(
        &socket,
        &Request::Sim {
            door: "front".into(),
            action: SimAction::Close,
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = ask(&socket, &Request::Status).await?;
    let released = status["simulated_lock_released"]["front"]
        .as_bool()
        .unwrap_or(true);
    println!(
        "  the door closed again and the lock is {}\n",
        if released { "still released" } else { "locked" }
    );

    let config_arg = config_path.display();
    println!("Try it yourself in another terminal (each step prints a JSON decision):");
    println!("  1. present the pass at the workshop door:");
    println!("     cargo run --release -p bygd-gateway -- present --config {config_arg} --door workshop \"$(cat {})\"", dir.join("pass.txt").display());
    println!("  2. revoke it (a signed revocation list, as the dashboard will send it):");
    println!(
        "     cargo run --release -p bygd-gateway -- revocations --config {config_arg} {}",
        revocation_file.display()
    );
    println!("  3. present it again: the same command as step 1 now says \"denied\", reason \"revoked\".");
    println!("  Also: `sim --door front open` (a forced-open alarm), `status`, `log`, `verify-log`, `lockdown on`.\n");

    if options.once {
        println!("Stopping (--once).");
    } else {
        println!("Live door log below. Press Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
        println!("\nStopping: relocking doors and closing the log.");
    }
    let _ = stop_tx.send(());
    gateway.await.context("the demo gateway panicked")??;
    printer.abort();
    println!("Stopped. The demo's files stay in {}", dir.display());
    Ok(())
}
