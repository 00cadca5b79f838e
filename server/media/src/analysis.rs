//! Per-photo analysis (rule I5) on a stored file: kind, EXIF, thumbnail, preview, faces,
//! and every reason it must not be published (I6, C11).
//!
//! Runs after the import, in the background. Never panics and never fails: whatever is
//! wrong with a file becomes a [`Problem`] in the result. Bounded by [`Limits`]: a file
//! larger than the cap is not read; a header declaring too many pixels is not decoded.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exif::{self, ExifSummary};
use crate::faces::{self, FaceBox, FaceDetector};
use crate::format::{self, MediaKind};
use crate::jpeg::{self, Layout, Limits};
use crate::problem::Problem;
use crate::render::{self, Rendition, Rgb};
use crate::untrusted::Decoders;

/// How to analyse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// Safety limits per file.
    pub limits: Limits,
    /// Long edge of the thumbnail in pixels.
    pub thumbnail_edge: u32,
    /// Long edge of the preview in pixels.
    pub preview_edge: u32,
    /// JPEG quality of the renditions.
    pub quality: u8,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            thumbnail_edge: 320,
            preview_edge: 1600,
            quality: 82,
        }
    }
}

/// Where the preview's pixels came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewSource {
    /// The camera's own embedded preview (MPF), large enough and the same shape.
    Embedded,
    /// The main image, decoded at a reduced DCT scale.
    ScaledDecode,
    /// The whole image decoded (a PNG, a HEIF).
    FullDecode,
    /// A video's first key frame.
    VideoFrame,
}

/// The result of analysing one stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Sniffed kind.
    pub kind: MediaKind,
    /// Pixel size: a JPEG's or PNG's as stored, before its EXIF orientation; a HEIF's as
    /// it displays (its own rotation applied, which is all its orientation).
    pub width: Option<u32>,
    /// Pixel size, as for `width`.
    pub height: Option<u32>,
    /// Camera facts, where the file has readable EXIF.
    pub exif: Option<ExifSummary>,
    /// Long edge 320, upright, no metadata.
    pub thumbnail: Option<Rendition>,
    /// Long edge 1600, upright, no metadata.
    pub preview: Option<Rendition>,
    /// What the preview was made from.
    pub preview_source: Option<PreviewSource>,
    /// Faces in the upright preview; `None` when detection was not run or not possible.
    pub faces: Option<Vec<FaceBox>>,
    /// Every reason the file may not be published.
    pub problems: Vec<Problem>,
}

impl Analysis {
    fn new(kind: MediaKind) -> Self {
        Self {
            kind,
            width: None,
            height: None,
            exif: None,
            thumbnail: None,
            preview: None,
            preview_source: None,
            faces: None,
            problems: Vec::new(),
        }
    }

    /// May this file go forward to the consent decision at all? Only a still photo (JPEG,
    /// PNG, HEIF) with no problem of any kind (rules C11, I6).
    #[must_use]
    pub fn publishable(&self) -> bool {
        self.kind.is_publishable_format() && self.problems.is_empty()
    }
}

/// Analyse the original with this hash in the photo store (a working copy when the store
/// keeps its originals elsewhere). A missing or unreadable original is a problem of the
/// analysis, as for a file.
#[must_use]
pub fn analyse_stored(
    store: &crate::Store,
    hash: &crate::ContentHash,
    options: &AnalysisOptions,
    decoders: &Decoders,
    faces: Option<&mut FaceDetector>,
) -> Analysis {
    let unreadable = |detail: String| {
        let mut a = Analysis::new(MediaKind::Other);
        a.problems.push(Problem::Unreadable { detail });
        a
    };
    match store.open_original(hash) {
        Ok(Some(original)) => analyse_file(original.path(), options, decoders, faces),
        Ok(None) => unreadable("it is missing from the photo store".into()),
        Err(e) => unreadable(e.to_string()),
    }
}

