//! The kiosk <-> server contract: the JSON bodies of the `/api/v1/kiosk/*` routes.
//!
//! This crate owns only data shapes and their serde form. It must not grow logic, I/O or
//! dependencies beyond serde and jiff: the firmware links it, and the firmware never links
//! the server.
//!
//! Routes (all need `Authorization: Bearer <kiosk token>`):
//!
//! | method | path                      | body           | answer           |
//! |--------|---------------------------|----------------|------------------|
//! | GET    | `/api/v1/kiosk/roster`    | -              | [`Roster`]       |
//! | POST   | `/api/v1/kiosk/events`    | [`EventBatch`] | [`EventReceipt`] |
//!
//! The kiosk decides sign-outs and returns itself from its last roster, so that it keeps
//! working while the server is unreachable (K6). It journals every [`KioskEvent`] and sends
//! them in order; the server records each `event_id` once, so a replay of events it has
//! already seen is harmless (exactly once).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The badge and tag UIDs of the demo: the simulated kiosk's buttons tap them, and the
/// server's demo records enrol them. Facts both sides share, like the rest of this crate.
pub mod demo_tags {
    /// J. Smith, staff, may sign out.
    pub const STAFF: &str = "04A1B2C3";
    /// R. Patel, staff, may sign out.
    pub const OTHER_STAFF: &str = "04B2C3D4";
    /// K. Lee, staff without device permission.
    pub const NO_PERMISSION: &str = "04C3D4E5";
    /// A learner's badge.
    pub const LEARNER: &str = "04D4E5F6";
    /// A badge nobody registered.
    pub const UNKNOWN: &str = "04998877";
    /// Camera 1's tag (7-byte UID).
    pub const CAMERA_1: &str = "04E5F6A7B8C9D0";
    /// Camera 2's tag.
    pub const CAMERA_2: &str = "04F6A7B8C9D0E1";
    /// iPad 1's tag.
    pub const IPAD_1: &str = "0401A2B3C4D5E6";
}

/// Seconds a client of the server (the kiosk, a site's card import, the benchmarks) keeps
/// an idle connection for its next request. The server closes a keep-alive connection that
/// has sent nothing for `[limits] header_seconds` (15 by default: its guard against slow
/// clients also times the wait between requests), and a request sent on it as it closes is
/// lost ("connection closed before message completed"). Well under that, a client opens a
/// new connection instead.
pub const IDLE_CONNECTION_SECONDS: u64 = 5;

/// A badge or device tag UID as upper-case hex without separators, e.g. `"04A1B2C3"`.
///
/// 4, 7 or 10 bytes (8, 14 or 20 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TagUid(String);

/// Why a string is not a [`TagUid`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTagUid(pub String);

impl std::fmt::Display for BadTagUid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a tag UID is 4, 7 or 10 bytes written as 8, 14 or 20 hex digits; got {:?}",
            self.0
        )
    }
}

impl std::error::Error for BadTagUid {}

impl TagUid {
    /// Parses hex with optional `:`/`-`/space separators, any case.
    pub fn parse(text: &str) -> Result<Self, BadTagUid> {
        let hex: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let ok_len = matches!(hex.len(), 8 | 14 | 20);
        if ok_len && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Self(hex))
        } else {
            Err(BadTagUid(text.to_owned()))
        }
    }

    /// The UID from the raw bytes a reader returned.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BadTagUid> {
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        Self::parse(&hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TagUid {
    type Error = BadTagUid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TagUid> for String {
    fn from(value: TagUid) -> Self {
        value.0
    }
}

impl std::fmt::Display for TagUid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a badge belongs to, as far as the kiosk needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadgeKind {
    Staff,
    Learner,
}

/// One enrolled badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterBadge {
    /// The keyed hash of the badge's UID (`consentcam-tagkey`), never the UID: the kiosk
    /// hashes what it reads and looks that up.
    pub uid_hash: String,
    /// The server's person id of the badge holder.
    pub person_id: i64,
    pub kind: BadgeKind,
    /// What the kiosk screen shows for the holder, e.g. "J. Smith" (staff only; empty for
    /// learners, whose names the kiosk never shows).
    pub display_name: String,
    /// Whether this person may sign devices out at all.
    pub may_sign_out: bool,
}

/// One registered device (camera, video camera, iPad).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterDevice {
    pub device_id: i64,
    /// Short label for the screen, e.g. "Camera 1".
    pub label: String,
    /// The keyed hash of the device tag's UID, like [`RosterBadge::uid_hash`].
    pub tag_hash: String,
    /// How long a sign-out lasts before the device is overdue.
    pub loan_minutes: u32,
}

