//! The web UI: server-rendered pages for staff, directors and admins.
//!
//! Its routes are classified in [`super::routes::PAGE_ROUTES`] beside the API's, and go through the same access
//! middleware. Forms carry the CSRF token in a `_csrf` field (a `_csrf` query parameter for
//! file uploads). Pages use no inline script or style (the Content-Security-Policy forbids
//! them): one small stylesheet, no JavaScript. Search text (names) is always posted, never
//! put in a URL, and handlers log ids only.

mod admin;
mod audit;
mod chrome;
mod dashboard;
mod groups;
mod kiosks;
mod mail;
mod media;
mod parents;
mod people;
mod photos;
mod publishing;
mod renewals;
mod sign_in;
mod sites;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::AppState;

pub use chrome::PageError;
pub use media::{preview_key, thumbnail_key};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(sign_in::login_page).post(sign_in::login))
        .route("/login/code", get(sign_in::code_page).post(sign_in::code))
        .route("/static/app.css", get(stylesheet))
        .route("/static/picker.js", get(picker_script))
        .route("/people/picker", get(photos::photo::picker))
        .route("/logout", post(chrome::logout))
        .route("/account", get(chrome::account))
        .route(
            "/account/second-factor",
            get(sign_in::second_factor_page).post(sign_in::enrol),
        )
        .route(
            "/account/second-factor/recovery-codes",
            post(sign_in::new_recovery_codes),
        )
        .route("/account/sessions/{handle}/end", post(chrome::end_session))
        .route("/", get(dashboard::dashboard))
        .route("/devices/{id}", get(dashboard::device))
        .route("/imports", get(photos::gallery::imports))
        .route("/imports/{id}", get(photos::gallery::gallery))
        .route("/photos", get(photos::gallery::all_photos))
        .route("/photos/{id}", get(photos::photo::photo))
        .route("/photos/{id}/preview", get(media::preview))
        .route("/photos/{id}/thumbnail", get(media::thumbnail))
        .route(
            "/photos/{id}/faces/{face}",
            post(photos::photo::resolve_face),
        )
        .route("/photos/{id}/tagging", post(photos::photo::tagging))
        .route(
            "/imports/{id}/dismiss-small-faces",
            post(photos::bulk::dismiss_small_faces),
        )
        .route(
            "/imports/{id}/cover-cautioned",
            post(photos::bulk::cover_cautioned),
        )
        .route(
            "/imports/{id}/without-people",
            get(photos::bulk::contact_sheet).post(photos::bulk::confirm_without_people),
        )
        .route(
            "/photos/{id}/draw",
            get(photos::photo::draw_page).post(photos::photo::draw_face),
        )
        .route(
            "/photos/{id}/faces-acknowledgement",
            post(photos::photo::acknowledge_faces),
        )
        .route("/photos/{id}/tags", post(photos::photo::add_tag))
        .route(
            "/photos/{id}/tags/{tag}/remove",
            post(photos::photo::remove_tag),
        )
        .route(
            "/photos/{id}/tags/{tag}/covered",
            post(photos::photo::cover),
        )
        .route("/photos/{id}/caption", post(photos::photo::caption))
        .route(
            "/photos/{id}/confirmation",
            post(photos::photo::confirmation),
        )
        .route(
            "/photos/{id}/requests",
            post(photos::approvals::request_publication),
        )
        .route("/photos/{id}/approvals", post(photos::approvals::approve))
        .route("/photos/{id}/publish", post(photos::approvals::publish))
        .route("/photos/{id}/provenance", post(photos::photo::provenance))
        .route("/approvals", get(photos::approvals::approvals))
        .route("/groups", get(groups::groups).post(groups::create))
        .route("/groups/{id}", get(groups::group).post(groups::update))
        .route("/groups/{id}/members", post(groups::add_member))
        .route(
            "/groups/{id}/members/{person}/remove",
            post(groups::remove_member),
        )
        .route("/groups/{id}/bookings", post(groups::book))
        .route("/bookings/{id}/cancel", post(groups::cancel_booking))
        .route("/lookup", get(people::lookup_page).post(people::lookup))
        .route(
            "/people/{id}",
            get(people::person).post(people::edit_person),
        )
        .route("/people/{id}/consents", post(people::add_consent))
        .route("/people/{id}/contacts", post(parents::add_contact))
        .route(
            "/people/{id}/contacts/{contact}/remove",
            post(parents::remove_contact),
        )
        .route(
            "/people/{id}/consent-requests",
            post(parents::request_person),
        )
        .route(
            "/groups/{id}/consent-requests",
            post(parents::request_group),
        )
        .route("/renewals/requests", post(parents::request_everyone))
        .route(
            "/admin/consent-wording",
            get(parents::wording_page).post(parents::save_wording),
        )
        .route("/people/{id}/restriction", post(people::restriction))
        .route("/people/{id}/left", post(people::left))
        .route("/people/{id}/erase", post(people::erase))
        .route("/people/{id}/export.zip", get(people::export))
        .route("/consents/{id}", post(people::correct))
        .route("/consents/{id}/withdraw", post(people::withdraw))
        .route(
            "/consents/{id}/evidence",
            get(media::evidence).post(people::upload_evidence),
        )
        .route("/takedowns", get(dashboard::takedowns))
        .route("/renewals", get(renewals::renewals))
        .route("/renewals.csv", get(renewals::renewals_csv))
        .route("/takedowns/{id}/done", post(dashboard::takedown_done))
        .route("/audit", get(audit::audit))
        .route("/audit.csv", get(audit::audit_csv))
        .route("/admin/people", get(admin::people).post(admin::add_person))
        .route(
            "/admin/accounts",
            get(admin::accounts).post(admin::add_account),
        )
        .route("/admin/accounts/{id}", post(admin::update_account))
        .route("/admin/accounts/{id}/email", post(mail::set_email))
        .route("/admin/publishing", get(publishing::publishing))
        .route("/admin/publishing/check", post(publishing::check))
        .route("/admin/mail", get(mail::outbox))
        .route("/admin/mail/test", post(mail::send_test))
        .route("/admin/mail/{id}/send-again", post(mail::send_again))
        .route("/account/reminders", post(mail::set_reminders))
        .route("/admin/badges", get(admin::badges).post(admin::enrol_badge))
        .route("/admin/badges/{id}/active", post(admin::badge_active))
        .route(
            "/admin/devices",
            get(admin::devices).post(admin::add_device),
        )
        .route(
            "/admin/partners",
            get(admin::partners).post(admin::add_partner),
        )
        .route("/admin/import", get(admin::import_page).post(admin::import))
        .route("/admin/kiosks", get(kiosks::kiosks).post(kiosks::add_kiosk))
        .route("/admin/kiosks/{id}/rotate", post(kiosks::rotate_kiosk))
        .route("/admin/kiosks/{id}/revoke", post(kiosks::revoke_kiosk))
        .route("/admin/sites", get(sites::sites).post(sites::add_site))
        .route("/admin/sites/assign", post(sites::assign))
}

