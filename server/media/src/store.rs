//! The content-addressed store: originals under `ab/<64 hex digits>` in a [`Bucket`]
//! (by default the folder `objects/`, written only by rename; or object storage).
//!
//! A file enters as a temporary file in `tmp/`, is hashed while it is copied, then put
//! into the bucket under its hash (flushed, renamed, its folder flushed; or uploaded and
//! acknowledged). Only then may a catalogue row name it. An object therefore always holds
//! the bytes its name says, and anything in `tmp/` is debris from an interrupted import,
//! removed by the next one. This module must not know about catalogues or cards.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::bucket::{Bucket, BucketError, LocalBucket};
use crate::hash::ContentHash;
use crate::storage::Storage;

const COPY_BUFFER: usize = 256 * 1024;
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A store failure. `Sync` is special: the device may have lost data, so nothing written
/// since the last good sync may be acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another import holds the store.
    #[error("another import is already using the photo store")]
    Busy,
    /// A file system call failed.
    #[error("photo store: {op} failed: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// Flushing to disk failed; the disk may be failing or full.
    #[error("photo store: flushing to disk failed ({source}); check the disk, then import again")]
    Sync {
        #[source]
        source: io::Error,
    },
    /// Reading the source failed (the card, not the store).
    #[error("reading the source failed: {0}")]
    Source(#[source] io::Error),
    /// The bucket holding the originals failed.
    #[error(transparent)]
    Bucket(BucketError),
}

impl From<BucketError> for StoreError {
    fn from(e: BucketError) -> Self {
        match e {
            BucketError::Sync { source } => Self::Sync { source },
            other => Self::Bucket(other),
        }
    }
}

fn io_err(op: &'static str) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { op, source }
}

/// The photo store on disk.
#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    storage: Arc<dyn Storage>,
    originals: Arc<dyn Bucket>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("root", &self.root)
            .field("originals", &self.originals)
            .finish_non_exhaustive()
    }
}

