//! The web UI over plain HTTP: redirects, the login form, CSRF on forms, private files and
//! evidence uploads. (The browser tests drive the same pages in Chromium.)

use consentcam::domain::AccountRole;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};

use crate::helpers::{
    TestApp, User, catalogue_photo, expect, learner, parent_form, spawn_app, spawn_with,
};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_the_login_page_but_the_api_still_says_401() {
    let app = spawn_app().await;
    let client = no_redirects();
    for path in ["/", "/photos/1", "/audit", "/admin/accounts"] {
        let response = client
            .get(app.url(path))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], "/login", "{path}");
    }
    let api = client
        .get(app.url("/api/v1/people"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    expect(api, StatusCode::UNAUTHORIZED).await;
    let login = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert!(
        login.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(login.text().await.unwrap().contains("id=\"login-form\""));
}

/// The hidden `_csrf` field of a page.
pub fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a _csrf field") + 20;
    html[at..].split('"').next().unwrap().to_owned()
}

/// Opens the login page in `client` and returns its form's token.
pub async fn login_form_token(app: &TestApp, client: &reqwest::Client) -> String {
    let page = client.get(app.url("/login")).send().await.unwrap();
    csrf_field(&page.text().await.unwrap())
}

/// Logs in with the login form as a browser does (the page first, then the post).
pub async fn form_login_in(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let token = login_form_token(app, client).await;
    client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap()
}

async fn form_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    form_login_in(app, &no_redirects(), username, password).await
}

