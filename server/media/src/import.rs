//! Import a returned card into the store and the catalogue (rules I2, I3, I4, I6).
//!
//! For each file: copy with a streaming hash -> flush -> rename to its hash -> flush the
//! folder -> commit the catalogue row. A kill at any point leaves either no row (the next
//! run copies the file again) or a row whose file is already durable. Content already
//! committed is not stored again. A bad file is recorded with a reason and the batch goes
//! on; only a failing store or catalogue stops it. Analysis is not done here: the caller
//! queues it for the stored files, so a returned camera is done as soon as it is safe.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::card::{self, CardEntry, CardError, CardPath, EntryKind};
use crate::catalogue::{Catalogue, CatalogueError, FileRecord};
use crate::format::{self, MediaKind, SNIFF_LEN};
use crate::hash::ContentHash;
use crate::problem::Problem;
use crate::storage::Storage;
use crate::store::{Store, StoreError};

/// Bytes between two `Copying` events for one large file.
const COPY_EVENT_EVERY: u64 = 8 * 1024 * 1024;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// After every file is committed, delete from the card the files whose hash is
    /// committed and present in the store (needs the card mounted read-write).
    pub wipe_after_verify: bool,
    /// Only for the crash test's negative control: the order of the commit.
    #[doc(hidden)]
    pub commit_order: CommitOrder,
}

/// When the catalogue row is written. Anything but the default is a bug, kept so the crash
/// test can prove it would notice one.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommitOrder {
    /// After the file and its folder are flushed (correct).
    #[default]
    AfterDurable,
    /// Before the file is even renamed into the store (wrong on purpose).
    BeforeDurable,
}

/// What happened to one card entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// New content, now durable and committed.
    Stored,
    /// The content was already committed (from this card or an earlier one).
    Duplicate,
    /// Not read at all (a link, a device node, an unreadable file).
    Refused,
}

/// One card entry after import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedFile {
    /// Where it was on the card.
    pub card_path: CardPath,
    /// Stored, duplicate or refused.
    pub outcome: Outcome,
    /// Content hash (none when refused).
    pub hash: Option<ContentHash>,
    /// Bytes copied.
    pub size: u64,
    /// Sniffed kind (none when refused).
    pub kind: Option<MediaKind>,
    /// Import-time problems; any problem means never publishable.
    pub problems: Vec<Problem>,
}

/// The whole import, once every file is safely stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Every entry, in card order.
    pub files: Vec<ImportedFile>,
    /// The wipe, if one was asked for.
    pub wipe: Option<WipeReport>,
}

impl ImportReport {
    /// Count of entries with this outcome.
    #[must_use]
    pub fn count(&self, outcome: Outcome) -> usize {
        self.files.iter().filter(|f| f.outcome == outcome).count()
    }
}

/// Progress, for the kiosk's bar and the web UI's live count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ImportEvent {
    /// The card was listed.
    Scanned { files: u64, bytes: u64 },
    /// Part of a large file was copied.
    Copying {
        index: u64,
        bytes_done: u64,
        bytes_total: u64,
    },
    /// One entry is finished (`index` counts from 1).
    FileDone {
        index: u64,
        files: u64,
        bytes_done: u64,
        bytes_total: u64,
        card_path: CardPath,
        outcome: Outcome,
        /// Sniffed kind (none when refused).
        kind: Option<MediaKind>,
    },
    /// Every file is safely stored; the device may be put away.
    Finished {
        stored: u64,
        duplicates: u64,
        refused: u64,
    },
    /// The import stopped; nothing after the last `FileDone` is acknowledged.
    Failed { message: String },
}

impl ImportEvent {
    /// Share of the bytes done, 0.0 to 1.0, where the event says.
    #[must_use]
    pub fn fraction(&self) -> Option<f32> {
        let (done, total) = match *self {
            Self::Copying {
                bytes_done,
                bytes_total,
                ..
            }
            | Self::FileDone {
                bytes_done,
                bytes_total,
                ..
            } => (bytes_done, bytes_total),
            Self::Finished { .. } => return Some(1.0),
            Self::Scanned { .. } | Self::Failed { .. } => return None,
        };
        #[allow(clippy::cast_precision_loss)]
        Some(if total == 0 {
            1.0
        } else {
            (done as f64 / total as f64).min(1.0) as f32
        })
    }
}

/// Why an import stopped. Bad files never stop it; these do.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The card could not be listed.
    #[error(transparent)]
    Card(#[from] CardError),
    /// The store failed; after a flush failure nothing more is acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The catalogue failed.
    #[error("the photo catalogue failed: {0}")]
    Catalogue(#[source] CatalogueError),
}

/// Import every file under `card_root`.
///
/// Returns when every file is durable and committed (or refused with a reason). Re-running
/// after a crash or an error completes the job without duplicates.
///
/// # Errors
/// The card cannot be listed, the store or catalogue fails. A `Failed` event is sent too.
pub fn import_card(
    card_root: &Path,
    store: &Store,
    catalogue: &mut dyn Catalogue,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&ImportEvent),
) -> Result<ImportReport, ImportError> {
    let result = run(card_root, store, catalogue, options, progress);
    if let Err(e) = &result {
        tracing::warn!(error = %e, "import stopped");
        progress(&ImportEvent::Failed {
            message: e.to_string(),
        });
    }
    result
}

