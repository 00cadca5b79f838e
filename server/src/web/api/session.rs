//! Logging in and out.

use crate::rules::health::Health;
use axum::http::StatusCode;
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
use crate::web::login::{LoggedIn, Login, log_in};

/// The server answers; and whether the database, the photo storage, the disk and the
/// backups are well: 200 when all are, 503 (with what is wrong, never a detail of it)
/// when one is not, so a monitoring tool needs nothing but the status code.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    // One query: the records answering it is the database being well.
    let backups = state.read(|c| Ok(crate::store::backups::newest(c)?)).await;
    let database_ok = backups.is_ok();
    let newest_backup = backups.ok().flatten().map(|run| run.made_at);
    let storage_ok = state.storage_reachable().await;
    let config = state.config();
    let health = crate::rules::health::judge(&crate::rules::health::Facts {
        database_ok,
        storage_ok,
        free_bytes: crate::infra::files::available_bytes(&config.data_dir).ok(),
        reserve_bytes: config.limits.free_space_reserve_bytes(),
        newest_backup,
        stale_after: jiff::SignedDuration::from_hours(i64::from(config.backup.stale_hours)),
        now: state.now(),
    });
    let status = if health.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
    /// The authenticator app's 6-digit code or a recovery code, for accounts with a
    /// second factor.
    #[serde(default)]
    code: Option<String>,
}

#[derive(Serialize)]
pub struct SessionInfo {
    account_id: AccountId,
    username: String,
    role: AccountRole,
    csrf_token: String,
    /// Whether the account logs in with a second factor.
    second_factor: bool,
}

pub async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Json<SessionInfo>, ApiError> {
    if cross_site(&headers) {
        return Err(ApiError::Forbidden("cross-site logins are refused".into()));
    }
    let address = crate::web::login::client_address(
        connect.map(|Extension(ConnectInfo(addr))| addr),
        &headers,
        &state.config().trusted_proxies,
    );
    let login = log_in(
        &state,
        address,
        &session,
        &body.username,
        body.password,
        body.code.as_deref(),
    )
    .await?;
    let LoggedIn {
        account,
        csrf_token,
    } = match login {
        Login::Done(done) => done,
        Login::CodeNeeded => {
            let _ = session.flush().await;
            return Err(ApiError::SecondFactor(
                "this account logs in with a second factor: send the authenticator app's \
                 6-digit code (or a recovery code) as `code` with the password"
                    .into(),
            ));
        }
    };
    Ok(Json(SessionInfo {
        account_id: account.id,
        username: account.username,
        role: account.role,
        csrf_token,
        second_factor: account.second_factor,
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
        second_factor: caller.account.second_factor,
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
            .read(move |c| {
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
    crate::web::access::Path(handle): crate::web::access::Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let now = state.now();
    let ended = state
        .db(move |c| {
            let account = caller.account.id;
            let find = |tx: &rusqlite::Connection| {
                crate::web::session_store::own_session(tx, account, &handle, now.as_second())
            };
            Ok(crate::ops::sign_in::end_own_session(c, account, now, find)?)
        })
        .await?;
    if ended {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("you have no such session".into()))
    }
}
