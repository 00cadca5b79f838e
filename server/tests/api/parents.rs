//! Consent given and withdrawn online, end to end: an admin asks, the request goes out
//! through a real SMTP server, the link read back from its Maildir is followed on the
//! public listener (date of birth, answers, signature), the blocked photo becomes usable
//! on the channels given only, and the emailed withdraw link takes it down. Then each
//! attack on the links and pages, refused with nothing changed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{NOW, TestApp, User, expect, learner, spawn_with_config_file};
use crate::mail::{Sink, mail_toml, set_email, settings_of, worker_round};
use crate::smtp::link_in;
use consentcam::domain::AccountRole;
use jiff::Timestamp;

fn config(port: u16, per_minute: u32) -> String {
    format!(
        "{}\n[parents]\npublic_url = \"http://127.0.0.1:1\"\nrequests_per_minute = {per_minute}\n",
        mail_toml(port, "tls = \"none\"")
    )
}

/// A parent's browser: keeps its cookies, follows redirects, on the public listener.
struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: format!("http://{}", app.public.unwrap()),
        }
    }

    async fn get(&self, url: &str) -> (StatusCode, String) {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        };
        let r = self.client.get(url).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let at = r.url().path().to_owned();
        (r.status(), at, r.text().await.unwrap())
    }
}

/// The value of the hidden field `name` on a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} on: {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

