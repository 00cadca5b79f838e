//! The kiosk rules K1-K6 as a pure state machine: `step(state, event) -> (state, effects)`.
//!
//! No I/O and no clock: every event carries the time it happened. The shell
//! ([`crate::kiosk`]) gathers events from the hardware and the server link, calls [`step`]
//! and carries out the [`Effect`]s.
//!
//! ```text
//!                 staff badge                         device tag (device in)
//!        ┌───────────────────────────┐     ┌───────────────────────────────┐
//!        ▼                           │     │                               ▼
//!  AwaitingDevice ◄──────────────── Idle ──┘                         AwaitingBadge
//!    │ device tag (in): sign out      │ ▲ device tag (out): return        │ staff badge: sign out
//!    │ device tag (out, own): return  │ │                                 │
//!    │ OK with one device: return     │ │ timeout / Cancel / message over │
//!    ▼                                ▼ │                                 ▼
//!  Message{SignedOut|Refused|...} ─────►┘◄──────────── Message ◄──────────┘
//!
//!  Idle/Message ─ device tag (out) ─► AwaitingCard ─ card inserted ─► Importing
//!  Importing ─ progress ─► Importing ─ finished ─► Message{ImportSummary} ─► Idle
//!
//!  sign out under a group booking ─► Briefing{SignedOut, GroupBrief, Cautions...}
//!  Briefing ─ OK / page time up ─► next page ... last page ─► Idle
//! ```
//!
//! A sign-out that belongs to a booking for a group (K2) shows, after the confirmation,
//! which people of the group must not be photographed and which only for internal use,
//! page by page, before the holder leaves with the device.
//!
//! Refusals (K1: unknown badge, learner badge, staff without permission; a device out
//! with someone else) show a message with the red LED and two beeps. Every tap is
//! recorded (K5), accepted or not. An unexpected (state, event) pair keeps the state and
//! logs; no pair panics.

use consentcam_hardware::{Button, Signal};
use consentcam_wire::{
    CautionKind, KindCounts, KioskEventKind, Roster, RosterBooking, TagUid, TapOutcome,
};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::roster::{Custody, LocalRoster, Tapped};
use crate::screen::{DeviceLine, NAMES_PER_PAGE, OverdueLine, Refusal, Screen};

/// Timings of the kiosk's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// How long a half-finished sign-out (badge without tag, or tag without badge) waits.
    pub tap_timeout: SignedDuration,
    /// How long a confirmation or refusal stays on screen.
    pub message_for: SignedDuration,
    /// How long after a return the kiosk waits for the camera's card.
    pub card_wait: SignedDuration,
    /// How long the import summary stays on screen.
    pub summary_for: SignedDuration,
    /// How long each page of a group briefing stays on screen unless OK turns it.
    pub page_for: SignedDuration,
    /// An import with no news for this long has died (the import service was killed):
    /// the kiosk says it stopped instead of showing the bar for ever.
    pub import_silence: SignedDuration,
    /// Times on screen are in this zone.
    pub time_zone: TimeZone,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            tap_timeout: SignedDuration::from_secs(30),
            message_for: SignedDuration::from_secs(4),
            card_wait: SignedDuration::from_mins(5),
            summary_for: SignedDuration::from_secs(15),
            page_for: SignedDuration::from_secs(8),
            import_silence: SignedDuration::from_mins(2),
            time_zone: TimeZone::UTC,
        }
    }
}

impl Default for State {
    /// Idle with nothing known: what a kiosk starts from before its first roster.
    fn default() -> Self {
        Self::new(LocalRoster::default(), Settings::default())
    }
}

/// What the kiosk is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// The device list; waiting for a tap.
    Idle,
    /// A staff member tapped; waiting for a device tag.
    AwaitingDevice { person_id: i64, since: Timestamp },
    /// A device tag was tapped (device in); waiting for a staff badge.
    AwaitingBadge { device_id: i64, since: Timestamp },
    /// A confirmation or refusal on screen until `until`, then idle. Taps act as in idle.
    Message { screen: Screen, until: Timestamp },
    /// After a sign-out booked for a group: `pages[page]` on screen until `until` or OK,
    /// then the next page; after the last, idle. Taps act as in idle.
    Briefing {
        pages: Vec<Screen>,
        page: usize,
        until: Timestamp,
    },
    /// A device came back; waiting for its card to import the photos.
    AwaitingCard {
        device_id: i64,
        person_id: i64,
        since: Timestamp,
    },
    /// Photos are being copied off the returned device's card.
    Importing {
        device_id: i64,
        done: u32,
        total: u32,
        failed: u32,
        /// When the import last said anything.
        news_at: Timestamp,
    },
}

