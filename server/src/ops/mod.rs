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

#[cfg(test)]
mod tests {
    /// Handlers parse, call an operation and render: no web handler opens a transaction
    /// or writes an audit entry itself, except the places still to move (logging in and
    /// the second factor, the kiosk's event replay), which may not grow.
    #[test]
    fn no_web_handler_writes_on_its_own() {
        let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
        let allowed = [
            ("login.rs", 4),
            ("ui/sign_in.rs", 4),
            ("api/kiosk.rs", 1),
            ("access.rs", 1),
        ];
        let mut stack = vec![web.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let writes = [
                    "transaction()",
                    "audit::append(",
                    "caller.audit(",
                    "who.audit(",
                ]
                .iter()
                .map(|needle| text.matches(needle).count())
                .sum::<usize>();
                let name = path
                    .strip_prefix(&web)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let limit = allowed
                    .iter()
                    .find(|(file, _)| *file == name)
                    .map_or(0, |(_, n)| *n);
                assert!(
                    writes <= limit,
                    "{name} writes on its own {writes} time(s) (allowed {limit}): call an operation"
                );
            }
        }
    }
}
