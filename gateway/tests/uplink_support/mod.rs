//! The uplink tests' harness: the real brokers of `bygd-testkit`, and a stand-in for the
//! dashboard that does what SPEC.md section 11 asks of one.
//!
//! - [`StandIn`] verifies every batch with the gateway's key, follows the chain across batches
//!   with a [`ChainHead`] per gateway, stores each (gateway, sequence number) once, and acks its
//!   stored head with the issuer key. It can pause or cap its acks, forge acks, and publish
//!   commands and revocation lists.
//!
//! Every wait has a deadline, and a test that fails says what the gateway and the broker said.
#![allow(dead_code)] // each test uses a different part of the harness

use crate::common::{issuer, Gateway, SITE};
use bygd_protocol::{
    verify_batch, Ack, Action, ChainHead, Command, CommandId, CommandOutcome, EventBody, GatewayId,
    Hash, PublicKey, SecretKey, SiteId, Topic, TopicKind, UnixTime, VerifiedEvent,
};
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test binary uses a different part
pub(crate) use bygd_testkit::{free_port, Broker, Mosquitto, Rumqttd, REQUIRE_MOSQUITTO};

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(10);
/// The stand-in's request queue: deep enough that its acks never find it full.
const STANDIN_QUEUE: usize = 4096;
/// The stand-in's keep-alive: short, so a broker restart is noticed at once.
const STANDIN_KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How long the stand-in waits before reconnecting after an error.
const STANDIN_RECONNECT: Duration = Duration::from_millis(50);

