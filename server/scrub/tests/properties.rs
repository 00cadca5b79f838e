//! Property tests: metadata segments of any kind, inserted at any place a file can
//! hold them (after SOI, among the tables, before the scan, between scans, after EOI),
//! never survive, and the image data never changes.

mod support;

use consentcam_scrub::{ScrubError, check_clean, scrub};
use proptest::prelude::*;
use support::*;

/// Where a segment goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    AfterSoi,
    AfterTable(usize),
    BeforeFirstScan,
    AfterFirstScan,
    AfterEoi,
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::AfterSoi),
        (0usize..8).prop_map(Place::AfterTable),
        Just(Place::BeforeFirstScan),
        Just(Place::AfterFirstScan),
        Just(Place::AfterEoi),
    ]
}

/// A metadata segment: APP0-APP15 or COM, with a signature real files use and a name.
fn metadata_segment() -> impl Strategy<Value = Vec<u8>> {
    let signatures: Vec<&'static [u8]> = vec![
        b"Exif\0\0",
        b"http://ns.adobe.com/xap/1.0/\0",
        b"http://ns.adobe.com/xmp/extension/\0",
        b"Photoshop 3.0\0",
        b"ICC_PROFILE\0\x01\x01",
        b"MPF\0",
        b"JFXX\0\x10",
        b"Ducky\0",
        b"",
    ];
    (
        prop_oneof![0xE0u8..=0xEF, Just(0xFE)],
        prop::sample::select(signatures),
        0usize..16,
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(marker, signature, who, noise)| {
            let mut payload = signature.to_vec();
            payload.extend(name(who).as_bytes());
            // Noise without 0xFF keeps a trailer from forging a marker of its own.
            payload.extend(noise.into_iter().map(|b| b & 0x7F));
            segment(marker, &payload)
        })
}

fn insert(mut bytes: Vec<u8>, place: Place, seg: &[u8]) -> Vec<u8> {
    let segs = header_segments(&bytes);
    let at = match place {
        Place::AfterSoi => 2,
        Place::AfterTable(i) => segs.get(i % segs.len().max(1)).map_or(2, |s| s.end),
        Place::BeforeFirstScan => first_sos(&bytes),
        Place::AfterFirstScan => {
            let sos = first_sos(&bytes);
            bytes[sos + 2..]
                .windows(2)
                .position(|w| w == [0xFF, 0xDA])
                .map_or(eoi_end(&bytes) - 2, |p| sos + 2 + p)
        }
        Place::AfterEoi => bytes.len(),
    };
    bytes.splice(at..at, seg.iter().copied());
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn inserted_metadata_never_survives_and_image_data_never_changes(
        base in 0usize..8,
        inserts in prop::collection::vec((place(), metadata_segment()), 1..8),
    ) {
        let bases = bases();
        let original = &bases[base];
        let mut bytes = original.clone();
        for (place, seg) in &inserts {
            bytes = insert(bytes, *place, seg);
        }
        // An EXIF or ICC segment with noise may be refused (unreadable orientation,
        // damaged profile): refusing is allowed, passing it through is not.
        match scrub(&bytes) {
            Ok(clean) => {
                prop_assert!(check_clean(&clean.jpeg).is_ok());
                prop_assert_eq!(find_token_in_bytes(&clean.jpeg), None);
                let out = &clean.jpeg;
                prop_assert_eq!(
                    &out[first_sos(out)..],
                    &original[first_sos(original)..eoi_end(original)]
                );
            }
            Err(e) => prop_assert!(
                matches!(
                    e,
                    ScrubError::UnreadableOrientation { .. } | ScrubError::BadColourProfile { .. }
                ),
                "refused for an unexpected reason: {}",
                e
            ),
        }
    }
}

fn bases() -> &'static [Vec<u8>] {
    static BASES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    BASES.get_or_init(base_images)
}
