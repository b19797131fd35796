//! The gateway's durable store (redb): the hash-chained entry log, the outbox of undelivered
//! events, revocations, device-proof counters, command replay state, lockdowns and the clock
//! floor.
//!
//! Invariants:
//! - Every event is appended inside a write transaction that also puts it in the outbox and
//!   raises the clock floor; a decision's proof counter goes in the same transaction. The
//!   caller moves a relay only after [`Txn::commit`] returned, and redb commits with an
//!   fsync, so an entry that opened a door is on disk (DESIGN.md says why redb, not sled).
//! - The log is a hash chain from sequence 1 with no gaps; [`Store::open`] checks its tail and
//!   [`Store::verify_log`] checks all of it.
//! - A damaged store is never replaced silently: it is moved aside and opening fails.

use bygd_protocol::{
    hash_event, ChainHead, ClockQuality, CommandId, Event, EventBody, Hash, KeyId, MemberId,
    PassId, ProofCounters, ProofUse, RevocationList, Revocations, TrustedKeys, UnixTime,
    GENESIS_HASH,
};
use redb::{
    Database, ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _,
    TableDefinition,
};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// The store's file name inside the data directory.
pub(crate) const STORE_FILE: &str = "gateway.redb";

/// Events checked at start-up: enough to catch a torn or damaged tail after a power cut, few
/// enough to start in milliseconds with a million events stored.
const TAIL_CHECK_EVENTS: u64 = 64;

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const OUTBOX: TableDefinition<u64, ()> = TableDefinition::new("outbox");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const HEAD_HASH: TableDefinition<&str, &[u8]> = TableDefinition::new("head_hash");
/// Key: issuer key id (8 bytes) || pass id (16 bytes).
const REVOKED_PASSES: TableDefinition<&[u8], ()> = TableDefinition::new("revoked_passes");
/// Key: issuer key id (8 bytes) || member id (UTF-8).
const REVOKED_MEMBERS: TableDefinition<&[u8], ()> = TableDefinition::new("revoked_members");
/// Key: issuer key id; value: (version, issued at, expires).
const REVOCATION_VERSIONS: TableDefinition<&[u8], (u64, u64, u64)> =
    TableDefinition::new("revocation_versions");
/// Key: pass id; value: (last counter, its time step).
const PROOF_COUNTERS: TableDefinition<&[u8], (u64, u64)> = TableDefinition::new("proof_counters");
/// Key: command id; value: its expiry, for pruning.
const COMMAND_IDS: TableDefinition<&[u8], u64> = TableDefinition::new("command_ids");
/// Key: door id, or "*" for all doors; present = lockdown on.
const LOCKDOWNS: TableDefinition<&str, ()> = TableDefinition::new("lockdowns");

const META_HEAD_SEQ: &str = "head_seq";
const META_CLOCK_FLOOR: &str = "clock_floor";
const META_ACKED: &str = "acked_up_to";
const META_COMMAND_SEQ: &str = "command_seq";
/// The lowest revocation list version the operator allows (`run --revocation-min-version`),
/// kept so that a restart without the flag keeps the floor.
const META_REVOCATION_FLOOR: &str = "revocation_floor";
const HEAD_HASH_KEY: &str = "head";
/// The lockdown key meaning "every door".
pub(crate) const ALL_DOORS: &str = "*";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb reported an error.
    #[error("store {path}: {source}")]
    Db {
        /// The store file.
        path: PathBuf,
        /// The database error.
        source: Box<redb::Error>,
    },
    /// The store is damaged; it was moved aside and nothing was started.
    #[error(
        "the store {path} is damaged ({problem}); it was moved to {kept} and kept for inspection. \
         Nothing was started. To start with an empty store (the dashboard keeps every event it \
         already received), run again with --accept-fresh-store, and with \
         --revocation-min-version set to the site's current revocation list version so that \
         older lists stay refused"
    )]
    Damaged {
        /// The store file.
        path: PathBuf,
        /// What was wrong.
        problem: String,
        /// Where the damaged file is now.
        kept: PathBuf,
    },
    /// Another gateway process has the store open.
    #[error("the store {0} is in use by another bygd-gateway process; stop it first")]
    InUse(PathBuf),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A write was attempted on a store opened read-only.
    #[error("the store {0} is open read-only")]
    ReadOnly(PathBuf),
    /// The chain is broken at this sequence number.
    #[error("the entry log's hash chain is broken at event {seq}: {problem}")]
    Chain {
        /// The first bad event.
        seq: u64,
        /// What is wrong.
        problem: String,
    },
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The open store.
pub struct Store {
    db: Handle,
    path: PathBuf,
}

