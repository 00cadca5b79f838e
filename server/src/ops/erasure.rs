//! Erasure (UK GDPR Article 17): everything held about a person removed, in one
//! transaction with one audit entry, then their files, then the database's free pages
//! and journal emptied so that no copy of their name is left in the data directory.
//!
//! - Their forms and scans go, and any notes about them.
//! - A photo in which they are the only person tagged goes (at once if it is not
//!   published; otherwise once its takedowns are done, by the next purge).
//! - In a photo with others, their tag stays as the covered "erased person": the face box
//!   is painted over in anything published, and the photo can never go out uncovered.
//! - Every publication of a photo of them becomes a takedown task.
//! - Their person row becomes the "erased person" placeholder (no name, reference, date
//!   of birth), so that custody records and covered faces still point somewhere; an
//!   account linked to them is disabled and renamed.
//! - Their names are replaced by `[erased]` in free text others wrote (captions, notes).
//!
//! The audit log holds ids and codes only, so its hash chain is untouched.

use jiff::Timestamp;
use rusqlite::Connection;
use serde::Serialize;

use crate::domain::PersonId;
use crate::infra::archive::Archive;
use crate::ops;
use crate::ops::retention;
use crate::store::approvals;
use crate::store::audit::Action;
use crate::store::consents;
use crate::store::publications;
use crate::store::{Result, StoreError, people, retention as stored};

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub person: i64,
    pub forms: usize,
    pub scans: usize,
    /// Photos in which they were the only person, removed now.
    pub photos_removed: usize,
    /// Photos in which they were the only person that are still published: covered now,
    /// removed by the first purge after their takedowns are done.
    pub photos_awaiting_takedown: usize,
    /// Photos with others, where their face is now the covered "erased person".
    pub photos_covered: usize,
    pub takedown_tasks: usize,
    pub accounts_retired: usize,
    /// Rows of free text (captions, notes, reasons) their names were removed from.
    pub texts_redacted: usize,
    pub files_removed: usize,
    /// Whether the database was compacted and its journal emptied afterwards (false if
    /// another connection kept it busy: the rows are gone all the same, their bytes
    /// overwritten, and the next erasure or `VACUUM` compacts).
    pub compacted: bool,
}

/// Erases `person` (see the module). Refuses one already erased.
pub fn erase_person(
    conn: &mut Connection,
    archive: &Archive,
    person: PersonId,
    actor: &str,
    now: Timestamp,
) -> Result<ErasureReport> {
    let tx = conn.transaction()?;
    let before = people::person(&tx, person)?;
    if before.erased {
        return Err(StoreError::Conflict(
            "this person was already erased".into(),
        ));
    }
    let mut report = ErasureReport {
        person: person.0,
        ..ErasureReport::default()
    };
    // Names to take out of free text: theirs, and their forms' signers (a parent's name
    // is about them too).
    let mut names = vec![
        format!("{} {}", before.given_name, before.family_name),
        before.given_name.clone(),
        before.family_name.clone(),
        before.ext_ref.clone(),
    ];
    for form in consents::consents_of(&tx, person)? {
        if !form.signer_name.trim().is_empty() {
            names.push(form.signer_name.trim().to_owned());
        }
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.dedup();

    for publication in publications::publications_of_person(&tx, person)? {
        if publication.takedown_since.is_none()
            && publications::mark_takedown(&tx, publication.id, "erasure", now)?
        {
            report.takedown_tasks += 1;
            ops::log(
                &tx,
                actor,
                Action::PublicationTakedownDue,
                format!("photo:{}", publication.photo_id),
                serde_json::json!({
                    "publication": publication.id, "channel": publication.channel,
                    "reasons": ["erasure"],
                }),
                now,
            )?;
        }
    }
    for (photo, others) in stored::photos_with(&tx, person)? {
        approvals::void_approvals(&tx, photo, "person erased", now)?;
        if others {
            report.photos_covered += 1;
        } else if stored::is_published(&tx, photo)? {
            stored::mark_erase_due(&tx, photo)?;
            report.photos_awaiting_takedown += 1;
        } else {
            retention::remove_photo(&tx, photo, now)?;
            report.photos_removed += 1;
        }
    }
    stored::cover_everywhere(&tx, person)?;
    let (forms, scans) = retention::remove_forms(&tx, person, now)?;
    report.forms = forms;
    report.scans = scans;
    for (account, _) in stored::accounts_of(&tx, person)? {
        stored::retire_account(&tx, account)?;
        report.accounts_retired += 1;
    }
    report.texts_redacted = stored::redact_free_text(&tx, &names)?;
    stored::erase_person_row(&tx, person, now)?;
    ops::log(
        &tx,
        actor,
        Action::PersonErased,
        format!("person:{}", person.0),
        serde_json::json!({
            "forms": report.forms, "scans": report.scans,
            "photos_removed": report.photos_removed,
            "photos_awaiting_takedown": report.photos_awaiting_takedown,
            "photos_covered": report.photos_covered,
            "takedown_tasks": report.takedown_tasks,
            "accounts_retired": report.accounts_retired,
            "texts_redacted": report.texts_redacted,
        }),
        now,
    )?;
    tx.commit()?;
    report.files_removed = retention::finish_deletions(conn, archive)?.0;
    report.compacted = crate::store::compact(conn);
    Ok(report)
}

/// [`erase_person`] after the caller typed the person's reference to confirm (the web
/// UI's and the API's guard against erasing the wrong person).
pub fn erase_confirmed(
    conn: &mut Connection,
    archive: &Archive,
    person: PersonId,
    confirm_ref: &str,
    actor: &str,
    now: Timestamp,
) -> Result<ErasureReport> {
    let found = people::person(conn, person)?;
    if found.erased {
        return Err(StoreError::Conflict(
            "this person was already erased".into(),
        ));
    }
    if confirm_ref.trim() != found.ext_ref {
        return Err(StoreError::Invalid(
            "to erase this person, type their reference exactly as shown (nothing was changed)"
                .into(),
        ));
    }
    erase_person(conn, archive, person, actor, now)
}
