//! The one place the kiosk reads the wall clock. Everything else is handed `now`.

use jiff::Timestamp;

/// The current time by the kiosk's clock.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    Timestamp::now()
}
