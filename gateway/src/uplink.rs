//! The MQTT uplink: events out in signed batches until the dashboard's signed ack covers
//! them; commands, acks and revocation lists in; a retained status with a last will.
//!
//! Invariants:
//! - An event leaves the outbox only through a signed ack whose hash matches the stored event
//!   (the core deletes it); the MQTT client's own queue is never trusted with delivery. After
//!   a reconnect, or when no ack came for a while, everything unacked is sent again, in order;
//!   the dashboard stores each (gateway, sequence) once, so a repeat is harmless.
//! - Reading the backlog is bounded: at most [`WINDOW_EVENTS`] events are in flight, read from
//!   the store a batch at a time, however many days of events wait.
//! - The broker is not trusted: acks, commands and revocation lists are verified by signature
//!   (here and in the core); anything else on our topics is logged and ignored.
//! - No message can keep the link down. The client reads packets up to the largest message
//!   kind (a full revocation list); each kind's own cap is checked before any decoding. A
//!   packet over the client's limit makes rumqttc drop the connection, and a broker would
//!   deliver it again at every reconnect (queued in the session, or retained on the
//!   revocation topic): so after one, the next connection starts a clean session and the
//!   revocation topic is left unsubscribed for [`OVERSIZE_PAUSE`].

use crate::config::Config;
use crate::core::{CoreRequest, CoreStatus};
use crate::door::DoorSnapshot;
use crate::store::Store;
use bygd_link::{client_options, spawn_poller, Backoff, LinkEvent, MqttConfig};
use bygd_protocol::{
    sign_batch, verify_ack, DoorStatus, Event, GatewayStatus, SecretKey, Topic, TopicKind,
    UplinkStatus, MAX_ACK_BYTES, MAX_BATCH_EVENTS, MAX_COMMAND_BYTES, MAX_REVOCATION_LIST_BYTES,
};
use rumqttc::{AsyncClient, LastWill, MqttOptions, QoS};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

/// Events in flight (sent, not yet acked) at most: four full batches keep the link busy
/// while the dashboard stores and acks, and bound what a reconnect sends again.
pub(crate) const WINDOW_EVENTS: u64 = 4 * MAX_BATCH_EVENTS as u64;

/// Without an ack for this long, unacked events are sent again.
const ACK_TIMEOUT: Duration = Duration::from_secs(15);

/// Waits between connection attempts: half a second first, doubling to a minute, so a door
/// site's link comes back within a minute of the broker's return.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(60),
};

/// Reports the poller may queue for the uplink task.
const NET_QUEUE: usize = 256;

/// Requests rumqttc may queue before `try_publish` says full.
const CLIENT_QUEUE: usize = 64;

/// Room for the MQTT part of a PUBLISH packet besides its payload: the topic (under 100
/// bytes for any valid ids) with its length and the packet id.
const MQTT_HEADER_ALLOWANCE: usize = 1024;

/// Largest incoming packet: the largest message kind, a full revocation list (a million ids
/// are about 17 MB), with its MQTT header. Anything larger can only be refused, so it is not
/// read: rumqttc drops the connection instead (see [`OVERSIZE_PAUSE`]).
pub(crate) const MAX_INCOMING_PACKET: usize = MAX_REVOCATION_LIST_BYTES + MQTT_HEADER_ALLOWANCE;

/// How long the revocation topic stays unsubscribed after a packet over the client's limit.
/// A retained message is delivered again at every subscription, so resubscribing at once
/// would drop the link in a loop; an hour keeps commands, acks and events flowing (deltas
/// still arrive in commands) and looks again for a corrected list 24 times a day.
pub(crate) const OVERSIZE_PAUSE: Duration = Duration::from_secs(3600);

/// Largest outgoing packet: a full batch is far below this.
const MAX_OUTGOING_PACKET: usize = 1024 * 1024;

/// What the uplink needs from the rest of the daemon.
pub(crate) struct UplinkContext {
    pub(crate) config: Arc<Config>,
    pub(crate) mqtt: MqttConfig,
    pub(crate) key: SecretKey,
    pub(crate) store: Arc<Store>,
    pub(crate) core: mpsc::Sender<CoreRequest>,
    pub(crate) committed: broadcast::Receiver<Event>,
    pub(crate) doors: BTreeMap<String, watch::Receiver<DoorSnapshot>>,
}

/// Why the uplink could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UplinkError {
    /// The MQTT settings are unusable.
    #[error("mqtt: {0}")]
    Config(String),
}

