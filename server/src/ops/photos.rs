//! Tagging a photo: faces, tags, covers, caption, "everyone is tagged", the provenance
//! acknowledgement and requests for publication. Each change voids the approvals it
//! affects (the store does it with the change) and is audited with ids only.

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::json;

use super::{audited, log};
use crate::domain::{AccountId, Channel, PersonId, PhotoId};
use crate::rules::consent::FaceResolution;
use crate::store::approvals;
use crate::store::audit::Action;
use crate::store::faces;
use crate::store::{Result, StoreError, photos, requests};

/// Assigns a face to a person, dismisses it, or puts it back to unresolved.
pub fn resolve_face(
    conn: &mut Connection,
    photo: PhotoId,
    face: i64,
    resolution: FaceResolution,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::PhotoFace, now, |tx| {
        faces::resolve_face(tx, photo, face, resolution, now)?;
        let details = json!({ "face": face, "resolution": resolution });
        Ok(((), format!("photo:{photo}"), details))
    })
}

/// Tags a person the detector missed, or (None) someone not on the register. Returns
/// the tag's id.
pub fn add_tag(
    conn: &mut Connection,
    photo: PhotoId,
    person: Option<PersonId>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    audited(conn, actor, Action::PhotoTag, now, |tx| {
        let tag = faces::add_tag(tx, photo, person, now)?;
        let details = json!({ "tag": tag, "person": person });
        Ok((tag, format!("photo:{photo}"), details))
    })
}

/// Removes a tag (faces assigned to that person go back to unresolved).
pub fn remove_tag(
    conn: &mut Connection,
    photo: PhotoId,
    tag: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::PhotoUntag, now, |tx| {
        faces::remove_tag(tx, photo, tag, now)?;
        Ok(((), format!("photo:{photo}"), json!({ "tag": tag })))
    })
}

/// Marks whether a tagged person's face is covered in published copies.
pub fn set_covered(
    conn: &mut Connection,
    photo: PhotoId,
    tag: i64,
    covered: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::PhotoCover, now, |tx| {
        faces::set_covered(tx, photo, tag, covered, now)?;
        let details = json!({ "tag": tag, "covered": covered });
        Ok(((), format!("photo:{photo}"), details))
    })
}

/// Sets the caption (trimmed). The audit entry keeps its length, never its words.
pub fn set_caption(
    conn: &mut Connection,
    photo: PhotoId,
    caption: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let caption = caption.trim();
    audited(conn, actor, Action::PhotoCaption, now, |tx| {
        photos::set_caption(tx, photo, caption, now)?;
        let details = json!({ "length": caption.chars().count() });
        Ok(((), format!("photo:{photo}"), details))
    })
}

/// Staff say everyone in the photo is tagged (or take it back).
pub fn set_people_confirmed(
    conn: &mut Connection,
    photo: PhotoId,
    confirmed: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::PhotoConfirmPeople, now, |tx| {
        photos::set_people_confirmed(tx, photo, confirmed)?;
        let details = json!({ "confirmed": confirmed });
        Ok(((), format!("photo:{photo}"), details))
    })
}

/// A director acknowledges a provenance warning with a note.
pub fn acknowledge_provenance(
    conn: &mut Connection,
    photo: PhotoId,
    director: AccountId,
    note: &str,
    now: Timestamp,
) -> Result<()> {
    let actor = format!("account:{director}");
    audited(conn, &actor, Action::PhotoProvenanceAck, now, |tx| {
        photos::acknowledge_provenance(tx, photo, director, note)?;
        Ok(((), format!("photo:{photo}"), json!({})))
    })
}

/// Staff ask for a photo to be published to a channel: the request waits in the
/// director's queue. Returns the request's id.
pub fn request_publication(
    conn: &mut Connection,
    photo: PhotoId,
    channel: Channel,
    by: AccountId,
    now: Timestamp,
) -> Result<i64> {
    let actor = format!("account:{by}");
    audited(conn, &actor, Action::PhotoRequestPublication, now, |tx| {
        let request = requests::insert(tx, photo, channel, by, now)?;
        let details = json!({ "request": request, "channel": channel.code() });
        Ok((request, format!("photo:{photo}"), details))
    })
}

/// Staff draw a box around a face the detector missed (C13: a cover needs a box to
/// paint), optionally assigning it to a person at once. `rect` is in pixels of the upright
/// picture; it must lie inside it and be big enough to hold a face.
pub fn draw_face(
    conn: &mut Connection,
    photo: PhotoId,
    rect: faces::FaceRect,
    person: Option<PersonId>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    const SMALLEST: u32 = 4;
    let tx = conn.transaction()?;
    let stored = photos::photo(&tx, photo)?;
    let (Some(w), Some(h)) = (stored.width, stored.height) else {
        return Err(StoreError::Conflict(
            "this photo's size is not known (it could not be analysed), so no box can be drawn \
             on it"
                .into(),
        ));
    };
    let (width, height) = crate::domain::upright_size(w, h, stored.orientation);
    if rect.w < SMALLEST || rect.h < SMALLEST {
        return Err(StoreError::Invalid(format!(
            "a face box must be at least {SMALLEST} x {SMALLEST} pixels"
        )));
    }
    if rect.x.saturating_add(rect.w) > width || rect.y.saturating_add(rect.h) > height {
        return Err(StoreError::Invalid(format!(
            "the box must lie inside the picture ({width} x {height} pixels)"
        )));
    }
    let face = faces::insert_face(&tx, photo, rect, faces::FaceSource::Drawn)?;
    if let Some(p) = person {
        faces::resolve_face(&tx, photo, face, FaceResolution::Person(p), now)?;
    } else {
        approvals::void_approvals(&tx, photo, "tags changed", now)?;
    }
    log(
        &tx,
        actor,
        Action::PhotoFaceDrawn,
        format!("photo:{photo}"),
        serde_json::json!({ "face": face, "person": person, "box": rect }),
        now,
    )?;
    tx.commit()?;
    Ok(face)
}

/// A director acknowledges, with a note, that a photo's faces were not looked for by the
/// detector (C12): someone looked at it and everyone in it is tagged.
pub fn acknowledge_faces(
    conn: &mut Connection,
    photo: PhotoId,
    director: AccountId,
    note: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    photos::acknowledge_faces(&tx, photo, director, note)?;
    log(
        &tx,
        &format!("account:{director}"),
        Action::PhotoFacesAck,
        format!("photo:{photo}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
}
