//! Publication: the decision taken again at the last moment (C10), a scrubbed copy with an
//! opaque name, delivered whole or not at all to the channel's outbox, and recorded.
//!
//! Owns the outbox layout and the order of the steps; the scrubbing itself is
//! `consentcam_scrub`, the rules are `consent`. A publish that fails half-way leaves no
//! file in the outbox and no row in the register.

pub mod forward;
pub mod outbox;
pub mod wordpress;

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;

use crate::domain::{AccountId, Channel, Format, PhotoId};
use crate::infra::archive::Archive;
use crate::ops::decisions;
use crate::rules::consent::{ConsentPolicy, Decision, FaceResolution, Verdict};
use crate::store::audit::Action;
use crate::store::audit::{self, Entry};
use crate::store::faces;
use crate::store::publications;
use crate::store::{StoreError, photos};
pub use outbox::Outbox;

/// The stored original of `content_hash`, read whole from the archive.
///
/// # Errors
/// [`PublishError::Original`] if it is missing or unreadable; the storage's own failure
/// as [`StoreError::Unavailable`].
pub fn read_original(archive: &Archive, content_hash: &str) -> Result<Vec<u8>, PublishError> {
    let key = Archive::original_key(content_hash);
    match archive.read(&key) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(PublishError::Original(key, "it is not there".into())),
        // The storage failed or is out of reach (a bucket away): try again later; the
        // original itself is not known to be missing.
        Err(e @ StoreError::Unavailable(_)) => Err(PublishError::Store(e)),
        Err(e) => Err(PublishError::Original(key, e.to_string())),
    }
}

/// The outbox under `data_dir`.
pub fn outbox(data_dir: &Path) -> Outbox {
    Outbox::new(data_dir.join("outbox"))
}

/// The outbox of a configuration: its folders (or the archive's object storage), and
/// the channels' web endpoints.
pub fn configured_outbox(config: &crate::infra::config::Config, archive: &Archive) -> Outbox {
    let mut outbox = outbox(&config.data_dir);
    if let Some(remote) = archive.remote() {
        outbox = outbox.in_bucket(remote.clone());
    }
    config
        .deliver
        .iter()
        .filter_map(|(code, endpoint)| Some((code.parse::<Channel>().ok()?, endpoint)))
        .fold(outbox, |outbox, (channel, endpoint)| {
            outbox.with_endpoint(channel, endpoint.url.clone(), endpoint.kind)
        })
}

/// How the published copy is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// Downscale so the long edge is at most this (re-encodes); `None` keeps the size and
    /// the image data byte for byte.
    pub max_long_edge: Option<u32>,
    /// The decoders' sandbox, for a HEIF original (the config's `[sandbox]`).
    pub sandbox: crate::infra::config::SandboxSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the photo may not go to {channel}: {}", summary(.decision))]
    Refused {
        channel: Channel,
        decision: Box<Decision>,
    },
    #[error("the stored original {0} cannot be read: {1}")]
    Original(String, String),
    #[error("the scrubber refused the photo: {0}")]
    Scrub(#[from] consentcam_scrub::ScrubError),
    #[error("the stored original could not be decoded: {0}")]
    Decode(consentcam_media::Problem),
    #[error("a {} file is not a still photo and cannot be published", .0.as_str())]
    NotAStill(Format),
    #[error("could not write to the outbox: {0}")]
    Outbox(#[source] std::io::Error),
    #[error(
        "{count} covered face(s) did not come out black in the published pixels; nothing was \
         published"
    )]
    CoverNotPainted { count: usize },
    #[error(
        "the photo's tags, covers or caption changed while it was being prepared; nothing was \
         published: try again"
    )]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn summary(decision: &Decision) -> String {
    decision
        .problems()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl From<rusqlite::Error> for PublishError {
    fn from(e: rusqlite::Error) -> Self {
        PublishError::Store(e.into())
    }
}

/// What a publication produced.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub publication_id: i64,
    pub opaque_name: String,
    /// Where the copy is: a path, or an `s3://` address.
    #[serde(skip)]
    pub location: String,
    pub decision: Decision,
}

