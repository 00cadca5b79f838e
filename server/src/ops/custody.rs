//! Custody: the kiosks' events (sign-outs, returns, taps), each recorded once.

use consentcam_wire::{EventBatch, EventReceipt, RefusedEvent, RejectedEvent};
use jiff::Timestamp;
use rusqlite::Connection;

use crate::rules::kiosk;
use crate::store::custody::{self, Recorded};
use crate::store::{Result, StoreError};

/// The most events one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// Records a kiosk's batch in order, each event in its own transaction with its audit
/// entries, each `event_id` once (a replay answers "duplicate" and changes nothing). An
/// event the checks refuse is kept as refused. Stops at the first event that cannot be
/// recorded at all (malformed, or naming what does not exist), so the kiosk keeps that
/// one and everything after it and order is never broken.
pub fn record_batch(
    conn: &mut Connection,
    kiosk: i64,
    batch: &EventBatch,
    received: Timestamp,
) -> Result<EventReceipt> {
    record_batch_kept(conn, kiosk, batch, received, true)
}

/// What [`record_batch`] would answer for a batch of one event, with nothing written: only
/// for the fault campaign's negative control, which answers first and writes later.
#[cfg(feature = "fault-injection")]
pub fn answer_unwritten(
    conn: &mut Connection,
    kiosk: i64,
    batch: &EventBatch,
    received: Timestamp,
) -> Result<EventReceipt> {
    record_batch_kept(conn, kiosk, batch, received, false)
}

