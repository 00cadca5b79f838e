//! Capacity of one central server: many kiosks signing devices out and in at once while
//! staff open photo pages and look people up, on a trust-sized data set, against the same
//! load on a school-sized one in the same run.
//!
//! `cargo bench -p consentcam --bench capacity` (optionally `-- PEOPLE PHOTOS KIOSKS
//! SECONDS`, default 100000 1000000 50 10). It generates two data sets in temporary
//! folders, through the store's own functions: a small one (1,000 people, 10,000 photos)
//! and the large one; photos come a hundred to a past sign-out (as card imports attribute
//! them), each with one face tagged to a person; half the people have a consent form. Then, for each, on a server on loopback in this process:
//! `KIOSKS` kiosks, each with its own device and a member of staff, post sign-outs and
//! returns one event at a time as fast as the server answers (the kiosk API, bearer
//! token); 16 staff connections open random photo pages; 8 look people up by family name
//! or reference (the consent lookup). Prints p50/p99 of each and the large set's p99 as a
//! ratio of the small set's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use consentcam::domain::{
    AccountRole, DeviceId, ExternalRef, Name, PersonId, PhotoId, Role, Scopes, SignerKind,
};
use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::infra::password;
use consentcam::rules::consent::FaceResolution;
use consentcam::store::consents;
use consentcam::store::faces::{self, FaceRect, FaceSource};
use consentcam::store::photos::{self, NewPhoto};
use consentcam::store::{self, custody, people, registry};
use consentcam::web::{self, AppState};
use consentcam_wire::{KioskEvent, KioskEventKind};
use serde_json::json;

mod support;
use support::{Failures, login, percentile, photo_page_tasks, timed_until};

const PAGE_CONNECTIONS: usize = 16;
/// Photos a sign-out brings back (a card's import).
const PHOTOS_PER_SIGN_OUT: usize = 100;
const LOOKUP_CONNECTIONS: usize = 8;

fn now() -> jiff::Timestamp {
    Clock::System.now()
}

/// A family name for person `n`: letters only, one per person.
fn family_name(n: usize) -> String {
    let mut name = String::from("Fam");
    let mut k = n;
    loop {
        name.push(char::from(b'a' + (k % 26) as u8));
        k /= 26;
        if k == 0 {
            break;
        }
    }
    name
}

/// A person on the register: a learner born 2010, or staff born 1990 who may sign out.
fn person(
    conn: &rusqlite::Connection,
    r: &str,
    given: &str,
    family: &str,
    role: Role,
    at: jiff::Timestamp,
) -> PersonId {
    let staff = role == Role::Staff;
    people::insert_person(
        conn,
        &people::NewPerson {
            ext_ref: ExternalRef::parse(r).unwrap(),
            given_name: Name::parse(given).unwrap(),
            family_name: Name::parse(family).unwrap(),
            date_of_birth: if staff { "1990-01-01" } else { "2010-01-01" }
                .parse()
                .unwrap(),
            role,
            vulnerable: false,
            may_sign_out: staff,
        },
        at,
    )
    .unwrap()
}

struct DataSet {
    photos: Vec<PhotoId>,
    people: usize,
    /// Each kiosk's token, device, member of staff and last event's number.
    kiosks: Vec<(String, i64, PersonId, u64)>,
}

