//! Which Raspberry Pi pins the kiosk uses. The numbers live in one file,
//! `firmware/config/kiosk.toml` (`[pins]`, `[buses]`); this module gives their shape,
//! defaults and checks. `schematics/` must agree with the same table.
//!
//! GPIO numbers are BCM numbers; [`header_pin`] maps them to the 40-pin header.

use serde::{Deserialize, Serialize};

/// SPI0 with kernel chip select CE0: CE0, MISO, MOSI, SCLK (the MFRC522).
pub const SPI0_PINS: [u8; 4] = [8, 9, 10, 11];
/// I2C1: SDA, SCL (the SSD1306).
pub const I2C1_PINS: [u8; 2] = [2, 3];

/// The GPIO lines the kiosk drives or reads, by BCM number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinConfig {
    /// MFRC522 RST (held high to run).
    pub reader_rst: u8,
    /// Green LED through a resistor, active high.
    pub led_green: u8,
    /// Red LED through a resistor, active high.
    pub led_red: u8,
    /// Piezo buzzer through an NPN transistor, active high.
    pub buzzer: u8,
    /// "OK" button to ground, internal pull-up.
    pub button_ok: u8,
    /// "Cancel" button to ground, internal pull-up.
    pub button_cancel: u8,
    /// Cabinet lock relay (solenoid), active high.
    pub lock_relay: u8,
    /// Cabinet door reed switch to ground, internal pull-up; closed door reads low.
    pub reed_switch: u8,
}

impl Default for PinConfig {
    fn default() -> Self {
        Self {
            reader_rst: 25,
            led_green: 17,
            led_red: 27,
            buzzer: 18,
            button_ok: 5,
            button_cancel: 6,
            lock_relay: 22,
            reed_switch: 26,
        }
    }
}

/// A pin table that cannot be wired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("GPIO {gpio} ({function}) is not on the 40-pin header")]
    NotOnHeader { function: &'static str, gpio: u8 },
    #[error("GPIO {gpio} is used twice: {first} and {second}")]
    Twice {
        gpio: u8,
        first: &'static str,
        second: &'static str,
    },
    #[error("GPIO {gpio} ({function}) is taken by {bus}")]
    BusPin {
        function: &'static str,
        gpio: u8,
        bus: &'static str,
    },
}

impl PinConfig {
    /// Every function with its GPIO, in a fixed order.
    pub fn table(&self) -> [(&'static str, u8); 8] {
        [
            ("reader_rst", self.reader_rst),
            ("led_green", self.led_green),
            ("led_red", self.led_red),
            ("buzzer", self.buzzer),
            ("button_ok", self.button_ok),
            ("button_cancel", self.button_cancel),
            ("lock_relay", self.lock_relay),
            ("reed_switch", self.reed_switch),
        ]
    }

    /// Each GPIO on the header, used once, and not one of the SPI0 or I2C1 bus pins.
    pub fn validate(&self) -> Result<(), PinError> {
        let table = self.table();
        for (i, &(function, gpio)) in table.iter().enumerate() {
            if header_pin(gpio).is_none() {
                return Err(PinError::NotOnHeader { function, gpio });
            }
            if SPI0_PINS.contains(&gpio) {
                return Err(PinError::BusPin {
                    function,
                    gpio,
                    bus: "SPI0 (badge reader)",
                });
            }
            if I2C1_PINS.contains(&gpio) {
                return Err(PinError::BusPin {
                    function,
                    gpio,
                    bus: "I2C1 (display)",
                });
            }
            if let Some(&(first, _)) = table[..i].iter().find(|(_, g)| *g == gpio) {
                return Err(PinError::Twice {
                    gpio,
                    first,
                    second: function,
                });
            }
        }
        Ok(())
    }
}

/// The physical 40-pin header position of a BCM GPIO, if it is brought out there.
pub fn header_pin(gpio: u8) -> Option<u8> {
    const HEADER: [(u8, u8); 28] = [
        (2, 3),
        (3, 5),
        (4, 7),
        (14, 8),
        (15, 10),
        (17, 11),
        (18, 12),
        (27, 13),
        (22, 15),
        (23, 16),
        (24, 18),
        (10, 19),
        (9, 21),
        (25, 22),
        (11, 23),
        (8, 24),
        (7, 26),
        (0, 27),
        (1, 28),
        (5, 29),
        (6, 31),
        (12, 32),
        (13, 33),
        (19, 35),
        (16, 36),
        (26, 37),
        (20, 38),
        (21, 40),
    ];
    HEADER.iter().find(|(g, _)| *g == gpio).map(|&(_, pin)| pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pins_can_be_wired() {
        assert_eq!(PinConfig::default().validate(), Ok(()));
        assert_eq!(header_pin(25), Some(22));
        assert_eq!(header_pin(28), None);
    }

    #[test]
    fn refuses_a_pin_used_twice_off_the_header_or_on_a_bus() {
        let twice = PinConfig {
            led_red: 17,
            ..PinConfig::default()
        };
        assert!(matches!(
            twice.validate(),
            Err(PinError::Twice { gpio: 17, .. })
        ));
        let off = PinConfig {
            buzzer: 30,
            ..PinConfig::default()
        };
        assert!(matches!(
            off.validate(),
            Err(PinError::NotOnHeader { gpio: 30, .. })
        ));
        let bus = PinConfig {
            lock_relay: 10,
            ..PinConfig::default()
        };
        assert!(matches!(
            bus.validate(),
            Err(PinError::BusPin { gpio: 10, .. })
        ));
    }
}
