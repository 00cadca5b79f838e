//! Following the import of a returned device's card (K3).
//!
//! On the Pi the import runs as its own service, started when the card appears
//! (`consentcam import-card --progress FILE`, see server/deploy); it writes one
//! [`CardProgress`] line per step to FILE. The kiosk follows that file: [`ProgressFollower`]
//! reads the lines added since its last look, and [`event`] turns each into an [`Event`] of
//! the rules. A new import replaces the file, which the follower notices by its inode.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use consentcam_wire::CardProgress;
use jiff::Timestamp;

use crate::machine::Event;

/// The rules' event for one progress line.
pub fn event(progress: CardProgress, at: Timestamp) -> Event {
    match progress {
        CardProgress::Started { files } => Event::CardInserted { files, at },
        CardProgress::Progress { done, failed, .. } => Event::ImportProgress { done, failed, at },
        CardProgress::Finished {
            imported,
            failed,
            kinds,
        } => Event::ImportFinished {
            imported,
            failed,
            kinds,
            at,
        },
        CardProgress::Stopped { done, .. } => Event::ImportStopped { done, at },
    }
}

/// Reads the lines an import adds to its progress file.
#[derive(Debug)]
pub struct ProgressFollower {
    path: PathBuf,
    /// The file being followed and how far it has been read.
    position: Option<(u64, u64)>,
    /// A line written only in part so far.
    partial: Vec<u8>,
}

/// The longest line the follower keeps; anything longer is not a progress line.
const MAX_LINE: usize = 4096;

impl ProgressFollower {
    /// Follows `path` from its current end: an import that finished before the kiosk
    /// started is not shown again.
    pub fn new(path: PathBuf) -> Self {
        let position = std::fs::metadata(&path).ok().map(|m| (m.ino(), m.len()));
        Self {
            path,
            position,
            partial: Vec::new(),
        }
    }

    /// The whole lines added since the last call, parsed; lines that are not progress
    /// lines are logged and skipped. A missing file is no news.
    pub fn poll(&mut self) -> Vec<CardProgress> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let Ok(meta) = file.metadata() else {
            return Vec::new();
        };
        let offset = match self.position {
            Some((inode, offset)) if inode == meta.ino() && offset <= meta.len() => offset,
            _ => {
                // A new import (or a first one): from its first line.
                self.partial.clear();
                0
            }
        };
        let mut added = Vec::new();
        if file.seek(SeekFrom::Start(offset)).is_err()
            || file
                .by_ref()
                .take(64 * 1024)
                .read_to_end(&mut added)
                .is_err()
        {
            return Vec::new();
        }
        self.position = Some((meta.ino(), offset + added.len() as u64));
        self.partial.extend_from_slice(&added);
        let Some(last_newline) = self.partial.iter().rposition(|b| *b == b'\n') else {
            if self.partial.len() > MAX_LINE {
                tracing::warn!("progress file line too long; skipped");
                self.partial.clear();
            }
            return Vec::new();
        };
        let rest = self.partial.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut self.partial, rest);
        complete
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .filter_map(|line| match serde_json::from_slice(line) {
                Ok(progress) => Some(progress),
                Err(e) => {
                    tracing::warn!(error = %e, "not a progress line; skipped");
                    None
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use consentcam_wire::KindCounts;

    fn append(path: &std::path::Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn replace(path: &std::path::Path, text: &str) {
        let fresh = path.with_extension("new");
        std::fs::write(&fresh, text).unwrap();
        std::fs::rename(&fresh, path).unwrap();
    }

    #[test]
    fn an_import_that_ended_before_the_kiosk_started_is_not_shown_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.jsonl");
        replace(
            &path,
            "{\"event\":\"started\",\"files\":2}\n{\"event\":\"finished\",\"imported\":2,\"failed\":0}\n",
        );
        let mut follower = ProgressFollower::new(path.clone());
        assert_eq!(follower.poll(), vec![]);
        // The next import, in a new file, is followed from its first line.
        replace(&path, "{\"event\":\"started\",\"files\":5}\n");
        assert_eq!(follower.poll(), vec![CardProgress::Started { files: 5 }]);
    }

    #[test]
    fn lines_are_read_once_and_only_when_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.jsonl");
        let mut follower = ProgressFollower::new(path.clone());
        assert_eq!(follower.poll(), vec![], "no file yet");
        replace(
            &path,
            "{\"event\":\"started\",\"files\":3}\n{\"event\":\"prog",
        );
        assert_eq!(follower.poll(), vec![CardProgress::Started { files: 3 }]);
        append(&path, "ress\",\"done\":1,\"files\":3,\"failed\":0}\n");
        assert_eq!(
            follower.poll(),
            vec![CardProgress::Progress {
                done: 1,
                files: 3,
                failed: 0
            }]
        );
        assert_eq!(follower.poll(), vec![]);
        append(
            &path,
            "garbage\n{\"event\":\"stopped\",\"done\":1,\"reason\":\"disk full\"}\n",
        );
        assert_eq!(
            follower.poll(),
            vec![CardProgress::Stopped {
                done: 1,
                reason: "disk full".into()
            }]
        );
    }

    #[test]
    fn each_line_becomes_the_rules_event() {
        let at: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        assert_eq!(
            event(CardProgress::Started { files: 4 }, at),
            Event::CardInserted { files: 4, at }
        );
        assert_eq!(
            event(
                CardProgress::Finished {
                    imported: 3,
                    failed: 1,
                    kinds: KindCounts {
                        jpeg: 2,
                        heic: 1,
                        ..KindCounts::default()
                    }
                },
                at
            ),
            Event::ImportFinished {
                imported: 3,
                failed: 1,
                kinds: KindCounts {
                    jpeg: 2,
                    heic: 1,
                    ..KindCounts::default()
                },
                at
            }
        );
        assert_eq!(
            event(
                CardProgress::Stopped {
                    done: 2,
                    reason: "x".into()
                },
                at
            ),
            Event::ImportStopped { done: 2, at }
        );
    }
}
