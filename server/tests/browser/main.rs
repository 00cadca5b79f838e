//! The web UI in headless Chromium, used the way a new user would use it. Each test has
//! its own server (seeded with the demo data) and its own browser profile.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).

mod harness;
mod parents;
#[path = "../common/smtp.rs"]
mod smtp;
mod tagging;

use consentcam::domain::Channel;
use consentcam::store::partners;
use consentcam::store::publications;
use consentcam::store::{faces, people, registry};
use harness::{Browser, browser, spawn_demo};

const DESKTOP: (u32, u32) = (1280, 1000);

async fn desktop() -> Browser {
    browser(DESKTOP.0, DESKTOP.1).await
}

fn person_id(server: &harness::Server, ext_ref: &str) -> i64 {
    people::person_by_ref(&server.db(), ext_ref)
        .expect("query")
        .expect("demo person")
        .id
        .0
}

#[tokio::test]
async fn a_group_photo_is_tagged_blocked_for_a_missing_consent_and_approved_once_it_is_recorded() {
    let server = spawn_demo(|_| {}).await;
    let b = desktop().await;

    // Staff: find the import's photo with a face still to assign (the class photo next to
    // it in the list has not been tagged at all).
    let photo = consentcam::demo::demo_photo(&server.db(), "IMG_0004.JPG").expect("demo photo");
    b.log_in(&server, "staff").await;
    b.submit("header nav a[href='/imports']").await;
    b.submit("#imports tbody tr a").await;
    // What came in, by kind: the iPad's HEIC beside the camera's JPEGs.
    let kinds = b.text("#kinds").await;
    assert!(
        kinds.contains("JPEG") && kinds.contains("1 HEIC"),
        "{kinds}"
    );
    b.submit("nav.filters a[href$='status=needs_tagging']")
        .await;
    assert_eq!(
        b.client
            .find_all(fantoccini::Locator::Css("#gallery li"))
            .await
            .expect("tiles")
            .len(),
        2,
        "two photos of the demo import need tagging"
    );
    b.submit(&format!("#gallery li a[href='/photos/{}']", photo.0))
        .await;
    assert_eq!(b.text("#photo-status").await, "needs tagging");

    // Face 2 is unresolved: name the person and say everyone is tagged, in one go.
    b.fill("#face-2 input[list]", "Chloe Davies").await;
    b.set_checked("#everyone", true).await;
    b.submit("#save").await;
    b.notice("saved").await;
    assert!(
        b.value("#face-2 input[list]")
            .await
            .contains("Chloe Davies")
    );

    // Chloe turned 18 with only a parent's form: the website is blocked, and the page says why.
    let website = b.text("#decision-website").await;
    assert!(website.contains("blocked"), "{website}");
    assert!(website.contains("parent_form_after_18"), "{website}");

    // Ask for website publication.
    let channel = b.wait("#request-form select[name=channel]").await;
    channel
        .select_by_value("website")
        .await
        .expect("choose the website");
    b.submit("#ask").await;
    b.notice("approval queue").await;
    let photo_url = b.client.current_url().await.expect("url").to_string();
    b.log_out().await;

    // Director: the queue shows the request, why it is blocked, and approval is impossible.
    b.log_in(&server, "director").await;
    assert_eq!(b.text("#approvals-count").await, "1");
    b.submit("header nav a[href='/approvals']").await;
    let request = b.text("#queue li.card").await;
    assert!(request.contains("Website"), "{request}");
    assert!(request.contains("Chloe Davies"), "{request}");
    assert!(request.contains("parent_form_after_18"), "{request}");
    let approve = b.wait("#queue button[value=approve]").await;
    assert!(
        approve.attr("disabled").await.expect("attr").is_some(),
        "approval must be impossible while the decision is not allowed"
    );
    b.log_out().await;

    // Admin: record Chloe's own form, with the scanned form as evidence.
    b.log_in(&server, "admin").await;
    b.submit("header nav a[href='/lookup']").await;
    b.fill("#q", "Chloe").await;
    b.submit("#search").await;
    b.submit("#hits h2 a").await;
    let signer = b.wait("#consent-form select[name=signer]").await;
    signer.select_by_value("self").await.expect("signer");
    b.wait("#consent-form input[name=internal]")
        .await
        .click()
        .await
        .expect("internal");
    b.wait("#consent-form input[name=website]")
        .await
        .click()
        .await
        .expect("website");
    let scan = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("scan file");
    std::fs::write(scan.path(), b"%PDF-1.4 signed by the learner").expect("write scan");
    b.wait("#consent-form input[name=evidence]")
        .await
        .send_keys(&scan.path().display().to_string())
        .await
        .expect("choose the scan");
    b.submit("#record-form").await;
    b.notice("Consent form recorded").await;
    assert!(b.text("#forms").await.contains("signed form"));
    b.log_out().await;

    // Director: now only the approval is missing; approve with a note.
    b.log_in(&server, "director").await;
    b.goto(&server.url("/approvals")).await;
    let approve = b.wait("#queue button[value=approve]").await;
    assert!(approve.attr("disabled").await.expect("attr").is_none());
    b.fill("#queue input[name=note]", "Everyone has consent now")
        .await;
    b.submit("#queue button[value=approve]").await;
    b.notice("Approved").await;
    b.wait("#queue-empty").await;
    b.goto(&photo_url).await;
    assert_eq!(b.text("#photo-status").await, "approved");
    assert!(b.text("#decision-website").await.contains("allowed"));
    b.close().await;
}