/// The daemon opens the store for writing; the CLI's `log` and `verify-log` open it read-only
/// beside the running daemon (redb's single-writer mode lets readers follow its commits).
enum Handle {
    Write(Database),
    Read(redb::ReadOnlyDatabase),
}

impl Handle {
    fn begin_read(&self) -> Result<redb::ReadTransaction, redb::TransactionError> {
        match self {
            Handle::Write(db) => db.begin_read(),
            Handle::Read(db) => db.begin_read(),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// What [`Store::open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenReport {
    /// The chain head.
    pub head: ChainHead,
    /// The persisted clock floor.
    pub clock_floor: UnixTime,
    /// Events not yet acknowledged by the dashboard.
    pub outbox_len: u64,
}

/// The data directory's mode: the gateway's account only. The store holds every entry of the
/// site (who came in when), and the revocation state an attacker would like to roll back.
const PRIVATE_DIR_MODE: u32 = 0o700;
/// The store file's mode: redb creates it with the umask's default (0644 under most shells).
const PRIVATE_FILE_MODE: u32 = 0o600;

/// Sets `path`'s permission bits, whatever the umask was when it was created; a failure is
/// logged, not fatal (the directory may belong to another account that lets this one in,
/// like a shared `/var/lib`). Not Unix: nothing.
fn make_private(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            tracing::warn!(path = %path.display(), mode = format_args!("{mode:o}"), error = %e,
                "cannot make the store owner-only; others on this machine may read it");
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

impl Store {
    /// Opens (or creates) the store in `dir`, checks the chain's tail, and reports the head.
    /// The directory is made 0700 and the store file 0600, whatever the umask.
    ///
    /// A damaged file is moved aside and [`StoreError::Damaged`] returned, unless
    /// `accept_fresh` is set, in which case the damaged file is moved aside and an empty store
    /// is created (the caller logs that loudly). A store missing because an earlier start
    /// moved it aside is refused the same way, so a restart loop never starts empty unasked.
    pub fn open(dir: &Path, accept_fresh: bool) -> Result<(Self, OpenReport)> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        make_private(dir, PRIVATE_DIR_MODE);
        let path = dir.join(STORE_FILE);
        if !accept_fresh && !path.exists() {
            // A store an earlier start moved aside is not replaced by an empty one just because
            // the service manager started the gateway again: that takes --accept-fresh-store.
            if let Some(kept) = damaged_files(dir).into_iter().max() {
                return Err(StoreError::Damaged {
                    path,
                    problem: "an earlier start found it damaged and moved it aside".into(),
                    kept,
                });
            }
        }
        match Self::open_guarded(&path) {
            Ok(opened) => Ok(opened),
            Err(StoreError::Damaged { problem, .. }) => {
                let kept = dir.join(format!(
                    "{STORE_FILE}.damaged-{}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0)
                ));
                std::fs::rename(&path, &kept).map_err(|source| StoreError::Dir {
                    path: path.clone(),
                    source,
                })?;
                if accept_fresh {
                    tracing::error!(store = %path.display(), kept = %kept.display(), %problem,
                        "store was damaged; moved aside and starting with an empty store");
                    Self::open_guarded(&path)
                } else {
                    Err(StoreError::Damaged {
                        path,
                        problem,
                        kept,
                    })
                }
            }
            Err(other) => Err(other),
        }
    }

    /// [`Self::open_checked`], with a panic inside redb (it has `unreachable!`s that a
    /// scribbled page reaches) reported as damage rather than a crash loop.
    fn open_guarded(path: &Path) -> Result<(Self, OpenReport)> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Self::open_checked(path)))
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(StoreError::Damaged {
                    path: path.to_owned(),
                    problem: format!("the database library failed reading it: {what}"),
                    kept: PathBuf::new(),
                })
            })
    }

    fn open_checked(path: &Path) -> Result<(Self, OpenReport)> {
        let damaged = |problem: String| StoreError::Damaged {
            path: path.to_owned(),
            problem,
            kept: PathBuf::new(),
        };
        // redb would quietly make an empty file a new database; an empty store file is one
        // whose contents were lost (a file system that dropped unflushed data), not a new one.
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Err(damaged("the file is empty".into()));
        }
        let db = match Database::builder()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            // Reads every page once at start-up (about 0.1 s for a million revoked ids on a
            // warm cache, longer from a cold SD card): damage the tail check cannot see would
            // otherwise surface as a failed write in the middle of a decision.
            .set_check_integrity_on_open(true)
            .create(path)
        {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::InUse(path.to_owned()))
            }
            // redb reports a file that is not a redb database (a scribbled header) as an I/O
            // error of kind InvalidData, and one cut inside its header as UnexpectedEof: that
            // is damage, not a failing disk or a permission.
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Err(StoreError::Db {
                    path: path.to_owned(),
                    source: Box::new(redb::StorageError::Io(e).into()),
                })
            }
            Err(e) => return Err(damaged(e.to_string())),
        };
        make_private(path, PRIVATE_FILE_MODE);
        let store = Self {
            db: Handle::Write(db),
            path: path.to_owned(),
        };
        store.init_tables().map_err(|e| match e {
            StoreError::Db { source, .. } => damaged(source.to_string()),
            other => other,
        })?;
        let report = store.check_tail().map_err(|e| match e {
            StoreError::Db { source, .. } => damaged(source.to_string()),
            StoreError::Chain { seq, problem } => damaged(format!("event {seq}: {problem}")),
            other => other,
        })?;
        Ok((store, report))
    }

    /// Opens an existing store read-only, beside a running daemon.
    pub fn open_read_only(dir: &Path) -> Result<Self> {
        let path = dir.join(STORE_FILE);
        if !path.exists() {
            return Err(StoreError::Dir {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no store here yet; has the gateway run with this config?",
                ),
            });
        }
        let db = redb::Builder::new()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .open_read_only(&path)
            .map_err(|e| StoreError::Db {
                path: path.clone(),
                source: Box::new(e.into()),
            })?;
        Ok(Self {
            db: Handle::Read(db),
            path,
        })
    }

    fn db_err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source: Box::new(e.into()),
        }
    }

    fn init_tables(&self) -> Result<()> {
        let Handle::Write(db) = &self.db else {
            return Ok(());
        };
        let txn = db.begin_write().map_err(|e| self.db_err(e))?;
        {
            txn.open_table(LOG).map_err(|e| self.db_err(e))?;
            txn.open_table(OUTBOX).map_err(|e| self.db_err(e))?;
            txn.open_table(META).map_err(|e| self.db_err(e))?;
            txn.open_table(HEAD_HASH).map_err(|e| self.db_err(e))?;
            txn.open_table(REVOKED_PASSES).map_err(|e| self.db_err(e))?;
            txn.open_table(REVOKED_MEMBERS)
                .map_err(|e| self.db_err(e))?;
            txn.open_table(REVOCATION_VERSIONS)
                .map_err(|e| self.db_err(e))?;
            txn.open_table(PROOF_COUNTERS).map_err(|e| self.db_err(e))?;
            txn.open_table(COMMAND_IDS).map_err(|e| self.db_err(e))?;
            txn.open_table(LOCKDOWNS).map_err(|e| self.db_err(e))?;
        }
        txn.commit().map_err(|e| self.db_err(e))
    }

    /// Checks that the stored head matches the last events and they link up.
    fn check_tail(&self) -> Result<OpenReport> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
        let head_seq = meta
            .get(META_HEAD_SEQ)
            .map_err(|e| self.db_err(e))?
            .map_or(0, |g| g.value());
        let clock_floor = UnixTime(
            meta.get(META_CLOCK_FLOOR)
                .map_err(|e| self.db_err(e))?
                .map_or(0, |g| g.value()),
        );
        let head_hash: Hash = match txn
            .open_table(HEAD_HASH)
            .map_err(|e| self.db_err(e))?
            .get(HEAD_HASH_KEY)
            .map_err(|e| self.db_err(e))?
        {
            Some(g) => g.value().try_into().map_err(|_| StoreError::Chain {
                seq: head_seq,
                problem: "stored head hash is not 32 bytes".into(),
            })?,
            None => GENESIS_HASH,
        };
        let log = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
        let last = log
            .last()
            .map_err(|e| self.db_err(e))?
            .map(|(k, _)| k.value())
            .unwrap_or(0);
        if last != head_seq {
            return Err(StoreError::Chain {
                seq: last,
                problem: format!("the log ends at {last} but the head says {head_seq}"),
            });
        }
        let from = head_seq.saturating_sub(TAIL_CHECK_EVENTS - 1).max(1);
        let mut previous: Option<Hash> = None;
        let mut last_hash = GENESIS_HASH;
        for entry in log.range(from..=head_seq).map_err(|e| self.db_err(e))? {
            let (seq, bytes) = entry.map_err(|e| self.db_err(e))?;
            let (seq, bytes) = (seq.value(), bytes.value());
            let event = Event::decode(bytes).map_err(|e| StoreError::Chain {
                seq,
                problem: format!("does not decode: {e}"),
            })?;
            if event.seq != seq {
                return Err(StoreError::Chain {
                    seq,
                    problem: format!("is stored under {seq} but says {}", event.seq),
                });
            }
            if let Some(prev) = previous {
                if event.prev_hash != prev {
                    return Err(StoreError::Chain {
                        seq,
                        problem: "does not link to the event before it".into(),
                    });
                }
            }
            last_hash = hash_event(bytes);
            previous = Some(last_hash);
        }
        if head_seq > 0 && last_hash != head_hash {
            return Err(StoreError::Chain {
                seq: head_seq,
                problem: "the last event does not match the stored head hash".into(),
            });
        }
        let outbox_len = txn
            .open_table(OUTBOX)
            .map_err(|e| self.db_err(e))?
            .len()
            .map_err(|e| self.db_err(e))?;
        Ok(OpenReport {
            head: ChainHead {
                seq: head_seq,
                hash: head_hash,
            },
            clock_floor,
            outbox_len,
        })
    }

    /// Starts a write transaction.
    pub fn begin(&self) -> Result<Txn<'_>> {
        let Handle::Write(db) = &self.db else {
            return Err(StoreError::ReadOnly(self.path.clone()));
        };
        let txn = db.begin_write().map_err(|e| self.db_err(e))?;
        let head = {
            let meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            let seq = meta
                .get(META_HEAD_SEQ)
                .map_err(|e| self.db_err(e))?
                .map_or(0, |g| g.value());
            let hashes = txn.open_table(HEAD_HASH).map_err(|e| self.db_err(e))?;
            let hash = hashes
                .get(HEAD_HASH_KEY)
                .map_err(|e| self.db_err(e))?
                .and_then(|g| <Hash>::try_from(g.value()).ok())
                .unwrap_or(GENESIS_HASH);
            ChainHead { seq, hash }
        };
        Ok(Txn {
            store: self,
            txn,
            head,
            error: RefCell::new(None),
            appended: Vec::new(),
        })
    }

    /// Events with sequence numbers in `from..=to`, in order, as stored bytes.
    pub fn events(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let log = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for entry in log.range(from..=to).map_err(|e| self.db_err(e))? {
            let (seq, bytes) = entry.map_err(|e| self.db_err(e))?;
            out.push((seq.value(), bytes.value().to_vec()));
        }
        Ok(out)
    }

    /// The first stored sequence number (events before it were trimmed after delivery).
    pub fn first_seq(&self) -> Result<Option<u64>> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let log = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
        let first = log
            .first()
            .map_err(|e| self.db_err(e))?
            .map(|(k, _)| k.value());
        Ok(first)
    }

    /// Checks the whole stored chain; returns the number of events checked.
    ///
    /// Calls `progress(done, total)` every few thousand events so a CLI can show progress.
    pub fn verify_log(&self, mut progress: impl FnMut(u64, u64)) -> Result<u64> {
        /// How often to report progress: often enough to look alive on a slow SD card.
        const PROGRESS_EVERY: u64 = 10_000;
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let log = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
        let total = log.len().map_err(|e| self.db_err(e))?;
        let mut head: Option<ChainHead> = None;
        let mut checked = 0;
        for entry in log.range(0..).map_err(|e| self.db_err(e))? {
            let (seq, bytes) = entry.map_err(|e| self.db_err(e))?;
            let (seq, bytes) = (seq.value(), bytes.value());
            let event = Event::decode(bytes).map_err(|e| StoreError::Chain {
                seq,
                problem: format!("does not decode: {e}"),
            })?;
            if event.seq != seq {
                return Err(StoreError::Chain {
                    seq,
                    problem: format!("is stored under {seq} but says {}", event.seq),
                });
            }
            let next = match head {
                // The first stored event may follow trimmed ones; its own hash starts the check,
                // unless it is event 1, which must link to the genesis hash.
                None if seq == 1 && event.prev_hash != GENESIS_HASH => {
                    return Err(StoreError::Chain {
                        seq,
                        problem: "the first event does not start from the genesis hash".into(),
                    })
                }
                None => ChainHead {
                    seq,
                    hash: hash_event(bytes),
                },
                Some(h) => h.follow(&event, bytes).map_err(|r| StoreError::Chain {
                    seq,
                    problem: r.describe().into(),
                })?,
            };
            head = Some(next);
            checked += 1;
            if checked % PROGRESS_EVERY == 0 {
                progress(checked, total);
            }
        }
        let hashes = txn.open_table(HEAD_HASH).map_err(|e| self.db_err(e))?;
        let stored = hashes
            .get(HEAD_HASH_KEY)
            .map_err(|e| self.db_err(e))?
            .map(|g| g.value().to_vec());
        if let (Some(h), Some(stored)) = (head, stored) {
            if h.hash.as_slice() != stored.as_slice() {
                return Err(StoreError::Chain {
                    seq: h.seq,
                    problem: "the last event does not match the stored head hash".into(),
                });
            }
        }
        progress(checked, total);
        Ok(checked)
    }

    /// Whether lockdown is on for this door (or for all doors).
    pub fn lockdowns(&self) -> Result<Vec<String>> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let table = txn.open_table(LOCKDOWNS).map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for entry in table.range::<&str>(..).map_err(|e| self.db_err(e))? {
            let (k, _) = entry.map_err(|e| self.db_err(e))?;
            out.push(k.value().to_owned());
        }
        Ok(out)
    }

    /// The revocation version, issue time and expiry held per issuer key.
    pub fn revocation_versions(&self) -> Result<Vec<(KeyId, u64, UnixTime, UnixTime)>> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let table = txn
            .open_table(REVOCATION_VERSIONS)
            .map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for entry in table.range::<&[u8]>(..).map_err(|e| self.db_err(e))? {
            let (k, v) = entry.map_err(|e| self.db_err(e))?;
            let Ok(kid) = <[u8; 8]>::try_from(k.value()) else {
                continue;
            };
            let (version, issued, expires) = v.value();
            out.push((KeyId(kid), version, UnixTime(issued), UnixTime(expires)));
        }
        Ok(out)
    }

    /// A counter in the meta table (0 before it was first written).
    fn meta_u64(&self, key: &str) -> Result<u64> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
        let value = meta
            .get(key)
            .map_err(|e| self.db_err(e))?
            .map_or(0, |g| g.value());
        Ok(value)
    }

    /// The highest sequence number the dashboard acknowledged (0 before any ack).
    pub fn acked_up_to(&self) -> Result<u64> {
        self.meta_u64(META_ACKED)
    }

    /// The last event's sequence number.
    pub fn head_seq(&self) -> Result<u64> {
        self.meta_u64(META_HEAD_SEQ)
    }

    /// Up to `limit` undelivered events after `after`, in order, as stored bytes: what the
    /// uplink sends next. Reads in bounded memory however long the backlog is.
    pub fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let outbox = txn.open_table(OUTBOX).map_err(|e| self.db_err(e))?;
        let log = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
        let mut out = Vec::with_capacity(limit.min(1024));
        for entry in outbox
            .range(after.saturating_add(1)..)
            .map_err(|e| self.db_err(e))?
        {
            if out.len() >= limit {
                break;
            }
            let (seq, _) = entry.map_err(|e| self.db_err(e))?;
            let seq = seq.value();
            let bytes =
                log.get(seq)
                    .map_err(|e| self.db_err(e))?
                    .ok_or_else(|| StoreError::Chain {
                        seq,
                        problem: "is in the outbox but not in the log".into(),
                    })?;
            out.push((seq, bytes.value().to_vec()));
        }
        Ok(out)
    }

    /// The hash of the stored event `seq`, if it is still stored.
    pub fn event_hash(&self, seq: u64) -> Result<Option<bygd_protocol::Hash>> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let log = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
        let hash = log
            .get(seq)
            .map_err(|e| self.db_err(e))?
            .map(|g| hash_event(g.value()));
        Ok(hash)
    }

    /// How many events wait for the dashboard's ack.
    pub fn outbox_len(&self) -> Result<u64> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        let len = txn
            .open_table(OUTBOX)
            .map_err(|e| self.db_err(e))?
            .len()
            .map_err(|e| self.db_err(e))?;
        Ok(len)
    }
}

