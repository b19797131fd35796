//! Signed, versioned revocation lists: full lists and deltas, and the state they build.
//!
//! Invariant: a verifier's revocation state only moves forward, and only from lists signed
//! for its own site. The site is the first element of the signed payload and is checked
//! before anything about versions, so a list copied from another site (whose version counter
//! is its own) is refused as misaddressed and can neither un-revoke a pass nor poison the
//! version the state holds. A full list must carry a higher version than the state; a delta
//! must name the state's exact version as its base. Anything else is refused as a rollback or
//! a mismatch, so a broker that replays an old retained list (or drops a delta) can never
//! un-revoke a pass.

use crate::cbor::{self, b, opt, t, u};
use crate::cose::{self, context};
use crate::presentation::Revocations;
use crate::{
    DecodeError, KeyId, MemberId, PassId, Refusal, Rejection, SecretKey, SiteId, TrustedKeys,
    UnixTime,
};
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use coset::cbor::value::Value;

/// The largest revocation list accepted, in bytes, checked before any decoding. A full list
/// of a million revoked pass ids (the scale a gateway is built for, DESIGN.md) is 17,000,000
/// bytes; 24 MiB leaves over 7 MB for revoked members (some 350,000 ids of 20 characters).
/// The gateway's MQTT client reads packets up to this size plus the MQTT header.
pub const MAX_REVOCATION_LIST_BYTES: usize = 24 * 1024 * 1024;

/// A revocation list as the issuer signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// The one site whose gateways may apply it. Inside the signed bytes, so a copy delivered
    /// to another site's gateways is refused (versions are counted per site).
    pub site: SiteId,
    /// This list's version; every list the issuer key signs has a higher one than the last.
    pub version: u64,
    /// `None` for a full list; for a delta, the version it applies on top of.
    pub base: Option<u64>,
    /// When the issuer made it.
    pub issued_at: UnixTime,
    /// When a gateway should consider it stale if nothing newer came (its policy decides
    /// what stale means for entries).
    pub expires: UnixTime,
    /// Pass ids revoked (for a full list, all of them).
    pub revoked_passes: Vec<PassId>,
    /// Members revoked: every pass of theirs.
    pub revoked_members: Vec<MemberId>,
    /// Delta only: pass ids no longer listed (usually because the pass expired anyway).
    pub restored_passes: Vec<PassId>,
    /// Delta only: members whose revocation was lifted.
    pub restored_members: Vec<MemberId>,
}

impl RevocationList {
    /// An empty full list for `site` at version 0: a starting point for building lists
    /// (`RevocationList { version: 7, ..RevocationList::empty(site) }`).
    #[must_use]
    pub fn empty(site: SiteId) -> Self {
        Self {
            site,
            version: 0,
            base: None,
            issued_at: UnixTime(0),
            expires: UnixTime(0),
            revoked_passes: Vec::new(),
            revoked_members: Vec::new(),
            restored_passes: Vec::new(),
            restored_members: Vec::new(),
        }
    }

    /// Signs the list with the issuer key.
    #[must_use]
    pub fn sign(&self, issuer: &SecretKey) -> Vec<u8> {
        let passes = |ids: &[PassId]| Value::Array(ids.iter().map(|p| b(p.as_bytes())).collect());
        let members = |ids: &[MemberId]| Value::Array(ids.iter().map(|m| t(m.as_str())).collect());
        let payload = Value::Array(alloc::vec![
            t(self.site.as_str()),
            u(self.version),
            opt(self.base, u),
            u(self.issued_at.0),
            u(self.expires.0),
            passes(&self.revoked_passes),
            members(&self.revoked_members),
            passes(&self.restored_passes),
            members(&self.restored_members),
        ]);
        cose::sign(context::REVOCATION, issuer, cbor::encode(&payload))
    }

