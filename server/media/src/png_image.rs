//! PNG stills (screenshots, exports from phones and tablets): the size from the header,
//! EXIF from the `eXIf` chunk, the camera facts its text chunks carry (for provenance
//! only), and the pixels as RGB within the same limits as a JPEG.
//! Decoding runs inside `catch_unwind`: a decoder bug on a hostile file becomes a reason.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::exif::ExifSummary;
use crate::jpeg::Limits;
use crate::problem::Problem;
use crate::render::Rgb;

/// What the header says, before any pixel is decoded.
pub(crate) struct Header {
    pub width: u32,
    pub height: u32,
    /// The `eXIf` chunk's TIFF structure, if the file has one before its image data.
    pub exif: Option<Vec<u8>>,
    /// What the text chunks before the image data say of the device and the time (XMP,
    /// "Creation Time", "Source", an EXIF profile kept as text); empty when nothing.
    pub text: ExifSummary,
}

/// The camera facts in a PNG's text chunks: an XMP packet, the standard "Creation Time"
/// and "Source" (the device) keywords, and the EXIF that ImageMagick keeps as hex in a
/// "Raw profile type exif" chunk. Compressed chunks are inflated up to `limit` bytes
/// each; one that is larger or broken is skipped. Nothing else is read from the text.
fn text_facts(info: &mut png::Info<'_>, limit: usize) -> ExifSummary {
    let mut texts: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|t| (t.keyword.clone(), t.text.clone()))
        .collect();
    for t in &mut info.compressed_latin1_text {
        if t.decompress_text_with_limit(limit).is_ok()
            && let Ok(text) = t.get_text()
        {
            texts.push((t.keyword.clone(), text));
        }
    }
    for t in &mut info.utf8_text {
        if t.decompress_text_with_limit(limit).is_ok()
            && let Ok(text) = t.get_text()
        {
            texts.push((t.keyword.clone(), text));
        }
    }
    let mut facts = ExifSummary::default();
    for (keyword, text) in &texts {
        let found = match keyword.as_str() {
            "XML:com.adobe.xmp" => crate::xmp::facts(text),
            "Raw profile type exif" => exif_profile(text).unwrap_or_default(),
            "Creation Time" => creation_time(text).unwrap_or_default(),
            "Source" => ExifSummary {
                model: Some(text.trim().chars().take(256).collect()),
                ..ExifSummary::default()
            },
            _ => continue,
        };
        crate::exif::fill_missing(&mut facts, found);
    }
    facts
}

/// The "Creation Time" keyword: RFC 1123 as the PNG specification suggests, or ISO 8601.
fn creation_time(text: &str) -> Option<ExifSummary> {
    let (taken, offset) = match jiff::fmt::rfc2822::parse(text.trim()) {
        Ok(zoned) => (zoned.datetime(), Some(zoned.offset().seconds())),
        Err(_) => crate::xmp::date(text)?,
    };
    Some(ExifSummary {
        taken_at: Some(taken),
        utc_offset_seconds: offset,
        ..ExifSummary::default()
    })
}

/// ImageMagick's text profile: a name line, the byte count, then the bytes in hex
/// ("Exif\0\0" and a TIFF structure).
fn exif_profile(text: &str) -> Option<ExifSummary> {
    let mut lines = text.split_whitespace();
    if lines.next()? != "exif" {
        return None;
    }
    let count: usize = lines.next()?.parse().ok()?;
    let hex: String = lines.collect();
    if hex.len() != count.checked_mul(2)? {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let tiff = bytes.strip_prefix(b"Exif\0\0").unwrap_or(&bytes);
    crate::exif::parse(tiff).ok()
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
        let exif = info.exif_metadata.as_ref().map(|e| e.to_vec());
        let limit = usize::try_from(limits.max_metadata_bytes).unwrap_or(usize::MAX);
        let text = text_facts(&mut reader.info().clone(), limit);
        Ok(Header {
            width,
            height,
            exif,
            text,
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
