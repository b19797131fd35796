//! One door at run time: the firmware's door controller on real or simulated pins, in a task
//! that sleeps until the controller's next deadline, a pin edge, or a command.
//!
//! The task owns the door's pins. It reports what the door does (opened, closed, alarms, exit
//! button) to the core, which logs it; it never decides who may enter (the core does, and
//! sends a grant only after the decision is durable). On shutdown it puts the lock in its safe
//! state before returning.

use crate::config::{DoorConfig, ExitButtonMode, Level, LockType};
use crate::hardware::{locked_level, DoorPins, Input, Output};
use bygd_firmware::{Action, AlarmKind, Door, DoorController, DoorState, Instant};
use bygd_protocol::{DoorId, EventBody};
use embedded_hal::digital::OutputPin as _;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};

/// The firmware configuration for a door's config section; an error says what is wrong.
pub(crate) fn firmware_config(door: &DoorConfig) -> Result<bygd_firmware::Config, String> {
    let level = |l: Level| match l {
        Level::High => bygd_firmware::Level::High,
        Level::Low => bygd_firmware::Level::Low,
    };
    bygd_firmware::Config::builder()
        .unlock_time(Duration::from_secs(door.unlock_seconds.into()))
        .max_unlock_time(Duration::from_secs(door.max_unlock_seconds.into()))
        .held_open_time(Duration::from_secs(door.held_open_alarm_seconds.into()))
        .relock_on_close(door.relock_on_close)
        .lock_type(match door.lock_type {
            LockType::FailSecure => bygd_firmware::LockType::FailSecure,
            LockType::FailSafe => bygd_firmware::LockType::FailSafe,
        })
        .relay_active(level(door.relay_active))
        .sensor_closed(level(door.sensor_closed))
        .exit_pressed(level(door.exit_pressed))
        .exit_mode(match door.exit_button {
            ExitButtonMode::Unlock => bygd_firmware::ExitMode::UnlockForEgress,
            ExitButtonMode::ShuntOnly => bygd_firmware::ExitMode::ShuntOnly,
        })
        .build()
        .map_err(|e| format!("the door's timing settings are inconsistent: {e}"))
}

/// What the core asks of a door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DoorCommand {
    /// Release the lock for this long (the controller caps it).
    Grant(Duration),
    /// Signal a refusal on the reader.
    Deny,
    /// Lockdown on or off.
    Lockdown(bool),
}

/// A door's state as status output shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct DoorSnapshot {
    /// The door.
    pub id: String,
    /// Whether the lock is released.
    pub released: bool,
    /// Whether the door stands open (`None` before the sensor was first read).
    pub open: Option<bool>,
    /// Forced-open alarm active.
    pub forced_open: bool,
    /// Held-open alarm active.
    pub held_open: bool,
    /// Lockdown active.
    pub lockdown: bool,
}

type GatewayDoor = Door<Output, Input, Input, Output, Output>;

/// The running door.
pub(crate) struct DoorTask {
    id: DoorId,
    config: DoorConfig,
    door: GatewayDoor,
    epoch: tokio::time::Instant,
    commands: mpsc::Receiver<DoorCommand>,
    wake: Arc<Notify>,
    events: mpsc::UnboundedSender<(DoorId, EventBody)>,
    status: watch::Sender<DoorSnapshot>,
}

/// Handles to talk to a running door.
#[derive(Debug, Clone)]
pub(crate) struct DoorHandle {
    /// Commands.
    pub commands: mpsc::Sender<DoorCommand>,
    /// Its latest status.
    pub status: watch::Receiver<DoorSnapshot>,
}

/// How many commands may wait for a door: a burst of presentations is a handful.
const COMMAND_QUEUE: usize = 64;

impl DoorTask {
    /// A door task over these pins. `wake` is what pin edges notify.
    pub(crate) fn new(
        id: DoorId,
        config: &DoorConfig,
        pins: DoorPins,
        wake: Arc<Notify>,
        lockdown: bool,
        events: mpsc::UnboundedSender<(DoorId, EventBody)>,
    ) -> Result<(Self, DoorHandle), String> {
        let fw = firmware_config(config)?;
        let mut controller = DoorController::new(fw, Instant::ZERO);
        if lockdown {
            controller.handle_lockdown(true, Instant::ZERO);
        }
        let door = Door::new(controller, pins.lock, pins.sensor, pins.exit)
            .with_led(pins.led)
            .with_buzzer(pins.buzzer);
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let (status_tx, status_rx) = watch::channel(DoorSnapshot {
            id: id.to_string(),
            ..Default::default()
        });
        Ok((
            Self {
                id,
                config: config.clone(),
                door,
                epoch: tokio::time::Instant::now(),
                commands: rx,
                wake,
                events,
                status: status_tx,
            },
            DoorHandle {
                commands: tx,
                status: status_rx,
            },
        ))
    }

    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn report(&self, body: EventBody) {
        // The core outlives the door tasks; a closed channel means shutdown is under way.
        let _ = self.events.send((self.id.clone(), body));
    }

    /// Reads the pins, applies the controller's outputs, and reports what changed.
    fn step(&mut self) {
        let now = self.now();
        let before = self.door.status();
        // Pins of both backends are infallible.
        let _ = self.door.poll_inputs(now);
        let after = self.door.status();
        let id = self.id.clone();
        match (before.door, after.door) {
            (Some(DoorState::Closed), Some(DoorState::Open)) => {
                self.report(EventBody::DoorOpened { door: id.clone() })
            }
            (Some(DoorState::Open), Some(DoorState::Closed)) => {
                self.report(EventBody::DoorClosed { door: id.clone() })
            }
            _ => {}
        }
        if !before.exit_pressed && after.exit_pressed {
            self.report(EventBody::ExitButton { door: id.clone() });
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Ok(Some(action)) = self.door.apply() {
            if let Action::Alarm { kind, raised } = action {
                let door = self.id.clone();
                tracing::warn!(door = %door, alarm = ?kind, raised, "door alarm");
                self.report(match kind {
                    AlarmKind::HeldOpen => EventBody::HeldOpen { door, raised },
                    AlarmKind::ForcedOpen => EventBody::ForcedOpen { door, raised },
                });
            }
        }
        let s = self.door.status();
        self.status.send_replace(DoorSnapshot {
            id: self.id.to_string(),
            released: s.is_released(),
            open: s.door.map(|d| d == DoorState::Open),
            forced_open: s.forced_open,
            held_open: s.held_open,
            lockdown: s.lockdown,
        });
    }

    fn handle(&mut self, command: DoorCommand) {
        let now = self.now();
        match command {
            DoorCommand::Grant(duration) => {
                let outcome = self.door.handle_grant(duration, now);
                tracing::debug!(door = %self.id, ?outcome, "grant applied");
            }
            DoorCommand::Deny => self.door.handle_deny(now),
            DoorCommand::Lockdown(on) => self.door.handle_lockdown(on, now),
        }
        self.drain();
    }

    /// Runs until `shutdown` turns true, then puts the lock in its safe state.
    pub(crate) async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.step();
            let deadline = self
                .door
                .poll_timeout()
                .map(|at| self.epoch + Duration::from_millis(at.as_millis()));
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                command = self.commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => break,
                },
                () = self.wake.notified() => {}
                () = sleep_until(deadline) => {}
            }
        }
        let locked = locked_level(&self.config);
        let (mut lock, ..) = self.door.destroy();
        let _ = if locked {
            lock.set_high()
        } else {
            lock.set_low()
        };
        tracing::info!(door = %self.id, "door relocked for shutdown");
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
