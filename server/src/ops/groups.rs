//! Groups and bookings as audited operations, and the cautions a camera holder sees (K2).
//!
//! Each change is one transaction with its audit entry, like [`crate::records`]. Time and
//! the actor are inputs.

use consentcam_wire::{CautionKind, Roster, RosterBooking, RosterCaution};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use serde::Serialize;

use crate::domain::{AccountId, BookingId, GroupId, PersonId};
use crate::ops::decisions::standing;
use crate::ops::log;
use crate::rules::consent::{self, Caution, ConsentPolicy};
use crate::store::Result;
use crate::store::audit::Action;
use crate::store::custody;
use crate::store::groups::{self, Booking, NewBooking};
use crate::store::people::Person;

/// Makes a group, in the site of the account that makes it.
pub fn create_group(
    conn: &mut Connection,
    name: &str,
    actor: &str,
    site: Option<i64>,
    now: Timestamp,
) -> Result<GroupId> {
    let tx = conn.transaction()?;
    let id = groups::insert_group(&tx, name, now)?;
    crate::ops::sites::place_new(&tx, crate::store::sites::Kind::Group, id.0, site)?;
    log(
        &tx,
        actor,
        Action::GroupCreate,
        format!("group:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(id)
}

/// Renames a group and/or archives it (or brings it back), with audit entries.
pub fn update_group(
    conn: &mut Connection,
    group: GroupId,
    name: Option<&str>,
    archived: Option<bool>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let tx = conn.transaction()?;
    if let Some(name) = name {
        groups::rename_group(&tx, group, name)?;
        log(
            &tx,
            actor,
            Action::GroupRename,
            format!("group:{group}"),
            serde_json::json!({}),
            now,
        )?;
    }
    if let Some(archived) = archived {
        groups::set_archived(&tx, group, archived, now)?;
        log(
            &tx,
            actor,
            if archived {
                Action::GroupArchive
            } else {
                Action::GroupRestore
            },
            format!("group:{group}"),
            serde_json::json!({}),
            now,
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Adds people to a group; returns how many were not in it yet. All or nothing.
pub fn add_members(
    conn: &mut Connection,
    group: GroupId,
    people: &[PersonId],
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let mut added = 0;
    for person in people {
        if groups::add_member(&tx, group, *person, now)? {
            added += 1;
            log(
                &tx,
                actor,
                Action::GroupAddMember,
                format!("group:{group}"),
                serde_json::json!({ "person": person }),
                now,
            )?;
        }
    }
    tx.commit()?;
    Ok(added)
}

pub fn remove_member(
    conn: &mut Connection,
    group: GroupId,
    person: PersonId,
    actor: &str,
    now: Timestamp,
) -> Result<bool> {
    let tx = conn.transaction()?;
    let removed = groups::remove_member(&tx, group, person)?;
    if removed {
        log(
            &tx,
            actor,
            Action::GroupRemoveMember,
            format!("group:{group}"),
            serde_json::json!({ "person": person }),
            now,
        )?;
    }
    tx.commit()?;
    Ok(removed)
}

pub fn book(
    conn: &mut Connection,
    booking: &NewBooking,
    by: AccountId,
    now: Timestamp,
) -> Result<Booking> {
    let tx = conn.transaction()?;
    let id = groups::insert_booking(&tx, booking, by, now)?;
    let stored = groups::booking(&tx, id)?;
    log(
        &tx,
        &format!("account:{by}"),
        Action::BookingCreate,
        format!("booking:{id}"),
        serde_json::json!({
            "group": stored.group_id, "holder": stored.holder, "device": stored.device,
            "starts_at": stored.starts_at.to_string(), "ends_at": stored.ends_at.to_string(),
        }),
        now,
    )?;
    tx.commit()?;
    Ok(stored)
}

pub fn cancel_booking(
    conn: &mut Connection,
    id: BookingId,
    actor: &str,
    now: Timestamp,
) -> Result<Booking> {
    let tx = conn.transaction()?;
    let booking = groups::cancel_booking(&tx, id, now)?;
    log(
        &tx,
        actor,
        Action::BookingCancel,
        format!("booking:{id}"),
        serde_json::json!({}),
        now,
    )?;
    tx.commit()?;
    Ok(booking)
}

/// One person of a group with what the camera holder must know about them.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    #[serde(flatten)]
    pub person: Person,
    pub caution: Option<Caution>,
}

/// A group's people on `on`, each with their caution: the people not to photograph first,
/// then those for internal use only, then everyone else, by name within each.
pub fn members_with_cautions(
    conn: &Connection,
    group: GroupId,
    on: Date,
    policy: &ConsentPolicy,
) -> Result<Vec<Member>> {
    let mut members = groups::members(conn, group)?
        .into_iter()
        .map(|person| {
            let verdicts: Vec<_> = standing(conn, person.id, on, policy)?
                .into_iter()
                .map(|d| (d.channel, d.decision.verdict))
                .collect();
            Ok(Member {
                caution: consent::caution(&verdicts),
                person,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // `None` sorts first among Options; the cautions should lead.
    members.sort_by_key(|m| m.caution.map_or(2, |c| c as u8));
    Ok(members)
}

/// How far ahead the kiosk learns of bookings (it may be offline when one starts).
pub const ROSTER_HORIZON: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Everything a kiosk needs to decide taps offline, with the bookings that have not ended
/// and start within [`ROSTER_HORIZON`], each with its group's cautions as of the day it
/// starts (or today, once started).
pub fn kiosk_roster(
    conn: &Connection,
    now: Timestamp,
    tz: &TimeZone,
    policy: &ConsentPolicy,
    key: &consentcam_tagkey::KioskKey,
) -> Result<Roster> {
    let mut roster = custody::roster(conn, now, key)?;
    for booking in groups::upcoming(conn, now, ROSTER_HORIZON)? {
        let on = tz.to_datetime(booking.starts_at.max(now)).date();
        let members = members_with_cautions(conn, booking.group_id, on, policy)?;
        roster.bookings.push(RosterBooking {
            booking_id: booking.id.0,
            group: booking.group_name,
            person_id: booking.holder.0,
            device_id: booking.device.map(|d| d.0),
            starts_at: booking.starts_at,
            ends_at: booking.ends_at,
            members: members.len() as u32,
            cautions: members
                .iter()
                .filter_map(|m| {
                    Some(RosterCaution {
                        name: short_name(&m.person),
                        caution: match m.caution? {
                            Caution::NoPhotos => CautionKind::NoPhotos,
                            Caution::NotPublic => CautionKind::NotPublic,
                        },
                    })
                })
                .collect(),
        });
    }
    Ok(roster)
}

/// The roster of a kiosk of one site: the badges of that site's people, its devices, their
/// sign-outs and bookings, and those of people and devices of no site (the trust's own
/// staff and kit, who may use any site's kiosk). Another site's are left out.
pub fn for_site(conn: &Connection, mut roster: Roster, site: i64) -> Result<Roster> {
    use crate::store::sites::{self, Kind};
    let here = |kind: Kind, id: i64| -> Result<bool> {
        Ok(match sites::site_of(conn, kind, id)? {
            Some(of) => of.is_none() || of == Some(site),
            None => false,
        })
    };
    let mut badges = Vec::new();
    for badge in roster.badges {
        if here(Kind::Person, badge.person_id)? {
            badges.push(badge);
        }
    }
    roster.badges = badges;
    let mut devices = Vec::new();
    for device in roster.devices {
        if here(Kind::Device, device.device_id)? {
            devices.push(device);
        }
    }
    roster.devices = devices;
    let device_here = |id: i64| roster.devices.iter().any(|d| d.device_id == id);
    roster.open_custody.retain(|o| device_here(o.device_id));
    let mut bookings = Vec::new();
    for booking in std::mem::take(&mut roster.bookings) {
        let device_ok = booking.device_id.is_none_or(&device_here);
        if device_ok && here(Kind::Person, booking.person_id)? {
            bookings.push(booking);
        }
    }
    roster.bookings = bookings;
    Ok(roster)
}

/// How the kiosk names a person in a caution list: given name and the family name's
/// initial ("Sam K."), enough for the holder who knows the group, little for anyone else.
pub fn short_name(person: &Person) -> String {
    match person.family_name.chars().next() {
        Some(initial) => format!("{} {initial}.", person.given_name),
        None => person.given_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::store::consents;
    use consentcam_wire::{KioskEvent, KioskEventKind, TagUid};
    use jiff::civil::date;

    use super::*;
    use crate::domain::{AccountRole, DeviceId, ExternalRef, Name, Role, Scopes, SignerKind};
    use crate::store::{StoreError, open_in_memory, people, registry};

    fn t(hours: i64) -> Timestamp {
        // 2026-11-25T08:00:00Z plus `hours`.
        Timestamp::from_second(1_795_593_600 + hours * 3600).unwrap()
    }

    struct World {
        conn: Connection,
        staff: PersonId,
        other_staff: PersonId,
        camera: DeviceId,
        ipad: DeviceId,
        account: AccountId,
        group: GroupId,
        learners: Vec<PersonId>,
    }

    fn person(
        conn: &Connection,
        r: &str,
        given: &str,
        family: &str,
        role: Role,
        vulnerable: bool,
    ) -> PersonId {
        let id = people::insert_person(
            conn,
            &people::NewPerson {
                ext_ref: ExternalRef::parse(r).unwrap(),
                given_name: Name::parse(given).unwrap(),
                family_name: Name::parse(family).unwrap(),
                date_of_birth: if role == Role::Staff {
                    date(1980, 1, 1)
                } else {
                    date(2010, 5, 5)
                },
                role,
                vulnerable,
                may_sign_out: role == Role::Staff,
            },
            t(-1000),
        )
        .unwrap();
        if role == Role::Staff {
            // Staff hold an active badge: the server takes sign-outs only from one.
            let uid = format!("{:08X}", 0x5AFF_0000 + id.0);
            registry::enrol_badge(conn, &TagUid::parse(&uid).unwrap(), id, t(-1000)).unwrap();
        }
        id
    }

    fn consent(conn: &Connection, who: PersonId, internal: bool, public: bool) {
        consents::insert_consent(
            conn,
            &consents::NewConsent {
                person_id: who,
                signer: SignerKind::Parent,
                signer_name: "A Parent".into(),
                signed_on: date(2026, 9, 1),
                expires_on: None,
                withdrawn_on: None,
                scopes: Scopes {
                    internal,
                    partners: vec![],
                    website: public,
                    social: public,
                },
                evidence_path: None,
                source: "test".into(),
            },
            t(-1000),
        )
        .unwrap();
    }

    fn device(conn: &Connection, label: &str, tag: &str) -> DeviceId {
        registry::insert_device(
            conn,
            &registry::NewDevice {
                label: label.into(),
                make: "Canon".into(),
                model: label.into(),
                serial: tag.into(),
                tag_uid: TagUid::parse(tag).unwrap(),
                loan_minutes: 120,
            },
            t(-1000),
        )
        .unwrap()
    }

    /// A group of four learners: one with full consent, one internal only, one vulnerable
    /// with full consent, one with no form at all.
    fn world() -> World {
        let mut conn = open_in_memory().unwrap();
        let staff = person(&conn, "S1", "Jo", "Smith", Role::Staff, false);
        let other_staff = person(&conn, "S2", "Raj", "Patel", Role::Staff, false);
        let full = person(&conn, "L1", "Amy", "Fox", Role::Learner, false);
        let internal = person(&conn, "L2", "Ben", "Gray", Role::Learner, false);
        let vulnerable = person(&conn, "L3", "Cal", "Hart", Role::Learner, true);
        let none = person(&conn, "L4", "Dee", "Ives", Role::Learner, false);
        consent(&conn, full, true, true);
        consent(&conn, internal, true, false);
        consent(&conn, vulnerable, true, true);
        let camera = device(&conn, "Camera 1", "0A0B0C0D");
        let ipad = device(&conn, "iPad 1", "0A0B0C0E");
        let account =
            registry::insert_account(&conn, "admin", "x", AccountRole::Admin, None, t(-1000))
                .unwrap();
        let group = create_group(&mut conn, "L2 Construction", "test", None, t(-1)).unwrap();
        let learners = vec![full, internal, vulnerable, none];
        assert_eq!(
            add_members(&mut conn, group, &learners, "test", t(-1)).unwrap(),
            4
        );
        World {
            conn,
            staff,
            other_staff,
            camera,
            ipad,
            account,
            group,
            learners,
        }
    }

    impl World {
        fn book(
            &mut self,
            holder: PersonId,
            device: Option<DeviceId>,
            from: i64,
            until: i64,
        ) -> Result<Booking> {
            let new = booking(self, holder, device, from, until);
            book(&mut self.conn, &new, self.account, t(0))
        }
    }

    fn booking(
        w: &World,
        holder: PersonId,
        device: Option<DeviceId>,
        from: i64,
        until: i64,
    ) -> NewBooking {
        NewBooking {
            group_id: w.group,
            holder,
            device,
            starts_at: t(from),
            ends_at: t(until),
        }
    }

    #[test]
    fn members_are_listed_no_photos_first_then_not_public_then_the_rest() {
        let w = world();
        let members = members_with_cautions(
            &w.conn,
            w.group,
            date(2026, 11, 25),
            &ConsentPolicy::default(),
        )
        .unwrap();
        let got: Vec<(String, Option<Caution>)> = members
            .iter()
            .map(|m| (short_name(&m.person), m.caution))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Dee I.".to_owned(), Some(Caution::NoPhotos)),
                ("Ben G.".to_owned(), Some(Caution::NotPublic)),
                ("Cal H.".to_owned(), Some(Caution::NotPublic)),
                ("Amy F.".to_owned(), None),
            ]
        );
    }

    #[test]
    fn the_kiosk_roster_carries_upcoming_bookings_with_their_cautions_only() {
        let mut w = world();
        let booked = w.book(w.staff, Some(w.ipad), 1, 4).unwrap();
        // Ended, cancelled and too far ahead: not sent.
        let later = w.book(w.staff, None, 24 * 9, 24 * 9 + 2).unwrap();
        let cancelled = w.book(w.other_staff, None, 1, 2).unwrap();
        cancel_booking(&mut w.conn, cancelled.id, "test", t(0)).unwrap();
        let roster = kiosk_roster(
            &w.conn,
            t(0),
            &TimeZone::UTC,
            &ConsentPolicy::default(),
            &consentcam_tagkey::KioskKey::demo(),
        )
        .unwrap();
        assert_eq!(roster.bookings.len(), 1, "{:?}", roster.bookings);
        let b = &roster.bookings[0];
        assert_eq!(b.booking_id, booked.id.0);
        assert_ne!(b.booking_id, later.id.0);
        assert_eq!(
            (b.group.as_str(), b.members, b.device_id),
            ("L2 Construction", 4, Some(w.ipad.0))
        );
        let names: Vec<(&str, CautionKind)> = b
            .cautions
            .iter()
            .map(|c| (c.name.as_str(), c.caution))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Dee I.", CautionKind::NoPhotos),
                ("Ben G.", CautionKind::NotPublic),
                ("Cal H.", CautionKind::NotPublic)
            ]
        );
        // No family name ever leaves for the kiosk, only its initial.
        let json = serde_json::to_string(&roster.bookings).unwrap();
        for family in ["Ives", "Gray", "Hart", "Fox"] {
            assert!(!json.contains(family), "{family} in {json}");
        }
    }

    #[test]
    fn a_new_consent_changes_the_cautions_the_next_roster_carries() {
        let mut w = world();
        w.book(w.staff, None, 1, 4).unwrap();
        consent(&w.conn, w.learners[3], true, true);
        let roster = kiosk_roster(
            &w.conn,
            t(0),
            &TimeZone::UTC,
            &ConsentPolicy::default(),
            &consentcam_tagkey::KioskKey::demo(),
        )
        .unwrap();
        assert!(
            roster.bookings[0]
                .cautions
                .iter()
                .all(|c| c.name != "Dee I.")
        );
    }

    #[test]
    fn bookings_refuse_overlaps_for_one_holder_non_staff_holders_and_bad_windows() {
        let mut w = world();
        w.book(w.staff, None, 1, 4).unwrap();
        let overlap = w.book(w.staff, Some(w.camera), 3, 5);
        assert!(
            matches!(overlap, Err(StoreError::Conflict(_))),
            "{overlap:?}"
        );
        // Back to back is fine, and so is another holder at the same time.
        w.book(w.staff, None, 4, 5).unwrap();
        w.book(w.other_staff, None, 1, 4).unwrap();
        for (bad, why) in [
            (booking(&w, w.learners[0], None, 1, 2), "learner holder"),
            (booking(&w, w.staff, None, 9, 8), "ends before it starts"),
            (
                booking(&w, w.staff, None, 20, 20 + 15 * 24),
                "longer than 14 days",
            ),
            (booking(&w, w.staff, None, -5, -2), "already over"),
        ] {
            assert!(
                matches!(
                    book(&mut w.conn, &bad, w.account, t(0)),
                    Err(StoreError::Invalid(_))
                ),
                "{why}"
            );
        }
        let mut missing = booking(&w, w.staff, Some(DeviceId(99)), 30, 31);
        assert!(matches!(
            book(&mut w.conn, &missing, w.account, t(0)),
            Err(StoreError::NotFound { .. })
        ));
        missing.device = None;
        missing.group_id = GroupId(99);
        assert!(matches!(
            book(&mut w.conn, &missing, w.account, t(0)),
            Err(StoreError::NotFound { .. })
        ));
        // Cancelling frees the time; cancelling twice is refused.
        let b = w.book(w.staff, None, 10, 12).unwrap();
        cancel_booking(&mut w.conn, b.id, "test", t(0)).unwrap();
        assert!(matches!(
            cancel_booking(&mut w.conn, b.id, "test", t(0)),
            Err(StoreError::Conflict(_))
        ));
        w.book(w.staff, None, 10, 12).unwrap();
    }

    fn sign_out(
        w: &World,
        id: &str,
        device: DeviceId,
        person: PersonId,
        at: i64,
        booking_id: Option<i64>,
    ) -> Option<BookingId> {
        let kiosk = registry::insert_kiosk(&w.conn, id, id, t(0)).unwrap();
        let event = KioskEvent {
            event_id: id.into(),
            seq: 1,
            at: t(at),
            reader: "office-1".into(),
            kind: KioskEventKind::SignedOut {
                device_id: device.0,
                person_id: person.0,
                due_back: t(at + 2),
                booking_id,
            },
        };
        custody::record_event(&w.conn, kiosk, &event, t(at), None).unwrap();
        custody::open_sessions(&w.conn)
            .unwrap()
            .into_iter()
            .find(|s| s.device_id == device)
            .unwrap()
            .booking_id
    }

    #[test]
    fn a_sign_out_is_filed_under_the_holders_booking_for_that_device_or_any_device() {
        let mut w = world();
        let any = w.book(w.staff, None, 1, 3).unwrap();
        let ipad_only = w.book(w.other_staff, Some(w.ipad), 1, 3).unwrap();
        // The server matches by itself when the kiosk names no booking (an older kiosk).
        assert_eq!(sign_out(&w, "k1", w.camera, w.staff, 2, None), Some(any.id));
        // The other holder's booking is for the iPad only.
        w.conn
            .execute("UPDATE custody_sessions SET returned_at = out_at", [])
            .unwrap();
        assert_eq!(sign_out(&w, "k2", w.camera, w.other_staff, 2, None), None);
        assert_eq!(
            sign_out(&w, "k3", w.ipad, w.other_staff, 2, None),
            Some(ipad_only.id)
        );
        // The kiosk's own match stands if the booking is the holder's, even if the kiosk
        // decided from an older roster; a booking of someone else is not taken.
        w.conn
            .execute("UPDATE custody_sessions SET returned_at = out_at", [])
            .unwrap();
        assert_eq!(
            sign_out(&w, "k4", w.camera, w.staff, 5, Some(any.id.0)),
            Some(any.id)
        );
        w.conn
            .execute("UPDATE custody_sessions SET returned_at = out_at", [])
            .unwrap();
        assert_eq!(
            sign_out(&w, "k5", w.camera, w.staff, 5, Some(ipad_only.id.0)),
            None
        );
        assert_eq!(
            sign_out(&w, "k6", w.ipad, w.other_staff, 5, Some(424242)),
            None
        );
    }

    #[test]
    fn a_group_is_renamed_and_archived_only_once_its_bookings_are_over_or_cancelled() {
        let mut w = world();
        let other = create_group(&mut w.conn, "Beamish trip", "test", None, t(0)).unwrap();
        let clash = update_group(
            &mut w.conn,
            other,
            Some("l2 construction"),
            None,
            "test",
            t(0),
        );
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
        update_group(
            &mut w.conn,
            w.group,
            Some("L2 Construction (Tue)"),
            None,
            "test",
            t(0),
        )
        .unwrap();
        assert_eq!(
            groups::group(&w.conn, w.group).unwrap().name,
            "L2 Construction (Tue)"
        );

        let booking = w.book(w.staff, None, 1, 4).unwrap();
        let refused = update_group(&mut w.conn, w.group, None, Some(true), "test", t(0));
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        cancel_booking(&mut w.conn, booking.id, "test", t(0)).unwrap();
        update_group(&mut w.conn, w.group, None, Some(true), "test", t(0)).unwrap();
        assert!(
            groups::groups(&w.conn, false)
                .unwrap()
                .iter()
                .all(|g| g.id != w.group)
        );
        assert!(
            groups::groups(&w.conn, true)
                .unwrap()
                .iter()
                .any(|g| g.id == w.group && g.archived)
        );
        // An archived group takes no bookings until it is back in use.
        assert!(matches!(
            w.book(w.staff, None, 5, 6),
            Err(StoreError::Conflict(_))
        ));
        update_group(&mut w.conn, w.group, None, Some(false), "test", t(0)).unwrap();
        w.book(w.staff, None, 5, 6).unwrap();
    }
}
