//! The imperative shell around the rules: poll the hardware and the server link, turn what
//! happened into [`Event`]s, [`step`] the state machine, and carry out its [`Effect`]s
//! (draw, signal, journal, unlock).
//!
//! Generic over the hardware traits, so the same loop drives the Pi and the simulation.
//! It never panics on input: device errors are logged and the kiosk carries on.

use std::sync::{Arc, Mutex};

use consentcam_hardware::{
    BadgeReader, Buttons, CabinetLock, Indicators, KioskDisplay, ReaderError,
};
use consentcam_wire::TagUid;
use jiff::Timestamp;

use crate::card::{self, ProgressFollower};
use crate::journal::Journal;
use crate::link::{LinkHandle, LinkNews};
use crate::machine::{Effect, Event, State, step};
use crate::screen::{Screen, draw};

/// The kiosk's devices.
pub struct Hardware<R, D, I, B, L> {
    pub reader: R,
    pub display: D,
    pub indicators: I,
    pub buttons: B,
    pub lock: L,
}

pub struct Kiosk<R, D, I, B, L> {
    hw: Hardware<R, D, I, B, L>,
    state: State,
    journal: Arc<Mutex<Journal>>,
    link: Option<LinkHandle>,
    shown: Option<Screen>,
    reader_fault: Option<ReaderError>,
    card: Option<ProgressFollower>,
}

impl<R, D, I, B, L> Kiosk<R, D, I, B, L>
where
    R: BadgeReader,
    D: KioskDisplay,
    D::Error: std::fmt::Debug,
    I: Indicators,
    B: Buttons,
    L: CabinetLock,
{
    /// `link` is `None` for a kiosk with no server (it journals and never syncs).
    pub fn new(
        hw: Hardware<R, D, I, B, L>,
        state: State,
        journal: Arc<Mutex<Journal>>,
        link: Option<LinkHandle>,
    ) -> Self {
        Self {
            hw,
            state,
            journal,
            link,
            shown: None,
            reader_fault: None,
            card: None,
        }
    }

    /// Follows the imports of returned cards through their progress file (K3).
    pub fn with_card_progress(mut self, follower: ProgressFollower) -> Self {
        self.card = Some(follower);
        self
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The screen last drawn.
    pub fn shown(&self) -> Option<&Screen> {
        self.shown.as_ref()
    }

    pub fn hardware(&mut self) -> &mut Hardware<R, D, I, B, L> {
        &mut self.hw
    }

    /// One pass of the main loop at `now`: server news, the reader, the buttons, a tick.
    pub fn poll(&mut self, now: Timestamp) {
        for news in self.link.as_ref().map(LinkHandle::news).unwrap_or_default() {
            let event = match news {
                LinkNews::Reachable => Event::ServerReachable { at: now },
                LinkNews::Unreachable { queued } => Event::ServerUnreachable { queued, at: now },
                LinkNews::TokenRefused { queued } => Event::TokenRefused { queued, at: now },
                LinkNews::RosterSynced(roster) => {
                    // Events decided since the roster was fetched are not in it yet;
                    // the next round brings a roster that has them.
                    if self.pending() > 0 {
                        continue;
                    }
                    Event::RosterSynced {
                        roster: *roster,
                        at: now,
                    }
                }
            };
            self.handle(event);
        }
        let polled = self.hw.reader.poll();
        let working = match &polled {
            Ok(_) => Some(true),
            Err(e) if e.is_transient() => None,
            Err(_) => Some(false),
        };
        match (working, self.reader_fault.is_some()) {
            (Some(true), true) => self.handle(Event::ReaderWorking { at: now }),
            (Some(false), false) => self.handle(Event::ReaderFailed { at: now }),
            _ => {}
        }
        match polled {
            Ok(Some(uid)) => {
                if self.reader_fault.take().is_some() {
                    tracing::info!("badge reader working again");
                }
                match TagUid::from_bytes(uid.as_bytes()) {
                    Ok(uid) => self.handle(Event::Tapped { uid, at: now }),
                    Err(_) => tracing::warn!(len = uid.as_bytes().len(), "unusable UID length"),
                }
            }
            Ok(None) => {
                if self.reader_fault.take().is_some() {
                    tracing::info!("badge reader working again");
                }
            }
            Err(e) if e.is_transient() => tracing::debug!(error = %e, "bad read"),
            Err(e) => {
                if self.reader_fault.as_ref() != Some(&e) {
                    tracing::error!(error = %e, "badge reader fault");
                }
                self.reader_fault = Some(e);
            }
        }
        while let Some(button) = self.hw.buttons.poll() {
            self.handle(Event::Pressed { button, at: now });
        }
        let progress = self.card.as_mut().map(ProgressFollower::poll);
        for line in progress.unwrap_or_default() {
            self.handle(card::event(line, now));
        }
        self.handle(Event::Tick { at: now });
    }

    /// The reader's current fault, if it has one.
    pub fn reader_fault(&self) -> Option<&ReaderError> {
        self.reader_fault.as_ref()
    }

    /// Events journalled and not yet acknowledged by the server.
    pub fn pending(&self) -> usize {
        self.journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending_len()
    }

    /// Steps the rules with one event and carries out the effects.
    pub fn handle(&mut self, event: Event) {
        let (state, effects) = step(std::mem::take(&mut self.state), event);
        self.state = state;
        let mut recorded = false;
        for effect in effects {
            match effect {
                Effect::Show(screen) => self.show(screen),
                Effect::Signal(signal) => {
                    if let Err(e) = self.hw.indicators.signal(signal) {
                        tracing::warn!(error = %e, "indicators");
                    }
                }
                Effect::Record { kind, at } => {
                    let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
                    match journal.append(kind, at) {
                        Ok(event) => {
                            tracing::debug!(seq = event.seq, "journalled");
                            recorded = true;
                        }
                        Err(e) => tracing::error!(error = %e, "cannot journal an event"),
                    }
                }
                Effect::ReleaseLock => {
                    if let Err(e) = self.hw.lock.release() {
                        tracing::warn!(error = %e, "cabinet lock");
                    }
                }
            }
        }
        if recorded && let Some(link) = &self.link {
            link.nudge();
        }
    }

    fn show(&mut self, screen: Screen) {
        if self.shown.as_ref() == Some(&screen) {
            return;
        }
        if let Err(e) = draw(&screen, &mut self.hw.display) {
            tracing::warn!(error = ?e, "drawing the screen");
        }
        if let Err(e) = self.hw.display.flush() {
            tracing::warn!(error = %e, "display");
        }
        self.shown = Some(screen);
    }
}