    fn from_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "revocation list must be [site, version, base, issued, expires, passes, members, restored passes, restored members]";
        let value = cbor::decode(payload)?;
        let [site, version, base, issued_at, expires, rp, rm, sp, sm] =
            cbor::tuple::<9>(&value, WHAT)?;
        let passes = |v: &Value| -> Result<Vec<PassId>, DecodeError> {
            cbor::array(v, "revoked pass ids must be an array")?
                .iter()
                .map(|p| cbor::bytes_n::<16>(p, "a revoked pass id must be 16 bytes").map(PassId))
                .collect()
        };
        let members = |v: &Value| -> Result<Vec<MemberId>, DecodeError> {
            cbor::array(v, "revoked member ids must be an array")?
                .iter()
                .map(|m| cbor::id(m, "a revoked member id must be a valid id", MemberId::new))
                .collect()
        };
        let list = Self {
            site: cbor::id(site, "revocation list site must be a valid id", SiteId::new)?,
            version: cbor::uint(version, "revocation version must be an unsigned integer")?,
            base: cbor::optional(base, |v| {
                cbor::uint(v, "delta base must be an unsigned integer")
            })?,
            issued_at: UnixTime(cbor::uint(
                issued_at,
                "issued-at must be an unsigned integer",
            )?),
            expires: UnixTime(cbor::uint(expires, "expiry must be an unsigned integer")?),
            revoked_passes: passes(rp)?,
            revoked_members: members(rm)?,
            restored_passes: passes(sp)?,
            restored_members: members(sm)?,
        };
        if list.expires <= list.issued_at {
            return Err(DecodeError::Malformed(
                "revocation list expires before it is issued",
            ));
        }
        match list.base {
            Some(base) if base >= list.version => Err(DecodeError::Malformed(
                "a delta's version must be above its base",
            )),
            None if !list.restored_passes.is_empty() || !list.restored_members.is_empty() => Err(
                DecodeError::Malformed("a full list cannot restore anything"),
            ),
            _ => Ok(list),
        }
    }

    /// Whether this list was signed for `site`: [`Rejection::Misaddressed`] if not. A
    /// verifier checks this before [`Self::applies_to`], so a list for another site never
    /// counts as newer or older than its own.
    pub fn check_site(&self, site: &SiteId) -> Result<(), Rejection> {
        if &self.site == site {
            Ok(())
        } else {
            Err(Rejection::Misaddressed)
        }
    }

    /// Whether this list may be applied to a state at `current` version (`None`: no list yet).
    ///
    /// A full list needs a higher version; a delta needs `current == base`.
    pub fn applies_to(&self, current: Option<u64>) -> Result<(), Rejection> {
        if current.is_some_and(|c| self.version <= c) {
            return Err(Rejection::Rollback);
        }
        match self.base {
            Some(base) if current != Some(base) => Err(Rejection::DeltaMismatch),
            _ => Ok(()),
        }
    }

    /// Whether the list is past its expiry at `now`.
    #[must_use]
    pub fn is_expired(&self, now: UnixTime) -> bool {
        now >= self.expires
    }
}

/// Checks a revocation list's signature and decodes it, without the site check of
/// [`verify_revocation_list`]: so a refused list can still be reported with its version.
/// Returns the signing key's id, since state is kept per issuer key.
pub fn open_revocation_list(
    bytes: &[u8],
    issuers: &TrustedKeys,
) -> Result<(KeyId, RevocationList), Refusal> {
    if bytes.len() > MAX_REVOCATION_LIST_BYTES {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_REVOCATION_LIST_BYTES,
        }
        .into());
    }
    let (issuer, payload) = cose::verify(bytes, context::REVOCATION, issuers)?;
    Ok((issuer, RevocationList::from_payload(&payload)?))
}

/// Verifies a revocation list for a gateway at `site`, in SPEC.md's order: signature,
/// payload shape, then the site (`misaddressed`). Returns the signing key's id, since state
/// is kept per issuer key; the version checks come when the list is applied.
pub fn verify_revocation_list(
    bytes: &[u8],
    issuers: &TrustedKeys,
    site: &SiteId,
) -> Result<(KeyId, RevocationList), Refusal> {
    let (issuer, list) = open_revocation_list(bytes, issuers)?;
    list.check_site(site)?;
    Ok((issuer, list))
}

/// An in-memory revocation state for one issuer key.
///
/// The gateway keeps the same state in its database for a million ids; this type is the
/// reference the database version is tested against, and what small verifiers use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationState {
    /// The version of the last list applied, or `None` before the first.
    pub version: Option<u64>,
    /// When the last list applied was issued.
    pub issued_at: UnixTime,
    /// When the last list applied expires.
    pub expires: UnixTime,
    /// Revoked pass ids.
    pub passes: BTreeSet<PassId>,
    /// Revoked members.
    pub members: BTreeSet<MemberId>,
}

impl RevocationState {
    /// Applies a full list or a delta, all or nothing; refuses rollback and mismatched deltas.
    pub fn apply(&mut self, list: &RevocationList) -> Result<(), Rejection> {
        list.applies_to(self.version)?;
        if list.base.is_none() {
            self.passes.clear();
            self.members.clear();
        }
        for p in &list.restored_passes {
            self.passes.remove(p);
        }
        for m in &list.restored_members {
            self.members.remove(m);
        }
        self.passes.extend(list.revoked_passes.iter().copied());
        self.members.extend(list.revoked_members.iter().cloned());
        self.version = Some(list.version);
        self.issued_at = list.issued_at;
        self.expires = list.expires;
        Ok(())
    }
}

