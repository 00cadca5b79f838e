//! Signed consent forms: recorded, corrected, withdrawn, with their scans.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError, found};
use crate::domain::{ConsentId, PartnerId, PersonId, Scopes, SignerKind};
use crate::rules::consent::ConsentForm;

/// A new consent form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub person_id: PersonId,
    pub signer: SignerKind,
    pub signer_name: String,
    pub signed_on: Date,
    pub expires_on: Option<Date>,
    pub withdrawn_on: Option<Date>,
    pub scopes: Scopes,
    pub evidence_path: Option<String>,
    /// Where it came from: `api`, `csv:<file sha256>:<line>`.
    pub source: String,
}

/// A stored consent form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub id: ConsentId,
    pub person_id: PersonId,
    pub signer: SignerKind,
    pub signer_name: String,
    pub signed_on: Date,
    pub expires_on: Option<Date>,
    pub withdrawn_on: Option<Date>,
    pub scopes: Scopes,
    /// Where the scan is stored: never sent (an API answer says only whether there is one).
    #[serde(skip_serializing)]
    pub evidence_path: Option<String>,
    pub source: String,
}

impl Consent {
    pub fn form(&self) -> ConsentForm {
        ConsentForm {
            id: self.id,
            signer: self.signer,
            signed_on: self.signed_on,
            expires_on: self.expires_on,
            withdrawn_on: self.withdrawn_on,
            scopes: self.scopes.clone(),
        }
    }
}

const CONSENT_COLS: &str = "id, person_id, signer_kind, signer_name, signed_on, expires_on, \
     withdrawn_on, internal, website, social, evidence_path, source";

fn consent_row(conn: &Connection, row: &Row<'_>) -> rusqlite::Result<Consent> {
    let id: i64 = row.get(0)?;
    let mut partners = conn.prepare_cached(
        "SELECT partner_id FROM consent_partners WHERE consent_id = ?1 ORDER BY partner_id",
    )?;
    let partner_ids = partners
        .query_map([id], |r| Ok(PartnerId(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Consent {
        id: ConsentId(id),
        person_id: PersonId(row.get(1)?),
        signer: row.get(2)?,
        signer_name: row.get(3)?,
        signed_on: row.get(4)?,
        expires_on: row.get(5)?,
        withdrawn_on: row.get(6)?,
        scopes: Scopes {
            internal: row.get(7)?,
            partners: partner_ids,
            website: row.get(8)?,
            social: row.get(9)?,
        },
        evidence_path: row.get(10)?,
        source: row.get(11)?,
    })
}

pub fn insert_consent(
    conn: &Connection,
    consent: &NewConsent,
    now: Timestamp,
) -> Result<ConsentId> {
    if consent.expires_on.is_some_and(|e| e <= consent.signed_on) {
        return Err(StoreError::Invalid(
            "expires_on must be after signed_on".into(),
        ));
    }
    if consent.withdrawn_on.is_some_and(|w| w < consent.signed_on) {
        return Err(StoreError::Invalid(
            "withdrawn_on cannot be before signed_on".into(),
        ));
    }
    conn.execute(
        "INSERT INTO consent_records (person_id, signer_kind, signer_name, signed_on, expires_on, \
         withdrawn_on, internal, website, social, evidence_path, source, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            consent.person_id.0,
            consent.signer.as_str(),
            consent.signer_name,
            consent.signed_on.to_string(),
            consent.expires_on.map(|d| d.to_string()),
            consent.withdrawn_on.map(|d| d.to_string()),
            consent.scopes.internal,
            consent.scopes.website,
            consent.scopes.social,
            consent.evidence_path,
            consent.source,
            now
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == 787 => StoreError::NotFound {
            what: "person",
            id: consent.person_id.0,
        },
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(
                "this person already has a form from this signer signed on that date".into(),
            )
        }
        e => e.into(),
    })?;
    let id = ConsentId(conn.last_insert_rowid());
    for partner in &consent.scopes.partners {
        conn.execute(
            "INSERT OR IGNORE INTO consent_partners (consent_id, partner_id) VALUES (?1, ?2)",
            params![id.0, partner.0],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.extended_code == 787 => {
                StoreError::NotFound {
                    what: "partner organisation",
                    id: partner.0,
                }
            }
            e => e.into(),
        })?;
    }
    Ok(id)
}

pub fn consent(conn: &Connection, id: ConsentId) -> Result<Consent> {
    found(
        conn.query_row(
            &format!("SELECT {CONSENT_COLS} FROM consent_records WHERE id = ?1"),
            [id.0],
            |r| consent_row(conn, r),
        ),
        "consent record",
        id.0,
    )
}

