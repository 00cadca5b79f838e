//! The public listener (P4): the pages where parents and adult learners answer, renew and
//! withdraw consent through their personal link, and their stylesheet. Nothing else is
//! served here (every staff page, the API and the kiosk routes answer 404), and these
//! pages are not served on the staff listener.
//!
//! A link is opened by GET (a page with one "continue" button: mail scanners open links,
//! and nothing happens until a person presses it); the POST moves the token out of the URL
//! into a visit whose secret is a short-lived cookie (`HttpOnly`, `SameSite=Strict`,
//! `Path=/consent`). The learner's date of birth is checked before anything personal is
//! shown. Every form carries the visit's CSRF value; a POST from another origin is
//! refused. Each address has `requests_per_minute` requests, each visit and link a
//! bound of its own; nothing here logs a token, a name or an address.

// A handler's early answer is the page to show (`Err(Response)`); boxing each would only
// add noise to the pages' code.
#![allow(clippy::result_large_err)]

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jiff::civil::Date;
use tower_sessions::cookie::{Cookie, SameSite};

use super::AppState;
use crate::domain::{PartnerId, Scopes, SignerKind};
use crate::ops::parents::{self as ops, Setup, Visit};
use crate::rules::parents::{Answers, BirthDateCheck, Purpose, Refusal};

/// The visit cookie.
const COOKIE: &str = "consent_visit";

/// Every route of the public listener: method and path.
pub const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/consent/link/{token}"),
    ("POST", "/consent/start"),
    ("GET", "/consent/check"),
    ("POST", "/consent/check"),
    ("GET", "/consent/answers"),
    ("POST", "/consent/answers"),
    ("GET", "/consent/confirm"),
    ("POST", "/consent/confirm"),
    ("GET", "/consent/done"),
    ("GET", "/consent/withdraw"),
    ("POST", "/consent/withdraw"),
    ("GET", "/consent/new-link"),
    ("POST", "/consent/new-link"),
    ("GET", "/consent/static/consent.css"),
];

const STYLESHEET: &str = include_str!("../../static/consent.css");

/// What the public pages share.
#[derive(Clone)]
struct Public {
    app: AppState,
    /// Requests per address.
    per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// "Send me a new link" per address (tighter: each may queue mail).
    new_links: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Posts per visit or link.
    per_visit: Arc<DefaultKeyedRateLimiter<Vec<u8>>>,
    /// `scheme://host[:port]` of `public_url`: the only origin a form may come from.
    origin: String,
}

/// The public listener's application. Without `[parents]` in the config it serves only
/// 404s.
pub fn router(state: AppState) -> Router {
    let Some(settings) = state.config().parents.clone() else {
        return Router::new().fallback(not_found).with_state(());
    };
    let per_minute = NonZeroU32::new(settings.requests_per_minute).unwrap_or(NonZeroU32::MIN);
    let public = Public {
        app: state.clone(),
        per_address: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
        new_links: Arc::new(RateLimiter::keyed(
            Quota::per_hour(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN)),
        )),
        per_visit: Arc::new(RateLimiter::keyed(
            Quota::per_minute(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN)),
        )),
        origin: origin_of(settings.link_base()),
    };
    Router::new()
        .route("/consent/link/{token}", get(open_link))
        .route("/consent/start", post(start))
        .route("/consent/check", get(check_page).post(check))
        .route("/consent/answers", get(answers_page).post(answers))
        .route("/consent/confirm", get(confirm_page).post(confirm))
        .route("/consent/done", get(done_page))
        .route("/consent/withdraw", get(withdraw_page).post(withdraw))
        .route("/consent/new-link", get(new_link_page).post(new_link))
        .route("/consent/static/consent.css", get(stylesheet))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(public.clone(), guard))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            std::time::Duration::from_secs(state.config().limits.idle_seconds),
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // The matched pattern, never the raw URI: a token is in a link's path.
                let path = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("-", |p| p.as_str())
                    .to_owned();
                tracing::info_span!("public", method = %request.method(), path)
            }),
        )
        .layer(middleware::from_fn_with_state(
            settings.https(),
            super::security_headers,
        ))
        .with_state(public)
}

/// `https://host:port` of a URL (its scheme and authority).
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{}", authority.to_ascii_lowercase())
}

