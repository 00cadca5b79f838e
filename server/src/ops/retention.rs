//! Retention: the purge of what is past its time, and the deletion of files whose rows
//! are gone.
//!
//! The rules are [`rules`] (pure). A purge is one transaction that removes the rows,
//! queues the files they leave in `pending_deletions` and writes one audit entry with the
//! counts; the files are removed after it commits, and each is taken off the queue once
//! it is gone. A purge killed at any moment leaves either nothing changed (before the
//! commit) or rows gone with their files queued, which the next purge (or erasure, or the
//! daily run in `serve`) removes first. Nothing is ever half-deleted.

use std::collections::HashSet;
use std::path::{Component, Path};

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;

use crate::domain::{Channel, PersonId, PhotoId};
use crate::infra::archive::Archive;
use crate::ops::publish::outbox;
use crate::ops::{self, decisions};
use crate::rules::consent::ConsentPolicy;
use crate::rules::retention::{self as rules, Cause, PhotoState, Retention};
use crate::store::audit::Action;
use crate::store::{Result, StoreError, retention as stored};
use consentcam_media::Bucket;

/// What a purge removes (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub photos: Vec<(PhotoId, Cause)>,
    /// People who left long enough ago that their forms go.
    pub forms_of: Vec<PersonId>,
}

impl Plan {
    pub fn count(&self, cause: Cause) -> usize {
        self.photos.iter().filter(|(_, c)| *c == cause).count()
    }
}

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub photos_unpublished: usize,
    pub photos_blocked: usize,
    pub photos_erased: usize,
    pub forms: usize,
    pub scans: usize,
    /// Files removed from disk (originals, renditions, outbox copies, scans), including
    /// those an earlier, interrupted run had queued.
    pub files_removed: usize,
    /// Files still queued because they could not be removed (see the log); tried again at
    /// the next run.
    pub files_left: usize,
}

/// Works out what is past its time. `rules` None: only photos whose only person was
/// erased (they need no retention settings).
pub fn plan(
    conn: &Connection,
    rules: Option<&Retention>,
    today: Date,
    policy: &ConsentPolicy,
    now: Timestamp,
) -> Result<Plan> {
    plan_among(conn, rules, today, policy, now, None)
}

/// [`plan`], among the photos of `only` if given.
fn plan_among(
    conn: &Connection,
    rules: Option<&Retention>,
    today: Date,
    policy: &ConsentPolicy,
    now: Timestamp,
    only: Option<&HashSet<PhotoId>>,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let rows = stored::photo_rows(conn)?
        .into_iter()
        .filter(|r| only.is_none_or(|ids| ids.contains(&r.id)));
    for row in rows {
        let mut state = PhotoState {
            imported_at: row.imported_at,
            last_taken_down: row.last_taken_down,
            published: row.published,
            restricted: row.restricted,
            erase_due: row.erase_due,
            blocked: false,
        };
        if let Some(rules) = rules
            && rules::blocked_check_needed(rules, &state, now)
        {
            let decisions: Vec<_> = decisions::decide_all(conn, row.id, today, policy)?
                .into_iter()
                .map(|d| d.decision)
                .collect();
            state.blocked = rules::blocked_everywhere(&decisions);
        }
        if let Some(cause) = rules::photo_due(rules, &state, now) {
            plan.photos.push((row.id, cause));
        }
    }
    if let Some(rules) = rules {
        plan.forms_of = stored::former_people_with_forms(conn)?
            .into_iter()
            .filter(|&(_, left_on)| rules::forms_due(rules, left_on, today))
            .map(|(person, _)| person)
            .collect();
    }
    Ok(plan)
}

