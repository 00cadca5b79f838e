//! The face benchmark: recall and time per 24 MP picture for CenterFace (searched as the
//! analysis searches, see `faces::face_search_edge`) and rustface (on the 1600 px preview,
//! as the analysis did before), in the same run, on the labelled group photos of the
//! recall test laid into 6000 x 4000 canvases.
//!
//! ```sh
//! tests/fetch-face-sets
//! cargo run --release -p consentcam-media --example face_recall [-- FACE_SETS_DIR]
//! ```
//!
//! Times are one core's (one detector, one picture at a time), from the 24 MP pixels to
//! the boxes: the shrink to the search size included, the JPEG decode not (the analysis
//! decodes at a reduced scale; `bench` measures the whole analysis). The scales below 25%
//! put faces under the 32 px goal, to show where the search gives out.

use std::path::{Path, PathBuf};
use std::time::Instant;

use consentcam_media::centerface::Detection;
use consentcam_media::faces::{self, FaceDetector, RustfaceDetector};
use consentcam_media::labelled::{self, Labelled, Tally};
use consentcam_media::render::{Rgb, resize};

const RUSTFACE_PREVIEW: u32 = 1600;

fn photos(sets: &Path) -> Vec<Labelled> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut photos = labelled::read_labels(&sets.join("dlib/training.xml"), &|f| {
        sets.join("dlib").join(f)
    })
    .unwrap_or_else(|e| panic!("{e} (run tests/fetch-face-sets)"));
    photos.extend(
        labelled::read_labels(&manifest.join("tests/faces/group-photos.xml"), &|f| match f
            .strip_prefix("rustface/")
        {
            Some(name) => Path::new(env!("CONSENTCAM_RUSTFACE_DIR")).join(name),
            None => sets.join(f),
        })
        .expect("labels"),
    );
    photos
}

fn in_canvas(f: &consentcam_media::FaceBox, canvas: &Rgb) -> Detection {
    let (w, h) = (canvas.width as f32, canvas.height as f32);
    Detection {
        x0: f.x * w,
        y0: f.y * h,
        x1: (f.x + f.width) * w,
        y1: (f.y + f.height) * h,
        score: f.score as f32,
    }
}

fn centerface_on(detector: &mut FaceDetector, canvas: &Rgb) -> Vec<Detection> {
    let long = canvas.width.max(canvas.height);
    let searched = resize(canvas, faces::face_search_edge(long), long).expect("resize");
    detector
        .detect(&searched)
        .expect("detect")
        .iter()
        .map(|f| in_canvas(f, canvas))
        .collect()
}

fn rustface_on(detector: &mut RustfaceDetector, canvas: &Rgb) -> Vec<Detection> {
    let long = canvas.width.max(canvas.height);
    let preview = resize(canvas, RUSTFACE_PREVIEW, long).expect("resize");
    let grey = faces::grey_from_rgb(&preview.pixels);
    detector
        .detect(&grey, preview.width, preview.height)
        .iter()
        .map(|f| in_canvas(f, canvas))
        .collect()
}

fn main() {
    let sets = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/face-sets"),
        PathBuf::from,
    );
    let photos = photos(&sets);
    let mut new = FaceDetector::new().expect("CenterFace");
    let mut old = RustfaceDetector::new().expect("rustface");
    let scales = labelled::SCALES.iter().copied().chain([0.18, 0.12]);
    let (mut new_all, mut old_all) = (Tally::default(), Tally::default());
    for fraction in scales {
        let (mut new_tally, mut old_tally) = (Tally::default(), Tally::default());
        for photo in &photos {
            let pixels = labelled::load(&photo.file).expect("photo");
            let (canvas, labels) = labelled::lay_in(&pixels, &photo.faces, fraction);
            let started = Instant::now();
            let found = centerface_on(&mut new, &canvas);
            new_tally.add(&labels, &found, started.elapsed().as_secs_f64());
            let started = Instant::now();
            let found = rustface_on(&mut old, &canvas);
            old_tally.add(&labels, &found, started.elapsed().as_secs_f64());
        }
        println!("photos at {:>3.0}% of the canvas:", fraction * 100.0);
        println!("  {}", new_tally.line("centerface"));
        println!("  {}", old_tally.line("rustface"));
        if fraction >= 0.25 {
            new_all.absorb(&new_tally);
            old_all.absorb(&old_tally);
        }
    }
    println!("100% to 25%:");
    println!("  {}", new_all.line("centerface"));
    println!("  {}", old_all.line("rustface"));
    println!(
        "centerface takes {:.1}x rustface's time per picture",
        new_all.seconds / old_all.seconds.max(f64::MIN_POSITIVE)
    );
}
