//! Hostile files never stop a batch (rule I6): a generated corpus of broken, huge and
//! malicious files imports beside good photos. Each hostile file ends with a reason and is
//! never publishable; each good file imports, analyses, and is publishable.

mod common;

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use common::SqliteCatalogue;
use common::bmff;
use common::photos::{self, PhotoSpec, camera_exif, png_of};
use consentcam_media::{
    AnalysisOptions, FaceDetector, ImportOptions, Limits, OsStorage, Outcome, Store,
    analyse_stored, exif, import_card,
};

fn good(seed: u64) -> Vec<u8> {
    photos::photo(
        160,
        120,
        seed,
        &PhotoSpec {
            exif: Some(camera_exif("083021001234", 1)),
            ..PhotoSpec::default()
        },
    )
}

/// Replace the frame header's declared size.
fn with_size(mut jpeg: Vec<u8>, w: u16, h: u16) -> Vec<u8> {
    let sof = jpeg
        .windows(2)
        .position(|m| m == [0xFF, 0xC0] || m == [0xFF, 0xC2])
        .expect("SOF");
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpeg
}

/// Insert a segment right after SOI.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, marker]);
    out.extend(
        u16::try_from(payload.len() + 2)
            .expect("segment size")
            .to_be_bytes(),
    );
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

fn with_segments(jpeg: &[u8], marker: u8, payload: &[u8], times: usize) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    for _ in 0..times {
        out = with_segment(&out, marker, payload);
    }
    out
}

fn exif_segment(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    with_segment(jpeg, 0xE1, &payload)
}

fn scan_start(jpeg: &[u8]) -> usize {
    jpeg.windows(2)
        .position(|m| m == [0xFF, 0xDA])
        .expect("SOS")
}

