//! `consentcam import-card`: a returned camera's card into the store, attributed and
//! analysed, hostile files kept but never publishable.

use std::path::Path;
use std::process::Command;

use consentcam::infra::clock::Clock;
use consentcam::rules::consent::{MediaState, Provenance};
use consentcam::store::{self, photos};

fn camera_photo(path: &Path, taken: &str, serial: &str) {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    img.save(path).unwrap();
    camera_tags(path, taken, serial, &["-Artist=Isla Morgan"]);
}

/// Writes what the staff camera writes into a photo (and `extra` exiftool arguments).
fn camera_tags(path: &Path, taken: &str, serial: &str, extra: &[&str]) {
    let status = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Make=Canon",
            "-Model=Canon EOS 250D",
            &format!("-SerialNumber={serial}"),
            &format!("-DateTimeOriginal={taken}"),
        ])
        .args(extra)
        .arg(path)
        .status()
        .expect("exiftool is installed");
    assert!(status.success());
}

/// The demo's records in a new data directory `data`; returns now and a camera time
/// inside the demo's Camera 1 sign-out (which ran from 30 to 24 hours ago).
fn demo_records(data: &Path) -> (jiff::Timestamp, String) {
    std::fs::create_dir_all(data).unwrap();
    let clock = Clock::System;
    let now = clock.now();
    let zone = consentcam::infra::clock::time_zone("Europe/London");
    let mut conn = store::open(&data.join("records.db")).unwrap();
    consentcam::demo::seed(&mut conn, now, clock.today(&zone)).unwrap();
    let taken = zone
        .to_datetime(
            now.checked_sub(jiff::SignedDuration::from_hours(27))
                .unwrap(),
        )
        .strftime("%Y:%m:%d %H:%M:%S")
        .to_string();
    (now, taken)
}

fn import(data_dir: &Path, card: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["import-card", "--device", "1", "--no-faces", "--mount"])
        .arg(card)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_card_is_stored_attributed_and_analysed_and_hostile_files_are_kept_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_, taken) = demo_records(&data);
    let card = dir.path().join("card").join("DCIM").join("100CANON");
    std::fs::create_dir_all(&card).unwrap();
    camera_photo(&card.join("IMG_0101.JPG"), &taken, "012345678901");
    camera_photo(&card.join("IMG_0102.JPG"), &taken, "PERSONAL-PHONE");
    std::fs::write(card.join("IMG_0103.JPG"), b"").unwrap();
    std::fs::write(card.join("IMG_0104.JPG"), b"not a photo at all").unwrap();
    let root = dir.path().join("card");

    let out = import(&data, &root);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.contains("\"event\":\"finished\"")),
        "{stdout}"
    );

    let conn = store::open(&data.join("records.db")).unwrap();
    let imported: Vec<photos::Photo> = photos::photos(&conn, None, 100).unwrap();
    assert_eq!(imported.len(), 4, "{imported:#?}");
    let by_name = |name: &str| {
        let id: i64 = conn
            .query_row(
                "SELECT id FROM photos WHERE original_name LIKE ?1",
                [format!("%{name}")],
                |r| r.get(0),
            )
            .unwrap();
        photos::photo(&conn, consentcam::domain::PhotoId(id)).unwrap()
    };
    let good = by_name("IMG_0101.JPG");
    assert_eq!(good.media_state(), MediaState::Publishable);
    assert_eq!(good.provenance, Provenance::Verified);
    assert!(good.custody_session_id.is_some());
    assert_eq!((good.width, good.height), (Some(320), Some(240)));
    let data_dir = data.as_path();
    use consentcam::infra::archive::Archive;
    assert!(
        data_dir
            .join(Archive::thumbnail_key(&good.content_hash))
            .is_file()
    );
    assert!(
        data_dir
            .join(Archive::preview_key(&good.content_hash))
            .is_file()
    );

    let personal = by_name("IMG_0102.JPG");
    assert_eq!(personal.provenance, Provenance::UnregisteredDevice);
    for hostile in ["IMG_0103.JPG", "IMG_0104.JPG"] {
        let photo = by_name(hostile);
        assert!(
            matches!(photo.media_state(), MediaState::Damaged { .. }),
            "{hostile}: {:?}",
            photo.media_state()
        );
    }
    assert!(store::audit::verify(&conn).unwrap().problems.is_empty());

    // Imported again (the kiosk was restarted mid-way, say): nothing is stored twice.
    let again = import(&data, &root);
    assert!(again.status.success());
    let count: i64 = conn
        .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 4);
}