fn verdict(decisions: &Value, kind: &str) -> String {
    decisions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"]["kind"] == kind)
        .unwrap()["verdict"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn codes(decisions: &Value, kind: &str) -> Vec<String> {
    decisions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"]["kind"] == kind)
        .unwrap()["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// Sends what is queued through the real SMTP server.
fn send(app: &TestApp, toml_text: &str) {
    worker_round(app, &settings_of(toml_text), now());
}

async fn add_contact(admin: &User, person: i64, name: &str, rel: &str, email: &str) -> i64 {
    expect(
        admin
            .post(
                &format!("/api/v1/people/{person}/contacts"),
                json!({ "name": name, "relationship": rel, "email": email }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn request(admin: &User, person: i64) -> Value {
    expect(
        admin
            .post(
                &format!("/api/v1/people/{person}/consent-requests"),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await
}

/// Follows a link to the page after the date-of-birth check; returns that page.
async fn through_check(
    browser: &Browser,
    link: &str,
    born: [&str; 3],
) -> (StatusCode, String, String) {
    let (status, page) = browser.get(link).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = hidden(&page, "token");
    let (status, at, page) = browser.post("/consent/start", &[("token", &token)]).await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/check"),
        "{page}"
    );
    let csrf = hidden(&page, "_csrf");
    browser
        .post(
            "/consent/check",
            &[
                ("_csrf", &csrf),
                ("day", born[0]),
                ("month", born[1]),
                ("year", born[2]),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_answers_through_the_emailed_link_and_later_withdraws_the_website() {
    let maildir = tempfile::tempdir().unwrap();
    let sink = Sink::start(maildir.path(), &[]);
    let toml_text = config(sink.port, 1000);
    let app = spawn_with_config_file(&toml_text).await;
    let admin = app.login(AccountRole::Admin).await;
    let director = app.login(AccountRole::Director).await;

    let amira = learner(&admin, "L41", "Amira", "Haddad", "2012-05-14").await;
    add_contact(&admin, amira, "Sam Haddad", "parent", "sam@home.example").await;
    let photo = crate::publish::stored_photo(&app, amira);
    let decisions = expect(
        director
            .get(&format!("/api/v1/photos/{photo}/decisions"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "website"), "blocked");
    assert!(codes(&decisions, "website").contains(&"no_consent".to_owned()));

    // Staff never see contacts.
    let staff = app.login(AccountRole::Staff).await;
    expect(
        staff.get(&format!("/api/v1/people/{amira}/contacts")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let person = expect(
        staff.get(&format!("/api/v1/people/{amira}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(!person.to_string().contains("sam@home.example"));

    let asked = request(&admin, amira).await;
    assert_eq!(asked["links"], 1, "{asked}");
    send(&app, &toml_text);
    let mails = sink.to("sam@home.example");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    for personal in ["Amira", "Haddad", "2012", "L41"] {
        assert!(
            !mail.text.contains(personal),
            "{personal} in the request: {}",
            mail.text
        );
    }
    let link = link_in(&mail.text);
    assert!(
        link.starts_with(&format!("http://{}/consent/link/", app.public.unwrap())),
        "{link}"
    );

    // A scanner opening the link changes nothing; the page names nobody.
    let scanner = Browser::new(&app);
    let (status, page) = scanner.get(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Amira"));
    let opened: Option<String> = app
        .db()
        .query_row("SELECT opened_at FROM consent_links", [], |r| r.get(0))
        .unwrap();
    assert_eq!(opened, None);

    // The parent: one wrong date of birth, then the right one.
    let browser = Browser::new(&app);
    let (status, _, page) = through_check(&browser, &link, ["14", "6", "2012"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("4 tries left"), "{page}");
    assert!(!page.contains("Amira"));
    let csrf = hidden(&page, "_csrf");
    let (status, at, page) = browser
        .post(
            "/consent/check",
            &[
                ("_csrf", &csrf),
                ("day", "14"),
                ("month", "5"),
                ("year", "2012"),
            ],
        )
        .await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/answers"),
        "{page}"
    );
    assert!(page.contains("Amira H."), "{page}");
    assert!(!page.contains("checked"), "nothing is pre-ticked");
    let mut pages = 4; // continue, date of birth (twice: one mistake), answers

    // Unanswered questions are named; nothing is assumed.
    let (status, _, page) = browser
        .post("/consent/answers", &[("_csrf", &csrf), ("internal", "yes")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Answer yes or no: On our website"), "{page}");
    let (status, at, page) = browser
        .post(
            "/consent/answers",
            &[
                ("_csrf", &csrf),
                ("internal", "yes"),
                ("website", "yes"),
                ("social", "no"),
            ],
        )
        .await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/confirm"),
        "{page}"
    );
    pages += 1;
    assert!(page.contains("Check your answers") && page.contains("Accept and send"));
    let (status, at, page) = browser
        .post(
            "/consent/confirm",
            &[
                ("_csrf", &csrf),
                ("name", "Sam Haddad"),
                ("relationship", "parent"),
            ],
        )
        .await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/done"),
        "{page}"
    );
    pages += 1;
    let reference = page
        .split("<strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(reference.starts_with("CC-"), "{reference}");
    // From the email: continue, date of birth, answers, check and sign, confirmation.
    assert_eq!(
        pages - 1,
        5,
        "pages from the email to the confirmation without a mistake"
    );

    // The record: a parent's form with its evidence, the wording's hash and the link.
    let db = app.db();
    let (signer, name, source, website, social): (String, String, String, bool, bool) = db
        .query_row(
            "SELECT signer_kind, signer_name, source, website, social FROM consent_records WHERE person_id = ?1",
            [amira],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (signer.as_str(), name.as_str(), website, social),
        ("parent", "Sam Haddad", true, false)
    );
    assert!(source.starts_with("online:"));
    let (evidence_ref, hash): (String, String) = db
        .query_row(
            "SELECT o.reference, w.sha256 FROM consent_online o JOIN consent_wordings w ON w.id = o.wording_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(evidence_ref, reference);
    assert_eq!(hash.len(), 64);
    let audit: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'consent.online_answer'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audit, 1);

    // The photo is usable on the website (a director's approval still needed), not on social.
    let decisions = expect(
        director
            .get(&format!("/api/v1/photos/{photo}/decisions"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !codes(&decisions, "website")
            .iter()
            .any(|c| c == "no_consent"),
        "{decisions}"
    );
    assert_eq!(verdict(&decisions, "social"), "blocked");
    assert!(
        codes(&decisions, "social").contains(&"consent_withheld".to_owned()),
        "{decisions}"
    );

    // The used link cannot be used again.
    let again = Browser::new(&app);
    let (status, page) = again.get(&link).await;
    assert_eq!(status, StatusCode::GONE, "{page}");

    // The confirmation: the answers, the reference, a withdraw link.
    send(&app, &toml_text);
    let confirmation = sink
        .to("sam@home.example")
        .into_iter()
        .find(|m| m.subject.contains(&reference))
        .expect("a confirmation with the reference");
    assert!(confirmation.text.contains("On our website: Yes"));
    assert!(confirmation.text.contains("On our social media: No"));
    let withdraw_link = link_in(&confirmation.text);

    // Published on the website...
    expect(
        director
            .post(
                &format!("/api/v1/photos/{photo}/approvals"),
                json!({ "channel": { "kind": "website" }, "approve": true, "note": "fine" }),
            )
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
    // ...then withdrawn from the emailed link: one page after the check.
    let parent = Browser::new(&app);
    let (status, at, page) = through_check(&parent, &withdraw_link, ["14", "5", "2012"]).await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/withdraw"),
        "{page}"
    );
    assert!(
        page.contains("On our website") && !page.contains("social media"),
        "{page}"
    );
    let csrf = hidden(&page, "_csrf");
    let (status, at, page) = parent
        .post(
            "/consent/withdraw",
            &[("_csrf", &csrf), ("withdraw", "website")],
        )
        .await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/done"),
        "{page}"
    );
    assert!(page.contains("Withdrawal recorded"));

    let takedowns = expect(director.get("/api/v1/takedowns").await, StatusCode::OK).await;
    assert_eq!(takedowns.as_array().unwrap().len(), 1, "{takedowns}");
    let decisions = expect(
        director
            .get(&format!("/api/v1/photos/{photo}/decisions"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verdict(&decisions, "website"), "blocked");
    assert_ne!(
        verdict(&decisions, "internal"),
        "blocked",
        "internal use stays: {decisions}"
    );

    // The admins' view of where requests stand.
    let statuses = expect(admin.get("/api/v1/consent-requests").await, StatusCode::OK).await;
    let row = &statuses.as_array().unwrap()[0];
    assert_eq!(row["person_id"], amira);
    assert!(
        row["opened_at"].is_string()
            && row["answered_at"].is_string()
            && row["withdrawn_at"].is_string(),
        "{row}"
    );
    assert_eq!(row["mail_failed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_refuse_every_misuse_and_change_nothing() {
    let maildir = tempfile::tempdir().unwrap();
    let sink = Sink::start(maildir.path(), &[]);
    let toml_text = config(sink.port, 1000);
    let app = spawn_with_config_file(&toml_text).await;
    let admin = app.login(AccountRole::Admin).await;
    set_email(&admin, 3, "office@school.example").await;
    let a = learner(&admin, "L1", "Ava", "Stone", "2013-01-02").await;
    let b = learner(&admin, "L2", "Ben", "Marsh", "2012-07-08").await;
    add_contact(&admin, a, "Pat Stone", "carer", "pat@home.example").await;
    add_contact(&admin, b, "Lee Marsh", "guardian", "lee@home.example").await;
    request(&admin, a).await;
    request(&admin, b).await;
    send(&app, &toml_text);
    let link_a = link_in(&sink.to("pat@home.example")[0].text);
    let link_b = link_in(&sink.to("lee@home.example")[0].text);
    let forms = |app: &TestApp| -> i64 {
        app.db()
            .query_row("SELECT count(*) FROM consent_records", [], |r| r.get(0))
            .unwrap()
    };

    // An altered token: not recognised.
    let mut altered = link_a.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let browser = Browser::new(&app);
    let (status, page) = browser.get(&altered).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    let (status, _, _) = browser
        .post(
            "/consent/start",
            &[("token", &altered[altered.len() - 43..])],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An expired link.
    let expired_token = "e".repeat(43);
    {
        let db = app.db();
        let contact: i64 = db
            .query_row(
                "SELECT id FROM person_contacts WHERE person_id = ?1",
                [a],
                |r| r.get(0),
            )
            .unwrap();
        consentcam::store::parents::insert_link(
            &db,
            &consentcam::store::parents::NewLink {
                token_hash: &consentcam::ops::parents::hash(&expired_token),
                person: consentcam::domain::PersonId(a),
                contact,
                purpose: consentcam::rules::parents::Purpose::Answer,
                reason: "request",
                requested_by: "test",
                expires_at: now() - jiff::SignedDuration::from_hours(1),
            },
            now() - jiff::SignedDuration::from_hours(400),
        )
        .unwrap();
    }
    let (status, page) = browser.get(&format!("/consent/link/{expired_token}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expired"));

    // Another person's link: B's link with A's date of birth is a wrong date.
    let (status, _, page) = through_check(&Browser::new(&app), &link_b, ["2", "1", "2013"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.contains("Ava") && !page.contains("Ben"), "{page}");

    // Pages after the check without a visit, or before the check: nothing shown.
    let (status, page) = Browser::new(&app).get("/consent/answers").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");

    // Guessing A's date of birth: the fifth wrong one locks the link; the admins are told.
    let guesser = Browser::new(&app);
    let (_, _, mut page) = through_check(&guesser, &link_a, ["1", "1", "2013"]).await;
    for day in 2..=5 {
        let csrf = hidden(&page, "_csrf");
        let day = day.to_string();
        let (status, _, next) = guesser
            .post(
                "/consent/check",
                &[
                    ("_csrf", &csrf),
                    ("day", &day),
                    ("month", "2"),
                    ("year", "2013"),
                ],
            )
            .await;
        page = next;
        if day == "5" {
            assert_eq!(status, StatusCode::GONE, "{page}");
            assert!(page.contains("locked"));
        }
    }
    // Even the right date now: locked.
    let (status, page) = Browser::new(&app).get(&link_a).await;
    assert_eq!(status, StatusCode::GONE, "{page}");
    send(&app, &toml_text);
    let notice = sink.to("office@school.example");
    assert_eq!(notice.len(), 1, "the admin is told once");
    assert!(notice[0].subject.contains("locked"));
    assert!(!notice[0].text.contains("Ava") && !notice[0].text.contains("Stone"));

    // A cross-site POST with a real visit's cookie: refused, nothing kept.
    let b_browser = Browser::new(&app);
    let (status, at, page) = through_check(&b_browser, &link_b, ["8", "7", "2012"]).await;
    assert_eq!(
        (status, at.as_str()),
        (StatusCode::OK, "/consent/answers"),
        "{page}"
    );
    let csrf = hidden(&page, "_csrf");
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = b_browser
            .client
            .post(format!("{}/consent/answers", b_browser.base))
            .header(header, value)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("internal", "yes"),
                ("website", "yes"),
                ("social", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{header}");
    }
    // A forged form without the visit's CSRF value.
    let (status, _, _) = b_browser
        .post(
            "/consent/answers",
            &[
                ("_csrf", "x"),
                ("internal", "yes"),
                ("website", "yes"),
                ("social", "yes"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let draft: String = app
        .db()
        .query_row(
            "SELECT draft FROM consent_visits WHERE born_checked = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(draft, "{}", "nothing kept from refused posts");
    assert_eq!(forms(&app), 0);

    // Staff pages, the API and the kiosk routes do not exist on the public listener; the
    // consent pages do not exist on the staff listener.
    let public = Browser::new(&app);
    for path in [
        "/",
        "/login",
        "/health",
        "/api/v1/people",
        "/api/v1/kiosk/roster",
        "/static/app.css",
        "/admin/accounts",
        "/renewals",
    ] {
        let (status, _) = public.get(path).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path} on the public listener"
        );
    }
    let r = public
        .client
        .post(format!("{}/api/v1/login", public.base))
        .json(&json!({"username": "admin", "password": "admin-test-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let staff_side = reqwest::Client::new();
    for path in [
        link_b.replacen(&app.public.unwrap().to_string(), &app.addr.to_string(), 1),
        format!("http://{}/consent/new-link", app.addr),
        format!("http://{}/consent/static/consent.css", app.addr),
    ] {
        let r = staff_side.get(&path).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NOT_FOUND,
            "{path} on the staff listener"
        );
        let text = r.text().await.unwrap();
        assert!(!text.contains("date of birth"), "{path}");
    }
    assert_eq!(forms(&app), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_new_link_requests_get_the_same_answer_and_are_throttled() {
    let maildir = tempfile::tempdir().unwrap();
    let sink = Sink::start(maildir.path(), &[]);
    let toml_text = config(sink.port, 2000);
    let app = spawn_with_config_file(&toml_text).await;
    let admin = app.login(AccountRole::Admin).await;
    let a = learner(&admin, "L1", "Ava", "Stone", "2013-01-02").await;
    add_contact(&admin, a, "Pat Stone", "parent", "pat@home.example").await;

    let browser = Browser::new(&app);
    let (status, _, known) = browser
        .post("/consent/new-link", &[("email", "Pat@Home.example")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut answers = std::collections::BTreeMap::<(StatusCode, String), usize>::new();
    for i in 0..1000 {
        let email = format!(
            "guess{i}-{:08x}@home.example",
            i * 2_654_435_761_u64 % 4_294_967_296
        );
        let (status, _, page) = browser
            .post("/consent/new-link", &[("email", &email)])
            .await;
        *answers.entry((status, page)).or_default() += 1;
    }
    let ok: Vec<_> = answers
        .keys()
        .filter(|(s, _)| *s == StatusCode::OK)
        .collect();
    assert_eq!(ok.len(), 1, "one answer for every address");
    assert_eq!(
        ok[0].1, known,
        "a known address gets the same answer as any other"
    );
    let throttled = answers
        .iter()
        .filter(|((s, _), _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, n)| n)
        .sum::<usize>();
    assert!(throttled >= 990, "{throttled} of 1000 throttled");
    assert_eq!(
        answers.len(),
        2,
        "one page when allowed, one when throttled"
    );

    // Only the known address got mail: one new link.
    send(&app, &toml_text);
    assert_eq!(sink.kept().len(), 1);
    assert_eq!(sink.to("pat@home.example").len(), 1);
}

/// Two sites: an admin of North asks everyone missing a form and reaches North's people
/// only, on the API and on the renewals page; the wording is the trust's, so North's admin
/// reads it and cannot change it, and the trust's admin changes it (a new version).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sites_admin_asks_its_own_people_only_and_the_wording_is_the_trusts() {
    use consentcam::store::{registry, sites};
    let maildir = tempfile::tempdir().unwrap();
    let sink = Sink::start(maildir.path(), &[]);
    let toml_text = config(sink.port, 1000);
    let app = spawn_with_config_file(&toml_text).await;
    let trust = app.login(AccountRole::Admin).await;
    let nia = learner(&trust, "N01", "Nia", "North", "2012-01-01").await;
    let sol = learner(&trust, "S01", "Sol", "South", "2012-01-01").await;
    add_contact(&trust, nia, "Noor North", "parent", "noor@home.example").await;
    add_contact(&trust, sol, "Sam South", "parent", "sam@home.example").await;

    // The trust's admin changes the wording through the page: version 1 (the built-in
    // words were never saved) becomes the first saved version.
    let before = expect(trust.get("/api/v1/consent-wording").await, StatusCode::OK).await;
    assert_eq!(before["id"], Value::Null);
    let mut words: Vec<(String, String)> = before["wording"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    for (field, text) in &mut words {
        if field == "website" {
            *text = "On the news pages of our website, never with a name.".into();
        }
    }
    let fields: Vec<(&str, &str)> = words
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let page = trust.form("/admin/consent-wording", &fields).await;
    assert!(page.contains("saved"), "{page}");
    let after = expect(trust.get("/api/v1/consent-wording").await, StatusCode::OK).await;
    assert_eq!(
        after["wording"]["website"],
        "On the news pages of our website, never with a name."
    );
    assert_ne!(after["sha256"], before["sha256"]);
    let version = after["id"].clone();
    assert!(version.is_i64(), "{after}");

    let conn = app.db();
    let now = NOW.parse().unwrap();
    let north = sites::insert_site(&conn, "North", now).unwrap();
    let south = sites::insert_site(&conn, "South", now).unwrap();
    assert!(sites::assign(&conn, sites::Kind::Person, nia, Some(north)).unwrap());
    assert!(sites::assign(&conn, sites::Kind::Person, sol, Some(south)).unwrap());
    let admin = registry::account_by_username(&conn, "admin")
        .unwrap()
        .unwrap();
    assert!(sites::assign(&conn, sites::Kind::Account, admin.id.0, Some(north)).unwrap());
    let north_admin = app.login(AccountRole::Admin).await;

    // North's admin reads the wording and cannot change it, on the API or the page.
    let page = north_admin
        .get("/admin/consent-wording")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("On the news pages of our website"), "{page}");
    assert!(!page.contains("Save as a new version"), "{page}");
    expect(
        north_admin
            .put("/api/v1/consent-wording", after["wording"].clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let page = north_admin.form("/admin/consent-wording", &fields).await;
    assert!(page.contains("an admin of every site sets it"), "{page}");
    let unchanged = expect(
        north_admin.get("/api/v1/consent-wording").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged["id"], version);

    // Everyone missing a form, as North's admin: Nia only, on the API and on the page.
    let asked = expect(
        north_admin
            .post(
                "/api/v1/consent-requests",
                json!({ "missing_or_lapsing": true }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (asked["people"].clone(), asked["links"].clone()),
        (json!(1), json!(1)),
        "{asked}"
    );
    let page = north_admin.form("/renewals/requests", &[]).await;
    assert!(
        page.contains("1 link(s) mailed to the contacts of 1 person(s)"),
        "{page}"
    );
    let asked: Vec<i64> = app
        .db()
        .prepare("SELECT DISTINCT person_id FROM consent_links")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(asked, vec![nia], "only North's person was asked");
    send(&app, &toml_text);
    assert_eq!(sink.to("noor@home.example").len(), 2);
    assert!(sink.to("sam@home.example").is_empty());
    // Nor does North's admin see where South's requests stand.
    let statuses = expect(
        north_admin.get("/api/v1/consent-requests").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        statuses
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["person_id"] == nia),
        "{statuses}"
    );
}