/// The hostile corpus: file name on the card -> (bytes, a problem code it must get).
fn hostile() -> Vec<(String, Vec<u8>, &'static str)> {
    let plain = || photos::photo(160, 120, 99, &PhotoSpec::default());
    let mut v: Vec<(String, Vec<u8>, &'static str)> = Vec::new();
    let mut add =
        |name: &str, bytes: Vec<u8>, code: &'static str| v.push((name.to_owned(), bytes, code));
    add("empty.jpg", Vec::new(), "empty");
    add("empty_no_extension", Vec::new(), "empty");
    let g = good(1);
    add("truncated_half.jpg", g[..g.len() / 2].to_vec(), "truncated");
    add(
        "truncated_in_header.jpg",
        good(2)[..40].to_vec(),
        "truncated",
    );
    add("soi_only.jpg", vec![0xFF, 0xD8], "extension_mismatch");
    let g = good(3);
    add("missing_eoi.jpg", g[..g.len() - 2].to_vec(), "truncated");
    add("jpeg_named_png.png", good(4), "extension_mismatch");
    add(
        "text_named_jpg.jpg",
        b"hello, this is not a photo".to_vec(),
        "extension_mismatch",
    );
    add(
        "pdf_named_jpg.JPG",
        b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj".to_vec(),
        "extension_mismatch",
    );
    add(
        "elf_binary.jpg",
        b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec(),
        "extension_mismatch",
    );
    add(
        "notes.txt",
        b"Sam in year 9, photo 3".to_vec(),
        "format_not_publishable",
    );
    // Entropy data overwritten with bytes that contain invalid markers.
    let mut c = good(5);
    let s = scan_start(&c) + 20;
    for i in (s..c.len() - 40).step_by(17) {
        c[i] = 0xFF;
        c[i + 1] = 0x9A;
    }
    add("corrupt_entropy.jpg", c, "corrupt");
    let prog = photos::photo(
        160,
        120,
        26,
        &PhotoSpec {
            progressive: true,
            ..PhotoSpec::default()
        },
    );
    // 48 MP is under the pixel limit, but a progressive decode keeps every coefficient.
    add(
        "progressive_48mp.jpg",
        with_size(prog, 8000, 6000),
        "dimensions_too_large",
    );
    add(
        "dimensions_65500x65500.jpg",
        with_size(good(6), 65500, 65500),
        "dimensions_too_large",
    );
    add("dimensions_zero.jpg", with_size(good(7), 0, 0), "corrupt");
    add(
        "huge_exif.jpg",
        with_segments(
            &good(8),
            0xE1,
            &[b"Exif\0\0".as_slice(), &[0u8; 65000]].concat(),
            80,
        ),
        "metadata_too_large",
    );
    let mut icc = b"ICC_PROFILE\0\x01\x50".to_vec();
    icc.extend([0x42u8; 65000]);
    add(
        "huge_icc.jpg",
        with_segments(&good(9), 0xE2, &icc, 80),
        "metadata_too_large",
    );
    add(
        "huge_comment.jpg",
        with_segments(&good(10), 0xFE, &[b'x'; 65000], 80),
        "metadata_too_large",
    );
    let mut tiff = consentcam_media::exif::build(&camera_exif("1", 1));
    tiff[4..8].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    add(
        "exif_offset_out_of_range.jpg",
        exif_segment(&plain(), &tiff),
        "exif_invalid",
    );
    let mut tiff = consentcam_media::exif::build(&camera_exif("2", 1));
    let n = usize::from(u16::from_le_bytes([tiff[8], tiff[9]]));
    let next = 8 + 2 + n * 12;
    tiff[next..next + 4].copy_from_slice(&8u32.to_le_bytes());
    add(
        "exif_loop.jpg",
        exif_segment(&plain(), &tiff),
        "exif_invalid",
    );
    let mut tiff = consentcam_media::exif::build(&camera_exif("3", 1));
    // The first entry (Make) claims two billion characters.
    tiff[8 + 2 + 4..8 + 2 + 8].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    add(
        "exif_value_out_of_range.jpg",
        exif_segment(&plain(), &tiff),
        "exif_invalid",
    );
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend(60_000u16.to_le_bytes());
    add(
        "exif_60000_entries.jpg",
        exif_segment(&plain(), &tiff),
        "exif_invalid",
    );
    add(
        "exif_not_tiff.jpg",
        exif_segment(&plain(), b"XXXXXXXXXXXX"),
        "exif_invalid",
    );
    // An APP1 after the first scan, where a segment-level scrubber stops looking.
    let g = good(11);
    let eoi = g.len() - 2;
    let mut after = g[..eoi].to_vec();
    after.extend([0xFF, 0xE1, 0x00, 0x10]);
    after.extend(b"Exif\0\0name=Sam");
    after.extend(&g[eoi..]);
    add("app1_after_sos.jpg", after, "segment_after_image_data");
    let mut tail = good(12);
    tail.extend(b"GPS 51.5N 0.1W; people: Sam Smith, year 9");
    add("data_after_eoi.jpg", tail, "data_after_end");
    let mut tail = good(13);
    tail.extend(b"\0\0\0\0ftypmp42 motion photo video follows");
    add("video_after_eoi.jpg", tail, "data_after_end");
    // Progressive with its last scan repeated far beyond any camera's count.
    let prog = photos::photo(
        160,
        120,
        14,
        &PhotoSpec {
            progressive: true,
            ..PhotoSpec::default()
        },
    );
    let last_scan = prog
        .windows(2)
        .rposition(|m| m == [0xFF, 0xDA])
        .expect("scan");
    let body = prog[last_scan..prog.len() - 2].to_vec();
    let mut many = prog[..prog.len() - 2].to_vec();
    for _ in 0..2000 {
        many.extend(&body);
    }
    many.extend([0xFF, 0xD9]);
    add("progressive_2000_scans.jpg", many, "too_many_scans");
    let cmyk: Vec<u8> = photos::pixels(64, 48, 15)
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 40])
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&cmyk, 64, 48, jpeg_encoder::ColorType::Cmyk)
        .expect("cmyk encode");
    add("cmyk.jpg", out, "cmyk");
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&cmyk, 64, 48, jpeg_encoder::ColorType::CmykAsYcck)
        .expect("ycck encode");
    add("ycck.jpg", out, "cmyk");
    let mut two = good(16);
    two.splice(2..2, [0xFF, 0xD8]);
    add("two_soi.jpg", two, "corrupt");
    add(
        "segment_length_one.jpg",
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xD9],
        "corrupt",
    );
    add(
        "segment_past_end.jpg",
        vec![0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, b'E', b'x'],
        "truncated",
    );
    let mut garbage = good(17);
    let second = 4 + usize::from(u16::from_be_bytes([garbage[4], garbage[5]]));
    garbage.splice(second..second, *b"garbage!");
    add("garbage_between_segments.jpg", garbage, "corrupt");
    let g = good(18);
    let sof = g.windows(2).position(|m| m == [0xFF, 0xC0]).expect("SOF");
    let len = usize::from(u16::from_be_bytes([g[sof + 2], g[sof + 3]]));
    let mut twice = g[..sof + 2 + len].to_vec();
    twice.extend(&g[sof..]);
    add("two_frame_headers.jpg", twice, "corrupt");
    let mut no_scan = vec![0xFF, 0xD8];
    no_scan.extend(&good(19)[2..scan_start(&good(19))]);
    no_scan.extend([0xFF, 0xD9]);
    add("no_image_data.jpg", no_scan, "corrupt");
    add(
        "header_only.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec(),
        "truncated",
    );
    // HEIC: the type box alone; cut short; 400 MP declared; a grid of 5,000 tiles; an
    // EXIF offset out of range; noise after a good start.
    add(
        "IMG_0001.HEIC",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
        "corrupt",
    );
    let heic = heic(160, 120, 41);
    add(
        "IMG_0004.HEIC",
        heic[..heic.len() - heic.len() / 3].to_vec(),
        "truncated",
    );
    add(
        "IMG_0005.HEIC",
        bmff::with_declared_size(&heic, 20_000, 20_000),
        "dimensions_too_large",
    );
    add(
        "IMG_0006.HEIC",
        bmff::as_grid_of(&heic, 5_000),
        "too_many_tiles",
    );
    add(
        "IMG_0007.HEIC",
        bmff::with_exif_offset(&heic, 0xFFFF_FF00),
        "exif_invalid",
    );
    let mut noisy = heic[..40].to_vec();
    noisy.extend((0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    add("IMG_0008.HEIC", noisy, "corrupt");
    // PNG: cut short; 100,000 x 100,000 declared; an EXIF offset out of range.
    let png = png_still(160, 120, 42);
    add(
        "Screenshot_1.png",
        png[..png.len() / 2].to_vec(),
        "truncated",
    );
    let mut huge_png = png.clone();
    huge_png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge_png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    add("Screenshot_2.png", huge_png, "dimensions_too_large");
    let mut bad_exif = exif::build(&camera_exif("PNG0003", 1));
    bad_exif[4..8].copy_from_slice(&0xFFFF_FF00u32.to_be_bytes());
    let w = 160;
    add(
        "Screenshot_3.png",
        png_of(&photos::pixels(w, 120, 43), w, 120, Some(&bad_exif)),
        "exif_invalid",
    );
    add(
        "IMG_0002.CR2",
        b"II*\0\x10\0\0\0CR\x02\0".to_vec(),
        "format_not_publishable",
    );
    add(
        "MVI_0003.MP4",
        b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec(),
        "format_not_publishable",
    );
    add(
        "too_big_to_analyse.jpg",
        [good(20), vec![0u8; 9 * 1024 * 1024]].concat(),
        "too_large_to_analyse",
    );
    // Suspicious names around otherwise good photos.
    add("..hidden.jpg", good(21), "suspicious_name");
    add("a..b.jpg", good(22), "suspicious_name");
    add("new\nline.jpg", good(23), "suspicious_name");
    add("bell\x07.jpg", good(24), "suspicious_name");
    add("esc\x1b[31mred.jpg", good(25), "suspicious_name");
    v
}

/// A HEIC with a camera's EXIF, as an iPad saves it.
fn heic(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let tiff = exif::build(&camera_exif("DMPXK0001", 1));
    consentcam_media::sample::heic_of(
        &photos::pixels(width, height, seed),
        width,
        height,
        Some(&tiff),
    )
    .expect("encodes")
}

/// A PNG with a camera's EXIF in its `eXIf` chunk.
fn png_still(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let tiff = exif::build(&camera_exif("PNG0001", 1));
    png_of(
        &photos::pixels(width, height, seed),
        width,
        height,
        Some(&tiff),
    )
}

fn good_files() -> Vec<(String, Vec<u8>)> {
    let spec = |orientation| PhotoSpec {
        exif: Some(camera_exif("083021001234", orientation)),
        ..PhotoSpec::default()
    };
    let mut padded = photos::photo(640, 480, 31, &spec(1));
    padded.extend([0u8; 512]);
    vec![
        ("IMG_1001.JPG".into(), photos::photo(640, 480, 30, &spec(1))),
        ("IMG_1010.HEIC".into(), heic(640, 480, 44)),
        ("Screenshot_10.png".into(), png_still(640, 480, 45)),
        ("IMG_1002.JPG".into(), photos::photo(480, 640, 32, &spec(6))),
        (
            "IMG_1003.JPG".into(),
            photos::photo(
                640,
                480,
                33,
                &PhotoSpec {
                    progressive: true,
                    ..spec(1)
                },
            ),
        ),
        (
            "IMG_1004.JPG".into(),
            photos::photo(
                640,
                480,
                34,
                &PhotoSpec {
                    grey: true,
                    ..spec(1)
                },
            ),
        ),
        (
            "IMG_1005.JPG".into(),
            photos::photo(
                1800,
                1200,
                35,
                &PhotoSpec {
                    embedded_preview: Some(1600),
                    ..spec(1)
                },
            ),
        ),
        ("IMG_1006.jpeg".into(), padded),
        (
            "no_exif.jpg".into(),
            photos::photo(320, 240, 36, &PhotoSpec::default()),
        ),
    ]
}

#[test]
fn hostile_files_are_kept_with_a_reason_and_never_stop_the_batch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let card = tmp.path().join("card");
    let dcim = card.join("DCIM").join("100CANON");
    std::fs::create_dir_all(&dcim).expect("card");
    let corpus = hostile();
    assert!(corpus.len() >= 40, "corpus has {} files", corpus.len());
    let mut expected: BTreeMap<String, &'static str> = BTreeMap::new();
    for (name, bytes, code) in &corpus {
        std::fs::write(dcim.join(name), bytes).expect("write hostile file");
        expected.insert(format!("DCIM/100CANON/{}", name.escape_default()), code);
    }
    let goods = good_files();
    for (name, bytes) in &goods {
        std::fs::write(dcim.join(name), bytes).expect("write good file");
    }
    // Entries the import must refuse without reading.
    std::os::unix::fs::symlink("/etc/passwd", dcim.join("outside.jpg")).expect("symlink");
    std::os::unix::fs::symlink("../../..", dcim.join("escape")).expect("symlink");
    expected.insert("DCIM/100CANON/outside.jpg".into(), "symlink_not_followed");
    expected.insert("DCIM/100CANON/escape".into(), "symlink_not_followed");
    let fifo = dcim.join("pipe.jpg");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        expected.insert("DCIM/100CANON/pipe.jpg".into(), "not_a_regular_file");
    }
    let bad_name = std::ffi::OsStr::from_bytes(b"bad\xff.jpg");
    std::fs::write(dcim.join(bad_name), good(40)).expect("write");
    expected.insert("DCIM/100CANON/bad\\xff.jpg".into(), "suspicious_name");
    let mut deep = card.clone();
    for i in 0..20 {
        deep = deep.join(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).expect("deep folders");
    std::fs::write(deep.join("deep.jpg"), good(41)).expect("write");

    let root = tmp.path().join("store");
    let store = Store::open(&root, Arc::new(OsStorage)).expect("store");
    let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
    let report = import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("a hostile card never stops the import");

    let options = AnalysisOptions {
        limits: Limits {
            max_file_bytes: 8 * 1024 * 1024,
            ..Limits::default()
        },
        ..AnalysisOptions::default()
    };
    let mut detector = FaceDetector::new().expect("face model");
    let mut seen_good = 0;
    let mut codes_by_file = BTreeMap::new();
    for file in &report.files {
        let mut codes: Vec<&str> = file.problems.iter().map(|p| p.code()).collect();
        let mut publishable = false;
        if let Some(hash) = file.hash {
            assert_ne!(file.outcome, Outcome::Refused, "{}", file.card_path);
            let a = analyse_stored(
                &store,
                &hash,
                &options,
                &consentcam_media::Decoders::in_process(),
                Some(&mut detector),
            );
            for p in &a.problems {
                assert!(!p.to_string().is_empty());
            }
            codes.extend(a.problems.iter().map(|p| p.code()));
            publishable = a.publishable() && file.problems.is_empty();
            let is_good = goods
                .iter()
                .any(|(n, _)| file.card_path.as_str().ends_with(&format!("/{n}")));
            if is_good {
                seen_good += 1;
                assert!(codes.is_empty(), "{}: {codes:?}", file.card_path);
                assert!(publishable, "{}", file.card_path);
                let thumb = a.thumbnail.as_ref().expect("thumbnail");
                let preview = a.preview.as_ref().expect("preview");
                assert!(thumb.width.max(thumb.height) <= 320);
                assert!(preview.width.max(preview.height) <= 1600);
                for r in [thumb, preview] {
                    // Nothing but JFIF: no EXIF, XMP, ICC or comments.
                    let segs = photos::segments_before_scan(&r.jpeg);
                    assert!(
                        segs.iter()
                            .all(|(m, _)| !(0xE1..=0xEF).contains(m) && *m != 0xFE),
                        "{}: rendition carries metadata",
                        file.card_path
                    );
                }
                assert!(a.exif.is_some() || file.card_path.as_str().ends_with("no_exif.jpg"));
            }
        } else {
            assert_eq!(file.outcome, Outcome::Refused);
        }
        if let Some(code) = expected.get(file.card_path.as_str()) {
            assert!(
                !publishable,
                "{} is hostile but publishable",
                file.card_path
            );
            assert!(
                codes.contains(code),
                "{}: expected {code}, got {codes:?}",
                file.card_path
            );
        }
        codes_by_file.insert(file.card_path.as_str().to_owned(), codes);
    }
    assert_eq!(seen_good, goods.len());
    for name in expected.keys() {
        assert!(
            codes_by_file.contains_key(name),
            "{name} missing from the report"
        );
    }
    let deep_entry = codes_by_file
        .iter()
        .find(|(k, _)| k.contains("d15"))
        .expect("deep entry reported");
    assert_eq!(deep_entry.1, &vec!["unreadable"]);
    println!(
        "{}",
        serde_json::to_string_pretty(&codes_by_file).expect("json")
    );
}

