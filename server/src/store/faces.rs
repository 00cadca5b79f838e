//! Faces (found or drawn) and tags: who is in a photo, and who is covered.

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::approvals::void_approvals;
use super::people;
use super::{Result, StoreError, found};
use crate::domain::{PersonId, PhotoId};
use crate::rules::consent::FaceResolution;
pub use crate::rules::faces::FaceRect;
use crate::rules::faces::found_again;

/// A face: found by the detector, or drawn by staff around one it missed. The box is in
/// pixels of the upright picture at full size (as people see it), the one coordinate
/// space of face boxes everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Face {
    pub id: i64,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub resolution: FaceResolution,
    pub source: FaceSource,
}

/// Where a face box came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceSource {
    Detected,
    Drawn,
}

impl FaceSource {
    fn code(self) -> &'static str {
        match self {
            FaceSource::Detected => "detected",
            FaceSource::Drawn => "drawn",
        }
    }
}

/// A tag: a person in the photo, or an unknown one (`person_id` None).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub id: i64,
    pub person_id: Option<PersonId>,
    pub covered: bool,
}

/// How many faces the detector found in a photo (an analysis run again adds none).
pub fn detected_faces(conn: &Connection, photo: PhotoId) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM faces WHERE photo_id = ?1 AND source = 'detected'",
        [photo.0],
        |r| r.get(0),
    )?)
}

