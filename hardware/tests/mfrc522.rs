//! The MFRC522 reader against scripted SPI traffic: start-up, no card, 4-, 7- and 10-byte
//! UIDs, CRC errors, and dead readers (silent on the mock; stuck high on a bus that
//! answers 0xFF forever, which only the time budget can stop).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::*;
use consentcam_hardware::budget::SteppingClock;
use consentcam_hardware::{BadgeReader, Mfrc522Reader, ReaderError, Uid};
use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
use embedded_hal_mock::eh1::spi::Mock;

/// A clock whose every reading is 1 ms after the last: about one SPI transaction.
fn clock() -> SteppingClock {
    SteppingClock::new(Duration::from_millis(1))
}

fn started() -> Script {
    let mut script = Script::default();
    script.init().read(VERSION, 0x92);
    script
}

fn open(script: &Script) -> (Mfrc522Reader<Mock<u8>, SteppingClock>, Mock<u8>) {
    let spi = Mock::new(&script.0);
    let done = spi.clone();
    let reader = Mfrc522Reader::new(spi, clock()).expect("reader starts");
    (reader, done)
}

#[test]
fn starts_up_and_reports_no_card_when_nobody_taps() {
    let mut script = started();
    script.poll_start().transceive_timeout(&[REQA], 7);
    let (mut reader, mut done) = open(&script);
    assert_eq!(reader.poll(), Ok(None));
    done.done();
}

#[test]
fn reads_a_4_byte_uid() {
    let mut script = started();
    script
        .card_present([0x04, 0x00])
        .select_start()
        .select_level(0, [0xDE, 0xAD, 0xBE, 0xEF], 0x08)
        .halt();
    let (mut reader, mut done) = open(&script);
    let uid = reader.poll().unwrap().unwrap();
    assert_eq!(uid, Uid::new(&[0xDE, 0xAD, 0xBE, 0xEF]).unwrap());
    done.done();
}

#[test]
fn reads_a_7_byte_uid_over_two_cascade_levels() {
    let mut script = started();
    script
        .card_present([0x44, 0x00])
        .select_start()
        .select_level(0, [CASCADE_TAG, 0x04, 0x11, 0x22], 0x04)
        .select_level(1, [0x33, 0x44, 0x55, 0x66], 0x00)
        .halt();
    let (mut reader, mut done) = open(&script);
    let uid = reader.poll().unwrap().unwrap();
    assert_eq!(uid.to_hex(), "04112233445566");
    done.done();
}

#[test]
fn reads_a_10_byte_uid_over_three_cascade_levels() {
    let mut script = started();
    script
        .card_present([0x84, 0x00])
        .select_start()
        .select_level(0, [CASCADE_TAG, 0x01, 0x02, 0x03], 0x04)
        .select_level(1, [CASCADE_TAG, 0x04, 0x05, 0x06], 0x04)
        .select_level(2, [0x07, 0x08, 0x09, 0x0A], 0x20)
        .halt();
    let (mut reader, mut done) = open(&script);
    let uid = reader.poll().unwrap().unwrap();
    assert_eq!(uid.to_hex(), "0102030405060708090A");
    done.done();
}

#[test]
fn a_corrupted_select_answer_is_a_bad_read_not_a_uid() {
    let mut script = started();
    script
        .card_present([0x04, 0x00])
        .select_start()
        .select_level_with_sak_crc(0, [0xDE, 0xAD, 0xBE, 0xEF], 0x08, [0x00, 0x00])
        // After a failed read the reader checks the chip is still there.
        .read(VERSION, 0x92);
    let (mut reader, mut done) = open(&script);
    let result = reader.poll();
    assert_eq!(result, Err(ReaderError::BadRead("CRC error")));
    assert!(result.unwrap_err().is_transient());
    done.done();
}

#[test]
fn a_crc_error_flagged_by_the_chip_is_a_bad_read() {
    let mut script = started();
    script
        .poll_start()
        .transceive_error(&[REQA], 7, ERR_CRC)
        .read(VERSION, 0x92);
    let (mut reader, mut done) = open(&script);
    assert_eq!(reader.poll(), Err(ReaderError::BadRead("CRC error")));
    done.done();
}

#[test]
fn a_silent_reader_fails_at_start_up_with_its_version() {
    // MISO stuck low: every register reads 0x00, so reset "finishes" and version is 0.
    let mut script = Script::default();
    script
        .write(COMMAND, CMD_SOFT_RESET)
        .read(COMMAND, 0x00)
        .write(TX_MODE, 0x00)
        .write(RX_MODE, 0x00)
        .write(MOD_WIDTH, 0x26)
        .write(T_MODE, 0x80)
        .write(T_PRESCALER, 0xA9)
        .write(T_RELOAD_HIGH, 0x03)
        .write(T_RELOAD_LOW, 0xE8)
        .write(TX_ASK, 0x40)
        .write(MODE, 0x3D)
        .read(TX_CONTROL, 0x00)
        .write(TX_CONTROL, 0x03)
        .read(VERSION, 0x00);
    let spi = Mock::new(&script.0);
    let mut done = spi.clone();
    let result = Mfrc522Reader::new(spi, clock());
    assert!(matches!(result, Err(ReaderError::WrongChip { version: 0 })));
    done.done();
}

/// A bus that answers every read with `level` after `healthy` transactions of a scripted
/// mock: a reader that was fine and is then unplugged (MISO floating high or low).
struct Unplugged {
    mock: Mock<u8>,
    healthy: usize,
    level: u8,
    dead_transactions: Arc<AtomicU32>,
}

impl ErrorType for Unplugged {
    type Error = embedded_hal::spi::ErrorKind;
}

impl SpiDevice for Unplugged {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Self::Error> {
        if self.healthy > 0 {
            self.healthy -= 1;
            return self.mock.transaction(operations);
        }
        self.dead_transactions.fetch_add(1, Ordering::Relaxed);
        for op in operations {
            match op {
                Operation::Read(buf) | Operation::TransferInPlace(buf) => buf.fill(self.level),
                Operation::Transfer(read, _) => read.fill(self.level),
                Operation::Write(_) | Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

#[test]
fn a_reader_stuck_high_at_start_up_times_out_instead_of_hanging() {
    let dead = Arc::new(AtomicU32::new(0));
    let mut never_used = Mock::new(&[]);
    let bus = Unplugged {
        mock: never_used.clone(),
        healthy: 0,
        level: 0xFF,
        dead_transactions: dead.clone(),
    };
    let result = Mfrc522Reader::new(bus, clock());
    assert!(matches!(
        result,
        Err(ReaderError::NotResponding { budget_ms: 500 })
    ));
    // Bounded by the 500 ms budget at 1 ms a transaction.
    assert!(dead.load(Ordering::Relaxed) <= 502, "{dead:?}");
    never_used.done();
}

#[test]
fn a_reader_unplugged_after_start_up_fails_each_poll_instead_of_hanging() {
    for level in [0x00, 0xFF] {
        let script = started();
        let dead = Arc::new(AtomicU32::new(0));
        let mut mock = Mock::new(&script.0);
        let bus = Unplugged {
            mock: mock.clone(),
            // Each register access is one transaction (start .. end).
            healthy: script.0.len() / 3,
            level,
            dead_transactions: dead.clone(),
        };
        let mut reader = Mfrc522Reader::new(bus, clock()).expect("healthy start");
        for _ in 0..3 {
            let error = reader.poll().expect_err("a dead reader is an error");
            assert!(!error.is_transient(), "level {level:#x}: {error:?}");
        }
        assert!(dead.load(Ordering::Relaxed) <= 3 * 502);
        mock.done();
    }
}
