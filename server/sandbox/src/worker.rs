//! The worker's side: initialise, lock down, then answer requests from standard input on
//! standard output until the server closes it. Nothing untrusted is read before the
//! lockdown succeeded; a worker that cannot be locked down says why and exits.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::frame::{self, FrameError};
use crate::lockdown::{self, Applied, Confinement};

/// The server's process id, for the worker to check it is still its parent.
pub const PARENT_ENV: &str = "CONSENTCAM_SANDBOX_PARENT";
/// The [`Confinement`] as JSON.
pub const CONFINEMENT_ENV: &str = "CONSENTCAM_SANDBOX_CONFINEMENT";

/// The worker's first frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hello {
    /// Locked down; requests may come.
    Ready(Applied),
    /// Could not be locked down (why); it exits.
    Unavailable(String),
}

fn say(hello: &Hello) {
    let mut out = std::io::stdout().lock();
    let _ = frame::write(&mut out, hello, &[]);
    let _ = out.flush();
}

/// Runs this process as a worker: `prepare` initialises the libraries (before the lockdown:
/// whatever they open or start, they do it now), then each request (its payload at most
/// `max_request` bytes) goes to `handle`, whose answer goes back.
pub fn serve<Req, Resp>(
    max_request: u64,
    prepare: impl FnOnce(),
    mut handle: impl FnMut(Req, Vec<u8>) -> (Resp, Vec<u8>),
) -> ExitCode
where
    Req: DeserializeOwned,
    Resp: Serialize,
{
    if let Err(e) = lockdown::close_inherited_descriptors() {
        say(&Hello::Unavailable(e.to_string()));
        return ExitCode::from(3);
    }
    let settings = std::env::var(PARENT_ENV)
        .ok()
        .zip(std::env::var(CONFINEMENT_ENV).ok());
    let Some((parent, confinement)) = settings else {
        say(&Hello::Unavailable(format!(
            "started without {PARENT_ENV} and {CONFINEMENT_ENV}: a worker is started by the server"
        )));
        return ExitCode::from(2);
    };
    let parsed = parent
        .parse::<u32>()
        .ok()
        .zip(serde_json::from_str::<Confinement>(&confinement).ok());
    let Some((parent, confinement)) = parsed else {
        say(&Hello::Unavailable("unreadable worker settings".into()));
        return ExitCode::from(2);
    };
    prepare();
    let applied = match lockdown::lock_down(&confinement, parent) {
        Ok(applied) => applied,
        Err(e) => {
            say(&Hello::Unavailable(e.to_string()));
            return ExitCode::from(3);
        }
    };
    say(&Hello::Ready(applied));
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    loop {
        match frame::read::<Req>(&mut input, max_request) {
            Ok((request, payload)) => {
                let (answer, bytes) = handle(request, payload);
                if frame::write(&mut output, &answer, &bytes).is_err() {
                    return ExitCode::from(4);
                }
            }
            Err(FrameError::Closed) => return ExitCode::SUCCESS,
            Err(_) => return ExitCode::from(4),
        }
    }
}
