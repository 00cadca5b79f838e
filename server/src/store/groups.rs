//! Groups (a class, a trip) and bookings of a device for a group (K2).

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::people::{self, Person};
use super::registry::conflict;
use super::{Result, StoreError, found};
use crate::domain::{AccountId, BookingId, DeviceId, GroupId, PersonId, Role};

/// The longest a booking may last: a residential trip.
pub const LONGEST_BOOKING: SignedDuration = SignedDuration::from_hours(14 * 24);

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub members: u32,
    /// An archived group (last year's class) is kept with its history but takes no new
    /// bookings and is listed only on request.
    pub archived: bool,
}

/// A group name: 1 to 80 characters after trimming, no control characters.
fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "a group name is 1 to 80 characters without control characters".into(),
        ));
    }
    Ok(name)
}

pub fn insert_group(conn: &Connection, name: &str, now: Timestamp) -> Result<GroupId> {
    let name = check_name(name)?;
    conn.execute(
        "INSERT INTO groups (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )
    .map_err(|e| conflict(e, || format!("a group named {name:?} exists")))?;
    Ok(GroupId(conn.last_insert_rowid()))
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, \
     (SELECT count(*) FROM group_members m WHERE m.group_id = g.id), g.archived_at IS NOT NULL \
     FROM groups g";

fn group_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: GroupId(r.get(0)?),
        name: r.get(1)?,
        members: r.get(2)?,
        archived: r.get(3)?,
    })
}

pub fn group(conn: &Connection, id: GroupId) -> Result<Group> {
    found(
        conn.query_row(
            &format!("{GROUP_SELECT} WHERE g.id = ?1"),
            [id.0],
            group_row,
        ),
        "group",
        id.0,
    )
}