/// Holds the store for one import at a time; released when dropped (or when the process
/// dies: it is a kernel file lock).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl Store {
    /// Open (creating if needed) a store under `root`.
    ///
    /// # Errors
    /// The folders cannot be created or flushed.
    pub fn open(root: impl Into<PathBuf>, storage: Arc<dyn Storage>) -> Result<Self, StoreError> {
        let root = root.into();
        let originals = Arc::new(LocalBucket::new(root.join("objects"), storage.clone()));
        Self::with_originals(root, storage, originals)
    }

    /// Open a store whose originals live in `originals`; `root` keeps only the temporary
    /// files, working copies and the import lock.
    ///
    /// # Errors
    /// The folders cannot be created or flushed.
    pub fn with_originals(
        root: impl Into<PathBuf>,
        storage: Arc<dyn Storage>,
        originals: Arc<dyn Bucket>,
    ) -> Result<Self, StoreError> {
        let root = root.into();
        let mut folders = vec![root.join("tmp"), root.join("cache")];
        if originals.local_path("ab/x").is_some() {
            folders.push(root.join("objects"));
        }
        for dir in folders {
            fs::create_dir_all(&dir).map_err(io_err("create store folder"))?;
        }
        storage
            .sync_dir(&root)
            .map_err(|source| StoreError::Sync { source })?;
        Ok(Self {
            root,
            storage,
            originals,
        })
    }

    /// The bucket holding the originals.
    #[must_use]
    pub fn originals(&self) -> &Arc<dyn Bucket> {
        &self.originals
    }

    /// The key of the original with this hash: `ab/<64 hex digits>`.
    #[must_use]
    pub fn key_of(hash: &ContentHash) -> String {
        let hex = hash.to_hex();
        format!("{}/{hex}", &hex[..2])
    }

    /// The store's root folder.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The durability implementation in use.
    #[must_use]
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// Where the content with this hash lives on this machine, if the originals are kept
    /// here (whether or not it is there yet).
    #[must_use]
    pub fn object_path(&self, hash: &ContentHash) -> Option<PathBuf> {
        self.originals.local_path(&Self::key_of(hash))
    }

    /// Is there a file for this hash in the store?
    ///
    /// # Errors
    /// The bucket could not be asked.
    pub fn contains(&self, hash: &ContentHash) -> Result<bool, StoreError> {
        Ok(self.originals.size(&Self::key_of(hash))?.is_some())
    }

    /// The original's bytes, or `None` if the store has none with this hash.
    ///
    /// # Errors
    /// The bucket could not be read.
    pub fn read(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.originals.get(&Self::key_of(hash))?)
    }

    /// A file on this machine holding the original: the stored file itself when the
    /// originals are kept here, else a working copy downloaded into `cache/` and removed
    /// when the returned value is dropped. `None` if the store has none with this hash.
    ///
    /// # Errors
    /// The bucket could not be read or the copy written.
    pub fn open_original(&self, hash: &ContentHash) -> Result<Option<Original>, StoreError> {
        let key = Self::key_of(hash);
        if let Some(path) = self.originals.local_path(&key) {
            return Ok(path.is_file().then_some(Original {
                path,
                temporary: false,
            }));
        }
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            self.root
                .join("cache")
                .join(format!("{}-{n}-{}", std::process::id(), hash.to_hex()));
        let original = Original {
            path,
            temporary: true,
        };
        Ok(self
            .originals
            .download(&key, &original.path)?
            .then_some(original))
    }

    /// The folder for temporary files.
    #[must_use]
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Take the store for an import, and clear debris a killed import left in `tmp/`.
    ///
    /// # Errors
    /// [`StoreError::Busy`] if another import holds it.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join("lock"))
            .map_err(io_err("open lock file"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Busy),
            Err(fs::TryLockError::Error(e)) => return Err(io_err("lock store")(e)),
        }
        for entry in fs::read_dir(self.temp_dir()).map_err(io_err("list tmp"))? {
            let entry = entry.map_err(io_err("list tmp"))?;
            fs::remove_file(entry.path()).map_err(io_err("remove stale temporary file"))?;
        }
        self.clear_stale_copies();
        // A killed import may have made a shard folder without flushing its entry; flush
        // now, before anything is committed into it.
        let objects = self.root.join("objects");
        if objects.is_dir() {
            self.storage
                .sync_dir(&objects)
                .map_err(|source| StoreError::Sync { source })?;
        }
        Ok(StoreLock { _file: file })
    }

    /// Removes working copies a killed process left in `cache/` (those a day old: a live
    /// reader's copy is younger).
    fn clear_stale_copies(&self) {
        let Ok(entries) = fs::read_dir(self.root.join("cache")) else {
            return;
        };
        let day = std::time::Duration::from_secs(24 * 3600);
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > day));
            if stale {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Copy `source` into a new temporary file, hashing it on the way.
    ///
    /// # Errors
    /// Reading the source ([`StoreError::Source`]) or writing the temporary file failed.
    pub fn copy_in(&self, _lock: &StoreLock, mut source: impl Read) -> Result<Staged, StoreError> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = self
            .temp_dir()
            .join(format!("{}-{n}.part", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err("create temporary file"))?;
        let mut staged = Staged {
            path,
            file: None,
            hash: ContentHash::of_bytes(&[]),
            size: 0,
        };
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; COPY_BUFFER];
        loop {
            let got = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StoreError::Source(e)),
            };
            let chunk = &buf[..got];
            hasher.update(chunk);
            file.write_all(chunk)
                .map_err(io_err("write temporary file"))?;
            staged.size += got as u64;
        }
        staged.hash = ContentHash::from_hasher(&hasher);
        staged.file = Some(file);
        Ok(staged)
    }

    /// Make a staged file durable under its hash: put it into the originals' bucket (for
    /// the folder: flush it, rename it into place, flush the folder; for object storage:
    /// upload it until acknowledged). Replaces any object already under that name (which,
    /// if it was never committed, may not have been flushed).
    ///
    /// # Errors
    /// [`StoreError::Sync`] if a flush failed (never retried: see [`crate::storage`]);
    /// [`StoreError::Bucket`] if the object storage failed.
    pub fn persist(&self, _lock: &StoreLock, mut staged: Staged) -> Result<(), StoreError> {
        let file = staged
            .file
            .take()
            .ok_or_else(|| io_err("persist")(io::Error::other("staged file already used")))?;
        drop(file);
        self.originals
            .put_file(&Self::key_of(&staged.hash), &staged.path)?;
        staged.path = PathBuf::new();
        Ok(())
    }
}

/// A file on this machine holding an original (see [`Store::open_original`]).
#[derive(Debug)]
pub struct Original {
    path: PathBuf,
    temporary: bool,
}

impl Original {
    /// Where it is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Original {
    fn drop(&mut self) {
        if self.temporary {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A copied, hashed, not yet durable file in `tmp/`. Dropping it removes it.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    file: Option<File>,
    hash: ContentHash,
    size: u64,
}

impl Staged {
    /// Hash of what was copied.
    #[must_use]
    pub fn hash(&self) -> ContentHash {
        self.hash
    }

    /// Bytes copied.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            // Best effort: the next import's lock() clears anything left behind.
            let _ = fs::remove_file(&self.path);
        }
    }
}
