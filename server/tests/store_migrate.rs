//! The archive in object storage (a real S3 server on loopback). `consentcam
//! store-migrate` moves it there and back, never losing a file: not when the storage is
//! away, not when the move is killed part way, and every file read back and compared
//! before it leaves. A published copy is seen there whole or not at all.

#[path = "../media/tests/common/s3.rs"]
#[allow(dead_code)]
mod s3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use consentcam::infra::clock::Clock;
use s3::S3Server;

const BUCKET: &str = "trust-photos";

fn consentcam(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn photo(path: &Path, shade: u8) {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, shade])
    });
    img.save(path).unwrap();
}

/// Every file under the folders the archive moves, relative to `root`, with its bytes.
fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for area in ["store/objects", "renditions", "outbox"] {
        let mut folders = vec![root.join(area)];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let key = path
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    // s3s-fs keeps its own bookkeeping beside the objects, in files
                    // whose names start with a dot.
                    if !entry.file_name().to_string_lossy().starts_with('.') {
                        out.insert(key, std::fs::read(&path).unwrap());
                    }
                }
            }
        }
    }
    out
}

struct Setup {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    server: S3Server,
}

/// A data directory with a card of 12 photos imported the ordinary way (local store), and
/// a config naming the bucket.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let clock = Clock::System;
    {
        let mut conn = consentcam::store::open(&data.join("records.db")).unwrap();
        let zone = consentcam::infra::clock::time_zone("Europe/London");
        consentcam::demo::seed(&mut conn, clock.now(), clock.today(&zone)).unwrap();
    }
    let card = dir.path().join("card");
    let folder = card.join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..12u8 {
        photo(&folder.join(format!("IMG_{i:04}.JPG")), i * 20);
    }
    let server = S3Server::start(&dir.path().join("s3"), BUCKET);
    let credentials = dir.path().join("s3-credentials");
    let config = dir.path().join("consentcam.toml");
    let write_config = |kind: &str| {
        std::fs::write(
            &config,
            format!(
                "data_dir = {data:?}\n{}retry_seconds = 1\n",
                server.store_section(BUCKET, &credentials, kind)
            ),
        )
        .unwrap();
    };
    write_config("local");
    let out = consentcam(
        &config,
        &[
            "import-card",
            "--device",
            "1",
            "--no-faces",
            "--mount",
            card.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A copy published before the move waits in the website's outbox folder, recorded in
    // the register.
    {
        let conn = consentcam::store::open(&data.join("records.db")).unwrap();
        let photo: i64 = conn
            .query_row("SELECT min(id) FROM photos", [], |r| r.get(0))
            .unwrap();
        let decision = consentcam::rules::consent::Decision {
            channel: consentcam::domain::Channel::Website,
            on: clock.today(&consentcam::infra::clock::time_zone("Europe/London")),
            verdict: consentcam::rules::consent::Verdict::Allowed,
            reasons: vec![],
        };
        consentcam::store::publications::insert_publication(
            &conn,
            consentcam::domain::PhotoId(photo),
            consentcam::domain::Channel::Website,
            "3f9c.jpg",
            None,
            &decision,
            clock.now(),
        )
        .unwrap();
    }
    let website = data.join("outbox").join("website");
    std::fs::create_dir_all(&website).unwrap();
    std::fs::copy(folder.join("IMG_0001.JPG"), website.join("3f9c.jpg")).unwrap();
    std::fs::write(website.join("3f9c.jpg.json"), br#"{"file":"3f9c.jpg"}"#).unwrap();
    // From now on the server would read the bucket first, as the guide says to set it.
    write_config("s3");
    Setup {
        _dir: dir,
        data,
        config,
        server,
    }
}

#[test]
fn an_archive_moves_into_object_storage_and_back_without_losing_a_file() {
    let mut s = setup();
    let before = files_under(&s.data);
    // 12 originals and their thumbnail and preview, and a published copy and its manifest.
    assert_eq!(before.len(), 38, "{:?}", before.keys());

    // The storage is away: nothing moves, nothing is lost, the command says so.
    s.server.stop();
    let out = consentcam(&s.config, &["store-migrate", "--to", "s3"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("KEPT: store/objects/"), "{stderr}");
    assert!(
        stderr.contains("stopped after 3 failures in a row: 35 more files not tried"),
        "{stderr}"
    );
    assert_eq!(files_under(&s.data), before);
    s.server.resume();

    // Killed part way, several times: each file is in one place or both, never neither.
    let bucket = s.server.folder(BUCKET);
    let mut delay = Duration::from_millis(150);
    for _ in 0..4 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_consentcam"))
            .arg("--config")
            .arg(&s.config)
            .args(["store-migrate", "--to", "s3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        delay += Duration::from_millis(100);
        let here = files_under(&s.data);
        let there = files_under(&bucket);
        for (key, bytes) in &before {
            let kept = here.get(key) == Some(bytes) || there.get(key) == Some(bytes);
            assert!(kept, "{key} is whole in neither place after a kill");
        }
    }

    let out = consentcam(&s.config, &["store-migrate", "--to", "s3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 kept where they were"), "{stdout}");
    assert!(
        files_under(&s.data).is_empty(),
        "the data directory still holds originals"
    );
    assert_eq!(
        files_under(&bucket),
        before,
        "the bucket holds the same bytes"
    );

    // A backup takes the records and leaves the photos to the bucket's own backup.
    let backup = s.data.parent().unwrap().join("backup");
    let out = consentcam(&s.config, &["backup", backup.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr
            .contains("38 originals, renditions, scans and published copies are in object storage"),
        "{stderr}"
    );

    // A file lost from the bucket meanwhile is reported, the rest comes back.
    let gone = before.keys().find(|k| k.ends_with("-320.jpg")).unwrap();
    std::fs::remove_file(bucket.join(gone)).unwrap();

    // And back: every file where it was, the bucket's copies gone.
    let out = consentcam(&s.config, &["store-migrate", "--to", "local"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = files_under(&s.data);
    for (key, bytes) in &before {
        if key != gone {
            assert_eq!(back.get(key), Some(bytes), "{key}");
        }
    }
    assert!(files_under(&bucket).is_empty());
}

#[test]
fn a_damaged_original_is_never_moved() {
    let s = setup();
    let before = files_under(&s.data);
    let damaged = before
        .keys()
        .find(|k| k.starts_with("store/objects/"))
        .unwrap();
    std::fs::write(s.data.join(damaged), b"not what its name says").unwrap();
    let out = consentcam(&s.config, &["store-migrate", "--to", "s3"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("KEPT: {damaged}")), "{stderr}");
    assert!(stderr.contains("do not match its name"), "{stderr}");
    assert_eq!(
        std::fs::read(s.data.join(damaged)).unwrap(),
        b"not what its name says"
    );
    assert!(!files_under(&s.server.folder(BUCKET)).contains_key(damaged.as_str()));
    assert_eq!(files_under(&s.data).len(), 1, "everything else moved");
}

#[test]
fn a_copy_published_to_object_storage_is_seen_whole_once_placed_and_never_before() {
    use consentcam::domain::Channel;
    use consentcam::ops::publish::Outbox;
    let dir = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(&dir.path().join("s3"), BUCKET);
    let bucket =
        consentcam_media::S3Bucket::connect(&server.settings(BUCKET, Duration::from_secs(1)), "")
            .unwrap();
    let outbox = Outbox::new(dir.path().join("outbox")).in_bucket(bucket);
    let consumer = server.folder(BUCKET).join("outbox").join("website");
    let root = server.folder(BUCKET);
    let seen = || files_under(&root);

    let staged = outbox
        .stage(Channel::Website, "a.jpg", b"jpeg", b"{}")
        .unwrap();
    assert!(seen().is_empty(), "nothing a consumer of outbox/ lists yet");
    let delivery = staged.place().unwrap();
    assert_eq!(
        seen().into_keys().collect::<Vec<_>>(),
        ["outbox/website/a.jpg", "outbox/website/a.jpg.json"]
    );
    assert_eq!(std::fs::read(consumer.join("a.jpg")).unwrap(), b"jpeg");
    assert!(delivery.location().starts_with("s3://"));
    assert_eq!(
        outbox
            .read(Channel::Website, "a.jpg.json")
            .unwrap()
            .unwrap(),
        b"{}"
    );

    // Dropped before it is placed, a copy leaves nothing, in staging or anywhere.
    drop(
        outbox
            .stage(Channel::Website, "b.jpg", b"jpeg", b"{}")
            .unwrap(),
    );
    assert_eq!(seen().len(), 2);
    let staging = root.join("store").join("staging");
    assert_eq!(
        std::fs::read_dir(&staging).into_iter().flatten().count(),
        0,
        "staging is empty"
    );

    // Withdrawn (its publication could not be recorded) or taken down, it is gone.
    delivery.withdraw();
    assert!(seen().is_empty());
    outbox
        .deliver(Channel::Website, "c.jpg", b"jpeg", b"{}")
        .unwrap();
    assert!(outbox.remove(Channel::Website, "c.jpg").unwrap());
    assert!(!outbox.remove(Channel::Website, "c.jpg").unwrap());
    assert!(seen().is_empty());

    // The storage away, publishing fails and leaves nothing behind.
    server.stop();
    assert!(
        outbox
            .deliver(Channel::Website, "d.jpg", b"jpeg", b"{}")
            .is_err()
    );
    server.resume();
    assert!(seen().is_empty());
}
