//! `consentcam purge`: what is past its time goes, whole, even when the purge is killed.
//!
//! The crash test kills `consentcam purge` with SIGKILL at random moments and runs it
//! again, as the import's crash test does: after every kill nothing may be half-deleted
//! (a photo row whose original is gone, or a file on disk that neither a row nor the
//! deletion queue knows), and after the run that finishes everything due is gone, each
//! photo counted once in the audit log, the chain intact.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use consentcam::infra::clock::Clock;
use consentcam::store;

const PHOTOS: usize = 120;

fn consentcam(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consentcam"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn");
    command
}

fn run(config: &Path, args: &[&str]) -> Output {
    consentcam(config, args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write_config(dir: &Path, data: &Path, retention: &str) -> PathBuf {
    let path = dir.join("consentcam.toml");
    std::fs::write(
        &path,
        format!("data_dir = {:?}\n{retention}", data.to_str().unwrap()),
    )
    .unwrap();
    path
}

/// A data directory with the demo's register (its forms and Camera 1) and `PHOTOS`
/// distinct pictures imported through `consentcam import-card`, plus a scanned form of
/// a person who left in 2015.
fn prepared(dir: &Path) -> PathBuf {
    let data = dir.join("template");
    std::fs::create_dir_all(&data).unwrap();
    let clock = Clock::System;
    let zone = consentcam::infra::clock::time_zone("Europe/London");
    let mut conn = store::open(&data.join("records.db")).unwrap();
    consentcam::demo::seed(&mut conn, clock.now(), clock.today(&zone)).unwrap();
    let card = dir.join("card").join("DCIM").join("100CANON");
    std::fs::create_dir_all(&card).unwrap();
    for i in 0..PHOTOS {
        let shade = (i * 2) as u8;
        let img = image::RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([shade, (x * 2) as u8, (y * 3 + i as u32) as u8])
        });
        img.save(card.join(format!("IMG_{i:04}.JPG"))).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--data-dir")
        .arg(&data)
        .args(["import-card", "--device", "1", "--no-faces", "--mount"])
        .arg(dir.join("card"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // A person who left in 2015, whose form has a scan on file.
    std::fs::create_dir_all(data.join("evidence")).unwrap();
    std::fs::write(data.join("evidence/left-form.pdf"), b"%PDF-1.4 signed form").unwrap();
    let person: i64 = conn
        .query_row(
            "SELECT person_id FROM consent_records ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE consent_records SET evidence_path = 'evidence/left-form.pdf' WHERE person_id = ?1",
        [person],
    )
    .unwrap();
    consentcam::ops::people::set_left(
        &mut conn,
        consentcam::domain::PersonId(person),
        Some("2015-07-20".parse().unwrap()),
        "2026-01-01".parse().unwrap(),
        "cli",
        clock.now(),
    )
    .unwrap();
    let photos: i64 = conn
        .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(photos as usize, PHOTOS);
    data
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_string_lossy().into());
            }
        }
    }
    let mut out = BTreeSet::new();
    for sub in ["store/objects", "renditions", "evidence", "outbox"] {
        walk(dir, &dir.join(sub), &mut out);
    }
    out
}

/// What must hold after any kill: every remaining row has its files, and every file is
/// either a remaining row's or queued for deletion.
fn nothing_half_deleted(data: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let conn = match store::open(&data.join("records.db")) {
        Ok(c) => c,
        Err(e) => return vec![format!("the records do not open: {e}")],
    };
    if let Err(e) = store::integrity_check(&conn) {
        bad.push(format!("integrity: {e}"));
    }
    let mut owned = BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT content_hash, analysed_at IS NOT NULL FROM photos")
        .unwrap();
    let rows: Vec<(String, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    use consentcam::infra::archive::Archive;
    for (hash, analysed) in rows {
        let mut mine = vec![Archive::original_key(&hash)];
        if analysed {
            mine.push(Archive::thumbnail_key(&hash));
            mine.push(Archive::preview_key(&hash));
        }
        for name in mine {
            if !data.join(&name).is_file() {
                bad.push(format!("photo {hash} has a row but not {name}"));
            }
            owned.insert(name);
        }
    }
    let scans: Vec<String> = conn
        .prepare("SELECT evidence_path FROM consent_records WHERE evidence_path IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for scan in scans {
        if !data.join(&scan).is_file() {
            bad.push(format!("a form has a row but not its scan {scan}"));
        }
        owned.insert(scan);
    }
    let queued: BTreeSet<String> = store::retention::pending_deletions(&conn)
        .unwrap()
        .into_iter()
        .collect();
    for file in files_under(data) {
        if !owned.contains(&file) && !queued.contains(&file) {
            bad.push(format!("{file} belongs to no row and is not queued"));
        }
    }
    bad
}

fn purged_ids(data: &Path) -> Vec<i64> {
    let conn = store::open(&data.join("records.db")).unwrap();
    let mut ids = Vec::new();
    let filter = store::audit::Filter {
        action_prefix: Some("retention.purge".into()),
        ..Default::default()
    };
    for row in store::audit::list(&conn, &filter).unwrap() {
        for id in row.details["photos_unpublished"].as_array().unwrap() {
            ids.push(id.as_i64().unwrap());
        }
    }
    ids.sort_unstable();
    ids
}

/// A small deterministic generator for the kill delays.
struct Rng(u64);

impl Rng {
    fn fraction(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000) as f64 / 1_000_000.0
    }
}

