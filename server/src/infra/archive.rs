//! The photo archive: every file the records point to, by its path under the data
//! directory (`store/objects/ab/<hash>`, `renditions/<hash>-320.jpg`, `evidence/...`,
//! `outbox/...`), wherever it is kept.
//!
//! With `[store] kind = "s3"` the originals, their renditions, the scanned forms and the
//! published copies (the [`REMOTE_AREAS`]) live in object storage under the same keys; everything else, the
//! import's temporary files and the database stay in the data directory. While an archive
//! is being moved (`store-migrate`), a file not yet in the bucket is still read from here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use consentcam_media::{
    Bucket, BucketError, ContentHash, Listed, LocalBucket, Original, OsStorage, Prefixed, S3Bucket,
    Store,
};

use crate::infra::config::Config;
use crate::store::{Result, StoreError};

/// The areas kept in object storage when there is one: originals, renditions, the
/// scanned consent forms and the outbox copies of what is published.
pub const REMOTE_AREAS: [&str; 4] = ["store/objects/", "renditions/", "evidence/", "outbox/"];

/// Where the originals are, within the archive.
pub const ORIGINALS: &str = "store/objects/";

/// The archive of one installation.
#[derive(Debug, Clone)]
pub struct Archive {
    data_dir: PathBuf,
    local: LocalBucket,
    remote: Option<S3Bucket>,
}

/// The storage failing is the server's trouble: unavailable, its detail for the log.
fn bucket_error(e: BucketError) -> StoreError {
    StoreError::Unavailable(format!("photo archive: {e}"))
}

impl Archive {
    /// The archive in the data directory only.
    pub fn local(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            local: LocalBucket::new(data_dir, Arc::new(OsStorage)),
            remote: None,
        }
    }

    /// The archive a configuration names (`[store]`).
    ///
    /// # Errors
    /// The object storage settings cannot be used.
    pub fn open(config: &Config) -> Result<Self> {
        let mut archive = Self::local(&config.data_dir);
        if let Some(settings) = config.store.s3().map_err(StoreError::Invalid)? {
            archive.remote = Some(S3Bucket::connect(&settings, "").map_err(bucket_error)?);
        }
        Ok(archive)
    }

    /// Whether the storage answers: the data directory is there and, with object storage,
    /// the bucket answers a lookup (of a key that need not exist). Blocking.
    pub fn probe(&self) -> bool {
        let local = std::fs::metadata(&self.data_dir).is_ok_and(|m| m.is_dir());
        let remote = self
            .remote
            .as_ref()
            .is_none_or(|bucket| bucket.size("health/probe").is_ok());
        local && remote
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The object storage, if the archive uses one.
    pub fn remote(&self) -> Option<&S3Bucket> {
        self.remote.as_ref()
    }

    /// The data directory's part.
    pub fn local_part(&self) -> &LocalBucket {
        &self.local
    }

    /// Is `key` in an area kept in object storage (when there is one)?
    pub fn is_remote_area(key: &str) -> bool {
        REMOTE_AREAS.iter().any(|area| key.starts_with(area))
    }

    fn remote_for(&self, key: &str) -> Option<&S3Bucket> {
        self.remote.as_ref().filter(|_| Self::is_remote_area(key))
    }

    /// The content-addressed store the import writes originals into: its temporary files
    /// and lock in `<data_dir>/store`, its originals in this archive.
    ///
    /// # Errors
    /// The store's folders cannot be made.
    pub fn photo_store(&self) -> Result<Store> {
        let originals: Arc<dyn Bucket> = Arc::new(Prefixed::new(Arc::new(self.clone()), ORIGINALS));
        Store::with_originals(self.data_dir.join("store"), Arc::new(OsStorage), originals)
            .map_err(|e| StoreError::Invalid(format!("cannot open the photo store: {e}")))
    }

    /// The key of an original.
    pub fn original_key(content_hash: &str) -> String {
        let prefix = content_hash.get(..2).unwrap_or("00");
        format!("{ORIGINALS}{prefix}/{content_hash}")
    }

    /// The key of a photo's thumbnail (320 pixels on the long edge).
    pub fn thumbnail_key(content_hash: &str) -> String {
        format!("renditions/{content_hash}-320.jpg")
    }

    /// The key of a photo's preview (1600 pixels on the long edge).
    pub fn preview_key(content_hash: &str) -> String {
        format!("renditions/{content_hash}-1600.jpg")
    }

    /// A file on this machine holding the original (a working copy if it is kept in
    /// object storage), or `None` if there is none.
    ///
    /// # Errors
    /// The archive could not be read.
    pub fn open_original(&self, content_hash: &str) -> Result<Option<Original>> {
        let Ok(hash) = content_hash.parse::<ContentHash>() else {
            return Ok(None);
        };
        self.photo_store()?
            .open_original(&hash)
            .map_err(|e| StoreError::Invalid(format!("photo archive: {e}")))
    }

    /// [`Bucket::get`], as a store error.
    ///
    /// # Errors
    /// The archive could not be read.
    pub fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.get(key).map_err(bucket_error)
    }

    /// [`Bucket::put_bytes`], as a store error.
    ///
    /// # Errors
    /// The archive could not be written.
    pub fn write(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.put_bytes(key, bytes).map_err(bucket_error)
    }
}

