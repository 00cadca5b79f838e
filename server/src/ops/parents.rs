//! Consent answered online (P1-P3): contacts kept with a person, requests that mail each
//! contact a personal link, the visit a link opens (date-of-birth check first), the
//! answer recorded as a consent form with its evidence, and withdrawal from the emailed
//! link. Every change and the mail it causes are one transaction (M1).

use askama::Template;
use base64::Engine;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{AccountRole, Channel, ConsentId, PersonId, Scopes, SignerKind};
use crate::infra::config::ParentSettings;
use crate::rules::consent::{ConsentPolicy, FormStanding, effective_consent};
use crate::rules::parents::{
    self, Answers, BirthDateCheck, Purpose, Refusal, RenewalRequests, Wording,
};
use crate::store::audit::Action;
use crate::store::parents::{self as stored, Contact, NewContact, Online};
use crate::store::sites::Kind as SiteKind;
use crate::store::{Result, StoreError, consents, mail, partners, people, registry, sites};

use super::approvals::takedowns_due;
use super::log;

/// How long a visit lasts without a step.
pub const VISIT: SignedDuration = SignedDuration::from_mins(30);

/// What the operations need to know besides the records.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub parents: &'a ParentSettings,
    /// The sender's address (Message-IDs are made under its domain).
    pub from: &'a str,
    /// Who the mail is from, as parents know it.
    pub from_name: &'a str,
    /// Where staff open the records (for the admins' notices), if set.
    pub staff_url: Option<&'a str>,
    pub zone: &'a TimeZone,
    pub policy: &'a ConsentPolicy,
}

impl<'a> Setup<'a> {
    /// From the server's config: `None` without `[parents]`.
    pub fn from_config(
        config: &'a crate::infra::config::Config,
        zone: &'a TimeZone,
        policy: &'a ConsentPolicy,
    ) -> Option<Self> {
        let parents = config.parents.as_ref()?;
        Some(Self {
            parents,
            from: config
                .mail
                .as_ref()
                .map_or("consentcam@localhost", |m| m.from.as_str()),
            from_name: config
                .mail
                .as_ref()
                .map_or("consentcam", |m| m.from_name.as_str()),
            staff_url: config.mail.as_ref().map(|m| m.link_base()),
            zone,
            policy,
        })
    }

    fn today(&self, now: Timestamp) -> Date {
        self.zone.to_datetime(now).date()
    }
}

/// A fresh secret: 256 random bits, URL-safe, and its SHA-256 (what is stored).
fn secret() -> Result<(String, Vec<u8>)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&text);
    Ok((text, hash))
}

/// The stored form of a token or visit secret.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A reference a person can read out on the phone: `CC-XXXX-XXXX` (Crockford's letters).
fn reference() -> Result<String> {
    const LETTERS: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let chars: String = bytes
        .iter()
        .map(|b| char::from(LETTERS[usize::from(*b) % 32]))
        .collect();
    Ok(format!("CC-{}-{}", &chars[..4], &chars[4..]))
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    paragraphs: &'a [String],
    link: Option<&'a str>,
    after: &'a [String],
    sender: &'a str,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    subject: &'a str,
    paragraphs: &'a [String],
    link: Option<&'a str>,
    link_label: &'a str,
    after: &'a [String],
    sender: &'a str,
}

/// A message to queue.
struct Notice<'a> {
    kind: &'a str,
    site: Option<i64>,
    to: &'a str,
    subject: &'a str,
    paragraphs: Vec<String>,
    link: Option<(&'a str, String)>,
    after: Vec<String>,
    dedup_key: Option<String>,
}

fn queue(
    conn: &Connection,
    setup: &Setup<'_>,
    n: &Notice<'_>,
    now: Timestamp,
) -> Result<Option<i64>> {
    let render = |e: askama::Error| StoreError::Invalid(format!("mail template: {e}"));
    let link = n.link.as_ref().map(|(_, url)| url.as_str());
    let text = NoticeText {
        paragraphs: &n.paragraphs,
        link,
        after: &n.after,
        sender: setup.from_name,
    }
    .render()
    .map_err(render)?;
    let html = NoticeHtml {
        subject: n.subject,
        paragraphs: &n.paragraphs,
        link,
        link_label: n.link.as_ref().map_or("", |(label, _)| label),
        after: &n.after,
        sender: setup.from_name,
    }
    .render()
    .map_err(render)?;
    let id = super::mail::new_message_id(setup.from)?;
    mail::queue(
        conn,
        &mail::NewMessage {
            message_id: &id,
            dedup_key: n.dedup_key.as_deref(),
            kind: n.kind,
            site: n.site,
            to: n.to,
            subject: n.subject,
            body_text: &text,
            body_html: &html,
        },
        now,
    )
}

