//! The photo store on S3-compatible object storage, against a real server on loopback
//! (`s3s-fs`): the bucket does what the folder does, an import stores every file before
//! its row, and one cut off by the storage going away keeps what it committed and
//! finishes when run again.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::s3::S3Server;
use common::{Rng, SqliteCatalogue};
use consentcam_media::{
    Bucket, BucketError, ContentHash, ImportError, ImportOptions, LocalBucket, OsStorage, S3Bucket,
    Store, StoreError, import_card,
};

const BUCKET: &str = "photos";

/// Everything a caller relies on, asked of one bucket.
fn behaves_as_a_bucket(bucket: &dyn Bucket, scratch: &Path) {
    let big: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let source = scratch.join("big");
    std::fs::write(&source, &big).unwrap();
    bucket.put_file("ab/big", &source).unwrap();
    assert!(
        !source.exists(),
        "{}: the source is moved in",
        bucket.describe()
    );
    assert_eq!(bucket.size("ab/big").unwrap(), Some(big.len() as u64));
    assert!(bucket.get("ab/big").unwrap().unwrap() == big);
    let copy = scratch.join("copy");
    assert!(bucket.download("ab/big", &copy).unwrap());
    assert!(std::fs::read(&copy).unwrap() == big);

    bucket.put_bytes("ab/small", b"one").unwrap();
    bucket.put_bytes("ab/small", b"two").unwrap();
    assert_eq!(
        bucket.get("ab/small").unwrap().as_deref(),
        Some(&b"two"[..])
    );
    bucket.put_bytes("cd/other", b"3").unwrap();
    bucket.put_bytes("abc/not-in-ab", b"4").unwrap();

    let keys = |prefix| -> Vec<String> {
        bucket
            .list(prefix)
            .unwrap()
            .into_iter()
            .map(|l| l.key)
            .collect()
    };
    assert_eq!(keys("ab/"), ["ab/big", "ab/small"]);
    assert_eq!(
        keys(""),
        ["ab/big", "ab/small", "abc/not-in-ab", "cd/other"]
    );
    assert_eq!(bucket.list("cd/").unwrap()[0].size, 1);

    assert_eq!(bucket.get("ab/none").unwrap(), None);
    assert_eq!(bucket.size("ab/none").unwrap(), None);
    assert!(!bucket.download("ab/none", &scratch.join("none")).unwrap());
    bucket.delete("ab/small").unwrap();
    bucket.delete("ab/small").unwrap();
    assert_eq!(bucket.get("ab/small").unwrap(), None);
    assert!(matches!(
        bucket.put_bytes("../outside", b"x"),
        Err(BucketError::BadKey(_))
    ));
}

#[test]
fn object_storage_does_what_the_folder_does() {
    let tmp = tempfile::tempdir().unwrap();
    let local = LocalBucket::new(tmp.path().join("folder"), Arc::new(OsStorage));
    behaves_as_a_bucket(&local, tmp.path());

    let server = S3Server::start(&tmp.path().join("s3"), BUCKET);
    let remote =
        S3Bucket::connect(&server.settings(BUCKET, Duration::from_secs(5)), "store/").unwrap();
    behaves_as_a_bucket(&remote, tmp.path());
    // The keys are where the prefix says, seen from outside the API.
    assert!(server.folder(BUCKET).join("store/ab/big").is_file());
    assert!(!server.folder(BUCKET).join("store/ab/small").exists());
    // A rename moves the object within the bucket, replacing what was at its new key.
    remote.put_bytes("staging/x", b"new").unwrap();
    remote.put_bytes("cd/other", b"old").unwrap();
    remote.rename("staging/x", "cd/other").unwrap();
    assert_eq!(remote.get("staging/x").unwrap(), None);
    assert_eq!(
        std::fs::read(server.folder(BUCKET).join("store/cd/other")).unwrap(),
        b"new"
    );
    assert!(remote.rename("staging/none", "cd/none").is_err());
}

