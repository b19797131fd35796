//! How a door is wired and how long it may stay unlocked: [`Config`], built and checked by
//! [`ConfigBuilder`].
//!
//! Invariant: a [`Config`] value is always valid. Its fields are private and the only ways to
//! get one are [`Config::default`] (valid by test) and [`ConfigBuilder::build`], which
//! rejects every invalid combination with a [`ConfigError`] naming the keys involved.

use core::fmt;
use core::time::Duration;

/// How long a grant or an exit-button press releases the lock when nothing else says.
/// Five seconds is the usual access-control default: enough to hear the beep and pull the
/// door, short enough that a pass shown by mistake does not leave the door open for long.
pub const DEFAULT_UNLOCK_TIME: Duration = Duration::from_secs(5);

/// The longest a single grant may release the lock. A booking system or an operator may ask
/// for more than [`DEFAULT_UNLOCK_TIME`] (a wheelchair user, someone carrying a table), but an
/// unstaffed room must not stay unlocked on one grant; half a minute covers a slow passage.
/// Longer openings are hold-open, which is explicit and visible in the status.
pub const DEFAULT_MAX_UNLOCK_TIME: Duration = Duration::from_secs(30);

/// No configuration may let one grant release the lock for longer than this. Ten minutes is
/// already a delivery being carried in; beyond that the operator should use hold-open.
pub const MAX_UNLOCK_TIME_CAP: Duration = Duration::from_secs(10 * 60);

/// How long the door must stay closed, after being opened during a release, before the lock
/// re-engages. A door swinging onto its stop bounces (the sensor reads closed, open, closed
/// within a few hundred milliseconds); locking on the first "closed" would turn the bounce
/// into a false forced-open alarm. One second outlasts a bounce and beats a tailgater.
pub const DEFAULT_RELOCK_DELAY: Duration = Duration::from_secs(1);

/// How long a legitimately opened door may stay open before the held-open alarm. Thirty
/// seconds lets a group walk through and flags a propped door before the heat leaves.
pub const DEFAULT_HELD_OPEN_TIME: Duration = Duration::from_secs(30);

/// What the lock does with power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockType {
    /// An electric strike or motor lock: power releases it, no power keeps it locked. Locked
    /// when the Pi or the mains fails, so egress must be mechanical (a lever handle).
    FailSecure,
    /// A maglock: power holds the door, no power frees it. Free when the Pi or the mains
    /// fails, so it is the choice where the fire code demands free egress on power loss.
    FailSafe,
}

/// A pin's electrical level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Logic low (0 V).
    Low,
    /// Logic high (3.3 V on a Pi).
    High,
}

impl Level {
    /// Whether this is [`Level::High`].
    pub const fn is_high(self) -> bool {
        matches!(self, Level::High)
    }
}

/// What the exit button (request to exit) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitMode {
    /// A press releases the lock for the unlock time, even in lockdown.
    UnlockForEgress,
    /// The door has mechanical egress (or the button cuts the lock's power itself): a press
    /// only shunts the forced-open alarm for the unlock time; the lock is not touched.
    ShuntOnly,
}

/// A validated door configuration. Build one with [`Config::builder`]; see the `DEFAULT_*`
/// constants for the defaults and why they are what they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    unlock_time: Duration,
    max_unlock_time: Duration,
    relock_on_close: bool,
    relock_delay: Duration,
    held_open_time: Duration,
    lock_type: LockType,
    relay_active: Level,
    sensor_closed: Level,
    exit_pressed: Level,
    indicator_active: Level,
    exit_mode: ExitMode,
}

