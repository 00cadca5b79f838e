//! The returned device's storage: a read-only walk of the mounted card.
//!
//! Owns the listing and the judgement of names. Never follows a symbolic link, never
//! writes (except [`crate::import::wipe_card`], which is separate and opt-in), and never
//! trusts a name: names are ids for the operator, escaped for display.

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// Deepest folder nesting the walk enters (a camera uses two or three levels).
pub const MAX_DEPTH: usize = 16;
/// Most entries the walk lists; a card with more is reported, not walked forever.
pub const MAX_ENTRIES: usize = 200_000;

/// A file's place on the card, relative to the mount point, with anything unprintable
/// escaped so it is safe to show and log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CardPath(String);

impl CardPath {
    fn from_relative(rel: &Path) -> Self {
        let mut out = String::new();
        for (i, part) in rel.components().enumerate() {
            if i > 0 {
                out.push('/');
            }
            escape_into(part.as_os_str(), &mut out);
        }
        Self(out)
    }

    /// A card path another machine sent (a site's card imported over the network): each
    /// `/`-separated part escaped as a walked card's would be; empty, `.` and `..` parts
    /// dropped.
    #[must_use]
    pub fn received(text: &str) -> Self {
        let mut out = String::new();
        for part in text
            .split('/')
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        {
            if !out.is_empty() {
                out.push('/');
            }
            escape_into(OsStr::new(part), &mut out);
        }
        Self(out)
    }

    /// The escaped text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The extension of the last component, if it has a printable one.
    #[must_use]
    pub fn extension(&self) -> Option<&str> {
        let name = self.0.rsplit('/').next()?;
        let (stem, ext) = name.rsplit_once('.')?;
        (!stem.is_empty() && !ext.is_empty() && ext.len() <= 8).then_some(ext)
    }
}

impl fmt::Display for CardPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn escape_into(name: &OsStr, out: &mut String) {
    for chunk in name.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
}

fn name_is_suspicious(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    std::str::from_utf8(bytes).is_err()
        || bytes.windows(2).any(|w| w == b"..")
        || bytes.iter().any(|&b| b < 0x20 || b == 0x7F)
        || name.to_string_lossy().chars().any(char::is_control)
}

/// What the walk found at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file, with the identity it had when listed.
    File { size: u64, dev: u64, ino: u64 },
    /// Something the import will not read, with the reason.
    Refused(Problem),
}

/// The bytes of the files a card listing holds (refused entries count nothing).
#[must_use]
pub fn total_bytes(entries: &[CardEntry]) -> u64 {
    entries
        .iter()
        .map(|e| match e.kind {
            EntryKind::File { size, .. } => size,
            EntryKind::Refused(_) => 0,
        })
        .sum()
}

/// One entry on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardEntry {
    /// Full path under the mount point.
    pub path: PathBuf,
    /// Escaped path relative to the mount point.
    pub card_path: CardPath,
    /// File or refusal.
    pub kind: EntryKind,
    /// Problems with the name itself.
    pub name_problems: Vec<Problem>,
}

/// The walk could not start.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The mount point is missing or not a folder.
    #[error("the card folder could not be opened; is the card mounted? ({0})")]
    NotMounted(#[source] std::io::Error),
    /// No `DCIM` folder at the top: a USB stick, a backup drive, not a camera's card.
    #[error(
        "this is not a camera card: it has no DCIM folder at the top (every camera keeps its \
         photos in one); nothing was imported"
    )]
    NotACameraCard,
    /// More entries than [`MAX_ENTRIES`].
    #[error("the card holds more than {MAX_ENTRIES} entries; refusing to walk it")]
    TooManyEntries,
}

/// Is `path` a mounted file system (its device differs from its parent's)? The kiosk
/// polls this on the configured mount path to know that a returned card has appeared.
#[must_use]
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(here) = fs::metadata(path) else {
        return false;
    };
    let parent = path.parent().unwrap_or(path);
    fs::metadata(parent).is_ok_and(|p| p.dev() != here.dev() || p.ino() == here.ino())
}

/// Checks that `root` is a camera's card: cameras (and phones writing to a card) keep their
/// photos under a `DCIM` folder at the top (the DCF standard), any case. A USB stick of
/// documents put in the card reader is refused before anything is read from it.
///
/// # Errors
/// The root cannot be read, or has no `DCIM` folder.
pub fn check_camera_card(root: &Path) -> Result<(), CardError> {
    let reader = fs::read_dir(root).map_err(CardError::NotMounted)?;
    for entry in reader.filter_map(Result::ok) {
        if entry.file_name().eq_ignore_ascii_case("DCIM")
            && fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir())
        {
            return Ok(());
        }
    }
    Err(CardError::NotACameraCard)
}

