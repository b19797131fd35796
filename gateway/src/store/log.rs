//! The hash-chained entry log: events by sequence number, and the chain head beside them.
//!
//! Invariant: the stored head (sequence number and hash) is the last stored event's, written
//! in the transaction that appended it; the log's tail is checked against it at every start.

use super::{outbox, Result, Store, StoreError, Txn, META, META_CLOCK_FLOOR};
use bygd_protocol::{
    hash_event, ChainHead, ChainWalk, ClockQuality, Event, EventBody, Hash, UnixTime, GENESIS_HASH,
};
use redb::{ReadableTable as _, ReadableTableMetadata as _, TableDefinition};

/// Events checked at start-up: enough to catch a torn or damaged tail after a power cut, few
/// enough to start in milliseconds with a million events stored.
const TAIL_CHECK_EVENTS: u64 = 64;

pub(super) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const HEAD_HASH: TableDefinition<&str, &[u8]> = TableDefinition::new("head_hash");
const HEAD_HASH_KEY: &str = "head";
pub(super) const META_HEAD_SEQ: &str = "head_seq";

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

pub(super) fn init(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(LOG)?;
    txn.open_table(HEAD_HASH)?;
    Ok(())
}

/// The head as the last commit stored it (genesis in a new store).
pub(super) fn stored_head(txn: &redb::WriteTransaction) -> Result<ChainHead> {
    let seq = txn
        .open_table(META)?
        .get(META_HEAD_SEQ)?
        .map_or(0, |g| g.value());
    let hash = txn
        .open_table(HEAD_HASH)?
        .get(HEAD_HASH_KEY)?
        .and_then(|g| <Hash>::try_from(g.value()).ok())
        .unwrap_or(GENESIS_HASH);
    Ok(ChainHead { seq, hash })
}

/// Stores `head` as the chain's head, with the events that led to it.
pub(super) fn store_head(txn: &redb::WriteTransaction, head: ChainHead) -> Result<()> {
    txn.open_table(META)?.insert(META_HEAD_SEQ, head.seq)?;
    txn.open_table(HEAD_HASH)?
        .insert(HEAD_HASH_KEY, head.hash.as_slice())?;
    Ok(())
}

/// A broken chain at `seq`.
fn broken(seq: u64, problem: impl ToString) -> StoreError {
    StoreError::Chain {
        seq,
        problem: problem.to_string(),
    }
}

impl Store {
    /// Checks that the stored head matches the last events and they link up.
    pub(super) fn check_tail(&self) -> Result<OpenReport> {
        self.read(|txn| {
            let meta = txn.open_table(META)?;
            let head_seq = meta.get(META_HEAD_SEQ)?.map_or(0, |g| g.value());
            let clock_floor = UnixTime(meta.get(META_CLOCK_FLOOR)?.map_or(0, |g| g.value()));
            let head_hash: Hash = match txn.open_table(HEAD_HASH)?.get(HEAD_HASH_KEY)? {
                Some(g) => g
                    .value()
                    .try_into()
                    .map_err(|_| broken(head_seq, "stored head hash is not 32 bytes"))?,
                None => GENESIS_HASH,
            };
            let log = txn.open_table(LOG)?;
            let last = log.last()?.map(|(k, _)| k.value()).unwrap_or(0);
            if last != head_seq {
                return Err(broken(
                    last,
                    format!("the log ends at {last} but the head says {head_seq}"),
                ));
            }
            let from = head_seq.saturating_sub(TAIL_CHECK_EVENTS - 1).max(1);
            let mut walk = ChainWalk::from_first_stored();
            for entry in log.range(from..=head_seq)? {
                let (seq, bytes) = entry?;
                walk.step(seq.value(), bytes.value())
                    .map_err(|fault| broken(seq.value(), fault))?;
            }
            let last_hash = walk.head().map_or(GENESIS_HASH, |h| h.hash);
            if head_seq > 0 && last_hash != head_hash {
                return Err(broken(
                    head_seq,
                    "the last event does not match the stored head hash",
                ));
            }
            Ok(OpenReport {
                head: ChainHead {
                    seq: head_seq,
                    hash: head_hash,
                },
                clock_floor,
                outbox_len: txn.open_table(outbox::OUTBOX)?.len()?,
            })
        })
    }

