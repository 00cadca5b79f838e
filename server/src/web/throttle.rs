//! Login throttling that slows a guesser without locking the owner out. Pure: time is
//! passed in.
//!
//! - Per account and address: the first `free` failures cost nothing; after that each
//!   attempt waits 1 s, 2 s, 4 s ... (at most the window) after the previous one. Someone
//!   guessing from one address gets a handful of guesses a minute; the owner typing from
//!   their own address is not slowed by them.
//! - Per account, from every address together, and per address, over every account: a
//!   ceiling far above what a person types (spraying from many addresses, or one address
//!   trying many accounts), after which attempts wait until the oldest failure leaves the
//!   window.
//! - An attempt is reserved (counted as a failure) before the password is checked, so
//!   requests sent in parallel get no extra guesses; a success takes its reservation back
//!   and clears that account-and-address's failures.
//! - At most [`MAX_KEYS`] keys are remembered: the stalest go first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

/// Failures of one account from all addresses, within the window, before every attempt
/// on it waits.
pub const ACCOUNT_CEILING: usize = 200;
/// Failures from one address over all accounts, within the window, before it waits.
pub const ADDRESS_CEILING: usize = 100;
/// Keys remembered at most (memory stays bounded whatever usernames are tried).
pub const MAX_KEYS: usize = 10_000;

#[derive(Debug)]
pub struct Throttle {
    free: usize,
    window: SignedDuration,
    failures: HashMap<String, VecDeque<Timestamp>>,
}

/// A reserved attempt: counted as a failure until [`Throttle::succeed`] takes it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    keys: Vec<String>,
    at: Timestamp,
}

fn keys(username: &str, address: Option<IpAddr>) -> (String, String, Option<String>) {
    let user = username.trim().to_lowercase();
    let address = address.map(|a| a.to_string());
    (
        format!("pair:{user}@{}", address.as_deref().unwrap_or("-")),
        format!("user:{user}"),
        address.map(|a| format!("ip:{a}")),
    )
}

impl Throttle {
    /// `free` failures per account and address before delays begin; failures are
    /// remembered for `window_minutes`.
    pub fn new(free: u32, window_minutes: i64) -> Self {
        Self {
            free: free.max(1) as usize,
            window: SignedDuration::from_mins(window_minutes.max(1)),
            failures: HashMap::new(),
        }
    }

    fn recent(&mut self, key: &str, now: Timestamp) -> &[Timestamp] {
        let window = self.window;
        let Some(entry) = self.failures.get_mut(key) else {
            return &[];
        };
        while entry
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            entry.pop_front();
        }
        if entry.is_empty() {
            self.failures.remove(key);
            return &[];
        }
        self.failures
            .get_mut(key)
            .map_or(&[], |e| e.make_contiguous())
    }

    /// Seconds until a key over `ceiling` failures may be tried again.
    fn over_ceiling(&mut self, key: &str, ceiling: usize, now: Timestamp) -> u64 {
        let window = self.window;
        let times = self.recent(key, now);
        if times.len() < ceiling {
            return 0;
        }
        let oldest = times[times.len() - ceiling];
        secs_until(oldest.checked_add(window).unwrap_or(now), now)
    }

    /// Reserves an attempt for `username` from `address`, or says how many seconds to
    /// wait first.
    ///
    /// # Errors
    /// The seconds to wait.
    pub fn begin(
        &mut self,
        username: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Attempt, u64> {
        let (pair, user, ip) = keys(username, address);
        let free = self.free;
        let window = self.window;
        let mut wait = {
            let times = self.recent(&pair, now);
            if times.len() < free {
                0
            } else {
                let doublings = u32::try_from(times.len() - free)
                    .unwrap_or(u32::MAX)
                    .min(20);
                let delay = SignedDuration::from_secs(1i64 << doublings).min(window);
                let last = *times.last().unwrap_or(&now);
                secs_until(last.checked_add(delay).unwrap_or(now), now)
            }
        };
        wait = wait.max(self.over_ceiling(&user, ACCOUNT_CEILING, now));
        if let Some(ip) = &ip {
            wait = wait.max(self.over_ceiling(ip, ADDRESS_CEILING, now));
        }
        if wait > 0 {
            return Err(wait);
        }
        let keys: Vec<String> = [Some(pair), Some(user), ip].into_iter().flatten().collect();
        for key in &keys {
            self.failures.entry(key.clone()).or_default().push_back(now);
        }
        self.bound(now);
        Ok(Attempt { keys, at: now })
    }

    /// The attempt succeeded: its reservation is taken back, and the failures of that
    /// account from that address are forgotten.
    pub fn succeed(&mut self, attempt: &Attempt) {
        for key in &attempt.keys {
            if key.starts_with("pair:") {
                self.failures.remove(key);
            } else if let Some(times) = self.failures.get_mut(key) {
                if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    self.failures.remove(key);
                }
            }
        }
    }

    /// Above [`MAX_KEYS`], forgets what left the window and then the keys whose last
    /// failure is oldest, down to three quarters of the bound (so this runs rarely).
    fn bound(&mut self, now: Timestamp) {
        if self.failures.len() <= MAX_KEYS {
            return;
        }
        let window = self.window;
        self.failures.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
        });
        let keep = MAX_KEYS / 4 * 3;
        if self.failures.len() > keep {
            let mut by_age: Vec<(Timestamp, String)> = self
                .failures
                .iter()
                .map(|(k, t)| (*t.back().unwrap_or(&now), k.clone()))
                .collect();
            by_age.sort();
            let excess = self.failures.len() - keep;
            for (_, key) in by_age.into_iter().take(excess) {
                self.failures.remove(&key);
            }
        }
    }

    /// How many keys are remembered (for tests and metrics).
    pub fn remembered(&self) -> usize {
        self.failures.len()
    }
}

