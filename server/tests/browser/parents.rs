//! A parent answers online, in Chromium at a phone's size: an admin adds the parent and
//! mails a request, the link is read back from a real SMTP server's Maildir, the parent
//! passes the date-of-birth check and answers, and the photo the demo's card import
//! brought in (real faces, found by the detector) becomes publishable on the channels
//! given only. The director publishes it; the withdraw link in the confirmation email
//! takes it down. Every public page passes axe-core's WCAG 2.1 A and AA rules at a phone's
//! and a desktop's width.

use consentcam::domain::PersonId;
use consentcam::infra::mail::SmtpSender;
use consentcam::rules::consent::FaceResolution;
use consentcam::store::{faces, people};
use jiff::SignedDuration;

use super::harness::{self, Browser, Server, browser};
use super::smtp::{Sink, link_in};
use super::{DESKTOP, desktop, person_id};

const PHONE: (u32, u32) = (390, 844);
const PARENT: &str = "kim.wilson@home.example";
const NEWS_PAGES: &str = "On the news pages of our website, never with a name.";

/// Sends what the outbox holds through the real SMTP server, as the mail worker does.
fn send_mail(server: &Server, settings: &consentcam::infra::mail_settings::MailSettings) {
    let db = std::sync::Mutex::new(server.db());
    let sender = SmtpSender::new(settings).expect("an SMTP sender");
    let now = harness::NOW.parse().expect("now");
    let round = consentcam::ops::mail::send_due(
        &db,
        &sender,
        SignedDuration::from_hours(48),
        &|| now,
        100,
        std::time::Duration::ZERO,
    )
    .expect("a round of the outbox");
    assert_eq!(round.failed, 0, "{round:?}");
}

/// The public page now shown passes axe at a phone's and a desktop's width; with
/// `CONSENTCAM_SCREENSHOTS` set, a page the README shows (`pictured`) is saved at both as
/// `consent-NAME-*.png`.
async fn check_page(b: &Browser, name: &str, pictured: bool) {
    let keep = pictured && std::env::var_os("CONSENTCAM_SCREENSHOTS").is_some();
    for (size, (width, height)) in [("phone", PHONE), ("desktop", DESKTOP)] {
        b.resize(width, height).await;
        let broken = b.axe_violations().await;
        assert!(broken.is_empty(), "{name} at a {size}'s width: {broken:#?}");
        if keep {
            b.screenshot(&format!("consent-{name}-{size}")).await;
        }
    }
    b.resize(PHONE.0, PHONE.1).await;
}

/// From the link through "continue" and the date-of-birth check (one mistake first).
async fn through_the_check(b: &Browser, link: &str, born: jiff::civil::Date, pages: &str) {
    b.goto(link).await;
    let shown = b.text("main").await;
    assert!(!shown.contains("Harry"), "the opened link names nobody");
    check_page(b, &format!("{pages}continue"), pages.is_empty()).await;
    b.submit("form[action='/consent/start'] button").await;
    b.wait("#born-day").await;
    check_page(b, &format!("{pages}check"), pages.is_empty()).await;
    b.fill("#born-day", &(born.day() + 1).to_string()).await;
    b.fill("#born-month", &born.month().to_string()).await;
    b.fill("#born-year", &born.year().to_string()).await;
    b.submit("form[action='/consent/check'] button").await;
    let problem = b.text(".summary").await;
    assert!(problem.contains("4 tries left"), "{problem}");
    if pages.is_empty() {
        check_page(b, "check-error", true).await;
    }
    // What was typed stays: only the day is put right.
    assert_eq!(b.value("#born-year").await, born.year().to_string());
    b.fill("#born-day", &born.day().to_string()).await;
    b.submit("form[action='/consent/check'] button").await;
}