#[test]
fn the_progress_file_the_kiosk_follows_counts_every_file_and_ends_with_the_summary() {
    use consentcam_wire::CardProgress;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    drop(store::open(&data.join("records.db")).unwrap());
    let card = dir.path().join("card").join("DCIM");
    std::fs::create_dir_all(&card).unwrap();
    camera_photo(&card.join("IMG_0001.JPG"), "2026:11:24 10:00:00", "1");
    camera_photo(&card.join("IMG_0002.JPG"), "2026:11:24 10:01:00", "1");
    std::fs::write(card.join("IMG_0003.JPG"), b"truncated").unwrap();
    // A link on the card is never followed: it counts as unreadable.
    std::os::unix::fs::symlink("/etc/passwd", card.join("IMG_0004.JPG")).unwrap();
    // An iPad's photo.
    let heic = consentcam_media::sample::heic_of(&[90; 64 * 48 * 3], 64, 48, None).unwrap();
    std::fs::write(card.join("IMG_0005.HEIC"), heic).unwrap();
    let progress = dir.path().join("progress.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--data-dir")
        .arg(&data)
        .args(["import-card", "--no-faces", "--mount"])
        .arg(dir.path().join("card"))
        .arg("--progress")
        .arg(&progress)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<CardProgress> = std::fs::read_to_string(&progress)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.first(), Some(&CardProgress::Started { files: 5 }));
    let done: Vec<u32> = lines
        .iter()
        .filter_map(|l| match l {
            CardProgress::Progress { done, files: 5, .. } => Some(*done),
            _ => None,
        })
        .collect();
    assert_eq!(done, vec![1, 2, 3, 4, 5]);
    let kinds = consentcam_wire::KindCounts {
        jpeg: 2,
        heic: 1,
        other: 1,
        ..Default::default()
    };
    assert_eq!(
        lines.last(),
        Some(&CardProgress::Finished {
            imported: 4,
            failed: 1,
            kinds
        })
    );
    assert_eq!(kinds.summary().as_deref(), Some("2 JPEG, 1 HEIC, 1 other"));
    // Counts only: no file name from the card.
    let text = std::fs::read_to_string(&progress).unwrap();
    assert!(!text.contains("IMG_"), "{text}");
}

