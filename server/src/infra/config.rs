//! Settings, from a TOML file and command-line overrides.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the server can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Holds `records.db`, the photo store, evidence files and outboxes.
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    /// IANA time zone the organisation works in; decides what "today" is.
    pub time_zone: String,
    /// How long a consent form without an expiry date lasts.
    pub consent_validity_days: i32,
    /// Minutes of inactivity after which a web session ends.
    pub session_idle_minutes: i64,
    /// Set the `Secure` flag on cookies (serve behind HTTPS).
    pub secure_cookies: bool,
    /// Failed logins allowed per account and per address within `login_window_minutes`.
    pub login_attempts: u32,
    pub login_window_minutes: i64,
    /// Tolerance for camera clock drift when matching a photo to a sign-out.
    pub clock_drift_minutes: i64,
    /// Largest upload accepted (CSV import, evidence), in bytes.
    pub max_upload_bytes: usize,
    /// Channels whose publications are also sent to a web endpoint (a CMS, a partner's
    /// upload service), keyed by channel: `website`, `social`, `internal`, `partner:<id>`.
    /// The outbox folder stays the record; a delivery that fails is retried.
    pub deliver: BTreeMap<String, Endpoint>,
    /// Reverse proxies (e.g. the TLS proxy on this machine, `127.0.0.1`) whose
    /// `X-Forwarded-For` names the real client for login throttling; nobody else's is
    /// believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How `consentcam backup` writes.
    pub backup: BackupSettings,
    /// Roles whose accounts must log in with a second factor (an authenticator app), e.g.
    /// `["director", "admin"]`. Such an account that has none can only set one up.
    pub require_second_factor: Vec<crate::domain::AccountRole>,
    /// How many days ahead the renewal list looks for forms that lapse and learners who
    /// turn 18 with only a parent's form.
    pub renewal_notice_days: i32,
    /// `[retention]`: how long photos and forms are kept (`consentcam purge` and the daily
    /// purge in `serve`). Without it nothing is purged by age.
    pub retention: Option<crate::rules::retention::Retention>,
    /// Faces whose box is smaller than this on its shorter side, in pixels of the full
    /// picture, cannot be recognised: an import's page offers to dismiss them in one go.
    pub recognisable_face_px: u32,
    /// `[store]`: where photo originals, renditions and scans are kept (this machine's data
    /// directory unless it names object storage).
    pub store: StoreSettings,
    /// `[limits]`: what one client may take of the server (connections, slow requests,
    /// uploads from sites' kiosks).
    pub limits: Limits,
    /// `[sandbox]`: the workers that decode HEIF photos and video frames (C and C++
    /// libraries) away from the server.
    pub sandbox: SandboxSettings,
    /// `[mail]`: the sender and the way mail leaves (none: no mail is sent, reminders
    /// wait in the outbox).
    pub mail: Option<super::mail_settings::MailSettings>,
    /// `[parents]`: consent answered online through personal links (needs `[mail]` to
    /// send them). Without it no link is made.
    pub parents: Option<ParentSettings>,
}

/// `[parents]`: the public pages where parents and adult learners answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentSettings {
    /// The address parents' links start with, as the TLS proxy serves the public
    /// listener (`https://consent.school.example`). Links are built from it, never from
    /// a request's `Host`.
    pub public_url: String,
    /// Where the public listener listens (only the consent pages are served there; put
    /// only this one behind the proxy that faces the internet). Without it the pages are
    /// not served.
    pub public_bind: Option<SocketAddr>,
    /// Days a link works.
    #[serde(default = "ParentSettings::default_link_days")]
    pub link_days: u32,
    /// Renewal requests sent before a form lapses, at most (one a week).
    #[serde(default = "ParentSettings::default_renewal_requests")]
    pub renewal_requests: u32,
    /// Requests one address may make to the public pages per minute.
    #[serde(default = "ParentSettings::default_per_minute")]
    pub requests_per_minute: u32,
}

impl ParentSettings {
    fn default_link_days() -> u32 {
        14
    }
    fn default_renewal_requests() -> u32 {
        3
    }
    fn default_per_minute() -> u32 {
        30
    }

