//! Tagging as staff do it, counted: a class photo in one submission, an import photo by
//! photo without going back to the gallery.

use consentcam::consent::FaceResolution;
use consentcam::domain::PhotoId;
use consentcam::store::{audit, faces, photos, registry};
use fantoccini::Locator;

use super::harness::{NOW, TODAY, spawn_demo, spawn_demo_with};
use super::{desktop, person_id};

/// 29 learners of the class, on the register through the consent CSV as a school's are.
fn class_register(conn: &mut rusqlite::Connection) {
    let mut csv = String::from(
        "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\n",
    );
    for n in 0..29 {
        csv.push_str(&format!(
            "C{n:03},Learner{n},Class{n},2010-03-{:02},learner,no,parent,Parent {n},2026-09-01,yes,,yes,yes,,\n",
            n % 28 + 1
        ));
    }
    let policy = consentcam::consent::ConsentPolicy::default();
    consentcam::ops::people::import_consents(
        conn,
        csv.as_bytes(),
        "test",
        NOW.parse().unwrap(),
        &consentcam::ops::people::AsOf {
            today: TODAY.parse().unwrap(),
            policy: &policy,
        },
    )
    .expect("the class's consent CSV");
}

fn tagging_entries(conn: &rusqlite::Connection, photo: PhotoId) -> usize {
    audit::list(
        conn,
        &audit::Filter {
            action_prefix: Some("photo.tagging".into()),
            subject: Some(format!("photo:{photo}")),
            ..Default::default()
        },
    )
    .expect("audit log")
    .len()
}

#[tokio::test]
async fn the_29_face_class_photo_is_tagged_in_one_submission() {
    let server = spawn_demo(class_register).await;
    // The class photo, as the demo's card import (face detection included) left it.
    let photo = consentcam::demo::demo_photo(&server.db(), "IMG_0006.JPG").expect("demo photo");
    let found = faces::faces(&server.db(), photo).expect("faces");
    assert_eq!(found.len(), 29, "the detector's 29 faces");
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    b.goto(&server.url(&format!("/photos/{}", photo.0))).await;
    let before = b.submissions();

    // Everyone named (by typing their ref), three covered, "everyone is tagged", one save.
    for (n, face) in found.iter().enumerate() {
        b.fill(&format!("#person-{}", face.id), &format!("C{n:03}"))
            .await;
        if n % 10 == 0 {
            b.set_checked(&format!("input[name='cover-{}']", face.id), true)
                .await;
        }
    }
    b.set_checked("#everyone", true).await;
    b.submit("#save").await;
    b.notice("saved").await;
    assert_eq!(b.submissions() - before, 1, "one page submission");

    let conn = server.db();
    let after = faces::faces(&conn, photo).expect("faces");
    for (n, face) in after.iter().enumerate() {
        let expected = person_id(&server, &format!("C{n:03}"));
        assert_eq!(
            face.resolution,
            FaceResolution::Person(consentcam::domain::PersonId(expected)),
            "face {}",
            n + 1
        );
    }
    let tags = faces::tags(&conn, photo).expect("tags");
    assert_eq!(tags.iter().filter(|t| t.covered).count(), 3);
    assert!(photos::photo(&conn, photo).expect("photo").people_confirmed);
    assert_ne!(
        photos::status(&conn, photo).expect("status"),
        photos::PhotoStatus::NeedsTagging
    );
    assert_eq!(tagging_entries(&conn, photo), 1, "one operation");
    b.close().await;
}

#[tokio::test]
async fn a_mistake_in_the_form_saves_nothing_and_is_named_next_to_its_face() {
    let server = spawn_demo(class_register).await;
    let photo = consentcam::demo::demo_photo(&server.db(), "IMG_0006.JPG").expect("demo photo");
    let found = faces::faces(&server.db(), photo).expect("faces");
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    b.goto(&server.url(&format!("/photos/{}", photo.0))).await;
    b.fill(&format!("#person-{}", found[0].id), "C000").await;
    b.fill(&format!("#person-{}", found[1].id), "C000").await;
    b.fill(&format!("#person-{}", found[2].id), "Nobody Atall")
        .await;
    b.submit("#save").await;
    b.wait("#tagging-problems").await;
    assert!(
        b.text("#face-2 .problem")
            .await
            .contains("same person as face 1")
    );
    assert!(
        b.text("#face-3 .problem")
            .await
            .contains("nobody on the register matches")
    );
    // What was typed is still there to correct.
    assert_eq!(
        b.value(&format!("#person-{}", found[2].id)).await,
        "Nobody Atall"
    );
    let conn = server.db();
    assert!(
        faces::faces(&conn, photo)
            .expect("faces")
            .iter()
            .all(|f| f.resolution == FaceResolution::Unresolved),
        "nothing saved"
    );
    assert_eq!(tagging_entries(&conn, photo), 0);
    b.close().await;
}

