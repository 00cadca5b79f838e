//! Sites: the centres of a trust served by one server, which of them a record belongs to,
//! and which records an account may see.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::registry::conflict;
use super::{Result, StoreError};

/// A site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub id: i64,
    pub name: String,
}

/// The records that belong to a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Person,
    Account,
    Kiosk,
    Device,
    Group,
    Photo,
    /// A consent form: its person's site.
    Consent,
    /// A badge: its person's site.
    Badge,
    /// A booking: its group's site.
    Booking,
    /// A sign-out and the card imported on its return: its device's site.
    Import,
    /// A publication (and its takedown task): its photo's site.
    Publication,
    /// A message in the mail outbox: the site of the account it went to (kept on the
    /// message, which outlives a move of the account).
    Mail,
}

impl Kind {
    /// The kind of record a path segment names (`/people/{id}` -> [`Kind::Person`]).
    pub fn of_segment(segment: &str) -> Option<Self> {
        Some(match segment {
            "people" => Self::Person,
            "accounts" => Self::Account,
            "kiosks" => Self::Kiosk,
            "devices" => Self::Device,
            "groups" => Self::Group,
            "photos" => Self::Photo,
            "consents" => Self::Consent,
            "badges" => Self::Badge,
            "bookings" => Self::Booking,
            "imports" => Self::Import,
            "takedowns" | "publications" => Self::Publication,
            "mail" => Self::Mail,
            _ => return None,
        })
    }

    /// The word a "does not exist" answer uses for it.
    pub fn what(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Account => "account",
            Self::Kiosk => "kiosk",
            Self::Device => "device",
            Self::Group => "group",
            Self::Photo => "photo",
            Self::Consent => "consent record",
            Self::Badge => "badge",
            Self::Booking => "booking",
            Self::Import => "import",
            Self::Publication => "publication",
            Self::Mail => "message",
        }
    }

    /// A kind whose site is always that of another record.
    fn derived(self) -> bool {
        !matches!(
            self,
            Self::Person
                | Self::Account
                | Self::Kiosk
                | Self::Device
                | Self::Group
                | Self::Photo
                | Self::Mail
        )
    }

    /// SQL selecting the site of the record whose id is the SQL expression `id` (a
    /// derived kind's through the record it is of).
    fn site_sql(self, id: &str) -> String {
        let through = match self {
            Self::Consent => "consent_records r JOIN people s ON s.id = r.person_id",
            Self::Badge => "badges r JOIN people s ON s.id = r.person_id",
            Self::Booking => "bookings r JOIN groups s ON s.id = r.group_id",
            Self::Import => "custody_sessions r JOIN devices s ON s.id = r.device_id",
            Self::Publication => "publications r JOIN photos s ON s.id = r.photo_id",
            own => return format!("SELECT site_id FROM {} WHERE id = {id}", own.table()),
        };
        format!("SELECT s.site_id FROM {through} WHERE r.id = {id}")
    }

    fn table(self) -> &'static str {
        match self {
            Self::Person => "people",
            Self::Account => "accounts",
            Self::Kiosk => "kiosks",
            Self::Device => "devices",
            Self::Group => "groups",
            Self::Photo => "photos",
            Self::Consent => "consent_records",
            Self::Badge => "badges",
            Self::Booking => "bookings",
            Self::Import => "custody_sessions",
            Self::Publication => "publications",
            Self::Mail => "mail_outbox",
        }
    }
}

/// Adds a site.
pub fn insert_site(conn: &Connection, name: &str, now: Timestamp) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::Invalid(
            "a site's name must be 1 to 100 characters".into(),
        ));
    }
    conn.execute(
        "INSERT INTO sites (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )
    .map_err(|e| conflict(e, || format!("there is already a site named {name:?}")))?;
    Ok(conn.last_insert_rowid())
}

