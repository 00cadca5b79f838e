//! The photo page and tagging it: faces (resolved, drawn, acknowledged), tags, covers,
//! the caption, confirmation, provenance notes.

use std::collections::BTreeSet;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use serde::Deserialize;
use tower_sessions::Session;

use super::widgets::{
    Badge, DecisionRow, decision_row, full_name, local, photo_url, resolve_person, status_badge,
    taken,
};
use crate::domain::{Channel, Format, PersonId, PhotoId};
use crate::ops::decisions;
use crate::ops::photos as ops;
use crate::ops::tagging::{FaceAnswer, Problem, Tagging, check, tag_photo};
use crate::rules::consent::{FaceResolution, FaceSearch, Provenance};
use crate::store::approvals;
use crate::store::faces;
use crate::store::publications;
use crate::store::sites;
use crate::store::{custody, people, photos, requests};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::api::Query;
use crate::web::api::photos::status;
use crate::web::error::ApiError;
use crate::web::ui::chrome::{Chrome, PageError, finish, render};

/// A face on the photo page: detected, or drawn by staff.
pub struct FaceRow {
    pub drawn: bool,
    pub n: usize,
    pub id: i64,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub label_y: u32,
    pub font: u32,
    /// The part of the picture its row shows beside its field (an SVG viewBox in the
    /// picture's coordinates): the face with a margin, square.
    pub crop: String,
    pub unresolved: bool,
    pub person_id: Option<i64>,
    /// What the face's field holds: the person as offered, or what was typed.
    pub typed: String,
    pub dismissed: bool,
    pub covered: bool,
    /// Why the form could not be saved, about this face.
    pub problem: Option<String>,
}

/// Someone tagged in the photo: through a face (its number) or by hand.
pub struct TagRow {
    pub id: i64,
    pub face: Option<usize>,
    pub person_id: Option<i64>,
    pub name: String,
    pub covered: bool,
    /// Covered, but no face box of theirs says where to paint (C13).
    pub needs_box: bool,
    /// How the drawing page is told whose face to draw (their ref).
    pub draw_person: String,
}

/// A past approval or rejection.
pub struct ApprovalRow {
    pub channel: String,
    pub approved: bool,
    pub note: String,
    pub decided_at: String,
    pub void: Option<String>,
}

/// A request to publish.
pub struct RequestRow {
    pub channel: String,
    pub requested_at: String,
    pub open: bool,
}

/// A person offered by the type-ahead.
pub struct Offer {
    pub value: String,
}

#[derive(Template)]
#[template(path = "photo.html")]
pub(super) struct PhotoPage {
    c: Chrome,
    id: i64,
    session_id: Option<i64>,
    badge: Badge,
    taken: String,
    width: u32,
    height: u32,
    faces: Vec<FaceRow>,
    tags: Vec<TagRow>,
    group: Vec<Offer>,
    others: Vec<Offer>,
    caption: String,
    confirmed: bool,
    provenance: &'static str,
    provenance_warning: bool,
    provenance_acknowledged: bool,
    provenance_note: String,
    decisions: Vec<DecisionRow>,
    /// Some channel allows the photo now.
    any_allowed: bool,
    approvals: Vec<ApprovalRow>,
    requests: Vec<RequestRow>,
    publications: Vec<publications::Publication>,
    damage: Option<String>,
    /// What the file's format means for publication, for anything but a JPEG.
    format_note: Option<FormatNote>,
    /// The file the picture comes from (to see whether the import could make one).
    content_hash: String,
    /// Whether the import made a picture of the file (a video of a codec not decoded
    /// here, or a damaged file, has none).
    picture: bool,
    /// Whether faces were looked for, in words; `None` once the detector has run.
    face_search: Option<&'static str>,
    /// A director may acknowledge that faces were not looked for.
    faces_ack_possible: bool,
    faces_note: Option<String>,
    /// The register is too long to list: the page says that typing finds anyone.
    picker_hint: bool,
    /// Problems with the tagging form that are about no one face.
    problems: Vec<String>,
    /// The tagging form came back with problems: nothing was saved.
    refused: bool,
    /// How many photos of this photo's import need tagging.
    left_to_tag: usize,
}

