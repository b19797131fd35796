//! The gateway's durable store (redb): the hash-chained entry log, the outbox of undelivered
//! events, revocations, device-proof counters, command replay state, lockdowns and the clock
//! floor. One file per thing stored:
//! - `log`: the hash-chained entry log and its head (appending, the tail check, `verify-log`).
//! - `outbox`: events the dashboard has not acknowledged, and acks.
//! - `revocations`: revoked passes and members per issuer key, list versions, the operator's
//!   version floor.
//! - `proofs`: the last device-proof counter per pass.
//! - `commands`: the command sequence number and the ids of live commands.
//! - `lockdowns`: which doors are in lockdown.
//! - `quarantine`: a damaged store moved aside, and found again at the next start.
//!
//! Here: opening, transactions, the clock floor, the read-only view the gate decides on, and
//! the one conversion of redb's errors.
//!
//! Invariants:
//! - Every event is appended inside a write transaction that also puts it in the outbox and
//!   raises the clock floor; a decision's proof counter goes in the same transaction. The
//!   caller moves a relay only after [`Txn::commit`] returned, and redb commits with an
//!   fsync, so an entry that opened a door is on disk (DESIGN.md says why redb, not sled).
//! - The log is a hash chain from sequence 1 with no gaps; [`Store::open`] checks its tail and
//!   [`Store::verify_log`] checks all of it.
//! - A damaged store is never replaced silently: it is moved aside and opening fails.

mod commands;
mod lockdowns;
mod log;
mod outbox;
mod proofs;
mod quarantine;
mod revocations;

use crate::gate::Lookups;
use bygd_protocol::{
    ChainHead, CommandId, Event, KeyId, MemberId, PassId, ProofCounters, Revocations, TrustedKeys,
    UnixTime,
};
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

pub(crate) use log::OpenReport;

/// The store's file name inside the data directory.
pub(crate) const STORE_FILE: &str = "gateway.redb";

/// Counters and settings, one `u64` per key (each key is named in the file that owns it).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const META_CLOCK_FLOOR: &str = "clock_floor";

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

/// The one conversion of redb's errors: `?` turns any of them into [`StoreError::Db`], whose
/// path [`Store::read`] and [`Txn::write`] fill in.
macro_rules! from_redb {
    ($($error:ty),*) => {$(
        impl From<$error> for StoreError {
            fn from(e: $error) -> Self {
                StoreError::Db { path: PathBuf::new(), source: Box::new(e.into()) }
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl StoreError {
    /// Names the store file in a database error that does not name it yet.
    fn at(self, file: &Path) -> Self {
        match self {
            StoreError::Db { path, source } if path.as_os_str().is_empty() => StoreError::Db {
                path: file.to_owned(),
                source,
            },
            other => other,
        }
    }
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
            quarantine::refuse_if_moved_aside(dir, &path)?;
        }
        match Self::open_guarded(&path) {
            Ok(opened) => Ok(opened),
            Err(StoreError::Damaged { problem, .. }) => {
                let kept = quarantine::move_aside(dir, &path)?;
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
                return Err(StoreError::from(redb::StorageError::Io(e)).at(path))
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
            .map_err(|e| StoreError::from(redb::Error::from(e)).at(&path))?;
        Ok(Self {
            db: Handle::Read(db),
            path,
        })
    }

    /// Creates every table, so that readers never meet a missing one.
    fn init_tables(&self) -> Result<()> {
        let Handle::Write(db) = &self.db else {
            return Ok(());
        };
        (|| -> Result<()> {
            let txn = db.begin_write()?;
            txn.open_table(META)?;
            log::init(&txn)?;
            outbox::init(&txn)?;
            revocations::init(&txn)?;
            proofs::init(&txn)?;
            commands::init(&txn)?;
            lockdowns::init(&txn)?;
            txn.commit()?;
            Ok(())
        })()
        .map_err(|e| e.at(&self.path))
    }

    /// Runs `read` in a read transaction; redb's errors come out naming the store file.
    fn read<T>(&self, read: impl FnOnce(&redb::ReadTransaction) -> Result<T>) -> Result<T> {
        (|| -> Result<T> { read(&self.db.begin_read()?) })().map_err(|e| e.at(&self.path))
    }

    /// A counter in the meta table (0 before it was first written).
    fn meta_u64(&self, key: &str) -> Result<u64> {
        self.read(|txn| Ok(txn.open_table(META)?.get(key)?.map_or(0, |g| g.value())))
    }

    /// Starts a write transaction.
    pub fn begin(&self) -> Result<Txn<'_>> {
        let Handle::Write(db) = &self.db else {
            return Err(StoreError::ReadOnly(self.path.clone()));
        };
        let txn = db
            .begin_write()
            .map_err(|e| StoreError::from(e).at(&self.path))?;
        let head = log::stored_head(&txn).map_err(|e| e.at(&self.path))?;
        Ok(Txn {
            store: self,
            txn,
            head,
            error: RefCell::new(None),
            appended: Vec::new(),
        })
    }
}

/// One write transaction: events appended here, with everything that goes with them, become
/// durable together at [`Txn::commit`].
pub struct Txn<'s> {
    store: &'s Store,
    txn: redb::WriteTransaction,
    head: ChainHead,
    /// The first read error met while answering the gate's lookups (which cannot return
    /// errors); [`Txn::commit`] fails if one happened, so a decision that could not read its
    /// state never becomes durable.
    error: RefCell<Option<StoreError>>,
    /// Events appended, for whoever watches committed events (live views, the uplink).
    appended: Vec<Event>,
}

impl Txn<'_> {
    /// Runs `write` on the transaction; redb's errors come out naming the store file.
    fn write<T>(&self, write: impl FnOnce(&redb::WriteTransaction) -> Result<T>) -> Result<T> {
        write(&self.txn).map_err(|e| e.at(&self.store.path))
    }

    /// Answers a lookup, or notes its error (failing the commit) and answers `closed`.
    fn lookup<T>(&self, closed: T, read: impl FnOnce(&Self) -> Result<T>) -> T {
        read(self).unwrap_or_else(|e| {
            self.error.borrow_mut().get_or_insert(e);
            closed
        })
    }

    /// The chain head including events appended in this transaction.
    #[must_use]
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Raises the persisted clock floor.
    pub fn set_clock_floor(&mut self, floor: UnixTime) -> Result<()> {
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            let current = meta.get(META_CLOCK_FLOOR)?.map_or(0, |g| g.value());
            if floor.0 > current {
                meta.insert(META_CLOCK_FLOOR, floor.0)?;
            }
            Ok(())
        })
    }

    /// Sets the persisted clock floor to `floor`, lower or higher: an operator's correction
    /// of a floor pushed into the future (the only way the floor moves backwards).
    pub fn reset_clock_floor(&mut self, floor: UnixTime) -> Result<()> {
        self.write(|txn| {
            txn.open_table(META)?.insert(META_CLOCK_FLOOR, floor.0)?;
            Ok(())
        })
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
        log::store_head(&self.txn, self.head).map_err(|e| e.at(&self.store.path))?;
        self.txn
            .commit()
            .map_err(|e| StoreError::from(e).at(&self.store.path))?;
        Ok((self.head, self.appended))
    }

    /// The store as of this point in the transaction, read-only, for the issuer keys trusted:
    /// what the gate decides on.
    #[must_use]
    pub fn view<'a>(&'a self, issuers: &'a TrustedKeys) -> TxnView<'a> {
        TxnView { txn: self, issuers }
    }
}

