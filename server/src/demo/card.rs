//! The demo's simulated camera card: pictures Camera 1 "took" during its latest sign-out,
//! with the EXIF a camera writes, imported exactly as the Pi's import service does
//! (attribution, crash-safe copy, the progress file the kiosk follows, analysis).

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::pictures::{self, CameraTags};
use crate::infra::config::Config;
use crate::ops::ingest::{self, CardImported, CardJob};
use crate::store::{self, custody, registry};

/// The progress file the demo's simulated kiosk follows.
pub fn progress_file(data_dir: &Path) -> PathBuf {
    data_dir.join("import-progress.jsonl")
}

/// How many pictures a demo card holds.
pub const PICTURES: usize = 4;

/// Parts of the built-in group photo the demo card's pictures show (one to three faces
/// each).
const CARD_CROPS: [pictures::Crop; 6] = [
    (615, 240, 130, 170),
    (80, 180, 280, 160),
    (1000, 60, 100, 110),
    (170, 180, 180, 160),
    (1320, 225, 130, 170),
    (820, 160, 250, 200),
];

/// Writes a card of Camera 1's latest sign-out under the data directory and imports it.
pub fn insert_camera_card(config: &Config, now: Timestamp) -> anyhow::Result<CardImported> {
    insert_camera_card_of(config, now, PICTURES)
}

/// [`insert_camera_card`] with `how_many` pictures on the card.
pub fn insert_camera_card_of(
    config: &Config,
    now: Timestamp,
    how_many: usize,
) -> anyhow::Result<CardImported> {
    let mut conn = store::open(&config.db_path())?;
    let camera = registry::devices(&conn)?
        .into_iter()
        .find(|d| d.tag_uid == consentcam_wire::demo_tags::CAMERA_1)
        .ok_or_else(|| anyhow::anyhow!("the demo's Camera 1 is not registered"))?;
    let session = custody::sessions_of_device(&conn, camera.id)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            anyhow::anyhow!("Camera 1 has never been signed out: sign it out at the kiosk first")
        })?;
    let until = session.returned_at.unwrap_or(now);
    let span = until.duration_since(session.out_at);
    let tz = crate::infra::clock::time_zone(&config.time_zone);
    let root = config
        .data_dir
        .join("demo-cards")
        .join(now.as_second().to_string());
    let folder = root.join("DCIM").join("100CANON");
    std::fs::create_dir_all(&folder)?;
    let seed = usize::try_from(now.as_second().rem_euclid(1000)).unwrap_or(0);
    let count = i32::try_from(how_many)?;
    for n in 0..how_many {
        let at = session
            .out_at
            .checked_add(span / (count + 1) * (i32::try_from(n)? + 1))?;
        let bytes = pictures::group_photo(
            Some(CARD_CROPS[(seed + n) % CARD_CROPS.len()]),
            4,
            1,
            &CameraTags {
                make: &camera.make,
                model: &camera.model,
                serial: &camera.serial,
                taken: tz.to_datetime(at),
            },
        );
        std::fs::write(folder.join(format!("IMG_{:04}.JPG", seed + n)), bytes)?;
    }
    let job = CardJob {
        mount: &root,
        device: Some(camera.id),
        wipe: false,
        faces: true,
        progress_file: Some(&progress_file(&config.data_dir)),
    };
    Ok(ingest::import_card(
        &mut conn,
        config,
        &job,
        &mut |_| {},
        now,
    )?)
}