#[test]
fn the_camera_preview_is_used_when_it_is_large_enough() {
    let bytes = photos::photo(
        2400,
        1600,
        50,
        &PhotoSpec {
            embedded_preview: Some(1600),
            ..PhotoSpec::default()
        },
    );
    let a = consentcam_media::analyse_bytes(
        &bytes,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(
        a.preview_source,
        Some(consentcam_media::PreviewSource::Embedded)
    );
    assert!(a.problems.is_empty(), "{:?}", a.problems);
    let small = photos::photo(
        2400,
        1600,
        51,
        &PhotoSpec {
            embedded_preview: Some(800),
            ..PhotoSpec::default()
        },
    );
    let a = consentcam_media::analyse_bytes(
        &small,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(
        a.preview_source,
        Some(consentcam_media::PreviewSource::ScaledDecode)
    );
    assert_eq!(a.preview.map(|p| p.width), Some(1600));
}

#[test]
fn orientation_is_applied_to_the_renditions() {
    let bytes = photos::photo(
        640,
        480,
        52,
        &PhotoSpec {
            exif: Some(camera_exif("1", 6)),
            ..PhotoSpec::default()
        },
    );
    let a = consentcam_media::analyse_bytes(
        &bytes,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    let t = a.thumbnail.expect("thumbnail");
    assert_eq!((t.width, t.height), (240, 320));
}

#[test]
fn a_hostile_size_is_refused_before_any_decoding() {
    let bytes = with_size(good(60), 65500, 65500);
    let a = consentcam_media::analyse_bytes(
        &bytes,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert!(a.thumbnail.is_none() && a.preview.is_none());
    assert!(!a.publishable());
}

#[test]
fn random_damage_to_a_photo_never_panics_and_never_passes_silently() {
    let original = photos::photo(
        160,
        120,
        70,
        &PhotoSpec {
            exif: Some(camera_exif("083021001234", 1)),
            embedded_preview: Some(96),
            ..PhotoSpec::default()
        },
    );
    let mut rng = common::Rng::new(0x5EED);
    let options = AnalysisOptions::default();
    for round in 0..300 {
        let mut bytes = original.clone();
        for _ in 0..rng.range(1, 6) {
            let at = rng.range(0, bytes.len() as u64) as usize;
            match rng.range(0, 4) {
                0 => bytes[at] ^= 1 << rng.range(0, 8),
                1 => bytes[at] = 0xFF,
                2 => bytes.truncate(at.max(1)),
                _ => bytes.insert(at, rng.range(0, 256) as u8),
            }
        }
        let a = consentcam_media::analyse_bytes(
            &bytes,
            &options,
            &consentcam_media::Decoders::in_process(),
            None,
        );
        // Either the damage left a clean, renderable photo or it was named.
        assert!(
            !a.problems.is_empty() || (a.thumbnail.is_some() && a.preview.is_some()),
            "round {round}: no problem and no rendition"
        );
        assert!(a.problems.is_empty() == a.publishable(), "round {round}");
    }
}

#[test]
fn a_camera_preview_of_another_picture_is_not_trusted_and_is_named() {
    let (w, h) = (2400, 1600);
    let main = photos::pixels(w, h, 53);
    // The same scene turned upside down: the same colours, another layout.
    let other: Vec<u8> = main.chunks_exact(3).rev().flatten().copied().collect();
    let spec = PhotoSpec {
        embedded_preview: Some(1600),
        ..PhotoSpec::default()
    };
    let crafted = photos::photo_with_preview_of(&main, &other, w, h, &spec);
    let a = consentcam_media::analyse_bytes(
        &crafted,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(
        a.preview_source,
        Some(consentcam_media::PreviewSource::ScaledDecode)
    );
    assert!(
        a.problems.iter().any(|p| p.code() == "preview_mismatch"),
        "{:?}",
        a.problems
    );
    assert!(!a.publishable());
    // The preview people tag on shows the photo itself: dark red at its left edge, where
    // the crafted preview is bright.
    let preview = a.preview.expect("a preview from the photo itself");
    let mut decoder = jpeg_decoder::Decoder::new(preview.jpeg.as_slice());
    let pixels = decoder.decode().expect("the preview decodes");
    let width = preview.width as usize;
    let left_red: u32 = (0..100)
        .map(|y| u32::from(pixels[(y * width + 5) * 3]))
        .sum::<u32>()
        / 100;
    assert!(left_red < 60, "left edge red {left_red}");

    // The honest file with the same preview size is trusted as before.
    let honest = photos::photo_with_preview_of(&main, &main, w, h, &spec);
    let a = consentcam_media::analyse_bytes(
        &honest,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(
        a.preview_source,
        Some(consentcam_media::PreviewSource::Embedded)
    );
    assert!(a.problems.is_empty(), "{:?}", a.problems);
}
