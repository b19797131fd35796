//! `bygd serve`: the HTTP API and the MQTT link until Ctrl-C or SIGTERM.

use super::DataArgs;
use crate::config::DashboardMqtt;
use crate::service::Dashboard;
use anyhow::Context as _;
use clap::Args;
use std::process::ExitCode;

// `bygd serve`'s flags; its help is the doc comment on the `Serve` command in `mod.rs`.
#[derive(Debug, Args)]
pub(super) struct Serve {
    #[command(flatten)]
    data: DataArgs,
    /// The API's address (default from the config: 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The broker: mqtt://HOST:PORT or mqtts://HOST:PORT (default from the config).
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
}

/// Runs `bygd serve`.
pub(super) async fn serve(args: Serve) -> anyhow::Result<ExitCode> {
    let Serve { data, listen, mqtt } = args;
    let (dashboard, mut config) = Dashboard::open(&data.data, data.database.as_deref()).await?;
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
    // Pass links are built on the public URL, which defaults to the listen address: the one
    // given here, not the config's.
    let dashboard = dashboard
        .with_public_url(config.public_url())
        .with_login_limits(&crate::throttle::LoginLimits {
            trusted_proxies: config.trusted_proxy_addresses(),
            ..crate::throttle::LoginLimits::default()
        });
    crate::serve::serve_with_home_assistant(
        dashboard,
        listener,
        link,
        config.home_assistant.clone(),
        shutdown_signal(),
    )
    .await?;
    eprintln!("bygd serve: stopped");
    Ok(ExitCode::SUCCESS)
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
