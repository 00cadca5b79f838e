//! Which custody session a photo belongs to (rules I5, C7): a pure function of the
//! photo's EXIF, the registered devices and their sign-out windows.
//!
//! The camera's clock has no time zone and drifts, so its reading is placed in the
//! configured zone (or its recorded UTC offset) and matched with a tolerance. Anything
//! that cannot be attributed is returned with the reason C7 needs. No I/O, no clock.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::exif::ExifSummary;

/// A device the organisation registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredDevice {
    /// The server's id for it.
    pub device_id: String,
    /// EXIF make, as the camera writes it (compared ignoring case and spaces at the ends).
    pub make: String,
    /// EXIF body serial number.
    pub serial: String,
}

/// One sign-out of a device: from sign-out to return (open while still out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyWindow {
    /// The server's id for the session.
    pub session_id: String,
    /// Which device.
    pub device_id: String,
    /// When it was signed out.
    pub signed_out: Timestamp,
    /// When it came back; `None` while it is still out.
    pub returned: Option<Timestamp>,
}

/// How to read camera clocks.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockPolicy {
    /// The zone camera clocks are set to (the school's), used when EXIF has no offset.
    pub camera_zone: TimeZone,
    /// How far a camera clock may be off and its photos still count for a window.
    pub drift_tolerance: SignedDuration,
}

/// The answer for one photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Attribution {
    /// Taken with a registered device inside one of its windows.
    Session {
        session_id: String,
        device_id: String,
        /// True when only the drift tolerance made it fit.
        within_tolerance_only: bool,
    },
    /// Not attributable: needs a director's acknowledgement under C7.
    Unattributed { reason: Unattributed },
}

/// Why a photo could not be tied to a custody session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unattributed {
    /// No EXIF serial number: the device cannot be identified.
    NoSerial,
    /// The serial number belongs to no registered device (a personal device?).
    UnregisteredDevice,
    /// No usable time taken.
    NoTime,
    /// Registered device, but the time is outside all of its sign-out windows.
    OutsideWindows,
    /// The time fits more than one window within tolerance, and none exactly.
    Ambiguous,
}

