//! Deliveries of publications to a channel's web endpoint, and their retries.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::EndpointKind;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Withheld,
    /// Taken down: the endpoint is being asked to remove its copy.
    Removing,
    /// The endpoint confirmed the removal.
    Removed,
}

impl DeliveryState {
    fn parse(text: &str) -> rusqlite::Result<Self> {
        match text {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "withheld" => Ok(Self::Withheld),
            "removing" => Ok(Self::Removing),
            "removed" => Ok(Self::Removed),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown delivery state {other:?}").into(),
            )),
        }
    }
}

/// One delivery with what sending it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub publication_id: i64,
    pub url: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// The publication's channel code and file name in the outbox.
    #[serde(serialize_with = "super::channel_code")]
    pub channel: crate::domain::Channel,
    pub opaque_name: String,
    /// A takedown was asked for (a consent was withdrawn).
    pub taken_down: bool,
    /// What answers at `url`.
    pub kind: EndpointKind,
    /// What the site has (WordPress): its media item, the addresses it serves the copy at,
    /// and the draft post started with it.
    pub remote: Remote,
}

/// What a WordPress site holds of one delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Remote {
    pub media_id: Option<i64>,
    pub urls: Vec<String>,
    pub draft_post_id: Option<i64>,
}

const SELECT: &str = "SELECT d.publication_id, d.url, d.state, d.attempts, d.last_error, \
     d.next_attempt_at, d.delivered_at, p.channel, p.opaque_name, p.takedown_since IS NOT NULL, \
     d.kind, d.remote_id, d.remote_urls, d.draft_post_id \
     FROM http_deliveries d JOIN publications p ON p.id = d.publication_id";

fn kind(text: &str) -> rusqlite::Result<EndpointKind> {
    EndpointKind::from_code(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown endpoint kind {text:?}").into(),
        )
    })
}

fn row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        publication_id: r.get(0)?,
        url: r.get(1)?,
        state: DeliveryState::parse(&r.get::<_, String>(2)?)?,
        attempts: r.get(3)?,
        last_error: r.get(4)?,
        next_attempt_at: r.get(5)?,
        delivered_at: r.get(6)?,
        channel: r.get(7)?,
        opaque_name: r.get(8)?,
        taken_down: r.get(9)?,
        kind: kind(&r.get::<_, String>(10)?)?,
        remote: Remote {
            media_id: r.get(11)?,
            urls: match r.get::<_, Option<String>>(12)? {
                Some(json) => serde_json::from_str(&json).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        12,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?,
                None => Vec::new(),
            },
            draft_post_id: r.get(13)?,
        },
    })
}

/// Queues a publication for its channel's endpoint, due at once.
pub fn insert(
    conn: &Connection,
    publication_id: i64,
    url: &str,
    kind: EndpointKind,
    now: Timestamp,
) -> Result<()> {
    conn.execute(
        "INSERT INTO http_deliveries (publication_id, url, kind, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![publication_id, url, kind.code(), now],
    )?;
    Ok(())
}

/// Records what the site holds of a delivery as soon as it holds it, before anything else
/// is asked of the site, so no later failure can lead to a second upload.
pub fn set_remote(conn: &Connection, publication_id: i64, remote: &Remote) -> Result<()> {
    let urls =
        serde_json::to_string(&remote.urls).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let changed = conn.execute(
        "UPDATE http_deliveries SET remote_id = ?2, remote_urls = ?3, draft_post_id = ?4 \
         WHERE publication_id = ?1",
        params![publication_id, remote.media_id, urls, remote.draft_post_id],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "delivery",
            id: publication_id,
        });
    }
    Ok(())
}

/// Starts the removal, at once, of every copy a WordPress site holds whose publication is
/// being taken down: the site loses it the moment consent goes, not when the task is
/// marked done. Returns how many were started.
pub fn start_removals(conn: &Connection, now: Timestamp) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE http_deliveries SET state = 'removing', attempts = 0, last_error = NULL, \
         next_attempt_at = ?1 WHERE kind = 'wordpress' AND state = 'delivered' \
         AND publication_id IN (SELECT id FROM publications WHERE takedown_since IS NOT NULL)",
        [now],
    )?)
}

/// Why a takedown task cannot be marked done yet: its WordPress site still holds the
/// copy (the removal is under way, or failed and is tried again).
pub fn removal_outstanding(conn: &Connection, publication_id: i64) -> Result<Option<String>> {
    let Some(d) = delivery(conn, publication_id)? else {
        return Ok(None);
    };
    let holds = d.kind == EndpointKind::Wordpress
        && d.taken_down
        && matches!(d.state, DeliveryState::Delivered | DeliveryState::Removing);
    Ok(holds.then(|| {
        let item = d
            .remote
            .media_id
            .map_or_else(String::new, |id| format!(" (media item {id})"));
        let last = d
            .last_error
            .map_or_else(String::new, |e| format!("; the last try: {e}"));
        format!(
            "the website still has this photo{item}: the server is deleting it there and tries again on its own{last}. Mark the takedown done once it is gone"
        )
    }))
}