    /// `public_url` without a trailing slash.
    #[must_use]
    pub fn link_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// Whether the public pages are served over HTTPS (their cookie is `Secure` then).
    #[must_use]
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// What TOML alone cannot check.
    ///
    /// # Errors
    /// Why these settings cannot be used, naming the setting.
    pub fn check(&self) -> Result<(), String> {
        let url = self.public_url.trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("[parents] public_url must start with https:// (or http:// for a test)")?;
        if rest.is_empty() || rest.contains(['?', '#', ' ', '@']) {
            return Err(format!(
                "[parents] public_url must be a plain address like https://consent.school.example, not {:?}",
                self.public_url
            ));
        }
        if !(1..=90).contains(&self.link_days) {
            return Err("[parents] link_days must be between 1 and 90".into());
        }
        if self.renewal_requests > 10 {
            return Err("[parents] renewal_requests must be at most 10".into());
        }
        if self.requests_per_minute == 0 {
            return Err("[parents] requests_per_minute must be at least 1".into());
        }
        Ok(())
    }
}

/// `[limits]`: bounds that keep one slow or hostile client from holding the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Connections served at once; more are closed at once (and logged).
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers.
    pub header_seconds: u64,
    /// Seconds a request's body may go without a byte before the request fails.
    pub idle_seconds: u64,
    /// The largest file a site's kiosk may send from a card (a long video), in MiB.
    pub card_file_mib: u64,
    /// Files one kiosk may send at once.
    pub card_uploads_per_kiosk: usize,
    /// Free space, in MiB, a card upload never takes from the disk that holds the records.
    pub free_space_reserve_mib: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_seconds: 15,
            idle_seconds: 60,
            card_file_mib: 8 * 1024,
            card_uploads_per_kiosk: 2,
            free_space_reserve_mib: 1024,
        }
    }
}

impl Limits {
    pub fn card_file_bytes(&self) -> u64 {
        self.card_file_mib.saturating_mul(1024 * 1024)
    }

    pub fn free_space_reserve_bytes(&self) -> u64 {
        self.free_space_reserve_mib.saturating_mul(1024 * 1024)
    }
}

/// `[sandbox]`: the decode workers' limits. A worker past `decode_seconds` on one file is
/// killed and the file gets a problem; `memory_mib` is its address space (virtual memory:
/// leave room for the decoders' threads), `cpu_seconds` its CPU time over its life, and it
/// is replaced after `files_per_worker` files (or any failure).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxSettings {
    pub decode_seconds: u64,
    pub memory_mib: u64,
    pub cpu_seconds: u64,
    pub files_per_worker: u32,
    /// The program run as the worker (`PROGRAM decode-worker`); this server's own binary
    /// unless set.
    pub worker_program: Option<PathBuf>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            decode_seconds: 60,
            memory_mib: 1536,
            cpu_seconds: 600,
            files_per_worker: 50,
            worker_program: None,
        }
    }
}

/// `[store]`: `kind = "local"` (the default: the data directory) or `kind = "s3"`, with
/// the bucket and a file holding its access key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub kind: StoreKind,
    /// The bucket's name.
    pub bucket: Option<String>,
    /// The S3 service's address; empty for AWS itself in `region`.
    pub endpoint: Option<String>,
    /// The bucket's region (`eu-west-2`); other providers accept their own or any.
    pub region: Option<String>,
    /// A file (readable only by the service) with `access_key_id = "..."` and
    /// `secret_access_key = "..."`.
    pub credentials_file: Option<PathBuf>,
    /// Allow an `http://` endpoint (a storage server on this machine or a private network).
    pub allow_http: bool,
    /// How long a request to the storage is retried before the operation fails (an
    /// import then stops, keeping what it stored; it resumes when run again).
    pub retry_seconds: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            kind: StoreKind::Local,
            bucket: None,
            endpoint: None,
            region: None,
            credentials_file: None,
            allow_http: false,
            retry_seconds: 60,
        }
    }
}

/// Where photos are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    #[default]
    Local,
    S3,
}

/// The credentials file of `[store]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

