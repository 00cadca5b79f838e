//! Groups and bookings over HTTP: a staff member books a device for a class, the kiosk's
//! roster carries who in that class must not be photographed, and the sign-out is filed
//! under the booking.

use consentcam::domain::AccountRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, catalogue_photo, expect, learner, parent_form, spawn_app};

struct Class {
    group: i64,
    staff: i64,
    device: i64,
    with_consent: i64,
    internal_only: i64,
    no_form: i64,
}

async fn setup(app: &TestApp) -> Class {
    let admin = app.login(AccountRole::Admin).await;
    let staff_user = app.login(AccountRole::Staff).await;
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
    // A staff badge: the server takes sign-outs only from an active one.
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
                json!({ "label": "Camera 1", "make": "Canon", "model": "EOS",
                    "serial": "1", "tag_uid": "D0C0FFEE", "loan_minutes": 60 }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let with_consent = learner(&admin, "L1", "Amara", "Okafor", "2010-03-04").await;
    let internal_only = learner(&admin, "L2", "Ben", "Gray", "2010-05-06").await;
    let no_form = learner(&admin, "L3", "Dee", "Ives", "2010-07-08").await;
    expect(
        admin
            .post(
                &format!("/api/v1/people/{with_consent}/consents"),
                json!({ "signer": "parent", "signer_name": "A Parent", "signed_on": "2026-09-01",
                        "internal": true, "partners": [], "website": true, "social": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    parent_form(&admin, internal_only, "2026-09-01", false, &[]).await;
    // Staff make the group and fill it.
    let group = expect(
        staff_user
            .post("/api/v1/groups", json!({ "name": "L2 Construction" }))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let added = expect(
        staff_user
            .post(
                &format!("/api/v1/groups/{group}/members"),
                json!({ "person_ids": [with_consent, internal_only, no_form, no_form] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(added["added"], 3);
    Class {
        group,
        staff,
        device,
        with_consent,
        internal_only,
        no_form,
    }
}

async fn roster(app: &TestApp) -> Value {
    expect(app.kiosk_get("/api/v1/kiosk/roster").await, StatusCode::OK).await
}

#[tokio::test]
async fn a_group_shows_each_persons_caution_and_a_booking_reaches_the_kiosk_roster() {
    let app = spawn_app().await;
    let class = setup(&app).await;
    let staff = app.login(AccountRole::Staff).await;

    let detail = expect(
        staff.get(&format!("/api/v1/groups/{}", class.group)).await,
        StatusCode::OK,
    )
    .await;
    let cautions: Vec<(i64, Value)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["caution"].clone()))
        .collect();
    assert_eq!(
        cautions,
        vec![
            (class.no_form, json!("no_photos")),
            (class.internal_only, json!("not_public")),
            (class.with_consent, Value::Null),
        ]
    );

    // Before any booking the roster has none.
    assert_eq!(roster(&app).await["bookings"], json!([]));
    let booking = expect(
        staff
            .post(
                "/api/v1/bookings",
                json!({ "group_id": class.group, "holder_id": class.staff, "device_id": class.device,
                        "starts_at": "2026-11-25T08:00:00Z", "ends_at": "2026-11-25T16:00:00Z" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(booking["group_name"], "L2 Construction");
    assert_eq!(booking["holder_name"], "Isla Morgan");
    let roster = roster(&app).await;
    let sent = &roster["bookings"][0];
    assert_eq!(sent["booking_id"], booking["id"]);
    assert_eq!(sent["members"], 3);
    assert_eq!(
        sent["cautions"],
        json!([
            { "name": "Dee I.", "caution": "no_photos" },
            { "name": "Ben G.", "caution": "not_public" },
        ])
    );

    // A sign-out by the holder inside the window is filed under the booking, and the
    // custody list says so.
    let receipt = expect(
        app.kiosk_post(
            "/api/v1/kiosk/events",
            json!({ "events": [{
                "event_id": "k-1", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "office-1",
                "type": "signed_out", "device_id": class.device, "person_id": class.staff,
                "due_back": "2026-11-25T10:00:00Z", "booking_id": booking["id"],
            }] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(receipt["recorded"], json!(["k-1"]));
    let custody = expect(staff.get("/api/v1/custody").await, StatusCode::OK).await;
    assert!(
        custody
            .to_string()
            .contains(&format!("\"booking_id\":{}", booking["id"])),
        "{custody}"
    );

    // Cancelled: gone from the roster and from the list of bookings still to come.
    expect(
        staff
            .post(
                &format!("/api/v1/bookings/{}/cancel", booking["id"]),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app_roster_bookings(&app).await,
        json!([]),
        "a cancelled booking is not sent"
    );
    let upcoming = expect(staff.get("/api/v1/bookings").await, StatusCode::OK).await;
    assert_eq!(upcoming, json!([]));
    let all = expect(staff.get("/api/v1/bookings?all=true").await, StatusCode::OK).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
}

async fn app_roster_bookings(app: &TestApp) -> Value {
    roster(app).await["bookings"].clone()
}

#[tokio::test]
async fn bad_group_and_booking_requests_get_clear_errors() {
    let app = spawn_app().await;
    let class = setup(&app).await;
    let staff = app.login(AccountRole::Staff).await;
    let cases = [
        (
            "/api/v1/groups",
            json!({ "name": "  " }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/groups",
            json!({ "name": "l2 construction" }),
            StatusCode::CONFLICT,
        ),
        (
            "/api/v1/groups/999/members",
            json!({ "person_ids": [class.no_form] }),
            StatusCode::NOT_FOUND,
        ),
        (
            &format!("/api/v1/groups/{}/members", class.group),
            json!({ "person_ids": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &format!("/api/v1/groups/{}/members", class.group),
            json!({ "person_ids": [4242] }),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/bookings",
            json!({ "group_id": class.group, "holder_id": class.no_form,
                    "starts_at": "2026-11-25T08:00:00Z", "ends_at": "2026-11-25T16:00:00Z" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/bookings",
            json!({ "group_id": class.group, "holder_id": class.staff,
                    "starts_at": "2026-11-25T18:00:00Z", "ends_at": "2026-11-25T16:00:00Z" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/bookings",
            json!({ "group_id": class.group, "holder_id": class.staff,
                    "starts_at": "tomorrow", "ends_at": "2026-11-25T16:00:00Z" }),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, status) in cases {
        let response = staff.post(path, body.clone()).await;
        let got = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{path} {body}: {text}");
        assert!(text.contains("\"message\""), "{text}");
    }
    // Removing someone who is not in the group is a 404; removing a member works once.
    let path = format!("/api/v1/groups/{}/members/{}", class.group, class.no_form);
    assert_eq!(staff.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(staff.delete(&path).await.status(), StatusCode::NOT_FOUND);
    // Each change is in the audit log.
    let director = app.login(AccountRole::Director).await;
    let audit = expect(director.get("/api/v1/audit").await, StatusCode::OK).await;
    let actions: Vec<&str> = audit
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for action in ["group.create", "group.add_member", "group.remove_member"] {
        assert!(actions.contains(&action), "{action} missing from {audit}");
    }
}

#[tokio::test]
async fn the_group_pages_add_people_book_a_device_and_offer_the_group_first_when_tagging() {
    let app = spawn_app().await;
    let class = setup(&app).await;
    let admin = app.login(AccountRole::Admin).await;
    let outsider = learner(&admin, "L9", "Zed", "Young", "2010-01-01").await;
    let staff = app.login(AccountRole::Staff).await;
    let group_page = format!("/groups/{}", class.group);

    // The page lists each person with what the holder must know.
    let html = staff.get(&group_page).await.text().await.unwrap();
    assert!(html.contains("1 must not be photographed"), "{html}");
    assert!(html.contains("do not photograph") && html.contains("not for website or social media"));

    // Adding by the type-ahead's "ref · name", and an unknown name is refused clearly.
    let members_form = format!("{group_page}/members");
    let added = staff
        .form(&members_form, &[("person", "L9 · Zed Young")])
        .await;
    assert!(added.contains("Added to the group."), "{added}");
    let refused = staff
        .form(&members_form, &[("person", "Nobody Here")])
        .await;
    assert!(
        refused.contains("nobody on the register matches"),
        "{refused}"
    );
    // A class list pasted in: all or nothing, every bad line named.
    let several = staff
        .form(&members_form, &[("people", "L9\nNobody Here\n\nL1\nZed Q")])
        .await;
    assert!(
        several.contains("nobody was added")
            && several.contains("line 2")
            && several.contains("line 4"),
        "{several}"
    );
    let several = staff
        .form(&members_form, &[("people", "l9\n  \nL1 · Amara Okafor\n")])
        .await;
    assert!(
        several.contains("All 2 were in the group already."),
        "{several}"
    );
    // Taken out again.
    staff
        .form(&format!("{group_page}/members/{outsider}/remove"), &[])
        .await;

    // Book by local day and time (the test server runs in UTC).
    let (holder, device) = (class.staff.to_string(), class.device.to_string());
    let booking_form = format!("{group_page}/bookings");
    let booked = staff
        .form(
            &booking_form,
            &[
                ("holder", &holder),
                ("device", &device),
                ("on", "2026-11-25"),
                ("from", "09:00"),
                ("until_day", ""),
                ("until", "15:30"),
            ],
        )
        .await;
    assert!(booked.contains("Booked for L2 Construction"), "{booked}");
    // The dashboard lists the day's bookings.
    let dashboard = staff.get("/").await.text().await.unwrap();
    let booked_today = &dashboard[dashboard.find("id=\"booked\"").unwrap()..];
    assert!(booked_today.contains("L2 Construction") && booked_today.contains("Isla Morgan"));
    let bad = staff
        .form(
            &booking_form,
            &[
                ("holder", &holder),
                ("device", ""),
                ("on", "25/11/2026"),
                ("from", "09:00"),
                ("until", "15:30"),
            ],
        )
        .await;
    assert!(bad.contains("the day must be a date"), "{bad}");
    let bookings = expect(staff.get("/api/v1/bookings").await, StatusCode::OK).await;
    assert_eq!(bookings.as_array().unwrap().len(), 1);
    assert_eq!(bookings[0]["starts_at"], "2026-11-25T09:00:00Z");
    assert_eq!(bookings[0]["ends_at"], "2026-11-25T15:30:00Z");
    let members = expect(
        staff.get(&format!("/api/v1/groups/{}", class.group)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(members["members"].as_array().unwrap().len(), 3);

    // The kiosk signs the camera out under the booking; a photo of that sign-out offers
    // the group's people first in the type-ahead, before anyone else.
    let booking_id = bookings[0]["id"].clone();
    expect(
        app.kiosk_post(
            "/api/v1/kiosk/events",
            json!({ "events": [{
                "event_id": "k-1", "seq": 1, "at": "2026-11-25T09:30:00Z", "reader": "office-1",
                "type": "signed_out", "device_id": class.device, "person_id": class.staff,
                "due_back": "2026-11-25T10:30:00Z", "booking_id": booking_id,
            }] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    catalogue_photo(&app, "ab", |p| {
        p.custody_session_id = Some(1);
        p.device_id = Some(consentcam::domain::DeviceId(class.device));
    });
    let html = staff.get("/photos/1").await.text().await.unwrap();
    let list = &html[html.find("<datalist id=\"people-list\"").unwrap()..];
    let position = |name: &str| {
        list.find(name)
            .unwrap_or_else(|| panic!("{name} not offered"))
    };
    for member in ["Dee Ives", "Ben Gray", "Amara Okafor"] {
        assert!(
            position(member) < position("Zed Young"),
            "{member} after an outsider"
        );
    }
    let gallery = staff.get("/imports/1").await.text().await.unwrap();
    assert!(gallery.contains("for <a href=\"/groups/"), "{gallery}");

    // Someone tagged in another photo of the same sign-out is offered with the group,
    // before outsiders (Yan Able sorts before Zed Young otherwise).
    learner(&admin, "L8", "Yan", "Able", "2010-02-02").await;
    let other = catalogue_photo(&app, "ac", |p| {
        p.custody_session_id = Some(1);
        p.device_id = Some(consentcam::domain::DeviceId(class.device));
        p.original_name = "IMG_0002.JPG".into();
    });
    expect(
        staff
            .post(
                &format!("/api/v1/photos/{}/tags", other.0),
                json!({ "person_id": outsider }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let html = staff.get("/photos/1").await.text().await.unwrap();
    let list = &html[html.find("<datalist id=\"people-list\"").unwrap()..];
    let at = |name: &str| {
        list.find(name)
            .unwrap_or_else(|| panic!("{name} not offered"))
    };
    assert!(at("Zed Young") < at("Yan Able"), "{list}");
}

#[tokio::test]
async fn a_group_is_renamed_and_archived_and_then_listed_only_on_request() {
    let app = spawn_app().await;
    let class = setup(&app).await;
    let staff = app.login(AccountRole::Staff).await;
    let path = format!("/api/v1/groups/{}", class.group);
    expect(
        staff.put(&path, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let renamed = expect(
        staff
            .put(&path, json!({ "name": "L2 Construction (Tue)" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "L2 Construction (Tue)");
    let archived = expect(
        staff.put(&path, json!({ "archived": true })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archived["archived"], true);
    let listed = expect(staff.get("/api/v1/groups").await, StatusCode::OK).await;
    assert_eq!(listed, json!([]));
    let all = expect(
        staff.get("/api/v1/groups?archived=true").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    // No bookings for an archived group.
    let refused = expect(
        staff
            .post(
                "/api/v1/bookings",
                json!({ "group_id": class.group, "holder_id": class.staff,
                        "starts_at": "2026-11-26T08:00:00Z", "ends_at": "2026-11-26T16:00:00Z" }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        refused["message"].as_str().unwrap().contains("archived"),
        "{refused}"
    );
}
