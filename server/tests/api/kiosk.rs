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
    assert_eq!(roster["badges"][0]["uid"], "5AFF0001");
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

#[tokio::test]
async fn a_bad_event_stops_the_batch_there_and_is_reported() {
    let app = spawn_app().await;
    let (staff, _) = setup(&app).await;
    let client = reqwest::Client::new();
    let events = json!({ "events": [
        { "event_id": "a", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "r", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" },
        { "event_id": "b", "seq": 2, "at": "2026-11-25T09:01:00Z", "reader": "r", "type": "signed_out", "device_id": 999, "person_id": staff, "due_back": "2026-11-25T10:00:00Z" },
        { "event_id": "c", "seq": 3, "at": "2026-11-25T09:02:00Z", "reader": "r", "type": "tap", "uid": "5AFF0001", "outcome": "accepted" }
    ]});
    let receipt = expect(
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
    assert_eq!(receipt["recorded"], json!(["a"]));
    assert_eq!(receipt["rejected"]["event_id"], "b");
    assert!(
        receipt["rejected"]["reason"]
            .as_str()
            .unwrap()
            .contains("999")
    );
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
        admin.get("/api/v1/audit?action=kiosk.revoke").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit.as_array().unwrap().len(), 1);
}
