//! Logging in: one function for the JSON API and the login page, so both throttle, audit
//! and rotate the session the same way.

use std::net::IpAddr;

use tower_sessions::Session;

use super::AppState;
use super::access::{SESSION_KEY, SessionUser};
use super::error::ApiError;
use super::password;
use crate::store::audit::{self, Entry};
use crate::store::registry;

/// A successful login: the account and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub account: registry::Account,
    pub csrf_token: String,
}

/// Checks the password (throttled per account and per address), records the attempt in
/// the audit log, and on success gives `session` a fresh id and the account.
pub async fn log_in(
    state: &AppState,
    address: Option<IpAddr>,
    session: &Session,
    username: &str,
    password: String,
) -> Result<LoggedIn, ApiError> {
    let now = state.now();
    let user_key = format!("user:{}", username.trim().to_lowercase());
    let mut keys = vec![user_key.clone()];
    if let Some(ip) = address {
        keys.push(format!("ip:{ip}"));
    }
    state
        .throttle()
        .check(&keys, now)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;

    let username = username.trim().to_owned();
    let account = state
        .db(move |c| {
            let account = registry::account_by_username(c, &username)?;
            let ok = password::verify(
                &password,
                account.as_ref().map(|a| a.password_hash.as_str()),
            );
            let account = account.filter(|a| ok && !a.disabled);
            audit::append(
                c,
                &Entry {
                    at: now,
                    actor: &account
                        .as_ref()
                        .map_or("anonymous".into(), |a| format!("account:{}", a.id)),
                    action: if account.is_some() {
                        "account.login"
                    } else {
                        "account.login_failed"
                    },
                    subject: &account
                        .as_ref()
                        .map_or("account:?".into(), |a| format!("account:{}", a.id)),
                    details: serde_json::json!({}),
                },
            )?;
            Ok(account)
        })
        .await?;
    let Some(account) = account else {
        state.throttle().fail(&keys, now);
        return Err(ApiError::Unauthenticated);
    };
    state.throttle().succeed(&user_key);
    // A fresh session id at login: a planted cookie never becomes a logged-in session.
    session
        .cycle_id()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = SessionUser {
        account_id: account.id,
        csrf_token: password::random_token(),
        epoch: account.sessions_epoch,
    };
    session
        .insert(SESSION_KEY, &user)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(account = account.id.0, "logged in");
    Ok(LoggedIn {
        account,
        csrf_token: user.csrf_token,
    })
}
