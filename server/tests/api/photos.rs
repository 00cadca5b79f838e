use consentcam::domain::{AccountRole, PhotoId};
use consentcam::store::{faces, photos};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{NOW, TestApp, expect, learner, parent_form, spawn_app};
use consentcam::store::publications;

/// Catalogues a JPEG with `faces` detected faces, as an import would.
fn photo(app: &TestApp, hash: &str, faces: usize) -> (i64, Vec<i64>) {
    let conn = app.db();
    let id = photos::insert_photo(
        &conn,
        &photos::NewPhoto {
            content_hash: hash.into(),
            byte_size: 1000,
            format: consentcam::domain::Format::Jpeg,
            original_name: "IMG_1.JPG".into(),
            provenance: consentcam::rules::consent::Provenance::Verified,
            face_search: consentcam::rules::consent::FaceSearch::Done,
            ..Default::default()
        },
        NOW.parse().unwrap(),
    )
    .unwrap();
    let faces = (0..faces)
        .map(|n| {
            let rect = faces::FaceRect {
                x: 100 * n as u32,
                y: 100,
                w: 80,
                h: 80,
            };
            faces::insert_face(&conn, PhotoId(id.0), rect, faces::FaceSource::Detected).unwrap()
        })
        .collect();
    (id.0, faces)
}

