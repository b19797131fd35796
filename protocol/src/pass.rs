//! The member pass: a COSE_Sign1 (EdDSA) over CWT claims, signed by the issuer key.
//!
//! A pass is self-contained: a gateway admits its holder with nothing but the issuer's public
//! key, the time and the revocation list it last received, so a door keeps working after days
//! offline. The checks run in the order SPEC.md lists: signature first (nothing unsigned is
//! parsed further than the COSE structure), then validity window, site, door and schedule.

use crate::cbor::{self, b, opt, t, u};
use crate::cose::{self, context};
use crate::presentation::{DeviceKey, COMPRESSED_KEY_LEN};
use crate::{
    DecodeError, DoorId, KeyId, MemberId, PassId, Refusal, Rejection, Schedule, SecretKey, SiteId,
    TrustedKeys, UnixTime, WeekTime,
};
use alloc::vec::Vec;
use coset::cbor::value::{Integer, Value};

/// CWT claim key `sub` (RFC 8392): the member id.
const CLAIM_SUB: i128 = 2;
/// CWT claim key `exp`: expiry.
const CLAIM_EXP: i128 = 4;
/// CWT claim key `nbf`: not before.
const CLAIM_NBF: i128 = 5;
/// CWT claim key `cti`: the pass id.
const CLAIM_CTI: i128 = 7;
/// bygd's private claim (RFC 8392 private-use range, below -65536): `[kind, scope, schedule,
/// device key]`. One private key for all of bygd's fields costs 5 bytes once instead of 5
/// bytes per field.
const CLAIM_BYGD: i128 = -65537;

/// The most sites one pass may name; a network of spaces honouring each other's members.
const MAX_SITES: usize = 16;
/// The most doors one pass may name at one site.
const MAX_DOORS_PER_SITE: usize = 32;

/// What kind of holder a pass is for. Gateways may treat kinds differently by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PassKind {
    /// A regular member.
    Member,
    /// A guest, usually for a booking window.
    Guest,
    /// Staff of the space: cleaners, the operator.
    Staff,
    /// Emergency access that still opens when the revocation list is stale (fire brigade,
    /// caretaker). Issue few; every use is logged.
    BreakGlass,
}

impl PassKind {
    pub(crate) fn wire(self) -> u64 {
        match self {
            PassKind::Member => 0,
            PassKind::Guest => 1,
            PassKind::Staff => 2,
            PassKind::BreakGlass => 3,
        }
    }

    /// The kind for its wire number.
    #[must_use]
    pub fn from_wire(n: u64) -> Option<Self> {
        match n {
            0 => Some(PassKind::Member),
            1 => Some(PassKind::Guest),
            2 => Some(PassKind::Staff),
            3 => Some(PassKind::BreakGlass),
            _ => None,
        }
    }

    /// The kind's name in config files, JSON and the CLI.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PassKind::Member => "member",
            PassKind::Guest => "guest",
            PassKind::Staff => "staff",
            PassKind::BreakGlass => "break-glass",
        }
    }

    /// The kind for its name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            PassKind::Member,
            PassKind::Guest,
            PassKind::Staff,
            PassKind::BreakGlass,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// Where a pass opens doors: one site, and all its doors or some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteScope {
    /// The site.
    pub site: SiteId,
    /// The doors at that site; empty means every door.
    pub doors: Vec<DoorId>,
}

impl SiteScope {
    /// Every door at `site`.
    #[must_use]
    pub fn all_doors(site: SiteId) -> Self {
        Self {
            site,
            doors: Vec::new(),
        }
    }

    fn allows(&self, door: &DoorId) -> bool {
        self.doors.is_empty() || self.doors.contains(door)
    }
}

/// What a pass says, once its signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassClaims {
    /// The member the pass belongs to (CWT `sub`).
    pub member: MemberId,
    /// The pass's random 128-bit id (CWT `cti`), what revocation lists name.
    pub pass_id: PassId,
    /// Valid from this time (CWT `nbf`), inclusive.
    pub not_before: UnixTime,
    /// Valid until this time (CWT `exp`), exclusive.
    pub expires: UnixTime,
    /// Member, guest, staff or break-glass.
    pub kind: PassKind,
    /// Sites and doors: at least one site.
    pub scope: Vec<SiteScope>,
    /// Weekly opening hours in the site's local time; `None` means any time.
    pub schedule: Option<Schedule>,
    /// If present, the pass opens only with a fresh proof signed by this phone key.
    pub device_key: Option<DeviceKey>,
}

