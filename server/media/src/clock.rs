//! The one place this crate reads the wall clock. Everything else takes time as an input.

use jiff::Timestamp;

/// The current time, for callers that need a timestamp for a record they are about to write.
#[allow(clippy::disallowed_methods)]
#[must_use]
pub fn now() -> Timestamp {
    Timestamp::now()
}
