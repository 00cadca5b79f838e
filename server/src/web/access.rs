//! Who may call what: one table for every route, enforced by one middleware.
//!
//! The table is [`super::routes`]: a route missing from it is refused for everyone (and
//! the authorization matrix test fails), so a new route cannot go live unclassified.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::AppState;
use super::error::ApiError;
pub use super::routes::{Access, all_routes};
use crate::domain::AccountId;
use crate::store::registry::{self, Kiosk};
use crate::store::sites::{self, Kind};

/// What an account that must set up a second factor may still reach.
const SETUP_ROUTES: &[&str] = &[
    "/account/second-factor",
    "/account",
    "/logout",
    "/api/v1/logout",
    "/api/v1/session",
];

pub fn access_for(method: &Method, path: &str) -> Option<Access> {
    all_routes()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, a)| *a)
}

/// What the session remembers about a logged-in account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub account_id: AccountId,
    pub csrf_token: String,
    /// The account's sessions epoch at login (see `registry::Account::sessions_epoch`).
    #[serde(default)]
    pub epoch: i64,
    /// Whether a second factor's code was given at this session's login (or the session
    /// enrolled one). A session without it never acts for an account that has a factor.
    #[serde(default)]
    pub second_factor: bool,
}

pub const SESSION_KEY: &str = "user";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The logged-in account making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: registry::Account,
    pub csrf_token: String,
}

impl Caller {
    pub fn actor(&self) -> String {
        format!("account:{}", self.account.id)
    }

    /// An account of every site (not bound to one): what the trust's own settings need.
    pub fn of_every_site(&self) -> bool {
        self.account.site_id.is_none()
    }
}

/// The kiosk making a request.
#[derive(Debug, Clone)]
pub struct KioskCaller(pub Kiosk);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for KioskCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<KioskCaller>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

fn bearer(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

/// Whether the browser says this request comes from another site.
pub fn cross_site(request_headers: &axum::http::HeaderMap) -> bool {
    request_headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
}

fn state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Path parameters that are words, not ids: a content hash, a session's handle.
const TEXT_PARAMS: &[&str] = &["hash", "handle"];

/// A path parameter as its handler receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Id(i64),
    Text(String),
}

/// A request's path parameters, decoded exactly as axum decodes them for a handler, each
/// id checked: set by [`authorize`] before any handler runs, and read by [`Path`], the only
/// way a handler gets a path parameter. What the site check judged is therefore what the
/// handler acts on, whatever the spelling of the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedPath(Vec<(String, Param)>);

/// An id as a path may write it: decimal digits with no sign and no leading zero that fit
/// an `i64`. `12` is the only spelling of twelve; `012`, `+12` and `1e1` are not ids.
pub fn parse_id(text: &str) -> Option<i64> {
    let canonical = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0');
    canonical.then(|| text.parse().ok()).flatten()
}

