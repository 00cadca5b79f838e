//! Logging in and out.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::Json;
use crate::domain::{AccountId, AccountRole};
use crate::store::audit::{self, Entry};
use crate::store::registry;
use crate::web::AppState;
use crate::web::access::{Caller, SESSION_KEY, SessionUser, cross_site};
use crate::web::error::ApiError;
use crate::web::password;

pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

#[derive(Serialize)]
pub struct SessionInfo {
    account_id: AccountId,
    username: String,
    role: AccountRole,
    csrf_token: String,
}

pub async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    headers: HeaderMap,
    Json(body): Json<Login>,
) -> Result<Json<SessionInfo>, ApiError> {
    if cross_site(&headers) {
        return Err(ApiError::Forbidden("cross-site logins are refused".into()));
    }
    let now = state.now();
    let user_key = format!("user:{}", body.username.trim().to_lowercase());
    let mut keys = vec![user_key.clone()];
    if let Some(Extension(ConnectInfo(addr))) = connect {
        keys.push(format!("ip:{}", addr.ip()));
    }
    state
        .throttle()
        .check(&keys, now)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;

    let username = body.username.trim().to_owned();
    let password = body.password;
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
    };
    session
        .insert(SESSION_KEY, &user)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(account = account.id.0, "logged in");
    Ok(Json(SessionInfo {
        account_id: account.id,
        username: account.username,
        role: account.role,
        csrf_token: user.csrf_token,
    }))
}

pub async fn logout(caller: Caller, session: Session) -> Result<Json<serde_json::Value>, ApiError> {
    session
        .flush()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(account = caller.account.id.0, "logged out");
    Ok(Json(serde_json::json!({ "logged_out": true })))
}

pub async fn current(caller: Caller) -> Json<SessionInfo> {
    Json(SessionInfo {
        account_id: caller.account.id,
        username: caller.account.username,
        role: caller.account.role,
        csrf_token: caller.csrf_token,
    })
}