/// Whether a POST came from a page that is not ours. A browser that sends
/// `Sec-Fetch-Site` is believed: only `same-origin` (or `none`, typed by the person) is
/// ours. Its `Origin` is `null` on these pages, since they send `Referrer-Policy:
/// no-referrer`; any other `Origin` must be the public address.
fn posted_from_elsewhere(origin: Option<&str>, fetch_site: Option<&str>, ours: &str) -> bool {
    let site_elsewhere = fetch_site.is_some_and(|s| s != "same-origin" && s != "none");
    let origin_elsewhere = origin.is_some_and(|o| o != "null" && !o.eq_ignore_ascii_case(ours));
    site_elsewhere || origin_elsewhere
}

/// Throttles each address, and refuses a form posted from another site: its `Origin`
/// must be the public address (a browser always sends it on a POST), and a browser's
/// `Sec-Fetch-Site` must not say `cross-site`.
async fn guard(State(public): State<Public>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let address = super::login::client_address(
        peer,
        request.headers(),
        &public.app.config().trusted_proxies,
    );
    if address.is_some_and(|a| public.per_address.check_key(&a).is_err()) {
        return too_many(&public);
    }
    if request.method() == axum::http::Method::POST {
        let headers = request.headers();
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if posted_from_elsewhere(value("origin"), value("sec-fetch-site"), &public.origin) {
            tracing::warn!("a consent form posted from another site was refused");
            return message(
                &public,
                StatusCode::FORBIDDEN,
                "This form was sent from another website",
                &["Nothing was changed. Open the link from your email again."],
                false,
            );
        }
    }
    next.run(request).await
}

fn too_many(public: &Public) -> Response {
    let mut response = message(
        public,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        &["Please wait a few minutes and try again."],
        false,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Page not found\n",
    )
        .into_response()
}

/// What every page's frame shows.
struct Frame {
    organisation: String,
    title: String,
    error: bool,
}

impl Public {
    /// The organisation's name from the wording in use (read-only: the built-in one
    /// until an admin saved another).
    fn organisation(&self) -> String {
        let readers = self.app.readers();
        readers
            .get()
            .ok()
            .and_then(|c| crate::store::parents::current_wording(&c).ok().flatten())
            .map_or_else(
                || crate::rules::parents::Wording::default().organisation,
                |(_, w)| w.organisation,
            )
    }

    fn frame(&self, title: &str, error: bool) -> Frame {
        Frame {
            organisation: self.organisation(),
            title: title.to_owned(),
            error,
        }
    }
}

fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a consent page could not be drawn");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong\n").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "public/message.html")]
struct MessagePage<'a> {
    f: Frame,
    paragraphs: &'a [&'a str],
    offer_new_link: bool,
}

fn message(
    public: &Public,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    offer_new_link: bool,
) -> Response {
    page(
        status,
        &MessagePage {
            f: public.frame(title, false),
            paragraphs,
            offer_new_link,
        },
    )
}

fn refused(public: &Public, refusal: Refusal) -> Response {
    let status = match refusal {
        Refusal::Unknown => StatusCode::NOT_FOUND,
        Refusal::Expired | Refusal::Used | Refusal::Locked => StatusCode::GONE,
    };
    message(
        public,
        status,
        "This link cannot be used",
        &[
            refusal.words(),
            "Nothing was changed. You can ask for a new link to be sent to your email address.",
        ],
        refusal != Refusal::Locked,
    )
}

fn ended(public: &Public) -> Response {
    message(
        public,
        StatusCode::UNAUTHORIZED,
        "Your visit has ended",
        &[
            "For your security, a visit ends after 30 minutes without a step, or when the \
             answer is sent. Nothing was changed.",
            "Open the link in your email again to continue.",
        ],
        true,
    )
}

fn failed(e: &impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a consent page failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Sorry, something went wrong. Nothing was changed; please try again later.\n",
    )
        .into_response()
}

fn visit_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Runs `f` on the writing connection.
async fn write<T: Send + 'static>(
    public: &Public,
    f: impl FnOnce(&mut rusqlite::Connection, &Setup<'_>) -> crate::store::Result<T> + Send + 'static,
) -> Result<T, Response> {
    let app = public.app.clone();
    public
        .app
        .db(move |conn| app.with_parents(|setup| Ok(f(conn, setup)?)))
        .await
        .map_err(|e| failed(&e))
}