/// The manifest delivered beside each photo: no names, no ids that lead back to people.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest<'a> {
    pub file: &'a str,
    pub channel: String,
    pub published_at: String,
    /// Checked by rule C8: it names nobody.
    pub caption: &'a str,
    pub covered_faces: usize,
}

/// What the published file is made from: read before the heavy work, checked again in the
/// transaction that records the publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    fingerprint: String,
    covers: Vec<consentcam_scrub::Cover>,
    caption: String,
    /// The stored picture's size, which covers are measured in.
    size: (u32, u32),
    /// A JPEG is scrubbed; a PNG or HEIC is decoded and encoded afresh.
    format: Format,
    /// The EXIF orientation of the stored grid (a PNG's is written into its new JPEG).
    orientation: Option<u16>,
}

/// The cover of a face box (pixels of the upright picture) in the photo's stored grid,
/// where the painter works.
pub(crate) fn stored_cover(photo: &photos::Photo, face: &faces::Face) -> consentcam_scrub::Cover {
    let upright = crate::rules::geometry::Rect {
        x: face.x,
        y: face.y,
        w: face.w,
        h: face.h,
    };
    let stored_box = crate::rules::geometry::upright_to_stored(
        upright,
        photo.orientation.unwrap_or(1),
        photo.width.unwrap_or(0),
        photo.height.unwrap_or(0),
    );
    consentcam_scrub::Cover {
        x: stored_box.x,
        y: stored_box.y,
        width: stored_box.w,
        height: stored_box.h,
    }
}

fn plan(conn: &Connection, photo: PhotoId) -> Result<Plan, PublishError> {
    let stored = photos::photo(conn, photo)?;
    let (facts, _) = photos::facts(conn, photo)?;
    let (width, height) = (stored.width.unwrap_or(0), stored.height.unwrap_or(0));
    let covers = faces::faces(conn, photo)?
        .iter()
        .filter(|f| matches!(f.resolution, FaceResolution::Person(p) if facts.covered.contains(&p)))
        .map(|f| stored_cover(&stored, f))
        .collect();
    Ok(Plan {
        fingerprint: facts.fingerprint,
        covers,
        caption: stored.caption,
        size: (width, height),
        format: stored.format,
        orientation: stored.orientation,
    })
}

fn refused(
    conn: &Connection,
    actor: &str,
    photo: PhotoId,
    decision: Decision,
    now: Timestamp,
) -> PublishError {
    let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
    let logged = audit::append(
        conn,
        &Entry {
            at: now,
            actor,
            action: Action::PhotoPublishRefused,
            subject: &format!("photo:{photo}"),
            details: serde_json::json!({ "channel": decision.channel.code(), "verdict": decision.verdict, "reasons": codes }),
        },
    );
    match logged {
        Ok(_) => PublishError::Refused {
            channel: decision.channel,
            decision: Box::new(decision),
        },
        Err(e) => e.into(),
    }
}

/// What [`prepare`] found: the photo may not go (the decision says why), or the plan of
/// the copy to make.
#[derive(Debug)]
pub enum Prepared {
    Refused(Box<Decision>),
    Ready(Plan),
}

/// The first step of a publication, reading only: decides (C10) and works out what the
/// copy is made from (covers, caption, fingerprint).
pub fn prepare(
    conn: &Connection,
    photo: PhotoId,
    channel: Channel,
    today: Date,
    policy: &ConsentPolicy,
) -> Result<Prepared, PublishError> {
    let first = decisions::decide_photo(conn, photo, channel, today, policy)?;
    if first.verdict != Verdict::Allowed {
        return Ok(Prepared::Refused(Box::new(first)));
    }
    Ok(Prepared::Ready(plan(conn, photo)?))
}

