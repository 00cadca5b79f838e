//! The records, in one SQLite file.
//!
//! Owns the schema (numbered, append-only migrations in `server/migrations/`) and every SQL
//! statement. Functions take a `&Connection` or `&Transaction` and plain domain values;
//! they never decide consent (that is `consent`) and never speak HTTP.

pub mod approvals;
pub mod audit;
pub mod backups;
pub mod consents;
pub mod custody;
pub mod deliveries;
pub mod faces;
pub mod files;
pub mod groups;
pub mod mail;
pub mod overview;
pub mod parents;
pub mod partners;
pub mod people;
pub mod photos;
pub mod publications;
pub mod registry;
pub mod requests;
pub mod retention;
pub mod sessions;
pub mod sites;

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// The domain's words stored as their text (`as_str`), read back through their parser: a
/// word the parser refuses is an error, never a default.
macro_rules! stored_as_text {
    ($($name:ty),+ $(,)?) => {$(
        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e: crate::domain::ParseError| {
                    rusqlite::types::FromSqlError::Other(e.into())
                })
            }
        }
    )+};
}

stored_as_text!(
    crate::domain::Role,
    crate::domain::SignerKind,
    crate::domain::AccountRole,
    crate::domain::Format,
    crate::rules::consent::Provenance,
    crate::rules::consent::FaceSearch,
);

impl rusqlite::ToSql for crate::domain::Channel {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl rusqlite::types::FromSql for crate::domain::Channel {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e: crate::domain::ParseError| rusqlite::types::FromSqlError::Other(e.into()))
    }
}

/// Rows that carry a channel show it as its code (`website`, `partner:3`) in JSON, as
/// they always have.
pub(crate) fn channel_code<S: serde::Serializer>(
    channel: &crate::domain::Channel,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&channel.code())
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not bring the database schema up to date: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("{what} #{id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The photo storage (a disk or a bucket) failed or cannot be reached: the detail is
    /// for the log, not for a caller.
    #[error("the photo storage failed: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// The disk that holds the records is full: the write was not kept.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sqlite(e)
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_records.sql")),
        M::up(include_str!(
            "../../migrations/0002_publication_requests.sql"
        )),
        M::up(include_str!(
            "../../migrations/0003_groups_and_bookings.sql"
        )),
        M::up(include_str!("../../migrations/0004_http_deliveries.sql")),
        M::up(include_str!("../../migrations/0005_face_detection.sql")),
        M::up(include_str!("../../migrations/0006_session_epochs.sql")),
        M::up(include_str!("../../migrations/0007_second_factor.sql")),
        M::up(include_str!(
            "../../migrations/0008_refused_kiosk_events.sql"
        )),
        M::up(include_str!("../../migrations/0009_endpoint_removals.sql")),
        M::up(include_str!("../../migrations/0010_restriction.sql")),
        M::up(include_str!(
            "../../migrations/0011_retention_and_erasure.sql"
        )),
        M::up(include_str!(
            "../../migrations/0012_people_ref_any_case.sql"
        )),
        M::up(include_str!("../../migrations/0013_sites.sql")),
        M::up(include_str!("../../migrations/0014_kiosk_event_times.sql")),
        M::up(include_str!("../../migrations/0015_mail.sql")),
        M::up(include_str!("../../migrations/0016_online_consent.sql")).foreign_key_check(),
        M::up(include_str!("../../migrations/0017_backup_runs.sql")),
        M::up(include_str!("../../migrations/0018_kiosk_clocks.sql")),
        M::up(include_str!(
            "../../migrations/0019_wordpress_deliveries.sql"
        )),
    ])
});

/// Opens (creating if need be) the database at `path`: WAL journal, synchronous=FULL,
/// foreign keys on, schema migrated to the latest version.
pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    configure(&mut conn)?;
    Ok(conn)
}

