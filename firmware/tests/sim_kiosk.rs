//! The embeddable simulated kiosk, as the server's demo page and `--sim` use it.

mod common;

use std::time::Duration;

use common::TempDir;
use common::fake_server::{FakeServer, TOKEN};
use consentcam_hardware::{Button, Frame, Signal};
use consentcam_kiosk::demo;
use consentcam_kiosk::screen::{Refusal, Screen, draw};
use consentcam_kiosk::sim::{ServerLink, SimKiosk, SimKioskConfig, SimKioskHandle};
use consentcam_wire::KindCounts;

fn config(dir: &TempDir) -> SimKioskConfig {
    let mut config = SimKioskConfig::new(dir.0.clone());
    config.tick = Duration::from_millis(5);
    config.sync_every = Duration::from_millis(20);
    config
}

/// Waits (bounded) for the kiosk thread to reach a condition it gets to on its own.
fn eventually(kiosk: &SimKioskHandle, what: &str, check: impl Fn(&SimKioskHandle) -> bool) {
    for _ in 0..2000 {
        if check(kiosk) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("never happened: {what}");
}

#[test]
fn a_sim_kiosk_signs_out_on_two_taps_and_shows_it_as_png() {
    let dir = TempDir::new("sim-signout");
    let kiosk = SimKiosk::start(config(&dir)).unwrap();
    assert!(matches!(kiosk.screen().unwrap(), Some(Screen::Idle { .. })));
    kiosk.tap_hex(demo::STAFF).unwrap();
    kiosk.tap_hex(demo::CAMERA_1).unwrap();
    let screen = kiosk.screen().unwrap().unwrap();
    assert!(matches!(&screen, Screen::SignedOut { holder, .. } if holder == "J. Smith"));

    // The PNG is exactly that screen.
    let mut expected = Frame::default();
    draw(&screen, &mut expected).unwrap();
    assert_eq!(Frame::from_png(&kiosk.screen_png()).unwrap(), expected);
    assert_eq!(kiosk.signals(), vec![Signal::Accept, Signal::Accept]);
    assert_eq!(kiosk.lock_releases(), 1);
    // Two taps and the sign-out wait in the journal (no server configured).
    assert_eq!(kiosk.pending().unwrap(), 3);
    kiosk.shutdown();
}

#[test]
fn refusals_and_buttons_work_through_the_handle() {
    let dir = TempDir::new("sim-refuse");
    let kiosk = SimKiosk::start(config(&dir)).unwrap();
    kiosk.tap_hex(demo::LEARNER).unwrap();
    assert_eq!(
        kiosk.screen().unwrap(),
        Some(Screen::Refused(Refusal::StaffOnly))
    );
    assert_eq!(kiosk.signals(), vec![Signal::Refuse]);
    kiosk.press(Button::Ok).unwrap();
    assert!(matches!(kiosk.screen().unwrap(), Some(Screen::Idle { .. })));
    assert!(kiosk.tap_hex("not hex").is_err());
}

#[test]
fn a_returned_camera_s_card_is_imported_with_progress_and_a_summary() {
    let dir = TempDir::new("sim-import");
    let card = TempDir::new("sim-card");
    std::fs::create_dir_all(card.0.join("DCIM/100CANON")).unwrap();
    std::fs::write(card.0.join("DCIM/100CANON/IMG_0001.JPG"), b"jpeg").unwrap();
    std::fs::write(card.0.join("DCIM/100CANON/IMG_0002.JPG"), b"jpeg").unwrap();
    std::fs::write(card.0.join("DCIM/100CANON/IMG_0003.JPG"), b"").unwrap();
    std::fs::write(card.0.join("DCIM/100CANON/IMG_0004.HEIC"), b"heic").unwrap();
    let kiosk = SimKiosk::start(config(&dir)).unwrap();
    // Camera 2 is out with R. Patel in the demo roster.
    kiosk.tap_hex(demo::CAMERA_2).unwrap();
    assert!(matches!(
        kiosk.screen().unwrap(),
        Some(Screen::Returned { .. })
    ));
    kiosk.insert_card(&card.0).unwrap();
    assert!(matches!(
        kiosk.screen().unwrap(),
        Some(Screen::Importing { total: 4, .. })
    ));
    eventually(&kiosk, "import summary", |k| {
        matches!(k.screen().unwrap(), Some(Screen::ImportSummary { .. }))
    });
    assert_eq!(
        kiosk.screen().unwrap(),
        Some(Screen::ImportSummary {
            device: "Camera 2".into(),
            imported: 3,
            failed: 1,
            kinds: KindCounts {
                jpeg: 2,
                heic: 1,
                ..KindCounts::default()
            }
        })
    );
}

#[test]
fn a_sim_kiosk_with_a_server_delivers_its_events_and_takes_the_server_roster() {
    let dir = TempDir::new("sim-server");
    // Hashed with the key of the kiosk's token, as the server does.
    let mut roster = demo::roster_for(
        "2026-11-25T09:00:00Z".parse().unwrap(),
        &consentcam_tagkey::KioskKey::from_token(TOKEN),
    );
    roster.devices.truncate(1);
    roster.open_custody.clear();
    let server = FakeServer::start(roster);
    let mut config = config(&dir);
    config.server = Some(ServerLink {
        url: server.url(),
        token: TOKEN.into(),
    });
    let kiosk = SimKiosk::start(config).unwrap();
    eventually(
        &kiosk,
        "roster from the server",
        |k| matches!(k.screen().unwrap(), Some(Screen::Idle { devices, .. }) if devices.len() == 1),
    );
    kiosk.tap_hex(demo::UNKNOWN).unwrap();
    kiosk.tap_hex(demo::STAFF).unwrap();
    kiosk.tap_hex(demo::CAMERA_1).unwrap();
    eventually(&kiosk, "events delivered", |k| k.pending().unwrap() == 0);
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 4);
    assert!(recorded.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        dir.0.join("roster.json").exists(),
        "roster cached for offline starts"
    );
    kiosk.shutdown();
}

