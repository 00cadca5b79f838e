//! The outbox: one folder per channel, each photo with its manifest, written whole or not
//! at all (temp file, fsync, rename, fsync the folder).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::domain::Channel;

/// The outbox folders under a root (by default `<data_dir>/outbox`).
#[derive(Debug, Clone)]
pub struct Outbox {
    root: PathBuf,
    /// Channel code -> URL of the web endpoint its deliveries are also sent to.
    endpoints: BTreeMap<String, String>,
}

/// Files placed by one delivery, so they can be taken back if recording fails.
#[derive(Debug)]
pub struct Delivery {
    pub photo: PathBuf,
    pub manifest: PathBuf,
}

impl Delivery {
    /// Removes both files (used when the publication could not be recorded).
    pub fn withdraw(self) {
        for path in [&self.photo, &self.manifest] {
            if let Err(e) = fs::remove_file(path) {
                tracing::error!(error = %e, "could not remove an unrecorded outbox file");
            }
        }
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let temp = dir.join(format!(".{name}.part"));
    let mut file = File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(temp)
}

impl Outbox {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            endpoints: BTreeMap::new(),
        }
    }

    /// Also sends `channel`'s deliveries to `url` (see [`super::forward`]).
    pub fn with_endpoint(mut self, channel: Channel, url: impl Into<String>) -> Self {
        self.endpoints.insert(channel.code(), url.into());
        self
    }

    /// The web endpoint of a channel, if it has one.
    pub fn endpoint(&self, channel: Channel) -> Option<&str> {
        self.endpoints.get(&channel.code()).map(String::as_str)
    }

    /// The folder a channel's deliveries go to.
    pub fn folder(&self, channel: Channel) -> PathBuf {
        self.root.join(match channel {
            Channel::Internal => "internal".to_owned(),
            Channel::Partner(id) => format!("partner-{id}"),
            Channel::Website => "website".to_owned(),
            Channel::Social => "social".to_owned(),
        })
    }

    /// Writes `<name>` and `<name>.json` into the channel's folder. Readers of the folder
    /// see either both files complete or neither (temporary files start with a dot).
    pub fn deliver(
        &self,
        channel: Channel,
        name: &str,
        photo: &[u8],
        manifest: &[u8],
    ) -> io::Result<Delivery> {
        self.stage(channel, name, photo, manifest)?.place()
    }

    /// The slow half of [`Outbox::deliver`]: both files written and synced under
    /// temporary names (which readers of the folder ignore). [`Staged::place`] then makes
    /// them visible, quickly; [`Staged::discard`] (or dropping it) removes them.
    pub fn stage(
        &self,
        channel: Channel,
        name: &str,
        photo: &[u8],
        manifest: &[u8],
    ) -> io::Result<Staged> {
        let dir = self.folder(channel);
        fs::create_dir_all(&dir)?;
        let photo_temp = write_temp(&dir, name, photo);
        let manifest_temp = write_temp(&dir, &format!("{name}.json"), manifest);
        match (photo_temp, manifest_temp) {
            (Ok(photo_temp), Ok(manifest_temp)) => Ok(Staged {
                delivery: Delivery {
                    photo: dir.join(name),
                    manifest: dir.join(format!("{name}.json")),
                },
                photo_temp,
                manifest_temp,
                dir,
                placed: false,
            }),
            (p, m) => {
                for temp in [p.ok(), m.ok()].into_iter().flatten() {
                    let _ = fs::remove_file(temp);
                }
                Err(io::Error::other("could not write the files to the outbox"))
            }
        }
    }
}

/// A delivery written under temporary names, not yet visible (see [`Outbox::stage`]).
#[derive(Debug)]
pub struct Staged {
    delivery: Delivery,
    photo_temp: PathBuf,
    manifest_temp: PathBuf,
    dir: PathBuf,
    placed: bool,
}

impl Staged {
    /// Renames both files into place (the manifest first) and syncs the folder.
    pub fn place(mut self) -> io::Result<Delivery> {
        fs::rename(&self.manifest_temp, &self.delivery.manifest)?;
        if let Err(e) = fs::rename(&self.photo_temp, &self.delivery.photo) {
            let _ = fs::remove_file(&self.delivery.manifest);
            return Err(e);
        }
        self.placed = true;
        if let Err(e) = sync_dir(&self.dir) {
            let _ = fs::remove_file(&self.delivery.photo);
            let _ = fs::remove_file(&self.delivery.manifest);
            return Err(e);
        }
        Ok(Delivery {
            photo: self.delivery.photo.clone(),
            manifest: self.delivery.manifest.clone(),
        })
    }

    /// Removes the temporary files.
    pub fn discard(self) {}
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.placed {
            let _ = fs::remove_file(&self.photo_temp);
            let _ = fs::remove_file(&self.manifest_temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PartnerId;

    #[test]
    fn a_delivery_leaves_the_photo_and_its_manifest_and_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path());
        let delivery = outbox
            .deliver(Channel::Partner(PartnerId(3)), "abc.jpg", b"jpeg", b"{}")
            .unwrap();
        let folder = dir.path().join("partner-3");
        let mut names: Vec<String> = fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["abc.jpg", "abc.jpg.json"]);
        assert_eq!(fs::read(&delivery.photo).unwrap(), b"jpeg");
        delivery.withdraw();
        assert_eq!(fs::read_dir(&folder).unwrap().count(), 0);
    }

    #[test]
    fn a_staged_delivery_is_invisible_until_placed_and_gone_if_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path());
        let visible = |folder: &Path| -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect();
            names.sort();
            names
        };
        let folder = dir.path().join("website");
        let staged = outbox
            .stage(Channel::Website, "a.jpg", b"jpeg", b"{}")
            .unwrap();
        assert!(visible(&folder).is_empty(), "nothing a reader takes yet");
        let delivery = staged.place().unwrap();
        assert_eq!(visible(&folder), ["a.jpg", "a.jpg.json"]);
        assert_eq!(fs::read(&delivery.photo).unwrap(), b"jpeg");
        drop(
            outbox
                .stage(Channel::Website, "b.jpg", b"jpeg", b"{}")
                .unwrap(),
        );
        assert_eq!(
            fs::read_dir(&folder).unwrap().count(),
            2,
            "a dropped stage leaves no file, temporary or not"
        );
    }

    #[test]
    fn a_delivery_that_cannot_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The channel folder's place is taken by a file: nothing can be written there.
        fs::write(dir.path().join("website"), b"not a folder").unwrap();
        let outbox = Outbox::new(dir.path());
        assert!(
            outbox
                .deliver(Channel::Website, "x.jpg", b"jpeg", b"{}")
                .is_err()
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