impl Mode {
    /// The mode's name, for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::AwaitingDevice { .. } => "AwaitingDevice",
            Self::AwaitingBadge { .. } => "AwaitingBadge",
            Self::Message { .. } => "Message",
            Self::Briefing { .. } => "Briefing",
            Self::AwaitingCard { .. } => "AwaitingCard",
            Self::Importing { .. } => "Importing",
        }
    }
}

/// Whether the server answered lately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Online,
    Offline {
        since: Timestamp,
        queued: usize,
    },
    /// The server answers but refuses this kiosk's token: offline until IT registers it.
    Refused {
        since: Timestamp,
        queued: usize,
    },
}

/// Everything the rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub mode: Mode,
    pub roster: LocalRoster,
    pub link: Link,
    /// The badge reader stopped answering (unplugged, unpowered, wrong chip).
    pub reader_fault: bool,
    pub settings: Settings,
}

impl State {
    pub fn new(roster: LocalRoster, settings: Settings) -> Self {
        Self {
            mode: Mode::Idle,
            roster,
            link: Link::Online,
            reader_fault: false,
            settings,
        }
    }

    /// The screen this state shows at `now` (the idle screen alternates with the overdue
    /// list every five seconds while anything is overdue).
    pub fn screen(&self, now: Timestamp) -> Screen {
        match &self.mode {
            Mode::Idle => self.idle_screen(now),
            Mode::AwaitingDevice { person_id, .. } => {
                let held = self.roster.held_by(*person_id);
                Screen::AwaitDevice {
                    holder: self.roster.person_name(*person_id),
                    returnable: (held.len() == 1).then(|| self.roster.device_label(held[0])),
                }
            }
            Mode::AwaitingBadge { device_id, .. } => Screen::AwaitBadge {
                device: self.roster.device_label(*device_id),
            },
            Mode::Message { screen, .. } => screen.clone(),
            Mode::Briefing { pages, page, .. } => pages
                .get(*page)
                .cloned()
                .unwrap_or_else(|| self.idle_screen(now)),
            Mode::AwaitingCard {
                device_id,
                person_id,
                ..
            } => Screen::Returned {
                device: self.roster.device_label(*device_id),
                holder: self.roster.person_name(*person_id),
            },
            Mode::Importing {
                device_id,
                done,
                total,
                failed,
                ..
            } => Screen::Importing {
                device: self.roster.device_label(*device_id),
                done: *done,
                total: *total,
                failed: *failed,
            },
        }
    }

    fn idle_screen(&self, now: Timestamp) -> Screen {
        if self.reader_fault {
            return Screen::ReaderFault;
        }
        let tz = &self.settings.time_zone;
        let overdue = self.roster.overdue(now);
        let second_half = now.as_second().rem_euclid(10) >= 5;
        // A refused token alternates with the device list: it needs someone to act.
        if matches!(self.link, Link::Refused { .. }) && second_half && overdue.is_empty() {
            return Screen::TokenRefused;
        }
        if !overdue.is_empty() && second_half {
            return Screen::Overdue {
                items: overdue
                    .iter()
                    .map(|(device_id, c)| OverdueLine {
                        device: self.roster.device_label(*device_id),
                        holder: self.roster.person_name(c.person_id),
                        due: tz.to_datetime(c.due_back),
                    })
                    .collect(),
            };
        }
        Screen::Idle {
            now: tz.to_datetime(now),
            offline: self.link != Link::Online,
            devices: self
                .roster
                .devices()
                .iter()
                .map(|d| match self.roster.custody(d.device_id) {
                    None => DeviceLine::In {
                        device: d.label.clone(),
                    },
                    Some(c) => DeviceLine::Out {
                        device: d.label.clone(),
                        holder: self.roster.person_name(c.person_id),
                        since: tz.to_datetime(c.since),
                        overdue: c.due_back <= now,
                    },
                })
                .collect(),
        }
    }
}

