//! Backups that bring everything back: the records database and every file the records
//! point to (photo originals, their renditions, scanned consent forms, outbox copies still
//! published), into a backup folder, optionally encrypted for a second location.
//!
//! Layout of a backup folder:
//!
//! ```text
//! objects/ab/ab12...        each file once, named by the BLAKE3 hash of its content
//!                           (`.age` appended when encrypted to a recipient)
//! manifests/<stamp>.json    one per run: every file's path in the data directory, its
//!                           hash, the hash of the object as stored, its size
//! LATEST                    the newest manifest's name
//! ```
//!
//! A run copies only objects the folder does not have yet, writes each one to a temporary
//! name, syncs and renames it, and writes its manifest last: a run cut short leaves the
//! previous manifest whole. Paths come from the records, never from a script. Owns the
//! backup folder's format; never writes to a data directory except when restoring into an
//! empty one.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use jiff::Timestamp;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use consentcam_media::Bucket;

use crate::infra::archive::Archive;
use crate::store::{self, audit};

/// The manifest format this program writes and reads.
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the backup folder {0} holds no manifest: no backup was ever completed there")]
    NoManifest(PathBuf),
    #[error("{0} is not a folder (is the backup drive mounted?)")]
    NotAFolder(PathBuf),
    #[error(
        "permission denied reading the backup folder {0}: run this as the user the backups \
         are made as (sudo -u consentcam ...)"
    )]
    NotReadable(PathBuf),
    #[error("the manifest {path} cannot be read: {detail}")]
    BadManifest { path: PathBuf, detail: String },
    #[error("the backup is encrypted: give the private key (--identity FILE) to {0}")]
    NeedsKey(&'static str),
    #[error("the key does not open the backup: {0}")]
    Key(String),
    #[error("{0}")]
    Refused(String),
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        BackupError::Store(e.into())
    }
}

/// What a file in the data directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Original,
    Rendition,
    Evidence,
    Outbox,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where it lives in the data directory (relative, `/`-separated).
    pub path: String,
    pub kind: FileKind,
    /// BLAKE3 of the file's content.
    pub hash: String,
    /// BLAKE3 of the object as stored in the backup (the same as `hash` unless encrypted):
    /// checked without the key.
    pub object_hash: String,
    pub size: u64,
}

/// The list of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub made_at: String,
    pub encrypted: bool,
    /// The age recipient the objects are encrypted to, if they are.
    #[serde(default)]
    pub recipient: Option<String>,
    /// The records database (an online SQLite backup), as an object.
    pub records: Entry,
    pub files: Vec<Entry>,
    /// The audit log's newest row in these records: `check-audit --expect-head DEST`
    /// checks that the live log still holds it unchanged.
    #[serde(default)]
    pub audit_head: Option<audit::Head>,
}

/// What a backup run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupReport {
    pub manifest: PathBuf,
    pub files: usize,
    /// Objects written this run (the others were there already).
    pub copied: usize,
    pub bytes_copied: u64,
    /// Files the records point to that are missing or unreadable: the backup is not whole.
    pub missing: Vec<String>,
    /// Outbox copies that are gone (a channel's consumer may have taken them): reported,
    /// not a failure.
    pub outbox_gone: Vec<String>,
    /// Originals and renditions left to the object storage's own backup (its versioning
    /// or replication: see the deployment guide), not copied here.
    pub in_object_storage: usize,
}

/// The key a backup is encrypted to, or opened with.
pub enum Key {
    Recipient(age::x25519::Recipient),
    Identity(age::x25519::Identity),
}

/// Reads an age recipient (`age1...`).
///
/// # Errors
/// Not an age X25519 recipient.
pub fn recipient(text: &str) -> Result<age::x25519::Recipient, BackupError> {
    crate::infra::config::age_recipient(text).map_err(BackupError::Key)
}

/// Reads an age identity file (`AGE-SECRET-KEY-1...`, comments allowed).
///
/// # Errors
/// The file cannot be read or holds no X25519 identity.
pub fn identity(path: &Path) -> Result<age::x25519::Identity, BackupError> {
    let text = fs::read_to_string(path).map_err(io_error("cannot read the key file", path))?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| BackupError::Key(format!("{} holds no age secret key", path.display())))?
        .parse()
        .map_err(|e: &str| BackupError::Key(e.to_owned()))
}

