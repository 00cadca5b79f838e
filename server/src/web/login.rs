//! Logging in: one function for the JSON API and the login page, so both throttle, audit
//! and rotate the session the same way.

use std::net::{IpAddr, SocketAddr};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::AppState;
use super::access::{SESSION_KEY, SessionUser};
use super::error::ApiError;
use crate::domain::AccountId;
use crate::infra::{password, second_factor};
use crate::ops::{self, sign_in::CodeCheck};
use crate::store::registry;

/// A successful login: the account and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub account: registry::Account,
    pub csrf_token: String,
}

/// How far a login got.
#[derive(Debug, Clone)]
pub enum Login {
    /// Logged in.
    Done(LoggedIn),
    /// The password was right and the account has a second factor, but no code came with
    /// it: the session remembers the account for [`SECOND_FACTOR_MINUTES`], and
    /// [`complete_second_factor`] finishes the login with the code.
    CodeNeeded,
}

/// The session key of a login waiting for its second factor.
pub const PENDING_KEY: &str = "second_factor_pending";
/// How long a right password waits for its code.
pub const SECOND_FACTOR_MINUTES: i64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    account_id: AccountId,
    epoch: i64,
    since: i64,
}

/// Checks the password (throttled per account and address, see [`super::throttle`]),
/// then the second factor if the account has one (`code`, or a second step through
/// [`complete_second_factor`] when it is `None`), records the attempt in the audit log,
/// and on success gives `session` a fresh id and the account. Every attempt is reserved
/// before it is checked; the password hash is checked with no database lock held.
pub async fn log_in(
    state: &AppState,
    address: Option<IpAddr>,
    session: &Session,
    username: &str,
    password: String,
    code: Option<&str>,
) -> Result<Login, ApiError> {
    let now = state.now();
    let attempt = state
        .throttle()
        .begin(username, address, state.steady_now())
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;

    let name = username.trim().to_owned();
    let account = state
        .db(move |c| Ok(registry::account_by_username(c, &name)?))
        .await?;
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&password, hash.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // A failure keeps its reservation: it counts.
    let Some(account) = account.filter(|a| ok && !a.disabled) else {
        state
            .db(move |c| Ok(ops::sign_in::login_failed(c, now)?))
            .await?;
        return Err(ApiError::Unauthenticated);
    };
    state.throttle().succeed(&attempt);
    if account.second_factor {
        match code.filter(|c| !c.trim().is_empty()) {
            Some(code) => check_code(state, address, &account, code, now).await?,
            None => {
                session
                    .cycle_id()
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                let pending = Pending {
                    account_id: account.id,
                    epoch: account.sessions_epoch,
                    since: now.as_second(),
                };
                session
                    .insert(PENDING_KEY, &pending)
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                return Ok(Login::CodeNeeded);
            }
        }
    }
    Ok(Login::Done(finish(state, session, account, now).await?))
}

/// The second step of a login that answered [`Login::CodeNeeded`]: checks `code` for the
/// account the session remembers.
pub async fn complete_second_factor(
    state: &AppState,
    address: Option<IpAddr>,
    session: &Session,
    code: &str,
) -> Result<LoggedIn, ApiError> {
    let now = state.now();
    let pending: Pending = session
        .get(PENDING_KEY)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::Unauthenticated)?;
    if now.as_second() - pending.since > SECOND_FACTOR_MINUTES * 60 {
        let _ = session.remove::<Pending>(PENDING_KEY).await;
        return Err(ApiError::Unauthenticated);
    }
    let id = pending.account_id;
    let account = state.db(move |c| Ok(registry::account(c, id)?)).await?;
    if account.disabled || account.sessions_epoch != pending.epoch || !account.second_factor {
        let _ = session.remove::<Pending>(PENDING_KEY).await;
        return Err(ApiError::Unauthenticated);
    }
    check_code(state, address, &account, code, now).await?;
    let _ = session.remove::<Pending>(PENDING_KEY).await;
    finish(state, session, account, now).await
}

/// Whether a login is waiting for its second factor in this session.
pub async fn code_pending(session: &Session) -> bool {
    session
        .get::<Pending>(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .is_some()
}

/// Checks a code from the authenticator app (each taken once) or a recovery code (each
/// used once), throttled on its own key so that knowing the password does not reset the
/// delays between code guesses.
async fn check_code(
    state: &AppState,
    address: Option<IpAddr>,
    account: &registry::Account,
    typed: &str,
    now: Timestamp,
) -> Result<(), ApiError> {
    let attempt = state
        .throttle()
        .begin(
            &format!("code:{}", account.username),
            address,
            state.steady_now(),
        )
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;
    let id = account.id;
    let code = second_factor::Code::parse(typed);
    let outcome = state
        .db(move |c| Ok(ops::sign_in::check_code(c, id, code, now)?))
        .await?;
    match outcome {
        CodeCheck::Accepted | CodeCheck::RecoveryUsed { .. } => {
            state.throttle().succeed(&attempt);
            Ok(())
        }
        CodeCheck::Refused(why) => Err(ApiError::SecondFactor(why.to_owned())),
    }
}

/// The last step of every login: a fresh session id (a planted cookie never becomes a
/// logged-in session), the account in the session, the audit entry.
async fn finish(
    state: &AppState,
    session: &Session,
    account: registry::Account,
    now: Timestamp,
) -> Result<LoggedIn, ApiError> {
    let id = account.id;
    state
        .db(move |c| Ok(ops::sign_in::logged_in(c, id, now)?))
        .await?;
    session
        .cycle_id()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = SessionUser {
        account_id: account.id,
        csrf_token: password::random_token(),
        epoch: account.sessions_epoch,
        // Only reached after the code was checked when the account has a factor.
        second_factor: account.second_factor,
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

/// The address a login comes from: the peer's, unless the peer is one of the configured
/// `trusted_proxies`; then the nearest address in `X-Forwarded-For` that is not a trusted
/// proxy itself. Anyone else's `X-Forwarded-For` is ignored, so it cannot be used to
/// escape the throttle.
pub fn client_address(
    peer: Option<SocketAddr>,
    headers: &axum::http::HeaderMap,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|a| !trusted_proxies.contains(a))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn only_a_trusted_proxys_forwarded_for_is_believed() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let peer = Some(SocketAddr::new(proxy, 5000));
        let stranger = Some("198.51.100.4:5000".parse().unwrap());
        let h = headers("10.9.9.9, 203.0.113.7");
        assert_eq!(
            client_address(peer, &h, &[proxy]),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(client_address(peer, &h, &[]), Some(proxy));
        assert_eq!(
            client_address(stranger, &h, &[proxy]),
            Some("198.51.100.4".parse().unwrap())
        );
        // A chain of trusted proxies is skipped; garbage falls back to the peer.
        let second: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            client_address(peer, &headers("203.0.113.9, 10.0.0.2"), &[proxy, second]),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_address(peer, &headers("not an address"), &[proxy]),
            Some(proxy)
        );
    }
}
