//! What the scrubber cannot prove clean, it refuses. Each test damages a valid file in
//! one way and expects a refusal of the right kind, never a pass-through or a panic.

mod support;

use consentcam_scrub::{ScrubError, scrub};
use support::*;

fn valid() -> Vec<u8> {
    base_images().swap_remove(0)
}

fn with_segment_after_soi(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = valid();
    bytes.splice(2..2, segment(marker, payload));
    bytes
}

#[test]
fn accepts_the_undamaged_base_pictures() {
    for (i, base) in base_images().iter().enumerate() {
        assert!(scrub(base).is_ok(), "base {i} refused");
    }
}

#[test]
fn refuses_a_file_cut_short_inside_the_image_data() {
    let bytes = valid();
    let cut = &bytes[..bytes.len() - 100];
    assert!(matches!(scrub(cut), Err(ScrubError::Truncated { .. })));
}

#[test]
fn refuses_a_file_without_end_of_image() {
    let bytes = valid();
    let cut = &bytes[..bytes.len() - 2];
    assert!(matches!(scrub(cut), Err(ScrubError::Truncated { .. })));
}

#[test]
fn refuses_a_segment_longer_than_the_file() {
    let mut bytes = valid();
    let cut = first_sos(&bytes) - 10;
    bytes.truncate(cut);
    assert!(matches!(scrub(&bytes), Err(ScrubError::Truncated { .. })));
}

#[test]
fn refuses_a_segment_length_below_two() {
    let mut bytes = valid();
    bytes.splice(2..2, [0xFF, 0xE5, 0x00, 0x01]);
    assert!(matches!(scrub(&bytes), Err(ScrubError::Malformed { .. })));
}

#[test]
fn refuses_garbage_between_segments() {
    let mut bytes = valid();
    bytes.splice(2..2, *b"Quackenbush");
    assert!(matches!(scrub(&bytes), Err(ScrubError::Malformed { .. })));
}

#[test]
fn refuses_unknown_and_reserved_markers() {
    for marker in [0x02u8, 0x4A, 0xBF, 0xF0, 0xFD, 0x01] {
        let bytes = with_segment_after_soi(marker, b"Quackenbush");
        assert!(
            matches!(scrub(&bytes), Err(ScrubError::UnknownMarker { .. })),
            "marker 0x{marker:02X}"
        );
    }
}

#[test]
fn refuses_coding_processes_it_does_not_support() {
    // Turn the baseline frame header into lossless, arithmetic, hierarchical.
    for marker in [0xC3u8, 0xC5, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF] {
        let mut bytes = valid();
        let sof = header_segments(&bytes)
            .iter()
            .find(|s| s.marker == 0xC0)
            .expect("baseline frame")
            .start;
        bytes[sof + 1] = marker;
        assert!(
            matches!(scrub(&bytes), Err(ScrubError::UnsupportedCoding { .. })),
            "marker 0x{marker:02X}"
        );
    }
}

#[test]
fn refuses_arithmetic_tables_dnl_and_a_second_frame() {
    let dac = with_segment_after_soi(0xCC, &[0x00, 0x10]);
    assert!(matches!(
        scrub(&dac),
        Err(ScrubError::UnsupportedCoding { .. })
    ));
    let dnl = with_segment_after_soi(0xDC, &[0x00, 0x10]);
    assert!(matches!(
        scrub(&dnl),
        Err(ScrubError::UnsupportedCoding { .. })
    ));

    let mut two_frames = valid();
    let sof = *header_segments(&two_frames)
        .iter()
        .find(|s| s.marker == 0xC0)
        .expect("frame");
    let copy = two_frames[sof.start..sof.end].to_vec();
    two_frames.splice(sof.end..sof.end, copy);
    assert!(matches!(
        scrub(&two_frames),
        Err(ScrubError::UnsupportedCoding { .. })
    ));
}

#[test]
fn refuses_a_frame_header_whose_length_hides_bytes() {
    let mut bytes = valid();
    let sof = *header_segments(&bytes)
        .iter()
        .find(|s| s.marker == 0xC0)
        .expect("frame");
    let len = u16::from_be_bytes([bytes[sof.start + 2], bytes[sof.start + 3]]) + 5;
    bytes[sof.start + 2..sof.start + 4].copy_from_slice(&len.to_be_bytes());
    bytes.splice(sof.end..sof.end, *b"Quack");
    assert!(matches!(scrub(&bytes), Err(ScrubError::Malformed { .. })));
}

#[test]
fn refuses_a_restart_marker_outside_image_data() {
    let mut bytes = valid();
    bytes.splice(2..2, [0xFF, 0xD3]);
    assert!(matches!(scrub(&bytes), Err(ScrubError::Malformed { .. })));
}

#[test]
fn refuses_a_colour_profile_with_a_missing_chunk() {
    let chunks = icc_chunks(&icc_profile(&name(0)), 3);
    let mut bytes = valid();
    for chunk in chunks.iter().take(2) {
        bytes.splice(2..2, segment(0xE2, chunk));
    }
    assert!(matches!(
        scrub(&bytes),
        Err(ScrubError::BadColourProfile { .. })
    ));
}

#[test]
fn refuses_a_colour_profile_that_is_not_one() {
    let mut profile = icc_profile(&name(0));
    profile[36..40].copy_from_slice(b"xxxx");
    let bytes = with_segment_after_soi(0xE2, &icc_chunks(&profile, 1)[0]);
    assert!(matches!(
        scrub(&bytes),
        Err(ScrubError::BadColourProfile { .. })
    ));
}

#[test]
fn refuses_exif_too_damaged_to_read_the_orientation() {
    let mut exif = exif_block(6, &name(1), b"");
    // IFD0 offset far past the block.
    exif[10..14].copy_from_slice(&0x00FF_0000u32.to_be_bytes());
    let bytes = with_segment_after_soi(0xE1, &exif);
    assert!(matches!(
        scrub(&bytes),
        Err(ScrubError::UnreadableOrientation { .. })
    ));
}

#[test]
fn refuses_an_adobe_segment_with_an_unknown_transform() {
    let bytes = with_segment_after_soi(0xEE, b"Adobe\0\x64\0\0\0\0\x07");
    assert!(matches!(
        scrub(&bytes),
        Err(ScrubError::BadAdobeSegment { .. })
    ));
}

#[test]
fn refuses_files_that_are_not_jpeg() {
    assert_eq!(scrub(b""), Err(ScrubError::NotJpeg));
    assert_eq!(scrub(b"\x89PNG\r\n\x1a\n"), Err(ScrubError::NotJpeg));
    assert_eq!(scrub(b"Quackenbush"), Err(ScrubError::NotJpeg));
}

#[test]
fn error_messages_tell_the_operator_something_and_quote_nothing_from_the_file() {
    let damaged = [
        with_segment_after_soi(0x4A, name(0).as_bytes()),
        with_segment_after_soi(0xEE, b"Adobe\0\x64\0\0\0\0\x07"),
        {
            let mut exif = exif_block(6, &name(1), b"");
            exif[10..14].copy_from_slice(&0x00FF_0000u32.to_be_bytes());
            with_segment_after_soi(0xE1, &exif)
        },
        {
            let mut b = valid();
            b.splice(2..2, name(2).into_bytes());
            b
        },
    ];
    for bytes in damaged {
        let message = scrub(&bytes).expect_err("refused").to_string();
        assert!(message.len() > 30, "terse message: {message}");
        assert_eq!(
            find_token(&message),
            None,
            "message quotes the file: {message}"
        );
    }
}
