//! Face recall on labelled group photos laid into 24 MP camera pictures, for CenterFace
//! (at the scales the analysis searches) and rustface (on the 1600 px preview, as before),
//! in the same run, with the time per 24 MP picture.
//!
//! ```sh
//! cargo run --release -p consentcam-media --example face_recall -- DIR/training.xml [...]
//! ```
//!
//! Each labelled file (dlib's XML: `<image file=..><box top= left= width= height=/>`) is
//! laid into a 6000x4000 canvas at the canvas's width and at 50%, 35% and 25% of it; a
//! face counts as found when a box overlaps it with IoU >= 0.4. Faces under 32 px in the
//! canvas are reported apart (the goal is every face of 32 px and more).

use std::path::{Path, PathBuf};
use std::time::Instant;

use consentcam_media::centerface::{self, CenterFace, Detection};
use consentcam_media::render::{Rgb, resize};

const CANVAS_W: u32 = 6000;
const CANVAS_H: u32 = 4000;
const SCALES: [f32; 4] = [1.0, 0.5, 0.35, 0.25];

struct Labelled {
    file: PathBuf,
    boxes: Vec<Detection>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}='"))? + name.len() + 2;
    let end = tag[start..].find('\'')? + start;
    Some(tag[start..end].to_owned())
}

fn read_labels(xml: &Path) -> Vec<Labelled> {
    let text = std::fs::read_to_string(xml).expect("labels");
    let dir = xml.parent().unwrap();
    let mut out: Vec<Labelled> = Vec::new();
    for tag in text.split('<').skip(1) {
        if tag.starts_with("image ") {
            out.push(Labelled {
                file: dir.join(attr(tag, "file").unwrap()),
                boxes: Vec::new(),
            });
        } else if tag.starts_with("box ") {
            let n = |k: &str| attr(tag, k).unwrap().parse::<f32>().unwrap();
            let (x, y, w, h) = (n("left"), n("top"), n("width"), n("height"));
            out.last_mut().unwrap().boxes.push(Detection {
                x0: x,
                y0: y,
                x1: x + w,
                y1: y + h,
                score: 1.0,
            });
        }
    }
    out
}

fn load(path: &Path) -> Rgb {
    let bytes = std::fs::read(path).unwrap();
    let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
    let pixels = decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    let pixels = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&p| [p, p, p]).collect(),
        other => panic!("{other:?}"),
    };
    Rgb {
        width: u32::from(info.width),
        height: u32::from(info.height),
        pixels,
    }
}

/// `photo` scaled to `fraction` of the canvas's width (or height, if that is what limits
/// it), centred on a grey 24 MP canvas; the labels moved with it.
fn lay_in(photo: &Rgb, labels: &[Detection], fraction: f32) -> (Rgb, Vec<Detection>) {
    let fit = (CANVAS_W as f32 / photo.width as f32).min(CANVAS_H as f32 / photo.height as f32);
    let by = fit * fraction;
    let (w, h) = (
        (photo.width as f32 * by).round() as u32,
        (photo.height as f32 * by).round() as u32,
    );
    let scaled = consentcam_media::render::resize_exact(photo, w, h).unwrap();
    let (left, top) = ((CANVAS_W - w) / 2, (CANVAS_H - h) / 2);
    let mut canvas = vec![128u8; (CANVAS_W * CANVAS_H * 3) as usize];
    for y in 0..h {
        let from = (y * w * 3) as usize;
        let to = (((y + top) * CANVAS_W + left) * 3) as usize;
        canvas[to..to + (w * 3) as usize]
            .copy_from_slice(&scaled.pixels[from..from + (w * 3) as usize]);
    }
    let moved = labels
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
            width: CANVAS_W,
            height: CANVAS_H,
            pixels: canvas,
        },
        moved,
    )
}

/// Labels matched by a found box (IoU >= 0.4, each box used once).
fn matched(labels: &[Detection], found: &[Detection]) -> Vec<bool> {
    let mut used = vec![false; found.len()];
    labels
        .iter()
        .map(|l| {
            let best = found
                .iter()
                .enumerate()
                .filter(|(i, _)| !used[*i])
                .map(|(i, f)| (i, l.iou(f)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((i, iou)) if iou >= 0.4 => {
                    used[i] = true;
                    true
                }
                _ => false,
            }
        })
        .collect()
}

fn centerface_on(detector: &mut CenterFace, canvas: &Rgb) -> Vec<Detection> {
    let long = canvas.width.max(canvas.height);
    let fine = resize(canvas, centerface::FINE_EDGE, long).unwrap();
    let by = fine.width as f32 / canvas.width as f32;
    detector
        .detect(&fine)
        .unwrap()
        .into_iter()
        .map(|d| Detection {
            x0: d.x0 / by,
            y0: d.y0 / by,
            x1: d.x1 / by,
            y1: d.y1 / by,
            score: d.score,
        })
        .collect()
}

fn rustface_on(
    detector: &mut consentcam_media::faces::RustfaceDetector,
    canvas: &Rgb,
) -> Vec<Detection> {
    let long = canvas.width.max(canvas.height);
    let preview = resize(canvas, 1600, long).unwrap();
    let grey = consentcam_media::faces::grey_from_rgb(&preview.pixels);
    detector
        .detect(&grey, preview.width, preview.height)
        .into_iter()
        .map(|f| Detection {
            x0: f.x * canvas.width as f32,
            y0: f.y * canvas.height as f32,
            x1: (f.x + f.width) * canvas.width as f32,
            y1: (f.y + f.height) * canvas.height as f32,
            score: f.score as f32,
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    faces: usize,
    found: usize,
    small: usize,
    small_found: usize,
    boxes: usize,
    seconds: f64,
    pictures: usize,
}

impl Tally {
    fn add(&mut self, labels: &[Detection], found: &[Detection], seconds: f64) {
        for (label, hit) in labels.iter().zip(matched(labels, found)) {
            if label.x1 - label.x0 >= 32.0 {
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

    fn line(&self, name: &str) -> String {
        format!(
            "{name:<10} recall {}/{} ({:.1}%) of faces >= 32 px; {}/{} smaller; {} boxes; {:.2} s per 24 MP picture",
            self.found,
            self.faces,
            100.0 * self.found as f64 / self.faces.max(1) as f64,
            self.small_found,
            self.small,
            self.boxes,
            self.seconds / self.pictures.max(1) as f64
        )
    }
}

fn main() {
    let sets: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    assert!(!sets.is_empty(), "give dlib-style XML label files");
    let mut cf = CenterFace::new().unwrap();
    let mut rf = consentcam_media::faces::RustfaceDetector::new().unwrap();
    for &fraction in &SCALES {
        let (mut new, mut old) = (Tally::default(), Tally::default());
        for set in &sets {
            for labelled in read_labels(set) {
                let photo = load(&labelled.file);
                let (canvas, labels) = lay_in(&photo, &labelled.boxes, fraction);
                let started = Instant::now();
                let found = centerface_on(&mut cf, &canvas);
                new.add(&labels, &found, started.elapsed().as_secs_f64());
                let started = Instant::now();
                let found = rustface_on(&mut rf, &canvas);
                old.add(&labels, &found, started.elapsed().as_secs_f64());
            }
        }
        println!("photo at {:>3.0}% of the canvas:", fraction * 100.0);
        println!("  {}", new.line("centerface"));
        println!("  {}", old.line("rustface"));
    }
}
