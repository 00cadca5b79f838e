//! Photos: the catalogue, their analysis, statuses and the gallery, caption and
//! confirmation, and the facts the consent rules need.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::approvals::approvals;
use super::approvals::void_approvals;
use super::faces::{faces, tags};
use super::people;
use super::{Result, StoreError, found};
use crate::domain::{AccountId, DeviceId, Format, PersonId, PhotoId};
use crate::rules::consent::{
    self, ApprovalFacts, FaceSearch, MediaState, PersonFacts, PhotoFacts, Provenance,
};

/// A photo to catalogue (from an import, or seeded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPhoto {
    pub content_hash: String,
    pub byte_size: u64,
    pub format: Format,
    pub original_name: String,
    pub custody_session_id: Option<i64>,
    pub device_id: Option<DeviceId>,
    pub taken_at: Option<Timestamp>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub camera_serial: Option<String>,
    pub orientation: Option<u16>,
    pub gps_present: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub provenance: Provenance,
    /// Why the file cannot be read safely, if it cannot.
    pub damage: Option<String>,
    /// Whether faces were looked for; an import starts at "not yet" and the analysis
    /// records the rest.
    pub face_search: FaceSearch,
}

/// A catalogued photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Photo {
    pub id: PhotoId,
    pub content_hash: String,
    pub byte_size: u64,
    pub format: Format,
    pub custody_session_id: Option<i64>,
    pub device_id: Option<DeviceId>,
    pub taken_at: Option<jiff::Timestamp>,
    pub orientation: Option<u16>,
    pub gps_present: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub provenance: Provenance,
    pub provenance_acknowledged: bool,
    pub provenance_note: Option<String>,
    pub damage: Option<String>,
    pub people_confirmed: bool,
    pub caption: String,
    pub imported_at: jiff::Timestamp,
    /// Whether faces were looked for (C12).
    pub face_search: FaceSearch,
    pub faces_acknowledged: bool,
    pub faces_note: Option<String>,
}

impl Photo {
    pub fn media_state(&self) -> MediaState {
        match (&self.damage, self.format) {
            (Some(reason), _) => MediaState::Damaged {
                reason: reason.clone(),
            },
            (None, format) if format.is_publishable() => MediaState::Publishable,
            (None, other) => MediaState::Unsupported {
                format: other.as_str().to_uppercase(),
            },
        }
    }
}

pub fn insert_photo(conn: &Connection, photo: &NewPhoto, now: Timestamp) -> Result<PhotoId> {
    conn.execute(
        "INSERT INTO photos (content_hash, byte_size, format, original_name, custody_session_id, \
         device_id, taken_at, camera_make, camera_model, camera_serial, orientation, gps_present, \
         width, height, provenance, damage, imported_at, face_detection) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        params![
            photo.content_hash,
            photo.byte_size as i64,
            photo.format,
            photo.original_name,
            photo.custody_session_id,
            photo.device_id.map(|d| d.0),
            photo.taken_at,
            photo.camera_make,
            photo.camera_model,
            photo.camera_serial,
            photo.orientation,
            photo.gps_present,
            photo.width,
            photo.height,
            photo.provenance,
            photo.damage,
            now,
            photo.face_search,
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict("this photo is already catalogued".into())
        }
        e => e.into(),
    })?;
    Ok(PhotoId(conn.last_insert_rowid()))
}

const PHOTO_COLS: &str = "id, content_hash, byte_size, format, custody_session_id, device_id, \
     taken_at, orientation, gps_present, width, height, provenance, provenance_ack_by, \
     provenance_ack_note, damage, people_confirmed, caption, imported_at, face_detection, \
     faces_ack_by, faces_ack_note";

