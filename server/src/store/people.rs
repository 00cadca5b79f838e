//! People: who they are, their flags (vulnerable, restricted, left, erased), and the
//! facts the consent rules need about them (with their forms from `consents`).

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError, found};
use crate::domain::{ExternalRef, Name, PersonId, Role};
use crate::rules::consent::{PersonFacts, RegisteredName};

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

const PERSON_COLS: &str = "id, ext_ref, given_name, family_name, date_of_birth, role, \
     vulnerable, may_sign_out, restricted, left_on, erased_at IS NOT NULL";

fn person_row(row: &Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: PersonId(row.get(0)?),
        ext_ref: row.get(1)?,
        given_name: row.get(2)?,
        family_name: row.get(3)?,
        date_of_birth: row.get(4)?,
        role: row.get(5)?,
        vulnerable: row.get(6)?,
        may_sign_out: row.get(7)?,
        restricted: row.get(8)?,
        left_on: row.get(9)?,
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
            now
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
            now
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

/// How many people are on the register (erased people are not), counted up to `at_most`:
/// enough to tell a short register from a long one without counting a long one through.
pub fn living_count(conn: &Connection, at_most: usize) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM people WHERE erased_at IS NULL LIMIT ?1)",
        [i64::try_from(at_most).unwrap_or(i64::MAX)],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// People whose ref starts with `query` (any case), or whose names contain every word
/// of it, in name order, at most `limit`.
///
/// On a large register the database does the finding: the ref by its prefix through an
/// index, the names by walking the name index until `limit` are found. SQLite folds case
/// for ASCII only, so a query with other letters is matched in full here instead (the
/// same answer, slower); every candidate is checked here again either way.
pub fn search(conn: &Connection, query: &str, limit: u32) -> Result<Vec<Person>> {
    search_in(conn, None, query, limit)
}

/// A page of the register (of one site; `None`: of every site), by family and given
/// name: the `limit` people after the person `after` (the last of the previous page).
/// Keyset paging: as quick for the last page of 100,000 as for the first.
pub fn page_in(
    conn: &Connection,
    site: Option<i64>,
    after: Option<PersonId>,
    limit: u32,
) -> Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people p WHERE erased_at IS NULL \
           AND (?1 IS NULL OR site_id = ?1) \
           AND (?2 IS NULL OR (family_name COLLATE NOCASE, given_name COLLATE NOCASE, id) > \
                (SELECT family_name, given_name, id FROM people WHERE id = ?2)) \
         ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE, id LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![site, after.map(|a| a.0), limit], person_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// [`search`] among the people of one site (`None`: of every site).
