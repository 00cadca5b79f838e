//! `[mail]` in the config: who mail comes from and how it leaves. One of two ways out:
//! an SMTP server (a provider, Google Workspace's relay, the school's own), or Microsoft
//! 365 with an app's OAuth2 client credentials, the token sent as XOAUTH2 (Microsoft turns
//! password SMTP off for tenants from December 2026).

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// `[mail]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The sender's address (`photos@school.example`).
    pub from: String,
    /// The sender's name as mail programs show it.
    #[serde(default = "default_from_name")]
    pub from_name: String,
    /// Where answers go, if not to the sender.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// The address staff open consentcam at (`https://photos.school.example`): every
    /// message links to a page under it.
    pub server_url: String,
    /// The hour (in the configured zone) from which the daily and weekly digests go out.
    #[serde(default = "default_digest_hour")]
    pub digest_hour: u8,
    /// Hours a device may be overdue before directors are told too (its holder is told
    /// at once).
    #[serde(default = "default_overdue_grace_hours")]
    pub overdue_grace_hours: u32,
    /// Seconds between two looks at the outbox and the reminders due.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u32,
    /// At most this many messages handed over a second (they share the records' writer
    /// with the kiosks and pages).
    #[serde(default = "default_per_second")]
    pub per_second: u32,
    /// How long a message that meets only temporary failures is tried again, in hours,
    /// before it is marked failed.
    #[serde(default = "default_retry_hours")]
    pub retry_hours: u32,
    /// `[mail.smtp]`: an SMTP server.
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// `[mail.microsoft365]`: Microsoft 365 with OAuth2 client credentials.
    #[serde(default)]
    pub microsoft365: Option<Microsoft365Settings>,
}

fn default_from_name() -> String {
    "consentcam".into()
}

fn default_retry_hours() -> u32 {
    48
}

fn default_digest_hour() -> u8 {
    7
}

fn default_overdue_grace_hours() -> u32 {
    12
}

fn default_poll_seconds() -> u32 {
    30
}

fn default_per_second() -> u32 {
    10
}

/// How the connection to an SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tls {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No encryption: allowed only to a server on this machine (a local relay).
    None,
}

/// `[mail.smtp]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "default_submission_port")]
    pub port: u16,
    #[serde(default = "default_tls")]
    pub tls: Tls,
    /// The account to log in as, if the server asks for one.
    #[serde(default)]
    pub user: Option<String>,
    /// A file holding the password (never the password itself in the config).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A PEM file of a certificate authority trusted besides the public ones (a relay
    /// inside the school's network with its own CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_submission_port() -> u16 {
    587
}

fn default_tls() -> Tls {
    Tls::Starttls
}

/// `[mail.microsoft365]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Microsoft365Settings {
    /// The tenant (directory) id.
    pub tenant: String,
    /// The app registration's client id.
    pub client_id: String,
    /// A file holding the app's client secret.
    pub client_secret_file: PathBuf,
    /// Where tokens are asked for (default: Microsoft's, for the tenant).
    #[serde(default)]
    pub token_url: Option<String>,
    /// The SMTP server (default: `smtp.office365.com`, port 587, STARTTLS).
    #[serde(default = "default_m365_host")]
    pub host: String,
    #[serde(default = "default_submission_port")]
    pub port: u16,
    /// A PEM file of a certificate authority trusted besides the public ones.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_m365_host() -> String {
    "smtp.office365.com".into()
}

impl Microsoft365Settings {
    /// The token endpoint: the configured one, or Microsoft's for the tenant.
    #[must_use]
    pub fn token_url(&self) -> String {
        self.token_url.clone().unwrap_or_else(|| {
            format!(
                "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                self.tenant
            )
        })
    }
}

/// Whether `host` names this machine (a connection to it never crosses a network).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A mail address as the settings need it: the check an account's address gets.
fn check_address(what: &str, address: &str) -> Result<(), String> {
    crate::store::registry::check_email(address)
        .map_err(|_| format!("[mail] {what}: {address:?} is not a mail address"))
}

impl MailSettings {
    /// `server_url` without a trailing slash: links are `{base}/page`.
    #[must_use]
    pub fn link_base(&self) -> &str {
        self.server_url.trim_end_matches('/')
    }

