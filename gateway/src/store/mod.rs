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
//! Here: opening (for the daemon, read-only for the tools, a repaired copy for the tools after
//! a crash, and `repair`), transactions, the clock floor, the read-only view the gate decides
//! on, and the one conversion of redb's errors.
//!
//! Invariants:
//! - Every event is appended inside a write transaction that also puts it in the outbox and
//!   raises the clock floor; a decision's proof counter goes in the same transaction. The
//!   caller moves a relay only after [`Txn::commit`] returned, and redb commits with an
//!   fsync, so an entry that opened a door is on disk (DESIGN.md says why redb, not sled).
//! - The log is a hash chain from sequence 1 with no gaps; [`Store::open`] checks its tail and
//!   [`Store::verify_log`] checks all of it.
//! - A damaged store is never replaced silently: it is moved aside and opening fails.
//! - The read-only tools never write to the store file: one not closed cleanly is repaired by
//!   a writable open only (the daemon's start or `repair`); the tools read a repaired copy.

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
    /// A tool that reads or repairs a store found none.
    #[error(
        "there is no store at {0} yet; has the gateway run with this config? (its data_dir \
         says where the store is)"
    )]
    Missing(PathBuf),
    /// A write was attempted on a store opened read-only.
    #[error("the store {0} is open read-only")]
    ReadOnly(PathBuf),
    /// The store was not closed cleanly (a crash, kill -9 or a power cut) and no daemon holds
    /// it; a read-only open cannot repair it.
    #[error(
        "the store {0} was not closed cleanly (the gateway stopped without shutting down: a \
         crash, kill -9 or a power cut). The daemon repairs it when it starts: `systemctl start \
         bygd-gateway`, or stop the daemon and run `bygd-gateway repair` with the same --config"
    )]
    Unclean(PathBuf),
    /// The store was not closed cleanly and a repaired copy of it could not be made or read.
    #[error(
        "the store {path} was not closed cleanly (the gateway stopped without shutting down: a \
         crash, kill -9 or a power cut), and a repaired copy of it could not be read: {why}. \
         The daemon repairs the store when it starts: `systemctl start bygd-gateway`, or stop \
         the daemon and run `bygd-gateway repair` with the same --config"
    )]
    CopyFailed {
        /// The store file.
        path: PathBuf,
        /// Why the copy could not be made, repaired or read.
        why: String,
    },
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
    /// The temporary directory holding the repaired copy this store reads, if it reads one
    /// ([`Store::open_repaired_copy`]); removed on drop, after `db` closed the copy.
    copy: Option<tempfile::TempDir>,
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

/// What [`Store::repair`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// The store file.
    pub path: PathBuf,
    /// Whether the store had not been closed cleanly (and so was repaired).
    pub was_unclean: bool,
    /// The chain's head after the repair: the last event the store holds.
    pub head: ChainHead,
}

/// The store file in `dir`, which must exist: the tools never create a store.
fn existing_store(dir: &Path) -> Result<PathBuf> {
    let path = dir.join(STORE_FILE);
    if path.exists() {
        Ok(path)
    } else {
        Err(StoreError::Missing(path))
    }
}

