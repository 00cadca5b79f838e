//! The operations: the only way anything is written. Each takes the actor and the time,
//! owns its transaction and writes its typed audit entry ([`crate::store::audit::Action`])
//! in it; API handlers, page handlers and CLI commands parse, call one, and render.
//!
//! - [`people`]: people and their consent forms, scans, restrictions, leaving dates, the
//!   consent CSV, and reads of sensitive records (each logged).
//! - [`photos`]: tagging a photo (faces, tags, covers, caption, confirmation, drawn faces),
//!   provenance acknowledgements, requests for publication.
//! - [`approvals`]: a director's decisions, takedowns due, the daily sweep.
//! - [`registry`]: accounts, partner organisations, devices, badges, kiosks.
//! - [`sign_in`]: logins, second factors, ending sessions.
//! - [`custody`]: the kiosks' events.
//!
//! Larger areas keep their own module with the same shape: `groups` (groups and
//! bookings), `publish` (publication and takedowns), `ingest`, `import`, `retention`,
//! `erasure`.

pub mod approvals;
pub mod custody;
pub mod people;
pub mod photos;
pub mod registry;
pub mod sign_in;
pub mod sites;
pub mod tagging;

use jiff::Timestamp;
use rusqlite::{Connection, Transaction};
use serde_json::Value;

use crate::store::Result;
use crate::store::audit::Action;

/// Appends an audit entry in the caller's transaction.
pub(crate) fn log(
    conn: &Connection,
    actor: &str,
    action: Action,
    subject: String,
    details: serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    crate::store::audit::append(
        conn,
        &crate::store::audit::Entry {
            at: now,
            actor,
            action,
            subject: &subject,
            details,
        },
    )
    .map(|_| ())
}

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
    log(&tx, actor, action, subject, details, now)?;
    tx.commit()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    /// Handlers parse, call an operation and render: no web handler opens a transaction
    /// or writes an audit entry itself.
    #[test]
    fn no_web_handler_writes_on_its_own() {
        let files = crate::source_tree::files("web");
        assert!(files.len() > 20, "only {} files read", files.len());
        for (name, text) in files {
            let writes = [
                "transaction()",
                "audit::append(",
                "caller.audit(",
                "who.audit(",
            ]
            .iter()
            .map(|needle| text.matches(needle).count())
            .sum::<usize>();
            assert_eq!(
                writes, 0,
                "{name} writes on its own {writes} time(s): call an operation"
            );
        }
    }
}
