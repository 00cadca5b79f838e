//! Videos are never published, but what a phone's or camera's video says about itself is
//! read for provenance (time, make, model, a position) and its first key frame becomes the
//! picture staff see. Every file is made here: OpenH264's encoder and an MP4 writer, the
//! device's metadata written by exiftool (an independent tool, as a phone would), hostile
//! ones by editing bytes. None stops the analysis or panics.

mod common;

use std::path::Path;

use common::photos::{self, difference, exiftool_writes};
use consentcam_media::sample::mp4_of;
use consentcam_media::{AnalysisOptions, MediaKind, PreviewSource, Problem, analyse_file};

const W: u32 = 320;
const H: u32 = 240;

/// The test pattern as a short MP4 (5 frames).
fn video() -> Vec<u8> {
    mp4_of(&photos::pixels(W, H, 3), W, H, 5).expect("encodes")
}

/// What an iPad writes into a video it records: Apple's keys for the make, model, the
/// creation date with the local offset, and a position.
fn with_ipad_metadata(path: &Path) {
    exiftool_writes(
        path,
        &[
            "-Keys:Make=Apple",
            "-Keys:Model=iPad (9th generation)",
            "-Keys:CreationDate=2026:11:20 10:15:00+01:00",
            "-Keys:GPSCoordinates=51.5, -0.12",
        ],
    );
}

/// The position of `kind` inside the file's `moov` (after `after`, if given).
fn find(file: &[u8], kind: &[u8; 4], after: Option<&[u8; 4]>) -> usize {
    let moov = file.windows(4).position(|w| w == b"moov").expect("moov");
    let from = after.map_or(moov, |a| {
        moov + file[moov..]
            .windows(4)
            .position(|w| w == a)
            .expect("parent")
    });
    from + file[from..]
        .windows(4)
        .position(|w| w == kind)
        .expect("the box")
}

