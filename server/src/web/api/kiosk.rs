//! The kiosk routes (bearer token) and the audit log.

use axum::extract::State;
use consentcam_wire::{EventBatch, EventReceipt, Roster};
use serde::Deserialize;

use super::{Json, Query};
use crate::domain::DeviceId;
use crate::store::audit;
use crate::store::custody;
use crate::web::AppState;
use crate::web::access::Path;
use crate::web::access::{Caller, KioskCaller};
use crate::web::error::ApiError;
use consentcam_media::{CardPath, ContentHash};

pub async fn roster(
    State(state): State<AppState>,
    KioskCaller(kiosk): KioskCaller,
) -> Result<Json<Roster>, ApiError> {
    let (now, tz, policy) = (state.now(), state.time_zone(), state.policy());
    let key = consentcam_tagkey::KioskKey::from_token_hash(&kiosk.token_hash).ok_or_else(|| {
        ApiError::Internal("a kiosk's stored token hash is not 64 hex digits".into())
    })?;
    Ok(Json(
        state
            .db(move |c| {
                let roster = crate::ops::groups::kiosk_roster(c, now, &tz, &policy, &key)?;
                let site =
                    crate::store::sites::site_of(c, crate::store::sites::Kind::Kiosk, kiosk.id)?
                        .flatten();
                Ok(match site {
                    Some(site) => crate::ops::groups::for_site(c, roster, site)?,
                    None => roster,
                })
            })
            .await?,
    ))
}

/// How often, in bytes received, an upload checks the disk's free space again.
const SPACE_CHECK_EVERY: u64 = 64 * 1024 * 1024;

/// Whether `more` bytes can be written to the data directory's disk and still leave the
/// configured reserve (the records live there).
fn room_for(state: &AppState, more: u64) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let free = crate::infra::files::available_bytes(&state.config().data_dir)
        .map_err(|e| ApiError::Internal(format!("free space of the data directory: {e}")))?;
    if free.saturating_sub(more) < limits.free_space_reserve_bytes() {
        tracing::warn!(free, more, "a card file refused: the disk is nearly full");
        return Err(ApiError::InsufficientStorage(
            "the server's disk is nearly full: the file was not taken (try again once space is freed)"
                .into(),
        ));
    }
    Ok(())
}

fn content_hash(text: &str) -> Result<ContentHash, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest("the file's hash must be 64 hex digits".into()))
}

/// Whether the server has a card file already (204) or not (404): a site's import asks
/// before sending, so a card sent again costs nothing.
pub async fn card_file_known(
    State(state): State<AppState>,
    _: KioskCaller,
    Path(hash): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let hash = content_hash(&hash)?;
    let archive = state.archive().clone();
    let known = state
        .read(move |c| Ok(crate::ops::ingest::remote::has_file(c, &archive, &hash)?))
        .await?;
    if known {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(
            "the server does not have this file".into(),
        ))
    }
}

