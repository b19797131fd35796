//! Dashboard benchmarks, each measured beside its unavoidable baseline in the same run:
//!
//! 1. Ingest: signed batches from several gateways go through mosquitto to the dashboard,
//!    which verifies, stores (SQLite, fsync per commit) and acks each; beside it, the same
//!    messages through the same broker to a plain subscriber that does nothing with them
//!    (DESIGN.md: ingest at no less than half the rate the broker alone delivers).
//! 2. Ingest under a login flood: the same ingest alone, then while 50 logins a second hit the
//!    HTTP API over TCP (with the default throttle, and with throttling off so that every
//!    login's argon2 check runs), each as a rate and as a ratio to the rate alone (issue #11:
//!    ingest keeps its rate while logins arrive).
//! 3. Audit: query latency (p50/p99) over `BYGD_BENCH_AUDIT_ROWS` stored entries (default ten
//!    million) for the queries operators run: the newest page, one member, one door, denied
//!    entries, a day in the middle, and paging deep with a cursor (DESIGN.md: under 100 ms).
//!
//! Prints figures; asserts nothing about time. `cargo bench -p bygd-dashboard --bench ingest`.
//! Without `--bench` (as `cargo test --benches` runs it) it runs small, as a smoke test.

use bygd_dashboard::{Dashboard, EntryFilter, LoginLimits, NewGateway, Principal};
use bygd_protocol::{
    sign_batch, ChainHead, ClockQuality, DoorId, EventBody, GatewayId, MemberId, PassId, PassKind,
    SecretKey, SiteId, UnixTime,
};
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use sqlx::Connection as _;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Gateways publishing at once.
const GATEWAYS: usize = 4;
/// Events per batch: the gateway's full batch.
const EVENTS_PER_BATCH: usize = 256;
/// The longest a measurement may take before the benchmark gives up.
const GIVE_UP: Duration = Duration::from_secs(900);
/// Runs of each audit query.
const QUERY_RUNS: usize = 50;
/// The login load of issue #11: 50 logins a second on the HTTP API.
const LOGINS_PER_SECOND: u64 = 50;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let batches: usize = env_or("BYGD_BENCH_BATCHES", if quick { 8 } else { 100 });
    let rows: u64 = env_or(
        "BYGD_BENCH_AUDIT_ROWS",
        if quick { 20_000 } else { 10_000_000 },
    );
    let rounds: usize = env_or("BYGD_BENCH_ROUNDS", if quick { 1 } else { 5 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match bygd_testkit::Mosquitto::start("the ingest benchmark") {
            Some(broker) => {
                ingest(&broker, batches).await;
                ingest_under_logins(&broker, batches, rounds).await;
            }
            None => println!("ingest: mosquitto is not installed; ingest not measured"),
        }
        audit(rows).await;
    });
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key(i: usize) -> SecretKey {
    SecretKey::from_seed(&[u8::try_from(i + 1).unwrap(); 32])
}

/// `batches` signed batches per gateway: (topic, payload), interleaved across gateways as
/// concurrent gateways would send them.
fn batches_for(batches: usize) -> Vec<(String, Vec<u8>)> {
    let site = SiteId::new("byn").unwrap();
    let mut per_gateway = Vec::new();
    for g in 0..GATEWAYS {
        let gateway = GatewayId::new(&format!("gw{g}")).unwrap();
        let topic = bygd_protocol::Topic::gateway(&site, &gateway, bygd_protocol::TopicKind::Event)
            .to_string();
        let mut head = ChainHead::default();
        let mut out = Vec::new();
        for b in 0..batches {
            let mut events = Vec::new();
            for e in 0..EVENTS_PER_BATCH {
                let body = EventBody::EntryGranted {
                    door: DoorId::new("front").unwrap(),
                    pass_id: PassId([u8::try_from((b * 7 + e) % 251).unwrap(); 16]),
                    member: MemberId::new(&format!("member-{}", (b * EVENTS_PER_BATCH + e) % 500))
                        .unwrap(),
                    kind: PassKind::Member,
                    device_bound: false,
                };
                let (_, bytes, next) =
                    head.append(UnixTime(now()), ClockQuality::Synchronised, body);
                head = next;
                events.push(bytes);
            }
            let refs: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
            out.push((topic.clone(), sign_batch(&site, &gateway, &refs, &key(g))));
        }
        per_gateway.push(out);
    }
    (0..batches)
        .flat_map(|b| per_gateway.iter().map(move |g| g[b].clone()))
        .collect()
}

