//! `demo`: the whole system in one process with nothing to install: an MQTT broker
//! (rumqttd, in process, unless `--mqtt` names one), the dashboard on SQLite, and a door
//! gateway with two simulated doors, all in a fresh directory.
//!
//! It walks through one entry (pass issued at the dashboard, checked at the door, logged,
//! sent over MQTT, stored and acked), shows the door log live, and prints the exact commands
//! to present the pass, revoke it at the dashboard and see the door refuse it.

use anyhow::Context as _;
use bygd_dashboard::config::{DashboardConfig, DashboardMqtt, CONFIG_FILE};
use bygd_dashboard::{
    Dashboard, GatewaySetup, IssuePass, LinkSettings, NewGateway, NewMember, Principal, QrImage,
};
use bygd_gateway::{Config, Request, RunOptions, SimAction};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The demo's site, gateway and member.
const SITE: &str = "demo";
const GATEWAY: &str = "gw1";
const MEMBER: &str = "demo-member";
/// How long the demo waits for its parts to come up or for an entry to arrive before it
/// says what is wrong.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the simulated member holds the door open in the walkthrough.
const DOOR_OPEN_FOR: Duration = Duration::from_millis(1500);
/// The port the demo's dashboard prefers (the one `bygd serve` uses by default); another is
/// taken if it is busy.
const PREFERRED_LISTEN: &str = "127.0.0.1:8080";
/// The MQTT timing of the demo's gateway and dashboard (heartbeat and keep-alive seconds):
/// shorter than a real site's, so that what happens shows soon.
const MQTT_SECONDS: u32 = 10;