fn run(
    card_root: &Path,
    store: &Store,
    catalogue: &mut dyn Catalogue,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&ImportEvent),
) -> Result<ImportReport, ImportError> {
    let lock = store.lock()?;
    let entries = card::scan(card_root)?;
    let files = entries.len() as u64;
    let bytes_total = card::total_bytes(&entries);
    tracing::info!(files, bytes_total, "import started");
    progress(&ImportEvent::Scanned {
        files,
        bytes: bytes_total,
    });
    let mut report = ImportReport::default();
    let mut bytes_done = 0u64;
    for (i, entry) in entries.iter().enumerate() {
        let index = i as u64 + 1;
        let done = import_one(entry, store, &lock, catalogue, options, &mut |copied| {
            progress(&ImportEvent::Copying {
                index,
                bytes_done: bytes_done + copied,
                bytes_total,
            });
        })?;
        if let EntryKind::File { size, .. } = entry.kind {
            bytes_done += size;
        }
        tracing::debug!(card_path = %done.card_path, outcome = ?done.outcome, "file imported");
        progress(&ImportEvent::FileDone {
            index,
            files,
            bytes_done,
            bytes_total,
            card_path: done.card_path.clone(),
            outcome: done.outcome,
            kind: done.kind,
        });
        report.files.push(done);
    }
    let event = ImportEvent::Finished {
        stored: report.count(Outcome::Stored) as u64,
        duplicates: report.count(Outcome::Duplicate) as u64,
        refused: report.count(Outcome::Refused) as u64,
    };
    tracing::info!(?event, "import finished");
    drop(lock);
    if options.wipe_after_verify {
        report.wipe = Some(wipe_card(card_root, store, catalogue)?);
    }
    progress(&event);
    Ok(report)
}

fn refused(entry: &CardEntry, problem: Problem) -> ImportedFile {
    let mut problems = entry.name_problems.clone();
    problems.push(problem);
    ImportedFile {
        card_path: entry.card_path.clone(),
        outcome: Outcome::Refused,
        hash: None,
        size: 0,
        kind: None,
        problems,
    }
}

