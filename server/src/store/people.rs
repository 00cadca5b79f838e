//! People, their consent forms, and partner organisations.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError, found};
use crate::consent::{ConsentForm, PersonFacts, RegisteredName};
use crate::domain::{ConsentId, ExternalRef, Name, PartnerId, PersonId, Role, Scopes, SignerKind};

/// A new or changed person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub ext_ref: ExternalRef,
    pub given_name: Name,
    pub family_name: Name,
    pub date_of_birth: Date,
    pub role: Role,
    pub vulnerable: bool,
    pub may_sign_out: bool,
}

/// A stored person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: PersonId,
    pub ext_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Date,
    pub role: Role,
    pub vulnerable: bool,
    pub may_sign_out: bool,
    /// Processing restricted (Article 18): used on no channel, not offered when tagging.
    pub restricted: bool,
    /// The day they left the organisation, if they have.
    pub left_on: Option<Date>,
    /// Erased: only the "erased person" placeholder is left of them.
    pub erased: bool,
}

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

/// A partner school or organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
}

pub(crate) fn parse_col<T: std::str::FromStr>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.get(idx)?;
    text.parse().map_err(|e: T::Err| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            e.to_string().into(),
        )
    })
}

pub(crate) fn parse_opt_col<T: std::str::FromStr>(
    row: &Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    let text: Option<String> = row.get(idx)?;
    text.map(|t| {
        t.parse().map_err(|e: T::Err| {
            rusqlite::Error::FromSqlConversionFailure(
                idx,
                rusqlite::types::Type::Text,
                e.to_string().into(),
            )
        })
    })
    .transpose()
}

const PERSON_COLS: &str = "id, ext_ref, given_name, family_name, date_of_birth, role, \
     vulnerable, may_sign_out, restricted, left_on, erased_at IS NOT NULL";

fn person_row(row: &Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: PersonId(row.get(0)?),
        ext_ref: row.get(1)?,
        given_name: row.get(2)?,
        family_name: row.get(3)?,
        date_of_birth: parse_col(row, 4)?,
        role: parse_col(row, 5)?,
        vulnerable: row.get(6)?,
        may_sign_out: row.get(7)?,
        restricted: row.get(8)?,
        left_on: parse_opt_col(row, 9)?,
        erased: row.get(10)?,
    })
}

/// Marks a person restricted, or lifts it.
pub fn set_restricted(conn: &Connection, id: PersonId, restricted: bool) -> Result<()> {
    let changed = conn.execute(
        "UPDATE people SET restricted = ?2 WHERE id = ?1",
        params![id.0, restricted],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "person",
            id: id.0,
        });
    }
    Ok(())
}

pub fn insert_person(conn: &Connection, person: &NewPerson, now: Timestamp) -> Result<PersonId> {
    conn.execute(
        "INSERT INTO people (ext_ref, given_name, family_name, date_of_birth, role, vulnerable, \
         may_sign_out, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            person.ext_ref.as_str(),
            person.given_name.as_str(),
            person.family_name.as_str(),
            person.date_of_birth.to_string(),
            person.role.as_str(),
            person.vulnerable,
            person.may_sign_out,
            now.to_string()
        ],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!(
                "a person with ref {} already exists",
                person.ext_ref
            ))
        }
        e => e.into(),
    })?;
    Ok(PersonId(conn.last_insert_rowid()))
}

pub fn update_person(
    conn: &Connection,
    id: PersonId,
    person: &NewPerson,
    now: Timestamp,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE people SET ext_ref = ?2, given_name = ?3, family_name = ?4, date_of_birth = ?5, \
         role = ?6, vulnerable = ?7, may_sign_out = ?8, updated_at = ?9 WHERE id = ?1",
        params![
            id.0,
            person.ext_ref.as_str(),
            person.given_name.as_str(),
            person.family_name.as_str(),
            person.date_of_birth.to_string(),
            person.role.as_str(),
            person.vulnerable,
            person.may_sign_out,
            now.to_string()
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "person",
            id: id.0,
        });
    }
    Ok(())
}

