//! Logging in (password, then the second factor where the account has one) and setting up
//! a second factor. The login forms carry a CSRF token of their own, so another site
//! cannot log a browser into the other site's account.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use tower_sessions::Session;
use tower_sessions::cookie::{Cookie, SameSite};

use super::chrome::{Chrome, FLASH_KEY, PageError, render};
use crate::infra::{password, second_factor};
use crate::ops;
use crate::store::registry;
use crate::web::AppState;
use crate::web::access::{Caller, SESSION_KEY, SessionUser, constant_time_eq, cross_site};
use crate::web::error::ApiError;
use crate::web::login::{Login, code_pending, complete_second_factor, log_in};

/// The login forms' CSRF token lives in a cookie of its own (double submit), not in a
/// session: opening the login page must never replace a logged-in session's cookie (a
/// cross-site post that is refused and sent to the login page would log the user out).
const LOGIN_COOKIE: &str = "consentcam_login";
/// The secret being set up, until its first code is confirmed.
const ENROL_KEY: &str = "second_factor_enrolment";

fn login_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LOGIN_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The login forms' token: the browser's, or a new one with the cookie to set.
fn login_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(token) = login_cookie(headers) {
        return (token, None);
    }
    let token = password::random_token();
    let cookie = Cookie::build((LOGIN_COOKIE, token.clone()))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config().secure_cookies)
        .build();
    (token, HeaderValue::from_str(&cookie.to_string()).ok())
}

/// Refuses a login form from another site or without the browser's token.
fn check_form(headers: &HeaderMap, sent: &str) -> Result<(), PageError> {
    if cross_site(headers) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Logging in from another site is refused.",
        ));
    }
    let expected = login_cookie(headers).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "This login form has expired. Open the login page again and log in.",
        ));
    }
    Ok(())
}

