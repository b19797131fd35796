//! `bygd-gateway run`: starts the store, the core, the doors, the readers, the control
//! socket and (if configured) the metrics port, and stops them in order.
//!
//! Shutdown order: stop taking requests, let the core finish the decision in hand and log
//! the stop, relock every door, close the store. A systemd unit sees READY once doors and the
//! socket are up, and WATCHDOG pings only while the core answers.

use crate::clock::Clock;
use crate::config::{Config, HardwareBackend, ReaderKind};
use crate::core::{Core, CoreRequest};
use crate::door::DoorTask;
use crate::hardware::{open_gpio, rppal_pins, SimDoor};
use crate::reader;
use crate::socket::{self, SocketContext};
use crate::store::Store;
use anyhow::Context as _;
use bygd_link::sdnotify;
use bygd_protocol::{ClockQuality, EventBody};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Requests that may wait for the core: readers and the socket block beyond this, which
/// bounds memory under a flood of presentations.
const CORE_QUEUE: usize = 1024;

/// How often the core does its housekeeping: short against the default denial window (60 s),
/// so a run's count is logged soon after its window ends; a disk check is one statvfs call.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(5);

/// How long the core may take to answer a watchdog probe before the ping is skipped.
const WATCHDOG_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Options of `run` beyond the config file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Start with an empty store if the store is damaged (the damaged file is kept aside).
    pub accept_fresh_store: bool,
    /// Refuse revocation lists numbered below this from now on (kept in the store, so it
    /// outlives this run): what an operator names with `--accept-fresh-store`, since an
    /// empty store has forgotten the highest version it accepted.
    pub revocation_min_version: Option<u64>,
    /// Receives every event once it is durable, for a live view (the demo).
    pub observer: Option<tokio::sync::broadcast::Sender<bygd_protocol::Event>>,
}

