//! GPIO pins for the door adapter: the Raspberry Pi's (rppal) or simulated ones, behind one
//! pin type each for inputs and outputs so the same firmware adapter drives both.
//!
//! Simulated pins are shared cells: the door task reads and writes them as it would real
//! pins, and [`SimDoor`] lets tests and the demo open the door, press the exit button and
//! read the lock, exactly where real hardware would be wired.

use crate::config::{DoorConfig, Level};
use embedded_hal::digital::{ErrorType, InputPin, OutputPin};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Debounce for door sensors and exit buttons: reed switches and buttons bounce for a few
/// milliseconds; 20 ms is well below a person's reaction time.
const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(20);

/// Why the GPIO could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HardwareError {
    /// rppal could not open the GPIO (not a Raspberry Pi, or no permission).
    #[error(
        "cannot open the Raspberry Pi GPIO ({0}). bygd-gateway with hardware = \"rppal\" must run \
         on a Raspberry Pi as a user in the `gpio` group; to try it elsewhere set \
         hardware = \"simulated\" in the config"
    )]
    NoGpio(String),
    /// A pin could not be claimed.
    #[error("cannot use BCM pin {pin}: {message}")]
    Pin {
        /// The pin.
        pin: u8,
        /// What rppal said.
        message: String,
    },
}

/// An input pin of either backend.
#[derive(Debug)]
pub enum Input {
    /// A Raspberry Pi pin.
    Rppal(rppal::gpio::InputPin),
    /// A simulated pin.
    Sim(Arc<AtomicBool>),
    /// A pin that is not wired: always reads this level.
    Fixed(bool),
}

impl ErrorType for Input {
    type Error = Infallible;
}

impl InputPin for Input {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(match self {
            Input::Rppal(pin) => rppal::gpio::InputPin::is_high(pin),
            Input::Sim(level) => level.load(Ordering::SeqCst),
            Input::Fixed(level) => *level,
        })
    }
    fn is_low(&mut self) -> Result<bool, Infallible> {
        self.is_high().map(|h| !h)
    }
}

/// An output pin of either backend.
#[derive(Debug)]
pub enum Output {
    /// A Raspberry Pi pin.
    Rppal(rppal::gpio::OutputPin),
    /// A simulated pin.
    Sim(Arc<AtomicBool>),
    /// Not wired.
    None,
}

impl ErrorType for Output {
    type Error = Infallible;
}

impl OutputPin for Output {
    fn set_high(&mut self) -> Result<(), Infallible> {
        match self {
            Output::Rppal(pin) => rppal::gpio::OutputPin::set_high(pin),
            Output::Sim(level) => level.store(true, Ordering::SeqCst),
            Output::None => {}
        }
        Ok(())
    }
    fn set_low(&mut self) -> Result<(), Infallible> {
        match self {
            Output::Rppal(pin) => rppal::gpio::OutputPin::set_low(pin),
            Output::Sim(level) => level.store(false, Ordering::SeqCst),
            Output::None => {}
        }
        Ok(())
    }
}

/// The pins of one door.
#[derive(Debug)]
pub struct DoorPins {
    /// Lock relay.
    pub lock: Output,
    /// Door sensor.
    pub sensor: Input,
    /// Exit button (fixed "not pressed" if none is wired).
    pub exit: Input,
    /// Reader LED.
    pub led: Output,
    /// Reader buzzer.
    pub buzzer: Output,
}

fn is_high(level: Level) -> bool {
    level == Level::High
}

/// The level a lock relay pin must have for the lock to be in its safe (locked) state.
#[must_use]
pub(crate) fn locked_level(door: &DoorConfig) -> bool {
    let energised_when_locked = door.lock_type == crate::config::LockType::FailSafe;
    energised_when_locked == is_high(door.relay_active)
}

/// Simulated hardware of one door: what a test or the demo touches.
#[derive(Debug, Clone)]
pub struct SimDoor {
    lock: Arc<AtomicBool>,
    sensor: Arc<AtomicBool>,
    exit: Arc<AtomicBool>,
    led: Arc<AtomicBool>,
    buzzer: Arc<AtomicBool>,
    config: DoorConfig,
    /// Wakes the door task, as an edge interrupt would.
    pub(crate) wake: Arc<Notify>,
}

