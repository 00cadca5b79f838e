//! Faces at every size a class photo holds (rule F1): the CenterFace network (MIT, its
//! ONNX file built into the binary and checked by SHA-256 when it loads), run by `tract`,
//! a pure-Rust inference engine: no C or C++ touches the pixels, no network, no model to
//! install.
//!
//! The picture is searched at two scales: as given (the caller passes the upright photo
//! with a long edge of at most [`FINE_EDGE`], where a face 32 px wide in a 24 MP original
//! is still about 13 px, within the network's reach), in tiles that overlap so that a face
//! on a seam is whole in one of them; and shrunk to [`COARSE_EDGE`] in one tile, where a
//! face filling the frame fits the network's view. Boxes from every tile and scale are
//! merged by non-maximum suppression. Owns detection only: pixels in, boxes out.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;

use crate::render::Rgb;

static MODEL: &[u8] = include_bytes!("../models/centerface.onnx");

/// The SHA-256 of the model file this build ships (`models/LICENSE-centerface.txt`).
pub const MODEL_SHA256: &str = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc";

/// The long edge, in pixels, of the finest picture searched: a 6000 px photo is searched
/// at 2400 px (faces from about 32 px in the original).
pub const FINE_EDGE: u32 = 2400;
/// The long edge of the coarse search, one tile: faces up to the whole frame.
pub const COARSE_EDGE: u32 = 960;
/// The largest tile side the network is run on (memory stays bounded on a Pi).
const MAX_TILE: u32 = 1280;
/// How much neighbouring tiles overlap: a face up to this size on a seam is whole in one.
const OVERLAP: u32 = 96;
/// The network's stride: tile sides are multiples of it.
const STRIDE: u32 = 32;
/// Heat above which a cell is a face. Low on purpose: a missed face is a person nobody
/// checks, a false one costs staff a click ("not a face").
pub const THRESHOLD: f32 = 0.35;
/// Boxes overlapping more than this (intersection over union) are the same face.
const NMS_IOU: f32 = 0.3;

/// A face found, in pixels of the picture searched, with the network's confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub score: f32,
}

impl Detection {
    fn area(&self) -> f32 {
        (self.x1 - self.x0).max(0.0) * (self.y1 - self.y0).max(0.0)
    }

    /// Intersection over union with `other`.
    #[must_use]
    pub fn iou(&self, other: &Detection) -> f32 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    fn scaled(self, by: f32, dx: f32, dy: f32) -> Self {
        Self {
            x0: (self.x0 + dx) / by,
            y0: (self.y0 + dy) / by,
            x1: (self.x1 + dx) / by,
            y1: (self.y1 + dy) / by,
            score: self.score,
        }
    }
}

/// The model did not load or run.
#[derive(Debug, thiserror::Error)]
pub enum CenterFaceError {
    #[error("the face model is not the one this build ships (SHA-256 {found})")]
    WrongModel { found: String },
    #[error("the face model: {0}")]
    Model(String),
}

fn model_error(e: impl std::fmt::Display) -> CenterFaceError {
    CenterFaceError::Model(e.to_string())
}

type Plan = std::sync::Arc<TypedRunnableModel>;

/// The network, with an execution plan per tile size (a card's photos share a few).
pub struct CenterFace {
    model: InferenceModel,
    plans: HashMap<(u32, u32), Plan>,
}

impl std::fmt::Debug for CenterFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CenterFace")
            .field("plans", &self.plans.len())
            .finish()
    }
}

/// Checks `bytes` are the shipped model.
///
/// # Errors
/// They are not.
pub fn check_model(bytes: &[u8]) -> Result<(), CenterFaceError> {
    let found = format!("{:x}", Sha256::digest(bytes));
    if found != MODEL_SHA256 {
        return Err(CenterFaceError::WrongModel { found });
    }
    Ok(())
}

impl CenterFace {
    /// Loads the built-in model after checking its hash.
    ///
    /// # Errors
    /// The model is not the shipped one or does not parse.
    pub fn new() -> Result<Self, CenterFaceError> {
        check_model(MODEL)?;
        let model = tract_onnx::onnx()
            .model_for_read(&mut &MODEL[..])
            .map_err(model_error)?;
        Ok(Self {
            model,
            plans: HashMap::new(),
        })
    }

