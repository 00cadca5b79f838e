//! HEIF photos and video frames are decoded in sandboxed workers (real `consentcam
//! decode-worker` processes started by the real import): a file on which the worker makes
//! a forbidden call, crashes, overruns its time or its memory ends as that file's problem,
//! while the server keeps answering and the card's other files are analysed as usual.
//! The misbehaving files ask the worker to misbehave (the demo build's test worker); the
//! memory and time cases are real pictures too large for the limits set.

use std::path::Path;

use consentcam::demo::pictures::{self, CameraTags};
use consentcam::domain::AccountRole;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, expect, spawn_with_config_file};
use crate::real_photos::cli;

const CAMERA: CameraTags<'static> = CameraTags {
    make: "Apple",
    model: "iPad (10th generation)",
    serial: "IPAD-0001",
    taken: jiff::civil::datetime(2026, 11, 25, 8, 30, 0, 0),
};

/// Every photo's page, by its name on the card (found by its content's hash).
async fn pages(app: &TestApp, card: &Path) -> Vec<(String, Value)> {
    let names: Vec<(String, String)> = std::fs::read_dir(card)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let hash = consentcam_media::ContentHash::of_bytes(&std::fs::read(&path).unwrap());
            (
                hash.to_hex(),
                path.file_name().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let mut out = Vec::new();
    for photo in list.as_array().unwrap() {
        let id = photo["id"].as_i64().unwrap();
        let page = expect(
            staff.get(&format!("/api/v1/photos/{id}")).await,
            StatusCode::OK,
        )
        .await;
        let hash = page["photo"]["content_hash"].as_str().unwrap();
        let name = names
            .iter()
            .find(|(h, _)| hash.ends_with(h.as_str()))
            .map_or_else(|| hash.to_owned(), |(_, n)| n.clone());
        out.push((name, page));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn page<'a>(pages: &'a [(String, Value)], name: &str) -> &'a Value {
    &pages
        .iter()
        .find(|(n, _)| n.ends_with(name))
        .unwrap_or_else(|| {
            panic!(
                "no photo {name} in {:?}",
                pages.iter().map(|p| &p.0).collect::<Vec<_>>()
            )
        })
        .1
}

fn damage(page: &Value) -> String {
    page["photo"]["damage"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A HEIC of the group photo that asks the test worker to do `act`.
fn hostile_heic(act: &str) -> Vec<u8> {
    let mut file = pictures::group_photo_heic(Some(SMALL), 1, &CAMERA);
    file.extend_from_slice(format!("CONSENTCAM-HOSTILE-{act}").as_bytes());
    file
}

/// A corner of the group photo, for the files that never get decoded.
const SMALL: pictures::Crop = (0, 0, 320, 240);

fn card() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("DCIM").join("100APPLE");
    std::fs::create_dir_all(&folder).unwrap();
    (dir, folder)
}

/// An MP4 of `frames` frames showing `picture`, cut to even sides and to the 4K the
/// encoder takes at most.
fn video_of(picture: &image::RgbImage, frames: u32) -> Vec<u8> {
    let (w, h) = (
        picture.width().min(3840) & !1,
        picture.height().min(2160) & !1,
    );
    let even = image::imageops::crop_imm(picture, 0, 0, w, h).to_image();
    consentcam_media::sample::mp4_of(even.as_raw(), w, h, frames).unwrap()
}

fn put(folder: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(folder.join(name), bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_breaks_its_sandbox_crashes_or_hangs_costs_only_its_file() {
    let app = spawn_with_config_file("[sandbox]\ndecode_seconds = 3\n").await;
    let (dir, folder) = card();
    put(
        &folder,
        "IMG_0001.JPG",
        &pictures::group_photo(None, 1, 1, &CAMERA),
    );
    put(
        &folder,
        "IMG_0002.HEIC",
        &pictures::group_photo_heic(None, 1, &CAMERA),
    );
    put(&folder, "IMG_0003.HEIC", &hostile_heic("OPEN"));
    put(&folder, "IMG_0004.HEIC", &hostile_heic("SOCKET"));
    put(&folder, "IMG_0005.HEIC", &hostile_heic("SEGV"));
    put(&folder, "IMG_0006.HEIC", &hostile_heic("SPIN"));
    let upright = pictures::group_photo_upright(Some(SMALL), 1);
    put(&folder, "IMG_0007.MP4", &video_of(&upright, 3));
    // The server answers while the card's files are being decoded.
    let health = {
        let url = app.url("/health");
        tokio::spawn(async move {
            let mut answered = 0;
            for _ in 0..20 {
                if reqwest::get(&url)
                    .await
                    .is_ok_and(|r| r.status().is_success() || r.status() == 503)
                {
                    answered += 1;
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            answered
        })
    };
    let card_path = dir.path().to_str().unwrap();
    let imported =
        tokio::task::block_in_place(|| cli(&app, &["import-card", "--mount", card_path]));
    assert!(
        imported.contains(r#""event":"finished","stored":7,"duplicates":0"#),
        "{imported}"
    );
    assert_eq!(health.await.unwrap(), 20, "the server stopped answering");

    let pages = pages(&app, &folder).await;
    assert_eq!(pages.len(), 7);
    // The ordinary files: decoded, faces found, renditions made.
    for name in ["IMG_0001.JPG", "IMG_0002.HEIC"] {
        let p = page(&pages, name);
        assert_eq!(damage(p), "", "{name}: {p}");
        assert_eq!(p["photo"]["face_search"], "done", "{name}");
        assert!(p["faces"].as_array().unwrap().len() >= 20, "{name}: {p}");
    }
    let video = page(&pages, "IMG_0007.MP4");
    assert_eq!(damage(video), "", "{video}");
    assert!(video["photo"]["width"].as_u64().is_some(), "{video}");
    // The hostile ones: each its own problem, never publishable.
    for (name, says) in [
        ("IMG_0003.HEIC", "try something it may never do"),
        ("IMG_0004.HEIC", "try something it may never do"),
        ("IMG_0005.HEIC", "crashed on this file (killed by SIGSEGV)"),
        ("IMG_0006.HEIC", "took more than 3 s"),
    ] {
        let p = page(&pages, name);
        assert!(damage(p).contains(says), "{name}: {}", damage(p));
    }
    // Recorded once: the same card again is all duplicates, nothing analysed again.
    let again = tokio::task::block_in_place(|| cli(&app, &["import-card", "--mount", card_path]));
    assert!(
        again.contains(r#""event":"finished","stored":0,"duplicates":7"#),
        "{again}"
    );
}

/// Real pictures larger than the worker's memory allows (its address space set low): a
/// 17 MP HEIC and a 7 MP video frame each end as their file's problem, and the small
/// HEIC on the same card is decoded as usual by the next worker.
#[tokio::test(flavor = "multi_thread")]
async fn pictures_too_large_for_the_workers_memory_cost_only_their_files() {
    // The debug binary alone takes ~150 MB of address space.
    let app = spawn_with_config_file("[sandbox]\nmemory_mib = 172\n").await;
    let (dir, folder) = card();
    put(
        &folder,
        "IMG_0001.HEIC",
        &pictures::group_photo_heic(None, 3, &CAMERA),
    );
    put(
        &folder,
        "IMG_0002.HEIC",
        &pictures::group_photo_heic(None, 1, &CAMERA),
    );
    let big = pictures::group_photo_upright(None, 2);
    put(&folder, "IMG_0003.MP4", &video_of(&big, 1));
    let card_path = dir.path().to_str().unwrap();
    tokio::task::block_in_place(|| cli(&app, &["import-card", "--mount", card_path]));
    let pages = pages(&app, &folder).await;
    for name in ["IMG_0001.HEIC", "IMG_0003.MP4"] {
        let damage = damage(page(&pages, name));
        // The allocation fails in the decoder (it gives up: the picture does not decode)
        // or in the worker (it dies): either way the file's own problem.
        assert!(
            damage.contains("crashed on this file")
                || damage.contains("does not decode")
                || damage.contains("damaged"),
            "{name}: {damage}"
        );
    }
    let small = page(&pages, "IMG_0002.HEIC");
    assert_eq!(damage(small), "", "{small}");
    assert!(small["faces"].as_array().unwrap().len() >= 20, "{small}");
}