/// The visit of the request's cookie, or the page to show instead.
async fn current(public: &Public, headers: &HeaderMap) -> Result<(String, Visit), Response> {
    let Some(secret) = visit_secret(headers) else {
        return Err(ended(public));
    };
    let now = public.app.now();
    let s = secret.clone();
    let found = public
        .app
        .read(move |c| Ok(ops::visit(c, &s, now)?))
        .await
        .map_err(|e| failed(&e))?;
    match found {
        Ok(v) => Ok((secret, v)),
        Err(Refusal::Expired) => Err(ended(public)),
        Err(refusal) => Err(refused(public, refusal)),
    }
}

/// The visit, its date of birth checked, for the pages after the check.
async fn checked(public: &Public, headers: &HeaderMap) -> Result<(String, Visit), Response> {
    let (secret, v) = current(public, headers).await?;
    if !v.visit.born_checked {
        return Err(Redirect::to("/consent/check").into_response());
    }
    Ok((secret, v))
}

/// A posted form's fields.
type Fields = axum::Form<Vec<(String, String)>>;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The form's CSRF value matches the visit's, and the visit has posts left.
fn posted_ok(
    public: &Public,
    secret: &str,
    v: &Visit,
    fields: &[(String, String)],
) -> Result<(), Response> {
    if public.per_visit.check_key(&ops::hash(secret)).is_err() {
        return Err(too_many(public));
    }
    let sent = field(fields, "_csrf").as_bytes();
    let want = v.visit.csrf.as_bytes();
    if sent.len() != want.len() || !constant_time_eq(sent, want) {
        return Err(message(
            public,
            StatusCode::FORBIDDEN,
            "This form has expired",
            &["Nothing was changed. Go back, reload the page and try again."],
            false,
        ));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Template)]
#[template(path = "public/continue.html")]
struct ContinuePage {
    f: Frame,
    token: String,
    withdraw: bool,
}

/// GET of a personal link: a page with one button. A scanner that opens it changes
/// nothing; nothing personal is on it.
async fn open_link(
    State(public): State<Public>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    if token.len() != 43 {
        return refused(&public, Refusal::Unknown);
    }
    let now = public.app.now();
    let hash = ops::hash(&token);
    let link = public
        .app
        .read(move |c| Ok(crate::store::parents::link_by_hash(c, &hash)?))
        .await;
    let link = match link {
        Ok(link) => link,
        Err(e) => return failed(&e),
    };
    if let Err(refusal) = crate::rules::parents::usable(link.as_ref().map(|l| l.facts), now) {
        return refused(&public, refusal);
    }
    let withdraw = link.is_some_and(|l| l.purpose == Purpose::Withdraw);
    page(
        StatusCode::OK,
        &ContinuePage {
            f: public.frame(
                if withdraw {
                    "Withdraw consent for photographs"
                } else {
                    "Photographs: give your answer"
                },
                false,
            ),
            token,
            withdraw,
        },
    )
}

/// The "continue" POST: the visit begins and its secret goes into the cookie; the token
/// leaves the URL.
async fn start(State(public): State<Public>, fields: Fields) -> Response {
    let token = field(&fields, "token").to_owned();
    if token.len() != 43 || public.per_visit.check_key(&ops::hash(&token)).is_err() {
        return refused(&public, Refusal::Unknown);
    }
    let now = public.app.now();
    let begun = match write(&public, move |c, _| ops::begin_visit(c, &token, now)).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match begun {
        Ok(begun) => {
            let https = public
                .app
                .config()
                .parents
                .as_ref()
                .is_some_and(crate::infra::config::ParentSettings::https);
            let cookie = Cookie::build((COOKIE, begun.secret))
                .path("/consent")
                .http_only(true)
                .secure(https)
                .same_site(SameSite::Strict)
                .max_age(time::Duration::minutes(30))
                .build();
            let mut response = Redirect::to("/consent/check").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(refusal) => refused(&public, refusal),
    }
}

#[derive(Template)]
#[template(path = "public/check.html")]
struct CheckPage {
    f: Frame,
    csrf: String,
    for_self: bool,
    error: Option<String>,
    day: String,
    month: String,
    year: String,
}

fn check_form(public: &Public, v: &Visit, error: Option<String>, typed: [&str; 3]) -> Response {
    page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &CheckPage {
            f: public.frame(
                if v.for_self() {
                    "What is your date of birth?"
                } else {
                    "What is the learner's date of birth?"
                },
                error.is_some(),
            ),
            csrf: v.visit.csrf.clone(),
            for_self: v.for_self(),
            error,
            day: typed[0].to_owned(),
            month: typed[1].to_owned(),
            year: typed[2].to_owned(),
        },
    )
}

