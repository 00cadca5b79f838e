//! Logging in and out.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::Json;
use crate::domain::{AccountId, AccountRole};
use crate::web::AppState;
use crate::web::access::{Caller, cross_site};
use crate::web::error::ApiError;
use crate::web::login::{LoggedIn, log_in};

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
    let address = crate::web::login::client_address(
        connect.map(|Extension(ConnectInfo(addr))| addr),
        &headers,
        &state.config().trusted_proxies,
    );
    let LoggedIn {
        account,
        csrf_token,
    } = log_in(&state, address, &session, &body.username, body.password).await?;
    Ok(Json(SessionInfo {
        account_id: account.id,
        username: account.username,
        role: account.role,
        csrf_token,
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

/// The caller's sessions (this one marked `current`), newest first.
pub async fn own_sessions(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Json<Vec<crate::web::session_store::OwnSession>>, ApiError> {
    let current = session.id().map(|id| id.to_string());
    let now = state.now().as_second();
    let id = caller.account.id;
    Ok(Json(
        state
            .db(move |c| {
                Ok(
                    crate::web::session_store::sessions_of(c, id, current.as_deref(), now)?
                        .into_iter()
                        .map(|(_, own)| own)
                        .collect(),
                )
            })
            .await?,
    ))
}

/// Ends one of the caller's sessions (another device left logged in, say).
pub async fn end_session(
    State(state): State<AppState>,
    caller: Caller,
    super::Path(handle): super::Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let now = state.now();
    let ended = state
        .db(move |c| crate::web::login::end_own_session(c, &caller, &handle, now))
        .await?;
    if ended {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("you have no such session".into()))
    }
}