fn import_one(
    entry: &CardEntry,
    store: &Store,
    lock: &crate::store::StoreLock,
    catalogue: &mut dyn Catalogue,
    options: &ImportOptions,
    on_copy: &mut dyn FnMut(u64),
) -> Result<ImportedFile, ImportError> {
    let (listed_size, dev, ino) = match &entry.kind {
        EntryKind::Refused(p) => return Ok(refused(entry, p.clone())),
        EntryKind::File { size, dev, ino } => (*size, *dev, *ino),
    };
    let file = match File::open(&entry.path) {
        Ok(f) => f,
        Err(e) => {
            return Ok(refused(
                entry,
                Problem::Unreadable {
                    detail: e.kind().to_string(),
                },
            ));
        }
    };
    // The entry may have been swapped for a link or another file since the listing.
    match file.metadata() {
        Ok(m) if m.is_file() && m.dev() == dev && m.ino() == ino => {}
        _ => return Ok(refused(entry, Problem::ChangedDuringImport)),
    }
    let precommitted = if options.commit_order == CommitOrder::BeforeDurable {
        commit_before_copy(entry, listed_size, catalogue)?
    } else {
        false
    };
    let mut reader = Watched {
        inner: file,
        head: Vec::with_capacity(SNIFF_LEN),
        copied: 0,
        next_event: COPY_EVENT_EVERY,
        on_copy,
    };
    let staged = match store.copy_in(lock, &mut reader) {
        Ok(s) => s,
        Err(StoreError::Source(e)) => {
            return Ok(refused(
                entry,
                Problem::Unreadable {
                    detail: e.kind().to_string(),
                },
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let kind = format::sniff(&reader.head);
    let mut problems = entry.name_problems.clone();
    if staged.size() != listed_size {
        problems.push(Problem::ChangedDuringImport);
    }
    problems.extend(content_problems(&entry.card_path, kind));
    let hash = staged.hash();
    let record = FileRecord {
        hash,
        size: staged.size(),
        card_path: entry.card_path.clone(),
        kind,
        problems: problems.clone(),
    };
    let committed = !precommitted
        && catalogue
            .is_committed(&hash)
            .map_err(ImportError::Catalogue)?;
    let outcome = if committed && store.contains(&hash)? {
        drop(staged);
        Outcome::Duplicate
    } else {
        // Also repairs a committed row whose file went missing (a restore from backup,
        // say): the copy just made is verified by its hash.
        store.persist(lock, staged)?;
        if !precommitted && !committed {
            catalogue.commit(&record).map_err(ImportError::Catalogue)?;
        }
        if committed {
            tracing::warn!(%hash, "committed file was missing from the store; restored");
            Outcome::Duplicate
        } else {
            Outcome::Stored
        }
    };
    Ok(ImportedFile {
        card_path: entry.card_path.clone(),
        outcome,
        hash: Some(hash),
        size: record.size,
        kind: Some(kind),
        problems,
    })
}

/// What a file's content says is wrong with it, whichever way it arrived: nothing in it,
/// or an extension that names another kind.
#[must_use]
pub fn content_problems(card_path: &CardPath, kind: MediaKind) -> Vec<Problem> {
    let mut problems = Vec::new();
    if kind == MediaKind::Empty {
        problems.push(Problem::Empty);
    }
    problems.extend(crate::problem::check_extension(card_path.extension(), kind));
    problems
}

/// The deliberate bug behind [`CommitOrder::BeforeDurable`]: hash the card file, commit
/// its row, and only then copy it. Returns whether it committed a new row.
fn commit_before_copy(
    entry: &CardEntry,
    size: u64,
    catalogue: &mut dyn Catalogue,
) -> Result<bool, ImportError> {
    let hash = File::open(&entry.path)
        .and_then(ContentHash::of_reader)
        .map_err(|e| ImportError::Store(StoreError::Source(e)))?;
    if catalogue
        .is_committed(&hash)
        .map_err(ImportError::Catalogue)?
    {
        return Ok(false);
    }
    let record = FileRecord {
        hash,
        size,
        card_path: entry.card_path.clone(),
        kind: MediaKind::Other,
        problems: Vec::new(),
    };
    catalogue.commit(&record).map_err(ImportError::Catalogue)?;
    Ok(true)
}

/// A reader that keeps the first bytes for sniffing and reports copy progress.
struct Watched<'a> {
    inner: File,
    head: Vec<u8>,
    copied: u64,
    next_event: u64,
    on_copy: &'a mut dyn FnMut(u64),
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let want = SNIFF_LEN.saturating_sub(self.head.len()).min(n);
        self.head.extend_from_slice(&buf[..want]);
        self.copied += n as u64;
        if self.copied >= self.next_event {
            self.next_event = self.copied + COPY_EVENT_EVERY;
            (self.on_copy)(self.copied);
        }
        Ok(n)
    }
}

/// What a wipe did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WipeReport {
    /// Deleted from the card: their hash is committed and the file is in the store.
    pub deleted: Vec<CardPath>,
    /// Left on the card (refused, not committed, changed, or not removable).
    pub kept: Vec<CardPath>,
}

/// Delete from the card only the files whose current content hash is committed and
/// present in the store (rule I4). Everything else stays. Needs a writable mount.
///
/// # Errors
/// The card cannot be listed or the catalogue cannot be read. A file that cannot be
/// deleted is kept and listed, not an error.
pub fn wipe_card(
    card_root: &Path,
    store: &Store,
    catalogue: &dyn Catalogue,
) -> Result<WipeReport, ImportError> {
    let committed = catalogue
        .committed_hashes()
        .map_err(ImportError::Catalogue)?;
    wipe_held(card_root, store.storage(), &mut |hash| {
        committed.contains(hash) && store.contains(hash).unwrap_or(false)
    })
}

/// Delete from the card only the files whose current content hash (read again now) is
/// one `held` confirms is kept safely elsewhere. Everything else stays.
///
/// # Errors
/// The card cannot be listed. A file that cannot be deleted is kept and listed, not an
/// error.
pub fn wipe_held(
    card_root: &Path,
    storage: &dyn Storage,
    held: &mut dyn FnMut(&ContentHash) -> bool,
) -> Result<WipeReport, ImportError> {
    let mut report = WipeReport::default();
    let mut touched = std::collections::BTreeSet::new();
    for entry in card::scan(card_root)? {
        let deletable = match entry.kind {
            EntryKind::File { .. } => File::open(&entry.path)
                .and_then(ContentHash::of_reader)
                .is_ok_and(|hash| held(&hash)),
            EntryKind::Refused(_) => false,
        };
        if deletable && fs::remove_file(&entry.path).is_ok() {
            if let Some(dir) = entry.path.parent() {
                touched.insert(dir.to_path_buf());
            }
            report.deleted.push(entry.card_path);
        } else {
            report.kept.push(entry.card_path);
        }
    }
    for dir in touched {
        if let Err(e) = storage.sync_dir(&dir) {
            tracing::warn!(error = %e, "flushing the card after a wipe failed");
        }
    }
    tracing::info!(
        deleted = report.deleted.len(),
        kept = report.kept.len(),
        "card wiped"
    );
    Ok(report)
}