/// Adds a contact to a person (an admin, the API or a CSV row). Audited without the
/// name or address.
pub fn add_contact(
    conn: &mut Connection,
    person: PersonId,
    contact: &NewContact,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    let tx = conn.transaction()?;
    people::living(&tx, person)?;
    let id = stored::add_contact(&tx, person, contact, now)?;
    log(
        &tx,
        actor,
        Action::ConsentContactAdd,
        format!("person:{person}"),
        serde_json::json!({ "contact": id, "relationship": contact.relationship }),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

pub fn remove_contact(
    conn: &mut Connection,
    person: PersonId,
    contact: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    stored::remove_contact(&tx, person, contact, now)?;
    log(
        &tx,
        actor,
        Action::ConsentContactRemove,
        format!("person:{person}"),
        serde_json::json!({ "contact": contact }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// The wording in use; the built-in one (saved as the first version) before any was set.
pub fn wording_in_use(conn: &Connection, now: Timestamp) -> Result<(i64, Wording)> {
    if let Some(current) = stored::current_wording(conn)? {
        return Ok(current);
    }
    let wording = Wording::default();
    let id = stored::save_wording(conn, &wording, "consentcam", now)?;
    Ok((id, wording))
}

/// The wording parents are shown now: its version (`None` for the built-in words, not
/// saved until a form is first shown) and SHA-256.
#[derive(Debug, Clone, Serialize)]
pub struct WordingVersion {
    pub id: Option<i64>,
    pub sha256: String,
    pub wording: Wording,
}

/// The wording parents are shown now, without saving the built-in one.
pub fn wording_version(conn: &Connection) -> Result<WordingVersion> {
    Ok(match stored::current_wording(conn)? {
        Some((id, wording)) => WordingVersion {
            id: Some(id),
            sha256: stored::wording(conn, id)?.1,
            wording,
        },
        None => {
            let wording = Wording::default();
            WordingVersion {
                id: None,
                sha256: wording.stored().1,
                wording,
            }
        }
    })
}

/// An admin sets the form's words: a new version, kept with its hash.
pub fn set_wording(
    conn: &mut Connection,
    wording: &Wording,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    wording
        .check()
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let tx = conn.transaction()?;
    let id = stored::save_wording(&tx, wording, actor, now)?;
    let (_, hash) = stored::wording(&tx, id)?;
    log(
        &tx,
        actor,
        Action::ConsentWording,
        format!("wording:{id}"),
        serde_json::json!({ "sha256": hash }),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// What a request did for one person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requested {
    /// Links mailed (one per contact who may answer).
    pub links: usize,
    /// People asked.
    pub people: usize,
    /// People not asked: no contact who may answer for them (a parent's address for a
    /// child, their own for an adult).
    pub without_address: Vec<PersonId>,
    /// People not asked: left, restricted or erased.
    pub not_asked: Vec<PersonId>,
}

/// Why a link is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// An admin asked.
    Request,
    /// Automatically, before a form lapses.
    Renewal,
    /// The person asked for a new link on the public page.
    NewLink,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Request => "request",
            Reason::Renewal => "renewal",
            Reason::NewLink => "new_link",
        }
    }
}

/// Makes an answer-link for `contact` of `person` and queues its mail, in `conn`'s
/// transaction. Returns the link's id.
fn mail_link(
    conn: &Connection,
    setup: &Setup<'_>,
    person: PersonId,
    contact: &Contact,
    reason: Reason,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    let (token, token_hash) = secret()?;
    let expires_at = parents::link_expiry(now, setup.parents.link_days);
    let link = stored::insert_link(
        conn,
        &stored::NewLink {
            token_hash: &token_hash,
            person,
            contact: contact.id,
            purpose: Purpose::Answer,
            reason: reason.as_str(),
            requested_by: actor,
            expires_at,
        },
        now,
    )?;
    let (_, wording) = wording_in_use(conn, now)?;
    let until = setup.zone.to_datetime(expires_at).strftime("%-d %B %Y");
    let subject = format!("Photographs: {} asks for your answer", wording.organisation);
    let renewal = matches!(reason, Reason::Renewal);
    let paragraphs = vec![
        "Hello,".to_owned(),
        if renewal {
            format!(
                "The consent you gave {} about photographs runs out soon. Please give your \
                 answer again: it takes a couple of minutes.",
                wording.organisation
            )
        } else {
            format!(
                "{} asks whether it may use photographs taken during learning and events, \
                 and where. Your answer takes a couple of minutes.",
                wording.organisation
            )
        },
        format!(
            "Your personal link works until {until}. You will be asked for the learner's date \
             of birth before anything else is shown."
        ),
    ];
    let after = vec![
        "Please do not forward this email: the link is yours.".to_owned(),
        "If you did not expect this email, you can ignore it; nothing changes unless you \
         answer."
            .to_owned(),
    ];
    let url = format!("{}/consent/link/{token}", setup.parents.link_base());
    let site = sites::site_of(conn, SiteKind::Person, person.0)?.flatten();
    let mail_id = queue(
        conn,
        setup,
        &Notice {
            kind: "consent_request",
            site,
            to: &contact.email,
            subject: &subject,
            paragraphs,
            link: Some(("Give your answer", url)),
            after,
            dedup_key: None,
        },
        now,
    )?;
    if let Some(id) = mail_id {
        stored::set_link_mail(conn, link, id)?;
    }
    log(
        conn,
        actor,
        Action::ConsentRequest,
        format!("person:{person}"),
        serde_json::json!({ "contact": contact.id, "link": link, "reason": reason.as_str() }),
        now,
    )?;
    Ok(link)
}

/// The contacts who may answer for `person` on `today`.
fn answering_contacts(
    conn: &Connection,
    person: &people::Person,
    today: Date,
) -> Result<Vec<Contact>> {
    Ok(stored::contacts_of(conn, person.id)?
        .into_iter()
        .filter(|c| parents::may_answer(c.relationship, person.role, person.date_of_birth, today))
        .collect())
}

/// Mails a consent request to the contacts of each of `people` who may answer for them,
/// in one transaction.
pub fn request(
    conn: &mut Connection,
    setup: &Setup<'_>,
    people_asked: &[PersonId],
    actor: &str,
    now: Timestamp,
) -> Result<Requested> {
    let today = setup.today(now);
    let tx = conn.transaction()?;
    let done = request_in(&tx, setup, people_asked, Reason::Request, actor, now, today)?;
    tx.commit()?;
    Ok(done)
}

fn request_in(
    conn: &Connection,
    setup: &Setup<'_>,
    people_asked: &[PersonId],
    reason: Reason,
    actor: &str,
    now: Timestamp,
    today: Date,
) -> Result<Requested> {
    let mut done = Requested::default();
    for id in people_asked {
        let person = people::person(conn, *id)?;
        if person.erased || person.restricted || person.left_on.is_some_and(|d| d <= today) {
            done.not_asked.push(*id);
            continue;
        }
        let contacts = answering_contacts(conn, &person, today)?;
        if contacts.is_empty() {
            done.without_address.push(*id);
            continue;
        }
        for contact in &contacts {
            mail_link(conn, setup, *id, contact, reason, actor, now)?;
            done.links += 1;
        }
        done.people += 1;
    }
    Ok(done)
}

/// Everyone of `site` (`None`: all) who has no form counting today, or whose form lapses
/// (or who turns 18 with only a parent's form) within `renewal_days`.
pub fn missing_or_lapsing(
    conn: &Connection,
    site: Option<i64>,
    today: Date,
    renewal_days: i32,
    policy: &ConsentPolicy,
) -> Result<Vec<PersonId>> {
    let everyone = people::search(conn, "", u32::MAX)?;
    let everyone = sites::retain_visible(conn, site, everyone, |p| (SiteKind::Person, p.id.0))?;
    let mut facts = Vec::new();
    for p in &everyone {
        if p.erased || p.restricted || p.left_on.is_some_and(|d| d <= today) {
            continue;
        }
        facts.push(people::facts(conn, p.id)?);
    }
    let mut ids: Vec<PersonId> =
        crate::rules::consent::renewals_due(&facts, today, renewal_days, policy)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
    for f in &facts {
        let standing = effective_consent(&f.forms, f.born, Channel::Internal, today, policy);
        if !matches!(
            standing,
            FormStanding::Granted { .. }
                | FormStanding::Withheld { .. }
                | FormStanding::Objected { .. }
        ) {
            ids.push(f.id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Of `candidates`, those due a renewal request today: a form lapsing within the notice,
/// asked at most once a week and `renewal_requests` times.
fn due_renewal(
    conn: &Connection,
    setup: &Setup<'_>,
    renewal_days: i32,
    candidates: Vec<crate::rules::consent::PersonFacts>,
    today: Date,
) -> Result<Vec<PersonId>> {
    let rule = RenewalRequests {
        notice_days: renewal_days,
        most: setup.parents.renewal_requests,
    };
    let mut due = Vec::new();
    for (id, renewal) in
        crate::rules::consent::renewals_due(&candidates, today, renewal_days, setup.policy)
    {
        let crate::rules::consent::Renewal::FormExpires { on } = renewal else {
            continue;
        };
        let sent: Vec<Date> = stored::renewal_requests_sent(conn, id)?
            .into_iter()
            .map(|t| setup.zone.to_datetime(t).date())
            .collect();
        if parents::renewal_request_due(rule, on, &sent, today) {
            due.push(id);
        }
    }
    Ok(due)
}

/// Who is due a renewal request today, read without writing (a whole trust's forms: run
/// it on a connection of its own, then [`queue_renewal_requests`] on the writer).
pub fn renewal_requests_due(
    conn: &Connection,
    setup: &Setup<'_>,
    renewal_days: i32,
    now: Timestamp,
) -> Result<Vec<PersonId>> {
    let today = setup.today(now);
    let mut everyone = Vec::new();
    for p in people::search(conn, "", u32::MAX)? {
        if !(p.erased || p.restricted || p.left_on.is_some_and(|d| d <= today)) {
            everyone.push(people::facts(conn, p.id)?);
        }
    }
    due_renewal(conn, setup, renewal_days, everyone, today)
}

/// Queues the renewal requests [`renewal_requests_due`] found, checking each person again
/// as it writes (a form renewed or a request sent since is not asked twice). Run daily.
pub fn queue_renewal_requests(
    conn: &mut Connection,
    setup: &Setup<'_>,
    renewal_days: i32,
    found: &[PersonId],
    now: Timestamp,
) -> Result<usize> {
    let today = setup.today(now);
    let tx = conn.transaction()?;
    let mut candidates = Vec::new();
    for &id in found {
        candidates.push(people::facts(&tx, id)?);
    }
    let due = due_renewal(&tx, setup, renewal_days, candidates, today)?;
    let done = request_in(&tx, setup, &due, Reason::Renewal, "consentcam", now, today)?;
    tx.commit()?;
    Ok(done.links)
}

/// A visit begun: the secret for the visitor's cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Begun {
    pub secret: String,
    pub purpose: Purpose,
}

/// The visitor continued through a link (the POST after the page a mail scanner may
/// also have opened): a visit begins; the link is not used up until an answer is given.
pub fn begin_visit(
    conn: &mut Connection,
    token: &str,
    now: Timestamp,
) -> Result<std::result::Result<Begun, Refusal>> {
    let tx = conn.transaction()?;
    let link = stored::link_by_hash(&tx, &hash(token))?;
    if let Err(refusal) = parents::usable(link.as_ref().map(|l| l.facts), now) {
        return Ok(Err(refusal));
    }
    let Some(link) = link else {
        return Ok(Err(Refusal::Unknown));
    };
    let (visit_secret, visit_hash) = secret()?;
    let (csrf, _) = secret()?;
    stored::insert_visit(&tx, &visit_hash, link.id, &csrf, now + VISIT)?;
    stored::mark_opened(&tx, link.id, now)?;
    stored::purge_visits(&tx, now)?;
    tx.commit()?;
    Ok(Ok(Begun {
        secret: visit_secret,
        purpose: link.purpose,
    }))
}

/// A visit as a page needs it.
#[derive(Debug, Clone)]
pub struct Visit {
    pub visit: stored::Visit,
    pub link: stored::Link,
    pub person: people::Person,
    pub contact: Contact,
}

impl Visit {
    /// The answers so far.
    pub fn answers(&self) -> Answers {
        serde_json::from_str(&self.visit.draft).unwrap_or_default()
    }

    /// How the learner is named to the visitor (after the date-of-birth check only): the
    /// given name and the family name's first letter.
    pub fn learner(&self) -> String {
        let initial: String = self.person.family_name.chars().take(1).collect();
        format!("{} {initial}.", self.person.given_name)
    }

    /// Whether the visitor answers for themself.
    pub fn for_self(&self) -> bool {
        !self.contact.relationship.is_on_behalf()
    }
}

/// The visit whose cookie holds `secret`, if it still runs and its link may still be used
/// (or its answer was just recorded: the confirmation page).
pub fn visit(
    conn: &Connection,
    secret: &str,
    now: Timestamp,
) -> Result<std::result::Result<Visit, Refusal>> {
    let Some(visit) = stored::visit(conn, &hash(secret), now)? else {
        return Ok(Err(Refusal::Expired));
    };
    let link = stored::link(conn, visit.link)?;
    if visit.reference.is_none()
        && let Err(refusal) = parents::usable(Some(link.facts), now)
    {
        return Ok(Err(refusal));
    }
    let person = people::person(conn, link.person)?;
    let contact = stored::contact(conn, link.person, link.contact)?;
    Ok(Ok(Visit {
        visit,
        link,
        person,
        contact,
    }))
}

fn touch(conn: &Connection, secret: &str, visit: &stored::Visit, now: Timestamp) -> Result<()> {
    stored::update_visit(conn, &hash(secret), visit, now + VISIT)
}

/// The learner's date of birth typed on a visit. The fifth wrong one locks the link and
/// tells the admins of the person's site (by mail, in the same transaction).
pub fn check_birth_date(
    conn: &mut Connection,
    setup: &Setup<'_>,
    secret: &str,
    typed: Date,
    now: Timestamp,
) -> Result<std::result::Result<BirthDateCheck, Refusal>> {
    let tx = conn.transaction()?;
    let v = match visit(&tx, secret, now)? {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let outcome =
        parents::check_birth_date(typed, v.person.date_of_birth, v.link.wrong_birth_dates);
    match outcome {
        BirthDateCheck::Passed => {
            let mut visit = v.visit.clone();
            visit.born_checked = true;
            touch(&tx, secret, &visit, now)?;
        }
        BirthDateCheck::Wrong { .. } => {
            stored::wrong_birth_date(&tx, v.link.id, false, now)?;
        }
        BirthDateCheck::Locked => {
            stored::wrong_birth_date(&tx, v.link.id, true, now)?;
            log(
                &tx,
                "public",
                Action::ConsentLinkLocked,
                format!("person:{}", v.person.id),
                serde_json::json!({ "link": v.link.id, "contact": v.contact.id }),
                now,
            )?;
            tell_admins_of_lock(&tx, setup, &v, now)?;
        }
    }
    tx.commit()?;
    Ok(Ok(outcome))
}

/// Mails the admins who see the person's site that a link locked.
fn tell_admins_of_lock(
    conn: &Connection,
    setup: &Setup<'_>,
    v: &Visit,
    now: Timestamp,
) -> Result<()> {
    let site = sites::site_of(conn, SiteKind::Person, v.person.id.0)?.flatten();
    let staff_link = setup
        .staff_url
        .map(|base| format!("{base}/people/{}", v.person.id));
    for account in registry::accounts(conn)? {
        if account.role != AccountRole::Admin || account.disabled {
            continue;
        }
        if !sites::visible(account.site_id, site) {
            continue;
        }
        let Some(email) = account.email.as_deref() else {
            continue;
        };
        if mail::refusal_of(conn, email)?.is_some() {
            continue;
        }
        queue(
            conn,
            setup,
            &Notice {
                kind: "link_locked",
                site: account.site_id,
                to: email,
                subject: "consentcam: a consent link was locked",
                paragraphs: vec![
                    format!(
                        "A personal consent link was locked after {} wrong dates of birth. \
                         Someone other than the person it was sent to may have it.",
                        parents::BIRTH_DATE_TRIES
                    ),
                    "Check the contact's address on the person's page before sending a new \
                     request."
                        .to_owned(),
                ],
                link: staff_link.clone().map(|l| ("Open the person's page", l)),
                after: Vec::new(),
                dedup_key: Some(format!("link_locked:{}:{}", v.link.id, account.id.0)),
            },
            now,
        )?;
    }
    Ok(())
}

/// Keeps the answers given so far on a visit whose date of birth was checked.
pub fn save_answers(
    conn: &mut Connection,
    secret: &str,
    answers: &Answers,
    now: Timestamp,
) -> Result<std::result::Result<(), Refusal>> {
    let tx = conn.transaction()?;
    let v = match visit(&tx, secret, now)? {
        Ok(v) if v.visit.born_checked && v.visit.reference.is_none() => v,
        Ok(_) => return Ok(Err(Refusal::Expired)),
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut visit = v.visit;
    visit.draft = serde_json::to_string(answers).unwrap_or_default();
    touch(&tx, secret, &visit, now)?;
    tx.commit()?;
    Ok(Ok(()))
}

/// An answer or a withdrawal recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub consent: ConsentId,
    pub reference: String,
    pub takedown_tasks: usize,
}

/// Why a submission was not recorded (the page says so and keeps what was typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRecorded {
    Refused(Refusal),
    /// Questions still unanswered, by code.
    Unanswered(Vec<String>),
    /// The signature is missing or does not fit the person.
    Signature(String),
    /// Nothing to withdraw was chosen, or nothing is granted.
    NothingChosen,
}

/// The partners the form asks about.
pub fn partners_asked(conn: &Connection) -> Result<Vec<(crate::domain::PartnerId, String)>> {
    Ok(partners::partners(conn)?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// Records the visitor's answers as a consent form signed today by the contact, with its
/// evidence; live publications the answer no longer allows become takedown tasks; the
/// link is used up; a confirmation with the answers and a withdraw link is mailed.
pub fn submit_answers(
    conn: &mut Connection,
    setup: &Setup<'_>,
    secret: &str,
    typed_name: &str,
    relationship: SignerKind,
    now: Timestamp,
) -> Result<std::result::Result<Recorded, NotRecorded>> {
    let today = setup.today(now);
    let tx = conn.transaction()?;
    let v = match visit(&tx, secret, now)? {
        Ok(v) if v.visit.born_checked && v.visit.reference.is_none() => v,
        Ok(_) => return Ok(Err(NotRecorded::Refused(Refusal::Expired))),
        Err(refusal) => return Ok(Err(NotRecorded::Refused(refusal))),
    };
    let offered: Vec<_> = partners_asked(&tx)?.into_iter().map(|(id, _)| id).collect();
    let answers = v.answers();
    let scopes = match answers.scopes(&offered) {
        Ok(scopes) => scopes,
        Err(missing) => return Ok(Err(NotRecorded::Unanswered(missing))),
    };
    let typed_name = typed_name.trim();
    if typed_name.chars().count() < 2 || typed_name.chars().count() > 200 {
        return Ok(Err(NotRecorded::Signature(
            "Enter your full name".to_owned(),
        )));
    }
    if !parents::may_answer(relationship, v.person.role, v.person.date_of_birth, today)
        || (relationship.is_on_behalf() != v.contact.relationship.is_on_behalf())
    {
        return Ok(Err(NotRecorded::Signature(if v.for_self() {
            "This form is for the person photographed to answer themself".to_owned()
        } else {
            "Choose whether you are the learner's parent, guardian or carer".to_owned()
        })));
    }
    let (wording_id, _) = wording_in_use(&tx, now)?;
    let reference = reference()?;
    let consent = record_online(
        &tx,
        &v,
        &OnlineForm {
            signer: relationship,
            signer_name: typed_name,
            scopes: &scopes,
            purpose: "answer",
            answers: &serde_json::to_string(&answers).unwrap_or_default(),
            wording_id,
            reference: &reference,
        },
        today,
        now,
    )?;
    let recorded = settle(
        &tx, setup, secret, &v, &scopes, consent, reference, false, now,
    )?;
    tx.commit()?;
    Ok(Ok(recorded))
}

/// What follows a recorded answer or withdrawal, in its transaction: the link is used
/// up, live publications no longer allowed become takedown tasks, the visit keeps the
/// reference for its confirmation page, and the confirmation is mailed.
#[allow(clippy::too_many_arguments)]
fn settle(
    conn: &Connection,
    setup: &Setup<'_>,
    secret: &str,
    v: &Visit,
    scopes: &Scopes,
    consent: ConsentId,
    reference: String,
    withdrawal: bool,
    now: Timestamp,
) -> Result<Recorded> {
    stored::mark_used(conn, v.link.id, now)?;
    let today = setup.today(now);
    let takedown_tasks =
        takedowns_due(conn, Some(v.person.id), today, setup.policy, "public", now)?;
    let mut visit = v.visit.clone();
    visit.reference = Some(reference.clone());
    touch(conn, secret, &visit, now)?;
    confirm(conn, setup, v, scopes, &reference, withdrawal, now)?;
    Ok(Recorded {
        consent,
        reference,
        takedown_tasks,
    })
}

struct OnlineForm<'a> {
    signer: SignerKind,
    signer_name: &'a str,
    scopes: &'a Scopes,
    purpose: &'a str,
    answers: &'a str,
    wording_id: i64,
    reference: &'a str,
}

fn record_online(
    conn: &Connection,
    v: &Visit,
    form: &OnlineForm<'_>,
    today: Date,
    now: Timestamp,
) -> Result<ConsentId> {
    people::living(conn, v.person.id)?;
    let consent = consents::insert_consent(
        conn,
        &consents::NewConsent {
            person_id: v.person.id,
            signer: form.signer,
            signer_name: form.signer_name.to_owned(),
            signed_on: today,
            expires_on: None,
            withdrawn_on: None,
            scopes: form.scopes.clone(),
            evidence_path: None,
            source: format!("online:{}", v.link.id),
        },
        now,
    )?;
    stored::insert_online(
        conn,
        &Online {
            consent_id: consent,
            reference: form.reference.to_owned(),
            link_id: v.link.id,
            contact_id: v.contact.id,
            purpose: form.purpose.to_owned(),
            typed_name: form.signer_name.to_owned(),
            relationship: form.signer,
            wording_id: form.wording_id,
            wording_sha256: String::new(),
            answers: form.answers.to_owned(),
            submitted_at: now,
        },
    )?;
    log(
        conn,
        "public",
        if form.purpose == "withdraw" {
            Action::ConsentOnlineWithdraw
        } else {
            Action::ConsentOnlineAnswer
        },
        format!("person:{}", v.person.id),
        serde_json::json!({
            "consent": consent, "link": v.link.id, "contact": v.contact.id,
            "reference": form.reference, "wording": form.wording_id,
        }),
        now,
    )?;
    Ok(consent)
}

/// The lines of a confirmation: one per channel, yes or no.
fn answer_lines(conn: &Connection, wording: &Wording, scopes: &Scopes) -> Result<Vec<String>> {
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let mut lines = vec![format!(
        "Inside {}: {}",
        wording.organisation,
        yes_no(scopes.internal)
    )];
    for (id, name) in partners_asked(conn)? {
        lines.push(format!(
            "Shared with {name}: {}",
            yes_no(scopes.partners.contains(&id))
        ));
    }
    lines.push(format!("On our website: {}", yes_no(scopes.website)));
    lines.push(format!("On our social media: {}", yes_no(scopes.social)));
    Ok(lines)
}

/// Mails the contact what was recorded, with a link to withdraw (valid as long as the
/// form is).
fn confirm(
    conn: &Connection,
    setup: &Setup<'_>,
    v: &Visit,
    scopes: &Scopes,
    reference: &str,
    withdrawal: bool,
    now: Timestamp,
) -> Result<()> {
    let (_, wording) = wording_in_use(conn, now)?;
    let mut paragraphs = vec![
        "Hello,".to_owned(),
        if withdrawal {
            format!(
                "Your withdrawal has been recorded. Photographs already published where you \
                 withdrew consent are being taken down. Your reference is {reference}."
            )
        } else {
            format!("Thank you: your answer has been recorded. Your reference is {reference}.")
        },
        "What you have said now:".to_owned(),
    ];
    paragraphs.extend(answer_lines(conn, &wording, scopes)?);
    let mut link = None;
    if parents::grants_any(scopes) {
        let (token, token_hash) = secret()?;
        let validity = i64::from(setup.policy.validity_days.max(1));
        let expires_at = parents::link_expiry(now, u32::try_from(validity).unwrap_or(365));
        stored::insert_link(
            conn,
            &stored::NewLink {
                token_hash: &token_hash,
                person: v.person.id,
                contact: v.contact.id,
                purpose: Purpose::Withdraw,
                reason: "confirmation",
                requested_by: "public",
                expires_at,
            },
            now,
        )?;
        link = Some((
            "Withdraw consent",
            format!("{}/consent/link/{token}", setup.parents.link_base()),
        ));
        paragraphs.push(
            "You can withdraw any of these at any time, as easily as you gave them, with \
             this link:"
                .to_owned(),
        );
    }
    let site = sites::site_of(conn, SiteKind::Person, v.person.id.0)?.flatten();
    queue(
        conn,
        setup,
        &Notice {
            kind: "consent_confirmation",
            site,
            to: &v.contact.email,
            subject: &format!(
                "Photographs: your answer to {} ({reference})",
                wording.organisation
            ),
            paragraphs,
            link,
            after: vec!["Please keep this email.".to_owned()],
            dedup_key: None,
        },
        now,
    )?;
    Ok(())
}

/// What the contact's side grants today, channel by channel (for the withdraw page).
pub fn granted_now(
    conn: &Connection,
    v: &Visit,
    setup: &Setup<'_>,
    now: Timestamp,
) -> Result<Scopes> {
    let today = setup.today(now);
    let forms: Vec<_> = consents::consents_of(conn, v.person.id)?
        .iter()
        .map(consents::Consent::form)
        .filter(|f| f.signer.is_on_behalf() == v.contact.relationship.is_on_behalf())
        .collect();
    let grants = |channel| {
        matches!(
            effective_consent(&forms, v.person.date_of_birth, channel, today, setup.policy),
            FormStanding::Granted { .. }
        )
    };
    Ok(Scopes {
        internal: grants(Channel::Internal),
        partners: partners_asked(conn)?
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| grants(Channel::Partner(*id)))
            .collect(),
        website: grants(Channel::Website),
        social: grants(Channel::Social),
    })
}

/// Withdraws the channels in `withdrawn` from what the contact's side grants: a new form
/// signed today granting the rest, with its evidence; live publications no longer allowed
/// become takedown tasks at once; a confirmation is mailed.
pub fn withdraw(
    conn: &mut Connection,
    setup: &Setup<'_>,
    secret: &str,
    withdrawn: &Scopes,
    now: Timestamp,
) -> Result<std::result::Result<Recorded, NotRecorded>> {
    let today = setup.today(now);
    let tx = conn.transaction()?;
    let v = match visit(&tx, secret, now)? {
        Ok(v) if v.visit.born_checked && v.visit.reference.is_none() => v,
        Ok(_) => return Ok(Err(NotRecorded::Refused(Refusal::Expired))),
        Err(refusal) => return Ok(Err(NotRecorded::Refused(refusal))),
    };
    let granted = granted_now(&tx, &v, setup, now)?;
    let left = parents::withdraw(&granted, withdrawn);
    if left == granted {
        return Ok(Err(NotRecorded::NothingChosen));
    }
    let (wording_id, _) = wording_in_use(&tx, now)?;
    let reference = reference()?;
    let answers = serde_json::json!({ "withdrawn": withdrawn_codes(withdrawn) }).to_string();
    let consent = record_online(
        &tx,
        &v,
        &OnlineForm {
            signer: v.contact.relationship,
            signer_name: &v.contact.name,
            scopes: &left,
            purpose: "withdraw",
            answers: &answers,
            wording_id,
            reference: &reference,
        },
        today,
        now,
    )?;
    let recorded = settle(&tx, setup, secret, &v, &left, consent, reference, true, now)?;
    tx.commit()?;
    Ok(Ok(recorded))
}

fn withdrawn_codes(s: &Scopes) -> Vec<String> {
    let mut codes = Vec::new();
    if s.internal {
        codes.push("internal".to_owned());
    }
    codes.extend(s.partners.iter().map(|p| format!("partner:{}", p.0)));
    if s.website {
        codes.push("website".to_owned());
    }
    if s.social {
        codes.push("social".to_owned());
    }
    codes
}

/// "Send me a new link": for each contact with this address who may still answer, a new
/// answer-link is mailed, at most one an hour per contact. The caller answers the same
/// whatever happened here (nothing tells whether the address is known).
pub fn new_link(
    conn: &mut Connection,
    setup: &Setup<'_>,
    email: &str,
    now: Timestamp,
) -> Result<usize> {
    if crate::store::registry::check_email(email.trim()).is_err() {
        return Ok(0);
    }
    let today = setup.today(now);
    let tx = conn.transaction()?;
    let mut sent = 0;
    for contact in stored::contacts_with_address(&tx, email)? {
        let person = people::person(&tx, contact.person_id)?;
        if person.restricted
            || person.left_on.is_some_and(|d| d <= today)
            || !parents::may_answer(
                contact.relationship,
                person.role,
                person.date_of_birth,
                today,
            )
        {
            continue;
        }
        let hour_ago = now - SignedDuration::from_hours(1);
        if stored::links_made_since(&tx, contact.id, hour_ago)? > 0 {
            continue;
        }
        mail_link(
            &tx,
            setup,
            person.id,
            &contact,
            Reason::NewLink,
            "public",
            now,
        )?;
        sent += 1;
    }
    tx.commit()?;
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;
    use crate::store::people::tests::sample;
    use jiff::civil::date;

    fn settings() -> ParentSettings {
        ParentSettings {
            public_url: "https://consent.school.example".into(),
            public_bind: None,
            link_days: 14,
            renewal_requests: 3,
            requests_per_minute: 30,
        }
    }

    fn at(day: Date) -> Timestamp {
        day.at(9, 0, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
    }

    fn outbox(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT kind, to_address FROM mail_outbox ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn renewal_requests_go_weekly_and_three_times_to_those_who_may_answer() {
        let mut conn = open_in_memory().unwrap();
        let start = at(date(2026, 9, 1));
        let child = people::insert_person(&conn, &sample("L1"), start).unwrap();
        let restricted = people::insert_person(&conn, &sample("L2"), start).unwrap();
        crate::store::people::set_restricted(&conn, restricted, true).unwrap();
        for person in [child, restricted] {
            consents::insert_consent(
                &conn,
                &consents::NewConsent {
                    person_id: person,
                    signer: SignerKind::Parent,
                    signer_name: "A Parent".into(),
                    signed_on: date(2026, 9, 1),
                    expires_on: Some(date(2027, 1, 31)),
                    withdrawn_on: None,
                    scopes: Scopes {
                        internal: true,
                        ..Scopes::default()
                    },
                    evidence_path: None,
                    source: "api".into(),
                },
                start,
            )
            .unwrap();
            for (name, relationship, email) in [
                ("A Parent", SignerKind::Parent, "parent@home.example"),
                // A child of 16 does not answer for themself.
                ("Robin", SignerKind::Myself, "robin@home.example"),
            ] {
                stored::add_contact(
                    &conn,
                    person,
                    &NewContact {
                        name: name.into(),
                        relationship,
                        email: email.into(),
                    },
                    start,
                )
                .unwrap();
            }
        }
        let (zone, policy, parents) = (TimeZone::UTC, ConsentPolicy::default(), settings());
        let setup = Setup {
            parents: &parents,
            from: "photos@school.example",
            from_name: "St Anne's",
            staff_url: None,
            zone: &zone,
            policy: &policy,
        };
        let mut sent = Vec::new();
        for day in 1..=31 {
            let today = date(2027, 1, day);
            let found = renewal_requests_due(&conn, &setup, 30, at(today)).unwrap();
            let links = queue_renewal_requests(&mut conn, &setup, 30, &found, at(today)).unwrap();
            // Asked again the same day (even with the same list): nothing more.
            assert!(
                renewal_requests_due(&conn, &setup, 30, at(today))
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                queue_renewal_requests(&mut conn, &setup, 30, &found, at(today)).unwrap(),
                0
            );
            if links > 0 {
                sent.push((today, links));
            }
        }
        assert_eq!(
            sent,
            [
                (date(2027, 1, 1), 1),
                (date(2027, 1, 8), 1),
                (date(2027, 1, 15), 1)
            ]
        );
        assert_eq!(
            outbox(&conn),
            vec![
                (
                    "consent_request".to_owned(),
                    "parent@home.example".to_owned()
                );
                3
            ]
        );
    }
}
