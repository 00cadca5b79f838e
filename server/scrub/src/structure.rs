//! A strict reader of the JPEG marker structure (ITU T.81, JFIF, Exif).
//!
//! It splits a file into its parts and checks every length and table against the
//! standard, so that nothing can hide inside a segment behind a wrong length. It owns no
//! policy about metadata (that is `rebuild`), and it never copies: parts borrow the input.
//!
//! What it refuses: anything before SOI, unknown or reserved markers, coding processes
//! other than baseline, extended sequential and progressive Huffman (SOF0/1/2), a second
//! frame, DNL, arithmetic coding tables, restart markers outside a scan, tables whose
//! declared length and content disagree, a scan before its frame, and a file that ends
//! before EOI.

use crate::error::ScrubError;

pub(crate) const SOI: u8 = 0xD8;
pub(crate) const EOI: u8 = 0xD9;
pub(crate) const SOS: u8 = 0xDA;
pub(crate) const DQT: u8 = 0xDB;
pub(crate) const DHT: u8 = 0xC4;
pub(crate) const DRI: u8 = 0xDD;
pub(crate) const COM: u8 = 0xFE;
pub(crate) const APP0: u8 = 0xE0;
pub(crate) const APP1: u8 = 0xE1;
pub(crate) const APP2: u8 = 0xE2;
pub(crate) const APP14: u8 = 0xEE;

/// One part of a JPEG file, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part<'a> {
    /// A length-prefixed segment other than SOS. `payload` excludes the marker and the
    /// two length bytes; `offset` is where its marker starts.
    Segment {
        marker: u8,
        payload: &'a [u8],
        offset: usize,
        /// True once the first scan has started (the segment sits between scans).
        after_first_scan: bool,
    },
    /// A start-of-scan header and the entropy-coded data that follows it (restart
    /// markers included, fill bytes before the next marker excluded).
    Scan {
        header: &'a [u8],
        data: &'a [u8],
        offset: usize,
    },
}

/// A whole JPEG file split into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Structure<'a> {
    pub parts: Vec<Part<'a>>,
    /// Everything after the EOI marker.
    pub trailing: &'a [u8],
    /// Number of 0xFF fill bytes seen before markers (legal, not copied).
    pub fill_bytes: usize,
}

/// Reads the marker structure of `bytes`, refusing anything it cannot account for.
pub(crate) fn read(bytes: &[u8]) -> Result<Structure<'_>, ScrubError> {
    if bytes.len() < 2 || bytes[0] != 0xFF || bytes[1] != SOI {
        return Err(ScrubError::NotJpeg);
    }
    let mut parts = Vec::new();
    let mut pos = 2;
    let mut fill_bytes = 0;
    let mut frame: Option<Frame> = None;
    let mut scans = 0usize;

    loop {
        let offset = pos;
        match bytes.get(pos) {
            None => return Err(ScrubError::Truncated { offset: pos }),
            Some(0xFF) => {}
            Some(_) => {
                return Err(ScrubError::Malformed {
                    offset: pos,
                    what: "expected a marker",
                });
            }
        }
        // Any number of 0xFF fill bytes may precede a marker (T.81 B.1.1.2).
        pos += 1;
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
            fill_bytes += 1;
        }
        let marker = *bytes
            .get(pos)
            .ok_or(ScrubError::Truncated { offset: pos })?;
        let marker_at = pos - 1;
        pos += 1;
        match marker {
            EOI => {
                if scans == 0 {
                    return Err(ScrubError::Malformed {
                        offset: marker_at,
                        what: "end of image before any image data",
                    });
                }
                return Ok(Structure {
                    parts,
                    trailing: &bytes[pos..],
                    fill_bytes,
                });
            }
            SOI => {
                return Err(ScrubError::Malformed {
                    offset: marker_at,
                    what: "a second start-of-image marker",
                });
            }
            0xD0..=0xD7 => {
                return Err(ScrubError::Malformed {
                    offset: marker_at,
                    what: "a restart marker outside image data",
                });
            }
            0x00 => {
                return Err(ScrubError::Malformed {
                    offset: marker_at,
                    what: "a stuffed byte outside image data",
                });
            }
            _ => {}
        }
        classify(marker, marker_at)?;
        let payload = segment_payload(bytes, pos)?;
        pos += 2 + payload.len();
        let payload_at = marker_at + 4;

        match marker {
            SOS => {
                let Some(frame) = frame.as_ref() else {
                    return Err(ScrubError::Malformed {
                        offset: marker_at,
                        what: "image data before the frame header",
                    });
                };
                check_scan_header(payload, frame, payload_at)?;
                let end = scan_end(bytes, pos)?;
                parts.push(Part::Scan {
                    header: payload,
                    data: &bytes[pos..end],
                    offset,
                });
                pos = end;
                scans += 1;
            }
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(ScrubError::UnsupportedCoding {
                        offset: marker_at,
                        process: "more than one frame (hierarchical)",
                    });
                }
                frame = Some(check_frame(marker, payload, payload_at)?);
                parts.push(Part::Segment {
                    marker,
                    payload,
                    offset,
                    after_first_scan: false,
                });
            }
            DQT => {
                check_dqt(payload, payload_at)?;
                parts.push(Part::Segment {
                    marker,
                    payload,
                    offset,
                    after_first_scan: scans > 0,
                });
            }
            DHT => {
                check_dht(payload, payload_at)?;
                parts.push(Part::Segment {
                    marker,
                    payload,
                    offset,
                    after_first_scan: scans > 0,
                });
            }
            DRI => {
                if payload.len() != 2 {
                    return Err(ScrubError::Malformed {
                        offset: marker_at,
                        what: "restart interval segment of the wrong length",
                    });
                }
                parts.push(Part::Segment {
                    marker,
                    payload,
                    offset,
                    after_first_scan: scans > 0,
                });
            }
            _ => {
                // APPn and COM: metadata; the rebuild decides what survives.
                parts.push(Part::Segment {
                    marker,
                    payload,
                    offset,
                    after_first_scan: scans > 0,
                });
            }
        }
    }
}

