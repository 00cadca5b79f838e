//! The record of what is safely stored: a trait the server implements on its database.
//!
//! The import writes a row only after the file it names is durable in the store, so a
//! committed hash always means "these bytes are on disk". This module owns the trait and
//! the record type only; it must not know how or where rows are kept.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::card::CardPath;
use crate::format::MediaKind;
use crate::hash::ContentHash;
use crate::problem::Problem;

/// Whatever went wrong inside a catalogue implementation (a database error, say).
pub type CatalogueError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One stored file as the import saw it on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The content hash; the file is at `Store::object_path(hash)`.
    pub hash: ContentHash,
    /// Size in bytes.
    pub size: u64,
    /// Where it was on the card (an id for the operator, not a person's name).
    pub card_path: CardPath,
    /// What kind of file the content is (sniffed from its bytes, not its name).
    pub kind: MediaKind,
    /// Problems found at import time (a suspicious name, a wrong extension). Any problem
    /// means the file is never publishable.
    pub problems: Vec<Problem>,
}

/// The server's record of committed files.
///
/// Implementations must make `commit` durable before returning (a committed SQLite
/// transaction) and idempotent: committing a hash that is already committed is not an
/// error.
pub trait Catalogue {
    /// Is a row for this content already committed?
    ///
    /// # Errors
    /// The catalogue could not be read.
    fn is_committed(&self, hash: &ContentHash) -> Result<bool, CatalogueError>;

    /// Commit a row for a file that is already durable in the store.
    ///
    /// # Errors
    /// The row could not be written; the import stops and reports it.
    fn commit(&mut self, record: &FileRecord) -> Result<(), CatalogueError>;

    /// Every committed hash (for checks and for wipe-after-verify).
    ///
    /// # Errors
    /// The catalogue could not be read.
    fn committed_hashes(&self) -> Result<HashSet<ContentHash>, CatalogueError>;
}
