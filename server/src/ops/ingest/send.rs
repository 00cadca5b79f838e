//! Sending a returned camera's card from a site to the central server
//! (`consentcam import-card --server URL --token-file FILE`): each file is hashed here,
//! skipped if the server has it, else sent whole and checked there against that hash.
//! The same progress events as a local import, so the kiosk shows the same bar and summary.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use consentcam_media::card::{self, EntryKind};
use consentcam_media::{ContentHash, ImportEvent, Outcome};

use crate::domain::DeviceId;

/// Why sending stopped.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot read the card at {mount}: {detail}")]
    Card { mount: String, detail: String },
    #[error("the server at {url} did not take {card_path}: {detail}")]
    Refused {
        url: String,
        card_path: String,
        detail: String,
    },
}

/// What was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub stored: u64,
    pub duplicates: u64,
    pub refused: u64,
}

/// How long a file is offered again while the server's store is busy.
const BUSY_FOR: Duration = Duration::from_secs(120);

/// Sends every file of the card at `mount` to the server at `url` with the kiosk's
/// `token`, as files off `device`. Stops at the first file the server does not take
/// (nothing after it is acknowledged; sending again resumes, files it has are skipped).
///
/// # Errors
/// The card cannot be read, or the server refused a file or could not be reached.
pub fn send_card(
    mount: &Path,
    url: &str,
    token: &str,
    device: Option<DeviceId>,
    on_event: &mut dyn FnMut(&ImportEvent),
) -> Result<Sent, SendError> {
    let card_error = |detail: String| SendError::Card {
        mount: mount.display().to_string(),
        detail,
    };
    card::check_camera_card(mount).map_err(|e| card_error(e.to_string()))?;
    let entries = card::scan(mount).map_err(|e| card_error(e.to_string()))?;
    let files = entries.len() as u64;
    let bytes_total = card::total_bytes(&entries);
    on_event(&ImportEvent::Scanned {
        files,
        bytes: bytes_total,
    });
    let agent = agent();
    let base = url.trim_end_matches('/');
    let auth = format!("Bearer {token}");
    let mut sent = Sent::default();
    let mut bytes_done = 0u64;
    for (i, entry) in entries.into_iter().enumerate() {
        let refused = |detail: String| SendError::Refused {
            url: base.to_owned(),
            card_path: entry.card_path.to_string(),
            detail,
        };
        let mut kind = None;
        let outcome = match entry.kind {
            EntryKind::Refused(_) => Outcome::Refused,
            EntryKind::File { size, .. } => {
                let mut head = Vec::with_capacity(consentcam_media::format::SNIFF_LEN);
                File::open(&entry.path)
                    .and_then(|f| {
                        f.take(consentcam_media::format::SNIFF_LEN as u64)
                            .read_to_end(&mut head)
                    })
                    .map_err(|e| card_error(format!("{}: {e}", entry.card_path)))?;
                kind = Some(consentcam_media::format::sniff(&head));
                let hash = File::open(&entry.path)
                    .and_then(ContentHash::of_reader)
                    .map_err(|e| card_error(format!("{}: {e}", entry.card_path)))?;
                let address = format!("{base}/api/v1/kiosk/card-files/{hash}");
                let outcome = if server_has(&agent, &address, &auth).map_err(refused)? {
                    Outcome::Duplicate
                } else {
                    put_file(&agent, &address, &auth, &entry, device).map_err(refused)?
                };
                bytes_done += size;
                outcome
            }
        };
        match outcome {
            Outcome::Stored => sent.stored += 1,
            Outcome::Duplicate => sent.duplicates += 1,
            Outcome::Refused => sent.refused += 1,
        }
        on_event(&ImportEvent::FileDone {
            index: i as u64 + 1,
            files,
            bytes_done,
            bytes_total,
            card_path: entry.card_path.clone(),
            outcome,
            kind,
        });
    }
    on_event(&ImportEvent::Finished {
        stored: sent.stored,
        duplicates: sent.duplicates,
        refused: sent.refused,
    });
    Ok(sent)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(3600)))
        .max_idle_age(Duration::from_secs(
            consentcam_wire::IDLE_CONNECTION_SECONDS,
        ))
        .build()
        .into()
}

/// Whether the server has the file at `address` (its hash): stored, checked and
/// committed there.
fn server_has(agent: &ureq::Agent, address: &str, auth: &str) -> Result<bool, String> {
    let started = std::time::Instant::now();
    loop {
        let status = agent
            .get(address)
            .header("Authorization", auth)
            .call()
            .map_err(|e| e.to_string())?
            .status()
            .as_u16();
        match status {
            204 => return Ok(true),
            404 => return Ok(false),
            // The server's store is busy or out of reach for now: asked again, as a file
            // is offered again.
            503 if started.elapsed() < BUSY_FOR => std::thread::sleep(Duration::from_millis(500)),
            other => return Err(format!("the server answered HTTP {other}")),
        }
    }
}

/// Deletes from the card at `mount` each file the server at `url` says it has: read and
/// hashed again here, then asked for by that hash. Any other file (refused, not sent,
/// changed since, or the server cannot be asked) is kept.
///
/// # Errors
/// The card cannot be read.
pub fn wipe_sent(
    mount: &Path,
    url: &str,
    token: &str,
) -> Result<consentcam_media::import::WipeReport, SendError> {
    let (agent, base, auth) = (
        agent(),
        url.trim_end_matches('/'),
        format!("Bearer {token}"),
    );
    consentcam_media::import::wipe_held(mount, &consentcam_media::OsStorage, &mut |hash| {
        let address = format!("{base}/api/v1/kiosk/card-files/{hash}");
        server_has(&agent, &address, &auth).unwrap_or_else(|e| {
            tracing::warn!(%hash, error = %e, "kept on the card: the server could not be asked");
            false
        })
    })
    .map_err(|e| SendError::Card {
        mount: mount.display().to_string(),
        detail: e.to_string(),
    })
}

/// Sends one file, offering it again while the server's store is busy.
fn put_file(
    agent: &ureq::Agent,
    address: &str,
    auth: &str,
    entry: &card::CardEntry,
    device: Option<DeviceId>,
) -> Result<Outcome, String> {
    let started = std::time::Instant::now();
    loop {
        let file = File::open(&entry.path).map_err(|e| format!("cannot read it: {e}"))?;
        let mut call = agent
            .put(address)
            .header("Authorization", auth)
            .header("X-Card-Path", entry.card_path.as_str());
        if let Some(device) = device {
            call = call.header("X-Device", device.0.to_string());
        }
        let mut response = call
            .send(ureq::SendBody::from_owned_reader(file))
            .map_err(|e| e.to_string())?;
        match response.status().as_u16() {
            201 => return Ok(Outcome::Stored),
            200 => return Ok(Outcome::Duplicate),
            503 if started.elapsed() < BUSY_FOR => std::thread::sleep(Duration::from_millis(500)),
            status => {
                let body = response.body_mut().read_to_string().unwrap_or_default();
                return Err(format!("HTTP {status}: {body}"));
            }
        }
    }
}