pub fn delivery(conn: &Connection, publication_id: i64) -> Result<Option<Delivery>> {
    Ok(conn
        .query_row(
            &format!("{SELECT} WHERE d.publication_id = ?1"),
            [publication_id],
            row,
        )
        .optional()?)
}

/// The longest pause between two tries of a delivery or a removal.
pub const LONGEST_PAUSE: SignedDuration = SignedDuration::from_hours(1);

/// Deliveries and removals due at `now`, oldest publication first. A try set further ahead
/// than [`LONGEST_PAUSE`] is due too: the clock was set back since it was planned, and a
/// takedown must not wait for the clock to catch up.
pub fn due(conn: &Connection, now: Timestamp) -> Result<Vec<Delivery>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE d.state IN ('pending', 'removing') ORDER BY d.publication_id"
    ))?;
    let rows = stmt
        .query_map([], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter(|d| {
            d.next_attempt_at <= now || d.next_attempt_at.duration_since(now) > LONGEST_PAUSE
        })
        .collect())
}

/// When the next delivery or removal is due, if any is waiting.
pub fn next_due(conn: &Connection) -> Result<Option<Timestamp>> {
    Ok(conn.query_row(
        "SELECT min(next_attempt_at) FROM http_deliveries WHERE state IN ('pending', 'removing')",
        [],
        |r| r.get(0),
    )?)
}

/// A delivery went through. If its takedown was finished while the request was on its
/// way (the row was withheld meanwhile), the endpoint now holds a copy nobody would ask it
/// to remove: the removal is queued, due at once. Returns whether it was.
pub fn mark_delivered(conn: &Connection, publication_id: i64, now: Timestamp) -> Result<bool> {
    let state: Option<String> = conn
        .query_row(
            "UPDATE http_deliveries SET delivered_at = ?2, last_error = NULL, \
             state = CASE state WHEN 'withheld' THEN 'removing' ELSE 'delivered' END, \
             attempts = CASE state WHEN 'withheld' THEN 0 ELSE attempts + 1 END, \
             next_attempt_at = CASE state WHEN 'withheld' THEN ?2 ELSE next_attempt_at END \
             WHERE publication_id = ?1 AND state IN ('pending', 'withheld') RETURNING state",
            params![publication_id, now],
            |r| r.get(0),
        )
        .optional()?;
    pending_changed(usize::from(state.is_some()), publication_id)?;
    Ok(state.as_deref() == Some("removing"))
}

/// A delivery or a removal that did not go through: tried again at `next_attempt_at`.
pub fn mark_failed(
    conn: &Connection,
    publication_id: i64,
    error: &str,
    next_attempt_at: Timestamp,
) -> Result<()> {
    let changed = conn.execute(
        "UPDATE http_deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 \
         WHERE publication_id = ?1 AND state IN ('pending', 'removing')",
        params![publication_id, error, next_attempt_at.to_string()],
    )?;
    pending_changed(changed, publication_id)
}

/// A takedown is done: an endpoint that has the file is asked to remove it (due at once);
/// one that never got it never will. Returns whether a removal was queued.
pub fn queue_removal(conn: &Connection, publication_id: i64, now: Timestamp) -> Result<bool> {
    conn.execute(
        "UPDATE http_deliveries SET state = 'withheld' WHERE publication_id = ?1 AND state = 'pending'",
        [publication_id],
    )?;
    Ok(conn.execute(
        "UPDATE http_deliveries SET state = 'removing', attempts = 0, last_error = NULL, \
         next_attempt_at = ?2 WHERE publication_id = ?1 AND state = 'delivered'",
        params![publication_id, now],
    )? == 1)
}

pub fn mark_removed(conn: &Connection, publication_id: i64, now: Timestamp) -> Result<()> {
    let changed = conn.execute(
        "UPDATE http_deliveries SET state = 'removed', removed_at = ?2, attempts = attempts + 1, \
         last_error = NULL WHERE publication_id = ?1 AND state = 'removing'",
        params![publication_id, now],
    )?;
    pending_changed(changed, publication_id)
}

pub fn mark_withheld(conn: &Connection, publication_id: i64) -> Result<()> {
    let changed = conn.execute(
        "UPDATE http_deliveries SET state = 'withheld' WHERE publication_id = ?1 AND state = 'pending'",
        [publication_id],
    )?;
    pending_changed(changed, publication_id)
}

fn pending_changed(changed: usize, publication_id: i64) -> Result<()> {
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "publication #{publication_id} has no pending delivery"
        )));
    }
    Ok(())
}
