//! `bygd serve`: the HTTP API and the MQTT link, until shutdown.
//!
//! Shutdown is a future passed in; it stops the listener (letting requests in flight
//! finish) and the link, and waits for both. Each request carries its TCP peer's address
//! (`ConnectInfo`), which login throttling keys on: behind a reverse proxy that is the proxy.
//! With a mail relay configured ([`Dashboard::with_smtp`]) a mail sender drains the outbox
//! too, and stops with the rest. Under systemd it says READY once it serves, feeds the
//! watchdog while the database answers, and says STOPPING on shutdown. With
//! `[home_assistant]` configured ([`serve_with_home_assistant`]) door and gateway states are
//! published to Home Assistant's broker too (read-only), and that stops with the rest.

use crate::home_assistant::HomeAssistantConfig;
use crate::link::LinkSettings;
use crate::service::Dashboard;
use anyhow::Context as _;
use std::future::Future;
use std::time::Duration;

/// How long the database may take to answer the watchdog's probe.
const WATCHDOG_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves the API on `listener` and runs the link (if `link` is given) until `shutdown`.
pub async fn serve(
    dashboard: Dashboard,
    listener: tokio::net::TcpListener,
    link: Option<LinkSettings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with_home_assistant(dashboard, listener, link, None, shutdown).await
}

/// [`serve`], and publishing to Home Assistant as `home_assistant` says (if given).
pub async fn serve_with_home_assistant(
    dashboard: Dashboard,
    listener: tokio::net::TcpListener,
    link: Option<LinkSettings>,
    home_assistant: Option<HomeAssistantConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The broker a gateway config made in the web UI names.
    let dashboard = match &link {
        Some(settings) => dashboard.with_broker_url(settings.mqtt.url.clone()),
        None => dashboard,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Every site has a list on the broker from the start, and lists that aged while the
    // dashboard was down are re-signed before anything else.
    let refresh_hours = link.as_ref().map_or(12, |l| l.revocation_refresh_hours);
    dashboard
        .revocation_lists()
        .refresh_old(i64::from(refresh_hours.max(1)) * 3600)
        .await
        .context("cannot sign the sites' revocation lists")?;
    let link_task = link.map(|settings| {
        let dashboard = dashboard.clone();
        let stop = stop_rx.clone();
        tokio::spawn(crate::link::run(dashboard, settings, stop))
    });
    let mail_task = match &dashboard.smtp {
        Some(smtp) => {
            let mailer = crate::mail::Mailer::new(dashboard.clone(), smtp)
                .context("cannot use the mail relay in [smtp]")?;
            tracing::info!(host = %smtp.host, port = smtp.port(), "sending pass mail");
            Some(tokio::spawn(crate::mail::run(mailer, stop_rx.clone())))
        }
        None => None,
    };
    let webhook_task = {
        let sender = crate::webhook::sender::WebhookSender::new(dashboard.clone())
            .context("cannot set up the webhook sender")?;
        tokio::spawn(crate::webhook::sender::run(sender, stop_rx.clone()))
    };
    let home_assistant_task = home_assistant.map(|config| {
        tracing::info!(broker = %config.url, node_id = %config.node_id, "publishing to Home Assistant");
        let mut stop = stop_rx.clone();
        tokio::spawn(crate::home_assistant::publish_to_home_assistant(
            dashboard.clone(),
            config,
            async move {
                let _ = stop.wait_for(|stop| *stop).await;
            },
        ))
    });
    let mut http_stop = stop_rx.clone();
    // With the peer's address, which login throttling keys on.
    let app = crate::api::app(dashboard.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    });
    let server = tokio::spawn(async move { server.await });
    // Under systemd (`Type=notify`): ready once the API listens and the lists are signed;
    // the watchdog is fed only while the database answers, so a hung store is restarted.
    let watchdog = bygd_link::sdnotify::watchdog_interval().map(|interval| {
        let dashboard = dashboard.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.wait_for(|stop| *stop) => return,
                }
                let probe = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&dashboard.db.pool);
                match tokio::time::timeout(WATCHDOG_PROBE_TIMEOUT, probe).await {
                    Ok(Ok(_)) => {
                        bygd_link::sdnotify::notify("WATCHDOG=1");
                    }
                    outcome => tracing::warn!(
                        ?outcome,
                        "the database did not answer; the systemd watchdog is not fed"
                    ),
                }
            }
        })
    });
    bygd_link::sdnotify::notify("READY=1");
    shutdown.await;
    bygd_link::sdnotify::notify("STOPPING=1");
    let _ = stop_tx.send(true);
    if let Some(task) = watchdog {
        let _ = task.await;
    }
    server
        .await
        .context("the HTTP server panicked")?
        .context("the HTTP server failed")?;
    webhook_task.await.context("the webhook sender panicked")?;
    if let Some(task) = mail_task {
        task.await.context("the mail sender panicked")?;
    }
    if let Some(task) = home_assistant_task {
        task.await
            .context("the Home Assistant publisher panicked")?
            .context("cannot publish to Home Assistant")?;
    }
    if let Some(task) = link_task {
        task.await.context("the MQTT link panicked")??;
    }
    dashboard.db.close().await;
    Ok(())
}
