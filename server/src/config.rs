//! Settings, from a TOML file and command-line overrides.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the server can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Holds `records.db`, the photo store, evidence files and outboxes.
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    /// IANA time zone the organisation works in; decides what "today" is.
    pub time_zone: String,
    /// How long a consent form without an expiry date lasts.
    pub consent_validity_days: i32,
    /// Minutes of inactivity after which a web session ends.
    pub session_idle_minutes: i64,
    /// Set the `Secure` flag on cookies (serve behind HTTPS).
    pub secure_cookies: bool,
    /// Failed logins allowed per account and per address within `login_window_minutes`.
    pub login_attempts: u32,
    pub login_window_minutes: i64,
    /// Tolerance for camera clock drift when matching a photo to a sign-out.
    pub clock_drift_minutes: i64,
    /// Largest upload accepted (CSV import, evidence), in bytes.
    pub max_upload_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("/var/lib/consentcam"),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            time_zone: "Europe/London".into(),
            consent_validity_days: 365,
            session_idle_minutes: 30,
            secure_cookies: false,
            login_attempts: 5,
            login_window_minutes: 15,
            clock_drift_minutes: 10,
            max_upload_bytes: 10 * 1024 * 1024,
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("records.db")
    }

    pub fn policy(&self) -> crate::consent::ConsentPolicy {
        crate::consent::ConsentPolicy {
            validity_days: self.consent_validity_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_overrides_defaults_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "data_dir = \"/srv/cc\"\nconsent_validity_days = 180\n",
        )
        .unwrap();
        let config = Config::load(&good).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/srv/cc"));
        assert_eq!(config.consent_validity_days, 180);
        assert_eq!(config.session_idle_minutes, 30);

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "data_dri = \"/srv/cc\"\n").unwrap();
        let err = Config::load(&bad).unwrap_err().to_string();
        assert!(err.contains("data_dri"), "{err}");
    }
}