impl StoreSettings {
    /// The object storage settings, with the credentials read from their file; `None`
    /// for the local store.
    ///
    /// # Errors
    /// A setting is missing or the credentials file cannot be read.
    pub fn s3(&self) -> Result<Option<consentcam_media::S3Settings>, String> {
        if self.kind == StoreKind::Local {
            return Ok(None);
        }
        let bucket = self
            .bucket
            .clone()
            .filter(|b| !b.is_empty())
            .ok_or("[store] kind = \"s3\" needs bucket = \"<name>\"")?;
        let path = self
            .credentials_file
            .as_ref()
            .ok_or("[store] kind = \"s3\" needs credentials_file = \"<path>\"")?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "[store] credentials_file {}: cannot read it: {e}",
                path.display()
            )
        })?;
        let credentials: Credentials = toml::from_str(&text).map_err(|e| {
            format!(
                "[store] credentials_file {} must hold access_key_id = \"...\" and secret_access_key = \"...\": {}",
                path.display(),
                e.message()
            )
        })?;
        if let Some(endpoint) = &self.endpoint {
            let http = endpoint.starts_with("http://");
            if !(http || endpoint.starts_with("https://")) {
                return Err("[store] endpoint must start with https:// (or http://)".into());
            }
            if http && !self.allow_http {
                return Err(
                    "[store] endpoint is http://: set allow_http = true if it is on this machine or a private network"
                        .into(),
                );
            }
        }
        Ok(Some(consentcam_media::S3Settings {
            bucket,
            endpoint: self.endpoint.clone(),
            region: self.region.clone().unwrap_or_else(|| "us-east-1".into()),
            access_key_id: credentials.access_key_id,
            secret_access_key: credentials.secret_access_key,
            allow_http: self.allow_http,
            retry_for: std::time::Duration::from_secs(self.retry_seconds),
        }))
    }
}

/// `[backup]`: backups for a second location are encrypted to an age recipient whose
/// private key is kept away from the Pi.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSettings {
    /// An age X25519 recipient (`age1...`): `backup --encrypt` encrypts every file to it.
    pub age_recipient: Option<String>,
    /// Where the nightly backup also writes a copy encrypted to `age_recipient`: a drive
    /// kept elsewhere, mounted there (the backup refuses a plain folder).
    pub offsite_dir: Option<PathBuf>,
    /// `/health` says backups are stale when the newest found whole is older than this.
    pub stale_hours: u32,
    /// `prune-backup` keeps the runs of this many days (the newest always): deleted and
    /// erased data leaves the backups after it.
    pub keep_days: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            age_recipient: None,
            offsite_dir: None,
            stale_hours: 36,
            keep_days: 35,
        }
    }
}

pub use crate::domain::EndpointKind;

/// A web endpoint publications of one channel are sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    #[serde(default)]
    pub kind: EndpointKind,
    /// `https://...` (or `http://` on a trusted network): the endpoint, or for WordPress
    /// the site's address.
    pub url: String,
    /// A file holding a bearer token for the endpoint, if it wants one (kind `http`).
    pub token_file: Option<PathBuf>,
    /// WordPress: the user the copies are uploaded as.
    pub user: Option<String>,
    /// WordPress: a file holding that user's application password (Users → Profile →
    /// Application Passwords), never the login password.
    pub password_file: Option<PathBuf>,
    /// WordPress: where its REST API answers, when not at `<url>/wp-json` (a site with
    /// plain permalinks: `<url>/?rest_route=`).
    pub rest_root: Option<String>,
    /// WordPress: also start a draft post holding the photo and its caption, for a member
    /// of staff to finish and publish.
    #[serde(default)]
    pub draft_post: bool,
    /// The pause after a first failed try, in seconds (default 30); each next one doubles,
    /// up to an hour.
    pub retry_seconds: Option<u32>,
}

