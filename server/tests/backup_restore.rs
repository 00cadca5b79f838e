//! The restore drill, as an operator runs it: `consentcam backup`, the photo store copied
//! beside it, `consentcam restore` into a fresh data directory. Afterwards the records pass
//! `integrity_check`, the audit chain verifies, every row of every table is present, and
//! every catalogued photo's file hashes to its catalogue entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use consentcam::clock::{self, Clock};
use consentcam::store::{self, photos};
use rusqlite::Connection;
use rusqlite::types::Value;

fn consentcam(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// What `rsync -a` does for the photo store in the guide.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `dir` by file name: the store names each file by its content hash.
fn files_by_name(dir: &Path, out: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            files_by_name(&entry.path(), out);
        } else {
            out.insert(
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            );
        }
    }
}

/// Every table's rows, in a stable order.
fn all_rows(conn: &Connection) -> BTreeMap<String, Vec<Vec<Value>>> {
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap();
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
        .into_iter()
        .map(|name| {
            // Ordered by every column: some tables have no rowid.
            let columns = conn
                .prepare(&format!("SELECT * FROM \"{name}\""))
                .unwrap()
                .column_count();
            let order: Vec<String> = (1..=columns).map(|i| i.to_string()).collect();
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT * FROM \"{name}\" ORDER BY {}",
                    order.join(", ")
                ))
                .unwrap();
            let rows = stmt
                .query_map([], |row| {
                    (0..columns).map(|i| row.get::<_, Value>(i)).collect()
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (name, rows)
        })
        .collect()
}

fn count(rows: &BTreeMap<String, Vec<Vec<Value>>>, table: &str) -> usize {
    rows.get(table).map_or(0, Vec::len)
}

/// Seeds the demo records and three real photo files in a content-addressed store
/// (`photos/objects/<first two hex digits>/<hash>`); returns the records database.
fn seeded_data_dir(data_dir: &Path) -> PathBuf {
    std::fs::create_dir_all(data_dir).unwrap();
    let db = data_dir.join("records.db");
    let mut conn = store::open(&db).unwrap();
    let clock = Clock::System;
    let now = clock.now();
    let today = clock.today(&clock::time_zone("Europe/London"));
    consentcam::demo::seed(&mut conn, now, today).unwrap();
    for n in 0..3 {
        let bytes = format!("not really a JPEG, number {n}\n").repeat(500 + n);
        let hash = blake3::hash(bytes.as_bytes()).to_hex().to_string();
        let file = data_dir.join("photos/objects").join(&hash[..2]).join(&hash);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &bytes).unwrap();
        photos::insert_photo(
            &conn,
            &photos::NewPhoto {
                content_hash: hash,
                byte_size: bytes.len() as u64,
                format: "jpeg".into(),
                original_name: format!("DCIM/100CANON/IMG_{n:04}.JPG"),
                provenance: "unknown".into(),
                ..photos::NewPhoto::default()
            },
            now,
        )
        .unwrap();
    }
    db
}

#[test]
fn a_restored_backup_has_every_record_and_every_photo_matches_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let db = seeded_data_dir(&live);
    let before = all_rows(&Connection::open(&db).unwrap());
    assert!(count(&before, "people") > 0 && count(&before, "consent_records") > 0);
    assert!(count(&before, "audit_log") > 0 && count(&before, "photos") == 3);

    // Back up: the records online, the photo store as files.
    let backup = dir.path().join("usb");
    std::fs::create_dir_all(&backup).unwrap();
    let out = consentcam(&live, &["backup", path(&backup.join("records.db"))]);
    assert!(out.status.success(), "{}", text(&out));
    copy_tree(&live.join("photos"), &backup.join("photos"));

    // Restore into a fresh data directory, as on a replacement Pi.
    let restored = dir.path().join("restored");
    let out = consentcam(&restored, &["restore", path(&backup.join("records.db"))]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("integrity ok"), "{}", text(&out));
    copy_tree(&backup.join("photos"), &restored.join("photos"));

    let check = consentcam(&restored, &["check-audit"]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("hash chain verified"),
        "{}",
        text(&check)
    );

    let conn = store::open(&restored.join("records.db")).unwrap();
    store::integrity_check(&conn).unwrap();
    let after = all_rows(&conn);
    for (table, rows) in &before {
        assert_eq!(after.get(table), Some(rows), "table {table} differs");
    }
    assert_eq!(after.len(), before.len(), "same tables");

    // Every catalogued photo whose file the live store had is restored and hashes right.
    let mut live_files = BTreeMap::new();
    files_by_name(&live.join("photos"), &mut live_files);
    let mut restored_files = BTreeMap::new();
    files_by_name(&restored.join("photos"), &mut restored_files);
    let mut stmt = conn
        .prepare("SELECT content_hash FROM photos ORDER BY id")
        .unwrap();
    let hashes: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut verified = 0;
    for hash in &hashes {
        if !live_files.contains_key(hash) {
            continue; // a demo row without a file
        }
        let file = restored_files
            .get(hash)
            .unwrap_or_else(|| panic!("photo {hash} is catalogued but not restored"));
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().as_str(), hash, "{file:?}");
        verified += 1;
    }
    assert_eq!(verified, 3, "the three stored photos were checked");
}

#[test]
fn a_damaged_photo_in_the_restored_store_is_noticed_by_the_hash_check() {
    // Negative control for the check above: one changed byte breaks the match.
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    seeded_data_dir(&live);
    let mut files = BTreeMap::new();
    files_by_name(&live.join("photos"), &mut files);
    let (hash, file) = files.iter().next().unwrap();
    let mut bytes = std::fs::read(file).unwrap();
    bytes[0] ^= 1;
    assert_ne!(blake3::hash(&bytes).to_hex().as_str(), hash);
}

#[test]
fn restore_never_overwrites_records_and_refuses_a_damaged_or_tampered_backup() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    seeded_data_dir(&live);
    let backup = dir.path().join("records-backup.db");
    assert!(
        consentcam(&live, &["backup", path(&backup)])
            .status
            .success()
    );

    // Onto existing records: refused, the records untouched.
    let before = all_rows(&Connection::open(live.join("records.db")).unwrap());
    let out = consentcam(&live, &["restore", path(&backup)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(
        all_rows(&Connection::open(live.join("records.db")).unwrap()),
        before
    );

    // A backup whose audit log was edited (triggers dropped, an entry changed): refused.
    let tampered = dir.path().join("tampered.db");
    std::fs::copy(&backup, &tampered).unwrap();
    {
        let conn = Connection::open(&tampered).unwrap();
        conn.execute_batch(
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'someone-else' WHERE rowid = 1;",
        )
        .unwrap();
    }
    let target = dir.path().join("fresh");
    let out = consentcam(&target, &["restore", path(&tampered)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("tampered"), "{}", text(&out));
    assert!(!target.join("records.db").exists());

    // Not a database at all: refused, nothing created.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let out = consentcam(&target, &["restore", path(&junk)]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!target.join("records.db").exists());
}