/// Every site, by name.
pub fn sites(conn: &Connection) -> Result<Vec<Site>> {
    let mut stmt = conn.prepare("SELECT id, name FROM sites ORDER BY name COLLATE NOCASE")?;
    let rows = stmt.query_map([], |r| {
        Ok(Site {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether the install has any site (a single-site install has none).
pub fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM sites)", [], |r| r.get(0))?)
}

/// A site with how many records of each kind belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteSummary {
    pub id: i64,
    pub name: String,
    pub people: i64,
    pub accounts: i64,
    pub devices: i64,
    pub kiosks: i64,
    pub groups: i64,
    pub photos: i64,
}

/// Every site, by name, with its counts (people not erased, groups not archived).
pub fn summaries(conn: &Connection) -> Result<Vec<SiteSummary>> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.name,
                (SELECT count(*) FROM people WHERE site_id = s.id AND erased_at IS NULL),
                (SELECT count(*) FROM accounts WHERE site_id = s.id),
                (SELECT count(*) FROM devices WHERE site_id = s.id),
                (SELECT count(*) FROM kiosks WHERE site_id = s.id),
                (SELECT count(*) FROM groups WHERE site_id = s.id AND archived_at IS NULL),
                (SELECT count(*) FROM photos WHERE site_id = s.id)
         FROM sites s ORDER BY s.name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SiteSummary {
            id: r.get(0)?,
            name: r.get(1)?,
            people: r.get(2)?,
            accounts: r.get(3)?,
            devices: r.get(4)?,
            kiosks: r.get(5)?,
            groups: r.get(6)?,
            photos: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The record of `kind` a person would name it by: a person's reference (any case), an
/// account's user name, a kiosk's, device's or group's name or label; or a number, its
/// id. `None` if there is none.
pub fn record_named(conn: &Connection, kind: Kind, name: &str) -> Result<Option<i64>> {
    let name = name.trim();
    let column = match kind {
        Kind::Person => "ext_ref",
        Kind::Account => "username",
        Kind::Kiosk | Kind::Group => "name",
        Kind::Device => "label",
        Kind::Photo => {
            return Err(StoreError::Invalid(
                "a photo belongs to the site of the camera it came off".into(),
            ));
        }
        Kind::Consent
        | Kind::Badge
        | Kind::Booking
        | Kind::Import
        | Kind::Publication
        | Kind::Mail => {
            return Err(StoreError::Invalid(format!(
                "a {} belongs to the site of what it is of",
                kind.what()
            )));
        }
    };
    let sql = format!(
        "SELECT id FROM {} WHERE {column} = ?1 COLLATE NOCASE",
        kind.table()
    );
    if let Some(id) = conn.query_row(&sql, [name], |r| r.get(0)).optional()? {
        return Ok(Some(id));
    }
    match name.parse::<i64>() {
        Ok(id) if site_of(conn, kind, id)?.is_some() => Ok(Some(id)),
        _ => Ok(None),
    }
}

/// The site with this name (any case).
pub fn site_by_name(conn: &Connection, name: &str) -> Result<Site> {
    conn.query_row(
        "SELECT id, name FROM sites WHERE name = ?1",
        [name.trim()],
        |r| {
            Ok(Site {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| StoreError::Invalid(format!("there is no site named {name:?}")))
}

/// Puts a record in a site (`None`: in none). Returns whether the record exists.
pub fn assign(conn: &Connection, kind: Kind, id: i64, site: Option<i64>) -> Result<bool> {
    if kind.derived() || kind == Kind::Mail {
        return Err(StoreError::Invalid(format!(
            "a {} belongs to the site of what it is of",
            kind.what()
        )));
    }
    let sql = format!("UPDATE {} SET site_id = ?1 WHERE id = ?2", kind.table());
    Ok(conn
        .execute(&sql, params![site, id])
        .map_err(|e| conflict(e, || "no such site".into()))?
        > 0)
}

/// The ids of the records of `kind` in no site (a kind with a site of its own).
pub fn without_site(conn: &Connection, kind: Kind) -> Result<Vec<i64>> {
    if kind.derived() || kind == Kind::Mail {
        return Err(StoreError::Invalid(format!(
            "a {} belongs to the site of what it is of",
            kind.what()
        )));
    }
    let sql = format!(
        "SELECT id FROM {} WHERE site_id IS NULL ORDER BY id",
        kind.table()
    );
    let mut stmt = conn.prepare(&sql)?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// The site of a record: `None` if there is no such record, `Some(None)` if it belongs to
/// no site.
pub fn site_of(conn: &Connection, kind: Kind, id: i64) -> Result<Option<Option<i64>>> {
    Ok(conn
        .query_row(&kind.site_sql("?1"), [id], |r| r.get::<_, Option<i64>>(0))
        .optional()?)
}

/// The kinds an audit entry's subject names, by the word before its id (`photo:12`).
const AUDITED: [(&str, Kind); 10] = [
    ("person", Kind::Person),
    ("photo", Kind::Photo),
    ("account", Kind::Account),
    ("kiosk", Kind::Kiosk),
    ("group", Kind::Group),
    ("device", Kind::Device),
    ("session", Kind::Import),
    ("publication", Kind::Publication),
    ("booking", Kind::Booking),
    ("badge", Kind::Badge),
];

/// SQL giving the site of the record an audit entry's `subject` names; NULL for a subject
/// of no site (the system, a partner, a file).
pub(crate) fn subject_site_sql() -> String {
    let cases: String = AUDITED
        .iter()
        .map(|(word, kind)| format!(" WHEN '{word}' THEN ({})", kind.site_sql("n")))
        .collect();
    format!(
        "(SELECT CASE substr(subject, 1, instr(subject, ':') - 1){cases} END \
         FROM (SELECT CAST(substr(subject, instr(subject, ':') + 1) AS INTEGER) AS n))"
    )
}

/// Gives a new photo its device's site.
pub fn photo_from_device(conn: &Connection, photo: i64, device: i64) -> Result<()> {
    conn.execute(
        "UPDATE photos SET site_id = (SELECT site_id FROM devices WHERE id = ?2) WHERE id = ?1",
        params![photo, device],
    )?;
    Ok(())
}

/// Puts photo `photo` in `site` unless it already belongs to one.
///
/// # Errors
/// The database failed.
pub fn photo_in_site_unless_placed(conn: &Connection, photo: i64, site: i64) -> Result<()> {
    conn.execute(
        "UPDATE photos SET site_id = ?2 WHERE id = ?1 AND site_id IS NULL",
        params![photo, site],
    )?;
    Ok(())
}

/// The items an account of site `viewer` may see (all of them for an account of every
/// site), each known by the record `of` names.
pub fn retain_visible<T>(
    conn: &Connection,
    viewer: Option<i64>,
    items: Vec<T>,
    of: impl Fn(&T) -> (Kind, i64),
) -> Result<Vec<T>> {
    let Some(site) = viewer else {
        return Ok(items);
    };
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let (kind, id) = of(&item);
        if site_of(conn, kind, id)?.is_some_and(|of| of == Some(site)) {
            kept.push(item);
        }
    }
    Ok(kept)
}

/// Every record in `named` must be one an account of site `viewer` may see: the first
/// that is not (or does not exist) is [`StoreError::NotFound`], the answer an id nobody
/// has gets. For ids a request names in its body or form (the path's are checked before
/// any handler runs).
///
/// # Errors
/// A record it may not see, or the database.
pub fn ensure_visible(conn: &Connection, viewer: Option<i64>, named: &[(Kind, i64)]) -> Result<()> {
    ensure_each(conn, named, |of| visible(viewer, of))
}

/// Every record in `named` must exist and its site pass `allowed`; the first that does
/// not is [`StoreError::NotFound`], the answer an id nobody has gets.
fn ensure_each(
    conn: &Connection,
    named: &[(Kind, i64)],
    allowed: impl Fn(Option<i64>) -> bool,
) -> Result<()> {
    for &(kind, id) in named {
        if !site_of(conn, kind, id)?.is_some_and(&allowed) {
            return Err(StoreError::NotFound {
                what: kind.what(),
                id,
            });
        }
    }
    Ok(())
}

/// May a kiosk of site `kiosk` (`None`: a kiosk of no site) name a record of site
/// `record`? Its own site's records and those of no site.
pub fn kiosk_may_name(kiosk: Option<i64>, record: Option<i64>) -> bool {
    kiosk.is_none() || record.is_none() || kiosk == record
}

/// Every record in `named` must exist and be one kiosk `kiosk` may name
/// ([`kiosk_may_name`]); the first that is not is [`StoreError::NotFound`].
///
/// # Errors
/// A record it may not name, or the database.
pub fn ensure_kiosk_may_name(conn: &Connection, kiosk: i64, named: &[(Kind, i64)]) -> Result<()> {
    let kiosk_site = site_of(conn, Kind::Kiosk, kiosk)?.flatten();
    ensure_each(conn, named, |of| kiosk_may_name(kiosk_site, of))
}

/// May an account of site `viewer` (`None`: every site) see a record of site `record`?
pub fn visible(viewer: Option<i64>, record: Option<i64>) -> bool {
    viewer.is_none() || viewer == record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_account_sees_its_own_site_only_and_a_trust_account_sees_all() {
        let cases = [
            (None, None, true),
            (None, Some(1), true),
            (Some(1), Some(1), true),
            (Some(1), Some(2), false),
            (Some(1), None, false),
        ];
        for (viewer, record, seen) in cases {
            assert_eq!(visible(viewer, record), seen, "{viewer:?} {record:?}");
        }
    }

    #[test]
    fn records_are_put_in_sites_and_found_there() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("r.db")).unwrap();
        let now: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        let north = insert_site(&conn, "North", now).unwrap();
        assert!(matches!(
            insert_site(&conn, "north ", now),
            Err(StoreError::Conflict(_))
        ));
        assert!(insert_site(&conn, "  ", now).is_err());
        assert_eq!(site_by_name(&conn, "NORTH").unwrap().id, north);
        assert!(site_by_name(&conn, "South").is_err());
        assert_eq!(site_of(&conn, Kind::Person, 999).unwrap(), None);
        assert!(!assign(&conn, Kind::Person, 999, Some(north)).unwrap());
        assert!(assign(&conn, Kind::Group, 1, Some(north)).is_ok());
        assert!(assign(&conn, Kind::Consent, 1, Some(north)).is_err());
    }
}