impl Default for Config {
    /// Unlock 5 s, at most 30 s, relock 1 s after the door closes, held-open alarm after
    /// 30 s, fail-secure lock on an active-high relay, door contact closed = low, exit button
    /// pressed = low and unlocking for egress, reader LED and buzzer active low.
    fn default() -> Self {
        Config {
            unlock_time: DEFAULT_UNLOCK_TIME,
            max_unlock_time: DEFAULT_MAX_UNLOCK_TIME,
            relock_on_close: true,
            relock_delay: DEFAULT_RELOCK_DELAY,
            held_open_time: DEFAULT_HELD_OPEN_TIME,
            lock_type: LockType::FailSecure,
            // Relay boards for the Pi mostly switch on a high input; the Pi holds its pins
            // low (or floating, pulled low by the board) while it boots, so the relay rests.
            relay_active: Level::High,
            // A normally-closed contact to ground with the pin pulled up: a cut or unplugged
            // wire reads as "open", so tampering raises an alarm instead of silence.
            sensor_closed: Level::Low,
            // A normally-open button to ground with the pin pulled up, the usual wiring.
            exit_pressed: Level::Low,
            // Wiegand readers light their LED and sound their beeper when the line is pulled low.
            indicator_active: Level::Low,
            exit_mode: ExitMode::UnlockForEgress,
        }
    }
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// How long a grant without a duration of its own, or an exit-button press, releases
    /// the lock (and how long a shunt-only press shunts the forced-open alarm).
    pub fn unlock_time(&self) -> Duration {
        self.unlock_time
    }

    /// The longest one grant may release the lock; longer grants are clamped to it.
    pub fn max_unlock_time(&self) -> Duration {
        self.max_unlock_time
    }

    /// Whether the lock re-engages once the door has been opened and closed again.
    pub fn relock_on_close(&self) -> bool {
        self.relock_on_close
    }

    /// How long the door must stay closed before relocking on close.
    pub fn relock_delay(&self) -> Duration {
        self.relock_delay
    }

    /// How long a legitimately opened door may stay open before the held-open alarm.
    pub fn held_open_time(&self) -> Duration {
        self.held_open_time
    }

    /// Fail-secure (strike) or fail-safe (maglock).
    pub fn lock_type(&self) -> LockType {
        self.lock_type
    }

    /// The relay pin level that energises the lock.
    pub fn relay_active(&self) -> Level {
        self.relay_active
    }

    /// The door sensor pin level that means "closed".
    pub fn sensor_closed(&self) -> Level {
        self.sensor_closed
    }

    /// The exit button pin level that means "pressed".
    pub fn exit_pressed(&self) -> Level {
        self.exit_pressed
    }

    /// The LED and buzzer pin level that means "on".
    pub fn indicator_active(&self) -> Level {
        self.indicator_active
    }

    /// What the exit button does.
    pub fn exit_mode(&self) -> ExitMode {
        self.exit_mode
    }
}

/// Collects configuration values; [`ConfigBuilder::build`] checks them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConfigBuilder {
    /// Unchecked until `build`.
    config: Config,
}

impl ConfigBuilder {
    /// Sets [`Config::unlock_time`].
    #[must_use]
    pub fn unlock_time(mut self, unlock_time: Duration) -> Self {
        self.config.unlock_time = unlock_time;
        self
    }

    /// Sets [`Config::max_unlock_time`].
    #[must_use]
    pub fn max_unlock_time(mut self, max_unlock_time: Duration) -> Self {
        self.config.max_unlock_time = max_unlock_time;
        self
    }

    /// Sets [`Config::relock_on_close`].
    #[must_use]
    pub fn relock_on_close(mut self, relock_on_close: bool) -> Self {
        self.config.relock_on_close = relock_on_close;
        self
    }

    /// Sets [`Config::relock_delay`].
    #[must_use]
    pub fn relock_delay(mut self, relock_delay: Duration) -> Self {
        self.config.relock_delay = relock_delay;
        self
    }

    /// Sets [`Config::held_open_time`].
    #[must_use]
    pub fn held_open_time(mut self, held_open_time: Duration) -> Self {
        self.config.held_open_time = held_open_time;
        self
    }

    /// Sets [`Config::lock_type`].
    #[must_use]
    pub fn lock_type(mut self, lock_type: LockType) -> Self {
        self.config.lock_type = lock_type;
        self
    }

