//! The audit log: append-only and hash-chained.
//!
//! Each row's hash covers its id, its content and the previous row's hash, so an edited,
//! deleted, inserted or reordered row breaks the chain. The database refuses UPDATE and
//! DELETE on the table (triggers); [`verify`] also checks those triggers are still there
//! word for word and that the newest row was not cut off. Details hold ids, never names.
//!
//! Someone who can write the database file could rewrite the whole chain from an edited
//! row on, hashes and all. The [`Head`] (the newest row's id and hash) is therefore copied
//! out, into every backup's manifest and printed by `check-audit`: [`verify_head`] checks
//! that the live log still holds that row with that hash, which proves every row up to it
//! is unchanged.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Result;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Declares [`Action`]: each variant with the stable word it is stored as.
macro_rules! actions {
    ($($variant:ident => $word:literal,)*) => {
        /// What an audit entry records. Stored as its word (e.g. `person.create`), which
        /// never changes once released: entries already written keep it, and the hash chain
        /// covers it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, for documentation and tests.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $word,)*
                }
            }
        }
    };
}

actions! {
    AccountCreate => "account.create",
    AccountLogin => "account.login",
    AccountLoginFailed => "account.login_failed",
    AccountRecoveryCodeUsed => "account.recovery_code_used",
    AccountRecoveryCodesNew => "account.recovery_codes_new",
    AccountSecondFactor => "account.second_factor",
    AccountSecondFactorFailed => "account.second_factor_failed",
    AccountSecondFactorOff => "account.second_factor_off",
    AccountSecondFactorOn => "account.second_factor_on",
    AccountSessionEnd => "account.session_end",
    AccountMailChoices => "account.mail_choices",
    AccountSetEmail => "account.set_email",
    AccountSetPassword => "account.set_password",
    AccountUpdate => "account.update",
    BadgeEnrol => "badge.enrol",
    BadgeSetActive => "badge.set_active",
    BookingCancel => "booking.cancel",
    BookingCreate => "booking.create",
    ConsentAdd => "consent.add",
    ConsentCorrect => "consent.correct",
    ConsentEvidence => "consent.evidence",
    ConsentImport => "consent.import",
    ConsentScanViewed => "consent.scan_viewed",
    ConsentWithdraw => "consent.withdraw",
    ConsentWithdrawalEffects => "consent.withdrawal_effects",
    ConsentContactAdd => "consent.contact_add",
    ConsentContactRemove => "consent.contact_remove",
    ConsentRequest => "consent.request",
    ConsentLinkLocked => "consent.link_locked",
    ConsentOnlineAnswer => "consent.online_answer",
    ConsentOnlineWithdraw => "consent.online_withdraw",
    ConsentWording => "consent.wording",
    BackupVerified => "backup.verified",
    CustodyImplicitReturn => "custody.implicit_return",
    MailSendAgain => "mail.send_again",
    MailTest => "mail.test",
    ImportConfirmWithoutPeople => "import.confirm_without_people",
    ImportCoverCautioned => "import.cover_cautioned",
    ImportDismissSmallFaces => "import.dismiss_small_faces",
    CustodyReturn => "custody.return",
    CustodyReturnWithoutSignOut => "custody.return_without_sign_out",
    CustodySignOut => "custody.sign_out",
    DeviceCreate => "device.create",
    GroupAddMember => "group.add_member",
    GroupArchive => "group.archive",
    GroupCreate => "group.create",
    GroupRemoveMember => "group.remove_member",
    GroupRename => "group.rename",
    GroupRestore => "group.restore",
    KioskCreate => "kiosk.create",
    KioskEventRefused => "kiosk.event_refused",
    KioskJournalRefused => "kiosk.journal_refused",
    KioskRevoke => "kiosk.revoke",
    KioskRotate => "kiosk.rotate",
    KioskTap => "kiosk.tap",
    PartnerCreate => "partner.create",
    PersonCreate => "person.create",
    PersonErased => "person.erased",
    PersonExported => "person.exported",
    PersonLeft => "person.left",
    PersonRestrict => "person.restrict",
    PersonRestrictionLifted => "person.restriction_lifted",
    PersonUpdate => "person.update",
    PersonViewed => "person.viewed",
    OutboxOrphanWithdrawn => "outbox.orphan_withdrawn",
    PhotoAnalyse => "photo.analyse",
    PhotoApprove => "photo.approve",
    PhotoCaption => "photo.caption",
    PhotoConfirmPeople => "photo.confirm_people",
    PhotoCover => "photo.cover",
    PhotoDeliver => "photo.deliver",
    PhotoDeliveryWithheld => "photo.delivery_withheld",
    PhotoDetectFaces => "photo.detect_faces",
    PhotoEndpointRemoved => "photo.endpoint_removed",
    PhotoFace => "photo.face",
    PhotoFaceDrawn => "photo.face_drawn",
    PhotoFacesAck => "photo.faces_ack",
    PhotoImport => "photo.import",
    PhotoProvenanceAck => "photo.provenance_ack",
    PhotoPublish => "photo.publish",
    PhotoPublishRefused => "photo.publish_refused",
    PhotoReject => "photo.reject",
    PhotoRequestPublication => "photo.request_publication",
    PhotoTag => "photo.tag",
    PhotoTagging => "photo.tagging",
    PhotoUntag => "photo.untag",
    PublicationTakedownDone => "publication.takedown_done",
    PublicationTakedownDue => "publication.takedown_due",
    RetentionPurge => "retention.purge",
    SiteAssign => "site.assign",
    SiteCreate => "site.create",
    TakedownSweep => "takedown.sweep",
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that happened, by whom, to what.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub at: Timestamp,
    /// `account:<id>`, `kiosk:<id>`, `cli`, `system`.
    pub actor: &'a str,
    pub action: Action,
    /// What it was done to, e.g. `person:12`.
    pub subject: &'a str,
    /// Ids and codes only.
    pub details: Value,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: Value,
    pub hash: String,
}

