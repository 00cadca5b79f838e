//! EXIF: the few camera facts the import needs, read from a TIFF structure that may be
//! hostile.
//!
//! Every offset is checked against the buffer, every IFD is visited at most once (offsets
//! that loop are an error, not an endless walk), and the number of IFDs and entries is
//! capped. Must not allocate in proportion to counts the file claims.

use std::collections::HashSet;

use jiff::civil::DateTime;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

const MAX_IFDS: usize = 32;
const MAX_ENTRIES_PER_IFD: u16 = 1000;
const MAX_TEXT: usize = 256;

/// The camera facts the import uses (rule I5). Every field is optional: files lie and omit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExifSummary {
    /// When the shutter fired, in the camera's own clock (no time zone).
    pub taken_at: Option<DateTime>,
    /// The camera's UTC offset at that moment in seconds, where it recorded one.
    pub utc_offset_seconds: Option<i32>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// The camera body's serial number.
    pub body_serial: Option<String>,
    /// EXIF orientation 1-8 (1 = upright); anything else is dropped.
    pub orientation: Option<u8>,
    /// Whether the file records a position.
    pub gps_present: bool,
}

/// Fills the fields `summary` lacks from `other` (what a file's EXIF says outranks what
/// its other metadata says).
pub(crate) fn fill_missing(summary: &mut ExifSummary, other: ExifSummary) {
    if summary.taken_at.is_none() {
        summary.taken_at = other.taken_at;
        summary.utc_offset_seconds = other.utc_offset_seconds;
    }
    summary.make = summary.make.take().or(other.make);
    summary.model = summary.model.take().or(other.model);
    summary.body_serial = summary.body_serial.take().or(other.body_serial);
    summary.orientation = summary.orientation.or(other.orientation);
    summary.gps_present |= other.gps_present;
}

/// Why the EXIF block cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExifError {
    /// Not a TIFF header.
    #[error("no valid TIFF header")]
    BadHeader,
    /// An offset points outside the block.
    #[error("an offset points outside the data")]
    OutOfRange,
    /// Two pointers lead to the same directory.
    #[error("directory offsets loop")]
    Loop,
    /// More directories or entries than any camera writes.
    #[error("too many directories or entries")]
    TooLarge,
}

/// A bounds-checked view of a TIFF structure (also used for the MPF index).
#[derive(Clone, Copy)]
pub(crate) struct Tiff<'a> {
    data: &'a [u8],
    little: bool,
}

/// One directory entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub tag: u16,
    pub kind: u16,
    pub count: u32,
    /// Where the value starts and how long it is, checked against the data.
    pub value_at: usize,
    pub value_len: usize,
}

