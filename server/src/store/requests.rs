//! Publication requests: staff ask for a photo to go to a channel; the request sits in the
//! director's approval queue until a director approves or rejects the photo for it.
//!
//! A request decides nothing: the consent rules and the director's approval do. It only
//! says that someone is waiting.

use jiff::Timestamp;
use rusqlite::{Connection, Row, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::{AccountId, Channel, PhotoId};

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub id: i64,
    pub photo_id: PhotoId,
    pub channel: Channel,
    pub requested_by: AccountId,
    pub requested_at: jiff::Timestamp,
    pub closed_at: Option<jiff::Timestamp>,
}

const COLS: &str = "id, photo_id, channel, requested_by, requested_at, closed_at";

fn request_row(row: &Row<'_>) -> rusqlite::Result<Request> {
    Ok(Request {
        id: row.get(0)?,
        photo_id: PhotoId(row.get(1)?),
        channel: row.get(2)?,
        requested_by: AccountId(row.get(3)?),
        requested_at: row.get(4)?,
        closed_at: row.get(5)?,
    })
}

/// Asks for `photo` to be published to `channel`. One open request per photo and
/// channel: asking again while one waits is a conflict.
pub fn insert(
    conn: &Connection,
    photo: PhotoId,
    channel: Channel,
    by: AccountId,
    now: Timestamp,
) -> Result<i64> {
    if !channel.needs_approval() {
        return Err(StoreError::Invalid(format!(
            "{channel} needs no director's approval: nothing to ask for"
        )));
    }
    super::photos::photo(conn, photo)?;
    conn.execute(
        &format!("INSERT INTO publication_requests ({COLS}) VALUES (NULL, ?1, ?2, ?3, ?4, NULL)"),
        params![photo.0, channel.code(), by.0, now],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!(
                "publication of this photo to {channel} has already been asked for"
            ))
        }
        e => e.into(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// Closes the open request for `photo` and `channel`, if any (a director decided).
pub fn close(conn: &Connection, photo: PhotoId, channel: Channel, now: Timestamp) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE publication_requests SET closed_at = ?3 \
         WHERE photo_id = ?1 AND channel = ?2 AND closed_at IS NULL",
        params![photo.0, channel.code(), now],
    )?)
}

/// Every open request, oldest first: the director's queue.
pub fn open(conn: &Connection) -> Result<Vec<Request>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLS} FROM publication_requests WHERE closed_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([], request_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The requests made for one photo, newest first.
pub fn of_photo(conn: &Connection, photo: PhotoId) -> Result<Vec<Request>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLS} FROM publication_requests WHERE photo_id = ?1 ORDER BY id DESC"
    ))?;
    let rows = stmt
        .query_map([photo.0], request_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open_in_memory, photos, registry};

    fn now() -> Timestamp {
        Timestamp::from_second(1_764_000_000).unwrap()
    }

    fn setup() -> (Connection, PhotoId, AccountId) {
        let conn = open_in_memory().unwrap();
        let account = registry::insert_account(
            &conn,
            "staff",
            "x",
            crate::domain::AccountRole::Staff,
            None,
            now(),
        )
        .unwrap();
        let photo = photos::insert_photo(
            &conn,
            &photos::NewPhoto {
                content_hash: "a".repeat(64),
                byte_size: 1,
                format: crate::domain::Format::Jpeg,
                original_name: "IMG.JPG".into(),
                custody_session_id: None,
                device_id: None,
                taken_at: None,
                camera_make: None,
                camera_model: None,
                camera_serial: None,
                orientation: None,
                gps_present: false,
                width: None,
                height: None,
                provenance: crate::rules::consent::Provenance::Unknown,
                damage: None,
                face_search: crate::rules::consent::FaceSearch::NotYet,
            },
            now(),
        )
        .unwrap();
        (conn, photo, account)
    }

    #[test]
    fn a_request_waits_once_until_a_director_decides() {
        let (conn, photo, account) = setup();
        insert(&conn, photo, Channel::Website, account, now()).unwrap();
        assert!(matches!(
            insert(&conn, photo, Channel::Website, account, now()),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(open(&conn).unwrap().len(), 1);
        assert_eq!(close(&conn, photo, Channel::Website, now()).unwrap(), 1);
        assert!(open(&conn).unwrap().is_empty());
        insert(&conn, photo, Channel::Website, account, now()).unwrap();
        assert_eq!(of_photo(&conn, photo).unwrap().len(), 2);
    }

    #[test]
    fn internal_use_needs_no_request() {
        let (conn, photo, account) = setup();
        assert!(matches!(
            insert(&conn, photo, Channel::Internal, account, now()),
            Err(StoreError::Invalid(_))
        ));
    }
}
