//! Raspberry Pi adapters, one file per device (feature `rpi`).
//!
//! Construct these only in the kiosk's `main`: rppal refuses to start off a Pi ("Unknown
//! Raspberry Pi model"), also under qemu, so tests never touch this module.
//!
//! The MFRC522 goes over Linux spidev (kernel chip select), not rppal's SPI: rppal's
//! embedded-hal SPI device sends zeros for in-place transfers, so every register read
//! would return 0x00. rppal (archived upstream in 2025) is used for GPIO only.

pub mod gpio;
pub mod oled;
pub mod reader;

pub use gpio::{GpioButtons, GpioIndicators, GpioLock, hold_reader_out_of_reset};
pub use oled::Oled;
pub use reader::open_reader;
pub use rppal::gpio::Gpio;
