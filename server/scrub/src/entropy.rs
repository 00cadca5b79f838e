//! Proof that sequential scans hold image data and nothing else.
//!
//! The lossless scrubber copies the entropy-coded data as it is. Bytes smuggled into it
//! (after the last block of a scan, or of a restart interval) are invisible to metadata
//! readers but would be published. This walks every Huffman code of every block of a
//! baseline or extended sequential scan (no dequantisation, no IDCT) and checks that each
//! scan and restart interval ends exactly where its blocks end, with only the 1-bit
//! padding the standard allows. Progressive scans are not walked (their refinement
//! passes need a full coefficient state); the caller learns that from the result.
//!
//! It owns no policy: `verify_image_data` reports, the publish path decides.

use crate::error::ScrubError;
use crate::structure::{self, DHT, DRI, Part};

/// What [`verify_image_data`] could establish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageDataCheck {
    /// Every scan decodes exactly to its end: nothing is hidden in the image data.
    Verified,
    /// A progressive JPEG: the structure is sound but the scans were not walked.
    /// Re-encode (see `cover_and_scrub`) if that must be proven.
    ProgressiveNotWalked,
}

/// Walks the image data of a JPEG (typically a scrubbed one) and refuses it if any scan
/// holds more than its blocks.
///
/// Costs a Huffman decode of the whole file (tens of milliseconds per megabyte on a
/// small machine), so it is separate from `scrub`.
pub fn verify_image_data(jpeg: &[u8]) -> Result<ImageDataCheck, ScrubError> {
    let s = structure::read(jpeg)?;
    let mut frame: Option<Frame> = None;
    let mut dc: [Option<Huffman>; 4] = Default::default();
    let mut ac: [Option<Huffman>; 4] = Default::default();
    let mut restart_interval = 0u16;
    for part in &s.parts {
        match *part {
            Part::Segment {
                marker, payload, ..
            } => match marker {
                0xC2 => return Ok(ImageDataCheck::ProgressiveNotWalked),
                0xC0 | 0xC1 => frame = Some(Frame::read(payload)),
                DHT => read_tables(payload, &mut dc, &mut ac)?,
                DRI => restart_interval = u16::from_be_bytes([payload[0], payload[1]]),
                _ => {}
            },
            Part::Scan {
                header,
                data,
                offset,
            } => {
                let frame = frame.as_ref().ok_or(ScrubError::Malformed {
                    offset,
                    what: "image data before the frame header",
                })?;
                walk_scan(frame, header, data, &dc, &ac, restart_interval, offset)?;
            }
        }
    }
    Ok(ImageDataCheck::Verified)
}

fn fail(offset: usize, what: &'static str) -> ScrubError {
    ScrubError::ImageDataNotClean { offset, what }
}

/// The frame header fields the walk needs (already checked by `structure`).
struct Frame {
    width: u32,
    height: u32,
    /// (id, horizontal sampling, vertical sampling)
    components: Vec<(u8, u32, u32)>,
}

impl Frame {
    fn read(p: &[u8]) -> Self {
        Frame {
            height: u32::from(u16::from_be_bytes([p[1], p[2]])),
            width: u32::from(u16::from_be_bytes([p[3], p[4]])),
            components: p[6..]
                .chunks_exact(3)
                .map(|c| (c[0], u32::from(c[1] >> 4), u32::from(c[1] & 0x0F)))
                .collect(),
        }
    }
}

/// A Huffman table: a 9-bit lookup for short codes, the T.81 F.2.2.3 tables for long.
struct Huffman {
    /// `length << 8 | value` for codes of up to 9 bits, 0 where none.
    fast: Vec<u16>,
    max_code: [i32; 17],
    offset: [i32; 17],
    values: Vec<u8>,
}

const FAST_BITS: u32 = 9;

