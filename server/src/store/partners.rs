//! Partner organisations (schools and others photos may be shared with).

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::PartnerId;

/// A partner school or organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
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
        params![name, now],
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
