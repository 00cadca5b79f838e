//! Groups (a class, a trip) and their bookings (K2): who is in a group with what the
//! camera holder must know about each person, and which device is booked for it when.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use serde::Deserialize;
use tower_sessions::Session;

use super::chrome::{Chrome, PageError, finish, render};
use super::photos::resolve_person;
use crate::domain::{BookingId, DeviceId, GroupId, PersonId, Role};
use crate::ops::groups;
use crate::rules::consent::Caution;
use crate::store::groups::{self as store, Booking, Group, NewBooking};
use crate::store::{people, registry};
use crate::web::AppState;
use crate::web::access::Caller;
use crate::web::access::Path;
use crate::web::error::ApiError;

/// A booking as the pages show it.
pub struct BookingRow {
    pub id: i64,
    pub group_id: i64,
    pub group: String,
    pub holder_id: i64,
    pub holder: String,
    pub device: String,
    pub from: String,
    pub until: String,
    /// "cancelled", "over", "now" or "" (to come).
    pub state: &'static str,
}

pub(super) fn booking_row(state: &AppState, b: Booking, now: Timestamp) -> BookingRow {
    BookingRow {
        id: b.id.0,
        group_id: b.group_id.0,
        group: b.group_name,
        holder_id: b.holder.0,
        holder: b.holder_name,
        device: b.device_label.unwrap_or_else(|| "any device".into()),
        from: state.local_time(b.starts_at),
        until: state.local_time(b.ends_at),
        state: if b.cancelled_at.is_some() {
            "cancelled"
        } else if b.ends_at <= now {
            "over"
        } else if b.starts_at <= now {
            "now"
        } else {
            ""
        },
    }
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    c: Chrome,
    groups: Vec<Group>,
    bookings: Vec<BookingRow>,
}

pub async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let now = state.now();
    let st = state.clone();
    let site = caller.account.site_id;
    let (groups, bookings) = state
        .read(move |conn| {
            let of_group = |id: GroupId| (crate::store::sites::Kind::Group, id.0);
            let upcoming = store::upcoming(conn, now, jiff::SignedDuration::MAX)?;
            let bookings = crate::store::sites::retain_visible(conn, site, upcoming, |b| {
                of_group(b.group_id)
            })?
            .into_iter()
            .map(|b| booking_row(&st, b, now))
            .collect();
            let groups =
                crate::store::sites::retain_visible(conn, site, store::groups(conn, true)?, |g| {
                    of_group(g.id)
                })?;
            Ok((groups, bookings))
        })
        .await?;
    render(&GroupsPage {
        c,
        groups,
        bookings,
    })
}

#[derive(Deserialize)]
pub struct NewGroupForm {
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Form(form): Form<NewGroupForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            Ok(groups::create_group(
                c,
                &form.name,
                &caller.actor(),
                caller.account.site_id,
                now,
            )?)
        })
        .await;
    match result {
        Ok(id) => {
            finish(
                &session,
                Ok("Group created.".into()),
                &format!("/groups/{id}"),
            )
            .await
        }
        Err(e) => finish(&session, Err(e), "/groups").await,
    }
}

/// One person of the group.
pub struct MemberRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Badge class and words, or `None` when nothing stands in the way.
    pub caution: Option<(&'static str, &'static str)>,
}

fn caution_badge(caution: Option<Caution>) -> Option<(&'static str, &'static str)> {
    caution.map(|c| match c {
        Caution::NoPhotos => ("blocked", "do not photograph"),
        Caution::NotPublic => ("needs-review", "not for website or social media"),
    })
}

/// Someone who may hold a camera.
pub struct Holder {
    pub id: i64,
    pub name: String,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    c: Chrome,
    group: Group,
    today: Date,
    members: Vec<MemberRow>,
    no_photos: usize,
    not_public: usize,
    offers: Vec<String>,
    bookings: Vec<BookingRow>,
    holders: Vec<Holder>,
    devices: Vec<registry::Device>,
}

pub async fn group(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let c = Chrome::new(&state, &caller, &session).await;
    let (now, today, policy) = (state.now(), state.today(), state.policy());
    let st = state.clone();
    let page = state
        .read(move |conn| {
            let id = GroupId(id);
            let group = store::group(conn, id)?;
            let members = groups::members_with_cautions(conn, id, today, &policy)?;
            let count = |c: Caution| members.iter().filter(|m| m.caution == Some(c)).count();
            let (no_photos, not_public) = (count(Caution::NoPhotos), count(Caution::NotPublic));
            let everyone = people::search(conn, "", u32::MAX)?;
            let offers = everyone
                .iter()
                .filter(|p| members.iter().all(|m| m.person.id != p.id))
                .map(|p| format!("{} · {} {}", p.ext_ref, p.given_name, p.family_name))
                .collect();
            let holders = everyone
                .iter()
                .filter(|p| p.role == Role::Staff && p.may_sign_out)
                .map(|p| Holder {
                    id: p.id.0,
                    name: format!("{} {}", p.given_name, p.family_name),
                })
                .collect();
            Ok(GroupPage {
                c,
                today,
                no_photos,
                not_public,
                members: members
                    .into_iter()
                    .map(|m| MemberRow {
                        id: m.person.id.0,
                        name: format!("{} {}", m.person.given_name, m.person.family_name),
                        role: m.person.role,
                        caution: caution_badge(m.caution),
                    })
                    .collect(),
                offers,
                bookings: store::bookings_of_group(conn, id)?
                    .into_iter()
                    .rev()
                    .map(|b| booking_row(&st, b, now))
                    .collect(),
                holders,
                devices: registry::devices(conn)?,
                group,
            })
        })
        .await?;
    render(&page)
}