#[tokio::test]
async fn a_consent_lookup_shows_each_channel_today_and_who_signed() {
    let server = spawn_demo(|_| {}).await;
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    b.submit("header nav a[href='/lookup']").await;
    b.fill("#q", "ella").await;
    b.submit("#search").await;
    let hit = b.text("#hits li.card").await;
    assert!(hit.contains("Ella Brown"), "{hit}");
    // Staff see the caution, not the reason.
    assert!(
        hit.contains("never on the website or social media"),
        "{hit}"
    );
    assert!(!hit.contains("vulnerable"), "{hit}");
    assert!(
        !b.client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .to_lowercase()
            .contains("ella"),
        "the name must not travel in the URL"
    );
    b.submit("#hits h2 a").await;
    let website = b.text("#decision-website").await;
    assert!(
        website.contains("blocked") && website.contains("must not appear on the website"),
        "{website}"
    );
    assert!(!website.contains("vulnerable"), "{website}");
    assert!(
        !b.text("main").await.contains("born"),
        "no date of birth for staff"
    );
    assert!(b.text("#decision-internal").await.contains("allowed"));
    let forms = b.text("#forms").await;
    assert!(
        forms.contains("Pat Green") && forms.contains("carer"),
        "{forms}"
    );
    b.close().await;
}

#[tokio::test]
async fn withdrawing_a_consent_turns_its_publications_into_takedown_tasks() {
    let server = spawn_demo(|conn| {
        // Amira's portrait, approved for the website by the demo, has gone out.
        let today = harness::TODAY.parse().expect("today");
        let portrait = consentcam::demo::demo_photo(conn, "IMG_0001.JPG").expect("demo photo");
        let decision = consentcam::ops::decisions::decide_photo(
            conn,
            portrait,
            Channel::Website,
            today,
            &Default::default(),
        )
        .expect("decision");
        publications::insert_publication(
            conn,
            portrait,
            Channel::Website,
            "0f3a9c2e7b1d4e5f",
            None,
            &decision,
            harness::NOW.parse().expect("now"),
        )
        .expect("publication");
    })
    .await;
    let amira = person_id(&server, "L100");
    let b = desktop().await;
    b.log_in(&server, "admin").await;
    assert_eq!(b.text("#takedown-count").await, "0");
    b.goto(&server.url(&format!("/people/{amira}"))).await;
    assert!(b.text("#publications").await.contains("live"));
    b.submit("form.withdraw button").await;
    let notice = b.notice("Consent withdrawn").await;
    assert!(notice.contains("1 takedown task"), "{notice}");
    assert!(b.text("#decision-website").await.contains("blocked"));
    assert!(b.text("#publications").await.contains("to take down"));

    b.goto(&server.url("/")).await;
    assert_eq!(b.text("#takedown-count").await, "1");
    b.submit("a.tile[href='/takedowns']").await;
    assert!(b.text("#takedowns").await.contains("Photo 1"));
    b.submit("#takedowns button").await;
    b.notice("Taken down:").await;
    b.wait("#no-takedowns").await;
    b.close().await;
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let server = spawn_demo(|_| {}).await;
    // Another site (localhost is not the same site as 127.0.0.1) with a form aimed at us.
    let target = server.url("/admin/partners");
    let page = format!(
        "<!doctype html><title>Win a prize</title><form method=post action=\"{target}\">\
         <input type=hidden name=name value=\"Evil Partner\">\
         <input type=hidden name=_csrf value=guessed><button id=go>Claim</button></form>"
    );
    let other = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let other_port = other.local_addr().expect("addr").port();
    let site = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    tokio::spawn(async move { axum::serve(other, site).await });

    let b = desktop().await;
    b.log_in(&server, "admin").await;
    b.client
        .goto(&format!("http://localhost:{other_port}/"))
        .await
        .expect("open the other site");
    b.submit("#go").await;
    // The browser sends no session cookie with another site's post (SameSite=Strict), so
    // the post is refused like any without a session; were a cookie sent, the
    // cross-site check and the CSRF token would refuse it.
    let answer = b.text("main").await;
    assert!(
        answer.contains("Log in") || answer.contains("refused"),
        "{answer}"
    );
    let partners = partners::partners(&server.db()).expect("partners");
    assert!(
        partners.iter().all(|p| p.name != "Evil Partner"),
        "the cross-site post must change nothing"
    );
    // The admin's own session still works.
    b.goto(&server.url("/admin/partners")).await;
    assert!(!b.text("#partners").await.contains("Evil Partner"));
    b.close().await;
}

