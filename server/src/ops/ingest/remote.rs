//! A site's card imported over the network: its kiosk's machine sends each file to the
//! central server (`consentcam import-card --server URL`), which stores it as a card
//! import would (copied into the store while hashed, durable before its row) and checks
//! it against the hash the sender computed, so a file damaged on the way is never kept.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use consentcam_media::{CardPath, ContentHash, FileRecord, Outcome, StoreError as MediaError};
use jiff::Timestamp;
use rusqlite::Connection;

use super::{SqliteCatalogue, format_of, session_for_import_at};
use crate::domain::{DeviceId, PhotoId};
use crate::infra::archive::Archive;
use crate::store::{Result, StoreError, photos};

/// Why a sent file was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Another import holds the store for a moment: send it again shortly.
    #[error("another import is writing to the photo store; send the file again in a moment")]
    Busy,
    /// What arrived does not hash to what the sender said.
    #[error("the file that arrived does not match its hash (damaged on the way?); send it again")]
    Mismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores a received file (the complete upload in `temp`, which it leaves for the caller
/// to remove) under its hash, unless the store has it already. Returns the catalogue
/// record to commit.
///
/// # Errors
/// [`ReceiveError::Busy`] while another import holds the store; [`ReceiveError::Mismatch`]
/// if the bytes do not hash to `hash`; the store failing.
pub fn store_received(
    archive: &Archive,
    temp: &Path,
    hash: ContentHash,
    card_path: CardPath,
) -> std::result::Result<FileRecord, ReceiveError> {
    // The store failing (a full disk, the bucket away) is the server's trouble, not the
    // sender's: unavailable for now, and the detail goes to the log only.
    let invalid = |e: MediaError| StoreError::Unavailable(format!("photo store: {e}"));
    let store = archive.photo_store()?;
    let lock = match store.lock() {
        Ok(lock) => lock,
        Err(MediaError::Busy) => return Err(ReceiveError::Busy),
        Err(e) => return Err(invalid(e).into()),
    };
    let open =
        || File::open(temp).map_err(|e| StoreError::Invalid(format!("the received file: {e}")));
    let mut head = Vec::with_capacity(consentcam_media::format::SNIFF_LEN);
    open()?
        .take(consentcam_media::format::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| StoreError::Invalid(format!("the received file: {e}")))?;
    let staged = store.copy_in(&lock, open()?).map_err(invalid)?;
    if staged.hash() != hash {
        return Err(ReceiveError::Mismatch);
    }
    let size = staged.size();
    if store.contains(&hash).map_err(invalid)? {
        drop(staged);
    } else {
        store.persist(&lock, staged).map_err(invalid)?;
    }
    let kind = consentcam_media::format::sniff(&head);
    let problems = consentcam_media::import::content_problems(&card_path, kind);
    Ok(FileRecord {
        hash,
        size,
        card_path,
        kind,
        problems,
    })
}

/// Commits a received file's row, attributed as a card import of `device` would be (its
/// latest sign-out; without a device, the latest return among the devices of the site of
/// `kiosk`, the kiosk whose machine sent it). Returns the photo and whether it was new.
///
/// # Errors
/// The database failed.
pub fn commit_received(
    conn: &mut Connection,
    record: &FileRecord,
    device: Option<DeviceId>,
    kiosk: i64,
    now: Timestamp,
) -> Result<(PhotoId, Outcome)> {
    let actor = format!("kiosk:{kiosk}");
    let hash = record.hash.to_string();
    if let Some(photo) = photos::photo_by_hash(conn, &hash)? {
        return Ok((photo.id, Outcome::Duplicate));
    }
    let site =
        crate::store::sites::site_of(conn, crate::store::sites::Kind::Kiosk, kiosk)?.flatten();
    let session = session_for_import_at(conn, device, site)?;
    let mut catalogue = SqliteCatalogue::new(
        conn,
        session.as_ref().map(|s| s.id),
        session.as_ref().map(|s| s.device_id).or(device),
        &actor,
        now,
    )
    .in_site(site);
    consentcam_media::Catalogue::commit(&mut catalogue, record)
        .map_err(|e| StoreError::Invalid(format!("catalogue: {e}")))?;
    let photo = photos::photo_by_hash(conn, &hash)?
        .ok_or_else(|| StoreError::Invalid("the received photo was not catalogued".into()))?;
    tracing::info!(photo = photo.id.0, kind = ?format_of(record.kind), "a site's file received");
    Ok((photo.id, Outcome::Stored))
}

/// Whether the server has this file already: catalogued and in the store.
///
/// # Errors
/// The database or the store failed.
pub fn has_file(conn: &Connection, archive: &Archive, hash: &ContentHash) -> Result<bool> {
    Ok(photos::photo_by_hash(conn, &hash.to_string())?.is_some()
        && archive
            .photo_store()?
            .contains(hash)
            // The store failing (the bucket away) is the server's trouble: unavailable
            // for now, so the sender asks again.
            .map_err(|e| StoreError::Unavailable(format!("photo store: {e}")))?)
}