impl CheckedPath {
    /// Checks the decoded parameters (name, value) of a matched route: an id that does not
    /// parse is a bad request.
    pub fn check<'a>(
        decoded: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ApiError> {
        decoded
            .into_iter()
            .map(|(name, value)| {
                let param = if TEXT_PARAMS.contains(&name) {
                    Param::Text(value.to_owned())
                } else {
                    Param::Id(parse_id(value).ok_or_else(|| {
                        ApiError::BadRequest(format!("the {name} in the path is not an id"))
                    })?)
                };
                Ok((name.to_owned(), param))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn get(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    /// The records the path names: each `{id}` after a segment naming a kind
    /// (`/photos/{id}`, `/api/v1/people/{id}/consents`) and each `{person}`.
    pub fn records_named(&self, pattern: &str) -> Vec<(Kind, i64)> {
        let mut named = Vec::new();
        let mut previous = "";
        for segment in pattern.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let kind = match name {
                    "person" => Some(Kind::Person),
                    "id" => Kind::of_segment(previous),
                    _ => None,
                };
                if let (Some(kind), Some(Param::Id(id))) = (kind, self.get(name)) {
                    named.push((kind, *id));
                }
            }
            previous = segment;
        }
        named
    }
}

/// A value a handler can take from its checked path.
pub trait FromPath: Sized {
    fn from_path(path: &CheckedPath) -> Option<Self>;
}

impl FromPath for i64 {
    fn from_path(path: &CheckedPath) -> Option<Self> {
        match path.0.as_slice() {
            [(_, Param::Id(id))] => Some(*id),
            _ => None,
        }
    }
}

impl FromPath for (i64, i64) {
    fn from_path(path: &CheckedPath) -> Option<Self> {
        match path.0.as_slice() {
            [(_, Param::Id(a)), (_, Param::Id(b))] => Some((*a, *b)),
            _ => None,
        }
    }
}

impl FromPath for String {
    fn from_path(path: &CheckedPath) -> Option<Self> {
        match path.0.as_slice() {
            [(_, Param::Text(text))] => Some(text.clone()),
            _ => None,
        }
    }
}

/// The path parameters of a request as [`authorize`] checked them. Without that check
/// (a route outside the middleware) the request fails rather than reading the raw path.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: FromPath> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let checked = parts
            .extensions
            .get::<CheckedPath>()
            .ok_or_else(|| ApiError::Internal("the path was not checked".into()))?;
        T::from_path(checked).map(Path).ok_or_else(|| {
            ApiError::Internal("the route's parameters do not fit its handler".into())
        })
    }
}

/// For an account of one site: every record the path names must be of that site. Another
/// site's record does not exist for it (the same 404 as an id nobody has).
async fn within_site(
    state: &AppState,
    pattern: &str,
    path: &CheckedPath,
    site: i64,
) -> Result<(), ApiError> {
    let named = path.records_named(pattern);
    if named.is_empty() {
        return Ok(());
    }
    state
        .read(move |c| {
            for (kind, id) in named {
                if let Some(of) = sites::site_of(c, kind, id)?
                    && !sites::visible(Some(site), of)
                {
                    return Err(crate::store::StoreError::NotFound {
                        what: kind.what(),
                        id,
                    }
                    .into());
                }
            }
            Ok(())
        })
        .await
}

