//! Orientation: read from the camera's EXIF, written back as a fresh, minimal EXIF.
//!
//! Only IFD0's Orientation tag is read; nothing else of the original EXIF is ever
//! copied. The segment written back is built from scratch and holds exactly one tag, so
//! it cannot carry a name, a serial, GPS or a thumbnail.

use crate::error::ScrubError;

/// How the stored pixels must be turned to display the photo upright (EXIF tag 0x0112).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Orientation(u8);

impl Orientation {
    /// The EXIF value, 1 to 8 (1: stored upright).
    pub fn value(self) -> u8 {
        self.0
    }

    /// Accepts the eight values the EXIF standard defines.
    pub fn from_value(value: u8) -> Option<Self> {
        (1..=8).contains(&value).then_some(Self(value))
    }
}

pub(crate) const EXIF_SIGNATURE: &[u8] = b"Exif\0";
const ORIENTATION_TAG: u16 = 0x0112;
const SHORT: u16 = 3;

/// Reads IFD0's Orientation from an APP1 payload that starts with `Exif\0`.
///
/// `Ok(None)` when the EXIF has no orientation tag; an error when the EXIF cannot be
/// walked far enough to know (then nobody can say which way up the photo goes).
pub(crate) fn read(app1: &[u8], offset: usize) -> Result<Option<Orientation>, ScrubError> {
    let bad = |what| ScrubError::UnreadableOrientation { offset, what };
    // "Exif" NUL and one pad byte (normally NUL; some writers put 0xFF).
    let tiff = app1.get(6..).ok_or(bad("EXIF header cut short"))?;
    let big_endian = match tiff.get(..4) {
        Some(b"MM\0*") => true,
        Some(b"II*\0") => false,
        _ => return Err(bad("not a TIFF structure")),
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if big_endian {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd0 = u32_at(4).ok_or(bad("TIFF header cut short"))?;
    let ifd0 = usize::try_from(ifd0).map_err(|_| bad("IFD0 offset too large"))?;
    if ifd0 < 8 {
        return Err(bad("IFD0 offset points into the header"));
    }
    let count = usize::from(u16_at(ifd0).ok_or(bad("IFD0 outside the EXIF block"))?);
    let entries_end = ifd0 + 2 + 12 * count;
    if entries_end > tiff.len() {
        return Err(bad("IFD0 entries run past the EXIF block"));
    }
    let mut found = None;
    for i in 0..count {
        let entry = ifd0 + 2 + 12 * i;
        if u16_at(entry) != Some(ORIENTATION_TAG) {
            continue;
        }
        if found.is_some() {
            return Err(bad("two orientation tags"));
        }
        if u16_at(entry + 2) != Some(SHORT) || u32_at(entry + 4) != Some(1) {
            return Err(bad("orientation tag of the wrong type"));
        }
        let value = u16_at(entry + 8).ok_or(bad("orientation value cut short"))?;
        let value = u8::try_from(value).map_err(|_| bad("orientation value out of range"))?;
        found = Some(Orientation::from_value(value).ok_or(bad("orientation value out of range"))?);
    }
    Ok(found)
}

/// A complete APP1 payload holding only `orientation`: big-endian TIFF, IFD0 with one
/// entry, no next IFD (so no thumbnail).
pub(crate) fn minimal_exif(orientation: Orientation) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..6].copy_from_slice(b"Exif\0\0");
    out[6..14].copy_from_slice(b"MM\0*\0\0\0\x08");
    out[14..16].copy_from_slice(&1u16.to_be_bytes());
    out[16..18].copy_from_slice(&ORIENTATION_TAG.to_be_bytes());
    out[18..20].copy_from_slice(&SHORT.to_be_bytes());
    out[20..24].copy_from_slice(&1u32.to_be_bytes());
    out[24] = 0;
    out[25] = orientation.0;
    // out[26..28]: padding of the value field; out[28..32]: next IFD offset 0.
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn little_endian_exif(entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
        let mut v = b"Exif\0\0II*\0\x08\0\0\0".to_vec();
        v.extend(u16::try_from(entries.len()).unwrap_or(0).to_le_bytes());
        for &(tag, kind, count, value) in entries {
            v.extend(tag.to_le_bytes());
            v.extend(kind.to_le_bytes());
            v.extend(count.to_le_bytes());
            v.extend(value.to_le_bytes());
        }
        v.extend(0u32.to_le_bytes());
        v
    }

    #[test]
    fn minimal_exif_reads_back_as_the_same_orientation() {
        for value in 1..=8 {
            let o = Orientation::from_value(value).expect("valid value");
            assert_eq!(read(&minimal_exif(o), 0), Ok(Some(o)));
        }
    }

    #[test]
    fn reads_orientation_from_a_little_endian_camera_exif() {
        let exif = little_endian_exif(&[(0x010F, 2, 4, 0), (0x0112, 3, 1, 6), (0x013B, 2, 4, 0)]);
        assert_eq!(read(&exif, 0), Ok(Orientation::from_value(6)));
    }

    #[test]
    fn absent_orientation_is_none() {
        let exif = little_endian_exif(&[(0x010F, 2, 4, 0)]);
        assert_eq!(read(&exif, 0), Ok(None));
    }

    #[test]
    fn refuses_an_out_of_range_or_mistyped_orientation() {
        for entry in [
            (0x0112, 3, 1, 9),
            (0x0112, 3, 1, 0),
            (0x0112, 4, 1, 1),
            (0x0112, 3, 2, 1),
        ] {
            let exif = little_endian_exif(&[entry]);
            assert!(read(&exif, 0).is_err(), "{entry:?}");
        }
    }

    #[test]
    fn refuses_an_ifd_that_runs_past_the_block() {
        let mut exif = little_endian_exif(&[(0x0112, 3, 1, 1)]);
        exif[14] = 200;
        assert!(read(&exif, 0).is_err());
    }
}
