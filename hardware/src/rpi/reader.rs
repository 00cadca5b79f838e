//! The MFRC522 on SPI0 through Linux spidev.

use linux_embedded_hal::SpidevDevice;
use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};

use crate::budget::StdMonotonic;
use crate::mfrc522_reader::Mfrc522Reader;
use crate::reader::ReaderError;

/// The real reader type.
pub type SpiReader = Mfrc522Reader<SpidevDevice, StdMonotonic>;

/// Opens `/dev/spidevB.C` (SPI mode 0, 1 MHz) and starts the reader. The reader's RST pin
/// must already be high ([`super::hold_reader_out_of_reset`]).
pub fn open_reader(path: &str) -> Result<SpiReader, ReaderError> {
    let mut spi = SpidevDevice::open(path).map_err(|e| {
        ReaderError::Open(format!(
            "{path}: {e} (enable SPI with raspi-config or dtparam=spi=on, and add the user to the spi group)"
        ))
    })?;
    let options = SpidevOptions::new()
        .bits_per_word(8)
        .max_speed_hz(1_000_000)
        .mode(SpiModeFlags::SPI_MODE_0)
        .build();
    spi.configure(&options)
        .map_err(|e| ReaderError::Open(format!("{path}: cannot configure SPI: {e}")))?;
    Mfrc522Reader::new(spi, StdMonotonic::start())
}