/// A device that is out, as the server last knew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCustody {
    pub device_id: i64,
    pub person_id: i64,
    pub since: Timestamp,
    pub due_back: Timestamp,
}

/// How the holder of a camera booked for a group must treat one of its people (K2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CautionKind {
    /// Must not be photographed at all.
    NoPhotos,
    /// May be photographed, but the photos may not go on the website or social media.
    NotPublic,
}

/// One person of a booked group the holder must know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterCaution {
    /// Given name and family initial, e.g. "Sam K.": the holder knows the group.
    pub name: String,
    pub caution: CautionKind,
}

/// A device booked for a group (a class, a trip): a sign-out by `person_id` inside the
/// window (of `device_id`, or of any device when it is `None`) belongs to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterBooking {
    pub booking_id: i64,
    /// The group's name, e.g. "L2 Construction".
    pub group: String,
    pub person_id: i64,
    pub device_id: Option<i64>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// How many people the group has.
    pub members: u32,
    /// The people not to photograph first, then those for internal use only; the others
    /// need no warning and are not listed.
    pub cautions: Vec<RosterCaution>,
}

/// Everything a kiosk needs to decide taps on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub generated_at: Timestamp,
    pub badges: Vec<RosterBadge>,
    pub devices: Vec<RosterDevice>,
    pub open_custody: Vec<OpenCustody>,
    /// Bookings that have not ended and start within the next days.
    #[serde(default)]
    pub bookings: Vec<RosterBooking>,
}

/// How the kiosk answered a tap (K1, K5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TapOutcome {
    /// Badge or tag known and the tap moved a sign-out or return along.
    Accepted,
    /// "Card not recognised".
    UnknownCard,
    /// "Staff only": a learner's badge.
    StaffOnly,
    /// "Not authorised": staff without device permission.
    NotAuthorised,
    /// The device is already out with someone else.
    AlreadyOut,
    /// A tap that made no sense in the current state (e.g. a second badge mid sign-out).
    Ignored,
}

/// What happened at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KioskEventKind {
    /// Every tap, accepted or refused (K5).
    Tap { uid: TagUid, outcome: TapOutcome },
    /// A device was signed out to a person (K2).
    SignedOut {
        device_id: i64,
        person_id: i64,
        due_back: Timestamp,
        /// The booking the kiosk matched this sign-out to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        booking_id: Option<i64>,
    },
    /// A device came back (K3).
    Returned { device_id: i64, person_id: i64 },
    /// Lines of the kiosk's journal whose MAC did not hold (edited or added on the card):
    /// set aside, not replayed.
    JournalRefused { lines: u32 },
}

/// One journalled kiosk event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskEvent {
    /// Unique per kiosk and event, chosen by the kiosk (e.g. `"<boot id>-<seq>"`); the
    /// server records each id once.
    pub event_id: String,
    /// Monotonic per kiosk: the order events happened in.
    pub seq: u64,
    /// When it happened, by the kiosk's clock.
    pub at: Timestamp,
    /// Which reader saw it, e.g. `"office-1"`.
    pub reader: String,
    #[serde(flatten)]
    pub kind: KioskEventKind,
}

/// `POST /api/v1/kiosk/events` body: events in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBatch {
    pub events: Vec<KioskEvent>,
    /// The kiosk's clock when it sent the batch: the server compares it with its own to
    /// tell a kiosk whose clock is wrong (event times cannot then be trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
}

/// The server's answer: which ids are now recorded (newly or already).
///
/// An event is acknowledged once it appears in `recorded`, `duplicate` or `refused`; the
/// kiosk may then drop it from its journal. A `refused` event failed the server's checks
/// (a badge no longer active, a time that cannot be right): the server keeps it, without
/// effect on custody, for an admin to see. The server stops at the first event it cannot
/// read at all and reports it in `rejected` (with the reason) so that order is never
/// broken; the kiosk keeps that event and everything after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReceipt {
    pub recorded: Vec<String>,
    pub duplicate: Vec<String>,
    #[serde(default)]
    pub refused: Vec<RefusedEvent>,
    pub rejected: Option<RejectedEvent>,
}

