//! The mail outbox: messages queued with the change that causes them, leased by the
//! worker that sends them, and what became of each (never a message's body in a listing).

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage<'a> {
    /// Unique, fixed now (`<random@sender-domain>`).
    pub message_id: &'a str,
    /// For a reminder: its kind, subject and due date, so it is queued once.
    pub dedup_key: Option<&'a str>,
    /// What it is: a reminder's kind, `test`, ...
    pub kind: &'a str,
    /// The site of the account it goes to (`None`: trust-wide).
    pub site: Option<i64>,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
}

/// A queued message the worker holds under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    pub id: i64,
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub failures: u32,
    pub queued_at: Timestamp,
}

/// A row of the outbox as the admin page lists it: no body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    /// The site of the account it went to.
    #[serde(skip)]
    pub site: Option<i64>,
    pub to: String,
    pub subject: String,
    pub state: String,
    pub failures: u32,
    pub last_error: Option<String>,
    pub queued_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// Queues `message` to go from `now`. Returns its id, or `None` when a message with the
/// same key is already queued or sent (a reminder is never queued twice).
pub fn queue(conn: &Connection, message: &NewMessage<'_>, now: Timestamp) -> Result<Option<i64>> {
    let added = conn.execute(
        "INSERT INTO mail_outbox (message_id, dedup_key, to_address, subject, body_text, \
         body_html, next_attempt_at, queued_at, kind, site_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9) \
         ON CONFLICT (dedup_key) DO NOTHING",
        params![
            message.message_id,
            message.dedup_key,
            message.to,
            message.subject,
            message.body_text,
            message.body_html,
            now,
            message.kind,
            message.site
        ],
    )?;
    Ok((added == 1).then(|| conn.last_insert_rowid()))
}

fn leased_row(r: &Row<'_>) -> rusqlite::Result<Leased> {
    Ok(Leased {
        id: r.get(0)?,
        message_id: r.get(1)?,
        to: r.get(2)?,
        subject: r.get(3)?,
        body_text: r.get(4)?,
        body_html: r.get(5)?,
        failures: r.get(6)?,
        queued_at: r.get(7)?,
    })
}

/// Takes the next queued message that is due and not leased (or whose lease ran out: its
/// worker died) until `lease_until`. Run in a transaction that writes at once, so two
/// workers never take the same message. A try planned further ahead than the longest wait,
/// or a lease running more than twice as long as this one, is from before the clock was
/// set back: it counts as due, or as run out.
pub fn lease_next(
    conn: &Connection,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Leased>> {
    let next = conn
        .query_row(
            "SELECT id, message_id, to_address, subject, body_text, body_html, failures, \
             queued_at FROM mail_outbox WHERE state = 'queued' \
             AND (next_attempt_at <= ?1 OR next_attempt_at > ?3) \
             AND (lease_until IS NULL OR lease_until <= ?1 OR lease_until > ?2) \
             ORDER BY next_attempt_at, id LIMIT 1",
            params![
                now,
                lease_until
                    .checked_add(lease_until.duration_since(now))
                    .unwrap_or(Timestamp::MAX),
                now.checked_add(crate::rules::mail::LONGEST_WAIT)
                    .unwrap_or(Timestamp::MAX)
            ],
            leased_row,
        )
        .optional()?;
    if let Some(message) = &next {
        conn.execute(
            "UPDATE mail_outbox SET lease_until = ?2 WHERE id = ?1",
            params![message.id, lease_until],
        )?;
    }
    Ok(next)
}

/// The server took the message.
pub fn mark_sent(conn: &Connection, id: i64, now: Timestamp) -> Result<()> {
    conn.execute(
        "UPDATE mail_outbox SET state = 'sent', sent_at = ?2, lease_until = NULL, \
         last_error = NULL WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// A temporary failure: tried again from `next_attempt_at`.
pub fn mark_retry(
    conn: &Connection,
    id: i64,
    error: &str,
    next_attempt_at: Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE mail_outbox SET failures = failures + 1, last_error = ?2, \
         next_attempt_at = ?3, lease_until = NULL WHERE id = ?1",
        params![id, error, next_attempt_at],
    )?;
    Ok(())
}

/// Given up: a permanent failure (`refused`: the server refused the address, which is
/// flagged) or temporary ones past the deadline.
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    refused: bool,
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "UPDATE mail_outbox SET state = 'failed', failures = failures + 1, last_error = ?2, \
         lease_until = NULL WHERE id = ?1",
        params![id, error],
    )?;
    if refused {
        conn.execute(
            "INSERT INTO mail_refused_addresses (address, answer, refused_at) \
             SELECT to_address, ?2, ?3 FROM mail_outbox WHERE id = ?1 \
             ON CONFLICT (address) DO UPDATE SET answer = excluded.answer, \
             refused_at = excluded.refused_at",
            params![id, error, now],
        )?;
    }
    Ok(())
}

