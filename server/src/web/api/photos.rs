//! Photos: tags, captions, decisions, approvals, takedowns.

use axum::extract::State;
use axum::http::StatusCode;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{Json, Query};
use crate::domain::{Channel, PersonId, PhotoId};
use crate::ops::decisions::{self, ChannelDecision};
use crate::ops::photos as ops;
use crate::rules::consent::{FaceResolution, Verdict};
use crate::store::approvals;
use crate::store::faces;
use crate::store::photos;
use crate::store::publications;
use crate::store::sites::{self, Kind};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

pub use crate::store::photos::PhotoStatus;

/// A photo's status (one query; the gallery computes it for a whole page at once).
pub(crate) fn status(c: &Connection, photo: &photos::Photo) -> Result<PhotoStatus, ApiError> {
    Ok(photos::status(c, photo.id)?)
}

#[derive(Deserialize)]
pub struct ListQuery {
    session: Option<i64>,
    status: Option<PhotoStatus>,
    limit: Option<u32>,
    /// The next page: the photos after this id (the last of the previous page).
    after: Option<i64>,
}

/// Photos, newest first, a page at a time (`limit`, default 200, at most 1,000; pass the
/// last id as `after` for the next page).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<photos::GalleryRow>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                Ok(photos::gallery(
                    c,
                    &photos::GalleryPage {
                        session: query.session,
                        status: query.status,
                        after: query.after.map(PhotoId),
                        newest_first: true,
                        limit: query.limit.unwrap_or(200).clamp(1, 1000),
                        site,
                    },
                )?)
            })
            .await?,
    ))
}