/// The store as the gate sees it: lookups inside a write transaction that cannot fail. A read
/// error answers the way that refuses (revoked, replayed, rollback) and fails the commit.
pub struct TxnView<'a> {
    txn: &'a Txn<'a>,
    issuers: &'a TrustedKeys,
}

impl Revocations for TxnView<'_> {
    fn is_pass_revoked(&self, pass_id: &PassId) -> bool {
        self.txn.lookup(true, |t| {
            t.is_revoked(revocations::Revoked::Pass, self.issuers, pass_id.as_bytes())
        })
    }
    fn is_member_revoked(&self, member: &MemberId) -> bool {
        self.txn.lookup(true, |t| {
            t.is_revoked(
                revocations::Revoked::Member,
                self.issuers,
                member.as_str().as_bytes(),
            )
        })
    }
}

impl ProofCounters for TxnView<'_> {
    fn last_counter(&self, pass_id: &PassId) -> Option<u64> {
        self.txn
            .lookup(Some(u64::MAX), |t| t.proof_counter(pass_id))
    }
}

impl Lookups for TxnView<'_> {
    fn head_seq(&self) -> u64 {
        self.txn.head.seq
    }
    fn command_seq(&self) -> Option<u64> {
        self.txn.lookup(Some(u64::MAX), |t| t.command_seq())
    }
    fn command_seen(&self, id: &CommandId) -> bool {
        self.txn.lookup(true, |t| t.command_seen(id))
    }
    fn revocation_version(&self, issuer: KeyId) -> Option<u64> {
        self.txn
            .lookup(Some(u64::MAX), |t| t.revocation_version(issuer))
    }
    fn revocation_floor(&self) -> u64 {
        self.txn.lookup(u64::MAX, |t| t.revocation_floor())
    }
    fn newest_revocation_list(&self) -> Option<UnixTime> {
        // The committed lists, as the status shows them; a read error counts as no list
        // (which refuses, once the policy refuses stale lists), without failing the commit.
        let versions = self.txn.store.revocation_versions().ok()?;
        versions.iter().map(|(_, _, issued, _)| *issued).max()
    }
}