impl Huffman {
    fn new(counts: &[u8], values: &[u8]) -> Option<Self> {
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code = 0i32;
        let mut k = 0usize;
        for len in 1..=16usize {
            let n = i32::from(counts[len - 1]);
            offset[len] = k as i32 - code;
            for _ in 0..n {
                if len as u32 <= FAST_BITS {
                    let shift = FAST_BITS - len as u32;
                    let first = (code as usize) << shift;
                    let entry = (len as u16) << 8 | u16::from(*values.get(k)?);
                    fast.get_mut(first..first + (1 << shift))?.fill(entry);
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                max_code[len] = code - 1;
            }
            if code > 1 << len {
                return None; // more codes than the length allows
            }
            code <<= 1;
        }
        Some(Huffman {
            fast,
            max_code,
            offset,
            values: values.to_vec(),
        })
    }
}

fn read_tables(
    mut p: &[u8],
    dc: &mut [Option<Huffman>; 4],
    ac: &mut [Option<Huffman>; 4],
) -> Result<(), ScrubError> {
    // Lengths were checked by `structure`; this only builds the code tables.
    while let Some((&tc_th, rest)) = p.split_first() {
        let counts = &rest[..16];
        let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
        let values = &rest[16..16 + total];
        let table = Huffman::new(counts, values).ok_or(ScrubError::Malformed {
            offset: 0,
            what: "a Huffman table with more codes than its lengths allow",
        })?;
        let slot = usize::from(tc_th & 0x0F);
        if tc_th >> 4 == 0 {
            dc[slot] = Some(table);
        } else {
            ac[slot] = Some(table);
        }
        p = &rest[16 + total..];
    }
    Ok(())
}

/// Reads bits MSB first, un-stuffing 0xFF00, and stops at any marker.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
    /// Where this reader started, for error offsets.
    base: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], base: usize) -> Self {
        Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
            base,
        }
    }

    /// Tops the buffer up to at least 25 bits where data allows; never passes a marker.
    fn refill(&mut self) {
        while self.count <= 56 {
            let Some(&b) = self.data.get(self.pos) else {
                return;
            };
            if b == 0xFF {
                if self.data.get(self.pos + 1) != Some(&0x00) {
                    return; // a marker (restart): the interval's data ends here
                }
                self.pos += 2;
            } else {
                self.pos += 1;
            }
            self.buf |= u64::from(b) << (56 - self.count);
            self.count += 8;
        }
    }

    fn bits(&mut self, n: u32) -> Result<u32, ScrubError> {
        if n == 0 {
            return Ok(0);
        }
        if self.count < n {
            self.refill();
            if self.count < n {
                return Err(fail(self.base + self.pos, "a block runs past its scan"));
            }
        }
        let v = (self.buf >> (64 - n)) as u32;
        self.buf <<= n;
        self.count -= n;
        Ok(v)
    }

    fn decode(&mut self, table: &Huffman) -> Result<u8, ScrubError> {
        if self.count < 16 {
            self.refill();
        }
        let peek = (self.buf >> (64 - FAST_BITS)) as usize;
        let entry = table.fast[peek];
        if entry != 0 {
            let len = u32::from(entry >> 8);
            if len > self.count {
                return Err(fail(self.base + self.pos, "a block runs past its scan"));
            }
            self.buf <<= len;
            self.count -= len;
            return Ok((entry & 0xFF) as u8);
        }
        for len in FAST_BITS + 1..=16 {
            let code = (self.buf >> (64 - len)) as i32;
            if code <= table.max_code[len as usize] {
                if len > self.count {
                    return Err(fail(self.base + self.pos, "a block runs past its scan"));
                }
                self.buf <<= len;
                self.count -= len;
                let index = (code + table.offset[len as usize]) as usize;
                return table
                    .values
                    .get(index)
                    .copied()
                    .ok_or(fail(self.base + self.pos, "an invalid Huffman code"));
            }
        }
        Err(fail(self.base + self.pos, "an invalid Huffman code"))
    }

    /// At the end of an interval: fewer than 8 bits left, all of them 1 (padding), and
    /// no byte left before the next marker.
    fn finish(&mut self) -> Result<(), ScrubError> {
        self.refill();
        let at = self.base + self.pos;
        if self.count >= 8
            || self.data.get(self.pos).is_some_and(|&b| b != 0xFF)
            || self.data.get(self.pos..self.pos + 2) == Some(&[0xFF, 0x00])
        {
            return Err(fail(at, "bytes after the last block"));
        }
        let padding = self.buf >> (64 - self.count.max(1));
        if self.count > 0 && padding != (1 << self.count) - 1 {
            return Err(fail(at, "padding bits that are not all ones"));
        }
        Ok(())
    }
}

