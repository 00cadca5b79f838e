//! Face boxes. [`FaceDetector`] is the one the analysis uses: CenterFace (see
//! [`crate::centerface`]) on the upright picture at up to 2400 px, at two scales, so a
//! class photographed from the back of a room has its small faces found as well as a
//! portrait its large one (rule F1). [`RustfaceDetector`] (SeetaFace's 2016 frontal
//! cascade, BSD-2) is kept only to be measured against in the face benchmark: on labelled
//! group photos it misses most faces under ~75 px of a 24 MP original.
//!
//! Finding faces is the most expensive step of the analysis, so it runs in the
//! background. Owns detection only; who a face is belongs to the staff who tag it.

use rustface::{Detector, ImageData};
use serde::{Deserialize, Serialize};

static MODEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seeta_fd_frontal_v1.0.bin"));

/// A face found in an image, as fractions (0.0-1.0) of the upright image's width and
/// height, so it applies to the thumbnail, the preview and the original alike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// The detector's confidence (higher is surer).
    pub score: f64,
}

impl FaceBox {
    /// The box in pixels of a picture `width` x `height` (the upright original at full
    /// size, where face boxes are kept): rounded outwards so the whole face stays inside,
    /// clipped to the picture, at least one pixel.
    #[must_use]
    pub fn in_pixels(&self, width: u32, height: u32) -> PixelBox {
        let clamp01 = |v: f32| {
            if v.is_finite() {
                v.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let (w, h) = (f64::from(width), f64::from(height));
        let x0 = (f64::from(clamp01(self.x)) * w).floor();
        let y0 = (f64::from(clamp01(self.y)) * h).floor();
        let x1 = (f64::from(clamp01(self.x + self.width)) * w).ceil();
        let y1 = (f64::from(clamp01(self.y + self.height)) * h).ceil();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let px = |v: f64, limit: u32| (v as u32).min(limit);
        let x = px(x0, width.saturating_sub(1));
        let y = px(y0, height.saturating_sub(1));
        PixelBox {
            x,
            y,
            width: px(x1, width).saturating_sub(x).max(1),
            height: px(y1, height).saturating_sub(y).max(1),
        }
    }
}

/// A face box in whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The detector could not be built or run (the embedded model did not load).
#[derive(Debug, thiserror::Error)]
#[error("the face model did not load: {0}")]
pub struct FaceModelError(#[source] std::io::Error);

/// The face detector of the analysis. Not thread-safe: make one per worker thread.
#[derive(Debug)]
pub struct FaceDetector {
    network: crate::centerface::CenterFace,
}

impl FaceDetector {
    /// Loads the built-in model (its SHA-256 checked).
    ///
    /// # Errors
    /// The embedded model is not the shipped one or does not load (a broken build).
    pub fn new() -> Result<Self, FaceModelError> {
        let network = crate::centerface::CenterFace::new()
            .map_err(|e| FaceModelError(std::io::Error::other(e.to_string())))?;
        Ok(Self { network })
    }

    /// Every face in the upright picture `upright` (RGB), as fractions of its size. The
    /// caller passes the picture at a long edge of at most
    /// [`crate::centerface::FINE_EDGE`] (see [`face_search_edge`]).
    ///
    /// # Errors
    /// The network could not be run: the faces were not looked for (C12), which is never
    /// "no faces".
    pub fn detect(&mut self, upright: &crate::render::Rgb) -> Result<Vec<FaceBox>, FaceModelError> {
        if upright.width < 16 || upright.height < 16 {
            return Ok(Vec::new());
        }
        let found = self
            .network
            .detect(upright)
            .map_err(|e| FaceModelError(std::io::Error::other(e.to_string())))?;
        let (w, h) = (upright.width as f32, upright.height as f32);
        Ok(found
            .into_iter()
            .map(|d| FaceBox {
                x: d.x0 / w,
                y: d.y0 / h,
                width: (d.x1 - d.x0) / w,
                height: (d.y1 - d.y0) / h,
                score: f64::from(d.score),
            })
            .collect())
    }
}

/// The long edge at which a picture with long edge `original_long` is searched for
/// faces: the whole picture up to [`crate::centerface::FINE_EDGE`].
#[must_use]
pub fn face_search_edge(original_long: u32) -> u32 {
    original_long.min(crate::centerface::FINE_EDGE)
}

/// The earlier detector, rustface, kept to be measured against. Not thread-safe.
pub struct RustfaceDetector {
    inner: Box<dyn Detector>,
}

impl std::fmt::Debug for RustfaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RustfaceDetector")
    }
}

impl RustfaceDetector {
    /// Load the built-in model.
    ///
    /// # Errors
    /// The embedded model is unreadable (a broken build).
    pub fn new() -> Result<Self, FaceModelError> {
        let model = rustface::read_model(MODEL).map_err(FaceModelError)?;
        let mut inner = rustface::create_detector_with_model(model);
        inner.set_min_face_size(20);
        inner.set_score_thresh(2.0);
        inner.set_pyramid_scale_factor(0.8);
        inner.set_slide_window_step(4, 4);
        Ok(Self { inner })
    }

