use std::path::Path;
use std::process::Command;

use consentcam::domain::{AccountRole, PhotoId};
use consentcam::store::{faces, photos};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{NOW, TestApp, expect, learner, parent_form, spawn_app};

/// A small JPEG from a camera, carrying names in EXIF, XMP and IPTC (planted by exiftool).
fn camera_jpeg(dir: &Path) -> Vec<u8> {
    let path = dir.join("IMG_0001.JPG");
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    img.save(&path).unwrap();
    let status = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Artist=Robin Okafor",
            "-XMP-dc:Subject=Robin Okafor",
            "-XMP-iptcExt:PersonInImage=Robin Okafor",
            "-IPTC:Keywords=Okafor",
            "-Comment=Robin at Hillside",
            "-GPSLatitude=51.5",
            "-GPSLatitudeRef=N",
            "-SerialNumber=012345678901",
        ])
        .arg(&path)
        .status()
        .expect("exiftool is installed");
    assert!(status.success());
    std::fs::read(&path).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Stores the original as the import would and catalogues it, tagged and confirmed.
pub(crate) fn stored_photo(app: &TestApp, person: i64) -> i64 {
    let bytes = camera_jpeg(app.db_path.parent().unwrap());
    let hash = sha256_hex(&bytes);
    let data_dir = app.db_path.parent().unwrap();
    let original = data_dir.join(consentcam::infra::archive::Archive::original_key(&hash));
    std::fs::create_dir_all(original.parent().unwrap()).unwrap();
    std::fs::write(&original, &bytes).unwrap();
    let conn = app.db();
    let now = NOW.parse().unwrap();
    let id = photos::insert_photo(
        &conn,
        &photos::NewPhoto {
            content_hash: hash,
            byte_size: bytes.len() as u64,
            format: consentcam::domain::Format::Jpeg,
            original_name: "IMG_0001.JPG".into(),
            provenance: consentcam::rules::consent::Provenance::Verified,
            width: Some(64),
            height: Some(48),
            orientation: Some(1),
            face_search: consentcam::rules::consent::FaceSearch::Done,
            ..Default::default()
        },
        now,
    )
    .unwrap();
    faces::add_tag(&conn, id, Some(consentcam::domain::PersonId(person)), now).unwrap();
    photos::set_people_confirmed(&conn, PhotoId(id.0), true).unwrap();
    id.0
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn publishing_takes_the_decision_again_and_delivers_a_file_without_names() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let id = stored_photo(&app, robin);
    let director = app.login(AccountRole::Director).await;
    let website = json!({ "channel": { "kind": "website" } });

    // Not approved yet: refused, nothing delivered.
    let refused = expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), website.clone())
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("not approved"),
        "{refused}"
    );
    let outbox = app.db_path.parent().unwrap().join("outbox").join("website");
    assert!(files_in(&outbox).is_empty());

    let approve = json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" });
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/approvals"), approve)
            .await,
        StatusCode::OK,
    )
    .await;
    let published = expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), website.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let name = published["opaque_name"].as_str().unwrap().to_owned();
    assert_eq!(files_in(&outbox), [name.clone(), format!("{name}.json")]);
    assert!(!name.to_lowercase().contains("robin") && !name.contains("IMG"));

    // The independent judge: exiftool finds none of the planted metadata.
    let out = Command::new("exiftool")
        .args(["-a", "-G1", "-u", "-j"])
        .arg(outbox.join(&name))
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    for planted in ["Robin", "Okafor", "Hillside", "012345678901", "GPS"] {
        assert!(!seen.contains(planted), "{planted} survived: {seen}");
    }
    let manifest = std::fs::read_to_string(outbox.join(format!("{name}.json"))).unwrap();
    assert!(
        !manifest.contains("Robin") && !manifest.contains("Okafor"),
        "{manifest}"
    );

    // The consent is withdrawn: at the last moment the decision changes.
    let form = expect(
        admin.get(&format!("/api/v1/people/{robin}/consents")).await,
        StatusCode::OK,
    )
    .await[0]["id"]
        .as_i64()
        .unwrap();
    let withdrawal = expect(
        admin
            .post(&format!("/api/v1/consents/{form}/withdraw"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawal["takedown_tasks"], 1);
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), website)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(files_in(&outbox).len(), 2, "nothing more was delivered");
}

