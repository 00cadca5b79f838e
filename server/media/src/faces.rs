//! Face boxes from rustface (SeetaFace frontal model, BSD-2), with its model built into
//! the binary: no network, no model file to install.
//!
//! Finding faces is the most expensive step of the analysis, so it runs in the
//! background, on the preview (1600 px: small enough to be quick, large enough that a
//! face in a class photo is over the detector's ~40 px minimum). Owns detection only;
//! who a face is belongs to the staff who tag it.

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

/// The detector could not be built (the embedded model did not load).
#[derive(Debug, thiserror::Error)]
#[error("the face model did not load: {0}")]
pub struct FaceModelError(#[source] std::io::Error);

/// A face detector. Not thread-safe: make one per worker thread.
pub struct FaceDetector {
    inner: Box<dyn Detector>,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceDetector")
    }
}

impl FaceDetector {
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
