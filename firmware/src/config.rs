//! The kiosk's configuration file (`config/kiosk.toml` is the reference copy): server,
//! timings, buses and the pin table.

use std::path::{Path, PathBuf};

use consentcam_hardware::PinConfig;
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::machine::Settings;

/// The reference configuration, compiled in: the defaults and the pin table.
pub const REFERENCE: &str = include_str!("../config/kiosk.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub kiosk: KioskSection,
    pub timing: TimingSection,
    pub buses: BusSection,
    pub pins: PinConfig,
    #[serde(default)]
    pub import: ImportSection,
}

/// How the kiosk learns of the import of a returned device's card (K3).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSection {
    /// The file `consentcam import-card --progress` writes; the kiosk follows it to show
    /// the progress bar and the summary. Absent: the kiosk shows no import progress.
    pub progress_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    pub reader_name: String,
    pub server_url: String,
    pub token_file: PathBuf,
    pub data_dir: PathBuf,
    pub time_zone: String,
    pub sync_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSection {
    pub tap_timeout_seconds: u32,
    pub message_seconds: u32,
    pub card_wait_seconds: u32,
    pub summary_seconds: u32,
    /// Each page of a group briefing after a booked sign-out (K2).
    #[serde(default = "default_page_seconds")]
    pub briefing_page_seconds: u32,
    /// An import silent this long is shown as stopped.
    #[serde(default = "default_import_silence")]
    pub import_silence_seconds: u32,
}

fn default_import_silence() -> u32 {
    120
}

fn default_page_seconds() -> u32 {
    8
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSection {
    pub reader_spi: String,
    pub display_i2c: String,
    pub display_address: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let config: Config = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        config.pins.validate().map_err(|e| invalid(e.to_string()))?;
        config.time_zone().map_err(invalid)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn time_zone(&self) -> Result<TimeZone, String> {
        TimeZone::get(&self.kiosk.time_zone)
            .map_err(|e| format!("time zone {:?}: {e}", self.kiosk.time_zone))
    }

    /// The state machine's timings, in the configured time zone (UTC if the zone
    /// database is missing).
    pub fn settings(&self) -> Settings {
        let secs = |s: u32| SignedDuration::from_secs(i64::from(s));
        Settings {
            tap_timeout: secs(self.timing.tap_timeout_seconds),
            message_for: secs(self.timing.message_seconds),
            card_wait: secs(self.timing.card_wait_seconds),
            summary_for: secs(self.timing.summary_seconds),
            page_for: secs(self.timing.briefing_page_seconds),
            import_silence: secs(self.timing.import_silence_seconds),
            time_zone: self.time_zone().unwrap_or(TimeZone::UTC),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_config_parses_and_its_pins_are_the_hardware_defaults() {
        let config = Config::parse(REFERENCE, Path::new("kiosk.toml")).unwrap();
        assert_eq!(config.pins, PinConfig::default());
        assert_eq!(config.buses.display_address, 0x3C);
        assert_eq!(config.buses.reader_spi, "/dev/spidev0.0");
        assert_eq!(config.settings().tap_timeout, SignedDuration::from_secs(30));
    }

    #[test]
    fn the_header_pins_in_the_comments_match_the_table() {
        // The comments give each pin's header position for whoever wires the kiosk;
        // they must say what `header_pin` says.
        let config = Config::parse(REFERENCE, Path::new("kiosk.toml")).unwrap();
        for (name, gpio) in config.pins.table() {
            let pin = consentcam_hardware::pins::header_pin(gpio).unwrap();
            let line = REFERENCE
                .lines()
                .position(|l| l.starts_with(&format!("{name} = ")))
                .unwrap();
            let comment = REFERENCE.lines().nth(line - 1).unwrap();
            assert!(
                comment.trim_end().ends_with(&format!("header pin {pin}")),
                "{name}: {comment}"
            );
        }
    }

    #[test]
    fn a_pin_used_twice_is_refused_with_the_file_named() {
        let broken = REFERENCE.replace("led_red = 27", "led_red = 17");
        let error = Config::parse(&broken, Path::new("kiosk.toml")).unwrap_err();
        assert!(
            error.to_string().contains("GPIO 17 is used twice"),
            "{error}"
        );
        let unknown = REFERENCE.replace("[pins]", "[pins]\nfan = 4");
        assert!(Config::parse(&unknown, Path::new("kiosk.toml")).is_err());
    }
}