fn options(config: &Config, mqtt: &MqttConfig) -> Result<MqttOptions, UplinkError> {
    // The network-unique identity: a bare gateway id would collide with the same id at
    // another site, and the two would take each other's MQTT session over.
    let identity = bygd_protocol::broker_identity(&config.site, &config.gateway);
    let mut options =
        client_options(&identity, mqtt).map_err(|e| UplinkError::Config(e.to_string()))?;
    // A persistent session: the broker keeps our subscriptions and queues QoS 1 commands and
    // acks while the link is down.
    options.set_clean_session(false);
    options.set_max_packet_size(MAX_INCOMING_PACKET, MAX_OUTGOING_PACKET);
    options.set_request_channel_capacity(CLIENT_QUEUE);
    let status_topic = Topic::gateway(&config.site, &config.gateway, TopicKind::Status).to_string();
    options.set_last_will(LastWill::new(
        status_topic,
        offline_status(config),
        QoS::AtLeastOnce,
        true,
    ));
    Ok(options)
}

/// The last will's and the goodbye's payload.
fn offline_status(config: &Config) -> Vec<u8> {
    GatewayStatus::offline(config.site.as_str(), config.gateway.as_str()).encode()
}

/// Runs the uplink until shutdown.
pub(crate) async fn run(
    mut ctx: UplinkContext,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), UplinkError> {
    let options = options(&ctx.config, &ctx.mqtt)?;
    let (client, eventloop) = AsyncClient::new(options, CLIENT_QUEUE);
    let (mut net, poller) = spawn_poller(eventloop, BACKOFF, NET_QUEUE);

    let config = ctx.config.clone();
    let topic = |kind| Topic::gateway(&config.site, &config.gateway, kind).to_string();
    let (event_topic, status_topic) = (topic(TopicKind::Event), topic(TopicKind::Status));
    let acked = ctx.store.acked_up_to().unwrap_or(0);
    let mut state = Flow {
        connected: false,
        acked,
        sent: acked,
        // An earlier run (killed, or stopped with events in flight) may have sent up to a
        // window and a batch past what was acked, and the dashboard acks what it stored: those
        // acks are for events that were sent, not "never sent", or the drain would stop for
        // good. Nothing past that bound, or past what was logged before this run, was sent.
        highest_sent: acked
            .saturating_add(WINDOW_EVENTS + MAX_BATCH_EVENTS as u64 - 1)
            .min(ctx.store.head_seq().unwrap_or(acked)),
        last_progress: Instant::now(),
        revocations_subscribed: false,
        revocations_paused_until: None,
        oversize_messages: 0,
    };
    let revocations_topic = Topic::Revocations {
        site: config.site.clone(),
    }
    .to_string();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut heartbeat =
        tokio::time::interval(Duration::from_secs(ctx.mqtt.heartbeat_seconds.into()));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            report = net.recv() => match report {
                None => break,
                Some(LinkEvent::Connected) => {
                    tracing::info!(broker = %ctx.mqtt.url, "uplink connected");
                    state.connected = true;
                    for kind in [TopicKind::Command, TopicKind::Ack] {
                        let _ = client.try_subscribe(topic(kind), QoS::AtLeastOnce);
                    }
                    subscribe_revocations(&client, &revocations_topic, &mut state);
                    // Whatever was in flight may be lost with the connection: send it again.
                    state.sent = state.acked;
                    state.last_progress = Instant::now();
                    publish_status(&ctx, &client, &status_topic, &state).await;
                }
                Some(LinkEvent::Disconnected(why)) => {
                    if state.connected {
                        tracing::warn!(broker = %ctx.mqtt.url, error = %why, "uplink lost; events stay queued");
                    } else {
                        tracing::debug!(error = %why, "uplink still down");
                    }
                    state.connected = false;
                    state.revocations_subscribed = false;
                }
                Some(LinkEvent::Oversize(size)) => {
                    state.oversize_messages += 1;
                    let paused = state.revocations_subscribed;
                    if paused {
                        state.revocations_paused_until = Some(Instant::now() + OVERSIZE_PAUSE);
                    }
                    tracing::error!(
                        size,
                        max = MAX_INCOMING_PACKET,
                        revocations_paused_seconds = if paused { OVERSIZE_PAUSE.as_secs() } else { 0 },
                        "a message larger than any valid one dropped the broker link; reconnecting \
                         with a clean session and without the revocation topic for a while \
                         (the broker should cap message size at the gateway's limit)"
                    );
                }
                Some(LinkEvent::Publish(p)) => {
                    handle_publish(&ctx, &mut state, &p.topic, p.payload.to_vec(), p.retain).await;
                }
            },
            committed = ctx.committed.recv() => {
                if matches!(committed, Err(broadcast::error::RecvError::Closed)) {
                    break;
                }
            }
            _ = tick.tick() => {
                if state.connected && !state.revocations_subscribed {
                    subscribe_revocations(&client, &revocations_topic, &mut state);
                }
                if state.sent > state.acked && state.last_progress.elapsed() > ACK_TIMEOUT {
                    tracing::info!(acked = state.acked, sent = state.sent, "no ack in time; sending unacked events again");
                    state.sent = state.acked;
                    state.last_progress = Instant::now();
                }
            }
            _ = heartbeat.tick() => {
                if state.connected {
                    publish_status(&ctx, &client, &status_topic, &state).await;
                }
            }
        }
        if state.connected {
            pump(&ctx, &client, &event_topic, &mut state);
        }
    }
    if state.connected {
        // A clean goodbye: the last will is only for crashes and lost links.
        let _ = client.try_publish(
            status_topic,
            QoS::AtLeastOnce,
            true,
            offline_status(&config),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = client.try_disconnect();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    poller.abort();
    Ok(())
}

/// Delivery bookkeeping.
struct Flow {
    connected: bool,
    /// Highest sequence number the dashboard acked (and the core removed from the outbox).
    acked: u64,
    /// Highest sequence number handed to the MQTT client since the last (re)send point.
    sent: u64,
    /// Highest sequence number that may have been handed to a client: by this process, or by
    /// an earlier run within the window's bound (see `run`). Acks beyond it are refused.
    highest_sent: u64,
    /// When an ack last advanced (or a resend started).
    last_progress: Instant,
    /// Whether the revocation topic is subscribed on this connection.
    revocations_subscribed: bool,
    /// Set after an oversize packet: the revocation topic stays unsubscribed until then.
    revocations_paused_until: Option<Instant>,
    /// Packets over the client's limit since start, for the status.
    oversize_messages: u64,
}

/// Subscribes to the site's revocation topic unless an oversize packet paused it.
fn subscribe_revocations(client: &AsyncClient, topic: &str, state: &mut Flow) {
    if let Some(until) = state.revocations_paused_until {
        if Instant::now() < until {
            return;
        }
        state.revocations_paused_until = None;
        tracing::info!("subscribing to the revocation topic again after an oversize message");
    }
    if client.try_subscribe(topic, QoS::AtLeastOnce).is_ok() {
        state.revocations_subscribed = true;
    }
}

/// The largest payload a message kind may have; larger ones are refused undecoded.
fn payload_cap(kind: Option<TopicKind>) -> usize {
    match kind {
        Some(TopicKind::Command) => MAX_COMMAND_BYTES,
        Some(TopicKind::Ack) => MAX_ACK_BYTES,
        _ => MAX_REVOCATION_LIST_BYTES,
    }
}

/// Sends batches while the window has room.
fn pump(ctx: &UplinkContext, client: &AsyncClient, topic: &str, state: &mut Flow) {
    while state.sent < state.acked + WINDOW_EVENTS {
        let events = match ctx.store.outbox_after(state.sent, MAX_BATCH_EVENTS) {
            Ok(events) => events,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                return;
            }
        };
        let Some(&(last, _)) = events.last() else {
            return;
        };
        let refs: Vec<&[u8]> = events.iter().map(|(_, bytes)| bytes.as_slice()).collect();
        let batch = sign_batch(&ctx.config.site, &ctx.config.gateway, &refs, &ctx.key);
        match client.try_publish(topic, QoS::AtLeastOnce, false, batch) {
            Ok(()) => {
                tracing::debug!(
                    from = events.first().map_or(0, |e| e.0),
                    to = last,
                    "batch sent"
                );
                if state.sent == state.acked {
                    // Nothing was in flight: the ack timeout runs from now, not from the
                    // last ack before a quiet spell (which would resend at the next tick).
                    state.last_progress = Instant::now();
                }
                state.sent = last;
                state.highest_sent = state.highest_sent.max(last);
            }
            // The client's queue is full: the next wake-up continues.
            Err(_) => return,
        }
    }
}

