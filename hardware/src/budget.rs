//! A time budget around an SPI device, so that a dead or unplugged reader becomes an error
//! instead of a hang.
//!
//! The `mfrc522` driver waits for the chip in unbounded loops (soft reset, transceive). With
//! MISO stuck high those loops never end. [`DeadlineSpi`] fails every transaction once the
//! budget armed through its [`BudgetHandle`] is spent; the driver propagates that error and
//! the loop ends. Time comes from a [`Monotonic`] so tests can script it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use embedded_hal::spi::{self, ErrorKind, Operation, SpiDevice};

/// A monotonic time source: elapsed time since some fixed start.
pub trait Monotonic {
    fn elapsed(&self) -> Duration;
}

/// The real monotonic clock (not the wall clock: a kiosk's wall clock may jump).
#[derive(Debug, Clone, Copy)]
pub struct StdMonotonic(Instant);

impl StdMonotonic {
    pub fn start() -> Self {
        Self(Instant::now())
    }
}

impl Default for StdMonotonic {
    fn default() -> Self {
        Self::start()
    }
}

impl Monotonic for StdMonotonic {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A clock for tests: every reading advances it by a fixed step, like a bus transaction
/// that takes that long.
#[derive(Debug)]
pub struct SteppingClock {
    now: std::cell::Cell<Duration>,
    step: Duration,
}

impl SteppingClock {
    pub fn new(step: Duration) -> Self {
        Self {
            now: std::cell::Cell::new(Duration::ZERO),
            step,
        }
    }
}

impl Monotonic for SteppingClock {
    fn elapsed(&self) -> Duration {
        let now = self.now.get() + self.step;
        self.now.set(now);
        now
    }
}

/// The error of a budgeted bus: the bus's own error, or the budget ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetError<E> {
    Bus(E),
    OutOfTime,
}

impl<E: spi::Error> spi::Error for BudgetError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(e) => e.kind(),
            Self::OutOfTime => ErrorKind::Other,
        }
    }
}

/// An SPI device whose transactions fail once the armed budget is spent.
///
/// The budget is armed through a [`BudgetHandle`], because the driver that owns this
/// device gives no access to it; the deadline starts at the next transaction.
pub struct DeadlineSpi<SPI, C> {
    spi: SPI,
    clock: C,
    request: BudgetHandle,
    deadline: Option<Duration>,
}

/// Arms the budget of a [`DeadlineSpi`] from outside the driver that owns it.
#[derive(Debug, Clone, Default)]
pub struct BudgetHandle(Arc<AtomicU64>);

impl BudgetHandle {
    /// From the next transaction on, transactions fail after `budget` has passed.
    pub fn arm(&self, budget: Duration) {
        let micros = u64::try_from(budget.as_micros()).unwrap_or(u64::MAX).max(1);
        self.0.store(micros, Ordering::Relaxed);
    }

    fn take(&self) -> Option<Duration> {
        match self.0.swap(0, Ordering::Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }
}

impl<SPI, C: Monotonic> DeadlineSpi<SPI, C> {
    /// Wraps `spi`; no budget is armed yet, so nothing fails until one is.
    pub fn new(spi: SPI, clock: C) -> Self {
        Self {
            spi,
            clock,
            request: BudgetHandle::default(),
            deadline: None,
        }
    }

    pub fn budget_handle(&self) -> BudgetHandle {
        self.request.clone()
    }

    pub fn release(self) -> SPI {
        self.spi
    }
}

impl<SPI: SpiDevice, C> spi::ErrorType for DeadlineSpi<SPI, C> {
    type Error = BudgetError<SPI::Error>;
}

impl<SPI: SpiDevice, C: Monotonic> SpiDevice for DeadlineSpi<SPI, C> {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Self::Error> {
        let now = self.clock.elapsed();
        if let Some(budget) = self.request.take() {
            self.deadline = Some(now + budget);
        }
        if let Some(deadline) = self.deadline
            && now > deadline
        {
            return Err(BudgetError::OutOfTime);
        }
        self.spi.transaction(operations).map_err(BudgetError::Bus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal::spi::ErrorType;

    /// A bus that always succeeds, counting transactions.
    struct CountingBus(u32);
    impl ErrorType for CountingBus {
        type Error = ErrorKind;
    }
    impl SpiDevice for CountingBus {
        fn transaction(&mut self, _: &mut [Operation<'_, u8>]) -> Result<(), ErrorKind> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn transactions_fail_once_the_armed_budget_is_spent_and_not_before() {
        let mut bus = DeadlineSpi::new(
            CountingBus(0),
            SteppingClock::new(Duration::from_millis(10)),
        );
        // Unarmed: never fails.
        for _ in 0..1000 {
            assert!(bus.write(&[0]).is_ok());
        }
        bus.budget_handle().arm(Duration::from_millis(100));
        let mut ok = 0;
        while bus.write(&[0]).is_ok() {
            ok += 1;
            assert!(ok < 100, "budget never ran out");
        }
        // Armed at the first transaction (t), each later one 10 ms later: t..t+100 pass.
        assert_eq!(ok, 11);
        assert_eq!(bus.write(&[0]), Err(BudgetError::OutOfTime));
        // Re-arming gives a fresh budget.
        bus.budget_handle().arm(Duration::from_millis(100));
        assert!(bus.write(&[0]).is_ok());
    }
}
