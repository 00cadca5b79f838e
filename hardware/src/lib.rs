//! Kiosk hardware behind traits: the badge reader, the display, the indicators (two LEDs and
//! a buzzer), the buttons and the optional cabinet lock.
//!
//! This crate owns the device traits, a simulated implementation of each (always compiled,
//! used by tests and by the `--sim` kiosk and the server's demo), the bus-generic MFRC522
//! driver with its time budget, and the pin table. The Raspberry Pi adapters live in
//! [`rpi`] behind the `rpi` cargo feature, one file per device.
//!
//! It must not know about badges, staff or devices: it reports UIDs and button presses and
//! carries out signals. Deciding what a tap means is the firmware's job.
//!
//! ```text
//!   firmware ──► BadgeReader  ── Mfrc522Reader<SPI> (rpi: spidev)   | SimReader
//!            ──► KioskDisplay ── rpi::Oled (SSD1306 on I2C)         | SimDisplay
//!            ──► Indicators   ── rpi::GpioIndicators                | SimIndicators
//!            ──► Buttons      ── rpi::GpioButtons                   | SimButtons
//!            ──► CabinetLock  ── rpi::GpioLock                      | SimLock, NoLock
//! ```

pub mod budget;
pub mod buttons;
pub mod display;
pub mod indicators;
pub mod lock;
pub mod mfrc522_reader;
pub mod pins;
pub mod reader;
#[cfg(feature = "rpi")]
pub mod rpi;
pub mod uid;

pub use buttons::{Button, Buttons, SimButtons};
pub use display::{DisplayError, Frame, KioskDisplay, SimDisplay, SimDisplayView};
pub use indicators::{IndicatorError, Indicators, Signal, SimIndicators};
pub use lock::{CabinetLock, DoorState, LockError, NoLock, SimLock};
pub use mfrc522_reader::Mfrc522Reader;
pub use pins::{PinConfig, PinError};
pub use reader::{BadgeReader, ReaderError, SimReader, SimReaderFeed};
pub use uid::Uid;
