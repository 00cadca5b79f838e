//! Web sessions: the session record (serialised by the web layer) under its id, with its
//! expiry in Unix seconds. Reads never return an expired session.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// Removes every session that ran out.
pub fn clear_expired(conn: &Connection, now: i64) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    Ok(())
}

/// Whether a session with this id is stored (expired or not).
pub fn exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM sessions WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Stores a session, replacing what was there.
pub fn save(conn: &Connection, id: &str, data: &[u8], expires_at: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO sessions (id, data, expires_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        params![id, data, expires_at],
    )?;
    Ok(())
}

/// A live session's record.
pub fn load(conn: &Connection, id: &str, now: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT data FROM sessions WHERE id = ?1 AND expires_at > ?2",
            params![id, now],
            |r| r.get(0),
        )
        .optional()?)
}

/// Removes a session.
pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
    Ok(())
}

/// A live session: id, record, expiry.
pub type LiveSession = (String, Vec<u8>, i64);

/// Every live session, the latest to expire first.
pub fn live(conn: &Connection, now: i64) -> Result<Vec<LiveSession>> {
    let mut stmt = conn.prepare(
        "SELECT id, data, expires_at FROM sessions WHERE expires_at > ?1 ORDER BY expires_at DESC",
    )?;
    let rows = stmt
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