/// A clean JPEG of a stored original with `covers` painted (stored-grid pixels): a JPEG
/// is scrubbed (losslessly when nothing is painted and the size is kept), a PNG or HEIC
/// decoded and encoded afresh with only its stored orientation written (a PNG's EXIF one;
/// none for a HEIC, which decodes upright). Publication and subject access exports both
/// use it.
pub fn clean_copy(
    original: &[u8],
    format: Format,
    orientation: Option<u16>,
    covers: &[consentcam_scrub::Cover],
    reencode: &consentcam_scrub::Reencode,
    sandbox: &crate::infra::config::SandboxSettings,
) -> Result<consentcam_scrub::Scrubbed, PublishError> {
    match format {
        Format::Jpeg if covers.is_empty() && reencode.max_long_edge.is_none() => {
            Ok(consentcam_scrub::scrub(original)?)
        }
        Format::Jpeg => Ok(consentcam_scrub::cover_and_scrub(
            original, covers, reencode,
        )?),
        Format::Png | Format::Heic => {
            let decoders = crate::infra::decoders::of(sandbox);
            let pixels = consentcam_media::decode_still(original, &Default::default(), &decoders)
                .map_err(PublishError::Decode)?;
            let orientation = orientation
                .and_then(|o| u8::try_from(o).ok())
                .and_then(consentcam_scrub::Orientation::from_value);
            let pixels = consentcam_scrub::Pixels {
                width: pixels.width,
                height: pixels.height,
                rgb: pixels.pixels,
            };
            Ok(consentcam_scrub::cover_and_encode(
                pixels,
                orientation,
                covers,
                reencode,
            )?)
        }
        other => Err(PublishError::NotAStill(other)),
    }
}

/// The clean copy, written to the outbox under temporary names, not yet visible.
#[derive(Debug)]
pub struct Copy {
    opaque_name: String,
    staged: outbox::Staged,
    removed_segments: usize,
}

/// The second step, with no database at all (the slow one): reads the original, paints
/// the covers and checks them in the pixels (C13), scrubs, and stages the file and its
/// manifest in the channel's outbox folder.
pub fn make_copy(
    original: &[u8],
    outbox: &Outbox,
    photo: PhotoId,
    channel: Channel,
    planned: &Plan,
    options: &PublishOptions,
    now: Timestamp,
) -> Result<Copy, PublishError> {
    let reencode = consentcam_scrub::Reencode {
        max_long_edge: options.max_long_edge,
        ..Default::default()
    };
    let clean = clean_copy(
        original,
        planned.format,
        planned.orientation,
        &planned.covers,
        &reencode,
        &options.sandbox,
    )?;
    let (width, height) = planned.size;
    let uncovered = consentcam_scrub::uncovered(&clean.jpeg, &planned.covers, width, height)?;
    if !uncovered.is_empty() {
        tracing::error!(
            photo = photo.0,
            ?uncovered,
            "a cover is not black in the published pixels"
        );
        return Err(PublishError::CoverNotPainted {
            count: uncovered.len(),
        });
    }
    let opaque_name = format!("{}.jpg", &crate::infra::password::random_token()[..32]);
    let manifest = Manifest {
        file: &opaque_name,
        channel: channel.code(),
        published_at: now.to_string(),
        caption: &planned.caption,
        covered_faces: planned.covers.len(),
    };
    let manifest =
        serde_json::to_vec_pretty(&manifest).map_err(|e| PublishError::Outbox(e.into()))?;
    let staged = outbox
        .stage(channel, &opaque_name, &clean.jpeg, &manifest)
        .map_err(PublishError::Outbox)?;
    Ok(Copy {
        opaque_name,
        staged,
        removed_segments: clean.report.removed.len(),
    })
}