/// An event the server kept but did not act on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedEvent {
    pub event_id: String,
    /// A stable code, e.g. `badge_not_active`, `in_the_future`.
    pub code: String,
    pub reason: String,
}

/// How many files of each kind an import brought in, for the kiosk's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KindCounts {
    pub jpeg: u32,
    pub heic: u32,
    pub png: u32,
    pub video: u32,
    /// Raw, GIF, WebP, anything else.
    pub other: u32,
}

impl KindCounts {
    /// "37 JPEG, 2 HEIC, 1 video": what came in, the most common kind first; `None` when
    /// it was only JPEG (or nothing), which needs no saying.
    pub fn summary(&self) -> Option<String> {
        let mut parts = [
            (self.jpeg, "JPEG"),
            (self.heic, "HEIC"),
            (self.png, "PNG"),
            (self.video, "video"),
            (self.other, "other"),
        ];
        if parts[1..].iter().all(|(n, _)| *n == 0) {
            return None;
        }
        parts.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        let words: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, kind)| format!("{n} {kind}"))
            .collect();
        Some(words.join(", "))
    }
}

/// One line of the progress file that `consentcam import-card --progress FILE` writes as it
/// copies a returned device's card, and that the kiosk follows to show the progress bar
/// and the summary (K3). One JSON object per line; a new import starts a new file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CardProgress {
    /// The card was listed: `files` to import.
    Started { files: u32 },
    /// `done` of `files` are finished, `failed` of them could not be read.
    Progress { done: u32, files: u32, failed: u32 },
    /// Every file is safely stored (`imported` new or already stored); the card may go.
    /// `kinds` counts what came in (absent from older servers: all zero).
    Finished {
        imported: u32,
        failed: u32,
        #[serde(default)]
        kinds: KindCounts,
    },
    /// The import stopped after `done` files; running it again completes it.
    Stopped { done: u32, reason: String },
}

/// An event the server refused, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    pub event_id: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_came_in_is_said_only_when_it_was_not_all_jpeg() {
        let k = |jpeg, heic, png, video, other| KindCounts {
            jpeg,
            heic,
            png,
            video,
            other,
        };
        assert_eq!(k(0, 0, 0, 0, 0).summary(), None);
        assert_eq!(k(40, 0, 0, 0, 0).summary(), None);
        assert_eq!(
            k(37, 2, 0, 1, 0).summary().as_deref(),
            Some("37 JPEG, 2 HEIC, 1 video")
        );
        assert_eq!(
            k(1, 12, 3, 0, 2).summary().as_deref(),
            Some("12 HEIC, 3 PNG, 2 other, 1 JPEG")
        );
        assert_eq!(k(0, 0, 1, 0, 0).summary().as_deref(), Some("1 PNG"));
    }

    #[test]
    fn a_finished_line_without_kinds_still_reads() {
        let line: CardProgress =
            serde_json::from_str(r#"{"event":"finished","imported":3,"failed":0}"#).unwrap();
        assert_eq!(
            line,
            CardProgress::Finished {
                imported: 3,
                failed: 0,
                kinds: KindCounts::default()
            }
        );
    }

    #[test]
    fn tag_uid_accepts_4_7_and_10_byte_uids_in_any_notation() {
        assert_eq!(TagUid::parse("04:a1:b2:c3").unwrap().as_str(), "04A1B2C3");
        assert_eq!(
            TagUid::parse("04a1b2c3d4e5f6").unwrap().as_str(),
            "04A1B2C3D4E5F6"
        );
        assert_eq!(
            TagUid::from_bytes(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
                .unwrap()
                .as_str(),
            "0102030405060708090A"
        );
    }

    #[test]
    fn tag_uid_refuses_wrong_lengths_and_non_hex() {
        for bad in [
            "",
            "04A1B2",
            "04A1B2C3D4",
            "ZZA1B2C3",
            "04A1B2C3D4E5F6A7B8C9D0",
        ] {
            assert!(TagUid::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn events_serialise_with_a_type_tag_and_round_trip() {
        let event = KioskEvent {
            event_id: "k1-7".into(),
            seq: 7,
            at: "2026-11-25T09:00:00Z".parse().unwrap(),
            reader: "office-1".into(),
            kind: KioskEventKind::Tap {
                uid: TagUid::parse("04A1B2C3").unwrap(),
                outcome: TapOutcome::StaffOnly,
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "tap");
        assert_eq!(json["outcome"], "staff_only");
        let back: KioskEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