fn generate(config: &Config, people_count: usize, photo_count: usize, kiosks: usize) -> DataSet {
    let mut conn = store::open(&config.db_path()).unwrap();
    let at = now();
    registry::insert_account(
        &conn,
        "staff",
        &password::hash("staff-bench-password").unwrap(),
        AccountRole::Staff,
        None,
        at,
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    let mut everyone = Vec::with_capacity(people_count);
    for n in 0..people_count {
        let id = person(
            &tx,
            &format!("P{n}"),
            "Sam",
            &family_name(n),
            Role::Learner,
            at,
        );
        if n % 2 == 0 {
            consents::insert_consent(
                &tx,
                &consents::NewConsent {
                    person_id: id,
                    signer: SignerKind::Parent,
                    signer_name: "A Parent".into(),
                    signed_on: "2026-09-01".parse().unwrap(),
                    expires_on: None,
                    withdrawn_on: None,
                    scopes: Scopes {
                        internal: true,
                        partners: vec![],
                        website: true,
                        social: false,
                    },
                    evidence_path: None,
                    source: "bench".into(),
                },
                at,
            )
            .unwrap();
        }
        everyone.push(id);
    }
    let mut kiosk_set = Vec::with_capacity(kiosks);
    for k in 0..kiosks {
        let staff = person(
            &tx,
            &format!("S{k}"),
            "Staff",
            &family_name(k),
            Role::Staff,
            at,
        );
        registry::enrol_badge(
            &tx,
            &consentcam_wire::TagUid::parse(&format!("B0{k:06X}")).unwrap(),
            staff,
            at,
        )
        .unwrap();
        let device = registry::insert_device(
            &tx,
            &registry::NewDevice {
                label: format!("Camera {k}"),
                make: "Canon".into(),
                model: "EOS 250D".into(),
                serial: format!("CAM-{k:05}"),
                tag_uid: consentcam_wire::TagUid::parse(&format!("D0{k:06X}")).unwrap(),
                loan_minutes: 240,
            },
            at,
        )
        .unwrap();
        let token = password::random_token();
        let kiosk =
            registry::insert_kiosk(&tx, &format!("site-{k}"), &password::token_hash(&token), at)
                .unwrap();
        kiosk_set.push((token, device.0, staff, kiosk));
    }
    // Past sign-outs, a hundred photos each, as card imports attribute them: each kiosk's
    // device out and back in turn, an hour apart, ending before now, each recorded as it
    // arrived at the time.
    let sessions = photo_count.div_ceil(PHOTOS_PER_SIGN_OUT).max(1);
    let mut seqs = vec![0u64; kiosks];
    let mut session_ids = Vec::with_capacity(sessions);
    for s in 0..sessions {
        let k = s % kiosks;
        let (_, device, staff, kiosk) = &kiosk_set[k];
        let hours_ago = i64::try_from(sessions - s).unwrap();
        let out_at = at
            .checked_sub(jiff::SignedDuration::from_hours(hours_ago + 1))
            .unwrap();
        for (kind, when) in [
            (
                KioskEventKind::SignedOut {
                    device_id: *device,
                    person_id: staff.0,
                    due_back: out_at
                        .checked_add(jiff::SignedDuration::from_hours(4))
                        .unwrap(),
                    booking_id: None,
                },
                out_at,
            ),
            (
                KioskEventKind::Returned {
                    device_id: *device,
                    person_id: staff.0,
                },
                out_at
                    .checked_add(jiff::SignedDuration::from_mins(30))
                    .unwrap(),
            ),
        ] {
            seqs[k] += 1;
            let event = KioskEvent {
                event_id: format!("gen-{k}-{}", seqs[k]),
                seq: seqs[k],
                at: when,
                reader: "office".into(),
                kind,
            };
            let recorded = custody::record_event(&tx, *kiosk, &event, when, None).unwrap();
            assert!(matches!(recorded, custody::Recorded::New), "{recorded:?}");
        }
        let session = custody::sessions_of_device(&tx, DeviceId(*device))
            .unwrap()
            .into_iter()
            .max_by_key(|s| s.id)
            .unwrap();
        session_ids.push(session.id);
    }
    let mut ids = Vec::with_capacity(photo_count);
    for n in 0..photo_count {
        let id = photos::insert_photo(
            &tx,
            &NewPhoto {
                content_hash: format!("{n:064x}"),
                byte_size: 1000,
                format: consentcam::domain::Format::Jpeg,
                original_name: "IMG_0001.JPG".into(),
                width: Some(4000),
                height: Some(3000),
                provenance: consentcam::rules::consent::Provenance::Verified,
                face_search: consentcam::rules::consent::FaceSearch::Done,
                taken_at: Some(at),
                custody_session_id: Some(session_ids[n / PHOTOS_PER_SIGN_OUT]),
                ..NewPhoto::default()
            },
            at,
        )
        .unwrap();
        let face = faces::insert_face(
            &tx,
            id,
            FaceRect {
                x: 1000,
                y: 1000,
                w: 500,
                h: 500,
            },
            FaceSource::Detected,
        )
        .unwrap();
        let who = everyone[n.wrapping_mul(7919) % everyone.len()];
        faces::resolve_face(&tx, id, face, FaceResolution::Person(who), at).unwrap();
        photos::set_people_confirmed(&tx, id, true).unwrap();
        ids.push(id);
    }
    tx.commit().unwrap();
    DataSet {
        photos: ids,
        people: people_count,
        kiosks: kiosk_set
            .into_iter()
            .zip(seqs)
            .map(|((token, device, staff, _), seq)| (token, device, staff, seq))
            .collect(),
    }
}

#[derive(Default)]
struct Measured {
    sign_out: Vec<Duration>,
    pages: Vec<Duration>,
    lookups: Vec<Duration>,
    failures: Arc<Failures>,
    seconds: f64,
}

/// Runs the three loads at once for `seconds` against a server on `config`'s data.
async fn measure(config: Config, set: DataSet, seconds: u64) -> Measured {
    let conn = store::open(&config.db_path()).unwrap();
    let state = AppState::new(conn, config, Clock::System);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    // Everyone signs in first (password hashing is slow on purpose), then all start.
    let mut page_clients = Vec::new();
    for _ in 0..PAGE_CONNECTIONS {
        page_clients.push(login(&base, "staff").await.0);
    }
    let mut lookup_clients = Vec::new();
    for _ in 0..LOOKUP_CONNECTIONS {
        lookup_clients.push(login(&base, "staff").await);
    }
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let failures = Arc::new(Failures::default());

    let mut kiosk_tasks = Vec::new();
    for (k, (token, device, staff, last_seq)) in set.kiosks.into_iter().enumerate() {
        let (base, failures) = (base.clone(), failures.clone());
        kiosk_tasks.push(tokio::spawn(async move {
            let client = support::client_builder().build().unwrap();
            let mut seq = last_seq;
            timed_until(stop, &failures, || {
                seq += 1;
                let at = now();
                let mut event = json!({
                    "event_id": format!("k{k}-{seq}"), "seq": seq, "at": at,
                    "reader": "office", "device_id": device, "person_id": staff.0,
                });
                if (seq - last_seq) % 2 == 1 {
                    event["type"] = json!("signed_out");
                    event["due_back"] =
                        json!(at.checked_add(jiff::SignedDuration::from_hours(4)).unwrap());
                } else {
                    event["type"] = json!("returned");
                }
                client
                    .post(format!("{base}/api/v1/kiosk/events"))
                    .bearer_auth(&token)
                    .json(&json!({ "events": [event] }))
            })
            .await
        }));
    }
    let photos = Arc::new(set.photos);
    let page_tasks = photo_page_tasks(&base, page_clients, &photos, stop, &failures);
    let mut lookup_tasks = Vec::new();
    for (c, (client, csrf)) in lookup_clients.into_iter().enumerate() {
        let (base, failures, people) = (base.clone(), failures.clone(), set.people);
        lookup_tasks.push(tokio::spawn(async move {
            let mut n = c * 7_727;
            timed_until(stop, &failures, || {
                n = n.wrapping_mul(31).wrapping_add(17);
                let who = n % people;
                // Half by family name, half by reference, as staff type them.
                let q = if n % 2 == 0 {
                    family_name(who)
                } else {
                    format!("P{who}")
                };
                client
                    .post(format!("{base}/api/v1/lookup"))
                    .header("x-csrf-token", &csrf)
                    .json(&json!({ "q": q }))
            })
            .await
        }));
    }
    let mut m = Measured::default();
    for t in kiosk_tasks {
        m.sign_out.extend(t.await.unwrap());
    }
    for t in page_tasks {
        m.pages.extend(t.await.unwrap());
    }
    for t in lookup_tasks {
        m.lookups.extend(t.await.unwrap());
    }
    m.seconds = started.elapsed().as_secs_f64();
    m.failures = failures;
    m.sign_out.sort();
    m.pages.sort();
    m.lookups.sort();
    m
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let people = args.first().copied().unwrap_or(100_000);
    let photo_count = args.get(1).copied().unwrap_or(1_000_000);
    let kiosks = args.get(2).copied().unwrap_or(50);
    let seconds = args.get(3).copied().unwrap_or(10) as u64;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut results = Vec::new();
    for (name, people, photo_count) in [("small", 1_000, 10_000), ("large", people, photo_count)] {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            login_attempts: 1000,
            ..Config::default()
        };
        let started = Instant::now();
        let set = generate(&config, people, photo_count, kiosks);
        eprintln!(
            "{name}: {people} people, {photo_count} photos, {kiosks} kiosks generated in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        let m = runtime.block_on(measure(config, set, seconds));
        results.push((name, people, photo_count, m));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{kiosks} kiosks, {PAGE_CONNECTIONS} photo-page and {LOOKUP_CONNECTIONS} lookup connections, {seconds} s, all at once\n"
    );
    println!(
        "| data set | sign-out round trip p50 / p99 | photo page p50 / p99 | consent lookup p50 / p99 | requests/s | failed |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, people, photos, m) in &results {
        let total = m.sign_out.len() + m.pages.len() + m.lookups.len();
        println!(
            "| {name}: {people} people, {photos} photos | {:.0} / {:.0} ms | {:.0} / {:.0} ms | {:.0} / {:.0} ms | {:.0} | {} |",
            ms(percentile(&m.sign_out, 50.0)),
            ms(percentile(&m.sign_out, 99.0)),
            ms(percentile(&m.pages, 50.0)),
            ms(percentile(&m.pages, 99.0)),
            ms(percentile(&m.lookups, 50.0)),
            ms(percentile(&m.lookups, 99.0)),
            total as f64 / m.seconds,
            m.failures.total()
        );
    }
    let (small, large) = (&results[0].3, &results[1].3);
    let ratio = |a: &[Duration], b: &[Duration]| {
        percentile(b, 99.0).as_secs_f64() / percentile(a, 99.0).as_secs_f64().max(1e-9)
    };
    println!(
        "\np99 large / small: sign-out {:.2}, photo page {:.2}, lookup {:.2}",
        ratio(&small.sign_out, &large.sign_out),
        ratio(&small.pages, &large.pages),
        ratio(&small.lookups, &large.lookups)
    );
    for (name, _, _, m) in &results {
        m.failures.fail_loudly(name);
    }
}