/// The kiosk reports a sign-out that is now overdue, a tap of an unknown badge, and a
/// sign-out by staff who may not sign devices out (which the server refuses and keeps).
async fn kiosk_reports(server: &harness::Server) {
    let device = |label: &str| {
        registry::devices(&server.db())
            .expect("devices")
            .into_iter()
            .find(|d| d.label == label)
            .expect("a demo device")
            .id
            .0
    };
    let (ipad, camera) = (device("iPad 1"), device("Camera 1"));
    let isla = person_id(server, "S200");
    let jack = person_id(server, "S201");
    let events = serde_json::json!({ "events": [
        { "event_id": "t-1", "seq": 10, "at": "2026-11-25T06:55:00Z", "reader": "office-1",
          "type": "tap", "uid": "0A1B2C3D", "outcome": "unknown_card" },
        { "event_id": "t-2", "seq": 11, "at": "2026-11-25T07:00:00Z", "reader": "office-1",
          "type": "signed_out", "device_id": ipad, "person_id": isla,
          "due_back": "2026-11-25T08:00:00Z" },
        { "event_id": "t-3", "seq": 12, "at": "2026-11-25T07:05:00Z", "reader": "office-1",
          "type": "signed_out", "device_id": camera, "person_id": jack,
          "due_back": "2026-11-25T15:00:00Z" },
    ]});
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/kiosk/events"))
        .bearer_auth(&server.kiosk_token)
        .json(&events)
        .send()
        .await
        .expect("kiosk events");
    assert!(response.status().is_success(), "{response:?}");
}

#[tokio::test]
async fn the_dashboard_shows_who_has_what_and_an_unknown_badge_is_named_after_a_tap() {
    let server = spawn_demo(|_| {}).await;
    kiosk_reports(&server).await;
    let b = desktop().await;
    b.log_in(&server, "admin").await;
    assert_eq!(b.text("#overdue-count").await, "1");
    let out = b.text("#out-table").await;
    assert!(
        out.contains("iPad 1") && out.contains("Isla Morgan") && out.contains("overdue"),
        "{out}"
    );
    assert!(
        !out.contains("Jack Turner"),
        "a refused sign-out makes no custody: {out}"
    );

    // Custody history per device and per person.
    b.submit("#out-table a[href^='/devices/']").await;
    assert!(b.text("#custody").await.contains("Isla Morgan"));
    b.submit("#custody a[href^='/people/']").await;
    assert!(b.text("#custody").await.contains("iPad 1"));

    // The badge tapped at the kiosk waits on the badges page to be named.
    b.goto(&server.url("/admin/badges")).await;
    assert!(b.text("#unknown-badges").await.contains("0A1B2C3D"));
    b.fill("#unknown-badges input[name=person]", "Jack Turner")
        .await;
    b.submit("#unknown-badges button").await;
    b.notice("Badge enrolled").await;
    assert!(b.text("#badges").await.contains("0A1B2C3D"));
    b.wait("#no-unknown").await;

    // Jack's sign-out, which he may not make, waits on the kiosks page with its reason.
    b.goto(&server.url("/admin/kiosks")).await;
    let refused = b.text("#refused").await;
    assert!(refused.contains("may_not_sign_out"), "{refused}");
    b.close().await;
}