#[derive(Serialize)]
pub struct PhotoPage {
    photo: photos::Photo,
    status: PhotoStatus,
    faces: Vec<faces::Face>,
    tags: Vec<faces::Tag>,
    approvals: Vec<approvals::Approval>,
    publications: Vec<publications::Publication>,
    decisions: Vec<ChannelDecision>,
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PhotoPage>, ApiError> {
    let (today, policy) = (state.today(), state.policy());
    Ok(Json(
        state
            .read(move |c| {
                let id = PhotoId(id);
                let photo = photos::photo(c, id)?;
                Ok(PhotoPage {
                    status: status(c, &photo)?,
                    photo,
                    faces: faces::faces(c, id)?,
                    tags: faces::tags(c, id)?,
                    approvals: approvals::approvals(c, id)?,
                    publications: publications::publications_of_photo(c, id)?,
                    decisions: decisions::for_role(
                        decisions::decide_all(c, id, today, &policy)?,
                        caller.account.role,
                    ),
                })
            })
            .await?,
    ))
}

pub async fn decisions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ChannelDecision>>, ApiError> {
    let (today, policy) = (state.today(), state.policy());
    let role = caller.account.role;
    Ok(Json(
        state
            .read(move |c| {
                Ok(decisions::for_role(
                    decisions::decide_all(c, PhotoId(id), today, &policy)?,
                    role,
                ))
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceBody {
    #[serde(flatten)]
    resolution: FaceResolution,
}

pub async fn resolve_face(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, face)): Path<(i64, i64)>,
    Json(body): Json<FaceBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            if let FaceResolution::Person(person) = body.resolution {
                sites::ensure_visible(c, caller.account.site_id, &[(Kind::Person, person.0)])?;
            }
            ops::resolve_face(c, PhotoId(id), face, body.resolution, &caller.actor(), now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawBody {
    /// The box in pixels of the upright picture (as the photo page shows it).
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    /// Assign the new face to this person at once.
    person_id: Option<i64>,
}

/// Staff add a face box the detector missed (a cover needs a box to paint, C13).
pub async fn draw_face(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DrawBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let rect = faces::FaceRect {
        x: body.x,
        y: body.y,
        w: body.w,
        h: body.h,
    };
    let face = state
        .db(move |c| {
            if let Some(person) = body.person_id {
                sites::ensure_visible(c, caller.account.site_id, &[(Kind::Person, person)])?;
            }
            Ok(crate::ops::photos::draw_face(
                c,
                PhotoId(id),
                rect,
                body.person_id.map(PersonId),
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: face })))
}

/// A director acknowledges that a photo's faces were not looked for (C12).
pub async fn acknowledge_faces(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<NoteBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            Ok(crate::ops::photos::acknowledge_faces(
                c,
                PhotoId(id),
                caller.account.id,
                &body.note,
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    person_id: Option<i64>,
    /// Someone not on the register.
    #[serde(default)]
    unknown: bool,
}

#[derive(Serialize)]
pub struct Created {
    id: i64,
}

pub async fn add_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<TagBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let person = match (body.person_id, body.unknown) {
        (Some(p), false) => Some(PersonId(p)),
        (None, true) => None,
        _ => {
            return Err(ApiError::invalid(
                "send either person_id or \"unknown\": true",
            ));
        }
    };
    let tag = state
        .db(move |c| {
            if let Some(person) = person {
                sites::ensure_visible(c, caller.account.site_id, &[(Kind::Person, person.0)])?;
            }
            let tag = ops::add_tag(c, PhotoId(id), person, &caller.actor(), now)?;
            Ok(tag)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: tag })))
}

pub async fn remove_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tag)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            ops::remove_tag(c, PhotoId(id), tag, &caller.actor(), now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoveredBody {
    covered: bool,
}

pub async fn set_covered(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tag)): Path<(i64, i64)>,
    Json(body): Json<CoveredBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            ops::set_covered(c, PhotoId(id), tag, body.covered, &caller.actor(), now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptionBody {
    caption: String,
}

pub async fn set_caption(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<CaptionBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            ops::set_caption(c, PhotoId(id), &body.caption, &caller.actor(), now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    confirmed: bool,
}

pub async fn set_confirmation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ConfirmBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            ops::set_people_confirmed(c, PhotoId(id), body.confirmed, &caller.actor(), now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    channel: Channel,
    approve: bool,
    #[serde(default)]
    note: String,
}

#[derive(Serialize)]
pub struct ApprovalAnswer {
    verdict: Verdict,
    decision: crate::rules::consent::Decision,
}

pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ApprovalBody>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let decision = state
        .db(move |c| {
            Ok(crate::ops::approvals::decide_approval(
                c,
                PhotoId(id),
                body.channel,
                body.approve,
                &body.note,
                &crate::ops::Ctx {
                    by: Some(caller.account.id),
                    today,
                    now,
                    policy,
                },
            )?)
        })
        .await?;
    Ok(Json(ApprovalAnswer {
        verdict: decision.verdict,
        decision,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    note: String,
}

pub async fn acknowledge_provenance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<NoteBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            ops::acknowledge_provenance(c, PhotoId(id), caller.account.id, &body.note, now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn takedowns(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<publications::Publication>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| Ok(publications::open_takedowns_in(c, site)?))
            .await?,
    ))
}

/// Marks a takedown done, for the API and the page: the outbox copy is removed first
/// (no database lock held), then the task is recorded done and, if the channel's endpoint
/// has the file, its removal there is queued (and the forwarder woken).
pub async fn finish_takedown(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<crate::ops::publish::TakedownDone, ApiError> {
    let now = state.now();
    let (publication, outstanding) = state
        .db(move |c| {
            Ok((
                publications::open_takedown(c, id)?,
                crate::store::deliveries::removal_outstanding(c, id)?,
            ))
        })
        .await?;
    // A WordPress site still holding the copy: the task stays open and says why.
    if let Some(why) = outstanding {
        state.forward_now();
        return Err(ApiError::Conflict(why));
    }
    let outbox = crate::ops::publish::configured_outbox(state.config(), state.archive());
    let outbox_removed = tokio::task::spawn_blocking(move || {
        crate::ops::publish::remove_outbox_copy(&outbox, &publication)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    // The storage holding the copy failed or is away: the task stays open, and is done
    // again later (503 with Retry-After).
    .map_err(|e| ApiError::Unavailable(format!("cannot remove the outbox copy: {e}")))?;
    let by = caller.account.id;
    let done = state
        .db(move |c| {
            Ok(crate::ops::publish::record_takedown_done(
                c,
                id,
                by,
                outbox_removed,
                now,
            )?)
        })
        .await?;
    if done.endpoint_asked {
        state.forward_now();
    }
    Ok(done)
}

pub async fn takedown_done(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<crate::ops::publish::TakedownDone>, ApiError> {
    Ok(Json(finish_takedown(&state, &caller, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    channel: Channel,
    max_long_edge: Option<u32>,
}

/// Publishes: the decision is taken again now (C10); refused unless Allowed.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<PublishBody>,
) -> Result<(StatusCode, Json<crate::ops::publish::Published>), ApiError> {
    if body
        .max_long_edge
        .is_some_and(|e| !(64..=20_000).contains(&e))
    {
        return Err(ApiError::invalid(
            "max_long_edge must be between 64 and 20000 pixels",
        ));
    }
    let options = crate::ops::publish::PublishOptions {
        max_long_edge: body.max_long_edge,
        ..Default::default()
    };
    let published = publish_as(
        &state,
        caller.account.id,
        PhotoId(id),
        body.channel,
        options,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(published)))
}

/// Publishes a photo to a channel on behalf of a director (API and pages), then wakes the
/// delivery to the channel's web endpoint, if it has one.
pub(crate) async fn publish_as(
    state: &AppState,
    by: crate::domain::AccountId,
    photo: PhotoId,
    channel: crate::domain::Channel,
    mut options: crate::ops::publish::PublishOptions,
) -> Result<crate::ops::publish::Published, ApiError> {
    use crate::ops::publish::{self, Prepared};
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let config = state.config().clone();
    // A HEIF original is decoded by the server's own sandboxed workers.
    options.sandbox = config.sandbox.clone();
    // Decided and planned on a reading connection; the copy made with no connection at
    // all (decoding and encoding a 12 MP picture takes a while); recorded by the writer
    // in a short transaction that decides again.
    let (prepared, content_hash) = {
        let policy = policy.clone();
        state
            .read(move |c| {
                let stored = photos::photo(c, photo)?;
                Ok((
                    publish::prepare(c, photo, channel, today, &policy)?,
                    stored.content_hash,
                ))
            })
            .await?
    };
    let planned = match prepared {
        Prepared::Refused(decision) => {
            let error = state
                .db(move |c| Ok(publish::record_refusal(c, Some(by), photo, *decision, now)))
                .await?;
            return Err(error.into());
        }
        Prepared::Ready(planned) => planned,
    };
    let outbox = publish::configured_outbox(&config, state.archive());
    let archive = state.archive().clone();
    let (copy, planned, outbox) = tokio::task::spawn_blocking(move || {
        let original = publish::read_original(&archive, &content_hash)?;
        publish::make_copy(&original, &outbox, photo, channel, &planned, &options, now)
            .map(|copy| (copy, planned, outbox))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let published = state
        .db(move |c| {
            let ctx = crate::ops::Ctx {
                by: Some(by),
                today,
                now,
                policy,
            };
            publish::record(c, copy, &planned, &outbox, photo, channel, &ctx)
                .map_err(ApiError::from)
        })
        .await?;
    state.forward_now();
    Ok(published)
}