    /// Sets [`Config::relay_active`].
    #[must_use]
    pub fn relay_active(mut self, level: Level) -> Self {
        self.config.relay_active = level;
        self
    }

    /// Sets [`Config::sensor_closed`].
    #[must_use]
    pub fn sensor_closed(mut self, level: Level) -> Self {
        self.config.sensor_closed = level;
        self
    }

    /// Sets [`Config::exit_pressed`].
    #[must_use]
    pub fn exit_pressed(mut self, level: Level) -> Self {
        self.config.exit_pressed = level;
        self
    }

    /// Sets [`Config::indicator_active`].
    #[must_use]
    pub fn indicator_active(mut self, level: Level) -> Self {
        self.config.indicator_active = level;
        self
    }

    /// Sets [`Config::exit_mode`].
    #[must_use]
    pub fn exit_mode(mut self, exit_mode: ExitMode) -> Self {
        self.config.exit_mode = exit_mode;
        self
    }

    /// Checks the values together and returns the configuration, or the first problem found.
    pub fn build(self) -> Result<Config, ConfigError> {
        let c = self.config;
        // The controller counts whole milliseconds; anything shorter is no release at all.
        if c.unlock_time < Duration::from_millis(1) {
            return Err(ConfigError::UnlockTimeZero);
        }
        if c.max_unlock_time > MAX_UNLOCK_TIME_CAP {
            return Err(ConfigError::MaxUnlockTimeAboveCap {
                max_unlock_time: c.max_unlock_time,
                cap: MAX_UNLOCK_TIME_CAP,
            });
        }
        if c.unlock_time > c.max_unlock_time {
            return Err(ConfigError::UnlockTimeAboveMax {
                unlock_time: c.unlock_time,
                max_unlock_time: c.max_unlock_time,
            });
        }
        if c.held_open_time < c.unlock_time {
            return Err(ConfigError::HeldOpenTimeBelowUnlockTime {
                held_open_time: c.held_open_time,
                unlock_time: c.unlock_time,
            });
        }
        if c.relock_on_close && c.relock_delay >= c.unlock_time {
            return Err(ConfigError::RelockDelayNotBelowUnlockTime {
                relock_delay: c.relock_delay,
                unlock_time: c.unlock_time,
            });
        }
        Ok(c)
    }
}

