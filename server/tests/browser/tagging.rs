//! Tagging as staff do it, counted: a class photo in one submission, an import photo by
//! photo without going back to the gallery.

use consentcam::domain::PhotoId;
use consentcam::rules::consent::FaceResolution;
use consentcam::store::{audit, faces, photos, registry};
use fantoccini::Locator;

use super::harness::{Browser, NOW, TODAY, spawn_demo, spawn_demo_with};
use super::{desktop, person_id};

/// Rows of the consent CSV (each a line without the header) imported as a school's are.
fn import_register(conn: &mut rusqlite::Connection, rows: impl Iterator<Item = String>) {
    let mut csv = String::from(
        "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\n",
    );
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    let policy = consentcam::rules::consent::ConsentPolicy::default();
    consentcam::ops::consent_csv::import_consents(
        conn,
        csv.as_bytes(),
        "test",
        None,
        NOW.parse().unwrap(),
        &consentcam::ops::people::AsOf {
            today: TODAY.parse().unwrap(),
            policy: &policy,
        },
    )
    .expect("the register's consent CSV");
}

/// 29 learners of the class, on the register through the consent CSV.
fn class_register(conn: &mut rusqlite::Connection) {
    import_register(
        conn,
        (0..29).map(|n| {
            format!(
                "C{n:03},Learner{n},Class{n},2010-03-{:02},learner,no,parent,Parent {n},2026-09-01,yes,,yes,yes,,",
                n % 28 + 1
            )
        }),
    );
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
    faces_are_numbered_in_reading_order_each_beside_its_crop(&b, found.len()).await;
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

/// Reads the photo page as staff see it: the numbers on the picture's boxes run in
/// reading order (rows top to bottom, each left to right), and every face's row shows a
/// crop of the picture around that same face.
async fn faces_are_numbered_in_reading_order_each_beside_its_crop(b: &Browser, count: usize) {
    let page = b
        .script(
            "const boxes = [...document.querySelectorAll('#preview rect.face')].map(r => \
               ['x','y','width','height'].map(a => Number(r.getAttribute(a)))); \
             const numbers = [...document.querySelectorAll('#preview text.face-n')] \
               .map(t => Number(t.textContent)); \
             const crops = [...document.querySelectorAll('ol.faces li')].map(li => { \
               const svg = li.querySelector('svg.face-crop'); \
               return { id: li.id, view: svg ? svg.getAttribute('viewBox').split(' ').map(Number) : null, \
                        shown: svg ? svg.getBoundingClientRect().width : 0 }; }); \
             return { boxes, numbers, crops };",
        )
        .await;
    let boxes: Vec<[f64; 4]> = serde_json::from_value(page["boxes"].clone()).expect("boxes");
    let numbers: Vec<usize> = serde_json::from_value(page["numbers"].clone()).expect("numbers");
    assert_eq!(boxes.len(), count);
    assert_eq!(
        numbers,
        (1..=count).collect::<Vec<_>>(),
        "numbered 1 to {count}"
    );
    // Reading order: read in number order, going left again starts a row, and each row
    // lies lower on the picture than the one before it; a photo of three or four rows
    // of people reads as a few rows, not a zigzag.
    let centre = |b: &[f64; 4]| (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0);
    let mut rows: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for face in &boxes {
        let c = centre(face);
        let last = rows.last_mut().expect("a row");
        if last.last().is_some_and(|p| c.0 < p.0) {
            rows.push(vec![c]);
        } else {
            last.push(c);
        }
    }
    let mean_y = |row: &[(f64, f64)]| row.iter().map(|c| c.1).sum::<f64>() / row.len() as f64;
    for pair in rows.windows(2) {
        assert!(
            mean_y(&pair[1]) > mean_y(&pair[0]),
            "a row read later lies higher: {rows:?}"
        );
    }
    assert!(rows.len() <= 6, "{} rows: not in reading order", rows.len());
    // Each row's crop holds its own face, and is shown.
    for (n, face) in boxes.iter().enumerate() {
        let crop = &page["crops"][n];
        assert_eq!(crop["id"], format!("face-{}", n + 1));
        let view: [f64; 4] = serde_json::from_value(crop["view"].clone()).expect("a crop");
        assert!(
            view[0] <= face[0]
                && view[1] <= face[1]
                && view[0] + view[2] >= face[0] + face[2]
                && view[1] + view[3] >= face[1] + face[3]
                && view[2] <= face[2].max(face[3]) * 2.0,
            "face {}: crop {view:?} does not frame its box {face:?}",
            n + 1
        );
        assert!(
            crop["shown"].as_f64().expect("width") >= 40.0,
            "face {} crop too small",
            n + 1
        );
    }
    // What the crops show is the picture there (a face has light and dark), and two
    // faces' crops are not the same picture.
    let luma = |p: &[u8]| -> Vec<f64> {
        p.chunks_exact(3)
            .map(|c| 0.3 * f64::from(c[0]) + 0.59 * f64::from(c[1]) + 0.11 * f64::from(c[2]))
            .collect()
    };
    let spread = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    // The picture loads after the page: look again for a moment if it is not there yet.
    let mut first = Vec::new();
    for _ in 0..20 {
        first = luma(&b.pixels_of("#face-1 svg.face-crop").await.2);
        if spread(&first) > 15.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let last = luma(&b.pixels_of(&format!("#face-{count} svg.face-crop")).await.2);
    assert!(
        spread(&first) > 15.0,
        "face 1's crop is flat: {}",
        spread(&first)
    );
    let apart = first
        .iter()
        .zip(&last)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / first.len().min(last.len()) as f64;
    assert!(
        apart > 8.0,
        "the first and last crops show the same: {apart}"
    );
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
fn a_trip_of(
    n: usize,
) -> impl FnOnce(&mut rusqlite::Connection, &consentcam::infra::config::Config) {
    a_trip(n, false)
}

/// [`a_trip_of`]; `booked`: the sign-out is for a booking of the demo's class.
fn a_trip(
    n: usize,
    booked: bool,
) -> impl FnOnce(&mut rusqlite::Connection, &consentcam::infra::config::Config) {
    move |conn, config| {
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let camera = registry::devices(conn)
            .unwrap()
            .into_iter()
            .find(|d| d.label == "Camera 1")
            .expect("Camera 1");
        // Isla holds the demo's class booking of the iPad today: a booked trip is Jack's,
        // once an admin has let him sign devices out.
        let holder_ref = if booked { "S201" } else { "S200" };
        let holder = consentcam::store::people::person_by_ref(conn, holder_ref)
            .unwrap()
            .expect("the holder");
        if booked {
            use consentcam::domain::{ExternalRef, Name};
            let policy = consentcam::rules::consent::ConsentPolicy::default();
            consentcam::ops::people::update_person(
                conn,
                holder.id,
                &consentcam::store::people::NewPerson {
                    ext_ref: ExternalRef::parse(&holder.ext_ref).unwrap(),
                    given_name: Name::parse(&holder.given_name).unwrap(),
                    family_name: Name::parse(&holder.family_name).unwrap(),
                    date_of_birth: holder.date_of_birth,
                    role: holder.role,
                    vulnerable: holder.vulnerable,
                    may_sign_out: true,
                },
                "",
                "account:3",
                now,
                &consentcam::ops::people::AsOf {
                    today: TODAY.parse().unwrap(),
                    policy: &policy,
                },
            )
            .expect("Jack may sign out");
        }
        let kiosk = registry::kiosks(conn).unwrap()[0].id;
        let at = |hours_ago: i64| {
            now.checked_sub(jiff::SignedDuration::from_hours(hours_ago))
                .unwrap()
        };
        let booking_id = booked.then(|| {
            let class = consentcam::store::groups::groups(conn, false).unwrap()[0].id;
            let staff = registry::account_by_username(conn, "staff")
                .unwrap()
                .expect("staff");
            consentcam::ops::groups::book(
                conn,
                &consentcam::store::groups::NewBooking {
                    group_id: class,
                    holder: holder.id,
                    device: Some(camera.id),
                    starts_at: at(4),
                    ends_at: at(-1),
                },
                staff.id,
                now,
            )
            .expect("booking")
            .id
            .0
        });
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
                        person_id: holder.id.0,
                        due_back: at(0),
                        booking_id,
                    },
                ),
                event(
                    "trip-2",
                    11,
                    at(1),
                    consentcam_wire::KioskEventKind::Returned {
                        device_id: camera.id.0,
                        person_id: holder.id.0,
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

/// The sign-out [`a_trip`] made: Camera 1's latest.
fn the_trip(server: &super::harness::Server) -> i64 {
    let conn = server.db();
    let camera = registry::devices(&conn)
        .unwrap()
        .into_iter()
        .find(|d| d.label == "Camera 1")
        .expect("Camera 1");
    consentcam::store::custody::sessions_of_device(&conn, camera.id).unwrap()[0].id
}

#[tokio::test]
async fn an_import_of_20_photos_takes_20_submissions_and_no_visit_to_the_gallery() {
    let server = spawn_demo_with(a_trip_of(20)).await;
    let session = the_trip(&server);
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

#[tokio::test]
async fn an_import_is_cleared_at_once_cautions_applied_small_faces_dismissed_empty_photos_confirmed()
 {
    let server = super::harness::spawn_demo_configured(
        // Every face of these crops counts as too small, so the bulk action has work.
        |config| config.recognisable_face_px = 400,
        a_trip(6, true),
    )
    .await;
    let session = the_trip(&server);
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    let gallery = server.url(&format!("/imports/{session}"));
    b.goto(&gallery).await;
    // The class's cautions are on the import's page: Ben may not appear in public.
    let cautions = b.text("#cautions").await;
    assert!(cautions.contains("Ben Carter"), "{cautions}");

    // Ben is in the first photo: named there, then covered from the import's page.
    b.submit("#start-tagging").await;
    let first = b
        .client
        .find_all(Locator::Css("ol.faces li input[list]"))
        .await
        .expect("face fields");
    first[0].send_keys("L101").await.expect("type");
    b.submit("#save").await;
    b.notice("saved").await;
    b.goto(&gallery).await;
    b.submit("#cover-cautioned").await;
    b.notice("covered").await;
    let ben = person_id(&server, "L101");
    let conn = server.db();
    let photo_of_ben =
        consentcam::store::photos::photos_of_person(&conn, consentcam::domain::PersonId(ben))
            .expect("photos")
            .into_iter()
            .find(|p| p.custody_session_id == Some(session))
            .expect("Ben's photo");
    assert!(
        faces::tags(&conn, photo_of_ben.id)
            .expect("tags")
            .iter()
            .any(|t| t.person_id == Some(consentcam::domain::PersonId(ben)) && t.covered)
    );

    // Every other face of the import is under 400 pixels: dismissed in one go.
    b.submit("#small-faces button").await;
    b.notice("too small to recognise").await;
    let left: usize = photos::left_to_tag(&conn, Some(session)).expect("left");
    assert_eq!(left, 6, "nobody confirmed yet");

    // The contact sheet: the five photos without Ben, confirmed after one look.
    b.submit("#without-people a").await;
    let shown = b
        .client
        .find_all(Locator::Css("#contact-sheet li"))
        .await
        .expect("sheet")
        .len();
    assert_eq!(shown, 5);
    b.submit("#confirm-sheet button").await;
    b.notice("5 photos with nobody in them confirmed").await;
    assert_eq!(
        photos::left_to_tag(&conn, Some(session)).expect("left"),
        1,
        "only Ben's photo still needs its 'everyone is tagged'"
    );
    b.close().await;
}

/// 2,000 learners on the register (every fiftieth vulnerable), through the consent CSV.
fn big_register(conn: &mut rusqlite::Connection) {
    import_register(
        conn,
        (0..2000).map(|n| {
            format!(
                "P{n:04},Given{n},Family{n},2009-07-{:02},learner,{},parent,Parent {n},2026-09-01,yes,,yes,yes,,",
                n % 28 + 1,
                if n % 50 == 0 { "yes" } else { "no" }
            )
        }),
    );
}

#[tokio::test]
async fn the_people_picker_finds_anyone_of_2000_by_name_or_ref_and_shows_no_birth_date() {
    let server = spawn_demo(big_register).await;
    let photo = consentcam::demo::demo_photo(&server.db(), "IMG_0004.JPG").expect("demo photo");
    let found = faces::faces(&server.db(), photo).expect("faces");
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    b.goto(&server.url(&format!("/photos/{}", photo.0))).await;

    // The page lists the photo's group, not 2,000 people, and no birth date or flag.
    let html = b.client.source().await.expect("page source");
    let listed = html.matches("<option value=").count();
    assert!(listed < 50, "{listed} people listed in the page");
    assert!(!html.contains("2009-07-"), "a date of birth is in the page");
    assert!(!html.to_lowercase().contains("vulnerable"));
    b.wait("#picker-hint").await;

    // Typing a family name offers the match from the whole register (the script asks).
    let field = format!("#person-{}", found[0].id);
    b.fill(&field, "Family1234").await;
    b.wait("#people-list[data-for='Family1234'] option[value^='P1234']")
        .await;
    let offered = b
        .client
        .find_all(Locator::Css("#people-list option"))
        .await
        .expect("options");
    assert_eq!(offered.len(), 1);
    // A given name and a ref typed in lower case find people too; saving resolves them.
    b.fill(&field, "Given1234").await;
    b.fill(&format!("#person-{}", found[1].id), "p0777").await;
    b.submit("#save").await;
    b.notice("saved").await;
    let conn = server.db();
    let after = faces::faces(&conn, photo).expect("faces");
    let id_of = |r: &str| consentcam::domain::PersonId(person_id(&server, r));
    assert_eq!(after[0].resolution, FaceResolution::Person(id_of("P1234")));
    assert_eq!(after[1].resolution, FaceResolution::Person(id_of("P0777")));

    // A name many people share is named with the candidates, and nothing is saved.
    b.fill(&field, "Given12").await;
    b.submit("#save").await;
    let problem = b.text("#face-1 .problem").await;
    assert!(problem.contains("several people match"), "{problem}");
    assert!(problem.contains("P0012 · Given12 Family12"), "{problem}");
    assert!(!problem.contains("2009-"), "{problem}");
    b.close().await;
}
