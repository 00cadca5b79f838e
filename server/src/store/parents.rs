//! Consent answered online: a person's contacts, the wording of the form (every version
//! kept), personal links (only their tokens' hashes), the visits a link opens, and the
//! evidence of each answer given online.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError, found};
use crate::domain::{ConsentId, PersonId, SignerKind};
use crate::rules::parents::{LinkFacts, Purpose, Wording};

/// Who answers for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub person_id: PersonId,
    pub name: String,
    pub relationship: SignerKind,
    pub email: String,
}

/// A contact to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub name: String,
    pub relationship: SignerKind,
    pub email: String,
}

fn contact_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        person_id: PersonId(r.get(1)?),
        name: r.get(2)?,
        relationship: r.get(3)?,
        email: r.get(4)?,
    })
}

const CONTACT_COLS: &str = "id, person_id, name, relationship, email";

/// Adds a contact to a person; the same address twice for one person is one contact
/// (its name and relationship are updated). Returns its id.
///
/// # Errors
/// An empty name or a malformed address (`Invalid`); no such person (`NotFound`).
pub fn add_contact(
    conn: &Connection,
    person: PersonId,
    contact: &NewContact,
    now: Timestamp,
) -> Result<i64> {
    let name = contact.name.trim();
    let email = contact.email.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::Invalid(
            "a contact needs a name (at most 200 characters)".into(),
        ));
    }
    super::registry::check_email(email)?;
    let existing: Option<i64> = conn
        .query_row(
            "SELECT id FROM person_contacts WHERE person_id = ?1 AND email = ?2 COLLATE NOCASE \
             AND removed_at IS NULL",
            params![person.0, email],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        conn.execute(
            "UPDATE person_contacts SET name = ?2, relationship = ?3 WHERE id = ?1",
            params![id, name, contact.relationship],
        )?;
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO person_contacts (person_id, name, relationship, email, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![person.0, name, contact.relationship, email, now],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == 787 => StoreError::NotFound {
            what: "person",
            id: person.0,
        },
        e => e.into(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// A person's contacts (not those removed), in the order added.
pub fn contacts_of(conn: &Connection, person: PersonId) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLS} FROM person_contacts WHERE person_id = ?1 \
         AND removed_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([person.0], contact_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One contact of `person` (removed ones included: evidence points to them).
pub fn contact(conn: &Connection, person: PersonId, id: i64) -> Result<Contact> {
    found(
        conn.query_row(
            &format!("SELECT {CONTACT_COLS} FROM person_contacts WHERE id = ?2 AND person_id = ?1"),
            params![person.0, id],
            contact_row,
        ),
        "contact",
        id,
    )
}

/// The contacts (not removed) with this address, of people not erased.
pub fn contacts_with_address(conn: &Connection, email: &str) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.person_id, c.name, c.relationship, c.email FROM person_contacts c \
         JOIN people p ON p.id = c.person_id WHERE c.email = ?1 COLLATE NOCASE \
         AND c.removed_at IS NULL AND p.erased_at IS NULL ORDER BY c.id",
    )?;
    let rows = stmt
        .query_map([email.trim()], contact_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Removes a contact of `person`: asked nothing more; its links stop working.
pub fn remove_contact(conn: &Connection, person: PersonId, id: i64, now: Timestamp) -> Result<()> {
    let changed = conn.execute(
        "UPDATE person_contacts SET removed_at = ?3 WHERE id = ?2 AND person_id = ?1 \
         AND removed_at IS NULL",
        params![person.0, id, now],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "contact",
            id,
        });
    }
    Ok(())
}

/// The wording in use (the latest saved), with its id; `None` before any was saved.
pub fn current_wording(conn: &Connection) -> Result<Option<(i64, Wording)>> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, body FROM consent_wordings ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(id, body)| Ok((id, parse_wording(id, &body)?)))
        .transpose()
}

fn parse_wording(id: i64, body: &str) -> Result<Wording> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("consent wording #{id}: {e}")))
}