/// The middleware: finds the route's access in [`super::routes`] and lets the request through
/// only if the caller qualifies.
pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match check(&state, &mut request).await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, request: &mut Request) -> Result<(), ApiError> {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return Ok(());
    };
    let (mut parts, body) = std::mem::take(request).into_parts();
    let decoded = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map_err(|_| ApiError::BadRequest("the path is not valid UTF-8".into()));
    *request = Request::from_parts(parts, body);
    // Refused once the caller is known (an anonymous caller learns only that it must log
    // in), and always before any handler runs.
    let checked = decoded.and_then(|d| CheckedPath::check(d.iter()));
    let Some(access) = access_for(request.method(), &path) else {
        tracing::error!(method = %request.method(), path, "route has no access rule; refused");
        return Err(ApiError::Forbidden(
            "this route is not open to anyone yet".into(),
        ));
    };
    match access {
        Access::Public => {
            request.extensions_mut().insert(checked?);
            Ok(())
        }
        Access::Kiosk => {
            let token = bearer(request).ok_or(ApiError::Unauthenticated)?;
            let hash = crate::infra::password::token_hash(&token);
            let kiosk = state
                .read(move |c| Ok(registry::kiosk_by_token_hash(c, &hash)?))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            request.extensions_mut().insert(checked?);
            request.extensions_mut().insert(KioskCaller(kiosk));
            Ok(())
        }
        _ => {
            if bearer(request).is_some() {
                return Err(ApiError::Forbidden(
                    "a kiosk token only opens the kiosk routes; log in as a person".into(),
                ));
            }
            let session = request
                .extensions()
                .get::<Session>()
                .cloned()
                .ok_or_else(|| ApiError::Internal("session layer missing".into()))?;
            let user: SessionUser = session
                .get(SESSION_KEY)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .ok_or(ApiError::Unauthenticated)?;
            let id = user.account_id;
            let account = state.read(move |c| Ok(registry::account(c, id)?)).await;
            let account = match account {
                Ok(a)
                    if !a.disabled
                        && a.sessions_epoch == user.epoch
                        && (user.second_factor || !a.second_factor) =>
                {
                    a
                }
                _ => {
                    let _ = session.flush().await;
                    return Err(ApiError::Unauthenticated);
                }
            };
            if !account.second_factor
                && state.config().require_second_factor.contains(&account.role)
                && !SETUP_ROUTES.contains(&path.as_str())
            {
                return Err(ApiError::SecondFactorSetup(account.role));
            }
            if !access.admits(account.role) {
                return Err(ApiError::Forbidden(format!(
                    "a {} account cannot do this",
                    account.role
                )));
            }
            if state_changing(request.method()) {
                if cross_site(request.headers()) {
                    return Err(ApiError::Forbidden(
                        "cross-site requests are refused".into(),
                    ));
                }
                let sent = csrf_sent(request, state.config().max_upload_bytes).await?;
                if !constant_time_eq(sent.as_bytes(), user.csrf_token.as_bytes()) {
                    return Err(ApiError::Forbidden(
                        "missing or wrong CSRF token (send the X-CSRF-Token header from /api/v1/session)".into(),
                    ));
                }
            }
            let checked = checked?;
            if let Some(site) = account.site_id {
                within_site(state, &path, &checked, site).await?;
            }
            request.extensions_mut().insert(checked);
            request.extensions_mut().insert(Caller {
                account,
                csrf_token: user.csrf_token,
            });
            Ok(())
        }
    }
}

