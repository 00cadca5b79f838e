//! What an import's page does to many photos at once: the booked group's cautions
//! applied (their faces covered), faces too small to recognise dismissed, and the photos
//! with nobody in them confirmed after one look at their contact sheet.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;

use super::widgets::{full_name, taken};
use crate::domain::{PersonId, PhotoId};
use crate::ops::tagging;
use crate::rules::consent::Caution;
use crate::store::{faces, photos};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;
use crate::web::ui::chrome::{Chrome, PageError, finish, render};

/// Someone of the booked group whose photos need care.
pub struct Cautioned {
    pub name: String,
    pub words: &'static str,
}

/// What the import's page offers to do at once.
pub struct Bulk {
    pub min_px: u32,
    pub small_faces: usize,
    pub cautioned: Vec<Cautioned>,
    /// Faces of cautioned people not covered yet.
    pub to_cover: usize,
    pub without_people: usize,
    /// What came in: "24 JPEG, 3 HEIC, 1 PNG".
    pub kinds: String,
}

/// The people of the import's booked group who must not be photographed or must not
/// appear in public, as of `today`.
fn cautioned_people(
    conn: &rusqlite::Connection,
    st: &AppState,
    session: i64,
) -> Result<Vec<(PersonId, String, Caution)>, ApiError> {
    let Some(booking) = crate::store::groups::booking_of_session(conn, session)? else {
        return Ok(vec![]);
    };
    Ok(
        crate::ops::groups::members_with_cautions(
            conn,
            booking.group_id,
            st.today(),
            &st.policy(),
        )?
        .into_iter()
        .filter_map(|m| Some((m.person.id, full_name(&m.person), m.caution?)))
        .collect(),
    )
}

/// The import page's bulk section.
pub fn bulk(conn: &rusqlite::Connection, st: &AppState, session: i64) -> Result<Bulk, ApiError> {
    let min_px = st.config().recognisable_face_px;
    let cautioned = cautioned_people(conn, st, session)?;
    let people: Vec<PersonId> = cautioned.iter().map(|(id, _, _)| *id).collect();
    Ok(Bulk {
        min_px,
        small_faces: faces::small_unresolved_faces(conn, Some(session), min_px)?.len(),
        to_cover: faces::uncovered_tags_of(conn, Some(session), &people)?.len(),
        cautioned: cautioned
            .into_iter()
            .map(|(_, name, caution)| Cautioned {
                name,
                words: match caution {
                    Caution::NoPhotos => "no photos at all",
                    Caution::NotPublic => "not on the website or social media",
                },
            })
            .collect(),
        without_people: photos::without_faces(conn, Some(session))?.len(),
        kinds: photos::formats_of(conn, Some(session))?
            .into_iter()
            .map(|(format, n)| format!("{n} {}", format.as_str().to_uppercase()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

pub async fn dismiss_small_faces(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let min_px = state.config().recognisable_face_px;
    let result = state
        .db(move |c| {
            let n = tagging::dismiss_small_faces(c, Some(id), min_px, &caller.actor(), now)?;
            Ok(format!(
                "{n} {} smaller than {min_px} pixels dismissed: too small to recognise anyone.",
                if n == 1 { "face" } else { "faces" }
            ))
        })
        .await;
    finish(&session, result, &format!("/imports/{id}")).await
}

pub async fn cover_cautioned(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let st = state.clone();
    let result = state
        .db(move |c| {
            let people: Vec<PersonId> = cautioned_people(c, &st, id)?
                .into_iter()
                .map(|(p, _, _)| p)
                .collect();
            let n = tagging::cover_people(c, Some(id), &people, &caller.actor(), now)?;
            Ok(format!(
                "{n} {} of the group's cautioned people covered in this import's photos.",
                if n == 1 { "face" } else { "faces" }
            ))
        })
        .await;
    finish(&session, result, &format!("/imports/{id}")).await
}

/// A photo on the contact sheet.
pub struct Sheet {
    pub id: i64,
    pub taken: String,
}

#[derive(Template)]
#[template(path = "contact_sheet.html")]
struct ContactSheet {
    c: Chrome,
    session: i64,
    photos: Vec<Sheet>,
}

/// The import's photos in which the detector found nobody, all on one page.
pub async fn contact_sheet(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let st = state.clone();
    let photos = state
        .read(move |conn| {
            Ok(photos::without_faces(conn, Some(id))?
                .iter()
                .map(|p| Sheet {
                    id: p.id.0,
                    taken: taken(&st, p),
                })
                .collect())
        })
        .await?;
    render(&ContactSheet {
        c,
        session: id,
        photos,
    })
}

/// Confirms the photos the contact sheet showed (listed in the form, so one imported since
/// is never confirmed unseen).
pub async fn confirm_without_people(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let now = state.now();
    let seen = fields
        .iter()
        .filter(|(k, _)| k == "photo")
        .map(|(_, v)| {
            v.parse()
                .map(PhotoId)
                .map_err(|_| ApiError::BadRequest(format!("{v:?} is not a photo id")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let result = state
        .db(move |c| {
            let n = tagging::confirm_without_people(c, &seen, &caller.actor(), now)?;
            Ok(format!(
                "{n} {} with nobody in {} confirmed.",
                if n == 1 { "photo" } else { "photos" },
                if n == 1 { "it" } else { "them" }
            ))
        })
        .await;
    finish(&session, result, &format!("/imports/{id}")).await
}
