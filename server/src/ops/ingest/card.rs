//! One returned card, start to end: attribute it to a sign-out, copy it into the store
//! (with the progress file the kiosk follows), then analyse what is new. The CLI's
//! `import-card` and the demo's simulated card both run this.

use std::path::Path;

use consentcam_media::{ImportEvent, Outcome};
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;

use super::{ProgressFile, SqliteCatalogue, analyse_pending, session_for_import};
use crate::domain::DeviceId;
use crate::infra::config::Config;
use crate::store::StoreError;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct CardJob<'a> {
    /// Where the card is mounted (read-only).
    pub mount: &'a Path,
    /// The returned device; `None`: the most recently returned one.
    pub device: Option<DeviceId>,
    /// Delete from the card the files whose copy is committed.
    pub wipe: bool,
    /// Run face detection on the new photos.
    pub faces: bool,
    /// Where to write the progress lines the kiosk follows.
    pub progress_file: Option<&'a Path>,
}

/// What the import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardImported {
    /// The sign-out the photos were attributed to.
    pub session: Option<i64>,
    pub stored: usize,
    pub duplicates: usize,
    pub refused: usize,
    pub analysed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the progress file {path}: {source}")]
    Progress {
        path: String,
        source: std::io::Error,
    },
    #[error("the import from {mount} did not finish ({source}); run it again to complete it")]
    Import {
        mount: String,
        source: consentcam_media::ImportError,
    },
    #[error("cannot load the face detector: {0}")]
    Faces(String),
}

/// Analyses every photo not analysed yet (face detection included), on its own
/// connection: what a card import does after storing, for files that arrived otherwise
/// (a site's card sent over the network). Returns how many.
///
/// # Errors
/// The database, the store or the face detector failed.
pub fn analyse_stored(
    config: &Config,
    archive: &crate::infra::archive::Archive,
    now: Timestamp,
) -> Result<usize, CardError> {
    let mut conn = crate::store::open(&config.db_path())?;
    let mut detector =
        consentcam_media::FaceDetector::new().map_err(|e| CardError::Faces(e.to_string()))?;
    let policy = consentcam_media::provenance::ClockPolicy {
        camera_zone: crate::infra::clock::time_zone(&config.time_zone),
        drift_tolerance: SignedDuration::from_mins(config.clock_drift_minutes),
    };
    Ok(analyse_pending(
        &mut conn,
        archive,
        &consentcam_media::AnalysisOptions::default(),
        &crate::infra::decoders::of(&config.sandbox),
        Some(&mut detector),
        &policy,
        now,
    )?)
}

/// Imports the card of `job`; every event also goes to `on_event` (the CLI prints them).
pub fn import_card(
    conn: &mut Connection,
    config: &Config,
    job: &CardJob<'_>,
    on_event: &mut dyn FnMut(&ImportEvent),
    now: Timestamp,
) -> Result<CardImported, CardError> {
    let archive = crate::infra::archive::Archive::open(config)?;
    let store = archive.photo_store()?;
    let session = session_for_import(conn, job.device)?;
    if session.is_none() {
        tracing::warn!("no sign-out found for this card: photos are imported without attribution");
    }
    let mut progress_file = job
        .progress_file
        .map(|path| {
            ProgressFile::create(path).map_err(|source| CardError::Progress {
                path: path.display().to_string(),
                source,
            })
        })
        .transpose()?;
    // A USB stick of documents is not read at all; the kiosk shows why.
    if let Err(e) = consentcam_media::card::check_camera_card(job.mount) {
        let failed = ImportEvent::Failed {
            message: e.to_string(),
        };
        on_event(&failed);
        if let Some(file) = &mut progress_file {
            let _ = file.record(&failed);
        }
        return Err(CardError::Import {
            mount: job.mount.display().to_string(),
            source: e.into(),
        });
    }
    let options = consentcam_media::ImportOptions {
        wipe_after_verify: job.wipe,
        ..Default::default()
    };
    let report = {
        let mut catalogue = SqliteCatalogue::new(
            conn,
            session.as_ref().map(|s| s.id),
            session.as_ref().map(|s| s.device_id).or(job.device),
            "cli",
            now,
        );
        let mut progress = |event: &ImportEvent| {
            on_event(event);
            if let Some(file) = &mut progress_file
                && let Err(e) = file.record(event)
            {
                tracing::warn!(error = %e, "cannot write the progress file; the import goes on");
            }
        };
        consentcam_media::import_card(job.mount, &store, &mut catalogue, &options, &mut progress)
            .map_err(|source| CardError::Import {
                mount: job.mount.display().to_string(),
                source,
            })?
    };
    let mut detector = if job.faces {
        Some(consentcam_media::FaceDetector::new().map_err(|e| CardError::Faces(e.to_string()))?)
    } else {
        None
    };
    let policy = consentcam_media::provenance::ClockPolicy {
        camera_zone: crate::infra::clock::time_zone(&config.time_zone),
        drift_tolerance: SignedDuration::from_mins(config.clock_drift_minutes),
    };
    let analysed = analyse_pending(
        conn,
        &archive,
        &consentcam_media::AnalysisOptions::default(),
        &crate::infra::decoders::of(&config.sandbox),
        detector.as_mut(),
        &policy,
        now,
    )?;
    Ok(CardImported {
        session: session.map(|s| s.id),
        stored: report.count(Outcome::Stored),
        duplicates: report.count(Outcome::Duplicate),
        refused: report.count(Outcome::Refused),
        analysed,
    })
}