/// The groups in use (with `archived`, all of them), by name.
pub fn groups(conn: &Connection, archived: bool) -> Result<Vec<Group>> {
    let filter = if archived {
        ""
    } else {
        "WHERE g.archived_at IS NULL"
    };
    let mut stmt = conn.prepare(&format!(
        "{GROUP_SELECT} {filter} ORDER BY g.name COLLATE NOCASE"
    ))?;
    let rows = stmt
        .query_map([], group_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Renames a group.
pub fn rename_group(conn: &Connection, id: GroupId, name: &str) -> Result<()> {
    let name = check_name(name)?;
    group(conn, id)?;
    conn.execute(
        "UPDATE groups SET name = ?2 WHERE id = ?1",
        params![id.0, name],
    )
    .map_err(|e| conflict(e, || format!("a group named {name:?} exists")))?;
    Ok(())
}

/// Archives a group (or brings it back). Its bookings still to come must be cancelled
/// first, so that nobody is surprised by a booking for a group nobody sees.
pub fn set_archived(conn: &Connection, id: GroupId, archived: bool, now: Timestamp) -> Result<()> {
    group(conn, id)?;
    if archived
        && let Some(b) = bookings_of_group(conn, id)?
            .into_iter()
            .find(|b| b.cancelled_at.is_none() && b.ends_at > now)
    {
        return Err(StoreError::Conflict(format!(
            "booking #{} ({} from {}) is still to come: cancel it first",
            b.id, b.holder_name, b.starts_at
        )));
    }
    conn.execute(
        "UPDATE groups SET archived_at = ?2 WHERE id = ?1",
        params![id.0, archived.then_some(now)],
    )?;
    Ok(())
}

/// Adds a person to a group; adding someone already in it changes nothing (`false`).
pub fn add_member(
    conn: &Connection,
    group_id: GroupId,
    person: PersonId,
    now: Timestamp,
) -> Result<bool> {
    group(conn, group_id)?;
    people::living(conn, person)?;
    let added = conn.execute(
        "INSERT OR IGNORE INTO group_members (group_id, person_id, added_at) VALUES (?1, ?2, ?3)",
        params![group_id.0, person.0, now],
    )?;
    Ok(added == 1)
}

/// Takes a person out of a group; `false` if they were not in it.
pub fn remove_member(conn: &Connection, group_id: GroupId, person: PersonId) -> Result<bool> {
    group(conn, group_id)?;
    let removed = conn.execute(
        "DELETE FROM group_members WHERE group_id = ?1 AND person_id = ?2",
        params![group_id.0, person.0],
    )?;
    Ok(removed == 1)
}

/// A group's people, by family then given name.
pub fn members(conn: &Connection, group_id: GroupId) -> Result<Vec<Person>> {
    group(conn, group_id)?;
    let mut stmt = conn.prepare(
        "SELECT p.id FROM group_members m JOIN people p ON p.id = m.person_id \
         WHERE m.group_id = ?1 \
         ORDER BY p.family_name COLLATE NOCASE, p.given_name COLLATE NOCASE, p.id",
    )?;
    let ids = stmt
        .query_map([group_id.0], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.into_iter()
        .map(|id| people::person(conn, PersonId(id)))
        .collect()
}

/// A booking to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    pub group_id: GroupId,
    /// The staff member who will sign the device out.
    pub holder: PersonId,
    /// The device, if it is known which one; otherwise any device the holder signs out.
    pub device: Option<DeviceId>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

impl NewBooking {
    /// The records a booking names (its group, holder and device): an account of a site
    /// books only its own.
    pub fn records_named(&self) -> Vec<(super::sites::Kind, i64)> {
        let mut named = vec![
            (super::sites::Kind::Group, self.group_id.0),
            (super::sites::Kind::Person, self.holder.0),
        ];
        named.extend(self.device.map(|d| (super::sites::Kind::Device, d.0)));
        named
    }
}

/// A stored booking with the names the pages show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub id: BookingId,
    pub group_id: GroupId,
    pub group_name: String,
    pub holder: PersonId,
    pub holder_name: String,
    pub device: Option<DeviceId>,
    pub device_label: Option<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
}

impl Booking {
    /// Whether a sign-out of `device` by `person` at `at` belongs to this booking.
    pub fn covers(&self, person: PersonId, device: DeviceId, at: Timestamp) -> bool {
        self.cancelled_at.is_none()
            && self.holder == person
            && self.device.is_none_or(|d| d == device)
            && self.starts_at <= at
            && at < self.ends_at
    }

    fn overlaps(&self, starts_at: Timestamp, ends_at: Timestamp) -> bool {
        self.cancelled_at.is_none() && self.starts_at < ends_at && starts_at < self.ends_at
    }
}

const BOOKING_SELECT: &str = "SELECT b.id, b.group_id, g.name, b.holder_id, \
     p.given_name || ' ' || p.family_name, b.device_id, d.label, b.starts_at, b.ends_at, \
     b.cancelled_at \
     FROM bookings b JOIN groups g ON g.id = b.group_id JOIN people p ON p.id = b.holder_id \
     LEFT JOIN devices d ON d.id = b.device_id";

fn booking_row(r: &Row<'_>) -> rusqlite::Result<Booking> {
    Ok(Booking {
        id: BookingId(r.get(0)?),
        group_id: GroupId(r.get(1)?),
        group_name: r.get(2)?,
        holder: PersonId(r.get(3)?),
        holder_name: r.get(4)?,
        device: r.get::<_, Option<i64>>(5)?.map(DeviceId),
        device_label: r.get(6)?,
        starts_at: r.get(7)?,
        ends_at: r.get(8)?,
        cancelled_at: r.get(9)?,
    })
}

fn to_seconds(t: Timestamp) -> Result<Timestamp> {
    Timestamp::from_second(t.as_second()).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Books a device for a group. The holder must be staff allowed to sign devices out, and
/// must not hold another booking at an overlapping time (a sign-out must belong to one
/// booking at most). Times are kept to the second.
pub fn insert_booking(
    conn: &Connection,
    booking: &NewBooking,
    created_by: AccountId,
    now: Timestamp,
) -> Result<BookingId> {
    if group(conn, booking.group_id)?.archived {
        return Err(StoreError::Conflict(
            "this group is archived: bring it back before booking for it".into(),
        ));
    }
    let holder = people::person(conn, booking.holder)?;
    if holder.role != Role::Staff || !holder.may_sign_out {
        return Err(StoreError::Invalid(format!(
            "person #{} is not staff allowed to sign devices out",
            holder.id
        )));
    }
    if let Some(device) = booking.device {
        super::registry::device(conn, device)?;
    }
    let (starts_at, ends_at) = (to_seconds(booking.starts_at)?, to_seconds(booking.ends_at)?);
    if starts_at >= ends_at {
        return Err(StoreError::Invalid(
            "a booking must end after it starts".into(),
        ));
    }
    if ends_at.duration_since(starts_at) > LONGEST_BOOKING {
        return Err(StoreError::Invalid(
            "a booking lasts at most 14 days".into(),
        ));
    }
    if ends_at <= now {
        return Err(StoreError::Invalid(
            "a booking must end in the future".into(),
        ));
    }
    if let Some(clash) = bookings_of(conn, booking.holder)?
        .into_iter()
        .find(|b| b.overlaps(starts_at, ends_at))
    {
        return Err(StoreError::Conflict(format!(
            "{} already has booking #{} for {} at that time",
            clash.holder_name, clash.id, clash.group_name
        )));
    }
    conn.execute(
        "INSERT INTO bookings (group_id, holder_id, device_id, starts_at, ends_at, created_by, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            booking.group_id.0,
            booking.holder.0,
            booking.device.map(|d| d.0),
            starts_at.to_string(),
            ends_at.to_string(),
            created_by.0,
            now
        ],
    )?;
    Ok(BookingId(conn.last_insert_rowid()))
}

pub fn booking(conn: &Connection, id: BookingId) -> Result<Booking> {
    found(
        conn.query_row(
            &format!("{BOOKING_SELECT} WHERE b.id = ?1"),
            [id.0],
            booking_row,
        ),
        "booking",
        id.0,
    )
}

/// Cancels a booking; cancelling twice is refused.
pub fn cancel_booking(conn: &Connection, id: BookingId, now: Timestamp) -> Result<Booking> {
    let current = booking(conn, id)?;
    if current.cancelled_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "booking #{id} is already cancelled"
        )));
    }
    conn.execute(
        "UPDATE bookings SET cancelled_at = ?2 WHERE id = ?1",
        params![id.0, now],
    )?;
    booking(conn, id)
}