/// Opens the database at `path` (see [`open`]) for reading only: the connection refuses
/// to write (`query_only`).
pub fn open_reader(path: &Path) -> Result<Connection> {
    let conn = open(path)?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

/// Connections that only read, beside the one writer: in WAL mode they read the last
/// committed state while the writer works, so a long read (a gallery) never holds up a
/// write and a write (a publication) never holds up the pages. Each refuses to write
/// (`query_only`). Open the database with [`open`] first: the schema must be migrated.
pub type Readers = r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>;

/// A pool of up to `size` reading connections to the database at `path`, opened as they
/// are needed (a failure to open one is the error of the read that asked for it).
pub fn readers(path: &Path, size: u32) -> Readers {
    let manager = r2d2_sqlite::SqliteConnectionManager::file(path).with_init(|conn| {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "query_only", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
    });
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(std::time::Duration::from_secs(30))
        .build_unchecked(manager)
}

/// A private in-memory database with the full schema, for tests.
pub fn open_in_memory() -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    configure(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &mut Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted rows are overwritten, not just unlinked: an erased person's name must not
    // linger in free pages (the WAL is emptied after an erasure, see `erasure::erase_person`).
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // A transaction takes the write lock when it begins, so it waits (the busy timeout)
    // for another connection that writes, such as the mail worker's; one that read first
    // and wrote later would be refused at once instead.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    // A migration may rebuild a table (SQLite's one way to change a constraint), which
    // foreign keys would refuse half-way: they are off while migrations run, and each
    // migration that rebuilds checks every key before it commits (`foreign_key_check`).
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = MIGRATIONS.to_latest(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated?;
    Ok(())
}

/// `PRAGMA integrity_check`: `Ok` when SQLite says "ok".
pub fn integrity_check(conn: &Connection) -> Result<()> {
    let answer: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    if answer == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt(answer))
    }
}

/// Maps "no row" to a [`StoreError::NotFound`].
pub(crate) fn found<T>(result: rusqlite::Result<T>, what: &'static str, id: i64) -> Result<T> {
    match result {
        Err(rusqlite::Error::QueryReturnedNoRows) => Err(StoreError::NotFound { what, id }),
        other => Ok(other?),
    }
}