    /// What TOML alone cannot check.
    ///
    /// # Errors
    /// Why these settings cannot send mail, naming the setting.
    pub fn check(&self) -> Result<(), String> {
        check_address("from", &self.from)?;
        if let Some(reply_to) = &self.reply_to {
            check_address("reply_to", reply_to)?;
        }
        if self.from_name.contains(['\r', '\n']) {
            return Err("[mail] from_name must be one line".into());
        }
        let server = self.server_url.trim_end_matches('/');
        if !(server.starts_with("https://") || server.starts_with("http://"))
            || host_of(server).is_empty()
            || server.contains(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        {
            return Err(format!(
                "[mail] server_url: {:?} is not the https:// address staff open consentcam at",
                self.server_url
            ));
        }
        if self.digest_hour > 23 {
            return Err("[mail] digest_hour is an hour of the day, 0 to 23".into());
        }
        if self.per_second == 0 {
            return Err("[mail] per_second must be at least 1".into());
        }
        if self.poll_seconds == 0 {
            return Err("[mail] poll_seconds must be at least 1".into());
        }
        if self.retry_hours == 0 {
            return Err("[mail] retry_hours must be at least 1".into());
        }
        match (&self.smtp, &self.microsoft365) {
            (Some(smtp), None) => {
                if smtp.tls == Tls::None && !is_loopback(&smtp.host) {
                    return Err(format!(
                        "[mail.smtp] tls = \"none\" is allowed only to a server on this machine, \
                         not {:?}: use \"starttls\" or \"implicit\"",
                        smtp.host
                    ));
                }
                if smtp.user.is_some() != smtp.password_file.is_some() {
                    return Err("[mail.smtp] user and password_file go together".into());
                }
                Ok(())
            }
            (None, Some(m365)) => {
                let url = m365.token_url();
                let secure = url.starts_with("https://")
                    || (url.starts_with("http://") && is_loopback(host_of(&url)));
                if !secure {
                    return Err(format!(
                        "[mail.microsoft365] token_url must be https:// (or http:// on this \
                         machine), not {url:?}"
                    ));
                }
                Ok(())
            }
            (None, None) => {
                Err("[mail] needs [mail.smtp] or [mail.microsoft365]: how mail leaves".into())
            }
            (Some(_), Some(_)) => {
                Err("[mail] has both [mail.smtp] and [mail.microsoft365]: keep one".into())
            }
        }
    }
}

/// The host of an `http(s)://host[:port]/...` address.
fn host_of(url: &str) -> &str {
    let rest = url.split("://").nth(1).unwrap_or("");
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rfind(':') {
        Some(colon) if !authority.ends_with(']') => &authority[..colon],
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MailSettings, String> {
        let settings: MailSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        settings.check().map(|()| settings)
    }

    #[test]
    fn settings_are_refused_with_the_setting_named() {
        let smtp =
            "from = 'photos@school.example'\nserver_url = 'https://p.example'\n[smtp]\nhost = ";
        let cases: Vec<(&str, String, Option<&str>)> = vec![
            (
                "a provider over STARTTLS",
                format!("{smtp}'smtp.example.net'"),
                None,
            ),
            (
                "a local relay without TLS",
                format!("{smtp}'127.0.0.1'\nport = 2525\ntls = 'none'"),
                None,
            ),
            (
                "no TLS across a network",
                format!("{smtp}'smtp.example.net'\ntls = 'none'"),
                Some("allowed only to a server on this machine"),
            ),
            (
                "a user without a password file",
                format!("{smtp}'smtp.example.net'\nuser = 'photos'"),
                Some("user and password_file go together"),
            ),
            (
                "no way out",
                "from = 'photos@school.example'\nserver_url = 'https://p.example'".into(),
                Some("needs [mail.smtp] or [mail.microsoft365]"),
            ),
            (
                "not an address",
                "from = 'photos'\nserver_url = 'https://p.example'\n[smtp]\nhost = 'h'".into(),
                Some("from: \"photos\" is not a mail address"),
            ),
            (
                "Microsoft 365 with a local token endpoint for tests",
                "from = 'a@b.example'\nserver_url = 'https://p.example'\n[microsoft365]\ntenant = 't'\nclient_id = 'c'\n\
                 client_secret_file = '/etc/consentcam/m365-secret'\n\
                 token_url = 'http://127.0.0.1:9000/token'"
                    .into(),
                None,
            ),
            (
                "a token over plain HTTP across a network",
                "from = 'a@b.example'\nserver_url = 'https://p.example'\n[microsoft365]\ntenant = 't'\nclient_id = 'c'\n\
                 client_secret_file = '/s'\ntoken_url = 'http://login.example/token'"
                    .into(),
                Some("token_url must be https://"),
            ),
            (
                "links to nowhere",
                "from = 'a@b.example'\nserver_url = 'photos'\n[smtp]\nhost = 'h'".into(),
                Some("server_url"),
            ),
            (
                "an unknown key",
                format!("{smtp}'h'\npasword_file = '/p'"),
                Some("unknown field"),
            ),
        ];
        for (name, text, refused) in cases {
            match (parse(&text), refused) {
                (Ok(_), None) => {}
                (Err(e), Some(words)) => assert!(e.contains(words), "{name}: {e}"),
                (Ok(_), Some(words)) => panic!("{name}: accepted, expected {words:?}"),
                (Err(e), None) => panic!("{name}: refused: {e}"),
            }
        }
    }

    #[test]
    fn microsofts_token_endpoint_is_the_tenants_unless_told() {
        let m365: MailSettings = toml::from_str(
            "from = 'a@b.example'\nserver_url = 'https://p.example'\n[microsoft365]\ntenant = 'abc'\nclient_id = 'c'\n\
             client_secret_file = '/s'",
        )
        .unwrap();
        let m = m365.microsoft365.unwrap();
        assert_eq!(
            m.token_url(),
            "https://login.microsoftonline.com/abc/oauth2/v2.0/token"
        );
        assert_eq!((m.host.as_str(), m.port), ("smtp.office365.com", 587));
    }
}
