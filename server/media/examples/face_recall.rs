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

use std::path::PathBuf;
use std::time::Instant;

use consentcam_media::centerface::Detection;
use consentcam_media::faces::{self, FaceDetector, RustfaceDetector};
use consentcam_media::labelled::{self, Tally};
use consentcam_media::render::{Rgb, resize};

const RUSTFACE_PREVIEW: u32 = 1600;

fn centerface_on(detector: &mut FaceDetector, canvas: &Rgb) -> Vec<Detection> {
    let long = canvas.width.max(canvas.height);
    let searched = resize(canvas, faces::face_search_edge(long), long).expect("resize");
    detector
        .detect(&searched)
        .expect("detect")
        .iter()
        .map(labelled::in_canvas)
        .collect()
}

fn rustface_on(detector: &mut RustfaceDetector, canvas: &Rgb) -> Vec<Detection> {
    let long = canvas.width.max(canvas.height);
    let preview = resize(canvas, RUSTFACE_PREVIEW, long).expect("resize");
    let grey = faces::grey_from_rgb(&preview.pixels);
    detector
        .detect(&grey, preview.width, preview.height)
        .iter()
        .map(labelled::in_canvas)
        .collect()
}

fn main() {
    let sets = std::env::args_os()
        .nth(1)
        .map_or_else(labelled::default_sets_dir, PathBuf::from);
    let photos =
        labelled::group_photos(&sets).unwrap_or_else(|e| panic!("{e} (run tests/fetch-face-sets)"));
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