/// Something that happened, with when.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A badge or tag was read.
    Tapped {
        uid: TagUid,
        at: Timestamp,
    },
    Pressed {
        button: Button,
        at: Timestamp,
    },
    /// Time passed (the shell sends one every few hundred milliseconds).
    Tick {
        at: Timestamp,
    },
    /// A card or USB storage appeared with `files` files to import.
    CardInserted {
        files: u32,
        at: Timestamp,
    },
    ImportProgress {
        done: u32,
        failed: u32,
        at: Timestamp,
    },
    ImportFinished {
        imported: u32,
        failed: u32,
        /// How many of each kind came in.
        kinds: KindCounts,
        at: Timestamp,
    },
    /// The import stopped after `done` files (the card went, the disk is full); running it
    /// again completes it.
    ImportStopped {
        done: u32,
        at: Timestamp,
    },
    /// A fresh roster arrived from the server (after the journal was replayed).
    RosterSynced {
        roster: Roster,
        at: Timestamp,
    },
    /// The server did not answer; `queued` events wait in the journal.
    ServerUnreachable {
        queued: usize,
        at: Timestamp,
    },
    ServerReachable {
        at: Timestamp,
    },
    /// The server refused the kiosk's token; `queued` events wait in the journal.
    TokenRefused {
        queued: usize,
        at: Timestamp,
    },
    /// The badge reader stopped answering.
    ReaderFailed {
        at: Timestamp,
    },
    /// The badge reader answers again.
    ReaderWorking {
        at: Timestamp,
    },
}

impl Event {
    pub fn at(&self) -> Timestamp {
        match self {
            Self::Tapped { at, .. }
            | Self::Pressed { at, .. }
            | Self::Tick { at }
            | Self::CardInserted { at, .. }
            | Self::ImportProgress { at, .. }
            | Self::ImportFinished { at, .. }
            | Self::ImportStopped { at, .. }
            | Self::RosterSynced { at, .. }
            | Self::ServerUnreachable { at, .. }
            | Self::TokenRefused { at, .. }
            | Self::ServerReachable { at }
            | Self::ReaderFailed { at }
            | Self::ReaderWorking { at } => *at,
        }
    }
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Show(Screen),
    Signal(Signal),
    /// Journal this event (K5, K6); the shell adds id, sequence number and reader.
    Record {
        kind: KioskEventKind,
        at: Timestamp,
    },
    /// Open the cabinet for an authorised sign-out or return.
    ReleaseLock,
}

