//! The outbox: one folder per channel, each photo with its manifest, written whole or not
//! at all (temp file, fsync, rename, fsync the folder). With object storage the folders
//! are its keys `outbox/<channel>/...`, written first under staging keys a consumer never
//! lists, then moved into place by the storage itself.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;

use consentcam_media::{Bucket, S3Bucket};

use crate::domain::Channel;
use crate::infra::config::EndpointKind;

/// Where the copies go in object storage.
pub const KEYS: &str = "outbox/";

/// Where a copy waits in object storage before it is placed (outside [`KEYS`], so no
/// consumer of the outbox sees it).
const STAGING: &str = "store/staging/";

/// The outbox folders under a root (by default `<data_dir>/outbox`), or the keys under
/// `outbox/` in object storage.
#[derive(Debug, Clone)]
pub struct Outbox {
    root: PathBuf,
    remote: Option<S3Bucket>,
    /// Channel code -> URL and kind of the web endpoint its deliveries are also sent to.
    endpoints: BTreeMap<String, (String, EndpointKind)>,
}

fn bucket_io(e: consentcam_media::BucketError) -> io::Error {
    io::Error::other(e.to_string())
}

/// One of a delivery's two files, where it is.
#[derive(Debug)]
enum Placed {
    File(PathBuf),
    Object(S3Bucket, String),
}

impl Placed {
    fn remove(&self) -> io::Result<()> {
        match self {
            Placed::File(path) => fs::remove_file(path),
            Placed::Object(bucket, key) => bucket.delete(key).map_err(bucket_io),
        }
    }

    fn describe(&self) -> String {
        match self {
            Placed::File(path) => path.display().to_string(),
            Placed::Object(bucket, key) => format!("{}{key}", bucket.describe()),
        }
    }
}

/// Files placed by one delivery, so they can be taken back if recording fails.
#[derive(Debug)]
pub struct Delivery {
    photo: Placed,
    manifest: Placed,
}

impl Delivery {
    /// Removes both files (used when the publication could not be recorded).
    pub fn withdraw(self) {
        for placed in [&self.photo, &self.manifest] {
            if let Err(e) = placed.remove() {
                tracing::error!(error = %e, file = %placed.describe(), "could not remove an unrecorded outbox file");
            }
        }
    }

    /// Where the photo is: a path, or the object's `s3://` address.
    pub fn location(&self) -> String {
        self.photo.describe()
    }
}

/// The name of a channel's folder.
pub fn folder_name(channel: Channel) -> String {
    match channel {
        Channel::Internal => "internal".to_owned(),
        Channel::Partner(id) => format!("partner-{id}"),
        Channel::Website => "website".to_owned(),
        Channel::Social => "social".to_owned(),
    }
}

/// The key of a copy's file in the archive (`outbox/website/<name>`), the same in the
/// data directory and in object storage.
pub fn key(channel: Channel, file: &str) -> String {
    format!("{KEYS}{}/{file}", folder_name(channel))
}

/// The names of a copy's two files: the photo and its manifest.
pub fn file_names(name: &str) -> [String; 2] {
    [name.to_owned(), format!("{name}.json")]
}