/// Sorts markers that carry a length into known-and-supported or refused.
fn classify(marker: u8, offset: usize) -> Result<(), ScrubError> {
    match marker {
        0xC0..=0xC2 | DHT | DQT | DRI | SOS | COM | 0xE0..=0xEF => Ok(()),
        0xC3 => Err(ScrubError::UnsupportedCoding {
            offset,
            process: "lossless",
        }),
        0xC5..=0xC7 | 0xDE | 0xDF => Err(ScrubError::UnsupportedCoding {
            offset,
            process: "hierarchical",
        }),
        0xC9..=0xCF => Err(ScrubError::UnsupportedCoding {
            offset,
            process: "arithmetic coding",
        }),
        0xDC => Err(ScrubError::UnsupportedCoding {
            offset,
            process: "height given after the image data (DNL)",
        }),
        _ => Err(ScrubError::UnknownMarker { offset, marker }),
    }
}

/// The payload of the segment whose length field starts at `pos`.
fn segment_payload(bytes: &[u8], pos: usize) -> Result<&[u8], ScrubError> {
    let len_bytes = bytes
        .get(pos..pos + 2)
        .ok_or(ScrubError::Truncated { offset: pos })?;
    let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    if len < 2 {
        return Err(ScrubError::Malformed {
            offset: pos,
            what: "segment length smaller than its own length field",
        });
    }
    bytes
        .get(pos + 2..pos + len)
        .ok_or(ScrubError::Truncated { offset: pos })
}

/// Where the entropy-coded data starting at `start` ends: the first 0xFF that begins a
/// marker (not a stuffed 0xFF00, not a restart marker), before any fill bytes.
fn scan_end(bytes: &[u8], start: usize) -> Result<usize, ScrubError> {
    let truncated = ScrubError::Truncated {
        offset: bytes.len(),
    };
    let end = start + crate::bytescan::find_marker(&bytes[start..]).ok_or(truncated.clone())?;
    if end + 1 >= bytes.len() {
        return Err(truncated);
    }
    Ok(end)
}

/// What the frame header says, as far as later checks need it.
#[derive(Debug)]
struct Frame {
    component_ids: Vec<u8>,
}

