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
         body_html, next_attempt_at, queued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
         ON CONFLICT (dedup_key) DO NOTHING",
        params![
            message.message_id,
            message.dedup_key,
            message.to,
            message.subject,
            message.body_text,
            message.body_html,
            now
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
/// workers never take the same message.
pub fn lease_next(
    conn: &Connection,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Leased>> {
    let next = conn
        .query_row(
            "SELECT id, message_id, to_address, subject, body_text, body_html, failures, \
             queued_at FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= ?1 \
             AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY next_attempt_at, id LIMIT 1",
            [now],
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

/// The latest `limit` messages, newest first, without their bodies.
pub fn listing(conn: &Connection, limit: u32) -> Result<Vec<Listed>> {
    let mut stmt = conn.prepare(
        "SELECT id, to_address, subject, state, failures, last_error, queued_at, sent_at \
         FROM mail_outbox ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(Listed {
                id: r.get(0)?,
                to: r.get(1)?,
                subject: r.get(2)?,
                state: r.get(3)?,
                failures: r.get(4)?,
                last_error: r.get(5)?,
                queued_at: r.get(6)?,
                sent_at: r.get(7)?,
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
            to: "head@school.example",
            subject: "3 photos wait for your approval",
            body_text: "text",
            body_html: "<p>html</p>",
        }
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
        let listed = listing(&conn, 10).unwrap();
        let states: Vec<&str> = listed.iter().map(|l| l.state.as_str()).collect();
        assert_eq!(states, ["failed", "sent"]);
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
