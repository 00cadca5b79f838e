//! What every page shares: the header (who is logged in, the CSRF token for its forms, a
//! one-off notice), rendering, the error page, and logging in and out.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::domain::AccountRole;
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::error::ApiError;

pub(crate) const FLASH_KEY: &str = "flash";

/// The header of every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub username: String,
    pub role: AccountRole,
    pub csrf: String,
    /// A notice left by the last form post: (is it an error, the sentence).
    pub flash: Option<(bool, String)>,
    /// The caller manages the install's sites: an admin of every site, where there are
    /// sites.
    pub manages_sites: bool,
    /// An admin of every site (the trust's publishing is theirs).
    pub of_every_site: bool,
}

impl Chrome {
    /// The header for `caller`, taking the notice the last form post left.
    pub async fn new(state: &AppState, caller: &Caller, session: &Session) -> Self {
        let flash = session
            .remove::<(bool, String)>(FLASH_KEY)
            .await
            .ok()
            .flatten();
        let manages_sites = caller.account.role == AccountRole::Admin
            && caller.account.site_id.is_none()
            && state.has_sites().await;
        Self {
            username: caller.account.username.clone(),
            role: caller.account.role,
            csrf: caller.csrf_token.clone(),
            flash,
            manages_sites,
            of_every_site: caller.account.role == AccountRole::Admin && caller.of_every_site(),
        }
    }

    pub fn is_director(&self) -> bool {
        self.role == AccountRole::Director
    }

    pub fn is_admin(&self) -> bool {
        self.role == AccountRole::Admin
    }

    pub fn is_oversight(&self) -> bool {
        matches!(self.role, AccountRole::Director | AccountRole::Admin)
    }
}

/// Renders a template into a page.
pub fn render(template: &impl Template) -> Result<Response, PageError> {
    template
        .render()
        .map(|html| Html(html).into_response())
        .map_err(|e| ApiError::Internal(format!("template: {e}")).into())
}

/// The end of a form post: on success a notice and back to `back`; a mistake the user can
/// fix (a conflict, an invalid field) is shown as a notice on the same page; anything else
/// is an error page.
pub async fn finish(
    session: &Session,
    result: Result<String, ApiError>,
    back: &str,
) -> Result<Response, PageError> {
    let notice = match result {
        Ok(message) => (false, message),
        Err(
            e @ (ApiError::Conflict(_) | ApiError::Unprocessable { .. } | ApiError::BadRequest(_)),
        ) => (true, e.to_string()),
        Err(e) => return Err(e.into()),
    };
    session
        .insert(FLASH_KEY, notice)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Redirect::to(back).into_response())
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let status = e.status();
        if let ApiError::Internal(detail) = &e {
            tracing::error!(%detail, "internal error on a page");
        }
        Self {
            status,
            message: e.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

pub async fn logout(caller: Caller, session: Session) -> Result<Response, PageError> {
    session
        .flush()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(account = caller.account.id.0, "logged out");
    Ok(Redirect::to("/login").into_response())
}

/// A session on the account page.
pub struct SessionRow {
    pub handle: String,
    pub ends: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    sessions: Vec<SessionRow>,
    second_factor: bool,
    email: String,
    /// The mail server's answer when it refused the address for good.
    refused: String,
    reminders: Vec<(crate::rules::reminders::Kind, bool)>,
}

/// The caller's own account: where they are logged in, and a button to end each.
pub async fn account(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let current = session.id().map(|id| id.to_string());
    let now = state.now().as_second();
    let id = caller.account.id;
    let st = state.clone();
    let me = caller.account.clone();
    let (email, refused, reminders) = state
        .read(move |conn| {
            let me = crate::store::registry::account(conn, me.id)?;
            let refused = match &me.email {
                Some(address) => crate::store::mail::refusal_of(conn, address)?,
                None => None,
            };
            let reminders = crate::store::mail::reminder_choices(conn, &me)?;
            Ok((
                me.email.unwrap_or_default(),
                refused.unwrap_or_default(),
                reminders,
            ))
        })
        .await?;
    let sessions = state
        .read(move |conn| {
            Ok(
                crate::web::session_store::sessions_of(conn, id, current.as_deref(), now)?
                    .into_iter()
                    .map(|(_, own)| SessionRow {
                        ends: jiff::Timestamp::from_second(own.expires_at)
                            .map_or_else(|_| "-".into(), |t| st.local_time(t)),
                        handle: own.handle,
                        current: own.current,
                    })
                    .collect(),
            )
        })
        .await?;
    render(&AccountPage {
        c,
        sessions,
        second_factor: caller.account.second_factor,
        email,
        refused,
        reminders,
    })
}

/// Ends one of the caller's sessions from the account page.
pub async fn end_session(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    crate::web::access::Path(handle): crate::web::access::Path<String>,
) -> Result<Response, PageError> {
    let now = state.now();
    let this_one = session
        .id()
        .is_some_and(|id| crate::web::session_store::handle_of(&id.to_string()) == handle);
    let result = state
        .db(move |c| {
            let account = caller.account.id;
            let find = |tx: &rusqlite::Connection| {
                crate::web::session_store::own_session(tx, account, &handle, now.as_second())
            };
            if !crate::ops::sign_in::end_own_session(c, account, now, find)? {
                return Err(ApiError::Conflict("that session has already ended".into()));
            }
            Ok("That session is ended: whoever was using it must log in again.".to_owned())
        })
        .await;
    if this_one && result.is_ok() {
        // Ending the session in use is logging out: nothing may be saved into it again.
        session
            .flush()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(Redirect::to("/login").into_response());
    }
    finish(&session, result, "/account").await
}