/// Rebuilds the database file without free pages and empties the write-ahead log, so
/// that no old copy of a removed row survives anywhere in the files. Best effort: false
/// if another connection kept it from finishing.
pub fn compact(conn: &Connection) -> bool {
    let vacuum = conn.execute_batch("VACUUM");
    let checkpoint = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    match (vacuum, checkpoint) {
        (Ok(()), Ok(0)) => true,
        (vacuum, checkpoint) => {
            tracing::warn!(
                ?vacuum,
                ?checkpoint,
                "the database could not be compacted now"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::Action;

    /// The words kept for the domain's enums read back as the same value, and a word
    /// nobody wrote is an error, never quietly a default.
    #[test]
    fn stored_words_read_back_and_unknown_ones_are_refused() {
        use crate::domain::Format;
        use crate::rules::consent::{FaceSearch, Provenance};
        let conn = Connection::open_in_memory().unwrap();
        fn back<T: rusqlite::ToSql + rusqlite::types::FromSql>(conn: &Connection, v: &T) -> T {
            conn.query_row("SELECT ?1", [v], |r| r.get(0)).unwrap()
        }
        for &f in Format::ALL {
            assert_eq!(back(&conn, &f), f);
        }
        for p in [
            Provenance::Verified,
            Provenance::UnregisteredDevice,
            Provenance::OutsideSignOut,
            Provenance::Unknown,
        ] {
            assert_eq!(back(&conn, &p), p);
        }
        for f in [
            FaceSearch::Done,
            FaceSearch::NotYet,
            FaceSearch::Skipped,
            FaceSearch::Failed,
            FaceSearch::Redo,
        ] {
            assert_eq!(back(&conn, &f), f);
        }
        let pending: String = conn
            .query_row("SELECT ?1", [FaceSearch::NotYet], |r| r.get(0))
            .unwrap();
        assert_eq!(pending, "pending", "the word the schema's CHECK allows");
        use crate::domain::{Channel, PartnerId};
        for ch in [
            Channel::Internal,
            Channel::Partner(PartnerId(3)),
            Channel::Website,
            Channel::Social,
        ] {
            assert_eq!(back(&conn, &ch), ch);
        }
        let partner: String = conn
            .query_row("SELECT ?1", [Channel::Partner(PartnerId(3))], |r| r.get(0))
            .unwrap();
        assert_eq!(partner, "partner:3");
        let odd = conn.query_row("SELECT 'tiff'", [], |r| r.get::<_, Format>(0));
        assert!(odd.is_err(), "{odd:?}");
        let odd = conn.query_row("SELECT 'guessed'", [], |r| r.get::<_, Provenance>(0));
        assert!(odd.is_err(), "{odd:?}");
    }

    /// Every SQL statement is here: outside `store`, code calls a store function (tests
    /// may look at rows themselves).
    #[test]
    fn no_sql_outside_the_store() {
        let needles = [
            ".execute(",
            ".execute_batch(",
            ".query_row(",
            ".query_map(",
            ".prepare(",
            ".pragma_update(",
            "\"SELECT ",
            "\"INSERT ",
            "\"UPDATE ",
            "\"DELETE ",
        ];
        let mut checked = 0;
        for (name, text) in crate::source_tree::files("") {
            if name.starts_with("store/") || name.ends_with("/tests.rs") || name == "tests.rs" {
                continue;
            }
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                if let Some(needle) = needles.iter().find(|needle| line.contains(*needle)) {
                    panic!(
                        "{name}:{}: `{needle}` outside the store: add a store function",
                        n + 1
                    );
                }
            }
            checked += 1;
        }
        assert!(checked > 50, "only {checked} files looked at");
    }

    #[test]
    fn the_face_detection_migration_marks_wrong_boxes_for_detection_and_tells_skipped_from_done() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_version(&mut conn, 4).unwrap();
        let now: jiff::Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        for (id, faces) in [(1, Some(2)), (2, None), (3, Some(0))] {
            conn.execute(
                "INSERT INTO photos (id, content_hash, byte_size, format, original_name, \
                 analysed_at, imported_at) VALUES (?1, ?2, 1, 'jpeg', 'IMG.JPG', ?3, ?3)",
                rusqlite::params![id, format!("{id:064}"), now],
            )
            .unwrap();
            audit::append(
                &conn,
                &audit::Entry {
                    at: now,
                    actor: "system",
                    action: Action::PhotoAnalyse,
                    subject: &format!("photo:{id}"),
                    details: serde_json::json!({ "faces": faces }),
                },
            )
            .unwrap();
        }
        // What the old import stored for two faces: fractions truncated to whole pixels.
        for (x, y) in [(0, 0), (0, 1)] {
            conn.execute(
                "INSERT INTO faces (photo_id, x, y, w, h) VALUES (1, ?1, ?2, 1, 1)",
                [x, y],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO photos (id, content_hash, byte_size, format, original_name, imported_at) \
             VALUES (4, ?1, 1, 'jpeg', 'IMG.JPG', ?2)",
            rusqlite::params![format!("{:064}", 4), now],
        )
        .unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let state = |id: i64| -> String {
            conn.query_row(
                "SELECT face_detection FROM photos WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(state(1), "redo");
        assert_eq!(state(2), "skipped");
        assert_eq!(state(3), "done");
        assert_eq!(state(4), "pending");
        let drawn: i64 = conn
            .query_row(
                "SELECT count(*) FROM faces WHERE source = 'drawn'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(drawn, 0);
    }

    #[test]
    fn migrations_are_valid_and_apply_to_an_empty_database() {
        MIGRATIONS.validate().unwrap();
        let conn = open_in_memory().unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN \
                 ('people', 'consent_records', 'partner_orgs', 'accounts', 'badges', 'devices', \
                  'custody_sessions', 'photos', 'faces', 'tags', 'approvals', 'publications', \
                  'audit_log')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 13);
        integrity_check(&conn).unwrap();
    }

    #[test]
    fn a_file_database_uses_wal_full_sync_and_foreign_keys_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.db");
        drop(open(&path).unwrap());
        let conn = open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
        let err = conn
            .execute(
                "INSERT INTO consent_records (person_id, signer_kind, signer_name, signed_on, \
                 internal, website, social, source, created_at) \
                 VALUES (42, 'self', 'x', '2026-01-01', 1, 1, 1, 'test', '2026-01-01T00:00:00Z')",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    }
}
