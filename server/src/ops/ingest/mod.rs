//! Photo import on the server side: the catalogue the media import commits to (our
//! `photos` table), and the analysis that follows it in the background.
//!
//! The media crate owns the crash-safe copy into the content-addressed store and the
//! per-file analysis; this module only records what they found and works out provenance
//! from our devices and sign-outs. It never holds the kiosk: a return is done once every
//! file is stored (the import), analysis comes after.

mod card;
mod progress;
pub mod remote;
pub mod send;

pub use card::{CardError, CardImported, CardJob, analyse_stored, import_card};
pub use progress::{ProgressFile, ProgressLines};

use std::collections::HashSet;

use consentcam_media::provenance::{
    Attribution, ClockPolicy, CustodyWindow, RegisteredDevice, Unattributed, attribute,
};
use consentcam_media::{
    Analysis, AnalysisOptions, Catalogue, CatalogueError, ContentHash, Decoders, FaceDetector,
    FileRecord, MediaKind, Store,
};
use jiff::Timestamp;
use rusqlite::Connection;

use crate::domain::{DeviceId, Format, PhotoId};
use crate::infra::archive::Archive;
use crate::rules::consent::{FaceSearch, Provenance};
use crate::store::audit::Action;
use crate::store::audit::{self, Entry};
use crate::store::faces;
use crate::store::{Result, StoreError, custody, photos, registry};

/// The format we keep for a media kind.
pub fn format_of(kind: MediaKind) -> Format {
    match kind {
        MediaKind::Jpeg => Format::Jpeg,
        MediaKind::Png => Format::Png,
        MediaKind::Heif => Format::Heic,
        MediaKind::Raw => Format::Raw,
        MediaKind::Video => Format::Video,
        MediaKind::Gif => Format::Gif,
        MediaKind::Webp => Format::Webp,
        MediaKind::Empty => Format::Empty,
        MediaKind::Other => Format::Unknown,
    }
}

/// The `photos` table as the media import's catalogue. Each commit is its own transaction
/// with its audit entry, made only after the file is durable in the store.
pub struct SqliteCatalogue<'a> {
    conn: &'a mut Connection,
    /// The sign-out the returned device's card belongs to, if known.
    session: Option<i64>,
    device: Option<DeviceId>,
    /// The site a photo belongs to when its device has none (or none is known): the site
    /// of the kiosk whose machine sent the card.
    site: Option<i64>,
    actor: String,
    now: Timestamp,
}

impl<'a> SqliteCatalogue<'a> {
    pub fn new(
        conn: &'a mut Connection,
        session: Option<i64>,
        device: Option<DeviceId>,
        actor: &str,
        now: Timestamp,
    ) -> Self {
        Self {
            conn,
            session,
            device,
            site: None,
            actor: actor.to_owned(),
            now,
        }
    }

    /// Photos not placed by their device belong to `site` (see [`Self::site`]).
    #[must_use]
    pub fn in_site(mut self, site: Option<i64>) -> Self {
        self.site = site;
        self
    }
}