/// One version of the wording, with its hash.
pub fn wording(conn: &Connection, id: i64) -> Result<(Wording, String)> {
    let (body, hash): (String, String) = found(
        conn.query_row(
            "SELECT body, sha256 FROM consent_wordings WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ),
        "consent wording",
        id,
    )?;
    Ok((parse_wording(id, &body)?, hash))
}

/// Saves `wording` as the version in use (the version in use already says it: nothing
/// new). Returns its id.
pub fn save_wording(conn: &Connection, wording: &Wording, by: &str, now: Timestamp) -> Result<i64> {
    if let Some((id, current)) = current_wording(conn)?
        && &current == wording
    {
        return Ok(id);
    }
    let (body, hash) = wording.stored();
    conn.execute(
        "INSERT INTO consent_wordings (body, sha256, created_by, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![body, hash, by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A personal link to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink<'a> {
    pub token_hash: &'a [u8],
    pub person: PersonId,
    pub contact: i64,
    pub purpose: Purpose,
    /// `request`, `renewal`, `new_link` or `confirmation`.
    pub reason: &'a str,
    pub requested_by: &'a str,
    pub expires_at: Timestamp,
}

pub fn insert_link(conn: &Connection, link: &NewLink<'_>, now: Timestamp) -> Result<i64> {
    conn.execute(
        "INSERT INTO consent_links (token_hash, person_id, contact_id, purpose, reason, \
         requested_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            link.token_hash,
            link.person.0,
            link.contact,
            link.purpose.as_str(),
            link.reason,
            link.requested_by,
            now,
            link.expires_at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn set_link_mail(conn: &Connection, link: i64, mail: i64) -> Result<()> {
    conn.execute(
        "UPDATE consent_links SET mail_id = ?2 WHERE id = ?1",
        params![link, mail],
    )?;
    Ok(())
}

/// A stored link with what decides whether it may be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: i64,
    pub person: PersonId,
    pub contact: i64,
    pub purpose: Purpose,
    pub wrong_birth_dates: u32,
    pub facts: LinkFacts,
}

const LINK_COLS: &str = "l.id, l.person_id, l.contact_id, l.purpose, l.wrong_birth_dates, \
     l.expires_at, l.used_at IS NOT NULL, l.locked_at IS NOT NULL, \
     (c.removed_at IS NOT NULL OR p.erased_at IS NOT NULL)";

fn link_row(r: &Row<'_>) -> rusqlite::Result<Link> {
    let purpose: String = r.get(3)?;
    Ok(Link {
        id: r.get(0)?,
        person: PersonId(r.get(1)?),
        contact: r.get(2)?,
        purpose: Purpose::parse(&purpose).unwrap_or(Purpose::Answer),
        wrong_birth_dates: r.get(4)?,
        facts: LinkFacts {
            expires_at: r.get(5)?,
            used: r.get(6)?,
            locked: r.get(7)?,
            withdrawn_contact: r.get(8)?,
        },
    })
}

/// The link whose token hashes to `hash`, if any.
pub fn link_by_hash(conn: &Connection, hash: &[u8]) -> Result<Option<Link>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {LINK_COLS} FROM consent_links l JOIN person_contacts c \
                 ON c.id = l.contact_id JOIN people p ON p.id = l.person_id \
                 WHERE l.token_hash = ?1"
            ),
            [hash],
            link_row,
        )
        .optional()?)
}

pub fn link(conn: &Connection, id: i64) -> Result<Link> {
    found(
        conn.query_row(
            &format!(
                "SELECT {LINK_COLS} FROM consent_links l JOIN person_contacts c \
                 ON c.id = l.contact_id JOIN people p ON p.id = l.person_id WHERE l.id = ?1"
            ),
            [id],
            link_row,
        ),
        "consent link",
        id,
    )
}

/// Records that a visitor continued through the link (the first time only).
pub fn mark_opened(conn: &Connection, link: i64, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE consent_links SET opened_at = ?2 WHERE id = ?1 AND opened_at IS NULL",
        params![link, now],
    )?;
    Ok(())
}

