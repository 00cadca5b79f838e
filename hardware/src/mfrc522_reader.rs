//! The MFRC522 badge reader over any embedded-hal 1.0 SPI device, with a time budget.
//!
//! Uses the `mfrc522` crate (embedded-hal 1.0, typestate init, 4/7/10-byte UIDs). Its wait
//! loops are unbounded, so the SPI device is wrapped in a [`DeadlineSpi`]: every
//! operation (start-up, each poll) is armed with [`Mfrc522Reader::BUDGET`] and a dead
//! reader turns into [`ReaderError::NotResponding`]. Its error type prints nothing, so it
//! is mapped into [`ReaderError`] here.
//!
//! Wiring (BCM numbering; see `firmware/config/kiosk.toml` for the full table):
//! SDA/NSS -> CE0 (GPIO8), SCK -> GPIO11, MOSI -> GPIO10, MISO -> GPIO9, RST -> GPIO25,
//! 3.3 V and GND. IRQ unused.

use std::time::Duration;

use embedded_hal::spi::SpiDevice;
use mfrc522::comm::blocking::spi::{DummyDelay, SpiInterface};
use mfrc522::{Initialized, Mfrc522};

use crate::budget::{BudgetError, BudgetHandle, DeadlineSpi, Monotonic};
use crate::reader::{BadgeReader, ReaderError};
use crate::uid::Uid;

type Driver<SPI, C> = Mfrc522<SpiInterface<DeadlineSpi<SPI, C>, DummyDelay>, Initialized>;

/// An initialised MFRC522 whose every operation is bounded in time.
pub struct Mfrc522Reader<SPI: SpiDevice, C: Monotonic> {
    driver: Driver<SPI, C>,
    budget: BudgetHandle,
    limit: Duration,
}

impl<SPI, C> Mfrc522Reader<SPI, C>
where
    SPI: SpiDevice,
    SPI::Error: std::fmt::Debug,
    C: Monotonic,
{
    /// A poll with no card takes one 25 ms chip timeout and a 10-byte select well under
    /// 100 ms, so half a second is far beyond any healthy reader and well inside the
    /// one-second promise.
    pub const BUDGET: Duration = Duration::from_millis(500);

    /// Resets and configures the chip, then checks it is an MFRC522 (version 0x91/0x92).
    pub fn new(spi: SPI, clock: C) -> Result<Self, ReaderError> {
        Self::with_budget(spi, clock, Self::BUDGET)
    }

    pub fn with_budget(spi: SPI, clock: C, limit: Duration) -> Result<Self, ReaderError> {
        let bus = DeadlineSpi::new(spi, clock);
        let budget = bus.budget_handle();
        budget.arm(limit);
        let mut driver = Mfrc522::new(SpiInterface::new(bus))
            .init()
            .map_err(|e| map_error(e, limit))?;
        let version = driver.version().map_err(|e| map_error(e, limit))?;
        if !matches!(version, 0x91 | 0x92) {
            return Err(ReaderError::WrongChip { version });
        }
        tracing::info!(version, "badge reader ready");
        Ok(Self {
            driver,
            budget,
            limit,
        })
    }

    /// A bad read is either a card pulled away too soon or a reader that went away (a
    /// floating MISO reads as error bits). Asking the chip its version tells them apart.
    fn diagnose(&mut self, error: ReaderError) -> ReaderError {
        if !error.is_transient() {
            return error;
        }
        match self.driver.version() {
            Ok(0x91 | 0x92) => error,
            Ok(version) => ReaderError::WrongChip { version },
            Err(e) => map_error(e, self.limit),
        }
    }

    /// Gives the SPI device back (the chip is left as it is).
    pub fn release(self) -> SPI {
        self.driver.release().release().release()
    }
}

impl<SPI, C> BadgeReader for Mfrc522Reader<SPI, C>
where
    SPI: SpiDevice,
    SPI::Error: std::fmt::Debug,
    C: Monotonic,
{
    fn poll(&mut self) -> Result<Option<Uid>, ReaderError> {
        self.budget.arm(self.limit);
        let atqa = match self.driver.new_card_present() {
            Ok(atqa) => atqa,
            // The chip's own 25 ms timer fired: nobody is tapping.
            Err(mfrc522::Error::Timeout) => return Ok(None),
            Err(e) => return Err(self.diagnose(map_error(e, self.limit))),
        };
        let uid = match self.driver.select(&atqa) {
            Ok(uid) => uid,
            Err(e) => return Err(self.diagnose(map_error(e, self.limit))),
        };
        // Halting lets the same card be read again only after it leaves the field.
        if let Err(e) = self.driver.hlta() {
            tracing::debug!(error = ?ReaderErrorName(&e), "halt after select failed");
        }
        Uid::new(uid.as_bytes())
            .map(Some)
            .map_err(|_| ReaderError::BadRead("unexpected UID length"))
    }
}

/// For logs: the variant name of a driver error, without its payload.
struct ReaderErrorName<'a, E>(&'a mfrc522::Error<E>);

impl<E> std::fmt::Debug for ReaderErrorName<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(driver_error_name(self.0))
    }
}

fn driver_error_name<E>(error: &mfrc522::Error<E>) -> &'static str {
    use mfrc522::Error as D;
    match error {
        D::Bcc => "check byte (BCC) wrong",
        D::BufferOverflow => "FIFO overflow",
        D::Collision => "two cards at once",
        D::Crc => "CRC error",
        D::IncompleteFrame => "incomplete frame",
        D::Overheating => "reader overheating",
        D::Parity => "parity error",
        D::Protocol => "protocol error",
        D::Timeout => "card did not answer",
        D::Wr => "FIFO write error",
        D::Nak => "card refused",
        D::NoRoom => "answer too long",
        D::Proprietary => "not an ISO 14443-A card",
        D::Comm(_) => "bus error",
    }
}

fn map_error<E: std::fmt::Debug>(
    error: mfrc522::Error<BudgetError<E>>,
    limit: Duration,
) -> ReaderError {
    match error {
        mfrc522::Error::Comm(BudgetError::OutOfTime) => ReaderError::NotResponding {
            budget_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        },
        mfrc522::Error::Comm(BudgetError::Bus(e)) => ReaderError::Bus(format!("{e:?}")),
        other => ReaderError::BadRead(driver_error_name(&other)),
    }
}
