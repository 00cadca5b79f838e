//! The kiosk routes (bearer token) and the audit log.

use axum::extract::State;
use consentcam_wire::{EventBatch, EventReceipt, Roster};
use serde::Deserialize;

use super::{Json, Query};
use crate::store::audit;
use crate::store::custody;
use crate::web::AppState;
use crate::web::access::{Caller, KioskCaller};
use crate::web::error::ApiError;

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
                let roster = crate::groups::kiosk_roster(c, now, &tz, &policy, &key)?;
                let site =
                    crate::store::sites::site_of(c, crate::store::sites::Kind::Kiosk, kiosk.id)?
                        .flatten();
                Ok(match site {
                    Some(site) => crate::groups::for_site(c, roster, site)?,
                    None => roster,
                })
            })
            .await?,
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

/// Kiosk events kept without effect (see [`crate::kiosk_checks`]), newest first.
pub async fn refused_events(
    State(state): State<AppState>,
    _: Caller,
) -> Result<Json<Vec<custody::RefusedEvent>>, ApiError> {
    Ok(Json(
        state.read(|c| Ok(custody::refused_events(c, 500)?)).await?,
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
    _: Caller,
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
    };
    Ok(Json(
        state.read(move |c| Ok(audit::list(c, &filter)?)).await?,
    ))
}
