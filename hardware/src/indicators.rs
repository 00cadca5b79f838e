//! The green and red LEDs and the buzzer, driven by signals rather than pin levels: the
//! firmware says what happened, the adapter knows how long to light and beep.

use std::sync::{Arc, Mutex};

/// What the person at the kiosk should see and hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Green LED, one short beep: the tap was accepted.
    Accept,
    /// Red LED, two beeps (K1): the tap was refused.
    Refuse,
    /// Red LED steady, no beep: something needs attention (overdue, reader fault).
    Attention,
    /// Both LEDs off.
    Quiet,
}

impl Signal {
    /// The beep pattern as (on, off) milliseconds.
    pub fn beeps(self) -> &'static [(u64, u64)] {
        match self {
            Self::Accept => &[(80, 0)],
            Self::Refuse => &[(120, 100), (120, 0)],
            Self::Attention | Self::Quiet => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("cannot drive GPIO {pin}: {reason} (is the user in the gpio group?)")]
    Gpio { pin: u8, reason: String },
}

/// LEDs and buzzer.
pub trait Indicators {
    /// Shows `signal`. Must not block for the length of the beeps.
    fn signal(&mut self, signal: Signal) -> Result<(), IndicatorError>;
}

/// Records every signal; [`SimIndicators::log`] gives a shared view of them.
#[derive(Debug, Clone, Default)]
pub struct SimIndicators {
    log: Arc<Mutex<Vec<Signal>>>,
}

impl SimIndicators {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every signal shown so far, oldest first.
    pub fn log(&self) -> Vec<Signal> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Indicators for SimIndicators {
    fn signal(&mut self, signal: Signal) -> Result<(), IndicatorError> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(signal);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_beeps_twice_and_acceptance_once() {
        assert_eq!(Signal::Refuse.beeps().len(), 2);
        assert_eq!(Signal::Accept.beeps().len(), 1);
        let mut sim = SimIndicators::new();
        let view = sim.clone();
        sim.signal(Signal::Refuse).unwrap();
        assert_eq!(view.log(), vec![Signal::Refuse]);
    }
}