#[tokio::test]
async fn a_class_is_made_its_people_cautioned_and_a_device_booked_for_it() {
    let server = spawn_demo(|_| {}).await;
    let b = desktop().await;
    b.log_in(&server, "staff").await;
    b.submit("header nav a[href='/groups']").await;
    // Isla already has iPad 1 booked for L2 Construction today: free her first.
    assert!(b.text("#bookings").await.contains("L2 Construction"));
    b.submit("#bookings form.inline button").await;
    b.notice("Booking cancelled.").await;

    b.goto(&server.url("/groups")).await;
    b.fill("#new-group input[name=name]", "Beamish trip").await;
    b.submit("#new-group button").await;
    b.notice("Group created.").await;
    for person in ["L107 · Harry Wilson", "L100 · Amira Hassan"] {
        b.fill("#add-member input[name=person]", person).await;
        b.submit("#add-member button").await;
        b.notice("Added to the group.").await;
    }
    let members = b.text("#members").await;
    assert!(members.contains("Harry Wilson"), "{members}");
    assert!(members.contains("do not photograph"), "{members}");
    assert!(
        b.text("#summary")
            .await
            .contains("1 must not be photographed"),
        "the summary counts Harry"
    );
    // Today 09:00 to 16:00, any device, Isla: the form's defaults.
    b.submit("#book button").await;
    b.notice("Booked for Beamish trip").await;
    let bookings = b.text("#bookings").await;
    assert!(
        bookings.contains("Isla Morgan") && bookings.contains("any device"),
        "{bookings}"
    );
    b.close().await;
}

/// Takes the README's screenshots: `cargo test -p consentcam --test browser -- --ignored`.
#[tokio::test]
#[ignore = "writes server/screenshots/*.png; run by hand when the pages change"]
async fn screenshots_of_the_main_pages() {
    let server = spawn_demo(|_| {}).await;
    kiosk_reports(&server).await;
    let b = desktop().await;
    b.goto(&server.url("/login")).await;
    b.screenshot("login").await;
    b.log_in(&server, "director").await;
    b.screenshot("dashboard").await;
    b.goto(&server.url("/imports/1")).await;
    b.screenshot("gallery").await;
    let photo = |name: &str| {
        let id = consentcam::demo::demo_photo(&server.db(), name).expect("demo photo");
        server.url(&format!("/photos/{}", id.0))
    };
    // The class photo as the import left it: 29 faces found, none assigned yet.
    b.goto(&photo("IMG_0006.JPG")).await;
    b.screenshot("photo-class").await;
    b.goto(&photo("IMG_0002.JPG")).await;
    b.screenshot("photo").await;
    // Ask for the group photo on the website, so the queue has something to show.
    b.wait("#request-form select[name=channel]")
        .await
        .select_by_value("website")
        .await
        .expect("choose the website");
    b.submit("#ask").await;
    b.goto(&server.url("/approvals")).await;
    b.screenshot("approvals").await;
    b.goto(&server.url("/lookup")).await;
    b.fill("#q", "Dev").await;
    b.submit("#search").await;
    b.screenshot("lookup").await;
    b.goto(&server.url(&format!("/people/{}", person_id(&server, "L103"))))
        .await;
    b.screenshot("person").await;
    b.goto(&server.url("/audit")).await;
    b.screenshot("audit").await;
    b.goto(&server.url("/groups/1")).await;
    b.screenshot("group").await;
    b.log_out().await;
    b.log_in(&server, "admin").await;
    b.goto(&server.url("/admin/badges")).await;
    b.screenshot("badges").await;
    b.close().await;

    let phone = browser(390, 844).await;
    phone.log_in(&server, "staff").await;
    phone.goto(&photo("IMG_0004.JPG")).await;
    phone.screenshot("photo-phone").await;
    phone.goto(&photo("IMG_0006.JPG")).await;
    phone.screenshot("photo-class-phone").await;
    phone.close().await;
}