fn hex(hash: blake3::Hash) -> String {
    hash.to_hex().to_string()
}

fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut hasher = blake3::Hasher::new();
    let mut file = File::open(path)?;
    let size = io::copy(&mut file, &mut hasher)?;
    Ok((hex(hasher.finalize()), size))
}

fn object_path(dest: &Path, hash: &str, encrypted: bool) -> PathBuf {
    let name = if encrypted {
        format!("{hash}.age")
    } else {
        hash.to_owned()
    };
    dest.join("objects")
        .join(hash.get(..2).unwrap_or("00"))
        .join(name)
}

use crate::infra::files::sync_dir;

/// Writes `bytes` to `path` whole or not at all (see [`crate::infra::files`]).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
    crate::infra::files::write_atomically(path, bytes).map_err(io_error("cannot write", path))
}

/// Every file the records point to, with its kind, relative to the data directory.
fn wanted_files(conn: &Connection) -> Result<Vec<(String, FileKind)>, BackupError> {
    let mut files = Vec::new();
    for hash in store::photos::content_hashes(conn)? {
        if !hash.bytes().all(|b| b.is_ascii_hexdigit()) || hash.len() < 2 {
            continue;
        }
        files.push((
            format!("store/objects/{}/{hash}", &hash[..2]),
            FileKind::Original,
        ));
        for edge in ["320", "1600"] {
            files.push((format!("renditions/{hash}-{edge}.jpg"), FileKind::Rendition));
        }
    }
    // Stored relative to the data directory (`evidence/<name>`).
    for path in store::consents::evidence_paths(conn)? {
        files.push((path, FileKind::Evidence));
    }
    for (channel, name) in store::publications::outbox_files(conn)? {
        let Ok(channel) = channel.parse() else {
            continue;
        };
        for file in crate::ops::publish::outbox::file_names(&name) {
            files.push((
                crate::ops::publish::outbox::key(channel, &file),
                FileKind::Outbox,
            ));
        }
    }
    Ok(files)
}

