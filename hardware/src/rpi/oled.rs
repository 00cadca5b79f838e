//! The SSD1306 128x64 OLED on I2C1 through Linux i2cdev.
//!
//! Wiring: VCC 3.3 V, GND, SDA -> GPIO2 (pin 3), SCL -> GPIO3 (pin 5); address 0x3C.

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Size};
use linux_embedded_hal::I2cdev;
use ssd1306::mode::BufferedGraphicsMode;
use ssd1306::prelude::*;
use ssd1306::{I2CDisplayInterface, Ssd1306};

use crate::display::{DisplayError, KioskDisplay};

type Panel =
    Ssd1306<I2CInterface<I2cdev>, DisplaySize128x64, BufferedGraphicsMode<DisplaySize128x64>>;

/// The OLED: draw into its buffer, `flush` sends it over I2C.
pub struct Oled {
    panel: Panel,
}

impl Oled {
    /// Opens `/dev/i2c-N` and initialises the panel at `address` (usually 0x3C).
    pub fn open(path: &str, address: u8) -> Result<Self, DisplayError> {
        let i2c = I2cdev::new(path).map_err(|e| {
            DisplayError::Open(format!(
                "{path}: {e} (enable I2C with raspi-config or dtparam=i2c_arm=on, and add the user to the i2c group)"
            ))
        })?;
        let interface = I2CDisplayInterface::new_custom_address(i2c, address);
        let mut panel = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
            .into_buffered_graphics_mode();
        panel
            .init()
            .map_err(|e| DisplayError::Bus(format!("{e:?}")))?;
        Ok(Self { panel })
    }
}

impl OriginDimensions for Oled {
    fn size(&self) -> Size {
        self.panel.size()
    }
}

impl DrawTarget for Oled {
    type Color = BinaryColor;
    type Error = DisplayError;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        self.panel
            .draw_iter(pixels)
            .map_err(|e| DisplayError::Bus(format!("{e:?}")))
    }
}

impl KioskDisplay for Oled {
    fn flush(&mut self) -> Result<(), DisplayError> {
        self.panel
            .flush()
            .map_err(|e| DisplayError::Bus(format!("{e:?}")))
    }
}
