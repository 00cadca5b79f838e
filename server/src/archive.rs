//! The photo archive: every file the records point to, by its path under the data
//! directory (`store/objects/ab/<hash>`, `renditions/<hash>-320.jpg`, `evidence/...`,
//! `outbox/...`), wherever it is kept.
//!
//! With `[store] kind = "s3"` the originals and their renditions (the bulk of it: the
//! [`REMOTE_AREAS`]) live in object storage under the same keys; everything else, the
//! import's temporary files and the database stay in the data directory. While an archive
//! is being moved (`store-migrate`), a file not yet in the bucket is still read from here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use consentcam_media::{
    Bucket, BucketError, ContentHash, Listed, LocalBucket, Original, OsStorage, Prefixed, S3Bucket,
    Store,
};

use crate::config::Config;
use crate::store::{Result, StoreError};

/// The areas kept in object storage when there is one.
pub const REMOTE_AREAS: [&str; 2] = ["store/objects/", "renditions/"];

/// Where the originals are, within the archive.
pub const ORIGINALS: &str = "store/objects/";

/// The archive of one installation.
#[derive(Debug, Clone)]
pub struct Archive {
    data_dir: PathBuf,
    local: LocalBucket,
    remote: Option<S3Bucket>,
}

fn bucket_error(e: BucketError) -> StoreError {
    StoreError::Invalid(format!("photo archive: {e}"))
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
