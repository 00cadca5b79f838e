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
