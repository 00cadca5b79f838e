//! The re-encoding path: solid covers over faces, an optional downscale, and the same
//! allow-list as the lossless path.
//!
//! Covers are painted in the stored pixel grid (before any EXIF rotation), so face boxes
//! from the detector apply as they are, and the orientation tag is written back so the
//! photo still displays upright. The fill is solid black: nothing of the face survives,
//! unlike a blur. Downscaling happens after covering, so the interior of every cover
//! stays solid. The encoder's output then goes through the same rebuild and self-check
//! as any other file.

use image::{DynamicImage, GenericImageView, ImageFormat};

use crate::error::ScrubError;
use crate::rebuild::{self, Keep};
use crate::{Scrubbed, check, structure};

/// A rectangle to fill, in the photo's stored pixel coordinates (top-left origin, before
/// any EXIF orientation is applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cover {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// How to re-encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reencode {
    /// Downscale so that the longer side is at most this many pixels (never upscales).
    pub max_long_edge: Option<u32>,
    /// JPEG quality, 1 to 100.
    pub quality: u8,
}

impl Default for Reencode {
    fn default() -> Self {
        Self {
            max_long_edge: None,
            quality: 88,
        }
    }
}

/// Decodes `jpeg`, paints every cover solid black, downscales if asked, re-encodes, and
/// returns a clean JPEG carrying only the allow-listed metadata of the original
/// (orientation; the colour profile when it still matches the pixels).
///
/// The input must itself pass the lossless scrubber's checks: a file the scrubber
/// refuses is not re-encoded either. A cover that lies wholly outside the photo is an
/// error (its coordinates are in the wrong space); one that crosses an edge is clipped.
pub fn cover_and_scrub(
    jpeg: &[u8],
    covers: &[Cover],
    options: &Reencode,
) -> Result<Scrubbed, ScrubError> {
    if !(1..=100).contains(&options.quality) {
        return Err(ScrubError::InvalidOption("quality must be 1 to 100"));
    }
    if options.max_long_edge == Some(0) {
        return Err(ScrubError::InvalidOption(
            "the long edge must be at least 1 pixel",
        ));
    }
    let original = structure::read(jpeg)?;
    let (original_keep, mut removed) = rebuild::gather(&original)?;

    let decoded = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .map_err(|e| ScrubError::Decode(e.to_string()))?;
    let (width, height) = decoded.dimensions();
    let mut picture = match decoded {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => decoded,
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA8(_) => {
            DynamicImage::ImageLuma8(decoded.to_luma8())
        }
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    for (index, cover) in covers.iter().enumerate() {
        let outside = ScrubError::CoverOutsideImage {
            index,
            x: cover.x,
            y: cover.y,
            width: cover.width,
            height: cover.height,
            image_width: width,
            image_height: height,
        };
        let x_end = cover.x.saturating_add(cover.width).min(width);
        let y_end = cover.y.saturating_add(cover.height).min(height);
        if cover.x >= x_end || cover.y >= y_end {
            return Err(outside);
        }
        fill_black(&mut picture, cover.x..x_end, cover.y..y_end);
    }
    if let Some(limit) = options.max_long_edge {
        let long = width.max(height);
        if long > limit {
            let scale = f64::from(limit) / f64::from(long);
            let w = ((f64::from(width) * scale).round() as u32).clamp(1, limit);
            let h = ((f64::from(height) * scale).round() as u32).clamp(1, limit);
            // Area averaging: fast on a 24 MP photo, and every output pixel whose source
            // area lies inside a cover stays solid black.
            picture = picture.thumbnail_exact(w, h);
        }
    }

    let mut encoded = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, options.quality);
    picture
        .write_with_encoder(encoder)
        .map_err(|e| ScrubError::Encode(e.to_string()))?;

    let fresh = structure::read(&encoded)?;
    let (fresh_keep, _) = rebuild::gather(&fresh)?;
    let output_space: &[u8; 4] = match picture {
        DynamicImage::ImageLuma8(_) => b"GRAY",
        _ => b"RGB ",
    };
    let keep = Keep {
        jfif: fresh_keep.jfif,
        orientation: original_keep.orientation,
        // A CMYK profile does not describe the RGB pixels the decoder produced.
        profile: original_keep
            .profile
            .clone()
            .filter(|p| &p.colour_space == output_space),
        adobe_transform: None,
    };
    let out = rebuild::write(&fresh, &keep)?;
    check::check_clean(&out)?;
    let mut report = rebuild::report(&original, &keep, std::mem::take(&mut removed));
    report.reencoded = true;
    Ok(Scrubbed { jpeg: out, report })
}

fn fill_black(picture: &mut DynamicImage, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) {
    match picture {
        DynamicImage::ImageLuma8(buf) => {
            for y in ys {
                for x in xs.clone() {
                    buf.put_pixel(x, y, image::Luma([0]));
                }
            }
        }
        DynamicImage::ImageRgb8(buf) => {
            for y in ys {
                for x in xs.clone() {
                    buf.put_pixel(x, y, image::Rgb([0, 0, 0]));
                }
            }
        }
        // `cover_and_scrub` only builds the two variants above.
        _ => {}
    }
}
