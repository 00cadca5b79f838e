//! Outgoing mail (rule M1): reminders queued from the records, each in the transaction
//! that counts what it reports, and the worker round that hands due messages to the mail
//! server, records what it answered and tries a temporary failure again later.
//!
//! Nothing here is sent from inside a request: a request (or a scan) writes a row, the
//! worker sends it.

use std::sync::Mutex;

use askama::Template;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, TransactionBehavior};

use crate::infra::mail::{Outgoing, Sender};
use crate::infra::mail_settings::MailSettings;
use crate::rules::consent::{ConsentPolicy, Renewal};
use crate::rules::mail::{Attempt, next_attempt};
use crate::rules::reminders::{self, Facts, Item, Kind, Recipient, Reminder, Schedule};
use crate::store::audit::Action;
use crate::store::sites::{self, Kind as SiteKind};
use crate::store::{Result, StoreError, mail, publications, registry, requests};

/// How long a worker holds a message it is sending (longer than any SMTP exchange).
const LEASE: SignedDuration = SignedDuration::from_secs(300);

#[derive(Template)]
#[template(path = "mail/reminder.txt")]
struct TextBody<'a> {
    lines: &'a [String],
    link: &'a str,
    sender: &'a str,
    account_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/reminder.html")]
struct HtmlBody<'a> {
    subject: &'a str,
    lines: &'a [String],
    link: &'a str,
    sender: &'a str,
    account_link: &'a str,
}

/// A fresh Message-ID under the sender's domain: `<32 hex digits@domain>`.
///
/// # Errors
/// The system's random source failed.
pub fn new_message_id(from: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    Ok(format!("<{hex}@{domain}>"))
}

/// The plain and HTML bodies of a reminder.
fn bodies(settings: &MailSettings, r: &Reminder) -> Result<(String, String)> {
    let base = settings.link_base();
    let link = format!("{base}{}", r.path);
    let account_link = format!("{base}/account");
    let render = |e: askama::Error| StoreError::Invalid(format!("mail template: {e}"));
    let text = TextBody {
        lines: &r.lines,
        link: &link,
        sender: &settings.from_name,
        account_link: &account_link,
    }
    .render()
    .map_err(render)?;
    let html = HtmlBody {
        subject: &r.subject,
        lines: &r.lines,
        link: &link,
        sender: &settings.from_name,
        account_link: &account_link,
    }
    .render()
    .map_err(render)?;
    Ok((text, html))
}

/// Every account that has an address and is not disabled, with its choices and whether
/// its address was refused.
fn recipients(conn: &Connection) -> Result<Vec<Recipient>> {
    let mut out = Vec::new();
    for account in registry::accounts(conn)? {
        let Some(email) = account.email.clone().filter(|_| !account.disabled) else {
            continue;
        };
        let chosen = mail::preferences(conn, account.id.0)?
            .into_iter()
            .filter_map(|(kind, on)| Kind::from_code(&kind).map(|k| (k, on)))
            .collect();
        out.push(Recipient {
            account: account.id.0,
            role: account.role,
            site: account.site_id,
            refused: mail::refusal_of(conn, &email)?.is_some(),
            email,
            chosen,
        });
    }
    Ok(out)
}

