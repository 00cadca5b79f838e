//! People and their consent forms: records added and corrected, restrictions, leaving
//! dates, forms recorded, corrected, scanned and withdrawn, the consent CSV, and reading
//! sensitive records (each read logged). A change that makes live publications no longer
//! allowed turns them into takedown tasks in the same transaction.
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;

use crate::domain::{ConsentId, PersonId};
use crate::rules::consent::ConsentPolicy;
use crate::store::audit::Action;
use crate::store::consents;
use crate::store::publications;
use crate::store::sites::Kind;
use crate::store::{Result, StoreError, people};

use super::approvals::takedowns_due;
use super::log;

/// Registers a person; one added by an account of a site belongs to that site.
pub fn add_person(
    conn: &mut Connection,
    person: &people::NewPerson,
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
) -> Result<PersonId> {
    let tx = conn.transaction()?;
    let id = people::insert_person(&tx, person, now)?;
    super::sites::place_new(&tx, Kind::Person, id.0, site)?;
    log(
        &tx,
        actor,
        Action::PersonCreate,
        format!("person:{id}"),
        serde_json::json!({ "role": person.role, "vulnerable": person.vulnerable }),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// The names of the fields of `before` that `after` changes (never their values: they
/// may be names).
pub(crate) fn changed_fields(
    before: &people::Person,
    after: &people::NewPerson,
) -> Vec<&'static str> {
    [
        ("ref", before.ext_ref != after.ext_ref.as_str()),
        ("given_name", before.given_name != after.given_name.as_str()),
        (
            "family_name",
            before.family_name != after.family_name.as_str(),
        ),
        ("date_of_birth", before.date_of_birth != after.date_of_birth),
        ("role", before.role != after.role),
        ("vulnerable", before.vulnerable != after.vulnerable),
        ("may_sign_out", before.may_sign_out != after.may_sign_out),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// When a change is made and what the rules are: for deciding again what it affects.
#[derive(Debug, Clone)]
pub struct AsOf<'a> {
    pub today: Date,
    pub policy: &'a ConsentPolicy,
}

/// An admin corrects a person's record. Lowering the vulnerable flag is a deliberate act
/// (C14): it needs `reason`, kept as a person note that the audit entry (who did it)
/// points to. Publications
/// the change makes no longer allowed (marked vulnerable, a date of birth that makes a
/// parent's form no longer count) become takedown tasks at once.
pub fn update_person(
    conn: &mut Connection,
    id: PersonId,
    person: &people::NewPerson,
    reason: &str,
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<()> {
    let tx = conn.transaction()?;
    let before = people::living(&tx, id)?;
    let lowered = before.vulnerable && !person.vulnerable;
    if lowered && reason.trim().is_empty() {
        return Err(StoreError::Invalid(
            "this person is recorded as vulnerable: removing that needs a reason, which is kept \
             in the audit log"
                .into(),
        ));
    }
    let fields = changed_fields(&before, person);
    people::update_person(&tx, id, person, now)?;
    let mut details = serde_json::json!({
        "fields": fields, "role": person.role, "vulnerable": person.vulnerable,
    });
    if lowered {
        // The reason is free text (it may name people): kept as a note the entry points
        // to, so an erasure can remove it without touching the hash chain.
        let note = crate::store::retention::insert_person_note(
            &tx,
            id,
            "vulnerable_lowered",
            reason.trim(),
            now,
        )?;
        details["vulnerable_lowered_note"] = note.into();
    }
    log(
        &tx,
        actor,
        Action::PersonUpdate,
        format!("person:{id}"),
        details,
        now,
    )?;
    takedowns_due(&tx, Some(id), as_of.today, as_of.policy, actor, now)?;
    tx.commit()?;
    Ok(())
}

/// Records the day a person left (their forms are then kept for `[retention]
/// former_person_years`), or (None) that they have not left after all. Audited. A day
/// after `today` is refused.
pub fn set_left(
    conn: &mut Connection,
    id: PersonId,
    left_on: Option<Date>,
    today: Date,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    if left_on.is_some_and(|day| day > today) {
        return Err(StoreError::Invalid(
            "the day they left is in the future".into(),
        ));
    }
    let tx = conn.transaction()?;
    crate::store::retention::set_left_on(&tx, id, left_on)?;
    log(
        &tx,
        actor,
        Action::PersonLeft,
        format!("person:{id}"),
        serde_json::json!({ "left_on": left_on.map(|d| d.to_string()) }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Restricts a person's processing (Article 18), or lifts it, audited (ids only, like
/// the rest of the log); their publications become takedown tasks at once. Returns how
/// many.
pub fn set_restriction(
    conn: &mut Connection,
    id: PersonId,
    restricted: bool,
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let before = people::living(&tx, id)?;
    if before.restricted == restricted {
        return Err(StoreError::Conflict(if restricted {
            "this person is already restricted".into()
        } else {
            "this person is not restricted".into()
        }));
    }
    people::set_restricted(&tx, id, restricted)?;
    log(
        &tx,
        actor,
        if restricted {
            Action::PersonRestrict
        } else {
            Action::PersonRestrictionLifted
        },
        format!("person:{id}"),
        serde_json::json!({}),
        now,
    )?;
    let tasks = takedowns_due(&tx, Some(id), as_of.today, as_of.policy, actor, now)?;
    tx.commit()?;
    Ok(tasks)
}

/// Records a signed form; a form that withholds what another allowed (the person's own
/// objection) turns the publications it affects into takedown tasks at once.
pub fn add_consent(
    conn: &mut Connection,
    consent: &consents::NewConsent,
    actor: &str,
    now: Timestamp,
    as_of: &AsOf<'_>,
) -> Result<ConsentId> {
    let tx = conn.transaction()?;
    people::living(&tx, consent.person_id)?;
    let id = consents::insert_consent(&tx, consent, now)?;
    log(
        &tx,
        actor,
        Action::ConsentAdd,
        format!("person:{}", consent.person_id),
        serde_json::json!({ "consent": id, "signer": consent.signer, "signed_on": consent.signed_on.to_string() }),
        now,
    )?;
    if consent.withdrawn_on.is_some() {
        publications::on_withdrawal(&tx, consent.person_id, actor, now)?;
    }
    takedowns_due(
        &tx,
        Some(consent.person_id),
        as_of.today,
        as_of.policy,
        actor,
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// What a withdrawal set in motion.
/// An admin corrects a form's signer name or expiry (what a CSV import never changes).
/// Audited without the name. Returns the person the form is about.
pub fn correct_consent(
    conn: &mut Connection,
    id: ConsentId,
    signer_name: &str,
    expires_on: Option<Date>,
    actor: &str,
    now: Timestamp,
) -> Result<PersonId> {
    let tx = conn.transaction()?;
    let before = consents::consent(&tx, id)?;
    people::living(&tx, before.person_id)?;
    let after = consents::correct_consent(&tx, id, signer_name, expires_on)?;
    log(
        &tx,
        actor,
        Action::ConsentCorrect,
        format!("person:{}", before.person_id),
        serde_json::json!({
            "consent": id,
            "signer_name_changed": before.signer_name != after.signer_name,
            "expires_on": after.expires_on.map(|d| d.to_string()),
        }),
        now,
    )?;
    tx.commit()?;
    Ok(before.person_id)
}

/// Attaches a stored scan (`path` under the data directory) to a form.
pub fn attach_evidence(
    conn: &mut Connection,
    id: ConsentId,
    path: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    let form = consents::consent(&tx, id)?;
    people::living(&tx, form.person_id)?;
    consents::set_evidence(&tx, id, path)?;
    log(
        &tx,
        actor,
        Action::ConsentEvidence,
        format!("person:{}", form.person_id),
        serde_json::json!({ "consent": id }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Records that `actor` read a form's scan (sensitive: C15); returns the form.
pub fn view_scan(
    conn: &Connection,
    id: ConsentId,
    actor: &str,
    now: Timestamp,
) -> Result<consents::Consent> {
    let form = consents::consent(conn, id)?;
    if form.evidence_path.is_some() {
        log(
            conn,
            actor,
            Action::ConsentScanViewed,
            format!("person:{}", form.person_id),
            serde_json::json!({ "consent": id }),
            now,
        )?;
    }
    Ok(form)
}

/// Records that `actor` read a vulnerable or restricted person's record (sensitive);
/// anyone else's reading is not logged.
pub fn view_person(
    conn: &Connection,
    person: &people::Person,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    if person.vulnerable || person.restricted {
        log(
            conn,
            actor,
            Action::PersonViewed,
            format!("person:{}", person.id),
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Withdrawal {
    pub consent: consents::Consent,
    pub takedown_tasks: usize,
    pub approvals_voided: usize,
}

pub fn withdraw_consent(
    conn: &mut Connection,
    id: ConsentId,
    on: Date,
    actor: &str,
    now: Timestamp,
) -> Result<Withdrawal> {
    let tx = conn.transaction()?;
    let consent = consents::withdraw_consent(&tx, id, on)?;
    log(
        &tx,
        actor,
        Action::ConsentWithdraw,
        format!("person:{}", consent.person_id),
        serde_json::json!({ "consent": id, "on": on.to_string() }),
        now,
    )?;
    let (takedown_tasks, approvals_voided) =
        publications::on_withdrawal(&tx, consent.person_id, actor, now)?;
    tx.commit()?;
    Ok(Withdrawal {
        consent,
        takedown_tasks,
        approvals_voided,
    })
}
