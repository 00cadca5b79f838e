//! The server's kiosk API (`consentcam-wire`) over HTTP, with the kiosk's bearer token.
//!
//! Blocking and short: every call has a time limit so a dead server costs the link
//! thread a few seconds, never the kiosk's screen. TLS only with the `tls` feature
//! (rustls, no OpenSSL).

use std::time::Duration;

use consentcam_wire::{EventBatch, EventReceipt, Roster};

/// What the kiosk needs from the server.
pub trait KioskApi {
    fn roster(&self) -> Result<Roster, ApiError>;
    fn post_events(&self, batch: &EventBatch) -> Result<EventReceipt, ApiError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Connection refused, timed out, DNS: the server is unreachable (K6).
    #[error("server unreachable: {0}")]
    Unreachable(String),
    #[error("the server refused the kiosk token (HTTP {0}): check the token file")]
    Unauthorised(u16),
    #[error("the server answered HTTP {status}")]
    Status { status: u16 },
    #[error("the server's answer was not understood: {0}")]
    BadAnswer(String),
}

impl ApiError {
    /// Whether trying again later can help without anyone changing anything.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Status { status: 500.. })
    }
}

/// The API over HTTP(S).
pub struct HttpApi {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl HttpApi {
    /// `base` is the server's root URL, e.g. `https://consentcam.school.lan`.
    pub fn new(base: &str, token: &str, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_idle_age(Duration::from_secs(
                consentcam_wire::IDLE_CONNECTION_SECONDS,
            ))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            agent,
        }
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

fn transport(e: ureq::Error) -> ApiError {
    ApiError::Unreachable(e.to_string())
}

fn check(status: u16) -> Result<(), ApiError> {
    match status {
        200..=299 => Ok(()),
        401 | 403 => Err(ApiError::Unauthorised(status)),
        _ => Err(ApiError::Status { status }),
    }
}

impl KioskApi for HttpApi {
    fn roster(&self) -> Result<Roster, ApiError> {
        let mut response = self
            .agent
            .get(format!("{}/api/v1/kiosk/roster", self.base))
            .header("Authorization", self.bearer())
            .call()
            .map_err(transport)?;
        check(response.status().as_u16())?;
        response
            .body_mut()
            .read_json::<Roster>()
            .map_err(|e| ApiError::BadAnswer(e.to_string()))
    }

    fn post_events(&self, batch: &EventBatch) -> Result<EventReceipt, ApiError> {
        let mut response = self
            .agent
            .post(format!("{}/api/v1/kiosk/events", self.base))
            .header("Authorization", self.bearer())
            .send_json(batch)
            .map_err(transport)?;
        check(response.status().as_u16())?;
        response
            .body_mut()
            .read_json::<EventReceipt>()
            .map_err(|e| ApiError::BadAnswer(e.to_string()))
    }
}