/// A pass whose signature verified, with the key id of the issuer key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPass {
    /// The issuer key that signed the pass.
    pub issuer: KeyId,
    /// The claims.
    pub claims: PassClaims,
}

/// Where and when a pass is presented.
#[derive(Debug, Clone, Copy)]
pub struct AccessContext<'a> {
    /// This gateway's site.
    pub site: &'a SiteId,
    /// The door the reader belongs to.
    pub door: &'a DoorId,
    /// The time the gateway decides at.
    pub now: UnixTime,
    /// `now` in the site's local week (from the gateway's configured time zone).
    pub local: WeekTime,
}

impl PassClaims {
    /// Signs the claims with the issuer key; the result is the pass's bytes.
    #[must_use]
    pub fn issue(&self, issuer: &SecretKey) -> Vec<u8> {
        cose::sign(context::PASS, issuer, cbor::encode(&self.to_value()))
    }

    /// Checks the validity window, the site, the door and the schedule, in that order.
    pub fn check_access(&self, at: &AccessContext<'_>) -> Result<(), Rejection> {
        if at.now < self.not_before {
            return Err(Rejection::NotYetValid);
        }
        if at.now >= self.expires {
            return Err(Rejection::Expired);
        }
        // A site may appear in more than one scope entry; the door is allowed if any allows it.
        let mut entries = self.scope.iter().filter(|s| &s.site == at.site).peekable();
        if entries.peek().is_none() {
            return Err(Rejection::WrongSite);
        }
        if !entries.any(|s| s.allows(at.door)) {
            return Err(Rejection::WrongDoor);
        }
        if let Some(schedule) = &self.schedule {
            if !schedule.allows(at.local) {
                return Err(Rejection::OutsideSchedule);
            }
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        let scope = self
            .scope
            .iter()
            .map(|s| {
                let mut entry = alloc::vec![t(s.site.as_str())];
                entry.extend(s.doors.iter().map(|d| t(d.as_str())));
                Value::Array(entry)
            })
            .collect();
        let bygd = Value::Array(alloc::vec![
            u(self.kind.wire()),
            Value::Array(scope),
            opt(self.schedule.as_ref(), Schedule::to_value),
            opt(self.device_key.as_ref(), |k| b(&k.to_sec1())),
        ]);
        // Keys in CBOR deterministic order (RFC 8949 4.2.1): 2, 4, 5, 7, then the negative key.
        Value::Map(alloc::vec![
            (claim(CLAIM_SUB), t(self.member.as_str())),
            (claim(CLAIM_EXP), u(self.expires.0)),
            (claim(CLAIM_NBF), u(self.not_before.0)),
            (claim(CLAIM_CTI), b(self.pass_id.as_bytes())),
            (claim(CLAIM_BYGD), bygd),
        ])
    }

    /// Decodes the claims from a verified payload.
    pub(crate) fn from_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        let value = cbor::decode(payload)?;
        let Value::Map(entries) = value else {
            return Err(DecodeError::Malformed("pass claims must be a CBOR map"));
        };
        let mut member = None;
        let mut expires = None;
        let mut not_before = None;
        let mut pass_id = None;
        let mut bygd = None;
        for (key, value) in &entries {
            let slot_filled = match cbor::int(key, "pass claim keys must be integers")? {
                CLAIM_SUB => member
                    .replace(cbor::id(
                        value,
                        "sub (member id) must be a valid id",
                        MemberId::new,
                    )?)
                    .is_some(),
                CLAIM_EXP => expires
                    .replace(UnixTime(cbor::uint(
                        value,
                        "exp must be an unsigned integer",
                    )?))
                    .is_some(),
                CLAIM_NBF => not_before
                    .replace(UnixTime(cbor::uint(
                        value,
                        "nbf must be an unsigned integer",
                    )?))
                    .is_some(),
                CLAIM_CTI => pass_id
                    .replace(PassId(cbor::bytes_n::<16>(
                        value,
                        "cti (pass id) must be 16 bytes",
                    )?))
                    .is_some(),
                CLAIM_BYGD => bygd.replace(value).is_some(),
                _ => return Err(DecodeError::Malformed("pass has an unknown claim")),
            };
            if slot_filled {
                return Err(DecodeError::Malformed("pass repeats a claim"));
            }
        }
        let missing = DecodeError::Malformed("pass lacks sub, exp, nbf, cti or the bygd claim");
        let (Some(member), Some(expires), Some(not_before), Some(pass_id), Some(bygd)) =
            (member, expires, not_before, pass_id, bygd)
        else {
            return Err(missing);
        };
        if not_before >= expires {
            return Err(DecodeError::Malformed("pass nbf must be before exp"));
        }
        let [kind, scope, schedule, device_key] = cbor::tuple::<4>(
            bygd,
            "bygd claim must be [kind, scope, schedule, device key]",
        )?;
        let kind = PassKind::from_wire(cbor::uint(kind, "pass kind must be 0..3")?)
            .ok_or(DecodeError::Malformed("pass kind must be 0..3"))?;
        let scope = decode_scope(scope)?;
        let schedule = cbor::optional(schedule, Schedule::from_value)?;
        let device_key = cbor::optional(device_key, |v| {
            const WHAT: &str = "device key must be a 33-byte compressed P-256 public key";
            let bytes = cbor::bytes(v, WHAT)?;
            if bytes.len() != COMPRESSED_KEY_LEN {
                return Err(DecodeError::Malformed(WHAT));
            }
            DeviceKey::from_sec1(bytes).ok_or(DecodeError::Malformed(WHAT))
        })?;
        Ok(Self {
            member,
            pass_id,
            not_before,
            expires,
            kind,
            scope,
            schedule,
            device_key,
        })
    }
}

