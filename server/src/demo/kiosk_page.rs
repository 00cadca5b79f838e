//! The simulated kiosk of `consentcam demo`, on a web page: the kiosk's current screen,
//! buttons to tap a staff badge, a learner badge, an unknown badge or a device tag, and the
//! kiosk's own OK and Cancel buttons.
//!
//! The simulated kiosk runs in this process but talks to the server only through the JSON
//! API over loopback, exactly like a real kiosk. Outside demo mode these routes answer 404.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use consentcam_kiosk::sim::SimKioskHandle;
use serde::Deserialize;

use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::error::ApiError;

/// The buttons: label and UID (the demo seed enrols these).
pub const BUTTONS: [(&str, &str); 6] = [
    ("Staff badge (may sign out)", consentcam_kiosk::demo::STAFF),
    (
        "Staff badge (no device permission)",
        consentcam_kiosk::demo::NO_PERMISSION,
    ),
    ("Learner badge", consentcam_kiosk::demo::LEARNER),
    ("Unknown badge", consentcam_kiosk::demo::UNKNOWN),
    ("Camera 1 tag", consentcam_kiosk::demo::CAMERA_1),
    ("iPad 1 tag", consentcam_kiosk::demo::IPAD_1),
];

/// The simulated kiosk's pages, served beside the application's in demo mode (see
/// [`crate::web::AppState::with_demo_pages`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo/kiosk", get(page))
        .route("/demo/kiosk/screen.png", get(screen))
        .route("/demo/kiosk/tap", post(tap))
        .route("/demo/kiosk/press", post(press))
        .route("/demo/kiosk/card", post(card))
}

fn kiosk(state: &AppState) -> Result<Arc<SimKioskHandle>, ApiError> {
    state
        .sim_kiosk()
        .ok_or_else(|| ApiError::NotFound("there is a simulated kiosk only in demo mode".into()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> Result<Html<String>, ApiError> {
    kiosk(&state)?;
    let mut buttons = String::new();
    for (label, uid) in BUTTONS {
        buttons.push_str(&format!(
            "<form method=\"post\" action=\"/demo/kiosk/tap\"><input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"uid\" value=\"{uid}\"><button type=\"submit\">{}</button></form>\n",
            escape(&caller.csrf_token),
            escape(label)
        ));
    }
    buttons.push_str(&format!(
        "<form method=\"post\" action=\"/demo/kiosk/card\"><input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
         <button type=\"submit\">Insert Camera 1's card ({} pictures from its latest sign-out)</button></form>\n",
        escape(&caller.csrf_token),
        crate::demo::card::PICTURES,
    ));
    for (label, button) in [("OK", "ok"), ("Cancel", "cancel")] {
        buttons.push_str(&format!(
            "<form method=\"post\" action=\"/demo/kiosk/press\"><input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"button\" value=\"{button}\"><button type=\"submit\">Kiosk button: {label}</button></form>\n",
            escape(&caller.csrf_token),
        ));
    }
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Simulated kiosk - consentcam demo</title></head><body>\
         <h1>Simulated kiosk</h1>\
         <p>The kiosk's 128x64 display (refresh the page to see it change over time):</p>\
         <p><img src=\"/demo/kiosk/screen.png\" width=\"384\" height=\"192\" alt=\"the kiosk display\"></p>\
         <p>Hold a badge or a device tag to the reader, or press a kiosk button. \
         Isla (the staff badge) has iPad 1 booked for a class today: sign it out to see \
         who must not be photographed (OK turns the pages). After returning Camera 1 (tap its \
         tag while it is out), insert its card: the import runs as on the Pi and the kiosk \
         shows its progress and summary; the photos then wait for tagging under Imports.</p>{buttons}\
         <p><a href=\"/\">Back to consentcam</a></p></body></html>"
    )))
}

pub async fn screen(State(state): State<AppState>, _: Caller) -> Result<Response, ApiError> {
    let kiosk = kiosk(&state)?;
    let png = tokio::task::spawn_blocking(move || kiosk.screen_png())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (StatusCode::OK, png).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(response)
}

#[derive(Deserialize)]
pub struct Tap {
    uid: String,
}

pub async fn tap(
    State(state): State<AppState>,
    _: Caller,
    axum::Form(tap): axum::Form<Tap>,
) -> Result<Redirect, ApiError> {
    let kiosk = kiosk(&state)?;
    if !BUTTONS.iter().any(|(_, uid)| *uid == tap.uid) {
        return Err(ApiError::invalid("not one of the demo badges or tags"));
    }
    tokio::task::spawn_blocking(move || kiosk.tap_hex(&tap.uid))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Redirect::to("/demo/kiosk"))
}

#[derive(Deserialize)]
pub struct Press {
    button: String,
}

pub async fn press(
    State(state): State<AppState>,
    _: Caller,
    axum::Form(press): axum::Form<Press>,
) -> Result<Redirect, ApiError> {
    let kiosk = kiosk(&state)?;
    let button = match press.button.as_str() {
        "ok" => consentcam_hardware::Button::Ok,
        "cancel" => consentcam_hardware::Button::Cancel,
        _ => return Err(ApiError::invalid("the kiosk has an OK and a Cancel button")),
    };
    tokio::task::spawn_blocking(move || kiosk.press(button))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Redirect::to("/demo/kiosk"))
}

/// Inserts the demo's Camera 1 card: a real import, in the background, which the simulated
/// kiosk follows through the progress file.
pub async fn card(State(state): State<AppState>, _: Caller) -> Result<Redirect, ApiError> {
    kiosk(&state)?;
    let (config, now) = (state.config().clone(), state.now());
    tokio::task::spawn_blocking(move || {
        match crate::demo::card::insert_camera_card(&config, now) {
            Ok(done) => {
                tracing::info!(stored = done.stored, session = ?done.session, "demo card imported")
            }
            Err(e) => tracing::warn!(error = %e, "demo card not imported"),
        }
    });
    Ok(Redirect::to("/demo/kiosk"))
}
