//! Backlog drain benchmark: how fast a gateway that was offline empties its outbox through
//! mosquitto, beside how fast the same broker carries plain QoS 1 publishes of the same size
//! to a plain subscriber, in the same run (DESIGN.md: "drains its backlog at broker speed").
//!
//! The backlog (`BYGD_BENCH_EVENTS`, default 100,000 entries) is written straight into the
//! gateway's store before it starts, in chunks of one transaction each, as an offline gateway
//! would have logged it. The stand-in dashboard of the uplink tests verifies every batch, checks
//! the chain and acks, as the real dashboard must. Prints figures; asserts nothing about time.
//! Needs mosquitto; without it, it says so and exits 0.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/uplink_support/mod.rs"]
mod uplink_support;

use bygd_protocol::{ClockQuality, DoorId, EventBody, MemberId, PassId, PassKind, UnixTime};
use common::Gateway;
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use std::time::{Duration, Instant};
use uplink_support::{connect_gateway, Broker, Mosquitto, StandIn};

/// Entries in the backlog unless `BYGD_BENCH_EVENTS` says otherwise.
const DEFAULT_EVENTS: u64 = 100_000;
/// Events per write transaction while building the backlog: one fsync each, as a burst of
/// decisions folded into one commit, but bigger, since building it is not what is measured.
const CHUNK: u64 = 10_000;
/// Plain publishes at least, so the baseline is not a handful of messages.
const MIN_PLAIN_MESSAGES: u64 = 20_000;
/// The longest either measurement may take before the benchmark gives up.
const GIVE_UP: Duration = Duration::from_secs(600);

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, as a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let events = std::env::var("BYGD_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2_000 } else { DEFAULT_EVENTS });
    let Some(mut broker) = Mosquitto::start("the drain benchmark") else {
        println!("drain: mosquitto is not installed; nothing measured");
        return;
    };
    let drain = measure_drain(&broker, events);
    let plain = measure_plain(
        &broker,
        drain.batches.max(MIN_PLAIN_MESSAGES),
        drain.batch_size(),
    );
    broker.stop();

    let drain_rate = drain.events as f64 / drain.draining.as_secs_f64();
    let plain_rate = plain.messages as f64 / plain.elapsed.as_secs_f64();
    let per_batch = drain.events as f64 / drain.batches as f64;
    println!(
        "drain: {} events in {} batches of {:.0} events ({} bytes) through mosquitto in {:.3} s \
         from the first batch to the last event stored = {:.0} events/s ({:.0} batches/s); \
         {:.2} s from starting the gateway to an empty outbox",
        drain.events,
        drain.batches,
        per_batch,
        drain.batch_size(),
        drain.draining.as_secs_f64(),
        drain_rate,
        drain.batches as f64 / drain.draining.as_secs_f64(),
        drain.emptied.as_secs_f64()
    );
    println!(
        "plain: {} QoS 1 publishes of {} bytes through the same broker to a plain subscriber in \
         {:.3} s = {:.0} messages/s = {:.0} events/s at {per_batch:.0} events a message",
        plain.messages,
        drain.batch_size(),
        plain.elapsed.as_secs_f64(),
        plain_rate,
        plain_rate * per_batch
    );
    println!(
        "ratio: the drain runs at {:.3} of the rate the broker carries plain publishes",
        drain_rate / (plain_rate * per_batch)
    );
}

/// What the drain measurement found.
struct Drain {
    /// Events delivered.
    events: u64,
    /// Batches received by the stand-in (resends included).
    batches: u64,
    /// Their bytes.
    bytes: u64,
    /// From the first batch at the stand-in to the last event stored there.
    draining: Duration,
    /// From the gateway's start to its outbox being empty (the last ack applied).
    emptied: Duration,
}

impl Drain {
    fn batch_size(&self) -> usize {
        usize::try_from(self.bytes / self.batches.max(1)).unwrap_or(usize::MAX)
    }
}