/// The paper form with the same person, signer and signing day, if stored (forms given
/// online are not matched: a person may answer online more than once a day).
pub fn consent_by_key(
    conn: &Connection,
    person: PersonId,
    signer: SignerKind,
    signer_name: &str,
    signed_on: Date,
) -> Result<Option<Consent>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {CONSENT_COLS} FROM consent_records WHERE person_id = ?1 AND \
                 signer_kind = ?2 AND signer_name = ?3 AND signed_on = ?4 \
                 AND source NOT LIKE 'online:%'"
            ),
            params![
                person.0,
                signer.as_str(),
                signer_name,
                signed_on.to_string()
            ],
            |r| consent_row(conn, r),
        )
        .optional()?)
}

pub fn consents_of(conn: &Connection, person: PersonId) -> Result<Vec<Consent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CONSENT_COLS} FROM consent_records WHERE person_id = ?1 ORDER BY signed_on, id"
    ))?;
    let rows = stmt
        .query_map([person.0], |r| consent_row(conn, r))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records a withdrawal dated `on`. A form already withdrawn keeps its earlier date.
pub fn withdraw_consent(conn: &Connection, id: ConsentId, on: Date) -> Result<Consent> {
    let current = consent(conn, id)?;
    if on < current.signed_on {
        return Err(StoreError::Invalid(format!(
            "a withdrawal on {on} cannot come before the form was signed ({})",
            current.signed_on
        )));
    }
    if let Some(existing) = current.withdrawn_on {
        return Err(StoreError::Conflict(format!(
            "consent record #{} was already withdrawn on {existing}",
            id.0
        )));
    }
    conn.execute(
        "UPDATE consent_records SET withdrawn_on = ?2 WHERE id = ?1",
        params![id.0, on.to_string()],
    )?;
    consent(conn, id)
}

pub fn set_evidence(conn: &Connection, id: ConsentId, path: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE consent_records SET evidence_path = ?2 WHERE id = ?1",
        params![id.0, path],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "consent record",
            id: id.0,
        });
    }
    Ok(())
}

/// Corrects what was mistyped on a stored form: the signer's name and the expiry date.
/// What the form grants and when it was signed stay as recorded: a different answer is a
/// new form (or a withdrawal).
pub fn correct_consent(
    conn: &Connection,
    id: ConsentId,
    signer_name: &str,
    expires_on: Option<Date>,
) -> Result<Consent> {
    let current = consent(conn, id)?;
    let signer_name = signer_name.trim();
    if current.signer.is_on_behalf() && signer_name.is_empty() {
        return Err(StoreError::Invalid(
            "the signer's name is required when a parent, guardian or carer signed".into(),
        ));
    }
    if expires_on.is_some_and(|e| e <= current.signed_on) {
        return Err(StoreError::Invalid(
            "expires_on must be after signed_on".into(),
        ));
    }
    conn.execute(
        "UPDATE consent_records SET signer_name = ?2, expires_on = ?3 WHERE id = ?1",
        params![id.0, signer_name, expires_on.map(|d| d.to_string())],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(
                "this person already has a form from this signer signed on that date".into(),
            )
        }
        e => e.into(),
    })?;
    consent(conn, id)
}

/// The paths of every scanned form kept, relative to the data directory
/// (`evidence/<name>`).
pub fn evidence_paths(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT evidence_path FROM consent_records WHERE evidence_path IS NOT NULL ORDER BY id",
    )?;
    let paths = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(paths)
}

#[cfg(test)]
mod correction_tests {
    use super::*;
    use crate::store::open_in_memory;
    use crate::store::people::insert_person;
    use jiff::civil::date;

    #[test]
    fn a_correction_changes_the_signer_name_and_expiry_but_not_what_was_granted() {
        let conn = open_in_memory().unwrap();
        let now = Timestamp::from_second(1_764_000_000).unwrap();
        let person =
            insert_person(&conn, &crate::store::people::tests::sample("L001"), now).unwrap();
        let id = insert_consent(
            &conn,
            &NewConsent {
                person_id: person,
                signer: SignerKind::Parent,
                signer_name: "A Parnet".into(),
                signed_on: date(2026, 9, 1),
                expires_on: None,
                withdrawn_on: None,
                scopes: Scopes {
                    internal: true,
                    ..Scopes::default()
                },
                evidence_path: None,
                source: "api".into(),
            },
            now,
        )
        .unwrap();
        let fixed = correct_consent(&conn, id, "A Parent", Some(date(2027, 8, 31))).unwrap();
        assert_eq!(fixed.signer_name, "A Parent");
        assert_eq!(fixed.expires_on, Some(date(2027, 8, 31)));
        assert!(fixed.scopes.internal && !fixed.scopes.website);
        assert!(matches!(
            correct_consent(&conn, id, "", None),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            correct_consent(&conn, id, "A Parent", Some(date(2026, 8, 1))),
            Err(StoreError::Invalid(_))
        ));
    }
}
