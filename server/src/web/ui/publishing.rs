//! The admin's publishing page: where each channel's publications are sent on to (the
//! configuration's `[deliver.<channel>]`) and a connection check for each. The endpoints
//! are the trust's: an admin of one site is not shown the page.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::error::ApiError;

/// A configured endpoint as the page lists it: never its token or password.
pub struct EndpointRow {
    pub channel: String,
    pub kind: &'static str,
    pub url: String,
    pub user: String,
    pub draft_post: bool,
}

#[derive(Template)]
#[template(path = "admin_publishing.html")]
struct PublishingPage {
    c: Chrome,
    endpoints: Vec<EndpointRow>,
}

pub async fn publishing(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    super::sites::of_every_site(&caller)?;
    let c = Chrome::new(&state, &caller, &session).await;
    let endpoints = state
        .config()
        .deliver
        .iter()
        .map(|(channel, e)| EndpointRow {
            channel: channel.clone(),
            kind: e.kind.code(),
            url: e.url.clone(),
            user: e.user.clone().unwrap_or_default(),
            draft_post: e.draft_post,
        })
        .collect();
    render(&PublishingPage { c, endpoints })
}

#[derive(Deserialize)]
pub struct CheckForm {
    channel: String,
}

/// Checks the connection to one channel's endpoint and says how it went.
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<CheckForm>,
) -> Result<Response, PageError> {
    super::sites::of_every_site(&caller)?;
    let config = state.config().clone();
    let result = tokio::task::spawn_blocking(move || {
        crate::ops::publish::forward::check(&config, &form.channel)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
    .and_then(|checked| checked.map_err(ApiError::Conflict));
    finish(&session, result, "/admin/publishing").await
}
