//! The demo's data comes in through the same pipeline as a user's: its card through the
//! real import (faces found by the detector, the HEIC decoded by the sandboxed worker),
//! then the rules and a publication.
#![cfg(feature = "demo")]

use consentcam::demo::{demo_photo, seed_with_photos};
use consentcam::domain::Channel;
use consentcam::rules::consent::{ReasonCode, Verdict};
use consentcam::store::{self, audit, faces, photos};
use jiff::Timestamp;
use jiff::civil::date;

#[test]
fn with_a_data_directory_the_demo_photos_come_through_the_real_import_and_publish() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = consentcam::infra::config::Config {
        data_dir: dir.path().to_path_buf(),
        ..consentcam::infra::config::Config::default()
    };
    // This test program is not the server's: its decode workers are the real binary.
    config.sandbox.worker_program = Some(env!("CARGO_BIN_EXE_consentcam").into());
    let mut conn = store::open(&config.db_path()).unwrap();
    let today = date(2026, 11, 25);
    let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
    seed_with_photos(&mut conn, &config, now, today).unwrap();
    let policy = consentcam::rules::consent::ConsentPolicy::default();
    let decision = |name: &str, channel| {
        let id = demo_photo(&conn, name).unwrap();
        consentcam::ops::decisions::decide_photo(&conn, id, channel, today, &policy).unwrap()
    };
    assert_eq!(
        decision("IMG_0001.JPG", Channel::Website).verdict,
        Verdict::Allowed
    );
    assert_eq!(
        decision("IMG_0002.JPG", Channel::Website).verdict,
        Verdict::Blocked
    );
    assert!(decision("IMG_0003.JPG", Channel::Website).has(ReasonCode::Vulnerable));
    assert!(decision("IMG_0004.JPG", Channel::Internal).has(ReasonCode::FaceUnresolved));
    assert!(decision("IMG_0005.JPG", Channel::Internal).has(ReasonCode::CaptionNamesPerson));
    assert!(decision("IMG_0006.JPG", Channel::Internal).has(ReasonCode::FaceUnresolved));
    assert!(decision("IMG_0007.JPG", Channel::Website).has(ReasonCode::ProvenanceOutsideSignOut));
    // The HEIC came through the same analysis: faces found, waiting to be tagged.
    let heic = photos::photo(&conn, demo_photo(&conn, "IMG_0008.HEIC").unwrap()).unwrap();
    assert_eq!(heic.format, consentcam::domain::Format::Heic);
    assert_eq!(heic.damage, None);
    assert_eq!(
        heic.provenance,
        consentcam::rules::consent::Provenance::Verified
    );
    assert!(
        !consentcam::store::faces::faces(&conn, heic.id)
            .unwrap()
            .is_empty()
    );
    let internal = decision("IMG_0008.HEIC", Channel::Internal);
    assert!(internal.has(ReasonCode::FaceUnresolved));
    assert!(!internal.has(ReasonCode::FormatNotPublishable));

    // Every photo is a real file in the store with its renditions, its faces found by
    // the detector in the upright picture.
    use consentcam::infra::archive::Archive;
    let first = demo_photo(&conn, "IMG_0001.JPG").unwrap();
    let photo = photos::photo(&conn, first).unwrap();
    let original =
        std::fs::read(dir.path().join(Archive::original_key(&photo.content_hash))).unwrap();
    assert_eq!(original.len() as u64, photo.byte_size);
    for key in [
        Archive::thumbnail_key(&photo.content_hash),
        Archive::preview_key(&photo.content_hash),
    ] {
        assert!(dir.path().join(key).is_file());
    }
    let turned = photos::photo(&conn, demo_photo(&conn, "IMG_0003.JPG").unwrap()).unwrap();
    assert_eq!(turned.orientation, Some(6));
    let face = &faces::faces(&conn, turned.id).unwrap()[0];
    let (upright_w, upright_h) = (turned.height.unwrap(), turned.width.unwrap());
    assert!(face.x + face.w <= upright_w && face.y + face.h <= upright_h);
    assert!(
        face.w > upright_w / 5,
        "{face:?} in {upright_w}x{upright_h}"
    );

    // Amira's approved portrait goes to the website outbox.
    let published = consentcam::ops::publish::publish(
        &mut conn,
        &original,
        &consentcam::ops::publish::outbox(dir.path()),
        first,
        Channel::Website,
        &consentcam::ops::publish::PublishOptions::default(),
        &consentcam::ops::Ctx {
            by: None,
            today,
            now,
            policy: policy.clone(),
        },
    )
    .unwrap();
    assert!(std::path::Path::new(&published.location).is_file());
    assert!(audit::verify(&conn).unwrap().problems.is_empty());
}
