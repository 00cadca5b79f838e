//! The optional cabinet lock: a relay-driven solenoid and a reed switch on the door.

use std::sync::{Arc, Mutex};

/// Whether the cabinet door is shut, as the reed switch says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorState {
    Closed,
    Open,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    #[error(
        "cannot drive the cabinet lock on GPIO {pin}: {reason} (is the user in the gpio group?)"
    )]
    Gpio { pin: u8, reason: String },
}

/// A lock that opens only for an authorised tap.
pub trait CabinetLock {
    /// Releases the solenoid for a few seconds, then locks again by itself.
    fn release(&mut self) -> Result<(), LockError>;
    fn door(&mut self) -> Result<DoorState, LockError>;
}

/// No cabinet fitted: releasing does nothing and the door counts as closed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLock;

impl CabinetLock for NoLock {
    fn release(&mut self) -> Result<(), LockError> {
        Ok(())
    }
    fn door(&mut self) -> Result<DoorState, LockError> {
        Ok(DoorState::Closed)
    }
}

/// A lock in memory: counts releases; the door is set from code. Clones share state.
#[derive(Debug, Clone)]
pub struct SimLock {
    inner: Arc<Mutex<(u32, DoorState)>>,
}

impl Default for SimLock {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new((0, DoorState::Closed))),
        }
    }
}

impl SimLock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn releases(&self) -> u32 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    pub fn set_door(&self, door: DoorState) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1 = door;
    }
}

impl CabinetLock for SimLock {
    fn release(&mut self) -> Result<(), LockError> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
        Ok(())
    }
    fn door(&mut self) -> Result<DoorState, LockError> {
        Ok(self.inner.lock().unwrap_or_else(|e| e.into_inner()).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_lock_counts_releases_and_reports_the_door() {
        let mut lock = SimLock::new();
        let view = lock.clone();
        lock.release().unwrap();
        view.set_door(DoorState::Open);
        assert_eq!(view.releases(), 1);
        assert_eq!(lock.door(), Ok(DoorState::Open));
        assert_eq!(NoLock.door(), Ok(DoorState::Closed));
    }
}