fn verdict<'a>(decisions: &'a Value, kind: &str) -> &'a str {
    decisions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"]["kind"] == kind)
        .unwrap()["verdict"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn tagging_a_group_photo_then_approval_only_once_everyone_has_consent() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let a = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    let b = learner(&admin, "L2", "Sam", "Ng", "2011-05-01").await;
    parent_form(&admin, a, "2026-09-01", true, &[]).await;
    let (id, faces) = photo(&app, "group", 2);

    let staff = app.login(AccountRole::Staff).await;
    let director = app.login(AccountRole::Director).await;
    let decisions = expect(
        staff.get(&format!("/api/v1/photos/{id}/decisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "internal"), "needs_review");

    for (face, person) in faces.iter().zip([a, b]) {
        expect(
            staff
                .put(
                    &format!("/api/v1/photos/{id}/faces/{face}"),
                    json!({ "state": "person", "person_id": person }),
                )
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/confirmation"),
                json!({ "confirmed": true }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let decisions = expect(
        staff.get(&format!("/api/v1/photos/{id}/decisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "website"), "blocked");

    let refused = director
        .post(
            &format!("/api/v1/photos/{id}/approvals"),
            json!({ "channel": { "kind": "website" }, "approve": true, "note": "" }),
        )
        .await;
    let body = expect(refused, StatusCode::CONFLICT).await;
    assert!(
        body["message"].as_str().unwrap().contains("Sam Ng"),
        "{body}"
    );

    parent_form(&admin, b, "2026-10-01", true, &[]).await;
    let approved = director
        .post(
            &format!("/api/v1/photos/{id}/approvals"),
            json!({ "channel": { "kind": "website" }, "approve": true, "note": "ok" }),
        )
        .await;
    assert_eq!(expect(approved, StatusCode::OK).await["verdict"], "allowed");

    // A changed caption voids the approval.
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/caption"),
                json!({ "caption": "Skills day" }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = expect(
        staff.get(&format!("/api/v1/photos/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let website = page["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"]["kind"] == "website")
        .unwrap();
    assert_eq!(website["verdict"], "needs_review");
    assert!(
        website["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "approval_missing" || r["code"] == "approval_void")
    );
}

#[tokio::test]
async fn staff_cannot_approve_and_a_rejection_needs_a_note() {
    let app = spawn_app().await;
    let (id, _) = photo(&app, "x", 0);
    let staff = app.login(AccountRole::Staff).await;
    let body = json!({ "channel": { "kind": "website" }, "approve": true, "note": "" });
    expect(
        staff
            .post(&format!("/api/v1/photos/{id}/approvals"), body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let director = app.login(AccountRole::Director).await;
    let reject = json!({ "channel": { "kind": "website" }, "approve": false, "note": " " });
    expect(
        director
            .post(&format!("/api/v1/photos/{id}/approvals"), reject)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn an_unknown_person_tag_blocks_and_a_caption_with_a_name_blocks() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let a = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, a, "2026-09-01", true, &[]).await;
    let (id, faces) = photo(&app, "y", 1);
    let staff = app.login(AccountRole::Staff).await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/faces/{}", faces[0]),
                json!({ "state": "person", "person_id": a }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/confirmation"),
                json!({ "confirmed": true }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/caption"),
                json!({ "caption": "Robin at work" }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let decisions = expect(
        staff.get(&format!("/api/v1/photos/{id}/decisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "internal"), "blocked");
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/caption"),
                json!({ "caption": "At work" }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let decisions = expect(
        staff.get(&format!("/api/v1/photos/{id}/decisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "internal"), "allowed");
    let tag = expect(
        staff
            .post(
                &format!("/api/v1/photos/{id}/tags"),
                json!({ "unknown": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let decisions = expect(
        staff.get(&format!("/api/v1/photos/{id}/decisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "internal"), "blocked");
    expect(
        staff
            .delete(&format!("/api/v1/photos/{id}/tags/{}", tag["id"]))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let decisions = expect(
        staff.get(&format!("/api/v1/photos/{id}/decisions")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "internal"), "allowed");
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/faces/999"),
                json!({ "state": "dismissed" }),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        staff
            .put(
                &format!("/api/v1/photos/{id}/faces/{}", faces[0]),
                json!({ "state": "person", "person_id": 777 }),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_withdrawal_turns_publications_into_takedown_tasks() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let a = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    let form = parent_form(&admin, a, "2026-09-01", true, &[]).await;
    let (id, _) = photo(&app, "z", 0);
    let conn = app.db();
    faces::add_tag(
        &conn,
        PhotoId(id),
        Some(consentcam::domain::PersonId(a)),
        NOW.parse().unwrap(),
    )
    .unwrap();
    let decision = consentcam::rules::consent::Decision {
        channel: consentcam::domain::Channel::Website,
        on: "2026-11-25".parse().unwrap(),
        verdict: consentcam::rules::consent::Verdict::Allowed,
        reasons: vec![],
    };
    publications::insert_publication(
        &conn,
        PhotoId(id),
        consentcam::domain::Channel::Website,
        "p-1",
        None,
        &decision,
        NOW.parse().unwrap(),
    )
    .unwrap();
    let withdrawal = expect(
        admin
            .post(&format!("/api/v1/consents/{form}/withdraw"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawal["takedown_tasks"], 1);
    let director = app.login(AccountRole::Director).await;
    let tasks = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    let publication = tasks[0]["id"].as_i64().unwrap();
    expect(
        director
            .post(&format!("/api/v1/takedowns/{publication}/done"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await,
        json!([])
    );
}

/// A photo catalogued for paging tests: distinct hash per `n`.
fn numbered_photo(app: &TestApp, n: usize, adjust: impl FnOnce(&mut photos::NewPhoto)) -> i64 {
    let conn = app.db();
    let mut photo = photos::NewPhoto {
        content_hash: format!("{n:064x}"),
        byte_size: 10,
        format: consentcam::domain::Format::Jpeg,
        original_name: format!("IMG_{n:04}.JPG"),
        width: Some(600),
        height: Some(400),
        provenance: consentcam::rules::consent::Provenance::Unknown,
        face_search: consentcam::rules::consent::FaceSearch::Done,
        ..Default::default()
    };
    adjust(&mut photo);
    photos::insert_photo(&conn, &photo, NOW.parse().unwrap())
        .unwrap()
        .0
}

#[tokio::test]
async fn the_gallery_and_the_photo_list_come_a_page_at_a_time_with_every_photo_once() {
    let app = spawn_app().await;
    let staff = app.login(AccountRole::Staff).await;
    let mut ids: Vec<i64> = (0..130).map(|n| numbered_photo(&app, n, |_| {})).collect();
    // One damaged file: blocked, whatever page it is on.
    let damaged = numbered_photo(&app, 999, |p| p.damage = Some("truncated".into()));
    ids.push(damaged);
    ids.sort_unstable();
    ids.reverse();

    // The API: pages of 50, each after the last id of the one before.
    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/photos?limit=50&after={a}"),
            None => "/api/v1/photos?limit=50".to_owned(),
        };
        let page = expect(staff.get(&path).await, StatusCode::OK).await;
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 50);
        seen.extend(page.iter().map(|p| p["id"].as_i64().unwrap()));
        after = seen.last().copied();
    }
    assert_eq!(seen, ids, "every photo once, newest first");
    let blocked = expect(
        staff.get("/api/v1/photos?status=blocked").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(blocked.as_array().unwrap().len(), 1);
    assert_eq!(blocked[0]["id"], damaged);
    assert_eq!(blocked[0]["status"], "blocked");

    // The page: 120 tiles and a link to the rest, which holds the other 11.
    let first = staff.get("/photos").await.text().await.unwrap();
    assert_eq!(first.matches("id=\"photo-").count(), 120);
    let next = first
        .split("id=\"next-page\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .and_then(|tail| tail.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(next.starts_with("/photos?after="), "{next}");
    let second = staff.get(&next).await.text().await.unwrap();
    assert_eq!(second.matches("id=\"photo-").count(), 11);
    assert!(!second.contains("id=\"next-page\""));
    for id in &ids[..120] {
        assert!(first.contains(&format!("id=\"photo-{id}\"")));
    }
    for id in &ids[120..] {
        assert!(second.contains(&format!("id=\"photo-{id}\"")));
    }
}

#[tokio::test]
async fn the_audit_log_comes_a_page_at_a_time_over_the_api_and_the_page() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    for n in 0..12 {
        learner(
            &admin,
            &format!("P{n}"),
            "Sam",
            &format!("Page{n}"),
            "2000-01-01",
        )
        .await;
    }
    let all = expect(
        admin.get("/api/v1/audit?action=person.create").await,
        StatusCode::OK,
    )
    .await;
    let all: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(all.len(), 12);
    let first = expect(
        admin
            .get("/api/v1/audit?action=person.create&limit=5")
            .await,
        StatusCode::OK,
    )
    .await;
    let last = first[4]["id"].as_i64().unwrap();
    let second = expect(
        admin
            .get(&format!(
                "/api/v1/audit?action=person.create&limit=5&before={last}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let paged: Vec<i64> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(paged, all[..10]);
    let page = admin
        .get(&format!("/audit?action=person.create&before={last}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("<td>{}</td>", all[5])), "{page}");
    assert!(!page.contains(&format!("<td>{}</td>", all[0])));
}