/// Analyse a file on this machine. `decoders` decode what needs C or C++ code (HEIF, a
/// video's frame) in their sandbox; `faces` runs face detection on the preview when given.
/// The import's own problems (name, extension) are in the catalogue record, not repeated
/// here.
#[must_use]
pub fn analyse_file(
    path: &Path,
    options: &AnalysisOptions,
    decoders: &Decoders,
    faces: Option<&mut FaceDetector>,
) -> Analysis {
    let limit = options.limits.max_file_bytes;
    let mut data = Vec::new();
    // The first bytes say what the file is; a video is then read by seeking, whatever its
    // size (only its index and one frame), anything else whole up to the cap.
    let read = File::open(path).and_then(|mut file| {
        (&mut file)
            .take(format::SNIFF_LEN as u64)
            .read_to_end(&mut data)?;
        if format::sniff(&data) == MediaKind::Video {
            let size = file.metadata()?.len();
            return Ok(Some((file, size)));
        }
        file.take(limit + 1 - data.len() as u64)
            .read_to_end(&mut data)?;
        Ok(None)
    });
    match read {
        Ok(Some((file, size))) => {
            let mut a = Analysis::new(MediaKind::Video);
            analyse_video(
                std::io::BufReader::new(file),
                size,
                options,
                decoders,
                &mut a,
            );
            return a;
        }
        Ok(None) => {}
        Err(e) => {
            let mut a = Analysis::new(MediaKind::Other);
            a.problems.push(Problem::Unreadable {
                detail: e.kind().to_string(),
            });
            return a;
        }
    }
    if data.len() as u64 > limit {
        let mut a = Analysis::new(format::sniff(
            data.get(..format::SNIFF_LEN).unwrap_or(&data),
        ));
        let bytes = std::fs::metadata(path).map_or(limit + 1, |m| m.len());
        a.problems.push(Problem::TooLargeToAnalyse { bytes, limit });
        if !a.kind.is_publishable_format() {
            a.problems
                .push(Problem::FormatNotPublishable { kind: a.kind });
        }
        return a;
    }
    analyse_bytes(&data, options, decoders, faces)
}

/// Analyse a file already in memory (see [`analyse_file`]).
#[must_use]
pub fn analyse_bytes(
    data: &[u8],
    options: &AnalysisOptions,
    decoders: &Decoders,
    faces: Option<&mut FaceDetector>,
) -> Analysis {
    let kind = format::sniff(data);
    let mut a = Analysis::new(kind);
    match kind {
        MediaKind::Empty => {
            a.problems.push(Problem::Empty);
            return a;
        }
        MediaKind::Jpeg => {}
        MediaKind::Png => {
            analyse_png(data, options, faces, &mut a);
            return a;
        }
        MediaKind::Heif => {
            analyse_heif(data, options, decoders, faces, &mut a);
            return a;
        }
        MediaKind::Video => {
            analyse_video(
                std::io::Cursor::new(data),
                data.len() as u64,
                options,
                decoders,
                &mut a,
            );
            return a;
        }
        other => {
            a.problems
                .push(Problem::FormatNotPublishable { kind: other });
            return a;
        }
    }
    if data.len() as u64 > options.limits.max_file_bytes {
        a.problems.push(Problem::TooLargeToAnalyse {
            bytes: data.len() as u64,
            limit: options.limits.max_file_bytes,
        });
        return a;
    }
    let (layout, problems) = jpeg::inspect(data, &options.limits);
    a.problems.extend(problems);
    let Some(layout) = layout else { return a };
    a.width = Some(layout.width);
    a.height = Some(layout.height);
    if let Some(range) = layout.exif.clone() {
        match exif::parse(&data[range]) {
            Ok(summary) => a.exif = Some(summary),
            Err(e) => a.problems.push(Problem::ExifInvalid {
                detail: e.to_string(),
            }),
        }
    }
    let decodable = !a.problems.iter().any(|p| {
        matches!(
            p,
            Problem::DimensionsTooLarge { .. }
                | Problem::TooManyScans { .. }
                | Problem::Cmyk
                | Problem::Corrupt { .. }
                | Problem::Truncated
        )
    });
    if !decodable {
        return a;
    }
    let orientation = a.exif.as_ref().and_then(|e| e.orientation).unwrap_or(1);
    let original_long = layout.width.max(layout.height);
    match preview_pixels(data, &layout, options, &mut a.problems) {
        Ok((pixels, source)) => {
            renditions(
                &pixels,
                original_long,
                orientation,
                source,
                options,
                None,
                &mut a,
            );
        }
        Err(problem) => a.problems.push(problem),
    }
    // Faces are searched on more pixels than the preview has (a face 32 px wide in a
    // 24 MP original is 8 px in the preview): a decode of its own, at the search's size.
    if let Some(detector) = faces
        && a.preview.is_some()
    {
        let edge = faces::face_search_edge(original_long);
        match render::decode_scaled(data, edge, options.limits.max_pixels) {
            Ok(pixels) => find_faces(&pixels, original_long, orientation, detector, &mut a),
            Err(problem) => tracing::warn!(?problem, "no pixels to look for faces in"),
        }
    }
    a
}

