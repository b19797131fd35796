//! Command replay state: the highest command sequence number accepted, and the ids of accepted
//! commands until they expire (after that the sequence number alone refuses them).

use super::{Result, Txn, META};
use bygd_protocol::{CommandId, UnixTime};
use redb::{ReadableTable as _, TableDefinition};

/// Key: command id; value: its expiry, for pruning.
const COMMAND_IDS: TableDefinition<&[u8], u64> = TableDefinition::new("command_ids");
const META_COMMAND_SEQ: &str = "command_seq";

pub(super) fn init(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(COMMAND_IDS)?;
    Ok(())
}

impl Txn<'_> {
    /// The highest command sequence number accepted.
    pub fn command_seq(&self) -> Result<Option<u64>> {
        self.write(|txn| {
            Ok(txn
                .open_table(META)?
                .get(META_COMMAND_SEQ)?
                .map(|g| g.value()))
        })
    }

    /// Whether a command id was accepted before.
    pub fn command_seen(&self, id: &CommandId) -> Result<bool> {
        self.write(|txn| {
            Ok(txn
                .open_table(COMMAND_IDS)?
                .get(id.as_bytes().as_slice())?
                .is_some())
        })
    }

    /// Records an accepted command (its sequence number and id).
    pub fn record_command(&mut self, seq: u64, id: &CommandId, expires: UnixTime) -> Result<()> {
        self.write(|txn| {
            txn.open_table(META)?.insert(META_COMMAND_SEQ, seq)?;
            txn.open_table(COMMAND_IDS)?
                .insert(id.as_bytes().as_slice(), expires.0)?;
            Ok(())
        })
    }

    /// Forgets the ids of commands that expired before `cutoff`: the sequence number alone
    /// refuses them by then, so the id table stays as small as the commands still alive.
    pub fn prune_command_ids(&mut self, cutoff: UnixTime) -> Result<()> {
        self.write(|txn| {
            txn.open_table(COMMAND_IDS)?
                .retain(|_, expires| expires >= cutoff.0)?;
            Ok(())
        })
    }
}
