//! Signed commands from the dashboard to one gateway.
//!
//! Invariant: a gateway acts on a command only if the issuer signed it, it names this site
//! and gateway, it is within its short lifetime, and its sequence number is above the last one
//! accepted and its id unseen. The broker can delay, drop or replay commands; it cannot make a
//! gateway act on one twice, late, or meant for another door.

use crate::cbor::{self, b, opt, t, u};
use crate::cose::{self, context};
use crate::{
    CommandId, DecodeError, DoorId, GatewayId, Refusal, Rejection, SecretKey, SiteId, TrustedKeys,
    UnixTime,
};
use alloc::vec::Vec;
use coset::cbor::value::Value;

/// The longest an unlock command may live, in seconds: a remote unlock is for someone
/// standing at the door now, so one that arrives a minute late is refused.
pub const MAX_UNLOCK_COMMAND_LIFETIME: u64 = 60;

/// The longest a lockdown, time beacon or set-clock-floor command may live: the operator acts
/// now.
const MAX_SHORT_COMMAND_LIFETIME: u64 = 300;

/// The longest a command carrying a revocation delta may live: a day, so that it still reaches
/// a gateway whose link was down for hours. The delta's own version check refuses replays.
const MAX_REVOCATION_COMMAND_LIFETIME: u64 = 86_400;

/// The largest command accepted, in bytes, checked before any decoding. An unlock, lockdown
/// or time beacon takes under 200 bytes; a revocation delta inside a command is 17 bytes per
/// pass id, so 256 KiB carries a delta of some 15,000 ids. A larger change goes out as a full
/// list on the site's revocation topic.
pub const MAX_COMMAND_BYTES: usize = 256 * 1024;

/// The longest unlock a command may ask for, in seconds; the door controller caps it again.
const MAX_UNLOCK_SECONDS: u64 = 3600;

/// What a command asks the gateway to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Release a door's lock for some seconds (the door controller caps it).
    Unlock {
        /// The door.
        door: DoorId,
        /// For how long.
        seconds: u32,
    },
    /// Start or end lockdown for one door or all doors of the gateway.
    Lockdown {
        /// The door, or `None` for every door.
        door: Option<DoorId>,
        /// On or off.
        on: bool,
    },
    /// The dashboard's time: the gateway raises its clock floor to it.
    TimeBeacon {
        /// The dashboard's clock when it signed.
        time: UnixTime,
    },
    /// A signed revocation list (usually a delta), verified on its own by the gateway.
    Revocation {
        /// The revocation list's COSE_Sign1 bytes.
        list: Vec<u8>,
    },
    /// An operator's correction: the gateway sets its clock floor to `floor`, lower or higher.
    /// It exists to bring back a floor pushed into the future (by a clock that claimed to be
    /// synchronised), so, like a time beacon, it is exempt from the time checks.
    SetClockFloor {
        /// The new floor.
        floor: UnixTime,
    },
}

impl Action {
    fn max_lifetime(&self) -> u64 {
        match self {
            Action::Unlock { .. } => MAX_UNLOCK_COMMAND_LIFETIME,
            Action::Lockdown { .. } | Action::TimeBeacon { .. } | Action::SetClockFloor { .. } => {
                MAX_SHORT_COMMAND_LIFETIME
            }
            Action::Revocation { .. } => MAX_REVOCATION_COMMAND_LIFETIME,
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Action::Unlock { door, seconds } => {
                Value::Array(alloc::vec![u(0), t(door.as_str()), u((*seconds).into())])
            }
            Action::Lockdown { door, on } => Value::Array(alloc::vec![
                u(1),
                opt(door.as_ref(), |d| t(d.as_str())),
                Value::Bool(*on)
            ]),
            Action::TimeBeacon { time } => Value::Array(alloc::vec![u(2), u(time.0)]),
            Action::Revocation { list } => Value::Array(alloc::vec![u(3), b(list)]),
            Action::SetClockFloor { floor } => Value::Array(alloc::vec![u(4), u(floor.0)]),
        }
    }

    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        const WHAT: &str = "command action must be [0, door, seconds] | [1, door|null, on] | [2, time] | [3, list] | [4, floor]";
        let items = cbor::array(value, WHAT)?;
        let (kind, rest) = items.split_first().ok_or(DecodeError::Malformed(WHAT))?;
        match (cbor::uint(kind, WHAT)?, rest) {
            (0, [door, seconds]) => {
                let seconds = cbor::uint(seconds, WHAT)?;
                if seconds == 0 || seconds > MAX_UNLOCK_SECONDS {
                    return Err(DecodeError::Malformed("unlock seconds must be 1..3600"));
                }
                Ok(Action::Unlock {
                    door: cbor::id(door, WHAT, DoorId::new)?,
                    seconds: u32::try_from(seconds).map_err(|_| DecodeError::Malformed(WHAT))?,
                })
            }
            (1, [door, on]) => Ok(Action::Lockdown {
                door: cbor::optional(door, |d| cbor::id(d, WHAT, DoorId::new))?,
                on: cbor::boolean(on, WHAT)?,
            }),
            (2, [time]) => Ok(Action::TimeBeacon {
                time: UnixTime(cbor::uint(time, WHAT)?),
            }),
            (3, [list]) => Ok(Action::Revocation {
                list: cbor::bytes(list, WHAT)?.to_vec(),
            }),
            (4, [floor]) => Ok(Action::SetClockFloor {
                floor: UnixTime(cbor::uint(floor, WHAT)?),
            }),
            _ => Err(DecodeError::Malformed(WHAT)),
        }
    }
}