/// Runs a scenario on rumqttd and on mosquitto, as two tests.
#[allow(unused_macros)] // not every test binary runs scenarios on both brokers
macro_rules! on_both_brokers {
    ($scenario:ident: $on_rumqttd:ident, $on_mosquitto:ident) => {
        #[test]
        fn $on_rumqttd() {
            $scenario(&mut Rumqttd::start());
        }

        #[test]
        fn $on_mosquitto() {
            if let Some(mut broker) = Mosquitto::start(stringify!($on_mosquitto)) {
                $scenario(&mut broker);
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_brokers;

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> u64 {
    crate::common::now()
}

/// Appends the `[mqtt]` section pointing at `broker` to a (not yet started) gateway's config.
/// A one-second heartbeat and the shortest keep-alive allowed keep the tests quick.
pub(crate) fn connect_gateway(gateway: &Gateway, broker: &dyn Broker) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&gateway.config)
        .expect("open the gateway config");
    write!(
        file,
        "\n[mqtt]\nurl = \"{}\"\nheartbeat_seconds = 1\nkeep_alive_seconds = 5\n",
        broker.url()
    )
    .expect("append the [mqtt] section");
}

/// What the stand-in holds of one gateway.
#[derive(Debug)]
pub(crate) struct GatewayLog {
    /// The gateway's registered key.
    key: PublicKey,
    /// The stored head: every event up to it is stored.
    pub(crate) head: ChainHead,
    /// Stored events by sequence number.
    pub(crate) events: BTreeMap<u64, VerifiedEvent>,
    /// Sequence numbers in the order they were stored.
    pub(crate) stored_order: Vec<u64>,
    /// Events received again and skipped (same hash as stored).
    pub(crate) duplicates: u64,
    /// Events received again with another hash than the stored one (a forked log).
    pub(crate) forks: u64,
    /// Batches refused, with the reason.
    pub(crate) refused: Vec<String>,
    /// The highest `up_to` acked.
    pub(crate) acked: u64,
    /// Batches received (verified or not).
    pub(crate) batches: u64,
    /// Their bytes.
    pub(crate) batch_bytes: u64,
    /// When the first batch arrived.
    pub(crate) first_batch_at: Option<Instant>,
    /// When the last new event was stored.
    pub(crate) last_stored_at: Option<Instant>,
}

/// The stand-in's state, shared between its MQTT task and the test.
#[derive(Debug)]
pub(crate) struct Dashboard {
    /// Per (site, gateway).
    pub(crate) gateways: BTreeMap<(String, String), GatewayLog>,
    /// Whether to ack stored events.
    pub(crate) acking: bool,
    /// Acks never go beyond this (to hold a drain at a known point).
    pub(crate) ack_limit: Option<u64>,
    /// Status messages seen: topic, retain flag, JSON.
    pub(crate) statuses: Vec<(String, bool, Value)>,
    /// Messages that are neither batches nor statuses, or batches from unknown gateways.
    pub(crate) strays: Vec<String>,
    /// Subscriptions acknowledged since the last (re)connect.
    pub(crate) subscribed: bool,
    /// Connections made.
    pub(crate) connections: u64,
}

/// The stand-in dashboard.
pub(crate) struct StandIn {
    runtime: tokio::runtime::Runtime,
    client: AsyncClient,
    shared: Arc<Mutex<Dashboard>>,
    site: SiteId,
    gateway: GatewayId,
    issuer: SecretKey,
    command_seq: AtomicU64,
}

fn ack_topic(site: &str, gateway: &str) -> String {
    format!("bygd/v1/{site}/{gateway}/ack")
}

impl StandIn {
    /// Connects to `broker` and subscribes to every gateway's events and statuses; `gateway`
    /// (at the test site, with the key in its key file) is the one gateway registered.
    pub(crate) fn connect(broker: &dyn Broker, gateway: &Gateway) -> Self {
        let key = bygd_link::read_key(&gateway.dir.path().join("gateway.key"))
            .expect("read the gateway's key file");
        Self::connect_with_key(broker, "gw1", key.public_key().clone())
    }

    /// As [`StandIn::connect`], with the gateway id and key given.
    pub(crate) fn connect_with_key(broker: &dyn Broker, gateway: &str, key: PublicKey) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let site = SiteId::new(SITE).expect("valid site");
        let gateway = GatewayId::new(gateway).expect("valid gateway id");
        let mut gateways = BTreeMap::new();
        gateways.insert(
            (site.to_string(), gateway.to_string()),
            GatewayLog {
                key,
                head: ChainHead::default(),
                events: BTreeMap::new(),
                stored_order: Vec::new(),
                duplicates: 0,
                forks: 0,
                refused: Vec::new(),
                acked: 0,
                batches: 0,
                batch_bytes: 0,
                first_batch_at: None,
                last_stored_at: None,
            },
        );
        let shared = Arc::new(Mutex::new(Dashboard {
            gateways,
            acking: true,
            ack_limit: None,
            statuses: Vec::new(),
            strays: Vec::new(),
            subscribed: false,
            connections: 0,
        }));
        let mut options = MqttOptions::new(
            format!("standin-{}", std::process::id()),
            "127.0.0.1",
            broker.port(),
        );
        options.set_keep_alive(STANDIN_KEEP_ALIVE);
        options.set_max_packet_size(64 * 1024 * 1024, 64 * 1024 * 1024);
        options.set_request_channel_capacity(STANDIN_QUEUE);
        let (client, mut eventloop) = AsyncClient::new(options, STANDIN_QUEUE);
        // Acks are small writes right after small writes: without this, Nagle's algorithm
        // holds each one until the broker's delayed TCP ack comes.
        eventloop.network_options.set_tcp_nodelay(true);
        let issuer_key = issuer();
        {
            let (client, shared, issuer_key) = (client.clone(), shared.clone(), issuer_key.clone());
            runtime.spawn(async move {
                loop {
                    match eventloop.poll().await {
                        Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                            {
                                let mut d = shared.lock().expect("stand-in state");
                                d.subscribed = false;
                                d.connections += 1;
                            }
                            let filters = [TopicKind::Event, TopicKind::Status]
                                .map(|k| (Topic::all_gateways_filter(k), QoS::AtLeastOnce));
                            let _ = client.try_subscribe_many(
                                filters
                                    .into_iter()
                                    .map(|(path, qos)| rumqttc::SubscribeFilter::new(path, qos)),
                            );
                        }
                        Ok(MqttEvent::Incoming(Packet::SubAck(_))) => {
                            shared.lock().expect("stand-in state").subscribed = true;
                        }
                        Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                            let ack = shared.lock().expect("stand-in state").receive(
                                &p.topic,
                                &p.payload,
                                p.retain,
                                &issuer_key,
                            );
                            if let Some((topic, ack)) = ack {
                                if client
                                    .try_publish(topic, QoS::AtLeastOnce, false, ack)
                                    .is_err()
                                {
                                    eprintln!("stand-in: request queue full; an ack was dropped");
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(_) => {
                            shared.lock().expect("stand-in state").subscribed = false;
                            tokio::time::sleep(STANDIN_RECONNECT).await;
                        }
                    }
                }
            });
        }
        let stand_in = Self {
            runtime,
            client,
            shared,
            site,
            gateway,
            issuer: issuer_key,
            command_seq: AtomicU64::new(0),
        };
        stand_in.wait_subscribed();
        stand_in
    }

    /// Waits until the stand-in's subscriptions are acknowledged.
    pub(crate) fn wait_subscribed(&self) {
        self.wait_until("the stand-in to subscribe", Duration::from_secs(10), |d| {
            d.subscribed
        });
    }

    /// The shared state, locked.
    pub(crate) fn state(&self) -> MutexGuard<'_, Dashboard> {
        self.shared.lock().expect("stand-in state")
    }

    /// A copy of what is known of `gw1` (the registered gateway), through `f`.
    pub(crate) fn with_log<T>(&self, f: impl FnOnce(&GatewayLog) -> T) -> T {
        let d = self.state();
        f(d.gateways
            .get(&(self.site.to_string(), self.gateway.to_string()))
            .expect("the registered gateway"))
    }

    /// The stored head's sequence number.
    pub(crate) fn head(&self) -> u64 {
        self.with_log(|g| g.head.seq)
    }

    /// Waits until `condition` holds for the stand-in's state.
    #[track_caller]
    pub(crate) fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut(&Dashboard) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            if condition(&self.state()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; stand-in: {}",
                self.summary()
            );
            std::thread::sleep(POLL);
        }
    }

    /// A short account of the stand-in's state for failure messages.
    pub(crate) fn summary(&self) -> String {
        let d = self.state();
        let logs: Vec<String> = d
            .gateways
            .iter()
            .map(|((s, g), log)| {
                format!(
                    "{s}/{g}: head {}, {} stored, {} duplicates, {} forks, acked {}, refused {:?}",
                    log.head.seq,
                    log.events.len(),
                    log.duplicates,
                    log.forks,
                    log.acked,
                    log.refused.iter().take(5).collect::<Vec<_>>()
                )
            })
            .collect();
        format!(
            "{}; acking {} (limit {:?}); {} connections; strays {:?}",
            logs.join("; "),
            d.acking,
            d.ack_limit,
            d.connections,
            d.strays.iter().take(5).collect::<Vec<_>>()
        )
    }

    /// Stops or resumes acking. Resuming acks the stored head at once (the gateway otherwise
    /// waits for its resend timeout before sending anything the stand-in would ack).
    pub(crate) fn set_acking(&self, on: bool) {
        let ack = {
            let mut d = self.state();
            d.acking = on;
            if on {
                d.ack_for(self.site.as_str(), self.gateway.as_str(), &self.issuer)
            } else {
                None
            }
        };
        if let Some((topic, bytes)) = ack {
            self.publish(&topic, bytes, false);
        }
    }

    /// Caps acks at `limit` (`None`: no cap); lifting a cap acks the stored head at once.
    pub(crate) fn set_ack_limit(&self, limit: Option<u64>) {
        self.state().ack_limit = limit;
        if limit.is_none() {
            self.set_acking(true);
        }
    }

    /// Publishes `payload` on `topic` with QoS 1 (queued in order behind earlier publishes).
    pub(crate) fn publish(&self, topic: &str, payload: Vec<u8>, retain: bool) {
        self.runtime
            .block_on(
                self.client
                    .publish(topic, QoS::AtLeastOnce, retain, payload),
            )
            .expect("the stand-in's client takes the publish");
    }

    /// The gateway's topic of this kind.
    pub(crate) fn topic(&self, kind: TopicKind) -> String {
        Topic::gateway(&self.site, &self.gateway, kind).to_string()
    }

    /// A fresh command for the registered gateway: a new id, the next sequence number,
    /// issued now and valid for 30 seconds.
    pub(crate) fn command(&self, action: Action) -> Command {
        let now = unix_now();
        Command {
            site: self.site.clone(),
            gateway: self.gateway.clone(),
            id: fresh_command_id(),
            issued_at: UnixTime(now),
            expires: UnixTime(now + 30),
            seq: self.command_seq.fetch_add(1, Ordering::SeqCst) + 1,
            action,
        }
    }

    /// Signs `command` with `key` and publishes it on the registered gateway's `cmd` topic;
    /// returns the signed bytes.
    pub(crate) fn send_command(&self, command: &Command, key: &SecretKey, retain: bool) -> Vec<u8> {
        let bytes = command.sign(key);
        self.publish(&self.topic(TopicKind::Command), bytes.clone(), retain);
        bytes
    }

    /// Publishes a signed revocation list, retained, on the site's revocation topic.
    pub(crate) fn publish_revocations(&self, list: Vec<u8>) {
        let topic = Topic::Revocations {
            site: self.site.clone(),
        }
        .to_string();
        self.publish(&topic, list, true);
    }

    /// Publishes an ack built from these fields and signed by `key`.
    pub(crate) fn send_ack(&self, up_to: u64, hash: Hash, key: &SecretKey) {
        let ack = Ack {
            site: self.site.clone(),
            gateway: self.gateway.clone(),
            up_to,
            hash,
            issued_at: UnixTime(unix_now()),
        };
        self.publish(&self.topic(TopicKind::Ack), ack.sign(key), false);
    }

    /// The stored hash of event `seq`.
    #[track_caller]
    pub(crate) fn hash_of(&self, seq: u64) -> Hash {
        self.with_log(|g| g.events.get(&seq).map(|e| e.hash))
            .unwrap_or_else(|| panic!("the stand-in holds no event {seq}"))
    }

    /// The first stored event matching `find`, waiting for it up to `timeout`.
    #[track_caller]
    pub(crate) fn wait_for_event(
        &self,
        what: &str,
        timeout: Duration,
        mut find: impl FnMut(&EventBody) -> bool,
    ) -> VerifiedEvent {
        let mut found = None;
        self.wait_until(what, timeout, |d| {
            found = d
                .gateways
                .values()
                .flat_map(|g| g.events.values())
                .find(|e| find(&e.event.body))
                .cloned();
            found.is_some()
        });
        found.expect("found")
    }

    /// Sends a fresh command for `action`, signed with the issuer key and not retained, and
    /// returns what the gateway reported for it (see [`StandIn::reported_outcome`]).
    #[track_caller]
    pub(crate) fn run_command(&self, action: Action, what: &str, timeout: Duration) -> String {
        let command = self.command(action);
        self.send_command(&command, &issuer(), false);
        self.reported_outcome(what, command.id, timeout)
    }

    /// What the gateway reported for command `id` ("done" or the refusal's code), waiting
    /// for its result up to `timeout`.
    #[track_caller]
    pub(crate) fn reported_outcome(&self, what: &str, id: CommandId, timeout: Duration) -> String {
        let event = self.wait_for_event(
            what,
            timeout,
            |b| matches!(b, EventBody::CommandResult { command, .. } if *command == id),
        );
        match event.event.body {
            EventBody::CommandResult {
                outcome: CommandOutcome::Done,
                ..
            } => "done".into(),
            EventBody::CommandResult {
                outcome: CommandOutcome::Refused(r),
                ..
            } => r.code().into(),
            other => panic!("not a command result: {other:?}"),
        }
    }

    /// Every stored event body matching `find`.
    pub(crate) fn events_where(&self, mut find: impl FnMut(&EventBody) -> bool) -> Vec<EventBody> {
        self.with_log(|g| {
            g.events
                .values()
                .filter(|e| find(&e.event.body))
                .map(|e| e.event.body.clone())
                .collect()
        })
    }

    /// The newest status message of the registered gateway the stand-in saw.
    pub(crate) fn latest_status(&self) -> Option<Value> {
        let topic = self.topic(TopicKind::Status);
        self.state()
            .statuses
            .iter()
            .rev()
            .find(|(t, _, _)| *t == topic)
            .map(|(_, _, v)| v.clone())
    }

    /// How many status messages the stand-in has seen.
    pub(crate) fn statuses_seen(&self) -> usize {
        self.state().statuses.len()
    }

    /// Waits for an online status after the first `seen` ones. The gateway subscribes before
    /// it publishes its first status on a connection, so once that status is here, whatever
    /// is published next reaches the gateway's subscriptions.
    #[track_caller]
    pub(crate) fn wait_online_after(&self, seen: usize) {
        self.wait_until("the gateway online again", Duration::from_secs(15), |d| {
            d.statuses
                .iter()
                .skip(seen)
                .any(|(_, _, v)| v["online"] == true)
        });
    }

    /// What a client that subscribes now receives as the retained status of the registered
    /// gateway (`None` if nothing is retained within two seconds).
    pub(crate) fn retained_status(&self, broker: &dyn Broker) -> Option<Value> {
        let topic = self.topic(TopicKind::Status);
        let port = broker.port();
        self.runtime.block_on(async move {
            static PROBES: AtomicU64 = AtomicU64::new(0);
            let id = format!(
                "probe-{}-{}",
                std::process::id(),
                PROBES.fetch_add(1, Ordering::Relaxed)
            );
            let options = MqttOptions::new(id, "127.0.0.1", port);
            let (client, mut eventloop) = AsyncClient::new(options, 16);
            let found = tokio::time::timeout(Duration::from_secs(2), async {
                loop {
                    match eventloop.poll().await {
                        Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                            let _ = client.try_subscribe(topic.clone(), QoS::AtLeastOnce);
                        }
                        Ok(MqttEvent::Incoming(Packet::Publish(p))) if p.retain => {
                            return serde_json::from_slice::<Value>(&p.payload).ok();
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(STANDIN_RECONNECT).await,
                    }
                }
            })
            .await
            .ok()
            .flatten();
            let _ = client.try_disconnect();
            let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
            found
        })
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}

