//! HEIC stills (what iPhones and iPads save) are analysed like JPEGs through libheif: size,
//! EXIF, upright renditions, faces; their own rotation applied once; broken and hostile
//! files end with a reason, never a panic. Every file is made here with libheif's encoder,
//! and the hostile ones by editing its boxes.

mod common;

use common::bmff;
use common::photos::{self, camera_exif, difference};
use consentcam_media::sample::heic_of;
use consentcam_media::{
    AnalysisOptions, FaceDetector, MediaKind, Problem, analyse_bytes, decode_still, exif,
};

/// A small HEIC of the test pattern with a camera's EXIF (orientation `orientation`).
fn camera_heic(width: u32, height: u32, orientation: u8) -> Vec<u8> {
    let tiff = exif::build(&camera_exif("HEIC0001", orientation));
    heic_of(
        &photos::pixels(width, height, 5),
        width,
        height,
        Some(&tiff),
    )
    .expect("encodes")
}

#[test]
fn a_heic_gets_its_camera_facts_and_upright_renditions_and_goes_forward() {
    // Orientation 6 in the EXIF, but no rotation in the file's own boxes: the pixels are
    // already as they display (libheif and every viewer ignore the EXIF tag), so the
    // analysis must not turn them.
    let file = camera_heic(640, 480, 6);
    let a = analyse_bytes(
        &file,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(a.kind, MediaKind::Heif);
    assert_eq!(a.problems, [], "{:?}", a.problems);
    assert!(a.publishable());
    assert_eq!((a.width, a.height), (Some(640), Some(480)));
    let facts = a.exif.as_ref().expect("EXIF from the HEIC's EXIF block");
    assert_eq!(facts.body_serial.as_deref(), Some("HEIC0001"));
    assert_eq!(facts.make.as_deref(), Some("Canon"));
    assert!(facts.taken_at.is_some());
    assert_eq!(facts.orientation, None, "applied by libheif, never twice");
    let preview = a.preview.as_ref().expect("a preview");
    assert_eq!((preview.width, preview.height), (640, 480));
    let thumb = a.thumbnail.as_ref().expect("a thumbnail");
    assert_eq!((thumb.width, thumb.height), (320, 240));

    let pixels = decode_still(
        &file,
        &AnalysisOptions::default().limits,
        &consentcam_media::Decoders::in_process(),
    )
    .expect("decodes");
    assert_eq!((pixels.width, pixels.height), (640, 480));
    let d = difference(&pixels.pixels, &photos::pixels(640, 480, 5));
    assert!(
        d < 8.0,
        "the decoded picture is the encoded one (mean difference {d})"
    );
}

#[test]
fn the_files_own_rotation_is_applied_once() {
    // A marker in the stored top-left corner; `irot` turns the picture a quarter
    // anticlockwise, so the marker displays at the bottom-left.
    let (w, h) = (320u32, 240u32);
    let mut rgb = vec![40u8; (w * h * 3) as usize];
    for y in 0..40 {
        for x in 0..40 {
            let at = ((y * w + x) * 3) as usize;
            rgb[at..at + 3].copy_from_slice(&[250, 250, 250]);
        }
    }
    let tiff = exif::build(&camera_exif("HEIC0002", 8));
    let file = heic_of(&rgb, w, h, Some(&tiff)).expect("encodes");
    let turned = bmff::with_rotation(&file, 1);

    let a = analyse_bytes(
        &turned,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(a.problems, [], "{:?}", a.problems);
    assert_eq!((a.width, a.height), (Some(240), Some(320)), "portrait");
    let preview = a.preview.as_ref().expect("a preview");
    assert_eq!((preview.width, preview.height), (240, 320));
    assert_eq!(a.exif.as_ref().and_then(|e| e.orientation), None);

    let pixels = decode_still(
        &turned,
        &AnalysisOptions::default().limits,
        &consentcam_media::Decoders::in_process(),
    )
    .expect("decodes");
    assert_eq!((pixels.width, pixels.height), (240, 320));
    let luma = |x: u32, y: u32| pixels.pixels[((y * pixels.width + x) * 3) as usize];
    assert!(luma(10, 310) > 200, "the marker is at the bottom-left");
    assert!(luma(10, 10) < 80 && luma(230, 10) < 80 && luma(230, 310) < 80);
}

#[test]
fn faces_are_found_in_a_heic_of_the_group_photo() {
    let png = std::fs::read(concat!(env!("CONSENTCAM_RUSTFACE_DIR"), "/test.png"))
        .expect("rustface ships its test photo");
    let group = decode_still(
        &png,
        &AnalysisOptions::default().limits,
        &consentcam_media::Decoders::in_process(),
    )
    .expect("decodes");
    let file = heic_of(&group.pixels, group.width, group.height, None).expect("encodes");
    let mut detector = FaceDetector::new().expect("model");
    let a = analyse_bytes(
        &file,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        Some(&mut detector),
    );
    assert_eq!(a.problems, [], "{:?}", a.problems);
    let faces = a.faces.as_ref().expect("detection ran");
    assert!(faces.len() >= 25, "{} faces", faces.len());
}

#[test]
fn broken_and_hostile_heics_end_with_a_reason() {
    let good = camera_heic(256, 192, 1);
    let options = AnalysisOptions::default();
    let problems = |file: &[u8]| {
        let a = analyse_bytes(
            file,
            &options,
            &consentcam_media::Decoders::in_process(),
            None,
        );
        assert!(a.preview.is_none() && a.thumbnail.is_none());
        assert!(!a.publishable());
        assert!(
            decode_still(
                file,
                &options.limits,
                &consentcam_media::Decoders::in_process()
            )
            .is_err()
        );
        a.problems
    };

    // Cut off half way through its image data.
    let cut = problems(&good[..good.len() - good.len() / 3]);
    assert!(
        cut.iter()
            .any(|p| matches!(p, Problem::Truncated | Problem::Corrupt { .. })),
        "{cut:?}"
    );
    // Only the first bytes (the `ftyp` box and part of `meta`).
    let head = problems(&good[..60]);
    assert!(!head.is_empty());

    // A header declaring 20,000 x 20,000 pixels (400 MP): refused before decoding.
    let huge = bmff::with_declared_size(&good, 20_000, 20_000);
    assert_eq!(
        problems(&huge),
        [Problem::DimensionsTooLarge {
            width: 20_000,
            height: 20_000
        }]
    );
    // 100,000 x 100,000: libheif's own limit refuses it as it reads the boxes.
    let huger = problems(&bmff::with_declared_size(&good, 100_000, 100_000));
    assert!(
        matches!(&huger[..], [Problem::Corrupt { detail }] if detail.contains("exceeds")),
        "{huger:?}"
    );

    // A grid said to be assembled from 5,000 tiles: refused before libheif reads it.
    let grid = bmff::as_grid_of(&good, 5_000);
    assert_eq!(
        problems(&grid),
        [Problem::TooManyTiles {
            tiles: 5_000,
            limit: 1024
        }]
    );

    // An EXIF block whose offset points past its end: the picture is still analysed, and
    // the broken EXIF is a reason.
    let bad_exif = bmff::with_exif_offset(&good, 0x7fff_fff0);
    let a = analyse_bytes(
        &bad_exif,
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert!(a.preview.is_some());
    assert!(
        a.problems
            .iter()
            .any(|p| matches!(p, Problem::ExifInvalid { .. })),
        "{:?}",
        a.problems
    );
    assert!(!a.publishable());

    // Noise after the `ftyp` box.
    let mut noise = good[..32].to_vec();
    noise.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert!(!problems(&noise).is_empty());
}