/// The objects a folder's newest manifest already lists: plaintext hash -> object hash.
fn known_objects(dest: &Path) -> BTreeMap<String, String> {
    latest_manifest(dest)
        .map(|(_, m)| {
            m.files
                .iter()
                .chain(std::iter::once(&m.records))
                .map(|e| (e.hash.clone(), e.object_hash.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A writer that hashes (BLAKE3) and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
    written: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: blake3::Hasher::new(),
            written: 0,
        }
    }

    fn finish(self) -> (W, String, u64) {
        (self.inner, hex(self.hasher.finalize()), self.written)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copies `source` into `out` (encrypted to `recipient` if given), a buffer at a time.
/// Returns the BLAKE3 of what was read.
fn copy_out(
    source: &mut dyn Read,
    out: &mut dyn Write,
    recipient: Option<&age::x25519::Recipient>,
) -> Result<String, io::Error> {
    let mut plain = blake3::Hasher::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut pump = |writer: &mut dyn Write| -> io::Result<()> {
        loop {
            let n = source.read(&mut buffer)?;
            if n == 0 {
                return Ok(());
            }
            plain.update(&buffer[..n]);
            writer.write_all(&buffer[..n])?;
        }
    };
    match recipient {
        None => pump(out)?,
        Some(r) => {
            let encryptor =
                age::Encryptor::with_recipients(std::iter::once(r as &dyn age::Recipient))
                    .map_err(io::Error::other)?;
            let mut writer = encryptor.wrap_output(out)?;
            pump(&mut writer)?;
            writer.finish()?;
        }
    }
    Ok(hex(plain.finalize()))
}

/// Stores the file at `source` as an object (encrypted to `recipient` if given) unless the
/// folder has it, a buffer at a time: never whole in memory. `hash` is the BLAKE3 of its
/// content, read before; a file that changed since is refused. Returns (object hash,
/// bytes written).
fn store_object(
    dest: &Path,
    hash: &str,
    source: &Path,
    recipient: Option<&age::x25519::Recipient>,
    known: &BTreeMap<String, String>,
) -> Result<(String, u64), BackupError> {
    let path = object_path(dest, hash, recipient.is_some());
    if path.is_file() {
        if let Some(object_hash) = known.get(hash) {
            return Ok((object_hash.clone(), 0));
        }
        // Left by a run that did not finish: hash what is there.
        let (object_hash, _) = hash_file(&path).map_err(io_error("cannot read", &path))?;
        let plain_ok = recipient.is_some() || object_hash == hash;
        if plain_ok {
            return Ok((object_hash, 0));
        }
    }
    let dir = path.parent().unwrap_or(dest);
    fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
    let temp = tempfile::Builder::new()
        .prefix(".object-")
        .tempfile_in(dir)
        .map_err(io_error("cannot write in", dir))?;
    let mut out = Hashing::new(io::BufWriter::new(temp.as_file()));
    let mut file = File::open(source).map_err(io_error("cannot read", source))?;
    let read = copy_out(&mut file, &mut out, recipient).map_err(io_error("cannot copy", source))?;
    if read != hash {
        return Err(BackupError::Refused(format!(
            "{} changed while it was backed up; run the backup again",
            source.display()
        )));
    }
    let (buffered, object_hash, written) = out.finish();
    buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(File::sync_all)
        .map_err(io_error("cannot write", temp.path()))?;
    temp.persist(&path)
        .map_err(|e| e.error)
        .map_err(io_error("cannot write", &path))?;
    sync_dir(dir).map_err(io_error("cannot sync", dir))?;
    Ok((object_hash, written))
}

/// A private working folder, [`WORK_DIR`] under the data directory, for plaintext a run
/// must put on disk (the records' snapshot, a decrypted copy being checked): readable by
/// this user only, never in a backup folder. What an earlier run left there (it died) is
/// removed when it is made; it goes, with what is in it, when dropped.
struct PrivateWork(PathBuf);

impl PrivateWork {
    fn create(parent: &Path) -> Result<Self, BackupError> {
        let root = parent.join(WORK_DIR);
        if root.exists() {
            fs::remove_dir_all(&root)
                .map_err(io_error("cannot remove what a run left in", &root))?;
        }
        create_private_dir(&root)?;
        Ok(Self(root))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateWork {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Removes the records' snapshots that versions before this one wrote into the backup
/// folder itself (plaintext, left there by a run that died). Returns how many.
fn remove_old_snapshots(dest: &Path) -> Result<usize, BackupError> {
    let mut removed = 0;
    let Ok(entries) = fs::read_dir(dest) else {
        return Ok(0);
    };
    for entry in entries {
        let path = entry.map_err(io_error("cannot read", dest))?.path();
        let old = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".records-"));
        if old {
            fs::remove_file(&path).map_err(io_error("cannot remove", &path))?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::warn!(removed, folder = %dest.display(), "removed records snapshots left in the backup folder");
        sync_dir(dest).map_err(io_error("cannot sync", dest))?;
    }
    Ok(removed)
}

/// The folder under a data directory where backup, verify and restore keep plaintext
/// while they run.
pub const WORK_DIR: &str = "backup-work";

fn create_private_dir(path: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_error("cannot create", path))
}

/// Backs up the records (read through `conn`, an online SQLite backup) and every file they
/// point to in `archive` into the folder `dest`, encrypted to `recipient` if given. When the
/// archive keeps its originals, renditions and scans in object storage, those are left to the
/// bucket's own backup and only counted.
///
/// Files already in the folder are not copied again. A file the records point to that is
/// missing or unreadable is listed in the report (the run still saves everything else);
/// the caller must treat a non-empty `missing` as a failed backup.
///
/// # Errors
/// The folder cannot be written, or the records cannot be read.
pub fn backup(
    conn: &Connection,
    archive: &Archive,
    dest: &Path,
    recipient: Option<&age::x25519::Recipient>,
    now: Timestamp,
) -> Result<BackupReport, BackupError> {
    fs::create_dir_all(dest).map_err(io_error("cannot create the backup folder", dest))?;
    let recipient_text = recipient.map(ToString::to_string);
    if let Some((_, previous)) = latest_manifest(dest)
        && previous.recipient != recipient_text
    {
        // Objects already there were written for the other key (or none): mixing them
        // would leave a backup no single key opens.
        let describe = |r: Option<&str>| {
            r.map_or("that are not encrypted".to_owned(), |r| {
                format!("encrypted to {r}")
            })
        };
        return Err(BackupError::Refused(format!(
            "{} holds backups {}; use another folder for backups {}",
            dest.display(),
            describe(previous.recipient.as_deref()),
            describe(recipient_text.as_deref()),
        )));
    }
    remove_old_snapshots(dest)?;
    let known = known_objects(dest);
    let mut report = BackupReport::default();

    // The records first: every file they name exists by the time they were committed.
    // Their snapshot is plaintext: it is made in a private folder of the data directory,
    // never in the backup folder (which may be synced off site).
    let work = PrivateWork::create(archive.data_dir())?;
    let snapshot = work.path().join("records.db");
    {
        let mut out = Connection::open(&snapshot)?;
        let copy = rusqlite::backup::Backup::new(conn, &mut out)?;
        copy.run_to_completion(256, std::time::Duration::from_millis(10), None)?;
        drop(copy);
        store::integrity_check(&out)?;
    }
    let (records_hash, records_size) =
        hash_file(&snapshot).map_err(io_error("cannot read", &snapshot))?;
    let (object_hash, written) = store_object(dest, &records_hash, &snapshot, recipient, &known)?;
    report.copied += usize::from(written > 0);
    report.bytes_copied += written;
    let records = Entry {
        path: "records.db".into(),
        kind: FileKind::Original,
        hash: records_hash,
        object_hash,
        size: records_size,
    };
    let snapshot_conn = Connection::open(&snapshot)?;
    let wanted = wanted_files(&snapshot_conn)?;
    let audit_head = audit::head(&snapshot_conn)?;
    drop(snapshot_conn);

    let mut files = Vec::new();
    for (path, kind) in wanted {
        if archive.remote().is_some() && Archive::is_remote_area(&path) {
            report.in_object_storage += 1;
            continue;
        }
        // Read where it lies, a buffer at a time (a video may be gigabytes).
        let local = archive
            .local_part()
            .local_path(&path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file's key"));
        let read = local.and_then(|local| Ok((hash_file(&local)?, local)));
        let ((hash, size), local) = match read {
            Ok(read) => read,
            Err(e) => {
                match kind {
                    // Renditions are rebuilt from the originals on restore.
                    FileKind::Rendition if e.kind() == io::ErrorKind::NotFound => {}
                    FileKind::Outbox if e.kind() == io::ErrorKind::NotFound => {
                        report.outbox_gone.push(path);
                    }
                    _ => report.missing.push(format!("{path} ({e})")),
                }
                continue;
            }
        };
        if kind == FileKind::Original
            && Path::new(&path).file_name().and_then(|n| n.to_str()) != Some(hash.as_str())
        {
            report
                .missing
                .push(format!("{path} (its content no longer matches its name)"));
            continue;
        }
        let (object_hash, written) = store_object(dest, &hash, &local, recipient, &known)?;
        report.copied += usize::from(written > 0);
        report.bytes_copied += written;
        files.push(Entry {
            path,
            kind,
            hash,
            object_hash,
            size,
        });
    }
    report.files = files.len();
    let manifest = Manifest {
        format: FORMAT,
        made_at: now.to_string(),
        encrypted: recipient.is_some(),
        recipient: recipient_text,
        records,
        files,
        audit_head,
    };
    let name = format!(
        "{}.json",
        now.strftime("%Y-%m-%dT%H%M%S%.fZ")
            .to_string()
            .replace('.', "-")
    );
    let path = dest.join("manifests").join(&name);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::BadManifest {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    write_atomically(&path, &json)?;
    write_atomically(&dest.join("LATEST"), name.as_bytes())?;
    report.manifest = path;
    Ok(report)
}

/// What pruning a backup folder removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub manifests_kept: usize,
    pub manifests_removed: usize,
    pub objects_removed: usize,
    pub bytes_freed: u64,
}

/// Removes the runs of `dest` older than `keep_days` (the newest is always kept) and then
/// every object no remaining run names: what was deleted or erased from the data
/// directory leaves the backups once the last run that held it is older than
/// `keep_days`. Manifests go first, objects after, so a prune cut short leaves only
/// unnamed objects, which the next prune removes. Not to be run while a backup writes
/// into the same folder.
///
/// # Errors
/// No backup in `dest`, an unreadable manifest (nothing is removed then), or a file
/// that cannot be removed.
pub fn prune(dest: &Path, keep_days: u32, now: Timestamp) -> Result<PruneReport, BackupError> {
    let (latest, _) = read_latest(dest)?;
    remove_old_snapshots(dest)?;
    let folder = dest.join("manifests");
    let cutoff = now
        .checked_sub(jiff::SignedDuration::from_hours(i64::from(keep_days) * 24))
        .unwrap_or(now);
    let mut keep = Vec::new();
    let mut remove = Vec::new();
    for entry in fs::read_dir(&folder).map_err(io_error("cannot read", &folder))? {
        let path = entry.map_err(io_error("cannot read", &folder))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = fs::read(&path).map_err(io_error("cannot read", &path))?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| BackupError::BadManifest {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        let made: Timestamp =
            manifest
                .made_at
                .parse()
                .map_err(|e: jiff::Error| BackupError::BadManifest {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
        if path == latest || made >= cutoff {
            keep.push(manifest);
        } else {
            remove.push(path);
        }
    }
    let mut report = PruneReport {
        manifests_kept: keep.len(),
        ..PruneReport::default()
    };
    for path in &remove {
        fs::remove_file(path).map_err(io_error("cannot remove", path))?;
        report.manifests_removed += 1;
    }
    sync_dir(&folder).map_err(io_error("cannot sync", &folder))?;
    let named: std::collections::BTreeSet<PathBuf> = keep
        .iter()
        .flat_map(|m| {
            m.files
                .iter()
                .chain(std::iter::once(&m.records))
                .map(|e| object_path(dest, &e.hash, m.encrypted))
        })
        .collect();
    let objects = dest.join("objects");
    let Ok(shards) = fs::read_dir(&objects) else {
        return Ok(report);
    };
    for shard in shards {
        let shard = shard.map_err(io_error("cannot read", &objects))?.path();
        if !shard.is_dir() {
            continue;
        }
        let mut removed_here = false;
        for object in fs::read_dir(&shard).map_err(io_error("cannot read", &shard))? {
            let object = object.map_err(io_error("cannot read", &shard))?.path();
            if named.contains(&object) {
                continue;
            }
            let size = fs::metadata(&object).map(|m| m.len()).unwrap_or(0);
            fs::remove_file(&object).map_err(io_error("cannot remove", &object))?;
            report.objects_removed += 1;
            report.bytes_freed += size;
            removed_here = true;
        }
        if removed_here {
            sync_dir(&shard).map_err(io_error("cannot sync", &shard))?;
        }
    }
    Ok(report)
}

/// The newest manifest of a backup folder.
fn latest_manifest(dest: &Path) -> Option<(PathBuf, Manifest)> {
    read_latest(dest).ok()
}

/// The audit head recorded by the newest backup in `dest` (`None` for a backup made
/// before heads were recorded, or of an empty log).
///
/// # Errors
/// No backup there, or its manifest is unreadable.
pub fn latest_audit_head(dest: &Path) -> Result<Option<audit::Head>, BackupError> {
    Ok(read_latest(dest)?.1.audit_head)
}

fn read_latest(dest: &Path) -> Result<(PathBuf, Manifest), BackupError> {
    let latest = dest.join("LATEST");
    let name = fs::read_to_string(&latest).map_err(|e| match e.kind() {
        // Nothing there, or not even a folder: never backed up there.
        io::ErrorKind::NotFound if !dest.is_dir() => BackupError::NotAFolder(dest.into()),
        io::ErrorKind::NotFound => BackupError::NoManifest(dest.into()),
        io::ErrorKind::PermissionDenied => BackupError::NotReadable(dest.into()),
        _ => BackupError::Io {
            what: "cannot read",
            path: latest.clone(),
            source: e,
        },
    })?;
    let name = name.trim();
    if name.contains('/') || name.contains("..") || name.is_empty() {
        return Err(BackupError::BadManifest {
            path: latest,
            detail: "LATEST does not name a manifest".into(),
        });
    }
    let path = dest.join("manifests").join(name);
    let bytes = fs::read(&path).map_err(io_error("cannot read the manifest", &path))?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| BackupError::BadManifest {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    if manifest.format != FORMAT {
        return Err(BackupError::BadManifest {
            path,
            detail: format!("format {} is not {FORMAT}", manifest.format),
        });
    }
    Ok((path, manifest))
}

/// What verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub manifest: PathBuf,
    /// When the run was made (the manifest's time).
    pub made_at: String,
    pub encrypted: bool,
    pub files: usize,
    /// Every problem: a missing object, a wrong hash, the database's checks.
    pub problems: Vec<String>,
    /// Whether the database's integrity check and audit chain were checked (an encrypted
    /// backup needs the key for that).
    pub records_checked: bool,
    pub audit_entries: i64,
}

/// Checks the newest backup in `dest`: every object present with the hash the manifest
/// says, and (unencrypted, or with `identity`) the records' integrity check and audit
/// hash chain. The records are read back into a private folder under `work_parent` (the
/// data directory), removed when done.
///
/// # Errors
/// No readable manifest.
pub fn verify(
    dest: &Path,
    identity: Option<&age::x25519::Identity>,
    work_parent: &Path,
) -> Result<VerifyReport, BackupError> {
    let (path, manifest) = read_latest(dest)?;
    let mut report = VerifyReport {
        manifest: path,
        made_at: manifest.made_at.clone(),
        encrypted: manifest.encrypted,
        files: manifest.files.len(),
        ..VerifyReport::default()
    };
    for entry in manifest
        .files
        .iter()
        .chain(std::iter::once(&manifest.records))
    {
        let object = object_path(dest, &entry.hash, manifest.encrypted);
        match hash_file(&object) {
            Ok((hash, _)) if hash == entry.object_hash => {}
            Ok(_) => report
                .problems
                .push(format!("{}: the backup's copy is damaged", entry.path)),
            Err(e) => report.problems.push(format!(
                "{}: the backup's copy is missing ({e})",
                entry.path
            )),
        }
    }
    if !manifest.encrypted || identity.is_some() {
        report.records_checked = true;
        let work = PrivateWork::create(work_parent)?;
        let copy = work.path().join("records.db");
        match read_object_to(dest, &manifest, &manifest.records, identity, &copy)
            .and_then(|()| check_records(&copy))
        {
            Ok(entries) => report.audit_entries = entries,
            Err(e) => report.problems.push(format!("records.db: {e}")),
        }
    }
    Ok(report)
}

/// Reads an object back into the new file `out`, decrypted, a buffer at a time, and checks
/// it is the content the manifest says (a file that is not is removed).
fn read_object_to(
    dest: &Path,
    manifest: &Manifest,
    entry: &Entry,
    identity: Option<&age::x25519::Identity>,
    out: &Path,
) -> Result<(), BackupError> {
    let object = object_path(dest, &entry.hash, manifest.encrypted);
    let file = File::open(&object).map_err(io_error("cannot read", &object))?;
    let target = File::create(out).map_err(io_error("cannot write", out))?;
    let mut writer = Hashing::new(io::BufWriter::new(target));
    let copied = match (manifest.encrypted, identity) {
        (false, _) => io::copy(&mut io::BufReader::new(file), &mut writer),
        (true, Some(key)) => {
            let decryptor = age::Decryptor::new_buffered(io::BufReader::new(file))
                .map_err(|e| BackupError::Key(e.to_string()))?;
            let mut reader = decryptor
                .decrypt(std::iter::once(key as &dyn age::Identity))
                .map_err(|e| BackupError::Key(e.to_string()))?;
            io::copy(&mut reader, &mut writer)
        }
        (true, None) => return Err(BackupError::NeedsKey("read it")),
    };
    let (buffered, hash, _) = writer.finish();
    let finished = copied.and_then(|_| {
        buffered
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()
    });
    if let Err(e) = finished {
        let _ = fs::remove_file(out);
        return Err(BackupError::Io {
            what: "cannot read back",
            path: object,
            source: e,
        });
    }
    if hash != entry.hash {
        let _ = fs::remove_file(out);
        return Err(BackupError::Refused(format!(
            "{}: the backup's copy is not the file that was backed up",
            entry.path
        )));
    }
    Ok(())
}

/// Opens a records database file read-only: integrity check and audit chain. Returns the
/// number of audit entries.
fn check_records(path: &Path) -> Result<i64, BackupError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    store::integrity_check(&conn)?;
    let chain = audit::verify(&conn)?;
    if !chain.problems.is_empty() {
        return Err(BackupError::Refused(format!(
            "its audit log does not verify ({} problem(s))",
            chain.problems.len()
        )));
    }
    Ok(chain.rows)
}

/// A relative path from a manifest, refused if it could leave the data directory.
fn safe_relative(path: &str) -> Result<PathBuf, BackupError> {
    let p = Path::new(path);
    if path.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(BackupError::Refused(format!(
            "the manifest names {path:?}, which is not a path inside a data directory"
        )));
    }
    Ok(p.to_path_buf())
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub files: usize,
    pub audit_entries: i64,
    pub renditions_rebuilt: usize,
}

/// Restores the newest backup in `src` into `data_dir`, which must hold no records: the
/// database (decrypted into a private folder and checked before anything is written),
/// then every file the restored records point to (each checked against its hash; an
/// original against its name too; a published copy only if the register says it is
/// still published), then the renditions a backup lacks, rebuilt from the originals. A
/// manifest naming anything else is refused before anything is written.
///
/// # Errors
/// The data directory already has records; the backup is damaged, encrypted without the
/// key, or names a path the records do not point to.
pub fn restore(
    src: &Path,
    data_dir: &Path,
    identity: Option<&age::x25519::Identity>,
) -> Result<RestoreReport, BackupError> {
    let (_, manifest) = read_latest(src)?;
    if manifest.encrypted && identity.is_none() {
        return Err(BackupError::NeedsKey("restore it"));
    }
    let db_path = data_dir.join("records.db");
    for existing in [db_path.clone(), data_dir.join("records.db-wal")] {
        if existing.exists() {
            return Err(BackupError::Refused(format!(
                "{} already exists; a restore never overwrites records: move it aside first",
                existing.display()
            )));
        }
    }
    let paths = manifest
        .files
        .iter()
        .map(|e| safe_relative(&e.path))
        .collect::<Result<Vec<_>, _>>()?;
    fs::create_dir_all(data_dir).map_err(io_error("cannot create", data_dir))?;
    let work = PrivateWork::create(data_dir)?;
    let records = work.path().join("records.db");
    read_object_to(src, &manifest, &manifest.records, identity, &records)?;
    let audit_entries = check_records(&records)?;
    let wanted: std::collections::BTreeSet<(String, FileKind)> = {
        let conn =
            Connection::open_with_flags(&records, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        wanted_files(&conn)?.into_iter().collect()
    };
    for entry in &manifest.files {
        if !wanted.contains(&(entry.path.clone(), entry.kind)) {
            return Err(BackupError::Refused(format!(
                "the manifest names {:?} ({:?}), which the backed-up records do not point to; nothing was restored",
                entry.path, entry.kind
            )));
        }
        let named = Path::new(&entry.path).file_name().and_then(|n| n.to_str());
        if entry.kind == FileKind::Original && named != Some(entry.hash.as_str()) {
            return Err(BackupError::Refused(format!(
                "the manifest gives the original {:?} content of another name; nothing was restored",
                entry.path
            )));
        }
    }

    let mut report = RestoreReport {
        audit_entries,
        ..RestoreReport::default()
    };
    for (entry, relative) in manifest.files.iter().zip(&paths) {
        let target = data_dir.join(relative);
        let dir = target.parent().unwrap_or(data_dir);
        fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
        let temp = tempfile::Builder::new()
            .prefix(".restore-")
            .tempfile_in(dir)
            .map_err(io_error("cannot write in", dir))?
            .into_temp_path();
        read_object_to(src, &manifest, entry, identity, &temp)?;
        temp.persist(&target)
            .map_err(|e| e.error)
            .map_err(io_error("cannot write", &target))?;
        sync_dir(dir).map_err(io_error("cannot sync", dir))?;
        report.files += 1;
    }
    // The records last: a restore cut short leaves no records.db, so it can be run again.
    fs::rename(&records, &db_path).map_err(io_error("cannot write", &db_path))?;
    sync_dir(data_dir).map_err(io_error("cannot sync", data_dir))?;
    let mut conn = store::open(&db_path)?;
    let chain = audit::verify(&conn)?;
    if !chain.problems.is_empty() || chain.rows != audit_entries {
        return Err(BackupError::Refused(
            "the restored audit log does not verify; keep the backup and investigate".into(),
        ));
    }
    report.renditions_rebuilt = rebuild_renditions(&mut conn, &Archive::local(data_dir))?;
    Ok(report)
}

/// Writes the thumbnail and preview of every photo whose original is there and whose
/// renditions are not. Returns how many photos got them.
pub fn rebuild_renditions(conn: &mut Connection, archive: &Archive) -> Result<usize, BackupError> {
    // A restore knows no config: the default sandbox, this program as its worker.
    let decoders = crate::infra::decoders::of(&Default::default());
    let mut rebuilt = 0;
    let store = archive.photo_store()?;
    for hash in store::photos::content_hashes(conn)? {
        let (Ok(thumbnail), Ok(preview)) = (
            archive.size(&Archive::thumbnail_key(&hash)),
            archive.size(&Archive::preview_key(&hash)),
        ) else {
            continue;
        };
        if thumbnail.is_some() && preview.is_some() {
            continue;
        }
        let Ok(content) = hash.parse::<consentcam_media::ContentHash>() else {
            continue;
        };
        if !store.contains(&content).unwrap_or(false) {
            continue;
        }
        let analysis = consentcam_media::analyse_stored(
            &store,
            &content,
            &consentcam_media::AnalysisOptions::default(),
            &decoders,
            None,
        );
        if crate::ops::ingest::write_renditions(archive, &hash, &analysis)? > 0 {
            rebuilt += 1;
        }
    }
    Ok(rebuilt)
}

/// Records a backup `verify` found whole (no problem), with its audit entry: `/health`
/// says from it whether backups are current.
///
/// # Errors
/// The report has problems, its time does not read, or the records cannot be written.
pub fn record_verified(
    conn: &mut rusqlite::Connection,
    dest: &Path,
    report: &VerifyReport,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<(), BackupError> {
    if !report.problems.is_empty() {
        return Err(BackupError::Refused(
            "a backup with problems is not recorded as whole".into(),
        ));
    }
    let made_at: jiff::Timestamp =
        report
            .made_at
            .parse()
            .map_err(|e| BackupError::BadManifest {
                path: report.manifest.clone(),
                detail: format!("made_at: {e}"),
            })?;
    let run = store::backups::BackupRun {
        made_at,
        verified_at: now,
        destination: dest.display().to_string(),
        encrypted: report.encrypted,
        files: i64::try_from(report.files).unwrap_or(i64::MAX),
    };
    crate::ops::audited(conn, actor, audit::Action::BackupVerified, now, |tx| {
        let id = store::backups::insert_run(tx, &run)?;
        Ok((
            id,
            format!("backup:{id}"),
            serde_json::json!({ "files": run.files, "encrypted": run.encrypted }),
        ))
    })
    .map(|_| ())
    .map_err(BackupError::from)
}
