//! The admin's kiosk page: which kiosks may call the server, a new token for one (shown
//! once), revoking a lost one, and the events the server refused to act on.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use crate::infra::password;
use crate::store::{custody, registry};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

#[derive(Template)]
#[template(path = "admin_kiosks.html")]
struct KiosksPage {
    c: Chrome,
    kiosks: Vec<registry::KioskRecord>,
    refused: Vec<custody::RefusedEvent>,
    /// A token just made: (kiosk name, token), shown once.
    new_token: Option<(String, String)>,
}

async fn page(
    state: &AppState,
    caller: &Caller,
    session: &Session,
    new_token: Option<(String, String)>,
) -> Result<Response, PageError> {
    let c = Chrome::new(state, caller, session).await;
    let site = caller.account.site_id;
    let (kiosks, refused) = state
        .read(move |c| {
            let kiosks = crate::store::sites::retain_visible(c, site, registry::kiosks(c)?, |k| {
                (crate::store::sites::Kind::Kiosk, k.id)
            })?;
            Ok((kiosks, custody::refused_events(c, site, 200)?))
        })
        .await?;
    render(&KiosksPage {
        c,
        kiosks,
        refused,
        new_token,
    })
}

pub async fn kiosks(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    page(&state, &caller, &session, None).await
}

#[derive(Deserialize)]
pub struct KioskForm {
    name: String,
}

/// Registers a kiosk; the page shows its token once.
pub async fn add_kiosk(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<KioskForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let token = password::random_token();
    let hash = password::token_hash(&token);
    let (actor, name) = (caller.actor(), form.name.trim().to_owned());
    let (named, site) = (name.clone(), caller.account.site_id);
    let added = state
        .db(move |c| {
            Ok(crate::ops::registry::add_kiosk(
                c, &named, &hash, &actor, site, now,
            )?)
        })
        .await;
    match added {
        Ok(_) => page(&state, &caller, &session, Some((name, token))).await,
        Err(e) => finish(&session, Err(e), "/admin/kiosks").await,
    }
}

/// Gives a kiosk a new token; the old one stops working at once.
pub async fn rotate_kiosk(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let token = password::random_token();
    let hash = password::token_hash(&token);
    let actor = caller.actor();
    let name = state
        .db(move |c| {
            crate::ops::registry::rotate_kiosk(c, id, &hash, &actor, now)?;
            Ok(registry::kiosks(c)?
                .into_iter()
                .find(|k| k.id == id)
                .map(|k| k.name)
                .unwrap_or_default())
        })
        .await
        .map_err(|e| match e {
            ApiError::NotFound(m) => PageError::new(StatusCode::NOT_FOUND, m),
            other => other.into(),
        })?;
    page(&state, &caller, &session, Some((name, token))).await
}

/// Revokes a kiosk's token: its requests are refused from now on.
pub async fn revoke_kiosk(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            crate::ops::registry::revoke_kiosk(c, id, &caller.actor(), now)?;
            Ok("Kiosk revoked: its token no longer opens anything.".to_owned())
        })
        .await;
    finish(&session, result, "/admin/kiosks").await
}
