//! The import progress file the kiosk follows (K3): each [`ImportEvent`] of a card import
//! as a [`CardProgress`] line.
//!
//! A new import replaces the file (a fresh file renamed into place), so a reader that
//! notices a new inode knows a new import began. The file is world-readable: it holds
//! only counts, never file names or people.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use consentcam_media::{ImportEvent, MediaKind, Outcome};
use consentcam_wire::{CardProgress, KindCounts};

fn count(kinds: &mut KindCounts, kind: MediaKind) {
    let n = match kind {
        MediaKind::Jpeg => &mut kinds.jpeg,
        MediaKind::Heif => &mut kinds.heic,
        MediaKind::Png => &mut kinds.png,
        MediaKind::Video => &mut kinds.video,
        MediaKind::Raw | MediaKind::Gif | MediaKind::Webp | MediaKind::Empty | MediaKind::Other => {
            &mut kinds.other
        }
    };
    *n = n.saturating_add(1);
}

/// Turns import events into progress lines, counting unreadable files on the way.
#[derive(Debug, Default)]
pub struct ProgressLines {
    files: u32,
    done: u32,
    failed: u32,
    kinds: KindCounts,
}

fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl ProgressLines {
    /// The line for `event`, if it is one the kiosk shows.
    pub fn line(&mut self, event: &ImportEvent) -> Option<CardProgress> {
        match event {
            ImportEvent::Scanned { files, .. } => {
                *self = Self {
                    files: small(*files),
                    ..Self::default()
                };
                Some(CardProgress::Started { files: self.files })
            }
            ImportEvent::Copying { .. } => None,
            ImportEvent::FileDone {
                index,
                files,
                outcome,
                kind,
                ..
            } => {
                if let Some(kind) = kind {
                    count(&mut self.kinds, *kind);
                }
                self.done = small(*index);
                self.files = small(*files);
                self.failed += u32::from(*outcome == Outcome::Refused);
                Some(CardProgress::Progress {
                    done: self.done,
                    files: self.files,
                    failed: self.failed,
                })
            }
            ImportEvent::Finished {
                stored,
                duplicates,
                refused,
            } => Some(CardProgress::Finished {
                imported: small(stored + duplicates),
                failed: small(*refused),
                kinds: self.kinds,
            }),
            ImportEvent::Failed { message } => Some(CardProgress::Stopped {
                done: self.done,
                reason: message.clone(),
            }),
        }
    }
}

/// The progress file of one import.
pub struct ProgressFile {
    file: File,
    lines: ProgressLines,
}

impl ProgressFile {
    /// Starts a new, empty progress file at `path` (replacing the last import's).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let fresh = path.with_extension("new");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&fresh)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        std::fs::rename(&fresh, path)?;
        Ok(Self {
            file,
            lines: ProgressLines::default(),
        })
    }

    /// Appends the line for `event` (if any), whole, in one write.
    pub fn record(&mut self, event: &ImportEvent) -> std::io::Result<()> {
        let Some(line) = self.lines.line(event) else {
            return Ok(());
        };
        let mut text = serde_json::to_string(&line).map_err(std::io::Error::other)?;
        text.push('\n');
        self.file.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentcam_media::CardPath;

    fn done(index: u64, outcome: Outcome, kind: Option<MediaKind>) -> ImportEvent {
        ImportEvent::FileDone {
            index,
            files: 3,
            bytes_done: index * 10,
            bytes_total: 30,
            card_path: serde_json::from_str::<CardPath>("\"DCIM/IMG_0001.JPG\"").unwrap(),
            outcome,
            kind,
        }
    }

    #[test]
    fn events_become_counts_without_file_names() {
        let mut lines = ProgressLines::default();
        let events = [
            ImportEvent::Scanned {
                files: 3,
                bytes: 30,
            },
            ImportEvent::Copying {
                index: 1,
                bytes_done: 5,
                bytes_total: 30,
            },
            done(1, Outcome::Stored, Some(MediaKind::Heif)),
            done(2, Outcome::Refused, None),
            done(3, Outcome::Duplicate, Some(MediaKind::Jpeg)),
            ImportEvent::Finished {
                stored: 1,
                duplicates: 1,
                refused: 1,
            },
        ];
        let got: Vec<CardProgress> = events.iter().filter_map(|e| lines.line(e)).collect();
        assert_eq!(
            got,
            vec![
                CardProgress::Started { files: 3 },
                CardProgress::Progress {
                    done: 1,
                    files: 3,
                    failed: 0
                },
                CardProgress::Progress {
                    done: 2,
                    files: 3,
                    failed: 1
                },
                CardProgress::Progress {
                    done: 3,
                    files: 3,
                    failed: 1
                },
                CardProgress::Finished {
                    imported: 2,
                    failed: 1,
                    kinds: KindCounts {
                        jpeg: 1,
                        heic: 1,
                        ..KindCounts::default()
                    }
                },
            ]
        );
        let stopped = lines.line(&ImportEvent::Failed {
            message: "disk full".into(),
        });
        assert_eq!(
            stopped,
            Some(CardProgress::Stopped {
                done: 3,
                reason: "disk full".into()
            })
        );
    }

    #[test]
    fn a_new_import_replaces_the_file_and_it_is_readable_by_the_kiosk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.jsonl");
        let mut first = ProgressFile::create(&path).unwrap();
        first
            .record(&ImportEvent::Scanned {
                files: 3,
                bytes: 30,
            })
            .unwrap();
        use std::os::unix::fs::MetadataExt;
        let first_inode = std::fs::metadata(&path).unwrap().ino();
        let mut second = ProgressFile::create(&path).unwrap();
        second
            .record(&ImportEvent::Scanned {
                files: 9,
                bytes: 90,
            })
            .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_ne!(meta.ino(), first_inode);
        assert_eq!(meta.mode() & 0o777, 0o644);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"event\":\"started\",\"files\":9}\n");
    }
}
