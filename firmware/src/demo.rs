//! A small fixed roster for `--sim` without a server, for tests and benchmarks: three
//! staff (one without device permission), one learner, three devices, one of them out,
//! and iPad 1 booked by J. Smith for a group.

use consentcam_wire::{
    BadgeKind, CautionKind, OpenCustody, Roster, RosterBadge, RosterBooking, RosterCaution,
    RosterDevice, TagUid,
};
use jiff::{SignedDuration, Timestamp};

/// The demo's badges and tags (shared with the server's demo records): J. Smith (staff,
/// may sign out), R. Patel (staff; holds Camera 2 in [`roster`]), K. Lee (staff without
/// device permission), a learner, an unregistered badge, and the three devices' tags.
pub use consentcam_wire::demo_tags::{
    CAMERA_1, CAMERA_2, IPAD_1, LEARNER, NO_PERMISSION, OTHER_STAFF, STAFF, UNKNOWN,
};

pub const STAFF_ID: i64 = 11;
pub const OTHER_STAFF_ID: i64 = 12;
pub const CAMERA_1_ID: i64 = 1;
pub const CAMERA_2_ID: i64 = 2;
pub const IPAD_1_ID: i64 = 3;
pub const BOOKING_ID: i64 = 7;
/// The group iPad 1 is booked for.
pub const GROUP: &str = "L2 Construction";

/// Parses one of the constants above.
pub fn uid(text: &str) -> TagUid {
    TagUid::parse(text).unwrap_or_else(|_| panic!("demo UID {text} is well formed"))
}

/// The key of the demo roster's tag hashes.
pub fn key() -> consentcam_tagkey::KioskKey {
    consentcam_tagkey::KioskKey::demo()
}

/// The demo roster as the server would send it at `at` (hashed with [`key`]): Camera 2 has been out with
/// R. Patel for an hour; iPad 1 is booked by J. Smith from an hour ago for eight hours for
/// a group of twelve, two of whom must not be photographed and five only internally.
pub fn roster(at: Timestamp) -> Roster {
    roster_for(at, &key())
}

/// The demo roster as the server would send it to the kiosk whose key is `key`.
pub fn roster_for(at: Timestamp, key: &consentcam_tagkey::KioskKey) -> Roster {
    let badge = |text: &str, person_id, kind, name: &str, may_sign_out| RosterBadge {
        uid_hash: key.tag(uid(text).as_str()),
        person_id,
        kind,
        display_name: name.to_owned(),
        may_sign_out,
    };
    let device = |device_id, label: &str, tag: &str, loan_minutes| RosterDevice {
        device_id,
        label: label.to_owned(),
        tag_hash: key.tag(uid(tag).as_str()),
        loan_minutes,
    };
    let since = at.checked_sub(SignedDuration::from_hours(1)).unwrap_or(at);
    Roster {
        generated_at: at,
        badges: vec![
            badge(STAFF, STAFF_ID, BadgeKind::Staff, "J. Smith", true),
            badge(
                OTHER_STAFF,
                OTHER_STAFF_ID,
                BadgeKind::Staff,
                "R. Patel",
                true,
            ),
            badge(NO_PERMISSION, 13, BadgeKind::Staff, "K. Lee", false),
            badge(LEARNER, 21, BadgeKind::Learner, "", false),
        ],
        devices: vec![
            device(CAMERA_1_ID, "Camera 1", CAMERA_1, 120),
            device(CAMERA_2_ID, "Camera 2", CAMERA_2, 180),
            device(IPAD_1_ID, "iPad 1", IPAD_1, 240),
        ],
        open_custody: vec![OpenCustody {
            device_id: CAMERA_2_ID,
            person_id: OTHER_STAFF_ID,
            since,
            due_back: since
                .checked_add(SignedDuration::from_hours(3))
                .unwrap_or(since),
        }],
        bookings: vec![RosterBooking {
            booking_id: BOOKING_ID,
            group: GROUP.to_owned(),
            person_id: STAFF_ID,
            device_id: Some(IPAD_1_ID),
            starts_at: since,
            ends_at: since
                .checked_add(SignedDuration::from_hours(8))
                .unwrap_or(since),
            members: 12,
            cautions: [
                ("Sam K.", CautionKind::NoPhotos),
                ("Ali B.", CautionKind::NoPhotos),
                ("Jo W.", CautionKind::NotPublic),
                ("Chris D.", CautionKind::NotPublic),
                ("Dee M.", CautionKind::NotPublic),
                ("Ola N.", CautionKind::NotPublic),
                ("Priya S.", CautionKind::NotPublic),
            ]
            .into_iter()
            .map(|(name, caution)| RosterCaution {
                name: name.to_owned(),
                caution,
            })
            .collect(),
        }],
    }
}
