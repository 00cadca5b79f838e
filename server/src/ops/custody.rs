//! Custody: the kiosks' events (sign-outs, returns, taps), each recorded once.

use consentcam_wire::{EventBatch, EventReceipt, RefusedEvent, RejectedEvent};
use jiff::Timestamp;
use rusqlite::Connection;

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
