//! Publishing to a real WordPress (tests/common/wordpress.rs, one for this test binary):
//! the harness itself, then the whole path with the real server: a real group photo
//! sent from a kiosk's card, its faces found, tagged and one learner covered, approved and
//! published into WordPress's media library; every file WordPress made of it judged from
//! outside (exiftool, its pixels); the delivery waiting out a WordPress that is away; the
//! item and every file deleted when consent is withdrawn.
//!
//! Needs Debian's `wordpress`, `php-cli`, `php-mysql`, `php-gd` and `mariadb-server`, and
//! `exiftool`.

#[path = "common/records.rs"]
mod records;
#[path = "common/session.rs"]
mod session;
#[path = "common/wordpress.rs"]
mod wordpress;

use std::time::{Duration, Instant};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A 1200×900 JPEG: bigger than WordPress's "large" size, so it makes every smaller one.
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    jpeg
}

#[test]
fn a_real_wordpress_starts_installs_and_takes_an_upload_with_an_application_password() {
    let started = Instant::now();
    let mut wp = wordpress::shared();
    eprintln!("wordpress::shared() took {:.2?}", started.elapsed());
    let agent = agent();
    let before = wp.all_uploaded_files();

    let jpeg = photo();
    let mut response = agent
        .post(format!("{}/wp-json/wp/v2/media", wp.address))
        .header("Authorization", wp.authorization())
        .header("Content-Disposition", "attachment; filename=\"x.jpg\"")
        .header("Content-Type", "image/jpeg")
        .send(&jpeg[..])
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status(), 201, "{body}");
    let item: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = item["id"].as_u64().unwrap();

    let files = wp.files_of_media(id);
    assert!(files.len() > 1, "no sizes made (php-gd?): {files:?}");
    assert!(files.iter().all(|f| f.is_file()), "{files:?}");
    let original = wp
        .uploads
        .join(item["media_details"]["file"].as_str().unwrap());
    assert_eq!(std::fs::read(&original).unwrap(), jpeg, "kept as sent");
    let uploaded = wp.all_uploaded_files();
    assert!(files.iter().all(|f| uploaded.contains(f)), "{uploaded:?}");
    assert!(wp.media_list().iter().any(|m| m["id"] == id));
    assert_eq!(wp.media(id).unwrap()["id"], id);

    let mut response = agent
        .delete(format!(
            "{}/wp-json/wp/v2/media/{id}?force=true",
            wp.address
        ))
        .header("Authorization", wp.authorization())
        .call()
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status(), 200, "{body}");
    assert!(files.iter().all(|f| !f.exists()), "left behind: {files:?}");
    assert_eq!(wp.all_uploaded_files(), before);
    assert!(wp.media(id).is_none());
    assert!(!wp.media_list().iter().any(|m| m["id"] == id));

    let rest = format!("{}/wp-json/", wp.address);
    wp.stop();
    assert!(agent.get(&rest).call().is_err(), "answered while stopped");
    wp.resume();
    let response = agent.get(&rest).call().unwrap();
    assert_eq!(response.status(), 200);
    assert!(wp.media(id).is_none(), "the database stayed");
}

mod journey {
    //! The real server (`consentcam serve` on loopback) publishing to the shared WordPress.

    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use consentcam::demo::pictures::{self, CameraTags};
    use consentcam::domain::{AccountRole, Role};
    use consentcam::infra::clock::Clock;
    use consentcam::infra::password;
    use consentcam::store::{self, registry};
    use serde_json::{Value, json};

    use super::records;
    use super::session::Session;
    use super::wordpress::{self, WordPress};

    const SCALE: u32 = 2;
    const SERIAL: &str = "CAM-WP-0001";
    const PASSWORDS: [(&str, &str, AccountRole); 3] = [
        ("staff", "staff-wordpress-password", AccountRole::Staff),
        (
            "director",
            "director-wordpress-password",
            AccountRole::Director,
        ),
        ("admin", "admin-wordpress-password", AccountRole::Admin),
    ];

    struct Server {
        dir: tempfile::TempDir,
        config: PathBuf,
        data: PathBuf,
        base: String,
        child: Child,
        kiosk_token_file: PathBuf,
        device: i64,
        staff: i64,
        /// The group photo's people: each face's person, in the order faces are found.
        learners: Vec<(i64, Option<i64>)>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn consentcam(config: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_consentcam"));
        command.arg("--config").arg(config).env("RUST_LOG", "warn");
        command
    }