    fn plan(&mut self, width: u32, height: u32) -> Result<&Plan, CenterFaceError> {
        if !self.plans.contains_key(&(width, height)) {
            let mut model = self.model.clone();
            model
                .set_input_fact(0, f32::fact([1, 3, height as usize, width as usize]).into())
                .map_err(model_error)?;
            // The file declares fixed output shapes for its own 32x32 input: let tract
            // work them out for this one.
            for output in 0..model.outputs.len() {
                model
                    .set_output_fact(output, InferenceFact::default())
                    .map_err(model_error)?;
            }
            let plan = model
                .into_optimized()
                .and_then(|m| m.into_runnable())
                .map_err(model_error)?;
            self.plans.insert((width, height), plan);
        }
        Ok(&self.plans[&(width, height)])
    }

    /// Runs the network on the `width` x `height` window of `image` at (`left`, `top`)
    /// (padded with black past the picture's edges); boxes in the window's pixels.
    fn run_tile(
        &mut self,
        image: &Rgb,
        left: u32,
        top: u32,
        width: u32,
        height: u32,
    ) -> Result<Vec<Detection>, CenterFaceError> {
        let (iw, ih) = (image.width as usize, image.height as usize);
        let (l, t) = (left as usize, top as usize);
        let input = tract_ndarray::Array4::<f32>::from_shape_fn(
            (1, 3, height as usize, width as usize),
            |(_, c, y, x)| {
                let (sx, sy) = (l + x, t + y);
                if sx < iw && sy < ih {
                    f32::from(image.pixels[(sy * iw + sx) * 3 + c])
                } else {
                    0.0
                }
            },
        );
        let plan = self.plan(width, height)?;
        let outputs = plan
            .run(tvec!(Tensor::from(input).into()))
            .map_err(model_error)?;
        if outputs.len() < 3 {
            return Err(CenterFaceError::Model(format!(
                "{} outputs, not heatmap, scale and offset",
                outputs.len()
            )));
        }
        let heat = outputs[0]
            .to_plain_array_view::<f32>()
            .map_err(model_error)?;
        let scale = outputs[1]
            .to_plain_array_view::<f32>()
            .map_err(model_error)?;
        let offset = outputs[2]
            .to_plain_array_view::<f32>()
            .map_err(model_error)?;
        let shape = heat.shape();
        if shape.len() != 4 || scale.shape().len() != 4 || offset.shape().len() != 4 {
            return Err(CenterFaceError::Model(
                "outputs of an unexpected shape".into(),
            ));
        }
        let (rows, cols) = (shape[2], shape[3]);
        let (w, h) = (width as f32, height as f32);
        let mut found = Vec::new();
        for y in 0..rows {
            for x in 0..cols {
                let s = heat[[0, 0, y, x]];
                if s <= THRESHOLD {
                    continue;
                }
                let bh = scale[[0, 0, y, x]].exp() * 4.0;
                let bw = scale[[0, 1, y, x]].exp() * 4.0;
                let (oy, ox) = (offset[[0, 0, y, x]], offset[[0, 1, y, x]]);
                let x0 = ((x as f32 + ox + 0.5) * 4.0 - bw / 2.0).clamp(0.0, w);
                let y0 = ((y as f32 + oy + 0.5) * 4.0 - bh / 2.0).clamp(0.0, h);
                found.push(Detection {
                    x0,
                    y0,
                    x1: (x0 + bw).min(w),
                    y1: (y0 + bh).min(h),
                    score: s,
                });
            }
        }
        Ok(found)
    }

    /// Every face in `image` (RGB, upright, long edge at most about [`FINE_EDGE`]), in its
    /// pixels, strongest first.
    ///
    /// # Errors
    /// The network could not be run.
    pub fn detect(&mut self, image: &Rgb) -> Result<Vec<Detection>, CenterFaceError> {
        let mut all = Vec::new();
        for (left, top, w, h) in tiles(image.width, image.height) {
            let found = self.run_tile(image, left, top, w, h)?;
            all.extend(
                found
                    .into_iter()
                    .map(|d| d.scaled(1.0, left as f32, top as f32)),
            );
        }
        let long = image.width.max(image.height);
        if long > COARSE_EDGE {
            let by = COARSE_EDGE as f32 / long as f32;
            let small = crate::render::resize(image, COARSE_EDGE, long)
                .map_err(|p| CenterFaceError::Model(format!("{p:?}")))?;
            for (left, top, w, h) in tiles(small.width, small.height) {
                let found = self.run_tile(&small, left, top, w, h)?;
                all.extend(
                    found
                        .into_iter()
                        .map(|d| d.scaled(by, left as f32, top as f32)),
                );
            }
        }
        Ok(suppress(all))
    }
}