impl Bucket for Archive {
    fn describe(&self) -> String {
        match &self.remote {
            Some(remote) => format!("{} and {}", self.local.describe(), remote.describe()),
            None => self.local.describe(),
        }
    }

    fn put_file(&self, key: &str, file: &Path) -> std::result::Result<(), BucketError> {
        match self.remote_for(key) {
            Some(remote) => remote.put_file(key, file),
            None => self.local.put_file(key, file),
        }
    }

    fn put_bytes(&self, key: &str, bytes: &[u8]) -> std::result::Result<(), BucketError> {
        match self.remote_for(key) {
            Some(remote) => remote.put_bytes(key, bytes),
            None => self.local.put_bytes(key, bytes),
        }
    }

    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, BucketError> {
        if let Some(remote) = self.remote_for(key)
            && let Some(bytes) = remote.get(key)?
        {
            return Ok(Some(bytes));
        }
        self.local.get(key)
    }

    fn download(&self, key: &str, dest: &Path) -> std::result::Result<bool, BucketError> {
        if let Some(remote) = self.remote_for(key)
            && remote.download(key, dest)?
        {
            return Ok(true);
        }
        self.local.download(key, dest)
    }

    fn size(&self, key: &str) -> std::result::Result<Option<u64>, BucketError> {
        if let Some(remote) = self.remote_for(key)
            && let Some(size) = remote.size(key)?
        {
            return Ok(Some(size));
        }
        self.local.size(key)
    }

    fn delete(&self, key: &str) -> std::result::Result<(), BucketError> {
        if let Some(remote) = self.remote_for(key) {
            remote.delete(key)?;
        }
        self.local.delete(key)
    }

    fn list(&self, prefix: &str) -> std::result::Result<Vec<Listed>, BucketError> {
        let mut found = self.local.list(prefix)?;
        if let Some(remote) = &self.remote {
            let remote_found = remote.list(prefix)?;
            found.retain(|l| {
                remote_found
                    .binary_search_by(|r| r.key.cmp(&l.key))
                    .is_err()
            });
            found.extend(
                remote_found
                    .into_iter()
                    .filter(|l| Self::is_remote_area(&l.key)),
            );
            found.sort_by(|a, b| a.key.cmp(&b.key));
        }
        Ok(found)
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        match self.remote_for(key) {
            Some(_) => None,
            None => self.local.local_path(key),
        }
    }
}

/// Which way [`migrate`] moves the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the data directory into object storage.
    ToRemote,
    /// From object storage back into the data directory.
    ToLocal,
}

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Migrated {
    /// Files copied, verified and removed from where they were.
    pub moved: usize,
    /// Files already at the destination (a run cut short had copied them) and now verified
    /// and removed from where they were.
    pub already_there: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Files left where they were, with why (they are moved by the next run once mended).
    pub kept: Vec<String>,
    /// Files not tried: the run stopped after several failures in a row (the storage
    /// is away, say).
    pub not_tried: usize,
    /// Files no record pointed to any more once moved (deleted while the move ran: a
    /// takedown, an erasure, a purge): their copy was removed again, so a deletion wins.
    pub dropped: usize,
    /// Files no record points to, left where they are and not copied.
    pub unwanted: usize,
}

/// Whether the records still point to an archive key (see
/// [`crate::store::files::still_wanted`]).
pub type Wanted<'a> = &'a dyn Fn(&str) -> std::result::Result<bool, String>;

/// Failures in a row after which a migration stops rather than fail every file.
pub const FAILURES_IN_A_ROW: usize = 3;

