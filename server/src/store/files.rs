//! Which record, if any, points to a file of the archive by its key: what a process that
//! copies files behind the server's back (`store-migrate`, the outbox check at start)
//! asks before it keeps a copy, so that a file deleted meanwhile is never brought back.

use rusqlite::Connection;

use super::Result;

/// Whether the records still point to the archive file `key` (`store/objects/ab/<hash>`,
/// `renditions/<hash>-320.jpg`, `evidence/<name>`, `outbox/<channel>/<name>[.json]`). A key
/// of no known kind is wanted by nothing.
///
/// # Errors
/// The database.
pub fn still_wanted(conn: &Connection, key: &str) -> Result<bool> {
    let exists = |sql: &str, value: &str| -> Result<bool> {
        Ok(conn.query_row(&format!("SELECT EXISTS ({sql})"), [value], |r| r.get(0))?)
    };
    if let Some(rest) = key.strip_prefix("store/objects/") {
        let hash = rest.rsplit('/').next().unwrap_or("");
        return exists("SELECT 1 FROM photos WHERE content_hash = ?1", hash);
    }
    if let Some(rest) = key.strip_prefix("renditions/") {
        let hash = rest.split('-').next().unwrap_or("");
        return exists("SELECT 1 FROM photos WHERE content_hash = ?1", hash);
    }
    if key.starts_with("evidence/") {
        return exists(
            "SELECT 1 FROM consent_records WHERE evidence_path = ?1",
            key,
        );
    }
    if let Some(rest) = key.strip_prefix("outbox/") {
        let name = rest.rsplit('/').next().unwrap_or("");
        let name = name.strip_suffix(".json").unwrap_or(name);
        return exists(
            "SELECT 1 FROM publications WHERE opaque_name = ?1 AND takedown_done_at IS NULL",
            name,
        );
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;

    #[test]
    fn a_file_is_wanted_while_its_record_points_to_it_and_no_longer() {
        let conn = open_in_memory().unwrap();
        let hash = "ab".repeat(32);
        let key = format!("store/objects/ab/{hash}");
        assert!(!still_wanted(&conn, &key).unwrap());
        crate::store::photos::insert_photo(
            &conn,
            &crate::store::photos::NewPhoto {
                content_hash: hash.clone(),
                format: crate::domain::Format::Jpeg,
                ..Default::default()
            },
            "2026-11-25T10:00:00Z".parse().unwrap(),
        )
        .unwrap();
        assert!(still_wanted(&conn, &key).unwrap());
        assert!(still_wanted(&conn, &format!("renditions/{hash}-320.jpg")).unwrap());
        assert!(!still_wanted(&conn, "renditions/cd-320.jpg").unwrap());
        assert!(!still_wanted(&conn, "evidence/x.pdf").unwrap());
        assert!(!still_wanted(&conn, "outbox/website/x1.jpg").unwrap());
        assert!(!still_wanted(&conn, "records.db").unwrap());
    }
}