/// The kiosk rules: one event in, the next state and what to do out.
pub fn step(mut state: State, event: Event) -> (State, Vec<Effect>) {
    let mut fx = Vec::new();
    let at = event.at();
    let mode = std::mem::replace(&mut state.mode, Mode::Idle);
    let from = mode.name();
    state.mode = match (mode, event) {
        (mode, Event::Tapped { uid, at }) => on_tap(&mut state, mode, uid, at, &mut fx),
        (mode, Event::Pressed { button, at }) => on_button(&mut state, mode, button, at, &mut fx),
        (mode, Event::Tick { at }) => on_tick(&state, mode, at, &mut fx),

        (Mode::AwaitingCard { device_id, .. }, Event::CardInserted { files, at }) => {
            Mode::Importing {
                device_id,
                done: 0,
                total: files,
                failed: 0,
                news_at: at,
            }
        }
        (mode @ Mode::Importing { .. }, Event::CardInserted { .. }) => {
            tracing::warn!("a second card appeared during an import; ignored");
            mode
        }
        (
            Mode::Idle
            | Mode::AwaitingDevice { .. }
            | Mode::AwaitingBadge { .. }
            | Mode::Message { .. }
            | Mode::Briefing { .. },
            Event::CardInserted { at, .. },
        ) => message(
            &state,
            Screen::Refused(Refusal::ReturnFirst),
            at,
            Signal::Refuse,
            &mut fx,
        ),

        (
            Mode::Importing {
                device_id, total, ..
            },
            Event::ImportProgress { done, failed, at },
        ) => Mode::Importing {
            device_id,
            done: done.min(total),
            total,
            failed,
            news_at: at,
        },
        (
            Mode::Importing { device_id, .. },
            Event::ImportFinished {
                imported,
                failed,
                kinds,
                at,
            },
        ) => {
            let screen = Screen::ImportSummary {
                device: state.roster.device_label(device_id),
                imported,
                failed,
                kinds,
            };
            let signal = if failed == 0 {
                Signal::Accept
            } else {
                Signal::Attention
            };
            fx.push(Effect::Signal(signal));
            Mode::Message {
                screen,
                until: later(at, state.settings.summary_for),
            }
        }
        (
            Mode::Importing {
                device_id, total, ..
            },
            Event::ImportStopped { done, at },
        ) => import_stopped(&state, device_id, done, total, at, &mut fx),
        (
            mode @ (Mode::Idle
            | Mode::AwaitingDevice { .. }
            | Mode::AwaitingBadge { .. }
            | Mode::Message { .. }
            | Mode::Briefing { .. }
            | Mode::AwaitingCard { .. }),
            Event::ImportProgress { .. }
            | Event::ImportFinished { .. }
            | Event::ImportStopped { .. },
        ) => {
            tracing::warn!("import news with no import running; ignored");
            mode
        }

        (mode, Event::RosterSynced { roster, .. }) => {
            state.roster = state.roster.refreshed(&roster);
            tracing::info!(
                badges = roster.badges.len(),
                devices = roster.devices.len(),
                "roster synced"
            );
            mode
        }
        (mode, Event::ServerUnreachable { queued, at }) => {
            let was_online = state.link == Link::Online;
            let since = match state.link {
                Link::Offline { since, .. } | Link::Refused { since, .. } => since,
                Link::Online => at,
            };
            state.link = Link::Offline { since, queued };
            if was_online && matches!(mode, Mode::Idle) {
                tracing::warn!(queued, "server unreachable; working from the last roster");
                let screen = Screen::ServerUnreachable {
                    synced_at: state
                        .roster
                        .synced_at()
                        .map(|t| state.settings.time_zone.to_datetime(t)),
                    queued,
                };
                Mode::Message {
                    screen,
                    until: later(at, state.settings.message_for),
                }
            } else {
                mode
            }
        }
        (mode, Event::TokenRefused { queued, at }) => {
            let since = match state.link {
                Link::Refused { since, .. } => since,
                Link::Online | Link::Offline { .. } => {
                    tracing::error!(queued, "the server refused this kiosk's token");
                    fx.push(Effect::Signal(Signal::Attention));
                    at
                }
            };
            state.link = Link::Refused { since, queued };
            mode
        }
        (mode, Event::ReaderFailed { .. }) => {
            if !state.reader_fault {
                fx.push(Effect::Signal(Signal::Attention));
            }
            state.reader_fault = true;
            mode
        }
        (mode, Event::ReaderWorking { .. }) => {
            if state.reader_fault {
                fx.push(Effect::Signal(Signal::Quiet));
            }
            state.reader_fault = false;
            mode
        }
        (mode, Event::ServerReachable { .. }) => {
            if state.link != Link::Online {
                tracing::info!("server reachable again");
            }
            state.link = Link::Online;
            mode
        }
    };
    if from != state.mode.name() {
        tracing::info!(from, to = state.mode.name(), "kiosk state");
    }
    // The shell draws only when the screen changed, so always say what should be shown.
    fx.push(Effect::Show(state.screen(at)));
    (state, fx)
}

fn import_stopped(
    state: &State,
    device_id: i64,
    done: u32,
    total: u32,
    at: Timestamp,
    fx: &mut Vec<Effect>,
) -> Mode {
    tracing::warn!(done, total, "the import stopped before the end");
    let screen = Screen::ImportStopped {
        device: state.roster.device_label(device_id),
        done: done.min(total),
        total,
    };
    fx.push(Effect::Signal(Signal::Attention));
    Mode::Message {
        screen,
        until: later(at, state.settings.summary_for),
    }
}