fn walk_scan(
    frame: &Frame,
    header: &[u8],
    data: &[u8],
    dc: &[Option<Huffman>; 4],
    ac: &[Option<Huffman>; 4],
    restart_interval: u16,
    offset: usize,
) -> Result<(), ScrubError> {
    let data_at = offset + 2 + header.len() + 2;
    let h_max = frame.components.iter().map(|c| c.1).max().unwrap_or(1);
    let v_max = frame.components.iter().map(|c| c.2).max().unwrap_or(1);
    let count = usize::from(header[0]);
    // (dc table, ac table, blocks across, blocks down) per scan component.
    let mut parts = Vec::with_capacity(count);
    for c in header[1..1 + 2 * count].chunks_exact(2) {
        let (_, h, v) = *frame
            .components
            .iter()
            .find(|f| f.0 == c[0])
            .ok_or(fail(offset, "a scan component missing from the frame"))?;
        let dc_table = dc[usize::from(c[1] >> 4)]
            .as_ref()
            .ok_or(fail(offset, "a scan uses an undefined Huffman table"))?;
        let ac_table = ac[usize::from(c[1] & 0x0F)]
            .as_ref()
            .ok_or(fail(offset, "a scan uses an undefined Huffman table"))?;
        parts.push((dc_table, ac_table, h, v));
    }
    let (ss, se) = (header[1 + 2 * count], header[2 + 2 * count]);
    if ss != 0 || se != 63 {
        return Err(fail(
            offset,
            "a sequential scan that is not a full spectrum",
        ));
    }
    // Blocks per MCU and MCU count: interleaved scans use the frame's MCU grid; a single
    // component scan walks that component's own block grid, one block per MCU.
    let (mcus, per_component): (u64, Vec<(u32, u32)>) = if count == 1 {
        let (_, _, h, v) = parts[0];
        let w = (frame.width * h).div_ceil(h_max).div_ceil(8);
        let hgt = (frame.height * v).div_ceil(v_max).div_ceil(8);
        (u64::from(w) * u64::from(hgt), vec![(1, 1)])
    } else {
        let w = frame.width.div_ceil(8 * h_max);
        let hgt = frame.height.div_ceil(8 * v_max);
        (
            u64::from(w) * u64::from(hgt),
            parts.iter().map(|p| (p.2, p.3)).collect(),
        )
    };

    // Each restart interval gets its own reader; `start` is where it began in `data`.
    let mut start = 0usize;
    let mut bits = Bits::new(data, data_at);
    let mut predictors = vec![0i32; count];
    let mut next_restart = 0u8;
    for mcu in 0..mcus {
        if restart_interval > 0 && mcu > 0 && mcu % u64::from(restart_interval) == 0 {
            bits.finish()?;
            let at = start + bits.pos;
            if data.get(at..at + 2) != Some(&[0xFF, 0xD0 + next_restart]) {
                return Err(fail(
                    data_at + at,
                    "a restart marker missing or out of order",
                ));
            }
            next_restart = (next_restart + 1) % 8;
            start = at + 2;
            bits = Bits::new(&data[start..], data_at + start);
            predictors.iter_mut().for_each(|p| *p = 0);
        }
        for (i, (dc_table, ac_table, _, _)) in parts.iter().enumerate() {
            let (h, v) = per_component[i];
            for _ in 0..h * v {
                let s = u32::from(bits.decode(dc_table)?);
                if s > 15 {
                    return Err(fail(bits.base + bits.pos, "a DC difference out of range"));
                }
                predictors[i] = predictors[i].wrapping_add(bits.bits(s)? as i32);
                let mut k = 1;
                while k < 64 {
                    let rs = bits.decode(ac_table)?;
                    let (run, size) = (u32::from(rs >> 4), u32::from(rs & 0x0F));
                    if size == 0 {
                        if run == 15 {
                            k += 16;
                            continue;
                        }
                        break; // end of block
                    }
                    k += run;
                    if k > 63 {
                        return Err(fail(
                            bits.base + bits.pos,
                            "a block with more than 64 coefficients",
                        ));
                    }
                    bits.bits(size)?;
                    k += 1;
                }
                if k > 64 {
                    return Err(fail(
                        bits.base + bits.pos,
                        "a block with more than 64 coefficients",
                    ));
                }
            }
        }
    }
    bits.finish()?;
    if start + bits.pos != data.len() {
        return Err(fail(
            data_at + start + bits.pos,
            "bytes after the last block",
        ));
    }
    Ok(())
}