impl Outbox {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            remote: None,
            endpoints: BTreeMap::new(),
        }
    }

    /// Keeps the copies in object storage under `outbox/`; `bucket` is the archive's
    /// (its keys from the bucket's top). Copies still in the folders (put there before
    /// the archive moved) are read and removed there.
    #[must_use]
    pub fn in_bucket(mut self, bucket: S3Bucket) -> Self {
        self.remote = Some(bucket);
        self
    }

    /// Also sends `channel`'s deliveries to `url`, an endpoint of `kind` (see
    /// [`super::forward`]).
    pub fn with_endpoint(
        mut self,
        channel: Channel,
        url: impl Into<String>,
        kind: EndpointKind,
    ) -> Self {
        self.endpoints.insert(channel.code(), (url.into(), kind));
        self
    }

    /// The web endpoint of a channel, if it has one, and its kind.
    pub fn endpoint(&self, channel: Channel) -> Option<(&str, EndpointKind)> {
        self.endpoints
            .get(&channel.code())
            .map(|(url, kind)| (url.as_str(), *kind))
    }

    /// The folder a channel's deliveries go to when they are kept on this machine.
    pub fn folder(&self, channel: Channel) -> PathBuf {
        self.root.join(folder_name(channel))
    }

    /// Where a channel's copies are, for people: a folder, or an `s3://` address.
    pub fn describe(&self, channel: Channel) -> String {
        match &self.remote {
            Some(bucket) => format!("{}{}", bucket.describe(), key(channel, "")),
            None => self.folder(channel).display().to_string(),
        }
    }

    /// A file of a channel's copies (`<name>` or `<name>.json`), or `None` if it is in
    /// neither place.
    ///
    /// # Errors
    /// It could not be read.
    pub fn read(&self, channel: Channel, file: &str) -> io::Result<Option<Vec<u8>>> {
        if let Some(bucket) = &self.remote
            && let Some(bytes) = bucket.get(&key(channel, file)).map_err(bucket_io)?
        {
            return Ok(Some(bytes));
        }
        match fs::read(self.folder(channel).join(file)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes a copy's photo and manifest, wherever they are. Returns whether there was
    /// anything to remove (a consumer may have taken the files).
    ///
    /// # Errors
    /// A file that is there but cannot be removed.
    pub fn remove(&self, channel: Channel, name: &str) -> io::Result<bool> {
        let mut removed = false;
        for file in file_names(name) {
            if let Some(bucket) = &self.remote {
                let key = key(channel, &file);
                if bucket.size(&key).map_err(bucket_io)?.is_some() {
                    bucket.delete(&key).map_err(bucket_io)?;
                    removed = true;
                }
            }
            match fs::remove_file(self.folder(channel).join(&file)) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
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
    /// temporary names (which start with a dot, so readers of the folder ignore them), or
    /// uploaded under staging keys. [`Staged::place`] then makes them visible, quickly;
    /// dropping it removes them.
    pub fn stage(
        &self,
        channel: Channel,
        name: &str,
        photo: &[u8],
        manifest: &[u8],
    ) -> io::Result<Staged> {
        let [photo_name, manifest_name] = file_names(name);
        if let Some(bucket) = &self.remote {
            let mut staged = Uploads {
                bucket: bucket.clone(),
                keys: Vec::new(),
            };
            for (file, bytes) in [(&photo_name, photo), (&manifest_name, manifest)] {
                let staging = format!("{STAGING}{file}");
                bucket.put_bytes(&staging, bytes).map_err(bucket_io)?;
                staged.keys.push((staging, key(channel, file)));
            }
            return Ok(Staged::Remote(staged));
        }
        let dir = self.folder(channel);
        fs::create_dir_all(&dir)?;
        let (photo_path, manifest_path) = (dir.join(&photo_name), dir.join(&manifest_name));
        Ok(Staged::Local {
            photo: (crate::infra::files::stage(&photo_path, photo)?, photo_path),
            manifest: (
                crate::infra::files::stage(&manifest_path, manifest)?,
                manifest_path,
            ),
            dir,
        })
    }
}

/// Staging objects (staging key, final key: the photo's, then the manifest's), removed
/// from staging when dropped.
#[derive(Debug)]
pub struct Uploads {
    bucket: S3Bucket,
    keys: Vec<(String, String)>,
}

impl Drop for Uploads {
    fn drop(&mut self) {
        for (staging, _) in &self.keys {
            if let Err(e) = self.bucket.delete(staging) {
                tracing::error!(error = %e, key = %staging, "could not remove a staged outbox copy");
            }
        }
    }
}

/// A delivery written under temporary names, not yet visible (see [`Outbox::stage`]).
/// Dropped unplaced, its files are removed.
#[derive(Debug)]
pub enum Staged {
    /// Temporary files beside where they go, and where they go.
    Local {
        photo: (tempfile::NamedTempFile, PathBuf),
        manifest: (tempfile::NamedTempFile, PathBuf),
        dir: PathBuf,
    },
    Remote(Uploads),
}

impl Staged {
    /// Moves both files into place (the manifest first) and syncs the folder; on any
    /// failure neither is left visible.
    pub fn place(self) -> io::Result<Delivery> {
        match self {
            Staged::Local {
                photo: (photo, photo_path),
                manifest: (manifest, manifest_path),
                dir,
            } => {
                manifest.persist(&manifest_path).map_err(|e| e.error)?;
                if let Err(e) = photo.persist(&photo_path) {
                    let _ = fs::remove_file(&manifest_path);
                    return Err(e.error);
                }
                let delivery = Delivery {
                    photo: Placed::File(photo_path),
                    manifest: Placed::File(manifest_path),
                };
                if let Err(e) = crate::infra::files::sync_dir(&dir) {
                    delivery.withdraw();
                    return Err(e);
                }
                Ok(delivery)
            }
            Staged::Remote(mut uploads) => {
                let bucket = uploads.bucket.clone();
                let [(photo_staging, photo_key), (manifest_staging, manifest_key)] =
                    [uploads.keys[0].clone(), uploads.keys[1].clone()];
                bucket
                    .rename(&manifest_staging, &manifest_key)
                    .map_err(bucket_io)?;
                if let Err(e) = bucket.rename(&photo_staging, &photo_key) {
                    let _ = bucket.delete(&manifest_key);
                    return Err(bucket_io(e));
                }
                // Nothing is left in staging.
                uploads.keys.clear();
                Ok(Delivery {
                    photo: Placed::Object(bucket.clone(), photo_key),
                    manifest: Placed::Object(bucket, manifest_key),
                })
            }
        }
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
        assert_eq!(fs::read(delivery.location()).unwrap(), b"jpeg");
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
        assert_eq!(fs::read(delivery.location()).unwrap(), b"jpeg");
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