async fn ask<T>(
    core: &mpsc::Sender<CoreRequest>,
    make: impl FnOnce(oneshot::Sender<T>) -> CoreRequest,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    core.send(make(tx)).await.ok()?;
    rx.await.ok()
}

async fn handle_publish(
    ctx: &UplinkContext,
    state: &mut Flow,
    name: &str,
    payload: Vec<u8>,
    retain: bool,
) {
    let config = &ctx.config;
    let parsed = Topic::parse(name);
    let kind = match &parsed {
        Some(Topic::Gateway { kind, .. }) => Some(*kind),
        _ => None,
    };
    let cap = payload_cap(kind);
    if payload.len() > cap {
        // Commands and lists still go to the core, whose verifiers refuse them by size before
        // decoding and record the refusal in the log the dashboard reads.
        tracing::warn!(
            topic = name,
            size = payload.len(),
            max = cap,
            retain,
            "message larger than any valid one of its kind; refused undecoded"
        );
    }
    match parsed {
        Some(Topic::Gateway {
            site,
            gateway,
            kind,
        }) if site == config.site && gateway == config.gateway => match kind {
            TopicKind::Ack => handle_ack(ctx, state, &payload).await,
            TopicKind::Command => {
                let _ = ctx
                    .core
                    .send(CoreRequest::Command {
                        bytes: payload,
                        retained: retain,
                    })
                    .await;
            }
            TopicKind::Event | TopicKind::Status => tracing::warn!(
                topic = name,
                "unexpected message on our own outgoing topic; ignored"
            ),
        },
        Some(Topic::Revocations { site }) if site == config.site => {
            if let Some(Err(why)) = ask(&ctx.core, |reply| CoreRequest::Revocations {
                bytes: payload,
                reply,
            })
            .await
            {
                tracing::warn!(%why, retain, "revocation list from the broker refused");
            }
        }
        _ => tracing::warn!(
            topic = name,
            "message on a topic this gateway did not subscribe to; ignored"
        ),
    }
}

