//! From bytes to custody session: the EXIF the analysis reads feeds the C7 check.

mod common;

use common::photos::{self, PhotoSpec, camera_exif};
use consentcam_media::{
    AnalysisOptions, Attribution, ClockPolicy, CustodyWindow, RegisteredDevice, Unattributed,
    analyse_bytes, attribute,
};
use jiff::SignedDuration;
use jiff::tz::TimeZone;

fn setup() -> (Vec<RegisteredDevice>, Vec<CustodyWindow>, ClockPolicy) {
    let devices = vec![RegisteredDevice {
        device_id: "cam-1".into(),
        make: "Canon".into(),
        serial: "083021001234".into(),
    }];
    let windows = vec![CustodyWindow {
        session_id: "s-1".into(),
        device_id: "cam-1".into(),
        signed_out: "2026-03-14T09:00:00Z".parse().expect("ts"),
        returned: Some("2026-03-14T12:00:00Z".parse().expect("ts")),
    }];
    let policy = ClockPolicy {
        camera_zone: TimeZone::UTC,
        drift_tolerance: SignedDuration::from_mins(5),
    };
    (devices, windows, policy)
}

#[test]
fn a_registered_cameras_photo_in_its_window_gets_the_session() {
    let (devices, windows, policy) = setup();
    let spec = PhotoSpec {
        exif: Some(camera_exif("083021001234", 1)),
        ..PhotoSpec::default()
    };
    let a = analyse_bytes(
        &photos::photo(320, 240, 1, &spec),
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    let now = "2026-03-15T00:00:00Z".parse().expect("ts");
    assert_eq!(
        attribute(a.exif.as_ref(), &devices, &windows, &policy, now),
        Attribution::Session {
            session_id: "s-1".into(),
            device_id: "cam-1".into(),
            within_tolerance_only: false
        }
    );
}

#[test]
fn a_personal_phones_photo_and_a_stripped_photo_are_held_for_review() {
    let (devices, windows, policy) = setup();
    let now = "2026-03-15T00:00:00Z".parse().expect("ts");
    let phone = PhotoSpec {
        exif: Some(camera_exif("PHONE-42", 1)),
        ..PhotoSpec::default()
    };
    let a = analyse_bytes(
        &photos::photo(320, 240, 2, &phone),
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(
        attribute(a.exif.as_ref(), &devices, &windows, &policy, now),
        Attribution::Unattributed {
            reason: Unattributed::UnregisteredDevice
        }
    );
    let bare = analyse_bytes(
        &photos::photo(320, 240, 3, &PhotoSpec::default()),
        &AnalysisOptions::default(),
        &consentcam_media::Decoders::in_process(),
        None,
    );
    assert_eq!(
        attribute(bare.exif.as_ref(), &devices, &windows, &policy, now),
        Attribution::Unattributed {
            reason: Unattributed::NoSerial
        }
    );
}
