//! Revocations: the passes and members each trusted issuer key revoked, the version, issue
//! time and expiry of the list each key last signed, and the operator's version floor.
//!
//! Invariant: a list is applied whole or not at all, with the transaction; whether it may be
//! applied (site, floor, rollback, delta base) is the gate's decision, taken before.

use super::{Result, Store, Txn, META};
use bygd_protocol::{KeyId, RevocationList, TrustedKeys, UnixTime};
use redb::{ReadableTable as _, TableDefinition};

/// Key: issuer key id (8 bytes) || pass id (16 bytes).
const REVOKED_PASSES: TableDefinition<&[u8], ()> = TableDefinition::new("revoked_passes");
/// Key: issuer key id (8 bytes) || member id (UTF-8).
const REVOKED_MEMBERS: TableDefinition<&[u8], ()> = TableDefinition::new("revoked_members");
/// Key: issuer key id; value: (version, issued at, expires).
const REVOCATION_VERSIONS: TableDefinition<&[u8], (u64, u64, u64)> =
    TableDefinition::new("revocation_versions");
/// The lowest revocation list version the operator allows (`run --revocation-min-version`),
/// kept so that a restart without the flag keeps the floor.
const META_REVOCATION_FLOOR: &str = "revocation_floor";

pub(super) fn init(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(REVOKED_PASSES)?;
    txn.open_table(REVOKED_MEMBERS)?;
    txn.open_table(REVOCATION_VERSIONS)?;
    Ok(())
}

/// What a revocation names.
#[derive(Debug, Clone, Copy)]
pub(super) enum Revoked {
    Pass,
    Member,
}

impl Revoked {
    fn table(self) -> TableDefinition<'static, &'static [u8], ()> {
        match self {
            Revoked::Pass => REVOKED_PASSES,
            Revoked::Member => REVOKED_MEMBERS,
        }
    }
}

impl Store {
    /// The revocation version, issue time and expiry held per issuer key.
    pub fn revocation_versions(&self) -> Result<Vec<(KeyId, u64, UnixTime, UnixTime)>> {
        self.read(|txn| {
            let mut out = Vec::new();
            for entry in txn.open_table(REVOCATION_VERSIONS)?.range::<&[u8]>(..)? {
                let (k, v) = entry?;
                let Ok(kid) = <[u8; 8]>::try_from(k.value()) else {
                    continue;
                };
                let (version, issued, expires) = v.value();
                out.push((KeyId(kid), version, UnixTime(issued), UnixTime(expires)));
            }
            Ok(out)
        })
    }
}

impl Txn<'_> {
    /// Whether any of `issuers` revoked `id` (a pass id's or member id's bytes).
    pub(super) fn is_revoked(
        &self,
        what: Revoked,
        issuers: &TrustedKeys,
        id: &[u8],
    ) -> Result<bool> {
        self.write(|txn| {
            let table = txn.open_table(what.table())?;
            for key in issuers.iter() {
                let k = [key.id().0.as_slice(), id].concat();
                if table.get(k.as_slice())?.is_some() {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// The revocation version held for an issuer key.
    pub fn revocation_version(&self, issuer: KeyId) -> Result<Option<u64>> {
        self.write(|txn| {
            Ok(txn
                .open_table(REVOCATION_VERSIONS)?
                .get(issuer.0.as_slice())?
                .map(|g| g.value().0))
        })
    }

    /// The lowest revocation list version accepted, as the operator raised it (0: none).
    pub fn revocation_floor(&self) -> Result<u64> {
        self.write(|txn| {
            Ok(txn
                .open_table(META)?
                .get(META_REVOCATION_FLOOR)?
                .map_or(0, |g| g.value()))
        })
    }

    /// Raises the lowest revocation list version accepted; a lower value changes nothing.
    /// Returns the floor now in force.
    pub fn raise_revocation_floor(&mut self, floor: u64) -> Result<u64> {
        let current = self.revocation_floor()?;
        if floor > current {
            self.write(|txn| {
                txn.open_table(META)?.insert(META_REVOCATION_FLOOR, floor)?;
                Ok(())
            })?;
        }
        Ok(floor.max(current))
    }

    /// Applies a revocation list from `issuer` that the gate accepted (a full list replaces
    /// what the key revoked before; a delta changes it), all or nothing with the transaction.
    pub fn apply_revocations(&mut self, issuer: KeyId, list: &RevocationList) -> Result<()> {
        let key = |rest: &[u8]| [issuer.0.as_slice(), rest].concat();
        self.write(|txn| {
            let mut passes = txn.open_table(REVOKED_PASSES)?;
            let mut members = txn.open_table(REVOKED_MEMBERS)?;
            if list.base.is_none() {
                let prefix = issuer.0.as_slice();
                let end = prefix_end(prefix);
                passes.retain_in(prefix..end.as_slice(), |_, _| false)?;
                members.retain_in(prefix..end.as_slice(), |_, _| false)?;
            }
            for p in &list.restored_passes {
                passes.remove(key(p.as_bytes()).as_slice())?;
            }
            for m in &list.restored_members {
                members.remove(key(m.as_str().as_bytes()).as_slice())?;
            }
            for p in &list.revoked_passes {
                passes.insert(key(p.as_bytes()).as_slice(), ())?;
            }
            for m in &list.revoked_members {
                members.insert(key(m.as_str().as_bytes()).as_slice(), ())?;
            }
            txn.open_table(REVOCATION_VERSIONS)?.insert(
                issuer.0.as_slice(),
                (list.version, list.issued_at.0, list.expires.0),
            )?;
            Ok(())
        })
    }
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