/// List every entry under `root`, depth first, in name order, without following links.
///
/// # Errors
/// The root cannot be read, or the card has more than [`MAX_ENTRIES`] entries. A
/// sub-folder that cannot be read becomes a refused entry, not an error.
pub fn scan(root: &Path) -> Result<Vec<CardEntry>, CardError> {
    let meta = fs::metadata(root).map_err(CardError::NotMounted)?;
    if !meta.is_dir() {
        return Err(CardError::NotMounted(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    let mut out = Vec::new();
    walk(root, root, 0, &mut out)?;
    Ok(out)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<CardEntry>) -> Result<(), CardError> {
    let rel = |p: &Path| CardPath::from_relative(p.strip_prefix(root).unwrap_or(p));
    let reader = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if dir == root => return Err(CardError::NotMounted(e)),
        Err(e) => {
            out.push(CardEntry {
                path: dir.to_path_buf(),
                card_path: rel(dir),
                kind: EntryKind::Refused(Problem::Unreadable {
                    detail: e.kind().to_string(),
                }),
                name_problems: Vec::new(),
            });
            return Ok(());
        }
    };
    let mut names: Vec<_> = reader.filter_map(Result::ok).map(|e| e.path()).collect();
    names.sort();
    for path in names {
        if out.len() >= MAX_ENTRIES {
            return Err(CardError::TooManyEntries);
        }
        let name_problems = match path.file_name() {
            Some(n) if name_is_suspicious(n) => vec![Problem::SuspiciousName],
            _ => Vec::new(),
        };
        let card_path = rel(&path);
        let kind = match fs::symlink_metadata(&path) {
            Err(e) => EntryKind::Refused(Problem::Unreadable {
                detail: e.kind().to_string(),
            }),
            Ok(m) if m.file_type().is_symlink() => EntryKind::Refused(Problem::SymlinkNotFollowed),
            Ok(m) if m.is_dir() => {
                if depth + 1 >= MAX_DEPTH {
                    EntryKind::Refused(Problem::Unreadable {
                        detail: "folders nested too deep".into(),
                    })
                } else {
                    walk(root, &path, depth + 1, out)?;
                    continue;
                }
            }
            Ok(m) if m.is_file() => EntryKind::File {
                size: m.len(),
                dev: m.dev(),
                ino: m.ino(),
            },
            Ok(_) => EntryKind::Refused(Problem::NotARegularFile),
        };
        out.push(CardEntry {
            path,
            card_path,
            kind,
            name_problems,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_folder_with_dcim_at_the_top_is_a_camera_card() {
        let card = tempfile::tempdir().unwrap();
        fs::write(card.path().join("register.csv"), "ref\n").unwrap();
        fs::write(card.path().join("policy.pdf"), "%PDF-1.4").unwrap();
        assert!(matches!(
            check_camera_card(card.path()),
            Err(CardError::NotACameraCard)
        ));
        // A file named DCIM is not the folder.
        fs::write(card.path().join("DCIM"), "").unwrap();
        assert!(matches!(
            check_camera_card(card.path()),
            Err(CardError::NotACameraCard)
        ));
        fs::remove_file(card.path().join("DCIM")).unwrap();
        fs::create_dir(card.path().join("dcim")).unwrap();
        assert!(check_camera_card(card.path()).is_ok(), "any case");
        assert!(matches!(
            check_camera_card(&card.path().join("missing")),
            Err(CardError::NotMounted(_))
        ));
    }

    #[test]
    fn escapes_control_characters_and_flags_odd_names() {
        let name = OsStr::from_bytes(b"a\nb\x1b..jpg");
        assert!(name_is_suspicious(name));
        let p = CardPath::from_relative(Path::new(name));
        assert_eq!(p.as_str(), "a\\nb\\u{1b}..jpg");
        assert!(!name_is_suspicious(OsStr::new("IMG_0001.JPG")));
        assert!(name_is_suspicious(OsStr::from_bytes(b"bad\xff.jpg")));
    }

    #[test]
    fn a_plain_folder_is_not_a_mount_point_but_the_root_is() {
        let tmp = std::env::temp_dir().join(format!("cc-mount-{}", std::process::id()));
        fs::create_dir_all(&tmp).expect("mkdir");
        assert!(!is_mount_point(&tmp));
        assert!(is_mount_point(Path::new("/")));
        assert!(!is_mount_point(&tmp.join("missing")));
        let _ = fs::remove_dir(&tmp);
    }

    #[test]
    fn extension_is_the_last_dotted_part() {
        let p = CardPath::from_relative(Path::new("DCIM/100CANON/IMG_1.JPG"));
        assert_eq!(p.extension(), Some("JPG"));
        assert_eq!(
            CardPath::from_relative(Path::new(".hidden")).extension(),
            None
        );
    }
}
