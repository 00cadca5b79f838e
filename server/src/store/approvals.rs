//! A director's approvals of a photo for a channel (C9), and their voiding when the photo
//! changes.

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::Result;
use crate::domain::{AccountId, Channel, PhotoId};

/// Marks every live approval of `photo` void, with why.
pub fn void_approvals(
    conn: &Connection,
    photo: PhotoId,
    reason: &str,
    now: Timestamp,
) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE approvals SET voided_at = ?2, void_reason = ?3 WHERE photo_id = ?1 AND voided_at IS NULL",
        params![photo.0, now, reason],
    )?)
}

/// A director's recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub id: i64,
    pub photo_id: PhotoId,
    #[serde(serialize_with = "super::channel_code")]
    pub channel: crate::domain::Channel,
    pub fingerprint: String,
    pub approved: bool,
    pub note: String,
    pub director_id: AccountId,
    pub decided_at: jiff::Timestamp,
    pub voided_at: Option<jiff::Timestamp>,
    pub void_reason: Option<String>,
}

/// A director's decision about one photo for one channel, bound to the photo as it was
/// (its fingerprint).
#[derive(Debug, Clone, Copy)]
pub struct NewApproval<'a> {
    pub photo: PhotoId,
    pub channel: Channel,
    pub fingerprint: &'a str,
    pub approved: bool,
    pub note: &'a str,
    pub director: AccountId,
}

/// Records `approval`, superseding the photo's earlier decision for its channel.
pub fn record_approval(
    conn: &Connection,
    approval: &NewApproval<'_>,
    now: Timestamp,
) -> Result<i64> {
    let NewApproval {
        photo,
        channel,
        fingerprint,
        approved,
        note,
        director,
    } = *approval;
    conn.execute(
        "UPDATE approvals SET voided_at = ?3, void_reason = 'superseded' \
         WHERE photo_id = ?1 AND channel = ?2 AND voided_at IS NULL",
        params![photo.0, channel.code(), now],
    )?;
    conn.execute(
        "INSERT INTO approvals (photo_id, channel, fingerprint, approved, note, director_id, decided_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![photo.0, channel.code(), fingerprint, approved, note.trim(), director.0, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn approvals(conn: &Connection, photo: PhotoId) -> Result<Vec<Approval>> {
    let mut stmt = conn.prepare(
        "SELECT id, photo_id, channel, fingerprint, approved, note, director_id, decided_at, \
         voided_at, void_reason FROM approvals WHERE photo_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([photo.0], |r| {
            Ok(Approval {
                id: r.get(0)?,
                photo_id: PhotoId(r.get(1)?),
                channel: r.get(2)?,
                fingerprint: r.get(3)?,
                approved: r.get(4)?,
                note: r.get(5)?,
                director_id: AccountId(r.get(6)?),
                decided_at: r.get(7)?,
                voided_at: r.get(8)?,
                void_reason: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
