//! Test harness shared by the integration tests: a SQLite catalogue (the server has its
//! own; this one exists only to exercise the trait), a seeded random generator, and
//! helpers that build cards and check a store.

#![allow(dead_code)]

pub mod bmff;
pub mod photos;
pub mod s3;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use consentcam_media::{
    Bucket, Catalogue, CatalogueError, ContentHash, FileRecord, LocalBucket, OsStorage,
};
use rusqlite::{Connection, OptionalExtension, params};

/// A catalogue on SQLite, committed with full durability.
pub struct SqliteCatalogue {
    conn: Connection,
}

impl SqliteCatalogue {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        // A test may watch the catalogue while an import writes it.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS media_files (
                 hash TEXT PRIMARY KEY NOT NULL,
                 size INTEGER NOT NULL,
                 card_path TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 problems TEXT NOT NULL
             );",
        )?;
        Ok(Self { conn })
    }

    pub fn integrity_check(&self) -> rusqlite::Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
    }

    pub fn rows(&self) -> rusqlite::Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT hash, size FROM media_files ORDER BY hash")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn problems_of(&self, hash: &ContentHash) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT problems FROM media_files WHERE hash = ?1",
                params![hash.to_hex()],
                |r| r.get(0),
            )
            .optional()
    }
}

impl Catalogue for SqliteCatalogue {
    fn is_committed(&self, hash: &ContentHash) -> Result<bool, CatalogueError> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM media_files WHERE hash = ?1",
                params![hash.to_hex()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    fn commit(&mut self, record: &FileRecord) -> Result<(), CatalogueError> {
        let kind = serde_json::to_string(&record.kind)?;
        let problems = serde_json::to_string(&record.problems)?;
        let size = i64::try_from(record.size)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO media_files (hash, size, card_path, kind, problems)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                record.hash.to_hex(),
                size,
                record.card_path.as_str(),
                kind,
                problems
            ],
        )?;
        Ok(())
    }

    fn committed_hashes(&self) -> Result<HashSet<ContentHash>, CatalogueError> {
        let mut stmt = self.conn.prepare("SELECT hash FROM media_files")?;
        let mut out = HashSet::new();
        for hex in stmt.query_map([], |r| r.get::<_, String>(0))? {
            out.insert(hex?.parse()?);
        }
        Ok(out)
    }
}

/// splitmix64: a small seeded generator, so failures reproduce from the printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (hi exclusive, hi > lo).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.fill(&mut v);
        v
    }
}

/// Write a card of `count` files under `root` (camera-like folders), a few of them
/// exact duplicates of others. Returns the distinct content hashes with their sizes.
pub fn write_card(
    root: &Path,
    count: usize,
    rng: &mut Rng,
    sizes: impl Fn(&mut Rng, usize) -> usize,
) -> BTreeMap<ContentHash, u64> {
    let dir = root.join("DCIM").join("100CANON");
    fs::create_dir_all(&dir).expect("create card folder");
    let mut distinct = BTreeMap::new();
    let mut previous: Vec<Vec<u8>> = Vec::new();
    for i in 0..count {
        let data = if i % 25 == 24 && !previous.is_empty() {
            previous[rng.range(0, previous.len() as u64) as usize].clone()
        } else {
            let n = sizes(rng, i);
            let mut d = vec![0xFF, 0xD8, 0xFF, 0xE0];
            d.extend(rng.bytes(n));
            d
        };
        distinct.insert(ContentHash::of_bytes(&data), data.len() as u64);
        fs::write(dir.join(format!("IMG_{:04}.JPG", i + 1)), &data).expect("write card file");
        previous.push(data);
    }
    distinct
}

/// Every object file under the store, with the hash its name claims.
pub fn objects_in(store_root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(shards) = fs::read_dir(store_root.join("objects")) else {
        return out;
    };
    for shard in shards.flatten() {
        for obj in fs::read_dir(shard.path()).into_iter().flatten().flatten() {
            out.push((obj.path(), obj.file_name().to_string_lossy().into_owned()));
        }
    }
    out.sort();
    out
}

/// The originals in a bucket, by key (`ab/<hex>`), with their content.
pub fn objects_of(originals: &dyn Bucket) -> Vec<(String, Vec<u8>)> {
    originals
        .list("")
        .expect("list the originals")
        .into_iter()
        .map(|l| {
            let bytes = originals
                .get(&l.key)
                .expect("read an original")
                .unwrap_or_default();
            (l.key, bytes)
        })
        .collect()
}

/// Files left in the store's temporary folder.
pub fn temp_files(store_root: &Path) -> Vec<PathBuf> {
    fs::read_dir(store_root.join("tmp"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Check that every committed row names a file in the store whose bytes hash to its name.
/// Returns the violations found (empty when the store is consistent).
pub fn committed_rows_are_durable(store_root: &Path, catalogue: &SqliteCatalogue) -> Vec<String> {
    let local = LocalBucket::new(store_root.join("objects"), Arc::new(OsStorage));
    committed_rows_are_in(&local, catalogue)
}

/// [`committed_rows_are_durable`] for originals in any bucket.
pub fn committed_rows_are_in(originals: &dyn Bucket, catalogue: &SqliteCatalogue) -> Vec<String> {
    let mut bad = Vec::new();
    let rows = match catalogue.rows() {
        Ok(r) => r,
        Err(e) => return vec![format!("catalogue unreadable: {e}")],
    };
    for (hex, size) in rows {
        match originals.get(&format!("{}/{hex}", &hex[..2])) {
            Err(e) => bad.push(format!("row {hex}: its file cannot be read: {e}")),
            Ok(None) => bad.push(format!("row {hex} has no file in the store")),
            Ok(Some(bytes)) => {
                if ContentHash::of_bytes(&bytes).to_hex() != hex {
                    bad.push(format!("file {hex} does not hash to its name"));
                }
                if bytes.len() as i64 != size {
                    bad.push(format!("file {hex} has the wrong size"));
                }
            }
        }
    }
    bad
}
