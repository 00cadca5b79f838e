use consentcam::domain::AccountRole;
use consentcam::web::access::{Access, all_routes};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, expect, spawn_app, spawn_with};

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{face}", "1")
        .replace("{tag}", "1")
        .replace("{contact}", "1")
}

#[tokio::test]
async fn every_route_but_login_and_health_needs_a_login() {
    let app = spawn_app().await;
    let anonymous = app.anonymous();
    for (method, path, access) in all_routes() {
        let response = anonymous
            .call(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete(path),
                Some(json!({})),
            )
            .await;
        let status = response.status();
        match access {
            Access::Public => assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path}"),
            _ => assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}"),
        }
    }
}

#[tokio::test]
async fn roles_are_enforced_per_route() {
    let app = spawn_app().await;
    let staff = app.login(AccountRole::Staff).await;
    let director = app.login(AccountRole::Director).await;
    let admin = app.login(AccountRole::Admin).await;
    for (method, path, access) in all_routes() {
        // Logging out would end the session the rest of the walk needs.
        if matches!(access, Access::Public | Access::Kiosk)
            || *path == "/api/v1/logout"
            || *path == "/logout"
        {
            continue;
        }
        for (user, role) in [
            (&staff, AccountRole::Staff),
            (&director, AccountRole::Director),
            (&admin, AccountRole::Admin),
        ] {
            let status = user
                .call(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &concrete(path),
                    Some(json!({})),
                )
                .await
                .status();
            if access.admits(role) {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{role} should reach {method} {path}, got {status}"
                );
                assert_ne!(
                    status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{method} {path} as {role}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} must not reach {method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_failures_are_throttled() {
    let app = spawn_app().await;
    let client = app.anonymous();
    for _ in 0..5 {
        let response = client
            .post(
                "/api/v1/login",
                json!({ "username": "staff", "password": "wrong-password-x" }),
            )
            .await;
        expect(response, StatusCode::UNAUTHORIZED).await;
    }
    let locked = client
        .post(
            "/api/v1/login",
            json!({ "username": "staff", "password": "staff-test-password" }),
        )
        .await;
    assert!(locked.headers().contains_key("retry-after"));
    expect(locked, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict() {
    let app = spawn_app().await;
    let response = app
        .anonymous()
        .post(
            "/api/v1/login",
            json!({ "username": "admin", "password": "admin-test-password" }),
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("consentcam_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
}

#[tokio::test]
async fn secure_cookies_can_be_required() {
    let app = spawn_with(|c| c.secure_cookies = true).await;
    let response = app
        .anonymous()
        .post(
            "/api/v1/login",
            json!({ "username": "admin", "password": "admin-test-password" }),
        )
        .await;
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    let mut admin = app.login(AccountRole::Admin).await;
    admin.csrf = "not-the-token".into();
    let body = expect(
        admin
            .post("/api/v1/partners", json!({ "name": "Hillside" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("CSRF"));
}

#[tokio::test]
async fn a_cross_site_request_is_refused_even_with_the_token() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let response = admin
        .client
        .post(app.url("/api/v1/partners"))
        .header("x-csrf-token", &admin.csrf)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "name": "Hillside" }))
        .send()
        .await
        .unwrap();
    expect(response, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = spawn_app().await;
    let staff = app.login(AccountRole::Staff).await;
    expect(staff.get("/api/v1/session").await, StatusCode::OK).await;
    expect(
        staff.post("/api/v1/logout", json!({})).await,
        StatusCode::OK,
    )
    .await;
    expect(staff.get("/api/v1/session").await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_kiosk_token_opens_only_the_kiosk_routes() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let roster = client
        .get(app.url("/api/v1/kiosk/roster"))
        .bearer_auth(&app.kiosk_token)
        .send()
        .await
        .unwrap();
    expect(roster, StatusCode::OK).await;
    let people = client
        .get(app.url("/api/v1/people"))
        .bearer_auth(&app.kiosk_token)
        .send()
        .await
        .unwrap();
    expect(people, StatusCode::FORBIDDEN).await;
    let wrong = client
        .get(app.url("/api/v1/kiosk/roster"))
        .bearer_auth("0000")
        .send()
        .await
        .unwrap();
    expect(wrong, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_store() {
    let app = spawn_app().await;
    for path in ["/health", "/api/v1/people", "/no/such/route"] {
        let response = app.anonymous().get(path).await;
        let headers = response.headers();
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'"),
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let body = expect(
        app.anonymous().get("/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn admins_create_accounts_with_a_minimum_password_length() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let short = admin
        .post(
            "/api/v1/accounts",
            json!({ "username": "newstaff", "password": "short", "role": "staff" }),
        )
        .await;
    expect(short, StatusCode::UNPROCESSABLE_ENTITY).await;
    let ok = admin
        .post(
            "/api/v1/accounts",
            json!({ "username": "newstaff", "password": "long-enough-pass", "role": "staff" }),
        )
        .await;
    expect(ok, StatusCode::CREATED).await;
    let login = app
        .anonymous()
        .post(
            "/api/v1/login",
            json!({ "username": "newstaff", "password": "long-enough-pass" }),
        )
        .await;
    expect(login, StatusCode::OK).await;
}

#[tokio::test]
async fn an_html_form_may_carry_the_csrf_token_as_a_field() {
    let app = spawn_app().await;
    let staff = app.login(AccountRole::Staff).await;
    let post_form = |token: String| {
        staff
            .client
            .post(app.url("/api/v1/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("other=1&_csrf={token}"))
            .send()
    };
    expect(
        post_form("wrong".into()).await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(post_form(staff.csrf.clone()).await.unwrap(), StatusCode::OK).await;
}

#[tokio::test]
async fn a_kiosk_token_opens_no_route_but_the_kiosk_routes() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for (method, path, access) in all_routes() {
        let status = client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&concrete(path)),
            )
            .bearer_auth(&app.kiosk_token)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status();
        match access {
            Access::Public => {}
            Access::Kiosk => assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "the kiosk should reach {method} {path}, got {status}"
            ),
            _ => assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "a kiosk token must not open {method} {path}"
            ),
        }
    }
}

#[tokio::test]
async fn nobody_reaches_what_belongs_to_another_role_by_guessing_ids() {
    let app = spawn_app().await;
    let staff = app.login(AccountRole::Staff).await;
    let director = app.login(AccountRole::Director).await;
    let admin_id = expect(
        app.login(AccountRole::Admin)
            .await
            .get("/api/v1/session")
            .await,
        StatusCode::OK,
    )
    .await["account_id"]
        .as_i64()
        .unwrap();
    // Staff cannot read the audit log (API, page, CSV), the accounts, or change another
    // account; a director cannot use the admin pages.
    for path in [
        "/api/v1/audit".to_owned(),
        format!("/api/v1/audit?subject=account:{admin_id}"),
        "/audit".to_owned(),
        "/audit.csv".to_owned(),
        "/api/v1/accounts".to_owned(),
        "/admin/accounts".to_owned(),
        "/takedowns".to_owned(),
        "/approvals".to_owned(),
    ] {
        expect(staff.get(&path).await, StatusCode::FORBIDDEN).await;
    }
    expect(
        staff
            .put(
                &format!("/api/v1/accounts/{admin_id}"),
                json!({ "role": "staff", "disabled": true }),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let form = staff
        .client
        .post(app.url(&format!("/admin/accounts/{admin_id}")))
        .form(&[
            ("_csrf", staff.csrf.as_str()),
            ("role", "staff"),
            ("disabled", "yes"),
        ])
        .send()
        .await
        .unwrap();
    expect(form, StatusCode::FORBIDDEN).await;
    for path in ["/admin/people", "/admin/badges", "/admin/import"] {
        expect(director.get(path).await, StatusCode::FORBIDDEN).await;
    }
    // A kiosk token reads no person, page or API.
    let kiosk = reqwest::Client::new();
    for path in ["/api/v1/people/1", "/people/1", "/api/v1/people"] {
        let response = kiosk
            .get(app.url(path))
            .bearer_auth(&app.kiosk_token)
            .send()
            .await
            .unwrap();
        expect(response, StatusCode::FORBIDDEN).await;
    }
    // The admin account is unchanged.
    let admin = app.login(AccountRole::Admin).await;
    let accounts = expect(admin.get("/api/v1/accounts").await, StatusCode::OK).await;
    let me = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == admin_id)
        .unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["disabled"], false);
}

/// The `(method, path)` pairs a router source file registers with `.route("path", get(..).post(..))`.
fn routed(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for call in source.split(".route(").skip(1) {
        // The call's text up to its closing parenthesis.
        let mut depth = 1;
        let end = call
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .expect("a closed .route( call");
        let call = &call[..end];
        let path = call.split('"').nth(1).expect("a path literal").to_owned();
        for method in ["get", "post", "put", "delete"] {
            let used = call
                .match_indices(&format!("{method}("))
                .any(|(i, _)| i == 0 || !call.as_bytes()[i - 1].is_ascii_alphanumeric());
            if used {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_routed_path_is_classified_and_every_classified_path_is_routed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = Vec::new();
    for file in ["web/api/mod.rs", "web/ui/mod.rs", "demo/kiosk_page.rs"] {
        let source = std::fs::read_to_string(dir.join(file)).unwrap();
        routes.extend(routed(&source));
    }
    // The simulated kiosk's routes exist only in a build with the demo.
    if !cfg!(feature = "demo") {
        routes.retain(|(_, path)| !path.starts_with("/demo/"));
    }
    assert!(
        routes.len() > 40,
        "the router sources were not parsed: {routes:?}"
    );
    for (method, path) in &routes {
        assert!(
            all_routes().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is routed but not in an access table: classify it"
        );
    }
    for (method, path, _) in all_routes() {
        assert!(
            routes.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is in an access table but not routed"
        );
    }
}

/// An admin sets an account's role and disabled flag through the API.
async fn set_account(
    admin: &crate::helpers::User,
    id: consentcam::domain::AccountId,
    role: &str,
    disabled: bool,
) {
    expect(
        admin
            .put(
                &format!("/api/v1/accounts/{}", id.0),
                json!({ "role": role, "disabled": disabled }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

fn account_id(app: &TestApp, username: &str) -> consentcam::domain::AccountId {
    consentcam::store::registry::account_by_username(&app.db(), username)
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn sessions_end_at_once_on_a_password_change_a_role_change_and_disabling() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let staff_id = account_id(&app, "staff");

    // A new password, set the way `consentcam user set-password` sets it.
    let staff = app.login(AccountRole::Staff).await;
    assert_eq!(staff.get("/api/v1/session").await.status(), StatusCode::OK);
    let hash = consentcam::infra::password::hash("staff-test-password").unwrap();
    consentcam::store::registry::set_password_hash(&app.db(), staff_id, &hash).unwrap();
    assert_eq!(
        staff.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A role change through the API: the session opened as staff is over.
    let staff = app.login(AccountRole::Staff).await;
    set_account(&admin, staff_id, "director", false).await;
    assert_eq!(
        staff.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Saving the same role and flag again changes nothing: a fresh session goes on.
    let again = app.anonymous();
    let body = expect(
        again
            .client
            .post(app.url("/api/v1/login"))
            .json(&json!({ "username": "staff", "password": "staff-test-password" }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["role"], "director", "{body}");
    set_account(&admin, staff_id, "director", false).await;
    assert_eq!(again.get("/api/v1/session").await.status(), StatusCode::OK);

    // Disabled: over, and no new login.
    set_account(&admin, staff_id, "director", true).await;
    assert_eq!(
        again.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refused = app
        .anonymous()
        .post(
            "/api/v1/login",
            json!({ "username": "staff", "password": "staff-test-password" }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // The admin's own session was never touched.
    assert_eq!(admin.get("/api/v1/session").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_see_who_people_are_but_not_their_birth_dates_or_vulnerability() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    expect(
        admin
            .post(
                "/api/v1/people",
                json!({ "ref": "L1", "given_name": "Jo", "family_name": "Day",
                        "date_of_birth": "2011-01-01", "role": "learner", "vulnerable": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let staff = app.login(AccountRole::Staff).await;
    let list = expect(staff.get("/api/v1/people").await, StatusCode::OK).await;
    let search = expect(
        staff
            .post("/api/v1/people/search", json!({ "q": "Jo" }))
            .await,
        StatusCode::OK,
    )
    .await;
    for found in [&list[0], &search[0]] {
        assert_eq!(found["given_name"], "Jo", "{found}");
        assert!(found.get("date_of_birth").is_none(), "{found}");
        assert!(found.get("vulnerable").is_none(), "{found}");
    }
    let whole = expect(admin.get("/api/v1/people").await, StatusCode::OK).await;
    assert_eq!(whole[0]["date_of_birth"], "2011-01-01");
    assert_eq!(whole[0]["vulnerable"], true);

    // The person's own record too: staff get the name and what each channel allows.
    let id = whole[0]["id"].as_i64().unwrap();
    crate::helpers::parent_form(&admin, id, "2026-09-01", true, &[]).await;
    let page = expect(
        staff.get(&format!("/api/v1/people/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["person"]["given_name"], "Jo", "{page}");
    assert!(page["person"].get("date_of_birth").is_none(), "{page}");
    assert!(page["person"].get("vulnerable").is_none(), "{page}");
    // The caution, not the reason: the same verdict, but no word of vulnerability.
    let website = |p: &serde_json::Value| p["today"][1].clone();
    assert_eq!(website(&page)["verdict"], "blocked", "{page}");
    assert_eq!(website(&page)["reasons"][0]["code"], "not_public", "{page}");
    assert!(!page.to_string().contains("vulnerable"), "{page}");
    let full = expect(
        admin.get(&format!("/api/v1/people/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(full["person"]["vulnerable"], true);
    assert_eq!(website(&full)["reasons"][0]["code"], "vulnerable", "{full}");
    let hits = expect(
        staff.post("/api/v1/lookup", json!({ "q": "Jo" })).await,
        StatusCode::OK,
    )
    .await;
    assert!(!hits.to_string().contains("vulnerable"), "{hits}");
    assert!(!hits.to_string().contains("2011-01-01"), "{hits}");
    // Every reading of a vulnerable person's record is in the audit log: who and whom.
    let reads = expect(
        admin.get("/api/v1/audit?action=person.viewed").await,
        StatusCode::OK,
    )
    .await;
    let readers: Vec<&str> = reads
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(readers.len(), 2, "{reads}");
    assert!(
        reads
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["subject"] == format!("person:{id}"))
    );
    // A device tag's UID (enough to clone the tag) is for admins, who enrol tags.
    expect(
        admin
            .post(
                "/api/v1/devices",
                json!({ "label": "Camera 1", "make": "Canon", "model": "EOS",
                   "serial": "1", "tag_uid": "D0C0FFEE", "loan_minutes": 60 }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let seen = expect(staff.get("/api/v1/devices").await, StatusCode::OK).await;
    assert_eq!(seen[0]["label"], "Camera 1");
    assert!(seen[0].get("tag_uid").is_none(), "{seen}");
    let all = expect(admin.get("/api/v1/devices").await, StatusCode::OK).await;
    assert_eq!(all[0]["tag_uid"], "D0C0FFEE");
    // Nobody is told where a scan is stored, only whether there is one.
    for who in [&page, &full] {
        assert_eq!(who["consents"][0]["scan"], false, "{who}");
        assert!(who["consents"][0].get("evidence_path").is_none(), "{who}");
    }
}

/// Logs in as `username` through a proxy that says the client is `from`.
async fn login_from(app: &TestApp, from: &str, username: &str, password: &str) -> StatusCode {
    app.anonymous()
        .client
        .post(app.url("/api/v1/login"))
        .header("x-forwarded-for", from)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_guesser_is_slowed_but_the_owner_elsewhere_still_logs_in() {
    let app = spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "203.0.113.66", "director", "guess-guess-guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The guesser now waits, even with the right password...
    assert_eq!(
        login_from(&app, "203.0.113.66", "director", "director-test-password").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...while the director, at their own address, is not locked out.
    assert_eq!(
        login_from(&app, "198.51.100.7", "director", "director-test-password").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_a_forwarded_for_header_escapes_nothing() {
    let app = spawn_app().await;
    for n in 0..5 {
        assert_eq!(
            login_from(
                &app,
                &format!("203.0.113.{n}"),
                "staff",
                "guess-guess-guess"
            )
            .await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&app, "203.0.113.99", "staff", "staff-test-password").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_no_extra_attempts() {
    let app = spawn_app().await;
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (client, url) = (reqwest::Client::new(), app.url("/api/v1/login"));
        guesses.spawn(async move {
            client
                .post(url)
                .json(&json!({ "username": "staff", "password": "guess-guess-guess" }))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses = guesses.join_all().await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        7
    );
}

#[tokio::test]
async fn a_user_sees_their_sessions_and_ends_another_one() {
    let app = spawn_app().await;
    let laptop = app.login(AccountRole::Staff).await;
    let shared_pc = app.login(AccountRole::Staff).await;
    let admin = app.login(AccountRole::Admin).await;
    let mine = expect(laptop.get("/api/v1/sessions").await, StatusCode::OK).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(mine.iter().filter(|s| s["current"] == true).count(), 1);
    let other = mine.iter().find(|s| s["current"] == false).unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another account's session is not theirs to see or end.
    let admins = expect(admin.get("/api/v1/sessions").await, StatusCode::OK).await;
    let admin_handle = admins[0]["handle"].as_str().unwrap().to_owned();
    expect(
        laptop
            .post(&format!("/api/v1/sessions/{admin_handle}/end"), json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(admin.get("/api/v1/session").await.status(), StatusCode::OK);

    expect(
        laptop
            .post(&format!("/api/v1/sessions/{other}/end"), json!({}))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        shared_pc.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(laptop.get("/api/v1/session").await.status(), StatusCode::OK);
    // The account page lists what is left, and ends it with a form.
    let page = laptop.get("/account").await.text().await.unwrap();
    assert!(page.contains("This session"), "{page}");
    assert!(!page.contains("Another session"), "{page}");
    let own = mine.iter().find(|s| s["current"] == true).unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    laptop
        .form(&format!("/account/sessions/{own}/end"), &[])
        .await;
    assert_eq!(
        laptop.get("/api/v1/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Two sites; the test's staff, director and admin accounts belong to North. Returns
/// (North's ids, South's ids) by kind: person, photo, group, device, consent.
async fn two_sites(app: &TestApp) -> ([i64; 5], [i64; 5]) {
    use consentcam::store::{groups, registry, sites};
    let trust = app.login(AccountRole::Admin).await;
    let now = crate::helpers::NOW.parse().unwrap();
    let north_person = crate::helpers::learner(&trust, "N01", "Nia", "North", "2010-01-01").await;
    let south_person = crate::helpers::learner(&trust, "S01", "Sol", "South", "2010-01-01").await;
    let north_form =
        crate::helpers::parent_form(&trust, north_person, "2026-09-01", true, &[]).await;
    let south_form =
        crate::helpers::parent_form(&trust, south_person, "2026-09-01", true, &[]).await;
    let north_photo = crate::helpers::catalogue_photo(app, "a1", |_| {}).0;
    let south_photo = crate::helpers::catalogue_photo(app, "b2", |_| {}).0;
    let conn = app.db();
    let device = |label: &str, uid: &str| {
        registry::insert_device(
            &conn,
            &registry::NewDevice {
                label: label.into(),
                make: "Canon".into(),
                model: "EOS".into(),
                serial: label.into(),
                tag_uid: consentcam_wire::TagUid::parse(uid).unwrap(),
                loan_minutes: 60,
            },
            now,
        )
        .unwrap()
        .0
    };
    let (north_device, south_device) = (device("N-CAM", "04A1B2C3"), device("S-CAM", "04A1B2C4"));
    let north_group = groups::insert_group(&conn, "North class", now).unwrap().0;
    let south_group = groups::insert_group(&conn, "South class", now).unwrap().0;
    let north = sites::insert_site(&conn, "North", now).unwrap();
    let south = sites::insert_site(&conn, "South", now).unwrap();
    use sites::Kind::*;
    for (kind, id, site) in [
        (Person, north_person, north),
        (Person, south_person, south),
        (Photo, north_photo, north),
        (Photo, south_photo, south),
        (Group, north_group, north),
        (Group, south_group, south),
        (Device, north_device, north),
        (Device, south_device, south),
    ] {
        assert!(sites::assign(&conn, kind, id, Some(site)).unwrap());
    }
    for (username, _, _) in crate::helpers::PASSWORDS {
        let account = registry::account_by_username(&conn, username)
            .unwrap()
            .unwrap();
        assert!(sites::assign(&conn, Account, account.id.0, Some(north)).unwrap());
    }
    (
        [
            north_person,
            north_photo,
            north_group,
            north_device,
            north_form,
        ],
        [
            south_person,
            south_photo,
            south_group,
            south_device,
            south_form,
        ],
    )
}

/// `path` with every id of a kind replaced by that kind's id in `ids` (person, photo,
/// group, device, consent); other ids 1.
fn with_ids(path: &str, ids: [i64; 5]) -> String {
    spelled(path, ids, &|id| id.to_string())
}

/// `path` with the ids of [`with_ids`], each written by `spell`.
fn spelled(path: &str, ids: [i64; 5], spell: &dyn Fn(i64) -> String) -> String {
    let mut out = Vec::new();
    let mut previous = "";
    for segment in path.split('/') {
        let id = match (previous, segment) {
            (_, "{person}") | ("people", "{id}") => Some(ids[0]),
            ("photos", "{id}") => Some(ids[1]),
            ("groups", "{id}") => Some(ids[2]),
            ("devices", "{id}") => Some(ids[3]),
            ("consents", "{id}") => Some(ids[4]),
            _ => None,
        };
        out.push(match id {
            Some(id) => spell(id),
            None => concrete(segment),
        });
        previous = segment;
    }
    out.join("/")
}

/// Whether a route's path names a record of a kind [`two_sites`] gives each site.
fn names_a_record(path: &str) -> bool {
    [
        "people/{id}",
        "photos/{id}",
        "groups/{id}",
        "devices/{id}",
        "consents/{id}",
        "{person}",
    ]
    .iter()
    .any(|p| path.contains(p))
}

/// The test's staff, director and admin accounts, logged in (North's, after
/// [`two_sites`]).
async fn logged_in_roles(app: &TestApp) -> Vec<(crate::helpers::User, AccountRole)> {
    let mut out = Vec::new();
    for role in [
        AccountRole::Staff,
        AccountRole::Director,
        AccountRole::Admin,
    ] {
        out.push((app.login(role).await, role));
    }
    out
}

/// Every route a `role` account may call whose path names a record of a kind
/// [`two_sites`] gives each site.
fn routes_naming_a_record(role: AccountRole) -> Vec<(Method, &'static str)> {
    all_routes()
        .filter(|(_, path, access)| {
            !matches!(access, Access::Public | Access::Kiosk)
                && *path != "/api/v1/logout"
                && names_a_record(path)
                && access.admits(role)
        })
        .map(|(method, path, _)| (Method::from_bytes(method.as_bytes()).unwrap(), *path))
        .collect()
}

#[tokio::test]
async fn an_account_of_one_site_finds_no_record_of_another_on_any_route() {
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    let mut checked = 0;
    for (user, role) in logged_in_roles(&app).await {
        for (method, path) in routes_naming_a_record(role) {
            let theirs = user
                .call(method.clone(), &with_ids(path, south), Some(json!({})))
                .await;
            assert_eq!(
                theirs.status(),
                StatusCode::NOT_FOUND,
                "{role} of North must not find South's record: {method} {path}"
            );
            // Their own site's records are there (whatever else the request lacks).
            let own = user
                .call(method.clone(), &with_ids(path, north), Some(json!({})))
                .await
                .status();
            assert_ne!(own, StatusCode::FORBIDDEN, "{role} {method} {path}");
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} requests checked");
}

/// Ways of writing an id that are not its one spelling, each decoded by some layer of a
/// server into the id itself.
type Spelling = Box<dyn Fn(i64) -> String>;

fn other_spellings() -> Vec<(&'static str, Spelling)> {
    let percent = |id: i64| -> String {
        id.to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect()
    };
    vec![
        ("percent-encoded digits", Box::new(percent)),
        ("a leading zero", Box::new(|id| format!("0{id}"))),
        ("a plus sign", Box::new(|id| format!("+{id}"))),
        ("overlong", Box::new(|id| format!("{id:0>40}"))),
        (
            "double-encoded",
            Box::new(move |id| percent(id).replace('%', "%25")),
        ),
        ("a trailing space", Box::new(|id| format!("{id}%20"))),
        ("a minus sign", Box::new(|id| format!("-{id}"))),
    ]
}

#[tokio::test]
async fn no_spelling_of_another_sites_id_reaches_a_handler_on_any_route() {
    let app = spawn_app().await;
    let (_, south) = two_sites(&app).await;
    let spellings = other_spellings();
    let mut checked = 0;
    for (user, role) in logged_in_roles(&app).await {
        for (method, path) in routes_naming_a_record(role) {
            for (how, spell) in &spellings {
                let url = spelled(path, south, spell.as_ref());
                let status = user
                    .call(method.clone(), &url, Some(json!({})))
                    .await
                    .status();
                assert!(
                    matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
                    "{role} of North, South's id with {how}: {method} {url} answered {status}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} requests checked");
}

#[tokio::test]
async fn an_id_that_does_not_parse_is_refused_before_any_handler_for_every_account() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    for url in [
        "/api/v1/people/012",
        "/api/v1/people/%2531",
        "/api/v1/accounts/+1",
        "/people/+1",
        "/photos/1/faces/01",
        "/api/v1/people/99999999999999999999",
    ] {
        let method = if url.starts_with("/api/v1/accounts") {
            Method::PUT
        } else if url.contains("/faces/") {
            Method::POST
        } else {
            Method::GET
        };
        let response = admin.call(method, url, Some(json!({}))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
    }
    // The one spelling still works.
    let person = crate::helpers::learner(&admin, "L1", "Ada", "Lovelace", "2010-01-01").await;
    let ok = admin
        .call(Method::GET, &format!("/api/v1/people/{person}"), None)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn lists_searches_and_tagging_keep_to_the_accounts_site() {
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    let staff = app.login(AccountRole::Staff).await;
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    let people = expect(staff.get("/api/v1/people").await, StatusCode::OK).await;
    assert_eq!(ids(&people), [north[0]]);
    let found = expect(
        staff
            .post("/api/v1/people/search", json!({ "q": "S01" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(ids(&found).is_empty(), "{found}");
    let looked = expect(
        staff.post("/api/v1/lookup", json!({ "q": "Sol" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(looked.as_array().unwrap().len(), 0, "{looked}");
    let page = staff.form("/lookup", &[("q", "South")]).await;
    assert!(
        !page.contains("S01"),
        "the lookup page shows South's person"
    );
    let photos = expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;
    assert_eq!(ids(&photos), [north[1]]);
    let devices = expect(staff.get("/api/v1/devices").await, StatusCode::OK).await;
    assert_eq!(ids(&devices), [north[3]]);
    let groups = expect(staff.get("/api/v1/groups").await, StatusCode::OK).await;
    assert_eq!(ids(&groups), [north[2]]);
    let north_admin = app.login(AccountRole::Admin).await;
    let register = north_admin.get("/admin/people").await.text().await.unwrap();
    assert!(
        register.contains("N01") && !register.contains("S01"),
        "{register}"
    );
    // A site's admin manages its site's devices and accounts only.
    let devices = north_admin
        .get("/admin/devices")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        devices.contains("N-CAM") && !devices.contains("S-CAM"),
        "{devices}"
    );
    let conn = app.db();
    let south_site = consentcam::store::sites::site_by_name(&conn, "South")
        .unwrap()
        .id;
    let south_user = consentcam::store::registry::insert_account(
        &conn,
        "south-staff",
        "not-a-real-hash",
        AccountRole::Staff,
        None,
        crate::helpers::NOW.parse().unwrap(),
    )
    .unwrap();
    consentcam::store::sites::assign(
        &conn,
        consentcam::store::sites::Kind::Account,
        south_user.0,
        Some(south_site),
    )
    .unwrap();
    drop(conn);
    let accounts = expect(north_admin.get("/api/v1/accounts").await, StatusCode::OK).await;
    let names: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"staff") && !names.contains(&"south-staff"),
        "{names:?}"
    );
    let page = staff.get("/groups").await.text().await.unwrap();
    assert!(
        page.contains("North class") && !page.contains("South class"),
        "{page}"
    );
    // A director of North is asked to approve North's photos only.
    {
        let conn = app.db();
        let staff_id = consentcam::store::registry::account_by_username(&conn, "staff")
            .unwrap()
            .unwrap()
            .id;
        for photo in [north[1], south[1]] {
            consentcam::store::requests::insert(
                &conn,
                consentcam::domain::PhotoId(photo),
                consentcam::domain::Channel::Website,
                staff_id,
                crate::helpers::NOW.parse().unwrap(),
            )
            .unwrap();
        }
    }
    let director = app.login(AccountRole::Director).await;
    let queue = director.get("/approvals").await.text().await.unwrap();
    assert!(queue.contains(&format!("/photos/{}", north[1])), "{queue}");
    assert!(
        !queue.contains(&format!("/photos/{}\"", south[1])),
        "{queue}"
    );
    let gallery = staff.get("/photos").await.text().await.unwrap();
    assert!(gallery.contains(&format!("/photos/{}", north[1])));
    assert!(!gallery.contains(&format!("/photos/{}\"", south[1])));
    // The type-ahead offers North's people, even when asked about South's photo.
    for query in [
        format!("/people/picker?q=So&photo={}", north[1]),
        format!("/people/picker?q=So&photo={}", south[1]),
    ] {
        let offered = staff.get(&query).await.text().await.unwrap();
        assert!(!offered.contains("S01"), "{query}: {offered}");
    }
    let offered = staff
        .get(&format!("/people/picker?q=No&photo={}", north[1]))
        .await
        .text()
        .await
        .unwrap();
    assert!(offered.contains("N01"), "{offered}");

    // South's person cannot be tagged in North's photo, not even by an account of every
    // site (it has none here: the trust's own admin).
    let tagged = staff
        .post(
            &format!("/api/v1/photos/{}/tags", north[1]),
            json!({ "person_id": south[0] }),
        )
        .await;
    assert_eq!(tagged.status(), StatusCode::NOT_FOUND);
    let conn = app.db();
    let trust_admin = consentcam::store::registry::account_by_username(&conn, "admin")
        .unwrap()
        .unwrap();
    consentcam::store::sites::assign(
        &conn,
        consentcam::store::sites::Kind::Account,
        trust_admin.id.0,
        None,
    )
    .unwrap();
    let trust = app.login(AccountRole::Admin).await;
    let all = expect(trust.get("/api/v1/people").await, StatusCode::OK).await;
    assert_eq!(ids(&all).len(), 2, "an account of every site sees both");
    let tagged = trust
        .post(
            &format!("/api/v1/photos/{}/tags", north[1]),
            json!({ "person_id": south[0] }),
        )
        .await;
    assert_eq!(tagged.status(), StatusCode::NOT_FOUND);
    expect(
        trust
            .post(
                &format!("/api/v1/photos/{}/tags", north[1]),
                json!({ "person_id": north[0] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn a_single_site_install_never_shows_the_word() {
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    for path in ["/api/v1/session", "/api/v1/accounts"] {
        let body = admin.get(path).await.text().await.unwrap();
        assert!(!body.to_lowercase().contains("site"), "{path}: {body}");
    }
    // "website" is a channel; "site" and "sites" as words appear on no page.
    let person = crate::helpers::learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    for path in [
        "/".to_owned(),
        "/admin/people".to_owned(),
        "/admin/accounts".to_owned(),
        "/admin/devices".to_owned(),
        "/admin/kiosks".to_owned(),
        "/groups".to_owned(),
        format!("/people/{person}"),
    ] {
        let page = admin.get(&path).await.text().await.unwrap();
        assert!(page.contains("</html>"), "{path}: {page}");
        assert!(!speaks_of_sites(&page), "{path} speaks of sites: {page}");
    }
}

/// Whether `text` has "site" or "sites" as a word (not inside "website").
fn speaks_of_sites(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.match_indices("site").any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let rest = &lower[at + 4..];
        let after = rest.strip_prefix('s').unwrap_or(rest).chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[test]
fn the_word_is_found_as_a_word_only() {
    assert!(speaks_of_sites("Sites"));
    assert!(speaks_of_sites("the site of"));
    assert!(!speaks_of_sites("the website and websites"));
    assert!(!speaks_of_sites("sitemap"));
}

#[tokio::test]
async fn an_admin_of_every_site_adds_sites_and_moves_records_into_them_on_the_sites_page() {
    use consentcam::store::sites::{self, Kind};
    let app = spawn_app().await;
    let admin = app.login(AccountRole::Admin).await;
    let person = crate::helpers::learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    let home = admin.get("/").await.text().await.unwrap();
    assert!(!home.contains("href=\"/admin/sites\""), "no sites, no link");

    let page = admin.form("/admin/sites", &[("name", "North")]).await;
    assert!(page.contains("Site North added."), "{page}");
    assert!(
        page.contains("href=\"/admin/sites\""),
        "the link is there now"
    );
    let again = admin.form("/admin/sites", &[("name", "north")]).await;
    assert!(again.contains("already a site named"), "{again}");

    let moved = admin
        .form(
            "/admin/sites/assign",
            &[("kind", "person"), ("record", "l1"), ("site", "North")],
        )
        .await;
    assert!(moved.contains("The person l1 is now in North."), "{moved}");
    let unknown = admin
        .form(
            "/admin/sites/assign",
            &[
                ("kind", "device"),
                ("record", "No such camera"),
                ("site", "North"),
            ],
        )
        .await;
    assert!(
        unknown.contains("there is no device with the label “No such camera”"),
        "{unknown}"
    );
    assert!(
        unknown.contains("<tr><td>North</td><td>1</td>"),
        "North counts one person: {unknown}"
    );
    let north = {
        let conn = app.db();
        sites::site_of(&conn, Kind::Person, person)
            .unwrap()
            .unwrap()
    };
    assert!(north.is_some());
    let audit = expect(
        admin.get("/api/v1/audit?action=site.assign").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");

    // Out of every site again; then an admin of North is not shown the page and cannot
    // use it.
    let out = admin
        .form(
            "/admin/sites/assign",
            &[("kind", "person"), ("record", "L1"), ("site", "")],
        )
        .await;
    assert!(out.contains("belongs to no site"), "{out}");
    let conn = app.db();
    assert_eq!(
        sites::site_of(&conn, Kind::Person, person).unwrap(),
        Some(None)
    );
    let account = consentcam::store::registry::account_by_username(&conn, "admin")
        .unwrap()
        .unwrap();
    assert!(sites::assign(&conn, Kind::Account, account.id.0, north).unwrap());
    drop(conn);
    assert_eq!(
        admin.get("/admin/sites").await.status(),
        StatusCode::NOT_FOUND
    );
    let refused = admin
        .client
        .post(app.url("/admin/sites"))
        .form(&[("_csrf", admin.csrf.as_str()), ("name", "South")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let conn = app.db();
    assert_eq!(sites::sites(&conn).unwrap().len(), 1, "no site was added");
    let home = admin.get("/").await.text().await.unwrap();
    assert!(!home.contains("href=\"/admin/sites\""));
}

#[tokio::test]
async fn a_sites_kiosk_is_given_the_badges_and_devices_of_its_site_only() {
    use consentcam::store::{registry, sites};
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    {
        let conn = app.db();
        let now = crate::helpers::NOW.parse().unwrap();
        for (person, uid) in [(north[0], "04AA0001"), (south[0], "04AA0002")] {
            let uid = consentcam_wire::TagUid::parse(uid).unwrap();
            registry::enrol_badge(&conn, &uid, consentcam::domain::PersonId(person), now).unwrap();
        }
    }
    let roster_ids = |roster: &serde_json::Value, list: &str, field: &str| -> Vec<i64> {
        let mut ids: Vec<i64> = roster[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[field].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    // A kiosk of no site (one site's install) has everyone.
    let roster = expect(app.kiosk_get("/api/v1/kiosk/roster").await, StatusCode::OK).await;
    assert_eq!(
        roster_ids(&roster, "badges", "person_id"),
        [north[0], south[0]]
    );
    assert_eq!(
        roster_ids(&roster, "devices", "device_id"),
        [north[3], south[3]]
    );
    // North's kiosk has North's.
    {
        let conn = app.db();
        let north_site = sites::site_by_name(&conn, "North").unwrap().id;
        assert!(sites::assign(&conn, sites::Kind::Kiosk, 1, Some(north_site)).unwrap());
    }
    let roster = expect(app.kiosk_get("/api/v1/kiosk/roster").await, StatusCode::OK).await;
    assert_eq!(roster_ids(&roster, "badges", "person_id"), [north[0]]);
    assert_eq!(roster_ids(&roster, "devices", "device_id"), [north[3]]);
}

#[tokio::test]
async fn what_a_sites_account_makes_is_its_sites_and_it_names_no_other_sites_record_in_a_form() {
    use consentcam::store::sites::{self, Kind};
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    let admin = app.login(AccountRole::Admin).await;
    let north_site = {
        let conn = app.db();
        sites::site_of(&conn, Kind::Person, north[0])
            .unwrap()
            .unwrap()
    };

    // Made by North's admin: a person, a group, a device, a kiosk, an account, and the
    // people a consent CSV adds. Each is North's, and North's staff find the person.
    let person = crate::helpers::learner(&admin, "N02", "Noor", "North", "2011-02-02").await;
    let created = |response| async move {
        expect(response, StatusCode::CREATED).await["id"]
            .as_i64()
            .unwrap()
    };
    let group = created(
        admin
            .post("/api/v1/groups", json!({ "name": "North trip" }))
            .await,
    )
    .await;
    let device = created(
        admin
            .post(
                "/api/v1/devices",
                json!({ "label": "N-CAM-2", "make": "Canon", "model": "EOS", "serial": "N2",
                        "tag_uid": "04A1B2C9", "loan_minutes": 60 }),
            )
            .await,
    )
    .await;
    let kiosk = created(
        admin
            .post("/api/v1/kiosks", json!({ "name": "North hall" }))
            .await,
    )
    .await;
    let account = created(
        admin
            .post(
                "/api/v1/accounts",
                json!({ "username": "north.teacher", "password": "a long enough passphrase",
                        "role": "staff", "person_id": person }),
            )
            .await,
    )
    .await;
    let header = "ref,given_name,family_name,date_of_birth,role,vulnerable,signer,signer_name,signed_on,internal,partners,website,social,expires_on,withdrawn_on";
    let import = |csv: String| {
        admin
            .client
            .post(app.url("/api/v1/consents/import"))
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    let report = expect(
        import(format!(
            "{header}\nN03,Nell,North,2011-03-03,learner,no,parent,P,2026-09-01,yes,,yes,no,,\n"
        ))
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["people_created"], 1, "{report}");
    let conn = app.db();
    let imported = consentcam::store::people::person_by_ref(&conn, "N03")
        .unwrap()
        .unwrap()
        .id
        .0;
    for (kind, id) in [
        (Kind::Person, person),
        (Kind::Group, group),
        (Kind::Device, device),
        (Kind::Kiosk, kiosk),
        (Kind::Account, account),
        (Kind::Person, imported),
    ] {
        assert_eq!(
            sites::site_of(&conn, kind, id).unwrap(),
            Some(north_site),
            "{kind:?} {id}"
        );
    }
    drop(conn);
    let staff = app.login(AccountRole::Staff).await;
    expect(
        staff.get(&format!("/api/v1/people/{person}")).await,
        StatusCode::OK,
    )
    .await;

    // A CSV row naming South's person changes nothing of theirs.
    let refused = import(format!(
        "{header}\nS01,Sol,South,2010-01-01,learner,no,parent,P,2026-10-01,yes,,yes,yes,,\n"
    ))
    .await
    .unwrap();
    let body = expect(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body.to_string().contains("another site's person"), "{body}");
    let trust_view = app.db();
    assert_eq!(
        consentcam::store::consents::consents_of(
            &trust_view,
            consentcam::domain::PersonId(south[0])
        )
        .unwrap()
        .len(),
        1,
        "South's person keeps their one form"
    );
    drop(trust_view);

    // South's person, group or device named in a body or form is not found.
    let not_found = [
        admin
            .post(
                "/api/v1/badges",
                json!({ "uid": "04C0FFEE", "person_id": south[0] }),
            )
            .await,
        admin
            .post(
                "/api/v1/accounts",
                json!({ "username": "south.spy", "password": "a long enough passphrase",
                        "role": "staff", "person_id": south[0] }),
            )
            .await,
        admin
            .post(
                &format!("/api/v1/groups/{}/members", north[2]),
                json!({ "person_ids": [north[0], south[0]] }),
            )
            .await,
        admin
            .post(
                "/api/v1/bookings",
                json!({ "group_id": north[2], "holder_id": south[0],
                        "starts_at": "2026-12-01T09:00:00Z", "ends_at": "2026-12-01T12:00:00Z" }),
            )
            .await,
        admin
            .post(
                "/api/v1/bookings",
                json!({ "group_id": north[2], "holder_id": north[0], "device_id": south[3],
                        "starts_at": "2026-12-01T09:00:00Z", "ends_at": "2026-12-01T12:00:00Z" }),
            )
            .await,
    ];
    for response in not_found {
        expect(response, StatusCode::NOT_FOUND).await;
    }
    let shown = expect(
        admin.get(&format!("/api/v1/groups/{}", north[2])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shown["members"], json!([]), "nobody was added");
    // The badge form's type-ahead finds nobody by South's ref or name.
    for typed in ["S01", "Sol South"] {
        let page = admin
            .form("/admin/badges", &[("uid", "04C0FFEE"), ("person", typed)])
            .await;
        assert!(
            page.contains("nobody on the register matches"),
            "{typed}: {page}"
        );
    }
    let conn = app.db();
    assert!(
        consentcam::store::registry::badges(&conn)
            .unwrap()
            .is_empty(),
        "no badge was enrolled"
    );
}

#[tokio::test]
async fn a_sites_dashboard_tasks_and_audit_hold_its_own_records_and_no_other_sites() {
    use consentcam::domain::{AccountId, Channel, DeviceId, GroupId, PersonId, PhotoId};
    use consentcam::store::{groups, publications, registry};
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    let now: jiff::Timestamp = crate::helpers::NOW.parse().unwrap();
    // Each site has a camera out, a booking today, a badge and a publication to take
    // down (seeded: what is checked is who sees them).
    let (mut taken, mut badges, mut bookings, mut sessions) = (vec![], vec![], vec![], vec![]);
    {
        let conn = app.db();
        let decision = consentcam::rules::consent::Decision {
            channel: Channel::Website,
            on: "2026-11-25".parse().unwrap(),
            verdict: consentcam::rules::consent::Verdict::Allowed,
            reasons: vec![],
        };
        for (ids, uid, name) in [(north, "04AA0001", "n.jpg"), (south, "04AA0002", "s.jpg")] {
            let publication = publications::insert_publication(
                &conn,
                PhotoId(ids[1]),
                Channel::Website,
                name,
                None,
                &decision,
                now,
            )
            .unwrap();
            assert!(publications::mark_takedown(&conn, publication, "withdrawn", now).unwrap());
            taken.push(publication);
            badges.push(
                registry::enrol_badge(
                    &conn,
                    &consentcam_wire::TagUid::parse(uid).unwrap(),
                    PersonId(ids[0]),
                    now,
                )
                .unwrap(),
            );
            // The booking's holder signs the camera out: staff allowed to.
            conn.execute(
                "UPDATE people SET role = 'staff', may_sign_out = 1 WHERE id = ?1",
                [ids[0]],
            )
            .unwrap();
            bookings.push(
                groups::insert_booking(
                    &conn,
                    &groups::NewBooking {
                        group_id: GroupId(ids[2]),
                        holder: PersonId(ids[0]),
                        device: Some(DeviceId(ids[3])),
                        starts_at: now,
                        ends_at: now + jiff::SignedDuration::from_hours(3),
                    },
                    AccountId(1),
                    now,
                )
                .unwrap()
                .0,
            );
            conn.execute(
                "INSERT INTO custody_sessions (device_id, person_id, out_at, due_back) \
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    ids[3],
                    ids[0],
                    now.to_string(),
                    (now + jiff::SignedDuration::from_hours(8)).to_string()
                ],
            )
            .unwrap();
            sessions.push(conn.last_insert_rowid());
        }
    }
    let director = app.login(AccountRole::Director).await;
    let admin = app.login(AccountRole::Admin).await;
    let staff = app.login(AccountRole::Staff).await;

    let tasks = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    let ids: Vec<i64> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [taken[0]], "North's task only");
    let home = director.get("/").await.text().await.unwrap();
    assert!(home.contains("N-CAM"), "North's camera is out: {home}");
    assert!(
        !home.contains("S-CAM"),
        "South's camera is not North's business"
    );
    assert!(!home.contains("South class"), "nor South's booking");
    let page = director.get("/takedowns").await.text().await.unwrap();
    assert!(
        page.contains(&format!("/takedowns/{}/done", taken[0])),
        "{page}"
    );
    assert!(!page.contains(&format!("/takedowns/{}/done", taken[1])));

    // South's task, badge, booking and import are not there for North.
    for response in [
        director
            .post(&format!("/api/v1/takedowns/{}/done", taken[1]), json!({}))
            .await,
        admin
            .post(
                &format!("/api/v1/badges/{}/active", badges[1]),
                json!({ "active": false }),
            )
            .await,
        staff
            .post(
                &format!("/api/v1/bookings/{}/cancel", bookings[1]),
                json!({}),
            )
            .await,
        staff.get(&format!("/imports/{}", sessions[1])).await,
    ] {
        let path = response.url().path().to_owned();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // North's own are.
    expect(
        director
            .post(&format!("/api/v1/takedowns/{}/done", taken[0]), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        staff
            .get(&format!("/imports/{}", sessions[0]))
            .await
            .status(),
        StatusCode::OK
    );

    // North's director reads only the entries about North's records.
    let conn = app.db();
    let trust_view = consentcam::store::audit::list(&conn, &Default::default()).unwrap();
    drop(conn);
    assert!(
        trust_view
            .iter()
            .any(|r| r.subject == format!("person:{}", south[0])),
        "South's person was audited"
    );
    let log = expect(
        director.get("/api/v1/audit?limit=5000").await,
        StatusCode::OK,
    )
    .await;
    let subjects: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&format!("person:{}", north[0]).as_str()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&format!("publication:{}", taken[0]).as_str()),
        "{subjects:?}"
    );
    let theirs = format!("person:{}", south[0]);
    assert!(!subjects.contains(&theirs.as_str()), "{subjects:?}");
    let csv = director.get("/audit.csv").await.text().await.unwrap();
    assert!(!csv.contains(&format!("person:{}", south[0])), "{csv}");
}

/// A second kiosk, of South; returns its token. The test's own kiosk becomes North's.
fn kiosks_of_two_sites(app: &TestApp) -> String {
    use consentcam::store::{registry, sites};
    let conn = app.db();
    let now = crate::helpers::NOW.parse().unwrap();
    let north = sites::site_by_name(&conn, "North").unwrap().id;
    let south = sites::site_by_name(&conn, "South").unwrap().id;
    assert!(sites::assign(&conn, sites::Kind::Kiosk, 1, Some(north)).unwrap());
    let token = consentcam::infra::password::random_token();
    let id = registry::insert_kiosk(
        &conn,
        "south office",
        &consentcam::infra::password::token_hash(&token),
        now,
    )
    .unwrap();
    assert!(sites::assign(&conn, sites::Kind::Kiosk, id, Some(south)).unwrap());
    token
}

async fn kiosk_events(app: &TestApp, token: &str, events: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/kiosk/events"))
        .bearer_auth(token)
        .json(&json!({ "events": events }))
        .send()
        .await
        .unwrap();
    expect(response, StatusCode::OK).await
}

#[tokio::test]
async fn a_sites_kiosk_signs_out_sends_cards_and_sees_refusals_of_its_own_site_only() {
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    let south_token = kiosks_of_two_sites(&app);
    let north_token = app.kiosk_token.clone();

    // North's kiosk names South's device, or South's person: refused, custody untouched.
    let receipt = kiosk_events(
        &app,
        &north_token,
        json!([
            { "event_id": "n-1", "seq": 1, "at": "2026-11-25T09:58:00Z", "reader": "office-1",
              "type": "returned", "device_id": south[3], "person_id": north[0] },
            { "event_id": "n-2", "seq": 2, "at": "2026-11-25T09:58:30Z", "reader": "office-1",
              "type": "signed_out", "device_id": north[3], "person_id": south[0],
              "due_back": "2026-11-25T11:00:00Z" },
        ]),
    )
    .await;
    let codes: Vec<&str> = receipt["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["other_site", "other_site"], "{receipt}");
    let custody: i64 = app
        .db()
        .query_row("SELECT count(*) FROM custody_sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(custody, 0);

    // Back-dating is judged by time against what is recorded, whatever `seq` says.
    let receipt = kiosk_events(
        &app,
        &north_token,
        json!([
            { "event_id": "n-3", "seq": 100, "at": "2026-11-25T09:59:00Z", "reader": "office-1",
              "type": "returned", "device_id": north[3], "person_id": north[0] },
            { "event_id": "n-4", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "office-1",
              "type": "returned", "device_id": north[3], "person_id": north[0] },
        ]),
    )
    .await;
    assert_eq!(receipt["recorded"], json!(["n-3"]), "{receipt}");
    assert_eq!(receipt["refused"][0]["code"], "before_earlier_events");
    // South's kiosk cannot back-date North's device either (its custody has a later time).
    let receipt = kiosk_events(
        &app,
        &south_token,
        json!([{ "event_id": "s-1", "seq": 1, "at": "2026-11-25T09:00:00Z", "reader": "south-1",
                 "type": "returned", "device_id": north[3], "person_id": north[0] }]),
    )
    .await;
    assert_eq!(receipt["refused"][0]["code"], "other_site", "{receipt}");

    // A card file for South's device from North's kiosk: not found, nothing stored.
    let body = b"\xFF\xD8\xFF\xE0 not really a photo".to_vec();
    let hash = "cd".repeat(32);
    let sent = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/kiosk/card-files/{hash}")))
        .bearer_auth(&north_token)
        .header("x-card-path", "DCIM/100CANON/IMG_0001.JPG")
        .header("x-device", south[3].to_string())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::NOT_FOUND);
    let photos: i64 = app
        .db()
        .query_row("SELECT count(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(photos, 2, "only two_sites' own photos");
    let incoming = app.db_path.parent().unwrap().join("store/incoming");
    let left = std::fs::read_dir(&incoming).map_or(0, |d| d.count());
    assert_eq!(left, 0, "nothing written for it");

    // Each site's admin sees its own kiosks' refusals only.
    let admin = app.login(AccountRole::Admin).await;
    let refused = expect(
        admin.get("/api/v1/kiosk-events/refused").await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = refused
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"n-1") && !ids.contains(&"s-1"), "{ids:?}");
    let page = admin.get("/admin/kiosks").await.text().await.unwrap();
    assert!(!page.contains("south office"), "{page}");
}

#[tokio::test]
async fn the_apis_tagging_names_no_other_sites_person() {
    let app = spawn_app().await;
    let (north, south) = two_sites(&app).await;
    let staff = app.login(AccountRole::Staff).await;
    let photo = north[1];
    let tag = staff
        .post(
            &format!("/api/v1/photos/{photo}/tags"),
            json!({ "person_id": south[0] }),
        )
        .await;
    assert_eq!(tag.status(), StatusCode::NOT_FOUND);
    let drawn = staff
        .post(
            &format!("/api/v1/photos/{photo}/faces"),
            json!({ "x": 10, "y": 10, "w": 40, "h": 40, "person_id": south[0] }),
        )
        .await;
    assert_eq!(drawn.status(), StatusCode::NOT_FOUND);
    let face = expect(
        staff
            .post(
                &format!("/api/v1/photos/{photo}/faces"),
                json!({ "x": 10, "y": 10, "w": 40, "h": 40 }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let resolved = staff
        .put(
            &format!("/api/v1/photos/{photo}/faces/{face}"),
            json!({ "state": "person", "person_id": south[0] }),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::NOT_FOUND);
    let tags: i64 = app
        .db()
        .query_row(
            "SELECT (SELECT count(*) FROM faces WHERE person_id = ?1) \
             + (SELECT count(*) FROM tags WHERE person_id = ?1)",
            [south[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tags, 0, "nobody of South was tagged");
    // A person of no site is not North's to name either (the store alone would take one).
    {
        use consentcam::store::sites;
        assert!(sites::assign(&app.db(), sites::Kind::Person, south[0], None).unwrap());
    }
    let tag = staff
        .post(
            &format!("/api/v1/photos/{photo}/tags"),
            json!({ "person_id": south[0] }),
        )
        .await;
    assert_eq!(tag.status(), StatusCode::NOT_FOUND);
    // North's own person is taken.
    expect(
        staff
            .post(
                &format!("/api/v1/photos/{photo}/tags"),
                json!({ "person_id": north[0] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}
