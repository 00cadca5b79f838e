//! Handing messages to the mail server configured in `[mail]`: SMTP with STARTTLS or TLS
//! (lettre on rustls), a password read from its file, or Microsoft 365's XOAUTH2 with a
//! token asked for by client credentials. What the server answered becomes an
//! [`Attempt`]; the outbox worker records it.

use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls as LettreTls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::mail_settings::{MailSettings, Tls};
use crate::rules::mail::{Attempt, from_reply};

/// Why the mail settings cannot be used (a file unreadable, a token refused).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Settings(String),
    #[error("the token endpoint {url} did not give a token: {reason}")]
    Token { url: String, reason: String },
}

/// One message as it leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing<'a> {
    pub message_id: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
}

/// What hands messages to a mail server: the real one below, or a test's.
pub trait Sender: Send + Sync {
    /// Hands `message` over; `now` decides whether a token needs renewing.
    fn send(&self, message: &Outgoing<'_>, now: Timestamp) -> Attempt;
}

/// Seconds a mail server has to answer each step.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A token with the time it stops being good.
#[derive(Debug, Clone)]
struct Token {
    value: String,
    good_until: Timestamp,
}

/// The configured way out, with a pool of open connections (rebuilt when a Microsoft
/// 365 token is renewed).
pub struct SmtpSender {
    settings: MailSettings,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    state: Mutex<Option<(SmtpTransport, Option<Token>)>>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("from", &self.settings.from)
            .finish_non_exhaustive()
    }
}

fn read_secret(what: &str, path: &std::path::Path) -> Result<String, MailError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| MailError::Settings(format!("cannot read {what} {}: {e}", path.display())))
}

fn tls_parameters(
    host: &str,
    ca_file: Option<&std::path::Path>,
) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            MailError::Settings(format!("cannot read the CA file {}: {e}", path.display()))
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            MailError::Settings(format!("{} is not a PEM certificate: {e}", path.display()))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| MailError::Settings(format!("cannot set up TLS for {host}: {e}")))
}