/// The whole picture of a PNG or HEIF still as 8-bit RGB, within the same limits as the
/// analysis, for a copy made from its pixels (publication, a subject access export). A
/// PNG comes in its stored grid (its EXIF orientation still to apply, as for a JPEG); a
/// HEIF comes upright.
///
/// # Errors
/// Why the file cannot be decoded; a JPEG or any other kind is
/// [`Problem::FormatNotPublishable`] (a JPEG is scrubbed, never decoded here).
pub fn decode_still(data: &[u8], limits: &Limits, decoders: &Decoders) -> Result<Rgb, Problem> {
    match format::sniff(data) {
        MediaKind::Png => crate::png_image::decode(data, limits),
        MediaKind::Heif => decoders
            .heif(data, limits, true)?
            .pixels
            .ok_or(Problem::Truncated),
        kind => Err(Problem::FormatNotPublishable { kind }),
    }
}

/// What a still's header gave: its size and, if it has one, its EXIF (or why that is
/// unreadable).
struct StillHeader {
    width: u32,
    height: u32,
    exif: Option<Result<ExifSummary, String>>,
}

/// A PNG or HEIF still: its header (size, EXIF) within the limits, then its renditions
/// and faces from the whole decoded picture. `upright` says the decoder already turns the
/// pixels (a HEIF's own rotation): the EXIF orientation is then reported as absent and
/// never applied again.
fn analyse_still(
    header: Result<StillHeader, Problem>,
    decode: impl FnOnce() -> Result<Rgb, Problem>,
    upright: bool,
    options: &AnalysisOptions,
    faces: Option<&mut FaceDetector>,
    a: &mut Analysis,
) {
    let header = match header {
        Ok(header) => header,
        Err(problem) => {
            a.problems.push(problem);
            return;
        }
    };
    a.width = Some(header.width);
    a.height = Some(header.height);
    match header.exif {
        Some(Ok(summary)) if upright => {
            a.exif = Some(ExifSummary {
                orientation: None,
                ..summary
            });
        }
        Some(Ok(summary)) => a.exif = Some(summary),
        Some(Err(detail)) => a.problems.push(Problem::ExifInvalid { detail }),
        None => {}
    }
    match decode() {
        Ok(pixels) => {
            let orientation = a.exif.as_ref().and_then(|e| e.orientation).unwrap_or(1);
            let long = header.width.max(header.height);
            renditions(
                &pixels,
                long,
                orientation,
                PreviewSource::FullDecode,
                options,
                faces,
                a,
            );
        }
        Err(problem) => a.problems.push(problem),
    }
}

/// A PNG: its size, its `eXIf` EXIF, and its renditions and faces from the decoded
/// pixels, within the same limits as a JPEG.
fn analyse_png(
    data: &[u8],
    options: &AnalysisOptions,
    faces: Option<&mut FaceDetector>,
    a: &mut Analysis,
) {
    let header = crate::png_image::header(data, &options.limits).map(|h| {
        // EXIF first; the text chunks fill what it lacks (or stand in for it), for
        // provenance.
        let exif = match h
            .exif
            .map(|tiff| exif::parse(&tiff).map_err(|e| e.to_string()))
        {
            Some(Ok(mut summary)) => {
                exif::fill_missing(&mut summary, h.text);
                Some(Ok(summary))
            }
            None if h.text != ExifSummary::default() => Some(Ok(h.text)),
            other => other,
        };
        StillHeader {
            width: h.width,
            height: h.height,
            exif,
        }
    });
    let decode = || crate::png_image::decode(data, &options.limits);
    analyse_still(header, decode, false, options, faces, a);
}

