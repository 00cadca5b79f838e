//! PNG stills (screenshots, exports from phones and tablets): the size from the header,
//! EXIF from the `eXIf` chunk, and the pixels as RGB within the same limits as a JPEG.
//! Decoding runs inside `catch_unwind`: a decoder bug on a hostile file becomes a reason.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::jpeg::Limits;
use crate::problem::Problem;
use crate::render::Rgb;

/// What the header says, before any pixel is decoded.
pub(crate) struct Header {
    pub width: u32,
    pub height: u32,
    /// The `eXIf` chunk's TIFF structure, if the file has one before its image data.
    pub exif: Option<Vec<u8>>,
}

fn problem(e: &png::DecodingError) -> Problem {
    match e {
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Problem::Truncated
        }
        png::DecodingError::LimitsExceeded => Problem::Corrupt {
            detail: "PNG: decoding it needs more memory than the limit allows".into(),
        },
        other => Problem::Corrupt {
            detail: format!("PNG: {other}"),
        },
    }
}

fn decoder<'a>(data: &'a [u8], limits: &Limits) -> png::Decoder<Cursor<&'a [u8]>> {
    let bytes = usize::try_from(limits.max_decoder_bytes).unwrap_or(usize::MAX);
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(data), png::Limits { bytes });
    // Palettes and low bit depths to 8-bit channels, 16-bit down to 8.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    decoder
}

/// Reads the header (and the `eXIf` chunk), refusing a declared size over the pixel cap.
pub(crate) fn header(data: &[u8], limits: &Limits) -> Result<Header, Problem> {
    // The declared size straight from IHDR (the first chunk), before the decoder reads on.
    if data.get(12..16) == Some(b"IHDR")
        && let (Some(w), Some(h)) = (data.get(16..20), data.get(20..24))
    {
        let width = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        let height = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        if u64::from(width) * u64::from(height) > limits.max_pixels {
            return Err(Problem::DimensionsTooLarge { width, height });
        }
    }
    let run = || {
        let reader = decoder(data, limits).read_info().map_err(|e| problem(&e))?;
        let info = reader.info();
        let (width, height) = (info.width, info.height);
        if u64::from(width) * u64::from(height) > limits.max_pixels {
            return Err(Problem::DimensionsTooLarge { width, height });
        }
        Ok(Header {
            width,
            height,
            exif: info.exif_metadata.as_ref().map(|e| e.to_vec()),
        })
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(Problem::Corrupt {
            detail: "the PNG decoder failed".into(),
        })
    })
}

/// Decodes the first image to RGB (transparency laid on white).
pub(crate) fn decode(data: &[u8], limits: &Limits) -> Result<Rgb, Problem> {
    let run = || {
        let mut reader = decoder(data, limits).read_info().map_err(|e| problem(&e))?;
        let (width, height) = (reader.info().width, reader.info().height);
        if u64::from(width) * u64::from(height) > limits.max_pixels {
            return Err(Problem::DimensionsTooLarge { width, height });
        }
        let size = reader
            .output_buffer_size()
            .filter(|&size| size as u64 <= limits.max_decoder_bytes)
            .ok_or(Problem::DimensionsTooLarge { width, height })?;
        let mut buffer = vec![0; size];
        let frame = reader.next_frame(&mut buffer).map_err(|e| problem(&e))?;
        buffer.truncate(frame.buffer_size());
        let on_white = |value: u8, alpha: u8| {
            let (v, a) = (u16::from(value), u16::from(alpha));
            u8::try_from((v * a + 255 * (255 - a)) / 255).unwrap_or(255)
        };
        let pixels: Vec<u8> = match frame.color_type {
            png::ColorType::Rgb => buffer,
            png::ColorType::Rgba => buffer
                .chunks_exact(4)
                .flat_map(|p| {
                    [
                        on_white(p[0], p[3]),
                        on_white(p[1], p[3]),
                        on_white(p[2], p[3]),
                    ]
                })
                .collect(),
            png::ColorType::Grayscale => buffer.iter().flat_map(|&g| [g, g, g]).collect(),
            png::ColorType::GrayscaleAlpha => buffer
                .chunks_exact(2)
                .flat_map(|p| {
                    let g = on_white(p[0], p[1]);
                    [g, g, g]
                })
                .collect(),
            png::ColorType::Indexed => {
                return Err(Problem::Corrupt {
                    detail: "PNG: a palette image was not expanded".into(),
                });
            }
        };
        if pixels.len() != width as usize * height as usize * 3 {
            return Err(Problem::Truncated);
        }
        Ok(Rgb {
            width,
            height,
            pixels,
        })
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(Problem::Corrupt {
            detail: "the PNG decoder failed".into(),
        })
    })
}
