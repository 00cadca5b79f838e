//! The whole real path, no seeded rows: a real group photo (29 faces) on a camera card,
//! stored upright and stored turned (EXIF orientation 6) -> `consentcam import-card` with
//! face detection -> tagging, covering and a drawn face box over the API -> a director's
//! approval -> publication to the website. The published file is judged from outside:
//! exiftool for what it still carries, its pixels for what is covered and what is not.

use std::path::{Path, PathBuf};
use std::process::Command;

use consentcam::demo::pictures::{self, CameraTags};
use consentcam::domain::AccountRole;
use image::GenericImageView;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, User, expect, learner, parent_form, spawn_app, spawn_with_config_file,
};

/// The photo is enlarged twice, as a camera's resolution would have it.
const SCALE: u32 = 2;
const SERIAL: &str = "CAM-0001";

/// A staff member with a badge, a registered camera, and one sign-out of it (08:00 to
/// 09:30 on the test day) reported by the kiosk. Returns the device id.
async fn camera_signed_out_and_returned(app: &TestApp, admin: &User) -> i64 {
    let staff = expect(
        admin
            .post(
                "/api/v1/people",
                json!({ "ref": "S1", "given_name": "Isla", "family_name": "Morgan",
                        "date_of_birth": "1990-01-01", "role": "staff", "may_sign_out": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    expect(
        admin
            .post(
                "/api/v1/badges",
                json!({ "uid": "5AFF0001", "person_id": staff }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let device = expect(
        admin
            .post(
                "/api/v1/devices",
                json!({ "label": "Camera 1", "make": "Canon", "model": "Canon EOS 250D",
                        "serial": SERIAL, "tag_uid": "D0C0FFEE", "loan_minutes": 240 }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let events = json!({ "events": [
        { "event_id": "k-1", "seq": 1, "at": "2026-11-25T08:00:00Z", "reader": "office",
          "type": "signed_out", "device_id": device, "person_id": staff,
          "due_back": "2026-11-25T12:00:00Z" },
        { "event_id": "k-2", "seq": 2, "at": "2026-11-25T09:30:00Z", "reader": "office",
          "type": "returned", "device_id": device, "person_id": staff },
    ]});
    let receipt = expect(
        app.kiosk_post("/api/v1/kiosk/events", events).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(receipt["recorded"].as_array().unwrap().len(), 2);
    device
}

/// Writes the group photo to `folder` as the camera would (taken at 08:30 during the
/// sign-out), stored for EXIF `orientation`, then plants what must never leave: the
/// photographer's name, people's names in XMP and the description, GPS.
fn camera_file(folder: &Path, name: &str, orientation: u16) -> PathBuf {
    let camera = CameraTags {
        make: "Canon",
        model: "Canon EOS 250D",
        serial: SERIAL,
        taken: "2026-11-25T08:30:00".parse().unwrap(),
    };
    let path = folder.join(name);
    std::fs::write(
        &path,
        pictures::group_photo(None, SCALE, orientation, &camera),
    )
    .unwrap();
    let status = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Artist=Isla Morgan",
            "-ImageDescription=Amira Hassan and Ben Carter at the workshop",
            "-XMP-dc:Subject=Amira Hassan",
            "-XMP-iptcExt:PersonInImage=Ben Carter",
            "-GPSLatitude=51.5",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=0.12",
            "-GPSLongitudeRef=W",
        ])
        .arg(&path)
        .status()
        .expect("exiftool is installed");
    assert!(status.success());
    path
}

/// Runs `consentcam` on the app's data directory; it must succeed. Returns its output.
pub(crate) fn cli(app: &TestApp, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consentcam"));
    if let Some(file) = &app.config_file {
        command.arg("--config").arg(file);
    }
    let out = command
        .arg("--data-dir")
        .arg(app.db_path.parent().unwrap())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn import_card(app: &TestApp, card: &Path, device: i64, extra: &[&str]) {
    let device = device.to_string();
    let mut args = vec![
        "import-card",
        "--device",
        &device,
        "--mount",
        card.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli(app, &args);
}

/// A face box as the API gives it: pixels of the upright picture.
#[derive(Debug, Clone, Copy)]
struct Box4 {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

fn boxes(photo: &Value) -> Vec<(i64, Box4)> {
    photo["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let n = |k: &str| u32::try_from(f[k].as_u64().unwrap()).unwrap();
            (
                f["id"].as_i64().unwrap(),
                Box4 {
                    x: n("x"),
                    y: n("y"),
                    w: n("w"),
                    h: n("h"),
                },
            )
        })
        .collect()
}

async fn decisions_of(user: &User, photo: i64) -> Value {
    expect(
        user.get(&format!("/api/v1/photos/{photo}/decisions")).await,
        StatusCode::OK,
    )
    .await
}

/// Staff confirm that everyone in the photo is tagged.
async fn confirm(user: &User, photo: i64) {
    expect(
        user.put(
            &format!("/api/v1/photos/{photo}/confirmation"),
            json!({ "confirmed": true }),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

fn verdict<'a>(decisions: &'a Value, kind: &str) -> &'a Value {
    decisions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"]["kind"] == kind)
        .unwrap()
}

fn codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Every tag exiftool can see in `file`, as "Group:Name".
fn exiftool_tags(file: &Path) -> Vec<String> {
    let out = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-u"])
        .arg(file)
        .output()
        .expect("exiftool is installed");
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json[0].as_object().unwrap().keys().cloned().collect()
}

/// The published picture as people see it: decoded, then turned by its EXIF orientation.
fn upright(file: &Path, orientation: u16) -> image::RgbImage {
    let stored = image::open(file).unwrap().to_rgb8();
    match orientation {
        3 => image::imageops::rotate180(&stored),
        6 => image::imageops::rotate90(&stored),
        8 => image::imageops::rotate270(&stored),
        _ => stored,
    }
}

fn mean_difference(a: &image::RgbImage, b: &image::RgbImage, area: Box4) -> f64 {
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in area.y..area.y + area.h {
        for x in area.x..area.x + area.w {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            sum += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
            n += 3;
        }
    }
    sum as f64 / n.max(1) as f64
}

fn inside(area: Box4, x: u32, y: u32) -> bool {
    x >= area.x && x < area.x + area.w && y >= area.y && y < area.y + area.h
}

/// Tags every face of `photo`, covers two people without consent (one of them on a box
/// drawn by staff), gets the director's approval and publishes to the website. Returns
/// the published file (found under `outbox`) and the two covered boxes.
async fn tag_cover_approve_publish(
    app: &TestApp,
    outbox: &Path,
    photo: i64,
    people: &[i64],
) -> (PathBuf, [Box4; 2]) {
    let staff = app.login(AccountRole::Staff).await;
    let director = app.login(AccountRole::Director).await;
    let page = expect(
        staff.get(&format!("/api/v1/photos/{photo}")).await,
        StatusCode::OK,
    )
    .await;
    let faces = boxes(&page);
    // Face 2 is a person without consent, covered. Face 3 is "dismissed" and tagged by
    // hand instead, as if the detector had missed it: their cover needs a drawn box.
    for (n, (face, _)) in faces.iter().enumerate() {
        let body = if n == 2 {
            json!({ "state": "dismissed" })
        } else {
            json!({ "state": "person", "person_id": people[n] })
        };
        expect(
            staff
                .put(&format!("/api/v1/photos/{photo}/faces/{face}"), body)
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }
    let hand_tag = expect(
        staff
            .post(
                &format!("/api/v1/photos/{photo}/tags"),
                json!({ "person_id": people[2] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let page = expect(
        staff.get(&format!("/api/v1/photos/{photo}")).await,
        StatusCode::OK,
    )
    .await;
    let tag_of = |person: i64| {
        page["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["person_id"] == person)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    for tag in [tag_of(people[1]), hand_tag] {
        expect(
            staff
                .put(
                    &format!("/api/v1/photos/{photo}/tags/{tag}/covered"),
                    json!({ "covered": true }),
                )
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }
    confirm(&staff, photo).await;
    // A cover with no box to paint does not stand in for consent.
    let decisions = decisions_of(&staff, photo).await;
    let internal = verdict(&decisions, "internal");
    assert_eq!(internal["verdict"], "needs_review", "{internal}");
    assert!(codes(internal).contains(&"cover_area_unknown".to_owned()));

    let missed = faces[2].1;
    expect(
        staff
            .post(
                &format!("/api/v1/photos/{photo}/faces"),
                json!({ "x": missed.x, "y": missed.y, "w": missed.w, "h": missed.h,
                        "person_id": people[2] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let decisions = decisions_of(&staff, photo).await;
    assert_eq!(verdict(&decisions, "internal")["verdict"], "allowed");
    let website = verdict(&decisions, "website");
    assert_eq!(website["verdict"], "needs_review", "{website}");
    assert_eq!(
        codes(website)
            .iter()
            .filter(|c| *c == "face_covered")
            .count(),
        2
    );

    let published = approve_and_publish(&director, photo).await;
    let name = published["opaque_name"].as_str().unwrap();
    let file = walk(outbox)
        .into_iter()
        .find(|p| p.file_name().unwrap() == name)
        .expect("the published file is in the outbox");
    (file, [faces[1].1, missed])
}

/// Every file under `dir` (none if there is no such folder).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The group photo's people on the register, each with a parent's consent but people 1
/// and 2, who have none: their faces must be covered.
async fn register_the_group(admin: &User) -> Vec<i64> {
    let mut people = Vec::new();
    for n in 0..consentcam_media::sample::GROUP_PHOTO_FACES {
        let id = learner(
            admin,
            &format!("L{n:02}"),
            &format!("Given{n}"),
            &format!("Family{n}"),
            "2010-05-01",
        )
        .await;
        if n != 1 && n != 2 {
            parent_form(admin, id, "2026-09-01", true, &[]).await;
        }
        people.push(id);
    }
    people
}

/// A published `file` in which exiftool finds no metadata but the file's own (and the
/// tags in `also`), and whose bytes hold none of the names, serial or make planted in
/// what it was made from.
fn assert_clean(file: &Path, also: &[&str], what: &str) {
    for tag in exiftool_tags(file) {
        let group = tag.split(':').next().unwrap();
        assert!(
            matches!(
                group,
                "SourceFile" | "ExifTool" | "System" | "File" | "JFIF" | "Composite"
            ) || also.contains(&tag.as_str()),
            "{what} still carries {tag}"
        );
    }
    let bytes = std::fs::read(file).unwrap();
    for needle in ["Isla", "Amira", "Ben Carter", "Hassan", SERIAL, "Canon"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} is in {what}"
        );
    }
}

/// The published picture `out` (upright) has each `covered` face black where it was a
/// face in `original`, and its bottom quarter as in `original` (a re-encode's noise).
fn assert_covered(
    original: &image::RgbImage,
    out: &image::RgbImage,
    covered: [Box4; 2],
    what: &str,
) {
    for area in covered {
        for y in area.y + 2..area.y + area.h - 2 {
            for x in area.x + 2..area.x + area.w - 2 {
                let p = out.get_pixel(x, y).0;
                assert!(
                    p.iter().all(|&c| c <= 48),
                    "pixel {x},{y} of a covered face is {p:?} ({what})"
                );
            }
        }
        // The face was there to cover.
        assert!(mean_difference(original, out, area) > 40.0, "{what}");
    }
    let (width, height) = original.dimensions();
    let whole_bottom = Box4 {
        x: 0,
        y: height * 3 / 4,
        w: width,
        h: height / 4,
    };
    assert!(
        mean_difference(original, out, whole_bottom) < 6.0,
        "{what} came out as another picture"
    );
}

#[tokio::test]
async fn a_real_group_photo_goes_from_the_card_to_the_website_with_faces_covered_and_no_names() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let people = register_the_group(&admin).await;

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    camera_file(&folder, "IMG_0001.JPG", 1);
    camera_file(&folder, "IMG_0002.JPG", 6);
    import_card(&app, dir.path(), device, &[]);

    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let mut ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 2);

    let original = pictures::group_photo_upright(None, SCALE);
    let (width, height) = original.dimensions();
    let mut found = Vec::new();
    for (&id, orientation) in ids.iter().zip([1u16, 6]) {
        let page = expect(
            staff.get(&format!("/api/v1/photos/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["photo"]["orientation"], orientation);
        assert_eq!(page["photo"]["provenance"], "verified", "{page}");
        assert_eq!(page["photo"]["face_search"], "done");
        let faces = boxes(&page);
        // All 29 upright; stored turned, the camera's JPEG blocks fall elsewhere and the
        // detector misses one borderline face (staff would draw it).
        let expected = consentcam_media::sample::GROUP_PHOTO_FACES;
        assert!(
            faces.len() == expected || (orientation != 1 && faces.len() + 1 == expected),
            "{} faces found in the photo stored with orientation {orientation}",
            faces.len()
        );
        for (_, b) in &faces {
            // Each box lies inside the upright picture and is the size of a face in it
            // (about 50 px in the 1666 px original, enlarged twice).
            assert!(b.x + b.w <= width && b.y + b.h <= height, "{b:?}");
            assert!(
                (50..=260).contains(&b.w) && (50..=260).contains(&b.h),
                "{b:?}"
            );
        }
        found.push(faces);
    }
    // Stored turned or not, the same faces are in the same places of the upright picture:
    // each box of the turned copy has its centre inside a box of the upright one.
    for (_, b) in &found[1] {
        assert!(
            found[0]
                .iter()
                .any(|(_, a)| inside(*a, b.x + b.w / 2, b.y + b.h / 2)),
            "no face of the upright copy at {b:?}: {:?}",
            found[0]
        );
    }

    for (&id, orientation) in ids.iter().zip([1u16, 6]) {
        let (file, covered) = tag_cover_approve_publish(
            &app,
            &app.db_path.parent().unwrap().join("outbox"),
            id,
            &people,
        )
        .await;

        // exiftool finds nothing but the picture's own description and its orientation.
        let what = format!("the JPEG stored with orientation {orientation}");
        assert_clean(&file, &["IFD0:Orientation"], &what);
        let out = upright(&file, orientation);
        assert_eq!(out.dimensions(), (width, height));
        assert_covered(&original, &out, covered, &what);
        // Every other face, and the picture around, is as it was (a re-encode's noise).
        for (_, area) in found[0].iter().filter(|(_, a)| {
            !covered
                .iter()
                .any(|c| inside(*c, a.x + a.w / 2, a.y + a.h / 2))
        }) {
            assert!(
                mean_difference(&original, &out, *area) < 6.0,
                "an uncovered face changed: {area:?}"
            );
        }
    }
}

/// Uploads a scan of a consent form as the form page does; returns the status.
async fn upload_scan(app: &TestApp, admin: &User, form: i64, scan: &[u8]) -> StatusCode {
    let boundary = "scan-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"form.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(scan);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    admin
        .client
        .post(app.url(&format!("/consents/{form}/evidence?_csrf={}", admin.csrf)))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[path = "../../media/tests/common/s3.rs"]
#[allow(dead_code)]
mod s3;

/// Every file under `root`, relative to it.
fn relative_files(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = walk(root)
        .into_iter()
        .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn on_object_storage_a_real_photo_goes_from_the_card_to_the_website_and_nothing_stays_on_the_server()
 {
    let storage = tempfile::tempdir().unwrap();
    let server = s3::S3Server::start(&storage.path().join("s3"), "trust");
    let app = spawn_with_config_file(&server.store_section(
        "trust",
        &storage.path().join("credentials"),
        "s3",
    ))
    .await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let people = register_the_group(&admin).await;
    let card = tempfile::tempdir().unwrap();
    let folder = card.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    let on_card = camera_file(&folder, "IMG_0001.JPG", 1);
    import_card(&app, card.path(), device, &[]);

    // The original and its renditions are in the bucket, seen from outside its API; the
    // server's data directory keeps none of them.
    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let id = list[0]["id"].as_i64().unwrap();
    let page = expect(
        staff.get(&format!("/api/v1/photos/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let hash = page["photo"]["content_hash"].as_str().unwrap().to_owned();
    assert_eq!(page["photo"]["face_search"], "done");
    assert_eq!(
        boxes(&page).len(),
        consentcam_media::sample::GROUP_PHOTO_FACES
    );
    let bucket = server.folder("trust");
    let stored =
        std::fs::read(bucket.join(format!("store/objects/{}/{hash}", &hash[..2]))).unwrap();
    assert_eq!(stored, std::fs::read(&on_card).unwrap());
    let data = app.db_path.parent().unwrap();
    // A scanned consent form goes to the bucket too, and comes back from it.
    let form = parent_form(&admin, people[0], "2026-10-15", true, &[]).await;
    let scan = b"%PDF-1.4 a signed form";
    assert_eq!(upload_scan(&app, &admin, form, scan).await, StatusCode::OK);
    let scans: Vec<String> = relative_files(&bucket.join("evidence"))
        .into_iter()
        .filter(|f| f.ends_with(".pdf"))
        .collect();
    assert_eq!(scans.len(), 1, "{scans:?}");
    assert_eq!(
        std::fs::read(bucket.join("evidence").join(&scans[0])).unwrap(),
        scan
    );
    let served = admin.get(&format!("/consents/{form}/evidence")).await;
    assert_eq!(served.bytes().await.unwrap().as_ref(), scan);
    let kept: Vec<String> = relative_files(data)
        .into_iter()
        .filter(|f| {
            f.starts_with("store/objects")
                || f.starts_with("renditions")
                || f.starts_with("evidence")
        })
        .collect();
    assert!(kept.is_empty(), "the server kept {kept:?}");

    // The preview the photo page shows is the bucket's.
    let preview = staff.get(&format!("/photos/{id}/preview")).await;
    assert_eq!(preview.status(), StatusCode::OK);
    assert_eq!(
        preview.bytes().await.unwrap().as_ref(),
        std::fs::read(bucket.join(format!("renditions/{hash}-1600.jpg"))).unwrap()
    );
    let html = staff
        .get(&format!("/photos/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("id=\"no-picture\""),
        "the page finds the picture in the bucket"
    );

    // Published from the bucket's original into the bucket's outbox: covered, no names,
    // judged from outside; nothing waits in staging and the data directory has no copy.
    let (file, covered) =
        tag_cover_approve_publish(&app, &bucket.join("outbox"), id, &people).await;
    assert_clean(
        &file,
        &["IFD0:Orientation"],
        "the JPEG published from object storage",
    );
    let original = pictures::group_photo_upright(None, SCALE);
    assert_covered(
        &original,
        &upright(&file, 1),
        covered,
        "the JPEG published from object storage",
    );
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        relative_files(&bucket.join("outbox")),
        [format!("website/{name}"), format!("website/{name}.json")]
    );
    assert!(relative_files(&bucket.join("store/staging")).is_empty());
    assert!(
        relative_files(&data.join("outbox")).is_empty(),
        "the server keeps no copy"
    );

    // Marked vulnerable, they are taken down: marking the task done removes the bucket's
    // copy and its manifest.
    expect(
        admin
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/people/{}", people[0]),
                Some(json!({ "ref": "L00", "given_name": "Given0", "family_name": "Family0",
                             "date_of_birth": "2010-05-01", "role": "learner", "vulnerable": true })),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let director = app.login(AccountRole::Director).await;
    let tasks = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    let done = expect(
        director
            .post(
                &format!("/api/v1/takedowns/{}/done", tasks[0]["id"]),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["outbox_removed"], true, "{done}");
    assert!(relative_files(&bucket.join("outbox")).is_empty());
}

// Two workers: the test runs the CLI and waits for it while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sites_card_sent_to_the_central_server_is_stored_attributed_and_analysed_there() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let north = {
        use consentcam::store::sites;
        let conn = app.db();
        let north =
            sites::insert_site(&conn, "North", crate::helpers::NOW.parse().unwrap()).unwrap();
        assert!(sites::assign(&conn, sites::Kind::Device, device, Some(north)).unwrap());
        north
    };
    let card = tempfile::tempdir().unwrap();
    let folder = card.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    let on_card = camera_file(&folder, "IMG_0001.JPG", 1);
    std::fs::write(folder.join("IMG_0002.JPG"), b"not a photo at all").unwrap();
    let kiosk = tempfile::tempdir().unwrap();
    let token = kiosk.path().join("kiosk.token");
    std::fs::write(&token, format!("{}\n", app.kiosk_token)).unwrap();
    let progress = kiosk.path().join("progress.jsonl");
    let server = app.url("");
    let send = |extra: &[&str]| {
        let mut args = vec![
            "import-card",
            "--server",
            &server,
            "--token-file",
            token.to_str().unwrap(),
            "--mount",
            card.path().to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        cli(&app, &args)
    };
    let device_arg = device.to_string();
    let out = send(&[
        "--device",
        &device_arg,
        "--progress",
        progress.to_str().unwrap(),
    ]);
    let finished = r#"{"event":"finished","stored":2,"duplicates":0,"refused":0}"#;
    assert!(out.lines().any(|l| l == finished), "{out}");
    // The kiosk's progress file says the same, in the kiosk's words.
    let lines = std::fs::read_to_string(&progress).unwrap();
    let last = lines.lines().last().unwrap_or_default();
    assert!(
        last.contains(r#""event":"finished","imported":2,"failed":0"#)
            && last.contains(r#""jpeg":1"#),
        "{lines}"
    );

    // On the server: the photo, its bytes, its sign-out and site; analysed there, faces
    // found, in the background.
    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let photo: i64 = app
        .db()
        .query_row(
            "SELECT id FROM photos WHERE original_name LIKE '%IMG_0001.JPG'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut page = Value::Null;
    for _ in 0..600 {
        page = expect(
            staff.get(&format!("/api/v1/photos/{photo}")).await,
            StatusCode::OK,
        )
        .await;
        if page["photo"]["face_search"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(page["photo"]["face_search"], "done", "{page}");
    assert_eq!(page["photo"]["provenance"], "verified", "{page}");
    assert!(page["photo"]["custody_session_id"].is_i64(), "{page}");
    assert_eq!(
        boxes(&page).len(),
        consentcam_media::sample::GROUP_PHOTO_FACES
    );
    let hash = page["photo"]["content_hash"].as_str().unwrap();
    let data = app.db_path.parent().unwrap();
    assert_eq!(
        std::fs::read(data.join(consentcam::infra::archive::Archive::original_key(hash))).unwrap(),
        std::fs::read(&on_card).unwrap()
    );
    let site: Option<i64> = app
        .db()
        .query_row("SELECT site_id FROM photos WHERE id = ?1", [photo], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(site, Some(north));

    // Sent again (the kiosk restarted, say): nothing is sent twice or stored twice.
    let again = send(&[]);
    assert!(
        again
            .lines()
            .any(|l| l == r#"{"event":"finished","stored":0,"duplicates":2,"refused":0}"#),
        "{again}"
    );
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Wiped: a file the server has not got stays on the card; the ones it has go. Then
    // sent with --wipe, the last one is sent and goes too.
    std::fs::write(
        folder.join("IMG_0004.JPG"),
        b"taken after the card was sent",
    )
    .unwrap();
    let (mount, url, kiosk_token) = (
        card.path().to_owned(),
        server.clone(),
        app.kiosk_token.clone(),
    );
    let wiped = tokio::task::spawn_blocking(move || {
        consentcam::ops::ingest::send::wipe_sent(&mount, &url, &kiosk_token).unwrap()
    })
    .await
    .unwrap();
    let names = |paths: &[consentcam_media::CardPath]| -> Vec<String> {
        paths.iter().map(|p| p.as_str().to_owned()).collect()
    };
    assert_eq!(
        names(&wiped.deleted),
        ["DCIM/100CANON/IMG_0001.JPG", "DCIM/100CANON/IMG_0002.JPG"]
    );
    assert_eq!(names(&wiped.kept), ["DCIM/100CANON/IMG_0004.JPG"]);
    assert!(!on_card.exists());
    let last = send(&["--wipe"]);
    assert!(
        last.lines()
            .any(|l| l == r#"{"event":"finished","stored":1,"duplicates":0,"refused":0}"#),
        "{last}"
    );
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        0,
        "the card is empty"
    );
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 3, "nothing lost on the way");

    // A file damaged on the way is refused and nothing is kept; so is one without the
    // kiosk's token.
    let client = reqwest::Client::new();
    let claimed = "ab".repeat(32);
    let damaged = client
        .put(app.url(&format!("/api/v1/kiosk/card-files/{claimed}")))
        .bearer_auth(&app.kiosk_token)
        .header("X-Card-Path", "DCIM/100CANON/IMG_0003.JPG")
        .body(b"bytes that do not hash to the claimed hash".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(damaged.status(), StatusCode::BAD_REQUEST);
    let anonymous = client
        .put(app.url(&format!("/api/v1/kiosk/card-files/{claimed}")))
        .header("X-Card-Path", "DCIM/100CANON/IMG_0003.JPG")
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let incoming = data.join("store").join("incoming");
    assert_eq!(
        std::fs::read_dir(&incoming).unwrap().count(),
        0,
        "uploads left behind"
    );
}

/// Copies the camera's EXIF (and the names planted in it) and an XMP packet naming people
/// from `jpeg` into `file` with exiftool, as a phone or an editing app would carry them.
fn copy_metadata(jpeg: &Path, file: &Path) {
    let status = Command::new("exiftool")
        .args(["-q", "-overwrite_original", "-tagsFromFile"])
        .arg(jpeg)
        .args(["-EXIF:all", "-XMP-dc:Subject", "-XMP-iptcExt:PersonInImage"])
        .arg(file)
        .status()
        .expect("exiftool is installed");
    assert!(status.success());
    let tags = exiftool_tags(file);
    for tag in ["IFD0:Artist", "ExifIFD:SerialNumber", "XMP-dc:Subject"] {
        assert!(tags.iter().any(|t| t == tag), "{tag} not copied: {tags:?}");
    }
}

/// A PNG (as a tablet or an export writes one) and a HEIC (as an iPad saves one) of the
/// group photo, with the camera's EXIF and people's names copied in by exiftool, go
/// through the real card import (faces found, provenance verified), are tagged, covered,
/// approved and published as new JPEGs that exiftool finds clean and whose pixels show
/// the covers.
#[tokio::test]
async fn a_png_and_a_heic_go_from_the_card_to_the_website_with_faces_covered_and_no_names() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let people = register_the_group(&admin).await;
    let source = tempfile::tempdir().unwrap();
    let jpeg = camera_file(source.path(), "IMG_0007.JPG", 1);
    let original = pictures::group_photo_upright(None, SCALE);
    let (width, height) = original.dimensions();
    let card = tempfile::tempdir().unwrap();
    let folder = card.path().join("DCIM").join("100APPLE");
    std::fs::create_dir_all(&folder).unwrap();
    let png = folder.join("IMG_0007.PNG");
    original.save(&png).unwrap();
    copy_metadata(&jpeg, &png);
    let heic = folder.join("IMG_0008.HEIC");
    let encoded =
        consentcam_media::sample::heic_of(original.as_raw(), width, height, None).unwrap();
    std::fs::write(&heic, encoded).unwrap();
    copy_metadata(&jpeg, &heic);
    import_card(&app, card.path(), device, &[]);

    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    for id in ids {
        let page = expect(
            staff.get(&format!("/api/v1/photos/{id}")).await,
            StatusCode::OK,
        )
        .await;
        let format = page["photo"]["format"].as_str().unwrap().to_owned();
        assert!(format == "png" || format == "heic", "{format}");
        assert_eq!(page["photo"]["provenance"], "verified", "{page}");
        assert_eq!(page["photo"]["face_search"], "done");
        assert_eq!(page["photo"]["width"], width, "{format}");
        let faces = boxes(&page).len();
        assert!(faces >= 25, "{faces} faces in the {format}");
        let thumbnail = staff
            .client
            .get(app.url(&format!("/photos/{id}/thumbnail")))
            .send()
            .await
            .unwrap();
        assert_eq!(thumbnail.status(), StatusCode::OK);
        let bytes = thumbnail.bytes().await.unwrap();
        let shown = image::load_from_memory(&bytes).expect("a real thumbnail");
        assert_eq!((shown.width(), shown.height()), (320, 320 * height / width));

        let (file, covered) = tag_cover_approve_publish(
            &app,
            &app.db_path.parent().unwrap().join("outbox"),
            id,
            &people,
        )
        .await;
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some("jpg"));
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
        let what = format!("the published copy of the {format}");
        assert_clean(&file, &[], &what);
        let out = upright(&file, 1);
        assert_eq!(out.dimensions(), (width, height));
        assert_covered(&original, &out, covered, &what);
    }
}

#[tokio::test]
async fn a_video_from_an_ipad_shows_its_first_frame_and_device_and_is_never_published() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    // A part of the group photo, sides even as H.264 needs them.
    let original = pictures::group_photo_upright(Some((100, 120, 640, 360)), 1);
    let (width, height) = original.dimensions();
    let card = tempfile::tempdir().unwrap();
    let folder = card.path().join("DCIM").join("100APPLE");
    std::fs::create_dir_all(&folder).unwrap();
    let video = folder.join("IMG_0010.MOV");
    let encoded = consentcam_media::sample::mp4_of(original.as_raw(), width, height, 10).unwrap();
    std::fs::write(&video, encoded).unwrap();
    let out = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Keys:Make=Apple",
            "-Keys:Model=iPad (9th generation)",
            "-Keys:CreationDate=2026:11:25 08:40:00+00:00",
        ])
        .arg(&video)
        .output()
        .expect("exiftool is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    import_card(&app, card.path(), device, &[]);

    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let id = list[0]["id"].as_i64().unwrap();
    let page = expect(
        staff.get(&format!("/api/v1/photos/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let photo = &page["photo"];
    assert_eq!(photo["format"], "video", "{page}");
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(u64::from(width)), Some(u64::from(height)))
    );
    assert_eq!(
        photo["taken_at"], "2026-11-25T08:40:00Z",
        "the container's time"
    );
    assert_eq!(photo["damage"], Value::Null, "a video is not damage");
    // An iPad writes no serial number: the device cannot be identified.
    assert_eq!(photo["provenance"], "unknown");

    // The first frame is the picture staff see.
    let preview = staff
        .client
        .get(app.url(&format!("/photos/{id}/preview")))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    let shown = image::load_from_memory(&preview.bytes().await.unwrap())
        .expect("a real picture")
        .to_rgb8();
    assert_eq!(shown.dimensions(), (width, height));
    let whole = Box4 {
        x: 0,
        y: 0,
        w: width,
        h: height,
    };
    let d = mean_difference(&original, &shown, whole);
    assert!(d < 12.0, "the preview is the video's first frame ({d})");
    let flipped = image::imageops::flip_vertical(&original);
    assert!(mean_difference(&flipped, &shown, whole) > 2.0 * d);

    let html = staff
        .client
        .get(app.url(&format!("/photos/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("videos are never published"), "{html}");
    assert!(!html.contains("id=\"no-picture\""));

    // Never publishable, on any channel, whatever else is said of it.
    confirm(&staff, id).await;
    for d in decisions_of(&staff, id).await.as_array().unwrap() {
        assert_eq!(d["verdict"], "blocked", "{d}");
        assert!(
            codes(d).contains(&"format_not_publishable".to_owned()),
            "{d}"
        );
    }
}

#[tokio::test]
async fn a_photo_imported_without_face_detection_waits_until_the_detector_has_run() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    camera_file(&folder, "IMG_0003.JPG", 8);
    import_card(&app, dir.path(), device, &["--no-faces"]);

    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let id = list[0]["id"].as_i64().unwrap();
    // Confirmed with nobody tagged: a crowd of 29 must not pass because nobody looked.
    confirm(&staff, id).await;
    let decisions = decisions_of(&staff, id).await;
    for d in decisions.as_array().unwrap() {
        assert_eq!(d["verdict"], "needs_review", "{d}");
        assert!(codes(d).contains(&"faces_not_looked_for".to_owned()), "{d}");
    }

    let detected = cli(&app, &["detect-faces"]);
    assert!(
        detected.contains("ran on 1 photo(s) and found 29 face(s)"),
        "{}",
        detected
    );
    let page = expect(
        staff.get(&format!("/api/v1/photos/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["photo"]["face_search"], "done");
    assert_eq!(boxes(&page).len(), 29);
    let decisions = decisions_of(&staff, id).await;
    let internal = verdict(&decisions, "internal");
    assert!(!codes(internal).contains(&"faces_not_looked_for".to_owned()));
    assert!(codes(internal).contains(&"face_unresolved".to_owned()));
}

#[tokio::test]
async fn boxes_stored_wrong_by_an_older_version_are_found_again_and_keep_what_staff_said() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let amira = learner(&admin, "L1", "Amira", "Hassan", "2011-01-01").await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    camera_file(&folder, "IMG_0004.JPG", 3);
    import_card(&app, dir.path(), device, &[]);
    let staff = app.login(AccountRole::Staff).await;
    let id = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await[0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/photos/{id}");
    let right = boxes(&expect(staff.get(&path).await, StatusCode::OK).await);
    expect(
        staff
            .put(
                &format!("{path}/faces/{}", right[0].0),
                json!({ "state": "person", "person_id": amira }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // What the earlier import stored: fractions truncated to whole pixels. The migration
    // finds such rows; here the database is put in that state by hand.
    {
        let conn = app.db();
        conn.execute(
            "UPDATE faces SET x = 0, y = 0, w = 1, h = 1 WHERE photo_id = ?1",
            [id],
        )
        .unwrap();
        conn.execute(
            "UPDATE photos SET face_detection = 'redo' WHERE id = ?1",
            [id],
        )
        .unwrap();
    }
    let decisions = decisions_of(&staff, id).await;
    assert!(codes(verdict(&decisions, "internal")).contains(&"faces_not_looked_for".to_owned()));

    cli(&app, &["detect-faces"]);
    let page = expect(staff.get(&path).await, StatusCode::OK).await;
    let again = boxes(&page);
    assert_eq!(again.len(), right.len());
    for ((id_before, before), (id_after, after)) in right.iter().zip(&again) {
        assert_eq!(id_before, id_after);
        assert_eq!(
            (before.x, before.y, before.w, before.h),
            (after.x, after.y, after.w, after.h)
        );
    }
    assert_eq!(page["faces"][0]["resolution"]["person_id"], amira, "{page}");
    assert_eq!(page["photo"]["face_search"], "done");
}

#[tokio::test]
async fn a_subject_access_export_holds_their_photo_with_every_other_face_covered_and_names_nobody_else()
 {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let robin = learner(&admin, "L01", "Robin", "Okafor", "2010-05-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let other = learner(&admin, "L02", "Zebedee", "Quillfeather", "2010-05-01").await;

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    camera_file(&folder, "IMG_0001.JPG", 1);
    import_card(&app, dir.path(), device, &[]);
    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let photo = list[0]["id"].as_i64().unwrap();
    let page = expect(
        staff.get(&format!("/api/v1/photos/{photo}")).await,
        StatusCode::OK,
    )
    .await;
    let faces = boxes(&page);
    assert!(
        faces.len() > 10,
        "the detector found the group: {}",
        faces.len()
    );
    for (face, who) in [(faces[0].0, robin), (faces[1].0, other)] {
        expect(
            staff
                .put(
                    &format!("/api/v1/photos/{photo}/faces/{face}"),
                    json!({ "state": "person", "person_id": who }),
                )
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }

    let response = admin.get(&format!("/people/{robin}/export.zip")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        use std::io::Read;
        let mut out = Vec::new();
        zip.by_name(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    let json: Value = serde_json::from_slice(&read("person.json")).unwrap();
    let html = String::from_utf8(read("index.html")).unwrap();
    let picture = read(&format!("photos/photo-{photo}.jpg"));
    assert_eq!(json["person"]["given_name"], "Robin");
    assert!(
        html.contains("Robin Okafor") && html.contains("2010-05-01"),
        "{html}"
    );
    assert_eq!(json["photos"][0]["others_covered"], json!(faces.len() - 1));
    assert!(
        json["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "consent.add"),
        "{json}"
    );
    // Nobody else is named, in the data or in the page.
    for text in [json.to_string(), html] {
        assert!(!text.contains("Zebedee") && !text.contains("Quillfeather"));
    }

    // The picture: every other face is black, Robin's is not, and no metadata is left
    // that names or places anyone.
    let cover = |b: &Box4| consentcam_scrub::Cover {
        x: b.x,
        y: b.y,
        width: b.w,
        height: b.h,
    };
    let (w, h) = image::load_from_memory(&picture).unwrap().dimensions();
    let others: Vec<_> = faces[1..].iter().map(|(_, b)| cover(b)).collect();
    let unpainted = consentcam_scrub::uncovered(&picture, &others, w, h).unwrap();
    assert!(
        unpainted.is_empty(),
        "every other face is painted: {unpainted:?}"
    );
    assert_eq!(
        consentcam_scrub::uncovered(&picture, &[cover(&faces[0].1)], w, h)
            .unwrap()
            .len(),
        1,
        "Robin's own face is there"
    );
    let file = dir.path().join("exported.jpg");
    std::fs::write(&file, &picture).unwrap();
    let tags = exiftool_tags(&file);
    assert!(
        !tags
            .iter()
            .any(|t| t.contains("GPS") || t.contains("Serial") || t.contains("Artist")),
        "{tags:?}"
    );

    let audit = expect(
        admin.get("/api/v1/audit?action=person.exported").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit[0]["subject"], format!("person:{robin}"));
    let staff_try = staff.get(&format!("/people/{robin}/export.zip")).await;
    assert_eq!(staff_try.status(), StatusCode::FORBIDDEN);
}

/// Every file under `dir` that holds `needle` (the bytes as written, any case).
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let lower = needle.to_lowercase();
    walk(dir)
        .into_iter()
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap_or_default();
            bytes
                .windows(lower.len())
                .any(|w| w.eq_ignore_ascii_case(lower.as_bytes()))
        })
        .collect()
}

/// Which table and column of the records hold `needle`, for a failure message.
fn rows_holding(conn: &rusqlite::Connection, needle: &str) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut found = Vec::new();
    for table in tables {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for column in columns {
            let hits: i64 = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE ?1"
                    ),
                    [format!("%{needle}%")],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            if hits > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn an_erased_person_is_gone_from_every_file_and_their_face_is_covered_in_photos_with_others()
{
    let app = spawn_app().await;
    let data = app.db_path.parent().unwrap().to_path_buf();
    let admin = app.login(AccountRole::Admin).await;
    let staff = app.login(AccountRole::Staff).await;
    let director = app.login(AccountRole::Director).await;
    let device = camera_signed_out_and_returned(&app, &admin).await;
    let robin = learner(&admin, "L01", "Robin", "Okafor", "2010-05-01").await;
    let form = expect(
        admin
            .post(
                &format!("/api/v1/people/{robin}/consents"),
                json!({ "signer": "parent", "signer_name": "Grace Okafor", "signed_on": "2026-09-01",
                        "internal": true, "partners": [], "website": true, "social": false }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let other = learner(&admin, "L02", "Zebedee", "Quillfeather", "2010-05-01").await;
    parent_form(&admin, other, "2026-09-01", true, &[]).await;
    // A scan of Robin's form, and a note that names them (why a flag was lowered).
    let scan = b"%PDF-1.4 signed by Grace Okafor for Robin Okafor";
    assert_eq!(upload_scan(&app, &admin, form, scan).await, StatusCode::OK);
    assert_eq!(files_holding(&data.join("evidence"), "Okafor").len(), 1);
    let mut record = json!({ "ref": "L01", "given_name": "Robin", "family_name": "Okafor",
                             "date_of_birth": "2010-05-01", "role": "learner", "vulnerable": true });
    expect(
        admin
            .put(&format!("/api/v1/people/{robin}"), record.clone())
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    record["vulnerable"] = json!(false);
    record["reason"] = json!("Robin Okafor's plan closed by the DSL");
    expect(
        admin.put(&format!("/api/v1/people/{robin}"), record).await,
        StatusCode::NO_CONTENT,
    )
    .await;

    // Two photos from the card: in A, Robin and Zebedee (published to the website); in B,
    // Robin alone.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder).unwrap();
    camera_file(&folder, "IMG_0001.JPG", 1);
    camera_file(&folder, "IMG_0002.JPG", 6);
    import_card(&app, dir.path(), device, &[]);
    let list = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    let mut ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    let (a, b) = (ids[0], ids[1]);
    let page_a = expect(
        staff.get(&format!("/api/v1/photos/{a}")).await,
        StatusCode::OK,
    )
    .await;
    let faces_a = boxes(&page_a);
    for (n, (face, _)) in faces_a.iter().enumerate() {
        let body = match n {
            0 => json!({ "state": "person", "person_id": robin }),
            1 => json!({ "state": "person", "person_id": other }),
            _ => json!({ "state": "dismissed" }),
        };
        expect(
            staff
                .put(&format!("/api/v1/photos/{a}/faces/{face}"), body)
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }
    confirm(&staff, a).await;
    let first = approve_and_publish(&director, a).await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{a}/caption"),
                json!({ "caption": "Robin at the forge" }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page_b = expect(
        staff.get(&format!("/api/v1/photos/{b}")).await,
        StatusCode::OK,
    )
    .await;
    let face_b = boxes(&page_b)[0].0;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{b}/faces/{face_b}"),
                json!({ "state": "person", "person_id": robin }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let hash_b = page_b["photo"]["content_hash"].as_str().unwrap().to_owned();
    let original_b = data.join(consentcam::infra::archive::Archive::original_key(&hash_b));
    assert!(original_b.is_file());

    // Only an admin erases, and only once the reference is typed again.
    let refused = staff
        .post(
            &format!("/api/v1/people/{robin}/erase"),
            json!({ "confirm_ref": "L01" }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let wrong = admin
        .form(&format!("/people/{robin}/erase"), &[("confirm_ref", "L02")])
        .await;
    assert!(wrong.contains("type their reference exactly"), "{wrong}");
    assert_eq!(
        expect(
            admin.get(&format!("/api/v1/people/{robin}")).await,
            StatusCode::OK
        )
        .await["person"]["given_name"],
        "Robin"
    );
    let done = admin
        .form(&format!("/people/{robin}/erase"), &[("confirm_ref", "L01")])
        .await;
    assert!(done.contains("Erased: 1 form(s), 1 scan(s) and 1 photo(s) removed; covered in 1 photo(s) with others; 1 publication(s) to take down."), "{done}");
    assert!(done.contains("Erased person"), "{done}");

    // Their names are nowhere in the data directory: database, journal, scans, files.
    for name in ["Robin", "Okafor", "Grace"] {
        let holding = files_holding(&data, name);
        assert!(
            holding.is_empty(),
            "{name} is still in {holding:?}, rows: {:?}",
            rows_holding(&app.db(), name)
        );
    }
    assert!(!original_b.exists(), "the photo of Robin alone is gone");
    assert_eq!(
        staff.get(&format!("/api/v1/photos/{b}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let page = expect(
        admin.get(&format!("/api/v1/people/{robin}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["person"]["given_name"], "Erased", "{page}");
    assert_eq!(page["consents"], json!([]));
    assert!(page.get("notes").is_none(), "{page}");
    let page_a = expect(
        staff.get(&format!("/api/v1/photos/{a}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page_a["photo"]["caption"], "[erased] at the forge");
    let tag = page_a["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["person_id"] == robin)
        .unwrap();
    assert_eq!(tag["covered"], true, "{page_a}");
    let tasks = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    assert_eq!(tasks[0]["id"], first["publication_id"], "{tasks}");
    assert_eq!(tasks[0]["takedown_reason"], "erasure");
    // Nobody can tag, record or add anything more about them.
    let again = admin
        .post(
            &format!("/api/v1/people/{robin}/erase"),
            json!({ "confirm_ref": "erased-1" }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    parent_form_refused(&admin, robin).await;

    // The chain is untouched.
    let checked = cli(&app, &["check-audit"]);
    assert!(checked.contains("audit log intact"), "{checked}");

    // Taken down and published again: Robin's face is painted over in the new copy,
    // Zebedee's is not.
    expect(
        director
            .post(
                &format!("/api/v1/takedowns/{}/done", first["publication_id"]),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{a}/caption"),
                json!({ "caption": "" }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let second = approve_and_publish(&director, a).await;
    let name = second["opaque_name"].as_str().unwrap();
    let file = walk(&data.join("outbox"))
        .into_iter()
        .find(|p| p.file_name().unwrap() == name)
        .expect("published again");
    let picture = std::fs::read(&file).unwrap();
    let (w, h) = image::load_from_memory(&picture).unwrap().dimensions();
    let cover = |b: &Box4| consentcam_scrub::Cover {
        x: b.x,
        y: b.y,
        width: b.w,
        height: b.h,
    };
    assert!(
        consentcam_scrub::uncovered(&picture, &[cover(&faces_a[0].1)], w, h)
            .unwrap()
            .is_empty(),
        "the erased person's face is covered"
    );
    assert_eq!(
        consentcam_scrub::uncovered(&picture, &[cover(&faces_a[1].1)], w, h)
            .unwrap()
            .len(),
        1,
        "the other learner's face is not"
    );

    // An old export of the register cannot bring them back unnoticed.
    let csv = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\nL01,Robin,Okafor,2010-05-01,learner,no,parent,Grace Okafor,2026-09-01,yes,,yes,no,,\n";
    let response = admin
        .client
        .post(app.url("/api/v1/consents/import"))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(
        text.contains("belonged to a person who was erased"),
        "{text}"
    );
}

async fn approve_and_publish(director: &User, photo: i64) -> Value {
    let approval = expect(
        director
            .post(
                &format!("/api/v1/photos/{photo}/approvals"),
                json!({ "channel": { "kind": "website" }, "approve": true }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approval["verdict"], "allowed", "{approval}");
    expect(
        director
            .post(
                &format!("/api/v1/photos/{photo}/publish"),
                json!({ "channel": { "kind": "website" } }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await
}

async fn parent_form_refused(admin: &User, person: i64) {
    let response = admin
        .post(
            &format!("/api/v1/people/{person}/consents"),
            json!({ "signer": "self", "signer_name": "", "signed_on": "2026-09-01",
                    "internal": true, "partners": [], "website": true, "social": false }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

/// With the bucket away, a site's card file is answered 503 with `Retry-After` (the Pi
/// offers it again) and nothing of the storage's address, bucket or keys; once it is
/// back, the same file is taken.
#[tokio::test]
async fn with_the_bucket_away_a_card_file_is_answered_503_without_internals_then_taken() {
    let storage = tempfile::tempdir().unwrap();
    let mut server = s3::S3Server::start(&storage.path().join("s3"), "trust");
    let section = server.store_section("trust", &storage.path().join("credentials"), "s3");
    let app = spawn_with_config_file(&format!("{section}retry_seconds = 1\n")).await;
    let endpoint = server.endpoint();
    let body = consentcam_media::sample::GROUP_PHOTO_PNG.to_vec();
    let hash = consentcam_media::ContentHash::of_bytes(&body).to_hex();
    let put = || async {
        reqwest::Client::new()
            .put(app.url(&format!("/api/v1/kiosk/card-files/{hash}")))
            .bearer_auth(&app.kiosk_token)
            .header("x-card-path", "DCIM/100CANON/IMG_0001.PNG")
            .body(body.clone())
            .send()
            .await
            .unwrap()
    };
    server.stop();
    let refused = put().await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "60");
    let text = refused.text().await.unwrap();
    for internal in [
        endpoint.as_str(),
        "trust",
        "store/",
        &hash,
        "object storage",
    ] {
        assert!(!text.contains(internal), "{internal} in the answer: {text}");
    }
    assert!(text.contains("try again"), "{text}");
    // /health says so, without saying where the storage is.
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let said: Value = health.json().await.unwrap();
    assert_eq!(said["storage"], "unreachable", "{said}");
    assert!(!said.to_string().contains(&endpoint), "{said}");
    server.resume();
    let taken = put().await;
    assert!(taken.status().is_success(), "{}", taken.status());
    assert!(
        server
            .folder("trust")
            .join(format!("store/objects/{}/{hash}", &hash[..2]))
            .exists()
    );
}