pub fn person(conn: &Connection, id: PersonId) -> Result<Person> {
    found(
        conn.query_row(
            &format!("SELECT {PERSON_COLS} FROM people WHERE id = ?1"),
            [id.0],
            person_row,
        ),
        "person",
        id.0,
    )
}

/// A person who was not erased: what every change to a person starts from (an erased
/// person's placeholder takes no forms, tags, badges or edits).
pub fn living(conn: &Connection, id: PersonId) -> Result<Person> {
    let found = person(conn, id)?;
    if found.erased {
        return Err(StoreError::Conflict(format!(
            "person #{id} was erased: nothing more can be recorded about them"
        )));
    }
    Ok(found)
}

pub fn person_by_ref(conn: &Connection, ext_ref: &str) -> Result<Option<Person>> {
    Ok(conn
        .query_row(
            &format!("SELECT {PERSON_COLS} FROM people WHERE ext_ref = ?1"),
            [ext_ref],
            person_row,
        )
        .optional()?)
}

/// People whose ref equals `query`, or whose names contain every word of it.
pub fn search(conn: &Connection, query: &str, limit: u32) -> Result<Vec<Person>> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| format!("%{}%", w.replace(['%', '_'], "")))
        .collect();
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people WHERE erased_at IS NULL ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE"
    ))?;
    let all = stmt
        .query_map([], person_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let query_lower = query.trim().to_lowercase();
    let matches = all
        .into_iter()
        .filter(|p| {
            if query_lower.is_empty() || p.ext_ref.to_lowercase() == query_lower {
                return true;
            }
            let haystack = format!("{} {}", p.given_name, p.family_name).to_lowercase();
            words
                .iter()
                .all(|w| haystack.contains(&w.trim_matches('%').to_lowercase()))
        })
        .take(limit as usize)
        .collect();
    Ok(matches)
}

/// Everyone's names, for the caption rule.
pub fn register_names(conn: &Connection) -> Result<Vec<RegisteredName>> {
    let mut stmt =
        conn.prepare("SELECT given_name, family_name FROM people WHERE erased_at IS NULL")?;
    let names = stmt
        .query_map([], |r| {
            Ok(RegisteredName {
                given_name: r.get(0)?,
                family_name: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
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
        signer: parse_col(row, 2)?,
        signer_name: row.get(3)?,
        signed_on: parse_col(row, 4)?,
        expires_on: parse_opt_col(row, 5)?,
        withdrawn_on: parse_opt_col(row, 6)?,
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
            now.to_string()
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

/// The form with the same person, signer and signing day, if stored.
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
                 signer_kind = ?2 AND signer_name = ?3 AND signed_on = ?4"
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

/// The facts the consent rules need about one person.
pub fn facts(conn: &Connection, id: PersonId) -> Result<PersonFacts> {
    let p = person(conn, id)?;
    let forms = consents_of(conn, id)?.iter().map(Consent::form).collect();
    Ok(PersonFacts {
        id: p.id,
        given_name: p.given_name,
        family_name: p.family_name,
        born: p.date_of_birth,
        role: p.role,
        vulnerable: p.vulnerable,
        restricted: p.restricted,
        forms,
    })
}

pub fn insert_partner(conn: &Connection, name: &str, now: Timestamp) -> Result<PartnerId> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "a partner organisation needs a name of 1 to 200 printable characters".into(),
        ));
    }
    conn.execute(
        "INSERT INTO partner_orgs (name, created_at) VALUES (?1, ?2)",
        params![name, now.to_string()],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!("partner organisation {name:?} already exists"))
        }
        e => e.into(),
    })?;
    Ok(PartnerId(conn.last_insert_rowid()))
}