/// Uses the link up (its answer is recorded); `false` if it already was.
pub fn mark_used(conn: &Connection, link: i64, now: Timestamp) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE consent_links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
        params![link, now],
    )? == 1)
}

/// Counts one more wrong date of birth on a link, locking it at `lock`; returns the count.
pub fn wrong_birth_date(conn: &Connection, link: i64, lock: bool, now: Timestamp) -> Result<u32> {
    conn.execute(
        "UPDATE consent_links SET wrong_birth_dates = wrong_birth_dates + 1, \
         locked_at = CASE WHEN ?2 THEN coalesce(locked_at, ?3) ELSE locked_at END WHERE id = ?1",
        params![link, lock, now],
    )?;
    Ok(conn.query_row(
        "SELECT wrong_birth_dates FROM consent_links WHERE id = ?1",
        [link],
        |r| r.get(0),
    )?)
}

/// The days renewal requests went to a person's contacts (any contact), latest last.
pub fn renewal_requests_sent(conn: &Connection, person: PersonId) -> Result<Vec<Timestamp>> {
    let mut stmt = conn.prepare_cached(
        "SELECT created_at FROM consent_links WHERE person_id = ?1 AND reason = 'renewal' \
         ORDER BY created_at",
    )?;
    let rows = stmt
        .query_map([person.0], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Links made for a contact since `since` (for "send me a new link").
pub fn links_made_since(conn: &Connection, contact: i64, since: Timestamp) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT count(*) FROM consent_links WHERE contact_id = ?1 AND created_at >= ?2",
        params![contact, since],
        |r| r.get(0),
    )?)
}

/// A browser's visit through a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub link: i64,
    pub csrf: String,
    pub born_checked: bool,
    /// The answers given so far (JSON of [`crate::rules::parents::Answers`]).
    pub draft: String,
    /// Set once the answer is recorded: the confirmation page shows it.
    pub reference: Option<String>,
}

pub fn insert_visit(
    conn: &Connection,
    secret_hash: &[u8],
    link: i64,
    csrf: &str,
    expires_at: Timestamp,
) -> Result<()> {
    conn.execute(
        "INSERT INTO consent_visits (secret_hash, link_id, csrf, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![secret_hash, link, csrf, expires_at],
    )?;
    Ok(())
}

