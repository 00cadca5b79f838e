//! JPEG structure: a marker walk that finds what a hostile file hides before any decoder
//! sees it.
//!
//! Owns the checks that need no decoding: declared size, number of scans, metadata size,
//! metadata after the image data, bytes after the end, colour model, and where the EXIF
//! block and the camera's embedded previews (MPF) are. Must not decode pixels.

use std::ops::Range;

use crate::exif::Tiff;
use crate::problem::Problem;

/// Limits that keep one file's analysis within its time and memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest width x height the analysis will decode (at any scale).
    pub max_pixels: u64,
    /// Most scans a progressive JPEG may have.
    pub max_scans: u32,
    /// Most bytes of APPn/COM metadata in one file.
    pub max_metadata_bytes: u64,
    /// Largest file the analysis reads at all.
    pub max_file_bytes: u64,
    /// Most memory the decoder may need. A progressive JPEG keeps every coefficient of
    /// the full image (up to 6 bytes a pixel) whatever the output scale.
    pub max_decoder_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // 64 MP: the largest full-frame sensors, with room.
            max_pixels: 64_000_000,
            max_scans: 64,
            max_metadata_bytes: 4 * 1024 * 1024,
            max_file_bytes: 64 * 1024 * 1024,
            max_decoder_bytes: 160 * 1024 * 1024,
        }
    }
}

/// What the walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Declared size from the frame header.
    pub width: u32,
    /// Declared size from the frame header.
    pub height: u32,
    /// Colour components (1 grey, 3 colour, 4 CMYK).
    pub components: u8,
    /// Progressive (many scans) rather than baseline.
    pub progressive: bool,
    /// Number of scans.
    pub scans: u32,
    /// The EXIF TIFF block (after `Exif\0\0`), as a range of the file.
    pub exif: Option<Range<usize>>,
    /// Bytes of APPn and COM segments.
    pub metadata_bytes: u64,
    /// Embedded JPEG images listed in the MPF index (not the primary), as ranges.
    pub embedded: Vec<Range<usize>>,
    /// Offset just after the end-of-image marker.
    pub end: usize,
}

/// Walk the file. Returns the layout (when the header could be read) and every problem.
#[must_use]
pub fn inspect(data: &[u8], limits: &Limits) -> (Option<Layout>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut layout = Layout::default();
    let mut have_frame = false;
    let mut seen_scan = false;
    let mut mpf: Option<Range<usize>> = None;
    let mut metadata_after_scan = false;
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        problems.push(Problem::Corrupt {
            detail: "no start-of-image marker".into(),
        });
        return (None, problems);
    }
    let mut at = 2;
    let mut ended = false;
    while at < data.len() {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if data[at] != 0xFF {
            problems.push(Problem::Corrupt {
                detail: format!("garbage where a marker should be at byte {at}"),
            });
            break;
        }
        while at < data.len() && data[at] == 0xFF {
            at += 1;
        }
        let Some(&marker) = data.get(at) else { break };
        at += 1;
        match marker {
            0xD9 => {
                ended = true;
                layout.end = at;
                break;
            }
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => {
                problems.push(Problem::Corrupt {
                    detail: "a second start-of-image marker".into(),
                });
                break;
            }
            0x02..=0xBF => {
                problems.push(Problem::Corrupt {
                    detail: format!("invalid marker 0x{marker:02X} at byte {}", at - 1),
                });
                break;
            }
            _ => {}
        }
        let Some(len_bytes) = data.get(at..at + 2) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            problems.push(Problem::Corrupt {
                detail: "a segment shorter than its own length field".into(),
            });
            break;
        }
        let Some(body) = data.get(at + 2..at + len) else {
            break;
        };
        let body_at = at + 2;
        at += len;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if have_frame {
                    problems.push(Problem::Corrupt {
                        detail: "more than one frame header".into(),
                    });
                    break;
                }
                have_frame = true;
                if body.len() < 6 {
                    problems.push(Problem::Corrupt {
                        detail: "short frame header".into(),
                    });
                    break;
                }
                layout.height = u32::from(u16::from_be_bytes([body[1], body[2]]));
                layout.width = u32::from(u16::from_be_bytes([body[3], body[4]]));
                layout.components = body[5];
                layout.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
            }
            0xDA => {
                layout.scans += 1;
                seen_scan = true;
                if layout.scans > limits.max_scans {
                    break;
                }
                at = skip_entropy_data(data, at);
            }
            0xE0..=0xEF | 0xFE => {
                layout.metadata_bytes += len as u64;
                if seen_scan {
                    metadata_after_scan = true;
                }
                if marker == 0xE1 && layout.exif.is_none() && body.starts_with(b"Exif\0\0") {
                    layout.exif = Some(body_at + 6..body_at + body.len());
                }
                if marker == 0xE2 && mpf.is_none() && body.starts_with(b"MPF\0") {
                    mpf = Some(body_at + 4..body_at + body.len());
                }
            }
            _ => {}
        }
    }
    if !have_frame {
        problems.push(if ended {
            Problem::Corrupt {
                detail: "no frame header".into(),
            }
        } else {
            Problem::Truncated
        });
        return (None, problems);
    }
    if layout.width == 0 || layout.height == 0 {
        problems.push(Problem::Corrupt {
            detail: "zero width or height".into(),
        });
    }
    let pixels = u64::from(layout.width) * u64::from(layout.height);
    if pixels > limits.max_pixels
        || (layout.progressive && pixels.saturating_mul(6) > limits.max_decoder_bytes)
    {
        problems.push(Problem::DimensionsTooLarge {
            width: layout.width,
            height: layout.height,
        });
    }
    if layout.scans > limits.max_scans {
        problems.push(Problem::TooManyScans {
            scans: layout.scans,
            limit: limits.max_scans,
        });
    } else if !ended {
        problems.push(Problem::Truncated);
    }
    if layout.scans == 0 && ended {
        problems.push(Problem::Corrupt {
            detail: "no image data".into(),
        });
    }
    if layout.metadata_bytes > limits.max_metadata_bytes {
        problems.push(Problem::MetadataTooLarge {
            bytes: layout.metadata_bytes,
            limit: limits.max_metadata_bytes,
        });
    }
    if metadata_after_scan {
        problems.push(Problem::SegmentAfterImageData);
    }
    match layout.components {
        1 | 3 => {}
        4 => problems.push(Problem::Cmyk),
        n => problems.push(Problem::Corrupt {
            detail: format!("{n} colour components"),
        }),
    }
    if ended {
        if let Some(index) = mpf {
            layout.embedded = mpf_images(data, index);
        }
        let covered = layout.embedded.iter().map(|r| r.end).max().unwrap_or(0);
        let tail_start = layout.end.max(covered);
        let tail = data.get(tail_start..).unwrap_or_default();
        // Padding with zero or fill bytes is harmless; anything else is unexplained.
        let unexplained = tail.iter().any(|&b| b != 0 && b != 0xFF);
        let referenced_gap = layout
            .embedded
            .iter()
            .map(|r| r.start)
            .min()
            .is_some_and(|s| {
                s > layout.end && data[layout.end..s].iter().any(|&b| b != 0 && b != 0xFF)
            });
        if unexplained || referenced_gap {
            problems.push(Problem::DataAfterEnd {
                bytes: (data.len() - layout.end) as u64,
            });
        }
    }
    (Some(layout), problems)
}

