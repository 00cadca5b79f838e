//! Login throttling: too many failures for an account or from an address lock it out for
//! a while. Pure: time is passed in.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: SignedDuration,
    failures: HashMap<String, VecDeque<Timestamp>>,
}

impl Throttle {
    pub fn new(limit: u32, window_minutes: i64) -> Self {
        Self {
            limit: limit.max(1) as usize,
            window: SignedDuration::from_mins(window_minutes.max(1)),
            failures: HashMap::new(),
        }
    }

    fn prune(&mut self, key: &str, now: Timestamp) -> Option<&VecDeque<Timestamp>> {
        let window = self.window;
        let entry = self.failures.get_mut(key)?;
        while entry
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            entry.pop_front();
        }
        if entry.is_empty() {
            self.failures.remove(key);
            return None;
        }
        self.failures.get(key)
    }

    /// `Err(seconds)` when any key is locked out, with how long until it is free again.
    pub fn check(&mut self, keys: &[String], now: Timestamp) -> Result<(), u64> {
        let mut wait = 0u64;
        for key in keys {
            let (limit, window) = (self.limit, self.window);
            if let Some(times) = self.prune(key, now)
                && times.len() >= limit
            {
                let oldest = times[times.len() - limit];
                let free_at = oldest.checked_add(window).unwrap_or(now);
                let secs = free_at.duration_since(now).as_secs().max(1) as u64;
                wait = wait.max(secs);
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    pub fn fail(&mut self, keys: &[String], now: Timestamp) {
        for key in keys {
            self.failures.entry(key.clone()).or_default().push_back(now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn succeed(&mut self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(sec: i64) -> Timestamp {
        Timestamp::from_second(1_764_000_000 + sec).unwrap()
    }

    #[test]
    fn the_limit_locks_out_until_the_window_passes() {
        let mut throttle = Throttle::new(3, 15);
        let keys = vec!["user:kim".to_owned(), "ip:10.0.0.1".to_owned()];
        for n in 0..3 {
            assert_eq!(throttle.check(&keys, t(n)), Ok(()));
            throttle.fail(&keys, t(n));
        }
        assert_eq!(throttle.check(&keys, t(10)), Err(15 * 60 - 10));
        assert_eq!(throttle.check(&keys, t(15 * 60 + 2)), Ok(()));
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let mut throttle = Throttle::new(2, 15);
        let user = "user:kim".to_owned();
        let ip = "ip:10.0.0.1".to_owned();
        throttle.fail(&[user.clone(), ip.clone()], t(0));
        throttle.fail(&[user.clone(), ip.clone()], t(1));
        throttle.succeed(&user);
        assert_eq!(throttle.check(std::slice::from_ref(&user), t(2)), Ok(()));
        assert!(throttle.check(std::slice::from_ref(&ip), t(2)).is_err());
    }
}