/// The visit whose secret hashes to `hash`, if it has not run out at `now`.
pub fn visit(conn: &Connection, hash: &[u8], now: Timestamp) -> Result<Option<Visit>> {
    Ok(conn
        .query_row(
            "SELECT link_id, csrf, born_checked, draft, reference FROM consent_visits \
             WHERE secret_hash = ?1 AND expires_at > ?2",
            params![hash, now],
            |r| {
                Ok(Visit {
                    link: r.get(0)?,
                    csrf: r.get(1)?,
                    born_checked: r.get(2)?,
                    draft: r.get(3)?,
                    reference: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Updates a visit: the date of birth checked, the draft, the reference, a new expiry.
pub fn update_visit(
    conn: &Connection,
    hash: &[u8],
    visit: &Visit,
    expires_at: Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE consent_visits SET born_checked = ?2, draft = ?3, reference = ?4, \
         expires_at = ?5 WHERE secret_hash = ?1",
        params![
            hash,
            visit.born_checked,
            visit.draft,
            visit.reference,
            expires_at
        ],
    )?;
    Ok(())
}

/// Removes visits that ran out before `now`.
pub fn purge_visits(conn: &Connection, now: Timestamp) -> Result<usize> {
    Ok(conn.execute("DELETE FROM consent_visits WHERE expires_at <= ?1", [now])?)
}

/// The evidence of a form given or changed online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Online {
    pub consent_id: ConsentId,
    pub reference: String,
    pub link_id: i64,
    pub contact_id: i64,
    /// `answer` or `withdraw`.
    pub purpose: String,
    pub typed_name: String,
    pub relationship: SignerKind,
    pub wording_id: i64,
    /// The SHA-256 of the wording shown.
    pub wording_sha256: String,
    /// The answers as submitted (JSON).
    pub answers: String,
    pub submitted_at: Timestamp,
}

pub fn insert_online(conn: &Connection, online: &Online) -> Result<()> {
    conn.execute(
        "INSERT INTO consent_online (consent_id, reference, link_id, contact_id, purpose, \
         typed_name, relationship, wording_id, answers, submitted_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            online.consent_id.0,
            online.reference,
            online.link_id,
            online.contact_id,
            online.purpose,
            online.typed_name,
            online.relationship,
            online.wording_id,
            online.answers,
            online.submitted_at
        ],
    )?;
    Ok(())
}

/// The online evidence of a person's forms, by form.
pub fn online_of(conn: &Connection, person: PersonId) -> Result<Vec<Online>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.consent_id, o.reference, o.link_id, o.contact_id, o.purpose, o.typed_name, \
         o.relationship, o.wording_id, w.sha256, o.answers, o.submitted_at \
         FROM consent_online o JOIN consent_records r ON r.id = o.consent_id \
         JOIN consent_wordings w ON w.id = o.wording_id WHERE r.person_id = ?1 \
         ORDER BY o.consent_id",
    )?;
    let rows = stmt
        .query_map([person.0], |r| {
            Ok(Online {
                consent_id: ConsentId(r.get(0)?),
                reference: r.get(1)?,
                link_id: r.get(2)?,
                contact_id: r.get(3)?,
                purpose: r.get(4)?,
                typed_name: r.get(5)?,
                relationship: r.get(6)?,
                wording_id: r.get(7)?,
                wording_sha256: r.get(8)?,
                answers: r.get(9)?,
                submitted_at: r.get(10)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Where the online requests to one person stand (their latest link's story).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestStatus {
    pub person_id: PersonId,
    pub requested_at: Timestamp,
    /// `request`, `renewal`, `new_link`, `confirmation`.
    pub reason: String,
    pub opened_at: Option<Timestamp>,
    /// The latest answer given online, if after the request.
    pub answered_at: Option<Timestamp>,
    /// The latest withdrawal made online, if any.
    pub withdrawn_at: Option<Timestamp>,
    /// The request's mail was refused or given up.
    pub mail_failed: bool,
    pub locked: bool,
}

/// Where requests stand, for every person asked (a person's latest answer-link).
pub fn request_statuses(conn: &Connection) -> Result<Vec<RequestStatus>> {
    let mut stmt = conn.prepare(
        "SELECT l.person_id, l.created_at, l.reason, \
         (SELECT max(x.opened_at) FROM consent_links x WHERE x.person_id = l.person_id \
            AND x.created_at >= l.created_at), \
         (SELECT max(o.submitted_at) FROM consent_online o JOIN consent_records r \
            ON r.id = o.consent_id WHERE r.person_id = l.person_id AND o.purpose = 'answer' \
            AND o.submitted_at >= l.created_at), \
         (SELECT max(o.submitted_at) FROM consent_online o JOIN consent_records r \
            ON r.id = o.consent_id WHERE r.person_id = l.person_id AND o.purpose = 'withdraw'), \
         coalesce((SELECT m.state = 'failed' FROM mail_outbox m WHERE m.id = l.mail_id), 0), \
         l.locked_at IS NOT NULL \
         FROM consent_links l WHERE l.purpose = 'answer' AND l.id = (SELECT max(y.id) FROM \
         consent_links y WHERE y.person_id = l.person_id AND y.purpose = 'answer') \
         ORDER BY l.created_at DESC, l.person_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(RequestStatus {
                person_id: PersonId(r.get(0)?),
                requested_at: r.get(1)?,
                reason: r.get(2)?,
                opened_at: r.get(3)?,
                answered_at: r.get(4)?,
                withdrawn_at: r.get(5)?,
                mail_failed: r.get(6)?,
                locked: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