/// The CSRF token a request carries: the `X-CSRF-Token` header (API), a `_csrf` field of
/// a url-encoded form (the body is read and put back), or a `_csrf` query parameter
/// (multipart uploads, whose bodies are not read here).
async fn csrf_sent(request: &mut Request, limit: usize) -> Result<String, ApiError> {
    if let Some(header) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return Ok(header.to_owned());
    }
    let field = |pairs: &[u8]| {
        form_urlencoded::parse(pairs)
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned())
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = std::mem::take(request.body_mut());
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::BadRequest("the form is too large".into()))?;
        let token = field(&bytes);
        *request.body_mut() = axum::body::Body::from(bytes);
        return Ok(token.unwrap_or_default());
    }
    if content_type.starts_with("multipart/form-data") {
        return Ok(request
            .uri()
            .query()
            .and_then(|q| field(q.as_bytes()))
            .unwrap_or_default());
    }
    Ok(String::new())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A route pattern, a path it matched, and the records the path names.
    type Case = (&'static str, &'static str, &'static [(Kind, i64)]);

    /// The parameters `path` gives `pattern`, checked (the router's work, for plain paths).
    fn checked(pattern: &str, path: &str) -> Result<CheckedPath, ApiError> {
        CheckedPath::check(
            pattern
                .split('/')
                .zip(path.split('/'))
                .filter_map(|(p, actual)| {
                    let name = p.strip_prefix('{')?.strip_suffix('}')?;
                    Some((name, actual))
                }),
        )
    }

    /// Every handler takes its path through [`Path`]: no file of the web layer but this
    /// one reads the raw path parameters.
    #[test]
    fn no_handler_reads_the_path_but_through_the_checked_extractor() {
        let files = crate::source_tree::files("web");
        assert!(files.len() > 20, "only {} files read", files.len());
        for (name, text) in files {
            if name == "access.rs" {
                continue;
            }
            // The public listener's one path parameter is a link's token (text looked up
            // by its hash, never a record's id): that one extraction is allowed there.
            let text = if name == "public.rs" {
                text.replacen(
                    "axum::extract::Path(token): axum::extract::Path<String>,",
                    "",
                    1,
                )
            } else {
                text
            };
            let braced = text.split("extract::{").skip(1).any(|rest| {
                rest.split('}')
                    .next()
                    .unwrap_or("")
                    .split([',', ' ', '\n'])
                    .any(|w| w == "Path")
            });
            let named = ["extract::Path", "RawPathParams", "UrlParams"]
                .iter()
                .any(|needle| text.contains(needle));
            assert!(
                !braced && !named,
                "{name} reads the path on its own: take web::access::Path"
            );
        }
    }

    #[test]
    fn an_id_has_one_spelling() {
        for (text, id) in [
            ("1", Some(1)),
            ("12", Some(12)),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("99999999999999999999", None),
            ("012", None),
            ("0", None),
            ("+12", None),
            ("-12", None),
            (" 12", None),
            ("12 ", None),
            ("1e1", None),
            ("0x0c", None),
            ("%31%32", None),
            ("１２", None),
            ("", None),
        ] {
            assert_eq!(parse_id(text), id, "{text:?}");
        }
    }

    #[test]
    fn a_path_whose_id_does_not_parse_is_a_bad_request_and_words_stay_words() {
        assert!(matches!(
            checked("/api/v1/people/{id}", "/api/v1/people/012"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            checked("/photos/{id}/faces/{face}", "/photos/3/faces/x"),
            Err(ApiError::BadRequest(_))
        ));
        let hash = checked(
            "/api/v1/kiosk/card-files/{hash}",
            "/api/v1/kiosk/card-files/ab",
        )
        .unwrap();
        assert_eq!(String::from_path(&hash).as_deref(), Some("ab"));
        assert_eq!(i64::from_path(&hash), None);
        let pair = checked("/photos/{id}/tags/{tag}/remove", "/photos/3/tags/9/remove").unwrap();
        assert_eq!(<(i64, i64)>::from_path(&pair), Some((3, 9)));
        assert_eq!(i64::from_path(&pair), None);
    }

    #[test]
    fn the_records_a_path_names_are_found_by_the_segment_before_each_id() {
        let cases: &[Case] = &[
            (
                "/api/v1/people/{id}",
                "/api/v1/people/7",
                &[(Kind::Person, 7)],
            ),
            (
                "/photos/{id}/faces/{face}",
                "/photos/3/faces/9",
                &[(Kind::Photo, 3)],
            ),
            (
                "/api/v1/groups/{id}/members/{person}",
                "/api/v1/groups/2/members/5",
                &[(Kind::Group, 2), (Kind::Person, 5)],
            ),
            (
                "/consents/{id}/evidence",
                "/consents/4/evidence",
                &[(Kind::Consent, 4)],
            ),
            (
                "/api/v1/kiosks/{id}/revoke",
                "/api/v1/kiosks/1/revoke",
                &[(Kind::Kiosk, 1)],
            ),
            // Records whose site is another's: a badge its person's, a booking its
            // group's, an import its camera's, a takedown its photo's.
            (
                "/api/v1/badges/{id}/active",
                "/api/v1/badges/8/active",
                &[(Kind::Badge, 8)],
            ),
            (
                "/bookings/{id}/cancel",
                "/bookings/6/cancel",
                &[(Kind::Booking, 6)],
            ),
            (
                "/imports/{id}/without-people",
                "/imports/5/without-people",
                &[(Kind::Import, 5)],
            ),
            (
                "/api/v1/takedowns/{id}/done",
                "/api/v1/takedowns/7/done",
                &[(Kind::Publication, 7)],
            ),
            // Kinds without a site name nothing.
            ("/admin/partners/{id}", "/admin/partners/2", &[]),
            (
                "/api/v1/kiosk/card-files/{hash}",
                "/api/v1/kiosk/card-files/ab",
                &[],
            ),
        ];
        for (pattern, path, named) in cases {
            assert_eq!(
                checked(pattern, path).unwrap().records_named(pattern),
                *named,
                "{path}"
            );
        }
    }
}
