//! Kiosk events on disk until the server has acknowledged them (K5, K6).
//!
//! Two files in the data directory:
//! - `events.jsonl`: one [`KioskEvent`] per line, appended and fsynced before the kiosk
//!   moves on, in the order they happened, each line `<MAC> <event JSON>` with the MAC
//!   made with the journal's own key (`journal.key`, random, made at the first start, see
//!   `consentcam-tagkey`), so a new kiosk token leaves queued events valid; emptied once
//!   the server has acknowledged everything, so the card holds only what is still to be
//!   sent;
//! - `acked`: the highest sequence number the server has acknowledged, replaced
//!   atomically (write, fsync, rename) after each receipt.
//!
//! Exactly once: events are replayed from the first unacknowledged one, in order; the
//! server records each `event_id` once and reports replays as duplicates, so a kiosk
//! killed between the server's answer and writing `acked` sends a few events twice and
//! the server still records them once. Event ids are `<instance>-<seq>`, where the
//! instance id is random and kept in `instance`, so a kiosk whose data directory was
//! wiped cannot reuse an id the server already holds.
//!
//! A line torn by a power cut (the last one, unterminated or unparsable) is cut off on
//! open: the event it held was never acknowledged to anyone, not even the person at the
//! kiosk, because the append had not returned.
//!
//! A complete line whose MAC does not hold was edited or added on the card: on open it
//! is moved to `events.refused` (kept as evidence, never replayed), and a
//! [`KioskEventKind::JournalRefused`] event tells the server how many there were.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use consentcam_tagkey::KioskKey;
use consentcam_wire::{EventReceipt, KioskEvent, KioskEventKind};
use jiff::Timestamp;