/// The BLAKE3 hash of a file, in hex.
fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Moves the originals, renditions, scans and published copies between the data directory
/// and object storage,
/// one file at a time: copied, read back from the destination and compared by hash, and
/// only then removed from where it was. A run cut short (killed, storage gone) leaves
/// every file in one place or both, never neither; running it again finishes the job.
/// An original whose bytes no longer match its name is never moved. Deletion wins: a
/// file the records no longer point to is not copied, and one deleted while it was being
/// moved (asked of `wanted` once it is moved) has its new copy removed again. `on_file`
/// hears about each file as it is done (`done`, `total`).
///
/// # Errors
/// The archive has no object storage, or listing failed. A file that fails on the way is
/// kept and listed in the report, not an error.
pub fn migrate(
    archive: &Archive,
    direction: Direction,
    wanted: Wanted<'_>,
    on_file: &mut dyn FnMut(usize, usize),
) -> Result<Migrated> {
    let Some(remote) = archive.remote() else {
        return Err(StoreError::Invalid(
            "[store] in the config names no object storage (kind = \"s3\", bucket, credentials_file): there is nowhere to move the archive".into(),
        ));
    };
    let (from, to): (&dyn Bucket, &dyn Bucket) = match direction {
        Direction::ToRemote => (archive.local_part(), remote),
        Direction::ToLocal => (remote, archive.local_part()),
    };
    let scratch = archive.data_dir.join("store").join("cache");
    migrate_between(from, to, &scratch, wanted, on_file)
}

/// [`migrate`] from one bucket into another, with `scratch` for the copies read back.
///
/// # Errors
/// Listing failed.
fn migrate_between(
    from: &dyn Bucket,
    to: &dyn Bucket,
    scratch: &Path,
    wanted: Wanted<'_>,
    on_file: &mut dyn FnMut(usize, usize),
) -> Result<Migrated> {
    std::fs::create_dir_all(scratch).map_err(|e| {
        StoreError::Invalid(format!("cannot make the folder {}: {e}", scratch.display()))
    })?;
    let mut files = Vec::new();
    for area in REMOTE_AREAS {
        let mut listed = from.list(area).map_err(bucket_error)?;
        // A published copy's manifest goes before its photo, as when it was delivered:
        // a consumer that sees the photo finds its manifest.
        listed.sort_by_cached_key(|f| {
            let manifest = f.key.ends_with(".json");
            (
                f.key.strip_suffix(".json").unwrap_or(&f.key).to_owned(),
                !manifest,
            )
        });
        files.extend(listed);
    }
    let mut report = Migrated::default();
    let total = files.len();
    let mut in_a_row = 0;
    for (done, file) in files.iter().enumerate() {
        match move_one(from, to, file, scratch, wanted) {
            Ok(Moved::Dropped) => {
                report.dropped += 1;
                in_a_row = 0;
            }
            Ok(Moved::Unwanted) => {
                report.unwanted += 1;
                in_a_row = 0;
            }
            Ok(Moved::Copied) => {
                report.moved += 1;
                report.bytes += file.size;
                in_a_row = 0;
            }
            Ok(Moved::AlreadyThere) => {
                report.already_there += 1;
                in_a_row = 0;
            }
            Err(why) => {
                tracing::warn!(key = %file.key, %why, "a file was not moved");
                report.kept.push(format!("{}: {why}", file.key));
                in_a_row += 1;
                if in_a_row == FAILURES_IN_A_ROW {
                    report.not_tried = total - done - 1;
                    break;
                }
            }
        }
        on_file(done + 1, total);
    }
    Ok(report)
}

enum Moved {
    Copied,
    AlreadyThere,
    /// Deleted while it was moved: the new copy removed again.
    Dropped,
    /// No record points to it: not copied.
    Unwanted,
}

