//! A whole kiosk on simulated hardware, running on its own thread: for `--sim` and for
//! the server's `demo` web page.
//!
//! ```no_run
//! use consentcam_kiosk::sim::{SimKiosk, SimKioskConfig, ServerLink};
//! use consentcam_kiosk::demo;
//!
//! let mut config = SimKioskConfig::new(std::env::temp_dir().join("kiosk-demo"));
//! config.server = Some(ServerLink {
//!     url: "http://127.0.0.1:8080".into(),
//!     token: "the kiosk's bearer token".into(),
//! });
//! let kiosk = SimKiosk::start(config)?;
//! kiosk.tap_hex(demo::STAFF)?;        // a staff badge on the reader
//! kiosk.tap_hex(demo::CAMERA_1)?;     // then the camera's tag
//! let png: Vec<u8> = kiosk.screen_png(); // what the OLED shows now
//! kiosk.shutdown();
//! # Ok::<(), consentcam_kiosk::sim::SimError>(())
//! ```
//!
//! Every call returns once the kiosk has acted on it, so the next `screen_png` shows the
//! result. Between calls the kiosk ticks on its own (timeouts, overdue, server sync).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use consentcam_hardware::{
    Button, Frame, SimButtons, SimDisplay, SimDisplayView, SimIndicators, SimLock, SimReader,
    SimReaderFeed, Uid,
};
use consentcam_tagkey::KioskKey;
use consentcam_wire::{KindCounts, Roster, TagUid};
use jiff::Timestamp;

use crate::client::HttpApi;
use crate::journal::{Journal, JournalError};
use crate::kiosk::{Hardware, Kiosk};
use crate::link::{LinkHandle, load_roster};
use crate::machine::{Event, Mode, Settings, State};
use crate::roster::LocalRoster;
use crate::screen::Screen;
use crate::{clock, demo};

/// Where the simulated kiosk's server is.
#[derive(Debug, Clone)]
pub struct ServerLink {
    pub url: String,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct SimKioskConfig {
    /// Journal, cached roster and instance id.
    pub data_dir: PathBuf,
    pub reader_name: String,
    /// `None`: no server; the kiosk runs on `roster` alone and journals only.
    pub server: Option<ServerLink>,
    /// The roster to start from when none is cached in `data_dir` (default: the demo
    /// roster from [`crate::demo`] when there is no server, empty otherwise).
    pub roster: Option<Roster>,
    pub settings: Settings,
    /// How often the kiosk ticks and, with a server, how often it syncs.
    pub tick: Duration,
    pub sync_every: Duration,
    /// PNG pixel scale for [`SimKioskHandle::screen_png`].
    pub png_scale: u32,
    /// Follow real card imports through this progress file, as the Pi does (see
    /// [`crate::card`]), besides the simulated cards of [`SimKioskHandle::insert_card`].
    pub card_progress: Option<PathBuf>,
}

impl SimKioskConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            reader_name: "sim-1".into(),
            server: None,
            roster: None,
            settings: Settings::default(),
            tick: Duration::from_millis(200),
            sync_every: Duration::from_secs(5),
            png_scale: 3,
            card_progress: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("not a badge UID: {0}")]
    BadUid(String),
    #[error("the simulated kiosk has stopped")]
    Stopped,
    #[error("cannot read the card directory {path}: {source}")]
    Card {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the kiosk thread: {0}")]
    Thread(std::io::Error),
}

enum Command {
    /// Poll the hardware now (after a tap or button was queued).
    Poll(Sender<()>),
    InsertCard(Vec<PathBuf>, Sender<()>),
    RemoveCard(Sender<()>),
    Screen(Sender<Option<Screen>>),
    Pending(Sender<usize>),
}

/// Starts simulated kiosks.
pub struct SimKiosk;