#[tokio::test]
async fn a_parent_answers_from_the_emailed_link_and_withdraws_the_website_later() {
    let maildir = tempfile::tempdir().expect("maildir");
    let sink = Sink::start(maildir.path(), &[]);
    let mail: consentcam::infra::mail_settings::MailSettings = toml::from_str(&format!(
        "from = \"photos@school.example\"\nserver_url = \"https://photos.school.example\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
        sink.port
    ))
    .expect("mail settings");
    let settings = mail.clone();
    let server = harness::spawn_demo_configured(
        move |config| {
            config.mail = Some(mail);
            config.parents = Some(
                toml::from_str("public_url = \"http://127.0.0.1:1\"\nrequests_per_minute = 1000\n")
                    .expect("parents settings"),
            );
        },
        |_, _| {},
    )
    .await;
    let public = server.public.clone().expect("the public listener");
    let harry = person_id(&server, "L107");
    let born = people::person(&server.db(), PersonId(harry))
        .expect("Harry")
        .date_of_birth;
    // A photo from the demo's card: the detector found Amira and Harry; Amira is tagged.
    let photo = consentcam::demo::demo_photo(&server.db(), "IMG_0004.JPG").expect("demo photo");
    let open_face = faces::faces(&server.db(), photo)
        .expect("faces")
        .into_iter()
        .find(|f| f.resolution == FaceResolution::Unresolved)
        .expect("a face nobody is assigned to");
    let photo_page = server.url(&format!("/photos/{}", photo.0));

    // Staff name Harry on the photo: blocked, for he has no form.
    let staff = desktop().await;
    staff.log_in(&server, "staff").await;
    staff.goto(&photo_page).await;
    staff
        .fill(&format!("#person-{}", open_face.id), "L107")
        .await;
    staff.set_checked("#everyone", true).await;
    staff.submit("#save").await;
    staff.notice("saved").await;
    let website = staff.text("#decision-website").await;
    assert!(website.contains("no_consent"), "{website}");
    staff.log_out().await;

    // An admin adds his mother and mails her a request.
    staff.log_in(&server, "admin").await;
    staff.goto(&server.url(&format!("/people/{harry}"))).await;
    staff
        .wait("#contacts details summary")
        .await
        .click()
        .await
        .expect("open");
    staff
        .fill("#add-contact input[name=name]", "Kim Wilson")
        .await;
    staff
        .wait("#add-contact select[name=relationship]")
        .await
        .select_by_value("parent")
        .await
        .expect("choose parent");
    staff.fill("#add-contact input[name=email]", PARENT).await;
    staff.submit("#add-contact button").await;
    staff.notice("Contact added").await;
    assert!(staff.text("#contacts").await.contains(PARENT));
    // The trust's words for the website, changed first: the parent reads these.
    staff.goto(&server.url("/admin/consent-wording")).await;
    staff
        .fill("#wording textarea[name=website]", NEWS_PAGES)
        .await;
    staff.submit("#wording button").await;
    staff.notice("saved").await;
    staff.goto(&server.url(&format!("/people/{harry}"))).await;
    staff.submit("#request-consent button").await;
    let sent = staff.notice("mailed").await;
    assert!(sent.contains("1 link(s)"), "{sent}");

    send_mail(&server, &settings);
    let request = sink.to(PARENT);
    assert_eq!(request.len(), 1, "one request");
    for personal in ["Harry", "Wilson", "L107"] {
        assert!(
            !request[0].text.contains(personal),
            "{personal} in the mail: {}",
            request[0].text
        );
    }
    let link = link_in(&request[0].text);
    assert!(
        link.starts_with(&format!("{public}/consent/link/")),
        "{link}"
    );

    // The parent, on a phone.
    let parent = browser(PHONE.0, PHONE.1).await;
    through_the_check(&parent, &link, born, "").await;
    parent.wait("#internal-yes").await;
    assert!(parent.text("h1").await.len() > 3);
    assert_eq!(
        parent
            .script("return document.querySelectorAll('input[type=radio]:checked').length;")
            .await,
        0,
        "nothing is pre-ticked"
    );
    let website = parent.text("#website").await;
    assert!(website.contains(NEWS_PAGES), "{website}");
    check_page(&parent, "answers", true).await;
    // Continue with nothing chosen: each question is named, nothing assumed.
    parent
        .submit("form[action='/consent/answers'] button")
        .await;
    let problem = parent.text(".summary").await;
    assert!(
        problem.contains("Answer yes or no: On our website"),
        "{problem}"
    );
    check_page(&parent, "answers-error", true).await;
    for choice in ["#internal-yes", "#website-yes", "#social-no"] {
        parent.wait(choice).await.click().await.expect("choose");
    }
    for partner in parent
        .client
        .find_all(fantoccini::Locator::Css(
            "fieldset[id^=partner-] input[value=no]",
        ))
        .await
        .expect("partner questions")
    {
        partner.click().await.expect("choose no");
    }
    parent
        .submit("form[action='/consent/answers'] button")
        .await;
    let answers = parent.text("dl.answers").await;
    assert!(answers.contains("On our website"), "{answers}");
    check_page(&parent, "confirm", true).await;
    parent.fill("#name", "Kim Wilson").await;
    parent
        .wait("#relationship-parent")
        .await
        .click()
        .await
        .expect("choose parent");
    parent
        .submit("form[action='/consent/confirm'] button")
        .await;
    let reference = parent.text(".panel strong").await;
    assert!(reference.starts_with("CC-"), "{reference}");
    check_page(&parent, "done", true).await;
    // Pages from the email: continue, date of birth, answers, check and sign, the
    // confirmation; each after the first is one submission. The mistake on the date and
    // the unanswered form are left aside.
    let pages = parent.submissions() - 2 + 1;
    assert_eq!(pages, 5, "pages from the email to the confirmation");

    // The photo: the website needs only a director now; social media stays blocked.
    staff.goto(&photo_page).await;
    let website = staff.text("#decision-website").await;
    assert!(!website.contains("no_consent"), "{website}");
    assert!(website.contains("approval_missing"), "{website}");
    let social = staff.text("#decision-social").await;
    assert!(social.contains("consent_withheld"), "{social}");
    staff.goto(&server.url(&format!("/people/{harry}"))).await;
    let evidence = staff.text("#forms .online-evidence").await;
    assert!(evidence.contains(&reference), "{evidence}");
    staff.log_out().await;
    staff.log_in(&server, "director").await;
    staff.goto(&photo_page).await;
    staff
        .fill("#approve-website input[name=note]", "Consent given online")
        .await;
    staff.submit("#approve-website button[value=approve]").await;
    staff.notice("Approved").await;
    staff.submit("#publish-website button").await;
    staff.notice("Published").await;

    // The used link is spent; the confirmation email carries a withdraw link.
    parent.goto(&link).await;
    assert!(parent.text("main").await.contains("used"));
    check_page(&parent, "used", true).await;
    send_mail(&server, &settings);
    let confirmation = sink
        .to(PARENT)
        .into_iter()
        .find(|m| m.subject.contains(&reference))
        .expect("a confirmation with the reference");
    assert!(confirmation.text.contains("On our website: Yes"));
    let withdraw = link_in(&confirmation.text);

    let parent = {
        parent.close().await;
        browser(PHONE.0, PHONE.1).await
    };
    through_the_check(&parent, &withdraw, born, "withdraw-").await;
    check_page(&parent, "withdraw", true).await;
    parent
        .wait_xpath("//label[contains(., 'On our website')]")
        .await
        .click()
        .await
        .expect("choose the website");
    parent
        .submit("form[action='/consent/withdraw'] button")
        .await;
    parent.wait(".panel strong").await;
    check_page(&parent, "withdrawn", true).await;

    // A takedown task for the live publication, on the director's dashboard.
    staff.goto(&server.url("/")).await;
    assert_eq!(staff.text("#takedown-count").await, "1");
    staff.goto(&photo_page).await;
    let website = staff.text("#decision-website").await;
    // The withdrawal is a new form, giving what was not withdrawn.
    assert!(
        website.contains("blocked") && website.contains("consent_withheld Harry Wilson"),
        "{website}"
    );

    // "Send me a new link" and its answer.
    parent.goto(&format!("{public}/consent/new-link")).await;
    check_page(&parent, "new-link", true).await;
    parent.fill("#email", "someone@else.example").await;
    parent
        .submit("form[action='/consent/new-link'] button")
        .await;
    check_page(&parent, "new-link-sent", false).await;
    parent.close().await;
    staff.close().await;
}