/// What `demo` was asked.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Where to keep the demo's files; a fresh temporary directory if `None`.
    pub data: Option<PathBuf>,
    /// Stop after the walkthrough instead of waiting for Ctrl-C.
    pub once: bool,
    /// Use this broker instead of starting one.
    pub mqtt: Option<String>,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn prepare_dir(data: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = match data {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("bygd-demo-{}", unix_now())),
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

async fn ask(socket: &Path, request: &Request) -> anyhow::Result<serde_json::Value> {
    let reply = bygd_gateway::request(socket, request).await?;
    if let Some(error) = reply.get("error") {
        anyhow::bail!("the gateway said: {error}");
    }
    Ok(reply)
}

async fn wait_for<F, Fut>(what: &str, mut ready: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = tokio::time::Instant::now();
    while !ready().await {
        if started.elapsed() > START_TIMEOUT {
            anyhow::bail!("timed out after {START_TIMEOUT:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Runs the demo until Ctrl-C (or after the walkthrough with `once`).
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let dir = prepare_dir(options.data)?;
    let admin = Principal::local_admin();
    let broker = match options.mqtt {
        Some(url) => url,
        None => crate::broker::start(START_TIMEOUT)?,
    };
    let listener = match tokio::net::TcpListener::bind(PREFERRED_LISTEN).await {
        Ok(l) => l,
        Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    };
    let address = listener.local_addr()?;

    // The dashboard: its data directory as `bygd init` makes it, set to this broker and port.
    let dashboard_dir = dir.join("dashboard");
    let (dashboard, init) = Dashboard::init(&dashboard_dir, None, "admin").await?;
    let mut config = DashboardConfig::load(&dashboard_dir)?;
    config.listen = address.to_string();
    let mut mqtt = DashboardMqtt::new(&broker);
    mqtt.client_id = "bygd-demo-dashboard".into();
    mqtt.keep_alive_seconds = MQTT_SECONDS;
    config.mqtt = Some(mqtt.clone());
    std::fs::write(dashboard_dir.join(CONFIG_FILE), config.to_toml())?;
    let dashboard = dashboard.with_public_url(config.public_url());
    // The web UI first: that is where an operator goes.
    println!("bygd demo: open the dashboard's web UI at http://{address}/");
    println!(
        "  sign in as `admin` with the password {} (shown once)\n",
        init.password
    );
    println!(
        "An MQTT broker, the dashboard and a door gateway with two simulated doors run in this"
    );
    println!("process; their files are in {}\n", dir.display());

    // The gateway: its own key, registered at the dashboard like `bygd gateway add` does.
    let gateway_dir = dir.join("gateway");
    let key_file = gateway_dir.join("gateway.key");
    let gateway_key = bygd_link::generate_key(&key_file)?;
    dashboard
        .gateways()
        .register(
            &admin,
            &NewGateway {
                site: SITE.into(),
                id: GATEWAY.into(),
                public_key: gateway_key.public_key().to_hex(),
                doors: vec!["front".into(), "workshop".into()],
                time_zone: Some("Europe/Stockholm".into()),
            },
        )
        .await?;
    // Its config, by the same writer as `bygd gateway add`, with the demo's paths and pins.
    let setup = GatewaySetup {
        written_by: "`cargo run --release -- demo`".into(),
        data_dir: gateway_dir.join("data"),
        key_file,
        socket: gateway_dir.join("gateway.sock"),
        hardware: "simulated".into(),
        mqtt_timing: Some((MQTT_SECONDS, MQTT_SECONDS)),
        ..GatewaySetup::installed()
    };
    let text = dashboard
        .gateways()
        .config_for(&admin, SITE, GATEWAY, Some(&broker), &setup)
        .await?;
    let config_path = gateway_dir.join("gateway.toml");
    std::fs::write(&config_path, text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let gateway_config = Config::load(&config_path)?;
    let zone = gateway_config.time_zone.clone();
    let socket = gateway_config.socket.clone();

    // A member and a pass, issued at the dashboard.
    dashboard
        .members()
        .add(
            &admin,
            &NewMember {
                id: MEMBER.into(),
                name: "Demo Member".into(),
                email: None,
                sites: vec![SITE.into()],
                language: None,
            },
        )
        .await?;
    let issued = dashboard
        .passes()
        .issue(
            &admin,
            &IssuePass {
                member: MEMBER.into(),
                site: SITE.into(),
                ..Default::default()
            },
        )
        .await?;
    // The demo site accepts plain codes, so the issued pass has one.
    let pass_text = issued
        .qr_text
        .clone()
        .context("the demo pass has no plain code")?;
    let pass_file = dir.join("pass.txt");
    std::fs::write(&pass_file, format!("{pass_text}\n"))?;

    let (stop_dashboard, dashboard_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bygd_dashboard::serve(
        dashboard.clone(),
        listener,
        Some(LinkSettings {
            mqtt,
            beacon_seconds: 60,
            revocation_refresh_hours: 12,
            revocation_lag_alarm_minutes: 30,
        }),
        async move {
            let _ = dashboard_stopped.await;
        },
    ));
    let (observer, mut events) = tokio::sync::broadcast::channel(256);
    let (stop_gateway, gateway_stopped) = tokio::sync::oneshot::channel::<()>();
    let gateway = tokio::spawn(bygd_gateway::run(
        gateway_config,
        RunOptions {
            accept_fresh_store: false,
            revocation_min_version: None,
            observer: Some(observer),
        },
        async move {
            let _ = gateway_stopped.await;
        },
    ));
    let printer = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => println!("  [door log] {}", bygd_gateway::event_line(&event, &zone)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    println!("  [door log] ({n} events not shown)")
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });

    wait_for("the gateway's control socket", || async {
        ask(&socket, &Request::Status).await.is_ok()
    })
    .await
    .with_context(|| {
        format!(
            "the demo gateway did not start (is {} writable?)",
            dir.display()
        )
    })?;
    wait_for(
        "the gateway to connect to the dashboard through the broker",
        || async {
            dashboard
                .gateways()
                .list(&admin)
                .await
                .is_ok_and(|g| g.iter().any(|g| g.online))
        },
    )
    .await
    .with_context(|| format!("the broker at {broker} did not connect them"))?;

    println!(
        "\nThe dashboard (issuer key {}) issued a pass for member `{MEMBER}`:",
        init.issuer_key_id
    );
    println!(
        "  pass {}, doors front and workshop, valid 30 days",
        issued.pass.id
    );
    match QrImage::new(&pass_text) {
        Ok(qr) => {
            println!("{}", qr.terminal());
            println!(
                "  (QR version {}, error correction M, {} characters; also on the pass page {})",
                qr.version(),
                pass_text.len(),
                issued.page_url
            );
        }
        Err(e) => println!("  (cannot draw the QR code here: {e})"),
    }
    println!("  QR text saved in {}\n", pass_file.display());

    println!("Walkthrough: the member holds the phone to the reader at `front`.");
    let decision = ask(
        &socket,
        &Request::Present {
            door: "front".into(),
            text: pass_text.clone(),
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
    let seq = decision["seq"].as_u64().unwrap_or(0);
    wait_for("the entry to reach the dashboard", || async {
        dashboard
            .entries()
            .audit(&admin, &Default::default())
            .await
            .is_ok_and(|p| p.entries.iter().any(|e| e.seq == seq))
    })
    .await?;
    println!(
        "  the dashboard verified and stored the entry (event {seq}) and acked it to the gateway"
    );
    wait_for("the door to relock", || async {
        ask(&socket, &Request::Status)
            .await
            .is_ok_and(|s| s["simulated_lock_released"]["front"] == false)
    })
    .await?;
    println!("  the door closed again and the lock is locked\n");

    let gateway_cmd = format!(
        "cargo run --release -p bygd-gateway -- present --config {}",
        config_path.display()
    );
    let data = dashboard_dir.display();
    println!("Try it yourself in another terminal:");
    println!("  1. present the pass at the workshop door (prints the decision as JSON):");
    println!(
        "     {gateway_cmd} --door workshop \"$(cat {})\"",
        pass_file.display()
    );
    println!("  2. revoke it at the dashboard (it signs a new revocation list; the broker brings it to the door):");
    println!(
        "     cargo run --release -- pass revoke --data {data} {}",
        issued.pass.id
    );
    println!(
        "  3. present it again: the command of step 1 now says \"denied\", reason \"revoked\"."
    );
    println!("  4. see who entered, as the dashboard stored it:");
    println!("     cargo run --release -- audit --data {data}");
    println!(
        "  More: `cargo run --release -- unlock --data {data} --gateway {GATEWAY} --door front`,"
    );
    println!("        `... -- alarms --data {data}`, `... -p bygd-gateway -- sim --config {} --door front open`.", config_path.display());
    println!(
        "  The web UI is at http://{address}/ (the entry above is on its overview; sign in as"
    );
    println!(
        "  `admin` with the password {}); the API at http://{address}/api/v1 (described at",
        init.password
    );
    println!("  /api/v1/openapi.json).\n");

    if options.once {
        println!("Stopping (--once).");
    } else {
        println!("Live door log below. Press Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
        println!("\nStopping: relocking doors, closing the log and the dashboard.");
    }
    let _ = stop_gateway.send(());
    gateway.await.context("the demo gateway panicked")??;
    let _ = stop_dashboard.send(());
    server.await.context("the demo dashboard panicked")??;
    printer.abort();
    println!("Stopped. The demo's files stay in {}", dir.display());
    Ok(())
}
