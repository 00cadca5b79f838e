//! Flush failures: for every k, the k-th sync of a 20-file import fails. The error must be
//! reported, nothing acknowledged or wiped after it, and a healthy re-run must recover.

mod common;

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{Rng, SqliteCatalogue};
use consentcam_media::{
    ImportError, ImportEvent, ImportOptions, OsStorage, Storage, Store, StoreError, import_card,
};

/// Counts syncs and fails only the k-th one, so an import that ignored the failure would
/// carry on and be caught acknowledging files.
struct FailingStorage {
    fail_at: u64,
    calls: AtomicU64,
}

impl FailingStorage {
    fn new(fail_at: u64) -> Self {
        Self {
            fail_at,
            calls: AtomicU64::new(0),
        }
    }

    fn tick(&self) -> io::Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at {
            Err(io::Error::from_raw_os_error(5))
        } else {
            Ok(())
        }
    }
}

impl Storage for FailingStorage {
    fn sync_file(&self, file: &File) -> io::Result<()> {
        self.tick()?;
        OsStorage.sync_file(file)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.tick()?;
        OsStorage.sync_dir(dir)
    }
}

fn card_files(card: &Path) -> usize {
    walk(card)
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn every_failed_sync_is_reported_and_a_rerun_recovers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let card = tmp.path().join("card");
    let mut rng = Rng::new(20);
    let distinct = common::write_card(&card, 20, &mut rng, |r, _| r.range(1_000, 50_000) as usize);
    let wipe = ImportOptions {
        wipe_after_verify: true,
        ..ImportOptions::default()
    };

    // A clean run counts the syncs an import makes.
    let counting = Arc::new(FailingStorage::new(u64::MAX));
    {
        let root = tmp.path().join("count");
        let store = Store::open(&root, counting.clone()).expect("store");
        let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
        import_card(
            &card,
            &store,
            &mut cat,
            &ImportOptions::default(),
            &mut |_| {},
        )
        .expect("clean import");
    }
    let total = counting.calls.load(Ordering::SeqCst);
    assert!(
        total >= 40,
        "expected a file and a folder sync per file, saw {total}"
    );

    for k in 1..=total {
        let root = tmp.path().join(format!("k{k}"));
        let failing = Arc::new(FailingStorage::new(k));
        let events = Mutex::new(Vec::new());
        let outcome = Store::open(&root, failing.clone())
            .map_err(ImportError::from)
            .and_then(|store| {
                let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
                import_card(&card, &store, &mut cat, &wipe, &mut |e| {
                    events.lock().expect("events").push(e.clone());
                })
            });
        match outcome {
            Err(ImportError::Store(StoreError::Sync { .. })) => {}
            other => panic!("k={k}: expected a reported sync failure, got {other:?}"),
        }
        let events = events.into_inner().expect("events");
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, ImportEvent::Finished { .. })),
            "k={k}: import acknowledged as finished"
        );
        if k > 1 {
            assert!(
                matches!(events.last(), Some(ImportEvent::Failed { .. })),
                "k={k}: failure not reported as an event"
            );
        }
        let cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
        let acknowledged = events
            .iter()
            .filter(|e| matches!(e, ImportEvent::FileDone { .. }))
            .count();
        let rows = cat.rows().expect("rows").len();
        assert!(
            rows <= acknowledged,
            "k={k}: {rows} rows but {acknowledged} files acknowledged"
        );
        assert!(
            common::committed_rows_are_durable(&root, &cat).is_empty(),
            "k={k}: a committed row has no good file"
        );
        assert_eq!(
            card_files(&card),
            20,
            "k={k}: the card was wiped after a failed sync"
        );

        // Recovery with a healthy disk, without wiping so the next k sees the full card.
        let store = Store::open(&root, Arc::new(OsStorage)).expect("healthy store");
        let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
        import_card(
            &card,
            &store,
            &mut cat,
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("k={k}: re-run failed: {e}"));
        assert_eq!(cat.rows().expect("rows").len(), distinct.len(), "k={k}");
        assert!(
            common::committed_rows_are_durable(&root, &cat).is_empty(),
            "k={k}"
        );
        assert!(
            common::temp_files(&root).is_empty(),
            "k={k}: temporary files left"
        );
    }
}

#[test]
fn wipe_after_verify_deletes_only_committed_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let card = tmp.path().join("card");
    let mut rng = Rng::new(7);
    common::write_card(&card, 6, &mut rng, |r, _| r.range(100, 5_000) as usize);
    let root = tmp.path().join("store");
    let store = Store::open(&root, Arc::new(OsStorage)).expect("store");
    let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
    import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import");
    // A file that arrives after the import is not committed and must survive the wipe.
    let late = card.join("DCIM/100CANON/LATE.JPG");
    std::fs::write(&late, b"\xFF\xD8\xFF new photo").expect("write");
    std::os::unix::fs::symlink("/etc/hostname", card.join("link.jpg")).expect("symlink");
    let report = consentcam_media::wipe_card(&card, &store, &cat).expect("wipe");
    assert_eq!(report.deleted.len(), 6);
    assert!(late.exists());
    assert!(card.join("link.jpg").symlink_metadata().is_ok());
    assert_eq!(report.kept.len(), 2);
}

#[test]
fn a_committed_file_missing_from_the_store_is_restored_from_the_card() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let card = tmp.path().join("card");
    let mut rng = Rng::new(8);
    let distinct = common::write_card(&card, 4, &mut rng, |r, _| r.range(100, 5_000) as usize);
    let root = tmp.path().join("store");
    let store = Store::open(&root, Arc::new(OsStorage)).expect("store");
    let mut cat = SqliteCatalogue::open(&root.join("c.sqlite")).expect("db");
    import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import");
    let lost = *distinct.keys().next().expect("a file");
    std::fs::remove_file(store.object_path(&lost).expect("a local store")).expect("lose a file");
    assert!(!common::committed_rows_are_durable(&root, &cat).is_empty());
    let report = import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("re-import");
    assert!(store.contains(&lost).expect("look up"));
    assert!(common::committed_rows_are_durable(&root, &cat).is_empty());
    assert_eq!(report.count(consentcam_media::Outcome::Stored), 0);
}

#[test]
fn a_second_import_is_refused_while_one_holds_the_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path().join("store"), Arc::new(OsStorage)).expect("store");
    let held = store.lock().expect("first lock");
    let card = tmp.path().join("card");
    std::fs::create_dir_all(&card).expect("card");
    let mut cat = SqliteCatalogue::open(&tmp.path().join("c.sqlite")).expect("db");
    let second = import_card(
        &card,
        &store,
        &mut cat,
        &ImportOptions::default(),
        &mut |_| {},
    );
    assert!(matches!(second, Err(ImportError::Store(StoreError::Busy))));
    drop(held);
    assert!(
        import_card(
            &card,
            &store,
            &mut cat,
            &ImportOptions::default(),
            &mut |_| {}
        )
        .is_ok()
    );
}
