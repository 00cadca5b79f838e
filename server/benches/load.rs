//! The server under load: photo page latency alone, and while another user loads the
//! all-photos gallery and a director approves and publishes covered photos.
//!
//! `cargo bench -p consentcam --bench load` (optionally `-- PHOTOS SECONDS CONNECTIONS`,
//! default 10000 10 32). It generates its own data set in a temporary folder: `PHOTOS`
//! catalogued photos, each with three faces (one tagged person with consent, one covered
//! person without, one dismissed), confirmed; and 60 real 12 MP JPEGs of the same kind
//! for the director to publish (each publish decodes, paints the cover, re-encodes and
//! scrubs). The server runs on loopback in this process; the clients are plain HTTP
//! clients with sessions, as browsers would be.
//!
//! Prints p50/p99 of the photo page alone and under load, their ratio (the goal is under
//! 2x), the gallery page's time, and the throughput of each phase.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use consentcam::domain::{
    AccountRole, Channel, ExternalRef, Name, PersonId, PhotoId, Role, Scopes, SignerKind,
};
use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::infra::password;
use consentcam::rules::consent::FaceResolution;
use consentcam::store::consents;
use consentcam::store::faces::{self, FaceRect, FaceSource};
use consentcam::store::photos::{self, NewPhoto};
use consentcam::store::{self, people, registry};
use consentcam::web::{self, AppState};
use serde_json::json;

mod support;
use support::{Failures, login, percentile, photo_page_tasks};

const PUBLISHABLE: usize = 60;

fn now() -> jiff::Timestamp {
    "2026-11-25T10:00:00Z".parse().unwrap()
}

fn person(conn: &rusqlite::Connection, r: &str, consent: bool) -> PersonId {
    let id = people::insert_person(
        conn,
        &people::NewPerson {
            ext_ref: ExternalRef::parse(r).unwrap(),
            given_name: Name::parse("Given").unwrap(),
            family_name: Name::parse(r).unwrap(),
            date_of_birth: "1990-01-01".parse().unwrap(),
            role: Role::Learner,
            vulnerable: false,
            may_sign_out: false,
        },
        now(),
    )
    .unwrap();
    if consent {
        consents::insert_consent(
            conn,
            &consents::NewConsent {
                person_id: id,
                signer: SignerKind::Myself,
                signer_name: String::new(),
                signed_on: "2026-09-01".parse().unwrap(),
                expires_on: None,
                withdrawn_on: None,
                scopes: Scopes {
                    internal: true,
                    partners: vec![],
                    website: true,
                    social: true,
                },
                evidence_path: None,
                source: "bench".into(),
            },
            now(),
        )
        .unwrap();
    }
    id
}

/// A catalogued photo with three faces: `with` (consented), `covered` (covered) and one
/// dismissed; people confirmed.
fn photo(
    conn: &rusqlite::Connection,
    hash: String,
    size: (u32, u32),
    with: PersonId,
    covered: PersonId,
) -> PhotoId {
    let id = photos::insert_photo(
        conn,
        &NewPhoto {
            content_hash: hash,
            byte_size: 1000,
            format: consentcam::domain::Format::Jpeg,
            original_name: "IMG_0001.JPG".into(),
            width: Some(size.0),
            height: Some(size.1),
            provenance: consentcam::rules::consent::Provenance::Verified,
            face_search: consentcam::rules::consent::FaceSearch::Done,
            taken_at: Some(now()),
            ..NewPhoto::default()
        },
        now(),
    )
    .unwrap();
    let (w, h) = (size.0 / 8, size.1 / 8);
    let faces: Vec<i64> = (0..3)
        .map(|n| {
            faces::insert_face(
                conn,
                id,
                FaceRect {
                    x: w * (1 + 2 * n),
                    y: h,
                    w,
                    h,
                },
                FaceSource::Detected,
            )
            .unwrap()
        })
        .collect();
    faces::resolve_face(conn, id, faces[0], FaceResolution::Person(with), now()).unwrap();
    faces::resolve_face(conn, id, faces[1], FaceResolution::Person(covered), now()).unwrap();
    faces::resolve_face(conn, id, faces[2], FaceResolution::Dismissed, now()).unwrap();
    let tag = faces::tags(conn, id)
        .unwrap()
        .into_iter()
        .find(|t| t.person_id == Some(covered))
        .unwrap();
    faces::set_covered(conn, id, tag.id, true, now()).unwrap();
    photos::set_people_confirmed(conn, id, true).unwrap();
    id
}

/// The data set: returns the ids of the photos a director can publish.
fn generate(config: &Config, count: usize) -> (Vec<PhotoId>, Vec<PhotoId>) {
    let mut conn = store::open(&config.db_path()).unwrap();
    for (user, role) in [
        ("staff", AccountRole::Staff),
        ("director", AccountRole::Director),
    ] {
        registry::insert_account(
            &conn,
            user,
            &password::hash(&format!("{user}-bench-password")).unwrap(),
            role,
            None,
            now(),
        )
        .unwrap();
    }
    let tx = conn.transaction().unwrap();
    let people: Vec<(PersonId, PersonId)> = (0..200)
        .map(|n| {
            (
                person(&tx, &format!("C{n}"), true),
                person(&tx, &format!("N{n}"), false),
            )
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for n in 0..count {
        let (with, covered) = people[n % people.len()];
        all.push(photo(&tx, format!("{n:064x}"), (4000, 3000), with, covered));
    }
    // Real files for the director: 12 MP JPEGs of noise (no two alike).
    let mut publishable = Vec::new();
    for (n, &(with, covered)) in people.iter().enumerate().take(PUBLISHABLE) {
        let mut seed = n as u32 + 1;
        let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            image::Rgb([(x % 251) as u8, (y % 241) as u8, (seed >> 24) as u8])
        });
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        let hash = consentcam_media::ContentHash::of_bytes(&bytes).to_hex();
        let path = config
            .data_dir
            .join(consentcam::infra::archive::Archive::original_key(&hash));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        publishable.push(photo(&tx, hash, (4000, 3000), with, covered));
    }
    tx.commit().unwrap();
    (all, publishable)
}

