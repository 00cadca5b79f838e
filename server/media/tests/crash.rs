//! Crash safety (rule I3): the import is killed with SIGKILL at random moments and run
//! again; the store and catalogue must end complete and consistent. A negative control
//! with the commit moved before the copy must be caught by the same checks.
//!
//! The child process is this test binary itself, running the ignored `import_child`
//! test with its arguments in environment variables.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::s3::S3Server;
use common::{Rng, SqliteCatalogue};
use consentcam_media::import::CommitOrder;
use consentcam_media::{
    Bucket, ContentHash, ImportOptions, LocalBucket, OsStorage, S3Bucket, S3Settings, Store,
    import_card,
};

const CHILD_CARD: &str = "CONSENTCAM_TEST_CHILD_CARD";
const CHILD_STORE: &str = "CONSENTCAM_TEST_CHILD_STORE";
const CHILD_ORDER: &str = "CONSENTCAM_TEST_CHILD_ORDER";
/// `<endpoint> <bucket>`: the originals go to object storage, under the store's folder name.
const CHILD_S3: &str = "CONSENTCAM_TEST_CHILD_S3";
const S3_BUCKET: &str = "photos";

/// Where a campaign's originals go: the store's own folder, or object storage.
enum Backend {
    Local,
    S3(S3Server),
}

impl Backend {
    fn child_env(&self) -> Option<String> {
        match self {
            Self::Local => None,
            Self::S3(server) => Some(format!("{} {S3_BUCKET}", server.endpoint())),
        }
    }

    fn originals(&self, store_root: &Path) -> Arc<dyn Bucket> {
        match self {
            Self::Local => Arc::new(LocalBucket::new(
                store_root.join("objects"),
                Arc::new(OsStorage),
            )),
            Self::S3(server) => s3_originals(
                &server.settings(S3_BUCKET, Duration::from_secs(1)),
                store_root,
            ),
        }
    }
}

/// The originals of one store in object storage: a prefix per store folder, so that each
/// round starts empty.
fn s3_originals(settings: &S3Settings, store_root: &Path) -> Arc<dyn Bucket> {
    let name = store_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Arc::new(S3Bucket::connect(settings, &format!("{name}/")).expect("s3 client"))
}

/// The import as a separate process, for the parent tests to kill.
#[test]
#[ignore = "run only as the child of the crash tests"]
fn import_child() {
    let (Some(card), Some(store)) = (std::env::var_os(CHILD_CARD), std::env::var_os(CHILD_STORE))
    else {
        // Run by hand with --ignored: nothing to do without a card and a store.
        return;
    };
    let store_root = PathBuf::from(store);
    let commit_order = match std::env::var(CHILD_ORDER).as_deref() {
        Ok("before") => CommitOrder::BeforeDurable,
        _ => CommitOrder::AfterDurable,
    };
    let store = match std::env::var(CHILD_S3) {
        Ok(s3) => {
            let (endpoint, bucket) = s3.split_once(' ').expect("endpoint and bucket");
            let settings = S3Settings {
                bucket: bucket.into(),
                endpoint: Some(endpoint.into()),
                ..common::s3::test_settings()
            };
            let originals = s3_originals(&settings, &store_root);
            Store::with_originals(&store_root, Arc::new(OsStorage), originals).expect("open store")
        }
        Err(_) => Store::open(&store_root, Arc::new(OsStorage)).expect("open store"),
    };
    let mut catalogue = SqliteCatalogue::open(&store_root.join("catalogue.sqlite")).expect("db");
    let options = ImportOptions {
        commit_order,
        ..ImportOptions::default()
    };
    let report = import_card(
        Path::new(&card),
        &store,
        &mut catalogue,
        &options,
        &mut |_| {},
    )
    .expect("import");
    assert!(!report.files.is_empty());
}

fn spawn_child(card: &Path, store: &Path, order: &str, backend: &Backend) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("own path"));
    if let Some(s3) = backend.child_env() {
        command.env(CHILD_S3, s3);
    }
    command
        .args([
            "--exact",
            "import_child",
            "--ignored",
            "--test-threads=1",
            "-q",
        ])
        .env(CHILD_CARD, card)
        .env(CHILD_STORE, store)
        .env(CHILD_ORDER, order)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child import")
}