fn site_items(
    conn: &Connection,
    kind: SiteKind,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<Item>> {
    ids.into_iter()
        .map(|id| {
            Ok(Item {
                id,
                site: sites::site_of(conn, kind, id)?.flatten(),
            })
        })
        .collect()
}

/// The facts `kinds` need, read from the records.
fn facts(
    conn: &Connection,
    kinds: &[Kind],
    zone: &TimeZone,
    policy: &ConsentPolicy,
    renewal_days: i32,
    now: Timestamp,
) -> Result<Facts> {
    let mut facts = Facts::default();
    for kind in kinds {
        match kind {
            Kind::DeviceOverdue => {
                facts.overdue = mail::overdue_devices(conn, now)?
                    .into_iter()
                    .map(|mut o| {
                        o.due_local = zone
                            .to_datetime(o.due_back)
                            .strftime("%H:%M on %a %-d %b")
                            .to_string();
                        o
                    })
                    .collect();
            }
            Kind::ApprovalsWaiting => {
                facts.approvals = site_items(
                    conn,
                    SiteKind::Photo,
                    requests::open(conn)?.iter().map(|r| r.photo_id.0),
                )?;
            }
            Kind::Takedowns => {
                let open = publications::open_takedowns(conn)?;
                facts.takedowns =
                    site_items(conn, SiteKind::Publication, open.iter().map(|p| p.id))?;
            }
            Kind::Renewals => {
                let today = zone.to_datetime(now).date();
                let rows = super::decisions::renewals(conn, today, renewal_days, policy)?;
                let (mut lapsing, mut adult) = (Vec::new(), Vec::new());
                for row in rows {
                    match row.renewal {
                        Renewal::FormExpires { .. } => lapsing.push(row.person.id.0),
                        Renewal::NeedsOwnForm { .. } => adult.push(row.person.id.0),
                    }
                }
                facts.lapsing = site_items(conn, SiteKind::Person, lapsing)?;
                facts.turning_18 = site_items(conn, SiteKind::Person, adult)?;
            }
            Kind::MailFailed => {
                facts.failed_mail = mail::listing(conn, None, Some("failed"), u32::MAX)?
                    .into_iter()
                    .map(|m| Item {
                        id: m.id,
                        site: m.site,
                    })
                    .collect();
            }
        }
    }
    Ok(facts)
}

/// Queues the reminders due at `now`. A reminder whose key was queued before is not
/// queued again. Returns how many were.
///
/// The records are first read on `reader` (a connection of its own: in WAL mode it holds
/// up no writer); most looks find nothing new and end there. When something is due, the
/// kinds due are planned again and queued in one transaction on `writer` (the server's
/// writing connection), so what a reminder counts is what the records held when it was
/// queued.
pub fn queue_reminders(
    reader: &Connection,
    writer: &Mutex<Connection>,
    settings: &MailSettings,
    zone: &TimeZone,
    policy: &ConsentPolicy,
    renewal_days: i32,
    now: Timestamp,
) -> Result<usize> {
    let local = zone.to_datetime(now);
    let schedule = Schedule {
        digest_hour: i8::try_from(settings.digest_hour).unwrap_or(7),
        overdue_grace: SignedDuration::from_hours(i64::from(settings.overdue_grace_hours)),
    };
    // What is due and not queued yet, of `only` those kinds if given.
    let due = |conn: &Connection, only: Option<&[Kind]>| -> Result<Vec<Reminder>> {
        let everyone = recipients(conn)?;
        let kinds: Vec<Kind> = reminders::wanted(&everyone, local, schedule)
            .into_iter()
            .filter(|k| only.is_none_or(|o| o.contains(k)))
            .collect();
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let facts = facts(conn, &kinds, zone, policy, renewal_days, now)?;
        let mut due = Vec::new();
        for r in reminders::plan(&everyone, &facts, now, local, schedule) {
            if kinds.contains(&r.kind) && !mail::key_queued(conn, &r.key)? {
                due.push(r);
            }
        }
        Ok(due)
    };
    let mut kinds: Vec<Kind> = due(reader, None)?.iter().map(|r| r.kind).collect();
    if kinds.is_empty() {
        return Ok(0);
    }
    kinds.dedup();
    let mut conn = lock(writer);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut queued = 0;
    for r in due(&tx, Some(&kinds))? {
        let (text, html) = bodies(settings, &r)?;
        let id = new_message_id(&settings.from)?;
        let added = mail::queue(
            &tx,
            &mail::NewMessage {
                message_id: &id,
                dedup_key: Some(&r.key),
                kind: r.kind.code(),
                site: r.site,
                to: &r.to,
                subject: &r.subject,
                body_text: &text,
                body_html: &html,
            },
            now,
        )?;
        queued += usize::from(added.is_some());
    }
    tx.commit()?;
    Ok(queued)
}

/// What one round of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    /// Temporary failures, to be tried again.
    pub deferred: usize,
    /// Given up: permanent failures and temporary ones past the retry time.
    pub failed: usize,
}

