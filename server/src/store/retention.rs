//! The rows retention and erasure read and remove, and the queue of files to delete.
//!
//! Removing rows never removes files here: the files a removal leaves without a row are
//! queued in `pending_deletions` in the same transaction, and removed from disk by the
//! caller afterwards (see `crate::ops::retention::finish_deletions`).

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use crate::domain::{PersonId, PhotoId};

/// What the retention rules need about one photo, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRow {
    pub id: PhotoId,
    pub imported_at: Timestamp,
    pub last_taken_down: Option<Timestamp>,
    pub published: bool,
    pub restricted: bool,
    pub erase_due: bool,
}

/// Every photo with what retention looks at. A photo counts as published while one of
/// its publications is not marked taken down, or a web endpoint may still hold its copy
/// (a delivery not yet withheld, or a removal not yet confirmed).
pub fn photo_rows(conn: &Connection) -> Result<Vec<PhotoRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT p.id, p.imported_at, \
           (SELECT max(u.takedown_done_at) FROM publications u WHERE u.photo_id = p.id), \
           {PUBLISHED_SQL}, \
           EXISTS (SELECT 1 FROM tags t JOIN people q ON q.id = t.person_id \
                   WHERE t.photo_id = p.id AND q.restricted = 1), \
           p.erase_due \
         FROM photos p ORDER BY p.id"
    ))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(PhotoRow {
                id: PhotoId(r.get(0)?),
                imported_at: r.get(1)?,
                last_taken_down: r.get(2)?,
                published: r.get(3)?,
                restricted: r.get(4)?,
                erase_due: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Whether photo `p` counts as published (see [`photo_rows`]), in SQL.
const PUBLISHED_SQL: &str = "(EXISTS (SELECT 1 FROM publications u WHERE u.photo_id = p.id \
         AND u.takedown_done_at IS NULL) \
     OR EXISTS (SELECT 1 FROM publications u JOIN http_deliveries d \
         ON d.publication_id = u.id WHERE u.photo_id = p.id AND d.state IN ('removing')))";

/// Whether one photo counts as published (see [`photo_rows`]).
pub fn is_published(conn: &Connection, photo: PhotoId) -> Result<bool> {
    Ok(conn.query_row(
        &format!("SELECT {PUBLISHED_SQL} FROM photos p WHERE p.id = ?1"),
        [photo.0],
        |r| r.get(0),
    )?)
}

/// What a removed photo leaves on disk: its content hash (original and renditions) and
/// its outbox copies (channel code, file name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhotoFiles {
    pub content_hash: String,
    pub outbox: Vec<(String, String)>,
}

/// Removes a photo and every row that hangs off it (faces, tags, approvals, requests,
/// publications and their deliveries). The audit log keeps its history by id.
pub fn delete_photo(conn: &Connection, id: PhotoId) -> Result<PhotoFiles> {
    let content_hash: String = super::found(
        conn.query_row(
            "SELECT content_hash FROM photos WHERE id = ?1",
            [id.0],
            |r| r.get(0),
        ),
        "photo",
        id.0,
    )?;
    let mut stmt =
        conn.prepare("SELECT channel, opaque_name FROM publications WHERE photo_id = ?1")?;
    let outbox = stmt
        .query_map([id.0], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for sql in [
        "DELETE FROM http_deliveries WHERE publication_id IN \
         (SELECT id FROM publications WHERE photo_id = ?1)",
        "DELETE FROM publications WHERE photo_id = ?1",
        "DELETE FROM publication_requests WHERE photo_id = ?1",
        "DELETE FROM approvals WHERE photo_id = ?1",
        "DELETE FROM tags WHERE photo_id = ?1",
        "DELETE FROM faces WHERE photo_id = ?1",
        "DELETE FROM photos WHERE id = ?1",
    ] {
        conn.execute(sql, [id.0])?;
    }
    Ok(PhotoFiles {
        content_hash,
        outbox,
    })
}

/// People marked as left who still have forms: (person, the day they left).
pub fn former_people_with_forms(conn: &Connection) -> Result<Vec<(PersonId, Date)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.left_on FROM people p WHERE p.left_on IS NOT NULL \
         AND EXISTS (SELECT 1 FROM consent_records c WHERE c.person_id = p.id) ORDER BY p.id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((PersonId(r.get(0)?), r.get::<_, Date>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Removes a person's consent forms. Returns how many, and the scans they pointed to
/// that no remaining form points to.
pub fn delete_forms_of(conn: &Connection, person: PersonId) -> Result<(usize, Vec<String>)> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT evidence_path FROM consent_records \
         WHERE person_id = ?1 AND evidence_path IS NOT NULL",
    )?;
    let scans = stmt
        .query_map([person.0], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for sql in [
        "DELETE FROM consent_partners WHERE consent_id IN \
         (SELECT id FROM consent_records WHERE person_id = ?1)",
        "DELETE FROM consent_online WHERE consent_id IN \
         (SELECT id FROM consent_records WHERE person_id = ?1)",
    ] {
        conn.execute(sql, [person.0])?;
    }
    let forms = conn.execute(
        "DELETE FROM consent_records WHERE person_id = ?1",
        [person.0],
    )?;
    let mut orphaned = Vec::new();
    for scan in scans {
        let still: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM consent_records WHERE evidence_path = ?1)",
            [&scan],
            |r| r.get(0),
        )?;
        if !still {
            orphaned.push(scan);
        }
    }
    Ok((forms, orphaned))
}

/// Sets or clears the day a person left.
pub fn set_left_on(conn: &Connection, person: PersonId, left_on: Option<Date>) -> Result<()> {
    let changed = conn.execute(
        "UPDATE people SET left_on = ?2 WHERE id = ?1 AND erased_at IS NULL",
        params![person.0, left_on.map(|d| d.to_string())],
    )?;
    if changed == 0 {
        return Err(super::StoreError::NotFound {
            what: "person",
            id: person.0,
        });
    }
    Ok(())
}

/// Queues a file (relative to the data directory) for deletion.
pub fn queue_deletion(conn: &Connection, path: &str, now: Timestamp) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO pending_deletions (path, queued_at) VALUES (?1, ?2)",
        params![path, now],
    )?;
    Ok(())
}

