//! Lockdowns: which doors are in lockdown, kept across restarts.
//!
//! Key: a door id, or [`ALL_DOORS`] for every door; a key present means lockdown on.

use super::{Result, Store, Txn};
use crate::gate::Lockdowns;
use bygd_protocol::DoorId;
use redb::TableDefinition;

const LOCKDOWNS: TableDefinition<&str, ()> = TableDefinition::new("lockdowns");
/// The key meaning "every door" (no door id can be spelt so).
const ALL_DOORS: &str = "*";

pub(super) fn init(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(LOCKDOWNS)?;
    Ok(())
}

impl Store {
    /// The doors in lockdown.
    pub(crate) fn lockdowns(&self) -> Result<Lockdowns> {
        self.read(|txn| {
            let mut lockdowns = Lockdowns::default();
            for entry in txn.open_table(LOCKDOWNS)?.range::<&str>(..)? {
                let key = entry?.0;
                match key.value() {
                    ALL_DOORS => lockdowns.set(None, true),
                    door => match DoorId::new(door) {
                        Ok(door) => lockdowns.set(Some(&door), true),
                        Err(e) => {
                            tracing::warn!(door, error = %e, "stored lockdown of no door; ignored");
                        }
                    },
                }
            }
            Ok(lockdowns)
        })
    }
}

impl Txn<'_> {
    /// Sets or clears lockdown for a door, or for all doors (`None`).
    pub fn set_lockdown(&mut self, door: Option<&DoorId>, on: bool) -> Result<()> {
        let key = door.map_or(ALL_DOORS, DoorId::as_str);
        self.write(|txn| {
            let mut table = txn.open_table(LOCKDOWNS)?;
            if on {
                table.insert(key, ())?;
            } else {
                table.remove(key)?;
            }
            Ok(())
        })
    }
}