async fn handle_ack(ctx: &UplinkContext, state: &mut Flow, payload: &[u8]) {
    let config = &ctx.config;
    let ack = match verify_ack(payload, &config.issuers, &config.site, &config.gateway) {
        Ok(ack) => ack,
        Err(refusal) => {
            tracing::warn!(reason = %refusal, "ack refused; ignored");
            return;
        }
    };
    if ack.up_to <= state.acked {
        return;
    }
    if ack.up_to > state.highest_sent {
        tracing::warn!(
            up_to = ack.up_to,
            sent = state.highest_sent,
            "ack for events never sent; ignored"
        );
        return;
    }
    match ctx.store.event_hash(ack.up_to) {
        Ok(Some(hash)) if hash == ack.hash => {}
        Ok(_) => {
            tracing::warn!(
                up_to = ack.up_to,
                "ack whose hash does not match the stored event; ignored"
            );
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the log to check an ack");
            return;
        }
    }
    match ask(&ctx.core, |reply| CoreRequest::Ack {
        up_to: ack.up_to,
        reply,
    })
    .await
    {
        Some(Ok(())) => {
            state.acked = ack.up_to;
            state.sent = state.sent.max(state.acked);
            state.last_progress = Instant::now();
        }
        Some(Err(e)) => tracing::error!(error = %e, "cannot record the ack"),
        None => {}
    }
}

async fn publish_status(ctx: &UplinkContext, client: &AsyncClient, topic: &str, state: &Flow) {
    let Some(core) = ask(&ctx.core, |reply| CoreRequest::Status { reply }).await else {
        return;
    };
    let status = online_status(ctx, &core, state).encode();
    if client
        .try_publish(topic, QoS::AtLeastOnce, true, status)
        .is_err()
    {
        tracing::debug!("status not sent: client queue full");
    }
}

/// The heartbeat's payload.
fn online_status(ctx: &UplinkContext, core: &CoreStatus, state: &Flow) -> GatewayStatus {
    let doors = ctx
        .doors
        .values()
        .map(|d| {
            let d = d.borrow();
            DoorStatus {
                forced_open: d.forced_open,
                held_open: d.held_open,
                id: d.id.clone(),
                lockdown: d.lockdown,
                open: d.open,
                released: d.released,
            }
        })
        .collect();
    GatewayStatus {
        core: Some(bygd_protocol::CoreStatus {
            clock: core.clock.to_owned(),
            clock_floor: core.clock_floor,
            disk_low: core.disk_low,
            free_disk_bytes: core.free_disk_bytes,
            head_seq: core.head_seq,
            lockdowns: core.lockdowns.clone(),
            outbox: core.outbox,
            revocation_age_seconds: core.revocation_age_seconds,
            revocation_stale: core.revocation_stale,
            revocation_versions: core.revocation_versions.clone(),
        }),
        doors: Some(doors),
        gateway: Some(ctx.config.gateway.to_string()),
        online: true,
        site: Some(ctx.config.site.to_string()),
        time: Some(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
        uplink: Some(UplinkStatus {
            oversize_messages: state.oversize_messages,
            revocations_paused: state.revocations_paused_until.is_some(),
        }),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    }
}
