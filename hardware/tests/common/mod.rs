//! A script of the MFRC522's SPI traffic, register by register, for embedded-hal-mock.
//!
//! Each helper appends what the `mfrc522` driver sends for one register access and what
//! the chip answers. Composite helpers (`init`, `transceive`, `crc`, `select_level`)
//! follow the driver's sequence so scenarios read like the protocol.

#![allow(dead_code)]

use embedded_hal_mock::eh1::spi::Transaction as T;

// Registers (MFRC522 datasheet, table 20).
pub const COMMAND: u8 = 0x01;
pub const COM_IRQ: u8 = 0x04;
pub const DIV_IRQ: u8 = 0x05;
pub const ERROR: u8 = 0x06;
pub const FIFO_DATA: u8 = 0x09;
pub const FIFO_LEVEL: u8 = 0x0A;
pub const CONTROL: u8 = 0x0C;
pub const BIT_FRAMING: u8 = 0x0D;
pub const COLL: u8 = 0x0E;
pub const MODE: u8 = 0x11;
pub const TX_MODE: u8 = 0x12;
pub const RX_MODE: u8 = 0x13;
pub const TX_CONTROL: u8 = 0x14;
pub const TX_ASK: u8 = 0x15;
pub const CRC_RESULT_HIGH: u8 = 0x21;
pub const CRC_RESULT_LOW: u8 = 0x22;
pub const MOD_WIDTH: u8 = 0x24;
pub const T_MODE: u8 = 0x2A;
pub const T_PRESCALER: u8 = 0x2B;
pub const T_RELOAD_HIGH: u8 = 0x2C;
pub const T_RELOAD_LOW: u8 = 0x2D;
pub const VERSION: u8 = 0x37;

// Chip commands and interrupt/error bits.
pub const CMD_IDLE: u8 = 0x00;
pub const CMD_CALC_CRC: u8 = 0x03;
pub const CMD_TRANSCEIVE: u8 = 0x0C;
pub const CMD_SOFT_RESET: u8 = 0x0F;
pub const IRQ_TIMER: u8 = 0x01;
pub const IRQ_RX: u8 = 0x20;
pub const IRQ_CRC: u8 = 0x04;
pub const ERR_CRC: u8 = 0x04;

// Card commands (ISO 14443-3).
pub const REQA: u8 = 0x26;
pub const HLTA: u8 = 0x50;
pub const SEL_CL: [u8; 3] = [0x93, 0x95, 0x97];
pub const CASCADE_TAG: u8 = 0x88;

#[derive(Default)]
pub struct Script(pub Vec<T<u8>>);

impl Script {
    pub fn write(&mut self, reg: u8, value: u8) -> &mut Self {
        self.0.push(T::transaction_start());
        self.0.push(T::write_vec(vec![reg << 1, value]));
        self.0.push(T::transaction_end());
        self
    }

    pub fn read(&mut self, reg: u8, value: u8) -> &mut Self {
        self.0.push(T::transaction_start());
        self.0.push(T::transfer_in_place(
            vec![(reg << 1) | 0x80, 0],
            vec![0, value],
        ));
        self.0.push(T::transaction_end());
        self
    }

    pub fn write_many(&mut self, reg: u8, bytes: &[u8]) -> &mut Self {
        self.0.push(T::transaction_start());
        self.0.push(T::write(reg << 1));
        self.0.push(T::write_vec(bytes.to_vec()));
        self.0.push(T::transaction_end());
        self
    }

    pub fn read_many(&mut self, reg: u8, bytes: &[u8]) -> &mut Self {
        let address = (reg << 1) | 0x80;
        let mut sent = vec![address; bytes.len()];
        if let Some(last) = sent.last_mut() {
            *last = 0;
        }
        self.0.push(T::transaction_start());
        self.0.push(T::write(address));
        self.0.push(T::transfer_in_place(sent, bytes.to_vec()));
        self.0.push(T::transaction_end());
        self
    }

    /// Soft reset, timer and modulation set-up, antenna on.
    pub fn init(&mut self) -> &mut Self {
        self.write(COMMAND, CMD_SOFT_RESET)
            // Still powering down once, then ready.
            .read(COMMAND, 0x10)
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
            .read(TX_CONTROL, 0x80)
            .write(TX_CONTROL, 0x83)
    }