/// The real path on the photo page: a photo the demo's card import brought in (real faces,
/// found by the detector) is covered where consent is missing, a face the detector missed
/// is drawn by two clicks on the picture, the director approves and publishes, and the
/// file that leaves is judged from outside.
/// The id of the face row on the photo page whose person field names `who`.
async fn row_of(b: &Browser, who: &str) -> String {
    let id = b
        .script(&format!(
            "const row = [...document.querySelectorAll('ol.faces li')] \
               .find(li => li.querySelector('input[list]').value.includes({who:?})); \
             return row ? row.id : null;"
        ))
        .await;
    id.as_str()
        .unwrap_or_else(|| panic!("no face row names {who}"))
        .to_owned()
}

#[tokio::test]
async fn a_real_photo_is_covered_a_missed_face_drawn_and_published_from_the_photo_page() {
    let server = spawn_demo(|_| {}).await;
    let photo = consentcam::demo::demo_photo(&server.db(), "IMG_0002.JPG").expect("demo photo");
    let url = server.url(&format!("/photos/{}", photo.0));
    let b = desktop().await;

    b.log_in(&server, "staff").await;
    b.goto(&url).await;
    assert!(
        b.text("#decision-website")
            .await
            .contains("consent_withheld")
    );
    // Ben said no to the website: cover his face (the detector found it).
    let ben = row_of(&b, "Ben").await;
    b.set_checked(&format!("#{ben} input[name^=cover]"), true)
        .await;
    b.submit("#save").await;
    b.notice("saved").await;
    // Harry stands at the left edge, half turned: the detector missed him.
    b.fill("#add-person input[name=person]", "L107").await;
    b.submit("#add-person button").await;
    b.notice("Person added").await;
    b.submit("#tags li:nth-child(4) button[title^='Cover']")
        .await;
    let row = b.text("#tags li:nth-child(4)").await;
    assert!(row.contains("No box says where their face is"), "{row}");
    assert!(
        b.text("#decision-website")
            .await
            .contains("cover_area_unknown")
    );
    b.submit("#tags li:nth-child(4) p.needs-box a").await;
    assert!(b.text("#draw-step").await.contains("Click one corner"));
    b.click_at("#draw-at", 12.0, 40.0).await;
    assert!(b.text("#draw-step").await.contains("opposite corner"));
    b.wait("svg.draw-marks circle.corner").await;
    b.click_at("#draw-at", 95.0, 160.0).await;
    b.notice("Face box added and assigned").await;
    // The drawn face takes its place in reading order, named and covered.
    let harry = row_of(&b, "Harry Wilson").await;
    let drawn = b.text(&format!("#{harry}")).await;
    assert!(drawn.contains("(drawn)"), "{drawn}");
    b.wait(&format!("#{harry} input[name^=cover]:checked"))
        .await;
    let website = b.text("#decision-website").await;
    assert!(!website.contains("cover_area_unknown"), "{website}");
    assert!(website.contains("approval_missing"), "{website}");
    b.log_out().await;

    b.log_in(&server, "director").await;
    b.goto(&url).await;
    b.fill(
        "#approve-website input[name=note]",
        "Faces without consent covered",
    )
    .await;
    b.submit("#approve-website button[value=approve]").await;
    b.notice("Approved").await;
    b.submit("#publish-website button").await;
    b.notice("Published").await;
    b.close().await;

    // The file that left: nothing but the picture and its orientation, two faces black.
    let conn = server.db();
    let publication = &publications::publications_of_photo(&conn, photo).expect("publications")[0];
    let file = server
        .db_path
        .parent()
        .expect("data dir")
        .join("outbox")
        .join("website")
        .join(&publication.opaque_name);
    let out = std::process::Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-u"])
        .arg(&file)
        .output()
        .expect("exiftool is installed");
    let tags: serde_json::Value = serde_json::from_slice(&out.stdout).expect("exiftool json");
    for tag in tags[0].as_object().expect("tags").keys() {
        let group = tag.split(':').next().unwrap_or("");
        assert!(
            matches!(
                group,
                "SourceFile" | "ExifTool" | "System" | "File" | "JFIF" | "Composite"
            ) || tag == "IFD0:Orientation",
            "the published file carries {tag}"
        );
    }
    let picture = image::open(&file).expect("decodes").to_rgb8();
    let faces = faces::faces(&conn, photo).expect("faces");
    let harry = person_id(&server, "L107");
    let ben = person_id(&server, "L101");
    let amira = person_id(&server, "L100");
    let dark = |f: &faces::Face| {
        (f.y + 3..f.y + f.h - 3).all(|y| {
            (f.x + 3..f.x + f.w - 3).all(|x| picture.get_pixel(x, y).0.iter().all(|&c| c <= 48))
        })
    };
    let of = |person: i64| {
        faces
            .iter()
            .find(|f| {
                f.resolution
                    == consentcam::rules::consent::FaceResolution::Person(
                        consentcam::domain::PersonId(person),
                    )
            })
            .expect("a face of theirs")
    };
    assert!(dark(of(ben)), "Ben's face is not covered");
    assert!(dark(of(harry)), "Harry's drawn face is not covered");
    assert_eq!(of(harry).source, faces::FaceSource::Drawn);
    assert!(!dark(of(amira)), "Amira's face was covered too");
}