fn measure_drain(broker: &dyn Broker, events: u64) -> Drain {
    let mut gw = Gateway::new();
    connect_gateway(&gw, broker);
    let built = Instant::now();
    {
        let (store, _) =
            bygd_gateway::Store::open(&gw.data_dir(), false).expect("create the store");
        let now = common::now();
        let door = DoorId::new(common::FRONT).expect("valid door");
        let member = MemberId::new("anna").expect("valid member");
        let mut written = 0;
        while written < events {
            let mut txn = store.begin().expect("begin");
            for i in written..(written + CHUNK).min(events) {
                let mut pass = [0u8; 16];
                pass[8..].copy_from_slice(&i.to_be_bytes());
                txn.append(
                    UnixTime(now - events + i),
                    ClockQuality::Synchronised,
                    EventBody::EntryGranted {
                        door: door.clone(),
                        pass_id: PassId(pass),
                        member: member.clone(),
                        kind: PassKind::Member,
                        device_bound: false,
                    },
                )
                .expect("append");
            }
            txn.commit().expect("commit");
            written = (written + CHUNK).min(events);
        }
    }
    eprintln!(
        "drain: a backlog of {events} entries written in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let stand_in = StandIn::connect(broker, &gw);
    let started = Instant::now();
    gw.start();
    let target = events + 2; // the gateway logs its start and its clock when it starts
    let mut stored = false;
    let emptied = loop {
        stored = stored || stand_in.head() >= target;
        if stored {
            let status = gw
                .request(&serde_json::json!({ "op": "status" }))
                .expect("status");
            if status["core"]["outbox"] == 0 {
                break started.elapsed();
            }
        }
        assert!(
            started.elapsed() < GIVE_UP,
            "the backlog did not drain within {GIVE_UP:?}: {}",
            stand_in.summary()
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let (batches, bytes, forks, refused, draining) = stand_in.with_log(|l| {
        let draining = match (l.first_batch_at, l.last_stored_at) {
            (Some(first), Some(last)) => last - first,
            _ => Duration::ZERO,
        };
        (l.batches, l.batch_bytes, l.forks, l.refused.len(), draining)
    });
    assert_eq!((forks, refused), (0, 0), "every batch verified and linked");
    gw.stop();
    Drain {
        events: target,
        batches,
        bytes,
        draining,
        emptied,
    }
}

/// What the plain measurement found.
struct Plain {
    messages: u64,
    elapsed: Duration,
}

/// Publishes `messages` payloads of `size` bytes with QoS 1 from one client to another through
/// `broker`, timing from the first publish to the last message received.
fn measure_plain(broker: &dyn Broker, messages: u64, size: usize) -> Plain {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let port = broker.port();
    runtime.block_on(async move {
        let topic = "bench/plain";
        let mut options = MqttOptions::new("bench-subscriber", "127.0.0.1", port);
        options.set_max_packet_size(size * 2 + 1024, size * 2 + 1024);
        let (subscriber, mut sub_loop) = AsyncClient::new(options, 64);
        subscriber
            .subscribe(topic, QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        loop {
            if let MqttEvent::Incoming(Packet::SubAck(_)) =
                sub_loop.poll().await.expect("the subscriber connects")
            {
                break;
            }
        }
        let mut options = MqttOptions::new("bench-publisher", "127.0.0.1", port);
        options.set_max_packet_size(size * 2 + 1024, size * 2 + 1024);
        let (publisher, mut pub_loop) = AsyncClient::new(options, 64);
        let payload = vec![0x5a_u8; size];
        let started = Instant::now();
        let feeder = tokio::spawn(async move {
            for _ in 0..messages {
                publisher
                    .publish(topic, QoS::AtLeastOnce, false, payload.clone())
                    .await
                    .expect("publish");
            }
            publisher
        });
        let pumping = tokio::spawn(async move { while pub_loop.poll().await.is_ok() {} });
        let mut received = 0;
        while received < messages {
            match tokio::time::timeout(GIVE_UP, sub_loop.poll()).await {
                Ok(Ok(MqttEvent::Incoming(Packet::Publish(_)))) => received += 1,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("the subscriber lost its connection: {e}"),
                Err(_) => panic!("plain publishes stalled after {received} of {messages}"),
            }
        }
        let elapsed = started.elapsed();
        let _ = feeder.await;
        pumping.abort();
        Plain { messages, elapsed }
    })
}