/// Runs the gateway until `shutdown` completes.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let key = bygd_link::read_key(&config.key_file).with_context(|| {
        format!("the gateway key is needed to sign its events; create one with `bygd-gateway keygen --out {}`", config.key_file.display())
    })?;
    tracing::info!(site = %config.site, gateway = %config.gateway, key_id = %key.id(), "starting");

    let (store, report) = Store::open(&config.data_dir, options.accept_fresh_store)?;
    let store = Arc::new(store);
    tracing::info!(
        head = report.head.seq,
        outbox = report.outbox_len,
        floor = report.clock_floor.0,
        "store open, chain tail verified"
    );
    let clock = Clock::new(
        report.clock_floor,
        config.clock_has_rtc,
        std::time::Instant::now(),
    );
    if let Some(min) = options.revocation_min_version {
        let mut txn = store.begin()?;
        let floor = txn.raise_revocation_floor(min)?;
        txn.commit()?;
        tracing::info!(
            asked = min,
            floor,
            "revocation lists below the floor are refused as rollback"
        );
    }
    let config_floor = config.policy.revocation_min_version;
    if options.accept_fresh_store && config_floor == 0 && options.revocation_min_version.is_none() {
        tracing::warn!(
            "started with --accept-fresh-store and no revocation floor: until the site's list \
             arrives, an older list of this site would be accepted; pass \
             --revocation-min-version with the site's current version (the dashboard shows it)"
        );
    }

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let mut doors = BTreeMap::new();
    let mut sims = BTreeMap::new();
    let mut door_senders = HashMap::new();
    let mut door_tasks = Vec::new();
    let gpio = match config.hardware {
        HardwareBackend::Rppal => Some(open_gpio()?),
        HardwareBackend::Simulated => None,
    };
    let lockdowns = store.lockdowns()?;
    for (id, door_config) in &config.doors {
        let (pins, wake) = match &gpio {
            Some(gpio) => {
                let wake = Arc::new(tokio::sync::Notify::new());
                (rppal_pins(gpio, door_config, wake.clone())?, wake)
            }
            None => {
                let (sim, pins) = SimDoor::new(door_config);
                let wake = sim.wake.clone();
                sims.insert(id.clone(), sim);
                (pins, wake)
            }
        };
        let locked = lockdowns.covers(id);
        let (task, handle) = DoorTask::new(
            id.clone(),
            door_config,
            pins,
            wake,
            locked,
            events_tx.clone(),
        )
        .map_err(|problem| anyhow::anyhow!("door `{id}`: {problem}"))?;
        door_senders.insert(id.clone(), handle.commands.clone());
        doors.insert(id.clone(), handle);
        door_tasks.push(tokio::spawn(task.run(shutdown_rx.clone())));
    }
    drop(events_tx);

    let mut core = Core::new(config.clone(), store.clone(), clock, door_senders)?;
    let decisions = core.decisions();
    // Committed events go to the caller's observer (the demo) and wake the uplink.
    let observer = options
        .observer
        .clone()
        .unwrap_or_else(|| tokio::sync::broadcast::channel(1024).0);
    core.observe(Some(observer.clone()));
    let quality = if config.clock_has_rtc {
        ClockQuality::Synchronised
    } else {
        ClockQuality::Unsynchronised
    };
    core.log(EventBody::GatewayStarted {
        version: env!("CARGO_PKG_VERSION").into(),
    })?;
    core.log(EventBody::ClockChanged {
        quality,
        floor: report.clock_floor,
    })?;
    let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE);
    let core_thread = std::thread::Builder::new()
        .name("bygd-core".into())
        .spawn(move || core.run(core_rx))
        .context("cannot start the core thread")?;

    // Door events go to the core in order.
    let forward_tx = core_tx.clone();
    let forwarder = tokio::spawn(async move {
        while let Some((door, body)) = events_rx.recv().await {
            if forward_tx
                .send(CoreRequest::DoorEvent { door, body })
                .await
                .is_err()
            {
                break;
            }
        }
    });

    for (door, reader) in &config.readers {
        match reader.kind {
            ReaderKind::Lines => {
                reader::spawn_line_reader(reader.device.clone(), door.clone(), core_tx.clone())
            }
        }
    }

    let uplink = match &config.mqtt {
        None => {
            tracing::info!("no [mqtt] section: working offline; events stay in the local log");
            None
        }
        Some(mqtt) => {
            let door_status = doors
                .iter()
                .map(|(id, h)| (id.to_string(), h.status.clone()))
                .collect();
            let context = crate::uplink::UplinkContext {
                config: config.clone(),
                mqtt: mqtt.clone(),
                key: key.clone(),
                store: store.clone(),
                core: core_tx.clone(),
                committed: observer.subscribe(),
                doors: door_status,
            };
            let stop = shutdown_rx.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = crate::uplink::run(context, stop).await {
                    tracing::error!(error = %e, "uplink stopped; doors keep working offline");
                }
            }))
        }
    };

    let listener = socket::bind(&config.socket)
        .with_context(|| format!("cannot open the control socket {}", config.socket.display()))?;
    let context = SocketContext {
        core: core_tx.clone(),
        doors,
        sim: Arc::new(sims),
        site: config.site.to_string(),
        gateway: config.gateway.to_string(),
    };
    let metrics_context = crate::metrics::MetricsContext {
        core: core_tx.clone(),
        decisions,
        doors: context.doors.values().cloned().collect(),
        store_file: config.data_dir.join(crate::store::STORE_FILE),
        site: config.site.to_string(),
        gateway: config.gateway.to_string(),
    };
    let socket_task = tokio::spawn(socket::serve(listener, context, shutdown_rx.clone()));
    let metrics_task = match config.metrics {
        None => None,
        // Doors matter more than graphs: a port that cannot be had is an error in the log,
        // not a gateway that refuses to start.
        Some(metrics) => match tokio::net::TcpListener::bind(metrics.listen).await {
            Ok(listener) => {
                tracing::info!(listen = %metrics.listen, "serving Prometheus metrics at /metrics");
                Some(tokio::spawn(crate::metrics::serve(
                    listener,
                    metrics_context,
                    shutdown_rx.clone(),
                )))
            }
            Err(e) => {
                tracing::error!(listen = %metrics.listen, error = %e,
                    "cannot open the metrics port; running without metrics");
                None
            }
        },
    };

    let watchdog = sdnotify::watchdog_interval().map(|interval| {
        let core = core_tx.clone();
        let mut stop = shutdown_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    () = tokio::time::sleep(interval) => {}
                }
                let (reply, answered) = oneshot::channel();
                if core.send(CoreRequest::Status { reply }).await.is_err() {
                    break;
                }
                if matches!(
                    tokio::time::timeout(WATCHDOG_PROBE_TIMEOUT, answered).await,
                    Ok(Ok(_))
                ) {
                    sdnotify::notify("WATCHDOG=1");
                } else {
                    tracing::error!("core did not answer the watchdog probe; not pinging systemd");
                }
            }
        })
    });

    // Housekeeping: counted denials whose window ended are logged, and the disk watermark
    // is checked, at start and then every few seconds.
    let ticker = {
        let core = core_tx.clone();
        let mut stop = shutdown_rx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_INTERVAL);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = every.tick() => {}
                }
                if core.send(CoreRequest::Tick).await.is_err() {
                    break;
                }
            }
        })
    };

    sdnotify::notify("READY=1");
    tracing::info!(socket = %config.socket.display(), doors = config.doors.len(), "gateway ready");
    shutdown.await;

    tracing::info!("stopping: finishing the decision in hand, relocking doors");
    sdnotify::notify("STOPPING=1");
    let _ = shutdown_tx.send(true);
    let _ = socket_task.await;
    if let Some(metrics) = metrics_task {
        let _ = metrics.await;
    }
    if let Some(uplink) = uplink {
        let _ = uplink.await;
    }
    if let Some(w) = watchdog {
        let _ = w.await;
    }
    let _ = ticker.await;
    for task in door_tasks {
        let _ = task.await;
    }
    // Door events queued before the doors stopped are logged before the core stops.
    let _ = forwarder.await;
    let _ = core_tx.send(CoreRequest::Stop).await;
    drop(core_tx);
    tokio::task::spawn_blocking(move || core_thread.join())
        .await
        .ok()
        .and_then(Result::ok)
        .context("the core thread failed while stopping")?;
    let _ = std::fs::remove_file(&config.socket);
    tracing::info!("stopped cleanly");
    Ok(())
}
