//! Mail through a real SMTP server on loopback (aiosmtpd, keeping a Maildir): reminders to
//! the right people once, a mail server away for a while, a refused address, STARTTLS with
//! a test certificate, Microsoft 365's XOAUTH2 with a local token endpoint, `mail-test`,
//! and a server killed while it sends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use consentcam::domain::AccountRole;
use consentcam::infra::mail::SmtpSender;
use consentcam::infra::mail_settings::MailSettings;
use consentcam::ops::mail as outbox;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{NOW, TestApp, User, expect, learner, parent_form, spawn_with_config_file};
pub(crate) use crate::smtp::Sink;

pub(crate) fn mail_toml(port: u16, extra_smtp: &str) -> String {
    format!(
        "time_zone = \"Europe/London\"\n[mail]\nfrom = \"photos@school.example\"\n\
         from_name = \"St Anne's photos\"\nserver_url = \"https://photos.school.example\"\n\
         poll_seconds = 1\nper_second = 100\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\n{extra_smtp}"
    )
}

pub(crate) fn settings_of(toml_text: &str) -> MailSettings {
    #[derive(serde::Deserialize)]
    struct Only {
        mail: MailSettings,
    }
    let only: Only = toml::from_str(
        &toml_text
            .lines()
            .filter(|l| !l.starts_with("time_zone"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    only.mail.check().unwrap();
    only.mail
}

fn at(offset_minutes: i64) -> Timestamp {
    NOW.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(offset_minutes)
}

/// One worker round as `serve` runs it: the reminders due at `now`, then the outbox.
pub(crate) fn worker_round(
    app: &TestApp,
    settings: &MailSettings,
    now: Timestamp,
) -> (usize, outbox::Round) {
    let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let policy = consentcam::infra::config::Config::default().policy();
    let db = Mutex::new(app.db());
    let queued =
        outbox::queue_reminders(&app.db(), &db, settings, &zone, &policy, 30, now).unwrap();
    let sender = SmtpSender::new(settings).unwrap();
    let round = outbox::send_due(
        &db,
        &sender,
        SignedDuration::from_hours(48),
        &|| now,
        1000,
        std::time::Duration::ZERO,
    )
    .unwrap();
    (queued, round)
}

async fn login_as(app: &TestApp, username: &str, password: &str) -> User {
    let mut user = app.anonymous();
    let response = user
        .client
        .post(app.url("/api/v1/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "login as {username}");
    let body: Value = response.json().await.unwrap();
    user.csrf = body["csrf_token"].as_str().unwrap().to_owned();
    user
}

pub(crate) async fn set_email(admin: &User, account: i64, email: &str) {
    expect(
        admin
            .put(
                &format!("/api/v1/accounts/{account}/email"),
                json!({ "email": email }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

/// Names, references and dates of birth in the records: none may be in any message.
const PERSONAL: [&str; 9] = [
    "Zebedee",
    "Quartermain",
    "Robin",
    "Okafor",
    "Isla",
    "Morgan",
    "2008-12-10",
    "2011-04-01",
    "L77",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_reminder_reaches_the_right_people_once_with_a_count_and_a_link_and_no_name() {
    let maildir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(maildir.path(), &["--refuse", "gone"]);
    let toml_text = mail_toml(sink.port, "tls = \"none\"");
    let settings = settings_of(&toml_text);
    let app = spawn_with_config_file(&toml_text).await;
    let admin = app.login(AccountRole::Admin).await;
    let director = app.login(AccountRole::Director).await;
    // The accounts of the helpers: 1 staff, 2 director, 3 admin.
    set_email(&admin, 2, "head@school.example").await;
    set_email(&admin, 3, "office@school.example").await;

    // Isla holds the camera, with an account of her own; a North admin sees only North.
    let isla = expect(
        admin
            .post(
                "/api/v1/people",
                json!({ "ref": "S7", "given_name": "Isla", "family_name": "Morgan",
                        "date_of_birth": "1990-01-01", "role": "staff", "may_sign_out": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let holder = expect(
        admin
            .post(
                "/api/v1/accounts",
                json!({ "username": "isla", "password": "isla-test-password",
                        "role": "staff", "person_id": isla }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    set_email(&admin, holder, "isla@school.example").await;
    let north_admin = expect(
        admin
            .post(
                "/api/v1/accounts",
                json!({ "username": "north-office", "password": "north-test-password",
                        "role": "admin" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    set_email(&admin, north_admin, "north@school.example").await;
    {
        use consentcam::store::sites;
        let conn = app.db();
        let north = sites::insert_site(&conn, "North", NOW.parse().unwrap()).unwrap();
        assert!(sites::assign(&conn, sites::Kind::Account, north_admin, Some(north)).unwrap());
    }
    // The staff account has no address: it gets nothing.

    // The camera went out at 08:00, due back at 09:00; it is 10:00.
    expect(
        admin
            .post(
                "/api/v1/badges",
                json!({ "uid": "5AFF0077", "person_id": isla }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let device = expect(
        admin
            .post(
                "/api/v1/devices",
                json!({ "label": "Camera 1", "make": "Canon", "model": "Canon EOS 250D",
                        "serial": "MAIL-1", "tag_uid": "D0C0FF77", "loan_minutes": 60 }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let events = json!({ "events": [
        { "event_id": "m-1", "seq": 1, "at": "2026-11-25T08:00:00Z", "reader": "office",
          "type": "signed_out", "device_id": device, "person_id": isla,
          "due_back": "2026-11-25T09:00:00Z" },
    ]});
    expect(
        app.kiosk_post("/api/v1/kiosk/events", events).await,
        StatusCode::OK,
    )
    .await;

    // A learner turning 18 on 10 December with only a parent's form.
    let zebedee = learner(&admin, "L77", "Zebedee", "Quartermain", "2008-12-10").await;
    parent_form(&admin, zebedee, "2026-09-01", true, &[]).await;
    // Robin's photo is published, then Robin is marked vulnerable: a takedown task.
    let robin = learner(&admin, "L1", "Robin", "Okafor", "2011-04-01").await;
    parent_form(&admin, robin, "2026-09-01", true, &[]).await;
    let photo = crate::publish::stored_photo(&app, robin);
    let approve = json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" });
    expect(
        director
            .post(&format!("/api/v1/photos/{photo}/approvals"), approve)
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        director
            .post(
                &format!("/api/v1/photos/{photo}/publish"),
                json!({ "channel": { "kind": "website" } }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect(
        admin
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/people/{robin}"),
                Some(json!({ "ref": "L1", "given_name": "Robin", "family_name": "Okafor",
                             "date_of_birth": "2011-04-01", "role": "learner", "vulnerable": true })),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // A request for publication waits for a director.
    let second = crate::helpers::catalogue_photo(&app, "5e", |_| {}).0;
    let staff = app.login(AccountRole::Staff).await;
    staff
        .form(
            &format!("/photos/{second}/requests"),
            &[("channel", "website")],
        )
        .await;

    // 10:00: the holder hears at once; directors only after the grace; the digests.
    let (queued, round) = worker_round(&app, &settings, at(0));
    assert_eq!(queued, 4, "holder, approvals, takedowns, renewals");
    assert_eq!(round.sent, 4);
    assert!(
        sink.to("north@school.example").is_empty(),
        "North has none of it"
    );
    let to_isla = sink.to("isla@school.example");
    assert_eq!(to_isla.len(), 1);
    assert_eq!(
        to_isla[0].subject,
        "Camera 1 is overdue: please bring it back"
    );
    assert!(
        to_isla[0]
            .text
            .contains(&format!("https://photos.school.example/devices/{device}"))
    );
    assert!(to_isla[0].text.contains("due back at 09:00 on Wed 25 Nov"));
    let to_head = sink.to("head@school.example");
    assert_eq!(to_head.len(), 1);
    assert_eq!(
        to_head[0].subject,
        "1 request for publication waiting for your approval"
    );
    assert!(
        to_head[0]
            .text
            .contains("https://photos.school.example/approvals")
    );
    let mut to_office: Vec<String> = sink
        .to("office@school.example")
        .iter()
        .map(|k| k.subject.clone())
        .collect();
    to_office.sort();
    assert_eq!(
        to_office,
        ["1 takedown task is open", "Consent to renew: 1 person"]
    );
    for kept in sink.kept() {
        assert!(
            kept.raw.contains("Content-Type: text/plain")
                && kept.raw.contains("Content-Type: text/html"),
            "plain text and HTML: {}",
            kept.raw
        );
        assert!(kept.message_id.starts_with('<') && kept.message_id.ends_with("@school.example>"));
        for word in PERSONAL {
            assert!(!kept.text.contains(word), "{word:?} in {}", kept.raw);
        }
    }

    // Again at 10:05 and 12:00: nothing new.
    assert_eq!(worker_round(&app, &settings, at(5)).0, 0);
    assert_eq!(worker_round(&app, &settings, at(120)).0, 0);
    assert_eq!(sink.kept().len(), 4);
    // 23:00, past the 12 hours' grace: the director hears of the camera, the holder not
    // again the same day.
    let (queued, _) = worker_round(&app, &settings, at(13 * 60));
    assert_eq!(queued, 1);
    let to_head = sink.to("head@school.example");
    assert_eq!(to_head.len(), 2);
    assert!(to_head.iter().any(|k| k.subject == "1 device is overdue"));

    // The director turns approvals off; the next day brings the holder's and the
    // director's camera reminders and the takedowns again, not the approvals.
    expect(
        director
            .put(
                "/api/v1/account/reminders",
                json!({ "approvals_waiting": false }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let (queued, _) = worker_round(&app, &settings, at(24 * 60));
    assert_eq!(queued, 3, "holder, director's camera, admin's takedowns");
    let to_head = sink.to("head@school.example");
    assert_eq!(to_head.len(), 3);
    assert_eq!(
        to_head
            .iter()
            .filter(|k| k.subject.contains("approval"))
            .count(),
        1,
        "approvals turned off"
    );
    // A staff account may not turn on what links to a page it cannot open.
    let isla_user = login_as(&app, "isla", "isla-test-password").await;
    expect(
        isla_user
            .put("/api/v1/account/reminders", json!({ "takedowns": true }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // The mail server refuses an address for good: the message fails with its answer,
    // the account is flagged and gets nothing more, and admins hear of it the next day.
    set_email(&admin, holder, "gone@school.example").await;
    let (_, round) = worker_round(&app, &settings, at(25 * 60));
    assert_eq!(
        round.failed, 0,
        "the holder's reminder for today is already sent"
    );
    let (queued, round) = worker_round(&app, &settings, at(48 * 60));
    assert!(queued >= 1);
    assert_eq!(round.failed, 1);
    let reminders = expect(
        isla_user.get("/api/v1/account/reminders").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        reminders["refused"]
            .as_str()
            .is_some_and(|a| a.starts_with("550 5.1.1")),
        "{reminders}"
    );
    let failed = expect(admin.get("/api/v1/mail?state=failed").await, StatusCode::OK).await;
    assert_eq!(failed.as_array().unwrap().len(), 1, "{failed}");
    assert!(failed[0].get("body_text").is_none(), "no body in a listing");
    let failed_id = failed[0]["id"].as_i64().unwrap();
    let (queued, _) = worker_round(&app, &settings, at(72 * 60 + 8 * 60));
    assert!(queued >= 1);
    let to_gone = consentcam::store::mail::listing(&app.db(), None, None, 1000)
        .unwrap()
        .into_iter()
        .filter(|m| m.to == "gone@school.example")
        .count();
    assert_eq!(to_gone, 1, "a refused address gets nothing more");
    assert!(
        sink.to("office@school.example")
            .iter()
            .any(|k| k.subject == "1 message could not be delivered")
    );
    // Another site's admin neither sees nor resends it.
    let north = login_as(&app, "north-office", "north-test-password").await;
    assert_eq!(
        expect(north.get("/api/v1/mail").await, StatusCode::OK).await,
        json!([])
    );
    let response = north
        .post(&format!("/api/v1/mail/{failed_id}/send-again"), json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Staff may not list the outbox at all.
    assert_eq!(
        staff.get("/api/v1/mail").await.status(),
        StatusCode::FORBIDDEN
    );
    // Send again: queued once more (it fails again: the address is still refused).
    expect(
        admin
            .post(&format!("/api/v1/mail/{failed_id}/send-again"), json!({}))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let queued_again = expect(admin.get("/api/v1/mail?state=queued").await, StatusCode::OK).await;
    assert!(
        queued_again
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == failed_id)
    );
    sink.stop();
}

/// Queues `n` test messages to `to` through the outbox.
fn queue_tests(app: &TestApp, settings: &MailSettings, to: &str, n: usize) -> Vec<i64> {
    (0..n)
        .map(|_| outbox::queue_test(&mut app.db(), settings, to, None, "test", at(0)).unwrap())
        .collect()
}

fn ids_kept(sink: &Sink) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for k in sink.kept() {
        *seen.entry(k.message_id).or_insert(0) += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_mail_server_away_messages_wait_and_each_arrives_once_it_is_back() {
    let maildir = tempfile::tempdir().unwrap();
    let mut sink = Sink::start(maildir.path(), &[]);
    let toml_text = mail_toml(sink.port, "tls = \"none\"");
    let settings = settings_of(&toml_text);
    let app = spawn_with_config_file(&toml_text).await;
    sink.stop();
    queue_tests(&app, &settings, "someone@school.example", 5);
    let (_, round) = worker_round(&app, &settings, at(0));
    assert_eq!((round.sent, round.deferred), (0, 5));
    // Not due again for a minute (less the jitter of at most a fifth).
    let (_, round) = worker_round(&app, &settings, at(0) + SignedDuration::from_secs(40));
    assert_eq!(round, outbox::Round::default());
    let (_, round) = worker_round(&app, &settings, at(2));
    assert_eq!(round.deferred, 5, "still away");
    sink.resume();
    let (_, round) = worker_round(&app, &settings, at(10));
    assert_eq!(round.sent, 5);
    let (_, round) = worker_round(&app, &settings, at(60));
    assert_eq!(round, outbox::Round::default(), "nothing twice");
    let seen = ids_kept(&sink);
    assert_eq!(seen.len(), 5);
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    // A server away past the retry time: the message is marked failed, not lost.
    sink.stop();
    queue_tests(&app, &settings, "late@school.example", 1);
    worker_round(&app, &settings, at(0));
    let (_, round) = worker_round(&app, &settings, at(49 * 60));
    assert_eq!(round.failed, 1);
    let listed = consentcam::store::mail::listing(&app.db(), None, Some("failed"), 10).unwrap();
    assert!(
        listed[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("given up after 2 tries")
    );
}

/// A test certificate authority and a certificate for `127.0.0.1` it signed:
/// (CA PEM, certificate PEM, key PEM).
fn test_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn write_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca, cert, key) = test_certificates();
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca).unwrap();
    std::fs::write(&paths.1, cert).unwrap();
    std::fs::write(&paths.2, key).unwrap();
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_to_a_server_with_its_own_certificate_and_never_without_trusting_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = write_certificates(dir.path());
    let maildir = dir.path().join("maildir");
    let sink = Sink::start(
        &maildir,
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    let trusted = format!(
        "time_zone = \"Europe/London\"\n[mail]\nfrom = \"photos@school.example\"\n\
         server_url = \"https://photos.school.example\"\n[mail.smtp]\nhost = \"127.0.0.1\"\n\
         port = {}\ntls = \"starttls\"\nca_file = {:?}\n",
        sink.port, ca
    );
    let settings = settings_of(&trusted);
    let app = spawn_with_config_file(&trusted).await;
    queue_tests(&app, &settings, "someone@school.example", 1);
    let (_, round) = worker_round(&app, &settings, at(0));
    assert_eq!(round.sent, 1);
    assert_eq!(sink.kept().len(), 1);
    // The same server without its CA trusted: refused at the handshake, kept to retry.
    let untrusted = settings_of(&trusted.replace(&format!("ca_file = {ca:?}\n"), ""));
    queue_tests(&app, &untrusted, "someone@school.example", 1);
    let (_, round) = worker_round(&app, &untrusted, at(1));
    assert_eq!((round.sent, round.deferred), (0, 1));
    let queued = consentcam::store::mail::listing(&app.db(), None, Some("queued"), 10).unwrap();
    let error = queued[0].last_error.clone().unwrap();
    assert!(
        error.contains("tls") || error.contains("certificate"),
        "{error}"
    );
    assert_eq!(sink.kept().len(), 1);
}

/// A token endpoint on loopback that gives `token` for the right client id, secret and
/// scope: the number of tokens it gave, and its address.
async fn token_endpoint(
    token: &'static str,
) -> (std::sync::Arc<std::sync::atomic::AtomicUsize>, String) {
    use axum::routing::post;
    let given = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = given.clone();
    let app = axum::Router::new().route(
        "/tenant/oauth2/v2.0/token",
        post(
            move |axum::Form(form): axum::Form<BTreeMap<String, String>>| {
                let counter = counter.clone();
                async move {
                    let right = form.get("grant_type").map(String::as_str)
                        == Some("client_credentials")
                        && form.get("client_id").map(String::as_str) == Some("app-id")
                        && form.get("client_secret").map(String::as_str) == Some("app-secret")
                        && form.get("scope").map(String::as_str)
                            == Some("https://outlook.office365.com/.default");
                    if right {
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        (
                            StatusCode::OK,
                            axum::Json(json!({ "access_token": token, "expires_in": 3599,
                                           "token_type": "Bearer" })),
                        )
                    } else {
                        (
                            StatusCode::UNAUTHORIZED,
                            axum::Json(json!({ "error": "invalid_client" })),
                        )
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (given, format!("http://{addr}/tenant/oauth2/v2.0/token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_365_gets_a_token_by_client_credentials_and_sends_it_as_xoauth2() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = write_certificates(dir.path());
    let (given, token_url) = token_endpoint("token-for-photos").await;
    let sink = Sink::start(
        &dir.path().join("maildir"),
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--xoauth2-token",
            "token-for-photos",
            "--xoauth2-user",
            "photos@school.example",
        ],
    );
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "app-secret\n").unwrap();
    let config = |secret_file: &Path| {
        format!(
            "time_zone = \"Europe/London\"\n[mail]\nfrom = \"photos@school.example\"\n\
             server_url = \"https://photos.school.example\"\n[mail.microsoft365]\n\
             tenant = \"tenant\"\nclient_id = \"app-id\"\nclient_secret_file = {secret_file:?}\n\
             token_url = \"{token_url}\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = {ca:?}\n",
            sink.port
        )
    };
    let toml_text = config(&secret);
    let settings = settings_of(&toml_text);
    let app = spawn_with_config_file(&toml_text).await;
    queue_tests(&app, &settings, "someone@school.example", 3);
    let (_, round) = worker_round(&app, &settings, at(0));
    assert_eq!(round.sent, 3);
    assert_eq!(sink.kept().len(), 3);
    assert_eq!(
        given.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one token for the round"
    );
    // A wrong secret: the endpoint's answer is kept and the message waits.
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not-the-secret").unwrap();
    let bad = settings_of(&config(&wrong));
    queue_tests(&app, &bad, "someone@school.example", 1);
    let (_, round) = worker_round(&app, &bad, at(1));
    assert_eq!(round.deferred, 1);
    let queued = consentcam::store::mail::listing(&app.db(), None, Some("queued"), 10).unwrap();
    let error = queued[0].last_error.clone().unwrap();
    assert!(error.contains("invalid_client"), "{error}");
    // The mail server refuses a token it does not know (a stale one, another app's).
    let (_, other_url) = token_endpoint("someone-elses-token").await;
    let stale = settings_of(&toml_text.replace(&token_url, &other_url));
    let (_, round) = worker_round(&app, &stale, at(3));
    assert_eq!(round.deferred, 1);
    let queued = consentcam::store::mail::listing(&app.db(), None, Some("queued"), 10).unwrap();
    let error = queued[0].last_error.clone().unwrap();
    assert!(error.contains("535"), "{error}");
    assert_eq!(sink.kept().len(), 3);
}

fn consentcam(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consentcam"));
    command.arg("--config").arg(config).env("RUST_LOG", "warn");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_test_prints_the_servers_exact_answer() {
    let maildir = tempfile::tempdir().unwrap();
    let sink = Sink::start(maildir.path(), &["--refuse", "gone"]);
    let app = spawn_with_config_file(&mail_toml(sink.port, "tls = \"none\"")).await;
    let config = app.config_file.clone().unwrap();
    let out = consentcam(&config)
        .args(["mail-test", "head@school.example"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("the server answered 250 OK"), "{stdout}");
    assert_eq!(sink.to("head@school.example").len(), 1);
    let out = consentcam(&config)
        .args(["mail-test", "gone@school.example"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("550 5.1.1 <gone@school.example>: Recipient address rejected"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_sending_200_messages_sends_every_one_after_restarts() {
    const MESSAGES: usize = 200;
    let maildir = tempfile::tempdir().unwrap();
    let sink = Sink::start(maildir.path(), &[]);
    let toml_text = mail_toml(sink.port, "tls = \"none\"");
    let settings = settings_of(&toml_text);
    // The records, with the messages already queued; the in-process server is not used.
    let app = spawn_with_config_file(&toml_text).await;
    let queued = queue_tests(&app, &settings, "someone@school.example", MESSAGES);
    assert_eq!(queued.len(), MESSAGES);
    let config = app.config_file.clone().unwrap();
    let data_dir = app.db_path.parent().unwrap().to_owned();
    let mut kills = 0;
    let mut seed = 0x2545_f491_u64;
    loop {
        let mut server = consentcam(&config)
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sent = |db: &Path| -> usize {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.query_row(
                "SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap() as usize
        };
        if kills < 5 {
            // Killed at a random moment once it has started sending.
            let start = std::time::Instant::now();
            while sent(&app.db_path) == 0 && start.elapsed() < std::time::Duration::from_secs(30) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            std::thread::sleep(std::time::Duration::from_millis(20 + seed % 400));
            server.kill().unwrap();
            server.wait().unwrap();
            kills += 1;
            continue;
        }
        let start = std::time::Instant::now();
        while sent(&app.db_path) < MESSAGES && start.elapsed() < std::time::Duration::from_secs(120)
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        server.kill().unwrap();
        server.wait().unwrap();
        break;
    }
    assert_eq!(
        consentcam::store::mail::counts(&app.db(), None).unwrap(),
        (0, MESSAGES as u64, 0)
    );
    let seen = ids_kept(&sink);
    assert_eq!(seen.len(), MESSAGES, "every message arrived");
    let twice: usize = seen.values().filter(|&&n| n > 1).count();
    assert!(seen.values().all(|&n| n <= 2), "{seen:?}");
    assert!(twice <= kills, "{twice} sent twice after {kills} kills");
    println!("{MESSAGES} messages, {kills} kills while sending: {twice} arrived twice");
}