fn check_frame(marker: u8, payload: &[u8], offset: usize) -> Result<Frame, ScrubError> {
    let bad = |what| ScrubError::Malformed { offset, what };
    if payload.len() < 6 {
        return Err(bad("frame header too short"));
    }
    let precision = payload[0];
    let height = u16::from_be_bytes([payload[1], payload[2]]);
    let width = u16::from_be_bytes([payload[3], payload[4]]);
    let count = usize::from(payload[5]);
    let precision_ok = match marker {
        0xC0 => precision == 8,
        _ => precision == 8 || precision == 12,
    };
    if !precision_ok {
        return Err(bad("sample precision not allowed for this coding"));
    }
    if height == 0 {
        return Err(ScrubError::UnsupportedCoding {
            offset,
            process: "height given after the image data (DNL)",
        });
    }
    if width == 0 {
        return Err(bad("zero image width"));
    }
    if !(1..=4).contains(&count) {
        return Err(bad("number of colour components not 1 to 4"));
    }
    if payload.len() != 6 + 3 * count {
        return Err(bad("frame header length does not match its components"));
    }
    let mut component_ids = Vec::with_capacity(count);
    for c in payload[6..].chunks_exact(3) {
        let (h, v) = (c[1] >> 4, c[1] & 0x0F);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(bad("sampling factor not 1 to 4"));
        }
        if c[2] > 3 {
            return Err(bad("quantisation table number above 3"));
        }
        if component_ids.contains(&c[0]) {
            return Err(bad("two colour components with the same id"));
        }
        component_ids.push(c[0]);
    }
    Ok(Frame { component_ids })
}

fn check_scan_header(payload: &[u8], frame: &Frame, offset: usize) -> Result<(), ScrubError> {
    let bad = |what| ScrubError::Malformed { offset, what };
    let count = usize::from(*payload.first().ok_or(bad("empty scan header"))?);
    if !(1..=4).contains(&count) {
        return Err(bad("scan with not 1 to 4 components"));
    }
    if payload.len() != 1 + 2 * count + 3 {
        return Err(bad("scan header length does not match its components"));
    }
    for c in payload[1..1 + 2 * count].chunks_exact(2) {
        if !frame.component_ids.contains(&c[0]) {
            return Err(bad("scan names a component the frame does not have"));
        }
        if c[1] >> 4 > 3 || c[1] & 0x0F > 3 {
            return Err(bad("Huffman table number above 3"));
        }
    }
    let (ss, se) = (payload[1 + 2 * count], payload[2 + 2 * count]);
    if ss > 63 || se > 63 || ss > se {
        return Err(bad("spectral selection out of range"));
    }
    Ok(())
}

fn check_dqt(payload: &[u8], offset: usize) -> Result<(), ScrubError> {
    let bad = |what| ScrubError::Malformed { offset, what };
    let mut rest = payload;
    if rest.is_empty() {
        return Err(bad("empty quantisation table segment"));
    }
    while let Some((&pq_tq, tail)) = rest.split_first() {
        let size = match pq_tq >> 4 {
            0 => 64,
            1 => 128,
            _ => return Err(bad("quantisation table precision not 8 or 16 bits")),
        };
        if pq_tq & 0x0F > 3 {
            return Err(bad("quantisation table number above 3"));
        }
        rest = tail
            .get(size..)
            .ok_or(bad("quantisation table shorter than declared"))?;
    }
    Ok(())
}

