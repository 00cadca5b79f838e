//! K6: with the server unreachable the kiosk keeps deciding taps from its last roster,
//! journals every event on disk, and replays them in order, exactly once, when the server
//! is back, even if the kiosk is killed mid-replay.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::TempDir;
use common::fake_server::{FakeServer, TOKEN};
use consentcam_kiosk::client::{ApiError, HttpApi};
use consentcam_kiosk::demo::{self, uid};
use consentcam_kiosk::journal::Journal;
use consentcam_kiosk::link::{SyncError, sync_once};
use consentcam_kiosk::machine::{Effect, Event, Settings, State, step};
use consentcam_kiosk::roster::LocalRoster;
use consentcam_wire::{KioskEvent, KioskEventKind};
use jiff::{SignedDuration, Timestamp};

fn at(secs: i64) -> Timestamp {
    "2026-11-25T09:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap()
}

fn api(server: &FakeServer) -> HttpApi {
    HttpApi::new(&server.url(), TOKEN, Duration::from_secs(5))
}

/// Taps cycling through staff, devices and refusals; each step's records go to the
/// journal as the kiosk shell would write them.
fn tap_n(journal: &Mutex<Journal>, n: usize) -> State {
    let badges = [
        demo::STAFF,
        demo::CAMERA_1,
        demo::LEARNER,
        demo::UNKNOWN,
        demo::CAMERA_1,
    ];
    let mut state = State::new(
        LocalRoster::from_roster(&demo::roster(at(0)), &demo::key()),
        Settings::default(),
    );
    for i in 0..n {
        let event = Event::Tapped {
            uid: uid(badges[i % badges.len()]),
            at: at(i as i64 * 10),
        };
        let (next, effects) = step(state, event);
        state = next;
        for effect in effects {
            if let Effect::Record { kind, at } = effect {
                journal.lock().unwrap().append(kind, at).unwrap();
            }
        }
    }
    state
}

