//! The gateway's decision benchmark (issue 4, "Tests and measurements"): a bench binary that
//! prints, from one run, with 1,000,000 revoked pass ids in the store:
//!
//! - decision latency, p50 and p99, from sending the QR text on the control socket to the
//!   reply, which the core sends only after the entry's durable commit and the door command;
//! - the bare cost of the same decision: the pass's Ed25519 `verify_strict` over its rebuilt
//!   Sig_structure plus one durable redb commit of one small insert in a fresh file in the same
//!   data directory, and the ratio of the two (DESIGN.md's target: p99 within 1.5x);
//! - the decision in two halves, in-process on a fresh store through the gateway's own code:
//!   the gate alone (the pure decision, no write) and the commit of its writes, each also as a
//!   ratio to `verify_strict`;
//! - decisions per second in a concurrent burst;
//! - the daemon's resident memory (VmRSS, and VmHWM, its peak).
//!
//! The bare cost and the decisions are measured in alternating rounds, so that whatever else
//! the machine does weighs on both alike. Nothing here asserts a time: it prints figures.
//!
//! Run with `cargo bench -p bygd-gateway --bench decision`. Environment:
//! `BYGD_BENCH_REVOKED` (revoked ids, default 1,000,000), `BYGD_BENCH_SAMPLES` (sequential
//! decisions and bare samples each, default 1,000), `BYGD_BENCH_BURST` (burst presentations,
//! default 4,000), `BYGD_BENCH_DIR` (where the data directory goes; default the system temp
//! dir: put it on the disk you mean to measure, since the fsync is most of the cost).

use bygd_gateway::{Config, Store};
use bygd_protocol::{
    encode_qr, DoorId, MemberId, PassClaims, PassId, PassKind, Presentation, RevocationList,
    SecretKey, SiteId, SiteScope, UnixTime,
};
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon under measurement (built by cargo, in the bench profile, before this binary).
const BINARY: &str = env!("CARGO_BIN_EXE_bygd-gateway");

/// The number of revoked ids DESIGN.md says a gateway holds without slowing a decision.
const DEFAULT_REVOKED: usize = 1_000_000;
/// Sequential samples: enough that p99 rests on ten observations.
const DEFAULT_SAMPLES: usize = 1_000;
/// Presentations in the burst.
const DEFAULT_BURST: usize = 4_000;
/// Concurrent clients in the burst: more than the core folds into one commit is pointless,
/// fewer would not show the folding.
const BURST_CLIENTS: usize = 32;
/// Rounds the sequential samples are split into, alternating bare cost and decisions.
const ROUNDS: usize = 10;
/// Revoked ids per revocation list (one full list, then deltas): one transaction each.
const IDS_PER_LIST: usize = 100_000;
/// Payload of the bare commit's insert: about an entry-granted event's encoded size.
const BARE_INSERT_BYTES: usize = 160;
/// How long the daemon may take to start on a large store.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The signature context of a pass (SPEC.md): the Sig_structure's external AAD.
const PASS_CONTEXT: &[u8] = b"bygd/v1/pass";

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Distinct, well-spread pass ids without an RNG dependency (splitmix64).
fn pass_id(n: u64) -> PassId {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix(2 * n).to_be_bytes());
    id[8..].copy_from_slice(&mix(2 * n + 1).to_be_bytes());
    PassId(id)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Fills the store with `count` revoked ids through the store's own write path: a full list
/// and then deltas, one transaction each.
fn populate(data_dir: &Path, issuer: &SecretKey, count: usize) -> Duration {
    let started = Instant::now();
    let (store, _) = Store::open(data_dir, false).expect("open the store");
    let now = now();
    let mut version = 0u64;
    for chunk_start in (0..count).step_by(IDS_PER_LIST) {
        let chunk_end = (chunk_start + IDS_PER_LIST).min(count);
        version += 1;
        let list = RevocationList {
            version,
            base: (version > 1).then(|| version - 1),
            issued_at: UnixTime(now),
            expires: UnixTime(now + 7 * 86_400),
            revoked_passes: (chunk_start..chunk_end)
                .map(|n| pass_id(n as u64))
                .collect(),
            ..RevocationList::empty(SiteId::new("byn").expect("a valid site id"))
        };
        let mut txn = store.begin().expect("begin");
        txn.apply_revocations(issuer.id(), &list).expect("store");
        txn.commit().expect("commit");
    }
    started.elapsed()
}

fn config_text(issuer: &SecretKey) -> String {
    format!(
        r#"site = "byn"
gateway = "bench"
data_dir = "data"
key_file = "gateway.key"
time_zone = "Europe/Stockholm"
hardware = "simulated"
socket = "gw.sock"

[[issuer]]
public_key = "{}"

[[door]]
id = "front"
lock_pin = 17
sensor_pin = 27

[[door]]
id = "workshop"
lock_pin = 5
sensor_pin = 6
"#,
        issuer.public_key().to_hex()
    )
}

