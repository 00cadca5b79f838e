//! Sites: adding them and putting records in them, each with its audit entry.

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::json;

use super::audited;
use crate::store::audit::Action;
use crate::store::sites::{self, Kind};
use crate::store::{Result, StoreError};

/// Adds a site.
pub fn add_site(conn: &mut Connection, name: &str, actor: &str, now: Timestamp) -> Result<i64> {
    audited(conn, actor, Action::SiteCreate, now, |tx| {
        let id = sites::insert_site(tx, name, now)?;
        Ok((id, format!("site:{id}"), json!({})))
    })
}

/// Puts a record just made by an account of `site` in that site, in the transaction that
/// made it (an account of every site makes records of no site). Without this, a site's
/// own new record would be hidden from it.
pub(crate) fn place_new(tx: &Connection, kind: Kind, id: i64, site: Option<i64>) -> Result<()> {
    if site.is_some() && !sites::assign(tx, kind, id, site)? {
        return Err(StoreError::NotFound { what: "record", id });
    }
    Ok(())
}

/// Puts a record in the site named `site` (`None`: in no site, seen only by accounts of
/// every site).
pub fn assign(
    conn: &mut Connection,
    kind: Kind,
    id: i64,
    site: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    audited(conn, actor, Action::SiteAssign, now, |tx| {
        let site = site.map(|name| sites::site_by_name(tx, name)).transpose()?;
        if !sites::assign(tx, kind, id, site.as_ref().map(|s| s.id))? {
            return Err(StoreError::NotFound { what: "record", id });
        }
        Ok((
            (),
            format!("{kind:?}:{id}").to_lowercase(),
            json!({ "site": site.map(|s| s.id) }),
        ))
    })
}

/// Puts every record of `records` in the site named `site` (`None`: in no site), all or
/// nothing: one record that does not exist, or a site that does not, changes none. Each
/// move has its audit entry, in the same transaction. Returns how many moved.
pub fn assign_all(
    conn: &mut Connection,
    records: &[(Kind, i64)],
    site: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let site = site
        .map(|name| sites::site_by_name(&tx, name))
        .transpose()?;
    for &(kind, id) in records {
        if !sites::assign(&tx, kind, id, site.as_ref().map(|s| s.id))? {
            return Err(StoreError::Invalid(format!(
                "there is no {} {id}: nothing was moved",
                kind.what()
            )));
        }
        super::log(
            &tx,
            actor,
            Action::SiteAssign,
            format!("{kind:?}:{id}").to_lowercase(),
            json!({ "site": site.as_ref().map(|s| s.id) }),
            now,
        )?;
    }
    tx.commit()?;
    Ok(records.len())
}

/// The kinds `--unassigned` moves: everything with a site of its own but accounts (an
/// account of no site is one of the trust's, and must stay so).
pub const UNASSIGNED_KINDS: [Kind; 5] = [
    Kind::Person,
    Kind::Photo,
    Kind::Group,
    Kind::Device,
    Kind::Kiosk,
];

/// Every record of [`UNASSIGNED_KINDS`] in no site (a Pi's records restored onto the
/// central server, say).
pub fn unassigned(conn: &Connection) -> Result<Vec<(Kind, i64)>> {
    let mut out = Vec::new();
    for kind in UNASSIGNED_KINDS {
        out.extend(
            sites::without_site(conn, kind)?
                .into_iter()
                .map(|id| (kind, id)),
        );
    }
    Ok(out)
}