/// A command to one gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The gateway's site.
    pub site: SiteId,
    /// The one gateway it is for (`aud`).
    pub gateway: GatewayId,
    /// A random id (`jti`), never reused.
    pub id: CommandId,
    /// When the dashboard signed it.
    pub issued_at: UnixTime,
    /// When it stops being valid.
    pub expires: UnixTime,
    /// The dashboard's per-gateway counter: each command to a gateway has a higher one.
    pub seq: u64,
    /// What to do.
    pub action: Action,
}

/// How strictly a gateway checks command times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandLimits {
    /// How far ahead of the gateway's clock a command's issue time may be.
    pub max_clock_skew_seconds: u64,
}

impl Default for CommandLimits {
    /// 30 seconds: NTP-synced clocks agree far better; an unsynced Pi is handled by the time
    /// beacon, which is exempt from the clock checks.
    fn default() -> Self {
        Self {
            max_clock_skew_seconds: 30,
        }
    }
}

/// What a gateway remembers of the commands it accepted.
pub trait CommandHistory {
    /// The highest sequence number accepted, if any.
    fn last_seq(&self) -> Option<u64>;
    /// Whether a command with this id was accepted before.
    fn seen(&self, id: &CommandId) -> bool;
}

impl Command {
    /// Signs the command with the issuer key.
    #[must_use]
    pub fn sign(&self, issuer: &SecretKey) -> Vec<u8> {
        let payload = Value::Array(alloc::vec![
            t(self.site.as_str()),
            t(self.gateway.as_str()),
            b(self.id.as_bytes()),
            u(self.issued_at.0),
            u(self.expires.0),
            u(self.seq),
            self.action.to_value(),
        ]);
        cose::sign(context::COMMAND, issuer, cbor::encode(&payload))
    }

    fn from_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "command must be [site, gateway, id, issued, expires, seq, action]";
        let value = cbor::decode(payload)?;
        let [site, gateway, id, iat, exp, seq, action] = cbor::tuple::<7>(&value, WHAT)?;
        Ok(Self {
            site: cbor::id(site, "command site must be a valid id", SiteId::new)?,
            gateway: cbor::id(
                gateway,
                "command gateway must be a valid id",
                GatewayId::new,
            )?,
            id: CommandId(cbor::bytes_n::<16>(id, "command id must be 16 bytes")?),
            issued_at: UnixTime(cbor::uint(iat, WHAT)?),
            expires: UnixTime(cbor::uint(exp, WHAT)?),
            seq: cbor::uint(seq, WHAT)?,
            action: Action::from_value(action)?,
        })
    }
}

/// Checks a command's signature against the issuer keys and decodes it, without the
/// address, time and replay checks of [`Command::check`]: so a refused command can still be
/// reported with its id and sequence number.
pub fn open_command(bytes: &[u8], issuers: &TrustedKeys) -> Result<Command, Refusal> {
    if bytes.len() > MAX_COMMAND_BYTES {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_COMMAND_BYTES,
        }
        .into());
    }
    let (_, payload) = cose::verify(bytes, context::COMMAND, issuers)?;
    Ok(Command::from_payload(&payload)?)
}

impl Command {
    /// The checks after the signature, in SPEC.md's order: address, lifetime, time (not for
    /// time beacons and set-clock-floor commands, which exist to fix a wrong clock), sequence,
    /// id.
    pub fn check(
        &self,
        site: &SiteId,
        gateway: &GatewayId,
        now: UnixTime,
        history: &impl CommandHistory,
        limits: CommandLimits,
    ) -> Result<(), Rejection> {
        if &self.site != site || &self.gateway != gateway {
            return Err(Rejection::Misaddressed);
        }
        if self.expires <= self.issued_at
            || self.expires.since(self.issued_at) > self.action.max_lifetime()
        {
            return Err(Rejection::BadLifetime);
        }
        if !matches!(
            self.action,
            Action::TimeBeacon { .. } | Action::SetClockFloor { .. }
        ) {
            if self.issued_at > now.plus(limits.max_clock_skew_seconds) {
                return Err(Rejection::BadLifetime);
            }
            if now >= self.expires {
                return Err(Rejection::Expired);
            }
        }
        if history.last_seq().is_some_and(|last| self.seq <= last) || history.seen(&self.id) {
            return Err(Rejection::ReplayedCommand);
        }
        Ok(())
    }
}