fn request(socket: &Path, line: &str) -> std::io::Result<serde_json::Value> {
    let mut stream = UnixStream::connect(socket)?;
    stream.write_all(line.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    serde_json::from_str(&reply).map_err(std::io::Error::other)
}

fn present_line(door: &str, text: &str) -> String {
    format!(
        "{}\n",
        serde_json::json!({ "op": "present", "door": door, "text": text })
    )
}

/// One timed decision: QR text out, reply in.
fn decide(socket: &Path, line: &str) -> Duration {
    let started = Instant::now();
    let reply = request(socket, line).expect("the daemon answers");
    let took = started.elapsed();
    assert_eq!(reply["decision"], "granted", "{reply}");
    took
}

/// The decision in two halves, measured in the same rounds, in-process through the gateway's
/// own code on a second, fresh store: the gate alone (decode, signature check, revocation and
/// lockdown lookups through the open transaction; no write), and the commit of what it decided
/// (the entry appended to log and outbox, the clock floor and the chain head, one fsync). Also
/// one small commit in a fresh file opened as the daemon opens its store (redb's single-writer
/// mode, which lets `log` and `verify-log` read beside it).
struct Diagnostics {
    store: Store,
    decider: bygd_gateway::decision_bench::Decider,
    door: DoorId,
    text: String,
    single_writer: redb::Database,
    next: u64,
}

impl Diagnostics {
    fn new(dir: &Path, config: Config, text: &str) -> Self {
        let (store, _) = Store::open(&dir.join("diagnostic-store"), false).expect("a store");
        let single_writer = redb::Builder::new()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .create(dir.join("bare-single-writer.redb"))
            .expect("a fresh redb file");
        Self {
            store,
            decider: bygd_gateway::decision_bench::Decider::new(config, UnixTime(now())),
            door: DoorId::new("front").expect("valid id"),
            text: text.to_owned(),
            single_writer,
            next: 0,
        }
    }

    /// (gate, commit, single-writer commit) of one sample.
    fn sample(&mut self) -> (Duration, Duration, Duration) {
        self.next += 1;
        let txn = self.store.begin().expect("begin");
        let started = Instant::now();
        let decided = self.decider.decide(
            &txn,
            UnixTime(now()),
            &self.door,
            std::hint::black_box(&self.text),
        );
        let gate = started.elapsed();
        assert!(decided.granted, "the gate grants the bench's pass");
        let started = Instant::now();
        self.decider.commit(txn, decided).expect("commit");
        let commit = started.elapsed();
        let started = Instant::now();
        let txn = self.single_writer.begin_write().expect("begin");
        {
            let mut table = txn.open_table(BARE_TABLE).expect("table");
            table
                .insert(self.next, [0x5a; BARE_INSERT_BYTES].as_slice())
                .expect("insert");
        }
        txn.commit().expect("durable commit");
        (gate, commit, started.elapsed())
    }
}

/// The bare cost: the pass's signature check and one durable commit in a fresh redb file.
struct Bare {
    tbs: Vec<u8>,
    signature: ed25519_dalek::Signature,
    key: ed25519_dalek::VerifyingKey,
    db: redb::Database,
    next: u64,
}

const BARE_TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("bare");

impl Bare {
    fn new(pass: &[u8], issuer: &SecretKey, dir: &Path) -> Self {
        use coset::CborSerializable as _;
        let sign1 = coset::CoseSign1::from_slice(pass).expect("a COSE_Sign1");
        let tbs = sign1.tbs_data(PASS_CONTEXT);
        let signature = ed25519_dalek::Signature::from_slice(&sign1.signature).expect("64 bytes");
        let key = ed25519_dalek::VerifyingKey::from_bytes(&issuer.public_key().to_bytes())
            .expect("a valid key");
        key.verify_strict(&tbs, &signature)
            .expect("the rebuilt Sig_structure verifies");
        let db = redb::Database::create(dir.join("bare.redb")).expect("a fresh redb file");
        Self {
            tbs,
            signature,
            key,
            db,
            next: 0,
        }
    }

    /// (signature check, durable commit) of one sample.
    fn sample(&mut self) -> (Duration, Duration) {
        let started = Instant::now();
        self.key
            .verify_strict(std::hint::black_box(&self.tbs), &self.signature)
            .expect("verifies");
        let verified = started.elapsed();
        let started = Instant::now();
        let txn = self.db.begin_write().expect("begin");
        {
            let mut table = txn.open_table(BARE_TABLE).expect("table");
            table
                .insert(self.next, [0x5a; BARE_INSERT_BYTES].as_slice())
                .expect("insert");
        }
        txn.commit().expect("durable commit");
        self.next += 1;
        (verified, started.elapsed())
    }
}

fn proc_status(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing here.
    let revoked = env_count("BYGD_BENCH_REVOKED", DEFAULT_REVOKED);
    let samples = env_count("BYGD_BENCH_SAMPLES", DEFAULT_SAMPLES).max(ROUNDS);
    let burst = env_count("BYGD_BENCH_BURST", DEFAULT_BURST);
    let base = std::env::var_os("BYGD_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::Builder::new()
        .prefix("bygd-bench")
        .tempdir_in(&base)
        .expect("a temporary directory");
    let data_dir = dir.path().join("data");
    let config = dir.path().join("gateway.toml");
    let socket = dir.path().join("gw.sock");
    let issuer = SecretKey::from_seed(&[0x11; 32]);
    std::fs::write(&config, config_text(&issuer)).expect("write the config");
    let keygen = Command::new(BINARY)
        .args(["keygen", "--out"])
        .arg(dir.path().join("gateway.key"))
        .output()
        .expect("run keygen");
    assert!(keygen.status.success(), "keygen: {keygen:?}");

    println!("bygd-gateway decision benchmark");
    println!("  binary: {BINARY}");
    println!("  data directory: {}", data_dir.display());
    println!(
        "  revoked pass ids: {revoked}, sequential samples: {samples}, burst: {burst} from {BURST_CLIENTS} clients"
    );

    let took = populate(&data_dir, &issuer, revoked);
    let store_bytes = std::fs::metadata(data_dir.join("gateway.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "  store populated in {:.1} s: {:.1} MiB",
        took.as_secs_f64(),
        store_bytes as f64 / (1024.0 * 1024.0)
    );
    let started = Instant::now();
    drop(Store::open(&data_dir, false).expect("reopen"));
    let plain_open = started.elapsed();
    let started = Instant::now();
    drop(
        redb::Builder::new()
            .set_check_integrity_on_open(true)
            .create(data_dir.join("gateway.redb"))
            .expect("integrity-checked open"),
    );
    let checked_open = started.elapsed();
    println!(
        "  opening the store (warm page cache): {} with the tail check, {} with redb's full integrity check",
        ms(plain_open),
        ms(checked_open)
    );

    let log = std::fs::File::create(dir.path().join("daemon.stderr")).expect("daemon log");
    let started = Instant::now();
    let daemon = Daemon(
        Command::new(BINARY)
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the daemon"),
    );
    let status_line = "{\"op\":\"status\"}\n";
    while request(&socket, status_line).is_err() {
        assert!(
            started.elapsed() < START_TIMEOUT,
            "the daemon did not start; see {}",
            dir.path().join("daemon.stderr").display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("  daemon answering after {}", ms(started.elapsed()));
    let pid = daemon.0.id();

    let now = now();
    let claims = |member: &str, n: u64| PassClaims {
        member: MemberId::new(member).expect("valid id"),
        pass_id: pass_id(u64::MAX - n),
        not_before: UnixTime(now - 3600),
        expires: UnixTime(now + 86_400),
        kind: PassKind::Member,
        scope: vec![SiteScope::all_doors(SiteId::new("byn").expect("valid id"))],
        schedule: None,
        device_key: None,
    };
    let pass = claims("anna", 0).issue(&issuer);
    let text = encode_qr(&Presentation {
        pass: pass.clone(),
        proof: None,
    });
    let line = present_line("front", &text);
    // The store really holds the list: a revoked id is refused.
    let revoked_text = encode_qr(&Presentation {
        pass: PassClaims {
            pass_id: pass_id((revoked as u64).saturating_sub(1)),
            ..claims("bertil", 1)
        }
        .issue(&issuer),
        proof: None,
    });
    if revoked > 0 {
        let reply = request(&socket, &present_line("front", &revoked_text)).expect("reply");
        assert_eq!(reply["reason"], "revoked", "{reply}");
    }
    // Warm both paths up.
    let mut bare = Bare::new(&pass, &issuer, &data_dir);
    let mut diagnostics = Diagnostics::new(
        dir.path(),
        Config::parse(&config_text(&issuer), &config).expect("the bench's config"),
        &text,
    );
    for _ in 0..20 {
        decide(&socket, &line);
        bare.sample();
        diagnostics.sample();
    }
    let mut gate_only = Vec::with_capacity(samples);
    let mut gate_commit = Vec::with_capacity(samples);
    let mut single_writer = Vec::with_capacity(samples);

    let mut decisions = Vec::with_capacity(samples);
    let mut bare_total = Vec::with_capacity(samples);
    let mut bare_sig = Vec::with_capacity(samples);
    let mut bare_commit = Vec::with_capacity(samples);
    for round in 0..ROUNDS {
        let n = samples / ROUNDS + usize::from(round < samples % ROUNDS);
        for _ in 0..n {
            let (sig, commit) = bare.sample();
            bare_sig.push(sig);
            bare_commit.push(commit);
            bare_total.push(sig + commit);
        }
        for _ in 0..n {
            decisions.push(decide(&socket, &line));
        }
        for _ in 0..n {
            let (gated, committed, single) = diagnostics.sample();
            gate_only.push(gated);
            gate_commit.push(committed);
            single_writer.push(single);
        }
    }
    for v in [
        &mut decisions,
        &mut bare_total,
        &mut bare_sig,
        &mut bare_commit,
        &mut gate_only,
        &mut gate_commit,
        &mut single_writer,
    ] {
        v.sort();
    }
    let (d50, d99) = (percentile(&decisions, 50.0), percentile(&decisions, 99.0));
    let (b50, b99) = (percentile(&bare_total, 50.0), percentile(&bare_total, 99.0));

    // The burst: every client presents as fast as the daemon answers.
    let per_client = burst.div_ceil(BURST_CLIENTS);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(BURST_CLIENTS + 1));
    let clients: Vec<_> = (0..BURST_CLIENTS)
        .map(|c| {
            let socket = socket.clone();
            let barrier = barrier.clone();
            let line = present_line(if c % 2 == 0 { "front" } else { "workshop" }, &text);
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..per_client {
                    decide(&socket, &line);
                }
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for client in clients {
        client.join().expect("burst client");
    }
    let burst_took = started.elapsed();
    let burst_done = per_client * BURST_CLIENTS;

    let rss = proc_status(pid, "VmRSS:");
    let hwm = proc_status(pid, "VmHWM:");
    let head = request(&socket, status_line).expect("status")["core"]["head_seq"].clone();

    println!();
    println!("decision, QR text to reply after commit and door command ({samples} sequential):");
    println!("  p50 {}   p99 {}", ms(d50), ms(d99));
    println!("bare cost, verify_strict + one durable redb commit ({samples} samples):");
    println!("  p50 {}   p99 {}", ms(b50), ms(b99));
    println!(
        "    of which verify_strict p50 {}, commit p50 {} (p99 {})",
        ms(percentile(&bare_sig, 50.0)),
        ms(percentile(&bare_commit, 50.0)),
        ms(percentile(&bare_commit, 99.0))
    );
    println!(
        "ratio decision / bare: p50 {:.2}x   p99 {:.2}x   (target: p99 within 1.5x)",
        d50.as_secs_f64() / b50.as_secs_f64(),
        d99.as_secs_f64() / b99.as_secs_f64()
    );
    let (s50, s99) = (percentile(&bare_sig, 50.0), percentile(&bare_sig, 99.0));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("the decision in two halves, in-process, fresh store, same rounds ({samples} samples each):");
    println!(
        "  the gate alone (pure decision, lookups through the open transaction): p50 {}   p99 {}   = {:.2}x / {:.2}x verify_strict",
        ms(percentile(&gate_only, 50.0)),
        ms(percentile(&gate_only, 99.0)),
        ratio(percentile(&gate_only, 50.0), s50),
        ratio(percentile(&gate_only, 99.0), s99)
    );
    println!(
        "  the commit of its writes (log, outbox, floor, head, one fsync): p50 {}   p99 {}   = {:.1}x / {:.1}x verify_strict",
        ms(percentile(&gate_commit, 50.0)),
        ms(percentile(&gate_commit, 99.0)),
        ratio(percentile(&gate_commit, 50.0), s50),
        ratio(percentile(&gate_commit, 99.0), s99)
    );
    println!(
        "  one small commit, fresh file in single-writer mode: p50 {}   p99 {}",
        ms(percentile(&single_writer, 50.0)),
        ms(percentile(&single_writer, 99.0))
    );
    let single_writer_bare: Vec<Duration> = {
        let mut v: Vec<Duration> = bare_sig
            .iter()
            .zip(&single_writer)
            .map(|(s, c)| *s + *c)
            .collect();
        v.sort();
        v
    };
    println!(
        "  ratio decision / (verify_strict + single-writer commit): p50 {:.2}x   p99 {:.2}x",
        d50.as_secs_f64() / percentile(&single_writer_bare, 50.0).as_secs_f64(),
        d99.as_secs_f64() / percentile(&single_writer_bare, 99.0).as_secs_f64()
    );
    println!(
        "burst: {burst_done} decisions from {BURST_CLIENTS} clients in {:.2} s: {:.0} decisions/s",
        burst_took.as_secs_f64(),
        burst_done as f64 / burst_took.as_secs_f64()
    );
    println!("daemon memory with {revoked} revoked ids: VmRSS {rss}, peak VmHWM {hwm}");
    println!("events logged in this run: {head}");
    drop(daemon);
}
