//! Publication: the decision taken again at the last moment (C10), a scrubbed copy with an
//! opaque name, delivered whole or not at all to the channel's outbox, and recorded.
//!
//! Owns the outbox layout and the order of the steps; the scrubbing itself is
//! `consentcam_scrub`, the rules are `consent`. A publish that fails half-way leaves no
//! file in the outbox and no row in the register.

pub mod forward;
mod geometry;
mod outbox;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;

use crate::consent::{ConsentPolicy, Decision, FaceResolution, Verdict};
use crate::domain::{AccountId, Channel, PhotoId};
use crate::records;
use crate::store::audit::{self, Entry};
use crate::store::{StoreError, photos};
pub use outbox::Outbox;

/// Where the stored original of `content_hash` lives under `data_dir` (the media store's
/// content-addressed layout).
pub fn original_path(data_dir: &Path, content_hash: &str) -> PathBuf {
    let prefix = content_hash.get(..2).unwrap_or("00");
    data_dir
        .join("store")
        .join("objects")
        .join(prefix)
        .join(content_hash)
}

/// The outbox under `data_dir`.
pub fn outbox(data_dir: &Path) -> Outbox {
    Outbox::new(data_dir.join("outbox"))
}

/// The outbox of a configuration: its folders, and the channels' web endpoints.
pub fn configured_outbox(config: &crate::config::Config) -> Outbox {
    config
        .deliver
        .iter()
        .filter_map(|(code, endpoint)| Some((code.parse::<Channel>().ok()?, endpoint)))
        .fold(outbox(&config.data_dir), |outbox, (channel, endpoint)| {
            outbox.with_endpoint(channel, endpoint.url.clone())
        })
}

/// How the published copy is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// Downscale so the long edge is at most this (re-encodes); `None` keeps the size and
    /// the image data byte for byte.
    pub max_long_edge: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the photo may not go to {channel}: {}", summary(.decision))]
    Refused {
        channel: Channel,
        decision: Box<Decision>,
    },
    #[error("the stored original {0} is missing or unreadable")]
    Original(PathBuf, #[source] std::io::Error),
    #[error("the scrubber refused the photo: {0}")]
    Scrub(#[from] consentcam_scrub::ScrubError),
    #[error("could not write to the outbox: {0}")]
    Outbox(#[source] std::io::Error),
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
    #[serde(skip)]
    pub path: PathBuf,
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

/// Publishes `photo` to `channel`: decides again, scrubs, delivers, records.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    conn: &mut Connection,
    original: &Path,
    outbox: &Outbox,
    photo: PhotoId,
    channel: Channel,
    options: &PublishOptions,
    by: Option<AccountId>,
    today: Date,
    policy: &ConsentPolicy,
    now: Timestamp,
) -> Result<Published, PublishError> {
    let actor = by.map_or("system".to_owned(), |a| format!("account:{a}"));
    let decision = records::decide_photo(conn, photo, channel, today, policy)?;
    let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
    tracing::info!(photo = photo.0, channel = %channel, verdict = %decision.verdict, reasons = ?codes, "publication decision");
    if decision.verdict != Verdict::Allowed {
        audit::append(
            conn,
            &Entry {
                at: now,
                actor: &actor,
                action: "photo.publish_refused",
                subject: &format!("photo:{photo}"),
                details: serde_json::json!({ "channel": channel.code(), "verdict": decision.verdict, "reasons": codes }),
            },
        )?;
        return Err(PublishError::Refused {
            channel,
            decision: Box::new(decision),
        });
    }

    let stored = photos::photo(conn, photo)?;
    let (facts, _) = photos::facts(conn, photo)?;
    let covers: Vec<consentcam_scrub::Cover> = photos::faces(conn, photo)?
        .iter()
        .filter(|f| matches!(f.resolution, FaceResolution::Person(p) if facts.covered.contains(&p)))
        .map(|f| {
            let upright = geometry::Rect {
                x: f.x,
                y: f.y,
                w: f.w,
                h: f.h,
            };
            let stored_box = geometry::upright_to_stored(
                upright,
                stored.orientation.unwrap_or(1),
                stored.width.unwrap_or(0),
                stored.height.unwrap_or(0),
            );
            consentcam_scrub::Cover {
                x: stored_box.x,
                y: stored_box.y,
                width: stored_box.w,
                height: stored_box.h,
            }
        })
        .collect();
    let bytes = std::fs::read(original).map_err(|e| PublishError::Original(original.into(), e))?;
    let clean = if covers.is_empty() && options.max_long_edge.is_none() {
        consentcam_scrub::scrub(&bytes)?
    } else {
        consentcam_scrub::cover_and_scrub(
            &bytes,
            &covers,
            &consentcam_scrub::Reencode {
                max_long_edge: options.max_long_edge,
                ..Default::default()
            },
        )?
    };

    let opaque_name = format!("{}.jpg", &crate::web::password::random_token()[..32]);
    let manifest = Manifest {
        file: &opaque_name,
        channel: channel.code(),
        published_at: now.to_string(),
        caption: &stored.caption,
        covered_faces: covers.len(),
    };
    let manifest =
        serde_json::to_vec_pretty(&manifest).map_err(|e| PublishError::Outbox(e.into()))?;
    let delivery = outbox
        .deliver(channel, &opaque_name, &clean.jpeg, &manifest)
        .map_err(PublishError::Outbox)?;

    let recorded = (|| -> Result<i64, PublishError> {
        let tx = conn.transaction()?;
        let id = photos::insert_publication(&tx, photo, channel, &opaque_name, by, &decision, now)?;
        if let Some(url) = outbox.endpoint(channel) {
            crate::store::deliveries::insert(&tx, id, url, now)?;
        }
        audit::append(
            &tx,
            &Entry {
                at: now,
                actor: &actor,
                action: "photo.publish",
                subject: &format!("photo:{photo}"),
                details: serde_json::json!({
                    "channel": channel.code(), "publication": id, "file": opaque_name,
                    "covered_faces": covers.len(), "removed_segments": clean.report.removed.len(),
                }),
            },
        )?;
        tx.commit()?;
        Ok(id)
    })();
    match recorded {
        Ok(publication_id) => Ok(Published {
            publication_id,
            path: delivery.photo,
            opaque_name,
            decision,
        }),
        Err(e) => {
            delivery.withdraw();
            Err(e)
        }
    }
}