/// The last step, in one write-locking transaction kept short: decides again (C10; the
/// decision that counts), checks that nothing the copy was made from has changed, makes
/// the staged files visible and records the publication. Any error leaves no file in the
/// outbox and no row in the register; a refusal is audited.
pub fn record(
    conn: &mut Connection,
    copy: Copy,
    planned: &Plan,
    outbox: &Outbox,
    photo: PhotoId,
    channel: Channel,
    ctx: &crate::ops::Ctx,
) -> Result<Published, PublishError> {
    let (by, today, policy, now) = (ctx.by, ctx.today, &ctx.policy, ctx.now);
    let actor = actor_of(by);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let decision = decisions::decide_photo(&tx, photo, channel, today, policy)?;
    let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
    tracing::info!(photo = photo.0, channel = %channel, verdict = %decision.verdict, reasons = ?codes, "publication decision");
    if decision.verdict != Verdict::Allowed {
        drop(tx);
        return Err(refused(conn, &actor, photo, decision, now));
    }
    if plan(&tx, photo)? != *planned {
        return Err(PublishError::Changed);
    }
    let Copy {
        opaque_name,
        staged,
        removed_segments,
    } = copy;
    let delivery = staged.place().map_err(PublishError::Outbox)?;
    let recorded = (|| -> Result<i64, PublishError> {
        let id = publications::insert_publication(
            &tx,
            photo,
            channel,
            &opaque_name,
            by,
            &decision,
            now,
        )?;
        if let Some((url, kind)) = outbox.endpoint(channel) {
            crate::store::deliveries::insert(&tx, id, url, kind, now)?;
        }
        audit::append(
            &tx,
            &Entry {
                at: now,
                actor: &actor,
                action: Action::PhotoPublish,
                subject: &format!("photo:{photo}"),
                details: serde_json::json!({
                    "channel": channel.code(), "publication": id, "file": opaque_name,
                    "covered_faces": planned.covers.len(), "removed_segments": removed_segments,
                }),
            },
        )?;
        tx.commit()?;
        Ok(id)
    })();
    match recorded {
        Ok(publication_id) => Ok(Published {
            publication_id,
            location: delivery.location(),
            opaque_name,
            decision,
        }),
        Err(e) => {
            delivery.withdraw();
            Err(e)
        }
    }
}

/// Records (audits) a refusal found by [`prepare`], and gives the error to answer with.
pub fn record_refusal(
    conn: &Connection,
    by: Option<AccountId>,
    photo: PhotoId,
    decision: Decision,
    now: Timestamp,
) -> PublishError {
    refused(conn, &actor_of(by), photo, decision, now)
}

fn actor_of(by: Option<AccountId>) -> String {
    by.map_or("system".to_owned(), |a| format!("account:{a}"))
}

/// Publishes `photo` to `channel` on one connection: [`prepare`], [`make_copy`] and
/// [`record`] in turn (the server runs the first on a reading connection and the second
/// with no connection at all, so that no lock is held while a picture is decoded and
/// encoded). Any error leaves no file in the outbox and no row in the register.
pub fn publish(
    conn: &mut Connection,
    original: &[u8],
    outbox: &Outbox,
    photo: PhotoId,
    channel: Channel,
    options: &PublishOptions,
    ctx: &crate::ops::Ctx,
) -> Result<Published, PublishError> {
    let (by, today, policy, now) = (ctx.by, ctx.today, &ctx.policy, ctx.now);
    let planned = match prepare(conn, photo, channel, today, policy)? {
        Prepared::Refused(decision) => {
            return Err(record_refusal(conn, by, photo, *decision, now));
        }
        Prepared::Ready(planned) => planned,
    };
    let copy = make_copy(original, outbox, photo, channel, &planned, options, now)?;
    record(conn, copy, &planned, outbox, photo, channel, ctx)
}

/// What marking a takedown done did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TakedownDone {
    /// The outbox copy (photo and manifest) was there and is gone now.
    pub outbox_removed: bool,
    /// The channel's web endpoint has a copy and is being asked to remove it.
    pub endpoint_asked: bool,
}

