//! Thumbnails and previews: decode as little as possible, resize, turn upright, encode a
//! fresh JPEG that carries no metadata at all.
//!
//! The decoder scales in the DCT domain (1/2, 1/4, 1/8) so a 24 MP photo is never fully
//! decoded for a 1600 px preview. Decoding runs inside `catch_unwind`: a decoder bug on a
//! hostile file becomes a reason, not a crash. Owns pixels only; never touches the store.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use jpeg_decoder::{Decoder, PixelFormat};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// An encoded JPEG rendition (thumbnail or preview), upright, with no metadata.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    /// The JPEG bytes (JFIF, no EXIF/XMP/ICC).
    #[serde(skip)]
    pub jpeg: Vec<u8>,
}

impl std::fmt::Debug for Rendition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Rendition({}x{}, {} bytes)",
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

/// RGB pixels, row by row.
#[derive(Debug, Clone)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

fn corrupt(detail: impl Into<String>) -> Problem {
    Problem::Corrupt {
        detail: detail.into(),
    }
}

/// Decode `jpeg` at the smallest DCT scale (1/8, 1/4, 1/2, 1) whose long edge is at least
/// 15/16 of `min_long_edge`: a 6000 px photo decodes at 1/4 (1500 px) for a 1600 px
/// preview, a 7% enlargement nobody sees, instead of at 1/2 with four times the pixels.
pub(crate) fn decode_scaled(
    jpeg: &[u8],
    min_long_edge: u32,
    max_pixels: u64,
) -> Result<Rgb, Problem> {
    let run = || -> Result<Rgb, Problem> {
        let mut decoder = Decoder::new(jpeg);
        let cap = usize::try_from(max_pixels.saturating_mul(3)).unwrap_or(usize::MAX);
        decoder.set_max_decoding_buffer_size(cap);
        decoder.read_info().map_err(|e| corrupt(e.to_string()))?;
        let info = decoder.info().ok_or_else(|| corrupt("no image header"))?;
        let (w, h) = (u32::from(info.width), u32::from(info.height));
        if w == 0 || h == 0 {
            return Err(corrupt("zero width or height"));
        }
        let long = w.max(h);
        let target = (min_long_edge * 15 / 16).max(1).min(long);
        // Request a size with the target long edge; the decoder picks the smallest scale
        // that reaches it.
        let req_w = u16::try_from((u64::from(w) * u64::from(target)).div_ceil(u64::from(long)))
            .unwrap_or(u16::MAX);
        let req_h = u16::try_from((u64::from(h) * u64::from(target)).div_ceil(u64::from(long)))
            .unwrap_or(u16::MAX);
        let (ow, oh) = decoder
            .scale(req_w.max(1), req_h.max(1))
            .map_err(|e| corrupt(e.to_string()))?;
        let pixels = decoder.decode().map_err(|e| {
            if matches!(e, jpeg_decoder::Error::Io(_)) {
                Problem::Truncated
            } else {
                corrupt(e.to_string())
            }
        })?;
        let info = decoder.info().ok_or_else(|| corrupt("no image header"))?;
        let (ow, oh) = (u32::from(ow), u32::from(oh));
        let n = ow as usize * oh as usize;
        let pixels = match info.pixel_format {
            PixelFormat::RGB24 if pixels.len() >= n * 3 => pixels,
            PixelFormat::L8 if pixels.len() >= n => {
                pixels[..n].iter().flat_map(|&g| [g, g, g]).collect()
            }
            PixelFormat::CMYK32 => return Err(Problem::Cmyk),
            _ => return Err(corrupt("unsupported pixel format")),
        };
        Ok(Rgb {
            width: ow,
            height: oh,
            pixels,
        })
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err(corrupt("the decoder failed")))
}