struct Phase {
    latencies: Vec<Duration>,
    seconds: f64,
    failures: Arc<Failures>,
}

/// `connections` staff clients load random photo pages for `seconds`.
async fn photo_pages(
    base: &str,
    ids: Arc<Vec<PhotoId>>,
    seconds: u64,
    connections: usize,
) -> Phase {
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(login(base, "staff").await.0);
    }
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let failures = Arc::new(Failures::default());
    let tasks = photo_page_tasks(base, clients, &ids, stop, &failures);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort();
    Phase {
        latencies,
        seconds: started.elapsed().as_secs_f64(),
        failures,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        login_attempts: 1000,
        ..Config::default()
    };
    let started = Instant::now();
    let (all, publishable) = generate(&config, count);
    eprintln!(
        "data set: {count} photos and {PUBLISHABLE} 12 MP JPEGs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let conn = store::open(&config.db_path()).unwrap();
        let state = AppState::new(conn, config, Clock::Fixed(now()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(web::serve(listener, state, std::future::pending()));
        let ids = Arc::new(all);

        let alone = photo_pages(&base, ids.clone(), seconds, connections).await;

        // The same, while one user loads the all-photos gallery over and over and a
        // director approves and publishes covered photos.
        let busy = Arc::new(AtomicBool::new(true));
        let gallery = {
            let (client, _) = login(&base, "staff").await;
            let (base, busy) = (base.clone(), busy.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut bytes = 0;
                while busy.load(Ordering::Relaxed) {
                    let at = Instant::now();
                    let response = client.get(format!("{base}/photos")).send().await.unwrap();
                    assert!(response.status().is_success());
                    bytes = response.bytes().await.unwrap().len();
                    times.push(at.elapsed());
                }
                times.sort();
                (times, bytes)
            })
        };
        let director = {
            let (client, csrf) = login(&base, "director").await;
            let (base, busy) = (base.clone(), busy.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                for id in publishable {
                    if !busy.load(Ordering::Relaxed) {
                        break;
                    }
                    let at = Instant::now();
                    let approval = client
                        .post(format!("{base}/api/v1/photos/{id}/approvals"))
                        .header("x-csrf-token", &csrf)
                        .json(&json!({ "channel": Channel::Website, "approve": true }))
                        .send()
                        .await
                        .unwrap();
                    assert!(approval.status().is_success(), "{}", approval.text().await.unwrap());
                    let published = client
                        .post(format!("{base}/api/v1/photos/{id}/publish"))
                        .header("x-csrf-token", &csrf)
                        .json(&json!({ "channel": Channel::Website }))
                        .send()
                        .await
                        .unwrap();
                    assert!(published.status().is_success(), "{}", published.text().await.unwrap());
                    times.push(at.elapsed());
                }
                times.sort();
                times
            })
        };
        let loaded = photo_pages(&base, ids, seconds, connections).await;
        busy.store(false, Ordering::Relaxed);
        let (gallery_times, gallery_bytes) = gallery.await.unwrap();
        let publish_times = director.await.unwrap();

        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let report = |name: &str, phase: &Phase| {
            println!(
                "photo page {name}: {} requests in {:.1} s ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, {} failed",
                phase.latencies.len(),
                phase.seconds,
                phase.latencies.len() as f64 / phase.seconds,
                ms(percentile(&phase.latencies, 50.0)),
                ms(percentile(&phase.latencies, 99.0)),
                phase.failures.total()
            );
        };
        println!("{count} photos, {connections} connections, {seconds} s per phase");
        report("alone", &alone);
        report("under load", &loaded);
        println!(
            "gallery (/photos, {} KiB): {} loads, p50 {:.0} ms, max {:.0} ms",
            gallery_bytes / 1024,
            gallery_times.len(),
            ms(percentile(&gallery_times, 50.0)),
            ms(gallery_times.last().copied().unwrap_or_default())
        );
        println!(
            "director: {} approvals and publications, p50 {:.0} ms each",
            publish_times.len(),
            ms(percentile(&publish_times, 50.0))
        );
        println!(
            "ratio: photo page p99 under load / alone = {:.2} (goal: under 2); throughput under load / alone = {:.2}",
            percentile(&loaded.latencies, 99.0).as_secs_f64()
                / percentile(&alone.latencies, 99.0).as_secs_f64().max(1e-9),
            (loaded.latencies.len() as f64 / loaded.seconds)
                / (alone.latencies.len() as f64 / alone.seconds).max(1e-9)
        );
        alone.failures.fail_loudly("photo page alone");
        loaded.failures.fail_loudly("photo page under load");
    });
}