#[test]
fn the_handle_can_be_shared_between_web_request_handlers() {
    let dir = TempDir::new("sim-shared");
    let kiosk = std::sync::Arc::new(SimKiosk::start(config(&dir)).unwrap());
    let handler = {
        let kiosk = kiosk.clone();
        std::thread::spawn(move || kiosk.tap_hex(demo::UNKNOWN))
    };
    handler.join().unwrap().unwrap();
    assert_eq!(
        kiosk.screen().unwrap(),
        Some(Screen::Refused(Refusal::UnknownCard))
    );
}

#[test]
fn an_unplugged_reader_shows_a_fault_until_it_is_plugged_back_in() {
    let dir = TempDir::new("sim-unplug");
    let kiosk = SimKiosk::start(config(&dir)).unwrap();
    kiosk.set_reader_unplugged(true).unwrap();
    assert_eq!(kiosk.screen().unwrap(), Some(Screen::ReaderFault));
    assert_eq!(kiosk.signals(), vec![Signal::Attention]);
    kiosk.set_reader_unplugged(false).unwrap();
    assert!(matches!(kiosk.screen().unwrap(), Some(Screen::Idle { .. })));
}

#[test]
fn a_real_import_is_followed_through_its_progress_file() {
    let dir = TempDir::new("sim-follow");
    let progress = dir.0.join("progress.jsonl");
    let mut config = config(&dir);
    config.card_progress = Some(progress.clone());
    let kiosk = SimKiosk::start(config).unwrap();
    kiosk.tap_hex(demo::CAMERA_2).unwrap();
    assert!(matches!(
        kiosk.screen().unwrap(),
        Some(Screen::Returned { .. })
    ));
    // The import service starts a new progress file and writes as it goes.
    let fresh = dir.0.join("progress.new");
    std::fs::write(
        &fresh,
        "{\"event\":\"started\",\"files\":3}\n{\"event\":\"progress\",\"done\":1,\"files\":3,\"failed\":0}\n",
    )
    .unwrap();
    std::fs::rename(&fresh, &progress).unwrap();
    eventually(&kiosk, "the progress bar", |k| {
        k.screen().unwrap()
            == Some(Screen::Importing {
                device: "Camera 2".into(),
                done: 1,
                total: 3,
                failed: 0,
            })
    });
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&progress)
        .unwrap();
    file.write_all(
        b"{\"event\":\"progress\",\"done\":3,\"files\":3,\"failed\":1}\n{\"event\":\"finished\",\"imported\":2,\"failed\":1,\"kinds\":{\"jpeg\":1,\"png\":1}}\n",
    )
    .unwrap();
    eventually(&kiosk, "the summary", |k| {
        k.screen().unwrap()
            == Some(Screen::ImportSummary {
                device: "Camera 2".into(),
                imported: 2,
                failed: 1,
                kinds: KindCounts {
                    jpeg: 1,
                    png: 1,
                    ..KindCounts::default()
                },
            })
    });
}