/// The windows (left, top, width, height) that cover a `width` x `height` picture: as
/// few as fit [`MAX_TILE`], overlapping by [`OVERLAP`], sides multiples of [`STRIDE`].
#[must_use]
pub fn tiles(width: u32, height: u32) -> Vec<(u32, u32, u32, u32)> {
    let axis = |length: u32| -> Vec<(u32, u32)> {
        let length = length.max(1);
        if length <= MAX_TILE {
            return vec![(0, length.div_ceil(STRIDE) * STRIDE)];
        }
        let count = (length - OVERLAP).div_ceil(MAX_TILE - OVERLAP);
        let side = (length + (count - 1) * OVERLAP).div_ceil(count);
        let side = side.div_ceil(STRIDE) * STRIDE;
        (0..count)
            .map(|i| {
                let start = if count == 1 {
                    0
                } else {
                    (length.saturating_sub(side) * i) / (count - 1)
                };
                (start, side)
            })
            .collect()
    };
    let mut out = Vec::new();
    for &(top, h) in &axis(height) {
        for &(left, w) in &axis(width) {
            out.push((left, top, w, h));
        }
    }
    out
}

/// Non-maximum suppression: the strongest box of each group that overlaps by more than
/// [`NMS_IOU`], or lies mostly inside a stronger one (the same face seen at two scales).
#[must_use]
pub fn suppress(mut boxes: Vec<Detection>) -> Vec<Detection> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in boxes {
        let duplicate = kept.iter().any(|k| {
            let iou = k.iou(&candidate);
            let w = (k.x1.min(candidate.x1) - k.x0.max(candidate.x0)).max(0.0);
            let h = (k.y1.min(candidate.y1) - k.y0.max(candidate.y0)).max(0.0);
            let inside = w * h / candidate.area().min(k.area()).max(f32::EPSILON);
            iou > NMS_IOU || inside > 0.7
        });
        if !duplicate {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x0: f32, y0: f32, x1: f32, y1: f32, score: f32) -> Detection {
        Detection {
            x0,
            y0,
            x1,
            y1,
            score,
        }
    }

    #[test]
    fn tiles_cover_the_picture_overlap_and_fit_the_network() {
        for (w, h) in [
            (2400, 1600),
            (1600, 2400),
            (960, 640),
            (500, 375),
            (2400, 1350),
        ] {
            let tiles = tiles(w, h);
            for &(_, _, tw, th) in &tiles {
                assert_eq!(tw % STRIDE, 0);
                assert_eq!(th % STRIDE, 0);
                assert!(tw <= MAX_TILE + STRIDE && th <= MAX_TILE + STRIDE);
            }
            // Every pixel is in a tile, and every seam has the overlap.
            for x in (0..w).step_by(7) {
                for y in (0..h).step_by(7) {
                    assert!(
                        tiles
                            .iter()
                            .any(|&(l, t, tw, th)| x >= l && x < l + tw && y >= t && y < t + th),
                        "({x}, {y}) of {w}x{h} in no tile: {tiles:?}"
                    );
                }
            }
            let mut lefts: Vec<u32> = tiles.iter().map(|t| t.0).collect();
            lefts.sort_unstable();
            lefts.dedup();
            for pair in lefts.windows(2) {
                let side = tiles[0].2;
                assert!(pair[0] + side >= pair[1] + OVERLAP, "{tiles:?}");
            }
        }
        assert_eq!(tiles(2400, 1600).len(), 4);
        assert_eq!(tiles(960, 640).len(), 1);
    }

    #[test]
    fn suppression_keeps_the_strongest_of_each_face_and_every_other_face() {
        let kept = suppress(vec![
            d(0.0, 0.0, 10.0, 10.0, 0.6),
            d(1.0, 1.0, 11.0, 11.0, 0.9),
            // The same face seen at the coarse scale, a little larger.
            d(0.0, 0.0, 14.0, 14.0, 0.5),
            d(40.0, 40.0, 50.0, 50.0, 0.4),
        ]);
        assert_eq!(
            kept,
            [d(1.0, 1.0, 11.0, 11.0, 0.9), d(40.0, 40.0, 50.0, 50.0, 0.4)]
        );
    }

    #[test]
    fn a_model_that_is_not_the_shipped_one_is_refused() {
        assert!(check_model(MODEL).is_ok());
        let mut other = MODEL.to_vec();
        other[100] ^= 1;
        assert!(matches!(
            check_model(&other),
            Err(CenterFaceError::WrongModel { .. })
        ));
    }
}