/// Files queued for deletion, oldest first.
pub fn pending_deletions(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT path FROM pending_deletions ORDER BY queued_at, path")?;
    let rows = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The file is gone from disk.
pub fn deletion_done(conn: &Connection, path: &str) -> Result<()> {
    conn.execute("DELETE FROM pending_deletions WHERE path = ?1", [path])?;
    Ok(())
}

/// Keeps a free-text note about a person (e.g. why the vulnerable flag was lowered) out
/// of the audit log, which refers to it by the id returned.
pub fn insert_person_note(
    conn: &Connection,
    person: PersonId,
    kind: &str,
    text: &str,
    now: Timestamp,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO person_notes (person_id, kind, text, written_at) VALUES (?1, ?2, ?3, ?4)",
        params![person.0, kind, text, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A person's notes: (id, kind, text, written at).
pub fn person_notes(
    conn: &Connection,
    person: PersonId,
) -> Result<Vec<(i64, String, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, text, written_at FROM person_notes WHERE person_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([person.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The photos a person is tagged in, each with whether anyone else is tagged in it (a
/// known person or an "unknown" tag).
pub fn photos_with(conn: &Connection, person: PersonId) -> Result<Vec<(PhotoId, bool)>> {
    let mut stmt = conn.prepare(
        "SELECT t.photo_id, EXISTS (SELECT 1 FROM tags o WHERE o.photo_id = t.photo_id \
                AND (o.person_id IS NULL OR o.person_id <> ?1)) \
         FROM tags t WHERE t.person_id = ?1 ORDER BY t.photo_id",
    )?;
    let rows = stmt
        .query_map([person.0], |r| Ok((PhotoId(r.get(0)?), r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Turns a person's row into the "erased person" placeholder: no name, reference, date of
/// birth or flags; their forms, notes, badges and group memberships removed (the caller
/// removes the forms first, for their scans). Custody records, bookings and the covered
/// face boxes still point at the row.
pub fn erase_person_row(conn: &Connection, person: PersonId, now: Timestamp) -> Result<()> {
    let ext_ref: String = conn.query_row(
        "SELECT ext_ref FROM people WHERE id = ?1",
        [person.0],
        |r| r.get(0),
    )?;
    for sql in [
        "DELETE FROM person_notes WHERE person_id = ?1",
        "DELETE FROM badges WHERE person_id = ?1",
        "DELETE FROM group_members WHERE person_id = ?1",
        "DELETE FROM consent_online WHERE link_id IN \
         (SELECT id FROM consent_links WHERE person_id = ?1)",
        "DELETE FROM consent_visits WHERE link_id IN \
         (SELECT id FROM consent_links WHERE person_id = ?1)",
        "DELETE FROM consent_links WHERE person_id = ?1",
        "DELETE FROM person_contacts WHERE person_id = ?1",
    ] {
        conn.execute(sql, [person.0])?;
    }
    conn.execute(
        "UPDATE people SET ext_ref = 'erased-' || id, given_name = 'Erased', \
         family_name = 'person', date_of_birth = '1900-01-01', vulnerable = 0, \
         may_sign_out = 0, restricted = 0, left_on = NULL, erased_at = ?2, updated_at = ?2, \
         erased_ref_hash = ?3 WHERE id = ?1",
        params![person.0, now, ref_hash(&ext_ref)],
    )?;
    Ok(())
}

/// Covers the person's tag in every photo (the face stays boxed and painted over).
pub fn cover_everywhere(conn: &Connection, person: PersonId) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE tags SET covered = 1 WHERE person_id = ?1",
        [person.0],
    )?)
}

pub fn mark_erase_due(conn: &Connection, photo: PhotoId) -> Result<()> {
    conn.execute("UPDATE photos SET erase_due = 1 WHERE id = ?1", [photo.0])?;
    Ok(())
}

/// Replaces every case-insensitive occurrence of each of `names` in the free-text
/// columns (captions, notes and reasons staff and directors write, the decisions kept
/// with publications) with `[erased]`.
/// Returns how many rows changed.
pub fn redact_free_text(conn: &Connection, names: &[String]) -> Result<usize> {
    const COLUMNS: [(&str, &str); 8] = [
        ("photos", "caption"),
        ("photos", "provenance_ack_note"),
        ("photos", "faces_ack_note"),
        ("approvals", "note"),
        ("approvals", "void_reason"),
        ("publications", "takedown_reason"),
        // The decision kept with each publication: its reasons' sentences name people.
        ("publications", "decision"),
        ("refused_kiosk_events", "reason"),
    ];
    let mut changed = 0;
    for (table, column) in COLUMNS {
        let key = if table == "refused_kiosk_events" {
            "event_id"
        } else {
            "id"
        };
        let mut stmt = conn.prepare(&format!(
            "SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
        ))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, rusqlite::types::Value>(0)?,
                    r.get::<_, String>(1)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, text) in rows {
            let redacted = redact(&text, names);
            if redacted != text {
                conn.execute(
                    &format!("UPDATE {table} SET {column} = ?2 WHERE {key} = ?1"),
                    params![id, redacted],
                )?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// `text` with each of `names` as a whole word (case-insensitive, any script) replaced
/// by `[erased]`.
pub fn redact(text: &str, names: &[String]) -> String {
    let mut out = text.to_owned();
    for name in names.iter().filter(|n| !n.trim().is_empty()) {
        let fold = |c: char| c.to_lowercase().next().unwrap_or(c);
        let needle: Vec<char> = name.trim().chars().map(fold).collect();
        let mut result = String::with_capacity(out.len());
        let chars: Vec<char> = out.chars().collect();
        let lower: Vec<char> = chars.iter().copied().map(fold).collect();
        let boundary = |at: usize| at == 0 || at >= chars.len() || !chars[at].is_alphanumeric();
        let mut i = 0;
        while i < chars.len() {
            let end = i + needle.len();
            if lower[i..].starts_with(&needle) && (i == 0 || boundary(i - 1)) && boundary(end) {
                result.push_str("[erased]");
                i += needle.len();
            } else {
                result.push(chars[i]);
                i += 1;
            }
        }
        out = result;
    }
    out
}

/// The id of the person with this reference, if any (erased people have none).
pub fn person_id_by_ref(conn: &Connection, ext_ref: &str) -> Result<Option<PersonId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM people WHERE ext_ref = ?1 AND erased_at IS NULL",
            [ext_ref],
            |r| Ok(PersonId(r.get(0)?)),
        )
        .optional()?)
}

/// How an erased person's reference is remembered: its SHA-256, hex.
pub fn ref_hash(ext_ref: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(ext_ref.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a person with this reference was erased.
pub fn ref_was_erased(conn: &Connection, ext_ref: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM people WHERE erased_ref_hash = ?1)",
        [ref_hash(ext_ref)],
        |r| r.get(0),
    )?)
}

/// Accounts linked to a person: (id, username).
pub fn accounts_of(conn: &Connection, person: PersonId) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT id, username FROM accounts WHERE person_id = ?1")?;
    let rows = stmt
        .query_map([person.0], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Disables an account for good and replaces its username (which may be a name) with
/// `erased-<id>`; its sessions end.
pub fn retire_account(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE accounts SET username = 'erased-' || id, disabled = 1, password_hash = '!', \
         sessions_epoch = sessions_epoch + 1 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redaction_replaces_every_spelling_of_the_names_and_nothing_else() {
        let names = ["Robin".to_owned(), "Okafor".to_owned()];
        for (text, want) in [
            (
                "Robin Okafor at the forge",
                "[erased] [erased] at the forge",
            ),
            ("ROBIN and robin", "[erased] and [erased]"),
            ("Okafor's day", "[erased]'s day"),
            ("Robinson and Okafors", "Robinson and Okafors"),
            ("nobody named", "nobody named"),
            ("", ""),
        ] {
            assert_eq!(redact(text, &names), want, "{text}");
        }
        assert_eq!(redact("Zoë Ávila", &["zoë".to_owned()]), "[erased] Ávila");
        assert_eq!(
            redact("text", &[" ".to_owned()]),
            "text",
            "blank names ignored"
        );
    }
}