fn row_hash(
    prev: &str,
    id: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
) -> String {
    let canonical = serde_json::json!([prev, id, at, actor, action, subject, details]).to_string();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Appends `entry`. Call it inside the same transaction as the change it records, so that
/// either both are kept or neither.
pub fn append(conn: &Connection, entry: &Entry<'_>) -> Result<i64> {
    let (prev_id, prev_hash): (i64, String) = conn
        .query_row(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok((0, GENESIS.to_owned())),
            e => Err(e),
        })?;
    let id = prev_id + 1;
    let at = entry.at.to_string();
    let details = entry.details.to_string();
    let hash = row_hash(
        &prev_hash,
        id,
        &at,
        entry.actor,
        entry.action.as_str(),
        entry.subject,
        &details,
    );
    conn.execute(
        "INSERT INTO audit_log (id, at, actor, action, subject, details, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            at,
            entry.actor,
            entry.action.as_str(),
            entry.subject,
            details,
            prev_hash,
            hash
        ],
    )?;
    Ok(id)
}

/// Filters for reading the log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action_prefix: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<u32>,
    /// Only rows older than this id: the next page after a page ending at it (keyset
    /// paging, as fast at the millionth row as at the first).
    pub before: Option<i64>,
    /// Only rows about a record of this site (for an account of one site: entries about
    /// another site's records, or about no site's, are not its to read).
    pub site: Option<i64>,
}

