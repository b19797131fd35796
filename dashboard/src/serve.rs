//! `bygd serve`: the HTTP API and the MQTT link, until shutdown.
//!
//! Shutdown is a future passed in; it stops the listener (letting requests in flight
//! finish) and the link, and waits for both. Each request carries its TCP peer's address
//! (`ConnectInfo`), which login throttling keys on: behind a reverse proxy that is the proxy.
//! With a mail relay configured ([`Dashboard::with_smtp`]) a mail sender drains the outbox
//! too, and stops with the rest.

use crate::link::LinkSettings;
use crate::service::Dashboard;
use anyhow::Context as _;
use std::future::Future;

/// Serves the API on `listener` and runs the link (if `link` is given) until `shutdown`.
pub async fn serve(
    dashboard: Dashboard,
    listener: tokio::net::TcpListener,
    link: Option<LinkSettings>,
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
    let mut http_stop = stop_rx.clone();
    // With the peer's address, which login throttling keys on.
    let app = crate::api::app(dashboard.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = http_stop.wait_for(|stop| *stop).await;
    });
    let server = tokio::spawn(async move { server.await });
    shutdown.await;
    let _ = stop_tx.send(true);
    server
        .await
        .context("the HTTP server panicked")?
        .context("the HTTP server failed")?;
    if let Some(task) = mail_task {
        task.await.context("the mail sender panicked")?;
    }
    if let Some(task) = link_task {
        task.await.context("the MQTT link panicked")??;
    }
    dashboard.db.close().await;
    Ok(())
}