impl Unattributed {
    /// A sentence for the director.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoSerial => "The photo does not say which camera took it.",
            Self::UnregisteredDevice => {
                "The photo was taken with a camera that is not registered: possibly a personal device."
            }
            Self::NoTime => "The photo does not say when it was taken.",
            Self::OutsideWindows => {
                "The photo was taken when the camera was not signed out to anyone."
            }
            Self::Ambiguous => "The photo's time fits two sign-outs of the camera.",
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Attribute a photo to a custody session.
///
/// `now` closes windows that are still open (the device is out until now).
#[must_use]
pub fn attribute(
    exif: Option<&ExifSummary>,
    devices: &[RegisteredDevice],
    windows: &[CustodyWindow],
    policy: &ClockPolicy,
    now: Timestamp,
) -> Attribution {
    let unattributed = |reason| Attribution::Unattributed { reason };
    let Some(serial) = exif.and_then(|e| e.body_serial.as_deref()) else {
        return unattributed(Unattributed::NoSerial);
    };
    let make = exif.and_then(|e| e.make.as_deref()).unwrap_or("");
    let Some(device) = devices
        .iter()
        .find(|d| same(&d.serial, serial) && (d.make.trim().is_empty() || same(&d.make, make)))
    else {
        return unattributed(Unattributed::UnregisteredDevice);
    };
    let Some(taken) = exif.and_then(|e| taken_at(e, &policy.camera_zone)) else {
        return unattributed(Unattributed::NoTime);
    };
    let tol = policy.drift_tolerance.abs();
    let mut exact = Vec::new();
    let mut near = Vec::new();
    for w in windows.iter().filter(|w| w.device_id == device.device_id) {
        let end = w.returned.unwrap_or(now);
        if w.signed_out <= taken && taken <= end {
            exact.push(w);
        } else if w.signed_out.checked_sub(tol).is_ok_and(|s| s <= taken)
            && end.checked_add(tol).is_ok_and(|e| taken <= e)
        {
            near.push(w);
        }
    }
    let (chosen, only_tolerance) = match (exact.as_slice(), near.as_slice()) {
        ([one], _) => (*one, false),
        ([], [one]) => (*one, true),
        ([], []) => return unattributed(Unattributed::OutsideWindows),
        _ => return unattributed(Unattributed::Ambiguous),
    };
    Attribution::Session {
        session_id: chosen.session_id.clone(),
        device_id: device.device_id.clone(),
        within_tolerance_only: only_tolerance,
    }
}

/// The instant the photo was taken: the recorded UTC offset if any, else the camera zone.
/// A time that does not exist or is doubled in that zone (clock changes) takes the
/// earlier reading, which the tolerance absorbs.
#[must_use]
pub fn taken_at(exif: &ExifSummary, camera_zone: &TimeZone) -> Option<Timestamp> {
    let civil = exif.taken_at?;
    match exif.utc_offset_seconds {
        Some(secs) => {
            let offset = jiff::tz::Offset::from_seconds(secs).ok()?;
            offset.to_timestamp(civil).ok()
        }
        None => camera_zone.to_ambiguous_timestamp(civil).compatible().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn london() -> TimeZone {
        TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").expect("valid POSIX zone")
    }

    fn policy() -> ClockPolicy {
        ClockPolicy {
            camera_zone: london(),
            drift_tolerance: SignedDuration::from_mins(10),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn devices() -> Vec<RegisteredDevice> {
        vec![RegisteredDevice {
            device_id: "cam-1".into(),
            make: "Canon".into(),
            serial: "083021001234".into(),
        }]
    }

    fn windows() -> Vec<CustodyWindow> {
        vec![
            CustodyWindow {
                session_id: "s-morning".into(),
                device_id: "cam-1".into(),
                signed_out: ts("2026-06-10T08:00:00Z"),
                returned: Some(ts("2026-06-10T11:00:00Z")),
            },
            CustodyWindow {
                session_id: "s-afternoon".into(),
                device_id: "cam-1".into(),
                signed_out: ts("2026-06-10T11:15:00Z"),
                returned: None,
            },
        ]
    }

    /// A photo from the registered camera at a London wall-clock time.
    fn photo(h: i8, m: i8) -> ExifSummary {
        ExifSummary {
            taken_at: Some(date(2026, 6, 10).at(h, m, 0, 0)),
            make: Some("Canon".into()),
            body_serial: Some(" 083021001234 ".into()),
            ..ExifSummary::default()
        }
    }

    fn run(exif: &ExifSummary) -> Attribution {
        attribute(
            Some(exif),
            &devices(),
            &windows(),
            &policy(),
            ts("2026-06-10T18:00:00Z"),
        )
    }

    fn session(id: &str, tolerance: bool) -> Attribution {
        Attribution::Session {
            session_id: id.into(),
            device_id: "cam-1".into(),
            within_tolerance_only: tolerance,
        }
    }

    #[test]
    fn attributes_by_serial_and_time_in_the_camera_zone() {
        // 10:00 BST is 09:00 UTC: the morning window.
        assert_eq!(run(&photo(10, 0)), session("s-morning", false));
        // 13:00 BST, afternoon window still open.
        assert_eq!(run(&photo(13, 0)), session("s-afternoon", false));
    }

    #[test]
    fn tolerates_configured_clock_drift_and_says_so() {
        // 08:55 BST = 07:55 UTC, five minutes before sign-out.
        assert_eq!(run(&photo(8, 55)), session("s-morning", true));
        // 08:40 BST = 07:40 UTC: twenty minutes early, too far.
        assert_eq!(
            run(&photo(8, 40)),
            Attribution::Unattributed {
                reason: Unattributed::OutsideWindows
            }
        );
    }

    #[test]
    fn a_time_between_two_close_windows_is_ambiguous() {
        // 12:07 BST = 11:07 UTC: 7 min after the return, 8 min before the next sign-out.
        assert_eq!(
            run(&photo(12, 7)),
            Attribution::Unattributed {
                reason: Unattributed::Ambiguous
            }
        );
    }

    #[test]
    fn uses_the_recorded_offset_over_the_zone() {
        let mut e = photo(9, 0);
        e.utc_offset_seconds = Some(0);
        // 09:00 UTC: morning, not 08:00 UTC as the zone would give.
        assert_eq!(run(&e), session("s-morning", false));
    }

    #[test]
    fn flags_unregistered_devices_and_missing_facts() {
        let mut e = photo(10, 0);
        e.body_serial = Some("999".into());
        assert_eq!(
            run(&e),
            Attribution::Unattributed {
                reason: Unattributed::UnregisteredDevice
            }
        );
        let mut e = photo(10, 0);
        e.make = Some("Nikon".into());
        assert_eq!(
            run(&e),
            Attribution::Unattributed {
                reason: Unattributed::UnregisteredDevice
            }
        );
        let mut e = photo(10, 0);
        e.body_serial = None;
        assert_eq!(
            run(&e),
            Attribution::Unattributed {
                reason: Unattributed::NoSerial
            }
        );
        let mut e = photo(10, 0);
        e.taken_at = None;
        assert_eq!(
            run(&e),
            Attribution::Unattributed {
                reason: Unattributed::NoTime
            }
        );
        assert_eq!(
            attribute(
                None,
                &devices(),
                &windows(),
                &policy(),
                ts("2026-06-10T18:00:00Z")
            ),
            Attribution::Unattributed {
                reason: Unattributed::NoSerial
            }
        );
    }

    #[test]
    fn another_devices_window_does_not_count() {
        let mut ws = windows();
        for w in &mut ws {
            w.device_id = "cam-2".into();
        }
        assert_eq!(
            attribute(
                Some(&photo(10, 0)),
                &devices(),
                &ws,
                &policy(),
                ts("2026-06-10T18:00:00Z")
            ),
            Attribution::Unattributed {
                reason: Unattributed::OutsideWindows
            }
        );
    }
}
