//! Where stored files live: one interface, two backends.
//!
//! A [`Bucket`] holds files under keys (`ab/<hash>`, `<hash>-320.jpg`, `website/x.jpg`):
//! [`LocalBucket`] in a folder on this machine, written by flushed rename as the photo
//! store always was; [`S3Bucket`] in S3-compatible object storage (AWS, or any server
//! speaking its API), where a put is durable when it is acknowledged. Either way a put that
//! returned `Ok` has stored the whole file, and one that failed has stored nothing a reader
//! could mistake for it, so a catalogue row committed after a put never names a missing or
//! partial file.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::storage::Storage;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A bucket failure.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    /// The key is not one this store writes (empty, absolute, or with `..`).
    #[error("not a valid key for the photo store: {0:?}")]
    BadKey(String),
    /// A file system call failed.
    #[error("photo store: {op} {key:?} failed: {source}")]
    Io {
        op: &'static str,
        key: String,
        #[source]
        source: io::Error,
    },
    /// Flushing to disk failed; nothing written since may be trusted (see [`crate::storage`]).
    #[error("photo store: flushing to disk failed ({source}); check the disk, then try again")]
    Sync {
        #[source]
        source: io::Error,
    },
    /// The object storage refused or could not be reached.
    #[error("object storage: {op} {key:?} failed: {source}")]
    Remote {
        op: &'static str,
        key: String,
        #[source]
        source: Box<object_store::Error>,
    },
    /// The object storage settings cannot be used.
    #[error("object storage settings: {0}")]
    Settings(String),
}

/// One stored object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its key, relative to the bucket.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Files under keys. Every call blocks until done; call it from a blocking thread.
pub trait Bucket: Send + Sync + fmt::Debug {
    /// Where it is, for messages and logs (`folder /srv/x`, `s3://bucket/prefix/`).
    fn describe(&self) -> String;

    /// Stores the file at `file` under `key`, replacing what was there, and removes `file`.
    /// Durable when it returns `Ok`.
    ///
    /// # Errors
    /// Reading the file or storing it failed; on error `file` is left in place.
    fn put_file(&self, key: &str, file: &Path) -> Result<(), BucketError>;

    /// Stores `bytes` under `key`, replacing what was there. Durable when it returns `Ok`.
    ///
    /// # Errors
    /// Storing failed.
    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), BucketError>;

    /// The whole object, or `None` if there is none under `key`.
    ///
    /// # Errors
    /// Reading failed.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BucketError>;

    /// Copies the object into the file at `dest`, replacing it (not flushed: a working
    /// copy). Returns
    /// `false` if there is none under `key`.
    ///
    /// # Errors
    /// Reading or writing failed.
    fn download(&self, key: &str, dest: &Path) -> Result<bool, BucketError>;

    /// The object's size, or `None` if there is none.
    ///
    /// # Errors
    /// Asking failed.
    fn size(&self, key: &str) -> Result<Option<u64>, BucketError>;

    /// Removes the object; removing one that is not there is not an error.
    ///
    /// # Errors
    /// Removing failed.
    fn delete(&self, key: &str) -> Result<(), BucketError>;

    /// Every object whose key starts with `prefix` (a folder, `""` for all), in key order.
    ///
    /// # Errors
    /// Listing failed.
    fn list(&self, prefix: &str) -> Result<Vec<Listed>, BucketError>;

    /// Where the object's file is on this machine, if this bucket keeps files here (so a
    /// reader can open it in place rather than download it).
    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }
}

/// Checks a key: relative, `/`-separated, no `..`, nothing empty.
fn check_key(key: &str) -> Result<(), BucketError> {
    let plain = !key.is_empty()
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\0'));
    if plain {
        Ok(())
    } else {
        Err(BucketError::BadKey(key.to_owned()))
    }
}

/// A folder on this machine: each key a file under `root`, written to a temporary file,
/// flushed, renamed into place and its folder flushed.
#[derive(Clone)]
pub struct LocalBucket {
    root: PathBuf,
    storage: Arc<dyn Storage>,
}

