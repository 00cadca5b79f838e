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

    /// A time for measuring how long ago something happened in this process (the login
    /// throttle's failures): it starts at the wall clock when first asked and then follows
    /// the monotonic clock, so setting the wall clock (an hour back, a day ahead) neither
    /// lengthens nor lifts a wait. Never compare it with [`Clock::now`] or store it.
    pub fn steady_now(&self) -> Timestamp {
        match self {
            Clock::System => {
                static ANCHOR: std::sync::OnceLock<(Timestamp, std::time::Instant)> =
                    std::sync::OnceLock::new();
                #[allow(clippy::disallowed_methods)]
                let (wall, at) =
                    ANCHOR.get_or_init(|| (Timestamp::now(), std::time::Instant::now()));
                let elapsed = jiff::SignedDuration::try_from(at.elapsed())
                    .unwrap_or(jiff::SignedDuration::MAX);
                wall.saturating_add(elapsed).unwrap_or(*wall)
            }
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
