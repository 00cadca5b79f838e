//! Tagging a photo: faces, tags, covers, caption, "everyone is tagged", the provenance
//! acknowledgement and requests for publication. Each change voids the approvals it
//! affects (the store does it with the change) and is audited with ids only.

use jiff::Timestamp;
use rusqlite::Connection;

use crate::consent::FaceResolution;
use crate::domain::{AccountId, Channel, PersonId, PhotoId};
use crate::records::log;
use crate::store::audit::Action;
use crate::store::{Result, photos, requests};

/// Assigns a face to a person, dismisses it, or puts it back to unresolved.
pub fn resolve_face(
    conn: &mut Connection,
    photo: PhotoId,
    face: i64,
    resolution: FaceResolution,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    photos::resolve_face(&tx, photo, face, resolution, now)?;
    log(
        &tx,
        actor,
        Action::PhotoFace,
        format!("photo:{photo}"),
        serde_json::json!({ "face": face, "resolution": resolution }),
        now,
    )?;
    tx.commit()?;
    Ok(())
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
    let tx = conn.transaction()?;
    let tag = photos::add_tag(&tx, photo, person, now)?;
    log(
        &tx,
        actor,
        Action::PhotoTag,
        format!("photo:{photo}"),
        serde_json::json!({ "tag": tag, "person": person }),
        now,
    )?;
    tx.commit()?;
    Ok(tag)
}

/// Removes a tag (faces assigned to that person go back to unresolved).
pub fn remove_tag(
    conn: &mut Connection,
    photo: PhotoId,
    tag: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    photos::remove_tag(&tx, photo, tag, now)?;
    log(
        &tx,
        actor,
        Action::PhotoUntag,
        format!("photo:{photo}"),
        serde_json::json!({ "tag": tag }),
        now,
    )?;
    tx.commit()?;
    Ok(())
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
    let tx = conn.transaction()?;
    photos::set_covered(&tx, photo, tag, covered, now)?;
    log(
        &tx,
        actor,
        Action::PhotoCover,
        format!("photo:{photo}"),
        serde_json::json!({ "tag": tag, "covered": covered }),
        now,
    )?;
    tx.commit()?;
    Ok(())
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
    let tx = conn.transaction()?;
    photos::set_caption(&tx, photo, caption, now)?;
    log(
        &tx,
        actor,
        Action::PhotoCaption,
        format!("photo:{photo}"),
        serde_json::json!({ "length": caption.chars().count() }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// Staff say everyone in the photo is tagged (or take it back).
pub fn set_people_confirmed(
    conn: &mut Connection,
    photo: PhotoId,
    confirmed: bool,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    photos::set_people_confirmed(&tx, photo, confirmed)?;
    log(
        &tx,
        actor,
        Action::PhotoConfirmPeople,
        format!("photo:{photo}"),
        serde_json::json!({ "confirmed": confirmed }),
        now,
    )?;
    tx.commit()?;
    Ok(())
}

/// A director acknowledges a provenance warning with a note.
pub fn acknowledge_provenance(
    conn: &mut Connection,
    photo: PhotoId,
    director: AccountId,
    note: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    photos::acknowledge_provenance(&tx, photo, director, note)?;
    log(
        &tx,
        &format!("account:{director}"),
        Action::PhotoProvenanceAck,
        format!("photo:{photo}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(())
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
    let tx = conn.transaction()?;
    let request = requests::insert(&tx, photo, channel, by, now)?;
    log(
        &tx,
        &format!("account:{by}"),
        Action::PhotoRequestPublication,
        format!("photo:{photo}"),
        serde_json::json!({ "request": request, "channel": channel.code() }),
        now,
    )?;
    tx.commit()?;
    Ok(request)
}
