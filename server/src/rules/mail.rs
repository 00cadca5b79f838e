//! When a message that could not be sent is tried again, and whether it is tried at all:
//! pure, the worker that sends applies it.

use jiff::{SignedDuration, Timestamp};

/// What one attempt to hand a message to the mail server came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The server took it.
    Sent,
    /// Worth trying again: a 4xx answer, a timeout, a refused or dropped connection.
    Temporary(String),
    /// Never worth trying again: a 5xx answer (no such mailbox, refused by policy).
    Permanent(String),
}

/// An SMTP reply code as an attempt's outcome: 2xx sent, 4xx temporary, 5xx permanent.
/// Anything else is a broken server: temporary (another try may meet a better one).
#[must_use]
pub fn from_reply(code: u16, text: &str) -> Attempt {
    let answer = format!("{code} {}", text.trim());
    match code {
        200..=299 => Attempt::Sent,
        500..=599 => Attempt::Permanent(answer),
        _ => Attempt::Temporary(answer),
    }
}

/// The first wait after a temporary failure; each next one doubles, up to [`LONGEST_WAIT`].
pub const FIRST_WAIT: SignedDuration = SignedDuration::from_secs(60);
/// The longest wait between two attempts.
pub const LONGEST_WAIT: SignedDuration = SignedDuration::from_secs(3600);

/// When to try again after `failures` temporary failures (1 after the first), the last at
/// `now`, for a message queued at `queued_at` that may be tried for `retry_for`; `None`:
/// give up (mark it failed). `jitter` (0.0 to 1.0, random) spreads the retries of many
/// messages over the last fifth of each wait, so a returning server is not hit all at once.
#[must_use]
pub fn next_attempt(
    failures: u32,
    queued_at: Timestamp,
    now: Timestamp,
    retry_for: SignedDuration,
    jitter: f64,
) -> Option<Timestamp> {
    let doubled = FIRST_WAIT
        .checked_mul(1_i32 << failures.saturating_sub(1).min(16))
        .unwrap_or(LONGEST_WAIT)
        .min(LONGEST_WAIT);
    let spread = doubled.as_secs_f64() * 0.2 * jitter.clamp(0.0, 1.0);
    let wait = doubled - SignedDuration::from_secs_f64(spread);
    let at = now.checked_add(wait).ok()?;
    let deadline = queued_at.checked_add(retry_for).ok()?;
    (at <= deadline).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn replies_are_sorted_by_their_code() {
        assert_eq!(from_reply(250, "OK"), Attempt::Sent);
        assert_eq!(
            from_reply(451, "try later "),
            Attempt::Temporary("451 try later".into())
        );
        assert_eq!(
            from_reply(550, "no such user"),
            Attempt::Permanent("550 no such user".into())
        );
        assert!(matches!(from_reply(0, ""), Attempt::Temporary(_)));
    }

    #[test]
    fn waits_double_up_to_an_hour_and_stop_at_the_deadline() {
        let day = SignedDuration::from_hours(24);
        // (failures, now, jitter, expected next attempt)
        let cases: Vec<(u32, i64, f64, Option<i64>)> = vec![
            (1, 0, 0.0, Some(60)),
            (2, 0, 0.0, Some(120)),
            (3, 0, 0.0, Some(240)),
            (7, 0, 0.0, Some(3600)),
            (40, 0, 0.0, Some(3600)),
            (1, 0, 1.0, Some(48)),
            (7, 0, 0.5, Some(3240)),
            // Past the deadline: given up.
            (7, 86_000, 0.0, None),
            (1, 86_400 - 30, 0.0, None),
        ];
        for (failures, now, jitter, expected) in cases {
            let next = next_attempt(failures, t(0), t(now), day, jitter);
            assert_eq!(
                next,
                expected.map(|s| t(now + s)),
                "failures {failures}, now +{now}s, jitter {jitter}"
            );
        }
    }
}
