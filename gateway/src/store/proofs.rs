//! Device-proof counters: per pass, the last counter (and its time step) a proof was accepted
//! with, so that each proof opens a door once.

use super::{Result, Txn};
use bygd_protocol::{PassId, ProofUse};
use redb::{ReadableTable as _, TableDefinition};

/// Key: pass id; value: (last counter, its time step).
const PROOF_COUNTERS: TableDefinition<&[u8], (u64, u64)> = TableDefinition::new("proof_counters");

pub(super) fn init(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(PROOF_COUNTERS)?;
    Ok(())
}

impl Txn<'_> {
    /// Records an accepted device proof.
    pub fn record_proof(&mut self, used: &ProofUse) -> Result<()> {
        self.write(|txn| {
            txn.open_table(PROOF_COUNTERS)?.insert(
                used.pass_id.as_bytes().as_slice(),
                (used.counter, used.time_step),
            )?;
            Ok(())
        })
    }

    /// The last counter accepted for a pass.
    pub(super) fn proof_counter(&self, pass_id: &PassId) -> Result<Option<u64>> {
        self.write(|txn| {
            Ok(txn
                .open_table(PROOF_COUNTERS)?
                .get(pass_id.as_bytes().as_slice())?
                .map(|g| g.value().0))
        })
    }
}