impl SimDoor {
    /// Makes simulated pins for a door: closed, exit button up, lock in its safe state.
    #[must_use]
    pub fn new(config: &DoorConfig) -> (Self, DoorPins) {
        let sim = Self {
            lock: Arc::new(AtomicBool::new(locked_level(config))),
            sensor: Arc::new(AtomicBool::new(is_high(config.sensor_closed))),
            exit: Arc::new(AtomicBool::new(!is_high(config.exit_pressed))),
            led: Arc::new(AtomicBool::new(false)),
            buzzer: Arc::new(AtomicBool::new(false)),
            config: config.clone(),
            wake: Arc::new(Notify::new()),
        };
        let pins = DoorPins {
            lock: Output::Sim(sim.lock.clone()),
            sensor: Input::Sim(sim.sensor.clone()),
            exit: if config.exit_pin.is_some() {
                Input::Sim(sim.exit.clone())
            } else {
                Input::Fixed(!is_high(config.exit_pressed))
            },
            led: Output::Sim(sim.led.clone()),
            buzzer: Output::Sim(sim.buzzer.clone()),
        };
        (sim, pins)
    }

    /// Opens (true) or closes (false) the door, as a person would.
    pub fn set_door_open(&self, open: bool) {
        let closed_level = is_high(self.config.sensor_closed);
        self.sensor.store(
            if open { !closed_level } else { closed_level },
            Ordering::SeqCst,
        );
        self.wake.notify_one();
    }

    /// Presses (true) or releases (false) the exit button.
    pub fn set_exit_pressed(&self, pressed: bool) {
        let pressed_level = is_high(self.config.exit_pressed);
        self.exit.store(
            if pressed {
                pressed_level
            } else {
                !pressed_level
            },
            Ordering::SeqCst,
        );
        self.wake.notify_one();
    }

    /// Whether the lock is released right now, read from the relay pin.
    #[must_use]
    pub fn lock_released(&self) -> bool {
        self.lock.load(Ordering::SeqCst) != locked_level(&self.config)
    }
}

/// Claims a door's pins on the Raspberry Pi; `wake` is notified on every sensor or exit edge.
pub(crate) fn rppal_pins(
    gpio: &rppal::gpio::Gpio,
    door: &DoorConfig,
    wake: Arc<Notify>,
) -> Result<DoorPins, HardwareError> {
    let claim = |pin: u8| {
        gpio.get(pin).map_err(|e| HardwareError::Pin {
            pin,
            message: e.to_string(),
        })
    };
    let input = |pin: u8| -> Result<Input, HardwareError> {
        // Pull-ups: sensors and buttons usually switch to ground.
        let mut input = claim(pin)?.into_input_pullup();
        let wake = wake.clone();
        input
            .set_async_interrupt(rppal::gpio::Trigger::Both, Some(DEBOUNCE), move |_| {
                wake.notify_one()
            })
            .map_err(|e| HardwareError::Pin {
                pin,
                message: e.to_string(),
            })?;
        Ok(Input::Rppal(input))
    };
    let output = |pin: Option<u8>, initial_high: bool| -> Result<Output, HardwareError> {
        let Some(pin) = pin else {
            return Ok(Output::None);
        };
        let mut out = claim(pin)?.into_output();
        // Keep the pin's state when the process exits, so a crash does not flip a maglock.
        out.set_reset_on_drop(false);
        if initial_high {
            out.set_high();
        } else {
            out.set_low();
        }
        Ok(Output::Rppal(out))
    };
    let lock = output(Some(door.lock_pin), locked_level(door))?;
    Ok(DoorPins {
        lock,
        sensor: input(door.sensor_pin)?,
        exit: match door.exit_pin {
            Some(pin) => input(pin)?,
            None => Input::Fixed(!is_high(door.exit_pressed)),
        },
        led: output(door.led_pin, false)?,
        buzzer: output(door.buzzer_pin, false)?,
    })
}

/// Opens the Raspberry Pi's GPIO, with a message that says what to do when it is missing.
pub(crate) fn open_gpio() -> Result<rppal::gpio::Gpio, HardwareError> {
    rppal::gpio::Gpio::new().map_err(|e| HardwareError::NoGpio(e.to_string()))
}