/// Skip compressed data after a scan header: up to the next marker that is not a
/// stuffed zero or a restart marker.
fn skip_entropy_data(data: &[u8], mut at: usize) -> usize {
    while at + 1 < data.len() {
        let Some(ff) = data[at..].iter().position(|&b| b == 0xFF) else {
            return data.len();
        };
        at += ff;
        let Some(&next) = data.get(at + 1) else {
            return data.len();
        };
        match next {
            // Stuffed zero or restart marker: still entropy data.
            0x00 | 0xD0..=0xD7 => at += 2,
            // Fill byte: look again from the next one.
            0xFF => at += 1,
            _ => return at,
        }
    }
    data.len()
}

/// The embedded images an MPF index lists (entries after the first), as file ranges,
/// keeping only those that lie inside the file and start with a JPEG marker.
fn mpf_images(data: &[u8], index: Range<usize>) -> Vec<Range<usize>> {
    let base = index.start;
    let Some(block) = data.get(index) else {
        return Vec::new();
    };
    let Ok((tiff, first)) = Tiff::new(block) else {
        return Vec::new();
    };
    let Ok((entries, _)) = tiff.ifd(first) else {
        return Vec::new();
    };
    let Some(list) = entries.iter().find(|e| e.tag == 0xB002 && e.kind == 7) else {
        return Vec::new();
    };
    let list_bytes = tiff.bytes(list);
    let mut out = Vec::new();
    for i in 1..(list_bytes.len() / 16).min(16) {
        let rel = i * 16;
        let (Ok(size), Ok(offset)) = (
            tiff.u32_at(list.value_at + rel + 4),
            tiff.u32_at(list.value_at + rel + 8),
        ) else {
            continue;
        };
        let start = base.saturating_add(offset as usize);
        let end = start.saturating_add(size as usize);
        if offset != 0 && end <= data.len() && data.get(start..start + 2) == Some(&[0xFF, 0xD8]) {
            out.push(start..end);
        }
    }
    out
}

/// Build an MPF APP2 payload (after the `MPF\0` tag is added by the caller) listing a
/// primary image and one embedded image at `offset` (relative to the payload's TIFF
/// header) of `size` bytes. For tests and the benchmark's camera-like photos.
#[doc(hidden)]
#[must_use]
pub fn build_mpf(primary_size: u32, offset: u32, size: u32) -> Vec<u8> {
    let mut v = b"II*\0".to_vec();
    v.extend(8u32.to_le_bytes());
    let entries = 3u16;
    v.extend(entries.to_le_bytes());
    let list_at = 8 + 2 + u32::from(entries) * 12 + 4;
    // MPFVersion
    v.extend(0xB000u16.to_le_bytes());
    v.extend(7u16.to_le_bytes());
    v.extend(4u32.to_le_bytes());
    v.extend(b"0100");
    // NumberOfImages
    v.extend(0xB001u16.to_le_bytes());
    v.extend(4u16.to_le_bytes());
    v.extend(1u32.to_le_bytes());
    v.extend(2u32.to_le_bytes());
    // MPEntry
    v.extend(0xB002u16.to_le_bytes());
    v.extend(7u16.to_le_bytes());
    v.extend(32u32.to_le_bytes());
    v.extend(list_at.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    // Entry 1: primary image (offset 0 by definition).
    v.extend(0x2003_0000u32.to_le_bytes());
    v.extend(primary_size.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v.extend([0u8; 4]);
    // Entry 2: large thumbnail.
    v.extend(0x0001_0001u32.to_le_bytes());
    v.extend(size.to_le_bytes());
    v.extend(offset.to_le_bytes());
    v.extend([0u8; 4]);
    v
}

/// Where an MPF payload's TIFF header sits relative to the start of its APP2 segment
/// marker: marker (2) + length (2) + `MPF\0` (4).
#[doc(hidden)]
pub const MPF_HEADER_FROM_MARKER: usize = 8;
