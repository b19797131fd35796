//! The bygd door controller: what keeps a door safe whatever the rest of the software does.
//!
//! A pure, deterministic state machine ([`DoorController`]) decides when the lock is
//! released and when an alarm is raised; a thin embedded-hal 1.0 adapter ([`Door`]) moves
//! the pins. The controller does no I/O, reads no clock (the driver passes `now` in), never
//! allocates and never panics, so the same code runs inside the gateway on a Raspberry Pi
//! (through rppal's embedded-hal pins) and on a microcontroller.
//!
//! ```
//! use core::time::Duration;
//! use bygd_firmware::{Action, Config, DoorController, DoorState, Instant};
//!
//! let mut door = DoorController::new(Config::default(), Instant::ZERO);
//! door.handle_door(DoorState::Closed, Instant::ZERO);
//! door.handle_grant(Duration::from_secs(5), Instant::from_millis(10));
//! assert!(door.status().is_released());
//! loop {
//!     while let Some(action) = door.poll_action() {
//!         // Move the relay for `Action::SetLock`, report alarms, drive the reader...
//!         if let Action::SetLock { energised } = action {
//!             let _ = energised;
//!         }
//!     }
//!     // A real driver sleeps until the deadline or the next input, whichever comes first.
//!     let Some(deadline) = door.poll_timeout() else { break };
//!     door.handle_timeout(deadline);
//! }
//! assert!(!door.status().is_released());
//! ```
//!
//! # Layout
//! - `time`: [`Instant`], milliseconds from an epoch the driver chooses; saturating.
//! - `config`: [`Config`], its builder, defaults and [`ConfigError`].
//! - `status`: [`Status`] snapshots, [`DoorState`], [`ReleaseCause`], [`GrantOutcome`].
//! - `action`: the outputs, [`Action`], [`AlarmKind`], [`Feedback`], [`Indicator`].
//! - `queue`: the fixed-capacity queue of pending alarm and feedback events.
//! - `controller`: [`DoorController`], the state machine and its invariants.
//! - `adapter`: [`Door`], the embedded-hal 1.0 adapter, its [`Error`] and [`NoPin`].
//!
//! `README.md` beside this crate explains the states, the defaults, and what each lock type
//! does when power or the Pi fails.
#![no_std]

mod action;
mod adapter;
mod config;
mod controller;
mod queue;
mod status;
mod time;

pub use action::{Action, AlarmKind, Feedback, Indicator};
pub use adapter::{Door, Error, NoPin};
pub use config::{
    Config, ConfigBuilder, ConfigError, ExitMode, Level, LockType, DEFAULT_HELD_OPEN_TIME,
    DEFAULT_MAX_UNLOCK_TIME, DEFAULT_RELOCK_DELAY, DEFAULT_UNLOCK_TIME, MAX_UNLOCK_TIME_CAP,
};
pub use controller::{DoorController, GRANT_BEEP, REFUSAL_BEEP};
pub use status::{DoorState, GrantOutcome, ReleaseCause, Status};
pub use time::Instant;
