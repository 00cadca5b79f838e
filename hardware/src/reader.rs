//! The badge reader trait, its error, and the simulated reader.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::uid::Uid;

/// Something that can be asked, without blocking for long, whether a card is on it.
pub trait BadgeReader {
    /// One poll: `Ok(None)` when no card is present. Returns within the reader's time
    /// budget (a second at most), whatever state the hardware is in.
    fn poll(&mut self) -> Result<Option<Uid>, ReaderError>;
}

/// What went wrong with the reader. The messages tell an operator what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// The chip answered, but not as an MFRC522 does.
    #[error(
        "the badge reader reported version 0x{version:02X}, not an MFRC522 (0x91 or 0x92): \
         check its wiring and that SPI is enabled (raspi-config, dtparam=spi=on)"
    )]
    WrongChip { version: u8 },
    /// The chip did not finish within the time budget: unplugged, unpowered or stuck.
    #[error(
        "the badge reader did not answer within {budget_ms} ms: check it is plugged in and powered"
    )]
    NotResponding { budget_ms: u64 },
    /// The SPI bus itself failed.
    #[error("SPI bus error talking to the badge reader: {0}")]
    Bus(String),
    /// A card was seen but reading it failed (CRC, collision, card pulled away). Transient:
    /// the person taps again.
    #[error("the card could not be read ({0}); tap again")]
    BadRead(&'static str),
    /// The reader could not be opened.
    #[error("cannot open the badge reader: {0}")]
    Open(String),
}

impl ReaderError {
    /// A bad read is worth a "tap again"; everything else means the reader needs attention.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::BadRead(_))
    }
}

type Queue = Arc<Mutex<VecDeque<Result<Uid, ReaderError>>>>;

/// A reader fed by a [`SimReaderFeed`]: each queued item is returned by one poll.
#[derive(Debug, Default)]
pub struct SimReader {
    queue: Queue,
    unplugged: Arc<AtomicBool>,
}

/// The feeding end of a [`SimReader`]; cheap to clone and `Send`.
#[derive(Debug, Clone, Default)]
pub struct SimReaderFeed {
    queue: Queue,
    unplugged: Arc<AtomicBool>,
}

impl SimReader {
    pub fn new() -> (Self, SimReaderFeed) {
        let queue = Queue::default();
        let unplugged = Arc::new(AtomicBool::new(false));
        (
            Self {
                queue: queue.clone(),
                unplugged: unplugged.clone(),
            },
            SimReaderFeed { queue, unplugged },
        )
    }
}

impl SimReaderFeed {
    /// A card is tapped: the next poll returns it.
    pub fn tap(&self, uid: Uid) {
        self.push(Ok(uid));
    }

    /// The next poll fails with `error`.
    pub fn fail(&self, error: ReaderError) {
        self.push(Err(error));
    }

    /// While unplugged, every poll fails as a dead MFRC522 does.
    pub fn set_unplugged(&self, unplugged: bool) {
        self.unplugged.store(unplugged, Ordering::SeqCst);
    }

    fn push(&self, item: Result<Uid, ReaderError>) {
        // A poisoned queue only means a feeder panicked mid-push; the data is still sound.
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.push_back(item);
    }
}

impl BadgeReader for SimReader {
    fn poll(&mut self) -> Result<Option<Uid>, ReaderError> {
        if self.unplugged.load(Ordering::SeqCst) {
            return Err(ReaderError::NotResponding { budget_ms: 500 });
        }
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.pop_front().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_reader_returns_fed_taps_in_order_then_nothing() {
        let (mut reader, feed) = SimReader::new();
        let a = Uid::new(&[1, 2, 3, 4]).unwrap();
        let b = Uid::new(&[1, 2, 3, 4, 5, 6, 7]).unwrap();
        feed.tap(a.clone());
        feed.fail(ReaderError::BadRead("crc"));
        feed.tap(b.clone());
        assert_eq!(reader.poll(), Ok(Some(a)));
        assert_eq!(reader.poll(), Err(ReaderError::BadRead("crc")));
        assert_eq!(reader.poll(), Ok(Some(b)));
        assert_eq!(reader.poll(), Ok(None));
        feed.set_unplugged(true);
        assert!(matches!(
            reader.poll(),
            Err(ReaderError::NotResponding { .. })
        ));
        feed.set_unplugged(false);
        assert_eq!(reader.poll(), Ok(None));
    }
}