/// A command id no other command in this test process has.
pub(crate) fn fresh_command_id() -> CommandId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&std::process::id().to_be_bytes());
    id[4..8].copy_from_slice(&0xc0de_u32.to_be_bytes());
    id[8..].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    CommandId(id)
}

impl Dashboard {
    /// Takes one incoming message; returns an ack to publish, if one is due.
    fn receive(
        &mut self,
        topic: &str,
        payload: &[u8],
        retain: bool,
        issuer: &SecretKey,
    ) -> Option<(String, Vec<u8>)> {
        match Topic::parse(topic) {
            Some(Topic::Gateway {
                site,
                gateway,
                kind: TopicKind::Event,
            }) => {
                let (site, gateway) = (site.to_string(), gateway.to_string());
                let Some(log) = self.gateways.get_mut(&(site.clone(), gateway.clone())) else {
                    self.strays
                        .push(format!("a batch from unregistered {site}/{gateway}"));
                    return None;
                };
                if let Err(why) = log.take_batch(payload, &site, &gateway) {
                    log.refused.push(why);
                    return None;
                }
                self.ack_for(&site, &gateway, issuer)
            }
            Some(Topic::Gateway {
                kind: TopicKind::Status,
                ..
            }) => {
                match serde_json::from_slice::<Value>(payload) {
                    Ok(v) => self.statuses.push((topic.to_owned(), retain, v)),
                    Err(e) => self
                        .strays
                        .push(format!("status on {topic} is not JSON: {e}")),
                }
                None
            }
            _ => {
                self.strays.push(format!("a message on {topic}"));
                None
            }
        }
    }

