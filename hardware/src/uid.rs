//! The raw UID a reader returns. It never prints its bytes in `Debug`: UIDs are
//! safeguarding data and must not end up in logs by accident.

/// A card UID of 4, 7 or 10 bytes (ISO 14443-3 single, double, triple size).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Uid {
    bytes: [u8; 10],
    len: u8,
}

/// A UID must be 4, 7 or 10 bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a card UID is 4, 7 or 10 bytes long, not {0}")]
pub struct BadUidLength(pub usize);

impl Uid {
    pub fn new(bytes: &[u8]) -> Result<Self, BadUidLength> {
        if !matches!(bytes.len(), 4 | 7 | 10) {
            return Err(BadUidLength(bytes.len()));
        }
        let mut buf = [0u8; 10];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(Self {
            bytes: buf,
            len: bytes.len() as u8,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Upper-case hex without separators, the form the server's roster uses.
    pub fn to_hex(&self) -> String {
        self.as_bytes().iter().map(|b| format!("{b:02X}")).collect()
    }
}

impl std::fmt::Debug for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Uid({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_4_7_and_10_byte_uids() {
        for len in 0..12 {
            let ok = Uid::new(&vec![0xAB; len]).is_ok();
            assert_eq!(ok, matches!(len, 4 | 7 | 10), "length {len}");
        }
    }

    #[test]
    fn debug_output_hides_the_uid_bytes() {
        let uid = Uid::new(&[0xDE, 0xAD, 0xBE, 0xEF]).unwrap();
        assert_eq!(format!("{uid:?}"), "Uid(4 bytes)");
        assert_eq!(uid.to_hex(), "DEADBEEF");
    }
}
