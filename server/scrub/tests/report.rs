//! The report for the publication register: what was removed, what was written back.

mod support;

use consentcam_scrub::{MetadataKind, scrub};
use support::*;

#[test]
fn lists_each_removed_segment_by_kind_and_place() {
    let mut bytes = base_images().swap_remove(1); // progressive: has a second scan
    let mut header = segment(0xE1, &exif_block(3, &name(0), b""));
    header.extend(segment(0xE1, &xmp_packet(&name(1))));
    header.extend(segment(0xFE, name(2).as_bytes()));
    header.extend(segment(0xE2, &icc_chunks(&icc_profile(&name(3)), 2)[0]));
    header.extend(segment(0xE2, &icc_chunks(&icc_profile(&name(3)), 2)[1]));
    bytes.splice(2..2, header);
    let sos = first_sos(&bytes);
    let second = sos
        + 2
        + bytes[sos + 2..]
            .windows(2)
            .position(|w| w == [0xFF, 0xDA])
            .expect("second scan");
    bytes.splice(second..second, segment(0xEB, b"JP\0\0c2pa"));
    bytes.extend(b"trailing preview");

    let report = scrub(&bytes).expect("accepted").report;
    assert_eq!(report.removed_count(MetadataKind::Exif), 1);
    assert_eq!(report.removed_count(MetadataKind::Xmp), 1);
    assert_eq!(report.removed_count(MetadataKind::Comment), 1);
    assert_eq!(report.removed_count(MetadataKind::IccProfile), 2);
    assert_eq!(report.removed_count(MetadataKind::OtherApplication), 1);
    let after: Vec<_> = report
        .removed
        .iter()
        .filter(|r| r.after_image_data)
        .collect();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].marker, 0xEB);
    assert_eq!(report.trailing_bytes_cut, b"trailing preview".len());
    assert_eq!(report.kept.orientation.map(|o| o.value()), Some(3));
    assert!(report.kept.colour_profile_bytes.is_some());
    assert_eq!(report.kept.colour_profile_tags_dropped, 4);
    assert!(!report.reencoded);
}

#[test]
fn keeps_jfif_density_without_its_thumbnail() {
    let mut bytes = base_images().swap_remove(7); // written by `image`: has JFIF
    let mut jfif = b"JFIF\0\x01\x02\x01\x01\x2C\x01\x2C\x01\x01".to_vec();
    jfif.extend([0x55, 0x66, 0x77]);
    bytes.splice(2..2, segment(0xE0, &jfif));
    let out = scrub(&bytes).expect("accepted");
    assert!(out.report.kept.jfif);
    // The first JFIF header wins: 300 dpi, thumbnail 0x0.
    assert_eq!(
        &out.jpeg[2..20],
        b"\xFF\xE0\x00\x10JFIF\0\x01\x02\x01\x01\x2C\x01\x2C\x00\x00"
    );
}

#[test]
fn keeps_the_adobe_transform_of_cmyk_and_ycck_files() {
    let bases = base_images();
    let cmyk = scrub(&bases[4]).expect("CMYK accepted");
    let ycck = scrub(&bases[6]).expect("YCCK accepted");
    assert_eq!(cmyk.report.kept.adobe_transform, Some(0));
    assert_eq!(ycck.report.kept.adobe_transform, Some(2));
    let rgb = scrub(&bases[0]).expect("RGB accepted");
    assert_eq!(rgb.report.kept.adobe_transform, None);
}

#[test]
fn writes_no_exif_for_an_upright_photo() {
    let mut bytes = base_images().swap_remove(0);
    bytes.splice(2..2, segment(0xE1, &exif_block(1, &name(0), b"")));
    let out = scrub(&bytes).expect("accepted");
    assert_eq!(out.report.kept.orientation, None);
    assert!(!out.jpeg.windows(4).any(|w| w == b"Exif"));
}
