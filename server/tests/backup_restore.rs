//! The restore drill on a real data directory, as an operator runs it: photos imported from
//! a camera card with `consentcam import-card`, a scanned consent form uploaded through the
//! web UI, a publication made; then the nightly script as installed, `verify-backup`, and
//! `restore` into a fresh data directory with the server started on it. Every photo, scan
//! and publication comes back byte for byte; a missing or damaged object in the backup is
//! caught; an encrypted backup needs its key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use consentcam::demo::pictures::{self, CameraTags};
use consentcam::infra::clock::Clock;
use consentcam::infra::config::Config;
use consentcam::store;
use consentcam::web::{self, AppState};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn consentcam(config: &Path, args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_consentcam")), config, args)
}

/// `consentcam` with its address space limited to `bytes` (`prlimit --as`).
fn consentcam_limited(bytes: u64, config: &Path, args: &[&str]) -> Output {
    let mut prlimit = Command::new("prlimit");
    prlimit
        .arg(format!("--as={bytes}"))
        .arg(env!("CARGO_BIN_EXE_consentcam"));
    run(prlimit, config, args)
}

fn run(mut command: Command, config: &Path, args: &[&str]) -> Output {
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// The demo's records, seeded into a new `records.db` in `data`.
fn seed_demo_records(data: &Path) {
    let clock = Clock::System;
    let mut conn = store::open(&data.join("records.db")).unwrap();
    consentcam::demo::seed(
        &mut conn,
        clock.now(),
        clock.today(&consentcam::infra::clock::time_zone("Europe/London")),
    )
    .unwrap();
}

/// `consentcam import-card` of the card folder `card`, attributed to the demo's Camera 1.
fn import_card(config: &Path, card: &Path) {
    let out = consentcam(
        config,
        &["import-card", "--device", "1", "--mount", path(card)],
    );
    assert!(out.status.success(), "{}", text(&out));
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

/// Every regular file under `dir`, by its path relative to `dir`, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A server on loopback over a data directory, and its base URL.
async fn serve(data: &Path) -> String {
    let config = Config {
        data_dir: data.to_path_buf(),
        ..Config::default()
    };
    let conn = store::open(&config.db_path()).unwrap();
    let mut config = config;
    config.sandbox.worker_program = Some(env!("CARGO_BIN_EXE_consentcam").into());
    let state = AppState::new(conn, config, Clock::System);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    format!("http://{addr}")
}

/// A logged-in client and its CSRF token.
async fn login(base: &str, role: &str) -> (reqwest::Client, String) {
    let (user, pass, _) = consentcam::demo::DEMO_LOGINS
        .iter()
        .find(|(u, _, _)| *u == role)
        .unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let body: Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "username": user, "password": pass }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (client, body["csrf_token"].as_str().unwrap().to_owned())
}

async fn call(
    (client, csrf): &(reqwest::Client, String),
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).header("x-csrf-token", csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

const SCAN: &[u8] = b"%PDF-1.4 consent form signed by Samira Hassan";

struct Live {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
    consent: i64,
}

fn write_config(path: &Path, data_dir: &Path, extra: &str) {
    std::fs::write(
        path,
        format!("data_dir = \"{}\"\n{extra}", data_dir.display()),
    )
    .unwrap();
}

/// A data directory used as users use it: the demo's records, a card of three real photos
/// imported with `import-card` (face detection on), a scanned form uploaded through the
/// web UI, one photo tagged over the API and published by the director.
async fn live_data_dir() -> Live {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = root.join("config.toml");
    write_config(&config, &data, "");
    let clock = Clock::System;
    let now = clock.now();
    let zone = consentcam::infra::clock::time_zone("Europe/London");
    seed_demo_records(&data);

    // The demo's Camera 1 was out from 30 to 24 hours ago.
    let taken = zone.to_datetime(
        now.checked_sub(jiff::SignedDuration::from_hours(27))
            .unwrap(),
    );
    let card = root.join("card").join("DCIM").join("100CANON");
    std::fs::create_dir_all(&card).unwrap();
    for (n, crop) in [
        (615, 240, 130, 170),
        (80, 180, 280, 160),
        (1000, 60, 100, 110),
    ]
    .into_iter()
    .enumerate()
    {
        let camera = CameraTags {
            make: "Canon",
            model: "Canon EOS 250D",
            serial: "012345678901",
            taken,
        };
        std::fs::write(
            card.join(format!("IMG_{n:04}.JPG")),
            pictures::group_photo(Some(crop), 3, 1, &camera),
        )
        .unwrap();
    }
    import_card(&config, &root.join("card"));

    let base = serve(&data).await;
    let admin = login(&base, "admin").await;
    let amira = {
        let conn = store::open(&data.join("records.db")).unwrap();
        store::people::person_by_ref(&conn, "L100")
            .unwrap()
            .unwrap()
            .id
            .0
    };
    let (status, body) = call(
        &admin,
        reqwest::Method::POST,
        format!("{base}/api/v1/people/{amira}/consents"),
        Some(json!({ "signer": "parent", "signer_name": "Samira Hassan",
                     "signed_on": clock.today(&zone).to_string(), "internal": true,
                     "partners": [], "website": true, "social": false })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let consent = body["id"].as_i64().unwrap();
    let boundary = "backup-test-boundary";
    let mut upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"form.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    upload.extend_from_slice(SCAN);
    upload.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = admin
        .0
        .post(format!(
            "{base}/consents/{consent}/evidence?_csrf={}",
            admin.1
        ))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(upload)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    let staff = login(&base, "staff").await;
    let (_, photo) = call(
        &staff,
        reqwest::Method::GET,
        format!("{base}/api/v1/photos/1"),
        None,
    )
    .await;
    let faces = photo["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1, "{photo}");
    let face = faces[0]["id"].as_i64().unwrap();
    let (status, _) = call(
        &staff,
        reqwest::Method::PUT,
        format!("{base}/api/v1/photos/1/faces/{face}"),
        Some(json!({ "state": "person", "person_id": amira })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &staff,
        reqwest::Method::PUT,
        format!("{base}/api/v1/photos/1/confirmation"),
        Some(json!({ "confirmed": true })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let director = login(&base, "director").await;
    let (status, body) = call(
        &director,
        reqwest::Method::POST,
        format!("{base}/api/v1/photos/1/publish"),
        Some(json!({ "channel": { "kind": "internal" } })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Live {
        _dir: dir,
        root,
        data,
        config,
        consent,
    }
}

/// The files a restore must bring back: everything under these folders of a data
/// directory.
fn user_files(data: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    tree(data)
        .into_iter()
        .filter(|(p, _)| {
            ["store/objects", "evidence", "outbox", "renditions"]
                .iter()
                .any(|top| p.starts_with(top))
        })
        .filter(|(p, _)| !p.to_string_lossy().contains("/."))
        .collect()
}

/// The nightly script as installed, pointed at `dest`.
fn nightly(live: &Live, dest: &Path, offsite: Option<&Path>) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_consentcam"))
        .parent()
        .unwrap();
    let mut command = Command::new("bash");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/backup.sh"))
        .env("CONSENTCAM_BACKUP_DIR", dest)
        .env("CONSENTCAM_CONFIG", &live.config)
        .env("CONSENTCAM_BACKUP_ANY_DIR", "1")
        .env("RUST_LOG", "warn")
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    if let Some(offsite) = offsite {
        command.env("CONSENTCAM_OFFSITE_DIR", offsite);
    }
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nightly_backup_brings_back_every_photo_scan_and_publication_byte_for_byte() {
    let live = live_data_dir().await;
    let before = user_files(&live.data);
    let kinds = |top: &str| before.keys().filter(|p| p.starts_with(top)).count();
    assert_eq!(kinds("store/objects"), 3, "{:?}", before.keys());
    assert_eq!(kinds("evidence"), 1);
    assert_eq!(kinds("outbox"), 2, "the photo and its manifest");
    assert_eq!(kinds("renditions"), 6);

    let dest = live.root.join("usb");
    std::fs::create_dir_all(&dest).unwrap();
    let out = nightly(&live, &dest, None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("written and verified"),
        "{}",
        text(&out)
    );
    // A second night with nothing else changed copies only the records (which now note
    // the night's verified backup): every photo, scan and published copy is there already.
    let out = consentcam(&live.config, &["backup", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("12 files"), "{}", text(&out));
    assert!(text(&out).contains("(1 new, "), "{}", text(&out));

    // Restore into a fresh data directory, as on a replacement Pi.
    let restored = live.root.join("restored");
    let config = live.root.join("restored.toml");
    write_config(&config, &restored, "");
    let out = consentcam(&config, &["restore", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("hash chain verified"), "{}", text(&out));
    assert_eq!(
        user_files(&restored),
        before,
        "every file back, byte for byte"
    );
    let out = consentcam(&config, &["check-audit"]);
    assert!(out.status.success(), "{}", text(&out));

    // The server on the restored directory shows every photo and the scan.
    let base = serve(&restored).await;
    let staff = login(&base, "staff").await;
    for id in 1..=3 {
        let response = staff
            .0
            .get(format!("{base}/photos/{id}/preview"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.bytes().await.unwrap();
        assert!(bytes.starts_with(&[0xFF, 0xD8]), "photo {id} has a picture");
    }
    let admin = login(&base, "admin").await;
    let scan = admin
        .0
        .get(format!("{base}/consents/{}/evidence", live.consent))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(scan.as_ref(), SCAN);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_backup_catches_a_missing_and_a_damaged_object_and_backup_a_missing_file() {
    let live = live_data_dir().await;
    let dest = live.root.join("usb");
    let out = consentcam(&live.config, &["backup", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    let out = consentcam(&live.config, &["verify-backup", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));

    let objects: Vec<PathBuf> = tree(&dest.join("objects"))
        .into_keys()
        .map(|p| dest.join("objects").join(p))
        .collect();
    let deleted = &objects[0];
    let kept = std::fs::read(deleted).unwrap();
    std::fs::remove_file(deleted).unwrap();
    let out = consentcam(&live.config, &["verify-backup", path(&dest)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("missing"), "{}", text(&out));
    std::fs::write(deleted, kept).unwrap();

    let flipped = &objects[1];
    let mut bytes = std::fs::read(flipped).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(flipped, bytes).unwrap();
    let out = consentcam(&live.config, &["verify-backup", path(&dest)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("damaged"), "{}", text(&out));

    // An original gone from the data directory: the backup says so and fails.
    let original = tree(&live.data.join("store/objects"))
        .into_keys()
        .next()
        .unwrap();
    std::fs::remove_file(live.data.join("store/objects").join(&original)).unwrap();
    let out = consentcam(&live.config, &["backup", path(&live.root.join("usb2"))]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("MISSING: store/objects/"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encrypted_copy_reveals_nothing_without_the_key_and_restores_with_it() {
    let live = live_data_dir().await;
    let key = age::x25519::Identity::generate();
    let key_file = live.root.join("offsite-key.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&key_file, key.to_string().expose_secret()).unwrap();
    }
    write_config(
        &live.config,
        &live.data,
        &format!("[backup]\nage_recipient = \"{}\"\n", key.to_public()),
    );
    let dest = live.root.join("usb");
    let offsite = live.root.join("offsite");
    let out = nightly(&live, &dest, Some(&offsite));
    assert!(out.status.success(), "{}", text(&out));
    // Nothing of the scan, the photos or the records is readable there.
    let plain = user_files(&live.data);
    let scan_needle = &SCAN[..20];
    for (name, bytes) in tree(&offsite.join("objects")) {
        assert!(
            !bytes.windows(scan_needle.len()).any(|w| w == scan_needle),
            "{name:?} holds the scan in clear"
        );
        assert!(!bytes.windows(12).any(|w| w == b"SQLite forma"), "{name:?}");
        assert!(
            !plain.values().any(|p| p == &bytes),
            "{name:?} is a plain copy"
        );
    }
    let out = consentcam(&live.config, &["verify-backup", path(&offsite)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("encrypted"), "{}", text(&out));

    let restored = live.root.join("restored");
    let config = live.root.join("restored.toml");
    write_config(&config, &restored, "");
    let out = consentcam(&config, &["restore", path(&offsite)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--identity"), "{}", text(&out));
    assert!(!restored.join("records.db").exists());
    let out = consentcam(
        &config,
        &["restore", path(&offsite), "--identity", path(&key_file)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(user_files(&restored), plain);
}

#[test]
fn restore_never_overwrites_records_and_refuses_a_tampered_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("config.toml");
    write_config(&config, &data, "");
    seed_demo_records(&data);
    let dest = dir.path().join("usb");
    assert!(
        consentcam(&config, &["backup", path(&dest)])
            .status
            .success()
    );

    // Onto existing records: refused, the records untouched.
    let before = std::fs::read(data.join("records.db")).unwrap();
    let out = consentcam(&config, &["restore", path(&dest)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(std::fs::read(data.join("records.db")).unwrap(), before);

    // A manifest that names a path outside the data directory: refused, nothing written.
    let latest = std::fs::read_to_string(dest.join("LATEST")).unwrap();
    let manifest_path = dest.join("manifests").join(latest.trim());
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let records = manifest["records"].clone();
    let mut evil = records.clone();
    evil["path"] = json!("../../etc/cron.d/evil");
    evil["kind"] = json!("evidence");
    manifest["files"].as_array_mut().unwrap().push(evil);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let fresh = dir.path().join("fresh");
    let fresh_config = dir.path().join("fresh.toml");
    write_config(&fresh_config, &fresh, "");
    let out = consentcam(&fresh_config, &["restore", path(&dest)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not a path inside"), "{}", text(&out));
    assert!(!fresh.join("records.db").exists());

    // An older version's single records file still restores (records only).
    let old = dir.path().join("records-old.db");
    {
        let src = rusqlite::Connection::open(data.join("records.db")).unwrap();
        let mut out = rusqlite::Connection::open(&old).unwrap();
        rusqlite::backup::Backup::new(&src, &mut out)
            .unwrap()
            .run_to_completion(256, std::time::Duration::from_millis(1), None)
            .unwrap();
    }
    let out = consentcam(&fresh_config, &["restore", path(&old)]);
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn renditions_missing_from_a_backup_are_rebuilt_on_restore() {
    let live = live_data_dir().await;
    std::fs::remove_dir_all(live.data.join("renditions")).unwrap();
    let dest = live.root.join("usb");
    let out = consentcam(&live.config, &["backup", path(&dest)]);
    assert!(
        out.status.success(),
        "renditions are not required: {}",
        text(&out)
    );
    let restored = live.root.join("restored");
    let config = live.root.join("restored.toml");
    write_config(&config, &restored, "");
    let out = consentcam(&config, &["restore", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("3 photos' renditions rebuilt"),
        "{}",
        text(&out)
    );
    let renditions = tree(&restored.join("renditions"));
    assert_eq!(renditions.len(), 6);
    assert!(renditions.values().all(|b| b.starts_with(&[0xFF, 0xD8])));
}

#[test]
fn a_backup_folder_keeps_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("config.toml");
    let key = |config: &Path| {
        let recipient = age::x25519::Identity::generate().to_public();
        write_config(
            config,
            &data,
            &format!("[backup]\nage_recipient = \"{recipient}\"\n"),
        );
    };
    key(&config);
    let dest = dir.path().join("offsite");
    let out = consentcam(&config, &["backup", "--encrypt", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    // Unencrypted into the encrypted folder, or to another key: refused.
    let out = consentcam(&config, &["backup", path(&dest)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("use another folder"), "{}", text(&out));
    key(&config);
    let out = consentcam(&config, &["backup", "--encrypt", path(&dest)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("use another folder"), "{}", text(&out));
    // Without a recipient in the config, --encrypt says what is missing.
    write_config(&config, &data, "");
    let out = consentcam(
        &config,
        &["backup", "--encrypt", path(&dir.path().join("x"))],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("age_recipient"), "{}", text(&out));
}

#[test]
fn pruning_drops_old_runs_so_an_erased_person_leaves_the_backups_too() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let dest = dir.path().join("backup");
    std::fs::create_dir_all(data.join("evidence")).unwrap();
    let mut conn = store::open(&data.join("records.db")).unwrap();
    let day = |n: i64| -> jiff::Timestamp {
        "2026-01-01T02:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .checked_add(jiff::SignedDuration::from_hours(24 * n))
            .unwrap()
    };
    let person = consentcam::ops::people::add_person(
        &mut conn,
        &store::people::NewPerson {
            ext_ref: consentcam::domain::ExternalRef::parse("L1").unwrap(),
            given_name: consentcam::domain::Name::parse("Robin").unwrap(),
            family_name: consentcam::domain::Name::parse("Okafor").unwrap(),
            date_of_birth: "2010-01-01".parse().unwrap(),
            role: consentcam::domain::Role::Learner,
            vulnerable: false,
            may_sign_out: false,
        },
        "cli",
        None,
        day(0),
    )
    .unwrap();
    std::fs::write(data.join("evidence/form.pdf"), b"%PDF-1.4 Robin Okafor").unwrap();
    let policy = consentcam::rules::consent::ConsentPolicy::default();
    let as_of = consentcam::ops::people::AsOf {
        today: "2026-01-01".parse().unwrap(),
        policy: &policy,
    };
    consentcam::ops::people::add_consent(
        &mut conn,
        &store::consents::NewConsent {
            person_id: person,
            signer: consentcam::domain::SignerKind::Myself,
            signer_name: String::new(),
            signed_on: "2025-12-01".parse().unwrap(),
            expires_on: None,
            withdrawn_on: None,
            scopes: consentcam::domain::Scopes {
                internal: true,
                partners: vec![],
                website: false,
                social: false,
            },
            evidence_path: Some("evidence/form.pdf".into()),
            source: "test".into(),
        },
        "cli",
        day(0),
        &as_of,
    )
    .unwrap();
    let holds = |root: &Path, name: &str| {
        tree(root)
            .into_iter()
            .filter(|(_, bytes)| bytes.windows(name.len()).any(|w| w == name.as_bytes()))
            .map(|(p, _)| p)
            .collect::<Vec<_>>()
    };
    consentcam::ops::backup::backup(
        &conn,
        &consentcam::infra::archive::Archive::local(&data),
        &dest,
        None,
        day(0),
    )
    .unwrap();
    assert!(
        !holds(&dest, "Okafor").is_empty(),
        "the first run holds them"
    );

    consentcam::ops::erasure::erase_person(
        &mut conn,
        &consentcam::infra::archive::Archive::local(&data),
        person,
        "cli",
        day(1),
    )
    .unwrap();
    consentcam::ops::backup::backup(
        &conn,
        &consentcam::infra::archive::Archive::local(&data),
        &dest,
        None,
        day(2),
    )
    .unwrap();
    // Within keep_days the run from before the erasure stays (a restore may need it).
    let kept = consentcam::ops::backup::prune(&dest, 35, day(30)).unwrap();
    assert_eq!((kept.manifests_kept, kept.manifests_removed), (2, 0));
    assert!(!holds(&dest, "Okafor").is_empty());

    consentcam::ops::backup::backup(
        &conn,
        &consentcam::infra::archive::Archive::local(&data),
        &dest,
        None,
        day(36),
    )
    .unwrap();
    let pruned = consentcam::ops::backup::prune(&dest, 35, day(36)).unwrap();
    assert_eq!((pruned.manifests_kept, pruned.manifests_removed), (2, 1));
    assert!(pruned.objects_removed >= 2, "{pruned:?}");
    assert!(
        holds(&dest, "Okafor").is_empty(),
        "{:?}",
        holds(&dest, "Okafor")
    );
    assert!(holds(&dest, "Robin").is_empty());
    // What is left still verifies and restores.
    let verified = consentcam::ops::backup::verify(&dest, None, &data).unwrap();
    assert!(verified.problems.is_empty(), "{verified:?}");

    let nothing = tempfile::tempdir().unwrap();
    assert!(consentcam::ops::backup::prune(nothing.path(), 35, day(36)).is_err());
}

/// A data directory with the demo's records and a card holding one video of `mib` MiB
/// (its bytes a pattern, not a real recording: it is stored and blocked like any file the
/// server cannot read), imported with `import-card`.
fn data_dir_with_a_video(root: &Path, mib: usize) -> (PathBuf, PathBuf) {
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = root.join("config.toml");
    let key = age::x25519::Identity::generate();
    write_config(
        &config,
        &data,
        &format!("[backup]\nage_recipient = \"{}\"\n", key.to_public()),
    );
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(root.join("key.txt"), key.to_string().expose_secret()).unwrap();
    }
    seed_demo_records(&data);
    let card = root.join("card").join("DCIM").join("100CANON");
    std::fs::create_dir_all(&card).unwrap();
    {
        use std::io::Write;
        let mut video =
            std::io::BufWriter::new(std::fs::File::create(card.join("MVI_0001.MP4")).unwrap());
        // One block of noise, each copy stamped with its number: no two blocks alike.
        let mut block: Vec<u8> = (0..1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in 0..mib {
            block[..8].copy_from_slice(&(n as u64).to_le_bytes());
            video.write_all(&block).unwrap();
        }
        video.flush().unwrap();
    }
    import_card(&config, &root.join("card"));
    std::fs::remove_dir_all(root.join("card")).unwrap();
    (data, config)
}

#[test]
fn a_two_gigabyte_video_is_backed_up_verified_and_restored_in_512_mib() {
    const LIMIT: u64 = 512 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (data, config) = data_dir_with_a_video(root, 2048);
    let dest = root.join("offsite");
    let out = consentcam_limited(LIMIT, &config, &["backup", "--encrypt", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    let key = root.join("key.txt");
    let out = consentcam_limited(
        LIMIT,
        &config,
        &["verify-backup", path(&dest), "--identity", path(&key)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("hash chain verified"), "{}", text(&out));
    let restored = root.join("restored");
    let restored_config = root.join("restored.toml");
    write_config(&restored_config, &restored, "");
    let out = consentcam_limited(
        LIMIT,
        &restored_config,
        &["restore", path(&dest), "--identity", path(&key)],
    );
    assert!(out.status.success(), "{}", text(&out));
    // The video came back whole: its name is the hash of its bytes.
    let originals: Vec<PathBuf> = walk_files(&restored.join("store/objects"));
    assert_eq!(originals.len(), 1, "{originals:?}");
    let original = &originals[0];
    assert_eq!(
        std::fs::metadata(original).unwrap().len(),
        2048 * 1024 * 1024
    );
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::fs::File::open(original).unwrap())
        .unwrap();
    assert_eq!(
        original.file_name().unwrap().to_str().unwrap(),
        hasher.finalize().to_hex().as_str()
    );
    assert!(
        data.join(original.strip_prefix(&restored).unwrap())
            .is_file()
    );
    // No plaintext working folder is left in either data directory.
    assert!(!data.join("backup-work").exists());
    assert!(!restored.join("backup-work").exists());
}

/// Every regular file under `dir`.
fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Whether any file under `dir` holds the records in clear (a SQLite database's header).
fn holds_records_in_clear(dir: &Path) -> Vec<PathBuf> {
    walk_files(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|bytes| bytes.windows(15).any(|w| w == b"SQLite format 3"))
        })
        .collect()
}

#[test]
fn an_encrypted_backup_folder_never_holds_the_records_in_clear_even_when_the_run_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (data, config) = data_dir_with_a_video(root, 256);
    let dest = root.join("offsite");
    let mut run = Command::new(env!("CARGO_BIN_EXE_consentcam"))
        .arg("--config")
        .arg(&config)
        .args(["backup", "--encrypt", path(&dest)])
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    // Watch the folder while the run works; kill it once its snapshot is made.
    let work = data.join("backup-work");
    let mut seen_snapshot = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        assert_eq!(holds_records_in_clear(&dest), Vec::<PathBuf>::new());
        if walk_files(&work).iter().any(|p| p.ends_with("records.db")) {
            seen_snapshot = true;
            break;
        }
        if run.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(
        seen_snapshot,
        "the snapshot is made in the data directory's private folder"
    );
    run.kill().unwrap();
    run.wait().unwrap();
    assert_eq!(holds_records_in_clear(&dest), Vec::<PathBuf>::new());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&work).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the working folder is private: {mode:o}");
    }
    // The next run clears what the killed one left and completes.
    let out = consentcam(&config, &["backup", "--encrypt", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!work.exists());
    assert_eq!(holds_records_in_clear(&dest), Vec::<PathBuf>::new());
    let out = consentcam(
        &config,
        &[
            "verify-backup",
            path(&dest),
            "--identity",
            path(&root.join("key.txt")),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!work.exists(), "verify removes its private folder");
}

/// The newest manifest of a backup folder, to tamper with, and where it is.
fn manifest_of(dest: &Path) -> (PathBuf, Value) {
    let latest = std::fs::read_to_string(dest.join("LATEST")).unwrap();
    let path = dest.join("manifests").join(latest.trim());
    let manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    (path, manifest)
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_puts_back_only_what_the_records_point_to_and_originals_under_their_own_hash() {
    let live = live_data_dir().await;
    let dest = live.root.join("usb");
    let out = consentcam(&live.config, &["backup", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    let (manifest_path, honest) = manifest_of(&dest);
    let records = honest["records"].clone();
    let an_original = honest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "original")
        .unwrap()
        .clone();
    let tampered: Vec<(&str, Value)> = vec![
        // A copy for the website's folder, which its consumer would publish at once.
        (
            "an outbox copy the register does not list",
            json!({ "path": "outbox/website/extra.jpg", "kind": "outbox" }),
        ),
        (
            "the database's journal",
            json!({ "path": "records.db-wal", "kind": "evidence" }),
        ),
        (
            "a file of no known kind",
            json!({ "path": "store/cache/x", "kind": "rendition" }),
        ),
    ];
    for (what, fields) in tampered {
        let mut manifest = honest.clone();
        let mut entry = records.clone();
        for (k, v) in fields.as_object().unwrap() {
            entry[k] = v.clone();
        }
        manifest["files"].as_array_mut().unwrap().push(entry);
        std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        let fresh = live.root.join("fresh");
        let config = live.root.join("fresh.toml");
        write_config(&config, &fresh, "");
        let out = consentcam(&config, &["restore", path(&dest)]);
        assert!(!out.status.success(), "{what}: {}", text(&out));
        assert!(
            text(&out).contains("do not point to"),
            "{what}: {}",
            text(&out)
        );
        assert!(
            user_files(&fresh).is_empty() && !fresh.join("records.db").exists(),
            "{what}: nothing restored"
        );
    }
    // An original whose content in the backup is another file's.
    let mut manifest = honest.clone();
    for file in manifest["files"].as_array_mut().unwrap() {
        if file["path"] == an_original["path"] {
            file["hash"] = records["hash"].clone();
            file["object_hash"] = records["object_hash"].clone();
        }
    }
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let fresh = live.root.join("fresh2");
    let config = live.root.join("fresh2.toml");
    write_config(&config, &fresh, "");
    let out = consentcam(&config, &["restore", path(&dest)]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("content of another name"),
        "{}",
        text(&out)
    );
    assert!(user_files(&fresh).is_empty());
    // The honest manifest still restores.
    std::fs::write(&manifest_path, serde_json::to_vec(&honest).unwrap()).unwrap();
    let out = consentcam(&config, &["restore", path(&dest)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(user_files(&fresh), user_files(&live.data));
}