impl Catalogue for SqliteCatalogue<'_> {
    fn is_committed(&self, hash: &ContentHash) -> Result<bool, CatalogueError> {
        Ok(photos::photo_by_hash(self.conn, &hash.to_string())?.is_some())
    }

    fn commit(&mut self, record: &FileRecord) -> Result<(), CatalogueError> {
        let hash = record.hash.to_string();
        let tx = self.conn.transaction()?;
        if photos::photo_by_hash(&tx, &hash)?.is_some() {
            return Ok(());
        }
        let damage = (!record.problems.is_empty()).then(|| {
            record
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        });
        let id = photos::insert_photo(
            &tx,
            &photos::NewPhoto {
                content_hash: hash,
                byte_size: record.size,
                format: format_of(record.kind),
                original_name: record.card_path.to_string(),
                custody_session_id: self.session,
                device_id: self.device,
                provenance: crate::rules::consent::Provenance::Unknown,
                damage,
                ..Default::default()
            },
            self.now,
        )?;
        // A photo belongs to the site of the device it came off, or else to the site of
        // the kiosk that sent it.
        if let Some(device) = self.device {
            crate::store::sites::photo_from_device(&tx, id.0, device.0)?;
        }
        if let Some(site) = self.site {
            crate::store::sites::photo_in_site_unless_placed(&tx, id.0, site)?;
        }
        audit::append(
            &tx,
            &Entry {
                at: self.now,
                actor: &self.actor,
                action: Action::PhotoImport,
                subject: &format!("photo:{id}"),
                details: serde_json::json!({ "session": self.session, "size": record.size, "problems": record.problems.len() }),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    fn committed_hashes(&self) -> Result<HashSet<ContentHash>, CatalogueError> {
        Ok(photos::content_hashes(self.conn)?
            .into_iter()
            .filter_map(|h| h.parse().ok())
            .collect())
    }
}

/// Provenance (C7) from the analysis: a registered device, inside one of its sign-outs.
/// Returns the provenance word and the session it was attributed to.
fn provenance(
    conn: &Connection,
    analysis: &Analysis,
    policy: &ClockPolicy,
    now: Timestamp,
) -> Result<(Provenance, Option<i64>)> {
    let devices = registry::devices(conn)?;
    let registered: Vec<RegisteredDevice> = devices
        .iter()
        .map(|d| RegisteredDevice {
            device_id: d.id.0.to_string(),
            make: d.make.clone(),
            serial: d.serial.clone(),
        })
        .collect();
    let mut windows = Vec::new();
    for d in &devices {
        for s in custody::sessions_of_device(conn, d.id)? {
            windows.push(CustodyWindow {
                session_id: s.id.to_string(),
                device_id: d.id.0.to_string(),
                signed_out: s.out_at,
                returned: s.returned_at,
            });
        }
    }
    Ok(
        match attribute(analysis.exif.as_ref(), &registered, &windows, policy, now) {
            Attribution::Session { session_id, .. } => {
                (Provenance::Verified, session_id.parse().ok())
            }
            Attribution::Unattributed { reason } => (
                match reason {
                    Unattributed::UnregisteredDevice => Provenance::UnregisteredDevice,
                    Unattributed::OutsideWindows | Unattributed::Ambiguous => {
                        Provenance::OutsideSignOut
                    }
                    Unattributed::NoSerial | Unattributed::NoTime => Provenance::Unknown,
                },
                None,
            ),
        },
    )
}

/// Writes the thumbnail and preview an analysis made, under the photo's content hash.
/// Returns how many it wrote (a file that could not be decoded has none).
pub fn write_renditions(
    archive: &Archive,
    content_hash: &str,
    analysis: &Analysis,
) -> Result<usize> {
    let mut written = 0;
    for (rendition, key) in [
        (&analysis.thumbnail, Archive::thumbnail_key(content_hash)),
        (&analysis.preview, Archive::preview_key(content_hash)),
    ] {
        if let Some(r) = rendition {
            archive.write(&key, &r.jpeg)?;
            written += 1;
        }
    }
    Ok(written)
}

/// Whether faces were looked for, from an analysis and whether a detector was given to it.
fn face_search(analysis: &Analysis, detection_asked: bool) -> FaceSearch {
    match (&analysis.faces, detection_asked) {
        (Some(_), _) => FaceSearch::Done,
        (None, true) => FaceSearch::Failed,
        (None, false) => FaceSearch::Skipped,
    }
}

/// The upright picture's full size.
fn upright_size(analysis: &Analysis) -> Option<(u32, u32)> {
    let orientation = analysis.exif.as_ref().and_then(|e| e.orientation);
    Some(crate::domain::upright_size(
        analysis.width?,
        analysis.height?,
        orientation.map(u16::from),
    ))
}

/// The detector's boxes (fractions of the upright preview) in pixels of the upright
/// picture at full size: the one space face boxes are kept in.
fn face_rects(analysis: &Analysis, faces: &[consentcam_media::FaceBox]) -> Vec<faces::FaceRect> {
    let Some((width, height)) = upright_size(analysis) else {
        return Vec::new();
    };
    faces
        .iter()
        .map(|f| {
            let b = f.in_pixels(width, height);
            faces::FaceRect {
                x: b.x,
                y: b.y,
                w: b.width,
                h: b.height,
            }
        })
        .collect()
}

/// Records one photo's analysis: camera facts, renditions, faces (in the upright picture at
/// full size), whether faces were looked for (`detection_asked`: a detector was given to
/// the analysis), provenance, and any reason it may never be published.
pub fn record_analysis(
    conn: &mut Connection,
    archive: &Archive,
    photo: PhotoId,
    analysis: &Analysis,
    detection_asked: bool,
    policy: &ClockPolicy,
    now: Timestamp,
) -> Result<()> {
    let stored = photos::photo(conn, photo)?;
    write_renditions(archive, &stored.content_hash, analysis)?;
    let (provenance, session) = provenance(conn, analysis, policy, now)?;
    let exif = analysis.exif.as_ref();
    let orientation = exif.and_then(|e| e.orientation).map(u16::from);
    let taken_at =
        exif.and_then(|e| consentcam_media::provenance::taken_at(e, &policy.camera_zone));
    // A format that cannot be published is not damage: the format says it (C11).
    let problems: Vec<String> = analysis
        .problems
        .iter()
        .filter(|p| !matches!(p, consentcam_media::Problem::FormatNotPublishable { .. }))
        .map(ToString::to_string)
        .collect();
    let found = photos::Analysed {
        taken_at,
        camera_make: exif.and_then(|e| e.make.clone()),
        camera_model: exif.and_then(|e| e.model.clone()),
        camera_serial: exif.and_then(|e| e.body_serial.clone()),
        orientation,
        gps_present: exif.is_some_and(|e| e.gps_present),
        width: analysis.width,
        height: analysis.height,
        provenance,
        custody_session: session,
        problems: (!problems.is_empty()).then(|| problems.join("; ")),
    };
    let tx = conn.transaction()?;
    photos::record_analysis(&tx, photo, &found, now)?;
    let search = face_search(analysis, detection_asked);
    photos::set_face_search(&tx, photo, search)?;
    if let Some(faces) = &analysis.faces
        && faces::detected_faces(&tx, photo)? == 0
    {
        for rect in face_rects(analysis, faces) {
            faces::insert_face(&tx, photo, rect, faces::FaceSource::Detected)?;
        }
    }
    audit::append(
        &tx,
        &Entry {
            at: now,
            actor: "system",
            action: Action::PhotoAnalyse,
            subject: &format!("photo:{photo}"),
            details: serde_json::json!({
                "provenance": provenance, "faces": analysis.faces.as_ref().map(Vec::len),
                "problems": analysis.problems.iter().map(|p| p.code()).collect::<Vec<_>>(),
            }),
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Analyses every catalogued photo not analysed yet, one after another. Returns how many.
pub fn analyse_pending(
    conn: &mut Connection,
    archive: &Archive,
    options: &AnalysisOptions,
    decoders: &Decoders,
    mut faces: Option<&mut FaceDetector>,
    policy: &ClockPolicy,
    now: Timestamp,
) -> Result<usize> {
    let pending = photos::unanalysed(conn)?;
    let store = &archive.photo_store()?;
    for &photo in &pending {
        let hash = photos::photo(conn, photo)?.content_hash;
        let Ok(content) = hash.parse::<ContentHash>() else {
            tracing::warn!(
                photo = photo.0,
                "catalogued hash is not a store hash; skipped"
            );
            continue;
        };
        let detection_asked = faces.is_some();
        let analysis = consentcam_media::analyse_stored(
            store,
            &content,
            options,
            decoders,
            faces.as_deref_mut(),
        );
        record_analysis(
            conn,
            archive,
            photo,
            &analysis,
            detection_asked,
            policy,
            now,
        )?;
    }
    Ok(pending.len())
}

/// The audit entry of one photo's face search.
fn log_face_search(
    tx: &Connection,
    photo: PhotoId,
    details: serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    audit::append(
        tx,
        &Entry {
            at: now,
            actor: "system",
            action: Action::PhotoDetectFaces,
            subject: &format!("photo:{photo}"),
            details,
        },
    )?;
    Ok(())
}

/// What running the face detector again did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Redetected {
    /// Photos the detector ran on.
    pub photos: usize,
    /// Faces it found in them.
    pub faces: usize,
    /// Photos it could not decode (left as they were, marked failed).
    pub failed: usize,
}

/// Runs the face detector on every photo imported without it (`--no-faces`) and every
/// photo whose stored boxes are known to be wrong (rule C12), and records the boxes.
/// Detection runs while no transaction is open; each photo is then recorded in its own.
pub fn detect_faces_again(
    conn: &mut Connection,
    store: &Store,
    options: &AnalysisOptions,
    decoders: &Decoders,
    detector: &mut FaceDetector,
    now: Timestamp,
) -> Result<Redetected> {
    let mut done = Redetected::default();
    for photo in faces::photos_needing_detection(conn)? {
        let hash = photos::photo(conn, photo)?.content_hash;
        let Ok(content) = hash.parse::<ContentHash>() else {
            continue;
        };
        let analysis =
            consentcam_media::analyse_stored(store, &content, options, decoders, Some(detector));
        let tx = conn.transaction()?;
        let details = match &analysis.faces {
            Some(faces) => {
                let rects = face_rects(&analysis, faces);
                let how = faces::replace_detected_faces(&tx, photo, &rects, now)?;
                photos::set_face_search(&tx, photo, FaceSearch::Done)?;
                done.photos += 1;
                done.faces += rects.len();
                serde_json::json!({ "faces": rects.len(), "boxes": how })
            }
            None => {
                photos::set_face_search(&tx, photo, FaceSearch::Failed)?;
                done.failed += 1;
                serde_json::json!({ "faces": null, "problems": analysis.problems.iter().map(|p| p.code()).collect::<Vec<_>>() })
            }
        };
        log_face_search(&tx, photo, details, now)?;
        tx.commit()?;
    }
    Ok(done)
}

/// One photo searched again by [`detect_faces_redo_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SearchedAgain {
    pub photo: PhotoId,
    /// What the search did to its faces; `None`: the photo could not be read, its faces
    /// stay as they were.
    pub merged: Option<faces::FacesMerged>,
    /// Live publications of the photo made takedown tasks: it gained a face nobody has
    /// checked since it went out.
    pub takedowns: usize,
}

/// Runs the detector again over every stored photo, as after a better detector came: the
/// photos that never had a search (or whose boxes are known wrong) as
/// [`detect_faces_again`] does, then every other analysed photo, whose faces are merged
/// with the new boxes (see [`faces::merge_detected_faces`]): what staff said about a face
/// found again is kept, the faces nobody had seen are added unresolved. A photo that gained
/// a face while live somewhere gets a takedown task, since that person was never checked.
/// `each` hears about every photo as it is done; each photo is one transaction.
pub fn detect_faces_redo_all(
    conn: &mut Connection,
    store: &Store,
    options: &AnalysisOptions,
    decoders: &Decoders,
    detector: &mut FaceDetector,
    now: Timestamp,
    each: &mut dyn FnMut(&SearchedAgain),
) -> Result<(Redetected, Vec<SearchedAgain>)> {
    let searched_before = faces::photos_searched_before(conn)?;
    let first = detect_faces_again(conn, store, options, decoders, detector, now)?;
    let mut out = Vec::with_capacity(searched_before.len());
    for photo in searched_before {
        let hash = photos::photo(conn, photo)?.content_hash;
        let mut done = SearchedAgain {
            photo,
            merged: None,
            takedowns: 0,
        };
        let Ok(content) = hash.parse::<ContentHash>() else {
            tracing::warn!(
                photo = photo.0,
                "catalogued hash is not a store hash; skipped"
            );
            each(&done);
            out.push(done);
            continue;
        };
        let analysis =
            consentcam_media::analyse_stored(store, &content, options, decoders, Some(detector));
        let tx = conn.transaction()?;
        let details = match &analysis.faces {
            Some(found) => {
                let merged =
                    faces::merge_detected_faces(&tx, photo, &face_rects(&analysis, found), now)?;
                photos::set_face_search(&tx, photo, FaceSearch::Done)?;
                if merged.added > 0 {
                    for publication in
                        crate::store::publications::publications_of_photo(&tx, photo)?
                    {
                        if publication.takedown_since.is_none()
                            && crate::store::publications::mark_takedown(
                                &tx,
                                publication.id,
                                "face_unresolved",
                                now,
                            )?
                        {
                            done.takedowns += 1;
                            audit::append(
                                &tx,
                                &Entry {
                                    at: now,
                                    actor: "system",
                                    action: Action::PublicationTakedownDue,
                                    subject: &format!("photo:{photo}"),
                                    details: serde_json::json!({
                                        "publication": publication.id,
                                        "channel": publication.channel,
                                        "reasons": ["face_unresolved"],
                                    }),
                                },
                            )?;
                        }
                    }
                }
                done.merged = Some(merged);
                serde_json::json!({ "redo_all": true, "merged": merged, "takedowns": done.takedowns })
            }
            None => serde_json::json!({
                "redo_all": true, "faces": null,
                "problems": analysis.problems.iter().map(|p| p.code()).collect::<Vec<_>>(),
            }),
        };
        log_face_search(&tx, photo, details, now)?;
        tx.commit()?;
        each(&done);
        out.push(done);
    }
    Ok((first, out))
}

/// [`detect_faces_again`] on the photo store of `config`, with the built-in detector.
pub fn detect_faces(
    conn: &mut Connection,
    config: &crate::infra::config::Config,
    now: Timestamp,
) -> Result<Redetected> {
    let (store, mut detector) = store_and_detector(config)?;
    detect_faces_again(
        conn,
        &store,
        &AnalysisOptions::default(),
        &crate::infra::decoders::of(&config.sandbox),
        &mut detector,
        now,
    )
}

/// The photo store of `config` and the built-in face detector.
fn store_and_detector(config: &crate::infra::config::Config) -> Result<(Store, FaceDetector)> {
    let store = Archive::open(config)?.photo_store()?;
    let detector = FaceDetector::new()
        .map_err(|e| StoreError::Invalid(format!("cannot load the face detector: {e}")))?;
    Ok((store, detector))
}

/// [`detect_faces_redo_all`] on the photo store of `config`, with the built-in detector.
pub fn detect_faces_redo_all_in(
    conn: &mut Connection,
    config: &crate::infra::config::Config,
    now: Timestamp,
    each: &mut dyn FnMut(&SearchedAgain),
) -> Result<(Redetected, Vec<SearchedAgain>)> {
    let (store, mut detector) = store_and_detector(config)?;
    detect_faces_redo_all(
        conn,
        &store,
        &AnalysisOptions::default(),
        &crate::infra::decoders::of(&config.sandbox),
        &mut detector,
        now,
        each,
    )
}

/// The sign-out a card being imported now belongs to: the given device's latest sign-out,
/// or, without a device, the most recently returned one.
pub fn session_for_import(
    conn: &Connection,
    device: Option<DeviceId>,
) -> Result<Option<custody::Session>> {
    session_for_import_at(conn, device, None)
}

/// [`session_for_import`] for a card read at a site: without a device, the most recently
/// returned of that site's devices (another site's return is not this card's).
pub fn session_for_import_at(
    conn: &Connection,
    device: Option<DeviceId>,
    site: Option<i64>,
) -> Result<Option<custody::Session>> {
    let sessions = match device {
        Some(d) => custody::sessions_of_device(conn, d)?,
        None => {
            let mut all = Vec::new();
            let devices =
                crate::store::sites::retain_visible(conn, site, registry::devices(conn)?, |d| {
                    (crate::store::sites::Kind::Device, d.id.0)
                })?;
            for d in devices {
                all.extend(custody::sessions_of_device(conn, d.id)?);
            }
            all.retain(|s| s.returned_at.is_some());
            all.sort_by_key(|s| s.returned_at);
            all.reverse();
            all
        }
    };
    Ok(sessions.into_iter().next())
}