/// A tagging form as it was sent, to show again with its problems.
pub(super) struct Echo {
    faces: Vec<EchoFace>,
    everyone: bool,
    problems: Vec<Problem>,
}

struct EchoFace {
    id: i64,
    typed: String,
    dismiss: bool,
    cover: bool,
}

pub(super) fn face_search_text(search: FaceSearch) -> Option<&'static str> {
    match search {
        FaceSearch::Done => None,
        FaceSearch::NotYet => {
            Some("This photo has not been analysed yet: nobody has looked for the faces in it.")
        }
        FaceSearch::Skipped => Some(
            "This photo was imported without face detection: nobody has looked for every face in it.",
        ),
        FaceSearch::Failed => Some("The face detector could not read this photo."),
        FaceSearch::Redo => {
            Some("The face boxes stored for this photo are wrong and are being found again.")
        }
    }
}

pub(super) fn provenance_text(p: Provenance) -> &'static str {
    match p {
        Provenance::Verified => "a registered device, inside a sign-out",
        Provenance::UnregisteredDevice => "a device that is not registered",
        Provenance::OutsideSignOut => "a registered device, but outside every sign-out",
        Provenance::Unknown => "unknown (the photo carries no camera data)",
    }
}

/// How a person is written in the type-ahead: ref first, so the typed text resolves.
pub(super) fn offer(p: &people::Person) -> Offer {
    Offer {
        value: format!("{} · {}", p.ext_ref, full_name(p)),
    }
}

/// Up to this many people on the register, the type-ahead lists everyone; beyond, it
/// lists the photo's group, and anyone else is found from what is typed (by the server,
/// and as one types where the page's optional script runs).
pub const PICKER_LISTS_ALL: usize = 300;

/// How many people the type-ahead offers for what is typed.
const PICKER_OFFERS: usize = 20;

/// Who the type-ahead offers: the group first, then (on a register of up to
/// [`PICKER_LISTS_ALL`]) everyone else. Restricted people are not offered (Article 18):
/// tagging them stays possible by ref, and then blocks the photo everywhere. Only refs and
/// names: never a date of birth or a flag.
pub(super) fn offers(
    conn: &Connection,
    photo: PhotoId,
    group_ids: &BTreeSet<PersonId>,
) -> Result<(Vec<Offer>, Vec<Offer>), ApiError> {
    // The people of the photo's site only (everyone's when it has none).
    let site = sites::site_of(conn, sites::Kind::Photo, photo.0)?.flatten();
    let everyone = people::living_count(conn, PICKER_LISTS_ALL + 1)? <= PICKER_LISTS_ALL;
    let mut group = Vec::new();
    let mut others = Vec::new();
    if everyone {
        for p in people::search_in(conn, site, "", u32::MAX)?
            .iter()
            .filter(|p| !p.restricted)
        {
            if group_ids.contains(&p.id) {
                group.push(offer(p));
            } else {
                others.push(offer(p));
            }
        }
    } else {
        for &id in group_ids {
            let p = people::person(conn, id)?;
            if !p.restricted && !p.erased {
                group.push(offer(&p));
            }
        }
    }
    Ok((group, others))
}

/// The people of the photo's import (the group the sign-out was booked for, people tagged
/// in its other photos, and the holder): the type-ahead offers them first.
pub(super) fn group_of(
    conn: &Connection,
    photo: &photos::Photo,
) -> Result<BTreeSet<PersonId>, ApiError> {
    let mut group = BTreeSet::new();
    let Some(session) = photo.custody_session_id else {
        return Ok(group);
    };
    group.insert(custody::session(conn, session)?.person_id);
    if let Some(booking) = crate::store::groups::booking_of_session(conn, session)? {
        group.extend(
            crate::store::groups::members(conn, booking.group_id)?
                .into_iter()
                .map(|p| p.id),
        );
    }
    group.extend(faces::people_tagged_in_session(conn, session)?);
    Ok(group)
}