#[derive(Deserialize)]
pub struct MemberForm {
    /// One person, from the type-ahead.
    #[serde(default)]
    person: String,
    /// Several, one name or ref per line (a class list pasted in).
    #[serde(default)]
    people: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<MemberForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let lines: Vec<&str> = form
                .person
                .lines()
                .chain(form.people.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.is_empty() {
                return Err(ApiError::invalid("type a name or a ref to choose a person"));
            }
            if lines.len() > 500 {
                return Err(ApiError::invalid("add at most 500 people at once"));
            }
            // All or nothing: every line must name exactly one person.
            let mut people = Vec::new();
            let mut problems = Vec::new();
            for (n, line) in lines.iter().enumerate() {
                match resolve_person(c, caller.account.site_id, line) {
                    Ok(p) => people.push(p),
                    Err(e) => problems.push(format!("line {}: {e}", n + 1)),
                }
            }
            if !problems.is_empty() {
                return Err(ApiError::invalid(format!(
                    "nobody was added: {}",
                    problems.join("; ")
                )));
            }
            let added = groups::add_members(c, GroupId(id), &people, &caller.actor(), now)?;
            let already = people.len() - added;
            Ok(match (added, already) {
                (1, 0) => "Added to the group.".to_owned(),
                (0, 1) => "Already in the group.".to_owned(),
                (0, already) => format!("All {already} were in the group already."),
                (added, 0) => format!("{added} people added to the group."),
                (added, already) => {
                    format!("{added} added to the group; {already} were in it already.")
                }
            })
        })
        .await;
    finish(&session, result, &format!("/groups/{id}")).await
}

#[derive(Deserialize)]
pub struct GroupForm {
    name: String,
    /// "yes" to archive, "no" to bring back; absent: leave as it is.
    #[serde(default)]
    archived: String,
}

/// Renames the group, archives it or brings it back.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<GroupForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            let archived = match form.archived.as_str() {
                "" => None,
                "yes" => Some(true),
                "no" => Some(false),
                _ => return Err(ApiError::BadRequest("archived is yes or no".into())),
            };
            let current = store::group(c, GroupId(id))?;
            let name = (form.name.trim() != current.name).then_some(form.name.as_str());
            groups::update_group(c, GroupId(id), name, archived, &caller.actor(), now)?;
            Ok(match (archived, name) {
                (Some(true), _) => "Group archived.",
                (Some(false), _) => "Group back in use.",
                (None, Some(_)) => "Group renamed.",
                (None, None) => "Nothing changed.",
            }
            .to_owned())
        })
        .await;
    finish(&session, result, &format!("/groups/{id}")).await
}

pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path((id, person)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            groups::remove_member(c, GroupId(id), PersonId(person), &caller.actor(), now)?;
            Ok("Taken out of the group.".to_owned())
        })
        .await;
    finish(&session, result, &format!("/groups/{id}")).await
}

#[derive(Deserialize)]
pub struct BookingForm {
    holder: i64,
    /// A device id, or empty for any device.
    #[serde(default)]
    device: String,
    on: String,
    from: String,
    /// The last day, when not the first (a trip of several days).
    #[serde(default)]
    until_day: String,
    until: String,
}

impl BookingForm {
    /// Local dates and times of the organisation's zone to a booking.
    fn parse(&self, group: GroupId, state: &AppState) -> Result<NewBooking, ApiError> {
        let tz = state.time_zone();
        let day = |text: &str, what: &str| -> Result<Date, ApiError> {
            text.trim()
                .parse()
                .map_err(|_| ApiError::invalid(format!("{what} must be a date (YYYY-MM-DD)")))
        };
        let time = |text: &str, what: &str| -> Result<Time, ApiError> {
            text.trim()
                .parse()
                .map_err(|_| ApiError::invalid(format!("{what} must be a time (HH:MM)")))
        };
        let first = day(&self.on, "the day")?;
        let last = if self.until_day.trim().is_empty() {
            first
        } else {
            day(&self.until_day, "the last day")?
        };
        let at = |d: Date, t: Time| {
            tz.to_timestamp(DateTime::from_parts(d, t))
                .map_err(|e| ApiError::invalid(format!("that time does not exist here: {e}")))
        };
        let device = match self.device.trim() {
            "" => None,
            text => Some(DeviceId(text.parse().map_err(|_| {
                ApiError::invalid("choose a device from the list, or any device")
            })?)),
        };
        Ok(NewBooking {
            group_id: group,
            holder: PersonId(self.holder),
            device,
            starts_at: at(first, time(&self.from, "the start")?)?,
            ends_at: at(last, time(&self.until, "the end")?)?,
        })
    }
}

pub async fn book(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<BookingForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = match form.parse(GroupId(id), &state) {
        Ok(new) => {
            state
                .db(move |c| {
                    crate::store::sites::ensure_visible(
                        c,
                        caller.account.site_id,
                        &new.records_named(),
                    )?;
                    let b = groups::book(c, &new, caller.account.id, now)?;
                    Ok(format!(
                        "Booked for {}. The kiosk will show {} who must not be photographed.",
                        b.group_name, b.holder_name
                    ))
                })
                .await
        }
        Err(e) => Err(e),
    };
    finish(&session, result, &format!("/groups/{id}")).await
}

pub async fn cancel_booking(
    State(state): State<AppState>,
    caller: Caller,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let now = state.now();
    let result = state
        .db(move |c| {
            Ok(groups::cancel_booking(
                c,
                BookingId(id),
                &caller.actor(),
                now,
            )?)
        })
        .await;
    match result {
        Ok(b) => {
            finish(
                &session,
                Ok("Booking cancelled.".into()),
                &format!("/groups/{}", b.group_id),
            )
            .await
        }
        Err(e) => finish(&session, Err(e), "/groups").await,
    }
}