fn cli(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_photo_belongs_to_the_site_of_the_camera_it_came_off() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let clock = Clock::System;
    {
        let mut conn = store::open(&data.join("records.db")).unwrap();
        let zone = consentcam::infra::clock::time_zone("Europe/London");
        consentcam::demo::seed(&mut conn, clock.now(), clock.today(&zone)).unwrap();
    }
    assert!(cli(&data, &["site-add", "North"]).status.success());
    let twice = cli(&data, &["site-add", "north"]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already a site named"));
    let nowhere = cli(
        &data,
        &["site-assign", "--site", "Nowhere", "--device", "1"],
    );
    assert!(!nowhere.status.success());
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("no site named \"Nowhere\""));
    let nothing = cli(&data, &["site-assign", "--site", "North"]);
    assert!(!nothing.status.success());
    let assigned = cli(&data, &["site-assign", "--site", "North", "--device", "1"]);
    assert!(
        assigned.status.success(),
        "{}",
        String::from_utf8_lossy(&assigned.stderr)
    );
    let listed = cli(&data, &["site-list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("North"));

    let card = dir.path().join("card").join("DCIM").join("100CANON");
    std::fs::create_dir_all(&card).unwrap();
    camera_photo(
        &card.join("IMG_0201.JPG"),
        "2026:01:01 10:00:00",
        "012345678901",
    );
    assert!(import(&data, &dir.path().join("card")).status.success());
    let conn = store::open(&data.join("records.db")).unwrap();
    let (photo_site, north): (Option<i64>, i64) = conn
        .query_row(
            "SELECT p.site_id, s.id FROM photos p, sites s WHERE s.name = 'North'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(photo_site, Some(north));
    let audit = store::audit::verify(&conn).unwrap();
    assert!(audit.problems.is_empty());
    let actions: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action IN ('site.create', 'site.assign')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actions, 2);
}

#[test]
fn a_card_read_at_a_site_without_a_device_named_is_its_sites_latest_return() {
    use consentcam::domain::DeviceId;
    use consentcam::ops::ingest::session_for_import_at;
    let dir = tempfile::tempdir().unwrap();
    let mut conn = store::open(&dir.path().join("records.db")).unwrap();
    let clock = Clock::System;
    let zone = consentcam::infra::clock::time_zone("Europe/London");
    consentcam::demo::seed(&mut conn, clock.now(), clock.today(&zone)).unwrap();
    let now = clock.now();
    let north = store::sites::insert_site(&conn, "North", now).unwrap();
    let south = store::sites::insert_site(&conn, "South", now).unwrap();
    use store::sites::Kind;
    assert!(store::sites::assign(&conn, Kind::Device, 1, Some(north)).unwrap());
    assert!(store::sites::assign(&conn, Kind::Device, 2, Some(south)).unwrap());
    // North's camera came back first, South's an hour later (after every demo return).
    let person: i64 = conn
        .query_row("SELECT id FROM people ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let returned = |device: i64, back: &str| -> i64 {
        conn.execute(
            "INSERT INTO custody_sessions (device_id, person_id, out_at, due_back, returned_at) \
             VALUES (?1, ?2, '2030-01-01T09:00:00Z', '2030-01-01T17:00:00Z', ?3)",
            rusqlite::params![device, person, back],
        )
        .unwrap();
        conn.last_insert_rowid()
    };
    let north_return = returned(1, "2030-01-01T12:00:00Z");
    let south_return = returned(2, "2030-01-01T13:00:00Z");
    let found = |device: Option<i64>, site: Option<i64>| {
        session_for_import_at(&conn, device.map(DeviceId), site)
            .unwrap()
            .map(|s| s.id)
    };
    assert_eq!(found(None, Some(north)), Some(north_return), "North's own");
    assert_eq!(found(None, Some(south)), Some(south_return));
    assert_eq!(found(None, None), Some(south_return), "the latest of all");
    assert_eq!(
        found(Some(1), Some(south)),
        Some(north_return),
        "the device named"
    );
    let empty = store::sites::insert_site(&conn, "East", now).unwrap();
    assert_eq!(
        found(None, Some(empty)),
        None,
        "a site with no camera has no return"
    );
}

/// The class photo (29 faces) as a camera JPEG taken during the demo's Camera 1 sign-out.
fn class_photo(path: &Path, taken: &str) {
    image::load_from_memory(consentcam_media::sample::GROUP_PHOTO_PNG)
        .unwrap()
        .to_rgb8()
        .save(path)
        .unwrap();
    camera_tags(path, taken, "012345678901", &[]);
}

#[test]
fn detect_faces_redo_all_keeps_what_staff_said_and_adds_the_faces_nobody_had_seen() {
    use consentcam::rules::consent::FaceResolution;
    use consentcam::store::faces;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (now, taken) = demo_records(&data);
    let card = dir.path().join("card").join("DCIM").join("100CANON");
    std::fs::create_dir_all(&card).unwrap();
    class_photo(&card.join("IMG_0301.JPG"), &taken);
    // Imported with faces looked for, as a card is.
    let imported = cli(
        &data,
        &[
            "import-card",
            "--device",
            "1",
            "--mount",
            dir.path().join("card").to_str().unwrap(),
        ],
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    // The photo as an older, weaker detector left it: five faces never found, another
    // framed differently; staff named one face and dismissed another; it went out.
    let conn = store::open(&data.join("records.db")).unwrap();
    let photo = consentcam::domain::PhotoId(
        conn.query_row("SELECT id FROM photos ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap(),
    );
    let found = faces::faces(&conn, photo).unwrap();
    assert_eq!(found.len(), 29, "the import found the class");
    for gone in &found[24..] {
        conn.execute("DELETE FROM faces WHERE id = ?1", [gone.id])
            .unwrap();
    }
    let (named, dismissed, reframed) = (&found[0], &found[1], &found[2]);
    conn.execute(
        "UPDATE faces SET x = x + 2, y = y - 3, h = h + 4 WHERE id = ?1",
        [reframed.id],
    )
    .unwrap();
    let learner = consentcam::domain::PersonId(
        conn.query_row("SELECT id FROM people ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap(),
    );
    faces::resolve_face(&conn, photo, named.id, FaceResolution::Person(learner), now).unwrap();
    faces::resolve_face(&conn, photo, dismissed.id, FaceResolution::Dismissed, now).unwrap();
    conn.execute(
        "INSERT INTO publications (photo_id, channel, opaque_name, published_at, decision) \
         VALUES (?1, 'internal', 'p-redo', ?2, '{}')",
        rusqlite::params![photo.0, now.to_string()],
    )
    .unwrap();
    drop(conn);

    let out = cli(&data, &["detect-faces", "--redo-all"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "photo {}: 29 face(s) found, 24 already known, 5 new; published: 1 takedown task(s)",
            photo.0
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("5 new face(s) in 1 photo(s) to resolve"),
        "{stdout}"
    );

    let conn = store::open(&data.join("records.db")).unwrap();
    let after = faces::faces(&conn, photo).unwrap();
    assert_eq!(after.len(), 29);
    let by_id = |id: i64| after.iter().find(|f| f.id == id).expect("kept");
    assert_eq!(by_id(named.id).resolution, FaceResolution::Person(learner));
    assert_eq!(by_id(dismissed.id).resolution, FaceResolution::Dismissed);
    // The reframed face is the same face, back in the detector's box.
    assert_eq!(
        (
            by_id(reframed.id).x,
            by_id(reframed.id).y,
            by_id(reframed.id).h
        ),
        (reframed.x, reframed.y, reframed.h)
    );
    let newest_before = found.iter().map(|f| f.id).max().unwrap();
    let new: Vec<_> = after.iter().filter(|f| f.id > newest_before).collect();
    assert_eq!(new.len(), 5);
    assert!(
        new.iter()
            .all(|f| f.resolution == FaceResolution::Unresolved)
    );
    let (takedown, reason): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT takedown_since, takedown_reason FROM publications WHERE opaque_name = 'p-redo'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(takedown.is_some());
    assert_eq!(reason.as_deref(), Some("face_unresolved"));
    assert!(store::audit::verify(&conn).unwrap().problems.is_empty());
    drop(conn);

    // A second run finds nothing new and changes nothing.
    let again = cli(&data, &["detect-faces", "--redo-all"]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains(&format!(
            "photo {}: 29 face(s) found, 29 already known, 0 new",
            photo.0
        )),
        "{stdout}"
    );
    let conn = store::open(&data.join("records.db")).unwrap();
    assert_eq!(faces::faces(&conn, photo).unwrap().len(), 29);
}