#[tokio::test]
async fn the_login_form_needs_its_own_token_so_another_site_cannot_log_a_browser_in() {
    let app = spawn_app().await;
    let client = no_redirects();
    let without = client
        .post(app.url("/login"))
        .form(&[("username", "staff"), ("password", "staff-test-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert!(without.text().await.unwrap().contains("expired"));
    let token = login_form_token(&app, &client).await;
    let stranger = no_redirects();
    login_form_token(&app, &stranger).await;
    let wrong_session = stranger
        .post(app.url("/login"))
        .form(&[
            ("username", "staff"),
            ("password", "staff-test-password"),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_session.status(), StatusCode::FORBIDDEN);
    let right = client
        .post(app.url("/login"))
        .form(&[
            ("username", "staff"),
            ("password", "staff-test-password"),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn https_deployments_send_hsts_and_plain_ones_do_not() {
    let plain = spawn_app().await;
    let response = no_redirects()
        .get(plain.url("/login"))
        .send()
        .await
        .unwrap();
    assert!(!response.headers().contains_key("strict-transport-security"));
    let https = spawn_with(|c| c.secure_cookies = true).await;
    let response = no_redirects()
        .get(https.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn the_login_form_rotates_the_session_and_sets_a_strict_http_only_cookie() {
    let app = spawn_app().await;
    let client = no_redirects();
    let page = client
        .get(app.url("/login"))
        .header("cookie", "consentcam_session=planted-by-someone-else")
        .send()
        .await
        .unwrap();
    let before = page.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(!before.contains("planted-by-someone-else"), "{before}");
    let token = csrf_field(&page.text().await.unwrap());
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", "staff"),
            ("password", "staff-test-password"),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("consentcam_session="), "{cookie}");
    assert!(!cookie.contains("planted-by-someone-else"), "{cookie}");
    // Logging in gives the session a new id: the one the login page had is not it.
    assert_ne!(
        cookie.split(';').next(),
        before.split(';').next(),
        "{cookie} / {before}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_repeated_failures_are_throttled() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let response = form_login(&app, "staff", "not-the-password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Wrong username or password")
        );
    }
    let locked = form_login(&app, "staff", "staff-test-password").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_page_form_without_the_csrf_field_or_from_another_site_is_refused() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let without = admin
        .client
        .post(app.url("/admin/partners"))
        .header(ACCEPT, "text/html")
        .form(&[("name", "Hillside School")])
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let page = without.text().await.unwrap();
    assert!(
        page.starts_with("<!doctype html>") && page.contains("CSRF"),
        "a browser is shown the refusal as a page: {page}"
    );
    let cross_site = admin
        .client
        .post(app.url("/admin/partners"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("_csrf", admin.csrf.as_str()), ("name", "Hillside School")])
        .send()
        .await
        .unwrap();
    expect(cross_site, StatusCode::FORBIDDEN).await;
    let partners = expect(admin.get("/api/v1/partners").await, StatusCode::OK).await;
    assert_eq!(partners.as_array().unwrap().len(), 0);
    let with = admin
        .client
        .post(app.url("/admin/partners"))
        .form(&[("_csrf", admin.csrf.as_str()), ("name", "Hillside School")])
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), StatusCode::OK, "redirected to the page");
    assert!(with.text().await.unwrap().contains("Hillside School"));
}

fn multipart(field: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "consentcam-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"Amira Hassan form.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, user: &User, consent: i64, bytes: &[u8]) -> reqwest::Response {
    let (content_type, body) = multipart("evidence", bytes);
    user.client
        .post(app.url(&format!("/consents/{consent}/evidence?_csrf={}", user.csrf)))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn evidence_is_type_checked_stored_under_an_opaque_name_and_never_cached() {
    let app = spawn_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let admin = app.login(AccountRole::Admin).await;
    let person = learner(&admin, "L100", "Amira", "Hassan", "2011-10-16").await;
    let consent = parent_form(&admin, person, "2026-09-26", true, &[]).await;

    let page = upload(&app, &admin, consent, b"MZ\x90\x00 an executable").await;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("must be a PDF, JPEG or PNG")
    );
    let too_big = upload(&app, &admin, consent, &vec![b'%'; 80 * 1024]).await;
    assert!(too_big.text().await.unwrap().contains("too large"));
    let anonymous = app
        .anonymous()
        .get(&format!("/consents/{consent}/evidence"))
        .await;
    expect(anonymous, StatusCode::UNAUTHORIZED).await;

    let ok = upload(&app, &admin, consent, b"%PDF-1.4 the signed form").await;
    assert!(ok.text().await.unwrap().contains("Signed form attached"));
    let names: Vec<String> = std::fs::read_dir(app.db_path.parent().unwrap().join("evidence"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].ends_with(".pdf") && !names[0].to_lowercase().contains("amira"),
        "{names:?}"
    );

    // A scanned form is for admins only: staff see that there is one, not the scan.
    let staff = app.login(AccountRole::Staff).await;
    let refused = staff.get(&format!("/consents/{consent}/evidence")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let person_page = staff
        .get(&format!("/people/{person}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        person_page.contains("on file (admins only)"),
        "{person_page}"
    );
    assert!(!person_page.contains("/evidence\">"), "{person_page}");
    let file = admin.get(&format!("/consents/{consent}/evidence")).await;
    assert_eq!(file.status(), StatusCode::OK);
    // Reading a scan is in the audit log; the refused attempt is not a reading.
    let reads = admin
        .get("/api/v1/audit?action=consent.scan_viewed")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(reads.as_array().unwrap().len(), 1, "{reads}");
    assert_eq!(reads[0]["details"]["consent"], consent);
    assert_eq!(file.headers()[CONTENT_TYPE], "application/pdf");
    assert_eq!(file.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(
        file.bytes().await.unwrap().as_ref(),
        b"%PDF-1.4 the signed form"
    );
}

#[tokio::test]
async fn a_photo_preview_is_private_and_falls_back_to_a_placeholder() {
    let app = spawn_app().await;
    catalogue_photo(&app, "ab", |_| {});
    expect(
        app.anonymous().get("/photos/1/preview").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let staff = app.login(AccountRole::Staff).await;
    for path in ["/photos/1/preview", "/photos/1/thumbnail"] {
        let response = staff.get(path).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[CONTENT_TYPE], "image/svg+xml");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("viewBox=\"0 0 600 400\"")
        );
    }
    // Once the import has written the preview, that file is what is served.
    let config = consentcam::infra::config::Config {
        data_dir: app.db_path.parent().unwrap().to_path_buf(),
        ..consentcam::infra::config::Config::default()
    };
    let preview = config
        .data_dir
        .join(consentcam::web::ui::preview_key(&"ab".repeat(32)).unwrap());
    std::fs::create_dir_all(preview.parent().unwrap()).unwrap();
    std::fs::write(&preview, b"\xFF\xD8\xFF\xE0 a preview").unwrap();
    let served = staff.get("/photos/1/preview").await;
    assert_eq!(served.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(served.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(
        served.bytes().await.unwrap().as_ref(),
        b"\xFF\xD8\xFF\xE0 a preview"
    );

    let page = staff.get("/photos/1").await;
    assert_eq!(page.headers()[CACHE_CONTROL], "no-store");
    assert!(page.text().await.unwrap().contains("/photos/1/preview"));
    // A photo that matches no sign-out is still reachable, and says so.
    let all = staff.get("/photos").await.text().await.unwrap();
    assert!(
        all.contains("href=\"/photos/1\"") && all.contains("no sign-out"),
        "{all}"
    );
    let ready = staff
        .get("/photos?status=ready")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !ready.contains("href=\"/photos/1\""),
        "it needs tagging first"
    );
}

#[tokio::test]
async fn the_consent_lookup_posts_its_search_so_names_never_reach_a_url() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    learner(&admin, "L100", "Amira", "Hassan", "2011-10-16").await;
    let staff = app.login(AccountRole::Staff).await;
    let form = staff.get("/lookup").await.text().await.unwrap();
    assert!(form.contains("method=\"post\" action=\"/lookup\""));
    let found = staff
        .client
        .post(app.url("/lookup"))
        .form(&[("_csrf", staff.csrf.as_str()), ("q", "amira")])
        .send()
        .await
        .unwrap();
    let html = found.text().await.unwrap();
    assert!(html.contains("Amira Hassan"), "{html}");
    assert!(html.contains("no_consent") || html.contains("blocked"));
    assert!(!html.contains("href=\"/people/Amira"));
}

#[tokio::test]
async fn the_photo_page_forms_tag_cover_caption_and_refuse_an_unknown_name() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let amira = learner(&admin, "L100", "Amira", "Hassan", "2011-10-16").await;
    let ben = learner(&admin, "L101", "Ben", "Carter", "2010-11-15").await;
    let photo = catalogue_photo(&app, "cd", |p| p.original_name = "IMG_0002.JPG".into());
    let rect = consentcam::store::faces::FaceRect {
        x: 10,
        y: 10,
        w: 50,
        h: 50,
    };
    consentcam::store::faces::insert_face(
        &app.db(),
        photo,
        rect,
        consentcam::store::faces::FaceSource::Detected,
    )
    .unwrap();
    let staff = app.login(AccountRole::Staff).await;
    let post = |path: &str, fields: Vec<(&str, &str)>| {
        let mut form = vec![("_csrf", staff.csrf.as_str())];
        form.extend(fields);
        staff.client.post(app.url(path)).form(&form).send()
    };

    let page = post(
        "/photos/1/faces/1",
        vec![("action", "assign"), ("person", "L100 · Amira Hassan")],
    )
    .await
    .unwrap();
    assert!(page.text().await.unwrap().contains("Face assigned"));
    let nobody = post("/photos/1/tags", vec![("person", "Nobody Here")])
        .await
        .unwrap();
    assert!(
        nobody
            .text()
            .await
            .unwrap()
            .contains("nobody on the register matches")
    );
    post("/photos/1/tags", vec![("person", "ben carter")])
        .await
        .unwrap();
    let photo = expect(staff.get("/api/v1/photos/1").await, StatusCode::OK).await;
    assert_eq!(photo["faces"][0]["resolution"]["state"], "person");
    assert_eq!(photo["faces"][0]["resolution"]["person_id"], amira);
    let ben_tag = photo["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["person_id"] == ben)
        .expect("Ben is tagged")["id"]
        .as_i64()
        .unwrap();

    post(
        &format!("/photos/1/tags/{ben_tag}/covered"),
        vec![("covered", "yes")],
    )
    .await
    .unwrap();
    post("/photos/1/caption", vec![("caption", "Amira at work")])
        .await
        .unwrap();
    post("/photos/1/tags", vec![("unknown", "yes")])
        .await
        .unwrap();
    let photo = expect(staff.get("/api/v1/photos/1").await, StatusCode::OK).await;
    let ben_row = photo["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == ben_tag)
        .unwrap()
        .clone();
    assert_eq!(ben_row["covered"], true);
    assert_eq!(photo["photo"]["caption"], "Amira at work");
    let internal = photo["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"]["kind"] == "internal")
        .unwrap()
        .to_string();
    assert!(internal.contains("caption_names_person"), "{internal}");
    assert!(internal.contains("unknown_person"), "{internal}");

    let html = staff.get("/photos/1").await.text().await.unwrap();
    assert!(html.contains("face 1") && html.contains("added by hand"));
}

/// The whole-photo tagging form works with no script: a plain form post.
#[tokio::test]
async fn the_tagging_form_is_one_plain_post_and_a_mistake_comes_back_with_its_face_named() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let amira = learner(&admin, "L100", "Amira", "Hassan", "2011-10-16").await;
    learner(&admin, "L101", "Ben", "Carter", "2010-11-15").await;
    let photo = catalogue_photo(&app, "ce", |p| p.original_name = "IMG_0003.JPG".into());
    let face = |x| {
        consentcam::store::faces::insert_face(
            &app.db(),
            photo,
            consentcam::store::faces::FaceRect {
                x,
                y: 10,
                w: 50,
                h: 50,
            },
            consentcam::store::faces::FaceSource::Detected,
        )
        .unwrap()
        .to_string()
    };
    let (one, two) = (face(10), face(100));
    let staff = app.login(AccountRole::Staff).await;
    let post = |fields: Vec<(String, String)>| {
        let mut form = vec![("_csrf".to_owned(), staff.csrf.clone())];
        form.extend(fields);
        staff
            .client
            .post(app.url(&format!("/photos/{}/tagging", photo.0)))
            .form(&form)
            .send()
    };
    let field = |k: String, v: &str| (k, v.to_owned());

    // A name nobody has: 422, the page again with the problem at face 2, nothing saved.
    let refused = post(vec![
        field("face".into(), &one),
        field(format!("person-{one}"), "L100"),
        field("face".into(), &two),
        field(format!("person-{two}"), "Nobody Here"),
        field("everyone".into(), "yes"),
        field("then".into(), "stay"),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Nothing was saved"), "{html}");
    assert!(html.contains(&format!("id=\"problem-{two}\"")), "{html}");
    assert!(
        html.contains("value=\"Nobody Here\""),
        "what was typed is kept"
    );
    let stored = expect(
        staff.get(&format!("/api/v1/photos/{}", photo.0)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["faces"][0]["resolution"]["state"], "unresolved");

    // Mended: Amira covered on face 1, face 2 not a face, everyone tagged, in one post.
    let saved = post(vec![
        field("face".into(), &one),
        field(format!("person-{one}"), "amira"),
        field(format!("cover-{one}"), "yes"),
        field("face".into(), &two),
        field(format!("dismiss-{two}"), "yes"),
        field("everyone".into(), "yes"),
        field("then".into(), "stay"),
    ])
    .await
    .unwrap();
    assert!(saved.text().await.unwrap().contains("saved"));
    let stored = expect(
        staff.get(&format!("/api/v1/photos/{}", photo.0)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["faces"][0]["resolution"]["person_id"], amira);
    assert_eq!(stored["faces"][1]["resolution"]["state"], "dismissed");
    assert_eq!(stored["tags"][0]["covered"], true);
    assert_eq!(stored["photo"]["people_confirmed"], true);
}

#[tokio::test]
async fn the_audit_log_filters_and_exports_csv_for_oversight_only() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    learner(&admin, "L100", "Amira", "Hassan", "2011-10-16").await;
    expect(
        admin
            .post(
                "/api/v1/partners",
                serde_json::json!({ "name": "Hillside School" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let director = app.login(AccountRole::Director).await;
    let page = director
        .get("/audit?action=partner.")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("partner.create"), "{page}");
    assert!(!page.contains("person.create"), "the filter applies");
    assert!(!page.contains("Amira"), "the log holds ids, never names");

    let csv = director.get("/audit.csv?action=person.").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(csv.headers()[CACHE_CONTROL], "no-store");
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,at,actor,action,subject,details");
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains("person.create") && lines[1].contains("person:1"));

    let bad_date = director.get("/audit?since=yesterday").await;
    assert_eq!(bad_date.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_csv_import_page_shows_every_bad_row_and_imports_nothing() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let csv = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on\n\
               L100,Amira,Hassan,2011-10-16,learner,no,parent,Samira Hassan,2026-09-26,yes,,yes,yes,,\n\
               L101,Ben,Carter,not-a-date,learner,no,parent,Joanne Carter,2026-09-26,yes,,no,no,,\n\
               L102,Chloe,Davies,2008-10-25,pupil,no,self,,2026-09-26,yes,,yes,yes,,\n";
    let (content_type, body) = multipart("file", csv.as_bytes());
    let response = admin
        .client
        .post(app.url(&format!("/admin/import?_csrf={}", admin.csrf)))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("2 bad row(s)"), "{page}");
    assert!(
        page.contains("<td>3</td>") && page.contains("<td>4</td>"),
        "{page}"
    );
    let people = expect(admin.get("/api/v1/people").await, StatusCode::OK).await;
    assert_eq!(people.as_array().unwrap().len(), 0, "all or nothing");

    let good = &csv[..csv.find("L101").unwrap()];
    let (content_type, body) = multipart("file", good.as_bytes());
    let response = admin
        .client
        .post(app.url(&format!("/admin/import?_csrf={}", admin.csrf)))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("1 people created"));
}

#[tokio::test]
async fn an_admin_corrects_a_forms_signer_and_expiry_but_staff_cannot() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let person = learner(&admin, "L100", "Amira", "Hassan", "2011-10-16").await;
    let consent = parent_form(&admin, person, "2026-09-26", true, &[]).await;
    let staff = app.login(AccountRole::Staff).await;
    let refused = staff
        .client
        .post(app.url(&format!("/consents/{consent}")))
        .form(&[
            ("_csrf", staff.csrf.as_str()),
            ("signer_name", "Someone Else"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = admin
        .client
        .post(app.url(&format!("/consents/{consent}")))
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("signer_name", "Samira Hassan"),
            ("expires_on", "2027-07-31"),
        ])
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("Form corrected"));
    let forms = expect(
        admin
            .get(&format!("/api/v1/people/{person}/consents"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(forms[0]["signer_name"], "Samira Hassan");
    assert_eq!(forms[0]["expires_on"], "2027-07-31");
    assert_eq!(
        forms[0]["scopes"]["website"], true,
        "grants are not editable"
    );
}

/// Everything the server logs, captured in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn names_typed_into_pages_never_reach_the_logs() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "consentcam=trace,tower_http=trace",
        ))
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    // Global, so the server's tasks and blocking threads log here too; this is the only
    // test in the binary that installs a subscriber.
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");

    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let person = learner(&admin, "L100", "Zanzibar", "Quixotic", "2011-10-16").await;
    let consent = parent_form(&admin, person, "2026-09-26", true, &[]).await;
    upload(&app, &admin, consent, b"%PDF-1.4 Zanzibar Quixotic").await;
    let staff = app.login(AccountRole::Staff).await;
    staff
        .client
        .post(app.url("/lookup"))
        .form(&[("_csrf", staff.csrf.as_str()), ("q", "Zanzibar Quixotic")])
        .send()
        .await
        .unwrap();
    staff
        .client
        .get(app.url(&format!("/people/{person}")))
        .send()
        .await
        .unwrap();

    let logs = String::from_utf8_lossy(
        &captured
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    assert!(logs.contains("logged in"), "the capture works: {logs}");
    assert!(
        logs.contains("/people/{id}"),
        "routes are logged as patterns"
    );
    assert!(
        !logs.contains("Zanzibar") && !logs.contains("Quixotic"),
        "a name reached the logs:\n{logs}"
    );
}

#[tokio::test]
async fn a_director_acknowledges_a_provenance_warning_and_rejects_only_with_a_note() {
    let app = spawn_app().await;
    catalogue_photo(&app, "ef", |p| {
        p.original_name = "IMG_0006.JPG".into();
        p.provenance = consentcam::rules::consent::Provenance::OutsideSignOut;
    });
    let staff = app.login(AccountRole::Staff).await;
    let refused = staff
        .client
        .post(app.url("/photos/1/provenance"))
        .form(&[("_csrf", staff.csrf.as_str()), ("note", "looks fine")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let director = app.login(AccountRole::Director).await;
    let post = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("_csrf", director.csrf.as_str())];
        form.extend(fields);
        director.client.post(app.url(path)).form(&form).send()
    };
    let page = director.get("/photos/1").await.text().await.unwrap();
    assert!(
        page.contains("id=\"provenance-form\""),
        "the warning is offered"
    );
    let no_note = post("/photos/1/provenance", vec![("note", " ")])
        .await
        .unwrap();
    assert!(no_note.text().await.unwrap().contains("needs a note"));
    let acknowledged = post(
        "/photos/1/provenance",
        vec![(
            "note",
            "Taken at the open day by our camera; clock was wrong",
        )],
    )
    .await
    .unwrap();
    let page = acknowledged.text().await.unwrap();
    assert!(page.contains("Provenance warning acknowledged"), "{page}");
    assert!(!page.contains("id=\"provenance-form\""));
    assert!(page.contains("clock was wrong"));

    let bare = post(
        "/photos/1/approvals",
        vec![("channel", "website"), ("decision", "reject"), ("note", "")],
    )
    .await
    .unwrap();
    assert!(bare.text().await.unwrap().contains("needs a note"));
    let rejected = post(
        "/photos/1/approvals",
        vec![
            ("channel", "website"),
            ("decision", "reject"),
            ("note", "Not the image we want"),
        ],
    )
    .await
    .unwrap();
    assert!(
        rejected
            .text()
            .await
            .unwrap()
            .contains("Rejected, with your note")
    );
    let photo = expect(director.get("/api/v1/photos/1").await, StatusCode::OK).await;
    assert_eq!(photo["approvals"][0]["approved"], false);
    assert_eq!(photo["approvals"][0]["note"], "Not the image we want");
}

#[tokio::test]
async fn the_drawing_page_takes_two_clicks_or_typed_pixels_and_names_a_bad_box() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let ben = learner(&admin, "L101", "Ben", "Carter", "2010-11-15").await;
    // A 600 x 400 photo: the drawing page shows it 960 wide, so a click's CSS pixels are
    // the picture's pixels times 600/960.
    catalogue_photo(&app, "ce", |_| {});
    let staff = app.login(AccountRole::Staff).await;
    let post = |path: &str, fields: Vec<(&str, &str)>| {
        let mut form = vec![("_csrf", staff.csrf.as_str())];
        form.extend(fields);
        staff.client.post(app.url(path)).form(&form).send()
    };

    let page = staff.get("/photos/1/draw").await.text().await.unwrap();
    assert!(
        page.contains("type=\"image\"") && page.contains("width=\"960\""),
        "{page}"
    );
    // First corner: the page comes back with it marked.
    let first = post(
        "/photos/1/draw",
        vec![("at.x", "96"), ("at.y", "160"), ("person", "L101")],
    )
    .await
    .unwrap();
    assert!(first.url().as_str().contains("x1=60"), "{}", first.url());
    let html = first.text().await.unwrap();
    assert!(
        html.contains("opposite corner") && html.contains("class=\"corner\""),
        "{html}"
    );
    // Second corner.
    let done = post(
        "/photos/1/draw",
        vec![
            ("at.x", "192"),
            ("at.y", "320"),
            ("x1", "60"),
            ("y1", "100"),
            ("person", "L101"),
        ],
    )
    .await
    .unwrap();
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Face box added and assigned")
    );
    // Typed, in pixels, beyond the picture: refused with the picture's size.
    let outside = post(
        "/photos/1/draw",
        vec![("x", "580"), ("y", "10"), ("w", "50"), ("h", "50")],
    )
    .await
    .unwrap();
    assert!(
        outside
            .text()
            .await
            .unwrap()
            .contains("inside the picture (600 x 400 pixels)")
    );
    let typed = post(
        "/photos/1/draw",
        vec![("x", "300"), ("y", "20"), ("w", "40"), ("h", "48")],
    )
    .await
    .unwrap();
    assert!(typed.text().await.unwrap().contains("Face box added"));

    let photo = expect(staff.get("/api/v1/photos/1").await, StatusCode::OK).await;
    let faces = photo["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 2);
    // In reading order: the typed box (higher on the picture) first, then the clicked one.
    let (typed, clicked) = (&faces[0], &faces[1]);
    assert_eq!(
        (clicked["x"].as_u64(), clicked["y"].as_u64()),
        (Some(60), Some(100))
    );
    assert_eq!(
        (clicked["w"].as_u64(), clicked["h"].as_u64()),
        (Some(60), Some(100))
    );
    assert_eq!(clicked["source"], "drawn");
    assert_eq!(clicked["resolution"]["person_id"], ben);
    assert_eq!(
        (typed["x"].as_u64(), typed["y"].as_u64()),
        (Some(300), Some(20))
    );
    assert_eq!(typed["resolution"]["state"], "unresolved");
}

#[tokio::test]
async fn a_director_acknowledges_a_photo_whose_faces_were_not_looked_for() {
    let app = spawn_app().await;
    catalogue_photo(&app, "cf", |p| {
        p.face_search = consentcam::rules::consent::FaceSearch::Skipped;
    });
    let staff = app.login(AccountRole::Staff).await;
    let page = staff.get("/photos/1").await.text().await.unwrap();
    assert!(page.contains("imported without face detection"), "{page}");
    assert!(!page.contains("faces-ack-form"));
    let director = app.login(AccountRole::Director).await;
    let page = director.get("/photos/1").await.text().await.unwrap();
    assert!(page.contains("faces-ack-form"));
    let empty = director
        .form("/photos/1/faces-acknowledgement", &[("note", " ")])
        .await;
    assert!(empty.contains("needs a note"), "{empty}");
    let done = director
        .form(
            "/photos/1/faces-acknowledgement",
            &[("note", "Checked by eye: nobody is in it")],
        )
        .await;
    assert!(done.contains("Acknowledged"), "{done}");
    let decisions = expect(
        director.get("/api/v1/photos/1/decisions").await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<&str> = decisions[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"faces_acknowledged"), "{codes:?}");
    assert!(!codes.contains(&"faces_not_looked_for"), "{codes:?}");
    // A second acknowledgement is refused: the first one's note stays.
    let again = expect(
        director
            .post(
                "/api/v1/photos/1/faces/acknowledgement",
                serde_json::json!({ "note": "again" }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        again.to_string().contains("already acknowledged"),
        "{again}"
    );
}

#[tokio::test]
async fn the_renewal_list_shows_forms_that_lapse_soon_and_learners_turning_18() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let lapsing = learner(&admin, "L1", "Robin", "Okafor", "2012-01-01").await;
    parent_form(&admin, lapsing, "2025-12-05", true, &[]).await;
    let turning = learner(&admin, "L2", "Sam", "Ng", "2008-12-10").await;
    parent_form(&admin, turning, "2026-09-01", true, &[]).await;
    let fine = learner(&admin, "L3", "Ada", "Lee", "2012-01-01").await;
    parent_form(&admin, fine, "2026-09-01", true, &[]).await;

    let page = admin.get("/renewals").await.text().await.unwrap();
    let table = page.split("id=\"renewals\"").nth(1).expect("a list");
    let robin = table.find("Robin Okafor").expect("Robin's form lapses");
    let sam = table.find("Sam Ng").expect("Sam turns 18");
    assert!(robin < sam, "soonest first: {table}");
    assert!(
        table.contains("2026-12-05") && table.contains("2026-12-10"),
        "{table}"
    );
    assert!(table.contains("needs their own form"), "{table}");
    assert!(!table.contains("Ada Lee"), "{table}");

    let csv = admin.get("/renewals.csv").await;
    assert_eq!(csv.headers()[CACHE_CONTROL], "no-store");
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.contains("L1,Robin Okafor,2026-12-05,form lapses"),
        "{csv}"
    );

    let dashboard = admin.get("/").await.text().await.unwrap();
    assert!(dashboard.contains("id=\"renewal-count\">2<"), "{dashboard}");
    let staff = app.login(AccountRole::Staff).await;
    assert_eq!(staff.get("/renewals").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        staff.get("/renewals.csv").await.status(),
        StatusCode::FORBIDDEN
    );
}
