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
    /// `address_refused`: the answer is about the recipient's address, which is flagged.
    Permanent {
        answer: String,
        address_refused: bool,
    },
}

/// An SMTP reply code and text as an attempt's outcome: 2xx sent, 4xx temporary, 5xx
/// permanent. A refused login (530, 534, 535, 538) is the server's settings to fix, not
/// the message's fault: temporary, so the message waits for the fix. Anything else is a
/// broken server: temporary (another try may meet a better one).
#[must_use]
pub fn from_reply(code: u16, text: &str) -> Attempt {
    let text = text.trim();
    let answer = format!("{code} {text}");
    match code {
        200..=299 => Attempt::Sent,
        530 | 534 | 535 | 538 => Attempt::Temporary(answer),
        500..=599 => Attempt::Permanent {
            address_refused: refuses_address(code, text),
            answer,
        },
        _ => Attempt::Temporary(answer),
    }
}

/// Whether a permanent answer is about the recipient's address. The enhanced status code
/// (RFC 3463) says when the server gives one: 5.1.x is the address, 5.2.1 a disabled
/// mailbox; 5.7.x (policy, relaying) is not. Without one, 550, 551 and 553 are.
fn refuses_address(code: u16, text: &str) -> bool {
    let enhanced = text
        .split_whitespace()
        .next()
        .filter(|w| w.starts_with("5.") && w.split('.').count() == 3);
    match enhanced {
        Some(status) => status.starts_with("5.1.") || status == "5.2.1",
        None => matches!(code, 550 | 551 | 553),
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
        let refused = |answer: &str| Attempt::Permanent {
            answer: answer.into(),
            address_refused: true,
        };
        let permanent = |answer: &str| Attempt::Permanent {
            answer: answer.into(),
            address_refused: false,
        };
        assert_eq!(from_reply(550, "no such user"), refused("550 no such user"));
        assert_eq!(
            from_reply(550, "5.1.1 User unknown"),
            refused("550 5.1.1 User unknown")
        );
        assert_eq!(
            from_reply(550, "5.2.1 Mailbox disabled"),
            refused("550 5.2.1 Mailbox disabled")
        );
        assert_eq!(
            from_reply(550, "5.7.1 Relaying denied"),
            permanent("550 5.7.1 Relaying denied")
        );
        assert_eq!(
            from_reply(554, "Transaction failed"),
            permanent("554 Transaction failed")
        );
        // A refused login waits for the settings to be fixed.
        assert_eq!(
            from_reply(535, "5.7.3 Authentication unsuccessful"),
            Attempt::Temporary("535 5.7.3 Authentication unsuccessful".into())
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