impl Revocations for RevocationState {
    fn is_pass_revoked(&self, pass_id: &PassId) -> bool {
        self.passes.contains(pass_id)
    }
    fn is_member_revoked(&self, member: &MemberId) -> bool {
        self.members.contains(member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn byn() -> SiteId {
        SiteId::new("byn").unwrap()
    }

    fn full(version: u64, passes: &[u8]) -> RevocationList {
        RevocationList {
            version,
            issued_at: UnixTime(100),
            expires: UnixTime(200),
            revoked_passes: passes.iter().map(|b| PassId([*b; 16])).collect(),
            ..RevocationList::empty(byn())
        }
    }

    #[test]
    fn revocation_list_rollback_is_rejected() {
        let mut state = RevocationState::default();
        state.apply(&full(5, &[1])).unwrap();
        assert_eq!(state.apply(&full(4, &[])), Err(Rejection::Rollback));
        assert_eq!(state.apply(&full(5, &[])), Err(Rejection::Rollback));
        assert!(state.is_pass_revoked(&PassId([1; 16])));
    }

    #[test]
    fn a_delta_applies_only_on_its_base_version() {
        let mut state = RevocationState::default();
        state.apply(&full(5, &[1, 2])).unwrap();
        let delta = RevocationList {
            version: 7,
            base: Some(6),
            ..full(7, &[3])
        };
        assert_eq!(state.apply(&delta), Err(Rejection::DeltaMismatch));
        let delta = RevocationList {
            version: 6,
            base: Some(5),
            restored_passes: alloc::vec![PassId([1; 16])],
            ..full(6, &[3])
        };
        state.apply(&delta).unwrap();
        assert_eq!(state.version, Some(6));
        assert!(!state.is_pass_revoked(&PassId([1; 16])));
        assert!(state.is_pass_revoked(&PassId([2; 16])));
        assert!(state.is_pass_revoked(&PassId([3; 16])));
    }

    #[test]
    fn a_full_list_replaces_everything_before_it() {
        let mut state = RevocationState::default();
        state.apply(&full(1, &[1])).unwrap();
        state.apply(&full(2, &[2])).unwrap();
        assert!(!state.is_pass_revoked(&PassId([1; 16])));
        assert!(state.is_pass_revoked(&PassId([2; 16])));
    }

    #[test]
    fn a_signed_list_verifies_and_round_trips() {
        let issuer = SecretKey::from_seed(&[9; 32]);
        let keys: TrustedKeys = core::iter::once(issuer.public_key().clone()).collect();
        let mut list = full(3, &[1, 2]);
        list.revoked_members.push(MemberId::new("anna").unwrap());
        let (kid, decoded) = verify_revocation_list(&list.sign(&issuer), &keys, &byn()).unwrap();
        assert_eq!((kid, decoded), (issuer.id(), list));
    }

    #[test]
    fn a_list_signed_for_another_site_is_misaddressed() {
        let issuer = SecretKey::from_seed(&[9; 32]);
        let keys: TrustedKeys = core::iter::once(issuer.public_key().clone()).collect();
        let dal = RevocationList {
            site: SiteId::new("dal").unwrap(),
            ..full(9, &[])
        };
        assert_eq!(
            verify_revocation_list(&dal.sign(&issuer), &keys, &byn()),
            Err(Rejection::Misaddressed.into())
        );
        let (_, opened) = open_revocation_list(&dal.sign(&issuer), &keys).unwrap();
        assert_eq!(opened, dal);
    }

    #[test]
    fn a_list_in_the_old_shape_without_a_site_is_malformed() {
        let issuer = SecretKey::from_seed(&[9; 32]);
        let keys: TrustedKeys = core::iter::once(issuer.public_key().clone()).collect();
        let empty = Value::Array(Vec::new());
        let old = Value::Array(alloc::vec![
            u(3),
            Value::Null,
            u(100),
            u(200),
            empty.clone(),
            empty.clone(),
            empty.clone(),
            empty,
        ]);
        let signed = cose::sign(context::REVOCATION, &issuer, cbor::encode(&old));
        assert!(matches!(
            verify_revocation_list(&signed, &keys, &byn()),
            Err(Refusal::Decode(DecodeError::Malformed(_)))
        ));
    }
}
