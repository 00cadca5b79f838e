//! The kiosk's link to the server: replay the journal in order, then fetch the roster.
//!
//! [`sync_once`] is one round, testable on its own; [`LinkHandle::spawn`] runs rounds on a
//! thread (every few seconds, or at once when nudged after a new event) so a slow or dead
//! server never holds up the screen. The journal lock is never held across a request.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use consentcam_wire::{EventBatch, Roster};

use crate::client::{ApiError, KioskApi};
use crate::journal::{Journal, JournalError};

/// Events per request.
pub const BATCH: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The server refused an event; it and everything after it stay in the journal.
    #[error("the server refused event {event_id}: {reason}")]
    Rejected { event_id: String, reason: String },
    #[error("the server acknowledged none of the events sent")]
    NoProgress,
}

/// What one round achieved.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Events the server acknowledged this round.
    pub delivered: usize,
    /// A fresh roster, fetched only once nothing was left to send (so it already
    /// reflects every sign-out and return this kiosk decided).
    pub roster: Option<Roster>,
}

fn lock(journal: &Mutex<Journal>) -> MutexGuard<'_, Journal> {
    journal.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends every pending event in order, in batches, then fetches the roster.
pub fn sync_once(journal: &Mutex<Journal>, api: &dyn KioskApi) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    loop {
        let batch = lock(journal).batch(BATCH);
        if batch.is_empty() {
            break;
        }
        let receipt = api.post_events(&EventBatch {
            events: batch,
            sent_at: Some(crate::clock::now()),
        })?;
        for refused in &receipt.refused {
            // Kept by the server for an admin to see; nothing for the kiosk to do.
            tracing::warn!(
                event_id = refused.event_id,
                code = refused.code,
                "the server refused an event"
            );
        }
        let dropped = lock(journal).acknowledge(&receipt)?;
        report.delivered += dropped;
        if let Some(rejected) = receipt.rejected {
            return Err(SyncError::Rejected {
                event_id: rejected.event_id,
                reason: rejected.reason,
            });
        }
        if dropped == 0 {
            return Err(SyncError::NoProgress);
        }
    }
    report.roster = Some(api.roster()?);
    Ok(report)
}

/// The last roster, kept on disk so a kiosk restarted while the server is down still
/// knows its badges and devices.
pub fn save_roster(path: &Path, roster: &Roster) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(roster).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

pub fn load_roster(path: &Path) -> Option<Roster> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(roster) => Some(roster),
        Err(e) => {
            tracing::warn!(error = %e, "cached roster unreadable; ignored");
            None
        }
    }
}

/// News from the link thread for the kiosk loop.
#[derive(Debug)]
pub enum LinkNews {
    Reachable,
    Unreachable {
        queued: usize,
    },
    /// The server answered but refused the kiosk's token: someone must register it again.
    TokenRefused {
        queued: usize,
    },
    RosterSynced(Box<Roster>),
}

/// The running link thread.
pub struct LinkHandle {
    nudge: Option<Sender<()>>,
    news: Receiver<LinkNews>,
    thread: Option<JoinHandle<()>>,
}

impl LinkHandle {
    /// Starts syncing every `every`, and at once whenever nudged.
    pub fn spawn(
        journal: Arc<Mutex<Journal>>,
        api: Box<dyn KioskApi + Send>,
        roster_cache: Option<PathBuf>,
        every: Duration,
    ) -> Self {
        let (nudge_tx, nudge_rx) = mpsc::channel::<()>();
        let (news_tx, news_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("kiosk-link".into())
            .spawn(move || {
                run(
                    &journal,
                    api.as_ref(),
                    roster_cache.as_deref(),
                    every,
                    &nudge_rx,
                    &news_tx,
                )
            })
            .map_err(|e| tracing::error!(error = %e, "cannot start the link thread"))
            .ok();
        Self {
            nudge: Some(nudge_tx),
            news: news_rx,
            thread,
        }
    }

    /// Asks for a round now (a new event is waiting).
    pub fn nudge(&self) {
        if let Some(tx) = &self.nudge {
            let _ = tx.send(());
        }
    }

    /// Everything the thread reported since the last call.
    pub fn news(&self) -> Vec<LinkNews> {
        self.news.try_iter().collect()
    }
}

impl Drop for LinkHandle {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    journal: &Mutex<Journal>,
    api: &dyn KioskApi,
    roster_cache: Option<&Path>,
    every: Duration,
    nudge: &Receiver<()>,
    news: &Sender<LinkNews>,
) {
    loop {
        match sync_once(journal, api) {
            Ok(report) => {
                if report.delivered > 0 {
                    tracing::info!(delivered = report.delivered, "journal replayed");
                }
                let _ = news.send(LinkNews::Reachable);
                if let Some(roster) = report.roster {
                    if let Some(path) = roster_cache
                        && let Err(e) = save_roster(path, &roster)
                    {
                        tracing::warn!(error = %e, "cannot cache the roster");
                    }
                    let _ = news.send(LinkNews::RosterSynced(Box::new(roster)));
                }
            }
            Err(e) => {
                let queued = lock(journal).pending_len();
                match &e {
                    SyncError::Api(api) if api.is_unreachable() => {
                        tracing::debug!(error = %e, queued, "server unreachable");
                    }
                    _ => tracing::error!(error = %e, queued, "sync failed"),
                }
                let refused = matches!(&e, SyncError::Api(ApiError::Unauthorised(_)));
                let _ = news.send(if refused {
                    LinkNews::TokenRefused { queued }
                } else {
                    LinkNews::Unreachable { queued }
                });
            }
        }
        match nudge.recv_timeout(every) {
            Ok(()) => while nudge.try_recv().is_ok() {},
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