pub fn partners(conn: &Connection) -> Result<Vec<Partner>> {
    let mut stmt =
        conn.prepare("SELECT id, name FROM partner_orgs ORDER BY name COLLATE NOCASE")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Partner {
                id: PartnerId(r.get(0)?),
                name: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn partner_by_name(conn: &Connection, name: &str) -> Result<Option<Partner>> {
    Ok(conn
        .query_row(
            "SELECT id, name FROM partner_orgs WHERE name = ?1",
            [name.trim()],
            |r| {
                Ok(Partner {
                    id: PartnerId(r.get(0)?),
                    name: r.get(1)?,
                })
            },
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;
    use jiff::civil::date;

    fn now() -> Timestamp {
        Timestamp::from_second(1_764_000_000).unwrap()
    }

    pub(crate) fn sample(ext_ref: &str) -> NewPerson {
        NewPerson {
            ext_ref: ExternalRef::parse(ext_ref).unwrap(),
            given_name: Name::parse("Robin").unwrap(),
            family_name: Name::parse("Okafor").unwrap(),
            date_of_birth: date(2010, 4, 1),
            role: Role::Learner,
            vulnerable: false,
            may_sign_out: false,
        }
    }

    #[test]
    fn a_person_with_partner_scoped_consent_round_trips() {
        let conn = open_in_memory().unwrap();
        let school = insert_partner(&conn, "Hillside School", now()).unwrap();
        let id = insert_person(&conn, &sample("L001"), now()).unwrap();
        let consent = NewConsent {
            person_id: id,
            signer: SignerKind::Parent,
            signer_name: "A Parent".into(),
            signed_on: date(2026, 9, 1),
            expires_on: None,
            withdrawn_on: None,
            scopes: Scopes {
                internal: true,
                partners: vec![school],
                website: false,
                social: false,
            },
            evidence_path: None,
            source: "api".into(),
        };
        let cid = insert_consent(&conn, &consent, now()).unwrap();
        let facts = facts(&conn, id).unwrap();
        assert_eq!(facts.forms.len(), 1);
        assert_eq!(facts.forms[0].id, cid);
        assert_eq!(facts.forms[0].scopes.partners, vec![school]);
        assert!(!facts.forms[0].scopes.website);
    }

    #[test]
    fn duplicate_refs_and_partners_are_conflicts() {
        let conn = open_in_memory().unwrap();
        insert_person(&conn, &sample("L001"), now()).unwrap();
        assert!(matches!(
            insert_person(&conn, &sample("L001"), now()),
            Err(StoreError::Conflict(_))
        ));
        insert_partner(&conn, "Hillside School", now()).unwrap();
        assert!(matches!(
            insert_partner(&conn, "hillside school", now()),
            Err(StoreError::Conflict(_))
        ));
    }

    #[test]
    fn withdrawal_is_recorded_once_and_not_before_signing() {
        let conn = open_in_memory().unwrap();
        let id = insert_person(&conn, &sample("L001"), now()).unwrap();
        let cid = insert_consent(
            &conn,
            &NewConsent {
                person_id: id,
                signer: SignerKind::Parent,
                signer_name: "A Parent".into(),
                signed_on: date(2026, 9, 1),
                expires_on: None,
                withdrawn_on: None,
                scopes: Scopes::default(),
                evidence_path: None,
                source: "api".into(),
            },
            now(),
        )
        .unwrap();
        assert!(matches!(
            withdraw_consent(&conn, cid, date(2026, 8, 1)),
            Err(StoreError::Invalid(_))
        ));
        let withdrawn = withdraw_consent(&conn, cid, date(2026, 11, 1)).unwrap();
        assert_eq!(withdrawn.withdrawn_on, Some(date(2026, 11, 1)));
        assert!(matches!(
            withdraw_consent(&conn, cid, date(2026, 11, 2)),
            Err(StoreError::Conflict(_))
        ));
    }

    #[test]
    fn search_finds_by_ref_or_by_every_word_of_the_name() {
        let conn = open_in_memory().unwrap();
        insert_person(&conn, &sample("L001"), now()).unwrap();
        assert_eq!(search(&conn, "l001", 10).unwrap().len(), 1);
        assert_eq!(search(&conn, "robin oka", 10).unwrap().len(), 1);
        assert_eq!(search(&conn, "robin smith", 10).unwrap().len(), 0);
    }
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

#[cfg(test)]
mod correction_tests {
    use super::*;
    use crate::store::open_in_memory;
    use jiff::civil::date;

    #[test]
    fn a_correction_changes_the_signer_name_and_expiry_but_not_what_was_granted() {
        let conn = open_in_memory().unwrap();
        let now = Timestamp::from_second(1_764_000_000).unwrap();
        let person = insert_person(&conn, &super::tests::sample("L001"), now).unwrap();
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