/// Purges what [`plan`] finds, after finishing any deletions an earlier run left queued.
/// One transaction and one audit entry (`retention.purge`, counts and ids); then the files.
pub fn purge(
    conn: &mut Connection,
    archive: &Archive,
    rules: Option<&Retention>,
    today: Date,
    policy: &ConsentPolicy,
    actor: &str,
    now: Timestamp,
) -> Result<PurgeReport> {
    let (mut removed, _) = finish_deletions(conn, archive)?;
    // The consent decisions are worked out before the write transaction, so the server
    // keeps answering; inside it, only the photos found are decided again (a form added
    // meanwhile saves its photos).
    let found = plan(conn, rules, today, policy, now)?;
    let candidates: HashSet<PhotoId> = found.photos.iter().map(|(p, _)| *p).collect();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let plan = plan_among(&tx, rules, today, policy, now, Some(&candidates))?;
    let mut report = PurgeReport {
        photos_unpublished: plan.count(Cause::Unpublished),
        photos_blocked: plan.count(Cause::Blocked),
        photos_erased: plan.count(Cause::Erased),
        ..PurgeReport::default()
    };
    for &(photo, _) in &plan.photos {
        remove_photo(&tx, photo, now)?;
    }
    for &person in &plan.forms_of {
        let (forms, scans) = remove_forms(&tx, person, now)?;
        report.forms += forms;
        report.scans += scans;
    }
    let ids = |cause: Cause| -> Vec<i64> {
        plan.photos
            .iter()
            .filter(|(_, c)| *c == cause)
            .map(|(p, _)| p.0)
            .collect()
    };
    // Each purge under retention settings is recorded, even one that found nothing (the
    // log shows the rules ran); without settings, only one that removed something.
    if rules.is_some() || !plan.photos.is_empty() {
        ops::log(
            &tx,
            actor,
            Action::RetentionPurge,
            "retention".to_owned(),
            serde_json::json!({
                "as_of": today.to_string(),
                "photos_unpublished": ids(Cause::Unpublished),
                "photos_blocked": ids(Cause::Blocked),
                "photos_erased": ids(Cause::Erased),
                "forms_of_people": plan.forms_of.iter().map(|p| p.0).collect::<Vec<_>>(),
                "counts": {
                    "photos": plan.photos.len(), "forms": report.forms, "scans": report.scans,
                },
                "settings": rules,
            }),
            now,
        )?;
    }
    tx.commit()?;
    let (more, left) = finish_deletions(conn, archive)?;
    removed += more;
    report.files_removed = removed;
    report.files_left = left;
    Ok(report)
}

/// Removes a photo's rows and queues its files: the original, its renditions and any
/// outbox copies. Call inside a transaction.
pub(crate) fn remove_photo(conn: &Connection, photo: PhotoId, now: Timestamp) -> Result<()> {
    let files = stored::delete_photo(conn, photo)?;
    let mut keys = vec![
        Archive::original_key(&files.content_hash),
        Archive::thumbnail_key(&files.content_hash),
        Archive::preview_key(&files.content_hash),
    ];
    for (channel, name) in &files.outbox {
        if let Ok(channel) = channel.parse::<Channel>() {
            for file in outbox::file_names(name) {
                keys.push(outbox::key(channel, &file));
            }
        }
    }
    for key in keys {
        stored::queue_deletion(conn, &key, now)?;
    }
    Ok(())
}

/// Removes a person's forms and queues the scans no other form points to. Returns
/// (forms, scans). Call inside a transaction.
pub(crate) fn remove_forms(
    conn: &Connection,
    person: PersonId,
    now: Timestamp,
) -> Result<(usize, usize)> {
    let (forms, scans) = stored::delete_forms_of(conn, person)?;
    for scan in &scans {
        stored::queue_deletion(conn, scan, now)?;
    }
    Ok((forms, scans.len()))
}

