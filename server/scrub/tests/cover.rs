//! The re-encoding path: solid face covers, downscale, and the same exiftool judge.

mod support;

use consentcam_scrub::{Cover, Reencode, ScrubError, check_clean, cover_and_scrub};
use image::GenericImageView;
use support::*;

/// A 128x96 light-grey RGB photo, stored rotated (orientation 6), with names planted
/// in EXIF, XMP and an RGB colour profile.
fn photo(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let pixels = vec![200u8; usize::from(width) * usize::from(height) * 3];
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("encodes");
    let mut insert = segment(0xE1, &exif_block(6, &name(0), b""));
    insert.extend(segment(0xE1, &xmp_packet(&name(1))));
    insert.extend(segment(0xE2, &icc_chunks(&icc_profile(&name(2)), 1)[0]));
    out.splice(2..2, insert);
    out
}

fn grey_photo() -> Vec<u8> {
    let mut out = Vec::new();
    let pixels = vec![200u8; 64 * 64];
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, 64, 64, jpeg_encoder::ColorType::Luma)
        .expect("encodes");
    out.splice(
        2..2,
        segment(0xE2, &icc_chunks(&icc_profile(&name(2)), 1)[0]),
    );
    out
}

fn luma(img: &image::DynamicImage, x: u32, y: u32) -> u8 {
    img.get_pixel(x, y).0[0]
}

#[test]
fn covers_are_solid_black_and_the_rest_is_untouched() {
    let cover = Cover {
        x: 32,
        y: 16,
        width: 48,
        height: 40,
    };
    let out = cover_and_scrub(&photo(128, 96), &[cover], &Reencode::default()).expect("re-encodes");
    let img = image::load_from_memory(&out.jpeg).expect("decodes");
    assert_eq!(img.dimensions(), (128, 96));
    // Inside (a 2-pixel margin for JPEG ringing at the edge): black.
    for y in 18..54 {
        for x in 34..78 {
            assert!(luma(&img, x, y) < 12, "pixel {x},{y} not covered");
        }
    }
    // Well away from the cover: the photo as it was.
    for (x, y) in [(4, 4), (120, 90), (100, 10), (10, 80)] {
        assert!(luma(&img, x, y) > 180, "pixel {x},{y} changed");
    }
    assert!(out.report.reencoded);
}

#[test]
fn covers_use_stored_pixel_coordinates_and_orientation_is_kept() {
    let cover = Cover {
        x: 0,
        y: 0,
        width: 16,
        height: 16,
    };
    let out = cover_and_scrub(&photo(128, 96), &[cover], &Reencode::default()).expect("re-encodes");
    let img = image::load_from_memory(&out.jpeg).expect("decodes");
    assert!(luma(&img, 4, 4) < 12);
    assert!(luma(&img, 123, 4) > 180);
    assert_eq!(out.report.kept.orientation.map(|o| o.value()), Some(6));
}

#[test]
fn downscales_to_the_long_edge_and_keeps_covers_solid() {
    let cover = Cover {
        x: 64,
        y: 32,
        width: 64,
        height: 64,
    };
    let options = Reencode {
        max_long_edge: Some(64),
        quality: 85,
    };
    let out = cover_and_scrub(&photo(128, 96), &[cover], &options).expect("re-encodes");
    let img = image::load_from_memory(&out.jpeg).expect("decodes");
    assert_eq!(img.dimensions(), (64, 48));
    assert!(
        luma(&img, 48, 32) < 12,
        "cover centre not black after downscale"
    );
    assert!(luma(&img, 8, 8) > 180);
}

#[test]
fn never_upscales() {
    let options = Reencode {
        max_long_edge: Some(4000),
        quality: 85,
    };
    let out = cover_and_scrub(&photo(128, 96), &[], &options).expect("re-encodes");
    let img = image::load_from_memory(&out.jpeg).expect("decodes");
    assert_eq!(img.dimensions(), (128, 96));
}

#[test]
fn clips_a_cover_that_crosses_the_edge() {
    let cover = Cover {
        x: 120,
        y: 90,
        width: 500,
        height: 500,
    };
    let out = cover_and_scrub(&photo(128, 96), &[cover], &Reencode::default()).expect("re-encodes");
    let img = image::load_from_memory(&out.jpeg).expect("decodes");
    assert!(luma(&img, 126, 94) < 16);
}

#[test]
fn refuses_a_cover_outside_the_photo() {
    for cover in [
        Cover {
            x: 128,
            y: 0,
            width: 10,
            height: 10,
        },
        Cover {
            x: 10,
            y: 10,
            width: 0,
            height: 10,
        },
    ] {
        let err =
            cover_and_scrub(&photo(128, 96), &[cover], &Reencode::default()).expect_err("refused");
        assert!(matches!(err, ScrubError::CoverOutsideImage { .. }), "{err}");
    }
}

#[test]
fn refuses_nonsense_options() {
    for options in [
        Reencode {
            max_long_edge: None,
            quality: 0,
        },
        Reencode {
            max_long_edge: Some(0),
            quality: 80,
        },
    ] {
        let err = cover_and_scrub(&photo(32, 32), &[], &options).expect_err("refused");
        assert!(matches!(err, ScrubError::InvalidOption(_)));
    }
}

#[test]
fn refuses_to_re_encode_what_the_scrubber_refuses() {
    let mut bytes = photo(32, 32);
    bytes.truncate(bytes.len() - 2);
    assert!(cover_and_scrub(&bytes, &[], &Reencode::default()).is_err());
}

#[test]
fn drops_a_colour_profile_that_does_not_match_the_output_pixels() {
    let out = cover_and_scrub(&grey_photo(), &[], &Reencode::default()).expect("re-encodes");
    assert_eq!(out.report.kept.colour_profile_bytes, None);
    let rgb = cover_and_scrub(&photo(32, 32), &[], &Reencode::default()).expect("re-encodes");
    assert!(rgb.report.kept.colour_profile_bytes.is_some());
}

