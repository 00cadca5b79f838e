use consentcam::domain::AccountRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{expect, learner, parent_form, spawn_app};

fn channel<'a>(today: &'a Value, code: &str) -> &'a Value {
    today
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            let ch = &c["channel"];
            match ch["kind"].as_str().unwrap() {
                "partner" => format!("partner:{}", ch["partner_id"]) == code,
                kind => kind == code,
            }
        })
        .unwrap_or_else(|| panic!("no channel {code} in {today}"))
}

#[tokio::test]
async fn a_person_with_a_parents_form_gets_a_per_channel_answer() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let school = expect(
        admin
            .post("/api/v1/partners", json!({ "name": "Hillside School" }))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let other = expect(
        admin
            .post("/api/v1/partners", json!({ "name": "Riverside Academy" }))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let robin = learner(&admin, "L001", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", false, &[school]).await;

    let staff = app.login(AccountRole::Staff).await;
    let page = expect(
        staff.get(&format!("/api/v1/people/{robin}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["consents"].as_array().unwrap().len(), 1);
    let today = &page["today"];
    assert_eq!(channel(today, "internal")["verdict"], "allowed");
    assert_eq!(
        channel(today, &format!("partner:{school}"))["verdict"],
        "allowed"
    );
    assert_eq!(
        channel(today, &format!("partner:{other}"))["verdict"],
        "blocked"
    );
    let website = channel(today, "website");
    assert_eq!(website["verdict"], "blocked");
    assert_eq!(website["reasons"][0]["code"], "consent_withheld");
    assert!(
        website["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Robin Okafor")
    );
}

#[tokio::test]
async fn the_consent_lookup_finds_by_name_or_ref_with_the_query_in_the_body() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L001", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    learner(&admin, "L002", "Sam", "Ng", "2011-04-01").await;

    let staff = app.login(AccountRole::Staff).await;
    let by_name = expect(
        staff
            .post("/api/v1/lookup", json!({ "q": "robin oka" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_name.as_array().unwrap().len(), 1);
    assert_eq!(
        channel(&by_name[0]["today"], "website")["verdict"],
        "allowed"
    );
    let by_ref = expect(
        staff.post("/api/v1/lookup", json!({ "q": "L002" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_ref[0]["person"]["given_name"], "Sam");
    assert_eq!(
        channel(&by_ref[0]["today"], "internal")["reasons"][0]["code"],
        "no_consent"
    );
    expect(
        staff.post("/api/v1/lookup", json!({ "q": "  " })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn staff_can_read_people_but_not_change_them() {
    let app = spawn_app().await;
    let staff = app.login(AccountRole::Staff).await;
    let response = staff
        .post(
            "/api/v1/people",
            json!({ "ref": "L9", "given_name": "A", "family_name": "B", "date_of_birth": "2010-01-01", "role": "learner" }),
        )
        .await;
    expect(response, StatusCode::FORBIDDEN).await;
    expect(staff.get("/api/v1/people").await, StatusCode::OK).await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_never_a_500() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L001", "Robin", "Okafor", "2011-04-01").await;
    let cases = [
        (
            json!({ "ref": "L2", "given_name": "A", "family_name": "B", "date_of_birth": "2010-02-30", "role": "learner" }),
            "/api/v1/people",
        ),
        (
            json!({ "ref": "L2", "given_name": "A", "family_name": "B", "date_of_birth": "2010-02-01", "role": "pupil" }),
            "/api/v1/people",
        ),
        (
            json!({ "ref": "", "given_name": "A", "family_name": "B", "date_of_birth": "2010-02-01", "role": "learner" }),
            "/api/v1/people",
        ),
        (
            json!({ "ref": "L3", "given_name": "A", "family_name": "B", "date_of_birth": "2030-02-01", "role": "learner" }),
            "/api/v1/people",
        ),
        (json!({ "ref": "L1", "given_name": "A" }), "/api/v1/people"),
        (
            json!({ "signer": "parent", "signed_on": "2026-09-01", "internal": true, "website": true, "social": true }),
            "/api/v1/people/1/consents",
        ),
        (
            json!({ "signer": "uncle", "signer_name": "X", "signed_on": "2026-09-01", "internal": true, "website": true, "social": true }),
            "/api/v1/people/1/consents",
        ),
        (
            json!({ "signer": "parent", "signer_name": "X", "signed_on": "2026-09-01", "internal": true, "website": true, "social": true, "partners": [99] }),
            "/api/v1/people/1/consents",
        ),
        (
            json!({ "signer": "parent", "signer_name": "X", "signed_on": "2026-09-01", "expires_on": "2026-08-01", "internal": true, "website": true, "social": true }),
            "/api/v1/people/1/consents",
        ),
        (
            json!({ "signer": "parent", "signer_name": "X", "signed_on": "2026-09-01", "internal": true, "website": true, "social": true }),
            "/api/v1/people/999/consents",
        ),
        (json!({ "name": "" }), "/api/v1/partners"),
        (
            json!({ "label": "C", "make": "M", "model": "X", "serial": "1", "tag_uid": "nothex!!" }),
            "/api/v1/devices",
        ),
        (
            json!({ "uid": "04A1B2C3", "person_id": 999 }),
            "/api/v1/badges",
        ),
    ];
    assert_eq!(robin, 1);
    for (body, path) in cases {
        let status = admin.post(path, body.clone()).await.status();
        assert!(status.is_client_error(), "{path} {body} gave {status}");
    }
    let not_json = admin
        .client
        .post(app.url("/api/v1/people"))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let body = expect(not_json, StatusCode::BAD_REQUEST).await;
    assert!(body["message"].as_str().unwrap().contains("request body"));
    expect(
        admin.get("/api/v1/people/abc").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect(
        admin.get("/api/v1/people/12345").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let duplicate = admin
        .post(
            "/api/v1/people",
            json!({ "ref": "L001", "given_name": "A", "family_name": "B", "date_of_birth": "2010-02-01", "role": "learner" }),
        )
        .await;
    expect(duplicate, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn the_csv_import_reports_bad_rows_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let header = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on";
    let bad = format!(
        "{header}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\nL2,Sam,Ng,2011-13-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n"
    );
    let response = admin
        .client
        .post(app.url("/api/v1/consents/import"))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "text/csv")
        .body(bad)
        .send()
        .await
        .unwrap();
    let body = expect(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["details"]["rows"][0]["line"], 3);
    assert_eq!(
        expect(admin.get("/api/v1/people").await, StatusCode::OK).await,
        json!([])
    );

    let good = format!(
        "{header}\nL1,Robin,Okafor,2011-04-01,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n"
    );
    let response = admin
        .client
        .post(app.url("/api/v1/consents/import"))
        .header("x-csrf-token", &admin.csrf)
        .body(good)
        .send()
        .await
        .unwrap();
    let report = expect(response, StatusCode::OK).await;
    assert_eq!(report["forms_added"], 1);
}

#[tokio::test]
async fn a_withdrawal_blocks_at_once_and_is_audited() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let robin = learner(&admin, "L001", "Robin", "Okafor", "2011-04-01").await;
    let form = parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let withdrawal = expect(
        admin
            .post(&format!("/api/v1/consents/{form}/withdraw"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawal["consent"]["withdrawn_on"], crate::helpers::TODAY);
    let page = expect(
        admin.get(&format!("/api/v1/people/{robin}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        channel(&page["today"], "internal")["reasons"][0]["code"],
        "consent_withdrawn"
    );
    expect(
        admin
            .post(&format!("/api/v1/consents/{form}/withdraw"), json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let log = expect(
        admin.get("/api/v1/audit?action=consent.").await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "consent.withdrawal_effects",
            "consent.withdraw",
            "consent.add"
        ]
    );
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|r| r["subject"] == format!("person:{robin}"))
    );
}

#[tokio::test]
async fn only_an_admin_with_a_reason_lowers_the_vulnerable_flag_and_the_audit_keeps_it() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let person = json!({ "ref": "L9", "given_name": "Jo", "family_name": "Day",
                         "date_of_birth": "2011-01-01", "role": "learner", "vulnerable": true });
    let id = expect(
        admin.post("/api/v1/people", person.clone()).await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut lowered = person.clone();
    lowered["vulnerable"] = json!(false);
    let refused = expect(
        admin
            .put(&format!("/api/v1/people/{id}"), lowered.clone())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused.to_string().contains("needs a reason"), "{refused}");
    let staff = app.login(AccountRole::Staff).await;
    lowered["reason"] = json!("assessed by the DSL, plan closed");
    expect(
        staff
            .put(&format!("/api/v1/people/{id}"), lowered.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(
        admin.put(&format!("/api/v1/people/{id}"), lowered).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let entries = expect(
        admin
            .get("/api/v1/audit?action=person.update&limit=10")
            .await,
        StatusCode::OK,
    )
    .await;
    let entry = &entries.as_array().unwrap()[0];
    assert_eq!(entry["details"]["fields"], json!(["vulnerable"]));
    // The reason is a note on the person the entry points to (free text stays out of the
    // hash-chained log, so an erasure can remove it).
    let note = entry["details"]["vulnerable_lowered_note"]
        .as_i64()
        .unwrap();
    let page = expect(
        admin.get(&format!("/api/v1/people/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["notes"][0]["id"], note, "{page}");
    assert_eq!(page["notes"][0]["text"], "assessed by the DSL, plan closed");
    let staff_view = expect(
        staff.get(&format!("/api/v1/people/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(staff_view.get("notes").is_none(), "{staff_view}");
    assert!(entry["actor"].as_str().unwrap().starts_with("account:"));
}

#[tokio::test]
async fn a_person_marked_as_left_keeps_their_forms_until_the_retention_years_have_passed() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let staff = app.login(AccountRole::Staff).await;
    let leaver = learner(&admin, "L1", "Robin", "Okafor", "2008-01-01").await;
    parent_form(&admin, leaver, "2024-09-01", true, &[]).await;
    let stayer = learner(&admin, "L2", "Amira", "Hassan", "2008-01-01").await;
    parent_form(&admin, stayer, "2024-09-01", true, &[]).await;

    let path = format!("/api/v1/people/{leaver}/left");
    assert_eq!(
        staff
            .put(&path, json!({ "left_on": "2026-07-20" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let future = expect(
        admin.put(&path, json!({ "left_on": "2030-01-01" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(future.to_string().contains("in the future"), "{future}");
    // From the page, as an admin does it.
    let page = admin
        .form(
            &format!("/people/{leaver}/left"),
            &[("left_on", "2026-07-20")],
        )
        .await;
    assert!(page.contains("Recorded as left on 2026-07-20"), "{page}");
    assert!(page.contains("left on 2026-07-20"), "{page}");
    let record = expect(
        admin.get(&format!("/api/v1/people/{leaver}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(record["person"]["left_on"], "2026-07-20");

    let dir = app.db_path.parent().unwrap();
    let purge = |retention: &str| {
        let config = dir.join("purge.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\n[retention]\n{retention}\n",
                dir.to_str().unwrap()
            ),
        )
        .unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_consentcam"))
            .arg("--config")
            .arg(&config)
            .arg("purge")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    // Six years (the default) have not passed: the forms stay.
    let out = purge("");
    assert!(out.status.success());
    let forms = |id: i64| {
        let admin = &admin;
        async move {
            expect(
                admin.get(&format!("/api/v1/people/{id}/consents")).await,
                StatusCode::OK,
            )
            .await
            .as_array()
            .unwrap()
            .len()
        }
    };
    assert_eq!(forms(leaver).await, 1);
    let out = purge("former_person_years = 0");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 form(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(forms(leaver).await, 0, "the leaver's forms are gone");
    assert_eq!(forms(stayer).await, 1, "everyone else's stay");
    let audit = expect(
        admin.get("/api/v1/audit?action=retention.purge").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit[0]["details"]["forms_of_people"], json!([leaver]));
    assert_eq!(audit[0]["details"]["counts"]["forms"], 1);
}

#[tokio::test]
async fn the_register_comes_a_page_at_a_time_in_name_order_with_nobody_missed_or_twice() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    // Names that sort differently by case and share family names.
    let names = [
        ("L1", "Robin", "okafor"),
        ("L2", "Sam", "Ng"),
        ("L3", "amy", "Okafor"),
        ("L4", "Zoe", "Abbott"),
        ("L5", "Ben", "ng"),
        ("L6", "Cal", "Okafor"),
        ("L7", "Dee", "Young"),
    ];
    for (ext_ref, given, family) in names {
        learner(&admin, ext_ref, given, family, "2011-04-01").await;
    }
    let whole = expect(admin.get("/api/v1/people").await, StatusCode::OK).await;
    let refs = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["ext_ref"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(refs(&whole), ["L4", "L5", "L2", "L3", "L6", "L1", "L7"]);
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let page = expect(
            admin.get(&format!("/api/v1/people?limit=3{after}")).await,
            StatusCode::OK,
        )
        .await;
        let got = page.as_array().unwrap();
        if got.is_empty() {
            break;
        }
        assert!(got.len() <= 3);
        after = format!("&after={}", got.last().unwrap()["id"]);
        paged.extend(refs(&page));
    }
    assert_eq!(paged, refs(&whole));
    assert_eq!(
        expect(admin.get("/api/v1/people?limit=0").await, StatusCode::OK)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        admin.get("/api/v1/people?page=2").await.status(),
        StatusCode::BAD_REQUEST
    );
}