#[tokio::test]
async fn a_covered_face_is_painted_out_and_no_longer_needs_consent() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    let id = stored_photo(&app, robin);
    let conn = app.db();
    let rect = faces::FaceRect {
        x: 8,
        y: 8,
        w: 16,
        h: 16,
    };
    let face = faces::insert_face(&conn, PhotoId(id), rect, faces::FaceSource::Detected).unwrap();
    faces::resolve_face(
        &conn,
        PhotoId(id),
        face,
        consentcam::rules::consent::FaceResolution::Person(consentcam::domain::PersonId(robin)),
        NOW.parse().unwrap(),
    )
    .unwrap();
    let tag = faces::tags(&conn, PhotoId(id)).unwrap()[0].id;
    let staff = app.login(AccountRole::Staff).await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/tags/{tag}/covered"),
                json!({ "covered": true }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let director = app.login(AccountRole::Director).await;
    let internal = json!({ "channel": { "kind": "internal" } });
    let published = expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), internal)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let path = app
        .db_path
        .parent()
        .unwrap()
        .join("outbox")
        .join("internal")
        .join(published["opaque_name"].as_str().unwrap());
    let img = image::open(&path).unwrap().to_rgb8();
    // Inside the cover: solid black (allowing for JPEG noise); outside: the picture.
    let inside = img.get_pixel(16, 16);
    assert!(inside.0.iter().all(|&c| c < 24), "{inside:?}");
    let outside = img.get_pixel(50, 40);
    assert!(outside.0[2] > 60, "{outside:?}");
}