fn photo_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Photo> {
    Ok(Photo {
        id: PhotoId(r.get(0)?),
        content_hash: r.get(1)?,
        byte_size: r.get::<_, i64>(2)? as u64,
        format: r.get(3)?,
        custody_session_id: r.get(4)?,
        device_id: r.get::<_, Option<i64>>(5)?.map(DeviceId),
        taken_at: r.get(6)?,
        orientation: r.get(7)?,
        gps_present: r.get(8)?,
        width: r.get(9)?,
        height: r.get(10)?,
        provenance: r.get(11)?,
        provenance_acknowledged: r.get::<_, Option<i64>>(12)?.is_some(),
        provenance_note: r.get(13)?,
        damage: r.get(14)?,
        people_confirmed: r.get(15)?,
        caption: r.get(16)?,
        imported_at: r.get(17)?,
        face_search: r.get(18)?,
        faces_acknowledged: r.get::<_, Option<i64>>(19)?.is_some(),
        faces_note: r.get(20)?,
    })
}

pub fn photo(conn: &Connection, id: PhotoId) -> Result<Photo> {
    found(
        conn.query_row(
            &format!("SELECT {PHOTO_COLS} FROM photos WHERE id = ?1"),
            [id.0],
            photo_row,
        ),
        "photo",
        id.0,
    )
}

pub fn photo_by_hash(conn: &Connection, hash: &str) -> Result<Option<Photo>> {
    Ok(conn
        .query_row(
            &format!("SELECT {PHOTO_COLS} FROM photos WHERE content_hash = ?1"),
            [hash],
            photo_row,
        )
        .optional()?)
}

/// The photo imported from the card file at `original_name` (its path on the card), if
/// any; the latest if the same name was imported more than once.
pub fn photo_by_original_name(conn: &Connection, original_name: &str) -> Result<Option<PhotoId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM photos WHERE original_name = ?1 ORDER BY id DESC LIMIT 1",
            [original_name],
            |r| Ok(PhotoId(r.get(0)?)),
        )
        .optional()?)
}

/// Photos, newest first; of one custody session if given.
pub fn photos(conn: &Connection, session: Option<i64>, limit: u32) -> Result<Vec<Photo>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PHOTO_COLS} FROM photos WHERE (?1 IS NULL OR custody_session_id = ?1) \
         ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![session, limit], photo_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Where a photo is in its life, for the gallery.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStatus {
    NeedsTagging,
    Ready,
    Approved,
    Published,
    Blocked,
}

impl PhotoStatus {
    pub fn code(self) -> &'static str {
        match self {
            PhotoStatus::NeedsTagging => "needs_tagging",
            PhotoStatus::Ready => "ready",
            PhotoStatus::Approved => "approved",
            PhotoStatus::Published => "published",
            PhotoStatus::Blocked => "blocked",
        }
    }

    fn from_code(code: &str) -> Self {
        match code {
            "needs_tagging" => PhotoStatus::NeedsTagging,
            "ready" => PhotoStatus::Ready,
            "approved" => PhotoStatus::Approved,
            "published" => PhotoStatus::Published,
            _ => PhotoStatus::Blocked,
        }
    }
}

/// A photo's status in SQL (of `p`, a row of `photos`), the one definition: a file that
/// cannot be published is blocked; one with a face nobody resolved or people nobody
/// confirmed needs tagging; an "unknown" tag blocks; then published, approved (a live
/// approval), or ready.
const STATUS_SQL: &str = "CASE \
    WHEN p.damage IS NOT NULL OR p.format <> 'jpeg' THEN 'blocked' \
    WHEN p.people_confirmed = 0 OR EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = p.id \
         AND f.state = 'unresolved') THEN 'needs_tagging' \
    WHEN EXISTS (SELECT 1 FROM tags t WHERE t.photo_id = p.id AND t.person_id IS NULL) \
         THEN 'blocked' \
    WHEN EXISTS (SELECT 1 FROM publications u WHERE u.photo_id = p.id) THEN 'published' \
    WHEN EXISTS (SELECT 1 FROM approvals a WHERE a.photo_id = p.id AND a.approved = 1 \
         AND a.voided_at IS NULL) THEN 'approved' \
    ELSE 'ready' END";

