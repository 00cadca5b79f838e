//! The operations: every change to the records and every process that writes. Each takes
//! the actor and the time, owns its transaction and writes its typed audit entry
//! ([`crate::store::audit::Action`]) in it; API handlers, page handlers and CLI commands
//! parse, call one, and render.
//!
//! - [`people`]: people and their consent forms, scans, restrictions, leaving dates, and
//!   reads of sensitive records (each logged); [`consent_csv`]: the consent CSV.
//! - [`photos`], [`tagging`]: tagging a photo (faces, tags, covers, caption,
//!   confirmation, drawn faces), provenance acknowledgements, requests for publication.
//! - [`approvals`]: a director's decisions, takedowns due, the daily sweep;
//!   [`decisions`]: the consent decision of a stored photo.
//! - [`registry`], [`sites`]: accounts, partner organisations, devices, badges, kiosks,
//!   the sites records belong to.
//! - [`sign_in`]: logins, second factors, ending sessions.
//! - [`custody`]: the kiosks' events; [`groups`]: groups and bookings.
//! - [`parents`]: contacts, consent requests by mail, and answers and withdrawals given
//!   online through a personal link.
//! - [`ingest`]: a returned camera's card, its analysis and face detection.
//! - [`publish`]: publication, takedowns and delivery to the web endpoints.
//! - [`backup`], [`retention`], [`erasure`], [`subject_access`]: backups and restores,
//!   the retention purge, erasure and subject access exports.

pub mod approvals;
pub mod backup;
pub mod consent_csv;
pub mod custody;
pub mod decisions;
pub mod erasure;
pub mod groups;
pub mod ingest;
pub mod mail;
pub mod parents;
pub mod people;
pub mod photos;
pub mod publish;
pub mod registry;
pub mod retention;
pub mod sign_in;
pub mod sites;
pub mod subject_access;
pub mod tagging;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, Transaction};
use serde_json::Value;

use crate::store::Result;
use crate::store::audit::Action;

/// Who acts, when, and under which rules: what an operation that decides needs, as one
/// value. `today` is `now`'s date in the configured time zone.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The account acting; `None`: the system or the command line.
    pub by: Option<crate::domain::AccountId>,
    pub today: Date,
    pub now: Timestamp,
    pub policy: crate::rules::consent::ConsentPolicy,
}

impl Ctx {
    /// The audit log's name for who acts (`account:7`, or `system`).
    #[must_use]
    pub fn actor(&self) -> String {
        self.by
            .map_or("system".to_owned(), |a| format!("account:{a}"))
    }
}

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
