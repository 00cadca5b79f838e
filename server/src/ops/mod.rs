//! The operations: the only way anything is written. Each takes the actor and the time,
//! owns its transaction and writes its typed audit entry ([`crate::store::audit::Action`])
//! in it; API handlers, page handlers and CLI commands parse, call one, and render.
//!
//! - [`photos`]: tagging a photo (faces, tags, covers, caption, confirmation), provenance
//!   acknowledgements, requests for publication.
//! - [`registry`]: accounts, partner organisations, devices, badges, kiosks.
//!
//! The other areas' operations are in `records` (people and consents, photos, tagging,
//! approvals), `groups` (groups and bookings), `publish` (publication and takedowns),
//! `retention` and `erasure`.

pub mod photos;
pub mod registry;

use jiff::Timestamp;
use rusqlite::{Connection, Transaction};
use serde_json::Value;

use crate::store::Result;
use crate::store::audit::Action;

/// The shape of every operation: `change` runs in a transaction and says what it did to
/// (the audit entry's subject, and its details: ids and codes only); the entry is appended
/// in the same transaction, which then commits. Either both are kept or neither.
pub(crate) fn audited<T>(
    conn: &mut Connection,
    actor: &str,
    action: Action,
    now: Timestamp,
    change: impl FnOnce(&Transaction<'_>) -> Result<(T, String, Value)>,
) -> Result<T> {
    let tx = conn.transaction()?;
    let (value, subject, details) = change(&tx)?;
    crate::records::log(&tx, actor, action, subject, details, now)?;
    tx.commit()?;
    Ok(value)
}
