//! Every screen rendered to PNG and compared with the reviewed snapshot in
//! `firmware/snapshots/`. After a deliberate change, regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test -p consentcam-kiosk --test screens`, look at the images,
//! and commit them.

use std::path::PathBuf;

use consentcam_hardware::Frame;
use consentcam_kiosk::screen::{DeviceLine, OverdueLine, Refusal, Screen, draw};
use consentcam_wire::{CautionKind, KindCounts};
use jiff::civil::DateTime;

/// Snapshots are stored at twice the panel's size so they read well in the README.
const SCALE: u32 = 2;

fn dt(text: &str) -> DateTime {
    text.parse().unwrap()
}

fn examples() -> Vec<(&'static str, Screen)> {
    let devices = vec![
        DeviceLine::In {
            device: "Camera 1".into(),
        },
        DeviceLine::Out {
            device: "Camera 2".into(),
            holder: "R. Patel".into(),
            since: dt("2026-11-25T08:10"),
            overdue: false,
        },
        DeviceLine::Out {
            device: "Video cam".into(),
            holder: "A. Okonkwo-Baptiste".into(),
            since: dt("2026-11-24T14:45"),
            overdue: true,
        },
        DeviceLine::In {
            device: "iPad 1".into(),
        },
    ];
    vec![
        (
            "idle",
            Screen::Idle {
                now: dt("2026-11-25T09:41"),
                offline: false,
                devices: devices.clone(),
            },
        ),
        (
            "idle_offline",
            Screen::Idle {
                now: dt("2026-11-25T09:41"),
                offline: true,
                devices,
            },
        ),
        (
            "overdue",
            Screen::Overdue {
                items: vec![OverdueLine {
                    device: "Video cam".into(),
                    holder: "A. Okonkwo-Baptiste".into(),
                    due: dt("2026-11-24T17:00"),
                }],
            },
        ),
        (
            "await_device",
            Screen::AwaitDevice {
                holder: "J. Smith".into(),
                returnable: None,
            },
        ),
        (
            "await_device_can_return",
            Screen::AwaitDevice {
                holder: "R. Patel".into(),
                returnable: Some("Camera 2".into()),
            },
        ),
        (
            "await_badge",
            Screen::AwaitBadge {
                device: "Camera 1".into(),
            },
        ),
        (
            "signed_out",
            Screen::SignedOut {
                device: "Camera 1".into(),
                holder: "J. Smith".into(),
                due_back: dt("2026-11-25T11:00"),
            },
        ),
        (
            "refused_unknown_card",
            Screen::Refused(Refusal::UnknownCard),
        ),
        ("refused_staff_only", Screen::Refused(Refusal::StaffOnly)),
        (
            "refused_not_authorised",
            Screen::Refused(Refusal::NotAuthorised),
        ),
        (
            "refused_already_out",
            Screen::Refused(Refusal::AlreadyOut {
                device: "Camera 1".into(),
                holder: "J. Smith".into(),
                since: dt("2026-11-25T09:00"),
            }),
        ),
        ("refused_timed_out", Screen::Refused(Refusal::TimedOut)),
        (
            "refused_return_first",
            Screen::Refused(Refusal::ReturnFirst),
        ),
        (
            "returned",
            Screen::Returned {
                device: "Camera 2".into(),
                holder: "R. Patel".into(),
            },
        ),
        (
            "importing",
            Screen::Importing {
                device: "Camera 2".into(),
                done: 27,
                total: 40,
                failed: 1,
            },
        ),
        (
            "import_summary",
            Screen::ImportSummary {
                device: "Camera 2".into(),
                imported: 39,
                failed: 1,
                kinds: KindCounts {
                    jpeg: 36,
                    heic: 2,
                    video: 1,
                    ..KindCounts::default()
                },
            },
        ),
        (
            "import_stopped",
            Screen::ImportStopped {
                device: "Camera 2".into(),
                done: 12,
                total: 40,
            },
        ),
        (
            "import_summary_clean",
            Screen::ImportSummary {
                device: "Camera 1".into(),
                imported: 4,
                failed: 0,
                kinds: KindCounts {
                    jpeg: 4,
                    ..KindCounts::default()
                },
            },
        ),
        ("reader_fault", Screen::ReaderFault),
        (
            "server_unreachable",
            Screen::ServerUnreachable {
                synced_at: Some(dt("2026-11-25T08:55")),
                queued: 12,
            },
        ),
        ("token_refused", Screen::TokenRefused),
        (
            "group_brief",
            Screen::GroupBrief {
                group: "L2 Construction".into(),
                members: 12,
                no_photos: 2,
                not_public: 5,
            },
        ),
        (
            "group_brief_all_clear",
            Screen::GroupBrief {
                group: "Beamish trip".into(),
                members: 9,
                no_photos: 0,
                not_public: 0,
            },
        ),
        (
            "cautions_no_photos",
            Screen::Cautions {
                caution: CautionKind::NoPhotos,
                names: vec!["Sam K.".into(), "Ali B.".into()],
                page: 1,
                pages: 1,
            },
        ),
        (
            "cautions_not_public",
            Screen::Cautions {
                caution: CautionKind::NotPublic,
                names: ["Jo W.", "Chris D.", "Dee M.", "Ola N."]
                    .map(String::from)
                    .to_vec(),
                page: 1,
                pages: 2,
            },
        ),
    ]
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

#[test]
fn every_screen_matches_its_reviewed_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for (name, screen) in examples() {
        let mut frame = Frame::default();
        draw(&screen, &mut frame).unwrap();
        assert!(frame.lit_count() > 50, "{name} is nearly blank");
        let path = snapshot_dir().join(format!("{name}.png"));
        if update {
            std::fs::create_dir_all(snapshot_dir()).unwrap();
            std::fs::write(&path, frame.to_png(SCALE)).unwrap();
            continue;
        }
        match std::fs::read(&path).map(|bytes| Frame::from_png(&bytes)) {
            Ok(Ok(reviewed)) if reviewed == frame => {}
            Ok(Ok(_)) => failures.push(format!("{name}: differs from {}", path.display())),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Err(e) => failures.push(format!("{name}: no snapshot at {} ({e})", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended: UPDATE_SNAPSHOTS=1 cargo test -p consentcam-kiosk --test screens, then review the PNGs",
        failures.join("\n")
    );
}

#[test]
fn each_screen_looks_different_from_every_other() {
    let frames: Vec<(&str, Frame)> = examples()
        .into_iter()
        .map(|(name, screen)| {
            let mut frame = Frame::default();
            draw(&screen, &mut frame).unwrap();
            (name, frame)
        })
        .collect();
    for (i, (a, fa)) in frames.iter().enumerate() {
        for (b, fb) in &frames[i + 1..] {
            assert_ne!(fa, fb, "{a} and {b} render the same");
        }
    }
}

#[test]
fn the_import_progress_bar_fills_with_the_count() {
    let lit = |done| {
        let mut frame = Frame::default();
        let screen = Screen::Importing {
            device: "Camera 2".into(),
            done,
            total: 40,
            failed: 0,
        };
        draw(&screen, &mut frame).unwrap();
        // Count lit pixels inside the bar only (row 24, inside the frame).
        (6..122).filter(|&x| frame.is_lit(x, 24)).count()
    };
    assert_eq!(lit(0), 0);
    assert_eq!(lit(20), 58);
    assert_eq!(lit(40), 116);
}