fn lock(db: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).map_or(0.5, |()| f64::from(byte[0]) / 255.0)
}

/// Records what became of message `m` (in the caller's transaction).
fn record(
    conn: &Connection,
    m: &mail::Leased,
    attempt: Attempt,
    retry_for: SignedDuration,
    done: Timestamp,
    round: &mut Round,
) -> Result<()> {
    match attempt {
        Attempt::Sent => {
            mail::mark_sent(conn, m.id, done)?;
            tracing::info!(message = m.id, "mail sent");
            round.sent += 1;
        }
        Attempt::Temporary(error) => {
            match next_attempt(m.failures + 1, m.queued_at, done, retry_for, jitter()) {
                Some(next) => {
                    mail::mark_retry(conn, m.id, &error, next)?;
                    tracing::warn!(message = m.id, %error, %next, "mail deferred");
                    round.deferred += 1;
                }
                None => {
                    let error = format!("given up after {} tries: {error}", m.failures + 1);
                    mail::mark_failed(conn, m.id, &error, false, done)?;
                    tracing::error!(message = m.id, %error, "mail failed");
                    round.failed += 1;
                }
            }
        }
        Attempt::Permanent {
            answer,
            address_refused,
        } => {
            mail::mark_failed(conn, m.id, &answer, address_refused, done)?;
            tracing::error!(message = m.id, %answer, address_refused, "mail refused");
            round.failed += 1;
        }
    }
    Ok(())
}