pub fn insert_face(
    conn: &Connection,
    photo: PhotoId,
    rect: FaceRect,
    source: FaceSource,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO faces (photo_id, x, y, w, h, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![photo.0, rect.x, rect.y, rect.w, rect.h, source.code()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// How the detector's new boxes replaced the stored ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FacesReplaced {
    /// As many boxes as before, found in the same order by the same detector: each stored
    /// face got its new box and kept what staff said about it.
    MovedInPlace,
    /// Another number of faces: the old detected faces are gone (people assigned to them
    /// stay tagged), the new ones wait to be resolved.
    Replaced,
}

/// Puts the detector's boxes `rects` in place of the detected faces of `photo` (drawn
/// faces are kept) and voids its approvals if anything changed.
pub fn replace_detected_faces(
    conn: &Connection,
    photo: PhotoId,
    rects: &[FaceRect],
    now: Timestamp,
) -> Result<FacesReplaced> {
    // In the order they were found, the order the detector gives its boxes in.
    let old: Vec<Face> = faces_by_id(conn, photo)?
        .into_iter()
        .filter(|f| f.source == FaceSource::Detected)
        .collect();
    if old.len() == rects.len() {
        for (face, rect) in old.iter().zip(rects) {
            conn.execute(
                "UPDATE faces SET x = ?2, y = ?3, w = ?4, h = ?5 WHERE id = ?1",
                params![face.id, rect.x, rect.y, rect.w, rect.h],
            )?;
        }
        if !old.is_empty() {
            void_approvals(conn, photo, "face boxes found again", now)?;
        }
        return Ok(FacesReplaced::MovedInPlace);
    }
    for face in &old {
        conn.execute("DELETE FROM faces WHERE id = ?1", [face.id])?;
    }
    for &rect in rects {
        insert_face(conn, photo, rect, FaceSource::Detected)?;
    }
    void_approvals(conn, photo, "face boxes found again", now)?;
    Ok(FacesReplaced::Replaced)
}

impl Face {
    fn rect(&self) -> FaceRect {
        FaceRect {
            x: self.x,
            y: self.y,
            w: self.w,
            h: self.h,
        }
    }
}

/// What [`merge_detected_faces`] did to one photo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FacesMerged {
    /// Boxes the search gave.
    pub found: usize,
    /// Of them, faces already stored (what staff said about each is kept).
    pub found_again: usize,
    /// Of them, faces nobody had seen: added, waiting to be resolved.
    pub added: usize,
    /// Stored faces the search did not find again: kept as they are.
    pub not_found_again: usize,
}

/// Adds the faces in `rects` that `photo` does not have yet (matched by overlap, see
/// [`found_again`]) as unresolved detected faces. A stored face found again keeps what
/// staff said about it; a detected one takes the new, tighter box, a drawn one keeps the
/// box staff drew. Stored faces not found again are kept: a face once seen is never
/// dropped by a search. Voids the photo's approvals when anything changed.
pub fn merge_detected_faces(
    conn: &Connection,
    photo: PhotoId,
    rects: &[FaceRect],
    now: Timestamp,
) -> Result<FacesMerged> {
    let stored = faces(conn, photo)?;
    let ids: Vec<(i64, FaceRect)> = stored.iter().map(|f| (f.id, f.rect())).collect();
    let matching = found_again(&ids, rects);
    let mut changed = false;
    for (id, rect) in &matching.again {
        let face = stored
            .iter()
            .find(|f| f.id == *id)
            .expect("matched from these");
        if face.source == FaceSource::Detected && face.rect() != *rect {
            conn.execute(
                "UPDATE faces SET x = ?2, y = ?3, w = ?4, h = ?5 WHERE id = ?1",
                params![id, rect.x, rect.y, rect.w, rect.h],
            )?;
            changed = true;
        }
    }
    for &rect in &matching.new {
        insert_face(conn, photo, rect, FaceSource::Detected)?;
        changed = true;
    }
    if changed {
        void_approvals(conn, photo, "face boxes found again", now)?;
    }
    Ok(FacesMerged {
        found: rects.len(),
        found_again: matching.again.len(),
        added: matching.new.len(),
        not_found_again: stored.len() - matching.again.len(),
    })
}

/// Photos whose faces were searched for (or the search failed), for a search with a new
/// detector: every analysed photo but those still waiting for their first search.
pub fn photos_searched_before(conn: &Connection) -> Result<Vec<PhotoId>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM photos WHERE face_detection IN ('done', 'failed') \
         AND analysed_at IS NOT NULL ORDER BY id",
    )?;
    let ids = stmt
        .query_map([], |r| Ok(PhotoId(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

/// Photos whose faces must still be looked for: analysed without detection, or whose
/// stored boxes are known to be wrong.
pub fn photos_needing_detection(conn: &Connection) -> Result<Vec<PhotoId>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM photos WHERE face_detection IN ('skipped', 'redo') \
         AND analysed_at IS NOT NULL ORDER BY id",
    )?;
    let ids = stmt
        .query_map([], |r| Ok(PhotoId(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

/// The faces of `photo` in reading order (see [`reading_order`]): the order they are
/// numbered in wherever staff see them ("Face 3" is the third one reading the photo).
pub fn faces(conn: &Connection, photo: PhotoId) -> Result<Vec<Face>> {
    let by_id = faces_by_id(conn, photo)?;
    let rects: Vec<FaceRect> = by_id.iter().map(Face::rect).collect();
    Ok(crate::rules::faces::reading_order(&rects)
        .into_iter()
        .map(|i| by_id[i].clone())
        .collect())
}

/// The faces of `photo` in the order they were stored.
fn faces_by_id(conn: &Connection, photo: PhotoId) -> Result<Vec<Face>> {
    let mut stmt = conn.prepare(
        "SELECT id, x, y, w, h, state, person_id, source FROM faces WHERE photo_id = ?1 \
         ORDER BY id",
    )?;
    let rows = stmt
        .query_map([photo.0], |r| {
            let state: String = r.get(5)?;
            let person: Option<i64> = r.get(6)?;
            Ok(Face {
                id: r.get(0)?,
                x: r.get(1)?,
                y: r.get(2)?,
                w: r.get(3)?,
                h: r.get(4)?,
                resolution: match (state.as_str(), person) {
                    ("person", Some(p)) => FaceResolution::Person(PersonId(p)),
                    ("dismissed", _) => FaceResolution::Dismissed,
                    _ => FaceResolution::Unresolved,
                },
                source: if r.get::<_, String>(7)? == "drawn" {
                    FaceSource::Drawn
                } else {
                    FaceSource::Detected
                },
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn tags(conn: &Connection, photo: PhotoId) -> Result<Vec<Tag>> {
    let mut stmt =
        conn.prepare("SELECT id, person_id, covered FROM tags WHERE photo_id = ?1 ORDER BY id")?;
    let rows = stmt
        .query_map([photo.0], |r| {
            Ok(Tag {
                id: r.get(0)?,
                person_id: r.get::<_, Option<i64>>(1)?.map(PersonId),
                covered: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The person may be tagged in the photo: living, and of the photo's site when both
/// belong to one (another site's person does not exist for its photos).
fn ensure_person(conn: &Connection, photo: PhotoId, person: PersonId) -> Result<()> {
    people::living(conn, person)?;
    let photo_site = super::sites::site_of(conn, super::sites::Kind::Photo, photo.0)?.flatten();
    let person_site = super::sites::site_of(conn, super::sites::Kind::Person, person.0)?.flatten();
    if let (Some(a), Some(b)) = (photo_site, person_site)
        && a != b
    {
        return Err(StoreError::NotFound {
            what: "person",
            id: person.0,
        });
    }
    Ok(())
}

fn tidy_face_tag(conn: &Connection, photo: PhotoId, person: PersonId) -> Result<()> {
    let still: i64 = conn.query_row(
        "SELECT count(*) FROM faces WHERE photo_id = ?1 AND person_id = ?2",
        params![photo.0, person.0],
        |r| r.get(0),
    )?;
    if still == 0 {
        conn.execute(
            "DELETE FROM tags WHERE photo_id = ?1 AND person_id = ?2",
            params![photo.0, person.0],
        )?;
    }
    Ok(())
}

/// Assigns a face to a person, dismisses it, or puts it back to unresolved.
pub fn resolve_face(
    conn: &Connection,
    photo: PhotoId,
    face: i64,
    resolution: FaceResolution,
    now: Timestamp,
) -> Result<()> {
    let previous: Option<i64> = found(
        conn.query_row(
            "SELECT person_id FROM faces WHERE id = ?1 AND photo_id = ?2",
            params![face, photo.0],
            |r| r.get(0),
        ),
        "face",
        face,
    )?;
    let (state, person) = match resolution {
        FaceResolution::Unresolved => ("unresolved", None),
        FaceResolution::Dismissed => ("dismissed", None),
        FaceResolution::Person(p) => {
            ensure_person(conn, photo, p)?;
            ("person", Some(p.0))
        }
    };
    conn.execute(
        "UPDATE faces SET state = ?2, person_id = ?3 WHERE id = ?1",
        params![face, state, person],
    )?;
    if let Some(p) = person {
        conn.execute(
            "INSERT OR IGNORE INTO tags (photo_id, person_id) VALUES (?1, ?2)",
            params![photo.0, p],
        )?;
    }
    if let Some(prev) = previous.filter(|p| Some(*p) != person) {
        tidy_face_tag(conn, photo, PersonId(prev))?;
    }
    void_approvals(conn, photo, "tags changed", now)?;
    Ok(())
}

/// Tags a person the detector missed, or (None) someone not on the register.
pub fn add_tag(
    conn: &Connection,
    photo: PhotoId,
    person: Option<PersonId>,
    now: Timestamp,
) -> Result<i64> {
    found(
        conn.query_row("SELECT 1 FROM photos WHERE id = ?1", [photo.0], |_| Ok(())),
        "photo",
        photo.0,
    )?;
    if let Some(p) = person {
        ensure_person(conn, photo, p)?;
    }
    conn.execute(
        "INSERT INTO tags (photo_id, person_id) VALUES (?1, ?2)",
        params![photo.0, person.map(|p| p.0)],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict("that person is already tagged in this photo".into())
        }
        e => e.into(),
    })?;
    let id = conn.last_insert_rowid();
    void_approvals(conn, photo, "tags changed", now)?;
    Ok(id)
}

/// Removes a tag; faces assigned to that person go back to unresolved.
pub fn remove_tag(conn: &Connection, photo: PhotoId, tag: i64, now: Timestamp) -> Result<()> {
    let person: Option<i64> = found(
        conn.query_row(
            "SELECT person_id FROM tags WHERE id = ?1 AND photo_id = ?2",
            params![tag, photo.0],
            |r| r.get(0),
        ),
        "tag",
        tag,
    )?;
    conn.execute("DELETE FROM tags WHERE id = ?1", [tag])?;
    if let Some(p) = person {
        conn.execute(
            "UPDATE faces SET state = 'unresolved', person_id = NULL WHERE photo_id = ?1 AND person_id = ?2",
            params![photo.0, p],
        )?;
    }
    void_approvals(conn, photo, "tags changed", now)?;
    Ok(())
}

/// Marks whether a tagged person's face is covered in published copies.
pub fn set_covered(
    conn: &Connection,
    photo: PhotoId,
    tag: i64,
    covered: bool,
    now: Timestamp,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE tags SET covered = ?3 WHERE id = ?1 AND photo_id = ?2 AND person_id IS NOT NULL",
        params![tag, photo.0, covered],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "tag",
            id: tag,
        });
    }
    void_approvals(conn, photo, "tags changed", now)?;
    Ok(())
}

/// Everyone tagged in any photo of an import (a sign-out's), once each.
pub fn people_tagged_in_session(conn: &Connection, session: i64) -> Result<Vec<PersonId>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT t.person_id FROM tags t JOIN photos p ON p.id = t.photo_id \
         WHERE p.custody_session_id = ?1 AND t.person_id IS NOT NULL ORDER BY t.person_id",
    )?;
    let rows = stmt
        .query_map([session], |r| Ok(PersonId(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Unresolved faces in an import's photos (a sign-out's; `None`: photos without one)
/// whose box is smaller than `min_px` on its shorter side: too small for anyone to be
/// recognised.
pub fn small_unresolved_faces(
    conn: &Connection,
    session: Option<i64>,
    min_px: u32,
) -> Result<Vec<(PhotoId, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT f.photo_id, f.id FROM faces f JOIN photos p ON p.id = f.photo_id \
         WHERE p.custody_session_id IS ?1 AND f.state = 'unresolved' AND min(f.w, f.h) < ?2 \
         ORDER BY f.photo_id, f.id",
    )?;
    let rows = stmt
        .query_map(params![session, min_px], |r| {
            Ok((PhotoId(r.get(0)?), r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The tags of `people` in an import's photos that are not covered yet.
pub fn uncovered_tags_of(
    conn: &Connection,
    session: Option<i64>,
    people: &[PersonId],
) -> Result<Vec<(PhotoId, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT t.photo_id, t.id FROM tags t JOIN photos p ON p.id = t.photo_id \
         WHERE p.custody_session_id IS ?1 AND t.person_id = ?2 AND t.covered = 0 \
         ORDER BY t.photo_id, t.id",
    )?;
    let mut rows = Vec::new();
    for person in people {
        for row in stmt.query_map(params![session, person.0], |r| {
            Ok((PhotoId(r.get(0)?), r.get(1)?))
        })? {
            rows.push(row?);
        }
    }
    Ok(rows)
}