impl Endpoint {
    /// The secret the endpoint is reached with: the bearer token (`http`) or the
    /// application password (`wordpress`), read now so a new one takes effect at once.
    ///
    /// # Errors
    /// The file named cannot be read.
    pub fn secret(&self) -> Result<Option<String>, String> {
        let file = match self.kind {
            EndpointKind::Http => self.token_file.as_ref(),
            EndpointKind::Wordpress => self.password_file.as_ref(),
        };
        let Some(path) = file else {
            return Ok(None);
        };
        std::fs::read_to_string(path)
            .map(|t| Some(t.trim().to_owned()))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("/var/lib/consentcam"),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            time_zone: "Europe/London".into(),
            consent_validity_days: 365,
            session_idle_minutes: 30,
            secure_cookies: false,
            login_attempts: 5,
            login_window_minutes: 15,
            clock_drift_minutes: 10,
            max_upload_bytes: 10 * 1024 * 1024,
            deliver: BTreeMap::new(),
            trusted_proxies: Vec::new(),
            backup: BackupSettings::default(),
            require_second_factor: Vec::new(),
            renewal_notice_days: 30,
            retention: None,
            recognisable_face_px: 40,
            store: StoreSettings::default(),
            limits: Limits::default(),
            sandbox: SandboxSettings::default(),
            mail: None,
            parents: None,
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        config.check().map_err(|message| ConfigError::Parse {
            path: path.into(),
            message,
        })?;
        Ok(config)
    }

    /// What TOML alone cannot check.
    fn check(&self) -> Result<(), String> {
        let sandbox = &self.sandbox;
        if sandbox.decode_seconds == 0 || sandbox.cpu_seconds == 0 || sandbox.files_per_worker == 0
        {
            return Err(
                "[sandbox] decode_seconds, cpu_seconds and files_per_worker must be above 0".into(),
            );
        }
        if sandbox.memory_mib < 128 {
            return Err(format!(
                "[sandbox] memory_mib must be at least 128 (a decoder's program alone needs that much address space), not {}",
                sandbox.memory_mib
            ));
        }
        if !(8..=400).contains(&self.recognisable_face_px) {
            return Err(format!(
                "recognisable_face_px must be between 8 and 400 pixels, not {}",
                self.recognisable_face_px
            ));
        }
        if let Some(recipient) = &self.backup.age_recipient {
            age_recipient(recipient).map_err(|e| format!("[backup] age_recipient: {e}"))?;
        }
        if let Some(dir) = &self.backup.offsite_dir {
            if self.backup.age_recipient.is_none() {
                return Err(
                    "[backup] offsite_dir needs age_recipient: the off-site copy is encrypted to it"
                        .into(),
                );
            }
            if !dir.is_absolute() {
                return Err(format!(
                    "[backup] offsite_dir must be an absolute path, not {}",
                    dir.display()
                ));
            }
        }
        self.store.s3()?;
        if let Some(parents) = &self.parents {
            parents.check()?;
            if parents.public_bind.is_some_and(|b| b == self.bind) {
                return Err(
                    "[parents] public_bind must differ from bind: the public pages have a listener of their own".into(),
                );
            }
        }
        let limits = &self.limits;
        if limits.max_connections == 0
            || limits.header_seconds == 0
            || limits.idle_seconds == 0
            || limits.card_uploads_per_kiosk == 0
        {
            return Err(
                "[limits] max_connections, header_seconds, idle_seconds and card_uploads_per_kiosk must be at least 1"
                    .into(),
            );
        }
        for (channel, endpoint) in &self.deliver {
            channel.parse::<crate::domain::Channel>().map_err(|e| {
                format!("[deliver.{channel:?}]: not a channel ({e}); use website, social, internal or \"partner:<id>\"")
            })?;
            let scheme_ok =
                endpoint.url.starts_with("https://") || endpoint.url.starts_with("http://");
            if !scheme_ok {
                return Err(format!(
                    "[deliver.{channel:?}] url must start with https:// or http://"
                ));
            }
            if endpoint.retry_seconds == Some(0) {
                return Err(format!(
                    "[deliver.{channel:?}] retry_seconds must be at least 1"
                ));
            }
            let wordpress_only = [
                ("user", endpoint.user.is_some()),
                ("password_file", endpoint.password_file.is_some()),
                ("rest_root", endpoint.rest_root.is_some()),
                ("draft_post", endpoint.draft_post),
            ];
            match endpoint.kind {
                EndpointKind::Http => {
                    if let Some((key, _)) = wordpress_only.iter().find(|(_, set)| *set) {
                        return Err(format!(
                            "[deliver.{channel:?}] {key} is for kind = \"wordpress\" only"
                        ));
                    }
                }
                EndpointKind::Wordpress => {
                    if endpoint.token_file.is_some() {
                        return Err(format!(
                            "[deliver.{channel:?}] a WordPress site takes user and password_file (an application password), not token_file"
                        ));
                    }
                    if endpoint.user.as_deref().is_none_or(|u| u.trim().is_empty())
                        || endpoint.password_file.is_none()
                    {
                        return Err(format!(
                            "[deliver.{channel:?}] kind = \"wordpress\" needs user and password_file (the file holding the user's application password)"
                        ));
                    }
                    if let Some(root) = &endpoint.rest_root
                        && !(root.starts_with("https://") || root.starts_with("http://"))
                    {
                        return Err(format!(
                            "[deliver.{channel:?}] rest_root must start with https:// or http://"
                        ));
                    }
                }
            }
        }
        if let Some(mail) = &self.mail {
            mail.check()?;
        }
        Ok(())
    }

