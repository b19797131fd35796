//! The dashboard's MQTT link: batches and statuses in, acks, commands, revocation lists and
//! time beacons out. One task owns rumqttc's event loop and only forwards what it reads
//! (`bygd_link`'s poller, the gateway's too); the link task below does the work in order.
//!
//! Invariants:
//! - An event batch is acked (signed ack to the gateway, then the MQTT PUBACK to the broker)
//!   only after its events are committed. With a persistent session and manual PUBACKs, a
//!   dashboard killed mid-batch gets the batch again from the broker; a broker that lost it
//!   is covered by the gateway, which resends everything unacked.
//! - Commands leave in the order of their numbers, and never retained.
//! - Each site's newest revocation list is on the broker, retained: republished at every
//!   connect and whenever a newer one is signed.

use crate::config::DashboardMqtt;
use crate::error::ServiceResult;
use crate::ingest::Ingested;
use crate::service::Dashboard;
use bygd_link::{client_options, spawn_poller, Backoff, LinkEvent};
use bygd_protocol::{Ack, GatewayId, SiteId, Topic, TopicKind, UnixTime};
use rumqttc::{AsyncClient, Publish, QoS};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Requests queued for rumqttc: acks, commands and lists are small and few at a time.
const CLIENT_QUEUE: usize = 4096;
/// Messages forwarded by the poller: bounded in practice by the broker's in-flight limit,
/// since batches are only PUBACKed once stored.
const NET_QUEUE: usize = 1024;
/// Largest packet in: the largest packet MQTT can express (a remaining length of
/// 268,435,455 bytes plus a 5-byte fixed header). rumqttc drops the connection on a packet
/// over its limit, and the broker hands a queued or retained message back at every
/// reconnect, so any smaller limit would let one client with write access to a topic the
/// dashboard reads (a stolen gateway certificate) keep the dashboard off the broker for
/// every site. What is too large for its topic is dropped and alarmed after it arrived; the
/// broker's own cap (`deploy/mosquitto`: 24 MiB + 1 KiB) keeps such messages from costing much.
const MAX_INCOMING_PACKET: usize = 268_435_455 + 5;
/// Largest packet out: a full revocation list of a million pass ids is about 17 MB.
const MAX_OUTGOING_PACKET: usize = 64 * 1024 * 1024;
/// Waits between connection attempts: a quarter of a second first, doubling to half a minute.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(250),
    max: Duration::from_secs(30),
};
/// How often the outbox is looked at without a wake-up (commands queued by another
/// process, such as a `bygd unlock` beside `bygd serve`).
const OUTBOX_POLL: Duration = Duration::from_millis(500);
/// A gap in a gateway's log is normal for a moment (a lost message is resent from the
/// gateway's outbox within its ack timeout of 15 s); one that lasts this long is an alarm.
const GAP_ALARM_AFTER: Duration = Duration::from_secs(120);
/// How often old revocation lists are re-signed and old beacons forgotten.
const HOUSEKEEPING: Duration = Duration::from_secs(300);

/// Batches stored in one transaction at most: a backlog of hours drains in commits of this
/// many batches (up to 16,384 events), and a single batch still waits for nobody.
const MAX_GROUP: usize = 64;

fn is_batch(publish: &Publish) -> bool {
    matches!(
        Topic::parse(&publish.topic),
        Some(Topic::Gateway {
            kind: TopicKind::Event,
            ..
        })
    )
}

/// The link's settings.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The broker.
    pub mqtt: DashboardMqtt,
    /// Seconds between time beacons (0: none).
    pub beacon_seconds: u32,
    /// Hours between re-signed revocation lists.
    pub revocation_refresh_hours: u32,
    /// Minutes an online gateway may lag its site's revocation list before an alarm (0: never).
    pub revocation_lag_alarm_minutes: u32,
}