/// Signs Camera 1 out and back at the demo kiosk (through the kiosk's event path) and
/// imports a card of `n` pictures taken meanwhile, faces detected: a fresh import.
fn a_trip_of(n: usize) -> impl FnOnce(&mut rusqlite::Connection, &consentcam::config::Config) {
    move |conn, config| {
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let camera = registry::devices(conn)
            .unwrap()
            .into_iter()
            .find(|d| d.label == "Camera 1")
            .expect("Camera 1");
        let isla = consentcam::store::people::person_by_ref(conn, "S200")
            .unwrap()
            .expect("Isla");
        let kiosk = registry::kiosks(conn).unwrap()[0].id;
        let at = |hours_ago: i64| {
            now.checked_sub(jiff::SignedDuration::from_hours(hours_ago))
                .unwrap()
        };
        let event = |id: &str, seq: u64, at, kind| consentcam_wire::KioskEvent {
            event_id: id.into(),
            seq,
            at,
            reader: "office-1".into(),
            kind,
        };
        let batch = consentcam_wire::EventBatch {
            events: vec![
                event(
                    "trip-1",
                    10,
                    at(3),
                    consentcam_wire::KioskEventKind::SignedOut {
                        device_id: camera.id.0,
                        person_id: isla.id.0,
                        due_back: at(0),
                        booking_id: None,
                    },
                ),
                event(
                    "trip-2",
                    11,
                    at(1),
                    consentcam_wire::KioskEventKind::Returned {
                        device_id: camera.id.0,
                        person_id: isla.id.0,
                    },
                ),
            ],
            sent_at: Some(now),
        };
        let receipt =
            consentcam::ops::custody::record_batch(conn, kiosk, &batch, now).expect("events");
        assert_eq!(receipt.recorded.len(), 2, "{receipt:?}");
        let imported = consentcam::demo::card::insert_camera_card_of(config, now, n)
            .expect("the card imports");
        assert_eq!(imported.stored, n, "{imported:?}");
    }
}

#[tokio::test]
async fn an_import_of_20_photos_takes_20_submissions_and_no_visit_to_the_gallery() {
    let server = spawn_demo_with(a_trip_of(20)).await;
    let session = {
        let conn = server.db();
        let camera = registry::devices(&conn)
            .unwrap()
            .into_iter()
            .find(|d| d.label == "Camera 1")
            .expect("Camera 1");
        consentcam::store::custody::sessions_of_device(&conn, camera.id).unwrap()[0].id
    };
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    b.goto(&server.url(&format!("/imports/{session}"))).await;
    assert_eq!(b.text("#left-to-tag strong").await, "20");
    b.submit("#start-tagging").await;

    let before = b.submissions();
    let mut seen = Vec::new();
    for _ in 0..20 {
        let url = b.client.current_url().await.expect("url").to_string();
        let id: i64 = url
            .rsplit("/photos/")
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a photo page, not {url}"));
        assert!(!seen.contains(&id), "photo {id} opened twice");
        seen.push(id);
        let fields = b
            .client
            .find_all(Locator::Css("ol.faces li input[list]"))
            .await
            .expect("face fields");
        for (n, field) in fields.iter().enumerate() {
            field
                .send_keys(["L100", "L101", "L102", "L103", "L104"][n % 5])
                .await
                .expect("type");
        }
        b.set_checked("#everyone", true).await;
        b.submit("#save-next").await;
    }
    assert_eq!(b.submissions() - before, 20, "one submission per photo");
    let url = b.client.current_url().await.expect("url").to_string();
    assert!(url.ends_with(&format!("/imports/{session}")), "{url}");
    b.notice("Every photo of this import is tagged").await;
    let conn = server.db();
    for id in &seen {
        assert_ne!(
            photos::status(&conn, PhotoId(*id)).expect("status"),
            photos::PhotoStatus::NeedsTagging,
            "photo {id}"
        );
    }
    b.close().await;
}
