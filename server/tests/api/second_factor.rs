//! The second factor: setting it up on the page with an authenticator app's code, logging
//! in with it (page and API), recovery codes, replays, and roles that must have one.

use consentcam::domain::AccountRole;
use consentcam::infra::second_factor;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, LOCATION};
use serde_json::{Value, json};

use crate::helpers::{NOW, TestApp, expect, spawn_app, spawn_with};
use crate::ui::{csrf_field, form_login_in, login_form_token};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn now() -> u64 {
    NOW.parse::<jiff::Timestamp>().unwrap().as_second() as u64
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client
        .get(app.url(path))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap()
}

/// Sets up the second factor for the browser's account; returns its secret and the
/// recovery codes the page showed.
async fn enrol(app: &TestApp, client: &reqwest::Client) -> (String, Vec<String>) {
    let html = page(app, client, "/account/second-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data:image/png;base64,"), "a QR code: {html}");
    let secret = html
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let csrf = csrf_field(&html);
    let wrong = client
        .post(app.url("/account/second-factor"))
        .form(&[("_csrf", csrf.as_str()), ("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    let after_wrong = page(app, client, "/account/second-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(after_wrong.contains("did not match"), "{after_wrong}");
    assert!(
        after_wrong.contains(&secret),
        "the same secret until it is confirmed"
    );

    let code = second_factor::code_at(&secret, now()).unwrap();
    let done = client
        .post(app.url("/account/second-factor"))
        .form(&[("_csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let html = done.text().await.unwrap();
    assert!(html.contains("id=\"second-factor-on\""), "{html}");
    let codes: Vec<String> = html
        .split("<ul class=\"plain mono\">")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap()
        .split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), second_factor::RECOVERY_CODES, "{codes:?}");
    (secret, codes)
}

async fn code_step(app: &TestApp, client: &reqwest::Client, code: &str) -> reqwest::Response {
    let token = login_form_token_on_code_page(app, client).await;
    client
        .post(app.url("/login/code"))
        .form(&[("_csrf", token.as_str()), ("code", code)])
        .send()
        .await
        .unwrap()
}

async fn login_form_token_on_code_page(app: &TestApp, client: &reqwest::Client) -> String {
    let html = page(app, client, "/login/code").await.text().await.unwrap();
    csrf_field(&html)
}

async fn api_login(
    app: &TestApp,
    username: &str,
    password: &str,
    code: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({ "username": username, "password": password });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    reqwest::Client::new()
        .post(app.url("/api/v1/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_director_sets_up_an_authenticator_and_then_needs_its_code_to_log_in() {
    let app = spawn_app().await;
    let first = browser();
    let login = form_login_in(&app, &first, "director", "director-test-password").await;
    assert_eq!(login.headers()[LOCATION], "/");
    let (secret, recovery) = enrol(&app, &first).await;
    // Setting it up does not end the session it was set up in.
    assert_eq!(page(&app, &first, "/").await.status(), StatusCode::OK);

    // The password alone now leads to the code step, not into the application.
    let second = browser();
    let login = form_login_in(&app, &second, "director", "director-test-password").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()[LOCATION], "/login/code");
    assert_eq!(page(&app, &second, "/").await.headers()[LOCATION], "/login");
    let wrong = code_step(&app, &second, "123456").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("did not work"));
    // The code used to set it up is not taken again (each code works once) ...
    let enrol_code = second_factor::code_at(&secret, now()).unwrap();
    let replay = code_step(&app, &second, &enrol_code).await;
    assert!(replay.text().await.unwrap().contains("used already"));
    // ... the next one is.
    let next = second_factor::code_at(&secret, now() + 30).unwrap();
    let ok = code_step(&app, &second, &next).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()[LOCATION], "/");
    assert_eq!(page(&app, &second, "/").await.status(), StatusCode::OK);

    // The API takes the code with the password.
    let without = api_login(&app, "director", "director-test-password", None).await;
    let body = expect(without, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error"], "second_factor");
    let replayed = api_login(&app, "director", "director-test-password", Some(&next)).await;
    expect(replayed, StatusCode::UNAUTHORIZED).await;
    let wrong_password = api_login(&app, "director", "wrong", Some(&recovery[0])).await;
    expect(wrong_password, StatusCode::UNAUTHORIZED).await;
    let with_recovery = api_login(
        &app,
        "director",
        "director-test-password",
        Some(&recovery[0]),
    )
    .await;
    let body = expect(with_recovery, StatusCode::OK).await;
    assert_eq!(body["second_factor"], true);
    // A recovery code works once, typed any way.
    let again = api_login(
        &app,
        "director",
        "director-test-password",
        Some(&recovery[0].to_uppercase().replace('-', " ")),
    )
    .await;
    expect(again, StatusCode::UNAUTHORIZED).await;

    let admin = app.login(AccountRole::Admin).await;
    let audit = expect(
        admin.get("/api/v1/audit?action=account.").await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "account.second_factor_on",
        "account.second_factor",
        "account.second_factor_failed",
        "account.recovery_code_used",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let used: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "account.recovery_code_used")
        .collect();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["details"]["left"], 9);
}

#[tokio::test]
async fn code_guesses_are_throttled_even_for_someone_who_knows_the_password() {
    let app = spawn_app().await;
    let client = browser();
    form_login_in(&app, &client, "director", "director-test-password").await;
    enrol(&app, &client).await;
    let mut statuses = vec![];
    for _ in 0..8 {
        // Typing the right password again does not reset the code's delays.
        let response = api_login(&app, "director", "director-test-password", Some("111111")).await;
        statuses.push(response.status());
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[5..].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn roles_that_must_have_a_second_factor_can_do_nothing_else_until_they_set_it_up() {
    let app = spawn_with(|c| {
        c.require_second_factor = vec![AccountRole::Director, AccountRole::Admin];
    })
    .await;
    let director = app.login(AccountRole::Director).await;
    let refused = director.get("/api/v1/photos").await;
    let body = expect(refused, StatusCode::FORBIDDEN).await;
    assert_eq!(body["error"], "second_factor_setup_required");
    expect(director.get("/api/v1/session").await, StatusCode::OK).await;
    // Staff are not asked.
    let staff = app.login(AccountRole::Staff).await;
    expect(staff.get("/api/v1/photos").await, StatusCode::OK).await;

    // A browser is taken to the set-up page, which says why.
    let client = browser();
    form_login_in(&app, &client, "admin", "admin-test-password").await;
    let home = page(&app, &client, "/admin/people").await;
    assert_eq!(home.headers()[LOCATION], "/account/second-factor");
    let setup = page(&app, &client, "/account/second-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        setup.contains("must log in with a second factor"),
        "{setup}"
    );
    enrol(&app, &client).await;
    assert_eq!(
        page(&app, &client, "/admin/people").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_login_code_page_without_a_right_password_goes_back_to_the_login() {
    let app = spawn_app().await;
    let client = browser();
    assert_eq!(
        page(&app, &client, "/login/code").await.headers()[LOCATION],
        "/login"
    );
    let token = login_form_token(&app, &client).await;
    let response = client
        .post(app.url("/login/code"))
        .form(&[("_csrf", token.as_str()), ("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[LOCATION], "/login");
    assert_eq!(page(&app, &client, "/").await.headers()[LOCATION], "/login");
}

#[tokio::test]
async fn setting_up_a_second_factor_ends_every_session_made_with_the_password_alone() {
    let app = spawn_app().await;
    let laptop = browser();
    let phone = browser();
    form_login_in(&app, &laptop, "director", "director-test-password").await;
    form_login_in(&app, &phone, "director", "director-test-password").await;
    assert_eq!(page(&app, &phone, "/").await.status(), StatusCode::OK);
    // An API session made with the password alone, too.
    let api = app.login(AccountRole::Director).await;
    expect(api.get("/api/v1/photos").await, StatusCode::OK).await;

    enrol(&app, &laptop).await;

    // The session that set it up gave a code: it goes on.
    assert_eq!(page(&app, &laptop, "/").await.status(), StatusCode::OK);
    // The others never gave one: their next request is refused, and they must log in
    // again, now with the code.
    let home = page(&app, &phone, "/").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[LOCATION], "/login");
    expect(api.get("/api/v1/photos").await, StatusCode::UNAUTHORIZED).await;
    let again = form_login_in(&app, &phone, "director", "director-test-password").await;
    assert_eq!(again.headers()[LOCATION], "/login/code");
    assert_eq!(page(&app, &phone, "/").await.headers()[LOCATION], "/login");
}
