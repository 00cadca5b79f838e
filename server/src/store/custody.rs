//! Kiosk events and the custody sessions they make: who had which device when.
//!
//! Kiosk events arrive in order from each kiosk's journal and are recorded once per
//! `event_id` (K6): a replay of an event already recorded changes nothing.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use consentcam_tagkey::KioskKey;
use consentcam_wire::{
    BadgeKind, KioskEvent, KioskEventKind, OpenCustody, Roster, RosterBadge, RosterDevice,
};

use super::audit::{self, Entry};
use super::{Result, StoreError};
use crate::domain::{BookingId, DeviceId, PersonId, Role};
use crate::rules::kiosk::{self, Refusal};
use crate::store::audit::Action;
use crate::store::sites;

/// What happened to one incoming event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
    /// Kept without effect on custody, for an admin to see (see [`crate::rules::kiosk`]).
    Refused(Refusal),
    /// Not kept: the kiosk keeps it and sends it again (see [`Refusal::holds`]).
    Held(Refusal),
}

fn ts(text: String) -> rusqlite::Result<Timestamp> {
    text.parse().map_err(|e: jiff::Error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn open_session(conn: &Connection, device: i64) -> Result<Option<(i64, i64)>> {
    Ok(conn
        .query_row(
            "SELECT id, person_id FROM custody_sessions WHERE device_id = ?1 AND returned_at IS NULL",
            [device],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn exists(conn: &Connection, table: &str, id: i64) -> Result<bool> {
    let n: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE id = ?1"),
        [id],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// What the server knows around `event` (see [`kiosk::Facts`]).
fn facts(
    conn: &Connection,
    kiosk_id: i64,
    event: &KioskEvent,
    received: Timestamp,
    kiosk_clock: Option<Timestamp>,
) -> Result<kiosk::Facts> {
    let (device, person) = match &event.kind {
        KioskEventKind::Tap { .. } | KioskEventKind::JournalRefused { .. } => (None, None),
        KioskEventKind::SignedOut {
            device_id,
            person_id,
            ..
        }
        | KioskEventKind::Returned {
            device_id,
            person_id,
        } => (Some(*device_id), Some(*person_id)),
    };
    // Judged by time against what is recorded: the kiosk chooses its own `seq`.
    let latest_before: Option<String> = conn.query_row(
        "SELECT max(t) FROM ( \
           SELECT max(at) AS t FROM kiosk_events WHERE kiosk_id = ?1 \
           UNION ALL SELECT max(out_at) FROM custody_sessions WHERE device_id = ?2 \
           UNION ALL SELECT max(returned_at) FROM custody_sessions WHERE device_id = ?2)",
        params![kiosk_id, device],
        |r| r.get(0),
    )?;
    // A kiosk of a site names devices and people of its site or of none.
    let kiosk_site = sites::site_of(conn, sites::Kind::Kiosk, kiosk_id)?.flatten();
    let mut other_site = false;
    for (kind, id) in [(sites::Kind::Device, device), (sites::Kind::Person, person)] {
        if let Some(id) = id
            && let Some(site) = sites::site_of(conn, kind, id)?
        {
            other_site |= !sites::kiosk_may_name(kiosk_site, site);
        }
    }
    let person = match person {
        None => None,
        Some(id) => conn
            .query_row(
                "SELECT p.role = 'staff' AND EXISTS (SELECT 1 FROM badges b \
                 WHERE b.person_id = p.id AND b.active = 1), p.may_sign_out \
                 FROM people p WHERE p.id = ?1",
                [id],
                |r| {
                    Ok(kiosk::PersonFacts {
                        active_staff_badge: r.get(0)?,
                        may_sign_out: r.get(1)?,
                    })
                },
            )
            .optional()?,
    };
    Ok(kiosk::Facts {
        received,
        kiosk_clock,
        latest_before: latest_before.map(ts).transpose()?,
        device_exists: match device {
            Some(id) => exists(conn, "devices", id)?,
            None => false,
        },
        person,
        other_site,
    })
}

/// Records one kiosk event and its effect on custody, with its audit entries, after the
/// checks of [`kiosk`]: an event that fails them is kept in
/// `refused_kiosk_events` and changes nothing else. `kiosk_clock` is the kiosk's clock
/// when it sent the batch, if it said. Run it in a transaction with the others of its
/// batch.
pub fn record_event(
    conn: &Connection,
    kiosk_id: i64,
    event: &KioskEvent,
    received: Timestamp,
    kiosk_clock: Option<Timestamp>,
) -> Result<Recorded> {
    let seen: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM kiosk_events WHERE event_id = ?1) + \
         (SELECT count(*) FROM refused_kiosk_events WHERE event_id = ?1)",
        [&event.event_id],
        |r| r.get(0),
    )?;
    if seen > 0 {
        return Ok(Recorded::Duplicate);
    }
    if event.event_id.is_empty() || event.event_id.len() > 128 {
        return Err(StoreError::Invalid(
            "event_id must be 1 to 128 characters".into(),
        ));
    }
    if event.reader.len() > 128 {
        return Err(StoreError::Invalid(
            "reader must be at most 128 characters".into(),
        ));
    }
    let facts = facts(conn, kiosk_id, event, received, kiosk_clock)?;
    if let Err(refusal) = kiosk::check(event, &facts) {
        if refusal.holds() {
            return Ok(Recorded::Held(refusal));
        }
        refuse(conn, kiosk_id, event, received, refusal)?;
        return Ok(Recorded::Refused(refusal));
    }
    let kind = event_kind(&event.kind);
    let subject = match &event.kind {
        KioskEventKind::Tap { .. } | KioskEventKind::JournalRefused { .. } => {
            format!("kiosk:{kiosk_id}")
        }
        KioskEventKind::SignedOut { device_id, .. }
        | KioskEventKind::Returned { device_id, .. } => {
            format!("device:{device_id}")
        }
    };
    let body =
        serde_json::to_string(&event.kind).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO kiosk_events (event_id, kiosk_id, seq, at, reader, kind, body, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            event.event_id,
            kiosk_id,
            event.seq as i64,
            event.at.to_string(),
            event.reader,
            kind,
            body,
            received.to_string()
        ],
    )?;
    let actor = format!("kiosk:{kiosk_id}");
    let log = |action: Action, subject: &str, details: serde_json::Value| {
        audit::append(
            conn,
            &Entry {
                at: event.at,
                actor: &actor,
                action,
                subject,
                details,
            },
        )
    };
    match &event.kind {
        KioskEventKind::JournalRefused { lines } => {
            tracing::error!(
                kiosk = kiosk_id,
                lines,
                "a kiosk refused edited journal lines"
            );
            log(
                Action::KioskJournalRefused,
                &subject,
                serde_json::json!({ "event_id": event.event_id, "lines": lines }),
            )?;
        }
        KioskEventKind::Tap { uid, outcome } => {
            log(
                Action::KioskTap,
                &subject,
                serde_json::json!({
                    "event_id": event.event_id, "reader": event.reader,
                    "uid": uid.as_str(), "outcome": outcome,
                }),
            )?;
        }
        KioskEventKind::SignedOut {
            device_id,
            person_id,
            due_back,
            booking_id,
        } => {
            let booking = booking_of_sign_out(
                conn,
                *booking_id,
                PersonId(*person_id),
                DeviceId(*device_id),
                event.at,
            )?;
            if let Some((session, holder)) = open_session(conn, *device_id)? {
                conn.execute(
                    "UPDATE custody_sessions SET returned_at = ?2, return_event_id = ?3 WHERE id = ?1",
                    params![session, event.at.to_string(), event.event_id],
                )?;
                log(
                    Action::CustodyImplicitReturn,
                    &subject,
                    serde_json::json!({ "session": session, "person": holder, "event_id": event.event_id }),
                )?;
            }
            conn.execute(
                "INSERT INTO custody_sessions (device_id, person_id, out_at, due_back, out_event_id, \
                 booking_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![device_id, person_id, event.at.to_string(), due_back.to_string(), event.event_id, booking],
            )?;
            let session = conn.last_insert_rowid();
            log(
                Action::CustodySignOut,
                &subject,
                serde_json::json!({
                    "session": session, "person": person_id, "due_back": due_back.to_string(),
                    "event_id": event.event_id, "reader": event.reader, "booking": booking,
                }),
            )?;
        }
        KioskEventKind::Returned {
            device_id,
            person_id,
        } => {
            let open = open_session(conn, *device_id)?;
            if let Some((session, _)) = open {
                conn.execute(
                    "UPDATE custody_sessions SET returned_at = ?2, return_event_id = ?3 WHERE id = ?1",
                    params![session, event.at.to_string(), event.event_id],
                )?;
            }
            log(
                if open.is_some() {
                    Action::CustodyReturn
                } else {
                    Action::CustodyReturnWithoutSignOut
                },
                &subject,
                serde_json::json!({
                    "session": open.map(|o| o.0), "person": person_id,
                    "event_id": event.event_id, "reader": event.reader,
                }),
            )?;
        }
    }
    Ok(Recorded::New)
}

/// Notes how far a kiosk's clock is from the server's when they disagree (`Some`, the
/// kiosk's minus the server's), keeping the first time it was seen; `None` clears the
/// note once they agree again.
pub fn note_clock(
    conn: &Connection,
    kiosk_id: i64,
    off_by: Option<jiff::SignedDuration>,
    now: Timestamp,
) -> Result<()> {
    match off_by {
        Some(off) => conn.execute(
            "UPDATE kiosks SET clock_off_seconds = ?2, \
             clock_off_since = coalesce(clock_off_since, ?3) WHERE id = ?1",
            params![kiosk_id, off.as_secs(), now.to_string()],
        )?,
        None => conn.execute(
            "UPDATE kiosks SET clock_off_seconds = NULL, clock_off_since = NULL \
             WHERE id = ?1 AND clock_off_seconds IS NOT NULL",
            [kiosk_id],
        )?,
    };
    Ok(())
}

fn event_kind(kind: &KioskEventKind) -> &'static str {
    match kind {
        KioskEventKind::Tap { .. } => "tap",
        KioskEventKind::JournalRefused { .. } => "journal_refused",
        KioskEventKind::SignedOut { .. } => "signed_out",
        KioskEventKind::Returned { .. } => "returned",
    }
}

fn refuse(
    conn: &Connection,
    kiosk_id: i64,
    event: &KioskEvent,
    received: Timestamp,
    refusal: Refusal,
) -> Result<()> {
    let body =
        serde_json::to_string(&event.kind).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO refused_kiosk_events (event_id, kiosk_id, seq, at, reader, kind, body, \
         received_at, code, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            event.event_id,
            kiosk_id,
            i64::try_from(event.seq).unwrap_or(i64::MAX),
            event.at.to_string(),
            event.reader,
            event_kind(&event.kind),
            body,
            received.to_string(),
            refusal.code(),
            refusal.sentence(),
        ],
    )?;
    tracing::warn!(
        kiosk = kiosk_id,
        code = refusal.code(),
        "kiosk event refused"
    );
    audit::append(
        conn,
        &Entry {
            at: received,
            actor: &format!("kiosk:{kiosk_id}"),
            action: Action::KioskEventRefused,
            subject: &format!("kiosk:{kiosk_id}"),
            details: serde_json::json!({
                "event_id": event.event_id, "kind": event_kind(&event.kind),
                "code": refusal.code(),
            }),
        },
    )?;
    Ok(())
}

/// A kiosk event the server kept without acting on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedEvent {
    pub event_id: String,
    pub kiosk_id: i64,
    pub kiosk: String,
    pub at: String,
    pub received_at: jiff::Timestamp,
    pub kind: String,
    /// The event as the kiosk sent it (device and person ids, a tap's UID).
    pub body: serde_json::Value,
    pub code: String,
    pub reason: String,
}

