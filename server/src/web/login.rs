//! Logging in: one function for the JSON API and the login page, so both throttle, audit
//! and rotate the session the same way.

use std::net::{IpAddr, SocketAddr};

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

/// Checks the password (throttled per account and address, see [`super::throttle`]),
/// records the attempt in the audit log, and on success gives `session` a fresh id and the
/// account. The attempt is reserved before the password is checked; the password hash is
/// checked with no database lock held.
pub async fn log_in(
    state: &AppState,
    address: Option<IpAddr>,
    session: &Session,
    username: &str,
    password: String,
) -> Result<LoggedIn, ApiError> {
    let now = state.now();
    let attempt = state
        .throttle()
        .begin(username, address, now)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;

    let name = username.trim().to_owned();
    let account = state
        .db(move |c| Ok(registry::account_by_username(c, &name)?))
        .await?;
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&password, hash.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let account = account.filter(|a| ok && !a.disabled);
    let logged = account.clone();
    state
        .db(move |c| {
            let who = logged
                .as_ref()
                .map_or("account:?".into(), |a| format!("account:{}", a.id));
            audit::append(
                c,
                &Entry {
                    at: now,
                    actor: if logged.is_some() { &who } else { "anonymous" },
                    action: if logged.is_some() {
                        "account.login"
                    } else {
                        "account.login_failed"
                    },
                    subject: &who,
                    details: serde_json::json!({}),
                },
            )?;
            Ok(())
        })
        .await?;
    // A failure keeps its reservation: it counts.
    let Some(account) = account else {
        return Err(ApiError::Unauthenticated);
    };
    state.throttle().succeed(&attempt);
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

/// Ends the caller's own session named by `handle`, with its audit entry. Returns
/// whether there was one (another account's sessions are never found).
pub fn end_own_session(
    conn: &rusqlite::Connection,
    caller: &super::access::Caller,
    handle: &str,
    now: jiff::Timestamp,
) -> Result<bool, ApiError> {
    let ended =
        super::session_store::end_session(conn, caller.account.id, handle, now.as_second())?;
    if ended {
        caller.audit(
            conn,
            "account.session_end",
            format_args!("account:{}", caller.account.id),
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(ended)
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