/// Runs the link until `shutdown` turns true.
pub(crate) async fn run(
    dashboard: Dashboard,
    settings: LinkSettings,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut options = client_options(&settings.mqtt.client_id, &settings.mqtt.as_link_config())
        .map_err(|e| anyhow::anyhow!("mqtt: {e}"))?;
    // A persistent session: the broker keeps our subscriptions and queues batches while we
    // are down; PUBACKs are ours to send, after the commit.
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_max_packet_size(MAX_INCOMING_PACKET, MAX_OUTGOING_PACKET);
    options.set_request_channel_capacity(CLIENT_QUEUE);
    let (client, eventloop) = AsyncClient::new(options, CLIENT_QUEUE);
    let (mut net, poller) = spawn_poller(eventloop, BACKOFF, NET_QUEUE);
    let mut link = Link {
        dashboard,
        client,
        lists_sent: BTreeMap::new(),
        gaps: HashMap::new(),
    };
    let mut outbox_tick = tokio::time::interval(OUTBOX_POLL);
    let mut housekeeping = tokio::time::interval(HOUSEKEEPING);
    let mut lag_checks = tokio::time::interval(crate::revocation_lag::CHECK_EVERY);
    let max_lag = i64::from(settings.revocation_lag_alarm_minutes) * 60;
    let beacon_period = Duration::from_secs(u64::from(settings.beacon_seconds.max(1)));
    let mut beacons = tokio::time::interval_at(Instant::now() + beacon_period, beacon_period);
    let refresh_age = i64::from(settings.revocation_refresh_hours.max(1)) * 3600;
    let outbox = link.dashboard.outbox.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            report = net.recv() => match report {
                None => break,
                Some(LinkEvent::Publish(publish)) if is_batch(&publish) => {
                    // A backlog arrives as many batches at once: store them together.
                    let mut group = vec![publish];
                    let mut after = None;
                    while group.len() < MAX_GROUP {
                        match net.try_recv() {
                            Ok(LinkEvent::Publish(next)) if is_batch(&next) => group.push(next),
                            Ok(other) => {
                                after = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    link.on_batches(group).await;
                    if let Some(after) = after {
                        link.on_net(after, &settings.mqtt.url).await;
                    }
                }
                Some(other) => link.on_net(other, &settings.mqtt.url).await,
            },
            () = outbox.notified() => link.flush().await,
            _ = outbox_tick.tick() => link.flush().await,
            _ = beacons.tick() => {
                if settings.beacon_seconds > 0 && link.connected() {
                    link.beacon_all().await;
                }
            }
            _ = lag_checks.tick() => {
                if max_lag > 0 {
                    if let Err(e) = link.dashboard.revocation_lists().check_lag(max_lag).await {
                        tracing::error!(error = %e, "cannot check gateways' revocation lists");
                    }
                }
            }
            _ = housekeeping.tick() => {
                if let Err(e) = link.dashboard.revocation_lists().refresh_old(refresh_age).await {
                    tracing::error!(error = %e, "cannot re-sign old revocation lists");
                }
                if let Err(e) = link.dashboard.commands().forget_old_beacons().await {
                    tracing::error!(error = %e, "cannot forget old time beacons");
                }
            }
        }
    }
    link.dashboard
        .link_up
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = link.client.try_disconnect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    poller.abort();
    Ok(())
}

struct Link {
    dashboard: Dashboard,
    client: AsyncClient,
    /// The revocation list version published per site on this connection.
    lists_sent: BTreeMap<String, u64>,
    /// When a gap in a gateway's log was first seen, and the sequence numbers around it.
    gaps: HashMap<(String, String), (Instant, u64, u64)>,
}

impl Link {
    /// Whether the broker connection is up (also what the health check reports).
    fn connected(&self) -> bool {
        self.dashboard
            .link_up
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_connected(&self, up: bool) {
        self.dashboard
            .link_up
            .store(up, std::sync::atomic::Ordering::Relaxed);
    }

    /// One report of the poller.
    async fn on_net(&mut self, report: LinkEvent, broker: &str) {
        match report {
            LinkEvent::Connected => {
                tracing::info!(broker, "dashboard link connected");
                self.set_connected(true);
                self.on_connect().await;
            }
            LinkEvent::Disconnected(why) => {
                if self.connected() {
                    tracing::warn!(broker, error = %why, "dashboard link lost; reconnecting");
                } else {
                    tracing::debug!(error = %why, "dashboard link still down");
                }
                self.set_connected(false);
            }
            // Cannot happen while the client reads the largest packet MQTT can express.
            LinkEvent::Oversize(size) => {
                tracing::error!(
                    size,
                    "a packet over the client's limit dropped the broker link"
                )
            }
            LinkEvent::Publish(publish) => self.on_publish(publish).await,
        }
    }

    async fn on_connect(&mut self) {
        let filters = [TopicKind::Event, TopicKind::Status].map(|kind| {
            rumqttc::SubscribeFilter::new(Topic::all_gateways_filter(kind), QoS::AtLeastOnce)
        });
        if let Err(e) = self.client.subscribe_many(filters).await {
            tracing::error!(error = %e, "cannot subscribe to the gateways' topics");
        }
        // A broker that restarted without persistence lost the retained lists, and rumqttc may
        // have dropped whatever it had queued: send both again.
        self.lists_sent.clear();
        match self.dashboard.commands().unanswered().await {
            Ok(commands) => {
                for c in commands {
                    if self.publish_command(&c.site, &c.gateway, c.bytes).await {
                        if let Err(e) = self.dashboard.commands().mark_published(&c.id).await {
                            tracing::error!(error = %e, "cannot record a command sent again");
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read unanswered commands"),
        }
        self.flush().await;
    }

    /// Publishes queued commands and newer revocation lists.
    async fn flush(&mut self) {
        if !self.connected() {
            return;
        }
        if let Err(e) = self.flush_inner().await {
            tracing::error!(error = %e, "cannot read the dashboard's outbox");
        }
    }

    async fn flush_inner(&mut self) -> ServiceResult<()> {
        for command in self.dashboard.commands().take_unpublished().await? {
            if self
                .publish_command(&command.site, &command.gateway, command.bytes)
                .await
            {
                self.dashboard
                    .commands()
                    .mark_published(&command.id)
                    .await?;
                tracing::debug!(
                    site = command.site,
                    gateway = command.gateway,
                    seq = command.seq,
                    expires = command.expires,
                    "command published"
                );
            } else {
                // Keep the order: a later command must not overtake this one.
                break;
            }
        }
        for (site_name, version) in self.dashboard.revocation_lists().versions().await? {
            if self.lists_sent.get(&site_name) == Some(&version) {
                continue;
            }
            let (Ok(site), Some(bytes)) = (
                SiteId::new(&site_name),
                self.dashboard.revocation_lists().bytes(&site_name).await?,
            ) else {
                continue;
            };
            let topic = Topic::Revocations { site }.to_string();
            match self
                .client
                .publish(topic, QoS::AtLeastOnce, true, bytes)
                .await
            {
                Ok(()) => {
                    tracing::info!(site = site_name, version, "revocation list published");
                    self.lists_sent.insert(site_name, version);
                }
                Err(e) => tracing::warn!(error = %e, "revocation list not published; will retry"),
            }
        }
        Ok(())
    }

    async fn publish_command(&self, site: &str, gateway: &str, bytes: Vec<u8>) -> bool {
        let (Ok(site), Ok(gateway)) = (SiteId::new(site), GatewayId::new(gateway)) else {
            return false;
        };
        let topic = Topic::gateway(&site, &gateway, TopicKind::Command).to_string();
        match self
            .client
            .publish(topic, QoS::AtLeastOnce, false, bytes)
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "command not published; will retry");
                false
            }
        }
    }

    async fn beacon_all(&self) {
        let system = crate::access::Principal::local_admin();
        let gateways: Result<Vec<(String, String)>, _> =
            sqlx::query_as("SELECT site, id FROM gateways WHERE online = 1 ORDER BY site, id")
                .fetch_all(&self.dashboard.db.pool)
                .await;
        match gateways {
            Ok(gateways) => {
                for (site, gateway) in gateways {
                    self.beacon(&system, &site, &gateway).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list gateways for time beacons"),
        }
    }

    async fn beacon(&self, system: &crate::access::Principal, site: &str, gateway: &str) {
        if let Err(e) = self
            .dashboard
            .commands()
            .send(
                system,
                site,
                gateway,
                &crate::command::CommandRequest::TimeBeacon,
            )
            .await
        {
            tracing::error!(site, gateway, error = %e, "cannot queue a time beacon");
        }
    }

    async fn on_publish(&mut self, publish: Publish) {
        match Topic::parse(&publish.topic) {
            Some(Topic::Gateway {
                kind: TopicKind::Event,
                ..
            }) => {
                self.on_batches(vec![publish]).await;
                return;
            }
            Some(Topic::Gateway {
                site,
                gateway,
                kind: TopicKind::Status,
            }) => {
                match self
                    .dashboard
                    .take_status(site.as_str(), gateway.as_str(), &publish.payload)
                    .await
                {
                    Ok(Some(true)) => {
                        // Just came online: a fresh clock, without waiting for the next round.
                        let system = crate::access::Principal::local_admin();
                        self.beacon(&system, site.as_str(), gateway.as_str()).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(site = %site, gateway = %gateway, error = %e, "cannot store a status")
                    }
                }
            }
            _ => tracing::warn!(
                topic = publish.topic,
                "a message on a topic the dashboard does not read; ignored"
            ),
        }
        if let Err(e) = self.client.ack(&publish).await {
            tracing::debug!(error = %e, "PUBACK not queued");
        }
    }

    /// Stores a group of batches, acks each gateway's new head once, then PUBACKs them all.
    async fn on_batches(&mut self, group: Vec<Publish>) {
        let names: Vec<(String, String)> = group
            .iter()
            .map(|p| match Topic::parse(&p.topic) {
                Some(Topic::Gateway { site, gateway, .. }) => {
                    (site.to_string(), gateway.to_string())
                }
                _ => (String::new(), String::new()),
            })
            .collect();
        let batches: Vec<(&str, &str, &[u8])> = names
            .iter()
            .zip(&group)
            .map(|((s, g), p)| (s.as_str(), g.as_str(), &p.payload[..]))
            .collect();
        match self.dashboard.ingest_batches(&batches).await {
            Ok(outcomes) => {
                let mut acks: BTreeMap<(String, String), bygd_protocol::ChainHead> =
                    BTreeMap::new();
                for ((site, gateway), outcome) in names.iter().zip(outcomes) {
                    if let Some(head) = self.after_batch(site, gateway, outcome).await {
                        acks.insert((site.clone(), gateway.clone()), head);
                    }
                }
                for ((site, gateway), head) in acks {
                    self.ack(&site, &gateway, head).await;
                }
            }
            // Not acked: the gateways keep the events and send them again.
            Err(e) => {
                tracing::error!(error = %e, batches = group.len(), "cannot store batches; the gateways will resend them")
            }
        }
        for publish in &group {
            if let Err(e) = self.client.ack(publish).await {
                tracing::debug!(error = %e, "PUBACK not queued");
            }
        }
    }

    /// Logs what became of a batch; returns the head to ack, if any.
    async fn after_batch(
        &mut self,
        site: &str,
        gateway: &str,
        outcome: Ingested,
    ) -> Option<bygd_protocol::ChainHead> {
        let key = (site.to_owned(), gateway.to_owned());
        let head = match outcome {
            Ingested::Stored {
                from,
                to,
                skipped,
                head,
            } => {
                tracing::debug!(site, gateway, from, to, skipped, "events stored");
                self.gaps.remove(&key);
                head
            }
            Ingested::AlreadyStored { head } => head,
            Ingested::Gap { head, first } => {
                let now = Instant::now();
                let (since, _, _) = *self.gaps.entry(key).or_insert((now, head, first));
                tracing::info!(
                    site,
                    gateway,
                    stored = head,
                    first,
                    "events missing before this batch; waiting for the gateway to resend"
                );
                if now.duration_since(since) >= GAP_ALARM_AFTER {
                    let detail = format!(
                        "events {} to {} have not arrived for {} s while later ones did; the gateway does \
                         not resend them (its log may have been altered)",
                        head + 1,
                        first - 1,
                        now.duration_since(since).as_secs()
                    );
                    if let Err(e) = self
                        .dashboard
                        .alarms()
                        .raise_now(site, gateway, crate::alarm::kind::INTEGRITY, None, &detail)
                        .await
                    {
                        tracing::error!(error = %e, "cannot store an alarm");
                    }
                }
                return None;
            }
            Ingested::Refused { reason } => {
                tracing::warn!(site, gateway, reason, "batch refused");
                return None;
            }
        };
        (head.seq > 0).then_some(head)
    }

    /// Publishes the signed ack of `head` to a gateway.
    async fn ack(&self, site: &str, gateway: &str, head: bygd_protocol::ChainHead) {
        let (Ok(site_id), Ok(gateway_id)) = (SiteId::new(site), GatewayId::new(gateway)) else {
            return;
        };
        let ack = Ack {
            site: site_id.clone(),
            gateway: gateway_id.clone(),
            up_to: head.seq,
            hash: head.hash,
            issued_at: UnixTime(crate::db::from_sql(self.dashboard.now())),
        };
        let topic = Topic::gateway(&site_id, &gateway_id, TopicKind::Ack).to_string();
        if let Err(e) = self
            .client
            .publish(
                topic,
                QoS::AtLeastOnce,
                false,
                ack.sign(&self.dashboard.issuer),
            )
            .await
        {
            tracing::warn!(error = %e, "ack not published; the gateway will resend and get it then");
        }
    }
}