/// Asks `url` for a token with the app's client credentials (OAuth2, scope
/// `https://outlook.office365.com/.default`).
fn fetch_token(
    url: &str,
    client_id: &str,
    client_secret: &str,
    now: Timestamp,
) -> Result<Token, MailError> {
    let failed = |reason: String| MailError::Token {
        url: url.to_owned(),
        reason,
    };
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(SMTP_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut response = agent
        .post(url)
        .send_form([
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("scope", "https://outlook.office365.com/.default"),
        ])
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .map_err(|e| failed(e.to_string()))?;
    if !status.is_success() {
        return Err(failed(format!("{status}: {}", body.trim())));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
        #[serde(default)]
        expires_in: Option<i64>,
    }
    let answer: Answer =
        serde_json::from_str(&body).map_err(|e| failed(format!("unreadable answer: {e}")))?;
    // Renewed a minute before it runs out.
    let lasts = SignedDuration::from_secs(answer.expires_in.unwrap_or(3600).max(120) - 60);
    Ok(Token {
        value: answer.access_token,
        good_until: now.checked_add(lasts).unwrap_or(now),
    })
}

impl SmtpSender {
    /// Checks the addresses; nothing is read or connected until the first message.
    ///
    /// # Errors
    /// An address lettre cannot use.
    pub fn new(settings: &MailSettings) -> Result<Self, MailError> {
        let from = Mailbox::new(
            Some(settings.from_name.clone()),
            settings
                .from
                .parse()
                .map_err(|e| MailError::Settings(format!("[mail] from: {e}")))?,
        );
        let reply_to = settings
            .reply_to
            .as_deref()
            .map(|r| {
                r.parse::<Mailbox>()
                    .map_err(|e| MailError::Settings(format!("[mail] reply_to: {e}")))
            })
            .transpose()?;
        Ok(Self {
            settings: settings.clone(),
            from,
            reply_to,
            state: Mutex::new(None),
        })
    }

    /// A transport for the settings as they are now (the password or secret read again,
    /// a token asked for).
    fn transport(&self, now: Timestamp) -> Result<(SmtpTransport, Option<Token>), MailError> {
        let pool = PoolConfig::new()
            .max_size(2)
            .idle_timeout(Duration::from_secs(60));
        if let Some(smtp) = &self.settings.smtp {
            let tls = match smtp.tls {
                Tls::None => LettreTls::None,
                Tls::Starttls => {
                    LettreTls::Required(tls_parameters(&smtp.host, smtp.ca_file.as_deref())?)
                }
                Tls::Implicit => {
                    LettreTls::Wrapper(tls_parameters(&smtp.host, smtp.ca_file.as_deref())?)
                }
            };
            let mut builder = SmtpTransport::builder_dangerous(smtp.host.clone())
                .port(smtp.port)
                .tls(tls)
                .timeout(Some(SMTP_TIMEOUT))
                .pool_config(pool);
            if let (Some(user), Some(file)) = (&smtp.user, &smtp.password_file) {
                let password = read_secret("the SMTP password file", file)?;
                builder = builder
                    .credentials(Credentials::new(user.clone(), password))
                    .authentication(vec![Mechanism::Plain, Mechanism::Login]);
            }
            return Ok((builder.build(), None));
        }
        let Some(m365) = &self.settings.microsoft365 else {
            return Err(MailError::Settings(
                "[mail] needs [mail.smtp] or [mail.microsoft365]".into(),
            ));
        };
        let secret = read_secret("the client secret file", &m365.client_secret_file)?;
        let token = fetch_token(&m365.token_url(), &m365.client_id, &secret, now)?;
        let transport = SmtpTransport::builder_dangerous(m365.host.clone())
            .port(m365.port)
            .tls(LettreTls::Required(tls_parameters(
                &m365.host,
                m365.ca_file.as_deref(),
            )?))
            .timeout(Some(SMTP_TIMEOUT))
            .pool_config(pool)
            .credentials(Credentials::new(
                self.settings.from.clone(),
                token.value.clone(),
            ))
            .authentication(vec![Mechanism::Xoauth2])
            .build();
        Ok((transport, Some(token)))
    }

    fn message(&self, m: &Outgoing<'_>) -> Result<Message, String> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| format!("{:?} is not a mail address: {e}", m.to))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject)
            .message_id(Some(m.message_id.to_owned()));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let mut message = builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(m.body_text.to_owned()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(m.body_html.to_owned()),
                    ),
            )
            .map_err(|e| format!("the message cannot be built: {e}"))?;
        // Reminders are the server's own: out-of-office replies should stay away.
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
        Ok(message)
    }

    /// Sends `m` and gives the server's answer, for `mail-test`: `Ok` with the answer to
    /// the message, `Err` with why it was not taken.
    ///
    /// # Errors
    /// The server's refusal, or why it could not be reached.
    pub fn send_now(&self, m: &Outgoing<'_>, now: Timestamp) -> Result<String, String> {
        let message = self.message(m)?;
        let (transport, _) = self.transport(now).map_err(|e| e.to_string())?;
        match transport.send(&message) {
            Ok(response) => Ok(format!(
                "{} {}",
                u16::from(response.code()),
                response.message().collect::<Vec<_>>().join(" / ")
            )),
            Err(e) => Err(match attempt_of(&e) {
                Attempt::Temporary(answer) | Attempt::Permanent { answer, .. } => answer,
                Attempt::Sent => e.to_string(),
            }),
        }
    }
}

/// An SMTP client error as an attempt: the reply code decides when there is one; no
/// answer at all (refused, dropped, timed out, TLS failed) is temporary.
fn attempt_of(error: &lettre::transport::smtp::Error) -> Attempt {
    match error.status() {
        Some(code) => {
            let text = error.to_string();
            // lettre's text is "permanent error (550): <the server's lines>".
            let answer = text.split_once("): ").map_or(text.as_str(), |(_, a)| a);
            from_reply(u16::from(code), answer)
        }
        None => Attempt::Temporary(error.to_string()),
    }
}

impl Sender for SmtpSender {
    fn send(&self, m: &Outgoing<'_>, now: Timestamp) -> Attempt {
        let message = match self.message(m) {
            Ok(message) => message,
            Err(reason) => {
                return Attempt::Permanent {
                    answer: reason,
                    address_refused: true,
                };
            }
        };
        let transport = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let stale = match state.as_ref() {
                None => true,
                Some((_, Some(token))) => token.good_until <= now,
                Some((_, None)) => false,
            };
            if stale {
                match self.transport(now) {
                    Ok(fresh) => *state = Some(fresh),
                    Err(e) => return Attempt::Temporary(e.to_string()),
                }
            }
            match state.as_ref() {
                Some((transport, _)) => transport.clone(),
                None => return Attempt::Temporary("no transport".into()),
            }
        };
        match transport.send(&message) {
            Ok(_) => Attempt::Sent,
            Err(e) => {
                let attempt = attempt_of(&e);
                if matches!(attempt, Attempt::Temporary(_)) {
                    // A password or token may have changed: read them again next time.
                    *self.state.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                attempt
            }
        }
    }
}