    /// Everything up to the wait: idle, clear interrupts, flush, load FIFO, transceive.
    /// `last_bits` is how many bits of the last byte are sent (0: all, 7: a short frame);
    /// answers are stored from bit 0 (`align`) in every exchange scripted here.
    fn transceive_start(&mut self, tx: &[u8], last_bits: u8, align: u8) -> &mut Self {
        self.write(COMMAND, CMD_IDLE)
            .write(COM_IRQ, 0x7F)
            .write(FIFO_LEVEL, 0x80)
            .write_many(FIFO_DATA, tx)
            .write(COMMAND, CMD_TRANSCEIVE)
            .write(BIT_FRAMING, 0x80 | (align << 4) | last_bits)
    }

    /// A transceive whose card never answers: the chip's timer fires.
    pub fn transceive_timeout(&mut self, tx: &[u8], last_bits: u8) -> &mut Self {
        self.transceive_start(tx, last_bits, 0)
            .read(COM_IRQ, 0x00)
            .read(COM_IRQ, IRQ_TIMER)
    }

    /// A transceive the card answers with `rx` (all bits of the last byte valid).
    pub fn transceive(&mut self, tx: &[u8], last_bits: u8, rx: &[u8]) -> &mut Self {
        self.transceive_start(tx, last_bits, 0)
            .read(COM_IRQ, IRQ_RX)
            .read(ERROR, 0x00)
            .read(FIFO_LEVEL, rx.len() as u8)
            .read_many(FIFO_DATA, rx)
            .read(CONTROL, 0x00)
    }

    /// A transceive whose answer the chip flags with `error` bits.
    pub fn transceive_error(&mut self, tx: &[u8], last_bits: u8, error: u8) -> &mut Self {
        self.transceive_start(tx, last_bits, 0)
            .read(COM_IRQ, IRQ_RX)
            .read(ERROR, error)
    }

    /// The chip's CRC coprocessor computes `crc` (low, high) over `data`.
    pub fn crc(&mut self, data: &[u8], crc: [u8; 2]) -> &mut Self {
        self.write(COMMAND, CMD_IDLE)
            .write(DIV_IRQ, 0x04)
            .write(FIFO_LEVEL, 0x80)
            .write_many(FIFO_DATA, data)
            .write(COMMAND, CMD_CALC_CRC)
            .read(DIV_IRQ, IRQ_CRC)
            .write(COMMAND, CMD_IDLE)
            .read(CRC_RESULT_LOW, crc[0])
            .read(CRC_RESULT_HIGH, crc[1])
    }

    /// REQA preamble of a poll: reset the modes, then ask for cards.
    pub fn poll_start(&mut self) -> &mut Self {
        self.write(TX_MODE, 0x00)
            .write(RX_MODE, 0x00)
            .write(MOD_WIDTH, 0x26)
    }

    /// A card answers REQA with ATQA `atqa`.
    pub fn card_present(&mut self, atqa: [u8; 2]) -> &mut Self {
        self.poll_start().transceive(&[REQA], 7, &atqa)
    }

    /// Before the first cascade level: clear ValuesAfterColl (read-modify-write).
    pub fn select_start(&mut self) -> &mut Self {
        self.read(COLL, 0x80).write(COLL, 0x00)
    }

    /// One cascade level: anticollision returns `four` (+ BCC), select answers SAK.
    pub fn select_level(&mut self, level: usize, four: [u8; 4], sak: u8) -> &mut Self {
        self.select_level_with_sak_crc(level, four, sak, [0xC3, 0xD4])
    }

    /// Like [`Self::select_level`], but the card's CRC over its SAK is `received`, while the
    /// chip computes C3 D4: a mismatch is a corrupted answer.
    pub fn select_level_with_sak_crc(
        &mut self,
        level: usize,
        four: [u8; 4],
        sak: u8,
        received: [u8; 2],
    ) -> &mut Self {
        let cmd = SEL_CL[level];
        let bcc = four[0] ^ four[1] ^ four[2] ^ four[3];
        self.transceive(&[cmd, 0x20], 0, &[four[0], four[1], four[2], four[3], bcc]);
        let frame = [cmd, 0x70, four[0], four[1], four[2], four[3], bcc];
        let frame_crc = [0xA1, 0xB2];
        self.crc(&frame, frame_crc);
        let mut select = frame.to_vec();
        select.extend_from_slice(&frame_crc);
        self.transceive(&select, 0, &[sak, received[0], received[1]])
            .crc(&[sak], [0xC3, 0xD4])
    }

    /// HLTA, which a card acknowledges by staying silent.
    pub fn halt(&mut self) -> &mut Self {
        let crc = [0x57, 0xCD];
        self.crc(&[HLTA, 0x00], crc)
            .transceive_start(&[HLTA, 0x00, crc[0], crc[1]], 0, 0)
            .read(COM_IRQ, IRQ_TIMER)
    }
}
