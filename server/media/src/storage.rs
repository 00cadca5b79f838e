//! Durability: the two calls that make data survive a power cut.
//!
//! Behind a trait so that tests can make the k-th sync fail and check that nothing is
//! acknowledged after it. Owns no policy: what to do after a failure is the store's job.
//! After a failed `fsync` Linux may already have dropped the dirty pages and marked them
//! clean, so a retry can succeed without the data being on disk: callers must never retry
//! a failed sync on the same file, only start again from the source.

use std::fs::File;
use std::io;
use std::path::Path;

/// Flushes file contents and directory entries to stable storage.
pub trait Storage: Send + Sync {
    /// Flush a file's data and metadata (`fsync`).
    ///
    /// # Errors
    /// The device reported a write error; the file's contents are not known to be durable.
    fn sync_file(&self, file: &File) -> io::Result<()>;

    /// Flush a directory, making renames and new entries in it durable.
    ///
    /// # Errors
    /// The directory could not be opened or flushed.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real thing: `fsync(2)` on the file, and on the directory opened read-only.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsStorage;

impl Storage for OsStorage {
    fn sync_file(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}