fn bookings_where(
    conn: &Connection,
    filter: &str,
    values: impl rusqlite::Params,
) -> Result<Vec<Booking>> {
    let mut stmt = conn.prepare(&format!(
        "{BOOKING_SELECT} WHERE {filter} ORDER BY b.starts_at, b.id"
    ))?;
    let rows = stmt
        .query_map(values, booking_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn bookings_of(conn: &Connection, holder: PersonId) -> Result<Vec<Booking>> {
    bookings_where(conn, "b.holder_id = ?1", [holder.0])
}

/// A group's bookings, earliest first.
pub fn bookings_of_group(conn: &Connection, group_id: GroupId) -> Result<Vec<Booking>> {
    bookings_where(conn, "b.group_id = ?1", [group_id.0])
}

/// Every booking, earliest first.
pub fn all_bookings(conn: &Connection) -> Result<Vec<Booking>> {
    bookings_where(conn, "1 = 1", [])
}

/// Bookings not cancelled that have not ended at `now` and start within `horizon`:
/// what the kiosk must know about.
pub fn upcoming(
    conn: &Connection,
    now: Timestamp,
    horizon: SignedDuration,
) -> Result<Vec<Booking>> {
    let until = now.checked_add(horizon).unwrap_or(Timestamp::MAX);
    Ok(bookings_where(conn, "b.cancelled_at IS NULL", [])?
        .into_iter()
        .filter(|b| b.ends_at > now && b.starts_at < until)
        .collect())
}

/// The booking a sign-out belongs to, if any: the holder's booking covering the time, one
/// for this very device preferred over one for any device.
pub fn booking_for_sign_out(
    conn: &Connection,
    person: PersonId,
    device: DeviceId,
    at: Timestamp,
) -> Result<Option<Booking>> {
    let mut covering: Vec<Booking> = bookings_of(conn, person)?
        .into_iter()
        .filter(|b| b.covers(person, device, at))
        .collect();
    covering.sort_by_key(|b| (b.device.is_none(), b.starts_at));
    Ok(covering.into_iter().next())
}

/// The booking a custody session was signed out under.
pub fn booking_of_session(conn: &Connection, session: i64) -> Result<Option<Booking>> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT booking_id FROM custody_sessions WHERE id = ?1",
            [session],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    id.map(|id| booking(conn, BookingId(id))).transpose()
}