/// A scratch file removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn move_one(
    from: &dyn Bucket,
    to: &dyn Bucket,
    file: &Listed,
    scratch: &Path,
    wanted: Wanted<'_>,
) -> std::result::Result<Moved, String> {
    if !wanted(&file.key)? {
        return Ok(Moved::Unwanted);
    }
    let name = |tag: &str| {
        Scratch(scratch.join(format!(
            "migrate-{}-{tag}-{}",
            std::process::id(),
            file.key.replace('/', "_")
        )))
    };
    let source = name("source");
    if !from
        .download(&file.key, &source.0)
        .map_err(|e| e.to_string())?
    {
        return Err("it went away while the archive was being moved".into());
    }
    let hash = hash_file(&source.0).map_err(|e| format!("cannot read its copy: {e}"))?;
    if file.key.starts_with(ORIGINALS) && file.key.rsplit('/').next() != Some(hash.as_str()) {
        return Err("its bytes do not match its name (damaged?): left where it is".into());
    }
    let there = name("there");
    let already = to.size(&file.key).map_err(|e| e.to_string())? == Some(file.size)
        && to
            .download(&file.key, &there.0)
            .map_err(|e| e.to_string())?
        && hash_file(&there.0).is_ok_and(|h| h == hash);
    if !already {
        to.put_file(&file.key, &source.0)
            .map_err(|e| e.to_string())?;
        if !to
            .download(&file.key, &there.0)
            .map_err(|e| e.to_string())?
            || hash_file(&there.0).ok().as_deref() != Some(hash.as_str())
        {
            return Err("the copy read back does not match: left where it is".into());
        }
    }
    from.delete(&file.key).map_err(|e| e.to_string())?;
    // Deleted while it was on its way (the record went, and the server removed the file
    // from where it was): the copy must not outlive it.
    if !wanted(&file.key)? {
        to.delete(&file.key).map_err(|e| e.to_string())?;
        tracing::info!(key = %file.key, "deleted while it was moved: its new copy removed");
        return Ok(Moved::Dropped);
    }
    Ok(if already {
        Moved::AlreadyThere
    } else {
        Moved::Copied
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A destination that, when an outbox copy is put into it, lets `meanwhile` run first
    /// (a takedown finishing while the move is on its way).
    struct Racing<'a> {
        inner: LocalBucket,
        meanwhile: Mutex<Option<Box<dyn FnOnce() + Send + 'a>>>,
    }

    impl std::fmt::Debug for Racing<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Racing")
                .field("inner", &self.inner)
                .finish()
        }
    }

    impl Bucket for Racing<'_> {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn put_file(&self, key: &str, file: &Path) -> std::result::Result<(), BucketError> {
            if key.starts_with("outbox/")
                && let Some(meanwhile) = self.meanwhile.lock().unwrap().take()
            {
                meanwhile();
            }
            self.inner.put_file(key, file)
        }
        fn put_bytes(&self, key: &str, bytes: &[u8]) -> std::result::Result<(), BucketError> {
            self.inner.put_bytes(key, bytes)
        }
        fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, BucketError> {
            self.inner.get(key)
        }
        fn download(&self, key: &str, dest: &Path) -> std::result::Result<bool, BucketError> {
            self.inner.download(key, dest)
        }
        fn size(&self, key: &str) -> std::result::Result<Option<u64>, BucketError> {
            self.inner.size(key)
        }
        fn delete(&self, key: &str) -> std::result::Result<(), BucketError> {
            self.inner.delete(key)
        }
        fn list(&self, prefix: &str) -> std::result::Result<Vec<Listed>, BucketError> {
            self.inner.list(prefix)
        }
    }

    /// Moves an outbox copy while its takedown is finished mid-move (the record says it is
    /// gone and the file is deleted from where it was); returns what the destination holds
    /// afterwards. `check` is whether the move asks the records.
    fn move_during_a_takedown(check: bool) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let from = LocalBucket::new(dir.path().join("from"), Arc::new(OsStorage));
        from.put_bytes("outbox/website/x1.jpg", b"jpeg").unwrap();
        from.put_bytes("evidence/form.pdf", b"pdf").unwrap();
        let published = Mutex::new(true);
        let from_ref = &from;
        let published_ref = &published;
        let to = Racing {
            inner: LocalBucket::new(dir.path().join("to"), Arc::new(OsStorage)),
            meanwhile: Mutex::new(Some(Box::new(move || {
                *published_ref.lock().unwrap() = false;
                from_ref.delete("outbox/website/x1.jpg").unwrap();
            }))),
        };
        let wanted = |key: &str| -> std::result::Result<bool, String> {
            Ok(!check || key.starts_with("evidence/") || *published.lock().unwrap())
        };
        let report = migrate_between(
            &from,
            &to,
            &dir.path().join("scratch"),
            &wanted,
            &mut |_, _| {},
        )
        .unwrap();
        assert!(report.kept.is_empty(), "{report:?}");
        to.list("").unwrap().into_iter().map(|l| l.key).collect()
    }

    #[test]
    fn a_file_deleted_while_it_is_moved_is_not_brought_back() {
        let held = move_during_a_takedown(true);
        assert!(!held.iter().any(|k| k.starts_with("outbox/")), "{held:?}");
        assert!(held.iter().any(|k| k.starts_with("evidence/")), "{held:?}");
    }

    #[test]
    fn without_asking_the_records_the_deleted_copy_comes_back() {
        // The negative control: the race is real, and only the check catches it.
        let held = move_during_a_takedown(false);
        assert!(held.iter().any(|k| k.starts_with("outbox/")), "{held:?}");
    }
}
