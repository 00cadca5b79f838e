//! LEDs, buzzer, buttons and the cabinet lock on rppal GPIO.
//!
//! Wiring (BCM numbers from the `[pins]` table): each LED through 330 ohm to GND; the
//! piezo buzzer through an NPN transistor (1 k base resistor); buttons and reed switch to
//! GND with the internal pull-ups; the lock relay module's IN pin, active high.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rppal::gpio::{Gpio, InputPin, OutputPin};

use crate::buttons::{Button, Buttons};
use crate::indicators::{IndicatorError, Indicators, Signal};
use crate::lock::{CabinetLock, DoorState, LockError};
use crate::pins::PinConfig;

fn output(gpio: &Gpio, pin: u8) -> Result<OutputPin, String> {
    gpio.get(pin)
        .map(|p| p.into_output_low())
        .map_err(|e| e.to_string())
}

fn input_pullup(gpio: &Gpio, pin: u8) -> Result<InputPin, String> {
    gpio.get(pin)
        .map(|p| p.into_input_pullup())
        .map_err(|e| e.to_string())
}

/// Drives the MFRC522's RST high so the chip runs; keep the pin alive as long as the
/// reader is used.
pub fn hold_reader_out_of_reset(
    gpio: &Gpio,
    pins: &PinConfig,
) -> Result<OutputPin, IndicatorError> {
    let mut rst = output(gpio, pins.reader_rst).map_err(|reason| IndicatorError::Gpio {
        pin: pins.reader_rst,
        reason,
    })?;
    rst.set_high();
    Ok(rst)
}

/// Green and red LED and the buzzer. Beeps play on a short-lived thread so `signal`
/// never blocks the kiosk loop.
pub struct GpioIndicators {
    green: OutputPin,
    red: OutputPin,
    buzzer: Arc<Mutex<OutputPin>>,
}

impl GpioIndicators {
    pub fn open(gpio: &Gpio, pins: &PinConfig) -> Result<Self, IndicatorError> {
        let open = |pin| output(gpio, pin).map_err(|reason| IndicatorError::Gpio { pin, reason });
        Ok(Self {
            green: open(pins.led_green)?,
            red: open(pins.led_red)?,
            buzzer: Arc::new(Mutex::new(open(pins.buzzer)?)),
        })
    }
}

impl Indicators for GpioIndicators {
    fn signal(&mut self, signal: Signal) -> Result<(), IndicatorError> {
        let (green, red) = match signal {
            Signal::Accept => (true, false),
            Signal::Refuse | Signal::Attention => (false, true),
            Signal::Quiet => (false, false),
        };
        self.green.write(green.into());
        self.red.write(red.into());
        let pattern = signal.beeps();
        if !pattern.is_empty() {
            let buzzer = self.buzzer.clone();
            thread::spawn(move || {
                let mut buzzer = buzzer.lock().unwrap_or_else(|e| e.into_inner());
                for &(on, off) in pattern {
                    buzzer.set_high();
                    thread::sleep(Duration::from_millis(on));
                    buzzer.set_low();
                    thread::sleep(Duration::from_millis(off));
                }
            });
        }
        Ok(())
    }
}

/// The two buttons, debounced: a press counts once the pin has read low for 30 ms.
pub struct GpioButtons {
    pins: [(Button, InputPin, Option<Instant>, bool); 2],
}

const DEBOUNCE: Duration = Duration::from_millis(30);

impl GpioButtons {
    pub fn open(gpio: &Gpio, pins: &PinConfig) -> Result<Self, IndicatorError> {
        let open =
            |pin| input_pullup(gpio, pin).map_err(|reason| IndicatorError::Gpio { pin, reason });
        Ok(Self {
            pins: [
                (Button::Ok, open(pins.button_ok)?, None, false),
                (Button::Cancel, open(pins.button_cancel)?, None, false),
            ],
        })
    }
}

impl Buttons for GpioButtons {
    fn poll(&mut self) -> Option<Button> {
        let mut pressed = None;
        for (button, pin, low_since, reported) in &mut self.pins {
            if pin.is_low() {
                let since = *low_since.get_or_insert_with(Instant::now);
                if !*reported && since.elapsed() >= DEBOUNCE {
                    *reported = true;
                    pressed = pressed.or(Some(*button));
                }
            } else {
                *low_since = None;
                *reported = false;
            }
        }
        pressed
    }
}

/// The cabinet's solenoid relay and door reed switch.
pub struct GpioLock {
    relay: Arc<Mutex<OutputPin>>,
    reed: InputPin,
}

/// How long the solenoid stays released after an authorised tap.
const RELEASE_FOR: Duration = Duration::from_secs(5);

impl GpioLock {
    pub fn open(gpio: &Gpio, pins: &PinConfig) -> Result<Self, LockError> {
        let relay = output(gpio, pins.lock_relay).map_err(|reason| LockError::Gpio {
            pin: pins.lock_relay,
            reason,
        })?;
        let reed = input_pullup(gpio, pins.reed_switch).map_err(|reason| LockError::Gpio {
            pin: pins.reed_switch,
            reason,
        })?;
        Ok(Self {
            relay: Arc::new(Mutex::new(relay)),
            reed,
        })
    }
}

impl CabinetLock for GpioLock {
    fn release(&mut self) -> Result<(), LockError> {
        let relay = self.relay.clone();
        thread::spawn(move || {
            let mut relay = relay.lock().unwrap_or_else(|e| e.into_inner());
            relay.set_high();
            thread::sleep(RELEASE_FOR);
            relay.set_low();
        });
        Ok(())
    }

    fn door(&mut self) -> Result<DoorState, LockError> {
        // The reed switch closes (pulls low) when the magnet on the door is near.
        Ok(if self.reed.is_low() {
            DoorState::Closed
        } else {
            DoorState::Open
        })
    }
}
