//! The one place that reads the wall clock. Everything else takes time as an input.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Where "now" comes from: the system clock, or a fixed instant (tests, demos).
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Fixed(Timestamp),
}

impl Clock {
    #[allow(clippy::disallowed_methods)]
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(at) => *at,
        }
    }

    /// Today's date where the organisation is.
    pub fn today(&self, tz: &TimeZone) -> Date {
        tz.to_datetime(self.now()).date()
    }
}

/// The system clock, for what must follow it whatever the configured [`Clock`]: session
/// expiry, which the session layer stamps from the system clock.
#[allow(clippy::disallowed_methods)]
pub fn system_now() -> Timestamp {
    Timestamp::now()
}

/// The organisation's time zone by IANA name; UTC if the system has no such zone.
pub fn time_zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|e| {
        tracing::warn!(zone = name, error = %e, "time zone not found; using UTC");
        TimeZone::UTC
    })
}