impl SimKiosk {
    /// Opens the journal, loads the cached roster (or the configured one) and starts the
    /// kiosk thread.
    pub fn start(config: SimKioskConfig) -> Result<SimKioskHandle, SimError> {
        // The roster's key: with a server, from the kiosk's token, as on the Pi; without
        // one, the demo roster's.
        let key = config
            .server
            .as_ref()
            .map_or_else(demo::key, |s| KioskKey::from_token(&s.token));
        let journal = Arc::new(Mutex::new(Journal::open(
            &config.data_dir,
            &config.reader_name,
        )?));
        let cache = config.data_dir.join("roster.json");
        let now = clock::now();
        let roster = load_roster(&cache)
            .or_else(|| config.roster.clone())
            .or_else(|| config.server.is_none().then(|| demo::roster(now)));
        let roster = roster
            .map(|r| LocalRoster::from_roster(&r, &key))
            .unwrap_or_else(|| LocalRoster::empty(&key));

        let (reader, feed) = SimReader::new();
        let display = SimDisplay::new();
        let view = display.view();
        let buttons = SimButtons::new();
        let indicators = SimIndicators::new();
        let lock = SimLock::new();
        let hw = Hardware {
            reader,
            display,
            indicators: indicators.clone(),
            buttons: buttons.clone(),
            lock: lock.clone(),
        };
        let (tx, rx) = mpsc::channel();
        let settings = config.settings.clone();
        let tick = config.tick;
        let server = config.server.clone();
        let sync_every = config.sync_every;
        let follower = config
            .card_progress
            .clone()
            .map(crate::card::ProgressFollower::new);
        let thread = std::thread::Builder::new()
            .name("sim-kiosk".into())
            .spawn(move || {
                // The link starts on this thread so that it stops when the kiosk does.
                let link = server.map(|s| {
                    LinkHandle::spawn(
                        journal.clone(),
                        Box::new(HttpApi::new(&s.url, &s.token, Duration::from_secs(3))),
                        Some(cache),
                        sync_every,
                    )
                });
                let mut kiosk = Kiosk::new(hw, State::new(roster, settings), journal, link);
                if let Some(follower) = follower {
                    kiosk = kiosk.with_card_progress(follower);
                }
                run(kiosk, &rx, tick);
            })
            .map_err(SimError::Thread)?;
        let handle = SimKioskHandle {
            commands: tx,
            thread: Some(thread),
            view,
            feed,
            buttons,
            indicators,
            lock,
            png_scale: config.png_scale,
        };
        // Draw the first screen before anyone looks.
        handle.poll()?;
        Ok(handle)
    }
}

/// Controls a running simulated kiosk. Dropping it stops the kiosk.
pub struct SimKioskHandle {
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
    view: SimDisplayView,
    feed: SimReaderFeed,
    buttons: SimButtons,
    indicators: SimIndicators,
    lock: SimLock,
    png_scale: u32,
}

impl SimKioskHandle {
    fn ask<T>(&self, command: impl FnOnce(Sender<T>) -> Command) -> Result<T, SimError> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(command(tx))
            .map_err(|_| SimError::Stopped)?;
        rx.recv().map_err(|_| SimError::Stopped)
    }

    fn poll(&self) -> Result<(), SimError> {
        self.ask(Command::Poll)
    }

    /// A badge or tag with this UID is held to the reader.
    pub fn tap(&self, uid: &TagUid) -> Result<(), SimError> {
        let bytes: Vec<u8> = (0..uid.as_str().len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&uid.as_str()[i..i + 2], 16).ok())
            .collect();
        let uid = Uid::new(&bytes).map_err(|e| SimError::BadUid(e.to_string()))?;
        self.feed.tap(uid);
        self.poll()
    }

    /// Like [`Self::tap`], from hex text ("04A1B2C3", "04:a1:b2:c3").
    pub fn tap_hex(&self, text: &str) -> Result<(), SimError> {
        let uid = TagUid::parse(text).map_err(|e| SimError::BadUid(e.to_string()))?;
        self.tap(&uid)
    }

    /// Pulls the reader's cable out (`true`) or plugs it back in (`false`).
    pub fn set_reader_unplugged(&self, unplugged: bool) -> Result<(), SimError> {
        self.feed.set_unplugged(unplugged);
        self.poll()
    }

    pub fn press(&self, button: Button) -> Result<(), SimError> {
        self.buttons.press(button);
        self.poll()
    }

    /// A card appears holding the files under `dir` (recursively). The kiosk imports
    /// them one per tick if a device was just returned; otherwise it asks for the
    /// return first.
    pub fn insert_card(&self, dir: &Path) -> Result<(), SimError> {
        let mut files = Vec::new();
        collect_files(dir, &mut files).map_err(|source| SimError::Card {
            path: dir.to_owned(),
            source,
        })?;
        files.sort();
        self.ask(|tx| Command::InsertCard(files, tx))
    }

    /// The card is pulled out (an import in progress finishes with what it had).
    pub fn remove_card(&self) -> Result<(), SimError> {
        self.ask(Command::RemoveCard)
    }

    /// The OLED's current picture as PNG.
    pub fn screen_png(&self) -> Vec<u8> {
        self.view.frame().to_png(self.png_scale)
    }

    pub fn frame(&self) -> Frame {
        self.view.frame()
    }

    /// What the current screen says, as data.
    pub fn screen(&self) -> Result<Option<Screen>, SimError> {
        self.ask(Command::Screen)
    }

    /// Events waiting for the server.
    pub fn pending(&self) -> Result<usize, SimError> {
        self.ask(Command::Pending)
    }

    /// Every LED/buzzer signal so far.
    pub fn signals(&self) -> Vec<consentcam_hardware::Signal> {
        self.indicators.log()
    }

    /// How often the cabinet was opened.
    pub fn lock_releases(&self) -> u32 {
        self.lock.releases()
    }

    /// Stops the kiosk thread (and its server link) and waits for it.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // Closing the channel ends the loop.
        let (tx, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.commands, tx));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SimKioskHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

