//! The content-addressed store: `objects/ab/<64 hex digits>`, written only by rename.
//!
//! A file enters as a temporary file in `tmp/`, is hashed while it is copied, flushed,
//! renamed to its hash and its folder flushed. Only then may a catalogue row name it.
//! A file in `objects/` therefore always holds the bytes its name says, and anything in
//! `tmp/` is debris from an interrupted import, removed by the next one. This module
//! must not know about catalogues or cards.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
}

fn io_err(op: &'static str) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { op, source }
}

/// The photo store on disk.
#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    storage: Arc<dyn Storage>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("root", &self.root)
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
        for dir in [root.join("objects"), root.join("tmp")] {
            fs::create_dir_all(&dir).map_err(io_err("create store folder"))?;
        }
        storage
            .sync_dir(&root)
            .map_err(|source| StoreError::Sync { source })?;
        Ok(Self { root, storage })
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

    /// Where the content with this hash lives (whether or not it is there yet).
    #[must_use]
    pub fn object_path(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join("objects").join(&hex[..2]).join(hex)
    }

    /// Is there a file for this hash in the store?
    #[must_use]
    pub fn contains(&self, hash: &ContentHash) -> bool {
        self.object_path(hash).is_file()
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
        // A killed import may have made a shard folder without flushing its entry; flush
        // now, before anything is committed into it.
        self.storage
            .sync_dir(&self.root.join("objects"))
            .map_err(|source| StoreError::Sync { source })?;
        Ok(StoreLock { _file: file })
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

    /// Make a staged file durable under its hash: flush it, rename it into place, flush
    /// the folder. Replaces any file already at that name (which, if it was never
    /// committed, may not have been flushed).
    ///
    /// # Errors
    /// [`StoreError::Sync`] if a flush failed (never retried: see [`crate::storage`]).
    pub fn persist(&self, _lock: &StoreLock, mut staged: Staged) -> Result<PathBuf, StoreError> {
        let file = staged
            .file
            .take()
            .ok_or_else(|| io_err("persist")(io::Error::other("staged file already used")))?;
        self.storage
            .sync_file(&file)
            .map_err(|source| StoreError::Sync { source })?;
        drop(file);
        let dest = self.object_path(&staged.hash);
        let shard = dest
            .parent()
            .ok_or_else(|| io_err("persist")(io::Error::other("object path has no folder")))?
            .to_path_buf();
        if !shard.is_dir() {
            fs::create_dir_all(&shard).map_err(io_err("create shard folder"))?;
            self.storage
                .sync_dir(&self.root.join("objects"))
                .map_err(|source| StoreError::Sync { source })?;
        }
        fs::rename(&staged.path, &dest).map_err(io_err("rename into store"))?;
        staged.path = PathBuf::new();
        self.storage
            .sync_dir(&shard)
            .map_err(|source| StoreError::Sync { source })?;
        Ok(dest)
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