/// Sends the messages due, one at a time, until none is due or `limit` were tried, at
/// most one every `spacing` (the records' writer is shared with the requests: a steady
/// trickle leaves it free for them). The database is locked only to record a message's
/// outcome and lease the next (one transaction for both), never while the mail server is
/// talking. `now` is read for each message.
pub fn send_due(
    db: &Mutex<Connection>,
    sender: &dyn Sender,
    retry_for: SignedDuration,
    now: &dyn Fn() -> Timestamp,
    limit: usize,
    spacing: std::time::Duration,
) -> Result<Round> {
    let mut round = Round::default();
    let mut outcome: Option<(mail::Leased, Attempt)> = None;
    for tried in 0..=limit {
        let at = now();
        let leased = {
            let mut conn = lock(db);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some((m, attempt)) = outcome.take() {
                record(&tx, &m, attempt, retry_for, at, &mut round)?;
            }
            let leased = if tried < limit {
                mail::lease_next(&tx, at, at.checked_add(LEASE).unwrap_or(at))?
            } else {
                None
            };
            tx.commit()?;
            leased
        };
        let Some(m) = leased else { break };
        let started = std::time::Instant::now();
        let attempt = sender.send(
            &Outgoing {
                message_id: &m.message_id,
                to: &m.to,
                subject: &m.subject,
                body_text: &m.body_text,
                body_html: &m.body_html,
            },
            at,
        );
        outcome = Some((m, attempt));
        if let Some(rest) = spacing.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    Ok(round)
}

/// "Send again": a failed message is queued again from `now`.
pub fn send_again(conn: &mut Connection, id: i64, actor: &str, now: Timestamp) -> Result<()> {
    super::audited(conn, actor, Action::MailSendAgain, now, |tx| {
        if !mail::requeue(tx, id, now)? {
            return Err(StoreError::Conflict(
                "only a message that failed can be sent again".into(),
            ));
        }
        Ok(((), format!("mail:{id}"), serde_json::json!({})))
    })
}

/// A test message's subject, plain and HTML bodies.
#[must_use]
pub fn test_message(settings: &MailSettings) -> (&'static str, String, String) {
    let text = format!(
        "This is a test message from consentcam at {}.\n",
        settings.link_base()
    );
    // The address holds no markup: its check refuses <, > and quotes.
    let html = format!(
        "<p>This is a test message from consentcam at {}.</p>",
        settings.link_base()
    );
    ("consentcam test message", text, html)
}

/// Queues one test message to `to` (no key): it goes out through the same outbox as
/// every reminder.
pub fn queue_test(
    conn: &mut Connection,
    settings: &MailSettings,
    to: &str,
    site: Option<i64>,
    actor: &str,
    now: Timestamp,
) -> Result<i64> {
    registry::check_email(to)?;
    let id = new_message_id(&settings.from)?;
    let (subject, text, html) = test_message(settings);
    super::audited(conn, actor, Action::MailTest, now, |tx| {
        let queued = mail::queue(
            tx,
            &mail::NewMessage {
                message_id: &id,
                dedup_key: None,
                kind: "test",
                site,
                to,
                subject,
                body_text: &text,
                body_html: &html,
            },
            now,
        )?
        .ok_or_else(|| StoreError::Conflict("the message was not queued".into()))?;
        Ok((queued, format!("mail:{queued}"), serde_json::json!({})))
    })
}

/// The mail worker: queues the reminders due and sends the outbox, every `poll_seconds`
/// (at once again while more is due), until `stop`. `writer` is the server's writing
/// connection (the worker takes its turn with the requests instead of contending for
/// SQLite's lock); the reminders are read on a connection of its own. Messages a stopped
/// server was sending are sent again first (only one server sends from a database).
/// Without `[mail]` it returns at once.
///
/// # Errors
/// Settings that cannot send, or records that cannot be opened; a failed round is logged
/// and the next one tried.
pub fn work(
    writer: &Mutex<Connection>,
    config: &crate::infra::config::Config,
    clock: &crate::infra::clock::Clock,
    stop: &std::sync::atomic::AtomicBool,
) -> std::result::Result<(), String> {
    const PER_ROUND: usize = 50;
    let Some(settings) = &config.mail else {
        return Ok(());
    };
    let sender = crate::infra::mail::SmtpSender::new(settings).map_err(|e| e.to_string())?;
    let reader = crate::store::open_reader(&config.db_path()).map_err(|e| e.to_string())?;
    match mail::release_leases(&lock(writer)) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            messages = n,
            "mail a stopped server was sending is sent again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot release the outbox's leases"),
    }
    let zone = crate::infra::clock::time_zone(&config.time_zone);
    let retry_for = SignedDuration::from_hours(i64::from(settings.retry_hours));
    let policy = config.policy();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let queued = queue_reminders(
            &reader,
            writer,
            settings,
            &zone,
            &policy,
            config.renewal_notice_days,
            clock.now(),
        );
        match queued {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminders = n, "reminders queued"),
            Err(e) => tracing::error!(error = %e, "the reminders could not be queued"),
        }
        let spacing = std::time::Duration::from_secs(1) / settings.per_second.max(1);
        let busy = match send_due(
            writer,
            &sender,
            retry_for,
            &|| clock.now(),
            PER_ROUND,
            spacing,
        ) {
            Ok(round) => round.sent + round.deferred + round.failed == PER_ROUND,
            Err(e) => {
                tracing::error!(error = %e, "the mail round did not finish");
                false
            }
        };
        if !busy {
            // Slept in short steps so a stop is seen soon.
            let until = std::time::Instant::now()
                + std::time::Duration::from_secs(u64::from(settings.poll_seconds));
            while std::time::Instant::now() < until
                && !stop.load(std::sync::atomic::Ordering::Relaxed)
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    Ok(())
}