    /// Events with sequence numbers in `from..=to`, in order, as stored bytes.
    pub fn events(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        self.read(|txn| {
            let mut out = Vec::new();
            for entry in txn.open_table(LOG)?.range(from..=to)? {
                let (seq, bytes) = entry?;
                out.push((seq.value(), bytes.value().to_vec()));
            }
            Ok(out)
        })
    }

    /// The first stored sequence number (events before it were trimmed after delivery).
    pub fn first_seq(&self) -> Result<Option<u64>> {
        self.read(|txn| Ok(txn.open_table(LOG)?.first()?.map(|(k, _)| k.value())))
    }

    /// The last event's sequence number.
    pub fn head_seq(&self) -> Result<u64> {
        self.meta_u64(META_HEAD_SEQ)
    }

    /// The hash of the stored event `seq`, if it is still stored.
    pub fn event_hash(&self, seq: u64) -> Result<Option<Hash>> {
        self.read(|txn| {
            Ok(txn
                .open_table(LOG)?
                .get(seq)?
                .map(|g| hash_event(g.value())))
        })
    }

    /// Checks the whole stored chain; returns the number of events checked.
    ///
    /// Calls `progress(done, total)` every few thousand events so a CLI can show progress.
    pub fn verify_log(&self, mut progress: impl FnMut(u64, u64)) -> Result<u64> {
        /// How often to report progress: often enough to look alive on a slow SD card.
        const PROGRESS_EVERY: u64 = 10_000;
        self.read(|txn| {
            let log = txn.open_table(LOG)?;
            let total = log.len()?;
            // The first stored event may follow trimmed ones; its own hash starts the check.
            let mut walk = ChainWalk::from_first_stored();
            let mut checked = 0;
            for entry in log.range(0..)? {
                let (seq, bytes) = entry?;
                walk.step(seq.value(), bytes.value())
                    .map_err(|fault| broken(seq.value(), fault))?;
                checked += 1;
                if checked % PROGRESS_EVERY == 0 {
                    progress(checked, total);
                }
            }
            let stored = txn
                .open_table(HEAD_HASH)?
                .get(HEAD_HASH_KEY)?
                .map(|g| g.value().to_vec());
            if let (Some(h), Some(stored)) = (walk.head(), stored) {
                if h.hash.as_slice() != stored.as_slice() {
                    return Err(broken(
                        h.seq,
                        "the last event does not match the stored head hash",
                    ));
                }
            }
            progress(checked, total);
            Ok(checked)
        })
    }
}

impl Txn<'_> {
    /// Appends an event to the log and the outbox; returns its sequence number.
    pub fn append(&mut self, time: UnixTime, clock: ClockQuality, body: EventBody) -> Result<u64> {
        let (event, bytes, head) = self.head.append(time, clock, body);
        self.write(|txn| {
            txn.open_table(LOG)?.insert(event.seq, bytes.as_slice())?;
            txn.open_table(outbox::OUTBOX)?.insert(event.seq, ())?;
            Ok(())
        })?;
        self.head = head;
        let seq = event.seq;
        self.appended.push(event);
        Ok(seq)
    }

    /// Deletes delivered events older than `cutoff` from the log, at most `max` of them, never
    /// the last event (the chain head must stay checkable). Returns how many were deleted.
    pub fn trim_delivered(&mut self, cutoff: UnixTime, max: usize) -> Result<u64> {
        let acked = self.acked_up_to()?;
        let limit = acked.min(self.head.seq.saturating_sub(1));
        self.write(|txn| {
            let mut log = txn.open_table(LOG)?;
            let mut doomed = Vec::new();
            for entry in log.range(..=limit)? {
                if doomed.len() >= max {
                    break;
                }
                let (seq, bytes) = entry?;
                match Event::decode(bytes.value()) {
                    Ok(event) if event.time < cutoff => doomed.push(seq.value()),
                    _ => break,
                }
            }
            for seq in &doomed {
                log.remove(*seq)?;
            }
            Ok(doomed.len() as u64)
        })
    }
}
