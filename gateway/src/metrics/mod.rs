//! Prometheus metrics of the gateway, on a local TCP port that is off unless the config has a
//! `[metrics]` section: decisions by outcome and reason, the outbox depth, the revocation
//! list's version and age, the clock state, the store's size and the doors' states.
//!
//! Invariant: a scrape reads, it never decides or writes. The core's values come from the
//! same status request as `bygd-gateway status` and the watchdog's probe (one code path for
//! what the gateway reports); the doors' from their status channels; the decision counts from
//! counters the core bumps as it answers. The endpoint has no authentication, which is why
//! the config keeps it on loopback unless told otherwise.
//!
//! - `decisions.rs`: the decision counters.
//! - `page.rs`: a snapshot in, the text exposition format out (pure).
//! - `http.rs`: the bounded HTTP/1.1 responder.

mod decisions;
mod http;
mod page;

pub(crate) use decisions::Decisions;

use crate::core::CoreRequest;
use crate::door::DoorHandle;
use page::Snapshot;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// How long a scrape waits for the core's status: as long as the watchdog's probe. A core
/// busy for longer shows as `bygd_gateway_core_up 0`, well inside Prometheus's default
/// scrape timeout of 10 s.
const CORE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a scrape reads.
pub(crate) struct MetricsContext {
    /// The core, asked for its status.
    pub core: mpsc::Sender<CoreRequest>,
    /// The decision counters the core bumps.
    pub decisions: Arc<Decisions>,
    /// The doors' status channels.
    pub doors: Vec<DoorHandle>,
    /// The store file, whose size is reported.
    pub store_file: PathBuf,
    /// The site, for the info metric.
    pub site: String,
    /// The gateway id, for the info metric.
    pub gateway: String,
}

impl MetricsContext {
    /// Reads everything once and renders the page.
    async fn page(&self) -> String {
        let (reply, answered) = oneshot::channel();
        let core = if self.core.send(CoreRequest::Status { reply }).await.is_ok() {
            tokio::time::timeout(CORE_TIMEOUT, answered)
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        let store_bytes = match tokio::fs::metadata(&self.store_file).await {
            Ok(meta) => Some(meta.len()),
            Err(e) => {
                tracing::warn!(file = %self.store_file.display(), error = %e, "cannot read the store's size");
                None
            }
        };
        page::render(&Snapshot {
            site: self.site.clone(),
            gateway: self.gateway.clone(),
            decisions: self.decisions.snapshot(),
            core,
            doors: self
                .doors
                .iter()
                .map(|d| d.status.borrow().clone())
                .collect(),
            store_bytes,
        })
    }
}

/// Serves `GET /metrics` on `listener` until shutdown.
pub(crate) async fn serve(
    listener: TcpListener,
    context: MetricsContext,
    shutdown: watch::Receiver<bool>,
) {
    let context = Arc::new(context);
    http::serve(
        listener,
        move || {
            let context = context.clone();
            async move { context.page().await }
        },
        shutdown,
    )
    .await;
}