/// One write transaction: events appended here, with everything that goes with them, become
/// durable together at [`Txn::commit`].
pub struct Txn<'s> {
    store: &'s Store,
    txn: redb::WriteTransaction,
    head: ChainHead,
    /// The first read error met while answering the protocol's lookup traits (which cannot
    /// return errors); [`Txn::commit`] fails if one happened, so a decision that could not read
    /// its state never becomes durable.
    error: RefCell<Option<StoreError>>,
    /// Events appended, for whoever watches committed events (live views, the uplink).
    appended: Vec<Event>,
}

impl Txn<'_> {
    fn err(&self, e: impl Into<redb::Error>) -> StoreError {
        self.store.db_err(e)
    }

    fn note(&self, e: StoreError) {
        self.error.borrow_mut().get_or_insert(e);
    }

    /// The chain head including events appended in this transaction.
    #[must_use]
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Appends an event to the log and the outbox; returns its sequence number.
    pub fn append(&mut self, time: UnixTime, clock: ClockQuality, body: EventBody) -> Result<u64> {
        let (event, bytes, head) = self.head.append(time, clock, body);
        self.txn
            .open_table(LOG)
            .map_err(|e| self.err(e))?
            .insert(event.seq, bytes.as_slice())
            .map_err(|e| self.err(e))?;
        self.txn
            .open_table(OUTBOX)
            .map_err(|e| self.err(e))?
            .insert(event.seq, ())
            .map_err(|e| self.err(e))?;
        self.head = head;
        let seq = event.seq;
        self.appended.push(event);
        Ok(seq)
    }

    /// Records an accepted device proof.
    pub fn record_proof(&mut self, used: &ProofUse) -> Result<()> {
        self.txn
            .open_table(PROOF_COUNTERS)
            .map_err(|e| self.err(e))?
            .insert(
                used.pass_id.as_bytes().as_slice(),
                (used.counter, used.time_step),
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Raises the persisted clock floor.
    pub fn set_clock_floor(&mut self, floor: UnixTime) -> Result<()> {
        let mut meta = self.txn.open_table(META).map_err(|e| self.err(e))?;
        let current = meta
            .get(META_CLOCK_FLOOR)
            .map_err(|e| self.err(e))?
            .map_or(0, |g| g.value());
        if floor.0 > current {
            meta.insert(META_CLOCK_FLOOR, floor.0)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Sets the persisted clock floor to `floor`, lower or higher: an operator's correction
    /// of a floor pushed into the future (the only way the floor moves backwards).
    pub fn reset_clock_floor(&mut self, floor: UnixTime) -> Result<()> {
        let mut meta = self.txn.open_table(META).map_err(|e| self.err(e))?;
        meta.insert(META_CLOCK_FLOOR, floor.0)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Sets or clears lockdown for a door id or [`ALL_DOORS`].
    pub fn set_lockdown(&mut self, door: &str, on: bool) -> Result<()> {
        let mut table = self.txn.open_table(LOCKDOWNS).map_err(|e| self.err(e))?;
        if on {
            table.insert(door, ()).map_err(|e| self.err(e))?;
        } else {
            table.remove(door).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The revocation version held for an issuer key.
    pub fn revocation_version(&self, issuer: KeyId) -> Result<Option<u64>> {
        let table = self
            .txn
            .open_table(REVOCATION_VERSIONS)
            .map_err(|e| self.err(e))?;
        let v = table
            .get(issuer.0.as_slice())
            .map_err(|e| self.err(e))?
            .map(|g| g.value().0);
        Ok(v)
    }

    /// The lowest revocation list version accepted, as the operator raised it (0: none).
    pub fn revocation_floor(&self) -> Result<u64> {
        let meta = self.txn.open_table(META).map_err(|e| self.err(e))?;
        let floor = meta
            .get(META_REVOCATION_FLOOR)
            .map_err(|e| self.err(e))?
            .map_or(0, |g| g.value());
        Ok(floor)
    }

    /// Raises the lowest revocation list version accepted; a lower value changes nothing.
    /// Returns the floor now in force.
    pub fn raise_revocation_floor(&mut self, floor: u64) -> Result<u64> {
        let current = self.revocation_floor()?;
        if floor > current {
            self.txn
                .open_table(META)
                .map_err(|e| self.err(e))?
                .insert(META_REVOCATION_FLOOR, floor)
                .map_err(|e| self.err(e))?;
        }
        Ok(floor.max(current))
    }

    /// Applies a verified revocation list from `issuer`, all or nothing with the transaction;
    /// refuses rollback and mismatched deltas.
    pub fn apply_revocations(
        &mut self,
        issuer: KeyId,
        list: &RevocationList,
    ) -> Result<Result<(), bygd_protocol::Rejection>> {
        if let Err(rejection) = list.applies_to(self.revocation_version(issuer)?) {
            return Ok(Err(rejection));
        }
        let key = |rest: &[u8]| [issuer.0.as_slice(), rest].concat();
        {
            let mut passes = self
                .txn
                .open_table(REVOKED_PASSES)
                .map_err(|e| self.err(e))?;
            let mut members = self
                .txn
                .open_table(REVOKED_MEMBERS)
                .map_err(|e| self.err(e))?;
            if list.base.is_none() {
                let prefix = issuer.0.as_slice();
                let end = prefix_end(prefix);
                passes
                    .retain_in(prefix..end.as_slice(), |_, _| false)
                    .map_err(|e| self.err(e))?;
                members
                    .retain_in(prefix..end.as_slice(), |_, _| false)
                    .map_err(|e| self.err(e))?;
            }
            for p in &list.restored_passes {
                passes
                    .remove(key(p.as_bytes()).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            for m in &list.restored_members {
                members
                    .remove(key(m.as_str().as_bytes()).as_slice())
                    .map_err(|e| self.err(e))?;
            }
            for p in &list.revoked_passes {
                passes
                    .insert(key(p.as_bytes()).as_slice(), ())
                    .map_err(|e| self.err(e))?;
            }
            for m in &list.revoked_members {
                members
                    .insert(key(m.as_str().as_bytes()).as_slice(), ())
                    .map_err(|e| self.err(e))?;
            }
        }
        self.txn
            .open_table(REVOCATION_VERSIONS)
            .map_err(|e| self.err(e))?
            .insert(
                issuer.0.as_slice(),
                (list.version, list.issued_at.0, list.expires.0),
            )
            .map_err(|e| self.err(e))?;
        Ok(Ok(()))
    }

    /// The highest command sequence number accepted.
    pub fn command_seq(&self) -> Result<Option<u64>> {
        let meta = self.txn.open_table(META).map_err(|e| self.err(e))?;
        let v = meta
            .get(META_COMMAND_SEQ)
            .map_err(|e| self.err(e))?
            .map(|g| g.value());
        Ok(v)
    }

    /// Records an accepted command (its sequence number and id).
    pub fn record_command(&mut self, seq: u64, id: &CommandId, expires: UnixTime) -> Result<()> {
        self.txn
            .open_table(META)
            .map_err(|e| self.err(e))?
            .insert(META_COMMAND_SEQ, seq)
            .map_err(|e| self.err(e))?;
        self.txn
            .open_table(COMMAND_IDS)
            .map_err(|e| self.err(e))?
            .insert(id.as_bytes().as_slice(), expires.0)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether a command id was accepted before.
    pub fn command_seen(&self, id: &CommandId) -> Result<bool> {
        let table = self.txn.open_table(COMMAND_IDS).map_err(|e| self.err(e))?;
        let seen = table
            .get(id.as_bytes().as_slice())
            .map_err(|e| self.err(e))?
            .is_some();
        Ok(seen)
    }

    /// Removes events up to `up_to` from the outbox (the dashboard stored them).
    pub fn ack(&mut self, up_to: u64) -> Result<()> {
        let mut outbox = self.txn.open_table(OUTBOX).map_err(|e| self.err(e))?;
        outbox
            .retain_in(..=up_to, |_, _| false)
            .map_err(|e| self.err(e))?;
        let mut meta = self.txn.open_table(META).map_err(|e| self.err(e))?;
        let acked = meta
            .get(META_ACKED)
            .map_err(|e| self.err(e))?
            .map_or(0, |g| g.value());
        meta.insert(META_ACKED, acked.max(up_to))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Deletes delivered events older than `cutoff` from the log, at most `max` of them, never
    /// the last event (the chain head must stay checkable). Returns how many were deleted.
    pub fn trim_delivered(&mut self, cutoff: UnixTime, max: usize) -> Result<u64> {
        let acked = {
            let meta = self.txn.open_table(META).map_err(|e| self.err(e))?;
            let acked = meta
                .get(META_ACKED)
                .map_err(|e| self.err(e))?
                .map_or(0, |g| g.value());
            acked
        };
        let limit = acked.min(self.head.seq.saturating_sub(1));
        let mut log = self.txn.open_table(LOG).map_err(|e| self.err(e))?;
        let mut doomed = Vec::new();
        for entry in log.range(..=limit).map_err(|e| self.err(e))? {
            if doomed.len() >= max {
                break;
            }
            let (seq, bytes) = entry.map_err(|e| self.err(e))?;
            match Event::decode(bytes.value()) {
                Ok(event) if event.time < cutoff => doomed.push(seq.value()),
                _ => break,
            }
        }
        for seq in &doomed {
            log.remove(*seq).map_err(|e| self.err(e))?;
        }
        Ok(doomed.len() as u64)
    }

    /// Forgets the ids of commands that expired before `cutoff`: the sequence number alone
    /// refuses them by then, so the id table stays as small as the commands still alive.
    pub fn prune_command_ids(&mut self, cutoff: UnixTime) -> Result<()> {
        let mut ids = self.txn.open_table(COMMAND_IDS).map_err(|e| self.err(e))?;
        ids.retain(|_, expires| expires >= cutoff.0)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Makes everything in the transaction durable (fsync), or nothing.
    pub fn commit(self) -> Result<ChainHead> {
        self.commit_events().map(|(head, _)| head)
    }

    /// Commits and returns the events that became durable with it.
    pub fn commit_events(self) -> Result<(ChainHead, Vec<Event>)> {
        if let Some(e) = self.error.into_inner() {
            return Err(e);
        }
        let store = self.store;
        {
            let mut meta = self.txn.open_table(META).map_err(|e| store.db_err(e))?;
            meta.insert(META_HEAD_SEQ, self.head.seq)
                .map_err(|e| store.db_err(e))?;
            let mut hashes = self
                .txn
                .open_table(HEAD_HASH)
                .map_err(|e| store.db_err(e))?;
            hashes
                .insert(HEAD_HASH_KEY, self.head.hash.as_slice())
                .map_err(|e| store.db_err(e))?;
        }
        self.txn.commit().map_err(|e| store.db_err(e))?;
        Ok((self.head, self.appended))
    }

    /// Revocation lookups through this transaction, for the issuer keys trusted.
    #[must_use]
    pub fn revocations<'a>(&'a self, issuers: &'a TrustedKeys) -> TxnRevocations<'a> {
        TxnRevocations { txn: self, issuers }
    }
}

/// Damaged stores kept aside in `dir` by earlier starts (`gateway.redb.damaged-<unix time>`).
fn damaged_files(dir: &Path) -> Vec<PathBuf> {
    let prefix = format!("{STORE_FILE}.damaged-");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The smallest byte string greater than every string starting with `prefix` (for a range
/// covering exactly that prefix).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

/// Revocation and proof-counter lookups inside a transaction. A read error makes the lookup
/// answer "revoked" / "replayed" (fail closed) and fails the transaction's commit.
pub struct TxnRevocations<'a> {
    txn: &'a Txn<'a>,
    issuers: &'a TrustedKeys,
}

impl TxnRevocations<'_> {
    fn any_issuer(&self, table: TableDefinition<&[u8], ()>, id: &[u8]) -> bool {
        let result = (|| -> Result<bool> {
            let table = self
                .txn
                .txn
                .open_table(table)
                .map_err(|e| self.txn.err(e))?;
            for key in self.issuers.iter() {
                let k = [key.id().0.as_slice(), id].concat();
                if table
                    .get(k.as_slice())
                    .map_err(|e| self.txn.err(e))?
                    .is_some()
                {
                    return Ok(true);
                }
            }
            Ok(false)
        })();
        result.unwrap_or_else(|e| {
            self.txn.note(e);
            true
        })
    }
}

impl Revocations for TxnRevocations<'_> {
    fn is_pass_revoked(&self, pass_id: &PassId) -> bool {
        self.any_issuer(REVOKED_PASSES, pass_id.as_bytes())
    }
    fn is_member_revoked(&self, member: &MemberId) -> bool {
        self.any_issuer(REVOKED_MEMBERS, member.as_str().as_bytes())
    }
}

impl ProofCounters for TxnRevocations<'_> {
    fn last_counter(&self, pass_id: &PassId) -> Option<u64> {
        let result = (|| -> Result<Option<u64>> {
            let table = self
                .txn
                .txn
                .open_table(PROOF_COUNTERS)
                .map_err(|e| self.txn.err(e))?;
            let v = table
                .get(pass_id.as_bytes().as_slice())
                .map_err(|e| self.txn.err(e))?
                .map(|g| g.value().0);
            Ok(v)
        })();
        result.unwrap_or_else(|e| {
            self.txn.note(e);
            Some(u64::MAX)
        })
    }
}