fn secs_until(at: Timestamp, now: Timestamp) -> u64 {
    let secs = at.duration_since(now).as_secs();
    if secs > 0 || at > now {
        u64::try_from(secs).unwrap_or(0).max(1)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(sec: i64) -> Timestamp {
        Timestamp::from_second(1_764_000_000 + sec).unwrap()
    }

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, n]))
    }

    #[test]
    fn after_the_free_failures_each_attempt_waits_twice_as_long() {
        let mut throttle = Throttle::new(3, 15);
        for n in 0..3 {
            assert!(throttle.begin("kim", ip(1), t(n)).is_ok());
        }
        // Fourth attempt: one second after the third.
        assert_eq!(throttle.begin("kim", ip(1), t(2)), Err(1));
        assert!(throttle.begin("kim", ip(1), t(3)).is_ok());
        // Fifth: two seconds after the fourth.
        assert_eq!(throttle.begin("kim", ip(1), t(4)), Err(1));
        assert!(throttle.begin("kim", ip(1), t(5)).is_ok());
        assert_eq!(throttle.begin("kim", ip(1), t(6)), Err(3));
        assert!(throttle.begin("kim", ip(1), t(9)).is_ok());
    }

    #[test]
    fn a_guesser_elsewhere_never_slows_the_owner() {
        let mut throttle = Throttle::new(5, 15);
        let mut at = 0;
        for _ in 0..60 {
            match throttle.begin("director", ip(66), t(at)) {
                Ok(_) => at += 1,
                Err(wait) => at += i64::try_from(wait).unwrap(),
            }
        }
        let owner = throttle
            .begin("director", ip(7), t(at))
            .expect("the owner may try");
        throttle.succeed(&owner);
    }

    #[test]
    fn parallel_attempts_get_no_extra_guesses() {
        let mut throttle = Throttle::new(3, 15);
        let granted = (0..10)
            .filter(|_| throttle.begin("kim", ip(1), t(0)).is_ok())
            .count();
        assert_eq!(granted, 3);
    }

    #[test]
    fn a_success_takes_back_its_reservation_and_clears_its_own_failures_only() {
        let mut throttle = Throttle::new(2, 15);
        throttle.begin("kim", ip(9), t(0)).unwrap();
        throttle.begin("kim", ip(1), t(0)).unwrap();
        throttle.begin("kim", ip(1), t(1)).unwrap();
        let ok = throttle.begin("kim", ip(1), t(3)).unwrap();
        throttle.succeed(&ok);
        // The other address's failure stays counted for the account.
        assert_eq!(throttle.recent("user:kim", t(3)).len(), 3);
        assert!(throttle.begin("kim", ip(1), t(3)).is_ok());
    }

    #[test]
    fn the_account_ceiling_holds_against_many_addresses() {
        let mut throttle = Throttle::new(5, 15);
        for n in 0..ACCOUNT_CEILING {
            let address = Some(IpAddr::from([10, 0, (n / 250) as u8, (n % 250) as u8]));
            throttle.begin("director", address, t(0)).unwrap();
        }
        let wait = throttle.begin("director", ip(7), t(1)).unwrap_err();
        assert_eq!(wait, 15 * 60 - 1);
        assert!(throttle.begin("director", ip(7), t(15 * 60)).is_ok());
    }

    #[test]
    fn memory_stays_bounded_whatever_usernames_are_tried() {
        let mut throttle = Throttle::new(5, 15);
        for n in 0..(MAX_KEYS * 2) {
            let _ = throttle.begin(&format!("user{n}"), None, t(0));
        }
        assert!(throttle.remembered() <= MAX_KEYS);
    }
}
