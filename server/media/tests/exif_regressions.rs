//! Inputs the EXIF reader's fuzz target once failed on, kept as tests.

use consentcam_media::exif;

/// The longest text the reader may return, in bytes.
const MAX_TEXT: usize = 256;

#[test]
fn undecodable_text_is_capped_after_decoding_not_only_before() {
    // Make holds 0xFF bytes: each decodes to a three-byte replacement character.
    let input = include_bytes!("regressions/exif-wide-replacement-text.bin");
    let summary = exif::parse(input).expect("the block itself is well formed");
    let make = summary.make.expect("a make is read");
    assert!(make.len() <= MAX_TEXT, "{} bytes", make.len());
    assert!(make.starts_with("Cano"));
}