pub async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let role = caller.account.role;
    let st = state.clone();
    let mut page = state
        .read(move |conn| page(conn, &st, c, role, id, None))
        .await?;
    // Looked at after the read, with no connection held.
    page.picture = crate::web::ui::media::has_preview(&state, &page.content_hash).await;
    render(&page)
}

/// A sentence on what a file's format means for publication, and whether it is a warning.
pub(super) struct FormatNote {
    pub text: String,
    pub blocks: bool,
}

/// Nothing for a JPEG (the usual case); a PNG or HEIC goes out as a new JPEG; anything
/// else is kept but never published, and a video says what was read from it.
fn format_note(format: Format) -> Option<FormatNote> {
    let name = format.as_str().to_uppercase();
    match format {
        Format::Jpeg => None,
        f if f.is_publishable() => Some(FormatNote {
            text: format!(
                "This is a {name} file: a published copy is a new JPEG made from its pixels, with no metadata."
            ),
            blocks: false,
        }),
        Format::Video => Some(FormatNote {
            text: "This is a video: it is kept, the device and time it records are read for \
                   provenance and its first frame is shown, but videos are never published."
                .to_owned(),
            blocks: true,
        }),
        _ => Some(FormatNote {
            text: format!("This is a {name} file: it is kept, but it cannot be published."),
            blocks: true,
        }),
    }
}

/// A square around a face box with a third of its size as margin on every side, as an
/// SVG viewBox: enough of the head and hair to know who it is.
fn crop_of(x: u32, y: u32, w: u32, h: u32) -> String {
    let side = f64::from(w.max(h)) * 5.0 / 3.0;
    let (cx, cy) = (
        f64::from(x) + f64::from(w) / 2.0,
        f64::from(y) + f64::from(h) / 2.0,
    );
    format!(
        "{:.0} {:.0} {:.0} {:.0}",
        cx - side / 2.0,
        cy - side / 2.0,
        side,
        side
    )
}