/// Resize so the long edge is `long_edge`. Enlarges only by the little a DCT-scaled
/// decode may fall short (see [`decode_scaled`]); a smaller original stays its size.
pub fn resize(src: &Rgb, long_edge: u32, original_long_edge: u32) -> Result<Rgb, Problem> {
    let long = src.width.max(src.height);
    let long_edge = long_edge.min(original_long_edge);
    if long == long_edge {
        return Ok(src.clone());
    }
    let scale = |v: u32| {
        u32::try_from((u64::from(v) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long))
            .unwrap_or(1)
            .max(1)
    };
    let (w, h) = (scale(src.width), scale(src.height));
    let from = ImageRef::new(src.width, src.height, &src.pixels, PixelType::U8x3)
        .map_err(|e| corrupt(e.to_string()))?;
    let mut to = Image::new(w, h, PixelType::U8x3);
    Resizer::new()
        .resize(
            &from,
            &mut to,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)),
        )
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(Rgb {
        width: w,
        height: h,
        pixels: to.into_vec(),
    })
}

/// Resize to exactly `width` x `height` (for comparing pictures; may change the shape).
pub fn resize_exact(src: &Rgb, width: u32, height: u32) -> Result<Rgb, Problem> {
    let from = ImageRef::new(src.width, src.height, &src.pixels, PixelType::U8x3)
        .map_err(|e| corrupt(e.to_string()))?;
    let mut to = Image::new(width.max(1), height.max(1), PixelType::U8x3);
    Resizer::new()
        .resize(
            &from,
            &mut to,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)),
        )
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(Rgb {
        width: width.max(1),
        height: height.max(1),
        pixels: to.into_vec(),
    })
}

/// Turn the pixels upright according to EXIF orientation 1-8, since the renditions carry
/// no EXIF to tell a viewer to do it.
pub fn upright(src: Rgb, orientation: u8) -> Rgb {
    if !(2..=8).contains(&orientation) {
        return src;
    }
    let (w, h) = (src.width as usize, src.height as usize);
    let swap = orientation >= 5;
    let (dw, dh) = if swap { (h, w) } else { (w, h) };
    let mut out = vec![0u8; w * h * 3];
    for y in 0..dh {
        for x in 0..dw {
            // Source coordinates of destination pixel (x, y), per the EXIF definitions.
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let s = (sy * w + sx) * 3;
            let d = (y * dw + x) * 3;
            out[d..d + 3].copy_from_slice(&src.pixels[s..s + 3]);
        }
    }
    Rgb {
        width: u32::try_from(dw).unwrap_or(0),
        height: u32::try_from(dh).unwrap_or(0),
        pixels: out,
    }
}

/// Encode as a baseline JPEG with nothing but the image.
pub(crate) fn encode(img: &Rgb, quality: u8) -> Result<Rendition, Problem> {
    let (Ok(w), Ok(h)) = (u16::try_from(img.width), u16::try_from(img.height)) else {
        return Err(corrupt("rendition too large"));
    };
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, quality)
        .encode(&img.pixels, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(Rendition {
        width: img.width,
        height: img.height,
        jpeg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked() -> Rgb {
        // 3x2 image, red pixel at top-left.
        let mut pixels = vec![0u8; 3 * 2 * 3];
        pixels[0] = 255;
        Rgb {
            width: 3,
            height: 2,
            pixels,
        }
    }

    #[test]
    fn orientation_6_turns_the_image_clockwise() {
        let out = upright(marked(), 6);
        assert_eq!((out.width, out.height), (2, 3));
        // Top-left of the stored image ends at the top-right when turned clockwise.
        assert_eq!(out.pixels[3], 255);
        assert_eq!(out.pixels[0], 0);
    }

    #[test]
    fn orientation_3_turns_it_half_way() {
        let out = upright(marked(), 3);
        assert_eq!((out.width, out.height), (3, 2));
        assert_eq!(out.pixels[0], 0);
        assert_eq!(out.pixels[out.pixels.len() - 3], 255);
    }
}