fn assert_once_in_order(recorded: &[KioskEvent], journalled: &[KioskEvent]) {
    assert_eq!(
        recorded.len(),
        journalled.len(),
        "each event recorded exactly once"
    );
    assert_eq!(recorded, journalled, "recorded in the order they happened");
    assert!(recorded.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[test]
fn server_down_for_20_taps_then_back_records_each_event_once_in_order() {
    let dir = TempDir::new("down20");
    let server = FakeServer::start(demo::roster(at(0)));
    server.set(|b| b.down = true);
    let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
    let api = api(&server);

    // Twenty taps while down; the kiosk tries to sync after each and fails.
    let mut attempts = 0;
    for i in 0..20 {
        tap_n_one(&journal, i);
        let result = sync_once(&journal, &api);
        assert!(
            matches!(result, Err(SyncError::Api(ref e)) if e.is_unreachable()),
            "{result:?}"
        );
        attempts += 1;
    }
    assert_eq!(attempts, 20);
    let journalled: Vec<KioskEvent> = journal.lock().unwrap().pending().cloned().collect();
    assert!(journalled.len() >= 20, "every tap journalled");
    assert!(server.recorded().is_empty());

    server.set(|b| b.down = false);
    let report = sync_once(&journal, &api).unwrap();
    assert_eq!(report.delivered, journalled.len());
    assert!(
        report.roster.is_some(),
        "roster fetched once the journal is empty"
    );
    assert_once_in_order(&server.recorded(), &journalled);
    assert_eq!(journal.lock().unwrap().pending_len(), 0);

    // Nothing is sent twice on the next round.
    let posts = server.posts();
    sync_once(&journal, &api).unwrap();
    assert_eq!(server.posts(), posts);
    assert_once_in_order(&server.recorded(), &journalled);
}

/// One tap of the cycle in `tap_n`, appended to the journal.
fn tap_n_one(journal: &Mutex<Journal>, i: usize) {
    let badges = [
        demo::STAFF,
        demo::LEARNER,
        demo::UNKNOWN,
        demo::NO_PERMISSION,
    ];
    journal
        .lock()
        .unwrap()
        .append(
            KioskEventKind::Tap {
                uid: uid(badges[i % badges.len()]),
                outcome: consentcam_wire::TapOutcome::Accepted,
            },
            at(i as i64),
        )
        .unwrap();
}

#[test]
fn a_kiosk_killed_after_the_server_recorded_a_batch_still_records_each_event_once() {
    let dir = TempDir::new("killed");
    let server = FakeServer::start(demo::roster(at(0)));
    let journalled: Vec<KioskEvent> = {
        let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
        tap_n(&journal, 120);
        let all: Vec<KioskEvent> = journal.lock().unwrap().pending().cloned().collect();
        assert!(all.len() > 100, "more than two batches");
        // The first batch is answered; the second is recorded but the kiosk dies
        // before it hears back.
        server.set(|b| b.swallow_replies = 0);
        let api = api(&server);
        let first = journal.lock().unwrap().batch(50);
        let receipt = {
            use consentcam_kiosk::client::KioskApi;
            api.post_events(&consentcam_wire::EventBatch {
                events: first,
                sent_at: None,
            })
            .unwrap()
        };
        journal.lock().unwrap().acknowledge(&receipt).unwrap();
        server.set(|b| b.swallow_replies = 1);
        assert!(sync_once(&journal, &api).is_err());
        all
        // The journal is dropped here: the process is gone, only the disk remains.
    };
    assert!(server.recorded().len() > 50);

    let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
    assert_eq!(
        journal.lock().unwrap().pending_len(),
        journalled.len() - 50,
        "only the acknowledged batch is gone after a restart"
    );
    sync_once(&journal, &api(&server)).unwrap();
    assert_once_in_order(&server.recorded(), &journalled);
    assert_eq!(journal.lock().unwrap().pending_len(), 0);
}

#[test]
fn numbering_continues_after_a_restart_and_a_torn_last_line_is_cut_off() {
    let dir = TempDir::new("torn");
    let first = {
        let mut journal = Journal::open(&dir.0, "office-1").unwrap();
        let kind = KioskEventKind::Returned {
            device_id: 1,
            person_id: 2,
        };
        journal.append(kind.clone(), at(0)).unwrap();
        journal.append(kind, at(1)).unwrap()
    };
    // A power cut in the middle of the third append.
    let path = dir.0.join("events.jsonl");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"event_id":"x-3","se"#);
    std::fs::write(&path, bytes).unwrap();

    let mut journal = Journal::open(&dir.0, "office-1").unwrap();
    assert_eq!(journal.pending_len(), 2);
    let next = journal
        .append(
            KioskEventKind::Returned {
                device_id: 1,
                person_id: 2,
            },
            at(2),
        )
        .unwrap();
    assert_eq!(next.seq, first.seq + 1);
    assert_eq!(
        next.event_id.split('-').next(),
        first.event_id.split('-').next(),
        "same kiosk instance"
    );
    drop(journal);
    assert_eq!(Journal::open(&dir.0, "office-1").unwrap().pending_len(), 3);
}

#[test]
fn a_wiped_data_directory_never_reuses_an_event_id() {
    let a = TempDir::new("wipe-a");
    let b = TempDir::new("wipe-b");
    let kind = KioskEventKind::Returned {
        device_id: 1,
        person_id: 2,
    };
    let one = Journal::open(&a.0, "office-1")
        .unwrap()
        .append(kind.clone(), at(0))
        .unwrap();
    let two = Journal::open(&b.0, "office-1")
        .unwrap()
        .append(kind, at(0))
        .unwrap();
    assert_eq!(one.seq, two.seq);
    assert_ne!(one.event_id, two.event_id);
}

#[test]
fn a_rejected_event_stays_in_the_journal_with_everything_after_it() {
    let dir = TempDir::new("reject");
    let server = FakeServer::start(demo::roster(at(0)));
    let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
    for i in 0..5 {
        tap_n_one(&journal, i);
    }
    let third = journal.lock().unwrap().batch(5)[2].event_id.clone();
    server.set(|b| b.reject = Some(third.clone()));
    let result = sync_once(&journal, &api(&server));
    assert!(matches!(result, Err(SyncError::Rejected { ref event_id, .. }) if *event_id == third));
    assert_eq!(server.recorded().len(), 2);
    let left: Vec<String> = journal
        .lock()
        .unwrap()
        .pending()
        .map(|e| e.event_id.clone())
        .collect();
    assert_eq!(left.len(), 3);
    assert_eq!(left[0], third);
}

#[test]
fn a_wrong_token_is_reported_as_such_not_as_the_server_being_down() {
    let server = FakeServer::start(demo::roster(at(0)));
    let api = HttpApi::new(&server.url(), "wrong", Duration::from_secs(5));
    use consentcam_kiosk::client::KioskApi;
    let error = api.roster().unwrap_err();
    assert!(matches!(error, ApiError::Unauthorised(401)), "{error:?}");
    assert!(!error.is_unreachable());
    // With the right token the roster arrives intact.
    let roster = HttpApi::new(&server.url(), TOKEN, Duration::from_secs(5))
        .roster()
        .unwrap();
    assert_eq!(roster, demo::roster(at(0)));
}

#[test]
fn a_kiosk_process_killed_mid_replay_still_gets_each_event_recorded_once() {
    let dir = TempDir::new("sigkill");
    let server = FakeServer::start(demo::roster(at(0)));
    // 120 events wait in the journal, written while the server was down.
    let journalled: Vec<KioskEvent> = {
        let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
        tap_n(&journal, 120);
        journal.lock().unwrap().pending().cloned().collect()
    };
    assert!(journalled.len() > 100);
    let token_file = dir.0.join("token");
    std::fs::write(&token_file, TOKEN).unwrap();

    // The server records the first batch and holds its answer; the kiosk is killed
    // (SIGKILL) while it waits, so it never learns the batch arrived.
    server.set(|b| b.hold_replies = true);
    let data_dir = dir.0.to_str().unwrap();
    let mut child = common::kiosk_command(&[
        "--sim",
        "--data-dir",
        data_dir,
        "--server",
        &server.url(),
        "--token-file",
        token_file.to_str().unwrap(),
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let mut waited = 0;
    while server.recorded().len() < 50 {
        assert!(
            waited < 6000,
            "the kiosk never replayed its journal: {:?}",
            child.try_wait()
        );
        std::thread::sleep(Duration::from_millis(5));
        waited += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    server.set(|b| b.hold_replies = false);
    assert_eq!(server.recorded().len(), 50);

    // Restarted, the kiosk still holds every event and replays them all.
    let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
    assert_eq!(journal.lock().unwrap().pending_len(), journalled.len());
    sync_once(&journal, &api(&server)).unwrap();
    assert_once_in_order(&server.recorded(), &journalled);
    assert_eq!(journal.lock().unwrap().pending_len(), 0);
}

#[test]
fn an_edited_or_added_journal_line_is_set_aside_and_reported_not_replayed() {
    let dir = TempDir::new("tamper");
    let returned = |device_id| KioskEventKind::Returned {
        device_id,
        person_id: demo::STAFF_ID,
    };
    {
        let mut journal = Journal::open(&dir.0, "office-1").unwrap();
        for (n, device) in [1, 2, 3].into_iter().enumerate() {
            journal.append(returned(device), at(n as i64)).unwrap();
        }
    }
    // Someone with the card changes who had device 2 and adds a back-dated sign-out,
    // copying the format (but not knowing the key).
    let path = dir.0.join("events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = lines[1].replace(
        &format!("\"person_id\":{}", demo::STAFF_ID),
        &format!("\"person_id\":{}", demo::OTHER_STAFF_ID),
    );
    let (mac, _) = lines[0].split_once(' ').unwrap();
    lines.push(format!(
        "{mac} {{\"event_id\":\"x-9\",\"seq\":9,\"at\":\"2026-11-20T09:00:00Z\",\"reader\":\"office-1\",\"type\":\"signed_out\",\"device_id\":1,\"person_id\":{},\"due_back\":\"2026-11-20T17:00:00Z\"}}",
        demo::OTHER_STAFF_ID
    ));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let journal = Journal::open(&dir.0, "office-1").unwrap();
    let pending: Vec<KioskEvent> = journal.pending().cloned().collect();
    let kinds: Vec<&KioskEventKind> = pending.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds,
        [
            &returned(1),
            &returned(3),
            &KioskEventKind::JournalRefused { lines: 2 }
        ],
        "only the lines whose MAC holds, then the report"
    );
    // The journal's key is its own (a new kiosk token does not change it) and only the
    // kiosk's user may read it.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.0.join("journal.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let aside = std::fs::read_to_string(dir.0.join("events.refused")).unwrap();
    assert_eq!(aside.lines().count(), 2, "kept as evidence: {aside}");
    assert!(aside.contains("x-9"));
    // The journal now holds only good lines: opening it again finds nothing to refuse.
    drop(journal);
    let again = Journal::open(&dir.0, "office-1").unwrap();
    assert_eq!(again.pending_len(), 3);
    // The journal copied to another kiosk (with its own key) is refused line by line.
    drop(again);
    let other = TempDir::new("tamper-other");
    Journal::open(&other.0, "office-1").unwrap();
    std::fs::copy(dir.0.join("events.jsonl"), other.0.join("events.jsonl")).unwrap();
    let foreign = Journal::open(&other.0, "office-1").unwrap();
    let kinds: Vec<KioskEventKind> = foreign.pending().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, [KioskEventKind::JournalRefused { lines: 3 }]);
}

#[test]
fn the_cached_roster_and_a_delivered_journal_hold_no_badge_uid() {
    let dir = TempDir::new("nouids");
    let server = FakeServer::start(demo::roster(at(0)));
    let journal = Mutex::new(Journal::open(&dir.0, "office-1").unwrap());
    tap_n(&journal, 10);
    let report = sync_once(&journal, &api(&server)).unwrap();
    let cache = dir.0.join("roster.json");
    consentcam_kiosk::link::save_roster(&cache, &report.roster.unwrap()).unwrap();
    let on_card: String = ["roster.json", "events.jsonl"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.0.join(f)).unwrap())
        .collect();
    for uid in [demo::STAFF, demo::CAMERA_1, demo::LEARNER, demo::UNKNOWN] {
        assert!(!on_card.contains(uid), "{uid} on the card: {on_card}");
    }
    // The cached roster still recognises the badges it names by hash.
    let roster = consentcam_kiosk::link::load_roster(&cache).unwrap();
    let local = LocalRoster::from_roster(&roster, &demo::key());
    assert!(matches!(
        local.resolve(&uid(demo::STAFF)),
        consentcam_kiosk::roster::Tapped::Staff { .. }
    ));
}
