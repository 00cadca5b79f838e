//! PNG stills are analysed like JPEGs (size, EXIF from `eXIf`, upright renditions, faces)
//! and may go forward like them; the camera facts in their text chunks (XMP, "Creation
//! Time", "Source", an EXIF profile kept as text) are read for provenance only; broken and
//! hostile PNGs end with a reason, never a panic.

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
    let a = analyse_bytes(
        &file,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
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
    let stored = decode_still(
        &file,
        &AnalysisOptions::default().limits,
        &consentcam_media::Decoders::in_process(),
    )
    .expect("decodes");
    assert_eq!((stored.width, stored.height), (640, 480));
    assert_eq!(stored.pixels, photos::pixels(w, h, 7));
}

#[test]
fn faces_are_found_in_a_png_of_the_group_photo() {
    let mut detector = FaceDetector::new().expect("model");
    // rustface's own test picture, as the face tests use it.
    let file = std::fs::read(concat!(env!("CONSENTCAM_RUSTFACE_DIR"), "/test.png"))
        .expect("rustface ships its test photo");
    let a = analyse_bytes(
        &file,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        Some(&mut detector),
    );
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
    let truncated = analyse_bytes(
        &good[..good.len() / 2],
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
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
    let huge = analyse_bytes(
        &huge,
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
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
    let bad = analyse_bytes(
        &bad_exif,
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
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
    let noise = analyse_bytes(
        &noise,
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert!(noise.preview.is_none());
    assert!(!noise.problems.is_empty());
}

/// A PNG with text chunks: `(keyword, text, compressed)`; `itxt` puts them in UTF-8 chunks.
fn png_with_text(texts: &[(&str, &str, bool)], itxt: bool) -> Vec<u8> {
    png_with_text_and_exif(texts, itxt, None)
}

/// [`png_with_text`] with an `eXIf` chunk holding `exif` (a TIFF structure), if given.
fn png_with_text_and_exif(
    texts: &[(&str, &str, bool)],
    itxt: bool,
    exif: Option<&[u8]>,
) -> Vec<u8> {
    let (w, h) = (64, 48);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        for &(keyword, text, compressed) in texts {
            let added = match (itxt, compressed) {
                (true, _) => encoder.add_itxt_chunk(keyword.into(), text.into()),
                (false, true) => encoder.add_ztxt_chunk(keyword.into(), text.into()),
                (false, false) => encoder.add_text_chunk(keyword.into(), text.into()),
            };
            added.expect("a text chunk");
        }
        let mut writer = encoder.write_header().expect("header");
        if let Some(tiff) = exif {
            writer
                .write_chunk(png::chunk::eXIf, tiff)
                .expect("eXIf chunk");
        }
        writer
            .write_image_data(&photos::pixels(w, h, 2))
            .expect("pixels");
    }
    out
}

#[test]
fn a_png_without_exif_gives_the_device_and_time_its_xmp_written_by_exiftool_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("IMG_0100.PNG");
    std::fs::write(&path, png_with_text(&[], false)).unwrap();
    photos::exiftool_writes(
        &path,
        &[
            "-XMP-tiff:Make=Apple",
            "-XMP-tiff:Model=iPad (9th generation)",
            "-XMP-exif:DateTimeOriginal=2026:11:20 10:15:00+01:00",
            "-XMP-exifEX:SerialNumber=DMPX1234",
            "-XMP-dc:Creator=Isla Morgan",
            "-PNG:Author=Isla Morgan",
        ],
    );
    let a = consentcam_media::analyse_file(
        &path,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(a.problems, [], "{:?}", a.problems);
    let facts = a.exif.as_ref().expect("the facts from the XMP text chunk");
    assert_eq!(facts.make.as_deref(), Some("Apple"));
    assert_eq!(facts.model.as_deref(), Some("iPad (9th generation)"));
    assert_eq!(facts.body_serial.as_deref(), Some("DMPX1234"));
    assert_eq!(
        facts.taken_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-20T10:15:00")
    );
    assert_eq!(facts.utc_offset_seconds, Some(3600));
    assert!(
        !format!("{a:?}").contains("Isla"),
        "names in the text are never read"
    );
}

#[test]
fn the_standard_keywords_and_an_exif_profile_kept_as_text_are_read_and_exif_outranks_them() {
    let options = AnalysisOptions::default();
    for itxt in [false, true] {
        let a = analyse_bytes(
            &png_with_text(
                &[
                    ("Creation Time", "Fri, 20 Nov 2026 10:15:00 +0000", false),
                    ("Source", "Pixel 8", true),
                    ("Author", "Isla Morgan", false),
                ],
                itxt,
            ),
            &options,
            &consentcam_media::Decoders::in_process(),
            None,
        );
        let facts = a.exif.as_ref().expect("facts from the keywords");
        assert_eq!(facts.model.as_deref(), Some("Pixel 8"), "itxt {itxt}");
        assert_eq!(
            facts.taken_at.map(|t| t.to_string()).as_deref(),
            Some("2026-11-20T10:15:00")
        );
        assert_eq!(facts.utc_offset_seconds, Some(0));
        assert_eq!(facts.body_serial, None);
    }

    // ImageMagick keeps a converted photo's EXIF as hex in a compressed text chunk.
    let tiff = exif::build(&camera_exif("IM0001", 1));
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    let profile = format!("\nexif\n{:8}\n{hex}\n", payload.len());
    let a = analyse_bytes(
        &png_with_text(&[("Raw profile type exif", &profile, true)], false),
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
    let facts = a.exif.as_ref().expect("the profile's EXIF");
    assert_eq!(facts.body_serial.as_deref(), Some("IM0001"));
    assert_eq!(facts.make.as_deref(), Some("Canon"));

    // The eXIf chunk's own facts win; the text only fills what it lacks.
    let mut without_model = camera_exif("PNG0003", 1);
    without_model.model = None;
    let file = png_with_text_and_exif(
        &[
            ("Creation Time", "Sat, 21 Nov 2026 09:00:00 +0000", false),
            ("Source", "Pixel 8", false),
        ],
        false,
        Some(&exif::build(&without_model)),
    );
    let a = analyse_bytes(
        &file,
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
    let facts = a.exif.as_ref().unwrap();
    assert_eq!(facts.body_serial.as_deref(), Some("PNG0003"));
    assert_eq!(
        facts.taken_at.map(|t| t.to_string()).as_deref(),
        Some("2026-03-14T10:30:05"),
        "the EXIF time, not the text's"
    );
    assert_eq!(
        facts.model.as_deref(),
        Some("Pixel 8"),
        "filled from the text"
    );

    // Broken text chunks are skipped, never a problem: the picture is fine.
    let a = analyse_bytes(
        &png_with_text(
            &[
                ("Raw profile type exif", "\nexif\n 99\nzz\n", false),
                ("Creation Time", "the day before yesterday", false),
                ("XML:com.adobe.xmp", "<x:xmpmeta><<<", true),
            ],
            false,
        ),
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(a.problems, [], "{:?}", a.problems);
    assert!(a.exif.is_none(), "{:?}", a.exif);
    assert!(a.publishable());
}
