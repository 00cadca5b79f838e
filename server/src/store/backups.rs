//! The backups `verify-backup` found whole.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// A backup found whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRun {
    pub made_at: Timestamp,
    pub verified_at: Timestamp,
    pub destination: String,
    pub encrypted: bool,
    pub files: i64,
}

pub fn insert_run(conn: &Connection, run: &BackupRun) -> Result<i64> {
    conn.execute(
        "INSERT INTO backup_runs (made_at, verified_at, destination, encrypted, files)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            run.made_at.to_string(),
            run.verified_at.to_string(),
            run.destination,
            run.encrypted,
            run.files
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The newest backup found whole (unencrypted, or encrypted: either is a copy).
pub fn newest(conn: &Connection) -> Result<Option<BackupRun>> {
    let row = conn
        .query_row(
            "SELECT made_at, verified_at, destination, encrypted, files FROM backup_runs
             ORDER BY made_at DESC LIMIT 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(made, verified, destination, encrypted, files)| {
        Ok(BackupRun {
            made_at: made
                .parse()
                .map_err(|e| super::StoreError::Corrupt(format!("backup_runs.made_at: {e}")))?,
            verified_at: verified
                .parse()
                .map_err(|e| super::StoreError::Corrupt(format!("backup_runs.verified_at: {e}")))?,
            destination,
            encrypted,
            files,
        })
    })
    .transpose()
}