/// The photo page; with `echo`, the tagging form as it was sent and why it was not saved.
fn page(
    conn: &Connection,
    st: &AppState,
    c: Chrome,
    role: crate::domain::AccountRole,
    id: i64,
    echo: Option<Echo>,
) -> Result<PhotoPage, ApiError> {
    let (today, policy) = (st.today(), st.policy());
    let pid = PhotoId(id);
    let photo = photos::photo(conn, pid)?;
    let (width, height) = crate::web::ui::media::upright_size(&photo);
    let font = (width / 30).max(14);
    let stored_tags = faces::tags(conn, pid)?;
    let faces = faces::faces(conn, pid)?
        .into_iter()
        .enumerate()
        .map(|(n, f)| {
            let (person_id, offered) = match f.resolution {
                FaceResolution::Unresolved | FaceResolution::Dismissed => (None, String::new()),
                FaceResolution::Person(p) => (Some(p.0), offer(&people::person(conn, p)?).value),
            };
            let covered = f.resolution != FaceResolution::Unresolved
                && stored_tags.iter().any(|t| {
                    t.covered && t.person_id.is_some() && t.person_id.map(|p| p.0) == person_id
                });
            let sent = echo
                .as_ref()
                .and_then(|e| e.faces.iter().find(|sent| sent.id == f.id));
            let problem = echo.as_ref().and_then(|e| {
                e.problems
                    .iter()
                    .find(|p| p.face == Some(f.id))
                    .map(|p| p.message.clone())
            });
            Ok(FaceRow {
                typed: sent.map_or(offered, |sent| sent.typed.clone()),
                dismissed: sent.map_or(f.resolution == FaceResolution::Dismissed, |sent| {
                    sent.dismiss
                }),
                covered: sent.map_or(covered, |sent| sent.cover),
                problem,
                drawn: f.source == faces::FaceSource::Drawn,
                n: n + 1,
                id: f.id,
                x: f.x,
                y: f.y,
                w: f.w,
                h: f.h,
                label_y: f.y.saturating_sub(font / 3).max(font),
                font,
                crop: crop_of(f.x, f.y, f.w, f.h),
                unresolved: f.resolution == FaceResolution::Unresolved,
                person_id,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    // Assigning a face tags its person too: such tags are removed through the face.
    let tags = stored_tags
        .into_iter()
        .map(|t| {
            let face = t
                .person_id
                .and_then(|p| faces.iter().find(|f| f.person_id == Some(p.0)).map(|f| f.n));
            let person = t.person_id.map(|p| people::person(conn, p)).transpose()?;
            Ok(TagRow {
                id: t.id,
                face,
                person_id: t.person_id.map(|p| p.0),
                name: person
                    .as_ref()
                    .map_or_else(|| "unknown (not on the register)".into(), full_name),
                covered: t.covered,
                // A cover is painted over the person's face boxes (C13).
                needs_box: t.covered && face.is_none(),
                draw_person: person.map(|p| p.ext_ref).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let group_ids = group_of(conn, &photo)?;
    // A restricted person is not offered (Article 18): tagging them stays
    // possible by ref, and then blocks the photo everywhere.
    let (group, others) = offers(conn, photo.id, &group_ids)?;
    let channel_names = decisions::channels(conn)?;
    let name_of_channel = |channel: &Channel| {
        channel_names
            .iter()
            .find(|(ch, _)| ch == channel)
            .map_or_else(|| channel.code(), |(_, n)| n.clone())
    };
    let decisions: Vec<DecisionRow> =
        decisions::for_role(decisions::decide_all(conn, pid, today, &policy)?, role)
            .into_iter()
            .map(|d| decision_row(d.channel, d.channel_name, &d.decision))
            .collect();
    let any_allowed = decisions.iter().any(|d| d.allowed);
    let approvals = approvals::approvals(conn, pid)?
        .into_iter()
        .rev()
        .map(|a| ApprovalRow {
            channel: name_of_channel(&a.channel),
            approved: a.approved,
            note: a.note,
            decided_at: local(st, a.decided_at),
            void: a
                .voided_at
                .map(|at| format!("void since {at}: {}", a.void_reason.unwrap_or_default())),
        })
        .collect();
    let requests = requests::of_photo(conn, pid)?
        .into_iter()
        .map(|r| RequestRow {
            channel: name_of_channel(&r.channel),
            requested_at: local(st, r.requested_at),
            open: r.closed_at.is_none(),
        })
        .collect();
    Ok(PhotoPage {
        c,
        id,
        session_id: photo.custody_session_id,
        badge: status_badge(status(conn, &photo)?),
        taken: taken(st, &photo),
        width,
        height,
        faces,
        tags,
        picker_hint: others.is_empty()
            && people::living_count(conn, PICKER_LISTS_ALL + 1)? > PICKER_LISTS_ALL,
        group,
        others,
        caption: photo.caption.clone(),
        provenance: provenance_text(photo.provenance),
        provenance_warning: photo.provenance != Provenance::Verified,
        provenance_acknowledged: photo.provenance_acknowledged,
        provenance_note: photo.provenance_note.clone().unwrap_or_default(),
        decisions,
        any_allowed,
        approvals,
        requests,
        publications: publications::publications_of_photo(conn, pid)?,
        damage: photo.damage.clone(),
        format_note: format_note(photo.format),
        content_hash: photo.content_hash.clone(),
        picture: true,
        face_search: face_search_text(photo.face_search),
        faces_ack_possible: matches!(
            photo.face_search,
            FaceSearch::NotYet | FaceSearch::Skipped | FaceSearch::Failed
        ) && !photo.faces_acknowledged,
        faces_note: photo.faces_note.clone(),
        problems: echo
            .as_ref()
            .map(|e| {
                e.problems
                    .iter()
                    .filter(|p| p.face.is_none())
                    .map(|p| p.message.clone())
                    .collect()
            })
            .unwrap_or_default(),
        refused: echo.is_some(),
        confirmed: echo.as_ref().map_or(photo.people_confirmed, |e| e.everyone),
        // Shown for an import only (photos attributed to no sign-out are no import).
        left_to_tag: match photo.custody_session_id {
            Some(session) => photos::left_to_tag(conn, Some(session))?,
            None => 0,
        },
    })
}

#[derive(Deserialize)]
pub struct PickerQuery {
    #[serde(default)]
    q: String,
    /// The photo being tagged: its group comes first.
    photo: Option<i64>,
}

/// One person the type-ahead offers: ref and name only.
#[derive(serde::Serialize)]
pub struct Picked {
    pub value: String,
    /// Of the photo's group.
    pub group: bool,
}

/// The type-ahead's matches for what is typed (at least two characters): by given name,
/// family name or ref, the photo's group first, at most 20. Only refs and names.
pub async fn picker(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PickerQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let caller_site = caller.account.site_id;
    let typed = query.q.trim().to_owned();
    if typed.chars().count() < 2 {
        return Ok(axum::Json(serde_json::json!({ "offers": [] })));
    }
    let offers = state
        .read(move |conn| {
            // A photo of another site is not there for a site's account.
            let mut photo = None;
            if let Some(id) = query.photo
                && let Some(of) = sites::site_of(conn, sites::Kind::Photo, id)?
                && sites::visible(caller_site, of)
            {
                photo = Some(id);
            }
            let group = match photo {
                Some(id) => group_of(conn, &photos::photo(conn, PhotoId(id))?)?,
                None => BTreeSet::new(),
            };
            // The group's matches first (in name order), then anyone else's: the register
            // is asked for no more than can be shown.
            let mut members = Vec::new();
            for &id in &group {
                let p = people::person(conn, id)?;
                if !p.erased && people::matches(&p, &typed) {
                    members.push(p);
                }
            }
            members.sort_by_key(|p| (p.family_name.to_lowercase(), p.given_name.to_lowercase()));
            let wanted = u32::try_from(PICKER_OFFERS + group.len()).unwrap_or(u32::MAX);
            // A site's account is offered its own site's people whatever photo it names;
            // an account of every site, the photo's site's.
            let site = match (caller_site, photo) {
                (Some(own), _) => Some(own),
                (None, Some(id)) => sites::site_of(conn, sites::Kind::Photo, id)?.flatten(),
                (None, None) => None,
            };
            let others = people::search_in(conn, site, &typed, wanted)?
                .into_iter()
                .filter(|p| !group.contains(&p.id));
            let mut found: Vec<Picked> = members
                .into_iter()
                .chain(others)
                .filter(|p| !p.restricted)
                .map(|p| Picked {
                    value: offer(&p).value,
                    group: group.contains(&p.id),
                })
                .collect();
            found.truncate(PICKER_OFFERS);
            Ok(found)
        })
        .await?;
    Ok(axum::Json(serde_json::json!({ "offers": offers })))
}

/// The tagging form: for each face listed (`face`), the person typed (`person-ID`), "not
/// a face" (`dismiss-ID`), "cover" (`cover-ID`); "everyone is tagged" (`everyone`); and
/// where to go after saving (`then`: `next` or `stay`).
struct TaggingForm {
    faces: Vec<EchoFace>,
    everyone: bool,
    next: bool,
}

impl TaggingForm {
    fn parse(fields: &[(String, String)]) -> Result<Self, ApiError> {
        let value = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let yes = |name: &str| value(name).is_some_and(|v| v == "yes");
        let faces = fields
            .iter()
            .filter(|(k, _)| k == "face")
            .map(|(_, v)| {
                let id: i64 = v
                    .parse()
                    .map_err(|_| ApiError::BadRequest(format!("face {v:?} is not a face id")))?;
                Ok(EchoFace {
                    id,
                    typed: value(&format!("person-{id}"))
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    dismiss: yes(&format!("dismiss-{id}")),
                    cover: yes(&format!("cover-{id}")),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(TaggingForm {
            faces,
            everyone: yes("everyone"),
            next: value("then") != Some("stay"),
        })
    }
}

/// Where saving the form leads.
enum Saved {
    /// Problems: the page again, with them.
    Refused(Box<PhotoPage>),
    Done {
        message: String,
        back: String,
    },
}

/// Saves the whole tagging form as one operation (all or nothing). With "save and next",
/// opens the next photo of the same import that needs tagging, or the import's gallery
/// once none is left.
pub async fn tagging(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = TaggingForm::parse(&fields)?;
    let now = state.now();
    let c = Chrome::new(&state, &caller, &session).await;
    let (role, site) = (caller.account.role, caller.account.site_id);
    let actor = caller.actor();
    let st = state.clone();
    let saved = state
        .db(move |conn| {
            let mut problems = Vec::new();
            let mut answers = Vec::new();
            for face in &form.faces {
                let answer = match (face.dismiss, face.typed.is_empty()) {
                    (true, false) => {
                        problems.push(Problem {
                            face: Some(face.id),
                            message: "either name the person or mark it not a face, not both"
                                .into(),
                        });
                        continue;
                    }
                    (true, true) => FaceResolution::Dismissed,
                    (false, true) => FaceResolution::Unresolved,
                    (false, false) => match resolve_person(conn, site, &face.typed) {
                        Ok(person) => FaceResolution::Person(person),
                        Err(e @ (ApiError::BadRequest(_) | ApiError::Unprocessable { .. })) => {
                            problems.push(Problem {
                                face: Some(face.id),
                                message: e.to_string(),
                            });
                            continue;
                        }
                        Err(e) => return Err(e),
                    },
                };
                answers.push(FaceAnswer {
                    face: face.id,
                    answer,
                    cover: face.cover,
                });
            }
            let tagging = Tagging {
                faces: answers,
                everyone_tagged: form.everyone,
            };
            let outcome = if problems.is_empty() {
                tag_photo(conn, PhotoId(id), &tagging, &actor, now)?
            } else {
                // Say everything wrong at once: what could be read is checked too.
                problems.extend(check(&faces::faces(conn, PhotoId(id))?, &tagging));
                problems.sort_by_key(|p| p.face.is_none());
                Err(problems)
            };
            let applied = match outcome {
                Ok(applied) => applied,
                Err(problems) => {
                    let echo = Echo {
                        faces: form.faces,
                        everyone: form.everyone,
                        problems,
                    };
                    return Ok(Saved::Refused(Box::new(page(
                        conn,
                        &st,
                        c,
                        role,
                        id,
                        Some(echo),
                    )?)));
                }
            };
            let photo = photos::photo(conn, PhotoId(id))?;
            let left = photos::left_to_tag(conn, photo.custody_session_id)?;
            let saved = if applied.changes() == 0 {
                "Nothing to change.".to_owned()
            } else {
                format!("Photo {id} saved.")
            };
            if !form.next {
                return Ok(Saved::Done {
                    message: saved,
                    back: photo_url(id),
                });
            }
            Ok(match photos::next_to_tag(conn, &photo)? {
                Some(next) => Saved::Done {
                    message: format!(
                        "{saved} {left} {} of this import left to tag.",
                        if left == 1 { "photo" } else { "photos" }
                    ),
                    back: photo_url(next.0),
                },
                None => Saved::Done {
                    message: if left == 0 {
                        format!("{saved} Every photo of this import is tagged.")
                    } else {
                        format!("{saved} This photo still needs tagging.")
                    },
                    back: if left == 0 {
                        photo
                            .custody_session_id
                            .map_or_else(|| "/photos".to_owned(), |s| format!("/imports/{s}"))
                    } else {
                        photo_url(id)
                    },
                },
            })
        })
        .await?;
    match saved {
        Saved::Refused(page) => {
            let mut response = render(&*page)?;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Saved::Done { message, back } => finish(&session, Ok(message), &back).await,
    }
}

#[derive(Deserialize)]
pub struct FaceForm {
    action: String,
    #[serde(default)]
    person: String,
}

pub async fn resolve_face(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path((id, face)): Path<(i64, i64)>,
    Form(form): Form<FaceForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let resolution = match form.action.as_str() {
                "assign" => {
                    FaceResolution::Person(resolve_person(c, caller.account.site_id, &form.person)?)
                }
                "dismiss" => FaceResolution::Dismissed,
                "reset" => FaceResolution::Unresolved,
                _ => return Err(ApiError::BadRequest("unknown face action".into())),
            };
            ops::resolve_face(c, PhotoId(id), face, resolution, &caller.actor(), now)?;
            Ok(match resolution {
                FaceResolution::Person(_) => "Face assigned.",
                FaceResolution::Dismissed => "Face dismissed.",
                FaceResolution::Unresolved => "Face marked as not yet resolved.",
            }
            .to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

/// How wide the drawing page shows the picture, in CSS pixels. A click on an
/// `<input type="image">` reports where in the shown picture it landed; at a fixed width
/// that maps to the picture's own pixels without any script.
pub(super) const DRAW_WIDTH: u32 = 960;

#[derive(Deserialize)]
pub struct DrawQuery {
    /// The person the new box is for (typed or offered: ref first).
    #[serde(default)]
    person: String,
    /// The first corner, in pixels of the upright picture, once clicked.
    x1: Option<u32>,
    y1: Option<u32>,
}

#[derive(Template)]
#[template(path = "draw.html")]
pub(super) struct DrawPage {
    c: Chrome,
    id: i64,
    width: u32,
    height: u32,
    shown_width: u32,
    shown_height: u32,
    faces: Vec<faces::Face>,
    person: String,
    first: Option<(u32, u32)>,
    mark: u32,
    group: Vec<Offer>,
    others: Vec<Offer>,
}

/// Drawing a box around a face the detector missed: two clicks on the picture (first
/// corner, then the opposite one), or the box typed in pixels.
pub async fn draw_page(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Query(query): Query<DrawQuery>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let page = state
        .read(move |conn| {
            let pid = PhotoId(id);
            let photo = photos::photo(conn, pid)?;
            let (width, height) = crate::web::ui::media::upright_size(&photo);
            let (group, others) = offers(conn, pid, &group_of(conn, &photo)?)?;
            Ok(DrawPage {
                c,
                id,
                width,
                height,
                shown_width: DRAW_WIDTH,
                shown_height: (u64::from(DRAW_WIDTH) * u64::from(height) / u64::from(width))
                    .try_into()
                    .unwrap_or(DRAW_WIDTH),
                faces: faces::faces(conn, pid)?,
                person: query.person,
                first: query.x1.zip(query.y1),
                mark: (width / 60).max(6),
                group,
                others,
            })
        })
        .await?;
    render(&page)
}

#[derive(Deserialize)]
pub struct DrawForm {
    #[serde(rename = "at.x")]
    at_x: Option<u32>,
    #[serde(rename = "at.y")]
    at_y: Option<u32>,
    x1: Option<u32>,
    y1: Option<u32>,
    #[serde(default)]
    person: String,
    /// The box typed in pixels, instead of clicked.
    x: Option<String>,
    y: Option<String>,
    w: Option<String>,
    h: Option<String>,
}

pub(super) fn pixels(text: Option<&String>, what: &str) -> Result<u32, ApiError> {
    text.map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("{what} is missing")))?
        .parse()
        .map_err(|_| ApiError::invalid(format!("{what} must be a whole number of pixels")))
}

/// One click of the drawing page (the first corner is carried to the second), or a box
/// typed in pixels.
pub async fn draw_face(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<DrawForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    enum Step {
        FirstCorner(u32, u32, String),
        Drawn(String),
    }
    let result = state
        .db(move |c| {
            let photo = photos::photo(c, PhotoId(id))?;
            let (width, height) = crate::web::ui::media::upright_size(&photo);
            let rect = match (form.at_x, form.at_y) {
                (Some(ax), Some(ay)) => {
                    let scale = |v: u32, size: u32| {
                        u32::try_from(u64::from(v) * u64::from(width) / u64::from(DRAW_WIDTH))
                            .unwrap_or(u32::MAX)
                            .min(size)
                    };
                    let (px, py) = (scale(ax, width), scale(ay, height));
                    let (Some(x1), Some(y1)) = (form.x1, form.y1) else {
                        return Ok(Step::FirstCorner(px, py, form.person));
                    };
                    faces::FaceRect {
                        x: x1.min(px),
                        y: y1.min(py),
                        w: x1.abs_diff(px),
                        h: y1.abs_diff(py),
                    }
                }
                _ => faces::FaceRect {
                    x: pixels(form.x.as_ref(), "left")?,
                    y: pixels(form.y.as_ref(), "top")?,
                    w: pixels(form.w.as_ref(), "width")?,
                    h: pixels(form.h.as_ref(), "height")?,
                },
            };
            let person = if form.person.trim().is_empty() {
                None
            } else {
                Some(resolve_person(c, caller.account.site_id, &form.person)?)
            };
            crate::ops::photos::draw_face(c, PhotoId(id), rect, person, &caller.actor(), now)?;
            Ok(Step::Drawn(form.person))
        })
        .await;
    match result {
        Ok(Step::FirstCorner(x, y, person)) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("person", &person)
                .append_pair("x1", &x.to_string())
                .append_pair("y1", &y.to_string())
                .finish();
            Ok(axum::response::Redirect::to(&format!("/photos/{id}/draw?{query}")).into_response())
        }
        Ok(Step::Drawn(person)) => {
            finish(
                &session,
                Ok(if person.trim().is_empty() {
                    "Face box added: assign it to a person below.".to_owned()
                } else {
                    "Face box added and assigned.".to_owned()
                }),
                &photo_url(id),
            )
            .await
        }
        Err(e) => finish(&session, Err(e), &format!("/photos/{id}/draw")).await,
    }
}

/// A director acknowledges that the photo's faces were not looked for (C12).
pub async fn acknowledge_faces(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            crate::ops::photos::acknowledge_faces(
                c,
                PhotoId(id),
                caller.account.id,
                &form.note,
                now,
            )?;
            Ok("Acknowledged: the faces of this photo were checked by eye.".to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    person: String,
    unknown: Option<String>,
}

pub async fn add_tag(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<TagForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let person = if form.unknown.is_some() {
                None
            } else {
                Some(resolve_person(c, caller.account.site_id, &form.person)?)
            };
            ops::add_tag(c, PhotoId(id), person, &caller.actor(), now)?;
            Ok("Person added to the photo.".to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

pub async fn remove_tag(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path((id, tag)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            ops::remove_tag(c, PhotoId(id), tag, &caller.actor(), now)?;
            Ok("Person removed from the photo.".to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct CoverForm {
    covered: String,
}

/// Covers (or uncovers) a person's face with a solid fill in published copies.
pub async fn cover(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path((id, tag)): Path<(i64, i64)>,
    Form(form): Form<CoverForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let covered = form.covered == "yes";
    let result = state
        .db(move |c| {
            ops::set_covered(c, PhotoId(id), tag, covered, &caller.actor(), now)?;
            Ok(if covered {
                "This face will be covered in published copies."
            } else {
                "This face will no longer be covered."
            }
            .to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct CaptionForm {
    #[serde(default)]
    caption: String,
}

pub async fn caption(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<CaptionForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            ops::set_caption(c, PhotoId(id), &form.caption, &caller.actor(), now)?;
            Ok("Caption saved.".to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    confirmed: String,
}

pub async fn confirmation(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let confirmed = form.confirmed == "yes";
    let result = state
        .db(move |c| {
            ops::set_people_confirmed(c, PhotoId(id), confirmed, &caller.actor(), now)?;
            Ok(if confirmed {
                "Confirmed: everyone in the photo is tagged."
            } else {
                "The people list is marked as not complete."
            }
            .to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

pub async fn provenance(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            ops::acknowledge_provenance(c, PhotoId(id), caller.account.id, &form.note, now)?;
            Ok("Provenance warning acknowledged.".to_owned())
        })
        .await;
    finish(&session, result, &photo_url(id)).await
}