/// Queues a failed message again from `now` ("send again"); false if it was not failed.
pub fn requeue(conn: &Connection, id: i64, now: Timestamp) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE mail_outbox SET state = 'queued', next_attempt_at = ?2, lease_until = NULL \
         WHERE id = ?1 AND state = 'failed'",
        params![id, now],
    )? == 1)
}

/// How many messages of site `site` (`None`: every site's) are in each state:
/// (queued, sent, failed).
pub fn counts(conn: &Connection, site: Option<i64>) -> Result<(u64, u64, u64)> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(state = 'queued'), 0), COALESCE(SUM(state = 'sent'), 0), \
         COALESCE(SUM(state = 'failed'), 0) FROM mail_outbox WHERE (?1 IS NULL OR site_id = ?1)",
        [site],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// Devices not back by their due time at `now`, with the account of the person who
/// holds each (if they have one that is not disabled).
pub fn overdue_devices(
    conn: &Connection,
    now: Timestamp,
) -> Result<Vec<crate::rules::reminders::Overdue>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, d.id, d.label, d.site_id, c.due_back, \
         (SELECT a.id FROM accounts a WHERE a.person_id = c.person_id AND a.disabled = 0 \
          ORDER BY a.id LIMIT 1) \
         FROM custody_sessions c JOIN devices d ON d.id = c.device_id \
         WHERE c.returned_at IS NULL AND c.due_back < ?1 ORDER BY c.id",
    )?;
    let rows = stmt
        .query_map([now], |r| {
            Ok(crate::rules::reminders::Overdue {
                session: r.get(0)?,
                device: r.get(1)?,
                device_label: r.get(2)?,
                site: r.get(3)?,
                due_back: r.get(4)?,
                due_local: String::new(),
                holder: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Makes every message a worker held queued again at once: at start, when no worker
/// of this server can still be sending (only one server sends from a database).
pub fn release_leases(conn: &Connection) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE mail_outbox SET lease_until = NULL WHERE state = 'queued' AND lease_until IS NOT NULL",
        [],
    )?)
}

/// Whether a message with key `key` was ever queued.
pub fn key_queued(conn: &Connection, key: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM mail_outbox WHERE dedup_key = ?1",
            [key],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The reminders an account turned on or off (kinds without a row take the role's
/// default).
pub fn preferences(conn: &Connection, account: i64) -> Result<Vec<(String, bool)>> {
    let mut stmt = conn.prepare(
        "SELECT kind, enabled FROM mail_preferences WHERE account_id = ?1 ORDER BY kind",
    )?;
    let rows = stmt
        .query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Each reminder open to the account's role, on or off (its choice, or the role's
/// default).
pub fn reminder_choices(
    conn: &Connection,
    account: &super::registry::Account,
) -> Result<Vec<(crate::rules::reminders::Kind, bool)>> {
    use crate::rules::reminders::Kind;
    let chosen = preferences(conn, account.id.0)?;
    Ok(Kind::ALL
        .into_iter()
        .filter(|k| k.open_to(account.role))
        .map(|k| {
            let on = chosen
                .iter()
                .find(|(code, _)| code == k.code())
                .map_or_else(|| k.on_by_default(account.role), |(_, on)| *on);
            (k, on)
        })
        .collect())
}

/// Turns one reminder on or off for an account.
pub fn set_preference(conn: &Connection, account: i64, kind: &str, enabled: bool) -> Result<()> {
    conn.execute(
        "INSERT INTO mail_preferences (account_id, kind, enabled) VALUES (?1, ?2, ?3) \
         ON CONFLICT (account_id, kind) DO UPDATE SET enabled = excluded.enabled",
        params![account, kind, enabled],
    )?;
    Ok(())
}

/// Every address refused for good, with the server's answer.
pub fn refused_addresses(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt =
        conn.prepare("SELECT address, answer FROM mail_refused_addresses ORDER BY address")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Why mail to `address` was refused for good, if it was.
pub fn refusal_of(conn: &Connection, address: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT answer FROM mail_refused_addresses WHERE address = ?1",
            [address],
            |r| r.get(0),
        )
        .optional()?)
}

/// The latest `limit` messages of site `site` (`None`: of every site), newest first,
/// without their bodies; `state` keeps only those in it.
pub fn listing(
    conn: &Connection,
    site: Option<i64>,
    state: Option<&str>,
    limit: u32,
) -> Result<Vec<Listed>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, to_address, subject, state, failures, last_error, queued_at, \
         sent_at, site_id \
         FROM mail_outbox WHERE (?1 IS NULL OR site_id = ?1) AND (?2 IS NULL OR state = ?2) \
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![site, state, limit], |r| {
            Ok(Listed {
                id: r.get(0)?,
                kind: r.get(1)?,
                to: r.get(2)?,
                subject: r.get(3)?,
                state: r.get(4)?,
                failures: r.get(5)?,
                last_error: r.get(6)?,
                queued_at: r.get(7)?,
                sent_at: r.get(8)?,
                site: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn message<'a>(id: &'a str, key: Option<&'a str>) -> NewMessage<'a> {
        NewMessage {
            message_id: id,
            dedup_key: key,
            kind: "approvals",
            site: None,
            to: "head@school.example",
            subject: "3 photos wait for your approval",
            body_text: "text",
            body_html: "<p>html</p>",
        }
    }

    #[test]
    fn after_the_clock_is_set_back_a_planned_try_and_a_lease_do_not_wait_for_it_to_catch_up() {
        let conn = open_in_memory().unwrap();
        queue(&conn, &message("<a@x>", None), t(0)).unwrap();
        queue(&conn, &message("<b@x>", None), t(0)).unwrap();
        let a = lease_next(&conn, t(10_000), t(10_060)).unwrap().unwrap();
        mark_retry(&conn, a.id, "451 try later", t(10_120)).unwrap();
        let b = lease_next(&conn, t(10_001), t(10_061)).unwrap().unwrap();
        // A day back: b's lease looks a day long, a's retry a day away.
        let back = 10_000 - 86_400;
        let first = lease_next(&conn, t(back), t(back + 60)).unwrap().unwrap();
        let second = lease_next(&conn, t(back), t(back + 60)).unwrap().unwrap();
        let mut taken = [first.id, second.id];
        taken.sort_unstable();
        let mut expected = [a.id, b.id];
        expected.sort_unstable();
        assert_eq!(taken, expected);
        mark_sent(&conn, first.id, t(back)).unwrap();
        mark_sent(&conn, second.id, t(back)).unwrap();
        // A lease a moment longer than one's own (another worker's, just taken) still holds.
        queue(&conn, &message("<c@x>", None), t(0)).unwrap();
        assert!(lease_next(&conn, t(20_001), t(20_061)).unwrap().is_some());
        assert!(lease_next(&conn, t(20_000), t(20_060)).unwrap().is_none());
    }

    #[test]
    fn a_reminder_is_queued_once_and_a_message_leased_by_one_worker_at_a_time() {
        let conn = open_in_memory().unwrap();
        let key = Some("approvals:director:7:2026-12-07");
        assert!(
            queue(&conn, &message("<a@x>", key), t(0))
                .unwrap()
                .is_some()
        );
        assert_eq!(queue(&conn, &message("<b@x>", key), t(1)).unwrap(), None);
        assert!(
            queue(&conn, &message("<c@x>", None), t(2))
                .unwrap()
                .is_some()
        );

        let first = lease_next(&conn, t(10), t(70)).unwrap().unwrap();
        assert_eq!(first.message_id, "<a@x>");
        // Leased: the next worker gets the other one, then nothing.
        let second = lease_next(&conn, t(11), t(71)).unwrap().unwrap();
        assert_eq!(second.message_id, "<c@x>");
        assert!(lease_next(&conn, t(12), t(72)).unwrap().is_none());
        // A worker that died: its lease runs out and the message is taken again.
        let again = lease_next(&conn, t(70), t(130)).unwrap().unwrap();
        assert_eq!(again.message_id, "<a@x>");

        mark_sent(&conn, again.id, t(71)).unwrap();
        mark_retry(&conn, second.id, "451 try later", t(200)).unwrap();
        assert!(
            lease_next(&conn, t(199), t(259)).unwrap().is_none(),
            "not due yet"
        );
        let retried = lease_next(&conn, t(200), t(260)).unwrap().unwrap();
        assert_eq!(retried.failures, 1);
        mark_failed(&conn, retried.id, "550 no such user", true, t(201)).unwrap();
        assert_eq!(
            refusal_of(&conn, "HEAD@school.example").unwrap().as_deref(),
            Some("550 no such user")
        );
        let listed = listing(&conn, None, None, 10).unwrap();
        let states: Vec<&str> = listed.iter().map(|l| l.state.as_str()).collect();
        assert_eq!(states, ["failed", "sent"]);
        assert_eq!(counts(&conn, None).unwrap(), (0, 1, 1));
        assert!(listing(&conn, Some(1), None, 10).unwrap().is_empty());
        assert_eq!(listing(&conn, None, Some("failed"), 10).unwrap().len(), 1);
        assert!(requeue(&conn, retried.id, t(300)).unwrap());
        assert!(
            !requeue(&conn, again.id, t(300)).unwrap(),
            "a sent message stays sent"
        );
        assert_eq!(
            lease_next(&conn, t(300), t(360)).unwrap().unwrap().id,
            retried.id
        );
    }
}
