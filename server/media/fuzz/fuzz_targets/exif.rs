//! Fuzz target: the EXIF reader on any bytes either refuses them or returns a summary
//! within its limits, the same summary every time, and never panics or loops.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The media crate's EXIF reader, the same source file (it uses nothing else of the crate).
#[path = "../../src/exif.rs"]
#[allow(dead_code)]
mod exif;

/// The reader keeps at most this much of any text field.
const MAX_TEXT: usize = 256;

fuzz_target!(|data: &[u8]| {
    let first = exif::parse(data);
    let second = exif::parse(data);
    assert_eq!(
        first.is_ok(),
        second.is_ok(),
        "the reader is not deterministic"
    );
    if let (Ok(summary), Ok(again)) = (first, second) {
        assert_eq!(summary, again, "the reader is not deterministic");
        for text in [&summary.make, &summary.model, &summary.body_serial]
            .into_iter()
            .flatten()
        {
            assert!(
                text.len() <= MAX_TEXT,
                "a text field exceeds the limit: {} bytes",
                text.len()
            );
            assert!(!text.contains('\0'), "a text field keeps its terminator");
        }
    }
});
