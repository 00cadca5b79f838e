//! `/api/v1`: the JSON API, one module per area. Every path here is in
//! [`super::routes::API_ROUTES`].

mod groups;
mod kiosk;
mod mail;
pub(crate) mod parents;
pub(crate) mod people;
pub(super) mod photos;
mod registry;
mod session;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts};
use axum::routing::{delete, get, post, put};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;

/// `Json` whose rejections are [`ApiError`]s (clear 4xx messages).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// `Query` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(session::health))
        .route("/api/v1/login", post(session::login))
        .route("/api/v1/logout", post(session::logout))
        .route("/api/v1/session", get(session::current))
        .route("/api/v1/sessions", get(session::own_sessions))
        .route("/api/v1/sessions/{handle}/end", post(session::end_session))
        .route("/api/v1/people", get(people::list).post(people::create))
        .route("/api/v1/people/search", post(people::search))
        .route(
            "/api/v1/people/{id}/contacts",
            get(parents::contacts).post(parents::add_contact),
        )
        .route(
            "/api/v1/people/{id}/contacts/{contact}",
            delete(parents::remove_contact),
        )
        .route(
            "/api/v1/people/{id}/consent-requests",
            post(parents::request_person),
        )
        .route(
            "/api/v1/groups/{id}/consent-requests",
            post(parents::request_group),
        )
        .route(
            "/api/v1/consent-requests",
            get(parents::statuses).post(parents::request_many),
        )
        .route(
            "/api/v1/consent-wording",
            get(parents::wording).put(parents::set_wording),
        )
        .route("/api/v1/people/{id}", get(people::show).put(people::update))
        .route(
            "/api/v1/people/{id}/consents",
            get(people::consents).post(people::add_consent),
        )
        .route("/api/v1/people/{id}/custody", get(registry::person_custody))
        .route("/api/v1/people/{id}/restriction", post(people::restriction))
        .route("/api/v1/people/{id}/left", put(people::left))
        .route("/api/v1/people/{id}/erase", post(people::erase))
        .route("/api/v1/consents/{id}/withdraw", post(people::withdraw))
        .route("/api/v1/consents/import", post(people::import))
        .route("/api/v1/lookup", post(people::lookup))
        .route(
            "/api/v1/partners",
            get(registry::partners).post(registry::add_partner),
        )
        .route(
            "/api/v1/devices",
            get(registry::devices).post(registry::add_device),
        )
        .route(
            "/api/v1/devices/{id}/custody",
            get(registry::device_custody),
        )
        .route(
            "/api/v1/badges",
            get(registry::badges).post(registry::enrol_badge),
        )
        .route(
            "/api/v1/badges/{id}/active",
            post(registry::set_badge_active),
        )
        .route(
            "/api/v1/accounts",
            get(registry::accounts).post(registry::add_account),
        )
        .route("/api/v1/accounts/{id}", put(registry::update_account))
        .route("/api/v1/accounts/{id}/email", put(mail::set_email))
        .route(
            "/api/v1/account/reminders",
            get(mail::reminders).put(mail::set_reminders),
        )
        .route("/api/v1/mail", get(mail::outbox))
        .route("/api/v1/mail/{id}/send-again", post(mail::send_again))
        .route(
            "/api/v1/kiosks",
            get(registry::kiosks).post(registry::add_kiosk),
        )
        .route("/api/v1/kiosks/{id}/revoke", post(registry::revoke_kiosk))
        .route("/api/v1/kiosks/{id}/rotate", post(registry::rotate_kiosk))
        .route("/api/v1/kiosk-events/refused", get(kiosk::refused_events))
        .route("/api/v1/custody", get(registry::custody))
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route("/api/v1/groups/{id}", get(groups::show).put(groups::update))
        .route("/api/v1/groups/{id}/members", post(groups::add_members))
        .route(
            "/api/v1/groups/{id}/members/{person}",
            delete(groups::remove_member),
        )
        .route("/api/v1/bookings", get(groups::bookings).post(groups::book))
        .route("/api/v1/bookings/{id}/cancel", post(groups::cancel))
        .route("/api/v1/photos", get(photos::list))
        .route("/api/v1/photos/{id}", get(photos::show))
        .route("/api/v1/photos/{id}/decisions", get(photos::decisions))
        .route("/api/v1/photos/{id}/faces", post(photos::draw_face))
        .route(
            "/api/v1/photos/{id}/faces/acknowledgement",
            post(photos::acknowledge_faces),
        )
        .route(
            "/api/v1/photos/{id}/faces/{face}",
            put(photos::resolve_face),
        )
        .route("/api/v1/photos/{id}/tags", post(photos::add_tag))
        .route("/api/v1/photos/{id}/tags/{tag}", delete(photos::remove_tag))
        .route(
            "/api/v1/photos/{id}/tags/{tag}/covered",
            put(photos::set_covered),
        )
        .route("/api/v1/photos/{id}/caption", put(photos::set_caption))
        .route(
            "/api/v1/photos/{id}/confirmation",
            put(photos::set_confirmation),
        )
        .route("/api/v1/photos/{id}/approvals", post(photos::approve))
        .route(
            "/api/v1/photos/{id}/provenance",
            post(photos::acknowledge_provenance),
        )
        .route("/api/v1/photos/{id}/publish", post(photos::publish))
        .route("/api/v1/takedowns", get(photos::takedowns))
        .route("/api/v1/takedowns/{id}/done", post(photos::takedown_done))
        .route("/api/v1/audit", get(kiosk::audit))
        .route("/api/v1/kiosk/roster", get(kiosk::roster))
        .route("/api/v1/kiosk/events", post(kiosk::events))
        .route(
            "/api/v1/kiosk/card-files/{hash}",
            get(kiosk::card_file_known).put(kiosk::card_file),
        )
}
