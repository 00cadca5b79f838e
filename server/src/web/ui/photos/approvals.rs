//! Asking for publication, a director's approval and publication, and the approval
//! queue.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::widgets::{DecisionRow, decision_row, local, parse_channel, photo_url};
use crate::domain::PhotoId;
use crate::ops::decisions;
use crate::ops::photos as ops;
use crate::rules::consent::Provenance;
use crate::store::{photos, registry, requests};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;
use crate::web::ui::chrome::{Chrome, PageError, finish, render};

#[derive(Deserialize)]
pub struct PublishForm {
    channel: String,
}

/// A director publishes the photo to a channel (the decision is taken again first).
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<PublishForm>,
) -> Result<Response, PageError> {
    let result = async {
        let channel = parse_channel(&form.channel)?;
        let published = crate::web::api::photos::publish_as(
            &state,
            caller.account.id,
            PhotoId(id),
            channel,
            crate::ops::publish::PublishOptions::default(),
        )
        .await?;
        let sent_on = if state.config().endpoint(channel).is_some() {
            " and is being sent to the channel's endpoint"
        } else {
            ""
        };
        Ok(format!(
            "Published: {} is in the {} outbox{sent_on}, without names or identifying metadata.",
            published.opaque_name,
            channel.code()
        ))
    }
    .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct RequestForm {
    channel: String,
}

pub async fn request_publication(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<RequestForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let channel = parse_channel(&form.channel)?;
            ops::request_publication(c, PhotoId(id), channel, caller.account.id, now)?;
            tracing::info!(photo = id, channel = %channel, "publication asked for");
            Ok(
                "Asked for publication: the request is in the director's approval queue."
                    .to_owned(),
            )
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    channel: String,
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<ApprovalForm>,
) -> Result<Response, PageError> {
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let back = if form.back == "queue" {
        "/approvals".to_owned()
    } else {
        photo_url(id)
    };
    let result = state
        .db(move |c| {
            let channel = parse_channel(&form.channel)?;
            let approve = match form.decision.as_str() {
                "approve" => true,
                "reject" => false,
                _ => return Err(ApiError::BadRequest("approve or reject".into())),
            };
            let decision = crate::ops::approvals::decide_approval(
                c,
                PhotoId(id),
                channel,
                approve,
                form.note.trim(),
                &crate::ops::Ctx {
                    by: Some(caller.account.id),
                    today,
                    now,
                    policy,
                },
            )?;
            Ok(if approve {
                format!(
                    "Approved. The photo is now {} for this channel.",
                    decision.verdict
                )
            } else {
                "Rejected, with your note.".to_owned()
            })
        })
        .await;
    finish(&session, result, &back).await
}

/// A request in the director's queue.
pub struct QueueRow {
    pub photo_id: i64,
    pub channel_code: String,
    pub channel: String,
    pub requested_by: String,
    pub requested_at: String,
    pub people: Vec<String>,
    pub caption: String,
    pub decision: DecisionRow,
    pub provenance_warning: bool,
}

#[derive(Template)]
#[template(path = "approvals.html")]
pub(super) struct ApprovalsPage {
    c: Chrome,
    queue: Vec<QueueRow>,
}

pub async fn approvals(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let (today, policy) = (state.today(), state.policy());
    let state_for_queue = state.clone();
    let site = caller.account.site_id;
    let queue = state
        .read(move |conn| {
            let channels = decisions::channels(conn)?;
            crate::store::sites::retain_visible(conn, site, requests::open(conn)?, |r| {
                (crate::store::sites::Kind::Photo, r.photo_id.0)
            })?
            .into_iter()
            .map(|r| {
                let photo = photos::photo(conn, r.photo_id)?;
                let (facts, people_facts) = photos::facts(conn, r.photo_id)?;
                let mut people: Vec<String> = people_facts.iter().map(|p| p.full_name()).collect();
                for _ in 0..facts.unknown_people {
                    people.push("unknown (not on the register)".into());
                }
                let decision =
                    decisions::decide_photo(conn, r.photo_id, r.channel, today, &policy)?;
                let name = channels
                    .iter()
                    .find(|(ch, _)| *ch == r.channel)
                    .map_or_else(|| r.channel.code(), |(_, n)| n.clone());
                Ok(QueueRow {
                    photo_id: r.photo_id.0,
                    channel_code: r.channel.code(),
                    channel: name.clone(),
                    requested_by: registry::account(conn, r.requested_by)?.username,
                    requested_at: local(&state_for_queue, r.requested_at),
                    people,
                    caption: photo.caption,
                    decision: decision_row(r.channel, name, &decision),
                    provenance_warning: photo.provenance != Provenance::Verified
                        && !photo.provenance_acknowledged,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    render(&ApprovalsPage { c, queue })
}
