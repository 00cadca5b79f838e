//! Groups (a class, a trip) and bookings of a device for a group (K2).

use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Json, Query};
use crate::domain::{BookingId, DeviceId, GroupId, PersonId};
use crate::ops::groups::{self, Member};
use crate::store::groups::{self as store, Booking, Group, NewBooking};
use crate::store::sites;
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

#[derive(Serialize)]
pub struct Created {
    id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Also list archived groups.
    #[serde(default)]
    archived: bool,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Group>>, ApiError> {
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                Ok(sites::retain_visible(
                    c,
                    site,
                    store::groups(c, query.archived)?,
                    |g| (sites::Kind::Group, g.id.0),
                )?)
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    name: Option<String>,
    archived: Option<bool>,
}

/// Renames and/or archives a group.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<UpdateBody>,
) -> Result<Json<Group>, ApiError> {
    if body.name.is_none() && body.archived.is_none() {
        return Err(ApiError::invalid("send a new name, archived, or both"));
    }
    let now = state.now();
    Ok(Json(
        state
            .db(move |c| {
                groups::update_group(
                    c,
                    GroupId(id),
                    body.name.as_deref(),
                    body.archived,
                    &caller.actor(),
                    now,
                )?;
                Ok(store::group(c, GroupId(id))?)
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<GroupBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let now = state.now();
    let id = state
        .db(move |c| {
            Ok(groups::create_group(
                c,
                &body.name,
                &caller.actor(),
                caller.account.site_id,
                now,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.0 })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnQuery {
    /// The day the cautions are for (default: today).
    on: Option<Date>,
}

/// A group with its people, each with the caution the camera holder sees, and its bookings.
#[derive(Serialize)]
pub struct GroupDetail {
    #[serde(flatten)]
    group: Group,
    on: Date,
    members: Vec<Member>,
    bookings: Vec<Booking>,
}

pub async fn show(
    State(state): State<AppState>,
    _: Caller,
    Path(id): Path<i64>,
    Query(query): Query<OnQuery>,
) -> Result<Json<GroupDetail>, ApiError> {
    let on = query.on.unwrap_or_else(|| state.today());
    let policy = state.policy();
    Ok(Json(
        state
            .read(move |c| {
                let id = GroupId(id);
                Ok(GroupDetail {
                    group: store::group(c, id)?,
                    on,
                    members: groups::members_with_cautions(c, id, on, &policy)?,
                    bookings: store::bookings_of_group(c, id)?,
                })
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    person_ids: Vec<PersonId>,
}

#[derive(Serialize)]
pub struct Added {
    added: usize,
}

pub async fn add_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<MembersBody>,
) -> Result<Json<Added>, ApiError> {
    if body.person_ids.is_empty() || body.person_ids.len() > 500 {
        return Err(ApiError::invalid("send 1 to 500 person_ids"));
    }
    let now = state.now();
    let added = state
        .db(move |c| {
            let named: Vec<_> = body
                .person_ids
                .iter()
                .map(|p| (sites::Kind::Person, p.0))
                .collect();
            sites::ensure_visible(c, caller.account.site_id, &named)?;
            Ok(groups::add_members(
                c,
                GroupId(id),
                &body.person_ids,
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    Ok(Json(Added { added }))
}

pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, person)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    let removed = state
        .db(move |c| {
            Ok(groups::remove_member(
                c,
                GroupId(id),
                PersonId(person),
                &caller.actor(),
                now,
            )?)
        })
        .await?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "person #{person} is not in group #{id}"
        )))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingsQuery {
    /// Also list bookings that have ended or were cancelled.
    #[serde(default)]
    all: bool,
}

/// Bookings that have not ended and are not cancelled (or all with `?all=true`).
pub async fn bookings(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<BookingsQuery>,
) -> Result<Json<Vec<Booking>>, ApiError> {
    let now = state.now();
    let site = caller.account.site_id;
    Ok(Json(
        state
            .read(move |c| {
                let all = if query.all {
                    store::all_bookings(c)?
                } else {
                    store::upcoming(c, now, jiff::SignedDuration::MAX)?
                };
                Ok(sites::retain_visible(c, site, all, |b| {
                    (sites::Kind::Group, b.group_id.0)
                })?)
            })
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    group_id: GroupId,
    holder_id: PersonId,
    #[serde(default)]
    device_id: Option<DeviceId>,
    starts_at: Timestamp,
    ends_at: Timestamp,
}

pub async fn book(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<BookingBody>,
) -> Result<(StatusCode, Json<Booking>), ApiError> {
    let now = state.now();
    let new = NewBooking {
        group_id: body.group_id,
        holder: body.holder_id,
        device: body.device_id,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
    };
    let booking = state
        .db(move |c| {
            sites::ensure_visible(c, caller.account.site_id, &new.records_named())?;
            Ok(groups::book(c, &new, caller.account.id, now)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(booking)))
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Booking>, ApiError> {
    let now = state.now();
    Ok(Json(
        state
            .db(move |c| {
                Ok(groups::cancel_booking(
                    c,
                    BookingId(id),
                    &caller.actor(),
                    now,
                )?)
            })
            .await?,
    ))
}