    /// The ack of `site/gateway`'s stored head (capped by the limit), if acking.
    fn ack_for(
        &mut self,
        site: &str,
        gateway: &str,
        issuer: &SecretKey,
    ) -> Option<(String, Vec<u8>)> {
        if !self.acking {
            return None;
        }
        let limit = self.ack_limit.unwrap_or(u64::MAX);
        let log = self
            .gateways
            .get_mut(&(site.to_owned(), gateway.to_owned()))?;
        let up_to = log.head.seq.min(limit);
        let hash = log.events.get(&up_to)?.hash;
        log.acked = log.acked.max(up_to);
        let ack = Ack {
            site: SiteId::new(site).ok()?,
            gateway: GatewayId::new(gateway).ok()?,
            up_to,
            hash,
            issued_at: UnixTime(unix_now()),
        };
        Some((ack_topic(site, gateway), ack.sign(issuer)))
    }
}

impl GatewayLog {
    /// SPEC.md section 11: verify, skip what is stored (same hash), follow the head, store
    /// the new events all together or none.
    fn take_batch(&mut self, payload: &[u8], site: &str, gateway: &str) -> Result<(), String> {
        self.batches += 1;
        self.batch_bytes += payload.len() as u64;
        self.first_batch_at.get_or_insert_with(Instant::now);
        let (site, gateway) = (
            SiteId::new(site).map_err(|e| e.to_string())?,
            GatewayId::new(gateway).map_err(|e| e.to_string())?,
        );
        let batch = verify_batch(payload, &self.key, &site, &gateway)
            .map_err(|r| format!("batch refused: {}", r.rejection().code()))?;
        let mut head = self.head;
        let mut fresh = Vec::new();
        let mut duplicates = 0;
        for event in batch.events {
            let seq = event.event.seq;
            if seq <= head.seq {
                match self.events.get(&seq) {
                    Some(stored) if stored.hash == event.hash => duplicates += 1,
                    _ => {
                        self.forks += 1;
                        return Err(format!("event {seq} differs from the stored one"));
                    }
                }
            } else {
                head = head
                    .follow(&event.event, &event.bytes)
                    .map_err(|r| format!("event {seq} after head {}: {}", head.seq, r.code()))?;
                fresh.push(event);
            }
        }
        self.duplicates += duplicates;
        if !fresh.is_empty() {
            self.last_stored_at = Some(Instant::now());
        }
        for event in fresh {
            self.stored_order.push(event.event.seq);
            self.events.insert(event.event.seq, event);
        }
        self.head = head;
        Ok(())
    }
}

/// Presents `count` codes at `door` over the control socket from `threads` threads at once
/// (so the core folds them into shared commits, as with a real burst), counting each decision
/// in `done`. Every reply must carry a sequence number (the decision was logged).
pub(crate) fn present_burst(
    socket: &std::path::Path,
    door: &str,
    text: &str,
    count: usize,
    threads: usize,
    done: &std::sync::atomic::AtomicUsize,
) {
    let line = format!(
        "{}\n",
        serde_json::json!({ "op": "present", "door": door, "text": text })
    );
    std::thread::scope(|scope| {
        for t in 0..threads {
            let line = &line;
            let share = count / threads + usize::from(t < count % threads);
            scope.spawn(move || {
                for _ in 0..share {
                    let reply = crate::common::raw_request(socket, line)
                        .unwrap_or_else(|e| panic!("present over the socket: {e}"));
                    assert!(
                        reply["seq"].as_u64().is_some(),
                        "a logged decision: {reply}"
                    );
                    done.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
}