impl<'a> Tiff<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Result<(Self, u32), ExifError> {
        let little = match data.get(..4) {
            Some(b"II*\0") => true,
            Some(b"MM\0*") => false,
            _ => return Err(ExifError::BadHeader),
        };
        let t = Self { data, little };
        let first = t.u32_at(4)?;
        Ok((t, first))
    }

    pub(crate) fn u16_at(&self, at: usize) -> Result<u16, ExifError> {
        let b = self.data.get(at..at + 2).ok_or(ExifError::OutOfRange)?;
        let b = [b[0], b[1]];
        Ok(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    pub(crate) fn u32_at(&self, at: usize) -> Result<u32, ExifError> {
        let b = self.data.get(at..at + 4).ok_or(ExifError::OutOfRange)?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    pub(crate) fn bytes(&self, e: &Entry) -> &'a [u8] {
        // value_at/value_len were checked when the entry was read.
        self.data
            .get(e.value_at..e.value_at + e.value_len)
            .unwrap_or_default()
    }

    /// Read the directory at `offset`: its entries and the offset of the next one (0: none).
    pub(crate) fn ifd(&self, offset: u32) -> Result<(Vec<Entry>, u32), ExifError> {
        let at = offset as usize;
        let n = self.u16_at(at)?;
        if n > MAX_ENTRIES_PER_IFD {
            return Err(ExifError::TooLarge);
        }
        let mut entries = Vec::with_capacity(usize::from(n));
        for i in 0..usize::from(n) {
            let e = at + 2 + i * 12;
            let tag = self.u16_at(e)?;
            let kind = self.u16_at(e + 2)?;
            let count = self.u32_at(e + 4)?;
            let unit: u64 = match kind {
                1 | 2 | 6 | 7 => 1,
                3 | 8 => 2,
                4 | 9 | 11 | 13 => 4,
                5 | 10 | 12 => 8,
                // Unknown types: the value cannot be located; skip it.
                _ => continue,
            };
            let len = unit * u64::from(count);
            let value_at = if len <= 4 {
                e + 8
            } else {
                self.u32_at(e + 8)? as usize
            };
            let len = usize::try_from(len).map_err(|_| ExifError::OutOfRange)?;
            let end = value_at.checked_add(len).ok_or(ExifError::OutOfRange)?;
            if end > self.data.len() {
                return Err(ExifError::OutOfRange);
            }
            entries.push(Entry {
                tag,
                kind,
                count,
                value_at,
                value_len: len,
            });
        }
        let next = self.u32_at(at + 2 + usize::from(n) * 12)?;
        Ok((entries, next))
    }

    fn short(&self, e: &Entry) -> Option<u16> {
        (e.kind == 3 && e.count >= 1)
            .then(|| self.u16_at(e.value_at).ok())
            .flatten()
    }

    fn long(&self, e: &Entry) -> Option<u32> {
        match e.kind {
            4 | 13 if e.count >= 1 => self.u32_at(e.value_at).ok(),
            3 if e.count >= 1 => self.u16_at(e.value_at).ok().map(u32::from),
            _ => None,
        }
    }

    fn text(&self, e: &Entry) -> Option<String> {
        if e.kind != 2 && e.kind != 7 {
            return None;
        }
        let raw = self.bytes(e);
        let raw = &raw[..raw.len().min(MAX_TEXT)];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let s: String = String::from_utf8_lossy(&raw[..end])
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let mut s = s.trim();
        // Undecodable bytes widen to three-byte replacement characters: cap the result
        // itself, on a character boundary, not just the bytes read.
        if s.len() > MAX_TEXT {
            let cut = (0..=MAX_TEXT)
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(0);
            s = s[..cut].trim_end();
        }
        (!s.is_empty()).then(|| s.to_owned())
    }
}

/// Read the summary from an EXIF block (the APP1 payload after `Exif\0\0`).
///
/// # Errors
/// A malformed structure: bad header, offsets out of range or looping, absurd sizes.
pub fn parse(tiff: &[u8]) -> Result<ExifSummary, ExifError> {
    let (t, first) = Tiff::new(tiff)?;
    let mut seen = HashSet::new();
    let mut visit = |offset: u32| -> Result<(Vec<Entry>, u32), ExifError> {
        if !seen.insert(offset) {
            return Err(ExifError::Loop);
        }
        if seen.len() > MAX_IFDS {
            return Err(ExifError::TooLarge);
        }
        t.ifd(offset)
    };
    let mut out = ExifSummary::default();
    let mut exif_ifd = None;
    let mut gps_ifd = None;
    // IFD0 and its chain (IFD1 is the thumbnail); the chain is walked to detect loops.
    let mut next = first;
    let mut chain_index = 0;
    while next != 0 {
        let (entries, following) = visit(next)?;
        if chain_index == 0 {
            for e in &entries {
                match e.tag {
                    0x010F => out.make = t.text(e),
                    0x0110 => out.model = t.text(e),
                    0x0112 => {
                        out.orientation = t
                            .short(e)
                            .and_then(|o| u8::try_from(o).ok())
                            .filter(|o| (1..=8).contains(o))
                    }
                    0x8769 => exif_ifd = t.long(e),
                    0x8825 => gps_ifd = t.long(e),
                    _ => {}
                }
            }
        }
        chain_index += 1;
        next = following;
    }
    let mut digitized = None;
    if let Some(offset) = exif_ifd {
        let (entries, _) = visit(offset)?;
        let mut offset_text = None;
        for e in &entries {
            match e.tag {
                0x9003 => out.taken_at = t.text(e).and_then(|s| parse_exif_datetime(&s)),
                0x9004 => digitized = t.text(e).and_then(|s| parse_exif_datetime(&s)),
                0x9011 => offset_text = t.text(e),
                0xA431 => out.body_serial = t.text(e),
                _ => {}
            }
        }
        out.utc_offset_seconds = offset_text
            .and_then(|s| parse_offset(&s))
            .map(Offset::seconds);
    }
    if out.taken_at.is_none() {
        out.taken_at = digitized;
    }
    if let Some(offset) = gps_ifd {
        let (entries, _) = visit(offset)?;
        let has = |tag| entries.iter().any(|e| e.tag == tag);
        out.gps_present = has(0x0002) && has(0x0004);
    }
    Ok(out)
}

/// `YYYY:MM:DD HH:MM:SS`, as every camera writes it; blanks and zeros mean unknown.
fn parse_exif_datetime(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i16> { s.get(r)?.trim().parse().ok() };
    DateTime::new(
        num(0..4)?,
        i8::try_from(num(5..7)?).ok()?,
        i8::try_from(num(8..10)?).ok()?,
        i8::try_from(num(11..13)?).ok()?,
        i8::try_from(num(14..16)?).ok()?,
        i8::try_from(num(17..19)?).ok()?,
        0,
    )
    .ok()
}

/// `+01:00` / `-05:30`.
fn parse_offset(s: &str) -> Option<Offset> {
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h: i32 = s.get(1..3)?.parse().ok()?;
    let m: i32 = s.get(4..6)?.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// Build a small EXIF block (little-endian TIFF) for tests and the benchmark's photos.
#[doc(hidden)]
#[must_use]
pub fn build(fields: &ExifSummary) -> Vec<u8> {
    fn ascii(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }
    // (tag, type, count, value bytes)
    let mut ifd0: Vec<(u16, u16, Vec<u8>)> = Vec::new();
    if let Some(m) = &fields.make {
        ifd0.push((0x010F, 2, ascii(m)));
    }
    if let Some(m) = &fields.model {
        ifd0.push((0x0110, 2, ascii(m)));
    }
    if let Some(o) = fields.orientation {
        ifd0.push((0x0112, 3, u16::from(o).to_le_bytes().to_vec()));
    }
    let mut exif: Vec<(u16, u16, Vec<u8>)> = Vec::new();
    if let Some(t) = fields.taken_at {
        exif.push((
            0x9003,
            2,
            ascii(&t.strftime("%Y:%m:%d %H:%M:%S").to_string()),
        ));
    }
    if let Some(secs) = fields.utc_offset_seconds {
        let sign = if secs < 0 { '-' } else { '+' };
        let a = secs.abs();
        exif.push((
            0x9011,
            2,
            ascii(&format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)),
        ));
    }
    if let Some(s) = &fields.body_serial {
        exif.push((0xA431, 2, ascii(s)));
    }
    let mut gps: Vec<(u16, u16, Vec<u8>)> = Vec::new();
    if fields.gps_present {
        let rational3 = |d: u32| {
            let mut v = Vec::new();
            for (n, den) in [(d, 1u32), (30, 1), (0, 1)] {
                v.extend(n.to_le_bytes());
                v.extend(den.to_le_bytes());
            }
            v
        };
        gps.push((0x0001, 2, b"N\0".to_vec()));
        gps.push((0x0002, 5, rational3(51)));
        gps.push((0x0003, 2, b"W\0".to_vec()));
        gps.push((0x0004, 5, rational3(0)));
    }
    // Layout: header, IFD0, Exif IFD, GPS IFD, then out-of-line values.
    let ifd_len = |n: usize| 2 + n * 12 + 4;
    let n0 = ifd0.len() + 2;
    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd_len(n0);
    let gps_at = exif_at + ifd_len(exif.len());
    let mut values_at = gps_at + ifd_len(gps.len());
    ifd0.push((
        0x8769,
        4,
        u32::try_from(exif_at).unwrap_or(0).to_le_bytes().to_vec(),
    ));
    ifd0.push((
        0x8825,
        4,
        u32::try_from(gps_at).unwrap_or(0).to_le_bytes().to_vec(),
    ));
    ifd0.sort_by_key(|e| e.0);
    let mut out = b"II*\0".to_vec();
    out.extend(8u32.to_le_bytes());
    let mut tail: Vec<u8> = Vec::new();
    for ifd in [&ifd0, &exif, &gps] {
        out.extend(u16::try_from(ifd.len()).unwrap_or(0).to_le_bytes());
        for (tag, kind, value) in ifd {
            let unit = match kind {
                3 => 2,
                4 => 4,
                5 => 8,
                _ => 1,
            };
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(u32::try_from(value.len() / unit).unwrap_or(0).to_le_bytes());
            if value.len() <= 4 {
                let mut v = value.clone();
                v.resize(4, 0);
                out.extend(v);
            } else {
                out.extend(u32::try_from(values_at).unwrap_or(0).to_le_bytes());
                tail.extend(value);
                values_at += value.len();
            }
        }
        out.extend(0u32.to_le_bytes());
    }
    out.extend(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ExifSummary {
        ExifSummary {
            taken_at: Some(jiff::civil::date(2026, 3, 14).at(10, 30, 5, 0)),
            utc_offset_seconds: Some(3600),
            make: Some("Canon".into()),
            model: Some("Canon EOS 250D".into()),
            body_serial: Some("083021001234".into()),
            orientation: Some(6),
            gps_present: true,
        }
    }

    #[test]
    fn reads_back_what_the_builder_wrote() {
        let parsed = parse(&build(&sample())).expect("valid exif");
        assert_eq!(parsed, sample());
    }

    #[test]
    fn rejects_an_ifd_offset_past_the_end() {
        let mut block = build(&sample());
        block[4..8].copy_from_slice(&60_000u32.to_le_bytes());
        assert_eq!(parse(&block), Err(ExifError::OutOfRange));
    }

    #[test]
    fn rejects_a_directory_chain_that_loops() {
        let mut block = build(&sample());
        // IFD0's "next IFD" field points back at IFD0.
        let n = usize::from(u16::from_le_bytes([block[8], block[9]]));
        let next_at = 8 + 2 + n * 12;
        block[next_at..next_at + 4].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(parse(&block), Err(ExifError::Loop));
    }

    #[test]
    fn ignores_impossible_dates_and_offsets() {
        assert_eq!(parse_exif_datetime("0000:00:00 00:00:00"), None);
        assert_eq!(parse_exif_datetime("    :  :     :  :  "), None);
        assert_eq!(parse_offset("+25:00"), None);
        assert_eq!(parse_offset("-05:30").map(|o| o.seconds()), Some(-19_800));
    }
}
