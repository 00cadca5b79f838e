//! Finding the marker that ends a run of entropy-coded data: the hot loop.
//!
//! Inside a scan every 0xFF is followed by a stuffed 0x00 or a restart marker
//! (0xD0-0xD7); the first 0xFF followed by anything else starts a marker (or fill bytes
//! before one). In camera JPEGs a 0xFF occurs about every 90 bytes, so stopping at each
//! one (as `memchr` would) costs a call and a mispredicted branch every 90 bytes. This
//! tests eight positions per step with plain integer arithmetic, the byte and its
//! successor together, and only stops at a real marker. No `unsafe`, no intrinsics.

const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const TOP3: u64 = 0xF8F8_F8F8_F8F8_F8F8;
const RST: u64 = 0xD0D0_D0D0_D0D0_D0D0;

/// High bit set in exactly the bytes of `x` that are zero (no false positives).
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

fn is_marker_start(hay: &[u8], i: usize) -> bool {
    hay[i] == 0xFF && !matches!(hay.get(i + 1), Some(0x00 | 0xD0..=0xD7))
}

/// Marker starts among the eight positions beginning at `hay[i]` (needs `i + 9` bytes).
fn markers_at(hay: &[u8], i: usize) -> u64 {
    let here = word(&hay[i..i + 8]);
    let next = word(&hay[i + 1..i + 9]);
    let ff = zero_bytes(!here);
    let stuffed = zero_bytes(next);
    let restart = zero_bytes((next & TOP3) ^ RST);
    ff & !stuffed & !restart
}

/// Index of the first 0xFF in `hay` that is not followed by 0x00 or a restart marker
/// (a 0xFF in the last byte counts: the caller decides it is cut short).
pub(crate) fn find_marker(hay: &[u8]) -> Option<usize> {
    let mut i = 0;
    // 32 positions per step and one branch, so the compiler can keep it in registers.
    while i + 33 <= hay.len() {
        let found = [
            markers_at(hay, i),
            markers_at(hay, i + 8),
            markers_at(hay, i + 16),
            markers_at(hay, i + 24),
        ];
        if found.iter().any(|&f| f != 0) {
            break;
        }
        i += 32;
    }
    while i + 9 <= hay.len() {
        let found = markers_at(hay, i);
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    (i..hay.len()).find(|&j| is_marker_start(hay, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious byte-at-a-time version, as the reference.
    fn reference(hay: &[u8]) -> Option<usize> {
        (0..hay.len()).find(|&j| is_marker_start(hay, j))
    }

    #[test]
    fn agrees_with_the_byte_at_a_time_reference() {
        // Every pair of interesting bytes at every position and alignment.
        let interesting = [
            0x00u8, 0x01, 0x7F, 0x80, 0xCF, 0xD0, 0xD7, 0xD8, 0xD9, 0xFE, 0xFF,
        ];
        for len in 0..26 {
            for at in 0..len {
                for &a in &interesting {
                    for &b in &interesting {
                        let mut hay = vec![0x12u8; len];
                        hay[at] = a;
                        if at + 1 < len {
                            hay[at + 1] = b;
                        }
                        assert_eq!(find_marker(&hay), reference(&hay), "{hay:02X?}");
                    }
                }
            }
        }
    }

    #[test]
    fn skips_stuffed_bytes_and_restart_markers() {
        let hay = [
            1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3, 4, 5, 6, 7, 0xFF, 0x00, 0xFF, 0xD9,
        ];
        assert_eq!(find_marker(&hay), Some(13));
    }

    #[test]
    fn stops_at_the_first_of_several_fill_bytes() {
        let hay = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0xFF, 0xFF, 0xFF, 0xD9];
        assert_eq!(find_marker(&hay), Some(9));
    }
}
