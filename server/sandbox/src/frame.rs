//! Length-capped frames: a JSON header and a byte payload, each preceded by its length.
//!
//! `[u32 header length][header][u64 payload length][payload]`, big-endian. The reader is
//! told the most it will accept of each, so a peer that lies about a length gets an error,
//! never an allocation of the size it claimed.

use std::io::{self, Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest header any side sends (a request's options, an answer's facts).
pub const MAX_HEADER_BYTES: u32 = 256 * 1024;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The other side closed the stream before a frame began.
    #[error("the stream ended")]
    Closed,
    /// Reading or writing failed, or the stream ended inside a frame.
    #[error("the frame could not be read or written: {0}")]
    Io(#[from] io::Error),
    /// A length over the cap.
    #[error("a frame's {what} declares {bytes} bytes, more than the {limit} allowed")]
    TooLarge {
        /// Header or payload.
        what: &'static str,
        /// What it declared.
        bytes: u64,
        /// The cap.
        limit: u64,
    },
    /// The header is not the JSON expected.
    #[error("a frame's header does not read: {0}")]
    Header(#[from] serde_json::Error),
}

/// Writes one frame.
///
/// # Errors
/// The stream failed, or the header did not serialise.
pub fn write<H: Serialize>(
    out: &mut impl Write,
    header: &H,
    payload: &[u8],
) -> Result<(), FrameError> {
    let header = serde_json::to_vec(header)?;
    let header_len = u32::try_from(header.len())
        .ok()
        .filter(|n| *n <= MAX_HEADER_BYTES)
        .ok_or(FrameError::TooLarge {
            what: "header",
            bytes: header.len() as u64,
            limit: u64::from(MAX_HEADER_BYTES),
        })?;
    out.write_all(&header_len.to_be_bytes())?;
    out.write_all(&header)?;
    out.write_all(&(payload.len() as u64).to_be_bytes())?;
    out.write_all(payload)?;
    out.flush()?;
    Ok(())
}

/// Reads one frame, refusing a payload over `max_payload` bytes.
///
/// # Errors
/// [`FrameError::Closed`] at a clean end of the stream; otherwise why the frame is bad.
pub fn read<H: DeserializeOwned>(
    input: &mut impl Read,
    max_payload: u64,
) -> Result<(H, Vec<u8>), FrameError> {
    let mut len = [0u8; 4];
    match input.read(&mut len[..1])? {
        0 => return Err(FrameError::Closed),
        _ => input.read_exact(&mut len[1..])?,
    }
    let header_len = u32::from_be_bytes(len);
    if header_len > MAX_HEADER_BYTES {
        return Err(FrameError::TooLarge {
            what: "header",
            bytes: u64::from(header_len),
            limit: u64::from(MAX_HEADER_BYTES),
        });
    }
    let mut header = vec![0; header_len as usize];
    input.read_exact(&mut header)?;
    let mut len = [0u8; 8];
    input.read_exact(&mut len)?;
    let payload_len = u64::from_be_bytes(len);
    if payload_len > max_payload {
        return Err(FrameError::TooLarge {
            what: "payload",
            bytes: payload_len,
            limit: max_payload,
        });
    }
    let mut payload = Vec::new();
    input.take(payload_len).read_to_end(&mut payload)?;
    if payload.len() as u64 != payload_len {
        return Err(FrameError::Io(io::ErrorKind::UnexpectedEof.into()));
    }
    Ok((serde_json::from_slice(&header)?, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_as_written_and_a_clean_end_is_closed() {
        let mut buf = Vec::new();
        write(&mut buf, &serde_json::json!({"op": "heif"}), b"bytes").unwrap();
        write(&mut buf, &"second", b"").unwrap();
        let mut input = buf.as_slice();
        let (h, p): (serde_json::Value, _) = read(&mut input, 10).unwrap();
        assert_eq!(
            (h["op"].as_str(), p.as_slice()),
            (Some("heif"), &b"bytes"[..])
        );
        let (h, p): (String, _) = read(&mut input, 10).unwrap();
        assert_eq!((h.as_str(), p.len()), ("second", 0));
        assert!(matches!(
            read::<String>(&mut input, 10),
            Err(FrameError::Closed)
        ));
    }

    #[test]
    fn lying_lengths_and_cut_frames_are_errors_not_allocations() {
        let mut buf = Vec::new();
        write(&mut buf, &"h", &[7; 100]).unwrap();
        // A payload over the reader's cap.
        let err = read::<String>(&mut buf.as_slice(), 99).unwrap_err();
        assert!(
            matches!(
                err,
                FrameError::TooLarge {
                    what: "payload",
                    bytes: 100,
                    ..
                }
            ),
            "{err}"
        );
        // A header claiming 4 GiB.
        let mut huge = u32::MAX.to_be_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        let err = read::<String>(&mut huge.as_slice(), 10).unwrap_err();
        assert!(
            matches!(err, FrameError::TooLarge { what: "header", .. }),
            "{err}"
        );
        // A payload claiming 2^63 bytes within a large cap, then ending: cut, not allocated.
        let mut lie = Vec::new();
        write(&mut lie, &"h", b"").unwrap();
        let at = lie.len() - 8;
        lie[at..].copy_from_slice(&(1u64 << 63).to_be_bytes());
        let err = read::<String>(&mut lie.as_slice(), u64::MAX).unwrap_err();
        assert!(matches!(err, FrameError::Io(_)), "{err}");
        // Cut inside the header.
        let err = read::<String>(&mut &buf[..5], 1000).unwrap_err();
        assert!(matches!(err, FrameError::Io(_)), "{err}");
    }
}