/// Whether `path` is a plain relative path inside the data directory.
fn inside(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Removes every queued file from disk, each taken off the queue once it is gone (and
/// its folder synced). Returns (removed, left): a file that cannot be removed stays queued
/// and is logged; one already gone counts as removed.
pub fn finish_deletions(conn: &Connection, archive: &Archive) -> Result<(usize, usize)> {
    let (mut removed, mut left) = (0, 0);
    for relative in stored::pending_deletions(conn)? {
        let path = Path::new(&relative);
        if !inside(path) {
            // Never followed outside the data directory; dropped from the queue.
            tracing::error!(path = %relative, "a queued deletion outside the data directory was ignored");
            stored::deletion_done(conn, &relative)?;
            continue;
        }
        match archive.delete(&relative) {
            Ok(()) => {
                stored::deletion_done(conn, &relative)?;
                removed += 1;
            }
            Err(e) => {
                tracing::error!(path = %relative, error = %e, "could not remove a file due for deletion; it stays queued");
                left += 1;
            }
        }
    }
    Ok((removed, left))
}

/// A purge asked for without `[retention]` in the config.
pub fn not_configured() -> StoreError {
    StoreError::Invalid(
        "no [retention] section in the config: nothing is purged by age. Add one (see README: \
         Data protection), e.g. [retention] with unpublished_photo_days = 365"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use crate::store::consents;
    use jiff::civil::date;

    use super::*;
    use crate::domain::{ExternalRef, Name, Role, Scopes, SignerKind};
    use crate::store::faces;
    use crate::store::{open_in_memory, people, photos};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn photo(conn: &Connection, n: u8, imported: &str) -> PhotoId {
        photos::insert_photo(
            conn,
            &photos::NewPhoto {
                content_hash: format!("{n:02x}").repeat(32),
                byte_size: 10,
                format: crate::domain::Format::Jpeg,
                original_name: format!("IMG_{n:04}.JPG"),
                provenance: crate::rules::consent::Provenance::Verified,
                face_search: crate::rules::consent::FaceSearch::Done,
                ..Default::default()
            },
            at(imported),
        )
        .unwrap()
    }

    fn person(conn: &Connection, r: &str, with_form: bool) -> PersonId {
        let id = people::insert_person(
            conn,
            &people::NewPerson {
                ext_ref: ExternalRef::parse(r).unwrap(),
                given_name: Name::parse("Sam").unwrap(),
                family_name: Name::parse(r).unwrap(),
                date_of_birth: date(2000, 1, 1),
                role: Role::Learner,
                vulnerable: false,
                may_sign_out: false,
            },
            at("2025-01-01T00:00:00Z"),
        )
        .unwrap();
        if with_form {
            consents::insert_consent(
                conn,
                &consents::NewConsent {
                    person_id: id,
                    signer: SignerKind::Myself,
                    signer_name: String::new(),
                    signed_on: date(2025, 1, 1),
                    expires_on: Some(date(2030, 1, 1)),
                    withdrawn_on: None,
                    scopes: Scopes {
                        internal: true,
                        partners: vec![],
                        website: false,
                        social: false,
                    },
                    evidence_path: None,
                    source: "test".into(),
                },
                at("2025-01-01T00:00:00Z"),
            )
            .unwrap();
        }
        id
    }

    #[test]
    fn the_plan_reads_the_records_blocked_photos_go_early_usable_and_restricted_ones_stay() {
        let mut conn = open_in_memory().unwrap();
        let now = at("2026-03-01T12:00:00Z");
        let rules = Retention::default();
        let policy = ConsentPolicy::default();
        let consented = person(&conn, "C1", true);
        let without = person(&conn, "N1", false);
        let restricted = person(&conn, "R1", false);
        people::set_restricted(&conn, restricted, true).unwrap();
        // Forty days old: blocked ones go, others stay.
        let unknown = photo(&conn, 1, "2026-01-20T12:00:00Z");
        faces::add_tag(&conn, unknown, None, now).unwrap();
        let no_consent = photo(&conn, 2, "2026-01-20T12:00:00Z");
        faces::add_tag(&conn, no_consent, Some(without), now).unwrap();
        let usable = photo(&conn, 3, "2026-01-20T12:00:00Z");
        faces::add_tag(&conn, usable, Some(consented), now).unwrap();
        let kept = photo(&conn, 4, "2026-01-20T12:00:00Z");
        faces::add_tag(&conn, kept, Some(restricted), now).unwrap();
        // Two years old, nobody tagged: unpublished too long.
        let old = photo(&conn, 5, "2024-02-01T12:00:00Z");
        let today = date(2026, 3, 1);
        let found = plan(&conn, Some(&rules), today, &policy, now).unwrap();
        assert_eq!(
            found.photos,
            vec![
                (unknown, Cause::Blocked),
                (no_consent, Cause::Blocked),
                (old, Cause::Unpublished),
            ]
        );
        assert_eq!(
            plan(&conn, None, today, &policy, now).unwrap(),
            Plan::default()
        );

        let dir = tempfile::tempdir().unwrap();
        let report = purge(
            &mut conn,
            &Archive::local(dir.path()),
            Some(&rules),
            today,
            &policy,
            "system",
            now,
        )
        .unwrap();
        assert_eq!((report.photos_blocked, report.photos_unpublished), (2, 1));
        for gone in [unknown, no_consent, old] {
            assert!(photos::photo(&conn, gone).is_err());
        }
        for stays in [usable, kept] {
            assert!(photos::photo(&conn, stays).is_ok());
        }
        assert!(stored::pending_deletions(&conn).unwrap().is_empty());
    }
}