/// A HEIF/HEIC: the primary image's size and EXIF, and its renditions and faces from the
/// decoded pixels, which libheif has already turned upright.
fn analyse_heif(
    data: &[u8],
    options: &AnalysisOptions,
    decoders: &Decoders,
    faces: Option<&mut FaceDetector>,
    a: &mut Analysis,
) {
    // One request: the worker reads the header, then decodes within the same limits.
    let (header, pixels) = match decoders.heif(data, &options.limits, true) {
        Ok(still) => (Ok(still.header), still.pixels),
        Err(problem) => (Err(problem), None),
    };
    let header = header.map(|h| StillHeader {
        width: h.width,
        height: h.height,
        exif: h
            .exif
            .map(|tiff| tiff.and_then(|t| exif::parse(&t).map_err(|e| e.to_string()))),
    });
    let decode = || pixels.ok_or(Problem::Truncated);
    analyse_still(header, decode, true, options, faces, a);
}

/// A video: never publishable; its size, the time, make, model and position its container
/// records (as EXIF would, for provenance), its turn, and its first key frame as the
/// preview and thumbnail. Faces are not looked for: a video is never published, and one
/// frame would not show who is in it.
fn analyse_video<R: std::io::Read + std::io::Seek>(
    reader: R,
    size: u64,
    options: &AnalysisOptions,
    decoders: &Decoders,
    a: &mut Analysis,
) {
    a.problems.push(Problem::FormatNotPublishable {
        kind: MediaKind::Video,
    });
    let video = crate::video::read(reader, size, &options.limits, decoders);
    // The frame's decoder refused it, crashed, overran or broke its sandbox: the file's to
    // review.
    a.problems.extend(video.decoder_failure.clone());
    if let Some((width, height)) = video.size {
        a.width = Some(width);
        a.height = Some(height);
    }
    if video.facts.is_some() || video.orientation.is_some() {
        a.exif = Some(ExifSummary {
            orientation: video.orientation,
            ..video.facts.unwrap_or_default()
        });
    }
    match video.poster {
        Ok(frame) => {
            if a.width.is_none() {
                a.width = Some(frame.width);
                a.height = Some(frame.height);
            }
            let long = frame.width.max(frame.height);
            let orientation = video.orientation.unwrap_or(1);
            renditions(
                &frame,
                long,
                orientation,
                PreviewSource::VideoFrame,
                options,
                None,
                a,
            );
        }
        Err(why) => tracing::info!(why, "no poster picture for a video"),
    }
}

/// The preview and thumbnail (upright, no metadata) and the faces in the preview, from
/// pixels at least the preview's size (or the whole picture if smaller).
fn renditions(
    pixels: &Rgb,
    original_long: u32,
    orientation: u8,
    source: PreviewSource,
    options: &AnalysisOptions,
    faces: Option<&mut FaceDetector>,
    a: &mut Analysis,
) {
    let preview = render::resize(pixels, options.preview_edge, original_long);
    // The thumbnail comes from the preview: cheaper, and one less large buffer.
    let thumb = preview
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|p| render::resize(p, options.thumbnail_edge, original_long))
        .map(|t| render::upright(t, orientation));
    let preview = preview.map(|p| render::upright(p, orientation));
    match (preview, thumb) {
        (Ok(preview), Ok(thumb)) => {
            if let Some(detector) = faces {
                find_faces(pixels, original_long, orientation, detector, a);
            }
            match (
                render::encode(&preview, options.quality),
                render::encode(&thumb, options.quality),
            ) {
                (Ok(p), Ok(t)) => {
                    a.preview = Some(p);
                    a.thumbnail = Some(t);
                    a.preview_source = Some(source);
                }
                (Err(e), _) | (_, Err(e)) => a.problems.push(e),
            }
        }
        (Err(e), _) | (_, Err(e)) => a.problems.push(e),
    }
}

/// The faces in `pixels` (the picture, at least the face search's size, or whole),
/// searched upright at [`faces::face_search_edge`]. A detector that fails leaves the
/// faces not looked for (C12), never "no faces".
fn find_faces(
    pixels: &Rgb,
    original_long: u32,
    orientation: u8,
    detector: &mut FaceDetector,
    a: &mut Analysis,
) {
    let edge = faces::face_search_edge(original_long);
    let searched = render::resize(pixels, edge, original_long)
        .map(|p| render::upright(p, orientation))
        .map_err(|p| format!("{p:?}"))
        .and_then(|p| detector.detect(&p).map_err(|e| e.to_string()));
    match searched {
        Ok(found) => a.faces = Some(found),
        Err(why) => tracing::error!(%why, "faces could not be looked for"),
    }
}