impl fmt::Debug for LocalBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBucket")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl LocalBucket {
    /// A bucket in `root` (created when first written to).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>, storage: Arc<dyn Storage>) -> Self {
        Self {
            root: root.into(),
            storage,
        }
    }

    /// Its folder.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BucketError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn sync_err(source: io::Error) -> BucketError {
        BucketError::Sync { source }
    }

    /// Creates the folders above `dest` that are missing, flushing each new entry.
    fn make_parents(&self, dest: &Path, key: &str) -> Result<(), BucketError> {
        let Some(parent) = dest.parent() else {
            return Ok(());
        };
        if parent.is_dir() {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut at = parent;
        while !at.is_dir() {
            missing.push(at.to_path_buf());
            match at.parent() {
                Some(p) => at = p,
                None => break,
            }
        }
        fs::create_dir_all(parent).map_err(|source| BucketError::Io {
            op: "create folder for",
            key: key.to_owned(),
            source,
        })?;
        for dir in missing.iter().rev() {
            if let Some(above) = dir.parent() {
                self.storage.sync_dir(above).map_err(Self::sync_err)?;
            }
        }
        Ok(())
    }

    /// Renames a flushed file into place under `key` and flushes its folder.
    fn rename_in(&self, from: &Path, key: &str) -> Result<(), BucketError> {
        let dest = self.path_of(key)?;
        self.make_parents(&dest, key)?;
        fs::rename(from, &dest).map_err(|source| BucketError::Io {
            op: "rename into",
            key: key.to_owned(),
            source,
        })?;
        let folder = dest.parent().unwrap_or(&self.root);
        self.storage.sync_dir(folder).map_err(Self::sync_err)
    }

    fn temp_beside(&self, key: &str) -> Result<PathBuf, BucketError> {
        let dest = self.path_of(key)?;
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            ".{}.{}-{n}.part",
            dest.file_name()
                .and_then(|s| s.to_str())
                .unwrap_or("object"),
            std::process::id()
        );
        Ok(dest.with_file_name(name))
    }
}