#[test]
fn a_bucket_that_does_not_answer_is_an_error_not_an_absence() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(&tmp.path().join("s3"), BUCKET);
    let remote =
        S3Bucket::connect(&server.settings(BUCKET, Duration::from_millis(300)), "").unwrap();
    remote.put_bytes("ab/x", b"x").unwrap();
    server.stop();
    assert!(remote.size("ab/x").is_err());
    assert!(remote.get("ab/x").is_err());
    assert!(remote.put_bytes("ab/y", b"y").is_err());
    server.resume();
    assert_eq!(remote.size("ab/x").unwrap(), Some(1));
    // Wrong credentials are refused, not read as "no such file".
    let mut wrong = server.settings(BUCKET, Duration::from_millis(300));
    wrong.secret_access_key = "not-the-secret".into();
    let intruder = S3Bucket::connect(&wrong, "").unwrap();
    assert!(intruder.get("ab/x").is_err());
}

fn card_sizes(rng: &mut Rng, _: usize) -> usize {
    rng.range(150_000, 400_000) as usize
}

#[test]
fn an_import_cut_off_by_the_storage_keeps_what_it_committed_and_finishes_when_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(&tmp.path().join("s3"), BUCKET);
    let card = tmp.path().join("card");
    let mut rng = Rng::new(0x53);
    let expected: BTreeMap<ContentHash, u64> = common::write_card(&card, 150, &mut rng, card_sizes);
    let settings = server.settings(BUCKET, Duration::from_millis(500));
    let originals = Arc::new(S3Bucket::connect(&settings, "store/objects/").unwrap());
    let root = tmp.path().join("store");
    let store = Store::with_originals(&root, Arc::new(OsStorage), originals.clone()).unwrap();
    let db = root.join("catalogue.sqlite");
    // Made before the import starts, which then only writes rows.
    let watcher = SqliteCatalogue::open(&db).unwrap();

    let importer = {
        let (store, card, db) = (store.clone(), card.clone(), db.clone());
        std::thread::spawn(move || {
            let mut catalogue = SqliteCatalogue::open(&db).unwrap();
            import_card(
                &card,
                &store,
                &mut catalogue,
                &ImportOptions::default(),
                &mut |_| {},
            )
        })
    };
    // The storage goes away once a few files are in.
    while watcher.rows().unwrap().len() < 5 {
        std::thread::sleep(Duration::from_millis(2));
    }
    server.stop();
    let outcome = importer.join().unwrap();
    let committed = watcher.rows().unwrap().len();
    assert!(
        matches!(
            outcome,
            Err(ImportError::Store(StoreError::Bucket(
                BucketError::Io { .. } | BucketError::Remote { .. }
            )))
        ),
        "the import must stop with the storage's error: {outcome:?}"
    );
    assert!(
        committed < expected.len(),
        "cut off part way ({committed} rows)"
    );
    assert!(
        common::temp_files(&root).is_empty(),
        "the file being uploaded is not left behind"
    );

    server.resume();
    let bad = common::committed_rows_are_in(originals.as_ref(), &watcher);
    assert!(bad.is_empty(), "{bad:#?}");

    // Run again, it finishes: every file once, each object holding its hash's bytes.
    let mut catalogue = SqliteCatalogue::open(&db).unwrap();
    let report = import_card(
        &card,
        &store,
        &mut catalogue,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.files.iter().all(|f| f.problems.is_empty()));
    let rows: Vec<String> = catalogue
        .rows()
        .unwrap()
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    let wanted: Vec<String> = expected.keys().map(ContentHash::to_hex).collect();
    assert_eq!(rows, wanted);
    let objects = common::objects_of(originals.as_ref());
    assert_eq!(objects.len(), expected.len());
    for (key, bytes) in &objects {
        let hash = ContentHash::of_bytes(bytes);
        assert_eq!(key, &format!("{}/{}", &hash.to_hex()[..2], hash.to_hex()));
        assert_eq!(expected.get(&hash), Some(&(bytes.len() as u64)));
    }
    assert!(common::committed_rows_are_in(originals.as_ref(), &catalogue).is_empty());
    // Nothing is kept on this machine but the catalogue.
    assert!(common::objects_in(&root).is_empty());
}