async fn check_page(State(public): State<Public>, headers: HeaderMap) -> Response {
    match current(&public, &headers).await {
        Ok((_, v)) if v.visit.born_checked => Redirect::to(next_after_check(&v)).into_response(),
        Ok((_, v)) => check_form(&public, &v, None, ["", "", ""]),
        Err(r) => r,
    }
}

fn next_after_check(v: &Visit) -> &'static str {
    match v.link.purpose {
        Purpose::Answer => "/consent/answers",
        Purpose::Withdraw => "/consent/withdraw",
    }
}

fn typed_date(day: &str, month: &str, year: &str) -> Option<Date> {
    let (d, m, y) = (
        day.trim().parse::<i8>().ok()?,
        month.trim().parse::<i8>().ok()?,
        year.trim().parse::<i16>().ok()?,
    );
    if !(1900..=2200).contains(&y) {
        return None;
    }
    Date::new(y, m, d).ok()
}

async fn check(State(public): State<Public>, headers: HeaderMap, fields: Fields) -> Response {
    let (secret, v) = match current(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Err(r) = posted_ok(&public, &secret, &v, &fields) {
        return r;
    }
    let typed = [
        field(&fields, "day"),
        field(&fields, "month"),
        field(&fields, "year"),
    ];
    let Some(date) = typed_date(typed[0], typed[1], typed[2]) else {
        return check_form(
            &public,
            &v,
            Some("Enter a real date of birth, for example 27 3 2011".into()),
            typed,
        );
    };
    let now = public.app.now();
    let s = secret.clone();
    let outcome = match write(&public, move |c, setup| {
        ops::check_birth_date(c, setup, &s, date, now)
    })
    .await
    {
        Ok(o) => o,
        Err(r) => return r,
    };
    match outcome {
        Ok(BirthDateCheck::Passed) => Redirect::to(next_after_check(&v))
            .to_owned()
            .into_response(),
        Ok(BirthDateCheck::Wrong { left }) => check_form(
            &public,
            &v,
            Some(format!(
                "The date of birth does not match our records. You have {left} {} left.",
                if left == 1 { "try" } else { "tries" }
            )),
            // As typed, so a slip of one digit is put right where it is.
            typed,
        ),
        Ok(BirthDateCheck::Locked) => refused(&public, Refusal::Locked),
        Err(refusal) => refused(&public, refusal),
    }
}

/// One question of the form.
struct Question {
    /// The form field: `internal`, `partner_<id>`, `website`, `social`.
    code: String,
    /// Its element id.
    code_id: String,
    title: String,
    meaning: String,
    answer: Option<bool>,
    missing: bool,
}

fn questions(
    wording: &crate::rules::parents::Wording,
    partners: &[(PartnerId, String)],
    answers: &Answers,
    show_missing: bool,
) -> Vec<Question> {
    let mut out = Vec::new();
    let mut add = |code: String, title: String, meaning: String, answer: Option<bool>| {
        out.push(Question {
            code_id: code.replace('_', "-"),
            code,
            title,
            meaning,
            answer,
            missing: show_missing && answer.is_none(),
        });
    };
    add(
        "internal".into(),
        format!("Inside {}", wording.organisation),
        wording.internal.clone(),
        answers.internal,
    );
    for (id, name) in partners {
        add(
            format!("partner_{}", id.0),
            format!("Shared with {name}"),
            wording.partner_text(name),
            answers.partners.get(&id.0).copied().flatten(),
        );
    }
    add(
        "website".into(),
        "On our website".into(),
        wording.website.clone(),
        answers.website,
    );
    add(
        "social".into(),
        "On our social media".into(),
        wording.social.clone(),
        answers.social,
    );
    out
}

#[derive(Template)]
#[template(path = "public/answers.html")]
struct AnswersPage {
    f: Frame,
    csrf: String,
    introduction: String,
    learner: String,
    for_self: bool,
    questions: Vec<Question>,
    missing: Vec<String>,
}

async fn wording_and_partners(
    public: &Public,
) -> Result<(crate::rules::parents::Wording, Vec<(PartnerId, String)>), Response> {
    let now = public.app.now();
    // The wording in use is saved on first use (its version is what an answer cites).
    write(public, move |c, _| {
        let (_, wording) = ops::wording_in_use(c, now)?;
        Ok((wording, ops::partners_asked(c)?))
    })
    .await
}

fn answers_form(
    public: &Public,
    v: &Visit,
    wording: &crate::rules::parents::Wording,
    partners: &[(PartnerId, String)],
    answers: &Answers,
    missing: Vec<String>,
) -> Response {
    let show = !missing.is_empty();
    page(
        if show {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &AnswersPage {
            f: public.frame("How may we use photographs?", show),
            csrf: v.visit.csrf.clone(),
            introduction: wording.introduction.clone(),
            learner: v.learner(),
            for_self: v.for_self(),
            questions: questions(wording, partners, answers, show),
            missing,
        },
    )
}

/// For the answering pages shown (questions, check your answers): the checked visit of an
/// answer not sent yet (else the page its visit is at), the wording and the partners.
async fn answering(
    public: &Public,
    headers: &HeaderMap,
) -> Result<
    (
        Visit,
        crate::rules::parents::Wording,
        Vec<(PartnerId, String)>,
    ),
    Response,
> {
    let (_, v) = checked(public, headers).await?;
    if v.link.purpose != Purpose::Answer || v.visit.reference.is_some() {
        return Err(Redirect::to(next_after_check(&v)).into_response());
    }
    let (wording, partners) = wording_and_partners(public).await?;
    Ok((v, wording, partners))
}

async fn answers_page(State(public): State<Public>, headers: HeaderMap) -> Response {
    let (v, wording, partners) = match answering(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    answers_form(&public, &v, &wording, &partners, &v.answers(), Vec::new())
}

fn yes_no(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

async fn answers(State(public): State<Public>, headers: HeaderMap, fields: Fields) -> Response {
    let (secret, v) = match checked(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Err(r) = posted_ok(&public, &secret, &v, &fields) {
        return r;
    }
    let (wording, partners) = match wording_and_partners(&public).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut given = Answers {
        internal: yes_no(field(&fields, "internal")),
        website: yes_no(field(&fields, "website")),
        social: yes_no(field(&fields, "social")),
        ..Answers::default()
    };
    for (id, _) in &partners {
        given
            .partners
            .insert(id.0, yes_no(field(&fields, &format!("partner_{}", id.0))));
    }
    let ids: Vec<PartnerId> = partners.iter().map(|(id, _)| *id).collect();
    let missing = given.scopes(&ids).err().unwrap_or_default();
    let now = public.app.now();
    let (s, keep) = (secret.clone(), given.clone());
    match write(&public, move |c, _| ops::save_answers(c, &s, &keep, now)).await {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => return refused(&public, refusal),
        Err(r) => return r,
    }
    if !missing.is_empty() {
        return answers_form(&public, &v, &wording, &partners, &given, missing);
    }
    Redirect::to("/consent/confirm").into_response()
}

#[derive(Template)]
#[template(path = "public/confirm.html")]
struct ConfirmPage {
    f: Frame,
    csrf: String,
    learner: String,
    for_self: bool,
    questions: Vec<Question>,
    declaration: String,
    relationships: Vec<(&'static str, &'static str)>,
    name: String,
    relationship: String,
    error: Option<String>,
    error_field: &'static str,
}

#[allow(clippy::too_many_arguments)]
fn confirm_form(
    public: &Public,
    v: &Visit,
    wording: &crate::rules::parents::Wording,
    partners: &[(PartnerId, String)],
    name: &str,
    relationship: &str,
    error: Option<(String, &'static str)>,
) -> Response {
    let answers = v.answers();
    let (error, error_field) = error.map_or((None, ""), |(e, f)| (Some(e), f));
    page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &ConfirmPage {
            f: public.frame("Check your answers", error.is_some()),
            csrf: v.visit.csrf.clone(),
            learner: v.learner(),
            for_self: v.for_self(),
            questions: questions(wording, partners, &answers, false),
            declaration: wording.declaration.clone(),
            relationships: vec![
                ("parent", "Parent"),
                ("guardian", "Guardian"),
                ("carer", "Carer"),
            ],
            name: name.to_owned(),
            relationship: relationship.to_owned(),
            error,
            error_field,
        },
    )
}

async fn confirm_page(State(public): State<Public>, headers: HeaderMap) -> Response {
    let (v, wording, partners) = match answering(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let ids: Vec<PartnerId> = partners.iter().map(|(id, _)| *id).collect();
    if v.answers().scopes(&ids).is_err() {
        return Redirect::to("/consent/answers").into_response();
    }
    let relationship = if v.for_self() {
        "self"
    } else {
        v.contact.relationship.as_str()
    };
    confirm_form(&public, &v, &wording, &partners, "", relationship, None)
}

async fn confirm(State(public): State<Public>, headers: HeaderMap, fields: Fields) -> Response {
    let (secret, v) = match checked(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Err(r) = posted_ok(&public, &secret, &v, &fields) {
        return r;
    }
    let name = field(&fields, "name").to_owned();
    let relationship_text = field(&fields, "relationship").to_owned();
    let relationship = relationship_text.parse::<SignerKind>().ok();
    let (wording, partners) = match wording_and_partners(&public).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(relationship) = relationship else {
        return confirm_form(
            &public,
            &v,
            &wording,
            &partners,
            &name,
            "",
            Some((
                "Choose whether you are the learner's parent, guardian or carer".into(),
                "relationship",
            )),
        );
    };
    let now = public.app.now();
    let (s, typed) = (secret.clone(), name.clone());
    let recorded = write(&public, move |c, setup| {
        ops::submit_answers(c, setup, &s, &typed, relationship, now)
    })
    .await;
    match recorded {
        Ok(Ok(_)) => Redirect::to("/consent/done").into_response(),
        Ok(Err(ops::NotRecorded::Refused(refusal))) => refused(&public, refusal),
        Ok(Err(ops::NotRecorded::Unanswered(_))) => {
            Redirect::to("/consent/answers").into_response()
        }
        Ok(Err(ops::NotRecorded::Signature(why))) => {
            let field_name = if why.contains("name") {
                "name"
            } else {
                "relationship"
            };
            confirm_form(
                &public,
                &v,
                &wording,
                &partners,
                &name,
                &relationship_text,
                Some((why, field_name)),
            )
        }
        Ok(Err(ops::NotRecorded::NothingChosen)) => {
            Redirect::to("/consent/answers").into_response()
        }
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "public/done.html")]
struct DonePage {
    f: Frame,
    reference: String,
    next: Vec<String>,
}

async fn done_page(State(public): State<Public>, headers: HeaderMap) -> Response {
    let (_, v) = match current(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(reference) = v.visit.reference.clone() else {
        return Redirect::to("/consent/check").into_response();
    };
    let withdrawal = v.link.purpose == Purpose::Withdraw;
    let next = if withdrawal {
        vec![
            "Photographs already published where you withdrew consent are being taken down \
             now, and no new ones will be published there."
                .to_owned(),
            "You can give consent again at any time: ask us for a new link.".to_owned(),
        ]
    } else {
        vec![
            "Photographs are used only where you said yes, never with a name beside them."
                .to_owned(),
            "You can withdraw any of your answers at any time with the link in the \
             confirmation email. Photographs already published are then taken down."
                .to_owned(),
        ]
    };
    page(
        StatusCode::OK,
        &DonePage {
            f: public.frame(
                if withdrawal {
                    "Withdrawal recorded"
                } else {
                    "Answer recorded"
                },
                false,
            ),
            reference,
            next,
        },
    )
}

#[derive(Template)]
#[template(path = "public/withdraw.html")]
struct WithdrawPage {
    f: Frame,
    csrf: String,
    learner: String,
    for_self: bool,
    choices: Vec<(String, String)>,
    nothing_chosen: bool,
}

async fn withdraw_form(public: &Public, v: &Visit, nothing_chosen: bool) -> Response {
    let (wording, partners) = match wording_and_partners(public).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let now = public.app.now();
    let visit = v.clone();
    let app = public.app.clone();
    let granted = public
        .app
        .read(move |c| app.with_parents(|setup| Ok(ops::granted_now(c, &visit, setup, now)?)))
        .await;
    let granted = match granted {
        Ok(g) => g,
        Err(e) => return failed(&e),
    };
    let mut choices = Vec::new();
    if granted.internal {
        choices.push((
            "internal".to_owned(),
            format!("Inside {}", wording.organisation),
        ));
    }
    for (id, name) in &partners {
        if granted.partners.contains(id) {
            choices.push((format!("partner_{}", id.0), format!("Shared with {name}")));
        }
    }
    if granted.website {
        choices.push(("website".to_owned(), "On our website".to_owned()));
    }
    if granted.social {
        choices.push(("social".to_owned(), "On our social media".to_owned()));
    }
    page(
        if nothing_chosen {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &WithdrawPage {
            f: public.frame("What do you want to withdraw?", nothing_chosen),
            csrf: v.visit.csrf.clone(),
            learner: v.learner(),
            for_self: v.for_self(),
            choices,
            nothing_chosen,
        },
    )
}

async fn withdraw_page(State(public): State<Public>, headers: HeaderMap) -> Response {
    match checked(&public, &headers).await {
        Ok((_, v)) if v.visit.reference.is_some() => Redirect::to("/consent/done").into_response(),
        Ok((_, v)) => withdraw_form(&public, &v, false).await,
        Err(r) => r,
    }
}

async fn withdraw(State(public): State<Public>, headers: HeaderMap, fields: Fields) -> Response {
    let (secret, v) = match checked(&public, &headers).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Err(r) = posted_ok(&public, &secret, &v, &fields) {
        return r;
    }
    let mut chosen = Scopes::default();
    for (name, value) in fields.iter() {
        if name != "withdraw" {
            continue;
        }
        match value.as_str() {
            "internal" => chosen.internal = true,
            "website" => chosen.website = true,
            "social" => chosen.social = true,
            other => {
                if let Some(id) = other.strip_prefix("partner_").and_then(|i| i.parse().ok()) {
                    chosen.partners.push(PartnerId(id));
                }
            }
        }
    }
    let now = public.app.now();
    let s = secret.clone();
    let done = write(&public, move |c, setup| {
        ops::withdraw(c, setup, &s, &chosen, now)
    })
    .await;
    match done {
        Ok(Ok(_)) => Redirect::to("/consent/done").into_response(),
        Ok(Err(ops::NotRecorded::Refused(refusal))) => refused(&public, refusal),
        Ok(Err(_)) => withdraw_form(&public, &v, true).await,
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "public/new_link.html")]
struct NewLinkPage {
    f: Frame,
    error: Option<String>,
}

async fn new_link_page(State(public): State<Public>) -> Response {
    page(
        StatusCode::OK,
        &NewLinkPage {
            f: public.frame("Get a new link", false),
            error: None,
        },
    )
}

/// "Send me a new link": the same answer whatever address is typed (known or not), and
/// the same time to answer it (the mail is only queued).
async fn new_link(
    State(public): State<Public>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let address =
        super::login::client_address(Some(peer), &headers, &public.app.config().trusted_proxies);
    if address.is_some_and(|a| public.new_links.check_key(&a).is_err()) {
        return too_many(&public);
    }
    let email = field(&fields, "email").trim().to_owned();
    if crate::store::registry::check_email(&email).is_err() {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewLinkPage {
                f: public.frame("Get a new link", true),
                error: Some("Enter an email address like name@example.com".into()),
            },
        );
    }
    let now = public.app.now();
    if let Err(r) = write(&public, move |c, setup| {
        ops::new_link(c, setup, &email, now)
    })
    .await
    {
        return r;
    }
    message(
        &public,
        StatusCode::OK,
        "Check your email",
        &[
            "If that address is on our records, we have sent a new personal link to it. It \
             can take a few minutes to arrive.",
            "If nothing arrives, contact the office: they may have a different address for you.",
        ],
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::posted_from_elsewhere;

    #[test]
    fn a_post_is_ours_only_from_our_own_pages() {
        let ours = "https://consent.school.example";
        let cases = [
            // Chromium and Firefox on our pages (no-referrer makes the origin null).
            (Some("null"), Some("same-origin"), false),
            (Some(ours), Some("same-origin"), false),
            (Some("HTTPS://Consent.School.Example"), None, false),
            // A client without either header (curl, an old browser).
            (None, None, false),
            (Some("https://evil.example"), Some("cross-site"), true),
            (Some("null"), Some("cross-site"), true),
            // Another host of the school's (the staff server, say) is not ours either.
            (
                Some("https://photos.school.example"),
                Some("same-site"),
                true,
            ),
            (Some("null"), Some("same-site"), true),
            (Some("https://evil.example"), None, true),
            (None, Some("cross-site"), true),
        ];
        for (origin, site, elsewhere) in cases {
            assert_eq!(
                posted_from_elsewhere(origin, site, ours),
                elsewhere,
                "Origin {origin:?}, Sec-Fetch-Site {site:?}"
            );
        }
    }
}