fn address(
    state: &AppState,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    crate::web::login::client_address(
        connect.map(|Extension(ConnectInfo(addr))| addr),
        headers,
        &state.config().trusted_proxies,
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    message: Option<&'a str>,
    csrf: &'a str,
    /// The second step: the password was right, the code is asked for.
    code_step: bool,
}

fn login_page_with(
    state: &AppState,
    headers: &HeaderMap,
    message: Option<&str>,
    code_step: bool,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (csrf, cookie) = login_token(state, headers);
    let mut response = render(&LoginPage {
        message,
        csrf: &csrf,
        code_step,
    })?;
    *response.status_mut() = status;
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    login_page_with(&state, &headers, None, false, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    _csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    check_form(&headers, &form._csrf)?;
    let address = address(&state, connect, &headers);
    match log_in(
        &state,
        address,
        &session,
        &form.username,
        form.password,
        None,
    )
    .await
    {
        Ok(Login::Done(_)) => Ok(Redirect::to("/").into_response()),
        Ok(Login::CodeNeeded) => Ok(Redirect::to("/login/code").into_response()),
        Err(e @ (ApiError::Unauthenticated | ApiError::TooManyAttempts { .. })) => {
            let message = match &e {
                ApiError::Unauthenticated => "Wrong username or password.".to_owned(),
                other => other.to_string(),
            };
            login_page_with(&state, &headers, Some(&message), false, e.status())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn code_page(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if !code_pending(&session).await {
        return Ok(Redirect::to("/login").into_response());
    }
    login_page_with(&state, &headers, None, true, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    #[serde(default)]
    _csrf: String,
}

pub async fn code(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    check_form(&headers, &form._csrf)?;
    let address = address(&state, connect, &headers);
    match complete_second_factor(&state, address, &session, &form.code).await {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        // Too slow, or the account changed meanwhile: start again.
        Err(ApiError::Unauthenticated) => Ok(Redirect::to("/login").into_response()),
        Err(e @ (ApiError::SecondFactor(_) | ApiError::TooManyAttempts { .. })) => {
            let message = match &e {
                ApiError::SecondFactor(why) => format!("That code did not work: {why}."),
                other => other.to_string(),
            };
            login_page_with(&state, &headers, Some(&message), true, e.status())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    c: Chrome,
    /// Set up already: since when, and how many recovery codes are left.
    enrolled: Option<u32>,
    /// Setting up: the secret (to type in), the `otpauth://` link, the QR code (PNG, base64).
    setup: Option<(String, String, String)>,
    /// Recovery codes to write down now (shown once).
    recovery_codes: Vec<String>,
    required: bool,
}

/// The caller's second factor: how to set it up (a QR code for the authenticator app),
/// or that it is on and how many recovery codes are left.
pub async fn second_factor_page(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    second_factor_view(&state, &caller, &session, vec![], StatusCode::OK).await
}

async fn second_factor_view(
    state: &AppState,
    caller: &Caller,
    session: &Session,
    recovery_codes: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let id = caller.account.id;
    let left = state
        .db(move |c| {
            Ok(match registry::totp_secret(c, id)? {
                Some(_) => Some(registry::recovery_codes_left(c, id)?),
                None => None,
            })
        })
        .await?;
    let setup = if left.is_some() {
        None
    } else {
        let secret = match session
            .get::<String>(ENROL_KEY)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
        {
            Some(secret) => secret,
            None => {
                let secret = second_factor::new_secret();
                session
                    .insert(ENROL_KEY, &secret)
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                secret
            }
        };
        let (url, qr) = second_factor::enrolment(&secret, &caller.account.username)
            .ok_or_else(|| ApiError::Internal("the QR code could not be made".into()))?;
        Some((secret, url, qr))
    };
    let mut response = render(&SecondFactorPage {
        c: Chrome::new(state, caller, session).await,
        enrolled: left,
        setup,
        recovery_codes,
        required: state
            .config()
            .require_second_factor
            .contains(&caller.account.role),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    code: String,
}

/// Confirms the set-up with the first code from the app (so a mistyped secret never locks
/// the account out), turns the second factor on and shows the recovery codes once.
pub async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let secret = session
        .get::<String>(ENROL_KEY)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(secret) = secret else {
        return Ok(Redirect::to("/account/second-factor").into_response());
    };
    let now = state.now();
    let unix = u64::try_from(now.as_second()).unwrap_or(0);
    let step = match second_factor::Code::parse(&form.code) {
        Some(second_factor::Code::Totp(digits)) => second_factor::check(&secret, &digits, unix),
        _ => None,
    };
    let Some(step) = step else {
        let _ = session
            .insert(
                FLASH_KEY,
                (
                    true,
                    "That code did not match: check the phone's clock and type the code the app shows now."
                        .to_owned(),
                ),
            )
            .await;
        return Ok(Redirect::to("/account/second-factor").into_response());
    };
    let codes = second_factor::new_recovery_codes();
    let hashes = second_factor::recovery_hashes(&codes);
    let id = caller.account.id;
    let actor = caller.actor();
    let epoch = state
        .db(move |c| {
            Ok(ops::sign_in::enrol_second_factor(
                c, id, &secret, step, &hashes, &actor, now,
            )?)
        })
        .await?;
    let _ = session.remove::<String>(ENROL_KEY).await;
    // Every other session of the account ended with the new epoch; this one gave a code.
    let user = session
        .get::<SessionUser>(SESSION_KEY)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::Unauthenticated)?;
    session
        .cycle_id()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    session
        .insert(
            SESSION_KEY,
            SessionUser {
                epoch,
                second_factor: true,
                ..user
            },
        )
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut caller = caller;
    caller.account.second_factor = true;
    second_factor_view(&state, &caller, &session, codes, StatusCode::OK).await
}

/// New recovery codes (the old ones stop working), for an account whose codes are used up
/// or were lost; takes a current code from the app.
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let codes = second_factor::new_recovery_codes();
    let hashes = second_factor::recovery_hashes(&codes);
    let id = caller.account.id;
    let actor = caller.actor();
    let code = second_factor::Code::parse(&form.code);
    let done = state
        .db(move |c| {
            Ok(ops::sign_in::new_recovery_codes(
                c, id, code, &hashes, &actor, now,
            )?)
        })
        .await?;
    if !done {
        let _ = session
            .insert(
                FLASH_KEY,
                (
                    true,
                    "That code did not work; type the code the app shows now.".to_owned(),
                ),
            )
            .await;
        return Ok(Redirect::to("/account/second-factor").into_response());
    }
    second_factor_view(&state, &caller, &session, codes, StatusCode::OK).await
}
