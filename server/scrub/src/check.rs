//! An independent check that a JPEG holds nothing outside the allow-list.
//!
//! It is deliberately separate from `structure` and `rebuild` (its own walk, its own
//! rules, stricter than the reader) so that a mistake in one is caught by the other. The
//! scrubber runs it on every output before handing it back; the fuzz target and the tests
//! run it too. It accepts exactly what `rebuild` writes: SOI; at most one JFIF header
//! without thumbnail, one one-tag orientation EXIF, one cleaned colour profile and one
//! Adobe segment, all before the frame; frame, tables and scans; EOI as the last bytes.

use crate::error::ScrubError;
use crate::icc;
use crate::orientation::{self, Orientation};
use crate::rebuild::adobe_payload;

fn fail(what: &'static str) -> ScrubError {
    ScrubError::SelfCheck { what }
}

/// Succeeds only if `jpeg` carries no metadata beyond the allow-list.
pub fn check_clean(jpeg: &[u8]) -> Result<(), ScrubError> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err(fail("output does not start with SOI"));
    }
    let mut pos = 2;
    let mut seen_frame = false;
    let mut seen_scan = false;
    let mut seen_app = [false; 16];
    let mut icc_chunks: Vec<&[u8]> = Vec::new();
    loop {
        let marker = match jpeg.get(pos..pos + 2) {
            Some(&[0xFF, m]) => m,
            _ => return Err(fail("expected a marker")),
        };
        if marker == 0xD9 {
            if !seen_scan {
                return Err(fail("no image data"));
            }
            if pos + 2 != jpeg.len() {
                return Err(fail("bytes after end of image"));
            }
            break;
        }
        let len = match jpeg.get(pos + 2..pos + 4) {
            Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
            _ => return Err(fail("segment length cut short")),
        };
        let payload = jpeg
            .get(pos + 4..pos + 2 + len.max(2))
            .ok_or(fail("segment runs past the end"))?;
        pos += 2 + len.max(2);
        match marker {
            0xE0 | 0xE1 | 0xE2 | 0xEE => {
                if seen_frame || seen_scan {
                    return Err(fail("metadata after the frame header"));
                }
                let n = usize::from(marker - 0xE0);
                if seen_app[n] && marker != 0xE2 {
                    return Err(fail("a metadata segment appears twice"));
                }
                seen_app[n] = true;
                match marker {
                    0xE0 => check_jfif(payload)?,
                    0xE1 => check_exif(payload)?,
                    0xE2 => icc_chunks.push(
                        payload
                            .strip_prefix(icc::CHUNK_SIGNATURE)
                            .ok_or(fail("APP2 that is not a colour profile"))?,
                    ),
                    _ => check_adobe(payload)?,
                }
            }
            0xC0..=0xC2 => {
                if seen_frame {
                    return Err(fail("two frames"));
                }
                seen_frame = true;
            }
            0xC4 | 0xDB | 0xDD => {}
            0xDA => {
                if !seen_frame {
                    return Err(fail("scan before frame"));
                }
                seen_scan = true;
                pos = skip_entropy_data(jpeg, pos)?;
            }
            _ => return Err(fail("a segment outside the allow-list")),
        }
    }
    if !icc_chunks.is_empty() {
        let profile =
            icc::reassemble(&icc_chunks).map_err(|_| fail("colour profile chunks inconsistent"))?;
        let clean = icc::clean(&profile).map_err(|_| fail("colour profile not well formed"))?;
        if clean.bytes != profile {
            return Err(fail("colour profile is not in cleaned form"));
        }
    }
    Ok(())
}

fn check_jfif(p: &[u8]) -> Result<(), ScrubError> {
    let ok = p.len() == 14
        && p.starts_with(b"JFIF\0\x01")
        && p[6] <= 2
        && p[7] <= 2
        && p[12..] == [0, 0];
    if ok {
        Ok(())
    } else {
        Err(fail("JFIF header not in minimal form"))
    }
}

fn check_exif(p: &[u8]) -> Result<(), ScrubError> {
    let ok = (2..=8)
        .any(|v| Orientation::from_value(v).is_some_and(|o| orientation::minimal_exif(o) == *p));
    if ok {
        Ok(())
    } else {
        Err(fail("EXIF holds more than the orientation"))
    }
}

fn check_adobe(p: &[u8]) -> Result<(), ScrubError> {
    let ok = (0..=2).any(|t| adobe_payload(t) == *p);
    if ok {
        Ok(())
    } else {
        Err(fail("Adobe segment not in minimal form"))
    }
}

/// Skips entropy-coded data starting at `pos`; returns the position of the next marker.
fn skip_entropy_data(jpeg: &[u8], pos: usize) -> Result<usize, ScrubError> {
    let rest = jpeg.get(pos..).ok_or(fail("image data runs to the end"))?;
    let at = pos + crate::bytescan::find_marker(rest).ok_or(fail("image data runs to the end"))?;
    match jpeg.get(at + 1) {
        None => Err(fail("image data runs to the end")),
        Some(0xFF) => Err(fail("fill bytes in output")),
        Some(_) => Ok(at),
    }
}
