//! The outbox: one folder per channel, each photo with its manifest, written whole or not
//! at all (temp file, fsync, rename, fsync the folder).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;

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
    /// temporary names (which start with a dot, so readers of the folder ignore them).
    /// [`Staged::place`] then makes them visible, quickly; dropping it removes them.
    pub fn stage(
        &self,
        channel: Channel,
        name: &str,
        photo: &[u8],
        manifest: &[u8],
    ) -> io::Result<Staged> {
        let dir = self.folder(channel);
        fs::create_dir_all(&dir)?;
        let delivery = Delivery {
            photo: dir.join(name),
            manifest: dir.join(format!("{name}.json")),
        };
        Ok(Staged {
            photo: crate::files::stage(&delivery.photo, photo)?,
            manifest: crate::files::stage(&delivery.manifest, manifest)?,
            delivery,
            dir,
        })
    }
}

/// A delivery written under temporary names, not yet visible (see [`Outbox::stage`]).
/// Dropped unplaced, its files are removed.
#[derive(Debug)]
pub struct Staged {
    delivery: Delivery,
    photo: tempfile::NamedTempFile,
    manifest: tempfile::NamedTempFile,
    dir: PathBuf,
}

impl Staged {
    /// Renames both files into place (the manifest first) and syncs the folder; on any
    /// failure neither is left visible.
    pub fn place(self) -> io::Result<Delivery> {
        let Staged {
            delivery,
            photo,
            manifest,
            dir,
        } = self;
        manifest.persist(&delivery.manifest).map_err(|e| e.error)?;
        if let Err(e) = photo.persist(&delivery.photo) {
            let _ = fs::remove_file(&delivery.manifest);
            return Err(e.error);
        }
        if let Err(e) = crate::files::sync_dir(&dir) {
            delivery.withdraw();
            return Err(e);
        }
        Ok(delivery)
    }

    /// Removes the temporary files (as dropping it does).
    pub fn discard(self) {}
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
        let visible = |folder: &std::path::Path| -> Vec<String> {
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
