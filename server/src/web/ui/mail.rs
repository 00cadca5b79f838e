//! Mail pages: the outbox for admins (queued, sent and failed, never a body, with "send
//! again" and a test message), each account's address, and the reminders an account
//! turns on or off on its own page.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use crate::domain::AccountId;
use crate::rules::reminders::Kind;
use crate::store::mail;
use crate::web::AppState;
use crate::web::access::{Caller, Path};
use crate::web::error::ApiError;

/// A row of the outbox as the page shows it.
pub struct MailRow {
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub state: String,
    pub failures: u32,
    pub last_error: String,
    pub queued: String,
    pub sent: String,
}

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct MailPage {
    c: Chrome,
    configured: bool,
    showing: String,
    queued: u64,
    sent: u64,
    failed: u64,
    rows: Vec<MailRow>,
}

#[derive(Deserialize)]
pub struct MailQuery {
    state: Option<String>,
}

/// `/admin/mail`: the latest 200 messages of the caller's site (one state with
/// `?state=`).
pub async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Query(query): Query<MailQuery>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let showing = query
        .state
        .filter(|s| matches!(s.as_str(), "queued" | "sent" | "failed"));
    let site = caller.account.site_id;
    let filter = showing.clone();
    let (counts, listed) = state
        .read(move |conn| {
            Ok((
                mail::counts(conn, site)?,
                mail::listing(conn, site, filter.as_deref(), 200)?,
            ))
        })
        .await?;
    let rows = listed
        .into_iter()
        .map(|m| MailRow {
            id: m.id,
            kind: m.kind,
            to: m.to,
            subject: m.subject,
            state: m.state,
            failures: m.failures,
            last_error: m.last_error.unwrap_or_default(),
            queued: state.local_time(m.queued_at),
            sent: m.sent_at.map(|t| state.local_time(t)).unwrap_or_default(),
        })
        .collect();
    render(&MailPage {
        c,
        configured: state.config().mail.is_some(),
        showing: showing.unwrap_or_default(),
        queued: counts.0,
        sent: counts.1,
        failed: counts.2,
        rows,
    })
}

/// "Send again" for a failed message.
pub async fn send_again(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            crate::ops::mail::send_again(c, id, &caller.actor(), now)?;
            Ok("The message is queued again.".to_owned())
        })
        .await;
    finish(&session, result, "/admin/mail").await
}

#[derive(Deserialize)]
pub struct TestForm {
    to: String,
}

/// Queues a test message through the outbox.
pub async fn send_test(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<TestForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let Some(settings) = state.config().mail.clone() else {
        let refused = Err(ApiError::Conflict(
            "mail is not set up: add [mail] to the config (see the README)".into(),
        ));
        return finish(&session, refused, "/admin/mail").await;
    };
    let result = state
        .db(move |c| {
            crate::ops::mail::queue_test(
                c,
                &settings,
                form.to.trim(),
                caller.account.site_id,
                &caller.actor(),
                now,
            )?;
            Ok(
                "A test message is queued: it is listed below once the worker has tried it."
                    .to_owned(),
            )
        })
        .await;
    finish(&session, result, "/admin/mail").await
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

/// An admin sets where an account's reminders go.
pub async fn set_email(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<EmailForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let email = Some(form.email.trim()).filter(|e| !e.is_empty());
            crate::ops::registry::set_email(c, AccountId(id), email, &caller.actor(), now)?;
            Ok(match email {
                Some(_) => "Address saved.".to_owned(),
                None => "Address removed: the account gets no reminders.".to_owned(),
            })
        })
        .await;
    finish(&session, result, "/admin/accounts").await
}

/// The account page's reminder form: a checkbox per reminder open to the role, each
/// named `remind`; a box not sent is off.
pub async fn set_reminders(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let now = state.now();
    let role = caller.account.role;
    let result = async {
        let mut on = Vec::new();
        for (field, value) in &form {
            if field == "remind" {
                let kind = Kind::from_code(value)
                    .ok_or_else(|| ApiError::invalid(format!("no reminder is called {value:?}")))?;
                on.push(kind);
            }
        }
        let decided: Vec<(Kind, bool)> = Kind::ALL
            .into_iter()
            .filter(|k| k.open_to(role))
            .map(|k| (k, on.contains(&k)))
            .collect();
        if let Some(k) = on.iter().find(|k| !k.open_to(role)) {
            return Err(ApiError::invalid(format!(
                "the {} reminder is not open to your role",
                k.code()
            )));
        }
        state
            .db(move |c| {
                crate::ops::registry::set_mail_choices(
                    c,
                    caller.account.id,
                    &decided,
                    &caller.actor(),
                    now,
                )?;
                Ok("Reminders saved.".to_owned())
            })
            .await
    }
    .await;
    finish(&session, result, "/account").await
}
