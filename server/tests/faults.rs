//! The whole server under faults, run as people run it: the real `consentcam serve`,
//! killed with SIGKILL at random moments while everything happens at once, then started
//! again; after every restart and at the end, what must hold is checked from outside the
//! server's code (its records read with plain SQL, its files listed, `check-audit` and
//! `verify-backup` run as an administrator would).
//!
//! The load: three kiosks sign their cameras out and in (resending an event until it is
//! acknowledged, as the kiosk's journal does) and send returned cards with
//! `import-card --server`; staff tag and confirm the photos; a director acknowledges
//! provenance, approves and publishes; an admin imports consent CSVs and withdraws forms;
//! the director marks the takedowns done; the nightly backup runs (and is killed too, at
//! times). Every change the server answered 2xx for is written in a ledger, and must be
//! found afterwards.
//!
//! `CONSENTCAM_KILLS` sets the number of kills (CI runs 100). The negative control runs
//! the same campaign with the server answering kiosk events before it writes them (a
//! test-only switch, `CONSENTCAM_FAULT=answer-before-commit`): the checks must catch it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use consentcam::domain::{AccountRole, Role};
use consentcam::infra::archive::Archive;
use consentcam::infra::clock::Clock;
use consentcam::infra::password;
use consentcam::store::{self, registry};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::sync::RwLock;

// The S3 test server the media and migration tests share; this file uses part of it.
#[path = "common/records.rs"]
mod records;
#[path = "../media/tests/common/s3.rs"]
#[allow(dead_code)]
mod s3;
#[path = "common/session.rs"]
mod session;

use session::Session;

const KIOSKS: usize = 3;
const LEARNERS: usize = 24;
/// Photos on each card a kiosk sends.
const CARD_FILES: usize = 6;
/// Rows of each consent CSV the admin imports.
const CSV_ROWS: usize = 5;

const PASSWORDS: [(&str, &str, AccountRole); 3] = [
    ("staff", "staff-faults-password", AccountRole::Staff),
    (
        "director",
        "director-faults-password",
        AccountRole::Director,
    ),
    ("admin", "admin-faults-password", AccountRole::Admin),
];

/// A small deterministic generator (xorshift), one per actor.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A change the server acknowledged with a 2xx answer (or a command with exit status 0).
#[derive(Debug, Clone)]
enum Acked {
    /// A kiosk event in `recorded`: in custody once.
    Event(String),
    /// A kiosk event in `duplicate`: kept once.
    EventAgain(String),
    Tag {
        photo: i64,
        person: i64,
    },
    Confirmed(i64),
    Provenance(i64),
    Approved(i64),
    Published(String),
    Withdrawn(i64),
    TakedownDone(i64),
    /// The references of one consent CSV.
    Csv(Vec<String>),
    /// The content hashes of one card, sent whole.
    Card(Vec<String>),
    /// A backup that finished.
    Backup,
}

impl Acked {
    /// The queries that find it in the records: each counts exactly 1 when it is there.
    fn found_by(&self) -> Vec<(&'static str, Vec<rusqlite::types::Value>)> {
        use rusqlite::types::Value::{Integer, Text};
        const EVENT: &str = "SELECT count(*) FROM kiosk_events WHERE event_id = ?1";
        match self {
            Acked::Event(id) => vec![
                (EVENT, vec![Text(id.clone())]),
                (
                    "SELECT count(*) FROM custody_sessions
                     WHERE out_event_id = ?1 OR return_event_id = ?1",
                    vec![Text(id.clone())],
                ),
            ],
            Acked::EventAgain(id) => vec![(EVENT, vec![Text(id.clone())])],
            Acked::Tag { photo, person } => vec![(
                "SELECT count(*) FROM tags WHERE photo_id = ?1 AND person_id = ?2",
                vec![Integer(*photo), Integer(*person)],
            )],
            Acked::Confirmed(photo) => vec![(
                "SELECT count(*) FROM photos WHERE id = ?1 AND people_confirmed = 1",
                vec![Integer(*photo)],
            )],
            Acked::Provenance(photo) => vec![(
                "SELECT count(*) FROM photos WHERE id = ?1
                 AND (provenance = 'verified' OR provenance_ack_by IS NOT NULL)",
                vec![Integer(*photo)],
            )],
            // Approved at least once (a later change may void it and a director approve
            // again).
            Acked::Approved(photo) => vec![(
                "SELECT count(*) > 0 FROM approvals WHERE photo_id = ?1 AND approved = 1",
                vec![Integer(*photo)],
            )],
            Acked::Published(name) => vec![(
                "SELECT count(*) FROM publications WHERE opaque_name = ?1",
                vec![Text(name.clone())],
            )],
            Acked::Withdrawn(form) => vec![(
                "SELECT count(*) FROM consent_records WHERE id = ?1 AND withdrawn_on IS NOT NULL",
                vec![Integer(*form)],
            )],
            Acked::TakedownDone(id) => vec![(
                "SELECT count(*) FROM publications WHERE id = ?1 AND takedown_done_at IS NOT NULL",
                vec![Integer(*id)],
            )],
            Acked::Csv(refs) => refs
                .iter()
                .map(|r| {
                    (
                        "SELECT count(*) FROM consent_records c JOIN people p
                         ON p.id = c.person_id WHERE p.ext_ref = ?1",
                        vec![Text(r.clone())],
                    )
                })
                .collect(),
            Acked::Card(hashes) => hashes
                .iter()
                .map(|h| {
                    (
                        "SELECT count(*) FROM photos WHERE content_hash = ?1",
                        vec![Text(h.clone())],
                    )
                })
                .collect(),
            Acked::Backup => vec![],
        }
    }
}

#[derive(Default)]
struct Ledger {
    acked: Mutex<Vec<Acked>>,
    /// Hashes of the cards still being sent: their originals may be stored without a row
    /// until the card is sent again.
    sending: Mutex<BTreeSet<String>>,
}

impl Ledger {
    fn push(&self, a: Acked) {
        self.acked.lock().unwrap().push(a);
    }

    fn snapshot(&self) -> Vec<Acked> {
        self.acked.lock().unwrap().clone()
    }
}

struct Kiosk {
    token: String,
    token_file: PathBuf,
    device: i64,
    staff: i64,
}

struct Campaign {
    dir: tempfile::TempDir,
    /// The folder of the bucket the archive is kept in, when it is in object storage.
    bucket: Option<PathBuf>,
    config: PathBuf,
    data: PathBuf,
    backups: PathBuf,
    port: u16,
    kiosks: Vec<Kiosk>,
    /// Each learner's id and their parent's form.
    learners: Vec<(i64, i64)>,
}