struct Campaign {
    kills: usize,
    /// Kills that left a temporary file behind (between the start of a copy and its rename).
    in_copy_window: usize,
    /// Of those, kills where the temporary file's length matched no card file: the copy
    /// itself was interrupted.
    mid_copy: usize,
    violations: Vec<String>,
    rounds: usize,
}

fn check_final(
    store_root: &Path,
    originals: &dyn Bucket,
    expected: &BTreeMap<ContentHash, u64>,
) -> Vec<String> {
    let mut bad = Vec::new();
    let catalogue = match SqliteCatalogue::open(&store_root.join("catalogue.sqlite")) {
        Ok(c) => c,
        Err(e) => return vec![format!("catalogue does not open: {e}")],
    };
    match catalogue.integrity_check() {
        Ok(s) if s == "ok" => {}
        other => bad.push(format!("integrity_check: {other:?}")),
    }
    bad.extend(common::committed_rows_are_in(originals, &catalogue));
    let rows = catalogue.rows().unwrap_or_default();
    let committed: Vec<String> = rows.iter().map(|(h, _)| h.clone()).collect();
    let wanted: Vec<String> = expected.keys().map(ContentHash::to_hex).collect();
    if committed != wanted {
        bad.push(format!(
            "catalogue has {} rows, card has {} distinct files",
            committed.len(),
            wanted.len()
        ));
    }
    let objects = common::objects_of(originals);
    let names: Vec<String> = objects
        .iter()
        .map(|(key, _)| key.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    if names != wanted {
        bad.push(format!(
            "store holds {} objects, card has {} distinct files",
            names.len(),
            wanted.len()
        ));
    }
    for ((_, bytes), name) in objects.iter().zip(&names) {
        if ContentHash::of_bytes(bytes).to_hex() != *name {
            bad.push(format!("object {name} does not hash to its name"));
        }
    }
    let temps = common::temp_files(store_root);
    if !temps.is_empty() {
        bad.push(format!("{} temporary files left", temps.len()));
    }
    bad
}

fn run_to_end(card: &Path, store_root: &Path, order: &str, backend: &Backend) {
    let status = spawn_child(card, store_root, order, backend)
        .wait()
        .expect("wait for child");
    assert!(status.success(), "an uninterrupted import must succeed");
}

/// Kill the import `target` times at random moments; after each kill check the rows
/// already committed, and after each completed round check everything.
fn campaign(
    seed: u64,
    target: usize,
    order: &str,
    card: &Path,
    work: &Path,
    backend: &Backend,
) -> Campaign {
    let expected = {
        let mut m = BTreeMap::new();
        for e in walk_files(card) {
            let bytes = std::fs::read(&e).expect("read card file");
            m.insert(ContentHash::of_bytes(&bytes), bytes.len() as u64);
        }
        m
    };
    // One undisturbed run sizes the random delays; no assertion depends on it.
    let calibrate = work.join("calibrate");
    let started = Instant::now();
    run_to_end(card, &calibrate, order, backend);
    let full = started.elapsed().max(Duration::from_millis(20));
    let mut rng = Rng::new(seed);
    let mut result = Campaign {
        kills: 0,
        in_copy_window: 0,
        mid_copy: 0,
        violations: Vec::new(),
        rounds: 0,
    };
    let caught = |r: &Campaign| order == "before" && !r.violations.is_empty();
    while result.kills < target && !caught(&result) {
        result.rounds += 1;
        let store_root = work.join(format!("round-{}", result.rounds));
        loop {
            let mut child = spawn_child(card, &store_root, order, backend);
            let delay = full.mul_f64(rng.range(0, 1_000_000) as f64 / 1_000_000.0);
            std::thread::sleep(delay);
            if child.try_wait().expect("poll child").is_some() {
                break;
            }
            child.kill().expect("SIGKILL child");
            child.wait().expect("reap child");
            result.kills += 1;
            let temps = common::temp_files(&store_root);
            if !temps.is_empty() {
                result.in_copy_window += 1;
                let partial = temps.iter().any(|t| {
                    std::fs::metadata(t).is_ok_and(|m| !expected.values().any(|&s| m.len() == s))
                });
                if partial {
                    result.mid_copy += 1;
                }
            }
            if let Ok(cat) = SqliteCatalogue::open(&store_root.join("catalogue.sqlite")) {
                result.violations.extend(common::committed_rows_are_in(
                    backend.originals(&store_root).as_ref(),
                    &cat,
                ));
            }
            // The negative control needs one violation, not all of them.
            if result.kills >= target || caught(&result) {
                run_to_end(card, &store_root, order, backend);
                break;
            }
        }
        result.violations.extend(check_final(
            &store_root,
            backend.originals(&store_root).as_ref(),
            &expected,
        ));
        let _ = std::fs::remove_dir_all(&store_root);
    }
    result
}

/// A scratch folder in memory where the machine has one. A SIGKILL does not drop the
/// page cache, so a disk adds nothing to what this test can see but time (the flushes);
/// flush failures are the subject of `tests/fsync.rs`.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("tempdir")
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read card").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// 200 files: mostly small, some of a few hundred KiB so that copies take long enough
/// to be hit while they run.
fn card_sizes(rng: &mut Rng, i: usize) -> usize {
    if i.is_multiple_of(4) {
        rng.range(600_000, 1_500_000) as usize
    } else {
        rng.range(20_000, 200_000) as usize
    }
}

#[test]
fn import_survives_300_kills_at_random_moments() {
    let seed = 0x00C0_FFEE;
    let tmp = scratch();
    let card = tmp.path().join("card");
    let mut rng = Rng::new(seed);
    let distinct = common::write_card(&card, 200, &mut rng, card_sizes);
    assert!(
        distinct.len() < 200,
        "the card holds some duplicate content"
    );
    let result = campaign(
        seed,
        300,
        "after",
        &card,
        &tmp.path().join("work"),
        &Backend::Local,
    );
    println!(
        "seed {seed:#x}: {} kills over {} rounds, {} in a copy window, {} mid-copy",
        result.kills, result.rounds, result.in_copy_window, result.mid_copy
    );
    assert!(result.violations.is_empty(), "{:#?}", result.violations);
    assert!(result.kills >= 300);
    assert!(
        result.mid_copy * 100 >= result.kills * 15,
        "only {} of {} kills landed mid-copy",
        result.mid_copy,
        result.kills
    );
}

#[test]
fn negative_control_committing_before_the_copy_is_caught() {
    let seed = 0xBAD_C0DE;
    let tmp = scratch();
    let card = tmp.path().join("card");
    let mut rng = Rng::new(seed);
    common::write_card(&card, 200, &mut rng, card_sizes);
    // As many kills as the real campaign: on a loaded machine many kills land before the
    // first copy starts, and the control must not depend on luck.
    let result = campaign(
        seed,
        300,
        "before",
        &card,
        &tmp.path().join("work"),
        &Backend::Local,
    );
    assert!(
        !result.violations.is_empty(),
        "{} kills did not expose a row committed before its file was durable",
        result.kills
    );
}

#[test]
fn import_into_object_storage_survives_50_kills_at_random_moments() {
    let seed = 0x0053_C0DE;
    let tmp = scratch();
    let card = tmp.path().join("card");
    let mut rng = Rng::new(seed);
    // Each file is a request to the storage: a smaller card keeps the rounds short.
    common::write_card(&card, 60, &mut rng, card_sizes);
    let server = S3Server::start(&tmp.path().join("s3"), S3_BUCKET);
    let backend = Backend::S3(server);
    let result = campaign(
        seed,
        100,
        "after",
        &card,
        &tmp.path().join("work"),
        &backend,
    );
    println!(
        "seed {seed:#x}: {} kills over {} rounds, {} in a copy or upload",
        result.kills, result.rounds, result.in_copy_window
    );
    assert!(result.violations.is_empty(), "{:#?}", result.violations);
    assert!(result.kills >= 50);
    assert!(
        result.in_copy_window * 100 >= result.kills * 15,
        "only {} of {} kills landed while a file was on its way",
        result.in_copy_window,
        result.kills
    );
}

#[test]
fn negative_control_in_object_storage_committing_before_the_upload_is_caught() {
    let seed = 0x0BAD_0053;
    let tmp = scratch();
    let card = tmp.path().join("card");
    let mut rng = Rng::new(seed);
    common::write_card(&card, 200, &mut rng, card_sizes);
    let backend = Backend::S3(S3Server::start(&tmp.path().join("s3"), S3_BUCKET));
    let result = campaign(
        seed,
        100,
        "before",
        &card,
        &tmp.path().join("work"),
        &backend,
    );
    assert!(
        !result.violations.is_empty(),
        "{} kills did not expose a row committed before its upload",
        result.kills
    );
}
