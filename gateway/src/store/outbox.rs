//! The outbox: the sequence numbers of events the dashboard has not acknowledged yet, and the
//! highest one it has.
//!
//! Invariant: an event leaves the outbox only by the dashboard's signed, verified ack; its log
//! entry stays until it is also older than the retention period.

use super::{log::LOG, Result, Store, StoreError, Txn, META};
use redb::{ReadableTable as _, ReadableTableMetadata as _, TableDefinition};

pub(super) const OUTBOX: TableDefinition<u64, ()> = TableDefinition::new("outbox");
const META_ACKED: &str = "acked_up_to";

pub(super) fn init(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(OUTBOX)?;
    Ok(())
}

impl Store {
    /// The highest sequence number the dashboard acknowledged (0 before any ack).
    pub fn acked_up_to(&self) -> Result<u64> {
        self.meta_u64(META_ACKED)
    }

    /// Up to `limit` undelivered events after `after`, in order, as stored bytes: what the
    /// uplink sends next. Reads in bounded memory however long the backlog is.
    pub fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        self.read(|txn| {
            let outbox = txn.open_table(OUTBOX)?;
            let log = txn.open_table(LOG)?;
            let mut out = Vec::with_capacity(limit.min(1024));
            for entry in outbox.range(after.saturating_add(1)..)? {
                if out.len() >= limit {
                    break;
                }
                let seq = entry?.0.value();
                let bytes = log.get(seq)?.ok_or_else(|| StoreError::Chain {
                    seq,
                    problem: "is in the outbox but not in the log".into(),
                })?;
                out.push((seq, bytes.value().to_vec()));
            }
            Ok(out)
        })
    }

    /// How many events wait for the dashboard's ack.
    pub fn outbox_len(&self) -> Result<u64> {
        self.read(|txn| Ok(txn.open_table(OUTBOX)?.len()?))
    }
}

impl Txn<'_> {
    /// The highest sequence number the dashboard acknowledged, as of this transaction.
    pub(super) fn acked_up_to(&self) -> Result<u64> {
        self.write(|txn| {
            Ok(txn
                .open_table(META)?
                .get(META_ACKED)?
                .map_or(0, |g| g.value()))
        })
    }

    /// Removes events up to `up_to` from the outbox (the dashboard stored them).
    pub fn ack(&mut self, up_to: u64) -> Result<()> {
        let acked = self.acked_up_to()?;
        self.write(|txn| {
            txn.open_table(OUTBOX)?.retain_in(..=up_to, |_, _| false)?;
            txn.open_table(META)?.insert(META_ACKED, acked.max(up_to))?;
            Ok(())
        })
    }
}