fn claim(key: i128) -> Value {
    // The claim keys are small constants that always fit a CBOR integer.
    Value::Integer(Integer::try_from(key).unwrap_or_else(|_| Integer::from(0u8)))
}

fn decode_scope(value: &Value) -> Result<Vec<SiteScope>, DecodeError> {
    const WHAT: &str = "scope must be [[site, door...]...] with 1 to 16 sites and valid ids";
    let sites = cbor::array(value, WHAT)?;
    if sites.is_empty() || sites.len() > MAX_SITES {
        return Err(DecodeError::Malformed(WHAT));
    }
    sites
        .iter()
        .map(|entry| {
            let items = cbor::array(entry, WHAT)?;
            let (site, doors) = items.split_first().ok_or(DecodeError::Malformed(WHAT))?;
            if doors.len() > MAX_DOORS_PER_SITE {
                return Err(DecodeError::Malformed(WHAT));
            }
            Ok(SiteScope {
                site: cbor::id(site, WHAT, SiteId::new)?,
                doors: doors
                    .iter()
                    .map(|d| cbor::id(d, WHAT, DoorId::new))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Checks a pass's signature against the trusted issuer keys and decodes its claims.
///
/// Does not check time, place or revocation: see [`PassClaims::check_access`] and
/// [`verify_pass`], which does both.
pub fn open_pass(bytes: &[u8], issuers: &TrustedKeys) -> Result<VerifiedPass, Refusal> {
    let (issuer, payload) = cose::verify(bytes, context::PASS, issuers)?;
    let claims = PassClaims::from_payload(&payload)?;
    Ok(VerifiedPass { issuer, claims })
}

/// Verifies a pass for entry: signature, claims, validity window, site, door, schedule.
///
/// Revocation and device proofs are checked by the caller afterwards (they need state): see
/// [`crate::Revocations`] and [`crate::verify_presentation`].
pub fn verify_pass(
    bytes: &[u8],
    issuers: &TrustedKeys,
    at: &AccessContext<'_>,
) -> Result<VerifiedPass, Refusal> {
    let pass = open_pass(bytes, issuers)?;
    pass.claims.check_access(at)?;
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn door(name: &str) -> DoorId {
        DoorId::new(name).unwrap()
    }

    #[test]
    fn a_site_named_twice_allows_the_doors_of_both_entries() {
        let site = SiteId::new("byn").unwrap();
        let claims = PassClaims {
            member: MemberId::new("anna").unwrap(),
            pass_id: PassId([1; 16]),
            not_before: UnixTime(100),
            expires: UnixTime(200),
            kind: PassKind::Member,
            scope: alloc::vec![
                SiteScope {
                    site: site.clone(),
                    doors: alloc::vec![door("front")],
                },
                SiteScope {
                    site: site.clone(),
                    doors: alloc::vec![door("back")],
                },
            ],
            schedule: None,
            device_key: None,
        };
        let at = |d: &DoorId| {
            claims.check_access(&AccessContext {
                site: &site,
                door: d,
                now: UnixTime(150),
                local: WeekTime::from_unix_with_offset(UnixTime(150), 0),
            })
        };
        assert_eq!(at(&door("front")), Ok(()));
        assert_eq!(at(&door("back")), Ok(()));
        assert_eq!(at(&door("side")), Err(Rejection::WrongDoor));
    }
}