#[tokio::test]
async fn an_admin_gives_an_address_sees_a_refused_message_and_sends_it_again_and_a_director_turns_a_reminder_off()
 {
    let mail: consentcam::infra::mail_settings::MailSettings = toml::from_str(
        "from = \"photos@school.example\"\nserver_url = \"https://photos.school.example\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\n",
    )
    .expect("mail settings");
    let settings = mail.clone();
    let server = harness::spawn_demo_configured(
        move |config| config.mail = Some(mail),
        move |conn, _| {
            // A message the mail server refused for good.
            let now = harness::NOW.parse().expect("now");
            let id = consentcam::ops::mail::queue_test(
                conn,
                &settings,
                "head.teacher@school.example",
                None,
                "test",
                now,
            )
            .expect("queued");
            consentcam::store::mail::mark_failed(
                conn,
                id,
                "550 5.1.1 <head.teacher@school.example>: Recipient address rejected",
                true,
                now,
            )
            .expect("failed");
        },
    )
    .await;
    let director = registry::account_by_username(&server.db(), "director")
        .expect("query")
        .expect("the director")
        .id;
    let b = desktop().await;
    b.log_in(&server, "admin").await;
    b.goto(&server.url("/admin/accounts")).await;
    let field = format!("form[action='/admin/accounts/{director}/email'] input[name=email]");
    b.fill(&field, "head.teacher@school.example").await;
    b.submit(&format!(
        "form[action='/admin/accounts/{director}/email'] button"
    ))
    .await;
    b.notice("Address saved.").await;
    assert_eq!(b.value(&field).await, "head.teacher@school.example");
    // The address was refused before: the accounts page says so.
    assert!(
        b.text("#accounts")
            .await
            .contains("Refused by the mail server: 550 5.1.1")
    );

    b.goto(&server.url("/admin/mail")).await;
    assert!(b.text("#mail-counts").await.contains("1 failed"));
    let row = b.text("#outbox tr[data-state='failed']").await;
    assert!(row.contains("head.teacher@school.example"), "{row}");
    assert!(row.contains("Recipient address rejected"), "{row}");
    b.submit("#outbox tr[data-state='failed'] button").await;
    b.notice("queued again").await;
    assert!(b.text("#mail-counts").await.contains("1 waiting"));
    b.wait("#outbox tr[data-state='queued']").await;
    b.log_out().await;

    b.log_in(&server, "director").await;
    b.goto(&server.url("/account")).await;
    let reminders = b.text("#reminders").await;
    assert!(
        reminders.contains("head.teacher@school.example"),
        "{reminders}"
    );
    b.wait("#address-refused").await;
    let approvals = "#reminders input[value='approvals_waiting']";
    assert_eq!(
        b.wait(approvals)
            .await
            .prop("checked")
            .await
            .expect("checked")
            .as_deref(),
        Some("true"),
        "on by default for a director"
    );
    // Mail failures are for admins: not offered to a director.
    assert!(!reminders.contains("could not be delivered"));
    b.set_checked(approvals, false).await;
    b.submit("#reminders button").await;
    b.notice("Reminders saved.").await;
    assert_eq!(
        b.wait(approvals)
            .await
            .prop("checked")
            .await
            .expect("checked")
            .as_deref(),
        Some("false")
    );
    let chosen = consentcam::store::mail::preferences(&server.db(), director.0).expect("read");
    assert!(
        chosen.contains(&("approvals_waiting".to_owned(), false)),
        "{chosen:?}"
    );
    b.close().await;
}