const EVENTS: &str = "events.jsonl";
const REFUSED: &str = "events.refused";
const ACKED: &str = "acked";
const INSTANCE: &str = "instance";
const KEY: &str = "journal.key";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path} line {line}: {reason}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The on-disk journal. Not shared between processes: one kiosk, one directory.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    file: File,
    key: KioskKey,
    reader: String,
    instance: String,
    next_seq: u64,
    acked: u64,
    pending: VecDeque<KioskEvent>,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` for the reader named `reader`, its lines
    /// signed with the key kept in `dir` (made on the first open).
    pub fn open(dir: &Path, reader: &str) -> Result<Self, JournalError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let instance = instance_id(dir)?;
        let key = &KioskKey::from_token(&random_file(dir, KEY, 32)?);
        let acked_path = dir.join(ACKED);
        let acked = match fs::read_to_string(&acked_path) {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|e| JournalError::Corrupt {
                    path: acked_path.clone(),
                    line: 1,
                    reason: e.to_string(),
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(&acked_path)(e)),
        };

        let events_path = dir.join(EVENTS);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&events_path)
            .map_err(io(&events_path))?;
        let read = read_events(&mut file, &events_path, key)?;
        if read.good_len < read.total_len {
            tracing::warn!(
                dropped_bytes = read.total_len - read.good_len,
                "journal ended in a torn line; cut it off"
            );
            file.set_len(read.good_len).map_err(io(&events_path))?;
            file.sync_all().map_err(io(&events_path))?;
        }
        if !read.refused.is_empty() {
            tracing::error!(
                lines = read.refused.len(),
                "journal lines whose MAC does not hold (edited on the card); set aside"
            );
            file = set_aside(dir, &read.refused, &read.events, key)?;
        }
        let last_seq = read.events.last().map_or(0, |e| e.seq);
        let pending: VecDeque<KioskEvent> =
            read.events.into_iter().filter(|e| e.seq > acked).collect();
        tracing::info!(pending = pending.len(), "journal opened");
        let mut journal = Self {
            dir: dir.to_owned(),
            file,
            key: key.clone(),
            reader: reader.to_owned(),
            instance,
            next_seq: last_seq.max(acked) + 1,
            acked,
            pending,
        };
        if !read.refused.is_empty() {
            let lines = u32::try_from(read.refused.len()).unwrap_or(u32::MAX);
            journal.append(
                KioskEventKind::JournalRefused { lines },
                crate::clock::now(),
            )?;
        }
        Ok(journal)
    }

    /// Writes one event durably and returns it with its id and sequence number.
    pub fn append(
        &mut self,
        kind: KioskEventKind,
        at: Timestamp,
    ) -> Result<KioskEvent, JournalError> {
        let seq = self.next_seq;
        let event = KioskEvent {
            event_id: format!("{}-{seq}", self.instance),
            seq,
            at,
            reader: self.reader.clone(),
            kind,
        };
        let path = self.dir.join(EVENTS);
        let line = signed_line(&event, &self.key).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        self.file.write_all(&line).map_err(io(&path))?;
        self.file.sync_data().map_err(io(&path))?;
        self.next_seq += 1;
        self.pending.push_back(event.clone());
        Ok(event)
    }

    /// Unacknowledged events, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &KioskEvent> {
        self.pending.iter()
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The first `max` unacknowledged events, to send as one batch.
    pub fn batch(&self, max: usize) -> Vec<KioskEvent> {
        self.pending.iter().take(max).cloned().collect()
    }

    /// Drops every leading pending event the receipt acknowledges (recorded or
    /// duplicate), persists the new high-water mark, and returns how many were dropped.
    /// Stops at the first event not acknowledged, so order is never broken.
    pub fn acknowledge(&mut self, receipt: &EventReceipt) -> Result<usize, JournalError> {
        let mut dropped = 0;
        while let Some(first) = self.pending.front() {
            let id = first.event_id.as_str();
            let acked = receipt.recorded.iter().any(|r| r == id)
                || receipt.duplicate.iter().any(|d| d == id)
                || receipt.refused.iter().any(|r| r.event_id == id);
            if !acked {
                break;
            }
            self.acked = first.seq;
            self.pending.pop_front();
            dropped += 1;
        }
        if dropped > 0 {
            self.write_acked()?;
            self.compact_if_done()?;
        }
        Ok(dropped)
    }

    fn write_acked(&self) -> Result<(), JournalError> {
        let path = self.dir.join(ACKED);
        let tmp = self.dir.join("acked.tmp");
        let mut file = File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(format!("{}\n", self.acked).as_bytes())
            .map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        // The rename itself must reach the disk too.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn compact_if_done(&mut self) -> Result<(), JournalError> {
        let path = self.dir.join(EVENTS);
        let len = self.file.metadata().map_err(io(&path))?.len();
        if self.pending.is_empty() && len > 0 {
            // `acked` already holds the last sequence number, so numbering continues.
            self.file.set_len(0).map_err(io(&path))?;
            self.file.sync_all().map_err(io(&path))?;
        }
        Ok(())
    }
}

/// `<MAC> <event JSON>\n`.
fn signed_line(event: &KioskEvent, key: &KioskKey) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(event)?;
    let mut line = key.journal_mac(&json).into_bytes();
    line.push(b' ');
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok(line)
}

/// The event of a complete line, if its MAC holds.
fn verified(line: &[u8], key: &KioskKey) -> Option<KioskEvent> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let space = line.iter().position(|b| *b == b' ')?;
    let (mac, json) = (
        std::str::from_utf8(&line[..space]).ok()?,
        &line[space + 1..],
    );
    if !key.journal_mac_ok(json, mac) {
        return None;
    }
    serde_json::from_slice(json).ok()
}

/// What [`read_events`] found.
struct Found {
    events: Vec<KioskEvent>,
    /// Complete lines whose MAC does not hold.
    refused: Vec<Vec<u8>>,
    /// The byte length of everything before a torn last line.
    good_len: u64,
    total_len: u64,
}

/// Reads every complete line: the events whose MAC holds, and the lines whose does not.
fn read_events(file: &mut File, path: &Path, key: &KioskKey) -> Result<Found, JournalError> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io(path))?;
    let total = bytes.len() as u64;
    let mut read = Found {
        events: Vec::new(),
        refused: Vec::new(),
        good_len: 0,
        total_len: total,
    };
    let mut reader = BufReader::new(&bytes[..]);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io(path))?;
        if n == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        let is_last = read.good_len + n as u64 == total;
        match verified(&line, key) {
            Some(event) if complete => read.events.push(event),
            // A torn last line: cut off by the caller.
            _ if is_last && !complete => break,
            Some(_) | None => read.refused.push(line.clone()),
        }
        read.good_len += n as u64;
    }
    Ok(read)
}

/// Moves refused lines to `events.refused` (appended, fsynced) and rewrites the journal
/// with the good ones only (write, fsync, rename); returns the journal reopened.
fn set_aside(
    dir: &Path,
    refused: &[Vec<u8>],
    good: &[KioskEvent],
    key: &KioskKey,
) -> Result<File, JournalError> {
    let aside = dir.join(REFUSED);
    let mut kept = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&aside)
        .map_err(io(&aside))?;
    for line in refused {
        kept.write_all(line).map_err(io(&aside))?;
    }
    kept.sync_all().map_err(io(&aside))?;
    let path = dir.join(EVENTS);
    let tmp = dir.join("events.tmp");
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    for event in good {
        let line = signed_line(event, key).map_err(|e| JournalError::Corrupt {
            path: tmp.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        file.write_all(&line).map_err(io(&tmp))?;
    }
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    OpenOptions::new()
        .read(true)
        .append(true)
        .open(&path)
        .map_err(io(&path))
}

fn instance_id(dir: &Path) -> Result<String, JournalError> {
    random_file(dir, INSTANCE, 8)
}

/// The content of `dir/name`, or `bytes` random bytes as hex written there durably (only
/// the kiosk's user may read it) if it is missing or empty.
fn random_file(dir: &Path, name: &str, bytes: usize) -> Result<String, JournalError> {
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    let mut random = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .map_err(io(Path::new("/dev/urandom")))?;
    let id: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&tmp).map_err(io(&tmp))?
    };
    file.write_all(id.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(id)
}
