//! Publications (what went to which channel, under which file name, decided how) and
//! their takedown tasks.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::audit::{self, Action, Entry};
use super::{Result, StoreError};
use crate::domain::{AccountId, Channel, PersonId, PhotoId};
use crate::rules::consent;

/// A publication, and its takedown state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publication {
    pub id: i64,
    pub photo_id: PhotoId,
    #[serde(serialize_with = "super::channel_code")]
    pub channel: crate::domain::Channel,
    pub opaque_name: String,
    pub published_at: jiff::Timestamp,
    pub takedown_since: Option<jiff::Timestamp>,
    pub takedown_reason: Option<String>,
    pub takedown_done_at: Option<jiff::Timestamp>,
    /// For a channel with a web endpoint: `pending`, `delivered` or `withheld`.
    pub delivery: Option<String>,
    /// Why the last attempt to deliver failed.
    pub delivery_error: Option<String>,
    /// The item a WordPress site holds the copy as (its media library's id).
    pub delivery_media_id: Option<i64>,
}

const PUBLICATION_COLS: &str = "id, photo_id, channel, opaque_name, published_at, takedown_since, \
     takedown_reason, takedown_done_at, \
     (SELECT d.state FROM http_deliveries d WHERE d.publication_id = publications.id), \
     (SELECT d.last_error FROM http_deliveries d WHERE d.publication_id = publications.id), \
     (SELECT d.remote_id FROM http_deliveries d WHERE d.publication_id = publications.id)";

fn publication_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Publication> {
    Ok(Publication {
        id: r.get(0)?,
        photo_id: PhotoId(r.get(1)?),
        channel: r.get(2)?,
        opaque_name: r.get(3)?,
        published_at: r.get(4)?,
        takedown_since: r.get(5)?,
        takedown_reason: r.get(6)?,
        takedown_done_at: r.get(7)?,
        delivery: r.get(8)?,
        delivery_error: r.get(9)?,
        delivery_media_id: r.get(10)?,
    })
}

pub fn insert_publication(
    conn: &Connection,
    photo: PhotoId,
    channel: Channel,
    opaque_name: &str,
    by: Option<AccountId>,
    decision: &consent::Decision,
    now: Timestamp,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO publications (photo_id, channel, opaque_name, published_at, published_by, decision) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            photo.0,
            channel.code(),
            opaque_name,
            now,
            by.map(|a| a.0),
            serde_json::to_string(decision).map_err(|e| StoreError::Invalid(e.to_string()))?
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// For tests: a verified JPEG photo published on `channel` as `opaque_name`, the decision
/// allowed. Returns the publication's id.
#[cfg(test)]
pub(crate) fn published_for_test(
    conn: &Connection,
    channel: Channel,
    opaque_name: &str,
    now: Timestamp,
) -> i64 {
    let photo = super::photos::insert_photo(
        conn,
        &super::photos::NewPhoto {
            content_hash: blake3::hash(opaque_name.as_bytes()).to_hex().to_string(),
            format: crate::domain::Format::Jpeg,
            provenance: consent::Provenance::Verified,
            ..Default::default()
        },
        now,
    )
    .unwrap();
    let decision = consent::Decision {
        channel,
        on: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
        verdict: consent::Verdict::Allowed,
        reasons: vec![],
    };
    insert_publication(conn, photo, channel, opaque_name, None, &decision, now).unwrap()
}

pub fn publications_of_person(conn: &Connection, person: PersonId) -> Result<Vec<Publication>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PUBLICATION_COLS} FROM publications WHERE photo_id IN \
         (SELECT photo_id FROM tags WHERE person_id = ?1) ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([person.0], publication_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Publications not taken down (nor waiting to be), of photos tagging `person` if given.
pub fn live_publications(conn: &Connection, person: Option<PersonId>) -> Result<Vec<Publication>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PUBLICATION_COLS} FROM publications WHERE takedown_since IS NULL \
         AND (?1 IS NULL OR photo_id IN (SELECT photo_id FROM tags WHERE person_id = ?1)) \
         ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([person.map(|p| p.0)], publication_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Makes a live publication a takedown task; false if it already is one.
pub fn mark_takedown(conn: &Connection, id: i64, reason: &str, now: Timestamp) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE publications SET takedown_since = ?2, takedown_reason = ?3 \
         WHERE id = ?1 AND takedown_since IS NULL",
        params![id, now, reason],
    )? == 1)
}

pub fn publications_of_photo(conn: &Connection, photo: PhotoId) -> Result<Vec<Publication>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PUBLICATION_COLS} FROM publications WHERE photo_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([photo.0], publication_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Takedown tasks not yet marked done.
pub fn open_takedowns(conn: &Connection) -> Result<Vec<Publication>> {
    open_takedowns_in(conn, None)
}

/// [`open_takedowns`] of one site's photos (`None`: of every site).
pub fn open_takedowns_in(conn: &Connection, site: Option<i64>) -> Result<Vec<Publication>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PUBLICATION_COLS} FROM publications WHERE takedown_since IS NOT NULL \
         AND takedown_done_at IS NULL \
         AND (?1 IS NULL OR photo_id IN (SELECT id FROM photos WHERE site_id = ?1)) \
         ORDER BY takedown_since, id"
    ))?;
    let rows = stmt
        .query_map([site], publication_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// An open takedown task.
pub fn open_takedown(conn: &Connection, id: i64) -> Result<Publication> {
    conn.query_row(
        &format!(
            "SELECT {PUBLICATION_COLS} FROM publications WHERE id = ?1 \
             AND takedown_since IS NOT NULL AND takedown_done_at IS NULL"
        ),
        [id],
        publication_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound {
        what: "open takedown task",
        id,
    })
}

pub fn mark_takedown_done(
    conn: &Connection,
    publication: i64,
    by: AccountId,
    now: Timestamp,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE publications SET takedown_done_at = ?2, takedown_done_by = ?3 \
         WHERE id = ?1 AND takedown_since IS NOT NULL AND takedown_done_at IS NULL",
        params![publication, now, by.0],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "open takedown task",
            id: publication,
        });
    }
    Ok(())
}

/// After a withdrawal by or for `person`: every publication of them becomes a takedown task
/// and every live approval of a photo with them is voided. Returns (takedowns, voided).
pub fn on_withdrawal(
    conn: &Connection,
    person: PersonId,
    actor: &str,
    now: Timestamp,
) -> Result<(usize, usize)> {
    let takedowns = conn.execute(
        "UPDATE publications SET takedown_since = ?2, takedown_reason = 'consent withdrawn' \
         WHERE takedown_since IS NULL AND photo_id IN (SELECT photo_id FROM tags WHERE person_id = ?1)",
        params![person.0, now],
    )?;
    let voided = conn.execute(
        "UPDATE approvals SET voided_at = ?2, void_reason = 'consent withdrawn' \
         WHERE voided_at IS NULL AND photo_id IN (SELECT photo_id FROM tags WHERE person_id = ?1)",
        params![person.0, now],
    )?;
    audit::append(
        conn,
        &Entry {
            at: now,
            actor,
            action: Action::ConsentWithdrawalEffects,
            subject: &format!("person:{}", person.0),
            details: serde_json::json!({ "takedown_tasks": takedowns, "approvals_voided": voided }),
        },
    )?;
    Ok((takedowns, voided))
}

/// The channel and opaque name of every publication whose files should be in the outbox
/// (not taken down), in order. The channel is as stored.
pub fn outbox_files(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT channel, opaque_name FROM publications WHERE takedown_done_at IS NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