/// Refused events, newest first: of the kiosks of `site` only, when one is given.
pub fn refused_events(
    conn: &Connection,
    site: Option<i64>,
    limit: u32,
) -> Result<Vec<RefusedEvent>> {
    let mut stmt = conn.prepare(
        "SELECT r.event_id, r.kiosk_id, k.name, r.at, r.received_at, r.kind, r.body, r.code, \
         r.reason FROM refused_kiosk_events r JOIN kiosks k ON k.id = r.kiosk_id \
         WHERE ?2 IS NULL OR k.site_id = ?2 \
         ORDER BY r.received_at DESC, r.seq DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map(params![limit, site], |r| {
            let body: String = r.get(6)?;
            Ok(RefusedEvent {
                event_id: r.get(0)?,
                kiosk_id: r.get(1)?,
                kiosk: r.get(2)?,
                at: r.get(3)?,
                received_at: r.get(4)?,
                kind: r.get(5)?,
                body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                code: r.get(7)?,
                reason: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The booking a sign-out belongs to: the one the kiosk matched if it exists and is the
/// holder's (the kiosk may have decided from an older roster, and showed that booking's
/// briefing), else the server's own match.
fn booking_of_sign_out(
    conn: &Connection,
    from_kiosk: Option<i64>,
    person: PersonId,
    device: DeviceId,
    at: Timestamp,
) -> Result<Option<i64>> {
    if let Some(id) = from_kiosk {
        match super::groups::booking(conn, BookingId(id)) {
            Ok(b) if b.holder == person => return Ok(Some(id)),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                tracing::warn!(
                    booking = id,
                    "the kiosk named a booking that is not the holder's; matching anew"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(super::groups::booking_for_sign_out(conn, person, device, at)?.map(|b| b.id.0))
}

/// What a kiosk needs to decide taps offline (bookings are added by
/// [`crate::ops::groups::kiosk_roster`], which knows the consent rules).
/// Badges and device tags are named by their keyed hash under `key` (the calling kiosk's),
/// never by UID.
pub fn roster(conn: &Connection, now: Timestamp, key: &KioskKey) -> Result<Roster> {
    let mut stmt = conn.prepare(
        "SELECT b.uid, p.id, p.role, p.given_name, p.family_name, p.may_sign_out \
         FROM badges b JOIN people p ON p.id = b.person_id WHERE b.active = 1 ORDER BY b.id",
    )?;
    let badges = stmt
        .query_map([], |r| {
            let role: Role = r.get(2)?;
            let given: String = r.get(3)?;
            let family: String = r.get(4)?;
            let staff = role == Role::Staff;
            let uid: String = r.get(0)?;
            Ok((
                uid,
                r.get::<_, i64>(1)?,
                staff,
                given,
                family,
                r.get::<_, bool>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter_map(|(uid, person_id, staff, given, family, may)| {
            Some(RosterBadge {
                uid_hash: key.tag(consentcam_wire::TagUid::parse(&uid).ok()?.as_str()),
                person_id,
                kind: if staff {
                    BadgeKind::Staff
                } else {
                    BadgeKind::Learner
                },
                display_name: if staff {
                    format!("{}. {}", given.chars().next().unwrap_or('?'), family)
                } else {
                    String::new()
                },
                may_sign_out: staff && may,
            })
        })
        .collect();
    let devices = super::registry::devices(conn)?
        .into_iter()
        .filter_map(|d| {
            Some(RosterDevice {
                device_id: d.id.0,
                label: d.label,
                tag_hash: key.tag(consentcam_wire::TagUid::parse(&d.tag_uid).ok()?.as_str()),
                loan_minutes: d.loan_minutes,
            })
        })
        .collect();
    let open_custody = open_sessions(conn)?
        .into_iter()
        .map(|s| OpenCustody {
            device_id: s.device_id.0,
            person_id: s.person_id.0,
            since: s.out_at,
            due_back: s.due_back,
        })
        .collect();
    Ok(Roster {
        generated_at: now,
        badges,
        devices,
        open_custody,
        bookings: Vec::new(),
    })
}

/// One sign-out, open or closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: i64,
    pub device_id: DeviceId,
    pub person_id: PersonId,
    pub out_at: Timestamp,
    pub due_back: Timestamp,
    pub returned_at: Option<Timestamp>,
    /// The booking for a group it was signed out under.
    pub booking_id: Option<BookingId>,
}

impl Session {
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.returned_at.is_none() && self.due_back < now
    }
}

const SESSION_COLS: &str = "id, device_id, person_id, out_at, due_back, returned_at, booking_id";

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        device_id: DeviceId(r.get(1)?),
        person_id: PersonId(r.get(2)?),
        out_at: ts(r.get(3)?)?,
        due_back: ts(r.get(4)?)?,
        returned_at: r.get::<_, Option<String>>(5)?.map(ts).transpose()?,
        booking_id: r.get::<_, Option<i64>>(6)?.map(BookingId),
    })
}

fn sessions_where(conn: &Connection, condition: &str, arg: Option<i64>) -> Result<Vec<Session>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SESSION_COLS} FROM custody_sessions WHERE {condition} ORDER BY out_at DESC, id DESC"
    ))?;
    let rows = match arg {
        Some(a) => stmt
            .query_map([a], session_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        None => stmt
            .query_map([], session_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

pub fn open_sessions(conn: &Connection) -> Result<Vec<Session>> {
    sessions_where(conn, "returned_at IS NULL", None)
}

pub fn sessions_of_device(conn: &Connection, device: DeviceId) -> Result<Vec<Session>> {
    sessions_where(conn, "device_id = ?1", Some(device.0))
}

pub fn sessions_of_person(conn: &Connection, person: PersonId) -> Result<Vec<Session>> {
    sessions_where(conn, "person_id = ?1", Some(person.0))
}

pub fn session(conn: &Connection, id: i64) -> Result<Session> {
    super::found(
        conn.query_row(
            &format!("SELECT {SESSION_COLS} FROM custody_sessions WHERE id = ?1"),
            [id],
            session_row,
        ),
        "custody session",
        id,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::{open_in_memory, people, registry};
    use consentcam_tagkey::KioskKey;
    use consentcam_wire::{TagUid, TapOutcome};
    use jiff::civil::date;

    pub(crate) fn t(sec: i64) -> Timestamp {
        Timestamp::from_second(1_764_000_000 + sec).unwrap()
    }

    pub(crate) fn setup() -> (Connection, i64, i64, i64) {
        let conn = open_in_memory().unwrap();
        let person = people::insert_person(
            &conn,
            &people::NewPerson {
                ext_ref: crate::domain::ExternalRef::parse("S1").unwrap(),
                given_name: crate::domain::Name::parse("Sam").unwrap(),
                family_name: crate::domain::Name::parse("Jones").unwrap(),
                date_of_birth: date(1985, 1, 1),
                role: Role::Staff,
                vulnerable: false,
                may_sign_out: true,
            },
            t(0),
        )
        .unwrap();
        let device = registry::insert_device(
            &conn,
            &registry::NewDevice {
                label: "Camera 1".into(),
                make: "Canon".into(),
                model: "EOS".into(),
                serial: "1".into(),
                tag_uid: TagUid::parse("0A0B0C0D").unwrap(),
                loan_minutes: 60,
            },
            t(0),
        )
        .unwrap();
        registry::enrol_badge(&conn, &TagUid::parse("0A0B0C0E").unwrap(), person, t(0)).unwrap();
        let kiosk = registry::insert_kiosk(&conn, "office", "hash", t(0)).unwrap();
        (conn, kiosk, person.0, device.0)
    }

    pub(crate) fn event(id: &str, seq: u64, at: i64, kind: KioskEventKind) -> KioskEvent {
        KioskEvent {
            event_id: id.into(),
            seq,
            at: t(at),
            reader: "office-1".into(),
            kind,
        }
    }

    #[test]
    fn a_sign_out_and_return_make_one_closed_session_and_replays_change_nothing() {
        let (conn, kiosk, person, device) = setup();
        let out = event(
            "k-1",
            1,
            10,
            KioskEventKind::SignedOut {
                device_id: device,
                person_id: person,
                due_back: t(3610),
                booking_id: None,
            },
        );
        let back = event(
            "k-2",
            2,
            100,
            KioskEventKind::Returned {
                device_id: device,
                person_id: person,
            },
        );
        assert_eq!(
            record_event(&conn, kiosk, &out, t(11), None).unwrap(),
            Recorded::New
        );
        assert_eq!(open_sessions(&conn).unwrap().len(), 1);
        assert_eq!(
            record_event(&conn, kiosk, &back, t(101), None).unwrap(),
            Recorded::New
        );
        assert_eq!(
            record_event(&conn, kiosk, &out, t(102), None).unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(
            record_event(&conn, kiosk, &back, t(102), None).unwrap(),
            Recorded::Duplicate
        );
        let sessions = sessions_of_device(&conn, DeviceId(device)).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].returned_at, Some(t(100)));
        assert!(open_sessions(&conn).unwrap().is_empty());
    }

    #[test]
    fn every_tap_is_audited_with_reader_uid_and_outcome() {
        let (conn, kiosk, _, _) = setup();
        let tap = event(
            "k-9",
            9,
            5,
            KioskEventKind::Tap {
                uid: TagUid::parse("DEADBEEF").unwrap(),
                outcome: TapOutcome::UnknownCard,
            },
        );
        record_event(&conn, kiosk, &tap, t(6), None).unwrap();
        let rows = audit::list(
            &conn,
            &audit::Filter {
                action_prefix: Some(Action::KioskTap.as_str().into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].details["uid"], "DEADBEEF");
        assert_eq!(rows[0].details["outcome"], "unknown_card");
        assert_eq!(rows[0].details["reader"], "office-1");
    }

    #[test]
    fn an_event_for_an_unknown_device_is_kept_as_refused_and_changes_nothing() {
        let (conn, kiosk, person, _) = setup();
        let bad = event(
            "k-3",
            3,
            10,
            KioskEventKind::SignedOut {
                device_id: 999,
                person_id: person,
                due_back: t(100),
                booking_id: None,
            },
        );
        assert_eq!(
            record_event(&conn, kiosk, &bad, t(11), None).unwrap(),
            Recorded::Refused(Refusal::UnknownDevice)
        );
        assert!(open_sessions(&conn).unwrap().is_empty());
        let refused = refused_events(&conn, None, 10).unwrap();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].code, "unknown_device");
        assert_eq!(refused[0].body["device_id"], 999);
        // Sent again, it is a duplicate: the kiosk's journal moves on.
        assert_eq!(
            record_event(&conn, kiosk, &bad, t(12), None).unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(refused_events(&conn, None, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_sign_out_by_a_badge_deactivated_after_the_roster_is_refused_and_audited() {
        let (conn, kiosk, person, device) = setup();
        conn.execute("UPDATE badges SET active = 0", []).unwrap();
        let out = event(
            "k-1",
            1,
            10,
            KioskEventKind::SignedOut {
                device_id: device,
                person_id: person,
                due_back: t(3610),
                booking_id: None,
            },
        );
        assert_eq!(
            record_event(&conn, kiosk, &out, t(11), Some(t(11))).unwrap(),
            Recorded::Refused(Refusal::BadgeNotActive)
        );
        assert!(open_sessions(&conn).unwrap().is_empty());
        let rows = audit::list(
            &conn,
            &audit::Filter {
                action_prefix: Some(Action::KioskEventRefused.as_str().into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].details["code"], "badge_not_active");
    }

    #[test]
    fn a_back_dated_sign_out_after_a_return_is_refused() {
        let (conn, kiosk, person, device) = setup();
        let out = |id: &str, seq, at| {
            event(
                id,
                seq,
                at,
                KioskEventKind::SignedOut {
                    device_id: device,
                    person_id: person,
                    due_back: t(at + 3600),
                    booking_id: None,
                },
            )
        };
        record_event(&conn, kiosk, &out("k-1", 1, 10_000), t(10_001), None).unwrap();
        // A journal line added later claims a sign-out hours before the kiosk's last event.
        assert_eq!(
            record_event(&conn, kiosk, &out("k-2", 2, 1_000), t(10_002), None).unwrap(),
            Recorded::Refused(Refusal::BeforeEarlierEvents)
        );
        assert_eq!(
            sessions_of_device(&conn, DeviceId(device)).unwrap().len(),
            1
        );
    }

    #[test]
    fn the_roster_names_staff_but_never_learners() {
        let (conn, _, person, device) = setup();
        registry::enrol_badge(
            &conn,
            &TagUid::parse("01020304").unwrap(),
            PersonId(person),
            t(0),
        )
        .unwrap();
        let key = KioskKey::from_token("office token");
        let roster = roster(&conn, t(1), &key).unwrap();
        // Badges by keyed hash only: no UID anywhere in what the kiosk stores.
        let text = serde_json::to_string(&roster).unwrap();
        assert!(
            !text.contains("01020304") && !text.contains("0A0B0C0D"),
            "{text}"
        );
        assert!(
            roster
                .badges
                .iter()
                .any(|b| b.uid_hash == key.tag("01020304"))
        );
        assert_eq!(roster.devices[0].tag_hash, key.tag("0A0B0C0D"));
        assert_eq!(roster.badges[0].display_name, "S. Jones");
        assert!(roster.badges[0].may_sign_out);
        assert_eq!(roster.devices[0].device_id, device);
    }
}