fn record_batch_kept(
    conn: &mut Connection,
    kiosk: i64,
    batch: &EventBatch,
    received: Timestamp,
    keep: bool,
) -> Result<EventReceipt> {
    if batch.events.len() > MAX_BATCH {
        return Err(StoreError::Invalid(format!(
            "send at most {MAX_BATCH} events per batch"
        )));
    }
    let mut receipt = EventReceipt {
        recorded: vec![],
        duplicate: vec![],
        refused: vec![],
        rejected: None,
    };
    let off_by = kiosk::clocks_apart(received, batch.sent_at);
    if keep {
        custody::note_clock(conn, kiosk, off_by, received)?;
    }
    if let Some(off) = off_by {
        tracing::warn!(
            kiosk,
            kiosk_minus_server_seconds = off.as_secs(),
            "the kiosk's clock and the server's disagree: its events wait on the kiosk"
        );
    }
    for event in &batch.events {
        let tx = conn.transaction()?;
        match custody::record_event(&tx, kiosk, event, received, batch.sent_at) {
            Ok(Recorded::New) => {
                if keep {
                    tx.commit()?;
                }
                receipt.recorded.push(event.event_id.clone());
            }
            Ok(Recorded::Refused(refusal)) => {
                if keep {
                    tx.commit()?;
                }
                receipt.refused.push(RefusedEvent {
                    event_id: event.event_id.clone(),
                    code: refusal.code().into(),
                    reason: refusal.sentence().into(),
                });
            }
            Ok(Recorded::Duplicate) => receipt.duplicate.push(event.event_id.clone()),
            Ok(Recorded::Held(refusal)) => {
                let off = off_by.map_or_else(String::new, |off| {
                    format!(
                        " (the kiosk's clock is {} the server's)",
                        kiosk::describe_offset(off)
                    )
                });
                receipt.rejected = Some(RejectedEvent {
                    event_id: event.event_id.clone(),
                    reason: format!("{}{off}", refusal.sentence()),
                });
                break;
            }
            Err(e @ (StoreError::Invalid(_) | StoreError::NotFound { .. })) => {
                receipt.rejected = Some(RejectedEvent {
                    event_id: event.event_id.clone(),
                    reason: e.to_string(),
                });
                break;
            }
            Err(e) => return Err(e),
        }
    }
    tracing::info!(
        kiosk,
        recorded = receipt.recorded.len(),
        duplicate = receipt.duplicate.len(),
        refused = receipt.refused.len(),
        rejected = receipt.rejected.is_some(),
        "kiosk events"
    );
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use consentcam_wire::{EventBatch, KioskEventKind};

    use super::*;
    use crate::store::custody::tests::{event, setup, t};

    #[test]
    fn a_batch_stops_at_the_first_event_it_cannot_record_and_a_replay_changes_nothing() {
        let (mut conn, kiosk, person, device) = setup();
        let out = event(
            "k-1",
            1,
            10,
            KioskEventKind::SignedOut {
                device_id: device,
                person_id: person,
                due_back: t(3610),
                booking_id: None,
            },
        );
        let mut malformed = event(
            "k-2",
            2,
            20,
            KioskEventKind::Returned {
                device_id: device,
                person_id: person,
            },
        );
        malformed.reader = "r".repeat(200);
        let back = event(
            "k-3",
            3,
            30,
            KioskEventKind::Returned {
                device_id: device,
                person_id: person,
            },
        );
        let batch = EventBatch {
            events: vec![out.clone(), malformed.clone(), back.clone()],
            sent_at: None,
        };
        let receipt = record_batch(&mut conn, kiosk, &batch, t(40)).unwrap();
        assert_eq!(receipt.recorded, ["k-1"]);
        let rejected = receipt
            .rejected
            .expect("the unknown device stops the batch");
        assert_eq!(rejected.event_id, "k-2");
        assert_eq!(
            custody::open_sessions(&conn).unwrap().len(),
            1,
            "the return after the rejected event was not recorded"
        );

        // The kiosk sends again from the rejected one, mended; the first is a duplicate.
        malformed.reader = "office-1".into();
        let again = EventBatch {
            events: vec![out, malformed, back],
            sent_at: None,
        };
        let receipt = record_batch(&mut conn, kiosk, &again, t(50)).unwrap();
        assert_eq!(receipt.duplicate, ["k-1"]);
        assert_eq!(receipt.recorded, ["k-2", "k-3"]);
        assert!(receipt.refused.is_empty() && receipt.rejected.is_none());
        assert!(custody::open_sessions(&conn).unwrap().is_empty());
    }

    fn clock_note(conn: &Connection, kiosk: i64) -> (Option<i64>, Option<String>) {
        conn.query_row(
            "SELECT clock_off_seconds, clock_off_since FROM kiosks WHERE id = ?1",
            [kiosk],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    #[test]
    fn when_the_servers_clock_is_set_wrong_the_kiosks_events_wait_and_none_is_refused() {
        let (mut conn, kiosk, person, device) = setup();
        let out = event(
            "k-1",
            1,
            0,
            KioskEventKind::SignedOut {
                device_id: device,
                person_id: person,
                due_back: t(3600),
                booking_id: None,
            },
        );
        let back = event(
            "k-2",
            2,
            60,
            KioskEventKind::Returned {
                device_id: device,
                person_id: person,
            },
        );
        let batch = EventBatch {
            events: vec![out, back],
            sent_at: Some(t(90)),
        };
        // The server's clock an hour back, then a day ahead: held each time.
        for (server, said) in [
            (t(90 - 3600), "1 h 0 min ahead of"),
            (t(90 + 86_400), "1 day 0 h 0 min behind"),
        ] {
            let receipt = record_batch(&mut conn, kiosk, &batch, server).unwrap();
            assert!(
                receipt.recorded.is_empty() && receipt.refused.is_empty(),
                "{receipt:?}"
            );
            let held = receipt.rejected.expect("held, left on the kiosk");
            assert_eq!(held.event_id, "k-1");
            assert!(held.reason.contains(said), "{}", held.reason);
            let refused: i64 = conn
                .query_row("SELECT count(*) FROM refused_kiosk_events", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(refused, 0);
        }
        let (off, since) = clock_note(&conn, kiosk);
        assert_eq!(off, Some(-86_400), "the latest difference");
        assert_eq!(
            since,
            Some(t(90 - 3600).to_string()),
            "since it was first seen"
        );

        // The clock is mended: the kiosk's next round goes through, and the note goes.
        let receipt = record_batch(&mut conn, kiosk, &batch, t(91)).unwrap();
        assert_eq!(receipt.recorded, ["k-1", "k-2"]);
        assert!(receipt.rejected.is_none());
        assert_eq!(clock_note(&conn, kiosk), (None, None));
    }

    #[test]
    fn an_oversized_batch_is_refused_whole() {
        let (mut conn, kiosk, person, device) = setup();
        let events = (0..=MAX_BATCH as u64)
            .map(|i| {
                event(
                    &format!("k-{i}"),
                    i + 1,
                    10,
                    KioskEventKind::Returned {
                        device_id: device,
                        person_id: person,
                    },
                )
            })
            .collect();
        let batch = EventBatch {
            events,
            sent_at: None,
        };
        let err = record_batch(&mut conn, kiosk, &batch, t(40)).unwrap_err();
        assert!(err.to_string().contains("at most 1000"), "{err}");
        let seen: i64 = conn
            .query_row("SELECT count(*) FROM kiosk_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seen, 0);
    }
}