    /// The records an admin set up (accounts, a member of staff with a badge, the camera,
    /// a kiosk, the group's learners, each with a parent's form saying yes to the website
    /// but learner 1, who has none), a config publishing the website to `wp`, and the
    /// server started on them.
    fn server(wp: &WordPress) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let password_file = dir.path().join("wordpress-password");
        std::fs::write(&password_file, format!("{}\n", wp.app_password)).unwrap();
        let port = wordpress::free_port();
        let config = dir.path().join("consentcam.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {data:?}\n[sandbox]\nworker_program = {:?}\n\
                 [deliver.website]\nkind = \"wordpress\"\nurl = {:?}\nuser = {:?}\n\
                 password_file = {password_file:?}\ndraft_post = true\nretry_seconds = 1\n",
                env!("CARGO_BIN_EXE_consentcam"),
                wp.address,
                wp.user,
            ),
        )
        .unwrap();
        let now = Clock::System.now();
        let conn = store::open(&data.join("records.db")).unwrap();
        records::accounts(&conn, &PASSWORDS, now);
        let staff = records::staff_with_badge(&conn, "S1", ("Isla", "Morgan"), "5AFF0001", now);
        let device = records::camera(&conn, "Camera 1", "Canon EOS 250D", SERIAL, "D0C0FFEE", now);
        let token = password::random_token();
        registry::insert_kiosk(&conn, "office", &password::token_hash(&token), now).unwrap();
        let kiosk_token_file = dir.path().join("kiosk.token");
        std::fs::write(&kiosk_token_file, &token).unwrap();
        let mut learners = Vec::new();
        for n in 0..consentcam_media::sample::GROUP_PHOTO_FACES {
            let id = records::person(
                &conn,
                &format!("L{n:02}"),
                ("Amira", &format!("Hassan{n}")),
                Role::Learner,
                "2010-05-01",
                now,
            );
            let form = (n != 1).then(|| records::website_form(&conn, id, "wordpress test", now));
            learners.push((id.0, form));
        }
        drop(conn);
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = consentcam(&config)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Server {
            dir,
            config,
            data,
            base,
            child,
            kiosk_token_file,
            device,
            staff: staff.0,
            learners,
        }
    }

    async fn login(base: &str, user: &str) -> Session {
        let pass = PASSWORDS.iter().find(|p| p.0 == user).unwrap().1;
        Session::login(base, user, pass).await
    }

    /// The kiosk reports the camera signed out an hour ago and back a minute ago.
    async fn camera_out_and_back(s: &Server) {
        let now = Clock::System.now();
        let at = |mins: i64| {
            now.checked_sub(jiff::SignedDuration::from_mins(mins))
                .unwrap()
        };
        let token = std::fs::read_to_string(&s.kiosk_token_file).unwrap();
        let events = json!({ "sent_at": now, "events": [
            { "event_id": "wp-1", "seq": 1, "at": at(60), "reader": "office", "type": "signed_out",
              "device_id": s.device, "person_id": s.staff, "due_back": at(-180) },
            { "event_id": "wp-2", "seq": 2, "at": at(1), "reader": "office", "type": "returned",
              "device_id": s.device, "person_id": s.staff },
        ]});
        let receipt: Value = reqwest::Client::new()
            .post(format!("{}/api/v1/kiosk/events", s.base))
            .bearer_auth(token.trim())
            .json(&events)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(receipt["recorded"], json!(["wp-1", "wp-2"]), "{receipt}");
    }

    /// The camera's card: the group photo twice (taken 30 and 20 minutes ago by the
    /// camera's clock), each with names, the body's serial and a position in its metadata.
    fn card(s: &Server) -> PathBuf {
        let card = s.dir.path().join("card");
        let folder = card.join("DCIM").join("100CANON");
        std::fs::create_dir_all(&folder).unwrap();
        let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
        for (n, ago) in [(1, 30), (2, 20)] {
            let taken = Clock::System
                .now()
                .checked_sub(jiff::SignedDuration::from_mins(ago))
                .unwrap()
                .to_zoned(zone.clone())
                .datetime();
            let camera = CameraTags {
                make: "Canon",
                model: "Canon EOS 250D",
                serial: SERIAL,
                taken,
            };
            let path = folder.join(format!("IMG_000{n}.JPG"));
            std::fs::write(&path, pictures::group_photo(None, SCALE, 1, &camera)).unwrap();
            let status = Command::new("exiftool")
                .args([
                    "-q",
                    "-overwrite_original",
                    "-Artist=Isla Morgan",
                    "-ImageDescription=Amira Hassan3 at the workshop",
                    "-XMP-iptcExt:PersonInImage=Amira Hassan4",
                    "-GPSLatitude=51.5",
                    "-GPSLatitudeRef=N",
                    "-GPSLongitude=0.12",
                    "-GPSLongitudeRef=W",
                ])
                .arg(&path)
                .status()
                .expect("exiftool is installed");
            assert!(status.success());
        }
        card
    }

    /// A face box in pixels of the upright picture.
    #[derive(Debug, Clone, Copy)]
    struct Box4 {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    }

    /// Tags each face found to a learner (in order), covers learner 1's face (no consent),
    /// confirms, captions, approves for the website and publishes. Returns the
    /// publication's file name and the covered face's box.
    async fn tag_cover_publish(
        s: &Server,
        staff: &Session,
        director: &Session,
        photo: i64,
    ) -> (String, Box4) {
        let page = staff
            .must(
                reqwest::Method::GET,
                &format!("/api/v1/photos/{photo}"),
                Value::Null,
            )
            .await;
        let faces = page["faces"].as_array().unwrap().clone();
        assert_eq!(
            faces.len(),
            consentcam_media::sample::GROUP_PHOTO_FACES,
            "every face of the group found"
        );
        let mut covered = None;
        for (face, (learner, _)) in faces.iter().zip(&s.learners) {
            let id = face["id"].as_i64().unwrap();
            let n = |k: &str| face[k].as_f64().unwrap();
            staff
                .must(
                    reqwest::Method::PUT,
                    &format!("/api/v1/photos/{photo}/faces/{id}"),
                    json!({ "state": "person", "person_id": learner }),
                )
                .await;
            if *learner == s.learners[1].0 {
                covered = Some(Box4 {
                    x: n("x"),
                    y: n("y"),
                    w: n("w"),
                    h: n("h"),
                });
            }
        }
        let page = staff
            .must(
                reqwest::Method::GET,
                &format!("/api/v1/photos/{photo}"),
                Value::Null,
            )
            .await;
        let tag = page["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["person_id"] == s.learners[1].0)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        for (step, body) in [
            (format!("tags/{tag}/covered"), json!({ "covered": true })),
            ("confirmation".into(), json!({ "confirmed": true })),
            ("caption".into(), json!({ "caption": "Workshop day" })),
        ] {
            let path = format!("/api/v1/photos/{photo}/{step}");
            staff.must(reqwest::Method::PUT, &path, body).await;
        }
        let approval = director
            .must(
                reqwest::Method::POST,
                &format!("/api/v1/photos/{photo}/approvals"),
                json!({ "channel": { "kind": "website" }, "approve": true, "note": "a good one" }),
            )
            .await;
        assert_eq!(approval["verdict"], "allowed", "{approval}");
        let published = director
            .must(
                reqwest::Method::POST,
                &format!("/api/v1/photos/{photo}/publish"),
                json!({ "channel": { "kind": "website" } }),
            )
            .await;
        (
            published["opaque_name"].as_str().unwrap().to_owned(),
            covered.expect("learner 1's face was tagged"),
        )
    }

    /// The delivery row of a publication, read from the records: state, last error and
    /// the media item.
    fn delivery(s: &Server, name: &str) -> (String, Option<String>, Option<u64>) {
        let conn = rusqlite::Connection::open(s.data.join("records.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.query_row(
            "SELECT d.state, d.last_error, d.remote_id FROM http_deliveries d \
             JOIN publications p ON p.id = d.publication_id WHERE p.opaque_name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    /// Waits up to two minutes for the delivery of `name` to satisfy `done`.
    fn wait_for(
        s: &Server,
        name: &str,
        what: &str,
        done: impl Fn(&(String, Option<String>, Option<u64>)) -> bool,
    ) -> (String, Option<String>, Option<u64>) {
        let started = Instant::now();
        loop {
            let now = delivery(s, name);
            if done(&now) {
                return now;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{what}: still {now:?}\n{}",
                std::fs::read_to_string(s.dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

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

    /// Each file WordPress keeps of a published photo: no name, serial or position in
    /// what exiftool reads or in its bytes, and the covered face black, wherever the size
    /// (scaled, or scaled and cropped to a square) puts it.
    fn judge(file: &Path, original: (u32, u32), covered: Box4) {
        let what = file.display();
        for tag in exiftool_tags(file) {
            let group = tag.split(':').next().unwrap();
            assert!(
                matches!(
                    group,
                    "SourceFile" | "ExifTool" | "System" | "File" | "JFIF" | "Composite"
                ) || tag == "IFD0:Orientation",
                "{what} still carries {tag}"
            );
        }
        let bytes = std::fs::read(file).unwrap();
        for needle in ["Isla", "Morgan", "Amira", "Hassan", SERIAL, "Canon"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} is in {what}"
            );
        }
        let picture = image::open(file).unwrap().to_rgb8();
        let (tw, th) = (f64::from(picture.width()), f64::from(picture.height()));
        let (w, h) = (f64::from(original.0), f64::from(original.1));
        // Scaled to cover the size, then cropped about the middle (a square thumbnail); a
        // size of the same shape is only scaled.
        let scale = (tw / w).max(th / h);
        let (ox, oy) = ((w * scale - tw) / 2.0, (h * scale - th) / 2.0);
        let margin = (covered.w * scale * 0.1).max(1.0);
        let (x0, x1) = (
            covered.x * scale - ox + margin,
            (covered.x + covered.w) * scale - ox - margin,
        );
        let (y0, y1) = (
            covered.y * scale - oy + margin,
            (covered.y + covered.h) * scale - oy - margin,
        );
        let mut seen = 0;
        for y in (y0.max(0.0).ceil() as u32)..(y1.min(th).floor() as u32) {
            for x in (x0.max(0.0).ceil() as u32)..(x1.min(tw).floor() as u32) {
                let p = picture.get_pixel(x, y).0;
                assert!(
                    p.iter().all(|&c| c <= 48),
                    "{what}: pixel {x},{y} of the covered face is {p:?}"
                );
                seen += 1;
            }
        }
        let in_frame = x1 > 0.0 && y1 > 0.0 && x0 < tw && y0 < th;
        assert!(
            !in_frame || seen > 0,
            "{what}: no pixel of the covered face looked at"
        );
        eprintln!(
            "{what}: {}x{}, {seen} pixels of the covered face black",
            tw, th
        );
    }

    // The guard of the shared WordPress is held on purpose: no other test of this binary
    // may stop it or change its media library meanwhile.
    #[allow(clippy::await_holding_lock)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_real_group_photo_reaches_wordpress_once_covered_and_nameless_and_leaves_it_with_consent()
     {
        let mut wp = wordpress::shared();
        let s = server(&wp);
        let admin = login(&s.base, "admin").await;
        let staff = login(&s.base, "staff").await;
        let director = login(&s.base, "director").await;

        // The connection check, as an admin runs it.
        let checked = consentcam(&s.config)
            .args(["deliver-test", "website"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&checked.stdout);
        assert!(
            checked.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&checked.stderr)
        );
        assert!(said.contains("may upload and delete media"), "{said}");

        // The camera out and back, its card sent by the kiosk and analysed by the server.
        camera_out_and_back(&s).await;
        let card = card(&s);
        let sent = consentcam(&s.config)
            .args([
                "import-card",
                "--device",
                &s.device.to_string(),
                "--server",
                &s.base,
            ])
            .arg("--token-file")
            .arg(&s.kiosk_token_file)
            .arg("--mount")
            .arg(&card)
            .output()
            .unwrap();
        assert!(
            sent.status.success(),
            "{}",
            String::from_utf8_lossy(&sent.stderr)
        );
        let started = Instant::now();
        let photos = loop {
            let list = staff
                .must(reqwest::Method::GET, "/api/v1/photos", Value::Null)
                .await;
            let mut ids: Vec<i64> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            ids.sort_unstable();
            let analysed = analysed(&staff, &ids).await;
            if analysed.len() == 2 {
                break analysed;
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "the card's photos were not analysed: {list}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        };

        // Published while WordPress is there.
        let (first, covered) = tag_cover_publish(&s, &staff, &director, photos[0]).await;
        let (_, error, media) = wait_for(&s, &first, "the first delivery", |d| d.0 == "delivered");
        assert_eq!(error, None);
        let media = media.expect("the media item is recorded");
        let item = wp.media(media).expect("the media item is in WordPress");
        assert_eq!(item["title"]["raw"], super::stem_of(&first));
        assert_eq!(item["alt_text"], "Workshop day");
        let files = wp.files_of_media(media);
        assert!(
            files.len() >= 4,
            "the upload and the sizes WordPress made: {files:?}"
        );
        let original = pictures::group_photo_upright(None, SCALE).dimensions();
        for file in &files {
            assert!(file.is_file(), "{}", file.display());
            judge(file, original, covered);
        }
        // The draft post holds it, for staff to finish.
        let posts = wp.get_json(&format!(
            "/wp-json/wp/v2/posts?status=draft&context=edit&slug={}",
            super::stem_of(&first)
        ));
        assert_eq!(posts[0]["featured_media"], media, "{posts}");
        assert_eq!(posts[0]["status"], "draft");
        let photo_page = staff.page(&format!("/photos/{}", photos[0])).await;
        assert!(
            photo_page.contains(&format!("media item {media}")),
            "{photo_page}"
        );

        // Published while WordPress is away: it waits, then goes once.
        wp.stop();
        let (second, _) = tag_cover_publish(&s, &staff, &director, photos[1]).await;
        let (_, error, _) = wait_for(&s, &second, "a failed try", |d| d.1.is_some());
        assert!(error.unwrap().contains("cannot reach the WordPress site"));
        wp.resume();
        let (_, _, media2) = wait_for(&s, &second, "the delivery once WordPress is back", |d| {
            d.0 == "delivered"
        });
        let titled: Vec<Value> = wp
            .media_list()
            .into_iter()
            .filter(|m| m["title"]["raw"] == super::stem_of(&second))
            .collect();
        assert_eq!(titled.len(), 1, "uploaded once: {titled:?}");
        assert_eq!(titled[0]["id"].as_u64(), media2);
        let files2 = wp.files_of_media(media2.unwrap());

        // Learner 0 (in both photos) withdraws their consent while WordPress is away: the
        // task cannot be marked done, and says why.
        wp.stop();
        let form = s.learners[0].1.unwrap();
        admin
            .must(
                reqwest::Method::POST,
                &format!("/api/v1/consents/{form}/withdraw"),
                json!({}),
            )
            .await;
        wait_for(&s, &first, "a failed removal", |d| {
            d.0 == "removing" && d.1.is_some()
        });
        let tasks = director
            .must(reqwest::Method::GET, "/api/v1/takedowns", Value::Null)
            .await;
        assert_eq!(tasks.as_array().unwrap().len(), 2, "{tasks}");
        let task = tasks[0]["id"].as_i64().unwrap();
        let (status, said) = director
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/takedowns/{task}/done"),
                json!({}),
            )
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::CONFLICT, "{said}");
        assert!(
            said["message"]
                .as_str()
                .unwrap()
                .contains("the website still has this photo"),
            "{said}"
        );
        let page = director.page("/takedowns").await;
        assert!(page.contains("the website still has it"), "{page}");

        // WordPress back: both items and every file of them go, and the tasks can close.
        wp.resume();
        for name in [&first, &second] {
            wait_for(&s, name, "the removal once WordPress is back", |d| {
                d.0 == "removed"
            });
        }
        assert!(wp.media(media).is_none() && wp.media(media2.unwrap()).is_none());
        let left = wp.all_uploaded_files();
        for file in files.iter().chain(&files2) {
            assert!(
                !file.exists() && !left.contains(file),
                "{} is still there",
                file.display()
            );
        }
        for task in tasks.as_array().unwrap() {
            let id = task["id"].as_i64().unwrap();
            director
                .must(
                    reqwest::Method::POST,
                    &format!("/api/v1/takedowns/{id}/done"),
                    json!({}),
                )
                .await;
        }
        assert!(
            director
                .must(reqwest::Method::GET, "/api/v1/takedowns", Value::Null)
                .await
                == json!([])
        );
    }

    /// Of `ids`, the photos whose face search is done.
    async fn analysed(staff: &Session, ids: &[i64]) -> Vec<i64> {
        let mut done = Vec::new();
        for id in ids {
            let page = staff
                .must(
                    reqwest::Method::GET,
                    &format!("/api/v1/photos/{id}"),
                    Value::Null,
                )
                .await;
            if page["photo"]["face_search"] == "done" {
                done.push(*id);
            }
        }
        done
    }
}

/// A file name without its extension.
fn stem_of(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}