/// Rows matching `filter`, newest first.
pub fn list(conn: &Connection, filter: &Filter) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, at, actor, action, subject, details, hash FROM audit_log \
         WHERE (?1 IS NULL OR action LIKE ?1 || '%') AND (?2 IS NULL OR actor = ?2) \
           AND (?3 IS NULL OR subject = ?3) AND (?4 IS NULL OR at >= ?4) \
           AND (?5 IS NULL OR at < ?5) AND (?7 IS NULL OR id < ?7) \
           AND (?8 IS NULL OR {} = ?8) \
         ORDER BY id DESC LIMIT ?6",
        super::sites::subject_site_sql()
    ))?;
    let rows = stmt
        .query_map(
            params![
                filter.action_prefix,
                filter.actor,
                filter.subject,
                filter.since,
                filter.until,
                filter.limit.unwrap_or(500),
                filter.before,
                filter.site
            ],
            |r| {
                let details: String = r.get(5)?;
                Ok(Row {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    details: serde_json::from_str(&details).unwrap_or(Value::String(details)),
                    hash: r.get(6)?,
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// What [`verify`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A row's content does not match its hash (edited).
    HashMismatch { id: i64 },
    /// A row does not point at the row before it (deleted, inserted or reordered).
    BrokenLink { id: i64 },
    /// Row ids jump: rows are missing between these.
    Gap { after: i64, next: i64 },
    /// Rows were cut off the end: the log once reached a higher id.
    Truncated { last: i64, highest_ever: i64 },
    /// The triggers that refuse UPDATE and DELETE are gone.
    TriggerMissing { name: String },
    /// A trigger of that name is there but does something else.
    TriggerAltered { name: String },
    /// The row of an exported head is gone.
    HeadMissing { id: i64 },
    /// The row of an exported head has another hash: the chain up to it was rewritten.
    HeadMismatch { id: i64 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::HashMismatch { id } => write!(f, "row {id} was changed after it was written"),
            Problem::BrokenLink { id } => {
                write!(
                    f,
                    "row {id} does not follow the row before it (rows deleted, inserted or reordered)"
                )
            }
            Problem::Gap { after, next } => {
                write!(f, "rows between {after} and {next} are missing")
            }
            Problem::Truncated { last, highest_ever } => {
                write!(f, "rows after {last} (up to {highest_ever}) were removed")
            }
            Problem::TriggerMissing { name } => {
                write!(f, "the protection trigger {name} was removed")
            }
            Problem::TriggerAltered { name } => {
                write!(f, "the protection trigger {name} was replaced by another")
            }
            Problem::HeadMissing { id } => {
                write!(
                    f,
                    "row {id}, the newest when the head was exported, is gone"
                )
            }
            Problem::HeadMismatch { id } => write!(
                f,
                "row {id} differs from the head exported earlier: the log up to it was rewritten"
            ),
        }
    }
}

/// The outcome of a full check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub rows: i64,
    pub problems: Vec<Problem>,
}

/// The triggers that keep the log append-only, as the schema creates them.
const PROTECTIONS: [(&str, &str); 2] = [
    (
        "audit_log_no_update",
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN \
         SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
    (
        "audit_log_no_delete",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN \
         SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
];

/// SQL with runs of white space made one space and no final `;`.
fn normalised(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .trim_end()
        .to_owned()
}

/// The newest row's id and hash: written down elsewhere, it pins the whole log up to it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub id: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.id, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || format!("a head is <id>:<64 hex digits>, as check-audit prints it; got {s:?}");
        let (id, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        if id < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Head {
            id,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// The newest row, if there is one.
pub fn head(conn: &Connection) -> Result<Option<Head>> {
    Ok(conn
        .query_row(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| {
                Ok(Head {
                    id: r.get(0)?,
                    hash: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Whether the live log still holds `expected` as it was exported.
pub fn verify_head(conn: &Connection, expected: &Head) -> Result<Option<Problem>> {
    let hash: Option<String> = conn
        .query_row(
            "SELECT hash FROM audit_log WHERE id = ?1",
            [expected.id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match hash {
        None => Some(Problem::HeadMissing { id: expected.id }),
        Some(hash) if hash != expected.hash => Some(Problem::HeadMismatch { id: expected.id }),
        Some(_) => None,
    })
}

/// Walks the whole chain and reports every problem.
///
/// All in one snapshot of the records: a server writing beside the check (a live server's
/// background work) must not look like tampering, as the chain read to row n and then a
/// row n + 1 counted in the sequence would.
pub fn verify(conn: &Connection) -> Result<Report> {
    conn.execute_batch("SAVEPOINT audit_verify")?;
    let report = verify_in_snapshot(conn);
    let released = conn.execute_batch("RELEASE audit_verify");
    let report = report?;
    released?;
    Ok(report)
}

fn verify_in_snapshot(conn: &Connection) -> Result<Report> {
    let mut problems = Vec::new();
    for (name, expected) in PROTECTIONS {
        let sql: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        match sql {
            None => problems.push(Problem::TriggerMissing { name: name.into() }),
            Some(sql) if normalised(&sql) != normalised(expected) => {
                problems.push(Problem::TriggerAltered { name: name.into() });
            }
            Some(_) => {}
        }
    }
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, action, subject, details, prev_hash, hash FROM audit_log ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_owned();
    let mut last_id = 0i64;
    let mut count = 0i64;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor: String = r.get(2)?;
        let action: String = r.get(3)?;
        let subject: String = r.get(4)?;
        let details: String = r.get(5)?;
        let prev_hash: String = r.get(6)?;
        let hash: String = r.get(7)?;
        count += 1;
        if id != last_id + 1 {
            problems.push(Problem::Gap {
                after: last_id,
                next: id,
            });
        }
        if prev_hash != expected_prev {
            problems.push(Problem::BrokenLink { id });
        }
        if row_hash(&prev_hash, id, &at, &actor, &action, &subject, &details) != hash {
            problems.push(Problem::HashMismatch { id });
        }
        expected_prev = hash;
        last_id = id;
    }
    let highest_ever: i64 = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            [],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(0),
            e => Err(e),
        })?;
    if highest_ever > last_id {
        problems.push(Problem::Truncated {
            last: last_id,
            highest_ever,
        });
    }
    Ok(Report {
        rows: count,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;

    #[test]
    fn every_action_has_its_own_word_of_the_form_area_dot_verb() {
        let mut seen = std::collections::BTreeSet::new();
        for action in Action::ALL {
            let word = action.as_str();
            assert!(seen.insert(word), "{word} twice");
            let (area, verb) = word.split_once('.').unwrap_or_else(|| panic!("{word}"));
            for part in [area, verb] {
                assert!(
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{word}"
                );
            }
        }
        assert_eq!(Action::PersonErased.to_string(), "person.erased");
    }

    fn log_five() -> Connection {
        let conn = open_in_memory().unwrap();
        for n in 0..5 {
            append(
                &conn,
                &Entry {
                    at: Timestamp::from_second(1_700_000_000 + n).unwrap(),
                    actor: "account:1",
                    action: Action::PersonCreate,
                    subject: &format!("person:{n}"),
                    details: serde_json::json!({ "n": n }),
                },
            )
            .unwrap();
        }
        conn
    }

    /// Lifts the protection the way someone tampering with the file would.
    fn drop_triggers(conn: &Connection) {
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
    }

    fn restore_triggers(conn: &Connection) {
        conn.execute_batch(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
             CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
        )
        .unwrap();
    }

    #[test]
    fn an_untouched_log_verifies() {
        let conn = log_five();
        let report = verify(&conn).unwrap();
        assert_eq!(report.rows, 5);
        assert_eq!(report.problems, vec![]);
    }

    #[test]
    fn the_database_refuses_update_and_delete() {
        let conn = log_five();
        let update = conn.execute("UPDATE audit_log SET actor = 'x' WHERE id = 2", []);
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = conn.execute("DELETE FROM audit_log WHERE id = 2", []);
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    #[test]
    fn an_edited_row_is_found() {
        let conn = log_five();
        drop_triggers(&conn);
        conn.execute(
            "UPDATE audit_log SET details = '{\"n\":9}' WHERE id = 3",
            [],
        )
        .unwrap();
        restore_triggers(&conn);
        assert!(
            verify(&conn)
                .unwrap()
                .problems
                .contains(&Problem::HashMismatch { id: 3 })
        );
    }

    #[test]
    fn a_deleted_row_is_found() {
        let conn = log_five();
        drop_triggers(&conn);
        conn.execute("DELETE FROM audit_log WHERE id = 3", [])
            .unwrap();
        restore_triggers(&conn);
        let problems = verify(&conn).unwrap().problems;
        assert!(
            problems.contains(&Problem::Gap { after: 2, next: 4 }),
            "{problems:?}"
        );
        assert!(problems.contains(&Problem::BrokenLink { id: 4 }));
    }

    #[test]
    fn a_deleted_newest_row_is_found() {
        let conn = log_five();
        drop_triggers(&conn);
        conn.execute("DELETE FROM audit_log WHERE id = 5", [])
            .unwrap();
        restore_triggers(&conn);
        assert_eq!(
            verify(&conn).unwrap().problems,
            vec![Problem::Truncated {
                last: 4,
                highest_ever: 5
            }]
        );
    }

    #[test]
    fn an_inserted_row_is_found_even_with_a_plausible_hash() {
        let conn = log_five();
        drop_triggers(&conn);
        // Make room at id 3 by shifting later rows up, then forge a row 3 whose hash is
        // computed correctly from row 2.
        conn.execute_batch(
            "UPDATE audit_log SET id = id + 10 WHERE id >= 3; \
             UPDATE audit_log SET id = id - 9 WHERE id >= 13;",
        )
        .unwrap();
        let prev: String = conn
            .query_row("SELECT hash FROM audit_log WHERE id = 2", [], |r| r.get(0))
            .unwrap();
        let hash = row_hash(
            &prev,
            3,
            "2023-11-14T22:13:22Z",
            "cli",
            "forged",
            "person:1",
            "{}",
        );
        conn.execute(
            "INSERT INTO audit_log VALUES (3, '2023-11-14T22:13:22Z', 'cli', 'forged', 'person:1', '{}', ?1, ?2)",
            params![prev, hash],
        )
        .unwrap();
        restore_triggers(&conn);
        let problems = verify(&conn).unwrap().problems;
        assert!(
            problems.contains(&Problem::BrokenLink { id: 4 }),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, Problem::HashMismatch { .. }))
        );
    }

    #[test]
    fn reordered_rows_are_found() {
        let conn = log_five();
        drop_triggers(&conn);
        conn.execute_batch(
            "UPDATE audit_log SET id = 100 WHERE id = 2; \
             UPDATE audit_log SET id = 2 WHERE id = 3; \
             UPDATE audit_log SET id = 3 WHERE id = 100;",
        )
        .unwrap();
        restore_triggers(&conn);
        let problems = verify(&conn).unwrap().problems;
        assert!(
            problems.contains(&Problem::HashMismatch { id: 2 }),
            "{problems:?}"
        );
        assert!(problems.contains(&Problem::BrokenLink { id: 2 }));
    }

    #[test]
    fn removed_triggers_are_reported() {
        let conn = log_five();
        drop_triggers(&conn);
        assert_eq!(verify(&conn).unwrap().problems.len(), 2);
    }

    #[test]
    fn a_trigger_kept_by_name_but_made_harmless_is_reported() {
        let conn = log_five();
        drop_triggers(&conn);
        conn.execute_batch(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT 1; END; \
             CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
        )
        .unwrap();
        assert_eq!(
            verify(&conn).unwrap().problems,
            vec![Problem::TriggerAltered {
                name: "audit_log_no_update".into()
            }]
        );
        conn.execute("UPDATE audit_log SET actor = 'x' WHERE id = 1", [])
            .unwrap();
    }

    #[test]
    fn a_chain_rewritten_from_an_edited_row_on_is_caught_by_the_exported_head() {
        let conn = log_five();
        let exported = head(&conn).unwrap().unwrap();
        assert_eq!(exported.id, 5);
        assert_eq!(exported.to_string().parse::<Head>().unwrap(), exported);
        assert_eq!(verify_head(&conn, &exported).unwrap(), None);

        // Edit row 2 and recompute every hash after it, as someone with the file could.
        drop_triggers(&conn);
        conn.execute(
            "UPDATE audit_log SET subject = 'person:99' WHERE id = 2",
            [],
        )
        .unwrap();
        let mut prev: String = conn
            .query_row("SELECT hash FROM audit_log WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        for id in 2..=5i64 {
            let (at, actor, action, subject, details): (String, String, String, String, String) =
                conn.query_row(
                    "SELECT at, actor, action, subject, details FROM audit_log WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .unwrap();
            let hash = row_hash(&prev, id, &at, &actor, &action, &subject, &details);
            conn.execute(
                "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
                params![id, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
        restore_triggers(&conn);
        // The chain alone looks whole; the head written down elsewhere does not match.
        assert_eq!(verify(&conn).unwrap().problems, vec![]);
        assert_eq!(
            verify_head(&conn, &exported).unwrap(),
            Some(Problem::HeadMismatch { id: 5 })
        );
        assert_eq!(
            verify_head(
                &conn,
                &Head {
                    id: 9,
                    hash: exported.hash.clone()
                }
            )
            .unwrap(),
            Some(Problem::HeadMissing { id: 9 })
        );
        assert!("5:abc".parse::<Head>().is_err());
        assert!("x".parse::<Head>().is_err());
    }

    #[test]
    fn the_log_filters_by_action_and_subject() {
        let conn = log_five();
        let rows = list(
            &conn,
            &Filter {
                subject: Some("person:2".into()),
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].details["n"], 2);
        let none = list(
            &conn,
            &Filter {
                action_prefix: Some("consent.".into()),
                ..Filter::default()
            },
        )
        .unwrap();
        assert!(none.is_empty());
    }
}
