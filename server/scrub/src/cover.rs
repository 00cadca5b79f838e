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
use crate::orientation::Orientation;
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
    check_options(options)?;
    let original = structure::read(jpeg)?;
    let (original_keep, mut removed) = rebuild::gather(&original)?;

    let decoded = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .map_err(|e| ScrubError::Decode(e.to_string()))?;
    let picture = match decoded {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => decoded,
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA8(_) => {
            DynamicImage::ImageLuma8(decoded.to_luma8())
        }
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let (picture, encoded) = paint_and_encode(picture, covers, options)?;
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

/// A decoded picture from a file that is not a JPEG (a PNG, a HEIC): 8-bit RGB, row by
/// row, in the grid its covers are measured in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

/// Makes a new JPEG from decoded pixels: paints every cover solid black, downscales if
/// asked and encodes. Nothing of the source file's metadata can reach the output, which
/// carries a JFIF header and, when `orientation` is given and not 1, a one-tag EXIF so
/// the picture displays upright. The output passes the same self-check as every scrub.
///
/// # Errors
/// The pixel buffer does not match its size, an option is out of range, or a cover lies
/// wholly outside the picture.
pub fn cover_and_encode(
    pixels: Pixels,
    orientation: Option<Orientation>,
    covers: &[Cover],
    options: &Reencode,
) -> Result<Scrubbed, ScrubError> {
    check_options(options)?;
    let Pixels { width, height, rgb } = pixels;
    let picture = image::RgbImage::from_raw(width, height, rgb).ok_or(
        ScrubError::InvalidOption("the pixel buffer does not match the picture's size"),
    )?;
    let (_, encoded) = paint_and_encode(DynamicImage::ImageRgb8(picture), covers, options)?;
    let fresh = structure::read(&encoded)?;
    let (fresh_keep, _) = rebuild::gather(&fresh)?;
    let keep = Keep {
        jfif: fresh_keep.jfif,
        orientation,
        profile: None,
        adobe_transform: None,
    };
    let out = rebuild::write(&fresh, &keep)?;
    check::check_clean(&out)?;
    let mut report = rebuild::report(&fresh, &keep, Vec::new());
    report.reencoded = true;
    Ok(Scrubbed { jpeg: out, report })
}

fn check_options(options: &Reencode) -> Result<(), ScrubError> {
    if !(1..=100).contains(&options.quality) {
        return Err(ScrubError::InvalidOption("quality must be 1 to 100"));
    }
    if options.max_long_edge == Some(0) {
        return Err(ScrubError::InvalidOption(
            "the long edge must be at least 1 pixel",
        ));
    }
    Ok(())
}

/// Paints the covers, downscales if asked and encodes; returns the picture as encoded.
fn paint_and_encode(
    mut picture: DynamicImage,
    covers: &[Cover],
    options: &Reencode,
) -> Result<(DynamicImage, Vec<u8>), ScrubError> {
    let (width, height) = picture.dimensions();
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
    Ok((picture, encoded))
}

/// The brightest a pixel inside a painted cover may come out after JPEG re-encoding
/// (ringing near the cover's edge lifts black a little; a face never stays this dark).
const DARKEST_FACE: u8 = 48;

/// Checks, from the pixels of a published file, that every cover was painted: decodes
/// `jpeg` (made from a picture `width` x `height` in its stored grid, perhaps downscaled
/// since), scales each cover to it, and looks at every pixel inside, a small margin in
/// from the edge where re-encoding blurs. Returns the indexes of the covers not solid
/// black; an empty list means every face is covered.
///
/// # Errors
/// The file does not decode.
pub fn uncovered(
    jpeg: &[u8],
    covers: &[Cover],
    width: u32,
    height: u32,
) -> Result<Vec<usize>, ScrubError> {
    if covers.is_empty() {
        return Ok(Vec::new());
    }
    let picture = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .map_err(|e| ScrubError::Decode(e.to_string()))?
        .to_rgb8();
    let (out_w, out_h) = picture.dimensions();
    let scale_x = f64::from(out_w) / f64::from(width.max(1));
    let scale_y = f64::from(out_h) / f64::from(height.max(1));
    let mut bad = Vec::new();
    for (index, cover) in covers.iter().enumerate() {
        // The cover in output pixels, shrunk to the pixels wholly inside it.
        let x0 = (f64::from(cover.x) * scale_x).ceil();
        let y0 = (f64::from(cover.y) * scale_y).ceil();
        let x1 = (f64::from(cover.x.saturating_add(cover.width)) * scale_x).floor();
        let y1 = (f64::from(cover.y.saturating_add(cover.height)) * scale_y).floor();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (x0, y0, x1, y1) = (
            (x0 as u32).min(out_w),
            (y0 as u32).min(out_h),
            (x1 as u32).min(out_w),
            (y1 as u32).min(out_h),
        );
        let margin = |span: u32| (span / 16).clamp(1, 3).min(span.saturating_sub(1) / 2);
        let (mx, my) = (margin(x1.saturating_sub(x0)), margin(y1.saturating_sub(y0)));
        let (xs, ys) = (
            (x0 + mx)..x1.saturating_sub(mx),
            (y0 + my)..y1.saturating_sub(my),
        );
        if xs.is_empty() || ys.is_empty() {
            // Nothing of the cover survives at this size: nothing of the face either,
            // unless the cover is outside the picture.
            if x0 >= out_w || y0 >= out_h {
                bad.push(index);
            }
            continue;
        }
        let painted = ys.clone().all(|y| {
            xs.clone()
                .all(|x| picture.get_pixel(x, y).0.iter().all(|&c| c <= DARKEST_FACE))
        });
        if !painted {
            bad.push(index);
        }
    }
    Ok(bad)
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
