//! Counts for the dashboard and the imports page, in one query each, so the pages stay
//! fast on a Pi with years of photos.

use rusqlite::{Connection, params};

use super::Result;

/// Photos of a sign-out (every photo with `None`).
pub fn photo_count(conn: &Connection, session: Option<i64>) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM photos WHERE ?1 IS NULL OR custody_session_id = ?1",
        params![session],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Photos still waiting for tags: publishable ones with a face nobody resolved, or whose
/// people list nobody confirmed (the gallery's "needs tagging" badge); of one sign-out,
/// and of one site's photos (`None`: of every site).
pub fn needing_tags(conn: &Connection, session: Option<i64>, site: Option<i64>) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM photos p \
         WHERE (?1 IS NULL OR p.custody_session_id = ?1) \
           AND (?2 IS NULL OR p.site_id = ?2) \
           AND p.damage IS NULL AND p.format = 'jpeg' \
           AND (p.people_confirmed = 0 OR EXISTS \
                (SELECT 1 FROM faces f WHERE f.photo_id = p.id AND f.state = 'unresolved'))",
        params![session, site],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}
