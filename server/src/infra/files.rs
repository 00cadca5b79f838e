//! Files written whole or not at all: the one way the server writes a file that must
//! survive a crash (evidence scans, backups, exports, outbox copies).
//!
//! A temporary file in the same folder (`tempfile`, named with a leading dot so that
//! readers of the folder skip it), written and synced, then renamed into place
//! (`persist`) and the folder synced, so the new name is durable too. A crash leaves the
//! old file or the new one, never a part; a temporary file left by a crash starts with a
//! dot.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Syncs a folder, so that names created or removed in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `bytes` written and synced under a temporary name beside `path` (not yet visible
/// under its own name). Dropping it removes it.
pub fn stage(path: &Path, bytes: &[u8]) -> io::Result<NamedTempFile> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(folder_of(path))?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// Renames a staged file to `path` (replacing what is there) and syncs the folder.
pub fn place(staged: NamedTempFile, path: &Path) -> io::Result<()> {
    staged.persist(path).map_err(|e| e.error)?;
    sync_dir(folder_of(path))
}

/// Writes `bytes` to `path`, replacing any file there, whole or not at all.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    place(stage(path, bytes)?, path)
}

/// Writes `bytes` to `path`, which must not exist yet (never replaces a file), whole or
/// not at all.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    stage(path, bytes)?
        .persist_noclobber(path)
        .map_err(|e| e.error)?;
    sync_dir(folder_of(path))?;
    Ok(path.to_path_buf())
}

/// Removes the staged parts ([`stage`]: `.NAME.XXXXXX.part`) under `root` and its
/// folders: what a writer killed before [`place`] leaves. Never believed (hidden, never
/// renamed), but litter, and they take space. Only for a folder nobody is writing to.
/// Returns the files removed.
pub fn remove_staged_parts(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut here = false;
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            removed.extend(remove_staged_parts(&path)?);
        } else if kind.is_file() && name.starts_with('.') && name.ends_with(".part") {
            std::fs::remove_file(&path)?;
            removed.push(path);
            here = true;
        }
    }
    // Each folder that lost a name is synced (its subfolders sync themselves).
    if here {
        sync_dir(root)?;
    }
    Ok(removed)
}

/// The bytes an unprivileged writer may still put on the filesystem that holds `path`.
pub fn available_bytes(path: &Path) -> io::Result<u64> {
    let stats = rustix::fs::statvfs(path)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn staged_parts_left_by_a_killed_writer_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("website");
        std::fs::create_dir_all(&sub).unwrap();
        write_atomically(&sub.join("kept.jpg"), b"whole").unwrap();
        // What a kill between staging and placing leaves.
        let left = stage(&sub.join("lost.jpg"), b"part")
            .unwrap()
            .into_temp_path();
        let left = left.keep().unwrap();
        std::fs::write(sub.join(".hidden"), b"not ours").unwrap();
        let removed = remove_staged_parts(dir.path()).unwrap();
        assert_eq!(removed, std::slice::from_ref(&left));
        assert!(!left.exists());
        assert_eq!(names(&sub), [".hidden", "kept.jpg"]);
        assert!(
            remove_staged_parts(&dir.path().join("absent"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_file_is_written_whole_replaced_whole_and_never_clobbered_by_write_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.json"], "no temporary file left");
        let err = write_new(&path, b"three").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn a_staged_file_is_hidden_behind_a_dot_until_placed_and_gone_if_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.jpg");
        let staged = stage(&path, b"jpeg").unwrap();
        let hidden = names(dir.path());
        assert_eq!(hidden.len(), 1);
        assert!(hidden[0].starts_with(".b.jpg.") && hidden[0].ends_with(".part"));
        drop(staged);
        assert!(names(dir.path()).is_empty());
        place(stage(&path, b"jpeg").unwrap(), &path).unwrap();
        assert_eq!(names(dir.path()), ["b.jpg"]);
    }
}