async fn client(port: u16, id: &str) -> (AsyncClient, rumqttc::EventLoop) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 100_000);
    eventloop.network_options.set_tcp_nodelay(true);
    (client, eventloop)
}

/// Publishes every message at QoS 1 and drives the publisher's event loop until all are acked.
async fn publish_all(port: u16, messages: &[(String, Vec<u8>)]) {
    let (client, mut eventloop) = client(port, "bench-publisher").await;
    let total = messages.len();
    let sender = {
        let client = client.clone();
        let messages = messages.to_vec();
        tokio::spawn(async move {
            for (topic, payload) in messages {
                client
                    .publish(topic, QoS::AtLeastOnce, false, payload)
                    .await
                    .unwrap();
            }
        })
    };
    let mut acked = 0;
    while acked < total {
        if let Ok(MqttEvent::Incoming(Packet::PubAck(_))) = eventloop.poll().await {
            acked += 1;
        }
    }
    sender.await.unwrap();
}

async fn ingest(broker: &bygd_testkit::Mosquitto, batches: usize) {
    use bygd_testkit::Broker as _;
    let messages = batches_for(batches);
    let events = messages.len() * EVENTS_PER_BATCH;
    let bytes: usize = messages.iter().map(|(_, p)| p.len()).sum();

    // Baseline: a subscriber that only counts.
    let (sub, mut sub_loop) = client(broker.port(), "bench-plain").await;
    sub.subscribe("bygd/v1/+/+/event", QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        if let Ok(MqttEvent::Incoming(Packet::SubAck(_))) = sub_loop.poll().await {
            break;
        }
    }
    let total = messages.len();
    let counter = tokio::spawn(async move {
        let mut got = 0;
        let mut first = None;
        while got < total {
            if let Ok(MqttEvent::Incoming(Packet::Publish(_))) = sub_loop.poll().await {
                first.get_or_insert_with(Instant::now);
                got += 1;
            }
        }
        let _ = sub.disconnect().await;
        Instant::now()
    });
    let started = Instant::now();
    publish_all(broker.port(), &messages).await;
    let plain = tokio::time::timeout(GIVE_UP, counter)
        .await
        .unwrap()
        .unwrap()
        - started;

    // The dashboard: verify, store, ack.
    let dir = tempfile::tempdir().unwrap();
    let (dashboard, _) = Dashboard::init(&dir.path().join("data"), None, "admin")
        .await
        .unwrap();
    let admin = Principal::local_admin();
    register_gateways(&dashboard).await;
    let link = link_settings(&broker.url(), "bench-dashboard");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, server) = serve_linked(&dashboard, listener, link).await;
    let want = u64::try_from(batches * EVENTS_PER_BATCH).unwrap();
    let started = Instant::now();
    publish_all(broker.port(), &messages).await;
    loop {
        let heads = dashboard.gateways().list(&admin).await.unwrap();
        if heads.iter().all(|g| g.head_seq == want) {
            break;
        }
        assert!(
            started.elapsed() < GIVE_UP,
            "ingest gave up: {:?}",
            heads.iter().map(|g| g.head_seq).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stored = started.elapsed();
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let plain_rate = events as f64 / plain.as_secs_f64();
    let ingest_rate = events as f64 / stored.as_secs_f64();
    println!(
        "ingest: {} batches of {EVENTS_PER_BATCH} events ({} bytes each) from {GATEWAYS} gateways through mosquitto",
        messages.len(),
        bytes / messages.len()
    );
    println!(
        "  plain subscriber: {:.3} s = {plain_rate:.0} events/s ({:.0} messages/s)",
        plain.as_secs_f64(),
        messages.len() as f64 / plain.as_secs_f64()
    );
    println!(
        "  dashboard (verify + store + ack, SQLite): {:.3} s = {ingest_rate:.0} events/s",
        stored.as_secs_f64()
    );
    println!("  ratio: the dashboard ingests at {:.3} of the rate the broker delivers to a plain subscriber", ingest_rate / plain_rate);
}

/// What the login load got back.
#[derive(Default)]
struct LoginTally {
    sent: usize,
    ok: usize,
    throttled: usize,
    other: usize,
    latencies: Vec<Duration>,
}

/// One measured ingest: how long storing took, and what the logins meanwhile got.
type Run = (Duration, LoginTally);

/// One login over a fresh TCP connection, as a browser or script sends it; the status.
async fn login_over_http(server: std::net::SocketAddr, password: &str) -> u16 {
    let Ok(mut stream) = tokio::net::TcpStream::connect(server).await else {
        return 0;
    };
    let body = serde_json::json!({ "name": "admin", "password": password }).to_string();
    let request = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: bygd\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Registers the `GATEWAYS` gateways (`gw0`, `gw1`, ...) at site `byn`, each with one door.
async fn register_gateways(dashboard: &Dashboard) {
    let admin = Principal::local_admin();
    for g in 0..GATEWAYS {
        dashboard
            .gateways()
            .register(
                &admin,
                &NewGateway {
                    site: "byn".into(),
                    id: format!("gw{g}"),
                    public_key: key(g).public_key().to_hex(),
                    doors: vec!["front".into()],
                    time_zone: None,
                },
            )
            .await
            .unwrap();
    }
}

/// The dashboard's link to the broker at `broker_url` as client `client_id`, without beacons.
fn link_settings(broker_url: &str, client_id: &str) -> bygd_dashboard::LinkSettings {
    let mut mqtt = bygd_dashboard::config::DashboardMqtt::new(broker_url);
    mqtt.client_id = client_id.into();
    bygd_dashboard::LinkSettings {
        mqtt,
        beacon_seconds: 0,
        revocation_refresh_hours: 12,
        revocation_lag_alarm_minutes: 30,
    }
}

/// Serves `dashboard` on `listener` with `link` and waits until it is connected and
/// subscribed. Sending on the returned channel stops it; the task then ends with the result.
async fn serve_linked(
    dashboard: &Dashboard,
    listener: tokio::net::TcpListener,
    link: bygd_dashboard::LinkSettings,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bygd_dashboard::serve(
        dashboard.clone(),
        listener,
        Some(link),
        async move {
            let _ = stopped.await;
        },
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dashboard.link_connected() {
        assert!(Instant::now() < deadline, "the dashboard did not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Its subscription is made right after connecting; give the broker a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    (stop, server)
}

/// Ingests `messages` into a fresh dashboard, with `LOGINS_PER_SECOND` logins hitting its
/// HTTP API meanwhile when `logins` names the limits to run them under; the time to store
/// every event, and what the logins got.
async fn timed_ingest(
    broker: &bygd_testkit::Mosquitto,
    messages: &[(String, Vec<u8>)],
    batches: usize,
    client_id: &str,
    logins: Option<LoginLimits>,
) -> (Duration, LoginTally) {
    use bygd_testkit::Broker as _;
    let dir = tempfile::tempdir().unwrap();
    let (dashboard, done) = Dashboard::init(&dir.path().join("data"), None, "admin")
        .await
        .unwrap();
    let dashboard = dashboard.with_login_limits(&logins.clone().unwrap_or_default());
    let admin = Principal::local_admin();
    register_gateways(&dashboard).await;
    let link = link_settings(&broker.url(), client_id);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = listener.local_addr().unwrap();
    let (stop, server) = serve_linked(&dashboard, listener, link).await;

    // The login load: one login every 1/50 s, each on its own task so that slow answers
    // do not slow the rate, until ingest is done.
    let (load_stop, mut load_stopped) = tokio::sync::watch::channel(false);
    let load = logins.map(|_| {
        let password = done.password.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_micros(1_000_000 / LOGINS_PER_SECOND));
            let mut running = Vec::new();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = load_stopped.wait_for(|s| *s) => break,
                }
                let password = password.clone();
                running.push(tokio::spawn(async move {
                    let t = Instant::now();
                    (login_over_http(http, &password).await, t.elapsed())
                }));
            }
            let mut tally = LoginTally::default();
            for r in running {
                let (status, took) = r.await.unwrap();
                tally.sent += 1;
                match status {
                    200 => tally.ok += 1,
                    429 => tally.throttled += 1,
                    _ => tally.other += 1,
                }
                tally.latencies.push(took);
            }
            tally
        })
    });

    let want = u64::try_from(batches * EVENTS_PER_BATCH).unwrap();
    let started = Instant::now();
    publish_all(broker.port(), messages).await;
    loop {
        let heads = dashboard.gateways().list(&admin).await.unwrap();
        if heads.iter().all(|g| g.head_seq == want) {
            break;
        }
        assert!(started.elapsed() < GIVE_UP, "ingest gave up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stored = started.elapsed();
    let _ = load_stop.send(true);
    let tally = match load {
        Some(task) => task.await.unwrap(),
        None => LoginTally::default(),
    };
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    (stored, tally)
}

async fn ingest_under_logins(broker: &bygd_testkit::Mosquitto, batches: usize, rounds: usize) {
    let messages = batches_for(batches);
    let events = (messages.len() * EVENTS_PER_BATCH) as f64;
    println!(
        "ingest under logins: {} batches of {EVENTS_PER_BATCH} events, {LOGINS_PER_SECOND} logins/s over HTTP meanwhile, {rounds} rounds",
        messages.len()
    );
    // Rounds interleave the three cases, so that drift of the machine (other work, the
    // broker's queues) touches each alike; each case reports its median round.
    let mut cases: [(&str, Option<LoginLimits>, Vec<Run>); 3] = [
        ("alone (no logins)", None, Vec::new()),
        ("default throttle", Some(LoginLimits::default()), Vec::new()),
        (
            "no throttle (every login hashed)",
            Some(LoginLimits::unthrottled()),
            Vec::new(),
        ),
    ];
    for round in 0..rounds {
        for (i, (_, limits, runs)) in cases.iter_mut().enumerate() {
            let client = format!("bench-logins-{round}-{i}");
            runs.push(timed_ingest(broker, &messages, batches, &client, limits.clone()).await);
        }
    }
    let median = |runs: &mut Vec<Run>| {
        runs.sort_by_key(|(took, _)| *took);
        runs.swap_remove(runs.len() / 2)
    };
    let mut medians: Vec<(&str, Duration, LoginTally, Vec<f64>)> = Vec::new();
    for (name, _, runs) in &mut cases {
        let all: Vec<f64> = runs.iter().map(|(t, _)| events / t.as_secs_f64()).collect();
        let (took, tally) = median(runs);
        medians.push((name, took, tally, all));
    }
    let alone_rate = events / medians[0].1.as_secs_f64();
    for (name, took, mut tally, all) in medians {
        let rate = events / took.as_secs_f64();
        let all: Vec<String> = all.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "  {name:<33} median {rate:.0} events/s, ratio to alone {:.3} (rounds: {})",
            rate / alone_rate,
            all.join(", ")
        );
        if tally.sent == 0 {
            continue;
        }
        tally.latencies.sort();
        println!(
            "    logins in the median round: {} sent ({:.0}/s): {} ok, {} throttled (429), {} other; latency p50 {:.1} ms, p99 {:.1} ms",
            tally.sent,
            tally.sent as f64 / took.as_secs_f64(),
            tally.ok,
            tally.throttled,
            tally.other,
            percentile(&tally.latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&tally.latencies, 0.99).as_secs_f64() * 1e3
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn audit(rows: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (dashboard, _) = Dashboard::init(&dir.path().join("data"), None, "admin")
        .await
        .unwrap();
    let url = format!(
        "sqlite:{}?mode=rw",
        dir.path().join("data").join("bygd.db").display()
    );
    let base = 1_700_000_000u64;
    println!(
        "audit: writing {rows} entries (4 gateways, 8 doors, 5,000 members, one in ten denied) …"
    );
    let fill = Instant::now();
    {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(&mut conn)
            .await
            .unwrap();
        const CHUNK: u64 = 1_000_000;
        let mut done = 0;
        while done < rows {
            let n = CHUNK.min(rows - done);
            // One entry every 3 seconds across the network, newest last.
            let sql = format!(
                "WITH RECURSIVE c(x) AS (SELECT {start} UNION ALL SELECT x + 1 FROM c WHERE x < {end}) \
                 INSERT INTO events (site, gateway, seq, time, clock, kind, outcome, door, member, pass_id, reason, \
                 command_id, bytes, hash, received_at) \
                 SELECT 'byn', 'gw' || (x % 4), x, {base} + x * 3, 'synchronised', \
                 CASE WHEN x % 10 = 0 THEN 'entry_denied' ELSE 'entry_granted' END, \
                 CASE WHEN x % 10 = 0 THEN 'denied' ELSE 'granted' END, 'door-' || (x % 8), 'member-' || (x % 5000), \
                 printf('%032x', x), CASE WHEN x % 10 = 0 THEN 'revoked' ELSE NULL END, NULL, '', '', {base} FROM c",
                start = done + 1,
                end = done + n,
            );
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
            done += n;
            println!(
                "  {done} of {rows} written ({:.0} s)",
                fill.elapsed().as_secs_f64()
            );
        }
        sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
    }
    let admin = Principal::local_admin();
    let mid = i64::try_from(base + rows * 3 / 2).unwrap();
    let newest = dashboard
        .entries()
        .audit(
            &admin,
            &EntryFilter {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // A cursor 100 pages back, as deep paging reaches it.
    let mut deep = EntryFilter {
        limit: Some(1000),
        ..Default::default()
    };
    for _ in 0..10 {
        deep.cursor = dashboard.entries().audit(&admin, &deep).await.unwrap().next;
    }
    deep.limit = Some(100);
    let queries: Vec<(&str, EntryFilter)> = vec![
        (
            "newest 100",
            EntryFilter {
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "one member",
            EntryFilter {
                member: Some("member-4242".into()),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "one door",
            EntryFilter {
                site: Some("byn".into()),
                door: Some("door-3".into()),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "denied",
            EntryFilter {
                outcome: Some("denied".into()),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "a day in the middle",
            EntryFilter {
                since: Some(mid),
                until: Some(mid + 86_400),
                limit: Some(100),
                ..Default::default()
            },
        ),
        (
            "one member in a day",
            EntryFilter {
                member: Some("member-77".into()),
                since: Some(mid),
                until: Some(mid + 86_400),
                limit: Some(100),
                ..Default::default()
            },
        ),
        ("page 11 by cursor", deep),
    ];
    assert_eq!(
        newest.entries.len(),
        100.min(usize::try_from(rows).unwrap())
    );
    println!(
        "audit: {rows} entries written in {:.1} s; each query {QUERY_RUNS} times, 100 rows a page:",
        fill.elapsed().as_secs_f64()
    );
    for (name, filter) in queries {
        let mut times = Vec::with_capacity(QUERY_RUNS);
        let mut found = 0;
        for _ in 0..QUERY_RUNS {
            let t = Instant::now();
            found = dashboard
                .entries()
                .audit(&admin, &filter)
                .await
                .unwrap()
                .entries
                .len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "  {name:<22} p50 {:>8.2} ms  p99 {:>8.2} ms  ({found} rows)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3
        );
    }
}
