//! PNG stills are analysed like JPEGs (size, EXIF from `eXIf`, upright renditions, faces)
//! and may go forward like them; broken and hostile PNGs end with a reason, never a panic.

mod common;

use common::photos::{self, camera_exif, png_of};
use consentcam_media::exif;
use consentcam_media::{
    AnalysisOptions, FaceDetector, MediaKind, Problem, analyse_bytes, decode_still,
};

#[test]
fn a_png_gets_its_camera_facts_and_upright_renditions_and_goes_forward() {
    let (w, h) = (640, 480);
    let tiff = exif::build(&camera_exif("PNG0001", 6));
    let file = png_of(&photos::pixels(w, h, 7), w, h, Some(&tiff));
    let a = analyse_bytes(&file, &AnalysisOptions::default(), None);
    assert_eq!(a.kind, MediaKind::Png);
    assert_eq!((a.width, a.height), (Some(640), Some(480)));
    let facts = a.exif.as_ref().expect("EXIF from the eXIf chunk");
    assert_eq!(facts.body_serial.as_deref(), Some("PNG0001"));
    assert_eq!(facts.orientation, Some(6));
    // Orientation 6: shown turned a quarter, so the renditions stand upright (portrait).
    let preview = a.preview.as_ref().expect("a preview");
    assert_eq!((preview.width, preview.height), (480, 640));
    let thumb = a.thumbnail.as_ref().expect("a thumbnail");
    assert_eq!(thumb.width.max(thumb.height), 320);
    assert!(thumb.width < thumb.height);
    assert_eq!(a.problems, [], "{:?}", a.problems);
    assert!(a.publishable());
    // Its pixels for a published copy come in the stored grid (the orientation is written
    // into the copy, as for a JPEG).
    let stored = decode_still(&file, &AnalysisOptions::default().limits).expect("decodes");
    assert_eq!((stored.width, stored.height), (640, 480));
    assert_eq!(stored.pixels, photos::pixels(w, h, 7));
}

#[test]
fn faces_are_found_in_a_png_of_the_group_photo() {
    let mut detector = FaceDetector::new().expect("model");
    // rustface's own test picture, as the face tests use it.
    let file = std::fs::read(concat!(env!("CONSENTCAM_RUSTFACE_DIR"), "/test.png"))
        .expect("rustface ships its test photo");
    let a = analyse_bytes(&file, &AnalysisOptions::default(), Some(&mut detector));
    let faces = a.faces.as_ref().expect("detection ran");
    assert!(faces.len() >= 25, "{} faces", faces.len());
    assert!(a.problems.is_empty(), "{:?}", a.problems);
}

#[test]
fn broken_and_hostile_pngs_end_with_a_reason() {
    let (w, h) = (200, 150);
    let good = png_of(&photos::pixels(w, h, 3), w, h, None);
    let options = AnalysisOptions::default();

    // Cut off half way through its pixels.
    let truncated = analyse_bytes(&good[..good.len() / 2], &options, None);
    assert!(truncated.preview.is_none());
    assert!(
        truncated
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Truncated | Problem::Corrupt { .. })),
        "{:?}",
        truncated.problems
    );

    // A header declaring 100,000 x 100,000 pixels (and nothing behind it): not decoded.
    let mut huge = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut huge, 100_000, 100_000);
        encoder.set_color(png::ColorType::Rgb);
        let _writer = encoder.write_header().expect("header");
    }
    let huge = analyse_bytes(&huge, &options, None);
    assert!(
        huge.problems.contains(&Problem::DimensionsTooLarge {
            width: 100_000,
            height: 100_000
        }),
        "{:?}",
        huge.problems
    );
    assert!(huge.preview.is_none());

    // EXIF whose first directory points far past its end: refused, the picture still shown.
    let bad_exif = png_of(
        &photos::pixels(w, h, 4),
        w,
        h,
        Some(b"MM\0\x2a\x7f\xff\xff\xf0rest"),
    );
    let bad = analyse_bytes(&bad_exif, &options, None);
    assert!(
        bad.problems
            .iter()
            .any(|p| matches!(p, Problem::ExifInvalid { .. })),
        "{:?}",
        bad.problems
    );
    assert!(bad.preview.is_some());

    // Random bytes after a PNG signature.
    let mut noise = b"\x89PNG\r\n\x1a\n".to_vec();
    noise.extend(common::Rng::new(9).bytes(4096));
    let noise = analyse_bytes(&noise, &options, None);
    assert!(noise.preview.is_none());
    assert!(!noise.problems.is_empty());
}