#[tokio::test]
async fn a_photo_whose_original_is_missing_is_refused_with_a_reason_not_a_500() {
    let app = spawn_app().await;
    let conn = app.db();
    let id = photos::insert_photo(
        &conn,
        &photos::NewPhoto {
            content_hash: "ab".repeat(32),
            format: consentcam::domain::Format::Jpeg,
            provenance: consentcam::rules::consent::Provenance::Verified,
            face_search: consentcam::rules::consent::FaceSearch::Done,
            ..Default::default()
        },
        NOW.parse().unwrap(),
    )
    .unwrap();
    photos::set_people_confirmed(&conn, id, true).unwrap();
    let director = app.login(AccountRole::Director).await;
    let body = expect(
        director
            .post(
                &format!("/api/v1/photos/{}/publish", id.0),
                json!({ "channel": { "kind": "internal" } }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not in the photo store"),
        "{body}"
    );
}

/// Robin (website consent from a parent) in a stored photo, approved for the website and
/// published there by a director: the photo, the director and the published file name.
async fn robin_on_the_website(app: &TestApp) -> (i64, crate::helpers::User, String) {
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let id = stored_photo(app, robin);
    let director = app.login(AccountRole::Director).await;
    let approve = json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" });
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/approvals"), approve)
            .await,
        StatusCode::OK,
    )
    .await;
    let published = expect(
        director
            .post(
                &format!("/api/v1/photos/{id}/publish"),
                json!({ "channel": { "kind": "website" } }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let name = published["opaque_name"].as_str().unwrap().to_owned();
    (id, director, name)
}

/// What a web endpoint received.
#[derive(Clone, Debug)]
struct Received {
    /// `POST /in`, or `DELETE /in/<file>`.
    request: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    body: serde_json::Value,
}

/// A web endpoint on loopback that takes every POST and keeps it.
async fn endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    use axum::http::HeaderMap;
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = received.clone();
    let removals = received.clone();
    let app = axum::Router::new()
        .route(
            "/in",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let store = store.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    store.lock().unwrap().push(Received {
                        request: "POST /in".into(),
                        authorization: header("authorization"),
                        idempotency_key: header("idempotency-key"),
                        body: serde_json::from_slice(&body).unwrap_or_default(),
                    });
                    StatusCode::CREATED
                }
            }),
        )
        .route(
            "/in/{file}",
            axum::routing::delete(
                move |headers: HeaderMap,
                      axum::extract::Path(file): axum::extract::Path<String>| {
                    let store = removals.clone();
                    async move {
                        store.lock().unwrap().push(Received {
                            request: format!("DELETE /in/{file}"),
                            authorization: headers
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                            idempotency_key: None,
                            body: serde_json::Value::Null,
                        });
                        StatusCode::NO_CONTENT
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/in", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn a_channel_with_a_web_endpoint_gets_each_publication_posted_with_its_token_and_no_names() {
    let (url, received) = endpoint().await;
    let secrets = tempfile::tempdir().unwrap();
    let token_file = secrets.path().join("website.token");
    std::fs::write(&token_file, "cms-secret\n").unwrap();
    let app = crate::helpers::spawn_with(|c| {
        c.deliver.insert(
            "website".into(),
            consentcam::infra::config::Endpoint {
                url,
                token_file: Some(token_file),
                ..Default::default()
            },
        );
    })
    .await;
    let (id, director, name) = robin_on_the_website(&app).await;

    // The publish wakes the delivery task: the endpoint has it within moments.
    let start = std::time::Instant::now();
    while received.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "never delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap()[0].clone();
    assert_eq!(got.authorization.as_deref(), Some("Bearer cms-secret"));
    assert_eq!(got.idempotency_key.as_deref(), Some(name.as_str()));
    assert_eq!(got.body["file"], name);
    assert_eq!(got.body["channel"], "website");
    use base64::Engine;
    let image = base64::engine::general_purpose::STANDARD
        .decode(got.body["image_base64"].as_str().unwrap())
        .unwrap();
    let outbox_file = app
        .db_path
        .parent()
        .unwrap()
        .join("outbox")
        .join("website")
        .join(&name);
    assert_eq!(image, std::fs::read(outbox_file).unwrap());
    let text = got.body.to_string();
    assert!(
        !text.contains("Okafor") && !text.contains("Robin"),
        "{text}"
    );

    // The photo's record says where it went.
    let start = std::time::Instant::now();
    loop {
        let photo = expect(
            director.get(&format!("/api/v1/photos/{id}")).await,
            StatusCode::OK,
        )
        .await;
        if photo["publications"][0]["delivery"] == "delivered" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{photo}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(received.lock().unwrap().len(), 1, "delivered once");

    // Robin's consent is withdrawn; marking the takedown done removes the outbox copy and
    // asks the endpoint to remove its copy, with the same token.
    let admin = app.login(AccountRole::Admin).await;
    let robin = expect(
        admin
            .post("/api/v1/people/search", json!({ "q": "Robin" }))
            .await,
        StatusCode::OK,
    )
    .await[0]["id"]
        .as_i64()
        .unwrap();
    let form = expect(
        admin.get(&format!("/api/v1/people/{robin}/consents")).await,
        StatusCode::OK,
    )
    .await[0]["id"]
        .as_i64()
        .unwrap();
    expect(
        admin
            .post(&format!("/api/v1/consents/{form}/withdraw"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let task = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await[0]["id"]
        .as_i64()
        .unwrap();
    let done = expect(
        director
            .post(&format!("/api/v1/takedowns/{task}/done"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        done,
        json!({ "outbox_removed": true, "endpoint_asked": true })
    );
    let outbox = app.db_path.parent().unwrap().join("outbox").join("website");
    assert_eq!(
        files_in(&outbox),
        Vec::<String>::new(),
        "the outbox copy is gone"
    );
    let start = std::time::Instant::now();
    while received.lock().unwrap().len() < 2 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the endpoint was never asked to remove its copy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let removal = received.lock().unwrap()[1].clone();
    assert_eq!(removal.request, format!("DELETE /in/{name}"));
    assert_eq!(removal.authorization.as_deref(), Some("Bearer cms-secret"));
    let start = std::time::Instant::now();
    loop {
        let photo = expect(
            director.get(&format!("/api/v1/photos/{id}")).await,
            StatusCode::OK,
        )
        .await;
        if photo["publications"][0]["delivery"] == "removed" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{photo}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_director_publishes_from_the_photo_page_and_a_refusal_shows_its_reason() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let id = stored_photo(&app, robin);
    let director = app.login(AccountRole::Director).await;
    let page = format!("/photos/{id}");
    // Internal needs no approval: the page offers it at once; the website not yet.
    let html = director.get(&page).await.text().await.unwrap();
    assert!(html.contains("id=\"publish-internal\""), "{html}");
    assert!(!html.contains("id=\"publish-website\""));

    let approve = director
        .form(
            &format!("{page}/approvals"),
            &[
                ("channel", "website"),
                ("decision", "approve"),
                ("note", ""),
            ],
        )
        .await;
    assert!(approve.contains("id=\"publish-website\""), "{approve}");
    let published = director
        .form(&format!("{page}/publish"), &[("channel", "website")])
        .await;
    assert!(published.contains("Published:"), "{published}");
    let outbox = app.db_path.parent().unwrap().join("outbox").join("website");
    assert_eq!(files_in(&outbox).len(), 2, "the photo and its manifest");

    // Social media was not consented to: refused with the reason, nothing written.
    let refused = director
        .form(&format!("{page}/publish"), &[("channel", "social")])
        .await;
    assert!(refused.contains("may not go to"), "{refused}");
    assert!(files_in(&app.db_path.parent().unwrap().join("outbox").join("social")).is_empty());

    // Staff cannot publish.
    let staff = app.login(AccountRole::Staff).await;
    let response = staff
        .client
        .post(app.url(&format!("{page}/publish")))
        .form(&[("_csrf", staff.csrf.as_str()), ("channel", "internal")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn marking_a_learner_vulnerable_after_publication_makes_a_takedown_task_at_once() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let id = stored_photo(&app, robin);
    let director = app.login(AccountRole::Director).await;
    let approve = json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" });
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/approvals"), approve)
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        director
            .post(
                &format!("/api/v1/photos/{id}/publish"),
                json!({ "channel": { "kind": "website" } }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await,
        json!([])
    );

    expect(
        admin
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/people/{robin}"),
                Some(json!({ "ref": "L1", "given_name": "Robin", "family_name": "Okafor",
                             "date_of_birth": "2011-04-01", "role": "learner", "vulnerable": true })),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let tasks = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks[0]["takedown_reason"], "vulnerable");
    let audit = expect(
        admin
            .get("/api/v1/audit?action=publication.takedown_due")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit[0]["details"]["reasons"], json!(["vulnerable"]));
}

#[tokio::test]
async fn a_restricted_person_is_used_nowhere_taken_down_and_not_offered_until_lifted() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    learner(&admin, "L2", "Sam", "Ng", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let id = stored_photo(&app, robin);
    let director = app.login(AccountRole::Director).await;
    let internal = json!({ "channel": { "kind": "internal" } });
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), internal.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let options = |html: &str| {
        html.split("<datalist id=\"people-list\"")
            .nth(1)
            .unwrap()
            .split("</datalist>")
            .next()
            .unwrap()
            .to_owned()
    };
    let staff = app.login(AccountRole::Staff).await;
    let page = staff
        .get(&format!("/photos/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(options(&page).contains("L1"), "{page}");

    // Staff may not restrict; an admin does, and the publication becomes a task at once.
    expect(
        staff
            .post(
                &format!("/api/v1/people/{robin}/restriction"),
                json!({ "restricted": true }),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let restricted = expect(
        admin
            .post(
                &format!("/api/v1/people/{robin}/restriction"),
                json!({ "restricted": true }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(restricted["takedown_tasks"], 1);
    let tasks = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    assert_eq!(tasks[0]["takedown_reason"], "restricted");
    let decisions = expect(
        director
            .get(&format!("/api/v1/photos/{id}/decisions"))
            .await,
        StatusCode::OK,
    )
    .await;
    for d in decisions.as_array().unwrap() {
        assert_eq!(d["verdict"], "blocked", "{d}");
        assert!(d["reasons"].to_string().contains("\"restricted\""), "{d}");
    }
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), internal.clone())
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let page = staff
        .get(&format!("/photos/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!options(&page).contains("L1"), "not offered: {page}");
    assert!(options(&page).contains("L2"), "{page}");
    // Twice is a conflict; the person page says so.
    expect(
        admin
            .post(
                &format!("/api/v1/people/{robin}/restriction"),
                json!({ "restricted": true }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let person = admin
        .get(&format!("/people/{robin}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(person.contains("id=\"restricted\""), "{person}");

    // Lifted from the page: usable again.
    let lifted = admin
        .form(
            &format!("/people/{robin}/restriction"),
            &[("restricted", "no")],
        )
        .await;
    assert!(lifted.contains("Restriction lifted"), "{lifted}");
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/publish"), internal)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let audit = expect(
        admin.get("/api/v1/audit?action=person.restr").await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["person.restriction_lifted", "person.restrict"]);
}

/// The Publishing page lists the trust's endpoints without their secrets and checks a
/// connection, saying why it fails; staff cannot reach it, an admin of one site is not
/// shown it, and the check needs the page's CSRF token.
#[tokio::test]
async fn the_publishing_page_checks_the_website_connection_for_an_admin_of_every_site_only() {
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("wordpress");
    std::fs::write(&password_file, "abcd efgh ijkl mnop qrst uvwx\n").unwrap();
    // A WordPress address where nothing answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = crate::helpers::spawn_with(|c| {
        c.deliver.insert(
            "website".into(),
            consentcam::infra::config::Endpoint {
                kind: consentcam::domain::EndpointKind::Wordpress,
                url: url.clone(),
                user: Some("consentcam".into()),
                password_file: Some(password_file.clone()),
                ..Default::default()
            },
        );
    })
    .await;
    let admin = app.login(AccountRole::Admin).await;
    let home = admin.get("/").await.text().await.unwrap();
    assert!(home.contains("href=\"/admin/publishing\""), "{home}");
    let page = admin.get("/admin/publishing").await.text().await.unwrap();
    assert!(page.contains(&url) && page.contains("consentcam"), "{page}");
    assert!(!page.contains("abcd efgh"), "the password is never shown");
    let checked = admin
        .form("/admin/publishing/check", &[("channel", "website")])
        .await;
    assert!(
        checked.contains("cannot reach the WordPress site"),
        "{checked}"
    );
    let unknown = admin
        .form("/admin/publishing/check", &[("channel", "social")])
        .await;
    assert!(
        unknown.contains("no [deliver.social] in the config"),
        "{unknown}"
    );
    // Without the form's CSRF token, nothing is checked.
    let forged = admin
        .client
        .post(app.url("/admin/publishing/check"))
        .form(&[("channel", "website")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let staff = app.login(AccountRole::Staff).await;
    assert_eq!(
        staff.get("/admin/publishing").await.status(),
        StatusCode::FORBIDDEN
    );
    // An admin of one site: not there.
    {
        use consentcam::store::sites::{self, Kind};
        let mut conn = app.db();
        let now = NOW.parse().unwrap();
        let north = consentcam::ops::sites::add_site(&mut conn, "North", "test", now).unwrap();
        let account = consentcam::store::registry::account_by_username(&conn, "admin")
            .unwrap()
            .unwrap();
        assert!(sites::assign(&conn, Kind::Account, account.id.0, Some(north)).unwrap());
    }
    assert_eq!(
        admin.get("/admin/publishing").await.status(),
        StatusCode::NOT_FOUND
    );
    let refused = admin
        .client
        .post(app.url("/admin/publishing/check"))
        .form(&[("_csrf", admin.csrf.as_str()), ("channel", "website")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let home = admin.get("/").await.text().await.unwrap();
    assert!(!home.contains("href=\"/admin/publishing\""));
}