#[test]
fn a_purge_killed_at_any_moment_is_finished_by_the_next_run_and_nothing_is_half_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let template = prepared(dir.path());
    let all_ids: Vec<i64> = {
        let conn = store::open(&template.join("records.db")).unwrap();
        let mut stmt = conn.prepare("SELECT id FROM photos ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let retention = "[retention]\nunpublished_photo_days = 0\nformer_person_years = 6\n";

    // One undisturbed run sizes the delays and shows the finished state.
    let calibrate = dir.path().join("calibrate");
    copy_dir(&template, &calibrate);
    let config = write_config(dir.path(), &calibrate, retention);
    let started = Instant::now();
    let out = run(&config, &["purge"]);
    let full = started.elapsed().max(Duration::from_millis(20));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{PHOTOS} photo(s) unpublished too long")),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("1 scan(s)"), "{}", text(&out));

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut kills, mut in_deletion, mut violations) = (0, 0, Vec::new());
    let mut round = 0;
    while kills < 30 {
        round += 1;
        let data = dir.path().join(format!("round-{round}"));
        copy_dir(&template, &data);
        let config = write_config(&data, &data, retention);
        // Up to three kills in a row on the same data, then a run to the end.
        for _ in 0..3 {
            let mut child = consentcam(&config, &["purge"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(full.mul_f64(rng.fraction()));
            if child.try_wait().unwrap().is_some() {
                break;
            }
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
            let conn = store::open(&data.join("records.db")).unwrap();
            if !store::retention::pending_deletions(&conn)
                .unwrap()
                .is_empty()
            {
                in_deletion += 1;
            }
            drop(conn);
            violations.extend(
                nothing_half_deleted(&data)
                    .into_iter()
                    .map(|v| format!("after kill {kills}: {v}")),
            );
        }
        let out = run(&config, &["purge"]);
        assert!(out.status.success(), "{}", text(&out));
        violations.extend(nothing_half_deleted(&data));
        let conn = store::open(&data.join("records.db")).unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
            .unwrap();
        if left != 0 {
            violations.push(format!(
                "round {round}: {left} photo(s) left after the re-run"
            ));
        }
        if !files_under(&data).is_empty() {
            violations.push(format!(
                "round {round}: files left: {:?}",
                files_under(&data)
            ));
        }
        if !store::retention::pending_deletions(&conn)
            .unwrap()
            .is_empty()
        {
            violations.push(format!("round {round}: deletions still queued"));
        }
        if purged_ids(&data) != all_ids {
            violations.push(format!(
                "round {round}: the audit log does not count each photo once"
            ));
        }
        let verified = store::audit::verify(&conn).unwrap();
        if !verified.problems.is_empty() {
            violations.push(format!("round {round}: audit {:?}", verified.problems));
        }
        drop(conn);
        let _ = std::fs::remove_dir_all(&data);
    }
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(
        in_deletion > 0,
        "no kill landed between the commit and the end of the deletions ({kills} kills)"
    );
}

#[test]
fn a_dry_run_changes_nothing_and_a_purge_without_retention_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let template = prepared(dir.path());
    let before = files_under(&template);
    let bare = write_config(dir.path(), &template, "");
    let out = run(&bare, &["purge"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no [retention] section"),
        "{}",
        text(&out)
    );
    let config = write_config(
        dir.path(),
        &template,
        "[retention]\nunpublished_photo_days = 0\n",
    );
    let out = run(&config, &["purge", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{PHOTOS} photo(s) unpublished for 0 days")),
        "{}",
        text(&out)
    );
    assert_eq!(files_under(&template), before, "nothing removed");
    let conn = store::open(&template.join("records.db")).unwrap();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count as usize, PHOTOS);
    assert!(purged_ids(&template).is_empty(), "no purge was recorded");

    let strict = write_config(
        dir.path(),
        &template,
        "[retention]\nunpublished_photo_dayz = 1\n",
    );
    let out = run(&strict, &["purge", "--dry-run"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unpublished_photo_dayz"),
        "{}",
        text(&out)
    );
}