/// Removes a publication's files from the outbox (missing ones are fine: a consumer may
/// have taken them). No database is touched: call it before [`record_takedown_done`], so a
/// crash in between leaves the task open and doing it again finishes it.
///
/// # Errors
/// A file that is there but cannot be removed.
/// Withdraws every outbox copy the register does not list as published: what a crash
/// between placing a copy and recording it leaves (a copy nobody could ever take down).
/// Each is deleted and audited. Run at start, before anything publishes. Returns the
/// keys withdrawn.
///
/// # Errors
/// The archive cannot be listed or a copy cannot be deleted, or the database.
pub fn reconcile_outbox(
    conn: &Connection,
    archive: &Archive,
    now: Timestamp,
) -> Result<Vec<String>, PublishError> {
    use consentcam_media::Bucket;
    let listed = archive
        .list(outbox::KEYS)
        .map_err(|e| StoreError::Invalid(format!("cannot list the outbox: {e}")))?;
    // A copy being written when the server died leaves its staged parts in the folders:
    // never believed, but litter that takes space.
    if let Some(folder) = archive.local_path(outbox::KEYS.trim_end_matches('/')) {
        let parts = crate::infra::files::remove_staged_parts(&folder)
            .map_err(|e| StoreError::Invalid(format!("cannot clear {}: {e}", folder.display())))?;
        for part in parts {
            tracing::warn!(file = %part.display(), "a copy left half-written by a stop was removed");
        }
    }
    let mut withdrawn = Vec::new();
    for file in listed {
        if crate::store::files::still_wanted(conn, &file.key)? {
            continue;
        }
        archive
            .delete(&file.key)
            .map_err(|e| StoreError::Invalid(format!("cannot withdraw {}: {e}", file.key)))?;
        crate::ops::log(
            conn,
            "system",
            Action::OutboxOrphanWithdrawn,
            format!("file:{}", file.key),
            serde_json::json!({ "bytes": file.size }),
            now,
        )?;
        tracing::warn!(key = %file.key, "an outbox copy the register does not list was withdrawn");
        withdrawn.push(file.key);
    }
    Ok(withdrawn)
}

pub fn remove_outbox_copy(
    outbox: &Outbox,
    publication: &crate::store::publications::Publication,
) -> std::io::Result<bool> {
    outbox.remove(publication.channel, &publication.opaque_name)
}

/// Records a takedown task done, queues the removal at the channel's endpoint if it has
/// the file, and audits both, in one transaction.
pub fn record_takedown_done(
    conn: &mut Connection,
    publication: i64,
    by: crate::domain::AccountId,
    outbox_removed: bool,
    now: Timestamp,
) -> crate::store::Result<TakedownDone> {
    let tx = conn.transaction()?;
    crate::store::publications::mark_takedown_done(&tx, publication, by, now)?;
    let endpoint_asked = crate::store::deliveries::queue_removal(&tx, publication, now)?;
    crate::ops::log(
        &tx,
        &format!("account:{by}"),
        Action::PublicationTakedownDone,
        format!("publication:{publication}"),
        serde_json::json!({ "outbox_removed": outbox_removed, "endpoint_asked": endpoint_asked }),
        now,
    )?;
    tx.commit()?;
    Ok(TakedownDone {
        outbox_removed,
        endpoint_asked,
    })
}

#[cfg(test)]
mod tests {
    use consentcam_media::Bucket;

    use super::*;
    use crate::store::open_in_memory;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_795_600_000 + secs).unwrap()
    }

    #[test]
    fn a_copy_the_register_does_not_list_is_withdrawn_at_start_and_a_listed_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::local(dir.path());
        let conn = open_in_memory().unwrap();
        publications::published_for_test(&conn, Channel::Website, "kept.jpg", t(0));
        // What a crash between placing a copy and recording it leaves, beside a
        // recorded copy.
        for name in ["kept.jpg", "kept.jpg.json", "orphan.jpg", "orphan.jpg.json"] {
            archive
                .write(&outbox::key(Channel::Website, name), b"bytes")
                .unwrap();
        }
        // And what a kill while a copy was being written leaves.
        let part = dir.path().join("outbox/website/.lost.jpg.Xy12Zq.part");
        std::fs::write(&part, b"half").unwrap();
        let withdrawn = reconcile_outbox(&conn, &archive, t(1)).unwrap();
        assert!(!part.exists(), "the staged part was left");
        assert_eq!(
            withdrawn,
            [
                "outbox/website/orphan.jpg",
                "outbox/website/orphan.jpg.json"
            ]
        );
        let left: Vec<String> = archive
            .list("outbox/")
            .unwrap()
            .into_iter()
            .map(|l| l.key)
            .collect();
        assert_eq!(
            left,
            ["outbox/website/kept.jpg", "outbox/website/kept.jpg.json"]
        );
        let logged: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit_log WHERE action = 'outbox.orphan_withdrawn'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(logged, 2);
        // Once taken down, a copy is no longer the register's either.
        conn.execute("UPDATE publications SET takedown_done_at = 'x'", [])
            .unwrap();
        assert_eq!(reconcile_outbox(&conn, &archive, t(2)).unwrap().len(), 2);
    }
}