#[test]
fn re_encoded_outputs_pass_the_exiftool_judge() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cover = Cover {
        x: 8,
        y: 8,
        width: 20,
        height: 20,
    };
    let cases = [
        (photo(128, 96), Reencode::default()),
        (
            photo(128, 96),
            Reencode {
                max_long_edge: Some(50),
                quality: 70,
            },
        ),
        (grey_photo(), Reencode::default()),
    ];
    let mut files = Vec::new();
    for (i, (input, options)) in cases.iter().enumerate() {
        let out = cover_and_scrub(input, &[cover], options).expect("re-encodes");
        check_clean(&out.jpeg).expect("clean");
        assert_eq!(find_token_in_bytes(&out.jpeg), None);
        let path = dir.path().join(format!("cover-{i}.jpg"));
        std::fs::write(&path, &out.jpeg).expect("write");
        files.push(path);
    }
    for json in exiftool_json(&files) {
        let text = serde_json::Value::Object(json.clone()).to_string();
        assert_eq!(find_token(&text), None, "exiftool shows a name: {text}");
        let keys: Vec<&String> = json
            .keys()
            .filter(|k| {
                !(k.starts_with("System:")
                    || k.starts_with("File:") && *k != "File:Comment"
                    || k.starts_with("JFIF:")
                    || k.starts_with("ICC")
                    || k.starts_with("Composite:Image")
                    || *k == "Composite:Megapixels"
                    || *k == "IFD0:Orientation"
                    || *k == "SourceFile"
                    || *k == "ExifTool:ExifToolVersion")
            })
            .collect();
        assert!(keys.is_empty(), "exiftool sees {keys:?}");
    }
}

#[test]
fn the_pixel_check_finds_every_painted_cover_painted() {
    let covers = [
        Cover {
            x: 32,
            y: 16,
            width: 48,
            height: 40,
        },
        Cover {
            x: 100,
            y: 60,
            width: 20,
            height: 30,
        },
    ];
    let out = cover_and_scrub(&photo(128, 96), &covers, &Reencode::default()).expect("re-encodes");
    assert_eq!(
        consentcam_scrub::uncovered(&out.jpeg, &covers, 128, 96).unwrap(),
        Vec::<usize>::new()
    );
    let smaller = Reencode {
        max_long_edge: Some(64),
        ..Reencode::default()
    };
    let out = cover_and_scrub(&photo(128, 96), &covers, &smaller).expect("re-encodes");
    assert_eq!(
        consentcam_scrub::uncovered(&out.jpeg, &covers, 128, 96).unwrap(),
        Vec::<usize>::new()
    );
}

#[test]
fn the_pixel_check_names_a_cover_that_was_not_painted() {
    let painted = Cover {
        x: 32,
        y: 16,
        width: 48,
        height: 40,
    };
    let elsewhere = Cover {
        x: 90,
        y: 50,
        width: 30,
        height: 30,
    };
    let out =
        cover_and_scrub(&photo(128, 96), &[painted], &Reencode::default()).expect("re-encodes");
    assert_eq!(
        consentcam_scrub::uncovered(&out.jpeg, &[painted, elsewhere], 128, 96).unwrap(),
        vec![1]
    );
    // A cover only half painted is not covered either.
    let half = Cover {
        x: 56,
        y: 16,
        width: 48,
        height: 40,
    };
    assert_eq!(
        consentcam_scrub::uncovered(&out.jpeg, &[half], 128, 96).unwrap(),
        vec![0]
    );
}

/// A picture decoded from a file that is not a JPEG becomes a new JPEG: covers painted,
/// downscaled, the orientation written as the only metadata.
#[test]
fn makes_a_clean_jpeg_from_decoded_pixels() {
    use consentcam_scrub::{Orientation, Pixels, cover_and_encode};
    let (width, height) = (200u32, 100u32);
    let pixels = Pixels {
        width,
        height,
        rgb: vec![210; 200 * 100 * 3],
    };
    let cover = Cover {
        x: 20,
        y: 10,
        width: 60,
        height: 40,
    };
    let out = cover_and_encode(
        pixels,
        Orientation::from_value(6),
        &[cover],
        &Reencode {
            max_long_edge: Some(100),
            ..Default::default()
        },
    )
    .expect("encodes");
    check_clean(&out.jpeg).expect("clean");
    assert!(out.report.reencoded);
    assert_eq!(out.report.kept.orientation.map(|o| o.value()), Some(6));
    assert_eq!(out.report.kept.colour_profile_bytes, None);
    let img = image::load_from_memory(&out.jpeg).expect("decodes");
    assert_eq!(img.dimensions(), (100, 50));
    assert!(luma(&img, 25, 15) < 30, "inside the cover");
    assert!(luma(&img, 80, 40) > 180, "outside the cover");
    assert_eq!(
        consentcam_scrub::uncovered(&out.jpeg, &[cover], width, height).expect("decodes"),
        Vec::<usize>::new()
    );

    // Upright pixels need no orientation at all; a buffer of the wrong size is refused.
    let plain = cover_and_encode(
        Pixels {
            width: 8,
            height: 8,
            rgb: vec![0; 8 * 8 * 3],
        },
        None,
        &[],
        &Reencode::default(),
    )
    .expect("encodes");
    assert_eq!(plain.report.kept.orientation, None);
    assert!(matches!(
        cover_and_encode(
            Pixels {
                width: 8,
                height: 8,
                rgb: vec![0; 10],
            },
            None,
            &[],
            &Reencode::default(),
        ),
        Err(ScrubError::InvalidOption(_))
    ));
}
