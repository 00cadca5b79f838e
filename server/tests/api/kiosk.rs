use consentcam::domain::AccountRole;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, expect, spawn_app};

async fn setup(app: &TestApp) -> (i64, i64) {
    let admin = app.login(AccountRole::Admin).await;
    let staff = expect(
        admin
            .post(
                "/api/v1/people",
                json!({ "ref": "S1", "given_name": "Isla", "family_name": "Morgan", "date_of_birth": "1990-01-01", "role": "staff", "may_sign_out": true }),
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
            .post("/api/v1/devices", json!({ "label": "Camera 1", "make": "Canon", "model": "EOS", "serial": "1", "tag_uid": "D0C0FFEE", "loan_minutes": 60 }))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    (staff, device)
}

#[tokio::test]
async fn the_roster_lists_badges_and_devices_and_events_are_recorded_once_in_order() {
    let app = spawn_app().await;
    let (staff, device) = setup(&app).await;
    let client = reqwest::Client::new();
    let roster = expect(
        client
            .get(app.url("/api/v1/kiosk/roster"))
            .bearer_auth(&app.kiosk_token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    // Badges by the keyed hash of their UID (the key derives from this kiosk's token),
    // never the UID itself.
    let key = consentcam_tagkey::KioskKey::from_token(&app.kiosk_token);
    assert_eq!(roster["badges"][0]["uid_hash"], key.tag("5AFF0001"));
    assert_eq!(roster["devices"][0]["tag_hash"], key.tag("D0C0FFEE"));
    assert!(!roster.to_string().contains("5AFF0001"));
    assert_eq!(roster["badges"][0]["display_name"], "I. Morgan");
    assert_eq!(roster["devices"][0]["device_id"], device);

    let events: Vec<_> = (1..=20)
        .map(|n| {
            json!({ "event_id": format!("k1-{n}"), "seq": n, "at": format!("2026-11-25T09:{n:02}:00Z"),
                    "reader": "office-1", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" })
        })
        .chain([json!({ "event_id": "k1-21", "seq": 21, "at": "2026-11-25T09:30:00Z", "reader": "office-1",
                        "type": "signed_out", "device_id": device, "person_id": staff, "due_back": "2026-11-25T10:30:00Z" })])
        .collect();
    let post = |events: Vec<serde_json::Value>| {
        client
            .post(app.url("/api/v1/kiosk/events"))
            .bearer_auth(&app.kiosk_token)
            .json(&json!({ "events": events }))
            .send()
    };
    let receipt = expect(post(events.clone()).await.unwrap(), StatusCode::OK).await;
    assert_eq!(receipt["recorded"].as_array().unwrap().len(), 21);
    let replay = expect(post(events).await.unwrap(), StatusCode::OK).await;
    assert_eq!(replay["duplicate"].as_array().unwrap().len(), 21);
    assert_eq!(replay["recorded"], json!([]));

    let admin = app.login(AccountRole::Admin).await;
    let taps = expect(
        admin.get("/api/v1/audit?action=kiosk.tap&limit=100").await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<String> = taps
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|r| r["details"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, (1..=20).map(|n| format!("k1-{n}")).collect::<Vec<_>>());
    let custody = expect(admin.get("/api/v1/custody").await, StatusCode::OK).await;
    assert_eq!(custody["out"][0]["device_label"], "Camera 1");
    assert_eq!(custody["overdue"], 0);
}

async fn post_events(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    expect(
        app.kiosk_post("/api/v1/kiosk/events", body).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn an_unreadable_event_stops_the_batch_there_and_is_reported() {
    let app = spawn_app().await;
    setup(&app).await;
    let receipt = post_events(&app, json!({ "events": [
        { "event_id": "a", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "r", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" },
        { "event_id": "", "seq": 2, "at": "2026-11-25T09:01:00Z", "reader": "r", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" },
        { "event_id": "c", "seq": 3, "at": "2026-11-25T09:02:00Z", "reader": "r", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" }
    ]}))
    .await;
    assert_eq!(receipt["recorded"], json!(["a"]));
    assert_eq!(receipt["rejected"]["event_id"], "");
    assert!(
        receipt["rejected"]["reason"]
            .as_str()
            .unwrap()
            .contains("event_id")
    );
}

#[tokio::test]
async fn events_that_fail_the_checks_are_kept_for_admins_and_change_no_custody() {
    let app = spawn_app().await;
    let (staff, device) = setup(&app).await;
    let admin = app.login(AccountRole::Admin).await;
    // The badge is deactivated after the kiosk fetched its roster.
    let badges = expect(admin.get("/api/v1/badges").await, StatusCode::OK).await;
    let badge = badges[0]["id"].as_i64().unwrap();
    expect(
        admin
            .post(
                &format!("/api/v1/badges/{badge}/active"),
                json!({ "active": false }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let receipt = post_events(&app, json!({ "sent_at": "2026-11-25T10:00:30Z", "events": [
        { "event_id": "a", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "r", "type": "signed_out", "device_id": device, "person_id": staff, "due_back": "2026-11-25T10:00:00Z" },
        { "event_id": "b", "seq": 2, "at": "2026-11-25T09:01:00Z", "reader": "r", "type": "signed_out", "device_id": 999, "person_id": staff, "due_back": "2026-11-25T10:00:00Z" },
        { "event_id": "c", "seq": 3, "at": "2026-11-25T11:30:00Z", "reader": "r", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" },
        { "event_id": "d", "seq": 4, "at": "2026-11-25T09:03:00Z", "reader": "r", "type": "returned", "device_id": device, "person_id": staff }
    ]}))
    .await;
    // Every event is acknowledged, so the kiosk's journal moves on ...
    assert_eq!(receipt["recorded"], json!(["d"]));
    assert!(receipt["rejected"].is_null(), "{receipt}");
    let codes: Vec<(&str, &str)> = receipt["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["event_id"].as_str().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            ("a", "badge_not_active"),
            ("b", "unknown_device"),
            ("c", "in_the_future")
        ]
    );
    // ... the refused sign-out made no custody session ...
    let custody = expect(
        admin
            .get(&format!("/api/v1/devices/{device}/custody"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(custody.as_array().unwrap().len(), 0, "{custody}");
    // ... and a replay changes nothing.
    let again = post_events(&app, json!({ "events": [
        { "event_id": "a", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "r", "type": "signed_out", "device_id": device, "person_id": staff, "due_back": "2026-11-25T10:00:00Z" }
    ]}))
    .await;
    assert_eq!(again["duplicate"], json!(["a"]));

    // Admins see them, over the API and on the kiosk page; staff do not.
    let refused = expect(
        admin.get("/api/v1/kiosk-events/refused").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refused.as_array().unwrap().len(), 3);
    assert!(
        refused
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kiosk"] == "office")
    );
    let page = admin.get("/admin/kiosks").await.text().await.unwrap();
    assert!(
        page.contains("badge_not_active") && page.contains("unknown_device"),
        "{page}"
    );
    let staff_user = app.login(AccountRole::Staff).await;
    expect(
        staff_user.get("/api/v1/kiosk-events/refused").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let audit = expect(
        admin.get("/api/v1/audit?action=kiosk.event_refused").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_kiosk_whose_clock_disagrees_has_its_events_held_not_believed_nor_refused() {
    let app = spawn_app().await;
    let (staff, device) = setup(&app).await;
    // The server's clock says 10:00; the kiosk thinks it is 13:00 yesterday.
    let batch = json!({ "sent_at": "2026-11-24T13:00:00Z", "events": [
        { "event_id": "a", "seq": 1, "at": "2026-11-24T12:00:00Z", "reader": "r", "type": "signed_out", "device_id": device, "person_id": staff, "due_back": "2026-11-24T20:00:00Z" }
    ]});
    let receipt = post_events(&app, batch).await;
    assert_eq!(receipt["recorded"], json!([]));
    assert_eq!(receipt["refused"], json!([]));
    assert_eq!(receipt["rejected"]["event_id"], "a", "{receipt}");
    let reason = receipt["rejected"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("21 h 0 min behind") && reason.contains("sends it again"),
        "{reason}"
    );
    let admin = app.login(AccountRole::Admin).await;
    let page = admin.get("/admin/kiosks").await.text().await.unwrap();
    assert!(
        page.contains("clocks disagree") && page.contains("21 h 0 min behind the server"),
        "{page}"
    );
    let refused = expect(
        admin.get("/api/v1/kiosk-events/refused").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refused, json!([]));
}

#[tokio::test]
async fn an_overdue_device_shows_on_the_dashboard() {
    let app = spawn_app().await;
    let (staff, device) = setup(&app).await;
    let client = reqwest::Client::new();
    let events = json!({ "events": [
        { "event_id": "o1", "seq": 1, "at": "2026-11-25T07:00:00Z", "reader": "r", "type": "signed_out", "device_id": device, "person_id": staff, "due_back": "2026-11-25T08:00:00Z" }
    ]});
    expect(
        client
            .post(app.url("/api/v1/kiosk/events"))
            .bearer_auth(&app.kiosk_token)
            .json(&events)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let staff_user = app.login(AccountRole::Staff).await;
    let custody = expect(staff_user.get("/api/v1/custody").await, StatusCode::OK).await;
    assert_eq!(custody["overdue"], 1);
    assert_eq!(custody["out"][0]["overdue"], true);
}

#[tokio::test]
async fn a_revoked_kiosk_token_opens_nothing_from_then_on() {
    let app = spawn_app().await;
    let admin = app.login(consentcam::domain::AccountRole::Admin).await;
    let created = expect(
        admin
            .post("/api/v1/kiosks", json!({ "name": "hall" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let (id, token) = (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap().to_owned(),
    );
    let roster = || {
        reqwest::Client::new()
            .get(app.url("/api/v1/kiosk/roster"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(roster().await.unwrap().status(), StatusCode::OK);
    expect(
        admin
            .post(&format!("/api/v1/kiosks/{id}/revoke"), json!({}))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(roster().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // The other kiosk is untouched; the list shows the revocation.
    assert_eq!(
        app.kiosk_get("/api/v1/kiosk/roster").await.status(),
        StatusCode::OK
    );
    // A new token brings it back; the old one stays refused.
    let rotated = expect(
        admin
            .post(&format!("/api/v1/kiosks/{id}/rotate"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    assert_eq!(roster().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let with_new = reqwest::Client::new()
        .get(app.url("/api/v1/kiosk/roster"))
        .bearer_auth(&new_token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_new.status(), StatusCode::OK);
    expect(
        admin
            .post(&format!("/api/v1/kiosks/{id}/revoke"), json!({}))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let list = expect(admin.get("/api/v1/kiosks").await, StatusCode::OK).await;
    let hall = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap();
    assert!(hall["revoked_at"].is_string(), "{hall}");
    expect(
        admin
            .post(&format!("/api/v1/kiosks/{id}/revoke"), json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let audit = expect(
        admin.get("/api/v1/audit?action=kiosk.").await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "kiosk.revoke",
            "kiosk.rotate",
            "kiosk.revoke",
            "kiosk.create"
        ],
        "newest first"
    );
}

#[tokio::test]
async fn the_admin_page_registers_rotates_and_revokes_kiosks_showing_a_token_once() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let page = admin.form("/admin/kiosks", &[("name", "hall")]).await;
    let token = page
        .split("<code class=\"wrap\" id=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let roster = |token: String| {
        let url = app.url("/api/v1/kiosk/roster");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(roster(token.clone()).await, StatusCode::OK);
    let list = admin.get("/admin/kiosks").await.text().await.unwrap();
    assert!(!list.contains(&token), "the token is shown once only");
    let id = expect(admin.get("/api/v1/kiosks").await, StatusCode::OK)
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "hall")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let rotated = admin.form(&format!("/admin/kiosks/{id}/rotate"), &[]).await;
    assert!(rotated.contains("New token for hall"), "{rotated}");
    assert_eq!(roster(token.clone()).await, StatusCode::UNAUTHORIZED);
    let new_token = rotated
        .split("id=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(roster(new_token.clone()).await, StatusCode::OK);
    admin.form(&format!("/admin/kiosks/{id}/revoke"), &[]).await;
    assert_eq!(roster(new_token).await, StatusCode::UNAUTHORIZED);
    let staff = app.login(AccountRole::Staff).await;
    assert_eq!(
        staff.get("/admin/kiosks").await.status(),
        StatusCode::FORBIDDEN
    );
}
