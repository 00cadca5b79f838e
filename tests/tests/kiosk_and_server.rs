//! A simulated kiosk and a real server, meeting only at the JSON API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::store::{self, audit};
use consentcam::web::{self, AppState};
use consentcam_kiosk::demo;
use consentcam_kiosk::screen::Screen;
use consentcam_kiosk::sim::{ServerLink, SimKiosk, SimKioskConfig, SimKioskHandle};
use tokio::sync::oneshot;

struct Server {
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_server(db: &Path, addr: SocketAddr) -> Server {
    let config = Config {
        data_dir: db.parent().unwrap().to_path_buf(),
        ..Config::default()
    };
    let conn = store::open(db).unwrap();
    let state = AppState::new(conn, config, Clock::System);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (stop, stopped) = oneshot::channel();
    let done = tokio::spawn(web::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Server { stop, done }
}

async fn stop_server(server: Server) {
    let _ = server.stop.send(());
    server.done.await.unwrap().unwrap();
}

/// Seeds the demo records (badges and tags as the simulated kiosk's demo buttons) and
/// returns the kiosk's token.
fn seed(db: &Path) -> String {
    let mut conn = store::open(db).unwrap();
    let clock = Clock::System;
    let now = clock.now();
    let today = clock.today(&jiff::tz::TimeZone::UTC);
    consentcam::demo::seed(&mut conn, now, today)
        .unwrap()
        .kiosk_token
}

fn free_port() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// A simulated kiosk in `dir` (inside the server's data directory, whose card imports it
/// follows as the demo's does).
fn kiosk(dir: PathBuf, addr: SocketAddr, token: &str) -> SimKioskHandle {
    let card_progress = dir.parent().map(consentcam::demo::card::progress_file);
    let mut config = SimKioskConfig::new(dir);
    config.card_progress = card_progress;
    config.reader_name = "e2e".into();
    config.tick = Duration::from_millis(20);
    config.sync_every = Duration::from_millis(100);
    config.server = Some(ServerLink {
        url: format!("http://{addr}"),
        token: token.into(),
    });
    SimKiosk::start(config).unwrap()
}

/// Waits (bounded) until `done` holds; the kiosk syncs on its own thread.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn tap_event_ids(db: &Path) -> Vec<String> {
    let conn = store::open(db).unwrap();
    let mut rows = audit::list(
        &conn,
        &audit::Filter {
            action_prefix: Some("kiosk.tap".into()),
            limit: Some(10_000),
            ..Default::default()
        },
    )
    .unwrap();
    rows.reverse();
    rows.iter()
        .map(|r| r.details["event_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A demo-seeded server on a free port and a simulated kiosk linked to it.
struct Setup {
    dir: tempfile::TempDir,
    db: PathBuf,
    addr: SocketAddr,
    server: Server,
    kiosk: SimKioskHandle,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("records.db");
    let token = seed(&db);
    let addr = free_port();
    let server = start_server(&db, addr).await;
    let kiosk = kiosk(dir.path().join("kiosk"), addr, &token);
    Setup {
        dir,
        db,
        addr,
        server,
        kiosk,
    }
}

/// Waits until the kiosk knows the demo's staff badge (it has the server's roster); the
/// kiosk is then waiting for a device tag.
async fn await_roster(kiosk: &SimKioskHandle) {
    eventually("the roster", || {
        kiosk.tap_hex(demo::STAFF).unwrap();
        matches!(kiosk.screen().unwrap(), Some(Screen::AwaitDevice { .. }))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_at_the_kiosk_reaches_the_server_as_custody() {
    let Setup {
        dir: _dir,
        db,
        addr: _,
        server,
        kiosk,
    } = setup().await;
    await_roster(&kiosk).await;
    kiosk.tap_hex(demo::CAMERA_1).unwrap();
    eventually("the journal to drain", || kiosk.pending().unwrap() == 0).await;
    let conn = store::open(&db).unwrap();
    let open = consentcam::store::custody::open_sessions(&conn).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(audit::verify(&conn).unwrap().problems.is_empty());
    kiosk.shutdown();
    stop_server(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_taps_while_the_server_is_down_arrive_once_and_in_order() {
    let Setup {
        dir: _dir,
        db,
        addr,
        server,
        kiosk,
    } = setup().await;
    // Let the kiosk fetch its roster, then take the server away.
    kiosk.tap_hex(demo::LEARNER).unwrap();
    eventually("the first tap to arrive", || tap_event_ids(&db).len() == 1).await;
    stop_server(server).await;

    let badges = [demo::LEARNER, demo::UNKNOWN, demo::NO_PERMISSION];
    for n in 0..20 {
        kiosk.tap_hex(badges[n % badges.len()]).unwrap();
    }
    assert!(
        kiosk.pending().unwrap() >= 20,
        "the taps are journalled while offline"
    );
    assert_eq!(
        tap_event_ids(&db).len(),
        1,
        "nothing reached the server while it was down"
    );

    let server = start_server(&db, addr).await;
    eventually("the journal to drain", || kiosk.pending().unwrap() == 0).await;
    let ids = tap_event_ids(&db);
    assert_eq!(ids.len(), 21, "each tap recorded exactly once: {ids:?}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 21);
    let seqs: Vec<u64> = ids
        .iter()
        .map(|id| id.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in the order tapped: {seqs:?}"
    );
    kiosk.shutdown();
    stop_server(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_the_device_booked_for_a_class_shows_who_must_not_be_photographed() {
    use consentcam_hardware::Button;
    use consentcam_wire::CautionKind;

    let Setup {
        dir: _dir,
        db,
        addr: _,
        server,
        kiosk,
    } = setup().await;
    await_roster(&kiosk).await;
    kiosk.tap_hex(demo::IPAD_1).unwrap();
    assert!(matches!(
        kiosk.screen().unwrap(),
        Some(Screen::SignedOut { .. })
    ));
    kiosk.press(Button::Ok).unwrap();
    assert_eq!(
        kiosk.screen().unwrap(),
        Some(Screen::GroupBrief {
            group: consentcam::demo::DEMO_GROUP.into(),
            members: 8,
            no_photos: 4,
            not_public: 3,
        })
    );
    kiosk.press(Button::Ok).unwrap();
    match kiosk.screen().unwrap() {
        Some(Screen::Cautions { caution, names, .. }) => {
            assert_eq!(caution, CautionKind::NoPhotos);
            // Given name and initial only: the demo's Harry Wilson has no form at all.
            assert!(names.contains(&"Harry W.".to_owned()), "{names:?}");
        }
        other => panic!("{other:?}"),
    }
    // The server files the sign-out under the booking.
    eventually("the journal to drain", || kiosk.pending().unwrap() == 0).await;
    let conn = store::open(&db).unwrap();
    let open = consentcam::store::custody::open_sessions(&conn).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    let booking = consentcam::store::groups::booking(&conn, open[0].booking_id.unwrap()).unwrap();
    assert_eq!(booking.group_name, consentcam::demo::DEMO_GROUP);
    kiosk.shutdown();
    stop_server(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_cameras_card_is_imported_and_the_kiosk_shows_the_real_progress() {
    let Setup {
        dir,
        db,
        addr: _,
        server,
        kiosk,
    } = setup().await;
    await_roster(&kiosk).await;
    kiosk.tap_hex(demo::CAMERA_1).unwrap();
    assert!(matches!(
        kiosk.screen().unwrap(),
        Some(Screen::SignedOut { .. })
    ));
    kiosk.tap_hex(demo::CAMERA_1).unwrap();
    assert!(matches!(
        kiosk.screen().unwrap(),
        Some(Screen::Returned { .. })
    ));
    eventually("the sign-out and return to arrive", || {
        kiosk.pending().unwrap() == 0
    })
    .await;

    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let now = Clock::System.now();
    let done = tokio::task::spawn_blocking(move || {
        consentcam::demo::card::insert_camera_card(&config, now)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(done.stored, consentcam::demo::card::PICTURES);
    eventually("the import summary on the kiosk", || {
        kiosk.screen().unwrap()
            == Some(Screen::ImportSummary {
                device: "Camera 1".into(),
                imported: consentcam::demo::card::PICTURES as u32,
                failed: 0,
                kinds: consentcam_wire::KindCounts {
                    jpeg: consentcam::demo::card::PICTURES as u32,
                    ..Default::default()
                },
            })
    })
    .await;
    // The photos belong to that sign-out, from a registered camera inside its window.
    let conn = store::open(&db).unwrap();
    let session = done.session.expect("attributed to the sign-out");
    let photos = consentcam::store::photos::photos(&conn, Some(session), 100).unwrap();
    assert_eq!(photos.len(), consentcam::demo::card::PICTURES);
    assert!(
        photos
            .iter()
            .all(|p| p.provenance == consentcam::rules::consent::Provenance::Verified),
        "{photos:?}"
    );
    assert!(audit::verify(&conn).unwrap().problems.is_empty());
    kiosk.shutdown();
    stop_server(server).await;
}