/// `at + d`, saturating instead of overflowing on absurd settings.
fn later(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn record_tap(uid: &TagUid, outcome: TapOutcome, at: Timestamp, fx: &mut Vec<Effect>) {
    tracing::info!(?outcome, "tap");
    fx.push(Effect::Record {
        kind: KioskEventKind::Tap {
            uid: uid.clone(),
            outcome,
        },
        at,
    });
}

fn message(
    state: &State,
    screen: Screen,
    at: Timestamp,
    signal: Signal,
    fx: &mut Vec<Effect>,
) -> Mode {
    fx.push(Effect::Signal(signal));
    Mode::Message {
        screen,
        until: later(at, state.settings.message_for),
    }
}

fn refuse(
    state: &State,
    uid: &TagUid,
    outcome: TapOutcome,
    refusal: Refusal,
    at: Timestamp,
    fx: &mut Vec<Effect>,
) -> Mode {
    record_tap(uid, outcome, at, fx);
    message(state, Screen::Refused(refusal), at, Signal::Refuse, fx)
}

fn ignore(mode: Mode, uid: &TagUid, at: Timestamp, fx: &mut Vec<Effect>) -> Mode {
    record_tap(uid, TapOutcome::Ignored, at, fx);
    mode
}

fn sign_out(
    state: &mut State,
    device_id: i64,
    person_id: i64,
    at: Timestamp,
    fx: &mut Vec<Effect>,
) -> Mode {
    let minutes = state.roster.device(device_id).map_or(0, |d| d.loan_minutes);
    let due_back = later(at, SignedDuration::from_mins(i64::from(minutes)));
    let booking = state.roster.booking_for(person_id, device_id, at).cloned();
    state.roster.sign_out(
        device_id,
        Custody {
            person_id,
            since: at,
            due_back,
        },
    );
    let booking_id = booking.as_ref().map(|b| b.booking_id);
    tracing::info!(device_id, person_id, booking_id, "signed out");
    fx.push(Effect::Record {
        kind: KioskEventKind::SignedOut {
            device_id,
            person_id,
            due_back,
            booking_id,
        },
        at,
    });
    fx.push(Effect::ReleaseLock);
    let screen = Screen::SignedOut {
        device: state.roster.device_label(device_id),
        holder: state.roster.person_name(person_id),
        due_back: state.settings.time_zone.to_datetime(due_back),
    };
    match booking {
        None => message(state, screen, at, Signal::Accept, fx),
        Some(booking) => {
            fx.push(Effect::Signal(Signal::Accept));
            let mut pages = vec![screen];
            pages.extend(briefing(&booking));
            Mode::Briefing {
                pages,
                page: 0,
                until: later(at, state.settings.message_for),
            }
        }
    }
}

/// The pages that tell the holder about a booked group: a summary, then the people not to
/// photograph, then those for internal use only, a few names per page.
pub fn briefing(booking: &RosterBooking) -> Vec<Screen> {
    let names = |kind: CautionKind| -> Vec<String> {
        booking
            .cautions
            .iter()
            .filter(|c| c.caution == kind)
            .map(|c| c.name.clone())
            .collect()
    };
    let no_photos = names(CautionKind::NoPhotos);
    let not_public = names(CautionKind::NotPublic);
    let mut pages = vec![Screen::GroupBrief {
        group: booking.group.clone(),
        members: booking.members,
        no_photos: no_photos.len() as u32,
        not_public: not_public.len() as u32,
    }];
    for (caution, names) in [
        (CautionKind::NoPhotos, no_photos),
        (CautionKind::NotPublic, not_public),
    ] {
        let chunks: Vec<&[String]> = names.chunks(NAMES_PER_PAGE).collect();
        let total = chunks.len() as u32;
        for (i, chunk) in chunks.into_iter().enumerate() {
            pages.push(Screen::Cautions {
                caution,
                names: chunk.to_vec(),
                page: i as u32 + 1,
                pages: total,
            });
        }
    }
    pages
}

/// The next page of a briefing, or idle after the last.
fn turn_page(
    state: &State,
    pages: Vec<Screen>,
    page: usize,
    at: Timestamp,
    fx: &mut Vec<Effect>,
) -> Mode {
    if page + 1 < pages.len() {
        Mode::Briefing {
            pages,
            page: page + 1,
            until: later(at, state.settings.page_for),
        }
    } else {
        fx.push(Effect::Signal(Signal::Quiet));
        Mode::Idle
    }
}

fn give_back(state: &mut State, device_id: i64, at: Timestamp, fx: &mut Vec<Effect>) -> Mode {
    let Some(custody) = state.roster.sign_in(device_id) else {
        tracing::warn!(device_id, "return of a device that is not out; ignored");
        return Mode::Idle;
    };
    tracing::info!(device_id, person_id = custody.person_id, "returned");
    fx.push(Effect::Record {
        kind: KioskEventKind::Returned {
            device_id,
            person_id: custody.person_id,
        },
        at,
    });
    fx.push(Effect::ReleaseLock);
    fx.push(Effect::Signal(Signal::Accept));
    Mode::AwaitingCard {
        device_id,
        person_id: custody.person_id,
        since: at,
    }
}

fn on_tap(state: &mut State, mode: Mode, uid: TagUid, at: Timestamp, fx: &mut Vec<Effect>) -> Mode {
    let tapped = state.roster.resolve(&uid);
    // Refusals are the same in every mode (K1); during an import they are recorded and
    // signalled but the progress stays on screen.
    let refusal = match tapped {
        Tapped::Unknown => Some((TapOutcome::UnknownCard, Refusal::UnknownCard)),
        Tapped::Learner => Some((TapOutcome::StaffOnly, Refusal::StaffOnly)),
        Tapped::Staff {
            may_sign_out: false,
            ..
        } => Some((TapOutcome::NotAuthorised, Refusal::NotAuthorised)),
        Tapped::Staff { .. } | Tapped::Device { .. } => None,
    };
    if let Some((outcome, refusal)) = refusal {
        if matches!(mode, Mode::Importing { .. }) {
            record_tap(&uid, outcome, at, fx);
            fx.push(Effect::Signal(Signal::Refuse));
            return mode;
        }
        return refuse(state, &uid, outcome, refusal, at, fx);
    }
    match (mode, tapped) {
        (mode @ Mode::Importing { .. }, _) => {
            fx.push(Effect::Signal(Signal::Refuse));
            ignore(mode, &uid, at, fx)
        }
        // Idle-like modes: a fresh start.
        (
            Mode::Idle | Mode::Message { .. } | Mode::Briefing { .. } | Mode::AwaitingCard { .. },
            Tapped::Staff { person_id, .. },
        ) => {
            record_tap(&uid, TapOutcome::Accepted, at, fx);
            fx.push(Effect::Signal(Signal::Accept));
            Mode::AwaitingDevice {
                person_id,
                since: at,
            }
        }
        (
            Mode::Idle | Mode::Message { .. } | Mode::Briefing { .. } | Mode::AwaitingCard { .. },
            Tapped::Device { device_id },
        ) => {
            record_tap(&uid, TapOutcome::Accepted, at, fx);
            if state.roster.custody(device_id).is_some() {
                give_back(state, device_id, at, fx)
            } else {
                fx.push(Effect::Signal(Signal::Accept));
                Mode::AwaitingBadge {
                    device_id,
                    since: at,
                }
            }
        }
        // Staff first, then the device.
        (mode @ Mode::AwaitingDevice { .. }, Tapped::Staff { .. }) => ignore(mode, &uid, at, fx),
        (Mode::AwaitingDevice { person_id, .. }, Tapped::Device { device_id }) => {
            match state.roster.custody(device_id) {
                None => {
                    record_tap(&uid, TapOutcome::Accepted, at, fx);
                    sign_out(state, device_id, person_id, at, fx)
                }
                Some(c) if c.person_id == person_id => {
                    record_tap(&uid, TapOutcome::Accepted, at, fx);
                    give_back(state, device_id, at, fx)
                }
                Some(c) => {
                    let refusal = Refusal::AlreadyOut {
                        device: state.roster.device_label(device_id),
                        holder: state.roster.person_name(c.person_id),
                        since: state.settings.time_zone.to_datetime(c.since),
                    };
                    refuse(state, &uid, TapOutcome::AlreadyOut, refusal, at, fx)
                }
            }
        }
        // Device first, then the staff badge.
        (Mode::AwaitingBadge { device_id, .. }, Tapped::Staff { person_id, .. }) => {
            match state.roster.custody(device_id) {
                None => {
                    record_tap(&uid, TapOutcome::Accepted, at, fx);
                    sign_out(state, device_id, person_id, at, fx)
                }
                // Someone else signed it out meanwhile (a roster sync).
                Some(c) => {
                    let refusal = Refusal::AlreadyOut {
                        device: state.roster.device_label(device_id),
                        holder: state.roster.person_name(c.person_id),
                        since: state.settings.time_zone.to_datetime(c.since),
                    };
                    refuse(state, &uid, TapOutcome::AlreadyOut, refusal, at, fx)
                }
            }
        }
        (mode @ Mode::AwaitingBadge { .. }, Tapped::Device { .. }) => ignore(mode, &uid, at, fx),
        (mode, Tapped::Unknown | Tapped::Learner) => {
            // Handled above as refusals; kept so the match names every pair.
            ignore(mode, &uid, at, fx)
        }
    }
}

fn on_button(
    state: &mut State,
    mode: Mode,
    button: Button,
    at: Timestamp,
    fx: &mut Vec<Effect>,
) -> Mode {
    match (mode, button) {
        (Mode::Idle, _) => Mode::Idle,
        (
            Mode::AwaitingDevice { .. }
            | Mode::AwaitingBadge { .. }
            | Mode::Message { .. }
            | Mode::Briefing { .. }
            | Mode::AwaitingCard { .. },
            Button::Cancel,
        ) => Mode::Idle,
        (Mode::Briefing { pages, page, .. }, Button::Ok) => turn_page(state, pages, page, at, fx),
        (Mode::AwaitingDevice { person_id, since }, Button::Ok) => {
            let held = state.roster.held_by(person_id);
            if let [device_id] = held[..] {
                give_back(state, device_id, at, fx)
            } else {
                Mode::AwaitingDevice { person_id, since }
            }
        }
        (Mode::Message { .. }, Button::Ok) => Mode::Idle,
        (mode @ (Mode::AwaitingBadge { .. } | Mode::AwaitingCard { .. }), Button::Ok) => mode,
        (mode @ Mode::Importing { .. }, _) => {
            tracing::info!("buttons do nothing during an import");
            mode
        }
    }
}

fn on_tick(state: &State, mode: Mode, at: Timestamp, fx: &mut Vec<Effect>) -> Mode {
    let s = &state.settings;
    match mode {
        Mode::Idle => Mode::Idle,
        Mode::AwaitingDevice { since, .. } | Mode::AwaitingBadge { since, .. }
            if at >= later(since, s.tap_timeout) =>
        {
            tracing::info!("half-finished sign-out timed out");
            message(
                state,
                Screen::Refused(Refusal::TimedOut),
                at,
                Signal::Refuse,
                fx,
            )
        }
        mode @ (Mode::AwaitingDevice { .. } | Mode::AwaitingBadge { .. }) => mode,
        Mode::Message { until, .. } if at >= until => {
            fx.push(Effect::Signal(Signal::Quiet));
            Mode::Idle
        }
        mode @ Mode::Message { .. } => mode,
        Mode::Briefing { pages, page, until } if at >= until => {
            turn_page(state, pages, page, at, fx)
        }
        mode @ Mode::Briefing { .. } => mode,
        Mode::AwaitingCard { since, .. } if at >= later(since, s.card_wait) => {
            tracing::info!("no card after a return; back to idle");
            fx.push(Effect::Signal(Signal::Quiet));
            Mode::Idle
        }
        Mode::Importing {
            device_id,
            done,
            total,
            news_at,
            ..
        } if at >= later(news_at, s.import_silence) => {
            tracing::error!("no news from the import; it is taken as stopped");
            import_stopped(state, device_id, done, total, at, fx)
        }
        mode @ (Mode::AwaitingCard { .. } | Mode::Importing { .. }) => mode,
    }
}