    /// The endpoint a channel's publications are sent to, if any.
    pub fn endpoint(&self, channel: crate::domain::Channel) -> Option<&Endpoint> {
        self.deliver.get(&channel.code())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("records.db")
    }

    pub fn policy(&self) -> crate::rules::consent::ConsentPolicy {
        crate::rules::consent::ConsentPolicy {
            validity_days: self.consent_validity_days,
        }
    }
}

/// Reads an age public key (`age1...`), the one backups are encrypted to.
///
/// # Errors
/// The text is not an age X25519 recipient.
pub fn age_recipient(text: &str) -> Result<age::x25519::Recipient, String> {
    text.trim()
        .parse()
        .map_err(|e: &str| format!("not an age recipient ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_overrides_defaults_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "data_dir = \"/srv/cc\"\nconsent_validity_days = 180\n",
        )
        .unwrap();
        let config = Config::load(&good).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/srv/cc"));
        assert_eq!(config.consent_validity_days, 180);
        assert_eq!(config.session_idle_minutes, 30);

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "data_dri = \"/srv/cc\"\n").unwrap();
        let err = Config::load(&bad).unwrap_err().to_string();
        assert!(err.contains("data_dri"), "{err}");
    }

    #[test]
    fn the_recognisable_face_size_is_kept_within_sense() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "recognisable_face_px = 64\n").unwrap();
        assert_eq!(Config::load(&path).unwrap().recognisable_face_px, 64);
        for bad in ["0", "5000"] {
            std::fs::write(&path, format!("recognisable_face_px = {bad}\n")).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains("recognisable_face_px"), "{err}");
        }
    }

    #[test]
    fn the_off_site_copy_needs_its_key_and_an_absolute_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        // A made-up but well-formed age recipient.
        let recipient = age::x25519::Identity::generate().to_public().to_string();
        for (text, wrong) in [
            (
                "offsite_dir = \"/mnt/consentcam-offsite\"".to_owned(),
                Some("needs age_recipient"),
            ),
            (
                format!("age_recipient = \"{recipient}\"\noffsite_dir = \"offsite\""),
                Some("must be an absolute path"),
            ),
            (
                format!(
                    "age_recipient = \"{recipient}\"\noffsite_dir = \"/mnt/consentcam-offsite\""
                ),
                None,
            ),
        ] {
            std::fs::write(&path, format!("[backup]\n{text}\n")).unwrap();
            match (Config::load(&path), wrong) {
                (Ok(config), None) => assert_eq!(
                    config.backup.offsite_dir.as_deref(),
                    Some(Path::new("/mnt/consentcam-offsite"))
                ),
                (Err(e), Some(wrong)) => assert!(e.to_string().contains(wrong), "{e}"),
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn delivery_endpoints_name_a_real_channel_and_a_web_url() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[deliver.website]\nurl = \"https://cms.example.org/photos\"\n\
             [deliver.\"partner:2\"]\nurl = \"http://10.0.0.5/in\"\ntoken_file = \"/etc/t\"\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        let partner = config
            .endpoint(crate::domain::Channel::Partner(crate::domain::PartnerId(2)))
            .unwrap();
        assert_eq!(partner.token_file.as_deref(), Some(Path::new("/etc/t")));
        assert_eq!(partner.kind, EndpointKind::Http);
        assert!(config.endpoint(crate::domain::Channel::Social).is_none());
        std::fs::write(
            &path,
            "[deliver.website]\nkind = \"wordpress\"\nurl = \"https://www.school.example\"\n\
             user = \"consentcam\"\npassword_file = \"/etc/consentcam/wordpress\"\ndraft_post = true\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        let site = config.endpoint(crate::domain::Channel::Website).unwrap();
        assert_eq!(site.kind, EndpointKind::Wordpress);
        assert_eq!(site.user.as_deref(), Some("consentcam"));
        assert!(site.draft_post);
        for (bad, why) in [
            ("[deliver.web]\nurl = \"https://x\"\n", "not a channel"),
            ("[deliver.website]\nurl = \"ftp://x\"\n", "https://"),
            (
                "[deliver.website]\nurl = \"https://x\"\ntoken = \"t\"\n",
                "token",
            ),
            (
                "[deliver.website]\nkind = \"wordpress\"\nurl = \"https://x\"\nuser = \"u\"\n",
                "needs user and password_file",
            ),
            (
                "[deliver.website]\nkind = \"wordpress\"\nurl = \"https://x\"\nuser = \"u\"\npassword_file = \"/p\"\ntoken_file = \"/t\"\n",
                "not token_file",
            ),
            (
                "[deliver.website]\nurl = \"https://x\"\nuser = \"u\"\n",
                "user is for kind = \"wordpress\" only",
            ),
            (
                "[deliver.website]\nkind = \"joomla\"\nurl = \"https://x\"\n",
                "joomla",
            ),
            (
                "[deliver.website]\nurl = \"https://x\"\nretry_seconds = 0\n",
                "retry_seconds must be at least 1",
            ),
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn the_shipped_config_loads_and_asks_directors_and_admins_for_a_second_factor() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config/config.toml");
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.require_second_factor,
            [
                crate::domain::AccountRole::Director,
                crate::domain::AccountRole::Admin
            ]
        );
        assert_eq!(
            config.retention,
            Some(crate::rules::retention::Retention::default()),
            "the shipped retention is the documented default"
        );
        assert_eq!(config.backup.keep_days, 35);
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "require_second_factor = [\"boss\"]\n").unwrap();
        let err = Config::load(&bad).unwrap_err().to_string();
        assert!(err.contains("boss"), "{err}");
    }

    #[test]
    fn the_shipped_server_config_names_object_storage_and_loads_once_its_key_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
        let shipped = std::fs::read_to_string(deploy.join("config/server.toml")).unwrap();
        let credentials = dir.path().join("s3-credentials");
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            shipped.replace(
                "/etc/consentcam/s3-credentials",
                credentials.to_str().unwrap(),
            ),
        )
        .unwrap();
        // Without the key it does not load, and says which setting to mend.
        let refused = Config::load(&file).unwrap_err().to_string();
        assert!(refused.contains("credentials_file"), "{refused}");
        std::fs::copy(deploy.join("config/s3-credentials.example"), &credentials).unwrap();
        let config = Config::load(&file).unwrap();
        let s3 = config.store.s3().unwrap().expect("object storage");
        assert_eq!(s3.bucket, "consentcam-photos");
        assert_eq!(s3.region, "eu-west-2");
        assert!(config.secure_cookies);
        assert_eq!(
            config.trusted_proxies,
            ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        // An http:// endpoint needs saying so.
        let mut plain = config.store.clone();
        plain.endpoint = Some("http://10.0.0.5:9000".into());
        assert!(plain.s3().unwrap_err().contains("allow_http"));
        plain.allow_http = true;
        assert!(plain.s3().is_ok());
        // A credentials file without the secret is refused by name.
        std::fs::write(&credentials, "access_key_id = \"x\"\n").unwrap();
        assert!(config.store.s3().unwrap_err().contains("secret_access_key"));
    }
}