/// One file of a site's card, sent by its kiosk's machine (`import-card --server`): the
/// body is the file, `X-Card-Path` its place on the card, `X-Device` the device it came
/// off. Stored and committed as a card import would, checked against `{hash}`; the photo
/// is then analysed in the background.
pub async fn card_file(
    State(state): State<AppState>,
    KioskCaller(kiosk): KioskCaller,
    Path(hash): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let hash = content_hash(&hash)?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let card_path = header("x-card-path")
        .map(|p| CardPath::received(&p))
        .filter(|p| !p.as_str().is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("X-Card-Path names the file's place on the card".into())
        })?;
    let device = match header("x-device") {
        Some(d) => Some(DeviceId(d.trim().parse().map_err(|_| {
            ApiError::BadRequest("X-Device must be a device id".into())
        })?)),
        None => None,
    };
    let limits = state.config().limits.clone();
    let largest = limits.card_file_bytes();
    let too_large = || {
        ApiError::TooLarge(format!(
            "the file is larger than the {} MiB a card file may be ([limits] card_file_mib)",
            limits.card_file_mib
        ))
    };
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > largest) {
        return Err(too_large());
    }
    // A kiosk sends only its own site's devices' cards: checked before a byte is stored.
    if let Some(device) = device {
        let kiosk_id = kiosk.id;
        state
            .read(move |c| {
                Ok(crate::store::sites::ensure_kiosk_may_name(
                    c,
                    kiosk_id,
                    &[(crate::store::sites::Kind::Device, device.0)],
                )?)
            })
            .await?;
    }
    let _slot = state.upload_slot(kiosk.id).ok_or_else(|| {
        ApiError::Busy(format!(
            "this kiosk is sending {} files already; try again shortly",
            limits.card_uploads_per_kiosk
        ))
    })?;
    room_for(&state, declared.unwrap_or(0))?;
    // The upload is written to a file of its own first (the request may be slow); the
    // store copies it in under the store's lock.
    let incoming = state.config().data_dir.join("store").join("incoming");
    tokio::fs::create_dir_all(&incoming)
        .await
        .map_err(|e| ApiError::Internal(format!("incoming folder: {e}")))?;
    let temp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&incoming)
        .map_err(|e| ApiError::Internal(format!("incoming file: {e}")))?
        .into_temp_path();
    let mut file = tokio::fs::File::create(&temp)
        .await
        .map_err(|e| ApiError::Internal(format!("incoming file: {e}")))?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    let mut checked_at = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
        size += chunk.len() as u64;
        if size > largest {
            return Err(too_large());
        }
        if size - checked_at >= SPACE_CHECK_EVERY {
            checked_at = size;
            room_for(
                &state,
                declared.map_or(SPACE_CHECK_EVERY, |n| n.saturating_sub(size)),
            )?;
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::Internal(format!("incoming file: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::Internal(format!("incoming file: {e}")))?;
    drop(file);
    let archive = state.archive().clone();
    let temp_path = temp.to_path_buf();
    let record = tokio::task::spawn_blocking(move || {
        crate::ops::ingest::remote::store_received(&archive, &temp_path, hash, card_path)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| match e {
        crate::ops::ingest::remote::ReceiveError::Busy => ApiError::Busy(e.to_string()),
        crate::ops::ingest::remote::ReceiveError::Mismatch => ApiError::BadRequest(e.to_string()),
        crate::ops::ingest::remote::ReceiveError::Store(s) => s.into(),
    })?;
    drop(temp);
    let now = state.now();
    let (photo, outcome) = state
        .db(move |c| {
            Ok(crate::ops::ingest::remote::commit_received(
                c, &record, device, kiosk.id, now,
            )?)
        })
        .await?;
    if outcome == consentcam_media::Outcome::Stored {
        state.analyse_in_background();
    }
    let status = match outcome {
        consentcam_media::Outcome::Stored => axum::http::StatusCode::CREATED,
        _ => axum::http::StatusCode::OK,
    };
    Ok((
        status,
        Json(serde_json::json!({ "photo_id": photo.0, "outcome": outcome })),
    ))
}

/// Records a batch in order, each event once. Stops at the first event it cannot record,
/// so the kiosk keeps that one and everything after it (order is never broken).
pub async fn events(
    State(state): State<AppState>,
    KioskCaller(kiosk): KioskCaller,
    Json(batch): Json<EventBatch>,
) -> Result<Json<EventReceipt>, ApiError> {
    let received = state.now();
    #[cfg(feature = "fault-injection")]
    if crate::infra::faults::answer_before_commit() {
        return answer_before_commit(state, kiosk.id, batch, received).await;
    }
    Ok(Json(
        state
            .db(move |c| {
                Ok(crate::ops::custody::record_batch(
                    c, kiosk.id, &batch, received,
                )?)
            })
            .await?,
    ))
}

/// The negative control's wrong order: the answer first, the write 300 ms later.
#[cfg(feature = "fault-injection")]
async fn answer_before_commit(
    state: AppState,
    kiosk: i64,
    batch: EventBatch,
    received: jiff::Timestamp,
) -> Result<Json<EventReceipt>, ApiError> {
    let unwritten = batch.clone();
    let receipt = state
        .db(move |c| {
            Ok(crate::ops::custody::answer_unwritten(
                c, kiosk, &unwritten, received,
            )?)
        })
        .await?;
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let written = state
            .db(move |c| {
                Ok(crate::ops::custody::record_batch(
                    c, kiosk, &batch, received,
                )?)
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "a late kiosk write failed");
        }
    });
    Ok(Json(receipt))
}

/// Kiosk events kept without effect (see [`crate::rules::kiosk`]), newest first.
pub async fn refused_events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<custody::RefusedEvent>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| Ok(custody::refused_events(c, site, 500)?))
            .await?,
    ))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    subject: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    /// The next page: entries older than this id (the last of the previous page).
    before: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<audit::Row>>, ApiError> {
    let filter = audit::Filter {
        action_prefix: q.action,
        actor: q.actor,
        subject: q.subject,
        since: q.since,
        until: q.until,
        limit: Some(q.limit.unwrap_or(200).min(5000)),
        before: q.before,
        site: caller.account.site_id,
    };
    Ok(Json(
        state.read(move |c| Ok(audit::list(c, &filter)?)).await?,
    ))
}