/// Long edge of the small copies compared to tell whether an embedded preview shows the
/// photo itself.
const COMPARE_EDGE: u32 = 48;

/// Whether two pictures show the same scene: both shrunk to the same small size, in grey,
/// their correlation high. Brightness, contrast and compression differ between a camera's
/// preview and its main image; the layout of light and dark does not.
fn same_picture(a: &Rgb, b: &Rgb) -> bool {
    let small = |img: &Rgb| -> Option<Vec<f64>> {
        let ratio = f64::from(img.width) / f64::from(img.height.max(1));
        // Both to the same grid, whatever their exact sizes.
        let (w, h) = if ratio >= 1.0 {
            (
                COMPARE_EDGE,
                (f64::from(COMPARE_EDGE) / ratio).round().max(1.0) as u32,
            )
        } else {
            (
                (f64::from(COMPARE_EDGE) * ratio).round().max(1.0) as u32,
                COMPARE_EDGE,
            )
        };
        let resized = render::resize_exact(img, w, h).ok()?;
        Some(
            resized
                .pixels
                .chunks_exact(3)
                .map(|p| {
                    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
                })
                .collect(),
        )
    };
    let (Some(x), Some(y)) = (small(a), small(b)) else {
        return false;
    };
    if x.len() != y.len() || x.is_empty() {
        return false;
    }
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (p, q) in x.iter().zip(&y) {
        sxy += (p - mx) * (q - my);
        sxx += (p - mx) * (p - mx);
        syy += (q - my) * (q - my);
    }
    // Flat pictures (a lens cap, a white wall) have no layout: compare their brightness.
    if sxx < n || syy < n {
        return (mx - my).abs() < 24.0 && sxx < n * 16.0 && syy < n * 16.0;
    }
    sxy / (sxx * syy).sqrt() > 0.8
}

/// Pixels with a long edge of at least the preview size (or the whole image if smaller):
/// from the camera's embedded preview when one fits and shows the same picture as the
/// photo itself (checked on a 1/8-scale decode of the photo; a preview of another picture
/// is a [`Problem::PreviewMismatch`] and the photo is decoded instead), else a DCT-scaled
/// decode.
fn preview_pixels(
    data: &[u8],
    layout: &Layout,
    options: &AnalysisOptions,
    problems: &mut Vec<Problem>,
) -> Result<(Rgb, PreviewSource), Problem> {
    let want = options.preview_edge;
    let main_ratio = f64::from(layout.width) / f64::from(layout.height.max(1));
    let mut best: Option<(u64, std::ops::Range<usize>)> = None;
    for range in &layout.embedded {
        let (Some(sub), _) = jpeg::inspect(&data[range.clone()], &options.limits) else {
            continue;
        };
        let ratio = f64::from(sub.width) / f64::from(sub.height.max(1));
        let big_enough = sub.width.max(sub.height) >= want.min(layout.width.max(layout.height));
        // A preview of another shape may not show the same picture: do not trust it.
        let same_shape = (ratio / main_ratio - 1.0).abs() < 0.01;
        let pixels = u64::from(sub.width) * u64::from(sub.height);
        if big_enough
            && same_shape
            && sub.components == 3
            && best.as_ref().is_none_or(|b| pixels < b.0)
        {
            best = Some((pixels, range.clone()));
        }
    }
    if let Some((_, range)) = best
        && let Ok(rgb) = render::decode_scaled(&data[range], want, options.limits.max_pixels)
    {
        let main = render::decode_scaled(data, COMPARE_EDGE, options.limits.max_pixels)?;
        if same_picture(&rgb, &main) {
            return Ok((rgb, PreviewSource::Embedded));
        }
        problems.push(Problem::PreviewMismatch);
    }
    render::decode_scaled(data, want, options.limits.max_pixels)
        .map(|rgb| (rgb, PreviewSource::ScaledDecode))
}