/// Verifies a command for this gateway, in SPEC.md's order: signature, structure, address,
/// lifetime, time (not for time beacons and set-clock-floor commands, which exist to fix a
/// wrong clock), sequence, id.
pub fn verify_command(
    bytes: &[u8],
    issuers: &TrustedKeys,
    site: &SiteId,
    gateway: &GatewayId,
    now: UnixTime,
    history: &impl CommandHistory,
    limits: CommandLimits,
) -> Result<Command, Refusal> {
    let command = open_command(bytes, issuers)?;
    command.check(site, gateway, now, history, limits)?;
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct History(Option<u64>);
    impl CommandHistory for History {
        fn last_seq(&self) -> Option<u64> {
            self.0
        }
        fn seen(&self, id: &CommandId) -> bool {
            id.0 == [0xee; 16]
        }
    }

    fn unlock(seq: u64) -> Command {
        Command {
            site: SiteId::new("byn").unwrap(),
            gateway: GatewayId::new("gw1").unwrap(),
            id: CommandId([seq as u8; 16]),
            issued_at: UnixTime(1000),
            expires: UnixTime(1060),
            seq,
            action: Action::Unlock {
                door: DoorId::new("front").unwrap(),
                seconds: 5,
            },
        }
    }

    fn check(cmd: &Command, now: u64, last: Option<u64>) -> Result<Command, Refusal> {
        let issuer = SecretKey::from_seed(&[3; 32]);
        let keys: TrustedKeys = core::iter::once(issuer.public_key().clone()).collect();
        verify_command(
            &cmd.sign(&issuer),
            &keys,
            &SiteId::new("byn").unwrap(),
            &GatewayId::new("gw1").unwrap(),
            UnixTime(now),
            &History(last),
            CommandLimits::default(),
        )
    }

    #[test]
    fn a_fresh_unlock_for_this_gateway_is_accepted() {
        assert_eq!(check(&unlock(1), 1010, None).unwrap(), unlock(1));
    }

    #[test]
    fn a_command_for_another_gateway_is_misaddressed() {
        let mut cmd = unlock(1);
        cmd.gateway = GatewayId::new("gw2").unwrap();
        assert_eq!(check(&cmd, 1010, None), Err(Rejection::Misaddressed.into()));
    }

    #[test]
    fn an_unlock_living_longer_than_a_minute_is_refused() {
        let mut cmd = unlock(1);
        cmd.expires = UnixTime(1061);
        assert_eq!(check(&cmd, 1010, None), Err(Rejection::BadLifetime.into()));
    }

    #[test]
    fn an_expired_command_is_refused() {
        assert_eq!(
            check(&unlock(1), 1060, None),
            Err(Rejection::Expired.into())
        );
    }

    #[test]
    fn a_replayed_sequence_number_or_id_is_refused() {
        assert_eq!(
            check(&unlock(4), 1010, Some(4)),
            Err(Rejection::ReplayedCommand.into())
        );
        let mut cmd = unlock(5);
        cmd.id = CommandId([0xee; 16]);
        assert_eq!(
            check(&cmd, 1010, Some(4)),
            Err(Rejection::ReplayedCommand.into())
        );
    }

    #[test]
    fn a_time_beacon_is_accepted_by_a_gateway_whose_clock_is_days_behind() {
        let mut cmd = unlock(1);
        let dashboard_now = 1_795_000_000;
        cmd.issued_at = UnixTime(dashboard_now);
        cmd.expires = UnixTime(dashboard_now + 60);
        cmd.action = Action::TimeBeacon {
            time: UnixTime(dashboard_now),
        };
        assert!(check(&cmd, dashboard_now - 3 * 86_400, None).is_ok());
    }

    fn set_floor(seq: u64, floor: u64) -> Command {
        Command {
            action: Action::SetClockFloor {
                floor: UnixTime(floor),
            },
            ..unlock(seq)
        }
    }

    #[test]
    fn a_set_clock_floor_command_is_accepted_by_a_gateway_whose_floor_is_in_2099() {
        let far_future = 4_070_908_800;
        assert_eq!(
            check(&set_floor(1, 1000), far_future, None).unwrap(),
            set_floor(1, 1000)
        );
    }

    #[test]
    fn a_set_clock_floor_command_is_signed_addressed_short_lived_and_single_use() {
        let mut other = set_floor(1, 1000);
        other.gateway = GatewayId::new("gw2").unwrap();
        assert_eq!(
            check(&other, 1010, None),
            Err(Rejection::Misaddressed.into())
        );
        let mut long = set_floor(1, 1000);
        long.expires = UnixTime(1000 + MAX_SHORT_COMMAND_LIFETIME + 1);
        assert_eq!(check(&long, 1010, None), Err(Rejection::BadLifetime.into()));
        assert_eq!(
            check(&set_floor(3, 1000), 1010, Some(3)),
            Err(Rejection::ReplayedCommand.into())
        );
        let issuer = SecretKey::from_seed(&[3; 32]);
        let stranger = SecretKey::from_seed(&[4; 32]);
        let keys: TrustedKeys = core::iter::once(issuer.public_key().clone()).collect();
        assert!(open_command(&set_floor(1, 1000).sign(&stranger), &keys).is_err());
    }
}