impl Campaign {
    /// Where the archive's files are (the data directory, or the bucket's folder), and
    /// whether hidden names there are the S3 server's own bookkeeping.
    fn archive(&self) -> (&Path, bool) {
        match &self.bucket {
            Some(folder) => (folder, true),
            None => (&self.data, false),
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn consentcam(config: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_consentcam"));
    command.arg("--config").arg(config).env("RUST_LOG", "warn");
    command
}

fn tokio_consentcam(config: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentcam"));
    command
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

/// A data directory with the accounts, kiosks, their cameras and staff, and learners with
/// a parent's form each: what an admin set up before the day began.
fn prepared() -> Campaign {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backups = dir.path().join("backups");
    prepared_in(dir, data, backups, 0, "")
}

/// As [`prepared`], with the records in `data` (which may be on a filesystem of its own),
/// the backups in `backups` and `reserve_mib` as `[limits] free_space_reserve_mib`.
fn prepared_in(
    dir: tempfile::TempDir,
    data: PathBuf,
    backups: PathBuf,
    reserve_mib: u64,
    extra_config: &str,
) -> Campaign {
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("consentcam.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlogin_attempts = 1000\n[limits]\nfree_space_reserve_mib = {reserve_mib}\n\
             [sandbox]\nworker_program = {:?}\n{extra_config}",
            data,
            env!("CARGO_BIN_EXE_consentcam")
        ),
    )
    .unwrap();
    let now = Clock::System.now();
    let conn = store::open(&data.join("records.db")).unwrap();
    records::accounts(&conn, &PASSWORDS, now);
    let mut kiosks = Vec::new();
    for k in 0..KIOSKS {
        let staff = records::staff_with_badge(
            &conn,
            &format!("S{k}"),
            ("Staff", &format!("Member{k}")),
            &format!("B0{k:06X}"),
            now,
        );
        let device = records::camera(
            &conn,
            &format!("Camera {k}"),
            "EOS 250D",
            &format!("FAULT-{k}"),
            &format!("D0{k:06X}"),
            now,
        );
        let token = password::random_token();
        registry::insert_kiosk(
            &conn,
            &format!("site-{k}"),
            &password::token_hash(&token),
            now,
        )
        .unwrap();
        let token_file = dir.path().join(format!("kiosk-{k}.token"));
        std::fs::write(&token_file, &token).unwrap();
        kiosks.push(Kiosk {
            token,
            token_file,
            device,
            staff: staff.0,
        });
    }
    let mut learners = Vec::new();
    for n in 0..LEARNERS {
        let id = records::person(
            &conn,
            &format!("L{n}"),
            ("Sam", &format!("Learner{n}")),
            Role::Learner,
            "2011-01-01",
            now,
        );
        let form = records::website_form(&conn, id, "faults", now);
        learners.push((id.0, form));
    }
    drop(conn);
    Campaign {
        backups,
        bucket: None,
        dir,
        config,
        data,
        port: free_port(),
        kiosks,
        learners,
    }
}

/// A client that gives up on a dead server quickly.
fn client(cookies: bool) -> Client {
    Client::builder()
        .cookie_store(cookies)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Logs in as one of the campaign's accounts.
async fn login(base: &str, user: &str) -> Session {
    let pass = PASSWORDS.iter().find(|p| p.0 == user).unwrap().1;
    Session::login(base, user, pass).await
}

/// A connection to the records for choosing what to work on and for the checks: plain
/// SQL, never the server's code.
fn records(data: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(data.join("records.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

fn ids(conn: &rusqlite::Connection, sql: &str) -> Vec<i64> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn count(conn: &rusqlite::Connection, sql: &str, p: impl rusqlite::Params) -> i64 {
    conn.query_row(sql, p, |r| r.get(0)).unwrap()
}

/// What the actors share: the server's address, the ledger, the pause for the checks and
/// the stop.
struct Shared {
    base: String,
    data: PathBuf,
    config: PathBuf,
    backups: PathBuf,
    /// Scratch space on the ordinary disk (the cards).
    work: PathBuf,
    ledger: Ledger,
    /// Held (read) for each step; the checks take it (write) so nothing runs under them.
    gate: RwLock<()>,
    stop: AtomicBool,
    /// Steps that failed because the server was away (or said no): not acknowledged.
    unanswered: AtomicUsize,
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// A kiosk's event, now: its camera signed out to its member of staff (for four hours),
/// or back.
fn kiosk_event(id: &str, seq: u64, kiosk: &Kiosk, out: bool) -> Value {
    let at = Clock::System.now();
    let mut event = json!({
        "event_id": id, "seq": seq, "at": at, "reader": "office",
        "device_id": kiosk.device, "person_id": kiosk.staff,
    });
    if out {
        event["type"] = json!("signed_out");
        event["due_back"] = json!(at.checked_add(jiff::SignedDuration::from_hours(4)).unwrap());
    } else {
        event["type"] = json!("returned");
    }
    event
}

/// A kiosk: its camera out and back, one event at a time, each sent again until the
/// server acknowledges it; every eighth return brings a card, sent until it is whole.
async fn kiosk(shared: Arc<Shared>, k: usize, kiosk: Kiosk, mut rng: Rng, fault: bool) {
    let client = client(false);
    let mut seq = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        seq += 1;
        let returned = seq.is_multiple_of(2);
        let event = kiosk_event(&format!("k{k}-{seq}"), seq, &kiosk, !returned);
        // Sent until acknowledged, as the kiosk's journal does; the stop waits for it.
        loop {
            let guard = shared.gate.read().await;
            let answer = client
                .post(format!("{}/api/v1/kiosk/events", shared.base))
                .bearer_auth(&kiosk.token)
                .json(&json!({ "events": [event] }))
                .send()
                .await;
            let receipt = match answer {
                Ok(r) if r.status() == StatusCode::OK => r.json::<Value>().await.ok(),
                _ => None,
            };
            drop(guard);
            if let Some(receipt) = receipt {
                let id = event["event_id"].as_str().unwrap().to_owned();
                let has = |list: &str| {
                    receipt[list]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|e| e.as_str() == Some(&id)))
                };
                if has("recorded") {
                    shared.ledger.push(Acked::Event(id));
                } else if has("duplicate") {
                    shared.ledger.push(Acked::EventAgain(id));
                } else {
                    panic!("kiosk event {id} neither recorded nor a duplicate: {receipt}");
                }
                break;
            }
            shared.unanswered.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if returned && seq.is_multiple_of(8) && !fault {
            send_card(&shared, k, seq, &kiosk, &mut rng).await;
        }
        pause().await;
    }
}

/// A card with `CARD_FILES` new pictures (`salt` makes them differ) in a folder under
/// `work`: its mount point and the pictures' hashes.
fn make_card(work: &Path, name: &str, salt: u64) -> (PathBuf, Vec<String>) {
    let card = work.join(name);
    let folder = card.join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    let mut hashes = Vec::new();
    for i in 0..CARD_FILES {
        let s = salt.wrapping_add(i as u64);
        let img = image::RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([
                (s % 251) as u8,
                (u64::from(x * 2) ^ (s >> 8)) as u8,
                (u64::from(y * 3) ^ (s >> 16)) as u8,
            ])
        });
        let path = folder.join(format!("IMG_{i:04}.JPG"));
        img.save(&path).unwrap();
        hashes
            .push(consentcam_media::ContentHash::of_bytes(&std::fs::read(&path).unwrap()).to_hex());
    }
    (card, hashes)
}

/// `consentcam import-card --server` as a site's kiosk runs it for a returned camera.
fn send_card_command(
    config: &Path,
    base: &str,
    kiosk: &Kiosk,
    card: &Path,
) -> tokio::process::Command {
    let mut command = tokio_consentcam(config);
    command
        .args(["import-card", "--device", &kiosk.device.to_string()])
        .arg("--server")
        .arg(base)
        .arg("--token-file")
        .arg(&kiosk.token_file)
        .arg("--mount")
        .arg(card);
    command
}

/// A returned camera's card: new pictures, sent until the command succeeds.
async fn send_card(shared: &Shared, k: usize, seq: u64, kiosk: &Kiosk, rng: &mut Rng) {
    let (card, hashes) = make_card(&shared.work, &format!("card-{k}-{seq}"), rng.next());
    shared
        .ledger
        .sending
        .lock()
        .unwrap()
        .extend(hashes.iter().cloned());
    loop {
        let guard = shared.gate.read().await;
        let status = send_card_command(&shared.config, &shared.base, kiosk, &card)
            .status()
            .await
            .unwrap();
        drop(guard);
        if status.success() {
            break;
        }
        shared.unanswered.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    {
        let mut sending = shared.ledger.sending.lock().unwrap();
        for h in &hashes {
            sending.remove(h);
        }
    }
    shared.ledger.push(Acked::Card(hashes));
    std::fs::remove_dir_all(&card).unwrap();
}

/// Staff: a learner tagged on an analysed photo nobody has tagged, then the people on it
/// confirmed.
async fn staff(shared: Arc<Shared>, learners: Vec<(i64, i64)>, mut rng: Rng) {
    let session = login(&shared.base, "staff").await;
    while !shared.stop.load(Ordering::Relaxed) {
        let guard = shared.gate.read().await;
        let untagged = ids(
            &records(&shared.data),
            "SELECT id FROM photos WHERE analysed_at IS NOT NULL
             AND id NOT IN (SELECT photo_id FROM tags) ORDER BY id LIMIT 20",
        );
        if let Some(&photo) = untagged.get(rng.below(untagged.len() as u64) as usize) {
            let person = learners[rng.below(learners.len() as u64) as usize].0;
            let path = format!("/api/v1/photos/{photo}/tags");
            if session
                .ok(reqwest::Method::POST, &path, json!({ "person_id": person }))
                .await
                .is_some()
            {
                shared.ledger.push(Acked::Tag { photo, person });
                let path = format!("/api/v1/photos/{photo}/confirmation");
                match session
                    .ok(reqwest::Method::PUT, &path, json!({ "confirmed": true }))
                    .await
                {
                    Some(_) => shared.ledger.push(Acked::Confirmed(photo)),
                    None => {
                        shared.unanswered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            } else {
                shared.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
        drop(guard);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// The director: provenance acknowledged, the website approved and the photo published;
/// and the takedown tasks marked done.
async fn director(shared: Arc<Shared>, mut rng: Rng) {
    let session = login(&shared.base, "director").await;
    // Photos the server said may not be approved (a learner's form withdrawn since).
    let mut refused = BTreeSet::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let guard = shared.gate.read().await;
        let ready: Vec<i64> = ids(
            &records(&shared.data),
            "SELECT id FROM photos WHERE people_confirmed = 1
             AND id NOT IN (SELECT photo_id FROM publications) ORDER BY id DESC LIMIT 40",
        )
        .into_iter()
        .filter(|p| !refused.contains(p))
        .collect();
        if let Some(&photo) = ready.get(rng.below(ready.len() as u64) as usize)
            && !publish(&shared, &session, photo).await
        {
            refused.insert(photo);
        }
        let tasks = session
            .ok(reqwest::Method::GET, "/api/v1/takedowns", Value::Null)
            .await;
        for task in tasks
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = task["id"].as_i64() else {
                continue;
            };
            let path = format!("/api/v1/takedowns/{id}/done");
            match session.ok(reqwest::Method::POST, &path, json!({})).await {
                Some(_) => shared.ledger.push(Acked::TakedownDone(id)),
                None => {
                    shared.unanswered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        drop(guard);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// False when the server answered that the photo may not be approved or published.
async fn publish(shared: &Shared, session: &Session, photo: i64) -> bool {
    let steps: [(&str, Value); 3] = [
        ("provenance", json!({ "note": "our own camera" })),
        (
            "approvals",
            json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" }),
        ),
        ("publish", json!({ "channel": { "kind": "website" } })),
    ];
    for (step, body) in steps {
        let path = format!("/api/v1/photos/{photo}/{step}");
        let answer = match session.send(reqwest::Method::POST, &path, body).await {
            Some((status, answer)) if status.is_success() => answer,
            // Acknowledged already (the answer was lost to a kill): go on.
            Some(_) if step == "provenance" => continue,
            Some((status, _)) if status.is_client_error() => return false,
            _ => {
                shared.unanswered.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        };
        shared.ledger.push(match step {
            "provenance" => Acked::Provenance(photo),
            "approvals" => Acked::Approved(photo),
            _ => Acked::Published(answer["opaque_name"].as_str().unwrap().to_owned()),
        });
    }
    true
}

/// The admin: consent CSVs imported (new learners, all or nothing) and, now and then, a
/// published learner's form withdrawn.
async fn admin(shared: Arc<Shared>, learners: Vec<(i64, i64)>, mut rng: Rng) {
    let session = login(&shared.base, "admin").await;
    let mut batch = 0;
    let mut withdrawn = BTreeSet::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let guard = shared.gate.read().await;
        batch += 1;
        let refs: Vec<String> = (0..CSV_ROWS).map(|r| format!("C{batch}-{r}")).collect();
        let csv = csv_of(&refs);
        match import_csv(&session, &csv).await {
            Some((status, _)) if status.is_success() => shared.ledger.push(Acked::Csv(refs)),
            _ => {
                shared.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
        // One in four rounds, a published learner's form is withdrawn.
        if rng.below(4) == 0 && withdrawn.len() < learners.len() / 3 {
            let published = ids(
                &records(&shared.data),
                "SELECT DISTINCT t.person_id FROM tags t JOIN publications p
                 ON p.photo_id = t.photo_id WHERE p.takedown_since IS NULL",
            );
            if let Some(&(_, form)) = learners
                .iter()
                .find(|(p, f)| published.contains(p) && !withdrawn.contains(f))
            {
                let path = format!("/api/v1/consents/{form}/withdraw");
                match session.ok(reqwest::Method::POST, &path, json!({})).await {
                    Some(_) => {
                        withdrawn.insert(form);
                        shared.ledger.push(Acked::Withdrawn(form));
                    }
                    None => {
                        shared.unanswered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        drop(guard);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The nightly backup, over and over: `consentcam backup` beside the server, itself
/// killed at random at times. Only one that exits 0 counts.
async fn backups(shared: Arc<Shared>, mut rng: Rng) {
    while !shared.stop.load(Ordering::Relaxed) {
        let guard = shared.gate.read().await;
        let mut child = tokio_consentcam(&shared.config)
            .arg("backup")
            .arg(&shared.backups)
            .spawn()
            .unwrap();
        let status = if rng.below(3) == 0 {
            let after = Duration::from_millis(rng.below(400));
            tokio::select! {
                status = child.wait() => Some(status.unwrap()),
                () = tokio::time::sleep(after) => {
                    child.kill().await.unwrap();
                    None
                }
            }
        } else {
            Some(child.wait().await.unwrap())
        };
        drop(guard);
        match status {
            Some(s) if s.success() => shared.ledger.push(Acked::Backup),
            _ => {
                shared.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Every file under `sub` of `root`, as paths relative to `root` (hidden names left out
/// when `skip_hidden`).
fn files_under(root: &Path, sub: &str, skip_hidden: bool) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, skip_hidden: bool, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, skip_hidden, out);
            } else if !(skip_hidden && entry.file_name().to_string_lossy().starts_with('.')) {
                out.insert(path.strip_prefix(root).unwrap().to_string_lossy().into());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, &root.join(sub), skip_hidden, &mut out);
    out
}

/// What must hold, checked from outside: the problems found (none when all is well).
/// `settled`: every card has been sent whole, so no original may lack its row.
fn violations(c: &Campaign, ledger: &Ledger, settled: bool) -> Vec<String> {
    let mut bad = Vec::new();
    let conn = records(&c.data);
    let quick: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    if quick != "ok" {
        bad.push(format!("the records' integrity check says {quick}"));
    }
    // Every change answered 2xx is there.
    for acked in ledger.snapshot() {
        let found = acked
            .found_by()
            .into_iter()
            .all(|(sql, p)| count(&conn, sql, rusqlite::params_from_iter(p)) == 1);
        if !found {
            bad.push(format!("acknowledged but missing: {acked:?}"));
        }
    }
    // A consent CSV is all or nothing, acknowledged or not.
    let mut stmt = conn
        .prepare(
            "SELECT substr(ext_ref, 1, instr(ext_ref, '-') - 1), count(*) FROM people
             WHERE ext_ref LIKE 'C%-%' GROUP BY 1",
        )
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (batch, n) = row.unwrap();
        if n != CSV_ROWS as i64 {
            bad.push(format!(
                "consent CSV {batch} half imported: {n} of {CSV_ROWS} rows"
            ));
        }
    }
    // The register and the outbox agree: a publication not being taken down has both its
    // files, and every file in the outbox is a publication's whose takedown is not done
    // (a takedown removes the copy first, then records itself done).
    let outbox_files = |sql: &str| -> BTreeSet<String> {
        ids_text(&conn, sql)
            .into_iter()
            .flat_map(|name| {
                [
                    format!("outbox/website/{name}"),
                    format!("outbox/website/{name}.json"),
                ]
            })
            .collect()
    };
    let standing =
        outbox_files("SELECT opaque_name FROM publications WHERE takedown_since IS NULL");
    let not_done =
        outbox_files("SELECT opaque_name FROM publications WHERE takedown_done_at IS NULL");
    let (archive, skip_hidden) = c.archive();
    let outbox = files_under(archive, "outbox", skip_hidden);
    for missing in standing.difference(&outbox) {
        bad.push(format!(
            "a standing publication lacks its outbox copy {missing}"
        ));
    }
    for stray in outbox.difference(&not_done) {
        bad.push(format!(
            "{stray} is in the outbox without a live publication"
        ));
    }
    // Nothing published stands without permission: every person on a photo whose copy is
    // live and not being taken down has a website "yes" that is not withdrawn.
    let unpermitted = ids(
        &conn,
        "SELECT p.id FROM publications p JOIN tags t ON t.photo_id = p.photo_id
         WHERE p.takedown_since IS NULL AND NOT EXISTS (
             SELECT 1 FROM consent_records c WHERE c.person_id = t.person_id
             AND c.website = 1 AND c.withdrawn_on IS NULL)",
    );
    for id in unpermitted {
        bad.push(format!(
            "publication {id} stands without website consent and no takedown"
        ));
    }
    // Every original has its row, every row its original (and renditions once analysed).
    let mut owned = BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT content_hash, analysed_at IS NOT NULL FROM photos")
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))
        .unwrap()
    {
        let (hash, analysed) = row.unwrap();
        let mut mine = vec![Archive::original_key(&hash)];
        if analysed {
            mine.push(Archive::thumbnail_key(&hash));
            mine.push(Archive::preview_key(&hash));
        }
        for key in mine {
            if !archive.join(&key).is_file() {
                bad.push(format!("photo {hash} has a row but not {key}"));
            }
            owned.insert(key);
        }
    }
    let queued: BTreeSet<String> = ids_text(&conn, "SELECT path FROM pending_deletions");
    let sending = ledger.sending.lock().unwrap().clone();
    for file in files_under(archive, "store/objects", skip_hidden) {
        let hash = file.rsplit('/').next().unwrap_or_default();
        let in_flight = !settled && sending.contains(hash);
        if !owned.contains(&file) && !queued.contains(&file) && !in_flight {
            bad.push(format!(
                "{file} belongs to no photo and is not queued for deletion"
            ));
        }
    }
    // The audit log's chain, as an administrator checks it.
    let out = consentcam(&c.config).arg("check-audit").output().unwrap();
    if !out.status.success() {
        bad.push(format!(
            "check-audit failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    bad
}

fn ids_text(conn: &rusqlite::Connection, sql: &str) -> BTreeSet<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The server, started as a person starts it, until it answers `/health`.
async fn start(c: &Campaign, fault: bool) -> tokio::process::Child {
    start_with(c, fault, &[]).await
}

/// As [`start`], with more variables in the server's environment.
async fn start_with(
    c: &Campaign,
    fault: bool,
    env: &[(&str, &std::ffi::OsStr)],
) -> tokio::process::Child {
    let mut command = tokio_consentcam(&c.config);
    command
        .args(["serve", "--bind"])
        .arg(format!("127.0.0.1:{}", c.port))
        .envs(env.iter().copied());
    if fault {
        command.env("CONSENTCAM_FAULT", "answer-before-commit");
    }
    // Its warnings and errors, kept for when a check fails.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(c.dir.path().join("server.log"))
        .unwrap();
    command.stderr(log);
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let probe = client(false);
    loop {
        if let Ok(r) = probe
            .get(format!("http://127.0.0.1:{}/health", c.port))
            .send()
            .await
        {
            let _ = r.bytes().await;
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server stopped at start: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not answer within a minute of starting"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What a campaign did and found.
#[derive(Debug, Default)]
struct Outcome {
    kills: usize,
    checks: usize,
    acknowledged: BTreeMap<&'static str, usize>,
    unanswered: usize,
    violations: Vec<String>,
}

fn kind(a: &Acked) -> &'static str {
    match a {
        Acked::Event(_) | Acked::EventAgain(_) => "kiosk events",
        Acked::Tag { .. } => "tags",
        Acked::Confirmed(_) => "confirmations",
        Acked::Provenance(_) => "provenance notes",
        Acked::Approved(_) => "approvals",
        Acked::Published(_) => "publications",
        Acked::Withdrawn(_) => "withdrawals",
        Acked::TakedownDone(_) => "takedowns done",
        Acked::Csv(_) => "consent CSVs",
        Acked::Card(_) => "cards",
        Acked::Backup => "backups",
    }
}

async fn campaign(kills: usize, fault: bool, seed: u64) -> Outcome {
    let mut c = prepared();
    let base = format!("http://127.0.0.1:{}", c.port);
    let shared = Arc::new(Shared {
        base: base.clone(),
        data: c.data.clone(),
        config: c.config.clone(),
        backups: c.backups.clone(),
        work: c.dir.path().to_owned(),
        ledger: Ledger::default(),
        gate: RwLock::new(()),
        stop: AtomicBool::new(false),
        unanswered: AtomicUsize::new(0),
    });
    let mut rng = Rng(seed);
    let mut server = start(&c, fault).await;
    let mut actors = Vec::new();
    for (k, kiosk_of) in std::mem::take(&mut c.kiosks).into_iter().enumerate() {
        actors.push(tokio::spawn(kiosk(
            shared.clone(),
            k,
            kiosk_of,
            Rng(rng.next() | 1),
            fault,
        )));
    }
    if !fault {
        actors.push(tokio::spawn(staff(
            shared.clone(),
            c.learners.clone(),
            Rng(rng.next() | 1),
        )));
        actors.push(tokio::spawn(director(shared.clone(), Rng(rng.next() | 1))));
        actors.push(tokio::spawn(admin(
            shared.clone(),
            c.learners.clone(),
            Rng(rng.next() | 1),
        )));
        actors.push(tokio::spawn(backups(shared.clone(), Rng(rng.next() | 1))));
    }
    let mut outcome = Outcome::default();
    for _ in 0..kills {
        // Load for a while, then the server is killed at once, whatever it was doing.
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1300))).await;
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        outcome.kills += 1;
        server = start(&c, fault).await;
        let paused = shared.gate.write().await;
        outcome
            .violations
            .extend(violations(&c, &shared.ledger, false));
        outcome.checks += 1;
        drop(paused);
        if fault && !outcome.violations.is_empty() {
            break;
        }
    }
    // The day ends: each actor finishes what it was doing (a kiosk's last event, a card
    // sent whole), then the last checks, with the last completed backup verified.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shared.stop.store(true, Ordering::Relaxed);
    for actor in actors {
        actor.await.unwrap();
    }
    outcome
        .violations
        .extend(violations(&c, &shared.ledger, true));
    outcome.checks += 1;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let acked = shared.ledger.snapshot();
    if acked.iter().any(|a| matches!(a, Acked::Backup)) {
        let out = on_backups(&c, "verify-backup");
        if !out.status.success() {
            outcome.violations.push(format!(
                "verify-backup of the last completed backup failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    for a in &acked {
        *outcome.acknowledged.entry(kind(a)).or_default() += 1;
    }
    outcome.unanswered = shared.unanswered.load(Ordering::Relaxed);
    drop(c.dir);
    outcome
}

fn kills_from_env(default: usize) -> usize {
    std::env::var("CONSENTCAM_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_under_everything_at_once_nothing_acknowledged_is_lost() {
    let kills = kills_from_env(12);
    let outcome = campaign(kills, false, 0x9E37_79B9_7F4A_7C15).await;
    println!("{kills} kills: {outcome:#?}");
    assert_eq!(outcome.kills, kills);
    assert!(outcome.violations.is_empty(), "{:#?}", outcome.violations);
    // The load did reach every part of the server.
    for part in [
        "kiosk events",
        "tags",
        "confirmations",
        "approvals",
        "publications",
        "consent CSVs",
        "cards",
        "backups",
    ] {
        assert!(
            outcome.acknowledged.get(part).copied().unwrap_or(0) > 0,
            "no {part} were acknowledged: {outcome:#?}"
        );
    }
    assert!(
        outcome.unanswered > 0,
        "the kills never interrupted anything"
    );
}

/// The negative control: a server that answers kiosk events before writing them loses
/// acknowledged events when killed, and the checks say so.
#[cfg(feature = "demo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_catch_a_server_that_answers_before_it_writes() {
    let outcome = campaign(10, true, 0x2545_F491_4F6C_DD1D).await;
    println!("{outcome:#?}");
    assert!(
        outcome
            .violations
            .iter()
            .any(|v| v.starts_with("acknowledged but missing: Event")),
        "the checks missed events answered before they were written: {outcome:#?}"
    );
}

/// Runs the test `name` again in a mount namespace of its own, where it is root and may
/// mount a small filesystem that disappears with it. True here (the run is over, and
/// passed); false inside, where the test goes on.
fn in_own_mount_namespace(name: &str) -> bool {
    if std::env::var_os("CONSENTCAM_OWN_MOUNTS").is_some() {
        return false;
    }
    let out = std::process::Command::new("unshare")
        .args(["-rm", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("CONSENTCAM_OWN_MOUNTS", "1")
        .output()
        .expect("unshare (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the test did not run: {text}");
    true
}

/// Fills the filesystem holding `dir` with a ballast file until `left` bytes are free.
fn fill_until(dir: &Path, left: u64) -> PathBuf {
    use std::io::Write;
    let ballast = dir.join("ballast");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&ballast)
        .unwrap();
    let chunk = vec![0x55u8; 64 * 1024];
    loop {
        let free = consentcam::infra::files::available_bytes(dir).unwrap();
        if free <= left {
            break;
        }
        let n = usize::try_from((free - left).min(chunk.len() as u64)).unwrap();
        if file.write_all(&chunk[..n]).is_err() {
            break;
        }
        file.flush().unwrap();
    }
    file.sync_all().unwrap();
    ballast
}

async fn health(base: &str) -> (StatusCode, Value) {
    let r = client(false)
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

fn csv_of(refs: &[String]) -> String {
    let mut csv = String::from(
        "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,\
         signed_on,internal,partners,website,social,expires_on,withdrawn_on\n",
    );
    let today = Clock::System.today(&consentcam::infra::clock::time_zone("Europe/London"));
    for r in refs {
        csv.push_str(&format!(
            "{r},Kim,Imported,2012-02-02,learner,no,parent,A Parent,{today},yes,,yes,no,,\n"
        ));
    }
    csv
}

/// One request of the admin's consent CSV import: its status and answer.
async fn import_csv(session: &Session, csv: &str) -> Option<(StatusCode, Value)> {
    let r = session
        .client
        .post(format!("{}/api/v1/consents/import", session.base))
        .header("x-csrf-token", &session.csrf)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .ok()?;
    let status = r.status();
    Some((status, r.json().await.unwrap_or(Value::Null)))
}

/// A camera out and back at a kiosk, so a card has a sign-out to belong to.
async fn out_and_back(base: &str, kiosk: &Kiosk, first_seq: u64) -> Vec<String> {
    let mut recorded = Vec::new();
    for seq in [first_seq, first_seq + 1] {
        let event = kiosk_event(&format!("d-{seq}"), seq, kiosk, seq == first_seq);
        let r = client(false)
            .post(format!("{base}/api/v1/kiosk/events"))
            .bearer_auth(&kiosk.token)
            .json(&json!({ "events": [event] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["recorded"].as_array().unwrap().len(), 1, "{body}");
        recorded.push(format!("d-{seq}"));
    }
    recorded
}

/// Waits until the photos of `hashes` are analysed; their ids.
async fn analysed(data: &Path, hashes: &[String]) -> Vec<i64> {
    let started = Instant::now();
    loop {
        let conn = records(data);
        let found: Vec<i64> = hashes
            .iter()
            .filter_map(|h| {
                conn.query_row(
                    "SELECT id FROM photos WHERE content_hash = ?1 AND analysed_at IS NOT NULL",
                    [h],
                    |r| r.get(0),
                )
                .ok()
            })
            .collect();
        if found.len() == hashes.len() {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the card's photos were not analysed within a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `consentcam COMMAND BACKUPS` (`backup`, `verify-backup`) as an administrator runs it.
fn on_backups(c: &Campaign, command: &str) -> std::process::Output {
    consentcam(&c.config)
        .arg(command)
        .arg(&c.backups)
        .output()
        .unwrap()
}

/// The first kiosk sends the card at `card` once, as `import-card --server`.
async fn card_sent(c: &Campaign, base: &str, card: &Path) -> std::process::Output {
    send_card_command(&c.config, base, &c.kiosks[0], card)
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap()
}

fn succeeded(out: std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const SMALL_FS_MIB: u64 = 24;
const RESERVE_MIB: u64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_each_write_clearly_keeps_reads_and_all_completes_once_freed() {
    const NAME: &str =
        "a_full_disk_fails_each_write_clearly_keeps_reads_and_all_completes_once_freed";
    if in_own_mount_namespace(NAME) {
        return;
    }
    // The records and the backups on a filesystem of a few MiB of their own.
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={SMALL_FS_MIB}m"),
            "tmpfs",
        ])
        .arg(&small)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "cannot mount a small filesystem for the test"
    );
    let c = prepared_in(
        dir,
        small.join("data"),
        small.join("backups"),
        RESERVE_MIB,
        "",
    );
    let base = format!("http://127.0.0.1:{}", c.port);
    let mut server = start(&c, false).await;
    let ledger = Ledger::default();
    let staff = login(&base, "staff").await;
    let director = login(&base, "director").await;
    let admin = login(&base, "admin").await;
    let kiosk = &c.kiosks[0];
    let learner = c.learners[0].0;

    // Before: a card in, two photos tagged, confirmed and approved; a first backup.
    for id in out_and_back(&base, kiosk, 1).await {
        ledger.push(Acked::Event(id));
    }
    let (card, hashes) = make_card(c.dir.path(), "card-1", 1);
    succeeded(card_sent(&c, &base, &card).await);
    ledger.push(Acked::Card(hashes.clone()));
    let photos = analysed(&c.data, &hashes).await;
    ready_to_publish(&staff, &director, &photos[..2], learner).await;
    succeeded(on_backups(&c, "backup"));
    succeeded(on_backups(&c, "verify-backup"));
    let (status, said) = health(&base).await;
    assert_eq!(said["disk"], "ok", "{said}");
    assert_eq!(status, StatusCode::OK, "{said}");

    // Nearly full: under twice the reserve, /health and the dashboard warn.
    let ballast = fill_until(&small, (RESERVE_MIB * 2 - 1) * 1024 * 1024);
    let (status, said) = health(&base).await;
    assert_eq!(said["disk"], "low", "{said}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let dashboard = director
        .client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains("The server's disk is nearly full"),
        "no warning on the dashboard"
    );

    // Full: every write fails with a clear error and leaves nothing half-written.
    drop(fill_until(&small, 0));
    let (card2, hashes2) = make_card(c.dir.path(), "card-2", 2);
    let refused = card_sent(&c, &base, &card2).await;
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success());
    assert!(said.contains("space") || said.contains("full"), "{said}");
    let publish = format!("/api/v1/photos/{}/publish", photos[0]);
    let (status, said) = director
        .send(
            reqwest::Method::POST,
            &publish,
            json!({ "channel": { "kind": "website" } }),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{said}");
    assert!(said["message"].as_str().unwrap().contains("full"), "{said}");
    let refs: Vec<String> = (0..CSV_ROWS).map(|r| format!("C1-{r}")).collect();
    let (status, said) = import_csv(&admin, &csv_of(&refs)).await.unwrap();
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{said}");
    let failed_backup = on_backups(&c, "backup");
    let said = String::from_utf8_lossy(&failed_backup.stderr).into_owned();
    assert!(!failed_backup.status.success());
    assert!(said.contains("space") || said.contains("full"), "{said}");
    // A kiosk's event: kept, or refused and sent again later (the kiosk's journal keeps
    // it); never answered as kept and lost.
    let late = kiosk_event("d-3", 3, kiosk, true);
    let answer = client(false)
        .post(format!("{base}/api/v1/kiosk/events"))
        .bearer_auth(&kiosk.token)
        .json(&json!({ "events": [late] }))
        .send()
        .await
        .unwrap();
    let kept_while_full = answer.status() == StatusCode::OK;
    if kept_while_full {
        ledger.push(Acked::Event("d-3".into()));
    } else {
        assert_eq!(answer.status(), StatusCode::INSUFFICIENT_STORAGE);
    }
    // Reads go on: the photo, its page, the dashboard, /health.
    let photo = format!("/api/v1/photos/{}", photos[0]);
    assert!(
        director
            .ok(reqwest::Method::GET, &photo, Value::Null)
            .await
            .is_some()
    );
    let page = director
        .client
        .get(format!("{base}/photos/{}", photos[0]))
        .send()
        .await
        .unwrap();
    let status = page.status();
    let text = page.text().await.unwrap();
    let log = std::fs::read_to_string(c.dir.path().join("server.log")).unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{text}\n{log}");
    let dashboard = director
        .client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert_eq!(health(&base).await.1["disk"], "low");
    let conn = records(&c.data);
    assert_eq!(count(&conn, "SELECT count(*) FROM publications", []), 0);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM people WHERE ext_ref LIKE 'C1-%'",
            []
        ),
        0
    );
    drop(conn);
    let problems = violations(&c, &ledger, false);
    assert!(problems.is_empty(), "{problems:#?}");

    // Space freed: the last whole backup is still the one believed (checking needs room
    // for a copy of the records), and everything goes through, once.
    std::fs::remove_file(&ballast).unwrap();
    assert_eq!(health(&base).await.1["disk"], "ok");
    succeeded(on_backups(&c, "verify-backup"));
    if !kept_while_full {
        let resent = client(false)
            .post(format!("{base}/api/v1/kiosk/events"))
            .bearer_auth(&kiosk.token)
            .json(&json!({ "events": [late] }))
            .send()
            .await
            .unwrap();
        assert_eq!(resent.status(), StatusCode::OK);
        ledger.push(Acked::Event("d-3".into()));
    }
    succeeded(card_sent(&c, &base, &card2).await);
    ledger.push(Acked::Card(hashes2));
    let published = director
        .ok(
            reqwest::Method::POST,
            &publish,
            json!({ "channel": { "kind": "website" } }),
        )
        .await
        .expect("published once there is room");
    ledger.push(Acked::Published(
        published["opaque_name"].as_str().unwrap().to_owned(),
    ));
    let (status, said) = import_csv(&admin, &csv_of(&refs)).await.unwrap();
    assert!(status.is_success(), "{said}");
    ledger.push(Acked::Csv(refs));
    succeeded(on_backups(&c, "backup"));
    succeeded(on_backups(&c, "verify-backup"));
    let problems = violations(&c, &ledger, true);
    assert!(problems.is_empty(), "{problems:#?}");
    server.start_kill().unwrap();
    server.wait().await.unwrap();
}

/// Tags a learner on each photo, confirms, and has the director acknowledge provenance and
/// approve the website: what stands before "publish".
async fn ready_to_publish(staff: &Session, director: &Session, photos: &[i64], learner: i64) {
    for &photo in photos {
        let tag = format!("/api/v1/photos/{photo}/tags");
        staff
            .ok(reqwest::Method::POST, &tag, json!({ "person_id": learner }))
            .await
            .expect("tagged");
        let confirm = format!("/api/v1/photos/{photo}/confirmation");
        staff
            .ok(reqwest::Method::PUT, &confirm, json!({ "confirmed": true }))
            .await
            .expect("confirmed");
        for (step, body) in [
            ("provenance", json!({ "note": "our own camera" })),
            (
                "approvals",
                json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" }),
            ),
        ] {
            let path = format!("/api/v1/photos/{photo}/{step}");
            director
                .ok(reqwest::Method::POST, &path, body)
                .await
                .unwrap_or_else(|| panic!("{step} of {photo}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_storage_away_fails_each_step_clearly_and_all_completes_once_it_is_back() {
    const BUCKET: &str = "photos";
    let dir = tempfile::tempdir().unwrap();
    let mut bucket = s3::S3Server::start(&dir.path().join("s3"), BUCKET);
    let store = bucket.store_section(BUCKET, &dir.path().join("s3-credentials"), "s3");
    let data = dir.path().join("data");
    let backups = dir.path().join("backups");
    let mut c = prepared_in(
        dir,
        data,
        backups,
        0,
        &format!("{store}retry_seconds = 1\n"),
    );
    c.bucket = Some(bucket.folder(BUCKET));
    let base = format!("http://127.0.0.1:{}", c.port);
    let mut server = start(&c, false).await;
    let ledger = Ledger::default();
    let staff = login(&base, "staff").await;
    let director = login(&base, "director").await;
    let admin = login(&base, "admin").await;
    let (learner, form) = c.learners[0];
    for id in out_and_back(&base, &c.kiosks[0], 1).await {
        ledger.push(Acked::Event(id));
    }
    let (card, hashes) = make_card(c.dir.path(), "card-1", 11);
    succeeded(card_sent(&c, &base, &card).await);
    ledger.push(Acked::Card(hashes.clone()));
    let photos = analysed(&c.data, &hashes).await;
    ready_to_publish(&staff, &director, &photos[..1], learner).await;
    ready_to_publish(&staff, &director, &photos[1..2], c.learners[1].0).await;
    let website = json!({ "channel": { "kind": "website" } });
    let first = director
        .ok(
            reqwest::Method::POST,
            &format!("/api/v1/photos/{}/publish", photos[0]),
            website.clone(),
        )
        .await
        .expect("published while the storage is there");
    ledger.push(Acked::Published(
        first["opaque_name"].as_str().unwrap().to_owned(),
    ));

    // The storage goes away, as a returned camera's card is being sent: the kiosk's
    // import offers each file again while the server answers 503.
    bucket.stop();
    let (card2, hashes2) = make_card(c.dir.path(), "card-2", 12);
    let sending = send_card_command(&c.config, &base, &c.kiosks[0], &card2)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let second = format!("/api/v1/photos/{}/publish", photos[1]);
    let (status, said) = director
        .send(reqwest::Method::POST, &second, website.clone())
        .await
        .unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{said}");
    assert!(
        said["message"].as_str().unwrap().contains("try again"),
        "{said}"
    );
    // Consent goes: the takedown task cannot finish while the copy cannot be removed.
    let withdraw = format!("/api/v1/consents/{form}/withdraw");
    admin
        .ok(reqwest::Method::POST, &withdraw, json!({}))
        .await
        .expect("a withdrawal is recorded whatever the storage");
    ledger.push(Acked::Withdrawn(form));
    let tasks = director
        .ok(reqwest::Method::GET, "/api/v1/takedowns", Value::Null)
        .await
        .unwrap();
    let task = tasks[0]["id"].as_i64().unwrap();
    let done = format!("/api/v1/takedowns/{task}/done");
    let (status, said) = director
        .send(reqwest::Method::POST, &done, json!({}))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{said}");
    // The nightly backup goes on: with the archive in a bucket it takes the records only
    // (the bucket's files are left to the provider's own versioning), and verifies.
    succeeded(on_backups(&c, "backup"));
    succeeded(on_backups(&c, "verify-backup"));
    // Nothing half-done: no second publication, the task open, the photo page answers.
    let conn = records(&c.data);
    assert_eq!(count(&conn, "SELECT count(*) FROM publications", []), 1);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM publications WHERE takedown_done_at IS NULL",
            []
        ),
        1
    );
    drop(conn);
    let photo = format!("/api/v1/photos/{}", photos[1]);
    assert!(
        director
            .ok(reqwest::Method::GET, &photo, Value::Null)
            .await
            .is_some()
    );

    // Back: each step done again goes through, once.
    bucket.resume();
    let published = director
        .ok(reqwest::Method::POST, &second, website)
        .await
        .expect("published once the storage is back");
    ledger.push(Acked::Published(
        published["opaque_name"].as_str().unwrap().to_owned(),
    ));
    director
        .ok(reqwest::Method::POST, &done, json!({}))
        .await
        .expect("the takedown finishes once the storage is back");
    ledger.push(Acked::TakedownDone(task));
    let sent = sending.wait_with_output().await.unwrap();
    let log = std::fs::read_to_string(c.dir.path().join("server.log")).unwrap_or_default();
    assert!(
        sent.status.success(),
        "{}\n{log}",
        String::from_utf8_lossy(&sent.stderr)
    );
    ledger.push(Acked::Card(hashes2.clone()));
    succeeded(on_backups(&c, "backup"));
    succeeded(on_backups(&c, "verify-backup"));
    let conn = records(&c.data);
    assert_eq!(count(&conn, "SELECT count(*) FROM publications", []), 2);
    // Every file of the card stored once.
    for hash in &hashes2 {
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM photos WHERE content_hash = ?1",
                [hash]
            ),
            1
        );
    }
    drop(conn);
    let problems = violations(&c, &ledger, true);
    assert!(problems.is_empty(), "{problems:#?}");
    server.start_kill().unwrap();
    server.wait().await.unwrap();
}

/// libfaketime (Debian's `faketime`), which moves the wall clock of the program it is
/// preloaded into and leaves its monotonic clock alone.
fn libfaketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(Result::ok)
        .map(|d| d.path().join("faketime/libfaketime.so.1"))
        .chain([PathBuf::from("/usr/lib/faketime/libfaketime.so.1")])
        .find(|p| p.exists());
    found.expect("libfaketime is missing: apt install faketime")
}

/// Sets the server's clock `offset` from the real one ("-1h", "+1d", "+0"): libfaketime
/// reads the file at every look at the clock.
fn set_server_clock(file: &Path, offset: &str) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, format!("{offset}\n")).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// A kiosk's batch as the kiosk sends it: the events and its own (right) clock.
async fn send_events(base: &str, kiosk: &Kiosk, events: &[Value]) -> Value {
    let r = client(false)
        .post(format!("{base}/api/v1/kiosk/events"))
        .bearer_auth(&kiosk.token)
        .json(&json!({ "events": events, "sent_at": Clock::System.now() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn login_status(base: &str, user: &str, pass: &str) -> StatusCode {
    client(false)
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "username": user, "password": pass }))
        .send()
        .await
        .unwrap()
        .status()
}

/// Logs in with a wrong password until the throttle makes the next attempt wait; how
/// long it said.
async fn fail_until_throttled(base: &str, user: &str) -> u64 {
    for _ in 0..20 {
        let r = client(false)
            .post(format!("{base}/api/v1/login"))
            .json(&json!({ "username": user, "password": "not the password" }))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            return r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
        }
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    panic!("twenty wrong passwords and no wait");
}

/// Learner `n`'s form withdrawn by the admin, and the takedown task it made of their
/// published photo marked done by the director: both must be answered 2xx.
async fn withdrawn_and_taken_down(
    c: &Campaign,
    ledger: &Ledger,
    admin: &Session,
    director: &Session,
    n: usize,
) {
    let (learner, form) = c.learners[n];
    admin
        .ok(
            reqwest::Method::POST,
            &format!("/api/v1/consents/{form}/withdraw"),
            json!({}),
        )
        .await
        .expect("withdrawn");
    ledger.push(Acked::Withdrawn(form));
    let task: i64 = records(&c.data)
        .query_row(
            "SELECT p.id FROM publications p JOIN tags t ON t.photo_id = p.photo_id \
             WHERE t.person_id = ?1 AND p.takedown_since IS NOT NULL \
             AND p.takedown_done_at IS NULL",
            [learner],
            |r| r.get(0),
        )
        .expect("a takedown task for the withdrawn learner's photo");
    director
        .ok(
            reqwest::Method::POST,
            &format!("/api/v1/takedowns/{task}/done"),
            json!({}),
        )
        .await
        .expect("the takedown is done");
    ledger.push(Acked::TakedownDone(task));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_clock_set_an_hour_back_and_a_day_ahead_loses_no_event_nor_takedown() {
    let c = prepared();
    // A throttle that bites after three failures, as a real one might.
    let config = std::fs::read_to_string(&c.config).unwrap();
    std::fs::write(
        &c.config,
        config.replace("login_attempts = 1000", "login_attempts = 3"),
    )
    .unwrap();
    let clock = c.dir.path().join("server-clock");
    set_server_clock(&clock, "+0");
    let env = [
        ("LD_PRELOAD", libfaketime().into_os_string()),
        ("FAKETIME_TIMESTAMP_FILE", clock.clone().into_os_string()),
        ("FAKETIME_NO_CACHE", "1".into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
    ];
    let env: Vec<(&str, &std::ffi::OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let base = format!("http://127.0.0.1:{}", c.port);
    let mut server = start_with(&c, false, &env).await;
    let ledger = Ledger::default();
    let staff = login(&base, "staff").await;
    let director = login(&base, "director").await;
    let admin = login(&base, "admin").await;
    for id in out_and_back(&base, &c.kiosks[0], 1).await {
        ledger.push(Acked::Event(id));
    }
    let (card, hashes) = make_card(c.dir.path(), "card-1", 21);
    succeeded(card_sent(&c, &base, &card).await);
    ledger.push(Acked::Card(hashes.clone()));
    let photos = analysed(&c.data, &hashes).await;
    let website = json!({ "channel": { "kind": "website" } });
    let mut published = Vec::new();
    for (photo, (learner, _)) in photos.iter().zip(&c.learners[..2]) {
        ready_to_publish(&staff, &director, &[*photo], *learner).await;
        let done = director
            .ok(
                reqwest::Method::POST,
                &format!("/api/v1/photos/{photo}/publish"),
                website.clone(),
            )
            .await
            .expect("published");
        ledger.push(Acked::Published(
            done["opaque_name"].as_str().unwrap().to_owned(),
        ));
        published.push(done["opaque_name"].as_str().unwrap().to_owned());
    }
    // A guesser at the staff account: the next attempt must wait a moment.
    let wait = fail_until_throttled(&base, "staff").await;
    assert!(wait <= 2, "{wait}");

    // An hour back, as a mistaken hand might set it.
    set_server_clock(&clock, "-1h");
    let kiosk = &c.kiosks[1];
    let held = [
        kiosk_event("h-1", 1, kiosk, true),
        kiosk_event("h-2", 2, kiosk, false),
    ];
    let receipt = send_events(&base, kiosk, &held).await;
    assert_eq!(receipt["recorded"], json!([]), "{receipt}");
    assert_eq!(receipt["refused"], json!([]), "{receipt}");
    assert_eq!(receipt["rejected"]["event_id"], "h-1", "{receipt}");
    let said = receipt["rejected"]["reason"].as_str().unwrap();
    assert!(said.contains("1 h 0 min ahead of the server"), "{said}");
    let page = admin.page("/admin/kiosks").await;
    assert!(page.contains("clocks disagree"), "{page}");
    // The throttle's wait stays a moment, not an hour and a moment.
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    assert_eq!(
        login_status(&base, "staff", "staff-faults-password").await,
        StatusCode::OK
    );
    // A session begun before goes on; a withdrawal takes its photo down, to the end.
    let (status, _) = director
        .send(reqwest::Method::GET, "/api/v1/takedowns", Value::Null)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    withdrawn_and_taken_down(&c, &ledger, &admin, &director, 0).await;

    // A day ahead.
    set_server_clock(&clock, "+1d");
    let receipt = send_events(&base, kiosk, &held).await;
    assert_eq!(receipt["rejected"]["event_id"], "h-1", "{receipt}");
    let said = receipt["rejected"]["reason"].as_str().unwrap();
    assert!(said.contains("1 day 0 h 0 min behind the server"), "{said}");
    // Sessions idle longer than 30 minutes by the server's clock have ended: a person
    // logs in again, and nothing answers 500.
    let (status, _) = director
        .send(reqwest::Method::GET, "/api/v1/takedowns", Value::Null)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A wait the throttle set is not lifted by the jump.
    let wait = fail_until_throttled(&base, "staff").await;
    assert!(wait >= 1, "{wait}");
    assert_eq!(
        login_status(&base, "staff", "staff-faults-password").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let director = login(&base, "director").await;
    let admin = login(&base, "admin").await;
    withdrawn_and_taken_down(&c, &ledger, &admin, &director, 1).await;

    // Put right: the kiosk's next round goes through, each event once, none refused.
    set_server_clock(&clock, "+0");
    let receipt = send_events(&base, kiosk, &held).await;
    assert_eq!(receipt["recorded"], json!(["h-1", "h-2"]), "{receipt}");
    assert!(receipt["rejected"].is_null(), "{receipt}");
    for id in ["h-1", "h-2"] {
        ledger.push(Acked::Event(id.into()));
    }
    let page = admin.page("/admin/kiosks").await;
    assert!(!page.contains("clocks disagree"), "{page}");
    let conn = records(&c.data);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM refused_kiosk_events", []),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM publications WHERE takedown_done_at IS NOT NULL",
            []
        ),
        2
    );
    drop(conn);
    for name in &published {
        assert!(
            !files_under(&c.data, "outbox", false)
                .iter()
                .any(|f| f.contains(name.as_str())),
            "{name} is still in the outbox"
        );
    }
    let problems = violations(&c, &ledger, true);
    assert!(problems.is_empty(), "{problems:#?}");
    server.start_kill().unwrap();
    server.wait().await.unwrap();
}