fn check_dht(payload: &[u8], offset: usize) -> Result<(), ScrubError> {
    let bad = |what| ScrubError::Malformed { offset, what };
    let mut rest = payload;
    if rest.is_empty() {
        return Err(bad("empty Huffman table segment"));
    }
    while let Some((&tc_th, tail)) = rest.split_first() {
        if tc_th >> 4 > 1 || tc_th & 0x0F > 3 {
            return Err(bad("Huffman table class or number out of range"));
        }
        let counts = tail.get(..16).ok_or(bad("Huffman table cut short"))?;
        let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
        if total > 256 {
            return Err(bad("Huffman table with more than 256 codes"));
        }
        rest = tail
            .get(16 + total..)
            .ok_or(bad("Huffman table shorter than declared"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny but structurally complete greyscale baseline file (not decodable: the
    /// entropy data is two arbitrary bytes; the structure is all this module reads).
    pub(crate) fn minimal() -> Vec<u8> {
        let mut v = vec![0xFF, SOI];
        let mut dqt = vec![0x00];
        dqt.extend([1u8; 64]);
        push(&mut v, DQT, &dqt);
        push(&mut v, 0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
        let mut dht = vec![0x00];
        let mut counts = [0u8; 16];
        counts[0] = 1;
        dht.extend(counts);
        dht.push(0);
        push(&mut v, DHT, &dht);
        push(&mut v, SOS, &[1, 1, 0x00, 0, 63, 0]);
        v.extend([0x12, 0xFF, 0x00, 0x34]);
        v.extend([0xFF, EOI]);
        v
    }

    pub(crate) fn push(v: &mut Vec<u8>, marker: u8, payload: &[u8]) {
        v.extend([0xFF, marker]);
        v.extend(
            u16::try_from(payload.len() + 2)
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        v.extend(payload);
    }

    #[test]
    fn reads_a_minimal_file_into_its_parts() {
        let bytes = minimal();
        let s = read(&bytes).expect("minimal file is valid");
        assert_eq!(s.parts.len(), 4);
        assert!(s.trailing.is_empty());
        match s.parts[3] {
            Part::Scan { data, .. } => assert_eq!(data, &[0x12, 0xFF, 0x00, 0x34]),
            other => panic!("expected a scan, got {other:?}"),
        }
    }

    #[test]
    fn keeps_restart_markers_inside_scan_data_and_stops_at_fill_bytes() {
        let mut bytes = minimal();
        let eoi = bytes.len() - 2;
        bytes.splice(eoi..eoi, [0xFF, 0xD3, 0x56, 0xFF, 0xFF]);
        let s = read(&bytes).expect("valid");
        match s.parts[3] {
            Part::Scan { data, .. } => {
                assert_eq!(data, &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56]);
            }
            other => panic!("expected a scan, got {other:?}"),
        }
        assert_eq!(s.fill_bytes, 2);
    }

    #[test]
    fn returns_everything_after_eoi_as_trailing() {
        let mut bytes = minimal();
        bytes.extend(b"hidden");
        assert_eq!(read(&bytes).expect("valid").trailing, b"hidden");
    }

    #[test]
    fn refuses_a_file_without_eoi() {
        let mut bytes = minimal();
        bytes.truncate(bytes.len() - 2);
        assert!(matches!(read(&bytes), Err(ScrubError::Truncated { .. })));
    }

    #[test]
    fn refuses_unknown_and_unsupported_markers() {
        for (marker, lossless_or_other) in [
            (0xC3u8, true),
            (0xC9, true),
            (0xCC, true),
            (0xDC, true),
            (0x02, false),
            (0xF7, false),
        ] {
            let mut bytes = minimal();
            bytes.splice(2..2, [0xFF, marker, 0x00, 0x02]);
            let err = read(&bytes).expect_err("must refuse");
            if lossless_or_other {
                assert!(
                    matches!(err, ScrubError::UnsupportedCoding { .. }),
                    "{marker:02X}: {err}"
                );
            } else {
                assert!(
                    matches!(err, ScrubError::UnknownMarker { .. }),
                    "{marker:02X}: {err}"
                );
            }
        }
    }

    #[test]
    fn refuses_a_table_whose_length_hides_extra_bytes() {
        let mut bytes = minimal();
        // Grow the DQT segment by 5 bytes of "text" behind a longer length field.
        bytes[4..6].copy_from_slice(&(2u16 + 65 + 5).to_be_bytes());
        bytes.splice(4 + 2 + 65..4 + 2 + 65, *b"Alice");
        assert!(matches!(read(&bytes), Err(ScrubError::Malformed { .. })));
    }

    #[test]
    fn refuses_a_scan_before_the_frame() {
        let mut bytes = vec![0xFF, SOI];
        push(&mut bytes, SOS, &[1, 1, 0x00, 0, 63, 0]);
        bytes.extend([0x00, 0xFF, EOI]);
        assert!(matches!(read(&bytes), Err(ScrubError::Malformed { .. })));
    }

    #[test]
    fn refuses_non_jpeg_input() {
        assert_eq!(read(b""), Err(ScrubError::NotJpeg));
        assert_eq!(read(b"\x89PNG\r\n"), Err(ScrubError::NotJpeg));
    }
}