impl Bucket for LocalBucket {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn put_file(&self, key: &str, file: &Path) -> Result<(), BucketError> {
        let dest = self.path_of(key)?;
        let io = |op| {
            move |source| BucketError::Io {
                op,
                key: key.to_owned(),
                source,
            }
        };
        let handle = File::open(file).map_err(io("open the file for"))?;
        self.storage.sync_file(&handle).map_err(Self::sync_err)?;
        drop(handle);
        self.make_parents(&dest, key)?;
        match fs::rename(file, &dest) {
            Ok(()) => {
                let folder = dest.parent().unwrap_or(&self.root);
                self.storage.sync_dir(folder).map_err(Self::sync_err)
            }
            // Another file system: copy, flush, rename, and only then remove the source.
            Err(e) if e.raw_os_error() == Some(18) => {
                let temp = self.temp_beside(key)?;
                fs::copy(file, &temp).map_err(io("copy in"))?;
                let copied = File::open(&temp).map_err(io("open the copy of"))?;
                self.storage.sync_file(&copied).map_err(Self::sync_err)?;
                self.rename_in(&temp, key)?;
                fs::remove_file(file).map_err(io("remove the source of"))
            }
            Err(source) => Err(BucketError::Io {
                op: "rename into",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), BucketError> {
        let dest = self.path_of(key)?;
        self.make_parents(&dest, key)?;
        let temp = self.temp_beside(key)?;
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(bytes)?;
            Ok::<_, io::Error>(file)
        })();
        let file = written.map_err(|source| {
            let _ = fs::remove_file(&temp);
            BucketError::Io {
                op: "write",
                key: key.to_owned(),
                source,
            }
        })?;
        if let Err(source) = self.storage.sync_file(&file) {
            let _ = fs::remove_file(&temp);
            return Err(Self::sync_err(source));
        }
        drop(file);
        self.rename_in(&temp, key).inspect_err(|_| {
            let _ = fs::remove_file(&temp);
        })
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BucketError> {
        match fs::read(self.path_of(key)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BucketError::Io {
                op: "read",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn download(&self, key: &str, dest: &Path) -> Result<bool, BucketError> {
        match fs::copy(self.path_of(key)?, dest) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(BucketError::Io {
                op: "copy out",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn size(&self, key: &str) -> Result<Option<u64>, BucketError> {
        match fs::metadata(self.path_of(key)?) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BucketError::Io {
                op: "look up",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn delete(&self, key: &str) -> Result<(), BucketError> {
        let path = self.path_of(key)?;
        match fs::remove_file(&path) {
            // Flushed, so that a power cut cannot bring the file back.
            Ok(()) => self
                .storage
                .sync_dir(path.parent().unwrap_or(&self.root))
                .map_err(Self::sync_err),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(BucketError::Io {
                op: "remove",
                key: key.to_owned(),
                source,
            }),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, BucketError> {
        let mut found = Vec::new();
        let mut folders = vec![self.root.clone()];
        while let Some(folder) = folders.pop() {
            let entries = match fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(BucketError::Io {
                        op: "list",
                        key: prefix.to_owned(),
                        source,
                    });
                }
            };
            for entry in entries {
                let entry = entry.map_err(|source| BucketError::Io {
                    op: "list",
                    key: prefix.to_owned(),
                    source,
                })?;
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let Some(key) = path
                    .strip_prefix(&self.root)
                    .ok()
                    .and_then(|p| p.to_str())
                    .map(str::to_owned)
                else {
                    continue;
                };
                if kind.is_dir() {
                    if key.starts_with(prefix) || prefix.starts_with(&format!("{key}/")) {
                        folders.push(path);
                    }
                } else if kind.is_file()
                    && key.starts_with(prefix)
                    && !entry.file_name().to_string_lossy().starts_with('.')
                {
                    let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    found.push(Listed { key, size });
                }
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path_of(key).ok()
    }
}

/// Where the object storage is and how to sign in to it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The bucket's name.
    pub bucket: String,
    /// The service's address (`https://s3.eu-west-2.amazonaws.com`, or another provider's);
    /// `None` for AWS in `region`.
    pub endpoint: Option<String>,
    /// The region (`eu-west-2`); providers without regions accept any.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allow an `http://` endpoint (a server on this machine or a private network).
    pub allow_http: bool,
    /// How long a request is retried (with backoff) before it fails.
    pub retry_for: std::time::Duration,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The runtime the object storage client runs on, stopped without waiting when dropped
/// (it may be dropped inside another runtime).
struct Io(Option<tokio::runtime::Runtime>);

impl Drop for Io {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Io {
    /// Runs `fut` on this runtime and waits for it, from any thread (it never calls
    /// `block_on`, which would panic inside another runtime).
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, BucketError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let Some(rt) = self.0.as_ref() else {
            return Err(BucketError::Settings("its client was stopped".into()));
        };
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| BucketError::Io {
            op: "complete a request (the client failed) for",
            key: String::new(),
            source: io::Error::other("the object storage task ended without an answer"),
        })
    }
}

/// The part size of uploads; a file larger than this goes up in parts, four at a time.
const PART: usize = 8 * 1024 * 1024;

/// S3-compatible object storage, every key under `prefix`.
#[derive(Clone)]
pub struct S3Bucket {
    store: Arc<object_store::aws::AmazonS3>,
    io: Arc<Io>,
    bucket: String,
    prefix: String,
}

impl fmt::Debug for S3Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn remote(op: &'static str, key: &str) -> impl FnOnce(object_store::Error) -> BucketError {
    let key = key.to_owned();
    move |source| BucketError::Remote {
        op,
        key,
        source: Box::new(source),
    }
}

impl S3Bucket {
    /// A client for the bucket in `settings`; every key is stored under `prefix`
    /// (`originals/`). Sends nothing until first used.
    ///
    /// # Errors
    /// The settings cannot make a client.
    pub fn connect(settings: &S3Settings, prefix: &str) -> Result<Self, BucketError> {
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_allow_http(settings.allow_http)
            .with_retry(object_store::RetryConfig {
                retry_timeout: settings.retry_for,
                max_retries: 10,
                ..object_store::RetryConfig::default()
            });
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let store = builder
            .build()
            .map_err(|e| BucketError::Settings(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("object-storage")
            .enable_all()
            .build()
            .map_err(|e| BucketError::Settings(format!("cannot start its client: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            io: Arc::new(Io(Some(rt))),
            bucket: settings.bucket.clone(),
            prefix: prefix.to_owned(),
        })
    }

    /// The same bucket and connection, another prefix.
    #[must_use]
    pub fn with_prefix(&self, prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            ..self.clone()
        }
    }

    /// Moves the object at `from` to `to` within the bucket (a copy made by the storage
    /// itself, then the delete), replacing any object at `to`.
    ///
    /// # Errors
    /// Either key is not a plain relative path, or the storage refused.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), BucketError> {
        use object_store::ObjectStoreExt;
        let (source, dest) = (self.location(from)?, self.location(to)?);
        let store = self.store.clone();
        self.io
            .run(async move { store.rename(&source, &dest).await })?
            .map_err(remote("rename", from))
    }

    fn location(&self, key: &str) -> Result<object_store::path::Path, BucketError> {
        check_key(key)?;
        object_store::path::Path::parse(format!("{}{key}", self.prefix))
            .map_err(|_| BucketError::BadKey(key.to_owned()))
    }
}

impl Bucket for S3Bucket {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn put_file(&self, key: &str, file: &Path) -> Result<(), BucketError> {
        use object_store::ObjectStoreExt;
        use tokio::io::AsyncReadExt;
        let location = self.location(key)?;
        let store = self.store.clone();
        let source = file.to_path_buf();
        let owned = key.to_owned();
        self.io.run(async move {
            let io = |op| {
                let key = owned.clone();
                move |source| BucketError::Io { op, key, source }
            };
            let mut reader = tokio::fs::File::open(&source)
                .await
                .map_err(io("open the file for"))?;
            let size = reader
                .metadata()
                .await
                .map_err(io("look at the file for"))?
                .len();
            if size <= PART as u64 {
                let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(PART));
                reader
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(io("read the file for"))?;
                return store
                    .put(&location, bytes.into())
                    .await
                    .map(|_| ())
                    .map_err(remote("put", &owned));
            }
            // A large file goes up in parts; the object appears only when all are in, and
            // an upload that fails is abandoned (its parts removed).
            let upload = store
                .put_multipart(&location)
                .await
                .map_err(remote("start the upload of", &owned))?;
            let mut parts = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buf = vec![0u8; PART];
            loop {
                let n = match reader.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        let _ = parts.abort().await;
                        return Err(io("read the file for")(e));
                    }
                };
                if let Err(e) = parts.wait_for_capacity(4).await {
                    let _ = parts.abort().await;
                    return Err(remote("upload", &owned)(e));
                }
                parts.write(&buf[..n]);
            }
            parts
                .finish()
                .await
                .map(|_| ())
                .map_err(remote("finish the upload of", &owned))
        })??;
        fs::remove_file(file).map_err(|source| BucketError::Io {
            op: "remove the uploaded file for",
            key: key.to_owned(),
            source,
        })
    }

    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), BucketError> {
        use object_store::ObjectStoreExt;
        let location = self.location(key)?;
        let store = self.store.clone();
        let payload = object_store::PutPayload::from(bytes.to_vec());
        self.io
            .run(async move { store.put(&location, payload).await })?
            .map(|_| ())
            .map_err(remote("put", key))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BucketError> {
        use object_store::ObjectStoreExt;
        let location = self.location(key)?;
        let store = self.store.clone();
        let got = self.io.run(async move {
            match store.get(&location).await {
                Ok(result) => result.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        got.map(|b| b.map(|b| b.to_vec()))
            .map_err(remote("get", key))
    }

    fn download(&self, key: &str, dest: &Path) -> Result<bool, BucketError> {
        use futures_util::StreamExt;
        use object_store::ObjectStoreExt;
        use tokio::io::AsyncWriteExt;
        let location = self.location(key)?;
        let store = self.store.clone();
        let dest = dest.to_path_buf();
        let owned = key.to_owned();
        self.io.run(async move {
            let result = match store.get(&location).await {
                Ok(result) => result,
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(remote("get", &owned)(e)),
            };
            let io = |source| BucketError::Io {
                op: "write the download of",
                key: owned.clone(),
                source,
            };
            let mut file = tokio::fs::File::create(&dest).await.map_err(io)?;
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(remote("get", &owned))?;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            Ok(true)
        })?
    }

    fn size(&self, key: &str) -> Result<Option<u64>, BucketError> {
        use object_store::ObjectStoreExt;
        let location = self.location(key)?;
        let store = self.store.clone();
        self.io
            .run(async move {
                match store.head(&location).await {
                    Ok(meta) => Ok(Some(meta.size)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })?
            .map_err(remote("look up", key))
    }

    fn delete(&self, key: &str) -> Result<(), BucketError> {
        use object_store::ObjectStoreExt;
        let location = self.location(key)?;
        let store = self.store.clone();
        self.io
            .run(async move {
                match store.delete(&location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e),
                }
            })?
            .map_err(remote("delete", key))
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, BucketError> {
        use futures_util::TryStreamExt;
        use object_store::ObjectStore;
        let store = self.store.clone();
        let own_prefix = self.prefix.clone();
        let wanted = format!("{own_prefix}{prefix}");
        // Listing is by folder; the folder holding the wanted keys, then filtered.
        let folder = wanted
            .rfind('/')
            .map(|i| object_store::path::Path::from(&wanted[..i]));
        let mut found: Vec<Listed> = self
            .io
            .run(async move { store.list(folder.as_ref()).try_collect::<Vec<_>>().await })?
            .map_err(remote("list", prefix))?
            .into_iter()
            .filter_map(|meta| {
                let full = meta.location.to_string();
                let key = full.strip_prefix(&own_prefix)?;
                key.starts_with(prefix).then(|| Listed {
                    key: key.to_owned(),
                    size: meta.size,
                })
            })
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }
}

/// Another bucket's keys under `prefix`, as a bucket of their own.
#[derive(Debug, Clone)]
pub struct Prefixed {
    inner: Arc<dyn Bucket>,
    prefix: String,
}

impl Prefixed {
    /// The keys of `inner` that start with `prefix` (which ends in `/`).
    #[must_use]
    pub fn new(inner: Arc<dyn Bucket>, prefix: &str) -> Self {
        Self {
            inner,
            prefix: prefix.to_owned(),
        }
    }

    fn full(&self, key: &str) -> Result<String, BucketError> {
        check_key(key)?;
        Ok(format!("{}{key}", self.prefix))
    }
}

impl Bucket for Prefixed {
    fn describe(&self) -> String {
        format!("{} ({})", self.prefix, self.inner.describe())
    }

    fn put_file(&self, key: &str, file: &Path) -> Result<(), BucketError> {
        self.inner.put_file(&self.full(key)?, file)
    }

    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), BucketError> {
        self.inner.put_bytes(&self.full(key)?, bytes)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BucketError> {
        self.inner.get(&self.full(key)?)
    }

    fn download(&self, key: &str, dest: &Path) -> Result<bool, BucketError> {
        self.inner.download(&self.full(key)?, dest)
    }

    fn size(&self, key: &str) -> Result<Option<u64>, BucketError> {
        self.inner.size(&self.full(key)?)
    }

    fn delete(&self, key: &str) -> Result<(), BucketError> {
        self.inner.delete(&self.full(key)?)
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, BucketError> {
        Ok(self
            .inner
            .list(&format!("{}{prefix}", self.prefix))?
            .into_iter()
            .filter_map(|l| {
                Some(Listed {
                    key: l.key.strip_prefix(&self.prefix)?.to_owned(),
                    size: l.size,
                })
            })
            .collect())
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.inner.local_path(&self.full(key).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_relative_paths() {
        for good in ["ab/cdef", "x1.jpg", "website/x1.jpg.json", "a-b_c.d"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in ["", "/abs", "a/../b", "..", "a//b", "a/", "./a", "a/./b"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_local_bucket_stores_lists_reads_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let bucket = LocalBucket::new(dir.path().join("b"), Arc::new(crate::OsStorage));
        let source = dir.path().join("src");
        fs::write(&source, b"hello").unwrap();
        bucket.put_file("ab/one", &source).unwrap();
        assert!(!source.exists(), "the source is moved in");
        bucket.put_bytes("ab/two", b"second").unwrap();
        bucket.put_bytes("cd/three", b"3").unwrap();
        assert_eq!(
            bucket.get("ab/one").unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(bucket.size("ab/two").unwrap(), Some(6));
        assert_eq!(bucket.size("ab/none").unwrap(), None);
        assert_eq!(bucket.get("ab/none").unwrap(), None);
        let keys: Vec<_> = bucket
            .list("ab/")
            .unwrap()
            .into_iter()
            .map(|l| l.key)
            .collect();
        assert_eq!(keys, ["ab/one", "ab/two"]);
        assert_eq!(bucket.list("").unwrap().len(), 3);
        assert_eq!(bucket.list("c").unwrap()[0].key, "cd/three");
        let out = dir.path().join("out");
        assert!(bucket.download("cd/three", &out).unwrap());
        assert_eq!(fs::read(&out).unwrap(), b"3");
        assert!(!bucket.download("cd/none", &dir.path().join("o2")).unwrap());
        bucket.delete("ab/one").unwrap();
        bucket.delete("ab/one").unwrap();
        assert_eq!(bucket.size("ab/one").unwrap(), None);
        assert!(matches!(
            bucket.put_bytes("../escape", b"x"),
            Err(BucketError::BadKey(_))
        ));
        assert!(!dir.path().join("escape").exists());
    }
}