type SimHw = Kiosk<SimReader, SimDisplay, SimIndicators, SimButtons, SimLock>;

/// An import in progress: one file per tick.
struct CardImport {
    files: Vec<PathBuf>,
    next: usize,
    failed: u32,
    kinds: KindCounts,
}

/// The simulated import judges a file's kind by its extension (the real one sniffs it).
fn count_kind(kinds: &mut KindCounts, path: &Path) {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let n = match ext.as_str() {
        "jpg" | "jpeg" => &mut kinds.jpeg,
        "heic" | "heif" => &mut kinds.heic,
        "png" => &mut kinds.png,
        "mp4" | "mov" => &mut kinds.video,
        _ => &mut kinds.other,
    };
    *n += 1;
}

fn run(mut kiosk: SimHw, commands: &Receiver<Command>, tick: Duration) {
    let mut card: Option<CardImport> = None;
    loop {
        let now: Timestamp = clock::now();
        match commands.recv_timeout(tick) {
            Ok(Command::Poll(done)) => {
                kiosk.poll(now);
                let _ = done.send(());
            }
            Ok(Command::InsertCard(files, done)) => {
                let count = u32::try_from(files.len()).unwrap_or(u32::MAX);
                kiosk.handle(Event::CardInserted {
                    files: count,
                    at: now,
                });
                if matches!(kiosk.state().mode, Mode::Importing { .. }) {
                    card = Some(CardImport {
                        files,
                        next: 0,
                        failed: 0,
                        kinds: KindCounts::default(),
                    });
                }
                let _ = done.send(());
            }
            Ok(Command::RemoveCard(done)) => {
                if let Some(import) = card.take() {
                    finish(&mut kiosk, &import, now);
                }
                let _ = done.send(());
            }
            Ok(Command::Screen(reply)) => {
                let _ = reply.send(kiosk.shown().cloned());
            }
            Ok(Command::Pending(reply)) => {
                let _ = reply.send(kiosk.pending());
            }
            Err(RecvTimeoutError::Timeout) => {
                kiosk.poll(now);
                if let Some(import) = &mut card {
                    if let Some(path) = import.files.get(import.next) {
                        let readable = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
                        import.failed += u32::from(!readable);
                        if readable {
                            count_kind(&mut import.kinds, path);
                        }
                        import.next += 1;
                        kiosk.handle(Event::ImportProgress {
                            done: u32::try_from(import.next).unwrap_or(u32::MAX),
                            failed: import.failed,
                            at: now,
                        });
                    } else {
                        finish(&mut kiosk, import, now);
                        card = None;
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn finish(kiosk: &mut SimHw, import: &CardImport, now: Timestamp) {
    let done = u32::try_from(import.next).unwrap_or(u32::MAX);
    kiosk.handle(Event::ImportFinished {
        imported: done - import.failed.min(done),
        failed: import.failed,
        kinds: import.kinds,
        at: now,
    });
}