fn put_u32(file: &mut [u8], at: usize, value: u32) {
    file[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn analyse(file: &[u8], dir: &Path, name: &str) -> consentcam_media::Analysis {
    let path = dir.join(name);
    std::fs::write(&path, file).unwrap();
    analyse_file(
        &path,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    )
}

#[test]
fn an_ipads_video_gives_its_device_time_and_a_poster_and_is_never_publishable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("IMG_0042.MOV");
    std::fs::write(&path, video()).unwrap();
    with_ipad_metadata(&path);

    let a = analyse_file(
        &path,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(a.kind, MediaKind::Video);
    assert_eq!(
        a.problems,
        [Problem::FormatNotPublishable {
            kind: MediaKind::Video
        }]
    );
    assert!(!a.publishable());
    assert_eq!((a.width, a.height), (Some(W), Some(H)));
    let facts = a.exif.as_ref().expect("the container's metadata");
    assert_eq!(facts.make.as_deref(), Some("Apple"));
    assert_eq!(facts.model.as_deref(), Some("iPad (9th generation)"));
    assert_eq!(
        facts.taken_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-20T10:15:00"),
        "the local time as recorded"
    );
    assert_eq!(facts.utc_offset_seconds, Some(3600));
    assert!(facts.gps_present, "the position is noticed");
    assert_eq!(facts.body_serial, None, "phones write no serial");
    assert_eq!(facts.orientation, Some(1));

    assert_eq!(a.preview_source, Some(PreviewSource::VideoFrame));
    let preview = a
        .preview
        .as_ref()
        .expect("the first key frame as the preview");
    assert_eq!((preview.width, preview.height), (W, H));
    let thumb = a.thumbnail.as_ref().expect("a thumbnail");
    assert_eq!(thumb.width, W.min(320));
    // The poster is the first frame: the test pattern as encoded, within H.264's loss
    // (JPEG's on top). A frame of anything else is far off.
    let shown = jpeg_decoder::Decoder::new(&preview.jpeg[..])
        .decode()
        .expect("a JPEG");
    let first = photos::pixels(W, H, 3);
    let d = difference(&shown, &first);
    assert!(d < 10.0, "the poster shows the video's first frame ({d})");
    let upside_down: Vec<u8> = first
        .chunks(W as usize * 3)
        .rev()
        .flatten()
        .copied()
        .collect();
    let other = difference(&shown, &upside_down);
    assert!(other > 3.0 * d, "and not any picture ({other} vs {d})");
    assert!(a.faces.is_none(), "faces are not looked for in a video");
}

#[test]
fn a_video_without_metadata_still_has_its_poster_and_no_invented_time() {
    let dir = tempfile::tempdir().unwrap();
    // The MP4 writer leaves the movie's creation time at zero (1904): a clock never set.
    let a = analyse(&video(), dir.path(), "clip.mp4");
    assert!(a.preview.is_some());
    let facts = a.exif.as_ref().expect("the turn at least");
    assert_eq!(facts.taken_at, None, "1904 is no time");
    assert_eq!(facts.make, None);
    assert!(!facts.gps_present);
}

#[test]
fn a_portrait_video_is_shown_upright_by_its_tracks_turn() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = video();
    // tkhd (version 0): the matrix starts 40 bytes into its body, after the box header.
    let matrix = find(&file, b"tkhd", None) + 4 + 40;
    let one = 0x1_0000u32;
    put_u32(&mut file, matrix, 0);
    put_u32(&mut file, matrix + 4, one);
    put_u32(&mut file, matrix + 12, one.wrapping_neg());
    put_u32(&mut file, matrix + 16, 0);
    let a = analyse(&file, dir.path(), "portrait.mp4");
    assert_eq!(a.exif.as_ref().and_then(|e| e.orientation), Some(6));
    assert_eq!((a.width, a.height), (Some(W), Some(H)), "as coded");
    let preview = a.preview.as_ref().expect("a poster");
    assert_eq!(
        (preview.width, preview.height),
        (H, W),
        "turned a quarter to show upright"
    );
}

#[test]
fn a_video_of_a_codec_not_decoded_here_keeps_its_metadata_and_has_no_poster() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = video();
    // The sample entry renamed: HEVC as iPhones record it by default.
    let entry = find(&file, b"avc1", Some(b"stsd"));
    file[entry..entry + 4].copy_from_slice(b"hvc1");
    let path = dir.path().join("IMG_0043.MOV");
    std::fs::write(&path, &file).unwrap();
    with_ipad_metadata(&path);
    let a = analyse_file(
        &path,
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(a.kind, MediaKind::Video);
    assert!(a.preview.is_none() && a.thumbnail.is_none());
    let facts = a.exif.as_ref().expect("the metadata still");
    assert_eq!(facts.model.as_deref(), Some("iPad (9th generation)"));
    assert!(facts.taken_at.is_some());
    assert_eq!(
        a.problems,
        [Problem::FormatNotPublishable {
            kind: MediaKind::Video
        }]
    );
}

#[test]
fn a_video_larger_than_the_file_cap_is_read_by_seeking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.mp4");
    std::fs::write(&path, video()).unwrap();
    let mut options = AnalysisOptions::default();
    options.limits.max_file_bytes = 1024;
    let a = analyse_file(
        &path,
        &options,
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert!(std::fs::metadata(&path).unwrap().len() > 1024);
    assert!(
        a.preview.is_some(),
        "only the index and one frame are read: {:?}",
        a.problems
    );
    assert!(
        !a.problems
            .iter()
            .any(|p| matches!(p, Problem::TooLargeToAnalyse { .. }))
    );
}

#[test]
fn broken_and_hostile_videos_end_without_a_poster_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = video();
    let moov = good.windows(4).position(|w| w == b"moov").unwrap() - 4;
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("no index (cut before moov)", good[..moov].to_vec()));
    cases.push(("index cut short", good[..good.len() - 40].to_vec()));
    let mut huge_index = good.clone();
    put_u32(&mut huge_index, moov, 0xFFFF_FFF0);
    cases.push(("index declared 4 GB", huge_index));
    let mut huge_frame = good.clone();
    // stsz: version and flags, the common size (0), the count, then each sample's size.
    let sizes = find(&huge_frame, b"stsz", None) + 4 + 12;
    put_u32(&mut huge_frame, sizes, 0x7FFF_FFFF);
    cases.push(("key frame declared 2 GB", huge_frame));
    let mut past_end = good.clone();
    let offsets = find(&past_end, b"stco", None) + 4 + 8;
    put_u32(&mut past_end, offsets, 0x7FFF_0000);
    cases.push(("key frame past the end", past_end));
    let mut noise = good.clone();
    // The writer leaves an 8-byte `wide` box at the start of `mdat`; the first sample
    // follows it.
    let first_sample = noise.windows(4).position(|w| w == b"mdat").unwrap() + 4 + 8;
    // The first NAL unit's length kept, its content noise.
    for (i, b) in noise[first_sample + 4..first_sample + 400]
        .iter_mut()
        .enumerate()
    {
        *b = (i * 131 % 251) as u8;
    }
    cases.push(("key frame of noise", noise));
    let mut bad_length = good.clone();
    put_u32(&mut bad_length, first_sample, 0x00FF_FFFF);
    cases.push(("a NAL unit longer than its sample", bad_length));
    let mut tiny_box = good.clone();
    let stbl = find(&tiny_box, b"stbl", None) - 4;
    put_u32(&mut tiny_box, stbl, 3);
    cases.push(("a box smaller than its header", tiny_box));

    for (name, file) in cases {
        let a = analyse(&file, dir.path(), "hostile.mp4");
        assert_eq!(a.kind, MediaKind::Video, "{name}");
        assert!(!a.publishable(), "{name}");
        assert!(
            a.problems.contains(&Problem::FormatNotPublishable {
                kind: MediaKind::Video
            }),
            "{name}: {:?}",
            a.problems
        );
        if name != "key frame of noise" {
            assert!(a.preview.is_none(), "{name}: no poster from a broken file");
        }
    }
}
