//! Consent online, the admins' side: a person's contacts, consent requests (one person,
//! a group, everyone missing or lapsing), where the requests stand, and the form's
//! wording. Contacts are an admin's to see: no staff route returns them.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Json;
use crate::domain::{PersonId, SignerKind};
use crate::ops::parents::{self, Requested};
use crate::rules::parents::Wording;
use crate::store::parents::{self as stored, Contact, NewContact, RequestStatus};
use crate::store::sites::{self, Kind};
use crate::web::AppState;
use crate::web::access::{Caller, Path};
use crate::web::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    name: String,
    relationship: SignerKind,
    email: String,
}

#[derive(Serialize)]
pub struct Created {
    id: i64,
}

pub async fn contacts(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Contact>>, ApiError> {
    Ok(Json(
        state
            .read(move |c| {
                crate::store::people::person(c, PersonId(id))?;
                Ok(stored::contacts_of(c, PersonId(id))?)
            })
            .await?,
    ))
}

pub async fn add_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ContactBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let contact = NewContact {
        name: body.name,
        relationship: body.relationship,
        email: body.email,
    };
    let id = state
        .db(move |c| {
            Ok(parents::add_contact(
                c,
                PersonId(id),
                &contact,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

pub async fn remove_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, contact)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state
        .db(move |c| {
            Ok(parents::remove_contact(
                c,
                PersonId(id),
                contact,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whom a consent request goes to.
#[derive(Debug, Clone, Copy)]
pub enum Whom {
    Person(i64),
    /// The members of a group the caller's site sees.
    Group(i64),
    /// Everyone of the caller's site with no form counting today, or whose form lapses
    /// within `renewal_notice_days`.
    MissingOrLapsing,
}

/// Mails requests to the contacts of `whom` through [`parents::request`]; refused
/// without `[parents]`.
pub async fn ask(state: &AppState, caller: &Caller, whom: Whom) -> Result<Requested, ApiError> {
    if state.config().parents.is_none() {
        return Err(ApiError::Conflict(
            "consent requests need [parents] public_url in the config".into(),
        ));
    }
    let (now, st, actor, site) = (
        state.now(),
        state.clone(),
        caller.actor(),
        caller.account.site_id,
    );
    // Whom to ask is read beside the writer (a whole trust's forms, for "missing or
    // lapsing"); `request` checks each person again as it writes.
    let reader = state.clone();
    let asked = state
        .read(move |c| {
            Ok(match whom {
                Whom::Person(id) => {
                    crate::store::people::living(c, PersonId(id))?;
                    vec![PersonId(id)]
                }
                Whom::Group(id) => {
                    let members = crate::store::groups::members(c, crate::domain::GroupId(id))?;
                    sites::retain_visible(c, site, members, |m| (Kind::Person, m.id.0))?
                        .into_iter()
                        .map(|m| m.id)
                        .collect()
                }
                Whom::MissingOrLapsing => parents::missing_or_lapsing(
                    c,
                    site,
                    reader.today(),
                    reader.config().renewal_notice_days,
                    &reader.policy(),
                )?,
            })
        })
        .await?;
    state
        .db(move |c| st.with_parents(|setup| Ok(parents::request(c, setup, &asked, &actor, now)?)))
        .await
}

/// A request to one person's contacts.
pub async fn request_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Requested>, ApiError> {
    Ok(Json(ask(&state, &caller, Whom::Person(id)).await?))
}

/// A request to the contacts of a group's members.
pub async fn request_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Requested>, ApiError> {
    Ok(Json(ask(&state, &caller, Whom::Group(id)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// Everyone of the caller's site with no form counting today, or whose form lapses
    /// within `renewal_notice_days`.
    missing_or_lapsing: bool,
}

pub async fn request_many(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RequestBody>,
) -> Result<Json<Requested>, ApiError> {
    if !body.missing_or_lapsing {
        return Err(ApiError::invalid(
            "say whom to ask: {\"missing_or_lapsing\": true} (one person: \
             POST /api/v1/people/{id}/consent-requests; a group: \
             POST /api/v1/groups/{id}/consent-requests)",
        ));
    }
    Ok(Json(ask(&state, &caller, Whom::MissingOrLapsing).await?))
}

/// Where the requests to the people of the caller's site stand.
pub async fn statuses(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RequestStatus>>, ApiError> {
    Ok(Json(
        request_statuses(&state, caller.account.site_id).await?,
    ))
}

pub async fn request_statuses(
    state: &AppState,
    site: Option<i64>,
) -> Result<Vec<RequestStatus>, ApiError> {
    state
        .read(move |c| {
            let all = stored::request_statuses(c)?;
            Ok(sites::retain_visible(c, site, all, |r| {
                (Kind::Person, r.person_id.0)
            })?)
        })
        .await
}

pub async fn wording(
    State(state): State<AppState>,
) -> Result<Json<parents::WordingVersion>, ApiError> {
    Ok(Json(
        state.read(|c| Ok(parents::wording_version(c)?)).await?,
    ))
}

/// A new version of the wording: trust-wide, so an admin of one site cannot set it.
pub async fn set_wording(
    State(state): State<AppState>,
    caller: Caller,
    Json(wording): Json<Wording>,
) -> Result<Json<Created>, ApiError> {
    if !caller.of_every_site() {
        return Err(ApiError::Forbidden(
            "the form's wording is the trust's: an admin of every site sets it".into(),
        ));
    }
    let now = state.now();
    let id = state
        .db(move |c| Ok(parents::set_wording(c, &wording, &caller.actor(), now)?))
        .await?;
    Ok(Json(Created { id }))
}
