//! Fuzz target: whatever the input, the scrubber either refuses it with an error or
//! returns a file in which no disallowed segment or tag survives.
//!
//! The property is checked here with a walk of the output's header written for this
//! target (a third opinion beside the scrubber's reader and its `check_clean`), plus
//! `check_clean` itself and idempotence.
#![no_main]

use consentcam_scrub::{ScrubError, check_clean, scrub};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match scrub(data) {
        Err(ScrubError::SelfCheck { what }) => {
            panic!("the scrubber produced an output its own check refused: {what}")
        }
        Err(_) => {}
        Ok(clean) => {
            let out = &clean.jpeg;
            assert_header_is_allow_listed(out);
            if let Err(e) = check_clean(out) {
                panic!("output fails the allow-list check: {e}");
            }
            // The image-data walk must refuse or accept, never panic or hang.
            let _ = consentcam_scrub::verify_image_data(out);
            match scrub(out) {
                Ok(again) => assert!(again.jpeg == *out, "scrubbing twice changed the output"),
                Err(e) => panic!("the scrubber refused its own output: {e}"),
            }
        }
    }
});

/// Every segment before the first scan is an image table or one of the four fresh
/// metadata forms; after it only tables and scans; nothing follows EOI.
fn assert_header_is_allow_listed(out: &[u8]) {
    assert!(out.starts_with(&[0xFF, 0xD8]), "no SOI");
    let mut pos = 2;
    let mut in_header = true;
    loop {
        assert!(pos + 2 <= out.len(), "runs off the end");
        assert_eq!(out[pos], 0xFF, "no marker where one must be");
        let marker = out[pos + 1];
        if marker == 0xD9 {
            assert!(!in_header, "no image data");
            assert_eq!(pos + 2, out.len(), "bytes after EOI");
            return;
        }
        assert!(pos + 4 <= out.len(), "length runs off the end");
        let len = usize::from(u16::from_be_bytes([out[pos + 2], out[pos + 3]]));
        assert!(len >= 2 && pos + 2 + len <= out.len(), "bad length");
        let payload = &out[pos + 4..pos + 2 + len];
        pos += 2 + len;
        match marker {
            0xDA => {
                in_header = false;
                // Entropy-coded data: 0xFF is followed by 0x00 or a restart marker.
                while !(out[pos] == 0xFF && !matches!(out[pos + 1], 0x00 | 0xD0..=0xD7)) {
                    pos += if out[pos] == 0xFF { 2 } else { 1 };
                }
            }
            0xC4 | 0xDB | 0xDD => {}
            0xC0..=0xC2 if in_header => {}
            0xE0 if in_header => assert!(
                payload.len() == 14 && payload.starts_with(b"JFIF\0") && payload[12..] == [0, 0],
                "APP0 is not a bare JFIF header"
            ),
            0xE1 if in_header => assert!(
                payload.len() == 32
                    && payload
                        .starts_with(b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0")
                    && payload[26..] == [0; 6],
                "APP1 is not the one-tag orientation EXIF"
            ),
            0xE2 if in_header => assert!(
                payload.starts_with(b"ICC_PROFILE\0"),
                "APP2 is not a colour profile"
            ),
            0xEE if in_header => assert!(
                payload.len() == 12 && payload.starts_with(b"Adobe\0\x64\0\0\0\0"),
                "APP14 is not a bare Adobe segment"
            ),
            m => panic!("segment 0x{m:02X} survived"),
        }
    }
}