const STYLESHEET: &str = include_str!("../../../static/app.css");
const PICKER_SCRIPT: &str = include_str!("../../../static/picker.js");

/// The optional type-ahead script: pages work the same without it.
async fn picker_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PICKER_SCRIPT,
    )
        .into_response()
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

/// Whether a request comes from a browser showing pages (a link followed or a form
/// posted), not from an API client.
fn from_a_page(request: &Request) -> bool {
    !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

/// Wraps the whole router: a browser without a session is sent to the login page, and a
/// refusal or a missing page is shown as a page with the refusal's sentence, not as
/// JSON. API calls are untouched.
pub async fn pages_for_browsers(request: Request, next: Next) -> Response {
    let page = from_a_page(&request);
    let response = next.run(request).await;
    if !page {
        return response;
    }
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !json {
        return response;
    }
    match status {
        StatusCode::UNAUTHORIZED => Redirect::to("/login").into_response(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
            let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let json = serde_json::from_slice::<serde_json::Value>(&body).ok();
            if json
                .as_ref()
                .is_some_and(|v| v["error"] == "second_factor_setup_required")
            {
                return Redirect::to("/account/second-factor").into_response();
            }
            let message = json
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "This page cannot be shown.".into());
            PageError::new(status, message).into_response()
        }
        _ => response,
    }
}

/// `Cache-Control` for files only a logged-in user may see.
pub(crate) const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// A CSV download of `header` and `rows` as `filename`, never cached.
pub(crate) fn csv_download<'a>(
    filename: &'static str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<&'a str>>,
) -> Result<Response, PageError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| super::error::ApiError::Internal(e.to_string());
    writer.write_record(header).map_err(internal)?;
    for row in rows {
        writer.write_record(row).map_err(internal)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| super::error::ApiError::Internal(e.to_string()))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| super::error::ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, NO_STORE),
        ],
        bytes,
    )
        .into_response())
}