/// One photo's status.
pub fn status(conn: &Connection, id: PhotoId) -> Result<PhotoStatus> {
    let code: String = found(
        conn.query_row(
            &format!("SELECT {STATUS_SQL} FROM photos p WHERE p.id = ?1"),
            [id.0],
            |r| r.get(0),
        ),
        "photo",
        id.0,
    )?;
    Ok(PhotoStatus::from_code(&code))
}

/// The next photo of the same import (the same sign-out; or the photos that have none)
/// that needs tagging: the first after `photo` in the import's order, else the first
/// before it. `None` when no other photo of it needs tagging.
pub fn next_to_tag(conn: &Connection, photo: &Photo) -> Result<Option<PhotoId>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT p.id FROM photos p WHERE p.custody_session_id IS ?1 AND p.id <> ?2 \
                 AND {STATUS_SQL} = 'needs_tagging' ORDER BY p.id < ?2, p.id LIMIT 1"
            ),
            params![photo.custody_session_id, photo.id.0],
            |r| r.get(0),
        )
        .optional()?
        .map(PhotoId))
}

/// An import's photos in which the detector looked and found nobody (or only faces
/// dismissed as not a face or too small to recognise), that nobody has tagged or
/// confirmed yet: the contact sheet to confirm in one look.
pub fn without_faces(conn: &Connection, session: Option<i64>) -> Result<Vec<Photo>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PHOTO_COLS} FROM photos p WHERE p.custody_session_id IS ?1 \
         AND p.face_detection = 'done' AND p.people_confirmed = 0 AND p.damage IS NULL \
         AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = p.id AND f.state <> 'dismissed') \
         AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.photo_id = p.id) ORDER BY p.id"
    ))?;
    let rows = stmt
        .query_map([session], photo_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many photos of each format an import (a sign-out's; `None`: those without one)
/// brought in, the most common first.
pub fn formats_of(conn: &Connection, session: Option<i64>) -> Result<Vec<(Format, usize)>> {
    let mut stmt = conn.prepare(
        "SELECT format, count(*) AS n FROM photos WHERE custody_session_id IS ?1 \
         GROUP BY format ORDER BY n DESC, format",
    )?;
    let rows = stmt
        .query_map([session], |r| {
            Ok((r.get(0)?, usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many photos of an import (a sign-out's; `None`: those without one) need tagging.
pub fn left_to_tag(conn: &Connection, session: Option<i64>) -> Result<usize> {
    let n: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM photos p WHERE p.custody_session_id IS ?1 \
             AND {STATUS_SQL} = 'needs_tagging'"
        ),
        [session],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// One page of a gallery: which photos, from where, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GalleryPage {
    /// One sign-out's photos, or every photo.
    pub session: Option<i64>,
    pub status: Option<PhotoStatus>,
    /// Continue after this photo (the last of the previous page).
    pub after: Option<PhotoId>,
    /// Highest id first, or lowest first.
    pub newest_first: bool,
    pub limit: u32,
    /// One site's photos (`None`: every site's).
    pub site: Option<i64>,
}

/// A photo on a gallery page, with its status and how many people are tagged in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GalleryRow {
    #[serde(flatten)]
    pub photo: Photo,
    pub status: PhotoStatus,
    #[serde(skip)]
    pub people: usize,
}

/// A page of photos with their statuses, in one query (keyset paging: each page starts
/// after the previous page's last id, so page 100 costs what page 1 does).
pub fn gallery(conn: &Connection, page: &GalleryPage) -> Result<Vec<GalleryRow>> {
    let (order, after) = if page.newest_first {
        ("DESC", "p.id < ?2")
    } else {
        ("ASC", "p.id > ?2")
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT * FROM (SELECT {PHOTO_COLS}, {STATUS_SQL} AS status, \
           (SELECT count(*) FROM tags t WHERE t.photo_id = p.id) AS people \
         FROM photos p WHERE (?1 IS NULL OR p.custody_session_id = ?1) \
           AND (?2 IS NULL OR {after}) AND (?5 IS NULL OR p.site_id = ?5)) \
         WHERE ?3 IS NULL OR status = ?3 ORDER BY id {order} LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(
            params![
                page.session,
                page.after.map(|a| a.0),
                page.status.map(PhotoStatus::code),
                page.limit,
                page.site
            ],
            |r| {
                Ok(GalleryRow {
                    photo: photo_row(r)?,
                    status: PhotoStatus::from_code(&r.get::<_, String>(21)?),
                    people: usize::try_from(r.get::<_, i64>(22)?).unwrap_or(0),
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The photos a person is tagged in.
pub fn photos_of_person(conn: &Connection, person: PersonId) -> Result<Vec<Photo>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PHOTO_COLS} FROM photos WHERE id IN (SELECT photo_id FROM tags WHERE person_id = ?1) \
         ORDER BY id DESC"
    ))?;
    let rows = stmt
        .query_map([person.0], photo_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every photo's content hash, in the order imported.
pub fn content_hashes(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT content_hash FROM photos ORDER BY id")?;
    let hashes = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(hashes)
}

/// The photos stored but not analysed yet (an import stopped between the two), in order.
pub fn unanalysed(conn: &Connection) -> Result<Vec<PhotoId>> {
    let mut stmt = conn.prepare("SELECT id FROM photos WHERE analysed_at IS NULL ORDER BY id")?;
    let ids = stmt
        .query_map([], |r| Ok(PhotoId(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

/// What the analysis of a photo's file found, as recorded on its row.
#[derive(Debug, Clone, Default)]
pub struct Analysed {
    pub taken_at: Option<Timestamp>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub camera_serial: Option<String>,
    pub orientation: Option<u16>,
    pub gps_present: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Where it came from (C7).
    pub provenance: Provenance,
    /// The custody session it was taken in, when the photo has none yet.
    pub custody_session: Option<i64>,
    /// Problems found in the file, added to any damage already noted.
    pub problems: Option<String>,
}

/// Records the analysis of a photo's file on its row and marks it analysed.
pub fn record_analysis(
    conn: &Connection,
    photo: PhotoId,
    found: &Analysed,
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE photos SET taken_at = ?2, camera_make = ?3, camera_model = ?4, camera_serial = ?5, \
         orientation = ?6, gps_present = ?7, width = ?8, height = ?9, provenance = ?10, \
         custody_session_id = coalesce(custody_session_id, ?11), \
         damage = CASE WHEN ?12 IS NULL THEN damage ELSE coalesce(damage || '; ', '') || ?12 END, \
         analysed_at = ?13 WHERE id = ?1",
        params![
            photo.0,
            found.taken_at,
            found.camera_make,
            found.camera_model,
            found.camera_serial,
            found.orientation,
            found.gps_present,
            found.width,
            found.height,
            found.provenance,
            found.custody_session,
            found.problems,
            now,
        ],
    )?;
    Ok(())
}

/// Records whether faces were looked for.
pub fn set_face_search(conn: &Connection, photo: PhotoId, search: FaceSearch) -> Result<()> {
    conn.execute(
        "UPDATE photos SET face_detection = ?2 WHERE id = ?1",
        params![photo.0, search],
    )?;
    Ok(())
}

/// A director acknowledges that a photo's faces were not looked for (C12).
pub fn acknowledge_faces(
    conn: &Connection,
    photo: PhotoId,
    by: AccountId,
    note: &str,
) -> Result<()> {
    if note.trim().is_empty() {
        return Err(StoreError::Invalid(
            "acknowledging that the faces were not looked for needs a note saying why".into(),
        ));
    }
    let stored = self::photo(conn, photo)?;
    match stored.face_search {
        FaceSearch::Done => {
            return Err(StoreError::Conflict(
                "the face detector has run on this photo: there is nothing to acknowledge".into(),
            ));
        }
        FaceSearch::Redo => {
            return Err(StoreError::Conflict(
                "this photo's face boxes are known to be wrong: run the face detector again \
                 (consentcam detect-faces) instead"
                    .into(),
            ));
        }
        FaceSearch::NotYet | FaceSearch::Skipped | FaceSearch::Failed => {}
    }
    if stored.faces_acknowledged {
        return Err(StoreError::Conflict(
            "a director already acknowledged this photo's faces; that note stays".into(),
        ));
    }
    conn.execute(
        "UPDATE photos SET faces_ack_by = ?2, faces_ack_note = ?3 WHERE id = ?1",
        params![photo.0, by.0, note.trim()],
    )?;
    Ok(())
}

pub fn set_caption(conn: &Connection, photo: PhotoId, caption: &str, now: Timestamp) -> Result<()> {
    if caption.chars().count() > 2000 {
        return Err(StoreError::Invalid(
            "a caption is at most 2000 characters".into(),
        ));
    }
    let changed = conn.execute(
        "UPDATE photos SET caption = ?2 WHERE id = ?1",
        params![photo.0, caption.trim()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "photo",
            id: photo.0,
        });
    }
    void_approvals(conn, photo, "caption changed", now)?;
    Ok(())
}

pub fn set_people_confirmed(conn: &Connection, photo: PhotoId, confirmed: bool) -> Result<()> {
    let changed = conn.execute(
        "UPDATE photos SET people_confirmed = ?2 WHERE id = ?1",
        params![photo.0, confirmed],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "photo",
            id: photo.0,
        });
    }
    Ok(())
}

pub fn acknowledge_provenance(
    conn: &Connection,
    photo: PhotoId,
    by: AccountId,
    note: &str,
) -> Result<()> {
    if note.trim().is_empty() {
        return Err(StoreError::Invalid(
            "acknowledging a provenance warning needs a note saying why".into(),
        ));
    }
    let changed = conn.execute(
        "UPDATE photos SET provenance_ack_by = ?2, provenance_ack_note = ?3 WHERE id = ?1",
        params![photo.0, by.0, note.trim()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "photo",
            id: photo.0,
        });
    }
    Ok(())
}

/// Everything the consent rules need about a photo: its facts and the facts of everyone
/// tagged in it.
pub fn facts(conn: &Connection, id: PhotoId) -> Result<(PhotoFacts, Vec<PersonFacts>)> {
    let photo = photo(conn, id)?;
    let faces = faces(conn, id)?;
    let tags = tags(conn, id)?;
    let tagged: Vec<PersonId> = tags.iter().filter_map(|t| t.person_id).collect();
    let covered: Vec<PersonId> = tags
        .iter()
        .filter(|t| t.covered)
        .filter_map(|t| t.person_id)
        .collect();
    let unknown_people = tags.iter().filter(|t| t.person_id.is_none()).count();
    let fingerprint = consent::fingerprint(
        &photo.content_hash,
        &tagged,
        unknown_people,
        &covered,
        &photo.caption,
    );
    let approvals = approvals(conn, id)?
        .into_iter()
        .filter(|a| a.voided_at.is_none())
        .map(|a| ApprovalFacts {
            channel: a.channel,
            fingerprint: a.fingerprint,
            approved: a.approved,
        })
        .collect();
    let people = tagged
        .iter()
        .map(|&p| people::facts(conn, p))
        .collect::<Result<Vec<_>>>()?;
    Ok((
        PhotoFacts {
            tagged,
            unknown_people,
            faces: faces.iter().map(|f| f.resolution).collect(),
            people_confirmed: photo.people_confirmed,
            caption: photo.caption.clone(),
            provenance: photo.provenance,
            provenance_acknowledged: photo.provenance_acknowledged,
            media: photo.media_state(),
            fingerprint,
            approvals,
            covered,
            face_search: photo.face_search,
            face_search_acknowledged: photo.faces_acknowledged,
        },
        people,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountRole;
    use crate::domain::Channel;
    use crate::store::approvals::record_approval;
    use crate::store::faces::{FaceRect, FaceSource, add_tag, insert_face};
    use crate::store::publications::insert_publication;
    use crate::store::{open_in_memory, registry};

    fn now() -> Timestamp {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_status_in_sql_follows_a_photo_through_its_life() {
        let conn = open_in_memory().unwrap();
        let director =
            registry::insert_account(&conn, "director", "h", AccountRole::Director, None, now())
                .unwrap();
        let mut n = 0;
        let mut photo = |adjust: &dyn Fn(&mut NewPhoto)| {
            n += 1;
            let mut new = NewPhoto {
                content_hash: format!("{n:064x}"),
                byte_size: 1,
                format: Format::Jpeg,
                original_name: "IMG.JPG".into(),
                provenance: Provenance::Verified,
                face_search: FaceSearch::Done,
                ..NewPhoto::default()
            };
            adjust(&mut new);
            insert_photo(&conn, &new, now()).unwrap()
        };
        let damaged = photo(&|p| p.damage = Some("truncated".into()));
        let heic = photo(&|p| p.format = Format::Heic);
        let unconfirmed = photo(&|_| {});
        let unresolved = photo(&|_| {});
        let unknown = photo(&|_| {});
        let published = photo(&|_| {});
        let approved = photo(&|_| {});
        let voided = photo(&|_| {});
        let ready = photo(&|_| {});
        for id in [unresolved, unknown, published, approved, voided, ready] {
            set_people_confirmed(&conn, id, true).unwrap();
        }
        let rect = FaceRect {
            x: 1,
            y: 1,
            w: 10,
            h: 10,
        };
        insert_face(&conn, unresolved, rect, FaceSource::Detected).unwrap();
        add_tag(&conn, unknown, None, now()).unwrap();
        let decision = consent::Decision {
            channel: Channel::Internal,
            on: "2026-11-25".parse().unwrap(),
            verdict: consent::Verdict::Allowed,
            reasons: vec![],
        };
        insert_publication(
            &conn,
            published,
            Channel::Internal,
            "x.jpg",
            None,
            &decision,
            now(),
        )
        .unwrap();
        for id in [approved, voided] {
            let approval = crate::store::approvals::NewApproval {
                photo: id,
                channel: Channel::Internal,
                fingerprint: "f",
                approved: true,
                note: "",
                director,
            };
            record_approval(&conn, &approval, now()).unwrap();
        }
        void_approvals(&conn, voided, "tags changed", now()).unwrap();
        let cases = [
            (damaged, PhotoStatus::Blocked),
            (heic, PhotoStatus::Blocked),
            (unconfirmed, PhotoStatus::NeedsTagging),
            (unresolved, PhotoStatus::NeedsTagging),
            (unknown, PhotoStatus::Blocked),
            (published, PhotoStatus::Published),
            (approved, PhotoStatus::Approved),
            (voided, PhotoStatus::Ready),
            (ready, PhotoStatus::Ready),
        ];
        for (id, want) in cases {
            assert_eq!(status(&conn, id).unwrap(), want, "photo {id}");
        }
        // The gallery computes the same for a whole page, and filters by it.
        let page = gallery(
            &conn,
            &GalleryPage {
                session: None,
                status: None,
                after: None,
                newest_first: false,
                limit: 100,
                site: None,
            },
        )
        .unwrap();
        let statuses: Vec<_> = page.iter().map(|r| (r.photo.id, r.status)).collect();
        assert_eq!(statuses, cases);
        let blocked = gallery(
            &conn,
            &GalleryPage {
                session: None,
                status: Some(PhotoStatus::Blocked),
                after: Some(heic),
                newest_first: false,
                limit: 100,
                site: None,
            },
        )
        .unwrap();
        assert_eq!(
            blocked.iter().map(|r| r.photo.id).collect::<Vec<_>>(),
            [unknown]
        );
    }
}
