//! `verify_image_data`: sequential scans must hold their blocks and nothing more.

mod support;

use consentcam_scrub::{ImageDataCheck, ScrubError, scrub, verify_image_data};
use support::*;

/// Base pictures 1, 5 and 6 are progressive; the others sequential.
const PROGRESSIVE: [usize; 3] = [1, 5, 6];

#[test]
fn sequential_pictures_verify_and_progressive_ones_say_so() {
    for (i, base) in base_images().iter().enumerate() {
        let clean = scrub(base).expect("accepted").jpeg;
        let expected = if PROGRESSIVE.contains(&i) {
            ImageDataCheck::ProgressiveNotWalked
        } else {
            ImageDataCheck::Verified
        };
        assert_eq!(verify_image_data(&clean), Ok(expected), "base {i}");
    }
}

#[test]
fn bytes_hidden_before_end_of_image_are_found() {
    for i in [0usize, 2, 3, 4, 7] {
        let mut bytes = base_images().swap_remove(i);
        let eoi = eoi_end(&bytes) - 2;
        bytes.splice(eoi..eoi, name(i).into_bytes());
        // The structure is sound, so the lossless scrub passes it...
        let clean = scrub(&bytes).expect("structure is sound").jpeg;
        // ...but the image data walk does not.
        let err = verify_image_data(&clean).expect_err("hidden bytes found");
        assert!(
            matches!(err, ScrubError::ImageDataNotClean { .. }),
            "base {i}: {err}"
        );
    }
}

#[test]
fn bytes_hidden_before_a_restart_marker_are_found() {
    let mut bytes = base_images().swap_remove(3); // restart interval 2
    let sos = first_sos(&bytes);
    let rst = sos
        + bytes[sos..]
            .windows(2)
            .position(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1]))
            .expect("a restart marker");
    bytes.splice(rst..rst, *b"Quackenbush");
    let clean = scrub(&bytes).expect("structure is sound").jpeg;
    assert!(matches!(
        verify_image_data(&clean),
        Err(ScrubError::ImageDataNotClean { .. })
    ));
}

#[test]
fn a_scan_cut_short_is_found() {
    let mut bytes = base_images().swap_remove(0);
    let eoi = eoi_end(&bytes) - 2;
    let cut = (first_sos(&bytes) + eoi) / 2;
    bytes.drain(cut..eoi);
    let clean = scrub(&bytes).expect("structure is sound").jpeg;
    assert!(verify_image_data(&clean).is_err());
}