    /// Find faces in a greyscale image (one byte per pixel, row by row).
    #[must_use]
    pub fn detect(&mut self, grey: &[u8], width: u32, height: u32) -> Vec<FaceBox> {
        let needed = width as usize * height as usize;
        // The detector panics on an empty image or one smaller than its window.
        if width < 24 || height < 24 || grey.len() < needed {
            return Vec::new();
        }
        let image = ImageData::new(&grey[..needed], width, height);
        #[allow(clippy::cast_precision_loss)]
        let (w, h) = (width as f32, height as f32);
        self.inner
            .detect(&image)
            .into_iter()
            .map(|f| {
                let b = f.bbox();
                #[allow(clippy::cast_precision_loss)]
                let (x, y, bw, bh) = (
                    b.x() as f32,
                    b.y() as f32,
                    b.width() as f32,
                    b.height() as f32,
                );
                let x0 = x.max(0.0);
                let y0 = y.max(0.0);
                FaceBox {
                    x: x0 / w,
                    y: y0 / h,
                    width: ((x + bw).min(w) - x0) / w,
                    height: ((y + bh).min(h) - y0) / h,
                    score: f.score(),
                }
            })
            .collect()
    }
}

/// Convert RGB pixels to greyscale for the detector (BT.601 luma).
#[must_use]
pub fn grey_from_rgb(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| {
            let y = 77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]);
            u8::try_from(y >> 8).unwrap_or(u8::MAX)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fraction(x: f32, y: f32, width: f32, height: f32) -> FaceBox {
        FaceBox {
            x,
            y,
            width,
            height,
            score: 1.0,
        }
    }

    #[test]
    fn a_box_in_fractions_becomes_pixels_of_the_full_size_picture() {
        let b = fraction(0.25, 0.5, 0.1, 0.2).in_pixels(4000, 3000);
        assert_eq!(
            b,
            PixelBox {
                x: 1000,
                y: 1500,
                width: 400,
                height: 600
            }
        );
    }

    #[test]
    fn a_box_is_rounded_outwards_and_clipped_to_the_picture() {
        let b = fraction(0.901, 0.0001, 0.2, 0.1).in_pixels(1000, 1000);
        assert_eq!((b.x, b.y), (901, 0));
        assert_eq!((b.x + b.width, b.height), (1000, 101));
    }

    #[test]
    fn a_degenerate_box_keeps_one_pixel_inside_the_picture() {
        let b = fraction(1.0, 1.0, 0.0, f32::NAN).in_pixels(640, 480);
        assert_eq!(
            b,
            PixelBox {
                x: 639,
                y: 479,
                width: 1,
                height: 1
            }
        );
    }
}