pub fn search_in(
    conn: &Connection,
    site: Option<i64>,
    query: &str,
    limit: u32,
) -> Result<Vec<Person>> {
    // A site's id is a number from the database, never typed text.
    let scope = site.map_or(String::new(), |s| format!(" AND site_id = {s}"));
    let query_lower = query.trim().to_lowercase();
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.replace(['%', '_'], "").to_lowercase())
        .collect();
    let order = "ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE";
    let limit_sql = i64::from(limit);
    let mut found: Vec<Person> = if query_lower.is_empty() || !query.is_ascii() {
        let mut stmt = conn.prepare(&format!(
            "SELECT {PERSON_COLS} FROM people WHERE erased_at IS NULL{scope} {order}"
        ))?;
        stmt.query_map([], person_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        // A ref's start matches as typed, wildcards included; a name's words without them.
        let literal = |w: &str| {
            w.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        };
        let escape = |w: &str| w.replace('\\', "\\\\").replace(['%', '_'], "");
        let mut by_ref = conn.prepare_cached(&format!(
            "SELECT {PERSON_COLS} FROM people WHERE erased_at IS NULL{scope} \
             AND ext_ref LIKE ?1 ESCAPE '\\' {order} LIMIT ?2"
        ))?;
        let mut found = by_ref
            .query_map(
                params![format!("{}%", literal(query.trim())), limit_sql],
                person_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !words.is_empty() {
            let conditions: Vec<String> = (0..words.len())
                .map(|i| {
                    format!(
                        "(given_name || ' ' || family_name) LIKE '%' || ?{} || '%' ESCAPE '\\'",
                        i + 2
                    )
                })
                .collect();
            let mut by_name = conn.prepare_cached(&format!(
                "SELECT {PERSON_COLS} FROM people WHERE erased_at IS NULL{scope} AND {} {order} LIMIT ?1",
                conditions.join(" AND ")
            ))?;
            let mut values: Vec<rusqlite::types::Value> = vec![limit_sql.into()];
            values.extend(words.iter().map(|w| escape(w).into()));
            found.extend(
                by_name
                    .query_map(rusqlite::params_from_iter(values), person_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
        }
        // The order the database gives (NOCASE folds ASCII letters only).
        found.sort_by(|a, b| {
            let key = |p: &Person| {
                (
                    p.family_name.to_ascii_lowercase(),
                    p.given_name.to_ascii_lowercase(),
                )
            };
            key(a).cmp(&key(b)).then(a.id.0.cmp(&b.id.0))
        });
        found.dedup_by_key(|p| p.id);
        found
    };
    found.retain(|p| matches(p, query));
    found.truncate(limit as usize);
    Ok(found)
}

/// Whether `query` finds `person`: their ref starts with it (any case), or their names
/// contain every word of it (any case; `%` and `_` typed are ignored).
pub fn matches(person: &Person, query: &str) -> bool {
    let query_lower = query.trim().to_lowercase();
    if query_lower.is_empty() || person.ext_ref.to_lowercase().starts_with(&query_lower) {
        return true;
    }
    let haystack = format!("{} {}", person.given_name, person.family_name).to_lowercase();
    query
        .split_whitespace()
        .map(|w| w.replace(['%', '_'], "").to_lowercase())
        .all(|w| haystack.contains(w.as_str()))
}

/// The registered names `caption` could contain, for the caption rule (C8), which checks
/// them exactly: nobody for a caption without words; for a caption of plain (ASCII)
/// letters, the people whose family name holds one of its words, found by the database
/// (the rule needs the whole family name among the words, so nobody it could find is
/// left out); for any other caption, everyone.
pub fn register_names(conn: &Connection, caption: &str) -> Result<Vec<RegisteredName>> {
    let row = |r: &Row<'_>| {
        Ok(RegisteredName {
            given_name: r.get(0)?,
            family_name: r.get(1)?,
        })
    };
    let mut pieces: Vec<String> = caption
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    pieces.sort();
    pieces.dedup();
    if pieces.is_empty() {
        return Ok(Vec::new());
    }
    if pieces.len() > 64 || !caption.is_ascii() {
        let mut stmt =
            conn.prepare("SELECT given_name, family_name FROM people WHERE erased_at IS NULL")?;
        return Ok(stmt
            .query_map([], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?);
    }
    let any: Vec<String> = (1..=pieces.len())
        .map(|i| format!("family_name LIKE '%' || ?{i} || '%'"))
        .collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT given_name, family_name FROM people WHERE erased_at IS NULL AND ({})",
        any.join(" OR ")
    ))?;
    Ok(stmt
        .query_map(rusqlite::params_from_iter(&pieces), row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The facts the consent rules need about one person.
pub fn facts(conn: &Connection, id: PersonId) -> Result<PersonFacts> {
    let p = person(conn, id)?;
    let forms = super::consents::consents_of(conn, id)?
        .iter()
        .map(super::consents::Consent::form)
        .collect();
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{Scopes, SignerKind};
    use crate::store::consents::*;
    use crate::store::open_in_memory;
    use crate::store::partners::*;
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

    #[test]
    fn a_caption_is_checked_against_everyone_whose_family_name_it_could_hold() {
        let conn = open_in_memory().unwrap();
        for (r, given, family) in [
            ("L1", "Robin", "Okafor"),
            ("L2", "Grace", "O'Neill"),
            ("L3", "Ana", "Smith-Jones"),
            ("L4", "Ólöf", "Ólafsdóttir"),
        ] {
            let new = NewPerson {
                given_name: Name::parse(given).unwrap(),
                family_name: Name::parse(family).unwrap(),
                ..sample(r)
            };
            insert_person(&conn, &new, now()).unwrap();
        }
        let families = |caption: &str| -> Vec<String> {
            let mut names: Vec<String> = register_names(&conn, caption)
                .unwrap()
                .into_iter()
                .map(|n| n.family_name)
                .collect();
            names.sort();
            names
        };
        assert!(families("").is_empty());
        assert!(families(" -- ").is_empty());
        assert_eq!(families("Robin OKAFOR at the forge"), ["Okafor"]);
        // Split at the apostrophe: "o" is in other names too; the rule decides on them.
        assert!(families("with grace o'neill").contains(&"O'Neill".to_owned()));
        assert_eq!(families("Ana Smith-Jones"), ["Smith-Jones"]);
        assert!(families("the forge, Tuesday").is_empty());
        // Letters beyond ASCII: everyone, and the rule decides.
        assert_eq!(families("Ólöf at the forge").len(), 4);
    }

    #[test]
    fn search_answers_as_a_full_scan_would_in_name_order_within_the_limit() {
        let conn = open_in_memory().unwrap();
        let person = |r: &str, given: &str, family: &str| {
            insert_person(
                &conn,
                &NewPerson {
                    given_name: Name::parse(given).unwrap(),
                    family_name: Name::parse(family).unwrap(),
                    ..sample(r)
                },
                now(),
            )
            .unwrap()
        };
        person("L001", "Robin", "Okafor");
        person("L002", "Amira", "Hassan");
        person("L010", "Sam", "Lee");
        person("X100", "Leah", "Sampson");
        person("S_1", "Ólöf", "Ólafsdóttir");
        person("L100", "Grace", "O'Neill");
        let erased = person("L003", "Robin", "Erased");
        conn.execute(
            "UPDATE people SET erased_at = '2026-11-01T00:00:00Z' WHERE id = ?1",
            [erased.0],
        )
        .unwrap();
        let refs = |q: &str, limit: u32| -> Vec<String> {
            search(&conn, q, limit)
                .unwrap()
                .into_iter()
                .map(|p| p.ext_ref.to_string())
                .collect()
        };
        let cases: &[(&str, u32, &[&str])] = &[
            // A ref's start in any case; in name order (Hassan, Lee, Okafor).
            ("l0", 10, &["L002", "L010", "L001"]),
            ("L01", 10, &["L010"]),
            ("l0", 2, &["L002", "L010"]),
            // Every word, anywhere in the names, any case; erased people never.
            ("robin", 10, &["L001"]),
            ("OKA rob", 10, &["L001"]),
            // "sam" is in Sam Lee's and Leah Sampson's names: both, in name order.
            ("sam", 10, &["L010", "X100"]),
            // Letters beyond ASCII fold too.
            ("ólafsdóttir", 10, &["S_1"]),
            ("ÓLÖF", 10, &["S_1"]),
            // Wildcards typed are ignored, not obeyed; an apostrophe is a letter.
            ("s_1", 10, &["S_1"]),
            // Name order as the database keeps it: case folded for ASCII letters, the
            // rest by their bytes (an accented capital after Z).
            ("%", 10, &["L002", "L010", "L100", "L001", "X100", "S_1"]),
            ("o'neill", 10, &["L100"]),
            ("nobody", 10, &[]),
            ("", 3, &["L002", "L010", "L100"]),
        ];
        for (q, limit, expected) in cases {
            assert_eq!(refs(q, *limit), *expected, "{q:?} limit {limit}");
        }
    }
}
