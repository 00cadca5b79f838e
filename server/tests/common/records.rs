//! Records an admin would have set up before a test's day begins, written through the
//! store's own functions into a data directory the real server then opens.
#![allow(dead_code)] // each suite uses part of it

use consentcam::domain::{PersonId, Scopes, SignerKind};
use consentcam::store::consents;
use jiff::Timestamp;
use rusqlite::Connection;

/// A parent's form for `person`, signed 30 days before `now`, saying yes to internal use
/// and the website (not social media, no partner). Returns its id.
pub fn website_form(conn: &Connection, person: PersonId, source: &str, now: Timestamp) -> i64 {
    consents::insert_consent(
        conn,
        &consents::NewConsent {
            person_id: person,
            signer: SignerKind::Parent,
            signer_name: "A Parent".into(),
            signed_on: now
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .checked_sub(jiff::Span::new().days(30))
                .unwrap(),
            expires_on: None,
            withdrawn_on: None,
            scopes: Scopes {
                internal: true,
                partners: vec![],
                website: true,
                social: false,
            },
            evidence_path: None,
            source: source.into(),
        },
        now,
    )
    .unwrap()
    .0
}

/// An account for each `(user name, password, role)`.
pub fn accounts(
    conn: &Connection,
    accounts: &[(&str, &str, consentcam::domain::AccountRole)],
    now: Timestamp,
) {
    for (user, pass, role) in accounts {
        consentcam::store::registry::insert_account(
            conn,
            user,
            &consentcam::infra::password::hash(pass).unwrap(),
            *role,
            None,
            now,
        )
        .unwrap();
    }
}

/// A person on the register, born on `born` (`YYYY-MM-DD`); a member of staff may sign
/// devices out.
pub fn person(
    conn: &Connection,
    reference: &str,
    (given, family): (&str, &str),
    role: consentcam::domain::Role,
    born: &str,
    now: Timestamp,
) -> PersonId {
    use consentcam::domain::{ExternalRef, Name, Role};
    consentcam::store::people::insert_person(
        conn,
        &consentcam::store::people::NewPerson {
            ext_ref: ExternalRef::parse(reference).unwrap(),
            given_name: Name::parse(given).unwrap(),
            family_name: Name::parse(family).unwrap(),
            date_of_birth: born.parse().unwrap(),
            role,
            vulnerable: false,
            may_sign_out: role == Role::Staff,
        },
        now,
    )
    .unwrap()
}

/// A member of staff with an active badge of tag `badge`.
pub fn staff_with_badge(
    conn: &Connection,
    reference: &str,
    name: (&str, &str),
    badge: &str,
    now: Timestamp,
) -> PersonId {
    let staff = person(
        conn,
        reference,
        name,
        consentcam::domain::Role::Staff,
        "1990-01-01",
        now,
    );
    consentcam::store::registry::enrol_badge(
        conn,
        &consentcam_wire::TagUid::parse(badge).unwrap(),
        staff,
        now,
    )
    .unwrap();
    staff
}

/// A Canon camera on the register (`model` as its EXIF says), lent for four hours at a
/// time, with the RFID tag `tag`. Returns its id.
pub fn camera(
    conn: &Connection,
    label: &str,
    model: &str,
    serial: &str,
    tag: &str,
    now: Timestamp,
) -> i64 {
    consentcam::store::registry::insert_device(
        conn,
        &consentcam::store::registry::NewDevice {
            label: label.into(),
            make: "Canon".into(),
            model: model.into(),
            serial: serial.into(),
            tag_uid: consentcam_wire::TagUid::parse(tag).unwrap(),
            loan_minutes: 240,
        },
        now,
    )
    .unwrap()
    .0
}
