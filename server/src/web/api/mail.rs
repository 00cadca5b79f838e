//! Mail: the outbox (admins), an account's address (admins), and the caller's own
//! reminders.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Json, Query};
use crate::domain::AccountId;
use crate::rules::reminders::Kind;
use crate::store::{mail, registry};
use crate::web::AppState;
use crate::web::access::{Caller, Path};
use crate::web::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    state: Option<String>,
}

/// The latest 200 messages of the caller's site, without bodies.
pub async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<Vec<mail::Listed>>, ApiError> {
    if let Some(s) = &query.state
        && !matches!(s.as_str(), "queued" | "sent" | "failed")
    {
        return Err(ApiError::invalid("state is queued, sent or failed"));
    }
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| Ok(mail::listing(c, site, query.state.as_deref(), 200)?))
            .await?,
    ))
}

/// "Send again" for a failed message.
pub async fn send_again(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| Ok(crate::ops::mail::send_again(c, id, &caller.actor(), now)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: Option<String>,
}

/// Sets (or with `null` clears) where an account's reminders go.
pub async fn set_email(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<EmailBody>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            Ok(crate::ops::registry::set_email(
                c,
                AccountId(id),
                body.email.as_deref(),
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct Reminders {
    email: Option<String>,
    /// The mail server's answer when it refused the address for good.
    refused: Option<String>,
    /// Each reminder open to the caller's role, on or off.
    reminders: std::collections::BTreeMap<&'static str, bool>,
}

/// The caller's address and reminders.
pub async fn reminders(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Reminders>, ApiError> {
    let id = caller.account.id;
    Ok(Json(
        state
            .read(move |c| {
                let me = registry::account(c, id)?;
                let refused = match &me.email {
                    Some(address) => mail::refusal_of(c, address)?,
                    None => None,
                };
                let reminders = mail::reminder_choices(c, &me)?
                    .into_iter()
                    .map(|(k, on)| (k.code(), on))
                    .collect();
                Ok(Reminders {
                    email: me.email,
                    refused,
                    reminders,
                })
            })
            .await?,
    ))
}

/// Turns the caller's reminders on or off: `{"takedowns": true, ...}`; kinds left out
/// keep their setting.
pub async fn set_reminders(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<std::collections::BTreeMap<String, bool>>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    let decided = body
        .into_iter()
        .map(|(code, on)| {
            Kind::from_code(&code)
                .map(|k| (k, on))
                .ok_or_else(|| ApiError::invalid(format!("no reminder is called {code:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    state
        .db(move |c| {
            Ok(crate::ops::registry::set_mail_choices(
                c,
                caller.account.id,
                &decided,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