/// A repaired copy needs room for the file, and for what redb's repair writes: one commit of
/// the allocator state and the roots, far below a quarter of the file.
const COPY_GROWTH_DIVISOR: u64 = 4;
/// And some room to spare, so that the copy never fills the disk it is made on to the brim.
const COPY_SPARE_BYTES: u64 = 16 * 1024 * 1024;

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
            copy: None,
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
    ///
    /// A store that was not closed cleanly, with no daemon holding it, is
    /// [`StoreError::Unclean`]: redb repairs only on a writable open. The caller may then read
    /// a repaired copy ([`Store::open_repaired_copy`]).
    pub fn open_read_only(dir: &Path) -> Result<Self> {
        let path = existing_store(dir)?;
        let db = redb::Builder::new()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .open_read_only(&path)
            .map_err(|e| match e {
                redb::DatabaseError::RepairAborted => StoreError::Unclean(path.clone()),
                e => StoreError::from(redb::Error::from(e)).at(&path),
            })?;
        Ok(Self {
            db: Handle::Read(db),
            path,
            copy: None,
        })
    }

    /// Copies the store in `dir` into a new private directory under `scratch`, repairs and
    /// checks the copy as the daemon's start would, and opens it; the copy is deleted when the
    /// returned store is dropped. For the read-only tools on a store that was not closed
    /// cleanly: the store itself is only read, so a daemon starting meanwhile is not
    /// disturbed, and what the tools show is what the daemon will find.
    ///
    /// Refused with [`StoreError::CopyFailed`] when `scratch` has too little free space, or
    /// when the copy cannot be made, repaired or read.
    pub fn open_repaired_copy(dir: &Path, scratch: &Path) -> Result<Self> {
        let path = existing_store(dir)?;
        let failed = |why: String| StoreError::CopyFailed {
            path: path.clone(),
            why,
        };
        let len = std::fs::metadata(&path)
            .map_err(|e| failed(format!("cannot read its size: {e}")))?
            .len();
        let need = len
            .saturating_add(len / COPY_GROWTH_DIVISOR)
            .saturating_add(COPY_SPARE_BYTES);
        let free = rustix::fs::statvfs(scratch)
            .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
            .map_err(|e| {
                failed(format!(
                    "cannot read the free space in {}: {e}",
                    scratch.display()
                ))
            })?;
        if free < need {
            return Err(failed(format!(
                "{} has {} MB free and the copy needs {} MB (set TMPDIR to a directory with \
                 more room)",
                scratch.display(),
                free / 1_000_000,
                need.div_ceil(1_000_000)
            )));
        }
        let holder = tempfile::Builder::new()
            .prefix("bygd-gateway-store-copy.")
            .tempdir_in(scratch)
            .map_err(|e| {
                failed(format!(
                    "cannot create a directory in {}: {e}",
                    scratch.display()
                ))
            })?;
        let copy = holder.path().join(STORE_FILE);
        std::fs::copy(&path, &copy)
            .map_err(|e| failed(format!("cannot copy it to {}: {e}", copy.display())))?;
        let (mut store, _) = Self::open_guarded(&copy).map_err(|e| match e {
            StoreError::Damaged { problem, .. } => {
                failed(format!("the copy is damaged: {problem}"))
            }
            other => failed(other.to_string()),
        })?;
        store.copy = Some(holder);
        Ok(store)
    }

    /// Repairs the store in `dir` in place, as the daemon's start does (redb's repair, the
    /// integrity check, the chain's tail), without starting anything. A store that a daemon
    /// holds is [`StoreError::InUse`]; a damaged store is moved aside, as at start-up.
    pub fn repair(dir: &Path) -> Result<RepairReport> {
        let path = existing_store(dir)?;
        let was_unclean = match Self::open_read_only(dir) {
            Ok(_) => false,
            Err(StoreError::Unclean(_)) => true,
            Err(other) => return Err(other),
        };
        let (_store, opened) = Self::open(dir, false)?;
        Ok(RepairReport {
            path,
            was_unclean,
            head: opened.head,
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

#[cfg(test)]
mod tests {
    use super::*;
    use bygd_protocol::{ClockQuality, EventBody};

    /// A store in a new directory holding one event, closed cleanly.
    fn store_with_one_event() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (store, _) = Store::open(dir.path(), false).expect("a new store");
        let mut txn = store.begin().expect("a write transaction");
        txn.append(
            UnixTime(1_700_000_000),
            ClockQuality::Synchronised,
            EventBody::GatewayStarted {
                version: "test".into(),
            },
        )
        .expect("append");
        txn.commit().expect("commit");
        dir
    }

    #[test]
    fn a_repaired_copy_reads_the_same_events_and_is_deleted_when_dropped() {
        let dir = store_with_one_event();
        let scratch = tempfile::tempdir().expect("a temporary directory");
        let copy = Store::open_repaired_copy(dir.path(), scratch.path()).expect("a copy");
        let original = Store::open_read_only(dir.path()).expect("the store itself");
        assert_eq!(
            copy.events(0, u64::MAX).unwrap(),
            original.events(0, u64::MAX).unwrap()
        );
        assert_eq!(copy.verify_log(|_, _| {}).unwrap(), 1);
        assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 1);
        drop(copy);
        assert_eq!(
            std::fs::read_dir(scratch.path()).unwrap().count(),
            0,
            "the copy's directory is removed with it"
        );
    }

    #[test]
    fn a_copy_that_cannot_be_made_says_how_to_repair_the_store_itself() {
        let dir = store_with_one_event();
        let nowhere = dir.path().join("no-such-directory");
        let error = Store::open_repaired_copy(dir.path(), &nowhere).unwrap_err();
        assert!(matches!(error, StoreError::CopyFailed { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("no-such-directory"), "{message}");
        assert!(message.contains("bygd-gateway repair"), "{message}");
        assert!(
            message.contains("systemctl start bygd-gateway"),
            "{message}"
        );
    }

    #[test]
    fn the_tools_never_create_a_store() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for error in [
            Store::open_read_only(dir.path()).unwrap_err(),
            Store::open_repaired_copy(dir.path(), dir.path()).unwrap_err(),
            Store::repair(dir.path()).unwrap_err(),
        ] {
            assert!(matches!(error, StoreError::Missing(_)), "{error:?}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