/// Why [`ConfigBuilder::build`] refused a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `unlock_time` is under one millisecond, the controller's resolution: every release
    /// would end as it began.
    UnlockTimeZero,
    /// `unlock_time` is longer than `max_unlock_time`, so the ordinary release would break
    /// the cap meant for exceptional ones.
    UnlockTimeAboveMax {
        /// The configured unlock time.
        unlock_time: Duration,
        /// The configured maximum.
        max_unlock_time: Duration,
    },
    /// `max_unlock_time` is above [`MAX_UNLOCK_TIME_CAP`]; use hold-open for long openings.
    MaxUnlockTimeAboveCap {
        /// The configured maximum.
        max_unlock_time: Duration,
        /// The hard cap it exceeds.
        cap: Duration,
    },
    /// `held_open_time` is shorter than `unlock_time`: a member walking through at an
    /// ordinary pace would set off the held-open alarm.
    HeldOpenTimeBelowUnlockTime {
        /// The configured held-open time.
        held_open_time: Duration,
        /// The configured unlock time.
        unlock_time: Duration,
    },
    /// With `relock_on_close`, `relock_delay` is not shorter than `unlock_time`, so the
    /// release would always end before the door could relock on closing.
    RelockDelayNotBelowUnlockTime {
        /// The configured relock delay.
        relock_delay: Duration,
        /// The configured unlock time.
        unlock_time: Duration,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnlockTimeZero => {
                write!(f, "unlock_time must be at least 1 ms")
            }
            ConfigError::UnlockTimeAboveMax {
                unlock_time,
                max_unlock_time,
            } => write!(
                f,
                "unlock_time ({unlock_time:?}) must not exceed max_unlock_time ({max_unlock_time:?})"
            ),
            ConfigError::MaxUnlockTimeAboveCap {
                max_unlock_time,
                cap,
            } => write!(
                f,
                "max_unlock_time ({max_unlock_time:?}) must not exceed {cap:?}; use hold-open for longer openings"
            ),
            ConfigError::HeldOpenTimeBelowUnlockTime {
                held_open_time,
                unlock_time,
            } => write!(
                f,
                "held_open_time ({held_open_time:?}) must be at least unlock_time ({unlock_time:?})"
            ),
            ConfigError::RelockDelayNotBelowUnlockTime {
                relock_delay,
                unlock_time,
            } => write!(
                f,
                "relock_delay ({relock_delay:?}) must be shorter than unlock_time ({unlock_time:?}) when relock_on_close is set"
            ),
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn default_config_is_valid_and_has_the_documented_values() {
        let c = Config::builder().build().unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.unlock_time(), secs(5));
        assert_eq!(c.max_unlock_time(), secs(30));
        assert!(c.relock_on_close());
        assert_eq!(c.relock_delay(), secs(1));
        assert_eq!(c.held_open_time(), secs(30));
        assert_eq!(c.lock_type(), LockType::FailSecure);
        assert_eq!(c.relay_active(), Level::High);
        assert_eq!(c.sensor_closed(), Level::Low);
        assert_eq!(c.exit_pressed(), Level::Low);
        assert_eq!(c.indicator_active(), Level::Low);
        assert_eq!(c.exit_mode(), ExitMode::UnlockForEgress);
    }

    #[test]
    fn zero_unlock_time_is_rejected() {
        let r = Config::builder().unlock_time(Duration::ZERO).build();
        assert_eq!(r, Err(ConfigError::UnlockTimeZero));
        let r = Config::builder()
            .unlock_time(Duration::from_micros(999))
            .build();
        assert_eq!(r, Err(ConfigError::UnlockTimeZero));
    }

    #[test]
    fn unlock_time_above_max_unlock_time_is_rejected() {
        let r = Config::builder()
            .unlock_time(secs(10))
            .max_unlock_time(secs(8))
            .build();
        assert_eq!(
            r,
            Err(ConfigError::UnlockTimeAboveMax {
                unlock_time: secs(10),
                max_unlock_time: secs(8)
            })
        );
    }

    #[test]
    fn max_unlock_time_above_the_hard_cap_is_rejected() {
        let r = Config::builder().max_unlock_time(secs(601)).build();
        assert_eq!(
            r,
            Err(ConfigError::MaxUnlockTimeAboveCap {
                max_unlock_time: secs(601),
                cap: MAX_UNLOCK_TIME_CAP
            })
        );
        let at_cap = Config::builder()
            .max_unlock_time(MAX_UNLOCK_TIME_CAP)
            .build();
        assert!(at_cap.is_ok());
    }

    #[test]
    fn held_open_time_shorter_than_unlock_time_is_rejected() {
        let r = Config::builder().held_open_time(secs(4)).build();
        assert_eq!(
            r,
            Err(ConfigError::HeldOpenTimeBelowUnlockTime {
                held_open_time: secs(4),
                unlock_time: secs(5)
            })
        );
    }

    #[test]
    fn relock_delay_not_shorter_than_unlock_time_is_rejected_only_when_relocking_on_close() {
        let r = Config::builder().relock_delay(secs(5)).build();
        assert_eq!(
            r,
            Err(ConfigError::RelockDelayNotBelowUnlockTime {
                relock_delay: secs(5),
                unlock_time: secs(5)
            })
        );
        let unused = Config::builder()
            .relock_on_close(false)
            .relock_delay(secs(5))
            .build();
        assert!(unused.is_ok());
    }

    #[test]
    fn config_errors_name_the_keys_involved() {
        extern crate std;
        use std::string::ToString;
        let e = Config::builder()
            .held_open_time(secs(1))
            .build()
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("held_open_time") && text.contains("unlock_time"),
            "{text}"
        );
    }
}
